"""Tier 3: scf.for, scf.if and scf.while (MLIR's structured control flow, as the seed's
hand-written examples use it).

Forward mode carries tangents next to the primals through the loop or branch. Reverse
mode of scf.if builds the reverse branches (each recomputes its primal values).

Reverse mode of the loops. Short counted scf.for loops are unrolled before reverse mode
(``ad/unroll.py``); the rules below handle the rest, storing the loop's state (the
induction variable and the carried values the body changes; scalars as rank-0 tensors):

* scf.for with constant bounds (N iterations): the forward sweep is the loop with the
  state of every iteration written into ``tensor<N x ...>`` tapes; the reverse sweep is
  an scf.for from N-1 down to 0 that reads iteration k's state, recomputes the body's
  primal values from it and runs the body's reverse sweep. A loop with a
  ``zymase.checkpoint`` schedule (the ``loop-checkpoint`` pass) is checkpointed instead.
* scf.for with run-time bounds: the trip count is computed before the loop runs, and the
  loop is checkpointed like a stablehlo.while with a run-time trip count
  (``checkpoint.py``: 32 slots, 3 levels), through the ``CheckpointLoop`` interface; the
  checkpointing loops are stablehlo.while loops, which carry the adjoints of scalars as
  rank-0 tensors.
* scf.while: checkpointed the same way, the trip count found by running the loop under
  its own condition. One step is ``after(before(s))``; the results are the ``before``
  region's values at the final state, so the reverse first runs the reverse of that last
  ``before`` evaluation, then the reverse of the steps, last first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from xdsl.dialects import scf
from xdsl.dialects.builtin import IndexType, IntegerType, TensorType
from xdsl.ir import Attribute, Block, Region, SSAValue

from ...ir.builder import Builder, shape, tensor
from ...ir.query import body_ops, describe_location, free_values, terminator
from ..errors import DiffError
from ..registry import custom_augment, custom_forward, custom_reverse
from ..unroll import constant_bounds
from . import checkpoint
from .checkpoint import Checkpoints, CheckpointLoop, read_slot, write_slot

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


# ---------------------------------------------------------------------------- state storage
#
# The tapes and checkpoint buffers hold tensors; a scalar of the loop's state is stored as
# a rank-0 tensor (an ``index`` as i64).


def _stored_type(t: Attribute) -> TensorType:
    if isinstance(t, TensorType):
        return t
    return tensor(IntegerType(64) if isinstance(t, IndexType) else t, [])


def _wrap(b: Builder, v: SSAValue) -> SSAValue:
    if isinstance(v.type, TensorType):
        return v
    if isinstance(v.type, IndexType):
        v = b.convert(v, IntegerType(64))
    return b.from_scalar(v)


def _unwrap(b: Builder, v: SSAValue, t: Attribute) -> SSAValue:
    if isinstance(t, TensorType):
        return v
    x = b.to_scalar(v)
    return b.convert(x, t) if isinstance(t, IndexType) else x


def _wrap_all(b: Builder, values: list[SSAValue]) -> list[SSAValue]:
    return [_wrap(b, v) for v in values]


def _unwrap_all(b: Builder, values: list[SSAValue], types: list[Attribute]) -> list[SSAValue]:
    return [_unwrap(b, v, t) for v, t in zip(values, types)]


def _replay(loop, b: Builder, tape: Checkpoints, carry: list[SSAValue]) -> list[SSAValue]:
    """checkpoint.replay with the adjoints carried as tensors (stablehlo.while carries
    tensors only): scalars wrapped before, unwrapped after."""
    return _unwrap_all(b, checkpoint.replay(loop, b, tape, _wrap_all(b, carry)), loop.carry_types())


def _i32_tensor(b: Builder, x: SSAValue) -> SSAValue:
    """An integer or index scalar as tensor<i32> (a slot index of the tapes)."""
    return b.from_scalar(b.convert(x, IntegerType(32)))


def _accumulate(b: Builder, inner: ReverseSweep, frees: list[SSAValue], acc: list[SSAValue]) -> list[SSAValue]:
    """The adjoints of ``frees`` accumulated so far plus what ``inner`` added."""
    out = []
    for f, a in zip(frees, acc):
        ct = inner.adjoints.get(f)
        out.append(a if ct is None else b.add(a, ct))
    return out


# ============================================================================ scf.for reverse


def constant_trip_count(op: scf.ForOp) -> int | None:
    """The trip count of an scf.for whose bounds are arith constants, else None. Raises
    for a constant step that is not positive (the loop would not terminate)."""
    bounds = constant_bounds(op)
    if bounds is None:
        return None
    lb, ub, step = bounds
    if step <= 0:
        raise DiffError(f"cannot reverse-differentiate 'scf.for' at {describe_location(op)}: its step {step} is not positive")
    return max(0, -(-(ub - lb) // step))


class _ForLoop(CheckpointLoop):
    """An scf.for as a loop to checkpoint: the state is the induction variable and the
    carried values the body changes (``carried``, indices into the iter_args)."""

    def __init__(self, rev: ReverseSweep, op: scf.ForOp):
        self.rev, self.op = rev, op
        self.body = op.body.block
        yields = terminator(self.body).operands
        self.carried = [i for i, a in enumerate(self.body.args[1:]) if yields[i] is not a]
        self.types = [self.body.args[0].type] + [self.body.args[1 + i].type for i in self.carried]
        stored = [_stored_type(t) for t in self.types]
        self.shapes = [shape(t) for t in stored]
        self.elements = [t.get_element_type() for t in stored]
        self.act = [i for i, a in enumerate(self.body.args[1:]) if rev.is_active(a) or rev.is_active(op.results[i])]
        self.frees = [f for f in free_values(op) if rev.is_active(f)]

    def initial(self, b: Builder) -> list[SSAValue]:
        return [_wrap(b, self.rev.primal(self.op.lb))] + [_wrap(b, self.rev.primal(self.op.iter_args[i])) for i in self.carried]

    def unwrap(self, b: Builder, state: list[SSAValue]) -> tuple[SSAValue, dict[int, SSAValue]]:
        values = [_unwrap(b, v, t) for v, t in zip(state, self.types)]
        return values[0], dict(zip(self.carried, values[1:]))

    def bind(self, sweep, iv: SSAValue, values: dict[int, SSAValue]) -> None:
        sweep.primals[self.body.args[0]] = iv
        for i, a in enumerate(self.body.args[1:]):
            sweep.primals[a] = values[i] if i in values else self.rev.primal(self.op.iter_args[i])

    def step(self, b: Builder, state: list[SSAValue]) -> list[SSAValue]:
        iv, values = self.unwrap(b, state)
        fwd = self.rev.child(b)
        self.bind(fwd, iv, values)
        for o in body_ops(self.body):
            fwd.clone(o)
        yields = terminator(self.body).operands
        return [_wrap(b, b.add(iv, self.rev.primal(self.op.step)))] + [_wrap(b, fwd.primal(yields[i])) for i in self.carried]

    def cond(self, b: Builder, state: list[SSAValue]) -> SSAValue:
        iv = _unwrap(b, state[0], self.types[0])
        return b.from_scalar(b.compare(iv, self.rev.primal(self.op.ub), "LT"))

    def step_reverse(self, b: Builder, state: list[SSAValue], carry: list[SSAValue], act: list[int], frees: list[SSAValue]) -> list[SSAValue]:
        iv, values = self.unwrap(b, state)
        return _wrap_all(b, self.reverse_body(b, iv, values, _unwrap_all(b, carry, self.carry_types())))

    def carry_types(self) -> list[Attribute]:
        return [self.op.results[i].type for i in self.act] + [f.type for f in self.frees]

    def reverse_body(self, b: Builder, iv: SSAValue, values: dict[int, SSAValue], carry: list[SSAValue]) -> list[SSAValue]:
        """The reverse of the iteration at ``iv`` from the carried ``values``: ``carry`` =
        adjoints of the iter_args in ``act`` after it, then those of ``frees`` so far."""
        inner = self.rev.child(b)
        self.bind(inner, iv, values)
        inner.forward_block(self.body)
        yields = terminator(self.body).operands
        for i, adj in zip(self.act, carry):
            inner.add_adjoint(yields[i], adj)
        inner.reverse_block(self.body)
        out = [inner.adjoint_or_zero(self.body.args[1 + i]) for i in self.act]
        return out + _accumulate(b, inner, self.frees, carry[len(self.act) :])

    def trip_count(self, b: Builder) -> SSAValue:
        """max(0, ceil((ub - lb) / step)) at run time, as a tensor<i32>."""
        lb, ub, step = (self.rev.primal(v) for v in (self.op.lb, self.op.ub, self.op.step))
        n = b.div(b.add(b.sub(ub, lb), b.sub(step, b.ones_like(step))), step)
        return _i32_tensor(b, b.max(n, b.zeros(n.type)))

    def bind_results(self, final: list[SSAValue]) -> None:
        """The loop's results from its final state (built by ``rev.builder``)."""
        _, values = self.unwrap(self.rev.builder, final)
        for i, r in enumerate(self.op.results):
            self.rev.primals[r] = values[i] if i in values else self.rev.primal(self.op.iter_args[i])


