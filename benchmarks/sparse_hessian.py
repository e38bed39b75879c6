"""Sparse Hessian (the seed's higher-order slide): f(x) = sum(a·x²), H = diag(2a).

The dense Hessian (jax.hessian vs zymase.hessian, both forward-over-reverse: n
Jacobian-vector products of the gradient) and the Laplacian = trace of the Hessian, for n
up to 4000 (the Laplacian to 8000). zymase's Laplacian variants: zymase.laplacian (the
forward-Laplacian mode: x's gradient is the identity, kept as its diagonal, so the
program is O(n)), the trace of zymase.hessian (up to 4000), and
zymase.fwddiff with width n over zymase.grad (one forward pass carrying all n tangent
directions through the generated gradient), then its trace. "analytic 2·sum(a)" is the
lower bound, written by hand.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import zymase

from .harness import Row, Variant, measure
from .vector_norm import scaling_plot

NAME = "sparse_hessian"


def f(x, a):
    return jnp.sum(a * x * x)


def laplacian_fwddiff_over_grad(n: int):
    g = zymase.grad(f)
    fw = zymase.fwddiff(g, ["enzyme_dup", "enzyme_const"], ["enzyme_dupnoneed"], width=n)

    def lap(x, a):
        (t,) = fw(x, jnp.eye(n, dtype=x.dtype), a)
        return jnp.trace(t)

    return lap


def closing_over(fn, a):
    """``x -> fn(x, a)`` with ``a`` a concrete array (a constant of the jitted program).

    Every variant here, jax's included, takes ``a`` as a constant and only ``x`` as an
    argument; the variant "zymase.hessian, a traced" takes ``a`` as a jit argument instead
    (zymase hoists the closed-over tracer into a constant argument of its program)."""
    return lambda x: fn(x, a)


def run(mode: str = "full") -> dict:
    sizes = {"tiny": (8,), "quick": (500, 1000, 2000), "full": (500, 1000, 2000, 4000, 8000)}[mode]
    runs = {"tiny": 1, "quick": 20, "full": 20}[mode]
    rows: list[Row] = []
    for n in sizes:
        rs = np.random.RandomState(n)
        x = jnp.asarray(rs.randn(n), jnp.float32)
        a = jnp.asarray(rs.rand(n), jnp.float32)
        args = (x,)
        fa = closing_over(f, a)
        dense = n <= 4000  # the n x n variants stop at 4000
        got = []
        if dense:
            got += measure(NAME, f"Hessian, n = {n}", [
                Variant("jax.hessian", jax.jit(jax.hessian(fa)), args, kind="jax"),
                Variant("zymase.hessian", jax.jit(zymase.hessian(fa)), args),
                Variant("zymase.hessian, a traced", jax.jit(zymase.hessian(f)), (x, a), note="a is a jit argument"),
            ], runs=runs)
        lap_variants = [
            Variant("trace(jax.hessian)", jax.jit(lambda x: jnp.trace(jax.hessian(fa)(x))), args, kind="jax"),
            Variant("zymase.laplacian (forward Laplacian)", jax.jit(zymase.laplacian(fa)), args),
            Variant("zymase.laplacian, a traced", jax.jit(zymase.laplacian(f)), (x, a), note="a is a jit argument"),
            Variant("trace(zymase.hessian)", jax.jit(lambda x: jnp.trace(zymase.hessian(fa)(x))), args),
            Variant("zymase.fwddiff(width n) over zymase.grad", jax.jit(closing_over(laplacian_fwddiff_over_grad(n), a)), args),
            Variant("analytic 2·sum(a)", jax.jit(lambda x: 2.0 * jnp.sum(a) + 0.0 * x[0]), args, kind="bound"),
            Variant("analytic 2·sum(a), a traced", jax.jit(lambda x, a: 2.0 * jnp.sum(a) + 0.0 * x[0]), (x, a), kind="bound", note="the bound of the 'a traced' variants"),
        ]
        if not dense:  # n x n work: only the O(n) variants (the baseline is then the bound)
            lap_variants = [v for v in lap_variants if v.name.startswith(("zymase.laplacian", "analytic"))]
        got += measure(NAME, f"Laplacian (trace of the Hessian), n = {n}", lap_variants, runs=runs, baseline=None if dense else "analytic 2·sum(a)")
        for r in got:
            r.extra["n"] = n
        rows += got
    hess = [r for r in rows if r.config.startswith("Hessian")]
    lap = [r for r in rows if r.config.startswith("Laplacian")]
    return {"rows": rows, "plots": [
        scaling_plot(hess, "sparse_hessian.png", "Hessian of sum(a·x²)", "n"),
        scaling_plot(lap, "sparse_laplacian.png", "Laplacian (trace of the Hessian) of sum(a·x²)", "n"),
    ]}
