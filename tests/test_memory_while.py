"""Reverse mode of loops over memory that scf.for's caches alone did not cover:
scf.while reading and writing shadowed memory (a counting run, then caches sized by the
trip count and a reverse loop over the trips), loops over memory inside scf.if (caches
allocated before the branch), branches over memory inside loops (their loads cached per
iteration) and in branches, scf.while nested in loops and branches and scf.for bounded
inside them (a dry run sizing the caches by the longest run); affine.load / store syntax (attributes
after the indices, products of symbols) and a memref returned in forward mode and, as a
constant, in reverse mode. Forward mode against central differences, reverse mode by the
dot-product test against forward mode; the refusals."""

from __future__ import annotations

import numpy as np
import pytest

from test_memref import _differentiated  # parsed, verified, differentiated, verified
from zymase.ad.enzyme_pass import differentiate_module
from zymase.ad.errors import DiffError
from zymase.loader import MlirModule, parse_located

pytestmark = pytest.mark.usefixtures("x64")


def _module(body: str) -> str:
    """@f(x: memref<?xf64>, a: f64, n: index) -> f64 with its forward (x, a dup) and
    reverse (x dup, a active) derivatives."""
    return f"""
func.func @f(%x: memref<?xf64>, %a: f64, %n: index) -> f64 {{
{body}
}}
func.func @jvp(%x: memref<?xf64>, %dx: memref<?xf64>, %a: f64, %da: f64, %n: index) -> (f64, f64) {{
  %r, %dr = enzyme.fwddiff @f(%x, %dx, %a, %da, %n) {{activity = [enzyme_dup, enzyme_dup, enzyme_const], ret_activity = [enzyme_dup]}} : (memref<?xf64>, memref<?xf64>, f64, f64, index) -> (f64, f64)
  return %r, %dr : f64, f64
}}
func.func @vjp(%x: memref<?xf64>, %sx: memref<?xf64>, %a: f64, %n: index, %sr: f64) -> (f64, f64) {{
  %r, %ga = enzyme.autodiff @f(%x, %sx, %a, %n, %sr) {{activity = [enzyme_dup, enzyme_active, enzyme_const], ret_activity = [enzyme_active]}} : (memref<?xf64>, memref<?xf64>, f64, index, f64) -> (f64, f64)
  return %r, %ga : f64, f64
}}
"""


def _check(mod: MlirModule, x0: np.ndarray, a0: float, n: int, seed: int = 0) -> tuple[float, np.ndarray]:
    """Forward mode against central differences of (x, a) -> (r, x_final); reverse mode
    by the dot-product test <J t, s> = <t, J^T s>. Returns the primal (r, x_final)."""
    rng = np.random.default_rng(seed)
    size = len(x0)
    tx, ta = rng.standard_normal(size), 0.3
    sx, sr = rng.standard_normal(size), 0.9
    count = np.int64(n)

    def primal(x, a):
        buf = x.copy()
        return float(mod.f(buf, a, count)), buf

    r0, xf = primal(x0, a0)
    x, dx = x0.copy(), tx.copy()
    r, dr = mod.jvp(x, dx, a0, ta, count)
    assert float(r) == pytest.approx(r0)
    np.testing.assert_allclose(x, xf)
    eps = 1e-6
    (rp, xp), (rm, xm) = primal(x0 + eps * tx, a0 + eps * ta), primal(x0 - eps * tx, a0 - eps * ta)
    assert float(dr) == pytest.approx((rp - rm) / (2 * eps), rel=1e-6, abs=1e-8)
    np.testing.assert_allclose(dx, (xp - xm) / (2 * eps), rtol=1e-6, atol=1e-8)

    x, gx = x0.copy(), sx.copy()
    r2, ga = mod.vjp(x, gx, a0, count, sr)
    assert float(r2) == pytest.approx(r0)
    np.testing.assert_allclose(x, xf)  # the primal's stores happen once, on the real buffer
    lhs = float(dr) * sr + float(dx @ sx)
    rhs = float(tx @ gx) + ta * float(ga)
    assert lhs == pytest.approx(rhs, rel=1e-10)
    assert abs(lhs) > 1e-3  # the test would not see a zero derivative
    return r0, xf


# x[i] = a x[i]^2 in place while i < n and the carried nonlinear sum stays below 4: the
# trip count depends on the data.
WHILE_AFTER = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %lim = arith.constant 4.0 : f64
  %r:2 = scf.while (%i = %c0, %acc = %z) : (index, f64) -> (index, f64) {
    %in = arith.cmpi slt, %i, %n : index
    %s = arith.cmpf olt, %acc, %lim : f64
    %c = arith.andi %in, %s : i1
    scf.condition(%c) %i, %acc : index, f64
  } do {
  ^bb0(%j: index, %b: f64):
    %v = memref.load %x[%j] : memref<?xf64>
    %m = arith.mulf %v, %v : f64
    %w = arith.mulf %m, %a : f64
    memref.store %w, %x[%j] : memref<?xf64>
    %e = math.sin %b : f64
    %t = arith.addf %e, %w : f64
    %t2 = arith.addf %t, %b : f64
    %j1 = arith.addi %j, %c1 : index
    scf.yield %j1, %t2 : index, f64
  }
  return %r#1 : f64"""


