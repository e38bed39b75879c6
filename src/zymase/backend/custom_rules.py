"""Functions with custom derivative rules are emitted as ``jax.custom_jvp`` /
``jax.custom_vjp`` functions, and ``enzyme.ignore_derivatives`` as ``lax.stop_gradient``:
the emitted program means to jax what the user's program meant, so ``jax.grad`` of
``zymase.jit(f)``, or zymase differentiating its own output again, keeps the rules. A call
of a jax primitive zymase keeps as a call (``jax_rule_primitive``: ``eig``, ``schur``,
...) binds the primitive again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax import lax
from xdsl.dialects.builtin import IntegerAttr, SymbolRefAttr
from xdsl.dialects.func import FuncOp

from ..ir.enzyme import CUSTOM_JVP, CUSTOM_VJP_BWD, CUSTOM_VJP_FWD, JAX_PRIMITIVE
from ..ad.rules.custom import is_inexact
from ..ir.enzyme import IgnoreDerivativesOp
from .emitter import FunctionBuilder, OpFn, emits


@emits(IgnoreDerivativesOp)
def _ignore_derivatives(b: FunctionBuilder, op: IgnoreDerivativesOp) -> OpFn:
    return lax.stop_gradient


def _symbol(fn: FuncOp, key: str) -> str | None:
    attr = fn.attributes.get(key)
    return attr.root_reference.data if isinstance(attr, SymbolRefAttr) else None


def _rebound(fn: FuncOp) -> Callable[..., tuple] | None:
    """A call of a jax primitive zymase has no op for (``jax.lax.linalg.eig``, ...): the
    primitive bound again, which jax differentiates with its own rules."""
    from ..frontend.lowering import PRIMITIVES, REBOUND

    attr = fn.attributes.get(JAX_PRIMITIVE)
    entry = attr.value.data if isinstance(attr, IntegerAttr) else None
    if entry not in REBOUND or entry not in PRIMITIVES:
        return None
    call = PRIMITIVES[entry][0]

    def bound(*xs: Any) -> tuple:
        return tuple(call(*xs))

    return bound


def wrap_custom_rule(b: FunctionBuilder, fn: FuncOp) -> Callable[..., tuple] | None:
    if JAX_PRIMITIVE in fn.attributes:
        return _rebound(fn)
    jvp_name = _symbol(fn, CUSTOM_JVP)
    fwd_name, bwd_name = _symbol(fn, CUSTOM_VJP_FWD), _symbol(fn, CUSTOM_VJP_BWD)
    if jvp_name is None and (fwd_name is None or bwd_name is None):
        return None
    primal = b.function(fn.sym_name.data)
    n_out = len(fn.function_type.outputs.data)
    floats = [is_inexact(t) for t in fn.function_type.inputs.data]
    float_outs = [is_inexact(t) for t in fn.function_type.outputs.data]

    def plain(*xs: Any) -> tuple:
        return tuple(primal(*xs))

    if jvp_name is not None:
        rule = b.function(jvp_name)
        wrapped = jax.custom_jvp(plain)

        def jvp(primals: tuple, tangents: tuple) -> tuple:
            given = [t for t, f in zip(tangents, floats) if f]
            out = rule(*primals, *given)
            outs = tuple(out[:n_out])
            it = iter(out[n_out:])
            t_outs = tuple(next(it) if f else np.zeros(np.shape(o), jax.dtypes.float0) for o, f in zip(outs, float_outs))
            return outs, t_outs

        wrapped.defjvp(jvp)
        return wrapped

    fwd_fn, bwd_fn = b.function(fwd_name), b.function(bwd_name)
    wrapped = jax.custom_vjp(plain)

    def fwd(*xs: Any) -> tuple:
        out = fwd_fn(*xs)
        return tuple(out[:n_out]), tuple(out[n_out:])

    def bwd(residuals: tuple, cts: tuple) -> tuple:
        given = [ct for ct, f in zip(cts, float_outs) if f]
        got = iter(bwd_fn(*residuals, *given))
        return tuple(next(got) if f else None for f in floats)

    wrapped.defvjp(fwd, bwd)
    return wrapped
