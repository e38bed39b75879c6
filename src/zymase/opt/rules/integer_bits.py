"""Integer and bitwise algebra, clamps from maximum/minimum pairs, and a few exact
folds and compares.

Exactness. Bitwise identities hold bit by bit, so they are exact on every integer type
and on booleans. Shift chains are folded only for constant amounts inside the bit width
(StableHLO's shifts by the width or more give 0, or the sign fill), where the composed
shift is the same function. Maximum and minimum form a lattice on a total order with NaN
absorbing (XLA: -0.0 < +0.0), so max(min(x, hi), lo) is clamp(lo, x, hi) whenever
lo <= hi in that order, NaN and signed zeros included. A product by a constant c with
|c| >= 1 keeps the sign, zeroness and NaN-ness of every x, so comparing it with zero is
comparing x. Square roots are correctly rounded in IEEE arithmetic (the fold computes the
same value XLA does).
"""

from __future__ import annotations

from ..lazy_jax import jnp
from ..lazy_jax import lax
from ..lazy_jax import np
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ..pattern import CONSTANT, SPLAT, Example, orders, producer, rule, shape, single_use, sole_producer
from .common import any_dtype, constant_splat, emit_splat, foldable_dtype, is_integer, mlir_main

I32 = ["int32"]
I32_2 = ["int32", "int32"]
I32_3 = ["int32", "int32", "int32"]
B_3 = ["bool", "bool", "bool"]


def _int_kind(v: SSAValue) -> str | None:
    """'i' or 'u' for integer elements (not i1), 'b' for i1, else None."""
    if not is_integer(v):
        return None
    dt = any_dtype(v)
    if dt is None:
        return None
    return "b" if dt == np.bool_ else dt.kind if dt.kind in "iu" else None


def _bits(v: SSAValue) -> int:
    return any_dtype(v).itemsize * 8


def _amount(v: SSAValue, width: int) -> int | None:
    """The constant splat shift amount of ``v`` when it lies in [0, width), else None."""
    s = constant_splat(v)
    if s is None:
        return None
    k = int(s)
    return k if 0 <= k < width else None


# ============================================================================ shift chains


def _shift_chain(op, b: Builder, cls):
    if _int_kind(op.result) not in ("i", "u"):
        return None
    inner = producer(op.lhs, cls)
    if inner is None or not single_use(op.lhs):
        return None
    w = _bits(op.result)
    k1, k2 = _amount(inner.rhs, w), _amount(op.rhs, w)
    if k1 is None or k2 is None:
        return None
    total = k1 + k2
    if cls is hlo.ShiftRightArithmeticOp:
        total = min(total, w - 1)  # shifting by w - 1 or more leaves the sign fill
    elif total >= w:
        return b.zeros(op.result.type) if all(n >= 0 for n in shape(op.result)) else None
    amount = emit_splat(b, np.asarray(total, any_dtype(op.rhs)), op.rhs.type)
    return b.insert(cls(inner.lhs, amount)).results[0]


@rule(
    example=[
        Example(lambda x: (x << 3) << 2, [(4,)], dtypes=I32),
        Example(lambda x: (x << 20) << 15, [(4,)], dtypes=I32),
    ],
    needs={0: hlo.ShiftLeftOp, 1: SPLAT},
)
def shift_left_shift_left(op: hlo.ShiftLeftOp, b: Builder):
    """shift_left(shift_left(x, a), c) -> shift_left(x, a + c)   (a, c constant in [0, bits); 0 when a + c >= bits)"""
    return _shift_chain(op, b, hlo.ShiftLeftOp)


@rule(
    example=[
        Example(lambda x: lax.shift_right_logical(lax.shift_right_logical(x, jnp.int32(3)), jnp.int32(2)), [(4,)], dtypes=I32),
        Example(lambda x: lax.shift_right_logical(lax.shift_right_logical(x, jnp.int32(30)), jnp.int32(5)), [(4,)], dtypes=I32),
    ],
    needs={0: hlo.ShiftRightLogicalOp, 1: SPLAT},
)
def shift_right_logical_chain(op: hlo.ShiftRightLogicalOp, b: Builder):
    """shift_right_logical(shift_right_logical(x, a), c) -> shift_right_logical(x, a + c)   (a, c constant in [0, bits); 0 when a + c >= bits)"""
    return _shift_chain(op, b, hlo.ShiftRightLogicalOp)


