"""The part of the llvm dialect zymase maps onto its memory model: ``llvm.alloca`` of
scalars, ``llvm.load`` and ``llvm.store`` through such an alloca, and
``llvm.mlir.constant`` (xDSL's op classes and syntax, with xDSL's llvm types so that
``!llvm.ptr`` parses).

``lower_llvm_memory`` rewrites an ``llvm.alloca %n x T`` whose count is a constant and
whose pointer is used only as the address of ``llvm.load`` / ``llvm.store`` into a
``memref.alloca() : memref<n x T>`` with loads and stores of element 0, and
``llvm.mlir.constant`` into ``arith.constant``: the buffer then gets the memref
semantics and Enzyme's shadow memory (``ad/rules/memref.py``). Pointers zymase cannot
follow (function arguments, pointer arithmetic, pointers stored in memory, calls) are
left as they are, and differentiating or running them fails with a message naming the
op.
"""

from __future__ import annotations

from xdsl.dialects import arith, llvm as _llvm, memref
from xdsl.dialects.builtin import IndexType, IntegerAttr, IntegerType, MemRefType
from xdsl.ir import Dialect, Operation
from xdsl.rewriter import Rewriter

from .dense import is_float_type

AllocaOp = _llvm.AllocaOp
LoadOp = _llvm.LoadOp
StoreOp = _llvm.StoreOp
ConstantOp = _llvm.ConstantOp

OPS = (AllocaOp, LoadOp, StoreOp, ConstantOp)

LLVM = Dialect("llvm", list(OPS), list(_llvm.LLVM.attributes))


def _constant_count(op: AllocaOp) -> int | None:
    owner = op.size.owner
    if isinstance(owner, (arith.ConstantOp, ConstantOp)) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    return None


def _lowerable(op: AllocaOp) -> bool:
    t = op.elem_type
    if not (is_float_type(t) or isinstance(t, IntegerType)):
        return False
    if _constant_count(op) is None or _constant_count(op) < 1:
        return False
    for use in op.res.uses:
        user = use.operation
        if isinstance(user, LoadOp) and user.dereferenced_value.type == t:
            continue
        if isinstance(user, StoreOp) and use.index == 1 and user.value.type == t:
            continue
        return False
    return True


def lower_llvm_memory(module: Operation) -> bool:
    changed = False
    for op in [o for o in module.walk() if isinstance(o, AllocaOp)]:
        if not _lowerable(op):
            continue
        n = _constant_count(op)
        assert n is not None
        t = op.elem_type
        buf = memref.AllocaOp.get(t, shape=[n])
        Rewriter.insert_op(buf, _before(op))
        zero = arith.ConstantOp(IntegerAttr(0, IndexType()))
        Rewriter.insert_op(zero, _before(op))
        for use in list(op.res.uses):
            user = use.operation
            if isinstance(user, LoadOp):
                Rewriter.replace_op(user, memref.LoadOp.get(buf, [zero]))
            else:
                Rewriter.replace_op(user, memref.StoreOp.get(user.value, buf, [zero]))
        Rewriter.erase_op(op)
        changed = True
    for c in [o for o in module.walk() if isinstance(o, ConstantOp)]:
        if isinstance(c.value, IntegerAttr) or is_float_type(c.result.type):
            Rewriter.replace_op(c, arith.ConstantOp(c.value, c.result.type) if not isinstance(c.value, IntegerAttr) else arith.ConstantOp(c.value))
            changed = True
    return changed


def _before(op: Operation):
    from xdsl.rewriter import InsertPoint

    return InsertPoint.before(op)


__all__ = ["LLVM", "OPS", "lower_llvm_memory"]
_ = MemRefType
