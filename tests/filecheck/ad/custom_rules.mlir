// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce | FileCheck %s
// RUN: zymase-opt %s -p enzyme --run grad --args 0.5 1.0 --run jvp --args 0.5 1.0 --run grad_clip --args 3.0 1.0 --run grad_stop --args 3.0 1.0 | FileCheck --check-prefixes=GRAD,JVP,CLIP,STOP %s

// User-defined derivatives, as zymase imports them from jax.custom_jvp, jax.custom_vjp
// and lax.stop_gradient. @sin100 computes sin(x) but says its derivative is 100:
// forward mode calls its rule @sin100_jvp(x, t) -> (sin x, 100 t); reverse mode reverses
// the rule in its tangent argument. @clip computes x; its custom_vjp clips the cotangent
// to [-0.1, 0.1]: the forward sweep calls @clip_fwd (outputs, then residuals), the
// reverse sweep @clip_bwd (residuals, cotangents). enzyme.ignore_derivatives stops both.

func.func private @sin100(%x: tensor<f64>) -> tensor<f64> attributes {enzyme.custom_jvp = @sin100_jvp} {
  %s = stablehlo.sine %x : tensor<f64>
  func.return %s : tensor<f64>
}

func.func private @sin100_jvp(%x: tensor<f64>, %t: tensor<f64>) -> (tensor<f64>, tensor<f64>) {
  %s = stablehlo.sine %x : tensor<f64>
  %c = stablehlo.constant dense<100.0> : tensor<f64>
  %dt = stablehlo.multiply %c, %t : tensor<f64>
  func.return %s, %dt : tensor<f64>, tensor<f64>
}

func.func @f(%x: tensor<f64>) -> tensor<f64> {
  %y = func.call @sin100(%x) : (tensor<f64>) -> tensor<f64>
  %z = stablehlo.multiply %y, %y : tensor<f64>
  func.return %z : tensor<f64>
}

func.func @grad(%x: tensor<f64>, %d: tensor<f64>) -> tensor<f64> {
  %dx = enzyme.autodiff @f(%x, %d) {activity = [enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<f64>, tensor<f64>) -> tensor<f64>
  func.return %dx : tensor<f64>
}

func.func @jvp(%x: tensor<f64>, %t: tensor<f64>) -> tensor<f64> {
  %dz = enzyme.fwddiff @f(%x, %t) {activity = [enzyme_dup], ret_activity = [enzyme_dupnoneed]} : (tensor<f64>, tensor<f64>) -> tensor<f64>
  func.return %dz : tensor<f64>
}

func.func private @clip(%x: tensor<f64>) -> tensor<f64> attributes {enzyme.custom_vjp_fwd = @clip_fwd, enzyme.custom_vjp_bwd = @clip_bwd, enzyme.custom_vjp_consts = 0 : i64} {
  func.return %x : tensor<f64>
}

func.func private @clip_fwd(%x: tensor<f64>) -> (tensor<f64>, tensor<f64>) {
  func.return %x, %x : tensor<f64>, tensor<f64>
}

func.func private @clip_bwd(%r: tensor<f64>, %ct: tensor<f64>) -> tensor<f64> {
  %lo = stablehlo.constant dense<-0.1> : tensor<f64>
  %hi = stablehlo.constant dense<0.1> : tensor<f64>
  %c = stablehlo.clamp %lo, %ct, %hi : tensor<f64>
  func.return %c : tensor<f64>
}

func.func @g(%x: tensor<f64>) -> tensor<f64> {
  %y = func.call @clip(%x) : (tensor<f64>) -> tensor<f64>
  %z = stablehlo.multiply %y, %x : tensor<f64>
  func.return %z : tensor<f64>
}

func.func @grad_clip(%x: tensor<f64>, %d: tensor<f64>) -> tensor<f64> {
  %dx = enzyme.autodiff @g(%x, %d) {activity = [enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<f64>, tensor<f64>) -> tensor<f64>
  func.return %dx : tensor<f64>
}

func.func @h(%x: tensor<f64>) -> tensor<f64> {
  %s = enzyme.ignore_derivatives %x : tensor<f64> -> tensor<f64>
  %z = stablehlo.multiply %s, %x : tensor<f64>
  func.return %z : tensor<f64>
}

func.func @grad_stop(%x: tensor<f64>, %d: tensor<f64>) -> tensor<f64> {
  %dx = enzyme.autodiff @h(%x, %d) {activity = [enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<f64>, tensor<f64>) -> tensor<f64>
  func.return %dx : tensor<f64>
}

// The forward-mode derivative of @f calls the rule, not @sin100's body.
// CHECK-LABEL: sym_name = "fwddiffef"
// CHECK:         "func.call"(%{{.*}}, %{{.*}}) <{callee = @sin100_jvp}>
// CHECK-NOT:     stablehlo.cosine
// CHECK:         "func.return"
// The reverse sweep of @g calls @clip_fwd, then @clip_bwd with its residual.
// CHECK-LABEL: sym_name = "diffeg"
// CHECK:         %{{[^,]+}}, %[[RES:[^ ]+]] = "func.call"(%{{.*}}) <{callee = @clip_fwd}>
// CHECK:         "func.call"(%[[RES]], %{{.*}}) <{callee = @clip_bwd}>

// d/dx sin100(x)^2 = 2 sin(0.5) * 100 = 95.885...
// GRAD: 95.8851077
// JVP: 95.8851077
// d/dx (clip(x) * x) at 3 with the clipped cotangent: 0.1 + 3 = 3.1
// CLIP: array(3.1)
// d/dx (stop(x) * x) = stop(x) = 3
// STOP: array(3.)
