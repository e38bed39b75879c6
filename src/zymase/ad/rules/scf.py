"""Tier 3: scf.for, scf.if and scf.while (MLIR's structured control flow, as the seed's
hand-written examples use it).

Forward mode carries tangents next to the primals through the loop or branch. Reverse
mode of scf.if builds the reverse branches (each recomputes its primal values); reverse
mode of scf.for runs on the loop unrolled: before reverse-differentiating a function,
the engine unrolls its scf.for loops whose bounds are constants (``ad/unroll.py``); a
loop that remains raises a DiffError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.dialects import scf
from xdsl.ir import Block, Region

from ...ir.builder import Builder
from ...ir.query import describe_location, free_values, terminator
from ..errors import DiffError
from ..registry import custom_forward, custom_reverse

if TYPE_CHECKING:
    from ..engine import ForwardSweep, ReverseSweep


# ============================================================================ scf.for


@custom_forward(scf.ForOp)
def for_forward(fwd: ForwardSweep, op: scf.ForOp) -> None:
    body = op.body.block
    act = [i for i, a in enumerate(body.args[1:]) if fwd.analysis.is_active(a)]
    init = fwd.with_tangents(op.iter_args, act)
    block = Block(arg_types=[body.args[0].type] + [v.type for v in init])
    inner = fwd.child(Builder(block))
    inner.primals[body.args[0]] = block.args[0]
    inner.bind_with_tangents(body.args[1:], block.args[1:], act)
    inner.run_block(body)
    block.add_op(scf.YieldOp(*inner.with_tangents(terminator(body).operands, act)))
    new = fwd.builder.insert(scf.ForOp(fwd.primal(op.lb), fwd.primal(op.ub), fwd.primal(op.step), init, Region(block)))
    fwd.bind_with_tangents(op.results, new.results, act)


@custom_reverse(scf.ForOp)
def for_reverse(rev: ReverseSweep, op: scf.ForOp) -> None:
    raise DiffError(
        f"cannot reverse-differentiate 'scf.for' at {describe_location(op)}: its bounds are not constants, so the "
        f"loop could not be unrolled (forward mode works for any scf.for)"
    )


# ============================================================================ scf.if


@custom_forward(scf.IfOp)
def if_forward(fwd: ForwardSweep, op: scf.IfOp) -> None:
    act = [i for i, r in enumerate(op.results) if fwd.analysis.is_active(r)]
    regions = []
    for region in (op.true_region, op.false_region):
        block = Block()
        sub = fwd.child(Builder(block))
        if region.blocks:
            sub.run_block(region.block)
            outs = terminator(region.block).operands
        else:
            outs = []
        block.add_op(scf.YieldOp(*sub.with_tangents(outs, act)))
        regions.append(Region(block))
    types = [r.type for r in op.results] + [fwd.tangent_type(op.results[i].type) for i in act]
    new = fwd.builder.insert(scf.IfOp(fwd.primal(op.cond), types, regions[0], regions[1]))
    fwd.bind_with_tangents(op.results, new.results, act)


@custom_reverse(scf.IfOp)
def if_reverse(rev: ReverseSweep, op: scf.IfOp) -> None:
    frees = [f for f in free_values(op) if rev.is_active(f)]
    if not frees:
        return
    regions = []
    for region in (op.true_region, op.false_region):
        block = Block()
        sub = rev.child(Builder(block))
        if region.blocks:
            sub.forward_block(region.block)
            for v, r in zip(terminator(region.block).operands, op.results):
                sub.add_adjoint(v, rev.adjoint(r))
            sub.reverse_block(region.block)
        block.add_op(scf.YieldOp(*[sub.adjoint_or_zero(f) for f in frees]))
        regions.append(Region(block))
    new = rev.builder.insert(scf.IfOp(rev.primal(op.cond), [f.type for f in frees], regions[0], regions[1]))
    for f, res in zip(frees, new.results):
        rev.add_adjoint(f, res)


# ============================================================================ scf.while


@custom_forward(scf.WhileOp)
def while_forward(fwd: ForwardSweep, op: scf.WhileOp) -> None:
    before, after = op.before_region.block, op.after_region.block
    act = [i for i, a in enumerate(before.args) if fwd.analysis.is_active(a)]
    act_after = [i for i, a in enumerate(after.args) if fwd.analysis.is_active(a)]
    if act != act_after:
        raise DiffError(f"forward mode of 'scf.while' at {describe_location(op)}: the before and after regions carry different active values")
    init = fwd.with_tangents(op.arguments, act)
    types = [v.type for v in init]

    bblock = Block(arg_types=types)
    bsub = fwd.child(Builder(bblock))
    bsub.bind_with_tangents(before.args, bblock.args, act)
    bsub.run_block(before)
    cond = terminator(before)
    bblock.add_op(scf.ConditionOp(bsub.primal(cond.operands[0]), *bsub.with_tangents(cond.operands[1:], act)))

    out_types = [r.type for r in op.results] + [fwd.tangent_type(op.results[i].type) for i in act]
    ablock = Block(arg_types=out_types)
    asub = fwd.child(Builder(ablock))
    asub.bind_with_tangents(after.args, ablock.args, act)
    asub.run_block(after)
    ablock.add_op(scf.YieldOp(*asub.with_tangents(terminator(after).operands, act)))

    new = fwd.builder.insert(scf.WhileOp(init, out_types, Region(bblock), Region(ablock)))
    fwd.bind_with_tangents(op.results, new.results, act)


@custom_reverse(scf.WhileOp)
def while_reverse(rev: ReverseSweep, op: scf.WhileOp) -> None:
    raise DiffError(
        f"cannot reverse-differentiate 'scf.while' at {describe_location(op)}: its trip count is unknown "
        f"(use a counted scf.for or stablehlo.while; forward mode works)"
    )
