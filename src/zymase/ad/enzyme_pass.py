"""The ``enzyme`` pass: replaces each enzyme differentiation op (``enzyme.autodiff``,
``enzyme.fwddiff``, ...) by a call to a generated derivative function (``diffe<fn>``,
``fwddiffe<fn>``, ...).

Nested differentiation (a function that contains an enzyme op, itself differentiated)
is done inner level first: ``levels`` orders the ops so that an op is generated only
after every enzyme op reachable from its callee has become a call of a generated
function, which the outer level then differentiates like any other call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter

from ..ir.enzyme import AutoDiffOp, ForwardDiffOp, ForwardLaplaceOp, _DiffOp
from .engine import DiffContext
from .errors import DiffError
from .laplace import fwdlaplace_function


def _forward(ctx: DiffContext, op: ForwardDiffOp) -> str:
    return ctx.forward_function(op.fn.root_reference.data, op.arg_kinds, op.ret_kinds, op.width_value)


def _reverse(ctx: DiffContext, op: AutoDiffOp) -> str:
    return ctx.reverse_function(op.fn.root_reference.data, op.arg_kinds, op.ret_kinds, width=op.width_value)


GENERATORS: dict[type[_DiffOp], Callable[[DiffContext, _DiffOp], str]] = {ForwardDiffOp: _forward, AutoDiffOp: _reverse, ForwardLaplaceOp: fwdlaplace_function}
"""Per enzyme op class: generate (or find) the derivative function of an op and return
its name; the op is then replaced by a call of it with the op's operands."""


def _diff_ops(module: ModuleOp) -> list[_DiffOp]:
    return [op for op in module.walk() if isinstance(op, _DiffOp)]


def levels(module: ModuleOp) -> list[list[_DiffOp]]:
    """The module's enzyme ops by nesting level, innermost first: level 0 holds the ops
    whose callee reaches (through calls and other enzyme ops) no enzyme op; level k the
    ops whose callee reaches ops of levels < k only."""
    funcs = {op.sym_name.data: op for op in module.ops if isinstance(op, func.FuncOp)}
    depth: dict[str, int] = {}

    def func_depth(name: str, visiting: frozenset[str]) -> int:
        """1 + the deepest enzyme op reachable from @name (0 if none)."""
        if name in depth:
            return depth[name]
        fn = funcs.get(name)
        if fn is None or name in visiting:  # external or recursive: no enzyme op below
            return 0
        d = 0
        for inner in fn.walk():
            if isinstance(inner, _DiffOp):
                d = max(d, 1 + func_depth(inner.fn.root_reference.data, visiting | {name}))
            elif isinstance(inner, func.CallOp):
                d = max(d, func_depth(inner.callee.root_reference.data, visiting | {name}))
        depth[name] = d
        return d

    by_level: dict[int, list[_DiffOp]] = {}
    for op in _diff_ops(module):
        by_level.setdefault(func_depth(op.fn.root_reference.data, frozenset()), []).append(op)
    return [by_level[k] for k in sorted(by_level)]


def differentiate_ops(ctx: DiffContext, ops: list[_DiffOp]) -> None:
    """Generate the derivative functions of ``ops`` and replace each op by a call."""
    for op in ops:
        generate = GENERATORS.get(type(op))
        if generate is None:
            raise DiffError(f"'{op.name}': no derivative generator for this op")
        if isinstance(op, AutoDiffOp) and any(f.attributes.get("enzyme.custom_rule") for f in ctx.module.ops if isinstance(f, func.FuncOp)):
            from .rules.custom_reverse import choose_rules  # the enzyme.custom_reverse_rule of each call

            choose_rules(ctx.module, op)
        ctx.strong_zero = bool(getattr(op, "strong_zero_value", False))
        try:
            name = generate(ctx, op)
        finally:
            ctx.strong_zero = False
        call = func.CallOp(name, list(op.inputs), [r.type for r in op.outputs])
        call.location = op.location
        Rewriter.replace_op(op, call)


AfterLevel = Callable[[ModuleOp, list[str], bool], None]
"""``after_level(module, new_functions, last)``: runs after each level of enzyme ops has
been differentiated, with the names of the functions that level added to the module and
whether it was the last level (the named pipelines' clean-up between levels)."""


def _func_names(module: ModuleOp) -> list[str]:
    return [op.sym_name.data for op in module.ops if isinstance(op, func.FuncOp)]


def differentiate_module(module: ModuleOp, between_levels: Callable[[ModuleOp], None] | None = None, after_level: AfterLevel | None = None) -> None:
    """All enzyme ops of ``module``, inner level first; ``between_levels(module)`` runs
    after each level but the last, ``after_level`` after every level (see ``AfterLevel``).

    The levels are recomputed after each one: a hook may rewrite the module (inline the
    generated functions, optimize), and a generated function it removed is generated
    again if a later level asks for it."""
    from ..ir.lower import lower_for_zymase  # affine, scf.parallel, math.sincos: differentiated as what they lower to

    lower_for_zymase(module)
    if any(op.name == "enzyme.batch" for op in module.walk()):
        from ..ir.enzyme_batch import lower_batches  # enzyme.batch: a loop over the batch calling the function

        lower_batches(module)
    ctx = DiffContext(module)
    while True:
        todo = levels(module)
        if not todo:
            return
        before = set(_func_names(module))
        differentiate_ops(ctx, todo[0])
        last = len(todo) == 1
        if between_levels is not None and not last:
            between_levels(module)
        if after_level is not None:
            after_level(module, [n for n in _func_names(module) if n not in before], last)
        existing = set(_func_names(module))
        ctx.generated = {key: name for key, name in ctx.generated.items() if name in existing}


@dataclass(frozen=True)
class BatchPass(ModulePass):
    """Replace each enzyme.batch by a call of a generated ``batched_<fn>`` (a loop over
    the batch; ir/enzyme_batch.py). The enzyme pass does this first too."""

    name = "enzyme-batch"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        from ..ir.enzyme_batch import lower_batches

        lower_batches(op)


@dataclass(frozen=True)
class EnzymePass(ModulePass):
    """Generate derivative functions for enzyme.autodiff and enzyme.fwddiff."""

    name = "enzyme"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        differentiate_module(op, after_level=self.after_level(ctx))

    def after_level(self, ctx: Context) -> AfterLevel | None:
        """The clean-up run after each level: none here (``-p enzyme`` only generates);
        the named pipelines of passes.py run theirs."""
        return None


__all__ = ["AfterLevel", "BatchPass", "EnzymePass", "GENERATORS", "differentiate_module", "differentiate_ops", "levels", "DiffError"]
