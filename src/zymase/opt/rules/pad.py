"""Pad rules: normalize pad configurations, merge pads, and sink pads past the ops that
consume them so those ops work on the unpadded operand.

Canonical direction: pads move toward the results (``f(pad(x, v)) -> pad(f(x), f(v))``),
negative edge padding becomes a slice. Rules that sink a pad require the pad to have no
other user, so the number of pads never grows.
"""

from __future__ import annotations

from ..lazy_jax import jnp
from ..lazy_jax import np
from ..lazy_jax import lax
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ...ir.dense import is_float_type
from ..pattern import CONSTANT, Example, sole_producer, is_splat, producer, rule, shape, UNARY_ELEMENTWISE, BINARY_ELEMENTWISE
from .common import beside_splat, rebuild, same_scalar, splat_scalar

UNARY, BINARY = UNARY_ELEMENTWISE, BINARY_ELEMENTWISE


def _config(op: hlo.PadOp) -> tuple[list[int], list[int], list[int]]:
    return (
        list(op.edge_padding_low.get_values()),
        list(op.edge_padding_high.get_values()),
        list(op.interior_padding.get_values()),
    )


def _operand_window(pad: hlo.PadOp) -> tuple[list[int], list[int], list[int]] | None:
    """The slice (start, limit, strides) of the pad's result that holds its operand; None
    unless the edge padding is non-negative."""
    lows, highs, interiors = _config(pad)
    if any(p < 0 for p in lows + highs) or 0 in shape(pad.operand):
        return None
    start, limit, strides = [], [], []
    for n, lo, it in zip(shape(pad.operand), lows, interiors):
        start.append(lo)
        limit.append(lo + (n - 1) * (it + 1) + 1)
        strides.append(it + 1)
    return start, limit, strides


# ============================================================================ pad configurations


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3x4xf64>, %v: tensor<f64>) -> tensor<3x4xf64> {
  %0 = "stablehlo.pad"(%x, %v) <{edge_padding_low = array<i64: 0, 0>, edge_padding_high = array<i64: 0, 0>, interior_padding = array<i64: 0, 0>}> : (tensor<3x4xf64>, tensor<f64>) -> tensor<3x4xf64>
  func.return %0 : tensor<3x4xf64>
}"""
    )
)
def pad_nothing(op: hlo.PadOp, b: Builder):
    """pad(x, v, 0, 0, 0) -> x"""
    if all(p == 0 for c in _config(op) for p in c):
        return op.operand
    return None


@rule(example=Example(lambda x: lax.pad(x, 0.5, ((1, 2, 3), (0, 1, 2))), [(1, 4)]))
def pad_interior_of_unit_dims(op: hlo.PadOp, b: Builder):
    """pad(x, v, lo, hi, interior) -> pad(x, v, lo, hi, 0) along dims of size <= 1"""
    lows, highs, interiors = _config(op)
    src = shape(op.operand)
    if not any(it != 0 and n <= 1 for it, n in zip(interiors, src)):
        return None
    interiors = [0 if n <= 1 else it for it, n in zip(interiors, src)]
    return b.pad(op.operand, op.padding_value, lows, highs, interiors)


@rule(example=Example(lambda x: lax.pad(x, 0.5, ((-1, 2, 0), (1, -2, 0))), [(3, 4)]))
def pad_negative_edges(op: hlo.PadOp, b: Builder):
    """pad(x, v, lo, hi) with negative edges -> pad(slice(x), v, max(lo, 0), max(hi, 0))   (no interior padding there)"""
    lows, highs, interiors = _config(op)
    src = shape(op.operand)
    if all(p >= 0 for p in lows + highs):
        return None
    start, limit = [], []
    for n, lo, hi, it in zip(src, lows, highs, interiors):
        cut_lo, cut_hi = max(0, -lo), max(0, -hi)
        if (cut_lo or cut_hi) and it != 0 and n > 1:
            return None
        if cut_lo + cut_hi > n:
            return None
        start.append(cut_lo)
        limit.append(n - cut_hi)
    x = b.slice(op.operand, start, limit)
    return b.pad(x, op.padding_value, [max(0, p) for p in lows], [max(0, p) for p in highs], interiors)


@rule(example=Example(lambda x: lax.pad(lax.pad(x, 0.5, ((1, 2, 1), (0, 1, 0))), 0.5, ((2, -1, 0), (1, 1, 0))), [(3, 4)]), needs={0: hlo.PadOp})
def pad_pad(op: hlo.PadOp, b: Builder):
    """pad(pad(x, v, lo1, hi1, it), v, lo2, hi2, 0) -> pad(x, v, lo1 + lo2, hi1 + hi2, it)   (an outer crop never meets an inner crop)"""
    inner = producer(op.operand, hlo.PadOp)
    if inner is None or not same_scalar(inner.padding_value, op.padding_value):
        return None
    lo1, hi1, it1 = _config(inner)
    lo2, hi2, it2 = _config(op)
    if any(it2):
        return None
    if any(a < 0 < c for a, c in zip(lo1 + hi1, lo2 + hi2)):
        return None
    lows = [a + c for a, c in zip(lo1, lo2)]
    highs = [a + c for a, c in zip(hi1, hi2)]
    return b.pad(inner.operand, op.padding_value, lows, highs, it1)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<0x3xf64>, %v: tensor<f64>) -> tensor<2x3xf64> {
  %0 = "stablehlo.pad"(%x, %v) <{edge_padding_low = array<i64: 1, 0>, edge_padding_high = array<i64: 1, 0>, interior_padding = array<i64: 0, 0>}> : (tensor<0x3xf64>, tensor<f64>) -> tensor<2x3xf64>
  func.return %0 : tensor<2x3xf64>
}"""
    )
)
def pad_empty_operand(op: hlo.PadOp, b: Builder):
    """pad(x, v) -> broadcast(v)   (x has no elements)"""
    if 0 not in shape(op.operand) or 0 in shape(op.result):
        return None
    return b.broadcast_in_dim(op.padding_value, shape(op.result), [])


