"""Constant folding of exact ops (elementwise and shape ops on constants, bounded in size)
and identities on logical, integer, power and conversion ops.

Only ops whose results are exactly determined are folded (IEEE arithmetic, comparisons,
selections, conversions, bit operations, shape ops), with XLA's semantics where numpy's
differ (signed zeros in max/min and sign, integer division by -1, out-of-range shifts).
Transcendental functions are never folded: libm results may differ from XLA's.

Splats stay splats: a fold whose result has one value everywhere gives
``broadcast_in_dim(constant scalar)``, never a materialised array, and splat operands are
read without materialising them. Other results are folded only up to ``MAX_FOLD_ELEMENTS``.
"""

from __future__ import annotations

import jax.numpy as jnp
import ml_dtypes
import numpy as np
from jax import lax
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.attributes import ComparisonDirection, ComparisonDirectionAttr
from ...ir.builder import Builder, elem, tensor
from ...ir.dense import dense_from_numpy, dense_to_numpy, element_dtype
from ..pattern import Example, producer, rule, shape

MAX_FOLD_ELEMENTS = 65536
"""Largest non-splat result a fold materialises."""


# ============================================================================ constant helpers


def _size(v: SSAValue) -> int:
    return int(np.prod(shape(v), dtype=np.int64))


def _dtype(v: SSAValue) -> np.dtype | None:
    """The numpy dtype of ``v``'s elements, or None for types never folded (complex, ...)."""
    try:
        dt = element_dtype(elem(v))
    except TypeError:
        return None
    return None if dt.kind == "c" else dt


def _splat(v: SSAValue) -> np.ndarray | None:
    """The value (a 0-d array) of a constant ``v`` with one value everywhere, without
    materialising it: a splat constant or a broadcast of one."""
    owner = v.owner
    if isinstance(owner, hlo.BroadcastInDimOp):
        return _splat(owner.operand)
    if not isinstance(owner, hlo.ConstantOp) or _dtype(v) is None:
        return None
    attr = owner.value
    dt = element_dtype(elem(v))
    if len(attr.data.data) == dt.itemsize and _size(v) > 0:
        # stored compactly as a single element: read it without materialising the tensor
        if dt == np.bool_:
            return np.asarray(attr.data.data[0] != 0)
        return np.frombuffer(attr.data.data, dtype=dt.newbyteorder("<")).astype(dt).reshape(())
    arr = dense_to_numpy(attr)
    if arr.size == 0 or not np.all(_same_bits(arr, arr.reshape(-1)[0])):
        return None
    return arr.reshape(-1)[0].reshape(()).copy()


