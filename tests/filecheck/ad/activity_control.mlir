// RUN: zymase-opt --print-op-generic %s -p print-activity-analysis | FileCheck %s

// Activity through control flow: loop-carried values (a fixpoint over the iterations)
// and values inside the branches of stablehlo.if. Block arguments inside regions are
// numbered after the function's, as MLIR prints them.

// acc starts constant (1.0) and becomes varied through the captured x in the body; the
// counter is an integer; junk is varied (it adds x each iteration) but is not returned.
func.func @loop(%x: tensor<f32>) -> tensor<f32> {
  %zero = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %one = "stablehlo.constant"() <{value = dense<1.0> : tensor<f32>}> : () -> tensor<f32>
  %r:3 = "stablehlo.while"(%zero, %one, %one) ({
  ^bb0(%i: tensor<i32>, %acc: tensor<f32>, %junk: tensor<f32>):
    %n = "stablehlo.constant"() <{value = dense<3> : tensor<i32>}> : () -> tensor<i32>
    %lt = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%lt) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %acc: tensor<f32>, %junk: tensor<f32>):
    %step = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i1 = "stablehlo.add"(%i, %step) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %s = "stablehlo.sine"(%acc) : (tensor<f32>) -> tensor<f32>
    %acc1 = "stablehlo.multiply"(%s, %x) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %junk1 = "stablehlo.add"(%junk, %x) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    "stablehlo.return"(%i1, %acc1, %junk1) : (tensor<i32>, tensor<f32>, tensor<f32>) -> ()
  }) : (tensor<i32>, tensor<f32>, tensor<f32>) -> (tensor<i32>, tensor<f32>, tensor<f32>)
  func.return %r#1 : tensor<f32>
}

func.func @grad_loop(%x: tensor<f32>, %d: tensor<f32>) -> tensor<f32> {
  %dx = enzyme.autodiff @loop(%x, %d) {activity = [enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %dx : tensor<f32>
}

// CHECK-LABEL: enzyme.autodiff @loop
// CHECK-NEXT:  @loop: %arg0 active
// CHECK-NEXT:  @loop: %0 = stablehlo.constant constant (integer)
// CHECK-NEXT:  @loop: %1 = stablehlo.constant constant (not varied)
// CHECK-NEXT:  @loop: %2#0 = stablehlo.while constant (integer)
// CHECK-NEXT:  @loop: %2#1 = stablehlo.while active
// CHECK-NEXT:  @loop: %2#2 = stablehlo.while constant (not useful)
// The condition region: acc is varied there but the condition does not use it.
// CHECK-NEXT:  @loop: %arg1 constant (integer)
// CHECK-NEXT:  @loop: %arg2 constant (not useful)
// CHECK-NEXT:  @loop: %arg3 constant (not useful)
// CHECK-NEXT:  @loop: %3 = stablehlo.constant constant (integer)
// CHECK-NEXT:  @loop: %4 = stablehlo.compare constant (integer)
// The body region: the loop-carried acc is active, junk only varied.
// CHECK-NEXT:  @loop: %arg4 constant (integer)
// CHECK-NEXT:  @loop: %arg5 active
// CHECK-NEXT:  @loop: %arg6 constant (not useful)
// CHECK-NEXT:  @loop: %5 = stablehlo.constant constant (integer)
// CHECK-NEXT:  @loop: %6 = stablehlo.add constant (integer)
// CHECK-NEXT:  @loop: %7 = stablehlo.sine active
// CHECK-NEXT:  @loop: %8 = stablehlo.multiply active
// CHECK-NEXT:  @loop: %9 = stablehlo.add constant (not useful)

// Only the true branch depends on x; the predicate is a bool.
func.func @branch(%x: tensor<f32>, %y: tensor<f32>) -> tensor<f32> {
  %zero = "stablehlo.constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32>
  %p = "stablehlo.compare"(%x, %zero) <{comparison_direction = #stablehlo<comparison_direction GT>}> : (tensor<f32>, tensor<f32>) -> tensor<i1>
  %r = "stablehlo.if"(%p) ({
    %x2 = "stablehlo.multiply"(%x, %x) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %unused = "stablehlo.exponential"(%x) : (tensor<f32>) -> tensor<f32>
    "stablehlo.return"(%x2) : (tensor<f32>) -> ()
  }, {
    %y2 = "stablehlo.negate"(%y) : (tensor<f32>) -> tensor<f32>
    "stablehlo.return"(%y2) : (tensor<f32>) -> ()
  }) : (tensor<i1>) -> tensor<f32>
  func.return %r : tensor<f32>
}

func.func @grad_branch(%x: tensor<f32>, %y: tensor<f32>, %d: tensor<f32>) -> tensor<f32> {
  %dx = enzyme.autodiff @branch(%x, %y, %d) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_activenoneed]} : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %dx : tensor<f32>
}

// CHECK-LABEL: enzyme.autodiff @branch
// CHECK-NEXT:  @branch: %arg0 active
// CHECK-NEXT:  @branch: %arg1 constant (not varied)
// CHECK-NEXT:  @branch: %0 = stablehlo.constant constant (not varied)
// CHECK-NEXT:  @branch: %1 = stablehlo.compare constant (integer)
// CHECK-NEXT:  @branch: %2 = stablehlo.if active
// CHECK-NEXT:  @branch: %3 = stablehlo.multiply active
// CHECK-NEXT:  @branch: %4 = stablehlo.exponential constant (not useful)
// CHECK-NEXT:  @branch: %5 = stablehlo.negate constant (not varied)
