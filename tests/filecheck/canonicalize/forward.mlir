// Each transition of forward-mode (enzyme.fwddiff) activities.
// RUN: zymase-opt --print-op-generic -p enzyme-activity-canonicalize %s | FileCheck %s

func.func @f(%x: f32, %y: f32) -> (f32, f32) {
  %a = arith.mulf %x, %y : f32
  %b = arith.addf %x, %y : f32
  func.return %a, %b : f32, f32
}

// dup -> dupnoneed (primal unused), dup -> const (tangent unused).
// CHECK-LABEL: sym_name = "dup_results"
// CHECK: "enzyme.fwddiff"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{fn = @f, activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dupnoneed>, #enzyme<activity enzyme_const>]}> : (f32, f32, f32, f32) -> (f32, f32)
func.func @dup_results(%x: f32, %tx: f32, %y: f32, %ty: f32) -> (f32, f32) {
  %a, %ta, %b, %tb = "enzyme.fwddiff"(%x, %tx, %y, %ty) <{fn = @f, activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>]}> : (f32, f32, f32, f32) -> (f32, f32, f32, f32)
  func.return %ta, %b : f32, f32
}

// dup -> constnoneed (both unused); dupnoneed -> constnoneed (tangent unused).
// CHECK-LABEL: sym_name = "nothing_used"
// CHECK: "enzyme.fwddiff"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{fn = @f, activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_constnoneed>, #enzyme<activity enzyme_constnoneed>]}> : (f32, f32, f32, f32) -> ()
func.func @nothing_used(%x: f32, %tx: f32, %y: f32, %ty: f32) {
  %a, %ta, %tb = "enzyme.fwddiff"(%x, %tx, %y, %ty) <{fn = @f, activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dupnoneed>]}> : (f32, f32, f32, f32) -> (f32, f32, f32)
  func.return
}

// const -> constnoneed (primal unused).
// CHECK-LABEL: sym_name = "const_unused"
// CHECK: "enzyme.fwddiff"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{fn = @f, activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_constnoneed>]}> : (f32, f32, f32, f32) -> (f32, f32)
func.func @const_unused(%x: f32, %tx: f32, %y: f32, %ty: f32) -> (f32, f32) {
  %a, %ta, %b = "enzyme.fwddiff"(%x, %tx, %y, %ty) <{fn = @f, activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_const>]}> : (f32, f32, f32, f32) -> (f32, f32, f32)
  func.return %a, %ta : f32, f32
}

// argument dup -> const: its tangent is a known zero (dropped from the operands).
// CHECK-LABEL: sym_name = "zero_tangent"
// CHECK: "enzyme.fwddiff"(%{{.*}}, %{{.*}}, %{{.*}}) <{fn = @f, activity = [#enzyme<activity enzyme_const>, #enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>]}> : (f32, f32, f32) -> (f32, f32, f32, f32)
func.func @zero_tangent(%x: f32, %y: f32, %ty: f32) -> (f32, f32, f32, f32) {
  %zero = arith.constant 0.0 : f32
  %a, %ta, %b, %tb = "enzyme.fwddiff"(%x, %zero, %y, %ty) <{fn = @f, activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>]}> : (f32, f32, f32, f32) -> (f32, f32, f32, f32)
  func.return %a, %ta, %b, %tb : f32, f32, f32, f32
}

func.func @g(%x: f32, %y: f32) -> (f32, f32) {
  %a = arith.mulf %x, %x : f32
  %b = arith.mulf %y, %y : f32
  func.return %a, %b : f32, f32
}

// dup -> const when the result depends on no dup argument (its tangent is zero).
// CHECK-LABEL: sym_name = "independent_result"
// CHECK: %[[A:.*]], %[[TA:.*]], %[[B:.*]] = "enzyme.fwddiff"(%{{.*}}, %{{.*}}, %{{.*}}) <{fn = @g, activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_const>]}> : (f32, f32, f32) -> (f32, f32, f32)
// CHECK: %[[Z:.*]] = "arith.constant"() <{value = 0.000000e+00 : f32}>
// CHECK: "func.return"(%[[A]], %[[TA]], %[[B]], %[[Z]])
func.func @independent_result(%x: f32, %tx: f32, %y: f32) -> (f32, f32, f32, f32) {
  %a, %ta, %b, %tb = "enzyme.fwddiff"(%x, %tx, %y) <{fn = @g, activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>]}> : (f32, f32, f32) -> (f32, f32, f32, f32)
  func.return %a, %ta, %b, %tb : f32, f32, f32, f32
}