@dataclass
class _ForTape:
    """The forward sweep of an scf.for with constant bounds: its ``count`` >= 1 states in
    ``tapes`` (one per carried value the body changes, row k = the value at iteration k's
    start); ``tapes`` is None for a loop that never runs."""

    loop: _ForLoop
    count: int
    tapes: list[SSAValue] | None


@dataclass
class _CheckpointedTape:
    """The forward sweep of a checkpointed scf loop (checkpoint.record) and, for scf.while,
    the final state (from which the results were computed)."""

    loop: CheckpointLoop
    checkpoints: Checkpoints
    final: list[SSAValue] | None = None


@custom_augment(scf.ForOp)
def for_augment(rev: ReverseSweep, op: scf.ForOp) -> None:
    loop = _ForLoop(rev, op)
    b = rev.builder
    count = constant_trip_count(op)
    if count is None:
        tape, final = checkpoint.record(loop, b, loop.act, loop.frees, length=loop.trip_count(b))
        loop.bind_results(final)
        rev.tapes[op] = _CheckpointedTape(loop, tape)
        return
    if count == 0:
        rev.clone(op)
        rev.tapes[op] = _ForTape(loop, 0, None)
        return
    schedule = checkpoint.schedule_of(op)
    if schedule is not None and count > 1:
        tape, final = checkpoint.record(loop, b, loop.act, loop.frees, count=count, schedule=schedule)
        if final is None:
            rev.clone(op)
        else:
            loop.bind_results(final)
        rev.tapes[op] = _CheckpointedTape(loop, tape)
        return
    rev.tapes[op] = _ForTape(loop, count, _taped_forward(rev, loop, count))


