"""First-call time of a gradient: trace + zymase's lowering and pipeline + emission + XLA
compilation + one run, next to jax.jit(jax.grad(f))'s first call (trace + lower + XLA
compilation + one run), on a deep MLP.

    .venv/bin/python benchmarks/first_call.py [--runs 5] [--layers 200] [--width 64]

Each run builds a new loss function (a different scale constant, so neither jax's trace
caches nor XLA's compilation cache can serve it), calls jax's and zymase's gradient once
each, interleaved in one process; medians over the runs, ratio zymase / jax. The bound is
jax's own first call: zymase does all of jax's work (the trace, XLA) plus its own.
Wall time is the figure; the process's CPU time (all threads) is printed next to it, as it
is less disturbed by other processes on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import jax

import zymase

try:
    from import_time import make_problem as mlp_problem  # run as a script from benchmarks/
except ImportError:
    from benchmarks.import_time import make_problem as mlp_problem


def make_problem(layers: int, width: int):
    """import_time.py's MLP and parameters; ``make_loss(scale)`` gives a new loss function
    (scaled by ``scale``) each time, so no cache keyed by function or constant serves it."""
    mlp, params, x = mlp_problem(layers, width)

    def make_loss(scale: float):
        def loss(params, x):
            return mlp(params, x) * scale

        return loss

    return make_loss, params, x


def first_call(fn, params, x) -> float:
    return timed_call(fn, params, x)[0]


def timed_call(fn, params, x) -> tuple[float, float]:
    """(wall, CPU) seconds of one call, until its result is ready."""
    t0, c0 = time.perf_counter(), time.process_time()
    jax.block_until_ready(fn(params, x))
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--layers", type=int, default=200)
    ap.add_argument("--width", type=int, default=64)
    args = ap.parse_args()
    make_loss, params, x = make_problem(args.layers, args.width)

    first_call(jax.jit(jax.grad(make_loss(0.5))), params, x)  # warm-up of both code paths
    first_call(zymase.grad(make_loss(0.25)), params, x)
    jax_times, z_times = [], []
    load_before = os.getloadavg()[0]
    for k in range(args.runs):
        jax_times.append(timed_call(jax.jit(jax.grad(make_loss(1.0 + k))), params, x))
        z_times.append(timed_call(zymase.grad(make_loss(1.0 + k + 0.5)), params, x))
    med = statistics.median
    load = os.getloadavg()[0]
    jw, zw = med(t[0] for t in jax_times), med(t[0] for t in z_times)
    jc, zc = med(t[1] for t in jax_times), med(t[1] for t in z_times)
    print(f"machine: {platform.uname().system} {platform.uname().machine}, nproc={os.cpu_count()}, load average {load_before:.2f} before, {load:.2f} after")
    print(f"jax {jax.__version__}; grad of a {args.layers}-layer {args.width}-wide tanh MLP, first call; median of {args.runs} interleaved runs")
    print(f"  jax.jit(jax.grad(loss)) first call: {jw * 1e3:8.1f} ms wall   {jc * 1e3:8.1f} ms CPU")
    print(f"  zymase.grad(loss) first call:       {zw * 1e3:8.1f} ms wall   {zc * 1e3:8.1f} ms CPU")
    print(f"  ratio zymase / jax:                 {zw / jw:8.2f}x wall     {zc / jc:8.2f}x CPU")


if __name__ == "__main__":
    main()
