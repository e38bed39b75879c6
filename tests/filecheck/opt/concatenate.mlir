// RUN: zymase-opt --print-op-generic -p zymase-hlo-opt %s | FileCheck %s

// Concatenates flatten, merge neighbouring pieces of one value, turn splat edges into
// padding, and sink past elementwise ops whose operands split the same way.

// concatenate(x) -> x
func.func @single(%x: tensor<3xf64>) -> tensor<3xf64> {
  %0 = "stablehlo.concatenate"(%x) <{dimension = 0 : i64}> : (tensor<3xf64>) -> tensor<3xf64>
  func.return %0 : tensor<3xf64>
}
// CHECK-LABEL: sym_name = "single"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<3xf64>):
// CHECK-NEXT:    "func.return"(%[[X]])

// Adjacent slices of x that cover all of x are x; nesting and empty operands go away.
func.func @slices(%x: tensor<2x6xf64>, %e: tensor<2x0xf64>) -> tensor<2x6xf64> {
  %0 = "stablehlo.slice"(%x) <{start_indices = array<i64: 0, 0>, limit_indices = array<i64: 2, 2>, strides = array<i64: 1, 1>}> : (tensor<2x6xf64>) -> tensor<2x2xf64>
  %1 = "stablehlo.slice"(%x) <{start_indices = array<i64: 0, 2>, limit_indices = array<i64: 2, 5>, strides = array<i64: 1, 1>}> : (tensor<2x6xf64>) -> tensor<2x3xf64>
  %2 = "stablehlo.slice"(%x) <{start_indices = array<i64: 0, 5>, limit_indices = array<i64: 2, 6>, strides = array<i64: 1, 1>}> : (tensor<2x6xf64>) -> tensor<2x1xf64>
  %3 = "stablehlo.concatenate"(%1, %e, %2) <{dimension = 1 : i64}> : (tensor<2x3xf64>, tensor<2x0xf64>, tensor<2x1xf64>) -> tensor<2x4xf64>
  %4 = "stablehlo.concatenate"(%0, %3) <{dimension = 1 : i64}> : (tensor<2x2xf64>, tensor<2x4xf64>) -> tensor<2x6xf64>
  func.return %4 : tensor<2x6xf64>
}
// CHECK-LABEL: sym_name = "slices"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<2x6xf64>, %{{.*}}: tensor<2x0xf64>):
// CHECK-NEXT:    "func.return"(%[[X]])

// Zeros on both edges are padding.
func.func @splat_edges(%x: tensor<4xf64>) -> tensor<7xf64> {
  %c = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f64>}> : () -> tensor<f64>
  %z2 = "stablehlo.broadcast_in_dim"(%c) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<2xf64>
  %z1 = "stablehlo.broadcast_in_dim"(%c) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<1xf64>
  %0 = "stablehlo.concatenate"(%z2, %x, %z1) <{dimension = 0 : i64}> : (tensor<2xf64>, tensor<4xf64>, tensor<1xf64>) -> tensor<7xf64>
  func.return %0 : tensor<7xf64>
}
// CHECK-LABEL: sym_name = "splat_edges"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<4xf64>):
// CHECK-NOT:     stablehlo.concatenate
// CHECK:         %[[P:.*]] = "stablehlo.pad"(%[[X]], %{{.*}}) <{edge_padding_low = array<i64: 2>, edge_padding_high = array<i64: 1>, interior_padding = array<i64: 0>}>
// CHECK-NEXT:    "func.return"(%[[P]])

// exp(concat(a, b) * concat(c, d)) -> concat(exp(a * c), exp(b * d))
func.func @elementwise(%a: tensor<3xf64>, %b: tensor<4xf64>, %c: tensor<3xf64>, %d: tensor<4xf64>) -> tensor<7xf64> {
  %0 = "stablehlo.concatenate"(%a, %b) <{dimension = 0 : i64}> : (tensor<3xf64>, tensor<4xf64>) -> tensor<7xf64>
  %1 = "stablehlo.concatenate"(%c, %d) <{dimension = 0 : i64}> : (tensor<3xf64>, tensor<4xf64>) -> tensor<7xf64>
  %2 = "stablehlo.multiply"(%0, %1) : (tensor<7xf64>, tensor<7xf64>) -> tensor<7xf64>
  %3 = "stablehlo.exponential"(%2) : (tensor<7xf64>) -> tensor<7xf64>
  func.return %3 : tensor<7xf64>
}
// CHECK-LABEL: sym_name = "elementwise"
// CHECK:       ^{{.*}}(%[[A:.*]]: tensor<3xf64>, %[[B:.*]]: tensor<4xf64>, %[[C:.*]]: tensor<3xf64>, %[[D:.*]]: tensor<4xf64>):
// CHECK-DAG:     %[[M1:.*]] = "stablehlo.multiply"(%[[A]], %[[C]]) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
// CHECK-DAG:     %[[M2:.*]] = "stablehlo.multiply"(%[[B]], %[[D]]) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
// CHECK-DAG:     %[[E1:.*]] = "stablehlo.exponential"(%[[M1]])
// CHECK-DAG:     %[[E2:.*]] = "stablehlo.exponential"(%[[M2]])
// CHECK:         %[[R:.*]] = "stablehlo.concatenate"(%[[E1]], %[[E2]]) <{dimension = 0 : i64}>
// CHECK-NEXT:    "func.return"(%[[R]])

// Different splits stay as they are.
func.func @mismatch(%a: tensor<3xf64>, %b: tensor<4xf64>, %c: tensor<4xf64>, %d: tensor<3xf64>) -> tensor<7xf64> {
  %0 = "stablehlo.concatenate"(%a, %b) <{dimension = 0 : i64}> : (tensor<3xf64>, tensor<4xf64>) -> tensor<7xf64>
  %1 = "stablehlo.concatenate"(%c, %d) <{dimension = 0 : i64}> : (tensor<4xf64>, tensor<3xf64>) -> tensor<7xf64>
  %2 = "stablehlo.multiply"(%0, %1) : (tensor<7xf64>, tensor<7xf64>) -> tensor<7xf64>
  func.return %2 : tensor<7xf64>
}
// CHECK-LABEL: sym_name = "mismatch"
// CHECK:         "stablehlo.multiply"(%{{.*}}, %{{.*}}) : (tensor<7xf64>, tensor<7xf64>) -> tensor<7xf64>

// Broadcasts of x repeated along the concatenated dim are one broadcast.
func.func @broadcasts(%x: tensor<3xf64>) -> tensor<6x3xf64> {
  %0 = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 1>}> : (tensor<3xf64>) -> tensor<2x3xf64>
  %1 = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 1>}> : (tensor<3xf64>) -> tensor<4x3xf64>
  %2 = "stablehlo.concatenate"(%0, %1) <{dimension = 0 : i64}> : (tensor<2x3xf64>, tensor<4x3xf64>) -> tensor<6x3xf64>
  func.return %2 : tensor<6x3xf64>
}
// CHECK-LABEL: sym_name = "broadcasts"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<3xf64>):
// CHECK-NEXT:    %[[B:.*]] = "stablehlo.broadcast_in_dim"(%[[X]]) <{broadcast_dimensions = array<i64: 1>}> : (tensor<3xf64>) -> tensor<6x3xf64>
// CHECK-NEXT:    "func.return"(%[[B]])
