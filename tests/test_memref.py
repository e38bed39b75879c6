"""memref and Enzyme's shadow memory: the talk's @set in both activities, forward mode
against finite differences, reverse mode by the dot-product test against forward mode,
loops over memory (unrolled, cached with constant and run-time bounds), branches, the
syntax of Enzyme's current enzyme ops, running through load_mlir / zymase-opt --run,
and the refusals."""

from __future__ import annotations

import numpy as np
import pytest

from zymase.ad.enzyme_pass import differentiate_module
from zymase.ad.errors import DiffError
from zymase.loader import MlirModule, load_mlir, parse_located, verify_located

pytestmark = pytest.mark.usefixtures("x64")


def _differentiated(text: str) -> MlirModule:
    module = parse_located(text)
    verify_located(module)
    differentiate_module(module)
    verify_located(module)
    return MlirModule(module)


# The talk's @set, in valid MLIR (f64 for the numeric checks).
SET = """
func.func @set(%arr: memref<?xf64>, %val: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c10 = arith.constant 10 : index
  scf.for %ii = %c0 to %c10 step %c1 {
    %idx = arith.muli %ii, %c2 : index
    memref.store %val, %arr[%idx] : memref<?xf64>
  }
  %out = arith.mulf %val, %val : f64
  return %out : f64
}
func.func @grad_set(%X: memref<?xf64>, %v: f64, %dout: f64) -> (f64, f64) {
  %out, %dv = enzyme.autodiff @set(%X, %v, %dout) {activity = [enzyme_const, enzyme_active], ret_activity = [enzyme_active]} : (memref<?xf64>, f64, f64) -> (f64, f64)
  return %out, %dv : f64, f64
}
func.func @grad_set_dup(%X: memref<?xf64>, %dX: memref<?xf64>, %v: f64, %dout: f64) -> (f64, f64) {
  %out, %dv = enzyme.autodiff @set(%X, %dX, %v, %dout) <{activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_active>], ret_activity = [#enzyme.activity<enzyme_active>]}> : (memref<?xf64>, memref<?xf64>, f64, f64) -> (f64, f64)
  return %out, %dv : f64, f64
}
func.func @jvp_set(%X: memref<?xf64>, %dX: memref<?xf64>, %v: f64, %dv: f64) -> (f64, f64) {
  %out, %dout = enzyme.fwddiff @set(%X, %dX, %v, %dv) <activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_dup>], ret_activity = [#enzyme.activity<enzyme_dup>]> : (memref<?xf64>, memref<?xf64>, f64, f64) -> (f64, f64)
  return %out, %dout : f64, f64
}
"""


def test_set_const_memory_reverse() -> None:
    """activity = [enzyme_const, enzyme_active]: dv = 2 v dout; the stores still happen."""
    mod = _differentiated(SET)
    X = np.arange(20.0)
    out, dv = mod.grad_set(X, 3.0, 0.5)
    assert float(out) == 9.0 and float(dv) == 2 * 3.0 * 0.5
    np.testing.assert_array_equal(X[0::2], 3.0)
    np.testing.assert_array_equal(X[1::2], np.arange(1.0, 20.0, 2))


def test_set_dup_memory_reverse() -> None:
    """enzyme_dup: the shadow's stored positions go into dv and are zeroed, the others stay."""
    mod = _differentiated(SET)
    X, dX = np.arange(20.0), np.linspace(1.0, 2.0, 20)
    before = dX.copy()
    out, dv = mod.grad_set_dup(X, dX, 3.0, 0.5)
    assert float(dv) == pytest.approx(2 * 3.0 * 0.5 + before[0::2].sum())
    np.testing.assert_array_equal(dX[0::2], 0.0)
    np.testing.assert_array_equal(dX[1::2], before[1::2])
    np.testing.assert_array_equal(X[0::2], 3.0)


def test_set_forward_mode() -> None:
    """Tangent buffers beside the primal: the stored positions get dv, dout = 2 v dv."""
    mod = _differentiated(SET)
    X, dX = np.arange(20.0), np.full(20, 0.25)
    out, dout = mod.jvp_set(X, dX, 3.0, 2.0)
    assert float(out) == 9.0 and float(dout) == 12.0
    np.testing.assert_array_equal(dX[0::2], 2.0)
    np.testing.assert_array_equal(dX[1::2], 0.25)


