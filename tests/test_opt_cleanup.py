"""``cse`` and ``dce`` (opt/cleanup.py) are xDSL's passes made cheaper: on the same module
they must leave the same module as xDSL's own (loops, branches, multi-block functions,
dead code whose liveness is only known after a later block or an enclosing op, duplicate
ops in nested regions, and a derivative the enzyme pass generated)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from xdsl.transforms.common_subexpression_elimination import cse as xdsl_cse
from xdsl.transforms.dead_code_elimination import region_dce as xdsl_region_dce

from zymase.frontend import lower
from zymase.ir import parse_module, print_module
from zymase.opt.cleanup import cse, region_dce

CF = """
func.func @loop(%x: f64, %y: f64) -> f64 {
  %lim = arith.constant 3.0 : f64
  %unused = arith.mulf %x, %y : f64
  cf.br ^h(%x, %y : f64, f64)
^h(%a: f64, %b: f64):
  %d = arith.addf %a, %a : f64
  %d2 = arith.addf %a, %a : f64
  %dead = arith.mulf %d, %d2 : f64
  %more = arith.cmpf ole, %d, %lim : f64
  cf.cond_br %more, ^h(%d, %dead : f64, f64), ^out(%d2 : f64)
^out(%r: f64):
  %s = arith.addf %r, %r : f64
  %s2 = arith.addf %r, %r : f64
  %t = arith.mulf %s, %s2 : f64
  return %t : f64
}
"""

WHILE = """
func.func @main(%x: tensor<4xf32>, %n: tensor<i32>) -> tensor<4xf32> {
  %zero = stablehlo.constant dense<0> : tensor<i32>
  %one = stablehlo.constant dense<1> : tensor<i32>
  %outer = stablehlo.multiply %x, %x : tensor<4xf32>
  %r:2 = stablehlo.while(%i = %zero, %v = %x) : tensor<i32>, tensor<4xf32>
  cond {
    %c = stablehlo.compare LT, %i, %n : (tensor<i32>, tensor<i32>) -> tensor<i1>
    stablehlo.return %c : tensor<i1>
  } do {
    %i1 = stablehlo.add %i, %one : tensor<i32>
    %w = stablehlo.multiply %v, %v : tensor<4xf32>
    %w2 = stablehlo.multiply %v, %v : tensor<4xf32>
    %unused = stablehlo.add %w, %outer : tensor<4xf32>
    %u = stablehlo.add %w, %w2 : tensor<4xf32>
    stablehlo.return %i1, %u : tensor<i32>, tensor<4xf32>
  }
  %o = stablehlo.multiply %x, %x : tensor<4xf32>
  %y = stablehlo.add %r#1, %o : tensor<4xf32>
  return %y : tensor<4xf32>
}
"""


def _jax_modules() -> list:
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3).astype(np.float32)

    def loop(x):
        return lax.fori_loop(0, 3, lambda i, c: jnp.sin(c) * c + jnp.sin(c), x).sum()

    def branch(x):
        return lax.cond(x.sum() > 0, lambda v: jnp.tanh(v) * jnp.tanh(v), lambda v: v * 2.0, x).sum()

    def reductions(x):
        return jnp.max(x, axis=1).sum() + jnp.sum(x * x) + jnp.sum(x * x)

    return [lower(f, x).module for f in (loop, branch, reductions)] + [lower(jax.grad(f), x).module for f in (loop, branch, reductions)]


def _cases() -> list:
    return [parse_module(CF), parse_module(WHILE), *_jax_modules()]


@pytest.fixture(scope="module")
def cases() -> list:
    return _cases()


def test_dce_leaves_what_xdsl_leaves(cases) -> None:
    for module in cases:
        ours, theirs = module.clone(), module.clone()
        changed = region_dce(ours.body)
        xdsl_region_dce(theirs.body)
        assert print_module(ours) == print_module(theirs)
        assert changed == (print_module(ours) != print_module(module))


def test_cse_leaves_what_xdsl_leaves(cases) -> None:
    for module in cases:
        ours, theirs = module.clone(), module.clone()
        cse(ours)
        xdsl_cse(theirs)
        assert print_module(ours) == print_module(theirs)


def test_on_a_generated_derivative() -> None:
    """The enzyme pass's output, with its dead forward values and repeated constants."""
    from zymase.ir.enzyme import ACTIVE, ACTIVENONEED, AutoDiffOp, add_diff_func
    from zymase.passes import get_all_passes
    from xdsl.context import Context
    from xdsl.passes import PassPipeline

    x = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    program = lower(lambda w: jnp.sum(jnp.tanh(x @ w.T + 1.0) ** 2), np.ones((5, 4)))
    add_diff_func(program.module, "d", AutoDiffOp, program.entry, [ACTIVE], [ACTIVENONEED])
    PassPipeline.parse_spec(get_all_passes(), "enzyme").apply(Context(), program.module)
    module = program.module
    for step in (lambda m: region_dce(m.body), cse):
        ours, theirs = module.clone(), module.clone()
        step(ours)
        (xdsl_region_dce(theirs.body) if step is not cse else xdsl_cse(theirs))
        assert print_module(ours) == print_module(theirs)
