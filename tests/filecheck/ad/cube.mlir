// RUN: zymase-opt %s -p enzyme,cse,dce | FileCheck %s
// RUN: zymase-opt %s -p enzyme --run grad_cube --args -2.0 0.5 --run grad_cube --args inf 0.0 --run grad_cube_strong --args inf 0.0 --run grad_cube_and_square --args 0.5 2.0 --run jac_cube --args -2.0 | FileCheck --check-prefix=VAL %s

// The reverse of a cube (x * x) * x, as jax lowers x ** 3: x's cotangent is
// ct * (3 * x^2) with the square the cube already computed, as jax's rule of x ** 3
// gives it; the product rule through the square (ct * x * x twice more and two adds)
// is not generated. The square's other uses still send their cotangents through it.

func.func @cube(%x: tensor<2xf32>) -> tensor<2xf32> {
  %sq = stablehlo.multiply %x, %x : tensor<2xf32>
  %c = stablehlo.multiply %sq, %x : tensor<2xf32>
  func.return %c : tensor<2xf32>
}

// x * (x * x), and the square used again: sin(x * x).
func.func @cube_and_square(%x: tensor<2xf32>) -> tensor<2xf32> {
  %sq = stablehlo.multiply %x, %x : tensor<2xf32>
  %c = stablehlo.multiply %x, %sq : tensor<2xf32>
  %s = stablehlo.sine %sq : tensor<2xf32>
  %r = stablehlo.add %c, %s : tensor<2xf32>
  func.return %r : tensor<2xf32>
}

func.func @grad_cube(%x: tensor<2xf32>, %ct: tensor<2xf32>) -> tensor<2xf32> {
  %d = enzyme.autodiff @cube(%x, %ct) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  func.return %d : tensor<2xf32>
}

func.func @grad_cube_and_square(%x: tensor<2xf32>, %ct: tensor<2xf32>) -> tensor<2xf32> {
  %d = enzyme.autodiff @cube_and_square(%x, %ct) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  func.return %d : tensor<2xf32>
}

func.func @grad_cube_strong(%x: tensor<2xf32>, %ct: tensor<2xf32>) -> tensor<2xf32> {
  %d = enzyme.autodiff @cube(%x, %ct) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>], strong_zero = true} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  func.return %d : tensor<2xf32>
}

// Width 2 (two cotangents at once, a Jacobian): the same, the factor broadcast along them.
func.func @jac_cube(%x: tensor<2xf32>) -> tensor<2x2xf32> {
  %eye = stablehlo.constant dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>
  %g = enzyme.autodiff @cube(%x, %eye) {activity = [#enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>], width = 2} : (tensor<2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  func.return %g : tensor<2x2xf32>
}

// CHECK-LABEL: func.func private @diffecube(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2xf32>, %[[CT:[^:]+]]: tensor<2xf32>)
// CHECK-NEXT:    %[[SQ:.+]] = stablehlo.multiply %[[X]], %[[X]]
// CHECK-NEXT:    %[[THREE:.+]] = stablehlo.constant dense<3.0{{.*}}> : tensor<2xf32>
// CHECK-NEXT:    %[[S3:.+]] = stablehlo.multiply %[[SQ]], %[[THREE]]
// CHECK-NEXT:    %[[DX:.+]] = stablehlo.multiply %[[CT]], %[[S3]]
// CHECK-NEXT:    return %[[DX]]

// The square's cotangent comes from sin only (cos(x^2) * ct), then 2 x of it; the cube
// adds 3 x^2 ct to x directly.
// CHECK-LABEL: func.func private @diffecube_and_square(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2xf32>, %[[CT:[^:]+]]: tensor<2xf32>)
// CHECK-NEXT:    %[[SQ:.+]] = stablehlo.multiply %[[X]], %[[X]]
// CHECK-NEXT:    %[[COS:.+]] = stablehlo.cosine %[[SQ]]
// CHECK-NEXT:    %[[DSQ:.+]] = stablehlo.multiply %[[COS]], %[[CT]]
// CHECK-NEXT:    %[[THREE:.+]] = stablehlo.constant dense<3.0{{.*}}> : tensor<2xf32>
// CHECK-NEXT:    %[[S3:.+]] = stablehlo.multiply %[[SQ]], %[[THREE]]
// CHECK-NEXT:    %[[DC:.+]] = stablehlo.multiply %[[CT]], %[[S3]]
// CHECK-NEXT:    %[[A:.+]] = stablehlo.multiply %[[DSQ]], %[[X]]
// CHECK-NEXT:    %[[S1:.+]] = stablehlo.add %[[DC]], %[[A]]
// CHECK-NEXT:    %[[B:.+]] = stablehlo.multiply %[[X]], %[[DSQ]]
// CHECK-NEXT:    %[[S2:.+]] = stablehlo.add %[[S1]], %[[B]]
// CHECK-NEXT:    return %[[S2]]

// CHECK-LABEL: func.func private @diffe2cube(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2xf32>, %[[CT:[^:]+]]: tensor<2x2xf32>)
// CHECK-NEXT:    %[[SQ:.+]] = stablehlo.multiply %[[X]], %[[X]]
// CHECK-NEXT:    %[[THREE:.+]] = stablehlo.constant dense<3.0{{.*}}> : tensor<2xf32>
// CHECK-NEXT:    %[[S3:.+]] = stablehlo.multiply %[[SQ]], %[[THREE]]
// CHECK-NEXT:    %[[B:.+]] = stablehlo.broadcast_in_dim %[[S3]], dims = [1] : (tensor<2xf32>) -> tensor<2x2xf32>
// CHECK-NEXT:    %[[DX:.+]] = stablehlo.multiply %[[CT]], %[[B]]
// CHECK-NEXT:    return %[[DX]]

// x = -2, ct = 0.5: 3 x^2 ct = 6. x = inf, ct = 0: nan, as jax's 0 * (3 * inf^2); under
// strong_zero 0. x = 0.5, ct = 2: 3 x^2 ct + cos(x^2) 2 x ct = 1.5 + 1.9378248.
// VAL:      @grad_cube(-2.0, 0.5)
// VAL-NEXT: array([6., 6.], dtype=float32)
// VAL:      @grad_cube(inf, 0.0)
// VAL-NEXT: array([nan, nan], dtype=float32)
// VAL:      @grad_cube_strong(inf, 0.0)
// VAL-NEXT: array([0., 0.], dtype=float32)
// VAL:      @grad_cube_and_square(0.5, 2.0)
// VAL-NEXT: array([3.43782{{[0-9]*}}, 3.43782{{[0-9]*}}], dtype=float32)
// x = -2: the Jacobian diag(3 x^2) = diag(12).
// VAL:      @jac_cube(-2.0)
// VAL-NEXT: array({{\[}}[12.,  0.],
// VAL-NEXT:        [ 0., 12.]], dtype=float32)
