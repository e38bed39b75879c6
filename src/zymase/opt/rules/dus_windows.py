"""dynamic_update_slice moved into the piece it writes: into one operand of a
concatenate or into the operand of a pad, through transposes, unit reshapes and
elementwise ops that both the operand and the update went through, and dropped when a
later update covers it.

This family sorts before ``dynamic``, so its rules see a dynamic_update_slice with
constant starts before ``dynamic_update_slice_constant_indices`` spells it as a
concatenate of slices. All rules are copies only (exact for every value). Start indices
are clamped by the op (start = clamp(index, 0, n - size)); a rule that moves an update
into a smaller operand along a dimension requires a constant start there, clamped at
compile time, so that the new start needs no clamping; dimensions whose size the rule
does not change keep their index values (the clamp is the same).
"""

from __future__ import annotations

from itertools import combinations

from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ..lazy_jax import jnp, lax
from ..pattern import UNARY_ELEMENTWISE, BINARY_ELEMENTWISE, Example, producer, rule, shape, value_of
from .common import clamped_start, constant_int, index_constant, rebuild, same_scalar, splat_scalar

UNARY, BINARY = UNARY_ELEMENTWISE, BINARY_ELEMENTWISE


def _ints(attr) -> list[int]:
    return list(attr.get_values()) if attr is not None else []


def _users(v: SSAValue) -> int:
    return len(list(v.uses))


def _same_block(*ops) -> bool:
    """The ops in one block: moving work from before a loop into its body would repeat it
    on every iteration."""
    return all(o.parent_block() is ops[0].parent_block() for o in ops)


def _static(v: SSAValue) -> bool:
    return all(n >= 0 for n in shape(v))


# ============================================================================ into a concatenate or a pad


