// RUN: not zymase-opt --print-op-generic %s -p enzyme 2>&1 | FileCheck %s
// RUN: not zymase-opt --print-op-generic %s -p enzyme 2>&1 | wc -l | FileCheck --check-prefix=LINES %s

// An op in no tier of the rule registry (an opaque stablehlo.custom_call on the active
// path): one line naming the op, where it is and the missing rule; no traceback.

func.func @f(%x: tensor<f32>) -> tensor<f32> {
  %y = "stablehlo.custom_call"(%x) <{call_target_name = "my_kernel"}> : (tensor<f32>) -> tensor<f32>
  func.return %y : tensor<f32>
}

func.func @grad_f(%x: tensor<f32>, %d: tensor<f32>) -> tensor<f32> {
  %dx = enzyme.autodiff @f(%x, %d) {activity = [enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %dx : tensor<f32>
}

// CHECK-NOT: Traceback
// CHECK: error: {{.*}}no reverse-mode derivative rule for 'stablehlo.custom_call'{{.*}} at {{.*}}missing_rule.mlir:8:3
// CHECK-NOT: Traceback
// LINES: {{^ *1$}}
