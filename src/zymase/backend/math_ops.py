"""Emitters of the math ops zymase adds to xDSL's dialect (``ir/math.py``)."""

from __future__ import annotations

from ..ir.math import ErfcOp
from .emitter import emits_table
from jax import lax

emits_table({ErfcOp: lambda x: lax.erfc(x)})
