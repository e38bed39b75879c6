"""Identities of comparisons, selections, logic and max/min.

Float comparisons are IEEE comparisons: a NaN operand makes every direction false except
NE, so a direction is read as a set of outcomes among {lt, eq, gt, unordered} (integers
have no unordered outcome) and rules that combine or negate comparisons are exact exactly
when the resulting set is again a direction. Comparisons with ``compare_type`` TOTALORDER
are left alone. StableHLO maximum/minimum propagate NaN and order -0.0 below +0.0; rules
exact only up to NaN are marked unsafe.
"""

from __future__ import annotations

from ..lazy_jax import jnp
from ..lazy_jax import lax
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.attributes import ComparisonDirection, ComparisonDirectionAttr, ComparisonType
from ...ir.builder import Builder, elem
from ...ir.dense import element_dtype, is_float_type
from ..pattern import CONSTANT, UNARY_ELEMENTWISE, Example, producer, rule, shape
from .common import all_ones, constant_splat, emit_splat, foldable_dtype, i32_binary_examples, integer_zero, is_constant, is_integer, mlir_constant, mlir_i32, mlir_main

I32 = ["int32", "int32"]


def _kind(v: SSAValue) -> str | None:
    """'f' for floats, 'i'/'u' for signed/unsigned integers, 'b' for i1, else None."""
    if is_float_type(v.type):
        return "f"
    try:
        dt = element_dtype(v.type.get_element_type())
    except (TypeError, AttributeError):
        return None
    return dt.kind if dt.kind in "iub" else None


def _direction(op: hlo.CompareOp) -> str:
    return op.comparison_direction.data.value


def _plain(op: hlo.CompareOp) -> bool:
    """Not a TOTALORDER comparison (whose NaN and -0.0 ordering differs)."""
    return op.compare_type is None or op.compare_type.data != ComparisonType.TOTALORDER


def _compare_like(b: Builder, op: hlo.CompareOp, lhs: SSAValue, rhs: SSAValue, direction: str) -> SSAValue:
    """A compare of ``lhs``, ``rhs`` with ``op``'s compare_type and the given direction."""
    new = hlo.CompareOp.create(
        operands=[lhs, rhs],
        result_types=[op.result.type],
        properties={
            "comparison_direction": ComparisonDirectionAttr(ComparisonDirection(direction)),
            **({"compare_type": op.compare_type} if op.compare_type is not None else {}),
        },
    )
    return b.insert(new).results[0]


_SWAPPED = {"EQ": "EQ", "NE": "NE", "LT": "GT", "GT": "LT", "LE": "GE", "GE": "LE"}
_OUTCOMES = {
    "EQ": frozenset({"eq"}),
    "NE": frozenset({"lt", "gt", "un"}),
    "LT": frozenset({"lt"}),
    "LE": frozenset({"lt", "eq"}),
    "GT": frozenset({"gt"}),
    "GE": frozenset({"gt", "eq"}),
}


def _outcomes(direction: str, is_float: bool) -> frozenset[str]:
    s = _OUTCOMES[direction]
    return s if is_float else s - {"un"}


def _direction_of(outcomes: frozenset[str], is_float: bool) -> str | None:
    for d in _OUTCOMES:
        if _outcomes(d, is_float) == outcomes:
            return d
    return None


def _true_false(b: Builder, like: SSAValue, value: bool) -> SSAValue:
    import numpy as np

    dt = element_dtype(like.type.get_element_type())
    fill = -1 if value and dt.kind == "i" else (np.iinfo(dt).max if value and dt.kind == "u" else int(value))
    return b.full_like(like, fill)


# ============================================================================ nested selects


@rule(example=Example(lambda p, a, b, c: (lambda q: jnp.where(q, jnp.where(q, a, b), c))(p > 0), [(4,)] * 4), needs={1: hlo.SelectOp})
def select_select_same_pred_true(op: hlo.SelectOp, b: Builder):
    """select(p, select(p, a, b), c) -> select(p, a, c)"""
    inner = producer(op.on_true, hlo.SelectOp)
    if inner is None or inner.pred is not op.pred:
        return None
    return b.select(op.pred, inner.on_true, op.on_false)


@rule(example=Example(lambda p, a, b, c: (lambda q: jnp.where(q, a, jnp.where(q, b, c)))(p > 0), [(4,)] * 4), needs={2: hlo.SelectOp})
def select_select_same_pred_false(op: hlo.SelectOp, b: Builder):
    """select(p, a, select(p, b, c)) -> select(p, a, c)"""
    inner = producer(op.on_false, hlo.SelectOp)
    if inner is None or inner.pred is not op.pred:
        return None
    return b.select(op.pred, op.on_true, inner.on_false)


def _other_pred_select(op: hlo.SelectOp, branch: SSAValue) -> hlo.SelectOp | None:
    """The select defining ``branch`` of ``op`` when its predicate is another value of the
    type of op's."""
    inner = producer(branch, hlo.SelectOp)
    if inner is None or inner.pred is op.pred or inner.pred.type != op.pred.type:
        return None
    return inner


@rule(example=Example(lambda p, q, a, b: jnp.where(p > 0, jnp.where(q > 0, a, b), b), [(4,)] * 4), needs={1: hlo.SelectOp})
def select_select_shared_false(op: hlo.SelectOp, b: Builder):
    """select(p, select(q, a, c), c) -> select(and(p, q), a, c)   (p, q of one shape)"""
    inner = _other_pred_select(op, op.on_true)
    if inner is None or inner.on_false is not op.on_false:
        return None
    return b.select(b.insert(hlo.AndOp(op.pred, inner.pred)).results[0], inner.on_true, op.on_false)


@rule(example=Example(lambda p, q, a, b: jnp.where(p > 0, a, jnp.where(q > 0, a, b)), [(4,)] * 4), needs={2: hlo.SelectOp})
def select_select_shared_true(op: hlo.SelectOp, b: Builder):
    """select(p, a, select(q, a, c)) -> select(or(p, q), a, c)   (p, q of one shape)"""
    inner = _other_pred_select(op, op.on_false)
    if inner is None or inner.on_true is not op.on_true:
        return None
    return b.select(b.insert(hlo.OrOp(op.pred, inner.pred)).results[0], op.on_true, inner.on_false)


@rule(example=Example(lambda x, y: jnp.where(~(x > y), x, 2 * y), [(4,), (4,)]), needs={0: hlo.NotOp})
def select_not_predicate(op: hlo.SelectOp, b: Builder):
    """select(not(p), x, y) -> select(p, y, x)"""
    inner = producer(op.pred, hlo.NotOp)
    if inner is None:
        return None
    return b.select(inner.operand, op.on_false, op.on_true)


