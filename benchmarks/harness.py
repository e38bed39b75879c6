"""Measurement machinery shared by the benchmark cases.

A case builds a list of :class:`Variant` (a name, a function, its arguments) for one
configuration and hands it to :func:`measure`, which

- calls each variant once and records that first call (trace, zymase's lowering and
  pipeline, XLA compilation) as ``first_s``; a variant that raises is recorded as failed
  (its error text is kept) and the others go on;
- warms every variant up, then times them interleaved in rounds (each variant once per
  round, in a new shuffled order every round, so that no variant always runs right after
  a slow one), each call followed by ``jax.block_until_ready``, and keeps the median of
  ``runs``;
- asks XLA for the cost analysis (flops, bytes accessed) of each compiled function;
- compares each variant's result with the baseline's (max absolute difference over all
  leaves, in float64).

Every variant is a ``jax.jit``-compiled function, zymase's included (``jax.jit`` of
``zymase.grad(f)`` traces through zymase's wrapper once and then runs the emitted code),
so the timings compare generated code, not Python dispatch.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import random
import statistics
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import jax
import numpy as np

MODES = ("tiny", "quick", "full")


@dataclass
class Variant:
    name: str
    fn: Callable
    args: tuple
    kind: str = "zymase"  # "jax" (a baseline) or "zymase" or "bound" (hand-optimized lower bound)
    env: dict[str, str] = field(default_factory=dict)  # set while compiling (ZYMASE_OPT=0 ...)
    compare: bool = True  # compare the result with the baseline's
    note: str = ""


@dataclass
class Row:
    case: str
    config: str
    variant: str
    kind: str
    median_s: float | None = None
    first_s: float | None = None
    ratio: float | None = None  # median / baseline median (below 1: faster than the baseline)
    flops: float | None = None
    bytes: float | None = None
    max_diff: float | None = None
    error: str | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def max_abs_diff(a: Any, b: Any) -> float:
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    if len(la) != len(lb):
        raise ValueError(f"results have {len(la)} and {len(lb)} leaves")
    worst = 0.0
    for x, y in zip(la, lb):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        if x.shape != y.shape:
            raise ValueError(f"result shapes differ: {x.shape} vs {y.shape}")
        if x.size:
            worst = max(worst, float(np.max(np.abs(x - y))))
    return worst


def cost_analysis(fn: Callable, args: tuple) -> tuple[float | None, float | None]:
    """XLA's estimate of (flops, bytes accessed) for ``fn`` compiled on ``args``."""
    lowered = fn.lower(*args) if hasattr(fn, "lower") else jax.jit(fn).lower(*args)
    cost = lowered.compile().cost_analysis()
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else {}
    cost = cost or {}
    flops, nbytes = cost.get("flops"), cost.get("bytes accessed")
    return (float(flops) if flops is not None else None, float(nbytes) if nbytes is not None else None)


def _error_text(e: BaseException) -> str:
    lines = [line for line in str(e).splitlines() if line.strip()]
    head = lines[0] if lines else ""
    return f"{type(e).__name__}: {head}"[:300]


def measure(case: str, config: str, variants: list[Variant], runs: int = 20, warmup: int = 2, baseline: str | None = None) -> list[Row]:
    """Time ``variants`` interleaved; the first variant of kind "jax" (or ``baseline``) is
    the reference for ratios and differences."""
    base = baseline or next((v.name for v in variants if v.kind == "jax"), variants[0].name)
    rows = {v.name: Row(case, config, v.name, v.kind, note=v.note) for v in variants}
    results: dict[str, Any] = {}
    live: list[Variant] = []
    for v in variants:
        row = rows[v.name]
        try:
            with environment(v.env):
                t0 = time.perf_counter()
                out = jax.block_until_ready(v.fn(*v.args))
                row.first_s = time.perf_counter() - t0
                results[v.name] = out
                for _ in range(warmup):
                    jax.block_until_ready(v.fn(*v.args))
        except Exception as e:  # a failing variant is reported, the others go on
            row.error = _error_text(e)
            if os.environ.get("ZYMASE_BENCH_TRACEBACK"):
                traceback.print_exc()
            continue
        live.append(v)

    times: dict[str, list[float]] = {v.name: [] for v in live}
    # A fresh order every round: a call right after a slow one runs slower (caches, clock),
    # so no variant may always follow the same neighbour.
    order = random.Random(len(live) * 1000 + runs)
    for _ in range(runs):
        for v in order.sample(live, len(live)):
            t0 = time.perf_counter()
            jax.block_until_ready(v.fn(*v.args))
            times[v.name].append(time.perf_counter() - t0)

    for v in live:
        row = rows[v.name]
        row.median_s = statistics.median(times[v.name])
        try:
            with environment(v.env):
                row.flops, row.bytes = cost_analysis(v.fn, v.args)
        except Exception as e:
            row.extra["cost_error"] = _error_text(e)
        if v.compare and base in results and v.name != base:
            try:
                row.max_diff = max_abs_diff(results[v.name], results[base])
            except Exception as e:
                row.error = f"result mismatch: {_error_text(e)}"
        elif v.name == base:
            row.max_diff = 0.0
    base_median = rows[base].median_s
    for row in rows.values():
        if row.median_s is not None and base_median:
            row.ratio = row.median_s / base_median
    return [rows[v.name] for v in variants]


# ----------------------------------------------------------------------------- reporting


def fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


def fmt_num(x: float | None) -> str:
    if x is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{unit}"
    return f"{x:.3g}"


def fmt_diff(x: float | None) -> str:
    return "-" if x is None else f"{x:.1e}"


def machine() -> str:
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    u = platform.uname()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (f"{u.system} {u.release} {u.machine}, {cpu}, nproc = {os.cpu_count()}; Python {platform.python_version()}, "
            f"jax/jaxlib {jax.__version__}, backend {jax.default_backend()}; load average {load} (1, 5, 15 min)")


def write_section(path: pathlib.Path, section: str, begin: str, end: str) -> None:
    """Write ``section`` (which starts with ``begin`` and ends with ``end``) into the
    markdown file ``path``: in place of the text between the markers, or appended when
    the file has none."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)
