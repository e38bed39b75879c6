"""Tier 2: linear and multilinear ops give their transposes.

``transpose(b, op, ct, i, xs)`` returns the cotangent of operand ``i`` given the
cotangent ``ct`` of the result; ``xs`` are the primal operands in the generated code
(used by multilinear ops and for shapes).
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import ComplexType

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem, shape, tensor
from ..registry import linear


@linear(hlo.AddOp, arith.AddfOp)
def add(b: Builder, op, ct, i, xs):
    """add(x, y)^T ct = (ct, ct)"""
    return ct


@linear(hlo.SubtractOp, arith.SubfOp)
def subtract(b: Builder, op, ct, i, xs):
    """sub(x, y)^T ct = (ct, -ct)"""
    return ct if i == 0 else b.neg(ct)


@linear(hlo.NegateOp, arith.NegfOp)
def negate(b: Builder, op, ct, i, xs):
    """neg(x)^T ct = -ct"""
    return b.neg(ct)


def _cube_square(op) -> int | None:
    """The index of the factor ``x * x`` when ``op`` is the cube ``(x * x) * x`` or
    ``x * (x * x)`` (how jax lowers ``x ** 3``), else None."""
    for k in (0, 1):
        sq, x = op.operands[k], op.operands[1 - k]
        inner = sq.owner
        if type(inner) is type(op) and inner.operands[0] == x and inner.operands[1] == x:
            return k
    return None


@linear(hlo.MultiplyOp, arith.MulfOp, multilinear=True)
def multiply(b: Builder, op, ct, i, xs):
    """mul(x, y)^T ct = (ct * y, x * ct). A cube ``(x * x) * x``: x gets ct * (3 * x^2)
    (x * x is the other factor) and the square factor nothing, as jax's rule of
    ``x ** 3``; the product rule through the square would add ct * x * x twice more."""
    sq = _cube_square(op)
    if sq is not None:
        return None if i == sq else b.mul(ct, b.mul(xs[sq], b.full_like(xs[sq], 3)))
    return b.mul(ct, xs[1]) if i == 0 else b.mul(xs[0], ct)


@linear(hlo.ConvertOp, arith.ExtFOp, arith.TruncFOp)
def convert(b: Builder, op, ct, i, xs):
    """convert(x)^T ct = convert(ct) back to x's element type; from a complex ct to a real
    x, Re(ct) (the transpose of x -> x + 0i)"""
    if isinstance(elem(ct), ComplexType) and not isinstance(elem(xs[0]), ComplexType):
        ct = b.insert(hlo.RealOp(ct, tensor(elem(ct).element_type, shape(ct)))).results[0]
    return b.convert(ct, elem(xs[0]))


@linear(hlo.SelectOp, arith.SelectOp, operands=(1, 2))
def select(b: Builder, op, ct, i, xs):
    """select(p, x, y)^T ct = (select(p, ct, 0), select(p, 0, ct))"""
    zero = b.zeros_like(ct)
    return b.select(xs[0], ct, zero) if i == 1 else b.select(xs[0], zero, ct)


@linear(hlo.BroadcastInDimOp)
def broadcast_in_dim(b: Builder, op: hlo.BroadcastInDimOp, ct, i, xs):
    """broadcast_in_dim(x, dims)^T ct = sum ct over the broadcast dimensions, reshaped to x"""
    dims = list(op.broadcast_dimensions.get_values())
    src, dst = shape(xs[0]), shape(ct)
    summed = [d for d in range(len(dst)) if d not in dims]
    summed += [d for k, d in enumerate(dims) if src[k] == 1 and dst[d] != 1]
    out = b.reduce_sum(ct, sorted(summed))
    # the remaining dimensions are in the order of ``dims``, which may be unsorted
    kept = [d for d in range(len(dst)) if d not in summed]
    order = [kept.index(d) for d in dims if d in kept]
    out_shape = [shape(out)[k] for k in order]
    out = b.transpose(out, order) if order != sorted(order) else out
    del out_shape
    return b.reshape(out, src)


@linear(hlo.ReshapeOp)
def reshape(b: Builder, op, ct, i, xs):
    """reshape(x)^T ct = reshape(ct) to x's shape"""
    return b.reshape(ct, shape(xs[0]))


