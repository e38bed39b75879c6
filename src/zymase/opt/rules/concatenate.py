"""Concatenate rules: drop trivial operands, flatten, merge adjacent pieces of one value
(slices, constants, broadcasts, iotas), turn splat edges into padding, and sink
concatenates past elementwise ops whose operands split the same way.

Canonical direction: concatenates move toward the results
(``f(concatenate(a, b)) -> concatenate(f(a), f(b))``), where slices of them pick single
pieces. Rules that sink a concatenate require it to have no other user.
"""

from __future__ import annotations

from ..lazy_jax import jnp
from ..lazy_jax import lax
from xdsl.dialects.builtin import TensorType

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ..pattern import CONSTANT, Example, sole_producer, producer, rule, shape, value_of, UNARY_ELEMENTWISE, BINARY_ELEMENTWISE
from .common import MAX_FOLD_ELEMENTS, as_value, beside_splat, rebuild, same_scalar, splat_scalar

UNARY, BINARY = UNARY_ELEMENTWISE, BINARY_ELEMENTWISE


def _dim(op: hlo.ConcatenateOp) -> int:
    return op.dimension.value.data


def _sizes(cat: hlo.ConcatenateOp) -> list[int]:
    return [shape(v)[_dim(cat)] for v in cat.inputs]


def _runs(op: hlo.ConcatenateOp, can_merge) -> list[list]:
    """The operands of ``op`` in maximal runs of neighbours accepted pairwise by
    ``can_merge(a, b)`` (an operand alone is a run of one)."""
    groups: list[list] = []
    for v in op.inputs:
        if groups and can_merge(groups[-1][-1], v):
            groups[-1].append(v)
        else:
            groups.append([v])
    return groups


def _merge_runs(op: hlo.ConcatenateOp, can_merge, merge) -> list | None:
    """Operands of ``op`` with each maximal run of neighbours accepted pairwise by
    ``can_merge(a, b)`` replaced by ``merge(run)``; None when there is no such run."""
    groups = _runs(op, can_merge)
    if len(groups) == len(op.inputs):
        return None
    return [g[0] if len(g) == 1 else merge(g) for g in groups]


# ============================================================================ trivial concatenates


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3x4xf64>) -> tensor<3x4xf64> {
  %0 = "stablehlo.concatenate"(%x) <{dimension = 1 : i64}> : (tensor<3x4xf64>) -> tensor<3x4xf64>
  func.return %0 : tensor<3x4xf64>
}"""
    )
)
def concatenate_single(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(x) -> x"""
    if len(op.inputs) == 1:
        return op.inputs[0]
    return None


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3x4xf64>, %e: tensor<3x0xf64>, %y: tensor<3x2xf64>) -> tensor<3x6xf64> {
  %0 = "stablehlo.concatenate"(%x, %e, %y) <{dimension = 1 : i64}> : (tensor<3x4xf64>, tensor<3x0xf64>, tensor<3x2xf64>) -> tensor<3x6xf64>
  func.return %0 : tensor<3x6xf64>
}"""
    )
)
def concatenate_empty_operands(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(x, empty, y) -> concatenate(x, y)"""
    kept = [v for v in op.inputs if shape(v)[_dim(op)] != 0]
    if len(kept) == len(op.inputs) or not kept:
        return None
    return b.concatenate(kept, _dim(op))


