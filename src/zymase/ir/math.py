"""xDSL's math dialect with two ops of MLIR's it lacks: ``math.erfc`` and
``math.sincos`` (``%s, %c = math.sincos %x : f64``, both results of the operand's
type).

``math.erfc`` is an elementwise op with its own emitter (``backend/math_ops.py``) and
derivative (``ad/rules/math_extra.py``). ``math.sincos`` is rewritten by
``lower_sincos`` into ``math.sin`` and ``math.cos`` of the same operand before zymase
runs or differentiates a module (``ir/lower.py``): the same values, so the derivative
is exact.
"""

from __future__ import annotations

from xdsl.dialects import math as _xmath
from xdsl.dialects.arith import FastMathFlagsAttr
from xdsl.ir import Dialect, Operation
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, prop_def, result_def, traits_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.rewriter import Rewriter
from xdsl.traits import Pure


@irdl_op_definition
class ErfcOp(_xmath.FloatingPointLikeUnaryMathOperation):
    """``math.erfc %x : T``: the complementary error function 1 - erf(x)."""

    name = "math.erfc"
    traits = traits_def(Pure())


@irdl_op_definition
class SincosOp(IRDLOperation):
    """``%s, %c = math.sincos %x [fastmath<...>] : T``: sin(x) and cos(x)."""

    name = "math.sincos"
    operand = operand_def()
    sin = result_def()
    cos = result_def()
    fastmath = prop_def(FastMathFlagsAttr, default_value=FastMathFlagsAttr("none"))
    traits = traits_def(Pure())

    def __init__(self, operand, fastmath: FastMathFlagsAttr | None = None):
        super().__init__(operands=[operand], result_types=[operand.type, operand.type], properties={"fastmath": fastmath or FastMathFlagsAttr("none")})

    @classmethod
    def parse(cls, parser: Parser) -> SincosOp:
        x = parser.parse_unresolved_operand()
        fm = None
        if parser.parse_optional_keyword("fastmath") is not None:
            fm = FastMathFlagsAttr.parse_parameter(parser) if hasattr(FastMathFlagsAttr, "parse_parameter") else None
            fm = FastMathFlagsAttr(fm) if fm is not None and not isinstance(fm, FastMathFlagsAttr) else fm
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        t = parser.parse_type()
        (x,) = parser.resolve_operands([x], [t], parser.pos)
        op = cls(x, fm)
        op.attributes |= attrs
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.operand)
        printer.print_string(" : ")
        printer.print_attribute(self.operand.type)


Math = Dialect("math", [*_xmath.Math.operations, ErfcOp, SincosOp], list(_xmath.Math.attributes))


def lower_sincos(module: Operation) -> bool:
    todo = [op for op in module.walk() if isinstance(op, SincosOp)]
    for op in todo:
        s = _xmath.SinOp(op.operand)
        c = _xmath.CosOp(op.operand)
        Rewriter.replace_op(op, [s, c], new_results=[s.result, c.result])
    return bool(todo)


__all__ = ["Math", "ErfcOp", "SincosOp", "lower_sincos"]
