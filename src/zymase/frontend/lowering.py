"""JAX-level meaning that plain StableHLO lowering would erase, kept through lowering.

jax lowers ``lax.stop_gradient`` to nothing and ``jax.custom_jvp`` / ``jax.custom_vjp``
to their primal bodies: after lowering, a differentiating compiler would silently
differentiate what is left. zymase lowers with its own rules for these primitives
(jax's ``LoweringParameters.override_lowering_rules``, applied only to zymase's own
lowering, never to the user's other jax code):

- ``stop_gradient`` becomes a *marker*: ``stablehlo.custom_call @zymase.enzyme.ignore_derivatives``,
  which the importer turns into the op ``enzyme.ignore_derivatives``. Other families
  (linear algebra, host callbacks) use the same marker mechanism: ``marker(ctx, "dialect.op", ...)``
  and the importer builds the op named after ``zymase.``.
- a ``custom_jvp`` function becomes a call to a private function carrying
  ``enzyme.custom_jvp = @rule``, where ``@rule(primals..., tangents...) -> (outs..., tangent outs...)``
  is the user's jvp rule traced at the call's types (tangents only for float inputs and
  outputs). The AD engine calls the rule in forward mode and reverses it with respect to
  its tangents in reverse mode (the rule is linear in them), as jax transposes it.
- a ``custom_vjp`` function becomes a call to a private function carrying
  ``enzyme.custom_vjp_fwd = @fwd`` (``args -> (outs..., residuals...)``) and
  ``enzyme.custom_vjp_bwd = @bwd`` (``residuals..., output cotangents... -> argument cotangents...``,
  float arguments and outputs only), and ``enzyme.custom_vjp_consts = n`` (leading
  arguments that are values the function closed over, which jax does not differentiate).

The rule functions are traced by jax itself (``jax.jvp`` of the primitive, the custom_vjp's
own fwd and bwd), so their meaning is exactly jax's. A rule that calls its own function
(``f_jvp`` calling ``f``) is emitted once per function and signature.

Closure conversion. zymase traces the rules while lowering, after jax's trace of the
user's function has ended; a rule that closes over a value of that trace (a custom_vjp
defined inside the differentiated function, using an argument or an intermediate) sees a
tracer of the finished trace, which jax's trace of the rule keeps as a constant. Such
tracers become leading arguments of the rule functions (as ``jax.closure_convert``
does): a tracer's ``val`` is its variable in the user's jaxpr, whose lowered value is
read from the environment of jax's ``jaxpr_subcomp`` lowering the call
(``enclosing_values``), and the call is made again with those values as leading
operands, counted in ``enzyme.custom_vjp_consts`` (also on a custom_jvp function, where
it counts only these values). The custom_vjp's fwd returns them as extra residuals for
bwd, which gives them zero cotangents; differentiating with respect to them is refused
(jax cannot differentiate with respect to a value a rule closes over either), also for a
value only the rules close over: the function's value does not depend on it, but the
rule's derivative does, and a second derivative through it would be silently zero.
A value of a jaxpr around the call's (outside a loop body, a branch, a called function)
is read from an enclosing ``jaxpr_subcomp`` frame and reaches the call through closure
value markers that ``thread_closure_values`` resolves after the import (passing the value
into the functions jax lowered in between); where a function zymase emits lies in between
(a rule's or an enzyme op's function, whose signature is fixed), differentiating the call
stays refused with the advice to pass the value as an argument.

``jax_rule_primitive``: a primitive zymase has no op for (``jax.lax.linalg.eig``, ...)
becomes a call of a private function whose body is jax's own lowering, marked
``enzyme.jax_rule``: its derivatives are jax's rules, traced on demand (``lower_jvp`` /
``lower_vjp``), or jax's own refusal where jax has none.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax._src import ad_util, core
from jax._src import custom_derivatives as _cd
from jax._src.interpreters import mlir
from jax._src.lib.mlir import ir

# The attribute names of custom rules live in the jax-free ir.enzyme (the AD engine and
# the inliner read them without JAX); they stay importable from here.
from ..ir.enzyme import CUSTOM_JVP, CUSTOM_RULE_ATTRS, CUSTOM_RULE_MISSING, CUSTOM_VJP_BWD, CUSTOM_VJP_CONSTS, CUSTOM_VJP_FWD, JAX_PRIMITIVE  # noqa: F401

MARKER_PREFIX = "zymase."
MARKER_ATTRS = "zymase.attrs"

MAX_RULE_DEPTH = 4
"""Rules whose tracing lowers further custom rules nest; past this depth the call keeps
a marker so that differentiating it is refused instead of guessed."""

LoweringRule = Callable[..., Sequence[Any]]
OVERRIDES: dict[core.Primitive, LoweringRule] = {}


ORDERED_OVERRIDES: dict[core.Primitive, LoweringRule] = {}
"""Rules used instead when the caller removes the entry function's effect tokens
(``lowering_parameters(ordered_effects=True)``; see frontend/callbacks.py)."""


def override(*primitives: core.Primitive, ordered_effects: bool = False) -> Callable[[LoweringRule], LoweringRule]:
    """Register zymase's lowering rule for ``primitives`` (used only by zymase's lowering);
    ``ordered_effects``: the rule used when ordered effects are carried."""

    def register(rule: LoweringRule) -> LoweringRule:
        for p in primitives:
            (ORDERED_OVERRIDES if ordered_effects else OVERRIDES)[p] = rule
        return rule

    return register


def lowering_parameters(ordered_effects: bool = False) -> mlir.LoweringParameters:
    """zymase's lowering rules. ``ordered_effects``: the caller removes the token
    arguments and results jax gives the entry function for ordered effects (ordered host
    callbacks), with ``frontend.callbacks.strip_entry_tokens`` after importing the
    module; ordered callbacks are then kept (else they are refused)."""
    _load_families()
    rules = dict(OVERRIDES)
    if ordered_effects:
        rules.update(ORDERED_OVERRIDES)
    for prim in library_primitives():
        rules.setdefault(prim, _library_primitive_rule(prim))
    return mlir.LoweringParameters(override_lowering_rules=tuple(rules.items()))


def _load_families() -> None:
    """Lowering rules of other families register themselves on import."""
    import importlib

    for name in _FAMILIES:
        importlib.import_module(name)


_FAMILIES: list[str] = ["zymase.frontend.callbacks", "zymase.frontend.cumulative", "zymase.frontend.linalg", "zymase.frontend.nesting"]


# ============================================================================ markers


def ir_type(ctx: mlir.LoweringRuleContext, aval: core.AbstractValue) -> ir.Type:
    return mlir.aval_to_ir_type(ctx.module_context, aval)


def marker(
    ctx: mlir.LoweringRuleContext,
    op_name: str,
    operands: Sequence[ir.Value],
    result_avals: Sequence[core.AbstractValue] | None = None,
    attributes: dict[str, ir.Attribute] | None = None,
    has_side_effect: bool = False,
) -> list[ir.Value]:
    """Emit ``stablehlo.custom_call @zymase.<op_name>``; the importer builds the op
    ``<op_name>`` from it, with ``attributes`` as its properties."""
    avals = ctx.avals_out if result_avals is None else result_avals
    extra = {MARKER_ATTRS: ir.DictAttr.get(dict(attributes or {}))}
    op = mlir.custom_call(
        MARKER_PREFIX + op_name,
        result_types=[ir_type(ctx, a) for a in avals],
        operands=list(operands),
        has_side_effect=has_side_effect,
        extra_attributes=extra,
    )
    return list(op.results)


@override(ad_util.stop_gradient_p)
def _stop_gradient(ctx: mlir.LoweringRuleContext, x: ir.Value) -> Sequence[ir.Value]:
    return marker(ctx, "enzyme.ignore_derivatives", [x])


# ============================================================================ custom rules


class _Rules:
    """Per-module bookkeeping of the rule functions emitted so far."""

    KEY = "zymase.custom_rules"

    def __init__(self) -> None:
        self.emitted: dict[Any, dict[str, str] | None] = {}
        self.pending: dict[Any, list[ir.Operation]] = {}
        self.captures: dict[Any, list[core.Tracer]] = {}
        """Rules that close over values of jax's trace: those values (tracers), which the
        rule functions take as leading arguments."""
        self.depth = 0
        self.sources: list[ir.Value] = []
        """Values of enclosing jaxprs given a closure value source, by id (``_closure_value``)."""

    @classmethod
    def of(cls, ctx: mlir.LoweringRuleContext) -> _Rules:
        cache = ctx.module_context.cached_primitive_lowerings
        got = cache.get(cls.KEY)
        if got is None:
            got = cache[cls.KEY] = cls()
        return got

    def attach(
        self,
        key: Any,
        fn: ir.Operation,
        build: Callable[[], dict[str, str]],
        extra: dict[str, ir.Attribute],
        on_demand: Callable[[], int] | None = None,
    ) -> None:
        """Give the primal function ``fn`` its rule attributes, building the rule
        functions the first time ``key`` is seen."""
        for name, value in extra.items():
            fn.attributes[name] = value
        if key not in self.emitted:
            if self.depth >= MAX_RULE_DEPTH:
                fn.attributes[CUSTOM_RULE_MISSING] = ir.StringAttr.get(
                    "its rule calls further custom rules more deeply than zymase traces them"
                )
                return
            self.emitted[key] = None
            self.pending[key] = [fn]
            self.depth += 1
            try:
                names = build()
            except Exception as e:  # the rule cannot be traced for every input at once
                if os.environ.get("ZYMASE_DEBUG", "0") not in ("0", ""):
                    traceback.print_exc()
                pending = self.pending.pop(key)
                del self.emitted[key]
                self.captures.pop(key, None)
                if on_demand is not None and not _closes_over_tracer(e):
                    entry = _entry_attr(on_demand())  # traced by the AD engine, for the inputs it differentiates
                    for f in pending:
                        f.attributes[JAX_PRIMITIVE] = entry
                    return
                for f in pending:
                    f.attributes[CUSTOM_RULE_MISSING] = ir.StringAttr.get(_untraceable_reason(e))
                return
            finally:
                self.depth -= 1
            self.emitted[key] = names
            for f in self.pending.pop(key):
                _set_symbols(f, names)
            return
        names = self.emitted[key]
        if names is None:  # the rule is being built (it calls its own function)
            self.pending[key].append(fn)
        else:
            _set_symbols(fn, names)


def _closes_over_tracer(e: Exception) -> bool:
    message = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return isinstance(e, jax.errors.UnexpectedTracerError) or "Tracer" in message


def _untraceable_reason(e: Exception) -> str:
    message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if _closes_over_tracer(e):
        return (
            "its rule closes over a value traced by jax (zymase traces the rule after jax has traced the "
            "function); pass that value to the custom_jvp / custom_vjp function as an argument"
        )
    return f"tracing its rule failed: {type(e).__name__}: {message}"


def _set_symbols(fn: ir.Operation, names: dict[str, str]) -> None:
    for attr, symbol in names.items():
        fn.attributes[attr] = ir.FlatSymbolRefAttr.get(symbol)


def _identity(fun: Any) -> frozenset:
    """What identifies a custom rule: the user's Python function objects reachable
    through jax's wrappers, with the wrappers' static parameters. A user function object
    is made anew each time its ``def`` or ``lambda`` runs, so closures over different
    values differ; jax's own wrappers (which differ between a call and the same call
    made again inside its rule) are looked through."""
    import jax._src.linear_util as lu

    found: set = set()
    seen: set[int] = set()
    todo = [fun]
    while todo:
        f = todo.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        if isinstance(f, lu.WrappedFun):
            todo.append(f.f)
            for _, params in f.transforms:
                todo.extend(_param_leaves(params, found))
            continue
        if isinstance(f, functools.partial):
            todo.append(f.func)
            todo.extend(_param_leaves((f.args, tuple(f.keywords.values())), found))
            continue
        module = getattr(f, "__module__", None) or ""
        if getattr(f, "__code__", None) is None or not (module == "jax" or module.startswith(("jax.", "jaxlib."))):
            found.add(("user", id(f)))
            continue
        for cell in f.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if isinstance(value, lu.WrappedFun) or callable(value):
                todo.append(value)
    return frozenset(found)


def _param_leaves(p: Any, found: set) -> list:
    """Callables among a wrapper's static parameters (to look into); other values are
    recorded in ``found`` (by identity when unhashable)."""
    import jax._src.linear_util as lu

    if isinstance(p, (tuple, list)):
        return [c for v in p for c in _param_leaves(v, found)]
    if isinstance(p, lu.WrappedFun) or callable(p) and not isinstance(p, type):
        return [p]
    try:
        hash(p)
        found.add(("param", p))
    except TypeError:
        found.add(("param", id(p)))
    return []


def _avals_key(avals: Sequence[core.AbstractValue]) -> tuple:
    return tuple((tuple(a.shape), np.dtype(a.dtype).str) for a in avals)


def _is_float(aval: core.AbstractValue) -> bool:
    return jax.dtypes.issubdtype(aval.dtype, np.inexact)


def _plain(aval: core.AbstractValue) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(aval.shape, aval.dtype)


def _call_primal(
    ctx: mlir.LoweringRuleContext,
    name: str,
    call_jaxpr: core.ClosedJaxpr,
    args: Sequence[ir.Value],
    captured: Sequence[tuple[ir.Value, core.AbstractValue]] = (),
) -> tuple[list, ir.Operation, ir.Operation]:
    """Lower ``call_jaxpr`` as a private function and call it; returns the call's results,
    the function and the call. ``captured`` (values with their types) become leading
    operands the function takes and does not read (values its rules close over)."""
    avals_in = list(ctx.avals_in)
    if captured:
        k = len(captured)
        body = core.jaxpr_as_fun(call_jaxpr)
        call_jaxpr = jax.make_jaxpr(lambda *xs: body(*xs[k:]))(*(_plain(a) for _, a in captured), *(_plain(a) for a in avals_in))
        avals_in = [a for _, a in captured] + avals_in
        args = [v for v, _ in captured] + list(args)
        ctx.tokens_out = None  # the call replaces an earlier one
    out, tokens = mlir.call_lowering(
        name,
        call_jaxpr,
        None,
        ctx.module_context,
        avals_in,
        ctx.avals_out,
        ctx.tokens_in,
        *args,
        dim_var_values=ctx.dim_var_values,
        const_lowering=ctx.const_lowering,
    )
    ctx.set_tokens_out(tokens)
    ip = ir.InsertionPoint.current  # the call was appended last (found this way also when it has no results)
    if ip.ref_operation is not None:
        raise NotImplementedError("zymase: unexpected insertion point while lowering a custom_jvp / custom_vjp call")
    ops = ip.block.operations
    call = ops[len(ops) - 1].operation
    if call.name != "func.call":
        raise NotImplementedError(f"zymase: expected the func.call of a custom_jvp / custom_vjp function, found {call.name}")
    callee = ir.FlatSymbolRefAttr(call.attributes["callee"]).value
    return out, ctx.module_context.symbol_table[callee], call


# ============================================================================ closure conversion


class Scope:
    """The values of the jaxprs being lowered around a custom rule's call: ``env``, the
    environment (``Var -> ir values``) of the jaxpr whose equation is being lowered, and
    ``outer``, the environments of the jaxprs around it (a loop body's or a branch's
    jaxpr sits in its enclosing jaxpr's equation) through which zymase can thread a value
    into the call: only jax's own lowering (loops, branches, called functions) lies in
    between, in the same module; a function zymase emits (a custom rule's primal or rule
    functions, an enzyme op's primal) ends the search."""

    def __init__(self, env: dict | None, outer: list[dict]):
        self.env = env
        self.outer = outer


def _zymase_frame(code: Any) -> bool:
    return code.co_filename.startswith(_PACKAGE_DIR)


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def enclosing_values() -> tuple[Scope, Any]:
    """The values of the jaxprs being lowered (a :class:`Scope`) and the equation being
    lowered: jax's ``jaxpr_subcomp`` keeps them in its locals ``env`` and ``eqn``, and the
    innermost one on the stack is lowering the equation. (jax may emit an equation's
    lowering as a function first, which it then inlines at the equation's place, where
    these values are defined.) The environments of the ``jaxpr_subcomp`` frames further
    out, in the same module and with only jax's frames in between, are the scope's
    ``outer`` ones: their values reach the call through the loop bodies, branches and
    functions jax lowers in between (``thread_closure_values``)."""
    frame = sys._getframe(1)
    env, eqn, module_ctx, outer = None, None, None, []
    while frame is not None:
        code = frame.f_code
        if code.co_name == "jaxpr_subcomp" and code.co_filename == mlir.__file__:
            found = frame.f_locals.get("env")
            if module_ctx is None:
                env, eqn, module_ctx = (found if isinstance(found, dict) else None), frame.f_locals.get("eqn"), frame.f_locals.get("ctx")
            elif frame.f_locals.get("ctx") is module_ctx and isinstance(found, dict):
                outer.append(found)
            else:
                break
        elif module_ctx is not None and _zymase_frame(code):
            break
        frame = frame.f_back
    return Scope(env, outer), eqn


class ClosureError(jax.errors.UnexpectedTracerError):
    """A rule closes over a value traced by jax that is not a value of the jaxpr being
    lowered where the rule's function is called."""

    def __init__(self) -> None:
        Exception.__init__(self, "the rule closes over a traced value")


def _trace_rule(fun: Callable, in_avals: Sequence[jax.ShapeDtypeStruct]) -> tuple[core.ClosedJaxpr, list[core.Tracer]]:
    """jax's trace of a rule, and the values of the finished jax trace it closes over
    (jax's trace of the user's function, which has ended when zymase traces the rule):
    they are constants of the trace, and become explicit inputs (closure conversion)."""
    closed = jax.make_jaxpr(fun)(*in_avals)
    if closed.effects:
        raise NotImplementedError(f"zymase: a custom derivative rule with side effects ({closed.effects}) is not supported")
    captured: list[core.Tracer] = []
    for c in closed.consts:
        if isinstance(c, core.Tracer) and all(c is not d for d in captured):
            captured.append(c)
    return closed, captured


def _evaluator(closed: core.ClosedJaxpr, captured: Sequence[core.Tracer]) -> Callable:
    """``closed`` as a function of ``(values of captured..., inputs...)``."""
    k = len(captured)

    def run(*xs: Any) -> list:
        given = xs[:k]
        consts = [next((given[i] for i, d in enumerate(captured) if d is c), c) if isinstance(c, core.Tracer) else c for c in closed.consts]
        return list(core.eval_jaxpr(closed.jaxpr, consts, *xs[k:]))

    return run


def _resolve(ctx: mlir.LoweringRuleContext, scope: Scope, captured: Sequence[core.Tracer], emit: bool = True) -> list[tuple[ir.Value, core.AbstractValue]]:
    """The values of the jaxpr being lowered that the tracers ``captured`` stand for (a
    tracer's ``val`` is its variable in the trace it belongs to). A value of a jaxpr
    around it (outside the loop body, branch or function jax is lowering the call in)
    comes through a *closure value*: ``custom_call @zymase_closure_value`` here, and
    ``custom_call @zymase_closure_source`` on the value where it is defined, which
    ``thread_closure_values`` replaces, after the import, by the value itself, passed
    into the loops and functions in between. ClosureError when a value is in neither
    (``emit=False``: only check)."""
    got = []
    for t in captured:
        var = getattr(t, "val", None)
        aval = core.ShapedArray(t.aval.shape, t.aval.dtype)
        want = ir_type(ctx, aval)
        if not isinstance(var, core.Var):
            raise ClosureError()
        value = scope.env.get(var) if scope.env is not None else None
        if value is not None:
            if not isinstance(value, ir.Value) or value.type != want:
                raise ClosureError()
            got.append((value, aval))
            continue
        outer = next((e[var] for e in scope.outer if var in e), None)
        if not isinstance(outer, ir.Value) or outer.type != want:
            raise ClosureError()
        got.append((_closure_value(ctx, outer) if emit else outer, aval))
    return got


CLOSURE_SOURCE = "zymase_closure_source"
CLOSURE_VALUE = "zymase_closure_value"
CLOSURE_VALUES_ATTR = "zymase.closure_values"
"""A unit attribute on a lowered module that holds closure values (``frontend.lower``
then calls ``thread_closure_values``; jax may hand out the same lowered module again)."""


def _closure_value(ctx: mlir.LoweringRuleContext, outer: ir.Value) -> ir.Value:
    """``outer`` (a value of an enclosing jaxpr) at the current insertion point, through
    a closure value marker (see ``_resolve``)."""
    rules = _Rules.of(ctx)
    ident = next((i for i, v in enumerate(rules.sources) if v == outer), None)
    if ident is None:
        ident = len(rules.sources)
        rules.sources.append(outer)
        owner = outer.owner
        where = ir.InsertionPoint.at_block_begin(owner) if isinstance(owner, ir.Block) else ir.InsertionPoint.after(owner.operation)
        with where:
            mlir.custom_call(CLOSURE_SOURCE, result_types=[], operands=[outer], backend_config=str(ident), has_side_effect=True)
    ctx.module_context.module.operation.attributes[CLOSURE_VALUES_ATTR] = ir.UnitAttr.get()
    op = mlir.custom_call(CLOSURE_VALUE, result_types=[outer.type], operands=[], backend_config=str(ident), has_side_effect=True)
    return op.results[0]


def thread_closure_values(module: Any) -> None:
    """Replace the closure values of an imported module (xDSL) by the values they stand
    for: a value defined in an enclosing block of the same function is used directly (a
    region of a loop or branch may use values from outside it); a function in between
    takes it as a new last argument, which each of its calls passes (made available at
    the call in the same way)."""
    from xdsl.dialects import func
    from xdsl.dialects.builtin import StringAttr
    from xdsl.ir import BlockArgument

    from ..ir.stablehlo import CustomCallOp

    if CLOSURE_VALUES_ATTR not in module.attributes:
        return
    del module.attributes[CLOSURE_VALUES_ATTR]
    sources: dict[str, Any] = {}
    sinks: list[Any] = []
    calls: dict[str, list[Any]] = {}
    funcs: dict[str, Any] = {}
    for op in module.walk():
        if isinstance(op, CustomCallOp) and op.call_target_name.data in (CLOSURE_SOURCE, CLOSURE_VALUE):
            ident = op.backend_config.data if isinstance(op.backend_config, StringAttr) else None
            if op.call_target_name.data == CLOSURE_SOURCE:
                sources[ident] = op
            else:
                sinks.append((ident, op))
        elif isinstance(op, func.CallOp):
            calls.setdefault(op.callee.root_reference.data, []).append(op)
        elif isinstance(op, func.FuncOp):
            funcs[op.sym_name.data] = op
    threaded: dict[tuple[int, int], Any] = {}

    def refuse(fn_name: str) -> NotImplementedError:
        return NotImplementedError(
            f"zymase: a custom_jvp / custom_vjp rule closes over a value that zymase cannot pass into the function @{fn_name} "
            f"it is called in; pass that value to the custom_jvp / custom_vjp function as an argument"
        )

    def available(value: Any, at: Any) -> Any:
        """``value`` made usable by the op ``at``."""
        home = value.block if isinstance(value, BlockArgument) else value.op.parent_block()
        block = at.parent_block()
        while block is not None and block is not home:
            owner = block.parent_op()
            if isinstance(owner, func.FuncOp):
                return through_function(owner, value)
            if owner is None or owner.name not in ("stablehlo.while", "stablehlo.case", "stablehlo.if"):
                raise refuse(_function_of(at))
            block = owner.parent_block()
        if block is None:
            raise refuse(_function_of(at))
        return value

    def through_function(fn: Any, value: Any) -> Any:
        key = (id(fn), id(value))
        if key in threaded:
            return threaded[key]
        name = fn.sym_name.data
        sites = calls.get(name, [])
        if not sites or fn.sym_visibility is None or fn.sym_visibility.data != "private" or _other_symbol_uses(module, name):
            raise refuse(name)
        entry = fn.body.blocks[0]
        arg = entry.insert_arg(value.type, len(entry.args))
        threaded[key] = arg
        arg_attrs = fn.arg_attrs
        fn.update_function_type()
        if arg_attrs is not None:
            from xdsl.dialects.builtin import DictionaryAttr

            fn.arg_attrs = type(arg_attrs)([*arg_attrs.data, DictionaryAttr({})])
        for call in list(sites):
            extra = available(value, call)
            new = func.CallOp.create(
                operands=[*call.operands, extra],
                result_types=[r.type for r in call.results],
                properties=dict(call.properties),
                attributes=dict(call.attributes),
            )
            call.parent_block().insert_op_before(new, call)
            for old, r in zip(call.results, new.results):
                old.replace_all_uses_with(r)
            call.detach()
            call.erase()
            sites[sites.index(call)] = new
        return arg

    for ident, sink in sinks:
        source = sources.get(ident)
        if source is None:
            raise NotImplementedError("internal error: a closure value without its source")
        if sink.results[0].uses:  # (a call given up after its values were resolved leaves none)
            sink.results[0].replace_all_uses_with(available(source.operands[0], sink))
        sink.detach()
        sink.erase()
    for source in sources.values():
        source.detach()
        source.erase()


def _function_of(op: Any) -> str:
    from xdsl.dialects import func

    while op is not None and not isinstance(op, func.FuncOp):
        op = op.parent_op()
    return op.sym_name.data if op is not None else "?"


def _other_symbol_uses(module: Any, name: str) -> bool:
    """Whether anything but a ``func.call`` names the function ``name`` (a rule
    attribute, an enzyme op): its signature must then stay."""
    from xdsl.dialects import func
    from xdsl.dialects.builtin import SymbolRefAttr

    def names(attr: Any) -> bool:
        if isinstance(attr, SymbolRefAttr):
            return attr.root_reference.data == name
        data = getattr(attr, "data", None)
        if isinstance(data, (tuple, list)):
            return any(names(a) for a in data)
        if isinstance(data, dict):
            return any(names(a) for a in data.values())
        return False

    for op in module.walk():
        if isinstance(op, func.CallOp) or isinstance(op, func.FuncOp) and op.sym_name.data == name:
            continue
        if any(names(a) for a in (*op.properties.values(), *op.attributes.values())):
            return True
    return False


def _avals(captured: Sequence[core.Tracer]) -> list[jax.ShapeDtypeStruct]:
    return [jax.ShapeDtypeStruct(t.aval.shape, t.aval.dtype) for t in captured]


def _emit_function(ctx: mlir.LoweringRuleContext, name: str, fun: Callable, in_avals: Sequence[jax.ShapeDtypeStruct]) -> str:
    """Trace ``fun`` with jax and lower it as a private function of the module; its name."""
    return _lower_closed(ctx, name, jax.make_jaxpr(fun)(*in_avals), in_avals)


def _lower_closed(ctx: mlir.LoweringRuleContext, name: str, closed: core.ClosedJaxpr, in_avals: Sequence[jax.ShapeDtypeStruct]) -> str:
    """A traced rule as a private function of the module; its name."""
    if any(isinstance(c, core.Tracer) for c in closed.consts):
        raise ClosureError()
    if closed.effects:
        raise NotImplementedError(f"zymase: a custom derivative rule with side effects ({closed.effects}) is not supported")
    avals = [core.ShapedArray(a.shape, a.dtype) for a in in_avals]
    fn = mlir.lower_called_computation(name, closed, ctx.module_context, 0, avals, closed.out_avals, ctx.tokens_in.subset([]))[0]
    fn.attributes["sym_visibility"] = ir.StringAttr.get("private")
    return ir.StringAttr(fn.attributes["sym_name"]).value


def _float0_zeros(aval: core.AbstractValue) -> Any:
    return np.zeros(aval.shape, dtype=jax.dtypes.float0)


def _convert_call(
    ctx: mlir.LoweringRuleContext,
    rules: _Rules,
    key: Any,
    env: Scope,
    eqn: Any,
    name: str,
    call_jaxpr: core.ClosedJaxpr,
    args: Sequence[ir.Value],
    primal: tuple[list, ir.Operation, ir.Operation],
    num_consts: int,
    counted: int,
) -> list:
    """When the rules of ``key`` close over values of jax's trace, call the function again
    with those values as leading operands (the rules take them as arguments), counted
    among its closed-over values (``enzyme.custom_vjp_consts``, with the ``counted``
    values jax's closure conversion of the function put first): differentiating with
    respect to them is refused, as jax cannot either. That includes a value only the rules
    close over: the function's value does not depend on it, but its derivative (the
    rule's) does, so a second derivative through it would need what the rule does not say."""
    out, fn, call = primal
    captured = rules.captures.get(key)
    if not captured or CUSTOM_RULE_MISSING in fn.attributes or JAX_PRIMITIVE in fn.attributes:
        return out
    try:
        values = _resolve(ctx, env, captured)
        if CUSTOM_JVP not in fn.attributes and CUSTOM_VJP_FWD not in fn.attributes:
            raise ClosureError()  # a call inside the rule being built (its values are the rule's own)
    except ClosureError as e:
        fn.attributes[CUSTOM_RULE_MISSING] = ir.StringAttr.get(_untraceable_reason(e))
        return out
    new_out, new_fn, _ = _call_primal(ctx, name, call_jaxpr, args, values)
    for attr in (CUSTOM_JVP, CUSTOM_VJP_FWD, CUSTOM_VJP_BWD):
        if attr in fn.attributes:
            new_fn.attributes[attr] = fn.attributes[attr]
    new_fn.attributes[CUSTOM_VJP_CONSTS] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), len(values) + counted)
    call.erase()
    return new_out


