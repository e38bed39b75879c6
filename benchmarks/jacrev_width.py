"""Jacobian of a vector-valued MLP by batched reverse mode.

f(x) = W3ᵀ tanh(W2ᵀ tanh(W1ᵀ x + b1) + b2), x of size n, hidden width h, m outputs,
float32. jax.jacrev (m vector-Jacobian products batched with jax.vmap) against
zymase.jacrev (one module: identity seeds of the output space built from iotas and one
enzyme.autodiff of width m, whose reverse sweep carries the m cotangents in a leading
dimension), and against what zymase.jacrev did before batched reverse mode: jax.vmap of
zymase's width-1 pullback (the batching rule of zymase's primitive vmaps its code).

    .venv/bin/python -m benchmarks.jacrev_width [--quick | --tiny]

Not in ``CASES`` (run on its own, like this).
"""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import numpy as np

import zymase

from .harness import Row, Variant, fmt_diff, fmt_time, measure

NAME = "jacrev_width"


def make_params(rs: np.random.RandomState, n: int, h: int, m: int) -> tuple:
    w1 = jnp.asarray(rs.randn(n, h) / np.sqrt(n), jnp.float32)
    b1 = jnp.asarray(0.1 * rs.randn(h), jnp.float32)
    w2 = jnp.asarray(rs.randn(h, h) / np.sqrt(h), jnp.float32)
    b2 = jnp.asarray(0.1 * rs.randn(h), jnp.float32)
    w3 = jnp.asarray(rs.randn(h, m) / np.sqrt(h), jnp.float32)
    return w1, b1, w2, b2, w3


def mlp(x, params):
    w1, b1, w2, b2, w3 = params
    return jnp.tanh(jnp.tanh(x @ w1 + b1) @ w2 + b2) @ w3


def vmapped_pullback(f):
    """zymase.jacrev before width N: jax.vmap over zymase's width-1 pullback."""

    def jac(x):
        out, pullback = zymase.vjp(f, x)
        basis = jnp.eye(out.size, dtype=out.dtype).reshape((out.size, *out.shape))
        return jax.vmap(lambda ct: pullback(ct)[0])(basis).reshape((*out.shape, *x.shape))

    return jac


def run(mode: str = "full") -> dict:
    sizes = {"tiny": ((4, 8, 3),), "quick": ((32, 64, 16), (64, 128, 64)), "full": ((32, 64, 16), (64, 128, 64), (128, 256, 128))}[mode]
    runs = {"tiny": 1, "quick": 20, "full": 30}[mode]
    rows: list[Row] = []
    for n, h, m in sizes:
        rs = np.random.RandomState(n + m)
        params = make_params(rs, n, h, m)
        x = jnp.asarray(rs.randn(n), jnp.float32)

        def closed(x):
            return mlp(x, params)

        got = measure(NAME, f"Jacobian m x n, n = {n}, h = {h}, m = {m}", [
            Variant("jax.jacrev", jax.jit(jax.jacrev(closed)), (x,), kind="jax"),
            Variant("zymase.jacrev (width m)", jax.jit(zymase.jacrev(closed)), (x,)),
            Variant("jax.vmap of zymase's pullback", jax.jit(vmapped_pullback(closed)), (x,), note="zymase.jacrev before batched reverse mode"),
            Variant("jax.jacfwd", jax.jit(jax.jacfwd(closed)), (x,), kind="jax", note="forward mode, for scale"),
        ], runs=runs)
        for r in got:
            r.extra.update(n=n, h=h, m=m)
        rows += got
    return {"rows": rows, "plots": []}


if __name__ == "__main__":
    mode = "tiny" if "--tiny" in sys.argv else "quick" if "--quick" in sys.argv else "full"
    for r in run(mode)["rows"]:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        print(f"{r.config:40s} {r.variant:34s} {fmt_time(r.median_s):>10s} x{ratio:>6s}  diff {fmt_diff(r.max_diff)}  {r.error or ''}")
