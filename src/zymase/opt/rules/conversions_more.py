"""Conversions that cancel, reverses over unit dimensions, FFTs of transposes, and the fused exp(x) - 1 / log(1 + x) ops.

Exactness: integer widening then narrowing keeps the low bits; maximum and minimum of
exactly widened values narrow back exactly; a bitcast and its inverse are the identity;
a multi-dimensional FFT over a set of dimensions does not depend on their order in
exact arithmetic, but the order of the one-dimensional passes changes rounding (values
near zero move by many ulps), so that rule is unsafe. ``expm1`` and
``log1p`` are more accurate than the expressions they replace, so those rules change
values and are unsafe (fast-math only).
"""

from __future__ import annotations

from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ...ir.dense import element_dtype
from ..lazy_jax import jnp, lax, np
from ..pattern import SPLAT, Example, is_float_tensor, producer, rule, shape, splat_value

# ============================================================================ conversions


def _dtype(v: SSAValue):
    try:
        return element_dtype(elem(v))
    except (TypeError, AttributeError):
        return None


@rule(
    example=[
        Example(lambda x: x.astype(np.int64).astype(np.int16), [(4,)], dtypes=["int32"]),
        Example(lambda x: x.astype(np.int64).astype(np.uint32), [(4,)], dtypes=["int32"]),
    ],
    needs={0: hlo.ConvertOp},
)
def convert_widen_narrow_integer(op: hlo.ConvertOp, b: Builder):
    """convert(convert(x, wider integer), narrower integer) -> convert(x, narrower integer)   (integers: the low bits and the extension agree)"""
    inner = producer(op.operand, hlo.ConvertOp)
    if inner is None:
        return None
    t1, t2, t3 = _dtype(inner.operand), _dtype(inner.result), _dtype(op.result)
    if t1 is None or t2 is None or t3 is None or any(t.kind not in "iu" for t in (t1, t2, t3)):
        return None
    if not (t2.itemsize > t1.itemsize and t3.itemsize <= t2.itemsize):
        return None
    if t3 == t1:
        return inner.operand
    return b.convert(inner.operand, elem(op.result))


def _widened(v: SSAValue, narrow) -> SSAValue | None:
    """x when ``v`` is convert(x) with x of dtype ``narrow`` exactly representable in v's type."""
    c = producer(v, hlo.ConvertOp)
    if c is None or _dtype(c.operand) != narrow:
        return None
    return c.operand


def _exact_widening(src, dst) -> bool:
    from .algebraic import _lossless

    return _lossless(src, dst)


@rule(
    example=[
        Example(lambda x, y: jnp.minimum(x.astype(np.float64), y.astype(np.float64)).astype(np.float32), [(4,), (4,)], dtypes=["float32", "float32"]),
        Example(lambda x, y: jnp.maximum(x.astype(np.int32), y.astype(np.int32)).astype(np.int16), [(4,), (4,)], dtypes=["int16", "int16"]),
    ],
    needs={0: (hlo.MaximumOp, hlo.MinimumOp)},
)
def convert_max_min_converts(op: hlo.ConvertOp, b: Builder):
    """convert(maximum(convert(x), convert(y))) -> maximum(x, y) ;  minimum likewise   (x, y of the result type, widened exactly)"""
    m = op.operand.owner
    if not isinstance(m, (hlo.MaximumOp, hlo.MinimumOp)) or len(list(op.operand.uses)) != 1:
        return None
    narrow, wide = _dtype(op.result), _dtype(op.operand)
    if narrow is None or wide is None or narrow.kind == "c" or not _exact_widening(narrow, wide):
        return None
    x, y = _widened(m.lhs, narrow), _widened(m.rhs, narrow)
    if x is None or y is None or x.type != op.result.type or y.type != op.result.type:
        return None
    return b.insert(type(m)(x, y)).results[0]


