// RUN: zymase-opt --print-op-generic -p zymase-hlo-opt %s | FileCheck %s

// reshape(reshape(x)) -> reshape(x); a reshape back to the original shape disappears.
func.func @reshape_chain(%x: tensor<4xf64>) -> (tensor<4x1xf64>, tensor<4xf64>) {
  %0 = "stablehlo.reshape"(%x) : (tensor<4xf64>) -> tensor<2x2xf64>
  %1 = "stablehlo.reshape"(%0) : (tensor<2x2xf64>) -> tensor<4x1xf64>
  %2 = "stablehlo.reshape"(%1) : (tensor<4x1xf64>) -> tensor<4xf64>
  func.return %1, %2 : tensor<4x1xf64>, tensor<4xf64>
}
// CHECK-LABEL: sym_name = "reshape_chain"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[R:[^ ,:)#]+]] = "stablehlo.reshape"(%[[X]]) : (tensor<4xf64>) -> tensor<4x1xf64>
// CHECK-NEXT:      "func.return"(%[[R]], %[[X]])

// x[:, None] broadcast to 4x3, through a broadcast or a reshape: one broadcast of x.
func.func @broadcast_chain(%x: tensor<4xf64>) -> (tensor<4x3xf64>, tensor<4x3xf64>) {
  %0 = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 0>}> : (tensor<4xf64>) -> tensor<4x1xf64>
  %1 = "stablehlo.broadcast_in_dim"(%0) <{broadcast_dimensions = array<i64: 0, 1>}> : (tensor<4x1xf64>) -> tensor<4x3xf64>
  %2 = "stablehlo.reshape"(%x) : (tensor<4xf64>) -> tensor<4x1xf64>
  %3 = "stablehlo.broadcast_in_dim"(%2) <{broadcast_dimensions = array<i64: 0, 1>}> : (tensor<4x1xf64>) -> tensor<4x3xf64>
  func.return %1, %3 : tensor<4x3xf64>, tensor<4x3xf64>
}
// CHECK-LABEL: sym_name = "broadcast_chain"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[A:[^ ,:)#]+]] = "stablehlo.broadcast_in_dim"(%[[X]]) <{broadcast_dimensions = array<i64: 0>}> : (tensor<4xf64>) -> tensor<4x3xf64>
// CHECK-NEXT:      %[[B:[^ ,:)#]+]] = "stablehlo.broadcast_in_dim"(%[[X]]) <{broadcast_dimensions = array<i64: 0>}> : (tensor<4xf64>) -> tensor<4x3xf64>
// CHECK-NEXT:      "func.return"(%[[A]], %[[B]])

// Broadcasts that only permute dims, or only insert dims of size 1.
func.func @broadcast_is_transpose_or_reshape(%x: tensor<2x3xf64>) -> (tensor<3x2xf64>, tensor<2x1x3xf64>) {
  %0 = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 1, 0>}> : (tensor<2x3xf64>) -> tensor<3x2xf64>
  %1 = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 0, 2>}> : (tensor<2x3xf64>) -> tensor<2x1x3xf64>
  func.return %0, %1 : tensor<3x2xf64>, tensor<2x1x3xf64>
}
// CHECK-LABEL: sym_name = "broadcast_is_transpose_or_reshape"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<2x3xf64>):
// CHECK-NEXT:      %[[T:[^ ,:)#]+]] = "stablehlo.transpose"(%[[X]]) <{permutation = array<i64: 1, 0>}>
// CHECK-NEXT:      %[[R:[^ ,:)#]+]] = "stablehlo.reshape"(%[[X]]) : (tensor<2x3xf64>) -> tensor<2x1x3xf64>
// CHECK-NEXT:      "func.return"(%[[T]], %[[R]])

