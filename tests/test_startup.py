"""zymase-opt starts without JAX: listing passes and rules, and running pass pipelines on
MLIR text (the enzyme pass and zymase-hlo-opt included) import neither jax nor ml_dtypes
(together about a second of startup); only ``--run`` does. ``--list-passes`` does not
even import the IR. Beyond that, a run imports only what its input and passes need: the
dialects the text uses (registered by name), numpy only when something reads or builds a
constant, xDSL's arith, math and tensor dialects only when a scalar op is built or met
(the rewrite rules build StableHLO), and only the rewrite-rule families rooted at the
module's op classes. Each check runs in a fresh interpreter, since this one has long
imported JAX."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("jax", "jaxlib", "ml_dtypes")
IR = ("zymase.ir", "numpy")
SCALAR = ("xdsl.dialects.arith", "xdsl.dialects.math", "xdsl.dialects.tensor")
"""xDSL's dialects of scalar ops, which the builder (and so the rewrite rules) imports
only to build a scalar op."""
LAZY = ("numpy", "zymase.ir.stablehlo", "zymase.ir.chlo", "zymase.ir.linalg", "zymase.ir.host", *SCALAR, "xdsl.dialects.scf", "zymase.ir.builder", "zymase.opt.pattern")

# A dense layer with a squared-sum loss, differentiated by enzyme.autodiff; `* 1.0` and
# `2.0 + 3.0` give zymase-hlo-opt an identity and a constant fold to apply.
MODULE = """
func.func @layer(%w: tensor<3x4xf32>, %x: tensor<4xf32>, %b: tensor<f32>) -> tensor<f32> {
  %h = "stablehlo.dot_general"(%w, %x) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>}> : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3xf32>
  %bb = "stablehlo.broadcast_in_dim"(%b) <{broadcast_dimensions = array<i64>}> : (tensor<f32>) -> tensor<3xf32>
  %z = "stablehlo.add"(%h, %bb) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %t = "stablehlo.tanh"(%z) : (tensor<3xf32>) -> tensor<3xf32>
  %one = stablehlo.constant dense<1.0> : tensor<3xf32>
  %t1 = stablehlo.multiply %t, %one : tensor<3xf32>
  %sq = "stablehlo.multiply"(%t1, %t1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %two = stablehlo.constant dense<2.0> : tensor<f32>
  %three = stablehlo.constant dense<3.0> : tensor<f32>
  %zero = stablehlo.add %two, %three : tensor<f32>
  %s = "stablehlo.reduce"(%sq, %zero) <{dimensions = array<i64: 0>}> ({
  ^bb0(%a: tensor<f32>, %c: tensor<f32>):
    %r = "stablehlo.add"(%a, %c) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    "stablehlo.return"(%r) : (tensor<f32>) -> ()
  }) : (tensor<3xf32>, tensor<f32>) -> tensor<f32>
  func.return %s : tensor<f32>
}

