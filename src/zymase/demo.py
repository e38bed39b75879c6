"""``make demo``: a small JAX MLP through zymase and back, checked against JAX.

It lowers the MLP's loss and its gradient through zymase (import to StableHLO on xDSL,
enzyme reverse mode, emission back to jax.lax), prints the imported IR, and compares
the results with jax.jit and jax.grad.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

import zymase


def mlp_loss(params, x, y):
    h = x
    for w, b in params[:-1]:
        h = jnp.tanh(h @ w + b)
    w, b = params[-1]
    pred = h @ w + b
    return jnp.mean((pred - y) ** 2)


def main() -> None:
    rng = np.random.RandomState(0)
    sizes = [4, 16, 16, 1]
    params = [(jnp.asarray(rng.randn(m, n) / np.sqrt(m), jnp.float32), jnp.zeros(n, jnp.float32)) for m, n in zip(sizes[:-1], sizes[1:])]
    x = jnp.asarray(rng.rand(32, 4), jnp.float32)
    y = jnp.sum(x**2, axis=1, keepdims=True)

    program = zymase.lower(mlp_loss, params, x, y)
    print("== the MLP loss as zymase imports it (StableHLO on xDSL) ==")
    print(program.as_text())

    rows = []
    for name, ours, ref in (
        ("loss (zymase.jit vs jax.jit)", zymase.jit(mlp_loss), jax.jit(mlp_loss)),
        ("gradient (zymase.grad vs jax.grad)", zymase.grad(mlp_loss), jax.jit(jax.grad(mlp_loss))),
    ):
        t0 = time.perf_counter()
        got = jax.block_until_ready(ours(params, x, y))
        t1 = time.perf_counter()
        want = jax.block_until_ready(ref(params, x, y))
        diff = max(float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)))) for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)))
        rows.append((name, diff, t1 - t0))
    print("== results ==")
    for name, diff, first in rows:
        print(f"{name:40s} max |zymase - jax| = {diff:.3e}   first call {first * 1e3:.0f} ms")
    worst = max(d for _, d, _ in rows)
    if worst > 1e-5:
        raise SystemExit(f"zymase disagrees with jax by {worst:.3e}")
    print("zymase agrees with jax.")


if __name__ == "__main__":
    main()