@rule(example=Example(lambda x, y: jnp.where(jnp.where(x > y, True, False), x, y), [(4,), (4,)]), needs={1: CONSTANT, 2: CONSTANT})
def select_true_false(op: hlo.SelectOp, b: Builder):
    """select(p, true, false) -> p ;  select(p, false, true) -> not(p)   (i1 results, p of the result shape)"""
    import numpy as np

    if foldable_dtype(op.result) != np.bool_ or shape(op.pred) != shape(op.result):
        return None
    t, f = constant_splat(op.on_true), constant_splat(op.on_false)
    if t is None or f is None or bool(t) == bool(f):
        return None
    if bool(t):
        return op.pred
    return b.insert(hlo.NotOp(op.pred)).results[0]


@rule(example=Example(lambda p, a, b: jnp.where(p > 0, -a, -b), [(4,)] * 3), needs={1: UNARY_ELEMENTWISE, 2: UNARY_ELEMENTWISE})
def select_unary_branches(op: hlo.SelectOp, b: Builder):
    """select(p, f(a), f(b)) -> f(select(p, a, b))   (f one unary elementwise op without attributes)"""
    ta, tb = op.on_true.owner, op.on_false.owner
    if not isinstance(ta, UNARY_ELEMENTWISE) or type(ta) is not type(tb) or ta is tb:
        return None
    if ta.properties or tb.properties or ta.attributes or tb.attributes:
        return None
    if ta.operand.type != tb.operand.type or ta.result.type != tb.result.type:
        return None
    inner = b.select(op.pred, ta.operand, tb.operand)
    return b.insert(type(ta)(inner, ta.result.type)).results[0]


@rule(example=Example(lambda x, y: jnp.where(x == y, x, y), [(4,), (4,)], dtypes=I32), needs={0: hlo.CompareOp})
def select_compare_equal_branches(op: hlo.SelectOp, b: Builder):
    """select(x == y, x, y) -> y ;  select(x != y, x, y) -> x   (integers, either operand order)"""
    cmp = producer(op.pred, hlo.CompareOp)
    if cmp is None or not is_integer(cmp.lhs) or _direction(cmp) not in ("EQ", "NE"):
        return None
    if {cmp.lhs, cmp.rhs} != {op.on_true, op.on_false} or cmp.lhs is cmp.rhs:
        return None
    return op.on_false if _direction(cmp) == "EQ" else op.on_true


def _select_max_min(op: hlo.SelectOp, b: Builder, floats: bool):
    cmp = producer(op.pred, hlo.CompareOp)
    if cmp is None or not _plain(cmp) or cmp.lhs is cmp.rhs or op.pred.type != cmp.result.type:
        return None
    kind = _kind(op.on_true)
    if floats != (kind == "f") or kind == "b" or kind is None:
        return None
    if not floats:
        ct = cmp.compare_type.data if cmp.compare_type is not None else None
        if ct is not None and ct != (ComparisonType.UNSIGNED if kind == "u" else ComparisonType.SIGNED):
            return None
    d = _direction(cmp)
    if d in ("EQ", "NE"):
        return None
    if op.on_true is cmp.lhs and op.on_false is cmp.rhs:
        pick_greater = d in ("GT", "GE")
    elif op.on_true is cmp.rhs and op.on_false is cmp.lhs:
        pick_greater = d in ("LT", "LE")
    else:
        return None
    return b.max(cmp.lhs, cmp.rhs) if pick_greater else b.min(cmp.lhs, cmp.rhs)


@rule(example=Example(lambda x, y: jnp.where(x > y, x, y) + jnp.where(x < y, x, y), [(4,), (4,)], dtypes=I32), needs={0: hlo.CompareOp})
def select_compare_max_min_integer(op: hlo.SelectOp, b: Builder):
    """select(x > y, x, y) -> maximum(x, y) ;  select(x < y, x, y) -> minimum(x, y)   (integers; GE/LE and swapped branches alike)"""
    return _select_max_min(op, b, floats=False)


@rule(example=Example(lambda x, y: jnp.where(x > y, x, y) + jnp.where(x <= y, x, y), [(4,), (4,)]), unsafe=True, needs={0: hlo.CompareOp})
def select_compare_max_min(op: hlo.SelectOp, b: Builder):
    """select(x > y, x, y) -> maximum(x, y) ;  select(x < y, x, y) -> minimum(x, y)   (floats: no NaN, up to the sign of zero)"""
    return _select_max_min(op, b, floats=True)


# No rule turns a float select(x <= c, c, x) into maximum(x, c) (nor into minimum, nor a
# minimum of a maximum into a clamp): the values agree, the derivatives do not at x = c,
# where the select passes all or nothing of x's derivative and maximum / minimum half of
# it (jax's convention, which zymase's derivatives and jax's of zymase's output follow).


# ============================================================================ logic


def _is_not_of(v: SSAValue, w: SSAValue) -> bool:
    """``v`` is not(w)."""
    n = producer(v, hlo.NotOp)
    return n is not None and n.operand is w


@rule(
    example=[
        Example(lambda x, y: jnp.where((lambda p: p & ~p)(x > y), x, y), [(4,), (4,)]),
        Example(lambda x, y: jnp.where((lambda p: ~p & p)(x > y), x, y), [(4,), (4,)]),
    ],
    commutative=True,
    needs=hlo.NotOp,
)
def and_not_self(op: hlo.AndOp, b: Builder, x: SSAValue, y: SSAValue):
    """and(p, not(p)) -> 0   (false for i1; either order)"""
    if is_integer(x) and _is_not_of(y, x):
        return _true_false(b, op.result, False)
    return None


@rule(
    example=[
        Example(lambda x, y: jnp.where((lambda p: p | ~p)(x > y), x, y), [(4,), (4,)]),
        Example(lambda x, y: jnp.where((lambda p: ~p | p)(x > y), x, y), [(4,), (4,)]),
    ],
    commutative=True,
    needs=hlo.NotOp,
)
def or_not_self(op: hlo.OrOp, b: Builder, x: SSAValue, y: SSAValue):
    """or(p, not(p)) -> all ones   (true for i1; either order)"""
    if is_integer(x) and _is_not_of(y, x):
        return _true_false(b, op.result, True)
    return None


