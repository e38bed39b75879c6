"""Algebraic identities on elementwise ops."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ..pattern import Example, is_splat, producer, rule, splat_value, value_of


def _is_float(v) -> bool:
    from ...ir.dense import is_float_type

    return is_float_type(v.type)


@rule(example=Example(lambda x: x + 0.0, [(4,)]))
def add_zero_rhs(op: hlo.AddOp, b: Builder):
    """add(x, 0) -> x"""
    if is_splat(op.rhs, 0):
        return op.lhs
    return None


@rule(example=Example(lambda x: 0.0 + x, [(4,)]))
def add_zero_lhs(op: hlo.AddOp, b: Builder):
    """add(0, x) -> x"""
    if is_splat(op.lhs, 0):
        return op.rhs
    return None


@rule(example=Example(lambda x: x - 0.0, [(4,)]))
def subtract_zero(op: hlo.SubtractOp, b: Builder):
    """subtract(x, 0) -> x"""
    if is_splat(op.rhs, 0):
        return op.lhs
    return None


@rule(example=Example(lambda x: 0.0 - x, [(4,)]))
def zero_subtract(op: hlo.SubtractOp, b: Builder):
    """subtract(0, x) -> negate(x)"""
    if is_splat(op.lhs, 0):
        return b.neg(op.rhs)
    return None


@rule(example=Example(lambda x: x - x, [(4,)]), unsafe=True)
def subtract_self(op: hlo.SubtractOp, b: Builder):
    """subtract(x, x) -> 0   (x finite; static shapes)"""
    if op.lhs is op.rhs and all(d >= 0 for d in op.result.type.get_shape()):
        return b.zeros_like(op.result)
    return None


@rule(example=Example(lambda x: x * 1.0, [(4,)]))
def multiply_one_rhs(op: hlo.MultiplyOp, b: Builder):
    """multiply(x, 1) -> x"""
    if is_splat(op.rhs, 1):
        return op.lhs
    return None


@rule(example=Example(lambda x: 1.0 * x, [(4,)]))
def multiply_one_lhs(op: hlo.MultiplyOp, b: Builder):
    """multiply(1, x) -> x"""
    if is_splat(op.lhs, 1):
        return op.rhs
    return None


@rule(example=Example(lambda x: x * 0.0, [(4,)]), unsafe=True)
def multiply_zero(op: hlo.MultiplyOp, b: Builder):
    """multiply(x, 0) -> 0   (x finite)"""
    if is_splat(op.rhs, 0) or is_splat(op.lhs, 0):
        return b.zeros_like(op.result)
    return None


@rule(example=Example(lambda x: x * -1.0, [(4,)]))
def multiply_minus_one(op: hlo.MultiplyOp, b: Builder):
    """multiply(x, -1) -> negate(x)"""
    if is_splat(op.rhs, -1):
        return b.neg(op.lhs)
    if is_splat(op.lhs, -1):
        return b.neg(op.rhs)
    return None


@rule(example=Example(lambda x: x / 1.0, [(4,)]))
def divide_one(op: hlo.DivideOp, b: Builder):
    """divide(x, 1) -> x"""
    if is_splat(op.rhs, 1):
        return op.lhs
    return None


@rule(example=Example(lambda x: x / 4.0, [(4,)]))
def divide_power_of_two(op: hlo.DivideOp, b: Builder):
    """divide(x, c) -> multiply(x, 1/c)   (c a power of two, exact in floating point)"""
    c = splat_value(op.rhs)
    if c is None or not _is_float(op.result) or c == 0:
        return None
    mant, _ = np.frexp(abs(c))
    if mant != 0.5:
        return None
    return b.mul(op.lhs, b.full_like(op.lhs, 1.0 / c))


@rule(example=Example(lambda x: -(-x), [(4,)]))
def negate_negate(op: hlo.NegateOp, b: Builder):
    """negate(negate(x)) -> x"""
    inner = producer(op.operand, hlo.NegateOp)
    if inner is not None:
        return inner.operand
    return None


@rule(example=Example(lambda x, y: x + (-y), [(4,), (4,)]))
def add_negate(op: hlo.AddOp, b: Builder):
    """add(x, negate(y)) -> subtract(x, y)"""
    neg = producer(op.rhs, hlo.NegateOp)
    if neg is not None:
        return b.sub(op.lhs, neg.operand)
    return None


@rule(example=Example(lambda x, y: x - (-y), [(4,), (4,)]))
def subtract_negate(op: hlo.SubtractOp, b: Builder):
    """subtract(x, negate(y)) -> add(x, y)"""
    neg = producer(op.rhs, hlo.NegateOp)
    if neg is not None:
        return b.add(op.lhs, neg.operand)
    return None


@rule(example=Example(lambda x, y: (-x) * (-y), [(4,), (4,)]))
def multiply_negates(op: hlo.MultiplyOp, b: Builder):
    """multiply(negate(x), negate(y)) -> multiply(x, y)"""
    nx, ny = producer(op.lhs, hlo.NegateOp), producer(op.rhs, hlo.NegateOp)
    if nx is not None and ny is not None:
        return b.mul(nx.operand, ny.operand)
    return None


@rule(example=Example(lambda x: jnp.where(True, x, 2 * x), [(4,)]))
def select_constant_predicate(op: hlo.SelectOp, b: Builder):
    """select(true, x, y) -> x ;  select(false, x, y) -> y"""
    p = value_of(op.pred)
    if p is None or p.size == 0:
        return None
    if np.all(p):
        return op.on_true
    if not np.any(p):
        return op.on_false
    return None


@rule(example=Example(lambda x, y: jnp.where(y > 0, x, x), [(4,), (4,)]))
def select_same_branches(op: hlo.SelectOp, b: Builder):
    """select(p, x, x) -> x"""
    if op.on_true is op.on_false:
        return op.on_true
    return None


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<4xf64>) -> tensor<4xf64> {
  %0 = "stablehlo.convert"(%x) : (tensor<4xf64>) -> tensor<4xf64>
  func.return %0 : tensor<4xf64>
}"""
    )
)
def convert_noop(op: hlo.ConvertOp, b: Builder):
    """convert(x) -> x   (same type)"""
    if op.operand.type == op.result.type:
        return op.operand
    return None


