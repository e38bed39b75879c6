"""The forward-Laplacian mode (enzyme.fwdlaplace, ad/laplace.py) and zymase.laplacian on
it: values against the trace of jax.hessian in float64, the diagonal form of gradients
(no n x n value), the op's syntax and verifier, and the explicit fallback to forward
over reverse mode for programs the mode has no rule for."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zymase
from zymase.ad.laplace import LaplaceError
from zymase.api import CONST, DUP, DUPNONEED, _add_entry, _Derivative, _LAPLACE_CACHE, lower
from zymase.ir import parse_module, print_module
from zymase.ir.enzyme import ForwardLaplaceOp

pytestmark = pytest.mark.usefixtures("x64")


def hessian_trace(f, argnums=0):
    """The reference: the trace of the Hessian by jax (forward over forward, which also
    differentiates loops with a run-time trip count), jitted (eager jax is slow)."""

    def lap(*args):
        hess = jax.jacfwd(jax.jacfwd(f, argnums), argnums)(*args)
        return jnp.trace(hess.reshape(np.size(args[argnums]), -1))

    return jax.jit(lap)


def check(f, *args, argnums=0):
    """zymase.laplacian matches the trace of jax.hessian to 1e-10, through the
    forward-Laplacian mode (not the fallback)."""
    got = zymase.laplacian(f, argnums, fallback=False)(*args)
    want = hessian_trace(f, argnums)(*args)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    built = [v for v in _LAPLACE_CACHE.entries(f).values()]
    assert built and all(deriv is not None for deriv, _ in built), [why for _, why in built]


def rng(seed=0):
    return np.random.RandomState(seed)


# ============================================================================ elementwise


def test_elementwise_chain_tanh_exp_log_sin():
    def f(x):
        return jnp.sum(jnp.tanh(x) * jnp.exp(0.3 * x) + jnp.log(2.0 + jnp.sin(x)) ** 2)

    check(f, jnp.asarray(rng().randn(7)))


def test_division_and_powers():
    def f(x):
        y = (x * x + 1.0) / (2.0 + jnp.cos(x))
        return jnp.sum(y ** 1.7 + jnp.sqrt(1.5 + x) - 1.0 / (3.0 + x))

    check(f, jnp.asarray(rng(1).rand(6)))


def test_power_with_both_operands_depending_on_x():
    """x ** (sin x): the cross second partial d^2 pow / dx dy (derived by forward mode
    over the first-order partials) contributes."""

    def f(x):
        return jnp.sum((1.0 + x) ** jnp.sin(x))

    check(f, jnp.asarray(0.5 + rng(2).rand(5)))


def test_two_operand_elementwise_ops():
    def f(x):
        y = x[::-1]
        return jnp.sum(jnp.arctan2(x, 1.0 + y * y) + jnp.maximum(x, 0.3 * y) * y + jax.scipy.special.erf(x * y))

    check(f, jnp.asarray(rng(3).randn(6)))


def test_logistic_log1p_expm1_abs_and_clamp():
    def f(x):
        return jnp.sum(jax.nn.sigmoid(x) * jnp.log1p(x * x) + jnp.expm1(0.5 * x) * jnp.abs(x) + jnp.clip(x * x, 0.1, 0.8) ** 2)

    check(f, jnp.asarray(rng(4).randn(8)))


# ============================================================================ linear algebra and structure


def mlp(x, params):
    h = x
    for w, b in params[:-1]:
        h = jnp.tanh(h @ w + b)
    w, b = params[-1]
    return (h @ w + b)[0]


def mlp_params(rs, sizes):
    return [(jnp.asarray(rs.randn(m, n) / np.sqrt(m)), jnp.asarray(0.1 * rs.randn(n))) for m, n in zip(sizes[:-1], sizes[1:])]


def test_mlp_with_a_pytree_of_parameters():
    rs = rng(5)
    params = mlp_params(rs, [5, 7, 6, 1])
    check(mlp, jnp.asarray(rs.randn(5)), params)


def test_x_in_the_second_factor_and_quadratic_forms():
    rs = rng(6)
    m = jnp.asarray(rs.randn(4, 4))
    c = jnp.asarray(rs.randn(3, 4))

    def f(x):
        y = m @ x  # x on the right of dot_general
        z = c @ jnp.sin(x)
        return x @ y + jnp.sum(jnp.exp(0.1 * z)) + jnp.dot(jnp.tanh(y), x)  # products of two x-dependent factors

    check(f, jnp.asarray(rs.randn(4)))


def test_matrix_input_batch_matmul_and_broadcasts():
    rs = rng(7)
    w = jnp.asarray(rs.randn(3, 4, 2))

    def f(x):  # x: (3, 4)
        y = jnp.einsum("bi,bij->bj", x, w)  # batch dimension of dot_general: x's diagonal passes through
        z = x[:, :, None] * jnp.tanh(y)[:, None, :]
        return jnp.sum(jnp.sin(z)) + jnp.sum(jnp.mean(x, axis=0) ** 3)

    check(f, jnp.asarray(rs.randn(3, 4)))


def test_dot_general_forms_of_a_diagonal_gradient():
    """x's diagonal gradient through dot_general as a free dimension, as a batch
    dimension, contracted alone, and contracted together with another dimension, on
    either side."""
    rs = rng(19)
    v, w = jnp.asarray(rs.randn(5)), jnp.asarray(rs.randn(4, 5))
    c, k = jnp.asarray(rs.randn(4, 3)), jnp.asarray(rs.randn(4, 3, 2))

    def f(x):  # x: (4,)
        outer = jnp.einsum("i,j->ij", x, v)  # free
        batch = jnp.einsum("i,ij->ij", jnp.sin(x), w)  # batch
        u = x[:, None] * c  # diagonal along dimension 0 of (4, 3)
        both = jnp.einsum("ij,ijk->k", u, k)  # x's dimension and another contracted
        right = jnp.einsum("ijk,ij->k", k, jnp.tanh(u))  # the same on the right
        return jnp.sum(jnp.sin(outer)) + jnp.sum(batch ** 3) + jnp.sum(jnp.exp(both)) + jnp.sum(right ** 2)

    check(f, jnp.asarray(rs.randn(4)))


def test_reshape_transpose_slice_concatenate_reverse_pad():
    def f(x):  # x: (2, 6)
        t = jnp.transpose(x) * 1.5  # (6, 2)
        r = jnp.reshape(x, (3, 4))
        s = jnp.concatenate([x[:, 1:4], jnp.flip(x[:, :2], axis=1)], axis=1)  # (2, 5)
        p = jnp.pad(jnp.tanh(x), ((1, 0), (0, 2)))
        return jnp.sum(jnp.sin(t) ** 2) + jnp.sum(r[:, ::2] * r[:, 1::2]) + jnp.sum(jnp.exp(s) * s) + jnp.sum(p ** 3)

    check(f, jnp.asarray(rng(8).randn(2, 6)))


def test_reductions_sum_max_min():
    def f(x):  # x: (3, 5)
        return jnp.sum(jnp.max(jnp.sin(x), axis=1) ** 2) + jnp.min(x * x) + jnp.sum(jnp.sum(jnp.exp(x), axis=0) ** 2)

    check(f, jnp.asarray(rng(9).randn(3, 5)))


def test_select():
    def f(x):
        return jnp.sum(jnp.where(x > 0.2, jnp.sin(x) * x, x ** 3) + jnp.where(x < 0, 1.0, jnp.exp(x)))

    check(f, jnp.asarray(rng(10).randn(9)))


def test_scalar_input():
    check(lambda x: jnp.sin(x) * jnp.exp(x * x), jnp.asarray(0.7))


def test_convert_between_precisions():
    def f(x):
        return jnp.sum(jnp.tanh(x.astype(jnp.float32)).astype(jnp.float64) * x)

    x = jnp.asarray(rng(11).randn(4))
    got = zymase.laplacian(f, fallback=False)(x)
    np.testing.assert_allclose(got, hessian_trace(f)(x), rtol=1e-5)


# ============================================================================ loops


def test_loops_carry_gradient_and_laplacian():
    """A fori_loop with a run-time trip count (it stays a stablehlo.while, which carries
    each active value's gradient and Laplacian) and a scan over stacked weights."""
    rs = rng(25)
    w, b, w0 = jnp.asarray(rs.randn(5, 5) / 2), jnp.asarray(0.1 * rs.randn(5)), jnp.asarray(rs.randn(4, 5))

    def layers(x, n):
        h = jnp.tanh(x @ w0)
        h = jax.lax.fori_loop(0, n, lambda i, h: jnp.tanh(h @ w + b) * (1.0 + 0.1 * i), h)
        return jnp.sum(h ** 2)

    def scanned(x):
        ws = jnp.stack([w, w.T, 0.5 * w])
        h, _ = jax.lax.scan(lambda h, m: (jnp.sin(h @ m) + h * x[0], None), x @ w0, ws)
        return jnp.sum(jnp.exp(0.2 * h))

    x = jnp.asarray(rs.randn(4))
    check(layers, x, jnp.asarray(3))
    check(scanned, x)
    text = _final_text(layers, x, jnp.asarray(3))
    assert "stablehlo.while" in text[text.index("fwdlaplacemain\", function_type") :]


# ============================================================================ several arguments


def test_one_argument_of_several_is_differentiated():
    def f(a, x, b):
        return jnp.sum(jnp.tanh(a * x) * b["scale"]) + jnp.sum(x * x * b["shift"]) + jnp.sum(a)

    rs = rng(12)
    a, x = jnp.asarray(rs.randn(5)), jnp.asarray(rs.randn(5))
    b = {"scale": jnp.asarray(rs.randn(5)), "shift": jnp.asarray(2.0)}
    check(f, a, x, b, argnums=1)
    check(f, a, x, b, argnums=0)


def test_under_jit_and_vmap():
    rs = rng(13)
    params = mlp_params(rs, [4, 6, 1])
    walkers = jnp.asarray(rs.randn(5, 4))
    lap = jax.jit(jax.vmap(zymase.laplacian(mlp, fallback=False), in_axes=(0, None)))
    want = jax.vmap(lambda x: hessian_trace(mlp)(x, params))(walkers)
    np.testing.assert_allclose(lap(walkers, params), want, rtol=1e-10, atol=1e-10)


def test_jax_grad_of_the_laplacian_with_respect_to_parameters():
    """The emitted program is ordinary jax: jax.grad differentiates the Laplacian with
    respect to the network's parameters (what a VMC energy gradient needs)."""
    rs = rng(24)
    params = mlp_params(rs, [4, 6, 1])
    x = jnp.asarray(rs.randn(4))
    got = jax.grad(lambda p: zymase.laplacian(mlp, fallback=False)(x, p))(params)
    want = jax.grad(lambda p: hessian_trace(mlp)(x, p))(params)
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10)


