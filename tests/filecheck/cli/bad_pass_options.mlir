// RUN: not zymase-opt %s -p 'unroll-counted-loops{max_iterations=abc}' 2>&1 | FileCheck %s
// RUN: not zymase-opt %s -p 'zymase-derivative{x=1}' 2>&1 | FileCheck --check-prefix=PIPE %s

func.func @f(%x: f32) -> f32 {
  func.return %x : f32
}

// CHECK-NOT: internal error
// CHECK: zymase-opt: error: bad pass options in 'unroll-counted-loops{max_iterations=abc}': {{.*}}int
// PIPE-NOT: internal error
// PIPE: zymase-opt: error: bad pass options in 'zymase-derivative{x=1}': {{.*}}"x"
