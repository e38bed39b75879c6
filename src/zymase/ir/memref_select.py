"""``arith.select`` of two memrefs, rewritten before zymase runs or differentiates a module
(``ir/lower.py``): each use of the selected buffer is made on both buffers and chosen by
the condition, so no value names "one of two buffers" (zymase's buffers are values when
it runs, and shadows follow buffers). ``memref.load %sel[...]`` -> ``arith.select %c,
load %a[...], load %b[...]``; ``memref.store %v, %sel[...]`` -> ``scf.if %c { store into
%a } else { store into %b }``; a select of selects is rewritten inner first. Any other
use of the selected buffer is refused in one line. The same values and stores, so the
derivative (shadows included) is exact.
"""

from __future__ import annotations

from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import MemRefType
from xdsl.ir import Block, Operation, Region
from xdsl.rewriter import InsertPoint, Rewriter

from ..errors import MlirError
from .query import describe_location


def _rewrite(sel: arith.SelectOp) -> None:
    c, a, b = sel.cond, sel.lhs, sel.rhs
    for use in list(sel.result.uses):
        op = use.operation
        if isinstance(op, memref.LoadOp) and use.index == 0:
            idx = list(op.indices)
            la = memref.LoadOp.get(a, idx)
            lb = memref.LoadOp.get(b, idx)
            pick = arith.SelectOp(c, la.res, lb.res)
            Rewriter.insert_op([la, lb, pick], InsertPoint.before(op))
            op.res.replace_all_uses_with(pick.result)
            op.detach()
            op.erase()
        elif isinstance(op, memref.StoreOp) and use.index == 1:
            idx = list(op.indices)
            then_b = Block([memref.StoreOp.get(op.value, a, idx), scf.YieldOp()])
            else_b = Block([memref.StoreOp.get(op.value, b, idx), scf.YieldOp()])
            Rewriter.replace_op(op, scf.IfOp(c, [], Region(then_b), Region(else_b)))
        elif isinstance(op, arith.SelectOp) and isinstance(op.result.type, MemRefType):
            continue  # an outer select: rewritten after this one is gone from its uses below
        else:
            loc = describe_location(op)
            raise MlirError(f"'{op.name}'{' at ' + loc if loc else ''} uses a memref chosen by 'arith.select'; zymase follows such a memref only into memref.load and memref.store")
    if not sel.result.uses:
        sel.detach()
        sel.erase()


def is_memref_select(op: Operation) -> bool:
    return isinstance(op, arith.SelectOp) and isinstance(op.result.type, MemRefType)


def lower_memref_select(module: Operation) -> bool:
    todo = [op for op in module.walk() if is_memref_select(op)]
    for op in reversed(todo):  # outer selects first: their loads become loads of the inner ones
        _rewrite(op)
    return bool(todo)


__all__ = ["is_memref_select", "lower_memref_select"]
