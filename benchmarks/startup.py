"""Start-up time of ``zymase-opt``: a fresh interpreter per call, as lit and shell users
run it, next to two bounds: a bare interpreter that imports xDSL's parser and printer
(what any xDSL-based opt tool must load), and xDSL's own opt driver (``xdsl-opt``) running
``canonicalize,cse`` on the same module (its ops unregistered there: generic form).

    .venv/bin/python benchmarks/startup.py [--runs 7]

Cases: ``--list-passes``; pass pipelines on a small StableHLO module (generic form):
``canonicalize,cse``, ``zymase-hlo-opt``, and ``zymase-hlo-opt,enzyme,cse,dce`` on the
module with an ``enzyme.autodiff``; the latter with ``--run``, which has to import jax.
Calls interleaved, medians of wall and CPU (user + sys of the child) times.

``--baseline DIR`` also runs the zymase-opt cases on another source tree (``DIR`` holds
its ``zymase`` package, e.g. ``src`` of ``git archive HEAD``; put first on
``PYTHONPATH``), interleaved with this one: before and after in one run, at one load.

The zymase packages timed are byte-compiled first, as an installed package is: with
``PYTHONDONTWRITEBYTECODE=1`` (or a read-only tree) every edited module would otherwise be
compiled again on every call, which costs more than importing it.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

LAYER = """
func.func @layer(%w: tensor<3x4xf32>, %x: tensor<4xf32>, %b: tensor<f32>) -> tensor<f32> {
  %h = "stablehlo.dot_general"(%w, %x) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>}> : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3xf32>
  %bb = "stablehlo.broadcast_in_dim"(%b) <{broadcast_dimensions = array<i64>}> : (tensor<f32>) -> tensor<3xf32>
  %z = "stablehlo.add"(%h, %bb) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %t = "stablehlo.tanh"(%z) : (tensor<3xf32>) -> tensor<3xf32>
  %t1 = "stablehlo.transpose"(%t) <{permutation = array<i64: 0>}> : (tensor<3xf32>) -> tensor<3xf32>
  %sq = "stablehlo.multiply"(%t1, %t1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %zero = "stablehlo.constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32>
  %s = "stablehlo.reduce"(%sq, %zero) <{dimensions = array<i64: 0>}> ({
  ^bb0(%a: tensor<f32>, %c: tensor<f32>):
    %r = "stablehlo.add"(%a, %c) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    "stablehlo.return"(%r) : (tensor<f32>) -> ()
  }) : (tensor<3xf32>, tensor<f32>) -> tensor<f32>
  "func.return"(%s) : (tensor<f32>) -> ()
}
"""
"""A dense layer in the generic form, which xdsl-opt parses too (as unregistered ops)."""

MODULE = """
func.func @square(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = stablehlo.multiply %x, %x : tensor<4xf32>
  %z = stablehlo.add %y, %x : tensor<4xf32>
  return %z : tensor<4xf32>
}
func.func @dsquare(%x: tensor<4xf32>, %dr: tensor<4xf32>) -> tensor<4xf32> {
  %r = enzyme.autodiff @square(%x, %dr) {activity = [enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
"""


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--baseline", metavar="DIR", help="also time the zymase-opt cases with the zymase package of DIR (first on PYTHONPATH)")
    ap.add_argument("--no-run", action="store_true", help="leave out the --run case (imports jax; seconds per call)")
    args = ap.parse_args()
    opt = [sys.executable, "-m", "zymase.tools.opt"]
    xdsl_opt = [sys.executable, "-m", "xdsl.tools.xdsl_opt"]
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
        f.write(MODULE)
        path = f.name
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
        f.write(LAYER)
        layer = f.name
    cases = {
        "bound: python -c 'import xdsl parser, printer'": [sys.executable, "-c", "import xdsl.parser, xdsl.printer, xdsl.context"],
        "bound: xdsl-opt -p canonicalize,cse (layer)": [*xdsl_opt, layer, "--allow-unregistered-dialect", "-p", "canonicalize,cse"],
        "zymase-opt --list-passes": [*opt, "--list-passes"],
        "zymase-opt -p canonicalize,cse (layer)": [*opt, layer, "-p", "canonicalize,cse"],
        "zymase-opt -p zymase-hlo-opt (layer)": [*opt, layer, "-p", "zymase-hlo-opt"],
        "zymase-opt -p zymase-hlo-opt,enzyme,cse,dce": [*opt, path, "-p", "zymase-hlo-opt,enzyme,cse,dce"],
        "zymase-opt --run (imports jax)": [*opt, path, "-p", "enzyme", "--run", "dsquare", "--args", "1.0", "1.0"],
    }
    if args.no_run:
        del cases["zymase-opt --run (imports jax)"]
    spec = importlib.util.find_spec("zymase")
    packages = [*(spec.submodule_search_locations or [])] if spec else []
    if args.baseline:
        packages.append(os.path.join(args.baseline, "zymase"))
    for package in packages:
        compileall.compile_dir(package, quiet=2)
    envs: dict[str, dict[str, str] | None] = {name: None for name in cases}
    if args.baseline:
        baseline = os.path.abspath(args.baseline)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (baseline, os.environ.get("PYTHONPATH")) if p)}
        for name, argv in list(cases.items()):
            if name.startswith("zymase-opt"):
                cases["before: " + name] = argv
                envs["before: " + name] = env
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in cases}
    for name, argv in cases.items():  # warm the file cache
        timed(argv, envs[name])
    for _ in range(args.runs):
        for name, argv in cases.items():
            times[name].append(timed(argv, envs[name]))
    os.unlink(path)
    os.unlink(layer)
    print(f"load average {os.getloadavg()[0]:.1f}, {args.runs} runs, medians")
    print("| case | wall | cpu |")
    print("|---|---|---|")
    order = [n for name in times if not name.startswith("before: ") for n in ("before: " + name, name) if n in times]
    for name in order:
        wall = statistics.median(t[0] for t in times[name])
        cpu = statistics.median(t[1] for t in times[name])
        print(f"| {name} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
