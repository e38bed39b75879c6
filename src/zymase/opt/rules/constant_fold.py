"""Constant folding: ops evaluated on constant operands (elementwise and shape ops,
bounded in size), and ops whose result is a constant for any operand (iota along a unit
dimension, get_dimension_size of a static shape). Algebraic identities that mention
constants (``and(x, 0) -> 0``, ``power(x, 1) -> x``, constants to the right of a
commutative op) are in the families of their ops (algebraic, compare_select); slices,
transposes and concatenates of constants are folded in the slice, transpose and
concatenate families.

Only ops whose results are exactly determined are folded (IEEE arithmetic, comparisons,
selections, conversions, bit operations, shape ops), with XLA's semantics where numpy's
differ (signed zeros in max/min and sign, integer division by -1, out-of-range shifts).
Transcendental functions are never folded: libm results may differ from XLA's.

Splats stay splats: a fold whose result has one value everywhere gives one splat
constant (``dense<v> : tensor<...>``, stored as one element), never a materialised array,
and splat operands are read without materialising them (see ``common``). Other results are folded only up to
``MAX_FOLD_ELEMENTS``.
"""

from __future__ import annotations

from ..lazy_jax import jnp
from ..lazy_jax import ml_dtypes
from ..lazy_jax import np
from ..lazy_jax import lax
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ...ir.dense import element_dtype, is_bfloat16
from ..pattern import CONSTANT, Example, rule, shape
from .common import (
    MANTISSA_BITS,
    MAX_FOLD_ELEMENTS,
    broadcast_array,
    constant_array,
    constant_splat,
    dense_constant,
    emit,
    emit_splat,
    fold_rearrangement,
    foldable_dtype,
    mlir_constant,
    mlir_main,
    same_bits,
    size,
)


# ============================================================================ helpers


def _may_be_constant(v: SSAValue) -> bool:
    """Whether ``v`` may be a constant ``constant_splat`` / ``constant_array`` read: a
    constant, or a broadcast of one."""
    owner = v.owner
    while isinstance(owner, hlo.BroadcastInDimOp):
        owner = owner.operand.owner
    return isinstance(owner, hlo.ConstantOp)


def _fold(op, b: Builder, fn, operands: list[SSAValue] | None = None) -> SSAValue | None:
    """Fold elementwise ``op`` over constant operands with ``fn`` (numpy arrays in, array
    out, or None to refuse): on the scalars when every operand is a splat, otherwise on
    arrays of at most ``MAX_FOLD_ELEMENTS`` elements."""
    operands = list(op.operands) if operands is None else operands
    if not all(_may_be_constant(v) for v in operands):  # the cheap test first: most ops are not foldable
        return None
    if foldable_dtype(op.result) is None or any(foldable_dtype(v) is None for v in operands):
        return None
    splats = [constant_splat(v) for v in operands]
    if all(s is not None for s in splats):
        out = _apply(fn, splats, op.result)
        return None if out is None else emit_splat(b, out, op.result.type)
    if size(op.result) > MAX_FOLD_ELEMENTS:
        return None
    values = [constant_array(v) for v in operands]
    if any(v is None for v in values):
        return None
    out = _apply(fn, values, op.result)
    return None if out is None else emit(b, out, op.result.type)


def _apply(fn, values: list[np.ndarray], result: SSAValue) -> np.ndarray | None:
    """``fn`` on the operand values, as the result's element type; None when ``fn`` refuses
    or a float operand or the result is subnormal: XLA's CPU runtime flushes subnormals
    to zero while its own constant folder does not, so their results are not certain."""
    if any(_has_subnormal(v) for v in values):
        return None
    with np.errstate(all="ignore"):
        out = fn(*[_compute(v) for v in values])
    if out is None:
        return None
    out = _result(out, result)
    return None if _has_subnormal(out) else out


def _has_subnormal(arr: np.ndarray) -> bool:
    arr = np.asarray(arr)
    if is_bfloat16(arr.dtype):
        tiny = float(ml_dtypes.finfo(ml_dtypes.bfloat16).smallest_normal)
    elif arr.dtype.kind == "f":
        tiny = float(np.finfo(arr.dtype).smallest_normal)
    else:
        return False
    a = np.abs(arr.astype(np.float64))
    return bool(np.any((a > 0) & (a < tiny)))


