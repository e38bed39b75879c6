"""Selects between constants, compares against constants, and folds of reductions.

An elementwise op applied to a select between two splat constants (and, for a binary op,
a splat constant) is the select between the op's values at those constants: the op is
evaluated at compile time, once per branch (``f(select(p, c1, c2), c3) -> select(p,
f(c1, c3), f(c2, c3))``), and a compare of such a select becomes ``p``, ``not(p)`` or a
constant. Two compares of one value with constants joined by ``and`` / ``or`` become one
compare with the tighter or looser constant. A reduce of a constant is folded where the
result is exact (integers wrap, maximum and minimum of floats).

Exactness. Selects choose elements, so ``f(select(p, a, b)) == select(p, f(a), f(b))``
element for element for every elementwise ``f``; the branch values are computed by the
constant folder (which folds only exact operations) and the rules decline when it does
not fold. ``x < a and x < b`` is ``x < min(a, b)`` for every x, NaN included (both sides
false), when a and b are not NaN.
"""

from __future__ import annotations

from ..lazy_jax import jnp
from ..lazy_jax import lax
from ..lazy_jax import np
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ..pattern import CONSTANT, SPLAT, Example, producer, rule, shape, single_use
from .common import MAX_FOLD_ELEMENTS, any_dtype, constant_array, constant_splat, emit, emit_splat, foldable_dtype, mlir_main


def _select_of_splats(v: SSAValue, op) -> tuple[SSAValue, object, object] | None:
    """(p, c1, c2) when ``v`` is select(p, c1, c2) of splat constants with no user but ``op``."""
    s = producer(v, hlo.SelectOp)
    if s is None or not single_use(v):
        return None
    c1, c2 = constant_splat(s.on_true), constant_splat(s.on_false)
    if c1 is None or c2 is None:
        return None
    return s.pred, c1, c2


def _evaluate(op, operands: list) -> object | None:
    """The value of elementwise ``op`` at the splat ``operands`` (numpy scalars) by the
    constant folder's rule for it, or None when it does not fold."""
    fn = _FOLDS.get(type(op))
    if fn is None or any(_subnormal(v) for v in operands):
        return None  # XLA's CPU runtime flushes subnormals; the folder leaves them alone
    try:
        return fn(op, [np.asarray(v) for v in operands])
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return None


def _binary_numpy(ufunc_name: str, integer_only: bool = False):
    def fn(op, vals):
        a, c = vals
        if a.dtype != c.dtype or a.dtype.kind not in "iubf" or (integer_only and a.dtype.kind == "f"):
            return None
        if str(a.dtype) == "bfloat16":
            return None
        with np.errstate(all="ignore"):
            return np.asarray(getattr(np, ufunc_name)(a, c)).astype(a.dtype)

    return fn


def _max_min(which: str):
    def fn(op, vals):
        a, c = vals
        if a.dtype != c.dtype or a.dtype.kind not in "iubf" or str(a.dtype) == "bfloat16":
            return None
        if a.dtype.kind == "f":
            x, y = float(a), float(c)
            if x != x or y != y:
                return np.asarray(np.nan, a.dtype)
            if x == y == 0.0:  # XLA: -0.0 < +0.0
                neg = np.signbit(x), np.signbit(y)
                pick_neg = (neg[0] and neg[1]) if which == "max" else (neg[0] or neg[1])
                return np.asarray(-0.0 if pick_neg else 0.0, a.dtype)
        return np.asarray(np.maximum(a, c) if which == "max" else np.minimum(a, c)).astype(a.dtype)

    return fn


def _compare(op, vals):
    a, c = vals
    if a.dtype != c.dtype or a.dtype.kind not in "iubf" or str(a.dtype) == "bfloat16":
        return None
    if op.compare_type is not None and op.compare_type.data.value == "TOTALORDER":
        return None
    d = op.comparison_direction.data.value
    if a.dtype.kind == "u" or a.dtype == np.bool_:
        x, y = int(a), int(c)
    elif a.dtype.kind == "i":
        x, y = int(a), int(c)
        if op.compare_type is not None and op.compare_type.data.value == "UNSIGNED":
            w = a.dtype.itemsize * 8
            x, y = x % (1 << w), y % (1 << w)
    else:
        x, y = float(a), float(c)
    out = {"EQ": x == y, "NE": x != y, "LT": x < y, "LE": x <= y, "GT": x > y, "GE": x >= y}[d]
    return np.asarray(out, np.bool_)


