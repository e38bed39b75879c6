"""Unrolling of counted scf.for loops, which reverse mode needs: the reverse rule of
scf.for runs on the loop unrolled. Before reverse-differentiating a function, the engine
unrolls, in a copy of it, its scf.for loops whose bounds are constants (up to
``MAX_UNROLLED_ITERATIONS`` iterations each; a longer one raises a DiffError). A loop
that remains reaches the scf.for reverse rule, which raises.

``UnrollCountedLoopsPass`` (``unroll-counted-loops``) runs the same transform on every
function of a module.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import FuncOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriteWalker
from xdsl.transforms.scf_for_loop_unroll import UnrollLoopPattern

from ..ir.query import describe_location
from .errors import DiffError

MAX_UNROLLED_ITERATIONS = 4096


def unroll_counted_loops(fn: FuncOp, max_iterations: int = MAX_UNROLLED_ITERATIONS) -> None:
    """Unroll the scf.for loops of ``fn`` whose bounds are constants; raises a DiffError,
    changing nothing, when one of them runs more than ``max_iterations`` times."""
    for loop in [op for op in fn.walk() if isinstance(op, scf.ForOp)]:
        bounds = [v.owner for v in (loop.lb, loop.ub, loop.step)]
        if not all(isinstance(b, arith.ConstantOp) for b in bounds):
            continue
        lb, ub, step = (b.value.value.data for b in bounds)
        if step > 0 and (ub - lb) // step > max_iterations:
            raise DiffError(
                f"cannot reverse-differentiate 'scf.for' at {describe_location(loop)}: {(ub - lb) // step} iterations "
                f"exceed the unrolling bound ({max_iterations}); write it as a stablehlo.while (jax.lax.fori_loop)"
            )
    PatternRewriteWalker(UnrollLoopPattern()).rewrite_region(fn.body)


@dataclass(frozen=True)
class UnrollCountedLoopsPass(ModulePass):
    """``unroll_counted_loops`` on every function of the module."""

    name = "unroll-counted-loops"

    max_iterations: int = MAX_UNROLLED_ITERATIONS

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for fn in [o for o in op.walk() if isinstance(o, FuncOp)]:
            unroll_counted_loops(fn, self.max_iterations)
