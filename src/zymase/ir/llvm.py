"""The part of the llvm dialect zymase maps onto its memory model (``ir/lower_llvm.py``
rewrites it into func, arith, math, scf and memref before running or differentiating).

Registered: functions (``llvm.func`` / ``return`` / ``call``, ``llvm.comdat`` and the
``comdat(...)`` clause of ``llvm.func``, kept and ignored), memory (``alloca``, ``load``,
``store``, ``getelementptr``, ``llvm.intr.memset`` / ``memcpy``), constants
(``llvm.mlir.constant`` / ``undef`` / ``poison`` / ``zero``), aggregates
(``insertvalue`` / ``extractvalue``), the arith-like ops and math intrinsics, and ops
without meaning for values (``llvm.intr.dbg.value`` / ``dbg.declare``,
``lifetime.start`` / ``end``, ``experimental.noalias.scope.decl``, the debug-info and
alias-scope attributes, whose text is kept as it is). Ops the lowering cannot map
(``inttoptr``, globals, ...) parse, and lowering refuses them by name. The dialect
``llvm_ext`` holds ``llvm_ext.ptr_size_hint`` (a hint, ignored). xDSL's op classes and
syntax are used where xDSL has them.
"""

from __future__ import annotations

from xdsl.dialects import llvm as _llvm
from xdsl.dialects.builtin import ArrayAttr, IntegerAttr, StringAttr
from xdsl.ir import Attribute, Dialect, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import NoTerminator, SymbolOpInterface

AllocaOp = _llvm.AllocaOp
LoadOp = _llvm.LoadOp
StoreOp = _llvm.StoreOp
ConstantOp = _llvm.ConstantOp
GEPOp = _llvm.GEPOp
ReturnOp = _llvm.ReturnOp
CallOp = _llvm.CallOp
UndefOp = _llvm.UndefOp
ZeroOp = _llvm.ZeroOp
ExtractValueOp = _llvm.ExtractValueOp
InsertValueOp = _llvm.InsertValueOp
LLVMPointerType = _llvm.LLVMPointerType
LLVMStructType = _llvm.LLVMStructType
LLVMArrayType = _llvm.LLVMArrayType


FuncOp = _llvm.FuncOp
_parse_func = _llvm.FuncOp.parse.__func__  # type: ignore[attr-defined]


def _parse_func_with_comdat(cls, parser: Parser) -> _llvm.FuncOp:  # type: ignore[no-untyped-def]
    """``llvm.func``: xDSL's syntax, also reading a ``comdat(@table::@sym)`` clause after
    the signature (kept as the attribute ``comdat``; it carries no meaning for values)."""
    original = parser.parse_optional_attr_dict_with_keyword
    comdat: list[Attribute] = []

    def with_comdat(reserved=()):  # type: ignore[no-untyped-def]
        if parser.parse_optional_keyword("comdat") is not None:
            parser.parse_punctuation("(")
            comdat.append(parser.parse_attribute())
            parser.parse_punctuation(")")
        return original(reserved)

    parser.parse_optional_attr_dict_with_keyword = with_comdat  # type: ignore[method-assign]
    try:
        op = _parse_func(cls, parser)
    finally:
        del parser.parse_optional_attr_dict_with_keyword
    if comdat:
        op.attributes["comdat"] = comdat[0]
    return op


FuncOp.parse = classmethod(_parse_func_with_comdat)  # the comdat clause on xDSL's class


def _with_properties(parse):  # type: ignore[no-untyped-def]
    """xDSL's parser of ``llvm.load`` / ``llvm.store``, also reading the properties MLIR
    prints before the types (``<alignment = 16>``, ``<{alignment = 16 : i64}>``)."""

    def parse_with_properties(cls, parser: Parser):  # type: ignore[no-untyped-def]
        original = parser.parse_optional_attr_dict

        def entry() -> tuple[str, Attribute]:
            name = parser.parse_identifier()
            parser.parse_punctuation("=")
            return name, parser.parse_attribute()

        def attr_dict():  # type: ignore[no-untyped-def]
            props: dict[str, Attribute] = {}
            if parser.parse_optional_punctuation("<") is not None:
                braces = parser.parse_optional_punctuation("{") is not None
                props = dict(parser.parse_comma_separated_list(parser.Delimiter.NONE, entry))
                if braces:
                    parser.parse_punctuation("}")
                parser.parse_punctuation(">")
            return props | original()

        parser.parse_optional_attr_dict = attr_dict  # type: ignore[method-assign]
        try:
            return parse(cls, parser)
        finally:
            del parser.parse_optional_attr_dict

    return classmethod(parse_with_properties)