@rule(
    example=[
        Example(lambda x, y: (lambda p: p ^ ~p)(x) + y, [(4,), (4,)], dtypes=I32),
        Example(lambda x, y: (lambda p: ~p ^ p)(x) + y, [(4,), (4,)], dtypes=I32),
    ],
    commutative=True,
    needs=hlo.NotOp,
)
def xor_not_self(op: hlo.XorOp, b: Builder, x: SSAValue, y: SSAValue):
    """xor(p, not(p)) -> all ones   (true for i1; either order)"""
    if is_integer(x) and _is_not_of(y, x):
        return _true_false(b, op.result, True)
    return None


@rule(example=Example(lambda x, y: jnp.where(~(x > 0) & ~(y > 0), x, y), [(4,), (4,)]), needs={0: hlo.NotOp, 1: hlo.NotOp})
def and_nots(op: hlo.AndOp, b: Builder):
    """and(not(a), not(b)) -> not(or(a, b))"""
    na, nb = producer(op.lhs, hlo.NotOp), producer(op.rhs, hlo.NotOp)
    if na is None or nb is None:
        return None
    return b.insert(hlo.NotOp(b.insert(hlo.OrOp(na.operand, nb.operand)).results[0])).results[0]


@rule(example=Example(lambda x, y: jnp.where(~(x > 0) | ~(y > 0), x, y), [(4,), (4,)]), needs={0: hlo.NotOp, 1: hlo.NotOp})
def or_nots(op: hlo.OrOp, b: Builder):
    """or(not(a), not(b)) -> not(and(a, b))"""
    na, nb = producer(op.lhs, hlo.NotOp), producer(op.rhs, hlo.NotOp)
    if na is None or nb is None:
        return None
    return b.insert(hlo.NotOp(b.insert(hlo.AndOp(na.operand, nb.operand)).results[0])).results[0]


@rule(example=Example(lambda x, y: (~x) ^ (~y), [(4,), (4,)], dtypes=I32), needs={0: hlo.NotOp, 1: hlo.NotOp})
def xor_nots(op: hlo.XorOp, b: Builder):
    """xor(not(a), not(b)) -> xor(a, b)"""
    na, nb = producer(op.lhs, hlo.NotOp), producer(op.rhs, hlo.NotOp)
    if na is None or nb is None:
        return None
    return b.insert(hlo.XorOp(na.operand, nb.operand)).results[0]


@rule(example=i32_binary_examples("and", "-1"), commutative=True, needs=CONSTANT)
def and_all_ones(op: hlo.AndOp, b: Builder, x: SSAValue, y: SSAValue):
    """and(x, all-ones) -> x   (true for i1)"""
    if all_ones(y):
        return x
    return None


@rule(example=i32_binary_examples("and", "0"), commutative=True, needs=CONSTANT)
def and_zero(op: hlo.AndOp, b: Builder, x: SSAValue, y: SSAValue):
    """and(x, 0) -> 0   (false for i1)"""
    if integer_zero(y):
        return y
    return None


@rule(example=i32_binary_examples("or", "0"), commutative=True, needs=CONSTANT)
def or_zero(op: hlo.OrOp, b: Builder, x: SSAValue, y: SSAValue):
    """or(x, 0) -> x   (false for i1)"""
    if integer_zero(y):
        return x
    return None


@rule(example=i32_binary_examples("or", "-1"), commutative=True, needs=CONSTANT)
def or_all_ones(op: hlo.OrOp, b: Builder, x: SSAValue, y: SSAValue):
    """or(x, all-ones) -> all-ones   (true for i1)"""
    if all_ones(y):
        return y
    return None


@rule(example=i32_binary_examples("xor", "0"), commutative=True, needs=CONSTANT)
def xor_zero(op: hlo.XorOp, b: Builder, x: SSAValue, y: SSAValue):
    """xor(x, 0) -> x"""
    if integer_zero(y):
        return x
    return None


@rule(example=i32_binary_examples("xor", "-1"), commutative=True, needs=CONSTANT)
def xor_all_ones(op: hlo.XorOp, b: Builder, x: SSAValue, y: SSAValue):
    """xor(x, all-ones) -> not(x)"""
    if all_ones(y):
        return b.insert(hlo.NotOp(x)).results[0]
    return None


@rule(example=Example(mlir=mlir_i32('  %0 = "stablehlo.xor"(%x, %x) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>')))
def xor_self(op: hlo.XorOp, b: Builder):
    """xor(x, x) -> 0"""
    import numpy as np

    if op.lhs is op.rhs and is_integer(op.result):
        return emit_splat(b, np.zeros((), foldable_dtype(op.result)), op.result.type)
    return None


@rule(
    example=Example(
        mlir=mlir_i32(
            '  %0 = "stablehlo.not"(%x) : (tensor<4xi32>) -> tensor<4xi32>\n  %1 = "stablehlo.not"(%0) : (tensor<4xi32>) -> tensor<4xi32>\n  func.return %1 : tensor<4xi32>'
        )
    )
, needs={0: hlo.NotOp})
def not_not(op: hlo.NotOp, b: Builder):
    """not(not(x)) -> x"""
    inner = producer(op.operand, hlo.NotOp)
    if inner is not None:
        return inner.operand
    return None


# ============================================================================ comparisons


@rule(example=Example(lambda x, y: jnp.where(~(x < y), x, y) + jnp.where(~(x == y), x, y), [(4,), (4,)], dtypes=I32), needs={0: hlo.CompareOp})
def not_compare(op: hlo.NotOp, b: Builder):
    """not(compare(x, y, dir)) -> compare(x, y, not dir)   (integers; floats only EQ <-> NE)"""
    cmp = producer(op.operand, hlo.CompareOp)
    if cmp is None or not _plain(cmp):
        return None
    is_float = _kind(cmp.lhs) == "f"
    if _kind(cmp.lhs) is None:
        return None
    universe = _outcomes("NE", is_float) | {"eq"}
    d = _direction_of(universe - _outcomes(_direction(cmp), is_float), is_float)
    if d is None:
        return None
    return _compare_like(b, cmp, cmp.lhs, cmp.rhs, d)


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
    import numpy as np

    if op.lhs is not op.rhs or not is_integer(op.lhs):
        return None
    value = _direction(op) in ("EQ", "LE", "GE")
    return emit_splat(b, np.asarray(value), op.result.type)


@rule(example=Example(lambda x: jnp.where(jnp.less(2.0, x), x, -x), [(4,)]), needs={0: CONSTANT})
def compare_constant_lhs(op: hlo.CompareOp, b: Builder):
    """compare(c, x, dir) -> compare(x, c, swapped dir)   (constants to the right)"""
    if not is_constant(op.lhs) or is_constant(op.rhs):
        return None
    return _compare_like(b, op, op.rhs, op.lhs, _SWAPPED[_direction(op)])


