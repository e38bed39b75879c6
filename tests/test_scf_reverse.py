"""Reverse mode of scf.for and scf.while (ad/rules/scf.py): taped counted loops, loops
with run-time bounds and scf.while checkpointed through ad/rules/checkpoint.py, against
jax in float64 (jax.grad of lax.fori_loop with static bounds; jax.jacfwd where jax's loop
is a while_loop, which jax cannot reverse)."""

import functools
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from zymase.ad.errors import DiffError
from zymase.ad.unroll import MAX_UNROLLED_ITERATIONS
from zymase.ir import print_module
from zymase.loader import load_mlir
from zymase.passes import run_pipeline

pytestmark = pytest.mark.usefixtures("x64")

TOL = 1e-10


@functools.lru_cache(maxsize=None)
def _compiled(text: str, pipeline: str = "zymase-derivative", schedule: str | None = None):
    """The module of ``text`` after the derivative pipeline (with ``loop-checkpoint`` when
    ``schedule``), its functions callable; built once per text for all parametrizations
    (the module is only called and printed, never changed)."""
    mod = load_mlir(text)
    before = f'loop-checkpoint{{schedule="{schedule}"}}' if schedule is not None else ""
    run_pipeline(pipeline, mod.module, before_enzyme=before)
    return mod


def _close(got, want) -> None:
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=TOL, atol=TOL)


def _diffs(fn: str, kinds: list[str], types: list[str], ret: str) -> str:
    """``@grad_<fn>``: enzyme.autodiff of ``@fn`` with these activities (seed 1)."""
    seed = "%s = arith.constant 1.0 : f64" if ret == "f64" else f"%s = stablehlo.constant dense<1.0> : {ret}"
    args = ", ".join(f"%a{i}: {t}" for i, t in enumerate(types))
    names = ", ".join(f"%a{i}" for i in range(len(types)))
    act = ", ".join(f"#enzyme<activity enzyme_{k}>" for k in kinds)
    outs = [t for t, k in zip(types, kinds) if k == "active"]
    out_t = ", ".join(outs)
    return f"""
func.func @grad_{fn}({args}) -> ({out_t}) {{
  {seed}
  %r:{len(outs)} = enzyme.autodiff @{fn}({names}, %s) {{activity = [{act}], ret_activity = [#enzyme<activity enzyme_activenoneed>]}} : ({", ".join(types + [ret])}) -> ({out_t})
  func.return %r#0{"".join(f", %r#{i}" for i in range(1, len(outs)))} : {out_t}
}}
""".replace(":1 = enzyme", " = enzyme").replace("%r#0 :", "%r :")


# ============================================================================ x^n, n at run time

POW = """
func.func @pow(%x: f64, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f64
  %p = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %one) -> (f64) {
    %s = math.sin %acc : f64
    %t = arith.mulf %s, %x : f64
    %next = arith.addf %acc, %t : f64
    scf.yield %next : f64
  }
  func.return %p : f64
}
""" + _diffs("pow", ["active", "const"], ["f64", "index"], "f64")


def _pow_jax(x, n):
    return lax.fori_loop(0, n, lambda i, p: p + jnp.sin(p) * x, 1.0)


@pytest.mark.parametrize("n", [0, 1, 7, 33, 1100])
def test_runtime_bound_for(n):
    """p = p + x sin(p), n times, n an argument: 0 trips, one, fewer than the 32 slots,
    more, and more than 32 * 32 (every level of checkpoints)."""
    mod = _compiled(POW)
    want = jax.grad(_pow_jax)(0.7, n)  # n static: a scan, which jax reverses
    _close(mod.grad_pow(0.7, n), want)


# ============================================================================ scf.while

NEWTON = """
func.func @newton(%a: f64) -> f64 {
  %half = arith.constant 0.5 : f64
  %tol = arith.constant 1.0e-12 : f64
  %r = scf.while (%y = %a) : (f64) -> f64 {
    %y2 = arith.mulf %y, %y : f64
    %e = arith.subf %y2, %a : f64
    %ae = math.absf %e : f64
    %bound = arith.mulf %tol, %a : f64
    %go = arith.cmpf ogt, %ae, %bound : f64
    scf.condition(%go) %y : f64
  } do {
  ^bb0(%z: f64):
    %q = arith.divf %a, %z : f64
    %s = arith.addf %z, %q : f64
    %n = arith.mulf %half, %s : f64
    scf.yield %n : f64
  }
  func.return %r : f64
}
""" + _diffs("newton", ["active"], ["f64"], "f64")


