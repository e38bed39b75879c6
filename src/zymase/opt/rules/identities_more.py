"""Small exact identities of the peer's optimizer that zymase lacked: reverses that
cancel, rounding of values already integral, bitwise absorption and cancellation,
repeated remainders, complex parts, shifts by zero, sorts along a unit dimension, and
integer cancellations in sums and differences (the float forms of those change rounding
and are unsafe).
"""

from __future__ import annotations

from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ..lazy_jax import jnp, lax, np
from ..pattern import CONSTANT, Example, is_float_tensor, orders, producer, rule, shape
from .common import constant_splat, is_integer, mlir_i32

I32 = ["int32", "int32"]


def _i32_pair(body: str) -> Example:
    return Example(mlir=mlir_i32(body))


# ============================================================================ reverse


@rule(example=[Example(lambda x: lax.rev(lax.rev(x, (0,)), (0, 1)), [(3, 4)]), Example(lambda x: lax.rev(lax.rev(x, (1,)), (1,)), [(3, 4)])], needs={0: hlo.ReverseOp})
def reverse_reverse(op: hlo.ReverseOp, b: Builder):
    """reverse(reverse(x, A), B) -> reverse(x, A xor B)   (x when they cancel)"""
    inner = producer(op.operand, hlo.ReverseOp)
    if inner is None:
        return None
    dims = set(inner.dimensions.get_values()) ^ set(op.dimensions.get_values())
    if not dims:
        return inner.operand
    return b.reverse(inner.operand, sorted(dims))


# ============================================================================ rounding


_ROUNDING = (hlo.FloorOp, hlo.CeilOp, hlo.RoundNearestEvenOp, hlo.RoundNearestAfzOp)


@rule(
    example=[
        Example(lambda x: jnp.ceil(jnp.floor(x)), [(4,)]),
        Example(lambda x: jnp.floor(jnp.round(x)), [(4,)]),
        Example(lambda x: jnp.floor(x.astype(np.int32).astype(np.float64)), [(4,)]),
    ],
    roots=[hlo.FloorOp, hlo.CeilOp, hlo.RoundNearestEvenOp, hlo.RoundNearestAfzOp],
    needs={0: (hlo.FloorOp, hlo.CeilOp, hlo.RoundNearestEvenOp, hlo.RoundNearestAfzOp, hlo.ConvertOp)},
)
def rounding_of_integral(op, b: Builder):
    """round(r(x)) -> r(x) ;  round(convert(integer)) -> convert(integer)   (round, r any of floor, ceil, round_nearest_even, round_nearest_afz: the value is already integral)"""
    x = op.operand
    if isinstance(x.owner, _ROUNDING):
        return x
    c = producer(x, hlo.ConvertOp)
    if c is not None and is_integer(c.operand) and is_float_tensor(x):
        return x
    return None


# ============================================================================ bitwise


@rule(
    example=[
        _i32_pair('  %0 = "stablehlo.xor"(%x, %y) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  %1 = "stablehlo.xor"(%x, %0) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %1 : tensor<4xi32>'),
        _i32_pair('  %0 = "stablehlo.xor"(%y, %x) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  %1 = "stablehlo.xor"(%0, %x) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %1 : tensor<4xi32>'),
    ],
    commutative=True,
    needs=hlo.XorOp,
)
def xor_xor_cancel(op: hlo.XorOp, b: Builder, x: SSAValue, y: SSAValue):
    """xor(x, xor(x, y)) -> y"""
    inner = producer(y, hlo.XorOp)
    if inner is None:
        return None
    for p, q in orders(inner):
        if p is x:
            return q
    return None


@rule(
    example=[
        _i32_pair('  %0 = "stablehlo.or"(%x, %y) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  %1 = "stablehlo.and"(%x, %0) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %1 : tensor<4xi32>'),
        _i32_pair('  %0 = "stablehlo.and"(%y, %x) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  %1 = "stablehlo.or"(%0, %x) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %1 : tensor<4xi32>'),
    ],
    roots=[hlo.AndOp, hlo.OrOp],
    commutative=True,
    needs=(hlo.AndOp, hlo.OrOp),
)
def and_or_absorb(op, b: Builder, x: SSAValue, y: SSAValue):
    """and(x, or(x, y)) -> x ;  or(x, and(x, y)) -> x"""
    other = hlo.OrOp if isinstance(op, hlo.AndOp) else hlo.AndOp
    inner = producer(y, other)
    if inner is None:
        return None
    if any(p is x for p, _ in orders(inner)):
        return x
    return None


@rule(
    example=[
        _i32_pair('  %c = "stablehlo.constant"() <{value = dense<0> : tensor<4xi32>}> : () -> tensor<4xi32>\n  %0 = "stablehlo.shift_left"(%x, %c) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>'),
        _i32_pair('  %c = "stablehlo.constant"() <{value = dense<0> : tensor<4xi32>}> : () -> tensor<4xi32>\n  %0 = "stablehlo.shift_right_arithmetic"(%x, %c) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>'),
    ],
    roots=[hlo.ShiftLeftOp, hlo.ShiftRightArithmeticOp, hlo.ShiftRightLogicalOp],
    needs={1: CONSTANT},
)
def shift_by_zero(op, b: Builder):
    """shift(x, 0) -> x   (left, right arithmetic, right logical)"""
    s = constant_splat(op.rhs)
    if s is not None and s.dtype.kind in "iu" and int(s) == 0:
        return op.lhs
    return None


# ============================================================================ remainders


@rule(
    example=[Example(lambda x, y: lax.rem(lax.rem(x, y), y), [(4,), (4,)], domain=(0.5, 3.0)), Example(lambda x, y: lax.rem(lax.rem(x, y), y), [(4,), (4,)], dtypes=I32)],
    needs={0: hlo.RemainderOp},
)
def remainder_remainder(op: hlo.RemainderOp, b: Builder):
    """remainder(remainder(x, y), y) -> remainder(x, y)   (|remainder(x, y)| < |y| already)"""
    inner = producer(op.lhs, hlo.RemainderOp)
    if inner is not None and inner.rhs is op.rhs:
        return op.lhs
    return None


