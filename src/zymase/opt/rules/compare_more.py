"""Compares moved onto the values they test: through bijections of integers (adding,
subtracting or xor-ing a constant, negation, complement), from differences to the values
themselves, from widened floats to the narrow type, and pairs of compares with constants
that leave nothing or everything. Also division by -1 of floats and reductions of iotas.

Exactness. On integers ``x + c``, ``x - c``, ``c - x``, ``x ^ c``, ``-x`` and ``~x`` are
bijections modulo 2^bits, so they keep equality (EQ, NE) without exception, wrap-around
included; ``x - y == 0`` and ``x ^ y == 0`` hold exactly when ``x == y``. Widening a float
is exact and monotone, so comparing the widened value with a constant representable in the
narrow type is comparing the narrow value (NaN unordered either way). ``x / -1`` is
``-x`` bit for bit (IEEE division by -1 is exact and flips the sign, NaN stays NaN).
"""

from __future__ import annotations

import math

from ..lazy_jax import jnp
from ..lazy_jax import lax
from ..lazy_jax import np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ..pattern import SPLAT, Example, producer, rule, shape
from .common import any_dtype, constant_splat, emit_splat, foldable_dtype, is_integer

I32 = ["int32"]
I32_2 = ["int32", "int32"]


def _plain_integer(v: SSAValue) -> bool:
    """Integer elements (not i1) of a type numpy has."""
    dt = any_dtype(v)
    return dt is not None and dt.kind in "iu"


def _equality(op: hlo.CompareOp) -> bool:
    return op.comparison_direction.data.value in ("EQ", "NE")


def _kind(op: hlo.CompareOp):
    return None if op.compare_type is None else op.compare_type.data.value


def _wrap(value: int, like: SSAValue):
    dt = any_dtype(like)
    w = dt.itemsize * 8
    value %= 1 << w
    if dt.kind == "i" and value >= 1 << (w - 1):
        value -= 1 << w
    return np.asarray(value, dt)


@rule(
    example=[
        Example(lambda x: x + 5 == 3, [(4,)], dtypes=I32),
        Example(lambda x: 7 - x != 2, [(4,)], dtypes=I32),
        Example(lambda x: (x ^ 6) == 1, [(4,)], dtypes=I32),
        Example(lambda x: -x == 4, [(4,)], dtypes=I32),
        Example(lambda x: ~x != -3, [(4,)], dtypes=I32),
    ],
    needs={0: (hlo.AddOp, hlo.SubtractOp, hlo.XorOp, hlo.NegateOp, hlo.NotOp), 1: SPLAT},
)
def compare_bijection_constant(op: hlo.CompareOp, b: Builder):
    """compare(x + c, d, EQ|NE) -> compare(x, d - c) ;  x - c, c - x, x ^ c, -x, ~x likewise   (integers: bijections modulo 2^bits, wrap-around included)"""
    if not _equality(op) or not _plain_integer(op.lhs):
        return None
    d = constant_splat(op.rhs)
    inner = op.lhs.owner
    if d is None or not isinstance(inner, (hlo.AddOp, hlo.SubtractOp, hlo.XorOp, hlo.NegateOp, hlo.NotOp)):
        return None
    dv = int(d)
    if isinstance(inner, (hlo.NegateOp, hlo.NotOp)):
        x = inner.operand
        target = -dv if isinstance(inner, hlo.NegateOp) else ~dv
    else:
        lc, rc = constant_splat(inner.lhs), constant_splat(inner.rhs)
        if isinstance(inner, hlo.SubtractOp) and lc is not None and rc is None:
            x, target = inner.rhs, int(lc) - dv  # c - x == d  <=>  x == c - d
        elif rc is not None and lc is None:
            x, c = inner.lhs, int(rc)
            target = dv - c if isinstance(inner, hlo.AddOp) else dv + c if isinstance(inner, hlo.SubtractOp) else dv ^ c
        elif lc is not None and rc is None and isinstance(inner, (hlo.AddOp, hlo.XorOp)):
            x, c = inner.rhs, int(lc)
            target = dv - c if isinstance(inner, hlo.AddOp) else dv ^ c
        else:
            return None
    if any(n < 0 for n in shape(op.rhs)):
        return None
    value = emit_splat(b, _wrap(target, op.rhs), op.rhs.type)
    return b.compare(x, value, op.comparison_direction.data.value, _kind(op))


