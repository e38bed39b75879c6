"""Algebraic factoring: common factors pulled out of sums, constants gathered across
chains of arithmetic, and repeated pairs of an associative op shared.

Exactness. Integer arithmetic wraps, so it is a commutative ring: every identity here is
exact on integers, and the integer rules are safe. On floats, distributing, regrouping
and merging two roundings into one change rounding (and may overflow where the original
did not): those rules are ``unsafe`` (fast-math only). Maximum and minimum are
associative and idempotent, so the repeated-pair rule is exact for them on floats too.
A few float rules are exact because IEEE rounding is symmetric (``x * -c == -(x * c)``).
"""

from __future__ import annotations

from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ..pattern import SPLAT, Example, is_float_tensor, orders, producer, rule
from .common import constant_splat, is_integer

I32 = ["int32", "int32"]
I32_1 = ["int32"]


# ============================================================================ helpers


def _number_kind(v: SSAValue) -> str | None:
    """'int' for integer (not i1) elements, 'float' for real floating point, else None."""
    if is_float_tensor(v):
        return "float"
    if is_integer(v):
        c = v.type.get_element_type()
        if getattr(c, "width", None) is not None and c.width.data == 1:
            return None
        return "int"
    return None


def _const(v: SSAValue):
    """The 0-d numpy value of a splat constant ``v`` (real or integer), else None."""
    return constant_splat(v)


def _scaled(v: SSAValue):
    """(x, c, c_value) when ``v`` is multiply(x, c) or multiply(c, x) with c a splat
    constant, else None."""
    m = producer(v, hlo.MultiplyOp)
    if m is None:
        return None
    for x, c in orders(m):
        value = _const(c)
        if value is not None and _const(x) is None:
            return x, c, value
    return None


def _fold(b: Builder, like: SSAValue, fn, *values) -> SSAValue | None:
    """A splat constant of ``like``'s type holding fn(values) in its dtype (wrapping for
    integers), or None when the value is not finite (floats)."""
    import numpy as np

    dt = values[0].dtype
    with np.errstate(all="ignore"):
        out = np.asarray(fn(*[np.asarray(v, dt) for v in values])).astype(dt)
    if dt.kind == "f" and not np.isfinite(out):
        return None
    if dt.kind not in "fiu":
        try:
            if not np.isfinite(np.float64(out)):
                return None
        except (TypeError, ValueError):
            return None
    return b.full_like(like, out)


def _negated(p, q) -> bool:
    """q == -p exactly (bitwise for floats, wrapping for integers); p nonzero."""
    import numpy as np

    with np.errstate(all="ignore"):
        neg = np.negative(p).astype(p.dtype)
    if p.dtype.kind in "iu":
        return bool(p != 0) and bool(neg == q)
    return bool(p != 0) and neg.tobytes() == np.asarray(q, p.dtype).tobytes()


def _want(op, kind: str) -> bool:
    return _number_kind(op.result) == kind


# ============================================================================ negated constant factors


def _negated_constant_factor(op, b: Builder, kind: str):
    if not _want(op, kind):
        return None
    left, right = _scaled(op.lhs), _scaled(op.rhs)
    if left is None or right is None:
        return None
    (a, c, cv), (y, _, dv) = left, right
    if not _negated(cv, dv):
        return None
    inner = b.sub(a, y) if isinstance(op, hlo.AddOp) else b.add(a, y)
    return b.mul(inner, c)


@rule(
    example=[
        Example(lambda x, y: x * 7 + y * -7, [(4,), (4,)], dtypes=I32),
        Example(lambda x, y: x * 7 - y * -7, [(4,), (4,)], dtypes=I32),
        Example(lambda x, y: 7 * x + (-7) * y, [(4,), (4,)], dtypes=I32),
    ],
    roots=[hlo.AddOp, hlo.SubtractOp],
    needs={0: hlo.MultiplyOp, 1: hlo.MultiplyOp},
)
def negated_constant_factor_integer(op, b: Builder):
    """add(multiply(a, c), multiply(b, -c)) -> multiply(subtract(a, b), c) ;  subtract(...) -> multiply(add(a, b), c)   (integers)"""
    return _negated_constant_factor(op, b, "int")


