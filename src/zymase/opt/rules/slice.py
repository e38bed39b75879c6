"""Slice rules: compose slices, fold them into constants and iotas, and hoist them toward
the operands so the work before the slice shrinks to what the slice keeps.

Canonical direction: a slice moves before the op that produces its operand
(``slice(f(x)) -> f(slice(x))``). Rules that hoist a slice through an op that does real
work (elementwise ops, dot_general, reduce) require the slice to be that op's only user,
so nothing is computed twice.
"""

from __future__ import annotations

from ..lazy_jax import jnp
from ..lazy_jax import lax

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ...ir.dense import element_dtype
from ..pattern import CONSTANT, Example, producer, rule, shape, UNARY_ELEMENTWISE, BINARY_ELEMENTWISE, only_used_by as _only_used_by
from .common import fold_rearrangement, rebuild, reshape_groups

UNARY, BINARY = UNARY_ELEMENTWISE, BINARY_ELEMENTWISE


def _params(op: hlo.SliceOp) -> tuple[list[int], list[int], list[int]]:
    return list(op.start_indices.get_values()), list(op.limit_indices.get_values()), list(op.strides.get_values())


def _slice_like(b: Builder, op: hlo.SliceOp, v):
    """``v`` (of the shape of ``op``'s operand) sliced as ``op`` slices."""
    start, limit, strides = _params(op)
    return b.slice(v, start, limit, strides)


def _is_full(n: int, s: int, l: int, t: int) -> bool:
    """The slice [s:l:t] of a dimension of size n keeps every element."""
    return s == 0 and (l == n and t == 1 or n <= 1 and l == n)


