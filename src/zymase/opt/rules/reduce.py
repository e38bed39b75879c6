"""Rules rooted at stablehlo.reduce (single input, a body that is one add / multiply /
maximum / minimum / and / or of its two arguments, recognised structurally).

Exactness. A reduction's schedule is implementation-defined in StableHLO, but the
sequence of reduced elements (lexicographic order of the reduced index space) is not:
rules that keep that sequence (dropping size-1 dimensions, removing identity elements,
reducing before a broadcast that only copies) are exact. Rules that regroup or reorder a
floating-point sum or product, or turn repeated addition into a multiplication, change
rounding: they are ``unsafe`` (fast-math only). Maximum, minimum, and, or, and integer
add / multiply (wrapping arithmetic) are associative and commutative, so for them the
same rewrites are exact. As elsewhere in the optimizer, results may differ in the sign
of a zero (0 + x -> x).

Initial values. How often a reduction applies its init value is implementation-defined
(XLA on CPU applies it once per output for short rows, once per partial accumulator for
long ones, and not at all for size-1 or empty-dimension-set reductions), so these rules
only fire when init is the identity of the body (what jax emits), except where noted.
"""

from __future__ import annotations

from fractions import Fraction
from math import prod

from ..lazy_jax import jnp
from ..lazy_jax import lax
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem, tensor
from ...ir.dense import element_dtype
from ..pattern import CONSTANT, Example, orders, per_visit, producer, rule, shape, single_use, splat_value
from .common import is_integer, single_number

_KINDS = (hlo.AddOp, hlo.MultiplyOp, hlo.MaximumOp, hlo.MinimumOp, hlo.AndOp, hlo.OrOp)
_IDEMPOTENT = (hlo.MaximumOp, hlo.MinimumOp, hlo.AndOp, hlo.OrOp)


# ============================================================================ helpers


@per_visit
def _monoid(op: hlo.ReduceOp) -> type | None:
    """The combiner class (one of ``_KINDS``, see ``ReduceOp.combiner``) when op is a
    single-input reduce whose init value is the combiner's identity (once per visit of the
    driver: every reduce rule asks)."""
    kind = op.combiner()
    if kind not in _KINDS or not _is_identity(kind, op.init_values[0]):
        return None
    return kind


def _dtype(v: SSAValue) -> np.dtype:
    return element_dtype(elem(v))


def _is_real_float(v: SSAValue) -> bool:
    import numpy as np

    return np.issubdtype(_dtype(v), np.floating)


def _order_free(kind: type, v: SSAValue) -> bool:
    """Whether reductions of kind over ``v``'s element type may be regrouped and
    reordered exactly."""
    if kind in _IDEMPOTENT:
        return True
    return is_integer(v)


def _regroups_ties(kind: type, v: SSAValue) -> bool:
    """Whether regrouping reductions of kind over ``v`` changes derivatives: a float
    maximum or minimum splits its derivative evenly among the tied elements of each
    reduction (jax's convention), so reduce(reduce(x)) and reduce(x) split it differently
    where elements tie, though the values agree."""
    return kind in (hlo.MaximumOp, hlo.MinimumOp) and not is_integer(v)


def _identity(kind: type, dtype: np.dtype):
    """The identity element of kind on dtype (None when there is none)."""
    import numpy as np

    if dtype == np.bool_:
        table = {hlo.AddOp: False, hlo.MultiplyOp: True, hlo.MaximumOp: False, hlo.MinimumOp: True, hlo.AndOp: True, hlo.OrOp: False}
        return table[kind]
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        table = {hlo.AddOp: 0, hlo.MultiplyOp: 1, hlo.MaximumOp: info.min, hlo.MinimumOp: info.max, hlo.AndOp: -1 if info.min < 0 else info.max, hlo.OrOp: 0}
        return table[kind]
    if np.issubdtype(dtype, np.floating):
        table = {hlo.AddOp: 0.0, hlo.MultiplyOp: 1.0, hlo.MaximumOp: -np.inf, hlo.MinimumOp: np.inf}
        return table.get(kind)
    if np.issubdtype(dtype, np.complexfloating):
        return {hlo.AddOp: 0.0, hlo.MultiplyOp: 1.0}.get(kind)
    return None


def _is_identity(kind: type, init: SSAValue) -> bool:
    s = splat_value(init)
    ident = _identity(kind, _dtype(init))
    return s is not None and ident is not None and s == ident


def _combine(b: Builder, kind: type, x: SSAValue, y: SSAValue) -> SSAValue:
    return b.insert(kind(x, y)).results[0]


