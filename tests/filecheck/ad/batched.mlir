// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce | FileCheck %s

// Batched forward mode (width = 2): each tangent carries two directions along a new
// leading dimension, tensor<3xf32> -> tensor<2x3xf32>; primal factors are broadcast
// along it.

func.func @f(%x: tensor<3xf32>, %y: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %o1 = "stablehlo.multiply"(%x, %x) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %s = "stablehlo.sine"(%y) : (tensor<3xf32>) -> tensor<3xf32>
  %o2 = "stablehlo.multiply"(%o1, %s) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  func.return %o1, %o2 : tensor<3xf32>, tensor<3xf32>
}

func.func @jvp2(%x: tensor<3xf32>, %tx: tensor<2x3xf32>, %y: tensor<3xf32>) -> (tensor<3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %o1, %t1, %t2 = enzyme.fwddiff @f(%x, %tx, %y) {activity = [enzyme_dup, enzyme_const], ret_activity = [enzyme_dup, enzyme_dupnoneed], width = 2} : (tensor<3xf32>, tensor<2x3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<2x3xf32>, tensor<2x3xf32>)
  func.return %o1, %t1, %t2 : tensor<3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// CHECK-LABEL: sym_name = "jvp2"
// CHECK:         "func.call"({{.*}}) <{callee = @[[FN:[^ ]+]]}> : (tensor<3xf32>, tensor<2x3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<2x3xf32>, tensor<2x3xf32>)

// CHECK:       sym_name = "[[FN]]", function_type = (tensor<3xf32>, tensor<2x3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<2x3xf32>, tensor<2x3xf32>)
// CHECK-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: tensor<3xf32>, %[[TX:[^ ,:)#]+]]: tensor<2x3xf32>, %[[Y:[^ ,:)#]+]]: tensor<3xf32>):
// CHECK-NEXT:    %[[O1:[^ ]+]] = "stablehlo.multiply"(%[[X]], %[[X]])
// CHECK-NEXT:    %[[XB:[^ ]+]] = "stablehlo.broadcast_in_dim"(%[[X]]) <{broadcast_dimensions = array<i64: 1>}> : (tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %[[A:[^ ]+]] = "stablehlo.multiply"(%[[TX]], %[[XB]]) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %[[B:[^ ]+]] = "stablehlo.multiply"(%[[XB]], %[[TX]])
// CHECK-NEXT:    %[[T1:[^ ]+]] = "stablehlo.add"(%[[A]], %[[B]]) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %[[S:[^ ]+]] = "stablehlo.sine"(%[[Y]])
// CHECK-NEXT:    %[[SB:[^ ]+]] = "stablehlo.broadcast_in_dim"(%[[S]]) <{broadcast_dimensions = array<i64: 1>}> : (tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %[[T2:[^ ]+]] = "stablehlo.multiply"(%[[T1]], %[[SB]])
// CHECK-NEXT:    "func.return"(%[[O1]], %[[T1]], %[[T2]]) : (tensor<3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> ()
