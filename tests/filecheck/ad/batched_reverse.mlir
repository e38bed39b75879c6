// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce | FileCheck %s
// RUN: zymase-opt %s -p enzyme --run jac --args 0.5 | FileCheck --check-prefix=NUM %s

// Batched reverse mode: enzyme.autodiff with width = 2 takes two seeds per active result
// and returns two gradients per active argument, stacked in a leading dimension
// (Enzyme's convention); the generated diffe2f carries every adjoint that way, and the
// rules see the batched program (no loop over the cotangents).

func.func @f(%x: tensor<2xf64>) -> tensor<2xf64> {
  %sq = stablehlo.multiply %x, %x : tensor<2xf64>
  %s = stablehlo.sine %sq : tensor<2xf64>
  %r = stablehlo.reverse %x, dims = [0] : tensor<2xf64>
  %y = stablehlo.multiply %s, %r : tensor<2xf64>
  func.return %y : tensor<2xf64>
}

func.func @jac(%x: tensor<2xf64>) -> tensor<2x2xf64> {
  %eye = stablehlo.constant dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf64>
  %g = enzyme.autodiff @f(%x, %eye) {activity = [enzyme_active], ret_activity = [enzyme_activenoneed], width = 2} : (tensor<2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
  func.return %g : tensor<2x2xf64>
}

// CHECK-LABEL: sym_name = "jac"
// CHECK:         "func.call"({{.*}}) <{callee = @diffe2f}> : (tensor<2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
// CHECK-NOT:   enzyme.autodiff
// CHECK-LABEL: sym_name = "diffe2f"
// CHECK-SAME:    function_type = (tensor<2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
// CHECK-NOT:     stablehlo.while
// CHECK:         "stablehlo.reverse"({{.*}}) <{dimensions = array<i64: 1>}> : (tensor<2x2xf64>) -> tensor<2x2xf64>

// J = d/dx [sin(x0^2) x1, sin(x1^2) x0] at x = (0.5, 0.5): row k is the gradient of y_k,
// 2 x^2 cos(x^2) = 0.4845 on the diagonal, sin(x^2) = 0.2474 off it.
// NUM: {{\[\[}}0.4844{{[0-9]*}}, 0.2474{{[0-9]*}}],
// NUM-NEXT: {{\[}}0.2474{{[0-9]*}}, 0.4844{{[0-9]*}}]]
