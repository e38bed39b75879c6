"""llvm pointer programs on zymase's memory model (ir/lower_llvm.py): llvm.func / call /
return, pointer arguments as memrefs, getelementptr offsets, load / store, alloca of
arrays, memset / memcpy, the arith-like ops, aggregates, pointer slots, packed enzyme
results, and the one-line refusals of what does not map.

Forward mode is checked against central finite differences of the primal, reverse mode
by the dot-product test against the same differences (float64, through load_mlir)."""

from __future__ import annotations

import numpy as np
import pytest

from zymase.errors import MlirError
from zymase.ir import print_module
from zymase.ir.lower import lower_for_zymase
from zymase.loader import load_mlir, parse_located, verify_located

pytestmark = pytest.mark.usefixtures("x64")

DUP = "#enzyme.activity<enzyme_dup>"
CONST = "#enzyme.activity<enzyme_const>"
ACTIVE = "#enzyme.activity<enzyme_active>"
ACTIVENONEED = "#enzyme.activity<enzyme_activenoneed>"
DUPNONEED = "#enzyme.activity<enzyme_dupnoneed>"

# p[k] for k < 4: reads p[0..3] (a loop over a getelementptr), writes q[1] (a struct
# field) and q[2] (an array element), copies p[0..1] into q[4..5] (memcpy of 16 bytes),
# zeroes q[0] (memset of 8 bytes), calls @scale on a one-element alloca, and returns
# a * (p[0] * p[3] + sum p[k]^2) computed through llvm.fmul / fadd / select.
KERNEL = """
llvm.func @scale(%t: !llvm.ptr, %f: f64) {
  %v = llvm.load %t : !llvm.ptr -> f64
  %s = llvm.fmul %v, %f : f64
  llvm.store %s, %t : f64, !llvm.ptr
  llvm.return
}
llvm.func @k(%p: !llvm.ptr, %q: !llvm.ptr, %a: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = llvm.mlir.constant(0.0 : f64) : f64
  %sum = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %zero) -> f64 {
    %i64 = arith.index_cast %i : index to i64
    %pi = llvm.getelementptr inbounds %p[%i64] : (!llvm.ptr, i64) -> !llvm.ptr, f64
    %v = llvm.load %pi : !llvm.ptr -> f64
    %sq = llvm.fmul %v, %v : f64
    %n = llvm.fadd %acc, %sq : f64
    scf.yield %n : f64
  }
  %p3 = llvm.getelementptr %p[3] : (!llvm.ptr) -> !llvm.ptr, f64
  %x0 = llvm.load %p : !llvm.ptr -> f64
  %x3 = llvm.load %p3 : !llvm.ptr -> f64
  %m = llvm.fmul %x0, %x3 : f64
  %q1 = llvm.getelementptr %q[0, 1] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(f64, f64)>
  llvm.store %m, %q1 : f64, !llvm.ptr
  %q2 = llvm.getelementptr %q[0, 2] : (!llvm.ptr) -> !llvm.ptr, !llvm.array<8 x f64>
  %e = llvm.fmul %x3, %a : f64
  llvm.store %e, %q2 : f64, !llvm.ptr
  %q4 = llvm.getelementptr %q[32] : (!llvm.ptr) -> !llvm.ptr, i8
  %sixteen = llvm.mlir.constant(16 : i64) : i64
  "llvm.intr.memcpy"(%q4, %p, %sixteen) <{isVolatile = false}> : (!llvm.ptr, !llvm.ptr, i64) -> ()
  %eight = llvm.mlir.constant(8 : i64) : i64
  %byte = llvm.mlir.constant(0 : i8) : i8
  "llvm.intr.memset"(%q, %byte, %eight) <{isVolatile = false}> : (!llvm.ptr, i8, i64) -> ()
  %one = llvm.mlir.constant(1 : i32) : i32
  %t = llvm.alloca %one x f64 : (i32) -> !llvm.ptr
  llvm.store %x0, %t : f64, !llvm.ptr
  llvm.call @scale(%t, %a) : (!llvm.ptr, f64) -> ()
  %w = llvm.load %t : !llvm.ptr -> f64
  %gt = llvm.fcmp "ogt" %w, %zero : f64
  %pos = llvm.select %gt, %w, %zero : i1, f64
  %s1 = llvm.fadd %sum, %m : f64
  %s2 = llvm.fmul %s1, %a : f64
  %r = llvm.fadd %s2, %pos : f64
  llvm.return %r : f64
}
"""