def _float_positions(avals: Sequence[Any]) -> list[int]:
    return [i for i, a in enumerate(avals) if _is_float(a)]


@override(_cd.custom_jvp_call_p)
def _custom_jvp_call(ctx: mlir.LoweringRuleContext, *args: ir.Value, call_jaxpr, jvp_jaxpr_fun, num_consts, symbolic_zeros):
    env, eqn = enclosing_values()
    params = dict(call_jaxpr=call_jaxpr, jvp_jaxpr_fun=jvp_jaxpr_fun, num_consts=num_consts, symbolic_zeros=symbolic_zeros)
    primal = _call_primal(ctx, "custom_jvp_call", call_jaxpr, args)
    in_avals = [_plain(a) for a in ctx.avals_in]
    out_avals = list(ctx.avals_out)
    identity = _identity(jvp_jaxpr_fun)
    key = ("jvp", identity if identity is not None else object(), _avals_key(in_avals), str(call_jaxpr.jaxpr))
    rules = _Rules.of(ctx)

    def build() -> dict[str, str]:
        bind_params = _cd.custom_jvp_call_p.get_bind_params(params)
        n = len(in_avals)
        float_in = _float_positions(in_avals)
        float_out = _float_positions(out_avals)

        def call(*xs: Any) -> Any:
            return _cd.custom_jvp_call_p.bind(*xs, **bind_params)

        def rule(*primals_and_tangents: Any) -> list:
            primals = primals_and_tangents[:n]
            given = iter(primals_and_tangents[n:])
            tangents = [next(given) if i in float_in else _float0_zeros(a) for i, a in enumerate(in_avals)]
            outs, t_outs = jax.jvp(call, tuple(primals), tuple(tangents))
            return [*outs, *(t_outs[i] for i in float_out)]

        rule_avals = [*in_avals, *(in_avals[i] for i in float_in)]
        closed, captured = _trace_rule(rule, rule_avals)
        if not captured:
            return {CUSTOM_JVP: _lower_closed(ctx, "custom_jvp_rule", closed, rule_avals)}
        _resolve(ctx, env, captured, emit=False)  # raises when the values are not at hand here
        rules.captures[key] = captured
        run, k = _evaluator(closed, captured), len(captured)
        cap_avals = _avals(captured)
        n_cap_tangents = len(_float_positions(cap_avals))

        def rule_with_captures(*xs: Any) -> list:
            """(captured..., primals..., tangents of the float captured..., tangents...):
            the captured values' tangents are not read (the engine refuses to
            differentiate with respect to them)."""
            return run(*xs[:k], *xs[k : k + n], *xs[k + n + n_cap_tangents :])

        avals = [*cap_avals, *in_avals, *(a for a in cap_avals if _is_float(a)), *(in_avals[i] for i in float_in)]
        return {CUSTOM_JVP: _emit_function(ctx, "custom_jvp_rule", rule_with_captures, avals)}

    def on_demand() -> int:
        bind_params = _cd.custom_jvp_call_p.get_bind_params(params)
        return register_call(lambda *xs: list(_cd.custom_jvp_call_p.bind(*xs, **bind_params)), in_avals, "custom_jvp function")

    rules.attach(key, primal[1], build, {}, on_demand)
    return _convert_call(ctx, rules, key, env, eqn, "custom_jvp_call", call_jaxpr, args, primal, num_consts, 0)


