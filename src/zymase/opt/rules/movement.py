"""Data movement recognised as one op: sums of disjoint zero-padded pieces become a
concatenate, concatenated unit slices become a reverse or a transpose, neighbouring
dynamic updates become one update of a concatenate, window reductions over windows of
one element disappear. All exact (copies only), up to the sign of a zero where a sum
with a zero pad is dropped (``x + 0 -> x``, as elsewhere in the optimizer).
"""

from __future__ import annotations

from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ..lazy_jax import jnp, lax
from ..pattern import Example, producer, rule, shape, value_of
from .common import constant_splat


def _ints(attr) -> list[int]:
    return list(attr.get_values()) if attr is not None else []


def _users(v: SSAValue) -> int:
    return len(list(v.uses))


# ============================================================================ add of pads -> concatenate


def _zero_pad(v: SSAValue):
    """(x, low, high) for pad(x, 0) without interior padding and with non-negative edges."""
    p = producer(v, hlo.PadOp)
    if p is None:
        return None
    z = constant_splat(p.padding_value)
    if z is None or z != 0 or any(_ints(p.interior_padding)):
        return None
    lo, hi = _ints(p.edge_padding_low), _ints(p.edge_padding_high)
    if any(n < 0 for n in lo + hi):
        return None
    return p, lo, hi


@rule(
    example=[
        Example(lambda x, y: lax.pad(x, 0.0, [(0, 0, 0), (2, 0, 0)]) + lax.pad(y, 0.0, [(0, 0, 0), (0, 3, 0)]), [(2, 3), (2, 2)]),
        Example(lambda x, y: lax.pad(x, 0.0, [(0, 0, 0), (5, 1, 0)]) + lax.pad(y, 0.0, [(0, 0, 0), (1, 3, 0)]), [(2, 2), (2, 4)]),
        Example(lambda x, y: lax.pad(x, 0.0, [(0, 3, 0)]) - lax.pad(y, 0.0, [(2, 0, 0)]), [(2,), (3,)]),
    ],
    roots=[hlo.AddOp, hlo.SubtractOp],
    needs={0: hlo.PadOp, 1: hlo.PadOp},
)
def binary_pads_to_concatenate(op, b: Builder):
    """add(pad(x, 0), pad(y, 0)) -> pad(concatenate(x, y), 0)   (the pieces adjacent along one dimension, equal padding on the others; subtract: concatenate(x, -y); up to the sign of zero)"""
    left, right = _zero_pad(op.lhs), _zero_pad(op.rhs)
    if left is None or right is None:
        return None
    (p, lo1, hi1), (q, lo2, hi2) = left, right
    xs, ys = shape(p.operand), shape(q.operand)
    differ = [d for d in range(len(xs)) if (lo1[d], hi1[d], xs[d]) != (lo2[d], hi2[d], ys[d])]
    if len(differ) != 1 or any(n < 0 for n in xs + ys):
        return None
    d = differ[0]
    x, y = p.operand, q.operand
    if isinstance(op, hlo.SubtractOp):
        y = b.neg(y) if lo1[d] + xs[d] == lo2[d] or lo2[d] + ys[d] == lo1[d] else None
        if y is None:
            return None
    if lo1[d] + xs[d] == lo2[d]:
        pieces, low, high = [x, y], lo1[d], hi2[d]
    elif lo2[d] + ys[d] == lo1[d]:
        pieces, low, high = [y, x], lo2[d], hi1[d]
    else:
        return None
    cat = b.concatenate(pieces, d)
    lo, hi = list(lo1), list(hi1)
    lo[d], hi[d] = low, high
    if not any(lo) and not any(hi):
        return cat
    return b.pad(cat, p.padding_value, lo, hi)


# ============================================================================ concatenate of unit slices


def _unit_slice(v: SSAValue, d: int):
    """(source, start along d, the other dims' (start, limit, stride)) when ``v`` is a
    stride-1 slice of width 1 along ``d``."""
    s = producer(v, hlo.SliceOp)
    if s is None:
        return None
    start, limit, strides = _ints(s.start_indices), _ints(s.limit_indices), _ints(s.strides)
    if limit[d] - start[d] != 1:
        return None
    rest = tuple((start[e], limit[e], strides[e]) for e in range(len(start)) if e != d)
    return s.operand, start[d], rest, (start, limit, strides)