PTR3 = "!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, f64"


def _primal(mod, p, q, a):
    p, q = np.array(p), np.array(q)
    r = float(np.asarray(mod.k(p, q, a)))
    return r, p, q


def test_pointer_arguments_become_sized_memrefs() -> None:
    module = parse_located(KERNEL)
    verify_located(module)
    lower_for_zymase(module)
    verify_located(module)
    text = print_module(module, generic=False)
    # p is read at offsets 0..3, q written up to offset 5: static sizes from the accesses
    assert "func.func @k(%p: memref<4xf64>, %q: memref<6xf64>, %a: f64) -> f64" in text
    # the alloca passed to @scale: @scale takes memref<?xf64>, the call casts
    assert "func.func @scale(%t: memref<?xf64>, %f: f64)" in text and "memref.cast" in text
    assert "llvm." not in text


def test_primal_runs_with_memref_semantics() -> None:
    mod = load_mlir(KERNEL)
    p, q, a = np.array([1.5, -0.5, 2.0, 0.25]), np.full(6, 9.0), 0.75
    r, p2, q2 = _primal(mod, p, q, a)
    m = p[0] * p[3]
    assert r == pytest.approx((np.sum(p**2) + m) * a + max(p[0] * a, 0.0), rel=1e-14)
    assert np.array_equal(p2, p)
    assert np.allclose(q2, [0.0, m, p[3] * a, 9.0, p[0], p[1]], rtol=1e-14)


def test_forward_mode_against_finite_differences() -> None:
    text = KERNEL + f"""
func.func @dk(%p: !llvm.ptr, %dp: !llvm.ptr, %q: !llvm.ptr, %dq: !llvm.ptr, %a: f64, %da: f64) -> f64 {{
  %r = enzyme.fwddiff @k(%p, %dp, %q, %dq, %a, %da) <{{activity = [{DUP}, {DUP}, {DUP}], ret_activity = [{DUPNONEED}]}}> : ({PTR3}, f64) -> f64
  return %r : f64
}}
"""
    mod = load_mlir(text)
    rng = np.random.default_rng(0)
    p, q, a = rng.uniform(0.5, 1.5, 4), rng.uniform(0.5, 1.5, 6), 0.8
    tp, tq, ta = rng.standard_normal(4), rng.standard_normal(6), 0.3
    dp, dq = tp.copy(), tq.copy()
    got = float(np.asarray(mod.dk(p.copy(), dp, q.copy(), dq, a, ta)))
    eps = 1e-6
    rp, _, qp = _primal(mod, p + eps * tp, q + eps * tq, a + eps * ta)
    rm, _, qm = _primal(mod, p - eps * tp, q - eps * tq, a - eps * ta)
    assert got == pytest.approx((rp - rm) / (2 * eps), rel=1e-8)
    assert np.allclose(dq, (qp - qm) / (2 * eps), rtol=1e-8, atol=1e-9)
    assert np.allclose(dp, tp)  # p is only read: its tangent stays


