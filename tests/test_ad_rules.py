"""The derivative-rule table: one row per differentiable op of the dialects (stablehlo,
chlo, arith/math float ops), each a tiny program with an input domain.

Forward mode is checked against central finite differences (a fourth-order stencil) in
float64; reverse mode by the dot-product test <J v, w> = <v, J^T w> with random v, w.
JAX rows are lowered by zymase from a JAX function; arith/math rows are hand-written MLIR
differentiated through an enzyme.fwddiff / enzyme.autodiff op.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import os
import zlib
import pytest
from jax import lax
from jax.experimental import io_callback

import zymase
from zymase.ad.engine import DiffError

from zymase.api import run_ad_pipeline
from zymase.backend import build_function
from zymase.ir.enzyme import ACTIVE, ACTIVENONEED, DUP, AutoDiffOp, ForwardDiffOp, add_diff_func
from zymase.loader import parse_located

FD_TOL = 1e-8
SEED = int(os.environ.get("ZYMASE_TEST_SEED", "0"))
DOT_TOL = 1e-10


pytestmark = pytest.mark.usefixtures("x64")


# ============================================================================ checks


def _is_float(x: Any) -> bool:
    return np.issubdtype(np.asarray(x).dtype, np.floating)


def _fd(f: Callable, args: list, v: list, h: float) -> list:
    """Fourth-order central difference of f along v."""

    def at(t: float) -> list:
        moved = [a + t * d if d is not None else a for a, d in zip(args, v)]
        return [np.asarray(o, np.float64) for o in jax.tree_util.tree_leaves(f(*moved))]

    p2, p1, m1, m2 = at(2 * h), at(h), at(-h), at(-2 * h)
    return [(-a + 8 * b - 8 * c + d) / (12 * h) for a, b, c, d in zip(p2, p1, m1, m2)]


def _close(got: np.ndarray, want: np.ndarray, tol: float, what: str) -> None:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    err = float(np.max(np.abs(got - want), initial=0.0))
    assert err <= tol * scale, f"{what}: max error {err:.3g} (scale {scale:.3g})\ngot  {got}\nwant {want}"


def check(f: Callable, args: list, h: float = 1e-3, fd_tol: float = FD_TOL, seed: int = 0) -> None:
    """A JAX function: zymase.jvp against finite differences, zymase.vjp by the
    dot-product test."""

    def jvp(xs: list, ts: list) -> tuple[list, list]:
        out, t_out = zymase.jvp(f, xs, ts)
        return jax.tree_util.tree_leaves(out), jax.tree_util.tree_leaves(t_out)

    def vjp(xs: list, ws: list) -> list:
        out, pullback = zymase.vjp(f, *xs)
        return list(pullback(jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(out), ws)))

    jitted = jax.jit(f)

    def primal(*xs: Any) -> list:
        return jax.tree_util.tree_leaves(jitted(*[jnp.asarray(x) for x in xs]))

    check_modes(primal, jvp, vjp, args, h, fd_tol, seed)


def check_modes(primal: Callable, jvp: Callable, vjp: Callable, args: list, h: float, fd_tol: float, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    args = [np.asarray(a) for a in args]
    v = [rng.standard_normal(a.shape) if _is_float(a) else None for a in args]
    # integer arguments take float0 tangents (jax's rule, which zymase.jvp checks)
    tangents = [d.astype(a.dtype) if d is not None else np.zeros(a.shape, jax.dtypes.float0) for a, d in zip(args, v)]
    outs, t_leaves = jvp(args, tangents)
    for got, want in zip(outs, primal(*args)):
        _close(got, want, 1e-12, "primal")
    float_out = [i for i, o in enumerate(outs) if _is_float(o)]
    fd = _fd(primal, args, v, h)
    for i in float_out:
        _close(t_leaves[i], fd[i], fd_tol, f"forward mode, output {i}")
    # reverse: <J v, w> = <v, J^T w>
    w = [rng.standard_normal(np.shape(o)).astype(np.asarray(o).dtype) if _is_float(o) else np.zeros(np.shape(o), jax.dtypes.float0) for o in outs]
    cts = vjp(args, w)
    lhs = sum(float(np.sum(np.asarray(t_leaves[i], np.float64) * w[i])) for i in float_out)
    rhs = sum(float(np.sum(d * np.asarray(c, np.float64))) for d, c in zip(v, cts) if d is not None)
    scale = max(1.0, abs(lhs), abs(rhs))
    assert abs(lhs - rhs) <= max(DOT_TOL, fd_tol) * scale, f"dot-product test: <Jv, w> = {lhs!r}, <v, J^T w> = {rhs!r}"


# ============================================================================ hand-written MLIR


def _entry(text: str, cls: type, arg_kinds: list, ret_kinds: list) -> Callable:
    """``@entry`` calling enzyme.fwddiff / enzyme.autodiff on ``@f``, differentiated and
    emitted; it takes and returns the enzyme op's operands and results."""
    module = parse_located(text, "<rule-table>")
    add_diff_func(module, "entry", cls, "f", arg_kinds, ret_kinds)
    run_ad_pipeline(module)
    return build_function(module, "entry")


def check_mlir(text: str, args: list, h: float = 1e-3, fd_tol: float = FD_TOL, seed: int = 0) -> None:
    """A hand-written ``func.func @f`` (all arguments float, every result float): forward
    mode by enzyme.fwddiff, reverse by enzyme.autodiff."""
    primal_fn = zymase.load_mlir(text).f
    n_out = len(jax.tree_util.tree_leaves(primal_fn(*args)))
    fwd = _entry(text, ForwardDiffOp, [DUP] * len(args), [DUP] * n_out)
    rev = _entry(text, AutoDiffOp, [ACTIVE] * len(args), [ACTIVENONEED] * n_out)

    def primal(*xs: Any) -> list:
        return jax.tree_util.tree_leaves(primal_fn(*[np.asarray(x, np.asarray(a).dtype) for x, a in zip(xs, args)]))

    def jvp(xs: list, ts: list) -> tuple[list, list]:
        flat = [v for pair in zip(xs, ts) for v in pair]
        res = list(fwd(*flat))
        return res[0::2], res[1::2]

    def vjp(xs: list, ws: list) -> list:
        return list(rev(*xs, *ws))

    check_modes(primal, jvp, vjp, args, h, fd_tol, seed)


