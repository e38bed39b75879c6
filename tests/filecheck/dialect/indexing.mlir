// RUN: zymase-opt --print-op-generic %s | FileCheck %s
// RUN: zymase-opt --print-op-generic %s | zymase-opt --print-op-generic | FileCheck %s

// Gather and scatter, with and without batching dimensions.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<3x4xf32>, tensor<2x1xi64>, tensor<3x1xi64>, tensor<3xf32>) -> (), sym_name = "indexing"}> ({
  ^bb0(%x: tensor<3x4xf32>, %idx: tensor<2x1xi64>, %bidx: tensor<3x1xi64>, %u: tensor<3xf32>):
    %0 = "stablehlo.gather"(%x, %idx) <{dimension_numbers = #stablehlo.gather<offset_dims = [1], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 1>, indices_are_sorted = false, slice_sizes = array<i64: 1, 4>}> : (tensor<3x4xf32>, tensor<2x1xi64>) -> tensor<2x4xf32>
    %1 = "stablehlo.gather"(%x, %bidx) <{dimension_numbers = #stablehlo.gather<collapsed_slice_dims = [1], operand_batching_dims = [0], start_indices_batching_dims = [0], start_index_map = [1], index_vector_dim = 1>, slice_sizes = array<i64: 1, 1>}> : (tensor<3x4xf32>, tensor<3x1xi64>) -> tensor<3xf32>
    %2 = "stablehlo.scatter"(%x, %bidx, %u) <{indices_are_sorted = true, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [1], input_batching_dims = [0], scatter_indices_batching_dims = [0], scatter_dims_to_operand_dims = [1], index_vector_dim = 1>, unique_indices = true}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      %s = "stablehlo.add"(%a, %b) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      "stablehlo.return"(%s) : (tensor<f32>) -> ()
    }) : (tensor<3x4xf32>, tensor<3x1xi64>, tensor<3xf32>) -> tensor<3x4xf32>
    "func.return"() : () -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:      "builtin.module"() ({
// CHECK-NEXT:   "func.func"() <{function_type = (tensor<3x4xf32>, tensor<2x1xi64>, tensor<3x1xi64>, tensor<3xf32>) -> (), sym_name = "indexing"}> ({
// CHECK-NEXT:   ^bb0(%[[X:[^ ,:)#]+]]: tensor<3x4xf32>, %[[IDX:[^ ,:)#]+]]: tensor<2x1xi64>, %[[BIDX:[^ ,:)#]+]]: tensor<3x1xi64>, %[[U:[^ ,:)#]+]]: tensor<3xf32>):
// CHECK-NEXT:     %[[V0:[^ ,:)#]+]] = "stablehlo.gather"(%[[X]], %[[IDX]]) <{dimension_numbers = #stablehlo.gather<offset_dims = [1], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 1>, indices_are_sorted = false, slice_sizes = array<i64: 1, 4>}> : (tensor<3x4xf32>, tensor<2x1xi64>) -> tensor<2x4xf32>
// CHECK-NEXT:     %[[V1:[^ ,:)#]+]] = "stablehlo.gather"(%[[X]], %[[BIDX]]) <{dimension_numbers = #stablehlo.gather<collapsed_slice_dims = [1], operand_batching_dims = [0], start_indices_batching_dims = [0], start_index_map = [1], index_vector_dim = 1>, slice_sizes = array<i64: 1, 1>}> : (tensor<3x4xf32>, tensor<3x1xi64>) -> tensor<3xf32>
// CHECK-NEXT:     %[[V2:[^ ,:)#]+]] = "stablehlo.scatter"(%[[X]], %[[BIDX]], %[[U]]) <{indices_are_sorted = true, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [1], input_batching_dims = [0], scatter_indices_batching_dims = [0], scatter_dims_to_operand_dims = [1], index_vector_dim = 1>, unique_indices = true}> ({
// CHECK-NEXT:     ^bb0(%[[A:[^ ,:)#]+]]: tensor<f32>, %[[B:[^ ,:)#]+]]: tensor<f32>):
// CHECK-NEXT:       %[[S:[^ ,:)#]+]] = "stablehlo.add"(%[[A]], %[[B]]) : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT:       "stablehlo.return"(%[[S]]) : (tensor<f32>) -> ()
// CHECK-NEXT:     }) : (tensor<3x4xf32>, tensor<3x1xi64>, tensor<3xf32>) -> tensor<3x4xf32>
// CHECK-NEXT:     "func.return"() : () -> ()
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT: }) : () -> ()