def _unary_numpy(name: str):
    def fn(op, vals):
        (a,) = vals
        if a.dtype.kind not in "iubf" or str(a.dtype) == "bfloat16":
            return None
        if name == "negate":
            if a.dtype == np.bool_:
                return None
            with np.errstate(all="ignore"):
                return np.asarray(np.negative(a)).astype(a.dtype)
        if name == "not":
            return np.asarray(np.logical_not(a) if a.dtype == np.bool_ else np.invert(a)).astype(a.dtype)
        if name == "abs":
            if a.dtype == np.bool_:
                return None
            with np.errstate(all="ignore"):
                return np.asarray(np.abs(a)).astype(a.dtype)
        return None

    return fn


_FOLDS = {
    hlo.AddOp: _binary_numpy("add"),
    hlo.SubtractOp: _binary_numpy("subtract"),
    hlo.MultiplyOp: _binary_numpy("multiply"),
    hlo.AndOp: _binary_numpy("bitwise_and", integer_only=True),
    hlo.OrOp: _binary_numpy("bitwise_or", integer_only=True),
    hlo.XorOp: _binary_numpy("bitwise_xor", integer_only=True),
    hlo.MaximumOp: _max_min("max"),
    hlo.MinimumOp: _max_min("min"),
    hlo.CompareOp: _compare,
    hlo.NegateOp: _unary_numpy("negate"),
    hlo.NotOp: _unary_numpy("not"),
    hlo.AbsOp: _unary_numpy("abs"),
}


def _subnormal(value) -> bool:
    arr = np.asarray(value)
    if arr.dtype.kind != "f":
        return False
    a = abs(float(arr))
    return 0 < a < float(np.finfo(arr.dtype).tiny)


def _select_constants(op, b: Builder, p, branch_values) -> SSAValue | None:
    """select(p, v1, v2) of splat values of op's result type (p shaped like the result, or rank 0)."""
    v1, v2 = branch_values
    if v1 is None or v2 is None or _subnormal(v1) or _subnormal(v2):
        return None
    if any(n < 0 for n in shape(op.result)):
        return None
    t = op.result.type
    if elem(op.result) == elem(p) and shape(p) == shape(op.result) and np.asarray(v1).dtype == np.bool_:
        if bool(v1) and not bool(v2):
            return p
        if not bool(v1) and bool(v2):
            return b.insert(hlo.NotOp(p)).results[0]
    if np.asarray(v1).tobytes() == np.asarray(v2).tobytes():
        return emit_splat(b, np.asarray(v1), t)
    return b.select(p, emit_splat(b, np.asarray(v1), t), emit_splat(b, np.asarray(v2), t))


_BINARY_FOLDED = [hlo.AddOp, hlo.SubtractOp, hlo.MultiplyOp, hlo.AndOp, hlo.OrOp, hlo.XorOp, hlo.MaximumOp, hlo.MinimumOp, hlo.CompareOp]


@rule(
    example=[
        Example(lambda x: jnp.where(x > 0, 2.0, -1.0) * 3.0, [(4,)]),
        Example(lambda x: 5 - jnp.where(x > 0, 2, 7), [(4,)], dtypes=["int32"]),
        Example(lambda x: jnp.where(x > 0, 2.0, -1.0) > 0.0, [(4,)]),
        Example(lambda x: jnp.maximum(jnp.where(x > 0, 2.0, -1.0), 0.5), [(4,)]),
    ],
    roots=[hlo.AddOp, hlo.SubtractOp, hlo.MultiplyOp, hlo.AndOp, hlo.OrOp, hlo.XorOp, hlo.MaximumOp, hlo.MinimumOp, hlo.CompareOp],
    needs=hlo.SelectOp,
)
def binary_select_constants(op, b: Builder):
    """f(select(p, c1, c2), c) -> select(p, f(c1, c), f(c2, c)) ;  f(c, select(...)) likewise   (splat constants, f folded at compile time; p itself, not(p) or a constant when the values are booleans or equal; the select has no other user)"""
    for index in (0, 1):
        match = _select_of_splats(op.operands[index], op)
        other = constant_splat(op.operands[1 - index])
        if match is None or other is None:
            continue
        p, c1, c2 = match
        if shape(p) != shape(op.result) and shape(p) != ():
            continue
        pair = (lambda c: [c, other]) if index == 0 else (lambda c: [other, c])
        v1, v2 = _evaluate(op, pair(c1)), _evaluate(op, pair(c2))
        if v1 is None or v2 is None:
            continue
        return _select_constants(op, b, p, (v1, v2))
    return None


