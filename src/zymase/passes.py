"""zymase's passes and named pass pipelines, by name: the one registry that zymase-opt's
``-p`` and the transformations (``zymase.jit``, ``zymase.grad``, ...) share.

``PASSES`` maps a pass name to a function returning the pass class (xDSL's convention,
so a pass module is only imported when the pass is asked for). ``PIPELINES`` maps a
pipeline name to its pass-pipeline text; each is also a pass of the registry, so
``zymase-opt f.mlir -p zymase-derivative`` parses and runs, through xDSL's
``PassPipeline``, literally the text that ``zymase.grad`` runs (``run_pipeline``).

This module sits above ``ad/``, ``analysis/`` and ``opt/`` (it names their passes), so
none of those import it; ``api.py`` and ``tools/opt.py`` do.

In a named pipeline the enzyme pass cleans up after each level of nested enzyme ops
(``zymase.hessian``, ``zymase.grad(zymase.grad(f))``): it inlines the functions the level
generated (``inline_generated``) and, between levels, runs ``LEVEL_CLEANUP`` (the rewrite
rules, CSE, DCE), so that the outer level differentiates optimized code and the rules see
a forward sweep's seeds together with the code using them. ``zymase-opt -p enzyme``
alone only generates.

Stages of a pipeline run (``imported``, ``optimized-before-ad``, ``after-ad``,
``final``) are observed from ``PassPipeline``'s callback between passes: ``on_stage``,
and ``ZYMASE_DUMP_IR=dir`` writes each stage of each run there. ``ZYMASE_VERIFY=1``
verifies the module after a named pipeline. ``ZYMASE_OPT=0`` drops ``zymase-hlo-opt``
from the named pipelines (for comparisons); inlining, the enzyme pass and the clean-up
still run.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline
from xdsl.utils.arg_spec import parse_pipeline


def _canonicalize() -> type[ModulePass]:
    from xdsl.transforms.canonicalize import CanonicalizePass

    return CanonicalizePass


def _cse() -> type[ModulePass]:
    from .opt.cleanup import CommonSubexpressionElimination

    return CommonSubexpressionElimination


def _dce() -> type[ModulePass]:
    from .opt.cleanup import DeadCodeElimination

    return DeadCodeElimination


def _licm() -> type[ModulePass]:
    from xdsl.transforms.loop_invariant_code_motion import LoopInvariantCodeMotionPass

    return LoopInvariantCodeMotionPass


def _scf_for_loop_unroll() -> type[ModulePass]:
    from xdsl.transforms.scf_for_loop_unroll import ScfForLoopUnrollPass

    return ScfForLoopUnrollPass


def _unroll_counted_loops() -> type[ModulePass]:
    from .ad.unroll import UnrollCountedLoopsPass

    return UnrollCountedLoopsPass


def _control_flow_hoist() -> type[ModulePass]:
    from xdsl.transforms.control_flow_hoist import ControlFlowHoistPass

    return ControlFlowHoistPass


def _enzyme() -> type[ModulePass]:
    from .ad.enzyme_pass import EnzymePass

    return EnzymePass


def _enzyme_batch() -> type[ModulePass]:
    from .ad.enzyme_pass import BatchPass

    return BatchPass


def _loop_checkpoint() -> type[ModulePass]:
    from .ad.rules.checkpoint import LoopCheckpointPass

    return LoopCheckpointPass


def _print_activity_analysis() -> type[ModulePass]:
    from .analysis.print_activity import PrintActivityAnalysisPass

    return PrintActivityAnalysisPass


def _inline() -> type[ModulePass]:
    from .opt.inline import InlinePass

    return InlinePass


def _hlo_opt() -> type[ModulePass]:
    from .opt.pattern import HloOptPass

    return HloOptPass


def _activity_canonicalize() -> type[ModulePass]:
    from .ad.canonicalize import ActivityCanonicalizePass

    return ActivityCanonicalizePass


def _activity_opt() -> type[ModulePass]:
    from .ad.canonicalize import ActivityOptPass

    return ActivityOptPass


PASSES: dict[str, Callable[[], type[ModulePass]]] = {
    "enzyme-activity-canonicalize": _activity_canonicalize,  # demotes enzyme op activities from uses and zero seeds
    "enzyme-activity-opt": _activity_opt,  # ... and from activity analysis of the callee
    "inline": _inline,  # inlines calls to private functions
    "zymase-hlo-opt": _hlo_opt,  # the StableHLO rewrite rules to a fixpoint (options: rules, disable, assume_finite)
    "canonicalize": _canonicalize,  # folders and canonicalization patterns of each op
    "cse": _cse,  # common-subexpression elimination (xDSL's, made cheaper: opt/cleanup.py)
    "dce": _dce,  # removes unused pure ops (xDSL's, made cheaper: opt/cleanup.py)
    "licm": _licm,  # hoists loop-invariant pure ops out of scf.for
    "scf-for-loop-unroll": _scf_for_loop_unroll,  # fully unrolls scf.for with constant bounds
    "unroll-counted-loops": _unroll_counted_loops,  # ... as reverse-mode AD does: only where the unrolled reverse is no larger; no error
    "control-flow-hoist": _control_flow_hoist,  # hoists speculatable ops out of scf.if
    "enzyme": _enzyme,  # generates diffe<fn> / fwddiffe<fn> for enzyme.autodiff / enzyme.fwddiff
    "enzyme-batch": _enzyme_batch,  # replaces enzyme.batch by a call of batched_<fn>, a loop over the batch
    "loop-checkpoint": _loop_checkpoint,  # sets zymase.checkpoint = schedule (binomial, periodic:K) on every stablehlo.while and scf.for
    "print-activity-analysis": _print_activity_analysis,  # prints the activity of each value of each differentiated function
}


PIPELINES: dict[str, str] = {
    "zymase-primal": "inline,zymase-hlo-opt,cse,dce",  # what zymase.jit runs
    "zymase-derivative": "inline,zymase-hlo-opt,cse,enzyme-activity-opt,enzyme,zymase-hlo-opt,cse,dce",  # grad, vjp, jvp, ...
}
"""The named pipelines, as pass-pipeline text: the rewrite rules run on the primal before
AD and on the generated code after it."""


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Pass name -> function returning the pass class: the passes, then the named
    pipelines (for zymase-opt's ``-p`` and ``--list-passes``)."""
    return {**PASSES, **{name: (lambda name=name: _pipeline_pass(name)) for name in PIPELINES}}


