"""More data movement: dynamic_slice moved toward its source (through transposes, unit
reshapes, reverses, elementwise ops, into one operand of a concatenate or a pad,
composed with static and dynamic slices), slices and dynamic slices that read around a
dynamic_update_slice, concatenates of reshapes, broadcasts, reverses, pads and
neighbouring windows done as one op, reverses moved out past elementwise ops and
reshapes, and clamps with scalar bounds moved inside shape ops.

Copies only: every rule is exact for every value. Start indices are clamped by the ops
(start = clamp(index, 0, n - size)); a rule that changes the size of a dimension a
dynamic index applies to requires a constant index there, clamped at compile time, and
builds a start that needs no clamping; dimensions whose size stays keep their index
values. A rule that moves a dynamic_slice before an op doing work requires the
dynamic_slice to be that op's only user.
"""

from __future__ import annotations

from math import prod

from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ..lazy_jax import jnp, lax
from ..pattern import UNARY_ELEMENTWISE, BINARY_ELEMENTWISE, Example, only_used_by, producer, rule, shape, value_of
from .common import clamped_start, constant_int, index_constant, rebuild

UNARY, BINARY = UNARY_ELEMENTWISE, BINARY_ELEMENTWISE


def _ints(attr) -> list[int]:
    return list(attr.get_values()) if attr is not None else []


def _users(v: SSAValue) -> int:
    return len(list(v.uses))


def _fix(b: Builder, starts: list, fixed: dict[int, int]) -> None:
    """Replace the starts of the dims in ``fixed`` by constant indices (built only after
    every check has passed: a rule that builds ops and then declines is revisited forever)."""
    for d, value in fixed.items():
        starts[d] = index_constant(b, value, starts[d])


def _same_block(f, op) -> bool:
    """``f`` and ``op`` in one block: moving work from before a loop into its body would
    repeat it on every iteration."""
    return f.parent_block() is op.parent_block()


def _sizes(op: hlo.DynamicSliceOp) -> list[int]:
    return list(op.slice_sizes.get_values())


def _static(v: SSAValue) -> bool:
    return all(n >= 0 for n in shape(v))


def _ds(op: hlo.DynamicSliceOp, b: Builder, v: SSAValue) -> SSAValue:
    """``v`` (of the shape of ``op``'s operand) sliced as ``op`` slices."""
    return b.dynamic_slice(v, list(op.start_indices), _sizes(op))


# ============================================================================ dynamic_slice through shape ops


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3x5xf64>, %i: tensor<i32>, %j: tensor<i32>) -> tensor<2x2xf64> {
  %0 = stablehlo.transpose %x, dims = [1, 0] : (tensor<3x5xf64>) -> tensor<5x3xf64>
  %1 = stablehlo.dynamic_slice %0, %i, %j, sizes = [2, 2] : (tensor<5x3xf64>, tensor<i32>, tensor<i32>) -> tensor<2x2xf64>
  func.return %1 : tensor<2x2xf64>
}"""
    ),
    needs={0: hlo.TransposeOp},
)
def dynamic_slice_transpose(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(transpose(x, p), i, s) -> transpose(dynamic_slice(x, i∘p⁻¹, s∘p⁻¹), p)   (the transpose used once)"""
    t = producer(op.operand, hlo.TransposeOp)
    if t is None or _users(op.operand) != 1:
        return None
    perm = _ints(t.permutation)
    sizes = _sizes(op)
    starts: list = [None] * len(perm)
    inner = [0] * len(perm)
    for k, p in enumerate(perm):
        starts[p] = op.start_indices[k]
        inner[p] = sizes[k]
    return b.transpose(b.dynamic_slice(t.operand, starts, inner), perm)


def _unit_map(big, small):
    """The dims of ``big`` that remain when ``small`` is ``big`` without some of its
    size-1 dims, or None."""
    from itertools import combinations

    need = len(big) - len(small)
    if need <= 0:
        return None
    units = [d for d, n in enumerate(big) if n == 1]
    for gone in combinations(units, need):
        rest = [d for d in range(len(big)) if d not in gone]
        if [big[d] for d in rest] == list(small):
            return rest
    return None


