// RUN: zymase-opt --print-op-generic %s | FileCheck %s
// RUN: zymase-opt --print-op-generic %s | zymase-opt --print-op-generic | FileCheck %s

// Reductions and sorting: reduce (two operands), reduce_window, select_and_scatter, sort, chlo.top_k.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<3x4xf32>, tensor<3x4xi32>, tensor<f32>, tensor<i32>) -> (), sym_name = "reductions"}> ({
  ^bb0(%x: tensor<3x4xf32>, %n: tensor<3x4xi32>, %zero: tensor<f32>, %izero: tensor<i32>):
    %0:2 = "stablehlo.reduce"(%x, %n, %zero, %izero) <{dimensions = array<i64: 1>}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<i32>, %c: tensor<f32>, %d: tensor<i32>):
      %s = "stablehlo.maximum"(%a, %c) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %t = "stablehlo.add"(%b, %d) : (tensor<i32>, tensor<i32>) -> tensor<i32>
      "stablehlo.return"(%s, %t) : (tensor<f32>, tensor<i32>) -> ()
    }) : (tensor<3x4xf32>, tensor<3x4xi32>, tensor<f32>, tensor<i32>) -> (tensor<3xf32>, tensor<3xi32>)
    %1 = "stablehlo.reduce_window"(%x, %zero) <{base_dilations = array<i64: 1, 2>, padding = dense<[[0, 0], [1, 1]]> : tensor<2x2xi64>, window_dilations = array<i64: 2, 1>, window_dimensions = array<i64: 2, 2>, window_strides = array<i64: 1, 1>}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      %s = "stablehlo.add"(%a, %b) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      "stablehlo.return"(%s) : (tensor<f32>) -> ()
    }) : (tensor<3x4xf32>, tensor<f32>) -> tensor<1x8xf32>
    %src = "stablehlo.broadcast_in_dim"(%zero) <{broadcast_dimensions = array<i64>}> : (tensor<f32>) -> tensor<1x1xf32>
    %2 = "stablehlo.select_and_scatter"(%x, %src, %zero) <{padding = dense<[[0, 0], [0, 0]]> : tensor<2x2xi64>, window_dimensions = array<i64: 3, 4>, window_strides = array<i64: 1, 1>}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      %p = "stablehlo.compare"(%a, %b) <{comparison_direction = #stablehlo<comparison_direction GE>}> : (tensor<f32>, tensor<f32>) -> tensor<i1>
      "stablehlo.return"(%p) : (tensor<i1>) -> ()
    }, {
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      %s = "stablehlo.add"(%a, %b) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      "stablehlo.return"(%s) : (tensor<f32>) -> ()
    }) : (tensor<3x4xf32>, tensor<1x1xf32>, tensor<f32>) -> tensor<3x4xf32>
    %3:2 = "stablehlo.sort"(%x, %n) <{dimension = 1 : i64, is_stable = true}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>, %c: tensor<i32>, %d: tensor<i32>):
      %p = "stablehlo.compare"(%a, %b) <{compare_type = #stablehlo<comparison_type TOTALORDER>, comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<f32>, tensor<f32>) -> tensor<i1>
      "stablehlo.return"(%p) : (tensor<i1>) -> ()
    }) : (tensor<3x4xf32>, tensor<3x4xi32>) -> (tensor<3x4xf32>, tensor<3x4xi32>)
    %4:2 = "chlo.top_k"(%x) <{k = 2 : i64}> : (tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi32>)
    "func.return"() : () -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:      "builtin.module"() ({
// CHECK-NEXT:   "func.func"() <{function_type = (tensor<3x4xf32>, tensor<3x4xi32>, tensor<f32>, tensor<i32>) -> (), sym_name = "reductions"}> ({
// CHECK-NEXT:   ^bb0(%[[X:[^ ,:)#]+]]: tensor<3x4xf32>, %[[N:[^ ,:)#]+]]: tensor<3x4xi32>, %[[ZERO:[^ ,:)#]+]]: tensor<f32>, %[[IZERO:[^ ,:)#]+]]: tensor<i32>):
// CHECK-NEXT:     %[[V0:[^ ,:)#]+]], %[[V1:[^ ,:)#]+]] = "stablehlo.reduce"(%[[X]], %[[N]], %[[ZERO]], %[[IZERO]]) <{dimensions = array<i64: 1>}> ({
// CHECK-NEXT:     ^bb0(%[[A:[^ ,:)#]+]]: tensor<f32>, %[[B:[^ ,:)#]+]]: tensor<i32>, %[[C:[^ ,:)#]+]]: tensor<f32>, %[[D:[^ ,:)#]+]]: tensor<i32>):
// CHECK-NEXT:       %[[S:[^ ,:)#]+]] = "stablehlo.maximum"(%[[A]], %[[C]]) : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT:       %[[T:[^ ,:)#]+]] = "stablehlo.add"(%[[B]], %[[D]]) : (tensor<i32>, tensor<i32>) -> tensor<i32>
// CHECK-NEXT:       "stablehlo.return"(%[[S]], %[[T]]) : (tensor<f32>, tensor<i32>) -> ()
// CHECK-NEXT:     }) : (tensor<3x4xf32>, tensor<3x4xi32>, tensor<f32>, tensor<i32>) -> (tensor<3xf32>, tensor<3xi32>)
// CHECK-NEXT:     %[[V2:[^ ,:)#]+]] = "stablehlo.reduce_window"(%[[X]], %[[ZERO]]) <{base_dilations = array<i64: 1, 2>, padding = dense<{{\[\[}}0, 0], [1, 1]]> : tensor<2x2xi64>, window_dilations = array<i64: 2, 1>, window_dimensions = array<i64: 2, 2>, window_strides = array<i64: 1, 1>}> ({
// CHECK-NEXT:     ^bb0(%[[A_1:[^ ,:)#]+]]: tensor<f32>, %[[B_1:[^ ,:)#]+]]: tensor<f32>):
// CHECK-NEXT:       %[[S_1:[^ ,:)#]+]] = "stablehlo.add"(%[[A_1]], %[[B_1]]) : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT:       "stablehlo.return"(%[[S_1]]) : (tensor<f32>) -> ()
// CHECK-NEXT:     }) : (tensor<3x4xf32>, tensor<f32>) -> tensor<1x8xf32>
// CHECK-NEXT:     %[[SRC:[^ ,:)#]+]] = "stablehlo.broadcast_in_dim"(%[[ZERO]]) <{broadcast_dimensions = array<i64>}> : (tensor<f32>) -> tensor<1x1xf32>
// CHECK-NEXT:     %[[V3:[^ ,:)#]+]] = "stablehlo.select_and_scatter"(%[[X]], %[[SRC]], %[[ZERO]]) <{padding = dense<0> : tensor<2x2xi64>, window_dimensions = array<i64: 3, 4>, window_strides = array<i64: 1, 1>}> ({
// CHECK-NEXT:     ^bb0(%[[A_2:[^ ,:)#]+]]: tensor<f32>, %[[B_2:[^ ,:)#]+]]: tensor<f32>):
// CHECK-NEXT:       %[[P:[^ ,:)#]+]] = "stablehlo.compare"(%[[A_2]], %[[B_2]]) <{comparison_direction = #stablehlo<comparison_direction GE>}> : (tensor<f32>, tensor<f32>) -> tensor<i1>
// CHECK-NEXT:       "stablehlo.return"(%[[P]]) : (tensor<i1>) -> ()
// CHECK-NEXT:     }, {
// CHECK-NEXT:     ^bb0(%[[A_3:[^ ,:)#]+]]: tensor<f32>, %[[B_3:[^ ,:)#]+]]: tensor<f32>):
// CHECK-NEXT:       %[[S_2:[^ ,:)#]+]] = "stablehlo.add"(%[[A_3]], %[[B_3]]) : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT:       "stablehlo.return"(%[[S_2]]) : (tensor<f32>) -> ()
// CHECK-NEXT:     }) : (tensor<3x4xf32>, tensor<1x1xf32>, tensor<f32>) -> tensor<3x4xf32>
// CHECK-NEXT:     %[[V4:[^ ,:)#]+]], %[[V5:[^ ,:)#]+]] = "stablehlo.sort"(%[[X]], %[[N]]) <{dimension = 1 : i64, is_stable = true}> ({
// CHECK-NEXT:     ^bb0(%[[A_4:[^ ,:)#]+]]: tensor<f32>, %[[B_4:[^ ,:)#]+]]: tensor<f32>, %[[C_1:[^ ,:)#]+]]: tensor<i32>, %[[D_1:[^ ,:)#]+]]: tensor<i32>):
// CHECK-NEXT:       %[[P_1:[^ ,:)#]+]] = "stablehlo.compare"(%[[A_4]], %[[B_4]]) <{compare_type = #stablehlo<comparison_type TOTALORDER>, comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<f32>, tensor<f32>) -> tensor<i1>
// CHECK-NEXT:       "stablehlo.return"(%[[P_1]]) : (tensor<i1>) -> ()
// CHECK-NEXT:     }) : (tensor<3x4xf32>, tensor<3x4xi32>) -> (tensor<3x4xf32>, tensor<3x4xi32>)
// CHECK-NEXT:     %[[V6:[^ ,:)#]+]], %[[V7:[^ ,:)#]+]] = "chlo.top_k"(%[[X]]) <{k = 2 : i64}> : (tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi32>)
// CHECK-NEXT:     "func.return"() : () -> ()
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT: }) : () -> ()