def test_reverse_mode_dot_product_test() -> None:
    text = KERNEL + f"""
func.func @bk(%p: !llvm.ptr, %dp: !llvm.ptr, %q: !llvm.ptr, %dq: !llvm.ptr, %a: f64, %dr: f64) -> f64 {{
  %g = enzyme.autodiff @k(%p, %dp, %q, %dq, %a, %dr) <{{activity = [{DUP}, {DUP}, {ACTIVE}], ret_activity = [{ACTIVENONEED}]}}> : ({PTR3}, f64) -> f64
  return %g : f64
}}
"""
    mod = load_mlir(text)
    rng = np.random.default_rng(1)
    p, q, a = rng.uniform(0.5, 1.5, 4), rng.uniform(0.5, 1.5, 6), 0.8
    tp, tq, ta = rng.standard_normal(4), rng.standard_normal(6), 0.3  # directions
    sr, sq = 0.7, rng.standard_normal(6)  # seeds: of the result and of q's final contents
    eps = 1e-6
    rp, _, qp = _primal(mod, p + eps * tp, q + eps * tq, a + eps * ta)
    rm, _, qm = _primal(mod, p - eps * tp, q - eps * tq, a - eps * ta)
    lhs = sr * (rp - rm) / (2 * eps) + np.dot(sq, (qp - qm) / (2 * eps))
    sp, sqq = np.zeros(4), sq.copy()
    ga = float(np.asarray(mod.bk(p.copy(), sp, q.copy(), sqq, a, sr)))
    rhs = np.dot(sp, tp) + np.dot(sqq, tq) + ga * ta
    assert rhs == pytest.approx(lhs, rel=1e-7)


def test_memset_bytes_and_untyped_memory() -> None:
    # memset of 7s over an f64: the value whose bytes are all 7; untyped memory is bytes
    text = """
func.func @f(%x: f64, %p: !llvm.ptr, %b: !llvm.ptr) -> f64 {
  %seven = llvm.mlir.constant(7 : i8) : i8
  %n = llvm.mlir.constant(8 : i64) : i64
  "llvm.intr.memset"(%p, %seven, %n) <{isVolatile = false}> : (!llvm.ptr, i8, i64) -> ()
  "llvm.intr.memset"(%b, %seven, %n) <{isVolatile = false}> : (!llvm.ptr, i8, i64) -> ()
  %v = llvm.load %p : !llvm.ptr -> f64
  %r = arith.mulf %v, %x : f64
  return %r : f64
}
"""
    mod = load_mlir(text)
    p, b = np.zeros(1), np.zeros(8, np.int8)
    r = float(np.asarray(mod.f(2.0, p, b)))
    expected = np.frombuffer(bytes([7] * 8), np.float64)[0]
    assert p[0] == expected and r == 2.0 * expected
    assert np.all(b == 7)


def test_dynamic_sizes_and_dynamic_memcpy() -> None:
    # n elements copied (n * 8 bytes), offsets at run time: memref<?xf64>
    text = f"""
func.func @c(%d: !llvm.ptr, %s: !llvm.ptr, %n: i64) {{
  %eight = llvm.mlir.constant(8 : i64) : i64
  %bytes = llvm.mul %n, %eight : i64
  "llvm.intr.memcpy"(%d, %s, %bytes) <{{isVolatile = false}}> : (!llvm.ptr, !llvm.ptr, i64) -> ()
  %last = llvm.getelementptr %d[%n] : (!llvm.ptr, i64) -> !llvm.ptr, f64
  %v = llvm.load %s : !llvm.ptr -> f64
  %w = llvm.fmul %v, %v : f64
  llvm.store %w, %last : f64, !llvm.ptr
  return
}}
func.func @bc(%d: !llvm.ptr, %dd: !llvm.ptr, %s: !llvm.ptr, %ds: !llvm.ptr, %n: i64) {{
  enzyme.autodiff @c(%d, %dd, %s, %ds, %n) <{{activity = [{DUP}, {DUP}, {CONST}]}}> : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64) -> ()
  return
}}
"""
    mod = load_mlir(text)
    assert "memref<?xf64>" in str(mod.c.arg_types[0])
    s, d = np.array([1.5, 2.0, 3.0, 4.0]), np.zeros(4)
    mod.c(d, s, 3)
    assert np.allclose(d, [1.5, 2.0, 3.0, 2.25])
    # reverse: the seed on d flows back to s (copy) and to s[0] through d[3] = s[0]^2
    sd, ss = np.array([0.1, 0.2, 0.3, 0.4]), np.zeros(4)
    mod.bc(d.copy(), sd, s.copy(), ss, 3)
    assert np.allclose(ss, [0.1 + 2 * 1.5 * 0.4, 0.2, 0.3, 0.0]) and np.allclose(sd, 0.0)


