// RUN: zymase-opt --print-op-generic -p zymase-hlo-opt %s | FileCheck %s

// Elementwise ops on splat constants fold on the scalars; the result stays
// broadcast_in_dim(constant scalar), never a materialised array.
func.func @splat_add(%x: tensor<1000xf64>) -> tensor<1000xf64> {
  %a = "stablehlo.constant"() <{value = dense<1.5> : tensor<f64>}> : () -> tensor<f64>
  %b = "stablehlo.constant"() <{value = dense<2.0> : tensor<f64>}> : () -> tensor<f64>
  %ba = "stablehlo.broadcast_in_dim"(%a) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<1000xf64>
  %bb = "stablehlo.broadcast_in_dim"(%b) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<1000xf64>
  %s = "stablehlo.add"(%ba, %bb) : (tensor<1000xf64>, tensor<1000xf64>) -> tensor<1000xf64>
  %r = "stablehlo.multiply"(%x, %s) : (tensor<1000xf64>, tensor<1000xf64>) -> tensor<1000xf64>
  func.return %r : tensor<1000xf64>
}
// CHECK-LABEL: sym_name = "splat_add"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<1000xf64>):
// CHECK-NEXT:      %[[B:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<3.500000e+00> : tensor<1000xf64>}>
// CHECK-NEXT:      %[[R:[^ ,:)#]+]] = "stablehlo.multiply"(%[[X]], %[[B]])
// CHECK-NEXT:      "func.return"(%[[R]])

// Non-splat constants fold into one dense constant; integer division truncates and
// INT_MIN / -1 wraps as in XLA.
func.func @dense_fold(%x: tensor<4xi32>) -> tensor<4xi32> {
  %a = "stablehlo.constant"() <{value = dense<[7, -7, -2147483648, 9]> : tensor<4xi32>}> : () -> tensor<4xi32>
  %b = "stablehlo.constant"() <{value = dense<[2, 2, -1, -4]> : tensor<4xi32>}> : () -> tensor<4xi32>
  %q = "stablehlo.divide"(%a, %b) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %r = "stablehlo.add"(%x, %q) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  func.return %r : tensor<4xi32>
}
// CHECK-LABEL: sym_name = "dense_fold"
// CHECK:         %[[Q:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<[3, -3, -2147483648, -2]> : tensor<4xi32>}>
// CHECK-NEXT:    "stablehlo.add"(%{{.*}}, %[[Q]])
// CHECK-NOT:     "stablehlo.divide"

// Integer division by zero is implementation-defined: left alone.
func.func @no_fold_div_zero() -> tensor<2xi32> {
  %a = "stablehlo.constant"() <{value = dense<[7, 1]> : tensor<2xi32>}> : () -> tensor<2xi32>
  %b = "stablehlo.constant"() <{value = dense<[0, 1]> : tensor<2xi32>}> : () -> tensor<2xi32>
  %q = "stablehlo.divide"(%a, %b) : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  func.return %q : tensor<2xi32>
}
// CHECK-LABEL: sym_name = "no_fold_div_zero"
// CHECK:         "stablehlo.divide"

// Shape ops on constants fold: transpose, then slice.
func.func @shape_ops() -> tensor<2x2xf64> {
  %a = "stablehlo.constant"() <{value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf64>}> : () -> tensor<2x3xf64>
  %t = "stablehlo.transpose"(%a) <{permutation = array<i64: 1, 0>}> : (tensor<2x3xf64>) -> tensor<3x2xf64>
  %s = "stablehlo.slice"(%t) <{start_indices = array<i64: 1, 0>, limit_indices = array<i64: 3, 2>, strides = array<i64: 1, 1>}> : (tensor<3x2xf64>) -> tensor<2x2xf64>
  func.return %s : tensor<2x2xf64>
}
// CHECK-LABEL: sym_name = "shape_ops"
// CHECK-NEXT:    %[[S:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<{{\[\[}}2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<2x2xf64>}>
// CHECK-NEXT:    "func.return"(%[[S]])

// and(p, true) -> p, then select(not(p), a, b) -> select(p, b, a).
func.func @logical(%p: tensor<4xi1>, %a: tensor<4xf64>, %b: tensor<4xf64>) -> tensor<4xf64> {
  %t = "stablehlo.constant"() <{value = dense<true> : tensor<i1>}> : () -> tensor<i1>
  %bt = "stablehlo.broadcast_in_dim"(%t) <{broadcast_dimensions = array<i64>}> : (tensor<i1>) -> tensor<4xi1>
  %q = "stablehlo.and"(%p, %bt) : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %n = "stablehlo.not"(%q) : (tensor<4xi1>) -> tensor<4xi1>
  %r = "stablehlo.select"(%n, %a, %b) : (tensor<4xi1>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  func.return %r : tensor<4xf64>
}
// CHECK-LABEL: sym_name = "logical"
// CHECK:         ^{{.*}}(%[[P:[^ ,:)#]+]]: tensor<4xi1>, %[[A:[^ ,:)#]+]]: tensor<4xf64>, %[[B:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[R:[^ ,:)#]+]] = "stablehlo.select"(%[[P]], %[[B]], %[[A]])
// CHECK-NEXT:      "func.return"(%[[R]])

// power(x, 2) -> x * x;  convert(convert(y : f32 -> f64) -> f32) -> y.
func.func @power_convert(%x: tensor<4xf64>, %y: tensor<4xf32>) -> (tensor<4xf64>, tensor<4xf32>) {
  %two = "stablehlo.constant"() <{value = dense<2.0> : tensor<f64>}> : () -> tensor<f64>
  %b2 = "stablehlo.broadcast_in_dim"(%two) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<4xf64>
  %p = "stablehlo.power"(%x, %b2) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  %w = "stablehlo.convert"(%y) : (tensor<4xf32>) -> tensor<4xf64>
  %n = "stablehlo.convert"(%w) : (tensor<4xf64>) -> tensor<4xf32>
  func.return %p, %n : tensor<4xf64>, tensor<4xf32>
}
// CHECK-LABEL: sym_name = "power_convert"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<4xf64>, %[[Y:[^ ,:)#]+]]: tensor<4xf32>):
// CHECK-NEXT:      %[[P:[^ ,:)#]+]] = "stablehlo.multiply"(%[[X]], %[[X]])
// CHECK-NEXT:      "func.return"(%[[P]], %[[Y]])
