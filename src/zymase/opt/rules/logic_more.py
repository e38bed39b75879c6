"""Logic and order on integers and booleans: bitwise complements through compares and
maximum / minimum, booleans converted to numbers, masks from shift pairs, selects whose
branches are a value and its negation, infinity tests through sign changes, and clamps of
clamps.

Exactness. ``not`` is a decreasing bijection on every integer type (``~x = -x - 1`` on
signed ones, ``2^w - 1 - x`` on unsigned ones), so it reverses comparisons and swaps
maximum and minimum without exception. Booleans converted to numbers are 0 and 1, where
bitwise and / or / xor and maximum / minimum agree with the logical ops. Shifting left
and back logically by the same amount in [0, bits) clears the high bits (a mask).
Negation and absolute value change the sign only, so they keep every infinity test.
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
from ..pattern import SPLAT, Example, producer, rule, shape, single_use
from .common import any_dtype, constant_splat, emit_splat, is_integer, mlir_main

I32 = ["int32"]
I32_2 = ["int32", "int32"]


def _int_or_bool(v: SSAValue) -> bool:
    return is_integer(v)


def _not(b: Builder, v: SSAValue) -> SSAValue:
    return b.insert(hlo.NotOp(v)).results[0]


_SWAP = {"LT": "GT", "GT": "LT", "LE": "GE", "GE": "LE", "EQ": "EQ", "NE": "NE"}


@rule(example=[Example(lambda x, y: ~x < ~y, [(4,), (4,)], dtypes=I32_2), Example(lambda x, y: ~x == ~y, [(4,), (4,)], dtypes=I32_2)], needs={0: hlo.NotOp, 1: hlo.NotOp})
def compare_nots(op: hlo.CompareOp, b: Builder):
    """compare(not(x), not(y), dir) -> compare(y, x, dir)   (integers and booleans: not is a decreasing bijection)"""
    if not _int_or_bool(op.lhs):
        return None
    nx, ny = producer(op.lhs, hlo.NotOp), producer(op.rhs, hlo.NotOp)
    if nx is None or ny is None:
        return None
    kind = None if op.compare_type is None else op.compare_type.data.value
    return b.compare(ny.operand, nx.operand, op.comparison_direction.data.value, kind)


@rule(
    example=[Example(lambda x, y: jnp.maximum(~x, ~y), [(4,), (4,)], dtypes=I32_2), Example(lambda x, y: jnp.minimum(~x, ~y), [(4,), (4,)], dtypes=I32_2)],
    roots=[hlo.MaximumOp, hlo.MinimumOp],
    needs={0: hlo.NotOp, 1: hlo.NotOp},
)
def max_min_nots(op, b: Builder):
    """maximum(not(x), not(y)) -> not(minimum(x, y)) ;  minimum likewise -> not(maximum(x, y))   (integers and booleans: not is a decreasing bijection)"""
    if not _int_or_bool(op.result):
        return None
    nx, ny = producer(op.lhs, hlo.NotOp), producer(op.rhs, hlo.NotOp)
    if nx is None or ny is None:
        return None
    inner = b.min(nx.operand, ny.operand) if isinstance(op, hlo.MaximumOp) else b.max(nx.operand, ny.operand)
    return _not(b, inner)


def _converted_bool(v: SSAValue):
    cv = producer(v, hlo.ConvertOp)
    if cv is None:
        return None
    dt = any_dtype(cv.operand)
    return cv.operand if dt is not None and dt == np.bool_ else None


_LOGICAL = {hlo.AndOp: hlo.AndOp, hlo.OrOp: hlo.OrOp, hlo.XorOp: hlo.XorOp, hlo.MaximumOp: hlo.OrOp, hlo.MinimumOp: hlo.AndOp}


@rule(
    example=[
        Example(lambda p, q: p.astype(jnp.int32) & q.astype(jnp.int32), [(4,), (4,)], dtypes=["bool", "bool"]),
        Example(lambda p, q: p.astype(jnp.int32) ^ q.astype(jnp.int32), [(4,), (4,)], dtypes=["bool", "bool"]),
        Example(lambda p, q: jnp.maximum(p.astype(jnp.float64), q.astype(jnp.float64)), [(4,), (4,)], dtypes=["bool", "bool"]),
        Example(lambda p, q: jnp.minimum(p.astype(jnp.int32), q.astype(jnp.int32)), [(4,), (4,)], dtypes=["bool", "bool"]),
    ],
    roots=[hlo.AndOp, hlo.OrOp, hlo.XorOp, hlo.MaximumOp, hlo.MinimumOp],
    needs={0: hlo.ConvertOp, 1: hlo.ConvertOp},
)
def logic_of_converted_booleans(op, b: Builder):
    """and / or / xor (convert(p), convert(q)) -> convert(and / or / xor (p, q)) ;  maximum -> convert(or) ;  minimum -> convert(and)   (p, q booleans: 0 and 1)"""
    p, q = _converted_bool(op.lhs), _converted_bool(op.rhs)
    if p is None or q is None or p.type != q.type:
        return None
    if isinstance(op, (hlo.AndOp, hlo.OrOp, hlo.XorOp)) and not is_integer(op.result):
        return None
    inner = b.insert(_LOGICAL[type(op)](p, q)).results[0]
    return b.convert(inner, elem(op.result))


# ============================================================================ masks from shifts


def _shift_amount(v: SSAValue, width: int) -> int | None:
    s = constant_splat(v)
    if s is None:
        return None
    k = int(s)
    return k if 0 <= k < width else None


def _mask(b: Builder, like: SSAValue, bits: int, high: bool) -> SSAValue:
    """A splat of ``like``'s type with the low ``bits`` bits set (or all but them when ``high``)."""
    dt = any_dtype(like)
    w = dt.itemsize * 8
    low = (1 << bits) - 1
    value = ((1 << w) - 1) ^ low if high else low
    unsigned = np.asarray(value, np.dtype(f"uint{w}"))
    return emit_splat(b, unsigned.astype(dt), like.type)