def _same_bits(arr: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Elementwise equality that tells -0.0 from 0.0 and sees NaN equal to NaN."""
    if arr.dtype.kind == "f" or arr.dtype == ml_dtypes.bfloat16:
        a, b = np.asarray(arr, np.float64), np.asarray(x, np.float64)
        return ((a == b) & (np.signbit(a) == np.signbit(b))) | (np.isnan(a) & np.isnan(b))
    return arr == x


def _dense(v: SSAValue) -> np.ndarray | None:
    """The value of a constant ``v`` (a constant, or a broadcast of one) as an array, when
    it has at most ``MAX_FOLD_ELEMENTS`` elements."""
    if _dtype(v) is None or _size(v) > MAX_FOLD_ELEMENTS:
        return None
    owner = v.owner
    if isinstance(owner, hlo.ConstantOp):
        return dense_to_numpy(owner.value)
    if isinstance(owner, hlo.BroadcastInDimOp):
        inner = _dense(owner.operand)
        if inner is None:
            return None
        return _broadcast(inner, list(owner.broadcast_dimensions.get_values()), shape(owner.result))
    return None


def _broadcast(arr: np.ndarray, dims: list[int], out: tuple[int, ...]) -> np.ndarray:
    """``broadcast_in_dim`` in numpy: operand dimension i goes to result dimension dims[i]."""
    order = sorted(range(len(dims)), key=lambda i: dims[i])
    expanded = [1] * len(out)
    for i in order:
        expanded[dims[i]] = arr.shape[i]
    return np.broadcast_to(arr.transpose(order).reshape(expanded), out)


def _may_be_constant(v: SSAValue) -> bool:
    """Whether ``v`` may be a constant ``_splat`` / ``_dense`` read: a constant, or a
    broadcast of one."""
    owner = v.owner
    while isinstance(owner, hlo.BroadcastInDimOp):
        owner = owner.operand.owner
    return isinstance(owner, hlo.ConstantOp)


def _is_constant(v: SSAValue) -> bool:
    return _splat(v) is not None or _dense(v) is not None


def _emit(b: Builder, value: np.ndarray, type: TensorType) -> SSAValue:
    """A constant of ``type`` holding ``value``; a splat of more than one element is built
    as ``broadcast_in_dim(constant scalar)``."""
    dt = element_dtype(type.get_element_type())
    arr = np.ascontiguousarray(np.broadcast_to(np.asarray(value).astype(dt), tuple(type.get_shape())))
    if arr.size > 1 and np.all(_same_bits(arr, arr.reshape(-1)[0])):
        return _emit_splat(b, arr.reshape(-1)[0], type)
    return b.insert(hlo.ConstantOp(dense_from_numpy(arr, type))).results[0]


def _emit_splat(b: Builder, scalar: np.ndarray, type: TensorType) -> SSAValue:
    """``broadcast_in_dim(constant scalar)`` (a plain constant for at most one element)."""
    element = type.get_element_type()
    dt = element_dtype(element)
    dims = tuple(type.get_shape())
    if int(np.prod(dims, dtype=np.int64)) <= 1:
        return b.insert(hlo.ConstantOp(dense_from_numpy(np.full(dims, scalar, dtype=dt), type))).results[0]
    scalar_type = tensor(element, [])
    c = b.insert(hlo.ConstantOp(dense_from_numpy(np.asarray(scalar).astype(dt).reshape(()), scalar_type))).results[0]
    return b.insert(hlo.BroadcastInDimOp(c, [], type)).results[0]


def _fold(op, b: Builder, fn, operands: list[SSAValue] | None = None) -> SSAValue | None:
    """Fold elementwise ``op`` over constant operands with ``fn`` (numpy arrays in, array
    out, or None to refuse): on the scalars when every operand is a splat, otherwise on
    arrays of at most ``MAX_FOLD_ELEMENTS`` elements."""
    operands = list(op.operands) if operands is None else operands
    if not all(_may_be_constant(v) for v in operands):  # the cheap test first: most ops are not foldable
        return None
    if _dtype(op.result) is None or any(_dtype(v) is None for v in operands):
        return None
    splats = [_splat(v) for v in operands]
    if all(s is not None for s in splats):
        out = _apply(fn, splats, op.result)
        return None if out is None else _emit_splat(b, out, op.result.type)
    if _size(op.result) > MAX_FOLD_ELEMENTS:
        return None
    values = [_dense(v) for v in operands]
    if any(v is None for v in values):
        return None
    out = _apply(fn, values, op.result)
    return None if out is None else _emit(b, out, op.result.type)


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
    if arr.dtype == ml_dtypes.bfloat16:
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
    return arr.astype(np.float32) if arr.dtype == ml_dtypes.bfloat16 else arr


def _result(out: np.ndarray, v: SSAValue) -> np.ndarray:
    return np.asarray(out).astype(element_dtype(elem(v)))


def _is_float(arr: np.ndarray) -> bool:
    return arr.dtype.kind == "f"


def _is_int(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "iu"


def _is_bool(arr: np.ndarray) -> bool:
    return arr.dtype == np.bool_


def _mlir(body: str, args: str = "%x: tensor<4xf64>", result: str = "tensor<4xf64>") -> str:
    return f"func.func @main({args}) -> {result} {{\n{body}\n}}"


def _c(name: str, value: str, type: str) -> str:
    return f'  %{name} = "stablehlo.constant"() <{{value = dense<{value}> : {type}}}> : () -> {type}'


# ============================================================================ elementwise folds


@rule(example=Example(lambda x: x + (jnp.asarray(np.array([1.0, 2.0, 3.0, 4.0])) + 0.5), [(4,)]))
def add_constant_fold(op: hlo.AddOp, b: Builder):
    """add(c1, c2) -> c"""
    return _fold(op, b, lambda x, y: x + y)


@rule(
    example=Example(
        mlir=_mlir(
            _c("a", "[7, -3, 2147483647, 0]", "tensor<4xi32>")
            + "\n"
            + _c("b", "[2, 5, -1, 1]", "tensor<4xi32>")
            + '\n  %0 = "stablehlo.subtract"(%a, %b) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>'
            + "\n  func.return %0 : tensor<4xi32>",
            "%x: tensor<4xi32>",
            "tensor<4xi32>",
        )
    )
)
def subtract_constant_fold(op: hlo.SubtractOp, b: Builder):
    """subtract(c1, c2) -> c   (integers wrap)"""
    return _fold(op, b, lambda x, y: None if _is_bool(x) else x - y)


@rule(example=Example(lambda x: x * (jnp.asarray(np.array([1.0, 2.0, 3.0, 4.0])) * 3.0), [(4,)]))
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


@rule(
    example=Example(
        mlir=_mlir(
            _c("a", "[7, -7, -2147483648, 9]", "tensor<4xi32>")
            + "\n"
            + _c("b", "[2, 2, -1, -4]", "tensor<4xi32>")
            + '\n  %0 = "stablehlo.divide"(%a, %b) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>'
            + "\n  func.return %0 : tensor<4xi32>",
            "%x: tensor<4xi32>",
            "tensor<4xi32>",
        )
    )
)
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


@rule(example=Example(lambda x: x + lax.rem(np.array([7.5, -7.5, 1.0, -0.0]), np.array([2.0, 2.0, -0.75, 3.0])), [(4,)]))
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


@rule(example=Example(lambda x: x * -jnp.asarray(np.array([1.0, -2.0, 0.0, 4.0])), [(4,)]))
def negate_constant_fold(op: hlo.NegateOp, b: Builder):
    """negate(c) -> -c   (integers wrap)"""
    return _fold(op, b, lambda x: None if _is_bool(x) else -x)


@rule(example=Example(lambda x: x * jnp.abs(np.array([1.0, -2.0, -0.0, 4.0])), [(4,)]))
def abs_constant_fold(op: hlo.AbsOp, b: Builder):
    """abs(c) -> |c|   (abs(INT_MIN) = INT_MIN)"""
    if elem(op.operand) != elem(op.result):
        return None  # complex abs
    return _fold(op, b, lambda x: None if _is_bool(x) else np.abs(x))


def _zeros_mixed(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x == 0) & (y == 0)


@rule(example=Example(lambda x: x + jnp.maximum(np.array([1.0, -2.0, -0.0, 0.0]), np.array([0.5, -3.0, 0.0, -0.0])), [(4,)]))
def maximum_constant_fold(op: hlo.MaximumOp, b: Builder):
    """maximum(c1, c2) -> c   (NaN propagates; -0 < +0)"""

    def fn(x, y):
        out = np.maximum(x, y)
        if _is_float(x):
            both_zero = _zeros_mixed(x, y)
            out = np.where(both_zero, np.where(np.signbit(x) & np.signbit(y), -0.0, 0.0).astype(x.dtype), out)
        return out

    return _fold(op, b, fn)


@rule(example=Example(lambda x: x + jnp.minimum(np.array([1.0, -2.0, -0.0, 0.0]), np.array([0.5, -3.0, 0.0, -0.0])), [(4,)]))
def minimum_constant_fold(op: hlo.MinimumOp, b: Builder):
    """minimum(c1, c2) -> c   (NaN propagates; -0 < +0)"""

    def fn(x, y):
        out = np.minimum(x, y)
        if _is_float(x):
            both_zero = _zeros_mixed(x, y)
            out = np.where(both_zero, np.where(np.signbit(x) | np.signbit(y), -0.0, 0.0).astype(x.dtype), out)
        return out

    return _fold(op, b, fn)


_COMPARE = {
    "EQ": np.equal,
    "NE": np.not_equal,
    "LT": np.less,
    "LE": np.less_equal,
    "GT": np.greater,
    "GE": np.greater_equal,
}


def _compare_kind_matches(op: hlo.CompareOp, dt: np.dtype) -> bool:
    """The comparison's type is the default one for the element type (TOTALORDER and
    mismatched signedness are not folded)."""
    if op.compare_type is None:
        return True
    kind = op.compare_type.data.value
    if kind == "NOTYPE":
        return True
    if dt.kind == "f" or dt == ml_dtypes.bfloat16:
        return kind == "FLOAT"
    if dt.kind == "i":
        return kind == "SIGNED"
    return kind == "UNSIGNED"


def _direction(op: hlo.CompareOp) -> str:
    return op.comparison_direction.data.value


@rule(example=Example(lambda x: jnp.where(jnp.asarray(np.array([1.0, 2.0, 3.0, 4.0])) < 2.5, x, 2 * x), [(4,)]))
def compare_constant_fold(op: hlo.CompareOp, b: Builder):
    """compare(c1, c2) -> c"""
    dt = _dtype(op.lhs)
    if dt is None or not _compare_kind_matches(op, dt):
        return None
    fn = _COMPARE[_direction(op)]
    return _fold(op, b, lambda x, y: fn(x, y))


@rule(example=Example(lambda x: x + jnp.where(np.array([True, False, True, False]), np.array([1.0, 2.0, 3.0, 4.0]), jnp.asarray(np.full(4, 5.0))), [(4,)]))
def select_constant_fold(op: hlo.SelectOp, b: Builder):
    """select(c, c1, c2) -> c"""
    return _fold(op, b, lambda p, t, f: np.where(p, t, f))


def _convert(x: np.ndarray, dst: np.dtype) -> np.ndarray | None:
    """``x`` converted as XLA converts it, or None when the result is not certain: float to
    integer out of range or NaN (saturating in XLA), and roundings that might go through an
    intermediate format (anything to float16/bfloat16 but from float32, and integers to
    floats that cannot hold them exactly)."""
    src = x.dtype
    src_float = src.kind == "f" or src == ml_dtypes.bfloat16
    dst_float = dst.kind == "f" or dst == ml_dtypes.bfloat16
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
        mantissa = {np.dtype(np.float64): 53, np.dtype(np.float32): 24, np.dtype(np.float16): 11, np.dtype(ml_dtypes.bfloat16): 8}[np.dtype(dst)]
        as_int = x.astype(np.int64) if src.kind != "u" else x.astype(np.uint64)
        if np.any(np.abs(as_int.astype(np.float64)) > 2.0**mantissa):
            return None
        return as_int.astype(np.float64).astype(dst)
    return x.astype(dst)  # integer to integer wraps


@rule(example=Example(lambda x: x + jnp.asarray(np.array([1, -2, 3, 7], dtype=np.int32)).astype(np.float64), [(4,)]))
def convert_constant_fold(op: hlo.ConvertOp, b: Builder):
    """convert(c) -> c'"""
    dst = _dtype(op.result)
    if dst is None:
        return None
    return _fold(op, b, lambda x: _convert(x, dst))


