"""Tier 1: elementwise ops give their partial derivatives; both modes are derived.

``xs`` are the primal operands, ``ans`` the primal result (all in the generated code).
Conventions at non-differentiable points follow JAX (|x|' = 1 at 0, max splits ties
evenly, x**y's d/dy is 0 at x = 0). The holomorphic partials serve complex values as they
are (JAX's convention: ct_x = f'(x) * ct, see complex.py).
"""

from __future__ import annotations

import math as pymath

from xdsl.dialects import arith, math
from xdsl.dialects.builtin import ComplexType

from ...ir import chlo
from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem, is_tensor
from ..registry import elementwise, inactive

# --------------------------------------------------------------------- exp / log


@elementwise(hlo.ExponentialOp, math.ExpOp)
def exp(b: Builder, xs, ans, op):
    """exp(x)' = exp(x)"""
    return [ans]


@elementwise(hlo.ExponentialMinusOneOp, math.ExpM1Op)
def expm1(b: Builder, xs, ans, op):
    """(exp(x) - 1)' = ans + 1"""
    return [b.add(ans, b.ones_like(ans))]


@elementwise(math.Exp2Op)
def exp2(b: Builder, xs, ans, op):
    """(2^x)' = ans * ln 2"""
    return [b.mul(ans, b.full_like(ans, pymath.log(2.0)))]


@elementwise(hlo.LogOp, math.LogOp)
def log(b: Builder, xs, ans, op):
    """log(x)' = 1 / x"""
    return [b.reciprocal(xs[0])]


@elementwise(math.Log2Op)
def log2(b: Builder, xs, ans, op):
    """log2(x)' = 1 / (x ln 2)"""
    return [b.reciprocal(b.mul(xs[0], b.full_like(xs[0], pymath.log(2.0))))]


@elementwise(math.Log10Op)
def log10(b: Builder, xs, ans, op):
    """log10(x)' = 1 / (x ln 10)"""
    return [b.reciprocal(b.mul(xs[0], b.full_like(xs[0], pymath.log(10.0))))]


@elementwise(hlo.LogPlusOneOp, math.Log1pOp)
def log1p(b: Builder, xs, ans, op):
    """log(1 + x)' = 1 / (1 + x)"""
    return [b.reciprocal(b.add(xs[0], b.ones_like(xs[0])))]


@elementwise(hlo.LogisticOp)
def logistic(b: Builder, xs, ans, op):
    """sigmoid(x)' = ans (1 - ans)"""
    return [b.mul(ans, b.sub(b.ones_like(ans), ans))]


# --------------------------------------------------------------------- roots and powers


@elementwise(hlo.SqrtOp, math.SqrtOp)
def sqrt(b: Builder, xs, ans, op):
    """sqrt(x)' = 0.5 / ans"""
    return [b.div(b.full_like(ans, 0.5), ans)]


@elementwise(hlo.RsqrtOp, math.RsqrtOp)
def rsqrt(b: Builder, xs, ans, op):
    """rsqrt(x)' = -0.5 ans / x"""
    return [b.div(b.mul(b.full_like(ans, -0.5), ans), xs[0])]


@elementwise(hlo.CbrtOp, math.CbrtOp)
def cbrt(b: Builder, xs, ans, op):
    """cbrt(x)' = 1 / (3 ans^2)"""
    return [b.reciprocal(b.mul(b.full_like(ans, 3.0), b.square(ans)))]


@elementwise(hlo.PowerOp, math.PowFOp)
def power(b: Builder, xs, ans, op):
    """d(x^y)/dx = y x^(y-1) (0 where y = 0);  d(x^y)/dy = log(x) x^y (0 where x = 0)"""
    x, y = xs
    dx = b.mul(y, b.pow(x, b.sub(y, b.ones_like(y))))
    dx = b.select(_equals_zero(b, y), b.zeros_like(dx), dx)
    dy = b.mul(b.log(x), ans)
    dy = b.select(_equals_zero(b, x), b.zeros_like(dy), dy)
    return [dx, dy]


def _equals_zero(b: Builder, v):
    """v == 0; complex values compare with comparison type FLOAT, as JAX emits it"""
    kind = "FLOAT" if isinstance(elem(v), ComplexType) else None
    return b.compare(v, b.zeros_like(v), "EQ", kind)


# --------------------------------------------------------------------- trigonometry


@elementwise(hlo.SineOp, math.SinOp)
def sin(b: Builder, xs, ans, op):
    """sin(x)' = cos(x)"""
    return [b.cos(xs[0])]


@elementwise(hlo.CosineOp, math.CosOp)
def cos(b: Builder, xs, ans, op):
    """cos(x)' = -sin(x)"""
    return [b.neg(b.sin(xs[0]))]


@elementwise(hlo.TanOp, math.TanOp)
def tan(b: Builder, xs, ans, op):
    """tan(x)' = 1 + ans^2"""
    return [b.add(b.ones_like(ans), b.square(ans))]