def _compute(arr: np.ndarray) -> np.ndarray:
    """bfloat16 is computed in float32 and rounded back, which for +, -, *, / and the exact
    ops rounds the same as computing in bfloat16 (float32 has more than 2p+2 bits)."""
    arr = np.asarray(arr)
    return arr.astype(np.float32) if is_bfloat16(arr.dtype) else arr


def _result(out: np.ndarray, v: SSAValue) -> np.ndarray:
    return np.asarray(out).astype(element_dtype(elem(v)))


def _is_float(arr: np.ndarray) -> bool:
    return arr.dtype.kind == "f"


def _is_int(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "iu"


def _is_bool(arr: np.ndarray) -> bool:
    return arr.dtype == np.bool_


_I32 = "tensor<4xi32>"


def _i32_example(opname: str, *constants: str) -> Example:
    """``x + opname(constants...)`` on tensor<4xi32>: a fold's example."""
    names = ["a", "b"][: len(constants)]
    lines = [mlir_constant(n, c, _I32) for n, c in zip(names, constants)]
    lines.append(f'  %0 = "stablehlo.{opname}"({", ".join("%" + n for n in names)}) : ({", ".join([_I32] * len(names))}) -> {_I32}')
    lines.append(f'  %1 = "stablehlo.add"(%x, %0) : ({_I32}, {_I32}) -> {_I32}')
    lines.append(f"  func.return %1 : {_I32}")
    return Example(mlir=mlir_main("\n".join(lines), f"%x: {_I32}", _I32))


# ============================================================================ elementwise folds


@rule(example=Example(lambda x: x + (jnp.asarray(np.array([1.0, 2.0, 3.0, 4.0])) + 0.5), [(4,)]), needs={0: CONSTANT, 1: CONSTANT})
def add_constant_fold(op: hlo.AddOp, b: Builder):
    """add(c1, c2) -> c"""
    return _fold(op, b, lambda x, y: x + y)


@rule(example=_i32_example("subtract", "[7, -3, 2147483647, 0]", "[2, 5, -1, 1]"), needs={0: CONSTANT, 1: CONSTANT})
def subtract_constant_fold(op: hlo.SubtractOp, b: Builder):
    """subtract(c1, c2) -> c   (integers wrap)"""
    return _fold(op, b, lambda x, y: None if _is_bool(x) else x - y)


@rule(example=Example(lambda x: x * (jnp.asarray(np.array([1.0, 2.0, 3.0, 4.0])) * 3.0), [(4,)]), needs={0: CONSTANT, 1: CONSTANT})
def multiply_constant_fold(op: hlo.MultiplyOp, b: Builder):
    """multiply(c1, c2) -> c"""
    return _fold(op, b, lambda x, y: x * y)


def _int_divmod(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Truncating integer division and remainder as XLA computes them; None when a divisor
    is 0 (implementation-defined)."""
    if np.any(y == 0):
        return None
    x, y = np.broadcast_arrays(x, y)
    minus_one = (y == -1) if x.dtype.kind == "i" else np.zeros(x.shape, bool)
    safe_y = np.where(minus_one, 1, y).astype(x.dtype)
    r = np.fmod(x, safe_y)
    q = (x - r) // safe_y
    # x / -1 = -x (INT_MIN / -1 wraps to INT_MIN), x rem -1 = 0
    q = np.where(minus_one, -x, q).astype(x.dtype)
    r = np.where(minus_one, 0, r).astype(x.dtype)
    return q, r


@rule(example=_i32_example("divide", "[7, -7, -2147483648, 9]", "[2, 2, -1, -4]"), needs={0: CONSTANT, 1: CONSTANT})
def divide_constant_fold(op: hlo.DivideOp, b: Builder):
    """divide(c1, c2) -> c   (integers truncate; not folded for an integer divisor 0)"""

    def fn(x, y):
        if _is_float(x):
            return x / y
        if _is_int(x):
            qr = _int_divmod(x, y)
            return None if qr is None else qr[0]
        return None

    return _fold(op, b, fn)


@rule(example=Example(lambda x: x + lax.rem(np.array([7.5, -7.5, 1.0, -0.0]), np.array([2.0, 2.0, -0.75, 3.0])), [(4,)]), needs={0: CONSTANT, 1: CONSTANT})
def remainder_constant_fold(op: hlo.RemainderOp, b: Builder):
    """remainder(c1, c2) -> c   (sign of the dividend, exact; not folded for an integer divisor 0)"""

    def fn(x, y):
        if _is_float(x):
            return np.fmod(x, y)
        if _is_int(x):
            qr = _int_divmod(x, y)
            return None if qr is None else qr[1]
        return None

    return _fold(op, b, fn)


@rule(example=Example(lambda x: x * -jnp.asarray(np.array([1.0, -2.0, 0.0, 4.0])), [(4,)]), needs={0: CONSTANT})
def negate_constant_fold(op: hlo.NegateOp, b: Builder):
    """negate(c) -> -c   (integers wrap)"""
    return _fold(op, b, lambda x: None if _is_bool(x) else -x)


@rule(example=Example(lambda x: x * jnp.abs(np.array([1.0, -2.0, -0.0, 4.0])), [(4,)]), needs={0: CONSTANT})
def abs_constant_fold(op: hlo.AbsOp, b: Builder):
    """abs(c) -> |c|   (abs(INT_MIN) = INT_MIN)"""
    if elem(op.operand) != elem(op.result):
        return None  # complex abs
    return _fold(op, b, lambda x: None if _is_bool(x) else np.abs(x))


def _max_min(pick, negative_zero):
    """The fold of maximum or minimum: numpy's ``pick``, except that two zeros give -0.0
    when ``negative_zero(signbit x, signbit y)`` (XLA orders -0 below +0)."""

    def fn(x, y):
        out = pick(x, y)
        if _is_float(x):
            both_zero = (x == 0) & (y == 0)
            out = np.where(both_zero, np.where(negative_zero(np.signbit(x), np.signbit(y)), -0.0, 0.0).astype(x.dtype), out)
        return out

    return fn


@rule(example=Example(lambda x: x + jnp.maximum(np.array([1.0, -2.0, -0.0, 0.0]), np.array([0.5, -3.0, 0.0, -0.0])), [(4,)]), needs={0: CONSTANT, 1: CONSTANT})
def maximum_constant_fold(op: hlo.MaximumOp, b: Builder):
    """maximum(c1, c2) -> c   (NaN propagates; -0 < +0)"""
    return _fold(op, b, _max_min(np.maximum, np.logical_and))


@rule(example=Example(lambda x: x + jnp.minimum(np.array([1.0, -2.0, -0.0, 0.0]), np.array([0.5, -3.0, 0.0, -0.0])), [(4,)]), needs={0: CONSTANT, 1: CONSTANT})
def minimum_constant_fold(op: hlo.MinimumOp, b: Builder):
    """minimum(c1, c2) -> c   (NaN propagates; -0 < +0)"""
    return _fold(op, b, _max_min(np.minimum, np.logical_or))


_COMPARE = {"EQ": "equal", "NE": "not_equal", "LT": "less", "LE": "less_equal", "GT": "greater", "GE": "greater_equal"}
"""Comparison direction -> numpy's function, by name (numpy is imported when a compare is folded)."""


def _compare_kind_matches(op: hlo.CompareOp, dt: np.dtype) -> bool:
    """The comparison's type is the default one for the element type (TOTALORDER and
    mismatched signedness are not folded)."""
    if op.compare_type is None:
        return True
    kind = op.compare_type.data.value
    if kind == "NOTYPE":
        return True
    if dt.kind == "f" or is_bfloat16(dt):
        return kind == "FLOAT"
    if dt.kind == "i":
        return kind == "SIGNED"
    return kind == "UNSIGNED"


@rule(example=Example(lambda x: jnp.where(jnp.asarray(np.array([1.0, 2.0, 3.0, 4.0])) < 2.5, x, 2 * x), [(4,)]), needs={0: CONSTANT, 1: CONSTANT})
def compare_constant_fold(op: hlo.CompareOp, b: Builder):
    """compare(c1, c2) -> c"""
    dt = foldable_dtype(op.lhs)
    if dt is None or not _compare_kind_matches(op, dt):
        return None
    fn = getattr(np, _COMPARE[op.comparison_direction.data.value])
    return _fold(op, b, lambda x, y: fn(x, y))


@rule(example=Example(lambda x: x + jnp.where(np.array([True, False, True, False]), np.array([1.0, 2.0, 3.0, 4.0]), jnp.asarray(np.full(4, 5.0))), [(4,)]), needs={0: CONSTANT, 1: CONSTANT, 2: CONSTANT})
def select_constant_fold(op: hlo.SelectOp, b: Builder):
    """select(c, c1, c2) -> c"""
    return _fold(op, b, lambda p, t, f: np.where(p, t, f))


def _convert(x: np.ndarray, dst: np.dtype) -> np.ndarray | None:
    """``x`` converted as XLA converts it, or None when the result is not certain: float to
    integer out of range or NaN (saturating in XLA), and roundings that might go through an
    intermediate format (anything to float16/bfloat16 but from float32, and integers to
    floats that cannot hold them exactly)."""
    src = x.dtype
    src_float = src.kind == "f" or is_bfloat16(src)
    dst_float = dst.kind == "f" or is_bfloat16(dst)
    if dst == np.bool_:
        return x != 0
    if src_float and dst_float:
        # bfloat16 arrives as float32 (see _compute); float64 to a 16-bit format might be
        # rounded twice by XLA (through float32)
        if dst.itemsize == 2 and src.itemsize > 4:
            return None
        return x.astype(dst)
    if src_float:  # to an integer: truncate, in range only
        f = x.astype(np.float64)
        if not np.all(np.isfinite(f)):
            return None
        t = np.trunc(f)
        info = np.iinfo(dst)
        if np.any(t < info.min) or np.any(t >= float(info.max) + 1.0):
            return None
        return t.astype(dst)
    if dst_float:  # from an integer or bool: exactly representable values only
        mantissa = MANTISSA_BITS[np.dtype(dst)]
        as_int = x.astype(np.int64) if src.kind != "u" else x.astype(np.uint64)
        if np.any(np.abs(as_int.astype(np.float64)) > 2.0**mantissa):
            return None
        return as_int.astype(np.float64).astype(dst)
    return x.astype(dst)  # integer to integer wraps


@rule(example=Example(lambda x: x + jnp.asarray(np.array([1, -2, 3, 7], dtype=np.int32)).astype(np.float64), [(4,)]), needs={0: CONSTANT})
def convert_constant_fold(op: hlo.ConvertOp, b: Builder):
    """convert(c) -> c'"""
    dst = foldable_dtype(op.result)
    if dst is None:
        return None
    return _fold(op, b, lambda x: _convert(x, dst))


def _int_or_bool(x: np.ndarray) -> bool:
    return _is_int(x) or _is_bool(x)


@rule(example=_i32_example("and", "[12, -1, 5, 0]", "[10, 7, -8, 3]"), needs={0: CONSTANT, 1: CONSTANT})
def and_constant_fold(op: hlo.AndOp, b: Builder):
    """and(c1, c2) -> c"""
    return _fold(op, b, lambda x, y: (x & y) if _int_or_bool(x) else None)


@rule(example=_i32_example("or", "[12, -1, 5, 0]", "[10, 7, -8, 3]"), needs={0: CONSTANT, 1: CONSTANT})
def or_constant_fold(op: hlo.OrOp, b: Builder):
    """or(c1, c2) -> c"""
    return _fold(op, b, lambda x, y: (x | y) if _int_or_bool(x) else None)


@rule(example=_i32_example("xor", "[12, -1, 5, 0]", "[10, 7, -8, 3]"), needs={0: CONSTANT, 1: CONSTANT})
def xor_constant_fold(op: hlo.XorOp, b: Builder):
    """xor(c1, c2) -> c"""
    return _fold(op, b, lambda x, y: (x ^ y) if _int_or_bool(x) else None)


@rule(example=_i32_example("not", "[12, -1, 5, 0]"), needs={0: CONSTANT})
def not_constant_fold(op: hlo.NotOp, b: Builder):
    """not(c) -> ~c   (logical for i1)"""
    return _fold(op, b, lambda x: np.invert(x) if _int_or_bool(x) else None)


def _shift_amount(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The shift amount as an unsigned number, and where it is below the bit width."""
    bits = x.dtype.itemsize * 8
    unsigned = np.dtype(f"uint{bits}")
    amount = np.asarray(y).astype(x.dtype).astype(unsigned)
    in_range = amount < bits
    return np.where(in_range, amount, 0).astype(unsigned), in_range


def _logical_shift(shift):
    """The fold of a logical shift, ``shift`` (numpy's) on the unsigned bits: 0 for
    amounts outside [0, bits)."""

    def fn(x, y):
        if not _is_int(x):
            return None
        amount, in_range = _shift_amount(x, y)
        shifted = shift(np.asarray(x).astype(amount.dtype), amount).astype(x.dtype)
        return np.where(in_range, shifted, 0)

    return fn


@rule(example=_i32_example("shift_left", "[1, -8, 5, -1]", "[33, 2, -1, 3]"), needs={0: CONSTANT, 1: CONSTANT})
def shift_left_constant_fold(op: hlo.ShiftLeftOp, b: Builder):
    """shift_left(c1, c2) -> c   (0 for amounts outside [0, bits))"""
    return _fold(op, b, _logical_shift(np.left_shift))


@rule(example=_i32_example("shift_right_arithmetic", "[1, -8, 5, -1]", "[33, 2, -1, 40]"), needs={0: CONSTANT, 1: CONSTANT})
def shift_right_arithmetic_constant_fold(op: hlo.ShiftRightArithmeticOp, b: Builder):
    """shift_right_arithmetic(c1, c2) -> c   (sign fill for amounts outside [0, bits))"""

    def fn(x, y):
        if x.dtype.kind != "i":
            return None
        bits = x.dtype.itemsize * 8
        amount, in_range = _shift_amount(x, y)
        return np.right_shift(x, np.where(in_range, amount, bits - 1).astype(x.dtype))

    return _fold(op, b, fn)


@rule(example=_i32_example("shift_right_logical", "[1, -8, 5, -1]", "[33, 2, -1, 3]"), needs={0: CONSTANT, 1: CONSTANT})
def shift_right_logical_constant_fold(op: hlo.ShiftRightLogicalOp, b: Builder):
    """shift_right_logical(c1, c2) -> c   (0 for amounts outside [0, bits))"""
    return _fold(op, b, _logical_shift(np.right_shift))


@rule(example=Example(lambda x: x * jnp.sign(np.array([-0.0, 0.0, -3.0, 2.0])), [(4,)]), needs={0: CONSTANT})
def sign_constant_fold(op: hlo.SignOp, b: Builder):
    """sign(c) -> -1, 0 or 1   (sign(-0.0) = -0.0, sign(NaN) = NaN)"""
    if elem(op.operand) != elem(op.result):
        return None
    return _fold(op, b, lambda x: None if _is_bool(x) else np.where(x == 0, x, np.sign(x)))


@rule(example=Example(lambda x: x * jnp.floor(np.array([-0.5, 0.0, -3.25, 2.75])), [(4,)]), needs={0: CONSTANT})
def floor_constant_fold(op: hlo.FloorOp, b: Builder):
    """floor(c) -> c'"""
    return _fold(op, b, lambda x: np.floor(x) if _is_float(x) else None)


@rule(example=Example(lambda x: x * jnp.ceil(np.array([-0.5, 0.0, -3.25, 2.75])), [(4,)]), needs={0: CONSTANT})
def ceil_constant_fold(op: hlo.CeilOp, b: Builder):
    """ceil(c) -> c'"""
    return _fold(op, b, lambda x: np.ceil(x) if _is_float(x) else None)


@rule(example=Example(lambda x: x * lax.round(np.array([-0.5, 1.5, 2.5, -2.75]), lax.RoundingMethod.TO_NEAREST_EVEN), [(4,)]), needs={0: CONSTANT})
def round_nearest_even_constant_fold(op: hlo.RoundNearestEvenOp, b: Builder):
    """round_nearest_even(c) -> c'"""
    return _fold(op, b, lambda x: np.rint(x) if _is_float(x) else None)


def _round_afz(x: np.ndarray) -> np.ndarray:
    t = np.trunc(x)
    away = np.abs(x - t) >= 0.5  # x - t is exact
    return np.where(away, t + np.sign(x), t)


@rule(example=Example(lambda x: x * lax.round(np.array([-0.5, 1.5, 0.49999999999999994, -2.25]), lax.RoundingMethod.AWAY_FROM_ZERO), [(4,)]), needs={0: CONSTANT})
def round_nearest_afz_constant_fold(op: hlo.RoundNearestAfzOp, b: Builder):
    """round_nearest_afz(c) -> c'"""
    return _fold(op, b, lambda x: _round_afz(x) if _is_float(x) else None)


# ============================================================================ shape-op folds


@rule(example=[Example(lambda x: x + jnp.broadcast_to(np.array([1.0, 2.0]), (2, 2)).reshape(4), [(4,)]), Example(lambda x: x * 2.5, [(4,)])], needs={0: CONSTANT})
def broadcast_in_dim_constant_fold(op: hlo.BroadcastInDimOp, b: Builder):
    """broadcast_in_dim(c) -> c'   (a splat gives one splat constant, stored as one element)"""
    s = constant_splat(op.operand, complex_ok=True)
    if s is not None:
        return emit_splat(b, s, op.result.type)
    value = dense_constant(op.operand)
    if value is None or size(op.result) > MAX_FOLD_ELEMENTS:
        return None
    return emit(b, broadcast_array(value, list(op.broadcast_dimensions.get_values()), shape(op.result)), op.result.type)


@rule(example=Example(lambda x: x + jnp.reshape(jnp.asarray(np.array([[1.0, 2.0], [3.0, 4.0]])), 4), [(4,)]), needs={0: CONSTANT})
def reshape_constant_fold(op: hlo.ReshapeOp, b: Builder):
    """reshape(c) -> c'"""
    return fold_rearrangement(op, b, op.operand, lambda v: v.reshape(shape(op.result)))


@rule(example=Example(lambda x: x + jnp.flip(jnp.asarray(np.array([1.0, 2.0, 3.0, 4.0]))), [(4,)]), needs={0: CONSTANT})
def reverse_constant_fold(op: hlo.ReverseOp, b: Builder):
    """reverse(c) -> c'"""
    return fold_rearrangement(op, b, op.operand, lambda v: np.flip(v, axis=tuple(op.dimensions.get_values())))


def _pad(value: np.ndarray, fill: np.ndarray, low: list[int], high: list[int], interior: list[int]) -> np.ndarray:
    # interior padding, then edges; negative edges crop
    grown = [d + max(d - 1, 0) * it for d, it in zip(value.shape, interior)]
    out = np.full(grown, fill, dtype=value.dtype)
    out[tuple(slice(None, None, it + 1) for it in interior)] = value
    widened = np.full([g + max(lo, 0) + max(hi, 0) for g, lo, hi in zip(grown, low, high)], fill, dtype=value.dtype)
    widened[tuple(slice(max(lo, 0), max(lo, 0) + g) for g, lo in zip(grown, low))] = out
    return widened[tuple(slice(max(-lo, 0), w - max(-hi, 0)) for w, lo, hi in zip(widened.shape, low, high))]


@rule(example=Example(lambda x: x + lax.pad(jnp.asarray(np.array([1.0, 2.0])), jnp.asarray(np.array(9.0)), [(1, 1, 0)]), [(4,)]), needs={1: CONSTANT})
def pad_constant_fold(op: hlo.PadOp, b: Builder):
    """pad(c, p) -> c'"""
    if foldable_dtype(op.result) is None:
        return None
    s, fill = constant_splat(op.operand), constant_splat(op.padding_value)
    if fill is None:
        return None
    if s is not None and np.all(same_bits(s, fill)) or size(op.operand) == 0:
        return emit_splat(b, fill, op.result.type)
    if size(op.result) > MAX_FOLD_ELEMENTS:
        return None
    value = constant_array(op.operand)
    if value is None:
        return None
    low, high, interior = (list(a.get_values()) for a in (op.edge_padding_low, op.edge_padding_high, op.interior_padding))
    return emit(b, _pad(value, fill, low, high, interior), op.result.type)


def _starts(op: hlo.DynamicUpdateSliceOp) -> list[int] | None:
    """Constant start indices clamped into the operand as the op clamps them."""
    starts = []
    for v, dim, n in zip(op.start_indices, shape(op.operand), shape(op.update)):
        s = constant_splat(v)
        if s is None:
            return None
        starts.append(int(min(max(int(s), 0), dim - n)))
    return starts


@rule(
    example=Example(
        lambda x: x + lax.dynamic_update_slice(jnp.asarray(np.array([1.0, 2.0, 3.0, 4.0])), jnp.asarray(np.array([7.0, 8.0])), (1,)), [(4,)]
    )
, needs={0: CONSTANT, 1: CONSTANT})
def dynamic_update_slice_constant_fold(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(c, u, i...) -> c'   (constant indices)"""
    s, su = constant_splat(op.operand), constant_splat(op.update)
    if s is not None and su is not None and np.all(same_bits(s, su)):
        return op.operand
    if foldable_dtype(op.result) is None or size(op.result) > MAX_FOLD_ELEMENTS:
        return None
    value, update, starts = constant_array(op.operand), constant_array(op.update), _starts(op)
    if value is None or update is None or starts is None:
        return None
    out = value.copy()
    out[tuple(slice(s0, s0 + n) for s0, n in zip(starts, update.shape))] = update
    return emit(b, out, op.result.type)


# ============================================================================ more elementwise folds


@rule(
    example=Example(
        mlir=mlir_main(
            '  %0 = "stablehlo.is_finite"(%x) : (tensor<4xf64>) -> tensor<4xi1>\n'
            + mlir_constant("a", "[1.0, 0x7FF0000000000000, 0x7FF8000000000000, -2.0]", "tensor<4xf64>")
            + '\n  %1 = "stablehlo.is_finite"(%a) : (tensor<4xf64>) -> tensor<4xi1>'
            + '\n  %2 = "stablehlo.and"(%0, %1) : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>'
            + '\n  %3 = "stablehlo.select"(%2, %x, %a) : (tensor<4xi1>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>'
            + "\n  func.return %3 : tensor<4xf64>"
        )
    )
, needs={0: CONSTANT})
def is_finite_constant_fold(op: hlo.IsFiniteOp, b: Builder):
    """is_finite(c) -> c'"""
    return _fold(op, b, lambda x: np.isfinite(x) if _is_float(x) else None)


@rule(example=_i32_example("popcnt", "[12, -1, 5, 0]"), needs={0: CONSTANT})
def popcnt_constant_fold(op: hlo.PopcntOp, b: Builder):
    """popcnt(c) -> number of set bits of c"""
    # numpy counts the bits of |x| for signed integers: count those of the two's complement
    return _fold(op, b, lambda x: np.bitwise_count(x.astype(f"uint{x.dtype.itemsize * 8}")).astype(x.dtype) if _is_int(x) else None)


# ============================================================================ constant results for any operand


@rule(
    example=Example(
        mlir=mlir_main(
            '  %i = "stablehlo.iota"() <{iota_dimension = 1 : i64}> : () -> tensor<4x1xf64>'
            + '\n  %0 = "stablehlo.add"(%x, %i) : (tensor<4x1xf64>, tensor<4x1xf64>) -> tensor<4x1xf64>'
            + "\n  func.return %0 : tensor<4x1xf64>",
            "%x: tensor<4x1xf64>",
            "tensor<4x1xf64>",
        )
    )
)
def iota_unit_dimension(op: hlo.IotaOp, b: Builder):
    """iota(dim d of size 1) -> 0"""
    if shape(op.output)[op.iota_dimension.value.data] != 1 or foldable_dtype(op.output) is None:
        return None
    return emit_splat(b, np.zeros((), foldable_dtype(op.output)), op.output.type)


@rule(
    example=Example(
        mlir=mlir_main(
            '  %0 = "stablehlo.get_dimension_size"(%x) <{dimension = 0 : i64}> : (tensor<4xf64>) -> tensor<i32>\n'
            '  %1 = "stablehlo.convert"(%0) : (tensor<i32>) -> tensor<f64>\n'
            '  %2 = "stablehlo.broadcast_in_dim"(%1) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<4xf64>\n'
            '  %3 = "stablehlo.add"(%x, %2) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>\n'
            "  func.return %3 : tensor<4xf64>"
        )
    )
)
def get_dimension_size_static(op: hlo.GetDimensionSizeOp, b: Builder):
    """get_dimension_size(x, d) -> constant   (static shapes)"""
    dt = foldable_dtype(op.result)
    if dt is None:
        return None
    return emit_splat(b, np.asarray(shape(op.operand)[op.dimension.value.data]).astype(dt), op.result.type)