// exp(broadcast(x)) * broadcast(y) + 2: the elementwise work happens on the small
// operands, under one broadcast.
func.func @hoist(%x: tensor<4xf64>, %y: tensor<4xf64>) -> tensor<3x4xf64> {
  %bx = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 1>}> : (tensor<4xf64>) -> tensor<3x4xf64>
  %by = "stablehlo.broadcast_in_dim"(%y) <{broadcast_dimensions = array<i64: 1>}> : (tensor<4xf64>) -> tensor<3x4xf64>
  %e = "stablehlo.exponential"(%bx) : (tensor<3x4xf64>) -> tensor<3x4xf64>
  %m = "stablehlo.multiply"(%e, %by) : (tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3x4xf64>
  %c = "stablehlo.constant"() <{value = dense<2.0> : tensor<f64>}> : () -> tensor<f64>
  %bc = "stablehlo.broadcast_in_dim"(%c) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<3x4xf64>
  %r = "stablehlo.add"(%m, %bc) : (tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3x4xf64>
  func.return %r : tensor<3x4xf64>
}
// CHECK-LABEL: sym_name = "hoist"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<4xf64>, %[[Y:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[E:[^ ,:)#]+]] = "stablehlo.exponential"(%[[X]]) : (tensor<4xf64>) -> tensor<4xf64>
// CHECK-NEXT:      %[[M:[^ ,:)#]+]] = "stablehlo.multiply"(%[[E]], %[[Y]]) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
// CHECK-NEXT:      %[[BC:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<2.000000e+00> : tensor<4xf64>}>
// CHECK-NEXT:      %[[A:[^ ,:)#]+]] = "stablehlo.add"(%[[M]], %[[BC]]) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
// CHECK-NEXT:      %[[R:[^ ,:)#]+]] = "stablehlo.broadcast_in_dim"(%[[A]]) <{broadcast_dimensions = array<i64: 1>}> : (tensor<4xf64>) -> tensor<3x4xf64>
// CHECK-NEXT:      "func.return"(%[[R]])

// reshape(broadcast(x)) -> broadcast(x) when the reshape only inserts a dim of size 1.
func.func @reshape_of_broadcast(%x: tensor<4xf64>) -> tensor<3x1x4xf64> {
  %0 = "stablehlo.broadcast_in_dim"(%x) <{broadcast_dimensions = array<i64: 1>}> : (tensor<4xf64>) -> tensor<3x4xf64>
  %1 = "stablehlo.reshape"(%0) : (tensor<3x4xf64>) -> tensor<3x1x4xf64>
  func.return %1 : tensor<3x1x4xf64>
}
// CHECK-LABEL: sym_name = "reshape_of_broadcast"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[B:[^ ,:)#]+]] = "stablehlo.broadcast_in_dim"(%[[X]]) <{broadcast_dimensions = array<i64: 2>}> : (tensor<4xf64>) -> tensor<3x1x4xf64>
// CHECK-NEXT:      "func.return"(%[[B]])

// Reshapes move toward the results: exp(reshape(x)) -> reshape(exp(x)), and reshapes of
// one shape feeding a binary op become one reshape of its result.
func.func @reshape_through(%x: tensor<4xf64>, %y: tensor<4xf64>) -> tensor<2x2xf64> {
  %0 = "stablehlo.reshape"(%x) : (tensor<4xf64>) -> tensor<2x2xf64>
  %e = "stablehlo.exponential"(%0) : (tensor<2x2xf64>) -> tensor<2x2xf64>
  %1 = "stablehlo.reshape"(%y) : (tensor<4xf64>) -> tensor<2x2xf64>
  %2 = "stablehlo.reshape"(%x) : (tensor<4xf64>) -> tensor<2x2xf64>
  %3 = "stablehlo.multiply"(%2, %1) : (tensor<2x2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
  %4 = "stablehlo.add"(%e, %3) : (tensor<2x2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
  func.return %4 : tensor<2x2xf64>
}
// CHECK-LABEL: sym_name = "reshape_through"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<4xf64>, %[[Y:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[E:[^ ,:)#]+]] = "stablehlo.exponential"(%[[X]]) : (tensor<4xf64>) -> tensor<4xf64>
// CHECK-NEXT:      %[[M:[^ ,:)#]+]] = "stablehlo.multiply"(%[[X]], %[[Y]]) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
// CHECK-NEXT:      %[[A:[^ ,:)#]+]] = "stablehlo.add"(%[[E]], %[[M]]) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
// CHECK-NEXT:      %[[R:[^ ,:)#]+]] = "stablehlo.reshape"(%[[A]]) : (tensor<4xf64>) -> tensor<2x2xf64>
// CHECK-NEXT:      "func.return"(%[[R]])
