// RUN: zymase-opt --print-op-generic -p zymase-hlo-opt %s | FileCheck %s

// Transposes compose, fold into dot_general dimension numbers and reductions, and sink
// past elementwise ops toward the results.

// transpose(transpose(x, p), q) with p∘q = id -> x
func.func @double(%x: tensor<2x3x4xf64>) -> tensor<2x3x4xf64> {
  %0 = "stablehlo.transpose"(%x) <{permutation = array<i64: 1, 2, 0>}> : (tensor<2x3x4xf64>) -> tensor<3x4x2xf64>
  %1 = "stablehlo.transpose"(%0) <{permutation = array<i64: 2, 0, 1>}> : (tensor<3x4x2xf64>) -> tensor<2x3x4xf64>
  func.return %1 : tensor<2x3x4xf64>
}
// CHECK-LABEL: sym_name = "double"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<2x3x4xf64>):
// CHECK-NEXT:    "func.return"(%[[X]])

// transpose(transpose(x, p), q) -> transpose(x, p∘q)
func.func @compose(%x: tensor<2x3x4xf64>) -> tensor<3x2x4xf64> {
  %0 = "stablehlo.transpose"(%x) <{permutation = array<i64: 2, 0, 1>}> : (tensor<2x3x4xf64>) -> tensor<4x2x3xf64>
  %1 = "stablehlo.transpose"(%0) <{permutation = array<i64: 2, 1, 0>}> : (tensor<4x2x3xf64>) -> tensor<3x2x4xf64>
  func.return %1 : tensor<3x2x4xf64>
}
// CHECK-LABEL: sym_name = "compose"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<2x3x4xf64>):
// CHECK-NEXT:    %[[T:.*]] = "stablehlo.transpose"(%[[X]]) <{permutation = array<i64: 1, 0, 2>}>
// CHECK-NEXT:    "func.return"(%[[T]])

// The transposes sink past exp and multiply: one transpose of the product remains.
func.func @elementwise(%x: tensor<3x4xf64>, %y: tensor<3x4xf64>) -> tensor<4x3xf64> {
  %tx = "stablehlo.transpose"(%x) <{permutation = array<i64: 1, 0>}> : (tensor<3x4xf64>) -> tensor<4x3xf64>
  %ty = "stablehlo.transpose"(%y) <{permutation = array<i64: 1, 0>}> : (tensor<3x4xf64>) -> tensor<4x3xf64>
  %e = "stablehlo.exponential"(%tx) : (tensor<4x3xf64>) -> tensor<4x3xf64>
  %m = "stablehlo.multiply"(%e, %ty) : (tensor<4x3xf64>, tensor<4x3xf64>) -> tensor<4x3xf64>
  func.return %m : tensor<4x3xf64>
}
// CHECK-LABEL: sym_name = "elementwise"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<3x4xf64>, %[[Y:.*]]: tensor<3x4xf64>):
// CHECK-NEXT:    %[[E:.*]] = "stablehlo.exponential"(%[[X]]) : (tensor<3x4xf64>) -> tensor<3x4xf64>
// CHECK-NEXT:    %[[M:.*]] = "stablehlo.multiply"(%[[E]], %[[Y]]) : (tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3x4xf64>
// CHECK-NEXT:    %[[T:.*]] = "stablehlo.transpose"(%[[M]]) <{permutation = array<i64: 1, 0>}>
// CHECK-NEXT:    "func.return"(%[[T]])

// x^T y: the transpose becomes a contracting dimension.
func.func @dot_lhs(%x: tensor<5x3xf64>, %y: tensor<5x4xf64>) -> tensor<3x4xf64> {
  %t = "stablehlo.transpose"(%x) <{permutation = array<i64: 1, 0>}> : (tensor<5x3xf64>) -> tensor<3x5xf64>
  %d = "stablehlo.dot_general"(%t, %y) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>}> : (tensor<3x5xf64>, tensor<5x4xf64>) -> tensor<3x4xf64>
  func.return %d : tensor<3x4xf64>
}
// CHECK-LABEL: sym_name = "dot_lhs"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<5x3xf64>, %[[Y:.*]]: tensor<5x4xf64>):
// CHECK-NEXT:    %[[D:.*]] = "stablehlo.dot_general"(%[[X]], %[[Y]]) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>}>
// CHECK-NEXT:    "func.return"(%[[D]])

