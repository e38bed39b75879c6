"""Rules decided by the range of values: iota, constants and the ops between them.

``value_range(v)`` bounds the elements of ``v``: an iota along a dimension of size n lies
in [0, n-1], a constant between its least and greatest element, and bounds flow through
the shape ops (broadcast, reshape, transpose, slice, concatenate, pad, ...), select,
max/min/clamp, integer arithmetic that cannot wrap (checked against the element type),
exact conversions and abs. Float bounds also say whether an element may be NaN or -0.0,
so that every rule here is exact (comparisons with NaN, the sign of zero in max/min);
integer abs is bounded only where INT_MIN cannot occur (abs(INT_MIN) = INT_MIN).

``index_form(v)`` recognises values ``a * i_d + b`` of the index ``i_d`` along one
dimension (an iota, broadcast, transposed, converted exactly, shifted or scaled by
constants without wrapping). A comparison of such a value with a constant is a mask that
is constant along every other dimension and has at most three runs along ``d``; the rules
write it as constants (one splat, a concatenate of two splats or a pad of one) and turn a
select under it into a concatenate of slices of its branches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..lazy_jax import jnp
from ..lazy_jax import lax
from ..lazy_jax import np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.attributes import ComparisonType
from ...ir.builder import Builder, elem
from ...ir.dense import is_bfloat16
from ..pattern import CONSTANT, Example, per_visit, producer, rule, shape
from .common import MANTISSA_BITS, constant_array, constant_splat, emit_splat, foldable_dtype, mlir_constant, mlir_main

# ============================================================================ ranges


@dataclass(frozen=True)
class Range:
    """Every element is NaN (only if ``nan``) or lies in [lo, hi]; ``negzero``: an element
    may be -0.0 (floats). Integer bounds are Python ints, float bounds Python floats."""

    lo: float
    hi: float
    is_float: bool
    nan: bool = False
    negzero: bool = False

    def union(self, other: Range) -> Range:
        return Range(min(self.lo, other.lo), max(self.hi, other.hi), self.is_float, self.nan or other.nan, self.negzero or other.negzero)


_DEPTH = 8
"""How many ops deep ``value_range`` looks."""

_VISITS = 256
"""How many values one question to ``bounds`` may look at (concatenates of many inputs)."""

_BUDGET = [0]


def _kind(v: SSAValue):
    """'i' / 'u' for integers, 'f' for floats (bf16 too), None for i1, complex and others."""
    dt = foldable_dtype(v)
    if dt is None:
        return None
    if dt.kind == "f" or is_bfloat16(dt):
        return "f"
    return dt.kind if dt.kind in "iu" else None


def _limits(v: SSAValue) -> tuple[int, int]:
    info = np.iinfo(foldable_dtype(v))
    return int(info.min), int(info.max)


def _fits(v: SSAValue, lo: int, hi: int) -> bool:
    mn, mx = _limits(v)
    return mn <= lo and hi <= mx


def _int_range(v: SSAValue, lo: int, hi: int) -> Range | None:
    """[lo, hi] for an integer ``v`` when it holds in the element type (no wrap), else None."""
    return Range(lo, hi, False) if _fits(v, lo, hi) else None


def _exact_float_limit(v: SSAValue) -> float:
    """The largest integer magnitude below which every integer is exact in ``v``'s float type."""
    return float(2 ** MANTISSA_BITS[foldable_dtype(v)])


def _constant_range(v: SSAValue, kind: str) -> Range | None:
    s = constant_splat(v)
    if s is not None:
        arr = np.asarray(s).reshape(1)
    else:
        arr = constant_array(v)
        if arr is None or arr.size == 0:
            return None
    if kind != "f":
        return Range(int(arr.min()), int(arr.max()), False)
    f = np.asarray(arr, np.float64)
    nan = bool(np.isnan(f).any())
    finite = f[~np.isnan(f)]
    negzero = bool(np.any((f == 0) & np.signbit(f)))
    if finite.size == 0:
        return Range(math.inf, -math.inf, True, nan, negzero)  # only NaN: an empty interval
    return Range(float(finite.min()), float(finite.max()), True, nan, negzero)


def value_range(v: SSAValue, depth: int = _DEPTH) -> Range | None:
    """Bounds of the elements of an integer or float tensor ``v``: what ``bounds`` knows,
    else (integers) the limits of the element type; None for floats without bounds."""
    out = bounds(v, depth)
    if out is None and _kind(v) in ("i", "u"):
        return Range(*_limits(v), False)  # any integer of the type
    return out


def bounds(v: SSAValue, depth: int = _DEPTH) -> Range | None:
    """Bounds of the elements of ``v`` that its producers give (an iota, a constant, ops
    over bounded operands that cannot wrap), or None: an integer op that may wrap, an
    inexact conversion, an unknown value."""
    kind = _kind(v)
    if kind is None or depth <= 0 or not isinstance(v.type, TensorType):
        return None
    if depth == _DEPTH:
        _BUDGET[0] = _VISITS  # a question from a rule: a fresh budget
    elif _BUDGET[0] <= 0:
        return None
    _BUDGET[0] -= 1
    op = v.owner
    if isinstance(op, hlo.ConstantOp):
        return _constant_range(v, kind)
    if isinstance(op, hlo.IotaOp):
        n = shape(v)[op.iota_dimension.value.data]
        if n <= 0:
            return None
        if kind == "f":
            return Range(0.0, float(n - 1), True) if n - 1 <= _exact_float_limit(v) else None
        return _int_range(v, 0, n - 1)
    return _RANGE_RULES.get(type(op), _unknown)(op, v, kind, depth - 1)


def _unknown(op, v, kind, depth) -> Range | None:
    if kind == "f" and isinstance(op, (hlo.AbsOp, hlo.MultiplyOp)):
        return _float_nonnegative(op, depth)
    return None


