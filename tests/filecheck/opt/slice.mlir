// RUN: zymase-opt --print-op-generic -p zymase-hlo-opt %s | FileCheck %s

// Slices move toward the operands, so only the kept elements are computed.

// The seed program: c = sum((x @ y * z)[0:10] * 4) with x: 20x5, y: 5, z: 20. The dot
// over all of x becomes a dot over x[0:10].
func.func @seed(%x: tensor<20x5xf64>, %y: tensor<5xf64>, %z: tensor<20xf64>) -> tensor<f64> {
  %0 = "stablehlo.dot_general"(%x, %y) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>, precision_config = [#stablehlo<precision DEFAULT>, #stablehlo<precision DEFAULT>]}> : (tensor<20x5xf64>, tensor<5xf64>) -> tensor<20xf64>
  %1 = "stablehlo.multiply"(%0, %z) : (tensor<20xf64>, tensor<20xf64>) -> tensor<20xf64>
  %2 = "stablehlo.slice"(%1) <{start_indices = array<i64: 0>, limit_indices = array<i64: 10>, strides = array<i64: 1>}> : (tensor<20xf64>) -> tensor<10xf64>
  %3 = "stablehlo.constant"() <{value = dense<4.000000e+00> : tensor<f64>}> : () -> tensor<f64>
  %4 = "stablehlo.broadcast_in_dim"(%3) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<10xf64>
  %5 = "stablehlo.multiply"(%2, %4) : (tensor<10xf64>, tensor<10xf64>) -> tensor<10xf64>
  %6 = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f64>}> : () -> tensor<f64>
  %7 = "stablehlo.reduce"(%5, %6) <{dimensions = array<i64: 0>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %s = "stablehlo.add"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%s) : (tensor<f64>) -> ()
  }) : (tensor<10xf64>, tensor<f64>) -> tensor<f64>
  func.return %7 : tensor<f64>
}
// CHECK-LABEL: sym_name = "seed"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<20x5xf64>, %[[Y:.*]]: tensor<5xf64>, %[[Z:.*]]: tensor<20xf64>):
// CHECK-NOT:     "stablehlo.dot_general"(%[[X]]
// CHECK:         %[[XS:.*]] = "stablehlo.slice"(%[[X]]) <{start_indices = array<i64: 0, 0>, limit_indices = array<i64: 10, 5>, strides = array<i64: 1, 1>}> : (tensor<20x5xf64>) -> tensor<10x5xf64>
// CHECK-NEXT:    %[[D:.*]] = "stablehlo.dot_general"(%[[XS]], %[[Y]]) {{.*}} : (tensor<10x5xf64>, tensor<5xf64>) -> tensor<10xf64>
// CHECK-NEXT:    %[[ZS:.*]] = "stablehlo.slice"(%[[Z]]) {{.*}} : (tensor<20xf64>) -> tensor<10xf64>
// CHECK-NEXT:    "stablehlo.multiply"(%[[D]], %[[ZS]]) : (tensor<10xf64>, tensor<10xf64>) -> tensor<10xf64>
// CHECK-NOT:     tensor<20xf64>
// CHECK:         "func.return"

// slice(slice(x)) -> one slice with composed start and stride.
func.func @compose(%x: tensor<10xf64>) -> tensor<2xf64> {
  %0 = "stablehlo.slice"(%x) <{start_indices = array<i64: 1>, limit_indices = array<i64: 9>, strides = array<i64: 2>}> : (tensor<10xf64>) -> tensor<4xf64>
  %1 = "stablehlo.slice"(%0) <{start_indices = array<i64: 1>, limit_indices = array<i64: 3>, strides = array<i64: 1>}> : (tensor<4xf64>) -> tensor<2xf64>
  func.return %1 : tensor<2xf64>
}
// CHECK-LABEL: sym_name = "compose"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<10xf64>):
// CHECK-NEXT:    %[[S:.*]] = "stablehlo.slice"(%[[X]]) <{start_indices = array<i64: 3>, limit_indices = array<i64: 6>, strides = array<i64: 2>}> : (tensor<10xf64>) -> tensor<2xf64>
// CHECK-NEXT:    "func.return"(%[[S]])

