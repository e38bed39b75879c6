"""Every op of the StableHLO and chlo dialects is in a tier of the derivative-rule registry
(elementwise, linear, custom or inactive), except the ops listed in UNSUPPORTED, which
must raise a DiffError naming the op and its location when their derivative is needed."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import zymase
from zymase.ad import registry
from zymase.ad.engine import DiffError
from zymase.api import run_ad_pipeline
from zymase.backend import build_function
from zymase.ir import chlo
from zymase.ir import stablehlo as hlo
from zymase.ir.enzyme import ACTIVE, ACTIVENONEED, DUP, AutoDiffOp, ForwardDiffOp, add_diff_func
from zymase.ir import print_module
from zymase.loader import parse_located
from zymase.passes import run_pipeline

UNSUPPORTED: dict[type, str] = {
    # a terminator: its operands are the region's results, handled by the region op's rule
    hlo.ReturnOp: "terminator",
    # tuples do not occur in the function bodies JAX emits
    hlo.TupleOp: "tuple",
    hlo.GetTupleElementOp: "tuple",
    # an opaque kernel (LAPACK, cuSOLVER, a user FFI call): nothing to differentiate
    hlo.CustomCallOp: "opaque",
    # random numbers from a distribution with parameters (a, b): only an error when the
    # parameters are active (lax.rng_uniform has no derivative in JAX either)
    hlo.RngOp: "random",
    # differentiating through the decomposition function is not implemented
    hlo.CompositeOp: "composite",
}


def test_every_op_has_a_tier() -> None:
    registry.load_rules()
    missing = [cls.name for cls in [*hlo.STABLEHLO_OPS, *chlo.CHLO_OPS] if registry.tier_of(cls) is None and cls not in UNSUPPORTED]
    assert not missing, f"ops in no tier of the derivative-rule registry (add a rule, declare them inactive, or list them in UNSUPPORTED): {missing}"


def test_unsupported_ops_are_in_no_tier() -> None:
    """An op in UNSUPPORTED that gained a rule should leave the list (and get a row in
    tests/test_ad_rules.py)."""
    registry.load_rules()
    ruled = [cls.name for cls in UNSUPPORTED if registry.tier_of(cls) is not None]
    assert not ruled, f"ops listed as unsupported that have a rule now: {ruled}"


# ============================================================================ the errors


def _differentiate(text: str, mode: str) -> None:
    """Build @entry differentiating @f (one tensor<3xf64> argument, one result) and run the
    AD pipeline."""
    module = parse_located(text, "unsupported.mlir")
    cls, args, rets = (ForwardDiffOp, [DUP], [DUP]) if mode == "forward" else (AutoDiffOp, [ACTIVE], [ACTIVENONEED])
    add_diff_func(module, "entry", cls, "f", args, rets)
    run_ad_pipeline(module)
    build_function(module, "entry")


def _program(body: str) -> str:
    """@f(%x) = %r * %x, with %r computed from %x by ``body``."""
    return f"""
func.func @f(%x: tensor<3xf64>) -> tensor<3xf64> {{
  {body}
  %out = "stablehlo.multiply"(%r, %x) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
  func.return %out : tensor<3xf64>
}}
"""


REDUCER = """({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %s = "stablehlo.add"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%s) : (tensor<f64>) -> ()
  })"""

GROUPS = "replica_groups = dense<0> : tensor<1x1xi64>"

MAX_REDUCER = REDUCER.replace("stablehlo.add", "stablehlo.maximum")

ERROR_PROGRAMS: dict[str, str] = {
    "stablehlo.custom_call": '%r = "stablehlo.custom_call"(%x) <{call_target_name = "my_kernel"}> : (tensor<3xf64>) -> tensor<3xf64>',
    "stablehlo.rng": """%z = "stablehlo.constant"() <{value = dense<1.0> : tensor<f64>}> : () -> tensor<f64>
  %a = "stablehlo.slice"(%x) <{start_indices = array<i64: 0>, limit_indices = array<i64: 1>, strides = array<i64: 1>}> : (tensor<3xf64>) -> tensor<1xf64>
  %lo = "stablehlo.reshape"(%a) : (tensor<1xf64>) -> tensor<f64>
  %shape = "stablehlo.constant"() <{value = dense<3> : tensor<1xi64>}> : () -> tensor<1xi64>
  %r = "stablehlo.rng"(%lo, %z, %shape) <{rng_distribution = #stablehlo<rng_distribution UNIFORM>}> : (tensor<f64>, tensor<f64>, tensor<1xi64>) -> tensor<3xf64>""",
    # collectives have rules (ad/rules/collectives.py); a max all-reduce (lax.pmax) has none
    "stablehlo.all_reduce": f'%r = "stablehlo.all_reduce"(%x) <{{{GROUPS}}}> {MAX_REDUCER} : (tensor<3xf64>) -> tensor<3xf64>',
}


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("name", list(ERROR_PROGRAMS))
def test_unsupported_op_raises(name: str, mode: str) -> None:
    with pytest.raises(DiffError) as info:
        _differentiate(_program(ERROR_PROGRAMS[name]), mode)
    message = str(info.value)
    assert f"'{name}'" in message, message
    assert "unsupported.mlir:" in message, f"the message should give the op's location: {message}"