@rule(example=Example(lambda x, y, z: jnp.concatenate([x, jnp.concatenate([y, z], axis=1)], axis=1), [(2, 3), (2, 1), (2, 4)]), needs=hlo.ConcatenateOp)
def concatenate_concatenate(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(x, concatenate(y, z, d), d) -> concatenate(x, y, z, d)"""
    dim = _dim(op)
    inner = [producer(v, hlo.ConcatenateOp) for v in op.inputs]
    if not any(c is not None and _dim(c) == dim for c in inner):
        return None
    flat = []
    for v, c in zip(op.inputs, inner):
        flat.extend(c.inputs if c is not None and _dim(c) == dim else [v])
    return b.concatenate(flat, dim)


# ============================================================================ merging neighbours


def _adjacent_slices(dim: int):
    def can_merge(u, v) -> bool:
        su, sv = producer(u, hlo.SliceOp), producer(v, hlo.SliceOp)
        if su is None or sv is None or su.operand is not sv.operand:
            return False
        (s1, l1, t1), (s2, l2, t2) = ((list(a.get_values()) for a in (s.start_indices, s.limit_indices, s.strides)) for s in (su, sv))
        for d in range(len(s1)):
            if d != dim and (s1[d], l1[d], t1[d]) != (s2[d], l2[d], t2[d]):
                return False
        return t1[dim] == t2[dim] and s2[dim] == s1[dim] + shape(u)[dim] * t1[dim]

    return can_merge


@rule(example=Example(lambda x: jnp.concatenate([x[:, 1:3], x[:, 3:6], x[:, 0:1]], axis=1), [(2, 6)]), needs=hlo.SliceOp)
def concatenate_adjacent_slices(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(slice(x, a:b), slice(x, b:c)) -> slice(x, a:c)   (x when it is all of x)"""
    dim = _dim(op)

    def merge(run):
        first, last = producer(run[0], hlo.SliceOp), producer(run[-1], hlo.SliceOp)
        start = list(first.start_indices.get_values())
        limit = list(first.limit_indices.get_values())
        limit[dim] = last.limit_indices.get_values()[dim]
        return b.slice(first.operand, start, limit, list(first.strides.get_values()))

    operands = _merge_runs(op, _adjacent_slices(dim), merge)
    if operands is None:
        return None
    return b.concatenate(operands, dim)


def _is_constant(v) -> bool:
    c = producer(v, (hlo.ConstantOp, hlo.BroadcastInDimOp))
    return c is not None and value_of(v) is not None


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<2xf64>) -> tensor<7xf64> {
  %a = "stablehlo.constant"() <{value = dense<[1.0, 2.0]> : tensor<2xf64>}> : () -> tensor<2xf64>
  %c = "stablehlo.constant"() <{value = dense<5.0> : tensor<f64>}> : () -> tensor<f64>
  %b = "stablehlo.broadcast_in_dim"(%c) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<3xf64>
  %0 = "stablehlo.concatenate"(%a, %b, %x) <{dimension = 0 : i64}> : (tensor<2xf64>, tensor<3xf64>, tensor<2xf64>) -> tensor<7xf64>
  func.return %0 : tensor<7xf64>
}"""
    )
, needs=CONSTANT)
def concatenate_constants(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(constant a, constant b) -> constant [a, b]   (at most 65536 elements unless a splat)"""
    import numpy as np

    dim = _dim(op)

    def can_merge(u, v) -> bool:
        return _is_constant(u) and _is_constant(v)

    def fits(run) -> bool:
        return sum(int(np.prod(shape(v))) for v in run) <= MAX_FOLD_ELEMENTS

    groups = _runs(op, can_merge)
    runs = [g for g in groups if len(g) > 1]
    if not runs:
        return None
    values = {id(g): np.concatenate([value_of(v) for v in g], axis=dim) for g in runs}
    ok = {id(g) for g in runs if fits(g) or np.all(values[id(g)] == values[id(g)].reshape(-1)[0])}
    if not ok:
        return None
    operands = []
    for g in groups:
        if id(g) in ok:
            value = values[id(g)]
            operands.append(b.constant(value, TensorType(elem(op.result), list(value.shape))))
        else:
            operands.extend(g)
    return b.concatenate(operands, dim)


def _broadcast_along(v, dim: int) -> hlo.BroadcastInDimOp | None:
    """The broadcast defining ``v`` when it repeats its operand along ``dim``."""
    bc = producer(v, hlo.BroadcastInDimOp)
    if bc is None:
        return None
    dims = list(bc.broadcast_dimensions.get_values())
    if dim in dims and shape(bc.operand)[dims.index(dim)] != 1:
        return None
    return bc