def _float_nonnegative(op, depth) -> Range | None:
    """abs(x) and x * x of floats: +0 or more, NaN where x is (|-0.0| = (-0.0)^2 = +0)."""
    if isinstance(op, hlo.AbsOp):
        if _kind(op.operand) != "f":
            return None  # complex abs
        r = value_range(op.operand, depth)
        if r is None:
            return Range(0.0, math.inf, True, True)
        lo = 0.0 if r.lo <= 0 <= r.hi else min(abs(r.lo), abs(r.hi))
        return Range(lo, max(abs(r.lo), abs(r.hi)), True, r.nan)
    if isinstance(op, hlo.MultiplyOp) and op.lhs is op.rhs:
        r = value_range(op.lhs, depth)
        return Range(0.0, math.inf, True, True if r is None else r.nan)
    return None


def _through(index: int):
    """Bounds of the result are those of operand ``index`` (its elements are rearranged,
    repeated or a subset)."""

    def fn(op, v, kind, depth):
        return value_range(op.operands[index], depth)

    return fn


def _union(*indices: int):
    def fn(op, v, kind, depth):
        out = None
        for i in indices:
            r = value_range(op.operands[i], depth)
            if r is None:
                return None
            out = r if out is None else out.union(r)
        return out

    return fn


def _all_operands(op, v, kind, depth):
    return _union(*range(len(op.operands)))(op, v, kind, depth)


def _binary_ints(fn):
    """Integer interval arithmetic ``fn(a, b)`` -> (lo, hi) or None, kept when it cannot wrap."""

    def rule_fn(op, v, kind, depth):
        if kind == "f":
            return _unknown(op, v, kind, depth)
        a, c = value_range(op.lhs, depth), value_range(op.rhs, depth)
        if a is None or c is None:
            return None
        out = fn(a, c)
        return None if out is None else _int_range(v, *out)

    return rule_fn


def _add(a: Range, c: Range):
    return a.lo + c.lo, a.hi + c.hi


def _sub(a: Range, c: Range):
    return a.lo - c.hi, a.hi - c.lo


def _mul(a: Range, c: Range):
    products = [a.lo * c.lo, a.lo * c.hi, a.hi * c.lo, a.hi * c.hi]
    return min(products), max(products)


def _trunc_div(x: int, y: int) -> int:
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y > 0) else -q


def _div(a: Range, c: Range):
    if c.lo <= 0:
        return None  # a divisor that may be zero or negative
    lo = _trunc_div(a.lo, c.hi) if a.lo >= 0 else _trunc_div(a.lo, c.lo)
    hi = _trunc_div(a.hi, c.lo) if a.hi >= 0 else _trunc_div(a.hi, c.hi)
    return lo, hi


def _rem(a: Range, c: Range):
    if c.lo <= 0:
        return None
    m = c.hi - 1
    if a.lo >= 0:
        return 0, min(a.hi, m)
    if a.hi <= 0:
        return max(a.lo, -m), 0
    return max(a.lo, -m), min(a.hi, m)


def _and(a: Range, c: Range):
    his = [r.hi for r in (a, c) if r.lo >= 0]
    return (0, min(his)) if his else None


def _max_min(pick):
    def fn(op, v, kind, depth):
        a, c = value_range(op.lhs, depth), value_range(op.rhs, depth)
        if a is None or c is None:
            return None
        return Range(pick(a.lo, c.lo), pick(a.hi, c.hi), a.is_float, a.nan or c.nan, a.negzero or c.negzero)

    return fn


def _clamp(op, v, kind, depth):
    lo, x, hi = (value_range(w, depth) for w in (op.min, op.operand, op.max))
    if lo is None or x is None or hi is None:
        return None
    return Range(min(max(x.lo, lo.lo), hi.lo), min(max(x.hi, lo.hi), hi.hi), x.is_float, x.nan or lo.nan or hi.nan, x.negzero or lo.negzero or hi.negzero)


def _negate(op, v, kind, depth):
    r = value_range(op.operand, depth)
    if r is None:
        return None
    if kind == "f":
        return Range(-r.hi, -r.lo, True, r.nan, r.lo <= 0 <= r.hi)
    return _int_range(v, -r.hi, -r.lo)


def _abs(op, v, kind, depth):
    if kind == "f":
        return _float_nonnegative(op, depth)
    r = value_range(op.operand, depth)
    if r is None or r.lo == _limits(op.operand)[0] and kind == "i":
        return None  # abs(INT_MIN) = INT_MIN
    if r.lo >= 0:
        return r
    if r.hi <= 0:
        return Range(-r.hi, -r.lo, False)
    return Range(0, max(-r.lo, r.hi), False)


def _sign(op, v, kind, depth):
    if kind == "f":
        return None
    r = value_range(op.operand, depth)
    if r is None:
        return Range(-1, 1, False) if kind == "i" else None
    return Range(int(np.sign(r.lo)), int(np.sign(r.hi)), False)


def _convert(op, v, kind, depth):
    src = _kind(op.operand)
    if src is None:
        return None
    r = value_range(op.operand, depth)
    if r is None:
        return None
    if src == "f":
        if kind == "f" and foldable_dtype(op.operand).itemsize <= foldable_dtype(v).itemsize and not is_bfloat16(foldable_dtype(v)):
            return r  # a widening float conversion is exact
        return None
    if kind == "f":
        limit = _exact_float_limit(v)
        return Range(float(r.lo), float(r.hi), True) if -limit <= r.lo and r.hi <= limit else None
    return _int_range(v, r.lo, r.hi)


_RANGE_RULES = {
    hlo.BroadcastInDimOp: _through(0),
    hlo.ReshapeOp: _through(0),
    hlo.TransposeOp: _through(0),
    hlo.ReverseOp: _through(0),
    hlo.SliceOp: _through(0),
    hlo.DynamicSliceOp: _through(0),
    hlo.GatherOp: _through(0),
    hlo.ConcatenateOp: _all_operands,
    hlo.PadOp: _union(0, 1),
    hlo.DynamicUpdateSliceOp: _union(0, 1),
    hlo.SelectOp: _union(1, 2),
    hlo.MaximumOp: _max_min(max),
    hlo.MinimumOp: _max_min(min),
    hlo.ClampOp: _clamp,
    hlo.NegateOp: _negate,
    hlo.AbsOp: _abs,
    hlo.SignOp: _sign,
    hlo.ConvertOp: _convert,
    hlo.AddOp: _binary_ints(_add),
    hlo.SubtractOp: _binary_ints(_sub),
    hlo.MultiplyOp: _binary_ints(_mul),
    hlo.DivideOp: _binary_ints(_div),
    hlo.RemainderOp: _binary_ints(_rem),
    hlo.AndOp: _binary_ints(_and),
}