@override(_cd.custom_vjp_call_p)
def _custom_vjp_call(ctx: mlir.LoweringRuleContext, *args: ir.Value, call_jaxpr, fwd_jaxpr_thunk, num_consts, bwd, out_trees, symbolic_zeros):
    env, eqn = enclosing_values()
    params = dict(call_jaxpr=call_jaxpr, fwd_jaxpr_thunk=fwd_jaxpr_thunk, num_consts=num_consts, bwd=bwd, out_trees=out_trees, symbolic_zeros=symbolic_zeros)
    primal = _call_primal(ctx, "custom_vjp_call", call_jaxpr, args)
    in_avals = [_plain(a) for a in ctx.avals_in]
    out_avals = [_plain(a) for a in ctx.avals_out]
    fwd_id, bwd_id = _identity(fwd_jaxpr_thunk), _identity(bwd)
    ident = (fwd_id, bwd_id) if fwd_id is not None and bwd_id is not None else object()
    key = ("vjp", ident, _avals_key(in_avals), str(call_jaxpr.jaxpr))
    consts = {CUSTOM_VJP_CONSTS: ir.IntegerAttr.get(ir.IntegerType.get_signless(64), num_consts)}
    rules = _Rules.of(ctx)

    def build() -> dict[str, str]:
        _, fwd, bwd_fn = _cd.custom_vjp_call_p.get_bind_params(params)["subfuns"]
        n = len(in_avals)
        float_in = _float_positions(in_avals)
        float_out = _float_positions(out_avals)

        def forward(*xs: Any) -> list:
            flags = [i >= num_consts for i in range(n)]
            res_and_outs = fwd.call_wrapped(*[v for pair in zip(xs, flags) for v in pair])
            _, res_tree, input_fwds = out_trees()
            n_res_out = res_tree.num_leaves - sum(f is not None for f in input_fwds)
            res_out, outs = res_and_outs[:n_res_out], res_and_outs[n_res_out:]
            it = iter(res_out)
            residuals = [next(it) if f is None else xs[f] for f in input_fwds]
            return [*outs, *residuals]

        closed_fwd, captured_fwd = _trace_rule(forward, in_avals)
        res_avals = [_plain(a) for a in closed_fwd.out_avals[len(out_avals):]]

        def backward(*res_and_cts: Any) -> list:
            res = res_and_cts[: len(res_avals)]
            given = iter(res_and_cts[len(res_avals):])
            cts = [next(given) if i in float_out else _float0_zeros(a) for i, a in enumerate(out_avals)]
            cts_in = bwd_fn.call_wrapped(*res, *cts)
            got = []
            for i in float_in:
                ct = cts_in[i]
                if isinstance(ct, ad_util.Zero) or ct is None:
                    ct = jax.numpy.zeros(in_avals[i].shape, in_avals[i].dtype)
                got.append(jax.numpy.asarray(ct, in_avals[i].dtype))
            return got

        bwd_avals = [*res_avals, *(out_avals[i] for i in float_out)]
        closed_bwd, captured_bwd = _trace_rule(backward, bwd_avals)
        captured = list(captured_fwd)
        captured += [t for t in captured_bwd if all(t is not c for c in captured)]
        if not captured:
            fwd_name = _lower_closed(ctx, "custom_vjp_fwd", closed_fwd, in_avals)
            return {CUSTOM_VJP_FWD: fwd_name, CUSTOM_VJP_BWD: _lower_closed(ctx, "custom_vjp_bwd", closed_bwd, bwd_avals)}
        _resolve(ctx, env, captured, emit=False)  # raises when the values are not at hand here
        rules.captures[key] = captured
        k, n_res = len(captured), len(res_avals)
        cap_avals = _avals(captured)
        run_fwd, run_bwd = _evaluator(closed_fwd, captured), _evaluator(closed_bwd, captured)

        def forward_with_captures(*xs: Any) -> list:
            """(captured..., args...) -> (outs..., residuals..., captured...): the captured
            values travel to the backward rule as residuals."""
            return [*run_fwd(*xs), *xs[:k]]

        def backward_with_captures(*xs: Any) -> list:
            """(residuals..., captured..., output cotangents...) -> cotangents of the float
            operands, the captured ones first (zero: the engine refuses to differentiate
            with respect to them, as jax does)."""
            res, cap, cts = xs[:n_res], xs[n_res : n_res + k], xs[n_res + k :]
            zeros = [jax.numpy.zeros(a.shape, a.dtype) for a in cap_avals if _is_float(a)]
            return [*zeros, *run_bwd(*cap, *res, *cts)]

        fwd_name = _emit_function(ctx, "custom_vjp_fwd", forward_with_captures, [*cap_avals, *in_avals])
        bwd_name = _emit_function(ctx, "custom_vjp_bwd", backward_with_captures, [*res_avals, *cap_avals, *(out_avals[i] for i in float_out)])
        return {CUSTOM_VJP_FWD: fwd_name, CUSTOM_VJP_BWD: bwd_name}

    def on_demand() -> int:
        bind_params = _cd.custom_vjp_call_p.get_bind_params(params)
        return register_call(lambda *xs: list(_cd.custom_vjp_call_p.bind(*xs, **bind_params)), in_avals, "custom_vjp function")

    rules.attach(key, primal[1], build, consts, on_demand)
    return _convert_call(ctx, rules, key, env, eqn, "custom_vjp_call", call_jaxpr, args, primal, num_consts, num_consts)