def test_while_over_memory() -> None:
    """The body loads, stores and carries a nonlinear sum; the loop stops on the sum
    (3 of the 6 elements are touched): the reverse reads the loads and carried values
    from caches indexed by iteration, not from the memory the loop overwrote."""
    mod = _differentiated(_module(WHILE_AFTER))
    text = str(mod.module)
    assert "memref<?xf64>" in text and "scf.while" in text
    x0 = np.array([1.1, 0.9, 1.2, 1.0, 0.8, 1.3])
    r, xf = _check(mod, x0, 0.7, 6)
    changed = np.flatnonzero(xf != x0)
    assert list(changed) == [0, 1, 2]  # a data-dependent trip count, short of n


def test_while_over_memory_zero_trips() -> None:
    """n = 0: the after region never runs; only the final before is reversed (the
    result is the initial sum, whose derivative is zero; the shadow stays)."""
    mod = _differentiated(_module(WHILE_AFTER))
    x, gx = np.array([1.0, 2.0]), np.array([0.5, -1.5])
    r, ga = mod.vjp(x, gx, 0.7, np.int64(0), 1.0)
    assert float(r) == 0.0 and float(ga) == 0.0
    np.testing.assert_array_equal(gx, [0.5, -1.5])
    np.testing.assert_array_equal(x, [1.0, 2.0])


# The condition reads memory (x[i] below a limit), the after region runs a nested
# scf.for over memory (x[i+1] += a sin(x[i + k]) for k < n - 4, a run-time bound) and the
# before region forwards a product with a loaded value: before and after both hold
# loads, and the nested loop gets caches with one more dimension.
WHILE_NESTED = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c2 = arith.subi %n, %c4 : index
  %z = arith.constant 0.0 : f64
  %lim = arith.constant 2.5 : f64
  %r:3 = scf.while (%i = %c0, %acc = %z) : (index, f64) -> (index, f64, f64) {
    %in = arith.cmpi slt, %i, %n : index
    %v = memref.load %x[%i] : memref<?xf64>
    %s = arith.cmpf olt, %v, %lim : f64
    %c = arith.andi %in, %s : i1
    %p = arith.mulf %acc, %v : f64
    scf.condition(%c) %i, %acc, %p : index, f64, f64
  } do {
  ^bb0(%j: index, %b: f64, %q: f64):
    %j1 = arith.addi %j, %c1 : index
    %u = scf.for %k = %c0 to %c2 step %c1 iter_args(%h = %b) -> (f64) {
      %jk = arith.addi %j, %k : index
      %w = memref.load %x[%jk] : memref<?xf64>
      %sw = math.sin %w : f64
      %aw = arith.mulf %sw, %a : f64
      %old = memref.load %x[%j1] : memref<?xf64>
      %new = arith.addf %old, %aw : f64
      memref.store %new, %x[%j1] : memref<?xf64>
      %h1 = arith.addf %h, %new : f64
      scf.yield %h1 : f64
    }
    %e = arith.mulf %q, %a : f64
    %u2 = arith.addf %u, %e : f64
    scf.yield %j1, %u2 : index, f64
  }
  %res = arith.addf %r#1, %r#2 : f64
  return %res : f64"""


def test_while_reading_memory_in_its_condition_with_a_nested_loop() -> None:
    mod = _differentiated(_module(WHILE_NESTED))
    assert "memref<?x?xf64>" in str(mod.module)  # the nested loop's caches
    x0 = np.array([0.6, 0.5, 0.7, 0.4, 0.5, 0.6, 0.3])
    r, xf = _check(mod, x0, 0.4, 6, seed=1)
    assert xf[0] == x0[0] and np.count_nonzero(xf != x0) >= 3  # several trips, each writing x


# Enzyme's scf_parallel_if (scale): a loop over memory inside a branch, with an
# accumulating loop that yields a result used after the branch.
IF_LOOP = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %pos = arith.cmpi sgt, %n, %c0 : index
  %r = scf.if %pos -> (f64) {
    %s = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {
      %v = memref.load %x[%i] : memref<?xf64>
      %m = arith.mulf %v, %a : f64
      %e = math.sin %m : f64
      memref.store %e, %x[%i] : memref<?xf64>
      %acc1 = arith.addf %acc, %v : f64
      %acc2 = arith.mulf %acc1, %e : f64
      scf.yield %acc2 : f64
    }
    scf.yield %s : f64
  } else {
    %c = arith.constant 0 : index
    %v = memref.load %x[%c] : memref<?xf64>
    %w = arith.mulf %v, %a : f64
    scf.yield %w : f64
  }
  %out = arith.mulf %r, %a : f64
  return %out : f64"""


@pytest.mark.parametrize("n", [4, 0])
def test_loop_over_memory_inside_a_branch(n: int) -> None:
    """Both branches: the loop (n = 4, caches allocated before the if, sized by its
    trip count) and the plain load (n = 0)."""
    mod = _differentiated(_module(IF_LOOP))
    _check(mod, np.array([0.9, 1.1, 0.7, 1.3, 0.5]), 0.8, n, seed=2)