@linear(hlo.TransposeOp)
def transpose(b: Builder, op: hlo.TransposeOp, ct, i, xs):
    """transpose(x, p)^T ct = transpose(ct, p^-1)"""
    perm = list(op.permutation.get_values())
    return b.transpose(ct, list(np.argsort(perm)))


@linear(hlo.ReverseOp)
def reverse(b: Builder, op: hlo.ReverseOp, ct, i, xs):
    """reverse(x, d)^T ct = reverse(ct, d)"""
    return b.reverse(ct, list(op.dimensions.get_values()))


@linear(hlo.SliceOp)
def slice_(b: Builder, op: hlo.SliceOp, ct, i, xs):
    """slice(x, lo, hi, s)^T ct = pad(ct, 0) back to x's shape, interior s - 1"""
    start, strides = op.start_indices.get_values(), op.strides.get_values()
    src, out = shape(xs[0]), shape(ct)
    high = [d - (lo + (n - 1) * s + 1) if n > 0 else d - lo for d, lo, n, s in zip(src, start, out, strides)]
    interior = [s - 1 for s in strides]
    zero = b.zeros(_scalar(ct))
    if any(n == 0 for n in out):
        return b.zeros(xs[0].type)
    return b.pad(ct, zero, list(start), high, interior)


@linear(hlo.PadOp)
def pad(b: Builder, op: hlo.PadOp, ct, i, xs):
    """pad(x, v)^T ct = (strided slice of ct un-padded, sum(ct) - sum(that))"""
    lo, hi, interior = (list(a.get_values()) for a in (op.edge_padding_low, op.edge_padding_high, op.interior_padding))
    zero = b.zeros(_scalar(ct))
    unpadded = b.pad(ct, zero, [-v for v in lo], [-v for v in hi], [0] * len(lo))
    ct_x = b.slice(unpadded, [0] * len(lo), list(shape(unpadded)), [it + 1 for it in interior])
    if i == 0:
        return ct_x
    rank = len(shape(ct))
    total = b.reduce_sum(ct, list(range(rank)))
    inner = b.reduce_sum(ct_x, list(range(rank)))
    return b.sub(total, inner)


@linear(hlo.ConcatenateOp)
def concatenate(b: Builder, op: hlo.ConcatenateOp, ct, i, xs):
    """concatenate(xs, d)^T ct = the slice of ct where xs[i] sits"""
    dim = op.dimension.value.data
    offset = sum(shape(x)[dim] for x in xs[:i])
    start = [0] * len(shape(ct))
    limit = list(shape(ct))
    start[dim], limit[dim] = offset, offset + shape(xs[i])[dim]
    return b.slice(ct, start, limit)


@linear(hlo.DynamicSliceOp, operands=(0,))
def dynamic_slice(b: Builder, op, ct, i, xs):
    """dynamic_slice(x, idx)^T ct = dynamic_update_slice(zeros_like(x), ct, idx)"""
    return b.dynamic_update_slice(b.zeros(xs[0].type), ct, xs[1:])


@linear(hlo.DynamicUpdateSliceOp, operands=(0, 1))
def dynamic_update_slice(b: Builder, op, ct, i, xs):
    """dus(x, u, idx)^T ct = (dus(ct, 0, idx), dynamic_slice(ct, idx))"""
    if i == 0:
        return b.dynamic_update_slice(ct, b.zeros(xs[1].type), xs[2:])
    return b.dynamic_slice(ct, xs[2:], shape(xs[1]))


