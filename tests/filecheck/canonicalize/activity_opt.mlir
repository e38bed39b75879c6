// enzyme-activity-opt: an active argument that reaches no active result has a zero
// gradient: it becomes const and its uses read a zero constant.
// RUN: zymase-opt --print-op-generic -p enzyme-activity-opt %s | FileCheck %s

func.func @h(%x: f32, %y: f32) -> (f32, f32) {
  %a = arith.mulf %x, %x : f32
  %b = arith.mulf %y, %y : f32
  func.return %a, %b : f32, f32
}

// CHECK-LABEL: sym_name = "grad_h"
// CHECK: %[[Z:.*]] = "arith.constant"() <{value = 0.000000e+00 : f32}>
// CHECK: %[[DX:.*]] = "enzyme.autodiff"(%{{.*}}, %{{.*}}, %{{.*}}) <{fn = @h, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_activenoneed>, #enzyme<activity enzyme_constnoneed>]}> : (f32, f32, f32) -> f32
// CHECK: "func.return"(%[[DX]], %[[Z]])
func.func @grad_h(%x: f32, %y: f32, %s: f32) -> (f32, f32) {
  %dx, %dy = "enzyme.autodiff"(%x, %y, %s) <{fn = @h, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>, #enzyme<activity enzyme_constnoneed>]}> : (f32, f32, f32) -> (f32, f32)
  func.return %dx, %dy : f32, f32
}