def _int_or_bool(x: np.ndarray) -> bool:
    return _is_int(x) or _is_bool(x)


_I32_PAIR = ("%x: tensor<4xi32>", "tensor<4xi32>")


def _binary_i32(opname: str, a: str, bvals: str) -> str:
    return _mlir(
        _c("a", a, "tensor<4xi32>")
        + "\n"
        + _c("b", bvals, "tensor<4xi32>")
        + f'\n  %0 = "stablehlo.{opname}"(%a, %b) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>'
        + '\n  %1 = "stablehlo.add"(%x, %0) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>'
        + "\n  func.return %1 : tensor<4xi32>",
        *_I32_PAIR,
    )


@rule(example=Example(mlir=_binary_i32("and", "[12, -1, 5, 0]", "[10, 7, -8, 3]")))
def and_constant_fold(op: hlo.AndOp, b: Builder):
    """and(c1, c2) -> c"""
    return _fold(op, b, lambda x, y: (x & y) if _int_or_bool(x) else None)


@rule(example=Example(mlir=_binary_i32("or", "[12, -1, 5, 0]", "[10, 7, -8, 3]")))
def or_constant_fold(op: hlo.OrOp, b: Builder):
    """or(c1, c2) -> c"""
    return _fold(op, b, lambda x, y: (x | y) if _int_or_bool(x) else None)


@rule(example=Example(mlir=_binary_i32("xor", "[12, -1, 5, 0]", "[10, 7, -8, 3]")))
def xor_constant_fold(op: hlo.XorOp, b: Builder):
    """xor(c1, c2) -> c"""
    return _fold(op, b, lambda x, y: (x ^ y) if _int_or_bool(x) else None)


@rule(
    example=Example(
        mlir=_mlir(
            _c("a", "[12, -1, 5, 0]", "tensor<4xi32>")
            + '\n  %0 = "stablehlo.not"(%a) : (tensor<4xi32>) -> tensor<4xi32>'
            + '\n  %1 = "stablehlo.add"(%x, %0) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>'
            + "\n  func.return %1 : tensor<4xi32>",
            *_I32_PAIR,
        )
    )
)
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


