"""Sums and differences of two dot_generals that share an operand: one dot_general of the
sum (``dot(a, b) + dot(a, c) -> dot(a, b + c)``).

Exactness. Integer arithmetic wraps and is a ring, so the identity is exact on integers.
On floats the sum is taken before the products instead of after: rounding changes and a
sum may overflow where the products did not, so the float rule is fast-math only.
"""

from __future__ import annotations

from ..lazy_jax import jnp
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ..pattern import Example, is_float_tensor, producer, rule, single_use
from .common import is_integer

I32_3 = ["int32", "int32", "int32"]


def _same_config(p: hlo.DotGeneralOp, q: hlo.DotGeneralOp) -> bool:
    return p.dot_dimension_numbers == q.dot_dimension_numbers and p.precision_config == q.precision_config and p.algorithm == q.algorithm and p.result.type == q.result.type


def _distribute(op, b: Builder, want_float: bool) -> SSAValue | None:
    if not (is_float_tensor(op.result) if want_float else is_integer(op.result)):
        return None
    if not want_float and str(op.result.type.get_element_type()) == "i1":
        return None
    p, q = producer(op.lhs, hlo.DotGeneralOp), producer(op.rhs, hlo.DotGeneralOp)
    if p is None or q is None or not _same_config(p, q) or not single_use(op.lhs) or not single_use(op.rhs):
        return None
    f = b.add if isinstance(op, hlo.AddOp) else b.sub
    if p.lhs is q.lhs and p.rhs.type == q.rhs.type:
        lhs, rhs = p.lhs, f(p.rhs, q.rhs)
    elif p.rhs is q.rhs and p.lhs.type == q.lhs.type:
        lhs, rhs = f(p.lhs, q.lhs), p.rhs
    else:
        return None
    new = hlo.DotGeneralOp.create(operands=[lhs, rhs], result_types=[op.result.type], properties=dict(p.properties), attributes=dict(p.attributes))
    return b.insert(new).results[0]


@rule(
    example=[
        Example(lambda a, x, y: a @ x + a @ y, [(2, 3), (3, 2), (3, 2)], dtypes=I32_3),
        Example(lambda a, x, y: jnp.dot(x, a) - jnp.dot(y, a), [(3, 2), (2, 3), (2, 3)], dtypes=I32_3),
    ],
    roots=[hlo.AddOp, hlo.SubtractOp],
    needs={0: hlo.DotGeneralOp, 1: hlo.DotGeneralOp},
)
def dot_general_distributive_int(op, b: Builder):
    """dot(a, x) ± dot(a, y) -> dot(a, x ± y) ;  dot(x, a) ± dot(y, a) -> dot(x ± y, a)   (integers: the ring distributes exactly; same dimension numbers; the dots have no other user)"""
    return _distribute(op, b, want_float=False)


@rule(
    example=[
        Example(lambda a, x, y: a @ x + a @ y, [(2, 3), (3, 2), (3, 2)]),
        Example(lambda a, x, y: jnp.dot(x, a) - jnp.dot(y, a), [(3, 2), (2, 3), (2, 3)]),
    ],
    roots=[hlo.AddOp, hlo.SubtractOp],
    unsafe=True,
    needs={0: hlo.DotGeneralOp, 1: hlo.DotGeneralOp},
)
def dot_general_distributive(op, b: Builder):
    """dot(a, x) ± dot(a, y) -> dot(a, x ± y) ;  dot(x, a) ± dot(y, a) -> dot(x ± y, a)   (floats: rounding, overflow of the sum; fast-math only)"""
    return _distribute(op, b, want_float=True)


# ============================================================================ products with a splat operand


def _splat_side(op: hlo.DotGeneralOp):
    """(side, c, other) when one operand of ``op`` is a splat constant c: side 1 for the rhs."""
    from .common import constant_splat

    for side, v, other in ((1, op.rhs, op.lhs), (0, op.lhs, op.rhs)):
        c = constant_splat(v)
        if c is not None and constant_splat(other) is None:
            return side, c, other
    return None


def _dot_with_splat(op: hlo.DotGeneralOp, b: Builder, want_float: bool) -> SSAValue | None:
    from ..pattern import shape
    from .common import emit_splat
    from ..lazy_jax import np

    if not (is_float_tensor(op.result) if want_float else is_integer(op.result)):
        return None
    if not want_float and str(op.result.type.get_element_type()) == "i1":
        return None
    found = _splat_side(op)
    if found is None or op.algorithm is not None:
        return None
    side, c, x = found
    if x.type.get_element_type() != op.result.type.get_element_type() or any(n < 0 for n in shape(op.result)):
        return None
    dn = op.dot_dimension_numbers
    if side == 1:
        batch, contract = list(dn.lhs_batching_dimensions), list(dn.lhs_contracting_dimensions)
    else:
        batch, contract = list(dn.rhs_batching_dimensions), list(dn.rhs_contracting_dimensions)
    rank = len(shape(x))
    remaining = [d for d in range(rank) if d not in contract]
    free = [d for d in remaining if d not in batch]
    n_other_free = len(shape(op.result)) - len(batch) - len(free)
    summed = b.reduce_sum(x, contract)
    order = [remaining.index(d) for d in batch + free]
    if order != list(range(len(order))):
        summed = b.transpose(summed, order)
    nb, nf = len(batch), len(free)
    if side == 1:
        dims = list(range(nb + nf))
    else:
        dims = list(range(nb)) + list(range(nb + n_other_free, nb + n_other_free + nf))
    spread = b.broadcast_in_dim(summed, list(shape(op.result)), dims) if shape(summed) != shape(op.result) or dims != list(range(len(dims))) else summed
    return b.mul(spread, emit_splat(b, np.asarray(c), op.result.type))


@rule(
    example=[
        Example(lambda x: x @ jnp.full((3, 2), 3, jnp.int32), [(2, 3)], dtypes=["int32"]),
        Example(lambda x: jnp.full((4, 2), -2, jnp.int32) @ x, [(2, 3)], dtypes=["int32"]),
    ],
    needs=(hlo.ConstantOp, hlo.BroadcastInDimOp),
)
def dot_general_splat_int(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(x, splat c) -> broadcast(reduce_sum(x, contracting)) * c ;  dot_general(splat c, y) likewise   (integers: the ring distributes exactly)"""
    return _dot_with_splat(op, b, want_float=False)


@rule(
    example=[
        Example(lambda x: x @ jnp.full((3, 2), 0.5), [(2, 3)]),
        Example(lambda x: jnp.full((4, 2), -2.0) @ x, [(2, 3)]),
    ],
    unsafe=True,
    needs=(hlo.ConstantOp, hlo.BroadcastInDimOp),
)
def dot_general_splat(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(x, splat c) -> broadcast(reduce_sum(x, contracting)) * c ;  dot_general(splat c, y) likewise   (floats: rounding, overflow; fast-math only)"""
    return _dot_with_splat(op, b, want_float=True)