@rule(example=Example(lambda x: lax.rem(x, jnp.ones_like(x)), [(4,)], dtypes=["int32"]), needs={1: CONSTANT})
def remainder_one_integer(op: hlo.RemainderOp, b: Builder):
    """remainder(x, 1) -> 0 ;  remainder(x, -1) -> 0   (integers)"""
    s = constant_splat(op.rhs)
    if s is None or s.dtype.kind not in "iu" or abs(int(s)) != 1 or any(n < 0 for n in shape(op.result)):
        return None
    return b.constant(0, op.result.type)


# ============================================================================ complex parts


@rule(example=[Example(lambda x, y: jnp.real(lax.complex(x, y)), [(4,), (4,)]), Example(lambda x, y: jnp.imag(lax.complex(x, y)), [(4,), (4,)])], roots=[hlo.RealOp, hlo.ImagOp], needs={0: hlo.ComplexOp})
def part_of_complex(op, b: Builder):
    """real(complex(a, b)) -> a ;  imag(complex(a, b)) -> b"""
    c = producer(op.operand, hlo.ComplexOp)
    if c is None:
        return None
    return c.lhs if isinstance(op, hlo.RealOp) else c.rhs


_COMPLEX_PARTS = """
func.func @main(%z: tensor<4xcomplex<f64>>) -> tensor<4xcomplex<f64>> {
  %0 = stablehlo.real %z : (tensor<4xcomplex<f64>>) -> tensor<4xf64>
  %1 = stablehlo.imag %z : (tensor<4xcomplex<f64>>) -> tensor<4xf64>
  %2 = stablehlo.complex %0, %1 : tensor<4xcomplex<f64>>
  func.return %2 : tensor<4xcomplex<f64>>
}"""


@rule(example=Example(mlir=_COMPLEX_PARTS), needs={0: hlo.RealOp, 1: hlo.ImagOp})
def complex_of_parts(op: hlo.ComplexOp, b: Builder):
    """complex(real(z), imag(z)) -> z"""
    r, i = producer(op.lhs, hlo.RealOp), producer(op.rhs, hlo.ImagOp)
    if r is None or i is None or r.operand is not i.operand or r.operand.type != op.result.type:
        return None
    return r.operand


# ============================================================================ sort


@rule(example=Example(lambda x: jnp.sort(x, axis=1), [(3, 1)]))
def sort_unit_dimension(op: hlo.SortOp, b: Builder):
    """sort(xs, d) -> xs   (dimension d has at most one element)"""
    xs = shape(op.inputs[0])
    dim = op.dimension.value.data if op.dimension is not None else -1
    if not xs:
        return list(op.inputs)
    if xs[dim] > 1 or xs[dim] < 0:
        return None
    return list(op.inputs)


# ============================================================================ cancellations in sums


def _cancel(op, b: Builder):
    """x - (x + y) -> -y ;  (x - y) - x -> -y ;  x - (x - y) -> y ;  (x + y) - (x + z) -> y - z"""
    lhs, rhs = op.lhs, op.rhs
    add_r = producer(rhs, hlo.AddOp)
    if add_r is not None:
        for p, q in orders(add_r):
            if p is lhs:
                return b.neg(q)
    sub_l = producer(lhs, hlo.SubtractOp)
    if sub_l is not None and sub_l.lhs is rhs:
        return b.neg(sub_l.rhs)
    sub_r = producer(rhs, hlo.SubtractOp)
    if sub_r is not None and sub_r.lhs is lhs:
        return sub_r.rhs
    add_l = producer(lhs, hlo.AddOp)
    if add_l is not None and add_r is not None:
        for p, q in orders(add_l):
            for p2, q2 in orders(add_r):
                if p is p2:
                    return b.sub(q, q2)
    return None


_CANCEL_EXAMPLES = [
    lambda x, y: x - (x + y),
    lambda x, y: y - (x + y),
    lambda x, y: (x - y) - x,
    lambda x, y: x - (x - y),
    lambda x, y: (x + y) - (x + 2 * y),
]


@rule(example=[Example(fn, [(4,), (4,)], dtypes=I32) for fn in _CANCEL_EXAMPLES], needs=(hlo.AddOp, hlo.SubtractOp))
def subtract_cancel_integer(op: hlo.SubtractOp, b: Builder):
    """x - (x + y) -> -y ;  (x - y) - x -> -y ;  x - (x - y) -> y ;  (x + y) - (x + z) -> y - z   (integers: wrapping arithmetic is a group)"""
    if not is_integer(op.result):
        return None
    return _cancel(op, b)


@rule(example=[Example(fn, [(4,), (4,)]) for fn in _CANCEL_EXAMPLES], unsafe=True, needs=(hlo.AddOp, hlo.SubtractOp))
def subtract_cancel(op: hlo.SubtractOp, b: Builder):
    """x - (x + y) -> -y ;  (x - y) - x -> -y ;  x - (x - y) -> y ;  (x + y) - (x + z) -> y - z   (floats: rounding, Inf - Inf; fast-math only)"""
    if not is_float_tensor(op.result):
        return None
    return _cancel(op, b)