def _taped_forward(rev: ReverseSweep, loop: _ForLoop, count: int) -> list[SSAValue]:
    """The loop, writing the state of iteration k = (iv - lb) / step into row k of
    ``tensor<count x ...>`` tapes: the tapes."""
    op, body = loop.op, loop.body
    b = rev.builder
    n = len(op.iter_args)
    tapes = [b.zeros(tensor(e, [count, *s])) for e, s in zip(loop.elements[1:], loop.shapes[1:])]
    init = [rev.primal(v) for v in op.iter_args] + tapes
    block = Block(arg_types=[body.args[0].type] + [v.type for v in init])
    fb = Builder(block)
    iv = block.args[0]
    lb, step = rev.primal(op.lb), rev.primal(op.step)
    k = _i32_tensor(fb, fb.div(fb.sub(iv, lb), step))
    args = block.args[1 : 1 + n]
    new_tapes = [write_slot(fb, tape, k, _wrap(fb, args[i])) for tape, i in zip(block.args[1 + n :], loop.carried)]
    fwd = rev.child(fb)
    fwd.primals[body.args[0]] = iv
    for a, new in zip(body.args[1:], args):
        fwd.primals[a] = new
    for o in body_ops(body):
        fwd.clone(o)
    block.add_op(scf.YieldOp(*[fwd.primal(y) for y in terminator(body).operands], *new_tapes))
    new = b.insert(scf.ForOp(lb, rev.primal(op.ub), step, init, Region(block)))
    for r, res in zip(op.results, new.results[:n]):
        rev.primals[r] = res
    return list(new.results[n:])


