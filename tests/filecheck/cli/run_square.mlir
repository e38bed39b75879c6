// RUN: %python -c "import numpy as np; np.save('%t.npy', np.float32(1.5))"
// RUN: zymase-opt %s --run square --args 3 -2.5 --run square --args %t.npy 4 | FileCheck --check-prefixes=CHECK,NPY %s
// RUN: zymase-opt %s -p cse,dce --run square --args 3 -2.5 | FileCheck %s
// RUN: not zymase-opt %s --run square --args 1 2 --args 3 4 2>&1 | FileCheck --check-prefix=ORDER %s
// RUN: not zymase-opt --print-op-generic %s --run square --args 1 2>&1 | FileCheck --check-prefix=ARITY %s

// The seed's example, in arith on f32.

func.func @square(%x: f32, %y: f32) -> (f32, f32) {
  %o1 = arith.mulf %x, %x : f32
  %o2 = arith.mulf %y, %y : f32
  func.return %o1, %o2 : f32, f32
}

// CHECK:      array(9., dtype=float32)
// CHECK-NEXT: array(6.25, dtype=float32)

// NPY:      @square({{.*}}.npy, 4)
// NPY-NEXT: array(2.25, dtype=float32)
// NPY-NEXT: array(16., dtype=float32)

// ARITY-NOT: Traceback
// ARITY: run_square.mlir:9:1: error: @square takes 2 arguments, got 1
// ARITY-NOT: Traceback

// Each --args belongs to the --run before it (several --run calls share one process).
// ORDER: zymase-opt: error: each --args follows the --run it is for
