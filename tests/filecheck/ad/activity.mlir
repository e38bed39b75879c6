// RUN: zymase-opt --print-op-generic %s -p print-activity-analysis > %t
// RUN: FileCheck %s < %t
// RUN: FileCheck --check-prefix=IR %s < %t

// print-activity-analysis: one line per value of each differentiated function. A value
// is active when it depends on an active argument (varied) and reaches a result whose
// derivative is wanted (useful); integer values never are. The same function differs
// with the activities of each enzyme op.

func.func @mixed(%x: tensor<f32>, %y: tensor<f32>, %n: tensor<i32>) -> (tensor<f32>, tensor<f32>) {
  %a = "stablehlo.sine"(%x) : (tensor<f32>) -> tensor<f32>
  %b = "stablehlo.cosine"(%x) : (tensor<f32>) -> tensor<f32>
  %c = "stablehlo.multiply"(%a, %y) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %m = "stablehlo.multiply"(%n, %n) : (tensor<i32>, tensor<i32>) -> tensor<i32>
  %f = "stablehlo.convert"(%m) : (tensor<i32>) -> tensor<f32>
  %d = "stablehlo.add"(%c, %f) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %e = "stablehlo.exponential"(%b) : (tensor<f32>) -> tensor<f32>
  func.return %d, %e : tensor<f32>, tensor<f32>
}

func.func @grad_x(%x: tensor<f32>, %y: tensor<f32>, %n: tensor<i32>, %dd: tensor<f32>) -> tensor<f32> {
  %dx = enzyme.autodiff @mixed(%x, %y, %n, %dd) {activity = [enzyme_active, enzyme_const, enzyme_const], ret_activity = [enzyme_activenoneed, enzyme_constnoneed]} : (tensor<f32>, tensor<f32>, tensor<i32>, tensor<f32>) -> tensor<f32>
  func.return %dx : tensor<f32>
}

func.func @jvp_y(%x: tensor<f32>, %y: tensor<f32>, %ty: tensor<f32>, %n: tensor<i32>) -> (tensor<f32>, tensor<f32>) {
  %td, %te = enzyme.fwddiff @mixed(%x, %y, %ty, %n) {activity = [enzyme_const, enzyme_dup, enzyme_const], ret_activity = [enzyme_dupnoneed, enzyme_dupnoneed]} : (tensor<f32>, tensor<f32>, tensor<f32>, tensor<i32>) -> (tensor<f32>, tensor<f32>)
  func.return %td, %te : tensor<f32>, tensor<f32>
}

// Reverse mode, x active: cos(x) is varied but feeds only the const second result.
// CHECK-LABEL: enzyme.autodiff @mixed activity [enzyme_active, enzyme_const, enzyme_const] ret_activity [enzyme_activenoneed, enzyme_constnoneed]
// CHECK-NEXT:  @mixed: %arg0 active
// CHECK-NEXT:  @mixed: %arg1 constant (not varied)
// CHECK-NEXT:  @mixed: %arg2 constant (integer)
// CHECK-NEXT:  @mixed: %0 = stablehlo.sine active
// CHECK-NEXT:  @mixed: %1 = stablehlo.cosine constant (not useful)
// CHECK-NEXT:  @mixed: %2 = stablehlo.multiply active
// CHECK-NEXT:  @mixed: %3 = stablehlo.multiply constant (integer)
// CHECK-NEXT:  @mixed: %4 = stablehlo.convert constant (not varied)
// CHECK-NEXT:  @mixed: %5 = stablehlo.add active
// CHECK-NEXT:  @mixed: %6 = stablehlo.exponential constant (not useful)

// Forward mode, y dup: sin(x) is now constant, and nothing reaches the second result.
// CHECK-LABEL: enzyme.fwddiff @mixed activity [enzyme_const, enzyme_dup, enzyme_const] ret_activity [enzyme_dupnoneed, enzyme_dupnoneed]
// CHECK-NEXT:  @mixed: %arg0 constant (not varied)
// CHECK-NEXT:  @mixed: %arg1 active
// CHECK-NEXT:  @mixed: %arg2 constant (integer)
// CHECK-NEXT:  @mixed: %0 = stablehlo.sine constant (not varied)
// CHECK-NEXT:  @mixed: %1 = stablehlo.cosine constant (not varied)
// CHECK-NEXT:  @mixed: %2 = stablehlo.multiply active
// CHECK-NEXT:  @mixed: %3 = stablehlo.multiply constant (integer)
// CHECK-NEXT:  @mixed: %4 = stablehlo.convert constant (not varied)
// CHECK-NEXT:  @mixed: %5 = stablehlo.add active
// CHECK-NEXT:  @mixed: %6 = stablehlo.exponential constant (not varied)

// The pass only prints: the enzyme ops are still there.
// IR: "enzyme.autodiff"
// IR: "enzyme.fwddiff"
// IR-NOT: diffemixed
