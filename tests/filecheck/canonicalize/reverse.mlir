// Each transition of reverse-mode (enzyme.autodiff) activities, one function each.
// RUN: zymase-opt --print-op-generic -p enzyme-activity-canonicalize %s | FileCheck %s

func.func @f(%x: f32, %y: f32) -> (f32, f32) {
  %a = arith.mulf %x, %y : f32
  %b = arith.addf %x, %y : f32
  func.return %a, %b : f32, f32
}

// active -> activenoneed: the primal result is unused.
// CHECK-LABEL: sym_name = "primal_unused"
// CHECK: "enzyme.autodiff"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{fn = @f, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>, #enzyme<activity enzyme_active>]}> : (f32, f32, f32, f32) -> (f32, f32, f32)
func.func @primal_unused(%x: f32, %y: f32, %s0: f32, %s1: f32) -> (f32, f32, f32) {
  %a, %b, %dx, %dy = "enzyme.autodiff"(%x, %y, %s0, %s1) <{fn = @f, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>]}> : (f32, f32, f32, f32) -> (f32, f32, f32, f32)
  func.return %b, %dx, %dy : f32, f32, f32
}

// active -> const: the seed is a known zero (dropped from the operands).
// CHECK-LABEL: sym_name = "zero_seed"
// CHECK: "enzyme.autodiff"(%{{.*}}, %{{.*}}, %{{.*}}) <{fn = @f, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_const>, #enzyme<activity enzyme_active>]}> : (f32, f32, f32) -> (f32, f32, f32, f32)
func.func @zero_seed(%x: f32, %y: f32, %s1: f32) -> (f32, f32, f32, f32) {
  %zero = arith.constant 0.0 : f32
  %a, %b, %dx, %dy = "enzyme.autodiff"(%x, %y, %zero, %s1) <{fn = @f, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>]}> : (f32, f32, f32, f32) -> (f32, f32, f32, f32)
  func.return %a, %b, %dx, %dy : f32, f32, f32, f32
}

// active -> constnoneed: zero seed and unused primal.
// CHECK-LABEL: sym_name = "zero_seed_unused"
// CHECK: "enzyme.autodiff"(%{{.*}}, %{{.*}}, %{{.*}}) <{fn = @f, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_constnoneed>, #enzyme<activity enzyme_active>]}> : (f32, f32, f32) -> (f32, f32, f32)
func.func @zero_seed_unused(%x: f32, %y: f32, %s1: f32) -> (f32, f32, f32) {
  %zero = arith.constant 0.0 : f32
  %a, %b, %dx, %dy = "enzyme.autodiff"(%x, %y, %zero, %s1) <{fn = @f, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>]}> : (f32, f32, f32, f32) -> (f32, f32, f32, f32)
  func.return %b, %dx, %dy : f32, f32, f32
}

// const -> constnoneed: unused primal of a const result.
// CHECK-LABEL: sym_name = "const_unused"
// CHECK: "enzyme.autodiff"(%{{.*}}, %{{.*}}, %{{.*}}) <{fn = @f, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_constnoneed>, #enzyme<activity enzyme_active>]}> : (f32, f32, f32) -> (f32, f32, f32)
func.func @const_unused(%x: f32, %y: f32, %s1: f32) -> (f32, f32, f32) {
  %a, %b, %dx, %dy = "enzyme.autodiff"(%x, %y, %s1) <{fn = @f, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_const>, #enzyme<activity enzyme_active>]}> : (f32, f32, f32) -> (f32, f32, f32, f32)
  func.return %b, %dx, %dy : f32, f32, f32
}

// activenoneed -> constnoneed: a zero seed.
// CHECK-LABEL: sym_name = "activenoneed_zero_seed"
// CHECK: "enzyme.autodiff"(%{{.*}}, %{{.*}}, %{{.*}}) <{fn = @f, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_constnoneed>, #enzyme<activity enzyme_active>]}> : (f32, f32, f32) -> (f32, f32, f32)
func.func @activenoneed_zero_seed(%x: f32, %y: f32, %s1: f32) -> (f32, f32, f32) {
  %zero = arith.constant 0.0 : f32
  %b, %dx, %dy = "enzyme.autodiff"(%x, %y, %zero, %s1) <{fn = @f, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>, #enzyme<activity enzyme_active>]}> : (f32, f32, f32, f32) -> (f32, f32, f32)
  func.return %b, %dx, %dy : f32, f32, f32
}

// argument active -> const: its gradient is unused.
// CHECK-LABEL: sym_name = "gradient_unused"
// CHECK: "enzyme.autodiff"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{fn = @f, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>]}> : (f32, f32, f32, f32) -> (f32, f32, f32)
func.func @gradient_unused(%x: f32, %y: f32, %s0: f32, %s1: f32) -> (f32, f32, f32) {
  %a, %b, %dx, %dy = "enzyme.autodiff"(%x, %y, %s0, %s1) <{fn = @f, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>]}> : (f32, f32, f32, f32) -> (f32, f32, f32, f32)
  func.return %a, %b, %dx : f32, f32, f32
}