@rule(
    example=[Example(lambda x, y: (x - y) == 0, [(4,), (4,)], dtypes=I32_2), Example(lambda x, y: (x ^ y) != 0, [(4,), (4,)], dtypes=I32_2)],
    needs={0: (hlo.SubtractOp, hlo.XorOp), 1: SPLAT},
)
def compare_difference_zero(op: hlo.CompareOp, b: Builder):
    """compare(x - y, 0, EQ|NE) -> compare(x, y, EQ|NE) ;  x ^ y likewise   (integers: zero exactly when x == y)"""
    if not _equality(op) or not _plain_integer(op.lhs):
        return None
    z = constant_splat(op.rhs)
    inner = producer(op.lhs, (hlo.SubtractOp, hlo.XorOp))
    if z is None or int(z) != 0 or inner is None:
        return None
    return b.compare(inner.lhs, inner.rhs, op.comparison_direction.data.value, _kind(op))


_NARROW = {"float64": ("float32", "float16"), "float32": ("float16",)}


@rule(
    example=[
        Example(lambda x: x.astype(jnp.float64) < 0.5, [(4,)], dtypes=["float32"]),
        Example(lambda x: x.astype(jnp.float64) == 1.25, [(4,)], dtypes=["float32"]),
    ],
    needs={0: hlo.ConvertOp, 1: SPLAT},
)
def compare_widened_float_constant(op: hlo.CompareOp, b: Builder):
    """compare(convert(x), c) -> compare(x, c)   (x float widened exactly, c a splat the narrow type holds exactly: widening is exact and monotone)"""
    if _kind(op) not in (None, "FLOAT"):
        return None
    cv = producer(op.lhs, hlo.ConvertOp)
    c = constant_splat(op.rhs)
    if cv is None or c is None:
        return None
    wide, narrow = str(any_dtype(cv.result)), str(any_dtype(cv.operand))
    if narrow not in _NARROW.get(wide, ()):
        return None
    nd = np.dtype(narrow)
    with np.errstate(all="ignore"):
        back = np.asarray(c).astype(nd)
    if math.isnan(float(c)) or float(back) != float(c):
        return None
    value = emit_splat(b, back, TensorType(elem(cv.operand), shape(op.rhs)))
    return b.compare(cv.operand, value, op.comparison_direction.data.value, _kind(op))


# ============================================================================ compares with constants that leave nothing or everything


def _bound(v: SSAValue):
    c = producer(v, hlo.CompareOp)
    if c is None:
        return None
    k = constant_splat(c.rhs)
    if k is None or constant_splat(c.lhs) is not None or _kind(c) == "TOTALORDER":
        return None
    if k.dtype.kind == "f" and math.isnan(float(k)):
        return None
    if k.dtype.kind not in "iuf" or str(k.dtype) == "bfloat16" or (_kind(c) == "UNSIGNED" and k.dtype.kind == "i"):
        return None
    return c, c.comparison_direction.data.value, float(k) if k.dtype.kind == "f" else int(k)


def _empty(lower, upper) -> bool:
    """No x satisfies both: lower is (GT|GE, a), upper is (LT|LE, c)."""
    (ld, a), (ud, c) = lower, upper
    if ld == "GE" and ud == "LE":
        return a > c
    return a >= c


