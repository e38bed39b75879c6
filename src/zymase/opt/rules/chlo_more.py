"""chlo's elementary functions: odd functions at zero (the zero itself, sign kept), the
values at the points where they are exactly known (cosh(0) = erfc(0) = 1,
acos(1) = acosh(1) = 0), square as a product; under fast-math, symmetry through negate
and constant folding by the host's libm.

The special points are exact in XLA's decompositions (exp(0) = 1 and log(1) = 0 are exact
in every correct implementation; an odd decomposition is x times an even part); symmetry
holds only if the implementation is symmetric and the host's libm may differ from XLA's
in the last place: those rules are fast-math only.
"""

from __future__ import annotations

import math


from ...ir import chlo
from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ...ir.query import shape
from ..lazy_jax import jnp, lax
from ..pattern import CONSTANT, Example, is_float_tensor, producer, rule, value_of
from .common import MAX_FOLD_ELEMENTS, constant_splat, emit, emit_splat


@rule(
    example=[
        Example(lambda x: x + jnp.sinh(jnp.zeros(4)), [(4,)]),
        Example(lambda x: x * lax.erf(jnp.zeros(4)) + jnp.arctan(jnp.zeros(4)), [(4,)]),
    ],
    roots=[chlo.ErfOp, chlo.SinhOp, chlo.AsinOp, chlo.AtanOp, chlo.AsinhOp, chlo.AtanhOp, chlo.ErfInvOp, chlo.TanOp],
    needs={0: CONSTANT},
)
def chlo_odd_function_at_zero(op, b: Builder):
    """f(±0) -> ±0   (f erf, sinh, asin, atan, asinh, atanh, erf_inv, tan: odd, zero at zero)"""
    if not is_float_tensor(op.result):
        return None
    c = constant_splat(op.operand)
    if c is None or c.dtype.kind != "f" or float(c) != 0.0:
        return None
    return op.operand


@rule(
    example=[
        Example(lambda x: x * jnp.cosh(jnp.zeros(4)), [(4,)]),
        Example(lambda x: x + jnp.arccos(jnp.ones(4)) + jnp.arccosh(jnp.ones(4)), [(4,)]),
        Example(lambda x: x * lax.erfc(jnp.zeros(4)), [(4,)]),
    ],
    roots=[chlo.CoshOp, chlo.ErfcOp, chlo.AcosOp, chlo.AcoshOp],
    needs={0: CONSTANT},
)
def chlo_function_at_special_point(op, b: Builder):
    """cosh(0) -> 1 ;  erfc(0) -> 1 ;  acos(1) -> 0 ;  acosh(1) -> 0   (either zero)"""
    import numpy as np
    if not is_float_tensor(op.result) or any(n < 0 for n in shape(op.result)):
        return None
    c = constant_splat(op.operand)
    if c is None or c.dtype.kind != "f":
        return None
    v = float(c)
    if isinstance(op, (chlo.CoshOp, chlo.ErfcOp)) and v == 0.0:
        return emit_splat(b, np.asarray(1, dtype=c.dtype), op.result.type)
    if isinstance(op, (chlo.AcosOp, chlo.AcoshOp)) and v == 1.0:
        return emit_splat(b, np.asarray(0, dtype=c.dtype), op.result.type)
    return None


@rule(
    example=[Example(lambda x: jnp.sinh(-x), [(4,)]), Example(lambda x: jnp.arctan(-x) + lax.erf(-x), [(4,)])],
    roots=[chlo.ErfOp, chlo.SinhOp, chlo.AsinOp, chlo.AtanOp, chlo.AsinhOp, chlo.AtanhOp, chlo.ErfInvOp, chlo.TanOp],
    needs={0: hlo.NegateOp},
    unsafe=True,
)
def chlo_odd_function_negate(op, b: Builder):
    """f(negate(x)) -> negate(f(x))   (f erf, sinh, asin, atan, asinh, atanh, erf_inv, tan: odd; exact only if the implementation is symmetric; fast-math only)"""
    n = producer(op.operand, hlo.NegateOp)
    if n is None or not is_float_tensor(op.result):
        return None
    inner = b.insert(type(op)(n.operand, op.result.type)).results[0]
    return b.neg(inner)


@rule(
    example=[Example(lambda x: jnp.cosh(-x), [(4,)]), Example(lambda x: jnp.cosh(jnp.abs(x)), [(4,)])],
    needs={0: (hlo.NegateOp, hlo.AbsOp)},
    unsafe=True,
)
def chlo_cosh_even(op: chlo.CoshOp, b: Builder):
    """cosh(negate(x)) -> cosh(x) ;  cosh(abs(x)) -> cosh(x)   (even; exact only if the implementation is symmetric; fast-math only)"""
    n = producer(op.operand, (hlo.NegateOp, hlo.AbsOp))
    if n is None or not is_float_tensor(op.result) or n.operand.type != op.operand.type:
        return None
    return b.insert(chlo.CoshOp(n.operand, op.result.type)).results[0]


@rule(
    example=[
        Example(
            mlir="""
func.func @main(%x: tensor<4xf64>) -> tensor<4xf64> {
  %0 = chlo.square %x : tensor<4xf64> -> tensor<4xf64>
  func.return %0 : tensor<4xf64>
}"""
        ),
        Example(
            mlir="""
func.func @main(%x: tensor<4xi32>) -> tensor<4xi32> {
  %0 = chlo.square %x : tensor<4xi32> -> tensor<4xi32>
  func.return %0 : tensor<4xi32>
}"""
        ),
    ],
)
def chlo_square_real(op: chlo.SquareOp, b: Builder):
    """chlo.square(x) -> multiply(x, x)   (real floats and integers: the same product)"""
    from .common import any_dtype

    dt = any_dtype(op.operand)
    if dt is None or dt.kind not in "fiu" or op.operand.type != op.result.type:
        return None
    return b.mul(op.operand, op.operand)


