"""zymase's IR: StableHLO, chlo, enzyme, matrix (linear algebra, ``ir/linalg.py``) and
host (callbacks, ``ir/host.py``) dialects on xDSL, next to xDSL's builtin, func, arith,
math, scf and tensor dialects; IR queries shared by every package are in ``ir/query.py``.

``make_context()`` gives a context with every dialect zymase understands;
``parse_module`` / ``print_module`` read and write MLIR text. Both forms are read, mixed
freely: the generic form (``"stablehlo.add"(%a, %b) : (...) -> ...``) and StableHLO's
custom assembly syntax as ``jax.jit(f).lower(x).as_text()`` prints it
(``stablehlo.add %a, %b : tensor<4xf32>``). ``print_module(m, generic=False)`` writes
the custom form the way MLIR does (``module``, ``return`` and ``call`` inside
``func.func``, NaN and infinities as hex bit patterns).

JAX's text with locations (``as_text(debug_info=True)``) defines its ``#locN`` aliases at
the end of the file; ``parse_module`` reads them first, so such text parses as is.
"""

from __future__ import annotations

import io
import math as _stdmath  # not `math`: the package's submodule zymase.ir.math would replace that name
import re

import importlib
from collections.abc import Callable
from typing import Any

from xdsl.context import Context
from xdsl.dialects.builtin import AnyFloat, ArrayAttr, FileLineColLoc, FloatAttr, IntegerAttr, ModuleOp, f64, i64
from xdsl.parser import AttrParser, Parser
from xdsl.utils.mlir_lexer import MLIRTokenKind
from xdsl.ir import Attribute, Dialect, Operation
from xdsl.printer import Printer

from . import accessors  # noqa: F401  (op.lhs, op.result & co. in one step: accessors.py)
from . import asm


def _patch_hex_float_literals() -> None:
    """MLIR reads a hexadecimal literal in a float tensor as the element's bit pattern
    (``dense<0x7FC00000> : tensor<f32>`` is NaN, ``0xFF800000`` is -inf); xDSL 0.74 reads
    it as an integer value. JAX prints NaN and infinities this way, so we fix it here."""
    element = AttrParser._TensorLiteralElement
    if getattr(element, "_zymase_hex", False):
        return
    original = element.to_type

    def to_type(self, parser, type):  # type: ignore[no-untyped-def]
        text = self.span.text
        if isinstance(type, AnyFloat) and text[:2] in ("0x", "0X"):
            size = type.compile_time_size
            return type.unpack(int(text, 16).to_bytes(size, "little"), 1)[0]
        return original(self, parser, type)

    element.to_type = to_type
    element._zymase_hex = True


_patch_hex_float_literals()


def _patch_location_ranges() -> None:
    """MLIR's file locations may carry a range end (``loc("f.py":3:9 to :16)``, ``to 4:2``),
    which JAX prints; xDSL 0.74 reads only ``"file":line:col``. We read the range and keep
    its start."""
    if getattr(AttrParser, "_zymase_ranges", False):
        return
    original = AttrParser._parse_location

    def parse_location(self):  # type: ignore[no-untyped-def]
        loc = original(self)
        if isinstance(loc, FileLineColLoc) and self.parse_optional_keyword("to") is not None:
            if self.parse_optional_punctuation(":") is None:
                self.parse_integer(False, False)
                self.parse_punctuation(":")
            self.parse_integer(False, False)
        return loc

    AttrParser._parse_location = parse_location
    AttrParser._zymase_ranges = True


_patch_location_ranges()

from .dense import install_splat_parsing  # noqa: E402  (splats stay one element when parsed)

install_splat_parsing()


