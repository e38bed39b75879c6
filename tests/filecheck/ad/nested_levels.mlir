// RUN: zymase-opt %s -p enzyme | filecheck %s
// The outer enzyme.fwddiff comes first in the module; the pass still differentiates the
// inner enzyme.autodiff first and the outer level then differentiates its call.

func.func @main(%x: tensor<3xf64>, %v: tensor<3x3xf64>) -> tensor<3x3xf64> {
  %h = enzyme.fwddiff @g(%x, %v) {activity=[#enzyme<activity enzyme_dup>], ret_activity=[#enzyme<activity enzyme_dupnoneed>], width=3} : (tensor<3xf64>, tensor<3x3xf64>) -> tensor<3x3xf64>
  func.return %h : tensor<3x3xf64>
}
func.func @g(%x: tensor<3xf64>) -> tensor<3xf64> {
  %one = stablehlo.constant dense<1.0> : tensor<f64>
  %d = enzyme.autodiff @f(%x, %one) {activity=[#enzyme<activity enzyme_active>], ret_activity=[#enzyme<activity enzyme_activenoneed>]} : (tensor<3xf64>, tensor<f64>) -> tensor<3xf64>
  func.return %d : tensor<3xf64>
}
func.func @f(%x: tensor<3xf64>) -> tensor<f64> {
  %y = stablehlo.multiply %x, %x : tensor<3xf64>
  %c = stablehlo.constant dense<0.0> : tensor<f64>
  %s = stablehlo.reduce(%y init: %c) applies stablehlo.add across dimensions = [0] : (tensor<3xf64>, tensor<f64>) -> tensor<f64>
  func.return %s : tensor<f64>
}

// CHECK-LABEL: func.func @main
// CHECK: call @fwddiffe3g
// CHECK-LABEL: func.func @g
// CHECK: call @diffef
// CHECK-NOT: enzyme.
// CHECK-LABEL: func.func private @diffef
// CHECK-LABEL: func.func private @fwddiffe3g
// CHECK: call @fwddiffe3diffef
// CHECK-LABEL: func.func private @fwddiffe3diffef
