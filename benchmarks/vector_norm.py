"""Vector normalisation in a loop (the seed's backup slides).

out[i] = x[i] / norm(x) written as a jax.lax.fori_loop over i, so the norm is recomputed
in every iteration (O(n²)); loss = sum(out * w), gradient with respect to x, for
n = 1000, 2000, 4000. zymase's while-loop LICM hoists the norm out of the loop before
differentiation, so the derivative loop does not carry the norm's adjoint per iteration.
"hand-hoisted" computes the norm once before the loop (the lower bound), written in jax.
"zymase.grad, rules off" is ZYMASE_OPT=0 (no rewrite rules, no LICM).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import zymase

from .harness import Row, Variant, measure

NAME = "vector_norm"


def normalize(x):
    def body(i, out):
        return out.at[i].set(x[i] / jnp.sqrt(jnp.sum(x * x)))

    return jax.lax.fori_loop(0, x.shape[0], body, jnp.zeros_like(x))


def normalize_hoisted(x):
    mag = jnp.sqrt(jnp.sum(x * x))

    def body(i, out):
        return out.at[i].set(x[i] / mag)

    return jax.lax.fori_loop(0, x.shape[0], body, jnp.zeros_like(x))


def loss(x, w):
    return jnp.sum(normalize(x) * w)


def loss_hoisted(x, w):
    return jnp.sum(normalize_hoisted(x) * w)


def run(mode: str = "full") -> dict:
    sizes = {"tiny": (16,), "quick": (1000, 2000), "full": (1000, 2000, 4000)}[mode]
    runs = {"tiny": 1, "quick": 20, "full": 30}[mode]
    rows: list[Row] = []
    for n in sizes:
        rs = np.random.RandomState(n)
        x = jnp.asarray(rs.rand(n) + 0.5, jnp.float32)
        w = jnp.asarray(rs.randn(n), jnp.float32)
        args = (x, w)
        rows += measure(NAME, f"gradient, n = {n}", [
            Variant("jax.grad", jax.jit(jax.grad(loss)), args, kind="jax"),
            Variant("zymase.grad", jax.jit(zymase.grad(loss)), args),
            Variant("zymase.grad, rules off", jax.jit(zymase.grad(loss)), args, env={"ZYMASE_OPT": "0"}),
            Variant("hand-hoisted (jax.grad)", jax.jit(jax.grad(loss_hoisted)), args, kind="bound"),
            Variant("hand-hoisted (zymase.grad)", jax.jit(zymase.grad(loss_hoisted)), args, kind="bound"),
        ], runs=runs)
        for r in rows[-5:]:
            r.extra["n"] = n
    return {"rows": rows, "plots": [scaling_plot(rows, "vector_norm.png", "Vector normalisation in a fori_loop: gradient", "n")]}


def scaling_plot(rows: list[Row], file: str, title: str, xkey: str) -> dict:
    series: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        if r.median_s is not None and xkey in r.extra:
            series.setdefault(r.variant, []).append((r.extra[xkey], r.median_s))
    return {"file": file, "title": title, "xlabel": xkey, "ylabel": "median time (s)", "series": series, "loglog": True}