def test_packed_results_slots_and_debug_info() -> None:
    text = f"""
#di_file = #llvm.di_file<"k.c" in "/tmp">
#di_cu = #llvm.di_compile_unit<id = distinct[1]<>, sourceLanguage = DW_LANG_C11, file = #di_file, producer = "cc", emissionKind = Full>
#di_sp = #llvm.di_subprogram<id = distinct[0]<>, compileUnit = #di_cu, scope = #di_file, name = "f", file = #di_file, line = 1, subprogramFlags = Definition>
#di_var = #llvm.di_local_variable<scope = #di_sp, name = "x", file = #di_file, line = 1, arg = 1>
llvm.comdat @table {{
  llvm.comdat_selector @f any
}}
llvm.func @f(%x: f64, %p: !llvm.ptr) -> f64 comdat(@table::@f) {{
  llvm.intr.dbg.value #di_var = %x : f64
  %one = llvm.mlir.constant(1 : i32) : i32
  %slot = llvm.alloca %one x !llvm.ptr : (i32) -> !llvm.ptr
  llvm.store %p, %slot : !llvm.ptr, !llvm.ptr
  %q = llvm.load %slot : !llvm.ptr -> !llvm.ptr
  %u = llvm.mlir.undef : !llvm.struct<(f64, ptr)>
  %s = llvm.insertvalue %x, %u[0] : !llvm.struct<(f64, ptr)>
  %s2 = llvm.insertvalue %q, %s[1] : !llvm.struct<(f64, ptr)>
  %x2 = llvm.extractvalue %s2[0] : !llvm.struct<(f64, ptr)>
  %q2 = llvm.extractvalue %s2[1] : !llvm.struct<(f64, ptr)>
  %v = llvm.load %q2 <{{alignment = 8 : i64}}> : !llvm.ptr -> f64
  %r = llvm.fmul %x2, %v : f64
  llvm.return %r : f64
}}
llvm.func @df(%x: f64, %dx: f64, %p: !llvm.ptr, %dp: !llvm.ptr) -> f64 {{
  %res = enzyme.fwddiff @f(%x, %dx, %p, %dp) <{{activity = [{DUP}, {DUP}], ret_activity = [#enzyme.activity<enzyme_dup>]}}> : (f64, f64, !llvm.ptr, !llvm.ptr) -> !llvm.struct<(f64, f64)>
  %t = llvm.extractvalue %res[1] : !llvm.struct<(f64, f64)>
  llvm.return %t : f64
}}
"""
    module = parse_located(text)
    verify_located(module)
    again = parse_located(print_module(module, generic=False))  # the attributes' text round-trips
    verify_located(again)
    mod = load_mlir(text)
    x, p = 1.25, np.array([0.5])
    # d(x * p0) = dx * p0 + x * dp0
    assert float(np.asarray(mod.df(x, 0.3, p, np.array([0.7])))) == pytest.approx(0.3 * 0.5 + 1.25 * 0.7, rel=1e-14)