@rule(
    example=[
        Example(lambda x: (x > 1.0) & (x < 0.5), [(4,)]),
        Example(lambda x: (x <= -2) & (x >= 3), [(4,)], dtypes=I32),
        Example(lambda x: (x < 1.0) & (x >= 1.0), [(4,)]),
    ],
    needs={0: hlo.CompareOp, 1: hlo.CompareOp},
)
def and_compares_disjoint(op: hlo.AndOp, b: Builder):
    """and(x > a, x < c) -> false   (a >= c: no x lies between; GE, LE likewise; constants not NaN)"""
    left, right = _bound(op.lhs), _bound(op.rhs)
    if left is None or right is None:
        return None
    (c1, d1, k1), (c2, d2, k2) = left, right
    if c1.lhs is not c2.lhs or c1.rhs.type != c2.rhs.type or _kind(c1) != _kind(c2) or any(n < 0 for n in shape(op.result)):
        return None
    for lower, upper in (((d1, k1), (d2, k2)), ((d2, k2), (d1, k1))):
        if lower[0] in ("GT", "GE") and upper[0] in ("LT", "LE") and _empty(lower, upper):
            return b.zeros(op.result.type)
    return None


@rule(
    example=[Example(lambda x: (x < 3) | (x >= 3), [(4,)], dtypes=I32), Example(lambda x: (x <= 1) | (x > -2), [(4,)], dtypes=I32)],
    needs={0: hlo.CompareOp, 1: hlo.CompareOp},
)
def or_compares_cover(op: hlo.OrOp, b: Builder):
    """or(x < a, x >= c) -> true   (integers, c <= a: every x is on one side; LE, GT likewise)"""
    left, right = _bound(op.lhs), _bound(op.rhs)
    if left is None or right is None:
        return None
    (c1, d1, k1), (c2, d2, k2) = left, right
    if c1.lhs is not c2.lhs or not _plain_integer(c1.lhs) or _kind(c1) != _kind(c2) or any(n < 0 for n in shape(op.result)):
        return None
    for (ud, a), (ld, c) in (((d1, k1), (d2, k2)), ((d2, k2), (d1, k1))):
        if ud not in ("LT", "LE") or ld not in ("GT", "GE"):
            continue
        top = a if ud == "LE" else a - 1  # x <= top on one side
        bottom = c if ld == "GE" else c + 1  # x >= bottom on the other
        if bottom <= top + 1:
            return b.constant(np.asarray(True), op.result.type)
    return None


# ============================================================================ floats divided by -1, reductions of iotas


@rule(example=Example(lambda x: x / -1.0, [(4,)]), needs={1: SPLAT})
def divide_minus_one(op: hlo.DivideOp, b: Builder):
    """divide(x, -1) -> negate(x)   (floats: exact, -0.0 and NaN included)"""
    c = constant_splat(op.rhs)
    if c is None or c.dtype.kind != "f" or float(c) != -1.0 or op.lhs.type != op.result.type:
        return None
    return b.neg(op.lhs)


@rule(
    example=[
        Example(
            mlir='func.func @main(%x: tensor<4xf64>) -> tensor<4xf64> {\n'
            '  %i = "stablehlo.iota"() <{iota_dimension = 1 : i64}> : () -> tensor<4x5xf64>\n'
            "  %m = stablehlo.constant dense<0xFFF0000000000000> : tensor<f64>\n"
            "  %0 = stablehlo.reduce(%i init: %m) applies stablehlo.maximum across dimensions = [1] : (tensor<4x5xf64>, tensor<f64>) -> tensor<4xf64>\n"
            "  %1 = stablehlo.add %x, %0 : tensor<4xf64>\n  func.return %1 : tensor<4xf64>\n}"
        ),
        Example(
            mlir='func.func @main(%x: tensor<4xi32>) -> tensor<4xi32> {\n'
            '  %i = "stablehlo.iota"() <{iota_dimension = 0 : i64}> : () -> tensor<3x4xi32>\n'
            "  %m = stablehlo.constant dense<1> : tensor<i32>\n"
            "  %0 = stablehlo.reduce(%i init: %m) applies stablehlo.minimum across dimensions = [0] : (tensor<3x4xi32>, tensor<i32>) -> tensor<4xi32>\n"
            "  %1 = stablehlo.add %x, %0 : tensor<4xi32>\n  func.return %1 : tensor<4xi32>\n}"
        ),
    ],
    needs={0: hlo.IotaOp},
)
def reduce_max_min_iota(op: hlo.ReduceOp, b: Builder):
    """reduce_max(iota, init) -> max(n - 1, init) ;  reduce_min -> min(0, init)   (the iota dimension reduced, of size n > 0; integers, or floats where n - 1 is exact)"""
    if len(op.inputs) != 1:
        return None
    kind = op.combiner()
    it = producer(op.inputs[0], hlo.IotaOp)
    init = constant_splat(op.init_values[0])
    if kind not in (hlo.MaximumOp, hlo.MinimumOp) or it is None or init is None:
        return None
    d = it.iota_dimension.value.data
    dims = [int(k) for k in op.dimensions.get_values()]
    sizes = shape(op.inputs[0])
    if d not in dims or any(sizes[k] == 0 for k in dims) or any(n < 0 for n in shape(op.results[0])):
        return None
    dt = foldable_dtype(op.inputs[0])
    if dt is None or dt.kind not in "iuf" or str(dt) == "bfloat16":
        return None
    n = sizes[d]
    if dt.kind == "f" and n - 1 > 2 ** (np.finfo(dt).nmant + 1):
        return None
    extreme = (n - 1) if kind is hlo.MaximumOp else 0
    iv = float(init) if dt.kind == "f" else int(init)
    if dt.kind == "f" and math.isnan(iv):
        value = np.asarray(np.nan, dt)
    elif dt.kind == "f" and iv == 0 and extreme == 0:
        value = np.asarray(init if kind is hlo.MinimumOp else 0.0, dt)  # XLA: -0.0 < +0.0, and the iota's 0 is +0.0
    else:
        value = np.asarray(max(extreme, iv) if kind is hlo.MaximumOp else min(extreme, iv), dt)
    return emit_splat(b, value, op.results[0].type)


