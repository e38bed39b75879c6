// Generic and custom forms mixed in one file, even inside one region.
// RUN: zymase-opt %s | FileCheck %s
// RUN: zymase-opt %s --print-op-generic | FileCheck --check-prefix=GENERIC %s

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "stablehlo.add"(%x, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = stablehlo.multiply %0, %x : tensor<4xf32>
  %2 = "stablehlo.negate"(%1) : (tensor<4xf32>) -> tensor<4xf32>
  "func.return"(%2) : (tensor<4xf32>) -> ()
}
"func.func"() <{sym_name = "g", function_type = (tensor<f32>) -> tensor<f32>}> ({
^bb0(%y: tensor<f32>):
  %3 = stablehlo.sine %y : tensor<f32>
  func.return %3 : tensor<f32>
}) : () -> ()

// CHECK:      func.func @f(%[[X:.+]]: tensor<4xf32>) -> tensor<4xf32> {
// CHECK-NEXT:   %[[A:[^ ]+]] = stablehlo.add %[[X]], %[[X]] : tensor<4xf32>
// CHECK-NEXT:   %[[M:[^ ]+]] = stablehlo.multiply %[[A]], %[[X]] : tensor<4xf32>
// CHECK-NEXT:   %[[N:[^ ]+]] = stablehlo.negate %[[M]] : tensor<4xf32>
// CHECK-NEXT:   return %[[N]] : tensor<4xf32>
// CHECK:      func.func @g(%[[Y:.+]]: tensor<f32>) -> tensor<f32> {
// CHECK-NEXT:   %[[S:[^ ]+]] = stablehlo.sine %[[Y]] : tensor<f32>
// CHECK-NEXT:   return %[[S]] : tensor<f32>

// GENERIC: "stablehlo.add"
// GENERIC: "stablehlo.multiply"
// GENERIC: "stablehlo.negate"
// GENERIC: "func.return"
// GENERIC: "stablehlo.sine"
