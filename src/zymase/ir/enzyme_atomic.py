"""``enzyme.affine_atomic_rmw``: an atomic read-modify-write of one memref element at an
affine map of its index operands (``%old = "enzyme.affine_atomic_rmw"(%v, %m, %i...)
<{kind = 0 : i64, map = affine_map<...>, ...}> : (f64, memref<?xf64>) -> f64``; kind as
MLIR's atomic RMW kinds: 0 addf, 2 assign, 3 maximumf, 6 minimumf, 9 mulf).

zymase runs loops one iteration after the other, so the atomic update is a load, the
operation and a store; ``lower_atomic_rmw`` (``ir/lower.py``, before the affine ops)
rewrites it so, the result being the loaded (old) value. The same values, so the
derivative (shadow memory included) is exact. Other kinds are refused in one line.
"""

from __future__ import annotations

from xdsl.dialects.builtin import AffineMapAttr, IntegerAttr
from xdsl.ir import Attribute, Operation
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, opt_prop_def, prop_def, result_def, var_operand_def
from xdsl.rewriter import InsertPoint, Rewriter

from ..errors import MlirError


@irdl_op_definition
class AffineAtomicRMWOp(IRDLOperation):
    name = "enzyme.affine_atomic_rmw"
    value = operand_def()
    memref = operand_def()
    indices = var_operand_def()
    result = result_def()
    kind = prop_def(IntegerAttr)
    map = prop_def(AffineMapAttr)
    ordering = opt_prop_def(Attribute)
    alignment = opt_prop_def(Attribute)
    fastmath = opt_prop_def(Attribute)


_KINDS = {0: "AddfOp", 3: "MaximumfOp", 6: "MinimumfOp", 9: "MulfOp"}
"""MLIR's atomic RMW kinds zymase runs (2, assign, needs no op): the arith op of each."""


def lower_atomic_rmw(module: Operation) -> bool:
    from xdsl.dialects import arith, memref

    from .affine import _Emit
    from .query import describe_location

    todo = [op for op in module.walk() if isinstance(op, AffineAtomicRMWOp)]
    for op in todo:
        kind = op.kind.value.data
        if kind not in _KINDS and kind != 2:
            loc = describe_location(op)
            raise MlirError(f"'enzyme.affine_atomic_rmw'{' at ' + loc if loc else ''}: kind {kind} is not supported (addf, assign, maximumf, minimumf, mulf)")
        e = _Emit(op)
        idx = e.map(op.map.data, list(op.indices))
        old = e.add(memref.LoadOp.get(op.memref, idx))
        new = op.value if kind == 2 else e.add(getattr(arith, _KINDS[kind])(old, op.value))
        Rewriter.insert_op(memref.StoreOp.get(new, op.memref, idx), InsertPoint.before(op))
        op.result.replace_all_uses_with(old)
        op.detach()
        op.erase()
    return bool(todo)


ATOMIC_OPS = [AffineAtomicRMWOp]

__all__ = ["AffineAtomicRMWOp", "lower_atomic_rmw", "ATOMIC_OPS"]
