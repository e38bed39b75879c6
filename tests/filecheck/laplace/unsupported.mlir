// RUN: not zymase-opt %s -p enzyme 2>&1 | FileCheck %s

// An op the forward-Laplacian mode has no rule for is refused on one line naming it.

func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
  %s = "stablehlo.sort"(%x) <{dimension = 0 : i64, is_stable = false}> ({
  ^bb0(%a: tensor<f32>, %b: tensor<f32>):
    %c = "stablehlo.compare"(%a, %b) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<f32>, tensor<f32>) -> tensor<i1>
    "stablehlo.return"(%c) : (tensor<i1>) -> ()
  }) : (tensor<3xf32>) -> tensor<3xf32>
  func.return %s : tensor<3xf32>
}

func.func @lap(%x: tensor<3xf32>) -> (tensor<3x3xf32>, tensor<3xf32>) {
  %g, %l = enzyme.fwdlaplace @f(%x) {activity = [enzyme_dup], ret_activity = [enzyme_dupnoneed]} : (tensor<3xf32>) -> (tensor<3x3xf32>, tensor<3xf32>)
  func.return %g, %l : tensor<3x3xf32>, tensor<3xf32>
}

// CHECK: no forward-Laplacian rule for 'stablehlo.sort' at {{.*}}
// CHECK-NOT: Traceback
