"""Reshape and broadcast_in_dim rules: fold reshapes and broadcasts into each other,
recognise broadcasts that are reshapes, transposes or no-ops, and move elementwise work
to the smaller tensor.

Canonical directions:

- broadcasts move toward the results: ``f(broadcast(x)) -> broadcast(f(x))`` when the
  broadcast expands, so elementwise work happens on the smaller tensor;
- reshapes move toward the results too (``f(reshape(x)) -> reshape(f(x))``, the
  reshape having no other user; two reshapes of one shape feeding a binary op become one
  reshape of its result), like transposes in the transpose family, where they meet other
  reshapes and broadcasts that absorb them.

No rule here moves a reshape or a broadcast back into an elementwise op, or rewrites a
broadcast into a reshape of a broadcast, so the rules cannot undo each other.
"""

from __future__ import annotations

from ..lazy_jax import jax
from ..lazy_jax import jnp
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ..pattern import Example, producer, rule, shape, sides, UNARY_ELEMENTWISE, BINARY_ELEMENTWISE, only_used_by as _only_used_by
from .common import mlir_main, rebuild, reshape_groups, size, splat_scalar, splat_to

UNARY = tuple(c for c in UNARY_ELEMENTWISE if c is not hlo.ConvertOp)
BINARY = BINARY_ELEMENTWISE


def _dims(op: hlo.BroadcastInDimOp) -> list[int]:
    return list(op.broadcast_dimensions.get_values())


def _expands(bc: hlo.BroadcastInDimOp) -> bool:
    return size(bc.operand) < size(bc.result)


def _place_unit_dims(mapped: list[int | None], rank: int) -> list[int] | None:
    """Complete broadcast dimensions: ``mapped[i]`` is the result dimension of operand
    dimension i, or None for an operand dimension of size 1 that may go to any unused
    result dimension (chosen to keep the dimensions increasing when possible)."""
    used = {d for d in mapped if d is not None}
    free = [d for d in range(rank) if d not in used]
    out: list[int] = []
    prev = -1
    for i, d in enumerate(mapped):
        if d is not None:
            out.append(d)
            prev = d
            continue
        nxt = next((m for m in mapped[i + 1 :] if m is not None), rank)
        choice = next((f for f in free if prev < f < nxt), free[0] if free else None)
        if choice is None:
            return None
        free.remove(choice)
        out.append(choice)
        prev = choice
    return out


# ============================================================================ reshape


@rule(
    example=Example(
        mlir=mlir_main(
            '  %0 = "stablehlo.reshape"(%x) : (tensor<2x3xf64>) -> tensor<2x3xf64>\n  func.return %0 : tensor<2x3xf64>', "%x: tensor<2x3xf64>", "tensor<2x3xf64>"
        )
    )
)
def reshape_noop(op: hlo.ReshapeOp, b: Builder):
    """reshape(x) -> x   (same shape)"""
    if op.operand.type == op.result.type:
        return op.operand
    return None


@rule(example=Example(lambda x: x.reshape(2, 2).reshape(4, 1), [(4,)]), needs={0: hlo.ReshapeOp})
def reshape_reshape(op: hlo.ReshapeOp, b: Builder):
    """reshape(reshape(x)) -> reshape(x)"""
    inner = producer(op.operand, hlo.ReshapeOp)
    if inner is None:
        return None
    return b.reshape(inner.operand, shape(op.result))


@rule(example=Example(lambda x: jnp.broadcast_to(x, (3, 4)).reshape(3, 1, 4), [(4,)]), needs={0: hlo.BroadcastInDimOp})
def reshape_broadcast_in_dim(op: hlo.ReshapeOp, b: Builder):
    """reshape(broadcast_in_dim(x)) -> broadcast_in_dim(x)   (each dim of x of size > 1 passes through the reshape unsplit and unmerged)"""
    bc = producer(op.operand, hlo.BroadcastInDimOp)
    if bc is None:
        return None
    mid, out = shape(bc.result), shape(op.result)
    groups = reshape_groups(mid, out)
    if groups is None:
        return None
    dims = _dims(bc)
    source = {d: i for i, d in enumerate(dims) if shape(bc.operand)[i] != 1}
    mapped: list[int | None] = [None] * len(dims)
    for gs, gd in groups:
        sourced = [d for d in gs if d in source]
        if not sourced:
            continue  # broadcast dims only: any rearrangement keeps the values
        if len(gs) != 1 or len(gd) != 1:
            return None
        mapped[source[gs[0]]] = gd[0]
    new_dims = _place_unit_dims(mapped, len(out))
    if new_dims is None:
        return None
    return b.insert(hlo.BroadcastInDimOp(bc.operand, new_dims, op.result.type)).results[0]


