"""The StableHLO dialect on xDSL: the ops JAX emits for ordinary programs.

Field names follow the StableHLO specification (``operand``, ``lhs``/``rhs``,
``broadcast_dimensions``, ...). Result types are checked where that is cheap (O(rank)):
elementwise shapes, compare, select, clamp, constant, iota, broadcast_in_dim, reshape,
transpose, slice, dynamic_slice, dynamic_update_slice, concatenate, pad, reverse,
dot_general, reduce, sort, while. A verifier error names the op and, when known, its
source location: ``'stablehlo.pad' op at f.py:3:9: ...``.

Besides StableHLO, the dialect object registers the one Shardy op JAX puts in ordinary
single-device programs (``sdy.mesh``, from host callbacks and ``jax.debug.print``) and
Shardy's attributes, all kept opaque (see ``attributes.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import ClassVar, NamedTuple

from xdsl.dialects.builtin import (
    ArrayAttr,
    BoolAttr,
    ComplexType,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    FileLineColLoc,
    FlatSymbolRefAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
    TensorType,
    TupleType,
    UnitAttr,
    i1,
    i64,
)
from xdsl.ir import Attribute, Block, Dialect, Operation, ParametrizedAttribute, Region, SSAValue, TypeAttribute
from xdsl.irdl import (
    IRDLOperation,
    SameVariadicOperandSize,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_region_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import Commutative, IsTerminator, NoMemoryEffect, Pure, RecursiveMemoryEffect, SymbolOpInterface
from xdsl.utils.exceptions import VerifyException

from . import asm
from .dense import dense_from_numpy, dense_to_numpy
from .query import element_type, region_combiner
from .query import shape as shape_of
from .attributes import (
    SDY_ATTRIBUTES,
    STABLEHLO_ATTRIBUTES,
    ChannelHandleAttr,
    ComparisonDirection,
    ComparisonDirectionAttr,
    ComparisonType,
    ComparisonTypeAttr,
    ConvDimensionNumbersAttr,
    DotAlgorithmAttr,
    DotDimensionNumbersAttr,
    FftType,
    FftTypeAttr,
    GatherDimensionNumbersAttr,
    Precision,
    PrecisionAttr,
    ResultAccuracy,
    ResultAccuracyAttr,
    RngAlgorithm,
    RngAlgorithmAttr,
    RngDistribution,
    RngDistributionAttr,
    ScatterDimensionNumbersAttr,
    SdyMeshAttr,
    TransposeAttr,
)


def i64_array(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


def _fail(op: IRDLOperation, message: str) -> None:
    loc = op.location
    where = f" at {loc.filename.data}:{loc.line.data}:{loc.column.data}" if isinstance(loc, FileLineColLoc) else ""
    raise VerifyException(f"'{op.name}' op{where}: {message}")


# ----------------------------------------------------------------- custom syntax helpers
#
# Keyword arguments after the operands (``%x, dims = [1, 0]``): each keyword names a
# property and a codec that reads and writes its value.


class _Codec(NamedTuple):
    parse: Callable[[Parser], Attribute]
    text: Callable[[Attribute], str]


def _ints(values: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def _enum(attr_type: type, enum_type: type) -> _Codec:
    return _Codec(lambda p: attr_type(p.parse_str_enum(enum_type)), lambda a: a.data.value)


_array = _Codec(lambda p: asm.i64_array(asm.parse_int_list(p)), lambda a: _ints(a.get_values()))
_i64 = _Codec(lambda p: asm.int_attr(p.parse_integer()), lambda a: str(a.value.data))
_bool = _Codec(lambda p: BoolAttr.from_bool(p.parse_boolean()), lambda a: "true" if a.value.data else "false")

_PAD_KEYWORDS = {"low": ("edge_padding_low", _array), "high": ("edge_padding_high", _array), "interior": ("interior_padding", _array)}
_FFT_KEYWORDS = {"type": ("fft_type", _enum(FftTypeAttr, FftType)), "length": ("fft_length", _array)}
_RNG_KEYWORDS = {"distribution": ("rng_distribution", _enum(RngDistributionAttr, RngDistribution))}
_RNG_BIT_KEYWORDS = {"algorithm": ("rng_algorithm", _enum(RngAlgorithmAttr, RngAlgorithm))}
_CONV_WINDOW = {"stride": "window_strides", "pad": "padding", "lhs_dilate": "lhs_dilation", "rhs_dilate": "rhs_dilation", "reverse": "window_reversal"}
_DEFAULT_ACCURACY = {"result_accuracy": ResultAccuracyAttr(ResultAccuracy())}
_CUSTOM_CALL_DEFAULTS = {
    "api_version": IntegerAttr(1, IntegerType(32)),
    "has_side_effect": BoolAttr.from_bool(False),
    "called_computations": ArrayAttr([]),
    "output_operand_aliases": ArrayAttr([]),
}
_COMPOSITE_DEFAULTS = {"version": IntegerAttr(0, IntegerType(32)), "composite_attributes": DictionaryAttr({})}


def _parse_with_keywords(
    parser: Parser,
    op_type: type[IRDLOperation],
    keywords: dict[str, tuple[str, _Codec]],
    required: Sequence[str] = (),
    functional: bool = False,
) -> IRDLOperation:
    """``%a, %b, key = value, ... attr-dict : type``"""
    operands, comma = asm.parse_operands(parser)
    values = asm.keyword_args(parser, comma, {key: (lambda codec=codec: codec.parse(parser)) for key, (_, codec) in keywords.items()}, required)
    properties, attributes = asm.parse_attr_dict(parser, op_type)
    for key, value in values.items():
        properties[keywords[key][0]] = value
    if functional:
        ft = asm.parse_functional_type(parser)
        ins, outs = ft.inputs.data, ft.outputs.data
    else:
        ins, outs = asm.parse_same_type(parser, len(operands), 1)
    return asm.build(op_type, asm.resolve(parser, operands, ins), outs, properties, attributes)


def _print_with_keywords(printer: Printer, op: IRDLOperation, keywords: dict[str, tuple[str, _Codec]], functional: bool = False) -> None:
    printer.print_string(" ")
    asm.print_operands(printer, op.operands)
    for key, (name, codec) in keywords.items():
        value = op.properties.get(name)
        if value is not None:
            printer.print_string(f", {key} = {codec.text(value)}")
    asm.print_attr_dict(printer, op, elide=[name for name, _ in keywords.values()])
    (asm.print_functional_type if functional else asm.print_same_type)(printer, op)


def _parse_nullary(parser: Parser, op_type: type[IRDLOperation]) -> IRDLOperation:
    """``attr-dict : T``"""
    properties, attributes = asm.parse_attr_dict(parser, op_type)
    parser.parse_punctuation(":")
    return asm.build(op_type, (), (parser.parse_type(),), properties, attributes)


def _print_nullary(printer: Printer, op: IRDLOperation) -> None:
    asm.print_attr_dict(printer, op)
    printer.print_string(" : ")
    printer.print_attribute(op.results[0].type)


def _scalar_combiner(region: Region, inputs: Sequence[SSAValue]) -> type[Operation] | str | None:
    """``region_combiner`` of the combiner region of a one-input op, when the region's
    arguments (and the combining op's result) are scalars of the input's element type."""
    if len(inputs) != 1 or not isinstance(inputs[0].type, TensorType):
        return None
    kind = region_combiner(region)
    if kind is None:
        return None
    block = region.block
    scalar = TensorType(element_type(inputs[0]), [])
    if any(v.type != scalar for v in (*block.args, *block.first_op.results)):
        return None
    return kind


def _compact_reduce_body(op: ReduceOp) -> Operation | None:
    """The body's one op when the body is ``return op(acc, x)`` on scalars of the input
    element type, its operands in that order and without attributes (printed
    ``applies stablehlo.add``), else None."""
    if not isinstance(op.combiner(), type):
        return None
    block = op.body.block
    inner = block.first_op
    if not inner.name.startswith("stablehlo.") or inner.attributes or inner.properties or tuple(inner.operands) != tuple(block.args):
        return None
    if op.init_values[0].type != inner.results[0].type:
        return None
    return inner


@irdl_attr_definition
class TokenType(ParametrizedAttribute, TypeAttribute):
    """``!stablehlo.token``: orders side effects (collectives, callbacks, infeed)."""

    name = "stablehlo.token"


# ----------------------------------------------------------------- elementwise


class ElementwiseOp(IRDLOperation):
    """Base of elementwise ops: all operands and results have one shape."""

    def verify_(self) -> None:
        shapes = {shape_of(v) for v in (*self.operands, *self.results) if isinstance(v.type, TensorType)}
        if len(shapes) > 1:
            _fail(self, f"requires all operands and results to have the same shape, got {sorted(shapes)}")


class UnaryElementwiseOp(ElementwiseOp):
    operand = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, operand: SSAValue, result_type: Attribute | None = None):
        super().__init__(operands=[operand], result_types=[result_type or SSAValue.get(operand).type])

    @classmethod
    def parse(cls, parser: Parser) -> UnaryElementwiseOp:
        return asm.parse_simple(parser, cls)

    def print(self, printer: Printer) -> None:
        asm.print_simple(printer, self)


class TranscendentalUnaryOp(UnaryElementwiseOp):
    """Unary ops whose accuracy may be requested (``result_accuracy``, e.g. from
    ``lax.exp(x, accuracy=...)``)."""

    result_accuracy = opt_prop_def(ResultAccuracyAttr)

    def print(self, printer: Printer) -> None:
        asm.print_simple(printer, self, defaults=_DEFAULT_ACCURACY)


class BinaryElementwiseOp(ElementwiseOp):
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, lhs: SSAValue, rhs: SSAValue, result_type: Attribute | None = None):
        super().__init__(operands=[lhs, rhs], result_types=[result_type or SSAValue.get(lhs).type])

    @classmethod
    def parse(cls, parser: Parser) -> BinaryElementwiseOp:
        return asm.parse_simple(parser, cls)

    def print(self, printer: Printer) -> None:
        asm.print_simple(printer, self)


class CommutativeBinaryOp(BinaryElementwiseOp):
    traits = traits_def(Pure(), Commutative())


def _op_class(dialect: str, mnemonic: str, base: type[IRDLOperation], doc: str, module: str) -> type[IRDLOperation]:
    """The op ``<dialect>.<mnemonic>``: a class ``<Mnemonic>Op`` (``round_nearest_even``:
    ``RoundNearestEvenOp``) of ``module`` deriving from ``base``."""
    cls = type(
        "".join(p.capitalize() for p in mnemonic.split("_")) + "Op",
        (base,),
        {"name": f"{dialect}.{mnemonic}", "__doc__": doc, "__module__": module},
    )
    return irdl_op_definition(cls)


def _unary(mnemonic: str, doc: str, transcendental: bool = False) -> type[UnaryElementwiseOp]:
    return _op_class("stablehlo", mnemonic, TranscendentalUnaryOp if transcendental else UnaryElementwiseOp, doc, __name__)


def _binary(mnemonic: str, doc: str, commutative: bool = False) -> type[BinaryElementwiseOp]:
    return _op_class("stablehlo", mnemonic, CommutativeBinaryOp if commutative else BinaryElementwiseOp, doc, __name__)


AbsOp = _unary("abs", "|x|")
NegateOp = _unary("negate", "-x")
SignOp = _unary("sign", "sign(x)")
FloorOp = _unary("floor", "floor(x)")
CeilOp = _unary("ceil", "ceil(x)")
RoundNearestEvenOp = _unary("round_nearest_even", "round half to even")
RoundNearestAfzOp = _unary("round_nearest_afz", "round half away from zero")
ExponentialOp = _unary("exponential", "exp(x)", transcendental=True)
ExponentialMinusOneOp = _unary("exponential_minus_one", "exp(x) - 1", transcendental=True)
LogOp = _unary("log", "log(x)", transcendental=True)
LogPlusOneOp = _unary("log_plus_one", "log(1 + x)", transcendental=True)
LogisticOp = _unary("logistic", "1 / (1 + exp(-x))", transcendental=True)
SqrtOp = _unary("sqrt", "sqrt(x)", transcendental=True)
RsqrtOp = _unary("rsqrt", "1 / sqrt(x)", transcendental=True)
CbrtOp = _unary("cbrt", "cube root", transcendental=True)
SineOp = _unary("sine", "sin(x)", transcendental=True)
CosineOp = _unary("cosine", "cos(x)", transcendental=True)
TanOp = _unary("tan", "tan(x)", transcendental=True)
TanhOp = _unary("tanh", "tanh(x)", transcendental=True)
NotOp = _unary("not", "bitwise / logical not")
PopcntOp = _unary("popcnt", "population count")
CountLeadingZerosOp = _unary("count_leading_zeros", "leading zero bits")
IsFiniteOp = _unary("is_finite", "x is neither inf nor nan (i1 result)")
RealOp = _unary("real", "real part")
ImagOp = _unary("imag", "imaginary part")
ConvertOp = _unary("convert", "element type conversion")

AddOp = _binary("add", "x + y", commutative=True)
SubtractOp = _binary("subtract", "x - y")
MultiplyOp = _binary("multiply", "x * y", commutative=True)
DivideOp = _binary("divide", "x / y")
MaximumOp = _binary("maximum", "max(x, y)", commutative=True)
MinimumOp = _binary("minimum", "min(x, y)", commutative=True)
PowerOp = _binary("power", "x ** y")
RemainderOp = _binary("remainder", "x rem y (sign of x)")
Atan2Op = _binary("atan2", "atan2(x, y)")
AndOp = _binary("and", "x & y", commutative=True)
OrOp = _binary("or", "x | y", commutative=True)
XorOp = _binary("xor", "x ^ y", commutative=True)
ShiftLeftOp = _binary("shift_left", "x << y")
ShiftRightArithmeticOp = _binary("shift_right_arithmetic", "x >> y (arithmetic)")
ShiftRightLogicalOp = _binary("shift_right_logical", "x >> y (logical)")
@irdl_op_definition
class ComplexOp(BinaryElementwiseOp):
    """x + i*y. Custom syntax ``%x, %y : tensor<..xcomplex<f32>>`` when the operands are
    the result's real parts."""

    name = "stablehlo.complex"

    @classmethod
    def parse(cls, parser: Parser) -> ComplexOp:
        operands, comma = asm.parse_operands(parser)
        if len(operands) != 2 or comma:
            parser.raise_error("expected two operands")
        properties, attributes = asm.parse_attr_dict(parser, cls)
        parser.parse_punctuation(":")
        if asm.at_function_type(parser):
            ft = parser.parse_function_type()
            ins, outs = ft.inputs.data, ft.outputs.data
        else:
            pos = parser.pos
            t = parser.parse_type()
            if not isinstance(t, TensorType) or not isinstance(t.get_element_type(), ComplexType):
                parser.raise_error(f"expected a tensor of complex numbers, got {t}", pos)
            part = TensorType(t.get_element_type().element_type, t.get_shape())
            ins, outs = (part, part), (t,)
        return asm.build(cls, asm.resolve(parser, operands, ins), outs, properties, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        asm.print_operands(printer, self.operands)
        asm.print_attr_dict(printer, self)
        t = self.result.type
        if isinstance(t, TensorType) and isinstance(t.get_element_type(), ComplexType):
            part = TensorType(t.get_element_type().element_type, t.get_shape())
            if self.lhs.type == part and self.rhs.type == part:
                printer.print_string(" : ")
                printer.print_attribute(t)
                return
        asm.print_functional_type(printer, self)



def _bitwidth(t: Attribute) -> int | None:
    if isinstance(t, ComplexType):
        inner = _bitwidth(t.element_type)
        return None if inner is None else 2 * inner
    width = getattr(t, "bitwidth", None)
    return width if isinstance(width, int) else None


@irdl_op_definition
class BitcastConvertOp(IRDLOperation):
    """Reinterpret bits. Changing the element width adds (narrower result) or removes
    (wider result) a trailing dimension of size ratio, so it is elementwise only in name."""

    name = "stablehlo.bitcast_convert"
    operand = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, operand: SSAValue, result_type: Attribute):
        super().__init__(operands=[operand], result_types=[result_type])

    def verify_(self) -> None:
        src, dst = shape_of(self.operand), shape_of(self.result)
        w_src = _bitwidth(self.operand.type.get_element_type())
        w_dst = _bitwidth(self.result.type.get_element_type())
        if w_src is None or w_dst is None:
            return
        if w_src == w_dst:
            expect = src
        elif w_src > w_dst and w_src % w_dst == 0:
            expect = (*src, w_src // w_dst)
        elif w_dst > w_src and w_dst % w_src == 0 and src and src[-1] == w_dst // w_src:
            expect = src[:-1]
        else:
            _fail(self, f"cannot reinterpret {w_src}-bit elements of shape {src} as {w_dst}-bit elements")
        if dst != expect:
            _fail(self, f"result shape {dst} does not match the expected shape {expect}")

    @classmethod
    def parse(cls, parser: Parser) -> BitcastConvertOp:
        return asm.parse_simple(parser, cls, functional=True)

    def print(self, printer: Printer) -> None:
        asm.print_simple(printer, self, functional=True)


@irdl_op_definition
class CompareOp(ElementwiseOp):
    name = "stablehlo.compare"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    comparison_direction = prop_def(ComparisonDirectionAttr)
    compare_type = opt_prop_def(ComparisonTypeAttr)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        super().verify_()
        if self.result.type.get_element_type() != i1:
            _fail(self, f"requires a result of i1 elements, got {self.result.type}")

    @classmethod
    def parse(cls, parser: Parser) -> CompareOp:
        """``GT, %a, %b(, FLOAT)? attr-dict : (..) -> ..``"""
        direction = ComparisonDirectionAttr(parser.parse_str_enum(ComparisonDirection))
        parser.parse_punctuation(",")
        operands, comma = asm.parse_operands(parser)
        if len(operands) != 2:
            parser.raise_error("expected two operands")
        properties: dict[str, Attribute] = {"comparison_direction": direction}
        if comma:
            properties["compare_type"] = ComparisonTypeAttr(parser.parse_str_enum(ComparisonType))
        props, attributes = asm.parse_attr_dict(parser, cls)
        ft = asm.parse_functional_type(parser)
        return asm.build(cls, asm.resolve(parser, operands, ft.inputs.data), ft.outputs.data, {**props, **properties}, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(f" {self.comparison_direction.data.value}, ")
        asm.print_operands(printer, self.operands)
        if self.compare_type is not None:
            printer.print_string(f", {self.compare_type.data.value}")
        asm.print_attr_dict(printer, self, elide=("comparison_direction", "compare_type"))
        asm.print_functional_type(printer, self)


@irdl_op_definition
class SelectOp(IRDLOperation):
    name = "stablehlo.select"
    pred = operand_def(TensorType)
    on_true = operand_def(TensorType)
    on_false = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, pred: SSAValue, on_true: SSAValue, on_false: SSAValue):
        super().__init__(operands=[pred, on_true, on_false], result_types=[SSAValue.get(on_true).type])

    def verify_(self) -> None:
        if shape_of(self.on_true) != shape_of(self.on_false) or shape_of(self.on_true) != shape_of(self.result):
            _fail(self, "requires on_true, on_false and result to have the same type")
        if shape_of(self.pred) not in ((), shape_of(self.on_true)):
            _fail(self, "requires pred to be a scalar or to have the shape of on_true")

    @classmethod
    def parse(cls, parser: Parser) -> SelectOp:
        """``%p, %a, %b attr-dict : P, T`` or ``: (P, T, T) -> T``"""
        operands, comma = asm.parse_operands(parser)
        if len(operands) != 3 or comma:
            parser.raise_error("expected three operands")
        properties, attributes = asm.parse_attr_dict(parser, cls)
        parser.parse_punctuation(":")
        if asm.at_function_type(parser):
            ft = parser.parse_function_type()
            ins, outs = ft.inputs.data, ft.outputs.data
        else:
            pred = parser.parse_type()
            parser.parse_punctuation(",")
            t = parser.parse_type()
            ins, outs = (pred, t, t), (t,)
        return asm.build(cls, asm.resolve(parser, operands, ins), outs, properties, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        asm.print_operands(printer, self.operands)
        asm.print_attr_dict(printer, self)
        t = self.result.type
        if self.on_true.type == t and self.on_false.type == t:
            printer.print_string(" : ")
            printer.print_attribute(self.pred.type)
            printer.print_string(", ")
            printer.print_attribute(t)
        else:
            asm.print_functional_type(printer, self)


@irdl_op_definition
class ClampOp(IRDLOperation):
    name = "stablehlo.clamp"
    min = operand_def(TensorType)
    operand = operand_def(TensorType)
    max = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        shape = shape_of(self.operand)
        if shape_of(self.result) != shape:
            _fail(self, f"result shape {shape_of(self.result)} differs from the operand shape {shape}")
        for bound, label in ((self.min, "min"), (self.max, "max")):
            if shape_of(bound) not in ((), shape):
                _fail(self, f"requires {label} to be a scalar or to have the operand shape {shape}, got {shape_of(bound)}")

    @classmethod
    def parse(cls, parser: Parser) -> ClampOp:
        return asm.parse_simple(parser, cls)

    def print(self, printer: Printer) -> None:
        asm.print_simple(printer, self)


# ----------------------------------------------------------------- constants


@irdl_op_definition
class ConstantOp(IRDLOperation):
    name = "stablehlo.constant"
    value = prop_def(DenseIntOrFPElementsAttr)
    output = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, value: DenseIntOrFPElementsAttr):
        super().__init__(properties={"value": value}, result_types=[value.type])

    def verify_(self) -> None:
        if self.value.type != self.output.type:
            _fail(self, f"result type {self.output.type} differs from the value type {self.value.type}")

    @classmethod
    def parse(cls, parser: Parser) -> ConstantOp:
        """``attr-dict dense<...> : T``"""
        properties, attributes = asm.parse_attr_dict(parser, cls)
        value = parser.parse_attribute()
        if not isinstance(value, DenseIntOrFPElementsAttr):
            parser.raise_error(f"expected a dense elements attribute, got {value}")
        return asm.build(cls, (), (value.type,), {**properties, "value": value}, attributes)

    def print(self, printer: Printer) -> None:
        asm.print_attr_dict(printer, self, elide=("value",))
        printer.print_string(" ")
        printer.print_attribute(self.value)


@irdl_op_definition
class IotaOp(IRDLOperation):
    name = "stablehlo.iota"
    iota_dimension = prop_def(IntegerAttr)
    output = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        rank = len(shape_of(self.output))
        if not 0 <= self.iota_dimension.value.data < rank:
            _fail(self, f"iota_dimension {self.iota_dimension.value.data} is out of range for result rank {rank}")

    @classmethod
    def parse(cls, parser: Parser) -> IotaOp:
        """``dim = 0 attr-dict : T``"""
        asm.parse_keyword_value(parser, "dim")
        dim = asm.int_attr(parser.parse_integer())
        properties, attributes = asm.parse_attr_dict(parser, cls)
        parser.parse_punctuation(":")
        t = parser.parse_type()
        return asm.build(cls, (), (t,), {**properties, "iota_dimension": dim}, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(f" dim = {self.iota_dimension.value.data}")
        asm.print_attr_dict(printer, self, elide=("iota_dimension",))
        printer.print_string(" : ")
        printer.print_attribute(self.output.type)


# ----------------------------------------------------------------- shape ops


@irdl_op_definition
class BroadcastInDimOp(IRDLOperation):
    name = "stablehlo.broadcast_in_dim"
    operand = operand_def(TensorType)
    broadcast_dimensions = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, operand: SSAValue, dims: Sequence[int], result_type: Attribute):
        super().__init__(operands=[operand], result_types=[result_type], properties={"broadcast_dimensions": i64_array(dims)})

    def verify_(self) -> None:
        dims = self.broadcast_dimensions.get_values()
        src, dst = shape_of(self.operand), shape_of(self.result)
        if len(dims) != len(src):
            _fail(self, f"broadcast_dimensions has {len(dims)} entries for an operand of rank {len(src)}")
        if len(set(dims)) != len(dims):
            _fail(self, "broadcast_dimensions must not repeat")
        for i, d in enumerate(dims):
            if not 0 <= d < len(dst):
                _fail(self, f"broadcast dimension {d} is out of range for result rank {len(dst)}")
            if src[i] != 1 and src[i] != dst[d]:
                _fail(self, f"operand dimension {i} of size {src[i]} cannot broadcast to result dimension {d} of size {dst[d]}")

    @classmethod
    def parse(cls, parser: Parser) -> BroadcastInDimOp:
        """``%x, dims = [..] attr-dict : ..``"""
        return _parse_with_keywords(parser, cls, {"dims": ("broadcast_dimensions", _array)}, required=("dims",), functional=True)

    def print(self, printer: Printer) -> None:
        _print_with_keywords(printer, self, {"dims": ("broadcast_dimensions", _array)}, functional=True)


@irdl_op_definition
class ReshapeOp(IRDLOperation):
    name = "stablehlo.reshape"
    operand = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, operand: SSAValue, result_type: Attribute):
        super().__init__(operands=[operand], result_types=[result_type])

    def verify_(self) -> None:
        if math.prod(shape_of(self.operand)) != math.prod(shape_of(self.result)):
            _fail(self, f"cannot reshape {shape_of(self.operand)} to {shape_of(self.result)}: element counts differ")

    @classmethod
    def parse(cls, parser: Parser) -> ReshapeOp:
        return asm.parse_simple(parser, cls, functional=True)

    def print(self, printer: Printer) -> None:
        asm.print_simple(printer, self, functional=True)


@irdl_op_definition
class TransposeOp(IRDLOperation):
    name = "stablehlo.transpose"
    operand = operand_def(TensorType)
    permutation = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, operand: SSAValue, permutation: Sequence[int], result_type: Attribute | None = None):
        if result_type is None:
            t = SSAValue.get(operand).type
            src = shape_of(t)
            result_type = TensorType(t.get_element_type(), [src[p] for p in permutation])
        super().__init__(operands=[operand], result_types=[result_type], properties={"permutation": i64_array(permutation)})

    def verify_(self) -> None:
        perm = self.permutation.get_values()
        src, dst = shape_of(self.operand), shape_of(self.result)
        if sorted(perm) != list(range(len(src))):
            _fail(self, f"permutation {list(perm)} is not a permutation of rank {len(src)}")
        if tuple(src[p] for p in perm) != dst:
            _fail(self, f"result shape {dst} does not match the permuted operand shape")

    @classmethod
    def parse(cls, parser: Parser) -> TransposeOp:
        """``%x, dims = [..] attr-dict : ..``"""
        return _parse_with_keywords(parser, cls, {"dims": ("permutation", _array)}, required=("dims",), functional=True)

    def print(self, printer: Printer) -> None:
        _print_with_keywords(printer, self, {"dims": ("permutation", _array)}, functional=True)


