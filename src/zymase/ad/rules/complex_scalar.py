"""Derivatives of the complex dialect's ops on complex scalars (``complex<f64>``), with the
conventions of ``ad/rules/complex.py`` (JAX's): the tangent of a complex value is
complex, and a cotangent is the transpose for the pairing ``Re(a b)`` without
conjugation, so holomorphic ops have ``f'(z) ct`` as cotangent, ``re(z)^T ct = ct``,
``im(z)^T ct = -i ct``, ``create(x, y)^T ct = (Re ct, -Im ct)``. The builder makes the
complex dialect's ops for arithmetic on complex scalars (``ir/builder.py``)."""

from __future__ import annotations

from xdsl.dialects import complex as cx
from xdsl.dialects.builtin import ComplexType

from ...ir.builder import Builder
from ..registry import elementwise, linear


def _re(b: Builder, z):
    return b.insert(cx.ReOp(z)).results[0]


def _im(b: Builder, z):
    return b.insert(cx.ImOp(z)).results[0]


def _create(b: Builder, re, im):
    return b.insert(cx.CreateOp(re, im, ComplexType(re.type))).results[0]


@elementwise(cx.MulOp)
def mul(b: Builder, xs, ans, op):
    """(x y)' = y, x"""
    return [xs[1], xs[0]]


@elementwise(cx.DivOp)
def div(b: Builder, xs, ans, op):
    """(x / y)' = 1 / y, -ans / y"""
    x, y = xs
    return [b.reciprocal(y), b.neg(b.div(ans, y))]


@elementwise(cx.ExpOp)
def exp(b: Builder, xs, ans, op):
    return [ans]


@elementwise(cx.LogOp)
def log(b: Builder, xs, ans, op):
    return [b.reciprocal(xs[0])]


@elementwise(cx.SqrtOp)
def sqrt(b: Builder, xs, ans, op):
    """sqrt(z)' = 1 / (2 sqrt z)"""
    return [b.div(b.full_like(ans, 0.5), ans)]


@elementwise(cx.RsqrtOp)
def rsqrt(b: Builder, xs, ans, op):
    """rsqrt(z)' = -rsqrt(z) / (2 z)"""
    return [b.div(b.mul(b.full_like(ans, -0.5), ans), xs[0])]


@elementwise(cx.SinOp)
def sin(b: Builder, xs, ans, op):
    return [b.insert(cx.CosOp(xs[0])).results[0]]


@elementwise(cx.CosOp)
def cos(b: Builder, xs, ans, op):
    return [b.neg(b.insert(cx.SinOp(xs[0])).results[0])]


@elementwise(cx.TanhOp)
def tanh(b: Builder, xs, ans, op):
    one = b.ones_like(ans)
    return [b.mul(b.sub(one, ans), b.add(one, ans))]


@linear(cx.AddOp)
def add(b: Builder, op, ct, i, xs):
    return ct


@linear(cx.SubOp)
def sub(b: Builder, op, ct, i, xs):
    return ct if i == 0 else b.neg(ct)


@linear(cx.NegOp)
def neg(b: Builder, op, ct, i, xs):
    return b.neg(ct)


@linear(cx.ConjOp)
def conj(b: Builder, op, ct, i, xs):
    """conj(z)^T ct = conj(ct)"""
    return b.insert(cx.ConjOp(ct)).results[0]


@linear(cx.ReOp)
def re(b: Builder, op, ct, i, xs):
    """re(z)^T ct = ct + 0i"""
    return _create(b, ct, b.zeros_like(ct))


@linear(cx.ImOp)
def im(b: Builder, op, ct, i, xs):
    """im(z)^T ct = -i ct"""
    return _create(b, b.zeros_like(ct), b.neg(ct))


@linear(cx.CreateOp)
def create(b: Builder, op, ct, i, xs):
    """create(x, y)^T ct = (Re ct, -Im ct)"""
    return _re(b, ct) if i == 0 else b.neg(_im(b, ct))
