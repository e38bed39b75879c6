"""Reductions of elementwise ops, and identities of values known to be finite.

Maximum and minimum reductions commute with every monotone elementwise map: adding a
finite constant, multiplying by a positive finite constant (a negative one swaps maximum
and minimum), and rounding conversions. ``reduce_max(x * c) == reduce_max(x) * c``
element for element: rounding is monotone, NaN propagates on both sides, and the signed
zeros come out the same (XLA orders -0.0 < +0.0; multiplying by c > 0 keeps each sign).
The rules need the init value to be the reduction's identity (-inf for maximum, +inf for
minimum), which the map leaves in place.

Values whose range is known (``iota_range.bounds``: iotas, converted integers, finite
constants and the ops between them) have no NaN and no infinity: comparing such a value
with itself, subtracting it from itself or testing it for infinities is decided.
"""

from __future__ import annotations

import math

from ..lazy_jax import jnp
from ..lazy_jax import lax
from ..lazy_jax import np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from ...ir import chlo
from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ..pattern import Example, producer, rule, shape, single_use
from .common import any_dtype, constant_splat, emit_splat, foldable_dtype, mlir_main


def _float_dtype(v: SSAValue):
    dt = foldable_dtype(v)
    if dt is None or dt.kind != "f":
        return None
    return dt


def _max_min_reduce(op: hlo.ReduceOp):
    """The combiner class (MaximumOp / MinimumOp) of a one-input float reduce whose init is
    its identity (-inf / +inf), and whose input has no other user; else None."""
    if len(op.inputs) != 1:
        return None
    kind = op.combiner()
    if kind not in (hlo.MaximumOp, hlo.MinimumOp) or _float_dtype(op.inputs[0]) is None:
        return None
    init = constant_splat(op.init_values[0])
    if init is None or float(init) != (-math.inf if kind is hlo.MaximumOp else math.inf):
        return None
    if not single_use(op.inputs[0]):
        return None
    return kind


def _reduce_again(b: Builder, op: hlo.ReduceOp, x: SSAValue, kind) -> SSAValue:
    """op's reduction over the same dimensions of ``x`` (its element type) with combiner ``kind``."""
    dims = [int(d) for d in op.dimensions.get_values()]
    ident = -math.inf if kind is hlo.MaximumOp else math.inf
    init = b.constant(np.asarray(ident, any_dtype(x)), TensorType(elem(x), []))
    return b.reduce(x, init, dims, kind)


def _normal_positive(c) -> bool:
    if c is None or c.dtype.kind != "f":
        return False
    f = abs(float(c))
    return math.isfinite(f) and f >= float(np.finfo(c.dtype).tiny)


def _splat_operand(m):
    """(x, c) for a binary op with a splat constant operand c (either side for commutative ops)."""
    pairs = [(m.lhs, m.rhs)]
    if isinstance(m, (hlo.AddOp, hlo.MultiplyOp)):
        pairs.append((m.rhs, m.lhs))
    for x, c in pairs:
        cv = constant_splat(c)
        if cv is not None and constant_splat(x) is None:
            return x, c, cv
    return None


def _scalar_like(b: Builder, c: SSAValue, cv, result: SSAValue) -> SSAValue:
    return emit_splat(b, np.asarray(cv), result.type)


@rule(
    example=[
        Example(lambda x: jnp.max(x * 3.0, axis=1), [(2, 3)]),
        Example(lambda x: jnp.min(0.5 * x, axis=0), [(2, 3)]),
        Example(lambda x: jnp.max(x * -2.0, axis=1), [(2, 3)]),
    ],
    needs={0: hlo.MultiplyOp},
    unsafe=True,
)
def reduce_max_min_scaled(op: hlo.ReduceOp, b: Builder):
    """reduce_max(x * c) -> reduce_max(x) * c ;  reduce_min likewise ;  c < 0: the other reduction   (floats, c a finite normal splat: rounding is monotone; init the identity; fast-math: the values are equal, but rounding can make distinct elements of x * c tie, and the derivative of a max splits over ties, so before AD it would differ)"""
    kind = _max_min_reduce(op)
    m = producer(op.inputs[0], hlo.MultiplyOp)
    if kind is None or m is None:
        return None
    found = _splat_operand(m)
    if found is None or not _normal_positive(found[2]):
        return None
    x, c, cv = found
    if float(cv) < 0:
        kind = hlo.MinimumOp if kind is hlo.MaximumOp else hlo.MaximumOp
    r = _reduce_again(b, op, x, kind)
    return b.mul(r, _scalar_like(b, c, cv, op.results[0]))