@rule(example=Example(lambda x: jnp.concatenate([jnp.broadcast_to(x, (2, 3)), jnp.broadcast_to(x, (4, 3))]), [(3,)]), needs=hlo.BroadcastInDimOp)
def concatenate_broadcasts_of_one_value(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(broadcast(x), broadcast(x)) -> broadcast(x)   (x repeated along the concatenated dim)"""
    dim = _dim(op)

    def can_merge(u, v) -> bool:
        bu, bv = _broadcast_along(u, dim), _broadcast_along(v, dim)
        return bu is not None and bv is not None and bu.operand is bv.operand and bu.broadcast_dimensions == bv.broadcast_dimensions

    def merge(run):
        bc = producer(run[0], hlo.BroadcastInDimOp)
        out = list(shape(run[0]))
        out[dim] = sum(shape(v)[dim] for v in run)
        return b.broadcast_in_dim(bc.operand, out, bc.broadcast_dimensions.get_values())

    operands = _merge_runs(op, can_merge, merge)
    if operands is None:
        return None
    return b.concatenate(operands, dim)


@rule(example=Example(lambda x, y: jnp.concatenate([jnp.broadcast_to(x, (4, 2)), jnp.broadcast_to(y, (4, 3))], axis=1), [(2,), (3,)]), needs={0: hlo.BroadcastInDimOp})
def concatenate_broadcasts(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(broadcast(x, dims), broadcast(y, dims), d) -> broadcast(concatenate(x, y, k), dims)   (d = dims[k], not expanded)"""
    dim = _dim(op)
    bcs = [producer(v, hlo.BroadcastInDimOp) for v in op.inputs]
    if any(bc is None for bc in bcs):
        return None
    dims = list(bcs[0].broadcast_dimensions.get_values())
    if dim not in dims or any(list(bc.broadcast_dimensions.get_values()) != dims for bc in bcs):
        return None
    if all(bc.operand is bcs[0].operand for bc in bcs):
        return None
    k = dims.index(dim)
    for bc in bcs:
        src, out = shape(bc.operand), shape(bc.result)
        if src[k] != out[dim]:
            return None
        if [n for i, n in enumerate(src) if i != k] != [n for i, n in enumerate(shape(bcs[0].operand)) if i != k]:
            return None
    x = b.concatenate([bc.operand for bc in bcs], k)
    return b.broadcast_in_dim(x, shape(op.result), dims)


@rule(example=Example(lambda x: x + jnp.concatenate([lax.broadcasted_iota(jnp.float64, (2, 3), 1), lax.broadcasted_iota(jnp.float64, (4, 3), 1)]), [(6, 3)]), needs={0: hlo.IotaOp})
def concatenate_iotas(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(iota(k), iota(k), d) -> iota(k)   (k != d)"""
    dim = _dim(op)
    iotas = [producer(v, hlo.IotaOp) for v in op.inputs]
    if any(i is None for i in iotas):
        return None
    k = iotas[0].iota_dimension.value.data
    if k == dim or any(i.iota_dimension.value.data != k for i in iotas):
        return None
    return b.iota(shape(op.result), k, elem(op.result))


@rule(example=Example(lambda x: jnp.concatenate([jnp.zeros((2, 3)), x, jnp.zeros((1, 3))]), [(4, 3)]), needs=CONSTANT)
def concatenate_splat_edges(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(splat c, x, splat c) -> pad(x, c)"""
    dim = _dim(op)
    if len(op.inputs) < 2:
        return None
    first, last = splat_scalar(op.inputs[0]), splat_scalar(op.inputs[-1])
    lead = first is not None
    trail = last is not None and (first is None or same_scalar(first, last))
    if not lead and not trail or lead + trail >= len(op.inputs):
        return None
    scalar = first if lead else last
    rest = list(op.inputs)[int(lead) : len(op.inputs) - int(trail)]
    lows, highs = [0] * len(shape(op.result)), [0] * len(shape(op.result))
    lows[dim] = shape(op.inputs[0])[dim] if lead else 0
    highs[dim] = shape(op.inputs[-1])[dim] if trail else 0
    x = b.concatenate(rest, dim)
    return b.pad(x, as_value(b, scalar, op.result), lows, highs)


# ============================================================================ sinking concatenates past elementwise ops


@rule(roots=UNARY, example=Example(lambda x, y: jnp.exp(jnp.concatenate([x, y])), [(3,), (4,)]), needs={0: hlo.ConcatenateOp})
def unary_concatenate(op, b: Builder):
    """f(concatenate(x, y)) -> concatenate(f(x), f(y))   (f elementwise; the concatenate has no other user)"""
    cat = sole_producer(op.operand, hlo.ConcatenateOp, op)
    if cat is None:
        return None
    return b.concatenate([rebuild(b, op, [v], shape(v)) for v in cat.inputs], _dim(cat))


@rule(roots=BINARY, example=Example(lambda a, b, c, d: jnp.concatenate([a, b]) * jnp.concatenate([c, d]), [(3,), (4,), (3,), (4,)]), needs={0: hlo.ConcatenateOp, 1: hlo.ConcatenateOp})
def binary_concatenates(op, b: Builder):
    """f(concatenate(x, y), concatenate(z, w)) -> concatenate(f(x, z), f(y, w))   (f elementwise; the same split; no other users)"""
    cx, cy = sole_producer(op.lhs, hlo.ConcatenateOp, op), sole_producer(op.rhs, hlo.ConcatenateOp, op)
    if cx is None or cy is None or _dim(cx) != _dim(cy) or _sizes(cx) != _sizes(cy):
        return None
    parts = [rebuild(b, op, [u, v], shape(u)) for u, v in zip(cx.inputs, cy.inputs)]
    return b.concatenate(parts, _dim(cx))


@rule(
    roots=BINARY,
    example=[
        Example(lambda x, y: jnp.concatenate([x, y], axis=1) - 1.5, [(2, 3), (2, 4)]),
        Example(lambda x, y: 1.5 / jnp.concatenate([x, y], axis=1), [(2, 3), (2, 4)]),
    ],
    needs=hlo.ConcatenateOp,
)
def binary_concatenate_splat(op, b: Builder):
    """f(concatenate(x, y), splat c) -> concatenate(f(x, splat c), f(y, splat c)) ;  f(splat c, concatenate(x, y)) likewise   (f elementwise; no other user)"""
    match = beside_splat(op, b, hlo.ConcatenateOp)
    if match is None:
        return None
    cat, c, place = match
    parts = [rebuild(b, op, place(v, b.broadcast_in_dim(c, shape(v), [])), shape(v)) for v in cat.inputs]
    return b.concatenate(parts, _dim(cat))


@rule(example=Example(lambda p, x, y: jnp.where(p, jnp.concatenate([x, y]), jnp.concatenate([y, x])), [(), (3,), (3,)], dtypes=["bool", "float64", "float64"]), needs={1: hlo.ConcatenateOp, 2: hlo.ConcatenateOp})
def select_concatenates(op: hlo.SelectOp, b: Builder):
    """select(p, concatenate(x, y), concatenate(z, w)) -> concatenate(select(p, x, z), select(p, y, w))   (scalar p or p split the same way)"""
    cx, cy = sole_producer(op.on_true, hlo.ConcatenateOp, op), sole_producer(op.on_false, hlo.ConcatenateOp, op)
    if cx is None or cy is None or _dim(cx) != _dim(cy) or _sizes(cx) != _sizes(cy):
        return None
    if shape(op.pred) == ():
        preds = [op.pred] * len(cx.inputs)
    else:
        cp = sole_producer(op.pred, hlo.ConcatenateOp, op)
        if cp is None or _dim(cp) != _dim(cx) or _sizes(cp) != _sizes(cx):
            return None
        preds = list(cp.inputs)
    parts = [b.select(p, u, v) for p, u, v in zip(preds, cx.inputs, cy.inputs)]
    return b.concatenate(parts, _dim(cx))