def _newton_jax(a):
    def cond(y):
        return jnp.abs(y * y - a) > 1e-12 * a

    return lax.while_loop(cond, lambda y: 0.5 * (y + a / y), a)


@pytest.mark.parametrize("a", [1.0, 2.0, 150.0])
def test_scf_while_newton(a):
    """Newton's square root, run until converged: a data-dependent trip count (0 for a = 1)."""
    mod = _compiled(NEWTON)
    _close(mod.grad_newton(a), jax.jacfwd(_newton_jax)(a))


GROW = """
func.func @grow(%x: f64, %limit: f64) -> (f64) {
  %one = arith.constant 1.0 : f64
  %c0 = arith.constant 0 : i64
  %r:2 = scf.while (%p = %one, %k = %c0) : (f64, i64) -> (i64, f64) {
    %go = arith.cmpf olt, %p, %limit : f64
    scf.condition(%go) %k, %p : i64, f64
  } do {
  ^bb0(%kk: i64, %q: f64):
    %c1 = arith.constant 1 : i64
    %k1 = arith.addi %kk, %c1 : i64
    %fk = arith.sitofp %k1 : i64 to f64
    %m = arith.mulf %q, %x : f64
    %l = math.log %fk : f64
    %n = arith.addf %m, %l : f64
    scf.yield %n, %k1 : f64, i64
  }
  %fk = arith.sitofp %r#0 : i64 to f64
  %out = arith.mulf %r#1, %fk : f64
  func.return %out : f64
}
""" + _diffs("grow", ["active", "active"], ["f64", "f64"], "f64")


def _grow_jax(x, limit):
    def body(c):
        p, k = c
        k1 = k + 1
        return p * x + jnp.log(k1.astype(jnp.float64)), k1

    p, k = lax.while_loop(lambda c: c[0] < limit, body, (1.0, 0))
    return p * k.astype(jnp.float64)


@pytest.mark.parametrize("x, limit", [(1.5, 10.0), (1.1, 300.0), (1.5, 0.5)])
def test_scf_while_grow(x, limit):
    """while p < limit: k += 1, p = p x + log k. The results come out of scf.condition in
    another order than the state (k, p vs p, k), k an integer; the limit (active, used
    only by the condition) gets a zero cotangent."""
    mod = _compiled(GROW)
    got = mod.grad_grow(x, limit)
    want = jax.jacfwd(_grow_jax, argnums=(0, 1))(x, limit)
    _close(got[0], want[0])
    _close(got[1], want[1])
    assert float(got[1]) == 0.0


# ============================================================================ nested loops

NESTED = """
func.func @nested(%x: f64, %m: index, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c20 = arith.constant 20 : index
  %one = arith.constant 1.0 : f64
  %p = scf.for %i = %c0 to %m step %c1 iter_args(%acc = %one) -> (f64) {
    %ub = arith.addi %n, %i : index
    %q = scf.for %j = %c0 to %ub step %c1 iter_args(%a = %acc) -> (f64) {
      %c = math.cos %a : f64
      %t = arith.mulf %c, %x : f64
      %next = arith.addf %a, %t : f64
      scf.yield %next : f64
    }
    %r = scf.for %j = %c0 to %c20 step %c1 iter_args(%a = %q) -> (f64) {
      %s = math.sin %a : f64
      %t = arith.mulf %s, %x : f64
      %u = arith.mulf %t, %x : f64
      %next = arith.subf %a, %u : f64
      scf.yield %next : f64
    }
    scf.yield %r : f64
  }
  func.return %p : f64
}
""" + _diffs("nested", ["active", "const", "const"], ["f64", "index", "index"], "f64")


def _nested_jax(m, n):
    def f(x):
        def outer(i, acc):
            q = lax.fori_loop(0, n + i, lambda j, a: a + jnp.cos(a) * x, acc)
            return lax.fori_loop(0, 20, lambda j, a: a - jnp.sin(a) * x * x, q)

        return lax.fori_loop(0, m, outer, 1.0)

    return f