@rule(
    example=[
        Example(lambda x: jnp.max(x + 3.0, axis=1), [(2, 3)]),
        Example(lambda x: jnp.min(x - 0.5, axis=0), [(2, 3)]),
        Example(lambda x: jnp.max(1.0 - x, axis=1), [(2, 3)]),
    ],
    needs={0: (hlo.AddOp, hlo.SubtractOp)},
    unsafe=True,
)
def reduce_max_min_shifted(op: hlo.ReduceOp, b: Builder):
    """reduce_max(x + c) -> reduce_max(x) + c ;  x - c likewise ;  reduce_max(c - x) -> c - reduce_min(x) ;  reduce_min likewise   (floats, c a finite splat: rounding is monotone; init the identity; fast-math: the values are equal, but rounding can make distinct elements of x + c tie, e.g. x + 1e20, and the derivative of a max splits over ties, so before AD it would differ)"""
    kind = _max_min_reduce(op)
    m = producer(op.inputs[0], (hlo.AddOp, hlo.SubtractOp))
    if kind is None or m is None:
        return None
    if isinstance(m, hlo.SubtractOp) and constant_splat(m.lhs) is not None and constant_splat(m.rhs) is None:
        cv = constant_splat(m.lhs)
        if not math.isfinite(float(cv)):
            return None
        other = hlo.MinimumOp if kind is hlo.MaximumOp else hlo.MaximumOp
        return b.sub(_scalar_like(b, m.lhs, cv, op.results[0]), _reduce_again(b, op, m.rhs, other))
    found = _splat_operand(m)
    if found is None or not math.isfinite(float(found[2])):
        return None
    x, c, cv = found
    r = _reduce_again(b, op, x, kind)
    k = _scalar_like(b, c, cv, op.results[0])
    return b.add(r, k) if isinstance(m, hlo.AddOp) else b.sub(r, k)


_ROUNDING = {("f", "f"), ("i", "f"), ("u", "f")}


@rule(
    example=[
        Example(lambda x: jnp.max(x.astype(jnp.float64), axis=1), [(2, 3)], dtypes=["float32"]),
        Example(lambda x: jnp.min(x.astype(jnp.float64), axis=0), [(2, 3)], dtypes=["int32"]),
    ],
    needs={0: hlo.ConvertOp},
)
def reduce_max_min_convert(op: hlo.ReduceOp, b: Builder):
    """reduce_max(convert(x)) -> convert(reduce_max(x)) ;  reduce_min likewise   (x float or integer converted to a float: rounding is monotone; every reduced dimension non-empty; init the identity. A float x only widened: narrowing rounds distinct elements to ties, among which the maximum splits x's derivative)"""
    kind = _max_min_reduce(op)
    cv = producer(op.inputs[0], hlo.ConvertOp)
    if kind is None or cv is None:
        return None
    src, dst = any_dtype(cv.operand), any_dtype(cv.result)
    if src is None or dst is None or (src.kind, dst.kind) not in _ROUNDING or str(src) == "bfloat16":
        return None
    if src.kind == "f" and (src.itemsize > dst.itemsize or str(dst) == "bfloat16"):
        return None
    dims = [int(d) for d in op.dimensions.get_values()]
    if any(shape(cv.operand)[d] == 0 for d in dims) or not dims:
        return None  # an empty reduction gives the init, which x's type may not hold
    if src.kind == "f":
        init = b.constant(np.asarray(-math.inf if kind is hlo.MaximumOp else math.inf, src), TensorType(elem(cv.operand), []))
    else:
        info = np.iinfo(src)
        init = b.constant(np.asarray(info.min if kind is hlo.MaximumOp else info.max, src), TensorType(elem(cv.operand), []))
    r = b.reduce(cv.operand, init, dims, kind)
    return b.convert(r, elem(op.results[0]))


# ============================================================================ values without NaN or infinities


def _finite(v: SSAValue) -> bool:
    from .iota_range import bounds

    r = bounds(v)
    return r is not None and r.is_float and not r.nan and math.isfinite(r.lo) and math.isfinite(r.hi)


def _iota_f(body: str, result: str = "tensor<4xi1>") -> Example:
    head = '  %i = "stablehlo.iota"() <{iota_dimension = 0 : i64}> : () -> tensor<4xf64>\n  %s = stablehlo.multiply %i, %x : tensor<4xf64>\n'
    return Example(mlir=mlir_main(head + body, "%x: tensor<4xf64>", result))