@per_visit
def _range(v: SSAValue) -> Range | None:
    return value_range(v)


# ============================================================================ deciding comparisons

_OUTCOMES = {
    "EQ": {"eq"},
    "NE": {"lt", "gt", "un"},
    "LT": {"lt"},
    "LE": {"lt", "eq"},
    "GT": {"gt"},
    "GE": {"gt", "eq"},
}


def _possible(a: Range, c: Range) -> set[str]:
    """The outcomes a comparison of elements bounded by ``a`` and ``c`` may have."""
    out = set()
    if a.nan or c.nan:
        out.add("un")
    if a.lo > a.hi or c.lo > c.hi:
        return out  # an operand that is only NaN
    if a.lo < c.hi:
        out.add("lt")
    if a.hi > c.lo:
        out.add("gt")
    if a.lo <= c.hi and c.lo <= a.hi:
        out.add("eq")
    return out


def _default_compare(op: hlo.CompareOp) -> bool:
    """The comparison type is the element type's own (not TOTALORDER, no signedness mismatch)."""
    if op.compare_type is None:
        return True
    kind, ct = _kind(op.lhs), op.compare_type.data
    if ct == ComparisonType.NOTYPE:
        return True
    return ct == {"f": ComparisonType.FLOAT, "i": ComparisonType.SIGNED, "u": ComparisonType.UNSIGNED}.get(kind)


def _decided(op: hlo.CompareOp) -> bool | None:
    if _kind(op.lhs) is None or not _default_compare(op):
        return None
    a, c = _range(op.lhs), _range(op.rhs)
    if a is None or c is None:
        return None
    possible = _possible(a, c)
    want = _OUTCOMES[op.comparison_direction.data.value]
    if possible <= want:
        return True
    if not possible & want:
        return False
    return None


def _iota(shape_text: str, dim: int = 0, name: str = "i") -> str:
    return f'  %{name} = "stablehlo.iota"() <{{iota_dimension = {dim} : i64}}> : () -> {shape_text}'


def _compare(name: str, lhs: str, rhs: str, direction: str, operand_type: str, result_type: str) -> str:
    return (
        f'  %{name} = "stablehlo.compare"(%{lhs}, %{rhs}) <{{comparison_direction = #stablehlo<comparison_direction {direction}>}}> '
        f": ({operand_type}, {operand_type}) -> {result_type}"
    )


def _select(name: str, pred: str, a: str, b_: str, pred_type: str, type_: str) -> str:
    return f'  %{name} = "stablehlo.select"(%{pred}, %{a}, %{b_}) : ({pred_type}, {type_}, {type_}) -> {type_}'


_I64x8 = "tensor<8xi64>"
_B8 = "tensor<8xi1>"


def _iota_compare_example(direction: str, constant: str, iota_type: str = _I64x8, result: str = _B8, shape_args: str = "") -> Example:
    """``select(compare(iota, c, direction), x, y)`` on tensor<8xi64>, as MLIR."""
    body = "\n".join(
        [
            _iota(iota_type),
            mlir_constant("c", constant, iota_type),
            _compare("p", "i", "c", direction, iota_type, result),
            _select("r", "p", "x", "y", result, _I64x8),
            f"  func.return %r : {_I64x8}",
        ]
    )
    return Example(mlir=mlir_main(body, f"%x: {_I64x8}, %y: {_I64x8}", _I64x8))


@rule(
    example=[
        _iota_compare_example("LT", "9"),
        _iota_compare_example("GE", "-1"),
        Example(lambda x: jnp.where(jnp.abs(x) < -1.0, x, 2.0 * x), [(4,)]),
        Example(lambda x: jnp.where((jnp.arange(4) % 3) <= 2, x, 2.0 * x), [(4,)]),
    ]
)
def compare_decided_by_range(op: hlo.CompareOp, b: Builder):
    """compare(x, y) -> true | false   (when the ranges of x and y decide it: iota, constants, abs, ...; NaN counted)"""
    decided = _decided(op)
    if decided is None:
        return None
    return emit_splat(b, np.asarray(decided), op.result.type)


# ============================================================================ max, min and clamp


def _max_is_left(a: Range, c: Range) -> bool:
    """maximum(x, y) = x for every x bounded by ``a`` and y bounded by ``c`` (bitwise)."""
    if c.nan or c.lo > c.hi:
        return False  # a NaN y would propagate
    if a.lo > a.hi:
        return True  # x only NaN: the maximum is x
    if a.lo < c.hi:
        return False
    # a.lo >= c.hi: ties only at a.lo == c.hi; at zero, max(-0, +0) = +0 differs from x = -0
    return not (a.lo == c.hi == 0 and a.negzero)


def _min_is_left(a: Range, c: Range) -> bool:
    """minimum(x, y) = x for every x bounded by ``a`` and y bounded by ``c`` (bitwise)."""
    if c.nan or c.lo > c.hi:
        return False
    if a.lo > a.hi:
        return True
    if a.hi > c.lo:
        return False
    return not (a.hi == c.lo == 0 and c.negzero)


def _float_tie(v: SSAValue, a: Range, c: Range) -> bool:
    """Floats whose ranges touch (an end of ``a`` is an end of ``c``): there maximum and
    minimum pass half of each operand's derivative, and clamp none of x's, so the op is
    not replaced by one operand even where its value is."""
    if _kind(v) != "f" or a.lo > a.hi or c.lo > c.hi:
        return False
    return a.lo == c.hi or a.hi == c.lo


