// RUN: zymase-opt --print-op-generic -p zymase-hlo-opt %s | FileCheck %s

// Constant start indices are clamped into range at compile time: (1, 5) -> (1, 3).
// CHECK-LABEL: sym_name = "slice_constant"
// CHECK:         "stablehlo.slice"(%x) <{start_indices = array<i64: 1, 3>, limit_indices = array<i64: 3, 6>, strides = array<i64: 1, 1>}>
// CHECK-NOT:     stablehlo.dynamic_slice
func.func @slice_constant(%x: tensor<4x6xf64>) -> tensor<2x3xf64> {
  %c1 = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
  %c5 = "stablehlo.constant"() <{value = dense<5> : tensor<i32>}> : () -> tensor<i32>
  %0 = "stablehlo.dynamic_slice"(%x, %c1, %c5) <{slice_sizes = array<i64: 2, 3>}> : (tensor<4x6xf64>, tensor<i32>, tensor<i32>) -> tensor<2x3xf64>
  func.return %0 : tensor<2x3xf64>
}

// An update at constant indices is a concatenation of slices around it.
// CHECK-LABEL: sym_name = "update_constant"
// CHECK-NOT:     stablehlo.dynamic_update_slice
// CHECK:         "stablehlo.slice"(%x) <{start_indices = array<i64: 0>, limit_indices = array<i64: 2>
// CHECK:         "stablehlo.slice"(%x) <{start_indices = array<i64: 5>, limit_indices = array<i64: 8>
// CHECK:         "stablehlo.concatenate"(%{{.*}}, %u, %{{.*}}) <{dimension = 0 : i64}>
func.func @update_constant(%x: tensor<8xf64>, %u: tensor<3xf64>) -> tensor<8xf64> {
  %c2 = "stablehlo.constant"() <{value = dense<2> : tensor<i64>}> : () -> tensor<i64>
  %0 = "stablehlo.dynamic_update_slice"(%x, %u, %c2) : (tensor<8xf64>, tensor<3xf64>, tensor<i64>) -> tensor<8xf64>
  func.return %0 : tensor<8xf64>
}

// Reading back what was just written at the same indices gives the update.
// CHECK-LABEL: sym_name = "read_back"
// CHECK-NEXT:    ^{{.*}}
// CHECK-NEXT:    "func.return"(%u)
func.func @read_back(%x: tensor<5x3xf64>, %u: tensor<2x3xf64>, %i: tensor<i32>) -> tensor<2x3xf64> {
  %0 = "stablehlo.dynamic_update_slice"(%x, %u, %i, %i) : (tensor<5x3xf64>, tensor<2x3xf64>, tensor<i32>, tensor<i32>) -> tensor<5x3xf64>
  %1 = "stablehlo.dynamic_slice"(%0, %i, %i) <{slice_sizes = array<i64: 2, 3>}> : (tensor<5x3xf64>, tensor<i32>, tensor<i32>) -> tensor<2x3xf64>
  func.return %1 : tensor<2x3xf64>
}

// A whole-operand update is the update.
// CHECK-LABEL: sym_name = "whole"
// CHECK-NEXT:    ^{{.*}}
// CHECK-NEXT:    "func.return"(%u)
func.func @whole(%x: tensor<4xf64>, %u: tensor<4xf64>, %i: tensor<i32>) -> tensor<4xf64> {
  %0 = "stablehlo.dynamic_update_slice"(%x, %u, %i) : (tensor<4xf64>, tensor<4xf64>, tensor<i32>) -> tensor<4xf64>
  func.return %0 : tensor<4xf64>
}

// A window of a broadcast scalar is a smaller broadcast.
// CHECK-LABEL: sym_name = "broadcast"
// CHECK-NEXT:    ^{{.*}}
// CHECK-NEXT:    %[[B:.*]] = "stablehlo.broadcast_in_dim"(%s) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<2x3xf64>
// CHECK-NEXT:    "func.return"(%[[B]])
func.func @broadcast(%s: tensor<f64>, %i: tensor<i32>) -> tensor<2x3xf64> {
  %b = "stablehlo.broadcast_in_dim"(%s) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<100x100xf64>
  %0 = "stablehlo.dynamic_slice"(%b, %i, %i) <{slice_sizes = array<i64: 2, 3>}> : (tensor<100x100xf64>, tensor<i32>, tensor<i32>) -> tensor<2x3xf64>
  func.return %0 : tensor<2x3xf64>
}