@linear(hlo.DotGeneralOp, multilinear=True)
def dot_general(b: Builder, op: hlo.DotGeneralOp, ct, i, xs):
    """dot_general(x, y)^T ct: contract ct with the other operand over its free
    dimensions, then permute into the operand's layout"""
    dn = op.dot_dimension_numbers
    lb, rb = list(dn.lhs_batching_dimensions), list(dn.rhs_batching_dimensions)
    lc, rc = list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)
    if i == 1:  # swap roles: the rhs is the "lhs" of the mirrored product
        lb, rb, lc, rc = rb, lb, rc, lc
    x, y = (xs[0], xs[1]) if i == 0 else (xs[1], xs[0])
    xr, yr = len(shape(x)), len(shape(y))
    xfree = [d for d in range(xr) if d not in lb and d not in lc]
    yfree = [d for d in range(yr) if d not in rb and d not in rc]
    nb = len(lb)
    # ct's layout is [batch, lhs free, rhs free]; which block is "ours" depends on i
    ours = list(range(nb, nb + len(xfree))) if i == 0 else list(range(nb + len(yfree), nb + len(yfree) + len(xfree)))
    theirs = list(range(nb + len(xfree), nb + len(xfree) + len(yfree))) if i == 0 else list(range(nb, nb + len(yfree)))
    del ours
    ct_in = b.convert(ct, elem(y)) if elem(ct) != elem(y) else ct
    out = b.dot_general(ct_in, y, list(range(nb)), rb, theirs, yfree, result_element=elem(x), precision=op.precision_config)
    # out layout: [batch (x's lb order), x free (ct order), y's remaining dims ascending]
    y_rest = sorted(rc)
    res_to_x = lb + xfree + [lc[rc.index(r)] for r in y_rest]
    perm = [res_to_x.index(d) for d in range(xr)]
    return b.transpose(out, perm)


def _scalar(v):
    from ...ir.builder import tensor

    return tensor(elem(v), [])


# ============================================================================ width-N forward
#
# Batched forward rules: operands flagged in ``batched`` carry a leading dimension of
# fwd.width directions; the others are primal values shared by all directions.

from xdsl.dialects.builtin import TensorType  # noqa: E402

from ..registry import batched  # noqa: E402


def _btype(fwd, t):
    return fwd.tangent_type(t)


def _same_op(fwd, op, operands, result_type):
    new = type(op).create(operands=operands, result_types=[result_type], properties=dict(op.properties), attributes=dict(op.attributes))
    return fwd.builder.insert(new).results[0]


@batched(hlo.AddOp, hlo.SubtractOp, hlo.NegateOp, arith.AddfOp, arith.SubfOp, arith.NegfOp)
def batched_elementwise_linear(fwd, op, operands, flags):
    """all differentiable operands are batched: the same op on the batched shape"""
    return _same_op(fwd, op, operands, _btype(fwd, op.results[0].type))


@batched(hlo.MultiplyOp, arith.MulfOp)
def batched_multiply(fwd, op, operands, flags):
    """one factor batched: broadcast the other along the directions"""
    xs = [v if f else fwd.expand(v) for v, f in zip(operands, flags)]
    return fwd.builder.mul(xs[0], xs[1])


@batched(hlo.ConvertOp, arith.ExtFOp, arith.TruncFOp)
def batched_convert(fwd, op, operands, flags):
    return fwd.builder.convert(operands[0], elem(op.results[0]))


@batched(hlo.SelectOp, arith.SelectOp)
def batched_select(fwd, op, operands, flags):
    pred = operands[0]
    if shape(pred) != ():
        pred = fwd.expand(pred)
    elif not isinstance(operands[1].type, TensorType) or shape(op.results[0]) == ():
        pred = fwd.builder.broadcast_in_dim(pred, shape(operands[1]), []) if isinstance(pred.type, TensorType) else pred
    return fwd.builder.select(pred, operands[1], operands[2])


@batched(hlo.BroadcastInDimOp)
def batched_broadcast_in_dim(fwd, op, operands, flags):
    dims = [0] + fwd.bdims(op.broadcast_dimensions.get_values())
    return fwd.builder.broadcast_in_dim(operands[0], [fwd.width, *shape(op.result)], dims)


@batched(hlo.ReshapeOp)
def batched_reshape(fwd, op, operands, flags):
    return fwd.builder.reshape(operands[0], [fwd.width, *shape(op.result)])


@batched(hlo.TransposeOp)
def batched_transpose(fwd, op, operands, flags):
    return fwd.builder.transpose(operands[0], [0] + fwd.bdims(op.permutation.get_values()))


@batched(hlo.ReverseOp)
def batched_reverse(fwd, op, operands, flags):
    return fwd.builder.reverse(operands[0], fwd.bdims(op.dimensions.get_values()))


@batched(hlo.SliceOp)
def batched_slice(fwd, op, operands, flags):
    start, limit, strides = (list(a.get_values()) for a in (op.start_indices, op.limit_indices, op.strides))
    return fwd.builder.slice(operands[0], [0] + start, [fwd.width] + limit, [1] + strides)