@rule(
    example=[
        Example(
            mlir="""
func.func @main(%x: tensor<5x3xf64>, %i: tensor<i32>, %j: tensor<i32>) -> tensor<2x1x2xf64> {
  %0 = stablehlo.reshape %x : (tensor<5x3xf64>) -> tensor<5x1x3xf64>
  %1 = stablehlo.dynamic_slice %0, %i, %j, %j, sizes = [2, 1, 2] : (tensor<5x1x3xf64>, tensor<i32>, tensor<i32>, tensor<i32>) -> tensor<2x1x2xf64>
  func.return %1 : tensor<2x1x2xf64>
}"""
        ),
        Example(
            mlir="""
func.func @main(%x: tensor<1x5x1x3xf64>, %i: tensor<i32>, %j: tensor<i32>) -> tensor<3x2xf64> {
  %0 = stablehlo.reshape %x : (tensor<1x5x1x3xf64>) -> tensor<5x3xf64>
  %1 = stablehlo.dynamic_slice %0, %i, %j, sizes = [3, 2] : (tensor<5x3xf64>, tensor<i32>, tensor<i32>) -> tensor<3x2xf64>
  func.return %1 : tensor<3x2xf64>
}"""
        ),
    ],
    needs={0: hlo.ReshapeOp},
)
def dynamic_slice_unit_reshape(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(reshape(x), i, s) -> reshape(dynamic_slice(x, i', s'))   (the reshape only inserts or only removes size-1 dims, whose starts clamp to 0; the reshape used once)"""
    r = producer(op.operand, hlo.ReshapeOp)
    if r is None or _users(op.operand) != 1 or not _static(r.operand) or not _static(op.operand):
        return None
    xs, rs, sizes = shape(r.operand), shape(r.result), _sizes(op)
    zero = None
    if len(rs) > len(xs):  # inserted unit dims: drop their starts
        rest = _unit_map(rs, xs)
        if rest is None:
            return None
        starts = [op.start_indices[d] for d in rest]
        inner = [sizes[d] for d in rest]
    elif len(rs) < len(xs):  # removed unit dims: start them at 0
        rest = _unit_map(xs, rs)
        if rest is None or not rest:
            return None
        where = {d: k for k, d in enumerate(rest)}
        starts, inner = [], []
        for d in range(len(xs)):
            if d in where:
                starts.append(op.start_indices[where[d]])
                inner.append(sizes[where[d]])
            else:
                if zero is None:
                    zero = index_constant(b, 0, op.start_indices[0])
                starts.append(zero)
                inner.append(1)
    else:
        return None
    return b.reshape(b.dynamic_slice(r.operand, starts, inner), sizes)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<5x4xf64>, %i: tensor<i32>) -> tensor<2x3xf64> {
  %c = stablehlo.constant dense<4> : tensor<i32>
  %0 = stablehlo.reverse %x, dims = [0] : tensor<5x4xf64>
  %1 = stablehlo.dynamic_slice %0, %c, %i, sizes = [2, 3] : (tensor<5x4xf64>, tensor<i32>, tensor<i32>) -> tensor<2x3xf64>
  func.return %1 : tensor<2x3xf64>
}"""
    ),
    needs={0: hlo.ReverseOp},
)
def dynamic_slice_reverse(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(reverse(x, R), i, s) -> reverse(dynamic_slice(x, i'), R)   (constant starts along R, clamped: i'_d = n_d - s_d - clamp(i_d); the reverse used once)"""
    fixed: dict[int, int] = {}
    r = producer(op.operand, hlo.ReverseOp)
    if r is None or _users(op.operand) != 1 or not _static(op.operand):
        return None
    xs, sizes = shape(op.operand), _sizes(op)
    starts = list(op.start_indices)
    dims = _ints(r.dimensions)
    for d in set(dims):
        a = clamped_start(starts[d], xs[d], sizes[d])
        if a is None:
            return None
        fixed[d] = xs[d] - sizes[d] - a
    _fix(b, starts, fixed)
    return b.reverse(b.dynamic_slice(r.operand, starts, sizes), dims)


@rule(
    example=[
        Example(
            mlir="""
func.func @main(%i: tensor<i32>, %j: tensor<i32>) -> tensor<4x2xi32> {
  %0 = stablehlo.iota dim = 0 : tensor<4x6xi32>
  %1 = stablehlo.dynamic_slice %0, %i, %j, sizes = [4, 2] : (tensor<4x6xi32>, tensor<i32>, tensor<i32>) -> tensor<4x2xi32>
  func.return %1 : tensor<4x2xi32>
}"""
        ),
    ],
    needs={0: hlo.IotaOp},
)
def dynamic_slice_iota(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(iota(d), i, s) -> iota(s, d)   (the start along d clamps to 0: the slice spans d, or a constant index <= 0)"""
    io = producer(op.operand, hlo.IotaOp)
    if io is None or not _static(op.operand):
        return None
    d = io.iota_dimension.value.data
    xs, sizes = shape(op.operand), _sizes(op)
    if sizes[d] != xs[d] and clamped_start(op.start_indices[d], xs[d], sizes[d]) != 0:
        return None
    return b.iota(sizes, d, elem(op.result))


# ============================================================================ dynamic_slice through elementwise ops


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<5x4xf64>, %i: tensor<i32>, %j: tensor<i32>) -> tensor<2x3xf32> {
  %0 = stablehlo.exponential %x : tensor<5x4xf64>
  %1 = stablehlo.convert %0 : (tensor<5x4xf64>) -> tensor<5x4xf32>
  %2 = stablehlo.dynamic_slice %1, %i, %j, sizes = [2, 3] : (tensor<5x4xf32>, tensor<i32>, tensor<i32>) -> tensor<2x3xf32>
  func.return %2 : tensor<2x3xf32>
}"""
    ),
    needs={0: UNARY},
)
def dynamic_slice_unary(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(f(x), i) -> f(dynamic_slice(x, i))   (f elementwise, including convert; the dynamic_slice is f's only user)"""
    f = producer(op.operand, UNARY)
    if f is None or not only_used_by(f.result, op) or not _same_block(f, op):
        return None
    return rebuild(b, f, [_ds(op, b, f.operand)], shape(op.result))


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<5x4xf64>, %y: tensor<5x4xf64>, %i: tensor<i32>, %j: tensor<i32>) -> tensor<2x3xf64> {
  %0 = stablehlo.multiply %x, %y : tensor<5x4xf64>
  %1 = stablehlo.dynamic_slice %0, %i, %j, sizes = [2, 3] : (tensor<5x4xf64>, tensor<i32>, tensor<i32>) -> tensor<2x3xf64>
  func.return %1 : tensor<2x3xf64>
}"""
    ),
    needs={0: BINARY},
)
def dynamic_slice_binary(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(f(x, y), i) -> f(dynamic_slice(x, i), dynamic_slice(y, i))   (f elementwise binary or compare; the dynamic_slice is f's only user)"""
    f = producer(op.operand, BINARY)
    if f is None or not only_used_by(f.result, op) or not _same_block(f, op):
        return None
    return rebuild(b, f, [_ds(op, b, f.lhs), _ds(op, b, f.rhs)], shape(op.result))