@rule(example=Example(lambda x: jnp.broadcast_to(x[0], (3, 4)).reshape(12), [(2, 1)]), needs={0: hlo.BroadcastInDimOp})
def reshape_broadcast_in_dim_single(op: hlo.ReshapeOp, b: Builder):
    """reshape(broadcast_in_dim(x)) -> broadcast_in_dim(reshape(x, []))   (x has one element)"""
    bc = producer(op.operand, hlo.BroadcastInDimOp)
    if bc is None or size(bc.operand) != 1 or shape(bc.operand) == ():
        return None
    scalar = b.reshape(bc.operand, [])
    return b.insert(hlo.BroadcastInDimOp(scalar, [], op.result.type)).results[0]


@rule(example=Example(lambda x: jnp.exp(x.reshape(2, 2)), [(4,)]), roots=(*UNARY, hlo.ConvertOp), needs={0: hlo.ReshapeOp})
def unary_reshape(op, b: Builder):
    """f(reshape(x)) -> reshape(f(x))   (f elementwise unary, including convert; f is the reshape's only user)"""
    r = producer(op.operand, hlo.ReshapeOp)
    if r is None or not _only_used_by(r.result, op):
        return None
    return b.reshape(rebuild(b, op, [r.operand], shape(r.operand)), shape(op.result))


@rule(example=Example(lambda x, y: x.reshape(2, 2) * y.reshape(2, 2), [(4,), (4,)]), roots=BINARY, needs={0: hlo.ReshapeOp, 1: hlo.ReshapeOp})
def binary_reshape(op, b: Builder):
    """f(reshape(x), reshape(y)) -> reshape(f(x, y))   (f elementwise binary; x and y of one shape; the reshapes have no other user)"""
    rx, ry = producer(op.lhs, hlo.ReshapeOp), producer(op.rhs, hlo.ReshapeOp)
    if rx is None or ry is None or shape(rx.operand) != shape(ry.operand):
        return None
    if not _only_used_by(rx.result, op) or not _only_used_by(ry.result, op):
        return None
    inner = rebuild(b, op, [rx.operand, ry.operand], shape(rx.operand))
    return b.reshape(inner, shape(op.result))


@rule(example=[Example(lambda x: x.reshape(2, 2) * 3.0 - 1.0, [(4,)]), Example(lambda x: 1.0 - x.reshape(2, 2), [(4,)])], roots=BINARY, needs=hlo.ReshapeOp)
def binary_reshape_scalar(op, b: Builder):
    """f(reshape(x), broadcast(s)) -> reshape(f(x, broadcast(s)))   (f elementwise binary, s rank 0, either side; the reshape has no other user)"""
    for mine, other, place in sides(op):
        r = producer(mine, hlo.ReshapeOp)
        s = splat_scalar(other)  # broadcast of a rank-0 value, or splat constant
        if r is None or s is None or not _only_used_by(r.result, op):
            continue
        small = splat_to(b, s, shape(r.operand), other)
        return b.reshape(rebuild(b, op, place(r.operand, small), shape(r.operand)), shape(op.result))
    return None


# ============================================================================ broadcast_in_dim


@rule(
    example=Example(
        mlir=mlir_main(
            '  %0 = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 0, 1>}> : (tensor<2x3xf64>) -> tensor<2x3xf64>\n'
            "  func.return %0 : tensor<2x3xf64>",
            "%x: tensor<2x3xf64>",
            "tensor<2x3xf64>",
        )
    )
)
def broadcast_in_dim_noop(op: hlo.BroadcastInDimOp, b: Builder):
    """broadcast_in_dim(x, [0, 1, ..., n-1]) -> x   (same shape)"""
    if op.operand.type == op.result.type and _dims(op) == list(range(len(shape(op.result)))):
        return op.operand
    return None