def test_every_unsupported_op_has_an_error_test() -> None:
    untested = {cls.name for cls, why in UNSUPPORTED.items() if why not in ("terminator", "tuple", "composite")} - set(ERROR_PROGRAMS)
    assert not untested, f"unsupported ops without a test that they raise DiffError: {sorted(untested)}"


# ---------------------------------------------------------------- values that leave the float world

TUPLE_ROUND_TRIP = """
  %t = "stablehlo.tuple"(%x) : (tensor<3xf64>) -> tuple<tensor<3xf64>>
  %r = "stablehlo.get_tuple_element"(%t) <{index = 0 : i32}> : (tuple<tensor<3xf64>>) -> tensor<3xf64>"""


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_derivative_through_tuple_values_raises(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A float that flows through tuple values meets an op with no rule: it raises
    instead of its derivative silently vanishing (the rewrite rules off: with them,
    get_tuple_element(tuple(x)) is x before AD, below)."""
    monkeypatch.setenv("ZYMASE_OPT", "0")
    with pytest.raises(DiffError, match=r"'stablehlo\.(tuple|get_tuple_element)'"):
        _differentiate(_program(TUPLE_ROUND_TRIP), mode)


def test_tuple_round_trip_is_folded_before_ad() -> None:
    """With the rewrite rules, the round trip through a tuple is gone before AD and the
    derivative of x * x is 2 x."""
    from zymase.loader import load_mlir

    text = _program(TUPLE_ROUND_TRIP) + """
func.func @g(%x: tensor<3xf64>, %s: tensor<3xf64>) -> tensor<3xf64> {
  %r = enzyme.autodiff @f(%x, %s) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}
"""
    module = parse_located(text, "tuple.mlir")
    run_pipeline("zymase-derivative", module)
    import jax

    x = np.array([0.5, -1.0, 2.0])
    with jax.enable_x64(True):
        got = np.asarray(load_mlir(print_module(module)).g(x, np.ones(3)))
    np.testing.assert_allclose(got, 2 * x, rtol=1e-14)


def test_derivative_through_complex_values() -> None:
    """A float that flows through complex values keeps its derivative (complex numbers
    have rules: tests/test_complex_fft.py)."""
    from jax import lax

    def f(x):
        return jnp.real(lax.complex(x, jnp.zeros_like(x))) * x

    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(zymase.jvp(f, (x,), (np.ones(3),))[1], 2 * x)
    np.testing.assert_allclose(zymase.vjp(f, x)[1](np.ones(3))[0], 2 * x)


def test_error_names_rule_for_unsupported_body() -> None:
    """A structured op whose form has no rule (a scatter applying sin) raises, naming the op."""
    from jax import lax

    def f(x):
        dims = lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,), scatter_dims_to_operand_dims=(0,))
        return lax.scatter_apply(x, jnp.array([[0], [1]]), jnp.sin, dims, update_shape=(2,))

    with pytest.raises(DiffError, match=r"'stablehlo.scatter' at .*test_ad_coverage.py:\d+:\d+: only add, replace"):
        zymase.jvp(f, (np.ones(3, np.float32),), (np.ones(3, np.float32),))
    with pytest.raises(DiffError, match=r"'stablehlo.scatter' at .*: only add, replace"):
        zymase.grad(lambda x: f(x).sum())(np.ones(3, np.float32))


def test_batch_grouped_convolution_raises() -> None:
    from jax import lax

    def f(x, w):
        return lax.conv_general_dilated(x, w, (1,), "VALID", batch_group_count=2)

    x, w = np.ones((4, 3, 5), np.float32), np.ones((4, 3, 2), np.float32)
    with pytest.raises(DiffError, match=r"'stablehlo.convolution' at .*: batch_group_count > 1"):
        zymase.grad(lambda x, w: f(x, w).sum(), argnums=1)(x, w)
