"""Emitters of the complex dialect's ops on complex scalars (``complex<f64>``; xDSL's
dialect, registered in ``ir/__init__.py``)."""

from __future__ import annotations

import numpy as np
from jax import lax
from xdsl.dialects import complex as cx

from .emitter import FunctionBuilder, OpFn, emits, emits_table

emits_table(
    {
        cx.AddOp: lax.add,
        cx.SubOp: lax.sub,
        cx.MulOp: lax.mul,
        cx.DivOp: lax.div,
        cx.NegOp: lax.neg,
        cx.ConjOp: lax.conj,
        cx.ReOp: lax.real,
        cx.ImOp: lax.imag,
        cx.CreateOp: lax.complex,
        cx.ExpOp: lax.exp,
        cx.LogOp: lax.log,
        cx.SqrtOp: lax.sqrt,
        cx.RsqrtOp: lax.rsqrt,
        cx.SinOp: lax.sin,
        cx.CosOp: lax.cos,
        cx.TanhOp: lax.tanh,
        cx.AbsOp: lax.abs,
        cx.AngleOp: lambda z: lax.atan2(lax.imag(z), lax.real(z)),
        cx.EqualOp: lax.eq,
        cx.NotEqualOp: lax.ne,
        cx.Expm1Op: lax.expm1,
        cx.Log1pOp: lax.log1p,
        cx.PowOp: lax.pow,
        cx.SignOp: lax.sign,
        cx.TanOp: lax.tan,
    }
)


@emits(cx.ConstantOp)
def _constant(b: FunctionBuilder, op: cx.ConstantOp) -> OpFn:
    re, im = (a.value.data for a in op.value.data)
    dtype = np.complex128 if op.complex.type.element_type.bitwidth == 64 else np.complex64
    value = np.asarray(complex(re, im), dtype=dtype)
    return lambda: value