@rule(example=Example(lambda x: jnp.broadcast_to(x[:, None], (4, 3)), [(4,)]), needs={0: hlo.BroadcastInDimOp})
def broadcast_in_dim_broadcast_in_dim(op: hlo.BroadcastInDimOp, b: Builder):
    """broadcast_in_dim(broadcast_in_dim(x, d1), d2) -> broadcast_in_dim(x, d2[d1])"""
    inner = producer(op.operand, hlo.BroadcastInDimOp)
    if inner is None:
        return None
    outer = _dims(op)
    return b.insert(hlo.BroadcastInDimOp(inner.operand, [outer[d] for d in _dims(inner)], op.result.type)).results[0]


def _no_expansion(op: hlo.BroadcastInDimOp) -> bool:
    """Every element of the result is a distinct element of the operand."""
    src, dst = shape(op.operand), shape(op.result)
    return size(op.operand) == size(op.result) and all(src[i] == dst[d] for i, d in enumerate(_dims(op)))


@rule(
    example=Example(
        mlir=mlir_main(
            '  %0 = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 1, 0>}> : (tensor<2x3xf64>) -> tensor<3x2xf64>\n'
            "  func.return %0 : tensor<3x2xf64>",
            "%x: tensor<2x3xf64>",
            "tensor<3x2xf64>",
        )
    )
)
def broadcast_in_dim_is_transpose(op: hlo.BroadcastInDimOp, b: Builder):
    """broadcast_in_dim(x, dims) -> transpose(x, dims⁻¹)   (same rank, nothing expanded, dims not increasing)"""
    dims = _dims(op)
    if len(dims) != len(shape(op.result)) or not _no_expansion(op) or dims == sorted(dims):
        return None
    perm = [0] * len(dims)
    for i, d in enumerate(dims):
        perm[d] = i
    return b.transpose(op.operand, perm)


@rule(
    example=Example(
        mlir=mlir_main(
            '  %0 = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 0, 2>}> : (tensor<2x3xf64>) -> tensor<2x1x3xf64>\n'
            "  func.return %0 : tensor<2x1x3xf64>",
            "%x: tensor<2x3xf64>",
            "tensor<2x1x3xf64>",
        )
    )
)
def broadcast_in_dim_is_reshape(op: hlo.BroadcastInDimOp, b: Builder):
    """broadcast_in_dim(x, dims) -> reshape(x)   (nothing expanded, the dims of size > 1 keep their order)"""
    if op.operand.type == op.result.type or not _no_expansion(op):
        return None
    src = shape(op.operand)
    kept = [d for i, d in enumerate(_dims(op)) if src[i] != 1]
    if kept != sorted(kept):
        return None
    return b.reshape(op.operand, shape(op.result))


@rule(
    example=Example(
        mlir=mlir_main(
            '  %0 = "stablehlo.reshape"(%x) : (tensor<4xf64>) -> tensor<4x1xf64>\n'
            '  %1 = "stablehlo.broadcast_in_dim"(%0) <{broadcast_dimensions = array<i64: 0, 1>}> : (tensor<4x1xf64>) -> tensor<4x3xf64>\n'
            "  func.return %1 : tensor<4x3xf64>",
            "%x: tensor<4xf64>",
            "tensor<4x3xf64>",
        )
    )
, needs={0: hlo.ReshapeOp})
def broadcast_in_dim_reshape(op: hlo.BroadcastInDimOp, b: Builder):
    """broadcast_in_dim(reshape(x), dims) -> broadcast_in_dim(x, dims')   (the reshape only inserts or removes dims of size 1)"""
    r = producer(op.operand, hlo.ReshapeOp)
    if r is None:
        return None
    src, mid = shape(r.operand), shape(r.result)
    a = [i for i, n in enumerate(src) if n != 1]
    c = [j for j, n in enumerate(mid) if n != 1]
    if [src[i] for i in a] != [mid[j] for j in c] or 0 in src:
        return None
    dims = _dims(op)
    mapped: list[int | None] = [None] * len(src)
    for i, j in zip(a, c):
        mapped[i] = dims[j]
    new_dims = _place_unit_dims(mapped, len(shape(op.result)))
    if new_dims is None:
        return None
    return b.insert(hlo.BroadcastInDimOp(r.operand, new_dims, op.result.type)).results[0]


