"""Rules rooted at stablehlo.dynamic_slice and stablehlo.dynamic_update_slice.

Start indices are clamped by the ops themselves: start = clamp(index, 0, n - size) per
dimension. Rules with constant indices apply that clamping at compile time; rules that
match the same index values in two ops rely on both clamping identically (same operand
shape, same sizes).
"""

from __future__ import annotations

from math import prod

from ..lazy_jax import lax
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ..pattern import CONSTANT, Example, producer, rule, shape, value_of
from .common import constant_splat, emit_splat


def _const_starts(indices, operand_shape, sizes) -> list[int] | None:
    """The clamped constant start indices, or None when one is not constant (or the
    operand has a dynamic dimension: the clamp is not known)."""
    out = []
    for v, n, size in zip(indices, operand_shape, sizes):
        if n < 0:
            return None
        value = value_of(v)
        if value is None or value.size != 1:
            return None
        out.append(min(max(int(value.reshape(())), 0), n - size))
    return out


def _sizes(op: hlo.DynamicSliceOp) -> list[int]:
    return list(op.slice_sizes.get_values())


def _same_values(a, c) -> bool:
    a, c = list(a), list(c)
    return len(a) == len(c) and all(x is y for x, y in zip(a, c))


# ============================================================================ dynamic_slice