SCALE = """
func.func @scale(%arg0: memref<?xf64>, %arg1: memref<?xf64>, %arg2: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %dim = memref.dim %arg0, %c0 : memref<?xf64>
  %0 = arith.cmpi sgt, %dim, %c0 : index
  scf.if %0 {
    scf.parallel (%arg3) = (%c0) to (%dim) step (%c1) {
      %1 = memref.load %arg0[%arg3] : memref<?xf64>
      %2 = memref.load %arg1[%arg3] : memref<?xf64>
      %3 = arith.mulf %1, %2 : f64
      memref.store %3, %arg2[%arg3] : memref<?xf64>
    }
  }
  return
}
func.func @dscale(%arg0: memref<?xf64>, %arg1: memref<?xf64>, %arg2: memref<?xf64>, %arg3: memref<?xf64>, %arg4: memref<?xf64>) {
  enzyme.autodiff @scale(%arg0, %arg3, %arg1, %arg2, %arg4) <{activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_const>, #enzyme.activity<enzyme_dup>], ret_activity = []}> : (memref<?xf64>, memref<?xf64>, memref<?xf64>, memref<?xf64>, memref<?xf64>) -> ()
  return
}
"""


def test_scale_parallel_loop_in_a_branch() -> None:
    """out = x * y elementwise (scf.parallel under scf.if), x dup, y const: dx += y * dout,
    dout zeroed."""
    mod = _differentiated(SCALE)
    x, y, out = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]), np.zeros(3)
    dx, dout = np.array([0.5, 0.5, 0.5]), np.array([1.0, -2.0, 3.0])
    mod.dscale(x, y, out, dx, dout)
    np.testing.assert_array_equal(out, x * y)
    np.testing.assert_array_equal(dx, 0.5 + y * [1.0, -2.0, 3.0])
    np.testing.assert_array_equal(dout, 0.0)


# Loops over memory whose trip counts are known only as the enclosing op runs: a loop
# bounded by a value computed inside the enclosing branch or loop, an scf.while in a loop
# or a branch. A dry run (on copies of the written buffers) counts the longest run of
# each; the caches get that size, each run's count is kept (a while) or recomputed from
# its bounds (an scf.for) for the reverse of that run.
BOUND_IN_BRANCH = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %pos = arith.cmpi sgt, %n, %c0 : index
  %r = scf.if %pos -> (f64) {
    %m = arith.addi %n, %c1 : index
    %s = scf.for %i = %c1 to %m step %c1 iter_args(%acc = %z) -> (f64) {
      %v = memref.load %x[%i] : memref<?xf64>
      %v2 = arith.mulf %v, %v : f64
      %w = arith.mulf %v2, %a : f64
      memref.store %w, %x[%i] : memref<?xf64>
      %e = math.sin %acc : f64
      %t = arith.addf %e, %w : f64
      scf.yield %t : f64
    }
    scf.yield %s : f64
  } else {
    scf.yield %z : f64
  }
  return %r : f64"""

WHILE_IN_FOR = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {
    %i1 = arith.addi %i, %c1 : index
    %j:2 = scf.while (%k = %c0, %b = %acc) : (index, f64) -> (index, f64) {
      %c = arith.cmpi slt, %k, %i1 : index
      scf.condition(%c) %k, %b : index, f64
    } do {
    ^bb0(%l: index, %q: f64):
      %v = memref.load %x[%l] : memref<?xf64>
      %w = arith.mulf %v, %a : f64
      %s = math.sin %w : f64
      memref.store %s, %x[%l] : memref<?xf64>
      %qv = arith.mulf %q, %v : f64
      %t = arith.addf %qv, %s : f64
      %l1 = arith.addi %l, %c1 : index
      scf.yield %l1, %t : index, f64
    }
    scf.yield %j#1 : f64
  }
  return %r : f64"""

WHILE_IN_BRANCH = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %lim = arith.constant 2.5 : f64
  %p = arith.cmpi sgt, %n, %c0 : index
  %r = scf.if %p -> (f64) {
    %j:2 = scf.while (%k = %c0, %b = %z) : (index, f64) -> (index, f64) {
      %in = arith.cmpi slt, %k, %n : index
      %lo = arith.cmpf olt, %b, %lim : f64
      %c = arith.andi %in, %lo : i1
      scf.condition(%c) %k, %b : index, f64
    } do {
    ^bb0(%l: index, %q: f64):
      %v = memref.load %x[%l] : memref<?xf64>
      %v2 = arith.mulf %v, %v : f64
      %w = arith.mulf %v2, %a : f64
      memref.store %w, %x[%l] : memref<?xf64>
      %e = math.cos %q : f64
      %t = arith.addf %w, %q : f64
      %t2 = arith.addf %t, %e : f64
      %l1 = arith.addi %l, %c1 : index
      scf.yield %l1, %t2 : index, f64
    }
    scf.yield %j#1 : f64
  } else {
    scf.yield %z : f64
  }
  return %r : f64"""

BOUND_BY_OUTER_INDEX = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.5 : f64
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {
    %p = arith.cmpi sgt, %i, %c0 : index
    %u = scf.if %p -> (f64) {
      %s = scf.for %j = %c0 to %i step %c1 iter_args(%b = %acc) -> (f64) {
        %v = memref.load %x[%j] : memref<?xf64>
        %va = arith.mulf %v, %a : f64
        %w = math.sin %va : f64
        memref.store %w, %x[%j] : memref<?xf64>
        %bv = arith.mulf %b, %v : f64
        %t = arith.addf %bv, %w : f64
        scf.yield %t : f64
      }
      scf.yield %s : f64
    } else {
      scf.yield %acc : f64
    }
    scf.yield %u : f64
  }
  return %r : f64"""


