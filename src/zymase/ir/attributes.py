"""StableHLO attributes: enums (``#stablehlo<comparison_direction GT>``) and the
structured dimension-number attributes (``#stablehlo.dot<...>``, ``#stablehlo.gather<...>``,
``#stablehlo.scatter<...>``, ``#stablehlo.conv<...>``, ``#stablehlo.output_operand_alias<...>``).

Structured attributes are xDSL ``Data`` attributes wrapping a frozen dataclass, so a
field reads as ``op.dot_dimension_numbers.lhs_contracting_dimensions``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Generic, TypeVar

from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, Data, OpaqueSyntaxAttribute, SpacedOpaqueSyntaxAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.str_enum import StrEnum

# --------------------------------------------------------------------------- enums


class ComparisonDirection(StrEnum):
    EQ = "EQ"
    NE = "NE"
    GE = "GE"
    GT = "GT"
    LE = "LE"
    LT = "LT"


class ComparisonType(StrEnum):
    NOTYPE = "NOTYPE"
    FLOAT = "FLOAT"
    TOTALORDER = "TOTALORDER"
    SIGNED = "SIGNED"
    UNSIGNED = "UNSIGNED"


class Precision(StrEnum):
    DEFAULT = "DEFAULT"
    HIGH = "HIGH"
    HIGHEST = "HIGHEST"


class RngAlgorithm(StrEnum):
    DEFAULT = "DEFAULT"
    THREE_FRY = "THREE_FRY"
    PHILOX = "PHILOX"


class Transpose(StrEnum):
    TRANSPOSE_INVALID = "TRANSPOSE_INVALID"
    NO_TRANSPOSE = "NO_TRANSPOSE"
    TRANSPOSE = "TRANSPOSE"
    ADJOINT = "ADJOINT"


class FftType(StrEnum):
    FFT = "FFT"
    IFFT = "IFFT"
    RFFT = "RFFT"
    IRFFT = "IRFFT"


class RngDistribution(StrEnum):
    UNIFORM = "UNIFORM"
    NORMAL = "NORMAL"


class ResultAccuracyMode(StrEnum):
    DEFAULT = "DEFAULT"
    HIGHEST = "HIGHEST"
    TOLERANCE = "TOLERANCE"


@irdl_attr_definition
class ComparisonDirectionAttr(EnumAttribute[ComparisonDirection], SpacedOpaqueSyntaxAttribute):
    name = "stablehlo.comparison_direction"


@irdl_attr_definition
class ComparisonTypeAttr(EnumAttribute[ComparisonType], SpacedOpaqueSyntaxAttribute):
    name = "stablehlo.comparison_type"


@irdl_attr_definition
class PrecisionAttr(EnumAttribute[Precision], SpacedOpaqueSyntaxAttribute):
    name = "stablehlo.precision"


@irdl_attr_definition
class RngAlgorithmAttr(EnumAttribute[RngAlgorithm], SpacedOpaqueSyntaxAttribute):
    name = "stablehlo.rng_algorithm"


@irdl_attr_definition
class TransposeAttr(EnumAttribute[Transpose], SpacedOpaqueSyntaxAttribute):
    name = "stablehlo.transpose"


@irdl_attr_definition
class FftTypeAttr(EnumAttribute[FftType], SpacedOpaqueSyntaxAttribute):
    name = "stablehlo.fft_type"


@irdl_attr_definition
class RngDistributionAttr(EnumAttribute[RngDistribution], SpacedOpaqueSyntaxAttribute):
    name = "stablehlo.rng_distribution"


@irdl_attr_definition
class ResultAccuracyModeAttr(EnumAttribute[ResultAccuracyMode]):
    """``#stablehlo.result_accuracy_mode<HIGHEST>`` (pretty syntax, not opaque)."""

    name = "stablehlo.result_accuracy_mode"

    def print_parameter(self, printer: Printer) -> None:
        printer.print_string(f"<{self.data.value}>")

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> ResultAccuracyMode:
        parser.parse_punctuation("<")
        value = parser.parse_str_enum(ResultAccuracyMode)
        parser.parse_punctuation(">")
        return value


# ------------------------------------------------------------ keyword structures

_S = TypeVar("_S")