@rule(example=Example(lambda x: lax.dynamic_slice(x, (1, 5), (2, 3)), [(4, 6)]))
def dynamic_slice_constant_indices(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(x, c..., sizes) -> slice(x, clamp(c), clamp(c) + sizes)   (constant indices, clamped into range)"""
    sizes = _sizes(op)
    starts = _const_starts(op.start_indices, shape(op.operand), sizes)
    if starts is None:
        return None
    return b.slice(op.operand, starts, [s + n for s, n in zip(starts, sizes)])


@rule(example=Example(lambda x, i: lax.dynamic_slice(x, (i.astype(int),), (4,)), [(4,), ()]))
def dynamic_slice_full(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(x, i..., shape(x)) -> x   (every start clamps to 0)"""
    if tuple(_sizes(op)) != shape(op.operand):
        return None
    return op.operand


@rule(example=Example(lambda y, i: lax.dynamic_slice(lax.broadcast_in_dim(y, (5, 4, 6), (1,)), (i.astype(int), i.astype(int), 2), (2, 3, 3)), [(4,), ()], domain=(0.0, 3.0)), needs={0: hlo.BroadcastInDimOp})
def dynamic_slice_broadcast(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(broadcast_in_dim(y), i...) -> broadcast_in_dim(dynamic_slice(y, i' ...))   (only y's non-copied dims are sliced)"""
    bc = producer(op.operand, hlo.BroadcastInDimOp)
    if bc is None:
        return None
    y, dims, sizes = bc.operand, list(bc.broadcast_dimensions.get_values()), _sizes(op)
    ys, xs = shape(y), shape(op.operand)
    y_sizes = [1 if ys[j] != xs[dims[j]] else sizes[dims[j]] for j in range(len(ys))]
    if ys and y_sizes != list(ys):
        zero = None
        starts = []
        for j in range(len(ys)):
            if ys[j] != xs[dims[j]]:
                if zero is None:
                    zero = b.constant(0, op.start_indices[0].type)
                starts.append(zero)
            else:
                starts.append(op.start_indices[dims[j]])
        y = b.dynamic_slice(y, starts, y_sizes)
    return b.broadcast_in_dim(y, sizes, dims)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<2x3xf64>, %i: tensor<i32>) -> tensor<2x3xf64> {
  %c = "stablehlo.constant"() <{value = dense<1.5> : tensor<5x4xf64>}> : () -> tensor<5x4xf64>
  %0 = "stablehlo.dynamic_slice"(%c, %i, %i) <{slice_sizes = array<i64: 2, 3>}> : (tensor<5x4xf64>, tensor<i32>, tensor<i32>) -> tensor<2x3xf64>
  %1 = "stablehlo.add"(%x, %0) : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
  func.return %1 : tensor<2x3xf64>
}"""
    )
, needs={0: CONSTANT})
def dynamic_slice_splat(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(splat c, i...) -> splat c   (a splat constant, or a broadcast of one; any indices)"""
    c = constant_splat(op.operand, complex_ok=True)
    if c is None:
        return None
    return emit_splat(b, c, op.result.type)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<5x3xf64>, %u: tensor<2x3xf64>, %i: tensor<i32>) -> tensor<2x3xf64> {
  %0 = "stablehlo.dynamic_update_slice"(%x, %u, %i, %i) : (tensor<5x3xf64>, tensor<2x3xf64>, tensor<i32>, tensor<i32>) -> tensor<5x3xf64>
  %1 = "stablehlo.dynamic_slice"(%0, %i, %i) <{slice_sizes = array<i64: 2, 3>}> : (tensor<5x3xf64>, tensor<i32>, tensor<i32>) -> tensor<2x3xf64>
  func.return %1 : tensor<2x3xf64>
}"""
    )
, needs={0: hlo.DynamicUpdateSliceOp})
def dynamic_slice_dynamic_update_slice(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(dynamic_update_slice(x, u, i...), i..., shape(u)) -> u   (same index values)"""
    dus = producer(op.operand, hlo.DynamicUpdateSliceOp)
    if dus is None or tuple(_sizes(op)) != shape(dus.update):
        return None
    if not _same_values(op.start_indices, dus.start_indices):
        return None
    return dus.update


# ============================================================================ dynamic_update_slice


@rule(example=Example(lambda x, u, i: lax.dynamic_update_slice(x, u, (i.astype(int),)), [(4,), (4,), ()]))
def dynamic_update_slice_full(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(x, u, i...) -> u   (u as large as x: every start clamps to 0)"""
    if shape(op.update) != shape(op.operand):
        return None
    return op.update


@rule(example=Example(lambda x, u, i: lax.dynamic_update_slice(x, u, (i.astype(int), 0)), [(4, 3), (0, 3), ()]))
def dynamic_update_slice_empty(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(x, u, i...) -> x   (u has no elements)"""
    if prod(shape(op.update)) != 0:
        return None
    return op.operand


def _insert(b: Builder, x: SSAValue, u: SSAValue, starts: list[int], dim: int) -> SSAValue:
    """x with u written at ``starts``, as a concatenation of slices of x around u (dims
    before ``dim`` already match)."""
    xs, us = shape(x), shape(u)
    while dim < len(xs) and xs[dim] == us[dim]:
        dim += 1
    if dim == len(xs):
        return u
    s, n, k = starts[dim], xs[dim], us[dim]

    def part(lo: int, hi: int) -> SSAValue:
        start = [0] * len(xs)
        limit = list(xs)
        start[dim], limit[dim] = lo, hi
        return b.slice(x, start, limit)

    pieces = []
    if s > 0:
        pieces.append(part(0, s))
    pieces.append(_insert(b, part(s, s + k), u, starts, dim + 1))
    if s + k < n:
        pieces.append(part(s + k, n))
    return b.concatenate(pieces, dim)


@rule(example=Example(lambda x, u: lax.dynamic_update_slice(x, u, (1, 9)), [(4, 6), (2, 3)]))
def dynamic_update_slice_constant_indices(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(x, u, c...) -> concatenate(slice(x), ..., u, ..., slice(x))   (constant indices, clamped into range; copies only)"""
    us = shape(op.update)
    starts = _const_starts(op.start_indices, shape(op.operand), us)
    if starts is None or us == shape(op.operand) or prod(us) == 0:
        return None
    return _insert(b, op.operand, op.update, starts, 0)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<5xf64>, %u: tensor<2xf64>, %v: tensor<2xf64>, %i: tensor<i32>) -> tensor<5xf64> {
  %0 = "stablehlo.dynamic_update_slice"(%x, %u, %i) : (tensor<5xf64>, tensor<2xf64>, tensor<i32>) -> tensor<5xf64>
  %1 = "stablehlo.dynamic_update_slice"(%0, %v, %i) : (tensor<5xf64>, tensor<2xf64>, tensor<i32>) -> tensor<5xf64>
  func.return %1 : tensor<5xf64>
}"""
    )
, needs={0: hlo.DynamicUpdateSliceOp})
def dynamic_update_slice_dynamic_update_slice(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(dynamic_update_slice(x, u, i...), v, i...) -> dynamic_update_slice(x, v, i...)   (shape(u) == shape(v), same index values)"""
    inner = producer(op.operand, hlo.DynamicUpdateSliceOp)
    if inner is None or shape(inner.update) != shape(op.update):
        return None
    if not _same_values(op.start_indices, inner.start_indices):
        return None
    return b.dynamic_update_slice(inner.operand, op.update, list(op.start_indices))


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<5xf64>, %i: tensor<i32>) -> tensor<5xf64> {
  %0 = "stablehlo.dynamic_slice"(%x, %i) <{slice_sizes = array<i64: 2>}> : (tensor<5xf64>, tensor<i32>) -> tensor<2xf64>
  %1 = "stablehlo.dynamic_update_slice"(%x, %0, %i) : (tensor<5xf64>, tensor<2xf64>, tensor<i32>) -> tensor<5xf64>
  func.return %1 : tensor<5xf64>
}"""
    )
, needs={1: hlo.DynamicSliceOp})
def dynamic_update_slice_dynamic_slice(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(x, dynamic_slice(x, i..., s), i...) -> x   (writes back what is there)"""
    ds = producer(op.update, hlo.DynamicSliceOp)
    if ds is None or ds.operand is not op.operand:
        return None
    if not _same_values(op.start_indices, ds.start_indices):
        return None
    return op.operand