@rule(example=Example(mlir=_binary_i32("shift_left", "[1, -8, 5, -1]", "[33, 2, -1, 3]")))
def shift_left_constant_fold(op: hlo.ShiftLeftOp, b: Builder):
    """shift_left(c1, c2) -> c   (0 for amounts outside [0, bits))"""

    def fn(x, y):
        if not _is_int(x):
            return None
        amount, in_range = _shift_amount(x, y)
        unsigned = amount.dtype
        shifted = np.left_shift(np.asarray(x).astype(unsigned), amount).astype(x.dtype)
        return np.where(in_range, shifted, 0)

    return _fold(op, b, fn)


@rule(example=Example(mlir=_binary_i32("shift_right_arithmetic", "[1, -8, 5, -1]", "[33, 2, -1, 40]")))
def shift_right_arithmetic_constant_fold(op: hlo.ShiftRightArithmeticOp, b: Builder):
    """shift_right_arithmetic(c1, c2) -> c   (sign fill for amounts outside [0, bits))"""

    def fn(x, y):
        if x.dtype.kind != "i":
            return None
        bits = x.dtype.itemsize * 8
        amount, in_range = _shift_amount(x, y)
        return np.right_shift(x, np.where(in_range, amount, bits - 1).astype(x.dtype))

    return _fold(op, b, fn)


@rule(example=Example(mlir=_binary_i32("shift_right_logical", "[1, -8, 5, -1]", "[33, 2, -1, 3]")))
def shift_right_logical_constant_fold(op: hlo.ShiftRightLogicalOp, b: Builder):
    """shift_right_logical(c1, c2) -> c   (0 for amounts outside [0, bits))"""

    def fn(x, y):
        if not _is_int(x):
            return None
        amount, in_range = _shift_amount(x, y)
        unsigned = amount.dtype
        shifted = np.right_shift(np.asarray(x).astype(unsigned), amount).astype(x.dtype)
        return np.where(in_range, shifted, 0)

    return _fold(op, b, fn)


@rule(example=Example(lambda x: x * jnp.sign(np.array([-0.0, 0.0, -3.0, 2.0])), [(4,)]))
def sign_constant_fold(op: hlo.SignOp, b: Builder):
    """sign(c) -> -1, 0 or 1   (sign(-0.0) = -0.0, sign(NaN) = NaN)"""
    if elem(op.operand) != elem(op.result):
        return None
    return _fold(op, b, lambda x: None if _is_bool(x) else np.where(x == 0, x, np.sign(x)))


@rule(example=Example(lambda x: x * jnp.floor(np.array([-0.5, 0.0, -3.25, 2.75])), [(4,)]))
def floor_constant_fold(op: hlo.FloorOp, b: Builder):
    """floor(c) -> c'"""
    return _fold(op, b, lambda x: np.floor(x) if _is_float(x) else None)


@rule(example=Example(lambda x: x * jnp.ceil(np.array([-0.5, 0.0, -3.25, 2.75])), [(4,)]))
def ceil_constant_fold(op: hlo.CeilOp, b: Builder):
    """ceil(c) -> c'"""
    return _fold(op, b, lambda x: np.ceil(x) if _is_float(x) else None)


@rule(example=Example(lambda x: x * lax.round(np.array([-0.5, 1.5, 2.5, -2.75]), lax.RoundingMethod.TO_NEAREST_EVEN), [(4,)]))
def round_nearest_even_constant_fold(op: hlo.RoundNearestEvenOp, b: Builder):
    """round_nearest_even(c) -> c'"""
    return _fold(op, b, lambda x: np.rint(x) if _is_float(x) else None)


def _round_afz(x: np.ndarray) -> np.ndarray:
    t = np.trunc(x)
    away = np.abs(x - t) >= 0.5  # x - t is exact
    return np.where(away, t + np.sign(x), t)


@rule(example=Example(lambda x: x * lax.round(np.array([-0.5, 1.5, 0.49999999999999994, -2.25]), lax.RoundingMethod.AWAY_FROM_ZERO), [(4,)]))
def round_nearest_afz_constant_fold(op: hlo.RoundNearestAfzOp, b: Builder):
    """round_nearest_afz(c) -> c'"""
    return _fold(op, b, lambda x: _round_afz(x) if _is_float(x) else None)


# ============================================================================ shape-op folds


def _dense_constant(v: SSAValue) -> np.ndarray | None:
    """The value of a ``stablehlo.constant`` (not a broadcast)."""
    owner = v.owner
    if isinstance(owner, hlo.ConstantOp) and _dtype(v) is not None:
        return dense_to_numpy(owner.value)
    return None


@rule(
    example=Example(
        mlir=_mlir(
            _c("a", "2.5", "tensor<4xf64>")
            + '\n  %0 = "stablehlo.multiply"(%x, %a) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>'
            + "\n  func.return %0 : tensor<4xf64>"
        )
    )
)
def constant_splat_to_broadcast(op: hlo.ConstantOp, b: Builder):
    """constant(splat c : tensor<S>) -> broadcast_in_dim(constant(c : tensor<>))   (S has more than one element)"""
    if _size(op.output) <= 1 or _dtype(op.output) is None:
        return None
    s = _splat(op.output)
    if s is None:
        return None
    return b.constant(s, op.output.type)


@rule(example=Example(lambda x: x + jnp.broadcast_to(np.array([1.0, 2.0]), (2, 2)).reshape(4), [(4,)]))
def broadcast_in_dim_constant_fold(op: hlo.BroadcastInDimOp, b: Builder):
    """broadcast_in_dim(c) -> c'   (a splat stays broadcast_in_dim(constant scalar))"""
    s = _splat(op.operand)
    if s is not None:
        if _size(op.result) <= 1:
            return _emit_splat(b, s, op.result.type)
        if isinstance(op.operand.owner, hlo.ConstantOp) and shape(op.operand) != ():
            return _emit_splat(b, s, op.result.type)  # broadcast of the scalar
        return None  # already the canonical splat form
    value = _dense_constant(op.operand)
    if value is None or _size(op.result) > MAX_FOLD_ELEMENTS:
        return None
    return _emit(b, _broadcast(value, list(op.broadcast_dimensions.get_values()), shape(op.result)), op.result.type)


