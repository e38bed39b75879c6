// enzyme.batch: parsed in both attribute forms, printed with an attribute dictionary;
// `-p enzyme-batch` replaces it by a call of batched_<fn>, a stablehlo.while over the
// flattened batch calling the function once per element.
// RUN: zymase-opt %s | FileCheck %s --check-prefix=PRINT
// RUN: zymase-opt -p enzyme-batch %s | FileCheck %s

func.func @square(%x: tensor<3xf64>) -> tensor<3xf64> {
  %y = math.sin %x : tensor<3xf64>
  return %y : tensor<3xf64>
}

// PRINT: %r = enzyme.batch @square(%x) {batch_shape = array<i64: 10, 2>} : (tensor<10x2x3xf64>) -> tensor<10x2x3xf64>
// PRINT: %r = enzyme.batch @square(%x) {batch_shape = array<i64: 4>} : (tensor<4x3xf64>) -> tensor<4x3xf64>

// CHECK-LABEL: func.func @dsq(
// CHECK-NEXT: %r = call @batched_square(%x) : (tensor<10x2x3xf64>) -> tensor<10x2x3xf64>
func.func @dsq(%x: tensor<10x2x3xf64>) -> tensor<10x2x3xf64> {
  %r = enzyme.batch @square(%x) {batch_shape = array<i64: 10, 2>} : (tensor<10x2x3xf64>) -> tensor<10x2x3xf64>
  return %r : tensor<10x2x3xf64>
}

// CHECK-LABEL: func.func @dsq4(
// CHECK-NEXT: %r = call @batched_square_1(%x) : (tensor<4x3xf64>) -> tensor<4x3xf64>
func.func @dsq4(%x: tensor<4x3xf64>) -> tensor<4x3xf64> {
  %r = enzyme.batch @square(%x) <{batch_shape = array<i64: 4>}> : (tensor<4x3xf64>) -> tensor<4x3xf64>
  return %r : tensor<4x3xf64>
}

// CHECK-LABEL: func.func private @batched_square(
// CHECK: stablehlo.reshape %{{.*}} : (tensor<10x2x3xf64>) -> tensor<20x3xf64>
// CHECK: stablehlo.while
// CHECK: stablehlo.constant dense<20> : tensor<i32>
// CHECK: stablehlo.dynamic_slice %{{.*}}, sizes = [1, 3] : (tensor<20x3xf64>, tensor<i32>, tensor<i32>) -> tensor<1x3xf64>
// CHECK: func.call @square(%{{.*}}) : (tensor<3xf64>) -> tensor<3xf64>
// CHECK: stablehlo.dynamic_update_slice
// CHECK: stablehlo.reshape %{{.*}} : (tensor<20x3xf64>) -> tensor<10x2x3xf64>
