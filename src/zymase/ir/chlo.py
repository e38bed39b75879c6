"""The client HLO (chlo) ops JAX emits for special functions and a few decompositions."""

from __future__ import annotations

from xdsl.dialects.builtin import IntegerAttr, TensorType
from xdsl.ir import Dialect, Operation
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, prop_def, result_def, traits_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import Pure

from . import asm
from .stablehlo import BinaryElementwiseOp, UnaryElementwiseOp, _fail, _op_class, shape_of


def _parse_arrow(parser: Parser, op_type: type[Operation]) -> Operation:
    """``%a, %b attr-dict : A, B -> R`` (chlo's unary and binary ops)."""
    operands, comma = asm.parse_operands(parser)
    if comma:
        parser.raise_error("expected an operand after ','")
    properties, attributes = asm.parse_attr_dict(parser, op_type)
    parser.parse_punctuation(":")
    ins = asm.parse_type_list(parser)
    parser.parse_punctuation("->")
    out = parser.parse_type()
    return asm.build(op_type, asm.resolve(parser, operands, ins), (out,), properties, attributes)


def _print_arrow(printer: Printer, op: Operation) -> None:
    printer.print_string(" ")
    asm.print_operands(printer, op.operands)
    asm.print_attr_dict(printer, op)
    printer.print_string(" : ")
    asm.print_type_list(printer, op.operand_types)
    printer.print_string(" -> ")
    asm.print_type_list(printer, op.result_types)


class ChloUnaryOp(UnaryElementwiseOp):
    @classmethod
    def parse(cls, parser: Parser) -> ChloUnaryOp:
        return _parse_arrow(parser, cls)

    def print(self, printer: Printer) -> None:
        _print_arrow(printer, self)


class ChloBinaryOp(BinaryElementwiseOp):
    @classmethod
    def parse(cls, parser: Parser) -> ChloBinaryOp:
        return _parse_arrow(parser, cls)

    def print(self, printer: Printer) -> None:
        _print_arrow(printer, self)


def _unary(mnemonic: str, doc: str) -> type[UnaryElementwiseOp]:
    return _op_class("chlo", mnemonic, ChloUnaryOp, doc, __name__)


def _binary(mnemonic: str, doc: str) -> type[BinaryElementwiseOp]:
    return _op_class("chlo", mnemonic, ChloBinaryOp, doc, __name__)


ErfOp = _unary("erf", "error function")
ErfcOp = _unary("erfc", "complementary error function")
ErfInvOp = _unary("erf_inv", "inverse error function")
LgammaOp = _unary("lgamma", "log |gamma(x)|")
DigammaOp = _unary("digamma", "d/dx log gamma(x)")
SinhOp = _unary("sinh", "sinh(x)")
CoshOp = _unary("cosh", "cosh(x)")
AsinOp = _unary("asin", "arcsin(x)")
AcosOp = _unary("acos", "arccos(x)")
AtanOp = _unary("atan", "arctan(x)")
AsinhOp = _unary("asinh", "arsinh(x)")
AcoshOp = _unary("acosh", "arcosh(x)")
AtanhOp = _unary("atanh", "artanh(x)")
BesselI1eOp = _unary("bessel_i1e", "exponentially scaled modified Bessel function of order 1")
IsInfOp = _unary("is_inf", "x is +-inf")
IsNegInfOp = _unary("is_neg_inf", "x is -inf")
IsPosInfOp = _unary("is_pos_inf", "x is +inf")
SquareOp = _unary("square", "x * x (jnp.square, x ** 2)")
ConjOp = _unary("conj", "complex conjugate")
TanOp = _unary("tan", "tan(x)")
NextAfterOp = _binary("next_after", "next representable value after x toward y")
PolygammaOp = _binary("polygamma", "polygamma(n, x)")
ZetaOp = _binary("zeta", "Hurwitz zeta(x, q)")
MulhiOp = _binary("mulhi", "high half of the double-width integer product x * y")


@irdl_op_definition
class TopKOp(IRDLOperation):
    name = "chlo.top_k"
    operand = operand_def(TensorType)
    k = prop_def(IntegerAttr)
    values = result_def(TensorType)
    indices = result_def(TensorType)
    traits = traits_def(Pure())

    @classmethod
    def parse(cls, parser: Parser) -> TopKOp:
        """``(%x, k = 2) attr-dict : T -> (V, I)``"""
        parser.parse_punctuation("(")
        operand = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        asm.parse_keyword_value(parser, "k")
        k = asm.int_attr(parser.parse_integer())
        parser.parse_punctuation(")")
        properties, attributes = asm.parse_attr_dict(parser, cls)
        parser.parse_punctuation(":")
        t = parser.parse_type()
        parser.parse_punctuation("->")
        outs = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_type)
        return asm.build(cls, asm.resolve(parser, [operand], [t]), outs, {**properties, "k": k}, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string("(")
        printer.print_operand(self.operand)
        printer.print_string(f", k = {self.k.value.data})")
        asm.print_attr_dict(printer, self, elide=("k",))
        printer.print_string(" : ")
        printer.print_attribute(self.operand.type)
        printer.print_string(" -> (")
        asm.print_type_list(printer, self.result_types)
        printer.print_string(")")

    def verify_(self) -> None:
        src, k = shape_of(self.operand), self.k.value.data
        if not src:
            _fail(self, f"requires an operand of rank >= 1")
        if not 0 <= k <= src[-1]:
            _fail(self, f"k = {k} is out of range for a last dimension of size {src[-1]}")
        expect = (*src[:-1], k)
        for label, r in (("values", self.values), ("indices", self.indices)):
            if shape_of(r) != expect:
                _fail(self, f"{label} has shape {shape_of(r)}, expected {expect}")


CHLO_OPS = [
    v
    for v in list(globals().values())
    if isinstance(v, type) and issubclass(v, IRDLOperation) and isinstance(getattr(v, "name", None), str) and v.name.startswith("chlo.")
]

CHLO = Dialect("chlo", CHLO_OPS, [])
