"""Chains of conversions: reduce_precision that keeps every bit or follows a narrower
reduce_precision, bitcast_convert to the same type or through a type of the same width,
integer conversions that only keep low bits, round trips through a type that holds every
value (booleans through numbers, small integers through floats), and
count_leading_zeros of constants.

Exact for every value: reduce_precision rounds to a format, keeps NaN as it is and flushes
values below the format's normals to zero, so a format holding every result of the first
one changes none of them; an integer conversion keeps the low bits of its operand
(two's complement), so narrowing twice keeps the low bits of the narrower type.
"""

from __future__ import annotations

from xdsl.dialects.builtin import IntegerType

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ...ir.dense import element_dtype
from ..lazy_jax import lax
from ..pattern import Example, producer, rule, value_of
from .common import MAX_FOLD_ELEMENTS, constant_splat, emit
from .common import mlir_main

_FORMATS = {"float64": (11, 52), "float32": (8, 23), "float16": (5, 10), "bfloat16": (8, 7)}


def _format(v) -> tuple[int, int] | None:
    try:
        return _FORMATS.get(element_dtype(elem(v)).name)
    except (TypeError, ValueError, KeyError):
        return None


def _bits(op: hlo.ReducePrecisionOp) -> tuple[int, int]:
    return op.exponent_bits.value.data, op.mantissa_bits.value.data


@rule(
    example=Example(
        mlir=mlir_main(
            "%0 = stablehlo.reduce_precision %x, format = e11m52 : tensor<4xf64>\n  func.return %0 : tensor<4xf64>"
        )
    )
)
def reduce_precision_noop(op: hlo.ReducePrecisionOp, b: Builder):
    """reduce_precision(x, e, m) -> x   (e and m at least x's type's exponent and mantissa bits; not bfloat16)"""
    fmt = _format(op.operand)
    if fmt is None or fmt == _FORMATS["bfloat16"]:
        return None  # XLA computes bfloat16 in f32, which quiets signalling NaNs
    e, m = _bits(op)
    if e < fmt[0] or m < fmt[1]:
        return None
    return op.operand


@rule(
    example=[
        Example(lambda x: lax.reduce_precision(lax.reduce_precision(x, 5, 10), 8, 23), [(4,)]),
        Example(lambda x: lax.reduce_precision(lax.reduce_precision(x, 8, 7), 8, 7), [(4,)]),
    ],
    needs={0: hlo.ReducePrecisionOp},
)
def reduce_precision_reduce_precision(op: hlo.ReducePrecisionOp, b: Builder):
    """reduce_precision(reduce_precision(x, e1, m1), e2, m2) -> reduce_precision(x, e1, m1)   (e2 >= e1, m2 >= m1)"""
    inner = producer(op.operand, hlo.ReducePrecisionOp)
    if inner is None:
        return None
    e1, m1 = _bits(inner)
    e2, m2 = _bits(op)
    if e2 < e1 or m2 < m1:
        return None
    return op.operand


@rule(
    example=Example(
        mlir=mlir_main("%0 = stablehlo.bitcast_convert %x : (tensor<4xf64>) -> tensor<4xf64>\n  func.return %0 : tensor<4xf64>")
    )
)
def bitcast_convert_noop(op: hlo.BitcastConvertOp, b: Builder):
    """bitcast_convert(x) -> x   (to x's own type)"""
    if op.result.type != op.operand.type:
        return None
    return op.operand


def _width(v) -> int | None:
    width = getattr(elem(v), "bitwidth", None)
    return width if isinstance(width, int) else None


@rule(
    example=Example(
        mlir=mlir_main(
            "%0 = stablehlo.bitcast_convert %x : (tensor<4xf64>) -> tensor<4xi64>\n"
            "  %1 = stablehlo.bitcast_convert %0 : (tensor<4xi64>) -> tensor<4xui64>\n"
            "  %2 = stablehlo.convert %1 : (tensor<4xui64>) -> tensor<4xf64>\n"
            "  func.return %2 : tensor<4xf64>"
        )
    ),
    needs={0: hlo.BitcastConvertOp},
)
def bitcast_convert_bitcast_convert(op: hlo.BitcastConvertOp, b: Builder):
    """bitcast_convert(bitcast_convert(x, T2), T3) -> bitcast_convert(x, T3)   (T1, T2, T3 of one bit width)"""
    inner = producer(op.operand, hlo.BitcastConvertOp)
    if inner is None:
        return None
    w = {_width(inner.operand), _width(op.operand), _width(op.result)}
    if len(w) != 1 or None in w:
        return None
    if inner.operand.type == op.result.type:
        return inner.operand
    return b.insert(hlo.BitcastConvertOp(inner.operand, op.result.type)).results[0]