@rule(
    example=[
        Example(lambda x: (x >> 3) >> 2, [(4,)], dtypes=I32),
        Example(lambda x: (x >> 30) >> 5, [(4,)], dtypes=I32),
    ],
    needs={0: hlo.ShiftRightArithmeticOp, 1: SPLAT},
)
def shift_right_arithmetic_chain(op: hlo.ShiftRightArithmeticOp, b: Builder):
    """shift_right_arithmetic(shift_right_arithmetic(x, a), c) -> shift_right_arithmetic(x, min(a + c, bits - 1))   (a, c constant in [0, bits))"""
    return _shift_chain(op, b, hlo.ShiftRightArithmeticOp)


# ============================================================================ bitwise factoring and absorption


def _factor(op, b: Builder, inner_cls, outer_build):
    """op(inner(x, y), inner(x, z)) -> inner(x, op(y, z)) for a shared operand x."""
    if _int_kind(op.result) is None:
        return None
    left, right = sole_producer(op.lhs, inner_cls, op), sole_producer(op.rhs, inner_cls, op)
    if left is None or right is None:
        return None
    for x, y in orders(left):
        for x2, z in orders(right):
            if x is x2:
                return b.insert(inner_cls(x, outer_build(y, z))).results[0]
    return None


@rule(
    example=[Example(lambda x, y, z: (x & y) | (x & z), [(4,)] * 3, dtypes=I32_3), Example(lambda x, y, z: (y & x) | (z & x), [(4,)] * 3, dtypes=B_3)],
    needs={0: hlo.AndOp, 1: hlo.AndOp},
)
def or_of_ands_shared(op: hlo.OrOp, b: Builder):
    """or(and(x, y), and(x, z)) -> and(x, or(y, z))   (integers, booleans: bit by bit)"""
    return _factor(op, b, hlo.AndOp, lambda y, z: b.insert(hlo.OrOp(y, z)).results[0])


@rule(
    example=[Example(lambda x, y, z: (x | y) & (x | z), [(4,)] * 3, dtypes=I32_3), Example(lambda x, y, z: (y | x) & (x | z), [(4,)] * 3, dtypes=B_3)],
    needs={0: hlo.OrOp, 1: hlo.OrOp},
)
def and_of_ors_shared(op: hlo.AndOp, b: Builder):
    """and(or(x, y), or(x, z)) -> or(x, and(y, z))   (integers, booleans: bit by bit)"""
    return _factor(op, b, hlo.OrOp, lambda y, z: b.insert(hlo.AndOp(y, z)).results[0])


@rule(
    example=[Example(lambda x, y, z: (x & y) ^ (x & z), [(4,)] * 3, dtypes=I32_3), Example(lambda x, y, z: (y & x) ^ (z & x), [(4,)] * 3, dtypes=B_3)],
    needs={0: hlo.AndOp, 1: hlo.AndOp},
)
def xor_of_ands_shared(op: hlo.XorOp, b: Builder):
    """xor(and(x, y), and(x, z)) -> and(x, xor(y, z))   (integers, booleans: and distributes over xor bit by bit)"""
    return _factor(op, b, hlo.AndOp, lambda y, z: b.insert(hlo.XorOp(y, z)).results[0])


def _with_shared(op, x: SSAValue, y: SSAValue, inner_cls):
    """(other) when ``y`` is inner_cls(x, other) in either order, else None."""
    inner = producer(y, inner_cls)
    if inner is None:
        return None
    for a, other in orders(inner):
        if a is x:
            return other
    return None


def _not(b: Builder, v: SSAValue) -> SSAValue:
    return b.insert(hlo.NotOp(v)).results[0]


@rule(
    example=[Example(lambda x, y: x ^ (x & y), [(4,)] * 2, dtypes=I32_2), Example(lambda x, y: (y & x) ^ x, [(4,)] * 2, dtypes=["bool", "bool"])],
    commutative=True,
    needs=hlo.AndOp,
)
def xor_and_shared(op: hlo.XorOp, b: Builder, x: SSAValue, y: SSAValue):
    """xor(x, and(x, y)) -> and(x, not(y))   (integers, booleans: bit by bit)"""
    if _int_kind(op.result) is None:
        return None
    other = _with_shared(op, x, y, hlo.AndOp)
    return None if other is None else b.insert(hlo.AndOp(x, _not(b, other))).results[0]


