"""Ops zymase runs and differentiates by rewriting them first (ir/lower.py): affine
(for, parallel with reductions, load / store with affine maps, apply), scf.parallel
with scf.reduce, memref.alloca_scope, math.sincos; the math rules added beside them
(fma, copysign, erfc); MLIR's bare result types (``-> f32``); load_mlir running the
enzyme pass; the one-line error for a callee without a body.

Forward mode is checked against central finite differences of the primal, reverse mode
by the dot-product test against forward mode (both through load_mlir, in float64)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zymase.ad.enzyme_pass import differentiate_module
from zymase.ad.errors import DiffError
from zymase.ir import print_module
from zymase.loader import load_mlir, parse_located, verify_located

pytestmark = pytest.mark.usefixtures("x64")

DUP = "#enzyme.activity<enzyme_dup>"
CONST = "#enzyme.activity<enzyme_const>"
ACTIVE = "#enzyme.activity<enzyme_active>"
DUPNONEED = "#enzyme.activity<enzyme_dupnoneed>"
ACTIVENONEED = "#enzyme.activity<enzyme_activenoneed>"

# y[2i+1] = x[2i]^2 for i < n (an affine map with a coefficient), returns sum_i x[i] * a
# over an affine.parallel reduction, and carries a product through an affine.for.
AFFINE = """
func.func @f(%x: memref<8xf64>, %y: memref<8xf64>, %a: f64) -> f64 {
  %n = arith.constant 4 : index
  affine.for %i = 0 to %n {
    %v = affine.load %x[2 * %i] : memref<8xf64>
    %s = arith.mulf %v, %v : f64
    affine.store %s, %y[2 * %i + 1] : memref<8xf64>
  }
  %r = affine.parallel (%j) = (0) to (8) reduce ("addf") -> (f64) {
    %w = affine.load %x[%j] : memref<8xf64>
    %m = arith.mulf %w, %a : f64
    affine.yield %m : f64
  }
  %one = arith.constant 1.0 : f64
  %p = affine.for %k = 0 to 3 iter_args(%acc = %one) -> (f64) {
    %kk = affine.apply affine_map<(d0) -> (d0 * 3 mod 8)>(%k)
    %w = affine.load %x[%kk] : memref<8xf64>
    %q = arith.mulf %acc, %w : f64
    affine.yield %q : f64
  }
  %out = arith.addf %r, %p : f64
  return %out : f64
}
"""


def _fwd(fn: str, args: str, types: str, acts: str, rets: str, ret_types: str) -> str:
    return f"""
func.func @d{fn}({args}) -> {ret_types} {{
  %r = enzyme.fwddiff @{fn}({', '.join(a.split(':')[0] for a in args.split(', '))}) {{activity = [{acts}], ret_activity = [{rets}]}} : ({types}) -> {ret_types}
  return %r : {ret_types}
}}
"""


def test_affine_forward_and_reverse() -> None:
    fwd = AFFINE + """
