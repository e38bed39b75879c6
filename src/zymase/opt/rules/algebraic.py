"""Algebraic identities on elementwise ops: neutral and absorbing elements, negations,
idempotent ops, powers with constant exponents, conversions, and constants moved to the
right of commutative ops (the canonical form the other rules match).
"""

from __future__ import annotations

from ..lazy_jax import jnp
from ...ir.dense import DtypeTable
from ..lazy_jax import np
from ..lazy_jax import lax

from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem, shape
from ..pattern import CONSTANT, SPLAT, Example, is_float_tensor, is_splat, producer, rule, splat_value, value_of
from .common import MANTISSA_BITS, constant_splat, emit_splat, foldable_dtype, i32_binary_examples, integer_zero, is_constant, is_integer, mlir_i32


@rule(example=[Example(lambda x: x + 0.0, [(4,)]), Example(lambda x: 0.0 + x, [(4,)])], commutative=True, needs=SPLAT)
def add_zero(op: hlo.AddOp, b: Builder, x: SSAValue, y: SSAValue):
    """add(x, 0) -> x"""
    if is_splat(y, 0):
        return x
    return None


@rule(example=Example(lambda x: x - 0.0, [(4,)]), needs={1: SPLAT})
def subtract_zero(op: hlo.SubtractOp, b: Builder):
    """subtract(x, 0) -> x"""
    if is_splat(op.rhs, 0):
        return op.lhs
    return None


@rule(example=Example(lambda x: 0.0 - x, [(4,)]), needs={0: SPLAT})
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


@rule(
    example=Example(
        mlir=mlir_i32('  %0 = "stablehlo.subtract"(%x, %x) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>')
    )
)
def subtract_self_integer(op: hlo.SubtractOp, b: Builder):
    """subtract(x, x) -> 0   (integers)"""
    if op.lhs is op.rhs and is_integer(op.result) and foldable_dtype(op.result) != np.bool_:
        return emit_splat(b, np.zeros((), foldable_dtype(op.result)), op.result.type)
    return None


