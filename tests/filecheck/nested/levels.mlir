// RUN: zymase-opt %s -p zymase-derivative | FileCheck %s
// RUN: rm -rf %t && env ZYMASE_DUMP_IR=%t zymase-opt %s -p zymase-derivative -o %t.out && cat %t/0000_module_after-ad.mlir | FileCheck --check-prefix=LEVELS %s
// A Hessian as one module: enzyme.fwddiff (width 3, identity seeds built from iotas) over
// @g, which holds enzyme.autodiff of @f. In a named pipeline the enzyme pass inlines what
// each level generated and runs the rewrite rules, CSE and DCE between levels
// (zymase-opt -p enzyme alone only generates: tests/filecheck/ad/nested_levels.mlir).

func.func @main(%x: tensor<3xf64>) -> tensor<3x3xf64> {
  %r = stablehlo.iota dim = 0 : tensor<3x3xi32>
  %c = stablehlo.iota dim = 1 : tensor<3x3xi32>
  %eq = stablehlo.compare EQ, %r, %c, SIGNED : (tensor<3x3xi32>, tensor<3x3xi32>) -> tensor<3x3xi1>
  %one = stablehlo.constant dense<1.0> : tensor<3x3xf64>
  %zero = stablehlo.constant dense<0.0> : tensor<3x3xf64>
  %seeds = stablehlo.select %eq, %one, %zero : tensor<3x3xi1>, tensor<3x3xf64>
  %h = enzyme.fwddiff @g(%x, %seeds) {activity=[#enzyme<activity enzyme_dup>], ret_activity=[#enzyme<activity enzyme_dupnoneed>], width=3} : (tensor<3xf64>, tensor<3x3xf64>) -> tensor<3x3xf64>
  func.return %h : tensor<3x3xf64>
}
func.func private @g(%x: tensor<3xf64>) -> tensor<3xf64> {
  %one = stablehlo.constant dense<1.0> : tensor<f64>
  %d = enzyme.autodiff @f(%x, %one) {activity=[#enzyme<activity enzyme_active>], ret_activity=[#enzyme<activity enzyme_activenoneed>]} : (tensor<3xf64>, tensor<f64>) -> tensor<3xf64>
  func.return %d : tensor<3xf64>
}
func.func private @f(%x: tensor<3xf64>) -> tensor<f64> {
  %w = stablehlo.constant dense<[[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 1.0, 1.0]]> : tensor<3x3xf64>
  %y = stablehlo.dot_general %x, %w, contracting_dims = [0] x [0] : (tensor<3xf64>, tensor<3x3xf64>) -> tensor<3xf64>
  %t = stablehlo.tanh %y : tensor<3xf64>
  %c = stablehlo.constant dense<0.0> : tensor<f64>
  %s = stablehlo.reduce(%t init: %c) applies stablehlo.add across dimensions = [0] : (tensor<3xf64>, tensor<f64>) -> tensor<f64>
  func.return %s : tensor<f64>
}

// After the enzyme pass: one function, no calls; the inner level's reverse sweep was
// optimized before the outer level differentiated it (the seed 1.0 of @g is folded away:
// the gradient (1 - t)(1 + t) w^T is used as is), while the outer level's code is not yet
// (its tangent of the seed's zero still shows as add(..., 0)).
// LEVELS: "func.func"() <{sym_name = "main"
// LEVELS-NOT: func.call
// LEVELS: "stablehlo.tanh"
// LEVELS: "stablehlo.add"(%{{.*}}, %{{.*}}) : (tensor<3x3xf64>, tensor<3x3xf64>)
// LEVELS: %[[G:.*]] = "stablehlo.multiply"(%{{.*}}, %{{.*}}) : (tensor<3xf64>, tensor<3xf64>)
// LEVELS: "stablehlo.dot_general"(%[[G]], %w)
// LEVELS-NOT: "func.func"

// The final program: the identity seeds times the constant weights are the weights
// (dot_general(I, w) -> w), and no seed, enzyme op or helper function is left.
// CHECK-LABEL: func.func @main
// CHECK-NOT: stablehlo.iota
// CHECK-NOT: stablehlo.select
// CHECK: %[[W:.*]] = stablehlo.constant dense<{{\[\[}}1.0
// CHECK: stablehlo.tanh
// CHECK: stablehlo.multiply %{{.*}}, %[[W]] : tensor<3x3xf64>
// CHECK: stablehlo.dot_general
// CHECK-NOT: enzyme.
// CHECK-NOT: func.func
