"""Exact rewrites found missing by the conformance measurement on the peer's tests
(``benchmarks/hlo_conformance.py``): transcendental functions at the points where their
value is exact, absolute values of values whose sign bit is clear by construction, clamps
whose splat bounds have the transposed shape, negated quotients of a constant,
order-free reductions of reshapes and of broadcasts (any init), and ops both branches of
an ``if`` compute, hoisted before it.

Exactness. ``tanh``, ``sin``, ``tan``, ``expm1``, ``log1p`` and ``cbrt`` map ``+0`` to
``+0`` and ``-0`` to ``-0``; ``exp`` and ``cos`` map both zeros to 1, ``logistic`` to 1/2;
``log`` maps 1 to ``+0`` and both zeros to ``-inf``. These are the functions' exact values
(and XLA's on every float type), so folding them is not the libm folding the
constant_fold family refuses. ``abs(x) -> x`` needs more than ``x >= 0``: ``abs(-0)`` is
``+0``, so the analysis here proves that the sign bit of every element that is not NaN is
clear (``x * x``, ``exp``, ``abs``, ``logistic``; ``sqrt`` and ``rsqrt`` of such values;
sums, products, quotients, maxima and minima of such values; and data movement of them).
IEEE division is sign-symmetric, so ``-(c / x) == (-c) / x`` bit for bit, NaN aside.
Maximum, minimum, and, or are idempotent (copies of an element change no reduction, with
any init; XLA orders ``-0 < +0`` in both argument orders), and maximum, minimum, logic
and integer addition are order-free. Float sums are not rewritten here: XLA sums a
reshaped operand in another order (``1e308 + 1e308 - inf`` gives ``-inf`` or NaN). An op
without regions and side effects that both branches of an ``if`` compute from values
defined outside it has the same value before the ``if``.
"""

from __future__ import annotations

from ..lazy_jax import jnp
from ..lazy_jax import lax
from ..lazy_jax import np
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ..pattern import SPLAT, Example, is_float_tensor, producer, rule, shape
from .common import constant_array, constant_splat, emit_splat, mlir_constant, mlir_main

# ============================================================================ transcendental functions at exact points


_ODD_AT_ZERO = (hlo.TanhOp, hlo.SineOp, hlo.TanOp, hlo.ExponentialMinusOneOp, hlo.LogPlusOneOp, hlo.CbrtOp)
"""f(+0) = +0 and f(-0) = -0."""
_ONE_AT_ZERO = (hlo.ExponentialOp, hlo.CosineOp)


def _exact_value(op, c: float, negative_zero: bool) -> float | None:
    """f(c) when it is exact for the op ``op`` and the scalar ``c``, else None."""
    if c == 0:
        if isinstance(op, _ODD_AT_ZERO):
            return -0.0 if negative_zero else 0.0
        if isinstance(op, _ONE_AT_ZERO):
            return 1.0
        if isinstance(op, hlo.LogisticOp):
            return 0.5
        if isinstance(op, hlo.LogOp):
            return -np.inf
    if c == 1 and isinstance(op, hlo.LogOp):
        return 0.0
    return None


@rule(
    example=[
        Example(lambda x: x + jnp.tanh(jnp.zeros(4)), [(4,)]),
        Example(lambda x: x * jnp.sin(jnp.full(4, -0.0)), [(4,)]),
        Example(lambda x: x + jnp.exp(jnp.zeros(4, jnp.float32)), [(4,)], dtypes=["float32"]),
        Example(lambda x: x + jnp.log(jnp.ones(4)), [(4,)]),
        Example(lambda x: jnp.maximum(x, jnp.log(jnp.zeros(4))), [(4,)]),
        Example(mlir=mlir_main(mlir_constant("z", "-0.0", "tensor<4xf64>") + """
  %s = "stablehlo.logistic"(%z) : (tensor<4xf64>) -> tensor<4xf64>
  %0 = "stablehlo.multiply"(%x, %s) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  func.return %0 : tensor<4xf64>""")),
        Example(lambda x: x + jnp.cos(jnp.full(4, -0.0)), [(4,)]),
        Example(lambda x: x / jnp.expm1(jnp.full(4, -0.0)), [(4,)]),
        Example(lambda x: x + jnp.log1p(jnp.zeros(4, jnp.bfloat16)).astype(jnp.float64), [(4,)]),
    ],
    roots=[hlo.TanhOp, hlo.SineOp, hlo.TanOp, hlo.ExponentialMinusOneOp, hlo.LogPlusOneOp, hlo.CbrtOp, hlo.ExponentialOp, hlo.CosineOp, hlo.LogisticOp, hlo.LogOp],
    needs={0: SPLAT},
)
def transcendental_exact_point(op, b: Builder):
    """f(splat c) -> splat f(c)   (c where f is exact: tanh, sin, tan, expm1, log1p, cbrt at ±0 -> ±0; exp, cos at ±0 -> 1; logistic(±0) -> 1/2; log(1) -> +0, log(±0) -> -inf)"""
    x = op.operand
    if not is_float_tensor(x) or x.type != op.result.type or any(n < 0 for n in shape(x)):
        return None
    c = constant_splat(x)
    if c is None:
        return None
    value = float(c)
    out = _exact_value(op, value, bool(np.signbit(value)))
    if out is None:
        return None
    return emit_splat(b, np.asarray(out, dtype=np.asarray(c).dtype), op.result.type)


