"""Vector normalisation in a loop (the seed's case study: differentiating after
optimization can give an asymptotically faster gradient).

out[i] = x[i] / norm(x) written as a jax.lax.fori_loop over i, so the norm is recomputed
in every iteration (O(n²)); loss = dot(out, c), float32, gradient with respect to x, for
n = 1000 ... 8000. zymase hoists the norm out of the loop and raises the loop, whose
iterations are independent, to whole-array ops before differentiating.

The bound is the vectorized, hand-hoisted program `jax.grad(lambda x, c: dot(x / norm(x), c))`.
"zymase.grad, rules off" is ZYMASE_OPT=0 (no rewrite rules: no hoisting, no raising).
The notes give the fitted slope of log(time) against log(n) for each variant (1 = linear).
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


def loss(x, c):
    return jnp.dot(normalize(x), c)


def loss_vectorized(x, c):
    return jnp.dot(x / jnp.sqrt(jnp.sum(x * x)), c)


def run(mode: str = "full") -> dict:
    sizes = {"tiny": (16,), "quick": (1000, 2000, 4000, 8000), "full": (1000, 2000, 4000, 8000)}[mode]
    runs = {"tiny": 1, "quick": 10, "full": 30}[mode]
    rows: list[Row] = []
    for n in sizes:
        rs = np.random.RandomState(n)
        x = jnp.asarray(rs.rand(n) + 0.5, jnp.float32)
        c = jnp.asarray(rs.randn(n), jnp.float32)
        args = (x, c)
        variants = [
            Variant("jax.grad", jax.jit(jax.grad(loss)), args, kind="jax"),
            Variant("zymase.grad", jax.jit(zymase.grad(loss)), args),
            Variant("zymase.grad, rules off", jax.jit(zymase.grad(loss)), args, env={"ZYMASE_OPT": "0"}),
            Variant("vectorized hand-hoisted (jax.grad)", jax.jit(jax.grad(loss_vectorized)), args, kind="bound"),
        ]
        if n > 4000 and mode != "full":
            variants.pop(2)  # O(n²) without the rules: skip the slowest at quick sizes
        rows += measure(NAME, f"gradient, n = {n}", variants, runs=runs)
        for r in rows[-len(variants):]:
            r.extra["n"] = n
    return {
        "rows": rows,
        "plots": [scaling_plot(rows, "vector_norm.png", "Vector normalisation in a fori_loop: gradient", "n")],
        "notes": slope_notes(rows, "n"),
    }


def slope_notes(rows: list[Row], xkey: str) -> list[str]:
    """The least-squares slope of log(median) against log(xkey), per variant."""
    series = _series(rows, xkey)
    notes = []
    for name, pts in series.items():
        if len(pts) >= 2:
            xs, ys = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
            slope = float(np.polyfit(xs, ys, 1)[0])
            notes.append(f"{name}: time grows as {xkey}^{slope:.2f} ({xkey} = {', '.join(str(int(p[0])) for p in pts)})")
    return notes


def _series(rows: list[Row], xkey: str) -> dict[str, list[tuple[float, float]]]:
    series: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        if r.median_s is not None and xkey in r.extra:
            series.setdefault(r.variant, []).append((r.extra[xkey], r.median_s))
    return series


def scaling_plot(rows: list[Row], file: str, title: str, xkey: str) -> dict:
    return {"file": file, "title": title, "xlabel": xkey, "ylabel": "median time (s)", "series": _series(rows, xkey), "loglog": True}