def _same_operands(c1: hlo.CompareOp, c2: hlo.CompareOp) -> tuple[str, str] | None:
    """The two directions as comparisons of c1.lhs with c1.rhs (c2 may have them swapped)."""
    if c1.compare_type != c2.compare_type or not _plain(c1):
        return None
    if c2.lhs is c1.lhs and c2.rhs is c1.rhs:
        return _direction(c1), _direction(c2)
    if c2.lhs is c1.rhs and c2.rhs is c1.lhs:
        return _direction(c1), _SWAPPED[_direction(c2)]
    return None


def _combine_compares(op, b: Builder, combine):
    c1, c2 = producer(op.lhs, hlo.CompareOp), producer(op.rhs, hlo.CompareOp)
    if c1 is None or c2 is None or c1 is c2 or _kind(c1.lhs) is None:
        return None
    dirs = _same_operands(c1, c2)
    if dirs is None:
        return None
    is_float = _kind(c1.lhs) == "f"
    universe = _outcomes("NE", is_float) | {"eq"}
    s = combine(_outcomes(dirs[0], is_float), _outcomes(dirs[1], is_float))
    if not s:
        return _true_false(b, op.result, False)
    if s == universe:
        return _true_false(b, op.result, True)
    d = _direction_of(frozenset(s), is_float)
    if d is None:
        return None
    return _compare_like(b, c1, c1.lhs, c1.rhs, d)


@rule(example=Example(lambda x, y: jnp.where((x <= y) & (y <= x), x, 2 * y), [(4,), (4,)]), needs={0: hlo.CompareOp, 1: hlo.CompareOp})
def and_compares(op: hlo.AndOp, b: Builder):
    """and(compare(x, y, d1), compare(x, y, d2)) -> compare(x, y, d1 & d2)   (when that is a direction, or false)"""
    return _combine_compares(op, b, lambda s, t: s & t)


@rule(example=Example(lambda x, y: jnp.where((x < y) | (x == y), x, 2 * y), [(4,), (4,)]), needs={0: hlo.CompareOp, 1: hlo.CompareOp})
def or_compares(op: hlo.OrOp, b: Builder):
    """or(compare(x, y, d1), compare(x, y, d2)) -> compare(x, y, d1 | d2)   (when that is a direction, or true)"""
    return _combine_compares(op, b, lambda s, t: s | t)


@rule(example=Example(lambda x, y: jnp.where((x <= y) ^ (x == y), x, 2 * y), [(4,), (4,)]), needs={0: hlo.CompareOp, 1: hlo.CompareOp})
def xor_compares(op: hlo.XorOp, b: Builder):
    """xor(compare(x, y, d1), compare(x, y, d2)) -> compare(x, y, d1 ^ d2)   (when that is a direction, or false/true)"""
    return _combine_compares(op, b, lambda s, t: s ^ t)


@rule(example=Example(lambda x, y: jnp.where(-x < -y, x, y), [(4,), (4,)]), needs={0: hlo.NegateOp, 1: hlo.NegateOp})
def compare_negates(op: hlo.CompareOp, b: Builder):
    """compare(negate(x), negate(y), dir) -> compare(y, x, dir)   (floats; integers EQ/NE only: negation wraps)"""
    nx, ny = producer(op.lhs, hlo.NegateOp), producer(op.rhs, hlo.NegateOp)
    if nx is None or ny is None or not _plain(op) or _kind(op.lhs) is None:
        return None
    if _kind(op.lhs) != "f" and _direction(op) not in ("EQ", "NE"):
        return None
    return _compare_like(b, op, ny.operand, nx.operand, _direction(op))


def _shared_term(op: hlo.CompareOp, cls: type, commutative: bool):
    """(x, y) when op compares cls(x, z) with cls(y, z) by EQ/NE on integers."""
    if not is_integer(op.lhs) or _direction(op) not in ("EQ", "NE"):
        return None
    l, r = producer(op.lhs, cls), producer(op.rhs, cls)
    if l is None or r is None or l is r:
        return None
    if l.rhs is r.rhs:
        return l.lhs, r.lhs
    if commutative:
        if l.lhs is r.lhs:
            return l.rhs, r.rhs
        if l.lhs is r.rhs:
            return l.rhs, r.lhs
        if l.rhs is r.lhs:
            return l.lhs, r.rhs
    elif l.lhs is r.lhs:
        return l.rhs, r.rhs
    return None


@rule(example=Example(lambda x, y, z: jnp.where(x + z == y + z, x, y), [(4,)] * 3, dtypes=["int32"] * 3), needs={0: hlo.AddOp, 1: hlo.AddOp})
def compare_add_shared(op: hlo.CompareOp, b: Builder):
    """compare(x + z, y + z, EQ|NE) -> compare(x, y, EQ|NE)   (integers: adding z is a bijection)"""
    xy = _shared_term(op, hlo.AddOp, commutative=True)
    return None if xy is None else _compare_like(b, op, xy[0], xy[1], _direction(op))


@rule(example=Example(lambda x, y, z: jnp.where(x - z != y - z, x, y), [(4,)] * 3, dtypes=["int32"] * 3), needs={0: hlo.SubtractOp, 1: hlo.SubtractOp})
def compare_subtract_shared(op: hlo.CompareOp, b: Builder):
    """compare(x - z, y - z, EQ|NE) -> compare(x, y, EQ|NE) ;  compare(z - x, z - y) likewise   (integers)"""
    xy = _shared_term(op, hlo.SubtractOp, commutative=False)
    return None if xy is None else _compare_like(b, op, xy[0], xy[1], _direction(op))


@rule(example=Example(lambda x, y, z: jnp.where((x ^ z) == (y ^ z), x, y), [(4,)] * 3, dtypes=["int32"] * 3), needs={0: hlo.XorOp, 1: hlo.XorOp})
def compare_xor_shared(op: hlo.CompareOp, b: Builder):
    """compare(x ^ z, y ^ z, EQ|NE) -> compare(x, y, EQ|NE)   (integers)"""
    xy = _shared_term(op, hlo.XorOp, commutative=True)
    return None if xy is None else _compare_like(b, op, xy[0], xy[1], _direction(op))


