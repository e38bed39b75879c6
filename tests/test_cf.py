"""Multi-block functions (cf.br, cf.cond_br, cf.switch; ir/cf.py): they run, and their
derivatives are right in both modes: forward mode against central finite differences,
reverse mode by the dot-product test, float64."""

import numpy as np
import pytest

from zymase.ir import print_module
from zymase.ir.cf import ControlFlowError
from zymase.loader import load_mlir, parse_located, verify_located

pytestmark = pytest.mark.usefixtures("x64")

DIAMOND = """
func.func @f(%x: f64, %y: f64) -> f64 {
  %c = arith.cmpf olt, %x, %y : f64
  %s = arith.mulf %x, %y : f64
  cf.cond_br %c, ^a, ^b(%x : f64)
^a:
  %t = math.sin %x : f64
  cf.br ^join(%t : f64)
^b(%u: f64):
  %v = arith.mulf %u, %u : f64
  cf.br ^join(%v : f64)
^join(%r: f64):
  %o = arith.addf %r, %s : f64
  return %o : f64
}
"""

SWITCH = """
func.func @f(%x: f64, %y: f64, %k: i32) -> f64 {
  cf.switch %k : i32, [
    default: ^d(%y : f64),
    1: ^one,
    2: ^two(%x, %y : f64, f64)
  ]
^one:
  %a = math.exp %x : f64
  return %a : f64
^two(%p: f64, %q: f64):
  %b = arith.mulf %p, %q : f64
  cf.br ^d(%b : f64)
^d(%r: f64):
  %o = arith.mulf %r, %x : f64
  return %o : f64
}
"""

# a loop with its header's value (%s) used after it, and a counter from an argument
LOOP = """
func.func @f(%x: f64, %y: f64, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %half = arith.constant 0.5 : f64
  cf.br ^h(%c0, %x : index, f64)
^h(%i: index, %acc: f64):
  %s = math.sin %acc : f64
  %more = arith.cmpi slt, %i, %n : index
  cf.cond_br %more, ^body, ^exit
^body:
  %m = arith.mulf %acc, %y : f64
  %h = arith.mulf %m, %half : f64
  %new = arith.addf %h, %s : f64
  %i2 = arith.addi %i, %c1 : index
  cf.br ^h(%i2, %new : index, f64)
^exit:
  %o = arith.mulf %s, %acc : f64
  return %o : f64
}
"""

# two exits (one leaves from the body with a value), and a loop nested in a loop
NESTED = """
func.func @f(%x: f64, %y: f64, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %lim = arith.constant 50.0 : f64
  cf.br ^outer(%c0, %x : index, f64)
^outer(%i: index, %a: f64):
  %more = arith.cmpi slt, %i, %n : index
  cf.cond_br %more, ^inner(%c0, %a : index, f64), ^done(%a : f64)
^inner(%j: index, %b: f64):
  %jm = arith.cmpi slt, %j, %i : index
  cf.cond_br %jm, ^ibody, ^latch
^ibody:
  %b2 = arith.mulf %b, %y : f64
  %big = arith.cmpf ogt, %b2, %lim : f64
  %j2 = arith.addi %j, %c1 : index
  cf.cond_br %big, ^done(%b2 : f64), ^inner(%j2, %b2 : index, f64)
^latch:
  %e = math.sin %b : f64
  %a2 = arith.addf %b, %e : f64
  %i2 = arith.addi %i, %c1 : index
  cf.br ^outer(%i2, %a2 : index, f64)
^done(%r: f64):
  %o = arith.mulf %r, %x : f64
  return %o : f64
}
"""

EXECUTE_REGION = """
func.func @f(%x: f64, %y: f64, %k: i32) -> f64 {
  %two = arith.constant 2.0 : f64
  %r:2 = scf.execute_region -> (f64, f64) {
    cf.switch %k : i32, [
      default: ^b3,
      4: ^b1(%two : f64)
    ]
  ^b1(%z: f64):
    %m = arith.mulf %x, %y : f64
    scf.yield %m, %z : f64, f64
  ^b3:
    cf.br ^b1(%x : f64)
  }
  %o = arith.mulf %r#0, %r#1 : f64
  return %o : f64
}
"""


