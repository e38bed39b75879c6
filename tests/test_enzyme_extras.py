"""Ops zymase differentiates by rewriting them first: ``affine.if`` (ir/affine_if.py),
``arith.select`` of memrefs (ir/memref_select.py), ``enzyme.fwddiff_region`` /
``autodiff_region`` (ir/enzyme_regions.py). Values and derivatives against formulas
worked out by hand, float64."""

import numpy as np
import pytest

from zymase.ir import parse_module, print_module
from zymase.loader import load_mlir

pytestmark = pytest.mark.usefixtures("x64")

AFFINE_IF = """
#mid = affine_set<(d0)[s0] : (d0 - 1 >= 0, s0 - d0 - 1 >= 0)>
#two = affine_set<(d0) : (d0 - 2 == 0)>
func.func @f(%x: memref<4xf64>, %n: index) -> f64 {
  %zero = arith.constant 0.0 : f64
  %sum = affine.for %i = 0 to 4 iter_args(%acc = %zero) -> f64 {
    %v = affine.load %x[%i] : memref<4xf64>
    %t = affine.if #mid(%i)[%n] -> f64 {
      %s = math.sin %v : f64
      affine.yield %s : f64
    } else {
      %q = arith.mulf %v, %v : f64
      affine.yield %q : f64
    }
    affine.if #two(%i) {
      %d = arith.addf %v, %v : f64
      affine.store %d, %x[%i] : memref<4xf64>
    }
    %next = arith.addf %acc, %t : f64
    affine.yield %next : f64
  }
  return %sum : f64
}
func.func @df(%x: memref<4xf64>, %dx: memref<4xf64>, %n: index) -> f64 {
  %r = enzyme.fwddiff @f(%x, %dx, %n) {activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_dupnoneed>]} : (memref<4xf64>, memref<4xf64>, index) -> f64
  return %r : f64
}
func.func @gf(%x: memref<4xf64>, %dx: memref<4xf64>, %n: index, %s: f64) {
  enzyme.autodiff @f(%x, %dx, %n, %s) {activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (memref<4xf64>, memref<4xf64>, index, f64) -> ()
  return
}
"""


def _mid(i: int, n: int) -> bool:
    return i >= 1 and n - i - 1 >= 0


@pytest.mark.parametrize("n", [2, 4])
def test_affine_if_values_and_derivatives(n):
    mod = load_mlir(AFFINE_IF)
    x0 = np.array([0.3, 0.7, 1.1, 0.9])
    x = x0.copy()
    got = float(mod.f(x, n))
    want = sum(np.sin(v) if _mid(i, n) else v * v for i, v in enumerate(x0))
    assert got == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(x, [0.3, 0.7, 2.2, 0.9])  # the store under #two
    slope = np.array([np.cos(v) if _mid(i, n) else 2 * v for i, v in enumerate(x0)])
    t = np.array([0.5, -1.0, 2.0, 0.25])
    x, dx = x0.copy(), t.copy()
    assert float(mod.df(x, dx, n)) == pytest.approx(float(slope @ t), rel=1e-12)
    assert dx[2] == pytest.approx(2 * t[2])  # the tangent stored beside x[2] = 2 x[2]
    # reverse: the shadow of x gets the gradient; x[2]'s store takes its shadow (zero here)
    x, sh = x0.copy(), np.zeros(4)
    mod.gf(x, sh, n, 1.5)
    want_sh = 1.5 * slope
    want_sh[2] = 2 * 0.0 + 1.5 * slope[2]  # x[2] is read before the store overwrites it
    np.testing.assert_allclose(sh, want_sh, rtol=1e-12)


def test_affine_if_round_trip():
    once = print_module(parse_module(AFFINE_IF), generic=False)
    assert "affine.if" in once and "else" in once
    assert print_module(parse_module(once), generic=False) == once


