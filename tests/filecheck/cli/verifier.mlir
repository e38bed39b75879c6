// RUN: not zymase-opt --print-op-generic %s 2>&1 | FileCheck %s
// RUN: not zymase-opt --print-op-generic %s 2>&1 | wc -l | FileCheck --check-prefix=LINES %s

// The module parses but does not verify: the error names the op and its line:col.

func.func @f(%x: f32) -> f32 {
  %y = "arith.mulf"(%x, %x) : (f32, f32) -> i32
  func.return %x : f32
}

// CHECK-NOT: Traceback
// CHECK: verifier.mlir:7:3: error: 'arith.mulf' op {{.*}}but got i32
// CHECK-NOT: Traceback
// LINES: {{^ *1$}}