def test_closed_over_tracer_under_jit():
    rs = rng(14)
    a = jnp.asarray(rs.rand(6))

    @jax.jit
    def outer(x, a):
        return zymase.laplacian(lambda x: jnp.sum(a * jnp.sin(x) ** 2), fallback=False)(x)

    x = jnp.asarray(rs.randn(6))
    np.testing.assert_allclose(outer(x, a), hessian_trace(lambda x: jnp.sum(a * jnp.sin(x) ** 2))(x), rtol=1e-10)


# ============================================================================ diagonal gradients


def _final_text(f, *args, i=0):
    program = lower(f, *args)
    kinds = [DUP if k == i else CONST for k in range(len(program.in_avals))]
    _add_entry(program, ForwardLaplaceOp, kinds, [DUPNONEED])
    _Derivative(program, record_stages=True)
    return program.as_text(stage="final")


def test_separable_quadratic_keeps_the_diagonal():
    """sum(a * x^2): no n x n value anywhere in the optimized program, and the result is 2 sum(a)."""
    n = 300
    a = jnp.asarray(rng(15).rand(n))
    f = lambda x, a: jnp.sum(a * x * x)  # noqa: E731
    text = _final_text(f, jnp.ones(n), a)
    assert f"{n}x{n}" not in text
    assert "fwdlaplacemain" in text
    np.testing.assert_allclose(zymase.laplacian(f, fallback=False)(jnp.ones(n), a), 2 * float(jnp.sum(a)), rtol=1e-12)