func.func @df(%x: memref<8xf64>, %dx: memref<8xf64>, %y: memref<8xf64>, %dy: memref<8xf64>, %a: f64, %da: f64) -> f64 {
  %r = enzyme.fwddiff @f(%x, %dx, %y, %dy, %a, %da) {activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_dup>], ret_activity = [#enzyme.activity<enzyme_dupnoneed>]} : (memref<8xf64>, memref<8xf64>, memref<8xf64>, memref<8xf64>, f64, f64) -> f64
  return %r : f64
}
func.func @bf(%x: memref<8xf64>, %dx: memref<8xf64>, %y: memref<8xf64>, %dy: memref<8xf64>, %a: f64, %dr: f64) -> f64 {
  %r = enzyme.autodiff @f(%x, %dx, %y, %dy, %a, %dr) {activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_active>], ret_activity = [#enzyme.activity<enzyme_activenoneed>]} : (memref<8xf64>, memref<8xf64>, memref<8xf64>, memref<8xf64>, f64, f64) -> f64
  return %r : f64
}
"""
    mod = load_mlir(fwd)
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1.5, 8)
    a = 0.7

    def primal(x, a):
        y = np.zeros(8)
        out = mod.f(x.copy(), y, a)
        return float(np.asarray(out)), y

    out, y = primal(x, a)
    want_y = np.zeros(8)
    want_y[1::2] = x[0::2] ** 2
    np.testing.assert_allclose(y, want_y)
    assert out == pytest.approx(a * x.sum() + x[0] * x[3] * x[6])

    # forward mode against central differences (result and the final contents of y)
    tx, ta = rng.normal(size=8), 0.3
    dy = np.zeros(8)
    dout = float(np.asarray(mod.df(x.copy(), tx.copy(), np.zeros(8), dy, a, ta)))
    h = 1e-6
    (op, yp), (om, ym) = primal(x + h * tx, a + h * ta), primal(x - h * tx, a - h * ta)
    assert dout == pytest.approx((op - om) / (2 * h), rel=1e-6)
    np.testing.assert_allclose(dy, (yp - ym) / (2 * h), rtol=1e-6, atol=1e-9)

    # reverse mode: <J t, s> = <t, J^T s> with seeds on the result and on y's contents
    s_out, s_y = 0.9, rng.normal(size=8)
    gx, gy = np.zeros(8), s_y.copy()
    ga = float(np.asarray(mod.bf(x.copy(), gx, np.zeros(8), gy, a, s_out)))
    lhs = dout * s_out + dy @ s_y
    rhs = tx @ gx + ta * ga
    assert lhs == pytest.approx(rhs, rel=1e-10)
    assert not np.any(gy[1::2]), "the stores move y's shadow into the cotangent and zero it"
    np.testing.assert_array_equal(gy[0::2], s_y[0::2])  # never stored: the seed stays


def test_scf_parallel_reduce_and_alloca_scope() -> None:
    text = """
func.func @g(%x: memref<?xf64>, %c: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %n = memref.dim %x, %c0 : memref<?xf64>
  %s = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%zero) -> f64 {
    %v = memref.load %x[%i] : memref<?xf64>
    %q = arith.mulf %v, %v : f64
    scf.reduce(%q : f64) {
    ^bb0(%l: f64, %r: f64):
      %t = arith.addf %l, %r : f64
      scf.reduce.return %t : f64
    }
  }
  %w = memref.alloca_scope -> (f64) {
    %v0 = memref.load %x[%c0] : memref<?xf64>
    %p = arith.mulf %v0, %c : f64
    memref.alloca_scope.return %p : f64
  }
  %out = arith.addf %s, %w : f64
  return %out : f64
}
func.func @bg(%x: memref<?xf64>, %dx: memref<?xf64>, %c: f64, %dr: f64) -> f64 {
  %r = enzyme.autodiff @g(%x, %dx, %c, %dr) <{activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_active>], ret_activity = [#enzyme.activity<enzyme_activenoneed>]}> : (memref<?xf64>, memref<?xf64>, f64, f64) -> f64
  return %r : f64
}
"""
    mod = load_mlir(text)
    x = np.array([0.5, 1.0, 2.0, -1.5])
    c = 1.25
    assert float(np.asarray(mod.g(x.copy(), c))) == pytest.approx((x**2).sum() + x[0] * c)
    gx = np.zeros(4)
    gc = float(np.asarray(mod.bg(x.copy(), gx, c, 2.0)))
    want = 2.0 * 2 * x
    want[0] += 2.0 * c
    np.testing.assert_allclose(gx, want)
    assert gc == pytest.approx(2.0 * x[0])


MATH = """
func.func @m(%x: f64, %y: f64, %z: f64) -> f64 {
  %f = math.fma %x, %y, %z : f64
  %c = math.copysign %f, %y : f64
  %e = math.erfc %x : f64
  %s, %k = math.sincos %z : f64
  %a = arith.mulf %c, %e : f64
  %b = arith.mulf %s, %k : f64
  %r = arith.addf %a, %b : f64
  return %r : f64
}
func.func @dm(%x: f64, %dx: f64, %y: f64, %dy: f64, %z: f64, %dz: f64) -> f64 {
  %r = enzyme.fwddiff @m(%x, %dx, %y, %dy, %z, %dz) {activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_dup>], ret_activity = [#enzyme.activity<enzyme_dupnoneed>]} : (f64, f64, f64, f64, f64, f64) -> f64
  return %r : f64
}
func.func @bm(%x: f64, %y: f64, %z: f64, %dr: f64) -> (f64, f64, f64) {
  %r:3 = enzyme.autodiff @m(%x, %y, %z, %dr) {activity = [#enzyme.activity<enzyme_active>, #enzyme.activity<enzyme_active>, #enzyme.activity<enzyme_active>], ret_activity = [#enzyme.activity<enzyme_activenoneed>]} : (f64, f64, f64, f64) -> (f64, f64, f64)
  return %r#0, %r#1, %r#2 : f64, f64, f64
}
"""


@pytest.mark.parametrize("point", [(0.4, -0.8, 0.3), (1.1, 0.6, -0.2)])
def test_math_fma_copysign_erfc_sincos(point: tuple[float, float, float]) -> None:
    mod = load_mlir(MATH)
    x, y, z = point

    def f(x, y, z):
        fm = x * y + z
        return math.copysign(fm, y) * math.erfc(x) + math.sin(z) * math.cos(z)

    assert float(np.asarray(mod.m(x, y, z))) == pytest.approx(f(x, y, z), rel=1e-12)
    t = (0.3, -0.7, 0.5)
    h = 1e-6
    fd = (f(*(p + h * d for p, d in zip(point, t))) - f(*(p - h * d for p, d in zip(point, t)))) / (2 * h)
    jt = float(np.asarray(mod.dm(x, t[0], y, t[1], z, t[2])))
    assert jt == pytest.approx(fd, rel=1e-7)
    g = [float(np.asarray(v)) for v in mod.bm(x, y, z, 1.0)]
    assert sum(gi * ti for gi, ti in zip(g, t)) == pytest.approx(jt, rel=1e-12)


def test_bare_result_types_and_printing() -> None:
    text = """
func.func @h(%x: f32, %b: i1) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %r = scf.for %i = %c0 to %c3 step %c1 iter_args(%a = %x) -> f32 {
    %p = "arith.mulf"(%a, %x) : (f32, f32) -> f32
    %z = "arith.constant"() <{value = 0.0 : f32}> : () -> f32
    %m = arith.addf %p, %z : f32
    scf.yield %m : f32
  }
  %s = scf.if %b -> f32 {
    scf.yield %r : f32
  } else {
    scf.yield %x : f32
  }
  return %s : f32
}
"""
    module = parse_located(text)
    verify_located(module)
    printed = print_module(module)
    assert "-> (f32)" in printed or "-> f32" in printed
    assert float(np.asarray(load_mlir(text).h(np.float32(2.0), True))) == pytest.approx(16.0)


def test_affine_parallel_round_trip() -> None:
    text = """
func.func @p(%x: memref<?xf64>, %n: index) {
  affine.parallel (%i, %j) = (0, 0) to (symbol(%n), 4) step (1, 2) {
    %v = affine.load %x[%i] : memref<?xf64>
    affine.store %v, %x[%j] : memref<?xf64>
  }
  return
}
"""
    module = parse_located(text)
    verify_located(module)
    from xdsl.printer import Printer
    import io

    out = io.StringIO()
    Printer(stream=out).print_op(module)
    custom = out.getvalue()
    assert "affine.parallel (%" in custom and "to (symbol(%" in custom and "step (1, 2)" in custom
    for printed in (custom, print_module(module)):
        again = parse_located(printed)
        verify_located(again)
        assert len([op for op in again.walk() if op.name == "affine.parallel"]) == 1


def test_llvm_alloca_load_store_in_both_modes() -> None:
    text = """
func.func @l(%x: f64, %c: i1) -> f64 {
  %one = llvm.mlir.constant(1 : i64) : i64
  %two = arith.constant 2.0 : f64
  %p = llvm.alloca %one x f64 : (i64) -> !llvm.ptr
  llvm.store %two, %p : f64, !llvm.ptr
  scf.if %c {
    %m = arith.mulf %x, %x : f64
    llvm.store %m, %p : f64, !llvm.ptr
  }
  %v = llvm.load %p : !llvm.ptr -> f64
  %r = arith.mulf %v, %x : f64
  return %r : f64
}
func.func @dl(%x: f64, %dx: f64, %c: i1) -> f64 {
  %r = enzyme.fwddiff @l(%x, %dx, %c) {activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_const>], ret_activity = [#enzyme.activity<enzyme_dupnoneed>]} : (f64, f64, i1) -> f64
  return %r : f64
}
func.func @bl(%x: f64, %c: i1, %dr: f64) -> f64 {
  %r = enzyme.autodiff @l(%x, %c, %dr) {activity = [#enzyme.activity<enzyme_active>, #enzyme.activity<enzyme_const>], ret_activity = [#enzyme.activity<enzyme_activenoneed>]} : (f64, i1, f64) -> f64
  return %r : f64
}
"""
    mod = load_mlir(text)
    x = 1.3
    for c, value, slope in ((True, x**3, 3 * x**2), (False, 2 * x, 2.0)):
        assert float(np.asarray(mod.l(x, c))) == pytest.approx(value)
        assert float(np.asarray(mod.dl(x, 1.0, c))) == pytest.approx(slope)
        assert float(np.asarray(mod.bl(x, c, 1.0))) == pytest.approx(slope)


def test_callee_without_body_is_a_one_line_error() -> None:
    text = """
func.func private @ext(f64) -> f64
func.func @sq(%x: f64) -> f64 {
  %r = func.call @ext(%x) : (f64) -> f64
  return %r : f64
}
func.func @dsq(%x: f64, %dx: f64) -> f64 {
  %r = enzyme.fwddiff @sq(%x, %dx) {activity = [#enzyme.activity<enzyme_dup>], ret_activity = [#enzyme.activity<enzyme_dupnoneed>]} : (f64, f64) -> f64
  return %r : f64
}
"""
    module = parse_located(text)
    verify_located(module)
    with pytest.raises(DiffError, match=r"@ext: it is a declaration without a body") as e:
        differentiate_module(module)
    assert "\n" not in str(e.value)