@batched(hlo.PadOp)
def batched_pad(fwd, op, operands, flags):
    """pad(t_x, 0) plus the padding value's tangent where the padding is"""
    from ...ir.builder import is_zero

    b = fwd.builder
    lo, hi, it = (list(a.get_values()) for a in (op.edge_padding_low, op.edge_padding_high, op.interior_padding))
    zero = b.zeros(_scalar(op.operands[1]))
    out = b.pad(operands[0], zero, [0] + lo, [0] + hi, [0] + it)
    t_v = operands[1]
    if is_zero(t_v):
        return out
    one = b.ones_like(zero)
    mask = b.pad(b.zeros(op.operands[0].type), one, lo, hi, it)
    rank = len(shape(op.result))
    t_v_b = b.broadcast_in_dim(t_v, [fwd.width, *shape(op.result)], [0])
    return b.add(out, b.mul(fwd.expand(mask), t_v_b))


@batched(hlo.ConcatenateOp)
def batched_concatenate(fwd, op, operands, flags):
    return fwd.builder.concatenate(operands, op.dimension.value.data + 1)


@batched(hlo.DynamicSliceOp)
def batched_dynamic_slice(fwd, op, operands, flags):
    b = fwd.builder
    idx = operands[1:]
    zero = b.zeros(idx[0].type) if idx else None
    return b.dynamic_slice(operands[0], [zero, *idx], [fwd.width, *op.slice_sizes.get_values()])


@batched(hlo.DynamicUpdateSliceOp)
def batched_dynamic_update_slice(fwd, op, operands, flags):
    b = fwd.builder
    idx = operands[2:]
    zero = b.zeros(idx[0].type)
    return b.dynamic_update_slice(operands[0], operands[1], [zero, *idx])


@batched(hlo.DotGeneralOp)
def batched_dot_general(fwd, op: hlo.DotGeneralOp, operands, flags):
    """the direction dimension is a free dimension of the batched operand, moved first"""
    b = fwd.builder
    dn = op.dot_dimension_numbers
    lb, rb = list(dn.lhs_batching_dimensions), list(dn.rhs_batching_dimensions)
    lc, rc = list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)
    lhs, rhs = operands
    nb = len(lb)
    if flags[0]:
        out = b.dot_general(lhs, rhs, fwd.bdims(lb), rb, fwd.bdims(lc), rc, elem(op.result), op.precision_config)
        pos = nb  # first lhs free dimension
    else:
        out = b.dot_general(lhs, rhs, lb, fwd.bdims(rb), lc, fwd.bdims(rc), elem(op.result), op.precision_config)
        lfree = len(shape(lhs)) - len(lb) - len(lc)
        pos = nb + lfree
    rank = len(shape(out))
    perm = [pos] + [d for d in range(rank) if d != pos]
    return b.transpose(out, perm)


from xdsl.dialects import tensor as _tensor  # noqa: E402


@linear(_tensor.SplatOp, operands=(0,))
def tensor_splat(b: Builder, op, ct, i, xs):
    """splat(x)^T ct = sum(ct) as a scalar"""
    total = b.reduce_sum(ct, list(range(len(shape(ct)))))
    return b.to_scalar(total)


@linear(_tensor.ExtractOp, operands=(0,))
def tensor_extract(b: Builder, op, ct, i, xs):
    """extract(x)^T ct = ct as a rank-0 tensor (an extract of a rank-0 tensor; others are
    refused)"""
    if op.indices:
        from ..errors import DiffError
        from ...ir.query import describe_location

        raise DiffError(f"cannot differentiate 'tensor.extract' at {describe_location(op)}: only an extract of a rank-0 tensor has a derivative rule")
    return b.from_scalar(ct)


@batched(_tensor.SplatOp)
def batched_tensor_splat(fwd, op, operands, flags):
    """a batched scalar tangent (tensor<N>) broadcast along the splat's dimensions"""
    return fwd.builder.broadcast_in_dim(operands[0], [fwd.width, *shape(op.result)], [0])


# ============================================================================ width-N reverse
#
# Batched transposes: ``ct`` carries rev.width cotangents in a leading dimension, the
# primal operands ``xs`` none; the result is operand i's cotangents, batched likewise.

