"""The named pipelines of passes.py: zymase.grad & co and ``zymase-opt -p`` run the same text."""

import jax.numpy as jnp
import pytest

import zymase
from zymase.passes import PIPELINES, get_all_passes, pipeline_text
from zymase.tools.opt import main


def f(x):
    return jnp.sum(jnp.tanh(x) * 2.0 + 0.0)


def _without_comment(stage_text: str) -> str:
    comment, text = stage_text.split("\n", 1)
    assert comment.startswith("// stage ")
    return text


@pytest.mark.parametrize(
    "name, transform",
    [("zymase-derivative", zymase.grad), ("zymase-primal", zymase.jit)],
)
def test_zymase_opt_runs_the_pipeline_of_the_api(tmp_path, name, transform):
    """``zymase-opt imported.mlir -p <name>`` prints what the API's pipeline made of it."""
    program = transform(f).lower(jnp.ones(3))
    imported = program.as_text(stage="imported")
    assert f"-p '{PIPELINES[name]}'" in imported.split("\n", 1)[0]
    (tmp_path / "imported.mlir").write_text(_without_comment(imported))
    out = tmp_path / "out.mlir"
    assert main([str(tmp_path / "imported.mlir"), "-p", name, "--print-op-generic", "-o", str(out)]) == 0
    assert out.read_text() == _without_comment(program.as_text(stage="final"))


def test_named_pipelines_are_passes_of_the_registry():
    passes = get_all_passes()
    for name in PIPELINES:
        assert passes[name]().name == name
    # a pipeline names only registered passes
    for text in PIPELINES.values():
        assert all(p in passes for p in text.split(","))


def test_zymase_opt_0_drops_the_rewrite_rules(monkeypatch):
    monkeypatch.setenv("ZYMASE_OPT", "0")
    assert pipeline_text("zymase-derivative") == "inline,cse,enzyme-activity-opt,enzyme,cse,dce"
    program = zymase.grad(f).lower(jnp.ones(3))
    assert "-p 'inline,cse,enzyme-activity-opt,enzyme,cse,dce'" in program.as_text(stage="after-ad").split("\n", 1)[0]
