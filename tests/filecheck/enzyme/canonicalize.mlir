// `-p canonicalize` runs the activity canonicalization of enzyme.autodiff and
// enzyme.fwddiff (their canonicalization patterns), as enzyme-activity-canonicalize does.
// RUN: zymase-opt -p canonicalize %s | FileCheck %s

func.func @f(%x: f64, %y: f64) -> (f64, f64) {
  %a = arith.mulf %x, %y : f64
  %b = arith.addf %x, %y : f64
  func.return %a, %b : f64, f64
}

// reverse: result 0's seed is a known zero and its primal unused (active -> constnoneed),
// result 1's primal unused (active -> activenoneed), x's gradient unused (active -> const);
// the zero seed is dropped from the operands.
// CHECK-LABEL: func.func @reverse
// CHECK-NEXT: %[[DY:.*]] = enzyme.autodiff @f(%x, %y, %s1) {activity = [#enzyme<activity enzyme_const>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_constnoneed>, #enzyme<activity enzyme_activenoneed>], strong_zero = true} : (f64, f64, f64) -> f64
// CHECK-NEXT: return %[[DY]] : f64
func.func @reverse(%x: f64, %y: f64, %s1: f64) -> f64 {
  %zero = arith.constant 0.0 : f64
  %a, %b, %dx, %dy = enzyme.autodiff @f(%x, %y, %zero, %s1) <{activity = [#enzyme.activity<enzyme_active>, #enzyme.activity<enzyme_active>], ret_activity = [#enzyme.activity<enzyme_active>, #enzyme.activity<enzyme_active>], strong_zero = true}> : (f64, f64, f64, f64) -> (f64, f64, f64, f64)
  func.return %dy : f64
}

// forward: x's tangent is a known zero (dup -> const), result 0's primal is unused
// (dup -> dupnoneed), result 1's tangent is unused (dup -> const).
// CHECK-LABEL: func.func @forward
// CHECK-NEXT: %[[TA:.*]], %[[B:.*]] = enzyme.fwddiff @f(%x, %y, %ty) {activity = [#enzyme<activity enzyme_const>, #enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dupnoneed>, #enzyme<activity enzyme_const>]} : (f64, f64, f64) -> (f64, f64)
// CHECK-NEXT: return %[[TA]], %[[B]] : f64, f64
func.func @forward(%x: f64, %y: f64, %ty: f64) -> (f64, f64) {
  %zero = arith.constant 0.0 : f64
  %a, %ta, %b, %tb = enzyme.fwddiff @f(%x, %zero, %y, %ty) {activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>]} : (f64, f64, f64, f64) -> (f64, f64, f64, f64)
  func.return %ta, %b : f64, f64
}

// nothing to demote: the op stays as written.
// CHECK-LABEL: func.func @kept
// CHECK-NEXT: enzyme.autodiff @f(%x, %y, %s0, %s1) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>]}
func.func @kept(%x: f64, %y: f64, %s0: f64, %s1: f64) -> (f64, f64, f64) {
  %a, %b, %dx = enzyme.autodiff @f(%x, %y, %s0, %s1) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>]} : (f64, f64, f64, f64) -> (f64, f64, f64)
  func.return %a, %b, %dx : f64, f64, f64
}
