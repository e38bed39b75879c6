"""Small pieces of StableHLO's custom assembly syntax, shared by the ops' hand-written
``parse`` / ``print`` methods (``stablehlo.py``, ``chlo.py``).

The forms follow what StableHLO's own printer writes (``jax.jit(f).lower(x).as_text()``):

- types: ``: T`` when every operand and result has type ``T``, else a function type
  ``: (T1, T2) -> R`` (:func:`print_same_type` / :func:`parse_same_type`); some ops always
  print a function type (:func:`print_functional_type`);
- the attribute dictionary holds the op's discardable attributes together with the
  properties the syntax does not spell out, sorted by name, and leaves out properties
  equal to their default (:func:`print_attr_dict` / :func:`parse_attr_dict`);
- integer lists print as ``[1, 2]``.

Parsing builds ops with ``Operation.create`` (no ``__init__``), like the generic parser.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from xdsl.dialects.builtin import DenseArrayBase, FunctionType, IntegerAttr, IntegerType, i64
from xdsl.ir import Attribute, Operation, Region, SSAValue
from xdsl.irdl import IRDLOperation
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.utils.mlir_lexer import MLIRTokenKind

_Op = TypeVar("_Op", bound=Operation)

# ----------------------------------------------------------------- printing


def print_operands(printer: Printer, values: Iterable[SSAValue]) -> None:
    printer.print_list(values, printer.print_operand)


def print_int_list(printer: Printer, values: Iterable[int]) -> None:
    printer.print_string("[" + ", ".join(str(int(v)) for v in values) + "]")


def array_values(attr: DenseArrayBase | None) -> tuple[int, ...]:
    return () if attr is None else tuple(attr.get_values())


def print_same_type(printer: Printer, op: Operation) -> None:
    """`` : T`` when all operands and results have type ``T``, else `` : (..) -> ..``."""
    types = [*op.operand_types, *op.result_types]
    printer.print_string(" : ")
    if types and all(t == types[0] for t in types):
        printer.print_attribute(types[0])
    else:
        printer.print_function_type(op.operand_types, op.result_types)


def print_functional_type(printer: Printer, op: Operation) -> None:
    printer.print_string(" : ")
    printer.print_function_type(op.operand_types, op.result_types)


def print_type_list(printer: Printer, types: Iterable[Attribute]) -> None:
    printer.print_list(types, printer.print_attribute)


def print_attr_dict(
    printer: Printer,
    op: Operation,
    elide: Iterable[str] = (),
    defaults: Mapping[str, Attribute] | None = None,
    keyword: bool = False,
) -> None:
    """`` {a = .., b = ..}``: the op's attributes and its properties not in ``elide`` (and
    not equal to their entry in ``defaults``), sorted by name; nothing when empty."""
    entries: dict[str, Attribute] = {}
    skip = set(elide)
    for name, value in op.properties.items():
        if name in skip or (defaults is not None and defaults.get(name) == value):
            continue
        entries[name] = value
    entries.update(op.attributes)
    if not entries:
        return
    printer.print_string(" attributes " if keyword else " ")
    printer.print_attr_dict({name: entries[name] for name in sorted(entries)})


# ----------------------------------------------------------------- parsing


def parse_operands(parser: Parser) -> tuple[list[UnresolvedOperand], bool]:
    """``%a, %b, ...`` (possibly none). The second value tells whether a ``,`` after the
    last operand was consumed (a keyword argument follows)."""
    first = parser.parse_optional_unresolved_operand()
    if first is None:
        return [], False
    operands = [first]
    while parser.parse_optional_punctuation(",") is not None:
        operand = parser.parse_optional_unresolved_operand()
        if operand is None:
            return operands, True
        operands.append(operand)
    return operands, False


def parse_keyword_value(parser: Parser, keyword: str) -> None:
    """``keyword =``"""
    parser.parse_keyword(keyword)
    parser.parse_punctuation("=")


def parse_int_list(parser: Parser) -> list[int]:
    return parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parser.parse_integer)


def i64_array(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


def int_attr(value: int, width: int = 64) -> IntegerAttr:
    return IntegerAttr(value, IntegerType(width))


def parse_attr_dict(parser: Parser, op_type: type[Operation], keyword: bool = False) -> tuple[dict[str, Attribute], dict[str, Attribute]]:
    """An optional ``{...}`` (after ``attributes`` when ``keyword``), split into the op's
    properties and its discardable attributes."""
    if keyword:
        if parser.parse_optional_keyword("attributes") is None:
            return {}, {}
        entries = parser.parse_optional_attr_dict()
        if not entries:
            parser.raise_error("expected an attribute dictionary after 'attributes'")
    else:
        entries = parser.parse_optional_attr_dict()
    if not entries:
        return {}, {}
    names = _property_names(op_type)
    properties = {k: v for k, v in entries.items() if k in names}
    attributes = {k: v for k, v in entries.items() if k not in names}
    return properties, attributes


_PROPERTY_NAMES: dict[type, frozenset[str]] = {}


def _property_names(op_type: type[Operation]) -> frozenset[str]:
    got = _PROPERTY_NAMES.get(op_type)
    if got is None:
        got = frozenset(op_type.get_irdl_definition().properties) if issubclass(op_type, IRDLOperation) else frozenset()
        _PROPERTY_NAMES[op_type] = got
    return got


def at_function_type(parser: Parser) -> bool:
    return parser._current_token.kind == MLIRTokenKind.L_PAREN


def parse_same_type(parser: Parser, n_operands: int, n_results: int) -> tuple[Sequence[Attribute], Sequence[Attribute]]:
    """`` : T`` (every operand and result) or `` : (T1, ..) -> R``."""
    parser.parse_punctuation(":")
    if at_function_type(parser):
        ft = parser.parse_function_type()
        return ft.inputs.data, ft.outputs.data
    t = parser.parse_type()
    return [t] * n_operands, [t] * n_results


def parse_functional_type(parser: Parser) -> FunctionType:
    parser.parse_punctuation(":")
    return parser.parse_function_type()


def parse_type_list(parser: Parser) -> list[Attribute]:
    return parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_type)


def resolve(parser: Parser, operands: Sequence[UnresolvedOperand], types: Sequence[Attribute]) -> list[SSAValue]:
    if len(operands) != len(types):
        parser.raise_error(f"expected {len(operands)} operand types but got {len(types)}")
    return [parser.resolve_operand(o, t) for o, t in zip(operands, types)]


def build(
    op_type: type[_Op],
    operands: Sequence[SSAValue | Sequence[SSAValue]] = (),
    result_types: Sequence[Attribute] = (),
    properties: Mapping[str, Attribute] | None = None,
    attributes: Mapping[str, Attribute] | None = None,
    regions: Sequence[Region] = (),
) -> _Op:
    flat: list[SSAValue] = []
    for o in operands:
        if isinstance(o, SSAValue):
            flat.append(o)
        else:
            flat.extend(o)
    return op_type.create(
        operands=flat,
        result_types=list(result_types),
        properties=dict(properties or {}),
        attributes=dict(attributes or {}),
        regions=list(regions),
    )


def parse_simple(parser: Parser, op_type: type[_Op], n_results: int = 1, functional: bool = False) -> _Op:
    """``%a, %b attr-dict : T`` or ``: (..) -> ..`` (ops whose syntax is operands only)."""
    operands, comma = parse_operands(parser)
    if comma:
        parser.raise_error("expected an operand after ','")
    properties, attributes = parse_attr_dict(parser, op_type)
    if functional:
        ft = parse_functional_type(parser)
        ins, outs = ft.inputs.data, ft.outputs.data
    else:
        ins, outs = parse_same_type(parser, len(operands), n_results)
    return build(op_type, resolve(parser, operands, ins), outs, properties, attributes)


def print_simple(printer: Printer, op: Operation, functional: bool = False, defaults: Mapping[str, Attribute] | None = None) -> None:
    printer.print_string(" ")
    print_operands(printer, op.operands)
    print_attr_dict(printer, op, defaults=defaults)
    (print_functional_type if functional else print_same_type)(printer, op)


def keyword_args(parser: Parser, comma: bool, parsers: Mapping[str, Callable[[], Any]], required: Iterable[str] = ()) -> dict[str, Any]:
    """``, key = value, key = value`` after operands, in the given order, each optional
    unless ``required``; ``comma`` says whether the first ``,`` was already consumed."""
    values: dict[str, Any] = {}
    must = set(required)
    pending_comma = comma
    for key, parse_value in parsers.items():
        if not pending_comma:
            if parser._current_token.kind != MLIRTokenKind.COMMA:
                if key in must:
                    parser.raise_error(f"expected ', {key} ='")
                continue
            # Only consume the comma when the keyword follows.
            pending_comma = True
            parser.parse_punctuation(",")
        if parser.parse_optional_keyword(key) is None:
            if key in must:
                parser.raise_error(f"expected '{key}'")
            continue
        parser.parse_punctuation("=")
        values[key] = parse_value()
        pending_comma = False
    if pending_comma:
        parser.raise_error(f"expected one of {', '.join(repr(k) for k in parsers)}")
    return values


# ----------------------------------------------------------------- floats


def _float_digits(value: float, format_precision: int) -> tuple[str, int]:
    """Decimal digits (most significant first, no trailing zeros) and decimal exponent of
    the finite non-zero ``|value|``, cut to ``format_precision`` digits the way MLIR's
    float printer (LLVM's APFloat) does: the exact binary value is first shortened by
    truncating whole decimal digits, then rounded half up."""
    m, e = math.frexp(abs(value))
    n = int(m * (1 << 53))
    e2 = e - 53
    shift = (n & -n).bit_length() - 1
    n >>= shift
    e2 += shift
    if e2 >= 0:
        significand, exp = n << e2, 0
    else:
        significand, exp = n * 5 ** (-e2), e2
    bits = significand.bit_length()
    required = (format_precision * 196 + 58) // 59
    if bits > required:
        removable = (bits - required) * 59 // 196
        significand //= 10**removable
        exp += removable
    text = str(significand)
    digits = text.rstrip("0")
    exp += len(text) - len(digits)
    if len(digits) > format_precision:
        cut = len(digits) - format_precision
        rounded = int(digits[:format_precision]) + (digits[format_precision] >= "5")
        text = str(rounded)
        digits = text.rstrip("0")
        exp += cut + len(text) - len(digits)
    return digits, exp


def mlir_float_text(value: float, precision_bits: int, round_trips: Callable[[str], bool]) -> str | None:
    """MLIR's text for the finite float ``value`` of a type with ``precision_bits``
    significand bits: ``1.500000e+00`` when six digits give the value back
    (``round_trips(text)``), else the shortest form MLIR's APFloat writes
    (``0.899999976``, ``9.99999974E-6``); None where MLIR prints the bits in hex."""
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0.000000e+00"
    digits, exp = _float_digits(value, 6)
    e10 = exp + len(digits) - 1
    mantissa = digits[0] + "." + digits[1:].ljust(6, "0")
    text = f"{sign}{mantissa}e{'+' if e10 >= 0 else '-'}{abs(e10):02d}"
    if round_trips(text):
        return text
    precision = 2 + precision_bits * 59 // 196
    digits, exp = _float_digits(value, precision)
    n = len(digits)
    if exp >= 0:
        scientific = exp > 3 or n + exp > precision
    else:
        scientific = -(exp + n - 1) > 3 if exp + n - 1 < 0 else False
    if scientific:
        e10 = exp + n - 1
        return f"{sign}{digits[0]}.{digits[1:] or '0'}E{'+' if e10 >= 0 else '-'}{abs(e10)}"
    if exp >= 0:
        return None  # an integer: no '.', so MLIR prints hex
    whole = exp + n
    if whole > 0:
        return f"{sign}{digits[:whole]}.{digits[whole:]}"
    return f"{sign}0.{'0' * -whole}{digits}"
