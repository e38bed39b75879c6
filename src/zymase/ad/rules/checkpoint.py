"""Reverse mode of loops by checkpointing: loops whose trip count is only known at run
time, and long counted loops whose user asked for it. The schemes see a loop through
``CheckpointLoop`` (a state of tensors; initial state, step, condition, reverse of one
step): ``_WhileLoop`` here for stablehlo.while, and in ``rules/scf.py`` scf.for (state:
induction variable and carried values) and scf.while (state: the ``before`` arguments),
whose scalars are stored as rank-0 tensors. ``record`` is the forward sweep,
``replay`` the reverse.

Only the loop's carried state (the carried values the body changes) is checkpointed;
the reverse of one iteration recomputes the body's primal values from the state at its
start and runs the body's reverse sweep (``_step_reverse``: the body's forward and
reverse blocks, as the full-tape rule builds them, with no tape). Three schemes:

* **run-time trip count** (``levels``): the forward sweep runs the loop once, under its
  own condition, with a counter (giving N and the primal results), storing the state
  every K steps into ``tensor<s x ...>`` buffers (s = ``SLOTS``, static) with K doubling
  from 1 whenever the s slots are full (the even slots are kept, moved to the first half;
  a stablehlo.if, log2(N/s) times): at the end K < 2N/s and ceil(N/K) <= s. The reverse runs the segments last first; inside a segment of run-time
  length L <= K it stores a second level of s checkpoints every ceil(L/s) steps, and so
  on for ``LEVELS`` levels; inside the innermost sub-segment each step is recomputed
  from its sub-checkpoint. Memory: LEVELS * s states; time: about LEVELS + 1 primal
  sweeps plus N * ceil(2N / s**LEVELS) / 2 steps (one step each while N <= s**LEVELS).
* **periodic:K** (counted loops): the forward sweep stores the state every K steps
  (ceil(N/K) slots); the reverse recomputes each segment's states into a K-slot buffer
  and reverses them: memory O(N/K + K), two primal sweeps.
* **binomial[:S]** (counted loops): a revolve-style schedule with S snapshots (default
  ceil(sqrt N)) computed here at compile time as an int32 table, one row per action
  ``(restore slot | -1, advance m steps, store slot | -1, reverse one step 0/1)``, and ONE
  while loop interpreting it (``stablehlo.case`` on the reverse flag). Steps are
  advanced at most t times, t the least with C(S + t, S) >= N.

The user chooses a scheme with the discardable attribute ``zymase.checkpoint =
"binomial" | "binomial:S" | "periodic:K" | "periodic" | "none"`` on the loop (the
``loop-checkpoint{schedule=...}`` pass sets it on every loop, zymase.grad's
``loop_checkpoint=`` runs that pass), or Enzyme's ``enzyme.enable_checkpointing = true``
(periodic with K = ceil(sqrt N)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import BoolAttr, IntegerAttr, IntegerType, ModuleOp, StringAttr, TensorType
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from ...analysis.trip_count import find_trip_count, loop_invariant_carried
from ...ir import stablehlo as hlo
from ...ir.builder import Builder, shape, tensor
from ...ir.query import body_ops, describe_location, free_values, terminator
from ..errors import DiffError

if TYPE_CHECKING:
    from ..engine import ReverseSweep

ATTR = "zymase.checkpoint"
ENZYME_ATTR = "enzyme.enable_checkpointing"
SLOTS = 32
"""Checkpoint slots per level for loops with a run-time trip count."""
LEVELS = 3
"""Checkpoint levels for loops with a run-time trip count (beyond SLOTS**LEVELS steps the
innermost segments are reversed in time quadratic in their length)."""

I32 = tensor(IntegerType(32), [])


# ============================================================================ schedules


def parse_schedule(text: str | None) -> tuple[str, int | None] | None:
    """``None`` / "none" -> None; "binomial[:S]" / "periodic[:K]" -> (kind, number or None).
    Raises ValueError on anything else."""
    if text is None or text == "none":
        return None
    kind, _, number = text.partition(":")
    if kind not in ("binomial", "periodic"):
        raise ValueError(f"loop checkpoint schedule {text!r}: expected 'binomial', 'binomial:S', 'periodic', 'periodic:K' or 'none'")
    if not number:
        return kind, None
    if not number.isdigit() or int(number) < 1:
        raise ValueError(f"loop checkpoint schedule {text!r}: the number after ':' must be a positive integer")
    return kind, int(number)


def schedule_of(op: Operation) -> tuple[str, int | None] | None:
    """The checkpointing the loop (a stablehlo.while or an scf.for) asks for (its
    ``zymase.checkpoint`` or Enzyme's ``enzyme.enable_checkpointing`` attribute), or None."""
    attr = op.attributes.get(ATTR)
    if isinstance(attr, StringAttr):
        try:
            return parse_schedule(attr.data)
        except ValueError as e:
            raise DiffError(f"'{op.name}' at {describe_location(op)}: {e}") from None
    flag = op.attributes.get(ENZYME_ATTR)
    if (isinstance(flag, IntegerAttr) and flag.value.data) or flag == BoolAttr(True, 1):
        return "periodic", None
    return None


def handles(op: hlo.WhileOp) -> bool:
    """Whether the reverse mode of ``op`` checkpoints (else: the full tape of control.py)."""
    tc = find_trip_count(op)
    if tc is None:
        return True
    return tc.count > 1 and schedule_of(op) is not None


def beta(free: int, t: int) -> int:
    """Steps reversible from a stored state with ``free`` more slots when each step is
    advanced at most ``t`` times (this module's scheme): C(free + t + 1, free + 1)."""
    return math.comb(free + t + 1, free + 1)


def binomial_schedule(n: int, slots: int) -> np.ndarray:
    """The action table reversing steps 0..n-1 with ``slots`` state slots, slot 0 holding
    the initial state: rows ``(restore, advance, store, reverse)``."""
    rows: list[tuple[int, int, int, int]] = [(-1, 0, 0, 0)]

    def reverse(lo: int, hi: int, slot: int, free: list[int]) -> None:
        while hi > lo:
            n_seg = hi - lo
            if n_seg == 1:
                rows.append((slot, 0, -1, 1))
                return
            if not free:
                for j in range(hi - 1, lo - 1, -1):
                    rows.append((slot, j - lo, -1, 1))
                return
            c = len(free)
            t = 0
            while beta(c, t) < n_seg:
                t += 1
            left = min(n_seg - 1, max(1, n_seg - beta(c - 1, t)))
            mid = lo + left
            rows.append((slot, left, free[0], 0))
            reverse(mid, hi, free[0], free[1:])
            hi = mid

    reverse(0, n, 0, list(range(1, slots)))
    return np.asarray(rows, dtype=np.int32)


def simulate_schedule(table: np.ndarray, n: int, slots: int) -> tuple[list[int], int]:
    """Run ``table`` on integers (state = step index): the steps reversed, in order, and
    the number of steps advanced. Tests check that every step is reversed once, last first."""
    store = [None] * slots
    cur, reversed_steps, advanced = 0, [], 0
    for restore, m, st, rv in table.tolist():
        if restore >= 0:
            cur = store[restore]
        cur += m
        advanced += m
        if st >= 0:
            store[st] = cur
        if rv:
            reversed_steps.append(cur)
    return reversed_steps, advanced


# ============================================================================ IR helpers


def _while(b: Builder, init: list[SSAValue], cond_fn, body_fn) -> list[SSAValue]:
    """A stablehlo.while over ``init`` (``Builder.while_loop``)."""
    return b.while_loop(init, cond_fn, body_fn)


def _i32(b: Builder, value: int) -> SSAValue:
    return b.constant(value, I32)


def read_slot(b: Builder, buf: SSAValue, i: SSAValue, like_shape) -> SSAValue:
    """Row ``i`` (a tensor<i32>) of ``buf``, of shape ``like_shape``."""
    zero = _i32(b, 0)
    return b.reshape(b.dynamic_slice(buf, [i] + [zero] * len(like_shape), [1, *like_shape]), list(like_shape))


def write_slot(b: Builder, buf: SSAValue, i: SSAValue, x: SSAValue) -> SSAValue:
    """``buf`` with row ``i`` (a tensor<i32>) set to ``x``."""
    zero = _i32(b, 0)
    return b.dynamic_update_slice(buf, b.reshape(x, [1, *shape(x)]), [i] + [zero] * len(shape(x)))


def _ceil_div(b: Builder, x: SSAValue, y: SSAValue) -> SSAValue:
    return b.div(b.add(x, b.sub(y, _i32(b, 1))), y)


@dataclass
class Checkpoints:
    """What the forward sweep of a checkpointed loop left for its reverse sweep."""

    kind: str  # "levels" or "binomial"
    act: list[int]
    frees: list[SSAValue]
    bufs: list[SSAValue] = field(default_factory=list)
    stride: SSAValue | None = None  # steps between the forward sweep's checkpoints
    length: SSAValue | None = None  # trip count
    slots: list[int] = field(default_factory=list)  # slots of the reverse sweep's levels
    table: np.ndarray | None = None
    count: int = 0


class CheckpointLoop:
    """A loop as the checkpointing schemes see it: a state of tensors (``shapes`` and
    ``elements`` give each one's shape and element type), how to start it, step it, test
    its condition and reverse one iteration. ``_WhileLoop`` is a stablehlo.while;
    ``rules/scf.py`` adapts scf.for and scf.while (their scalars wrapped as rank-0
    tensors). The schemes below only call these methods."""

    rev: ReverseSweep
    shapes: list[tuple[int, ...]]
    elements: list[Attribute]

    def initial(self, b: Builder) -> list[SSAValue]:
        """The state before the first iteration."""
        raise NotImplementedError

    def step(self, b: Builder, state: list[SSAValue]) -> list[SSAValue]:
        """The state after one iteration."""
        raise NotImplementedError

    def cond(self, b: Builder, state: list[SSAValue]) -> SSAValue:
        """Whether the loop runs an iteration from ``state`` (a tensor<i1>)."""
        raise NotImplementedError

    def step_reverse(self, b: Builder, state: list[SSAValue], carry: list[SSAValue], act: list[int], frees: list[SSAValue]) -> list[SSAValue]:
        """The reverse of one iteration from its input ``state``: the body's primal values
        recomputed, its reverse sweep run; ``carry`` = adjoints of the carried values in
        ``act``, then the accumulated adjoints of the captured ``frees``."""
        raise NotImplementedError

    def buffers(self, b: Builder, slots: int) -> list[SSAValue]:
        """Zero ``tensor<slots x ...>`` buffers, one per state value."""
        return [b.zeros(tensor(e, [slots, *s])) for e, s in zip(self.elements, self.shapes)]

    def advance(self, b: Builder, state: list[SSAValue], m: SSAValue) -> list[SSAValue]:
        """The state after ``m`` (run-time) iterations."""

        def body(bb: Builder, args):
            return [bb.add(args[0], _i32(bb, 1))] + self.step(bb, args[1:])

        out = _while(b, [_i32(b, 0)] + state, lambda cb, args: cb.compare(args[0], m, "LT"), body)
        return out[1:]

    def store(self, b: Builder, state: list[SSAValue], length: SSAValue, slots: int, upto_last: bool):
        """Run ``length`` steps from ``state``, storing the state every K = ceil(length /
        slots) steps into ``tensor<slots x ...>`` buffers: (buffers, K, final state).
        With ``upto_last`` the loop stops after the last checkpoint (the final state is then
        not the state after ``length`` steps)."""
        stride = b.max(_ceil_div(b, length, _i32(b, slots)), _i32(b, 1))
        if upto_last:
            # checkpoints at 0, K, ..., (nseg - 1) K: run (nseg - 1) K + 1 steps
            last = b.mul(b.sub(_ceil_div(b, length, stride), _i32(b, 1)), stride)
            bound = b.min(b.add(last, _i32(b, 1)), length)
        else:
            bound = length
        bufs = self.buffers(b, slots)
        n = len(self.shapes)

        def body(bb: Builder, args):
            j, cur, bs = args[0], args[1 : 1 + n], args[1 + n :]
            new_bufs = self._store_every(bb, j, stride, cur, bs)
            return [bb.add(j, _i32(bb, 1))] + self.step(bb, cur) + new_bufs

        out = _while(b, [_i32(b, 0)] + state + bufs, lambda cb, args: cb.compare(args[0], bound, "LT"), body)
        return out[1 + n :], stride, out[1 : 1 + n]

    def _store_every(self, bb: Builder, j: SSAValue, stride: SSAValue, cur, bufs) -> list[SSAValue]:
        """The buffers with the state ``cur`` of step ``j`` stored in slot j / stride when
        ``stride`` divides ``j`` (the buffers unchanged otherwise)."""
        slot = bb.div(j, stride)
        at_checkpoint = bb.compare(bb.sub(j, bb.mul(slot, stride)), _i32(bb, 0), "EQ")
        return [write_slot(bb, buf, slot, bb.select(at_checkpoint, x, read_slot(bb, buf, slot, s))) for x, buf, s in zip(cur, bufs, self.shapes)]

    def count_and_store(self, b: Builder, state: list[SSAValue], slots: int):
        """The loop under its own condition, counting its iterations N and storing the
        state every K steps into ``tensor<slots x ...>`` buffers, K doubling (from 1)
        whenever the slots are full: the even slots are kept, moved to the first half.
        At the end ceil(N / K) <= slots: (N, K, final state, buffers)."""
        assert slots % 2 == 0
        bufs = self.buffers(b, slots)
        n = len(self.shapes)

        def compact(bb: Builder, buf: SSAValue, s) -> SSAValue:
            dims = [slots, *s]
            kept = bb.slice(buf, [0] * len(dims), dims, [2] + [1] * len(s))
            return bb.concatenate([kept, bb.zeros(kept.type)], 0)

        def body(bb: Builder, args):
            j, stride, cur, bs = args[0], args[1], args[2 : 2 + n], args[2 + n :]
            full = bb.compare(bb.div(j, stride), _i32(bb, slots), "GE")
            yes, no = Block(), Block()
            yes.add_op(hlo.ReturnOp([compact(Builder(yes), buf, s) for buf, s in zip(bs, self.shapes)]))
            no.add_op(hlo.ReturnOp(list(bs)))
            branch = bb.insert(hlo.IfOp.create(operands=[full], result_types=[v.type for v in bs], regions=[Region(yes), Region(no)]))
            bs = list(branch.results)
            stride = bb.select(full, bb.add(stride, stride), stride)
            new_bufs = self._store_every(bb, j, stride, cur, bs)
            return [bb.add(j, _i32(bb, 1)), stride] + self.step(bb, cur) + new_bufs

        out = _while(b, [_i32(b, 0), _i32(b, 1)] + state + bufs, lambda cb, args: self.cond(cb, args[2 : 2 + n]), body)
        return out[0], out[1], out[2 : 2 + n], out[2 + n :]


class _WhileLoop(CheckpointLoop):
    """A stablehlo.while: the state is its carried values that the body changes."""

    def __init__(self, rev: ReverseSweep, op: hlo.WhileOp):
        self.rev, self.op = rev, op
        body = op.body.block
        self.body = body
        self.invariant = loop_invariant_carried(op)
        self.state = [i for i in range(len(op.operand)) if i not in self.invariant]
        for i in self.state:
            if not isinstance(body.args[i].type, TensorType):
                raise DiffError(
                    f"cannot checkpoint 'stablehlo.while' at {describe_location(op)}: carried value #{i} of type "
                    f"{body.args[i].type} is not a tensor, so it cannot be stored in a checkpoint buffer"
                )
        self.shapes = [shape(body.args[i]) for i in self.state]
        self.elements = [body.args[i].type.get_element_type() for i in self.state]

    def initial(self, b: Builder) -> list[SSAValue]:
        return [self.rev.primal(self.op.operand[i]) for i in self.state]

    def bind(self, sweep, block_args, state: list[SSAValue]) -> None:
        by_index = dict(zip(self.state, state))
        for i, a in enumerate(block_args):
            sweep.primals[a] = by_index[i] if i in by_index else self.rev.primal(self.op.operand[i])

    def step(self, b: Builder, state: list[SSAValue]) -> list[SSAValue]:
        """The state after one iteration (a copy of the body)."""
        fwd = self.rev.child(b)
        self.bind(fwd, self.body.args, state)
        for o in body_ops(self.body):
            fwd.clone(o)
        yields = terminator(self.body).operands
        return [fwd.primal(yields[i]) for i in self.state]

    def cond(self, b: Builder, state: list[SSAValue]) -> SSAValue:
        sweep = self.rev.child(b)
        block = self.op.cond.block
        self.bind(sweep, block.args, state)
        for o in body_ops(block):
            sweep.clone(o)
        return sweep.primal(terminator(block).operands[0])

    def step_reverse(self, b: Builder, state: list[SSAValue], carry: list[SSAValue], act: list[int], frees: list[SSAValue]) -> list[SSAValue]:
        inner = self.rev.child(b)
        self.bind(inner, self.body.args, state)
        inner.forward_block(self.body)
        yields = terminator(self.body).operands
        for i, adj in zip(act, carry):
            inner.add_adjoint(yields[i], adj)
        inner.reverse_block(self.body)
        out = [inner.adjoint_or_zero(self.body.args[i]) for i in act]
        for f, acc in zip(frees, carry[len(act) :]):
            ct = inner.adjoints.get(f)
            out.append(acc if ct is None else b.add(acc, ct))
        return out


# ============================================================================ the rule


def record(loop: CheckpointLoop, b: Builder, act: list[int], frees: list[SSAValue], *, length: SSAValue | None = None,
           count: int | None = None, schedule: tuple[str, int | None] | None = None) -> tuple[Checkpoints, list[SSAValue] | None]:
    """The forward sweep of a checkpointed loop: the checkpoints and the final state.

    * neither ``length`` nor ``count``: the trip count is found at run time, under the
      loop's own condition (``count_and_store``, K doubling);
    * ``length`` (a tensor<i32> known before the loop runs, an scf.for's trip count): the
      state every ceil(length / SLOTS) steps, the reverse as for a run-time trip count;
    * ``count`` and ``schedule`` (a counted loop asking for checkpoints): "periodic" or
      "binomial". The final state is None for binomial: the caller runs the loop itself.
    """
    init = loop.initial(b)
    if count is None and length is None:
        # one primal sweep counting the iterations and storing checkpoints by doubling
        length, stride, final, bufs = loop.count_and_store(b, init, SLOTS)
        return Checkpoints("levels", act, frees, bufs, stride, length, [SLOTS] * (LEVELS - 1)), final
    if count is None:
        bufs, stride, final = loop.store(b, init, length, SLOTS, upto_last=False)
        return Checkpoints("levels", act, frees, bufs, stride, length, [SLOTS] * (LEVELS - 1)), final
    if schedule[0] == "periodic":
        k = schedule[1] if schedule[1] is not None else max(1, math.isqrt(count - 1) + 1)
        k = min(k, count)
        slots = -(-count // k)
        length = _i32(b, count)
        bufs, stride, final = loop.store(b, init, length, slots, upto_last=False)
        return Checkpoints("levels", act, frees, bufs, stride, length, [k]), final
    slots = schedule[1] if schedule[1] is not None else max(2, math.isqrt(count - 1) + 1)
    slots = max(1, min(slots, count))
    return Checkpoints("binomial", act, frees, slots=[slots], table=binomial_schedule(count, slots), count=count), None


def replay(loop: CheckpointLoop, b: Builder, tape: Checkpoints, carry: list[SSAValue]) -> list[SSAValue]:
    """The reverse sweep of a checkpointed loop: ``carry`` (adjoints of the carried values
    in ``tape.act`` after the loop, then of ``tape.frees``) taken back to the loop's start."""
    if tape.kind == "binomial":
        return _interpret(loop, b, tape, carry)
    return _reverse_segments(loop, b, tape, tape.bufs, tape.stride, tape.length, 0, carry)


def augment(rev: ReverseSweep, op: hlo.WhileOp) -> None:
    """The forward sweep of a checkpointed stablehlo.while (see the module docstring)."""
    loop = _WhileLoop(rev, op)
    body = op.body.block
    act = [i for i, a in enumerate(body.args) if rev.is_active(a) or rev.is_active(op.results[i])]
    frees = [f for f in free_values(op) if rev.is_active(f)]
    tc = find_trip_count(op)
    if tc is None:
        tape, final = record(loop, rev.builder, act, frees)
    else:
        tape, final = record(loop, rev.builder, act, frees, count=tc.count, schedule=schedule_of(op))
    if final is None:
        final = rev.clone(op).results
        final = [final[i] for i in loop.state]
    by_index = dict(zip(loop.state, final))
    for i, r in enumerate(op.results):
        rev.primals[r] = by_index[i] if i in by_index else rev.primal(op.operand[i])
    rev.tapes[op] = tape


def reverse(rev: ReverseSweep, op: hlo.WhileOp) -> None:
    tape: Checkpoints = rev.tapes[op]
    loop = _WhileLoop(rev, op)
    b = rev.builder
    carry = [rev.adjoint_or_zero(op.results[i]) for i in tape.act] + [b.zeros(rev.adjoint_type(f.type)) for f in tape.frees]
    carry = replay(loop, b, tape, carry)
    for i, ct in zip(tape.act, carry):
        rev.add_adjoint(op.operand[i], ct)
    for f, ct in zip(tape.frees, carry[len(tape.act) :]):
        rev.add_adjoint(f, ct)


def _reverse_segments(loop: CheckpointLoop, b: Builder, tape: Checkpoints, bufs, stride, length, level: int, carry):
    """Reverse ``length`` steps checkpointed every ``stride`` steps in ``bufs``, last
    segment first; each segment goes one level down."""
    n_seg = _ceil_div(b, length, stride)

    def body(bb: Builder, args):
        c, cur = args[0], args[1:]
        start = [read_slot(bb, buf, c, s) for buf, s in zip(bufs, loop.shapes)]
        seg_len = bb.min(stride, bb.sub(length, bb.mul(c, stride)))
        new = _segment(loop, bb, tape, start, seg_len, level + 1, cur)
        return [bb.sub(c, _i32(bb, 1))] + new

    out = _while(b, [b.sub(n_seg, _i32(b, 1))] + carry, lambda cb, args: cb.compare(args[0], _i32(cb, 0), "GE"), body)
    return out[1:]


def _segment(loop: CheckpointLoop, b: Builder, tape: Checkpoints, start, length, level: int, carry):
    """Reverse ``length`` steps from the state ``start``."""
    if level <= len(tape.slots):
        bufs, stride, _ = loop.store(b, start, length, tape.slots[level - 1], upto_last=True)
        return _reverse_segments(loop, b, tape, bufs, stride, length, level, carry)

    # innermost: each step recomputed from the segment's start
    def body(bb: Builder, args):
        j, cur = args[0], args[1:]
        state = loop.advance(bb, start, j)
        return [bb.sub(j, _i32(bb, 1))] + loop.step_reverse(bb, state, cur, tape.act, tape.frees)

    out = _while(b, [b.sub(length, _i32(b, 1))] + carry, lambda cb, args: cb.compare(args[0], _i32(cb, 0), "GE"), body)
    return out[1:]


def _interpret(loop: CheckpointLoop, b: Builder, tape: Checkpoints, carry):
    """ONE while loop running the binomial action table."""
    table = tape.table
    rows = b.constant(table, tensor(IntegerType(32), list(table.shape)))
    slots = tape.slots[0]
    init_state = loop.initial(b)
    bufs = loop.buffers(b, slots)
    n, nb = len(init_state), len(bufs)

    def body(bb: Builder, args):
        r, cur, bs, acc = args[0], args[1 : 1 + n], args[1 + n : 1 + n + nb], args[1 + n + nb :]
        zero = _i32(bb, 0)
        row = bb.reshape(bb.dynamic_slice(rows, [r, zero], [1, 4]), [4])
        restore, m, store, flag = (bb.reshape(bb.slice(row, [k], [k + 1]), []) for k in range(4))
        do_restore = bb.compare(restore, zero, "GE")
        r_slot = bb.max(restore, zero)
        cur = [bb.select(do_restore, read_slot(bb, buf, r_slot, s), x) for x, buf, s in zip(cur, bs, loop.shapes)]
        cur = loop.advance(bb, cur, m)
        do_store = bb.compare(store, zero, "GE")
        s_slot = bb.max(store, zero)
        bs = [write_slot(bb, buf, s_slot, bb.select(do_store, x, read_slot(bb, buf, s_slot, s))) for x, buf, s in zip(cur, bs, loop.shapes)]
        # reverse one step from ``cur`` when the row says so (branch 1), else keep (branch 0)
        keep = Block()
        keep.add_op(hlo.ReturnOp(list(acc)))
        step = Block()
        sb = Builder(step)
        step.add_op(hlo.ReturnOp(loop.step_reverse(sb, cur, list(acc), tape.act, tape.frees)))
        case = bb.insert(hlo.CaseOp.create(operands=[flag], result_types=[v.type for v in acc], regions=[Region(keep), Region(step)]))
        return [bb.add(r, _i32(bb, 1))] + cur + bs + list(case.results)

    bound = table.shape[0]
    out = _while(b, [_i32(b, 0)] + init_state + bufs + carry, lambda cb, args: cb.compare(args[0], _i32(cb, bound), "LT"), body)
    return out[1 + n + nb :]


# ============================================================================ the pass


@dataclass(frozen=True)
class LoopCheckpointPass(ModulePass):
    """Sets ``zymase.checkpoint = schedule`` on every stablehlo.while and scf.for that has
    none (the enzyme pass's loop rules then checkpoint their reverse mode; an scf.for with
    run-time bounds, like an scf.while, is checkpointed whatever the schedule)."""

    name = "loop-checkpoint"

    schedule: str = "binomial"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        parse_schedule(self.schedule)
        for o in op.walk():
            if (isinstance(o, hlo.WhileOp) or o.name == "scf.for") and ATTR not in o.attributes:
                o.attributes[ATTR] = StringAttr(self.schedule)
