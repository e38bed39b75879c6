"""enzyme.custom_reverse_rule (ir/enzyme_rules.py, ad/rules/custom_reverse.py): the rule
is what reverse mode uses for a call, checked against the chain rule worked out by hand
with the rule's formulas (the rules here are deliberately not the true derivative, so a
derivative of the function's body would give other numbers)."""

import subprocess
import sys

import numpy as np
import pytest

from zymase.ir import parse_module, print_module
from zymase.loader import load_mlir

pytestmark = pytest.mark.usefixtures("x64")

# y = a * x, with the rule abar = 2 ybar x, xbar = 3 ybar a (residuals: a, x)
RULE_BOTH = """
  enzyme.custom_reverse_rule @both {
    %ca = "enzyme.init"() : () -> !enzyme.Cache<f64>
    %cx = "enzyme.init"() : () -> !enzyme.Cache<f64>
    enzyme.custom_reverse_rule.augmented_primal (%a: f64, %x: f64) -> f64 {
      "enzyme.push"(%ca, %a) : (!enzyme.Cache<f64>, f64) -> ()
      "enzyme.push"(%cx, %x) : (!enzyme.Cache<f64>, f64) -> ()
      %y = arith.mulf %a, %x : f64
      enzyme.yield %y : f64
    }
    enzyme.custom_reverse_rule.reverse (%ybar: f64) -> (f64, f64) {
      %x = "enzyme.pop"(%cx) : (!enzyme.Cache<f64>) -> f64
      %a = "enzyme.pop"(%ca) : (!enzyme.Cache<f64>) -> f64
      %two = arith.constant 2.0 : f64
      %three = arith.constant 3.0 : f64
      %t = arith.mulf %ybar, %x : f64
      %abar = arith.mulf %two, %t : f64
      %u = arith.mulf %ybar, %a : f64
      %xbar = arith.mulf %three, %u : f64
      enzyme.yield %abar, %xbar : f64, f64
    }
    enzyme.yield
  } attributes {activity = [#enzyme.activity<enzyme_active>, #enzyme.activity<enzyme_active>],
                ret_activity = [#enzyme.activity<enzyme_active>], function_type = (f64, f64) -> f64}
"""

# the same function, a held constant: xbar = 7 ybar a
RULE_X = """
  enzyme.custom_reverse_rule @only_x {
    %ca = "enzyme.init"() : () -> !enzyme.Cache<f64>
    enzyme.custom_reverse_rule.augmented_primal (%a: f64, %x: f64) -> f64 {
      "enzyme.push"(%ca, %a) : (!enzyme.Cache<f64>, f64) -> ()
      %y = arith.mulf %a, %x : f64
      enzyme.yield %y : f64
    }
    enzyme.custom_reverse_rule.reverse (%ybar: f64) -> f64 {
      %a = "enzyme.pop"(%ca) : (!enzyme.Cache<f64>) -> f64
      %seven = arith.constant 7.0 : f64
      %u = arith.mulf %ybar, %a : f64
      %xbar = arith.mulf %seven, %u : f64
      enzyme.yield %xbar : f64
    }
    enzyme.yield
  } attributes {activity = [#enzyme.activity<enzyme_const>, #enzyme.activity<enzyme_active>],
                ret_activity = [#enzyme.activity<enzyme_active>], function_type = (f64, f64) -> f64}
"""


def _module(rules: str, names: str, outer: str, activity: str, outs: str) -> str:
    n = outs.count("f64")
    res = ", ".join(f"%g#{i}" for i in range(n)) if n > 1 else "%g"
    g = f"%g:{n}" if n > 1 else "%g"
    return f"""
module {{
  func.func private @mul(%a: f64, %x: f64) -> f64 attributes {{enzyme.custom_rule = {names}}} {{
    %y = arith.mulf %a, %x : f64
    return %y : f64
  }}
{rules}
{outer}
  func.func @grad(%a: f64, %x: f64, %dz: f64) -> ({outs}) {{
    {g} = enzyme.autodiff @outer(%a, %x, %dz) {{activity = [{activity}], ret_activity = [#enzyme.activity<enzyme_activenoneed>]}} : (f64, f64, f64) -> ({outs})
    return {res} : {outs}
  }}
}}
"""


SQUARE_OF_CALL = """
  func.func @outer(%a: f64, %x: f64) -> f64 {
    %y = func.call @mul(%a, %x) : (f64, f64) -> f64
    %z = arith.mulf %y, %y : f64
    return %z : f64
  }
"""

ACT2 = "#enzyme.activity<enzyme_active>, #enzyme.activity<enzyme_active>"


def test_rule_is_used_for_the_call():
    mod = load_mlir(_module(RULE_BOTH, "@both", SQUARE_OF_CALL, ACT2, "f64, f64"))
    a, x, dz = 0.7, 1.3, 0.9
    da, dx = (float(v) for v in mod.grad(a, x, dz))
    ybar = 2 * a * x * dz  # z = y^2 differentiated by zymase, y = a x by the rule
    assert da == pytest.approx(2 * ybar * x, rel=1e-12)
    assert dx == pytest.approx(3 * ybar * a, rel=1e-12)
    assert float(mod.outer(a, x)) == pytest.approx((a * x) ** 2)  # the primal runs the function's body