from ..registry import batched_transpose  # noqa: E402


@batched_transpose(hlo.AddOp, arith.AddfOp, hlo.SubtractOp, arith.SubfOp, hlo.NegateOp, arith.NegfOp, hlo.ConvertOp, arith.ExtFOp, arith.TruncFOp)
def batched_t_same(rev, op, ct, i, xs):
    """the width-1 transposes apply elementwise to the cotangent: unchanged"""
    return LINEAR_RULES[type(op)](rev.builder, op, ct, i, xs)


@batched_transpose(hlo.MultiplyOp, arith.MulfOp)
def batched_t_multiply(rev, op, ct, i, xs):
    """ct * y (or x * ct), the primal factor broadcast along the cotangents (a cube as in
    ``multiply``)"""
    sq = _cube_square(op)
    if sq is not None:
        b = rev.builder
        return None if i == sq else b.mul(ct, rev.expand(b.mul(xs[sq], b.full_like(xs[sq], 3))))
    other = xs[1] if i == 0 else xs[0]
    return rev.builder.mul(ct, rev.expand(other)) if i == 0 else rev.builder.mul(rev.expand(other), ct)


@batched_transpose(hlo.SelectOp, arith.SelectOp)
def batched_t_select(rev, op, ct, i, xs):
    b = rev.builder
    pred = xs[0]
    if shape(pred) != ():
        pred = rev.expand(pred)
    elif not isinstance(pred.type, TensorType):
        pred = b.from_scalar(pred)  # an arith.select on scalars: its cotangents are tensor<N>
    zero = b.zeros_like(ct)
    return b.select(pred, ct, zero) if i == 1 else b.select(pred, zero, ct)


@batched_transpose(hlo.BroadcastInDimOp)
def batched_t_broadcast_in_dim(rev, op: hlo.BroadcastInDimOp, ct, i, xs):
    """sum over the broadcast dimensions (the cotangent dimension kept first)"""
    b = rev.builder
    dims = [d + 1 for d in op.broadcast_dimensions.get_values()]
    src, dst = shape(xs[0]), shape(ct)
    summed = [d for d in range(1, len(dst)) if d not in dims]
    summed += [d for k, d in enumerate(dims) if src[k] == 1 and dst[d] != 1]
    out = b.reduce_sum(ct, sorted(summed))
    kept = [d for d in range(len(dst)) if d not in summed]  # 0 first
    order = [0] + [kept.index(d) for d in dims if d in kept]
    out = b.transpose(out, order) if order != sorted(order) else out
    return b.reshape(out, [rev.width, *src])


@batched_transpose(hlo.ReshapeOp)
def batched_t_reshape(rev, op, ct, i, xs):
    return rev.builder.reshape(ct, [rev.width, *shape(xs[0])])


@batched_transpose(hlo.TransposeOp)
def batched_t_transpose(rev, op: hlo.TransposeOp, ct, i, xs):
    perm = list(op.permutation.get_values())
    return rev.builder.transpose(ct, [0] + [int(d) + 1 for d in np.argsort(perm)])


@batched_transpose(hlo.ReverseOp)
def batched_t_reverse(rev, op: hlo.ReverseOp, ct, i, xs):
    return rev.builder.reverse(ct, rev.bdims(op.dimensions.get_values()))


@batched_transpose(hlo.SliceOp)
def batched_t_slice(rev, op: hlo.SliceOp, ct, i, xs):
    b = rev.builder
    start, strides = list(op.start_indices.get_values()), list(op.strides.get_values())
    src, out = shape(xs[0]), shape(ct)[1:]
    if any(n == 0 for n in out):
        return b.zeros(rev.adjoint_type(xs[0].type))
    high = [d - (lo + (n - 1) * s + 1) for d, lo, n, s in zip(src, start, out, strides)]
    zero = b.zeros(_scalar(ct))
    return b.pad(ct, zero, [0] + start, [0] + high, [0] + [s - 1 for s in strides])