# ============================================================================ absolute values of values whose sign bit is clear


_SIGN_CLEAR_LEAVES = (hlo.AbsOp, hlo.ExponentialOp, hlo.LogisticOp)
_SIGN_CLEAR_OF_OPERAND = (hlo.SqrtOp, hlo.RsqrtOp, hlo.ReshapeOp, hlo.TransposeOp, hlo.BroadcastInDimOp, hlo.SliceOp, hlo.DynamicSliceOp, hlo.ReverseOp)
_SIGN_CLEAR_OF_BOTH = (hlo.AddOp, hlo.MultiplyOp, hlo.DivideOp, hlo.MaximumOp, hlo.MinimumOp)


def _sign_clear(v: SSAValue, depth: int = 8) -> bool:
    """Every element of the real floating-point ``v`` that is not NaN has its sign bit
    clear (>= +0: never -0, never negative), by construction."""
    if not is_float_tensor(v):
        return False
    owner = v.owner
    if isinstance(owner, hlo.ConstantOp) or (isinstance(owner, hlo.BroadcastInDimOp) and isinstance(owner.operand.owner, hlo.ConstantOp)):
        s = constant_splat(v)
        if s is not None:
            return bool(np.isnan(s) or not np.signbit(s))
        arr = constant_array(v)
        return arr is not None and bool((np.isnan(arr) | ~np.signbit(arr)).all())
    if depth == 0 or owner is None:
        return False
    if isinstance(owner, _SIGN_CLEAR_LEAVES):
        return owner.operand.type == v.type  # real abs (not of a complex operand), exp, logistic
    if isinstance(owner, hlo.MultiplyOp) and owner.lhs is owner.rhs:
        return True  # x * x: the sign of a product is the xor of the signs
    if isinstance(owner, _SIGN_CLEAR_OF_OPERAND):
        return _sign_clear(owner.operand, depth - 1)
    if isinstance(owner, hlo.ConvertOp):
        return is_float_tensor(owner.operand) and _sign_clear(owner.operand, depth - 1)
    if isinstance(owner, _SIGN_CLEAR_OF_BOTH):
        return _sign_clear(owner.lhs, depth - 1) and _sign_clear(owner.rhs, depth - 1)
    if isinstance(owner, hlo.ConcatenateOp):
        return all(_sign_clear(x, depth - 1) for x in owner.inputs)
    if isinstance(owner, hlo.PadOp):
        return _sign_clear(owner.operand, depth - 1) and _sign_clear(owner.padding_value, depth - 1)
    if isinstance(owner, hlo.SelectOp):
        return _sign_clear(owner.on_true, depth - 1) and _sign_clear(owner.on_false, depth - 1)
    return False


@rule(
    example=[
        Example(lambda x, i: jnp.abs(lax.dynamic_slice((x * x).reshape(4, 3), (i, i), (2, 3))), [(12,), ()], dtypes=["float64", "int32"]),
        Example(lambda x, y: jnp.abs(jnp.concatenate([jnp.exp(x), jnp.sqrt(y * y)])), [(3,), (2,)]),
        Example(lambda x, y: jnp.abs(jnp.where(x > 0, x * x, jnp.abs(y) / (1.0 + y * y))), [(4,), (4,)]),
        Example(lambda x: jnp.abs(jnp.pad(jnp.maximum(x * x, jnp.exp(x)), 1, constant_values=2.0)), [(4,)]),
    ],
)
def abs_sign_clear(op: hlo.AbsOp, b: Builder):
    """abs(x) -> x   (floats whose sign bit is clear by construction: squares, exp, abs, logistic, sqrt and rsqrt of such, their sums, products, quotients, maxima, minima, and data movement (dynamic_slice, concatenate, pad, select, ...); -0 excluded, so exact)"""
    x = op.operand
    if x.type != op.result.type or not _sign_clear(x):
        return None
    return x