# ============================================================================ running a pipeline


def verify_enabled() -> bool:
    """``ZYMASE_VERIFY=1`` (set by the test suite) or ``ZYMASE_DEBUG=1``: verify the module
    after a named pipeline. Off by default: on a 200-layer MLP it costs a second, a third
    of the pipeline's own time."""
    return any(os.environ.get(k, "0") not in ("0", "", "false", "off") for k in ("ZYMASE_VERIFY", "ZYMASE_DEBUG"))


def rules_enabled() -> bool:
    return os.environ.get("ZYMASE_OPT", "1") not in ("0", "false", "off")


def pipeline_text(name: str) -> str:
    """The text the named pipeline runs now: ``PIPELINES[name]``, without
    ``zymase-hlo-opt`` under ``ZYMASE_OPT=0``."""
    text = PIPELINES[name]
    if rules_enabled():
        return text
    return ",".join(str(spec) for spec in parse_pipeline(text) if spec.name != "zymase-hlo-opt")


def _stages_between(prev: ModulePass | None, next: ModulePass | None) -> list[str]:
    """The stages at this point of a pipeline: its input, around the enzyme pass, its end."""
    stages = []
    if prev is None:
        stages.append("imported")
    if next is not None and next.name == "enzyme":
        stages.append("optimized-before-ad")
    if prev is not None and prev.name == "enzyme":
        stages.append("after-ad")
    if next is None:
        stages.append("final")
    return stages


StageCallback = Callable[[str, ModuleOp, str], None]
"""``on_stage(stage, module, comment)``: ``comment`` is an MLIR comment line saying which
pipeline text, up to which pass, produced the stage."""

_RUNS = itertools.count()


def _dump(stage: str, module: ModuleOp, comment: str, run: int) -> None:
    """ZYMASE_DUMP_IR=dir: write every stage of every pipeline run to dir."""
    folder = os.environ.get("ZYMASE_DUMP_IR")
    if not folder:
        return
    from .ir import print_module

    os.makedirs(folder, exist_ok=True)
    name = module.sym_name.data if module.sym_name is not None else "module"
    path = os.path.join(folder, f"{run:04d}_{name}_{stage}.mlir")
    with open(path, "w") as f:
        f.write(comment + "\n" + print_module(module))


