"""Loop raising (opt/rules/loop_raise.py, opt/batching.py) end to end: gradients of loop
programs against jax.grad in float64, and whether the loop is gone from the optimized IR
(before and after differentiation) for the raisable ones, and kept for the others."""

import jax
import jax.numpy as jnp
from jax import lax
import numpy as np
import pytest

import zymase
from zymase.ir import parse_module
from zymase.opt.pattern import optimize

pytestmark = pytest.mark.usefixtures("x64")

N = 6


def _args(*shapes, lo=0.5, hi=1.5, seed=0):
    rng = np.random.RandomState(seed)
    return [jnp.asarray(rng.uniform(lo, hi, size=s)) for s in shapes]


def _whiles(f, args, argnums, stage):
    text = zymase.grad(f, argnums=argnums).lower(*args).as_text(stage=stage)
    return text.count('"stablehlo.while"') + text.count("stablehlo.while ")


def _check(f, args, argnums=0, raised=True):
    got = zymase.grad(f, argnums=argnums)(*args)
    want = jax.jit(jax.grad(f, argnums=argnums))(*args)
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-10, atol=1e-12)
    loops = [_whiles(f, args, argnums, stage) for stage in ("optimized-before-ad", "final")]
    if raised:
        assert loops == [0, 0], f"loops left (before AD, final): {loops}"
    else:
        assert loops[0] >= 1, "the loop must stay a loop"


# ---------------------------------------------------------------- raisable


def vector_norm(x, w):
    def body(i, out):
        return out.at[i].set(x[i] / jnp.sqrt(jnp.sum(x * x)))

    return jnp.sum(jax.lax.fori_loop(0, x.shape[0], body, jnp.zeros_like(x)) * w)


def pairwise(x, w):
    def body(i, out):
        return out.at[i].set(jnp.sum(jnp.exp(-((x[i] - x) ** 2))))

    return jnp.sum(jax.lax.fori_loop(0, x.shape[0], body, jnp.zeros_like(x)) * w)


def softmax_rows(a, w):
    def body(i, out):
        e = jnp.exp(a[i] - jnp.max(a[i]))
        return out.at[i].set(e / jnp.sum(e))

    return jnp.sum(jax.lax.fori_loop(0, a.shape[0], body, jnp.zeros_like(a)) * w)


def polynomial(c, x):
    def body(i, acc):
        return acc + c[i] * x**i

    return jnp.sum(jax.lax.fori_loop(0, c.shape[0], body, jnp.zeros_like(x)) ** 2)


def shifted_read(x, w):
    """x[i + 1] reads past the end in the last iteration: dynamic_slice clamps it to x[n-1]."""

    def body(i, out):
        return out.at[i].set(jnp.sin(x[i + 1]))

    return jnp.sum(jax.lax.fori_loop(0, x.shape[0], body, jnp.zeros_like(x)) * w)


def scan_ys(x, c):
    return jnp.sum(jax.lax.scan(lambda h, xi: (h, jnp.tanh(xi * h)), c, x)[1] ** 2)


def reverse_scan(x, c):
    """scan(reverse=True) reads and writes at T - 1 - i."""
    return jnp.sum(jax.lax.scan(lambda h, xi: (h, jnp.sin(xi) * h), c, x, reverse=True)[1] * x)


def rows_matvec(a, v):
    """lax.map of a matrix-vector product per row block: a dot_general gets the batch dimension."""
    return jnp.sum(jnp.tanh(jax.lax.map(lambda m: m @ v, a)))


def strided_write(x, w):
    """out[2i] = f(x[i]): windows with gaps, one scatter."""

    def body(i, out):
        return out.at[2 * i].set(jnp.sin(x[i]))

    return jnp.sum(jax.lax.fori_loop(0, x.shape[0], body, jnp.zeros(2 * x.shape[0])) * w)