@rule(
    example=Example(
        mlir="""
func.func @main(%p: tensor<6xi1>, %x: tensor<6xf64>, %y: tensor<6xf64>, %i: tensor<i32>) -> tensor<3xf64> {
  %0 = stablehlo.select %p, %x, %y : tensor<6xi1>, tensor<6xf64>
  %1 = stablehlo.dynamic_slice %0, %i, sizes = [3] : (tensor<6xf64>, tensor<i32>) -> tensor<3xf64>
  func.return %1 : tensor<3xf64>
}"""
    ),
    needs={0: hlo.SelectOp},
)
def dynamic_slice_select(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(select(p, x, y), i) -> select(dynamic_slice(p, i), dynamic_slice(x, i), dynamic_slice(y, i))   (a scalar p stays; the dynamic_slice is the select's only user)"""
    sel = producer(op.operand, hlo.SelectOp)
    if sel is None or not only_used_by(sel.result, op) or not _same_block(sel, op):
        return None
    pred = sel.pred if shape(sel.pred) == () else _ds(op, b, sel.pred)
    return b.select(pred, _ds(op, b, sel.on_true), _ds(op, b, sel.on_false))


# ============================================================================ dynamic_slice into one piece


@rule(
    example=[
        Example(
            mlir="""
func.func @main(%a: tensor<4x2xf64>, %c: tensor<4x3xf64>, %i: tensor<i32>) -> tensor<2x2xf64> {
  %k = stablehlo.constant dense<3> : tensor<i32>
  %0 = stablehlo.concatenate %a, %c, dim = 1 : (tensor<4x2xf64>, tensor<4x3xf64>) -> tensor<4x5xf64>
  %1 = stablehlo.dynamic_slice %0, %i, %k, sizes = [2, 2] : (tensor<4x5xf64>, tensor<i32>, tensor<i32>) -> tensor<2x2xf64>
  func.return %1 : tensor<2x2xf64>
}"""
        ),
    ],
    needs={0: hlo.ConcatenateOp},
)
def dynamic_slice_concatenate(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(concatenate(x1, .., xk, .., d), i) -> dynamic_slice(xk, i')   (a constant start along d, clamped, puts the window inside xk)"""
    cat = producer(op.operand, hlo.ConcatenateOp)
    if cat is None or not _static(op.operand):
        return None
    d = cat.dimension.value.data
    xs, sizes = shape(op.operand), _sizes(op)
    a = clamped_start(op.start_indices[d], xs[d], sizes[d])
    if a is None:
        return None
    offset = 0
    for piece in cat.inputs:
        m = shape(piece)[d]
        if offset <= a and a + sizes[d] <= offset + m:
            starts = list(op.start_indices)
            starts[d] = index_constant(b, a - offset, starts[d])
            return b.dynamic_slice(piece, starts, sizes)
        offset += m
    return None


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<4x3xf64>, %i: tensor<i32>) -> tensor<3x2xf64> {
  %z = stablehlo.constant dense<0.0> : tensor<f64>
  %k = stablehlo.constant dense<2> : tensor<i32>
  %0 = stablehlo.pad %x, %z, low = [2, 0], high = [1, 0], interior = [0, 0] : (tensor<4x3xf64>, tensor<f64>) -> tensor<7x3xf64>
  %1 = stablehlo.dynamic_slice %0, %k, %i, sizes = [3, 2] : (tensor<7x3xf64>, tensor<i32>, tensor<i32>) -> tensor<3x2xf64>
  func.return %1 : tensor<3x2xf64>
}"""
    ),
    needs={0: hlo.PadOp},
)
def dynamic_slice_pad(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(pad(x, c), i) -> dynamic_slice(x, i')   (no interior padding; along each padded dimension a constant start, clamped, puts the window inside x)"""
    fixed: dict[int, int] = {}
    p = producer(op.operand, hlo.PadOp)
    if p is None or not _static(op.operand) or any(_ints(p.interior_padding)):
        return None
    lo, hi = _ints(p.edge_padding_low), _ints(p.edge_padding_high)
    xs, sizes, inner = shape(op.operand), _sizes(op), shape(p.operand)
    starts = list(op.start_indices)
    for d in range(len(xs)):
        if lo[d] == 0 and hi[d] == 0:
            continue
        a = clamped_start(starts[d], xs[d], sizes[d])
        if a is None or not (lo[d] <= a and a + sizes[d] <= lo[d] + inner[d]):
            return None
        fixed[d] = a - lo[d]
    _fix(b, starts, fixed)
    return b.dynamic_slice(p.operand, starts, sizes)


# ============================================================================ dynamic_slice and static slices


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<6x5xf64>, %i: tensor<i32>, %j: tensor<i32>) -> tensor<2x3xf64> {
  %0 = stablehlo.slice %x [1:5, 0:5] : (tensor<6x5xf64>) -> tensor<4x5xf64>
  %1 = stablehlo.dynamic_slice %0, %i, %j, sizes = [2, 3] : (tensor<4x5xf64>, tensor<i32>, tensor<i32>) -> tensor<2x3xf64>
  %c = stablehlo.constant dense<1> : tensor<i32>
  %2 = stablehlo.dynamic_slice %0, %c, %j, sizes = [2, 3] : (tensor<4x5xf64>, tensor<i32>, tensor<i32>) -> tensor<2x3xf64>
  %3 = stablehlo.add %1, %2 : tensor<2x3xf64>
  func.return %3 : tensor<2x3xf64>
}"""
    ),
    needs={0: hlo.SliceOp},
)
def dynamic_slice_slice(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(slice(x, s, l, t), i) -> dynamic_slice(x, i')   (dims the slice keeps whole keep i; elsewhere a constant start, clamped: i' = s + clamp(i) * t, stride 1 or a window of one)"""
    fixed: dict[int, int] = {}
    sl = producer(op.operand, hlo.SliceOp)
    if sl is None or not _static(sl.operand):
        return None
    start, limit, strides = _ints(sl.start_indices), _ints(sl.limit_indices), _ints(sl.strides)
    xs, ms, sizes = shape(sl.operand), shape(op.operand), _sizes(op)
    starts = list(op.start_indices)
    for d in range(len(xs)):
        if start[d] == 0 and limit[d] == xs[d] and strides[d] == 1:
            continue
        a = clamped_start(starts[d], ms[d], sizes[d])
        if a is None or (strides[d] != 1 and sizes[d] != 1):
            return None
        fixed[d] = start[d] + a * strides[d]
    _fix(b, starts, fixed)
    return b.dynamic_slice(sl.operand, starts, sizes)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<6x5xf64>, %i: tensor<i32>, %j: tensor<i32>) -> tensor<2x3xf64> {
  %c = stablehlo.constant dense<1> : tensor<i32>
  %0 = stablehlo.dynamic_slice %x, %c, %j, sizes = [4, 3] : (tensor<6x5xf64>, tensor<i32>, tensor<i32>) -> tensor<4x3xf64>
  %1 = stablehlo.slice %0 [1:3, 0:3] : (tensor<4x3xf64>) -> tensor<2x3xf64>
  func.return %1 : tensor<2x3xf64>
}"""
    ),
    needs={0: hlo.DynamicSliceOp},
)
def slice_dynamic_slice(op: hlo.SliceOp, b: Builder):
    """slice(dynamic_slice(x, i, s), a, l, t) -> dynamic_slice(x, i', l - a)   (dims the slice keeps whole keep i; elsewhere a constant start, clamped: i' = clamp(i) + a, stride 1 or one element)"""
    fixed: dict[int, int] = {}
    ds = producer(op.operand, hlo.DynamicSliceOp)
    if ds is None or not _static(ds.operand):
        return None
    start, limit, strides = _ints(op.start_indices), _ints(op.limit_indices), _ints(op.strides)
    xs, ms, out = shape(ds.operand), shape(op.operand), shape(op.result)
    if 0 in out:
        return None
    starts = list(ds.start_indices)
    for d in range(len(xs)):
        if start[d] == 0 and limit[d] == ms[d] and strides[d] == 1:
            continue
        a = clamped_start(starts[d], xs[d], ms[d])
        if a is None or (strides[d] != 1 and out[d] != 1):
            return None
        fixed[d] = a + start[d]
    _fix(b, starts, fixed)
    return b.dynamic_slice(ds.operand, starts, list(out))


# ============================================================================ reading around an update


def _disjoint_dim(n: int, written: tuple[int, int] | None, read: list[int]) -> bool:
    if written is None:
        return False
    a, k = written
    return all(not (a <= r < a + k) for r in read)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<6x5xf64>, %u: tensor<2x2xf64>, %i: tensor<i32>) -> tensor<3x5xf64> {
  %c = stablehlo.constant dense<1> : tensor<i32>
  %0 = stablehlo.dynamic_update_slice %x, %u, %c, %i : (tensor<6x5xf64>, tensor<2x2xf64>, tensor<i32>, tensor<i32>) -> tensor<6x5xf64>
  %1 = stablehlo.slice %0 [3:6, 0:5] : (tensor<6x5xf64>) -> tensor<3x5xf64>
  func.return %1 : tensor<3x5xf64>
}"""
    ),
    needs={0: hlo.DynamicUpdateSliceOp},
)
def slice_outside_update(op: hlo.SliceOp, b: Builder):
    """slice(dynamic_update_slice(x, u, i), s) -> slice(x, s)   (along some dimension a constant start, clamped, puts u's window beside every index the slice reads)"""
    dus = producer(op.operand, hlo.DynamicUpdateSliceOp)
    if dus is None or not _static(op.operand):
        return None
    start, limit, strides = _ints(op.start_indices), _ints(op.limit_indices), _ints(op.strides)
    xs, us = shape(op.operand), shape(dus.update)
    for d in range(len(xs)):
        a = clamped_start(dus.start_indices[d], xs[d], us[d])
        if a is not None and _disjoint_dim(xs[d], (a, us[d]), list(range(start[d], limit[d], strides[d]))):
            return b.slice(dus.operand, start, limit, strides)
    return None


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<6x5xf64>, %u: tensor<2x2xf64>, %i: tensor<i32>, %j: tensor<i32>) -> tensor<2x3xf64> {
  %c = stablehlo.constant dense<4> : tensor<i32>
  %k = stablehlo.constant dense<1> : tensor<i32>
  %0 = stablehlo.dynamic_update_slice %x, %u, %k, %i : (tensor<6x5xf64>, tensor<2x2xf64>, tensor<i32>, tensor<i32>) -> tensor<6x5xf64>
  %1 = stablehlo.dynamic_slice %0, %c, %j, sizes = [2, 3] : (tensor<6x5xf64>, tensor<i32>, tensor<i32>) -> tensor<2x3xf64>
  func.return %1 : tensor<2x3xf64>
}"""
    ),
    needs={0: hlo.DynamicUpdateSliceOp},
)
def dynamic_slice_outside_update(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(dynamic_update_slice(x, u, i), j) -> dynamic_slice(x, j)   (along some dimension constant starts, clamped, put the two windows apart)"""
    dus = producer(op.operand, hlo.DynamicUpdateSliceOp)
    if dus is None or not _static(op.operand):
        return None
    xs, us, sizes = shape(op.operand), shape(dus.update), _sizes(op)
    for d in range(len(xs)):
        a = clamped_start(dus.start_indices[d], xs[d], us[d])
        c = clamped_start(op.start_indices[d], xs[d], sizes[d])
        if a is not None and c is not None and (c + sizes[d] <= a or a + us[d] <= c):
            return b.dynamic_slice(dus.operand, list(op.start_indices), sizes)
    return None