@rule(
    example=[Example(lambda x, y: x & (x ^ y), [(4,)] * 2, dtypes=I32_2), Example(lambda x, y: (y ^ x) & x, [(4,)] * 2, dtypes=I32_2)],
    commutative=True,
    needs=hlo.XorOp,
)
def and_xor_shared(op: hlo.AndOp, b: Builder, x: SSAValue, y: SSAValue):
    """and(x, xor(x, y)) -> and(x, not(y))   (integers, booleans: bit by bit)"""
    if _int_kind(op.result) is None:
        return None
    other = _with_shared(op, x, y, hlo.XorOp)
    return None if other is None else b.insert(hlo.AndOp(x, _not(b, other))).results[0]


@rule(
    example=[Example(lambda x, y: x | (x ^ y), [(4,)] * 2, dtypes=I32_2), Example(lambda x, y: (y ^ x) | x, [(4,)] * 2, dtypes=I32_2)],
    commutative=True,
    needs=hlo.XorOp,
)
def or_xor_shared(op: hlo.OrOp, b: Builder, x: SSAValue, y: SSAValue):
    """or(x, xor(x, y)) -> or(x, y)   (integers, booleans: bit by bit)"""
    if _int_kind(op.result) is None:
        return None
    other = _with_shared(op, x, y, hlo.XorOp)
    return None if other is None else b.insert(hlo.OrOp(x, other)).results[0]


@rule(
    example=[Example(lambda x, y: x ^ (x | y), [(4,)] * 2, dtypes=I32_2), Example(lambda x, y: (y | x) ^ x, [(4,)] * 2, dtypes=I32_2)],
    commutative=True,
    needs=hlo.OrOp,
)
def xor_or_shared(op: hlo.XorOp, b: Builder, x: SSAValue, y: SSAValue):
    """xor(x, or(x, y)) -> and(not(x), y)   (integers, booleans: bit by bit)"""
    if _int_kind(op.result) is None:
        return None
    other = _with_shared(op, x, y, hlo.OrOp)
    return None if other is None else b.insert(hlo.AndOp(_not(b, x), other)).results[0]


@rule(example=[Example(lambda x, y: x - (x & y), [(4,)] * 2, dtypes=I32_2), Example(lambda x, y: x - (y & x), [(4,)] * 2, dtypes=I32_2)], needs={1: hlo.AndOp})
def subtract_and_shared(op: hlo.SubtractOp, b: Builder):
    """subtract(x, and(x, y)) -> and(x, not(y))   (integers: the bits of x & y are a subset of x's, no borrow)"""
    if _int_kind(op.result) not in ("i", "u"):
        return None
    other = _with_shared(op, op.lhs, op.rhs, hlo.AndOp)
    return None if other is None else b.insert(hlo.AndOp(op.lhs, _not(b, other))).results[0]


@rule(
    example=[Example(lambda x, y: (x & y) + (x | y), [(4,)] * 2, dtypes=I32_2), Example(lambda x, y: (x | y) + (y & x), [(4,)] * 2, dtypes=I32_2)],
    commutative=True,
    needs=hlo.AndOp,
)
def add_and_or(op: hlo.AddOp, b: Builder, x: SSAValue, y: SSAValue):
    """add(and(a, c), or(a, c)) -> add(a, c)   (integers: (a & c) + (a | c) = a + c, wrapping alike)"""
    if _int_kind(op.result) not in ("i", "u"):
        return None
    p, q = producer(x, hlo.AndOp), producer(y, hlo.OrOp)
    if p is None or q is None:
        return None
    if {id(p.lhs), id(p.rhs)} != {id(q.lhs), id(q.rhs)}:
        return None
    return b.add(q.lhs, q.rhs)


@rule(
    example=[Example(lambda x, y: (x & y) + (x ^ y), [(4,)] * 2, dtypes=I32_2), Example(lambda x, y: (x ^ y) + (y & x), [(4,)] * 2, dtypes=I32_2)],
    commutative=True,
    needs=hlo.AndOp,
)
def add_and_xor(op: hlo.AddOp, b: Builder, x: SSAValue, y: SSAValue):
    """add(and(a, c), xor(a, c)) -> or(a, c)   (integers: the two have no common bit, so the sum carries nothing)"""
    if _int_kind(op.result) not in ("i", "u"):
        return None
    p, q = producer(x, hlo.AndOp), producer(y, hlo.XorOp)
    if p is None or q is None:
        return None
    if {id(p.lhs), id(p.rhs)} != {id(q.lhs), id(q.rhs)}:
        return None
    return b.insert(hlo.OrOp(q.lhs, q.rhs)).results[0]