# ============================================================================ rows


@dataclass
class Row:
    name: str
    f: Callable
    args: Callable[[np.random.Generator], list]
    h: float = 1e-3
    tol: float = FD_TOL
    marks: list = field(default_factory=list)


def normal(*shape: int, lo: float | None = None, hi: float | None = None) -> Callable[[np.random.Generator], np.ndarray]:
    def make(rng: np.random.Generator) -> np.ndarray:
        if lo is not None:
            return rng.uniform(lo, hi, shape)
        return rng.standard_normal(shape)

    return make


def distinct(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    """Values at least 0.1 apart (shuffled), so that max/min/sort choices are far from
    ties and finite differences do not cross a kink."""

    def make(rng: np.random.Generator) -> np.ndarray:
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.1 - 0.05 * n + rng.uniform(0, 0.02, n)).reshape(shape)

    return make


def args(*makers: Any) -> Callable[[np.random.Generator], list]:
    return lambda rng: [m(rng) if callable(m) else np.asarray(m) for m in makers]


def unary(name: str, fn: Callable, lo: float = -2.0, hi: float = 2.0, **kw: Any) -> Row:
    return Row(name, fn, args(normal(3, 2, lo=lo, hi=hi)), **kw)


def binary(name: str, fn: Callable, lo: float = -2.0, hi: float = 2.0, lo2: float | None = None, hi2: float | None = None, **kw: Any) -> Row:
    lo2 = lo if lo2 is None else lo2
    hi2 = hi if hi2 is None else hi2
    return Row(name, fn, args(normal(3, 2, lo=lo, hi=hi), normal(3, 2, lo=lo2, hi=hi2)), **kw)


def conv(lhs_shape, rhs_shape, **kw: Any) -> tuple[Callable, Callable]:
    def f(x, w):
        return lax.conv_general_dilated(x, w, **kw)

    return f, args(normal(*lhs_shape), normal(*rhs_shape))


def _counted_loop(x, y):
    def body(i, c):
        a, b = c
        return (a * jnp.sin(b) + 0.1 * i, b + a * 0.5)

    return lax.fori_loop(0, 4, body, (x, y))


def _sort_scatter_loop(x, u):
    def body(i, c):
        return jnp.sort(c * 1.1, axis=0).at[jnp.array([0, 2])].add(u * c[1])

    return lax.fori_loop(0, 3, body, x)


def _cond(p, x, y):
    return lax.cond(p > 0, lambda a, b: jnp.sin(a) * b, lambda a, b: a - jnp.exp(b), x, y)


def _case(i, x):
    return lax.switch(i, [lambda a: a * a, lambda a: jnp.cos(a), lambda a: a * 3.0], x)


def _argmax_value(x, y):
    i = jnp.argmax(x, axis=1)
    return jnp.take_along_axis(y, i[:, None], axis=1)[:, 0] * jnp.max(x, axis=1)


def _max_pool(x):
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 1, 1), ((0, 0), (1, 0), (0, 1), (0, 0)))


def _min_pool(x):
    return lax.reduce_window(x, jnp.inf, lax.min, (2, 3), (1, 2), "SAME")


def _max_pool_init0(x):
    return lax.reduce_window(x, 0.0, lax.max, (2, 2), (1, 1), "VALID")


def _avg_pool(x):
    return lax.reduce_window(x, 0.0, lax.add, (2, 3), (2, 1), ((1, 0), (1, 2)))


def _sum_window_dilated(x):
    return lax.reduce_window(x, 0.0, lax.add, (2, 2), (1, 2), ((0, 1), (2, 0)), base_dilation=(2, 1), window_dilation=(1, 2))


def _max_window_dilated(x):
    return lax.reduce_window(x, -jnp.inf, lax.max, (2, 2), (1, 1), "VALID", window_dilation=(2, 1))


def _select_and_scatter(x, s):
    # the transpose of a max-pool, as JAX emits it (stablehlo.select_and_scatter)
    _, pull = jax.vjp(lambda y: lax.reduce_window(y, -jnp.inf, lax.max, (2, 2), (2, 1), "VALID"), lax.stop_gradient(x))
    return pull(s)[0] * x


def _sort_two(x, y):
    a, b = lax.sort((x, y), dimension=1, num_keys=1)
    return a * 2.0, b


def _sort_keys(k, y):
    _, b = lax.sort((k, y), dimension=0, num_keys=1)
    return b


def _top_k(x):
    v, i = lax.top_k(x, 3)
    return v


def _spd(rng: np.random.Generator) -> np.ndarray:
    a = rng.standard_normal((2, 3, 3))
    return a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)


def _cholesky(a):
    return lax.linalg.cholesky(a, symmetrize_input=False)


