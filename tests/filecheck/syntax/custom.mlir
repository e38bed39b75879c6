// StableHLO's custom syntax in, custom syntax out (and the generic form on request).
// RUN: zymase-opt %s | FileCheck %s
// RUN: zymase-opt %s | zymase-opt | FileCheck %s
// RUN: zymase-opt %s --print-op-generic | FileCheck --check-prefix=GENERIC %s

module @jit_f attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<3x4xf32>, %arg1: tensor<4xi32>) -> (tensor<4x3xf32> {jax.result_info = "result"}) {
    %cst = stablehlo.constant dense<1.000000e+00> : tensor<f32>
    %0 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<3x4xf32>
    %1 = stablehlo.add %arg0, %0 : tensor<3x4xf32>
    %2 = stablehlo.transpose %1, dims = [1, 0] : (tensor<3x4xf32>) -> tensor<4x3xf32>
    %3 = stablehlo.slice %2 [0:4, 0:3:2] : (tensor<4x3xf32>) -> tensor<4x2xf32>
    %4 = stablehlo.dot_general %arg0, %2, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<3x4xf32>, tensor<4x3xf32>) -> tensor<3x3xf32>
    %5 = stablehlo.compare GT, %arg0, %0, FLOAT : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xi1>
    %6 = stablehlo.iota dim = 0 : tensor<4xi32>
    %7 = stablehlo.convert %arg1 : (tensor<4xi32>) -> tensor<4xf32>
    %8 = stablehlo.reduce(%arg0 init: %cst) applies stablehlo.add across dimensions = [0] : (tensor<3x4xf32>, tensor<f32>) -> tensor<4xf32>
    %9 = stablehlo.custom_call @my_target(%arg0) {has_side_effect = true} : (tensor<3x4xf32>) -> tensor<3x4xf32>
    %10 = stablehlo.select %5, %arg0, %9 : tensor<3x4xi1>, tensor<3x4xf32>
    %cst_0 = stablehlo.constant dense<0x7FC00000> : tensor<f32>
    %cst_1 = stablehlo.constant dense<9.99999974E-6> : tensor<f32>
    return %2 : tensor<4x3xf32>
  }
}

// CHECK:      module @jit_f attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
// CHECK-NEXT:   func.func public @main(%[[X:[^:]+]]: tensor<3x4xf32>, %[[I:[^:]+]]: tensor<4xi32>) -> (tensor<4x3xf32> {jax.result_info = "result"}) {
// CHECK-NEXT:     %[[C:[^ ]+]] = stablehlo.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:     %[[B:[^ ]+]] = stablehlo.broadcast_in_dim %[[C]], dims = [] : (tensor<f32>) -> tensor<3x4xf32>
// CHECK-NEXT:     %[[A:[^ ]+]] = stablehlo.add %[[X]], %[[B]] : tensor<3x4xf32>
// CHECK-NEXT:     %[[T:[^ ]+]] = stablehlo.transpose %[[A]], dims = [1, 0] : (tensor<3x4xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:     stablehlo.slice %[[T]] [0:4, 0:3:2] : (tensor<4x3xf32>) -> tensor<4x2xf32>
// CHECK-NEXT:     stablehlo.dot_general %[[X]], %[[T]], contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<3x4xf32>, tensor<4x3xf32>) -> tensor<3x3xf32>
// CHECK-NEXT:     %[[P:[^ ]+]] = stablehlo.compare GT, %[[X]], %[[B]], FLOAT : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xi1>
// CHECK-NEXT:     stablehlo.iota dim = 0 : tensor<4xi32>
// CHECK-NEXT:     stablehlo.convert %[[I]] : (tensor<4xi32>) -> tensor<4xf32>
// CHECK-NEXT:     stablehlo.reduce(%[[X]] init: %[[C]]) applies stablehlo.add across dimensions = [0] : (tensor<3x4xf32>, tensor<f32>) -> tensor<4xf32>
// CHECK-NEXT:     %[[K:[^ ]+]] = stablehlo.custom_call @my_target(%[[X]]) {has_side_effect = true} : (tensor<3x4xf32>) -> tensor<3x4xf32>
// CHECK-NEXT:     stablehlo.select %[[P]], %[[X]], %[[K]] : tensor<3x4xi1>, tensor<3x4xf32>
// CHECK-NEXT:     stablehlo.constant dense<0x7FC00000> : tensor<f32>
// CHECK-NEXT:     stablehlo.constant dense<9.99999974E-6> : tensor<f32>
// CHECK-NEXT:     return %[[T]] : tensor<4x3xf32>
// CHECK-NEXT:   }
// CHECK-NEXT: }

// GENERIC:      "builtin.module"() <{sym_name = "jit_f"}> ({
// GENERIC:        %{{.*}} = "stablehlo.broadcast_in_dim"(%{{.*}}) <{broadcast_dimensions = array<i64>}> : (tensor<f32>) -> tensor<3x4xf32>
// GENERIC:        "stablehlo.slice"(%{{.*}}) <{start_indices = array<i64: 0, 0>, limit_indices = array<i64: 4, 3>, strides = array<i64: 1, 2>}>
// GENERIC:        "stablehlo.dot_general"(%{{.*}}, %{{.*}}) <{{.*}}dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>
// GENERIC:        "func.return"
