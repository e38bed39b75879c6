// RUN: zymase-opt --print-op-generic -p zymase-hlo-opt %s | FileCheck %s
// RUN: zymase-opt --print-op-generic -p 'zymase-hlo-opt{assume_finite=true}' %s | FileCheck --check-prefix=FINITE %s

// Pads merge, negative edges become slices, and pads sink past the ops that use them.

// The seed: multiply(pad(x, 0), y) -> pad(multiply(x, slice(y)), 0). Only valid when y
// is finite (0 * inf is nan), so only with assume_finite.
func.func @seed(%x: tensor<3x4xf64>, %y: tensor<6x5xf64>) -> tensor<6x5xf64> {
  %z = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f64>}> : () -> tensor<f64>
  %p = "stablehlo.pad"(%x, %z) <{edge_padding_low = array<i64: 1, 0>, edge_padding_high = array<i64: 2, 1>, interior_padding = array<i64: 0, 0>}> : (tensor<3x4xf64>, tensor<f64>) -> tensor<6x5xf64>
  %m = "stablehlo.multiply"(%p, %y) : (tensor<6x5xf64>, tensor<6x5xf64>) -> tensor<6x5xf64>
  func.return %m : tensor<6x5xf64>
}
// CHECK-LABEL: sym_name = "seed"
// CHECK:         %[[P:.*]] = "stablehlo.pad"
// CHECK-NEXT:    "stablehlo.multiply"(%[[P]], %{{.*}}) : (tensor<6x5xf64>, tensor<6x5xf64>)
// FINITE-LABEL: sym_name = "seed"
// FINITE:       ^{{.*}}(%[[X:.*]]: tensor<3x4xf64>, %[[Y:.*]]: tensor<6x5xf64>):
// FINITE:         %[[S:.*]] = "stablehlo.slice"(%[[Y]]) <{start_indices = array<i64: 1, 0>, limit_indices = array<i64: 4, 4>, strides = array<i64: 1, 1>}> : (tensor<6x5xf64>) -> tensor<3x4xf64>
// FINITE-NEXT:    %[[M:.*]] = "stablehlo.multiply"(%[[X]], %[[S]]) : (tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3x4xf64>
// FINITE-NEXT:    %[[P:.*]] = "stablehlo.pad"(%[[M]], %{{.*}}) <{edge_padding_low = array<i64: 1, 0>, edge_padding_high = array<i64: 2, 1>, interior_padding = array<i64: 0, 0>}>
// FINITE-NEXT:    "func.return"(%[[P]])

// pad(pad(x, v), v) -> one pad.
func.func @pad_pad(%x: tensor<4xf64>, %v: tensor<f64>) -> tensor<10xf64> {
  %0 = "stablehlo.pad"(%x, %v) <{edge_padding_low = array<i64: 1>, edge_padding_high = array<i64: 2>, interior_padding = array<i64: 0>}> : (tensor<4xf64>, tensor<f64>) -> tensor<7xf64>
  %1 = "stablehlo.pad"(%0, %v) <{edge_padding_low = array<i64: 3>, edge_padding_high = array<i64: 0>, interior_padding = array<i64: 0>}> : (tensor<7xf64>, tensor<f64>) -> tensor<10xf64>
  func.return %1 : tensor<10xf64>
}
// CHECK-LABEL: sym_name = "pad_pad"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<4xf64>, %[[V:.*]]: tensor<f64>):
// CHECK-NEXT:    %[[P:.*]] = "stablehlo.pad"(%[[X]], %[[V]]) <{edge_padding_low = array<i64: 4>, edge_padding_high = array<i64: 2>, interior_padding = array<i64: 0>}>
// CHECK-NEXT:    "func.return"(%[[P]])

// Negative edge padding is a slice.
func.func @negative(%x: tensor<5xf64>, %v: tensor<f64>) -> tensor<4xf64> {
  %0 = "stablehlo.pad"(%x, %v) <{edge_padding_low = array<i64: -2>, edge_padding_high = array<i64: 1>, interior_padding = array<i64: 0>}> : (tensor<5xf64>, tensor<f64>) -> tensor<4xf64>
  func.return %0 : tensor<4xf64>
}
// CHECK-LABEL: sym_name = "negative"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<5xf64>, %[[V:.*]]: tensor<f64>):
// CHECK-NEXT:    %[[S:.*]] = "stablehlo.slice"(%[[X]]) <{start_indices = array<i64: 2>, limit_indices = array<i64: 5>, strides = array<i64: 1>}>
// CHECK-NEXT:    %[[P:.*]] = "stablehlo.pad"(%[[S]], %[[V]]) <{edge_padding_low = array<i64: 0>, edge_padding_high = array<i64: 1>, interior_padding = array<i64: 0>}>
// CHECK-NEXT:    "func.return"(%[[P]])