def _reduce(b: Builder, x: SSAValue, init: SSAValue, dims, kind: type) -> SSAValue:
    """reduce(x, init) over dims (init the identity); over no dimensions, x."""
    if not dims:
        return x
    return b.reduce(x, init, sorted(dims), kind)


def _dims(op: hlo.ReduceOp) -> list[int]:
    return list(op.dimensions.get_values())


def _kept(rank: int, dims) -> list[int]:
    return [d for d in range(rank) if d not in dims]


def _broadcast_split(bc: hlo.BroadcastInDimOp, reduced: list[int]):
    """For reduce(broadcast_in_dim(y, dims), reduced): the reduced result dimensions that
    are pure copies (expanded), and the y dimensions that map into reduced dimensions."""
    y, dims = bc.operand, list(bc.broadcast_dimensions.get_values())
    ys, xs = shape(y), shape(bc.result)
    covered = {dims[j] for j in range(len(ys)) if ys[j] == xs[dims[j]]}
    expanded = [d for d in reduced if d not in covered]
    y_reduced = [j for j in range(len(ys)) if dims[j] in reduced]
    return expanded, y_reduced


def _broadcast_result(b: Builder, op: hlo.ReduceOp, bc: hlo.BroadcastInDimOp, y_reduced_value: SSAValue, y_reduced: list[int]) -> SSAValue:
    """Broadcast reduce(y) (y's dims minus y_reduced) to the result of op."""
    dims = list(bc.broadcast_dimensions.get_values())
    kept = _kept(len(shape(bc.result)), _dims(op))
    out_dims = [kept.index(dims[j]) for j in range(len(dims)) if j not in y_reduced]
    return b.broadcast_in_dim(y_reduced_value, shape(op.results[0]), out_dims)


# ============================================================================ trivial reductions


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<4xf64>) -> tensor<4xf64> {
  %c = "stablehlo.constant"() <{value = dense<0.0> : tensor<f64>}> : () -> tensor<f64>
  %0 = "stablehlo.reduce"(%x, %c) <{dimensions = array<i64>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %s = "stablehlo.add"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%s) : (tensor<f64>) -> ()
  }) : (tensor<4xf64>, tensor<f64>) -> tensor<4xf64>
  func.return %0 : tensor<4xf64>
}"""
    )
)
def reduce_no_dims(op: hlo.ReduceOp, b: Builder):
    """reduce(x, init) over no dimensions -> x   (init the identity)"""
    if _dims(op) or _monoid(op) is None:
        return None
    return op.inputs[0]


@rule(example=Example(lambda x: jnp.sum(x, axis=1), [(3, 0)]))
def reduce_empty(op: hlo.ReduceOp, b: Builder):
    """reduce(x, init) over dimensions including one of size 0 -> broadcast(init)"""
    if len(op.inputs) != 1:
        return None
    xs = shape(op.inputs[0])
    if not any(xs[d] == 0 for d in _dims(op)):
        return None
    return b.broadcast_in_dim(op.init_values[0], shape(op.results[0]), [])


@rule(example=Example(lambda x: jnp.sum(x, axis=(0, 2)), [(1, 4, 3)]))
def reduce_unit_dims(op: hlo.ReduceOp, b: Builder):
    """reduce(x) over dims D with size-1 dims U -> reduce(reshape(x) without U) over D \\ U   (same elements, same order)"""
    if len(op.inputs) != 1:
        return None  # (_monoid's answer, before reading the shapes)
    x, dims = op.inputs[0], _dims(op)
    xs = shape(x)
    unit = [d for d in dims if xs[d] == 1]
    kind = _monoid(op) if unit else None
    if kind is None:
        return None
    keep = [d for d in range(len(xs)) if d not in unit]
    y = b.reshape(x, [xs[d] for d in keep])
    rest = [keep.index(d) for d in dims if d not in unit]
    return _reduce(b, y, op.init_values[0], rest, kind)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>) -> tensor<3xf64> {
  %c = "stablehlo.constant"() <{value = dense<2.5> : tensor<f64>}> : () -> tensor<f64>
  %s = "stablehlo.broadcast_in_dim"(%c) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<5x3xf64>
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<f64>}> : () -> tensor<f64>
  %0 = "stablehlo.reduce"(%s, %z) <{dimensions = array<i64: 0>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %t = "stablehlo.add"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%t) : (tensor<f64>) -> ()
  }) : (tensor<5x3xf64>, tensor<f64>) -> tensor<3xf64>
  %1 = "stablehlo.add"(%x, %0) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
  func.return %1 : tensor<3xf64>
}"""
    )
