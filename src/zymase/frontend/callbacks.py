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
ordered=True)``): jax orders them with tokens, which it threads through the program:
function arguments and results, calls, while loop state, branch results. zymase's host
ops take no tokens: they keep their program order in the IR (they have side effects,
which no pass reorders or removes), and the emitter binds them again with
``ordered=True``, so that jax orders them with its own tokens in the emitted program. So
the tokens only travel from where they enter to where they leave; ``strip_tokens``
removes them after the import, and refuses a token that does anything else. This needs
the caller's consent: ``frontend.lower`` lowers with
``lowering_parameters(ordered_effects=True)`` and then calls ``strip_tokens``; without it,
ordered callbacks are refused with a one-line error naming the callback and its source
location.
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


def _check_ordered(ctx: mlir.LoweringRuleContext, what: str, carried: bool) -> None:
    """Ordered callbacks are kept only when the caller removes the module's effect tokens
    (``carried``: it calls ``strip_tokens`` after the import)."""
    if not carried:
        raise _refuse_ordered(ctx, what)


def _pass_tokens(ctx: mlir.LoweringRuleContext) -> None:
    """The host op takes no token: the tokens pass on unchanged (strip_tokens removes them)."""
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


# ============================================================================ effect tokens


_PASS_THROUGH_USERS = ("func.return", "stablehlo.return", "func.call", "stablehlo.while", "stablehlo.after_all")
_TOKEN_DEFINERS = ("func.call", "stablehlo.while", "stablehlo.case", "stablehlo.if", "stablehlo.create_token", "stablehlo.after_all")
_TOKEN_REGION_OWNERS = ("func.func", "stablehlo.while")


def strip_tokens(module: Any) -> None:
    """Remove every ``!stablehlo.token`` from an imported module (xDSL): the arguments and
    results jax gives functions for ordered effects, the token state of while loops, the
    token results of branches and calls. Lowered with
    ``lowering_parameters(ordered_effects=True)``, the host ops take no tokens, so tokens
    only travel from where they enter to where they leave; then the host ops' program
    order (which no pass changes) is all there is to keep, and the emitter binds them again
    with ``ordered=True``. A token that does anything else is refused."""
    from xdsl.dialects import func
    from xdsl.ir import Block, BlockArgument

    from ..ir.query import describe_location
    from ..ir.stablehlo import TokenType

    def is_token(v: Any) -> bool:
        return isinstance(v.type, TokenType)

    rebuilt: list[Any] = []
    blocks: list[Any] = []
    funcs: list[Any] = []
    for op in module.walk():
        if isinstance(op, func.FuncOp):
            if any(isinstance(t, TokenType) for t in (*op.function_type.inputs.data, *op.function_type.outputs.data)):
                funcs.append(op)
        for region in op.regions:
            for block in region.blocks:
                if any(is_token(a) for a in block.args):
                    if op.name not in _TOKEN_REGION_OWNERS:
                        raise CallbackLoweringError(f"zymase: effect tokens (of ordered host callbacks) enter a region of '{op.name}' at {describe_location(op)}, which zymase cannot carry")
                    blocks.append(block)
        has_token_results = any(is_token(r) for r in op.results)
        if has_token_results and op.name not in _TOKEN_DEFINERS:
            raise CallbackLoweringError(f"zymase: '{op.name}' at {describe_location(op)} produces an effect token (of ordered host callbacks), which zymase cannot carry")
        if any(is_token(v) for v in op.operands):
            if op.name not in _PASS_THROUGH_USERS:
                raise CallbackLoweringError(f"zymase: '{op.name}' at {describe_location(op)} uses an effect token (of ordered host callbacks), which zymase cannot carry")
        if has_token_results or any(is_token(v) for v in op.operands):
            rebuilt.append(op)
    if not rebuilt and not blocks and not funcs:
        return
    # attributes of the kept arguments and results, by function
    kept_attrs = []
    for fn in funcs:
        ins, outs = fn.function_type.inputs.data, fn.function_type.outputs.data
        keep_in = [i for i, t in enumerate(ins) if not isinstance(t, TokenType)]
        keep_out = [i for i, t in enumerate(outs) if not isinstance(t, TokenType)]
        kept_attrs.append((keep_in, keep_out))
    for op in rebuilt:
        if op.name in ("stablehlo.create_token", "stablehlo.after_all"):
            continue
        keep = [i for i, r in enumerate(op.results) if not is_token(r)]
        regions = [op.detach_region(0) for _ in range(len(op.regions))]
        new = type(op).create(
            operands=[v for v in op.operands if not is_token(v)],
            result_types=[op.results[i].type for i in keep],
            properties=dict(op.properties),
            attributes=dict(op.attributes),
            location=getattr(op, "location", None),
            regions=regions,
        )
        assert op.parent is not None
        op.parent.insert_op_before(new, op)
        for j, i in enumerate(keep):
            op.results[i].replace_all_uses_with(new.results[j])
    for op in rebuilt:
        op.detach()
    for op in rebuilt:
        op.drop_all_references()
    for op in rebuilt:
        op.erase(safe_erase=False, drop_references=False)
    for block in blocks:
        assert isinstance(block, Block)
        for a in [a for a in block.args if is_token(a)]:
            assert isinstance(a, BlockArgument)
            block.erase_arg(a)
    for fn, (keep_in, keep_out) in zip(funcs, kept_attrs):
        arg_attrs, res_attrs = fn.arg_attrs, fn.res_attrs
        if fn.body.blocks:
            fn.update_function_type()
        if arg_attrs is not None:
            fn.arg_attrs = type(arg_attrs)([arg_attrs.data[i] for i in keep_in])
        if res_attrs is not None:
            fn.res_attrs = type(res_attrs)([res_attrs.data[i] for i in keep_out])


def strip_entry_tokens(module: Any, entry: str = "main") -> None:
    """The former name of :func:`strip_tokens` (which removes the tokens of every function)."""
    strip_tokens(module)


def drop_debug_callbacks(module: Any) -> int:
    """Erase the ``host.debug_callback`` ops of a module (a pullback's program: the
    function's own run, which ``zymase.vjp`` makes first, has printed; jax's pullback does
    not print again). Returns how many were erased."""
    from ..ir.host import DebugCallbackOp

    found = [op for op in module.walk() if isinstance(op, DebugCallbackOp)]
    for op in found:
        op.detach()
        op.erase()
    return len(found)
