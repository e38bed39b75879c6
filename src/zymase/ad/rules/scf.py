"""Tier 3: scf.for, scf.if and scf.while (MLIR's structured control flow, as the seed's
hand-written examples use it).

Forward mode carries tangents next to the primals through the loop or branch. Reverse
mode of scf.if builds the reverse branches (each recomputes its primal values); reverse
mode of scf.for runs on the loop unrolled: before reverse-differentiating a function,
the engine unrolls its scf.for loops whose bounds are constants (``unroll_counted_loops``,
up to MAX_UNROLLED_ITERATIONS iterations); a loop that remains raises a DiffError.
"""

from __future__ import annotations

from xdsl.dialects import scf
from xdsl.dialects.func import FuncOp
from xdsl.ir import Block, Region

from ...analysis.activity import free_values
from ...frontend.importer import describe_location
from ...ir.builder import Builder
from ..engine import DiffError, ForwardSweep, ReverseSweep, terminator
from ..registry import custom_forward, custom_reverse

MAX_UNROLLED_ITERATIONS = 4096


def unroll_counted_loops(fn: FuncOp) -> None:
    """Unroll the scf.for loops of ``fn`` whose bounds are constants."""
    from xdsl.dialects import arith
    from xdsl.pattern_rewriter import PatternRewriteWalker
    from xdsl.transforms.scf_for_loop_unroll import UnrollLoopPattern

    for loop in [op for op in fn.walk() if isinstance(op, scf.ForOp)]:
        bounds = [v.owner for v in (loop.lb, loop.ub, loop.step)]
        if not all(isinstance(b, arith.ConstantOp) for b in bounds):
            continue
        lb, ub, step = (b.value.value.data for b in bounds)
        if step > 0 and (ub - lb) // step > MAX_UNROLLED_ITERATIONS:
            raise DiffError(
                f"cannot reverse-differentiate 'scf.for' at {describe_location(loop)}: {(ub - lb) // step} iterations "
                f"exceed the unrolling bound ({MAX_UNROLLED_ITERATIONS}); write it as a stablehlo.while (jax.lax.fori_loop)"
            )
    PatternRewriteWalker(UnrollLoopPattern()).rewrite_region(fn.body)


# ============================================================================ scf.for


@custom_forward(scf.ForOp)
def for_forward(fwd: ForwardSweep, op: scf.ForOp) -> None:
    body = op.body.block
    n = len(op.iter_args)
    act = [i for i, a in enumerate(body.args[1:]) if fwd.analysis.is_active(a)]
    init = [fwd.primal(v) for v in op.iter_args] + [fwd.tangent_or_zero(op.iter_args[i]) for i in act]
    block = Block(arg_types=[body.args[0].type] + [v.type for v in init])
    inner = fwd.child(Builder(block))
    inner.primals[body.args[0]] = block.args[0]
    for old, new in zip(body.args[1:], block.args[1 : 1 + n]):
        inner.primals[old] = new
    for i, new in zip(act, block.args[1 + n :]):
        inner.tangents[body.args[1 + i]] = new
    inner.run_block(body)
    yields = terminator(body).operands
    block.add_op(scf.YieldOp(*([inner.primal(y) for y in yields] + [inner.tangent_or_zero(yields[i]) for i in act])))
    new = fwd.builder.insert(scf.ForOp(fwd.primal(op.lb), fwd.primal(op.ub), fwd.primal(op.step), init, Region(block)))
    for old, res in zip(op.results, new.results[:n]):
        fwd.primals[old] = res
    for i, res in zip(act, new.results[n:]):
        fwd.set_tangent(op.results[i], res)


@custom_reverse(scf.ForOp)
def for_reverse(rev: ReverseSweep, op: scf.ForOp) -> None:
    raise DiffError(
        f"cannot reverse-differentiate 'scf.for' at {describe_location(op)}: its bounds are not constants, so the "
        f"loop could not be unrolled (forward mode works for any scf.for)"
    )


# ============================================================================ scf.if


@custom_forward(scf.IfOp)
def if_forward(fwd: ForwardSweep, op: scf.IfOp) -> None:
    n = len(op.results)
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
        block.add_op(scf.YieldOp(*([sub.primal(v) for v in outs] + [sub.tangent_or_zero(outs[i]) for i in act])))
        regions.append(Region(block))
    types = [r.type for r in op.results] + [fwd.tangent_type(op.results[i].type) for i in act]
    new = fwd.builder.insert(scf.IfOp(fwd.primal(op.cond), types, regions[0], regions[1]))
    for old, res in zip(op.results, new.results[:n]):
        fwd.primals[old] = res
    for i, res in zip(act, new.results[n:]):
        fwd.set_tangent(op.results[i], res)


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
    n = len(op.arguments)
    act = [i for i, a in enumerate(before.args) if fwd.analysis.is_active(a)]
    act_after = [i for i, a in enumerate(after.args) if fwd.analysis.is_active(a)]
    if act != act_after:
        raise DiffError(f"forward mode of 'scf.while' at {describe_location(op)}: the before and after regions carry different active values")
    init = [fwd.primal(v) for v in op.arguments] + [fwd.tangent_or_zero(op.arguments[i]) for i in act]
    types = [v.type for v in init]

    bblock = Block(arg_types=types)
    bsub = fwd.child(Builder(bblock))
    for old, new in zip(before.args, bblock.args[:n]):
        bsub.primals[old] = new
    for i, new in zip(act, bblock.args[n:]):
        bsub.tangents[before.args[i]] = new
    bsub.run_block(before)
    cond = terminator(before)
    passed = cond.operands[1:]
    bblock.add_op(scf.ConditionOp(bsub.primal(cond.operands[0]), *([bsub.primal(v) for v in passed] + [bsub.tangent_or_zero(passed[i]) for i in act])))

    out_types = [r.type for r in op.results] + [fwd.tangent_type(op.results[i].type) for i in act]
    ablock = Block(arg_types=out_types)
    asub = fwd.child(Builder(ablock))
    for old, new in zip(after.args, ablock.args[:n]):
        asub.primals[old] = new
    for i, new in zip(act, ablock.args[n:]):
        asub.tangents[after.args[i]] = new
    asub.run_block(after)
    yields = terminator(after).operands
    ablock.add_op(scf.YieldOp(*([asub.primal(y) for y in yields] + [asub.tangent_or_zero(yields[i]) for i in act])))

    new = fwd.builder.insert(scf.WhileOp(init, out_types, Region(bblock), Region(ablock)))
    for old, res in zip(op.results, new.results[: len(op.results)]):
        fwd.primals[old] = res
    for i, res in zip(act, new.results[len(op.results) :]):
        fwd.set_tangent(op.results[i], res)


@custom_reverse(scf.WhileOp)
def while_reverse(rev: ReverseSweep, op: scf.WhileOp) -> None:
    raise DiffError(
        f"cannot reverse-differentiate 'scf.while' at {describe_location(op)}: its trip count is unknown "
        f"(use a counted scf.for or stablehlo.while; forward mode works)"
    )
