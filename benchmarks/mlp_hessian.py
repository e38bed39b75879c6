"""Dense Hessian of an MLP loss with respect to its input (issue 13's target: no slower
than jax.hessian).

loss(x) = (w3 · tanh(W2ᵀ tanh(W1ᵀ x + b1) + b2) - y)², x of size n, hidden width h,
float32. jax.hessian (forward over reverse: n Jacobian-vector products of the gradient,
batched with jax.vmap) against zymase.hessian (one module: an enzyme.fwddiff of width n,
seeded with the identity built from iotas, over a function holding enzyme.autodiff of the
loss, differentiated inner level first with the rewrite rules between levels; the
identity times the constant W1 is W1). "zymase.hessian, params traced" takes the weights
as jit arguments (they are then no constants the rules can read); "rules off" compiles
with ZYMASE_OPT=0 (no rewrite rules before, between or after the levels).

The bound is the Hessian written by hand (Gauss-Newton term plus the two curvature
terms of the tanh layers): with D = diag(1 - h²), B = W1 D1 W2 (n x h), g = w3 ⊙ (1 - h2²),
J = B g, r = o - y,
H = 2 J Jᵀ + 2 r (B diag(w3 ⊙ tanh''(a2)) Bᵀ + W1 diag((W2 g) ⊙ tanh''(a1)) W1ᵀ),
tanh''(a) = -2 tanh(a) (1 - tanh(a)²): n h² + 2 n² h multiply-adds.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import zymase

from .harness import Row, Variant, measure

NAME = "mlp_hessian"


def make_params(rs: np.random.RandomState, n: int, h: int) -> tuple:
    w1 = jnp.asarray(rs.randn(n, h) / np.sqrt(n), jnp.float32)
    b1 = jnp.asarray(0.1 * rs.randn(h), jnp.float32)
    w2 = jnp.asarray(rs.randn(h, h) / np.sqrt(h), jnp.float32)
    b2 = jnp.asarray(0.1 * rs.randn(h), jnp.float32)
    w3 = jnp.asarray(rs.randn(h) / np.sqrt(h), jnp.float32)
    return w1, b1, w2, b2, w3


def loss(x, params, y=0.5):
    w1, b1, w2, b2, w3 = params
    h1 = jnp.tanh(x @ w1 + b1)
    h2 = jnp.tanh(h1 @ w2 + b2)
    return (h2 @ w3 - y) ** 2


def analytic_hessian(x, params, y=0.5):
    w1, b1, w2, b2, w3 = params
    h1 = jnp.tanh(x @ w1 + b1)
    h2 = jnp.tanh(h1 @ w2 + b2)
    r = h2 @ w3 - y
    d1, d2 = 1.0 - h1 * h1, 1.0 - h2 * h2
    b = (w1 * d1) @ w2  # da2/dx, (n, h)
    g = w3 * d2  # do/da2
    j = b @ g  # do/dx
    curv2 = w3 * (-2.0 * h2 * d2)  # w3 ⊙ tanh''(a2)
    curv1 = (w2 @ g) * (-2.0 * h1 * d1)  # (W2 g) ⊙ tanh''(a1)
    return 2.0 * (jnp.outer(j, j) + r * ((b * curv2) @ b.T + (w1 * curv1) @ w1.T))


def run(mode: str = "full") -> dict:
    sizes = {"tiny": ((4, 8),), "quick": ((16, 64), (64, 128)), "full": ((16, 64), (64, 128), (128, 256))}[mode]
    runs = {"tiny": 1, "quick": 20, "full": 30}[mode]
    rows: list[Row] = []
    for n, h in sizes:
        rs = np.random.RandomState(n)
        params = make_params(rs, n, h)
        x = jnp.asarray(rs.randn(n), jnp.float32)

        def closed(x):
            return loss(x, params)

        got = measure(NAME, f"input Hessian, n = {n}, h = {h}", [
            Variant("jax.hessian", jax.jit(jax.hessian(closed)), (x,), kind="jax"),
            Variant("zymase.hessian", jax.jit(zymase.hessian(closed)), (x,)),
            Variant("zymase.hessian, rules off", jax.jit(zymase.hessian(closed)), (x,), env={"ZYMASE_OPT": "0"}, note="ZYMASE_OPT=0"),
            Variant("zymase.hessian, params traced", jax.jit(zymase.hessian(loss)), (x, params), note="the weights are jit arguments"),
            Variant("jax.hessian, params traced", jax.jit(jax.hessian(loss)), (x, params), kind="jax", note="the weights are jit arguments"),
            Variant("analytic Hessian", jax.jit(lambda x: analytic_hessian(x, params)), (x,), kind="bound"),
        ], runs=runs)
        for r in got:
            r.extra.update(n=n, h=h)
        rows += got
    return {"rows": rows, "plots": []}