def _tri(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((3, 3)) + 4 * np.eye(3)


def _solve(**kw: Any) -> Callable:
    return lambda a, b: lax.linalg.triangular_solve(a, b, **kw)


IDX = np.array([[2], [0], [5], [-1], [1]], np.int32)  # out of range: 5 and -1 are clamped by gather

def _well_conditioned(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((3, 3)) + 4.0 * np.eye(3)


def _spd(rng: np.random.Generator) -> np.ndarray:
    a = rng.standard_normal((3, 3))
    return a @ a.T + 3.0 * np.eye(3)


def _spread_spectrum(rng: np.random.Generator) -> np.ndarray:
    """A symmetric matrix with eigenvalues 1, 3, 6 (distinct: eigenvectors are smooth)."""
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    return q @ np.diag([1.0, 3.0, 6.0]) @ q.T


def _sym(a):
    return (a + a.T) / 2


def _sharding_constraint(x):
    mesh = jax.make_mesh((1,), ("x",), axis_types=(jax.sharding.AxisType.Auto,))
    return jnp.sin(jax.lax.with_sharding_constraint(x * x, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("x"))))


ROWS: list[Row] = [
    # ------------------------------------------------------------ stablehlo elementwise
    unary("abs", jnp.abs),
    unary("negate", lambda x: -x),
    unary("exponential", jnp.exp),
    unary("exponential_minus_one", jnp.expm1),
    unary("log", jnp.log, 0.5, 3.0),
    unary("log_plus_one", jnp.log1p, -0.5, 3.0),
    unary("sqrt", jnp.sqrt, 0.5, 3.0),
    unary("rsqrt", lax.rsqrt, 0.5, 3.0),
    unary("cbrt", jnp.cbrt, 0.5, 3.0),
    unary("sine", jnp.sin),
    unary("cosine", jnp.cos),
    unary("tan", jnp.tan, -1.0, 1.0),
    unary("tanh", jnp.tanh),
    unary("convert", lambda x: x.astype(jnp.float32).astype(jnp.float64) * 0 + x),
    binary("add", jnp.add),
    binary("subtract", jnp.subtract),
    binary("multiply", jnp.multiply),
    Row("multiply_same_operand", lambda x: x * x, args(normal(4))),
    binary("divide", jnp.divide, lo2=0.5, hi2=2.0),
    Row("maximum", jnp.maximum, args(distinct(3, 2), lambda rng: distinct(3, 2)(rng) + 0.05)),
    Row("minimum", jnp.minimum, args(distinct(3, 2), lambda rng: distinct(3, 2)(rng) + 0.05)),
    binary("power", lax.pow, 0.5, 2.0),
    binary("remainder", jnp.fmod, 1.0, 5.0, 0.6, 0.9),
    binary("atan2", jnp.arctan2, 0.5, 2.0),
    Row("select", lambda p, x, y: jnp.where(p > 0, x, y), args(normal(3, 2), normal(3, 2), normal(3, 2))),
    # lo < hi (with lo > hi clamp returns hi, where JAX's convention gives no derivative)
    Row("clamp", lambda lo, x, hi: lax.clamp(lo, x, hi), args(normal(3, 4, lo=-2, hi=-0.2), normal(3, 4, lo=-3, hi=3), normal(3, 4, lo=0.2, hi=2))),
    Row("clamp_scalar_bounds", lambda lo, x, hi: lax.clamp(lo, x, hi), args(-0.5, normal(3, 4), 0.5)),
    # ------------------------------------------------------------ complex values (real in and out; against JAX: tests/test_complex_fft.py)
    Row("complex_real_imag", lambda x, y: (jnp.real(lax.complex(x, y) ** 2), jnp.imag(lax.complex(x, y) * lax.complex(y, x))), args(normal(3, 2), normal(3, 2))),
    Row("abs_complex", lambda x, y: jnp.abs(lax.complex(x, y)), args(normal(3, 2), normal(3, 2))),
    Row("fft_ifft", lambda x, y: (jnp.real(jnp.fft.fft(lax.complex(x, y))), jnp.imag(jnp.fft.ifft2(lax.complex(y, x)))), args(normal(3, 4), normal(3, 4))),
    Row("rfft_irfft", lambda x, y, w: (jnp.imag(jnp.fft.rfft2(x)), jnp.fft.irfft(lax.complex(y, w), n=6)), args(normal(3, 5), normal(4), normal(4))),
    # ------------------------------------------------------------ chlo
    unary("erf", lax.erf),
    unary("erfc", lax.erfc),
    unary("erf_inv", lax.erf_inv, -0.8, 0.8),
    unary("lgamma", lax.lgamma, 0.5, 4.0),
    unary("digamma", lax.digamma, 0.5, 4.0),
    unary("sinh", jnp.sinh),
    unary("cosh", jnp.cosh),
    unary("asin", jnp.arcsin, -0.8, 0.8),
    unary("acos", jnp.arccos, -0.8, 0.8),
    unary("atan", jnp.arctan),
    unary("asinh", jnp.arcsinh),
    unary("acosh", jnp.arccosh, 1.5, 3.0),
    unary("atanh", jnp.arctanh, -0.8, 0.8),
    unary("square", jnp.square),
    unary("bessel_i1e", lax.bessel_i1e, -5.0, 5.0),
    Row("polygamma", lambda x: lax.polygamma(jnp.full_like(x, 2.0), x), args(normal(3, 2, lo=0.5, hi=3.0))),
    Row("zeta", lambda q: lax.zeta(jnp.full_like(q, 3.0), q), args(normal(3, 2, lo=0.5, hi=3.0))),
    # ------------------------------------------------------------ shapes
    Row("broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (2, 3, 4), (1, 2)) * jnp.arange(24.0).reshape(2, 3, 4), args(normal(3, 1))),
    Row("reshape", lambda x: x.reshape(2, 3), args(normal(3, 2))),
    Row("transpose", lambda x: jnp.transpose(x, (2, 0, 1)), args(normal(2, 3, 4))),
    Row("reverse", lambda x: lax.rev(x, (0, 1)), args(normal(2, 3))),
    Row("slice", lambda x: x[1:5:2, ::3], args(normal(6, 7))),
    Row("pad", lambda x, v: lax.pad(x, v, ((1, 2, 1), (-1, 0, 0))), args(normal(3, 4), 0.7)),
    Row("concatenate", lambda x, y: jnp.concatenate([x, y, x], axis=1), args(normal(2, 3), normal(2, 1))),
    Row("dynamic_slice", lambda x, i: lax.dynamic_slice(x, (i, 1), (2, 2)), args(normal(4, 4), np.int64(1))),
    Row("dynamic_update_slice", lambda x, u, i: lax.dynamic_update_slice(x, u, (i, 0)), args(normal(4, 3), normal(2, 3), np.int64(1))),
    # ------------------------------------------------------------ contractions
    Row("dot_general", lambda x, y: x @ y, args(normal(3, 4), normal(4, 2))),
    Row(
        "dot_general_batch",
        lambda x, y: lax.dot_general(x, y, (((1,), (2,)), ((0,), (1,)))),
        args(normal(2, 3, 4), normal(5, 2, 3)),
    ),
    Row("convolution_1d", *conv((2, 3, 7), (4, 3, 3), window_strides=(1,), padding="VALID")),
    Row("convolution_2d_strided_padded", *conv((2, 2, 6, 5), (3, 2, 3, 2), window_strides=(2, 1), padding=((1, 2), (0, 1)))),
    Row(
        "convolution_dilated",
        *conv((1, 2, 6, 6), (2, 2, 2, 3), window_strides=(1, 2), padding=((2, 1), (1, 1)), lhs_dilation=(2, 1), rhs_dilation=(1, 2)),
    ),
    Row("convolution_feature_groups", *conv((2, 4, 6), (6, 2, 3), window_strides=(2,), padding=((1, 1),), feature_group_count=2)),
    Row(
        "convolution_nhwc",
        *conv((2, 5, 5, 3), (2, 2, 3, 4), window_strides=(1, 1), padding="SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")),
    ),
    # ------------------------------------------------------------ reductions and windows
    Row("reduce_sum", lambda x: jnp.sum(x, axis=(0, 2)), args(normal(2, 3, 4))),
    Row("reduce_max", lambda x: jnp.max(x, axis=1), args(distinct(3, 5))),
    Row("reduce_min", lambda x: jnp.min(x, axis=0), args(distinct(3, 5))),
    Row("reduce_product", lambda x: jnp.prod(x, axis=(0, 2)), args(normal(2, 3, 2))),
    Row("reduce_product_with_zero", lambda x: jnp.prod(x, axis=1), args(lambda rng: rng.standard_normal((3, 4)) * np.array([[1, 0, 1, 1]] * 2 + [[0, 1, 0, 1]]))),
    Row("reduce_argmax", _argmax_value, args(distinct(3, 5), normal(3, 5))),
    Row("reduce_window_max", _max_pool, args(distinct(2, 5, 4, 3))),
    Row("reduce_window_min_same", _min_pool, args(distinct(5, 6))),
    Row("reduce_window_max_init0", _max_pool_init0, args(distinct(4, 4))),
    Row("reduce_window_sum", _avg_pool, args(normal(5, 4))),
    Row("reduce_window_sum_dilated", _sum_window_dilated, args(normal(4, 6))),
    Row("select_and_scatter", _select_and_scatter, args(distinct(4, 3), normal(2, 2))),
    # ------------------------------------------------------------ gather / scatter / sort
    Row("gather_rows", lambda x, i: x[i] * 2.0, args(normal(4, 3), np.array([2, 0, 3, 2]))),
    Row(
        "gather_clamped",
        lambda x, i: lax.gather(
            x, i, lax.GatherDimensionNumbers(offset_dims=(1, 2), collapsed_slice_dims=(), start_index_map=(0,)), (2, 3), mode="clip"
        ),
        args(normal(5, 3), IDX),
    ),
    Row("gather_take_along", lambda x, i: jnp.take_along_axis(x, i, axis=1), args(normal(3, 4), np.array([[0, 3], [1, 1], [2, 0]]))),
    Row("scatter_add", lambda x, u: x.at[jnp.array([0, 2, 2])].add(u), args(normal(3, 2), normal(3, 2))),
    Row(
        "scatter_add_dropped",
        lambda x, u: x.at[jnp.array([0, 3, 1, 2])].add(u, mode="drop"),
        args(normal(3, 2), normal(4, 2)),
    ),
    Row(
        "scatter_add_window",
        lambda x, u: lax.scatter_add(
            x,
            jnp.array([[0], [2], [3]]),
            u,
            lax.ScatterDimensionNumbers(update_window_dims=(1, 2), inserted_window_dims=(), scatter_dims_to_operand_dims=(0,)),
            mode="drop",
        ),
        args(normal(4, 3), normal(3, 2, 3)),
    ),
    Row("scatter_set", lambda x, u: x.at[jnp.array([1, 3, 1])].set(u), args(normal(4, 2), normal(3, 2))),
    Row("scatter_set_unique", lambda x, u: x.at[1:3].set(u * u), args(normal(4, 2), normal(2, 2))),
    Row("sort", lambda x: jnp.sort(x, axis=0), args(distinct(4, 3))),
    Row("sort_two_operands", _sort_two, args(distinct(3, 5), normal(3, 5))),
    Row("sort_int_keys", _sort_keys, args(np.array([[3, 1], [1, 0], [2, 3], [0, 2]]), normal(4, 2))),
    Row("top_k", _top_k, args(distinct(2, 6))),
    # ------------------------------------------------------------ control flow
    Row("while_counted", _counted_loop, args(normal(3), normal(3))),
    Row("while_sort_scatter", _sort_scatter_loop, args(distinct(4, 2), normal(2, 2))),
    Row("if", _cond, args(1.0, normal(3), normal(3))),
    Row("if_false", _cond, args(-1.0, normal(3), normal(3))),
    Row("case", _case, args(np.int32(1), normal(3))),
    Row("optimization_barrier", lambda x: lax.optimization_barrier(x * 2.0) * x, args(normal(3))),
    Row("reduce_precision", lambda x: lax.reduce_precision(x, 11, 52) * x, args(normal(3))),
    # ------------------------------------------------------------ host callbacks, sharding
    # (a callback of a value that does not depend on x is inactive; with an active input
    # both modes refuse, tested in test_callbacks.py)
    Row("pure_callback_inactive", lambda x: x * jax.pure_callback(np.cos, jax.ShapeDtypeStruct((3,), np.float64), jnp.array([0.5, 1.0, 2.0])), args(normal(3))),
    Row("io_callback_inactive", lambda x: x * io_callback(np.cos, jax.ShapeDtypeStruct((3,), np.float64), jnp.array([0.5, 1.0, 2.0])), args(normal(3))),
    Row("sharding_constraint", _sharding_constraint, args(normal(4))),
    # ------------------------------------------------------------ linear algebra (matrix dialect)
    Row("matrix_cholesky", lambda a: jnp.linalg.cholesky(_sym(a)), args(_spd)),
    Row("matrix_triangular_solve", lambda a, b: jax.scipy.linalg.solve_triangular(a, b, lower=True), args(_well_conditioned, normal(3, 2))),
    Row("matrix_lu_solve", lambda a, b: jnp.linalg.solve(a, b), args(_well_conditioned, normal(3, 2))),
    Row("matrix_eigh", lambda a: jnp.linalg.eigvalsh(_sym(a)), args(_spread_spectrum)),
    Row("matrix_svd", lambda a: jnp.linalg.svd(a, compute_uv=False), args(_spread_spectrum)),
    Row("matrix_qr", lambda a: jnp.linalg.qr(a)[1], args(_well_conditioned)),
    Row("matrix_tridiagonal_solve", lambda d, b: lax.linalg.tridiagonal_solve(d[0] * 0.5, d[1] + 4.0, d[2] * 0.5, b), args(normal(3, 3), normal(3, 2))),
]


@pytest.mark.parametrize("row", [pytest.param(r, id=r.name, marks=r.marks) for r in ROWS])
def test_rule(row: Row) -> None:
    rng = np.random.default_rng(zlib.crc32(row.name.encode()) + SEED)
    check(row.f, row.args(rng), h=row.h, fd_tol=row.tol)


# ============================================================================ MLIR rows (arith, math, and ops JAX lowers to library calls)


def _scalar_unary(op: str) -> str:
    return f"""
func.func @f(%x: f64) -> f64 {{
  %r = {op} %x : f64
  func.return %r : f64
}}
"""


def _scalar_binary(op: str) -> str:
    return f"""
func.func @f(%x: f64, %y: f64) -> f64 {{
  %r = {op} %x, %y : f64
  func.return %r : f64
}}
"""


_SELECT = """
func.func @f(%x: f64, %y: f64) -> f64 {
  %c = arith.cmpf olt, %x, %y : f64
  %p = arith.mulf %x, %y : f64
  %r = arith.select %c, %p, %y : f64
  func.return %r : f64
}
"""

_EXT_TRUNC = """
func.func @f(%x: f64) -> f64 {
  %t = arith.truncf %x : f64 to f32
  %s = math.sin %t : f32
  %r = arith.extf %s : f32 to f64
  func.return %r : f64
}
"""

_CHOLESKY = """
func.func @f(%a: tensor<2x3x3xf64>) -> tensor<2x3x3xf64> {
  %r = "stablehlo.cholesky"(%a) <{lower = LOWER}> : (tensor<2x3x3xf64>) -> tensor<2x3x3xf64>
  func.return %r : tensor<2x3x3xf64>
}
"""


def _triangular_solve(left: bool, lower: bool, unit: bool, transpose: str, b_shape: str) -> str:
    flag = lambda v: "true" if v else "false"  # noqa: E731
    return f"""
func.func @f(%a: tensor<3x3xf64>, %b: tensor<{b_shape}xf64>) -> tensor<{b_shape}xf64> {{
  %r = "stablehlo.triangular_solve"(%a, %b) <{{left_side = {flag(left)}, lower = {flag(lower)}, unit_diagonal = {flag(unit)}, transpose_a = #stablehlo<transpose {transpose}>}}> : (tensor<3x3xf64>, tensor<{b_shape}xf64>) -> tensor<{b_shape}xf64>
  func.return %r : tensor<{b_shape}xf64>
}}
"""


def _if(pred: str) -> str:
    return f"""
func.func @f(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {{
  %p = "stablehlo.constant"() <{{value = dense<{pred}> : tensor<i1>}}> : () -> tensor<i1>
  %r = "stablehlo.if"(%p) ({{
    %a = "stablehlo.multiply"(%x, %y) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
    "stablehlo.return"(%a) : (tensor<3xf64>) -> ()
  }}, {{
    %b = "stablehlo.sine"(%y) : (tensor<3xf64>) -> tensor<3xf64>
    "stablehlo.return"(%b) : (tensor<3xf64>) -> ()
  }}) : (tensor<i1>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}}
"""


def _tensor_unary(name: str) -> str:
    """For ops JAX expands or renames (jax lowers lax.logistic to exp/divide, jnp.tan to
    stablehlo.tan)."""
    return f"""
func.func @f(%x: tensor<3xf64>) -> tensor<3xf64> {{
  %r = "{name}"(%x) : (tensor<3xf64>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}}
"""


def _vectors(n: int, lo: float = -1.0, hi: float = 1.0) -> Callable[[np.random.Generator], list]:
    return lambda rng: [rng.uniform(lo, hi, (3,)) for _ in range(n)]


def _spd_args(rng: np.random.Generator) -> list:
    a = rng.standard_normal((2, 3, 3))
    return [a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)]


