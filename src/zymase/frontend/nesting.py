"""Nested zymase transformations: a zymase derivative called inside a function that
zymase lowers becomes an enzyme op over the inner function, not the inner derivative's
generated code.

Each transformation (``zymase.grad``, ``jvp``, ``vjp``, ``jacfwd``, ...) binds
``diff_p`` with the operands of the enzyme op it asks for (Enzyme's conventions,
ir/enzyme.py) and these parameters:

- ``kind``: ``"enzyme.autodiff"`` or ``"enzyme.fwddiff"``;
- ``primal``: the jaxpr of the differentiated function on flat arrays;
- ``activity``, ``ret_activity`` (activity names), ``width``;
- ``out_avals``: the enzyme op's result types;
- ``derivative``: the compiled derivative (flat operands in, flat results out; ``.fn``
  is its lax function), compiled on first use.

For jax the primitive *is* the compiled derivative: its implementation and its lowering
call it, its batching rule vmaps it and its jvp rule differentiates it with jax, so
``jax.jit``, ``jax.vmap`` and ``jax.grad`` over a zymase transformation keep working.
zymase's own lowering (``override``, used only when zymase lowers a program) emits the
primal as a private function and a marker ``stablehlo.custom_call
@zymase.enzyme.autodiff`` / ``@zymase.enzyme.fwddiff`` whose ``fn``, ``activity``,
``ret_activity`` and ``width`` the importer turns into the enzyme op. Nested
transformations (``zymase.grad(zymase.grad(f))``, ``zymase.jvp(zymase.grad(f), ...)``,
``zymase.jacfwd(zymase.jacrev(f))``) so give one module with nested enzyme ops, which
the enzyme pass differentiates inner level first.

``program_p`` is a whole transformed program (``zymase.jacfwd``: the seeds, the enzyme
op and the arrangement of its results): for jax it is the program compiled by zymase as
one module; zymase's lowering lowers its body in place, so that the enzyme ops inside
nest in the outer module.

A primal with effects (host callbacks) is not bound as ``diff_p`` (which declares no
effects): api.py calls the compiled derivative as a jitted function instead, which carries
its effects (ordered ones with jax's tokens), and an outer zymase lowering sees the inner
derivative's code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
from jax._src import core
from jax._src.interpreters import ad, batching, mlir
from jax._src.lib.mlir import ir

from .lowering import marker, override

ENZYME_OPS = ("enzyme.autodiff", "enzyme.fwddiff")


# ============================================================================ diff_p

diff_p = core.Primitive("zymase_diff")
diff_p.multiple_results = True


def bind_diff(
    operands: Sequence[Any],
    *,
    kind: str,
    primal: core.ClosedJaxpr,
    activity: Sequence[str],
    ret_activity: Sequence[str],
    width: int,
    out_avals: Sequence[Any],
    derivative: Any,
    name: str = "primal",
) -> list[Any]:
    """The results of the enzyme op ``kind`` on ``primal`` with these operands."""
    if kind not in ENZYME_OPS:
        raise ValueError(f"unknown enzyme op '{kind}'")
    avals = tuple(core.ShapedArray(tuple(a.shape), a.dtype) for a in out_avals)
    return diff_p.bind(
        *operands,
        kind=kind,
        primal=primal,
        activity=tuple(str(a) for a in activity),
        ret_activity=tuple(str(a) for a in ret_activity),
        width=int(width),
        out_avals=avals,
        derivative=derivative,
        name=name,
    )


def _diff_impl(*xs: Any, derivative: Any, **_: Any) -> list[Any]:
    return list(derivative(*xs))


def _diff_abstract_eval(*_: Any, out_avals: tuple, **__: Any) -> list[core.ShapedArray]:
    return list(out_avals)


def _derivative_code(derivative: Any) -> Callable:
    def run(*xs: Any, **_: Any) -> list[Any]:
        return list(derivative.fn(*xs))

    return run


def _diff_default_lowering(ctx: mlir.LoweringRuleContext, *args: ir.Value, derivative: Any, **_: Any) -> Sequence[Any]:
    return mlir.lower_fun(_derivative_code(derivative), multiple_results=True)(ctx, *args)


def _vmapped(fn: Callable, args: Sequence[Any], dims: Sequence[Any]) -> tuple[list[Any], list[int]]:
    in_axes = [d if isinstance(d, int) else None for d in dims]  # None: not mapped
    out = jax.vmap(lambda *xs: list(fn(*xs)), in_axes=in_axes)(*args)
    return list(out), [0] * len(out)


def _diff_batch(args: Sequence[Any], dims: Sequence[Any], *, derivative: Any, **_: Any) -> tuple[list[Any], list[int]]:
    """jax.vmap over a zymase derivative: the derivative's code, vmapped."""
    return _vmapped(_derivative_code(derivative), args, dims)