# ============================================================================ clamp with splat bounds of the transposed shape


@rule(
    example=[
        Example(lambda x: lax.clamp(jnp.zeros((3, 4)), x.T, jnp.full((3, 4), 6.0)).T, [(4, 3)]),
        Example(mlir=mlir_main(
            mlir_constant("lo", "-0.5", "tensor<4x3xf64>") + "\n" + mlir_constant("hi", "0.5", "tensor<f64>") + """
  %t = "stablehlo.transpose"(%x) <{permutation = array<i64: 1, 0>}> : (tensor<3x4xf64>) -> tensor<4x3xf64>
  %0 = "stablehlo.clamp"(%lo, %t, %hi) : (tensor<4x3xf64>, tensor<4x3xf64>, tensor<f64>) -> tensor<4x3xf64>
  func.return %0 : tensor<4x3xf64>""", args="%x: tensor<3x4xf64>", result="tensor<4x3xf64>")),
    ],
    needs={1: hlo.TransposeOp},
)
def clamp_transpose_splat_bounds(op: hlo.ClampOp, b: Builder):
    """clamp(lo, transpose(x, p), hi) -> transpose(clamp(lo', x, hi'), p)   (lo and hi scalars or splat constants, one of them not a scalar; lo', hi' the same splats in x's shape; the transpose has no other user)"""
    t = producer(op.operand, hlo.TransposeOp)
    if t is None or any(use.operation is not op for use in t.result.uses):
        return None
    scalars = [shape(v) == () for v in (op.min, op.max)]
    if all(scalars):
        return None  # clamp_transpose
    bounds = []
    for v, scalar in zip((op.min, op.max), scalars):
        if scalar:
            bounds.append(v)
            continue
        c = constant_splat(v)
        if c is None:
            return None
        bounds.append(c)
    if any(n < 0 for n in shape(t.operand)):
        return None
    lo, hi = (v if isinstance(v, SSAValue) else emit_splat(b, v, t.operand.type) for v in bounds)
    return b.transpose(b.clamp(lo, t.operand, hi), list(t.permutation.get_values()))


# ============================================================================ negated quotients


@rule(example=[Example(lambda x: -(2.0 / x), [(4,)]), Example(lambda x: -(-0.0 / x), [(4,)]), Example(lambda x: -(jnp.float32(3.0) / x), [(4,)], dtypes=["float32"])], needs={0: hlo.DivideOp})
def negate_divide_constant_numerator(op: hlo.NegateOp, b: Builder):
    """negate(divide(c, x)) -> divide(-c, x)   (floats, c a splat constant: IEEE division is sign-symmetric, zeros and infinities included)"""
    d = producer(op.operand, hlo.DivideOp)
    if d is None or not is_float_tensor(op.result) or op.result.type != d.lhs.type:
        return None
    c = constant_splat(d.lhs)
    if c is None or any(n < 0 for n in shape(d.lhs)):
        return None
    return b.div(emit_splat(b, -np.asarray(c), d.lhs.type), d.rhs)


# ============================================================================ reductions of reshapes


@rule(
    example=[
        Example(lambda x: jnp.min(x.reshape(3, 8, 1), axis=1), [(3, 4, 2, 1)]),
        Example(lambda x: jnp.max(x.reshape(2, 4, 2, 3, 5), axis=(1, 2, 3)), [(2, 4, 6, 5)]),
    ],
    needs={0: hlo.ReshapeOp},
)
def reduce_reshape_whole_groups(op: hlo.ReduceOp, b: Builder):
    """reduce(reshape(x), D) -> reduce(x, D')   (k order-free: maximum, minimum, logic, integer addition; the reshape only splits or merges dimensions D reduces whole and inserts or removes size-1 dimensions outside D; D' the dimensions of x they come from, none of size 1. Not for float sums: XLA sums the two shapes in different orders)"""
    from .common import reshape_groups
    from .reduce import _dims, _monoid, _order_free, _reduce

    if len(op.inputs) != 1:
        return None
    r = producer(op.inputs[0], hlo.ReshapeOp)
    if r is None:
        return None
    kind = _monoid(op)
    if kind is None or not _order_free(kind, r.operand):
        return None
    xs, ys, dims = shape(r.operand), shape(r.result), set(_dims(op))
    if any(n < 1 for n in (*xs, *ys)) or any(ys[d] == 1 for d in dims):
        return None  # reduce_unit_dims drops reduced size-1 dimensions
    groups = reshape_groups(xs, ys)
    if groups is None:
        return None
    new: list[int] = []
    for gi, gj in groups:
        inside = [j in dims for j in gj]
        if all(inside):
            new += gi
        elif any(inside) or len(gi) != 1 or len(gj) != 1:
            return None
    if not new or [xs[d] for d in range(len(xs)) if d not in new] != list(shape(op.results[0])):
        return None
    return _reduce(b, r.operand, op.init_values[0], new, kind)