func.func @grad_layer(%w: tensor<3x4xf32>, %x: tensor<4xf32>, %b: tensor<f32>, %d: tensor<f32>) -> (tensor<3x4xf32>, tensor<f32>) {
  %dw, %db = enzyme.autodiff @layer(%w, %x, %b, %d) {activity = [enzyme_active, enzyme_const, enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<3x4xf32>, tensor<4xf32>, tensor<f32>, tensor<f32>) -> (tensor<3x4xf32>, tensor<f32>)
  func.return %dw, %db : tensor<3x4xf32>, tensor<f32>
}
"""

SCRIPT = textwrap.dedent(
    """
    import contextlib, io, json, sys
    from zymase.tools.opt import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(json.loads(sys.argv[1]))
    loaded = [m for m in %r if m in sys.modules]
    lazy = [m for m in %r if m in sys.modules]
    families = sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("zymase.opt.rules."))
    print(json.dumps({"rc": rc, "out": out.getvalue(), "loaded": loaded, "ir": [m for m in %r if m in sys.modules], "lazy": lazy, "families": families}))
    """
    % (HEAVY, LAZY, IR)
)


def run_opt(argv: list[str]) -> dict:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(argv)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def module_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("startup") / "layer.mlir"
    path.write_text(MODULE)
    return str(path)


def test_list_passes_imports_no_jax() -> None:
    got = run_opt(["--list-passes"])
    assert got["rc"] == 0
    assert "enzyme" in got["out"].split() and "zymase-hlo-opt" in got["out"].split()
    assert got["loaded"] == [] and got["ir"] == []


def test_list_rules_imports_no_jax() -> None:
    got = run_opt(["--list-rules"])
    assert got["rc"] == 0 and got["out"].strip()
    assert got["loaded"] == []


@pytest.mark.parametrize(
    "pipeline",
    ["zymase-hlo-opt,enzyme,cse,dce", "inline,enzyme-activity-opt,enzyme,zymase-hlo-opt,canonicalize,cse,dce", "print-activity-analysis"],
)
def test_pass_pipeline_imports_no_jax(module_file: str, pipeline: str) -> None:
    got = run_opt([module_file, "-p", pipeline])
    assert got["rc"] == 0
    if "enzyme," in pipeline:
        assert "enzyme.autodiff" not in got["out"] and "diffelayer" in got["out"]
    assert got["loaded"] == []


def test_canonicalize_imports_only_the_dialects_of_the_text(module_file: str) -> None:
    """The module uses func and stablehlo (and builtin): chlo, matrix, host, arith, math
    and tensor are never imported, and numpy is not either, since nothing reads a
    constant; nor is the IR builder or the rewrite-rule machinery. The enzyme.autodiff's
    canonicalization pattern (activity canonicalization) runs the activity analysis,
    which names xDSL's scf loops: scf is the one module it adds."""
    got = run_opt([module_file, "-p", "canonicalize,cse"])
    assert got["rc"] == 0 and "stablehlo.dot_general" in got["out"]
    assert got["lazy"] == ["zymase.ir.stablehlo", "xdsl.dialects.scf"] and got["families"] == []


def test_hlo_opt_imports_only_the_rule_families_it_needs(module_file: str) -> None:
    """No op of the module (nor any op the rewrites create) is a slice, dynamic slice,
    select or while loop: those families stay unimported; the ones rooted at
    dot_general, reduce and the elementwise ops are imported."""
    got = run_opt([module_file, "-p", "zymase-hlo-opt"])
    assert got["rc"] == 0 and "stablehlo.constant dense<5.000000e+00>" in got["out"]
    assert {"dot_general", "reduce", "algebraic", "constant_fold"} <= set(got["families"])
    assert not {"slice", "dynamic", "compare_select", "while_loop"} & set(got["families"])
    assert got["loaded"] == []


def test_hlo_opt_imports_no_scalar_dialect(module_file: str) -> None:
    """The rewrites of a StableHLO module build StableHLO ops only: the builder and the
    rule machinery import xDSL's arith, math and tensor dialects only to build a scalar op
    (and ``CONSTANT`` names ``arith.constant`` without importing arith)."""
    got = run_opt([module_file, "-p", "zymase-hlo-opt"])
    assert got["rc"] == 0 and "stablehlo.constant dense<5.000000e+00>" in got["out"]
    assert not set(SCALAR) & set(got["lazy"])


def _fresh(code: str) -> None:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_rule_machinery_imports_no_numpy() -> None:
    """The IR builder, the rule machinery, the helpers the rule families share and the
    index of the families' roots import neither numpy nor the scalar dialects: numpy is
    imported by the functions that read or build constants."""
    _fresh(
        f"""
        import sys
        import zymase.ir.builder, zymase.ir.dense, zymase.ir.query, zymase.opt.pattern, zymase.opt.rules.common
        from zymase.opt.rules import roots_by_family
        assert roots_by_family()
        loaded = [m for m in ("numpy", "ml_dtypes", "jax", *{SCALAR!r}) if m in sys.modules]
        assert not loaded, loaded
        """
    )