@rule(example=Example(lambda x: lax.rem(x, x), [(4,)], dtypes=I32))
def remainder_self_integer(op: hlo.RemainderOp, b: Builder):
    """remainder(x, x) -> 0   (integers: also for x = 0, where XLA's remainder gives the dividend, and INT_MIN)"""
    if op.lhs is not op.rhs or _int_kind(op.result) not in ("i", "u") or any(n < 0 for n in shape(op.result)):
        return None
    return b.zeros(op.result.type)


# ============================================================================ clamps from maximum and minimum


def _ordered(lo, hi) -> bool:
    """lo <= hi in XLA's order of max / min (-0.0 < +0.0), neither NaN."""
    if lo.dtype.kind == "f" or lo.dtype.kind == "V" or str(lo.dtype) == "bfloat16":
        a, c = float(lo), float(hi)
        if a != a or c != c:
            return False
        if a == c:
            return np.signbit(a) or not np.signbit(c)
        return a < c
    return int(lo) <= int(hi)


@rule(
    example=[
        Example(lambda x: jnp.maximum(jnp.minimum(x, 2), -1), [(4,)], dtypes=I32),
        Example(lambda x: jnp.maximum(-1, jnp.minimum(2, x)), [(4,)], dtypes=I32),
    ],
    commutative=True,
    needs=hlo.MinimumOp,
)
def maximum_minimum_to_clamp(op: hlo.MaximumOp, b: Builder, x: SSAValue, y: SSAValue):
    """maximum(minimum(x, hi), lo) -> clamp(lo, x, hi)   (integers; constants lo <= hi: the lattice order swaps. Not floats: at x = lo or hi the maximum / minimum pass half the derivative, clamp none)"""
    if not is_integer(x):
        return None
    m = producer(x, hlo.MinimumOp)
    lo = constant_splat(y)
    if m is None or lo is None or not single_use(x):
        return None
    for v, h in orders(m):
        hi = constant_splat(h)
        if hi is not None and constant_splat(v) is None and hi.dtype == lo.dtype and _ordered(lo, hi):
            return b.clamp(y, v, h)
    return None


@rule(
    example=[Example(lambda x: jnp.minimum(jnp.maximum(x, -1), 2), [(4,)], dtypes=I32), Example(lambda x: jnp.minimum(2, jnp.maximum(-1, x)), [(4,)], dtypes=I32)],
    commutative=True,
    needs=hlo.MaximumOp,
)
def minimum_maximum_to_clamp(op: hlo.MinimumOp, b: Builder, x: SSAValue, y: SSAValue):
    """minimum(maximum(x, lo), hi) -> clamp(lo, x, hi)   (integers; lo, hi splat constants: clamp is this by definition. Not floats: jnp.clip's derivative at a bound is 1/2, clamp's 0)"""
    if not is_integer(x):
        return None
    m = producer(x, hlo.MaximumOp)
    if m is None or constant_splat(y) is None or not single_use(x):
        return None
    for v, lo in orders(m):
        if constant_splat(lo) is not None and constant_splat(v) is None:
            return b.clamp(lo, v, y)
    return None


# ============================================================================ compares of scaled values


_SWAP = {"LT": "GT", "GT": "LT", "LE": "GE", "GE": "LE", "EQ": "EQ", "NE": "NE"}


@rule(
    example=[
        Example(lambda x: (x * 3.0) > 0.0, [(4,)]),
        Example(lambda x: (x * -2.0) <= 0.0, [(4,)]),
    ],
    needs={0: hlo.MultiplyOp, 1: SPLAT},
)
def compare_scaled_zero(op: hlo.CompareOp, b: Builder):
    """compare(x * c, 0, dir) -> compare(x, 0, dir) ;  c < 0: the swapped direction   (floats, c a finite splat with |c| >= 1: no underflow to zero, the sign and NaN kept)"""
    from ...ir.dense import is_float_type

    if not is_float_type(op.lhs.type):
        return None
    kind = op.compare_type.data.value if op.compare_type is not None else "FLOAT"
    if kind not in ("FLOAT",):
        return None
    zero = constant_splat(op.rhs)
    m = producer(op.lhs, hlo.MultiplyOp)
    if zero is None or float(zero) != 0.0 or m is None:
        return None
    for x, c in orders(m):
        cv = constant_splat(c)
        if cv is None or constant_splat(x) is not None:
            continue
        f = float(cv)
        if not np.isfinite(f) or abs(f) < 1.0:
            continue
        direction = op.comparison_direction.data.value
        if f < 0:
            direction = _SWAP[direction]
        return b.compare(x, op.rhs, direction, kind)
    return None