// add(pad(x, v), pad(y, w)) with one configuration -> pad(add(x, y), add(v, w)).
func.func @add_pads(%x: tensor<4xf64>, %y: tensor<4xf64>, %v: tensor<f64>, %w: tensor<f64>) -> tensor<10xf64> {
  %0 = "stablehlo.pad"(%x, %v) <{edge_padding_low = array<i64: 1>, edge_padding_high = array<i64: 2>, interior_padding = array<i64: 1>}> : (tensor<4xf64>, tensor<f64>) -> tensor<10xf64>
  %1 = "stablehlo.pad"(%y, %w) <{edge_padding_low = array<i64: 1>, edge_padding_high = array<i64: 2>, interior_padding = array<i64: 1>}> : (tensor<4xf64>, tensor<f64>) -> tensor<10xf64>
  %2 = "stablehlo.add"(%0, %1) : (tensor<10xf64>, tensor<10xf64>) -> tensor<10xf64>
  func.return %2 : tensor<10xf64>
}
// CHECK-LABEL: sym_name = "add_pads"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<4xf64>, %[[Y:.*]]: tensor<4xf64>, %[[V:.*]]: tensor<f64>, %[[W:.*]]: tensor<f64>):
// CHECK-DAG:     %[[A:.*]] = "stablehlo.add"(%[[X]], %[[Y]]) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
// CHECK-DAG:     %[[B:.*]] = "stablehlo.add"(%[[V]], %[[W]]) : (tensor<f64>, tensor<f64>) -> tensor<f64>
// CHECK:         %[[P:.*]] = "stablehlo.pad"(%[[A]], %[[B]]) <{edge_padding_low = array<i64: 1>, edge_padding_high = array<i64: 2>, interior_padding = array<i64: 1>}>
// CHECK-NEXT:    "func.return"(%[[P]])

// negate(pad(x, 2)) -> pad(negate(x), negate(2)); convert sinks the same way.
func.func @unary(%x: tensor<4xf64>) -> tensor<7xf32> {
  %c = "stablehlo.constant"() <{value = dense<2.000000e+00> : tensor<f64>}> : () -> tensor<f64>
  %0 = "stablehlo.pad"(%x, %c) <{edge_padding_low = array<i64: 1>, edge_padding_high = array<i64: 2>, interior_padding = array<i64: 0>}> : (tensor<4xf64>, tensor<f64>) -> tensor<7xf64>
  %1 = "stablehlo.negate"(%0) : (tensor<7xf64>) -> tensor<7xf64>
  %2 = "stablehlo.convert"(%1) : (tensor<7xf64>) -> tensor<7xf32>
  func.return %2 : tensor<7xf32>
}
// CHECK-LABEL: sym_name = "unary"
// CHECK:       ^{{.*}}(%[[X:.*]]: tensor<4xf64>):
// CHECK:         %[[N:.*]] = "stablehlo.negate"(%[[X]]) : (tensor<4xf64>) -> tensor<4xf64>
// CHECK:         %[[C:.*]] = "stablehlo.convert"(%[[N]]) : (tensor<4xf64>) -> tensor<4xf32>
// CHECK:         %[[P:.*]] = "stablehlo.pad"(%[[C]], %{{.*}}) {{.*}} : (tensor<4xf32>, tensor<f32>) -> tensor<7xf32>
// CHECK-NEXT:    "func.return"(%[[P]])

// A pad of a splat with its own value is a bigger splat.
func.func @splat(%v: tensor<f64>) -> tensor<7xf64> {
  %0 = "stablehlo.broadcast_in_dim"(%v) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<4xf64>
  %1 = "stablehlo.pad"(%0, %v) <{edge_padding_low = array<i64: 1>, edge_padding_high = array<i64: 2>, interior_padding = array<i64: 0>}> : (tensor<4xf64>, tensor<f64>) -> tensor<7xf64>
  func.return %1 : tensor<7xf64>
}
// CHECK-LABEL: sym_name = "splat"
// CHECK:       ^{{.*}}(%[[V:.*]]: tensor<f64>):
// CHECK-NEXT:    %[[B:.*]] = "stablehlo.broadcast_in_dim"(%[[V]]) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<7xf64>
// CHECK-NEXT:    "func.return"(%[[B]])