DIALECTS: dict[str, tuple[str, str]] = {
    "builtin": ("xdsl.dialects.builtin", "Builtin"),
    "func": ("xdsl.dialects.func", "Func"),
    "arith": ("xdsl.dialects.arith", "Arith"),
    "math": ("zymase.ir.math", "Math"),  # xDSL's, with math.erfc and math.sincos
    "scf": ("zymase.ir.scf", "Scf"),  # xDSL's, with MLIR's bare result types and scf.parallel syntax
    "tensor": ("xdsl.dialects.tensor", "Tensor"),
    "stablehlo": ("zymase.ir.stablehlo", "StableHLO"),
    "chlo": ("zymase.ir.chlo", "CHLO"),
    "enzyme": ("zymase.ir.enzyme", "Enzyme"),
    "host": ("zymase.ir.host", "Host"),
    "matrix": ("zymase.ir.linalg", "Matrix"),
    "memref": ("zymase.ir.memref", "MemRef"),
    "ub": ("zymase.ir.ub", "UB"),
    "affine": ("zymase.ir.affine", "Affine"),
    "llvm": ("zymase.ir.llvm", "LLVM"),
    "llvm_ext": ("zymase.ir.llvm", "LLVMExt"),
    "cf": ("zymase.ir.cf", "Cf"),  # xDSL's; multi-block regions are structured into scf (ir/lower.py)
    "complex": ("xdsl.dialects.complex", "Complex"),  # xDSL's: complex scalars (backend/complex_ops.py, ad/rules/complex_scalar.py)
    "shardy": ("zymase.ir.sdy", "Shardy"),
}
"""The dialects zymase understands: name -> (module, dialect object), in load order."""

_SDY_HOLDERS = ("stablehlo", "host", "shardy")
"""The dialect objects the Shardy ops and attributes (``sdy.*``) ride along in."""


def _dialect_object(name: str) -> Dialect:
    module, attr = DIALECTS[name]
    return getattr(importlib.import_module(module), attr)


def _dialect_by_prefix(prefix: str) -> Dialect:
    """The ops and attributes named ``<prefix>.*`` of zymase's dialects, as one dialect:
    what a lazily registered context loads when the parser first meets the prefix (the
    stablehlo and host objects also hold ``sdy.*`` names, which get a dialect of their own)."""
    if prefix not in (*_SDY_HOLDERS, "sdy"):
        return _dialect_object(prefix)
    holders = [_dialect_object(n) for n in (_SDY_HOLDERS if prefix == "sdy" else (prefix,))]
    start = prefix + "."
    ops = [op for d in holders for op in d.operations if op.name.startswith(start)]
    attrs = [a for d in holders for a in d.attributes if a.name.startswith(start)]
    return Dialect(prefix, ops, attrs)


def _factory(prefix: str) -> Callable[[], Dialect]:
    return lambda: _dialect_by_prefix(prefix)


def register_dialects(ctx: Context) -> None:
    """Register zymase's dialects in ``ctx`` by name, each imported and loaded when the
    parser (or ``ctx.get_op``) first meets one of its names."""
    for prefix in (*DIALECTS, "sdy"):
        ctx.register_dialect(prefix, _factory(prefix))


def make_context(allow_unregistered: bool = False, lazy: bool = False) -> Context:
    """A context with every dialect zymase understands. ``lazy=True`` registers each one
    by name (``sdy`` too) and imports and loads it when the parser first meets one of its
    ops, attributes or types: parsing then imports only the dialects the text uses
    (zymase-opt's start-up; ``parse_module``'s default)."""
    ctx = Context(allow_unregistered=allow_unregistered)
    if lazy:
        register_dialects(ctx)
        return ctx
    for name in DIALECTS:
        ctx.load_dialect(_dialect_object(name))
    return ctx


def parse_module(text: str, name: str = "<input>", ctx: Context | None = None, parser_class: type[Parser] = Parser) -> ModuleOp:
    """Parse MLIR text (generic or custom form, mixed) into a module; errors carry line:col.
    Without ``ctx``, a lazily registered context: only the dialects the text uses are imported."""
    ctx = ctx or make_context(lazy=True)
    text, aliases = _trailing_aliases(text, name, ctx)
    parser = parser_class(ctx, text, name)
    parser.attribute_aliases.update(aliases)
    return parser.parse_module()


_ALIAS_DEF = re.compile(r"#[A-Za-z_][\w.$-]*\s*=")


