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
ordered=True)``): jax orders them with tokens, which it passes through the entry
function's arguments and results. zymase's host ops take no tokens: they keep their
program order in the IR (they have side effects, which no pass reorders or removes), and
the emitter binds them again with ``ordered=True``, so that jax orders them with its own
tokens in the emitted program. So the entry function's tokens only travel from its
arguments to its results; ``strip_entry_tokens`` removes them after the import. This
needs the caller's consent: with ``lowering_parameters(ordered_effects=True)`` (whose
caller then calls ``strip_entry_tokens``) ordered callbacks are kept; otherwise, and for
an ordered callback inside a loop body, a branch or a called function (where jax threads
its tokens through the loop state, the branches' results or the call), they are refused
with a one-line error naming the callback and its source location.
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


def _refuse_nested_ordered(ctx: mlir.LoweringRuleContext, what: str) -> CallbackLoweringError:
    return CallbackLoweringError(
        f"zymase: the ordered host callback {what} at {_where(ctx)} is not supported inside a loop body, a branch or "
        f"a called function: jax orders it with tokens threaded through the loop state, the branches' results or "
        f"the call, which zymase's programs do not carry; use ordered=False, or call it outside"
    )


def _check_ordered(ctx: mlir.LoweringRuleContext, what: str, carried: bool) -> None:
    """Ordered callbacks are kept only when the caller removes the entry function's tokens
    (``carried``) and the callback is in the entry function's own block, where its tokens
    are the entry function's arguments."""
    if not carried:
        raise _refuse_ordered(ctx, what)
    block = ir.InsertionPoint.current.block
    owner = block.owner
    in_entry = owner is not None and owner.operation.name == "func.func" and ir.StringAttr(owner.attributes["sym_name"]).value == "main"
    for _, token in ctx.tokens_in.items():
        if not (in_entry and isinstance(token.owner, ir.Block) and token.owner == block):
            raise _refuse_nested_ordered(ctx, what)


def _pass_tokens(ctx: mlir.LoweringRuleContext) -> None:
    """The host op takes no token: the entry function's tokens pass on unchanged."""
    ctx.set_tokens_out(ctx.tokens_in)


def _debug_op(
    ctx: mlir.LoweringRuleContext, args: Sequence[ir.Value], prim: Any, params: dict, callee: str, ordered: bool, carried: bool = False
) -> Sequence[ir.Value]:
    """A ``host.debug_callback`` op (no results)."""
    if ordered:
        _check_ordered(ctx, callee, carried)
    _host_op(ctx, "host.debug_callback", args, prim, params, callee, has_side_effect=True, result_avals=[])
    if ordered:
        _pass_tokens(ctx)
    return []


def _debug_print_callee(params: dict) -> str:
    return f"jax.debug.print {params['fmt']!r}"


def _debug_callback_callee(params: dict) -> str:
    return f"jax.debug.callback {callable_name(_user_callable(params['callback']))}"


def _io_callback_callee(params: dict) -> str:
    return f"jax.experimental.io_callback {callable_name(params['callback'].callback_func)}"


@override(debugging.debug_print_p)
def _debug_print(ctx: mlir.LoweringRuleContext, *args: ir.Value, **params: Any) -> Sequence[ir.Value]:
    return _debug_op(ctx, args, debugging.debug_print_p, params, _debug_print_callee(params), params["ordered"])


@override(debugging.debug_print_p, ordered_effects=True)
def _debug_print_ordered(ctx: mlir.LoweringRuleContext, *args: ir.Value, **params: Any) -> Sequence[ir.Value]:
    return _debug_op(ctx, args, debugging.debug_print_p, params, _debug_print_callee(params), params["ordered"], carried=True)


def _debug_callback_ordered(params: dict) -> bool:
    return effects.ordered_effects.contains(params["effect"])


@override(debugging.debug_callback_p)
def _debug_callback(ctx: mlir.LoweringRuleContext, *args: ir.Value, **params: Any) -> Sequence[ir.Value]:
    return _debug_op(ctx, args, debugging.debug_callback_p, params, _debug_callback_callee(params), _debug_callback_ordered(params))


@override(debugging.debug_callback_p, ordered_effects=True)
def _debug_callback_carried(ctx: mlir.LoweringRuleContext, *args: ir.Value, **params: Any) -> Sequence[ir.Value]:
    ordered = _debug_callback_ordered(params)
    return _debug_op(ctx, args, debugging.debug_callback_p, params, _debug_callback_callee(params), ordered, carried=True)


@override(_callback.pure_callback_p)
def _pure_callback(ctx: mlir.LoweringRuleContext, *args: ir.Value, **params: Any) -> Sequence[ir.Value]:
    callee = f"jax.pure_callback {callable_name(params['callback'].callback_func)}"
    return _host_op(ctx, "host.pure_callback", args, _callback.pure_callback_p, params, callee, has_side_effect=False)


def _io_op(ctx: mlir.LoweringRuleContext, args: Sequence[ir.Value], params: dict, carried: bool) -> Sequence[ir.Value]:
    callee = _io_callback_callee(params)
    if params["ordered"]:
        _check_ordered(ctx, callee, carried)
    out = _host_op(ctx, "host.io_callback", args, _callback.io_callback_p, params, callee, has_side_effect=True)
    if params["ordered"]:
        _pass_tokens(ctx)
    return out


@override(_callback.io_callback_p)
def _io_callback(ctx: mlir.LoweringRuleContext, *args: ir.Value, **params: Any) -> Sequence[ir.Value]:
    return _io_op(ctx, args, params, carried=False)


@override(_callback.io_callback_p, ordered_effects=True)
def _io_callback_carried(ctx: mlir.LoweringRuleContext, *args: ir.Value, **params: Any) -> Sequence[ir.Value]:
    return _io_op(ctx, args, params, carried=True)


# ============================================================================ the entry function's tokens


def strip_entry_tokens(module: Any, entry: str = "main") -> None:
    """Remove the ``!stablehlo.token`` arguments and results jax gives the entry function
    (an xDSL module, after the import) for ordered effects. Lowered with
    ``lowering_parameters(ordered_effects=True)``, nothing in the function uses them but
    its return (the host ops take no tokens); anything else is refused."""
    from xdsl.dialects import func

    from ..ir.stablehlo import TokenType

    fn = next((op for op in module.ops if isinstance(op, func.FuncOp) and op.sym_name.data == entry), None)
    if fn is None or fn.body.first_block is None:
        return
    block = fn.body.first_block
    ret = block.last_op
    if not isinstance(ret, func.ReturnOp):
        return
    tokens = [a for a in block.args if isinstance(a.type, TokenType)]
    kept_results = [i for i, v in enumerate(ret.operands) if not isinstance(v.type, TokenType)]
    if not tokens and len(kept_results) == len(ret.operands):
        return
    for i, v in enumerate(ret.operands):
        if i not in kept_results and v not in tokens:
            raise CallbackLoweringError(f"zymase: the entry function @{entry} returns a token it did not receive")
    for a in tokens:
        if any(u.operation is not ret for u in a.uses):
            raise CallbackLoweringError(f"zymase: the entry function @{entry} uses its effect token other than by returning it")
    kept_args = [i for i, a in enumerate(block.args) if not isinstance(a.type, TokenType)]
    new_ret = func.ReturnOp(*[ret.operands[i] for i in kept_results])
    new_ret.attributes.update(ret.attributes)
    block.insert_op_before(new_ret, ret)
    block.erase_op(ret)
    for a in tokens:
        block.erase_arg(a)
    arg_attrs, res_attrs = fn.arg_attrs, fn.res_attrs
    if arg_attrs is not None:
        fn.arg_attrs = type(arg_attrs)([arg_attrs.data[i] for i in kept_args])
    if res_attrs is not None:
        fn.res_attrs = type(res_attrs)([res_attrs.data[i] for i in kept_results])
    fn.update_function_type()
