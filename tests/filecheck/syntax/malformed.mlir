// Malformed custom syntax: one line on stderr with file:line:col, exit code 1.
// RUN: not zymase-opt %s 2>&1 | FileCheck %s
// RUN: not zymase-opt %s 2>&1 | wc -l | FileCheck --check-prefix=LINES %s

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.broadcast_in_dim %x, dimz = [0] : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// CHECK: malformed.mlir:6:{{[0-9]+}}: error: {{.*}}dims
// LINES: 1
