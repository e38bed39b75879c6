"""Checkpointed reverse mode of a long time-stepping loop.

A leapfrog integrator of 8 particles in 3-D (weakly anharmonic wells plus springs to the
next particle, small amplitudes, so that the gradient stays O(1) over 100 000 steps), n
steps of dt = 0.001, loss on the final state; the gradient with respect to the initial
positions and the spring constant. Variants: jax.grad of the lax.scan (it stores every
step), jax.checkpoint on the scan's body, a nested sqrt(n) x sqrt(n) scan whose inner
scans are checkpointed; zymase's full tape, binomial (ceil(sqrt n) snapshots) and
periodic:ceil(sqrt n) (``zymase.grad(f, loop_checkpoint=...)``), and zymase on the same
loop written as a lax.while_loop whose bound is an argument (a run-time trip count, which
jax.grad refuses).

Peak memory is XLA's figure for the compiled executable:
``jax.jit(f).lower(*args).compile().memory_analysis()``, temp_size_in_bytes +
output_size_in_bytes (the buffers the program allocates; arguments excluded), reported
in each row's note and ``extra["peak_bytes"]``. The binomial schedule's action table
(16 bytes per row, about 2n rows) is a constant of the executable, not in that figure; the
note gives its size.

    .venv/bin/python -m benchmarks checkpoint [--quick | --tiny]
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import zymase
from zymase.ad.rules import checkpoint

from .harness import Row, Variant, measure

NAME = "checkpoint"
PARTICLES = 8
DT = 0.001


def _force(q, k):
    return -(q + 0.05 * q**3) - k * (q - jnp.roll(q, 1, axis=0))


def _step(c, k):
    q, p = c
    p = p + 0.5 * DT * _force(q, k)
    q = q + DT * p
    p = p + 0.5 * DT * _force(q, k)
    return q, p


def _loss(q, p):
    return jnp.sum(q**2) + 0.5 * jnp.sum(p**2)


def make(n: int):
    def scan(q0, k):
        (q, p), _ = lax.scan(lambda c, _: (_step(c, k), None), (q0, jnp.zeros_like(q0)), None, length=n)
        return _loss(q, p)

    def scan_remat(q0, k):
        body = jax.checkpoint(lambda c, _: (_step(c, k), None))
        (q, p), _ = lax.scan(body, (q0, jnp.zeros_like(q0)), None, length=n)
        return _loss(q, p)

    outer = max(1, math.isqrt(n))
    inner = n // outer
    rest = n - outer * inner

    def nested(q0, k):
        @jax.checkpoint
        def chunk(c, _):
            c, _ = lax.scan(lambda c, _: (_step(c, k), None), c, None, length=inner)
            return c, None

        c, _ = lax.scan(chunk, (q0, jnp.zeros_like(q0)), None, length=outer)
        if rest:
            c, _ = lax.scan(lambda c, _: (_step(c, k), None), c, None, length=rest)
        return _loss(*c)

    def runtime(q0, k, steps):
        """The same loop as a lax.while_loop whose bound is an argument: its trip count is
        known only at run time (jax.grad refuses it)."""

        def body(c):
            return c[0] + 1, _step(c[1], k)

        _, (q, p) = lax.while_loop(lambda c: c[0] < steps, body, (0, (q0, jnp.zeros_like(q0))))
        return _loss(q, p)

    return scan, scan_remat, nested, runtime


def peak_bytes(fn, args) -> int:
    m = jax.jit(fn).lower(*args).compile().memory_analysis()
    return int(m.temp_size_in_bytes + m.output_size_in_bytes)


def run(mode: str = "full") -> dict:
    sizes = {"tiny": [50], "quick": [1000, 10000], "full": [1000, 10000, 100000]}[mode]
    runs = {"tiny": 1, "quick": 5, "full": 5}[mode]
    rows: list[Row] = []
    rs = np.random.RandomState(0)
    with jax.enable_x64(True):
        q0 = jnp.asarray(0.3 * rs.randn(PARTICLES, 3))
        k = jnp.float64(0.3)
        args = (q0, k)
        for n in sizes:
            scan, scan_remat, nested, runtime = make(n)
            root = math.isqrt(n - 1) + 1
            g = (0, 1)
            variants = [
                Variant("jax.grad (scan, stores every step)", jax.jit(jax.grad(scan, g)), args, kind="jax"),
                Variant("jax.grad, jax.checkpoint(body)", jax.jit(jax.grad(scan_remat, g)), args, kind="jax"),
                Variant("jax.grad, nested sqrt-n checkpointed scans", jax.jit(jax.grad(nested, g)), args, kind="jax"),
                Variant("zymase.grad (full tape)", jax.jit(zymase.grad(scan, g)), args),
                Variant(f"zymase.grad binomial ({root} snapshots)", jax.jit(zymase.grad(scan, g, loop_checkpoint="binomial")), args),
                Variant(f"zymase.grad periodic:{root}", jax.jit(zymase.grad(scan, g, loop_checkpoint=f"periodic:{root}")), args),
                Variant("zymase.grad, while_loop with run-time n", jax.jit(zymase.grad(runtime, g)), (*args, jnp.int32(n))),
            ]
            res = measure(NAME, f"leapfrog, {PARTICLES} particles, n = {n}", variants, runs=runs, warmup=1)
            for v, row in zip(variants, res):
                if row.error is None:
                    try:
                        nb = peak_bytes(v.fn, v.args)
                        row.extra["peak_bytes"] = nb
                        row.note = f"peak {nb / 1e6:.3g} MB"
                        if "binomial" in v.name:  # the action table is a constant of the executable, not temp memory
                            table = checkpoint.binomial_schedule(n, root).nbytes
                            row.extra["table_bytes"] = table
                            row.note += f" + action table {table / 1e6:.3g} MB (constant)"
                    except Exception as e:  # memory analysis unavailable: the timing stands
                        row.extra["memory_error"] = str(e).splitlines()[0][:200]
            rows += res
    return {"rows": rows, "plots": [], "notes": ["peak = compiled executable's temp + output bytes (memory_analysis)"]}


def main() -> None:
    import sys

    mode = "tiny" if "--tiny" in sys.argv else "quick" if "--quick" in sys.argv else "full"
    rows = run(mode)["rows"]
    print("| n | variant | median | peak memory (temp+output) | max abs diff vs jax.grad |")
    print("|---|---|---|---|---|")
    for r in rows:
        n = r.config.split("n = ")[-1]
        med = f"{r.median_s * 1e3:.2f} ms" if r.median_s is not None else f"FAILED {r.error}"
        peak = f"{r.extra['peak_bytes'] / 1e6:.3f} MB" if "peak_bytes" in r.extra else "-"
        if "table_bytes" in r.extra:
            peak += f" (+ {r.extra['table_bytes'] / 1e6:.2f} MB table)"
        diff = f"{r.max_diff:.1e}" if r.max_diff is not None else "-"
        print(f"| {n} | {r.variant} | {med} | {peak} | {diff} |")


if __name__ == "__main__":
    main()