@pytest.mark.parametrize(
    "body, message",
    [
        ("%i = llvm.ptrtoint %p : !llvm.ptr to i64\n  %q = llvm.inttoptr %i : i64 to !llvm.ptr\n  %v = llvm.load %q : !llvm.ptr -> f64",
         r"bad\.mlir:\d+:\d+: error: 'llvm\.inttoptr': makes a pointer zymase cannot follow"),
        ("%q = llvm.load %p : !llvm.ptr -> !llvm.ptr\n  %r = llvm.load %q : !llvm.ptr -> !llvm.ptr\n  %v = llvm.load %r : !llvm.ptr -> f64",
         r"'llvm\.load': loads a pointer from memory zymase cannot follow"),
        ("%q = llvm.load %p : !llvm.ptr -> !llvm.ptr\n  llvm.call @g(%q) : (!llvm.ptr) -> ()\n  %v = arith.constant 1.0 : f64",
         r"'func\.call': uses a pointer read from memory other than to load, store or offset"),
        ("%v = llvm.load %p : !llvm.ptr -> f64\n  %w = llvm.load %p : !llvm.ptr -> f32", r"'llvm\.load': reads memory as f(32|64) that is also read as f(64|32)"),
        ("%q = llvm.getelementptr %p[4] : (!llvm.ptr) -> !llvm.ptr, i8\n  %v = llvm.load %q : !llvm.ptr -> f64",
         r"'llvm\.load': reaches byte offset 4, not a whole number of f64 elements"),
        ("%n = llvm.mlir.constant(8 : i64) : i64\n  \"llvm.intr.memcpy\"(%p, %p, %n) <{isVolatile = false}> : (!llvm.ptr, !llvm.ptr, i64) -> ()\n  %v = arith.constant 1.0 : f64",
         r"'llvm\.intr\.memcpy': no load or store tells the element type"),
        ("%q = llvm.getelementptr %p[1] : (!llvm.ptr) -> !llvm.ptr, f64\n  llvm.call @g(%q) : (!llvm.ptr) -> ()\n  %v = arith.constant 1.0 : f64",
         r"'func\.call': passes a pointer at an offset"),
        ("llvm.call @h(%p, %p) : (!llvm.ptr, !llvm.ptr) -> ()\n  %v = arith.constant 1.0 : f64", r"'func\.call': passes one memory as two arguments"),
        ("%z = llvm.mlir.zero : !llvm.ptr\n  llvm.store %z, %p : !llvm.ptr, !llvm.ptr\n  %v = arith.constant 1.0 : f64", r"'llvm\.mlir\.zero': makes a pointer"),
    ],
)
def test_refusals_are_one_line(body: str, message: str) -> None:
    text = f"""
llvm.func @g(%q: !llvm.ptr) {{
  %v = llvm.load %q : !llvm.ptr -> f64
  llvm.store %v, %q : f64, !llvm.ptr
  llvm.return
}}
llvm.func @h(%a: !llvm.ptr, %b: !llvm.ptr) {{
  %v = llvm.load %a : !llvm.ptr -> f64
  llvm.store %v, %b : f64, !llvm.ptr
  llvm.return
}}
llvm.func @f(%p: !llvm.ptr) -> f64 {{
  {body}
  llvm.return %v : f64
}}
"""
    module = parse_located(text, "bad.mlir")
    verify_located(module)
    with pytest.raises(MlirError, match=message) as e:
        lower_for_zymase(module)
    assert "\n" not in str(e.value)


def test_memory_activity_follows_what_is_stored() -> None:
    # %a only ever holds a value of const memory: its loads carry no derivative, so the
    # store into the const %c is no loss; the loop stores x into %b after loading it, so
    # its load is varied from the second trip on (the analysis runs to a fixpoint)
    text = f"""
llvm.func @e(%p: !llvm.ptr, %c: !llvm.ptr, %x: f64) -> f64 {{
  %one = llvm.mlir.constant(1 : i64) : i64
  %a = llvm.alloca %one x f64 : (i64) -> !llvm.ptr
  %b = llvm.alloca %one x f64 : (i64) -> !llvm.ptr
  %v = llvm.load %c : !llvm.ptr -> f64
  llvm.store %v, %a : f64, !llvm.ptr
  %r = llvm.load %a : !llvm.ptr -> f64
  %k = llvm.fmul %r, %r : f64
  llvm.store %k, %c : f64, !llvm.ptr
  %w = llvm.load %p : !llvm.ptr -> f64
  %s = llvm.fmul %w, %r : f64
  llvm.store %s, %p : f64, !llvm.ptr
  %zero = arith.constant 0.0 : f64
  llvm.store %zero, %b : f64, !llvm.ptr
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 3 : index
  scf.for %i = %c0 to %n step %c1 {{
    %u = llvm.load %b : !llvm.ptr -> f64
    %m = llvm.fmul %u, %x : f64
    %t = llvm.fadd %m, %x : f64
    llvm.store %t, %b : f64, !llvm.ptr
  }}
  %y = llvm.load %b : !llvm.ptr -> f64
  llvm.return %y : f64
}}
func.func @de(%p: !llvm.ptr, %dp: !llvm.ptr, %c: !llvm.ptr, %x: f64, %dx: f64) -> f64 {{
  %r = enzyme.fwddiff @e(%p, %dp, %c, %x, %dx) <{{activity = [{DUP}, {CONST}, {DUP}], ret_activity = [{DUPNONEED}]}}> : (!llvm.ptr, !llvm.ptr, !llvm.ptr, f64, f64) -> f64
  return %r : f64
}}
func.func @be(%p: !llvm.ptr, %dp: !llvm.ptr, %c: !llvm.ptr, %x: f64, %dr: f64) -> f64 {{
  %g = enzyme.autodiff @e(%p, %dp, %c, %x, %dr) <{{activity = [{DUP}, {CONST}, {ACTIVE}], ret_activity = [{ACTIVENONEED}]}}> : (!llvm.ptr, !llvm.ptr, !llvm.ptr, f64, f64) -> f64
  return %g : f64
}}
"""
    mod = load_mlir(text)
    p, c, x = np.array([1.25]), np.array([0.75]), 0.6
    y = float(np.asarray(mod.e(p.copy(), c.copy(), x)))
    assert y == pytest.approx(x**3 + x**2 + x, rel=1e-14)  # u <- u x + x, three times from 0
    dy = 3 * x**2 + 2 * x + 1
    dp = np.array([0.4])
    assert float(np.asarray(mod.de(p.copy(), dp, c.copy(), x, 0.5))) == pytest.approx(0.5 * dy, rel=1e-12)
    assert dp[0] == pytest.approx(0.4 * c[0], rel=1e-14)  # p <- p * c0: tangent scaled by c0
    sp = np.array([0.3])
    g = float(np.asarray(mod.be(p.copy(), sp, c.copy(), x, 0.7)))
    assert g == pytest.approx(0.7 * dy, rel=1e-12) and sp[0] == pytest.approx(0.3 * c[0], rel=1e-14)


