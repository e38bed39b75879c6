"""Running maxima and minima (``lax.cummax`` / ``lax.cummin``, ``jnp.maximum.accumulate``)
lowered as the prefix scan jax differentiates.

jax lowers ``cummax`` to one ``reduce_window`` (window the whole axis), but differentiates
it as the parallel prefix scan ``lax.associative_scan(lax.max, x)``: where running maxima
tie, each ``maximum`` of that scan splits the derivative in halves, so the derivative a
tied element receives depends on the scan's tree. The derivative of a ``reduce_window``
instead goes whole to one element of each window. zymase lowers these two primitives as
that same scan, so its derivatives, in both modes and at every order, are jax's, ties
included; the values are the same (a maximum is exact). cumsum, cumprod and
cumlogsumexp keep jax's lowering: their derivatives do not depend on the order of
combination.
"""

from __future__ import annotations

import functools

from jax import lax
from jax._src.interpreters import mlir
from jax._src.lax.control_flow import loops as _loops

from .lowering import override


def _scan(combine, x, *, axis: int, reverse: bool):
    return lax.associative_scan(combine, x, reverse=reverse, axis=axis)


override(_loops.cummax_p)(mlir.lower_fun(functools.partial(_scan, lax.max), multiple_results=False))
override(_loops.cummin_p)(mlir.lower_fun(functools.partial(_scan, lax.min), multiple_results=False))