def _int_width(v) -> int | None:
    t = elem(v)
    if not isinstance(t, IntegerType):
        return None
    return t.width.data


@rule(
    example=[
        Example(
            mlir="""
func.func @main(%x: tensor<4xi64>) -> tensor<4xi16> {
  %0 = stablehlo.convert %x : (tensor<4xi64>) -> tensor<4xi32>
  %1 = stablehlo.convert %0 : (tensor<4xi32>) -> tensor<4xi16>
  func.return %1 : tensor<4xi16>
}"""
        ),
        Example(
            mlir="""
func.func @main(%x: tensor<4xi32>) -> tensor<4xi16> {
  %0 = stablehlo.convert %x : (tensor<4xi32>) -> tensor<4xui64>
  %1 = stablehlo.convert %0 : (tensor<4xui64>) -> tensor<4xi16>
  func.return %1 : tensor<4xi16>
}"""
        ),
    ],
    needs={0: hlo.ConvertOp},
)
def convert_integer_low_bits(op: hlo.ConvertOp, b: Builder):
    """convert(convert(x, iB), iC) -> convert(x, iC)   (integers, x not boolean, C <= B and neither boolean: both keep x's low C bits)"""
    inner = producer(op.operand, hlo.ConvertOp)
    if inner is None:
        return None
    a, mid, c = _int_width(inner.operand), _int_width(op.operand), _int_width(op.result)
    if a is None or mid is None or c is None or 1 in (a, mid, c) or c > mid:
        return None
    if elem(inner.operand) == elem(op.result):
        return None  # back to x's type: convert_widen_narrow_integer's case
    return b.convert(inner.operand, elem(op.result))


@rule(
    example=[
        Example(
            mlir="""
func.func @main(%x: tensor<4xf64>) -> tensor<4xi1> {
  %z = stablehlo.constant dense<0.0> : tensor<4xf64>
  %p = stablehlo.compare GT, %x, %z : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>
  %0 = stablehlo.convert %p : (tensor<4xi1>) -> tensor<4xf32>
  %1 = stablehlo.convert %0 : (tensor<4xf32>) -> tensor<4xi1>
  func.return %1 : tensor<4xi1>
}"""
        ),
        Example(
            mlir="""
func.func @main(%x: tensor<4xf64>) -> tensor<4xi1> {
  %z = stablehlo.constant dense<0.0> : tensor<4xf64>
  %p = stablehlo.compare GT, %x, %z : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>
  %0 = stablehlo.convert %p : (tensor<4xi1>) -> tensor<4xi8>
  %1 = stablehlo.convert %0 : (tensor<4xi8>) -> tensor<4xi1>
  func.return %1 : tensor<4xi1>
}"""
        ),
    ],
    needs={0: hlo.ConvertOp},
)
def convert_boolean_round_trip(op: hlo.ConvertOp, b: Builder):
    """convert(convert(p, T), i1) -> p   (p boolean: 0 and 1 convert back to false and true)"""
    inner = producer(op.operand, hlo.ConvertOp)
    if inner is None or _int_width(inner.operand) != 1 or _int_width(op.result) != 1:
        return None
    if inner.operand.type != op.result.type:
        return None
    return inner.operand