def _shape_fold(op, b: Builder, operand: SSAValue, fn) -> SSAValue | None:
    """Fold a shape op that rearranges the elements of ``operand``."""
    s = _splat(operand)
    if s is not None:
        return _emit_splat(b, s, op.result.type)
    value = _dense_constant(operand)
    if value is None or _size(op.result) > MAX_FOLD_ELEMENTS:
        return None
    return _emit(b, fn(value), op.result.type)


@rule(example=Example(lambda x: x + jnp.reshape(jnp.asarray(np.array([[1.0, 2.0], [3.0, 4.0]])), 4), [(4,)]))
def reshape_constant_fold(op: hlo.ReshapeOp, b: Builder):
    """reshape(c) -> c'"""
    return _shape_fold(op, b, op.operand, lambda v: v.reshape(shape(op.result)))


@rule(example=Example(lambda x: x + jnp.transpose(np.array([[1.0, 2.0], [3.0, 4.0]])), [(2, 2)]))
def transpose_constant_fold(op: hlo.TransposeOp, b: Builder):
    """transpose(c) -> c'"""
    return _shape_fold(op, b, op.operand, lambda v: v.transpose(list(op.permutation.get_values())))


@rule(example=Example(lambda x: x + jnp.asarray(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))[1:5], [(4,)]))
def slice_constant_fold(op: hlo.SliceOp, b: Builder):
    """slice(c) -> c'"""

    def fn(v):
        starts, limits, strides = (list(a.get_values()) for a in (op.start_indices, op.limit_indices, op.strides))
        return v[tuple(slice(s, l, st) for s, l, st in zip(starts, limits, strides))]

    return _shape_fold(op, b, op.operand, fn)


@rule(example=Example(lambda x: x + jnp.flip(jnp.asarray(np.array([1.0, 2.0, 3.0, 4.0]))), [(4,)]))
def reverse_constant_fold(op: hlo.ReverseOp, b: Builder):
    """reverse(c) -> c'"""
    return _shape_fold(op, b, op.operand, lambda v: np.flip(v, axis=tuple(op.dimensions.get_values())))