@rule(example=[Example(lambda x: x * 1.0, [(4,)]), Example(lambda x: 1.0 * x, [(4,)])], commutative=True, needs=SPLAT)
def multiply_one(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(x, 1) -> x"""
    if is_splat(y, 1):
        return x
    return None


@rule(example=[Example(lambda x: x * 0.0, [(4,)]), Example(lambda x: 0.0 * x, [(4,)])], unsafe=True, commutative=True, needs=SPLAT)
def multiply_zero(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(x, 0) -> 0   (x finite)"""
    if is_splat(y, 0):
        return b.zeros_like(op.result)
    return None


@rule(example=i32_binary_examples("multiply", "0"), commutative=True, needs=CONSTANT)
def multiply_zero_integer(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(x, 0) -> 0   (integers)"""
    if is_integer(op.result) and integer_zero(y):
        return y
    return None


@rule(example=[Example(lambda x: x * -1.0, [(4,)]), Example(lambda x: -1.0 * x, [(4,)])], commutative=True, needs=SPLAT)
def multiply_minus_one(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(x, -1) -> negate(x)"""
    if is_splat(y, -1):
        return b.neg(x)
    return None


@rule(example=Example(lambda x: x / 1.0, [(4,)]), needs={1: SPLAT})
def divide_one(op: hlo.DivideOp, b: Builder):
    """divide(x, 1) -> x"""
    if is_splat(op.rhs, 1):
        return op.lhs
    return None


@rule(example=Example(lambda x: x / 4.0, [(4,)]), needs={1: SPLAT})
def divide_power_of_two(op: hlo.DivideOp, b: Builder):
    """divide(x, c) -> multiply(x, 1/c)   (c a power of two, exact in floating point)"""
    c = splat_value(op.rhs)
    if c is None or not is_float_tensor(op.result) or c == 0:
        return None
    mant, _ = np.frexp(abs(c))
    if mant != 0.5:
        return None
    return b.mul(op.lhs, b.full_like(op.lhs, 1.0 / c))


@rule(example=Example(lambda x: -(-x), [(4,)]), needs={0: hlo.NegateOp})
def negate_negate(op: hlo.NegateOp, b: Builder):
    """negate(negate(x)) -> x"""
    inner = producer(op.operand, hlo.NegateOp)
    if inner is not None:
        return inner.operand
    return None


@rule(example=[Example(lambda x, y: x + (-y), [(4,), (4,)]), Example(lambda x, y: (-x) + y, [(4,), (4,)])], commutative=True, needs=hlo.NegateOp)
def add_negate(op: hlo.AddOp, b: Builder, x: SSAValue, y: SSAValue):
    """add(x, negate(y)) -> subtract(x, y)"""
    neg = producer(y, hlo.NegateOp)
    if neg is not None:
        return b.sub(x, neg.operand)
    return None


@rule(example=Example(lambda x, y: x - (-y), [(4,), (4,)]), needs={1: hlo.NegateOp})
def subtract_negate(op: hlo.SubtractOp, b: Builder):
    """subtract(x, negate(y)) -> add(x, y)"""
    neg = producer(op.rhs, hlo.NegateOp)
    if neg is not None:
        return b.add(op.lhs, neg.operand)
    return None


@rule(example=Example(lambda x, y: (-x) * (-y), [(4,), (4,)]), needs={0: hlo.NegateOp, 1: hlo.NegateOp})
def multiply_negates(op: hlo.MultiplyOp, b: Builder):
    """multiply(negate(x), negate(y)) -> multiply(x, y)"""
    nx, ny = producer(op.lhs, hlo.NegateOp), producer(op.rhs, hlo.NegateOp)
    if nx is not None and ny is not None:
        return b.mul(nx.operand, ny.operand)
    return None


@rule(example=Example(lambda x: jnp.where(True, x, 2 * x), [(4,)]), needs={0: CONSTANT})
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


@rule(
    example=[
        Example(lambda x: jnp.maximum(x, x), [(4,)]),
        Example(lambda x: jnp.minimum(x, x), [(4,)]),
        Example(mlir=mlir_i32('  %0 = "stablehlo.and"(%x, %x) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>')),
        Example(mlir=mlir_i32('  %0 = "stablehlo.or"(%x, %x) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>\n  func.return %0 : tensor<4xi32>')),
    ],
    roots=[hlo.MaximumOp, hlo.MinimumOp, hlo.AndOp, hlo.OrOp],
)
def idempotent_self(op, b: Builder):
    """f(x, x) -> x   (f maximum, minimum, and or or)"""
    if op.lhs is op.rhs:
        return op.lhs
    return None


@rule(example=Example(lambda x: jnp.abs(jnp.abs(x)), [(4,)]), needs={0: hlo.AbsOp})
def abs_abs(op: hlo.AbsOp, b: Builder):
    """abs(abs(x)) -> abs(x)"""
    if producer(op.operand, hlo.AbsOp) is not None:
        return op.operand
    return None


@rule(example=Example(lambda x: jnp.abs(-x), [(4,)], dtypes=["int32"]), needs={0: hlo.NegateOp})
def abs_negate(op: hlo.AbsOp, b: Builder):
    """abs(negate(x)) -> abs(x)   (integers, complex x: the result keeps abs's real type. Not real floats: at x = 0 jax's abs passes +1 times its operand's derivative, so abs(-x) has derivative -1 there and abs(x) +1)"""
    neg = producer(op.operand, hlo.NegateOp)
    if neg is not None and not is_float_tensor(neg.operand):
        return b.insert(hlo.AbsOp(neg.operand, op.result.type)).results[0]
    return None


@rule(example=Example(lambda x: jnp.log(jnp.exp(x)), [(4,)]), unsafe=True, needs={0: hlo.ExponentialOp})
def log_exp(op: hlo.LogOp, b: Builder):
    """log(exp(x)) -> x   (no overflow; fast-math only; floats: for a complex z, log(exp(z)) wraps Im z into (-pi, pi])"""
    inner = producer(op.operand, hlo.ExponentialOp)
    if inner is not None and is_float_tensor(op.result):
        return inner.operand
    return None


@rule(example=Example(lambda x: (lambda s: s * s)(lax.sqrt(x)), [(4,)], domain=(0.1, 2.0)), unsafe=True, needs={0: hlo.SqrtOp})
def sqrt_times_sqrt(op: hlo.MultiplyOp, b: Builder):
    """multiply(sqrt(x), sqrt(x)) -> x   (x >= 0; fast-math only)"""
    s = producer(op.lhs, hlo.SqrtOp)
    if s is not None and op.lhs is op.rhs:
        return s.operand
    return None


@rule(example=Example(lambda x: 1.0 / lax.sqrt(x), [(4,)], domain=(0.1, 2.0)), needs={0: SPLAT, 1: hlo.SqrtOp})
def one_over_sqrt(op: hlo.DivideOp, b: Builder):
    """divide(1, sqrt(x)) -> rsqrt(x)"""
    s = producer(op.rhs, hlo.SqrtOp)
    if s is not None and is_splat(op.lhs, 1):
        return b.rsqrt(s.operand)
    return None


# ============================================================================ powers with constant exponents


@rule(example=Example(lambda x: lax.pow(x, 1.0), [(4,)]), needs={1: CONSTANT})
def power_one(op: hlo.PowerOp, b: Builder):
    """power(x, 1) -> x"""
    s = constant_splat(op.rhs)
    if s is not None and s == 1:
        return op.lhs
    return None


@rule(example=Example(lambda x: lax.pow(x, 0.0), [(4,)]), needs={1: CONSTANT})
def power_zero(op: hlo.PowerOp, b: Builder):
    """power(x, 0) -> 1   (also for x NaN)"""
    s = constant_splat(op.rhs)
    if s is not None and s == 0 and foldable_dtype(op.result) is not None:
        return emit_splat(b, np.ones((), foldable_dtype(op.result)), op.result.type)
    return None


@rule(example=Example(lambda x: lax.pow(x, 2.0), [(4,)]), needs={1: CONSTANT})
def power_two(op: hlo.PowerOp, b: Builder):
    """power(x, 2) -> multiply(x, x)"""
    s = constant_splat(op.rhs)
    if s is not None and s == 2:
        return b.mul(op.lhs, op.lhs)
    return None


@rule(example=Example(lambda x: lax.pow(x, -1.0), [(4,)], domain=(0.5, 2.0)), needs={1: CONSTANT})
def power_minus_one(op: hlo.PowerOp, b: Builder):
    """power(x, -1) -> divide(1, x)   (floats)"""
    s = constant_splat(op.rhs)
    if s is None or s != -1 or not is_float_tensor(op.result):
        return None
    return b.div(emit_splat(b, np.ones((), foldable_dtype(op.result)), op.result.type), op.lhs)


# ============================================================================ conversions


def _lossless(src: np.dtype, dst: np.dtype) -> bool:
    """Every ``src`` value is exactly representable in ``dst``."""
    if src == dst:
        return True
    if src == np.bool_:
        return True
    exponent = DtypeTable({np.dtype(np.float64): 11, np.dtype(np.float32): 8, np.dtype(np.float16): 5, "bfloat16": 8})
    if src in MANTISSA_BITS and dst in MANTISSA_BITS:
        return MANTISSA_BITS[dst] >= MANTISSA_BITS[src] and exponent[dst] >= exponent[src]
    if src.kind in "iu" and dst in MANTISSA_BITS:
        return src.itemsize * 8 - (1 if src.kind == "i" else 0) <= MANTISSA_BITS[dst]
    if src.kind in "iu" and dst.kind in "iu":
        if src.kind == dst.kind:
            return dst.itemsize > src.itemsize
        return src.kind == "u" and dst.itemsize > src.itemsize
    return False


@rule(example=Example(lambda x: x.astype(np.float32).astype(np.float64).astype(np.float32).astype(np.float64), [(4,)]), needs={0: hlo.ConvertOp})
def convert_convert_lossless(op: hlo.ConvertOp, b: Builder):
    """convert(convert(x, T2), T3) -> convert(x, T3)   (x : T1 exact in T2)"""
    inner = producer(op.operand, hlo.ConvertOp)
    if inner is None:
        return None
    t1, t2 = foldable_dtype(inner.operand), foldable_dtype(inner.result)
    if t1 is None or t2 is None or foldable_dtype(op.result) is None or not _lossless(t1, t2):
        return None
    return b.convert(inner.operand, elem(op.result))


def _iota_exact_in(n: int, dt: np.dtype) -> bool:
    if dt == np.bool_:
        return n <= 2
    if dt.kind in "iu":
        return n - 1 <= np.iinfo(dt).max
    mantissa = MANTISSA_BITS.get(np.dtype(dt))
    return mantissa is not None and n <= 2**mantissa


@rule(example=Example(lambda x: x + lax.iota(np.int32, 4).astype(np.float64), [(4,)]), needs={0: hlo.IotaOp})
def convert_iota(op: hlo.ConvertOp, b: Builder):
    """convert(iota) -> iota   (every index exact in both types)"""
    iota = producer(op.operand, hlo.IotaOp)
    if iota is None:
        return None
    src, dst = foldable_dtype(op.operand), foldable_dtype(op.result)
    n = shape(op.result)[iota.iota_dimension.value.data]
    if src is None or dst is None or dst == np.bool_ or not _iota_exact_in(n, src) or not _iota_exact_in(n, dst):
        return None
    return b.iota(shape(op.result), iota.iota_dimension.value.data, elem(op.result))


# ============================================================================ canonical form


@rule(
    example=Example(lambda x: 3.0 * x + jnp.maximum(2.0, x), [(4,)]),
    roots=[hlo.AddOp, hlo.MultiplyOp, hlo.MaximumOp, hlo.MinimumOp, hlo.AndOp, hlo.OrOp, hlo.XorOp],
    needs={0: CONSTANT},
)
def commutative_constant_lhs(op, b: Builder):
    """op(c, x) -> op(x, c)   (op commutative; constants to the right)"""
    if not is_constant(op.lhs) or is_constant(op.rhs):
        return None
    return b.insert(type(op)(op.rhs, op.lhs)).results[0]