@rule(
    example=[
        _iota_f('  %0 = stablehlo.compare EQ, %i, %i, FLOAT : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>\n  func.return %0 : tensor<4xi1>'),
        _iota_f('  %0 = stablehlo.compare LT, %i, %i, FLOAT : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>\n  func.return %0 : tensor<4xi1>'),
    ],
)
def compare_self_no_nan(op: hlo.CompareOp, b: Builder):
    """compare(x, x, EQ|LE|GE) -> true ;  compare(x, x, NE|LT|GT) -> false   (floats without NaN by their range: iotas, converted integers, ...)"""
    if op.lhs is not op.rhs or _float_dtype(op.lhs) is None or any(n < 0 for n in shape(op.result)):
        return None
    if not _finite(op.lhs):
        return None
    d = op.comparison_direction.data.value
    return b.constant(np.asarray(d in ("EQ", "LE", "GE")), op.result.type)


@rule(example=_iota_f("  %0 = stablehlo.subtract %i, %i : tensor<4xf64>\n  %1 = stablehlo.add %0, %x : tensor<4xf64>\n  func.return %1 : tensor<4xf64>", "tensor<4xf64>"))
def subtract_self_finite(op: hlo.SubtractOp, b: Builder):
    """subtract(x, x) -> +0   (floats finite by their range: x - x is +0 for every finite x, -0.0 included)"""
    if op.lhs is not op.rhs or _float_dtype(op.lhs) is None or any(n < 0 for n in shape(op.result)):
        return None
    if not _finite(op.lhs):
        return None
    return b.zeros(op.result.type)


_B = "tensor<4xi1>"


@rule(
    example=[
        _iota_f(f"  %0 = chlo.is_inf %i : tensor<4xf64> -> {_B}\n  func.return %0 : {_B}"),
        _iota_f(f"  %0 = chlo.is_neg_inf %i : tensor<4xf64> -> {_B}\n  func.return %0 : {_B}"),
        _iota_f(f'  %0 = "stablehlo.is_finite"(%i) : (tensor<4xf64>) -> {_B}\n  func.return %0 : {_B}'),
    ],
    roots=[chlo.IsInfOp, chlo.IsPosInfOp, chlo.IsNegInfOp, hlo.IsFiniteOp],
)
def infinity_test_of_bounded(op, b: Builder):
    """is_inf(x), is_pos_inf(x), is_neg_inf(x) -> false ;  is_finite(x) -> true   (x finite by its range: iotas, converted integers, finite constants, ...)"""
    if _float_dtype(op.operand) is None or any(n < 0 for n in shape(op.result)) or not _finite(op.operand):
        return None
    return b.constant(np.asarray(isinstance(op, hlo.IsFiniteOp)), op.result.type)


# ============================================================================ complex values built from parts


def _parts(v: SSAValue):
    c = producer(v, hlo.ComplexOp)
    return None if c is None else (c.lhs, c.rhs)


_C = "tensor<4xcomplex<f64>>"
_R = "tensor<4xf64>"


def _two_complex(line: str) -> Example:
    body = (
        f'  %a = "stablehlo.complex"(%x, %y) : ({_R}, {_R}) -> {_C}\n'
        f'  %c = "stablehlo.complex"(%y, %x) : ({_R}, {_R}) -> {_C}\n'
        f"  %0 = {line}\n  func.return %0 : {_C}"
    )
    return Example(mlir=mlir_main(body, f"%x: {_R}, %y: {_R}", _C))


@rule(
    example=[_two_complex(f"stablehlo.add %a, %c : {_C}"), _two_complex(f"stablehlo.subtract %a, %c : {_C}")],
    roots=[hlo.AddOp, hlo.SubtractOp],
    needs={0: hlo.ComplexOp, 1: hlo.ComplexOp},
)
def add_subtract_complexes(op, b: Builder):
    """complex(a, b) ± complex(c, d) -> complex(a ± c, b ± d)   (componentwise, exact)"""
    left, right = _parts(op.lhs), _parts(op.rhs)
    if left is None or right is None:
        return None
    f = b.add if isinstance(op, hlo.AddOp) else b.sub
    return b.insert(hlo.ComplexOp(f(left[0], right[0]), f(left[1], right[1]), op.result.type)).results[0]


@rule(example=Example(mlir=mlir_main(f'  %a = "stablehlo.complex"(%x, %y) : ({_R}, {_R}) -> {_C}\n  %0 = stablehlo.negate %a : {_C}\n  func.return %0 : {_C}', f"%x: {_R}, %y: {_R}", _C)), needs={0: hlo.ComplexOp})
def negate_complex(op: hlo.NegateOp, b: Builder):
    """negate(complex(a, b)) -> complex(negate(a), negate(b))   (componentwise, exact)"""
    parts = _parts(op.operand)
    if parts is None or not single_use(op.operand):
        return None
    return b.insert(hlo.ComplexOp(b.neg(parts[0]), b.neg(parts[1]), op.result.type)).results[0]


