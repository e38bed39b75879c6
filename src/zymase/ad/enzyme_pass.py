"""The ``enzyme`` pass: replaces each ``enzyme.autodiff`` / ``enzyme.fwddiff`` op by a
call to a generated derivative function (``diffe<fn>``, ``fwddiffe<fn>``)."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter

from ..ir.enzyme import AutoDiffOp, ForwardDiffOp
from .engine import DiffContext
from .errors import DiffError


def differentiate_module(module: ModuleOp) -> None:
    ctx = DiffContext(module)
    ops = [op for op in module.walk() if isinstance(op, (AutoDiffOp, ForwardDiffOp))]
    for op in ops:
        callee = op.fn.root_reference.data
        if isinstance(op, ForwardDiffOp):
            name = ctx.forward_function(callee, op.arg_kinds, op.ret_kinds, op.width_value)
        else:
            name = ctx.reverse_function(callee, op.arg_kinds, op.ret_kinds)
        call = func.CallOp(name, list(op.inputs), [r.type for r in op.outputs])
        call.location = op.location
        Rewriter.replace_op(op, call)


@dataclass(frozen=True)
class EnzymePass(ModulePass):
    """Generate derivative functions for enzyme.autodiff and enzyme.fwddiff."""

    name = "enzyme"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        differentiate_module(op)


__all__ = ["EnzymePass", "differentiate_module", "DiffError"]