, needs={0: CONSTANT})
def reduce_splat(op: hlo.ReduceOp, b: Builder):
    """reduce(splat c) over n > 0 elements -> splat c (max/min/and/or), n*c (integer add; float add when every partial sum is exact), c^n (integer multiply)"""
    kind = _monoid(op)
    if kind is None or not _dims(op):
        return None
    x, init = op.inputs[0], op.init_values[0]
    c, i = single_number(x), single_number(init)
    if c is None or i is None:
        return None
    n = prod(shape(x)[d] for d in _dims(op))
    if n == 0:
        return None
    dt = _dtype(x)
    value = _fold_splat(kind, dt, i, c, n)
    if value is None:
        return None
    return b.constant(value, op.results[0].type)


def _fold_splat(kind: type, dt: np.dtype, i, c, n: int):
    import numpy as np

    if dt == np.bool_:
        i, c = bool(i), bool(c)
        table = {hlo.MaximumOp: i or c, hlo.OrOp: i or c, hlo.MinimumOp: i and c, hlo.AndOp: i and c}
        return table.get(kind)
    if np.issubdtype(dt, np.integer):
        i, c = int(i), int(c)
        bits = dt.itemsize * 8
        table = {
            hlo.MaximumOp: max(i, c),
            hlo.MinimumOp: min(i, c),
            hlo.AndOp: i & c,
            hlo.OrOp: i | c,
            hlo.AddOp: i + n * c,
            hlo.MultiplyOp: i * pow(c, n, 1 << bits),
        }
        return _wrap(table[kind], dt)
    if not np.issubdtype(dt, np.floating):
        return None
    i, c = dt.type(i), dt.type(c)
    if kind in (hlo.MaximumOp, hlo.MinimumOp):
        if np.isnan(i) or np.isnan(c):
            return dt.type(np.nan)
        return max(i, c) if kind is hlo.MaximumOp else min(i, c)
    if kind is not hlo.AddOp:
        return None
    if not np.isfinite(c) or c == 0:
        return dt.type(i + c)  # every partial sum is init + c
    if i != 0:
        return None
    exact = Fraction(float(c)) * n
    total = dt.type(float(exact))
    if not np.isfinite(total) or Fraction(float(total)) != exact:
        return None
    return total  # every partial sum k*c (k <= n) is exact too


def _wrap(v: int, dt: np.dtype) -> int:
    import numpy as np

    info = np.iinfo(dt)
    span = 1 << (dt.itemsize * 8)
    return (v - int(info.min)) % span + int(info.min)


# ============================================================================ broadcast


@rule(example=Example(lambda x: jnp.max(jnp.broadcast_to(x, (5, 3)), axis=0), [(3,)]), needs={0: hlo.BroadcastInDimOp})
def reduce_broadcast(op: hlo.ReduceOp, b: Builder):
    """reduce(broadcast_in_dim(y), D) -> broadcast_in_dim(reduce(y, D')) when D has no copied dims, or k is max/min/and/or (copies dropped)"""
    kind = _monoid(op)
    bc = producer(op.inputs[0], hlo.BroadcastInDimOp)
    if kind is None or bc is None or not _dims(op):
        return None
    expanded, y_reduced = _broadcast_split(bc, _dims(op))
    if expanded and kind not in _IDEMPOTENT:
        return None
    if expanded and any(shape(bc.result)[d] == 0 for d in expanded):
        return None
    r = _reduce(b, bc.operand, op.init_values[0], y_reduced, kind)
    return _broadcast_result(b, op, bc, r, y_reduced)


def _reduce_sum_broadcast(op: hlo.ReduceOp, b: Builder, want_int: bool):
    bc = producer(op.inputs[0], hlo.BroadcastInDimOp)
    if bc is None or is_integer(op.inputs[0]) != want_int:
        return None
    kind = _monoid(op)
    if kind is not hlo.AddOp:
        return None
    expanded, y_reduced = _broadcast_split(bc, _dims(op))
    if not expanded:
        return None
    count = prod(shape(bc.result)[d] for d in expanded)
    r = _reduce(b, bc.operand, op.init_values[0], y_reduced, kind)
    r = b.mul(r, b.constant(count, r.type))
    return _broadcast_result(b, op, bc, r, y_reduced)


@rule(example=Example(lambda x: jnp.sum(jnp.broadcast_to(x[:, None], (3, 4, 5)), axis=(0, 1)), [(3, 1)]), unsafe=True, needs={0: hlo.BroadcastInDimOp})
def reduce_sum_broadcast(op: hlo.ReduceOp, b: Builder):
    """reduce_sum(broadcast_in_dim(y)) over copied dims of count n -> n * broadcast(reduce_sum(y))   (floats: rounding differs; fast-math only)"""
    return _reduce_sum_broadcast(op, b, want_int=False)


