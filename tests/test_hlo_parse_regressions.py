"""Regressions found by measuring the optimizer on the peer's lit tests (issue 14): inputs
that failed to parse or verify, rules that crashed inside the pass, and splat constants
that were expanded element by element."""

from __future__ import annotations


import numpy as np
import pytest

from zymase.ir import parse_module, print_module
from zymase.ir import stablehlo as hlo
from zymase.ir.dense import dense_from_numpy, dense_to_numpy, is_compact_splat, splat_element
from zymase.opt.pattern import optimize


def _ops(module, cls):
    return [op for op in module.walk() if isinstance(op, cls)]


def _optimized(text: str):
    module = parse_module(text)
    module.verify()
    optimize(module)
    module.verify()
    return module


# ============================================================================ rules that crashed


def test_multiply_abs_self_of_complex_keeps_the_product():
    """|z| * |z| is |z|^2, not z * z: the rule skips complex z (it crashed on it)."""
    module = _optimized(
        """
func.func @main(%x: tensor<4xcomplex<f32>>) -> tensor<4xf32> {
  %a = stablehlo.abs %x : (tensor<4xcomplex<f32>>) -> tensor<4xf32>
  %m = stablehlo.multiply %a, %a : tensor<4xf32>
  return %m : tensor<4xf32>
}"""
    )
    assert len(_ops(module, hlo.AbsOp)) == 1 and len(_ops(module, hlo.MultiplyOp)) == 1


@pytest.mark.parametrize("element", ["f32", "i32"])
def test_add_self_of_dynamic_shape_is_left_alone(element):
    """x + x of a tensor<?x?> (no constant of that shape can be built): no numpy ValueError."""
    module = _optimized(
        f"""
func.func @main(%x: tensor<?x?x{element}>) -> tensor<?x?x{element}> {{
  %m = stablehlo.add %x, %x : tensor<?x?x{element}>
  return %m : tensor<?x?x{element}>
}}"""
    )
    assert len(_ops(module, hlo.AddOp)) == 1


# ============================================================================ parsing and verification


def test_dot_dimension_numbers_with_a_trailing_comma():
    module = parse_module(
        """
func.func @main(%a : tensor<2x3xf32>, %b : tensor<4x2xf32>) -> tensor<3x4xf32> {
  %c = "stablehlo.dot_general"(%a, %b) {
    dot_dimension_numbers = #stablehlo.dot<
      lhs_batching_dimensions = [],
      rhs_batching_dimensions = [],
      lhs_contracting_dimensions = [0],
      rhs_contracting_dimensions = [1],
    >
  } : (tensor<2x3xf32>, tensor<4x2xf32>) -> tensor<3x4xf32>
  func.return %c : tensor<3x4xf32>
}"""
    )
    module.verify()
    dot = _ops(module, hlo.DotGeneralOp)[0]
    assert "contracting_dims = [0] x [1]" in print_module(module, generic=False)
    assert tuple(dot.dot_dimension_numbers.lhs_contracting_dimensions) == (0,)


def test_dynamic_slice_of_a_dynamically_shaped_tensor():
    """A dynamic dimension bounds no slice size at compile time (it verified as
    'out of range [0, -9223372036854775808]'), and the constant-index rule leaves it."""
    module = _optimized(
        """
func.func @main(%arg0: tensor<?x1x1x128xf64>) -> tensor<1x1x128xf64> {
  %c = stablehlo.constant dense<0> : tensor<i64>
  %0 = stablehlo.dynamic_slice %arg0, %c, %c, %c, %c, sizes = [1, 1, 1, 128] : (tensor<?x1x1x128xf64>, tensor<i64>, tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<1x1x1x128xf64>
  %1 = stablehlo.reshape %0 : (tensor<1x1x1x128xf64>) -> tensor<1x1x128xf64>
  return %1 : tensor<1x1x128xf64>
}"""
    )
    assert len(_ops(module, hlo.DynamicSliceOp)) == 1


# ============================================================================ splats stay one element


_BILLION = 1_000_000_000


