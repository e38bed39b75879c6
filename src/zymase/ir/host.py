"""The host dialect: calls back into Python from a program (jax's host callbacks), and
the Shardy sharding constraint jax puts around typed PRNG keys.

- ``host.debug_callback`` (``jax.debug.print``, ``jax.debug.callback``): no results, a
  side effect. It is never removed (DCE, CSE and the rewrite rules keep ops with write
  effects) and has no derivative: differentiating code prints the primal values.
- ``host.pure_callback`` (``jax.pure_callback``): results, no memory effect, so it is
  removed when unused and merged with an identical call, as jax does; it is not
  speculatable (never hoisted out of a branch).
- ``host.io_callback`` (``jax.experimental.io_callback``): results and a side effect.

The Python side of a callback (jax's primitive and its static parameters, which hold the
callable) cannot live in the IR: it is kept in a process-wide registry, :data:`CALLBACKS`,
and the op holds its integer id (``callback``) and, for people reading the IR, the
callable's name (``callee``)::

    "host.debug_callback"(%1) <{callback = 0 : i64, callee = "jax.debug.print 'y={y}'"}> : (tensor<f32>) -> ()

An id only means something in the process that lowered the program.

``sdy.sharding_constraint`` is what jax's lowering wraps every typed PRNG key argument
and result of the entry function in (``mlir.replicate_trailing_dims``: the key's data
dimensions are replicated), besides lowering ``jax.lax.with_sharding_constraint`` to it.
A key's value in the program is its key data (``uint32``); the op is the identity on it,
and marks where typed keys enter and leave the program (see backend/callback_ops.py).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from xdsl.dialects.builtin import IntegerAttr, StringAttr, i64
from xdsl.ir import Attribute, Dialect, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, prop_def, result_def, traits_def, var_operand_def, var_result_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import MemoryReadEffect, MemoryWriteEffect, NoMemoryEffect, Pure

from . import asm
from .attributes import SdyShardingAttr
from .stablehlo import _fail

# ============================================================================ registry


@dataclass(frozen=True)
class HostCallback:
    """What re-binding the callback needs: jax's primitive and its parameters (the
    callable among them), plus a name for messages and printed IR."""

    primitive: Any
    params: dict[str, Any]
    name: str


CALLBACKS: dict[int, HostCallback] = {}
"""Callback id -> callback, for every callback lowered by this process."""

_IDS = itertools.count()
_BY_KEY: dict[Any, int] = {}
_LOCK = threading.Lock()


def register_callback(primitive: Any, params: dict[str, Any], name: str) -> int:
    """The id of the callback (the same id for equal, hashable parameters, so that
    lowering the same program again does not grow the registry)."""
    key = (primitive, tuple(sorted(params.items())))
    with _LOCK:
        try:
            known = _BY_KEY.get(key)
        except (TypeError, ValueError):  # unhashable parameters, or an == that is not a bool (arrays)
            key = None
            known = None
        if known is not None:
            return known
        cid = next(_IDS)
        CALLBACKS[cid] = HostCallback(primitive, dict(params), name)
        if key is not None:
            _BY_KEY[key] = cid
        return cid


# ============================================================================ ops


class _CallbackOp(IRDLOperation):
    callback = prop_def(IntegerAttr)
    """The id of the callback in :data:`CALLBACKS`."""
    callee = prop_def(StringAttr)
    """The callable's name (for messages and for reading the IR)."""
    inputs = var_operand_def()

    @property
    def callback_id(self) -> int:
        return self.callback.value.data

    @property
    def callee_name(self) -> str:
        return self.callee.data

    def verify_(self) -> None:
        if self.callback.type != i64:
            _fail(self, f"callback id must be an i64, got {self.callback.type}")


def callback_properties(callback_id: int, callee: str) -> dict[str, Attribute]:
    return {"callback": IntegerAttr(callback_id, i64), "callee": StringAttr(callee)}


@irdl_op_definition
class DebugCallbackOp(_CallbackOp):
    """``host.debug_callback``: calls the callback with the operands, for its effect."""

    name = "host.debug_callback"
    traits = traits_def(MemoryWriteEffect())

    def __init__(self, inputs: Sequence[SSAValue], callback_id: int, callee: str):
        super().__init__(operands=[list(inputs)], properties=callback_properties(callback_id, callee))


@irdl_op_definition
class PureCallbackOp(_CallbackOp):
    """``host.pure_callback``: the results are a pure function of the operands."""

    name = "host.pure_callback"
    outputs = var_result_def()
    traits = traits_def(NoMemoryEffect())

    def __init__(self, inputs: Sequence[SSAValue], result_types: Sequence[Attribute], callback_id: int, callee: str):
        super().__init__(operands=[list(inputs)], result_types=[list(result_types)], properties=callback_properties(callback_id, callee))


@irdl_op_definition
class IoCallbackOp(_CallbackOp):
    """``host.io_callback``: results, and effects on the world."""

    name = "host.io_callback"
    outputs = var_result_def()
    traits = traits_def(MemoryReadEffect(), MemoryWriteEffect())

    def __init__(self, inputs: Sequence[SSAValue], result_types: Sequence[Attribute], callback_id: int, callee: str):
        super().__init__(operands=[list(inputs)], result_types=[list(result_types)], properties=callback_properties(callback_id, callee))


CALLBACK_OPS: tuple[type[_CallbackOp], ...] = (DebugCallbackOp, PureCallbackOp, IoCallbackOp)


@irdl_op_definition
class ShardingConstraintOp(IRDLOperation):
    """``sdy.sharding_constraint``: the identity on values; jax puts it around the typed
    PRNG keys entering and leaving the entry function, and where a program calls
    ``jax.lax.with_sharding_constraint`` (emitted as that call: backend/sharding_ops.py)."""

    name = "sdy.sharding_constraint"
    input = operand_def()
    sharding = prop_def(SdyShardingAttr)
    result = result_def()
    traits = traits_def(Pure())

    def verify_(self) -> None:
        if self.input.type != self.result.type:
            _fail(self, f"result type {self.result.type} differs from the operand type {self.input.type}")

    @classmethod
    def parse(cls, parser: Parser) -> ShardingConstraintOp:
        """``%x <@mesh, [{...}, ...]> attr-dict : T`` (Shardy's syntax)"""
        operand = parser.parse_unresolved_operand()
        sharding = SdyShardingAttr(SdyShardingAttr.parse_parameter(parser))
        properties, attributes = asm.parse_attr_dict(parser, cls)
        parser.parse_punctuation(":")
        t = parser.parse_type()
        return asm.build(cls, asm.resolve(parser, [operand], [t]), [t], {**properties, "sharding": sharding}, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.input)
        printer.print_string(" ")
        self.sharding.print_parameter(printer)
        asm.print_attr_dict(printer, self, elide=("sharding",))
        printer.print_string(" : ")
        printer.print_attribute(self.result.type)


Host = Dialect("host", [DebugCallbackOp, PureCallbackOp, IoCallbackOp, ShardingConstraintOp], [])

__all__ = [
    "CALLBACKS",
    "CALLBACK_OPS",
    "DebugCallbackOp",
    "Host",
    "HostCallback",
    "IoCallbackOp",
    "PureCallbackOp",
    "ShardingConstraintOp",
    "register_callback",
]