@rule(
    example=[
        Example(lambda a, c, u: lax.dynamic_update_slice(jnp.concatenate([a, jnp.ones((4, 3)), c], axis=1), u, (1, 3)), [(4, 2), (4, 2), (2, 2)]),
        Example(
            mlir="""
func.func @main(%a: tensor<3x2xf64>, %c: tensor<3x4xf64>, %u: tensor<2x3xf64>, %i: tensor<i32>) -> tensor<3x6xf64> {
  %k = stablehlo.constant dense<3> : tensor<i32>
  %0 = stablehlo.concatenate %a, %c, dim = 1 : (tensor<3x2xf64>, tensor<3x4xf64>) -> tensor<3x6xf64>
  %1 = stablehlo.dynamic_update_slice %0, %u, %i, %k : (tensor<3x6xf64>, tensor<2x3xf64>, tensor<i32>, tensor<i32>) -> tensor<3x6xf64>
  func.return %1 : tensor<3x6xf64>
}"""
        ),
    ],
    needs={0: hlo.ConcatenateOp},
)
def dynamic_update_slice_into_concatenate(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(concatenate(x1, .., xk, .., d), u, i) -> concatenate(x1, .., dynamic_update_slice(xk, u, i'), .., d)   (a constant start along d, clamped, puts u inside xk; the concatenate's users are all updates)"""
    cat = producer(op.operand, hlo.ConcatenateOp)
    if cat is None or not _static(op.operand) or len(cat.inputs) < 2:
        return None
    if any(not isinstance(use.operation, hlo.DynamicUpdateSliceOp) or use.index != 0 for use in op.operand.uses):
        return None
    d = cat.dimension.value.data
    xs, us = shape(op.operand), shape(op.update)
    a = clamped_start(op.start_indices[d], xs[d], us[d])
    if a is None:
        return None
    offset = 0
    for k, piece in enumerate(cat.inputs):
        m = shape(piece)[d]
        if offset <= a and a + us[d] <= offset + m:
            starts = list(op.start_indices)
            starts[d] = index_constant(b, a - offset, starts[d])
            pieces = list(cat.inputs)
            pieces[k] = b.dynamic_update_slice(piece, op.update, starts)
            return b.concatenate(pieces, d)
        offset += m
    return None


@rule(
    example=[
        Example(lambda x, u: lax.dynamic_update_slice(lax.pad(x, 0.0, [(1, 2, 0), (2, 0, 0)]), u, (2, 3)), [(3, 4), (2, 2)]),
        Example(
            mlir="""
func.func @main(%x: tensor<4x3xf64>, %u: tensor<2x3xf64>, %i: tensor<i32>) -> tensor<6x3xf64> {
  %z = stablehlo.constant dense<1.5> : tensor<f64>
  %k = stablehlo.constant dense<2> : tensor<i32>
  %c = stablehlo.constant dense<0> : tensor<i32>
  %0 = stablehlo.pad %x, %z, low = [1, 0], high = [1, 0], interior = [0, 0] : (tensor<4x3xf64>, tensor<f64>) -> tensor<6x3xf64>
  %1 = stablehlo.dynamic_update_slice %0, %u, %k, %i : (tensor<6x3xf64>, tensor<2x3xf64>, tensor<i32>, tensor<i32>) -> tensor<6x3xf64>
  func.return %1 : tensor<6x3xf64>
}"""
        ),
    ],
    needs={0: hlo.PadOp},
)
def dynamic_update_slice_into_pad(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(pad(x, c), u, i) -> pad(dynamic_update_slice(x, u, i'), c)   (no interior padding, edges >= 0; along each padded dimension a constant start, clamped, puts u inside x; the pad used once)"""
    p = producer(op.operand, hlo.PadOp)
    if p is None or _users(op.operand) != 1 or not _static(op.operand) or any(_ints(p.interior_padding)):
        return None
    lo, hi = _ints(p.edge_padding_low), _ints(p.edge_padding_high)
    if any(n < 0 for n in lo + hi):
        return None
    xs, us, inner = shape(op.operand), shape(op.update), shape(p.operand)
    starts = list(op.start_indices)
    fixed = {}
    for d in range(len(xs)):
        if lo[d] == 0 and hi[d] == 0:
            continue
        a = clamped_start(starts[d], xs[d], us[d])
        if a is None or not (lo[d] <= a and a + us[d] <= lo[d] + inner[d]):
            return None
        fixed[d] = a - lo[d]
    for d, value in fixed.items():  # built only after every check passed
        starts[d] = index_constant(b, value, starts[d])
    return b.pad(b.dynamic_update_slice(p.operand, op.update, starts), p.padding_value, lo, hi)


# ============================================================================ covered updates


def _covers(i: SSAValue, j: SSAValue, n: int, ku: int, kv: int) -> bool:
    """Along a dimension of size n, the window of size kv written at index j covers the
    window of size ku written at index i (both clamped)."""
    if i is j:
        # clamp(i, 0, n - kv) <= clamp(i, 0, n - ku) and the ends follow when kv >= ku
        return kv >= ku
    a, c = clamped_start(i, n, ku), clamped_start(j, n, kv)
    return a is not None and c is not None and c <= a and a + ku <= c + kv


@rule(
    example=[
        Example(
            mlir="""
func.func @main(%x: tensor<6x5xf64>, %u: tensor<2x2xf64>, %v: tensor<3x4xf64>, %i: tensor<i32>) -> tensor<6x5xf64> {
  %c = stablehlo.constant dense<1> : tensor<i32>
  %z = stablehlo.constant dense<0> : tensor<i32>
  %0 = stablehlo.dynamic_update_slice %x, %u, %i, %c : (tensor<6x5xf64>, tensor<2x2xf64>, tensor<i32>, tensor<i32>) -> tensor<6x5xf64>
  %1 = stablehlo.dynamic_update_slice %0, %v, %i, %z : (tensor<6x5xf64>, tensor<3x4xf64>, tensor<i32>, tensor<i32>) -> tensor<6x5xf64>
  func.return %1 : tensor<6x5xf64>
}"""
        ),
    ],
    needs={0: hlo.DynamicUpdateSliceOp},
)
def dynamic_update_slice_covered_by_same_index(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(dynamic_update_slice(x, u, i), v, j) -> dynamic_update_slice(x, v, j)   (per dimension: the same index value with v at least as large as u, or constants, clamped, with v's window covering u's; the inner update used once)"""
    inner = producer(op.operand, hlo.DynamicUpdateSliceOp)
    if inner is None or _users(op.operand) != 1 or not _static(op.operand):
        return None
    xs, us, vs = shape(op.operand), shape(inner.update), shape(op.update)
    if not any(inner.start_indices[d] is op.start_indices[d] for d in range(len(xs))):
        return None  # all constants: dynamic_update_slice_covered
    for d in range(len(xs)):
        if not _covers(inner.start_indices[d], op.start_indices[d], xs[d], us[d], vs[d]):
            return None
    return b.dynamic_update_slice(inner.operand, op.update, list(op.start_indices))


# ============================================================================ through ops the operand and the update share


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3x5xf64>, %u: tensor<2x2xf64>, %i: tensor<i32>, %j: tensor<i32>) -> tensor<5x3xf64> {
  %0 = stablehlo.transpose %x, dims = [1, 0] : (tensor<3x5xf64>) -> tensor<5x3xf64>
  %1 = stablehlo.transpose %u, dims = [1, 0] : (tensor<2x2xf64>) -> tensor<2x2xf64>
  %2 = stablehlo.dynamic_update_slice %0, %1, %i, %j : (tensor<5x3xf64>, tensor<2x2xf64>, tensor<i32>, tensor<i32>) -> tensor<5x3xf64>
  func.return %2 : tensor<5x3xf64>
}"""
    ),
    needs={0: hlo.TransposeOp, 1: hlo.TransposeOp},
)
def dynamic_update_slice_transposes(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(transpose(x, p), transpose(u, p), i) -> transpose(dynamic_update_slice(x, u, i∘p⁻¹), p)   (the transposed operand used once)"""
    t, s = producer(op.operand, hlo.TransposeOp), producer(op.update, hlo.TransposeOp)
    if t is None or s is None or _users(op.operand) != 1:
        return None
    perm = _ints(t.permutation)
    if perm != _ints(s.permutation):
        return None
    starts = [None] * len(perm)
    for k, p in enumerate(perm):
        starts[p] = op.start_indices[k]
    return b.transpose(b.dynamic_update_slice(t.operand, s.operand, starts), perm)


@rule(
    example=[
        Example(lambda x, u: lax.dynamic_update_slice(jnp.exp(x), jnp.exp(u), (1, 2)), [(4, 5), (2, 2)]),
        Example(
            mlir="""
func.func @main(%x: tensor<5xf64>, %u: tensor<2xf64>, %i: tensor<i32>) -> tensor<5xf32> {
  %0 = stablehlo.convert %x : (tensor<5xf64>) -> tensor<5xf32>
  %1 = stablehlo.convert %u : (tensor<2xf64>) -> tensor<2xf32>
  %2 = stablehlo.dynamic_update_slice %0, %1, %i : (tensor<5xf32>, tensor<2xf32>, tensor<i32>) -> tensor<5xf32>
  func.return %2 : tensor<5xf32>
}"""
        ),
    ],
    needs={0: UNARY, 1: UNARY},
)
def dynamic_update_slice_unary(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(f(x), f(u), i) -> f(dynamic_update_slice(x, u, i))   (f elementwise, the same op with the same attributes on both; f(x) used once)"""
    f, g = producer(op.operand, UNARY), producer(op.update, UNARY)
    if f is None or g is None or type(f) is not type(g) or _users(op.operand) != 1 or not _same_block(f, g, op):
        return None
    if elem(f.operand) != elem(g.operand) or elem(f.result) != elem(g.result):
        return None
    if dict(f.properties) != dict(g.properties) or dict(f.attributes) != dict(g.attributes):
        return None
    inner = b.dynamic_update_slice(f.operand, g.operand, list(op.start_indices))
    return rebuild(b, f, [inner], shape(op.result))


def _splat_side(f, g):
    """For binary ops f, g of one kind: (x, u, k) when f = op(x, c), g = op(u, c') with c,
    c' splats of one value on side k (0: left), else None."""
    for k in (1, 0):
        cf, cg = splat_scalar(f.operands[k]), splat_scalar(g.operands[k])
        if cf is not None and cg is not None and same_scalar(cf, cg):
            return f.operands[1 - k], g.operands[1 - k], k
    return None


@rule(
    example=[
        Example(lambda x, u: lax.dynamic_update_slice(x * 3.0, u * 3.0, (1, 2)), [(4, 5), (2, 2)]),
        Example(lambda x, u: lax.dynamic_update_slice(2.0 - x, 2.0 - u, (3,)), [(5,), (2,)]),
    ],
    needs={0: BINARY, 1: BINARY},
)
def dynamic_update_slice_binary_splat(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(f(x, c), f(u, c), i) -> f(dynamic_update_slice(x, u, i), c)   (f elementwise binary, c one splat value on the same side; f(x, c) used once)"""
    f, g = producer(op.operand, BINARY), producer(op.update, BINARY)
    if f is None or g is None or type(f) is not type(g) or _users(op.operand) != 1 or not _same_block(f, g, op):
        return None
    if dict(f.properties) != dict(g.properties):
        return None
    found = _splat_side(f, g)
    if found is None:
        return None
    x, u, k = found
    if elem(x) != elem(u) or elem(f.result) != elem(g.result):
        return None
    inner = b.dynamic_update_slice(x, u, list(op.start_indices))
    operands = [inner, f.operands[k]] if k == 1 else [f.operands[k], inner]
    return rebuild(b, f, operands, shape(op.result))


def _unit_map(big: tuple[int, ...], small: tuple[int, ...], keep: set[int] | None = None):
    """The dims of ``big`` that remain when ``small`` is ``big`` without some of its
    size-1 dims (as a list of big's dims), choosing the dropped dims among ``keep`` when
    given; None when no choice works."""
    need = len(big) - len(small)
    if need < 0:
        return None
    units = [d for d, n in enumerate(big) if n == 1 and (keep is None or d in keep)]
    for gone in combinations(units, need):
        rest = [d for d in range(len(big)) if d not in gone]
        if [big[d] for d in rest] == list(small):
            return rest
    return None


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<4x3xf64>, %u: tensor<2x3xf64>, %i: tensor<i32>, %j: tensor<i32>) -> tensor<4x1x3xf64> {
  %0 = stablehlo.reshape %x : (tensor<4x3xf64>) -> tensor<4x1x3xf64>
  %1 = stablehlo.reshape %u : (tensor<2x3xf64>) -> tensor<2x1x3xf64>
  %2 = stablehlo.dynamic_update_slice %0, %1, %i, %j, %j : (tensor<4x1x3xf64>, tensor<2x1x3xf64>, tensor<i32>, tensor<i32>, tensor<i32>) -> tensor<4x1x3xf64>
  func.return %2 : tensor<4x1x3xf64>
}"""
    ),
    needs={0: hlo.ReshapeOp, 1: hlo.ReshapeOp},
)
def dynamic_update_slice_unit_reshapes(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(reshape(x), reshape(u), i) -> reshape(dynamic_update_slice(x, u, i'))   (both reshapes only insert the same size-1 dims, whose starts clamp to 0; the reshaped operand used once)"""
    r, s = producer(op.operand, hlo.ReshapeOp), producer(op.update, hlo.ReshapeOp)
    if r is None or s is None or _users(op.operand) != 1 or not _static(op.operand) or not _static(r.operand):
        return None
    xs, us = shape(op.operand), shape(op.update)
    if len(shape(r.operand)) != len(shape(s.operand)) or len(shape(r.operand)) >= len(xs):
        return None
    both_unit = {d for d in range(len(xs)) if xs[d] == 1 and us[d] == 1}
    rest = _unit_map(xs, shape(r.operand), both_unit)
    if rest is None or [us[d] for d in rest] != list(shape(s.operand)):
        return None
    starts = [op.start_indices[d] for d in rest]
    return b.reshape(b.dynamic_update_slice(r.operand, s.operand, starts), list(xs))


@rule(
    example=[
        Example(lambda x, u, v: lax.dynamic_update_slice(lax.dynamic_update_slice(x, u, (2, 1)), v, (1, 0)), [(6, 5), (2, 3), (4, 5)]),
        Example(
            mlir="""
func.func @main(%x: tensor<6x5xf64>, %u: tensor<2x2xf64>, %v: tensor<3x2xf64>, %i: tensor<i32>) -> tensor<6x5xf64> {
  %c = stablehlo.constant dense<1> : tensor<i32>
  %0 = stablehlo.dynamic_update_slice %x, %u, %i, %c : (tensor<6x5xf64>, tensor<2x2xf64>, tensor<i32>, tensor<i32>) -> tensor<6x5xf64>
  %1 = stablehlo.dynamic_update_slice %0, %v, %i, %c : (tensor<6x5xf64>, tensor<3x2xf64>, tensor<i32>, tensor<i32>) -> tensor<6x5xf64>
  func.return %1 : tensor<6x5xf64>
}"""
        ),
    ],
)
def dynamic_update_slice_overwritten(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(x, u, i) -> x   (its only user is a dynamic_update_slice of it whose window covers u's: per dimension the same index value with a window at least as large, or constants, clamped)"""
    uses = list(op.result.uses)
    if len(uses) != 1 or uses[0].index != 0 or not isinstance(uses[0].operation, hlo.DynamicUpdateSliceOp):
        return None
    outer = uses[0].operation
    if not _static(op.operand):
        return None
    xs, us, vs = shape(op.operand), shape(op.update), shape(outer.update)
    for d in range(len(xs)):
        if not _covers(op.start_indices[d], outer.start_indices[d], xs[d], us[d], vs[d]):
            return None
    return op.operand
