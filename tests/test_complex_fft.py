"""Complex numbers and Fourier transforms, differentiated with JAX's conventions.

Every derivative is compared with JAX's own (jax.jvp, jax.vjp, jax.grad) in float64 to
1e-10: real, imag, complex, conj, abs of complex values, the holomorphic elementwise ops
on complex values, stablehlo.fft of each type in one and two dimensions, and a few
programs (a power-spectrum loss, a complex linear layer with a real loss, a holomorphic
polynomial). Also: the clamp partials in every case (JAX's convention), and the rewrite
rules that assumed a float element type where a complex value (or a dynamic shape) can
occur.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import zymase
from zymase.api import run_ad_pipeline
from zymase.backend import build_function
from zymase.frontend import lower
from zymase.ir import parse_module
from zymase.ir.enzyme import ACTIVE, ACTIVENONEED, DUP, AutoDiffOp, ForwardDiffOp, add_diff_func
from zymase.loader import parse_located
from zymase.opt.inline import inline_calls
from zymase.opt.pattern import STATS, load_rules, optimize

TOL = 1e-10


pytestmark = pytest.mark.usefixtures("x64")


# ============================================================================ checks


def _close(got: Any, want: Any, what: str) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, want {want.dtype}"
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    err = float(np.max(np.abs(got - want), initial=0.0))
    assert err <= TOL * scale, f"{what}: max error {err:.3g} (scale {scale:.3g})\ngot  {got}\nwant {want}"


def _like(rng: np.random.Generator, x: Any) -> np.ndarray:
    """A random array of x's shape and dtype (complex: both parts random)."""
    x = np.asarray(x)
    v = rng.standard_normal(x.shape)
    if np.iscomplexobj(x):
        v = v + 1j * rng.standard_normal(x.shape)
    return v.astype(x.dtype)


def _jax_jvp(f: Callable, args: tuple, tangents: tuple) -> tuple:
    """jax.jvp of f, compiled once (jax.jit) rather than dispatched op by op."""
    return jax.jit(lambda a, t: jax.jvp(f, a, t))(args, tangents)


def _jax_vjp(f: Callable, args: list, ct: Any) -> tuple:
    """f's value and jax.vjp's cotangents for ct, compiled once (jax.jit)."""

    def run(args: list, ct: Any) -> tuple:
        out, pull = jax.vjp(f, *args)
        return out, pull(ct)

    return jax.jit(run)(args, ct)