def _wrappers(types: list[str], width: int = 1) -> str:
    """@fwd (all f64 arguments dup, width lanes) and @rev (all f64 arguments active)."""
    f = [i for i, t in enumerate(types) if t == "f64"]
    tt = "f64" if width == 1 else f"tensor<{width}xf64>"
    fargs, fops, ftys, fact = [], [], [], []
    rargs, rops, rtys, ract = [], [], [], []
    for i, t in enumerate(types):
        fargs.append(f"%a{i}: {t}")
        fops.append(f"%a{i}")
        ftys.append(t)
        rargs.append(f"%a{i}: {t}")
        rops.append(f"%a{i}")
        rtys.append(t)
        if i in f:
            fargs.append(f"%d{i}: {tt}")
            fops.append(f"%d{i}")
            ftys.append(tt)
            fact.append("#enzyme<activity enzyme_dup>")
            ract.append("#enzyme<activity enzyme_active>")
        else:
            fact.append("#enzyme<activity enzyme_const>")
            ract.append("#enzyme<activity enzyme_const>")
    outs = ", ".join("f64" for _ in f)
    names = ", ".join(f"%g#{k}" for k in range(len(f)))
    return f"""
func.func @fwd({", ".join(fargs)}) -> {tt} {{
  %r = enzyme.fwddiff @f({", ".join(fops)}) {{activity = [{", ".join(fact)}], ret_activity = [#enzyme<activity enzyme_dupnoneed>], width = {width}}} : ({", ".join(ftys)}) -> {tt}
  return %r : {tt}
}}
func.func @rev({", ".join(rargs)}, %s: f64) -> ({outs}) {{
  %g:{len(f)} = enzyme.autodiff @f({", ".join(rops)}, %s) {{activity = [{", ".join(ract)}], ret_activity = [#enzyme<activity enzyme_activenoneed>]}} : ({", ".join(rtys)}, f64) -> ({outs})
  return {names} : {outs}
}}
"""


def _fd(f, xs: list, t: dict[int, float], eps: float = 1e-4) -> float:
    """Fourth-order central difference of f at xs in direction t."""

    def at(h):
        return float(f(*[x + h * t[i] if i in t else x for i, x in enumerate(xs)]))

    return (-at(2 * eps) + 8 * at(eps) - 8 * at(-eps) + at(-2 * eps)) / (12 * eps)


def _check(text: str, types: list[str], points: list[list], width: int = 1) -> None:
    mod = load_mlir(text + _wrappers(types, width))
    rng = np.random.default_rng(0)
    f = [i for i, t in enumerate(types) if t == "f64"]
    for xs in points:
        xs = [np.float64(x) if types[i] == "f64" else (np.int32(x) if types[i] == "i32" else x) for i, x in enumerate(xs)]
        lanes = [{i: rng.standard_normal() for i in f} for _ in range(width)]
        want = [_fd(mod.f, xs, t) for t in lanes]
        ins = []
        for i, x in enumerate(xs):
            ins.append(x)
            if i in f:
                ins.append(np.float64(lanes[0][i]) if width == 1 else np.array([t[i] for t in lanes]))
        got = np.atleast_1d(np.asarray(mod.fwd(*ins)))
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-7)
        # reverse: <J t, s> = <t, J^T s>
        s = rng.standard_normal()
        grads = np.atleast_1d(np.asarray(mod.rev(*xs, np.float64(s)), dtype=np.float64).reshape(-1))
        lhs = want[0] * s
        rhs = sum(g * lanes[0][i] for g, i in zip(grads, f))
        assert abs(lhs - rhs) <= 1e-7 * max(1.0, abs(lhs)), (xs, lhs, rhs)


def test_diamond_both_branches():
    _check(DIAMOND, ["f64", "f64"], [[0.3, 0.9], [1.2, 0.4]])


def test_diamond_runs_as_written():
    mod = load_mlir(DIAMOND)
    assert float(mod.f(0.3, 0.9)) == pytest.approx(np.sin(0.3) + 0.27)
    assert float(mod.f(1.2, 0.4)) == pytest.approx(1.44 + 0.48)


def test_switch_every_case():
    _check(SWITCH, ["f64", "f64", "i32"], [[0.7, 1.3, 1], [0.7, 1.3, 2], [0.7, 1.3, 9]])


@pytest.mark.parametrize("n", [0, 1, 4])
def test_loop_with_value_used_after_it(n):
    _check(LOOP, ["f64", "f64", "index"], [[0.7, 1.3, n]])


@pytest.mark.parametrize("n", [0, 3])
def test_nested_loops_with_two_exits(n):
    _check(NESTED, ["f64", "f64", "index"], [[1.5, 1.2, n], [1.5, 3.0, n]])


def test_nested_loops_early_exit_taken():
    mod = load_mlir(NESTED)
    # y = 3: b grows 1.5 -> 4.5 -> 13.5 -> 40.5 -> 121.5 > 50 inside the inner loop
    a, y = 1.5, 3.0
    i_outer = 0
    while True:
        if i_outer >= 6:
            want = a * 1.5
            break
        b, j, done = a, 0, None
        while j < i_outer:
            b *= y
            if b > 50:
                done = b
                break
            j += 1
        if done is not None:
            want = done * 1.5
            break
        a = b + np.sin(b)
        i_outer += 1
    assert float(mod.f(1.5, 3.0, 6)) == pytest.approx(want)