def run_pipeline(name: str, module: ModuleOp, on_stage: StageCallback | None = None, ctx: Context | None = None, before_enzyme: str = "") -> str:
    """Run the named pipeline on ``module`` with xDSL's ``PassPipeline``; returns the
    pipeline text it ran. ``on_stage`` sees the module at each stage. ``before_enzyme``:
    pass-pipeline text run just before the enzyme pass (zymase.grad's loop_checkpoint)."""
    text = pipeline_text(name)
    if before_enzyme:
        text = ",".join(before_enzyme + "," + str(spec) if spec.name == "enzyme" else str(spec) for spec in parse_pipeline(text))
    run = next(_RUNS)
    done = 0  # passes run so far

    def between(prev: ModulePass | None, op: ModuleOp, next: ModulePass | None) -> None:
        nonlocal done
        done += prev is not None
        for stage in _stages_between(prev, next):
            where = f"after pass {done} '{prev.name}'" if prev is not None else "before its first pass"
            comment = f"// stage '{stage}' of pipeline {name}, {where}: -p '{text}'"
            _dump(stage, op, comment, run)
            if on_stage is not None:
                on_stage(stage, op, comment)

    pipeline = PassPipeline.parse_spec(get_all_passes(), text, between)
    pipeline = PassPipeline(tuple(_with_level_cleanup(p) for p in pipeline.passes), pipeline.callback)
    pipeline.apply(ctx if ctx is not None else Context(), module)
    if verify_enabled():
        module.verify()
    return text


# ============================================================================ nested enzyme ops

LEVEL_CLEANUP = "zymase-hlo-opt,cse,dce"
"""What a named pipeline's enzyme pass runs between two levels of nested enzyme ops
(``zymase-hlo-opt`` dropped under ZYMASE_OPT=0), after inlining the functions the level
generated."""


def _enclosing_func(op: Any) -> Any:
    from xdsl.dialects import func

    while op is not None and not isinstance(op, func.FuncOp):
        op = op.parent_op()
    return op


def _forwards_only(fn: Any, call: Any) -> bool:
    """``fn``'s body is ``call`` and a return: inlining there gives the rules nothing (the
    entry wrapper the API adds around an enzyme op keeps calling ``diffemain``)."""
    ops = list(fn.body.blocks.first.ops) if fn.body.blocks else []
    return len(ops) == 2 and ops[0] is call


def inline_generated(module: ModuleOp, new: Sequence[str]) -> None:
    """Inline the calls of the private functions ``new`` (those one level of the enzyme
    pass generated) into their callers, so that the rules see the derivative code with
    what surrounds it (a forward sweep's seeds, an inner level's reverse sweep), then drop
    those no longer referenced. Calls in a function that only forwards to them, calls of
    functions with custom rules and recursive calls stay."""
    from xdsl.dialects import func

    from .opt.inline import calls_itself, inline_call, keeps_call

    funcs = {op.sym_name.data: op for op in module.ops if isinstance(op, func.FuncOp)}
    todo = {n for n in new if n in funcs and funcs[n].sym_visibility is not None and funcs[n].sym_visibility.data == "private"}
    todo = {n for n in todo if not keeps_call(funcs[n]) and funcs[n].body.blocks and not calls_itself(funcs[n], funcs)}
    changed = True
    while changed:
        changed = False
        for call in [op for op in module.walk() if isinstance(op, func.CallOp) and op.callee.root_reference.data in todo]:
            caller = _enclosing_func(call)
            if caller is None or _forwards_only(caller, call):
                continue
            inline_call(call, funcs[call.callee.root_reference.data])
            changed = True
    _drop_unreferenced(module)


def _symbols(attr: Any) -> set[str]:
    """The symbols an attribute names (symbol references, also inside arrays and dictionaries)."""
    out: set[str] = set()
    _add_symbols(attr, out)
    return out


_SYMBOL_KIND: dict[type, int] = {}
"""Attribute class -> 1 for a symbol reference, 2 an array, 3 a dictionary, 0 any other."""


def _symbol_kind(cls: type) -> int:
    from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, SymbolRefAttr

    kind = 1 if issubclass(cls, SymbolRefAttr) else 2 if issubclass(cls, ArrayAttr) else 3 if issubclass(cls, DictionaryAttr) else 0
    _SYMBOL_KIND[cls] = kind
    return kind