def map_and_sum(x, w):
    """A map buffer and a reduction in one loop: split, then both raised."""

    def body(i, carry):
        out, s = carry
        return out.at[i].set(jnp.cos(x[i]) * w[i]), s + x[i] * x[i]

    out, s = jax.lax.fori_loop(0, x.shape[0], body, (jnp.zeros_like(x), 0.0))
    return jnp.sum(out) * s


@pytest.mark.parametrize(
    "f, shapes, argnums",
    [
        (vector_norm, [(N,), (N,)], 0),
        (pairwise, [(N,), (N,)], 0),
        (softmax_rows, [(4, 5), (4, 5)], 0),
        (polynomial, [(5,), (3,)], (0, 1)),
        (shifted_read, [(N,), (N,)], 0),
        (scan_ys, [(N, 2), ()], (0, 1)),
        (map_and_sum, [(N,), (N,)], (0, 1)),
        (reverse_scan, [(N, 2), ()], (0, 1)),
        (rows_matvec, [(3, 4, 5), (5,)], (0, 1)),
        (strided_write, [(N,), (2 * N,)], 0),
    ],
    ids=lambda p: getattr(p, "__name__", None),
)
def test_raised_loop_gradients_match_jax(f, shapes, argnums):
    _check(f, _args(*shapes), argnums, raised=True)


@pytest.mark.parametrize("f, shapes", [(pairwise, [(N,), (N,)]), (softmax_rows, [(4, 5), (4, 5)]), (reverse_scan, [(N, 2), ()]), (rows_matvec, [(3, 4, 5), (5,)])], ids=lambda p: getattr(p, "__name__", None))
def test_raised_loop_values_match_jax(f, shapes):
    args = _args(*shapes)
    np.testing.assert_allclose(np.asarray(zymase.jit(f)(*args)), np.asarray(f(*args)), rtol=1e-12)
    assert "stablehlo.while" not in zymase.jit(f).lower(*args).as_text(stage="final")


# ---------------------------------------------------------------- must stay loops


def recurrence(x, w):
    def body(i, h):
        return jnp.tanh(w * h + x[i])

    return jax.lax.fori_loop(0, x.shape[0], body, 0.1)


def previous_element(x, w):
    """Iteration i reads out[i - 1], written by iteration i - 1: not independent."""

    def body(i, out):
        return out.at[i].set(out[i - 1] * w + x[i])

    return jnp.sum(jax.lax.fori_loop(1, x.shape[0], body, jnp.zeros_like(x)) ** 2)


def horner(c, x):
    def body(i, acc):
        return acc * x + c[c.shape[0] - 1 - i]

    return jax.lax.fori_loop(0, c.shape[0], body, 0.0)


def repeated_write(x, w):
    """Every iteration writes out[0]: the last write wins, not raised."""

    def body(i, out):
        return out.at[0].set(x[i] * w)

    return jnp.sum(jax.lax.fori_loop(0, x.shape[0], body, jnp.zeros_like(x)))


@pytest.mark.parametrize(
    "f, shapes, argnums",
    [
        (recurrence, [(N,), ()], (0, 1)),
        (previous_element, [(N,), ()], (0, 1)),
        (horner, [(5,), ()], (0, 1)),
        (repeated_write, [(N,), ()], (0, 1)),
    ],
    ids=lambda p: getattr(p, "__name__", None),
)
def test_dependent_loops_stay_loops(f, shapes, argnums):
    _check(f, _args(*shapes), argnums, raised=False)


def test_recurrence_beside_a_map_is_split_off():
    """fission: the map part is raised, the recurrence stays the only loop."""

    def f(x, w):
        def body(i, carry):
            out, h = carry
            return out.at[i].set(jnp.sin(x[i])), jnp.tanh(h * w + x[i])

        out, h = jax.lax.fori_loop(0, x.shape[0], body, (jnp.zeros_like(x), 0.1))
        return jnp.sum(out**2) + h

    args = _args((N,), ())
    _check(f, args, (0, 1), raised=False)
    assert _whiles(f, args, (0, 1), "optimized-before-ad") == 1


# ---------------------------------------------------------------- the rules on IR