# ============================================================================ ops both branches of an if compute


_IF_COMMON_EXAMPLE = """
func.func @main(%x: tensor<3x2xf64>, %y: tensor<2x3xf64>, %p: tensor<i1>) -> tensor<2x3xf64> {
  %r = "stablehlo.if"(%p) ({
    %t = stablehlo.transpose %x, dims = [1, 0] : (tensor<3x2xf64>) -> tensor<2x3xf64>
    "stablehlo.return"(%t) : (tensor<2x3xf64>) -> ()
  }, {
    %e = stablehlo.exponential %y : tensor<2x3xf64>
    %t = stablehlo.transpose %x, dims = [1, 0] : (tensor<3x2xf64>) -> tensor<2x3xf64>
    %m = stablehlo.multiply %e, %t : tensor<2x3xf64>
    "stablehlo.return"(%m) : (tensor<2x3xf64>) -> ()
  }) : (tensor<i1>) -> tensor<2x3xf64>
  func.return %r : tensor<2x3xf64>
}"""


def _defined_outside(v: SSAValue, op) -> bool:
    """``v`` is defined outside ``op``'s regions."""
    scope = v.owner.parent_op()  # of the defining op, or of the block holding the argument
    while scope is not None:
        if scope is op:
            return False
        scope = scope.parent_op()
    return True


def _same_op(a, c) -> bool:
    return (
        a.name == c.name
        and list(a.operands) == list(c.operands)
        and [r.type for r in a.results] == [r.type for r in c.results]
        and a.attributes == c.attributes
        and a.properties == c.properties
    )


def _common_pairs(op: hlo.IfOp) -> list[tuple[int, int]]:
    """Positions (in the true and the false branch) of the pure ops without regions that
    both branches compute from values defined outside the if. Ops are matched by name and
    operands first (a dictionary, not all pairs), then by types and attributes."""
    from ...ir.query import body_ops
    from ..cleanup import side_effect_free

    if len(op.true_branch.blocks) != 1 or len(op.false_branch.blocks) != 1:
        return []
    candidates: dict[tuple, list[int]] = {}
    false_ops = body_ops(op.false_branch.block)
    for j, c in enumerate(false_ops):
        if not c.regions and all(_defined_outside(v, op) for v in c.operands):
            candidates.setdefault((c.name, tuple(c.operands)), []).append(j)
    if not candidates:
        return []
    pairs: list[tuple[int, int]] = []
    taken: set[int] = set()
    for i, a in enumerate(body_ops(op.true_branch.block)):
        for j in candidates.get((a.name, tuple(a.operands)), ()):
            if j not in taken and not a.regions and _same_op(a, false_ops[j]) and side_effect_free(a):
                pairs.append((i, j))
                taken.add(j)
                break
    return pairs


_IF_COMMON_TWO = """
func.func @main(%x: tensor<3xf64>, %y: tensor<3xf64>, %p: tensor<i1>) -> tensor<3xf64> {
  %r = "stablehlo.if"(%p) ({
    %c = stablehlo.constant dense<2.0> : tensor<3xf64>
    %s = stablehlo.sine %x : tensor<3xf64>
    %m = stablehlo.multiply %s, %c : tensor<3xf64>
    "stablehlo.return"(%m) : (tensor<3xf64>) -> ()
  }, {
    %s = stablehlo.sine %x : tensor<3xf64>
    %c = stablehlo.constant dense<2.0> : tensor<3xf64>
    %d = stablehlo.constant dense<3.0> : tensor<3xf64>
    %a = stablehlo.add %s, %y : tensor<3xf64>
    %m = stablehlo.multiply %a, %c : tensor<3xf64>
    %n = stablehlo.multiply %m, %d : tensor<3xf64>
    "stablehlo.return"(%n) : (tensor<3xf64>) -> ()
  }) : (tensor<i1>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}"""