def _add_symbols(attr: Any, out: set[str]) -> None:
    """Add to ``out`` the symbols ``attr`` names (see ``_symbols``)."""
    kind = _SYMBOL_KIND.get(type(attr))
    if kind is None:
        kind = _symbol_kind(type(attr))
    if kind == 1:
        out.add(attr.root_reference.data)
    elif kind == 2:
        for a in attr.data:
            _add_symbols(a, out)
    elif kind == 3:
        for a in attr.data.values():
            _add_symbols(a, out)


def _drop_unreferenced(module: ModuleOp) -> None:
    """Erase the private functions no public function reaches any more (through calls,
    enzyme ops and custom-rule attributes): a level's differentiated primals and inlined
    derivative functions."""
    from xdsl.dialects import func

    from .opt.inline import rule_functions

    funcs = {op.sym_name.data: op for op in module.ops if isinstance(op, func.FuncOp)}
    todo = [name for name, fn in funcs.items() if fn.sym_visibility is None or fn.sym_visibility.data != "private"]
    reached = set(todo)
    while todo:
        fn = funcs[todo.pop()]
        names = rule_functions(fn)
        for op in fn.walk():
            if op.properties:
                for attr in op.properties.values():
                    _add_symbols(attr, names)
            if op.attributes:
                for attr in op.attributes.values():
                    _add_symbols(attr, names)
        for name in names:
            if name in funcs and name not in reached:
                reached.add(name)
                todo.append(name)
    for name, fn in funcs.items():
        if name not in reached:
            fn.detach()
            fn.erase()


def _level_cleanup(ctx: Context) -> Callable[[ModuleOp, list[str], bool], None]:
    """The enzyme pass's clean-up in a named pipeline: after each level, inline what it
    generated; between levels, also run ``LEVEL_CLEANUP``."""

    def after_level(module: ModuleOp, new: list[str], last: bool) -> None:
        inline_generated(module, new)
        if last:
            return
        text = LEVEL_CLEANUP if rules_enabled() else ",".join(p for p in LEVEL_CLEANUP.split(",") if p != "zymase-hlo-opt")
        PassPipeline.parse_spec(get_all_passes(), text).apply(ctx, module)

    return after_level


def _with_level_cleanup(p: ModulePass) -> ModulePass:
    """In a named pipeline, the enzyme pass cleans up after each level of nested enzyme
    ops (``zymase-opt -p enzyme`` alone only generates)."""
    if p.name != "enzyme":  # (the enzyme pass's module is imported only when it runs)
        return p
    from .ad.enzyme_pass import EnzymePass

    if type(p) is not EnzymePass:
        return p
    return _LeveledEnzyme()


_LEVELED: list[type[ModulePass]] = []


def _LeveledEnzyme() -> ModulePass:
    if not _LEVELED:
        from .ad.enzyme_pass import EnzymePass

        @dataclass(frozen=True)
        class LeveledEnzymePass(EnzymePass):
            """The enzyme pass of the named pipelines: inlines the functions each level of
            nested enzyme ops generated, and optimizes between levels."""

            def after_level(self, ctx: Context) -> Callable[[ModuleOp, list[str], bool], None]:
                return _level_cleanup(ctx)

        _LEVELED.append(LeveledEnzymePass)
    return _LEVELED[0]()


@dataclass(frozen=True)
class NamedPipelinePass(ModulePass):
    """A named pipeline as a pass of the registry: ``-p zymase-derivative`` runs
    ``run_pipeline("zymase-derivative", ...)``, the API's own call."""

    name: ClassVar[str] = "zymase-pipeline"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        run_pipeline(self.name, op, ctx=ctx)


_PIPELINE_PASSES: dict[str, type[ModulePass]] = {}


def _pipeline_pass(name: str) -> type[ModulePass]:
    cls = _PIPELINE_PASSES.get(name)
    if cls is None:
        doc = f"The named pipeline {name}: {PIPELINES[name]}"
        cls = _PIPELINE_PASSES[name] = dataclass(frozen=True)(type(f"Pipeline_{name.replace('-', '_')}", (NamedPipelinePass,), {"name": name, "__doc__": doc}))
    return cls


__all__ = ["PASSES", "PIPELINES", "get_all_passes", "pipeline_text", "run_pipeline", "rules_enabled", "verify_enabled"]
