"""An op outside zymase's dialects stops the import with UnsupportedOpError naming it."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
from jaxlib.mlir import ir

from zymase.frontend import UnsupportedOpError
from zymase.frontend.importer import import_module
from zymase.ir import make_context

# stablehlo.batch_norm_inference is in the StableHLO spec, but jax never emits it and
# zymase's dialect does not define it.
MODULE = """
func.func public @main(%x: tensor<2x3xf32>, %s: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = stablehlo.tanh %x : tensor<2x3xf32>
  %1 = "stablehlo.batch_norm_inference"(%0, %s, %s, %s, %s) {epsilon = 1.0e-5 : f32, feature_index = 1 : i64}
      : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3xf32> loc("model.py":12:7)
  return %1 : tensor<2x3xf32>
}
"""


def _jaxlib_module(text: str) -> ir.Module:
    """Parse ``text`` in the MLIR context of a module jax lowered (func, stablehlo and
    chlo loaded), as if jax had produced it."""
    ctx = jax.jit(jnp.tanh).lower(jnp.ones(2)).compiler_ir("stablehlo").context
    return ir.Module.parse(text, ctx)


def test_unknown_op_is_named() -> None:
    assert make_context().get_optional_op("stablehlo.batch_norm_inference") is None, "pick an op zymase does not define"
    with pytest.raises(UnsupportedOpError, match=r"'stablehlo\.batch_norm_inference' in @main \(at model\.py:12:7\)") as info:
        import_module(_jaxlib_module(MODULE))
    assert info.value.op_name == "stablehlo.batch_norm_inference"


def test_known_ops_of_the_same_module_import() -> None:
    known = MODULE.replace("stablehlo.batch_norm_inference", "stablehlo.add").replace(
        "(%0, %s, %s, %s, %s) {epsilon = 1.0e-5 : f32, feature_index = 1 : i64}\n      : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)",
        "(%0, %0) : (tensor<2x3xf32>, tensor<2x3xf32>)",
    )
    module = import_module(_jaxlib_module(known))
    names = [op.name for op in module.walk()]
    assert "stablehlo.add" in names and "stablehlo.tanh" in names


def test_refusal_inside_a_jnp_helper_points_at_the_users_line() -> None:
    """jax drops the user's frame inside its jit-wrapped helpers (jax.scipy.linalg.schur,
    which jax cannot differentiate either); the inliner gives the inlined ops the call
    site's location, so the error names this file."""
    import jax.scipy.linalg as jsl

    import zymase
    from zymase.ad.errors import DiffError

    def f(a):
        return jnp.sum(jsl.schur(a)[0])

    with pytest.raises(DiffError, match=r"'schur' .*called at \S*test_unsupported_op\.py:\d+:\d+"):
        zymase.grad(f)(jnp.eye(3) + 0.1)
