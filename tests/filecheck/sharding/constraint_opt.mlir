// RUN: zymase-opt %s -p zymase-hlo-opt,cse,dce | FileCheck %s
// The rewrite rules leave sharding constraints where they are: transpose(transpose(x))
// and reshape(reshape(x)) do not fold across a constraint between them (it constrains the
// layout of the transposed / reshaped value), negate(negate(x)) around one does not
// either, and CSE keeps two different constraints of one value apart.

sdy.mesh @mesh = <["data"=4, "model"=2]>
func.func @main(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<32xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %t = stablehlo.transpose %x, dims = [1, 0] : (tensor<4x8xf32>) -> tensor<8x4xf32>
  %c = sdy.sharding_constraint %t <@mesh, [{"data"}, {}]> : tensor<8x4xf32>
  %u = stablehlo.transpose %c, dims = [1, 0] : (tensor<8x4xf32>) -> tensor<4x8xf32>
  %r = stablehlo.reshape %x : (tensor<4x8xf32>) -> tensor<8x4xf32>
  %rc = sdy.sharding_constraint %r <@mesh, [{}, {"model"}]> : tensor<8x4xf32>
  %rr = stablehlo.reshape %rc : (tensor<8x4xf32>) -> tensor<32xf32>
  %n = stablehlo.negate %x : tensor<4x8xf32>
  %nc = sdy.sharding_constraint %n <@mesh, [{"data"}, {"model"}]> : tensor<4x8xf32>
  %nn = stablehlo.negate %nc : tensor<4x8xf32>
  %a = sdy.sharding_constraint %x <@mesh, [{"data"}, {}]> : tensor<4x8xf32>
  %b = sdy.sharding_constraint %x <@mesh, [{}, {"model"}]> : tensor<4x8xf32>
  %ab = stablehlo.add %a, %b : tensor<4x8xf32>
  func.return %u, %rr, %nn, %ab : tensor<4x8xf32>, tensor<32xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// CHECK-LABEL: func.func @main
// CHECK: %[[T:.*]] = stablehlo.transpose %x, dims = [1, 0]
// CHECK: %[[C:.*]] = sdy.sharding_constraint %[[T]] <@mesh, [{"data"}, {}]>
// CHECK: stablehlo.transpose %[[C]], dims = [1, 0]
// CHECK: %[[R:.*]] = stablehlo.reshape %x : (tensor<4x8xf32>) -> tensor<8x4xf32>
// CHECK: %[[RC:.*]] = sdy.sharding_constraint %[[R]] <@mesh, [{}, {"model"}]>
// CHECK: stablehlo.reshape %[[RC]] : (tensor<8x4xf32>) -> tensor<32xf32>
// CHECK: %[[N:.*]] = stablehlo.negate %x
// CHECK: %[[NC:.*]] = sdy.sharding_constraint %[[N]] <@mesh, [{"data"}, {"model"}]>
// CHECK: stablehlo.negate %[[NC]]
// CHECK-DAG: sdy.sharding_constraint %x <@mesh, [{"data"}, {}]>
// CHECK-DAG: sdy.sharding_constraint %x <@mesh, [{}, {"model"}]>
