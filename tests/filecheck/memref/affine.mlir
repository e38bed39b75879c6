// RUN: zymase-opt %s -p enzyme | FileCheck %s
// RUN: zymase-opt %s --run dloop --args 2.0 1.0 | FileCheck --check-prefix=OUT %s

// An affine loop is differentiated as the scf.for it lowers to (ir/affine.py): the
// generated function holds scf.for with a tangent carried beside the primal, and no
// affine op is left. d/dx (10 + 10 x) = 10.

func.func @loop(%x: f64) -> f64 {
  %cst = arith.constant 10.0 : f64
  %r = affine.for %i = 0 to 10 iter_args(%acc = %cst) -> (f64) {
    %n = arith.addf %acc, %x : f64
    affine.yield %n : f64
  }
  return %r : f64
}

func.func @dloop(%x: f64, %dx: f64) -> f64 {
  %r = enzyme.fwddiff @loop(%x, %dx) {activity = [#enzyme.activity<enzyme_dup>], ret_activity = [#enzyme.activity<enzyme_dupnoneed>]} : (f64, f64) -> f64
  return %r : f64
}

// CHECK-NOT: affine.
// CHECK: func.func private @fwddiffeloop
// CHECK: scf.for
// CHECK-SAME: -> (f64, f64)
// CHECK-NOT: affine.

// OUT: 10.