# ============================================================================ elementwise ops of broadcasts


def _hoist(op, b: Builder, operands: list[SSAValue]) -> SSAValue | None:
    """``op`` on operands that are all ``broadcast_in_dim(x_k, dims)`` of one expanding
    shape and dims, or broadcasts of rank-0 values, or rank-0 values the op accepts as
    they are (select's predicate, clamp's bounds): the op on the small operands, then one
    broadcast."""
    rank0_ok = shape(op.result) != ()
    if any(not isinstance(v.owner, (hlo.BroadcastInDimOp, hlo.ConstantOp)) and not (rank0_ok and shape(v) == ()) for v in operands):
        return None  # an operand the plan below refuses: decided before the costlier tests
    template = None
    for v in operands:
        bc = producer(v, hlo.BroadcastInDimOp)
        if bc is not None and _expands(bc):
            template = bc
            break
    if template is None:
        return None
    small_shape, dims = shape(template.operand), _dims(template)
    plan: list[tuple[str, SSAValue, SSAValue]] = []  # decided before anything is built: a rule that
    for v in operands:  # builds ops and then declines would make the driver revisit forever
        bc = producer(v, hlo.BroadcastInDimOp)
        if shape(v) == () and shape(op.result) != ():
            plan.append(("as is", v, v))
        elif bc is not None and shape(bc.operand) == small_shape and _dims(bc) == dims:
            plan.append(("as is", bc.operand, v))
        elif bc is not None and shape(bc.operand) == ():
            plan.append(("splat", bc.operand, v))
        elif bc is None and (s := splat_scalar(v)) is not None:
            plan.append(("splat", s, v))  # a splat constant
        else:
            return None
    small = [splat_to(b, x, small_shape, v) if how == "splat" else x for how, x, v in plan]
    inner = rebuild(b, op, small, small_shape)
    return b.insert(hlo.BroadcastInDimOp(inner, dims, op.result.type)).results[0]


@rule(example=Example(lambda x: jnp.exp(jnp.broadcast_to(x, (3, 4))) + jnp.sin(jnp.broadcast_to(x[0], (3, 4))), [(4,)]), roots=UNARY, needs={0: hlo.BroadcastInDimOp})
def unary_broadcast_in_dim(op, b: Builder):
    """f(broadcast_in_dim(x)) -> broadcast_in_dim(f(x))   (f elementwise unary; the broadcast expands)"""
    return _hoist(op, b, [op.operand])


@rule(example=Example(lambda x: jnp.broadcast_to(x, (3, 4)).astype(jnp.float32), [(4,)]), needs={0: hlo.BroadcastInDimOp})
def convert_broadcast_in_dim(op: hlo.ConvertOp, b: Builder):
    """convert(broadcast_in_dim(x)) -> broadcast_in_dim(convert(x))   (the broadcast expands)"""
    return _hoist(op, b, [op.operand])


@rule(example=Example(lambda x, y: jnp.broadcast_to(x, (3, 4)) * jnp.broadcast_to(y, (3, 4)), [(4,), (4,)]), roots=BINARY, needs=hlo.BroadcastInDimOp)
def binary_broadcast_in_dim(op, b: Builder):
    """f(broadcast_in_dim(x, d), broadcast_in_dim(y, d)) -> broadcast_in_dim(f(x, y), d)   (f elementwise binary or compare; also broadcasts of rank-0 values; the broadcast expands)"""
    return _hoist(op, b, [op.lhs, op.rhs])


@rule(example=Example(lambda x, y: jnp.where(jnp.broadcast_to(x > y, (3, 4)), jnp.broadcast_to(x, (3, 4)), 2.0), [(4,), (4,)]), needs=hlo.BroadcastInDimOp)
def select_broadcast_in_dim(op: hlo.SelectOp, b: Builder):
    """select(broadcast_in_dim(p, d), broadcast_in_dim(x, d), broadcast_in_dim(y, d)) -> broadcast_in_dim(select(p, x, y), d)   (also a scalar p and broadcasts of rank-0 values)"""
    return _hoist(op, b, [op.pred, op.on_true, op.on_false])