def _iota_max_example(name: str, constant: float, dtype: str = "int64", swap: bool = False) -> Example:
    """``x + name(iota, constant)`` (``swap``: the constant first), jnp.maximum or jnp.minimum."""

    def fn(x):
        iota, c = jnp.arange(4, dtype=dtype), jnp.asarray(np.full(4, constant, dtype))
        return x + getattr(jnp, name)(*((c, iota) if swap else (iota, c))).astype(x.dtype)

    return Example(fn, [(4,)])


@rule(
    example=[
        _iota_max_example("maximum", -1),
        _iota_max_example("maximum", 5),
        _iota_max_example("maximum", 7.0, "float32", swap=True),
        Example(lambda x: jnp.maximum(jnp.abs(x), -1.0), [(4,)]),
    ],
    commutative=True,
)
def maximum_decided_by_range(op: hlo.MaximumOp, b: Builder, x: SSAValue, y: SSAValue):
    """maximum(x, y) -> x   (when every x >= every y by their ranges: iota, constants, abs; NaN and -0.0 counted; floats: the ranges do not touch, a tie's derivative is halved)"""
    if _kind(x) is None:
        return None
    a, c = _range(x), _range(y)
    if a is None or c is None or not _max_is_left(a, c) or _float_tie(x, a, c):
        return None
    return x


@rule(
    example=[
        _iota_max_example("minimum", 5),
        _iota_max_example("minimum", -2),
        _iota_max_example("minimum", 3.5, "float32", swap=True),
    ],
    commutative=True,
)
def minimum_decided_by_range(op: hlo.MinimumOp, b: Builder, x: SSAValue, y: SSAValue):
    """minimum(x, y) -> x   (when every x <= every y by their ranges; NaN and -0.0 counted; floats: the ranges do not touch)"""
    if _kind(x) is None:
        return None
    a, c = _range(x), _range(y)
    if a is None or c is None or not _min_is_left(a, c) or _float_tie(x, a, c):
        return None
    return x


@rule(
    example=[
        Example(lambda x: x + lax.clamp(-1, jnp.arange(4), 5).astype(x.dtype), [(4,)]),
        Example(lambda x: x + lax.clamp(6, jnp.arange(4), 10).astype(x.dtype), [(4,)]),
        Example(lambda x: x + lax.clamp(-6, jnp.arange(4), -1).astype(x.dtype), [(4,)]),
    ]
)
def clamp_decided_by_range(op: hlo.ClampOp, b: Builder):
    """clamp(lo, x, hi) -> x | lo | hi   (when the ranges decide it; clamp = min(max(x, lo), hi); a rank-0 bound is not returned; floats: x's range touches neither bound's)"""
    if _kind(op.operand) is None:
        return None
    lo, x, hi = _range(op.min), _range(op.operand), _range(op.max)
    if lo is None or x is None or hi is None or _float_tie(op.operand, x, lo) or _float_tie(op.operand, x, hi):
        return None
    if _max_is_left(x, lo):
        first, r = op.operand, x
    elif _max_is_left(lo, x):
        first, r = op.min, lo
    else:
        return None
    if _min_is_left(r, hi):
        out = first
    elif _min_is_left(hi, r):
        out = op.max
    else:
        return None
    return out if out.type == op.result.type else None  # a rank-0 bound is not the result


# ============================================================================ integer arithmetic decided by ranges


def _int_constant(v: SSAValue) -> int | None:
    s = constant_splat(v)
    return None if s is None or s.dtype.kind not in "iu" else int(s)


@rule(
    example=[
        Example(lambda x: x + lax.rem(jnp.arange(4), jnp.full(4, 7)).astype(x.dtype), [(4,)]),
        Example(lambda x: x * lax.rem(jnp.arange(4.0, dtype=jnp.float32), jnp.full(4, 4.0, jnp.float32)).astype(x.dtype), [(4,)]),
    ],
)
def remainder_decided_by_range(op: hlo.RemainderOp, b: Builder):
    """remainder(x, y) -> x   (|x| < y by the ranges, y > 0; floats: no NaN)"""
    kind = _kind(op.lhs)
    if kind is None:
        return None
    a, c = _range(op.lhs), _range(op.rhs)
    if a is None or c is None or a.nan or c.nan or a.lo > a.hi or c.lo <= 0 or not (-c.lo < a.lo and a.hi < c.lo):
        return None
    return op.lhs


