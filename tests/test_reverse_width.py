"""Batched reverse mode: ``enzyme.autodiff`` with ``width = N`` (each seed, gradient and
adjoint carries N cotangents in a leading dimension), and ``zymase.jacrev`` of a
non-scalar function as one module with one such op whose seeds are the identity built
from iotas. Checked against jax.jacrev in float64; ``PER_DIRECTION_LOG`` says which ops
had no width-N rule and were reversed once per cotangent."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import zymase
from zymase.ad import engine

pytestmark = pytest.mark.usefixtures("x64")

RS = np.random.RandomState(3)


def close(a, b):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(la) == len(lb)
    for u, v in zip(la, lb):
        assert np.shape(u) == np.shape(v)
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=1e-10, atol=1e-10)


def autodiff_widths(text: str) -> list[int]:
    """The width of each enzyme.autodiff in a module printed in the generic form (1 when none)."""
    out = []
    for line in text.splitlines():
        if '"enzyme.autodiff"' in line:
            m = re.search(r"width = (\d+) : i64", line)
            out.append(int(m.group(1)) if m else 1)
    return out


def check(f, *args, argnums=0, native=True, width=None):
    """zymase.jacrev(f) == jax.jacrev(f); one enzyme.autodiff of width N in the imported
    module; ``native``: no op fell back to the per-cotangent loop."""
    engine.PER_DIRECTION_LOG.clear()
    got = zymase.jacrev(f, argnums=argnums)(*args)
    close(got, jax.jacrev(f, argnums=argnums)(*args))
    if native:
        assert engine.PER_DIRECTION_LOG == []
    if width is not None:
        text = zymase.jacrev(f, argnums=argnums).lower(*args).as_text(stage="imported")
        assert autodiff_widths(text) == [width]
    return got


# ============================================================================ op families


def test_elementwise_and_module_shape():
    def f(x):
        return jnp.tanh(x) * jnp.sin(x[::-1]) + jnp.exp(-x) / (1.0 + x**2) + jnp.sum(x**2)

    x = jnp.asarray(RS.rand(5))
    check(f, x, width=5)
    program = zymase.jacrev(f).lower(x)
    assert "enzyme.autodiff" not in program.as_text(stage="final")
    after = program.as_text(stage="after-ad")
    assert "stablehlo.while" not in after  # no loop over the cotangents


def test_dot_general_broadcast_reduce():
    W = jnp.asarray(RS.randn(3, 4))
    b = jnp.asarray(RS.randn(3))

    def f(x, W):
        h = jnp.tanh(W @ x + b)
        return jnp.concatenate([h * jnp.max(x), jnp.sum(jnp.outer(h, x), axis=0), jnp.prod(x)[None]])

    x = jnp.asarray(RS.rand(4)) + 0.5
    check(f, x, W, argnums=(0, 1), width=3 + 4 + 1)


def test_batched_matmul_and_pytrees():
    def f(p, x):
        y = jnp.einsum("bij,bj->bi", p["a"], x) + p["c"][:, None]
        return {"y": y, "n": jnp.sum(y**2, axis=1)}

    p = {"a": jnp.asarray(RS.randn(2, 3, 2)), "c": jnp.asarray(RS.randn(2))}
    x = jnp.asarray(RS.randn(2, 2))
    check(f, p, x, argnums=(1, 0))


def test_structural_ops():
    def f(x):
        y = jnp.pad(x, (1, 2)) * 2.0
        z = lax.dynamic_slice(y, (2,), (3,))
        w = jnp.transpose(jnp.reshape(x, (2, 3)))
        u = lax.dynamic_update_slice(x, z**2, (1,))
        return jnp.concatenate([y[::2], z, w.ravel(), jnp.where(x > 0.5, x, -x), u, jnp.broadcast_to(x[:2], (2, 2)).ravel()])

    x = jnp.asarray(RS.rand(6))
    check(f, x)


def test_gather_indexing():
    idx = jnp.asarray([2, 0, 2, 1])

    def f(x):
        return x[idx] * x[1:3].sum() + jnp.take(x, jnp.asarray([1, 1]), axis=0).sum()

    check(f, jnp.asarray(RS.rand(3)))


def test_fori_loop_and_scan():
    A = jnp.asarray(RS.randn(3, 3)) / 3

    def f(x):
        def body(i, c):
            return jnp.tanh(A @ c) + 0.1 * i * c

        y = lax.fori_loop(0, 4, body, x)

        def step(c, xi):
            c = c * jnp.cos(xi) + xi
            return c, c**2

        last, ys = lax.scan(step, 1.0, x)
        return jnp.concatenate([y, ys, last[None]])

    check(f, jnp.asarray(RS.rand(3)))


def test_cond_and_switch():
    def f(x):
        a = lax.cond(jnp.sum(x) > 1.0, lambda v: jnp.sin(v) * v, lambda v: v**3, x)
        b = lax.switch(1, [lambda v: v, lambda v: jnp.exp(v), lambda v: -v], x)
        return a + b[::-1]

    check(f, jnp.asarray(RS.rand(3)))
    check(f, jnp.asarray(RS.rand(3)) / 10)


def test_stop_gradient():
    def f(x):
        return x * lax.stop_gradient(jnp.sin(x)) + jnp.cos(x) * lax.stop_gradient(x).sum()

    check(f, jnp.asarray(RS.rand(4)))


def test_custom_jvp():
    @jax.custom_jvp
    def softplus(x):
        return jnp.log1p(jnp.exp(x))

    @softplus.defjvp
    def softplus_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t * jax.nn.sigmoid(x)

    def f(x):
        return softplus(x * x[::-1]) + x

    check(f, jnp.asarray(RS.randn(4)))


def test_custom_vjp_runs_per_cotangent():
    @jax.custom_vjp
    def clip_grad(x):
        return jnp.sin(x)

    def fwd(x):
        return jnp.sin(x), jnp.cos(x)

    def bwd(c, g):
        return (jnp.clip(g * c, -0.5, 0.5),)

    clip_grad.defvjp(fwd, bwd)

    def f(x):
        return clip_grad(x * 2.0) * x

    engine.PER_DIRECTION_LOG.clear()
    x = jnp.asarray(RS.randn(3))
    close(zymase.jacrev(f)(x), jax.jacrev(f)(x))
    assert engine.PER_DIRECTION_LOG == ["func.call"]  # bwd takes one cotangent: a loop over the three


def test_sort_windows_scatter():
    M = jnp.asarray(RS.rand(3, 4))

    def f(x):
        pooled = lax.reduce_window(x.reshape(2, 2), -jnp.inf, lax.max, (2, 2), (1, 1), "SAME").ravel()
        added = jnp.zeros(5).at[jnp.asarray([0, 2, 2])].add(x[:3]) * x[0]
        replaced = (x * 2).at[jnp.asarray([0, 2, 2])].set(x[1:] ** 2)
        rows = (M * x).at[1, jnp.asarray([0, 3])].add(x[:2] ** 2)[jnp.asarray([2, 1])].ravel()
        return jnp.concatenate([jnp.sort(x) * jnp.cumsum(x), pooled, added, replaced, rows, jnp.abs(x - 0.5)])

    check(f, jnp.asarray(RS.rand(4)))


def test_complex_and_fft():
    def f(x):
        spectrum = jnp.fft.rfft(x * jnp.sin(x))
        return jnp.concatenate([jnp.abs(spectrum), jnp.fft.irfft(spectrum * jnp.arange(4.0), n=6), jnp.imag(jnp.conj((x + 2j) ** 2))])

    check(f, jnp.asarray(RS.rand(6)))


def test_linear_algebra():
    """matrix factorizations: their forward rule reversed at width N; triangular solves
    with the cotangents as one more batch dimension"""
    A = jnp.asarray(RS.rand(3, 3))

    def f(x):
        s = A @ A.T + jnp.outer(x, x) + 3 * jnp.eye(3)
        stacked = jnp.stack([s, s * x[0] + jnp.eye(3)])
        return jnp.concatenate([jnp.linalg.cholesky(stacked).ravel(), jnp.linalg.eigh(s)[0], jnp.linalg.qr(s)[1].ravel(), jnp.linalg.svd(s + A, compute_uv=False)])

    check(f, jnp.asarray(RS.rand(3)))


def test_rules_without_width_run_per_cotangent():
    """cumprod (a product window) and a convolution have no width-N reverse rule: their
    width-1 rules run in a loop over the cotangents, exactly."""

    def f(x):
        return jnp.cumprod(x) + jnp.convolve(x, jnp.asarray([1.0, 2.0, 3.0]), mode="same")

    check(f, jnp.asarray(RS.rand(4)), native=False)
    assert sorted(set(engine.PER_DIRECTION_LOG)) == ["stablehlo.convolution", "stablehlo.reduce_window"]


@pytest.mark.parametrize("schedule", ["binomial", "periodic:2"])
def test_checkpointed_loop(schedule):
    A = jnp.asarray(RS.randn(3, 3)) / 3

    def f(x):
        return lax.fori_loop(0, 5, lambda i, c: jnp.tanh(A @ c) * x, x)

    x = jnp.asarray(RS.rand(3))
    engine.PER_DIRECTION_LOG.clear()
    close(zymase.jacrev(f, loop_checkpoint=schedule)(x), jax.jacrev(f)(x))
    assert engine.PER_DIRECTION_LOG == []


def test_has_aux():
    def f(x):
        y = jnp.sin(x) * 2.0
        return y, {"norm": jnp.sum(y)}

    x = jnp.asarray(RS.rand(3))
    got, aux = zymase.jacrev(f, has_aux=True)(x)
    want, aux_want = jax.jacrev(f, has_aux=True)(x)
    close(got, want)
    close(aux, aux_want)


# ============================================================================ composition


def test_vmap_and_jit_over_jacrev():
    def f(x, W):
        return jnp.tanh(W @ x) * x[:3]

    W = jnp.asarray(RS.randn(3, 4))
    xs = jnp.asarray(RS.rand(5, 4))
    close(jax.vmap(zymase.jacrev(f), in_axes=(0, None))(xs, W), jax.vmap(jax.jacrev(f), in_axes=(0, None))(xs, W))
    close(jax.jit(zymase.jacrev(f))(xs[0], W), jax.jacrev(f)(xs[0], W))
    close(jax.jit(jax.vmap(zymase.jacrev(f), in_axes=(0, None)))(xs, W), jax.vmap(jax.jacrev(f), in_axes=(0, None))(xs, W))


def test_hessian_of_vector_function():
    """jacfwd over the width-3 reverse sweep: one module, fwddiff over autodiff."""

    def f(x):
        return jnp.sin(x) * jnp.sum(x**2)

    x = jnp.asarray(RS.rand(3))
    close(zymase.hessian(f)(x), jax.hessian(f)(x))
    text = zymase.hessian(f).lower(x).as_text(stage="imported")
    assert autodiff_widths(text) == [3] and "enzyme.fwddiff" in text


def _scalar(x):
    return jnp.sum(jnp.sin(x) * x[::-1]) + jnp.prod(x)


def test_reverse_over_forward_is_one_module():
    x = jnp.asarray(RS.rand(4))
    close(zymase.jacrev(zymase.jacfwd(_scalar))(x), jax.hessian(_scalar)(x))
    text = zymase.jacrev(zymase.jacfwd(_scalar)).lower(x).as_text(stage="imported")
    assert autodiff_widths(text) == [4]
    assert "enzyme.fwddiff" in text


def test_reverse_over_reverse_is_one_module():
    x = jnp.asarray(RS.rand(4))
    close(zymase.jacrev(zymase.jacrev(_scalar))(x), jax.hessian(_scalar)(x))
    text = zymase.jacrev(zymase.jacrev(_scalar)).lower(x).as_text(stage="imported")
    assert sorted(autodiff_widths(text)) == [1, 4]


# ============================================================================ the op itself


BATCHED_SQUARE = """
func.func @square(%x: f64) -> f64 {
  %next = arith.mulf %x, %x : f64
  return %next : f64
}
func.func @dsquare(%x: f64, %dr: tensor<2xf64>) -> tensor<2xf64> {
  %r = enzyme.autodiff @square(%x, %dr) { activity=[#enzyme<activity enzyme_active>], ret_activity=[#enzyme<activity enzyme_activenoneed>], width=2 } : (f64, tensor<2xf64>) -> tensor<2xf64>
  return %r : tensor<2xf64>
}
"""


def test_enzyme_batched_square():
    """Enzyme's ReverseMode/batched_square.mlir: scalars, two cotangents."""
    from zymase import load_mlir

    m = load_mlir(BATCHED_SQUARE)
    np.testing.assert_allclose(np.asarray(m["dsquare"](np.float64(3.0), np.array([1.0, 2.0]))), [6.0, 12.0])


def test_seed_type_is_checked():
    from zymase.ir import parse_module
    from xdsl.utils.exceptions import VerifyException

    bad = BATCHED_SQUARE.replace("(f64, tensor<2xf64>) -> tensor<2xf64>", "(f64, f64) -> f64").replace("%dr: tensor<2xf64>) -> tensor<2xf64>", "%dr: f64) -> f64").replace("return %r : tensor<2xf64>", "return %r : f64")
    with pytest.raises(VerifyException, match=r"seed of result 0 of @square\) has type f64, expected tensor<2xf64>"):
        parse_module(bad).verify()


MEMORY = """
func.func @f(%m: memref<3xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %v = memref.load %m[%c0] : memref<3xf64>
  %r = arith.mulf %v, %v : f64
  return %r : f64
}
func.func @df(%m: memref<3xf64>, %dm: memref<3xf64>, %s: tensor<2xf64>) {
  enzyme.autodiff @f(%m, %dm, %s) {activity = [#enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_activenoneed>], width = 2} : (memref<3xf64>, memref<3xf64>, tensor<2xf64>) -> ()
  return
}
"""


def test_width_with_memory_is_refused():
    from zymase.ad.enzyme_pass import differentiate_module
    from zymase.ad.errors import DiffError
    from zymase.ir import parse_module

    module = parse_module(MEMORY)
    with pytest.raises(DiffError, match=r"^@f: reverse mode with width 2 of a function that uses memory \(memref\) is not supported; use width 1$"):
        differentiate_module(module)
