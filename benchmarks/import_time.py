"""Time to lower + import + emit the gradient of a deep MLP, next to jax's own trace +
lower time for the same function.

    .venv/bin/python benchmarks/import_time.py [--runs 9] [--layers 200] [--width 64] [--profile]

zymase's path: jax.jit(grad).lower (jax trace + lower, inside zymase.lower) -> import the
jaxlib module into xDSL -> build the emitted function and trace it once with
jax.jit(...).lower on the same inputs. jax's path: jax.jit(jax.grad(loss)).lower(...).
Both are measured in one process, interleaved, median of --runs after one warm-up run.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import platform
import pstats
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from zymase.backend import build_function
from zymase.frontend.importer import import_module


def make_problem(layers: int, width: int):
    rs = np.random.RandomState(0)
    params = [
        (rs.randn(width, width).astype(np.float32) / np.sqrt(width), 0.1 * rs.randn(width).astype(np.float32))
        for _ in range(layers)
    ]
    x = rs.randn(16, width).astype(np.float32)

    def loss(params, x):
        for w, b in params:
            x = jnp.tanh(x @ w + b)
        return jnp.mean(x * x)

    return loss, params, x


def jax_lower(loss, params, x) -> float:
    t0 = time.perf_counter()
    jax.jit(jax.grad(loss)).lower(params, x).compiler_ir("stablehlo")
    return time.perf_counter() - t0


def zymase_pipeline(loss, params, x) -> tuple[float, float, float, int]:
    """(jax lower, import, emit) seconds and the op count of the imported module."""
    leaves = jax.tree_util.tree_leaves((params, x))
    t0 = time.perf_counter()
    src = jax.jit(jax.grad(loss), keep_unused=True).lower(params, x).compiler_ir("stablehlo")
    t1 = time.perf_counter()
    module = import_module(src)
    t2 = time.perf_counter()
    fn = build_function(module)
    jax.jit(lambda *a: fn(*a)).lower(*leaves)
    t3 = time.perf_counter()
    n_ops = sum(1 for _ in module.walk()) - 1
    return t1 - t0, t2 - t1, t3 - t2, n_ops


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--layers", type=int, default=200)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--profile", action="store_true", help="cProfile one zymase import + emit")
    args = ap.parse_args()
    loss, params, x = make_problem(args.layers, args.width)

    jax_lower(loss, params, x)  # warm-up
    zymase_pipeline(loss, params, x)
    jax_times, z_lower, z_import, z_emit, z_total = [], [], [], [], []
    n_ops = 0
    for _ in range(args.runs):
        jax_times.append(jax_lower(loss, params, x))
        lo, im, em, n_ops = zymase_pipeline(loss, params, x)
        z_lower.append(lo)
        z_import.append(im)
        z_emit.append(em)
        z_total.append(lo + im + em)

    med = statistics.median
    print(f"machine: {platform.uname().system} {platform.uname().release} {platform.uname().machine}, nproc={__import__('os').cpu_count()}")
    print(f"jax {jax.__version__}; problem: grad of a {args.layers}-layer {args.width}-wide MLP with biases; module ops: {n_ops}")
    print(f"median of {args.runs} interleaved runs after warm-up:")
    print(f"  jax trace + lower (jax.jit(jax.grad(loss)).lower): {med(jax_times) * 1e3:8.1f} ms")
    print(f"  zymase total (lower + import + emit):              {med(z_total) * 1e3:8.1f} ms   ratio {med(z_total) / med(jax_times):.2f}x")
    print(f"    jax lower (inside zymase.lower):                 {med(z_lower) * 1e3:8.1f} ms")
    print(f"    import (jaxlib MLIR -> xDSL):                    {med(z_import) * 1e3:8.1f} ms   ({med(z_import) / n_ops * 1e6:.1f} us/op)")
    print(f"    emit (build + jax.jit(emitted).lower):           {med(z_emit) * 1e3:8.1f} ms   ({med(z_emit) / n_ops * 1e6:.1f} us/op)")

    if args.profile:
        src = jax.jit(jax.grad(loss), keep_unused=True).lower(params, x).compiler_ir("stablehlo")
        leaves = jax.tree_util.tree_leaves((params, x))
        prof = cProfile.Profile()
        prof.enable()
        module = import_module(src)
        fn = build_function(module)
        jax.jit(lambda *a: fn(*a)).lower(*leaves)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue())


if __name__ == "__main__":
    main()