def test_stencils_keep_shifted_diagonals():
    """Slices, pads and concatenations shift the diagonal: nearest-neighbour couplings
    and finite-difference stencils stay O(n) (no n x n value) and are exact."""
    n = 64

    def f(x):
        pair = jnp.tanh(x[1:] * x[:-1])  # bands at offsets 1 and 0, no cross term between them
        lap = x[2:] - 2.0 * x[1:-1] + x[:-2]  # three bands
        ring = jnp.concatenate([x[-1:], x[:-1]])  # a cyclic shift: two bands
        padded = jnp.pad(jnp.sin(x), (2, 1))[1:-2]
        return jnp.sum(pair) + jnp.sum(jnp.cos(x[1:-1]) * lap ** 2) + jnp.sum(ring * x * x) + jnp.sum(padded * jnp.exp(x))

    x = jnp.asarray(rng(20).randn(n))
    check(f, x)
    assert f"{n}x{n}" not in _final_text(f, x)


def test_many_shifts_become_dense_and_stay_exact():
    """More bands than MAX_BANDS: the gradient turns dense, the value is still exact."""
    from zymase.ad.laplace import MAX_BANDS

    k = MAX_BANDS + 3
    n = 16

    def f(x):
        window = sum((0.3 + 0.1 * i) * x[i : n - k + 1 + i] for i in range(k))
        return jnp.sum(jnp.tanh(window) ** 2)

    check(f, jnp.asarray(rng(23).randn(n)))