_OUT_OF_BOUNDS_SCATTER = """
func.func @main(%x: tensor<4xf64>) -> tensor<4xf64> {
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<4xf64>}> : () -> tensor<4xf64>
  %i0 = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %r:2 = "stablehlo.while"(%i0, %z) ({
  ^bb0(%i: tensor<i32>, %o: tensor<4xf64>):
    %n = "stablehlo.constant"() <{value = dense<4> : tensor<i32>}> : () -> tensor<i32>
    %c = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%c) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %o: tensor<4xf64>):
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %j = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %xi = "stablehlo.dynamic_slice"(%x, %i) <{slice_sizes = array<i64: 1>}> : (tensor<4xf64>, tensor<i32>) -> tensor<1xf64>
    %v = "stablehlo.reshape"(%xi) : (tensor<1xf64>) -> tensor<f64>
    %idx = "stablehlo.reshape"(%j) : (tensor<i32>) -> tensor<1xi32>
    %o2 = "stablehlo.scatter"(%o, %idx, %v) <{scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0], scatter_dims_to_operand_dims = [0]>}> ({
    ^bb1(%p: tensor<f64>, %q: tensor<f64>):
      "stablehlo.return"(%q) : (tensor<f64>) -> ()
    }) : (tensor<4xf64>, tensor<1xi32>, tensor<f64>) -> tensor<4xf64>
    "stablehlo.return"(%j, %o2) : (tensor<i32>, tensor<4xf64>) -> ()
  }) : (tensor<i32>, tensor<4xf64>) -> (tensor<i32>, tensor<4xf64>)
  func.return %r#1 : tensor<4xf64>
}"""


def test_scatter_past_the_end_is_not_raised():
    """out[i + 1] = x[i] for i < 4 writes out[4] last: scatter drops it, a raised
    dynamic_update_slice would clamp it onto out[3]. The loop must stay."""
    module = parse_module(_OUT_OF_BOUNDS_SCATTER)
    optimize(module, only=["while_raise_map", "while_fission"])
    assert any(op.name == "stablehlo.while" for op in module.walk())


def test_induction_range_folds_jax_index_normalisation():
    """compare(i, 0) LT in fori_loop(0, n) is false for every i: folded to a constant."""
    from zymase.frontend import lower
    from zymase.opt.inline import inline_calls

    def f(x):
        return jax.lax.fori_loop(0, 5, lambda i, s: s * 0.5 + x[i], 0.0)

    module = lower(f, np.ones(5)).module
    inline_calls(module)

    def compares():
        return sum(1 for op in module.walk() if op.name == "stablehlo.compare" and op.parent_op().name == "stablehlo.while" and op.parent_block() is op.parent_op().body.block)

    assert compares() >= 1
    optimize(module, only=["compare_induction_range"])
    assert compares() == 0


def test_batched_values_are_bounded(monkeypatch):
    """A loop whose batched intermediates would exceed MAX_BATCHED_ELEMENTS stays a loop
    (memory: T copies of a per-iteration temporary)."""
    from zymase.opt import batching

    args = _args((N,), (N,))
    monkeypatch.setattr(batching, "MAX_BATCHED_ELEMENTS", N * N - 1)
    _check(pairwise, args, 0, raised=False)  # out[i] = sum_j k(x[i], x[j]) batches an N x N temporary


def test_stop_gradient_inside_a_loop_is_kept():
    """A stop_gradient in the body (enzyme.ignore_derivatives) survives: the loop is
    raised only when its meaning can be kept, and the gradient is jax's."""

    def f(x):
        def body(i, out):
            return out.at[i].set(x[i] * lax.stop_gradient(x[i]) / jnp.sqrt(jnp.sum(x * x)))

        return jnp.sum(lax.fori_loop(0, x.shape[0], body, jnp.zeros_like(x)) ** 2)

    x = jnp.linspace(0.3, 1.2, 6)
    np.testing.assert_allclose(zymase.grad(f)(x), jax.jit(jax.grad(f))(x), rtol=1e-10)