@rule(example=Example(lambda x: x + jnp.pad(jnp.full((2, 3), 1.5), ((1, 2), (0, 1)), constant_values=1.5), [(5, 4)]), needs={0: CONSTANT})
def pad_splat(op: hlo.PadOp, b: Builder):
    """pad(broadcast(c), c) -> broadcast(c)"""
    c = splat_scalar(op.operand)
    if c is None or not same_scalar(c, op.padding_value):
        return None
    return b.broadcast_in_dim(op.padding_value, shape(op.result), [])


# ============================================================================ sinking pads past elementwise ops


@rule(roots=UNARY, example=Example(lambda x: jnp.exp(jnp.pad(x, ((1, 2),), constant_values=0.5)), [(4,)]), needs={0: hlo.PadOp})
def unary_pad(op, b: Builder):
    """f(pad(x, v)) -> pad(f(x), f(v))   (f elementwise, including convert; the pad has no other user)"""
    pad = sole_producer(op.operand, hlo.PadOp, op)
    if pad is None:
        return None
    lows, highs, interiors = _config(pad)
    x = rebuild(b, op, [pad.operand], shape(pad.operand))
    v = rebuild(b, op, [pad.padding_value], ())
    return b.pad(x, v, lows, highs, interiors)


@rule(roots=BINARY, example=Example(lambda x, y: lax.pad(x, 1.0, ((1, 2, 1),)) * lax.pad(y, 3.0, ((1, 2, 1),)), [(4,), (4,)]), needs={0: hlo.PadOp, 1: hlo.PadOp})
def binary_pads(op, b: Builder):
    """f(pad(x, v, cfg), pad(y, w, cfg)) -> pad(f(x, y), f(v, w), cfg)   (f elementwise; the pads have no other user)"""
    px, py = sole_producer(op.lhs, hlo.PadOp, op), sole_producer(op.rhs, hlo.PadOp, op)
    if px is None or py is None or _config(px) != _config(py) or shape(px.operand) != shape(py.operand):
        return None
    lows, highs, interiors = _config(px)
    x = rebuild(b, op, [px.operand, py.operand], shape(px.operand))
    v = rebuild(b, op, [px.padding_value, py.padding_value], ())
    return b.pad(x, v, lows, highs, interiors)


@rule(
    roots=BINARY,
    example=[
        Example(lambda x: jnp.pad(x, ((1, 2), (0, 1))) + 2.0, [(3, 4)]),
        Example(lambda x: 2.0 / lax.pad(x, 1.0, ((1, 2, 0), (0, 1, 1))), [(3, 4)]),
    ],
    needs=hlo.PadOp,
)
def binary_pad_splat(op, b: Builder):
    """f(pad(x, v), splat c) -> pad(f(x, splat c), f(v, c)) ;  f(splat c, pad(x, v)) likewise   (f elementwise; the pad has no other user)"""
    match = beside_splat(op, b, hlo.PadOp)
    if match is None:
        return None
    pad, c, place = match
    x = rebuild(b, op, place(pad.operand, b.broadcast_in_dim(c, shape(pad.operand), [])), shape(pad.operand))
    v = rebuild(b, op, place(pad.padding_value, c), ())
    return b.pad(x, v, *_config(pad))


@rule(example=Example(lambda p, x, y: jnp.where(jnp.pad(p, 1), jnp.pad(x, 1), jnp.pad(y, 1, constant_values=2.0)), [(4,), (4,), (4,)], dtypes=["bool", "float64", "float64"]), needs={1: hlo.PadOp, 2: hlo.PadOp})
def select_pads(op: hlo.SelectOp, b: Builder):
    """select(pad(p, pv), pad(x, v), pad(y, w)) -> pad(select(p, x, y), select(pv, v, w))   (same configs, or a scalar p; no other users)"""
    px, py = sole_producer(op.on_true, hlo.PadOp, op), sole_producer(op.on_false, hlo.PadOp, op)
    if px is None or py is None or _config(px) != _config(py) or shape(px.operand) != shape(py.operand):
        return None
    if shape(op.pred) == ():
        pred, pred_value = op.pred, op.pred
    else:
        pp = sole_producer(op.pred, hlo.PadOp, op)
        if pp is None or _config(pp) != _config(px) or shape(pp.operand) != shape(px.operand):
            return None
        pred, pred_value = pp.operand, pp.padding_value
    lows, highs, interiors = _config(px)
    x = b.select(pred, px.operand, py.operand)
    v = b.select(pred_value, px.padding_value, py.padding_value)
    return b.pad(x, v, lows, highs, interiors)


