"""The ``inline`` pass: inlines calls to private functions and drops private functions
nothing calls any more.

JAX wraps many jnp functions (``jnp.where``, ``jnp.clip``, nested ``jax.jit`` ...) in
private functions; inlining them lets the rewrite rules and the AD engine see the whole
program at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, SymbolRefAttr, UnknownLoc
from xdsl.ir import Attribute, Operation
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from ..ir.enzyme import CUSTOM_RULE_ATTRS


def calls_itself(fn: func.FuncOp, funcs: dict[str, func.FuncOp], seen: set[str] | None = None) -> bool:
    seen = seen if seen is not None else set()
    name = fn.sym_name.data
    if name in seen:
        return True
    seen = seen | {name}
    for op in fn.walk():
        if isinstance(op, func.CallOp):
            callee = funcs.get(op.callee.root_reference.data)
            if callee is not None and calls_itself(callee, funcs, seen):
                return True
    return False


def keeps_call(fn: func.FuncOp) -> bool:
    """A function with a custom derivative rule stays a call: inlined, its rule would be lost."""
    return any(k in fn.attributes for k in CUSTOM_RULE_ATTRS)


def rule_functions(fn: func.FuncOp) -> set[str]:
    """The functions ``fn``'s custom rule attributes name."""
    return {a.root_reference.data for k, a in fn.attributes.items() if k in CUSTOM_RULE_ATTRS and isinstance(a, SymbolRefAttr)}


def inline_calls(module: ModuleOp, only_private: bool = True) -> int:
    funcs = {op.sym_name.data: op for op in module.ops if isinstance(op, func.FuncOp)}
    recursive = {name for name, fn in funcs.items() if calls_itself(fn, funcs)}
    count = 0
    changed = True
    while changed:
        changed = False
        calls = [op for op in module.walk() if isinstance(op, func.CallOp)]
        for call in calls:
            name = call.callee.root_reference.data
            callee = funcs.get(name)
            if callee is None or name in recursive or not callee.body.blocks or keeps_call(callee):
                continue
            if only_private and (callee.sym_visibility is None or callee.sym_visibility.data != "private"):
                continue
            inline_call(call, callee)
            count += 1
            changed = True
    used = {op.callee.root_reference.data for op in module.walk() if isinstance(op, func.CallOp)}
    used |= {op.fn.root_reference.data for op in module.walk() if hasattr(op, "fn") and op.name.startswith("enzyme.")}
    for name, fn in funcs.items():
        if name in used:
            used |= rule_functions(fn)
    for name, fn in funcs.items():
        private = fn.sym_visibility is not None and fn.sym_visibility.data == "private"
        if private and name not in used:
            fn.detach()
            fn.erase()
    return count


def inline_call(call: func.CallOp, callee: func.FuncOp) -> None:
    body = callee.body.blocks.first
    mapping = dict(zip(body.args, call.operands))
    where = InsertPoint.before(call)
    results = None
    for op in body.ops:
        if isinstance(op, func.ReturnOp):
            results = [mapping.get(v, v) for v in op.operands]
            break
        new: Operation = op.clone(value_mapper=mapping)
        _locate(new, call.location)
        Rewriter.insert_op(new, where)
    assert results is not None
    for old, new in zip(call.results, results):
        old.replace_all_uses_with(new)
    call.detach()
    call.erase()


def _locate(op: Operation, site: Attribute) -> None:
    """Give ``op`` and the ops nested in it the call site's location where they have
    none: jax drops the user's frame inside its own jit-wrapped helpers (``jnp.linalg``,
    ``jnp.where`` ...), and an error about an inlined op should still point at the user's
    line that called the helper."""
    if isinstance(site, UnknownLoc):
        return
    for o in op.walk():
        if isinstance(o.location, UnknownLoc):
            o.location = site


@dataclass(frozen=True)
class InlinePass(ModulePass):
    """Inline calls to private functions."""

    name = "inline"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        inline_calls(op)