# ============================================================================ folds


def _fold_unary(op, b: Builder, fn):
    from .constant_fold import _fold

    return _fold(op, b, fn)


@rule(example=[
    Example(mlir=mlir_main(
        '  %c = "stablehlo.constant"() <{value = dense<[0.0, 2.0, 1.0e10, 3.0]> : tensor<4xf64>}> : () -> tensor<4xf64>\n'
        '  %0 = "stablehlo.sqrt"(%c) : (tensor<4xf64>) -> tensor<4xf64>\n'
        '  %1 = "stablehlo.add"(%x, %0) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>\n  func.return %1 : tensor<4xf64>')),
    Example(mlir=mlir_main(
        '  %c = "stablehlo.constant"() <{value = dense<2.0> : tensor<4xf32>}> : () -> tensor<4xf32>\n'
        '  %0 = "stablehlo.sqrt"(%c) : (tensor<4xf32>) -> tensor<4xf32>\n  func.return %0 : tensor<4xf32>', "", "tensor<4xf32>")),
], needs={0: CONSTANT})
def sqrt_constant_fold(op: hlo.SqrtOp, b: Builder):
    """sqrt(c) -> c'   (f32, f64: IEEE square roots are correctly rounded; -0.0 stays, negatives give NaN)"""
    dt = foldable_dtype(op.result)
    if dt is None or dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        return None
    return _fold_unary(op, b, lambda x: np.sqrt(x) if x.dtype.kind == "f" else None)


@rule(example=Example(mlir=mlir_main(
    '  %lo = "stablehlo.constant"() <{value = dense<-1.0> : tensor<4xf64>}> : () -> tensor<4xf64>\n'
    '  %c = "stablehlo.constant"() <{value = dense<[-3.0, 0.5, 2.0, -0.0]> : tensor<4xf64>}> : () -> tensor<4xf64>\n'
    '  %hi = "stablehlo.constant"() <{value = dense<1.0> : tensor<4xf64>}> : () -> tensor<4xf64>\n'
    '  %0 = "stablehlo.clamp"(%lo, %c, %hi) : (tensor<4xf64>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>\n'
    '  %1 = "stablehlo.add"(%x, %0) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>\n  func.return %1 : tensor<4xf64>')), needs={0: CONSTANT, 1: CONSTANT, 2: CONSTANT})
def clamp_constant_fold(op: hlo.ClampOp, b: Builder):
    """clamp(lo, c, hi) -> min(max(c, lo), hi)   (constants of the operand's shape; NaN propagates, -0.0 < +0.0)"""
    from .constant_fold import _fold

    if any(shape(v) != shape(op.result) for v in op.operands):
        return None

    def clamp(lo, x, hi):
        if x.dtype.kind == "f":
            return _xla_min(_xla_max(x, lo), hi)
        if x.dtype.kind in "iu":
            return np.minimum(np.maximum(x, lo), hi)
        return None

    return _fold(op, b, clamp, [op.min, op.operand, op.max])


def _xla_max(a, c):
    out = np.maximum(a, c)  # NaN propagates
    both_zero = (a == 0) & (c == 0)
    return np.where(both_zero, np.where(np.signbit(a) & np.signbit(c), a, np.abs(a)), out)


def _xla_min(a, c):
    out = np.minimum(a, c)
    both_zero = (a == 0) & (c == 0)
    return np.where(both_zero, np.where(np.signbit(a) | np.signbit(c), -np.abs(a), a), out)


@rule(example=Example(mlir=mlir_main(
    '  %a = "stablehlo.constant"() <{value = dense<[1.5, -0.0, 2.0, 3.0]> : tensor<4xf64>}> : () -> tensor<4xf64>\n'
    '  %c = "stablehlo.constant"() <{value = dense<2.5> : tensor<4xf64>}> : () -> tensor<4xf64>\n'
    '  %0 = "stablehlo.complex"(%a, %c) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xcomplex<f64>>\n'
    '  %z = "stablehlo.complex"(%x, %x) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xcomplex<f64>>\n'
    '  %1 = "stablehlo.add"(%z, %0) : (tensor<4xcomplex<f64>>, tensor<4xcomplex<f64>>) -> tensor<4xcomplex<f64>>\n  func.return %1 : tensor<4xcomplex<f64>>',
    "%x: tensor<4xf64>", "tensor<4xcomplex<f64>>")), needs={0: CONSTANT, 1: CONSTANT})