# ============================================================================ chains of maximum / minimum with constants, clamps to one value


def _max_min_fold(kind, a, c):
    """XLA's maximum / minimum of two numpy scalars (NaN propagates, -0.0 < +0.0)."""
    if a.dtype.kind == "f":
        x, y = float(a), float(c)
        if math.isnan(x) or math.isnan(y):
            return np.asarray(np.nan, a.dtype)
        if x == y == 0.0:
            neg = (bool(np.signbit(x)), bool(np.signbit(y)))
            pick_neg = (neg[0] and neg[1]) if kind is hlo.MaximumOp else (neg[0] or neg[1])
            return np.asarray(-0.0 if pick_neg else 0.0, a.dtype)
    return np.asarray(np.maximum(a, c) if kind is hlo.MaximumOp else np.minimum(a, c)).astype(a.dtype)


@rule(
    example=[
        Example(lambda x: jnp.maximum(jnp.maximum(x, 0.5), -1.0), [(4,)]),
        Example(lambda x: jnp.minimum(jnp.minimum(x, 3), 1), [(4,)], dtypes=I32),
    ],
    roots=[hlo.MaximumOp, hlo.MinimumOp],
    needs={1: SPLAT},
)
def max_min_constant_chain(op, b: Builder):
    """maximum(maximum(x, c1), c2) -> maximum(x, max(c1, c2)) ;  minimum likewise   (splat constants: associative, NaN and -0.0 as XLA orders them; the inner op has no other user; floats: c1 != c2, else at x = c1 = c2 the chain passes a quarter of the derivative, one maximum half)"""
    c2 = constant_splat(op.rhs)
    inner = producer(op.lhs, type(op))
    if c2 is None or inner is None or len(list(op.lhs.uses)) != 1:
        return None
    for x, c in ((inner.lhs, inner.rhs), (inner.rhs, inner.lhs)):
        c1 = constant_splat(c)
        if c1 is None or constant_splat(x) is not None or c1.dtype != c2.dtype or str(c1.dtype) == "bfloat16" or c1.dtype.kind not in "iuf":
            continue
        if c1.dtype.kind == "f" and float(c1) == float(c2):
            return None
        return b.insert(type(op)(x, emit_splat(b, _max_min_fold(type(op), c1, c2), op.rhs.type))).results[0]
    return None