# ============================================================================ library primitives

# JAX_PRIMITIVE (ir.enzyme, imported above): the integer attribute on a function whose
# derivative jax gives on demand (a library primitive, or a custom rule that needs to
# know which inputs are active): the key of its entry in ``PRIMITIVES``.

PRIMITIVES: dict[int, tuple[Callable, list[jax.ShapeDtypeStruct], str]] = {}
"""Calls whose derivative rules are traced on demand, when the AD engine knows which
inputs are active (``lower_jvp``, ``lower_vjp``): library primitives, and custom rules
that could not be traced without that knowledge (rules that check which inputs are
perturbed). Each entry: the call (flat arrays in, list out), its input types, a name for
messages. Process-wide, like host callbacks."""

_FOREIGN: dict[int, list[core.Primitive]] = {}


def _modules_of(f: Any, depth: int = 0, seen: set[int] | None = None) -> set[str]:
    seen = seen if seen is not None else set()
    if depth > 5 or id(f) in seen:
        return set()
    seen.add(id(f))
    if isinstance(f, functools.partial):
        return _modules_of(f.func, depth + 1, seen)
    found = set()
    module = getattr(f, "__module__", None)
    if isinstance(module, str):
        found.add(module)
    for cell in getattr(f, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if callable(value):
            found |= _modules_of(value, depth + 1, seen)
    return found


def library_primitives() -> list[core.Primitive]:
    """Primitives defined by libraries (their lowering runs library code) that carry a jax
    derivative rule. Their lowering is their implementation, which need not be
    differentiable (lineax's linear solve stops gradients inside): zymase keeps jax's
    rules for them instead."""
    from jax._src.interpreters import ad

    n = len(ad.primitive_jvps)
    got = _FOREIGN.get(n)
    if got is None:
        got = []
        for prim in list(ad.primitive_jvps):
            entry = mlir._lowerings.get(prim)
            rule = getattr(entry, "rule", entry)
            if rule is None or getattr(prim, "impl", None) is None:
                continue
            if any(not m.startswith(("jax", "jaxlib")) for m in _modules_of(rule)):
                got.append(prim)
        _FOREIGN.clear()
        _FOREIGN[n] = got
    return got


def _bind(prim: core.Primitive, params: dict[str, Any]) -> Callable:
    def call(*xs: Any) -> list:
        out = prim.bind(*xs, **params)
        return list(out) if prim.multiple_results else [out]

    return call


def _impl(prim: core.Primitive, params: dict[str, Any]) -> Callable:
    def run(*xs: Any) -> list:
        out = prim.impl(*xs, **params)
        return list(out) if prim.multiple_results else [out]

    return run


def _library_primitive_rule(prim: core.Primitive) -> LoweringRule:
    def rule(ctx: mlir.LoweringRuleContext, *args: ir.Value, **params: Any) -> Sequence[Any]:
        in_avals = [_plain(a) for a in ctx.avals_in]
        body = jax.make_jaxpr(_impl(prim, params))(*in_avals)
        out, fn, _ = _call_primal(ctx, f"primitive_{prim.name}", body, args)
        fn.attributes[JAX_PRIMITIVE] = _entry_attr(register_call(_bind(prim, params), in_avals, f"primitive '{prim.name}'"))
        return out

    return rule


_NATIVE: set[core.Primitive] = set()
"""Primitives being lowered by jax's own rule right now (the body of their call)."""


def _native_lowering(ctx: mlir.LoweringRuleContext, prim: core.Primitive, *args: ir.Value, **params: Any) -> Sequence[Any]:
    """``prim`` lowered by jax's own rules for the module's platforms."""
    platform_rules = {}
    for p in ctx.module_context.platforms:
        entry = mlir._platform_specific_lowerings[p].get(prim)
        if entry is not None:
            platform_rules[p] = entry.rule
    default = mlir._lowerings.get(prim)
    return mlir.lower_per_platform(ctx, str(prim), platform_rules, default.rule if default is not None else None, core.no_effects, *args, **params)


def jax_rule_primitive(prim: core.Primitive) -> LoweringRule:
    """A lowering rule for a jax primitive that zymase has no op for: a call of a private
    function whose body is jax's own lowering of the primitive (an opaque custom call,
    say a LAPACK routine), carrying ``enzyme.jax_rule``, so that the AD engine takes its
    derivative from jax's rules on demand (``lower_jvp`` / ``lower_vjp``), and refuses
    with jax's own message where jax has no rule."""

    def rule(ctx: mlir.LoweringRuleContext, *args: ir.Value, **params: Any) -> Sequence[Any]:
        if prim in _NATIVE:
            return _native_lowering(ctx, prim, *args, **params)
        in_avals = [_plain(a) for a in ctx.avals_in]
        body = jax.make_jaxpr(_bind(prim, params))(*in_avals)
        _NATIVE.add(prim)
        try:
            out, fn, _ = _call_primal(ctx, f"primitive_{prim.name}", body, args)
        finally:
            _NATIVE.discard(prim)
        entry = register_call(_bind(prim, params), in_avals, f"primitive '{prim.name}'")
        REBOUND.add(entry)
        fn.attributes[JAX_PRIMITIVE] = _entry_attr(entry)
        return out

    return rule


REBOUND: set[int] = set()
"""Entries of ``PRIMITIVES`` (``jax_rule_primitive``'s calls) that the emitter binds
again instead of emitting the function's body (jax's opaque lowering), so that the
emitted program means the primitive to jax, and to zymase lowering it again."""


def _entry_attr(entry: int) -> ir.Attribute:
    return ir.IntegerAttr.get(ir.IntegerType.get_signless(64), entry)


def register_call(call: Callable, in_avals: Sequence[jax.ShapeDtypeStruct], what: str) -> int:
    """Keep ``call`` (flat arrays in, list out) for derivative rules traced on demand."""
    entry = len(PRIMITIVES)
    PRIMITIVES[entry] = (call, list(in_avals), what)
    return entry


def _split(entry: int, active: Sequence[int]) -> tuple[Callable, list, list, list[int]]:
    call, in_avals, _ = PRIMITIVES[entry]
    out_avals = jax.eval_shape(call, *in_avals)
    float_out = [i for i, a in enumerate(out_avals) if _is_float(a)]

    def restricted(inputs: Sequence[Any]) -> Callable:
        def f(*act: Any) -> list:
            xs = list(inputs)
            for i, v in zip(active, act):
                xs[i] = v
            return call(*xs)

        return f

    return restricted, in_avals, out_avals, float_out


def lower_jvp(entry: int, active: Sequence[int]) -> Any:
    """Forward mode of call ``entry`` in its inputs ``active``, by jax, lowered by zymase:
    ``@main(inputs..., tangents of the active inputs...) -> (outs..., tangents of the float outs...)``.
    The other inputs are not perturbed (jax sees symbolic zeros, as rules expect)."""
    from . import lower

    restricted, in_avals, out_avals, float_out = _split(entry, active)

    def jvp(*xs: Any) -> list:
        inputs, tangents = xs[: len(in_avals)], xs[len(in_avals):]
        outs, t_outs = jax.jvp(restricted(inputs), tuple(inputs[i] for i in active), tuple(tangents))
        return [*outs, *(t_outs[i] for i in float_out)]

    return lower(jvp, *in_avals, *(in_avals[i] for i in active))


def lower_vjp(entry: int, active: Sequence[int]) -> tuple[Any, Any, int]:
    """Reverse mode of call ``entry`` in its inputs ``active``, by jax, split in two and
    lowered by zymase: ``fwd(inputs...) -> (outs..., residuals...)`` and
    ``bwd(residuals..., cotangents of the float outs...) -> cotangents of the active inputs``.
    The residuals are what jax's ``vjp`` keeps. Returns (fwd, bwd, number of residuals)."""
    from . import lower

    restricted, in_avals, out_avals, float_out = _split(entry, active)
    tree: list = []

    def fwd(*inputs: Any) -> list:
        outs, pullback = jax.vjp(restricted(inputs), *(inputs[i] for i in active))
        leaves, treedef = jax.tree_util.tree_flatten(pullback)
        tree[:] = [treedef]
        return [*outs, *leaves]

    fwd_program = lower(fwd, *in_avals)
    res_avals = fwd_program.out_avals[len(out_avals):]

    def bwd(*xs: Any) -> list:
        pullback = jax.tree_util.tree_unflatten(tree[0], list(xs[: len(res_avals)]))
        given = iter(xs[len(res_avals):])
        cts = [next(given) if i in float_out else _float0_zeros(a) for i, a in enumerate(out_avals)]
        return list(pullback(cts))

    bwd_program = lower(bwd, *res_avals, *(out_avals[i] for i in float_out))
    return fwd_program, bwd_program, len(res_avals)
