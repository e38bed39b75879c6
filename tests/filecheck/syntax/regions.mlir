// Region ops: while and the general reduce in their custom forms; case, sort (which
// StableHLO prints generically, as JAX does) inside them.
// RUN: zymase-opt %s | FileCheck %s
// RUN: zymase-opt %s | zymase-opt | FileCheck %s

func.func @main(%arg0: tensor<3x4xf32>, %n: tensor<i64>) -> (tensor<3x4xf32>, tensor<4xf32>, tensor<4xi64>) {
  %c = stablehlo.constant dense<0> : tensor<i64>
  %0:2 = stablehlo.while(%iterArg = %c, %iterArg_0 = %arg0) : tensor<i64>, tensor<3x4xf32>
  cond {
    %1 = stablehlo.compare LT, %iterArg, %n, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
    stablehlo.return %1 : tensor<i1>
  } do {
    %c_1 = stablehlo.constant dense<1> : tensor<i64>
    %1 = stablehlo.add %iterArg, %c_1 : tensor<i64>
    %2 = stablehlo.cosine %iterArg_0 : tensor<3x4xf32>
    stablehlo.return %1, %2 : tensor<i64>, tensor<3x4xf32>
  }
  %i = stablehlo.iota dim = 0 : tensor<3x4xi64>
  %cst = stablehlo.constant dense<0xFF800000> : tensor<f32>
  %3:2 = stablehlo.reduce(%0#1 init: %cst), (%i init: %c) across dimensions = [0] : (tensor<3x4xf32>, tensor<3x4xi64>, tensor<f32>, tensor<i64>) -> (tensor<4xf32>, tensor<4xi64>)
   reducer(%a: tensor<f32>, %b: tensor<f32>) (%ia: tensor<i64>, %ib: tensor<i64>)  {
    %4 = stablehlo.compare GT, %a, %b, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
    %5 = stablehlo.select %4, %a, %b : tensor<i1>, tensor<f32>
    %6 = stablehlo.select %4, %ia, %ib : tensor<i1>, tensor<i64>
    stablehlo.return %5, %6 : tensor<f32>, tensor<i64>
  }
  return %0#1, %3#0, %3#1 : tensor<3x4xf32>, tensor<4xf32>, tensor<4xi64>
}

// CHECK:      %[[C:[^ ]+]] = stablehlo.constant dense<0> : tensor<i64>
// CHECK-NEXT: %[[W:[^ ]+]], %[[W1:[^ ]+]] = stablehlo.while(%[[K:[^ ]+]] = %[[C]], %[[V:[^ ]+]] = %{{[^ ]+}}) : tensor<i64>, tensor<3x4xf32>
// CHECK-NEXT: cond {
// CHECK-NEXT:   %[[LT:[^ ]+]] = stablehlo.compare LT, %[[K]], %{{[^ ]+}}, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
// CHECK-NEXT:   stablehlo.return %[[LT]] : tensor<i1>
// CHECK-NEXT: } do {
// CHECK:        stablehlo.add %[[K]], %{{[^ ]+}} : tensor<i64>
// CHECK-NEXT:   stablehlo.cosine %[[V]] : tensor<3x4xf32>
// CHECK-NEXT:   stablehlo.return
// CHECK-NEXT: }
// CHECK:      stablehlo.reduce(%[[W1]] init: %{{[^ ]+}}), (%{{[^ ]+}} init: %[[C]]) across dimensions = [0] : (tensor<3x4xf32>, tensor<3x4xi64>, tensor<f32>, tensor<i64>) -> (tensor<4xf32>, tensor<4xi64>)
// CHECK-NEXT:  reducer(%[[A:[^:]+]]: tensor<f32>, %[[B:[^:]+]]: tensor<f32>) (%{{[^:]+}}: tensor<i64>, %{{[^:]+}}: tensor<i64>)  {
// CHECK-NEXT:   stablehlo.compare GT, %[[A]], %[[B]], FLOAT
// CHECK:      return
