// RUN: zymase-opt --print-op-generic %s -p zymase-derivative | FileCheck %s

// The first layer of an MLP, tanh(x @ W): x's gradient is the identity (diagonal), so
// the gradient of x @ W is W itself (no d x d x width product), and the gradient of the
// tanh is W scaled by tanh' along the width. The Laplacian of the tanh is
// tanh'' * sum_k W[k]^2 (the linear layer has none).

func.func @f(%x: tensor<3xf32>, %w: tensor<3x5xf32>) -> tensor<5xf32> {
  %z = "stablehlo.dot_general"(%x, %w) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>}> : (tensor<3xf32>, tensor<3x5xf32>) -> tensor<5xf32>
  %h = "stablehlo.tanh"(%z) : (tensor<5xf32>) -> tensor<5xf32>
  func.return %h : tensor<5xf32>
}

func.func @lap(%x: tensor<3xf32>, %w: tensor<3x5xf32>) -> (tensor<5xf32>, tensor<3x5xf32>, tensor<5xf32>) {
  %h, %g, %l = enzyme.fwdlaplace @f(%x, %w) {activity = [enzyme_dup, enzyme_const], ret_activity = [enzyme_dup]} : (tensor<3xf32>, tensor<3x5xf32>) -> (tensor<5xf32>, tensor<3x5xf32>, tensor<5xf32>)
  func.return %h, %g, %l : tensor<5xf32>, tensor<3x5xf32>, tensor<5xf32>
}

// CHECK:       sym_name = "fwdlaplacef", function_type = (tensor<3xf32>, tensor<3x5xf32>) -> (tensor<5xf32>, tensor<3x5xf32>, tensor<5xf32>)
// CHECK-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: tensor<3xf32>, %[[W:[^ ,:)#]+]]: tensor<3x5xf32>):
// CHECK-NOT:     tensor<3x3
// CHECK:         %[[Z:[^ ]+]] = "stablehlo.dot_general"(%[[X]], %[[W]])
// CHECK-NEXT:    %[[H:[^ ]+]] = "stablehlo.tanh"(%[[Z]])
// CHECK-NOT:     "stablehlo.dot_general"
// CHECK:         %[[PB:[^ ]+]] = "stablehlo.broadcast_in_dim"(%[[P:[^ ]+]]) <{broadcast_dimensions = array<i64: 1>}> : (tensor<5xf32>) -> tensor<3x5xf32>
// CHECK-NEXT:    %[[G:[^ ]+]] = "stablehlo.multiply"(%[[W]], %[[PB]]) : (tensor<3x5xf32>, tensor<3x5xf32>) -> tensor<3x5xf32>
// CHECK-NEXT:    %[[W2:[^ ]+]] = "stablehlo.multiply"(%[[W]], %[[W]])
// CHECK:         %[[S:[^ ]+]] = "stablehlo.reduce"(%[[W2]], %{{.*}}) <{dimensions = array<i64: 0>}>
// CHECK:         %[[L:[^ ]+]] = "stablehlo.multiply"(%{{.*}}, %[[S]]) : (tensor<5xf32>, tensor<5xf32>) -> tensor<5xf32>
// CHECK-NEXT:    "func.return"(%[[H]], %[[G]], %[[L]]) : (tensor<5xf32>, tensor<3x5xf32>, tensor<5xf32>) -> ()
