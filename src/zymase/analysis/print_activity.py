"""The ``print-activity-analysis`` pass: for each ``enzyme.autodiff`` / ``enzyme.fwddiff``
op, runs :class:`ActivityAnalysis` on the callee with the op's activities and prints the
activity of every value of the callee to stdout; the IR is left unchanged.

Values are named as MLIR's printer numbers them: arguments of every block, nested ones
included, ``%arg0, %arg1, ...``; op results ``%0, %1, ...`` (``%3#1`` for the second
result of a multi-result op), in the order ops appear in the function::

    enzyme.autodiff @square activity [enzyme_active, enzyme_const] ret_activity [enzyme_active, enzyme_const]
    @square: %arg0 active
    @square: %arg1 constant (not varied)
    @square: %0 = arith.mulf active
    @square: %1 = arith.mulf constant (not varied)

A constant value gives the reason: ``not varied`` (does not depend on an active input),
``not useful`` (does not reach an output whose derivative is wanted), or ``integer``
(not a float type, never active).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import FuncOp
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.traits import SymbolTable

from ..ir.enzyme import ACTIVE, ACTIVENONEED, DUP, DUPNONEED, AutoDiffOp, ForwardDiffOp
from .activity import ActivityAnalysis, is_differentiable_type


def analyse(op: AutoDiffOp | ForwardDiffOp, callee: FuncOp) -> ActivityAnalysis:
    """The analysis the enzyme pass runs for ``op``: which arguments are active, which
    results' derivatives are wanted."""
    if isinstance(op, AutoDiffOp):
        active_args = [k == ACTIVE for k in op.arg_kinds]
        useful = [k in (ACTIVE, ACTIVENONEED) for k in op.ret_kinds]
    else:
        active_args = [k in (DUP, DUPNONEED) for k in op.arg_kinds]
        useful = [k in (DUP, DUPNONEED) for k in op.ret_kinds]
    return ActivityAnalysis(callee, active_args, useful)


def activity_of(analysis: ActivityAnalysis, v: SSAValue) -> str:
    if analysis.is_active(v):
        return "active"
    if not is_differentiable_type(v):
        return "constant (integer)"
    if v not in analysis.varied:
        return "constant (not varied)"
    return "constant (not useful)"


def named_values(fn: FuncOp) -> Iterator[tuple[str, SSAValue]]:
    """``(description, value)`` for every value of ``fn``, in MLIR's printing order:
    ``%argN`` for block arguments, ``%N = op.name`` / ``%N#k = op.name`` for results."""
    counter = {"arg": 0, "result": 0}

    def block_values(block: Block) -> Iterator[tuple[str, SSAValue]]:
        for arg in block.args:
            yield f"%arg{counter['arg']}", arg
            counter["arg"] += 1
        for op in block.ops:
            yield from op_values(op)

    def op_values(op: Operation) -> Iterator[tuple[str, SSAValue]]:
        if op.results:
            n = counter["result"]
            counter["result"] += 1
            if len(op.results) == 1:
                yield f"%{n} = {op.name}", op.results[0]
            else:
                for k, r in enumerate(op.results):
                    yield f"%{n}#{k} = {op.name}", r
        for region in op.regions:
            for block in region.blocks:
                yield from block_values(block)

    for block in fn.body.blocks:
        yield from block_values(block)


def print_activity(module: ModuleOp, out: TextIO) -> None:
    for op in module.walk():
        if not isinstance(op, (AutoDiffOp, ForwardDiffOp)):
            continue
        callee = SymbolTable.lookup_symbol(module, op.fn)
        if not isinstance(callee, FuncOp) or not callee.body.blocks:
            continue  # the verifier reports it
        fn = callee.sym_name.data
        args = ", ".join(str(k) for k in op.arg_kinds)
        rets = ", ".join(str(k) for k in op.ret_kinds)
        out.write(f"{op.name} @{fn} activity [{args}] ret_activity [{rets}]\n")
        analysis = analyse(op, callee)
        for name, value in named_values(callee):
            out.write(f"@{fn}: {name} {activity_of(analysis, value)}\n")
    out.flush()


@dataclass(frozen=True)
class PrintActivityAnalysisPass(ModulePass):
    """Print, for each enzyme.autodiff / enzyme.fwddiff, the activity of each value of
    its callee (stdout); the IR is unchanged."""

    name = "print-activity-analysis"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        print_activity(op, sys.stdout)


__all__ = ["PrintActivityAnalysisPass", "print_activity", "named_values", "analyse"]