@rule(example=Example(lambda x: jnp.sum(jnp.broadcast_to(x, (5, 3)), axis=0), [(3,)], dtypes=["int64"]), needs={0: hlo.BroadcastInDimOp})
def reduce_sum_broadcast_int(op: hlo.ReduceOp, b: Builder):
    """reduce_sum(broadcast_in_dim(y)) over copied dims of count n -> n * broadcast(reduce_sum(y))   (integers: exact)"""
    return _reduce_sum_broadcast(op, b, want_int=True)


# ============================================================================ reduce of reduce


def _reduce_reduce(op: hlo.ReduceOp, b: Builder, reassociating: bool):
    kind = _monoid(op)
    inner = producer(op.inputs[0], hlo.ReduceOp)
    if kind is None or inner is None or _monoid(inner) is not kind or not single_use(op.inputs[0]):
        return None
    if reassociating == _order_free(kind, op.inputs[0]) or _regroups_ties(kind, op.inputs[0]):
        return None
    init = op.init_values[0]
    x = inner.inputs[0]
    kept = _kept(len(shape(x)), _dims(inner))
    merged = sorted(set(_dims(inner)) | {kept[d] for d in _dims(op)})
    return _reduce(b, x, init, merged, kind)


@rule(example=Example(lambda x: jnp.max(jnp.max(x, axis=2), axis=0), [(3, 4, 5)], dtypes=["int32"]), needs={0: hlo.ReduceOp})
def reduce_reduce(op: hlo.ReduceOp, b: Builder):
    """reduce(reduce(x, D1), D2) -> reduce(x, D1 + D2)   (same body; k order-free; not float maximum / minimum, whose ties share the derivative by groups)"""
    return _reduce_reduce(op, b, reassociating=False)


@rule(example=Example(lambda x: jnp.sum(jnp.sum(x, axis=2), axis=0), [(3, 4, 5)]), unsafe=True, needs={0: hlo.ReduceOp})
def reduce_reduce_reassociate(op: hlo.ReduceOp, b: Builder):
    """reduce_sum(reduce_sum(x, D1), D2) -> reduce_sum(x, D1 + D2)   (floats: regroups the sum; fast-math only)"""
    return _reduce_reduce(op, b, reassociating=True)


# ============================================================================ concatenate


def _reduce_concatenate(op: hlo.ReduceOp, b: Builder, reassociating: bool):
    kind = _monoid(op)
    cat = producer(op.inputs[0], hlo.ConcatenateOp)
    if kind is None or cat is None:
        return None
    d = cat.dimension.value.data
    if d not in _dims(op):
        return None
    if reassociating == _order_free(kind, op.inputs[0]) or _regroups_ties(kind, op.inputs[0]):
        return None
    parts = [v for v in cat.inputs if shape(v)[d] != 0]
    if len(parts) < 2:
        return None
    ident = op.init_values[0]
    out = _reduce(b, parts[0], ident, _dims(op), kind)
    for v in parts[1:]:
        out = _combine(b, kind, out, _reduce(b, v, ident, _dims(op), kind))
    return out


@rule(example=Example(lambda x, y: jnp.max(jnp.concatenate([x, y]), axis=0), [(3, 2), (4, 2)], dtypes=["int32", "int32"]), needs={0: hlo.ConcatenateOp})
def reduce_concatenate(op: hlo.ReduceOp, b: Builder):
    """reduce(concatenate(x, y, d), D) -> k(reduce(x, D), reduce(y, D))   (d in D; k order-free; not float maximum / minimum, whose ties share the derivative by groups)"""
    return _reduce_concatenate(op, b, reassociating=False)


@rule(example=Example(lambda x, y: jnp.sum(jnp.concatenate([x, y], axis=1)), [(3, 2), (3, 4)]), unsafe=True, needs={0: hlo.ConcatenateOp})
def reduce_concatenate_reassociate(op: hlo.ReduceOp, b: Builder):
    """reduce_sum(concatenate(x, y, d), D) -> reduce_sum(x, D) + reduce_sum(y, D)   (d in D; floats: regroups the sum; fast-math only)"""
    return _reduce_concatenate(op, b, reassociating=True)


# ============================================================================ pad