@rule(
    example=Example(
        mlir=mlir_main(
            '  %lo = "stablehlo.constant"() <{value = dense<-0.5> : tensor<f64>}> : () -> tensor<f64>\n'
            '  %hi = "stablehlo.constant"() <{value = dense<0.5> : tensor<f64>}> : () -> tensor<f64>\n'
            '  %0 = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 1>}> : (tensor<4xf64>) -> tensor<3x4xf64>\n'
            '  %1 = "stablehlo.clamp"(%lo, %0, %hi) : (tensor<f64>, tensor<3x4xf64>, tensor<f64>) -> tensor<3x4xf64>\n'
            "  func.return %1 : tensor<3x4xf64>",
            "%x: tensor<4xf64>",
            "tensor<3x4xf64>",
        )
    )
, needs=hlo.BroadcastInDimOp)
def clamp_broadcast_in_dim(op: hlo.ClampOp, b: Builder):
    """clamp(lo, broadcast_in_dim(x, d), hi) -> broadcast_in_dim(clamp(lo, x, hi), d)   (scalar bounds or broadcasts like x's)"""
    return _hoist(op, b, [op.min, op.operand, op.max])


@rule(
    example=Example(
        mlir=mlir_main(
            '  %0 = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 1>}> : (tensor<4xf64>) -> tensor<3x4xf64>\n'
            '  %1 = "stablehlo.reduce_precision"(%0) <{exponent_bits = 5 : i32, mantissa_bits = 10 : i32}> : (tensor<3x4xf64>) -> tensor<3x4xf64>\n'
            "  func.return %1 : tensor<3x4xf64>",
            "%x: tensor<4xf64>",
            "tensor<3x4xf64>",
        )
    )
, needs={0: hlo.BroadcastInDimOp})
def reduce_precision_broadcast_in_dim(op: hlo.ReducePrecisionOp, b: Builder):
    """reduce_precision(broadcast_in_dim(x)) -> broadcast_in_dim(reduce_precision(x))   (the broadcast expands)"""
    bc = producer(op.operand, hlo.BroadcastInDimOp)
    if bc is None or not _expands(bc):
        return None
    small = TensorType(elem(op.output), list(shape(bc.operand)))
    new = hlo.ReducePrecisionOp.create(operands=[bc.operand], result_types=[small], properties=dict(op.properties), attributes=dict(op.attributes))
    inner = b.insert(new).results[0]
    return b.insert(hlo.BroadcastInDimOp(inner, _dims(bc), op.output.type)).results[0]


@rule(example=Example(lambda x: jax.lax.bitcast_convert_type(jnp.broadcast_to(x, (3, 4)), jnp.int64).astype(jnp.float64), [(4,)]), needs={0: hlo.BroadcastInDimOp})
def bitcast_convert_broadcast_in_dim(op: hlo.BitcastConvertOp, b: Builder):
    """bitcast_convert(broadcast_in_dim(x)) -> broadcast_in_dim(bitcast_convert(x))   (same element width; the broadcast expands)"""
    bc = producer(op.operand, hlo.BroadcastInDimOp)
    if bc is None or not _expands(bc) or shape(op.operand) != shape(op.result):
        return None
    small = TensorType(elem(op.result), list(shape(bc.operand)))
    inner = b.insert(hlo.BitcastConvertOp(bc.operand, small)).results[0]
    return b.insert(hlo.BroadcastInDimOp(inner, _dims(bc), op.result.type)).results[0]


@rule(example=Example(lambda x: jnp.flip(jnp.broadcast_to(x, (3, 4)), (0, 1)), [(4,)]), needs={0: hlo.BroadcastInDimOp})
def reverse_broadcast_in_dim(op: hlo.ReverseOp, b: Builder):
    """reverse(broadcast_in_dim(x, d), dims) -> broadcast_in_dim(reverse(x, dims of x), d)   (reversing a broadcast dim changes nothing)"""
    bc = producer(op.operand, hlo.BroadcastInDimOp)
    if bc is None:
        return None
    src = shape(bc.operand)
    where = {d: i for i, d in enumerate(_dims(bc))}
    rev = sorted(where[d] for d in op.dimensions.get_values() if d in where and src[where[d]] != 1)
    return b.insert(hlo.BroadcastInDimOp(b.reverse(bc.operand, rev), _dims(bc), op.result.type)).results[0]


