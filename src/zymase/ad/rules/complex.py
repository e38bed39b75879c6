"""Complex numbers and Fourier transforms, with JAX's conventions.

The tangent of a complex value is complex. Its cotangent is the transpose of the tangent
map for the real bilinear pairing ``<a, b> = Re(sum(a * b))``, without conjugation, as
JAX defines it. Two consequences:

- For a holomorphic op the cotangent is ``f'(x) * ct``: the partials of the elementwise
  rules (exp, log, sqrt, multiply, divide, ...) serve complex values unchanged.
- For a real loss ``L`` of a complex ``x`` the gradient is ``dL/dRe(x) - i dL/dIm(x)``
  (``jax.grad(lambda z: abs(z) ** 2)(z) == 2 * conj(z)``).

The transposes below follow from that pairing: ``real(z)^T ct = ct``,
``imag(z)^T ct = -i ct``, ``complex(x, y)^T ct = (Re ct, -Im ct)``,
``conj(z)^T ct = conj(ct)``. The multidimensional DFT matrix is symmetric, so FFT and
IFFT are their own transposes; RFFT and IRFFT are real-linear maps between real and
half-spectrum complex arrays, transposed below with the Hermitian bins accounted for.
"""

from __future__ import annotations

import math as pymath
from typing import TYPE_CHECKING

import numpy as np
from xdsl.dialects.builtin import ComplexType
from xdsl.ir import SSAValue

from ...ir import chlo
from ...ir import stablehlo as hlo
from ...ir.attributes import FftType, FftTypeAttr
from ...ir.builder import Builder, elem, shape, tensor
from ..registry import batched, batched_reverse, batched_transpose, custom_forward, custom_reverse, linear
from .elementwise import abs_partial
from .linear import _btype, _same_op

if TYPE_CHECKING:
    from ..engine import ForwardSweep, ReverseSweep

# --------------------------------------------------------------------- helpers


def is_complex(v: SSAValue) -> bool:
    return isinstance(elem(v), ComplexType)


def _part_type(z: SSAValue):
    """The type of the real (or imaginary) part of the complex tensor ``z``."""
    return tensor(elem(z).element_type, shape(z))


def real_part(b: Builder, z: SSAValue) -> SSAValue:
    return b.insert(hlo.RealOp(z, _part_type(z))).results[0]


def imag_part(b: Builder, z: SSAValue) -> SSAValue:
    return b.insert(hlo.ImagOp(z, _part_type(z))).results[0]


def make_complex(b: Builder, re: SSAValue, im: SSAValue) -> SSAValue:
    return b.insert(hlo.ComplexOp(re, im, tensor(ComplexType(elem(re)), shape(re)))).results[0]


def conj(b: Builder, z: SSAValue) -> SSAValue:
    return b.insert(chlo.ConjOp(z)).results[0]


def fft(b: Builder, x: SSAValue, kind: FftType, lengths: list[int]) -> SSAValue:
    """stablehlo.fft of ``kind`` over the trailing ``len(lengths)`` dimensions of ``x``."""
    dims = list(shape(x))
    if kind == FftType.RFFT:
        dims[-1] = lengths[-1] // 2 + 1
        out = tensor(ComplexType(elem(x)), dims)
    elif kind == FftType.IRFFT:
        dims[-1] = lengths[-1]
        out = tensor(elem(x).element_type, dims)
    else:
        out = x.type
    op = hlo.FftOp.create(
        operands=[x],
        result_types=[out],
        properties={"fft_type": FftTypeAttr(kind), "fft_length": hlo.i64_array(lengths)},
    )
    return b.insert(op).results[0]


# --------------------------------------------------------------------- real, imag, complex, conj


@linear(hlo.RealOp)
def real(b: Builder, op, ct, i, xs):
    """real(z)^T ct = ct + 0i   (real(x) of a real x is x: ct)"""
    if not is_complex(xs[0]):
        return ct
    return make_complex(b, ct, b.zeros_like(ct))


@linear(hlo.ImagOp)
def imag(b: Builder, op, ct, i, xs):
    """imag(z)^T ct = -i ct, since Re(-i ct z) = ct Im(z)   (imag(x) of a real x is 0: none)"""
    if not is_complex(xs[0]):
        return None
    return make_complex(b, b.zeros_like(ct), b.neg(ct))


@linear(hlo.ComplexOp)
def complex_(b: Builder, op, ct, i, xs):
    """complex(x, y)^T ct = (Re ct, -Im ct), since Re(ct (x + i y)) = x Re ct - y Im ct"""
    if i == 0:
        return real_part(b, ct)
    return b.neg(imag_part(b, ct))


@linear(chlo.ConjOp)
def conjugate(b: Builder, op, ct, i, xs):
    """conj(z)^T ct = conj(ct), since Re(ct conj(z)) = Re(conj(ct) z)   (conj of a real x is x: ct)"""
    if not is_complex(xs[0]):
        return ct
    return conj(b, ct)


@batched(hlo.RealOp, hlo.ImagOp, hlo.ComplexOp, chlo.ConjOp, hlo.FftOp)
def batched_complex(fwd: ForwardSweep, op, operands, flags):
    """the leading direction dimension is one more batch dimension of these ops"""
    return _same_op(fwd, op, operands, _btype(fwd, op.results[0].type))


