// RUN: zymase-opt --print-op-generic %s -p zymase-derivative | FileCheck %s

// The forward-Laplacian mode on sum(a * x * x), n = 4000: x's gradient is the identity,
// kept as its diagonal (a vector of ones); the multiplies keep it diagonal and the sum
// turns it into the dense gradient row, a vector. After optimization no n x n tensor
// is left: the Laplacian is 2 * sum(a) computed in O(n).

func.func @f(%x: tensor<4000xf32>, %a: tensor<4000xf32>) -> tensor<f32> {
  %ax = "stablehlo.multiply"(%a, %x) : (tensor<4000xf32>, tensor<4000xf32>) -> tensor<4000xf32>
  %axx = "stablehlo.multiply"(%ax, %x) : (tensor<4000xf32>, tensor<4000xf32>) -> tensor<4000xf32>
  %zero = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f32>}> : () -> tensor<f32>
  %s = "stablehlo.reduce"(%axx, %zero) <{dimensions = array<i64: 0>}> ({
  ^bb0(%p: tensor<f32>, %q: tensor<f32>):
    %r = "stablehlo.add"(%p, %q) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    "stablehlo.return"(%r) : (tensor<f32>) -> ()
  }) : (tensor<4000xf32>, tensor<f32>) -> tensor<f32>
  func.return %s : tensor<f32>
}

func.func @lap(%x: tensor<4000xf32>, %a: tensor<4000xf32>) -> (tensor<4000xf32>, tensor<f32>) {
  %g, %l = enzyme.fwdlaplace @f(%x, %a) {activity = [enzyme_dup, enzyme_const], ret_activity = [enzyme_dupnoneed]} : (tensor<4000xf32>, tensor<4000xf32>) -> (tensor<4000xf32>, tensor<f32>)
  func.return %g, %l : tensor<4000xf32>, tensor<f32>
}

// CHECK-NOT:   tensor<4000x4000xf32>
// CHECK-LABEL: sym_name = "lap"
// CHECK:         "func.call"(%{{.*}}, %{{.*}}) <{callee = @[[FN:[^ ]+]]}> : (tensor<4000xf32>, tensor<4000xf32>) -> (tensor<4000xf32>, tensor<f32>)
// CHECK-NOT:   tensor<4000x4000xf32>
// CHECK:       sym_name = "[[FN]]", function_type = (tensor<4000xf32>, tensor<4000xf32>) -> (tensor<4000xf32>, tensor<f32>)
// CHECK-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: tensor<4000xf32>, %[[A:[^ ,:)#]+]]: tensor<4000xf32>):
// CHECK-NOT:   tensor<4000x4000xf32>
// CHECK:         %[[AX:[^ ]+]] = "stablehlo.multiply"(%[[A]], %[[X]])
// CHECK-NOT:   tensor<4000x4000xf32>
// CHECK:         "stablehlo.reduce"
// CHECK-NOT:   tensor<4000x4000xf32>
// CHECK:         "func.return"({{.*}}) : (tensor<4000xf32>, tensor<f32>) -> ()
// CHECK-NOT:   tensor<4000x4000xf32>