@rule(example=Example(lambda x: lax.clamp(jnp.int32(2), x, jnp.int32(2)), [(4,)], dtypes=I32))
def clamp_equal_bounds_integer(op: hlo.ClampOp, b: Builder):
    """clamp(c, x, c) -> broadcast(c)   (integers: both bounds one value)"""
    if not _plain_integer(op.operand):
        return None
    lo, hi = constant_splat(op.min), constant_splat(op.max)
    if lo is None or hi is None or int(lo) != int(hi) or any(n < 0 for n in shape(op.result)):
        return None
    return emit_splat(b, np.asarray(lo, any_dtype(op.operand)), op.result.type)


# ============================================================================ division of non-negative integers by powers of two


def _nonnegative(v: SSAValue) -> bool:
    from .iota_range import bounds

    r = bounds(v)
    return r is not None and not r.is_float and r.lo >= 0


def _power_of_two_signed(v: SSAValue) -> int | None:
    s = constant_splat(v)
    if s is None or s.dtype.kind != "i":
        return None
    n = int(s)
    return n.bit_length() - 1 if n > 0 and n & (n - 1) == 0 else None


def _iota_i32(line: str) -> Example:
    return Example(
        mlir='func.func @main(%x: tensor<8xi32>) -> tensor<8xi32> {\n'
        '  %i = "stablehlo.iota"() <{iota_dimension = 0 : i64}> : () -> tensor<8xi32>\n'
        "  %c = stablehlo.constant dense<4> : tensor<8xi32>\n"
        f"  %0 = {line}\n  %1 = stablehlo.add %0, %x : tensor<8xi32>\n  func.return %1 : tensor<8xi32>\n}}"
    )


@rule(example=_iota_i32("stablehlo.divide %i, %c : tensor<8xi32>"), needs={1: SPLAT})
def divide_power_of_two_nonnegative(op: hlo.DivideOp, b: Builder):
    """divide(x, 2^k) -> shift_right_logical(x, k)   (signed integers with x >= 0 by its range: truncation is the shift)"""
    k = _power_of_two_signed(op.rhs)
    if k is None or not _nonnegative(op.lhs) or any(n < 0 for n in shape(op.result)):
        return None
    if k == 0:
        return op.lhs
    amount = emit_splat(b, np.asarray(k, any_dtype(op.rhs)), op.rhs.type)
    return b.insert(hlo.ShiftRightLogicalOp(op.lhs, amount)).results[0]


@rule(example=_iota_i32("stablehlo.remainder %i, %c : tensor<8xi32>"), needs={1: SPLAT})
def remainder_power_of_two_nonnegative(op: hlo.RemainderOp, b: Builder):
    """remainder(x, 2^k) -> and(x, 2^k - 1)   (signed integers with x >= 0 by its range)"""
    k = _power_of_two_signed(op.rhs)
    if k is None or not _nonnegative(op.lhs) or any(n < 0 for n in shape(op.result)):
        return None
    mask = emit_splat(b, np.asarray((1 << k) - 1, any_dtype(op.rhs)), op.rhs.type)
    return b.insert(hlo.AndOp(op.lhs, mask)).results[0]


# ============================================================================ bit casts of transposes


@rule(
    example=Example(
        mlir="func.func @main(%x: tensor<2x3xf32>) -> tensor<3x2xi32> {\n"
        "  %t = stablehlo.transpose %x, dims = [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>\n"
        "  %0 = stablehlo.bitcast_convert %t : (tensor<3x2xf32>) -> tensor<3x2xi32>\n  func.return %0 : tensor<3x2xi32>\n}"
    ),
    needs={0: hlo.TransposeOp},
)
def bitcast_convert_transpose(op: hlo.BitcastConvertOp, b: Builder):
    """bitcast_convert(transpose(x, p)) -> transpose(bitcast_convert(x), p)   (same element width: elementwise; the transpose has no other user)"""
    t = producer(op.operand, hlo.TransposeOp)
    src, dst = any_dtype(op.operand), any_dtype(op.result)
    if t is None or src is None or dst is None or src.itemsize != dst.itemsize or len(list(op.operand.uses)) != 1:
        return None
    inner = b.insert(hlo.BitcastConvertOp.create(operands=[t.operand], result_types=[TensorType(elem(op.result), shape(t.operand))])).results[0]
    return b.transpose(inner, list(t.permutation.get_values()))
