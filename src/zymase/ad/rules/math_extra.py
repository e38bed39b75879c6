"""Derivatives of the math ops the elementwise family does not cover: ``math.fma``,
``math.copysign`` and ``math.erfc`` (``ir/math.py``)."""

from __future__ import annotations

import math as pymath

from xdsl.dialects import math

from ...ir.builder import Builder
from ...ir.math import ErfcOp
from ..registry import elementwise


@elementwise(math.FmaOp)
def fma(b: Builder, xs, ans, op):
    """fma(x, y, z) = x y + z: partials y, x, 1"""
    x, y, z = xs
    return [y, x, b.ones_like(z)]


@elementwise(math.CopySignOp)
def copysign(b: Builder, xs, ans, op):
    """copysign(x, y) = |x| sign(y): partials sign(x) sign(y) (copysign(1, .), so +1 at
    x = 0 as jax's abs), and 0 in y"""
    x, y = xs
    one = b.ones_like(x)
    sx = b.insert(math.CopySignOp(one, x)).results[0]
    sy = b.insert(math.CopySignOp(one, y)).results[0]
    return [b.mul(sx, sy), b.zeros_like(y)]


@elementwise(ErfcOp)
def erfc(b: Builder, xs, ans, op):
    """erfc(x)' = -2 / sqrt(pi) exp(-x^2)"""
    return [b.mul(b.full_like(xs[0], -2.0 / pymath.sqrt(pymath.pi)), b.exp(b.neg(b.square(xs[0]))))]
