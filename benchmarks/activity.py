"""Activity canonicalization (the seed's "Reverse Mode Activity Canonicalization").

1. The seed's grad_square: enzyme.autodiff of square(x, y) = (x·x, y·y) with every
   argument and result active, of which only o2 and dx are used. Op count of the generated
   module (after enzyme, cse, dce) with and without enzyme-activity-canonicalize.
2. Gradient modules of a few programs of the corpus (tests/corpus.py) through zymase's
   derivative pipeline (zymase-derivative in passes.py) with and without enzyme-activity-opt; op counts
   of the final module, and the time of the emitted code of both versions.

The grad_square row has no timing: its "ratio" is ops with / ops without
canonicalization. The corpus rows time jax.grad (the baseline) and the two zymase versions
and carry the op counts in ``extra["ops"]``.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import jax
import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from .harness import Row, Variant, measure

NAME = "activity"

GRAD_SQUARE = """
func.func @square(%x: f32, %y: f32) -> (f32, f32) {
  %o1 = arith.mulf %x, %x : f32
  %o2 = arith.mulf %y, %y : f32
  func.return %o1, %o2 : f32, f32
}

func.func @grad_square(%x: f32, %y: f32, %do1: f32, %do2: f32) -> (f32, f32) {
  %o1, %o2, %dx, %dy = "enzyme.autodiff"(%x, %y, %do1, %do2) <{fn = @square, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>]}> : (f32, f32, f32, f32) -> (f32, f32, f32, f32)
  func.return %o2, %dx : f32, f32
}
"""

# Corpus programs whose gradients go through the comparison (differentiable, jax.grad-able).
CORPUS = ("mlp_xent_loss", "layernorm", "attention_masked", "scan_rnn", "pytree_nested", "unused_args")


def count_ops(module: ModuleOp, fn: str | None = None) -> int:
    """Ops in the module (or in function ``fn``), not counting the module and functions."""
    from xdsl.dialects.func import FuncOp

    n = 0
    for op in module.walk():
        if isinstance(op, (ModuleOp, FuncOp)):
            continue
        if fn is not None:
            parent = op.parent_op()
            while parent is not None and not isinstance(parent, FuncOp):
                parent = parent.parent_op()
            if parent is None or parent.sym_name.data != fn:
                continue
        n += 1
    return n


def run_passes(module: ModuleOp, names: list[str]) -> None:
    from zymase.passes import get_all_passes

    passes = get_all_passes()
    ctx = Context()
    for name in names:
        passes[name]()().apply(ctx, module)


def grad_square_counts() -> dict[str, int]:
    from zymase.ir import make_context

    out = {}
    for label, names in (("without", ["enzyme", "cse", "dce"]), ("with", ["enzyme-activity-canonicalize", "enzyme", "cse", "dce"])):
        module = Parser(make_context(), GRAD_SQUARE).parse_module()
        run_passes(module, names)
        out[label] = count_ops(module, "diffesquare")
        out[f"{label}_module"] = count_ops(module)
    return out


def _load_corpus():
    path = pathlib.Path(__file__).resolve().parent.parent / "tests" / "corpus.py"
    if "zymase_bench_corpus" in sys.modules:
        return sys.modules["zymase_bench_corpus"]
    spec = importlib.util.spec_from_file_location("zymase_bench_corpus", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["zymase_bench_corpus"] = mod
    spec.loader.exec_module(mod)
    return mod


DERIVATIVE_PIPELINE = ["inline", "zymase-hlo-opt", "cse", "enzyme-activity-opt", "enzyme", "zymase-hlo-opt", "cse", "dce"]


def scalarized(fn):
    """The sum of all floating-point outputs of ``fn`` (a scalar loss to differentiate)."""
    import jax.numpy as jnp

    def loss(*args):
        leaves = [l for l in jax.tree_util.tree_leaves(fn(*args)) if jnp.issubdtype(l.dtype, jnp.floating)]
        return sum(jnp.sum(l) for l in leaves)

    return loss


def gradient_module(fn, args, argnums: tuple[int, ...], canonicalize: bool):
    """zymase.grad's program for ``fn`` (loss seed 1), through the derivative pipeline
    with or without activity canonicalization; returns (module, emitted jax function)."""
    from zymase import api
    from zymase.backend import build_function
    from zymase.frontend import lower
    from zymase.ir.enzyme import ACTIVE, ACTIVENONEED, CONST, AutoDiffOp

    program = lower(fn, *args)
    ranges = api._leaf_ranges(args)
    active = {i for a in argnums for i in ranges[a]}
    arg_kinds = [ACTIVE if i in active else CONST for i in range(len(program.in_avals))]
    api._add_entry(program, AutoDiffOp, arg_kinds, [ACTIVENONEED])
    names = [p for p in DERIVATIVE_PIPELINE if canonicalize or p != "enzyme-activity-opt"]
    run_passes(program.module, names)
    program.module.verify()
    return program.module, build_function(program.module, api.ENTRY)


def run(mode: str = "full") -> dict:
    runs = {"tiny": 1, "quick": 20, "full": 50}[mode]
    names = CORPUS[:1] if mode == "tiny" else CORPUS
    rows: list[Row] = []
    counts = grad_square_counts()
    rows.append(Row(NAME, "seed grad_square: ops of diffesquare", "ops with / without canonicalization", "count",
                    ratio=counts["with"] / counts["without"], extra={"ops_without": counts["without"], "ops_with": counts["with"],
                                                                      "module_ops_without": counts["without_module"], "module_ops_with": counts["with_module"]}))
    corpus = _load_corpus()
    for name in names:
        case = corpus.by_name(name)
        args, kwargs = case.inputs()
        if kwargs or not case.diff_argnums:
            continue
        loss = scalarized(case.fn)
        seed = np.ones((), np.float32)
        nums = case.diff_argnums
        leaves = jax.tree_util.tree_leaves(args)
        grad_leaves = lambda g: jax.tree_util.tree_leaves(g)  # noqa: E731
        variants = [Variant("jax.grad", jax.jit(lambda *a: grad_leaves(jax.grad(loss, nums)(*a))), args, kind="jax")]
        ops = {}
        try:
            for label, canon in (("with canonicalization", True), ("without canonicalization", False)):
                module, fn = gradient_module(loss, args, nums, canon)
                ops[f"zymase.grad {label}"] = count_ops(module)
                variants.append(Variant(f"zymase.grad {label}", jax.jit(lambda *a, fn=fn: list(fn(*jax.tree_util.tree_leaves(a), seed))), args))
        except Exception as e:
            rows.append(Row(NAME, f"corpus {name}", "gradient module", "zymase", error=f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"))
            continue
        got = measure(NAME, f"corpus {name}: gradient (ops with/without canonicalization)", variants, runs=runs)
        for r in got:
            if r.variant in ops:
                r.extra["ops"] = ops[r.variant]
        rows += got
    return {"rows": rows, "plots": []}
