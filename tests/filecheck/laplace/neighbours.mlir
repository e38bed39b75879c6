// RUN: zymase-opt --print-op-generic %s -p zymase-derivative | FileCheck %s

// Nearest-neighbour products, sum(tanh(x[1:] * x[:-1])), n = 1000: the slices shift x's
// diagonal (bands at offsets 1 and 0), the product's cross term between the two bands
// is known to vanish, and the sum places each band in the gradient row by padding:
// no n x n tensor is built.

func.func @f(%x: tensor<1000xf32>) -> tensor<f32> {
  %hi = "stablehlo.slice"(%x) <{start_indices = array<i64: 1>, limit_indices = array<i64: 1000>, strides = array<i64: 1>}> : (tensor<1000xf32>) -> tensor<999xf32>
  %lo = "stablehlo.slice"(%x) <{start_indices = array<i64: 0>, limit_indices = array<i64: 999>, strides = array<i64: 1>}> : (tensor<1000xf32>) -> tensor<999xf32>
  %p = "stablehlo.multiply"(%hi, %lo) : (tensor<999xf32>, tensor<999xf32>) -> tensor<999xf32>
  %t = "stablehlo.tanh"(%p) : (tensor<999xf32>) -> tensor<999xf32>
  %zero = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f32>}> : () -> tensor<f32>
  %s = "stablehlo.reduce"(%t, %zero) <{dimensions = array<i64: 0>}> ({
  ^bb0(%a: tensor<f32>, %b: tensor<f32>):
    %r = "stablehlo.add"(%a, %b) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    "stablehlo.return"(%r) : (tensor<f32>) -> ()
  }) : (tensor<999xf32>, tensor<f32>) -> tensor<f32>
  func.return %s : tensor<f32>
}

func.func @lap(%x: tensor<1000xf32>) -> (tensor<1000xf32>, tensor<f32>) {
  %g, %l = enzyme.fwdlaplace @f(%x) {activity = [enzyme_dup], ret_activity = [enzyme_dupnoneed]} : (tensor<1000xf32>) -> (tensor<1000xf32>, tensor<f32>)
  func.return %g, %l : tensor<1000xf32>, tensor<f32>
}

// CHECK-NOT:   tensor<1000x1000xf32>
// CHECK-NOT:   tensor<999x1000xf32>
// CHECK-NOT:   tensor<1000x999xf32>
// CHECK:       sym_name = "fwdlaplacef", function_type = (tensor<1000xf32>) -> (tensor<1000xf32>, tensor<f32>)
// CHECK-NOT:   tensor<1000x1000xf32>
// CHECK-NOT:   tensor<999x1000xf32>
// CHECK-NOT:   tensor<1000x999xf32>
// CHECK:       "stablehlo.pad"({{.*}}) <{edge_padding_low = array<i64: 1>, edge_padding_high = array<i64: 0>, interior_padding = array<i64: 0>}> : (tensor<999xf32>, tensor<f32>) -> tensor<1000xf32>
// CHECK-NOT:   tensor<1000x1000xf32>
// CHECK-NOT:   tensor<999x1000xf32>
// CHECK-NOT:   tensor<1000x999xf32>
// CHECK:       "func.return"({{.*}}) : (tensor<1000xf32>, tensor<f32>) -> ()