def test_enzyme_ops_take_pointers_dup_or_const() -> None:
    callee = """
llvm.func @f(%p: !llvm.ptr) -> f64 {
  %v = llvm.load %p : !llvm.ptr -> f64
  llvm.return %v : f64
}
"""
    dup = callee + f"""
func.func @df(%p: !llvm.ptr, %dp: !llvm.ptr, %dr: f64) {{
  enzyme.autodiff @f(%p, %dp, %dr) <{{activity = [{DUPNONEED}], ret_activity = [{ACTIVENONEED}]}}> : (!llvm.ptr, !llvm.ptr, f64) -> ()
  return
}}
"""
    verify_located(parse_located(dup))
    active = callee + f"""
func.func @df(%p: !llvm.ptr, %dr: f64) -> !llvm.ptr {{
  %g = enzyme.autodiff @f(%p, %dr) <{{activity = [{ACTIVE}], ret_activity = [{ACTIVENONEED}]}}> : (!llvm.ptr, f64) -> !llvm.ptr
  return %g : !llvm.ptr
}}
"""
    with pytest.raises(MlirError, match=r"argument 0 of @f is the pointer !llvm.ptr and cannot be enzyme_active") as e:
        verify_located(parse_located(active))
    assert "\n" not in str(e.value)
    # the shadow of a dupnoneed pointer gets the seed: d(p0)/d(p0) = 1
    mod = load_mlir(dup)
    p, dp = np.array([2.5]), np.array([0.0])
    mod.df(p, dp, 0.75)
    assert dp[0] == 0.75


def test_globals_read_only_fold_written_refused() -> None:
    text = """
llvm.mlir.global internal @k(2.5 : f64) : f64
llvm.mlir.global internal @w(0.0 : f64) : f64
llvm.func @f(%x: f64) -> f64 {
  %g = llvm.mlir.addressof @k : !llvm.ptr
  %c = llvm.load %g : !llvm.ptr -> f64
  %r = llvm.fmul %x, %c : f64
  llvm.return %r : f64
}
llvm.func @g(%x: f64) {
  %g = llvm.mlir.addressof @w : !llvm.ptr
  llvm.store %x, %g : f64, !llvm.ptr
  llvm.return
}
"""
    module = parse_located(text, "glob.mlir")
    verify_located(module)
    with pytest.raises(MlirError, match=r"glob\.mlir:11:\d+: error: 'llvm\.mlir\.addressof': takes the address of a global"):
        lower_for_zymase(module)
    mod = load_mlir(text.split("llvm.func @g")[0].replace("llvm.mlir.global internal @w(0.0 : f64) : f64\n", ""))
    assert float(np.asarray(mod.f(1.5))) == 3.75