@pytest.mark.parametrize("m, n", [(3, 2), (0, 5), (40, 0)])
def test_nested_runtime_inner_bound(m, n):
    """An outer loop with a run-time bound, an inner one whose bound depends on the outer
    index, and a constant inner loop of 20 (taped) inside the checkpointed outer one."""
    mod = _compiled(NESTED)
    _close(mod.grad_nested(0.3, m, n), jax.jacfwd(_nested_jax(m, n))(0.3))


WHILE_FOR = """
func.func @wf(%x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c30 = arith.constant 30 : index
  %limit = arith.constant 50.0 : f64
  %grow = arith.constant 1.5 : f64
  %r = scf.while (%v = %x) : (f64) -> f64 {
    %go = arith.cmpf olt, %v, %limit : f64
    scf.condition(%go) %v : f64
  } do {
  ^bb0(%w: f64):
    %q = scf.for %j = %c0 to %c30 step %c1 iter_args(%a = %w) -> (f64) {
      %s = math.sin %a : f64
      %t = arith.mulf %s, %x : f64
      %u = arith.mulf %t, %x : f64
      %next = arith.addf %a, %u : f64
      scf.yield %next : f64
    }
    %e = math.sqrt %q : f64
    %g = arith.mulf %q, %grow : f64
    %n = arith.addf %g, %e : f64
    scf.yield %n : f64
  }
  func.return %r : f64
}
""" + _diffs("wf", ["active"], ["f64"], "f64")


def _wf_jax(x):
    def body(w):
        q = lax.fori_loop(0, 30, lambda j, a: a + jnp.sin(a) * x * x, w)
        return 1.5 * q + jnp.sqrt(q)

    return lax.while_loop(lambda v: v < 50.0, body, x)


def test_scf_while_around_taped_for():
    """A counted scf.for (taped) inside an scf.while (checkpointed), x captured by both."""
    mod = _compiled(WHILE_FOR)
    _close(mod.grad_wf(0.4), jax.jacfwd(_wf_jax)(0.4))


# ============================================================================ tensors

TENSOR = """
func.func @tl(%v0: tensor<3xf64>, %w: tensor<3xf64>, %n: index) -> tensor<3xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %v = scf.for %i = %c0 to %n step %c1 iter_args(%a = %v0) -> (tensor<3xf64>) {
    %m = stablehlo.multiply %a, %w : tensor<3xf64>
    %s = stablehlo.sine %a : tensor<3xf64>
    %r = stablehlo.reverse %s, dims = [0] : tensor<3xf64>
    %next = stablehlo.add %m, %r : tensor<3xf64>
    scf.yield %next : tensor<3xf64>
  }
  func.return %v : tensor<3xf64>
}
""" + _diffs("tl", ["active", "active", "const"], ["tensor<3xf64>", "tensor<3xf64>", "index"], "tensor<3xf64>")


def _tensor_jax(n):
    def f(v0, w):
        v = lax.fori_loop(0, n, lambda i, a: a * w + jnp.sin(a)[::-1], v0)
        return jnp.sum(v)

    return f


@pytest.mark.parametrize("n", [0, 5, 70])
def test_tensor_iter_arg_runtime_bound(n):
    """A tensor<3xf64> iter_arg with stablehlo ops, a captured tensor (its cotangent
    accumulated over the iterations), the bound at run time."""
    mod = _compiled(TENSOR)
    v0, w = np.array([0.3, -0.2, 0.5]), np.array([0.9, 1.1, 0.7])
    got = mod.grad_tl(v0, w, n)
    want = jax.grad(_tensor_jax(n), argnums=(0, 1))(v0, w)
    _close(got[0], want[0])
    _close(got[1], want[1])


# ============================================================================ constant bounds

