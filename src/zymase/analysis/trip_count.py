"""Trip counts of ``stablehlo.while`` loops.

The form recognised is the one ``jax.lax.fori_loop`` and counted ``while_loop``s
produce: the condition is ``compare LT, %i, %n`` (or ``GT, %n, %i``) on a carried
induction variable ``%i`` that the body advances by a constant step, starting from a
constant, and a bound ``%n`` that is a constant: defined inside the condition, captured
from outside, or carried through the loop unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects.builtin import IntegerType, Signedness
from xdsl.ir import BlockArgument, SSAValue

from ..ir import stablehlo as hlo
from ..ir.attributes import ComparisonDirection, ComparisonType
from ..ir.builder import constant_value
from ..ir.query import element_type, is_pure


@dataclass
class TripCount:
    count: int
    induction: int  # index of the carried induction variable
    start: int
    step: int


def loop_invariant_carried(op: hlo.WhileOp) -> set[int]:
    """Indices of carried values the body returns unchanged."""
    body = op.body.block
    yields = body.last_op.operands
    return {i for i, (arg, y) in enumerate(zip(body.args, yields)) if y is arg}


def _static_value(op: hlo.WhileOp, v: SSAValue, in_cond: bool) -> int | None:
    """The constant value of ``v`` (a value seen in the condition or body)."""
    if isinstance(v, BlockArgument) and v.block in (op.cond.block, op.body.block):
        i = v.index
        if i in loop_invariant_carried(op):
            return _const_int(op.operand[i])
        return None
    return _const_int(v)


def _const_int(v: SSAValue) -> int | None:
    value = constant_value(v)
    if value is None or value.size != 1:
        return None
    if value.dtype.kind not in "iu":  # numpy's integer kinds (numpy itself is imported only with a constant)
        return None
    return int(value.reshape(()))


def find_trip_count(op: hlo.WhileOp) -> TripCount | None:
    cond = op.cond.block
    ret = cond.last_op
    if ret is None or len(ret.operands) != 1:
        return None
    cmp = ret.operands[0].owner
    if not isinstance(cmp, hlo.CompareOp):
        return None
    direction = cmp.comparison_direction.data
    if direction == ComparisonDirection.LT:
        ind, bound = cmp.lhs, cmp.rhs
    elif direction == ComparisonDirection.GT:
        ind, bound = cmp.rhs, cmp.lhs
    else:
        return None
    if not isinstance(ind, BlockArgument) or ind.block is not cond:
        return None
    k = ind.index
    n = _static_value(op, bound, True)
    start = _const_int(op.operand[k])
    if n is None or start is None:
        return None
    body = op.body.block
    nxt = body.last_op.operands[k].owner
    if not isinstance(nxt, hlo.AddOp):
        return None
    arg = body.args[k]
    if nxt.lhs is arg:
        step = _static_value(op, nxt.rhs, False)
    elif nxt.rhs is arg:
        step = _static_value(op, nxt.lhs, False)
    else:
        return None
    if step is None or step <= 0:
        return None
    count = max(0, -(-(n - start) // step))
    return TripCount(count, k, start, step)


def affine_carried(op: hlo.WhileOp) -> dict[int, tuple[int, int]]:
    """Carried integer values that start at a constant and grow by a constant each
    iteration (``yield_j = arg_j + c``): ``{j: (start, step)}``. Their value at
    iteration k is ``start + k * step``."""
    body = op.body.block
    found: dict[int, tuple[int, int]] = {}
    for j, (arg, y) in enumerate(zip(body.args, body.last_op.operands)):
        nxt = y.owner
        if not isinstance(nxt, hlo.AddOp):
            continue
        if nxt.lhs is arg:
            step = _static_value(op, nxt.rhs, False)
        elif nxt.rhs is arg:
            step = _static_value(op, nxt.lhs, False)
        else:
            continue
        start = _const_int(op.operand[j])
        if step is None or start is None:
            continue
        found[j] = (start, step)
    return found


def int_range(t) -> tuple[int, int] | None:
    """The values an integer element type holds (``i1``: 0..1), or None for other types."""
    if not isinstance(t, IntegerType):
        return None
    bits = t.width.data
    if bits == 1 or t.signedness.data == Signedness.UNSIGNED:
        return 0, (1 << bits) - 1
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def exact_trip_count(op: hlo.WhileOp) -> TripCount | None:
    """``find_trip_count`` when the count is exact: the condition block is pure, the
    comparison is signed for a signed counter (unsigned for an unsigned one) and the
    counter cannot overflow before the loop ends."""
    tc = find_trip_count(op)
    if tc is None or not all(is_pure(o) or o is op.cond.block.last_op for o in op.cond.block.ops):
        return None
    cmp = op.cond.block.last_op.operands[0].owner
    t = element_type(op.operand[tc.induction])
    if not isinstance(t, IntegerType) or t.width.data < 2:
        return None
    unsigned = t.signedness.data == Signedness.UNSIGNED
    kind = cmp.compare_type.data if cmp.compare_type is not None else None
    if kind not in ((ComparisonType.UNSIGNED,) if unsigned else (None, ComparisonType.SIGNED, ComparisonType.NOTYPE)):
        return None
    lo, hi = int_range(t)
    if tc.count > 0 and tc.start + tc.count * tc.step > hi:
        return None
    return tc