class _KeywordStructAttr(Data[_S], Generic[_S]):
    """``#stablehlo.<name><key = [1, 2], other = 3>``: fields are int lists or ints.

    Empty lists are omitted on printing unless ``print_empty`` is set; fields may come
    in any order when parsing.
    """

    struct: ClassVar[type]
    print_empty: ClassVar[bool] = False
    # Integer fields equal to 0 are left out (as MLIR prints gather/scatter dimension numbers).
    elide_zero_ints: ClassVar[bool] = False

    def __getattr__(self, item: str) -> Any:
        if item.startswith("__"):
            raise AttributeError(item)
        return getattr(self.data, item)

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> Any:
        known = {f.name: f for f in fields(cls.struct)}
        values: dict[str, Any] = {}
        parser.parse_punctuation("<")
        if parser.parse_optional_punctuation(">") is not None:
            return cls.struct()
        while True:
            key = parser.parse_identifier()
            if key not in known:
                parser.raise_error(f"unknown field '{key}' in #{cls.name}")
            parser.parse_punctuation("=")
            if key in values:
                parser.raise_error(f"duplicate field '{key}' in #{cls.name}")
            if isinstance(known[key].default, int):
                values[key] = parser.parse_integer()
            else:
                values[key] = tuple(
                    parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parser.parse_integer)
                )
            if parser.parse_optional_punctuation(",") is None:
                break
            if parser.parse_optional_punctuation(">") is not None:
                return cls.struct(**values)  # a trailing comma, as MLIR accepts
        parser.parse_punctuation(">")
        return cls.struct(**values)

    def print_parameter(self, printer: Printer) -> None:
        parts = []
        for f in fields(self.data):
            value = getattr(self.data, f.name)
            if isinstance(value, tuple):
                if not value and not self.print_empty:
                    continue
                parts.append(f"{f.name} = [{', '.join(str(v) for v in value)}]")
            else:
                if value == 0 and self.elide_zero_ints:
                    continue
                parts.append(f"{f.name} = {value}")
        printer.print_string("<" + ", ".join(parts) + ">")

    @classmethod
    def get(cls, **kwargs: Any):
        norm = {k: (tuple(v) if isinstance(v, (list, tuple)) else int(v)) for k, v in kwargs.items()}
        return cls(cls.struct(**norm))

    def replace(self, **kwargs: Any):
        norm = {k: (tuple(v) if isinstance(v, (list, tuple)) else int(v)) for k, v in kwargs.items()}
        return type(self)(dataclasses.replace(self.data, **norm))


@dataclass(frozen=True)
class DotDimensionNumbers:
    lhs_batching_dimensions: tuple[int, ...] = ()
    rhs_batching_dimensions: tuple[int, ...] = ()
    lhs_contracting_dimensions: tuple[int, ...] = ()
    rhs_contracting_dimensions: tuple[int, ...] = ()


@irdl_attr_definition
class DotDimensionNumbersAttr(_KeywordStructAttr[DotDimensionNumbers]):
    name = "stablehlo.dot"
    struct = DotDimensionNumbers


@dataclass(frozen=True)
class GatherDimensionNumbers:
    offset_dims: tuple[int, ...] = ()
    collapsed_slice_dims: tuple[int, ...] = ()
    operand_batching_dims: tuple[int, ...] = ()
    start_indices_batching_dims: tuple[int, ...] = ()
    start_index_map: tuple[int, ...] = ()
    index_vector_dim: int = 0


@irdl_attr_definition
class GatherDimensionNumbersAttr(_KeywordStructAttr[GatherDimensionNumbers]):
    name = "stablehlo.gather"
    struct = GatherDimensionNumbers
    elide_zero_ints = True


@dataclass(frozen=True)
class ScatterDimensionNumbers:
    update_window_dims: tuple[int, ...] = ()
    inserted_window_dims: tuple[int, ...] = ()
    input_batching_dims: tuple[int, ...] = ()
    scatter_indices_batching_dims: tuple[int, ...] = ()
    scatter_dims_to_operand_dims: tuple[int, ...] = ()
    index_vector_dim: int = 0


@irdl_attr_definition
class ScatterDimensionNumbersAttr(_KeywordStructAttr[ScatterDimensionNumbers]):
    name = "stablehlo.scatter"
    struct = ScatterDimensionNumbers
    elide_zero_ints = True


@dataclass(frozen=True)
class OutputOperandAlias:
    output_tuple_indices: tuple[int, ...] = ()
    operand_index: int = 0
    operand_tuple_indices: tuple[int, ...] = ()