COUNTED = """
func.func @counted(%x: f64, %y: f64) -> f64 {
  %lb = arith.constant 3 : index
  %ub = arith.constant BOUND : index
  %st = arith.constant 2 : index
  %k0 = arith.constant 1 : i64
  %r:3 = scf.for %i = %lb to %ub step %st iter_args(%a = %y, %k = %k0, %c = %x) -> (f64, i64, f64) {
    %ii = arith.index_cast %i : index to i64
    %fi = arith.sitofp %ii : i64 to f64
    %xi = arith.mulf %c, %fi : f64
    %s = math.sin %xi : f64
    %m = arith.mulf %a, %s : f64
    %tenth = arith.constant 0.001 : f64
    %d = arith.mulf %m, %tenth : f64
    %fk = arith.sitofp %k : i64 to f64
    %e = arith.mulf %fk, %tenth : f64
    %t = arith.addf %a, %d : f64
    %next = arith.addf %t, %e : f64
    %c2 = arith.constant 2 : i64
    %k1 = arith.remsi %k, %c2 : i64
    %k2 = arith.addi %k1, %k0 : i64
    scf.yield %next, %k2, %c : f64, i64, f64
  }
  func.return %r#0 : f64
}
""" + _diffs("counted", ["active", "active"], ["f64", "f64"], "f64")


def _counted_jax(bound):
    def f(x, y):
        def body(j, c):
            a, k = c
            i = 3 + 2 * j
            a = a + a * jnp.sin(x * i) * 0.001 + k * 0.001
            return a, k % 2 + 1

        trips = max(0, -(-(bound - 3) // 2))
        return lax.fori_loop(0, trips, body, (y, 1.0))[0]

    return f


@pytest.mark.parametrize("bound", [3, 4, 30, 5003])
@pytest.mark.parametrize("schedule", [None, "periodic", "binomial:5"])
def test_constant_bounds(bound, schedule):
    """lb 3, step 2: 0, 1 (unrolled), 14 and 2500 iterations (taped, or checkpointed with
    a schedule); an integer iter_arg and an unchanged one (x)."""
    mod = _compiled(COUNTED.replace("BOUND", str(bound)), schedule=schedule)
    got = mod.grad_counted(0.3, 0.8)
    want = jax.grad(_counted_jax(bound), argnums=(0, 1))(0.3, 0.8)
    _close(got[0], want[0])
    _close(got[1], want[1])


def test_long_loop_is_taped_not_unrolled():
    """Beyond MAX_UNROLLED_ITERATIONS the reverse is an scf.for reading a tensor<N> tape;
    so it is for a short loop whose unrolled reverse would be larger (8 trips, or 2 of this
    15-op body); a loop of 1 trip is unrolled; a schedule checkpoints instead (no tape of N rows)."""
    long = COUNTED.replace("BOUND", "5003")
    text = print_module(_compiled(long).module)
    diffe = text[text.index('sym_name = "grad_counted"') :]
    assert "tensor<2500xf64>" in diffe and diffe.count("scf.for") == 2
    eight = COUNTED.replace("BOUND", str(3 + 2 * min(8, MAX_UNROLLED_ITERATIONS)))
    text = print_module(_compiled(eight).module)
    diffe = text[text.index('sym_name = "grad_counted"') :]
    assert "tensor<8xf64>" in diffe and diffe.count("scf.for") == 2
    two = COUNTED.replace("BOUND", "7")
    text = print_module(_compiled(two).module)
    assert "tensor<2xf64>" in text[text.index('sym_name = "grad_counted"') :]
    one = COUNTED.replace("BOUND", "4")
    text = print_module(_compiled(one).module)
    assert "scf.for" not in text[text.index('sym_name = "grad_counted"') :]
    text = print_module(_compiled(long, schedule="periodic:50").module)
    diffe = text[text.index('sym_name = "grad_counted"') :]
    assert "tensor<2500xf64>" not in diffe and "tensor<50xf64>" in diffe


def test_nonpositive_step_refused():
    bad = """
func.func @f(%x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c9 = arith.constant 9 : index
  %one = arith.constant 1.0 : f64
  %p = scf.for %i = %c0 to %c9 step %c0 iter_args(%acc = %one) -> (f64) {
    %next = arith.mulf %acc, %x : f64
    scf.yield %next : f64
  }
  func.return %p : f64
}
""" + _diffs("f", ["active"], ["f64"], "f64")
    with pytest.raises(DiffError, match=r"cannot reverse-differentiate 'scf.for' at <input>:\d+:\d+: its step 0 is not positive"):
        _compiled(bad)
