// Reverse mode of scf loops whose trip count is known only at run time (ad/rules/scf.py):
// scf.for with run-time bounds and scf.while are checkpointed as a stablehlo.while with a
// run-time trip count is (ad/rules/checkpoint.py: the state every K steps in 32 slots).
// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce | FileCheck %s
// RUN: zymase-opt %s -p enzyme --run grad_pow --args 1.0001 2500 --run grad_grow --args 1.5 10.0 --run grad_nested --args 1.1 3 2 --run grad_tensor --args 0.5 4 | FileCheck %s --check-prefixes POW2500,GROW,NESTED,TENSOR

// x^n, n a run-time argument: p = 1; for i in 0..n: p = p * x
func.func @pow(%x: f64, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f64
  %p = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %one) -> (f64) {
    %next = arith.mulf %acc, %x : f64
    scf.yield %next : f64
  }
  func.return %p : f64
}

func.func @grad_pow(%x: f64, %n: index) -> f64 {
  %s = arith.constant 1.0 : f64
  %dx = enzyme.autodiff @pow(%x, %n, %s) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (f64, index, f64) -> f64
  func.return %dx : f64
}

// A data-dependent scf.while: p = 1; while p < limit: p = p * x
func.func @grow(%x: f64, %limit: f64) -> f64 {
  %one = arith.constant 1.0 : f64
  %r = scf.while (%p = %one) : (f64) -> f64 {
    %go = arith.cmpf olt, %p, %limit : f64
    scf.condition(%go) %p : f64
  } do {
  ^bb0(%q: f64):
    %n = arith.mulf %q, %x : f64
    scf.yield %n : f64
  }
  func.return %r : f64
}

func.func @grad_grow(%x: f64, %limit: f64) -> f64 {
  %s = arith.constant 1.0 : f64
  %dx = enzyme.autodiff @grow(%x, %limit, %s) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (f64, f64, f64) -> f64
  func.return %dx : f64
}

// Nested loops, both bounds run-time, the inner one depending on the outer index:
// p = 1; for i in 0..m: for j in 0..n+i: p = p * x   (p = x^(m n + m (m - 1) / 2))
func.func @nested(%x: f64, %m: index, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f64
  %p = scf.for %i = %c0 to %m step %c1 iter_args(%acc = %one) -> (f64) {
    %ub = arith.addi %n, %i : index
    %q = scf.for %j = %c0 to %ub step %c1 iter_args(%a = %acc) -> (f64) {
      %next = arith.mulf %a, %x : f64
      scf.yield %next : f64
    }
    scf.yield %q : f64
  }
  func.return %p : f64
}

func.func @grad_nested(%x: f64, %m: index, %n: index) -> f64 {
  %s = arith.constant 1.0 : f64
  %dx = enzyme.autodiff @nested(%x, %m, %n, %s) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (f64, index, index, f64) -> f64
  func.return %dx : f64
}

// A tensor iter_arg with stablehlo ops: v = x * [1, 2, 3]; n times: v = v * w + sin(v),
// w = [0.5, 1.0, 1.5]; the gradient of sum(v) with respect to x.
func.func @tensor_loop(%v0: tensor<3xf64>, %n: index) -> tensor<3xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %w = stablehlo.constant dense<[0.5, 1.0, 1.5]> : tensor<3xf64>
  %v = scf.for %i = %c0 to %n step %c1 iter_args(%a = %v0) -> (tensor<3xf64>) {
    %m = stablehlo.multiply %a, %w : tensor<3xf64>
    %s = stablehlo.sine %a : tensor<3xf64>
    %next = stablehlo.add %m, %s : tensor<3xf64>
    scf.yield %next : tensor<3xf64>
  }
  func.return %v : tensor<3xf64>
}

func.func @grad_tensor(%x: f64, %n: index) -> tensor<3xf64> {
  %k = stablehlo.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf64>
  %xs = tensor.splat %x : tensor<3xf64>
  %v0 = stablehlo.multiply %xs, %k : tensor<3xf64>
  %seed = stablehlo.constant dense<1.0> : tensor<3xf64>
  %dv = enzyme.autodiff @tensor_loop(%v0, %n, %seed) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (tensor<3xf64>, index, tensor<3xf64>) -> tensor<3xf64>
  %dx = stablehlo.multiply %dv, %k : tensor<3xf64>
  func.return %dx : tensor<3xf64>
}

// CHECK-LABEL: sym_name = "diffepow"
// The forward sweep: the trip count max(0, ceil((n - 0) / 1)) first, then the loop
// storing its state (the induction variable as i64, p) every K steps into 32 slots.
// CHECK:       "arith.maxsi"
// CHECK:       "stablehlo.while"({{.*}}) ({
// CHECK-NEXT:  ^bb0(%{{[^ ]+}}: tensor<i32>, %{{[^ ]+}}: tensor<i64>, %{{[^ ]+}}: tensor<f64>, %{{[^ ]+}}: tensor<32xi64>, %{{[^ ]+}}: tensor<32xf64>):
// CHECK:       "arith.mulf"
// The reverse: segments last first, each from a checkpoint read back.
// CHECK:       "stablehlo.compare"({{.*}}) <{comparison_direction = #stablehlo<comparison_direction GE>
// CHECK:       "stablehlo.dynamic_slice"({{.*}}) <{slice_sizes = array<i64: 1>}> : (tensor<32xf64>, tensor<i32>) -> tensor<1xf64>
// CHECK-NOT:   "scf.for"
// CHECK-LABEL: sym_name = "diffegrow"
// scf.while: the loop under its own condition (p < limit), K doubling when the slots are full
// CHECK:       "stablehlo.while"
// CHECK:       "arith.cmpf"
// CHECK:       "stablehlo.slice"({{.*}}) <{start_indices = array<i64: 0>, limit_indices = array<i64: 32>, strides = array<i64: 2>}> : (tensor<32xf64>) -> tensor<16xf64>
// CHECK-NOT:   "scf.while"
// CHECK-LABEL: sym_name = "diffetensor_loop"
// CHECK:       tensor<32x3xf64>
// CHECK:       "stablehlo.cosine"

// Values by --run (the zero-trip and shorter cases are checked against jax in
// tests/test_scf_reverse.py): d/dx x^n = n x^(n-1), 2500 * 1.0001**2499 =
// 3209.7024486057376 (3 levels of checkpoints)
// POW2500: array(3209.70244861)
// grow: p = x^k with k = 6 the least with 1.5**k >= 10, so 6 * 1.5**5 = 45.5625
// GROW: array(45.5625)
// nested: x^9 for m = 3, n = 2 (9 = 3*2 + 3): 9 * 1.1**8 = 19.29229929
// NESTED: array(19.29229929)
// tensor: d v_n / d x by forward differentiation in numpy:
//   x, k, w = 0.5, np.array([1., 2, 3]), np.array([.5, 1, 1.5]); v, d = x * k, k.copy()
//   for _ in range(4): d, v = d * (w + np.cos(v)), v * w + np.sin(v)
// TENSOR: array([1.21083671e+00, 2.52538772e-06, 9.21790785e+00])