def test_loop_bounded_inside_its_branch() -> None:
    """The loop's upper bound is computed inside the branch: its caches are sized by a
    dry run; taken (3 trips) and not taken (caches of size 0, zero derivatives)."""
    mod = _differentiated(_module(BOUND_IN_BRANCH))
    x0 = np.array([1.1, 0.9, 1.2, 0.8, 1.3])
    _, xf = _check(mod, x0, 0.7, 3)
    np.testing.assert_allclose(xf[1:4], 0.7 * x0[1:4] ** 2)
    x, sx = x0.copy(), np.array([0.3, -0.2, 0.5, 0.1, 0.4])
    gx = sx.copy()
    r, ga = mod.vjp(x, gx, 0.7, np.int64(0), 0.9)
    assert float(r) == 0.0 and float(ga) == 0.0
    np.testing.assert_array_equal(gx, sx)


def test_while_in_a_loop() -> None:
    """Iteration i runs a while of i + 1 trips over x[0..i], overwriting what earlier
    runs wrote: each run's loads and carried values are cached at (i, trip), its trip
    count kept for its reverse."""
    mod = _differentiated(_module(WHILE_IN_FOR))
    _check(mod, np.array([0.9, 1.1, 0.7, 1.3]), 0.8, 3, seed=1)


def test_while_in_a_branch() -> None:
    """A while stopping on its carried sum (data-dependent trips) inside a branch."""
    mod = _differentiated(_module(WHILE_IN_BRANCH))
    x0 = np.array([1.1, 0.9, 1.2, 1.0, 0.8, 1.3])
    _, xf = _check(mod, x0, 0.7, 6, seed=2)
    assert list(np.flatnonzero(xf != x0)) == [0, 1, 2]  # stopped by the sum, short of n


def test_loop_bounded_by_the_outer_index_in_a_branch_in_a_loop() -> None:
    """A triangular nest: the inner loop (in a branch) runs i trips in iteration i."""
    mod = _differentiated(_module(BOUND_BY_OUTER_INDEX))
    _check(mod, np.array([0.9, 1.1, 0.7, 1.3]), 0.8, 4, seed=4)


FOR_IN_WHILE = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.25 : f64
  %r:2 = scf.while (%i = %c0, %acc = %z) : (index, f64) -> (index, f64) {
    %c = arith.cmpi slt, %i, %n : index
    scf.condition(%c) %i, %acc : index, f64
  } do {
  ^bb0(%i0: index, %b: f64):
    %i1 = arith.addi %i0, %c1 : index
    %s = scf.for %j = %c0 to %i1 step %c1 iter_args(%q = %b) -> (f64) {
      %v = memref.load %x[%j] : memref<?xf64>
      %w = arith.mulf %v, %a : f64
      %e = math.sin %w : f64
      memref.store %e, %x[%j] : memref<?xf64>
      %qv = arith.mulf %q, %v : f64
      %t = arith.addf %qv, %e : f64
      scf.yield %t : f64
    }
    scf.yield %i1, %s : index, f64
  }
  return %r#1 : f64"""

WHILE_IN_WHILE = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.25 : f64
  %r:2 = scf.while (%i = %c0, %acc = %z) : (index, f64) -> (index, f64) {
    %c = arith.cmpi slt, %i, %n : index
    scf.condition(%c) %i, %acc : index, f64
  } do {
  ^bb0(%i0: index, %b: f64):
    %i1 = arith.addi %i0, %c1 : index
    %j:2 = scf.while (%k = %i0, %q = %b) : (index, f64) -> (index, f64) {
      %d = arith.cmpi slt, %k, %n : index
      scf.condition(%d) %k, %q : index, f64
    } do {
    ^bb0(%l: index, %u: f64):
      %v = memref.load %x[%l] : memref<?xf64>
      %w = arith.mulf %v, %a : f64
      %e = math.sin %w : f64
      memref.store %e, %x[%l] : memref<?xf64>
      %uv = arith.mulf %u, %v : f64
      %t = arith.addf %uv, %e : f64
      %l1 = arith.addi %l, %c1 : index
      scf.yield %l1, %t : index, f64
    }
    scf.yield %i1, %j#1 : index, f64
  }
  return %r#1 : f64"""


@pytest.mark.parametrize("body", [FOR_IN_WHILE, WHILE_IN_WHILE], ids=["for_bounded_in_while", "while_in_while"])
def test_loops_in_a_while(body: str) -> None:
    """An scf.for bounded by the while's counter, and an scf.while from the counter to
    n, inside an scf.while: triangular nests whose runs overwrite each other's stores."""
    mod = _differentiated(_module(body))
    _check(mod, np.array([0.9, 1.1, 0.7, 1.3]), 0.8, 3, seed=5)


