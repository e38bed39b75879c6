// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce | FileCheck %s

// The same custom_call off the active path needs no rule: it is only cloned.

func.func @f(%x: tensor<f32>, %c: tensor<f32>) -> tensor<f32> {
  %k = "stablehlo.custom_call"(%c) <{call_target_name = "my_kernel"}> : (tensor<f32>) -> tensor<f32>
  %y = "stablehlo.multiply"(%x, %k) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %y : tensor<f32>
}

func.func @grad_f(%x: tensor<f32>, %c: tensor<f32>, %d: tensor<f32>) -> tensor<f32> {
  %dx = enzyme.autodiff @f(%x, %c, %d) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_activenoneed]} : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %dx : tensor<f32>
}

// CHECK-LABEL: sym_name = "diffef"
// CHECK-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: tensor<f32>, %[[C:[^ ,:)#]+]]: tensor<f32>, %[[D:[^ ,:)#]+]]: tensor<f32>):
// CHECK-NEXT:    %[[K:[^ ]+]] = "stablehlo.custom_call"(%[[C]])
// CHECK-NEXT:    %[[DX:[^ ]+]] = "stablehlo.multiply"(%[[D]], %[[K]])
// CHECK-NEXT:    "func.return"(%[[DX]])