LoadOp.parse = _with_properties(LoadOp.parse.__func__)  # type: ignore[attr-defined]
StoreOp.parse = _with_properties(StoreOp.parse.__func__)  # type: ignore[attr-defined]


@irdl_op_definition
class PoisonOp(IRDLOperation):
    """``llvm.mlir.poison : T`` (lowered like undef: zeros)."""

    name = "llvm.mlir.poison"
    res = result_def()
    assembly_format = "attr-dict `:` type($res)"


@irdl_op_definition
class ComdatOp(IRDLOperation):
    """``llvm.comdat @table { llvm.comdat_selector @f any }``: linker information."""

    name = "llvm.comdat"
    sym_name = prop_def(StringAttr)
    body = region_def()
    traits = traits_def(NoTerminator(), SymbolOpInterface())

    @classmethod
    def parse(cls, parser: Parser) -> ComdatOp:
        name = parser.parse_symbol_name()
        region = parser.parse_region()
        return cls.create(properties={"sym_name": name}, regions=[region])

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=False, print_block_terminators=False)


@irdl_op_definition
class ComdatSelectorOp(IRDLOperation):
    """``llvm.comdat_selector @f any``"""

    name = "llvm.comdat_selector"
    sym_name = prop_def(StringAttr)
    comdat = prop_def(StringAttr)
    traits = traits_def(SymbolOpInterface())

    @classmethod
    def parse(cls, parser: Parser) -> ComdatSelectorOp:
        name = parser.parse_symbol_name()
        kind = parser.parse_identifier()
        return cls.create(properties={"sym_name": name, "comdat": StringAttr(kind)})

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        printer.print_string(f" {self.comdat.data}")


@irdl_op_definition
class MemsetOp(IRDLOperation):
    """``"llvm.intr.memset"(%dst, %byte, %len) <{isVolatile = false}>``"""

    name = "llvm.intr.memset"
    dst = operand_def(LLVMPointerType)
    val = operand_def()
    len = operand_def()
    isVolatile = prop_def(IntegerAttr)
    arg_attrs = opt_prop_def(ArrayAttr)


@irdl_op_definition
class MemcpyOp(IRDLOperation):
    """``"llvm.intr.memcpy"(%dst, %src, %len) <{isVolatile = false}>``"""

    name = "llvm.intr.memcpy"
    dst = operand_def(LLVMPointerType)
    src = operand_def(LLVMPointerType)
    len = operand_def()
    isVolatile = prop_def(IntegerAttr)
    arg_attrs = opt_prop_def(ArrayAttr)


@irdl_op_definition
class LifetimeStartOp(IRDLOperation):
    name = "llvm.intr.lifetime.start"
    ptr = operand_def(LLVMPointerType)
    size = opt_prop_def(IntegerAttr)


@irdl_op_definition
class LifetimeEndOp(IRDLOperation):
    name = "llvm.intr.lifetime.end"
    ptr = operand_def(LLVMPointerType)
    size = opt_prop_def(IntegerAttr)


class _DbgOp(IRDLOperation):
    """``llvm.intr.dbg.value #var = %x : f64``: debug information."""

    varInfo = prop_def(Attribute)
    value = operand_def()

    @classmethod
    def parse(cls, parser: Parser) -> _DbgOp:
        var = parser.parse_attribute()
        expr = None
        if parser.parse_optional_punctuation("=") is None:
            expr = parser.parse_attribute()
            parser.parse_punctuation("=")
        pos = parser.pos
        value = parser.parse_unresolved_operand()
        parser.parse_punctuation(":")
        (value,) = parser.resolve_operands([value], [parser.parse_type()], pos)
        props = {"varInfo": var} | ({"locationExpr": expr} if expr is not None else {})
        return cls.create(operands=[value], properties=props)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_attribute(self.varInfo)
        printer.print_string(" = ")
        printer.print_operand(self.value)
        printer.print_string(" : ")
        printer.print_attribute(self.value.type)


@irdl_op_definition
class DbgValueOp(_DbgOp):
    name = "llvm.intr.dbg.value"
    locationExpr = opt_prop_def(Attribute)


@irdl_op_definition
class DbgDeclareOp(_DbgOp):
    name = "llvm.intr.dbg.declare"
    locationExpr = opt_prop_def(Attribute)