@elementwise(hlo.TanhOp, math.TanhOp)
def tanh(b: Builder, xs, ans, op):
    """tanh(x)' = 1 - ans^2, computed as (1 - ans)(1 + ans): where |ans| is near 1,
    1 - ans is exact and 1 - ans^2 would cancel (a visible error in float16)"""
    one = b.ones_like(ans)
    return [b.mul(b.sub(one, ans), b.add(one, ans))]


@elementwise(hlo.Atan2Op, math.Atan2Op)
def atan2(b: Builder, xs, ans, op):
    """d atan2(x, y) = (y dx - x dy) / (x^2 + y^2)"""
    x, y = xs
    denom = b.add(b.square(x), b.square(y))
    return [b.div(y, denom), b.neg(b.div(x, denom))]


def _unary_chlo(b: Builder, cls, x):
    return b.insert(cls(x)).results[0]


@elementwise(chlo.SinhOp, math.SinhOp)
def sinh(b: Builder, xs, ans, op):
    """sinh(x)' = cosh(x)"""
    return [_unary_chlo(b, chlo.CoshOp if is_tensor(xs[0]) else math.CoshOp, xs[0])]


@elementwise(chlo.CoshOp, math.CoshOp)
def cosh(b: Builder, xs, ans, op):
    """cosh(x)' = sinh(x)"""
    return [_unary_chlo(b, chlo.SinhOp if is_tensor(xs[0]) else math.SinhOp, xs[0])]


@elementwise(chlo.AsinOp, math.AsinOp)
def asin(b: Builder, xs, ans, op):
    """asin(x)' = 1 / sqrt(1 - x^2)"""
    return [b.rsqrt(b.sub(b.ones_like(xs[0]), b.square(xs[0])))]


@elementwise(chlo.AcosOp, math.AcosOp)
def acos(b: Builder, xs, ans, op):
    """acos(x)' = -1 / sqrt(1 - x^2)"""
    return [b.neg(b.rsqrt(b.sub(b.ones_like(xs[0]), b.square(xs[0]))))]


@elementwise(chlo.AtanOp, math.AtanOp)
def atan(b: Builder, xs, ans, op):
    """atan(x)' = 1 / (1 + x^2)"""
    return [b.reciprocal(b.add(b.ones_like(xs[0]), b.square(xs[0])))]


@elementwise(chlo.AsinhOp, math.AsinhOp)
def asinh(b: Builder, xs, ans, op):
    """asinh(x)' = 1 / sqrt(x^2 + 1)"""
    return [b.rsqrt(b.add(b.square(xs[0]), b.ones_like(xs[0])))]


@elementwise(chlo.AcoshOp, math.AcoshOp)
def acosh(b: Builder, xs, ans, op):
    """acosh(x)' = 1 / sqrt(x^2 - 1)"""
    return [b.rsqrt(b.sub(b.square(xs[0]), b.ones_like(xs[0])))]


@elementwise(chlo.AtanhOp, math.AtanhOp)
def atanh(b: Builder, xs, ans, op):
    """atanh(x)' = 1 / (1 - x^2)"""
    return [b.reciprocal(b.sub(b.ones_like(xs[0]), b.square(xs[0])))]


# --------------------------------------------------------------------- special functions


@elementwise(chlo.ErfOp, math.ErfOp)
def erf(b: Builder, xs, ans, op):
    """erf(x)' = 2 / sqrt(pi) exp(-x^2)"""
    return [b.mul(b.full_like(xs[0], 2.0 / pymath.sqrt(pymath.pi)), b.exp(b.neg(b.square(xs[0]))))]


@elementwise(chlo.ErfcOp)
def erfc(b: Builder, xs, ans, op):
    """erfc(x)' = -2 / sqrt(pi) exp(-x^2)"""
    return [b.mul(b.full_like(xs[0], -2.0 / pymath.sqrt(pymath.pi)), b.exp(b.neg(b.square(xs[0]))))]


@elementwise(chlo.ErfInvOp)
def erf_inv(b: Builder, xs, ans, op):
    """erfinv(x)' = sqrt(pi) / 2 exp(ans^2)"""
    return [b.mul(b.full_like(ans, pymath.sqrt(pymath.pi) / 2.0), b.exp(b.square(ans)))]


@elementwise(chlo.LgammaOp)
def lgamma(b: Builder, xs, ans, op):
    """lgamma(x)' = digamma(x)"""
    return [_unary_chlo(b, chlo.DigammaOp, xs[0])]


@elementwise(chlo.DigammaOp)
def digamma(b: Builder, xs, ans, op):
    """digamma(x)' = polygamma(1, x)"""
    one = b.ones_like(xs[0])
    return [b.insert(chlo.PolygammaOp(one, xs[0])).results[0]]


# --------------------------------------------------------------------- piecewise


def abs_partial(b: Builder, x):
    """|x|' = 1 where x >= 0, else -1 (JAX's convention: 1 at 0, -1 at NaN)"""
    return b.select(b.compare(x, b.zeros_like(x), "GE"), b.ones_like(x), b.full_like(x, -1.0))


@elementwise(math.AbsFOp)
def abs_(b: Builder, xs, ans, op):
    """|x|' = 1 where x >= 0, else -1   (stablehlo.abs, which also takes complex values, is
    a custom rule in complex.py)"""
    return [abs_partial(b, xs[0])]


