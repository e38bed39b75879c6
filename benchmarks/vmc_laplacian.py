"""Laplacian of a neural network as in NN-based VMC (the seed's "CPU Laplacian of NN").

log|ψ|(x) = an MLP d → 256 → 256 → 256 → 1 with tanh, for d in {12, 48, 96}; the Laplacian
∑ᵢ ∂²log|ψ|/∂xᵢ² for 128 walkers (jax.vmap over walkers, parameters shared).

jax: the trace of jax.hessian (jacfwd of grad) — the baseline; a jvp-over-grad loop
(lax.fori_loop over the d directions); folx.forward_laplacian when folx is installed.
zymase: zymase.laplacian (the forward-Laplacian mode, enzyme.fwdlaplace: one forward
pass carrying each value, its gradient with respect to x and its Laplacian); the trace of
zymase.hessian; zymase.jvp over zymase.grad (vmapped over the d directions);
zymase.fwddiff with width d over zymase.grad (one forward pass carrying all d tangent
directions through zymase's generated gradient).

``VMC_DIMS=12,96`` (environment) runs only those d.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

import zymase

from .harness import Row, Variant, measure
from .vector_norm import scaling_plot

NAME = "vmc_laplacian"
WALKERS = 128


def logpsi(x, params):
    h = x
    for w, b in params[:-1]:
        h = jnp.tanh(h @ w + b)
    w, b = params[-1]
    return (h @ w + b)[0]


def make_params(rs: np.random.RandomState, d: int, width: int):
    sizes = [d, width, width, width, 1]
    return [(jnp.asarray(rs.randn(m, n) / np.sqrt(m), jnp.float32), jnp.asarray(0.1 * rs.randn(n), jnp.float32)) for m, n in zip(sizes[:-1], sizes[1:])]


def lap_jax_hessian(x, params):
    return jnp.trace(jax.hessian(logpsi)(x, params))


def lap_jax_jvp_loop(x, params):
    g = jax.grad(logpsi)
    d = x.shape[0]

    def body(i, acc):
        e = jnp.zeros_like(x).at[i].set(1.0)
        return acc + jax.jvp(lambda x: g(x, params), (x,), (e,))[1][i]

    return jax.lax.fori_loop(0, d, body, jnp.zeros((), x.dtype))


def lap_zymase_hessian(x, params):
    return jnp.trace(zymase.hessian(logpsi)(x, params))


def make_zymase_jvp_over_grad():
    g = zymase.grad(logpsi)

    def lap(x, params):
        eye = jnp.eye(x.shape[0], dtype=x.dtype)
        cols = jax.vmap(lambda e: zymase.jvp(lambda x: g(x, params), (x,), (e,))[1])(eye)
        return jnp.sum(cols * eye)

    return lap


def make_zymase_fwddiff_over_grad(d: int, n_params: int):
    g = zymase.grad(logpsi)

    def grad_flat(x, *flat):
        return g(x, list(zip(flat[::2], flat[1::2])))

    fw = zymase.fwddiff(grad_flat, ["enzyme_dup"] + ["enzyme_const"] * n_params, ["enzyme_dupnoneed"], width=d)

    def lap(x, params):
        flat = [a for wb in params for a in wb]
        (t,) = fw(x, jnp.eye(d, dtype=x.dtype), *flat)
        return jnp.trace(t)

    return lap


def folx_laplacian():
    """folx.forward_laplacian, or None (with the reason) when folx is not installed or fails."""
    try:
        import folx
    except Exception as e:  # not installed, or incompatible with this jax
        return None, f"folx unavailable ({type(e).__name__}: {e})"

    def lap(x, params):
        return folx.forward_laplacian(lambda x: logpsi(x, params))(x).laplacian

    return lap, ""


def batched(fn, params):
    """jit(vmap over walkers) of ``x -> fn(x, params)``, ``params`` constants of the program.

    Every variant, jax's included, closes over concrete parameters; the variant
    "trace(zymase.hessian), params traced" takes them as jit arguments instead (zymase
    hoists the closed-over tracers into constant arguments of its program)."""
    return jax.jit(jax.vmap(lambda x: fn(x, params)))


def run(mode: str = "full") -> dict:
    dims = {"tiny": (3,), "quick": (12, 48), "full": (12, 48, 96)}[mode]
    if os.environ.get("VMC_DIMS"):  # e.g. VMC_DIMS=96: one d at a time
        dims = tuple(int(v) for v in os.environ["VMC_DIMS"].split(","))
    width = 16 if mode == "tiny" else 256
    walkers = 4 if mode == "tiny" else WALKERS
    runs = {"tiny": 1, "quick": 20, "full": 30}[mode]
    rows: list[Row] = []
    notes: list[str] = []
    for d in dims:
        rs = np.random.RandomState(d)
        params = make_params(rs, d, width)
        x = jnp.asarray(rs.randn(walkers, d), jnp.float32)
        args = (x,)
        variants = [
            Variant("trace(jax.hessian)", batched(lap_jax_hessian, params), args, kind="jax"),
            Variant("jax.jvp over jax.grad (loop)", batched(lap_jax_jvp_loop, params), args, kind="jax"),
        ]
        folx_fn, why = folx_laplacian()
        if folx_fn is not None:
            variants.append(Variant("folx.forward_laplacian", batched(folx_fn, params), args, kind="jax"))
        elif why not in notes:
            notes.append(why)
            print(f"note: {why}; skipping the folx variant")
        variants += [
            Variant("zymase.laplacian (forward Laplacian)", batched(zymase.laplacian(logpsi), params), args),
            Variant("zymase.fwddiff(width d) over zymase.grad", batched(make_zymase_fwddiff_over_grad(d, 2 * len(params)), params), args),
            Variant("zymase.jvp over zymase.grad", batched(make_zymase_jvp_over_grad(), params), args),
            Variant("trace(zymase.hessian)", batched(lap_zymase_hessian, params), args),
            Variant("trace(zymase.hessian), params traced", jax.jit(jax.vmap(lap_zymase_hessian, in_axes=(0, None))), (x, params), note="params are jit arguments"),
        ]
        got = measure(NAME, f"d = {d}, {walkers} walkers, width {width}", variants, runs=runs)
        for r in got:
            r.extra["d"] = d
        rows += got
    return {"rows": rows, "plots": [scaling_plot(rows, "vmc_laplacian.png", f"Laplacian of a 3x{width} tanh MLP, {walkers} walkers", "d")], "notes": notes}