@rule(example=Example(lambda x: x + (jnp.arange(4) // 9).astype(x.dtype), [(4,)]))
def divide_decided_by_range(op: hlo.DivideOp, b: Builder):
    """divide(x, y) -> 0   (integers, |x| < y by the ranges: the quotient truncates to 0)"""
    if _kind(op.lhs) not in ("i", "u"):
        return None
    a, c = _range(op.lhs), _range(op.rhs)
    if a is None or c is None or c.lo <= 0 or not (-c.lo < a.lo and a.hi < c.lo):
        return None
    return emit_splat(b, np.zeros((), foldable_dtype(op.result)), op.result.type)


@rule(example=Example(lambda x: x + (jnp.arange(4) & 7).astype(x.dtype), [(4,)]), commutative=True)
def and_decided_by_range(op: hlo.AndOp, b: Builder, x: SSAValue, y: SSAValue):
    """and(x, 2^k - 1) -> x   (integers, 0 <= x < 2^k by x's range)"""
    if _kind(x) not in ("i", "u"):
        return None
    m = _int_constant(y)
    if m is None or m < 0 or m & (m + 1):
        return None
    a = _range(x)
    if a is None or a.lo < 0 or a.hi > m:
        return None
    return x


@rule(example=Example(lambda x: x + (jnp.arange(4) | 7).astype(x.dtype), [(4,)]), commutative=True)
def or_decided_by_range(op: hlo.OrOp, b: Builder, x: SSAValue, y: SSAValue):
    """or(x, 2^k - 1) -> 2^k - 1   (integers, 0 <= x < 2^k by x's range)"""
    if _kind(x) not in ("i", "u"):
        return None
    m = _int_constant(y)
    if m is None or m < 0 or m & (m + 1) or y.type != op.result.type:
        return None
    a = _range(x)
    if a is None or a.lo < 0 or a.hi > m:
        return None
    return y


def _shift_amount_range(op) -> tuple[Range, int] | None:
    a, c = _range(op.lhs), _range(op.rhs)
    if a is None or c is None or _kind(op.lhs) not in ("i", "u"):
        return None
    return (a, c.lo) if 0 <= c.lo <= c.hi else None


@rule(example=Example(lambda x: x + lax.shift_right_logical(jnp.arange(4), jnp.full(4, 3)).astype(x.dtype), [(4,)]))
def shift_right_logical_decided_by_range(op: hlo.ShiftRightLogicalOp, b: Builder):
    """shift_right_logical(x, k) -> 0   (0 <= x < 2^k by the ranges)"""
    found = _shift_amount_range(op)
    if found is None or found[0].lo < 0 or found[0].hi >= 2 ** found[1]:
        return None
    return emit_splat(b, np.zeros((), foldable_dtype(op.result)), op.result.type)


@rule(example=Example(lambda x: x + lax.shift_right_arithmetic(jnp.arange(4) - 5, jnp.full(4, 3)).astype(x.dtype), [(4,)]))
def shift_right_arithmetic_decided_by_range(op: hlo.ShiftRightArithmeticOp, b: Builder):
    """shift_right_arithmetic(x, k) -> 0 | -1   (0 <= x < 2^k, or -2^k <= x < 0, by the ranges)"""
    found = _shift_amount_range(op)
    if found is None or _kind(op.lhs) != "i":
        return None
    a, k = found
    if 0 <= a.lo and a.hi < 2**k:
        value = 0
    elif -(2**k) <= a.lo and a.hi < 0:
        value = -1
    else:
        return None
    return emit_splat(b, np.asarray(value).astype(foldable_dtype(op.result)), op.result.type)


@rule(example=Example(lambda x: x + jnp.abs(jnp.arange(4) + 1).astype(x.dtype), [(4,)]))
def abs_decided_by_range(op: hlo.AbsOp, b: Builder):
    """abs(x) -> x   (x >= 0 by its range; floats: no NaN, no -0.0)"""
    kind = _kind(op.operand)
    if kind is None or elem(op.operand) != elem(op.result):
        return None
    a = _range(op.operand)
    if a is None or a.nan or a.negzero or a.lo < 0:
        return None
    return op.operand


@rule(example=Example(lambda x: x + jnp.sign(jnp.arange(4) + 1).astype(x.dtype), [(4,)]))
def sign_decided_by_range(op: hlo.SignOp, b: Builder):
    """sign(x) -> 1 | -1 | 0   (when x's range has one sign; floats: no NaN)"""
    kind = _kind(op.operand)
    if kind is None or elem(op.operand) != elem(op.result):
        return None
    a = _range(op.operand)
    if a is None or a.nan or a.lo > a.hi:
        return None
    if a.lo > 0:
        s = 1
    elif a.hi < 0:
        s = -1
    elif a.lo == a.hi == 0 and not a.negzero:
        s = 0
    else:
        return None
    return emit_splat(b, np.asarray(s).astype(foldable_dtype(op.result)), op.result.type)


# ============================================================================ iota masks


@dataclass(frozen=True)
class IndexForm:
    """Element [.., i_d, ..] is ``scale * i_d + offset`` (exact integers)."""

    dim: int
    scale: int
    offset: int


def index_form(v: SSAValue, depth: int = _DEPTH) -> IndexForm | None:
    """``v`` as ``scale * i_d + offset`` of the index along one dimension, or None."""
    kind = _kind(v)
    if kind is None or depth <= 0:
        return None
    if depth == _DEPTH:
        _BUDGET[0] = _VISITS
    op = v.owner
    if isinstance(op, hlo.IotaOp):
        n = shape(v)[op.iota_dimension.value.data]
        if n < 1 or bounds(v) is None:
            return None  # too long for the element type
        return IndexForm(op.iota_dimension.value.data, 1, 0)
    if isinstance(op, hlo.BroadcastInDimOp):
        inner = index_form(op.operand, depth - 1)
        if inner is None:
            return None
        d = list(op.broadcast_dimensions.get_values())[inner.dim]
        if shape(op.operand)[inner.dim] != shape(v)[d]:
            return IndexForm(d, 0, inner.offset)  # a size-1 dimension repeated: i_d is 0
        return IndexForm(d, inner.scale, inner.offset)
    if isinstance(op, hlo.TransposeOp):
        inner = index_form(op.operand, depth - 1)
        if inner is None:
            return None
        return IndexForm(list(op.permutation.get_values()).index(inner.dim), inner.scale, inner.offset)
    if isinstance(op, hlo.ConvertOp):
        if _kind(op.operand) not in ("i", "u") or bounds(v, depth) is None:
            return None  # value_range checks the conversion is exact
        return index_form(op.operand, depth - 1)
    if isinstance(op, (hlo.AddOp, hlo.SubtractOp, hlo.MultiplyOp)) and kind != "f":
        if bounds(v, depth) is None:
            return None  # may wrap
        for mine, other, sign in ((op.lhs, op.rhs, 1), (op.rhs, op.lhs, -1)):
            c = _int_constant(other)
            inner = index_form(mine, depth - 1) if c is not None else None
            if inner is None:
                continue
            if isinstance(op, hlo.AddOp):
                return IndexForm(inner.dim, inner.scale, inner.offset + c)
            if isinstance(op, hlo.MultiplyOp):
                return IndexForm(inner.dim, inner.scale * c, inner.offset * c)
            if sign == 1:  # x - c
                return IndexForm(inner.dim, inner.scale, inner.offset - c)
            return IndexForm(inner.dim, -inner.scale, c - inner.offset)  # c - x
        return None
    if isinstance(op, hlo.NegateOp) and kind != "f" and bounds(v, depth) is not None:
        inner = index_form(op.operand, depth - 1)
        return None if inner is None else IndexForm(inner.dim, -inner.scale, -inner.offset)
    return None


_PY_COMPARE = {
    "EQ": lambda p, q: p == q,
    "NE": lambda p, q: p != q,
    "LT": lambda p, q: p < q,
    "LE": lambda p, q: p <= q,
    "GT": lambda p, q: p > q,
    "GE": lambda p, q: p >= q,
}


def _compare_runs(form: IndexForm, n: int, c, direction: str, swapped: bool) -> list[tuple[int, int, bool]]:
    """The runs along the dimension of ``cmp(scale * i + offset, c)`` for i in [0, n)
    (``swapped``: ``cmp(c, scale * i + offset)``). The value is monotone in i, so an order
    comparison switches at most once (found by bisection); EQ holds at one i at most."""
    test = _PY_COMPARE[direction]

    def at(i: int) -> bool:
        x = form.scale * i + form.offset
        return bool(test(c, x) if swapped else test(x, c))

    if direction in ("EQ", "NE"):
        if form.scale == 0:
            return [(0, n, at(0))]
        hit = None
        if not isinstance(c, float) or (math.isfinite(c) and c.is_integer()):
            k, r = divmod(int(c) - form.offset, form.scale)
            if r == 0 and 0 <= k < n:
                hit = k
        inside = direction == "EQ"
        if hit is None:
            return [(0, n, not inside)]
        return [r for r in ((0, hit, not inside), (hit, hit + 1, inside), (hit + 1, n, not inside)) if r[1] > r[0]]
    first, last = at(0), at(n - 1)
    if first == last:
        return [(0, n, first)]
    lo, hi = 0, n - 1  # at(lo) == first, at(hi) != first
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if at(mid) == first:
            lo = mid
        else:
            hi = mid
    return [(0, hi, first), (hi, n, last)]


def _const_number(v: SSAValue):
    """The number a splat constant holds, as a Python int or float."""
    s = constant_splat(v)
    if s is None:
        return None
    return float(s) if s.dtype.kind == "f" or is_bfloat16(s.dtype) else int(s)


def compare_mask(op: hlo.CompareOp):
    """``(dim, runs)`` when ``op`` compares an index form with a splat constant, else None."""
    if _kind(op.lhs) is None or not _default_compare(op) or shape(op.result) != shape(op.lhs):
        return None
    direction = op.comparison_direction.data.value
    for x, c, swapped in ((op.lhs, op.rhs, False), (op.rhs, op.lhs, True)):
        if not isinstance(c.owner, (hlo.ConstantOp, hlo.BroadcastInDimOp)):
            continue
        number = _const_number(c)
        form = index_form(x) if number is not None else None
        if form is None:
            continue
        n = shape(op.result)[form.dim]
        if n == 0:
            return None
        return form.dim, _compare_runs(form, n, number, direction, swapped)
    return None


def _pieces_mask(v: SSAValue):
    """``(dim, runs)`` of an i1 value built from splats along one dimension: a concatenate
    of splat constants, or a pad of a splat constant by a constant (no interior padding)."""
    op = v.owner
    if isinstance(op, hlo.ConcatenateOp):
        d = op.dimension.value.data
        values = [constant_splat(x) for x in op.inputs]
        if any(s is None for s in values):
            return None
        runs = _merged([(shape(x)[d], bool(s)) for x, s in zip(op.inputs, values)])
        return (d, runs) if 1 < len(runs) <= 3 else None
    if isinstance(op, hlo.PadOp):
        inner, fill = constant_splat(op.operand), constant_splat(op.padding_value)
        low, high, interior = (list(a.get_values()) for a in (op.edge_padding_low, op.edge_padding_high, op.interior_padding))
        if inner is None or fill is None or any(interior) or any(x < 0 for x in low + high):
            return None
        grown = [i for i, (lo, hi) in enumerate(zip(low, high)) if lo or hi]
        if len(grown) != 1:
            return None
        d = grown[0]
        n = shape(op.operand)[d]
        pieces = [(low[d], bool(fill)), (n, bool(inner)), (high[d], bool(fill))]
        return d, _merged(pieces)
    return None


def _merged(pieces: list[tuple[int, bool]]) -> list[tuple[int, int, bool]]:
    """Runs ``(start, stop, value)`` of consecutive pieces ``(length, value)``, equal
    neighbours merged and empty pieces left out."""
    runs: list[tuple[int, int, bool]] = []
    at = 0
    for n, value in pieces:
        if n == 0:
            continue
        if runs and runs[-1][2] == value:
            runs[-1] = (runs[-1][0], at + n, value)
        else:
            runs.append((at, at + n, value))
        at += n
    return runs


def mask_runs(pred: SSAValue):
    """``(dim, runs)`` for a predicate constant along every dimension but ``dim``, with the
    runs ``(start, stop, value)`` along it: a compare of an index form with a constant, a
    concatenate or pad of splats, or a small boolean constant. Else None."""
    if shape(pred) == ():
        return None
    bc = producer(pred, hlo.BroadcastInDimOp)
    if bc is not None:  # a mask broadcast along other dimensions
        inner = mask_runs(bc.operand)
        if inner is None:
            return None
        d = list(bc.broadcast_dimensions.get_values())[inner[0]]
        return (d, inner[1]) if shape(bc.operand)[inner[0]] == shape(pred)[d] else None
    cmp = producer(pred, hlo.CompareOp)
    if cmp is not None:
        return compare_mask(cmp)
    return _pieces_mask(pred)


def _mask_value(b: Builder, type: TensorType, dim: int, runs) -> SSAValue:
    """The predicate of ``runs`` along ``dim`` as constants: one splat, or a pad of the
    last (two runs) or middle run (three) by the value of the first."""
    dims = list(type.get_shape())

    def splat(value: bool, n: int) -> SSAValue:
        part = dims.copy()
        part[dim] = n
        return emit_splat(b, np.asarray(value), TensorType(type.get_element_type(), part))

    if len(runs) == 1:
        return splat(runs[0][2], dims[dim])
    if len(runs) == 2:  # the second run padded by the first (a pad of splats is not materialised to be looked at)
        (_, k0, outer), (a1, z1, inner) = runs
    else:
        (_, k0, outer), (a1, z1, inner), (_, _, _) = runs
    low, high = [0] * len(dims), [0] * len(dims)
    low[dim], high[dim] = k0, dims[dim] - z1
    fill = emit_splat(b, np.asarray(outer), TensorType(type.get_element_type(), []))
    return b.pad(splat(inner, z1 - a1), fill, low, high)


def _used_as_select_predicate(v: SSAValue) -> bool:
    return any(isinstance(u.operation, hlo.SelectOp) and u.operation.pred is v and u.index == 0 for u in v.uses)


@rule(
    example=[
        Example(
            mlir=mlir_main(
                "\n".join([_iota(_I64x8), mlir_constant("c", "3", _I64x8), _compare("p", "i", "c", "LT", _I64x8, _B8), f"  func.return %p : {_B8}"]),
                "",
                _B8,
            )
        ),
        Example(
            mlir=mlir_main(
                "\n".join([_iota("tensor<2x8xi64>", 1), mlir_constant("c", "5", "tensor<2x8xi64>"), _compare("p", "i", "c", "NE", "tensor<2x8xi64>", "tensor<2x8xi1>"), "  func.return %p : tensor<2x8xi1>"]),
                "",
                "tensor<2x8xi1>",
            )
        ),
    ],
    needs=CONSTANT,
)
def compare_iota_constant(op: hlo.CompareOp, b: Builder):
    """compare(a * iota + b, c) -> pad(splat p, !p)   (the mask along the iota's dimension: two or three runs; a select under it takes slices instead)"""
    if _used_as_select_predicate(op.result):
        return None  # select_iota_mask_slices uses the comparison itself
    found = compare_mask(op)
    if found is None:
        return None
    dim, runs = found
    if len(runs) == 1:
        return None  # decided: compare_decided_by_range
    return _mask_value(b, op.result.type, dim, runs)


def _slice_along(b: Builder, x: SSAValue, dim: int, start: int, stop: int) -> SSAValue:
    dims = list(shape(x))
    lo, hi = [0] * len(dims), dims.copy()
    lo[dim], hi[dim] = start, stop
    return b.slice(x, lo, hi)


@rule(
    example=[
        _iota_compare_example("LT", "5"),
        _iota_compare_example("GE", "3"),
        _iota_compare_example("EQ", "2"),
        _iota_compare_example("NE", "6"),
        Example(lambda x, y: jnp.where(jnp.arange(6)[None, :] * 2 + 1 > 6, x, y), [(3, 6), (3, 6)]),
    ],
    needs={0: (hlo.CompareOp, hlo.ConcatenateOp, hlo.PadOp, hlo.BroadcastInDimOp)},
)
def select_iota_mask_slices(op: hlo.SelectOp, b: Builder):
    """select(mask along dim d, x, y) -> concatenate(slices of x and y along d)   (mask: a * iota + b compared with a constant, or splats concatenated or padded along d, possibly broadcast; two or three runs)"""
    if shape(op.pred) != shape(op.result):
        return None
    found = mask_runs(op.pred)
    if found is None:
        return None
    dim, runs = found
    if len(runs) < 2:
        return None
    return b.concatenate([_slice_along(b, op.on_true if value else op.on_false, dim, a, z) for a, z, value in runs], dim)


# ============================================================================ comparisons with a constant, moved inwards


def _compare_with(b: Builder, op: hlo.CompareOp, x: SSAValue, value, direction: str) -> SSAValue:
    """compare(x, splat value, direction) with ``op``'s result type and the comparison
    type of ``x``'s element type."""
    c = emit_splat(b, np.asarray(value).astype(foldable_dtype(x)), x.type)
    kind = {"f": "FLOAT", "i": "SIGNED", "u": "UNSIGNED"}[_kind(x)]
    return b.compare(x, c, direction, kind)


def _constant_side(op: hlo.CompareOp):
    """``(x, c, direction)`` with c the splat constant operand of ``op`` (as a Python
    number) and the direction read as ``compare(x, c)``, else None."""
    direction = op.comparison_direction.data.value
    for x, c, swapped in ((op.lhs, op.rhs, False), (op.rhs, op.lhs, True)):
        number = _const_number(c) if isinstance(c.owner, (hlo.ConstantOp, hlo.BroadcastInDimOp)) else None
        if number is not None:
            return x, number, _SWAPPED[direction] if swapped else direction
    return None


_SWAPPED = {"EQ": "EQ", "NE": "NE", "LT": "GT", "GT": "LT", "LE": "GE", "GE": "LE"}


def _integer_compare(direction: str, c: float) -> tuple[str, int] | bool:
    """An integer x compared with a number c: the same comparison with an integer
    constant, or the outcome (True / False) when it is the same for every integer."""
    if isinstance(c, int) or c.is_integer():
        return direction, int(c)
    if math.isnan(c):
        return direction == "NE"
    if math.isinf(c):
        return direction in (("LT", "LE", "NE") if c > 0 else ("GT", "GE", "NE"))
    if direction in ("EQ", "NE"):
        return direction == "NE"
    if direction in ("LT", "LE"):
        return "LE", math.floor(c)
    return "GE", math.ceil(c)


def _inner_compare(b: Builder, op: hlo.CompareOp, x: SSAValue, direction: str, c) -> SSAValue | None:
    """compare(x, c) for an integer x (c any number): a comparison with a constant of x's
    type, or a splat of its outcome; None when c is outside x's type (range decides it)."""
    got = _integer_compare(direction, c)
    if isinstance(got, bool):
        return emit_splat(b, np.asarray(got), op.result.type)
    direction, k = got
    if not _fits(x, k, k):
        return None
    return _compare_with(b, op, x, k, direction)


@rule(
    example=[
        Example(
            mlir=mlir_main(
                mlir_constant("c", "0.0", "tensor<4xf64>")
                + '\n  %f = "stablehlo.convert"(%x) : (tensor<4xi64>) -> tensor<4xf64>'
                + "\n"
                + _compare("p", "c", "f", "LT", "tensor<4xf64>", "tensor<4xi1>")
                + "\n  func.return %p : tensor<4xi1>",
                "%x: tensor<4xi64>",
                "tensor<4xi1>",
            )
        ),
        Example(lambda x: jnp.where(x.astype(jnp.int64) >= 2, 1.0, 0.0), [(4,)], dtypes=["int32"]),
        Example(lambda x: jnp.where(x.astype(jnp.float64) < 1.5, 1.0, 0.0), [(4,)], dtypes=["int32"]),
    ],
    needs={0: (hlo.ConvertOp, *CONSTANT), 1: (hlo.ConvertOp, *CONSTANT)},
)
def compare_convert_constant(op: hlo.CompareOp, b: Builder):
    """compare(convert(x), c) -> compare(x, c')   (integer x converted exactly in order: to a wider integer, or to a float where |c| < 2^mantissa; c' rounded to an integer, or the outcome)"""
    if not _default_compare(op):
        return None
    found = _constant_side(op)
    if found is None:
        return None
    y, c, direction = found
    cv = producer(y, hlo.ConvertOp)
    if cv is None or _kind(cv.operand) not in ("i", "u") or shape(cv.operand) != shape(op.result):
        return None
    x = cv.operand
    if _kind(y) == "f":
        # int -> float rounds monotonically, and exactly near c when |c| < 2^mantissa: the
        # order of x and c is that of float(x) and c (NaN and infinities decide alone)
        if math.isfinite(c) and not abs(c) < _exact_float_limit(y):
            return None
    elif bounds(y) is None:
        return None  # an integer conversion that may wrap
    return _inner_compare(b, op, x, direction, c)


@rule(
    example=[
        Example(lambda x: jnp.where(-x > 1.5, x, 2.0 * x), [(4,)]),
        Example(
            mlir=mlir_main(
                "\n".join([_iota(_I64x8), '  %n = "stablehlo.negate"(%i) : (tensor<8xi64>) -> tensor<8xi64>', mlir_constant("c", "-5", _I64x8), _compare("p", "n", "c", "GE", _I64x8, _B8), _select("r", "p", "x", "y", _B8, _I64x8), f"  func.return %r : {_I64x8}"]),
                f"%x: {_I64x8}, %y: {_I64x8}",
                _I64x8,
            )
        ),
    ],
    needs=hlo.NegateOp,
)
def compare_negate_constant(op: hlo.CompareOp, b: Builder):
    """compare(negate(x), c) -> compare(x, -c, swapped)   (floats; integers when x's range keeps -x from wrapping)"""
    if not _default_compare(op):
        return None
    found = _constant_side(op)
    if found is None:
        return None
    y, c, direction = found
    neg = producer(y, hlo.NegateOp)
    if neg is None or _kind(y) is None:
        return None
    if _kind(y) != "f" and (bounds(y) is None or not _fits(y, -c, -c)):
        return None
    return _compare_with(b, op, neg.operand, -c, _SWAPPED[direction])


@rule(
    example=[
        Example(
            mlir=mlir_main(
                "\n".join([_iota(_I64x8), mlir_constant("k", "3", _I64x8), '  %a = "stablehlo.add"(%i, %k) : (tensor<8xi64>, tensor<8xi64>) -> tensor<8xi64>', mlir_constant("c", "6", _I64x8), _compare("p", "a", "c", "LT", _I64x8, _B8), _select("r", "p", "x", "y", _B8, _I64x8), f"  func.return %r : {_I64x8}"]),
                f"%x: {_I64x8}, %y: {_I64x8}",
                _I64x8,
            )
        ),
        Example(lambda x: jnp.where(x.astype(jnp.int64) - 2 <= 1, 1.0, 0.0), [(4,)], dtypes=["int32"]),
    ],
    needs=(hlo.AddOp, hlo.SubtractOp),
)
def compare_add_constant(op: hlo.CompareOp, b: Builder):
    """compare(x + k, c) -> compare(x, c - k) ;  compare(x - k, c) -> compare(x, c + k)   (integers whose ranges keep the sum from wrapping)"""
    if not _default_compare(op) or _kind(op.lhs) not in ("i", "u"):
        return None
    found = _constant_side(op)
    if found is None:
        return None
    y, c, direction = found
    inner = producer(y, (hlo.AddOp, hlo.SubtractOp))
    if inner is None or bounds(y) is None:
        return None
    for x, k_value, sign in ((inner.lhs, inner.rhs, 1), (inner.rhs, inner.lhs, 1)):
        if isinstance(inner, hlo.SubtractOp) and x is inner.rhs:
            break  # k - x: not this form
        k = _int_constant(k_value)
        if k is None:
            continue
        shifted = c - k if isinstance(inner, hlo.AddOp) else c + k
        if not _fits(x, shifted, shifted):
            return None
        return _compare_with(b, op, x, shifted, direction)
    return None


# ============================================================================ selects with swapped branches
# (add and multiply: here rather than in compare_select, which a module of adds and
# multiplies then need not import)


@rule(
    example=[
        Example(lambda p, a, b: (lambda q: jnp.where(q, a, b) + jnp.where(q, b, a))(p > 0), [(4,)] * 3),
        Example(lambda p, a, b: (lambda q: jnp.where(q, a, b) * jnp.where(q, b, a))(p > 0), [(4,)] * 3),
    ],
    roots=[hlo.AddOp, hlo.MultiplyOp],
    needs={0: hlo.SelectOp, 1: hlo.SelectOp},
)
def add_multiply_swapped_selects(op, b: Builder):
    """f(select(p, a, b), select(p, b, a)) -> f(a, b)   (f add or multiply: commutative, so each element is a + b either way)"""
    from .compare_select import swapped_selects

    return swapped_selects(op, b)