_BITCAST_ROUND_TRIP = """
func.func @main(%x: tensor<3x8xi8>) -> tensor<3x8xi8> {
  %0 = stablehlo.bitcast_convert %x : (tensor<3x8xi8>) -> tensor<3xf64>
  %1 = stablehlo.bitcast_convert %0 : (tensor<3xf64>) -> tensor<3x8xi8>
  func.return %1 : tensor<3x8xi8>
}"""


@rule(example=[Example(mlir=_BITCAST_ROUND_TRIP), Example(lambda x: lax.bitcast_convert_type(lax.bitcast_convert_type(x, np.int64), np.float64), [(4,)])], needs={0: hlo.BitcastConvertOp})
def bitcast_convert_round_trip(op: hlo.BitcastConvertOp, b: Builder):
    """bitcast_convert(bitcast_convert(x)) -> x   (back to x's type)"""
    inner = producer(op.operand, hlo.BitcastConvertOp)
    if inner is not None and inner.operand.type == op.result.type:
        return inner.operand
    return None


# ============================================================================ reverse, pad


@rule(example=[Example(lambda x: lax.rev(x, (0, 1)), [(1, 4)]), Example(lambda x: lax.rev(x, (1,)), [(3, 1)])])
def reverse_unit_dims(op: hlo.ReverseOp, b: Builder):
    """reverse(x, D) -> reverse(x, D without its size-1 dimensions)   (x when none is left)"""
    dims = list(op.dimensions.get_values())
    xs = shape(op.operand)
    kept = [d for d in dims if xs[d] != 1]
    if len(kept) == len(dims):
        return None
    if not kept:
        return op.operand
    return b.reverse(op.operand, kept)


# ============================================================================ fft of a transpose


def _fft_rank(op: hlo.FftOp) -> int:
    return len(list(op.fft_length.get_values()))


@rule(
    example=[
        Example(lambda x: jnp.fft.fftn(jnp.transpose(x.astype(np.complex128), (0, 2, 1)), axes=(1, 2)), [(2, 3, 4)]),
        Example(lambda x: jnp.fft.fft(jnp.transpose(x.astype(np.complex128), (1, 0, 2)), axis=2), [(2, 3, 4)]),
    ],
    unsafe=True,
    needs={0: hlo.TransposeOp},
)
def fft_transpose(op: hlo.FftOp, b: Builder):
    """fft(transpose(x, p)) -> transpose(fft(x), p)   (p keeps the transformed trailing dimensions among themselves; RFFT / IRFFT: the last one in place; the order of the one-dimensional passes changes rounding: fast-math only)"""
    t = producer(op.operand, hlo.TransposeOp)
    if t is None:
        return None
    perm = list(t.permutation.get_values())
    rank, k = len(perm), _fft_rank(op)
    tail = list(range(rank - k, rank))
    if sorted(perm[rank - k :]) != tail:
        return None
    kind = op.fft_type.data
    if kind.value in ("RFFT", "IRFFT") and perm[-1] != rank - 1:
        return None
    # fft_length follows the transposed dimensions: read it back in x's order
    lengths = list(op.fft_length.get_values())
    x_lengths = [0] * k
    for j in range(k):
        x_lengths[perm[rank - k + j] - (rank - k)] = lengths[j]
    xs = shape(t.operand)
    out_dims = list(xs)
    if kind.value == "RFFT":
        out_dims[-1] = x_lengths[-1] // 2 + 1
    elif kind.value == "IRFFT":
        out_dims[-1] = x_lengths[-1]
    from xdsl.dialects.builtin import TensorType

    new = hlo.FftOp.create(
        operands=[t.operand],
        result_types=[TensorType(elem(op.result), out_dims)],
        properties={**dict(op.properties), "fft_length": hlo.i64_array(x_lengths)},
        attributes=dict(op.attributes),
    )
    inner = b.insert(new).results[0]
    return b.transpose(inner, perm)


# ============================================================================ fused ops (unsafe: more accurate)


