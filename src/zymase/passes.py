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


PASSES: dict[str, Callable[[], type[ModulePass]]] = {
    "canonicalize": _canonicalize,  # folders and canonicalization patterns of each op
    "cse": _cse,  # common-subexpression elimination
    "dce": _dce,  # removes unused pure ops
    "licm": _licm,  # hoists loop-invariant pure ops out of scf.for
    "scf-for-loop-unroll": _scf_for_loop_unroll,  # fully unrolls scf.for with constant bounds
    "control-flow-hoist": _control_flow_hoist,  # hoists speculatable ops out of scf.if
}


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Pass name -> function returning the pass class, for zymase-opt's ``-p``."""
    return dict(PASSES)


__all__ = ["PASSES", "get_all_passes"]
