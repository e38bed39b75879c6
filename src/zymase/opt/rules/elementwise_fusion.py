"""Identities of elementwise arithmetic met in generated derivative code: negations moved
outwards (where they cancel or fold into constants), absolute values and signs combined,
repeated constants merged.

IEEE rounding is symmetric, so ``x * -y == -(x * y)`` and ``-x / y == -(x / y)`` exactly;
rules whose results may differ only in the sign of a zero result say so ("up to the sign of
zero", as ``subtract(0, x) -> negate(x)`` in algebraic.py). Integer division truncates and
integer negation wraps, so division rules are for floats only. Rules that change rounding
or fail for NaN/Inf are marked unsafe (applied only with ``assume_finite``).
"""

from __future__ import annotations

from ..lazy_jax import jnp
from ..lazy_jax import lax
from xdsl.dialects.builtin import ComplexType, TensorType
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ...ir.dense import element_dtype
from ..pattern import SPLAT, Example, is_float_tensor, orders, producer, rule, splat_value

I32 = ["int32", "int32"]


def _is_int(v: SSAValue) -> bool:
    try:
        return element_dtype(v.type.get_element_type()).kind in "iu"
    except (TypeError, AttributeError):
        return False


def _is_complex(v: SSAValue) -> bool:
    return isinstance(v.type, TensorType) and isinstance(v.type.get_element_type(), ComplexType)


def _is_static(v: SSAValue) -> bool:
    """No dynamic (``?``) dimension: constants of ``v``'s type can be built."""
    return all(d >= 0 for d in v.type.get_shape())


def _neg(v: SSAValue) -> hlo.NegateOp | None:
    return producer(v, hlo.NegateOp)


def _splat(v: SSAValue):
    """The scalar value of a splat constant of a float or integer type, else None."""
    if not (is_float_tensor(v) or _is_int(v)):
        return None
    return splat_value(v)


def _negated_constant(b: Builder, like: SSAValue, c) -> SSAValue:
    import numpy as np

    dt = element_dtype(like.type.get_element_type())
    return b.full_like(like, -np.asarray(c, dtype=dt))


# ============================================================================ negations outwards