# Four levels: an scf.for over iterations i, a branch on i > 0, a while of i trips over
# l, and in it an scf.for from l to l + 1 (its bounds computed by the while).
DEEP_NEST = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.25 : f64
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {
    %p = arith.cmpi sgt, %i, %c0 : index
    %u = scf.if %p -> (f64) {
      %j:2 = scf.while (%k = %c0, %b = %acc) : (index, f64) -> (index, f64) {
        %c = arith.cmpi slt, %k, %i : index
        scf.condition(%c) %k, %b : index, f64
      } do {
      ^bb0(%l: index, %q: f64):
        %l1 = arith.addi %l, %c1 : index
        %s = scf.for %m = %l to %l1 step %c1 iter_args(%h = %q) -> (f64) {
          %v = memref.load %x[%m] : memref<?xf64>
          %w = arith.mulf %v, %a : f64
          %e = math.sin %w : f64
          memref.store %e, %x[%m] : memref<?xf64>
          %hv = arith.mulf %h, %v : f64
          %t = arith.addf %hv, %e : f64
          scf.yield %t : f64
        }
        scf.yield %l1, %s : index, f64
      }
      scf.yield %j#1 : f64
    } else {
      scf.yield %acc : f64
    }
    scf.yield %u : f64
  }
  return %r : f64"""


def test_deep_nest() -> None:
    mod = _differentiated(_module(DEEP_NEST))
    _check(mod, np.array([0.9, 1.1, 0.7, 1.3]), 0.8, 4, seed=3)


# A branch over memory in a branch over memory, at the top and in a loop: the inner
# branch's loads (and its loop's results) are yielded by both branches as extra results.
BRANCH_IN_BRANCH = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %half = arith.constant 1.0 : f64
  %p = arith.cmpi sgt, %n, %c0 : index
  %r = scf.if %p -> (f64) {
    %v = memref.load %x[%c0] : memref<?xf64>
    %big = arith.cmpf ogt, %v, %half : f64
    %u = scf.if %big -> (f64) {
      %w = memref.load %x[%c1] : memref<?xf64>
      %m = arith.mulf %w, %v : f64
      %s = math.sin %m : f64
      memref.store %s, %x[%c1] : memref<?xf64>
      %t = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (f64) {
        %y = memref.load %x[%i] : memref<?xf64>
        %ya = arith.mulf %y, %a : f64
        memref.store %ya, %x[%i] : memref<?xf64>
        %q = arith.mulf %acc, %y : f64
        scf.yield %q : f64
      }
      scf.yield %t : f64
    } else {
      %m = arith.mulf %v, %a : f64
      memref.store %m, %x[%c0] : memref<?xf64>
      scf.yield %m : f64
    }
    %e = arith.mulf %u, %v : f64
    scf.yield %e : f64
  } else {
    scf.yield %half : f64
  }
  return %r : f64"""