@elementwise(hlo.DivideOp, arith.DivfOp)
def divide(b: Builder, xs, ans, op):
    """d(x / y) = dx / y - ans dy / y"""
    x, y = xs
    return [b.reciprocal(y), b.neg(b.div(ans, y))]


def _balanced_choice(b: Builder, x, y, ans):
    """1 where x alone is chosen, 0.5 on ties, 0 where y is chosen (JAX's convention)."""
    one, half, zero = b.ones_like(ans), b.full_like(ans, 0.5), b.zeros_like(ans)
    x_is = b.compare(x, ans, "EQ")
    y_is = b.compare(y, ans, "EQ")
    return b.select(x_is, b.select(y_is, half, one), zero)


@elementwise(hlo.MaximumOp, hlo.MinimumOp, arith.MaximumfOp, arith.MinimumfOp, arith.MaxnumfOp, arith.MinnumfOp)
def maximum(b: Builder, xs, ans, op):
    """d max(x, y) = [x chosen] dx + [y chosen] dy, ties split evenly"""
    x, y = xs
    return [_balanced_choice(b, x, y, ans), _balanced_choice(b, y, x, ans)]


@elementwise(hlo.RemainderOp)
def remainder(b: Builder, xs, ans, op):
    """d rem(x, y) = dx - trunc(x / y) dy"""
    x, y = xs
    q = b.div(x, y)
    zero = b.zeros_like(q)
    floor = _unary_chlo(b, hlo.FloorOp if is_tensor(q) else math.FloorOp, q)
    ceil = _unary_chlo(b, hlo.CeilOp if is_tensor(q) else math.CeilOp, q)
    trunc = b.select(b.compare(q, zero, "LT"), ceil, floor)
    return [b.ones_like(x), b.neg(trunc)]


@elementwise(hlo.ClampOp)
def clamp(b: Builder, xs, ans, op):
    """clamp(lo, x, hi) = min(max(x, lo), hi): dx where lo < x < hi, dlo where x < lo < hi,
    dhi where hi < max(x, lo). Where lo > hi the result is hi whatever x and lo are, so
    its derivative is dhi (JAX's rule gives dhi only where hi < x; it agrees wherever
    lo <= hi). Ties give no derivative."""
    lo, x, hi = xs
    lo_b, hi_b = b.broadcast_to(lo, x.type), b.broadcast_to(hi, x.type)
    one, zero = b.ones_like(x), b.zeros_like(x)

    def both(p, q):
        return b.select(p, b.select(q, one, zero), zero)

    d_lo = both(b.compare(lo_b, x, "GT"), b.compare(lo_b, hi_b, "LT"))
    d_x = both(b.compare(x, lo_b, "GT"), b.compare(x, hi_b, "LT"))
    d_hi = b.select(b.compare(hi_b, x, "LT"), one, b.select(b.compare(hi_b, lo_b, "LT"), one, zero))
    return [d_lo, d_x, d_hi]


# --------------------------------------------------------------------- inactive

inactive(
    hlo.CompareOp,
    hlo.IotaOp,
    hlo.ConstantOp,
    hlo.FloorOp,
    hlo.CeilOp,
    hlo.RoundNearestEvenOp,
    hlo.RoundNearestAfzOp,
    hlo.SignOp,
    hlo.NotOp,
    hlo.AndOp,
    hlo.OrOp,
    hlo.XorOp,
    hlo.ShiftLeftOp,
    hlo.ShiftRightArithmeticOp,
    hlo.ShiftRightLogicalOp,
    hlo.PopcntOp,
    hlo.CountLeadingZerosOp,
    hlo.IsFiniteOp,
    hlo.BitcastConvertOp,
    hlo.RngBitGeneratorOp,
    chlo.IsInfOp,
    chlo.IsNegInfOp,
    chlo.IsPosInfOp,
    chlo.NextAfterOp,
    arith.ConstantOp,
    arith.CmpfOp,
    arith.CmpiOp,
    arith.AddiOp,
    arith.SubiOp,
    arith.MuliOp,
    arith.DivSIOp,
    arith.DivUIOp,
    arith.RemSIOp,
    arith.RemUIOp,
    arith.AndIOp,
    arith.OrIOp,
    arith.XOrIOp,
    arith.ShLIOp,
    arith.ShRSIOp,
    arith.ShRUIOp,
    arith.MaxSIOp,
    arith.MinSIOp,
    arith.MaxUIOp,
    arith.MinUIOp,
    arith.IndexCastOp,
    arith.SIToFPOp,
    arith.UIToFPOp,
    arith.FPToSIOp,
    arith.FPToUIOp,
    arith.ExtSIOp,
    arith.ExtUIOp,
    arith.TruncIOp,
    arith.BitcastOp,
    math.FloorOp,
    math.CeilOp,
    math.RoundOp,
    math.RoundEvenOp,
    math.TruncOp,
    math.AbsIOp,
    math.CountLeadingZerosOp,
    math.CountTrailingZerosOp,
    math.CtPopOp,
    math.IPowIOp,
)