@rule(example=Example(lambda x: jnp.exp(x) - 1.0, [(4,)]), unsafe=True, needs={0: hlo.ExponentialOp, 1: SPLAT})
def exp_minus_one(op: hlo.SubtractOp, b: Builder):
    """subtract(exp(x), 1) -> exponential_minus_one(x)   (more accurate: values change; fast-math only)"""
    e = producer(op.lhs, hlo.ExponentialOp)
    if e is None or splat_value(op.rhs) != 1 or not is_float_tensor(op.result):
        return None
    return b.insert(hlo.ExponentialMinusOneOp(e.operand)).results[0]


@rule(example=[Example(lambda x: jnp.log(x + 1.0), [(4,)], domain=(0.1, 2.0)), Example(lambda x: jnp.log(1.0 + x), [(4,)], domain=(0.1, 2.0))], unsafe=True, needs={0: hlo.AddOp})
def log_one_plus(op: hlo.LogOp, b: Builder):
    """log(add(x, 1)) -> log_plus_one(x)   (more accurate: values change; fast-math only)"""
    a = producer(op.operand, hlo.AddOp)
    if a is None or not is_float_tensor(op.result):
        return None
    for x, one in ((a.lhs, a.rhs), (a.rhs, a.lhs)):
        if splat_value(one) == 1 and splat_value(x) is None:
            return b.insert(hlo.LogPlusOneOp(x)).results[0]
    return None


# ============================================================================ absolute values of non-negative values


_NONNEG_UNARY = (hlo.AbsOp, hlo.ExponentialOp, hlo.SqrtOp, hlo.LogisticOp)
_NONNEG_SHAPE = (hlo.BroadcastInDimOp, hlo.ReshapeOp, hlo.TransposeOp, hlo.SliceOp, hlo.ReverseOp)
_NONNEG_BINARY = (hlo.AddOp, hlo.MultiplyOp, hlo.MinimumOp)  # not divide: x / -0 is -inf


def _non_negative_float(v: SSAValue, depth: int = 6) -> bool:
    """Every element of the real floating-point ``v`` is >= 0 (or -0, or NaN), by structure."""
    owner = v.owner
    if isinstance(owner, hlo.ConstantOp) or (isinstance(owner, hlo.BroadcastInDimOp) and isinstance(owner.operand.owner, hlo.ConstantOp)):
        from .common import constant_array, constant_splat

        s = constant_splat(v)
        if s is not None:
            return not bool(s < 0)
        arr = constant_array(v)
        return arr is not None and not bool((arr < 0).any())
    if depth == 0:
        return False
    if isinstance(owner, _NONNEG_UNARY):
        return True
    if isinstance(owner, hlo.MultiplyOp) and owner.lhs is owner.rhs:
        return True
    if isinstance(owner, _NONNEG_SHAPE):
        return _non_negative_float(owner.operand, depth - 1)
    if isinstance(owner, hlo.ConvertOp):
        return is_float_tensor(owner.operand) and _non_negative_float(owner.operand, depth - 1)
    if isinstance(owner, _NONNEG_BINARY):
        return _non_negative_float(owner.lhs, depth - 1) and _non_negative_float(owner.rhs, depth - 1)
    if isinstance(owner, hlo.MaximumOp):
        return _non_negative_float(owner.lhs, depth - 1) or _non_negative_float(owner.rhs, depth - 1)
    return False


@rule(
    example=[
        Example(lambda x: jnp.abs(x * x), [(4,)]),
        Example(lambda x: jnp.abs(jnp.exp(x).reshape(2, 2) + 1.0), [(4,)]),
        Example(lambda x: jnp.abs(lax.iota(np.int64, 4) + 1) + x, [(4,)], dtypes=["int64"]),
    ]
)
def abs_non_negative(op: hlo.AbsOp, b: Builder):
    """abs(x) -> x   (x >= 0 by construction: squares, exp, sqrt, abs, non-negative constants and iotas, and sums, products, shape ops of them; up to the sign of zero)"""
    x = op.operand
    if x.type != op.result.type:
        return None  # complex abs
    if is_float_tensor(x):
        return x if _non_negative_float(x) else None
    from .scatter_gather import _index_values

    values = _index_values(x)
    if values is not None and values.size and not bool((values < 0).any()):
        return x
    return None
