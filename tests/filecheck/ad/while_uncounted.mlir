// RUN: not zymase-opt --print-op-generic %s -p enzyme 2>&1 | FileCheck %s

// Reverse mode needs a counted loop to size the tape; the bound here is an argument.

func.func @loop(%x: tensor<f32>, %n: tensor<i32>) -> tensor<f32> {
  %zero = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %r:2 = "stablehlo.while"(%zero, %x) ({
  ^bb0(%i: tensor<i32>, %v: tensor<f32>):
    %lt = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%lt) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %v: tensor<f32>):
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i1 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %v1 = "stablehlo.sine"(%v) : (tensor<f32>) -> tensor<f32>
    "stablehlo.return"(%i1, %v1) : (tensor<i32>, tensor<f32>) -> ()
  }) : (tensor<i32>, tensor<f32>) -> (tensor<i32>, tensor<f32>)
  func.return %r#1 : tensor<f32>
}

func.func @grad_loop(%x: tensor<f32>, %n: tensor<i32>, %d: tensor<f32>) -> tensor<f32> {
  %dx = enzyme.autodiff @loop(%x, %n, %d) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_activenoneed]} : (tensor<f32>, tensor<i32>, tensor<f32>) -> tensor<f32>
  func.return %dx : tensor<f32>
}

// CHECK-NOT: Traceback
// CHECK: error: {{.*}}cannot reverse-differentiate 'stablehlo.while' at {{.*}}while_uncounted.mlir:7:3: its trip count is not a compile-time constant