_EXACT_INTS = {"float64": 53, "float32": 24, "float16": 11, "bfloat16": 8}


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<4xi32>) -> tensor<4xi32> {
  %0 = stablehlo.convert %x : (tensor<4xi32>) -> tensor<4xf64>
  %1 = stablehlo.convert %0 : (tensor<4xf64>) -> tensor<4xi32>
  func.return %1 : tensor<4xi32>
}"""
    ),
    needs={0: hlo.ConvertOp},
)
def convert_integer_float_round_trip(op: hlo.ConvertOp, b: Builder):
    """convert(convert(x, F), T) -> x   (x an integer of type T that F holds exactly: every value of T within F's mantissa)"""
    inner = producer(op.operand, hlo.ConvertOp)
    if inner is None or inner.operand.type != op.result.type:
        return None
    w = _int_width(inner.operand)
    if w is None or w == 1:
        return None
    try:
        mid = element_dtype(elem(op.operand)).name
    except (TypeError, ValueError, KeyError):
        return None
    if mid not in _EXACT_INTS or w > _EXACT_INTS[mid]:
        return None
    return inner.operand


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<4xi32>) -> tensor<4xi32> {
  %c = stablehlo.constant dense<[0, 1, 7, 65535]> : tensor<4xi32>
  %0 = stablehlo.count_leading_zeros %c : tensor<4xi32>
  %1 = stablehlo.add %0, %x : tensor<4xi32>
  func.return %1 : tensor<4xi32>
}"""
    ),
    needs={0: hlo.ConstantOp},
)
def count_leading_zeros_constant_fold(op: hlo.CountLeadingZerosOp, b: Builder):
    """count_leading_zeros(c) -> c'   (integer constants)"""
    import numpy as np
    value = value_of(op.operand)
    w = _int_width(op.operand)
    if value is None or w is None or value.size > MAX_FOLD_ELEMENTS or value.dtype.kind not in "iu":
        return None
    bits = value.astype(np.int64) & ((1 << w) - 1) if w < 64 else value.view(np.uint64)
    out = np.empty(bits.shape, dtype=np.int64)
    for idx, v in np.ndenumerate(bits):
        out[idx] = w - int(v).bit_length()
    return emit(b, out.astype(value.dtype), op.result.type)


def _holds(src, dst) -> bool:
    """Every value of the integer type ``src`` is a value of the integer type ``dst``."""
    import numpy as np
    a, b = np.iinfo(element_dtype(src)), np.iinfo(element_dtype(dst))
    return b.min <= a.min and a.max <= b.max


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<4xi16>) -> tensor<4xi64> {
  %0 = stablehlo.convert %x : (tensor<4xi16>) -> tensor<4xf32>
  %1 = stablehlo.convert %0 : (tensor<4xf32>) -> tensor<4xi64>
  func.return %1 : tensor<4xi64>
}"""
    ),
    needs={0: hlo.ConvertOp},
)
def convert_integer_through_float(op: hlo.ConvertOp, b: Builder):
    """convert(convert(x, F), T) -> convert(x, T)   (x an integer F holds exactly, T an integer type holding every value of x's type)"""
    inner = producer(op.operand, hlo.ConvertOp)
    if inner is None or inner.operand.type == op.result.type:
        return None
    w, t = _int_width(inner.operand), _int_width(op.result)
    if w is None or t is None or 1 in (w, t):
        return None
    try:
        mid = element_dtype(elem(op.operand)).name
        holds = _holds(elem(inner.operand), elem(op.result))
    except (TypeError, ValueError, KeyError):
        return None
    if mid not in _EXACT_INTS or w > _EXACT_INTS[mid] or not holds:
        return None
    return b.convert(inner.operand, elem(op.result))


@rule(
    example=[
        Example(lambda x: lax.reduce_precision(x.astype("bfloat16").astype("float32"), 8, 7).astype("float64"), [(4,)]),
        Example(lambda x: lax.reduce_precision(x.astype("float16").astype("float32"), 8, 10).astype("float64"), [(4,)]),
    ],
    needs={0: hlo.ConvertOp},
)
def reduce_precision_of_widened(op: hlo.ReducePrecisionOp, b: Builder):
    """reduce_precision(convert(x, T), e, m) -> convert(x, T)   (x's float type has at most m mantissa bits, e is T's exponent width: nothing to round or flush)"""
    cv = producer(op.operand, hlo.ConvertOp)
    if cv is None:
        return None
    src, dst = _format(cv.operand), _format(op.operand)
    if src is None or dst is None or src[0] > dst[0] or src[1] > dst[1]:
        return None
    e, m = _bits(op)
    if e < dst[0] or m < src[1]:
        return None
    return op.operand


_UINT = {2: "uint16", 4: "uint32", 8: "uint64"}


def _reduce_precision(x: np.ndarray, fmt: tuple[int, int], e: int, m: int) -> np.ndarray:
    """XLA's reduce_precision of the float array ``x`` (format ``fmt``) to e exponent and
    m mantissa bits: round the mantissa to nearest even, then overflow to ±inf and flush
    values below the reduced normals to ±0; NaN kept as it is."""
    import numpy as np
    E, M = fmt
    u = _UINT[x.dtype.itemsize]
    width = x.dtype.itemsize * 8
    bits = x.view(u).astype(np.uint64)
    full = (1 << width) - 1
    if m < M:
        last = 1 << (M - m)
        bias = (last >> 1) - 1
        lsb = (bits & last) >> np.uint64(M - m)
        bits = ((bits + lsb + np.uint64(bias)) & np.uint64(full)) & np.uint64(full & ~(last - 1))
    if e < E:
        sign = np.uint64(1 << (width - 1))
        exp_mask = np.uint64(((1 << E) - 1) << M)
        exponent = bits & exp_mask
        ebias = (1 << (E - 1)) - 1
        rbias = (1 << (e - 1)) - 1
        overflow = exponent > np.uint64((ebias + rbias) << M)
        underflow = exponent <= np.uint64((ebias - rbias) << M)
        bits = np.where(overflow, (bits & sign) | exp_mask, np.where(underflow, bits & sign, bits))
    out = bits.astype(u).view(x.dtype)
    if m < M or e < E:
        out = np.where(np.isnan(x), x, out)
    return out


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<6xf32>) -> tensor<6xf32> {
  %c = stablehlo.constant dense<[1.00048828, 3.14159274, 1.0e-30, 65520.0, -2.5e-5, 0x7FC00001]> : tensor<6xf32>
  %0 = stablehlo.reduce_precision %c, format = e5m10 : tensor<6xf32>
  %1 = stablehlo.add %0, %x : tensor<6xf32>
  func.return %1 : tensor<6xf32>
}"""
    ),
    needs={0: hlo.ConstantOp},
)
def reduce_precision_constant_fold(op: hlo.ReducePrecisionOp, b: Builder):
    """reduce_precision(c, e, m) -> c'   (f16, f32, f64 constants; rounding to nearest even, overflow to inf, flush below the normals, NaN kept)"""
    import numpy as np
    value = value_of(op.operand)
    fmt = _format(op.operand)
    if value is None or fmt is None or value.size > MAX_FOLD_ELEMENTS or value.dtype.name not in ("float16", "float32", "float64"):
        return None  # bfloat16 is computed in f32 by XLA, which quiets signalling NaNs
    e, m = _bits(op)
    if e < 1 or m < 0:
        return None
    out = _reduce_precision(np.ascontiguousarray(value), fmt, e, m)
    return emit(b, out, op.output.type)