@rule(example=Example(lambda x: jnp.broadcast_to(x.T[:, :, None], (3, 2, 5)), [(2, 3)]), needs={0: hlo.TransposeOp})
def broadcast_in_dim_transpose(op: hlo.BroadcastInDimOp, b: Builder):
    """broadcast_in_dim(transpose(x, p), d) -> broadcast_in_dim(x, d')   (d'[p[j]] = d[j])"""
    t = producer(op.operand, hlo.TransposeOp)
    if t is None:
        return None
    perm, dims = list(t.permutation.get_values()), _dims(op)
    new_dims = [0] * len(dims)
    for j, pj in enumerate(perm):
        new_dims[pj] = dims[j]
    return b.insert(hlo.BroadcastInDimOp(t.operand, new_dims, op.result.type)).results[0]


@rule(example=Example(lambda x: x + jnp.broadcast_to(jnp.arange(4.0)[:, None], (4, 3)), [(4, 3)]), needs={0: hlo.IotaOp})
def broadcast_in_dim_iota(op: hlo.BroadcastInDimOp, b: Builder):
    """broadcast_in_dim(iota(d)) -> iota(dims[d])   (the iota dimension is not expanded)"""
    iota = producer(op.operand, hlo.IotaOp)
    if iota is None:
        return None
    d = iota.iota_dimension.value.data
    dims = list(op.broadcast_dimensions.get_values())
    if shape(op.operand)[d] != shape(op.result)[dims[d]]:
        return None
    return b.iota(shape(op.result), dims[d], elem(op.result))


@rule(
    example=Example(
        mlir=mlir_main(
            '  %i = "stablehlo.iota"() <{iota_dimension = 0 : i64}> : () -> tensor<4xf64>\n'
            '  %0 = "stablehlo.reshape"(%i) : (tensor<4xf64>) -> tensor<1x4xf64>\n'
            '  %1 = "stablehlo.add"(%0, %x) : (tensor<1x4xf64>, tensor<1x4xf64>) -> tensor<1x4xf64>\n'
            "  func.return %1 : tensor<1x4xf64>",
            "%x: tensor<1x4xf64>",
            "tensor<1x4xf64>",
        )
    )
, needs={0: hlo.IotaOp})
def reshape_iota(op: hlo.ReshapeOp, b: Builder):
    """reshape(iota(d)) -> iota(d')   (dim d passes through the reshape unsplit and unmerged)"""
    iota = producer(op.operand, hlo.IotaOp)
    if iota is None:
        return None
    d = iota.iota_dimension.value.data
    if shape(op.operand)[d] == 1:
        return None  # all zeros: constant folding's business
    groups = reshape_groups(shape(op.operand), shape(op.result))
    if groups is None:
        return None
    for gs, gd in groups:
        if d in gs:
            if len(gs) != 1 or len(gd) != 1:
                return None
            return b.iota(shape(op.result), gd[0], elem(op.result))
    return None


@rule(example=Example(lambda x, y: jax.lax.select(x[0] > y[0], x.reshape(2, 2), y.reshape(2, 2)), [(4,), (4,)]), needs={1: hlo.ReshapeOp, 2: hlo.ReshapeOp})
def select_reshape(op: hlo.SelectOp, b: Builder):
    """select(reshape(p), reshape(x), reshape(y)) -> reshape(select(p, x, y))   (p, x, y of one shape, or a scalar p; the reshapes have no other user)"""
    rs = [producer(v, hlo.ReshapeOp) for v in (op.on_true, op.on_false)]
    if any(r is None or not _only_used_by(r.result, op) for r in rs) or shape(rs[0].operand) != shape(rs[1].operand):
        return None
    small_shape = shape(rs[0].operand)
    if shape(op.pred) == () and shape(op.result) != ():
        pred = op.pred
    else:
        rp = producer(op.pred, hlo.ReshapeOp)
        if rp is None or shape(rp.operand) != small_shape or not _only_used_by(rp.result, op):
            return None
        pred = rp.operand
    return b.reshape(b.select(pred, rs[0].operand, rs[1].operand), shape(op.result))