def _widening(src: np.dtype, dst: np.dtype) -> bool:
    """Converting src to dst is exact and order-preserving for every value (NaN stays NaN)."""
    import numpy as np

    if src.kind == "b":
        return dst.kind in "iuf"
    if src.kind in "iu" and dst.kind in "iu":
        if src.kind == "i" and dst.kind == "u":
            return False
        return dst.itemsize > src.itemsize or (src.kind == dst.kind and dst.itemsize == src.itemsize)
    if src.kind in "iu" and dst.kind == "f":
        return np.finfo(dst).nmant + 1 >= 8 * src.itemsize - (1 if src.kind == "i" else 0)
    if src.kind == "f" and dst.kind == "f":
        fs, fd = np.finfo(src), np.finfo(dst)
        return fd.nmant >= fs.nmant and fd.maxexp >= fs.maxexp and fd.minexp <= fs.minexp
    return False


@rule(example=Example(lambda x, y: jnp.where(x.astype(jnp.float64) < y.astype(jnp.float64), 1.0, 2.0), [(4,), (4,)], dtypes=I32), needs={0: hlo.ConvertOp, 1: hlo.ConvertOp})
def compare_converts(op: hlo.CompareOp, b: Builder):
    """compare(convert(x), convert(y)) -> compare(x, y)   (x, y of one type, converted exactly and monotonically)"""
    import numpy as np

    cx, cy = producer(op.lhs, hlo.ConvertOp), producer(op.rhs, hlo.ConvertOp)
    if cx is None or cy is None or not _plain(op) or cx.operand.type != cy.operand.type:
        return None
    try:
        src = element_dtype(cx.operand.type.get_element_type())
        dst = element_dtype(op.lhs.type.get_element_type())
    except TypeError:
        return None
    if src.kind not in "biuf" or dst.kind not in "biuf" or not _widening(np.dtype(src), np.dtype(dst)):
        return None
    return b.compare(cx.operand, cy.operand, _direction(op))


# ============================================================================ maximum / minimum


def _absorbs(x: SSAValue, y: SSAValue, inner_cls) -> bool:
    """``y`` is inner(x, z) or inner(z, x)."""
    inner = producer(y, inner_cls)
    return inner is not None and x in (inner.lhs, inner.rhs)


@rule(
    example=[
        Example(lambda x, y: jnp.maximum(x, jnp.minimum(x, y)), [(4,), (4,)], dtypes=I32),
        Example(lambda x, y: jnp.maximum(jnp.minimum(y, x), x), [(4,), (4,)], dtypes=I32),
    ],
    commutative=True,
    needs=hlo.MinimumOp,
)
def maximum_minimum_absorb_integer(op: hlo.MaximumOp, b: Builder, x: SSAValue, y: SSAValue):
    """maximum(x, minimum(x, y)) -> x   (integers; any operand order)"""
    return x if is_integer(x) and _absorbs(x, y, hlo.MinimumOp) else None


@rule(
    example=[
        Example(lambda x, y: jnp.minimum(jnp.maximum(y, x), x), [(4,), (4,)], dtypes=I32),
        Example(lambda x, y: jnp.minimum(x, jnp.maximum(x, y)), [(4,), (4,)], dtypes=I32),
    ],
    commutative=True,
    needs=hlo.MaximumOp,
)
def minimum_maximum_absorb_integer(op: hlo.MinimumOp, b: Builder, x: SSAValue, y: SSAValue):
    """minimum(x, maximum(x, y)) -> x   (integers; any operand order)"""
    return x if is_integer(x) and _absorbs(x, y, hlo.MaximumOp) else None


@rule(
    example=[
        Example(lambda x, y: jnp.maximum(x, jnp.minimum(x, y)), [(4,), (4,)]),
        Example(lambda x, y: jnp.maximum(jnp.minimum(x, y), x), [(4,), (4,)]),
    ],
    unsafe=True,
    commutative=True,
    needs=hlo.MinimumOp,
)
def maximum_minimum_absorb(op: hlo.MaximumOp, b: Builder, x: SSAValue, y: SSAValue):
    """maximum(x, minimum(x, y)) -> x   (floats: y not NaN, which max/min propagate)"""
    return x if _kind(x) == "f" and _absorbs(x, y, hlo.MinimumOp) else None


@rule(
    example=[
        Example(lambda x, y: jnp.minimum(x, jnp.maximum(x, y)), [(4,), (4,)]),
        Example(lambda x, y: jnp.minimum(jnp.maximum(x, y), x), [(4,), (4,)]),
    ],
    unsafe=True,
    commutative=True,
    needs=hlo.MaximumOp,
)
def minimum_maximum_absorb(op: hlo.MinimumOp, b: Builder, x: SSAValue, y: SSAValue):
    """minimum(x, maximum(x, y)) -> x   (floats: y not NaN, which max/min propagate)"""
    return x if _kind(x) == "f" and _absorbs(x, y, hlo.MaximumOp) else None


@rule(
    example=[
        Example(lambda x, y: jnp.maximum(jnp.maximum(x, y), y), [(4,), (4,)], dtypes=I32),
        Example(lambda x, y: jnp.maximum(y, jnp.maximum(x, y)), [(4,), (4,)], dtypes=I32),
    ],
    commutative=True,
    needs=hlo.MaximumOp,
)
def maximum_maximum_repeat(op: hlo.MaximumOp, b: Builder, x: SSAValue, y: SSAValue):
    """maximum(maximum(x, y), y) -> maximum(x, y)   (integers, any operand order; not floats: at x = y the derivatives split 1/4, 3/4, not 1/2, 1/2)"""
    return x if _kind(x) in ("i", "u", "b") and _absorbs(y, x, hlo.MaximumOp) else None


@rule(
    example=[
        Example(lambda x, y: jnp.minimum(jnp.minimum(x, y), x), [(4,), (4,)], dtypes=I32),
        Example(lambda x, y: jnp.minimum(y, jnp.minimum(x, y)), [(4,), (4,)], dtypes=I32),
    ],
    commutative=True,
    needs=hlo.MinimumOp,
)
def minimum_minimum_repeat(op: hlo.MinimumOp, b: Builder, x: SSAValue, y: SSAValue):
    """minimum(minimum(x, y), y) -> minimum(x, y)   (integers, any operand order; not floats: at x = y the derivatives split 1/4, 3/4, not 1/2, 1/2)"""
    return x if _kind(x) in ("i", "u", "b") and _absorbs(y, x, hlo.MinimumOp) else None