def complex_constant_fold(op: hlo.ComplexOp, b: Builder):
    """complex(c1, c2) -> c   (the parts bit for bit, -0.0 and NaN included)"""
    from .common import MAX_FOLD_ELEMENTS, constant_array, emit

    dt = foldable_dtype(op.lhs)
    if dt is None or dt.kind != "f" or dt.itemsize not in (4, 8):
        return None
    re, im = constant_splat(op.lhs), constant_splat(op.rhs)
    cdt = np.complex64 if dt.itemsize == 4 else np.complex128
    if re is not None and im is not None:
        value = np.empty((), cdt)
        value.real, value.imag = re, im
        return b.constant(value, op.result.type) if all(n >= 0 for n in shape(op.result)) else None
    if int(np.prod(shape(op.result))) > MAX_FOLD_ELEMENTS:
        return None
    ra, ia = constant_array(op.lhs), constant_array(op.rhs)
    if ra is None or ia is None:
        return None
    out = np.empty(ra.shape, cdt)
    out.real, out.imag = ra, ia
    return emit(b, out, op.result.type)


# ============================================================================ selects of constants under a conversion


@rule(
    example=[
        Example(lambda p: jnp.where(p, 3, -2).astype(jnp.float64), [(4,)], dtypes=["bool"]),
        Example(lambda x: jnp.where(x > 0, 1.5, 0.25).astype(jnp.float32), [(4,)]),
    ],
    needs={0: hlo.SelectOp},
)
def convert_select_constants(op: hlo.ConvertOp, b: Builder):
    """convert(select(p, c1, c2)) -> select(p, convert(c1), convert(c2))   (c1, c2 splat constants, converted at compile time; the select has no other user)"""
    s = producer(op.operand, hlo.SelectOp)
    if s is None or not single_use(op.operand) or any(n < 0 for n in shape(op.result)):
        return None
    c1, c2 = constant_splat(s.on_true), constant_splat(s.on_false)
    dt = foldable_dtype(op.result)
    if c1 is None or c2 is None or dt is None:
        return None
    from ...ir.dense import is_bfloat16

    if is_bfloat16(dt) or is_bfloat16(c1.dtype):
        return None
    with np.errstate(all="ignore"):
        v1, v2 = np.asarray(c1).astype(dt), np.asarray(c2).astype(dt)
    if dt.kind in "iu" and c1.dtype.kind == "f":
        return None  # float to integer conversion: XLA's saturation and NaN rules, not numpy's
    from xdsl.dialects.builtin import TensorType

    out_type = TensorType(elem(op.result), shape(s.on_true))
    return b.select(s.pred, b.constant(v1, out_type), b.constant(v2, out_type))


# ============================================================================ ops of shifts by one amount


_SHIFTS = (hlo.ShiftLeftOp, hlo.ShiftRightLogicalOp, hlo.ShiftRightArithmeticOp)


@rule(
    example=[
        Example(lambda x, y: (x << 3) + (y << 3), [(4,)] * 2, dtypes=I32_2),
        Example(lambda x, y: (x >> 2) ^ (y >> 2), [(4,)] * 2, dtypes=I32_2),
        Example(lambda x, y: (x << 5) - (y << 5), [(4,)] * 2, dtypes=I32_2),
    ],
    roots=[hlo.AddOp, hlo.SubtractOp, hlo.AndOp, hlo.OrOp, hlo.XorOp],
    needs={0: _SHIFTS, 1: _SHIFTS},
)
def binary_shifts_same_amount(op, b: Builder):
    """f(shift(x, k), shift(y, k)) -> shift(f(x, y), k)   (integers; f and, or, xor for every shift, add and subtract for left shifts: both are exact modulo 2^bits; the shifts have no other user)"""
    if _int_kind(op.result) not in ("i", "u"):
        return None
    p, q = sole_producer(op.lhs, _SHIFTS, op), sole_producer(op.rhs, _SHIFTS, op)
    if p is None or q is None or type(p) is not type(q):
        return None
    if isinstance(op, (hlo.AddOp, hlo.SubtractOp)) and not isinstance(p, hlo.ShiftLeftOp):
        return None
    if p.rhs is not q.rhs:
        a, c = constant_splat(p.rhs), constant_splat(q.rhs)
        if a is None or c is None or int(a) != int(c) or p.rhs.type != q.rhs.type:
            return None
    inner = b.insert(type(op)(p.lhs, q.lhs)).results[0]
    return b.insert(type(p)(inner, p.rhs)).results[0]