# ============================================================================ concatenate of reshapes


def _concat_sources(op: hlo.ConcatenateOp):
    """(sources, e) when every operand of ``op`` is a reshape (used once) of a value, the
    values alike but along e, with the same elements before and after the concatenated
    dimension in each block (so the concatenate is one of the sources' along e)."""
    d = op.dimension.value.data
    rs = [producer(v, hlo.ReshapeOp) for v in op.inputs]
    if any(r is None for r in rs) or any(_users(v) != 1 for v in op.inputs):
        return None
    srcs = [r.operand for r in rs]
    if not all(_static(v) for v in srcs) or not _static(op.result):
        return None
    shapes = [shape(v) for v in srcs]
    rank = len(shapes[0])
    if rank == 0 or any(len(s) != rank for s in shapes):
        return None
    outs = [shape(v) for v in op.inputs]
    before = prod(outs[0][:d])
    after = prod(outs[0][d + 1 :])
    for e in range(rank):
        if any(s[:e] != shapes[0][:e] or s[e + 1 :] != shapes[0][e + 1 :] for s in shapes):
            continue
        if prod(shapes[0][:e]) != before:
            continue
        tail = prod(shapes[0][e + 1 :])
        if all(o[d] * after == s[e] * tail for o, s in zip(outs, shapes)):
            return srcs, e
    return None


@rule(
    example=[
        Example(lambda x, y: jnp.concatenate([x.reshape(1, 6), y.reshape(1, 6)]), [(2, 3), (2, 3)]),
        Example(lambda x, y: jnp.concatenate([x.reshape(2, 1, 3), y.reshape(2, 2, 3)], axis=1), [(2, 3), (2, 6)]),
    ],
    needs=hlo.ReshapeOp,
)
def concatenate_reshapes(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(reshape(x1), .., reshape(xn), d) -> reshape(concatenate(x1, .., xn, e))   (the xk alike but along e, the same number of elements before d and before e, and in each block; the reshapes used once)"""
    if len(op.inputs) < 2:
        return None
    found = _concat_sources(op)
    if found is None:
        return None
    srcs, e = found
    if any(elem(v) != elem(op.result) for v in srcs):
        return None
    return b.reshape(b.concatenate(srcs, e), list(shape(op.result)))


# ============================================================================ concatenates of broadcasts, slices and reshapes


def _realigned(bc: hlo.BroadcastInDimOp, dims: list[int]) -> bool:
    """broadcast_in_dim(x, dims') equals broadcast_in_dim(x, dims) (same result shape):
    where the two maps differ, x's dimension has size 1 and fits the new place."""
    own = _ints(bc.broadcast_dimensions)
    src, out = shape(bc.operand), shape(bc.result)
    if len(own) != len(dims):
        return False
    return all(a == c or (src[k] == 1) for k, (a, c) in enumerate(zip(own, dims))) and all(src[k] in (1, out[c]) for k, c in enumerate(dims))


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<1xf64>, %y: tensor<3xf64>) -> tensor<1x4x2xf64> {
  %0 = stablehlo.broadcast_in_dim %x, dims = [0] : (tensor<1xf64>) -> tensor<1x1x2xf64>
  %1 = stablehlo.broadcast_in_dim %y, dims = [1] : (tensor<3xf64>) -> tensor<1x3x2xf64>
  %2 = stablehlo.concatenate %0, %1, dim = 1 : (tensor<1x1x2xf64>, tensor<1x3x2xf64>) -> tensor<1x4x2xf64>
  func.return %2 : tensor<1x4x2xf64>
}"""
    ),
    needs={0: hlo.BroadcastInDimOp},
)
def concatenate_broadcasts_unit_dims(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(broadcast_in_dim(x, dims1), broadcast_in_dim(y, dims2), d) -> broadcast_in_dim(concatenate(x, y, k), dims2)   (the maps differ only at dims of size 1 of the operands; d = dims2[k])"""
    d = op.dimension.value.data
    bcs = [producer(v, hlo.BroadcastInDimOp) for v in op.inputs]
    if len(bcs) < 2 or any(bc is None for bc in bcs):
        return None
    maps = [_ints(bc.broadcast_dimensions) for bc in bcs]
    if all(m == maps[0] for m in maps):
        return None  # concatenate_broadcasts
    for ref in maps:
        if d not in ref or any(not _realigned(bc, ref) for bc in bcs):
            continue
        k = ref.index(d)
        srcs = [bc.operand for bc in bcs]
        if any(shape(bc.operand)[k] != shape(bc.result)[d] for bc in bcs):
            continue
        rest = [[n for j, n in enumerate(shape(v)) if j != k] for v in srcs]
        if any(r != rest[0] for r in rest) or any(elem(v) != elem(srcs[0]) for v in srcs):
            continue
        return b.broadcast_in_dim(b.concatenate(srcs, k), list(shape(op.result)), ref)
    return None


@rule(example=Example(lambda x: x[:, 1:4:2][:, 2:2], [(2, 4)]), needs={0: hlo.SliceOp})
def slice_slice_empty(op: hlo.SliceOp, b: Builder):
    """slice(slice(x, s1, l1, t1), s2, l2, t2) -> slice(x, s, l, t)   (an empty result: the empty dims read [0:0], the others compose)"""
    inner = producer(op.operand, hlo.SliceOp)
    out = shape(op.result)
    if inner is None or 0 not in out:
        return None
    s1, t1 = _ints(inner.start_indices), _ints(inner.strides)
    s2, t2 = _ints(op.start_indices), _ints(op.strides)
    start, limit, strides = [], [], []
    for a, ta, c, tc, k in zip(s1, t1, s2, t2, out):
        if k == 0:
            start.append(0)
            limit.append(0)
            strides.append(1)
            continue
        s, t = a + c * ta, ta * tc
        start.append(s)
        strides.append(t)
        limit.append(s + (k - 1) * t + 1)
    return b.slice(inner.operand, start, limit, strides)


def _same_padding(p: SSAValue, q: SSAValue) -> bool:
    if p is q:
        return True
    from .common import constant_splat

    a, c = constant_splat(p), constant_splat(q)
    return a is not None and c is not None and a.dtype == c.dtype and a.tobytes() == c.tobytes()


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<1x3xf64>, %c: tensor<f64>) -> tensor<1x1x8x1xf64> {
  %0 = stablehlo.pad %x, %c, low = [0, 0], high = [0, 2], interior = [0, 0] : (tensor<1x3xf64>, tensor<f64>) -> tensor<1x5xf64>
  %1 = stablehlo.reshape %0 : (tensor<1x5xf64>) -> tensor<1x1x5x1xf64>
  %2 = stablehlo.pad %1, %c, low = [0, 0, 3, 0], high = [0, 0, 0, 0], interior = [0, 0, 0, 0] : (tensor<1x1x5x1xf64>, tensor<f64>) -> tensor<1x1x8x1xf64>
  func.return %2 : tensor<1x1x8x1xf64>
}"""
    ),
    needs={0: hlo.ReshapeOp},
)
def pad_unit_reshape_pad(op: hlo.PadOp, b: Builder):
    """pad(reshape(pad(x, c)), c) -> pad(reshape(x), c)   (the reshape only inserts size-1 dims; no interior padding; edges added; the inner pad and reshape used once)"""
    r = producer(op.operand, hlo.ReshapeOp)
    p = producer(r.operand, hlo.PadOp) if r is not None else None
    if p is None or _users(op.operand) != 1 or _users(r.operand) != 1 or not _same_padding(p.padding_value, op.padding_value):
        return None
    if any(_ints(p.interior_padding)) or any(_ints(op.interior_padding)) or not _static(p.operand):
        return None
    lo1, hi1 = _ints(p.edge_padding_low), _ints(p.edge_padding_high)
    lo2, hi2 = _ints(op.edge_padding_low), _ints(op.edge_padding_high)
    if any(n < 0 for n in lo1 + hi1 + lo2 + hi2):
        return None
    ps, rs, xs = shape(p.result), shape(r.result), shape(p.operand)
    if any((lo1[d] or hi1[d]) and xs[d] < 1 for d in range(len(xs))) or any((lo1[d] or hi1[d]) and ps[d] == 1 for d in range(len(ps))):
        return None
    rest = _unit_map(rs, ps)
    if rest is None:
        return None
    inner = list(rs)
    lo, hi = list(lo2), list(hi2)
    for k, d in enumerate(rest):
        inner[d] = xs[k]
        lo[d] += lo1[k]
        hi[d] += hi1[k]
    return b.pad(b.reshape(p.operand, inner), op.padding_value, lo, hi)


@rule(
    example=Example(lambda x, y: jnp.concatenate([x[0:1].reshape(3, 1, 2), x[1:2].reshape(3, 1, 2), y, x[2:3].reshape(3, 1, 2), x[3:4].reshape(3, 1, 2)], axis=1), [(4, 3, 2), (3, 2, 2)]),
    needs=hlo.ReshapeOp,
)
def concatenate_moved_slice_runs(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(.., reshape(slice(x, j)), .., reshape(slice(x, k)), ..) -> concatenate(.., slice(transpose(x), j:..), .., slice(transpose(x), ..:k+1), ..)   (runs of unit slices of one x along d at consecutive indices, each reshape only moving d to the concatenated dimension; not all operands)"""
    from .movement import _moved_unit_slice

    e = op.dimension.value.data
    pieces = [_moved_unit_slice(v, e) for v in op.inputs]
    if all(p is not None for p in pieces) or sum(p is not None for p in pieces) < 2:
        return None
    src = next(p[0] for p in pieces if p is not None)
    key = next(p for p in pieces if p is not None)
    _, d, _, rest, _ = key
    # the positions of the operands in runs, by index along d
    runs: list[tuple[int, int]] = []  # (first operand, count)
    k = 0
    while k < len(pieces):
        p = pieces[k]
        if p is None or p[0] is not src or p[1] != d or p[3] != rest:
            k += 1
            continue
        n = 1
        while k + n < len(pieces):
            q = pieces[k + n]
            if q is None or q[0] is not src or q[1] != d or q[3] != rest or q[2] != p[2] + n:
                break
            n += 1
        if n >= 2:
            runs.append((k, n))
        k += n
    if not runs:
        return None
    rank = len(shape(src))
    start, limit, strides = (list(a) for a in key[4])
    others = [j for j in range(rank) if j != d]
    perm = others[:e] + [d] + others[e:]
    # the other dims as the pieces slice them, moved like the transpose moves them
    start[d], limit[d], strides[d] = 0, shape(src)[d], 1
    whole = start == [0] * rank and limit == list(shape(src)) and all(s == 1 for s in strides)
    base = src if whole else b.slice(src, start, limit, strides)
    moved = b.transpose(base, perm)
    ms = list(shape(moved))
    out: list[SSAValue] = []
    k = 0
    by_first = dict(runs)
    while k < len(op.inputs):
        if k in by_first:
            n = by_first[k]
            first = pieces[k][2]
            lo, hi = [0] * rank, list(ms)
            lo[e], hi[e] = first, first + n
            out.append(b.slice(moved, lo, hi))
            k += n
        else:
            out.append(op.inputs[k])
            k += 1
    return b.concatenate(out, e)


