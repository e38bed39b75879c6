"""Named pass pipelines: what zymase.jit and the AD transformations run.

- primal: inline, the rewrite rules, CSE, DCE;
- derivative: inline, the rewrite rules on the primal (before AD), activity
  canonicalization of the enzyme ops, the enzyme pass, the rewrite rules on the generated
  code (after AD), CSE, DCE.

Stages (``imported``, ``optimized-before-ad``, ``after-ad``, ``final``) can be observed
with ``on_stage``; ``ZYMASE_DUMP_IR=dir`` writes each stage of each compilation there.
``ZYMASE_VERIFY=1`` verifies the module after the derivative pipeline.
``ZYMASE_OPT=0`` turns the rewrite rules off (for comparisons); inlining, the enzyme pass
and the clean-up still run.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from ..passes import get_all_passes


def verify_enabled() -> bool:
    """``ZYMASE_VERIFY=1`` (set by the test suite) or ``ZYMASE_DEBUG=1``: verify the module
    after the derivative pipeline. Off by default: on a 200-layer MLP it costs a second,
    a third of the pipeline's own time."""
    return any(os.environ.get(k, "0") not in ("0", "", "false", "off") for k in ("ZYMASE_VERIFY", "ZYMASE_DEBUG"))


def rules_enabled() -> bool:
    return os.environ.get("ZYMASE_OPT", "1") not in ("0", "false", "off")


_DUMPS = itertools.count()


def _dump(stage: str, module: ModuleOp, compilation: int) -> None:
    """ZYMASE_DUMP_IR=dir: write every stage of every compilation to dir."""
    folder = os.environ.get("ZYMASE_DUMP_IR")
    if not folder:
        return
    from ..ir import print_module

    os.makedirs(folder, exist_ok=True)
    name = module.sym_name.data if module.sym_name is not None else "module"
    path = os.path.join(folder, f"{compilation:04d}_{name}_{stage}.mlir")
    with open(path, "w") as f:
        f.write(print_module(module))


def _run(module: ModuleOp, names: list[str], on_stage: Callable[[str, ModuleOp], None] | None = None) -> None:
    ctx = Context()
    passes = get_all_passes()
    compilation = next(_DUMPS)
    for name in ["@imported", *names]:
        if name.startswith("@"):
            _dump(name[1:], module, compilation)
            if on_stage is not None:
                on_stage(name[1:], module)
            continue
        if name == "zymase-hlo-opt" and not rules_enabled():
            continue
        passes[name]()().apply(ctx, module)


def run_primal_pipeline(module: ModuleOp, on_stage: Callable[[str, ModuleOp], None] | None = None) -> None:
    _run(module, ["inline", "zymase-hlo-opt", "cse", "dce", "@final"], on_stage)


def run_derivative_pipeline(module: ModuleOp, on_stage: Callable[[str, ModuleOp], None] | None = None) -> None:
    _run(
        module,
        [
            "inline",
            "zymase-hlo-opt",
            "cse",
            "enzyme-activity-opt",
            "@optimized-before-ad",
            "enzyme",
            "@after-ad",
            "zymase-hlo-opt",
            "cse",
            "dce",
            "@final",
        ],
        on_stage,
    )
    if verify_enabled():
        module.verify()