def test_scalar_ops_and_arith_constants_when_arith_is_loaded() -> None:
    """What the lazy imports must not change: a scalar op built by the builder imports
    its dialect and is that dialect's op; ``CONSTANT`` (for ``needs`` and the constant
    readers) covers ``arith.constant`` once arith is loaded, though classes were tested
    against it before (``abc`` caches the answers), and the readers read its value."""
    _fresh(
        """
        import sys
        from xdsl.dialects.builtin import FloatAttr, IntegerAttr, f32, i32, TensorType
        from xdsl.ir import Block
        from zymase.ir import stablehlo as hlo
        from zymase.ir.builder import Builder, constant_value, is_arith_constant
        from zymase.opt.pattern import CONSTANT, ArithConstant, Needs, splat_value, value_of
        from zymase.opt.rules.common import is_integer

        block = Block(arg_types=[f32, f32, TensorType(f32, [3])])
        b = Builder(block)
        c = b.constant(2.0, TensorType(f32, []))
        assert isinstance(c.owner, CONSTANT) and splat_value(c) == 2.0
        assert not issubclass(hlo.AddOp, ArithConstant) and not isinstance(block.args[2].owner, CONSTANT)
        assert not Needs(at=((0, CONSTANT),)).admits((hlo.AddOp,)) and not is_arith_constant(c.owner)
        assert "xdsl.dialects.arith" not in sys.modules and "xdsl.dialects.math" not in sys.modules
        x, y = block.args[0], block.args[1]
        s = b.add(x, y)
        from xdsl.dialects import arith, math
        assert isinstance(s.owner, arith.AddfOp) and isinstance(b.exp(x).owner, math.ExpOp)
        k = b.constant(3.0, f32)
        assert isinstance(k.owner, arith.ConstantOp) and is_arith_constant(k.owner)
        assert issubclass(arith.ConstantOp, ArithConstant) and isinstance(k.owner, CONSTANT)
        assert Needs(at=((0, CONSTANT),)).admits((arith.ConstantOp,)) and not issubclass(hlo.AddOp, ArithConstant)
        assert value_of(k) == 3.0 and splat_value(k) == 3.0 and float(constant_value(k)) == 3.0
        n = b.constant(7, i32)
        assert isinstance(n.owner, arith.ConstantOp) and splat_value(n) == 7 and is_integer(n) and not is_integer(k)
        """
    )


def test_list_rules_lists_every_family() -> None:
    """``--list-rules`` imports every family, so each family file shows up in the list."""
    from zymase.opt.rules import family_names

    got = run_opt(["--list-rules"])
    listed = {line.split("(", 1)[1].split(")", 1)[0] for line in got["out"].splitlines()}
    assert set(family_names()) == listed and got["families"] == sorted({*family_names(), "common"})


def test_run_still_imports_jax(module_file: str) -> None:
    got = run_opt([module_file, "-p", "zymase-hlo-opt,enzyme,cse,dce", "--run", "layer", "--args", "0.5", "1.0", "0.25"])
    assert got["rc"] == 0
    # sum(tanh(0.5 * 4 + 0.25) ** 2) * 3 rows + 5
    assert float(got["out"].strip().removeprefix("array(").split(",")[0]) == pytest.approx(3 * 0.9780261 ** 2 + 5, rel=1e-5)
    assert "jax" in got["loaded"]


def test_package_names_are_lazy() -> None:
    code = textwrap.dedent(
        """
        import sys
        import zymase
        assert "jax" not in sys.modules, "import zymase imported jax"
        from zymase import grad, MlirModule
        import zymase.api
        assert grad is zymase.api.grad and zymase.grad is grad and MlirModule is zymase.MlirModule
        assert all(hasattr(zymase, name) for name in zymase.__all__)
        assert set(zymase.__all__) <= set(dir(zymase))
        try:
            zymase.no_such_name
        except AttributeError:
            pass
        else:
            raise AssertionError("zymase.no_such_name did not raise")
        """
    )
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_hlo_opt_without_constants_to_fold_imports_no_numpy(tmp_path) -> None:
    """numpy is imported by the rules that read or build constants' values: a module with
    none to fold (and no example of a rule run) is optimized without it."""
    path = tmp_path / "plain.mlir"
    path.write_text(
        """
func.func @f(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %n = stablehlo.negate %x : tensor<4xf32>
  %m = stablehlo.negate %n : tensor<4xf32>
  %s = stablehlo.add %m, %y : tensor<4xf32>
  %t = stablehlo.tanh %s : tensor<4xf32>
  func.return %t : tensor<4xf32>
}
"""
    )
    got = run_opt([str(path), "-p", "zymase-hlo-opt"])
    assert got["rc"] == 0 and "stablehlo.negate" not in got["out"]  # negate(negate(x)) -> x ran
    assert "numpy" not in got["lazy"]
