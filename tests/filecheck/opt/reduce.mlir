// RUN: zymase-opt --print-op-generic -p zymase-hlo-opt %s | FileCheck %s
// RUN: zymase-opt --print-op-generic -p 'zymase-hlo-opt{assume_finite=true}' %s | FileCheck --check-prefix=FAST %s

// Sum over a size-1 dimension: a reshape (the init is the identity).
// CHECK-LABEL: sym_name = "sum_unit_dim"
// CHECK:         %[[R:.*]] = "stablehlo.reshape"(%{{.*}}) : (tensor<1x4xf64>) -> tensor<4xf64>
// CHECK-NEXT:    "func.return"(%[[R]])
func.func @sum_unit_dim(%x: tensor<1x4xf64>) -> tensor<4xf64> {
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<f64>}> : () -> tensor<f64>
  %0 = "stablehlo.reduce"(%x, %z) <{dimensions = array<i64: 0>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %s = "stablehlo.add"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%s) : (tensor<f64>) -> ()
  }) : (tensor<1x4xf64>, tensor<f64>) -> tensor<4xf64>
  func.return %0 : tensor<4xf64>
}

// Max over copies made by a broadcast: the copies are dropped.
// CHECK-LABEL: sym_name = "max_of_broadcast"
// CHECK-NOT:     stablehlo.reduce
// CHECK:         "func.return"(%x) : (tensor<3xf64>) -> ()
func.func @max_of_broadcast(%x: tensor<3xf64>) -> tensor<3xf64> {
  %m = "stablehlo.constant"() <{value = dense<0xFFF0000000000000> : tensor<f64>}> : () -> tensor<f64>
  %bx = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 1>}> : (tensor<3xf64>) -> tensor<5x3xf64>
  %0 = "stablehlo.reduce"(%bx, %m) <{dimensions = array<i64: 0>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %s = "stablehlo.maximum"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%s) : (tensor<f64>) -> ()
  }) : (tensor<5x3xf64>, tensor<f64>) -> tensor<3xf64>
  func.return %0 : tensor<3xf64>
}

// A float sum over copies is a multiplication only under fast-math.
// CHECK-LABEL: sym_name = "sum_of_broadcast"
// CHECK:         "stablehlo.reduce"(%bx, %z)
// FAST-LABEL: sym_name = "sum_of_broadcast"
// FAST:          %[[S:.*]] = "stablehlo.reduce"(%{{.*}}, %{{.*}}) <{dimensions = array<i64: 0>}>
// FAST:          (tensor<3xf64>, tensor<f64>) -> tensor<f64>
// FAST:          %[[N:.*]] = "stablehlo.constant"() <{value = dense<5.000000e+00> : tensor<f64>}>
// FAST:          "stablehlo.multiply"(%[[S]], %[[N]])
func.func @sum_of_broadcast(%x: tensor<3xf64>) -> tensor<f64> {
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<f64>}> : () -> tensor<f64>
  %bx = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 1>}> : (tensor<3xf64>) -> tensor<5x3xf64>
  %0 = "stablehlo.reduce"(%bx, %z) <{dimensions = array<i64: 0, 1>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %s = "stablehlo.add"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%s) : (tensor<f64>) -> ()
  }) : (tensor<5x3xf64>, tensor<f64>) -> tensor<f64>
  func.return %0 : tensor<f64>
}

// Integer sums over copies are exact multiplications.
// CHECK-LABEL: sym_name = "int_sum_of_broadcast"
// CHECK:         %[[S:.*]] = "stablehlo.reduce"
// CHECK:         (tensor<3xi32>, tensor<i32>) -> tensor<i32>
// CHECK:         "stablehlo.multiply"(%[[S]], %{{.*}}) : (tensor<i32>, tensor<i32>) -> tensor<i32>
func.func @int_sum_of_broadcast(%x: tensor<3xi32>) -> tensor<i32> {
  %z = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %bx = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 1>}> : (tensor<3xi32>) -> tensor<5x3xi32>
  %0 = "stablehlo.reduce"(%bx, %z) <{dimensions = array<i64: 0, 1>}> ({
  ^bb0(%a: tensor<i32>, %b: tensor<i32>):
    %s = "stablehlo.add"(%a, %b) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    "stablehlo.return"(%s) : (tensor<i32>) -> ()
  }) : (tensor<5x3xi32>, tensor<i32>) -> tensor<i32>
  func.return %0 : tensor<i32>
}