# ============================================================================ more pieces


@rule(
    example=Example(
        mlir="""
func.func @main(%a: tensor<1x4x3xf64>, %x: tensor<2x2x3xf64>, %c: tensor<1x4x3xf64>) -> tensor<4x5x3xf64> {
  %v = stablehlo.constant dense<0.5> : tensor<f64>
  %0 = stablehlo.pad %a, %v, low = [0, 1, 0], high = [0, 0, 0], interior = [0, 0, 0] : (tensor<1x4x3xf64>, tensor<f64>) -> tensor<1x5x3xf64>
  %1 = stablehlo.pad %x, %v, low = [0, 2, 0], high = [0, 1, 0], interior = [0, 0, 0] : (tensor<2x2x3xf64>, tensor<f64>) -> tensor<2x5x3xf64>
  %2 = stablehlo.pad %c, %v, low = [0, 1, 0], high = [0, 0, 0], interior = [0, 0, 0] : (tensor<1x4x3xf64>, tensor<f64>) -> tensor<1x5x3xf64>
  %3 = stablehlo.concatenate %0, %1, %2, dim = 0 : (tensor<1x5x3xf64>, tensor<2x5x3xf64>, tensor<1x5x3xf64>) -> tensor<4x5x3xf64>
  func.return %3 : tensor<4x5x3xf64>
}"""
    ),
    needs=hlo.PadOp,
)
def concatenate_pads_common_part(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(pad(x, v, P1), pad(y, v, P2), d) -> pad(concatenate(pad(x, v, P1 - P), pad(y, v, P2 - P), d), v, P)   (P the edges all share, none along d, no interior; one pad or more goes; the pads used once)"""
    d = op.dimension.value.data
    pads = [producer(v, hlo.PadOp) for v in op.inputs]
    if len(pads) < 2 or any(p is None for p in pads) or any(_users(v) != 1 for v in op.inputs):
        return None
    value = pads[0].padding_value
    edges = []
    for p in pads:
        if not _same_padding(p.padding_value, value) or any(_ints(p.interior_padding)):
            return None
        lo, hi = _ints(p.edge_padding_low), _ints(p.edge_padding_high)
        if lo[d] or hi[d] or any(n < 0 for n in lo + hi):
            return None
        edges.append((lo, hi))
    rank = len(edges[0][0])
    common_lo = [min(e[0][k] for e in edges) for k in range(rank)]
    common_hi = [min(e[1][k] for e in edges) for k in range(rank)]
    if not any(common_lo) and not any(common_hi):
        return None
    left = [([l - c for l, c in zip(lo, common_lo)], [h - c for h, c in zip(hi, common_hi)]) for lo, hi in edges]
    if all(any(lo) or any(hi) for lo, hi in left) or all(e == left[0] for e in left):
        return None  # nothing goes (or all the same: concatenate_pads)
    parts = [b.pad(p.operand, value, lo, hi) for p, (lo, hi) in zip(pads, left)]
    return b.pad(b.concatenate(parts, d), value, common_lo, common_hi)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<6x5xf64>, %i: tensor<i32>, %j: tensor<i32>) -> tensor<2x2xf64> {
  %c = stablehlo.constant dense<1> : tensor<i32>
  %0 = stablehlo.dynamic_slice %x, %i, %c, sizes = [6, 3] : (tensor<6x5xf64>, tensor<i32>, tensor<i32>) -> tensor<6x3xf64>
  %1 = stablehlo.dynamic_slice %0, %j, %c, sizes = [2, 2] : (tensor<6x3xf64>, tensor<i32>, tensor<i32>) -> tensor<2x2xf64>
  func.return %1 : tensor<2x2xf64>
}"""
    ),
    needs={0: hlo.DynamicSliceOp},
)
def dynamic_slice_dynamic_slice(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(dynamic_slice(x, i, S), j, s) -> dynamic_slice(x, k, s)   (per dimension: S spans x (k = j), s spans S (k = i), or i and j constants, clamped (k = i + j))"""
    fixed: dict[int, int] = {}
    inner = producer(op.operand, hlo.DynamicSliceOp)
    if inner is None or not _static(inner.operand):
        return None
    if len({elem(v) for v in [*inner.start_indices, *op.start_indices]}) > 1:
        return None  # the indices of one op share one type
    xs, big, small = shape(inner.operand), _sizes(inner), _sizes(op)
    starts = []
    for d in range(len(xs)):
        i, j = inner.start_indices[d], op.start_indices[d]
        if big[d] == xs[d]:
            starts.append(j)
        elif small[d] == big[d]:
            starts.append(i)
        else:
            a, c = clamped_start(i, xs[d], big[d]), clamped_start(j, big[d], small[d])
            if a is None or c is None:
                return None
            fixed[d] = a + c
            starts.append(j)
    _fix(b, starts, fixed)
    return b.dynamic_slice(inner.operand, starts, small)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<6x5xf64>, %i: tensor<i32>) -> tensor<3x2xf64> {
  %c1 = stablehlo.constant dense<1> : tensor<i32>
  %c3 = stablehlo.constant dense<3> : tensor<i32>
  %0 = stablehlo.dynamic_slice %x, %c1, %i, sizes = [2, 2] : (tensor<6x5xf64>, tensor<i32>, tensor<i32>) -> tensor<2x2xf64>
  %1 = stablehlo.dynamic_slice %x, %c3, %i, sizes = [1, 2] : (tensor<6x5xf64>, tensor<i32>, tensor<i32>) -> tensor<1x2xf64>
  %2 = stablehlo.concatenate %0, %1, dim = 0 : (tensor<2x2xf64>, tensor<1x2xf64>) -> tensor<3x2xf64>
  func.return %2 : tensor<3x2xf64>
}"""
    ),
    needs={0: hlo.DynamicSliceOp},
)
def concatenate_dynamic_slices(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(dynamic_slice(x, c1, i), dynamic_slice(x, c2, i), d) -> dynamic_slice(x, c1, i)   (neighbouring windows along d at constant starts, clamped; the other starts the same values with the same sizes)"""
    d = op.dimension.value.data
    dss = [producer(v, hlo.DynamicSliceOp) for v in op.inputs]
    if len(dss) < 2 or any(s is None for s in dss):
        return None
    x = dss[0].operand
    if any(s.operand is not x for s in dss) or not _static(x):
        return None
    xs = shape(x)
    first = _sizes(dss[0])
    at = None
    total = 0
    for s in dss:
        sizes = _sizes(s)
        for k in range(len(xs)):
            if k != d and (sizes[k] != first[k] or not (s.start_indices[k] is dss[0].start_indices[k] or (constant_int(s.start_indices[k]) is not None and clamped_start(s.start_indices[k], xs[k], sizes[k]) == clamped_start(dss[0].start_indices[k], xs[k], first[k])))):
                return None
        a = clamped_start(s.start_indices[d], xs[d], sizes[d])
        if a is None or (at is not None and a != at + total):
            return None
        if at is None:
            at = a
        total += sizes[d]
    starts = list(dss[0].start_indices)
    starts[d] = index_constant(b, at, starts[d])
    sizes = list(first)
    sizes[d] = total
    return b.dynamic_slice(x, starts, sizes)


# ============================================================================ reverses, repeats, clamps and pads through unit reshapes


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3x4xi32>) -> tensor<3x4xi32> {
  %0 = stablehlo.iota dim = 1 : tensor<3x4xi32>
  %1 = stablehlo.reverse %0, dims = [0] : tensor<3x4xi32>
  %2 = stablehlo.add %1, %x : tensor<3x4xi32>
  func.return %2 : tensor<3x4xi32>
}"""
    ),
    needs={0: hlo.IotaOp},
)
def reverse_iota_other_dims(op: hlo.ReverseOp, b: Builder):
    """reverse(iota(d), R) -> iota(d)   (d not in R: the values do not change along R)"""
    io = producer(op.operand, hlo.IotaOp)
    if io is None:
        return None
    if io.iota_dimension.value.data in set(_ints(op.dimensions)):
        return None
    return b.iota(list(shape(op.result)), io.iota_dimension.value.data, elem(op.result))