@rule(
    example=[
        Example(lambda x, y: x * 3.0 + y * -3.0, [(4,), (4,)]),
        Example(lambda x, y: x * -3.0 - y * 3.0, [(4,), (4,)]),
    ],
    roots=[hlo.AddOp, hlo.SubtractOp],
    unsafe=True,
    needs={0: hlo.MultiplyOp, 1: hlo.MultiplyOp},
)
def negated_constant_factor(op, b: Builder):
    """add(multiply(a, c), multiply(b, -c)) -> multiply(subtract(a, b), c) ;  subtract(...) -> multiply(add(a, b), c)   (floats: rounding, overflow of a - b)"""
    return _negated_constant_factor(op, b, "float")


@rule(
    example=[
        Example(lambda x, y: x * 3.0 + y * -3.0, [(4,), (4,)]),
        Example(lambda x, y: x * 3.0 - y * -3.0, [(4,), (4,)]),
    ],
    roots=[hlo.AddOp, hlo.SubtractOp],
    needs={0: hlo.MultiplyOp, 1: hlo.MultiplyOp},
)
def add_multiply_negated_constant(op, b: Builder):
    """add(multiply(a, c), multiply(b, -c)) -> subtract(multiply(a, c), multiply(b, c)) ;  subtract likewise -> add   (floats: exact, rounding is symmetric)"""
    if not _want(op, "float"):
        return None
    left, right = _scaled(op.lhs), _scaled(op.rhs)
    if left is None or right is None:
        return None
    (_, c, cv), (y, _, dv) = left, right
    if not _negated(cv, dv):
        return None
    other = b.mul(y, c)
    return b.sub(op.lhs, other) if isinstance(op, hlo.AddOp) else b.add(op.lhs, other)


# ============================================================================ shared factors


def _shared_factor(op, b: Builder, kind: str):
    if not _want(op, kind):
        return None
    ml, mr = producer(op.lhs, hlo.MultiplyOp), producer(op.rhs, hlo.MultiplyOp)
    if ml is None or mr is None:
        return None
    for x, y in orders(ml):
        for x2, z in orders(mr):
            if x is x2:
                inner = b.add(y, z) if isinstance(op, hlo.AddOp) else b.sub(y, z)
                return b.mul(x, inner) if x is ml.lhs else b.mul(inner, x)
    return None


@rule(
    example=[Example(lambda x, y, z: x * y + x * z, [(4,), (4,), (4,)]), Example(lambda x, y, z: y * x - z * x, [(4,), (4,), (4,)])],
    roots=[hlo.AddOp, hlo.SubtractOp],
    unsafe=True,
    needs={0: hlo.MultiplyOp, 1: hlo.MultiplyOp},
)
def add_multiply_shared(op, b: Builder):
    """add(multiply(x, y), multiply(x, z)) -> multiply(x, add(y, z)) ;  subtract likewise   (floats: rounding, overflow)"""
    return _shared_factor(op, b, "float")


@rule(
    example=Example(lambda x, y, z: x * y - x * z, [(4,), (4,), (4,)], dtypes=["int32"] * 3),
    needs={0: hlo.MultiplyOp, 1: hlo.MultiplyOp},
)
def subtract_multiply_shared_integer(op: hlo.SubtractOp, b: Builder):
    """subtract(multiply(x, y), multiply(x, z)) -> multiply(x, subtract(y, z))   (integers: the ring distributes exactly)"""
    return _shared_factor(op, b, "int")


# ============================================================================ constants gathered along chains


