// Reverse mode of scf.for with constant bounds beyond the unrolling bound (16 iterations,
// ad/unroll.py): the forward loop writes the state of each iteration into a
// tensor<N x ...> tape, the reverse loop is an scf.for from N-1 down to 0 (ad/rules/scf.py).
// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce | FileCheck %s
// RUN: zymase-opt %s -p 'loop-checkpoint{schedule="binomial:3"},enzyme' --run grad_sines --args 0.3 | FileCheck %s --check-prefix SINES
// RUN: zymase-opt %s -p enzyme --run grad_pow10000 --args 1.0001 --run grad_empty --args 0.3 | FileCheck %s --check-prefixes POW,EMPTY
// RUN: zymase-opt --print-op-generic %s -p 'loop-checkpoint{schedule="periodic:100"},enzyme,cse,dce' | FileCheck %s --check-prefix PERIODIC

// x^10000: p = 1; for i in 0..10000: p = p * x
func.func @pow10000(%x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 10000 : index
  %one = arith.constant 1.0 : f64
  %p = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %one) -> (f64) {
    %next = arith.mulf %acc, %x : f64
    scf.yield %next : f64
  }
  func.return %p : f64
}

func.func @grad_pow10000(%x: f64) -> f64 {
  %s = arith.constant 1.0 : f64
  %dx = enzyme.autodiff @pow10000(%x, %s) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (f64, f64) -> f64
  func.return %dx : f64
}

// The induction variable in the body, lb 2, step 3 (i = 2, 5, ..., 59: 20 iterations),
// and an iter_arg the body does not change (%c, carried unchanged):
// s = 0; for i: s = s + c * sin(x * i) + 0.1 * s * x
func.func @sines(%x: f64) -> f64 {
  %lb = arith.constant 2 : index
  %ub = arith.constant 61 : index
  %st = arith.constant 3 : index
  %zero = arith.constant 0.0 : f64
  %tenth = arith.constant 0.1 : f64
  %c = arith.constant 1.5 : f64
  %r:2 = scf.for %i = %lb to %ub step %st iter_args(%s = %zero, %k = %c) -> (f64, f64) {
    %ii = arith.index_cast %i : index to i64
    %fi = arith.sitofp %ii : i64 to f64
    %xi = arith.mulf %x, %fi : f64
    %sn = math.sin %xi : f64
    %t = arith.mulf %k, %sn : f64
    %u = arith.mulf %s, %x : f64
    %v = arith.mulf %tenth, %u : f64
    %w = arith.addf %s, %t : f64
    %next = arith.addf %w, %v : f64
    scf.yield %next, %k : f64, f64
  }
  func.return %r#0 : f64
}

func.func @grad_sines(%x: f64) -> f64 {
  %s = arith.constant 1.0 : f64
  %dx = enzyme.autodiff @sines(%x, %s) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (f64, f64) -> f64
  func.return %dx : f64
}

// A loop that never runs (lb = ub): the result is the iter_arg x * 2.
func.func @empty(%x: f64) -> f64 {
  %c5 = arith.constant 5 : index
  %c1 = arith.constant 1 : index
  %two = arith.constant 2.0 : f64
  %x2 = arith.mulf %x, %two : f64
  %p = scf.for %i = %c5 to %c5 step %c1 iter_args(%acc = %x2) -> (f64) {
    %next = arith.mulf %acc, %x : f64
    scf.yield %next : f64
  }
  func.return %p : f64
}

func.func @grad_empty(%x: f64) -> f64 {
  %s = arith.constant 1.0 : f64
  %dx = enzyme.autodiff @empty(%x, %s) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (f64, f64) -> f64
  func.return %dx : f64
}

// CHECK-LABEL: sym_name = "diffepow10000"
// The forward loop: p and its tape, row k written before the body runs.
// CHECK:      "scf.for"(%{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}) ({
// CHECK-NEXT: ^bb0(%{{[^ ]+}}: index, %{{[^ ]+}}: f64, %{{[^ ]+}}: tensor<10000xf64>):
// CHECK:      "stablehlo.dynamic_update_slice"({{.*}}) : (tensor<10000xf64>, tensor<1xf64>, tensor<i32>) -> tensor<10000xf64>
// CHECK:      "arith.mulf"
// The reverse loop: iteration 9999 - j reads its p back, carries the adjoints of p and x.
// CHECK:      "scf.for"
// CHECK-NEXT: ^bb0(%{{[^ ]+}}: index, %{{[^ ]+}}: f64, %{{[^ ]+}}: f64):
// CHECK:      "arith.constant"() <{value = 9999 : index}>
// CHECK:      "stablehlo.dynamic_slice"({{.*}}) <{slice_sizes = array<i64: 1>}> : (tensor<10000xf64>, tensor<i32>) -> tensor<1xf64>
// CHECK-COUNT-2: "arith.mulf"
// CHECK-NOT:  "stablehlo.while"
// CHECK-LABEL: sym_name = "diffesines"
// the unchanged iter_arg is not taped: one tape, of s
// CHECK:      "scf.for"
// CHECK-NEXT: ^bb0(%{{[^ ]+}}: index, %{{[^ ]+}}: f64, %{{[^ ]+}}: f64, %{{[^ ]+}}: tensor<20xf64>):
// CHECK:      "math.cos"
// CHECK-LABEL: sym_name = "diffeempty"
// CHECK-NOT:  "scf.for"

// loop-checkpoint{schedule="periodic:100"}: no tape of the trip count's size
// PERIODIC-LABEL: sym_name = "diffepow10000"
// PERIODIC:       tensor<100xf64>
// PERIODIC-NOT:   tensor<10000xf64>
// PERIODIC-LABEL: sym_name = "diffesines"

// d/dx x^10000 = 10000 x^9999 at 1.0001:
//   python -c "print(10000 * 1.0001**9999)"  -> 27178.741394109846
// POW: array(27178.7413941{{[0-9]}})
// d/dx of sines at 0.3, by forward differentiation of the loop in numpy:
//   import numpy as np; x, s, d = 0.3, 0.0, 0.0
//   for i in range(2, 61, 3):
//       s, d = (s + 1.5 * np.sin(x * i) + 0.1 * s * x,
//               d + 1.5 * i * np.cos(x * i) + 0.1 * (d * x + s))
//   print(d)
// SINES: array(-68.42607699)
// d/dx (2 x) = 2
// EMPTY: array(2.)
