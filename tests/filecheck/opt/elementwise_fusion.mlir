// RUN: zymase-opt --print-op-generic -p zymase-hlo-opt %s | FileCheck %s

// x * -y -> -(x * y); -(x * 3) -> x * -3 : the negation folds into the constant.
func.func @negate_outwards(%x: tensor<4xf64>, %y: tensor<4xf64>) -> (tensor<4xf64>, tensor<4xf64>) {
  %0 = "stablehlo.negate"(%y) : (tensor<4xf64>) -> tensor<4xf64>
  %1 = "stablehlo.multiply"(%x, %0) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  %c = "stablehlo.constant"() <{value = dense<3.0> : tensor<f64>}> : () -> tensor<f64>
  %b = "stablehlo.broadcast_in_dim"(%c) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<4xf64>
  %2 = "stablehlo.multiply"(%x, %b) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  %3 = "stablehlo.negate"(%2) : (tensor<4xf64>) -> tensor<4xf64>
  func.return %1, %3 : tensor<4xf64>, tensor<4xf64>
}
// CHECK-LABEL: sym_name = "negate_outwards"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<4xf64>, %[[Y:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[M:[^ ,:)#]+]] = "stablehlo.multiply"(%[[X]], %[[Y]])
// CHECK-NEXT:      %[[N:[^ ,:)#]+]] = "stablehlo.negate"(%[[M]])
// CHECK-NEXT:      %[[B:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<-3.000000e+00> : tensor<{{[0-9x]+}}xf64>}>
// CHECK-NEXT:      %[[P:[^ ,:)#]+]] = "stablehlo.multiply"(%[[X]], %[[B]])
// CHECK-NEXT:      "func.return"(%[[N]], %[[P]])

// -x / y -> -(x / y) for floats; integer division keeps it (truncation, INT_MIN).
func.func @divide_negate(%x: tensor<4xf64>, %y: tensor<4xf64>, %i: tensor<4xi32>, %j: tensor<4xi32>) -> (tensor<4xf64>, tensor<4xi32>) {
  %0 = "stablehlo.negate"(%x) : (tensor<4xf64>) -> tensor<4xf64>
  %1 = "stablehlo.divide"(%0, %y) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  %2 = "stablehlo.negate"(%i) : (tensor<4xi32>) -> tensor<4xi32>
  %3 = "stablehlo.divide"(%2, %j) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  func.return %1, %3 : tensor<4xf64>, tensor<4xi32>
}
// CHECK-LABEL: sym_name = "divide_negate"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<4xf64>, %[[Y:[^ ,:)#]+]]: tensor<4xf64>, %[[I:[^ ,:)#]+]]: tensor<4xi32>, %[[J:[^ ,:)#]+]]: tensor<4xi32>):
// CHECK-NEXT:      %[[D:[^ ,:)#]+]] = "stablehlo.divide"(%[[X]], %[[Y]])
// CHECK-NEXT:      %[[N:[^ ,:)#]+]] = "stablehlo.negate"(%[[D]])
// CHECK-NEXT:      %[[NI:[^ ,:)#]+]] = "stablehlo.negate"(%[[I]])
// CHECK-NEXT:      %[[DI:[^ ,:)#]+]] = "stablehlo.divide"(%[[NI]], %[[J]])
// CHECK-NEXT:      "func.return"(%[[N]], %[[DI]])

// (-x) - (-y) -> y - x
func.func @subtract_negates(%x: tensor<4xf64>, %y: tensor<4xf64>) -> tensor<4xf64> {
  %0 = "stablehlo.negate"(%x) : (tensor<4xf64>) -> tensor<4xf64>
  %1 = "stablehlo.negate"(%y) : (tensor<4xf64>) -> tensor<4xf64>
  %2 = "stablehlo.subtract"(%0, %1) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  func.return %2 : tensor<4xf64>
}
// CHECK-LABEL: sym_name = "subtract_negates"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<4xf64>, %[[Y:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[R:[^ ,:)#]+]] = "stablehlo.subtract"(%[[Y]], %[[X]])
// CHECK-NEXT:      "func.return"(%[[R]])