def test_matrix_input_with_shifts_along_both_dimensions():
    def f(x):  # x: (4, 5)
        return jnp.sum(jnp.sin(x[1:, :] * x[:-1, :])) + jnp.sum((x[:, 1:] - x[:, :-1]) ** 3) + jnp.sum(jnp.transpose(x)[::2, 1:] ** 2)

    check(f, jnp.asarray(rng(21).randn(4, 5)))


def test_bands_on_different_axes_overlap_on_the_diagonal():
    """x_i + x_j on an n x n grid: two bands, one per axis, meeting where i == j; the
    gradient stays banded (no n x n x n array)."""
    n = 12

    def f(x):
        return jnp.sum(jnp.tanh(x[:, None] + 0.5 * x[None, :]) ** 2)

    x = jnp.asarray(rng(22).randn(n))
    check(f, x)
    assert f"{n}x{n}x{n}" not in _final_text(f, x)


def test_first_layer_gradient_is_the_weight_matrix():
    """x @ W with x's identity gradient: no d x d array and no dot_general for the gradient."""
    rs = rng(16)
    w = jnp.asarray(rs.randn(5, 8))
    text = _final_text(lambda x, w: jnp.sum(jnp.tanh(x @ w)), jnp.ones(5), w)
    assert "5x5x" not in text and "tensor<5x5x" not in text
    body = text[text.index("fwdlaplacemain\", function_type") :]
    assert body.count("stablehlo.dot_general") == 1  # the primal's only


# ============================================================================ errors and fallback


def test_branches():
    def f(x):
        y = jax.lax.cond(jnp.sum(x) > 0, lambda v: jnp.sin(v) * v, lambda v: jnp.cos(v) ** 2, x)
        z = jax.lax.switch(jnp.argmax(x) % 3, [lambda v: v ** 3, lambda v: jnp.exp(v), lambda v: v * x[0]], y)
        return jnp.sum(z)

    base = jnp.asarray(rng(17).randn(4))
    for x in (base + 1.0, base - 1.0, base[::-1] * 2.0):
        check(f, x)
    text = _final_text(f, base)
    body = text[text.index("fwdlaplacemain\", function_type") :]
    assert body.count("stablehlo.case") + body.count("stablehlo.if") == 2  # both stay branches (the optimizer writes the cond's two-way case as an if)