// (x y)^T -> y^T x^T, absorbed by swapping the operands; the batch dims are reordered.
func.func @dot_result(%x: tensor<2x6x5x3xf64>, %y: tensor<2x6x5x4xf64>) -> tensor<6x2x4x3xf64> {
  %d = "stablehlo.dot_general"(%x, %y) <{dot_dimension_numbers = #stablehlo.dot<lhs_batching_dimensions = [0, 1], rhs_batching_dimensions = [0, 1], lhs_contracting_dimensions = [2], rhs_contracting_dimensions = [2]>}> : (tensor<2x6x5x3xf64>, tensor<2x6x5x4xf64>) -> tensor<2x6x3x4xf64>
  %t = "stablehlo.transpose"(%d) <{permutation = array<i64: 1, 0, 3, 2>}> : (tensor<2x6x3x4xf64>) -> tensor<6x2x4x3xf64>
  func.return %t : tensor<6x2x4x3xf64>
}
// CHECK-LABEL: sym_name = "dot_result"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<2x6x5x3xf64>, %[[Y:.*]]: tensor<2x6x5x4xf64>):
// CHECK-NEXT:    %[[D:.*]] = "stablehlo.dot_general"(%[[Y]], %[[X]]) <{dot_dimension_numbers = #stablehlo.dot<lhs_batching_dimensions = [1, 0], rhs_batching_dimensions = [1, 0], lhs_contracting_dimensions = [2], rhs_contracting_dimensions = [2]>}> : (tensor<2x6x5x4xf64>, tensor<2x6x5x3xf64>) -> tensor<6x2x4x3xf64>
// CHECK-NEXT:    "func.return"(%[[D]])

// Not swapped when x is contracted over its trailing dimension: as a rhs it would need a
// transposed copy (under jax.vmap, of the whole batch); the result is transposed instead.
func.func @dot_result_kept(%x: tensor<6x5xf64>, %w: tensor<3x5xf64>) -> tensor<3x6xf64> {
  %d = "stablehlo.dot_general"(%x, %w) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [1]>}> : (tensor<6x5xf64>, tensor<3x5xf64>) -> tensor<6x3xf64>
  %t = "stablehlo.transpose"(%d) <{permutation = array<i64: 1, 0>}> : (tensor<6x3xf64>) -> tensor<3x6xf64>
  func.return %t : tensor<3x6xf64>
}
// CHECK-LABEL: sym_name = "dot_result_kept"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<6x5xf64>, %[[W:.*]]: tensor<3x5xf64>):
// CHECK-NEXT:    %[[D:.*]] = "stablehlo.dot_general"(%[[X]], %[[W]])
// CHECK-NEXT:    %[[T:.*]] = "stablehlo.transpose"(%[[D]])
// CHECK-NEXT:    "func.return"(%[[T]])

// A reduction over a transposed operand reduces the operand; the kept dims stay in order.
func.func @reduce(%x: tensor<2x3x4xf64>) -> tensor<4x2xf64> {
  %t = "stablehlo.transpose"(%x) <{permutation = array<i64: 2, 0, 1>}> : (tensor<2x3x4xf64>) -> tensor<4x2x3xf64>
  %z = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f64>}> : () -> tensor<f64>
  %r = "stablehlo.reduce"(%t, %z) <{dimensions = array<i64: 2>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %s = "stablehlo.add"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%s) : (tensor<f64>) -> ()
  }) : (tensor<4x2x3xf64>, tensor<f64>) -> tensor<4x2xf64>
  func.return %r : tensor<4x2xf64>
}
// CHECK-LABEL: sym_name = "reduce"
// CHECK:         %[[R:.*]] = "stablehlo.reduce"(%{{.*}}, %{{.*}}) <{dimensions = array<i64: 1>}>
// CHECK:         }) : (tensor<2x3x4xf64>, tensor<f64>) -> tensor<2x4xf64>
// CHECK-NEXT:    %[[T:.*]] = "stablehlo.transpose"(%[[R]]) <{permutation = array<i64: 1, 0>}> : (tensor<2x4xf64>) -> tensor<4x2xf64>
// CHECK-NEXT:    "func.return"(%[[T]])

// A transposed broadcast is a broadcast with permuted dimensions.
func.func @broadcast(%x: tensor<3xf64>) -> tensor<3x5xf64> {
  %b = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 1>}> : (tensor<3xf64>) -> tensor<5x3xf64>
  %t = "stablehlo.transpose"(%b) <{permutation = array<i64: 1, 0>}> : (tensor<5x3xf64>) -> tensor<3x5xf64>
  func.return %t : tensor<3x5xf64>
}
// CHECK-LABEL: sym_name = "broadcast"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<3xf64>):
// CHECK-NEXT:    %[[B:.*]] = "stablehlo.broadcast_in_dim"(%[[X]]) <{broadcast_dimensions = array<i64: 0>}> : (tensor<3xf64>) -> tensor<3x5xf64>
// CHECK-NEXT:    "func.return"(%[[B]])

// A transpose that only moves a size-1 dimension is a reshape.
func.func @unit_dims(%x: tensor<1x3x4xf64>) -> tensor<3x1x4xf64> {
  %t = "stablehlo.transpose"(%x) <{permutation = array<i64: 1, 0, 2>}> : (tensor<1x3x4xf64>) -> tensor<3x1x4xf64>
  func.return %t : tensor<3x1x4xf64>
}
// CHECK-LABEL: sym_name = "unit_dims"
// CHECK-NOT:     stablehlo.transpose
// CHECK:         "stablehlo.reshape"(%{{.*}}) : (tensor<1x3x4xf64>) -> tensor<3x1x4xf64>