@rule(
    example=[
        Example(lambda x: lax.shift_right_logical(x << 3, jnp.int32(3)), [(4,)], dtypes=I32),
        Example(lambda x: lax.shift_left(lax.shift_right_logical(x, jnp.int32(4)), jnp.int32(4)), [(4,)], dtypes=I32),
    ],
    roots=[hlo.ShiftRightLogicalOp, hlo.ShiftLeftOp],
    needs={0: (hlo.ShiftLeftOp, hlo.ShiftRightLogicalOp), 1: SPLAT},
)
def shift_pair_to_mask(op, b: Builder):
    """shift_right_logical(shift_left(x, k), k) -> and(x, 2^(bits-k) - 1) ;  shift_left(shift_right_logical(x, k), k) -> and(x, ~(2^k - 1))   (integers, k constant in [0, bits))"""
    dt = any_dtype(op.result)
    if dt is None or dt.kind not in "iu" or any(n < 0 for n in shape(op.result)):
        return None
    inner_cls = hlo.ShiftLeftOp if isinstance(op, hlo.ShiftRightLogicalOp) else hlo.ShiftRightLogicalOp
    inner = producer(op.lhs, inner_cls)
    if inner is None or not single_use(op.lhs):
        return None
    w = dt.itemsize * 8
    k1, k2 = _shift_amount(inner.rhs, w), _shift_amount(op.rhs, w)
    if k1 is None or k1 != k2:
        return None
    if isinstance(op, hlo.ShiftRightLogicalOp):
        mask = _mask(b, op.result, w - k1, high=False)
    else:
        mask = _mask(b, op.result, k1, high=True)
    return b.insert(hlo.AndOp(inner.lhs, mask)).results[0]


# ============================================================================ selects of a boolean and its negation


@rule(
    example=[
        Example(lambda p, q: jnp.where(p, ~q, q), [(4,), (4,)], dtypes=["bool", "bool"]),
        Example(lambda p, q: jnp.where(p, q, ~q), [(4,), (4,)], dtypes=["bool", "bool"]),
    ],
    needs=hlo.NotOp,
)
def select_negated_branches(op: hlo.SelectOp, b: Builder):
    """select(p, not(q), q) -> xor(p, q) ;  select(p, q, not(q)) -> not(xor(p, q))   (booleans, p of the result's shape)"""
    if any_dtype(op.result) != np.bool_ or op.pred.type != op.result.type:
        return None
    nt, nf = producer(op.on_true, hlo.NotOp), producer(op.on_false, hlo.NotOp)
    if nt is not None and nt.operand is op.on_false:
        return b.insert(hlo.XorOp(op.pred, op.on_false)).results[0]
    if nf is not None and nf.operand is op.on_true:
        return _not(b, b.insert(hlo.XorOp(op.pred, op.on_true)).results[0])
    return None


@rule(
    example=[
        Example(lambda p, x, y: p & jnp.where(p, x, y), [(4,)] * 3, dtypes=["bool"] * 3),
        Example(lambda p, x, y: jnp.where(p, x, y) | p, [(4,)] * 3, dtypes=["bool"] * 3),
    ],
    roots=[hlo.AndOp, hlo.OrOp],
    needs=hlo.SelectOp,
)
def logic_select_same_predicate(op, b: Builder):
    """and(p, select(p, x, y)) -> and(p, x) ;  or(p, select(p, x, y)) -> or(p, y)   (booleans: where p decides, the select's other branch is never seen)"""
    if any_dtype(op.result) != np.bool_:
        return None
    for p, s_val in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
        s = producer(s_val, hlo.SelectOp)
        if s is not None and s.pred is p:
            branch = s.on_true if isinstance(op, hlo.AndOp) else s.on_false
            return b.insert(type(op)(p, branch)).results[0]
    return None


