// RUN: not zymase-opt --print-op-generic %s 2>&1 | FileCheck %s

// An integer argument has no derivative: enzyme_active on it is rejected.

func.func @scale(%x: f32, %n: i32) -> f32 {
  %m = arith.sitofp %n : i32 to f32
  %y = arith.mulf %x, %m : f32
  func.return %y : f32
}

func.func @grad(%x: f32, %n: i32, %d: f32) -> (f32, i32) {
  %dx, %dn = enzyme.autodiff @scale(%x, %n, %d) {activity = [enzyme_active, enzyme_active], ret_activity = [enzyme_activenoneed]} : (f32, i32, f32) -> (f32, i32)
  func.return %dx, %dn : f32, i32
}

// CHECK-NOT: Traceback
// CHECK: invalid_integer.mlir:12:3: error: 'enzyme.autodiff' op {{.*}}argument 1 of @scale has type i32 and cannot be enzyme_active: integer values have no derivative; mark it enzyme_const
