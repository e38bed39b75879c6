"""User-defined derivatives: ``enzyme.ignore_derivatives`` and calls of functions that
carry a custom rule (jax's ``custom_jvp`` / ``custom_vjp``, see frontend/lowering.py for
how the rules arrive as functions of the module).

- ``enzyme.ignore_derivatives``: inactive; activity analysis never marks its result varied.
- ``custom_jvp`` (``enzyme.custom_jvp = @rule``, ``@rule(primals..., tangents...) ->
  (outs..., tangent outs...)``, tangents of float values only):
  forward mode calls the rule; reverse mode differentiates the rule in reverse mode with
  respect to its tangent arguments (the rule is linear in them, so this is its
  transpose, which is how jax differentiates a custom_jvp function in reverse mode).
- ``custom_vjp`` (``enzyme.custom_vjp_fwd = @fwd``: ``args -> (outs..., residuals...)``;
  ``enzyme.custom_vjp_bwd = @bwd``: ``(residuals..., output cotangents...) -> argument
  cotangents``): the forward sweep calls ``@fwd`` and keeps the residuals, the reverse
  sweep calls ``@bwd``. Forward mode raises, as jax does.
- ``enzyme.custom_vjp_consts = n``: the first n operands are values the function or its
  rules close over (jax's closure conversion of a custom_vjp function, and zymase's of
  the rules, frontend/lowering.py); differentiating with respect to one of them is
  refused in both modes, as jax refuses it (the rule does not say how).
- ``enzyme.jax_rule``: jax's jvp / vjp of the call, traced when the engine knows which
  inputs are active (library primitives, ``jax.lax.linalg.eig``, ...); a primitive jax
  cannot differentiate is refused with jax's message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from xdsl.dialects import func
from xdsl.dialects.builtin import ComplexType, IntegerAttr, StringAttr, SymbolRefAttr, TensorType
from xdsl.ir import Attribute, SSAValue

from ...ir.query import describe_location, shape, terminator
from ...ir.enzyme import CUSTOM_JVP, CUSTOM_RULE_ATTRS, CUSTOM_RULE_MISSING, CUSTOM_VJP_BWD, CUSTOM_VJP_CONSTS, CUSTOM_VJP_FWD, JAX_PRIMITIVE
from ...ir.dense import is_float_type
from ...ir.enzyme import ACTIVE, ACTIVENONEED, CONST, CONSTNONEED, IgnoreDerivativesOp
from ..errors import DiffError, NoBatchedRule
from ..registry import custom_augment, inactive

if TYPE_CHECKING:
    from ..engine import ForwardSweep, ReverseSweep

inactive(IgnoreDerivativesOp)


def is_inexact(t: Attribute) -> bool:
    """Float or complex (jax's inexact dtypes): the values a custom rule has tangents for."""
    if isinstance(t, TensorType):
        t = t.get_element_type()
    return is_float_type(t) or isinstance(t, ComplexType)


def _symbol(fn: func.FuncOp, key: str) -> str | None:
    attr = fn.attributes.get(key)
    if isinstance(attr, SymbolRefAttr):
        return attr.root_reference.data
    return None


def has_custom_rule(fn: func.FuncOp) -> bool:
    return any(k in fn.attributes for k in (CUSTOM_JVP, CUSTOM_VJP_FWD, CUSTOM_RULE_MISSING, JAX_PRIMITIVE))


def uses_custom_reverse(rev: ReverseSweep, fn: func.FuncOp) -> bool:
    """Whether a call of ``fn`` is reversed by its custom rule. Inside the transposition
    of a custom_jvp rule, a custom_jvp function (applied to tangents, so linear there) is
    transposed through its body, as jax does; custom_vjp rules still apply."""
    if not has_custom_rule(fn):
        return False
    if rev.transposing and JAX_PRIMITIVE in fn.attributes:  # transposed by jax's rule
        return True
    if rev.transposing and (CUSTOM_JVP in fn.attributes or CUSTOM_VJP_CONSTS not in fn.attributes):  # a custom_jvp function
        return False
    return True


def _closed_over(fn: func.FuncOp) -> int:
    """The number of leading operands that are values the function or its rules close
    over (``enzyme.custom_vjp_consts``; on a custom_jvp function, values its rule closed
    over, made operands by zymase's closure conversion)."""
    consts = fn.attributes.get(CUSTOM_VJP_CONSTS)
    return consts.value.data if isinstance(consts, IntegerAttr) else 0


def _refuse_closed_over(fn: func.FuncOp, op: func.CallOp, differentiated) -> None:
    """Refuse, as jax does, to differentiate with respect to a value the function's rule
    closes over: the rule does not say how."""
    kind = "custom_jvp" if CUSTOM_JVP in fn.attributes else "custom_vjp"
    for v in list(op.operands)[: _closed_over(fn)]:
        if differentiated(v):
            raise DiffError(
                f"differentiation of the {kind} function @{fn.sym_name.data} (called at {describe_location(op)}) with "
                f"respect to a value it closes over: the custom {'JVP' if kind == 'custom_jvp' else 'VJP'} rule only "
                f"specifies how to differentiate the function with respect to its explicit inputs (pass the value as an "
                f"argument instead)"
            )


def _check_available(fn: func.FuncOp, op: func.CallOp) -> None:
    reason = fn.attributes.get(CUSTOM_RULE_MISSING)
    if reason is not None:
        why = reason.data if isinstance(reason, StringAttr) else "unknown"
        raise DiffError(f"the custom derivative rule of @{fn.sym_name.data} (called at {describe_location(op)}) was not kept: {why}")


# ============================================================================ forward


def call_forward(fwd: ForwardSweep, op: func.CallOp, fn: func.FuncOp) -> None:
    _check_available(fn, op)
    if JAX_PRIMITIVE in fn.attributes:
        _on_demand_forward(fwd, op, fn)
        return
    rule = _symbol(fn, CUSTOM_JVP)
    if rule is None:
        raise DiffError(
            f"can't apply forward-mode autodiff (jvp) to a custom_vjp function: @{fn.sym_name.data} called at "
            f"{describe_location(op)} has a custom_vjp rule and no custom_jvp rule"
        )
    _refuse_closed_over(fn, op, lambda v: is_inexact(v.type) and fwd.tangent(v) is not None)
    b = fwd.builder
    primals = [fwd.primal(v) for v in op.operands]
    float_args = [v for v in op.operands if is_inexact(v.type)]
    float_res = [r for r in op.results if is_inexact(r.type)]
    out_types = [r.type for r in op.results] + [r.type for r in float_res]
    if fwd.width == 1:
        tangents = [fwd.tangent_or_zero(v) for v in float_args]
        new = b.insert(func.CallOp(rule, [*primals, *tangents], out_types))
        outs = list(new.results)
        for r, res in zip(op.results, outs):
            fwd.primals[r] = res
        for r, t in zip(float_res, outs[len(op.results):]):
            fwd.set_tangent(r, t)
        return
    # Width N: the rule takes one direction; call it once per direction.
    per_direction: list[list[SSAValue]] = []
    outs: list[SSAValue] = []
    for k in range(fwd.width):
        tangents = [_direction(fwd, fwd.tangent_or_zero(v), k) for v in float_args]
        new = b.insert(func.CallOp(rule, [*primals, *tangents], out_types))
        outs = list(new.results)
        per_direction.append(outs[len(op.results):])
    for r, res in zip(op.results, outs):
        fwd.primals[r] = res
    for i, r in enumerate(float_res):
        rows = [b.reshape(ts[i], [1, *shape(ts[i])]) for ts in per_direction]
        fwd.set_tangent(r, b.concatenate(rows, 0))


def _direction(fwd: ForwardSweep, t: SSAValue, k: int) -> SSAValue:
    b = fwd.builder
    dims = list(shape(t))
    row = b.slice(t, [k] + [0] * (len(dims) - 1), [k + 1, *dims[1:]])
    return b.reshape(row, dims[1:])


# ============================================================================ reverse


def _kept_residuals(rev: ReverseSweep, op: func.CallOp) -> list[SSAValue] | None:
    kept = rev.tapes.get(op)
    return list(kept) if kept is not None else None


@custom_augment(func.CallOp)
def call_augment(rev: ReverseSweep, op: func.CallOp) -> None:
    """A custom_vjp call runs its fwd in the forward sweep and keeps the residuals; any
    other call is cloned."""
    fn = rev.ctx.func(op.callee.root_reference.data)
    fwd_name = _symbol(fn, CUSTOM_VJP_FWD)
    if fwd_name is None and JAX_PRIMITIVE in fn.attributes and uses_custom_reverse(rev, fn):
        fwd_name = _on_demand_vjp(rev, op, fn)[0]
    if fwd_name is None:
        rev.clone(op)  # a custom_jvp function's rule primals (ReverseSweep.clone)
        return
    residuals = _call_fwd(rev, op, fn, fwd_name)
    rev.tapes[op] = tuple(residuals)


def rule_primals(rev: ReverseSweep, op: func.CallOp) -> func.CallOp | None:
    """For a call of a custom_jvp function in a reverse derivative, a call of its rule at
    zero tangents, whose leading results are the call's primal results (recorded in
    ``rev.primals``); None for any other call. jax linearizes the rule, not the
    function: the same values at first order, and a derivative of the derivative then
    differentiates what the rule computes (e.g. a plain ``sin(x)`` it returns), not the
    custom rule again."""
    fn = rev.ctx.func(op.callee.root_reference.data)
    rule = _symbol(fn, CUSTOM_JVP)
    if rule is None or JAX_PRIMITIVE in fn.attributes or CUSTOM_RULE_MISSING in fn.attributes or not uses_custom_reverse(rev, fn):
        return None
    if _primal_by_a_ruleless_call(rev.ctx, rev.ctx.func(rule), len(op.results)):
        return None
    b = rev.builder
    float_args = [v for v in op.operands if is_inexact(v.type)]
    float_res = [r for r in op.results if is_inexact(r.type)]
    out_types = [r.type for r in op.results] + [r.type for r in float_res]
    args = [rev.primal(v) for v in op.operands] + [b.zeros(v.type) for v in float_args]
    new = b.insert(func.CallOp(rule, args, out_types))
    for r, res in zip(op.results, new.results):
        rev.primals[r] = res
    return new


def _primal_by_a_ruleless_call(ctx, rule: func.FuncOp, n: int) -> bool:
    """Whether the rule returns its primal outputs from a call of a custom function whose
    own rule zymase could not keep (jax's idiom ``return g(x), ...`` in g's rule, where g
    closes over a traced value). jax differentiates that call by g's rule; the call of g
    being differentiated is then the one whose rule zymase has."""
    ret = terminator(rule.body.block)
    for v in list(ret.operands)[:n]:
        owner = v.owner
        if isinstance(owner, func.CallOp) and CUSTOM_RULE_MISSING in ctx.func(owner.callee.root_reference.data).attributes:
            return True
    return False


def _call_fwd(rev: ReverseSweep, op: func.CallOp, fn: func.FuncOp, fwd_name: str) -> list[SSAValue]:
    fwd_fn = rev.ctx.func(fwd_name)
    types = list(fwd_fn.function_type.outputs.data)
    new = rev.builder.insert(func.CallOp(fwd_name, [rev.primal(v) for v in op.operands], types))
    outs = list(new.results)
    for r, res in zip(op.results, outs):
        rev.primals[r] = res
    return outs[len(op.results):]


def call_reverse(rev: ReverseSweep, op: func.CallOp, fn: func.FuncOp) -> None:
    _check_available(fn, op)
    if getattr(rev, "width", 1) != 1 and (JAX_PRIMITIVE in fn.attributes or _symbol(fn, CUSTOM_VJP_BWD) is not None):
        raise NoBatchedRule(op, rev.width)  # bwd takes one cotangent: the engine calls it once per cotangent
    if JAX_PRIMITIVE in fn.attributes:
        _on_demand_reverse(rev, op, fn)
        return
    bwd = _symbol(fn, CUSTOM_VJP_BWD)
    if bwd is not None:
        _vjp_reverse(rev, op, fn, bwd)
        return
    rule = _symbol(fn, CUSTOM_JVP)
    assert rule is not None
    _refuse_closed_over(fn, op, lambda v: is_inexact(v.type) and rev.is_active(v))
    _jvp_reverse(rev, op, rule)


def _vjp_reverse(rev: ReverseSweep, op: func.CallOp, fn: func.FuncOp, bwd: str) -> None:
    _refuse_closed_over(fn, op, rev.is_active)
    residuals = _kept_residuals(rev, op)
    if residuals is None:  # the call was cloned (e.g. recomputed inside a reversed loop): run fwd again
        saved = {r: rev.primals.get(r) for r in op.results}
        residuals = _call_fwd(rev, op, fn, _symbol(fn, CUSTOM_VJP_FWD) or "")
        for r, v in saved.items():
            if v is not None:
                rev.primals[r] = v
    cts = [rev.adjoint_or_zero(r) for r in op.results if is_inexact(r.type)]
    float_args = [v for v in op.operands if is_inexact(v.type)]
    new = rev.builder.insert(func.CallOp(bwd, [*residuals, *cts], [v.type for v in float_args]))
    for v, ct in zip(float_args, new.results):
        if rev.is_active(v):
            rev.add_adjoint(v, ct)


def _jvp_reverse(rev: ReverseSweep, op: func.CallOp, rule: str) -> None:
    """Reverse mode of the rule with respect to its tangents, at zero tangents."""
    b = rev.builder
    operands = list(op.operands)
    float_args = [v for v in operands if is_inexact(v.type)]
    float_res = [r for r in op.results if is_inexact(r.type)]
    arg_kinds = [CONST] * len(operands) + [ACTIVE if rev.is_active(v) else CONST for v in float_args]
    ret_kinds = [CONSTNONEED] * len(op.results) + [ACTIVENONEED if rev.adjoint(r) is not None else CONSTNONEED for r in float_res]
    if ACTIVE not in arg_kinds or ACTIVENONEED not in ret_kinds:
        return
    name = rev.ctx.reverse_function(rule, arg_kinds, ret_kinds, transposing=True, width=getattr(rev, "width", 1))
    args: list[SSAValue] = [rev.primal(v) for v in operands]
    args += [b.zeros(v.type) for v in float_args]
    args += [rev.adjoint(r) for r, k in zip(float_res, ret_kinds[len(op.results):]) if k == ACTIVENONEED]
    active = [v for v, k in zip(float_args, arg_kinds[len(operands):]) if k == ACTIVE]
    new = b.insert(func.CallOp(name, args, [rev.adjoint_type(v.type) for v in active]))
    for v, ct in zip(active, new.results):
        rev.add_adjoint(v, ct)


def _entry(fn: func.FuncOp) -> int:
    attr = fn.attributes[JAX_PRIMITIVE]
    return attr.value.data if isinstance(attr, IntegerAttr) else -1


def _on_demand_error(fn: func.FuncOp, op: func.CallOp, mode: str, e: Exception) -> DiffError:
    from ...frontend.lowering import PRIMITIVES

    what = PRIMITIVES.get(_entry(fn), (None, None, "call"))[2]
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    either = " (jax cannot differentiate it either)" if isinstance(e, NotImplementedError) else ""
    return DiffError(
        f"jax's {mode}-mode rule of the {what} @{fn.sym_name.data} (called at {describe_location(op)}) failed{either}: {type(e).__name__}: {first}"
    )


def _on_demand_forward(fwd: ForwardSweep, op: func.CallOp, fn: func.FuncOp) -> None:
    """Forward mode through jax's rule for the inputs that carry tangents, traced now."""
    from ...frontend.lowering import lower_jvp

    operands = list(op.operands)
    active = [i for i, v in enumerate(operands) if fwd.tangent(v) is not None and is_inexact(v.type)]
    key = ("jax-jvp", _entry(fn), tuple(active))
    name = fwd.ctx.generated.get(key)
    if name is None:
        try:
            program = lower_jvp(_entry(fn), active)
        except Exception as e:
            raise _on_demand_error(fn, op, "forward", e) from None
        name = fwd.ctx.generated[key] = merge_module(fwd.ctx, program.module, f"jvp_{fn.sym_name.data}")
    float_res = [r for r in op.results if is_inexact(r.type)]
    out_types = [r.type for r in op.results] + [r.type for r in float_res]
    primals = [fwd.primal(v) for v in operands]
    b = fwd.builder
    per_direction: list[list[SSAValue]] = []
    outs: list[SSAValue] = []
    for k in range(fwd.width):
        tangents = [fwd.tangent(operands[i]) for i in active]
        if fwd.width != 1:
            tangents = [_direction(fwd, t, k) for t in tangents]
        new = b.insert(func.CallOp(name, [*primals, *tangents], out_types))
        outs = list(new.results)
        per_direction.append(outs[len(op.results):])
    for r, res in zip(op.results, outs):
        fwd.primals[r] = res
    for i, r in enumerate(float_res):
        if fwd.width == 1:
            fwd.set_tangent(r, per_direction[0][i])
        else:
            rows = [b.reshape(ts[i], [1, *shape(ts[i])]) for ts in per_direction]
            fwd.set_tangent(r, b.concatenate(rows, 0))


def _on_demand_vjp(rev: ReverseSweep, op: func.CallOp, fn: func.FuncOp) -> tuple[str, str, list[int]]:
    from ...frontend.lowering import lower_vjp

    active = [i for i, v in enumerate(op.operands) if rev.is_active(v)]
    key = ("jax-vjp", _entry(fn), tuple(active))
    got = rev.ctx.generated.get(key)
    if got is None:
        try:
            fwd_program, bwd_program, _ = lower_vjp(_entry(fn), active)
        except Exception as e:
            raise _on_demand_error(fn, op, "reverse", e) from None
        fwd_name = merge_module(rev.ctx, fwd_program.module, f"fwd_{fn.sym_name.data}")
        bwd_name = merge_module(rev.ctx, bwd_program.module, f"bwd_{fn.sym_name.data}")
        got = rev.ctx.generated[key] = (fwd_name, bwd_name)
    return got[0], got[1], active


def _on_demand_reverse(rev: ReverseSweep, op: func.CallOp, fn: func.FuncOp) -> None:
    fwd_name, bwd_name, active = _on_demand_vjp(rev, op, fn)
    if not active:
        return
    residuals = _kept_residuals(rev, op)
    if residuals is None:
        saved = {r: rev.primals.get(r) for r in op.results}
        residuals = _call_fwd(rev, op, fn, fwd_name)
        for r, v in saved.items():
            if v is not None:
                rev.primals[r] = v
    cts = [rev.adjoint_or_zero(r) for r in op.results if is_inexact(r.type)]
    operands = list(op.operands)
    new = rev.builder.insert(func.CallOp(bwd_name, [*residuals, *cts], [operands[i].type for i in active]))
    for i, ct in zip(active, new.results):
        rev.add_adjoint(operands[i], ct)


def merge_module(ctx, src, base: str) -> str:
    """Move the functions of module ``src`` into the module being differentiated, under
    fresh private names (calls and rule attributes renamed with them); the new name of
    ``src``'s ``@main``."""
    funcs = [op for op in src.ops if isinstance(op, func.FuncOp)]
    names = {f.sym_name.data: ctx.unique_name(f"{base}_{f.sym_name.data}") for f in funcs}
    for f in funcs:
        f.detach()
        f.sym_name = StringAttr(names[f.sym_name.data])
        f.sym_visibility = StringAttr("private")
        for inner in f.walk():  # calls, and ops naming functions (matrix.custom_linear_solve's solvers)
            if inner is f:
                continue
            for table in (inner.properties, inner.attributes):
                for k, a in list(table.items()):
                    if isinstance(a, SymbolRefAttr) and a.root_reference.data in names:
                        table[k] = SymbolRefAttr(names[a.root_reference.data])
        for k in CUSTOM_RULE_ATTRS:
            a = f.attributes.get(k)
            if isinstance(a, SymbolRefAttr) and a.root_reference.data in names:
                f.attributes[k] = SymbolRefAttr(names[a.root_reference.data])
        ctx.module.body.block.add_op(f)
    return names["main"]


__all__: Sequence[str] = ["call_forward", "call_reverse", "has_custom_rule", "is_inexact"]
