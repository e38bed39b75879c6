"""Rules rooted at stablehlo.dot_general.

A dot_general result element is a sum of products whose accumulation order is
implementation-defined. Rules that keep every element's products (and drop only
copies or negations) are exact, up to the sign of a zero result. Rules that turn a sum
of products into a product of sums, or regroup a chain of contractions, change rounding
(and can overflow differently): they are ``unsafe`` for floats (fast-math only) and exact
for integers (wrapping arithmetic). A dot_general of converted operands (bf16 -> f32) is
left alone: folding the convert into the dot's preferred element type changes precision.

Transposes absorbed into dimension numbers, and transpose(dot_general) -> dot_general
with swapped operands, are in the transpose family.
"""

from __future__ import annotations

from math import prod

from ..lazy_jax import jnp
from ..lazy_jax import lax
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ..pattern import CONSTANT, Example, orders, producer, rule, shape, single_use
from .common import free_dims, is_integer, single_number, splat_scalar, splat_to

# ============================================================================ helpers


def _numbers(op: hlo.DotGeneralOp):
    dn = op.dot_dimension_numbers
    return (
        list(dn.lhs_batching_dimensions),
        list(dn.rhs_batching_dimensions),
        list(dn.lhs_contracting_dimensions),
        list(dn.rhs_contracting_dimensions),
    )


def _plain(op: hlo.DotGeneralOp) -> bool:
    """One element type throughout and no algorithm: rebuilding the dot from other
    operands keeps its arithmetic."""
    return op.algorithm is None and elem(op.lhs) == elem(op.rhs) == elem(op.result)


def _cost(result: tuple[int, ...], contract_sizes) -> int:
    return prod(result) * prod(contract_sizes)


def _drop_dims(b: Builder, y: SSAValue, bdims: list[int], gone: set[int], new_index: dict[int, int], out_shape: list[int]) -> SSAValue:
    """broadcast_in_dim(y, bdims) with the result dims in ``gone`` removed (y's dims that
    map there have size 1 and are reshaped away)."""
    ys = shape(y)
    keep = [j for j in range(len(ys)) if bdims[j] not in gone]
    y2 = b.reshape(y, [ys[j] for j in keep])
    return b.broadcast_in_dim(y2, out_shape, [new_index[bdims[j]] for j in keep])


def _expanded(bc: hlo.BroadcastInDimOp) -> set[int]:
    """Result dims of a broadcast that are copies (no operand dim of the same size)."""
    bdims = list(bc.broadcast_dimensions.get_values())
    ys, xs = shape(bc.operand), shape(bc.result)
    covered = {bdims[j] for j in range(len(ys)) if ys[j] == xs[bdims[j]]}
    return {d for d in range(len(xs)) if d not in covered}


# ============================================================================ zeros


def _zero_operand(op: hlo.DotGeneralOp) -> bool:
    return any(single_number(v) is not None and single_number(v) == 0 for v in (op.lhs, op.rhs))