# ============================================================================ clamps and maxima with known signs


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<4xf64>, %a: tensor<f64>, %c: tensor<f64>) -> tensor<4xf64> {
  %0 = stablehlo.clamp %a, %x, %c : (tensor<f64>, tensor<4xf64>, tensor<f64>) -> tensor<4xf64>
  %1 = stablehlo.clamp %a, %0, %c : (tensor<f64>, tensor<4xf64>, tensor<f64>) -> tensor<4xf64>
  func.return %1 : tensor<4xf64>
}"""
    ),
    needs={1: hlo.ClampOp},
)
def clamp_clamp(op: hlo.ClampOp, b: Builder):
    """clamp(a, clamp(a, x, c), c) -> clamp(a, x, c)   (same bounds)"""
    inner = producer(op.operand, hlo.ClampOp)
    if inner is not None and inner.min is op.min and inner.max is op.max:
        return op.operand
    return None


@rule(
    example=[Example(lambda x: jnp.maximum(x * x, 0.0), [(4,)]), Example(lambda x: jnp.maximum(0.0, jnp.exp(x)), [(4,)])],
    commutative=True,
    needs=CONSTANT,
)
def maximum_non_negative_zero(op: hlo.MaximumOp, b: Builder, x: SSAValue, y: SSAValue):
    """maximum(x, 0) -> x   (x >= 0 by construction, see abs_non_negative, and x a square or an exponential: where x = 0 its derivative is 0, which the maximum halves; up to the sign of zero)"""
    from .conversions_more import _non_negative_float

    s = constant_splat(y)
    if s is None or not is_float_tensor(x) or s != 0 or not _non_negative_float(x):
        return None
    m = producer(x, (hlo.MultiplyOp, hlo.ExponentialOp))
    if m is None or (isinstance(m, hlo.MultiplyOp) and m.lhs is not m.rhs):
        return None  # abs(u), sqrt(u), sums, ...: at 0 the derivative of x is not 0
    return x


# ============================================================================ unsafe identities of transcendental functions


@rule(example=Example(lambda x: jnp.exp(jnp.log(x)), [(4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.LogOp})
def exp_log(op: hlo.ExponentialOp, b: Builder):
    """exp(log(x)) -> x   (x > 0; rounding; fast-math only)"""
    inner = producer(op.operand, hlo.LogOp)
    if inner is None or not is_float_tensor(op.result):
        return None
    return inner.operand


@rule(example=Example(lambda x: x / x, [(4,)], domain=(0.5, 2.0)), unsafe=True)
def divide_self(op: hlo.DivideOp, b: Builder):
    """divide(x, x) -> 1   (floats; x nonzero and finite; fast-math only)"""
    if op.lhs is not op.rhs or not is_float_tensor(op.result) or any(n < 0 for n in shape(op.result)):
        return None
    return b.constant(1.0, op.result.type)


@rule(example=Example(lambda x: lax.pow(x, 0.5), [(4,)], domain=(0.5, 2.0)), unsafe=True, needs={1: CONSTANT})
def power_half(op: hlo.PowerOp, b: Builder):
    """power(x, 0.5) -> sqrt(x)   (differs at -0 and -inf; fast-math only)"""
    s = constant_splat(op.rhs)
    if s is None or s != 0.5 or not is_float_tensor(op.result):
        return None
    return b.sqrt(op.lhs)


# ============================================================================ complex parts of sums and constants


@rule(
    example=[
        Example(mlir="""
func.func @main(%a: tensor<4xcomplex<f64>>, %b: tensor<4xcomplex<f64>>) -> tensor<4xf64> {
  %0 = stablehlo.add %a, %b : tensor<4xcomplex<f64>>
  %1 = stablehlo.real %0 : (tensor<4xcomplex<f64>>) -> tensor<4xf64>
  func.return %1 : tensor<4xf64>
}"""),
        Example(mlir="""
func.func @main(%a: tensor<4xcomplex<f64>>, %b: tensor<4xcomplex<f64>>) -> tensor<4xf64> {
  %0 = stablehlo.subtract %a, %b : tensor<4xcomplex<f64>>
  %1 = stablehlo.imag %0 : (tensor<4xcomplex<f64>>) -> tensor<4xf64>
  func.return %1 : tensor<4xf64>
}"""),
    ],
    roots=[hlo.RealOp, hlo.ImagOp],
    needs={0: (hlo.AddOp, hlo.SubtractOp, hlo.NegateOp)},
)
def part_of_sum(op, b: Builder):
    """real(a ± b) -> real(a) ± real(b) ;  imag likewise ;  real(-a) -> -real(a)   (componentwise, exact)"""
    inner = op.operand.owner
    part = type(op)

    def take(v: SSAValue) -> SSAValue:
        return b.insert(part.create(operands=[v], result_types=[op.result.type])).results[0]

    if isinstance(inner, hlo.NegateOp):
        return b.neg(take(inner.operand))
    if isinstance(inner, hlo.AddOp):
        return b.add(take(inner.lhs), take(inner.rhs))
    if isinstance(inner, hlo.SubtractOp):
        return b.sub(take(inner.lhs), take(inner.rhs))
    return None


@rule(
    example=[
        Example(mlir="""
func.func @main(%x: tensor<2xf64>) -> tensor<2xf64> {
  %c = stablehlo.constant dense<[(1.5, 2.0), (-3.0, 4.0)]> : tensor<2xcomplex<f64>>
  %0 = stablehlo.real %c : (tensor<2xcomplex<f64>>) -> tensor<2xf64>
  %1 = stablehlo.imag %c : (tensor<2xcomplex<f64>>) -> tensor<2xf64>
  %2 = stablehlo.add %0, %1 : tensor<2xf64>
  %3 = stablehlo.add %2, %x : tensor<2xf64>
  func.return %3 : tensor<2xf64>
}"""),
    ],
    roots=[hlo.RealOp, hlo.ImagOp],
    needs={0: CONSTANT},
)
def part_constant_fold(op, b: Builder):
    """real(c) -> c' ;  imag(c) -> c''   (complex constants)"""
    import numpy as np

    from .common import MAX_FOLD_ELEMENTS, dense_constant, emit

    s = constant_splat(op.operand, complex_ok=True)
    if s is not None and s.dtype.kind == "c":
        value = np.asarray(s.real if isinstance(op, hlo.RealOp) else s.imag)
        return b.constant(value, op.result.type) if all(n >= 0 for n in shape(op.result)) else None
    arr = dense_constant(op.operand, complex_ok=True)
    if arr is None or arr.dtype.kind != "c" or arr.size > MAX_FOLD_ELEMENTS:
        return None
    return emit(b, arr.real if isinstance(op, hlo.RealOp) else arr.imag, op.result.type)