# ============================================================================ arithmetic in a wider type, rounded back


_BINARY = (hlo.AddOp, hlo.SubtractOp, hlo.MultiplyOp, hlo.DivideOp)
_PRECISION = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
_EXPONENT_MAX = {"float16": 15, "bfloat16": 127, "float32": 127, "float64": 1023}


@rule(
    example=[
        Example(lambda x, y: (x.astype(jnp.float64) * y.astype(jnp.float64)).astype(jnp.float32), [(4,), (4,)], dtypes=["float32", "float32"]),
        Example(lambda x, y: (x.astype(jnp.float64) / y.astype(jnp.float64)).astype(jnp.float32), [(4,), (4,)], dtypes=["float32", "float32"]),
    ],
    needs={0: _BINARY},
)
def convert_binary_of_widened(op: hlo.ConvertOp, b: Builder):
    """convert(op(convert(x), convert(y)), T) -> op(x, y)   (x, y of float type T; op +, -, *, /; the wide type has at least 2p + 2 bits and more range: double rounding is innocuous)"""
    m = producer(op.operand, _BINARY)
    if m is None or not single_use(op.operand):
        return None
    cx, cy = producer(m.lhs, hlo.ConvertOp), producer(m.rhs, hlo.ConvertOp)
    if cx is None or cy is None or cx.operand.type != op.result.type or cy.operand.type != op.result.type:
        return None
    narrow, wide = str(any_dtype(op.result)), str(any_dtype(m.result))
    if narrow not in _PRECISION or wide not in _PRECISION:
        return None
    if _PRECISION[wide] < 2 * _PRECISION[narrow] + 2 or _EXPONENT_MAX[wide] < 2 * _EXPONENT_MAX[narrow] + 2:
        return None
    return b.insert(type(m)(cx.operand, cy.operand)).results[0]


_UNARY_WIDENED = (hlo.SqrtOp, hlo.NegateOp, hlo.AbsOp)


@rule(
    example=[
        Example(lambda x: jnp.sqrt(x.astype(jnp.float64)).astype(jnp.float32), [(4,)], dtypes=["float32"]),
        Example(lambda x: jnp.abs(x.astype(jnp.float64)).astype(jnp.float32), [(4,)], dtypes=["float32"]),
    ],
    needs={0: _UNARY_WIDENED},
)
def convert_unary_of_widened(op: hlo.ConvertOp, b: Builder):
    """convert(f(convert(x)), T) -> f(x)   (x of float type T; f sqrt, negate or abs: the wide type has at least 2p + 2 bits, double rounding is innocuous)"""
    m = producer(op.operand, _UNARY_WIDENED)
    if m is None or not single_use(op.operand):
        return None
    cx = producer(m.operand, hlo.ConvertOp)
    if cx is None or cx.operand.type != op.result.type:
        return None
    narrow, wide = str(any_dtype(op.result)), str(any_dtype(m.result))
    if narrow not in _PRECISION or wide not in _PRECISION or _PRECISION[wide] < 2 * _PRECISION[narrow] + 2 or _EXPONENT_MAX[wide] < _EXPONENT_MAX[narrow]:
        return None
    return b.insert(type(m)(cx.operand)).results[0]


@rule(
    example=Example(lambda p, x, y: jnp.where(p, x.astype(jnp.float64), y.astype(jnp.float64)).astype(jnp.float32), [(4,), (4,), (4,)], dtypes=["bool", "float32", "float32"]),
    needs={0: hlo.SelectOp},
)
def convert_select_of_converts(op: hlo.ConvertOp, b: Builder):
    """convert(select(p, convert(x), convert(y)), T) -> select(p, x, y)   (x, y of type T, converted exactly there and back: a float widened, an integer widened)"""
    s = producer(op.operand, hlo.SelectOp)
    if s is None or not single_use(op.operand):
        return None
    cx, cy = producer(s.on_true, hlo.ConvertOp), producer(s.on_false, hlo.ConvertOp)
    if cx is None or cy is None or cx.operand.type != op.result.type or cy.operand.type != op.result.type:
        return None
    src, mid = any_dtype(op.result), any_dtype(s.result)
    if src is None or mid is None:
        return None
    widened_float = src.kind == "f" and mid.kind == "f" and str(src) in _PRECISION and str(mid) in _PRECISION and _PRECISION[str(mid)] >= _PRECISION[str(src)] and _EXPONENT_MAX[str(mid)] >= _EXPONENT_MAX[str(src)]
    widened_int = src.kind in "iu" and mid.kind in "iu" and mid.itemsize > src.itemsize and (src.kind == mid.kind or (src.kind == "u" and mid.kind == "i"))
    if not (widened_float or widened_int):
        return None
    return b.select(s.pred, cx.operand, cy.operand)