@rule(example=Example(lambda x, y: jnp.maximum(-x, -y), [(4,), (4,)]), needs={0: hlo.NegateOp, 1: hlo.NegateOp})
def maximum_negates(op: hlo.MaximumOp, b: Builder):
    """maximum(negate(x), negate(y)) -> negate(minimum(x, y))   (floats: negation does not wrap)"""
    nx, ny = producer(op.lhs, hlo.NegateOp), producer(op.rhs, hlo.NegateOp)
    if nx is None or ny is None or _kind(op.lhs) != "f":
        return None
    return b.neg(b.min(nx.operand, ny.operand))


@rule(example=Example(lambda x, y: jnp.minimum(-x, -y), [(4,), (4,)]), needs={0: hlo.NegateOp, 1: hlo.NegateOp})
def minimum_negates(op: hlo.MinimumOp, b: Builder):
    """minimum(negate(x), negate(y)) -> negate(maximum(x, y))   (floats: negation does not wrap)"""
    nx, ny = producer(op.lhs, hlo.NegateOp), producer(op.rhs, hlo.NegateOp)
    if nx is None or ny is None or _kind(op.lhs) != "f":
        return None
    return b.neg(b.max(nx.operand, ny.operand))


@rule(example=Example(lambda x: jnp.sign(jnp.sign(x)), [(4,)]), needs={0: hlo.SignOp})
def sign_sign(op: hlo.SignOp, b: Builder):
    """sign(sign(x)) -> sign(x)   (floats and integers: sign(z) = z / |z| of a complex z has modulus 1 only up to rounding)"""
    if producer(op.operand, hlo.SignOp) is not None and _kind(op.operand) is not None:
        return op.operand
    return None


@rule(example=Example(lambda x: jnp.abs(jnp.sign(x)) * jnp.sign(jnp.abs(x)), [(4,)]), needs={0: hlo.AbsOp})
def sign_abs(op: hlo.SignOp, b: Builder):
    """sign(abs(x)) -> abs(sign(x))   (floats: both are +0, 1 or NaN; integers differ at INT_MIN; canonical: sign innermost)"""
    inner = producer(op.operand, hlo.AbsOp)
    if inner is None or _kind(inner.operand) != "f":
        return None
    return b.abs(b.sign(inner.operand))


# ============================================================================ selects of booleans, predicates implied by the outer select


def _i1_select(op: hlo.SelectOp) -> bool:
    """A select of i1 values with a predicate of the result's shape."""
    import numpy as np

    return foldable_dtype(op.result) == np.bool_ and shape(op.pred) == shape(op.result)


def _splat_bool(v: SSAValue) -> bool | None:
    s = constant_splat(v)
    return None if s is None else bool(s)


_I1x4 = "tensor<4xi1>"


def _i1_select_example(true_branch: str, false_branch: str, constant: str) -> Example:
    body = (
        mlir_constant("k", constant, _I1x4)
        + f'\n  %r = "stablehlo.select"(%p, {true_branch}, {false_branch}) : ({_I1x4}, {_I1x4}, {_I1x4}) -> {_I1x4}'
        + f"\n  func.return %r : {_I1x4}"
    )
    return Example(mlir=mlir_main(body, f"%p: {_I1x4}, %x: {_I1x4}", _I1x4))


@rule(example=_i1_select_example("%x", "%k", "false"), needs={2: CONSTANT})
def select_false_branch_to_and(op: hlo.SelectOp, b: Builder):
    """select(p, x, false) -> and(p, x)   (i1)"""
    if not _i1_select(op) or _splat_bool(op.on_false) is not False or _splat_bool(op.on_true) is not None:
        return None
    return b.insert(hlo.AndOp(op.pred, op.on_true)).results[0]


@rule(example=_i1_select_example("%k", "%x", "true"), needs={1: CONSTANT})
def select_true_branch_to_or(op: hlo.SelectOp, b: Builder):
    """select(p, true, x) -> or(p, x)   (i1)"""
    if not _i1_select(op) or _splat_bool(op.on_true) is not True or _splat_bool(op.on_false) is not None:
        return None
    return b.insert(hlo.OrOp(op.pred, op.on_false)).results[0]


@rule(example=_i1_select_example("%k", "%x", "false"), needs={1: CONSTANT})
def select_false_first_to_and_not(op: hlo.SelectOp, b: Builder):
    """select(p, false, x) -> and(not(p), x)   (i1)"""
    if not _i1_select(op) or _splat_bool(op.on_true) is not False or _splat_bool(op.on_false) is not None:
        return None
    return b.insert(hlo.AndOp(b.insert(hlo.NotOp(op.pred)).results[0], op.on_false)).results[0]


@rule(example=_i1_select_example("%x", "%k", "true"), needs={2: CONSTANT})
def select_true_second_to_or_not(op: hlo.SelectOp, b: Builder):
    """select(p, x, true) -> or(not(p), x)   (i1)"""
    if not _i1_select(op) or _splat_bool(op.on_false) is not True or _splat_bool(op.on_true) is not None:
        return None
    return b.insert(hlo.OrOp(b.insert(hlo.NotOp(op.pred)).results[0], op.on_true)).results[0]


def _scalar_select_example(first: str, second: str) -> Example:
    t32 = "tensor<32xi1>"
    body = (
        mlir_constant("t", "true", t32)
        + "\n"
        + mlir_constant("f", "false", t32)
        + f'\n  %r = "stablehlo.select"(%p, %{first}, %{second}) : (tensor<i1>, {t32}, {t32}) -> {t32}'
        + f"\n  func.return %r : {t32}"
    )
    return Example(mlir=mlir_main(body, "%p: tensor<i1>", t32))


@rule(example=[_scalar_select_example("t", "f"), _scalar_select_example("f", "t")], needs={1: CONSTANT, 2: CONSTANT})
def select_scalar_true_false(op: hlo.SelectOp, b: Builder):
    """select(p, true, false) -> broadcast_in_dim(p) ;  select(p, false, true) -> broadcast_in_dim(not(p))   (a rank-0 p, i1 results)"""
    import numpy as np

    if foldable_dtype(op.result) != np.bool_ or shape(op.pred) != () or shape(op.result) == ():
        return None
    t, f = _splat_bool(op.on_true), _splat_bool(op.on_false)
    if t is None or f is None or t == f:
        return None
    p = op.pred if t else b.insert(hlo.NotOp(op.pred)).results[0]
    return b.broadcast_in_dim(p, list(shape(op.result)), [])