@rule(
    example=[
        Example(lambda x, y: jnp.concatenate([lax.rev(y, (0,)), lax.rev(x, (0,))]), [(2, 3), (3, 3)]),
        Example(lambda x, y: jnp.concatenate([lax.rev(x, (1,)), lax.rev(y, (1,))]), [(2, 3), (3, 3)]),
    ],
    needs=hlo.ReverseOp,
)
def concatenate_reverses(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(reverse(x1, R), .., reverse(xn, R), d) -> reverse(concatenate(x1, .., xn, d), R)   (the operands in reverse order when d is in R; the reverses used once)"""
    d = op.dimension.value.data
    revs = [producer(v, hlo.ReverseOp) for v in op.inputs]
    if len(revs) < 2 or any(r is None for r in revs) or any(_users(v) != 1 for v in op.inputs):
        return None
    dims = sorted(set(_ints(revs[0].dimensions)))
    if any(sorted(set(_ints(r.dimensions))) != dims for r in revs):
        return None
    srcs = [r.operand for r in revs]
    if d in dims:
        srcs = srcs[::-1]
    return b.reverse(b.concatenate(srcs, d), dims)


@rule(
    example=Example(lambda x: jnp.concatenate([x, x, x], axis=1), [(2, 1, 3)]),
)
def concatenate_repeated_unit(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(x, x, .., x, d) -> broadcast_in_dim(x)   (x of size 1 along d)"""
    d = op.dimension.value.data
    x = op.inputs[0]
    if len(op.inputs) < 2 or any(v is not x for v in op.inputs) or shape(x)[d] != 1:
        return None
    return b.broadcast_in_dim(x, list(shape(op.result)), list(range(len(shape(x)))))


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<5x4xf64>, %u: tensor<2x3xf64>, %i: tensor<i32>) -> tensor<5x4xf64> {
  %c = stablehlo.constant dense<1> : tensor<i32>
  %0 = stablehlo.reverse %x, dims = [0] : tensor<5x4xf64>
  %1 = stablehlo.reverse %u, dims = [0] : tensor<2x3xf64>
  %2 = stablehlo.dynamic_update_slice %0, %1, %c, %i : (tensor<5x4xf64>, tensor<2x3xf64>, tensor<i32>, tensor<i32>) -> tensor<5x4xf64>
  func.return %2 : tensor<5x4xf64>
}"""
    ),
    needs={0: hlo.ReverseOp, 1: hlo.ReverseOp},
)
def dynamic_update_slice_reverses(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(reverse(x, R), reverse(u, R), i) -> reverse(dynamic_update_slice(x, u, i'), R)   (constant starts along R, clamped: i'_d = n_d - k_d - clamp(i_d); the reversed operand used once)"""
    fixed: dict[int, int] = {}
    r, s = producer(op.operand, hlo.ReverseOp), producer(op.update, hlo.ReverseOp)
    if r is None or s is None or _users(op.operand) != 1 or not _static(op.operand):
        return None
    dims = sorted(set(_ints(r.dimensions)))
    if sorted(set(_ints(s.dimensions))) != dims:
        return None
    xs, us = shape(op.operand), shape(op.update)
    starts = list(op.start_indices)
    for d in dims:
        a = clamped_start(starts[d], xs[d], us[d])
        if a is None:
            return None
        fixed[d] = xs[d] - us[d] - a
    _fix(b, starts, fixed)
    return b.reverse(b.dynamic_update_slice(r.operand, s.operand, starts), dims)


