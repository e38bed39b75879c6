"""The benchmark suite keeps working: each case runs once at tiny size and zymase's results
agree with jax's. Nothing here is timed or compared for speed (benchmarks/ measures;
tests never assert timings)."""

from __future__ import annotations

import importlib
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import CASES  # noqa: E402

# Every variant must run, including those that differentiate functions closing over values
# traced by an enclosing jax.jit ("..., a traced", "..., params traced").
KNOWN_FAILURES: set[str] = set()


@pytest.mark.parametrize("name", CASES)
def test_case_runs_and_agrees_with_jax(name):
    res = importlib.import_module(f"benchmarks.{name}").run("tiny")
    rows = res["rows"]
    assert rows, f"{name} produced no rows"
    for r in rows:
        if r.variant in KNOWN_FAILURES:
            continue
        assert r.error is None, f"{r.case} / {r.config} / {r.variant}: {r.error}"
        if r.kind == "count":
            assert r.extra["ops_with"] <= r.extra["ops_without"]
            continue
        assert r.median_s is not None
        if r.max_diff is not None:
            assert r.max_diff <= 1e-4, f"{r.case} / {r.config} / {r.variant}: max diff {r.max_diff}"


def test_markdown_section_replaces_only_its_own(tmp_path):
    from benchmarks.__main__ import BEGIN, END, write_markdown

    md = tmp_path / "B.md"
    md.write_text("# Benchmarks\n\n## Other section\nkept\n")
    write_markdown(md, f"{BEGIN}\nfirst\n{END}")
    write_markdown(md, f"{BEGIN}\nsecond\n{END}")
    text = md.read_text()
    assert "## Other section\nkept" in text and "second" in text and "first" not in text
    assert text.count(BEGIN) == 1
