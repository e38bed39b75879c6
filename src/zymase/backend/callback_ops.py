"""Emitters of the host dialect (ir/host.py).

A host callback op binds the jax primitive it was lowered from again, with the same
parameters (the same callable), so the callback runs when the emitted program runs, as it
would under ``jax.jit``: ``jax.debug.print`` prints then, with the values of that run.

``sdy.sharding_constraint`` marks where typed PRNG keys enter and leave the entry
function (see ir/host.py). Inside the program a key is its key data; so the constraint
turns a typed key it receives into its data (``jax.random.key_data``), and key data that
it hands to a ``func.return`` into a typed key again (``jax.random.wrap_key_data``): a
``uint32`` value whose sharding is the one jax gives keys (no mesh, the key's own
dimensions open, the key data's trailing dimensions replicated). Which PRNG
implementation the data belongs to is not in the IR: it is the implementation of the
keys the same program received, else jax's default one, the first whose key shape ends
the data's shape. Constraints over a mesh with axes (``jax.lax.with_sharding_constraint``)
are emitted by sharding_ops.py, which takes this emitter's place for them.
"""

from __future__ import annotations

import re
import weakref
from typing import Any

import jax
import numpy as np
from xdsl.dialects.builtin import IntegerType, Signedness, TensorType
from xdsl.dialects.func import ReturnOp

from ..ir.host import CALLBACKS, DebugCallbackOp, HostCallback, IoCallbackOp, PureCallbackOp, ShardingConstraintOp
from .emitter import FunctionBuilder, OpFn, emit_error, emits


def _registered(op: DebugCallbackOp | PureCallbackOp | IoCallbackOp) -> HostCallback:
    cb = CALLBACKS.get(op.callback_id)
    if cb is None:
        raise emit_error(
            op,
            f"host callback #{op.callback_id} ({op.callee_name}) is not registered in this process: a host callback "
            f"can only be emitted by the process that lowered it",
        )
    return cb


@emits(DebugCallbackOp)
def _debug_callback(b: FunctionBuilder, op: DebugCallbackOp) -> OpFn:
    cb = _registered(op)

    def debug_callback(*xs: Any) -> tuple:
        cb.primitive.bind(*xs, **cb.params)
        return ()

    return debug_callback


@emits(PureCallbackOp, IoCallbackOp)
def _callback(b: FunctionBuilder, op: PureCallbackOp | IoCallbackOp) -> OpFn:
    cb = _registered(op)
    n = len(op.results)

    def callback(*xs: Any) -> Any:
        outs = cb.primitive.bind(*xs, **cb.params)
        return outs[0] if n == 1 else tuple(outs)

    return callback


# ============================================================================ typed keys


_KEY_IMPLS: weakref.WeakKeyDictionary[FunctionBuilder, list[Any]] = weakref.WeakKeyDictionary()
"""PRNG implementations of the typed keys each program received, in order of arrival."""


def _is_typed_key(x: Any) -> bool:
    return jax.dtypes.issubdtype(jax.dtypes.result_type(x), jax.dtypes.prng_key)


def _key_shape(impl: Any) -> tuple[int, ...]:
    return jax.eval_shape(lambda: jax.random.key_data(jax.random.key(0, impl=impl))).shape


def _ends_with(shape: tuple[int, ...], tail: tuple[int, ...]) -> bool:
    return len(shape) >= len(tail) and tuple(shape[len(shape) - len(tail) :]) == tuple(tail)


def _is_key_data_type(t: Any) -> bool:
    element = t.get_element_type() if isinstance(t, TensorType) else t
    return isinstance(element, IntegerType) and element.width.data == 32 and element.signedness.data == Signedness.UNSIGNED


_KEY_SHARDING = re.compile(r"@empty_mesh, \[(\{\?\}, )*\{\}(, \{\})*\]")
"""The sharding jax's lowering gives typed keys (``mlir.replicate_trailing_dims``)."""


def _returns_key(op: ShardingConstraintOp) -> bool:
    """Whether the constraint hands key data to a ``func.return`` (a key result)."""
    if not _is_key_data_type(op.result.type) or _KEY_SHARDING.fullmatch(op.sharding.data) is None:
        return False
    return any(isinstance(u.operation, ReturnOp) for u in op.result.uses)


@emits(ShardingConstraintOp)
def _sharding_constraint(b: FunctionBuilder, op: ShardingConstraintOp) -> OpFn:
    returned = _returns_key(op)
    seen = _KEY_IMPLS.setdefault(b, [])

    def wrap(data: Any) -> Any:
        for impl in [*seen, jax.config.jax_default_prng_impl]:
            if _ends_with(np.shape(data), _key_shape(impl)):
                return jax.random.wrap_key_data(data, impl=impl)
        raise emit_error(op, f"key data of shape {np.shape(data)} returned as a typed PRNG key fits no known PRNG implementation")

    def constraint(x: Any) -> Any:
        if _is_typed_key(x):
            impl = jax.random.key_impl(x)
            if impl not in seen:
                seen.append(impl)
            return jax.random.key_data(x)
        if returned:
            return wrap(x)
        return x

    return constraint
