// RUN: not zymase-opt --print-op-generic %s -p enzyme 2>&1 | FileCheck %s

// A loop with a run-time trip count is reversed from checkpoints of its carried state;
// a carried token (here advanced by after_all each iteration) cannot be stored in a
// checkpoint buffer, so reverse mode refuses, naming the op and the value.

func.func @loop(%x: tensor<f32>, %n: tensor<i32>) -> tensor<f32> {
  %zero = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %t0 = "stablehlo.create_token"() : () -> !stablehlo.token
  %r:3 = "stablehlo.while"(%zero, %x, %t0) ({
  ^bb0(%i: tensor<i32>, %v: tensor<f32>, %t: !stablehlo.token):
    %lt = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%lt) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %v: tensor<f32>, %t: !stablehlo.token):
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i1 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %v1 = "stablehlo.sine"(%v) : (tensor<f32>) -> tensor<f32>
    %t1 = "stablehlo.after_all"(%t) : (!stablehlo.token) -> !stablehlo.token
    "stablehlo.return"(%i1, %v1, %t1) : (tensor<i32>, tensor<f32>, !stablehlo.token) -> ()
  }) : (tensor<i32>, tensor<f32>, !stablehlo.token) -> (tensor<i32>, tensor<f32>, !stablehlo.token)
  func.return %r#1 : tensor<f32>
}

func.func @grad_loop(%x: tensor<f32>, %n: tensor<i32>, %d: tensor<f32>) -> tensor<f32> {
  %dx = enzyme.autodiff @loop(%x, %n, %d) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_activenoneed]} : (tensor<f32>, tensor<i32>, tensor<f32>) -> tensor<f32>
  func.return %dx : tensor<f32>
}

// CHECK-NOT: Traceback
// CHECK: error: {{.*}}cannot checkpoint 'stablehlo.while' at {{.*}}while_checkpoint_token.mlir:10:3: carried value #2 of type !stablehlo.token is not a tensor