@rule(
    example=Example(
        mlir=mlir_main(
            '  %0 = "stablehlo.broadcast_in_dim"(%p) <{broadcast_dimensions = array<i64>}> : (tensor<i1>) -> tensor<4xi1>\n'
            '  %1 = "stablehlo.select"(%0, %x, %y) : (tensor<4xi1>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>\n'
            "  func.return %1 : tensor<4xf64>",
            "%p: tensor<i1>, %x: tensor<4xf64>, %y: tensor<4xf64>",
        )
    ),
    needs={0: hlo.BroadcastInDimOp},
)
def select_broadcast_scalar_predicate(op: hlo.SelectOp, b: Builder):
    """select(broadcast_in_dim(p : tensor<i1>), x, y) -> select(p, x, y)   (select takes a rank-0 predicate as it is)"""
    bc = producer(op.pred, hlo.BroadcastInDimOp)
    if bc is None or shape(bc.operand) != () or shape(op.result) == ():
        return None
    return b.select(bc.operand, op.on_true, op.on_false)


_LOGIC = (hlo.AndOp, hlo.OrOp, hlo.XorOp, hlo.NotOp)


def _atoms(v: SSAValue, out: list[SSAValue], depth: int = 4) -> bool:
    """Collect the leaves of the and/or/xor/not tree of ``v`` (at most 4); False when more."""
    owner = v.owner
    if depth > 0 and isinstance(owner, _LOGIC) and owner.result.type == v.type:
        return all(_atoms(w, out, depth - 1) for w in owner.operands)
    if not any(v is a for a in out):
        out.append(v)
    return len(out) <= 4


def _evaluate(v: SSAValue, env: dict[int, bool], depth: int = 4) -> bool:
    if id(v) in env:
        return env[id(v)]
    owner = v.owner
    if isinstance(owner, hlo.NotOp):
        return not _evaluate(owner.operand, env, depth - 1)
    a, c = _evaluate(owner.operands[0], env, depth - 1), _evaluate(owner.operands[1], env, depth - 1)
    if isinstance(owner, hlo.AndOp):
        return a and c
    if isinstance(owner, hlo.OrOp):
        return a or c
    return a != c


def _implied(outer: SSAValue, value: bool, inner: SSAValue):
    """``inner`` where ``outer`` is ``value``: True, False, one of its leaves (or None
    when it is none of these), by the truth table of the i1 logic over their leaves."""
    import itertools

    atoms: list[SSAValue] = []
    if not _atoms(outer, atoms) or not _atoms(inner, atoms):
        return None
    rows = []
    for bits in itertools.product((False, True), repeat=len(atoms)):
        env = {id(a): x for a, x in zip(atoms, bits)}
        if _evaluate(outer, env) == value:
            rows.append((env, _evaluate(inner, env)))
    if not rows:
        return None
    if all(q for _, q in rows):
        return True
    if not any(q for _, q in rows):
        return False
    for a in atoms:
        if a is not inner and all(env[id(a)] == q for env, q in rows):
            return a
    return None


def _implied_select(op: hlo.SelectOp, b: Builder, branch: SSAValue, value: bool):
    import numpy as np

    inner = producer(branch, hlo.SelectOp)
    if inner is None or inner.pred.type != op.pred.type or inner.pred is op.pred or foldable_dtype(op.pred) != np.bool_:
        return None
    q = _implied(op.pred, value, inner.pred)
    if q is None:
        return None
    if q is True or q is False:
        new = inner.on_true if q else inner.on_false
    else:
        new = b.select(q, inner.on_true, inner.on_false)
    return b.select(op.pred, new, op.on_false) if value else b.select(op.pred, op.on_true, new)


_SEL4 = "tensor<4xf32>"


def _implied_example(lines: list[str], args: str) -> Example:
    return Example(mlir=mlir_main("\n".join(lines) + f"\n  func.return %r : {_SEL4}", args, _SEL4))


@rule(
    example=[
        _implied_example(
            [
                '  %n = "stablehlo.not"(%p) : (tensor<i1>) -> tensor<i1>',
                f'  %i = "stablehlo.select"(%n, %a, %b) : (tensor<i1>, {_SEL4}, {_SEL4}) -> {_SEL4}',
                f'  %r = "stablehlo.select"(%p, %c, %i) : (tensor<i1>, {_SEL4}, {_SEL4}) -> {_SEL4}',
            ],
            f"%p: tensor<i1>, %a: {_SEL4}, %b: {_SEL4}, %c: {_SEL4}",
        ),
        _implied_example(
            [
                '  %pq = "stablehlo.and"(%p, %q) : (tensor<i1>, tensor<i1>) -> tensor<i1>',
                '  %nq = "stablehlo.not"(%q) : (tensor<i1>) -> tensor<i1>',
                '  %pnq = "stablehlo.and"(%p, %nq) : (tensor<i1>, tensor<i1>) -> tensor<i1>',
                f'  %i = "stablehlo.select"(%pnq, %a, %b) : (tensor<i1>, {_SEL4}, {_SEL4}) -> {_SEL4}',
                f'  %r = "stablehlo.select"(%pq, %c, %i) : (tensor<i1>, {_SEL4}, {_SEL4}) -> {_SEL4}',
            ],
            f"%p: tensor<i1>, %q: tensor<i1>, %a: {_SEL4}, %b: {_SEL4}, %c: {_SEL4}",
        ),
    ],
    needs={2: hlo.SelectOp},
)
def select_select_implied_false(op: hlo.SelectOp, b: Builder):
    """select(p, c, select(q, a, b)) -> select(p, c, select(q', a, b))   (q' what q is where p is false: true, false or one of q's leaves; by the truth table of and/or/xor/not)"""
    return _implied_select(op, b, op.on_false, False)


@rule(
    example=[
        _implied_example(
            [
                '  %n = "stablehlo.not"(%p) : (tensor<i1>) -> tensor<i1>',
                f'  %i = "stablehlo.select"(%n, %a, %b) : (tensor<i1>, {_SEL4}, {_SEL4}) -> {_SEL4}',
                f'  %r = "stablehlo.select"(%p, %i, %c) : (tensor<i1>, {_SEL4}, {_SEL4}) -> {_SEL4}',
            ],
            f"%p: tensor<i1>, %a: {_SEL4}, %b: {_SEL4}, %c: {_SEL4}",
        ),
        _implied_example(
            [
                '  %pq = "stablehlo.and"(%p, %q) : (tensor<i1>, tensor<i1>) -> tensor<i1>',
                '  %nq = "stablehlo.not"(%q) : (tensor<i1>) -> tensor<i1>',
                '  %pnq = "stablehlo.and"(%p, %nq) : (tensor<i1>, tensor<i1>) -> tensor<i1>',
                f'  %i = "stablehlo.select"(%pnq, %a, %b) : (tensor<i1>, {_SEL4}, {_SEL4}) -> {_SEL4}',
                f'  %r = "stablehlo.select"(%pq, %i, %c) : (tensor<i1>, {_SEL4}, {_SEL4}) -> {_SEL4}',
            ],
            f"%p: tensor<i1>, %q: tensor<i1>, %a: {_SEL4}, %b: {_SEL4}, %c: {_SEL4}",
        ),
    ],
    needs={1: hlo.SelectOp},
)
def select_select_implied_true(op: hlo.SelectOp, b: Builder):
    """select(p, select(q, a, b), c) -> select(p, select(q', a, b), c)   (q' what q is where p is true: true, false or one of q's leaves)"""
    return _implied_select(op, b, op.on_true, True)