# A function over memory for the generic checks: @f(x: memref, a: f64) -> f64, with its
# forward (both dup) and reverse (memory dup, a active) derivative functions.
def _module(body: str, shape: str, extra_args: str = "", extra_types: str = "", extra_kinds: str = "") -> str:
    return f"""
func.func @f(%x: memref<{shape}xf64>, %a: f64{extra_args}) -> f64 {{
{body}
}}
func.func @jvp(%x: memref<{shape}xf64>, %dx: memref<{shape}xf64>, %a: f64, %da: f64{extra_args}) -> (f64, f64) {{
  %r, %dr = enzyme.fwddiff @f(%x, %dx, %a, %da{_names(extra_args)}) {{activity = [enzyme_dup, enzyme_dup{extra_kinds}], ret_activity = [enzyme_dup]}} : (memref<{shape}xf64>, memref<{shape}xf64>, f64, f64{extra_types}) -> (f64, f64)
  return %r, %dr : f64, f64
}}
func.func @vjp(%x: memref<{shape}xf64>, %sx: memref<{shape}xf64>, %a: f64{extra_args}, %sr: f64) -> (f64, f64) {{
  %r, %ga = enzyme.autodiff @f(%x, %sx, %a{_names(extra_args)}, %sr) {{activity = [enzyme_dup, enzyme_active{extra_kinds}], ret_activity = [enzyme_active]}} : (memref<{shape}xf64>, memref<{shape}xf64>, f64{extra_types}, f64) -> (f64, f64)
  return %r, %ga : f64, f64
}}
"""


def _names(extra_args: str) -> str:
    return "".join(", " + part.split(":")[0].strip() for part in extra_args.split(",")[1:])