def _chain_constants(op, b: Builder, kind: str):
    """(x ∘1 c1) ∘2 c2 -> x ∘ c   for ∘ in {+, -} and {*, /} (division for floats)."""
    if not _want(op, kind):
        return None
    c2 = _const(op.rhs)
    if c2 is None:
        return None
    inner = op.lhs.owner
    if not isinstance(inner, (hlo.AddOp, hlo.SubtractOp, hlo.MultiplyOp, hlo.DivideOp)) or len(list(op.lhs.uses)) != 1:
        return None
    c1 = _const(inner.rhs)
    if c1 is None or _const(inner.lhs) is not None:
        return None
    x = inner.lhs
    additive = (hlo.AddOp, hlo.SubtractOp)
    if isinstance(op, additive) and isinstance(inner, additive):
        s1 = 1 if isinstance(inner, hlo.AddOp) else -1
        s2 = 1 if isinstance(op, hlo.AddOp) else -1
        # x + s1 c1 + s2 c2; keep the outer op when it is a subtraction of the sum's negation
        if s1 == s2:
            c = _fold(b, op.rhs, lambda p, q: p + q, c1, c2)
            return None if c is None else (b.add(x, c) if s2 == 1 else b.sub(x, c))
        c = _fold(b, op.rhs, lambda p, q: q - p, c1, c2) if s2 == 1 else _fold(b, op.rhs, lambda p, q: p - q, c1, c2)
        return None if c is None else (b.add(x, c) if s2 == 1 else b.add(x, c))
    if kind != "float":
        return None  # integer products are multiply_multiply_constants'; integer division truncates
    multiplicative = (hlo.MultiplyOp, hlo.DivideOp)
    if isinstance(op, multiplicative) and isinstance(inner, multiplicative):
        if isinstance(inner, hlo.MultiplyOp) and isinstance(op, hlo.MultiplyOp):
            c = _fold(b, op.rhs, lambda p, q: p * q, c1, c2)
        elif isinstance(inner, hlo.MultiplyOp):  # (x * c1) / c2
            c = _fold(b, op.rhs, lambda p, q: p / q, c1, c2)
        elif isinstance(op, hlo.MultiplyOp):  # (x / c1) * c2
            c = _fold(b, op.rhs, lambda p, q: q / p, c1, c2)
        else:  # (x / c1) / c2
            c = _fold(b, op.rhs, lambda p, q: p * q, c1, c2)
            return None if c is None else b.div(x, c)
        return None if c is None else b.mul(x, c)
    return None


@rule(
    example=[
        Example(lambda x: (x + 2.0) + 4.0, [(4,)]),
        Example(lambda x: (x - 2.0) + 4.0, [(4,)]),
        Example(lambda x: (x - 2.0) - 4.0, [(4,)]),
        Example(lambda x: (x + 2.0) - 4.0, [(4,)]),
        Example(lambda x: (x * 2.0) / 4.0, [(4,)]),
        Example(lambda x: (x / 2.0) * 4.0, [(4,)]),
        Example(lambda x: (x / 2.0) / 3.0, [(4,)]),
        Example(lambda x: (x * 5.0) * 3.0, [(4,)]),
    ],
    roots=[hlo.AddOp, hlo.SubtractOp, hlo.MultiplyOp, hlo.DivideOp],
    unsafe=True,
    needs={1: SPLAT},
)
def constant_chain(op, b: Builder):
    """op2(op1(x, c1), c2) -> op(x, c)   (op1, op2 both in {add, subtract} or both in {multiply, divide}; floats: one rounding instead of two, overflow)"""
    return _chain_constants(op, b, "float")


@rule(
    example=[Example(lambda x: (x - 2) - 4, [(4,)], dtypes=I32_1), Example(lambda x: (x + 2) - 9, [(4,)], dtypes=I32_1)],
    needs={0: (hlo.AddOp, hlo.SubtractOp), 1: SPLAT},
)
def subtract_constant_chain_integer(op: hlo.SubtractOp, b: Builder):
    """subtract(x ± c1, c2) -> x ± c   (integers: wrapping arithmetic is exact)"""
    return _chain_constants(op, b, "int")