@rule(example=Example(lambda x: x @ jnp.zeros((4, 2)), [(3, 4)]), unsafe=True, needs=CONSTANT)
def dot_general_zero(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(x, 0) -> 0 ;  dot_general(0, y) -> 0   (floats: wrong for NaN/Inf in the other operand; fast-math only)"""
    if is_integer(op.result) or not _zero_operand(op):
        return None
    return b.zeros_like(op.result)


@rule(example=Example(lambda x: x @ jnp.zeros((4, 2), dtype=jnp.int64), [(3, 4)], dtypes=["int64"]), needs=CONSTANT)
def dot_general_zero_int(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(x, 0) -> 0 ;  dot_general(0, y) -> 0   (integers: exact)"""
    if not is_integer(op.result) or not _zero_operand(op):
        return None
    return b.zeros_like(op.result)


@rule(example=Example(lambda x, y: x @ y, [(3, 0), (0, 2)]))
def dot_general_empty_contraction(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(x, y) -> 0   (a contracting dimension of size 0: every element is an empty sum)"""
    lc = list(op.dot_dimension_numbers.lhs_contracting_dimensions)
    if not any(shape(op.lhs)[d] == 0 for d in lc) or prod(shape(op.result)) == 0:
        return None
    return b.zeros_like(op.result)


# ============================================================================ negation and scaling


@rule(example=Example(lambda x, y: (-x) @ y, [(3, 4), (4, 2)]), needs=hlo.NegateOp)
def dot_general_negate(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(negate(x), y) -> negate(dot_general(x, y)) ;  same for y   (rounding is symmetric; up to the sign of a zero)"""
    if not _plain(op):
        return None
    lb, rb, lc, rc = _numbers(op)
    nl, nr = producer(op.lhs, hlo.NegateOp), producer(op.rhs, hlo.NegateOp)
    if nl is not None:
        return b.neg(b.dot_general(nl.operand, op.rhs, lb, rb, lc, rc, elem(op.result), op.precision_config))
    if nr is not None:
        return b.neg(b.dot_general(op.lhs, nr.operand, lb, rb, lc, rc, elem(op.result), op.precision_config))
    return None


def _scaled(v: SSAValue):
    """(x, c) when v = multiply(x, broadcast of a rank-0 c, or a splat constant c)
    (either order), else None (c as ``splat_scalar`` gives it)."""
    mul = producer(v, hlo.MultiplyOp)
    if mul is None:
        return None
    for x, f in orders(mul):
        c = splat_scalar(f)
        if c is not None:
            return x, c
    return None


def _dot_general_scale(op: hlo.DotGeneralOp, b: Builder, want_int: bool):
    if not _plain(op) or is_integer(op.result) != want_int:
        return None
    lb, rb, lc, rc = _numbers(op)
    for side in ("lhs", "rhs"):
        found = _scaled(getattr(op, side))
        if found is None:
            continue
        x, c = found
        lhs, rhs = (x, op.rhs) if side == "lhs" else (op.lhs, x)
        d = b.dot_general(lhs, rhs, lb, rb, lc, rc, elem(op.result), op.precision_config)
        return b.mul(d, splat_to(b, c, shape(op.result), op.result))
    return None


@rule(example=Example(lambda x, y, c: (x * c) @ y, [(3, 4), (4, 2), ()]), unsafe=True, needs=hlo.MultiplyOp)
def dot_general_scale(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(x * c, y) -> dot_general(x, y) * c ;  same for y   (c a scalar; floats: rounding differs; fast-math only)"""
    return _dot_general_scale(op, b, want_int=False)


@rule(example=Example(lambda x, y, c: x @ (y * c), [(3, 4), (4, 2), ()], dtypes=["int64", "int64", "int64"]), needs=hlo.MultiplyOp)
def dot_general_scale_int(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(x * c, y) -> dot_general(x, y) * c ;  same for y   (c a scalar; integers: exact)"""
    return _dot_general_scale(op, b, want_int=True)


# ============================================================================ broadcast operands


@rule(example=Example(lambda x, v: x @ jnp.broadcast_to(v[:, None], (4, 6)), [(3, 4), (4,)]), needs=hlo.BroadcastInDimOp)
def dot_general_broadcast_free(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(x, broadcast(y)) -> broadcast(dot_general(x, y'))   (copies along free dims computed once; same for the lhs)"""
    if op.algorithm is not None:
        return None
    lb, rb, lc, rc = _numbers(op)
    ls, rs = shape(op.lhs), shape(op.rhs)
    lfree, rfree = free_dims(len(ls), lb, lc), free_dims(len(rs), rb, rc)
    nb = len(lb)
    for side in ("lhs", "rhs"):
        v = getattr(op, side)
        bc = producer(v, hlo.BroadcastInDimOp)
        if bc is None:
            continue
        free = lfree if side == "lhs" else rfree
        gone = {d for d in _expanded(bc) if d in free}
        if not gone:
            continue
        full = shape(v)
        kept_dims = [d for d in range(len(full)) if d not in gone]
        new_index = {d: i for i, d in enumerate(kept_dims)}
        v2 = _drop_dims(b, bc.operand, list(bc.broadcast_dimensions.get_values()), gone, new_index, [full[d] for d in kept_dims])
        batch, contract = (lb, lc) if side == "lhs" else (rb, rc)
        batch2, contract2 = [new_index[d] for d in batch], [new_index[d] for d in contract]
        if side == "lhs":
            d2 = b.dot_general(v2, op.rhs, batch2, rb, contract2, rc, elem(op.result), op.precision_config)
            positions = list(range(nb)) + [nb + i for i, d in enumerate(lfree) if d not in gone] + [nb + len(lfree) + i for i in range(len(rfree))]
        else:
            d2 = b.dot_general(op.lhs, v2, lb, batch2, lc, contract2, elem(op.result), op.precision_config)
            positions = list(range(nb + len(lfree))) + [nb + len(lfree) + i for i, d in enumerate(rfree) if d not in gone]
        return b.broadcast_in_dim(d2, shape(op.result), positions)
    return None


def _dot_general_broadcast_contracting(op: hlo.DotGeneralOp, b: Builder, want_int: bool):
    if not _plain(op) or is_integer(op.result) != want_int:
        return None
    lb, rb, lc, rc = _numbers(op)
    for side in ("lhs", "rhs"):
        v = getattr(op, side)
        bc = producer(v, hlo.BroadcastInDimOp)
        if bc is None:
            continue
        mine, theirs = (lc, rc) if side == "lhs" else (rc, lc)
        pairs = [k for k in range(len(mine)) if mine[k] in _expanded(bc)]
        if not pairs:
            continue
        other = op.rhs if side == "lhs" else op.lhs
        gone = {mine[k] for k in pairs}
        full = shape(v)
        kept_dims = [d for d in range(len(full)) if d not in gone]
        new_index = {d: i for i, d in enumerate(kept_dims)}
        v2 = _drop_dims(b, bc.operand, list(bc.broadcast_dimensions.get_values()), gone, new_index, [full[d] for d in kept_dims])
        summed = {theirs[k] for k in pairs}
        o2 = b.reduce_sum(other, sorted(summed))
        o_kept = [d for d in range(len(shape(other))) if d not in summed]
        o_index = {d: i for i, d in enumerate(o_kept)}
        rest = [k for k in range(len(mine)) if k not in pairs]
        mine2, theirs2 = [new_index[mine[k]] for k in rest], [o_index[theirs[k]] for k in rest]
        if side == "lhs":
            return b.dot_general(v2, o2, [new_index[d] for d in lb], [o_index[d] for d in rb], mine2, theirs2, elem(op.result), op.precision_config)
        return b.dot_general(o2, v2, [o_index[d] for d in lb], [new_index[d] for d in rb], theirs2, mine2, elem(op.result), op.precision_config)
    return None


@rule(example=Example(lambda x, c: x @ jnp.broadcast_to(c, (4,)), [(3, 4), ()]), unsafe=True, needs=hlo.BroadcastInDimOp)
def dot_general_broadcast_contracting(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(x, broadcast(y)) with copies along contracting dims K -> dot_general(reduce_sum(x, K), y')   (floats: rounding differs; fast-math only)"""
    return _dot_general_broadcast_contracting(op, b, want_int=False)


@rule(example=Example(lambda x, v: jnp.broadcast_to(v[:, None], (3, 4)) @ x, [(4, 2), (3,)], dtypes=["int64", "int64"]), needs=hlo.BroadcastInDimOp)
def dot_general_broadcast_contracting_int(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(x, broadcast(y)) with copies along contracting dims K -> dot_general(reduce_sum(x, K), y')   (integers: exact)"""
    return _dot_general_broadcast_contracting(op, b, want_int=True)


# ============================================================================ outer products


@rule(example=Example(lambda x, y: lax.dot_general(x, y, (((1,), (0,)), ((), ()))), [(3, 1), (1, 4)]))
def dot_general_outer_product(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(x, y) -> multiply(broadcast(x'), broadcast(y'))   (every contracting dim of size 1, or none: one product per element)"""
    ls = shape(op.lhs)
    if any(ls[d] != 1 for d in op.dot_dimension_numbers.lhs_contracting_dimensions) or not _plain(op):
        return None  # the cheaper test first: most dots contract a real dimension
    lb, rb, lc, rc = _numbers(op)
    rs = shape(op.rhs)
    lfree, rfree = free_dims(len(ls), lb, lc), free_dims(len(rs), rb, rc)
    nb, out = len(lb), shape(op.result)
    lpos = {d: i for i, d in enumerate(lb)} | {d: nb + i for i, d in enumerate(lfree)}
    rpos = {d: i for i, d in enumerate(rb)} | {d: nb + len(lfree) + i for i, d in enumerate(rfree)}
    lkeep = [d for d in range(len(ls)) if d not in lc]
    rkeep = [d for d in range(len(rs)) if d not in rc]
    x = b.broadcast_in_dim(b.reshape(op.lhs, [ls[d] for d in lkeep]), out, [lpos[d] for d in lkeep])
    y = b.broadcast_in_dim(b.reshape(op.rhs, [rs[d] for d in rkeep]), out, [rpos[d] for d in rkeep])
    return b.mul(x, y)


# ============================================================================ chains of contractions


def _simple(op: hlo.DotGeneralOp) -> bool:
    lb, _, lc, _ = _numbers(op)
    return _plain(op) and not lb and len(lc) == 1


@rule(example=Example(lambda a, m, v: (a @ m) @ v, [(4, 5), (5, 6), (6,)]), unsafe=True, needs={0: hlo.DotGeneralOp})
def dot_general_reassociate_right(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(dot_general(a, m), v) -> dot_general(a, dot_general(m, v))   (fewer flops; no batch dims; regroups sums: fast-math only)"""
    inner = producer(op.lhs, hlo.DotGeneralOp)
    if inner is None or not _simple(op) or not _simple(inner) or not single_use(op.lhs):
        return None
    if op.precision_config != inner.precision_config or elem(inner.result) != elem(op.result):
        return None
    a, m, c = inner.lhs, inner.rhs, op.rhs
    _, _, [ak], [mk] = _numbers(inner)
    _, _, [q], [cc] = _numbers(op)
    na = len(shape(a)) - 1
    if q < na:
        return None
    mfree = free_dims(len(shape(m)), [], [mk])
    mf = mfree[q - na]
    old = _cost(shape(inner.result), [shape(a)[ak]]) + _cost(shape(op.result), [shape(c)[cc]])
    t_shape = [shape(m)[d] for d in range(len(shape(m))) if d != mf] + [shape(c)[d] for d in range(len(shape(c))) if d != cc]
    new = _cost(tuple(t_shape), [shape(m)[mf]]) + _cost(shape(op.result), [shape(a)[ak]])
    if new >= old:
        return None
    t = b.dot_general(m, c, [], [], [mf], [cc], elem(op.result), op.precision_config)
    mk_pos = [d for d in range(len(shape(m))) if d != mf].index(mk)
    return b.dot_general(a, t, [], [], [ak], [mk_pos], elem(op.result), op.precision_config)


@rule(example=Example(lambda v, a, m: v @ (a @ m), [(4,), (4, 5), (5, 6)]), unsafe=True, needs={1: hlo.DotGeneralOp})
def dot_general_reassociate_left(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(v, dot_general(a, m)) -> dot_general(dot_general(v, a), m)   (fewer flops; no batch dims; regroups sums: fast-math only)"""
    inner = producer(op.rhs, hlo.DotGeneralOp)
    if inner is None or not _simple(op) or not _simple(inner) or not single_use(op.rhs):
        return None
    if op.precision_config != inner.precision_config or elem(inner.result) != elem(op.result):
        return None
    c, a, m = op.lhs, inner.lhs, inner.rhs
    _, _, [ak], [mk] = _numbers(inner)
    _, _, [cc], [q] = _numbers(op)
    na = len(shape(a)) - 1
    if q >= na:
        return None
    af = free_dims(len(shape(a)), [], [ak])[q]
    old = _cost(shape(inner.result), [shape(a)[ak]]) + _cost(shape(op.result), [shape(c)[cc]])
    a_rest = [d for d in range(len(shape(a))) if d != af]
    t_shape = [shape(c)[d] for d in range(len(shape(c))) if d != cc] + [shape(a)[d] for d in a_rest]
    new = _cost(tuple(t_shape), [shape(a)[af]]) + _cost(shape(op.result), [shape(a)[ak]])
    if new >= old:
        return None
    t = b.dot_general(c, a, [], [], [cc], [af], elem(op.result), op.precision_config)
    ak_pos = len(shape(c)) - 1 + a_rest.index(ak)
    return b.dot_general(t, m, [], [], [ak_pos], [mk], elem(op.result), op.precision_config)