@irdl_attr_definition
class OutputOperandAliasAttr(_KeywordStructAttr[OutputOperandAlias]):
    name = "stablehlo.output_operand_alias"
    struct = OutputOperandAlias
    print_empty = True


# ------------------------------------------------------------ convolution


@dataclass(frozen=True)
class ConvDimensionNumbers:
    input_batch_dimension: int = 0
    input_feature_dimension: int = 1
    input_spatial_dimensions: tuple[int, ...] = ()
    kernel_input_feature_dimension: int = 0
    kernel_output_feature_dimension: int = 1
    kernel_spatial_dimensions: tuple[int, ...] = ()
    output_batch_dimension: int = 0
    output_feature_dimension: int = 1
    output_spatial_dimensions: tuple[int, ...] = ()


def _parse_conv_layout(parser: AttrParser, labels: tuple[str, str]) -> tuple[int, int, tuple[int, ...]]:
    """Parse ``[b, f, 0, 1]``: positions of the two labels and of spatial dims 0..n-1."""
    entries: list[str | int] = parser.parse_comma_separated_list(
        parser.Delimiter.SQUARE,
        lambda: parser.parse_optional_integer() if parser._current_token.text[0].isdigit() else parser.parse_identifier(),
    )
    pos: dict[str | int, int] = {}
    for i, e in enumerate(entries):
        if e in pos:
            parser.raise_error(f"duplicate dimension '{e}' in convolution layout")
        pos[e] = i
    for lab in labels:
        if lab not in pos:
            parser.raise_error(f"convolution layout is missing '{lab}'")
    n_spatial = len(entries) - 2
    if any(k not in pos for k in range(n_spatial)):
        parser.raise_error("convolution layout has non-contiguous spatial dimensions")
    return pos[labels[0]], pos[labels[1]], tuple(pos[k] for k in range(n_spatial))


def _format_conv_layout(first: tuple[str, int], second: tuple[str, int], spatial: tuple[int, ...]) -> str:
    names: list[str] = [""] * (2 + len(spatial))
    names[first[1]] = first[0]
    names[second[1]] = second[0]
    for k, d in enumerate(spatial):
        names[d] = str(k)
    return "[" + ", ".join(names) + "]"


@irdl_attr_definition
class ConvDimensionNumbersAttr(Data[ConvDimensionNumbers]):
    """``#stablehlo.conv<[b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1]>``"""

    name = "stablehlo.conv"

    def __getattr__(self, item: str) -> Any:
        if item.startswith("__"):
            raise AttributeError(item)
        return getattr(self.data, item)

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> ConvDimensionNumbers:
        parser.parse_punctuation("<")
        value = cls.parse_body(parser)
        parser.parse_punctuation(">")
        return value

    @staticmethod
    def parse_body(parser: AttrParser) -> ConvDimensionNumbers:
        """``[b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1]`` (also the op syntax's ``dim_numbers``)."""
        ib, if_, isp = _parse_conv_layout(parser, ("b", "f"))
        parser.parse_keyword("x")
        ki, ko, ksp = _parse_conv_layout(parser, ("i", "o"))
        parser.parse_punctuation("->")
        ob, of, osp = _parse_conv_layout(parser, ("b", "f"))
        return ConvDimensionNumbers(ib, if_, isp, ki, ko, ksp, ob, of, osp)

    def format_body(self) -> str:
        d = self.data
        return (
            _format_conv_layout(("b", d.input_batch_dimension), ("f", d.input_feature_dimension), d.input_spatial_dimensions)
            + "x"
            + _format_conv_layout(("i", d.kernel_input_feature_dimension), ("o", d.kernel_output_feature_dimension), d.kernel_spatial_dimensions)
            + "->"
            + _format_conv_layout(("b", d.output_batch_dimension), ("f", d.output_feature_dimension), d.output_spatial_dimensions)
        )

    def print_parameter(self, printer: Printer) -> None:
        printer.print_string("<" + self.format_body() + ">")

    @classmethod
    def get(cls, **kwargs: Any) -> ConvDimensionNumbersAttr:
        norm = {k: (tuple(v) if isinstance(v, (list, tuple)) else int(v)) for k, v in kwargs.items()}
        return cls(ConvDimensionNumbers(**norm))



# ------------------------------------------------------------ mixed keyword structures


