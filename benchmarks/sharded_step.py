"""A sharded transformer-block training step on 8 host devices: zymase.grad against
jax.grad (time ratio and collective counts of the compiled step).

    python -m benchmarks.sharded_step [--tiny | --quick]

The block: multi-head self-attention (heads split over the "model" axis) and a two-layer
MLP (hidden units split over "model"), residual connections, a batch split over "data",
on a (data=4, model=2) mesh; ``with_sharding_constraint`` pins the activations (batch
over "data", heads / hidden units over "model"). One step: the loss's gradient with
respect to the six weight matrices, then plain SGD, all under one ``jax.jit``. The
columns besides time: the counts of all-reduce, all-gather, reduce-scatter, all-to-all and
collective-permute in XLA's compiled step (``compile().as_text()``), and the median
process CPU time per step (interleaved as the wall times are).

Needs 8 devices: run in a process where jax has not started yet, this module sets
XLA_FLAGS=--xla_force_host_platform_device_count=8 (and re-runs itself in a subprocess when
jax already runs with fewer devices, as under ``python -m benchmarks``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

NAME = "sharded_step"
DEVICES = 8
FLAG = f"--xla_force_host_platform_device_count={DEVICES}"
KINDS = ("all-reduce", "all-gather", "reduce-scatter", "all-to-all", "collective-permute")
SIZES = {
    "tiny": [(8, 8, 16, 2, 32)],
    "quick": [(16, 32, 64, 4, 256)],
    "full": [(16, 32, 64, 4, 256), (32, 64, 128, 8, 512)],
}  # (batch, sequence, model width, heads, MLP width)


def _ensure_flag() -> None:
    if "jax" not in sys.modules and FLAG not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + FLAG).strip()
        os.environ.setdefault("JAX_PLATFORMS", "cpu")


def collective_counts(fn, *args) -> dict[str, int]:
    import jax

    text = jax.jit(fn).lower(*args).compile().as_text()
    # an instruction's shape is one token or a tuple: (f32[2]{0}, /*index=5*/f32[4]{0}) all-reduce(
    return {k: len(re.findall(rf"= (?:\([^)]*\)|\S+) {k}(?:-start)?\(", text)) for k in KINDS}


def cpu_times(variants: dict, args: tuple, rounds: int) -> dict[str, float]:
    """Median process CPU time per call of each variant (all threads: XLA's 8 host
    devices are threads), interleaved in a new shuffled order every round."""
    import random
    import statistics
    import time

    import jax

    times: dict[str, list[float]] = {k: [] for k in variants}
    order = random.Random(rounds)
    for _ in range(rounds):
        for k in order.sample(list(variants), len(variants)):
            t0 = time.process_time()
            jax.block_until_ready(variants[k](*args))
            times[k].append(time.process_time() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def build(batch: int, seq: int, width: int, heads: int, hidden: int):
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax import lax
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh = Mesh(np.array(jax.devices()[:DEVICES]).reshape(4, 2), ("data", "model"))

    def sharded(spec):
        return NamedSharding(mesh, spec)

    def pin(x, *spec):
        return lax.with_sharding_constraint(x, sharded(P(*spec)))

    head = width // heads

    def block(params, x):
        wq, wk, wv, wo, w1, w2 = params
        q = pin(jnp.einsum("btd,dhk->bthk", x, wq), "data", None, "model", None)
        k = pin(jnp.einsum("btd,dhk->bthk", x, wk), "data", None, "model", None)
        v = pin(jnp.einsum("btd,dhk->bthk", x, wv), "data", None, "model", None)
        scores = jnp.einsum("bqhk,bshk->bhqs", q, k) / np.sqrt(head)
        attn = jax.nn.softmax(scores, axis=-1)
        o = pin(jnp.einsum("bhqs,bshk->bqhk", attn, v), "data", None, "model", None)
        x = pin(x + jnp.einsum("bthk,hkd->btd", o, wo), "data", None, None)
        h = pin(jax.nn.gelu(x @ w1), "data", None, "model")
        return pin(x + h @ w2, "data", None, None)

    def loss(params, x, y):
        return jnp.mean((block(params, x) - y) ** 2)

    rs = np.random.RandomState(0)

    def weight(shape, spec, fan_in):
        return jax.device_put(jnp.asarray(rs.randn(*shape) / np.sqrt(fan_in), jnp.float32), sharded(spec))

    params = (
        weight((width, heads, head), P(None, "model", None), width),
        weight((width, heads, head), P(None, "model", None), width),
        weight((width, heads, head), P(None, "model", None), width),
        weight((heads, head, width), P("model", None, None), width),
        weight((width, hidden), P(None, "model"), width),
        weight((hidden, width), P("model", None), hidden),
    )
    x = jax.device_put(jnp.asarray(rs.randn(batch, seq, width), jnp.float32), sharded(P("data")))
    y = jax.device_put(jnp.asarray(rs.randn(batch, seq, width), jnp.float32), sharded(P("data")))
    return loss, params, x, y


def _measure(mode: str) -> dict:
    import jax

    import zymase

    from .harness import Row, Variant, measure

    rows: list[Row] = []
    notes: list[str] = []
    runs = {"tiny": 1, "quick": 40, "full": 100}[mode]  # the host is shared: medians of many interleaved runs
    for batch, seq, width, heads, hidden in SIZES[mode]:
        loss, params, x, y = build(batch, seq, width, heads, hidden)

        def step_with(grad):
            def step(params, x, y):
                g = grad(loss)(params, x, y)
                return jax.tree.map(lambda p, d: p - 0.1 * d, params, g)

            return step

        jax_step, zymase_step = step_with(jax.grad), step_with(zymase.grad)
        config = f"B={batch} T={seq} D={width} H={heads} F={hidden}, mesh data=4 x model=2"
        jitted = {"jax.grad step": jax.jit(jax_step), "zymase.grad step": jax.jit(zymase_step)}
        got = measure(NAME, config, [
            Variant("jax.grad step", jitted["jax.grad step"], (params, x, y), kind="jax"),
            Variant("zymase.grad step", jitted["zymase.grad step"], (params, x, y)),
        ], runs=runs)
        counts = {"jax.grad step": collective_counts(jax_step, params, x, y), "zymase.grad step": collective_counts(zymase_step, params, x, y)}
        cpu = cpu_times(jitted, (params, x, y), runs)
        for r in got:
            r.extra.update(collectives=counts[r.variant], cpu_s=cpu[r.variant], cpu_ratio=cpu[r.variant] / cpu["jax.grad step"], batch=batch, seq=seq, width=width, heads=heads, hidden=hidden)
            shown = ", ".join(f"{k} {v}" for k, v in counts[r.variant].items())
            r.note = f"CPU {cpu[r.variant] * 1e3:.2f} ms (x{r.extra['cpu_ratio']:.2f}); collectives: {shown}"
        rows += got
        notes.append(f"{config}: jax {counts['jax.grad step']}, zymase {counts['zymase.grad step']}")
    return {"rows": rows, "notes": notes}


def run(mode: str = "full") -> dict:
    """The benchmark's rows; in a subprocess when this process's jax has fewer devices."""
    _ensure_flag()
    import jax

    if len(jax.devices()) >= DEVICES:
        return _measure(mode)
    from .harness import Row

    env = dict(os.environ, XLA_FLAGS=(os.environ.get("XLA_FLAGS", "") + " " + FLAG).strip(), JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.sharded_step", f"--{mode}", "--json"], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"sharded_step subprocess failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"rows": [Row(**r) for r in data["rows"]], "notes": data["notes"]}


def main(argv: list[str]) -> None:
    mode = "tiny" if "--tiny" in argv else "quick" if "--quick" in argv else "full"
    _ensure_flag()
    result = run(mode)
    if "--json" in argv:
        print(json.dumps({"rows": [r.to_json() for r in result["rows"]], "notes": result["notes"]}))
        return
    for r in result["rows"]:
        time_text = f"{r.median_s * 1e3:8.2f} ms" if r.median_s is not None else "   failed"
        ratio = f"x{r.ratio:.2f}" if r.ratio is not None else ""
        print(f"{r.config:50s} {r.variant:18s} {time_text} {ratio:6s} max|diff| {r.max_diff if r.max_diff is not None else '-'}  {r.note}{'  ' + r.error if r.error else ''}")


if __name__ == "__main__":
    main(sys.argv[1:])
