"""Logarithms, exponentials and powers rewritten with the identities of real analysis:
fused forms (``exp(x) - 1`` as ``exponential_minus_one``), inverse pairs, logarithms of
products and powers, and transcendental functions of constants evaluated at compile time.

Exactness. None of these is exact in floating point: the fused and inverse forms round
differently (the fused ones more accurately), logarithm laws need positive finite
arguments, and a function of a constant evaluated by the host's libm may differ in the
last place from XLA's implementation. Every rule here is ``unsafe`` (on only under
``assume_finite``, fast-math).
"""

from __future__ import annotations

from ..lazy_jax import jnp
from ..lazy_jax import lax
from ..lazy_jax import np
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ..pattern import CONSTANT, SPLAT, Example, is_float_tensor, producer, rule, shape, splat_value
from .common import constant_splat, emit_splat, foldable_dtype


def _unary(b: Builder, cls, x: SSAValue) -> SSAValue:
    return b.insert(cls(x)).results[0]


def _is_real_float(v: SSAValue) -> bool:
    dt = foldable_dtype(v)
    return dt is not None and is_float_tensor(v)


# ============================================================================ fused forms


@rule(example=[Example(lambda x: jnp.exp(x) + (-1.0), [(4,)]), Example(lambda x: -1.0 + jnp.exp(x), [(4,)])], unsafe=True, commutative=True, needs=hlo.ExponentialOp)
def add_exp_minus_one(op: hlo.AddOp, b: Builder, x: SSAValue, y: SSAValue):
    """add(exp(x), -1) -> exponential_minus_one(x)   (more accurate: values change; fast-math only)"""
    e = producer(x, hlo.ExponentialOp)
    if e is None or not _is_real_float(op.result) or splat_value(y) != -1:
        return None
    return _unary(b, hlo.ExponentialMinusOneOp, e.operand)


@rule(example=Example(lambda x: 1.0 - jnp.exp(x), [(4,)]), unsafe=True, needs={0: SPLAT, 1: hlo.ExponentialOp})
def one_minus_exp(op: hlo.SubtractOp, b: Builder):
    """subtract(1, exp(x)) -> negate(exponential_minus_one(x))   (more accurate: values change; fast-math only)"""
    e = producer(op.rhs, hlo.ExponentialOp)
    if e is None or not _is_real_float(op.result) or splat_value(op.lhs) != 1:
        return None
    return b.neg(_unary(b, hlo.ExponentialMinusOneOp, e.operand))


@rule(example=Example(lambda x: jnp.log1p(jnp.expm1(x)), [(4,)]), unsafe=True, needs={0: hlo.ExponentialMinusOneOp})
def log_plus_one_exp_minus_one(op: hlo.LogPlusOneOp, b: Builder):
    """log_plus_one(exponential_minus_one(x)) -> x   (rounding, overflow of expm1; fast-math only)"""
    inner = producer(op.operand, hlo.ExponentialMinusOneOp)
    return inner.operand if inner is not None and _is_real_float(op.result) else None


@rule(example=Example(lambda x: jnp.expm1(jnp.log1p(x)), [(4,)], domain=(-0.5, 2.0)), unsafe=True, needs={0: hlo.LogPlusOneOp})
def exp_minus_one_log_plus_one(op: hlo.ExponentialMinusOneOp, b: Builder):
    """exponential_minus_one(log_plus_one(x)) -> x   (x > -1; rounding; fast-math only)"""
    inner = producer(op.operand, hlo.LogPlusOneOp)
    return inner.operand if inner is not None and _is_real_float(op.result) else None


@rule(example=Example(lambda x: jnp.exp(jnp.log1p(x)), [(4,)], domain=(-0.5, 2.0)), unsafe=True, needs={0: hlo.LogPlusOneOp})
def exp_log_plus_one(op: hlo.ExponentialOp, b: Builder):
    """exp(log_plus_one(x)) -> add(x, 1)   (x > -1; rounding; fast-math only)"""
    inner = producer(op.operand, hlo.LogPlusOneOp)
    if inner is None or not _is_real_float(op.result):
        return None
    return b.add(inner.operand, b.ones_like(inner.operand))


# ============================================================================ logarithm laws


