// RUN: not zymase-opt --print-op-generic %s 2>&1 | FileCheck %s
// RUN: not zymase-opt --print-op-generic %s 2>&1 | wc -l | FileCheck --check-prefix=LINES %s

// The seed needs no seed for a const result: three operands, not four. The error names
// the op, where it is, and what each expected operand is.

func.func @square(%x: f32, %y: f32) -> (f32, f32) {
  %o1 = arith.mulf %x, %x : f32
  %o2 = arith.mulf %y, %y : f32
  func.return %o1, %o2 : f32, f32
}

func.func @grad_square(%x: f32, %y: f32, %do1: f32, %do2: f32) -> (f32, f32) {
  %o2, %dx = enzyme.autodiff @square(%x, %y, %do1, %do2) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_activenoneed, enzyme_const]} : (f32, f32, f32, f32) -> (f32, f32)
  func.return %o2, %dx : f32, f32
}

// CHECK-NOT: Traceback
// CHECK: invalid_operands.mlir:14:3: error: 'enzyme.autodiff' op {{.*}}expects 3 operands for @square with activity [enzyme_active, enzyme_const] and ret_activity [enzyme_activenoneed, enzyme_const] (primal of argument 0: f32, primal of argument 1: f32, seed of result 0: f32), got 4
// LINES: {{^ *1$}}