def _constant_minus(op, b: Builder, kind: str):
    """Chains with the constant on the left of a subtraction."""
    if not _want(op, kind):
        return None
    if isinstance(op, hlo.AddOp):  # (c1 - x) + c2 -> (c1 + c2) - x
        c2 = _const(op.rhs)
        s = producer(op.lhs, hlo.SubtractOp)
        if c2 is None or s is None or _const(s.rhs) is not None:
            return None
        c1 = _const(s.lhs)
        if c1 is None:
            return None
        c = _fold(b, op.rhs, lambda p, q: p + q, c1, c2)
        return None if c is None else b.sub(c, s.rhs)
    # subtract
    c_left = _const(op.lhs)
    if c_left is not None:
        inner = op.rhs.owner
        if isinstance(inner, hlo.SubtractOp) and _const(inner.lhs) is not None and _const(inner.rhs) is None:
            # c2 - (c1 - x) -> x + (c2 - c1)
            c = _fold(b, op.lhs, lambda p, q: q - p, _const(inner.lhs), c_left)
            return None if c is None else b.add(inner.rhs, c)
        if isinstance(inner, hlo.AddOp) and _const(inner.rhs) is not None and _const(inner.lhs) is None:
            # c2 - (x + c1) -> (c2 - c1) - x
            c = _fold(b, op.lhs, lambda p, q: q - p, _const(inner.rhs), c_left)
            return None if c is None else b.sub(c, inner.lhs)
        return None
    c2 = _const(op.rhs)
    s = producer(op.lhs, hlo.SubtractOp)
    if c2 is None or s is None or _const(s.rhs) is not None:
        return None
    c1 = _const(s.lhs)
    if c1 is None:
        return None
    # (c1 - x) - c2 -> (c1 - c2) - x
    c = _fold(b, op.rhs, lambda p, q: p - q, c1, c2)
    return None if c is None else b.sub(c, s.rhs)


_CONSTANT_MINUS_EXAMPLES = [
    (lambda x: (5 - x) + 2, "(c1 - x) + c2"),
    (lambda x: 5 - (2 - x), "c2 - (c1 - x)"),
    (lambda x: 5 - (x + 2), "c2 - (x + c1)"),
    (lambda x: (5 - x) - 2, "(c1 - x) - c2"),
]


@rule(
    example=[Example(fn, [(4,)], dtypes=I32_1) for fn, _ in _CONSTANT_MINUS_EXAMPLES],
    roots=[hlo.AddOp, hlo.SubtractOp],
    needs=SPLAT,
)
def constant_minus_chain_integer(op, b: Builder):
    """(c1 - x) + c2 -> (c1 + c2) - x ;  c2 - (c1 - x) -> x + (c2 - c1) ;  c2 - (x + c1) -> (c2 - c1) - x ;  (c1 - x) - c2 -> (c1 - c2) - x   (integers)"""
    return _constant_minus(op, b, "int")


@rule(
    example=[Example(lambda x: (5.0 - x) + 2.0, [(4,)]), Example(lambda x: 5.0 - (2.0 - x), [(4,)]), Example(lambda x: 5.0 - (x + 2.0), [(4,)]), Example(lambda x: (5.0 - x) - 2.0, [(4,)])],
    roots=[hlo.AddOp, hlo.SubtractOp],
    unsafe=True,
    needs=SPLAT,
)
def constant_minus_chain(op, b: Builder):
    """(c1 - x) + c2 -> (c1 + c2) - x ;  c2 - (c1 - x) -> x + (c2 - c1) ;  c2 - (x + c1) -> (c2 - c1) - x ;  (c1 - x) - c2 -> (c1 - c2) - x   (floats: rounding)"""
    return _constant_minus(op, b, "float")


# ============================================================================ constants moved outwards


def _constant_outward(op, b: Builder, x: SSAValue, y: SSAValue, kind: str):
    """multiply(multiply(x, c), y) -> multiply(multiply(x, y), c)   (y not constant, not scaled)"""
    if not _want(op, kind):
        return None
    s = _scaled(x)
    if s is None or _const(y) is not None or len(list(x.uses)) != 1:
        return None
    inner, c, cv = s
    other = _scaled(y)
    if other is not None and len(list(y.uses)) == 1:
        z, _, dv = other
        folded = _fold(b, c, lambda p, q: p * q, cv, dv)
        if folded is None:
            return None
        return b.mul(b.mul(inner, z), folded)
    if other is not None:
        return None
    return b.mul(b.mul(inner, y), c)