@rule(
    example=[
        Example(lambda x: jnp.concatenate([x[3:4], x[2:3], x[1:2], x[0:1]]), [(4, 3)]),
        Example(lambda x: jnp.concatenate([x[:, 3:4], x[:, 2:3], x[:, 1:2]], axis=1), [(2, 5)]),
    ],
    needs=hlo.SliceOp,
)
def concatenate_slices_to_reverse(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(slice(x, k), slice(x, k-1), ..., slice(x, j)) -> reverse(slice(x, j:k+1))   (unit slices along the concatenated dimension)"""
    d = op.dimension.value.data
    pieces = [_unit_slice(v, d) for v in op.inputs]
    if len(pieces) < 2 or any(p is None for p in pieces):
        return None
    src, first, rest, (start, limit, strides) = pieces[0]
    for k, (s2, at, r2, _) in enumerate(pieces):
        if s2 is not src or r2 != rest or at != first - k:
            return None
    start, limit = list(start), list(limit)
    start[d], limit[d] = first - len(pieces) + 1, first + 1
    strides = list(strides)
    strides[d] = 1
    whole = start == [0] * len(start) and limit == list(shape(src)) and all(s == 1 for s in strides)
    sliced = src if whole else b.slice(src, start, limit, strides)
    return b.reverse(sliced, [d])


def _moved_unit_slice(v: SSAValue, e: int):
    """For ``v`` = reshape(slice(x, ..)) where the reshape only moves the slice's unit
    dimension d to ``e``: (x, d, start along d, the other dims' bounds)."""
    r = producer(v, hlo.ReshapeOp)
    if r is None:
        return None
    s = producer(r.operand, hlo.SliceOp)
    if s is None:
        return None
    src_shape, out_shape = shape(s.result), shape(r.result)
    if len(src_shape) != len(out_shape) or out_shape[e] != 1:
        return None
    start, limit, strides = _ints(s.start_indices), _ints(s.limit_indices), _ints(s.strides)
    rest_out = [n for k, n in enumerate(out_shape) if k != e]
    for d in range(len(src_shape)):
        if limit[d] - start[d] == 1 and [n for k, n in enumerate(src_shape) if k != d] == rest_out:
            rest = tuple((start[k], limit[k], strides[k]) for k in range(len(start)) if k != d)
            return s.operand, d, start[d], rest, (start, limit, strides)
    return None


@rule(
    example=[
        Example(lambda x: jnp.concatenate([x[i : i + 1].reshape(5, 1, 3) for i in range(4)], axis=1), [(4, 5, 3)]),
        Example(lambda x: jnp.concatenate([x[i : i + 1].reshape(5, 3, 1) for i in (1, 2)], axis=2), [(4, 5, 3)]),
    ],
    needs=hlo.ReshapeOp,
)
def concatenate_moved_slices_to_transpose(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(reshape(slice(x, j)), ..., reshape(slice(x, k)), e) -> transpose(slice(x, j:k+1))   (unit slices along d, each reshape only moving d to e)"""
    e = op.dimension.value.data
    pieces = [_moved_unit_slice(v, e) for v in op.inputs]
    if len(pieces) < 2 or any(p is None for p in pieces):
        return None
    src, d, first, rest, (start, limit, strides) = pieces[0]
    for k, (s2, d2, at, r2, _) in enumerate(pieces):
        if s2 is not src or d2 != d or r2 != rest or at != first + k:
            return None
    start, limit, strides = list(start), list(limit), list(strides)
    start[d], limit[d], strides[d] = first, first + len(pieces), 1
    whole = start == [0] * len(start) and limit == list(shape(src)) and all(s == 1 for s in strides)
    sliced = src if whole else b.slice(src, start, limit, strides)
    rank = len(start)
    others = [k for k in range(rank) if k != d]
    perm = others[:e] + [d] + others[e:]
    if perm == list(range(rank)):
        return sliced
    return b.transpose(sliced, perm)


# ============================================================================ neighbouring dynamic updates


def _constant_index(v: SSAValue) -> int | None:
    value = value_of(v)
    if value is None or value.size != 1 or value.dtype.kind not in "iu":
        return None
    return int(value.reshape(()))


def _same_index(a: SSAValue, c: SSAValue) -> bool:
    if a is c:
        return True
    p, q = _constant_index(a), _constant_index(c)
    return p is not None and p == q


@rule(
    example=[
        Example(lambda x, u, v: lax.dynamic_update_slice(lax.dynamic_update_slice(x, u, (3, 1)), v, (2, 1)), [(6, 5), (1, 3), (1, 3)]),
        Example(lambda x, u, v: lax.dynamic_update_slice(lax.dynamic_update_slice(x, u, (0, 1)), v, (2, 1)), [(6, 5), (2, 3), (3, 3)]),
        Example(
            mlir="""
func.func @main(%x: tensor<6x5xf64>, %u: tensor<1x3xf64>, %v: tensor<1x3xf64>, %i: tensor<i32>) -> tensor<6x5xf64> {
  %c3 = stablehlo.constant dense<3> : tensor<i32>
  %c4 = stablehlo.constant dense<4> : tensor<i32>
  %0 = stablehlo.dynamic_update_slice %x, %u, %c3, %i : (tensor<6x5xf64>, tensor<1x3xf64>, tensor<i32>, tensor<i32>) -> tensor<6x5xf64>
  %1 = stablehlo.dynamic_update_slice %0, %v, %c4, %i : (tensor<6x5xf64>, tensor<1x3xf64>, tensor<i32>, tensor<i32>) -> tensor<6x5xf64>
  func.return %1 : tensor<6x5xf64>
}"""
        ),
    ],
    needs={0: hlo.DynamicUpdateSliceOp},
)
def dynamic_update_slice_neighbours(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(dynamic_update_slice(x, u, i), v, j) -> dynamic_update_slice(x, concatenate(u, v), i)   (u, v adjacent along one dimension at constant in-bounds starts; the other starts the same values, the other sizes equal)"""
    inner = producer(op.operand, hlo.DynamicUpdateSliceOp)
    if inner is None or _users(op.operand) != 1:
        return None
    xs, us, vs = shape(op.operand), shape(inner.update), shape(op.update)
    if any(n < 0 for n in xs):
        return None
    i, j = list(inner.start_indices), list(op.start_indices)
    differ = [k for k in range(len(xs)) if not _same_index(i[k], j[k]) or us[k] != vs[k]]
    if len(differ) != 1:
        return None
    d = differ[0]
    if any(us[k] != vs[k] for k in range(len(xs)) if k != d):
        return None
    a, c = _constant_index(i[d]), _constant_index(j[d])
    if a is None or c is None or not (0 <= a and a + us[d] <= xs[d] and 0 <= c and c + vs[d] <= xs[d]):
        return None
    if a + us[d] == c:
        cat, start = b.concatenate([inner.update, op.update], d), i[d]
    elif c + vs[d] == a:
        cat, start = b.concatenate([op.update, inner.update], d), j[d]
    else:
        return None
    starts = list(j)
    starts[d] = start
    return b.dynamic_update_slice(inner.operand, cat, starts)


# ============================================================================ reduce_window over windows of one element


def _identity_init(kind: type, init: SSAValue) -> bool:
    import numpy as np

    s = constant_splat(init)
    if s is None:
        return False
    if kind is hlo.AddOp:
        return s == 0
    if kind is hlo.MultiplyOp:
        return s == 1
    if s.dtype.kind == "f" or s.dtype.kind == "V":
        if kind is hlo.MaximumOp:
            return bool(np.float64(s) == -np.inf)
        if kind is hlo.MinimumOp:
            return bool(np.float64(s) == np.inf)
        return False
    if s.dtype.kind in "iu":
        info = np.iinfo(s.dtype)
        if kind is hlo.MaximumOp:
            return int(s) == info.min
        if kind is hlo.MinimumOp:
            return int(s) == info.max
    return False


@rule(
    example=[
        Example(lambda x: lax.reduce_window(x, 0.0, lax.add, (1, 1), (1, 1), "VALID"), [(3, 4)]),
        Example(lambda x: lax.reduce_window(x, -jnp.inf, lax.max, (1, 1), (1, 1), "VALID"), [(3, 4)]),
    ],
)
def reduce_window_unit(op: hlo.ReduceWindowOp, b: Builder):
    """reduce_window(x, identity, windows of one element, stride 1, no padding) -> x   (up to the sign of zero)"""
    if len(op.inputs) != 1 or op.results_[0].type != op.inputs[0].type:
        return None
    rank = len(shape(op.inputs[0]))
    if _ints(op.window_dimensions) != [1] * rank:
        return None
    for attr in (op.window_strides, op.base_dilations, op.window_dilations):
        if attr is not None and _ints(attr) != [1] * rank:
            return None
    if op.padding is not None:
        pad = value_of_attr(op.padding)
        if pad is None or pad.any():
            return None
    kind = op.combiner()
    if kind not in (hlo.AddOp, hlo.MultiplyOp, hlo.MaximumOp, hlo.MinimumOp) or not _identity_init(kind, op.init_values[0]):
        return None
    return op.inputs[0]


def value_of_attr(attr):
    from ...ir.dense import dense_to_numpy

    try:
        return dense_to_numpy(attr)
    except (TypeError, ValueError):
        return None


# ============================================================================ unit dimensions through transposes and dots


@rule(
    example=[
        Example(lambda x: jnp.transpose(x.reshape(1, 5, 4), (2, 1, 0)), [(5, 4)]),
        Example(lambda x: jnp.transpose(x.reshape(2, 3, 1, 4), (2, 0, 3, 1)), [(2, 3, 4)]),
    ],
    needs={0: hlo.ReshapeOp},
)
def transpose_reshape_unit_dims(op: hlo.TransposeOp, b: Builder):
    """transpose(reshape(x), p) -> broadcast_in_dim(x, dims)   (the reshape only inserts dims of size 1; x has none)"""
    r = producer(op.operand, hlo.ReshapeOp)
    if r is None:
        return None
    xs, rs = shape(r.operand), shape(r.result)
    if 1 in xs or any(n < 0 for n in xs) or len(rs) <= len(xs):
        return None
    big = [d for d, n in enumerate(rs) if n != 1]
    if [rs[d] for d in big] != list(xs):
        return None
    perm = list(op.permutation.get_values())
    where = {src: i for i, src in enumerate(perm)}
    return b.broadcast_in_dim(r.operand, list(shape(op.result)), [where[d] for d in big])


def _without_inserted_units(v: SSAValue, keep: set[int]):
    """For ``v`` = reshape(x) that only inserts size-1 dims, none of them in ``keep``:
    (x, old dim -> new dim for the dims that remain), else None."""
    from itertools import combinations

    r = producer(v, hlo.ReshapeOp)
    if r is None:
        return None
    xs, rs = list(shape(r.operand)), list(shape(r.result))
    need = len(rs) - len(xs)
    if need <= 0 or any(n < 0 for n in xs):
        return None
    candidates = [d for d, n in enumerate(rs) if n == 1 and d not in keep]
    for gone in combinations(candidates, need):
        rest = [d for d in range(len(rs)) if d not in gone]
        if [rs[d] for d in rest] == xs:
            return r.operand, {d: k for k, d in enumerate(rest)}
    return None


@rule(
    example=[
        Example(lambda x, y: jnp.dot(x, y.reshape(3, 1)).reshape(2), [(2, 3), (3,)]),
        Example(lambda x, y: lax.dot_general(x.reshape(3, 1, 1), y.reshape(1, 3, 1), (((0,), (1,)), ((), ()))).reshape(()), [(3,), (3,)]),
    ],
    needs=hlo.ReshapeOp,
)
def dot_general_reshape_unit_dims(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(reshape(x), y) -> reshape(dot_general(x, y))   (the reshape only inserts free dims of size 1)"""
    if op.algorithm is not None:
        return None
    dn = op.dot_dimension_numbers
    lb, rb = list(dn.lhs_batching_dimensions), list(dn.rhs_batching_dimensions)
    lc, rc = list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)
    left = _without_inserted_units(op.lhs, set(lb) | set(lc))
    right = _without_inserted_units(op.rhs, set(rb) | set(rc))
    if left is None and right is None:
        return None
    lhs, lmap = left if left is not None else (op.lhs, {d: d for d in range(len(shape(op.lhs)))})
    rhs, rmap = right if right is not None else (op.rhs, {d: d for d in range(len(shape(op.rhs)))})
    new = b.dot_general(lhs, rhs, [lmap[d] for d in lb], [rmap[d] for d in rb], [lmap[d] for d in lc], [rmap[d] for d in rc], elem(op.result), op.precision_config)
    return b.reshape(new, list(shape(op.result)))


# ============================================================================ dynamic_slice of a dynamic_update_slice


@rule(
    example=[
        Example(
            mlir="""
func.func @main(%u: tensor<8x3xf64>, %i: tensor<i32>) -> tensor<3x3xf64> {
  %z = stablehlo.constant dense<2.0> : tensor<32x32xf64>
  %c4 = stablehlo.constant dense<4> : tensor<i32>
  %c7 = stablehlo.constant dense<7> : tensor<i32>
  %0 = stablehlo.dynamic_update_slice %z, %u, %c4, %i : (tensor<32x32xf64>, tensor<8x3xf64>, tensor<i32>, tensor<i32>) -> tensor<32x32xf64>
  %1 = stablehlo.dynamic_slice %0, %c7, %i, sizes = [3, 3] : (tensor<32x32xf64>, tensor<i32>, tensor<i32>) -> tensor<3x3xf64>
  func.return %1 : tensor<3x3xf64>
}"""
        ),
    ],
    needs={0: hlo.DynamicUpdateSliceOp},
)
def dynamic_slice_inside_update(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(dynamic_update_slice(x, u, i), j) -> slice(u, j - i)   (per dimension: the same index value with equal sizes, or constants with the read window inside the written one, after clamping)"""
    dus = producer(op.operand, hlo.DynamicUpdateSliceOp)
    if dus is None:
        return None
    xs, us = shape(op.operand), shape(dus.update)
    sizes = list(op.slice_sizes.get_values())
    if any(n < 0 for n in xs):
        return None
    starts = []
    for d in range(len(xs)):
        i, j = dus.start_indices[d], op.start_indices[d]
        if i is j and us[d] == sizes[d]:
            starts.append(0)
            continue
        a, c = _constant_index(i), _constant_index(j)
        if a is None or c is None:
            return None
        a = min(max(a, 0), xs[d] - us[d])
        c = min(max(c, 0), xs[d] - sizes[d])
        if not (a <= c and c + sizes[d] <= a + us[d]):
            return None
        starts.append(c - a)
    if starts == [0] * len(xs) and list(us) == sizes:
        return dus.update
    return b.slice(dus.update, starts, [s + n for s, n in zip(starts, sizes)])


# ============================================================================ trees of one op over slices -> reduce


_TREE_OPS = (hlo.AddOp, hlo.MultiplyOp, hlo.MaximumOp, hlo.MinimumOp)
_MAX_LEAVES = 64


def _tree_leaves(op, kind: type) -> list[SSAValue] | None:
    """The operands of a tree of ``kind`` ops rooted at ``op`` (inner nodes used once)."""
    leaves: list[SSAValue] = []
    work = [op.rhs, op.lhs]
    while work:
        v = work.pop()
        inner = v.owner
        if type(inner) is kind and _users(v) == 1:
            work.extend([inner.rhs, inner.lhs])
        else:
            leaves.append(v)
        if len(leaves) + len(work) > _MAX_LEAVES:
            return None
    return leaves


def _leaf_range(v: SSAValue, kind: type):
    """(source, (start, limit, strides) of the slice, reduced) for a slice leaf, or a
    reshape(reduce_kind(slice(x), [d])) leaf that puts the reduced dim back as size 1
    (reduced = d), else None."""
    from .reduce import _monoid

    s = producer(v, hlo.SliceOp)
    if s is not None:
        return s.operand, (_ints(s.start_indices), _ints(s.limit_indices), _ints(s.strides)), None
    r = producer(v, hlo.ReshapeOp)
    red = producer(r.operand, hlo.ReduceOp) if r is not None else None
    if red is None or len(red.inputs) != 1 or _monoid(red) is not kind:
        return None
    dims = list(red.dimensions.get_values())
    s = producer(red.inputs[0], hlo.SliceOp)
    if s is None or len(dims) != 1:
        return None
    d = dims[0]
    src_shape = list(shape(s.result))
    want = src_shape[:d] + [1] + src_shape[d + 1 :]
    if list(shape(v)) != want:
        return None
    return s.operand, (_ints(s.start_indices), _ints(s.limit_indices), _ints(s.strides)), d


def _elements(start: int, limit: int, stride: int) -> list[int]:
    return list(range(start, limit, stride))


def _slices_to_reduce(op, b: Builder, exact: bool):
    kind = type(op)
    from .common import is_integer as _int
    from .reduce import _identity

    order_free = _int(op.result)  # float maximum / minimum: a tree of them splits the derivative at ties by its grouping
    if order_free != exact:
        return None
    leaves = _tree_leaves(op, kind)
    if leaves is None or len(leaves) < 2:
        return None
    ranges = [_leaf_range(v, kind) for v in leaves]
    if any(r is None for r in ranges):
        return None
    # smaller only when the leaves go: each used once, and three or more of them (or a reduce grown)
    if any(_users(v) != 1 for v in leaves) or (len(leaves) < 3 and all(r[2] is None for r in ranges)):
        return None
    src = ranges[0][0]
    if any(r[0] is not src for r in ranges) or any(list(shape(v)) != list(shape(op.result)) for v in leaves):
        return None
    rank = len(shape(src))
    reduced = {r[2] for r in ranges if r[2] is not None}
    if len(reduced) > 1:
        return None
    if reduced:
        d = reduced.pop()
    else:
        varying = [k for k in range(rank) if len({r[1][0][k] for r in ranges}) > 1]
        if len(varying) != 1:
            return None
        d = varying[0]
    if shape(op.result)[d] != 1:
        return None
    rest = {tuple((r[1][0][k], r[1][1][k], r[1][2][k]) for k in range(rank) if k != d) for r in ranges}
    if len(rest) != 1:
        return None
    indices: list[int] = []
    for _, (start, limit, strides), red in ranges:
        run = _elements(start[d], limit[d], strides[d])
        if red is None and len(run) != 1:
            return None
        indices.extend(run)
    indices.sort()
    if len(set(indices)) != len(indices):
        return None
    step = indices[1] - indices[0]
    if any(indices[k + 1] - indices[k] != step for k in range(len(indices) - 1)):
        return None
    start, limit, strides = (list(a) for a in ranges[0][1])
    start[d], limit[d], strides[d] = indices[0], indices[-1] + 1, step
    from ...ir.dense import element_dtype

    ident = _identity(kind, element_dtype(elem(op.result)))
    if ident is None:
        return None
    init = b.constant(ident, tensor_of(elem(op.result)))
    whole = start == [0] * rank and limit == list(shape(src)) and all(s == 1 for s in strides)
    sliced = src if whole else b.slice(src, start, limit, strides)
    red = b.reduce(sliced, init, [d], kind)
    return b.reshape(red, list(shape(op.result)))


def tensor_of(element):
    from ...ir.builder import tensor

    return tensor(element, [])


@rule(
    example=[
        Example(lambda x: jnp.maximum(jnp.maximum(x[:, 0:1], x[:, 2:3]), jnp.maximum(x[:, 1:2], x[:, 3:4])), [(2, 5)], dtypes=["int32"]),
        Example(lambda x: jnp.minimum(x[0:1], jnp.minimum(x[2:3], x[4:5])), [(6, 2)], dtypes=["int32"]),
        Example(lambda x: (x[:, 1:2] + x[:, 0:1]) + x[:, 2:3], [(2, 4)], dtypes=["int32"]),
    ],
    roots=[hlo.AddOp, hlo.MultiplyOp, hlo.MaximumOp, hlo.MinimumOp],
    needs=(hlo.SliceOp, hlo.ReshapeOp, hlo.AddOp, hlo.MultiplyOp, hlo.MaximumOp, hlo.MinimumOp),
)
def slices_to_reduce(op, b: Builder):
    """k(slice(x, i), k(slice(x, i + s), ...)) -> reshape(reduce_k(slice(x, i : j : s)))   (unit slices of one operand along one dimension, each element once, evenly spaced, each slice used once, three or more; k integer add, multiply, maximum or minimum: float maximum / minimum split the derivative at ties by their grouping)"""
    return _slices_to_reduce(op, b, exact=True)


@rule(
    example=[
        Example(lambda x: (x[:, 1:2] + x[:, 0:1]) + (x[:, 3:4] + x[:, 2:3]), [(2, 5)]),
        Example(lambda x: x[0:1] * (x[1:2] * x[2:3]), [(4, 3)]),
    ],
    roots=[hlo.AddOp, hlo.MultiplyOp],
    unsafe=True,
    needs=(hlo.SliceOp, hlo.ReshapeOp, hlo.AddOp, hlo.MultiplyOp),
)
def slices_to_reduce_reassociate(op, b: Builder):
    """add(slice(x, i), add(slice(x, i + s), ...)) -> reshape(reduce_sum(slice(x, i : j : s)))   (floating-point sums and products: regrouped; fast-math only)"""
    return _slices_to_reduce(op, b, exact=False)


@rule(
    example=[
        Example(
            mlir="""
func.func @main(%u: tensor<8x3xf64>, %i: tensor<i32>) -> tensor<3x2xf64> {
  %z = stablehlo.constant dense<2.0> : tensor<32x32xf64>
  %c4 = stablehlo.constant dense<4> : tensor<i32>
  %c1 = stablehlo.constant dense<1> : tensor<i32>
  %0 = stablehlo.dynamic_update_slice %z, %u, %c4, %c1 : (tensor<32x32xf64>, tensor<8x3xf64>, tensor<i32>, tensor<i32>) -> tensor<32x32xf64>
  %1 = stablehlo.slice %0 [7:10, 2:4] : (tensor<32x32xf64>) -> tensor<3x2xf64>
  func.return %1 : tensor<3x2xf64>
}"""
        ),
    ],
    needs={0: hlo.DynamicUpdateSliceOp},
)
def slice_inside_update(op: hlo.SliceOp, b: Builder):
    """slice(dynamic_update_slice(x, u, c)) -> slice(u)   (constant starts, clamped; the slice inside the update)"""
    dus = producer(op.operand, hlo.DynamicUpdateSliceOp)
    if dus is None:
        return None
    xs, us = shape(op.operand), shape(dus.update)
    if any(n < 0 for n in xs):
        return None
    start, limit, strides = _ints(op.start_indices), _ints(op.limit_indices), _ints(op.strides)
    new_start, new_limit = [], []
    for d in range(len(xs)):
        a = _constant_index(dus.start_indices[d])
        if a is None:
            return None
        a = min(max(a, 0), xs[d] - us[d])
        if limit[d] <= start[d]:
            return None
        if not (a <= start[d] and limit[d] <= a + us[d]):
            return None
        new_start.append(start[d] - a)
        new_limit.append(limit[d] - a)
    return b.slice(dus.update, new_start, new_limit, strides)


@rule(
    example=[
        Example(lambda x, u, v: lax.dynamic_update_slice(lax.dynamic_update_slice(x, u, (2, 1)), v, (1, 0)), [(6, 5), (2, 3), (4, 5)]),
    ],
    needs={0: hlo.DynamicUpdateSliceOp},
)
def dynamic_update_slice_covered(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(dynamic_update_slice(x, u, i), v, j) -> dynamic_update_slice(x, v, j)   (constant starts, clamped: v's window covers u's)"""
    inner = producer(op.operand, hlo.DynamicUpdateSliceOp)
    if inner is None or _users(op.operand) != 1:
        return None
    xs, us, vs = shape(op.operand), shape(inner.update), shape(op.update)
    if any(n < 0 for n in xs):
        return None
    for d in range(len(xs)):
        a, c = _constant_index(inner.start_indices[d]), _constant_index(op.start_indices[d])
        if a is None or c is None:
            return None
        a = min(max(a, 0), xs[d] - us[d])
        c = min(max(c, 0), xs[d] - vs[d])
        if not (c <= a and a + us[d] <= c + vs[d]):
            return None
    return b.dynamic_update_slice(inner.operand, op.update, list(op.start_indices))


@rule(
    example=Example(lambda x: lax.dynamic_update_slice(x, x[1:3, 2:4], (1, 2)), [(5, 6)]),
    needs={1: hlo.SliceOp},
)
def dynamic_update_slice_own_slice(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(x, slice(x, s), c) -> x   (stride 1, constant starts clamping to s: writes back what is there)"""
    s = producer(op.update, hlo.SliceOp)
    if s is None or s.operand is not op.operand or any(k != 1 for k in _ints(s.strides)):
        return None
    xs, us = shape(op.operand), shape(op.update)
    if any(n < 0 for n in xs):
        return None
    start = _ints(s.start_indices)
    for d in range(len(xs)):
        c = _constant_index(op.start_indices[d])
        if c is None or min(max(c, 0), xs[d] - us[d]) != start[d]:
            return None
    return op.operand


def _reduce_reverse(op: hlo.ReduceOp, b: Builder, exact: bool):
    from .reduce import _monoid, _order_free

    r = producer(op.inputs[0], hlo.ReverseOp)
    if r is None or len(op.inputs) != 1:
        return None
    kind = _monoid(op)
    if kind is None or _order_free(kind, op.inputs[0]) != exact:
        return None
    reduced = set(op.dimensions.get_values())
    rev = list(r.dimensions.get_values())
    if not set(rev) <= reduced:
        return None
    return b.reduce(r.operand, op.init_values[0], sorted(reduced), kind)


@rule(example=[Example(lambda x: jnp.max(lax.rev(x, (1,)), axis=1), [(3, 4)]), Example(lambda x: jnp.min(lax.rev(x, (0,)), axis=(0, 1)), [(3, 4)], dtypes=["int32"])], needs={0: hlo.ReverseOp})
def reduce_reverse(op: hlo.ReduceOp, b: Builder):
    """reduce(reverse(x, R), D) -> reduce(x, D)   (R within D; maximum, minimum, and, or, integer add / multiply)"""
    return _reduce_reverse(op, b, exact=True)


@rule(example=Example(lambda x: jnp.sum(lax.rev(x, (1,)), axis=1), [(3, 4)]), unsafe=True, needs={0: hlo.ReverseOp})
def reduce_reverse_reassociate(op: hlo.ReduceOp, b: Builder):
    """reduce_sum(reverse(x, R), D) -> reduce_sum(x, D)   (R within D; floats: reorders the sum; fast-math only)"""
    return _reduce_reverse(op, b, exact=False)


# ============================================================================ chains of transposes and unit reshapes


def _unit_reshape(r: hlo.ReshapeOp) -> bool:
    """The reshape only inserts or removes dimensions of size 1."""
    a, c = shape(r.operand), shape(r.result)
    return [n for n in a if n != 1] == [n for n in c if n != 1]


def _layout_chain(v: SSAValue):
    """(source, ops from the root inwards) for a chain of transposes and unit reshapes
    ending in ``v`` (inner ops used once)."""
    ops = []
    while True:
        o = v.owner
        if not (isinstance(o, hlo.TransposeOp) or (isinstance(o, hlo.ReshapeOp) and _unit_reshape(o))):
            break
        if ops and _users(v) != 1:
            break
        ops.append(o)
        v = o.operand
    return v, ops


@rule(
    example=[
        Example(lambda x: jnp.transpose(jnp.transpose(x, (2, 0, 1)).reshape(1, 4, 2, 1, 3), (3, 2, 0, 4, 1)).reshape(2, 3, 4), [(2, 3, 4)]),
        Example(lambda x: jnp.transpose(jnp.transpose(x, (1, 0, 2)).reshape(3, 1, 2, 4), (2, 1, 0, 3)), [(2, 3, 4)]),
        Example(lambda x: jnp.transpose(jnp.transpose(x, (1, 0, 2, 3)).reshape(3, 2, 4), (1, 0, 2)), [(2, 3, 1, 4)]),
    ],
    roots=[hlo.TransposeOp, hlo.ReshapeOp],
    needs={0: (hlo.TransposeOp, hlo.ReshapeOp)},
)
def transpose_reshape_chain(op, b: Builder):
    """a chain of transposes and reshapes that only insert or remove size-1 dims -> reshape(x) ;  broadcast_in_dim(x) ;  reshape(transpose(x))   (the dims of size > 1 tracked through the chain; at most two ops, fewer than the chain)"""
    if isinstance(op, hlo.ReshapeOp) and not _unit_reshape(op):
        return None
    src, ops = _layout_chain(op.results[0])
    if len(ops) < 2:
        return None
    xs = list(shape(src))
    out = list(shape(op.results[0]))
    if any(n <= 0 for n in xs + out):
        return None
    tags = [d if n != 1 else None for d, n in enumerate(xs)]
    for o in reversed(ops):
        if isinstance(o, hlo.TransposeOp):
            tags = [tags[p] for p in o.permutation.get_values()]
        else:
            big = iter([t for t in tags if t is not None])
            tags = [next(big) if n != 1 else None for n in shape(o.result)]
    order = [t for t in tags if t is not None]
    if order == sorted(order):
        return src if xs == out else b.reshape(src, out)
    if 1 not in xs:
        where = {t: i for i, t in enumerate(tags) if t is not None}
        return b.broadcast_in_dim(src, out, [where[d] for d in range(len(xs))])
    if len(ops) < 3:
        return None
    slots = [d for d, n in enumerate(xs) if n != 1]
    perm = list(range(len(xs)))
    for slot, d in zip(slots, order):
        perm[slot] = d
    moved = b.transpose(src, perm)
    return moved if list(shape(moved)) == out else b.reshape(moved, out)