@rule(example=Example(lambda x: jnp.sum(lax.pad(x, 0.0, [(1, 2, 0), (0, 3, 1)])), [(3, 4)]), needs={0: hlo.PadOp})
def reduce_pad(op: hlo.ReduceOp, b: Builder):
    """reduce(pad(x, p), D) -> reduce(x, D)   (all padded dims in D, no negative padding, p the identity of k)"""
    kind = _monoid(op)
    pad = producer(op.inputs[0], hlo.PadOp)
    if kind is None or pad is None:
        return None
    lows, highs, interiors = (list(a.get_values()) for a in (pad.edge_padding_low, pad.edge_padding_high, pad.interior_padding))
    if any(v < 0 for v in lows + highs + interiors):
        return None
    padded = [d for d in range(len(lows)) if lows[d] or highs[d] or (interiors[d] and shape(pad.operand)[d] > 1)]
    if not padded or any(d not in _dims(op) for d in padded):
        return None
    if not _is_identity(kind, pad.padding_value):
        return None
    return _reduce(b, pad.operand, op.init_values[0], _dims(op), kind)


# ============================================================================ negate and scaling


@rule(example=Example(lambda x: jnp.sum(-x, axis=0), [(3, 4)]), needs={0: hlo.NegateOp})
def reduce_sum_negate(op: hlo.ReduceOp, b: Builder):
    """reduce_sum(negate(x), 0) -> negate(reduce_sum(x, 0))   (rounding is symmetric; up to the sign of a zero sum)"""
    kind = _monoid(op)
    neg = producer(op.inputs[0], hlo.NegateOp)
    if kind is not hlo.AddOp or neg is None or not _is_identity(kind, op.init_values[0]):
        return None
    return b.neg(_reduce(b, neg.operand, op.init_values[0], _dims(op), kind))


@rule(example=Example(lambda x: jnp.max(-x, axis=0), [(3, 4)]), needs={0: hlo.NegateOp})
def reduce_max_negate(op: hlo.ReduceOp, b: Builder):
    """reduce_max(negate(x), c) -> negate(reduce_min(x, -c)) ;  reduce_min(negate(x), c) -> negate(reduce_max(x, -c))   (floats)"""
    kind = _monoid(op)
    neg = producer(op.inputs[0], hlo.NegateOp)
    if kind not in (hlo.MaximumOp, hlo.MinimumOp) or neg is None or not _is_real_float(op.inputs[0]):
        return None
    c = splat_value(op.init_values[0])
    if c is None:
        return None
    other = hlo.MinimumOp if kind is hlo.MaximumOp else hlo.MaximumOp
    init = b.constant(-c, op.init_values[0].type)
    return b.neg(_reduce(b, neg.operand, init, _dims(op), other))


def _reduce_sum_scaled(op: hlo.ReduceOp, b: Builder, want_int: bool):
    mul = producer(op.inputs[0], hlo.MultiplyOp)
    if mul is None or is_integer(op.inputs[0]) != want_int:
        return None
    kind = _monoid(op)
    if kind is not hlo.AddOp:
        return None
    dims = _dims(op)
    if not dims:
        return None
    for x, factor in orders(mul):
        bc = producer(factor, hlo.BroadcastInDimOp)
        if bc is None:
            continue
        y, bdims = bc.operand, list(bc.broadcast_dimensions.get_values())
        ys = shape(y)
        if any(bdims[j] in dims and ys[j] != 1 for j in range(len(ys))):
            continue  # the factor varies along a reduced dimension
        drop = [j for j in range(len(ys)) if bdims[j] in dims]
        y2 = b.reshape(y, [ys[j] for j in range(len(ys)) if j not in drop])
        kept = _kept(len(shape(x)), dims)
        scale = b.broadcast_in_dim(y2, shape(op.results[0]), [kept.index(bdims[j]) for j in range(len(ys)) if j not in drop])
        return b.mul(_reduce(b, x, op.init_values[0], dims, kind), scale)
    return None


@rule(example=Example(lambda x, y: jnp.sum(x * y[:, None], axis=1), [(3, 4), (3,)]), unsafe=True, needs={0: hlo.MultiplyOp})
def reduce_sum_multiply_broadcast(op: hlo.ReduceOp, b: Builder):
    """reduce_sum(x * broadcast(y), D) -> reduce_sum(x, D) * broadcast(y)   (y constant along D; floats: rounding differs; fast-math only)"""
    return _reduce_sum_scaled(op, b, want_int=False)


@rule(example=Example(lambda x, y: jnp.sum(x * y, axis=0), [(3, 4), ()], dtypes=["int64", "int64"]), needs={0: hlo.MultiplyOp})
def reduce_sum_multiply_broadcast_int(op: hlo.ReduceOp, b: Builder):
    """reduce_sum(x * broadcast(y), D) -> reduce_sum(x, D) * broadcast(y)   (y constant along D; integers: exact)"""
    return _reduce_sum_scaled(op, b, want_int=True)