def test_a_billion_element_splat_parses_folds_and_prints_as_one_element():
    text = f"""
func.func @main(%x: tensor<{_BILLION}xf32>) -> tensor<{_BILLION}xf32> {{
  %c = stablehlo.constant dense<1.5> : tensor<{_BILLION}xf32>
  %d = stablehlo.constant dense<2.5> : tensor<{_BILLION}xf32>
  %e = stablehlo.add %c, %d : tensor<{_BILLION}xf32>
  %y = stablehlo.multiply %x, %e : tensor<{_BILLION}xf32>
  return %y : tensor<{_BILLION}xf32>
}}"""
    module = _optimized(text)  # it raised MemoryError (every element was expanded)
    out = print_module(module, generic=False)
    (c,) = _ops(module, hlo.ConstantOp)
    assert is_compact_splat(c.value) and len(c.value.data.data) == 4
    assert f"stablehlo.constant dense<4.000000e+00> : tensor<{_BILLION}xf32>" in out
    assert not _ops(module, hlo.BroadcastInDimOp)


def test_splat_forms_are_one_attribute():
    """A splat written in full, in hex, built from numpy or from a broadcast view: one
    element stored, so equal splats are equal attributes (CSE merges them)."""
    module = parse_module(
        """
func.func @main() -> (tensor<3xf32>, tensor<3xf32>, tensor<2x2xi1>) {
  %a = stablehlo.constant dense<[2.0, 2.0, 2.0]> : tensor<3xf32>
  %b = stablehlo.constant dense<"0x00000040"> : tensor<3xf32>
  %c = stablehlo.constant dense<true> : tensor<2x2xi1>
  return %a, %b, %c : tensor<3xf32>, tensor<3xf32>, tensor<2x2xi1>
}"""
    )
    a, b, c = (op.value for op in _ops(module, hlo.ConstantOp))
    assert a == b == dense_from_numpy(np.full(3, 2.0, np.float32)) == dense_from_numpy(np.broadcast_to(np.float32(2.0), (3,)))
    assert is_compact_splat(c) and bool(splat_element(c)) and dense_to_numpy(c).tolist() == [[True, True], [True, True]]
    assert not is_compact_splat(dense_from_numpy(np.array([-0.0, 0.0])))  # bitwise: -0.0 is not 0.0


def test_rules_write_splats_as_one_constant():
    """x * (2 + 3) with the constants broadcast from scalars, as jax writes them: one splat
    constant remains, no scalar constant + broadcast_in_dim."""
    module = _optimized(
        """
func.func @main(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %a = stablehlo.constant dense<2.0> : tensor<f32>
  %b = stablehlo.constant dense<3.0> : tensor<f32>
  %ba = stablehlo.broadcast_in_dim %a, dims = [] : (tensor<f32>) -> tensor<8x8xf32>
  %bb = stablehlo.broadcast_in_dim %b, dims = [] : (tensor<f32>) -> tensor<8x8xf32>
  %s = stablehlo.add %ba, %bb : tensor<8x8xf32>
  %y = stablehlo.multiply %x, %s : tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}"""
    )
    assert "stablehlo.constant dense<5.000000e+00> : tensor<8x8xf32>" in print_module(module, generic=False)
    assert not _ops(module, hlo.BroadcastInDimOp)


def test_a_splat_constant_is_emitted_as_a_fill():
    """The emitter fills a splat (lax.full): a 10M-element splat lowers to a few lines."""
    import jax

    from zymase.backend import build_function

    n = 10_000_000
    module = parse_module(
        f"""
func.func @main(%x: tensor<{n}xf32>) -> tensor<{n}xf32> {{
  %c = stablehlo.constant dense<1.5> : tensor<{n}xf32>
  %y = stablehlo.multiply %x, %c : tensor<{n}xf32>
  return %y : tensor<{n}xf32>
}}"""
    )
    fn = build_function(module, "main")
    lowered = jax.jit(fn).lower(jax.ShapeDtypeStruct((n,), np.float32)).as_text()
    assert len(lowered) < 5000
    small = """
func.func @main() -> tensor<2x3xi32> {
  %c = stablehlo.constant dense<-7> : tensor<2x3xi32>
  return %c : tensor<2x3xi32>
}"""
    (value,) = build_function(parse_module(small), "main")()
    assert np.asarray(value).tolist() == [[-7] * 3] * 2
