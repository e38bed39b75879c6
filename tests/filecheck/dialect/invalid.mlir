// RUN: sed -n '/^\/\/ BEGIN TRANSPOSE/,/^\/\/ END/p' %s | not zymase-opt --print-op-generic 2>&1 | FileCheck --check-prefix=TRANSPOSE %s
// RUN: sed -n '/^\/\/ BEGIN PAD/,/^\/\/ END/p' %s | not zymase-opt --print-op-generic 2>&1 | FileCheck --check-prefix=PAD %s
// RUN: sed -n '/^\/\/ BEGIN DOT/,/^\/\/ END/p' %s | not zymase-opt --print-op-generic 2>&1 | FileCheck --check-prefix=DOT %s
// RUN: sed -n '/^\/\/ BEGIN CONV/,/^\/\/ END/p' %s | not zymase-opt --print-op-generic 2>&1 | FileCheck --check-prefix=CONV %s

// Invalid modules, one per RUN line: the diagnostic is one line that names the op, its
// source location and the problem, and no Python traceback escapes.

// BEGIN TRANSPOSE
"builtin.module"() ({
  "func.func"() <{function_type = (tensor<3x4xf32>) -> (), sym_name = "f"}> ({
  ^bb0(%x: tensor<3x4xf32>):
    %0 = "stablehlo.transpose"(%x) <{permutation = array<i64: 1, 0>}> : (tensor<3x4xf32>) -> tensor<3x4xf32> loc("model.py":12:7)
    "func.return"() : () -> ()
  }) : () -> ()
}) : () -> ()
// END

// TRANSPOSE-NOT: Traceback
// TRANSPOSE: model.py:12:7: error: {{.*}}'stablehlo.transpose' op at model.py:12:7: result shape (3, 4) does not match the permuted operand shape
// TRANSPOSE-NOT: Traceback

// BEGIN PAD
"builtin.module"() ({
  "func.func"() <{function_type = (tensor<3xf32>, tensor<f32>) -> (), sym_name = "f"}> ({
  ^bb0(%x: tensor<3xf32>, %p: tensor<f32>):
    %0 = "stablehlo.pad"(%x, %p) <{edge_padding_high = array<i64: 1>, edge_padding_low = array<i64: 1>, interior_padding = array<i64: 1>}> : (tensor<3xf32>, tensor<f32>) -> tensor<6xf32>
    "func.return"() : () -> ()
  }) : () -> ()
}) : () -> ()
// END

// PAD-NOT: Traceback
// PAD: stdin:{{[0-9]+}}:{{[0-9]+}}: error: {{.*}}'stablehlo.pad' op{{.*}}: result shape (6,) does not match the padded shape (7,)
// PAD-NOT: Traceback

// BEGIN DOT
"builtin.module"() ({
  "func.func"() <{function_type = (tensor<3x4xf32>) -> (), sym_name = "f"}> ({
  ^bb0(%x: tensor<3x4xf32>):
    %0 = "stablehlo.dot_general"(%x, %x) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting = [1], rhs_contracting_dimensions = [1]>}> : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x3xf32>
    "func.return"() : () -> ()
  }) : () -> ()
}) : () -> ()
// END

// DOT-NOT: Traceback
// DOT: error: unknown field 'lhs_contracting' in #stablehlo.dot
// DOT-NOT: Traceback

// BEGIN CONV
"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> (), sym_name = "f"}> ({
  ^bb0(%x: tensor<1x3x8x8xf32>, %k: tensor<4x3x3x3xf32>):
    %0 = "stablehlo.convolution"(%x, %k) <{batch_group_count = 1 : i64, dimension_numbers = #stablehlo.conv<[b, f, 0, 0]x[o, i, 0, 1]->[b, f, 0, 1]>, feature_group_count = 1 : i64}> : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
    "func.return"() : () -> ()
  }) : () -> ()
}) : () -> ()
// END

// CONV-NOT: Traceback
// CONV: error: duplicate dimension '0' in convolution layout
// CONV-NOT: Traceback
