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
from xdsl.ir import Data, SpacedOpaqueSyntaxAttribute
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


# ------------------------------------------------------------ keyword structures

_S = TypeVar("_S")


class _KeywordStructAttr(Data[_S], Generic[_S]):
    """``#stablehlo.<name><key = [1, 2], other = 3>``: fields are int lists or ints.

    Empty lists are omitted on printing unless ``print_empty`` is set; fields may come
    in any order when parsing.
    """

    struct: ClassVar[type]
    print_empty: ClassVar[bool] = False

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
        ib, if_, isp = _parse_conv_layout(parser, ("b", "f"))
        parser.parse_keyword("x")
        ki, ko, ksp = _parse_conv_layout(parser, ("i", "o"))
        parser.parse_punctuation("->")
        ob, of, osp = _parse_conv_layout(parser, ("b", "f"))
        parser.parse_punctuation(">")
        return ConvDimensionNumbers(ib, if_, isp, ki, ko, ksp, ob, of, osp)

    def print_parameter(self, printer: Printer) -> None:
        d = self.data
        text = (
            _format_conv_layout(("b", d.input_batch_dimension), ("f", d.input_feature_dimension), d.input_spatial_dimensions)
            + "x"
            + _format_conv_layout(("i", d.kernel_input_feature_dimension), ("o", d.kernel_output_feature_dimension), d.kernel_spatial_dimensions)
            + "->"
            + _format_conv_layout(("b", d.output_batch_dimension), ("f", d.output_feature_dimension), d.output_spatial_dimensions)
        )
        printer.print_string("<" + text + ">")

    @classmethod
    def get(cls, **kwargs: Any) -> ConvDimensionNumbersAttr:
        norm = {k: (tuple(v) if isinstance(v, (list, tuple)) else int(v)) for k, v in kwargs.items()}
        return cls(ConvDimensionNumbers(**norm))


STABLEHLO_ATTRIBUTES = [
    ComparisonDirectionAttr,
    ComparisonTypeAttr,
    PrecisionAttr,
    RngAlgorithmAttr,
    TransposeAttr,
    FftTypeAttr,
    DotDimensionNumbersAttr,
    GatherDimensionNumbersAttr,
    ScatterDimensionNumbersAttr,
    OutputOperandAliasAttr,
    ConvDimensionNumbersAttr,
]