@rule(example=Example(lambda x: x + jnp.concatenate([jnp.asarray(np.array([1.0, 2.0])), jnp.asarray(np.array([3.0, 4.0]))]), [(4,)]))
def concatenate_constant_fold(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(c1, ..., cn) -> c"""
    if _dtype(op.result) is None:
        return None
    splats = [_splat(v) for v in op.inputs]
    if all(s is not None for s in splats) and all(np.all(_same_bits(s, splats[0])) for s in splats):
        return _emit_splat(b, splats[0], op.result.type)
    if _size(op.result) > MAX_FOLD_ELEMENTS:
        return None
    values = [_dense(v) for v in op.inputs]
    if any(v is None for v in values):
        return None
    return _emit(b, np.concatenate(values, axis=op.dimension.value.data), op.result.type)


def _pad(value: np.ndarray, fill: np.ndarray, low: list[int], high: list[int], interior: list[int]) -> np.ndarray:
    # interior padding, then edges; negative edges crop
    grown = [d + max(d - 1, 0) * it for d, it in zip(value.shape, interior)]
    out = np.full(grown, fill, dtype=value.dtype)
    out[tuple(slice(None, None, it + 1) for it in interior)] = value
    widened = np.full([g + max(lo, 0) + max(hi, 0) for g, lo, hi in zip(grown, low, high)], fill, dtype=value.dtype)
    widened[tuple(slice(max(lo, 0), max(lo, 0) + g) for g, lo in zip(grown, low))] = out
    return widened[tuple(slice(max(-lo, 0), w - max(-hi, 0)) for w, lo, hi in zip(widened.shape, low, high))]


@rule(example=Example(lambda x: x + lax.pad(jnp.asarray(np.array([1.0, 2.0])), jnp.asarray(np.array(9.0)), [(1, 1, 0)]), [(4,)]))
def pad_constant_fold(op: hlo.PadOp, b: Builder):
    """pad(c, p) -> c'"""
    if _dtype(op.result) is None:
        return None
    s, fill = _splat(op.operand), _splat(op.padding_value)
    if fill is None:
        return None
    if s is not None and np.all(_same_bits(s, fill)) or _size(op.operand) == 0:
        return _emit_splat(b, fill, op.result.type)
    if _size(op.result) > MAX_FOLD_ELEMENTS:
        return None
    value = _dense(op.operand)
    if value is None:
        return None
    low, high, interior = (list(a.get_values()) for a in (op.edge_padding_low, op.edge_padding_high, op.interior_padding))
    return _emit(b, _pad(value, fill, low, high, interior), op.result.type)


def _starts(op, indices) -> list[int] | None:
    """Constant start indices clamped into the operand as dynamic slices clamp them."""
    starts = []
    for v, dim, size in zip(indices, shape(op.operand), shape(op.result) if isinstance(op, hlo.DynamicSliceOp) else shape(op.update)):
        s = _splat(v)
        if s is None:
            return None
        starts.append(int(min(max(int(s), 0), dim - size)))
    return starts


@rule(example=Example(lambda x: x + lax.dynamic_slice(jnp.asarray(np.array([1.0, 2.0, 3.0, 4.0, 5.0])), (3,), (4,)), [(4,)]))
def dynamic_slice_constant_fold(op: hlo.DynamicSliceOp, b: Builder):
    """dynamic_slice(c, i...) -> c'   (a splat c for any indices, else constant indices)"""
    s = _splat(op.operand)
    if s is not None:
        return _emit_splat(b, s, op.result.type)
    value = _dense_constant(op.operand)
    starts = _starts(op, op.start_indices)
    if value is None or starts is None or _size(op.result) > MAX_FOLD_ELEMENTS:
        return None
    return _emit(b, value[tuple(slice(s0, s0 + n) for s0, n in zip(starts, shape(op.result)))], op.result.type)


@rule(
    example=Example(
        lambda x: x + lax.dynamic_update_slice(jnp.asarray(np.array([1.0, 2.0, 3.0, 4.0])), jnp.asarray(np.array([7.0, 8.0])), (1,)), [(4,)]
    )
)
def dynamic_update_slice_constant_fold(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(c, u, i...) -> c'   (constant indices)"""
    s, su = _splat(op.operand), _splat(op.update)
    if s is not None and su is not None and np.all(_same_bits(s, su)):
        return op.operand
    if _dtype(op.result) is None or _size(op.result) > MAX_FOLD_ELEMENTS:
        return None
    value, update, starts = _dense(op.operand), _dense(op.update), _starts(op, op.start_indices)
    if value is None or update is None or starts is None:
        return None
    out = value.copy()
    out[tuple(slice(s0, s0 + n) for s0, n in zip(starts, update.shape))] = update
    return _emit(b, out, op.result.type)


@rule(
    example=Example(
        mlir=_mlir(
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
    if shape(op.output)[op.iota_dimension.value.data] != 1 or _dtype(op.output) is None:
        return None
    return _emit_splat(b, np.zeros((), _dtype(op.output)), op.output.type)


@rule(example=Example(lambda x: x + jnp.broadcast_to(jnp.arange(4.0)[:, None], (4, 3)), [(4, 3)]))
def broadcast_in_dim_iota(op: hlo.BroadcastInDimOp, b: Builder):
    """broadcast_in_dim(iota(d)) -> iota(dims[d])   (the iota dimension is not expanded)"""
    iota = producer(op.operand, hlo.IotaOp)
    if iota is None:
        return None
    d = iota.iota_dimension.value.data
    dims = list(op.broadcast_dimensions.get_values())
    if shape(op.operand)[d] != shape(op.result)[dims[d]]:
        return None
    return b.iota(shape(op.result), dims[d], elem(op.result))


def _iota_exact_in(n: int, dt: np.dtype) -> bool:
    if dt == np.bool_:
        return n <= 2
    if dt.kind in "iu":
        return n - 1 <= np.iinfo(dt).max
    mantissa = {np.dtype(np.float64): 53, np.dtype(np.float32): 24, np.dtype(np.float16): 11, np.dtype(ml_dtypes.bfloat16): 8}.get(np.dtype(dt))
    return mantissa is not None and n <= 2**mantissa


@rule(example=Example(lambda x: x + lax.iota(np.int32, 4).astype(np.float64), [(4,)]))
def convert_iota(op: hlo.ConvertOp, b: Builder):
    """convert(iota) -> iota   (every index exact in both types)"""
    iota = producer(op.operand, hlo.IotaOp)
    if iota is None:
        return None
    src, dst = _dtype(op.operand), _dtype(op.result)
    n = shape(op.result)[iota.iota_dimension.value.data]
    if src is None or dst is None or dst == np.bool_ or not _iota_exact_in(n, src) or not _iota_exact_in(n, dst):
        return None
    return b.iota(shape(op.result), iota.iota_dimension.value.data, elem(op.result))


# ============================================================================ identities


def _all_ones(v: SSAValue) -> bool:
    """Every bit set: true for i1, -1 for signed and the maximum for unsigned integers."""
    s = _splat(v)
    if s is None or s.dtype.kind not in "iub":
        return False
    return bool(s) if s.dtype == np.bool_ else bool(np.invert(s) == 0)


def _zero(v: SSAValue) -> bool:
    s = _splat(v)
    return s is not None and s.dtype.kind in "iub" and not bool(s)


def _is_integer(v: SSAValue) -> bool:
    dt = _dtype(v)
    return dt is not None and dt.kind in "iub"


def _i32_example(body: str, types: str = "tensor<4xi32>") -> str:
    return f"func.func @main(%x: {types}, %y: {types}) -> {types} {{\n{body}\n}}"


@rule(
    example=Example(
        mlir=_i32_example(
            _c("m", "-1", "tensor<4xi32>") + '\n  %0 = "stablehlo.and"(%x, %m) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>'
        )
    )
)
def and_all_ones(op: hlo.AndOp, b: Builder):
    """and(x, all-ones) -> x   (true for i1)"""
    if _all_ones(op.rhs):
        return op.lhs
    if _all_ones(op.lhs):
        return op.rhs
    return None


@rule(
    example=Example(
        mlir=_i32_example(
            _c("m", "0", "tensor<4xi32>") + '\n  %0 = "stablehlo.and"(%x, %m) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>'
        )
    )
)
def and_zero(op: hlo.AndOp, b: Builder):
    """and(x, 0) -> 0   (false for i1)"""
    if _zero(op.rhs):
        return op.rhs
    if _zero(op.lhs):
        return op.lhs
    return None


@rule(
    example=Example(
        mlir=_i32_example(
            _c("m", "0", "tensor<4xi32>") + '\n  %0 = "stablehlo.or"(%x, %m) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>'
        )
    )
)
def or_zero(op: hlo.OrOp, b: Builder):
    """or(x, 0) -> x   (false for i1)"""
    if _zero(op.rhs):
        return op.lhs
    if _zero(op.lhs):
        return op.rhs
    return None


@rule(
    example=Example(
        mlir=_i32_example(
            _c("m", "-1", "tensor<4xi32>") + '\n  %0 = "stablehlo.or"(%x, %m) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>'
        )
    )
)
def or_all_ones(op: hlo.OrOp, b: Builder):
    """or(x, all-ones) -> all-ones   (true for i1)"""
    if _all_ones(op.rhs):
        return op.rhs
    if _all_ones(op.lhs):
        return op.lhs
    return None


@rule(
    example=Example(
        mlir=_i32_example(
            _c("m", "0", "tensor<4xi32>") + '\n  %0 = "stablehlo.xor"(%x, %m) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>'
        )
    )
)
def xor_zero(op: hlo.XorOp, b: Builder):
    """xor(x, 0) -> x"""
    if _zero(op.rhs):
        return op.lhs
    if _zero(op.lhs):
        return op.rhs
    return None


@rule(
    example=Example(
        mlir=_i32_example(
            _c("m", "-1", "tensor<4xi32>") + '\n  %0 = "stablehlo.xor"(%x, %m) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>'
        )
    )
)
def xor_all_ones(op: hlo.XorOp, b: Builder):
    """xor(x, all-ones) -> not(x)"""
    if _all_ones(op.rhs):
        return b.insert(hlo.NotOp(op.lhs)).results[0]
    if _all_ones(op.lhs):
        return b.insert(hlo.NotOp(op.rhs)).results[0]
    return None


@rule(example=Example(mlir=_i32_example('  %0 = "stablehlo.xor"(%x, %x) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>')))
def xor_self(op: hlo.XorOp, b: Builder):
    """xor(x, x) -> 0"""
    if op.lhs is op.rhs and _is_integer(op.result):
        return _emit_splat(b, np.zeros((), _dtype(op.result)), op.result.type)
    return None


@rule(example=Example(mlir=_i32_example('  %0 = "stablehlo.and"(%x, %x) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>')))
def and_self(op: hlo.AndOp, b: Builder):
    """and(x, x) -> x"""
    if op.lhs is op.rhs:
        return op.lhs
    return None


@rule(example=Example(mlir=_i32_example('  %0 = "stablehlo.or"(%x, %x) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>')))
def or_self(op: hlo.OrOp, b: Builder):
    """or(x, x) -> x"""
    if op.lhs is op.rhs:
        return op.lhs
    return None


@rule(
    example=Example(
        mlir=_i32_example(
            '  %0 = "stablehlo.not"(%x) : (tensor<4xi32>) -> tensor<4xi32>\n  %1 = "stablehlo.not"(%0) : (tensor<4xi32>) -> tensor<4xi32>\n  func.return %1 : tensor<4xi32>'
        )
    )
)
def not_not(op: hlo.NotOp, b: Builder):
    """not(not(x)) -> x"""
    inner = producer(op.operand, hlo.NotOp)
    if inner is not None:
        return inner.operand
    return None


@rule(example=Example(lambda x, y: jnp.where(~(x > y), x, 2 * y), [(4,), (4,)]))
def select_not_predicate(op: hlo.SelectOp, b: Builder):
    """select(not(p), x, y) -> select(p, y, x)"""
    inner = producer(op.pred, hlo.NotOp)
    if inner is None:
        return None
    return b.select(inner.operand, op.on_false, op.on_true)


@rule(example=Example(lambda x, y: jnp.where(jnp.where(x > y, True, False), x, y), [(4,), (4,)]))
def select_true_false(op: hlo.SelectOp, b: Builder):
    """select(p, true, false) -> p ;  select(p, false, true) -> not(p)   (i1 results, p of the result shape)"""
    if _dtype(op.result) != np.bool_ or shape(op.pred) != shape(op.result):
        return None
    t, f = _splat(op.on_true), _splat(op.on_false)
    if t is None or f is None or bool(t) == bool(f):
        return None
    if bool(t):
        return op.pred
    return b.insert(hlo.NotOp(op.pred)).results[0]


@rule(
    example=Example(
        mlir="""func.func @main(%x: tensor<4xi32>) -> tensor<4xi32> {
  %0 = "stablehlo.compare"(%x, %x) <{comparison_direction = #stablehlo<comparison_direction LE>}> : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi1>
  %1 = "stablehlo.convert"(%0) : (tensor<4xi1>) -> tensor<4xi32>
  func.return %1 : tensor<4xi32>
}"""
    )
)
def compare_self_integer(op: hlo.CompareOp, b: Builder):
    """compare(x, x, EQ|LE|GE) -> true ;  compare(x, x, NE|LT|GT) -> false   (integers)"""
    if op.lhs is not op.rhs or not _is_integer(op.lhs):
        return None
    value = _direction(op) in ("EQ", "LE", "GE")
    return _emit_splat(b, np.asarray(value), op.result.type)


_SWAPPED = {"EQ": "EQ", "NE": "NE", "LT": "GT", "GT": "LT", "LE": "GE", "GE": "LE"}


@rule(example=Example(lambda x: jnp.where(jnp.less(2.0, x), x, -x), [(4,)]))
def compare_constant_lhs(op: hlo.CompareOp, b: Builder):
    """compare(c, x, dir) -> compare(x, c, swapped dir)   (constants to the right)"""
    if not _is_constant(op.lhs) or _is_constant(op.rhs):
        return None
    new = hlo.CompareOp.create(
        operands=[op.rhs, op.lhs],
        result_types=[op.result.type],
        properties={
            "comparison_direction": ComparisonDirectionAttr(ComparisonDirection(_SWAPPED[_direction(op)])),
            **({"compare_type": op.compare_type} if op.compare_type is not None else {}),
        },
    )
    return b.insert(new).results[0]


@rule(
    example=Example(lambda x: 3.0 * x + jnp.maximum(2.0, x), [(4,)]),
    roots=[hlo.AddOp, hlo.MultiplyOp, hlo.MaximumOp, hlo.MinimumOp, hlo.AndOp, hlo.OrOp, hlo.XorOp],
)
def commutative_constant_lhs(op, b: Builder):
    """op(c, x) -> op(x, c)   (op commutative; constants to the right)"""
    if not _is_constant(op.lhs) or _is_constant(op.rhs):
        return None
    return b.insert(type(op)(op.rhs, op.lhs)).results[0]


@rule(example=Example(lambda x: lax.pow(x, 1.0), [(4,)]))
def power_one(op: hlo.PowerOp, b: Builder):
    """power(x, 1) -> x"""
    s = _splat(op.rhs)
    if s is not None and s == 1:
        return op.lhs
    return None


@rule(example=Example(lambda x: lax.pow(x, 0.0), [(4,)]))
def power_zero(op: hlo.PowerOp, b: Builder):
    """power(x, 0) -> 1   (also for x NaN)"""
    s = _splat(op.rhs)
    if s is not None and s == 0 and _dtype(op.result) is not None:
        return _emit_splat(b, np.ones((), _dtype(op.result)), op.result.type)
    return None


@rule(example=Example(lambda x: lax.pow(x, 2.0), [(4,)]))
def power_two(op: hlo.PowerOp, b: Builder):
    """power(x, 2) -> multiply(x, x)"""
    s = _splat(op.rhs)
    if s is not None and s == 2:
        return b.mul(op.lhs, op.lhs)
    return None


@rule(example=Example(lambda x: lax.pow(x, -1.0), [(4,)], domain=(0.5, 2.0)))
def power_minus_one(op: hlo.PowerOp, b: Builder):
    """power(x, -1) -> divide(1, x)   (floats)"""
    s = _splat(op.rhs)
    dt = _dtype(op.result)
    if s is None or s != -1 or dt is None or dt.kind != "f" and dt != ml_dtypes.bfloat16:
        return None
    return b.div(_emit_splat(b, np.ones((), dt), op.result.type), op.lhs)


@rule(example=Example(mlir=_i32_example('  %0 = "stablehlo.subtract"(%x, %x) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>')))
def subtract_self_integer(op: hlo.SubtractOp, b: Builder):
    """subtract(x, x) -> 0   (integers)"""
    if op.lhs is op.rhs and _is_integer(op.result) and _dtype(op.result) != np.bool_:
        return _emit_splat(b, np.zeros((), _dtype(op.result)), op.result.type)
    return None


@rule(
    example=Example(
        mlir=_i32_example(
            _c("m", "0", "tensor<4xi32>")
            + '\n  %0 = "stablehlo.multiply"(%x, %m) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>'
        )
    )
)
def multiply_zero_integer(op: hlo.MultiplyOp, b: Builder):
    """multiply(x, 0) -> 0   (integers)"""
    if not _is_integer(op.result):
        return None
    if _zero(op.rhs):
        return op.rhs
    if _zero(op.lhs):
        return op.lhs
    return None


def _lossless(src: np.dtype, dst: np.dtype) -> bool:
    """Every ``src`` value is exactly representable in ``dst``."""
    if src == dst:
        return True
    if src == np.bool_:
        return True
    mantissa = {np.dtype(np.float64): 53, np.dtype(np.float32): 24, np.dtype(np.float16): 11, np.dtype(ml_dtypes.bfloat16): 8}
    exponent = {np.dtype(np.float64): 11, np.dtype(np.float32): 8, np.dtype(np.float16): 5, np.dtype(ml_dtypes.bfloat16): 8}
    if src in mantissa and dst in mantissa:
        return mantissa[dst] >= mantissa[src] and exponent[dst] >= exponent[src]
    if src.kind in "iu" and dst in mantissa:
        return src.itemsize * 8 - (1 if src.kind == "i" else 0) <= mantissa[dst]
    if src.kind in "iu" and dst.kind in "iu":
        if src.kind == dst.kind:
            return dst.itemsize > src.itemsize
        return src.kind == "u" and dst.itemsize > src.itemsize
    return False


@rule(example=Example(lambda x: x.astype(np.float32).astype(np.float64).astype(np.float32).astype(np.float64), [(4,)]))
def convert_convert_lossless(op: hlo.ConvertOp, b: Builder):
    """convert(convert(x, T2), T3) -> convert(x, T3)   (x : T1 exact in T2)"""
    inner = producer(op.operand, hlo.ConvertOp)
    if inner is None:
        return None
    t1, t2 = _dtype(inner.operand), _dtype(inner.result)
    if t1 is None or t2 is None or _dtype(op.result) is None or not _lossless(t1, t2):
        return None
    return b.convert(inner.operand, elem(op.result))


@rule(
    example=Example(
        mlir=_mlir(
            '  %0 = "stablehlo.is_finite"(%x) : (tensor<4xf64>) -> tensor<4xi1>\n'
            + _c("a", "[1.0, 0x7FF0000000000000, 0x7FF8000000000000, -2.0]", "tensor<4xf64>")
            + '\n  %1 = "stablehlo.is_finite"(%a) : (tensor<4xf64>) -> tensor<4xi1>'
            + '\n  %2 = "stablehlo.and"(%0, %1) : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>'
            + '\n  %3 = "stablehlo.select"(%2, %x, %a) : (tensor<4xi1>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>'
            + "\n  func.return %3 : tensor<4xf64>"
        )
    )
)
def is_finite_constant_fold(op: hlo.IsFiniteOp, b: Builder):
    """is_finite(c) -> c'"""
    return _fold(op, b, lambda x: np.isfinite(x) if _is_float(x) else None)


@rule(example=Example(mlir=_binary_i32("add", "[12, -1, 5, 0]", "[0, 0, 0, 0]").replace('"stablehlo.add"(%a, %b)', '"stablehlo.popcnt"(%a)').replace("(tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  %1", "(tensor<4xi32>) -> tensor<4xi32>\n  %1", 1)))
def popcnt_constant_fold(op: hlo.PopcntOp, b: Builder):
    """popcnt(c) -> number of set bits of c"""
    # numpy counts the bits of |x| for signed integers: count those of the two's complement
    return _fold(op, b, lambda x: np.bitwise_count(x.astype(f"uint{x.dtype.itemsize * 8}")).astype(x.dtype) if _is_int(x) else None)


@rule(
    example=Example(
        mlir=_mlir(
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
    dt = _dtype(op.result)
    if dt is None:
        return None
    return _emit_splat(b, np.asarray(shape(op.operand)[op.dimension.value.data]).astype(dt), op.result.type)
