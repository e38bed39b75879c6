// Enzyme's checkpointing attribute on an scf.for: periodic checkpoints every ceil(sqrt(100)) = 10
// steps (10-row buffers, no 100-row tape); the derivative of x^100 is 100 x^99 = 267.8033494476761 at 1.01.
// RUN: zymase-opt %s -p enzyme | FileCheck %s
// RUN: zymase-opt %s -p enzyme --run grad_pow --args 1.01 | FileCheck %s --check-prefix VAL
// CHECK-NOT: tensor<100x
// CHECK: tensor<10xf64>
// CHECK-NOT: tensor<100x
// VAL: 267.803349
func.func @pow(%x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cn = arith.constant 100 : index
  %one = arith.constant 1.0 : f64
  %p = scf.for %i = %c0 to %cn step %c1 iter_args(%acc = %one) -> (f64) {
    %next = arith.mulf %acc, %x : f64
    scf.yield %next : f64
  } {enzyme.enable_checkpointing = true}
  func.return %p : f64
}
func.func @grad_pow(%x: f64) -> f64 {
  %s = arith.constant 1.0 : f64
  %dx = enzyme.autodiff @pow(%x, %s) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (f64, f64) -> f64
  func.return %dx : f64
}