def _trailing_aliases(text: str, name: str, ctx: Context) -> tuple[str, dict]:
    """Attribute aliases defined after the first operation (MLIR puts its location
    aliases ``#loc3 = loc(...)`` at the end): parsed first, and blanked out of the text
    (lines and columns stay put)."""
    if "#" not in text:
        return text, {}
    lines = text.split("\n")
    started = False
    hoisted: list[int] = []
    for i, line in enumerate(lines):
        if not started:
            stripped = line.strip()
            started = bool(stripped) and not stripped.startswith(("//", "#", "!"))
            continue
        if line.startswith("#") and _ALIAS_DEF.match(line):
            hoisted.append(i)
    if not hoisted:
        return text, {}
    alias_lines = [""] * len(lines)
    for i in hoisted:
        alias_lines[i] = lines[i]
        lines[i] = ""
    alias_parser = Parser(ctx, "\n".join(alias_lines), name)
    while alias_parser._current_token.kind != MLIRTokenKind.EOF:
        alias_parser._parse_alias_def()
    return "\n".join(lines), alias_parser.attribute_aliases


class MlirPrinter(Printer):
    """xDSL's printer, writing op names and special floats as MLIR does: builtin ops
    without ``builtin.`` and func ops directly inside ``func.func`` without ``func.``
    (custom form only); NaN and infinities as upper-case hex bit patterns."""

    _rename: tuple[str, str] | None = None

    def print_op(self, op: Operation) -> None:
        if not self.print_generic_format and type(op).print is not Operation.print:
            short = _short_name(op)
            if short is not None:
                self._rename = (op.name, short)
        try:
            super().print_op(op)
        finally:
            self._rename = None

    def print_string(self, text: str, *, indent: int | None = None) -> None:
        rename = self._rename
        if rename is not None and text == rename[0]:
            self._rename = None
            text = rename[1]
        super().print_string(text, indent=indent)

    def print_attribute(self, attribute: Attribute) -> None:
        # In arrays MLIR leaves out the default types: [1, 2] (i64), [1.500000e+00] (f64).
        if isinstance(attribute, ArrayAttr):
            self.print_string("[")
            for i, item in enumerate(attribute.data):
                if i:
                    self.print_string(", ")
                if isinstance(item, IntegerAttr) and item.type == i64:
                    self.print_string(str(item.value.data))
                elif isinstance(item, FloatAttr) and item.type == f64:
                    self.print_float(item.value.data, f64)
                else:
                    self.print_attribute(item)
            self.print_string("]")
            return
        super().print_attribute(attribute)

    def print_float(self, value: float, type: AnyFloat) -> None:
        bits = _PRECISION_BITS.get(type.name)
        if bits is None:
            super().print_float(value, type)
            return
        text = None
        if not (_stdmath.isnan(value) or _stdmath.isinf(value)):
            text = asm.mlir_float_text(value, bits, lambda t: type.unpack(type.pack((float(t),)), 1)[0] == value)
        self.print_string(text if text is not None else "0x" + type.pack((value,))[::-1].hex().upper())


_PRECISION_BITS = {"f16": 11, "bf16": 8, "f32": 24, "f64": 53}


def _short_name(op: Operation) -> str | None:
    name = op.name
    if name.startswith("builtin."):
        return name[len("builtin.") :]
    if name.startswith("func.") and (parent := op.parent_op()) is not None and parent.name == "func.func":
        return name[len("func.") :]
    return None


def print_module(module: ModuleOp, generic: bool = True, debuginfo: bool = False) -> str:
    """MLIR text of ``module``: the generic form, or with ``generic=False`` the custom
    form (StableHLO's assembly syntax, as ``jax.jit(f).lower(x).as_text()`` prints it)."""
    out = io.StringIO()
    MlirPrinter(stream=out, print_generic_format=generic, print_debuginfo=debuginfo).print_op(module)
    out.write("\n")
    return out.getvalue()


def __getattr__(name: str) -> Any:
    """``zymase.ir.stablehlo`` & co. without importing them at ``import zymase.ir``."""
    if name in ("stablehlo", "chlo", "enzyme", "host", "linalg", "attributes", "builder", "dense", "query"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DIALECTS", "make_context", "register_dialects", "parse_module", "print_module", "MlirPrinter", "stablehlo", "chlo"]