@rule(example=Example(lambda x, y: jnp.log(x ** y), [(4,), (4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.PowerOp})
def log_power(op: hlo.LogOp, b: Builder):
    """log(power(x, y)) -> multiply(y, log(x))   (x > 0; rounding, overflow; fast-math only)"""
    p = producer(op.operand, hlo.PowerOp)
    if p is None or not _is_real_float(op.result) or p.rhs.type != op.result.type:
        return None
    return b.mul(p.rhs, b.log(p.lhs))


@rule(example=Example(lambda x: jnp.log(lax.rsqrt(x)), [(4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.RsqrtOp})
def log_rsqrt(op: hlo.LogOp, b: Builder):
    """log(rsqrt(x)) -> multiply(log(x), -0.5)   (x > 0; rounding; fast-math only)"""
    r = producer(op.operand, hlo.RsqrtOp)
    if r is None or not _is_real_float(op.result):
        return None
    return b.mul(b.log(r.operand), b.full_like(r.operand, -0.5))


@rule(example=Example(lambda x: jnp.log(jnp.cbrt(x)), [(4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.CbrtOp})
def log_cbrt(op: hlo.LogOp, b: Builder):
    """log(cbrt(x)) -> divide(log(x), 3)   (x > 0; rounding; fast-math only)"""
    r = producer(op.operand, hlo.CbrtOp)
    if r is None or not _is_real_float(op.result):
        return None
    return b.div(b.log(r.operand), b.full_like(r.operand, 3.0))


@rule(example=Example(lambda x: jnp.log(1.0 / x), [(4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.DivideOp})
def log_reciprocal(op: hlo.LogOp, b: Builder):
    """log(divide(1, x)) -> negate(log(x))   (x > 0; rounding; fast-math only)"""
    d = producer(op.operand, hlo.DivideOp)
    if d is None or not _is_real_float(op.result) or splat_value(d.lhs) != 1:
        return None
    return b.neg(b.log(d.rhs))


def _positive_splat(v: SSAValue):
    s = constant_splat(v)
    if s is None or s.dtype.kind != "f":
        return None
    f = float(s)
    return f if np.isfinite(f) and f > 0 else None


@rule(
    example=[Example(lambda x: jnp.log(x * 4.0), [(4,)], domain=(0.5, 2.0)), Example(lambda x: jnp.log(x / 4.0), [(4,)], domain=(0.5, 2.0))],
    unsafe=True,
    needs={0: (hlo.MultiplyOp, hlo.DivideOp)},
)
def log_scaled(op: hlo.LogOp, b: Builder):
    """log(x * c) -> log(x) + log(c) ;  log(x / c) -> log(x) - log(c)   (x > 0, c a positive splat, log(c) by the host's libm; fast-math only)"""
    m = producer(op.operand, (hlo.MultiplyOp, hlo.DivideOp))
    if m is None or not _is_real_float(op.result) or any(n < 0 for n in shape(op.result)):
        return None
    pairs = ((m.lhs, m.rhs), (m.rhs, m.lhs)) if isinstance(m, hlo.MultiplyOp) else ((m.lhs, m.rhs),)
    for x, c in pairs:
        cv = _positive_splat(c)
        if cv is None or constant_splat(x) is not None:
            continue
        dt = foldable_dtype(op.result)
        lc = emit_splat(b, np.asarray(np.log(np.float64(cv))).astype(dt), op.result.type)
        lx = b.log(x)
        return b.add(lx, lc) if isinstance(m, hlo.MultiplyOp) else b.sub(lx, lc)
    return None


@rule(example=Example(lambda x: x ** -0.5, [(4,)], domain=(0.5, 2.0)), unsafe=True, needs={1: SPLAT})
def power_minus_half(op: hlo.PowerOp, b: Builder):
    """power(x, -0.5) -> rsqrt(x)   (differs at -0 and -inf and in rounding; fast-math only)"""
    if not _is_real_float(op.result) or splat_value(op.rhs) != -0.5:
        return None
    return b.rsqrt(op.lhs)


@rule(example=Example(lambda x: jnp.exp(-jnp.log(x)), [(4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.NegateOp})
def exp_negate_log(op: hlo.ExponentialOp, b: Builder):
    """exp(negate(log(x))) -> divide(1, x)   (x > 0; rounding; fast-math only)"""
    n = producer(op.operand, hlo.NegateOp)
    lg = None if n is None else producer(n.operand, hlo.LogOp)
    if lg is None or not _is_real_float(op.result):
        return None
    return b.div(b.ones_like(lg.operand), lg.operand)


@rule(example=Example(lambda x, y: jnp.exp(y * jnp.log(x)), [(4,), (4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.MultiplyOp})
def exp_multiply_log(op: hlo.ExponentialOp, b: Builder):
    """exp(multiply(y, log(x))) -> power(x, y)   (x > 0; rounding; fast-math only)"""
    m = producer(op.operand, hlo.MultiplyOp)
    if m is None or not _is_real_float(op.result):
        return None
    for y, lgv in ((m.lhs, m.rhs), (m.rhs, m.lhs)):
        lg = producer(lgv, hlo.LogOp)
        if lg is not None:
            return b.pow(lg.operand, y)
    return None


# ============================================================================ functions of constants


def _host_function(cls):
    import numpy

    names = {hlo.LogOp: "log", hlo.LogPlusOneOp: "log1p", hlo.ExponentialOp: "exp", hlo.ExponentialMinusOneOp: "expm1", hlo.SineOp: "sin", hlo.CosineOp: "cos", hlo.TanhOp: "tanh", hlo.CbrtOp: "cbrt", hlo.TanOp: "tan"}
    if cls is hlo.RsqrtOp:
        return lambda x: 1.0 / numpy.sqrt(x)
    if cls is hlo.LogisticOp:
        return lambda x: 1.0 / (1.0 + numpy.exp(-x))
    return getattr(numpy, names[cls])


@rule(
    example=[
        Example(lambda x: x + jnp.log(np.array([1.0, 2.0, 3.0, 4.0])), [(4,)]),
        Example(lambda x: x + jnp.exp(np.array([0.5, -1.0, 2.0, 0.25])), [(4,)]),
        Example(lambda x: x + jnp.log1p(np.array([0.5, -0.5, 2.0, 0.25])), [(4,)]),
    ],
    roots=[hlo.LogOp, hlo.LogPlusOneOp, hlo.ExponentialOp, hlo.ExponentialMinusOneOp, hlo.SineOp, hlo.CosineOp, hlo.TanOp, hlo.TanhOp, hlo.CbrtOp, hlo.RsqrtOp, hlo.LogisticOp],
    unsafe=True,
    needs={0: CONSTANT},
)
def transcendental_constant_fold(op, b: Builder):
    """log(c), exp(c), log_plus_one(c), exponential_minus_one(c), sin, cos, tan, tanh, cbrt, rsqrt, logistic (c) -> c'   (f32, f64; the host's libm may differ from XLA's in the last place: fast-math only)"""
    from .constant_fold import _fold

    dt = foldable_dtype(op.result)
    if dt is None or dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        return None
    fn = _host_function(type(op))
    return _fold(op, b, lambda x: fn(x.astype(np.float64)) if x.dtype.kind == "f" else None)


# ============================================================================ roots and powers


@rule(example=Example(lambda x: jnp.sqrt(x) * lax.rsqrt(x), [(4,)], domain=(0.5, 2.0)), unsafe=True, commutative=True, needs=hlo.SqrtOp)
def multiply_sqrt_rsqrt(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(sqrt(x), rsqrt(x)) -> 1   (x > 0 and finite; rounding; fast-math only)"""
    s, r = producer(x, hlo.SqrtOp), producer(y, hlo.RsqrtOp)
    if s is None or r is None or s.operand is not r.operand or not _is_real_float(op.result):
        return None
    return b.ones_like(op.result)


@rule(example=Example(lambda x, y: x / lax.rsqrt(y), [(4,), (4,)], domain=(0.5, 2.0)), unsafe=True, needs={1: hlo.RsqrtOp})
def divide_rsqrt(op: hlo.DivideOp, b: Builder):
    """divide(x, rsqrt(y)) -> multiply(x, sqrt(y))   (y > 0; rounding; fast-math only)"""
    r = producer(op.rhs, hlo.RsqrtOp)
    if r is None or not _is_real_float(op.result):
        return None
    return b.mul(op.lhs, b.sqrt(r.operand))


@rule(example=Example(lambda x: lax.rsqrt(x * x), [(4,)], domain=(0.5, 2.0)), unsafe=True, needs={0: hlo.MultiplyOp})
def rsqrt_square(op: hlo.RsqrtOp, b: Builder):
    """rsqrt(multiply(x, x)) -> divide(1, abs(x))   (x * x must not overflow or underflow; rounding; fast-math only)"""
    m = producer(op.operand, hlo.MultiplyOp)
    if m is None or m.lhs is not m.rhs or not _is_real_float(op.result):
        return None
    return b.div(b.ones_like(op.result), b.abs(m.lhs))


@rule(example=Example(lambda x: x ** 3.0, [(4,)]), unsafe=True, needs={1: SPLAT})
def power_three(op: hlo.PowerOp, b: Builder):
    """power(x, 3) -> multiply(multiply(x, x), x)   (two roundings instead of one; fast-math only)"""
    if not _is_real_float(op.result) or splat_value(op.rhs) != 3:
        return None
    return b.mul(b.mul(op.lhs, op.lhs), op.lhs)


@rule(example=Example(lambda x, y: jnp.exp(x) ** y, [(4,), (4,)]), unsafe=True, needs={0: hlo.ExponentialOp})
def power_of_exp(op: hlo.PowerOp, b: Builder):
    """power(exp(x), y) -> exp(multiply(x, y))   (rounding, overflow of exp(x); fast-math only)"""
    e = producer(op.lhs, hlo.ExponentialOp)
    if e is None or not _is_real_float(op.result) or op.rhs.type != op.result.type:
        return None
    return b.exp(b.mul(e.operand, op.rhs))


@rule(
    example=Example(
        mlir="func.func @main(%x: tensor<4xf64>) -> tensor<4xf64> {\n  %n = stablehlo.negate %x : tensor<4xf64>\n"
        "  %0 = stablehlo.logistic %n : tensor<4xf64>\n  func.return %0 : tensor<4xf64>\n}"
    ),
    unsafe=True,
    needs={0: hlo.NegateOp},
)
def logistic_negate(op: hlo.LogisticOp, b: Builder):
    """logistic(negate(x)) -> subtract(1, logistic(x))   (cancellation for large x; fast-math only)"""
    n = producer(op.operand, hlo.NegateOp)
    if n is None or not _is_real_float(op.result):
        return None
    return b.sub(b.ones_like(op.result), b.logistic(n.operand))