def _count(s: int, l: int, t: int) -> int:
    return max(0, -(-(l - s) // t))


def _window(s: int, t: int, k: int, lo: int, n: int) -> tuple[int, int]:
    """Of the k indices s, s+t, ..., s+(k-1)t, the first and last position i whose index
    falls in [lo, lo+n); first > last when none does."""
    first = max(0, -(-(lo - s) // t))
    last = min(k - 1, (lo + n - 1 - s) // t)
    return first, last


# ============================================================================ trivial slices and slices of slices


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3x4xf64>) -> tensor<3x4xf64> {
  %0 = "stablehlo.slice"(%x) <{start_indices = array<i64: 0, 0>, limit_indices = array<i64: 3, 4>, strides = array<i64: 1, 1>}> : (tensor<3x4xf64>) -> tensor<3x4xf64>
  func.return %0 : tensor<3x4xf64>
}"""
    )
)
def slice_full(op: hlo.SliceOp, b: Builder):
    """slice(x) -> x   (the slice keeps every element)"""
    if shape(op.result) == shape(op.operand):
        return op.operand
    return None


@rule(example=Example(lambda x: x[1:9:2][1:3], [(10,)]), needs={0: hlo.SliceOp})
def slice_slice(op: hlo.SliceOp, b: Builder):
    """slice(slice(x, s1, l1, t1), s2, l2, t2) -> slice(x, s1 + s2*t1, ..., t1*t2)"""
    inner = producer(op.operand, hlo.SliceOp)
    if inner is None or 0 in shape(op.result):
        return None
    s1, _, t1 = _params(inner)
    s2, _, t2 = _params(op)
    start, limit, strides = [], [], []
    for a, ta, c, tc, k in zip(s1, t1, s2, t2, shape(op.result)):
        s = a + c * ta
        t = ta * tc
        start.append(s)
        strides.append(t)
        limit.append(s + (k - 1) * t + 1)
    return b.slice(inner.operand, start, limit, strides)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>) -> tensor<2x2xf64> {
  %c = "stablehlo.constant"() <{value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]> : tensor<3x3xf64>}> : () -> tensor<3x3xf64>
  %s = "stablehlo.slice"(%c) <{start_indices = array<i64: 1, 0>, limit_indices = array<i64: 3, 3>, strides = array<i64: 1, 2>}> : (tensor<3x3xf64>) -> tensor<2x2xf64>
  %y = "stablehlo.slice"(%x) <{start_indices = array<i64: 0>, limit_indices = array<i64: 2>, strides = array<i64: 1>}> : (tensor<3xf64>) -> tensor<2xf64>
  %b = "stablehlo.broadcast_in_dim"(%y) <{broadcast_dimensions = array<i64: 1>}> : (tensor<2xf64>) -> tensor<2x2xf64>
  %0 = "stablehlo.add"(%s, %b) : (tensor<2x2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
  func.return %0 : tensor<2x2xf64>
}"""
    )
, needs={0: CONSTANT})
def slice_constant(op: hlo.SliceOp, b: Builder):
    """slice(constant c) -> constant c[slice]   (result at most 65536 elements, or a splat)"""
    start, limit, strides = _params(op)
    return fold_rearrangement(op, b, op.operand, lambda v: v[tuple(slice(s, l, t) for s, l, t in zip(start, limit, strides))])


@rule(
    example=[
        Example(lambda x: x + lax.broadcasted_iota(jnp.int64, (5, 6), 1)[1:4, :3].astype(jnp.float64), [(3, 3)]),
        Example(lambda x: x + lax.broadcasted_iota(jnp.int64, (5, 9), 1)[1:4, 2:8:2].astype(jnp.float64), [(3, 3)]),
    ]
, needs={0: hlo.IotaOp})
def slice_iota(op: hlo.SliceOp, b: Builder):
    """slice(iota(d), s, l, t) -> iota(d) * t + s   (iota(d) when s = 0 and t = 1; else values exact in the element type)"""
    import numpy as np

    iota = producer(op.operand, hlo.IotaOp)
    if iota is None:
        return None
    d = iota.iota_dimension.value.data
    start, limit, strides = _params(op)
    s, t = start[d], strides[d]
    if s == 0 and t == 1:
        return b.iota(shape(op.result), d, elem(op.result))
    dtype = np.dtype(element_dtype(elem(op.result)))
    if dtype.kind == "f":
        if limit[d] >= 2 ** (np.finfo(dtype).nmant + 1):
            return None
    elif dtype.kind in "iu":
        if limit[d] > np.iinfo(dtype).max:
            return None
    else:
        return None
    out = b.iota(shape(op.result), d, elem(op.result))
    if t != 1:
        out = b.mul(out, b.full_like(out, t))
    if s != 0:
        out = b.add(out, b.full_like(out, s))
    return out


# ============================================================================ hoisting slices through elementwise ops


@rule(example=Example(lambda x: jnp.exp(x)[1:3].astype(jnp.float32), [(5,)]), needs={0: UNARY})
def slice_unary(op: hlo.SliceOp, b: Builder):
    """slice(f(x)) -> f(slice(x))   (f elementwise, including convert; the slice is f's only user)"""
    f = producer(op.operand, UNARY)
    if f is None or not _only_used_by(f.result, op):
        return None
    return rebuild(b, f, [_slice_like(b, op, f.operand)], shape(op.result))


@rule(example=Example(lambda x, y: (x + y)[1:3, ::2], [(4, 5), (4, 5)]), needs={0: BINARY})
def slice_binary(op: hlo.SliceOp, b: Builder):
    """slice(f(x, y)) -> f(slice(x), slice(y))   (f elementwise binary or compare; the slice is f's only user)"""
    f = producer(op.operand, BINARY)
    if f is None or not _only_used_by(f.result, op):
        return None
    return rebuild(b, f, [_slice_like(b, op, f.lhs), _slice_like(b, op, f.rhs)], shape(op.result))


@rule(example=Example(lambda p, x, y: jnp.where(p, x, y)[2:], [(5,), (5,), (5,)], dtypes=["bool", "float64", "float64"]), needs={0: hlo.SelectOp})
def slice_select(op: hlo.SliceOp, b: Builder):
    """slice(select(p, x, y)) -> select(slice(p), slice(x), slice(y))   (a scalar p stays; the slice is the only user)"""
    sel = producer(op.operand, hlo.SelectOp)
    if sel is None or not _only_used_by(sel.result, op):
        return None
    pred = sel.pred if shape(sel.pred) == () else _slice_like(b, op, sel.pred)
    return b.select(pred, _slice_like(b, op, sel.on_true), _slice_like(b, op, sel.on_false))


@rule(
    example=Example(
        mlir="""
func.func @main(%lo: tensor<f64>, %x: tensor<5xf64>, %hi: tensor<5xf64>) -> tensor<2xf64> {
  %c = "stablehlo.clamp"(%lo, %x, %hi) : (tensor<f64>, tensor<5xf64>, tensor<5xf64>) -> tensor<5xf64>
  %0 = "stablehlo.slice"(%c) <{start_indices = array<i64: 1>, limit_indices = array<i64: 3>, strides = array<i64: 1>}> : (tensor<5xf64>) -> tensor<2xf64>
  func.return %0 : tensor<2xf64>
}"""
    )
, needs={0: hlo.ClampOp})
def slice_clamp(op: hlo.SliceOp, b: Builder):
    """slice(clamp(lo, x, hi)) -> clamp(lo', slice(x), hi')   (scalar bounds stay; the slice is the only user)"""
    cl = producer(op.operand, hlo.ClampOp)
    if cl is None or not _only_used_by(cl.result, op):
        return None
    lo = cl.min if shape(cl.min) == () else _slice_like(b, op, cl.min)
    hi = cl.max if shape(cl.max) == () else _slice_like(b, op, cl.max)
    return b.clamp(lo, _slice_like(b, op, cl.operand), hi)


# ============================================================================ hoisting slices through shape ops


@rule(example=Example(lambda x: jnp.broadcast_to(x[:, None], (6, 4))[1:5, 1:3], [(6,)]), needs={0: hlo.BroadcastInDimOp})
def slice_broadcast_in_dim(op: hlo.SliceOp, b: Builder):
    """slice(broadcast_in_dim(x, dims)) -> broadcast_in_dim(slice(x), dims)   (broadcast dims of size 1 stay whole)"""
    bc = producer(op.operand, hlo.BroadcastInDimOp)
    if bc is None:
        return None
    start, limit, strides = _params(op)
    src = shape(bc.operand)
    xs, xl, xt = [], [], []
    for i, d in enumerate(bc.broadcast_dimensions.get_values()):
        if src[i] == 1 and shape(bc.result)[d] != 1:
            xs.append(0)
            xl.append(1)
            xt.append(1)
        else:
            xs.append(start[d])
            xl.append(limit[d])
            xt.append(strides[d])
    x = b.slice(bc.operand, xs, xl, xt)
    return b.broadcast_in_dim(x, shape(op.result), bc.broadcast_dimensions.get_values())


@rule(example=Example(lambda x: x.T[1:3, ::2], [(5, 4)]), needs={0: hlo.TransposeOp})
def slice_transpose(op: hlo.SliceOp, b: Builder):
    """slice(transpose(x, p)) -> transpose(slice(x), p)   (the slice is the transpose's only user)"""
    t = producer(op.operand, hlo.TransposeOp)
    if t is None or not _only_used_by(t.result, op):
        return None
    p = list(t.permutation.get_values())
    start, limit, strides = _params(op)
    xs, xl, xt = [0] * len(p), [0] * len(p), [0] * len(p)
    for j, d in enumerate(p):
        xs[d], xl[d], xt[d] = start[j], limit[j], strides[j]
    return b.transpose(b.slice(t.operand, xs, xl, xt), p)


@rule(example=Example(lambda x: jnp.flip(x, axis=1)[:, 1:6:2], [(3, 7)]), needs={0: hlo.ReverseOp})
def slice_reverse(op: hlo.SliceOp, b: Builder):
    """slice(reverse(x, dims)) -> reverse(slice(x), dims)   (the slice mirrored along dims)"""
    rev = producer(op.operand, hlo.ReverseOp)
    if rev is None or 0 in shape(op.result):
        return None
    start, limit, strides = _params(op)
    src = shape(rev.operand)
    dims = list(rev.dimensions.get_values())
    for d in dims:
        n, s, t, k = src[d], start[d], strides[d], shape(op.result)[d]
        start[d], limit[d] = n - 1 - (s + (k - 1) * t), n - s
    return b.reverse(b.slice(rev.operand, start, limit, strides), dims)


def _concatenate_pieces(op: hlo.SliceOp, cat: hlo.ConcatenateOp):
    """The (operand, start, limit, strides) pieces whose concatenation is the slice."""
    dim = cat.dimension.value.data
    start, limit, strides = _params(op)
    s, t, k = start[dim], strides[dim], shape(op.result)[dim]
    pieces, offset = [], 0
    for v in cat.inputs:
        n = shape(v)[dim]
        first, last = _window(s, t, k, offset, n)
        if first <= last:
            ps, pl = list(start), list(limit)
            ps[dim] = s + first * t - offset
            pl[dim] = s + last * t - offset + 1
            pieces.append((v, ps, pl, list(strides)))
        offset += n
    return pieces


@rule(example=Example(lambda x, y: jnp.concatenate([x, y])[5:8], [(4,), (6,)]), needs={0: hlo.ConcatenateOp})
def slice_concatenate_one_operand(op: hlo.SliceOp, b: Builder):
    """slice(concatenate(x, y, ...)) -> slice(y)   (the slice falls within one operand)"""
    cat = producer(op.operand, hlo.ConcatenateOp)
    if cat is None or 0 in shape(op.result):
        return None
    pieces = _concatenate_pieces(op, cat)
    if len(pieces) != 1:
        return None
    v, s, l, t = pieces[0]
    return b.slice(v, s, l, t)


@rule(example=Example(lambda x, y, z: jnp.concatenate([x, y, z], axis=1)[:, 2:9], [(2, 4), (2, 3), (2, 5)]), needs={0: hlo.ConcatenateOp})
def slice_concatenate(op: hlo.SliceOp, b: Builder):
    """slice(concatenate(x, y, z)) -> concatenate(slice(x), slice(y))   (the operands the slice touches; the slice is the only user)"""
    cat = producer(op.operand, hlo.ConcatenateOp)
    if cat is None or 0 in shape(op.result) or not _only_used_by(cat.result, op):
        return None
    pieces = _concatenate_pieces(op, cat)
    if len(pieces) < 2:
        return None
    return b.concatenate([b.slice(v, s, l, t) for v, s, l, t in pieces], cat.dimension.value.data)


@rule(example=Example(lambda x: jnp.pad(x, ((2, 3), (1, 1)), constant_values=1.5)[1:6, 1:], [(4, 3)]), needs={0: hlo.PadOp})
def slice_pad(op: hlo.SliceOp, b: Builder):
    """slice(pad(x, v)) -> pad(slice(x), v)   (only the padding the slice keeps; broadcast(v) when it keeps no element of x)"""
    pad = producer(op.operand, hlo.PadOp)
    if pad is None:
        return None
    start, limit, strides = _params(op)
    src, padded, out = shape(pad.operand), shape(pad.result), shape(op.result)
    lows, highs, interiors = (list(a.get_values()) for a in (pad.edge_padding_low, pad.edge_padding_high, pad.interior_padding))
    xs, xl, xt, new_lo, new_hi, new_in = [], [], [], [], [], []
    all_padding = False
    for d, n in enumerate(src):
        s, l, t, k = start[d], limit[d], strides[d], out[d]
        if _is_full(padded[d], s, l, t):
            xs.append(0)
            xl.append(n)
            xt.append(1)
            new_lo.append(lows[d])
            new_hi.append(highs[d])
            new_in.append(interiors[d])
            continue
        if interiors[d] != 0 and n > 1:
            return None
        first, last = _window(s, t, k, lows[d], n)
        if first > last:
            all_padding = True
            break
        xs.append(s + first * t - lows[d])
        xl.append(s + last * t - lows[d] + 1)
        xt.append(t)
        new_lo.append(first)
        new_hi.append(k - 1 - last)
        new_in.append(0)
    if all_padding:
        return b.broadcast_in_dim(pad.padding_value, out, [])
    return b.pad(b.slice(pad.operand, xs, xl, xt), pad.padding_value, new_lo, new_hi, new_in)


@rule(example=Example(lambda x: x.reshape(2, 3, 4, 5)[:, :, 1:3, :], [(6, 4, 5)]), needs={0: hlo.ReshapeOp})
def slice_reshape(op: hlo.SliceOp, b: Builder):
    """slice(reshape(x)) -> reshape(slice(x))   (the sliced dims pass through the reshape unsplit and unmerged)"""
    rs = producer(op.operand, hlo.ReshapeOp)
    if rs is None or 0 in shape(op.result):
        return None
    src, dst = shape(rs.operand), shape(rs.result)
    groups = reshape_groups(src, dst)
    if groups is None:
        return None
    start, limit, strides = _params(op)
    sliced = {j for j in range(len(dst)) if not _is_full(dst[j], start[j], limit[j], strides[j])}
    xs, xl, xt = [0] * len(src), list(src), [1] * len(src)
    for gi, gj in groups:
        if len(gi) == 1 and len(gj) == 1:
            i, j = gi[0], gj[0]
            xs[i], xl[i], xt[i] = start[j], limit[j], strides[j]
            sliced.discard(j)
    if sliced:
        return None
    return b.reshape(b.slice(rs.operand, xs, xl, xt), shape(op.result))


# ============================================================================ hoisting slices through contractions and reductions


@rule(example=Example(lambda x, y: jnp.einsum("bik,bkj->bij", x, y)[:, 1:3, ::2], [(2, 4, 5), (2, 5, 6)]), needs={0: hlo.DotGeneralOp})
def slice_dot_general(op: hlo.SliceOp, b: Builder):
    """slice(dot_general(x, y)) -> dot_general(slice(x), slice(y))   (batch and free dims sliced in the operands; the slice is the only user)"""
    dot = producer(op.operand, hlo.DotGeneralOp)
    if dot is None or dot.algorithm is not None or not _only_used_by(dot.result, op):
        return None
    dn = dot.dot_dimension_numbers
    start, limit, strides = _params(op)
    lb, rb = list(dn.lhs_batching_dimensions), list(dn.rhs_batching_dimensions)
    lc, rc = list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)
    ls, rs = shape(dot.lhs), shape(dot.rhs)
    lfree = [d for d in range(len(ls)) if d not in lb and d not in lc]
    rfree = [d for d in range(len(rs)) if d not in rb and d not in rc]

    def operand_slice(v, dims_out: dict[int, int]):
        n = shape(v)
        s = [start[dims_out[d]] if d in dims_out else 0 for d in range(len(n))]
        l = [limit[dims_out[d]] if d in dims_out else n[d] for d in range(len(n))]
        t = [strides[dims_out[d]] if d in dims_out else 1 for d in range(len(n))]
        return b.slice(v, s, l, t)

    nb, nl = len(lb), len(lfree)
    lhs_map = {d: i for i, d in enumerate(lb)} | {d: nb + k for k, d in enumerate(lfree)}
    rhs_map = {d: i for i, d in enumerate(rb)} | {d: nb + nl + k for k, d in enumerate(rfree)}
    lhs, rhs = operand_slice(dot.lhs, lhs_map), operand_slice(dot.rhs, rhs_map)
    return b.dot_general(lhs, rhs, lb, rb, lc, rc, elem(op.result), dot.precision_config)


@rule(example=Example(lambda x: jnp.sum(x, axis=1)[1:3], [(4, 5)]), needs={0: hlo.ReduceOp})
def slice_reduce(op: hlo.SliceOp, b: Builder):
    """slice(reduce(x, dims)) -> reduce(slice(x), dims)   (kept dims sliced in the operand; the slice is the only user)"""
    red = producer(op.operand, hlo.ReduceOp)
    if red is None or len(red.results_) != 1 or not _only_used_by(red.results_[0], op):
        return None
    dims = list(red.dimensions.get_values())
    start, limit, strides = _params(op)
    src = shape(red.inputs[0])
    kept = [d for d in range(len(src)) if d not in dims]
    xs, xl, xt = [0] * len(src), list(src), [1] * len(src)
    for i, d in enumerate(kept):
        xs[d], xl[d], xt[d] = start[i], limit[i], strides[i]
    new = hlo.ReduceOp.create(
        operands=[*(b.slice(x, xs, xl, xt) for x in red.inputs), *red.init_values],
        result_types=[op.result.type],
        properties=dict(red.properties),
        attributes=dict(red.attributes),
        regions=[red.body.clone()],
    )
    return b.insert(new).results[0]
