"""Tape sizes of reversed loops: bytes stored per gradient with zymase's residual taping,
next to taping each iteration's carried state (zymase's first design), for the corpus
programs with loops and the loop benchmarks. Results are checked against jax.

    .venv/bin/python benchmarks/tapes.py [--markdown BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, HERE)

import zymase  # noqa: E402
from zymase.ad.rules import control  # noqa: E402

BEGIN, END = "<!-- tapes:begin -->", "<!-- tapes:end -->"


def _loss(fn):
    def loss(*args):
        out = fn(*args)
        return sum(jnp.sum(l.astype(jnp.float32)) for l in jax.tree_util.tree_leaves(out) if jnp.issubdtype(l.dtype, jnp.floating))

    return loss


def problems():
    import corpus

    for case in corpus.CASES:
        if "loop" not in case.tags or not case.diff_argnums or not case.jax_grad_ok:
            continue
        yield case.name, _loss(case.fn), case.make_args(np.random.RandomState(0)), case.diff_argnums, case
    import ad_bench

    for name in ("scan_rnn", "fori"):
        f, args = ad_bench.PROBLEMS[name]()[:2]
        yield f"bench:{name}", f, args, 0, None
    from jax import lax

    def norm(x):
        def body(i, out):
            return out.at[i].set(x[i] / jnp.sqrt(jnp.sum(x * x)))

        return jnp.sum(lax.fori_loop(0, x.shape[0], body, jnp.zeros_like(x)) ** 2)

    yield "vector_norm n=1000", norm, (np.random.RandomState(0).rand(1000).astype(np.float32),), 0, None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--markdown")
    a = parser.parse_args()
    rows = []
    for name, f, args, nums, case in problems():
        control.TAPE_LOG.clear()
        ctx = case.context() if case is not None else jax.enable_x64(jax.config.jax_enable_x64)
        with ctx:
            got = zymase.grad(f, argnums=nums)(*args)
            want = jax.grad(f, argnums=nums)(*args)
        diff = max(float(np.max(np.abs(np.asarray(g, np.float64) - np.asarray(w, np.float64)))) for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)))
        res = sum(e["residual_bytes"] for e in control.TAPE_LOG)
        state = sum(e["state_bytes"] for e in control.TAPE_LOG)
        rows.append((name, len(control.TAPE_LOG), state, res, diff))
    lines = [
        "| program | reversed loops | carried-state tape (bytes) | residual tape (bytes) | ratio | max abs diff vs jax.grad |",
        "|---|---|---|---|---|---|",
    ]
    for name, n, state, res, diff in rows:
        ratio = f"{res / state:.2f}" if state else "-"
        lines.append(f"| {name} | {n} | {state:,} | {res:,} | {ratio} | {diff:.1e} |")
    table = "\n".join(lines)
    print(table)
    if a.markdown:
        section = (
            f"{BEGIN}\n## Tape sizes of reversed loops (issue: Activity canonicalization, tape minimization)\n\n"
            "Command: `.venv/bin/python benchmarks/tapes.py --markdown BENCHMARKS.md`. Bytes stored per gradient "
            "evaluation by the forward loops. 'carried-state' is what zymase's first loop rule stored (every "
            "carried value the body reads, each iteration), computed with that rule's formula; 'residual' is "
            "what the current rule stores: only the values the reverse loop reads that vary per iteration "
            "(loop invariants and the induction variable are recomputed). Gradients agree with jax.grad as "
            "shown.\n\n" + table + f"\n{END}\n"
        )
        text = open(a.markdown).read() if os.path.exists(a.markdown) else ""
        if BEGIN in text:
            text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) + 1 :]
        else:
            text = text.rstrip("\n") + "\n\n" + section
        open(a.markdown, "w").write(text)


if __name__ == "__main__":
    main()
