"""Sparse Hessian of a 1-D chain energy f(x) = sum_i (x_{i+1} - x_i)^4 + sin(x_i) (tridiagonal).

zymase.hessian(f, sparse="bcoo") and sparse=True (pattern read off the IR, star coloring:
3 Hessian-vector products whatever n) against jax.hessian (dense: n Hessian-vector
products) and asdex (sparse Hessians in JAX with its own pattern detection and
coloring), in float64. jax.hessian and sparse=True (both build the dense n x n matrix,
2 GB at n = 16000) run up to n = 4000; at n = 16000 asdex is the baseline. BCOO results
are compared entry by entry (as sparse matrices) with the baseline; setup times (asdex's
pattern detection and coloring, zymase's plan) are in each row's first-call time
(``first_s``) and, for asdex, in ``extra["setup_s"]``.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

import zymase
from zymase.analysis.sparsity import unique_sorted

from .harness import Row, Variant, measure
from .vector_norm import scaling_plot

NAME = "sparse_jacobian"
DENSE_LIMIT = 4000  # jax.hessian and sparse=True build the dense matrix: not at n = 16000


def energy(x):
    d = x[1:] - x[:-1]
    return jnp.sum(d**4) + jnp.sum(jnp.sin(x))


def _entries(h, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(flat keys i*n + j, values) of a BCOO or dense (n, n) result, sorted by key, zeros dropped."""
    from jax.experimental.sparse import BCOO

    if isinstance(h, BCOO):
        idx = np.asarray(h.indices, np.int64)
        keys, vals = idx[:, 0] * n + idx[:, 1], np.asarray(h.data, np.float64)
    else:
        dense = np.asarray(h, np.float64).reshape(-1)
        keys = np.nonzero(dense)[0]
        vals = dense[keys]
    order = np.argsort(keys, kind="stable")
    keys, vals = keys[order], vals[order]
    keep = vals != 0
    return keys[keep], vals[keep]


def sparse_diff(a, b, n: int) -> float:
    """max |a - b| over the union of both matrices' entries (BCOO or dense)."""
    ka, va = _entries(a, n)
    kb, vb = _entries(b, n)
    keys = unique_sorted(np.concatenate([ka, kb]))
    xa, xb = np.zeros(keys.size), np.zeros(keys.size)
    xa[np.searchsorted(keys, ka)] = va
    xb[np.searchsorted(keys, kb)] = vb
    return float(np.max(np.abs(xa - xb))) if keys.size else 0.0


def run(mode: str = "full") -> dict:
    sizes = {"tiny": (8,), "quick": (1000, 4000), "full": (1000, 4000, 16000)}[mode]
    runs = {"tiny": 1, "quick": 20, "full": 20}[mode]
    rows: list[Row] = []
    notes = []
    with jax.enable_x64(True):
        try:
            import asdex
        except ImportError:  # the bench extra is not installed: zymase and jax only
            asdex = None
            notes.append("asdex is not installed (pip install -e .[bench]): its rows are missing")
        for n in sizes:
            x = jnp.asarray(np.random.RandomState(n).randn(n), jnp.float64)
            dense = n <= DENSE_LIMIT
            if not dense:
                notes.append(f"n = {n}: jax.hessian and sparse=True skipped (a dense {n}x{n} float64 matrix is {n * n * 8 / 2**30:.1f} GiB)")
            variants = []
            if dense:
                variants.append(Variant("jax.hessian (dense)", jax.jit(jax.hessian(energy)), (x,), kind="jax", compare=False))
            setup = None
            asdex_fn = None
            if asdex is not None:
                t0 = time.perf_counter()
                asdex_fn = jax.jit(asdex.hessian(energy, x))
                setup = time.perf_counter() - t0
            if asdex_fn is not None and not dense:
                variants.append(Variant("asdex.hessian (bcoo)", asdex_fn, (x,), kind="jax", compare=False, note="baseline at this n: no dense Hessian"))
            variants.append(Variant('zymase.hessian(sparse="bcoo")', jax.jit(zymase.hessian(energy, sparse="bcoo")), (x,), compare=False))
            if dense:
                variants.append(Variant("zymase.hessian(sparse=True)", jax.jit(zymase.hessian(energy, sparse=True)), (x,), compare=False, note="dense result"))
            if asdex_fn is not None and dense:
                variants.append(Variant("asdex.hessian (bcoo)", asdex_fn, (x,), kind="jax", compare=False))
            got = measure(NAME, f"Hessian of the chain energy, n = {n}", variants, runs=runs)
            # values: every variant against the first (jax.hessian, or asdex at n = 16000)
            results = {v.name: v.fn(*v.args) for v in variants}
            base = variants[0].name
            for r in got:
                r.extra["n"] = n
                if r.variant.startswith("asdex") and setup is not None:
                    r.extra["setup_s"] = setup
                if r.error is None:
                    r.max_diff = sparse_diff(results[r.variant], results[base], n)
            rows += got
    return {"rows": rows, "notes": notes, "plots": [scaling_plot(rows, "sparse_jacobian.png", "Hessian of a chain energy (float64)", "n")]}


def side_by_side(sizes: tuple[int, ...] = (1000, 4000, 16000), rounds: int = 31, loop: int = 100) -> None:
    """zymase.hessian(sparse="bcoo") / asdex.hessian CPU-time ratios (time.process_time,
    less noisy than wall time on a loaded machine), interleaved in one process, per n:
    whole calls (dispatch included) and the compiled computation alone (``loop``
    evaluations of the data inside one lax.fori_loop, each on a perturbed x)."""
    import statistics

    import asdex

    def looped(h):
        def many(x):
            return jax.lax.fori_loop(0, loop, lambda i, acc: acc + h(x + acc[0] * 1e-300).data, jnp.zeros(h(x).data.shape, x.dtype))

        return jax.jit(many)

    with jax.enable_x64(True):
        for n in sizes:
            x = jnp.asarray(np.random.RandomState(n).randn(n), jnp.float64)
            z, a = jax.jit(zymase.hessian(energy, sparse="bcoo")), jax.jit(asdex.hessian(energy, x))
            for what, fz, fa, reps in (("call", z, a, max(50, 200_000 // n)), ("compute", looped(z), looped(a), 1)):
                for f in (fz, fa):
                    for _ in range(3):
                        jax.block_until_ready(f(x))
                ratios = []
                for r in range(rounds):
                    t = {}
                    for name, f in ((("z", fz), ("a", fa)) if r % 2 else (("a", fa), ("z", fz))):
                        c0 = time.process_time()
                        for _ in range(reps):
                            jax.block_until_ready(f(x))
                        t[name] = time.process_time() - c0
                    ratios.append(t["z"] / t["a"])
                ratios.sort()
                q = len(ratios) // 4
                print(f"n = {n:6d} {what:8s} zymase / asdex CPU time: median {statistics.median(ratios):.3f}, quartiles {ratios[q]:.3f}-{ratios[-1 - q]:.3f}", flush=True)


if __name__ == "__main__":  # python -m benchmarks.sparse_jacobian [n ...]
    import os
    import sys

    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    side_by_side(tuple(int(a) for a in sys.argv[1:]) or (1000, 4000, 16000))
