"""Gradient time of zymase.grad next to jax.jit(jax.grad(f)), in one process.

    .venv/bin/python benchmarks/ad_bench.py [--runs 30] [--case mlp|scan_rnn|fori]

Cases (float32):
- mlp: 4 tanh layers 256 wide, batch 256, mean squared output;
- scan_rnn: lax.scan over 100 steps, hidden 128, inputs 64, sum of squared hidden states;
- fori: lax.fori_loop, 200 steps of x = tanh(W x + b), hidden 128, loss sum(x^2).

Variants, all differentiating w.r.t. every parameter:
- jax: jax.jit(jax.grad(loss));
- zymase: zymase.grad(loss), called as a user calls it (its Python wrapper looks the
  derivative up by signature, then calls the jitted emitted function);
- zymase-jit: jax.jit(zymase.grad(loss)) (the wrapper is traced away: the generated code
  alone).

First call (trace, lowering, zymase's pipeline, XLA compilation) is measured for each;
then every variant is warmed up and the variants are timed interleaved, each call
followed by jax.block_until_ready; the median of --runs is reported.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import zymase


def mlp_problem():
    rs = np.random.RandomState(0)
    sizes = [256] * 5
    params = [((rs.randn(m, n) / np.sqrt(m)).astype(np.float32), (0.1 * rs.randn(n)).astype(np.float32)) for m, n in zip(sizes[:-1], sizes[1:])]
    x = rs.randn(256, 256).astype(np.float32)

    def loss(params, x):
        for w, b in params:
            x = jnp.tanh(x @ w + b)
        return jnp.mean(x * x)

    return loss, (params, x)


def scan_rnn_problem():
    rs = np.random.RandomState(1)
    hidden, inputs, steps = 128, 64, 100
    params = {
        "wx": (rs.randn(inputs, hidden) / np.sqrt(inputs)).astype(np.float32),
        "wh": (rs.randn(hidden, hidden) / np.sqrt(hidden)).astype(np.float32),
        "b": (0.1 * rs.randn(hidden)).astype(np.float32),
    }
    xs = rs.randn(steps, inputs).astype(np.float32)

    def loss(params, xs):
        def step(h, x):
            h = jnp.tanh(x @ params["wx"] + h @ params["wh"] + params["b"])
            return h, h

        _, hs = lax.scan(step, jnp.zeros(hidden, jnp.float32), xs)
        return jnp.sum(hs * hs)

    return loss, (params, xs)


def fori_problem():
    rs = np.random.RandomState(2)
    n, steps = 128, 200
    w = (rs.randn(n, n) / np.sqrt(n)).astype(np.float32)
    b = (0.1 * rs.randn(n)).astype(np.float32)
    x0 = rs.randn(n).astype(np.float32)

    def loss(w, b, x0):
        x = lax.fori_loop(0, steps, lambda i, x: jnp.tanh(w @ x + b), x0)
        return jnp.sum(x * x)

    return loss, (w, b, x0)


PROBLEMS = {"mlp": mlp_problem, "scan_rnn": scan_rnn_problem, "fori": fori_problem}


def first_call(fn, args) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return time.perf_counter() - t0, out


def bench(name: str, runs: int) -> dict:
    loss, args = PROBLEMS[name]()
    argnums = tuple(range(len(args)))
    variants = {
        "jax": jax.jit(jax.grad(loss, argnums=argnums)),
        "zymase": zymase.grad(loss, argnums=argnums),
        "zymase-jit": jax.jit(zymase.grad(loss, argnums=argnums)),
    }
    first, outs = {}, {}
    for key, fn in variants.items():
        first[key], outs[key] = first_call(fn, args)
    diff = max(
        float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))) / (np.max(np.abs(np.asarray(b, np.float64))) + 1e-30))
        for a, b in zip(jax.tree_util.tree_leaves(outs["zymase"]), jax.tree_util.tree_leaves(outs["jax"]))
    )
    for fn in variants.values():  # warm-up
        for _ in range(3):
            jax.block_until_ready(fn(*args))
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(runs):
        for key, fn in variants.items():
            t0 = time.perf_counter()
            jax.block_until_ready(fn(*args))
            times[key].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"case": name, "median": med, "first": first, "max_rel_diff": diff}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--case", choices=sorted(PROBLEMS), action="append")
    opts = ap.parse_args()
    print(f"machine: {' '.join(platform.uname())}; nproc = {os.cpu_count()}; jax {jax.__version__}")
    print(f"load average before: {os.getloadavg()}")
    print("| case | jax.jit(jax.grad) | zymase.grad | ratio | jax.jit(zymase.grad) | ratio | first call jax | first call zymase | max rel. diff |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in opts.case or list(PROBLEMS):
        r = bench(name, opts.runs)
        m, f = r["median"], r["first"]
        print(
            f"| {name} | {m['jax'] * 1e3:.3f} ms | {m['zymase'] * 1e3:.3f} ms | {m['zymase'] / m['jax']:.2f}x | "
            f"{m['zymase-jit'] * 1e3:.3f} ms | {m['zymase-jit'] / m['jax']:.2f}x | {f['jax']:.2f} s | {f['zymase']:.2f} s | {r['max_rel_diff']:.1e} |",
            flush=True,
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