def _splat_bound(v: SSAValue) -> bool:
    s = constant_splat(v)
    return s is not None and s.dtype.kind == "f" and not math.isnan(float(s))


@rule(
    example=[
        Example(lambda x: jnp.max(lax.clamp(-0.5, x, 0.75), axis=1), [(2, 3)]),
        Example(lambda x: jnp.min(lax.clamp(-0.5, x, 0.75), axis=0), [(2, 3)]),
    ],
    needs={0: hlo.ClampOp},
)
def reduce_max_min_bounded(op: hlo.ReduceOp, b: Builder):
    """reduce_max(clamp(lo, x, hi)) -> clamp(lo, reduce_max(x), hi) ;  reduce_min likewise   (floats, splat bounds not NaN: a monotone map; every reduced dimension non-empty; init the identity. Not maximum(x, c) or minimum(x, c): where the reduction's result is c, the split of the derivative among the ties differs)"""
    kind = _max_min_reduce(op)
    m = producer(op.inputs[0], hlo.ClampOp)
    if kind is None or m is None:
        return None
    dims = [int(d) for d in op.dimensions.get_values()]
    if not dims or any(shape(op.inputs[0])[d] == 0 for d in dims):
        return None
    out_shape = shape(op.results[0])

    def bound(v):
        s = constant_splat(v)
        return emit_splat(b, np.asarray(s), TensorType(elem(v), out_shape))

    if not (_splat_bound(m.min) and _splat_bound(m.max)):
        return None
    r = _reduce_again(b, op, m.operand, kind)
    return b.clamp(bound(m.min), r, bound(m.max))


_MONOTONE = (hlo.FloorOp, hlo.CeilOp, hlo.RoundNearestEvenOp, hlo.RoundNearestAfzOp, hlo.SignOp)


@rule(
    example=[Example(lambda x: jnp.max(jnp.floor(x * 3.0), axis=1), [(2, 3)]), Example(lambda x: jnp.min(jnp.sign(x), axis=0), [(2, 3)])],
    needs={0: _MONOTONE},
)
def reduce_max_min_monotone_unary(op: hlo.ReduceOp, b: Builder):
    """reduce_max(f(x)) -> f(reduce_max(x)) ;  reduce_min likewise   (floats; f floor, ceil, round or sign: monotone, keeping NaN and the signs of zero; every reduced dimension non-empty; init the identity)"""
    kind = _max_min_reduce(op)
    m = producer(op.inputs[0], _MONOTONE)
    if kind is None or m is None:
        return None
    dims = [int(d) for d in op.dimensions.get_values()]
    if not dims or any(shape(op.inputs[0])[d] == 0 for d in dims):
        return None
    r = _reduce_again(b, op, m.operand, kind)
    return b.insert(type(m)(r)).results[0]


@rule(
    example=Example(
        mlir=mlir_main(
            '  %c = stablehlo.constant dense<[1.0, -2.5, 0.0, 3.0]> : tensor<4xf32>\n'
            "  %0 = stablehlo.bitcast_convert %c : (tensor<4xf32>) -> tensor<4xi32>\n"
            "  %1 = stablehlo.add %x, %0 : tensor<4xi32>\n  func.return %1 : tensor<4xi32>",
            "%x: tensor<4xi32>",
            "tensor<4xi32>",
        )
    ),
    needs={0: (hlo.ConstantOp, hlo.BroadcastInDimOp)},
)
def bitcast_convert_constant_fold(op: hlo.BitcastConvertOp, b: Builder):
    """bitcast_convert(c) -> c'   (same element width: the bits reinterpreted)"""
    from .common import MAX_FOLD_ELEMENTS, constant_array, emit

    src, dst = any_dtype(op.operand), any_dtype(op.result)
    if src is None or dst is None or src.itemsize != dst.itemsize or shape(op.operand) != shape(op.result):
        return None
    if src == np.bool_ or dst == np.bool_:
        return None
    s = constant_splat(op.operand, complex_ok=True)
    if s is not None:
        return emit_splat(b, np.asarray(s).reshape(1).view(dst).reshape(()), op.result.type) if all(n >= 0 for n in shape(op.result)) else None
    if int(np.prod(shape(op.result))) > MAX_FOLD_ELEMENTS:
        return None
    arr = constant_array(op.operand)
    if arr is None:
        return None
    return emit(b, np.ascontiguousarray(arr).view(dst), op.result.type)
