"""Integer arithmetic on induction variables decided by their ranges, inside a counted
while loop (``opt/batching.py``: ``counted_loop``, ``affine_of``): a remainder or a
quotient by a constant that is the same over the loop's range, a clamp, maximum or
minimum that never binds. These appear in indices jax and the peer's front ends write
(``i % n``, ``clamp(0, i, n - 1)``), and removing them lets loop raising see an affine
index. All exact: the rules fire only when the value is proved over every iteration.
"""

from __future__ import annotations

from xdsl.ir import BlockArgument, Operation, SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ..batching import Affine, affine_of, counted_loop
from ..lazy_jax import jnp, lax
from ..pattern import Example, rule

# ============================================================================ helpers


def _in_body(op: Operation):
    """The counted loop whose body holds ``op`` directly (it runs at least once), else None."""
    loop_op = op.parent_op()
    if not isinstance(loop_op, hlo.WhileOp) or op.parent_block() is not loop_op.body.block:
        return None
    loop = counted_loop(loop_op)
    if loop is None or loop.count < 1:
        return None
    return loop


def _range(loop, v: SSAValue) -> tuple[int, int] | None:
    """The least and greatest value of ``v`` over the loop's iterations, when affine."""
    a = affine_of(loop, v)
    if a is None:
        return None
    return a.bounds(loop.count)


def _constant(loop, v: SSAValue) -> int | None:
    a = affine_of(loop, v)
    if a is None or a.a != 0:
        return None
    return a.b


def _varies_inside(loop, v: SSAValue) -> bool:
    """``v`` is defined in the loop's body (a value from outside is constant folding's)."""
    body = loop.op.body.block
    return (isinstance(v, BlockArgument) and v.block is body) or (isinstance(v.owner, Operation) and v.owner.parent_block() is body)


def _signed(v: SSAValue) -> bool:
    from ...ir.dense import element_dtype

    try:
        return element_dtype(v.type.get_element_type()).kind == "i"
    except (TypeError, AttributeError):
        return False


# ============================================================================ rules


@rule(
    example=[
        Example(lambda x: lax.fori_loop(0, 5, lambda i, s: s.at[i % 5].set(x[i] * 2.0), jnp.zeros(5)), [(5,)]),
        Example(lambda x: lax.fori_loop(0, 4, lambda i, s: s + x[(i + 1) % 5], 0.0), [(5,)]),
    ]
)
def remainder_induction_range(op: hlo.RemainderOp, b: Builder):
    """remainder(i, c) -> i   (i affine in a counted loop's induction variable, |i| < c over the loop, i of one sign)"""
    loop = _in_body(op)
    if loop is None or not _varies_inside(loop, op.lhs) or not _signed(op.result):
        return None
    c = _constant(loop, op.rhs)
    rng = _range(loop, op.lhs)
    if c is None or rng is None or c == 0:
        return None
    lo, hi = rng
    n = abs(c)
    if (0 <= lo and hi < n) or (-n < lo and hi <= 0):
        return op.lhs
    return None


@rule(
    example=[
        Example(lambda x: lax.fori_loop(0, 4, lambda i, s: s + x[i // 5], 0.0), [(5,)]),
        Example(lambda x: lax.fori_loop(10, 14, lambda i, s: s + x[i // 5], 0.0), [(5,)]),
    ]
)
def divide_induction_range(op: hlo.DivideOp, b: Builder):
    """divide(i, c) -> q   (integers; i affine in a counted loop's induction variable, one quotient over the loop)"""
    loop = _in_body(op)
    if loop is None or not _varies_inside(loop, op.lhs) or not _signed(op.result):
        return None
    c = _constant(loop, op.rhs)
    rng = _range(loop, op.lhs)
    if c is None or rng is None or c == 0:
        return None
    lo, hi = rng

    def trunc(x: int) -> int:
        q = abs(x) // abs(c)
        return q if (x >= 0) == (c > 0) else -q

    q = trunc(lo)  # truncating division by a constant is monotone in i
    if trunc(hi) != q:
        return None
    return b.constant(q, op.result.type)


@rule(
    example=[
        Example(lambda x: lax.fori_loop(0, 4, lambda i, s: s + x[lax.clamp(0, i, 4)], 0.0), [(5,)]),
    ]
)
def clamp_induction_range(op: hlo.ClampOp, b: Builder):
    """clamp(lo, i, hi) -> i   (i affine in a counted loop's induction variable, within [lo, hi] over the loop)"""
    loop = _in_body(op)
    if loop is None or not _varies_inside(loop, op.operand):
        return None
    rng = _range(loop, op.operand)
    lo, hi = _constant(loop, op.min), _constant(loop, op.max)
    if rng is None or lo is None or hi is None:
        return None
    if lo <= rng[0] and rng[1] <= hi:
        return op.operand
    return None


@rule(
    example=[
        Example(lambda x: lax.fori_loop(0, 4, lambda i, s: s + x[jnp.maximum(i, 0)], 0.0), [(5,)]),
        Example(lambda x: lax.fori_loop(0, 4, lambda i, s: s + x[jnp.minimum(i, 7)], 0.0), [(8,)]),
        Example(lambda x: lax.fori_loop(0, 4, lambda i, s: s + x[jnp.minimum(i, 0)], 0.0), [(8,)]),
    ],
    roots=[hlo.MaximumOp, hlo.MinimumOp],
)
def max_min_induction_range(op, b: Builder):
    """maximum(i, c) -> i or c ;  minimum(i, c) -> i or c   (i affine in a counted loop's induction variable, the comparison decided over the loop)"""
    loop = _in_body(op)
    if loop is None:
        return None
    for x, y in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
        if not _varies_inside(loop, x):
            continue
        rx, c = _range(loop, x), _constant(loop, y)
        if rx is None or c is None:
            continue
        if isinstance(op, hlo.MaximumOp):
            if rx[0] >= c:
                return x
            if rx[1] <= c:
                return y
        else:
            if rx[1] <= c:
                return x
            if rx[0] >= c:
                return y
    return None
