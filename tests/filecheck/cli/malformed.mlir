// RUN: not zymase-opt --print-op-generic %s 2>&1 | FileCheck %s
// RUN: not zymase-opt --print-op-generic %s 2>&1 | wc -l | FileCheck --check-prefix=LINES %s

// A value is used with the wrong type: one line with file:line:col, exit code 1.

func.func @f(%x: f32) -> f32 {
  %y = arith.mulf %x, %x : f64
  func.return %y : f32
}

// CHECK-NOT: Traceback
// CHECK: malformed.mlir:7:19: error: {{.*}}
// CHECK-NOT: Traceback
// LINES: {{^ *1$}}