def _tri_args(b_shape: tuple[int, ...]) -> Callable[[np.random.Generator], list]:
    return lambda rng: [rng.standard_normal((3, 3)) + 4 * np.eye(3), rng.standard_normal(b_shape)]


def _u(lo: float, hi: float, n: int = 1) -> Callable[[np.random.Generator], list]:
    return lambda rng: [np.float64(v) for v in rng.uniform(lo, hi, n)]


_CONJ = """
func.func @f(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %z = "stablehlo.complex"(%x, %y) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xcomplex<f64>>
  %c = "chlo.conj"(%z) : (tensor<3xcomplex<f64>>) -> tensor<3xcomplex<f64>>
  %e = "stablehlo.exponential"(%z) : (tensor<3xcomplex<f64>>) -> tensor<3xcomplex<f64>>
  %m = "stablehlo.multiply"(%c, %e) : (tensor<3xcomplex<f64>>, tensor<3xcomplex<f64>>) -> tensor<3xcomplex<f64>>
  %r = "stablehlo.imag"(%m) : (tensor<3xcomplex<f64>>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}
"""

_SPLAT = """
func.func @f(%x: f64) -> tensor<3xf64> {
  %s = tensor.splat %x : tensor<3xf64>
  %c = "stablehlo.constant"() <{value = dense<[1.0, 2.0, 3.0]> : tensor<3xf64>}> : () -> tensor<3xf64>
  %r = "stablehlo.multiply"(%s, %c) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}
"""