SELECT = """
func.func @g(%c: i1, %a: memref<2xf64>, %b: memref<2xf64>) -> f64 {
  %m = arith.select %c, %a, %b : memref<2xf64>
  %i0 = arith.constant 0 : index
  %i1 = arith.constant 1 : index
  %v = memref.load %m[%i0] : memref<2xf64>
  %w = arith.mulf %v, %v : f64
  memref.store %w, %m[%i1] : memref<2xf64>
  %u = memref.load %m[%i1] : memref<2xf64>
  %r = arith.mulf %u, %v : f64
  return %r : f64
}
func.func @gg(%c: i1, %a: memref<2xf64>, %da: memref<2xf64>, %b: memref<2xf64>, %db: memref<2xf64>, %s: f64) {
  enzyme.autodiff @g(%c, %a, %da, %b, %db, %s) {activity = [#enzyme<activity enzyme_const>, #enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (i1, memref<2xf64>, memref<2xf64>, memref<2xf64>, memref<2xf64>, f64) -> ()
  return
}
"""


@pytest.mark.parametrize("c", [True, False])
def test_select_of_memrefs(c):
    mod = load_mlir(SELECT)
    a0, b0 = np.array([0.7, 5.0]), np.array([1.3, 6.0])
    a, b = a0.copy(), b0.copy()
    v = (a0 if c else b0)[0]
    assert float(mod.g(c, a, b)) == pytest.approx(v**3, rel=1e-12)
    np.testing.assert_allclose(a if c else b, [v, v * v])
    np.testing.assert_allclose(b if c else a, b0 if c else a0)  # the other buffer is untouched
    # reverse: d(v^3) = 3 v^2 s into the chosen shadow's [0]; its [1] was overwritten: its
    # shadow (0.25) moves into w's cotangent and is zeroed
    a, b = a0.copy(), b0.copy()
    da, db = np.array([0.0, 0.25]), np.array([0.0, 0.25])
    mod.gg(c, a, da, b, db, 2.0)
    chosen, other = (da, db) if c else (db, da)
    np.testing.assert_allclose(chosen, [3 * v * v * 2.0 + 2 * v * 0.25, 0.0], rtol=1e-12)
    np.testing.assert_allclose(other, [0.0, 0.25])


def test_select_of_memrefs_other_use_is_one_line():
    text = """
func.func @g(%c: i1, %a: memref<2xf64>, %b: memref<2xf64>, %o: memref<2xf64>) {
  %m = arith.select %c, %a, %b : memref<2xf64>
  memref.copy %m, %o : memref<2xf64> to memref<2xf64>
  return
}
"""
    mod = load_mlir(text)
    with pytest.raises(Exception) as e:
        mod.g(True, np.zeros(2), np.zeros(2), np.zeros(2))
    assert "chosen by 'arith.select'" in str(e.value) and "\n" not in str(e.value)


REGIONS = """
func.func @fwd(%x: f64, %dx: f64, %k: f64) -> f64 {
  %r = enzyme.fwddiff_region(%x, %dx) {
  ^bb0(%a: f64):
    %s = math.sin %a : f64
    %m = arith.mulf %s, %k : f64
    enzyme.yield %m : f64
  } <{activity = [#enzyme.activity<enzyme_dup>], ret_activity = [#enzyme.activity<enzyme_dupnoneed>]}> : (f64, f64) -> f64
  return %r : f64
}
func.func @rev(%x: f64, %k: f64, %s: f64) -> (f64, f64) {
  %r:2 = enzyme.autodiff_region(%x, %s) {
  ^bb0(%a: f64):
    %e = math.exp %a : f64
    %m = arith.mulf %e, %k : f64
    enzyme.yield %m : f64
  } attributes {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_active>]} : (f64, f64) -> (f64, f64)
  return %r#0, %r#1 : f64, f64
}
"""


def test_region_requests():
    mod = load_mlir(REGIONS)
    x, k = 0.8, 1.7
    assert float(mod.fwd(x, 0.5, k)) == pytest.approx(np.cos(x) * k * 0.5, rel=1e-12)
    y, g = (float(v) for v in mod.rev(x, k, 2.0))
    assert y == pytest.approx(np.exp(x) * k, rel=1e-12)
    assert g == pytest.approx(np.exp(x) * k * 2.0, rel=1e-12)  # the captured k is a constant


def test_region_requests_round_trip():
    once = print_module(parse_module(REGIONS), generic=False)
    assert "enzyme.fwddiff_region(" in once and "enzyme.autodiff_region(" in once
    assert print_module(parse_module(once), generic=False) == once


