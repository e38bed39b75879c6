// RUN: zymase-opt --print-op-generic %s | FileCheck %s
// RUN: zymase-opt --print-op-generic %s | zymase-opt --print-op-generic | FileCheck %s

// Shape ops: broadcast_in_dim, reshape, transpose, slice, dynamic slices, concatenate, pad, reverse, get_dimension_size.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<3x4xf32>, tensor<i32>, tensor<f32>) -> (), sym_name = "shapes"}> ({
  ^bb0(%x: tensor<3x4xf32>, %i: tensor<i32>, %p: tensor<f32>):
    %0 = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 0, 2>}> : (tensor<3x4xf32>) -> tensor<3x2x4xf32>
    %1 = "stablehlo.reshape"(%0) : (tensor<3x2x4xf32>) -> tensor<6x4xf32>
    %2 = "stablehlo.transpose"(%1) <{permutation = array<i64: 1, 0>}> : (tensor<6x4xf32>) -> tensor<4x6xf32>
    %3 = "stablehlo.slice"(%2) <{limit_indices = array<i64: 4, 5>, start_indices = array<i64: 1, 0>, strides = array<i64: 1, 2>}> : (tensor<4x6xf32>) -> tensor<3x3xf32>
    %4 = "stablehlo.dynamic_slice"(%x, %i, %i) <{slice_sizes = array<i64: 2, 2>}> : (tensor<3x4xf32>, tensor<i32>, tensor<i32>) -> tensor<2x2xf32>
    %5 = "stablehlo.dynamic_update_slice"(%x, %4, %i, %i) : (tensor<3x4xf32>, tensor<2x2xf32>, tensor<i32>, tensor<i32>) -> tensor<3x4xf32>
    %6 = "stablehlo.concatenate"(%5, %x) <{dimension = 0 : i64}> : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<6x4xf32>
    %7 = "stablehlo.pad"(%6, %p) <{edge_padding_high = array<i64: 2, 0>, edge_padding_low = array<i64: -1, 1>, interior_padding = array<i64: 0, 1>}> : (tensor<6x4xf32>, tensor<f32>) -> tensor<7x8xf32>
    %8 = "stablehlo.reverse"(%7) <{dimensions = array<i64: 0, 1>}> : (tensor<7x8xf32>) -> tensor<7x8xf32>
    %9 = "stablehlo.get_dimension_size"(%8) <{dimension = 1 : i64}> : (tensor<7x8xf32>) -> tensor<i32>
    "func.return"() : () -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:      "builtin.module"() ({
// CHECK-NEXT:   "func.func"() <{function_type = (tensor<3x4xf32>, tensor<i32>, tensor<f32>) -> (), sym_name = "shapes"}> ({
// CHECK-NEXT:   ^bb0(%[[X:[^ ,:)#]+]]: tensor<3x4xf32>, %[[I:[^ ,:)#]+]]: tensor<i32>, %[[P:[^ ,:)#]+]]: tensor<f32>):
// CHECK-NEXT:     %[[V0:[^ ,:)#]+]] = "stablehlo.broadcast_in_dim"(%[[X]]) <{broadcast_dimensions = array<i64: 0, 2>}> : (tensor<3x4xf32>) -> tensor<3x2x4xf32>
// CHECK-NEXT:     %[[V1:[^ ,:)#]+]] = "stablehlo.reshape"(%[[V0]]) : (tensor<3x2x4xf32>) -> tensor<6x4xf32>
// CHECK-NEXT:     %[[V2:[^ ,:)#]+]] = "stablehlo.transpose"(%[[V1]]) <{permutation = array<i64: 1, 0>}> : (tensor<6x4xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:     %[[V3:[^ ,:)#]+]] = "stablehlo.slice"(%[[V2]]) <{limit_indices = array<i64: 4, 5>, start_indices = array<i64: 1, 0>, strides = array<i64: 1, 2>}> : (tensor<4x6xf32>) -> tensor<3x3xf32>
// CHECK-NEXT:     %[[V4:[^ ,:)#]+]] = "stablehlo.dynamic_slice"(%[[X]], %[[I]], %[[I]]) <{slice_sizes = array<i64: 2, 2>}> : (tensor<3x4xf32>, tensor<i32>, tensor<i32>) -> tensor<2x2xf32>
// CHECK-NEXT:     %[[V5:[^ ,:)#]+]] = "stablehlo.dynamic_update_slice"(%[[X]], %[[V4]], %[[I]], %[[I]]) : (tensor<3x4xf32>, tensor<2x2xf32>, tensor<i32>, tensor<i32>) -> tensor<3x4xf32>
// CHECK-NEXT:     %[[V6:[^ ,:)#]+]] = "stablehlo.concatenate"(%[[V5]], %[[X]]) <{dimension = 0 : i64}> : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<6x4xf32>
// CHECK-NEXT:     %[[V7:[^ ,:)#]+]] = "stablehlo.pad"(%[[V6]], %[[P]]) <{edge_padding_high = array<i64: 2, 0>, edge_padding_low = array<i64: -1, 1>, interior_padding = array<i64: 0, 1>}> : (tensor<6x4xf32>, tensor<f32>) -> tensor<7x8xf32>
// CHECK-NEXT:     %[[V8:[^ ,:)#]+]] = "stablehlo.reverse"(%[[V7]]) <{dimensions = array<i64: 0, 1>}> : (tensor<7x8xf32>) -> tensor<7x8xf32>
// CHECK-NEXT:     %[[V9:[^ ,:)#]+]] = "stablehlo.get_dimension_size"(%[[V8]]) <{dimension = 1 : i64}> : (tensor<7x8xf32>) -> tensor<i32>
// CHECK-NEXT:     "func.return"() : () -> ()
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT: }) : () -> ()