def test_rule_set_picks_the_rule_of_each_call():
    outer = """
  func.func @outer(%a: f64, %x: f64) -> f64 {
    %k = arith.constant 3.0 : f64
    %y1 = func.call @mul(%a, %x) : (f64, f64) -> f64
    %y2 = func.call @mul(%k, %x) : (f64, f64) -> f64
    %z = arith.addf %y1, %y2 : f64
    return %z : f64
  }
"""
    mod = load_mlir(_module(RULE_BOTH + RULE_X, "[@both, @only_x]", outer, ACT2, "f64, f64"))
    a, x, dz = 0.7, 1.3, 0.9
    da, dx = (float(v) for v in mod.grad(a, x, dz))
    # first call: both arguments active -> @both; second: 3.0 is constant -> @only_x
    assert da == pytest.approx(2 * dz * x, rel=1e-12)
    assert dx == pytest.approx(3 * dz * a + 7 * dz * 3.0, rel=1e-12)


def test_rule_set_follows_the_request_activity():
    # with a constant in the request, the call of @mul(a, x) has a constant too: @only_x
    act = "#enzyme.activity<enzyme_const>, #enzyme.activity<enzyme_active>"
    mod = load_mlir(_module(RULE_BOTH + RULE_X, "[@both, @only_x]", SQUARE_OF_CALL, act, "f64"))
    a, x, dz = 0.7, 1.3, 0.9
    ybar = 2 * a * x * dz
    assert float(mod.grad(a, x, dz)) == pytest.approx(7 * ybar * a, rel=1e-12)


def test_wider_rule_serves_a_call_with_a_constant():
    act = "#enzyme.activity<enzyme_const>, #enzyme.activity<enzyme_active>"
    mod = load_mlir(_module(RULE_BOTH, "@both", SQUARE_OF_CALL, act, "f64"))
    a, x, dz = 0.7, 1.3, 0.9
    ybar = 2 * a * x * dz
    assert float(mod.grad(a, x, dz)) == pytest.approx(3 * ybar * a, rel=1e-12)


def test_rule_in_a_loop_keeps_one_residual_per_call():
    outer = """
  func.func @outer(%a: f64, %x: f64) -> f64 {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c3 = arith.constant 3 : index
    %r = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %x) -> (f64) {
      %s = math.sin %acc : f64
      %y = func.call @mul(%a, %s) : (f64, f64) -> f64
      scf.yield %y : f64
    }
    return %r : f64
  }
"""
    mod = load_mlir(_module(RULE_BOTH, "@both", outer, ACT2, "f64, f64"))
    a, x, dz = 0.7, 1.3, 0.9
    da, dx = (float(v) for v in mod.grad(a, x, dz))
    # by hand: acc_{i+1} = mul(a, sin(acc_i)); the rule gives abar += 2 ybar s, sbar = 3 ybar a
    accs = [x]
    for _ in range(3):
        accs.append(a * np.sin(accs[-1]))
    ybar, want_da = dz, 0.0
    for i in reversed(range(3)):
        s = np.sin(accs[i])
        want_da += 2 * ybar * s
        ybar = 3 * ybar * a * np.cos(accs[i])
    assert da == pytest.approx(want_da, rel=1e-12)
    assert dx == pytest.approx(ybar, rel=1e-12)


def test_no_fitting_rule_is_one_line_naming_the_call():
    act = ACT2
    mod = load_mlir(_module(RULE_X, "@only_x", SQUARE_OF_CALL, act, "f64, f64"))
    with pytest.raises(Exception) as e:
        mod.grad(0.7, 1.3, 0.9)
    msg = str(e.value)
    assert "could not find a rule with the right activity" in msg and "@mul" in msg and "\n" not in msg


def test_malformed_rule_is_refused_when_used(tmp_path):
    bad = RULE_X.replace('''      %a = "enzyme.pop"(%ca) : (!enzyme.Cache<f64>) -> f64
''', '''      %a = "enzyme.pop"(%ca) : (!enzyme.Cache<f64>) -> f64
      %a2 = "enzyme.pop"(%ca) : (!enzyme.Cache<f64>) -> f64
''')
    act = "#enzyme.activity<enzyme_const>, #enzyme.activity<enzyme_active>"
    path = tmp_path / "bad.mlir"
    path.write_text(_module(bad, "@only_x", SQUARE_OF_CALL, act, "f64"))
    out = subprocess.run([sys.executable, "-m", "zymase.tools.opt", str(path), "-p", "enzyme"], capture_output=True, text=True)
    assert out.returncode == 1
    assert "popped twice" in out.stderr and "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_round_trip():
    text = _module(RULE_BOTH + RULE_X, "[@both, @only_x]", SQUARE_OF_CALL, ACT2, "f64, f64")
    once = print_module(parse_module(text), generic=False)
    assert "enzyme.custom_reverse_rule @both" in once and "enzyme.custom_reverse_rule.reverse (%" in once
    assert print_module(parse_module(once), generic=False) == once