@irdl_op_definition
class NoAliasScopeDeclOp(IRDLOperation):
    """``llvm.intr.experimental.noalias.scope.decl #scope``"""

    name = "llvm.intr.experimental.noalias.scope.decl"
    scope = prop_def(Attribute)
    assembly_format = "$scope attr-dict"


@irdl_op_definition
class TrapOp(IRDLOperation):
    name = "llvm.intr.trap"
    assembly_format = "attr-dict"


class _Opaque(ParametrizedAttribute):
    """An llvm attribute zymase keeps as text (debug info, alias scopes): it carries no
    meaning for values."""

    body: StringAttr

    @classmethod
    def parse_parameters(cls, parser) -> list[Attribute]:  # type: ignore[override]
        return [StringAttr(parser._parse_dialect_symbol_body())]  # noqa: SLF001  (raw balanced text)

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(f"<{self.body.data}>")


def _opaque(mnemonic: str) -> type[_Opaque]:
    cls = type(f"Opaque_{mnemonic}", (_Opaque,), {"name": f"llvm.{mnemonic}", "__annotations__": {"body": StringAttr}})
    return irdl_attr_definition(cls)


OPAQUE_ATTRIBUTES = tuple(
    _opaque(m)
    for m in (
        "di_file",
        "di_compile_unit",
        "di_subprogram",
        "di_local_variable",
        "di_basic_type",
        "di_subroutine_type",
        "di_lexical_block",
        "di_expression",
        "di_derived_type",
        "di_composite_type",
        "alias_scope_domain",
        "alias_scope",
        "tbaa_root",
        "tbaa_type_desc",
        "tbaa_tag",
    )
)

ARITH_LIKE = (
    _llvm.FAddOp, _llvm.FSubOp, _llvm.FMulOp, _llvm.FDivOp, _llvm.FNegOp, _llvm.SelectOp,
    _llvm.AddOp, _llvm.SubOp, _llvm.MulOp, _llvm.SDivOp, _llvm.UDivOp, _llvm.SRemOp, _llvm.URemOp,
    _llvm.AndOp, _llvm.OrOp, _llvm.XOrOp, _llvm.SExtOp, _llvm.ZExtOp, _llvm.TruncOp,
    _llvm.SIToFPOp, _llvm.FPExtOp, _llvm.FPTruncOp, _llvm.ICmpOp, _llvm.FCmpOp,
    _llvm.FAbsOp, _llvm.FSqrtOp, _llvm.FExpOp, _llvm.FLogOp, _llvm.FSinOp, _llvm.FCosOp,
    _llvm.FExp2Op, _llvm.FLog2Op, _llvm.FFloorOp, _llvm.FCeilOp, _llvm.FPowOp, _llvm.FMAOp, _llvm.FCopySignOp,
)  # fmt: skip
"""llvm ops lowered one for one into arith / math (``ir/lower_llvm.py``)."""

UNMAPPED = (_llvm.IntToPtrOp, _llvm.PtrToIntOp, _llvm.GlobalOp, _llvm.AddressOfOp, _llvm.UnreachableOp, _llvm.BitcastOp)
"""Parsed so that lowering can refuse them by name."""

OPS = (
    FuncOp, ReturnOp, CallOp, AllocaOp, LoadOp, StoreOp, GEPOp, ConstantOp, UndefOp, PoisonOp, ZeroOp,
    ExtractValueOp, InsertValueOp, MemsetOp, MemcpyOp, ComdatOp, ComdatSelectorOp,
    LifetimeStartOp, LifetimeEndOp, DbgValueOp, DbgDeclareOp, NoAliasScopeDeclOp, TrapOp,
    *ARITH_LIKE, *UNMAPPED,
)  # fmt: skip

_TYPES = [a for a in _llvm.LLVM.attributes if issubclass(a, TypeAttribute)] + [a for a in _llvm.LLVM.attributes if not issubclass(a, TypeAttribute)]
LLVM = Dialect("llvm", list(OPS), [*_TYPES, *OPAQUE_ATTRIBUTES])


@irdl_op_definition
class PtrSizeHintOp(IRDLOperation):
    """``llvm_ext.ptr_size_hint %p, %size : !llvm.ptr, i64``: how much memory a pointer
    reaches; a hint, dropped by the lowering."""

    name = "llvm_ext.ptr_size_hint"
    ptr = operand_def(LLVMPointerType)
    size = operand_def()
    assembly_format = "$ptr `,` $size attr-dict `:` type($ptr) `,` type($size)"


LLVMExt = Dialect("llvm_ext", [PtrSizeHintOp], [])


__all__ = ["LLVM", "LLVMExt", "OPS"]