// sign(x) * abs(x) -> x (the derivative of abs times abs); |x| * |x| -> x * x
func.func @sign_abs(%x: tensor<4xf64>) -> (tensor<4xf64>, tensor<4xf64>) {
  %0 = "stablehlo.sign"(%x) : (tensor<4xf64>) -> tensor<4xf64>
  %1 = "stablehlo.abs"(%x) : (tensor<4xf64>) -> tensor<4xf64>
  %2 = "stablehlo.multiply"(%0, %1) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  %3 = "stablehlo.multiply"(%1, %1) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  func.return %2, %3 : tensor<4xf64>, tensor<4xf64>
}
// CHECK-LABEL: sym_name = "sign_abs"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[S:[^ ,:)#]+]] = "stablehlo.multiply"(%[[X]], %[[X]])
// CHECK-NEXT:      "func.return"(%[[X]], %[[S]])

// x + x -> x * 2; (x * 2) * 4 -> x * 8 (powers of two >= 1 are exact)
func.func @doubling(%x: tensor<4xf64>) -> tensor<4xf64> {
  %0 = "stablehlo.add"(%x, %x) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  %c = "stablehlo.constant"() <{value = dense<4.0> : tensor<f64>}> : () -> tensor<f64>
  %b = "stablehlo.broadcast_in_dim"(%c) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<4xf64>
  %1 = "stablehlo.multiply"(%0, %b) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  func.return %1 : tensor<4xf64>
}
// CHECK-LABEL: sym_name = "doubling"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[B:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<8.000000e+00> : tensor<{{[0-9x]+}}xf64>}>
// CHECK-NEXT:      %[[R:[^ ,:)#]+]] = "stablehlo.multiply"(%[[X]], %[[B]])
// CHECK-NEXT:      "func.return"(%[[R]])

// Integers: (x - 3) + 7 -> x + 4; (x + y) - y -> x. Floats keep (x + y) - y (rounding).
func.func @integer_cancel(%i: tensor<4xi32>, %j: tensor<4xi32>, %x: tensor<4xf64>, %y: tensor<4xf64>) -> (tensor<4xi32>, tensor<4xi32>, tensor<4xf64>) {
  %c3 = "stablehlo.constant"() <{value = dense<3> : tensor<i32>}> : () -> tensor<i32>
  %b3 = "stablehlo.broadcast_in_dim"(%c3) <{broadcast_dimensions = array<i64>}> : (tensor<i32>) -> tensor<4xi32>
  %c7 = "stablehlo.constant"() <{value = dense<7> : tensor<i32>}> : () -> tensor<i32>
  %b7 = "stablehlo.broadcast_in_dim"(%c7) <{broadcast_dimensions = array<i64>}> : (tensor<i32>) -> tensor<4xi32>
  %0 = "stablehlo.subtract"(%i, %b3) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %1 = "stablehlo.add"(%0, %b7) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %2 = "stablehlo.add"(%i, %j) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %3 = "stablehlo.subtract"(%2, %j) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %4 = "stablehlo.add"(%x, %y) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  %5 = "stablehlo.subtract"(%4, %y) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  func.return %1, %3, %5 : tensor<4xi32>, tensor<4xi32>, tensor<4xf64>
}
// CHECK-LABEL: sym_name = "integer_cancel"
// CHECK:         ^{{.*}}(%[[I:[^ ,:)#]+]]: tensor<4xi32>, %[[J:[^ ,:)#]+]]: tensor<4xi32>, %[[X:[^ ,:)#]+]]: tensor<4xf64>, %[[Y:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[B:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<4> : tensor<{{[0-9x]+}}xi32>}>
// CHECK-NEXT:      %[[R:[^ ,:)#]+]] = "stablehlo.add"(%[[I]], %[[B]])
// CHECK-NEXT:      %[[S:[^ ,:)#]+]] = "stablehlo.add"(%[[X]], %[[Y]])
// CHECK-NEXT:      %[[T:[^ ,:)#]+]] = "stablehlo.subtract"(%[[S]], %[[Y]])
// CHECK-NEXT:      "func.return"(%[[R]], %[[I]], %[[T]])