# ============================================================================ infinity tests through sign changes


_F = "tensor<4xf64>"
_B = "tensor<4xi1>"


def _sign_example(sign_op: str, test: str) -> Example:
    if test == "is_finite":
        line = f'  %1 = "stablehlo.is_finite"(%0) : ({_F}) -> {_B}'
    else:
        line = f"  %1 = chlo.{test} %0 : {_F} -> {_B}"
    return Example(mlir=mlir_main(f"  %0 = stablehlo.{sign_op} %x : {_F}\n{line}\n  func.return %1 : {_B}", f"%x: {_F}", _B))


_MIRRORED = {chlo.IsPosInfOp: chlo.IsNegInfOp, chlo.IsNegInfOp: chlo.IsPosInfOp}


@rule(
    example=[_sign_example("negate", "is_finite"), _sign_example("abs", "is_inf"), _sign_example("negate", "is_pos_inf"), _sign_example("abs", "is_pos_inf")],
    roots=[hlo.IsFiniteOp, chlo.IsInfOp, chlo.IsPosInfOp, chlo.IsNegInfOp],
    needs={0: (hlo.NegateOp, hlo.AbsOp)},
)
def infinity_test_through_sign(op, b: Builder):
    """is_finite(negate(x)) -> is_finite(x) ;  is_inf likewise ;  is_pos_inf(negate(x)) -> is_neg_inf(x) ;  is_pos_inf(abs(x)) -> is_inf(x) ;  abs likewise   (real floats: only the sign changes)"""
    inner = producer(op.operand, (hlo.NegateOp, hlo.AbsOp))
    if inner is None or inner.operand.type != op.operand.type:
        return None
    x = inner.operand
    if isinstance(op, (hlo.IsFiniteOp, chlo.IsInfOp)):
        return b.insert(type(op)(x, op.result.type)).results[0]
    if isinstance(inner, hlo.NegateOp):
        return b.insert(_MIRRORED[type(op)](x, op.result.type)).results[0]
    if isinstance(op, chlo.IsPosInfOp):  # |x| = +inf exactly when x is infinite
        return b.insert(chlo.IsInfOp(x, op.result.type)).results[0]
    return b.zeros(op.result.type) if all(n >= 0 for n in shape(op.result)) else None  # |x| is never -inf


# ============================================================================ clamps of clamps


def _splat_bounds(op: hlo.ClampOp):
    lo, hi = constant_splat(op.min), constant_splat(op.max)
    if lo is None or hi is None:
        return None
    return lo, hi


def _total_le(a, c) -> bool:
    """a <= c in XLA's order of maximum / minimum (-0.0 < +0.0); False for NaN."""
    if a.dtype.kind == "f":
        x, y = float(a), float(c)
        if math.isnan(x) or math.isnan(y):
            return False
        if x == y:
            return bool(np.signbit(x)) or not bool(np.signbit(y))
        return x < y
    return int(a) <= int(c)


@rule(
    example=[
        Example(lambda x: lax.clamp(-0.5, lax.clamp(-1.0, x, 1.5), 2.0), [(4,)]),
        Example(lambda x: lax.clamp(jnp.int32(-1), lax.clamp(jnp.int32(-3), x, jnp.int32(1)), jnp.int32(4)), [(4,)], dtypes=I32),
    ],
    needs={1: hlo.ClampOp},
)
def clamp_clamp_constants(op: hlo.ClampOp, b: Builder):
    """clamp(lo, clamp(lo2, x, hi2), hi) -> clamp(max(lo, lo2), x, min(hi, hi2))   (splat constants, each pair ordered and the intervals overlapping; no NaN)"""
    inner = producer(op.operand, hlo.ClampOp)
    if inner is None or not single_use(op.operand):
        return None
    outer, within = _splat_bounds(op), _splat_bounds(inner)
    if outer is None or within is None:
        return None
    (lo, hi), (lo2, hi2) = outer, within
    if len({lo.dtype, hi.dtype, lo2.dtype, hi2.dtype}) != 1 or str(lo.dtype) == "bfloat16":
        return None
    if not (_total_le(lo, hi) and _total_le(lo2, hi2) and _total_le(lo, hi2) and _total_le(lo2, hi)):
        return None
    new_lo = op.min if _total_le(lo2, lo) else inner.min
    new_hi = op.max if _total_le(hi, hi2) else inner.max
    if shape(new_lo) != shape(new_hi) and (shape(new_lo) != () and shape(new_hi) != ()):
        return None
    return b.clamp(new_lo, inner.operand, new_hi)
