"""IR inspection at every stage of a transformation's pipeline."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zymase
from zymase.passes import PIPELINES


def f(x):
    return jnp.sum(jnp.tanh(x) + 0.0)


def test_grad_lower_records_every_stage():
    program = zymase.grad(f).lower(jnp.ones(3))
    assert list(program.stages) == ["imported", "optimized-before-ad", "after-ad", "final"]
    imported = program.as_text(stage="imported")
    assert "stablehlo.tanh" in imported and "enzyme.autodiff" in imported
    # x + 0 is gone before AD (only the reduction body's add is left); the enzyme op is still there
    assert imported.count('"stablehlo.add"') == 2
    before = program.as_text(stage="optimized-before-ad")
    assert before.count('"stablehlo.add"') == 1
    assert "enzyme.autodiff" in before
    after = program.as_text(stage="after-ad")
    assert "enzyme.autodiff" not in after and "diffemain" in after
    # each stage starts with a comment naming the pipeline text, and the pass, that produced it
    comment, final = program.as_text(stage="final").split("\n", 1)
    assert final == program.as_text()
    text = PIPELINES["zymase-derivative"]
    assert comment == f"// stage 'final' of pipeline zymase-derivative, after pass {len(text.split(','))} 'dce': -p '{text}'"
    assert after.startswith(f"// stage 'after-ad' of pipeline zymase-derivative, after pass 5 'enzyme': -p '{text}'\n")
    assert imported.startswith(f"// stage 'imported' of pipeline zymase-derivative, before its first pass: -p '{text}'\n")


def test_jit_lower_records_imported_and_final():
    program = zymase.jit(f).lower(jnp.ones(3))
    assert list(program.stages) == ["imported", "final"]
    assert program.as_text(stage="final").startswith(f"// stage 'final' of pipeline zymase-primal, after pass 4 'dce': -p '{PIPELINES['zymase-primal']}'\n")
    assert program.as_text(stage="imported").count('"stablehlo.add"') == 2  # x + 0 and the sum's body
    assert program.as_text(stage="final").count('"stablehlo.add"') == 1


def test_unknown_stage_names_the_recorded_ones():
    program = zymase.jit(f).lower(jnp.ones(3))
    with pytest.raises(KeyError, match="recorded stages: imported, final"):
        program.as_text(stage="after-ad")


def test_transformations_stay_composable():
    g = zymase.grad(f)
    x = jnp.arange(3.0)
    np.testing.assert_allclose(jax.jit(g)(x), 1 - np.tanh(np.arange(3.0)) ** 2, rtol=1e-6)
    assert type(jax.jit(g).lower(x)).__name__ == "Lowered"  # jax's own lower survives