# a memory of pointers (float** / memref<3 x !llvm.ptr>): each pointer read from it is a
# row of a memref<3 x 2 x f64>; row i: r[1] <- r[0] * r[1] * x, the sum returned
ROWS = """
llvm.func @rows(%pp: !llvm.ptr, %x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f64
  %sum = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %zero) -> f64 {
    %i64 = arith.index_cast %i : index to i64
    %pi = llvm.getelementptr %pp[%i64] : (!llvm.ptr, i64) -> !llvm.ptr, !llvm.ptr
    %r = llvm.load %pi : !llvm.ptr -> !llvm.ptr
    %r1 = llvm.getelementptr %r[1] : (!llvm.ptr) -> !llvm.ptr, f64
    %a = llvm.load %r : !llvm.ptr -> f64
    %b = llvm.load %r1 : !llvm.ptr -> f64
    %ab = llvm.fmul %a, %b : f64
    %m = llvm.fmul %ab, %x : f64
    llvm.store %m, %r1 : f64, !llvm.ptr
    %n = llvm.fadd %acc, %m : f64
    scf.yield %n : f64
  }
  llvm.return %sum : f64
}
func.func @drows(%pp: !llvm.ptr, %dpp: !llvm.ptr, %x: f64, %dx: f64) -> f64 {
  %r = enzyme.fwddiff @rows(%pp, %dpp, %x, %dx) <{activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_dup>], ret_activity = [#enzyme.activity<enzyme_dupnoneed>]}> : (!llvm.ptr, !llvm.ptr, f64, f64) -> f64
  return %r : f64
}
func.func @brows(%pp: !llvm.ptr, %dpp: !llvm.ptr, %x: f64, %dr: f64) -> f64 {
  %g = enzyme.autodiff @rows(%pp, %dpp, %x, %dr) <{activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_active>], ret_activity = [#enzyme.activity<enzyme_activenoneed>]}> : (!llvm.ptr, !llvm.ptr, f64, f64) -> f64
  return %g : f64
}
"""


def test_memory_of_pointers_as_rows() -> None:
    mod = load_mlir(ROWS)
    assert str(mod.rows.arg_types[0]) == str(mod.drows.arg_types[0]) and "memref<3x2xf64>" in print_module(mod.module, generic=False)
    rng = np.random.default_rng(3)
    m, x = rng.uniform(0.5, 1.5, (3, 2)), 0.9

    def primal(m, x):
        m = np.array(m)
        return float(np.asarray(mod.rows(m, x))), m

    y, m2 = primal(m, x)
    assert y == pytest.approx(np.sum(m[:, 0] * m[:, 1] * x), rel=1e-14)
    assert np.allclose(m2[:, 1], m[:, 0] * m[:, 1] * x) and np.array_equal(m2[:, 0], m[:, 0])
    tm, tx, eps = rng.standard_normal((3, 2)), 0.4, 1e-6
    (yp, mp), (ym, mm) = primal(m + eps * tm, x + eps * tx), primal(m - eps * tm, x - eps * tx)
    dm = tm.copy()
    got = float(np.asarray(mod.drows(m.copy(), dm, x, tx)))
    assert got == pytest.approx((yp - ym) / (2 * eps), rel=1e-8)
    assert np.allclose(dm, (mp - mm) / (2 * eps), rtol=1e-8, atol=1e-9)
    sr, sm = 0.6, rng.standard_normal((3, 2))  # seeds of the result and of the final rows
    lhs = sr * (yp - ym) / (2 * eps) + np.sum(sm * (mp - mm) / (2 * eps))
    gm = sm.copy()
    gx = float(np.asarray(mod.brows(m.copy(), gm, x, sr)))
    assert np.sum(gm * tm) + gx * tx == pytest.approx(lhs, rel=1e-7)