@rule(example=Example(lambda x: jnp.flip(lax.pad(x, 0.5, ((1, 3, 1), (2, 0, 0))), axis=0), [(3, 4)]), needs={0: hlo.PadOp})
def reverse_pad(op: hlo.ReverseOp, b: Builder):
    """reverse(pad(x, v, lo, hi), dims) -> pad(reverse(x, dims), v, hi, lo)   (lo and hi swapped along dims; no other user)"""
    pad = sole_producer(op.operand, hlo.PadOp, op)
    if pad is None:
        return None
    lows, highs, interiors = _config(pad)
    dims = list(op.dimensions.get_values())
    for d in dims:
        lows[d], highs[d] = highs[d], lows[d]
    return b.pad(b.reverse(pad.operand, dims), pad.padding_value, lows, highs, interiors)


@rule(example=Example(lambda x: lax.pad(x, 0.5, ((1, 3, 1), (2, 0, 0))).T, [(3, 4)]), needs={0: hlo.PadOp})
def transpose_pad(op: hlo.TransposeOp, b: Builder):
    """transpose(pad(x, v, cfg), p) -> pad(transpose(x, p), v, p(cfg))   (no other user)"""
    pad = sole_producer(op.operand, hlo.PadOp, op)
    if pad is None:
        return None
    p = list(op.permutation.get_values())
    lows, highs, interiors = _config(pad)
    x = b.transpose(pad.operand, p)
    return b.pad(x, pad.padding_value, [lows[d] for d in p], [highs[d] for d in p], [interiors[d] for d in p])


# ============================================================================ multiplying by zero padding


def _sink_zero_pad(op, b: Builder, padded: SSAValue, other: SSAValue, combine) -> SSAValue | None:
    """pad(combine(x, slice(other)), 0) when ``padded`` is pad(x, 0) with non-negative
    edges and no other user (``combine`` is zero where either operand is)."""
    pad = sole_producer(padded, hlo.PadOp, op)
    if pad is None or not is_splat(pad.padding_value, 0):
        return None
    window = _operand_window(pad)
    if window is None:
        return None
    lows, highs, interiors = _config(pad)
    y = b.slice(other, *window)
    return b.pad(combine(pad.operand, y), pad.padding_value, lows, highs, interiors)


@rule(
    example=[
        Example(lambda x, y: lax.pad(x, 0.0, ((1, 2, 0), (0, 1, 0))) * y, [(3, 4), (6, 5)]),
        Example(lambda x, y: y * lax.pad(x, 0.0, ((1, 2, 1), (0, 1, 0))), [(3, 4), (8, 5)]),
    ],
    unsafe=True,
    commutative=True,
    needs=hlo.PadOp,
)
def multiply_pad_zero(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(pad(x, 0), y) -> pad(multiply(x, slice(y)), 0)   (y finite: 0 * inf is nan; up to the sign of zero)"""
    return _sink_zero_pad(op, b, x, y, b.mul)


@rule(
    example=[
        Example(lambda x, y: y * lax.pad(x, np.int64(0), ((1, 2, 0), (0, 1, 0))), [(3, 4), (6, 5)], dtypes=["int64", "int64"]),
        Example(lambda x, y: lax.pad(x, np.int64(0), ((1, 2, 0), (0, 1, 0))) * y, [(3, 4), (6, 5)], dtypes=["int64", "int64"]),
    ],
    commutative=True,
    needs=hlo.PadOp,
)
def multiply_pad_zero_integer(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(pad(x, 0), y) -> pad(multiply(x, slice(y)), 0)   (integers, either operand order)"""
    if is_float_type(elem(op.result)):
        return None
    return _sink_zero_pad(op, b, x, y, b.mul)


@rule(
    example=[
        Example(lambda p, q: lax.pad(p, False, ((1, 2, 0),)) & q, [(3,), (6,)], dtypes=["bool", "bool"]),
        Example(lambda p, q: q & lax.pad(p, False, ((1, 2, 0),)), [(3,), (6,)], dtypes=["bool", "bool"]),
    ],
    commutative=True,
    needs=hlo.PadOp,
)
def and_pad_false(op: hlo.AndOp, b: Builder, x: SSAValue, y: SSAValue):
    """and(pad(x, 0), y) -> pad(and(x, slice(y)), 0)   (integers and booleans, either operand order)"""
    if is_float_type(elem(op.result)):
        return None
    return _sink_zero_pad(op, b, x, y, lambda u, v: b.insert(hlo.AndOp(u, v)).results[0])