@irdl_op_definition
class SliceOp(IRDLOperation):
    name = "stablehlo.slice"
    operand = operand_def(TensorType)
    start_indices = prop_def(DenseArrayBase)
    limit_indices = prop_def(DenseArrayBase)
    strides = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, operand: SSAValue, start: Sequence[int], limit: Sequence[int], strides: Sequence[int] | None = None):
        t = SSAValue.get(operand).type
        strides = list(strides) if strides is not None else [1] * len(start)
        shape = [max(0, -(-(hi - lo) // s)) for lo, hi, s in zip(start, limit, strides)]
        super().__init__(
            operands=[operand],
            result_types=[TensorType(t.get_element_type(), shape)],
            properties={"start_indices": i64_array(start), "limit_indices": i64_array(limit), "strides": i64_array(strides)},
        )

    def verify_(self) -> None:
        start, limit, strides = (a.get_values() for a in (self.start_indices, self.limit_indices, self.strides))
        src, dst = shape_of(self.operand), shape_of(self.result)
        if not len(start) == len(limit) == len(strides) == len(src):
            _fail(self, "start_indices, limit_indices and strides must have one entry per operand dimension")
        for d, (lo, hi, s) in enumerate(zip(start, limit, strides)):
            if s <= 0 or lo < 0 or hi > src[d] or lo > hi:
                _fail(self, f"invalid slice [{lo}:{hi}:{s}] of dimension {d} (size {src[d]})")
        expect = tuple(-(-(hi - lo) // s) for lo, hi, s in zip(start, limit, strides))
        if expect != dst:
            _fail(self, f"result shape {dst} does not match the slice shape {expect}")

    @classmethod
    def parse(cls, parser: Parser) -> SliceOp:
        """``%x [0:10, 2:8:2] attr-dict : (..) -> ..``"""
        operand = parser.parse_unresolved_operand()
        starts: list[int] = []
        limits: list[int] = []
        strides: list[int] = []

        def parse_range() -> None:
            starts.append(parser.parse_integer())
            parser.parse_punctuation(":")
            limits.append(parser.parse_integer())
            strides.append(parser.parse_integer() if parser.parse_optional_punctuation(":") is not None else 1)

        parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parse_range)
        properties, attributes = asm.parse_attr_dict(parser, cls)
        ft = asm.parse_functional_type(parser)
        properties.update(start_indices=asm.i64_array(starts), limit_indices=asm.i64_array(limits), strides=asm.i64_array(strides))
        return asm.build(cls, asm.resolve(parser, [operand], ft.inputs.data), ft.outputs.data, properties, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.operand)
        ranges = []
        for lo, hi, s in zip(*(asm.array_values(a) for a in (self.start_indices, self.limit_indices, self.strides))):
            ranges.append(f"{lo}:{hi}" if s == 1 else f"{lo}:{hi}:{s}")
        printer.print_string(" [" + ", ".join(ranges) + "]")
        asm.print_attr_dict(printer, self, elide=("start_indices", "limit_indices", "strides"))
        asm.print_functional_type(printer, self)


@irdl_op_definition
class DynamicSliceOp(IRDLOperation):
    name = "stablehlo.dynamic_slice"
    operand = operand_def(TensorType)
    start_indices = var_operand_def(TensorType)
    slice_sizes = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        src, sizes = shape_of(self.operand), tuple(self.slice_sizes.get_values())
        if len(self.start_indices) != len(src) or len(sizes) != len(src):
            _fail(self, f"requires one start index and one slice size per operand dimension (rank {len(src)}), got {len(self.start_indices)} and {len(sizes)}")
        for d, (n, size) in enumerate(zip(src, sizes)):
            if size < 0 or (n >= 0 and size > n):  # n < 0: a dynamic dimension, bounded at run time
                _fail(self, f"slice size {size} of dimension {d} is out of range [0, {n}]")
        if any(m >= 0 and m != size for m, size in zip(shape_of(self.result), sizes)) or len(shape_of(self.result)) != len(sizes):
            _fail(self, f"result shape {shape_of(self.result)} differs from slice_sizes {sizes}")

    @classmethod
    def parse(cls, parser: Parser) -> DynamicSliceOp:
        """``%x, %i, %j, sizes = [..] attr-dict : (..) -> ..``"""
        return _parse_with_keywords(parser, cls, {"sizes": ("slice_sizes", _array)}, required=("sizes",), functional=True)

    def print(self, printer: Printer) -> None:
        _print_with_keywords(printer, self, {"sizes": ("slice_sizes", _array)}, functional=True)


@irdl_op_definition
class DynamicUpdateSliceOp(IRDLOperation):
    name = "stablehlo.dynamic_update_slice"
    operand = operand_def(TensorType)
    update = operand_def(TensorType)
    start_indices = var_operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        src, upd = shape_of(self.operand), shape_of(self.update)
        if shape_of(self.result) != src:
            _fail(self, f"result shape {shape_of(self.result)} differs from the operand shape {src}")
        if len(upd) != len(src) or len(self.start_indices) != len(src):
            _fail(self, f"requires an update of rank {len(src)} and {len(src)} start indices, got rank {len(upd)} and {len(self.start_indices)}")
        for d, (u, n) in enumerate(zip(upd, src)):
            if u > n:
                _fail(self, f"update dimension {d} of size {u} exceeds the operand size {n}")

    @classmethod
    def parse(cls, parser: Parser) -> DynamicUpdateSliceOp:
        return asm.parse_simple(parser, cls, functional=True)

    def print(self, printer: Printer) -> None:
        asm.print_simple(printer, self, functional=True)


@irdl_op_definition
class ConcatenateOp(IRDLOperation):
    name = "stablehlo.concatenate"
    inputs = var_operand_def(TensorType)
    dimension = prop_def(IntegerAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        dim, dst = self.dimension.value.data, shape_of(self.result)
        if not self.inputs:
            _fail(self, "requires at least one input")
        if not 0 <= dim < len(dst):
            _fail(self, f"dimension {dim} is out of range for result rank {len(dst)}")
        total = 0
        for i, v in enumerate(self.inputs):
            shape = shape_of(v)
            if len(shape) != len(dst) or shape[:dim] != dst[:dim] or shape[dim + 1 :] != dst[dim + 1 :]:
                _fail(self, f"input {i} of shape {shape} does not match the result shape {dst} outside dimension {dim}")
            total += shape[dim]
        if total != dst[dim]:
            _fail(self, f"result dimension {dim} has size {dst[dim]}, but the inputs add up to {total}")

    @classmethod
    def parse(cls, parser: Parser) -> ConcatenateOp:
        """``%a, %b, dim = 0 attr-dict : (..) -> ..``"""
        return _parse_with_keywords(parser, cls, {"dim": ("dimension", _i64)}, required=("dim",), functional=True)

    def print(self, printer: Printer) -> None:
        _print_with_keywords(printer, self, {"dim": ("dimension", _i64)}, functional=True)


@irdl_op_definition
class PadOp(IRDLOperation):
    name = "stablehlo.pad"
    operand = operand_def(TensorType)
    padding_value = operand_def(TensorType)
    edge_padding_low = prop_def(DenseArrayBase)
    edge_padding_high = prop_def(DenseArrayBase)
    interior_padding = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        src, dst = shape_of(self.operand), shape_of(self.result)
        lows, highs, interiors = (a.get_values() for a in (self.edge_padding_low, self.edge_padding_high, self.interior_padding))
        if shape_of(self.padding_value) != ():
            _fail(self, f"requires a scalar padding_value, got shape {shape_of(self.padding_value)}")
        if not len(lows) == len(highs) == len(interiors) == len(src):
            _fail(self, f"edge_padding_low, edge_padding_high and interior_padding must have {len(src)} entries (the operand rank)")
        expect = []
        for d, (n, lo, hi, mid) in enumerate(zip(src, lows, highs, interiors)):
            if mid < 0:
                _fail(self, f"interior padding {mid} of dimension {d} is negative")
            expect.append(lo + hi + n + max(n - 1, 0) * mid)
        if tuple(expect) != dst:
            _fail(self, f"result shape {dst} does not match the padded shape {tuple(expect)}")

    @classmethod
    def parse(cls, parser: Parser) -> PadOp:
        """``%x, %v, low = [..], high = [..], interior = [..] attr-dict : (..) -> ..``"""
        return _parse_with_keywords(parser, cls, _PAD_KEYWORDS, required=("low", "high", "interior"), functional=True)

    def print(self, printer: Printer) -> None:
        _print_with_keywords(printer, self, _PAD_KEYWORDS, functional=True)


@irdl_op_definition
class ReverseOp(IRDLOperation):
    name = "stablehlo.reverse"
    operand = operand_def(TensorType)
    dimensions = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        src, dims = shape_of(self.operand), self.dimensions.get_values()
        if shape_of(self.result) != src:
            _fail(self, f"result shape {shape_of(self.result)} differs from the operand shape {src}")
        if len(set(dims)) != len(dims) or any(not 0 <= d < len(src) for d in dims):
            _fail(self, f"dimensions {list(dims)} must be distinct and in range for rank {len(src)}")

    @classmethod
    def parse(cls, parser: Parser) -> ReverseOp:
        """``%x, dims = [..] attr-dict : ..``"""
        return _parse_with_keywords(parser, cls, {"dims": ("dimensions", _array)}, required=("dims",), functional=False)

    def print(self, printer: Printer) -> None:
        _print_with_keywords(printer, self, {"dims": ("dimensions", _array)}, functional=False)


# ----------------------------------------------------------------- contractions


@irdl_op_definition
class DotGeneralOp(IRDLOperation):
    name = "stablehlo.dot_general"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    dot_dimension_numbers = prop_def(DotDimensionNumbersAttr)
    precision_config = opt_prop_def(ArrayAttr)
    algorithm = opt_prop_def(DotAlgorithmAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        dn = self.dot_dimension_numbers
        ls, rs = shape_of(self.lhs), shape_of(self.rhs)
        lb, rb = dn.lhs_batching_dimensions, dn.rhs_batching_dimensions
        lc, rc = dn.lhs_contracting_dimensions, dn.rhs_contracting_dimensions
        if len(lb) != len(rb) or len(lc) != len(rc):
            _fail(self, "lhs and rhs must have the same number of batching and of contracting dimensions")
        for a, b in (*zip(lb, rb), *zip(lc, rc)):
            if not (0 <= a < len(ls) and 0 <= b < len(rs)):
                _fail(self, "dot dimension out of range")
            if ls[a] != rs[b]:
                _fail(self, f"lhs dimension {a} (size {ls[a]}) does not match rhs dimension {b} (size {rs[b]})")
        lfree = [d for d in range(len(ls)) if d not in lb and d not in lc]
        rfree = [d for d in range(len(rs)) if d not in rb and d not in rc]
        expect = tuple([ls[d] for d in lb] + [ls[d] for d in lfree] + [rs[d] for d in rfree])
        if expect != shape_of(self.result):
            _fail(self, f"result shape {shape_of(self.result)} does not match the expected {expect}")

    @classmethod
    def parse(cls, parser: Parser) -> DotGeneralOp:
        """``%a, %b, (batching_dims = [..] x [..],)? contracting_dims = [..] x [..]
        (, precision = [..])? (, algorithm = <..>)? attr-dict : (..) -> ..``"""

        def pair() -> tuple[list[int], list[int]]:
            lhs = asm.parse_int_list(parser)
            parser.parse_keyword("x")
            return lhs, asm.parse_int_list(parser)

        def precision() -> ArrayAttr:
            return ArrayAttr(parser.parse_comma_separated_list(parser.Delimiter.SQUARE, lambda: PrecisionAttr(parser.parse_str_enum(Precision))))

        operands, comma = asm.parse_operands(parser)
        if len(operands) != 2:
            parser.raise_error("expected two operands")
        values = asm.keyword_args(
            parser,
            comma,
            {"batching_dims": pair, "contracting_dims": pair, "precision": precision, "algorithm": lambda: DotAlgorithmAttr(DotAlgorithmAttr.parse_parameter(parser))},
            required=("contracting_dims",),
        )
        properties, attributes = asm.parse_attr_dict(parser, cls)
        lb, rb = values.get("batching_dims", ((), ()))
        lc, rc = values["contracting_dims"]
        properties["dot_dimension_numbers"] = DotDimensionNumbersAttr.get(
            lhs_batching_dimensions=lb, rhs_batching_dimensions=rb, lhs_contracting_dimensions=lc, rhs_contracting_dimensions=rc
        )
        if "precision" in values:
            properties["precision_config"] = values["precision"]
        if "algorithm" in values:
            properties["algorithm"] = values["algorithm"]
        ft = asm.parse_functional_type(parser)
        return asm.build(cls, asm.resolve(parser, operands, ft.inputs.data), ft.outputs.data, properties, attributes)

    def print(self, printer: Printer) -> None:
        dn = self.dot_dimension_numbers
        printer.print_string(" ")
        asm.print_operands(printer, self.operands)
        if dn.lhs_batching_dimensions or dn.rhs_batching_dimensions:
            printer.print_string(f", batching_dims = {_ints(dn.lhs_batching_dimensions)} x {_ints(dn.rhs_batching_dimensions)}")
        printer.print_string(f", contracting_dims = {_ints(dn.lhs_contracting_dimensions)} x {_ints(dn.rhs_contracting_dimensions)}")
        if self.precision_config is not None:
            printer.print_string(", precision = [" + ", ".join(p.data.value for p in self.precision_config.data) + "]")
        if self.algorithm is not None:
            printer.print_string(", algorithm = ")
            self.algorithm.print_parameter(printer)
        asm.print_attr_dict(printer, self, elide=("dot_dimension_numbers", "precision_config", "algorithm"))
        asm.print_functional_type(printer, self)


@irdl_op_definition
class ConvolutionOp(IRDLOperation):
    name = "stablehlo.convolution"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    window_strides = opt_prop_def(DenseArrayBase)
    padding = opt_prop_def(DenseIntOrFPElementsAttr)
    lhs_dilation = opt_prop_def(DenseArrayBase)
    rhs_dilation = opt_prop_def(DenseArrayBase)
    window_reversal = opt_prop_def(DenseArrayBase)
    dimension_numbers = prop_def(ConvDimensionNumbersAttr)
    feature_group_count = prop_def(IntegerAttr)
    batch_group_count = prop_def(IntegerAttr)
    precision_config = opt_prop_def(ArrayAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    @classmethod
    def parse(cls, parser: Parser) -> ConvolutionOp:
        """``(%lhs, %rhs) dim_numbers = [b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1],
        window = {stride = [..], pad = [[..], ..], lhs_dilate = [..], rhs_dilate = [..],
        reverse = [..]} attr-dict : (..) -> ..``"""
        operands = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_unresolved_operand)
        asm.parse_keyword_value(parser, "dim_numbers")
        properties: dict[str, Attribute] = {"dimension_numbers": ConvDimensionNumbersAttr(ConvDimensionNumbersAttr.parse_body(parser))}
        parser.parse_punctuation(",")
        asm.parse_keyword_value(parser, "window")

        def entry() -> None:
            pos = parser.pos
            key = parser.parse_identifier()
            if key not in _CONV_WINDOW or _CONV_WINDOW[key] in properties:
                parser.raise_error(f"unexpected or repeated window entry '{key}'", pos)
            parser.parse_punctuation("=")
            if key == "pad":
                pairs = parser.parse_comma_separated_list(parser.Delimiter.SQUARE, lambda: asm.parse_int_list(parser))
                if any(len(p) != 2 for p in pairs):
                    parser.raise_error("expected [low, high] pairs in 'pad'", pos)
                import numpy as np  # here only: parsing other ops does not import numpy

                properties["padding"] = dense_from_numpy(np.array(pairs, dtype=np.int64).reshape(len(pairs), 2))
            elif key == "reverse":
                flags = parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parser.parse_boolean)
                properties["window_reversal"] = DenseArrayBase.from_list(i1, [int(f) for f in flags])
            else:
                properties[_CONV_WINDOW[key]] = asm.i64_array(asm.parse_int_list(parser))

        parser.parse_comma_separated_list(parser.Delimiter.BRACES, entry)
        props, attributes = asm.parse_attr_dict(parser, cls)
        ft = asm.parse_functional_type(parser)
        return asm.build(cls, asm.resolve(parser, operands, ft.inputs.data), ft.outputs.data, {**props, **properties}, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string("(")
        asm.print_operands(printer, self.operands)
        printer.print_string(") dim_numbers = " + self.dimension_numbers.format_body() + ", window = {")
        entries = []
        if self.window_strides is not None:
            entries.append(f"stride = {_ints(self.window_strides.get_values())}")
        if self.padding is not None:
            pad = dense_to_numpy(self.padding).reshape(-1, 2)
            entries.append("pad = [" + ", ".join(f"[{lo}, {hi}]" for lo, hi in pad.tolist()) + "]")
        if self.lhs_dilation is not None:
            entries.append(f"lhs_dilate = {_ints(self.lhs_dilation.get_values())}")
        if self.rhs_dilation is not None:
            entries.append(f"rhs_dilate = {_ints(self.rhs_dilation.get_values())}")
        if self.window_reversal is not None:
            entries.append("reverse = [" + ", ".join("true" if v else "false" for v in self.window_reversal.get_values()) + "]")
        printer.print_string(", ".join(entries) + "}")
        asm.print_attr_dict(printer, self, elide=("dimension_numbers", *_CONV_WINDOW.values()))
        asm.print_functional_type(printer, self)


# ----------------------------------------------------------------- region ops


@irdl_op_definition
class ReturnOp(IRDLOperation):
    name = "stablehlo.return"
    values = var_operand_def()
    traits = traits_def(IsTerminator(), Pure())

    def __init__(self, values: Sequence[SSAValue]):
        super().__init__(operands=[list(values)])

    @classmethod
    def parse(cls, parser: Parser) -> ReturnOp:
        """``%a, %b attr-dict (: A, B)?``"""
        operands, comma = asm.parse_operands(parser)
        if comma:
            parser.raise_error("expected an operand after ','")
        properties, attributes = asm.parse_attr_dict(parser, cls)
        types = asm.parse_type_list(parser) if parser.parse_optional_punctuation(":") is not None else []
        return asm.build(cls, asm.resolve(parser, operands, types), (), properties, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        asm.print_operands(printer, self.operands)
        asm.print_attr_dict(printer, self)
        if self.operands:
            printer.print_string(" : ")
            asm.print_type_list(printer, self.operand_types)


@irdl_op_definition
class ReduceOp(IRDLOperation):
    name = "stablehlo.reduce"
    inputs = var_operand_def(TensorType)
    init_values = var_operand_def(TensorType)
    dimensions = prop_def(DenseArrayBase)
    body = region_def()
    results_ = var_result_def(TensorType)
    irdl_options = (SameVariadicOperandSize(),)
    traits = traits_def(RecursiveMemoryEffect())

    def verify_(self) -> None:
        dims = self.dimensions.get_values()
        if len(self.results_) != len(self.inputs):
            _fail(self, f"requires one result per input, got {len(self.results_)} results for {len(self.inputs)} inputs")
        for i, (x, init, r) in enumerate(zip(self.inputs, self.init_values, self.results_)):
            src = shape_of(x)
            if len(set(dims)) != len(dims) or any(not 0 <= d < len(src) for d in dims):
                _fail(self, f"dimensions {list(dims)} must be distinct and in range for input rank {len(src)}")
            if shape_of(init) != ():
                _fail(self, f"init value {i} must be a scalar, got shape {shape_of(init)}")
            expect = tuple(n for d, n in enumerate(src) if d not in dims)
            if shape_of(r) != expect:
                _fail(self, f"result {i} has shape {shape_of(r)}, expected {expect} (input {src} reduced over {list(dims)})")

    def combiner(self) -> type[Operation] | None:
        """The op class ``k`` when this is a one-input reduce whose body is ``return k(a, b)``
        (either operand order for a commutative ``k``) on scalars of the input element
        type; None for any other body."""
        kind = _scalar_combiner(self.body, self.inputs)
        return kind if isinstance(kind, type) else None

    @classmethod
    def parse(cls, parser: Parser) -> ReduceOp:
        """``(%x init: %c), ... applies stablehlo.add across dimensions = [..] attr-dict
        : (..) -> (..)`` or, without ``applies``, followed by
        ``reducer(%acc: T, %x: T) ... {..}`` (one pair of arguments per input)."""
        inputs = []
        inits = []

        def pair() -> None:
            inputs.append(parser.parse_unresolved_operand())
            parser.parse_keyword("init")
            parser.parse_punctuation(":")
            inits.append(parser.parse_unresolved_operand())

        parser.parse_comma_separated_list(parser.Delimiter.PAREN, pair)
        while parser.parse_optional_punctuation(",") is not None:
            parser.parse_comma_separated_list(parser.Delimiter.PAREN, pair)
        body_op: type[Operation] | None = None
        if parser.parse_optional_keyword("applies") is not None:
            pos = parser.pos
            name = parser.parse_identifier()
            body_op = parser.ctx.get_optional_op(name)
            if body_op is None:
                parser.raise_error(f"unknown operation '{name}'", pos)
        parser.parse_keyword("across")
        asm.parse_keyword_value(parser, "dimensions")
        dims = asm.i64_array(asm.parse_int_list(parser))
        properties, attributes = asm.parse_attr_dict(parser, cls)
        ft = asm.parse_functional_type(parser)
        ins = ft.inputs.data
        if len(ins) != 2 * len(inputs):
            parser.raise_error(f"expected {2 * len(inputs)} operand types, got {len(ins)}")
        operands = asm.resolve(parser, [*inputs, *inits], ins)
        if body_op is not None:
            if len(inputs) != 1:
                parser.raise_error("'applies' needs exactly one input")
            t = ins[1]
            block = Block(arg_types=(t, t))
            inner = asm.build(body_op, block.args, (t,))
            block.add_ops((inner, ReturnOp.create(operands=inner.results)))
            body = Region(block)
        else:
            parser.parse_keyword("reducer")
            accs: list[Parser.Argument] = []
            xs: list[Parser.Argument] = []
            for _ in inputs:
                parser.parse_punctuation("(")
                accs.append(parser.parse_argument())
                parser.parse_punctuation(",")
                xs.append(parser.parse_argument())
                parser.parse_punctuation(")")
            body = parser.parse_region([*accs, *xs])
        return asm.build(cls, operands, ft.outputs.data, {**properties, "dimensions": dims}, attributes, regions=(body,))

    def print(self, printer: Printer) -> None:
        n = len(self.inputs)
        inner = _compact_reduce_body(self)
        printer.print_string("(")
        for i, (x, init) in enumerate(zip(self.inputs, self.init_values)):
            if i:
                printer.print_string("), (")
            printer.print_operand(x)
            printer.print_string(" init: ")
            printer.print_operand(init)
        printer.print_string(")")
        if inner is not None:
            printer.print_string(f" applies {inner.name}")
        printer.print_string(f" across dimensions = {_ints(self.dimensions.get_values())}")
        asm.print_attr_dict(printer, self, elide=("dimensions",))
        asm.print_functional_type(printer, self)
        if inner is not None:
            return
        args = self.body.blocks.first.args if self.body.blocks.first else ()
        printer._print_new_line()
        printer.print_string(" reducer")
        for i in range(min(n, len(args) // 2)):
            printer.print_string("(")
            printer.print_block_argument(args[i])
            printer.print_string(", ")
            printer.print_block_argument(args[i + n])
            printer.print_string(") ")
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=False)


@irdl_op_definition
class ReduceWindowOp(IRDLOperation):
    name = "stablehlo.reduce_window"
    inputs = var_operand_def(TensorType)
    init_values = var_operand_def(TensorType)
    window_dimensions = prop_def(DenseArrayBase)
    window_strides = opt_prop_def(DenseArrayBase)
    base_dilations = opt_prop_def(DenseArrayBase)
    window_dilations = opt_prop_def(DenseArrayBase)
    padding = opt_prop_def(DenseIntOrFPElementsAttr)
    body = region_def()
    results_ = var_result_def(TensorType)
    irdl_options = (SameVariadicOperandSize(),)
    traits = traits_def(RecursiveMemoryEffect())

    def combiner(self) -> type[Operation] | None:
        """As ``ReduceOp.combiner``: the op class ``k`` of a one-input body ``return k(a, b)``, else None."""
        kind = _scalar_combiner(self.body, self.inputs)
        return kind if isinstance(kind, type) else None


@irdl_op_definition
class SelectAndScatterOp(IRDLOperation):
    name = "stablehlo.select_and_scatter"
    operand = operand_def(TensorType)
    source = operand_def(TensorType)
    init_value = operand_def(TensorType)
    window_dimensions = opt_prop_def(DenseArrayBase)
    window_strides = opt_prop_def(DenseArrayBase)
    padding = opt_prop_def(DenseIntOrFPElementsAttr)
    select = region_def()
    scatter = region_def()
    result = result_def(TensorType)
    traits = traits_def(RecursiveMemoryEffect())

    def combiner(self) -> type[Operation] | str | None:
        """What the scatter region computes (see ``region_combiner``): an op class ``k`` for
        ``return k(a, b)``, 'replace' for ``return b``, else None."""
        return _scalar_combiner(self.scatter, [self.source])

    def select_direction(self) -> ComparisonDirection | None:
        """The direction of a select region ``^bb(a, b): return compare(a, b)``, else None."""
        block = self.select.block
        ops = list(block.ops)
        if len(block.args) != 2 or len(ops) != 2 or not isinstance(ops[0], CompareOp):
            return None
        cmp = ops[0]
        if cmp.lhs is not block.args[0] or cmp.rhs is not block.args[1] or tuple(ops[1].operands) != (cmp.result,):
            return None
        return cmp.comparison_direction.data


@irdl_op_definition
class GatherOp(IRDLOperation):
    name = "stablehlo.gather"
    operand = operand_def(TensorType)
    start_indices = operand_def(TensorType)
    dimension_numbers = prop_def(GatherDimensionNumbersAttr)
    slice_sizes = prop_def(DenseArrayBase)
    indices_are_sorted = opt_prop_def(BoolAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class ScatterOp(IRDLOperation):
    name = "stablehlo.scatter"
    inputs = var_operand_def(TensorType)
    scatter_indices = operand_def(TensorType)
    updates = var_operand_def(TensorType)
    scatter_dimension_numbers = prop_def(ScatterDimensionNumbersAttr)
    indices_are_sorted = opt_prop_def(BoolAttr)
    unique_indices = opt_prop_def(BoolAttr)
    update_computation = region_def()
    results_ = var_result_def(TensorType)
    irdl_options = (SameVariadicOperandSize(),)
    traits = traits_def(RecursiveMemoryEffect())

    def combiner(self) -> type[Operation] | str | None:
        """What the update computation of a one-input scatter computes (see
        ``region_combiner``): an op class ``k`` for ``return k(a, b)``, 'replace' for
        ``return b``, else None."""
        return _scalar_combiner(self.update_computation, self.inputs)


@irdl_op_definition
class SortOp(IRDLOperation):
    name = "stablehlo.sort"
    inputs = var_operand_def(TensorType)
    dimension = opt_prop_def(IntegerAttr)
    is_stable = opt_prop_def(BoolAttr)
    comparator = region_def()
    results_ = var_result_def(TensorType)
    traits = traits_def(RecursiveMemoryEffect())

    def verify_(self) -> None:
        if not self.inputs:
            _fail(self, "requires at least one input")
        shape = shape_of(self.inputs[0])
        if [r.type for r in self.results_] != [v.type for v in self.inputs]:
            _fail(self, "requires the result types to match the input types")
        if any(shape_of(v) != shape for v in self.inputs):
            _fail(self, "requires all inputs to have the same shape")
        dim = self.dimension.value.data if self.dimension is not None else -1
        if not -len(shape) <= dim < max(len(shape), 1):
            _fail(self, f"dimension {dim} is out of range for rank {len(shape)}")


@irdl_op_definition
class WhileOp(IRDLOperation):
    name = "stablehlo.while"
    operand = var_operand_def()
    cond = region_def()
    body = region_def()
    results_ = var_result_def()
    traits = traits_def(RecursiveMemoryEffect())

    def verify_(self) -> None:
        types = [v.type for v in self.operand]
        if [r.type for r in self.results] != types:
            _fail(self, "requires the result types to match the operand types")
        for region, label in ((self.cond, "cond"), (self.body, "body")):
            if [a.type for a in region.block.args] != types:
                _fail(self, f"requires the {label} block arguments to match the operand types")

    @classmethod
    def parse(cls, parser: Parser) -> WhileOp:
        """``(%iterArg = %init, ...) : T, ... (attributes {..})? cond {..} do {..}``"""
        names: list[Parser.UnresolvedArgument] = []
        inits = []

        def pair() -> None:
            names.append(parser.parse_argument(expect_type=False))
            parser.parse_punctuation("=")
            inits.append(parser.parse_unresolved_operand())

        parser.parse_comma_separated_list(parser.Delimiter.PAREN, pair)
        types = asm.parse_type_list(parser) if names and parser.parse_punctuation(":") else []
        properties, attributes = asm.parse_attr_dict(parser, cls, keyword=True)
        if len(types) != len(names):
            parser.raise_error(f"expected {len(names)} types for the loop-carried values, got {len(types)}")
        args = [n.resolve(t) for n, t in zip(names, types)]
        parser.parse_keyword("cond")
        cond = parser.parse_region(args)
        parser.parse_keyword("do")
        body = parser.parse_region(args)
        return asm.build(cls, asm.resolve(parser, inits, types), types, properties, attributes, regions=(cond, body))

    def print(self, printer: Printer) -> None:
        cond_args = self.cond.blocks.first.args if self.cond.blocks.first else ()
        body_args = self.body.blocks.first.args if self.body.blocks.first else ()
        printer.print_string("(")
        for i, init in enumerate(self.operand):
            if i:
                printer.print_string(", ")
            name = printer.print_ssa_value(cond_args[i]) if i < len(cond_args) else printer.print_ssa_value(body_args[i])
            if i < len(body_args):
                printer._ssa_values[body_args[i]] = name  # both regions name their arguments alike
            printer.print_string(" = ")
            printer.print_operand(init)
        printer.print_string(")")
        if self.operand:
            printer.print_string(" : ")
            asm.print_type_list(printer, self.operand.types)
        asm.print_attr_dict(printer, self, keyword=True)
        printer._print_new_line()
        printer.print_string("cond ")
        printer.print_region(self.cond, print_entry_block_args=False)
        printer.print_string(" do ")
        printer.print_region(self.body, print_entry_block_args=False)


@irdl_op_definition
class IfOp(IRDLOperation):
    name = "stablehlo.if"
    pred = operand_def(TensorType)
    true_branch = region_def()
    false_branch = region_def()
    results_ = var_result_def()
    traits = traits_def(RecursiveMemoryEffect())


@irdl_op_definition
class CaseOp(IRDLOperation):
    name = "stablehlo.case"
    index = operand_def(TensorType)
    branches = var_region_def()
    results_ = var_result_def()
    traits = traits_def(RecursiveMemoryEffect())


@irdl_op_definition
class OptimizationBarrierOp(IRDLOperation):
    name = "stablehlo.optimization_barrier"
    operand = var_operand_def()
    results_ = var_result_def()

    @classmethod
    def parse(cls, parser: Parser) -> OptimizationBarrierOp:
        """``attr-dict %a, %b : A, B`` or ``attr-dict ()``"""
        properties, attributes = asm.parse_attr_dict(parser, cls)
        if parser.parse_optional_punctuation("(") is not None:
            parser.parse_punctuation(")")
            return asm.build(cls, (), (), properties, attributes)
        operands, comma = asm.parse_operands(parser)
        if comma or not operands:
            parser.raise_error("expected operands or '()'")
        parser.parse_punctuation(":")
        types = asm.parse_type_list(parser)
        return asm.build(cls, asm.resolve(parser, operands, types), types, properties, attributes)

    def print(self, printer: Printer) -> None:
        asm.print_attr_dict(printer, self)
        if not self.operands:
            printer.print_string("()")
            return
        printer.print_string(" ")
        asm.print_operands(printer, self.operands)
        printer.print_string(" : ")
        asm.print_type_list(printer, self.operand_types)


# ----------------------------------------------------------------- misc


@irdl_op_definition
class RngBitGeneratorOp(IRDLOperation):
    name = "stablehlo.rng_bit_generator"
    initial_state = operand_def(TensorType)
    rng_algorithm = prop_def(RngAlgorithmAttr)
    output_state = result_def(TensorType)
    output = result_def(TensorType)

    @classmethod
    def parse(cls, parser: Parser) -> RngBitGeneratorOp:
        """``%state, algorithm = DEFAULT attr-dict : (..) -> (..)``"""
        return _parse_with_keywords(parser, cls, _RNG_BIT_KEYWORDS, required=("algorithm",), functional=True)

    def print(self, printer: Printer) -> None:
        _print_with_keywords(printer, self, _RNG_BIT_KEYWORDS, functional=True)


@irdl_op_definition
class CholeskyOp(IRDLOperation):
    name = "stablehlo.cholesky"
    a = operand_def(TensorType)
    lower = opt_prop_def(BoolAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    @classmethod
    def parse(cls, parser: Parser) -> CholeskyOp:
        """``%a(, lower = true)? attr-dict : T``"""
        return _parse_with_keywords(parser, cls, {"lower": ("lower", _bool)})

    def print(self, printer: Printer) -> None:
        _print_with_keywords(printer, self, {"lower": ("lower", _bool)})


@irdl_op_definition
class TriangularSolveOp(IRDLOperation):
    name = "stablehlo.triangular_solve"
    a = operand_def(TensorType)
    b = operand_def(TensorType)
    left_side = prop_def(BoolAttr)
    lower = prop_def(BoolAttr)
    unit_diagonal = prop_def(BoolAttr)
    transpose_a = prop_def(TransposeAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class TupleOp(IRDLOperation):
    name = "stablehlo.tuple"
    val = var_operand_def()
    result = result_def()
    traits = traits_def(Pure())

    @classmethod
    def parse(cls, parser: Parser) -> TupleOp:
        """``%a, %b attr-dict : tuple<..>``"""
        operands, comma = asm.parse_operands(parser)
        if comma:
            parser.raise_error("expected an operand after ','")
        properties, attributes = asm.parse_attr_dict(parser, cls)
        parser.parse_punctuation(":")
        pos = parser.pos
        t = parser.parse_type()
        if not isinstance(t, TupleType):
            parser.raise_error(f"expected a tuple type, got {t}", pos)
        return asm.build(cls, asm.resolve(parser, operands, t.types.data), (t,), properties, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        asm.print_operands(printer, self.operands)
        asm.print_attr_dict(printer, self)
        printer.print_string(" : ")
        printer.print_attribute(self.result.type)


@irdl_op_definition
class GetTupleElementOp(IRDLOperation):
    name = "stablehlo.get_tuple_element"
    operand = operand_def()
    index = prop_def(IntegerAttr)
    result = result_def()
    traits = traits_def(Pure())

    @classmethod
    def parse(cls, parser: Parser) -> GetTupleElementOp:
        """``%t[1] attr-dict : (..) -> ..``"""
        operand = parser.parse_unresolved_operand()
        parser.parse_punctuation("[")
        index = asm.int_attr(parser.parse_integer(), 32)
        parser.parse_punctuation("]")
        properties, attributes = asm.parse_attr_dict(parser, cls)
        ft = asm.parse_functional_type(parser)
        return asm.build(cls, asm.resolve(parser, [operand], ft.inputs.data), ft.outputs.data, {**properties, "index": index}, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.operand)
        printer.print_string(f"[{self.index.value.data}]")
        asm.print_attr_dict(printer, self, elide=("index",))
        asm.print_functional_type(printer, self)


@irdl_op_definition
class ReducePrecisionOp(IRDLOperation):
    name = "stablehlo.reduce_precision"
    operand = operand_def(TensorType)
    exponent_bits = prop_def(IntegerAttr)
    mantissa_bits = prop_def(IntegerAttr)
    output = result_def(TensorType)
    traits = traits_def(Pure())

    @classmethod
    def parse(cls, parser: Parser) -> ReducePrecisionOp:
        """``%x, format = e5m10 attr-dict : T``"""
        operand = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        asm.parse_keyword_value(parser, "format")
        pos = parser.pos
        match = re.fullmatch(r"e(\d+)m(\d+)", parser.parse_identifier())
        if match is None:
            parser.raise_error("expected a format 'e<exponent bits>m<mantissa bits>'", pos)
        properties, attributes = asm.parse_attr_dict(parser, cls)
        properties.update(exponent_bits=asm.int_attr(int(match[1]), 32), mantissa_bits=asm.int_attr(int(match[2]), 32))
        ins, outs = asm.parse_same_type(parser, 1, 1)
        return asm.build(cls, asm.resolve(parser, [operand], ins), outs, properties, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.operand)
        printer.print_string(f", format = e{self.exponent_bits.value.data}m{self.mantissa_bits.value.data}")
        asm.print_attr_dict(printer, self, elide=("exponent_bits", "mantissa_bits"))
        asm.print_same_type(printer, self)


@irdl_op_definition
class CustomCallOp(IRDLOperation):
    """An opaque call into a backend kernel; kept as is and passed through."""

    name = "stablehlo.custom_call"
    inputs = var_operand_def()
    call_target_name = prop_def(StringAttr)
    has_side_effect = opt_prop_def(BoolAttr)
    backend_config = opt_prop_def(Attribute)
    api_version = opt_prop_def(IntegerAttr)
    called_computations = opt_prop_def(ArrayAttr)
    operand_layouts = opt_prop_def(ArrayAttr)
    result_layouts = opt_prop_def(ArrayAttr)
    output_operand_aliases = opt_prop_def(ArrayAttr)
    results_ = var_result_def()

    @classmethod
    def parse(cls, parser: Parser) -> CustomCallOp:
        """``@target(%a, %b) attr-dict : (..) -> (..)``"""
        target = parser.parse_symbol_name()
        operands = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_unresolved_operand)
        properties, attributes = asm.parse_attr_dict(parser, cls)
        ft = asm.parse_functional_type(parser)
        return asm.build(cls, asm.resolve(parser, operands, ft.inputs.data), ft.outputs.data, {**properties, "call_target_name": target}, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.call_target_name.data)
        printer.print_string("(")
        asm.print_operands(printer, self.operands)
        printer.print_string(")")
        asm.print_attr_dict(printer, self, elide=("call_target_name",), defaults=_CUSTOM_CALL_DEFAULTS)
        asm.print_functional_type(printer, self)



@irdl_op_definition
class FftOp(IRDLOperation):
    name = "stablehlo.fft"
    operand = operand_def(TensorType)
    fft_type = prop_def(FftTypeAttr)
    fft_length = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    @classmethod
    def parse(cls, parser: Parser) -> FftOp:
        """``%x, type = FFT, length = [..] attr-dict : (..) -> ..``"""
        return _parse_with_keywords(parser, cls, _FFT_KEYWORDS, required=("type", "length"), functional=True)

    def print(self, printer: Printer) -> None:
        _print_with_keywords(printer, self, _FFT_KEYWORDS, functional=True)


@irdl_op_definition
class RngOp(IRDLOperation):
    """Random numbers from a distribution with parameters ``a``, ``b`` (``lax.rng_uniform``)."""

    name = "stablehlo.rng"
    a = operand_def(TensorType)
    b = operand_def(TensorType)
    shape = operand_def(TensorType)
    rng_distribution = prop_def(RngDistributionAttr)
    result = result_def(TensorType)

    @classmethod
    def parse(cls, parser: Parser) -> RngOp:
        """``%a, %b, %shape, distribution = UNIFORM attr-dict : (..) -> ..``"""
        return _parse_with_keywords(parser, cls, _RNG_KEYWORDS, required=("distribution",), functional=True)

    def print(self, printer: Printer) -> None:
        _print_with_keywords(printer, self, _RNG_KEYWORDS, functional=True)


@irdl_op_definition
class CompositeOp(IRDLOperation):
    """A named op with attributes whose meaning is the function ``decomposition``
    (``lax.composite``)."""

    name = "stablehlo.composite"
    inputs = var_operand_def()
    name_ = prop_def(StringAttr, prop_name="name")
    composite_attributes = opt_prop_def(DictionaryAttr)
    decomposition = prop_def(FlatSymbolRefAttr)
    version = opt_prop_def(IntegerAttr)
    results_ = var_result_def()

    @classmethod
    def parse(cls, parser: Parser) -> CompositeOp:
        """``"name" %a, %b attr-dict : (..) -> (..)``"""
        name = StringAttr(parser.parse_str_literal())
        operands, comma = asm.parse_operands(parser)
        if comma:
            parser.raise_error("expected an operand after ','")
        properties, attributes = asm.parse_attr_dict(parser, cls)
        ft = asm.parse_functional_type(parser)
        return asm.build(cls, asm.resolve(parser, operands, ft.inputs.data), ft.outputs.data, {**properties, "name": name}, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.name_.data)
        if self.operands:
            printer.print_string(" ")
            asm.print_operands(printer, self.operands)
        asm.print_attr_dict(printer, self, elide=("name",), defaults=_COMPOSITE_DEFAULTS)
        asm.print_functional_type(printer, self)


@irdl_op_definition
class GetDimensionSizeOp(IRDLOperation):
    name = "stablehlo.get_dimension_size"
    operand = operand_def(TensorType)
    dimension = prop_def(IntegerAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    @classmethod
    def parse(cls, parser: Parser) -> GetDimensionSizeOp:
        """``%x, dim = 1 attr-dict : (..) -> ..``"""
        return _parse_with_keywords(parser, cls, {"dim": ("dimension", _i64)}, required=("dim",), functional=True)

    def print(self, printer: Printer) -> None:
        _print_with_keywords(printer, self, {"dim": ("dimension", _i64)}, functional=True)


# ----------------------------------------------------------------- collectives and tokens


@irdl_op_definition
class ReplicaIdOp(IRDLOperation):
    name = "stablehlo.replica_id"
    result = result_def(TensorType)

    @classmethod
    def parse(cls, parser: Parser) -> ReplicaIdOp:
        return _parse_nullary(parser, cls)

    def print(self, printer: Printer) -> None:
        _print_nullary(printer, self)


@irdl_op_definition
class PartitionIdOp(IRDLOperation):
    name = "stablehlo.partition_id"
    result = result_def(TensorType)

    @classmethod
    def parse(cls, parser: Parser) -> PartitionIdOp:
        return _parse_nullary(parser, cls)

    def print(self, printer: Printer) -> None:
        _print_nullary(printer, self)


@irdl_op_definition
class AllReduceOp(IRDLOperation):
    name = "stablehlo.all_reduce"
    operands_ = var_operand_def(TensorType)
    replica_groups = prop_def(DenseIntOrFPElementsAttr)
    channel_handle = opt_prop_def(ChannelHandleAttr)
    use_global_device_ids = opt_prop_def(UnitAttr)
    computation = region_def()
    results_ = var_result_def(TensorType)
    traits = traits_def(NoMemoryEffect())  # removable when unused (every device drops it alike)


@irdl_op_definition
class AllGatherOp(IRDLOperation):
    name = "stablehlo.all_gather"
    operands_ = var_operand_def(TensorType)
    all_gather_dim = prop_def(IntegerAttr)
    replica_groups = prop_def(DenseIntOrFPElementsAttr)
    channel_handle = opt_prop_def(ChannelHandleAttr)
    use_global_device_ids = opt_prop_def(UnitAttr)
    results_ = var_result_def(TensorType)
    traits = traits_def(NoMemoryEffect())  # removable when unused (every device drops it alike)


@irdl_op_definition
class ReduceScatterOp(IRDLOperation):
    name = "stablehlo.reduce_scatter"
    operand = operand_def(TensorType)
    scatter_dimension = prop_def(IntegerAttr)
    replica_groups = prop_def(DenseIntOrFPElementsAttr)
    channel_handle = opt_prop_def(ChannelHandleAttr)
    use_global_device_ids = opt_prop_def(UnitAttr)
    computation = region_def()
    result = result_def(TensorType)
    traits = traits_def(NoMemoryEffect())  # removable when unused (every device drops it alike)


@irdl_op_definition
class AllToAllOp(IRDLOperation):
    name = "stablehlo.all_to_all"
    operands_ = var_operand_def(TensorType)
    split_dimension = prop_def(IntegerAttr)
    concat_dimension = prop_def(IntegerAttr)
    split_count = prop_def(IntegerAttr)
    replica_groups = prop_def(DenseIntOrFPElementsAttr)
    channel_handle = opt_prop_def(ChannelHandleAttr)
    results_ = var_result_def(TensorType)
    traits = traits_def(NoMemoryEffect())  # removable when unused (every device drops it alike)


@irdl_op_definition
class CollectivePermuteOp(IRDLOperation):
    name = "stablehlo.collective_permute"
    operand = operand_def(TensorType)
    source_target_pairs = prop_def(DenseIntOrFPElementsAttr)
    channel_handle = opt_prop_def(ChannelHandleAttr)
    result = result_def(TensorType)
    traits = traits_def(NoMemoryEffect())  # removable when unused (every device drops it alike)


@irdl_op_definition
class CollectiveBroadcastOp(IRDLOperation):
    name = "stablehlo.collective_broadcast"
    operand = operand_def(TensorType)
    replica_groups = prop_def(DenseIntOrFPElementsAttr)
    channel_handle = opt_prop_def(ChannelHandleAttr)
    result = result_def(TensorType)
    traits = traits_def(NoMemoryEffect())  # removable when unused (every device drops it alike)


@irdl_op_definition
class CreateTokenOp(IRDLOperation):
    name = "stablehlo.create_token"
    result = result_def(TokenType)

    @classmethod
    def parse(cls, parser: Parser) -> CreateTokenOp:
        return _parse_nullary(parser, cls)

    def print(self, printer: Printer) -> None:
        _print_nullary(printer, self)


@irdl_op_definition
class AfterAllOp(IRDLOperation):
    name = "stablehlo.after_all"
    inputs = var_operand_def(TokenType)
    result = result_def(TokenType)

    @classmethod
    def parse(cls, parser: Parser) -> AfterAllOp:
        """``%a, %b attr-dict : !stablehlo.token``"""
        operands, comma = asm.parse_operands(parser)
        if comma:
            parser.raise_error("expected an operand after ','")
        properties, attributes = asm.parse_attr_dict(parser, cls)
        parser.parse_punctuation(":")
        t = parser.parse_type()
        return asm.build(cls, asm.resolve(parser, operands, [t] * len(operands)), (t,), properties, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        asm.print_operands(printer, self.operands)
        asm.print_attr_dict(printer, self)
        printer.print_string(" : ")
        printer.print_attribute(self.result.type)


# ----------------------------------------------------------------- Shardy


@irdl_op_definition
class SdyMeshOp(IRDLOperation):
    """``sdy.mesh @name = <...>``: a device mesh JAX declares for sharded host callbacks.
    zymase does not interpret sharding; the op and its mesh are carried through opaquely."""

    name = "sdy.mesh"
    sym_name = prop_def(StringAttr)
    mesh = prop_def(SdyMeshAttr)
    traits = traits_def(SymbolOpInterface())

    @classmethod
    def parse(cls, parser: Parser) -> SdyMeshOp:
        """``@name = <...> attr-dict``"""
        sym_name = parser.parse_symbol_name()
        parser.parse_punctuation("=")
        mesh = SdyMeshAttr(SdyMeshAttr.parse_parameter(parser))
        properties, attributes = asm.parse_attr_dict(parser, cls)
        return asm.build(cls, (), (), {**properties, "sym_name": sym_name, "mesh": mesh}, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        printer.print_string(" = ")
        self.mesh.print_parameter(printer)
        asm.print_attr_dict(printer, self, elide=("sym_name", "mesh"))


STABLEHLO_OPS: list[type[IRDLOperation]] = [
    v
    for v in list(globals().values())
    if isinstance(v, type) and issubclass(v, IRDLOperation) and isinstance(getattr(v, "name", None), str)
    and v.name.startswith("stablehlo.")
]

SDY_OPS: list[type[IRDLOperation]] = [SdyMeshOp]

# The Shardy op and attributes ride along in this dialect object so that make_context()
# knows them; they keep their own "sdy." names.
StableHLO = Dialect("stablehlo", [*STABLEHLO_OPS, *SDY_OPS], [*STABLEHLO_ATTRIBUTES, TokenType, *SDY_ATTRIBUTES])

__all__ = [op.__name__ for op in STABLEHLO_OPS] + ["SdyMeshOp", "TokenType", "StableHLO", "i64_array", "shape_of", "i1", "IntegerType"]
