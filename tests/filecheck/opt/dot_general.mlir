// RUN: zymase-opt --print-op-generic -p zymase-hlo-opt %s | FileCheck %s
// RUN: zymase-opt --print-op-generic -p 'zymase-hlo-opt{assume_finite=true}' %s | FileCheck --check-prefix=FAST %s

// -x @ y -> -(x @ y)
// CHECK-LABEL: sym_name = "negate"
// CHECK:         %[[D:.*]] = "stablehlo.dot_general"(%x, %y)
// CHECK-NEXT:    %[[N:.*]] = "stablehlo.negate"(%[[D]]) : (tensor<3x5xf64>) -> tensor<3x5xf64>
// CHECK-NEXT:    "func.return"(%[[N]])
func.func @negate(%x: tensor<3x4xf64>, %y: tensor<4x5xf64>) -> tensor<3x5xf64> {
  %n = "stablehlo.negate"(%x) : (tensor<3x4xf64>) -> tensor<3x4xf64>
  %0 = "stablehlo.dot_general"(%n, %y) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>}> : (tensor<3x4xf64>, tensor<4x5xf64>) -> tensor<3x5xf64>
  func.return %0 : tensor<3x5xf64>
}

// x @ broadcast(v along a free dim): one matrix-vector product, broadcast.
// CHECK-LABEL: sym_name = "broadcast_free"
// CHECK:         %[[D:.*]] = "stablehlo.dot_general"(%x, %v) {{.*}} : (tensor<3x4xf64>, tensor<4xf64>) -> tensor<3xf64>
// CHECK-NEXT:    %[[B:.*]] = "stablehlo.broadcast_in_dim"(%[[D]]) <{broadcast_dimensions = array<i64: 0>}> : (tensor<3xf64>) -> tensor<3x6xf64>
// CHECK-NEXT:    "func.return"(%[[B]])
func.func @broadcast_free(%x: tensor<3x4xf64>, %v: tensor<4xf64>) -> tensor<3x6xf64> {
  %b = "stablehlo.broadcast_in_dim"(%v) <{broadcast_dimensions = array<i64: 0>}> : (tensor<4xf64>) -> tensor<4x6xf64>
  %0 = "stablehlo.dot_general"(%x, %b) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>}> : (tensor<3x4xf64>, tensor<4x6xf64>) -> tensor<3x6xf64>
  func.return %0 : tensor<3x6xf64>
}

// A contraction over a size-1 dimension is an outer product: a multiply of broadcasts.
// CHECK-LABEL: sym_name = "outer"
// CHECK-NOT:     stablehlo.dot_general
// CHECK:         "stablehlo.multiply"({{.*}}) : (tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3x4xf64>
func.func @outer(%x: tensor<3x1xf64>, %y: tensor<1x4xf64>) -> tensor<3x4xf64> {
  %0 = "stablehlo.dot_general"(%x, %y) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>}> : (tensor<3x1xf64>, tensor<1x4xf64>) -> tensor<3x4xf64>
  func.return %0 : tensor<3x4xf64>
}

// x @ 0 is 0 only when x is finite.
// CHECK-LABEL: sym_name = "zero"
// CHECK:         stablehlo.dot_general
// FAST-LABEL:  sym_name = "zero"
// FAST-NOT:      stablehlo.dot_general
// FAST:          "func.return"
func.func @zero(%x: tensor<3x4xf64>) -> tensor<3x2xf64> {
  %c = "stablehlo.constant"() <{value = dense<0.0> : tensor<f64>}> : () -> tensor<f64>
  %z = "stablehlo.broadcast_in_dim"(%c) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<4x2xf64>
  %0 = "stablehlo.dot_general"(%x, %z) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>}> : (tensor<3x4xf64>, tensor<4x2xf64>) -> tensor<3x2xf64>
  func.return %0 : tensor<3x2xf64>
}

// (A @ B) @ v -> A @ (B @ v): fewer flops, but another rounding: fast-math only.
// CHECK-LABEL: sym_name = "chain"
// CHECK:         %[[AB:.*]] = "stablehlo.dot_general"(%a, %m)
// CHECK:         "stablehlo.dot_general"(%[[AB]], %v)
// FAST-LABEL:  sym_name = "chain"
// FAST:          %[[MV:.*]] = "stablehlo.dot_general"(%m, %v) {{.*}} -> tensor<50xf64>
// FAST:          "stablehlo.dot_general"(%a, %[[MV]]) {{.*}} -> tensor<40xf64>
func.func @chain(%a: tensor<40x50xf64>, %m: tensor<50x60xf64>, %v: tensor<60xf64>) -> tensor<40xf64> {
  %0 = "stablehlo.dot_general"(%a, %m) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>}> : (tensor<40x50xf64>, tensor<50x60xf64>) -> tensor<40x60xf64>
  %1 = "stablehlo.dot_general"(%0, %v) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>}> : (tensor<40x60xf64>, tensor<60xf64>) -> tensor<40xf64>
  func.return %1 : tensor<40xf64>
}

// A dot_general of bf16 values converted to f32 is left alone.
// CHECK-LABEL: sym_name = "converted"
// CHECK:         %[[X:.*]] = "stablehlo.convert"(%x) : (tensor<3x4xbf16>) -> tensor<3x4xf32>
// CHECK:         %[[Y:.*]] = "stablehlo.convert"(%y) : (tensor<4x5xbf16>) -> tensor<4x5xf32>
// CHECK:         "stablehlo.dot_general"(%[[X]], %[[Y]])
func.func @converted(%x: tensor<3x4xbf16>, %y: tensor<4x5xbf16>) -> tensor<3x5xf32> {
  %cx = "stablehlo.convert"(%x) : (tensor<3x4xbf16>) -> tensor<3x4xf32>
  %cy = "stablehlo.convert"(%y) : (tensor<4x5xbf16>) -> tensor<4x5xf32>
  %0 = "stablehlo.dot_general"(%cx, %cy) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>}> : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  func.return %0 : tensor<3x5xf32>
}
