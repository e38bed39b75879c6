"""ZYMASE_DUMP_IR=dir writes every stage of every compilation."""

import os

import jax.numpy as jnp
import numpy as np

import zymase


def test_dump_ir_writes_each_stage(tmp_path, monkeypatch):
    monkeypatch.setenv("ZYMASE_DUMP_IR", str(tmp_path))
    g = zymase.grad(lambda x: jnp.sum(jnp.sin(x) * 2.0))(jnp.arange(3.0))
    np.testing.assert_allclose(g, 2 * np.cos(np.arange(3.0)), rtol=1e-6)
    files = sorted(os.listdir(tmp_path))
    stages = {f.split("_", 1)[1].rsplit("_", 1)[-1] for f in files}
    assert {"imported.mlir", "optimized-before-ad.mlir", "after-ad.mlir", "final.mlir"} <= stages, files
    after = next(f for f in files if f.endswith("after-ad.mlir"))
    text = (tmp_path / after).read_text()
    assert "diffemain" in text and "enzyme.autodiff" not in text
    before = next(f for f in files if f.endswith("optimized-before-ad.mlir"))
    assert "enzyme.autodiff" in (tmp_path / before).read_text()