def _parse_keyword_fields(parser: AttrParser, attr_name: str, field_parsers: dict[str, Any]) -> dict[str, Any]:
    """Parse ``<key = value, ...>`` in any order, each value with its own parser."""
    values: dict[str, Any] = {}
    parser.parse_punctuation("<")
    if parser.parse_optional_punctuation(">") is not None:
        return values
    while True:
        key = parser.parse_identifier()
        if key not in field_parsers:
            parser.raise_error(f"unknown field '{key}' in #{attr_name}")
        if key in values:
            parser.raise_error(f"duplicate field '{key}' in #{attr_name}")
        parser.parse_punctuation("=")
        values[key] = field_parsers[key](parser)
        if parser.parse_optional_punctuation(",") is None:
            break
    parser.parse_punctuation(">")
    return values


def _float_text(value: float) -> str:
    """An f64 literal as MLIR prints it (``1.000000e-03``)."""
    from .asm import mlir_float_text

    value = float(value)
    text = mlir_float_text(value, 53, lambda t: float(t) == value)
    if text is None:  # integral value beyond six digits: MLIR would print hex bits
        text = repr(value)
    return text


@dataclass(frozen=True)
class DotAlgorithm:
    lhs_precision_type: Attribute
    rhs_precision_type: Attribute
    accumulation_type: Attribute
    lhs_component_count: int
    rhs_component_count: int
    num_primitive_operations: int
    allow_imprecise_accumulation: bool


@irdl_attr_definition
class DotAlgorithmAttr(Data[DotAlgorithm]):
    """``#stablehlo.dot_algorithm<lhs_precision_type = tf32, ..., allow_imprecise_accumulation = false>``"""

    name = "stablehlo.dot_algorithm"

    def __getattr__(self, item: str) -> Any:
        if item.startswith("__"):
            raise AttributeError(item)
        return getattr(self.data, item)

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> DotAlgorithm:
        def type_(p: AttrParser) -> Attribute:
            return p.parse_type()

        def int_(p: AttrParser) -> int:
            return p.parse_integer(allow_boolean=False)

        def bool_(p: AttrParser) -> bool:
            return p.parse_boolean()

        kinds = {f.name: (type_ if f.type == "Attribute" else bool_ if f.type == "bool" else int_) for f in fields(DotAlgorithm)}
        values = _parse_keyword_fields(parser, cls.name, kinds)
        missing = [k for k in kinds if k not in values]
        if missing:
            parser.raise_error(f"#{cls.name} is missing {', '.join(missing)}")
        return DotAlgorithm(**values)

    def print_parameter(self, printer: Printer) -> None:
        printer.print_string("<")
        for i, f in enumerate(fields(self.data)):
            if i:
                printer.print_string(", ")
            printer.print_string(f"{f.name} = ")
            value = getattr(self.data, f.name)
            if isinstance(value, bool):
                printer.print_string("true" if value else "false")
            elif isinstance(value, int):
                printer.print_string(str(value))
            else:
                printer.print_attribute(value)
        printer.print_string(">")


@dataclass(frozen=True)
class ResultAccuracy:
    atol: float = 0.0
    rtol: float = 0.0
    ulps: int = 0
    mode: ResultAccuracyModeAttr = ResultAccuracyModeAttr(ResultAccuracyMode.DEFAULT)


@irdl_attr_definition
class ResultAccuracyAttr(Data[ResultAccuracy]):
    """``#stablehlo.result_accuracy<atol = 1.0e-03, rtol = 0.0, ulps = 2, mode = #stablehlo.result_accuracy_mode<TOLERANCE>>``

    ``mode`` is required; ``atol``, ``rtol`` and ``ulps`` default to 0 and are printed
    only when non-zero, as MLIR does.
    """

    name = "stablehlo.result_accuracy"

    def __getattr__(self, item: str) -> Any:
        if item.startswith("__"):
            raise AttributeError(item)
        return getattr(self.data, item)

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> ResultAccuracy:
        def mode(p: AttrParser) -> ResultAccuracyModeAttr:
            attr = p.parse_attribute()
            if not isinstance(attr, ResultAccuracyModeAttr):
                p.raise_error(f"expected a #stablehlo.result_accuracy_mode, got {attr}")
            return attr

        values = _parse_keyword_fields(
            parser,
            cls.name,
            {"atol": lambda p: float(p.parse_number()), "rtol": lambda p: float(p.parse_number()), "ulps": lambda p: p.parse_integer(allow_boolean=False), "mode": mode},
        )
        if "mode" not in values:
            parser.raise_error(f"#{cls.name} requires 'mode'")
        return ResultAccuracy(**values)

    def print_parameter(self, printer: Printer) -> None:
        d = self.data
        parts = []
        if d.atol:
            parts.append(f"atol = {_float_text(d.atol)}")
        if d.rtol:
            parts.append(f"rtol = {_float_text(d.rtol)}")
        if d.ulps:
            parts.append(f"ulps = {d.ulps}")
        printer.print_string("<" + ", ".join(parts) + (", " if parts else "") + "mode = ")
        printer.print_attribute(d.mode)
        printer.print_string(">")


