// Derivatives through MLIR's structured control flow, on f32 scalars (the seed's style).
// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce | FileCheck %s
// RUN: zymase-opt %s -p enzyme --run grad_pow4 --args 1.5 --run jvp_pow4 --args 1.5 --run grad_relu3 --args 2.0 --run grad_relu3 --args -2.0 | FileCheck %s --check-prefixes POW,RELU,RELU0

// x^4 by a counted loop: p = 1; for i in 0..4: p = p * x
func.func @pow4(%x: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  %p = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %one) -> (f32) {
    %next = arith.mulf %acc, %x : f32
    scf.yield %next : f32
  }
  func.return %p : f32
}

func.func @grad_pow4(%x: f32) -> f32 {
  %s = arith.constant 1.0 : f32
  %dx = enzyme.autodiff @pow4(%x, %s) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (f32, f32) -> f32
  func.return %dx : f32
}

func.func @jvp_pow4(%x: f32) -> f32 {
  %t = arith.constant 1.0 : f32
  %dp = enzyme.fwddiff @pow4(%x, %t) {activity = [#enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dupnoneed>]} : (f32, f32) -> f32
  func.return %dp : f32
}

// The seed's relu3: x > 0 ? x^3 : 0
func.func @relu3(%x: f32) -> f32 {
  %zero = arith.constant 0.0 : f32
  %pos = arith.cmpf ogt, %x, %zero : f32
  %r = scf.if %pos -> (f32) {
    %x2 = arith.mulf %x, %x : f32
    %x3 = arith.mulf %x2, %x : f32
    scf.yield %x3 : f32
  } else {
    scf.yield %zero : f32
  }
  func.return %r : f32
}

func.func @grad_relu3(%x: f32) -> f32 {
  %s = arith.constant 1.0 : f32
  %dx = enzyme.autodiff @relu3(%x, %s) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (f32, f32) -> f32
  func.return %dx : f32
}

// the user's loop is left as it is
// CHECK-LABEL: sym_name = "pow4"
// CHECK: "scf.for"
// reverse mode differentiates the counted loop unrolled (4 products, then 4 adjoint steps)
// CHECK-LABEL: sym_name = "diffepow4"
// CHECK-NOT: "scf.for"
// CHECK-COUNT-4: "arith.mulf"
// forward mode keeps the loop, carrying the tangent next to the primal
// CHECK-LABEL: sym_name = "fwddiffepow4"
// CHECK: "scf.for"
// CHECK: "scf.yield"(%{{.*}}, %{{.*}}) : (f32, f32) -> ()
// reverse mode of scf.if: a reverse branch per branch
// CHECK-LABEL: sym_name = "differelu3"
// CHECK: "scf.if"
// CHECK: "scf.yield"
// CHECK: "scf.yield"

// 4 x^3 at 1.5
// POW:      @grad_pow4
// POW-NEXT: 13.5
// POW:      @jvp_pow4
// POW:      13.5
// 3 x^2 at 2 and 0 below zero
// RELU:      @grad_relu3(2.0)
// RELU-NEXT: 12.
// RELU0:      @grad_relu3(-2.0)
// RELU0-NEXT: 0.