// A slice inside one operand of a concatenate slices that operand.
func.func @concat(%x: tensor<4xf64>, %y: tensor<6xf64>) -> tensor<3xf64> {
  %0 = "stablehlo.concatenate"(%x, %y) <{dimension = 0 : i64}> : (tensor<4xf64>, tensor<6xf64>) -> tensor<10xf64>
  %1 = "stablehlo.slice"(%0) <{start_indices = array<i64: 5>, limit_indices = array<i64: 8>, strides = array<i64: 1>}> : (tensor<10xf64>) -> tensor<3xf64>
  func.return %1 : tensor<3xf64>
}
// CHECK-LABEL: sym_name = "concat"
// CHECK:       ^{{.*}}(%{{.*}}: tensor<4xf64>, %[[Y:.*]]: tensor<6xf64>):
// CHECK-NEXT:    %[[S:.*]] = "stablehlo.slice"(%[[Y]]) <{start_indices = array<i64: 1>, limit_indices = array<i64: 4>, strides = array<i64: 1>}> : (tensor<6xf64>) -> tensor<3xf64>
// CHECK-NEXT:    "func.return"(%[[S]])

// A slice of a pad keeps only the padding it covers.
func.func @pad(%x: tensor<4xf64>, %v: tensor<f64>) -> tensor<4xf64> {
  %0 = "stablehlo.pad"(%x, %v) <{edge_padding_low = array<i64: 2>, edge_padding_high = array<i64: 3>, interior_padding = array<i64: 0>}> : (tensor<4xf64>, tensor<f64>) -> tensor<9xf64>
  %1 = "stablehlo.slice"(%0) <{start_indices = array<i64: 1>, limit_indices = array<i64: 5>, strides = array<i64: 1>}> : (tensor<9xf64>) -> tensor<4xf64>
  func.return %1 : tensor<4xf64>
}
// CHECK-LABEL: sym_name = "pad"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<4xf64>, %[[V:.*]]: tensor<f64>):
// CHECK-NEXT:    %[[S:.*]] = "stablehlo.slice"(%[[X]]) <{start_indices = array<i64: 0>, limit_indices = array<i64: 3>, strides = array<i64: 1>}> : (tensor<4xf64>) -> tensor<3xf64>
// CHECK-NEXT:    %[[P:.*]] = "stablehlo.pad"(%[[S]], %[[V]]) <{edge_padding_low = array<i64: 1>, edge_padding_high = array<i64: 0>, interior_padding = array<i64: 0>}>
// CHECK-NEXT:    "func.return"(%[[P]])

// A slice of a transposed broadcast: the slice reaches the small operand.
func.func @transpose_broadcast(%x: tensor<6xf64>) -> tensor<2x4xf64> {
  %0 = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 0>}> : (tensor<6xf64>) -> tensor<6x5xf64>
  %1 = "stablehlo.transpose"(%0) <{permutation = array<i64: 1, 0>}> : (tensor<6x5xf64>) -> tensor<5x6xf64>
  %2 = "stablehlo.slice"(%1) <{start_indices = array<i64: 1, 1>, limit_indices = array<i64: 3, 5>, strides = array<i64: 1, 1>}> : (tensor<5x6xf64>) -> tensor<2x4xf64>
  func.return %2 : tensor<2x4xf64>
}
// CHECK-LABEL: sym_name = "transpose_broadcast"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<6xf64>):
// CHECK-NEXT:    %[[S:.*]] = "stablehlo.slice"(%[[X]]) <{start_indices = array<i64: 1>, limit_indices = array<i64: 5>, strides = array<i64: 1>}> : (tensor<6xf64>) -> tensor<4xf64>
// CHECK-NEXT:    %[[B:.*]] = "stablehlo.broadcast_in_dim"(%[[S]]) <{broadcast_dimensions = array<i64: 1>}> : (tensor<4xf64>) -> tensor<2x4xf64>
// CHECK-NEXT:    "func.return"(%[[B]])
