"""zymase's IR: StableHLO, chlo and enzyme dialects on xDSL, next to xDSL's builtin, func,
arith, math and scf dialects.

``make_context()`` gives a context with every dialect zymase understands;
``parse_module`` / ``print_module`` read and write MLIR text.
"""

from __future__ import annotations

import io

from xdsl.context import Context
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import AnyFloat, Builtin, ModuleOp
from xdsl.dialects.func import Func
from xdsl.dialects.math import Math
from xdsl.dialects.scf import Scf
from xdsl.parser import AttrParser, Parser
from xdsl.printer import Printer

from . import chlo, stablehlo
from .chlo import CHLO
from .stablehlo import StableHLO


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


def make_context(allow_unregistered: bool = False) -> Context:
    from .enzyme import Enzyme

    ctx = Context(allow_unregistered=allow_unregistered)
    for dialect in (Builtin, Func, Arith, Math, Scf, StableHLO, CHLO, Enzyme):
        ctx.load_dialect(dialect)
    return ctx


def parse_module(text: str, name: str = "<input>", ctx: Context | None = None) -> ModuleOp:
    """Parse MLIR text (generic or custom form) into a module; errors carry line:col."""
    parser = Parser(ctx or make_context(), text, name)
    module = parser.parse_module()
    return module


def print_module(module: ModuleOp, generic: bool = True) -> str:
    out = io.StringIO()
    Printer(stream=out, print_generic_format=generic).print_op(module)
    out.write("\n")
    return out.getvalue()


__all__ = ["make_context", "parse_module", "print_module", "stablehlo", "chlo"]
