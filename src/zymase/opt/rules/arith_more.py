"""More arithmetic and bit identities: a maximum and a minimum of the same pair combined by
a commutative op, two's complement identities of not (x + ~x = -1, ~x + 1 = -x,
-1 - x = ~x), magnitudes spelled with a maximum or a select, bit identities of and, or and
xor of one pair, comparisons of a maximum or minimum with its own operand.

Exact for every value unless a rule says otherwise: maximum and minimum order -0.0 below
+0.0 and propagate NaN, so {maximum(x, y), minimum(x, y)} is {x, y}; integer identities
hold bit by bit in two's complement, wrapping included.
"""

from __future__ import annotations

from xdsl.dialects.builtin import IntegerType, Signedness
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.attributes import ComparisonType
from ...ir.builder import Builder, elem
from ...ir.dense import element_dtype
from ...ir.query import shape
from ..lazy_jax import jnp
from ..pattern import CONSTANT, Example, producer, rule
from .common import all_ones, constant_splat, emit_splat

I32 = ["int32"]
I32_2 = ["int32", "int32"]


def _kind(v: SSAValue) -> str:
    """numpy kind of ``v``'s elements: 'f', 'i', 'u', 'b', 'c', or '' when unknown."""
    import numpy as np
    try:
        return np.dtype(element_dtype(elem(v))).kind
    except (TypeError, ValueError, KeyError):
        return ""


def _integer(v: SSAValue) -> bool:
    t = elem(v)
    return isinstance(t, IntegerType) and t.width.data > 1 and _kind(v) in "iu"


def _plain_compare(c, kind: str) -> bool:
    """``c`` compares integers of numpy kind ``kind`` in their own order (no compare_type, or
    SIGNED for 'i' and UNSIGNED for 'u')."""
    if c is None or c.compare_type is None or c.compare_type.data == ComparisonType.NOTYPE:
        return c is not None
    return c.compare_type.data == {"i": ComparisonType.SIGNED, "u": ComparisonType.UNSIGNED}.get(kind)


def _pair(p, q) -> bool:
    return p is not None and q is not None and {id(p.lhs), id(p.rhs)} == {id(q.lhs), id(q.rhs)}


def _max_min(x: SSAValue, y: SSAValue):
    p, q = producer(x, hlo.MaximumOp), producer(y, hlo.MinimumOp)
    return (p, q) if _pair(p, q) else None


@rule(
    example=[
        Example(lambda x, y: jnp.maximum(x, y) + jnp.minimum(x, y), [(4,)] * 2),
        Example(lambda x, y: jnp.minimum(y, x) + jnp.maximum(x, y), [(4,)] * 2, dtypes=I32_2),
    ],
    commutative=True,
    needs=hlo.MaximumOp,
)
def add_maximum_minimum(op: hlo.AddOp, b: Builder, x: SSAValue, y: SSAValue):
    """add(maximum(a, c), minimum(a, c)) -> add(a, c)   (real numbers: the two are a and c in some order; NaN stays NaN)"""
    if _kind(op.result) not in "fiu":
        return None
    m = _max_min(x, y)
    if m is None:
        return None
    return b.add(m[0].lhs, m[0].rhs)