# --------------------------------------------------------------------- fft


@linear(hlo.FftOp)
def fft_transpose(b: Builder, op: hlo.FftOp, ct, i, xs):
    """FFT^T = FFT and IFFT^T = IFFT (symmetric DFT matrices);
    RFFT^T ct = Re(FFT(ct zero-padded to the full spectrum));
    IRFFT^T ct = conj(RFFT(ct)) * m / N, m = 2 on the bins that stand for two (1 on DC and
    Nyquist), N the product of the lengths"""
    kind = op.fft_type.data
    lengths = list(op.fft_length.get_values())
    if kind in (FftType.FFT, FftType.IFFT):
        return fft(b, ct, kind, lengths)
    if kind == FftType.RFFT:
        return _rfft_transpose(b, ct, lengths)
    return _irfft_transpose(b, ct, lengths)


def _rfft_transpose(b: Builder, ct: SSAValue, lengths: list[int]) -> SSAValue:
    """RFFT(x) is the first n // 2 + 1 bins (last axis) of FFT(x + 0i); the transpose of
    keeping those bins pads with zeros, of FFT is FFT, of x -> x + 0i is Re"""
    rank = len(shape(ct))
    n = lengths[-1]
    zero = b.zeros(tensor(elem(ct), []))
    high = [0] * (rank - 1) + [n - shape(ct)[-1]]
    full = b.pad(ct, zero, [0] * rank, high)
    return real_part(b, fft(b, full, FftType.FFT, lengths))


def _irfft_transpose(b: Builder, ct: SSAValue, lengths: list[int]) -> SSAValue:
    """IRFFT(y)_n = (1/N) sum_k m_k Re(y_k e^{+2 pi i k n / n_last}) along the last axis
    (an inverse complex FFT along the others), so ct_y = (m / N) sum_n ct_n e^{+...}:
    the conjugate of RFFT(ct), weighted"""
    n = lengths[-1]
    spectrum = fft(b, ct, FftType.RFFT, lengths)
    bins = shape(spectrum)[-1]
    weights = np.full(bins, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    weights /= pymath.prod(lengths)
    rank = len(shape(spectrum))
    w = b.constant(weights, tensor(elem(spectrum), [bins]))
    w = b.broadcast_in_dim(w, shape(spectrum), [rank - 1])
    return b.mul(conj(b, spectrum), w)


_TRANSPOSES = {hlo.RealOp: real, hlo.ImagOp: imag, hlo.ComplexOp: complex_, chlo.ConjOp: conjugate, hlo.FftOp: fft_transpose}


@batched_transpose(*_TRANSPOSES)
def batched_complex_transpose(rev: ReverseSweep, op, ct, i, xs):
    """the width-1 transposes act elementwise or over trailing dimensions: the leading
    cotangent dimension is one more batch dimension"""
    return _TRANSPOSES[type(op)](rev.builder, op, ct, i, xs)


# --------------------------------------------------------------------- abs


@custom_forward(hlo.AbsOp)
def abs_forward(fwd: ForwardSweep, op: hlo.AbsOp) -> None:
    """real x: t_ans = [x >= 0 ? 1 : -1] t (JAX's convention at 0);
    complex z: t_ans = Re(conj(z) t) / |z| = (Re z Re t + Im z Im t) / |z| (0 where z = 0)"""
    new = fwd.clone(op)
    b = fwd.builder
    x, ans, t = fwd.primal(op.operand), new.results[0], fwd.tangent(op.operand)
    if not is_complex(x):
        fwd.set_tangent(op.result, b.mul(fwd.expand(abs_partial(b, x)), t))
        return
    u, v = _unit_parts(b, x, ans)
    t_ans = b.add(b.mul(fwd.expand(u), real_part(b, t)), b.mul(fwd.expand(v), imag_part(b, t)))
    fwd.set_tangent(op.result, t_ans)


@custom_reverse(hlo.AbsOp)
def abs_reverse(rev: ReverseSweep, op: hlo.AbsOp) -> None:
    """real x: ct_x = [x >= 0 ? 1 : -1] ct;  complex z: ct_z = ct conj(z) / |z|
    (the transpose of t -> Re(conj(z) t / |z|); 0 where z = 0)"""
    b = rev.builder
    x, ans, ct = rev.primal(op.operand), rev.primal(op.result), rev.adjoint(op.result)
    if not is_complex(x):
        rev.add_adjoint(op.operand, b.mul(rev.expand(abs_partial(b, x)), ct))
        return
    u, v = _unit_parts(b, x, ans)
    u, v = rev.expand(u), rev.expand(v)  # width N: along the cotangents
    rev.add_adjoint(op.operand, make_complex(b, b.mul(u, ct), b.neg(b.mul(v, ct))))


batched_reverse(hlo.AbsOp)


def _unit_parts(b: Builder, z: SSAValue, ans: SSAValue) -> tuple[SSAValue, SSAValue]:
    """(Re z, Im z) / |z|, with |z| replaced by 1 where it is 0 (so 0 there, as JAX)"""
    zero = b.zeros_like(ans)
    r = b.select(b.compare(ans, zero, "EQ"), b.ones_like(ans), ans)
    return b.div(real_part(b, z), r), b.div(imag_part(b, z), r)