BRANCH_IN_BRANCH_IN_LOOP = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.5 : f64
  %one = arith.constant 1.0 : f64
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {
    %v = memref.load %x[%i] : memref<?xf64>
    %p = arith.cmpf ogt, %v, %one : f64
    %u = scf.if %p -> (f64) {
      %q = arith.cmpf ogt, %acc, %one : f64
      %w = scf.if %q -> (f64) {
        %y = memref.load %x[%c0] : memref<?xf64>
        %m = arith.mulf %y, %v : f64
        %s = math.sin %m : f64
        memref.store %s, %x[%c0] : memref<?xf64>
        scf.yield %s : f64
      } else {
        %m = arith.mulf %v, %a : f64
        memref.store %m, %x[%i] : memref<?xf64>
        scf.yield %m : f64
      }
      scf.yield %w : f64
    } else {
      %m = arith.mulf %v, %v : f64
      scf.yield %m : f64
    }
    %e = arith.mulf %u, %acc : f64
    %acc1 = arith.addf %e, %u : f64
    scf.yield %acc1 : f64
  }
  return %r : f64"""


@pytest.mark.parametrize(
    "body, x0",
    [
        (BRANCH_IN_BRANCH, [1.2, 0.9, 1.1, 0.8]),  # the inner branch taken: its loop runs
        (BRANCH_IN_BRANCH, [0.7, 0.9, 1.1, 0.8]),  # the inner branch not taken
        (BRANCH_IN_BRANCH_IN_LOOP, [1.2, 0.9, 1.3, 1.1]),  # both ways across the iterations
    ],
    ids=["top_taken", "top_not_taken", "in_loop"],
)
def test_branch_over_memory_in_a_branch(body: str, x0: list[float]) -> None:
    mod = _differentiated(_module(body))
    _check(mod, np.array(x0), 0.8, 3, seed=6)


def test_refusal_tensor_carried_by_a_loop_over_memory() -> None:
    body = """  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %t0 = arith.constant dense<1.0> : tensor<2xf64>
  %t = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %t0) -> (tensor<2xf64>) {
    %v = memref.load %x[%i] : memref<?xf64>
    %w = arith.mulf %v, %a : f64
    memref.store %w, %x[%i] : memref<?xf64>
    %s = tensor.splat %w : tensor<2xf64>
    %acc1 = arith.mulf %acc, %s : tensor<2xf64>
    scf.yield %acc1 : tensor<2xf64>
  }
  %r = tensor.extract %t[%c0] : tensor<2xf64>
  return %r : f64"""
    with pytest.raises(DiffError, match=r"reverse mode of 'scf.for' at .*: the loop over memory carries or loads tensor<2xf64>; only scalars are cached yet") as info:
        differentiate_module(parse_located(_module(body)))
    assert "\n" not in str(info.value)


# affine.load / store as MLIR writes them: attributes after the indices, a product of
# two symbols in an index (x[i + n * one], the second half of x).
AFFINE_ACCESS = """
  %one = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %r = affine.for %i = 0 to %n iter_args(%acc = %z) -> (f64) {
    %v = affine.load %x[%i] {alignment = 16 : i64} : memref<?xf64>
    %w = affine.load %x[%i + symbol(%n) * symbol(%one)] {alignment = 16 : i64} : memref<?xf64>
    %m = arith.mulf %v, %a : f64
    %s = math.sin %m : f64
    %t = arith.mulf %s, %w : f64
    affine.store %t, %x[symbol(%n) * symbol(%one) + %i] {alignment = 16 : i64} : memref<?xf64>
    %acc1 = arith.addf %acc, %t : f64
    affine.yield %acc1 : f64
  }
  return %r : f64"""


def test_affine_access_syntax() -> None:
    """Parsed, printed back in MLIR's syntax (symbols in products as ``symbol(%v)``,
    the attributes after the indices), lowered and differentiated in both modes."""
    from zymase.ir import print_module

    module = parse_located(_module(AFFINE_ACCESS))
    text = print_module(module, generic=False)
    assert "affine.load %x[%i + symbol(%n) * symbol(%one)] {alignment = 16 : i64} : memref<?xf64>" in text
    assert "affine.store %t, %x[symbol(%n) * symbol(%one) + %i] {alignment = 16 : i64} : memref<?xf64>" in text
    assert print_module(parse_located(text), generic=False) == text
    mod = _differentiated(_module(AFFINE_ACCESS))
    x0 = np.array([0.9, 1.1, 0.7, 1.3, 0.5, 1.2])
    r, xf = _check(mod, x0, 0.8, 3, seed=3)
    np.testing.assert_allclose(xf[3:], np.sin(0.8 * x0[:3]) * x0[3:])


RETURNED = """
func.func @make(%x: f64) -> memref<2xf64> {
  %m = memref.alloc() : memref<2xf64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %s = math.sin %x : f64
  %y = arith.mulf %s, %x : f64
  memref.store %y, %m[%c0] : memref<2xf64>
  memref.store %s, %m[%c1] : memref<2xf64>
  return %m : memref<2xf64>
}
func.func @jvp(%x: f64, %dx: f64) -> (memref<2xf64>, memref<2xf64>) {
  %p, %t = enzyme.fwddiff @make(%x, %dx) {activity = [#enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dup>]} : (f64, f64) -> (memref<2xf64>, memref<2xf64>)
  return %p, %t : memref<2xf64>, memref<2xf64>
}
"""


def test_returned_memref_in_forward_mode() -> None:
    """The tangent of a returned buffer is its tangent buffer: against central differences."""
    mod = _differentiated(RETURNED)
    x, eps = 0.7, 1e-6
    p, t = mod.jvp(x, 1.0)
    np.testing.assert_allclose(np.asarray(p), [np.sin(x) * x, np.sin(x)])
    hi, lo = np.asarray(mod.jvp(x + eps, 0.0)[0]), np.asarray(mod.jvp(x - eps, 0.0)[0])
    np.testing.assert_allclose(np.asarray(t), (hi - lo) / (2 * eps), rtol=1e-7)
    assert abs(float(np.asarray(t)[0])) > 0.1


RETURNED_BOTH = """
func.func @make(%x: f64) -> (memref<2xf64>, f64) {
  %m = memref.alloc() : memref<2xf64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %s = math.sin %x : f64
  %y = arith.mulf %s, %x : f64
  memref.store %y, %m[%c0] : memref<2xf64>
  memref.store %s, %m[%c1] : memref<2xf64>
  %u = memref.load %m[%c0] : memref<2xf64>
  %w = memref.load %m[%c1] : memref<2xf64>
  %p = arith.mulf %u, %w : f64
  return %m, %p : memref<2xf64>, f64
}
func.func @vjp(%x: f64, %sp: f64) -> (memref<2xf64>, f64, f64) {
  %m, %p, %g = enzyme.autodiff @make(%x, %sp) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_const>, #enzyme<activity enzyme_active>]} : (f64, f64) -> (memref<2xf64>, f64, f64)
  return %m, %p, %g : memref<2xf64>, f64, f64
}
func.func @grad(%x: f64, %sp: f64) -> f64 {
  %g = enzyme.autodiff @make(%x, %sp) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_constnoneed>, #enzyme<activity enzyme_activenoneed>]} : (f64, f64) -> f64
  return %g : f64
}
"""


def test_returned_memref_in_reverse_mode() -> None:
    """A buffer returned as enzyme_const (the primal buffer comes back) or
    enzyme_constnoneed next to an active scalar read back from it: the gradient of the
    scalar, p = sin(x)^2 x, against central differences."""
    mod = _differentiated(RETURNED_BOTH)
    x, eps = 0.7, 1e-6
    m, p, g = mod.vjp(x, 1.5)
    np.testing.assert_allclose(np.asarray(m), [np.sin(x) * x, np.sin(x)])
    assert float(p) == pytest.approx(np.sin(x) ** 2 * x)
    fd = (np.sin(x + eps) ** 2 * (x + eps) - np.sin(x - eps) ** 2 * (x - eps)) / (2 * eps)
    assert float(g) == pytest.approx(1.5 * fd, rel=1e-7)
    assert float(mod.grad(x, 1.5)) == pytest.approx(1.5 * fd, rel=1e-7)


def test_returned_memref_with_a_cotangent_is_refused() -> None:
    text = RETURNED + """
func.func @vjp(%x: f64, %s: memref<2xf64>) -> f64 {
  %g = enzyme.autodiff @make(%x, %s) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (f64, memref<2xf64>) -> f64
  return %g : f64
}
"""
    with pytest.raises(DiffError, match=r"'func.return' at .* returns the memref memref<2xf64> marked enzyme_active") as info:
        differentiate_module(parse_located(text))
    assert "\n" not in str(info.value)


# A branch over memory inside a loop over memory (and inside a while): the branch's loads
# are yielded as extra results and cached per iteration with the loop's other values.
BRANCH_IN_FOR = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %half = arith.constant 1.0 : f64
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {
    %v = memref.load %x[%i] : memref<?xf64>
    %big = arith.cmpf ogt, %v, %half : f64
    %w = scf.if %big -> (f64) {
      %i1 = arith.addi %i, %c1 : index
      %u = memref.load %x[%i1] : memref<?xf64>
      %p = arith.mulf %u, %v : f64
      %s = math.sin %p : f64
      memref.store %s, %x[%i1] : memref<?xf64>
      scf.yield %p : f64
    } else {
      %m = arith.mulf %v, %a : f64
      memref.store %m, %x[%i] : memref<?xf64>
      scf.yield %m : f64
    }
    %e = arith.mulf %w, %acc : f64
    %acc1 = arith.addf %e, %w : f64
    scf.yield %acc1 : f64
  }
  return %r : f64"""


def test_branch_over_memory_inside_a_loop() -> None:
    mod = _differentiated(_module(BRANCH_IN_FOR))
    x0 = np.array([1.3, 0.6, 1.2, 0.9, 1.4, 0.7])
    _check(mod, x0, 0.8, 5, seed=4)


BRANCH_IN_WHILE = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %one = arith.constant 1.0 : f64
  %lim = arith.constant 6.0 : f64
  %r:2 = scf.while (%i = %c0, %acc = %z) : (index, f64) -> (index, f64) {
    %in = arith.cmpi slt, %i, %n : index
    %low = arith.cmpf olt, %acc, %lim : f64
    %go = arith.andi %in, %low : i1
    scf.condition(%go) %i, %acc : index, f64
  } do {
  ^bb0(%j: index, %b: f64):
    %v = memref.load %x[%j] : memref<?xf64>
    %big = arith.cmpf ogt, %v, %one : f64
    %w = scf.if %big -> (f64) {
      %q = arith.mulf %v, %v : f64
      memref.store %q, %x[%j] : memref<?xf64>
      scf.yield %q : f64
    } else {
      %m = arith.mulf %v, %a : f64
      %s = math.sin %m : f64
      memref.store %s, %x[%j] : memref<?xf64>
      %u = memref.load %x[%c0] : memref<?xf64>
      %t = arith.mulf %s, %u : f64
      scf.yield %t : f64
    }
    %t2 = arith.addf %b, %w : f64
    %j1 = arith.addi %j, %c1 : index
    scf.yield %j1, %t2 : index, f64
  }
  return %r#1 : f64"""


def test_branch_over_memory_inside_a_while() -> None:
    mod = _differentiated(_module(BRANCH_IN_WHILE))
    x0 = np.array([1.3, 0.6, 1.2, 0.9, 1.4, 0.7])
    r, xf = _check(mod, x0, 0.8, 6, seed=5)
    assert 2 <= np.count_nonzero(xf != x0) < 6  # the sum stops the loop early


# A while over memory without a shadow (a constant table k) and a scratch buffer
# allocated in the after region, with a nested loop over memory in the before region:
# the counting run copies only the buffers the loop writes (x), the table is read as is.
WHILE_CONST_TABLE = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %z = arith.constant 0.0 : f64
  %lim = arith.constant 5.0 : f64
  %r:2 = scf.while (%i = %c0, %acc = %z) : (index, f64) -> (index, f64) {
    %s = scf.for %k = %c0 to %c2 step %c1 iter_args(%h = %acc) -> (f64) {
      %ik = arith.addi %i, %k : index
      %v = memref.load %x[%ik] : memref<?xf64>
      %t = memref.load %tab[%k] : memref<2xf64>
      %vt = arith.mulf %v, %t : f64
      %h1 = arith.addf %h, %vt : f64
      scf.yield %h1 : f64
    } {enzyme.enable_checkpointing = false}
    %in = arith.cmpi slt, %i, %n : index
    %low = arith.cmpf olt, %s, %lim : f64
    %go = arith.andi %in, %low : i1
    scf.condition(%go) %i, %s : index, f64
  } do {
  ^bb0(%j: index, %b: f64):
    %tmp = memref.alloca() : memref<1xf64>
    %v = memref.load %x[%j] : memref<?xf64>
    %m = arith.mulf %v, %a : f64
    memref.store %m, %tmp[%c0] : memref<1xf64>
    %u = memref.load %tmp[%c0] : memref<1xf64>
    %e = math.sin %u : f64
    %j1 = arith.addi %j, %c1 : index
    memref.store %e, %x[%j1] : memref<?xf64>
    %b2 = arith.mulf %b, %e : f64
    scf.yield %j1, %b2 : index, f64
  }
  return %r#1 : f64"""


def test_while_with_constant_memory_scratch_buffer_and_nested_loop_in_before() -> None:
    text = _module(WHILE_CONST_TABLE).replace("%a: f64, %n: index) -> f64 {", "%a: f64, %n: index, %tab: memref<2xf64>) -> f64 {", 1)
    text = text.replace("%a, %da, %n)", "%a, %da, %n, %tab)").replace("%a, %n, %sr)", "%a, %n, %tab, %sr)")
    text = text.replace("enzyme_const]", "enzyme_const, enzyme_const]").replace(", index) -> (f64, f64)", ", index, memref<2xf64>) -> (f64, f64)")
    text = text.replace("%n: index) -> (f64, f64) {", "%n: index, %tab: memref<2xf64>) -> (f64, f64) {")
    text = text.replace("%n: index, %sr: f64) -> (f64, f64) {", "%n: index, %tab: memref<2xf64>, %sr: f64) -> (f64, f64) {")
    text = text.replace(", index, f64) -> (f64, f64)", ", index, memref<2xf64>, f64) -> (f64, f64)")
    mod = _differentiated(text)
    assert "memref<?x2xf64>" in str(mod.module)  # the before region's nested loop, cached per trip
    tab = np.array([0.7, 1.3])
    rng = np.random.default_rng(6)
    x0 = rng.uniform(0.5, 1.0, 7)
    n = np.int64(5)  # x[i + 1] stays within the 7 elements for i <= n
    # the same checks as _check, with the table passed after n
    tx, ta, sx, sr = rng.standard_normal(7), 0.3, rng.standard_normal(7), 0.9

    def primal(x, a):
        buf = x.copy()
        return float(mod.f(buf, a, n, tab.copy())), buf

    r0, xf = primal(x0, 0.6)
    assert np.count_nonzero(xf != x0) >= 3
    x, dx = x0.copy(), tx.copy()
    r, dr = mod.jvp(x, dx, 0.6, ta, n, tab.copy())
    eps = 1e-6
    (rp, xp), (rm, xm) = primal(x0 + eps * tx, 0.6 + eps * ta), primal(x0 - eps * tx, 0.6 - eps * ta)
    assert float(dr) == pytest.approx((rp - rm) / (2 * eps), rel=1e-6, abs=1e-8)
    np.testing.assert_allclose(dx, (xp - xm) / (2 * eps), rtol=1e-6, atol=1e-8)
    x, gx = x0.copy(), sx.copy()
    t2 = tab.copy()
    r2, ga = mod.vjp(x, gx, 0.6, n, t2, sr)
    assert float(r2) == pytest.approx(r0)
    np.testing.assert_allclose(x, xf)
    np.testing.assert_array_equal(t2, tab)
    lhs = float(dr) * sr + float(dx @ sx)
    rhs = float(tx @ gx) + ta * float(ga)
    assert lhs == pytest.approx(rhs, rel=1e-10) and abs(lhs) > 1e-3


# A loop over memory in a branch in a loop over memory: its caches get the enclosing
# loop's dimension, and the branch yields its result, cached per outer iteration.
LOOP_IN_BRANCH_IN_LOOP = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %m = arith.subi %n, %c2 : index
  %z = arith.constant 0.0 : f64
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {
    %odd = arith.remui %i, %c2 : index
    %p = arith.cmpi eq, %odd, %c1 : index
    %w = scf.if %p -> (f64) {
      %s = scf.for %j = %c0 to %m step %c1 iter_args(%h = %acc) -> (f64) {
        %ij = arith.addi %i, %j : index
        %v = memref.load %x[%ij] : memref<?xf64>
        %e = math.sin %v : f64
        %h1 = arith.mulf %h, %e : f64
        %h2 = arith.addf %h1, %e : f64
        memref.store %h2, %x[%ij] : memref<?xf64>
        scf.yield %h2 : f64
      }
      scf.yield %s : f64
    } else {
      %v = memref.load %x[%i] : memref<?xf64>
      %q = arith.mulf %v, %a : f64
      memref.store %q, %x[%i] : memref<?xf64>
      %q2 = arith.mulf %q, %acc : f64
      scf.yield %q2 : f64
    }
    %acc1 = arith.addf %acc, %w : f64
    scf.yield %acc1 : f64
  }
  return %r : f64"""


def test_loop_over_memory_in_a_branch_inside_a_loop() -> None:
    mod = _differentiated(_module(LOOP_IN_BRANCH_IN_LOOP))
    assert "memref<?x?xf64>" in str(mod.module)  # the inner loop's caches, per outer iteration
    x0 = np.array([0.9, 1.1, 0.7, 1.3, 0.5, 1.2, 0.8])
    _check(mod, x0, 0.8, 4, seed=7)