def test_fallback_for_a_program_the_mode_does_not_handle():
    """A sort: no forward-Laplacian rule for stablehlo.sort; laplacian falls back to
    forward over reverse mode and is still right; fallback=False raises."""

    def f(x):
        return jnp.sum(jnp.sort(jnp.sin(x)) * jnp.arange(1.0, 5.0) * x)

    x = jnp.asarray(rng(17).randn(4))
    np.testing.assert_allclose(zymase.laplacian(f)(x), hessian_trace(f)(x), rtol=1e-10)
    assert str([why for _, why in _LAPLACE_CACHE.entries(f).values()][0]).startswith("no forward-Laplacian rule for 'stablehlo.sort'")
    with pytest.raises(LaplaceError, match=r"^no forward-Laplacian rule for 'stablehlo.sort' at \S+"):
        zymase.laplacian(f, fallback=False)(x)


def test_fallback_for_custom_jvp_functions():
    f = lambda x: jnp.sum(jax.nn.relu(x) * x + jax.nn.softplus(x) ** 2)  # noqa: E731
    x = jnp.asarray(rng(18).randn(5))
    np.testing.assert_allclose(zymase.laplacian(f)(x), hessian_trace(f)(x), rtol=1e-10)
    with pytest.raises(LaplaceError, match="no forward-Laplacian rule for 'func.call'"):
        zymase.laplacian(f, fallback=False)(x)


def test_error_is_one_line():
    f = lambda x: jnp.sum(jnp.sort(x) * x)  # noqa: E731
    with pytest.raises(LaplaceError) as err:
        zymase.laplacian(f, fallback=False)(jnp.ones(3))
    assert "\n" not in str(err.value) and "'stablehlo.sort'" in str(err.value)


def test_non_scalar_output_is_rejected_as_before():
    with pytest.raises(TypeError, match="scalar output"):
        zymase.laplacian(lambda x: jnp.sin(x))(jnp.ones(3))


# ============================================================================ the op


OP_TEXT = """
func.func @f(%x: tensor<3xf32>, %w: tensor<3x2xf32>) -> (tensor<2xf32>, tensor<f32>) {
  %z = "stablehlo.dot_general"(%x, %w) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>}> : (tensor<3xf32>, tensor<3x2xf32>) -> tensor<2xf32>
  %c = "stablehlo.constant"() <{value = dense<1.0> : tensor<f32>}> : () -> tensor<f32>
  func.return %z, %c : tensor<2xf32>, tensor<f32>
}
func.func @lap(%x: tensor<3xf32>, %w: tensor<3x2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>, tensor<2xf32>) {
  %p, %g, %l = enzyme.fwdlaplace @f(%x, %w) {activity = [enzyme_dup, enzyme_const], ret_activity = [enzyme_dup, enzyme_constnoneed]} : (tensor<3xf32>, tensor<3x2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>, tensor<2xf32>)
  func.return %p, %g, %l : tensor<2xf32>, tensor<3x2xf32>, tensor<2xf32>
}
"""


def test_op_round_trips_and_verifies():
    module = parse_module(OP_TEXT)
    module.verify()
    text = print_module(module, generic=False)
    assert "enzyme.fwdlaplace @f(%x, %w) {activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_const>]" in text
    again = parse_module(text)
    again.verify()
    assert print_module(again, generic=False) == text
    generic = parse_module(print_module(module, generic=True))
    generic.verify()
    assert print_module(generic, generic=False) == text


@pytest.mark.parametrize(
    "change, problem",
    [
        (("enzyme_dup, enzyme_const]", "enzyme_const, enzyme_const]"), "expects exactly one enzyme_dup argument"),
        (("enzyme_dup, enzyme_const]", "enzyme_dup, enzyme_dup]"), "expects exactly one enzyme_dup argument"),
        (("tensor<2xf32>, tensor<3x2xf32>, tensor<2xf32>", "tensor<2xf32>, tensor<2x2xf32>, tensor<2xf32>"), r"result 1 \(gradient of result 0 of @f\) has type tensor<2x2xf32>, expected tensor<3x2xf32>"),
        (("enzyme_constnoneed]}", "enzyme_constnoneed], width = 2}"), "width 2"),
        (("enzyme_dup, enzyme_const]", "enzyme_active, enzyme_const]"), "not allowed here; 'enzyme.fwdlaplace' takes"),
    ],
)
def test_verifier_explains_mistakes(change, problem):
    text = OP_TEXT.replace(*change)
    assert text != OP_TEXT
    with pytest.raises(Exception, match=problem):
        parse_module(text).verify()
