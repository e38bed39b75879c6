// RUN: zymase-opt -p zymase-hlo-opt,cse,dce %s | FileCheck %s

// A select under a comparison of an iota with a constant takes slices of its branches.
// CHECK-LABEL: func.func @select_iota_lt
// CHECK-NEXT:    %[[A:.+]] = stablehlo.slice %arg0 [0:5]
// CHECK-NEXT:    %[[B:.+]] = stablehlo.slice %arg1 [5:20]
// CHECK-NEXT:    %[[C:.+]] = stablehlo.concatenate %[[A]], %[[B]], dim = 0
// CHECK-NEXT:    return %[[C]]
func.func @select_iota_lt(%arg0: tensor<20xi64>, %arg1: tensor<20xi64>) -> tensor<20xi64> {
  %0 = stablehlo.iota dim = 0 : tensor<20xi64>
  %c = stablehlo.constant dense<5> : tensor<20xi64>
  %1 = stablehlo.compare LT, %0, %c : (tensor<20xi64>, tensor<20xi64>) -> tensor<20xi1>
  %2 = stablehlo.select %1, %arg0, %arg1 : tensor<20xi1>, tensor<20xi64>
  return %2 : tensor<20xi64>
}

// EQ at one index: three runs along the iota's dimension (here dimension 1 of 2x5).
// CHECK-LABEL: func.func @select_iota_eq
// CHECK-NEXT:    %[[A:.+]] = stablehlo.slice %arg1 [0:2, 0:3]
// CHECK-NEXT:    %[[B:.+]] = stablehlo.slice %arg0 [0:2, 3:4]
// CHECK-NEXT:    %[[C:.+]] = stablehlo.slice %arg1 [0:2, 4:5]
// CHECK-NEXT:    %[[D:.+]] = stablehlo.concatenate %[[A]], %[[B]], %[[C]], dim = 1
// CHECK-NEXT:    return %[[D]]
func.func @select_iota_eq(%arg0: tensor<2x5xf32>, %arg1: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = stablehlo.iota dim = 1 : tensor<2x5xi32>
  %c = stablehlo.constant dense<3> : tensor<2x5xi32>
  %1 = stablehlo.compare EQ, %c, %0 : (tensor<2x5xi32>, tensor<2x5xi32>) -> tensor<2x5xi1>
  %2 = stablehlo.select %1, %arg0, %arg1 : tensor<2x5xi1>, tensor<2x5xf32>
  return %2 : tensor<2x5xf32>
}

// The iota's range decides comparisons, max, min and clamp; the results are splats.
// CHECK-LABEL: func.func @decided
// CHECK-DAG:     %[[T:.+]] = stablehlo.constant dense<true> : tensor<4xi1>
// CHECK-DAG:     %[[I:.+]] = stablehlo.iota dim = 0 : tensor<4xi64>
// CHECK-DAG:     %[[C:.+]] = stablehlo.constant dense<5> : tensor<4xi64>
// CHECK-NOT:     stablehlo.compare
// CHECK-NOT:     stablehlo.maximum
// CHECK-NOT:     stablehlo.clamp
// CHECK:         return %[[T]], %[[I]], %[[C]], %[[I]]
func.func @decided() -> (tensor<4xi1>, tensor<4xi64>, tensor<4xi64>, tensor<4xi64>) {
  %iota = stablehlo.iota dim = 0 : tensor<4xi64>
  %m1 = stablehlo.constant dense<-1> : tensor<4xi64>
  %c5 = stablehlo.constant dense<5> : tensor<4xi64>
  %0 = stablehlo.compare GT, %iota, %m1 : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  %1 = stablehlo.maximum %iota, %m1 : tensor<4xi64>
  %2 = stablehlo.maximum %iota, %c5 : tensor<4xi64>
  %3 = stablehlo.clamp %m1, %iota, %c5 : tensor<4xi64>
  return %0, %1, %2, %3 : tensor<4xi1>, tensor<4xi64>, tensor<4xi64>, tensor<4xi64>
}

// abs(x) of a float is NaN or >= +0: abs(x) < -1 is false, but abs(x) >= -1 stays (NaN).
// CHECK-LABEL: func.func @abs_range
// CHECK-DAG:     stablehlo.constant dense<false> : tensor<4xi1>
// CHECK-DAG:     stablehlo.compare GE
func.func @abs_range(%x: tensor<4xf32>) -> (tensor<4xi1>, tensor<4xi1>) {
  %c = stablehlo.constant dense<-1.0> : tensor<4xf32>
  %a = stablehlo.abs %x : tensor<4xf32>
  %0 = stablehlo.compare LT, %a, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  %1 = stablehlo.compare GE, %a, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  return %0, %1 : tensor<4xi1>, tensor<4xi1>
}

// An integer converted to float and compared with a constant: compared as an integer.
// CHECK-LABEL: func.func @compare_convert
// CHECK-NEXT:    %[[Z:.+]] = stablehlo.constant dense<0> : tensor<8xi64>
// CHECK-NEXT:    %[[P:.+]] = stablehlo.compare GT, %arg0, %[[Z]], SIGNED
// CHECK-NEXT:    return %[[P]]
func.func @compare_convert(%arg0: tensor<8xi64>) -> tensor<8xi1> {
  %c = stablehlo.constant dense<0.0> : tensor<8xf64>
  %0 = stablehlo.convert %arg0 : (tensor<8xi64>) -> tensor<8xf64>
  %1 = stablehlo.compare LT, %c, %0, FLOAT : (tensor<8xf64>, tensor<8xf64>) -> tensor<8xi1>
  return %1 : tensor<8xi1>
}

// Folded splats stay one splat constant, stored as one element.
// CHECK-LABEL: func.func @splat_fold
// CHECK-NEXT:    %[[C:.+]] = stablehlo.constant dense<5.000000e+00> : tensor<1000x1000xf32>
// CHECK-NEXT:    %[[M:.+]] = stablehlo.multiply %arg0, %[[C]]
// CHECK-NEXT:    return %[[M]]
func.func @splat_fold(%arg0: tensor<1000x1000xf32>) -> tensor<1000x1000xf32> {
  %a = stablehlo.constant dense<2.0> : tensor<f32>
  %b = stablehlo.constant dense<3.0> : tensor<1000x1000xf32>
  %ba = stablehlo.broadcast_in_dim %a, dims = [] : (tensor<f32>) -> tensor<1000x1000xf32>
  %s = stablehlo.add %ba, %b : tensor<1000x1000xf32>
  %r = stablehlo.multiply %arg0, %s : tensor<1000x1000xf32>
  return %r : tensor<1000x1000xf32>
}