_EXTRACT = """
func.func @f(%x: tensor<f64>, %y: f64) -> f64 {
  %e = tensor.extract %x[] : tensor<f64>
  %s = math.sin %e : f64
  %r = arith.mulf %s, %y : f64
  func.return %r : f64
}
"""

_SCF_FOR = """
func.func @f(%x: f64, %y: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %y) -> (f64) {
    %s = math.sin %acc : f64
    %m = arith.mulf %s, %x : f64
    %n = arith.addf %m, %acc : f64
    scf.yield %n : f64
  }
  func.return %r : f64
}
"""

_SCF_IF = """
func.func @f(%x: f64, %y: f64) -> f64 {
  %zero = arith.constant 0.0 : f64
  %p = arith.cmpf ogt, %x, %zero : f64
  %r = scf.if %p -> (f64) {
    %a = arith.mulf %x, %y : f64
    %b = math.sin %a : f64
    scf.yield %b : f64
  } else {
    %c = arith.subf %y, %x : f64
    scf.yield %c : f64
  }
  func.return %r : f64
}
"""

_SCF_WHILE = """
func.func @f(%x: f64) -> f64 {
  %limit = arith.constant 10.0 : f64
  %r = scf.while (%v = %x) : (f64) -> f64 {
    %go = arith.cmpf olt, %v, %limit : f64
    scf.condition(%go) %v : f64
  } do {
  ^bb0(%w: f64):
    %t = math.exp %w : f64
    %n = arith.addf %w, %t : f64
    scf.yield %n : f64
  }
  func.return %r : f64
}
"""