# ============================================================================ pads and duplicates


@rule(
    example=[
        Example(lambda x, y: jnp.concatenate([lax.pad(x, 0.5, [(0, 0, 0), (1, 0, 0)]), lax.pad(y, 0.5, [(0, 0, 0), (1, 0, 0)])]), [(2, 3), (1, 3)]),
    ],
    needs=hlo.PadOp,
)
def concatenate_pads(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(pad(x, v, P), pad(y, v, P), d) -> pad(concatenate(x, y, d), v, P)   (the same padding, none along d)"""
    from xdsl.ir import SSAValue as _V

    d = op.dimension.value.data
    pads = [producer(v, hlo.PadOp) for v in op.inputs]
    if len(pads) < 2 or any(p is None for p in pads):
        return None
    value = pads[0].padding_value
    first = [list(a.get_values()) for a in (pads[0].edge_padding_low, pads[0].edge_padding_high, pads[0].interior_padding)]
    if first[0][d] or first[1][d] or first[2][d]:
        return None
    for p in pads[1:]:
        same_value = p.padding_value is value
        if not same_value:
            s, t = constant_splat(p.padding_value, complex_ok=True), constant_splat(value, complex_ok=True)
            same_value = s is not None and t is not None and s.tobytes() == t.tobytes()
        if not same_value or [list(a.get_values()) for a in (p.edge_padding_low, p.edge_padding_high, p.interior_padding)] != first:
            return None
    cat = b.concatenate([p.operand for p in pads], d)
    return b.pad(cat, value, first[0], first[1], first[2])


@rule(
    example=[
        Example(lambda x, y: (x + y) * (y + x), [(4,), (4,)]),
        Example(lambda x, y: jnp.maximum(x, y) - jnp.maximum(y, x), [(4,), (4,)]),
    ],
    roots=[hlo.AddOp, hlo.MultiplyOp, hlo.MaximumOp, hlo.MinimumOp, hlo.AndOp, hlo.OrOp, hlo.XorOp],
)
def commuted_duplicate(op, b: Builder):
    """op(y, x) -> op(x, y)   (op commutative, op(x, y) computed before it in the same block: one of them goes)"""
    x, y = op.lhs, op.rhs
    if x is y:
        return None
    block = op.parent_block()
    for use in x.uses:
        other = use.operation
        if other is op or type(other) is not type(op) or use.index != 1 or other.parent_block() is not block:
            continue
        if other.lhs is y and other.rhs is x and other.result.type == op.result.type and dict(other.attributes) == dict(op.attributes) and other.is_before_in_block(op):
            return other.result
    return None


@rule(
    example=[Example(lambda x: x - x * 3.0, [(4,)]), Example(lambda x: x + 3.0 * x, [(4,)])],
    roots=[hlo.AddOp, hlo.SubtractOp],
    unsafe=True,
    needs=hlo.MultiplyOp,
)
def scaled_self(op, b: Builder):
    """x - x * c -> x * (1 - c) ;  x + x * c -> x * (1 + c)   (floats: rounding; fast-math only)"""
    import numpy as np

    if not is_float_tensor(op.result):
        return None
    for mine, other, first in ((op.lhs, op.rhs, True), (op.rhs, op.lhs, False)):
        m = producer(other, hlo.MultiplyOp)
        if m is None:
            continue
        for p, c in orders(m):
            s = constant_splat(c)
            if p is mine and s is not None:
                if isinstance(op, hlo.SubtractOp) and not first:
                    continue  # x * c - x: leave
                k = (1 - s) if isinstance(op, hlo.SubtractOp) else (1 + s)
                if not np.isfinite(k):
                    return None
                return b.mul(mine, b.full_like(c, np.asarray(k, s.dtype)))
    return None


# ============================================================================ infinite bounds


def _is_inf(v: SSAValue, sign: int) -> bool:
    import numpy as np

    s = constant_splat(v)
    return s is not None and s.dtype.kind == "f" and bool(np.isinf(s)) and (s > 0) == (sign > 0)


@rule(
    example=[Example(lambda x: jnp.maximum(x, -jnp.inf), [(4,)]), Example(lambda x: jnp.minimum(jnp.inf, x), [(4,)])],
    roots=[hlo.MaximumOp, hlo.MinimumOp],
    commutative=True,
    needs=CONSTANT,
)
def max_min_infinite_identity(op, b: Builder, x: SSAValue, y: SSAValue):
    """maximum(x, -inf) -> x ;  minimum(x, +inf) -> x   (NaN stays NaN)"""
    if _is_inf(y, -1 if isinstance(op, hlo.MaximumOp) else 1) and x.type == op.result.type:
        return x
    return None


@rule(
    example=Example(mlir="""
func.func @main(%x: tensor<4xf64>) -> tensor<4xf64> {
  %lo = stablehlo.constant dense<0xFFF0000000000000> : tensor<f64>
  %hi = stablehlo.constant dense<0x7FF0000000000000> : tensor<f64>
  %0 = stablehlo.clamp %lo, %x, %hi : (tensor<f64>, tensor<4xf64>, tensor<f64>) -> tensor<4xf64>
  func.return %0 : tensor<4xf64>
}"""),
    needs={0: CONSTANT, 2: CONSTANT},
)
def clamp_infinite_bounds(op: hlo.ClampOp, b: Builder):
    """clamp(-inf, x, +inf) -> x   (not clamp(-inf, x, hi) -> minimum(x, hi): at x = hi clamp passes none of x's derivative, minimum half)"""
    if _is_inf(op.min, -1) and _is_inf(op.max, 1):
        return op.operand
    return None


# ============================================================================ exact values of functions at special points


_SPECIAL = {
    hlo.ExponentialOp: {0.0: 1.0},
    hlo.ExponentialMinusOneOp: {0.0: 0.0},
    hlo.LogOp: {1.0: 0.0},
    hlo.LogPlusOneOp: {0.0: 0.0},
    hlo.SqrtOp: {0.0: 0.0, 1.0: 1.0},
    hlo.RsqrtOp: {1.0: 1.0},
    hlo.SineOp: {0.0: 0.0},
    hlo.CosineOp: {0.0: 1.0},
    hlo.TanhOp: {0.0: 0.0},
    hlo.TanOp: {0.0: 0.0},
    hlo.LogisticOp: {0.0: 0.5},
    hlo.CbrtOp: {0.0: 0.0, 1.0: 1.0},
}


@rule(
    example=[Example(lambda x: x + jnp.exp(jnp.zeros(4)), [(4,)]), Example(lambda x: x * jnp.cos(jnp.zeros(4)) + jnp.log(jnp.ones(4)), [(4,)])],
    roots=[hlo.ExponentialOp, hlo.ExponentialMinusOneOp, hlo.LogOp, hlo.LogPlusOneOp, hlo.SqrtOp, hlo.RsqrtOp, hlo.SineOp, hlo.CosineOp, hlo.TanhOp, hlo.TanOp, hlo.LogisticOp, hlo.CbrtOp],
    needs={0: CONSTANT},
)
def function_at_special_point(op, b: Builder):
    """exp(0) -> 1 ;  log(1) -> 0 ;  sqrt(0) -> 0 ;  cos(0) -> 1 ;  ...   (splat constants at points where the value is exact; +0 only)"""
    import numpy as np

    s = constant_splat(op.operand)
    table = _SPECIAL.get(type(op))
    if s is None or table is None or s.dtype.kind != "f" or bool(np.signbit(s)) or any(n < 0 for n in shape(op.result)):
        return None
    value = table.get(float(s))
    if value is None:
        return None
    return b.constant(value, op.result.type)


# ============================================================================ unsafe: products and quotients of functions


@rule(example=Example(lambda x, y: jnp.sqrt(x) * jnp.sqrt(y), [(4,), (4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.SqrtOp, 1: hlo.SqrtOp})
def multiply_sqrts(op: hlo.MultiplyOp, b: Builder):
    """multiply(sqrt(x), sqrt(y)) -> sqrt(multiply(x, y))   (x, y >= 0; rounding, overflow; fast-math only)"""
    p, q = producer(op.lhs, hlo.SqrtOp), producer(op.rhs, hlo.SqrtOp)
    if p is None or q is None or not is_float_tensor(op.result):
        return None
    return b.sqrt(b.mul(p.operand, q.operand))


@rule(example=Example(lambda x, y: jnp.log(x) + jnp.log(y), [(4,), (4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.LogOp, 1: hlo.LogOp})
def add_logs(op: hlo.AddOp, b: Builder):
    """add(log(x), log(y)) -> log(multiply(x, y))   (x, y > 0; rounding, overflow; fast-math only)"""
    p, q = producer(op.lhs, hlo.LogOp), producer(op.rhs, hlo.LogOp)
    if p is None or q is None or not is_float_tensor(op.result):
        return None
    return b.log(b.mul(p.operand, q.operand))


@rule(example=Example(lambda x, y: jnp.log(x) - jnp.log(y), [(4,), (4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.LogOp, 1: hlo.LogOp})
def subtract_logs(op: hlo.SubtractOp, b: Builder):
    """subtract(log(x), log(y)) -> log(divide(x, y))   (x, y > 0; rounding; fast-math only)"""
    p, q = producer(op.lhs, hlo.LogOp), producer(op.rhs, hlo.LogOp)
    if p is None or q is None or not is_float_tensor(op.result):
        return None
    return b.log(b.div(p.operand, q.operand))


@rule(example=Example(lambda x, y: x / jnp.sqrt(y), [(4,), (4,)], domain=(0.5, 2.0)), unsafe=True, needs={1: hlo.SqrtOp})
def divide_sqrt(op: hlo.DivideOp, b: Builder):
    """divide(x, sqrt(y)) -> multiply(x, rsqrt(y))   (rounding; fast-math only)"""
    s = producer(op.rhs, hlo.SqrtOp)
    if s is None or not is_float_tensor(op.result):
        return None
    return b.mul(op.lhs, b.rsqrt(s.operand))


@rule(example=Example(lambda x, y, z: x / (y / z), [(4,), (4,), (4,)], domain=(0.5, 2.0)), unsafe=True, needs={1: hlo.DivideOp})
def divide_divide_rhs(op: hlo.DivideOp, b: Builder):
    """divide(x, divide(y, z)) -> divide(multiply(x, z), y)   (rounding, overflow; fast-math only)"""
    d = producer(op.rhs, hlo.DivideOp)
    if d is None or not is_float_tensor(op.result):
        return None
    return b.div(b.mul(op.lhs, d.rhs), d.lhs)


@rule(example=Example(lambda x, y, z: (x / y) / z, [(4,), (4,), (4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.DivideOp})
def divide_divide_lhs(op: hlo.DivideOp, b: Builder):
    """divide(divide(x, y), z) -> divide(x, multiply(y, z))   (rounding, overflow; fast-math only)"""
    d = producer(op.lhs, hlo.DivideOp)
    if d is None or not is_float_tensor(op.result) or splat_like(op.rhs):
        return None
    return b.div(d.lhs, b.mul(d.rhs, op.rhs))


def splat_like(v: SSAValue) -> bool:
    return constant_splat(v) is not None


@rule(example=Example(lambda x, a, c: lax.pow(x, a) * lax.pow(x, c), [(4,), (4,), (4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.PowerOp, 1: hlo.PowerOp})
def multiply_powers(op: hlo.MultiplyOp, b: Builder):
    """multiply(power(x, a), power(x, c)) -> power(x, add(a, c))   (x > 0; rounding, overflow; fast-math only)"""
    p, q = producer(op.lhs, hlo.PowerOp), producer(op.rhs, hlo.PowerOp)
    if p is None or q is None or p.lhs is not q.lhs or not is_float_tensor(op.result):
        return None
    return b.pow(p.lhs, b.add(p.rhs, q.rhs))


@rule(example=Example(lambda x: jnp.sqrt(x) / x, [(4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.SqrtOp})
def sqrt_over_self(op: hlo.DivideOp, b: Builder):
    """divide(sqrt(x), x) -> rsqrt(x)   (x > 0; rounding; fast-math only)"""
    s = producer(op.lhs, hlo.SqrtOp)
    if s is None or s.operand is not op.rhs or not is_float_tensor(op.result):
        return None
    return b.rsqrt(op.rhs)


# ============================================================================ bitwise with a complement


@rule(
    example=[
        _i32_pair('  %n = "stablehlo.not"(%x) : (tensor<4xi32>) -> tensor<4xi32>\n  %0 = "stablehlo.xor"(%x, %n) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>'),
        _i32_pair('  %n = "stablehlo.not"(%x) : (tensor<4xi32>) -> tensor<4xi32>\n  %0 = "stablehlo.or"(%n, %x) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>'),
    ],
    roots=[hlo.XorOp, hlo.OrOp],
    commutative=True,
    needs=hlo.NotOp,
)
def complement_all_ones(op, b: Builder, x: SSAValue, y: SSAValue):
    """xor(x, not(x)) -> all ones ;  or(x, not(x)) -> all ones   (integers, booleans)"""
    n = producer(y, hlo.NotOp)
    if n is None or n.operand is not x or not is_integer(op.result) or any(k < 0 for k in shape(op.result)):
        return None
    from ...ir.dense import element_dtype

    dt = element_dtype(op.result.type.get_element_type())
    value = True if dt == np.bool_ else np.invert(np.zeros((), dt))
    return b.constant(value, op.result.type)


@rule(
    example=Example(lambda p, q: (p > 0).astype(np.float64) * (q > 0).astype(np.float64), [(4,), (4,)]),
    needs={0: hlo.ConvertOp, 1: hlo.ConvertOp},
)
def multiply_converted_booleans(op: hlo.MultiplyOp, b: Builder):
    """multiply(convert(p), convert(q)) -> convert(and(p, q))   (p, q booleans: products of 0 and 1)"""
    cp, cq = producer(op.lhs, hlo.ConvertOp), producer(op.rhs, hlo.ConvertOp)
    if cp is None or cq is None or cp.operand.type != cq.operand.type:
        return None
    t = cp.operand.type.get_element_type()
    if getattr(t, "width", None) is None or t.width.data != 1:
        return None
    both = b.insert(hlo.AndOp(cp.operand, cq.operand)).results[0]
    return b.convert(both, op.result.type.get_element_type())


# ============================================================================ unsafe: zero numerators, logs of roots


@rule(example=Example(lambda x: 0.0 / x, [(4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: CONSTANT})
def zero_divide(op: hlo.DivideOp, b: Builder):
    """divide(0, x) -> 0   (floats; x nonzero and not NaN; the sign of zero follows x's; fast-math only)"""
    s = constant_splat(op.lhs)
    if s is None or s != 0 or not is_float_tensor(op.result) or op.lhs.type != op.result.type:
        return None
    return op.lhs


@rule(example=Example(lambda x: lax.rem(jnp.zeros_like(x), x), [(4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: CONSTANT})
def zero_remainder(op: hlo.RemainderOp, b: Builder):
    """remainder(0, x) -> 0   (floats; x nonzero and not NaN; fast-math only)"""
    s = constant_splat(op.lhs)
    if s is None or s != 0 or not is_float_tensor(op.result) or op.lhs.type != op.result.type:
        return None
    return op.lhs


@rule(example=Example(lambda x: jnp.log(jnp.sqrt(x)), [(4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.SqrtOp})
def log_sqrt(op: hlo.LogOp, b: Builder):
    """log(sqrt(x)) -> multiply(log(x), 0.5)   (x > 0; rounding; fast-math only)"""
    s = producer(op.operand, hlo.SqrtOp)
    if s is None or not is_float_tensor(op.result) or any(n < 0 for n in shape(op.result)):
        return None
    return b.mul(b.log(s.operand), b.constant(0.5, op.result.type))


# ============================================================================ splats through dynamic slices and updates


def _same_splat(u: SSAValue, v: SSAValue) -> bool:
    s, t = constant_splat(u, complex_ok=True), constant_splat(v, complex_ok=True)
    return s is not None and t is not None and s.dtype == t.dtype and s.tobytes() == t.tobytes()


@rule(
    example=Example(mlir="""
func.func @main(%i: tensor<i32>, %x: tensor<6xf64>) -> tensor<6xf64> {
  %c = stablehlo.constant dense<1.5> : tensor<6xf64>
  %u = stablehlo.constant dense<1.5> : tensor<2xf64>
  %0 = stablehlo.dynamic_update_slice %c, %u, %i : (tensor<6xf64>, tensor<2xf64>, tensor<i32>) -> tensor<6xf64>
  %1 = stablehlo.add %0, %x : tensor<6xf64>
  func.return %1 : tensor<6xf64>
}"""),
    needs={0: CONSTANT, 1: CONSTANT},
)
def dynamic_update_slice_same_splat(op: hlo.DynamicUpdateSliceOp, b: Builder):
    """dynamic_update_slice(splat c, splat c, i) -> splat c"""
    if _same_splat(op.operand, op.update):
        return op.operand
    return None


# ============================================================================ complex numbers with a zero imaginary part


def _from_real(v: SSAValue):
    """x when ``v`` is convert(x) of a real x to a complex type."""
    from xdsl.dialects.builtin import ComplexType

    c = producer(v, hlo.ConvertOp)
    if c is None or not isinstance(v.type.get_element_type(), ComplexType) or isinstance(c.operand.type.get_element_type(), ComplexType):
        return None
    if not is_float_tensor(c.operand):
        return None
    return c.operand


_CONVERTED = """
func.func @main(%x: tensor<4xf64>) -> tensor<4xf64> {
  %0 = stablehlo.convert %x : (tensor<4xf64>) -> tensor<4xcomplex<f64>>
  %1 = stablehlo.OP %0 : (tensor<4xcomplex<f64>>) -> tensor<4xf64>
  func.return %1 : tensor<4xf64>
}"""


@rule(example=[Example(mlir=_CONVERTED.replace("OP", "real")), Example(mlir=_CONVERTED.replace("OP", "imag")), Example(mlir=_CONVERTED.replace("OP", "abs"))], roots=[hlo.RealOp, hlo.ImagOp, hlo.AbsOp], needs={0: hlo.ConvertOp})
def part_of_converted_real(op, b: Builder):
    """real(convert(x)) -> x ;  imag(convert(x)) -> 0 ;  abs(convert(x)) -> abs(x)   (x real, converted to complex)"""
    x = _from_real(op.operand)
    if x is None or x.type != op.result.type:
        return None
    if isinstance(op, hlo.RealOp):
        return x
    if isinstance(op, hlo.ImagOp):
        return b.constant(0.0, op.result.type) if all(n >= 0 for n in shape(op.result)) else None
    return b.abs(x)


_CONVERTED_SUM = """
func.func @main(%x: tensor<4xf64>, %y: tensor<4xf64>) -> tensor<4xcomplex<f64>> {
  %0 = stablehlo.convert %x : (tensor<4xf64>) -> tensor<4xcomplex<f64>>
  %1 = stablehlo.convert %y : (tensor<4xf64>) -> tensor<4xcomplex<f64>>
  %2 = stablehlo.OP %0, %1 : tensor<4xcomplex<f64>>
  func.return %2 : tensor<4xcomplex<f64>>
}"""


@rule(example=[Example(mlir=_CONVERTED_SUM.replace("OP", "add")), Example(mlir=_CONVERTED_SUM.replace("OP", "subtract"))], roots=[hlo.AddOp, hlo.SubtractOp], needs={0: hlo.ConvertOp, 1: hlo.ConvertOp})
def sum_of_converted_reals(op, b: Builder):
    """add(convert(x), convert(y)) -> convert(add(x, y)) ;  subtract likewise   (x, y real, converted to complex: the imaginary parts are zeros; up to their sign)"""
    x, y = _from_real(op.lhs), _from_real(op.rhs)
    if x is None or y is None or x.type != y.type:
        return None
    inner = b.add(x, y) if isinstance(op, hlo.AddOp) else b.sub(x, y)
    return b.convert(inner, op.result.type.get_element_type())


# ============================================================================ shifts past the width, products with signs


@rule(
    example=[
        _i32_pair('  %c = "stablehlo.constant"() <{value = dense<40> : tensor<4xi32>}> : () -> tensor<4xi32>\n  %0 = "stablehlo.shift_left"(%x, %c) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>'),
        _i32_pair('  %c = "stablehlo.constant"() <{value = dense<32> : tensor<4xi32>}> : () -> tensor<4xi32>\n  %0 = "stablehlo.shift_right_logical"(%x, %c) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>'),
    ],
    roots=[hlo.ShiftLeftOp, hlo.ShiftRightLogicalOp],
    needs={1: CONSTANT},
)
def shift_past_width(op, b: Builder):
    """shift_left(x, c) -> 0 ;  shift_right_logical(x, c) -> 0   (c >= the bit width, as an unsigned amount)"""
    from ...ir.dense import element_dtype

    s = constant_splat(op.rhs)
    if s is None or s.dtype.kind not in "iu" or any(n < 0 for n in shape(op.result)):
        return None
    dt = element_dtype(op.result.type.get_element_type())
    bits = dt.itemsize * 8
    amount = int(s) if int(s) >= 0 else int(s) + (1 << bits)  # negative amounts are huge unsigned ones
    if amount < bits:
        return None
    return b.constant(0, op.result.type)


@rule(example=[Example(lambda x: x * jnp.sign(x), [(4,)]), Example(lambda x: jnp.sign(x) * x, [(4,)])], commutative=True, needs=hlo.SignOp)
def multiply_self_sign(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(x, sign(x)) -> abs(x)   (real floats: -0 * -0 = +0, NaN stays NaN)"""
    s = producer(y, hlo.SignOp)
    if s is None or s.operand is not x or not is_float_tensor(op.result):
        return None
    return b.abs(x)


@rule(
    example=Example(mlir="""
func.func @main(%x: tensor<6x2xf64>) -> tensor<6x2xf64> {
  %c = stablehlo.constant dense<1.5> : tensor<6x2xf64>
  %u = stablehlo.constant dense<1.5> : tensor<3x2xf64>
  %k = stablehlo.constant dense<[[4], [0], [4]]> : tensor<3x1xi32>
  %0 = "stablehlo.scatter"(%c, %k, %u) <{scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    stablehlo.return %b : tensor<f64>
  }) : (tensor<6x2xf64>, tensor<3x1xi32>, tensor<3x2xf64>) -> tensor<6x2xf64>
  %1 = stablehlo.add %0, %x : tensor<6x2xf64>
  func.return %1 : tensor<6x2xf64>
}"""),
    needs={0: CONSTANT},
)
def scatter_same_splat(op: hlo.ScatterOp, b: Builder):
    """scatter(splat c, i, splat c, replace) -> splat c   (writes c over c)"""
    if len(op.inputs) != 1 or op.combiner() != "replace" or not _same_splat(op.inputs[0], op.updates[0]):
        return None
    return op.inputs[0]


@rule(example=Example(lambda x, y: jnp.sqrt(x) / jnp.sqrt(y), [(4,), (4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.SqrtOp, 1: hlo.SqrtOp})
def divide_sqrts(op: hlo.DivideOp, b: Builder):
    """divide(sqrt(x), sqrt(y)) -> sqrt(divide(x, y))   (x >= 0, y > 0; rounding; fast-math only)"""
    p, q = producer(op.lhs, hlo.SqrtOp), producer(op.rhs, hlo.SqrtOp)
    if p is None or q is None or not is_float_tensor(op.result):
        return None
    return b.sqrt(b.div(p.operand, q.operand))


@rule(example=Example(lambda x: lax.div(x, jnp.full_like(x, -1)), [(4,)], dtypes=["int32"]), needs={1: CONSTANT})
def divide_minus_one_integer(op: hlo.DivideOp, b: Builder):
    """divide(x, -1) -> negate(x)   (signed integers; the minimum value stays itself either way)"""
    s = constant_splat(op.rhs)
    if s is None or s.dtype.kind != "i" or int(s) != -1:
        return None
    return b.neg(op.lhs)


@rule(
    example=[
        _i32_pair('  %a = "stablehlo.constant"() <{value = dense<12> : tensor<4xi32>}> : () -> tensor<4xi32>\n  %c = "stablehlo.constant"() <{value = dense<10> : tensor<4xi32>}> : () -> tensor<4xi32>\n  %0 = "stablehlo.and"(%x, %a) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  %1 = "stablehlo.and"(%0, %c) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %1 : tensor<4xi32>'),
        _i32_pair('  %a = "stablehlo.constant"() <{value = dense<12> : tensor<4xi32>}> : () -> tensor<4xi32>\n  %c = "stablehlo.constant"() <{value = dense<10> : tensor<4xi32>}> : () -> tensor<4xi32>\n  %0 = "stablehlo.xor"(%x, %a) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  %1 = "stablehlo.xor"(%0, %c) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %1 : tensor<4xi32>'),
    ],
    roots=[hlo.AndOp, hlo.OrOp, hlo.XorOp],
    needs={1: CONSTANT},
)
def bitwise_constant_chain(op, b: Builder):
    """and(and(x, c1), c2) -> and(x, c1 & c2) ;  or, xor likewise   (integers, booleans)"""
    import numpy as np

    inner = op.lhs.owner
    if type(inner) is not type(op) or len(list(op.lhs.uses)) != 1:
        return None
    c1, c2 = constant_splat(inner.rhs), constant_splat(op.rhs)
    if c1 is None or c2 is None or c1.dtype.kind not in "biu" or constant_splat(inner.lhs) is not None:
        return None
    fn = {hlo.AndOp: np.bitwise_and, hlo.OrOp: np.bitwise_or, hlo.XorOp: np.bitwise_xor}[type(op)]
    folded = np.asarray(fn(c1, c2), c1.dtype)
    return b.insert(type(op)(inner.lhs, b.full_like(op.rhs, folded))).results[0]


# ============================================================================ maximum and minimum of one pair


def _pair_of(v: SSAValue, cls: type):
    o = producer(v, cls)
    return (o.lhs, o.rhs) if o is not None else None


@rule(
    example=[
        Example(lambda x, y: jnp.maximum(x, y) + jnp.minimum(y, x), [(4,), (4,)]),
        Example(lambda x, y: jnp.minimum(x, y) * jnp.maximum(x, y), [(4,), (4,)]),
    ],
    roots=[hlo.AddOp, hlo.MultiplyOp],
    needs={0: (hlo.MaximumOp, hlo.MinimumOp), 1: (hlo.MaximumOp, hlo.MinimumOp)},
)
def max_min_pair(op, b: Builder):
    """add(maximum(x, y), minimum(x, y)) -> add(x, y) ;  multiply likewise   ({max, min} is {x, y}: the same sum; NaN stays NaN)"""
    for big, small in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
        p, q = _pair_of(big, hlo.MaximumOp), _pair_of(small, hlo.MinimumOp)
        if p is not None and q is not None and set(map(id, p)) == set(map(id, q)) and p[0] is not p[1]:
            return b.insert(type(op)(p[0], p[1])).results[0]
    return None


@rule(
    example=[Example(lambda x, y: jnp.maximum(x, y) - jnp.minimum(y, x), [(4,), (4,)])],
    needs={0: hlo.MaximumOp, 1: hlo.MinimumOp},
)
def max_minus_min(op: hlo.SubtractOp, b: Builder):
    """subtract(maximum(x, y), minimum(x, y)) -> abs(subtract(x, y))   (real floats: rounding is symmetric; NaN stays NaN)"""
    p, q = _pair_of(op.lhs, hlo.MaximumOp), _pair_of(op.rhs, hlo.MinimumOp)
    if p is None or q is None or set(map(id, p)) != set(map(id, q)) or p[0] is p[1] or not is_float_tensor(op.result):
        return None
    return b.abs(b.sub(p[0], p[1]))


# ============================================================================ unsafe: symmetric functions


@rule(example=[Example(lambda x: jnp.sin(-x), [(4,)]), Example(lambda x: jnp.tanh(-x), [(4,)])], roots=[hlo.SineOp, hlo.TanOp, hlo.TanhOp], unsafe=True, needs={0: hlo.NegateOp})
def odd_function_negate(op, b: Builder):
    """f(negate(x)) -> negate(f(x))   (f sine, tan, tanh: odd; exact only if the implementation is symmetric; fast-math only)"""
    n = producer(op.operand, hlo.NegateOp)
    if n is None or not is_float_tensor(op.result):
        return None
    inner = b.insert(type(op).create(operands=[n.operand], result_types=[op.result.type])).results[0]
    return b.neg(inner)


@rule(example=Example(lambda x: jnp.cos(-x), [(4,)]), unsafe=True, needs={0: hlo.NegateOp})
def even_function_negate(op: hlo.CosineOp, b: Builder):
    """cos(negate(x)) -> cos(x)   (even; exact only if the implementation is symmetric; fast-math only)"""
    n = producer(op.operand, hlo.NegateOp)
    if n is None or not is_float_tensor(op.result):
        return None
    return b.insert(hlo.CosineOp.create(operands=[n.operand], result_types=[op.result.type])).results[0]