@dataclass(frozen=True)
class ChannelHandle:
    handle: int = 0
    type: int = 0


@irdl_attr_definition
class ChannelHandleAttr(_KeywordStructAttr[ChannelHandle]):
    """``#stablehlo.channel_handle<handle = 1, type = 1>`` (collectives across devices)."""

    name = "stablehlo.channel_handle"
    struct = ChannelHandle


# ------------------------------------------------------------ Shardy (sdy) attributes
#
# JAX annotates some ops with Shardy sharding attributes: ``sdy.sharding_rule =
# #sdy.op_sharding_rule<...>`` on FFI custom calls (linear algebra), ``sdy.sharding =
# #sdy.sharding_per_value<...>`` on host callbacks, ``#sdy.mesh<...>`` on ``sdy.mesh``.
# zymase does not interpret sharding (XLA and JAX do that after emission), so these are
# kept opaque: the text between the outer angle brackets is stored verbatim and printed
# back unchanged, which keeps a module's round trip through jaxlib exact.


class _OpaqueSdyAttr(Data[str]):
    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> str:
        if parser._current_token.text != "<":
            return ""
        return parser._parse_dialect_symbol_body()

    def print_parameter(self, printer: Printer) -> None:
        if self.data:
            printer.print_string(f"<{self.data}>")


def _opaque_sdy(mnemonic: str) -> type[_OpaqueSdyAttr]:
    cls = type(
        "Sdy" + "".join(p.capitalize() for p in mnemonic.split("_")) + "Attr",
        (_OpaqueSdyAttr,),
        {"name": f"sdy.{mnemonic}", "__module__": __name__, "__doc__": f"``#sdy.{mnemonic}<...>``, kept opaque."},
    )
    return irdl_attr_definition(cls)


SdyMeshAttr = _opaque_sdy("mesh")
SdyShardingAttr = _opaque_sdy("sharding")
SdyShardingPerValueAttr = _opaque_sdy("sharding_per_value")
SdyOpShardingRuleAttr = _opaque_sdy("op_sharding_rule")


@irdl_attr_definition
class SdyManualAxesAttr(_OpaqueSdyAttr, OpaqueSyntaxAttribute):
    """``#sdy<manual_axes{"a", "b"}>`` (sdy.manual_computation): the text between the braces."""

    name = "sdy.manual_axes"

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> str:
        content = parser.lexer.input.content
        start = parser._current_token.span.start
        if content[start] != "{":
            parser.raise_error("expected '{' in #sdy<manual_axes{...}>")
        end = content.index("}", start)
        parser.lexer.pos = end + 1
        parser._parser_state.current_token = parser.lexer.lex()
        return content[start + 1 : end]

    def print_parameter(self, printer: Printer) -> None:
        printer.print_string("{" + self.data + "}")


SdyAxisRefListAttr = _opaque_sdy("axis_ref_list")

SDY_ATTRIBUTES = [SdyMeshAttr, SdyShardingAttr, SdyShardingPerValueAttr, SdyOpShardingRuleAttr, SdyManualAxesAttr, SdyAxisRefListAttr]


STABLEHLO_ATTRIBUTES = [
    ComparisonDirectionAttr,
    ComparisonTypeAttr,
    PrecisionAttr,
    RngAlgorithmAttr,
    RngDistributionAttr,
    TransposeAttr,
    FftTypeAttr,
    ResultAccuracyModeAttr,
    ResultAccuracyAttr,
    DotAlgorithmAttr,
    DotDimensionNumbersAttr,
    GatherDimensionNumbersAttr,
    ScatterDimensionNumbersAttr,
    OutputOperandAliasAttr,
    ConvDimensionNumbersAttr,
    ChannelHandleAttr,
]