@rule(example=Example(lambda x: jnp.maximum(x, x), [(4,)]))
def maximum_self(op: hlo.MaximumOp, b: Builder):
    """maximum(x, x) -> x ;  minimum(x, x) -> x"""
    if op.lhs is op.rhs:
        return op.lhs
    return None


@rule(example=Example(lambda x: jnp.minimum(x, x), [(4,)]))
def minimum_self(op: hlo.MinimumOp, b: Builder):
    """minimum(x, x) -> x"""
    if op.lhs is op.rhs:
        return op.lhs
    return None


@rule(example=Example(lambda x: jnp.abs(jnp.abs(x)), [(4,)]))
def abs_abs(op: hlo.AbsOp, b: Builder):
    """abs(abs(x)) -> abs(x)"""
    if producer(op.operand, hlo.AbsOp) is not None:
        return op.operand
    return None


@rule(example=Example(lambda x: jnp.abs(-x), [(4,)]))
def abs_negate(op: hlo.AbsOp, b: Builder):
    """abs(negate(x)) -> abs(x)   (complex x too: the result keeps abs's real type)"""
    neg = producer(op.operand, hlo.NegateOp)
    if neg is not None:
        return b.insert(hlo.AbsOp(neg.operand, op.result.type)).results[0]
    return None


@rule(example=Example(lambda x: jnp.log(jnp.exp(x)), [(4,)]), unsafe=True)
def log_exp(op: hlo.LogOp, b: Builder):
    """log(exp(x)) -> x   (no overflow; fast-math only; floats: for a complex z, log(exp(z)) wraps Im z into (-pi, pi])"""
    inner = producer(op.operand, hlo.ExponentialOp)
    if inner is not None and _is_float(op.result):
        return inner.operand
    return None


@rule(example=Example(lambda x: (lambda s: s * s)(lax.sqrt(x)), [(4,)], domain=(0.1, 2.0)), unsafe=True)
def sqrt_times_sqrt(op: hlo.MultiplyOp, b: Builder):
    """multiply(sqrt(x), sqrt(x)) -> x   (x >= 0; fast-math only)"""
    s = producer(op.lhs, hlo.SqrtOp)
    if s is not None and op.lhs is op.rhs:
        return s.operand
    return None


@rule(example=Example(lambda x: 1.0 / lax.sqrt(x), [(4,)], domain=(0.1, 2.0)))
def one_over_sqrt(op: hlo.DivideOp, b: Builder):
    """divide(1, sqrt(x)) -> rsqrt(x)"""
    s = producer(op.rhs, hlo.SqrtOp)
    if s is not None and is_splat(op.lhs, 1):
        return b.rsqrt(s.operand)
    return None
