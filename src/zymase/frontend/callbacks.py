"""Host callbacks survive lowering as ops of the host dialect (ir/host.py).

jax lowers ``jax.debug.print``, ``jax.debug.callback``, ``jax.pure_callback`` and
``jax.experimental.io_callback`` to a custom call into the Python runtime that names the
callable by an index into the *lowered module's* list of callbacks. zymase emits new
code from the module, so that index would point nowhere when the emitted program runs
(it crashed the process). zymase lowers these primitives with its own rules instead: each
becomes a marker ``custom_call @zymase.host.<op>`` (see lowering.py) whose ``callback``
property is the id under which the primitive and its parameters (the callable among them)
are registered, and ``callee`` the callable's name. The emitter binds the same primitive
with the same parameters again (backend/callback_ops.py), so the callback runs when the
emitted program runs, as under ``jax.jit``.

Ordered callbacks (``jax.debug.print(..., ordered=True)``, ``io_callback(...,
ordered=True)``) are refused: jax orders them with tokens passed through the entry
function's arguments and results, which zymase's programs do not carry.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from jax._src import callback as _callback
from jax._src import core, debugging, effects, source_info_util
from jax._src.interpreters import mlir
from jax._src.lib.mlir import ir

from ..ir.host import register_callback
from .lowering import marker, override


class CallbackLoweringError(NotImplementedError):
    """A host callback zymase cannot carry through (an ordered one)."""


def _where(ctx: mlir.LoweringRuleContext) -> str:
    frame = source_info_util.user_frame(ctx.traceback) if ctx.traceback is not None else None
    if frame is None:
        return "unknown location"
    return f"{frame.file_name}:{frame.start_line}"


def callable_name(fn: Any) -> str:
    """A readable name for a user's callable: ``f.<locals>.show``, ``np.sin``, ..."""
    if isinstance(fn, functools.partial):
        return callable_name(fn.func)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if name is None:
        return type(fn).__name__
    return name


def _user_callable(flat: Callable) -> Any:
    """The user's callable inside the flattening wrapper jax.debug.callback makes (a
    closure over ``callback``)."""
    code = getattr(flat, "__code__", None)
    if code is None or flat.__closure__ is None:
        return flat
    cells = dict(zip(code.co_freevars, flat.__closure__))
    cell = cells.get("callback")
    return cell.cell_contents if cell is not None else flat


def _host_op(
    ctx: mlir.LoweringRuleContext,
    op_name: str,
    args: Sequence[ir.Value],
    primitive: core.Primitive,
    params: dict[str, Any],
    callee: str,
    has_side_effect: bool,
    result_avals: Sequence[core.AbstractValue] | None = None,
) -> list[ir.Value]:
    cid = register_callback(primitive, params, callee)
    attributes = {
        "callback": ir.IntegerAttr.get(ir.IntegerType.get_signless(64), cid),
        "callee": ir.StringAttr.get(callee),
    }
    return marker(ctx, op_name, args, result_avals=result_avals, attributes=attributes, has_side_effect=has_side_effect)


def _refuse_ordered(ctx: mlir.LoweringRuleContext, what: str) -> CallbackLoweringError:
    return CallbackLoweringError(
        f"zymase: the ordered host callback {what} at {_where(ctx)} is not supported: jax orders such callbacks with "
        f"tokens threaded through the program's arguments and results, which zymase's programs do not carry; "
        f"use ordered=False"
    )


def _debug_op(ctx: mlir.LoweringRuleContext, args: Sequence[ir.Value], prim: Any, params: dict, callee: str, ordered: bool) -> Sequence[ir.Value]:
    """A ``host.debug_callback`` op (no results); ordered callbacks are refused."""
    if ordered:
        raise _refuse_ordered(ctx, callee)
    _host_op(ctx, "host.debug_callback", args, prim, params, callee, has_side_effect=True, result_avals=[])
    return []


@override(debugging.debug_print_p)
def _debug_print(ctx: mlir.LoweringRuleContext, *args: ir.Value, **params: Any) -> Sequence[ir.Value]:
    callee = f"jax.debug.print {params['fmt']!r}"
    return _debug_op(ctx, args, debugging.debug_print_p, params, callee, params["ordered"])


@override(debugging.debug_callback_p)
def _debug_callback(ctx: mlir.LoweringRuleContext, *args: ir.Value, **params: Any) -> Sequence[ir.Value]:
    callee = f"jax.debug.callback {callable_name(_user_callable(params['callback']))}"
    return _debug_op(ctx, args, debugging.debug_callback_p, params, callee, effects.ordered_effects.contains(params["effect"]))


@override(_callback.pure_callback_p)
def _pure_callback(ctx: mlir.LoweringRuleContext, *args: ir.Value, **params: Any) -> Sequence[ir.Value]:
    callee = f"jax.pure_callback {callable_name(params['callback'].callback_func)}"
    return _host_op(ctx, "host.pure_callback", args, _callback.pure_callback_p, params, callee, has_side_effect=False)


@override(_callback.io_callback_p)
def _io_callback(ctx: mlir.LoweringRuleContext, *args: ir.Value, **params: Any) -> Sequence[ir.Value]:
    callee = f"jax.experimental.io_callback {callable_name(params['callback'].callback_func)}"
    if params["ordered"]:
        raise _refuse_ordered(ctx, callee)
    return _host_op(ctx, "host.io_callback", args, _callback.io_callback_p, params, callee, has_side_effect=True)