_LIBM = {
    chlo.ErfOp: math.erf,
    chlo.ErfcOp: math.erfc,
    chlo.SinhOp: math.sinh,
    chlo.CoshOp: math.cosh,
    chlo.AsinOp: math.asin,
    chlo.AcosOp: math.acos,
    chlo.AtanOp: math.atan,
    chlo.AsinhOp: math.asinh,
    chlo.AcoshOp: math.acosh,
    chlo.AtanhOp: math.atanh,
    chlo.TanOp: math.tan,
    chlo.LgammaOp: math.lgamma,
}


def _libm(fn, v: float) -> float:
    try:
        return fn(v)
    except (ValueError, OverflowError):
        return math.nan


@rule(
    example=[
        Example(lambda x: x + jnp.sinh(jnp.asarray([0.5, -1.0, 2.0, 0.25])), [(4,)]),
        Example(lambda x: x * lax.erf(jnp.full((4,), 0.3)) + lax.lgamma(jnp.full((4,), 3.5)), [(4,)]),
    ],
    roots=[chlo.ErfOp, chlo.ErfcOp, chlo.SinhOp, chlo.CoshOp, chlo.AsinOp, chlo.AcosOp, chlo.AtanOp, chlo.AsinhOp, chlo.AcoshOp, chlo.AtanhOp, chlo.TanOp, chlo.LgammaOp],
    needs={0: CONSTANT},
    unsafe=True,
)
def chlo_constant_fold(op, b: Builder):
    """erf, erfc, sinh, cosh, asin, acos, atan, asinh, acosh, atanh, tan, lgamma (c) -> c'   (f32, f64; the host's libm may differ from XLA's in the last place: fast-math only)"""
    import numpy as np
    value = value_of(op.operand)
    if value is None or value.dtype not in (np.float32, np.float64) or value.size > MAX_FOLD_ELEMENTS:
        return None
    fn = _LIBM[type(op)]
    out = np.vectorize(lambda v: _libm(fn, float(v)), otypes=[np.float64])(value).astype(value.dtype)
    return emit(b, np.ascontiguousarray(out), op.result.type)


_ROUNDED_TEST = """
func.func @main(%x: tensor<4xf64>) -> tensor<4xi1> {
  %i = stablehlo.constant dense<[1.5, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000]> : tensor<4xf64>
  %y = stablehlo.add %x, %i : tensor<4xf64>
  %0 = stablehlo.%R %y : tensor<4xf64>
  %1 = chlo.%T %0 : tensor<4xf64> -> tensor<4xi1>
  func.return %1 : tensor<4xi1>
}"""


@rule(
    example=[
        Example(mlir=_ROUNDED_TEST.replace("%R", "floor").replace("%T", "is_inf")),
        Example(mlir=_ROUNDED_TEST.replace("%R", "round_nearest_even").replace("%T", "is_neg_inf")),
    ],
    roots=[chlo.IsInfOp, chlo.IsPosInfOp, chlo.IsNegInfOp],
    needs={0: (hlo.FloorOp, hlo.CeilOp, hlo.RoundNearestEvenOp, hlo.RoundNearestAfzOp)},
)
def infinity_test_of_rounding(op, b: Builder):
    """is_inf(floor(x)) -> is_inf(x)   (is_pos_inf, is_neg_inf; ceil, round_nearest_even, round_nearest_afz alike: rounding keeps ±inf and finite values finite)"""
    r = producer(op.operand, (hlo.FloorOp, hlo.CeilOp, hlo.RoundNearestEvenOp, hlo.RoundNearestAfzOp))
    if r is None:
        return None
    return b.insert(type(op)(r.operand, op.result.type)).results[0]


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<4xf64>) -> tensor<4xf64> {
  %0 = chlo.next_after %x, %x : tensor<4xf64>, tensor<4xf64> -> tensor<4xf64>
  func.return %0 : tensor<4xf64>
}"""
    )
)
def next_after_self(op: chlo.NextAfterOp, b: Builder):
    """next_after(x, x) -> x   (the step toward an equal value is none; NaN stays NaN)"""
    if op.lhs is not op.rhs or op.lhs.type != op.result.type:
        return None
    return op.lhs


@rule(
    example=[
        Example(
            mlir="""
func.func @main(%x: tensor<4xf64>) -> tensor<4xf64> {
  %n = stablehlo.negate %x : tensor<4xf64>
  %0 = chlo.square %n : tensor<4xf64> -> tensor<4xf64>
  func.return %0 : tensor<4xf64>
}"""
        ),
        Example(
            mlir="""
func.func @main(%x: tensor<4xf64>) -> tensor<4xf64> {
  %n = stablehlo.abs %x : tensor<4xf64>
  %0 = chlo.square %n : tensor<4xf64> -> tensor<4xf64>
  func.return %0 : tensor<4xf64>
}"""
        ),
    ],
    needs={0: (hlo.NegateOp, hlo.AbsOp)},
)
def chlo_square_sign(op: chlo.SquareOp, b: Builder):
    """chlo.square(negate(x)) -> chlo.square(x) ;  chlo.square(abs(x)) -> chlo.square(x)   (real floats: the product of two equal signs is the same bits)"""
    n = producer(op.operand, (hlo.NegateOp, hlo.AbsOp))
    if n is None or not is_float_tensor(op.result) or n.operand.type != op.operand.type:
        return None
    from .common import any_dtype

    dt = any_dtype(op.operand)
    if dt is None or dt.kind != "f":
        return None
    return b.insert(chlo.SquareOp(n.operand, op.result.type)).results[0]