SPLIT = """
func.func @f(%a: f64, %b: f64) -> f64 {
  %0 = arith.mulf %a, %b : f64
  %1 = math.sin %0 : f64
  %2 = arith.addf %b, %1 : f64
  return %2 : f64
}
func.func @main(%a: f64, %b: f64, %s: f64) -> (f64, f64, f64) {
  %r, %tape = enzyme.autodiff_split_mode.primal @f(%a, %b) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_active>]} : (f64, f64) -> (f64, !enzyme.Tape)
  %da, %db = enzyme.autodiff_split_mode.reverse @f(%s, %tape) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_active>]} : (f64, !enzyme.Tape) -> (f64, f64)
  return %r, %da, %db : f64, f64, f64
}
"""


def test_split_mode():
    mod = load_mlir(SPLIT)
    a, b, s = 0.5, 1.5, 0.75
    r, da, db = (float(v) for v in mod.main(a, b, s))
    assert r == pytest.approx(b + np.sin(a * b), rel=1e-12)
    assert da == pytest.approx(s * b * np.cos(a * b), rel=1e-12)
    assert db == pytest.approx(s * (1 + a * np.cos(a * b)), rel=1e-12)
    once = print_module(parse_module(SPLIT), generic=False)
    assert print_module(parse_module(once), generic=False) == once


ATOMIC = """
func.func @f(%a: f64, %m: memref<?xf64>) {
  affine.for %i = 0 to 4 {
    %v = arith.mulf %a, %a : f64
    %old = "enzyme.affine_atomic_rmw"(%v, %m, %i) <{kind = 0 : i64, map = affine_map<(d0) -> (d0 floordiv 2)>, ordering = 2 : i32}> : (f64, memref<?xf64>, index) -> f64
  }
  return
}
func.func @df(%a: f64, %da: f64, %m: memref<?xf64>, %dm: memref<?xf64>) {
  enzyme.fwddiff @f(%a, %da, %m, %dm) {activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>], ret_activity = []} : (f64, f64, memref<?xf64>, memref<?xf64>) -> ()
  return
}
func.func @gf(%a: f64, %m: memref<?xf64>, %dm: memref<?xf64>) -> f64 {
  %g = enzyme.autodiff @f(%a, %m, %dm) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_dup>], ret_activity = []} : (f64, memref<?xf64>, memref<?xf64>) -> f64
  return %g : f64
}
"""


def test_affine_atomic_rmw():
    mod = load_mlir(ATOMIC)
    a = 0.7
    m = np.array([1.0, 2.0, 3.0])
    mod.f(a, m)
    np.testing.assert_allclose(m, [1.0 + 2 * a * a, 2.0 + 2 * a * a, 3.0])  # indices 0, 0, 1, 1
    m, dm = np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.0, 1.0])
    mod.df(a, 0.25, m, dm)
    np.testing.assert_allclose(dm, [0.5 + 2 * 2 * a * 0.25, 2 * 2 * a * 0.25, 1.0])
    m, sm = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.5, 2.0])
    g = float(mod.gf(a, m, sm))
    assert g == pytest.approx(2 * 2 * a * 0.5 + 2 * 2 * a * -1.5, rel=1e-12)
    np.testing.assert_allclose(sm, [0.5, -1.5, 2.0])  # an addition passes the shadow through


def test_region_request_keeps_strong_zero():
    """``strong_zero = true`` on a region op carries over to the enzyme op it becomes: a
    zero tangent times the infinite partial of log at 0 gives 0, not nan."""
    text = """
func.func @fwd(%x: f64, %dx: f64) -> f64 {
  %r = enzyme.fwddiff_region(%x, %dx) {
  ^bb0(%a: f64):
    %l = math.log %a : f64
    enzyme.yield %l : f64
  } <{activity = [#enzyme.activity<enzyme_dup>], ret_activity = [#enzyme.activity<enzyme_dupnoneed>]STRONG}> : (f64, f64) -> f64
  return %r : f64
}
"""
    strong = load_mlir(text.replace("STRONG", ", strong_zero = true"))
    weak = load_mlir(text.replace("STRONG", ""))
    assert float(strong.fwd(0.0, 0.0)) == 0.0
    assert np.isnan(float(weak.fwd(0.0, 0.0)))
    assert float(strong.fwd(2.0, 0.5)) == pytest.approx(0.25, rel=1e-12)