# ============================================================================ selects with swapped branches, comparisons of abs and of booleans


def swapped_selects(op, b: Builder):
    """For a commutative elementwise ``op``: ``op(a, b)`` when its operands are
    ``select(p, a, b)`` and ``select(p, b, a)``, else None."""
    s, t = producer(op.lhs, hlo.SelectOp), producer(op.rhs, hlo.SelectOp)
    if s is None or t is None or s.pred is not t.pred or s.on_true is not t.on_false or s.on_false is not t.on_true:
        return None
    if shape(s.on_true) != shape(op.result) or shape(s.on_false) != shape(op.result):
        return None
    return b.insert(type(op)(s.on_true, s.on_false)).results[0]


@rule(
    example=[
        Example(lambda p, a, b: (lambda q: jnp.maximum(jnp.where(q, a, b), jnp.where(q, b, a)))(p > 0), [(4,)] * 3),
        Example(lambda p, a, b: (lambda q: jnp.minimum(jnp.where(q, a, b), jnp.where(q, b, a)))(p > 0), [(4,)] * 3),
    ],
    roots=[hlo.MaximumOp, hlo.MinimumOp, hlo.AndOp, hlo.OrOp, hlo.XorOp],
    needs={0: hlo.SelectOp, 1: hlo.SelectOp},
)
def commutative_swapped_selects(op, b: Builder):
    """f(select(p, a, b), select(p, b, a)) -> f(a, b)   (f max, min, and, or, xor; add and multiply: add_multiply_swapped_selects)"""
    return swapped_selects(op, b)


@rule(
    example=[
        Example(lambda x: jnp.where(jnp.abs(x) == 0.0, x, 2.0 * x) + jnp.where(jnp.abs(x) <= 0.0, 1.0, 3.0), [(4,)]),
        Example(lambda x: jnp.where(jnp.abs(x) != 0, x, 2 * x), [(4,)], dtypes=["int32"]),
    ],
    needs={0: hlo.AbsOp},
)
def compare_abs_zero(op: hlo.CompareOp, b: Builder):
    """compare(abs(x), 0, EQ | NE) -> compare(x, 0, EQ | NE) ;  compare(abs(x), 0, LE) -> compare(x, 0, EQ)   (LE for floats: abs(INT_MIN) < 0)"""
    a = producer(op.lhs, hlo.AbsOp)
    zero = constant_splat(op.rhs)
    if a is None or zero is None or zero != 0 or not _plain(op) or elem(a.operand) != elem(op.lhs):
        return None
    d = _direction(op)
    if d == "LE" and _kind(op.lhs) == "f":
        d = "EQ"
    if d not in ("EQ", "NE"):
        return None
    return _compare_like(b, op, a.operand, op.rhs, d)


@rule(
    example=[
        Example(lambda p: jnp.where(p.astype(jnp.int32) == 0, 1.0, 2.0) + jnp.where(p.astype(jnp.int32) >= 1, 3.0, 4.0), [(4,)], dtypes=["bool"]),
        Example(lambda p: jnp.where(p.astype(jnp.float32) < 0.5, 1.0, 2.0), [(4,)], dtypes=["bool"]),
    ],
    needs={0: hlo.ConvertOp},
)
def compare_convert_bool_constant(op: hlo.CompareOp, b: Builder):
    """compare(convert(p : i1), c) -> p | not(p) | true | false   (the outcomes at 0 and 1 decide it)"""
    import numpy as np

    cv = producer(op.lhs, hlo.ConvertOp)
    c = constant_splat(op.rhs)
    if cv is None or c is None or foldable_dtype(cv.operand) != np.bool_ or shape(cv.operand) != shape(op.result) or not _plain(op):
        return None
    if c.dtype.kind in "iu" and not 0 <= int(c) < 2 ** (8 * c.dtype.itemsize - 1) and op.compare_type is not None:
        return None  # a comparison type that may read c with the other signedness
    d = _direction(op)
    test = {"EQ": np.equal, "NE": np.not_equal, "LT": np.less, "LE": np.less_equal, "GT": np.greater, "GE": np.greater_equal}[d]
    at0, at1 = bool(test(c.dtype.type(0), c)), bool(test(c.dtype.type(1), c))
    if at0 == at1:
        return emit_splat(b, np.asarray(at0), op.result.type)
    return cv.operand if at1 else b.insert(hlo.NotOp(cv.operand)).results[0]


@rule(
    example=Example(lambda p, q: jnp.where(p.astype(jnp.int32) == q.astype(jnp.int32), 1.0, 2.0) + jnp.where(p.astype(jnp.int32) != q.astype(jnp.int32), 3.0, 4.0), [(4,), (4,)], dtypes=["bool", "bool"]),
    needs={0: hlo.ConvertOp, 1: hlo.ConvertOp},
)
def compare_converted_bools(op: hlo.CompareOp, b: Builder):
    """compare(convert(p), convert(q), EQ) -> not(xor(p, q)) ;  NE -> xor(p, q)   (p, q i1 of one type)"""
    import numpy as np

    cp, cq = producer(op.lhs, hlo.ConvertOp), producer(op.rhs, hlo.ConvertOp)
    if cp is None or cq is None or foldable_dtype(cp.operand) != np.bool_ or cp.operand.type != cq.operand.type or not _plain(op):
        return None
    if shape(cp.operand) != shape(op.result) or cp.result.type != cq.result.type or _direction(op) not in ("EQ", "NE"):
        return None
    x = b.insert(hlo.XorOp(cp.operand, cq.operand)).results[0]
    return x if _direction(op) == "NE" else b.insert(hlo.NotOp(x)).results[0]
