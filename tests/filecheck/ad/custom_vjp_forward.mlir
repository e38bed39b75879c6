// RUN: not zymase-opt %s -p enzyme 2>&1 | FileCheck %s

// Forward mode of a function with a custom_vjp rule (and no custom_jvp rule) is refused,
// as jax refuses it, naming the function and the call's location.

func.func private @clip(%x: tensor<f64>) -> tensor<f64> attributes {enzyme.custom_vjp_fwd = @clip_fwd, enzyme.custom_vjp_bwd = @clip_bwd, enzyme.custom_vjp_consts = 0 : i64} {
  func.return %x : tensor<f64>
}

func.func private @clip_fwd(%x: tensor<f64>) -> (tensor<f64>, tensor<f64>) {
  func.return %x, %x : tensor<f64>, tensor<f64>
}

func.func private @clip_bwd(%r: tensor<f64>, %ct: tensor<f64>) -> tensor<f64> {
  func.return %ct : tensor<f64>
}

func.func @g(%x: tensor<f64>) -> tensor<f64> {
  %y = func.call @clip(%x) : (tensor<f64>) -> tensor<f64>
  func.return %y : tensor<f64>
}

func.func @jvp_clip(%x: tensor<f64>, %t: tensor<f64>) -> tensor<f64> {
  %dz = enzyme.fwddiff @g(%x, %t) {activity = [enzyme_dup], ret_activity = [enzyme_dupnoneed]} : (tensor<f64>, tensor<f64>) -> tensor<f64>
  func.return %dz : tensor<f64>
}

// CHECK: error: {{.*}}can't apply forward-mode autodiff (jvp) to a custom_vjp function: @clip called at {{.*}}custom_vjp_forward.mlir:19:3
