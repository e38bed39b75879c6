// The seed's first two identities through the optimizer: x + 0 -> x, transpose(transpose(x)) -> x.
// RUN: zymase-opt --print-op-generic -p zymase-hlo-opt %s | FileCheck %s
func.func @main(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %c = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f32>}> : () -> tensor<f32>
  %z = "stablehlo.broadcast_in_dim"(%c) <{broadcast_dimensions = array<i64>}> : (tensor<f32>) -> tensor<4x3xf32>
  %a = "stablehlo.add"(%x, %z) : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  func.return %a : tensor<4x3xf32>
}
// CHECK: ^bb0(%[[X:.*]]: tensor<4x3xf32>):
// CHECK-NEXT: "func.return"(%[[X]])