_SUM = """({
      ^bb0(%p: tensor<f64>, %q: tensor<f64>):
        %pq = stablehlo.add %p, %q : tensor<f64>
        stablehlo.return %pq : tensor<f64>
      })"""
# shard_map over a one-device mesh: every collective is over one device (tests/test_sharding.py
# checks them on 8 devices against jax)
_MANUAL = f"""
sdy.mesh @mesh = <["x"=1]>
func.func @f(%x: tensor<2x4xf64>) -> tensor<2x4xf64> {{
  %0 = sdy.manual_computation(%x) in_shardings=[<@mesh, [{{"x"}}, {{}}]>] out_shardings=[<@mesh, [{{"x"}}, {{}}]>] manual_axes={{"x"}} (%a: tensor<2x4xf64>) {{
    %s = stablehlo.sine %a : tensor<2x4xf64>
    %1 = "stablehlo.all_reduce"(%s) <{{replica_groups = dense<[[0]]> : tensor<1x1xi64>, use_global_device_ids}}> {_SUM} : (tensor<2x4xf64>) -> tensor<2x4xf64>
    %2 = "stablehlo.all_gather"(%1) <{{all_gather_dim = 1 : i64, replica_groups = dense<[[0]]> : tensor<1x1xi64>, use_global_device_ids}}> : (tensor<2x4xf64>) -> tensor<2x4xf64>
    %m = stablehlo.multiply %2, %a : tensor<2x4xf64>
    %3 = "stablehlo.reduce_scatter"(%m) <{{scatter_dimension = 0 : i64, replica_groups = dense<[[0]]> : tensor<1x1xi64>, use_global_device_ids}}> {_SUM} : (tensor<2x4xf64>) -> tensor<2x4xf64>
    %4 = "stablehlo.all_to_all"(%3) <{{split_dimension = 1 : i64, concat_dimension = 0 : i64, split_count = 1 : i64, replica_groups = dense<[[0]]> : tensor<1x1xi64>}}> : (tensor<2x4xf64>) -> tensor<2x4xf64>
    %5 = "stablehlo.collective_permute"(%4) <{{source_target_pairs = dense<[[0, 0]]> : tensor<1x2xi64>}}> : (tensor<2x4xf64>) -> tensor<2x4xf64>
    %k = stablehlo.constant dense<2.0> : tensor<2x4xf64>
    %b = "stablehlo.collective_broadcast"(%k) <{{replica_groups = dense<[[0]]> : tensor<1x1xi64>}}> : (tensor<2x4xf64>) -> tensor<2x4xf64>
    %6 = stablehlo.multiply %5, %b : tensor<2x4xf64>
    sdy.return %6 : tensor<2x4xf64>
  }} : (tensor<2x4xf64>) -> tensor<2x4xf64>
  %c = sdy.sharding_constraint %0 <@mesh, [{{"x"}}, {{}}]> : tensor<2x4xf64>
  func.return %c : tensor<2x4xf64>
}}
"""