def test_execute_region_with_switch():
    _check(EXECUTE_REGION, ["f64", "f64", "i32"], [[0.7, 1.3, 4], [0.7, 1.3, 0]])


def test_width_two_through_a_branch():
    _check(DIAMOND, ["f64", "f64"], [[0.3, 0.9], [1.2, 0.4]], width=2)


@pytest.mark.parametrize("text", [LOOP, NESTED], ids=["loop", "nested"])
def test_structured_form_has_no_blocks_left(text):
    module = parse_located(text, "loop.mlir")
    verify_located(module)
    from zymase.ir.lower import lower_for_zymase

    lower_for_zymase(module)
    verify_located(module)
    names = {op.name for op in module.walk()}
    assert not any(n.startswith("cf.") for n in names) and "scf.while" in names
    assert all(len(r.blocks) == 1 for op in module.walk() for r in op.regions)
    for op in module.walk():  # every scf.if yields its result types in both branches
        if op.name == "scf.if":
            for r in op.regions:
                assert [v.type for v in r.block.last_op.operands] == [v.type for v in op.results]
    assert "scf.while" in print_module(module, generic=False)


IRREDUCIBLE = """
func.func @f(%x: f64, %c: i1) -> f64 {
  cf.cond_br %c, ^a(%x : f64), ^b(%x : f64)
^a(%p: f64):
  %p2 = arith.mulf %p, %p : f64
  cf.cond_br %c, ^b(%p2 : f64), ^out(%p2 : f64)
^b(%q: f64):
  %q2 = arith.addf %q, %q : f64
  cf.cond_br %c, ^a(%q2 : f64), ^out(%q2 : f64)
^out(%r: f64):
  return %r : f64
}
"""


def test_irreducible_control_flow_is_refused_in_one_line():
    mod = load_mlir(IRREDUCIBLE)
    with pytest.raises(ControlFlowError) as e:
        mod.f(1.0, True)
    msg = str(e.value)
    assert "irreducible control flow in @f" in msg and "\n" not in msg


def test_irreducible_message_through_zymase_opt(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "irr.mlir"
    path.write_text(IRREDUCIBLE + _wrappers(["f64", "i1"]))
    out = subprocess.run([sys.executable, "-m", "zymase.tools.opt", str(path), "-p", "enzyme"], capture_output=True, text=True)
    assert out.returncode != 0
    assert "irreducible control flow in @f" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def _diamonds(n: int, early_return: bool) -> str:
    """n branches in a row on the sign of v; with early_return one side may return."""
    lines = ["func.func @f(%x: f64) -> f64 {", "  %zero = arith.constant 0.5 : f64", "  cf.br ^j0(%x : f64)"]
    for k in range(n):
        lines += [
            f"^j{k}(%v{k}: f64):",
            f"  %c{k} = arith.cmpf olt, %v{k}, %zero : f64",
            f"  cf.cond_br %c{k}, ^a{k}, ^b{k}",
            f"^a{k}:",
            f"  %s{k} = math.sin %v{k} : f64",
        ]
        if early_return:
            lines += [f"  %e{k} = arith.cmpf ogt, %s{k}, %v{k} : f64", f"  cf.cond_br %e{k}, ^out(%s{k} : f64), ^j{k + 1}(%s{k} : f64)"]
        else:
            lines += [f"  cf.br ^j{k + 1}(%s{k} : f64)"]
        lines += [
            f"^b{k}:",
            f"  %t{k} = math.cos %v{k} : f64",
            f"  cf.br ^j{k + 1}(%t{k} : f64)",
        ]
    lines += [f"^j{n}(%r: f64):", "  cf.br ^out(%r : f64)", "^out(%o: f64):", "  return %o : f64", "}"]
    return "\n".join(lines)


def test_branches_meet_again_at_their_join():
    # 20 diamonds in a row: each scf.if yields the join's argument, no path is copied
    module = parse_located(_diamonds(20, False), "d.mlir")
    from zymase.ir.lower import lower_for_zymase

    lower_for_zymase(module)
    assert sum(op.name == "scf.if" for op in module.walk()) == 20
    mod = load_mlir(_diamonds(20, False))
    v = 0.3
    for _ in range(20):
        v = np.sin(v) if v < 0.5 else np.cos(v)
    assert float(mod.f(0.3)) == pytest.approx(v, rel=1e-12)
    _check(_diamonds(20, False), ["f64"], [[0.3], [0.9]])


def test_too_many_paths_is_refused_in_one_line():
    # an early return on one side: the branches never meet again, and each path copies
    # all the diamonds after it (2^20 paths)
    mod = load_mlir(_diamonds(20, True))
    with pytest.raises(ControlFlowError) as e:
        mod.f(0.5)
    assert "too many paths" in str(e.value) and "\n" not in str(e.value)