@rule(
    example=[
        Example(lambda x, y: (x * 3.0) * y, [(4,), (4,)]),
        Example(lambda x, y: y * (x * 3.0), [(4,), (4,)]),
        Example(lambda x, y: (x * 3.0) * (y * 5.0), [(4,), (4,)]),
    ],
    unsafe=True,
    commutative=True,
    needs=hlo.MultiplyOp,
)
def multiply_constant_outward(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(multiply(x, c), y) -> multiply(multiply(x, y), c) ;  multiply(x * c1, y * c2) -> multiply(x * y, c1 * c2)   (floats: rounding, overflow)"""
    return _constant_outward(op, b, x, y, "float")


@rule(
    example=[
        Example(lambda x, y: (x * 3) * y, [(4,), (4,)], dtypes=I32),
        Example(lambda x, y: y * (x * 3), [(4,), (4,)], dtypes=I32),
        Example(lambda x, y: (x * 3) * (y * 5), [(4,), (4,)], dtypes=I32),
    ],
    commutative=True,
    needs=hlo.MultiplyOp,
)
def multiply_constant_outward_integer(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(multiply(x, c), y) -> multiply(multiply(x, y), c) ;  multiply(x * c1, y * c2) -> multiply(x * y, c1 * c2)   (integers)"""
    return _constant_outward(op, b, x, y, "int")


# ============================================================================ repeated pairs


def _repeated_pair(op, b: Builder, x: SSAValue, y: SSAValue, exact: bool):
    """op(a, op(p, q)) where one of p, q is c = op(a, other) and the other is ``other``:
    op(c, c)."""
    kind = type(op)
    inner = producer(y, kind)
    if inner is None or len(list(y.uses)) != 1:
        return None
    order_free = kind in (hlo.MaximumOp, hlo.MinimumOp) or is_integer(op.result)
    if exact != order_free or (not exact and not is_float_tensor(op.result)):
        return None
    for c, other in orders(inner):
        pair = producer(c, kind)
        if pair is None:
            continue
        for p, q in orders(pair):
            if p is x and q is other:
                return b.insert(kind(c, c)).results[0]
    return None


@rule(
    example=[
        Example(lambda x, y: x + (y + (x + y)), [(4,), (4,)], dtypes=I32),
        Example(lambda x, y: (((y + x) + y) + x), [(4,), (4,)], dtypes=I32),
        Example(lambda x, y: x * ((y * x) * y), [(4,), (4,)], dtypes=I32),
        Example(lambda x, y: jnp_max(x, jnp_max(y, jnp_max(x, y))), [(4,), (4,)]),
    ],
    roots=[hlo.AddOp, hlo.MultiplyOp, hlo.MaximumOp, hlo.MinimumOp, hlo.AndOp, hlo.OrOp, hlo.XorOp],
    commutative=True,
    needs=(hlo.AddOp, hlo.MultiplyOp, hlo.MaximumOp, hlo.MinimumOp, hlo.AndOp, hlo.OrOp, hlo.XorOp),
)
def repeated_pair(op, b: Builder, x: SSAValue, y: SSAValue):
    """op(a, op(b, op(a, b))) -> op(op(a, b), op(a, b))   (op associative and commutative: integers, maximum, minimum, and, or, xor)"""
    return _repeated_pair(op, b, x, y, exact=True)


@rule(
    example=[Example(lambda x, y: x + (y + (x + y)), [(4,), (4,)]), Example(lambda x, y: x * ((y * x) * y), [(4,), (4,)])],
    roots=[hlo.AddOp, hlo.MultiplyOp],
    unsafe=True,
    commutative=True,
    needs=(hlo.AddOp, hlo.MultiplyOp),
)
def repeated_pair_reassociate(op, b: Builder, x: SSAValue, y: SSAValue):
    """op(a, op(b, op(a, b))) -> op(op(a, b), op(a, b))   (floating-point add, multiply: regroups; fast-math only)"""
    return _repeated_pair(op, b, x, y, exact=False)


def jnp_max(x, y):
    from ..lazy_jax import jnp

    return jnp.maximum(x, y)