def _define(prim: core.Primitive, impl: Callable, abstract_eval: Callable, lowering: Callable, batch: Callable, jvp: Callable) -> None:
    """What jax needs of a zymase primitive: evaluation, shapes, its default lowering (the
    compiled derivative's lax code), batching and differentiation rules."""
    prim.def_impl(impl)
    prim.def_abstract_eval(abstract_eval)
    mlir.register_lowering(prim, lowering)
    batching.primitive_batchers[prim] = batch
    ad.primitive_jvps[prim] = jvp


def _jvp_of(fn: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    tangents = [ad.instantiate_zeros(t) for t in tangents]
    outs, t_outs = jax.jvp(lambda *xs: list(fn(*xs)), tuple(primals), tuple(tangents))
    return list(outs), list(t_outs)


def _diff_jvp(primals: Sequence[Any], tangents: Sequence[Any], *, derivative: Any, **_: Any) -> tuple[list[Any], list[Any]]:
    """jax.jvp (and so jax.grad) over a zymase derivative: jax differentiates its code."""
    return _jvp_of(_derivative_code(derivative), primals, tangents)


_define(diff_p, _diff_impl, _diff_abstract_eval, _diff_default_lowering, _diff_batch, _diff_jvp)


def _emit_primal(ctx: mlir.LoweringRuleContext, name: str, primal: core.ClosedJaxpr) -> str:
    """``primal`` as a private function of the module being lowered (with zymase's
    lowering rules, so that enzyme ops nested in it become markers too); its name."""
    fn = mlir.lower_called_computation(name, primal, ctx.module_context, 0, primal.in_avals, primal.out_avals, ctx.tokens_in.subset([]))[0]
    fn.attributes["sym_visibility"] = ir.StringAttr.get("private")
    return ir.StringAttr(fn.attributes["sym_name"]).value


def _strings(values: Sequence[str]) -> ir.Attribute:
    return ir.ArrayAttr.get([ir.StringAttr.get(v) for v in values])


@override(diff_p)
def _diff_zymase_lowering(
    ctx: mlir.LoweringRuleContext,
    *args: ir.Value,
    kind: str,
    primal: core.ClosedJaxpr,
    activity: tuple[str, ...],
    ret_activity: tuple[str, ...],
    width: int,
    out_avals: tuple,
    derivative: Any,
    name: str,
) -> Sequence[Any]:
    if primal.effects:
        return _diff_default_lowering(ctx, *args, derivative=derivative)
    fn = _emit_primal(ctx, f"zymase_{name}", primal)
    attrs = {"fn": ir.FlatSymbolRefAttr.get(fn), "activity": _strings(activity), "ret_activity": _strings(ret_activity)}
    if width != 1:
        attrs["width"] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), width)
    return marker(ctx, kind, list(args), attributes=attrs)


# ============================================================================ program_p

program_p = core.Primitive("zymase_program")
program_p.multiple_results = True


def bind_program(operands: Sequence[Any], *, body: core.ClosedJaxpr, compiled: Any) -> list[Any]:
    """The results of a transformed program: ``body`` (a jaxpr that binds ``diff_p``) on
    flat operands; ``compiled`` is ``body`` compiled by zymase as one module (flat in,
    flat out; ``.fn`` its lax function)."""
    return program_p.bind(*operands, body=body, compiled=compiled)


def _program_impl(*xs: Any, compiled: Any, **_: Any) -> list[Any]:
    return list(compiled(*xs))


def _program_abstract_eval(*_: Any, body: core.ClosedJaxpr, **__: Any) -> list[core.AbstractValue]:
    return list(body.out_avals)


def _program_default_lowering(ctx: mlir.LoweringRuleContext, *args: ir.Value, compiled: Any, **_: Any) -> Sequence[Any]:
    return mlir.lower_fun(_derivative_code(compiled), multiple_results=True)(ctx, *args)


def _program_batch(args: Sequence[Any], dims: Sequence[Any], *, compiled: Any, **_: Any) -> tuple[list[Any], list[int]]:
    return _vmapped(_derivative_code(compiled), args, dims)


def _program_jvp(primals: Sequence[Any], tangents: Sequence[Any], *, compiled: Any, **_: Any) -> tuple[list[Any], list[Any]]:
    return _jvp_of(_derivative_code(compiled), primals, tangents)


_define(program_p, _program_impl, _program_abstract_eval, _program_default_lowering, _program_batch, _program_jvp)


@override(program_p)
def _program_zymase_lowering(ctx: mlir.LoweringRuleContext, *args: ir.Value, body: core.ClosedJaxpr, compiled: Any) -> Sequence[Any]:
    """Inside a program zymase lowers, the body itself (its enzyme ops then nest)."""
    return mlir.lower_fun(core.jaxpr_as_fun(body), multiple_results=True)(ctx, *args)


__all__ = ["ENZYME_OPS", "bind_diff", "bind_program", "diff_p", "program_p"]