@rule(
    example=[
        Example(lambda x: -jnp.where(x > 0, 2.0, -1.5), [(4,)]),
        Example(lambda x: jnp.abs(jnp.where(x > 0, 2, -7)), [(4,)], dtypes=["int32"]),
        Example(lambda x: ~jnp.where(x > 0, True, False), [(4,)]),
    ],
    roots=[hlo.NegateOp, hlo.NotOp, hlo.AbsOp],
    needs={0: hlo.SelectOp},
)
def unary_select_constants(op, b: Builder):
    """f(select(p, c1, c2)) -> select(p, f(c1), f(c2))   (f negate, not or abs; splat constants folded at compile time; the select has no other user)"""
    match = _select_of_splats(op.operand, op)
    if match is None:
        return None
    p, c1, c2 = match
    if shape(p) != shape(op.result) and shape(p) != ():
        return None
    return _select_constants(op, b, p, (_evaluate(op, [c1]), _evaluate(op, [c2])))


# ============================================================================ two compares with constants


_TIGHTER = {("and", "LT"): "min", ("and", "LE"): "min", ("and", "GT"): "max", ("and", "GE"): "max", ("or", "LT"): "max", ("or", "LE"): "max", ("or", "GT"): "min", ("or", "GE"): "min"}


def _compare_with_constant(v: SSAValue):
    c = producer(v, hlo.CompareOp)
    if c is None:
        return None
    k = constant_splat(c.rhs)
    if k is None or constant_splat(c.lhs) is not None:
        return None
    return c, k


@rule(
    example=[
        Example(lambda x: (x < 1.0) & (x < 0.5), [(4,)]),
        Example(lambda x: (x >= 1) | (x >= -1), [(4,)], dtypes=["int32"]),
        Example(lambda x: (x > 1.0) & (x > -0.5), [(4,)]),
    ],
    roots=[hlo.AndOp, hlo.OrOp],
    needs={0: hlo.CompareOp, 1: hlo.CompareOp},
)
def compare_pair_constants(op, b: Builder):
    """and(x < a, x < b) -> x < min(a, b) ;  or(x < a, x < b) -> x < max(a, b) ;  GT, LE, GE likewise   (a, b splat constants, not NaN; NaN x: false either way)"""
    left, right = _compare_with_constant(op.lhs), _compare_with_constant(op.rhs)
    if left is None or right is None:
        return None
    (c1, a), (c2, k) = left, right
    if c1.lhs is not c2.lhs or c1.rhs.type != c2.rhs.type:
        return None
    d = c1.comparison_direction.data.value
    if d != c2.comparison_direction.data.value or d in ("EQ", "NE"):
        return None
    t1 = None if c1.compare_type is None else c1.compare_type.data.value
    t2 = None if c2.compare_type is None else c2.compare_type.data.value
    if t1 != t2 or t1 == "TOTALORDER" or a.dtype != k.dtype or a.dtype.kind not in "iuf" or str(a.dtype) == "bfloat16":
        return None
    if t1 == "UNSIGNED" and a.dtype.kind == "i":
        return None
    if a.dtype.kind == "f" and (np.isnan(a) or np.isnan(k)):
        return None
    which = _TIGHTER[("and" if isinstance(op, hlo.AndOp) else "or", d)]
    pick = c1.rhs if (a <= k if which == "min" else a >= k) else c2.rhs
    return b.compare(c1.lhs, pick, d, t1)


# ============================================================================ integer division by powers of two


def _power_of_two(v: SSAValue) -> int | None:
    s = constant_splat(v)
    if s is None or s.dtype.kind != "u":
        return None
    n = int(s)
    return n.bit_length() - 1 if n > 0 and n & (n - 1) == 0 else None


@rule(example=Example(lambda x: lax.rem(x, jnp.uint32(8)), [(4,)], dtypes=["uint32"]), needs={1: SPLAT})
def remainder_power_of_two_unsigned(op: hlo.RemainderOp, b: Builder):
    """remainder(x, 2^k) -> and(x, 2^k - 1)   (unsigned integers)"""
    k = _power_of_two(op.rhs)
    if k is None or any(n < 0 for n in shape(op.result)):
        return None
    mask = emit_splat(b, np.asarray((1 << k) - 1, any_dtype(op.rhs)), op.rhs.type)
    return b.insert(hlo.AndOp(op.lhs, mask)).results[0]