_COMPLEX_SCALAR = """
func.func @f(%x: f64, %y: f64) -> f64 {
  %z = complex.create %x, %y : complex<f64>
  %a = complex.mul %z, %z : complex<f64>
  %b = complex.div %a, %z : complex<f64>
  %c = complex.exp %b : complex<f64>
  %d = complex.log %c : complex<f64>
  %e = complex.sqrt %d : complex<f64>
  %g = complex.rsqrt %e : complex<f64>
  %h = complex.sin %g : complex<f64>
  %k = complex.cos %h : complex<f64>
  %l = complex.tanh %k : complex<f64>
  %m = complex.add %l, %z : complex<f64>
  %n = complex.sub %m, %a : complex<f64>
  %o = complex.neg %n : complex<f64>
  %p = complex.conj %o : complex<f64>
  %q = complex.mul %p, %z : complex<f64>
  %re = complex.re %q : complex<f64>
  %im = complex.im %q : complex<f64>
  %r = arith.addf %re, %im : f64
  func.return %r : f64
}
"""

MLIR_ROWS: list[tuple[str, str, Callable[[np.random.Generator], list], float]] = [
    ("complex scalars (the complex dialect)", _COMPLEX_SCALAR, _u(0.5, 1.5, 2), FD_TOL),
    ("scf.for", _SCF_FOR, _u(-1, 1, 2), FD_TOL),
    ("sdy.manual_computation", _MANUAL, lambda rng: [rng.uniform(-2, 2, (2, 4))], FD_TOL),
    ("scf.if", _SCF_IF, _u(0.5, 2, 2), FD_TOL),
    ("scf.if_else", _SCF_IF, lambda rng: [np.float64(-rng.uniform(0.5, 2)), np.float64(rng.uniform(-2, 2))], FD_TOL),
    ("arith.addf", _scalar_binary("arith.addf"), _u(-2, 2, 2), FD_TOL),
    ("arith.subf", _scalar_binary("arith.subf"), _u(-2, 2, 2), FD_TOL),
    ("arith.mulf", _scalar_binary("arith.mulf"), _u(-2, 2, 2), FD_TOL),
    ("arith.divf", _scalar_binary("arith.divf"), _u(0.5, 2, 2), FD_TOL),
    ("arith.maximumf", _scalar_binary("arith.maximumf"), _u(-2, 2, 2), FD_TOL),
    ("arith.minimumf", _scalar_binary("arith.minimumf"), _u(-2, 2, 2), FD_TOL),
    ("arith.maxnumf", _scalar_binary("arith.maxnumf"), _u(-2, 2, 2), FD_TOL),
    ("arith.minnumf", _scalar_binary("arith.minnumf"), _u(-2, 2, 2), FD_TOL),
    ("arith.negf", _scalar_unary("arith.negf"), _u(-2, 2), FD_TOL),
    ("tensor.splat", _SPLAT, _u(-2, 2), FD_TOL),
    ("tensor.extract", _EXTRACT, lambda rng: [np.asarray(rng.uniform(-2, 2)), np.float64(rng.uniform(-2, 2))], FD_TOL),
    ("arith.select", _SELECT, _u(-2, 2, 2), FD_TOL),
    ("arith.truncf_extf", _EXT_TRUNC, _u(-2, 2), 1e-3),
    ("math.exp", _scalar_unary("math.exp"), _u(-2, 2), FD_TOL),
    ("math.exp2", _scalar_unary("math.exp2"), _u(-2, 2), FD_TOL),
    ("math.expm1", _scalar_unary("math.expm1"), _u(-2, 2), FD_TOL),
    ("math.log", _scalar_unary("math.log"), _u(0.5, 3), FD_TOL),
    ("math.log2", _scalar_unary("math.log2"), _u(0.5, 3), FD_TOL),
    ("math.log10", _scalar_unary("math.log10"), _u(0.5, 3), FD_TOL),
    ("math.log1p", _scalar_unary("math.log1p"), _u(-0.5, 3), FD_TOL),
    ("math.sqrt", _scalar_unary("math.sqrt"), _u(0.5, 3), FD_TOL),
    ("math.rsqrt", _scalar_unary("math.rsqrt"), _u(0.5, 3), FD_TOL),
    ("math.cbrt", _scalar_unary("math.cbrt"), _u(0.5, 3), FD_TOL),
    ("math.erfc", _scalar_unary("math.erfc"), _u(-2, 2), FD_TOL),
    ("math.copysign", _scalar_binary("math.copysign"), _u(-2, 2, 2), FD_TOL),
    ("math.fma", "func.func @f(%x: f64, %y: f64, %z: f64) -> f64 {\n  %r = math.fma %x, %y, %z : f64\n  func.return %r : f64\n}\n", _u(-2, 2, 3), FD_TOL),
    ("math.powf", _scalar_binary("math.powf"), _u(0.5, 2, 2), FD_TOL),
    ("math.sin", _scalar_unary("math.sin"), _u(-2, 2), FD_TOL),
    ("math.cos", _scalar_unary("math.cos"), _u(-2, 2), FD_TOL),
    ("math.tan", _scalar_unary("math.tan"), _u(-1, 1), FD_TOL),
    ("math.tanh", _scalar_unary("math.tanh"), _u(-2, 2), FD_TOL),
    ("math.atan2", _scalar_binary("math.atan2"), _u(0.5, 2, 2), FD_TOL),
    ("math.sinh", _scalar_unary("math.sinh"), _u(-2, 2), FD_TOL),
    ("math.cosh", _scalar_unary("math.cosh"), _u(-2, 2), FD_TOL),
    ("math.asin", _scalar_unary("math.asin"), _u(-0.8, 0.8), FD_TOL),
    ("math.acos", _scalar_unary("math.acos"), _u(-0.8, 0.8), FD_TOL),
    ("math.atan", _scalar_unary("math.atan"), _u(-2, 2), FD_TOL),
    ("math.asinh", _scalar_unary("math.asinh"), _u(-2, 2), FD_TOL),
    ("math.acosh", _scalar_unary("math.acosh"), _u(1.5, 3), FD_TOL),
    ("math.atanh", _scalar_unary("math.atanh"), _u(-0.8, 0.8), FD_TOL),
    ("math.erf", _scalar_unary("math.erf"), _u(-2, 2), FD_TOL),
    ("math.absf", _scalar_unary("math.absf"), _u(0.2, 2), FD_TOL),
    ("chlo.tan", _tensor_unary("chlo.tan"), _vectors(1), FD_TOL),
    ("chlo.conj", _CONJ, _vectors(2), FD_TOL),
    ("stablehlo.logistic", _tensor_unary("stablehlo.logistic"), _vectors(1, -3.0, 3.0), FD_TOL),
    ("stablehlo.if_true", _if("true"), _vectors(2), FD_TOL),
    ("stablehlo.if_false", _if("false"), _vectors(2), FD_TOL),
    ("stablehlo.cholesky_lower", _CHOLESKY.replace("LOWER", "true"), _spd_args, 1e-7),
    ("stablehlo.cholesky_upper", _CHOLESKY.replace("LOWER", "false"), _spd_args, 1e-7),
    ("stablehlo.triangular_solve_left_lower", _triangular_solve(True, True, False, "NO_TRANSPOSE", "3x2"), _tri_args((3, 2)), FD_TOL),
    ("stablehlo.triangular_solve_right_upper_t", _triangular_solve(False, False, False, "TRANSPOSE", "2x3"), _tri_args((2, 3)), FD_TOL),
    ("stablehlo.triangular_solve_left_upper_unit", _triangular_solve(True, False, True, "ADJOINT", "3x2"), _tri_args((3, 2)), FD_TOL),
    ("stablehlo.triangular_solve_right_lower", _triangular_solve(False, True, False, "NO_TRANSPOSE", "2x3"), _tri_args((2, 3)), FD_TOL),
]


