"""The memref dialect, as far as zymase runs and differentiates it: ``memref.alloc``,
``alloca``, ``dealloc``, ``load``, ``store``, ``copy``, ``cast`` and ``dim`` (xDSL's op
classes, copy and cast with MLIR's syntax), in a dialect object of their own so that the context registers
only ops that zymase can emit and differentiate.

Memory semantics. A memref is a buffer that ops read and write in program order. The
lax backend (``backend/memref_ops.py``) runs them with value semantics: each buffer is a
cell holding a jax array, and loops and branches carry the buffers they use. The AD
engine gives each buffer that carries derivatives a shadow (Enzyme's shadow memory,
``ad/rules/memref.py``).
"""

from __future__ import annotations

from xdsl.dialects.builtin import MemRefType
from xdsl.dialects import memref as _xdsl_memref
from xdsl.dialects.memref import AllocaOp, AllocOp, DeallocOp, DimOp, LoadOp, StoreOp
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.rewriter import InsertPoint
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, result_def, traits_def
from xdsl.traits import MemoryReadEffect, MemoryWriteEffect, NoMemoryEffect
from xdsl.utils.exceptions import VerifyException

from .dense import is_float_type

@irdl_op_definition
class CopyOp(IRDLOperation):
    """``memref.copy %src, %dst : memref<...> to memref<...>``: xDSL's op with MLIR's
    custom syntax."""

    name = "memref.copy"
    source = operand_def(MemRefType)
    destination = operand_def(MemRefType)
    traits = traits_def(MemoryWriteEffect(), MemoryReadEffect())

    def __init__(self, source: SSAValue | Operation, destination: SSAValue | Operation):
        super().__init__(operands=[source, destination])

    verify_ = _xdsl_memref.CopyOp.verify_
    assembly_format = "$source `,` $destination attr-dict `:` type($source) `to` type($destination)"


@irdl_op_definition
class CastOp(IRDLOperation):
    """``memref.cast %m : memref<4xf32> to memref<?xf32>``: the same buffer under another
    type (static and dynamic sizes exchanged); an alias, not a copy."""

    name = "memref.cast"
    source = operand_def(MemRefType)
    dest = result_def(MemRefType)
    traits = traits_def(NoMemoryEffect())
    assembly_format = "$source attr-dict `:` type($source) `to` type($dest)"

    def __init__(self, source: SSAValue, t: Attribute):
        super().__init__(operands=[source], result_types=[t])

    def verify_(self) -> None:
        a, b = self.source.type, self.dest.type
        assert isinstance(a, MemRefType) and isinstance(b, MemRefType)
        if a.get_element_type() != b.get_element_type() or len(a.get_shape()) != len(b.get_shape()):
            raise VerifyException(f"'memref.cast' cannot cast {a} to {b}: element type and rank must agree")
        for x, y in zip(a.get_shape(), b.get_shape()):
            if x >= 0 and y >= 0 and x != y:
                raise VerifyException(f"'memref.cast' cannot cast {a} to {b}: static sizes differ")


AllocaScopeOp = _xdsl_memref.AllocaScopeOp
AllocaScopeReturnOp = _xdsl_memref.AllocaScopeReturnOp


def _parse_alloca_scope(cls, parser):
    """``memref.alloca_scope [-> (T, ...)] { ... }`` (MLIR's custom form)."""
    types = []
    if parser.parse_optional_punctuation("->") is not None:
        if parser.parse_optional_punctuation("(") is not None:
            types = parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_type)
            parser.parse_punctuation(")")
        else:
            types = [parser.parse_type()]
    region = parser.parse_region()
    block = region.block
    if not isinstance(block.last_op, AllocaScopeReturnOp):
        block.add_op(AllocaScopeReturnOp.create(operands=[]))
    attrs = parser.parse_optional_attr_dict()
    op = cls.create(result_types=types, regions=[region])
    op.attributes |= attrs
    return op


def _print_alloca_scope(self, printer) -> None:
    if self.results:
        printer.print_string(" -> (")
        printer.print_list(self.result_types, printer.print_attribute)
        printer.print_string(")")
    printer.print_string(" ")
    printer.print_region(self.scope, print_entry_block_args=False, print_block_terminators=bool(self.results))


def _parse_alloca_scope_return(cls, parser):
    values = []
    if parser.parse_optional_punctuation(":") is None:
        pos = parser.pos
        unresolved = parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_unresolved_operand)
        parser.parse_punctuation(":")
        types = parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_type)
        values = parser.resolve_operands(unresolved, types, pos)
    return cls.create(operands=values)


def _print_alloca_scope_return(self, printer) -> None:
    if self.ops:
        printer.print_string(" ")
        printer.print_list(self.ops, printer.print_operand)
        printer.print_string(" : ")
        printer.print_list(self.ops.types, printer.print_attribute)


AllocaScopeOp.parse = classmethod(_parse_alloca_scope)  # MLIR's syntax on xDSL's classes
AllocaScopeOp.print = _print_alloca_scope
AllocaScopeReturnOp.parse = classmethod(_parse_alloca_scope_return)
AllocaScopeReturnOp.print = _print_alloca_scope_return


def inline_alloca_scopes(module: Operation) -> bool:
    """Replace each ``memref.alloca_scope`` by its body (its allocas then live to the end
    of the enclosing function, which changes no value); True when anything changed."""
    from xdsl.rewriter import Rewriter

    todo = [op for op in module.walk() if isinstance(op, AllocaScopeOp)]
    for op in reversed(todo):
        block = op.scope.block
        ret = block.last_op
        assert isinstance(ret, AllocaScopeReturnOp)
        values = list(ret.ops)
        ret.detach()
        ret.erase()
        Rewriter.inline_block(block, InsertPoint.before(op))
        Rewriter.replace_op(op, [], new_results=values)
    return bool(todo)


OPS = (AllocOp, AllocaOp, DeallocOp, LoadOp, StoreOp, CopyOp, CastOp, DimOp, AllocaScopeOp, AllocaScopeReturnOp)

MemRef = Dialect("memref", list(OPS), [])


def is_memref(t: Attribute) -> bool:
    return isinstance(t, MemRefType)


def is_float_memref(t: Attribute) -> bool:
    """A buffer of floats: the memory that can carry derivatives."""
    return isinstance(t, MemRefType) and is_float_type(t.get_element_type())


__all__ = ["MemRef", "OPS", "AllocOp", "AllocaOp", "DeallocOp", "LoadOp", "StoreOp", "CopyOp", "CastOp", "DimOp", "is_memref", "is_float_memref"]
