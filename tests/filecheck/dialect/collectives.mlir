// RUN: zymase-opt --print-op-generic %s | FileCheck %s
// RUN: zymase-opt --print-op-generic %s | zymase-opt --print-op-generic | FileCheck %s

// Collectives (as pmap emits them) and tokens.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<4xf32>) -> (), sym_name = "collectives"}> ({
  ^bb0(%x: tensor<4xf32>):
    %0 = "stablehlo.all_reduce"(%x) <{channel_handle = #stablehlo.channel_handle<handle = 1, type = 1>, replica_groups = dense<0> : tensor<1x1xi64>, use_global_device_ids}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      %s = "stablehlo.add"(%a, %b) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      "stablehlo.return"(%s) : (tensor<f32>) -> ()
    }) : (tensor<4xf32>) -> tensor<4xf32>
    %1 = "stablehlo.all_gather"(%0) <{all_gather_dim = 0 : i64, replica_groups = dense<0> : tensor<1x1xi64>}> : (tensor<4xf32>) -> tensor<4xf32>
    %2 = "stablehlo.reduce_scatter"(%1) <{replica_groups = dense<0> : tensor<1x1xi64>, scatter_dimension = 0 : i64}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      %s = "stablehlo.add"(%a, %b) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      "stablehlo.return"(%s) : (tensor<f32>) -> ()
    }) : (tensor<4xf32>) -> tensor<4xf32>
    %3 = "stablehlo.all_to_all"(%2) <{concat_dimension = 0 : i64, replica_groups = dense<0> : tensor<1x1xi64>, split_count = 1 : i64, split_dimension = 0 : i64}> : (tensor<4xf32>) -> tensor<4xf32>
    %4 = "stablehlo.collective_permute"(%3) <{channel_handle = #stablehlo.channel_handle<handle = 2, type = 1>, source_target_pairs = dense<0> : tensor<1x2xi64>}> : (tensor<4xf32>) -> tensor<4xf32>
    %5 = "stablehlo.collective_broadcast"(%4) <{replica_groups = dense<0> : tensor<1x1xi64>}> : (tensor<4xf32>) -> tensor<4xf32>
    %6 = "stablehlo.partition_id"() : () -> tensor<ui32>
    %7 = "stablehlo.replica_id"() : () -> tensor<ui32>
    %8 = "stablehlo.create_token"() : () -> !stablehlo.token
    %9 = "stablehlo.after_all"(%8, %8) : (!stablehlo.token, !stablehlo.token) -> !stablehlo.token
    "func.return"() : () -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:      "builtin.module"() ({
// CHECK-NEXT:   "func.func"() <{function_type = (tensor<4xf32>) -> (), sym_name = "collectives"}> ({
// CHECK-NEXT:   ^bb0(%[[X:[^ ,:)#]+]]: tensor<4xf32>):
// CHECK-NEXT:     %[[V0:[^ ,:)#]+]] = "stablehlo.all_reduce"(%[[X]]) <{channel_handle = #stablehlo.channel_handle<handle = 1, type = 1>, replica_groups = dense<0> : tensor<1x1xi64>, use_global_device_ids}> ({
// CHECK-NEXT:     ^bb0(%[[A:[^ ,:)#]+]]: tensor<f32>, %[[B:[^ ,:)#]+]]: tensor<f32>):
// CHECK-NEXT:       %[[S:[^ ,:)#]+]] = "stablehlo.add"(%[[A]], %[[B]]) : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT:       "stablehlo.return"(%[[S]]) : (tensor<f32>) -> ()
// CHECK-NEXT:     }) : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:     %[[V1:[^ ,:)#]+]] = "stablehlo.all_gather"(%[[V0]]) <{all_gather_dim = 0 : i64, replica_groups = dense<0> : tensor<1x1xi64>}> : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:     %[[V2:[^ ,:)#]+]] = "stablehlo.reduce_scatter"(%[[V1]]) <{replica_groups = dense<0> : tensor<1x1xi64>, scatter_dimension = 0 : i64}> ({
// CHECK-NEXT:     ^bb0(%[[A_1:[^ ,:)#]+]]: tensor<f32>, %[[B_1:[^ ,:)#]+]]: tensor<f32>):
// CHECK-NEXT:       %[[S_1:[^ ,:)#]+]] = "stablehlo.add"(%[[A_1]], %[[B_1]]) : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT:       "stablehlo.return"(%[[S_1]]) : (tensor<f32>) -> ()
// CHECK-NEXT:     }) : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:     %[[V3:[^ ,:)#]+]] = "stablehlo.all_to_all"(%[[V2]]) <{concat_dimension = 0 : i64, replica_groups = dense<0> : tensor<1x1xi64>, split_count = 1 : i64, split_dimension = 0 : i64}> : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:     %[[V4:[^ ,:)#]+]] = "stablehlo.collective_permute"(%[[V3]]) <{channel_handle = #stablehlo.channel_handle<handle = 2, type = 1>, source_target_pairs = dense<0> : tensor<1x2xi64>}> : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:     %[[V5:[^ ,:)#]+]] = "stablehlo.collective_broadcast"(%[[V4]]) <{replica_groups = dense<0> : tensor<1x1xi64>}> : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:     %[[V6:[^ ,:)#]+]] = "stablehlo.partition_id"() : () -> tensor<ui32>
// CHECK-NEXT:     %[[V7:[^ ,:)#]+]] = "stablehlo.replica_id"() : () -> tensor<ui32>
// CHECK-NEXT:     %[[V8:[^ ,:)#]+]] = "stablehlo.create_token"() : () -> !stablehlo.token
// CHECK-NEXT:     %[[V9:[^ ,:)#]+]] = "stablehlo.after_all"(%[[V8]], %[[V8]]) : (!stablehlo.token, !stablehlo.token) -> !stablehlo.token
// CHECK-NEXT:     "func.return"() : () -> ()
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT: }) : () -> ()