def _taped_reverse(rev: ReverseSweep, tape: _ForTape, carry: list[SSAValue]) -> list[SSAValue]:
    """An scf.for over j = 0..count-1 reversing iteration k = count-1-j from its taped state."""
    loop, op = tape.loop, tape.loop.op
    b = rev.builder
    index_t = op.lb.type
    block = Block(arg_types=[index_t] + [v.type for v in carry])
    rb = Builder(block)
    k = rb.sub(rb.constant(tape.count - 1, index_t), block.args[0])
    iv = rb.add(rev.primal(op.lb), rb.mul(k, rev.primal(op.step)))
    slot = _i32_tensor(rb, k)
    values = {}
    for i, buf, s, t in zip(loop.carried, tape.tapes, loop.shapes[1:], loop.types[1:]):
        values[i] = _unwrap(rb, read_slot(rb, buf, slot, s), t)
    block.add_op(scf.YieldOp(*loop.reverse_body(rb, iv, values, list(block.args[1:]))))
    new = b.insert(scf.ForOp(b.constant(0, index_t), b.constant(tape.count, index_t), b.constant(1, index_t), carry, Region(block)))
    return list(new.results)


@custom_reverse(scf.ForOp)
def for_reverse(rev: ReverseSweep, op: scf.ForOp) -> None:
    tape = rev.tapes[op]
    loop = tape.loop
    b = rev.builder
    if isinstance(tape, _ForTape) and tape.tapes is None:  # zero-trip loop: results are the iter_args
        for i in loop.act:
            rev.add_adjoint(op.iter_args[i], rev.adjoint(op.results[i]))
        return
    carry = [rev.adjoint_or_zero(op.results[i]) for i in loop.act] + [b.zeros(f.type) for f in loop.frees]
    if isinstance(tape, _CheckpointedTape):
        carry = _replay(loop, b, tape.checkpoints, carry)
    else:
        carry = _taped_reverse(rev, tape, carry)
    for i, ct in zip(loop.act, carry):
        rev.add_adjoint(op.iter_args[i], ct)
    for f, ct in zip(loop.frees, carry[len(loop.act) :]):
        rev.add_adjoint(f, ct)


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
    # the before arguments and the forwarded values (after arguments, results) may differ
    act = [i for i, a in enumerate(before.args) if fwd.analysis.is_active(a)]
    act_after = [i for i, a in enumerate(after.args) if fwd.analysis.is_active(a) or fwd.analysis.is_active(op.results[i])]
    init = fwd.with_tangents(op.arguments, act)
    types = [v.type for v in init]

    bblock = Block(arg_types=types)
    bsub = fwd.child(Builder(bblock))
    bsub.bind_with_tangents(before.args, bblock.args, act)
    bsub.run_block(before)
    cond = terminator(before)
    bblock.add_op(scf.ConditionOp(bsub.primal(cond.operands[0]), *bsub.with_tangents(cond.operands[1:], act_after)))

    out_types = [r.type for r in op.results] + [fwd.tangent_type(op.results[i].type) for i in act_after]
    ablock = Block(arg_types=out_types)
    asub = fwd.child(Builder(ablock))
    asub.bind_with_tangents(after.args, ablock.args, act_after)
    asub.run_block(after)
    ablock.add_op(scf.YieldOp(*asub.with_tangents(terminator(after).operands, act)))

    new = fwd.builder.insert(scf.WhileOp(init, out_types, Region(bblock), Region(ablock)))
    fwd.bind_with_tangents(op.results, new.results, act_after)


