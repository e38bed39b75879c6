"""Unrolling of short counted scf.for loops before reverse mode. Before
reverse-differentiating a function, the engine unrolls, in a copy of it, its scf.for
loops whose bounds are constants, whose unrolled reverse is no larger than a taped
loop's (``LOOP_TAPE_OPS``), and that run at most ``MAX_UNROLLED_ITERATIONS`` times with
at most ``MAX_UNROLLED_OPS`` ops in all the copies of the body. Every other scf.for
reaches the scf.for reverse rule (``ad/rules/scf.py``: a tape of the loop's state, or
checkpoints when the bounds are run-time values or a ``zymase.checkpoint`` schedule is
set, which also keeps a loop from being unrolled).

Unrolled, a loop's reverse is straight-line code that the optimizer and XLA simplify
across iterations, but it grows with the trip count while a taped loop's does not; the
output keeps loops as loops (as Enzyme's does) unless unrolling is no larger: loops of
one trip, or of a few trips of a small body.

``UnrollCountedLoopsPass`` (``unroll-counted-loops``) runs the same transform on every
function of a module.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, StringAttr
from xdsl.dialects.func import FuncOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter
from xdsl.transforms.scf_for_loop_unroll import UnrollLoopPattern

MAX_UNROLLED_ITERATIONS = 16
MAX_UNROLLED_OPS = 256
LOOP_TAPE_OPS = 8
"""What a taped reverse loop costs beyond one copy of its body, in body ops: a loop is
unrolled only when its copies beyond the first cost no more (the unrolled reverse is
then no larger than the loop's). Measured on a 10-trip loop of two ops (sin, mul) after
``enzyme,canonicalize,cse,dce``: 72 ops unrolled, 33 as a loop with a tape, about 3.6
derivative ops per body op and trip, so the tape and the loops cost about 26 ops, 7-8
body ops' worth."""
CHECKPOINT_ATTR = "zymase.checkpoint"  # (ad/rules/checkpoint.py's ATTR, kept here to stay import-light)


def constant_bounds(op: scf.ForOp) -> tuple[int, int, int] | None:
    """(lb, ub, step) of an scf.for whose bounds are arith constants, else None."""
    values = []
    for v in (op.lb, op.ub, op.step):
        owner = v.owner
        if not isinstance(owner, arith.ConstantOp) or not isinstance(owner.value, IntegerAttr):
            return None
        values.append(owner.value.value.data)
    return values[0], values[1], values[2]


def _unrollable(op: scf.ForOp, max_iterations: int, max_ops: int) -> bool:
    bounds = constant_bounds(op)
    if bounds is None or "enzyme.enable_checkpointing" in op.attributes:
        return False
    schedule = op.attributes.get(CHECKPOINT_ATTR)
    if schedule is not None and not (isinstance(schedule, StringAttr) and schedule.data == "none"):
        return False
    lb, ub, step = bounds
    if step <= 0:
        return False  # the reverse rule refuses it
    trips = max(0, -(-(ub - lb) // step))
    body_size = sum(1 for _ in op.body.walk())
    return trips <= max_iterations and trips * body_size <= max_ops and (trips - 1) * body_size <= LOOP_TAPE_OPS


def unroll_counted_loops(fn: FuncOp, max_iterations: int = MAX_UNROLLED_ITERATIONS, max_ops: int = MAX_UNROLLED_OPS) -> None:
    """Unroll the short scf.for loops of ``fn`` whose bounds are constants (inner loops
    first, so that an outer loop counts its inner loops' unrolled copies)."""
    for op in reversed(list(fn.walk())):
        if isinstance(op, scf.ForOp) and _unrollable(op, max_iterations, max_ops):
            UnrollLoopPattern().match_and_rewrite(op, PatternRewriter(op))


@dataclass(frozen=True)
class UnrollCountedLoopsPass(ModulePass):
    """``unroll_counted_loops`` on every function of the module."""

    name = "unroll-counted-loops"

    max_iterations: int = MAX_UNROLLED_ITERATIONS

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for fn in [o for o in op.walk() if isinstance(o, FuncOp)]:
            unroll_counted_loops(fn, self.max_iterations)