def check_jvp(f: Callable, args: list, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    tangents = tuple(_like(rng, a) for a in args)
    out, t_out = zymase.jvp(f, tuple(args), tangents)
    want_out, want_t = _jax_jvp(f, tuple(args), tangents)
    _close(out, want_out, "primal")
    _close(t_out, want_t, "forward mode")


def check_vjp(f: Callable, args: list, seed: int = 0) -> None:
    rng = np.random.default_rng(seed + 1)
    out, pull = zymase.vjp(f, *args)
    shape = jax.eval_shape(f, *args)  # the cotangent has the shape and dtype of f's value
    ct = _like(rng, np.zeros(shape.shape, shape.dtype))
    want_out, want_cts = _jax_vjp(f, list(args), ct)
    _close(out, want_out, "primal")
    for i, (g, w) in enumerate(zip(pull(ct), want_cts)):
        _close(g, w, f"reverse mode, argument {i}")


def check(f: Callable, args: list, seed: int = 0) -> None:
    check_jvp(f, args, seed)
    check_vjp(f, args, seed)


def cplx(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def real(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.standard_normal(shape)


# ============================================================================ the ops


def _abs_with_zero(rng: np.random.Generator) -> np.ndarray:
    z = cplx(2, 3)(rng)
    z[0, 1] = 0.0  # JAX's convention: derivative 0 at 0
    return z


OPS: list[tuple[str, Callable, list]] = [
    ("real", jnp.real, [cplx(2, 3)]),
    ("imag", jnp.imag, [cplx(2, 3)]),
    ("complex", lax.complex, [real(2, 3), real(2, 3)]),
    ("conj", jnp.conj, [cplx(2, 3)]),
    ("conj_times_self", lambda z: jnp.conj(z) * z, [cplx(4)]),
    ("abs_complex", jnp.abs, [_abs_with_zero]),
    ("abs_complex_rank0", jnp.abs, [cplx()]),
    ("abs_real_at_zero", jnp.abs, [lambda rng: np.array([-1.5, -0.0, 0.0, 2.0])]),
    ("angle", jnp.angle, [cplx(5)]),
    ("real_to_complex_convert", lambda x, z: x.astype(jnp.complex128) * z, [real(4), cplx(4)]),
    # holomorphic elementwise ops on complex values: ct = f'(z) * ct, no conjugation
    ("multiply", lambda z, w: z * w, [cplx(4), cplx(4)]),
    ("divide", lambda z, w: z / w, [cplx(4), cplx(4)]),
    ("exp", jnp.exp, [cplx(4)]),
    ("expm1", jnp.expm1, [cplx(4)]),
    ("log", jnp.log, [cplx(4)]),
    ("log1p", jnp.log1p, [cplx(4)]),
    ("sqrt", jnp.sqrt, [cplx(4)]),
    ("rsqrt", lax.rsqrt, [cplx(4)]),
    ("square", jnp.square, [cplx(4)]),
    ("power_constant", lambda z: z**2.5, [cplx(4)]),
    ("power", lambda z, w: z**w, [cplx(4), cplx(4)]),
    ("sin", jnp.sin, [cplx(4)]),
    ("cos", jnp.cos, [cplx(4)]),
    ("tan", jnp.tan, [cplx(4)]),
    ("tanh", jnp.tanh, [cplx(4)]),
    ("sinh", jnp.sinh, [cplx(4)]),
    ("arcsinh", jnp.arcsinh, [cplx(4)]),
    ("arctan", jnp.arctan, [cplx(4)]),
    ("logistic", lax.logistic, [cplx(4)]),
    ("sum_and_dot", lambda z, w: jnp.sum(z, axis=0) @ w, [cplx(3, 4), cplx(4, 2)]),
    # stablehlo.fft, each type, one and two dimensions (fft_length of 2 dims), odd and even
    ("fft", jnp.fft.fft, [cplx(6)]),
    ("fft_batched", lambda z: jnp.fft.fft(z, axis=-1), [cplx(2, 5)]),
    ("fft2", jnp.fft.fft2, [cplx(3, 4)]),
    ("ifft", jnp.fft.ifft, [cplx(6)]),
    ("ifft2", jnp.fft.ifft2, [cplx(2, 3, 4)]),
    ("rfft_even", jnp.fft.rfft, [real(8)]),
    ("rfft_odd", jnp.fft.rfft, [real(7)]),
    ("rfft2_even", jnp.fft.rfft2, [real(3, 6)]),
    ("rfft2_odd", jnp.fft.rfft2, [real(2, 4, 5)]),
    ("irfft_even", lambda y: jnp.fft.irfft(y, n=8), [cplx(5)]),
    ("irfft_odd", lambda y: jnp.fft.irfft(y, n=7), [cplx(4)]),
    ("irfft2_even", lambda y: jnp.fft.irfft2(y, s=(3, 6)), [cplx(3, 4)]),
    ("irfft2_odd", lambda y: jnp.fft.irfft2(y, s=(4, 7)), [cplx(2, 4, 4)]),
]


@pytest.mark.parametrize("name, f, makers", OPS, ids=[row[0] for row in OPS])
def test_op(name: str, f: Callable, makers: list) -> None:
    rng = np.random.default_rng(len(name))
    check(f, [m(rng) for m in makers])


def test_irfft_transpose_weights_the_shared_bins() -> None:
    """The bins of IRFFT's input that stand for two (not DC, not Nyquist) get twice the
    cotangent: with ct = 1 at output 0 only, ct_y = conj(RFFT(e_0)) * m / n = m / n."""
    n = 8
    y = np.zeros(n // 2 + 1, complex)
    ct = np.zeros(n)
    ct[0] = 1.0
    _, pull = zymase.vjp(lambda v: jnp.fft.irfft(v, n=n), y)
    np.testing.assert_allclose(np.asarray(pull(ct)[0]), np.array([1, 2, 2, 2, 1]) / n, atol=1e-15)


# ============================================================================ chlo.conj (hand-written: JAX expands jnp.conj)

_CONJ = """
func.func @f(%z: tensor<3xcomplex<f64>>) -> tensor<3xcomplex<f64>> {
  %c = "chlo.conj"(%z) : (tensor<3xcomplex<f64>>) -> tensor<3xcomplex<f64>>
  %e = "stablehlo.exponential"(%z) : (tensor<3xcomplex<f64>>) -> tensor<3xcomplex<f64>>
  %r = "stablehlo.multiply"(%c, %e) : (tensor<3xcomplex<f64>>, tensor<3xcomplex<f64>>) -> tensor<3xcomplex<f64>>
  func.return %r : tensor<3xcomplex<f64>>
}
"""


def _entry(text: str, cls: type, arg_kinds: list, ret_kinds: list) -> Callable:
    module = parse_located(text, "<complex>")
    add_diff_func(module, "entry", cls, "f", arg_kinds, ret_kinds)
    assert any(op.name == "chlo.conj" for op in module.walk())
    run_ad_pipeline(module)
    return build_function(module, "entry")


def test_chlo_conj() -> None:
    rng = np.random.default_rng(3)
    z, t, ct = cplx(3)(rng), cplx(3)(rng), cplx(3)(rng)
    f = lambda v: jnp.conj(v) * jnp.exp(v)  # noqa: E731
    _, t_out = _entry(_CONJ, ForwardDiffOp, [DUP], [DUP])(z, t)
    _close(t_out, jax.jvp(f, (z,), (t,))[1], "forward mode")
    (ct_z,) = _entry(_CONJ, AutoDiffOp, [ACTIVE], [ACTIVENONEED])(z, ct)
    _close(ct_z, jax.vjp(f, z)[1](ct)[0], "reverse mode")


# ============================================================================ programs


def power_spectrum(x):
    return jnp.sum(jnp.abs(jnp.fft.rfft(x)) ** 2)


def complex_layer(w, b, x):
    h = w @ x + b
    return jnp.mean(jnp.abs(jnp.tanh(h)) ** 2) + jnp.sum(jnp.real(h) * jnp.imag(h))


def spectral_filter(x, h):
    y = jnp.fft.irfft(jnp.fft.rfft(x) * h, n=x.shape[-1])
    return jnp.sum((y - jnp.sin(x)) ** 2)


def poly(z):
    return z**3 + 2j * z**2 - z + (1 - 0.5j)


def test_power_spectrum_loss() -> None:
    x = np.random.default_rng(0).standard_normal(9)
    _close(zymase.jit(power_spectrum)(x), jax.jit(power_spectrum)(x), "value")
    _close(zymase.grad(power_spectrum)(x), jax.jit(jax.grad(power_spectrum))(x), "gradient")
    # Parseval: sum |rfft(x)|^2 weighs the bins that stand for two once; the gradient is not 2 n x
    assert not np.allclose(np.asarray(zymase.grad(power_spectrum)(x)), 2 * 9 * x)


def test_power_spectrum_second_order() -> None:
    """Forward over reverse: the reverse sweep's fft, complex, real, abs rules are
    differentiated again in forward mode."""
    rng = np.random.default_rng(1)
    x, v = rng.standard_normal(8), rng.standard_normal(8)
    f = lambda x: jnp.sum(jnp.abs(jnp.fft.rfft(jnp.sin(x))) ** 3)  # noqa: E731
    _, got = zymase.jvp(zymase.grad(f), (x,), (v,))
    _, want = jax.jit(lambda x, v: jax.jvp(jax.grad(f), (x,), (v,)))(x, v)
    _close(got, want, "hessian-vector product")


@pytest.mark.parametrize(
    "f",
    [
        lambda z: jnp.sum(jnp.abs(z) ** 2),
        lambda z: jnp.sum(jnp.real(z * jnp.conj(z))),
        lambda z: jnp.sum(jnp.abs(jnp.fft.fft(z)) ** 2),
        lambda z: jnp.sum(jnp.imag(jnp.exp(z)) * jnp.real(z)),
    ],
    ids=["abs_squared", "real_z_conj_z", "fft_energy", "imag_exp"],
)
def test_real_loss_of_complex_input(f: Callable) -> None:
    """jax.grad of a real function of a complex z is dL/dRe z - i dL/dIm z."""
    z = cplx(2, 3)(np.random.default_rng(2))
    _close(zymase.grad(f)(z), jax.jit(jax.grad(f))(z), "gradient")


def test_abs_squared_gradient_is_twice_the_conjugate() -> None:
    z = cplx(4)(np.random.default_rng(5))
    _close(zymase.grad(lambda z: jnp.sum(jnp.abs(z) ** 2))(z), 2 * np.conj(z), "gradient")


def test_complex_linear_layer() -> None:
    rng = np.random.default_rng(4)
    w, b, x = cplx(3, 4)(rng) / 2, cplx(3)(rng), real(4)(rng)
    got = zymase.grad(complex_layer, argnums=(0, 1, 2))(w, b, x)
    want = jax.jit(jax.grad(complex_layer, argnums=(0, 1, 2)))(w, b, x)
    for i, (g, v) in enumerate(zip(got, want)):
        _close(g, v, f"gradient {i}")
    check_jvp(complex_layer, [w, b, x])


def test_spectral_filter() -> None:
    rng = np.random.default_rng(6)
    x, h = real(10)(rng), cplx(6)(rng)
    got = zymase.grad(spectral_filter, argnums=(0, 1))(x, h)
    want = jax.jit(jax.grad(spectral_filter, argnums=(0, 1)))(x, h)
    for i, (g, v) in enumerate(zip(got, want)):
        _close(g, v, f"gradient {i}")
    check_jvp(spectral_filter, [x, h])


def test_holomorphic_polynomial() -> None:
    """vjp of a holomorphic f with ct = 1 is f'(z) (jax.grad(holomorphic=True)), not its conjugate."""
    z = cplx(5)(np.random.default_rng(7))
    _, pull = zymase.vjp(poly, z)
    (got,) = pull(np.ones(5, complex))
    _close(got, jax.jit(jax.vmap(jax.grad(poly, holomorphic=True)))(z), "f'(z)")
    _close(got, 3 * z**2 + 4j * z - 1, "f'(z) by hand")
    summed = lambda z: jnp.sum(poly(z))  # noqa: E731
    _, pull = zymase.vjp(summed, z)
    _close(pull(np.complex128(1.0))[0], jax.jit(jax.grad(summed, holomorphic=True))(z), "grad(holomorphic=True)")
    check(poly, [z])


def test_batched_forward_mode() -> None:
    """Width-3 forward mode (tangents with a leading direction dimension) through fft,
    abs, real, imag and complex."""
    rng = np.random.default_rng(8)
    x, ts = real(6)(rng), real(3, 6)(rng)

    def f(x):
        s = jnp.fft.rfft(x)
        return jnp.abs(s) + jnp.real(s) * jnp.imag(lax.complex(x[:4], x[2:]) ** 2).sum()

    (got,) = zymase.fwddiff(f, ["enzyme_dup"], ["enzyme_dupnoneed"], width=3)(x, ts)
    want = jax.jit(jax.vmap(lambda t: jax.jvp(f, (x,), (t,))[1]))(ts)
    _close(got, want, "width-3 forward mode")


# ============================================================================ clamp

CLAMP_CASES = [  # (lo, x, hi)
    (0.0, -1.0, 2.0),  # x below: the result is lo
    (0.0, 1.0, 2.0),  # inside
    (0.0, 3.0, 2.0),  # x above: the result is hi
    (2.0, -1.0, 0.0),  # lo > hi, x < hi: the result is hi, d/dhi = 1 (JAX's rule says 0)
    (2.0, 1.0, 0.0),  # lo > hi, hi < x < lo: the result is hi, d/dhi = 1
    (2.0, 3.0, 0.0),  # lo > hi, x above both: d/dhi = 1
    (0.0, 0.0, 2.0),  # ties: no derivative
    (0.0, 2.0, 2.0),
    (1.0, 1.0, 1.0),
]


def _clamp_loss(lo, x, hi):
    return jnp.sum(lax.clamp(lo, x, hi) * jnp.arange(1.0, 1.0 + x.shape[0]))


_clamp_grad = jax.jit(jax.grad(_clamp_loss, argnums=(0, 1, 2)))  # compiled once per shape


def _clamp_reference(lo, x, hi):
    """jax's clamp partials, except where lo > hi and x <= hi: the result is hi there, so
    d/dhi = 1 (jax's rule gives 0); elsewhere the two agree."""
    grads = [np.array(g) for g in _clamp_grad(lo, x, hi)]
    weights = np.arange(1.0, 1.0 + x.shape[0])
    fixed = (lo > hi) & (x <= hi)
    grads[2] = np.where(fixed, weights, grads[2])
    return grads


def test_clamp_partials_every_case() -> None:
    lo, x, hi = (np.array(c) for c in zip(*CLAMP_CASES))
    got = zymase.grad(_clamp_loss, argnums=(0, 1, 2))(lo, x, hi)
    want = _clamp_reference(lo, x, hi)
    for i, (g, w) in enumerate(zip(got, want)):
        _close(g, w, f"gradient {i}")
    weights = np.arange(1.0, 10.0)
    _close(got[2], weights * np.array([0, 0, 1, 1, 1, 1, 0, 0, 0]), "d/dhi by hand")
    # away from ties, central differences in hi agree (the result where lo > hi is hi: slope 1)
    h = 1e-6
    fd = (np.asarray(lax.clamp(lo, x, hi + h)) - np.asarray(lax.clamp(lo, x, hi - h))) / (2 * h)
    np.testing.assert_allclose(np.asarray(got[2])[:6], (weights * fd)[:6], atol=1e-6)
    for i in range(3):
        t = [np.zeros(len(CLAMP_CASES)) for _ in range(3)]
        t[i] = np.random.default_rng(i).standard_normal(len(CLAMP_CASES))
        _close(zymase.jvp(_clamp_loss, (lo, x, hi), tuple(t))[1], float(np.dot(want[i], t[i])), f"jvp {i}")


@pytest.mark.parametrize("lo, hi", [(-0.5, 0.5), (0.5, -0.5)])
def test_clamp_scalar_bounds(lo: float, hi: float) -> None:
    """Rank-0 bounds: their cotangents are summed over x's elements (JAX's own rule
    cannot take rank-0 bounds here, so the reference broadcasts them first)."""
    x = np.array([-1.0, -0.2, 0.1, 0.7, 2.0])
    args = (np.float64(lo), x, np.float64(hi))

    def broadcast(lo, x, hi):
        return _clamp_loss(jnp.broadcast_to(lo, x.shape), x, jnp.broadcast_to(hi, x.shape))

    got = zymase.grad(_clamp_loss, argnums=(0, 1, 2))(*args)
    lo_b, hi_b = np.broadcast_to(lo, x.shape), np.broadcast_to(hi, x.shape)
    per_element = _clamp_reference(lo_b, x, hi_b)
    want = [np.sum(per_element[0]), per_element[1], np.sum(per_element[2])]
    for i, (g, w) in enumerate(zip(got, want)):
        _close(g, w, f"gradient {i}")
    for i in range(3):
        t = [np.zeros_like(np.asarray(a)) for a in args]
        t[i] = np.ones_like(np.asarray(args[i]))
        _close(zymase.jvp(_clamp_loss, args, tuple(t))[1], float(np.sum(want[i])), f"jvp {i}")


# ============================================================================ rewrite rules on complex values and dynamic shapes


def _z(*shape: int) -> np.ndarray:
    return cplx(*shape)(np.random.default_rng(9))


REWRITES: list[tuple[str, Callable, list, bool]] = [
    # (rule, program on complex values, arguments, the rule must still fire)
    ("multiply_abs_self", lambda z: jnp.abs(z) * jnp.abs(z), [_z(4)], False),
    ("multiply_abs", lambda z, w: jnp.abs(z) * jnp.abs(w), [_z(4), _z(4)], False),
    ("multiply_abs", lambda x, w: jnp.abs(x) * jnp.abs(w), [np.arange(1.0, 5.0), _z(4)], False),
    ("divide_abs", lambda z, w: jnp.abs(z) / jnp.abs(w), [_z(4), _z(4)], False),
    ("abs_multiply_self", lambda z: jnp.abs(z * z), [_z(4)], False),
    ("sqrt_square", lambda z: jnp.sqrt(z * z), [_z(4)], False),
    ("log_exp", lambda z: jnp.log(jnp.exp(4.0 * z)), [_z(4)], False),
    ("sign_abs", lambda z: jnp.sign(jnp.abs(z)), [_z(4)], False),
    ("sign_sign", lambda z: jnp.sign(jnp.sign(z)), [_z(4) * 1e200], False),
    ("abs_negate", lambda z: jnp.abs(-z), [_z(4)], True),
]


@pytest.mark.parametrize("name, f, args, fires", REWRITES, ids=[f"{r[0]}_{i}" for i, r in enumerate(REWRITES)])
def test_rewrite_rule_on_complex_values(name: str, f: Callable, args: list, fires: bool) -> None:
    """The rule keeps every type and every value (or does not apply)."""
    load_rules()
    module = lower(f, *args).module
    inline_calls(module)
    STATS[name] = 0
    optimize(module, assume_finite=True, only=[name])
    module.verify()
    assert (STATS[name] > 0) == fires
    got = jax.jit(build_function(module, "main"))(*args)
    want = jax.jit(f)(*args)
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_power_spectrum_under_jit_runs_every_rule() -> None:
    """The default pipeline on |rfft(x)|^2 (it raised "rule multiply_abs_self changed a type")."""
    x = jnp.arange(1.0, 9.0)
    f = lambda x: jnp.sum(jnp.abs(jnp.fft.rfft(x)) ** 2)  # noqa: E731
    _close(zymase.jit(f)(x), jax.jit(f)(x), "value")
    g = lambda x: jnp.sum(jnp.abs(jnp.fft.rfft(x)) * jnp.abs(jnp.fft.fft(x))[:5])  # noqa: E731
    _close(zymase.jit(g)(x), jax.jit(g)(x), "value")


_DYNAMIC = """
func.func @main(%x: tensor<?x?xf64>) -> (tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>) {
  %a = "stablehlo.add"(%x, %x) : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  %s = "stablehlo.subtract"(%x, %x) : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  %q = "stablehlo.rsqrt"(%x) : (tensor<?x?xf64>) -> tensor<?x?xf64>
  %m = "stablehlo.multiply"(%q, %q) : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  func.return %a, %s, %m : tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
}
"""


def test_rules_building_constants_skip_dynamic_shapes() -> None:
    """add_self, subtract_self and multiply_rsqrt_self would build a constant of a
    ``tensor<?x?>`` type (numpy raised inside the pass); they do not apply."""
    module = parse_module(_DYNAMIC)
    optimize(module, assume_finite=True)
    module.verify()
    names = [op.name for op in module.walk()]
    assert "stablehlo.add" in names and "stablehlo.subtract" in names and "stablehlo.rsqrt" in names