@rule(
    example=[
        Example(lambda x, y: jnp.maximum(x, y) * jnp.minimum(x, y), [(4,)] * 2),
        Example(lambda x, y: jnp.minimum(y, x) * jnp.maximum(x, y), [(4,)] * 2, dtypes=I32_2),
    ],
    commutative=True,
    needs=hlo.MaximumOp,
)
def multiply_maximum_minimum(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(maximum(a, c), minimum(a, c)) -> multiply(a, c)   (real numbers: the two are a and c in some order; NaN stays NaN)"""
    if _kind(op.result) not in "fiu":
        return None
    m = _max_min(x, y)
    if m is None:
        return None
    return b.mul(m[0].lhs, m[0].rhs)


@rule(
    example=[Example(lambda x: x + ~x, [(4,)], dtypes=I32), Example(lambda x: ~x + x, [(4,)], dtypes=I32)],
    commutative=True,
    needs=hlo.NotOp,
)
def add_not_self_integer(op: hlo.AddOp, b: Builder, x: SSAValue, y: SSAValue):
    """add(x, not(x)) -> -1   (integers: x + ~x has every bit set)"""
    import numpy as np
    n = producer(y, hlo.NotOp)
    if n is None or n.operand is not x or not _integer(op.result) or any(d < 0 for d in shape(op.result)):
        return None
    dt = np.dtype(element_dtype(elem(op.result)))
    return emit_splat(b, np.asarray(np.iinfo(dt).max if dt.kind == "u" else -1, dtype=dt), op.result.type)


@rule(
    example=[Example(lambda x: ~x + 1, [(4,)], dtypes=I32), Example(lambda x: 1 + ~x, [(4,)], dtypes=I32)],
    commutative=True,
    needs=hlo.NotOp,
)
def add_not_one_integer(op: hlo.AddOp, b: Builder, x: SSAValue, y: SSAValue):
    """add(not(x), 1) -> negate(x)   (integers: two's complement negation)"""
    n = producer(x, hlo.NotOp)
    c = constant_splat(y)
    if n is None or c is None or not _integer(op.result) or int(c) != 1:
        return None
    return b.neg(n.operand)


@rule(example=Example(lambda x: -1 - x, [(4,)], dtypes=I32))
def subtract_from_minus_one_integer(op: hlo.SubtractOp, b: Builder):
    """subtract(-1, x) -> not(x)   (integers: every bit of the constant set)"""
    if not _integer(op.result) or not all_ones(op.lhs):
        return None
    return b.insert(hlo.NotOp(op.rhs)).results[0]


@rule(
    example=[
        Example(lambda x: jnp.maximum(x, -x), [(4,)], dtypes=I32),
        Example(lambda x: jnp.maximum(-x, x), [(4,)], dtypes=I32),
    ],
    commutative=True,
    needs=hlo.NegateOp,
)
def maximum_negate_self(op: hlo.MaximumOp, b: Builder, x: SSAValue, y: SSAValue):
    """maximum(x, negate(x)) -> abs(x)   (signed integers: abs(INT_MIN) = INT_MIN = maximum. Not floats: at x = 0 the maximum's derivative is 0, abs's 1)"""
    n = producer(y, hlo.NegateOp)
    if n is None or n.operand is not x or _kind(op.result) != "i":
        return None  # unsigned: negate wraps to 2^n - x, and abs is not defined
    return b.abs(x)


def _select_abs(op: hlo.SelectOp):
    """The x of ``select(x >= 0, x, -x)`` and its mirrored spellings, else None."""
    c = producer(op.pred, hlo.CompareOp)
    if c is None or shape(c.lhs) != shape(op.result):
        return None
    z = constant_splat(c.rhs)
    if z is None or z.dtype.kind not in "iu" or int(z) != 0:
        return None
    x = c.lhs
    d = c.comparison_direction.data.value
    t, f = op.on_true, op.on_false
    nt, nf = producer(t, hlo.NegateOp), producer(f, hlo.NegateOp)
    if d in ("GE", "GT") and t is x and nf is not None and nf.operand is x:
        return x
    if d in ("LT", "LE") and f is x and nt is not None and nt.operand is x:
        return x
    return None


@rule(
    example=[
        Example(lambda x: jnp.where(x >= 0, x, -x), [(4,)], dtypes=I32),
        Example(lambda x: jnp.where(x < 0, -x, x), [(4,)], dtypes=I32),
    ],
    needs={0: hlo.CompareOp},
)
def select_compare_abs_integer(op: hlo.SelectOp, b: Builder):
    """select(x >= 0, x, negate(x)) -> abs(x) ;  select(x < 0, negate(x), x) -> abs(x)   (signed integers, signed comparison; GT, LE alike: at 0 both branches agree)"""
    x = _select_abs(op)
    if x is None or not _integer(x) or _kind(x) != "i" or not _plain_compare(producer(op.pred, hlo.CompareOp), "i"):
        return None
    return b.abs(x)


@rule(
    example=Example(lambda x: jnp.where(x >= 0, x, -x), [(4,)]),
    needs={0: hlo.CompareOp},
    unsafe=True,
)
def select_compare_abs(op: hlo.SelectOp, b: Builder):
    """select(x >= 0, x, negate(x)) -> abs(x) ;  select(x < 0, negate(x), x) -> abs(x)   (floats: not for NaN or -0.0, whose sign the select keeps)"""
    c = producer(op.pred, hlo.CompareOp)
    if c is None or _kind(c.lhs) != "f":
        return None
    z = constant_splat(c.rhs)
    if z is None or z.dtype.kind != "f" or float(z) != 0.0:
        return None
    x = c.lhs
    d = c.comparison_direction.data.value
    t, f = op.on_true, op.on_false
    nt, nf = producer(t, hlo.NegateOp), producer(f, hlo.NegateOp)
    if d in ("GE", "GT") and t is x and nf is not None and nf.operand is x:
        return b.abs(x)
    if d in ("LT", "LE") and f is x and nt is not None and nt.operand is x:
        return b.abs(x)
    return None


def _and_or(x: SSAValue, y: SSAValue, other: type):
    p, q = producer(x, hlo.AndOp), producer(y, other)
    return q if _pair(p, q) else None


@rule(
    example=[Example(lambda x, y: (x & y) ^ (x | y), [(4,)] * 2, dtypes=I32_2), Example(lambda x, y: (y | x) ^ (x & y), [(4,)] * 2, dtypes=I32_2)],
    commutative=True,
    needs=hlo.AndOp,
)
def xor_and_or_same_pair(op: hlo.XorOp, b: Builder, x: SSAValue, y: SSAValue):
    """xor(and(a, c), or(a, c)) -> xor(a, c)   (integers, booleans: bit by bit)"""
    q = _and_or(x, y, hlo.OrOp)
    if q is None:
        return None
    return b.insert(hlo.XorOp(q.lhs, q.rhs)).results[0]


@rule(
    example=[Example(lambda x, y: (x & y) | (x ^ y), [(4,)] * 2, dtypes=I32_2), Example(lambda x, y: (y ^ x) | (x & y), [(4,)] * 2, dtypes=I32_2)],
    commutative=True,
    needs=hlo.AndOp,
)
def or_and_xor_same_pair(op: hlo.OrOp, b: Builder, x: SSAValue, y: SSAValue):
    """or(and(a, c), xor(a, c)) -> or(a, c)   (integers, booleans: bit by bit)"""
    q = _and_or(x, y, hlo.XorOp)
    if q is None:
        return None
    return b.insert(hlo.OrOp(q.lhs, q.rhs)).results[0]


@rule(
    example=Example(lambda x, y: (x | y) - (x & y), [(4,)] * 2, dtypes=I32_2),
    needs={0: hlo.OrOp, 1: hlo.AndOp},
)
def subtract_or_and_integer(op: hlo.SubtractOp, b: Builder):
    """subtract(or(a, c), and(a, c)) -> xor(a, c)   (integers: a | c is a ^ c plus the common bits, without carries)"""
    p, q = producer(op.lhs, hlo.OrOp), producer(op.rhs, hlo.AndOp)
    if not _pair(p, q) or not _integer(op.result):
        return None
    return b.insert(hlo.XorOp(p.lhs, p.rhs)).results[0]


@rule(
    example=Example(lambda x, y: (x + y) - (y + x) + x, [(4,)] * 2, dtypes=I32_2),
    needs={0: hlo.AddOp},
)
def subtract_add_self_integer(op: hlo.SubtractOp, b: Builder):
    """subtract(add(a, c), add(a, c)') -> 0   (integers: the same sum spelled in either operand order)"""
    p, q = producer(op.lhs, hlo.AddOp), producer(op.rhs, hlo.AddOp)
    if p is None or q is None or p is q or not _pair(p, q) or not _integer(op.result) or any(d < 0 for d in shape(op.result)):
        return None
    return b.zeros(op.result.type)


_COMPARE_EXAMPLE = """
func.func @main(%x: tensor<4xi32>, %y: tensor<4xi32>) -> tensor<4xi1> {
  %m = stablehlo.%K %x, %y : tensor<4xi32>
  %c = stablehlo.compare %D, %m, %x, SIGNED : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi1>
  func.return %c : tensor<4xi1>
}"""


@rule(
    example=[
        Example(mlir=_COMPARE_EXAMPLE.replace("%K", "maximum").replace("%D", "GE")),
        Example(mlir=_COMPARE_EXAMPLE.replace("%K", "minimum").replace("%D", "GT")),
    ],
    needs={0: (hlo.MaximumOp, hlo.MinimumOp)},
)
def compare_maximum_minimum_operand_integer(op: hlo.CompareOp, b: Builder):
    """compare(maximum(x, y), x, GE) -> true ;  compare(minimum(x, y), x, GT) -> false ; ...   (integers; LE, LT alike; x either operand)"""
    if not _integer(op.lhs) or any(d < 0 for d in shape(op.result)) or not _plain_compare(op, _kind(op.lhs)):
        return None
    d = op.comparison_direction.data.value
    mx, mn = producer(op.lhs, hlo.MaximumOp), producer(op.lhs, hlo.MinimumOp)
    m = mx or mn
    if m is None or op.rhs not in (m.lhs, m.rhs):
        return None
    outcome = {
        (True, "GE"): True,
        (True, "LT"): False,
        (False, "LE"): True,
        (False, "GT"): False,
    }.get((mx is not None, d))
    if outcome is None:
        return None
    return b.constant(outcome, op.result.type)


def _is_bool(v: SSAValue) -> bool:
    t = elem(v)
    return isinstance(t, IntegerType) and t.width.data == 1


@rule(
    example=[
        Example(
            mlir="""
func.func @main(%x: tensor<4xf64>) -> tensor<4xi1> {
  %z = stablehlo.constant dense<0.0> : tensor<4xf64>
  %p = stablehlo.compare GT, %x, %z : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>
  %t = stablehlo.constant dense<true> : tensor<4xi1>
  %c = stablehlo.compare EQ, %p, %t : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  func.return %c : tensor<4xi1>
}"""
        ),
        Example(
            mlir="""
func.func @main(%x: tensor<4xf64>) -> tensor<4xi1> {
  %z = stablehlo.constant dense<0.0> : tensor<4xf64>
  %p = stablehlo.compare GT, %x, %z : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>
  %t = stablehlo.constant dense<true> : tensor<4xi1>
  %c = stablehlo.compare NE, %p, %t : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  func.return %c : tensor<4xi1>
}"""
        ),
    ],
    needs={1: CONSTANT},
)
def compare_boolean_constant(op: hlo.CompareOp, b: Builder):
    """compare(p, true, EQ) -> p ;  compare(p, false, EQ) -> not(p) ;  NE the other way   (p boolean)"""
    if not _is_bool(op.lhs):
        return None
    c = constant_splat(op.rhs)
    d = op.comparison_direction.data.value
    if c is None or d not in ("EQ", "NE"):
        return None
    keep = bool(c) == (d == "EQ")
    return op.lhs if keep else b.insert(hlo.NotOp(op.lhs)).results[0]


_ROUNDINGS = (hlo.FloorOp, hlo.CeilOp, hlo.RoundNearestEvenOp, hlo.RoundNearestAfzOp)


@rule(
    example=[Example(lambda x: jnp.isfinite(jnp.floor(x)), [(4,)]), Example(lambda x: jnp.isfinite(jnp.round(x)), [(4,)])],
    needs={0: _ROUNDINGS},
)
def is_finite_of_rounding(op: hlo.IsFiniteOp, b: Builder):
    """is_finite(floor(x)) -> is_finite(x)   (ceil, round_nearest_even, round_nearest_afz alike: rounding keeps finite values finite, inf and NaN as they are)"""
    r = producer(op.operand, _ROUNDINGS)
    if r is None:
        return None
    return b.insert(hlo.IsFiniteOp(r.operand, op.result.type)).results[0]


@rule(
    example=[
        Example(lambda x: jnp.maximum(x, jnp.int32(2**31 - 1)), [(4,)], dtypes=I32),
        Example(lambda x: jnp.minimum(jnp.int32(-(2**31)), x), [(4,)], dtypes=I32),
    ],
    roots=[hlo.MaximumOp, hlo.MinimumOp],
    commutative=True,
    needs=CONSTANT,
)
def max_min_absorbing_bound_integer(op, b: Builder, x: SSAValue, y: SSAValue):
    """maximum(x, MAX) -> MAX ;  minimum(x, MIN) -> MIN   (integers: the type's greatest and least values; 0 is MIN for unsigned)"""
    import numpy as np
    if not _integer(op.result) or any(d < 0 for d in shape(op.result)) or y.type != op.result.type:
        return None
    c = constant_splat(y)
    if c is None or c.dtype.kind not in "iu":
        return None
    info = np.iinfo(c.dtype)
    bound = info.max if isinstance(op, hlo.MaximumOp) else info.min
    if int(c) != bound:
        return None
    return y


_UNSIGNED_EXAMPLE = """
func.func @main(%x: tensor<4xui32>) -> tensor<4xi1> {
  %z = stablehlo.constant dense<0> : tensor<4xui32>
  %c = stablehlo.compare %D, %A, %B, UNSIGNED : (tensor<4xui32>, tensor<4xui32>) -> tensor<4xi1>
  func.return %c : tensor<4xi1>
}"""


@rule(
    example=[
        Example(mlir=_UNSIGNED_EXAMPLE.replace("%D", "GE").replace("%A", "%x").replace("%B", "%z")),
        Example(mlir=_UNSIGNED_EXAMPLE.replace("%D", "GT").replace("%A", "%z").replace("%B", "%x")),
    ],
)
def compare_unsigned_zero(op: hlo.CompareOp, b: Builder):
    """compare(u, 0, GE) -> true ;  compare(u, 0, LT) -> false ;  compare(0, u, LE) -> true ;  compare(0, u, GT) -> false   (u unsigned)"""
    t = elem(op.lhs)
    if not isinstance(t, IntegerType) or t.signedness.data != Signedness.UNSIGNED or any(d < 0 for d in shape(op.result)):
        return None
    if op.compare_type is not None and op.compare_type.data not in (ComparisonType.NOTYPE, ComparisonType.UNSIGNED):
        return None
    d = op.comparison_direction.data.value
    lhs_zero, rhs_zero = constant_splat(op.lhs), constant_splat(op.rhs)
    outcome = None
    if rhs_zero is not None and int(rhs_zero) == 0:
        outcome = {"GE": True, "LT": False}.get(d)
    if outcome is None and lhs_zero is not None and int(lhs_zero) == 0:
        outcome = {"LE": True, "GT": False}.get(d)
    if outcome is None:
        return None
    return b.constant(outcome, op.result.type)


_BOOL_SELECT = """
func.func @main(%x: tensor<4xf64>, %y: tensor<4xf64>) -> tensor<4xi1> {
  %z = stablehlo.constant dense<0.0> : tensor<4xf64>
  %p = stablehlo.compare GT, %x, %z : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>
  %q = stablehlo.compare LT, %y, %z : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>
  %n = stablehlo.not %q : tensor<4xi1>
  %s = stablehlo.select %p, %A, %B : tensor<4xi1>, tensor<4xi1>
  func.return %s : tensor<4xi1>
}"""


@rule(example=Example(mlir=_BOOL_SELECT.replace("%A", "%n").replace("%B", "%q")), needs={1: hlo.NotOp})
def select_not_branches_boolean(op: hlo.SelectOp, b: Builder):
    """select(p, not(q), q) -> xor(p, q)   (booleans)"""
    n = producer(op.on_true, hlo.NotOp)
    if n is None or n.operand is not op.on_false or not _is_bool(op.result) or op.pred.type != op.result.type:
        return None
    return b.insert(hlo.XorOp(op.pred, op.on_false)).results[0]


@rule(
    example=[
        Example(mlir=_BOOL_SELECT.replace("%A", "%q").replace("%B", "%p")),
        Example(mlir=_BOOL_SELECT.replace("%A", "%p").replace("%B", "%q")),
    ]
)
def select_predicate_branch_boolean(op: hlo.SelectOp, b: Builder):
    """select(p, q, p) -> and(p, q) ;  select(p, p, q) -> or(p, q)   (booleans)"""
    if not _is_bool(op.result) or op.pred.type != op.result.type:
        return None
    if op.on_false is op.pred and op.on_true is not op.pred:
        return b.insert(hlo.AndOp(op.pred, op.on_true)).results[0]
    if op.on_true is op.pred and op.on_false is not op.pred:
        return b.insert(hlo.OrOp(op.pred, op.on_false)).results[0]
    return None
