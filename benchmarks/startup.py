"""Start-up time of ``zymase-opt``: a fresh interpreter per call, as lit and shell users
run it, next to the bound of a bare interpreter that imports xDSL's parser and printer
(what any xDSL-based opt tool must load).

    .venv/bin/python benchmarks/startup.py [--runs 7]

Cases: ``--list-passes``; a pass pipeline (``zymase-hlo-opt,enzyme,cse,dce``) on a small
StableHLO module with an ``enzyme.autodiff``; the same module with ``--run``, which has to
import jax. Calls interleaved, medians of wall and CPU (user + sys of the child) times.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

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


def timed(argv: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    opt = [sys.executable, "-m", "zymase.tools.opt"]
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
        f.write(MODULE)
        path = f.name
    cases = {
        "bound: python -c 'import xdsl parser, printer'": [sys.executable, "-c", "import xdsl.parser, xdsl.printer, xdsl.context"],
        "zymase-opt --list-passes": [*opt, "--list-passes"],
        "zymase-opt -p zymase-hlo-opt,enzyme,cse,dce": [*opt, path, "-p", "zymase-hlo-opt,enzyme,cse,dce"],
        "zymase-opt --run (imports jax)": [*opt, path, "-p", "enzyme", "--run", "dsquare", "--args", "1.0", "1.0"],
    }
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in cases}
    for argv in cases.values():  # warm the file cache
        timed(argv)
    for _ in range(args.runs):
        for name, argv in cases.items():
            times[name].append(timed(argv))
    os.unlink(path)
    print(f"load average {os.getloadavg()[0]:.1f}, {args.runs} runs, medians")
    print("| case | wall | cpu |")
    print("|---|---|---|")
    for name, ts in times.items():
        wall = statistics.median(t[0] for t in ts)
        cpu = statistics.median(t[1] for t in ts)
        print(f"| {name} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
