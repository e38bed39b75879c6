"""KAN networks (the seed's "CUDA KAN network", here on CPU) and an MLP baseline.

10,000 samples x ~ U[0, 1), y = x², float32, MSE loss; primal (the loss) and gradient with
respect to the parameters, ``jax.jit(loss)`` / ``jax.jit(jax.grad(loss))`` against
``jax.jit(zymase.jit(loss))`` / ``jax.jit(zymase.grad(loss))``.

KAN layer: softsign-normalise the input, radial basis exp(-((x - g)/h)²) on 10 grid points
g on [-1, 1] with h = 2/9, an (in·10 × out) coefficient matrix, no bias.
KAN1 = layers 1→40→40→1 with an extra base path W·swish(x) on the un-normalised input;
KAN2 = the same without the base path; MLP = 1→128→128→1 with tanh and biases.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import zymase

from .harness import Row, Variant, measure

NAME = "kan"
GRID = np.linspace(-1.0, 1.0, 10).astype(np.float32)
H = 2.0 / 9.0


def kan_layer(h, coeff, base=None):
    n = h.shape[0]
    normed = h / (1.0 + jnp.abs(h))
    basis = jnp.exp(-(((normed[:, :, None] - GRID) / H) ** 2))  # (n, in, 10)
    out = basis.reshape(n, -1) @ coeff
    if base is not None:
        out = out + (h * jax.nn.sigmoid(h)) @ base
    return out


def kan1(params, x):
    h = x
    for coeff, base in params:
        h = kan_layer(h, coeff, base)
    return h


def kan2(params, x):
    h = x
    for coeff in params:
        h = kan_layer(h, coeff)
    return h


def mlp(params, x):
    h = x
    for w, b in params[:-1]:
        h = jnp.tanh(h @ w + b)
    w, b = params[-1]
    return h @ w + b


def make_loss(model):
    def loss(params, x, y):
        return jnp.mean((model(params, x) - y) ** 2)

    loss.__name__ = f"{model.__name__}_loss"
    return loss


def make_params(name: str, rs: np.random.RandomState, widths: list[int]):
    pairs = list(zip(widths[:-1], widths[1:]))
    if name == "MLP":
        return [(jnp.asarray(rs.randn(m, n) / np.sqrt(m), jnp.float32), jnp.asarray(0.1 * rs.randn(n), jnp.float32)) for m, n in pairs]
    coeffs = [jnp.asarray(rs.randn(m * 10, n) / np.sqrt(m * 10), jnp.float32) for m, n in pairs]
    if name == "KAN2":
        return coeffs
    return [(c, jnp.asarray(rs.randn(m, n) / np.sqrt(m), jnp.float32)) for c, (m, n) in zip(coeffs, pairs)]


MODELS = {"KAN1": (kan1, [1, 40, 40, 1]), "KAN2": (kan2, [1, 40, 40, 1]), "MLP": (mlp, [1, 128, 128, 1])}


def run(mode: str = "full") -> dict:
    samples = {"tiny": 64, "quick": 10_000, "full": 10_000}[mode]
    runs = {"tiny": 1, "quick": 10, "full": 30}[mode]
    models = ("KAN1",) if mode == "tiny" else tuple(MODELS)
    rs = np.random.RandomState(0)
    x = jnp.asarray(rs.rand(samples, 1), jnp.float32)
    y = x**2
    rows: list[Row] = []
    for name in models:
        model, widths = MODELS[name]
        params = make_params(name, rs, widths)
        loss = make_loss(model)
        args = (params, x, y)
        rows += measure(NAME, f"{name} primal, {samples} samples", [
            Variant("jax.jit", jax.jit(loss), args, kind="jax"),
            Variant("zymase.jit", jax.jit(zymase.jit(loss)), args),
        ], runs=runs)
        rows += measure(NAME, f"{name} gradient, {samples} samples", [
            Variant("jax.grad", jax.jit(jax.grad(loss)), args, kind="jax"),
            Variant("zymase.grad", jax.jit(zymase.grad(loss)), args),
        ], runs=runs)
    return {"rows": rows, "plots": []}
