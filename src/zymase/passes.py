"""The passes zymase-opt knows, by name: xDSL's generic ones for now, zymase's own later.

Each entry maps a pass name to a function returning the pass class (xDSL's convention,
so a pass module is only imported when the pass is asked for). Add yours to the dict.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.passes import ModulePass


def _canonicalize() -> type[ModulePass]:
    from xdsl.transforms.canonicalize import CanonicalizePass

    return CanonicalizePass


def _cse() -> type[ModulePass]:
    from xdsl.transforms.common_subexpression_elimination import CommonSubexpressionElimination

    return CommonSubexpressionElimination


def _dce() -> type[ModulePass]:
    from xdsl.transforms.dead_code_elimination import DeadCodeElimination

    return DeadCodeElimination


def _licm() -> type[ModulePass]:
    from xdsl.transforms.loop_invariant_code_motion import LoopInvariantCodeMotionPass

    return LoopInvariantCodeMotionPass


def _scf_for_loop_unroll() -> type[ModulePass]:
    from xdsl.transforms.scf_for_loop_unroll import ScfForLoopUnrollPass

    return ScfForLoopUnrollPass


def _control_flow_hoist() -> type[ModulePass]:
    from xdsl.transforms.control_flow_hoist import ControlFlowHoistPass

    return ControlFlowHoistPass


def _enzyme() -> type[ModulePass]:
    from .ad.enzyme_pass import EnzymePass

    return EnzymePass


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
    "cse": _cse,  # common-subexpression elimination
    "dce": _dce,  # removes unused pure ops
    "licm": _licm,  # hoists loop-invariant pure ops out of scf.for
    "scf-for-loop-unroll": _scf_for_loop_unroll,  # fully unrolls scf.for with constant bounds
    "control-flow-hoist": _control_flow_hoist,  # hoists speculatable ops out of scf.if
    "enzyme": _enzyme,  # generates diffe<fn> / fwddiffe<fn> for enzyme.autodiff / enzyme.fwddiff
    "print-activity-analysis": _print_activity_analysis,  # prints the activity of each value of each differentiated function
}


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Pass name -> function returning the pass class, for zymase-opt's ``-p``."""
    return dict(PASSES)


__all__ = ["PASSES", "get_all_passes"]
