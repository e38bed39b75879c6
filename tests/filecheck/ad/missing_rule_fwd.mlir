// RUN: not zymase-opt --print-op-generic %s -p enzyme 2>&1 | FileCheck %s
// RUN: not zymase-opt --print-op-generic %s -p enzyme 2>&1 | wc -l | FileCheck --check-prefix=LINES %s

// The same in forward mode.

func.func @f(%x: tensor<f32>) -> tensor<f32> {
  %y = "stablehlo.custom_call"(%x) <{call_target_name = "my_kernel"}> : (tensor<f32>) -> tensor<f32>
  func.return %y : tensor<f32>
}

func.func @jvp_f(%x: tensor<f32>, %t: tensor<f32>) -> tensor<f32> {
  %dy = enzyme.fwddiff @f(%x, %t) {activity = [enzyme_dup], ret_activity = [enzyme_dupnoneed]} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %dy : tensor<f32>
}

// CHECK-NOT: Traceback
// CHECK: error: {{.*}}no forward-mode derivative rule for 'stablehlo.custom_call'{{.*}} at {{.*}}missing_rule_fwd.mlir:7:3
// LINES: {{^ *1$}}