// The float max of maxima stays nested (its derivative at ties depends on the grouping,
// as the float sum of sums's value does unless fast-math).
// CHECK-LABEL: sym_name = "nested"
// CHECK:         "stablehlo.reduce"(%{{.*}}, %{{.*}}) <{dimensions = array<i64: 2>}>
// CHECK:         stablehlo.maximum
// CHECK:         "stablehlo.reduce"(%{{.*}}, %{{.*}}) <{dimensions = array<i64: 0>}>
// CHECK:         stablehlo.maximum
// CHECK:         "stablehlo.reduce"(%{{.*}}, %{{.*}}) <{dimensions = array<i64: 2>}>
// CHECK:         "stablehlo.reduce"(%{{.*}}, %{{.*}}) <{dimensions = array<i64: 0>}>
// FAST-LABEL: sym_name = "nested"
// FAST:          "stablehlo.reduce"(%{{.*}}, %{{.*}}) <{dimensions = array<i64: 2>}>
// FAST:          stablehlo.maximum
// FAST:          "stablehlo.reduce"(%{{.*}}, %{{.*}}) <{dimensions = array<i64: 0>}>
// FAST:          stablehlo.maximum
// FAST:          "stablehlo.reduce"(%{{.*}}, %{{.*}}) <{dimensions = array<i64: 0, 2>}>
// FAST:          stablehlo.add
func.func @nested(%x: tensor<3x4x5xf64>) -> (tensor<4xf64>, tensor<4xf64>) {
  %m = "stablehlo.constant"() <{value = dense<0xFFF0000000000000> : tensor<f64>}> : () -> tensor<f64>
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<f64>}> : () -> tensor<f64>
  %0 = "stablehlo.reduce"(%x, %m) <{dimensions = array<i64: 2>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %s = "stablehlo.maximum"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%s) : (tensor<f64>) -> ()
  }) : (tensor<3x4x5xf64>, tensor<f64>) -> tensor<3x4xf64>
  %1 = "stablehlo.reduce"(%0, %m) <{dimensions = array<i64: 0>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %s = "stablehlo.maximum"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%s) : (tensor<f64>) -> ()
  }) : (tensor<3x4xf64>, tensor<f64>) -> tensor<4xf64>
  %2 = "stablehlo.reduce"(%x, %z) <{dimensions = array<i64: 2>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %s = "stablehlo.add"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%s) : (tensor<f64>) -> ()
  }) : (tensor<3x4x5xf64>, tensor<f64>) -> tensor<3x4xf64>
  %3 = "stablehlo.reduce"(%2, %z) <{dimensions = array<i64: 0>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %s = "stablehlo.add"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%s) : (tensor<f64>) -> ()
  }) : (tensor<3x4xf64>, tensor<f64>) -> tensor<4xf64>
  func.return %1, %3 : tensor<4xf64>, tensor<4xf64>
}

// Zero padding inside the reduced dimensions adds nothing.
// CHECK-LABEL: sym_name = "sum_of_pad"
// CHECK-NOT:     stablehlo.pad
// CHECK:         "stablehlo.reduce"(%x, %{{.*}}) <{dimensions = array<i64: 0, 1>}>
func.func @sum_of_pad(%x: tensor<3x4xf64>) -> tensor<f64> {
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<f64>}> : () -> tensor<f64>
  %p = "stablehlo.pad"(%x, %z) <{edge_padding_high = array<i64: 2, 3>, edge_padding_low = array<i64: 1, 0>, interior_padding = array<i64: 0, 1>}> : (tensor<3x4xf64>, tensor<f64>) -> tensor<6x10xf64>
  %0 = "stablehlo.reduce"(%p, %z) <{dimensions = array<i64: 0, 1>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %s = "stablehlo.add"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%s) : (tensor<f64>) -> ()
  }) : (tensor<6x10xf64>, tensor<f64>) -> tensor<f64>
  func.return %0 : tensor<f64>
}

// max(-x) is -min(x), and the sum of -x is -sum(x).
// CHECK-LABEL: sym_name = "negate"
// CHECK:         %[[M:.*]] = "stablehlo.reduce"(%x, %{{.*}})
// CHECK:         stablehlo.minimum
// CHECK:         "stablehlo.negate"(%[[M]])
// CHECK:         %[[S:.*]] = "stablehlo.reduce"(%x, %{{.*}})
// CHECK:         stablehlo.add
// CHECK:         "stablehlo.negate"(%[[S]])
func.func @negate(%x: tensor<3x4xf64>) -> (tensor<4xf64>, tensor<4xf64>) {
  %m = "stablehlo.constant"() <{value = dense<0xFFF0000000000000> : tensor<f64>}> : () -> tensor<f64>
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<f64>}> : () -> tensor<f64>
  %n = "stablehlo.negate"(%x) : (tensor<3x4xf64>) -> tensor<3x4xf64>
  %0 = "stablehlo.reduce"(%n, %m) <{dimensions = array<i64: 0>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %s = "stablehlo.maximum"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%s) : (tensor<f64>) -> ()
  }) : (tensor<3x4xf64>, tensor<f64>) -> tensor<4xf64>
  %1 = "stablehlo.reduce"(%n, %z) <{dimensions = array<i64: 0>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %s = "stablehlo.add"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%s) : (tensor<f64>) -> ()
  }) : (tensor<3x4xf64>, tensor<f64>) -> tensor<4xf64>
  func.return %0, %1 : tensor<4xf64>, tensor<4xf64>
}

// The sum of a splat is folded when every partial sum is exact.
// CHECK-LABEL: sym_name = "splat"
// CHECK:         "stablehlo.constant"() <{value = dense<1.250000e+01> : tensor<3xf64>}>
// CHECK-NOT:     stablehlo.reduce
func.func @splat() -> tensor<3xf64> {
  %c = "stablehlo.constant"() <{value = dense<2.5> : tensor<f64>}> : () -> tensor<f64>
  %s = "stablehlo.broadcast_in_dim"(%c) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<5x3xf64>
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<f64>}> : () -> tensor<f64>
  %0 = "stablehlo.reduce"(%s, %z) <{dimensions = array<i64: 0>}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %t = "stablehlo.add"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%t) : (tensor<f64>) -> ()
  }) : (tensor<5x3xf64>, tensor<f64>) -> tensor<3xf64>
  func.return %0 : tensor<3xf64>
}