@rule(example=[Example(lambda x, y: x * (-y), [(4,), (4,)]), Example(lambda x, y: (-x) * y, [(4,), (4,)])], commutative=True, needs=hlo.NegateOp)
def multiply_negate(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(x, negate(y)) -> negate(multiply(x, y))   (x not negated: multiply_negates takes that)"""
    n = _neg(y)
    if n is None or _neg(x) is not None:
        return None
    return b.neg(b.mul(x, n.operand))


@rule(example=[Example(lambda x, y: (-x) / y, [(4,), (4,)], domain=(0.5, 2.0)), Example(lambda x, y: x / (-y), [(4,), (4,)], domain=(0.5, 2.0))], needs=hlo.NegateOp)
def divide_negate(op: hlo.DivideOp, b: Builder):
    """divide(negate(x), y) -> negate(divide(x, y)) ;  divide(x, negate(y)) likewise   (floats; one operand negated: divide_negates takes both)"""
    nx, ny = _neg(op.lhs), _neg(op.rhs)
    if (nx is None) == (ny is None) or not is_float_tensor(op.result):
        return None
    return b.neg(b.div(op.lhs if nx is None else nx.operand, op.rhs if ny is None else ny.operand))


@rule(example=Example(lambda x, y: (-x) / (-y), [(4,), (4,)], domain=(0.5, 2.0)), needs={0: hlo.NegateOp, 1: hlo.NegateOp})
def divide_negates(op: hlo.DivideOp, b: Builder):
    """divide(negate(x), negate(y)) -> divide(x, y)   (floats)"""
    nx, ny = _neg(op.lhs), _neg(op.rhs)
    if nx is None or ny is None or not is_float_tensor(op.result):
        return None
    return b.div(nx.operand, ny.operand)


@rule(example=Example(lambda x, y: (-x) + (-y), [(4,), (4,)]), needs={0: hlo.NegateOp, 1: hlo.NegateOp})
def add_negates(op: hlo.AddOp, b: Builder):
    """add(negate(x), negate(y)) -> negate(add(x, y))   (up to the sign of zero)"""
    nx, ny = _neg(op.lhs), _neg(op.rhs)
    if nx is None or ny is None:
        return None
    return b.neg(b.add(nx.operand, ny.operand))


@rule(example=Example(lambda x, y: (-x) - (-y), [(4,), (4,)]), needs={0: hlo.NegateOp, 1: hlo.NegateOp})
def subtract_negates(op: hlo.SubtractOp, b: Builder):
    """subtract(negate(x), negate(y)) -> subtract(y, x)"""
    nx, ny = _neg(op.lhs), _neg(op.rhs)
    if nx is None or ny is None:
        return None
    return b.sub(ny.operand, nx.operand)


@rule(example=Example(lambda x, y: (-x) - y, [(4,), (4,)]), needs={0: hlo.NegateOp})
def subtract_negate_lhs(op: hlo.SubtractOp, b: Builder):
    """subtract(negate(x), y) -> negate(add(x, y))   (y not negated; up to the sign of zero)"""
    n = _neg(op.lhs)
    if n is None or _neg(op.rhs) is not None:
        return None
    return b.neg(b.add(n.operand, op.rhs))


@rule(example=Example(lambda x, y: -(x - y), [(4,), (4,)]), needs={0: hlo.SubtractOp})
def negate_subtract(op: hlo.NegateOp, b: Builder):
    """negate(subtract(x, y)) -> subtract(y, x)   (up to the sign of zero)"""
    s = producer(op.operand, hlo.SubtractOp)
    if s is None:
        return None
    return b.sub(s.rhs, s.lhs)


@rule(example=Example(lambda x: -(x * 3.0), [(4,)]), needs={0: hlo.MultiplyOp})
def negate_multiply_constant(op: hlo.NegateOp, b: Builder):
    """negate(multiply(x, c)) -> multiply(x, -c)   (c a splat constant)"""
    m = producer(op.operand, hlo.MultiplyOp)
    if m is None:
        return None
    c = _splat(m.rhs)
    if c is None:
        return None
    return b.mul(m.lhs, _negated_constant(b, m.rhs, c))


@rule(example=Example(lambda x: -(x / 3.0), [(4,)]), needs={0: hlo.DivideOp})
def negate_divide_constant(op: hlo.NegateOp, b: Builder):
    """negate(divide(x, c)) -> divide(x, -c)   (floats; c a splat constant)"""
    d = producer(op.operand, hlo.DivideOp)
    if d is None or not is_float_tensor(op.result):
        return None
    c = _splat(d.rhs)
    if c is None:
        return None
    return b.div(d.lhs, _negated_constant(b, d.rhs, c))


@rule(example=Example(lambda x: jnp.sign(-x), [(4,)]), needs={0: hlo.NegateOp})
def sign_negate(op: hlo.SignOp, b: Builder):
    """sign(negate(x)) -> negate(sign(x))   (floats: integer negation wraps at INT_MIN)"""
    n = _neg(op.operand)
    if n is None or not is_float_tensor(op.result):
        return None
    return b.neg(b.sign(n.operand))


# ============================================================================ abs and sign


@rule(example=Example(lambda x: jnp.abs(x) * jnp.abs(x), [(4,)]), needs={0: hlo.AbsOp, 1: hlo.AbsOp})
def multiply_abs_self(op: hlo.MultiplyOp, b: Builder):
    """multiply(abs(x), abs(x)) -> multiply(x, x)   (real x: |z|^2 of a complex z is not z^2)"""
    a, a2 = producer(op.lhs, hlo.AbsOp), producer(op.rhs, hlo.AbsOp)
    if a is None or a2 is None or a.operand is not a2.operand or _is_complex(a.operand):
        return None
    return b.mul(a.operand, a.operand)


@rule(example=Example(lambda x, y: jnp.abs(x) * jnp.abs(y), [(4,), (4,)]), needs={0: hlo.AbsOp, 1: hlo.AbsOp})
def multiply_abs(op: hlo.MultiplyOp, b: Builder):
    """multiply(abs(x), abs(y)) -> abs(multiply(x, y))   (floats, not complex: exact only there; not the same abs: multiply_abs_self)"""
    ax, ay = producer(op.lhs, hlo.AbsOp), producer(op.rhs, hlo.AbsOp)
    if ax is None or ay is None or ax.operand is ay.operand or not (is_float_tensor(ax.operand) and is_float_tensor(ay.operand)):
        return None
    return b.abs(b.mul(ax.operand, ay.operand))


@rule(example=Example(lambda x, y: jnp.abs(x) / jnp.abs(y), [(4,), (4,)], domain=(0.5, 2.0)), needs={0: hlo.AbsOp, 1: hlo.AbsOp})
def divide_abs(op: hlo.DivideOp, b: Builder):
    """divide(abs(x), abs(y)) -> abs(divide(x, y))   (floats, not complex: exact only there)"""
    ax, ay = producer(op.lhs, hlo.AbsOp), producer(op.rhs, hlo.AbsOp)
    if ax is None or ay is None or not (is_float_tensor(ax.operand) and is_float_tensor(ay.operand)):
        return None
    return b.abs(b.div(ax.operand, ay.operand))


@rule(example=[Example(lambda x: jnp.sign(x) * jnp.abs(x), [(4,)]), Example(lambda x: jnp.abs(x) * jnp.sign(x), [(4,)])], commutative=True, needs=hlo.SignOp)
def multiply_sign_abs(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(sign(x), abs(x)) -> x   (either order; -0.0, NaN, Inf and INT_MIN alike)"""
    s, a = producer(x, hlo.SignOp), producer(y, hlo.AbsOp)
    if s is not None and a is not None and s.operand is a.operand:
        return s.operand
    return None


@rule(example=Example(lambda x: jnp.abs(x * x), [(4,)]), needs={0: hlo.MultiplyOp})
def abs_multiply_self(op: hlo.AbsOp, b: Builder):
    """abs(multiply(x, x)) -> multiply(x, x)   (floats: a square is never negative, NaN aside; not complex)"""
    m = producer(op.operand, hlo.MultiplyOp)
    if m is None or m.lhs is not m.rhs or not is_float_tensor(op.operand):
        return None
    return op.operand


# ============================================================================ repeated terms and constants


@rule(example=Example(lambda x: x + x, [(4,)]))
def add_self(op: hlo.AddOp, b: Builder):
    """add(x, x) -> multiply(x, 2)   (exact: doubling rounds nowhere; integers wrap alike; static shapes)"""
    if op.lhs is not op.rhs or not (is_float_tensor(op.result) or _is_int(op.result)) or not _is_static(op.result):
        return None
    return b.mul(op.lhs, b.full_like(op.lhs, 2))


def _power_of_two_at_least_one(c) -> bool:
    import numpy as np

    c = abs(float(c))
    if not np.isfinite(c) or c < 1:
        return False
    mant, _ = np.frexp(c)
    return mant == 0.5


@rule(example=Example(lambda x: (x * 2.0) * 4.0, [(4,)]), needs={0: hlo.MultiplyOp, 1: SPLAT})
def multiply_multiply_constants(op: hlo.MultiplyOp, b: Builder):
    """multiply(multiply(x, c1), c2) -> multiply(x, c1 * c2)   (integers; floats: c1, c2 powers of two of magnitude >= 1)"""
    import numpy as np

    inner = producer(op.lhs, hlo.MultiplyOp)
    if inner is None:
        return None
    c1, c2 = _splat(inner.rhs), _splat(op.rhs)
    if c1 is None or c2 is None:
        return None
    dt = element_dtype(op.result.type.get_element_type())
    if is_float_tensor(op.result):
        if not (_power_of_two_at_least_one(c1) and _power_of_two_at_least_one(c2)):
            return None
        prod = np.asarray(c1, dt) * np.asarray(c2, dt)
        if not np.isfinite(prod):
            return None
    elif _is_int(op.result):
        with np.errstate(over="ignore"):
            prod = np.asarray(c1, dt) * np.asarray(c2, dt)
    else:
        return None
    return b.mul(inner.lhs, b.full_like(op.rhs, prod))


@rule(example=Example(lambda x: (x + 3) + 4, [(4,)], dtypes=["int32"]), needs={0: hlo.AddOp, 1: SPLAT})
def add_add_constants_integer(op: hlo.AddOp, b: Builder):
    """add(add(x, c1), c2) -> add(x, c1 + c2)   (integers: wrapping addition is associative)"""
    import numpy as np

    inner = producer(op.lhs, hlo.AddOp)
    if inner is None or not _is_int(op.result):
        return None
    c1, c2 = _splat(inner.rhs), _splat(op.rhs)
    if c1 is None or c2 is None:
        return None
    dt = element_dtype(op.result.type.get_element_type())
    with np.errstate(over="ignore"):
        total = np.asarray(c1, dt) + np.asarray(c2, dt)
    return b.add(inner.lhs, b.full_like(op.rhs, total))


@rule(example=Example(lambda x: (x - 3) + 7, [(4,)], dtypes=["int32"]), needs={1: SPLAT})
def subtract_constant_integer(op: hlo.SubtractOp, b: Builder):
    """subtract(x, c) -> add(x, -c)   (integers, c a splat: constants gather in adds)"""
    import numpy as np

    if not _is_int(op.result):
        return None
    c = _splat(op.rhs)
    if c is None or _splat(op.lhs) is not None:
        return None
    dt = element_dtype(op.result.type.get_element_type())
    with np.errstate(over="ignore"):
        neg = (np.zeros((), dt) - np.asarray(c, dt)).astype(dt)
    return b.add(op.lhs, b.full_like(op.rhs, neg))


@rule(example=Example(lambda x, y: (x * y) + (x * y), [(4,), (4,)], dtypes=I32), needs={0: hlo.MultiplyOp, 1: hlo.MultiplyOp})
def add_multiply_shared_integer(op: hlo.AddOp, b: Builder):
    """add(multiply(x, y), multiply(x, z)) -> multiply(x, add(y, z))   (integers: the ring distributes exactly)"""
    ml, mr = producer(op.lhs, hlo.MultiplyOp), producer(op.rhs, hlo.MultiplyOp)
    if ml is None or mr is None or not _is_int(op.result):
        return None
    for x, y in orders(ml):
        for x2, z in orders(mr):
            if x is x2:
                return b.mul(x, b.add(y, z))
    return None


def _other_operand(v: SSAValue, cls: type, y: SSAValue) -> SSAValue | None:
    """x when ``v`` is cls(x, y) or cls(y, x) (cls commutative)."""
    op = producer(v, cls)
    if op is None:
        return None
    return next((x for x, y2 in orders(op) if y2 is y), None)


# ============================================================================ unsafe: rounding or NaN/Inf differ


@rule(
    example=[
        Example(lambda x, y: x * (1.0 / y), [(4,), (4,)], domain=(0.5, 2.0)),
        Example(lambda x, y: (1.0 / y) * x, [(4,), (4,)], domain=(0.5, 2.0)),
    ],
    unsafe=True,
    commutative=True,
    needs=hlo.DivideOp,
)
def multiply_reciprocal(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(x, divide(1, y)) -> divide(x, y)   (rounds once instead of twice; 1/y overflows for tiny y)"""
    d = producer(y, hlo.DivideOp)
    if d is not None and is_float_tensor(op.result) and _splat(d.lhs) == 1:
        return b.div(x, d.rhs)
    return None


@rule(example=Example(lambda x, y: x / (1.0 / y), [(4,), (4,)], domain=(0.5, 2.0)), unsafe=True, needs={1: hlo.DivideOp})
def divide_reciprocal(op: hlo.DivideOp, b: Builder):
    """divide(x, divide(1, y)) -> multiply(x, y)   (rounding; y = 0 or Inf differ)"""
    d = producer(op.rhs, hlo.DivideOp)
    if d is None or not is_float_tensor(op.result) or _splat(d.lhs) != 1:
        return None
    return b.mul(op.lhs, d.rhs)


@rule(example=Example(lambda x, y: jnp.exp(x) * jnp.exp(y), [(4,), (4,)]), unsafe=True, needs={0: hlo.ExponentialOp, 1: hlo.ExponentialOp})
def multiply_exps(op: hlo.MultiplyOp, b: Builder):
    """multiply(exp(x), exp(y)) -> exp(add(x, y))   (rounding; overflow of one factor)"""
    ex, ey = producer(op.lhs, hlo.ExponentialOp), producer(op.rhs, hlo.ExponentialOp)
    if ex is None or ey is None:
        return None
    return b.exp(b.add(ex.operand, ey.operand))


@rule(example=Example(lambda x, y: jnp.exp(x) / jnp.exp(y), [(4,), (4,)]), unsafe=True, needs={0: hlo.ExponentialOp, 1: hlo.ExponentialOp})
def divide_exps(op: hlo.DivideOp, b: Builder):
    """divide(exp(x), exp(y)) -> exp(subtract(x, y))   (rounding; overflow/underflow of one factor)"""
    ex, ey = producer(op.lhs, hlo.ExponentialOp), producer(op.rhs, hlo.ExponentialOp)
    if ex is None or ey is None:
        return None
    return b.exp(b.sub(ex.operand, ey.operand))


@rule(example=Example(lambda x: (lambda r: r * r)(lax.rsqrt(x)), [(4,)], domain=(0.1, 2.0)), unsafe=True, needs={0: hlo.RsqrtOp})
def multiply_rsqrt_self(op: hlo.MultiplyOp, b: Builder):
    """multiply(rsqrt(x), rsqrt(x)) -> divide(1, x)   (x > 0; rounding; static shapes)"""
    r = producer(op.lhs, hlo.RsqrtOp)
    if r is None or op.rhs is not op.lhs or not _is_static(op.result):
        return None
    return b.div(b.ones_like(r.operand), r.operand)


@rule(example=Example(lambda x: jnp.sqrt(x * x), [(4,)]), unsafe=True, needs={0: hlo.MultiplyOp})
def sqrt_square(op: hlo.SqrtOp, b: Builder):
    """sqrt(multiply(x, x)) -> abs(x)   (x * x must not overflow or underflow; floats: sqrt(z^2) of a complex z is +-z)"""
    m = producer(op.operand, hlo.MultiplyOp)
    if m is None or m.lhs is not m.rhs or not is_float_tensor(op.result):
        return None
    return b.abs(m.lhs)


@rule(
    example=[
        Example(lambda x, y: (x / y) * y, [(4,), (4,)], domain=(0.5, 2.0)),
        Example(lambda x, y: y * (x / y), [(4,), (4,)], domain=(0.5, 2.0)),
    ],
    unsafe=True,
    commutative=True,
    needs=hlo.DivideOp,
)
def multiply_divide_cancel(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(divide(x, y), y) -> x   (y nonzero and finite; rounding)"""
    d = producer(x, hlo.DivideOp)
    if d is not None and d.rhs is y and is_float_tensor(op.result):
        return d.lhs
    return None


@rule(example=[Example(lambda x, y: (x * y) / y, [(4,), (4,)], domain=(0.5, 2.0)), Example(lambda x, y: (y * x) / y, [(4,), (4,)], domain=(0.5, 2.0))], unsafe=True, needs={0: hlo.MultiplyOp})
def divide_multiply_cancel(op: hlo.DivideOp, b: Builder):
    """divide(multiply(x, y), y) -> x   (y nonzero and finite; rounding)"""
    return _other_operand(op.lhs, hlo.MultiplyOp, op.rhs) if is_float_tensor(op.result) else None


@rule(example=[Example(lambda x, y: (x + y) - y, [(4,), (4,)]), Example(lambda x, y: (y + x) - y, [(4,), (4,)])], unsafe=True, needs={0: hlo.AddOp})
def subtract_add_cancel(op: hlo.SubtractOp, b: Builder):
    """subtract(add(x, y), y) -> x   (floats: rounding, Inf - Inf; integers are exact but left to the safe rules)"""
    return _other_operand(op.lhs, hlo.AddOp, op.rhs) if is_float_tensor(op.result) else None


@rule(example=[Example(lambda x, y: (x + y) - y, [(4,), (4,)], dtypes=I32), Example(lambda x, y: (y + x) - y, [(4,), (4,)], dtypes=I32)], needs={0: hlo.AddOp})
def subtract_add_cancel_integer(op: hlo.SubtractOp, b: Builder):
    """subtract(add(x, y), y) -> x   (integers: wrapping addition is a group)"""
    return _other_operand(op.lhs, hlo.AddOp, op.rhs) if _is_int(op.result) else None


def _subtracted(x: SSAValue, y: SSAValue) -> SSAValue | None:
    """z when ``x`` is subtract(z, y)."""
    s = producer(x, hlo.SubtractOp)
    return s.lhs if s is not None and s.rhs is y else None


@rule(example=[Example(lambda x, y: (x - y) + y, [(4,), (4,)], dtypes=I32), Example(lambda x, y: y + (x - y), [(4,), (4,)], dtypes=I32)], commutative=True, needs=hlo.SubtractOp)
def add_subtract_cancel_integer(op: hlo.AddOp, b: Builder, x: SSAValue, y: SSAValue):
    """add(subtract(x, y), y) -> x   (integers; either operand order)"""
    return _subtracted(x, y) if _is_int(op.result) else None


@rule(example=[Example(lambda x, y: (x - y) + y, [(4,), (4,)]), Example(lambda x, y: y + (x - y), [(4,), (4,)])], unsafe=True, commutative=True, needs=hlo.SubtractOp)
def add_subtract_cancel(op: hlo.AddOp, b: Builder, x: SSAValue, y: SSAValue):
    """add(subtract(x, y), y) -> x   (floats: rounding, Inf - Inf)"""
    return _subtracted(x, y) if is_float_tensor(op.result) else None