@rule(
    example=Example(
        mlir="""
func.func @main(%lo: tensor<f64>, %x: tensor<5xf64>, %hi: tensor<5xf64>, %i: tensor<i32>) -> tensor<2xf64> {
  %0 = stablehlo.clamp %lo, %x, %hi : (tensor<f64>, tensor<5xf64>, tensor<5xf64>) -> tensor<5xf64>
  %1 = stablehlo.dynamic_slice %0, %i, sizes = [2] : (tensor<5xf64>, tensor<i32>) -> tensor<2xf64>
  func.return %1 : tensor<2xf64>
}"""
    ),
    needs={0: hlo.ClampOp},
)
def dynamic_slice_clamp(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(clamp(lo, x, hi), i) -> clamp(lo', dynamic_slice(x, i), hi')   (scalar bounds stay; the dynamic_slice is the clamp's only user)"""
    cl = producer(op.operand, hlo.ClampOp)
    if cl is None or not only_used_by(cl.result, op) or not _same_block(cl, op):
        return None
    lo = cl.min if shape(cl.min) == () else _ds(op, b, cl.min)
    hi = cl.max if shape(cl.max) == () else _ds(op, b, cl.max)
    return b.clamp(lo, _ds(op, b, cl.operand), hi)


@rule(
    example=[
        Example(lambda x: lax.pad(x, 0.5, [(0, 0, 0), (2, 1, 0)]).reshape(1, 6, 1), [(1, 3)]),
        Example(lambda x: lax.pad(x, 0.5, [(0, 0, 0), (1, 1, 0), (0, 0, 0)]).reshape(4, 2), [(1, 2, 2)]),
    ],
    needs={0: hlo.PadOp},
)
def reshape_unit_pad(op: hlo.ReshapeOp, b: Builder):
    """reshape(pad(x, c)) -> pad(reshape(x), c)   (the reshape only inserts or only removes size-1 dims, none of them padded; no interior padding; the pad used once)"""
    p = producer(op.operand, hlo.PadOp)
    if p is None or _users(op.operand) != 1 or any(_ints(p.interior_padding)) or not _static(p.operand) or not _static(op.result):
        return None
    lo, hi = _ints(p.edge_padding_low), _ints(p.edge_padding_high)
    ps, rs, xs = shape(p.result), shape(op.result), shape(p.operand)
    padded = [d for d in range(len(ps)) if lo[d] or hi[d]]
    if any(xs[d] < 1 or ps[d] == 1 for d in padded):
        return None
    if len(rs) > len(ps):
        rest = _unit_map(rs, ps)  # result dims that are pad's dims, in order
        if rest is None:
            return None
        inner, nlo, nhi = list(rs), [0] * len(rs), [0] * len(rs)
        for k, d in enumerate(rest):
            inner[d], nlo[d], nhi[d] = xs[k], lo[k], hi[k]
    elif len(rs) < len(ps):
        rest = _unit_map(ps, rs)  # pad's dims that remain
        if rest is None or any(d not in rest for d in padded):
            return None
        inner = [xs[d] for d in rest]
        nlo, nhi = [lo[d] for d in rest], [hi[d] for d in rest]
    else:
        return None
    return b.pad(b.reshape(p.operand, inner), p.padding_value, nlo, nhi)


# ============================================================================ elementwise ops over reverses, and clamps over shape ops


def _sole_reverse(v: SSAValue, op) -> hlo.ReverseOp | None:
    r = producer(v, hlo.ReverseOp)
    return r if r is not None and only_used_by(r.result, op) else None


def _rev_dims(r: hlo.ReverseOp) -> list[int]:
    return sorted(set(_ints(r.dimensions)))


@rule(roots=UNARY, example=Example(lambda x: jnp.exp(lax.rev(x, (1,))).astype(jnp.float32), [(3, 4)]), needs={0: hlo.ReverseOp})
def unary_reverse(op, b: Builder):
    """f(reverse(x, R)) -> reverse(f(x), R)   (f elementwise, including convert; f is the reverse's only user)"""
    r = _sole_reverse(op.operand, op)
    if r is None:
        return None
    return b.reverse(rebuild(b, op, [r.operand], shape(r.operand)), _rev_dims(r))


@rule(roots=BINARY, example=Example(lambda x, y: lax.rev(x, (0,)) * lax.rev(y, (0,)), [(3, 4), (3, 4)]), needs={0: hlo.ReverseOp, 1: hlo.ReverseOp})
def binary_reverses(op, b: Builder):
    """f(reverse(x, R), reverse(y, R)) -> reverse(f(x, y), R)   (f elementwise binary or compare; the reverses have no other user)"""
    rx, ry = _sole_reverse(op.lhs, op), _sole_reverse(op.rhs, op)
    if rx is None or ry is None or _rev_dims(rx) != _rev_dims(ry):
        return None
    return b.reverse(rebuild(b, op, [rx.operand, ry.operand], shape(rx.operand)), _rev_dims(rx))


@rule(roots=BINARY, example=[Example(lambda x: lax.rev(x, (1,)) - 2.0, [(3, 4)]), Example(lambda x: 2.0 / lax.rev(x, (0, 1)), [(3, 4)])], needs=hlo.ReverseOp)
def binary_reverse_splat(op, b: Builder):
    """f(reverse(x, R), splat c) -> reverse(f(x, splat c), R) ;  f(splat c, reverse(x, R)) likewise   (f elementwise; the reverse has no other user)"""
    from .common import splat_scalar

    for k in (0, 1):
        r = _sole_reverse(op.operands[k], op)
        other = op.operands[1 - k]
        if r is None or splat_scalar(other) is None:
            continue
        operands = [r.operand, other] if k == 0 else [other, r.operand]
        return b.reverse(rebuild(b, op, operands, shape(r.operand)), _rev_dims(r))
    return None


@rule(
    example=Example(lambda p, x, y: jnp.where(lax.rev(p, (0,)), lax.rev(x, (0,)), lax.rev(y, (0,))), [(4, 3), (4, 3), (4, 3)], dtypes=["bool", "float64", "float64"]),
    needs={1: hlo.ReverseOp, 2: hlo.ReverseOp},
)
def select_reverses(op: hlo.SelectOp, b: Builder):
    """select(reverse(p, R), reverse(x, R), reverse(y, R)) -> reverse(select(p, x, y), R)   (also a scalar p; the reverses have no other user)"""
    rx, ry = _sole_reverse(op.on_true, op), _sole_reverse(op.on_false, op)
    if rx is None or ry is None or _rev_dims(rx) != _rev_dims(ry):
        return None
    if shape(op.pred) == ():
        pred = op.pred
    else:
        rp = _sole_reverse(op.pred, op)
        if rp is None or _rev_dims(rp) != _rev_dims(rx):
            return None
        pred = rp.operand
    return b.reverse(b.select(pred, rx.operand, ry.operand), _rev_dims(rx))


_CLAMP = """
func.func @main(%lo: tensor<f64>, %x: tensor<{src}xf64>, %hi: tensor<f64>) -> tensor<{out}xf64> {{
  {body}
  %0 = stablehlo.clamp %lo, %y, %hi : (tensor<f64>, tensor<{out}xf64>, tensor<f64>) -> tensor<{out}xf64>
  func.return %0 : tensor<{out}xf64>
}}"""


@rule(
    example=Example(mlir=_CLAMP.format(src="3x4", out="3x4", body="%y = stablehlo.reverse %x, dims = [1] : tensor<3x4xf64>")),
    needs={1: hlo.ReverseOp},
)
def clamp_reverse(op: hlo.ClampOp, b: Builder):
    """clamp(lo, reverse(x, R), hi) -> reverse(clamp(lo, x, hi), R)   (scalar lo and hi; the reverse has no other user)"""
    r = _sole_reverse(op.operand, op)
    if r is None or shape(op.min) != () or shape(op.max) != ():
        return None
    return b.reverse(b.clamp(op.min, r.operand, op.max), _rev_dims(r))


@rule(
    example=Example(mlir=_CLAMP.format(src="3x4", out="12", body="%y = stablehlo.reshape %x : (tensor<3x4xf64>) -> tensor<12xf64>")),
    needs={1: hlo.ReshapeOp},
)
def clamp_reshape(op: hlo.ClampOp, b: Builder):
    """clamp(lo, reshape(x), hi) -> reshape(clamp(lo, x, hi))   (scalar lo and hi; the reshape has no other user)"""
    r = producer(op.operand, hlo.ReshapeOp)
    if r is None or not only_used_by(r.result, op) or shape(op.min) != () or shape(op.max) != ():
        return None
    return b.reshape(b.clamp(op.min, r.operand, op.max), list(shape(op.result)))


@rule(
    example=Example(
        mlir="""
func.func @main(%lo: tensor<f64>, %x: tensor<2x3xf64>, %z: tensor<1x3xf64>, %hi: tensor<f64>) -> tensor<3x3xf64> {
  %y = stablehlo.concatenate %x, %z, dim = 0 : (tensor<2x3xf64>, tensor<1x3xf64>) -> tensor<3x3xf64>
  %0 = stablehlo.clamp %lo, %y, %hi : (tensor<f64>, tensor<3x3xf64>, tensor<f64>) -> tensor<3x3xf64>
  func.return %0 : tensor<3x3xf64>
}"""
    ),
    needs={1: hlo.ConcatenateOp},
)
def clamp_concatenate(op: hlo.ClampOp, b: Builder):
    """clamp(lo, concatenate(x, y), hi) -> concatenate(clamp(lo, x, hi), clamp(lo, y, hi))   (scalar lo and hi; the concatenate has no other user)"""
    cat = producer(op.operand, hlo.ConcatenateOp)
    if cat is None or not only_used_by(cat.result, op) or shape(op.min) != () or shape(op.max) != ():
        return None
    return b.concatenate([b.clamp(op.min, v, op.max) for v in cat.inputs], cat.dimension.value.data)


@rule(
    example=Example(mlir=_CLAMP.format(src="2x3", out="4x3", body="%y = stablehlo.pad %x, %hi, low = [1, 0], high = [1, 0], interior = [0, 0] : (tensor<2x3xf64>, tensor<f64>) -> tensor<4x3xf64>")),
    needs={1: hlo.PadOp},
)
def clamp_pad(op: hlo.ClampOp, b: Builder):
    """clamp(lo, pad(x, v), hi) -> pad(clamp(lo, x, hi), clamp(lo, v, hi))   (scalar lo and hi; the pad has no other user)"""
    p = producer(op.operand, hlo.PadOp)
    if p is None or not only_used_by(p.result, op) or shape(op.min) != () or shape(op.max) != ():
        return None
    return b.pad(b.clamp(op.min, p.operand, op.max), b.clamp(op.min, p.padding_value, op.max), _ints(p.edge_padding_low), _ints(p.edge_padding_high), _ints(p.interior_padding))


@rule(
    example=[
        Example(lambda x: lax.rev(x, (1,)).reshape(3, 1, 4), [(3, 4)]),
        Example(lambda x: lax.rev(x, (0, 2)).reshape(3, 4), [(3, 1, 4)]),
    ],
    needs={0: hlo.ReverseOp},
)
def reshape_unit_reverse(op: hlo.ReshapeOp, b: Builder):
    """reshape(reverse(x, R)) -> reverse(reshape(x), R')   (the reshape only inserts or only removes size-1 dims; the reverse used once)"""
    r = producer(op.operand, hlo.ReverseOp)
    if r is None or _users(op.operand) != 1 or not _static(op.operand) or not _static(op.result):
        return None
    xs, rs = shape(op.operand), shape(op.result)
    dims = [d for d in _rev_dims(r) if xs[d] != 1]
    if len(rs) > len(xs):
        rest = _unit_map(rs, xs)
        if rest is None:
            return None
        new = [rest[d] for d in dims]
    elif len(rs) < len(xs):
        rest = _unit_map(xs, rs)
        if rest is None:
            return None
        where = {d: k for k, d in enumerate(rest)}
        if any(d not in where for d in dims):
            return None
        new = [where[d] for d in dims]
    else:
        return None
    return b.reverse(b.reshape(r.operand, list(rs)), new)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<4x3xf64>, %i: tensor<i32>) -> tensor<2x2xf64> {
  %z = stablehlo.constant dense<1.5> : tensor<f64>
  %k = stablehlo.constant dense<5> : tensor<i32>
  %0 = stablehlo.pad %x, %z, low = [0, 1], high = [3, 0], interior = [0, 0] : (tensor<4x3xf64>, tensor<f64>) -> tensor<7x4xf64>
  %1 = stablehlo.dynamic_slice %0, %k, %i, sizes = [2, 2] : (tensor<7x4xf64>, tensor<i32>, tensor<i32>) -> tensor<2x2xf64>
  func.return %1 : tensor<2x2xf64>
}"""
    ),
    needs={0: hlo.PadOp},
)
def dynamic_slice_pad_only_padding(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(pad(x, c), i) -> broadcast_in_dim(c)   (no interior padding; along some dimension a constant start, clamped, puts the window in the padding)"""
    p = producer(op.operand, hlo.PadOp)
    if p is None or not _static(op.operand) or any(_ints(p.interior_padding)):
        return None
    lo = _ints(p.edge_padding_low)
    xs, sizes, inner = shape(op.operand), _sizes(op), shape(p.operand)
    for d in range(len(xs)):
        a = clamped_start(op.start_indices[d], xs[d], sizes[d])
        if a is not None and (a + sizes[d] <= max(lo[d], 0) or a >= lo[d] + inner[d]):
            return b.broadcast_in_dim(p.padding_value, sizes, [])
    return None