def _check_derivatives(mod: MlirModule, n: int, extra: tuple = (), seed: int = 0) -> None:
    """Forward mode against central differences of (x, a) -> (r, x_final); reverse mode
    by the dot-product test <J t, s> = <t, J^T s> against forward mode."""
    rng = np.random.default_rng(seed)
    x0, a0 = rng.uniform(0.5, 1.5, n), 0.7
    tx, ta = rng.standard_normal(n), 0.3
    sx, sr = rng.standard_normal(n), 0.9

    def primal(x, a):
        buf = x.copy()
        return float(mod.f(buf, a, *extra)), buf

    x, dx = x0.copy(), tx.copy()
    r, dr = mod.jvp(x, dx, a0, ta, *extra)  # dx: the tangent of x_final
    eps = 1e-6
    (rp, xp), (rm, xm) = primal(x0 + eps * tx, a0 + eps * ta), primal(x0 - eps * tx, a0 - eps * ta)
    assert float(dr) == pytest.approx((rp - rm) / (2 * eps), rel=1e-6, abs=1e-8)
    np.testing.assert_allclose(dx, (xp - xm) / (2 * eps), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(x, primal(x0, a0)[1])

    x, gx = x0.copy(), sx.copy()
    r2, ga = mod.vjp(x, gx, a0, *extra, sr)  # gx: the gradient with respect to x on entry
    assert float(r2) == pytest.approx(float(r))
    lhs = float(dr) * sr + float(dx @ sx)
    rhs = float(tx @ gx) + ta * float(ga)
    assert lhs == pytest.approx(rhs, rel=1e-10)
    assert abs(lhs) > 1e-3  # the test would not see a zero derivative


SQUARE_IN_PLACE = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {
    %v = memref.load %x[%i] : memref<?xf64>
    %m = arith.mulf %v, %v : f64
    %w = arith.mulf %m, %a : f64
    memref.store %w, %x[%i] : memref<?xf64>
    %s = math.sin %acc : f64
    %t = arith.addf %s, %w : f64
    scf.yield %t : f64
  }
  return %r : f64"""


def test_loop_with_runtime_bounds_over_memory() -> None:
    """x[i] = a x[i]^2 in place, in an scf.for with run-time bounds, carrying a nonlinear
    sum: reverse mode caches the carried value and the loads per iteration (memref
    caches sized at run time) and runs the reverse loop from the last iteration."""
    text = _module(SQUARE_IN_PLACE, "?", ", %n: index", ", index", ", enzyme_const")
    mod = _differentiated(text)
    assert "memref.alloc(" in str(mod.module)  # the caches: sized by the trip count
    _check_derivatives(mod, 6, (np.int64(4),))
    _check_derivatives(mod, 6, (np.int64(0),), seed=1)  # zero-trip loop


def test_long_constant_loop_over_memory() -> None:
    """A 40-iteration loop (beyond unrolling): static caches memref<40xf64>, and a load
    of an element a previous iteration stored (x[i] = x[i-1] * a + x[i])."""
    body = """
  %c1 = arith.constant 1 : index
  %c40 = arith.constant 40 : index
  %z = arith.constant 0.0 : f64
  %r = scf.for %i = %c1 to %c40 step %c1 iter_args(%acc = %z) -> (f64) {
    %im1 = arith.subi %i, %c1 : index
    %p = memref.load %x[%im1] : memref<40xf64>
    %v = memref.load %x[%i] : memref<40xf64>
    %q = arith.mulf %p, %a : f64
    %w = math.sin %q : f64
    %u = arith.addf %w, %v : f64
    memref.store %u, %x[%i] : memref<40xf64>
    %t = arith.addf %acc, %u : f64
    scf.yield %t : f64
  }
  return %r : f64"""
    mod = _differentiated(_module(body, "40"))
    assert "memref<39xf64>" in str(mod.module)
    _check_derivatives(mod, 40)


def test_branch_and_scratch_buffer() -> None:
    """An scf.if that loads and stores (reverse: the loaded values leave the branch as
    results), a scratch memref.alloc whose shadow the derivative allocates, memref.copy
    and memref.dealloc."""
    body = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %t = memref.alloc() : memref<3xf64>
  memref.copy %x, %t : memref<3xf64> to memref<3xf64>
  %v0 = memref.load %t[%c0] : memref<3xf64>
  %pos = arith.cmpf ogt, %v0, %a : f64
  scf.if %pos {
    %v1 = memref.load %t[%c1] : memref<3xf64>
    %m = arith.mulf %v1, %v0 : f64
    memref.store %m, %x[%c1] : memref<3xf64>
  } else {
    %e = math.exp %a : f64
    memref.store %e, %x[%c0] : memref<3xf64>
  }
  %y = memref.load %x[%c1] : memref<3xf64>
  %r = arith.mulf %y, %a : f64
  memref.dealloc %t : memref<3xf64>
  return %r : f64"""
    mod = _differentiated(_module(body, "3"))
    _check_derivatives(mod, 3)  # x0 > a = 0.7 mostly: the then branch
    mod2 = _differentiated(_module(body.replace("ogt", "olt"), "3"))
    _check_derivatives(mod2, 3)


def test_enzyme_syntax_forms() -> None:
    """Enzyme's current forms parse: #enzyme.activity<...>, properties <{...}>, the
    angle-bracket form, and an omitted ret_activity for a function without results."""
    text = """
func.func @st(%x: f64, %out: memref<f64>) {
  %sq = arith.mulf %x, %x : f64
  memref.store %sq, %out[] : memref<f64>
  return
}
func.func @g(%x: f64, %o: memref<f64>, %do: memref<f64>) -> f64 {
  %dx = enzyme.autodiff @st(%x, %o, %do) <{activity = [#enzyme.activity<enzyme_active>, #enzyme.activity<enzyme_dupnoneed>]}> : (f64, memref<f64>, memref<f64>) -> f64
  return %dx : f64
}
"""
    mod = _differentiated(text)
    o, do = np.zeros(()), np.full((), 2.0)
    assert float(mod.g(3.0, o, do)) == 2 * 3.0 * 2.0  # d(x^2)/dx times the shadow's seed
    assert float(o) == 9.0 and float(do) == 0.0


def test_load_mlir_updates_numpy_arrays_without_differentiation() -> None:
    mod = load_mlir(SET)
    X = np.zeros(20)
    assert float(mod.set(X, 1.5)) == 2.25
    np.testing.assert_array_equal(X[0::2], 1.5)
    with pytest.raises(Exception, match="writable numpy array"):
        mod.set(tuple(X), 1.5)


@pytest.mark.parametrize(
    "body, message",
    [
        (
            """  %c0 = arith.constant 0 : index
  memref.store %a, %k[%c0] : memref<2xf64>
  %y = memref.load %k[%c0] : memref<2xf64>
  return %y : f64""",
            "stores a value that carries a derivative into memory without a shadow",
        ),
        (
            """  %c = arith.constant true
  %m = scf.if %c -> (memref<2xf64>) {
    scf.yield %x : memref<2xf64>
  } else {
    scf.yield %k : memref<2xf64>
  }
  %c0 = arith.constant 0 : index
  %y = memref.load %m[%c0] : memref<2xf64>
  %z = arith.mulf %y, %a : f64
  return %z : f64""",
            "'scf.yield' at .* takes the memref memref<2xf64>",
        ),
    ],
)
def test_refusals(body: str, message: str) -> None:
    text = f"""
func.func private @h(%m: memref<2xf64>) -> f64 {{
  %c0 = arith.constant 0 : index
  %v = memref.load %m[%c0] : memref<2xf64>
  return %v : f64
}}
func.func @f(%x: memref<2xf64>, %k: memref<2xf64>, %a: f64) -> f64 {{
{body}
}}
func.func @g(%x: memref<2xf64>, %dx: memref<2xf64>, %k: memref<2xf64>, %a: f64, %s: f64) -> f64 {{
  %ga = enzyme.autodiff @f(%x, %dx, %k, %a, %s) {{activity = [enzyme_dup, enzyme_const, enzyme_active], ret_activity = [enzyme_activenoneed]}} : (memref<2xf64>, memref<2xf64>, memref<2xf64>, f64, f64) -> f64
  return %ga : f64
}}
"""
    module = parse_located(text)
    with pytest.raises(DiffError, match=message) as info:
        differentiate_module(module)
    assert "\n" not in str(info.value)


def test_dup_value_in_reverse_mode_is_refused() -> None:
    text = """
func.func @f(%x: f64) -> f64 { return %x : f64 }
func.func @g(%x: f64, %dx: f64, %s: f64) -> f64 {
  %r = enzyme.autodiff @f(%x, %dx, %s) {activity = [enzyme_dup], ret_activity = [enzyme_active]} : (f64, f64, f64) -> f64
  return %r : f64
}
"""
    with pytest.raises(Exception, match="only for memref arguments"):
        load_mlir(text)


def test_nested_loops_over_memory() -> None:
    """An outer loop with a run-time bound around an inner constant loop, both reading
    and writing x: the inner loop's caches get one dimension per enclosing loop
    (memref<?x3xf64>), and the outer reverse body runs the inner reverse loop."""
    body = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %z = arith.constant 0.0 : f64
  %half = arith.constant 0.5 : f64
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {
    %s = scf.for %j = %c0 to %c3 step %c1 iter_args(%t = %acc) -> (f64) {
      %ij = arith.addi %i, %j : index
      %v = memref.load %x[%ij] : memref<?xf64>
      %w = math.sin %v : f64
      %m = arith.mulf %w, %a : f64
      %u = arith.addf %t, %m : f64
      memref.store %u, %x[%i] : memref<?xf64>
      scf.yield %u : f64
    } {enzyme.enable_checkpointing = false}
    %q = arith.mulf %s, %half : f64
    scf.yield %q : f64
  }
  return %r : f64"""
    mod = _differentiated(_module(body, "?", ", %n: index", ", index", ", enzyme_const"))
    assert "memref<?x3xf64>" in str(mod.module)
    _check_derivatives(mod, 6, (np.int64(3),))


def test_call_passing_memory_is_inlined() -> None:
    """A call that passes a memref (the callee writes it and reads it back) is inlined
    before differentiation, so the shadows follow the buffer into the callee."""
    body = """
  %y = func.call @h(%x, %a) : (memref<3xf64>, f64) -> f64
  %c1 = arith.constant 1 : index
  %v = memref.load %x[%c1] : memref<3xf64>
  %r = arith.mulf %y, %v : f64
  return %r : f64"""
    helper = """
func.func private @h(%m: memref<3xf64>, %b: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %u = memref.load %m[%c1] : memref<3xf64>
  %s = math.sin %u : f64
  %z = arith.mulf %s, %b : f64
  memref.store %z, %m[%c0] : memref<3xf64>
  memref.store %s, %m[%c1] : memref<3xf64>
  %w = memref.load %m[%c0] : memref<3xf64>
  return %w : f64
}
"""
    mod = _differentiated(_module(body, "3") + helper)
    _check_derivatives(mod, 3)


def test_cast_is_an_alias() -> None:
    """memref.cast views the same buffer (static <-> dynamic sizes): a store through the
    view is seen by a load through the original, in the primal and in the shadows."""
    body = """
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %d = memref.cast %x : memref<3xf64> to memref<?xf64>
  %v = memref.load %d[%c2] : memref<?xf64>
  %w = arith.mulf %v, %a : f64
  %s = math.sin %w : f64
  memref.store %s, %d[%c0] : memref<?xf64>
  %u = memref.load %x[%c0] : memref<3xf64>
  %r = arith.mulf %u, %v : f64
  return %r : f64"""
    mod = _differentiated(_module(body, "3"))
    _check_derivatives(mod, 3)


def test_scratch_buffer_inside_a_reversed_loop() -> None:
    """A memref.alloca inside the body of a loop that is reversed as a loop: each
    iteration's reverse gets a fresh zeroed shadow for it."""
    body = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {
    %t = memref.alloca() : memref<2xf64>
    %v = memref.load %x[%i] : memref<?xf64>
    %w = arith.mulf %v, %a : f64
    memref.store %w, %t[%c0] : memref<2xf64>
    memref.store %acc, %t[%c1] : memref<2xf64>
    %p = memref.load %t[%c0] : memref<2xf64>
    %q = memref.load %t[%c1] : memref<2xf64>
    %s = math.sin %p : f64
    %u = arith.addf %s, %q : f64
    %m = arith.mulf %u, %v : f64
    memref.store %m, %x[%i] : memref<?xf64>
    scf.yield %u : f64
  }
  return %r : f64"""
    mod = _differentiated(_module(body, "?", ", %n: index", ", index", ", enzyme_const"))
    _check_derivatives(mod, 5, (np.int64(4),))
