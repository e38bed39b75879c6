"""The driver imports a rule family only when a rule of it may fire: rooted at the visited
op's class, with ``needs`` the producers of the op's operands admit
(``zymase.opt.rules.load_admitted``). The index of each rule's roots and needs it reads
must be the rules' own, or a rule would be skipped; and a run must rewrite a module
exactly as it does with every family imported."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from zymase.opt.pattern import RULES, load_rules
from zymase.opt.rules import _class_name, _needs, family_names, rule_index

load_rules()


def test_the_index_holds_each_rules_roots_and_needs() -> None:
    index = rule_index()
    held = {(root, family, repr(None if needs is None else _needs(needs))) for root, entries in index.items() for family, needs in entries}
    registered = {(_class_name(cls), r.family, repr(r.needs)) for r in RULES.values() for cls in r.roots}
    assert held == registered
    assert {family for entries in index.values() for family, _ in entries} <= set(family_names())


LAYER = """
func.func @layer(%w: tensor<3x4xf32>, %x: tensor<4xf32>, %b: tensor<f32>) -> tensor<f32> {
  %h = stablehlo.dot_general %w, %x, contracting_dims = [1] x [0] : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3xf32>
  %bb = stablehlo.broadcast_in_dim %b, dims = [] : (tensor<f32>) -> tensor<3xf32>
  %z = stablehlo.add %h, %bb : tensor<3xf32>
  %n = stablehlo.negate %z : tensor<3xf32>
  %nn = stablehlo.negate %n : tensor<3xf32>
  %t = stablehlo.tanh %nn : tensor<3xf32>
  %one = stablehlo.constant dense<1.0> : tensor<3xf32>
  %m = stablehlo.multiply %t, %one : tensor<3xf32>
  %t1 = stablehlo.transpose %m, dims = [0] : (tensor<3xf32>) -> tensor<3xf32>
  %sq = stablehlo.multiply %t1, %t1 : tensor<3xf32>
  %zero = stablehlo.constant dense<0.0> : tensor<f32>
  %s = stablehlo.reduce(%sq init: %zero) applies stablehlo.add across dimensions = [0] : (tensor<3xf32>, tensor<f32>) -> tensor<f32>
  return %s : tensor<f32>
}
"""

SCRIPT = textwrap.dedent(
    """
    import sys
    from zymase.ir import parse_module, print_module
    from zymase.opt import rules
    from zymase.opt.pattern import RULES, optimize
    text = sys.stdin.read()
    if sys.argv[1] == "all":
        rules.load_all()
    module = parse_module(text)
    n = optimize(module)
    print(n, len(RULES))
    print(print_module(module))
    """
)


def _run(mode: str, text: str, **env: str) -> tuple[int, int, str]:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], input=text, capture_output=True, text=True, env={**os.environ, **env}, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    head, _, out = proc.stdout.partition("\n")
    rewrites, registered = map(int, head.split())
    return rewrites, registered, out


def test_a_run_with_the_families_it_needs_rewrites_as_with_all() -> None:
    lazy = _run("lazy", LAYER)
    full = _run("all", LAYER)
    assert lazy[0] == full[0] > 0 and lazy[2] == full[2]
    assert "stablehlo.negate" not in lazy[2] and "stablehlo.transpose" not in lazy[2]
    assert lazy[1] < full[1]  # the families no op here admits stayed out
    off = _run("lazy", LAYER, ZYMASE_RULE_FILTER="0")  # every rule of a root tried: its families loaded
    assert off[0] == full[0] and off[2] == full[2] and lazy[1] <= off[1]