def _low_bits_set(c: np.ndarray, n: int) -> bool:
    import numpy as np
    mask = (1 << n) - 1
    return (int(c) & mask) == mask


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<4xui8>) -> tensor<4xi32> {
  %0 = stablehlo.convert %x : (tensor<4xui8>) -> tensor<4xi32>
  %c = stablehlo.constant dense<255> : tensor<4xi32>
  %1 = stablehlo.and %0, %c : tensor<4xi32>
  func.return %1 : tensor<4xi32>
}"""
    ),
    commutative=True,
    needs=hlo.ConvertOp,
)
def and_mask_of_widened_unsigned(op: hlo.AndOp, b: Builder, x, y):
    """and(convert(u), c) -> convert(u)   (u unsigned of N bits, widened to an integer: its high bits are 0; c has the low N bits set)"""
    import numpy as np
    cv = producer(x, hlo.ConvertOp)
    c = constant_splat(y)
    if cv is None or c is None or c.dtype.kind not in "iu":
        return None
    try:
        src = element_dtype(elem(cv.operand))
    except (TypeError, ValueError, KeyError):
        return None
    n, w = _int_width(cv.operand), _int_width(op.result)
    if np.dtype(src).kind != "u" or n is None or w is None or n == 1 or n >= w:
        return None
    if not _low_bits_set(c, n):
        return None
    return x


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<4xi32>) -> tensor<4xi8> {
  %c = stablehlo.constant dense<255> : tensor<4xi32>
  %0 = stablehlo.and %x, %c : tensor<4xi32>
  %1 = stablehlo.convert %0 : (tensor<4xi32>) -> tensor<4xi8>
  func.return %1 : tensor<4xi8>
}"""
    ),
    needs={0: hlo.AndOp},
)
def convert_narrow_of_mask(op: hlo.ConvertOp, b: Builder):
    """convert(and(x, c), iN) -> convert(x, iN)   (integers, N not 1: the conversion keeps the low N bits, which c keeps too)"""
    a = producer(op.operand, hlo.AndOp)
    n, w = _int_width(op.result), _int_width(op.operand)
    if a is None or n is None or w is None or n == 1 or n > w:
        return None
    for v, c in ((a.lhs, a.rhs), (a.rhs, a.lhs)):
        k = constant_splat(c)
        if k is not None and k.dtype.kind in "iu" and _low_bits_set(k, n):
            return b.convert(v, elem(op.result))
    return None
