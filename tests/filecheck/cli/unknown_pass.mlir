// RUN: not zymase-opt --print-op-generic %s -p cse,frobnicate 2>&1 | FileCheck %s
// RUN: not zymase-opt --print-op-generic %s -p frobnicate 2>&1 | wc -l | FileCheck --check-prefix=LINES %s

func.func @f(%x: f32) -> f32 {
  func.return %x : f32
}

// CHECK-NOT: Traceback
// CHECK: zymase-opt: error: unknown pass 'frobnicate'
// CHECK-NOT: Traceback
// LINES: {{^ *1$}}