@rule(example=[Example(mlir=_IF_COMMON_EXAMPLE), Example(mlir=_IF_COMMON_TWO)])
def if_common_op(op: hlo.IfOp, b: Builder):
    """if(p, {..., y = f(x), ...}, {..., z = f(x), ...}) -> y = f(x); if(p, {...}, {...})   (f pure, without regions, on values defined outside the if, in both branches: computed once before it)"""
    from ...ir.query import body_ops

    pairs = _common_pairs(op)
    if not pairs:
        return None
    true_ops = body_ops(op.true_branch.block)
    hoisted = [b.insert(true_ops[i].clone()) for i, _ in pairs]
    true_branch, false_branch = op.true_branch.clone(), op.false_branch.clone()
    for region, side in ((true_branch, 0), (false_branch, 1)):
        inner_ops = body_ops(region.block)
        for pair, new in zip(pairs, hoisted):
            inner = inner_ops[pair[side]]
            for old, value in zip(inner.results, new.results):
                old.replace_all_uses_with(value)
            inner.detach()
            inner.erase()
    new_if = hlo.IfOp.create(operands=[op.pred], result_types=[r.type for r in op.results], regions=[true_branch, false_branch])
    return list(b.insert(new_if).results)


# ============================================================================ idempotent reductions of broadcasts, any init


_REDUCE_BROADCAST_EXAMPLE = """
func.func @main(%x: tensor<1x3xf64>, %c: tensor<f64>) -> tensor<f64> {
  %b = stablehlo.broadcast_in_dim %x, dims = [0, 1] : (tensor<1x3xf64>) -> tensor<1x3x4xf64>
  %r = stablehlo.reduce(%b init: %c) applies stablehlo.%K across dimensions = [0, 1, 2] : (tensor<1x3x4xf64>, tensor<f64>) -> tensor<f64>
  func.return %r : tensor<f64>
}"""


@rule(
    example=[
        Example(mlir=_REDUCE_BROADCAST_EXAMPLE.replace("%K", "minimum")),
        Example(mlir=_REDUCE_BROADCAST_EXAMPLE.replace("%K", "maximum")),
        Example(mlir="""
func.func @main(%x: tensor<2x3xi32>, %c: tensor<i32>) -> tensor<2xi32> {
  %b = stablehlo.broadcast_in_dim %x, dims = [1, 2] : (tensor<2x3xi32>) -> tensor<4x2x3xi32>
  %r = stablehlo.reduce(%b init: %c) applies stablehlo.or across dimensions = [0, 2] : (tensor<4x2x3xi32>, tensor<i32>) -> tensor<2xi32>
  func.return %r : tensor<2xi32>
}"""),
    ],
    needs={0: hlo.BroadcastInDimOp},
)
def reduce_idempotent_broadcast_any_init(op: hlo.ReduceOp, b: Builder):
    """reduce(broadcast_in_dim(y), init, D) -> reduce(y, init, D')   (k maximum, minimum, and or or, whatever init: copies of an element change nothing; every dimension the broadcast adds or expands is reduced and non-empty)"""
    from .reduce import _IDEMPOTENT, _reduce

    if len(op.inputs) != 1:
        return None
    bc = producer(op.inputs[0], hlo.BroadcastInDimOp)
    if bc is None:
        return None
    kind = op.combiner()
    if kind not in _IDEMPOTENT:
        return None
    y, dims = bc.operand, list(bc.broadcast_dimensions.get_values())
    ys, xs, reduced = shape(y), shape(bc.result), set(op.dimensions.get_values())
    if any(n < 0 for n in (*ys, *xs)):
        return None
    copied = [d for d in range(len(xs)) if d not in dims or (ys[dims.index(d)] == 1 and xs[d] != 1)]
    if not copied or any(d not in reduced or xs[d] == 0 for d in copied):
        return None
    kept_y = [k for k, d in enumerate(dims) if d not in reduced]
    if [dims[k] for k in kept_y] != sorted(dims[k] for k in kept_y):
        return None  # the kept dimensions would come out permuted
    if [ys[k] for k in kept_y] != list(shape(op.results[0])):
        return None
    return _reduce(b, y, op.init_values[0], [k for k, d in enumerate(dims) if d in reduced], kind)