@batched_transpose(hlo.PadOp)
def batched_t_pad(rev, op: hlo.PadOp, ct, i, xs):
    b = rev.builder
    lo, hi, interior = (list(a.get_values()) for a in (op.edge_padding_low, op.edge_padding_high, op.interior_padding))
    zero = b.zeros(_scalar(ct))
    unpadded = b.pad(ct, zero, [0] + [-v for v in lo], [0] + [-v for v in hi], [0] * (len(lo) + 1))
    ct_x = b.slice(unpadded, [0] * (len(lo) + 1), list(shape(unpadded)), [1] + [it + 1 for it in interior])
    if i == 0:
        return ct_x
    dims = list(range(1, len(shape(ct))))
    return b.sub(b.reduce_sum(ct, dims), b.reduce_sum(ct_x, dims))


@batched_transpose(hlo.ConcatenateOp)
def batched_t_concatenate(rev, op: hlo.ConcatenateOp, ct, i, xs):
    dim = op.dimension.value.data + 1
    offset = sum(shape(x)[dim - 1] for x in xs[:i])
    start = [0] * len(shape(ct))
    limit = list(shape(ct))
    start[dim], limit[dim] = offset, offset + shape(xs[i])[dim - 1]
    return rev.builder.slice(ct, start, limit)


@batched_transpose(hlo.DynamicSliceOp)
def batched_t_dynamic_slice(rev, op, ct, i, xs):
    b = rev.builder
    idx = xs[1:]
    zero = b.zeros(idx[0].type) if idx else None
    return b.dynamic_update_slice(b.zeros(rev.adjoint_type(xs[0].type)), ct, [zero, *idx] if idx else [])


@batched_transpose(hlo.DynamicUpdateSliceOp)
def batched_t_dynamic_update_slice(rev, op, ct, i, xs):
    b = rev.builder
    idx = xs[2:]
    zero = b.zeros(idx[0].type) if idx else None
    starts = [zero, *idx] if idx else []
    if i == 0:
        return b.dynamic_update_slice(ct, b.zeros(rev.adjoint_type(xs[1].type)), starts)
    return b.dynamic_slice(ct, starts, [rev.width, *shape(xs[1])])


@batched_transpose(hlo.DotGeneralOp)
def batched_t_dot_general(rev, op: hlo.DotGeneralOp, ct, i, xs):
    """as the width-1 transpose, the cotangent dimension a free dimension of ct that
    lands first in operand i's cotangent"""
    b = rev.builder
    dn = op.dot_dimension_numbers
    lb, rb = list(dn.lhs_batching_dimensions), list(dn.rhs_batching_dimensions)
    lc, rc = list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)
    if i == 1:
        lb, rb, lc, rc = rb, lb, rc, lc
    x, y = (xs[0], xs[1]) if i == 0 else (xs[1], xs[0])
    xr, yr = len(shape(x)), len(shape(y))
    xfree = [d for d in range(xr) if d not in lb and d not in lc]
    yfree = [d for d in range(yr) if d not in rb and d not in rc]
    nb = len(lb)
    # ct's layout: [N, batch, lhs free, rhs free]
    theirs = list(range(1 + nb + len(xfree), 1 + nb + len(xfree) + len(yfree))) if i == 0 else list(range(1 + nb, 1 + nb + len(yfree)))
    ct_in = b.convert(ct, elem(y)) if elem(ct) != elem(y) else ct
    out = b.dot_general(ct_in, y, list(range(1, 1 + nb)), rb, theirs, yfree, result_element=elem(x), precision=op.precision_config)
    # out layout: [batch (x's lb order), N, x free (ct order), y's remaining dims ascending]
    labels = lb + ["N"] + xfree + [lc[rc.index(r)] for r in sorted(rc)]
    perm = [labels.index("N")] + [labels.index(d) for d in range(xr)]
    return b.transpose(out, perm)


@batched_transpose(_tensor.SplatOp)
def batched_t_tensor_splat(rev, op, ct, i, xs):
    """sum over the splat's dimensions: tensor<N> cotangents of the scalar"""
    return rev.builder.reduce_sum(ct, list(range(1, len(shape(ct)))))


LINEAR_RULES = {hlo.AddOp: add, arith.AddfOp: add, hlo.SubtractOp: subtract, arith.SubfOp: subtract, hlo.NegateOp: negate, arith.NegfOp: negate, hlo.ConvertOp: convert, arith.ExtFOp: convert, arith.TruncFOp: convert}
