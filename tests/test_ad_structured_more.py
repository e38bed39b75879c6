"""Derivatives of scatter with multiply / maximum / minimum updates, reduce_window with
multiply and logaddexp bodies, product reductions with an active init value, and the
sort-based jnp.median / quantile / percentile, against jax in float64.

Each row is a program with float arguments (indices are constants inside it). Where jax
cannot differentiate the program itself (scatter-multiply with repeated indices, the
reverse mode of a generic reduce_window, a reduction with an active init value), the row
names an equivalent jax program as the reference, or marks that only jax's forward mode
works (the reverse reference is then built from one jax.jvp per input element).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import zymase
from zymase.ad.engine import DiffError

TOL = 1e-10


pytestmark = pytest.mark.usefixtures("x64")


def close(got, want, what: str) -> None:
    got_leaves, want_leaves = jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)
    assert len(got_leaves) == len(want_leaves), what
    for g, w in zip(got_leaves, want_leaves):
        g, w = np.asarray(g, np.float64), np.asarray(w, np.float64)
        assert g.shape == w.shape, f"{what}: shape {g.shape} != {w.shape}"
        finite = np.isfinite(w)
        assert np.array_equal(g[~finite], w[~finite]) and np.all(np.isfinite(g[finite])), f"{what}: non-finite values differ\ngot  {g}\nwant {w}"
        g, w = g[finite], w[finite]
        scale = max(1.0, float(np.max(np.abs(w), initial=0.0)))
        err = float(np.max(np.abs(g - w), initial=0.0))
        assert err <= TOL * scale, f"{what}: max error {err:.3g}\ngot  {g}\nwant {w}"


def rand(seed: int, *shape: int, lo: float = -2.0, hi: float = 2.0) -> np.ndarray:
    return np.random.RandomState(seed).uniform(lo, hi, shape)


@dataclass
class Row:
    name: str
    fn: Callable
    args: tuple
    ref: Callable | None = None
    """An equivalent jax program, when jax cannot differentiate ``fn`` itself."""
    jax_reverse: bool = True
    """jax.vjp works on the reference (else the reverse reference is built from jax.jvp)."""
    optimize: bool = True
    """False: run with ZYMASE_OPT=0."""

    @property
    def reference(self) -> Callable:
        return self.ref if self.ref is not None else self.fn

    @property
    def inputs(self) -> tuple:
        """The arguments as jax arrays (made when x64 is on)."""
        return tuple(jnp.asarray(a) for a in self.args)

    def __repr__(self) -> str:
        return self.name


def onehot_products(x, idx, upd):
    """x.at[idx].mul(upd) without scatter: x[p] times the product of the updates at p."""
    hits = jnp.asarray(idx)[:, None] == jnp.arange(x.shape[0])[None, :]
    hits = hits.reshape(hits.shape + (1,) * (x.ndim - 1))
    return x * jnp.prod(jnp.where(hits, upd[:, None], 1.0), axis=0)


def segment_products(x, seg, n):
    hits = jnp.asarray(seg)[:, None] == jnp.arange(n)[None, :]
    return jnp.prod(jnp.where(hits, x[:, None], 1.0), axis=0)


IDX = np.array([0, 2, 0, 4, 0])
SEG = np.array([0, 0, 1, 0, 3, 1])
X5 = np.array([0.3, -1.2, 2.5, 0.7, 1.1])
U5 = np.array([2.0, 3.0, -4.0, 0.5, -1.5])
TIES = np.array([2.0, 0.3, 2.0, 1.0, 1.0])  # the updates at 0 tie with each other and with x[0]
SEG_TIES = np.array([1.5, 1.5, -0.2, 0.7, 2.0, -0.2])


def with_zeros(v, *where):
    """A copy of v with zeros at the given flat positions."""
    v = np.array(v, np.float64)
    v.reshape(-1)[list(where)] = 0.0
    return v


SCATTER_ROWS = [
    Row("at_mul_single", lambda x, u: x.at[2].mul(u), (X5, np.float64(1.7))),
    Row("at_mul_unique", lambda x, u: x.at[np.array([1, 3])].mul(u, unique_indices=True), (X5, np.array([2.0, -0.5]))),
    Row("at_mul_repeated", lambda x, u: x.at[IDX].mul(u), (X5, U5), ref=lambda x, u: onehot_products(x, IDX, u)),
    Row("at_mul_repeated_one_zero", lambda x, u: x.at[IDX].mul(u), (X5, with_zeros(U5, 2)), ref=lambda x, u: onehot_products(x, IDX, u)),
    Row("at_mul_repeated_two_zeros", lambda x, u: x.at[IDX].mul(u), (with_zeros(X5, 0), with_zeros(U5, 0, 2)), ref=lambda x, u: onehot_products(x, IDX, u)),
    Row(
        "at_mul_rows",
        lambda x, u: x.at[np.array([3, 0, 3])].mul(u),
        (rand(1, 4, 3), with_zeros(rand(2, 3, 3), 0)),
        ref=lambda x, u: onehot_products(x, np.array([3, 0, 3]), u),
    ),
    Row(
        "at_mul_dropped",
        lambda x, u: x.at[np.array([1, 7, 1, -9])].mul(u, mode="drop"),
        (X5, np.array([2.0, 3.0, -0.5, 4.0])),
        ref=lambda x, u: onehot_products(x, np.array([1, 1]), u[np.array([0, 2])]),
    ),
    Row("segment_prod", lambda x: jax.ops.segment_prod(x, SEG, 4), (rand(3, 6),), ref=lambda x: segment_products(x, SEG, 4)),
    Row("segment_prod_zeros", lambda x: jax.ops.segment_prod(x, SEG, 4), (with_zeros(rand(3, 6), 0, 1, 2),), ref=lambda x: segment_products(x, SEG, 4)),
    Row("at_max_ties", lambda x, u: x.at[IDX].max(u), (TIES, TIES)),
    Row("at_min_ties", lambda x, u: x.at[IDX].min(u), (TIES, TIES)),
    Row("at_max", lambda x, u: x.at[IDX].max(u), (X5, U5)),
    Row("at_min_rows", lambda x, u: x.at[np.array([3, 0, 3])].min(u), (rand(4, 4, 3), rand(5, 3, 3))),
    Row("at_max_dropped", lambda x, u: x.at[np.array([1, 7, 1, -9])].max(u, mode="drop"), (X5, np.array([2.0, 3.0, 2.0, 4.0]))),
    Row("segment_max_ties", lambda x: jax.ops.segment_max(x, SEG, 4), (SEG_TIES,)),
    Row("segment_min_ties", lambda x: jax.ops.segment_min(x, SEG, 4), (SEG_TIES,)),
]


def window_mul(window, strides, padding, base=None, dilation=None):
    return lambda x: lax.reduce_window(x, 1.0, lax.mul, window, strides, padding, base, dilation)


def window_logaddexp(window, strides, padding, base=None, dilation=None):
    return lambda x: lax.reduce_window(x, -jnp.inf, jnp.logaddexp, window, strides, padding, base, dilation)


WINDOW_ROWS = [
    Row("cumprod", jnp.cumprod, (X5,)),
    Row("cumprod_one_zero", jnp.cumprod, (with_zeros(X5, 2),)),
    Row("cumprod_two_zeros", jnp.cumprod, (with_zeros(X5, 1, 3),)),
    Row("cumprod_axis1_zeros", lambda x: jnp.cumprod(x, axis=1), (with_zeros(rand(4, 3, 5), 2, 7),)),
    Row("cumprod_reverse", lambda x: lax.cumprod(x, axis=0, reverse=True), (with_zeros(rand(5, 4, 2), 3),)),
    Row("window_mul_pairs", window_mul((2,), (1,), "VALID"), (X5,), ref=lambda x: x[:-1] * x[1:]),
    Row("window_mul_2d", window_mul((2, 2), (1, 2), [(1, 0), (0, 1)]), (with_zeros(rand(6, 3, 4), 5),), jax_reverse=False),
    Row("window_mul_dilated", window_mul((2, 2), (2, 1), [(1, 1), (0, 0)], (2, 1), (1, 2)), (rand(7, 3, 4),), jax_reverse=False),
    Row("cumlogsumexp", lax.cumlogsumexp, (X5,)),
    Row("cumlogsumexp_axis1_reverse", lambda x: lax.cumlogsumexp(x, axis=1, reverse=True), (rand(8, 3, 4, lo=-5, hi=5),)),
    Row("window_logaddexp_2d", window_logaddexp((2, 3), (1, 2), [(1, 0), (1, 1)]), (rand(9, 4, 5),), jax_reverse=False),
    Row("window_logaddexp_dilated", window_logaddexp((2, 2), (1, 1), [(0, 1), (0, 0)], (2, 1), (1, 2)), (rand(10, 3, 5),), jax_reverse=False),
]


REDUCE_ROWS = [
    Row("reduce_mul_active_init", lambda x, c: lax.reduce(x, c, lax.mul, (0,)), (X5, np.float64(1.7)), ref=lambda x, c: c * jnp.prod(x)),
    Row("reduce_mul_active_init_zero", lambda x, c: lax.reduce(x, c, lax.mul, (0,)), (with_zeros(X5, 3), np.float64(-0.6)), ref=lambda x, c: c * jnp.prod(x)),
    Row("reduce_mul_active_init_two_zeros", lambda x, c: lax.reduce(x, c, lax.mul, (0,)), (with_zeros(X5, 0, 3), np.float64(2.5)), ref=lambda x, c: c * jnp.prod(x)),
    Row(
        "reduce_mul_init_from_x",
        lambda x: lax.reduce(x, x[0, 1], lax.mul, (1,)),
        (with_zeros(rand(11, 3, 4), 6),),
        ref=lambda x: x[0, 1] * jnp.prod(x, axis=1),
    ),
    Row("reduce_mul_constant_init", lambda x: lax.reduce(x, 2.0, lax.mul, (0,)), (rand(12, 4, 3),), ref=lambda x: 2.0 * jnp.prod(x, axis=0)),
    Row("prod", lambda x: jnp.prod(x, axis=0), (with_zeros(rand(13, 4, 3), 0, 3, 4),)),
]


SORT_ROWS = [
    Row("median_odd", jnp.median, (X5,)),
    Row("median_even", jnp.median, (rand(14, 6),)),
    Row("median_axis", lambda x: jnp.median(x, axis=1), (rand(15, 3, 4),)),
    Row("quantile", lambda x: jnp.quantile(x, jnp.array([0.1, 0.5, 0.85])), (rand(16, 7),)),
    Row("quantile_axis_midpoint", lambda x: jnp.quantile(x, 0.3, axis=0, method="midpoint"), (rand(17, 5, 3),)),
    Row("percentile", lambda x: jnp.percentile(x, jnp.array([25.0, 60.0])), (rand(18, 6),)),
    Row("nanmedian", jnp.nanmedian, (rand(19, 5),)),
    Row("sort_of_cumsum_product", lambda x: jnp.sort(x * jnp.cumsum(x)), (X5,)),
]

ROWS = SCATTER_ROWS + WINDOW_ROWS + REDUCE_ROWS + SORT_ROWS


def seeded_like(tree, seed: int):
    rs = np.random.RandomState(seed)
    return jax.tree_util.tree_map(lambda v: rs.randn(*np.shape(v)), tree)


def jax_vjp(row: Row, ct) -> tuple:
    """J^T ct by jax: its reverse mode, or one jax.jvp per input element (jax.jacfwd
    cannot batch the jvp of a generic reduce_window)."""
    if row.jax_reverse:
        return jax.jit(lambda inputs, ct: jax.vjp(row.reference, *inputs)[1](ct))(row.inputs, ct)
    inputs = row.inputs
    tangent_of = jax.jit(lambda inputs, tangents: jax.jvp(row.reference, inputs, tangents)[1])  # compiled once, run per element
    cts = []
    for k, a in enumerate(inputs):
        column = np.zeros(a.size)
        for i in range(a.size):
            tangents = [jnp.zeros_like(b) for b in inputs]
            tangents[k] = jnp.zeros(a.size).at[i].set(1.0).reshape(a.shape)
            t = tangent_of(inputs, tuple(tangents))
            column[i] = float(jnp.sum(t * ct))
        cts.append(column.reshape(a.shape))
    return tuple(cts)


@pytest.mark.parametrize("row", ROWS, ids=repr)
def test_vjp(row: Row, monkeypatch: pytest.MonkeyPatch) -> None:
    if not row.optimize:
        monkeypatch.setenv("ZYMASE_OPT", "0")
    out, pullback = zymase.vjp(row.fn, *row.inputs)
    close(out, row.reference(*row.inputs), f"{row.name} primal")
    ct = seeded_like(out, 1)
    close(pullback(ct), jax_vjp(row, ct), f"{row.name} vjp")


@pytest.mark.parametrize("row", ROWS, ids=repr)
def test_grad(row: Row, monkeypatch: pytest.MonkeyPatch) -> None:
    if not row.optimize:
        monkeypatch.setenv("ZYMASE_OPT", "0")
    weights = seeded_like(jax.eval_shape(row.fn, *row.inputs), 2)

    def loss(f):
        return lambda *args: jnp.sum(f(*args) * weights)

    argnums = tuple(range(len(row.inputs)))
    got = zymase.grad(loss(row.fn), argnums=argnums)(*row.inputs)
    want = jax.jit(jax.grad(loss(row.reference), argnums=argnums))(*row.inputs) if row.jax_reverse else jax_vjp(row, weights)
    close(got, want, f"{row.name} grad")


@pytest.mark.parametrize("row", ROWS, ids=repr)
def test_jvp(row: Row, monkeypatch: pytest.MonkeyPatch) -> None:
    if not row.optimize:
        monkeypatch.setenv("ZYMASE_OPT", "0")
    tangents = seeded_like(row.inputs, 3)
    got_out, got_t = zymase.jvp(row.fn, row.inputs, tangents)
    want_out, want_t = jax.jit(lambda xs, ts: jax.jvp(row.reference, xs, ts))(row.inputs, tangents)
    close(got_out, want_out, f"{row.name} jvp primal")
    close(got_t, want_t, f"{row.name} jvp tangent")


# ============================================================================ second derivatives

HESSIAN_ROWS = [
    Row("cumprod_two_zeros", lambda x: jnp.sum(jnp.cumprod(x) * np.arange(1.0, 6.0)), (with_zeros(X5, 1, 3),)),
    Row(
        "segment_prod_zeros",
        lambda x: jnp.sum(jax.ops.segment_prod(x, SEG, 4) * np.arange(1.0, 5.0)),
        (with_zeros(rand(20, 6), 0, 1),),
        ref=lambda x: jnp.sum(segment_products(x, SEG, 4) * np.arange(1.0, 5.0)),
    ),
    Row("cumlogsumexp", lambda x: jnp.sum(lax.cumlogsumexp(x) * np.arange(1.0, 6.0)), (X5,)),
    Row("at_max_ties", lambda x: jnp.sum(x.at[IDX].max(x[::-1] * x) * np.arange(1.0, 6.0)), (TIES,)),
    Row(
        "reduce_mul_init_from_x",
        lambda x: jnp.sum(lax.reduce(x, x[1], lax.mul, (0,)) ** 2),
        (with_zeros(X5, 3),),
        ref=lambda x: jnp.sum((x[1] * jnp.prod(x)) ** 2),
    ),
    Row("median", lambda x: jnp.median(x * x), (X5,)),
]


@pytest.mark.parametrize("row", HESSIAN_ROWS, ids=repr)
def test_hessian(row: Row) -> None:
    close(zymase.hessian(row.fn)(*row.inputs), jax.jit(jax.hessian(row.reference))(*row.inputs), f"{row.name} hessian")


# ============================================================================ special cases


def test_reduce_mul_active_init_batched_forward() -> None:
    """Width-2 forward mode (tangents with a leading direction dimension) of a product
    reduction with an active init value."""

    def f(x, c):
        return lax.reduce(x, c, lax.mul, (1,))

    def ref(x, c):
        return c * jnp.prod(x, axis=1)

    x, c = with_zeros(rand(21, 3, 4), 5), np.float64(1.3)
    tx, tc = rand(22, 2, 3, 4), rand(23, 2)
    (t,) = zymase.fwddiff(f, ["enzyme_dup", "enzyme_dup"], ["enzyme_dupnoneed"], width=2)(x, tx, c, tc)
    want = np.stack([jax.jvp(ref, (x, c), (tx[k], tc[k]))[1] for k in range(2)])
    close(t, want, "width-2 tangent")


def test_reduce_mul_active_init_large_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """Groups above EXACT_PRODUCT_GROUP take the divided partials; the init value still
    scales them once."""
    from zymase.ad.rules import control

    monkeypatch.setattr(control, "EXACT_PRODUCT_GROUP", 2)

    def f(x):
        return jnp.sum(lax.reduce(x, x[0, 0], lax.mul, (0,)) * np.arange(1.0, 4.0))

    def ref(x):
        return jnp.sum(x[0, 0] * jnp.prod(x, axis=0) * np.arange(1.0, 4.0))

    x = rand(24, 5, 3)
    x[2, 1] = 0.0
    x[1, 2] = x[3, 2] = 0.0
    close(zymase.grad(f)(x), jax.grad(ref)(x), "grad")
    t = rand(25, 5, 3)
    close(zymase.jvp(f, (x,), (t,)), jax.jvp(ref, (x,), (t,)), "jvp")


def test_dropped_add_update_has_no_cotangent() -> None:
    """An update whose index is negative is dropped: its cotangent is zero (it used to
    pick up the cotangent of element 0, where its clamped index points)."""

    def f(x, u):
        return jnp.sum(x.at[np.array([-9, 1])].add(u, mode="drop") * np.arange(1.0, 6.0))

    got = zymase.grad(f, argnums=(0, 1))(X5, np.array([2.0, 3.0]))
    close(got, jax.grad(f, argnums=(0, 1))(X5, np.array([2.0, 3.0])), "grad")
    assert float(got[1][0]) == 0.0


@pytest.mark.parametrize(
    "fn, message",
    [
        (lambda x: lax.reduce_window(x, 2.0, lax.mul, (2,), (1,), "VALID"), r"'stablehlo\.reduce_window' at .*init value 1\.0"),
        (lambda x: lax.reduce_window(x, 0.0, jnp.logaddexp, (2,), (1,), "VALID"), r"'stablehlo\.reduce_window' at .*init value -inf"),
        (lambda x: lax.reduce_window(x, 1.0, lambda a, b: a * b + a, (2,), (1,), "VALID"), r"'stablehlo\.reduce_window' at .*bodies"),
        (lambda x: lax.reduce_window(x, x[0], lax.mul, (2,), (1,), "VALID"), r"'stablehlo\.reduce_window' at .*init value"),
    ],
    ids=["mul_init_2", "logaddexp_init_0", "other_body", "active_init"],
)
def test_unsupported_windows_raise(fn, message: str) -> None:
    with pytest.raises(DiffError, match=message):
        zymase.grad(lambda x: jnp.sum(fn(x)))(X5)
    with pytest.raises(DiffError, match=message):
        zymase.jvp(fn, (X5,), (X5,))


def test_sort_comparator_reads_the_derivative_functions_values() -> None:
    """CSE merges the sort comparator's constants with equal ones outside the sort (its
    region is not isolated from above); the sort rule's copy of the comparator must read
    the derivative function's copy of them. Both pipelines verify the module."""
    import os

    def f(x):
        return jnp.sum(jnp.sort(x * jnp.cumsum(x)) * np.arange(1.0, 6.0))

    old = os.environ.get("ZYMASE_OPT")
    try:
        for setting in ("1", "0"):
            os.environ["ZYMASE_OPT"] = setting
            program = zymase.grad(f).lower(X5)
            program.module.verify()
            close(zymase.grad(f)(X5 + float(setting)), jax.grad(f)(X5 + float(setting)), f"grad, ZYMASE_OPT={setting}")
    finally:
        if old is None:
            os.environ.pop("ZYMASE_OPT", None)
        else:
            os.environ["ZYMASE_OPT"] = old