@pytest.mark.parametrize("name, text, make_args, tol", MLIR_ROWS, ids=[r[0] for r in MLIR_ROWS])
def test_mlir_rule(name: str, text: str, make_args: Callable, tol: float) -> None:
    rng = np.random.default_rng(zlib.crc32(name.encode()) + SEED)
    check_mlir(text, make_args(rng), fd_tol=tol)


def test_scf_while_forward_and_reverse_mode() -> None:
    """scf.while: forward mode through the loop (checked against finite differences);
    reverse mode (checkpointed, the trip count found at run time) gives the same derivative."""
    x = np.float64(0.3)
    primal = zymase.load_mlir(_SCF_WHILE).f
    fwd = _entry(_SCF_WHILE, ForwardDiffOp, [DUP], [DUP])
    _, t = fwd(x, np.float64(1.0))
    h = 1e-6
    fd = (float(primal(x + h)) - float(primal(x - h))) / (2 * h)
    np.testing.assert_allclose(float(t), fd, rtol=1e-6)
    rev = _entry(_SCF_WHILE, AutoDiffOp, [ACTIVE], [ACTIVENONEED])
    (ct,) = rev(x, np.float64(1.0))
    np.testing.assert_allclose(float(ct), float(t), rtol=1e-12)


def test_table_covers_every_rule() -> None:
    """Every op with a derivative rule (elementwise, linear or custom) appears in a row."""
    from zymase.ad import registry

    registry.load_rules()
    seen: set[str] = set()
    rng = np.random.default_rng(0)
    for row in ROWS:
        seen.update(op.name for op in zymase.lower(row.f, *row.args(rng)).module.walk())
    for text in [row[1] for row in MLIR_ROWS] + [_SCF_WHILE]:
        seen.update(op.name for op in parse_located(text, "<rule-table>").walk())
    ruled = {cls.name for table in (registry.ELEMENTWISE, registry.LINEAR, registry.CUSTOM) for cls in table}
    assert not ruled - seen, f"ops with a derivative rule but no row in the rule table: {sorted(ruled - seen)}"


def _pool_net(x, w):
    y = lax.conv_general_dilated(x, w, (1, 1), "SAME")
    y = lax.reduce_window(y, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
    return jnp.sum(jnp.tanh(y) ** 2)


def test_second_derivative_of_max_pooling_net() -> None:
    """A Hessian-vector product, forward over reverse: the reverse sweep's
    select_and_scatter is differentiated again in forward mode."""
    rng = np.random.default_rng(SEED)
    x, w, v = distinct(1, 2, 4, 4)(rng), rng.standard_normal((2, 2, 2, 2)), rng.standard_normal((2, 2, 2, 2))
    _, got = zymase.jvp(zymase.grad(_pool_net, argnums=1), (x, w), (np.zeros_like(x), v))
    _, want = jax.jit(lambda x, w, v: jax.jvp(jax.grad(_pool_net, argnums=1), (x, w), (jnp.zeros_like(x), v)))(x, w, v)  # compiled once
    _close(got, want, 1e-10, "hessian-vector product")
