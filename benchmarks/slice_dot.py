"""Slice of a dot product (the seed's tensor-algebra example).

x (N×K), y (K), z (N): c = sum((x @ y * z)[0:10] * 4), N = K = 2000, gradients with
respect to x and y. zymase's slice rules move the slice above the multiply and into the
dot, so only x[0:10] @ y is computed (10·K instead of N·K multiply-adds) before and after
differentiation; XLA's cost analysis shows the flops. "zymase, rules off" is the same
gradient with ZYMASE_OPT=0 (the enzyme pass and clean-up only).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import zymase

from .harness import Row, Variant, measure

NAME = "slice_dot"


def slice_of_dot(x, y, z):
    return jnp.sum((x @ y * z)[0:10] * 4.0)


def hand_sliced(x, y, z):
    """The lower bound: the slice moved into the dot by hand."""
    return jnp.sum((x[0:10] @ y) * z[0:10] * 4.0)


def run(mode: str = "full") -> dict:
    n = {"tiny": 64, "quick": 2000, "full": 2000}[mode]
    runs = {"tiny": 1, "quick": 20, "full": 50}[mode]
    rs = np.random.RandomState(0)
    x = jnp.asarray(rs.randn(n, n), jnp.float32)
    y = jnp.asarray(rs.randn(n), jnp.float32)
    z = jnp.asarray(rs.randn(n), jnp.float32)
    args = (x, y, z)
    rows: list[Row] = []
    rows += measure(NAME, f"primal, N = K = {n}", [
        Variant("jax.jit", jax.jit(slice_of_dot), args, kind="jax"),
        Variant("zymase.jit", jax.jit(zymase.jit(slice_of_dot)), args),
        Variant("hand-sliced (jax)", jax.jit(hand_sliced), args, kind="bound"),
    ], runs=runs)
    g = (0, 1)
    rows += measure(NAME, f"gradient wrt x, y, N = K = {n}", [
        Variant("jax.grad", jax.jit(jax.grad(slice_of_dot, g)), args, kind="jax"),
        Variant("zymase.grad", jax.jit(zymase.grad(slice_of_dot, g)), args),
        Variant("zymase.grad, rules off", jax.jit(zymase.grad(slice_of_dot, g)), args, env={"ZYMASE_OPT": "0"}),
        Variant("hand-sliced (jax.grad)", jax.jit(jax.grad(hand_sliced, g)), args, kind="bound"),
    ], runs=runs)
    rows += measure(NAME, f"gradient wrt y, N = K = {n}", [
        Variant("jax.grad", jax.jit(jax.grad(slice_of_dot, 1)), args, kind="jax"),
        Variant("zymase.grad", jax.jit(zymase.grad(slice_of_dot, 1)), args),
        Variant("hand-sliced (jax.grad)", jax.jit(jax.grad(hand_sliced, 1)), args, kind="bound"),
    ], runs=runs)
    return {"rows": rows, "plots": []}