@rule(example=Example(lambda x: lax.div(x, jnp.uint32(4)), [(4,)], dtypes=["uint32"]), needs={1: SPLAT})
def divide_power_of_two_unsigned(op: hlo.DivideOp, b: Builder):
    """divide(x, 2^k) -> shift_right_logical(x, k)   (unsigned integers)"""
    k = _power_of_two(op.rhs)
    if k is None or any(n < 0 for n in shape(op.result)):
        return None
    if k == 0:
        return op.lhs
    amount = emit_splat(b, np.asarray(k, any_dtype(op.rhs)), op.rhs.type)
    return b.insert(hlo.ShiftRightLogicalOp(op.lhs, amount)).results[0]


# ============================================================================ reduce of a constant


def _reduce_values(kind, arr, dims: tuple[int, ...]):
    if arr.dtype.kind in "iu":
        ufunc = {hlo.AddOp: np.add, hlo.MultiplyOp: np.multiply, hlo.MaximumOp: np.maximum, hlo.MinimumOp: np.minimum, hlo.AndOp: np.bitwise_and, hlo.OrOp: np.bitwise_or, hlo.XorOp: np.bitwise_xor}.get(kind)
    elif arr.dtype == np.bool_:
        ufunc = {hlo.AndOp: np.logical_and, hlo.OrOp: np.logical_or, hlo.XorOp: np.logical_xor, hlo.MaximumOp: np.logical_or, hlo.MinimumOp: np.logical_and}.get(kind)
    elif arr.dtype.kind == "f" and str(arr.dtype) != "bfloat16" and kind in (hlo.MaximumOp, hlo.MinimumOp):
        zeros = arr[arr == 0]
        if zeros.size and len(set(np.signbit(zeros).tolist())) > 1:
            return None  # +0.0 and -0.0 together: XLA orders them, numpy does not
        ufunc = np.maximum if kind is hlo.MaximumOp else np.minimum
    else:
        return None
    if ufunc is None:
        return None
    with np.errstate(all="ignore"):
        return np.asarray(ufunc.reduce(arr, axis=dims, dtype=arr.dtype) if arr.dtype.kind in "iu" else ufunc.reduce(arr, axis=dims)).astype(arr.dtype)


@rule(
    example=[
        Example(
            mlir=mlir_main(
                '  %c = stablehlo.constant dense<[[1, 2, 3, 4], [5, 6, 7, 8], [2147483647, 1, -4, 0]]> : tensor<3x4xi32>\n'
                "  %z = stablehlo.constant dense<3> : tensor<i32>\n"
                "  %0 = stablehlo.reduce(%c init: %z) applies stablehlo.add across dimensions = [0] : (tensor<3x4xi32>, tensor<i32>) -> tensor<4xi32>\n"
                "  %1 = stablehlo.add %x, %0 : tensor<4xi32>\n  func.return %1 : tensor<4xi32>",
                "%x: tensor<4xi32>",
                "tensor<4xi32>",
            )
        ),
        Example(lambda x: x + jnp.max(np.array([[1.5, -2.0], [0.5, 3.0]]), axis=1), [(2,)]),
    ],
    needs={0: CONSTANT},
)
def reduce_constant_fold(op: hlo.ReduceOp, b: Builder):
    """reduce(c, init) -> c'   (integers and booleans for add, multiply, max, min, and, or, xor, wrapping; floats for max and min, NaN propagating; at most 65536 elements)"""
    if len(op.inputs) != 1:
        return None
    kind = op.combiner()
    if kind is None:
        return None
    x, init = op.inputs[0], op.init_values[0]
    if int(np.prod(shape(x))) > MAX_FOLD_ELEMENTS or any(n < 0 for n in shape(op.results[0])):
        return None
    arr, iv = constant_array(x), constant_splat(init)
    if arr is None or iv is None or foldable_dtype(x) is None:
        return None
    dims = tuple(int(d) for d in op.dimensions.get_values())
    if not dims:
        return None
    partial = _reduce_values(kind, arr, dims)
    if partial is None:
        return None
    both = np.stack([np.broadcast_to(np.asarray(iv, arr.dtype), partial.shape), partial])
    out = _reduce_values(kind, both, (0,))
    if out is None:
        return None
    result_type = op.results[0].type
    if out.size and np.all(out.reshape(-1)[:1].tobytes() * out.size == out.tobytes()):
        return emit_splat(b, out.reshape(-1)[0], result_type)
    return emit(b, np.ascontiguousarray(out), result_type)