class _ScfWhileLoop(CheckpointLoop):
    """An scf.while as a loop to checkpoint: the state is the ``before`` region's
    arguments; one step is ``after(before(s))``, run while ``before``'s condition holds."""

    def __init__(self, rev: ReverseSweep, op: scf.WhileOp):
        self.rev, self.op = rev, op
        self.before, self.after = op.before_region.block, op.after_region.block
        self.condition = terminator(self.before)
        self.types = [a.type for a in self.before.args]
        stored = [_stored_type(t) for t in self.types]
        self.shapes = [shape(t) for t in stored]
        self.elements = [t.get_element_type() for t in stored]
        self.act = [i for i, a in enumerate(self.before.args) if rev.is_active(a)]
        self.frees = [f for f in free_values(op) if rev.is_active(f)]

    def initial(self, b: Builder) -> list[SSAValue]:
        return [_wrap(b, self.rev.primal(v)) for v in self.op.arguments]

    def run_before(self, sweep, b: Builder, state: list[SSAValue], clone: bool = True) -> None:
        """Bind the ``before`` arguments to ``state`` (wrapped) and run the region: cloned,
        or (``clone=False``) as a reverse sweep's forward block."""
        for a, v, t in zip(self.before.args, state, self.types):
            sweep.primals[a] = _unwrap(b, v, t)
        if clone:
            for o in body_ops(self.before):
                sweep.clone(o)
        else:
            sweep.forward_block(self.before)

    def bind_after(self, sweep) -> None:
        for a, v in zip(self.after.args, self.condition.operands[1:]):
            sweep.primals[a] = sweep.primal(v)

    def step(self, b: Builder, state: list[SSAValue]) -> list[SSAValue]:
        fwd = self.rev.child(b)
        self.run_before(fwd, b, state)
        self.bind_after(fwd)
        for o in body_ops(self.after):
            fwd.clone(o)
        return [_wrap(b, fwd.primal(y)) for y in terminator(self.after).operands]

    def cond(self, b: Builder, state: list[SSAValue]) -> SSAValue:
        sweep = self.rev.child(b)
        self.run_before(sweep, b, state)
        return b.from_scalar(sweep.primal(self.condition.operands[0]))

    def step_reverse(self, b: Builder, state: list[SSAValue], carry: list[SSAValue], act: list[int], frees: list[SSAValue]) -> list[SSAValue]:
        carry = _unwrap_all(b, carry, self.carry_types())
        inner = self.rev.child(b)
        self.run_before(inner, b, state, clone=False)
        self.bind_after(inner)
        inner.forward_block(self.after)
        for i, adj in zip(self.act, carry):
            inner.add_adjoint(terminator(self.after).operands[i], adj)
        inner.reverse_block(self.after)
        for a, v in zip(self.after.args, self.condition.operands[1:]):
            inner.add_adjoint(v, inner.adjoint(a))
        inner.reverse_block(self.before)
        out = [inner.adjoint_or_zero(self.before.args[i]) for i in self.act]
        return _wrap_all(b, out + _accumulate(b, inner, self.frees, carry[len(self.act) :]))

    def carry_types(self) -> list[Attribute]:
        return [self.types[i] for i in self.act] + [f.type for f in self.frees]


@custom_augment(scf.WhileOp)
def while_augment(rev: ReverseSweep, op: scf.WhileOp) -> None:
    """Run the loop once under its own condition, counting the iterations and storing
    checkpoints of the state (checkpoint.record); the results are the ``before`` region's
    values at the final state."""
    loop = _ScfWhileLoop(rev, op)
    b = rev.builder
    tape, final = checkpoint.record(loop, b, loop.act, loop.frees)
    sweep = rev.child(b)
    loop.run_before(sweep, b, final)
    for r, v in zip(op.results, loop.condition.operands[1:]):
        rev.primals[r] = sweep.primal(v)
    rev.tapes[op] = _CheckpointedTape(loop, tape, final)


@custom_reverse(scf.WhileOp)
def while_reverse(rev: ReverseSweep, op: scf.WhileOp) -> None:
    tape: _CheckpointedTape = rev.tapes[op]
    loop = tape.loop
    b = rev.builder
    # the last evaluation of ``before`` (whose condition ended the loop) gave the results
    head = rev.child(b)
    loop.run_before(head, b, tape.final, clone=False)
    for r, v in zip(op.results, loop.condition.operands[1:]):
        head.add_adjoint(v, rev.adjoint(r))
    head.reverse_block(loop.before)
    carry = [head.adjoint_or_zero(loop.before.args[i]) for i in loop.act]
    carry += _accumulate(b, head, loop.frees, [b.zeros(f.type) for f in loop.frees])
    carry = _replay(loop, b, tape.checkpoints, carry)
    for i, ct in zip(loop.act, carry):
        rev.add_adjoint(op.arguments[i], ct)
    for f, ct in zip(loop.frees, carry[len(loop.act) :]):
        rev.add_adjoint(f, ct)
