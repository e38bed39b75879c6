// The seed's "Reverse Mode Activity Canonicalization" example: only %o2 and %dx are used.
// RUN: zymase-opt --print-op-generic -p enzyme-activity-canonicalize %s | FileCheck %s
// RUN: zymase-opt --print-op-generic -p enzyme-activity-canonicalize,enzyme,cse,dce %s | FileCheck %s --check-prefix GEN

func.func @square(%x: f32, %y: f32) -> (f32, f32) {
  %o1 = arith.mulf %x, %x : f32
  %o2 = arith.mulf %y, %y : f32
  func.return %o1, %o2 : f32, f32
}

func.func @grad_square(%x: f32, %y: f32, %do1: f32, %do2: f32) -> (f32, f32) {
  %o1, %o2, %dx, %dy = "enzyme.autodiff"(%x, %y, %do1, %do2) <{fn = @square, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>]}> : (f32, f32, f32, f32) -> (f32, f32, f32, f32)
  func.return %o2, %dx : f32, f32
}

// CHECK: ^bb0(%[[X:.*]]: f32, %[[Y:.*]]: f32, %[[DO1:.*]]: f32, %[[DO2:.*]]: f32):
// CHECK-NEXT: %[[O2:.*]], %[[DX:.*]] = "enzyme.autodiff"(%[[X]], %[[Y]], %[[DO1]]) <{fn = @square, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_activenoneed>, #enzyme<activity enzyme_const>]}> : (f32, f32, f32) -> (f32, f32)
// CHECK-NEXT: "func.return"(%[[O2]], %[[DX]])

// The generated derivative: o2 = y*y, dx = do1*x + x*do1; nothing for dy, o1 not returned.
// GEN-LABEL: sym_name = "diffesquare"
// GEN: ^bb0(%[[X:.*]]: f32, %[[Y:.*]]: f32, %[[S:.*]]: f32):
// GEN-NEXT: %[[O2:.*]] = "arith.mulf"(%[[Y]], %[[Y]])
// GEN-NEXT: %[[A:.*]] = "arith.mulf"(%[[S]], %[[X]])
// GEN-NEXT: %[[B:.*]] = "arith.mulf"(%[[X]], %[[S]])
// GEN-NEXT: %[[DX:.*]] = "arith.addf"(%[[A]], %[[B]])
// GEN-NEXT: "func.return"(%[[O2]], %[[DX]]) : (f32, f32) -> ()
