"""MLIR users' conventions around the enzyme ops: ``-p canonicalize`` runs the activity
canonicalization, a call of a declaration is refused in one line naming it and where,
``strong_zero``, ``--allow-unregistered-dialect``, recursive functions."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import zymase
from zymase.ad.enzyme_pass import differentiate_module
from zymase.ad.errors import DiffError
from zymase.ir import print_module
from zymase.loader import MlirError, parse_located, verify_located
from zymase.tools.opt import main as opt_main

pytestmark = pytest.mark.usefixtures("x64")


def _opt(argv, capsys) -> tuple[int, str, str]:
    code = opt_main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


# ============================================================================ 1. canonicalize

SQUARES = """
func.func @f(%x: f64, %y: f64) -> (f64, f64) {
  %a = arith.mulf %x, %x : f64
  %b = arith.mulf %y, %y : f64
  func.return %a, %b : f64, f64
}
func.func @g(%x: f64, %y: f64, %s0: f64) -> f64 {
  %zero = arith.constant 0.0 : f64
  %a, %b, %dx, %dy = enzyme.autodiff @f(%x, %y, %s0, %zero) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>]} : (f64, f64, f64, f64) -> (f64, f64, f64, f64)
  func.return %dx : f64
}
"""


def test_canonicalize_demotes_activities_as_the_activity_pass_does(tmp_path, capsys) -> None:
    path = _write(tmp_path, "squares.mlir", SQUARES)
    code, out, err = _opt([path, "-p", "canonicalize"], capsys)
    assert code == 0 and err == ""
    line = next(ln.strip() for ln in out.splitlines() if "enzyme.autodiff" in ln)
    # both primals unused, result 1's seed zero, y's gradient unused
    assert line == (
        "%dx = enzyme.autodiff @f(%x, %y, %s0) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], "
        "ret_activity = [#enzyme<activity enzyme_activenoneed>, #enzyme<activity enzyme_constnoneed>]} : (f64, f64, f64) -> f64"
    )
    code, same, _ = _opt([path, "-p", "enzyme-activity-canonicalize,canonicalize"], capsys)
    assert code == 0 and same == out


def test_canonicalized_request_gives_the_same_gradient(tmp_path, capsys) -> None:
    path = _write(tmp_path, "squares.mlir", SQUARES)
    for passes in (["-p", "canonicalize"], []):
        code, out, err = _opt([path, *passes, "--run", "g", "--args", "1.5", "-2", "3"], capsys)
        assert code == 0 and err == "" and out == "array(9.)\n"  # 2 x s0


def test_parsing_enzyme_ops_imports_no_ad_code() -> None:
    """The canonicalization patterns are imported when canonicalize meets an enzyme op."""
    code = f"""
        import sys
        from zymase.loader import parse_located, verify_located
        m = parse_located({SQUARES!r})
        verify_located(m)
        ad = sorted(k for k in sys.modules if k.startswith("zymase.ad") or k == "zymase.analysis.activity")
        assert not ad, ad
        from zymase.ir.enzyme import AutoDiffOp, ActivityCanonicalization
        assert "zymase.ad.canonicalize" not in sys.modules
        (pattern,) = AutoDiffOp.get_trait(ActivityCanonicalization).get_patterns(AutoDiffOp)
        assert type(pattern).__module__ == "zymase.ad.canonicalize"
        """
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr


# ============================================================================ 2. declarations

DECLARED = """func.func private @ext(f64) -> f64
func.func @f(%x: f64) -> f64 {
  %y = func.call @ext(%x) : (f64) -> f64
  %z = arith.mulf %y, %x : f64
  func.return %z : f64
}
func.func @df(%x: f64, %d: f64) -> f64 {
  %r = enzyme.fwddiff @f(%x, %d) {activity = [#enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dupnoneed>]} : (f64, f64) -> f64
  func.return %r : f64
}
func.func @sq(%x: f64) -> f64 {
  %y = arith.mulf %x, %x : f64
  func.return %y : f64
}
"""

REVERSE_DECLARED = DECLARED.replace(
    "enzyme.fwddiff @f(%x, %d) {activity = [#enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dupnoneed>]}",
    "enzyme.autodiff @f(%x, %d) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>]}",
)


@pytest.mark.parametrize("text", [DECLARED, REVERSE_DECLARED], ids=["forward", "reverse"])
def test_call_of_a_declaration_is_one_line_naming_callee_and_call(tmp_path, capsys, text) -> None:
    path = _write(tmp_path, "decl.mlir", text)
    code, out, err = _opt([path, "-p", "enzyme"], capsys)
    assert code == 1 and out == ""
    assert err == (
        f"{path}: error: pass pipeline 'enzyme' failed: cannot differentiate the call at {path}:3:3 of @ext: "
        "it is a declaration without a body and has no derivative rule\n"
    )
    module = parse_located(text, "decl.mlir")
    verify_located(module)
    with pytest.raises(DiffError) as info:
        differentiate_module(module)
    assert str(info.value) == "cannot differentiate the call at decl.mlir:3:3 of @ext: it is a declaration without a body and has no derivative rule"


def test_declaration_when_running(tmp_path, capsys) -> None:
    """Running the request: the same one line (not an internal error); a function that
    does not reach the request still runs."""
    path = _write(tmp_path, "decl.mlir", DECLARED)
    code, out, err = _opt([path, "--run", "df", "--args", "1", "1"], capsys)
    assert code == 1 and err == f"zymase-opt: error: cannot differentiate the call at {path}:3:3 of @ext: it is a declaration without a body and has no derivative rule\n"
    code, out, err = _opt([path, "--run", "sq", "--args", "3"], capsys)
    assert code == 0 and out == "array(9.)\n"
    module = zymase.load_mlir(DECLARED, "decl.mlir")
    with pytest.raises(DiffError, match=r"^cannot differentiate the call at decl\.mlir:3:3 of @ext: it is a declaration"):
        module.df(1.0, 1.0)
    assert float(module.sq(3.0)) == 9.0


# ============================================================================ 3. strong_zero

STRONG = """
func.func @h(%x: f64) -> f64 {
  %y = arith.mulf %x, %x : f64
  %z = math.sin %y : f64
  %w = arith.mulf %z, %x : f64
  func.return %w : f64
}
func.func @fwd(%x: f64, %dx: f64) -> f64 {
  %r = enzyme.fwddiff @h(%x, %dx) <{activity = [#enzyme.activity<enzyme_dup>], ret_activity = [#enzyme.activity<enzyme_dupnoneed>]STRONG}> : (f64, f64) -> f64
  func.return %r : f64
}
func.func @rev(%x: f64, %s: f64) -> f64 {
  %r = enzyme.autodiff @h(%x, %s) <{activity = [#enzyme.activity<enzyme_active>], ret_activity = [#enzyme.activity<enzyme_activenoneed>]STRONG}> : (f64, f64) -> f64
  func.return %r : f64
}
"""


def _strong(on: bool) -> str:
    return STRONG.replace("STRONG", ", strong_zero = true" if on else "")


@pytest.mark.parametrize("fn", ["fwd", "rev"])
def test_strong_zero_zero_derivative_times_inf_is_zero(fn: str) -> None:
    strong = zymase.load_mlir(_strong(True))
    plain = zymase.load_mlir(_strong(False))
    assert float(strong[fn](np.inf, 0.0)) == 0.0
    assert np.isnan(float(plain[fn](np.inf, 0.0)))
    # elsewhere the two agree: d/dx x sin(x^2) = sin(x^2) + 2 x^2 cos(x^2)
    want = np.sin(2.25) + 2 * 2.25 * np.cos(2.25)
    assert float(strong[fn](1.5, 1.0)) == pytest.approx(want, rel=1e-12)
    assert float(plain[fn](1.5, 1.0)) == pytest.approx(want, rel=1e-12)


def test_strong_zero_guards_each_product_with_a_select() -> None:
    """In the generated code each product of a derivative and a partial is
    ``select(d == 0, 0, d * partial)``: 5 in each mode (two for x * x, one for sin's
    partial cos, two for z * x); without strong_zero, none."""
    for on, selects in ((True, 5), (False, 0)):
        module = parse_located(_strong(on))
        differentiate_module(module)
        text = print_module(module, generic=False)
        for name in ("fwddiffeh", "diffeh"):
            body = text.split(f"func.func private @{name}(")[1].split("\n  }")[0]
            assert body.count("arith.select") == selects, (name, body)
            assert body.count("arith.cmpf oeq") == selects


def test_strong_zero_with_width_and_tensors() -> None:
    text = """
func.func @e(%x: tensor<3xf64>) -> tensor<3xf64> {
  %y = stablehlo.multiply %x, %x : tensor<3xf64>
  %z = stablehlo.exponential %y : tensor<3xf64>
  func.return %z : tensor<3xf64>
}
func.func @fwd2(%x: tensor<3xf64>, %dx: tensor<2x3xf64>) -> tensor<2x3xf64> {
  %r = enzyme.fwddiff @e(%x, %dx) {activity = [#enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dupnoneed>], width = 2, strong_zero = true} : (tensor<3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
  func.return %r : tensor<2x3xf64>
}
func.func @rev2(%x: tensor<3xf64>, %s: tensor<2x3xf64>) -> tensor<2x3xf64> {
  %r = enzyme.autodiff @e(%x, %s) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>], width = 2, strong_zero = true} : (tensor<3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
  func.return %r : tensor<2x3xf64>
}
"""
    module = zymase.load_mlir(text)
    x = np.array([np.inf, 0.5, 40.0])  # exp(40^2) overflows: inf
    d = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    want = np.array([[0.0, np.exp(0.25), 0.0], [np.inf, 0.0, np.inf]])
    np.testing.assert_allclose(np.asarray(module.fwd2(x, d)), want, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(module.rev2(x, d)), want, rtol=1e-12)


def test_strong_zero_with_width_on_scalars() -> None:
    text = """
func.func @sq(%x: f64) -> f64 {
  %y = arith.mulf %x, %x : f64
  func.return %y : f64
}
func.func @f2(%x: f64, %dx: tensor<2xf64>) -> tensor<2xf64> {
  %r = enzyme.fwddiff @sq(%x, %dx) {activity = [#enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dupnoneed>], width = 2, strong_zero = true} : (f64, tensor<2xf64>) -> tensor<2xf64>
  func.return %r : tensor<2xf64>
}
func.func @r2(%x: f64, %s: tensor<2xf64>) -> tensor<2xf64> {
  %r = enzyme.autodiff @sq(%x, %s) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>], width = 2, strong_zero = true} : (f64, tensor<2xf64>) -> tensor<2xf64>
  func.return %r : tensor<2xf64>
}
"""
    module = zymase.load_mlir(text)
    for fn in (module.f2, module.r2):
        np.testing.assert_array_equal(np.asarray(fn(np.inf, np.array([0.0, 1.0]))), [0.0, np.inf])
        np.testing.assert_array_equal(np.asarray(fn(1.5, np.array([1.0, 2.0]))), [3.0, 6.0])


def test_strong_zero_prints_and_survives_canonicalization() -> None:
    module = parse_located(_strong(True))
    verify_located(module)
    text = print_module(module, generic=False)
    assert text.count("strong_zero = true} :") == 2
    again = parse_located(text)
    verify_located(again)
    assert print_module(again, generic=False) == text
    from zymase.ad.canonicalize import canonicalize_activities

    canonicalize_activities(again)
    assert print_module(again, generic=False) == text  # nothing to demote: the ops are kept as they are
    strong = _strong(True).replace("%r = enzyme.autodiff @h(%x, %s)", "%p, %r = enzyme.autodiff @h(%x, %s)").replace(
        "enzyme_activenoneed>], strong_zero = true}> : (f64, f64) -> f64\n  func.return %r", "enzyme_active>], strong_zero = true}> : (f64, f64) -> (f64, f64)\n  func.return %r"
    )
    module = parse_located(strong)
    canonicalize_activities(module)  # result 0's primal unused: active -> activenoneed
    line = next(ln for ln in print_module(module, generic=False).splitlines() if "enzyme.autodiff" in ln)
    assert "enzyme_activenoneed>], strong_zero = true}" in line


# ============================================================================ 4. unregistered dialects

UNREGISTERED = """func.func @inactive(%x: f64) -> f64 {
  "test.foo"() : () -> ()
  %c = "test.const"() {value = 2.0 : f64} : () -> f64
  func.return %x : f64
}
func.func @di(%x: f64, %dx: f64) -> f64 {
  %r = enzyme.fwddiff @inactive(%x, %dx) {activity = [#enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dupnoneed>]} : (f64, f64) -> f64
  func.return %r : f64
}
func.func @sq(%x: f64) -> f64 {
  %y = arith.mulf %x, %x : f64
  func.return %y : f64
}
"""

ACTIVE_UNREGISTERED = """func.func @active(%x: f64) -> f64 {
  %y = "test.bar"(%x) : (f64) -> f64
  %z = arith.mulf %y, %x : f64
  func.return %z : f64
}
func.func @ga(%x: f64, %s: f64) -> f64 {
  %r = enzyme.autodiff @active(%x, %s) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (f64, f64) -> f64
  func.return %r : f64
}
"""


def test_unregistered_op_needs_the_flag(tmp_path, capsys) -> None:
    path = _write(tmp_path, "unreg.mlir", UNREGISTERED)
    code, out, err = _opt([path], capsys)
    assert code == 1 and err == f"{path}:2:13: error: Operation test.foo is not registered\n"
    code, out, err = _opt([path, "--allow-unregistered-dialect"], capsys)
    assert code == 0 and err == ""
    assert '    "test.foo"() : () -> ()\n    %c = "test.const"() {value = 2.000000e+00 : f64} : () -> f64\n' in out
    again = _write(tmp_path, "again.mlir", out)
    code, out2, _ = _opt([again, "--allow-unregistered-dialect"], capsys)
    assert code == 0 and out2 == out


def test_unregistered_op_passes_through_passes(tmp_path, capsys) -> None:
    """Passes that need not know its meaning keep it (with unknown effects, dce keeps it);
    an inactive one is copied into the derivative."""
    path = _write(tmp_path, "unreg.mlir", UNREGISTERED)
    code, out, err = _opt([path, "--allow-unregistered-dialect", "-p", "canonicalize,cse,dce,enzyme"], capsys)
    assert code == 0 and err == ""
    derivative = out.split("func.func private @fwddiffeinactive(")[1]
    assert '"test.foo"() : () -> ()' in derivative and '"test.const"()' in derivative
    assert "return %1 : f64" in derivative  # the tangent of x passes through


def test_active_unregistered_op_is_refused(tmp_path, capsys) -> None:
    path = _write(tmp_path, "active.mlir", ACTIVE_UNREGISTERED)
    code, out, err = _opt([path, "--allow-unregistered-dialect", "-p", "enzyme"], capsys)
    assert code == 1 and out == ""
    assert err == (
        f"{path}: error: pass pipeline 'enzyme' failed: cannot differentiate through the unregistered op 'test.bar' at {path}:2:3: "
        "its derivative is unknown (the op is active)\n"
    )


def test_running_an_unregistered_op_is_refused(tmp_path, capsys) -> None:
    path = _write(tmp_path, "unreg.mlir", UNREGISTERED)
    code, out, err = _opt([path, "--allow-unregistered-dialect", "--run", "di", "--args", "1", "1"], capsys)
    assert code == 1 and err == f"{path}:2:3: error: cannot run the unregistered op 'test.foo': zymase does not know what it computes\n"
    module = zymase.load_mlir(UNREGISTERED, "u.mlir", allow_unregistered=True)
    assert float(module.sq(3.0)) == 9.0
    with pytest.raises(MlirError, match=r"^u\.mlir:2:3: error: cannot run the unregistered op 'test\.foo'"):
        module.inactive(1.0)
    with pytest.raises(MlirError, match="Operation test.foo is not registered"):
        zymase.load_mlir(UNREGISTERED, "u.mlir")


# ============================================================================ 5. recursion

RECURSIVE = """
func.func @pow(%x: f64, %n: i64) -> f64 {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %done = arith.cmpi sle, %n, %c0 : i64
  %r = scf.if %done -> (f64) {
    %one = arith.constant 1.0 : f64
    scf.yield %one : f64
  } else {
    %m = arith.subi %n, %c1 : i64
    %p = func.call @pow(%x, %m) : (f64, i64) -> f64
    %q = arith.mulf %p, %x : f64
    scf.yield %q : f64
  }
  func.return %r : f64
}
func.func @cube(%x: f64) -> f64 {
  %c3 = arith.constant 3 : i64
  %r = func.call @pow(%x, %c3) : (f64, i64) -> f64
  func.return %r : f64
}
func.func @dpow(%x: f64, %dx: f64, %n: i64) -> f64 {
  %r = enzyme.fwddiff @pow(%x, %dx, %n) {activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_dupnoneed>]} : (f64, f64, i64) -> f64
  func.return %r : f64
}
func.func @gpow(%x: f64, %n: i64, %s: f64) -> f64 {
  %r = enzyme.autodiff @pow(%x, %n, %s) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (f64, i64, f64) -> f64
  func.return %r : f64
}
"""

ENDLESS = """
func.func @f(%x: f32) -> f32 {
  %0 = call @g(%x) : (f32) -> f32
  return %0 : f32
}
func.func @g(%x: f32) -> f32 {
  %0 = call @f(%x) : (f32) -> f32
  return %0 : f32
}
"""


def test_recursive_functions_run_and_differentiate() -> None:
    module = zymase.load_mlir(RECURSIVE)
    assert float(module.pow(1.5, 4)) == 1.5**4
    assert float(module.cube(2.0)) == 8.0
    assert float(module.dpow(1.5, 1.0, 4)) == pytest.approx(4 * 1.5**3, rel=1e-14)
    assert float(module.gpow(1.5, 4, 2.0)) == pytest.approx(2 * 4 * 1.5**3, rel=1e-14)
    assert float(module.pow(1.5, 0)) == 1.0


def test_recursion_with_run(tmp_path, capsys) -> None:
    path = _write(tmp_path, "rec.mlir", RECURSIVE)
    code, out, err = _opt([path, "--run", "cube", "--args", "2", "--run", "dpow", "--args", "1.5", "1", "4"], capsys)
    assert code == 0 and err == ""
    assert out == "// @cube(2)\narray(8.)\n// @dpow(1.5, 1, 4)\narray(13.5)\n"


def test_endless_recursion_is_one_line(tmp_path, capsys) -> None:
    path = _write(tmp_path, "endless.mlir", ENDLESS)
    code, out, err = _opt([path, "--run", "f", "--args", "1"], capsys)
    assert code == 1 and out == ""
    assert err == "zymase-opt: error: the recursion @f -> @g -> @f did not end within Python's stack (recursive functions run op by op, without jax.jit)\n"


# ============================================================================ 6. enzyme.batch

BATCH = """
func.func @sq(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %a = stablehlo.multiply %x, %y : tensor<3xf64>
  %b = stablehlo.sine %a : tensor<3xf64>
  return %b : tensor<3xf64>
}
func.func @bsq(%x: tensor<2x2x3xf64>, %y: tensor<2x2x3xf64>) -> tensor<2x2x3xf64> {
  %r = enzyme.batch @sq(%x, %y) {batch_shape = array<i64: 2, 2>} : (tensor<2x2x3xf64>, tensor<2x2x3xf64>) -> tensor<2x2x3xf64>
  return %r : tensor<2x2x3xf64>
}
func.func @g(%x: tensor<2x2x3xf64>, %y: tensor<2x2x3xf64>, %s: tensor<2x2x3xf64>) -> tensor<2x2x3xf64> {
  %r = enzyme.autodiff @bsq(%x, %y, %s) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (tensor<2x2x3xf64>, tensor<2x2x3xf64>, tensor<2x2x3xf64>) -> tensor<2x2x3xf64>
  return %r : tensor<2x2x3xf64>
}
func.func @t(%x: tensor<2x2x3xf64>, %dx: tensor<2x2x3xf64>, %y: tensor<2x2x3xf64>) -> tensor<2x2x3xf64> {
  %r = enzyme.fwddiff @bsq(%x, %dx, %y) {activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_dupnoneed>]} : (tensor<2x2x3xf64>, tensor<2x2x3xf64>, tensor<2x2x3xf64>) -> tensor<2x2x3xf64>
  return %r : tensor<2x2x3xf64>
}
func.func @mul(%x: f64, %y: f64) -> f64 {
  %z = arith.mulf %x, %y : f64
  return %z : f64
}
func.func @bmul(%x: tensor<4xf64>, %y: tensor<4xf64>) -> tensor<4xf64> {
  %r = enzyme.batch @mul(%x, %y) <{batch_shape = array<i64: 4>}> : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  return %r : tensor<4xf64>
}
func.func @gmul(%x: tensor<4xf64>, %y: tensor<4xf64>, %s: tensor<4xf64>) -> (tensor<4xf64>, tensor<4xf64>) {
  %r:2 = enzyme.autodiff @bmul(%x, %y, %s) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (tensor<4xf64>, tensor<4xf64>, tensor<4xf64>) -> (tensor<4xf64>, tensor<4xf64>)
  return %r#0, %r#1 : tensor<4xf64>, tensor<4xf64>
}
func.func @tmul(%x: tensor<4xf64>, %dx: tensor<4xf64>, %y: tensor<4xf64>) -> tensor<4xf64> {
  %r = enzyme.fwddiff @bmul(%x, %dx, %y) {activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_dupnoneed>]} : (tensor<4xf64>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  return %r : tensor<4xf64>
}
"""


def test_batch_runs_and_differentiates() -> None:
    module = zymase.load_mlir(BATCH)
    rng = np.random.default_rng(0)
    x, y, s = (rng.normal(size=(2, 2, 3)) for _ in range(3))
    np.testing.assert_allclose(np.asarray(module.bsq(x, y)), np.sin(x * y), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(module.g(x, y, s)), s * y * np.cos(x * y), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(module.t(x, s, y)), s * y * np.cos(x * y), rtol=1e-12)
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, -1.0, 2.0, 3.0])
    np.testing.assert_array_equal(np.asarray(module.bmul(a, b)), a * b)  # a function on scalars
    ds = np.array([1.0, -2.0, 0.5, 3.0])
    gx, gy = module.gmul(a, b, ds)  # ... differentiated through its scalar extracts and splats
    np.testing.assert_allclose(np.asarray(gx), ds * b, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(gy), ds * a, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(module.tmul(a, ds, b)), ds * b, rtol=1e-14)


@pytest.mark.parametrize(
    "op,message",
    [
        (
            "enzyme.batch @sq(%x, %x) {batch_shape = array<i64: 2>} : (tensor<2x4xf64>, tensor<2x4xf64>) -> tensor<2x3xf64>",
            "operand 0 has type tensor<2x4xf64>, expected tensor<2x3xf64> (type tensor<3xf64> of @sq with batch_shape [2])",
        ),
        (
            "enzyme.batch @sq(%x) {batch_shape = array<i64: 2>} : (tensor<2x4xf64>) -> tensor<2x3xf64>",
            "@sq has 2 argument(s), the op 1 operand(s)",
        ),
    ],
)
def test_batch_verifier(op: str, message: str) -> None:
    text = BATCH.split("func.func @bsq")[0] + f"func.func @b(%x: tensor<2x4xf64>) -> tensor<2x3xf64> {{\n  %r = {op}\n  return %r : tensor<2x3xf64>\n}}\n"
    module = parse_located(text, "b.mlir")
    with pytest.raises(MlirError) as info:
        verify_located(module)
    assert str(info.value) == f"b.mlir:8:3: error: 'enzyme.batch' op at b.mlir:8:3: {message}"


def test_batch_needs_its_shape() -> None:
    text = BATCH.replace("{batch_shape = array<i64: 2, 2>}", "{}")
    with pytest.raises(MlirError, match=r"^<input>:8:\d+: error: 'enzyme.batch' expects a 'batch_shape' attribute"):
        parse_located(text)


STRONG_DOT = """
func.func @d(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<f64> {
  %r = stablehlo.dot_general %x, %y, contracting_dims = [0] x [0] : (tensor<3xf64>, tensor<3xf64>) -> tensor<f64>
  func.return %r : tensor<f64>
}
func.func @s(%x: tensor<3xf64>) -> tensor<f64> {
  %c = stablehlo.constant dense<0.0> : tensor<f64>
  %m = stablehlo.multiply %x, %x : tensor<3xf64>
  %r = stablehlo.reduce(%m init: %c) applies stablehlo.add across dimensions = [0] : (tensor<3xf64>, tensor<f64>) -> tensor<f64>
  func.return %r : tensor<f64>
}
func.func @fwd(%x: tensor<3xf64>, %dx: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<f64> {
  %r = enzyme.fwddiff @d(%x, %dx, %y) <{activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_const>], ret_activity = [#enzyme.activity<enzyme_dupnoneed>], strong_zero = true}> : (tensor<3xf64>, tensor<3xf64>, tensor<3xf64>) -> tensor<f64>
  func.return %r : tensor<f64>
}
func.func @rev(%x: tensor<3xf64>, %y: tensor<3xf64>, %s: tensor<f64>) -> tensor<3xf64> {
  %r = enzyme.autodiff @d(%x, %y, %s) <{activity = [#enzyme.activity<enzyme_active>, #enzyme.activity<enzyme_const>], ret_activity = [#enzyme.activity<enzyme_activenoneed>], strong_zero = true}> : (tensor<3xf64>, tensor<3xf64>, tensor<f64>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}
func.func @rev_sum(%x: tensor<3xf64>, %s: tensor<f64>) -> tensor<3xf64> {
  %r = enzyme.autodiff @s(%x, %s) <{activity = [#enzyme.activity<enzyme_active>], ret_activity = [#enzyme.activity<enzyme_activenoneed>], strong_zero = true}> : (tensor<3xf64>, tensor<f64>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}
"""


@pytest.mark.parametrize("fn", ["fwd", "rev"])
def test_strong_zero_refuses_an_unguarded_contraction(fn: str) -> None:
    """dot_general's derivative multiplies by the other operand without the strong-zero
    guard: under strong_zero it is refused in one line, not differentiated to nan."""
    funcs = {chunk.split("(")[0]: "func.func @" + chunk for chunk in STRONG_DOT.split("func.func @")[1:]}
    module = parse_located(funcs["d"] + funcs[fn])
    with pytest.raises(DiffError) as e:
        differentiate_module(module)
    assert "stablehlo.dot_general" in str(e.value) and "strong_zero" in str(e.value) and "\n" not in str(e.value)


def test_strong_zero_keeps_a_sum_reduce() -> None:
    funcs = {chunk.split("(")[0]: "func.func @" + chunk for chunk in STRONG_DOT.split("func.func @")[1:]}
    module = zymase.load_mlir(funcs["s"] + funcs["rev_sum"])
    x = np.array([np.inf, 1.0, 2.0])
    np.testing.assert_allclose(np.asarray(module.rev_sum(x, 0.0)), np.zeros(3))
    np.testing.assert_allclose(np.asarray(module.rev_sum(np.array([0.5, 1.0, 2.0]), 1.0)), [1.0, 2.0, 4.0], rtol=1e-12)
