// RUN: zymase-opt %s -p zymase-derivative | FileCheck %s
// RUN: zymase-opt %s -p zymase-derivative --run entry --args 3 1 | FileCheck --check-prefix=RESULT %s

// -p zymase-derivative runs the pipeline zymase.grad runs (passes.py's PIPELINES):
// the enzyme op becomes a call of the generated reverse-mode function.

func.func @square(%x: tensor<f32>) -> tensor<f32> {
  %y = "stablehlo.multiply"(%x, %x) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %y : tensor<f32>
}

func.func @entry(%x: tensor<f32>, %seed: tensor<f32>) -> tensor<f32> {
  %dx = enzyme.autodiff @square(%x, %seed) {activity = [enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %dx : tensor<f32>
}

// CHECK-NOT:   enzyme.autodiff
// CHECK:       func.func @entry(%{{.*}}: tensor<f32>, %{{.*}}: tensor<f32>) -> tensor<f32> {
// CHECK-NEXT:    %{{.*}} = call @diffesquare
// CHECK:       func.func private @diffesquare
// CHECK-NOT:   enzyme.autodiff

// RESULT: array(6., dtype=float32)
