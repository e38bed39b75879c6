// RUN: zymase-opt --print-op-generic %s | FileCheck %s
// RUN: zymase-opt --print-op-generic %s | zymase-opt --print-op-generic | FileCheck %s

// enzyme.autodiff / enzyme.fwddiff in MLIR's custom form (a trailing function type),
// with the activity lists in full (#enzyme<activity ...>) or as the bare keywords of the
// Enzyme-MLIR talk; zymase-opt prints the generic form, which reads back the same.

func.func @square(%x: f32, %y: f32) -> (f32, f32) {
  %o1 = arith.mulf %x, %x : f32
  %o2 = arith.mulf %y, %y : f32
  func.return %o1, %o2 : f32, f32
}

func.func @grad_square(%x: f32, %y: f32, %do1: f32, %do2: f32) -> (f32, f32, f32, f32) {
  %o1, %o2, %dx, %dy = enzyme.autodiff @square(%x, %y, %do1, %do2) {activity = [enzyme_active, enzyme_active], ret_activity = [enzyme_active, enzyme_active]} : (f32, f32, f32, f32) -> (f32, f32, f32, f32)
  func.return %o1, %o2, %dx, %dy : f32, f32, f32, f32
}

func.func @grad_square_canonical(%x: f32, %y: f32, %do1: f32) -> (f32, f32) {
  %o2, %dx = enzyme.autodiff @square(%x, %y, %do1) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_activenoneed>, #enzyme<activity enzyme_const>]} : (f32, f32, f32) -> (f32, f32)
  func.return %o2, %dx : f32, f32
}

func.func @jvp_square(%x: f32, %tx: tensor<2xf32>, %y: f32) -> (f32, tensor<2xf32>) {
  %o1, %t1 = enzyme.fwddiff @square(%x, %tx, %y) {activity = [enzyme_dup, enzyme_const], ret_activity = [enzyme_dup, enzyme_constnoneed], width = 2} : (f32, tensor<2xf32>, f32) -> (f32, tensor<2xf32>)
  func.return %o1, %t1 : f32, tensor<2xf32>
}

// CHECK-LABEL: sym_name = "grad_square"
// CHECK:       ^bb0(%[[X:[^ ,:)#]+]]: f32, %[[Y:[^ ,:)#]+]]: f32, %[[DO1:[^ ,:)#]+]]: f32, %[[DO2:[^ ,:)#]+]]: f32):
// CHECK-NEXT:    %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} = "enzyme.autodiff"(%[[X]], %[[Y]], %[[DO1]], %[[DO2]]) <{activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], fn = @square}> : (f32, f32, f32, f32) -> (f32, f32, f32, f32)

// CHECK-LABEL: sym_name = "grad_square_canonical"
// CHECK:       "enzyme.autodiff"(%{{.*}}, %{{.*}}, %{{.*}}) <{activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_activenoneed>, #enzyme<activity enzyme_const>], fn = @square}> : (f32, f32, f32) -> (f32, f32)

// CHECK-LABEL: sym_name = "jvp_square"
// CHECK:       ^bb0(%[[X:[^ ,:)#]+]]: f32, %[[TX:[^ ,:)#]+]]: tensor<2xf32>, %[[Y:[^ ,:)#]+]]: f32):
// CHECK-NEXT:    "enzyme.fwddiff"(%[[X]], %[[TX]], %[[Y]]) <{activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_constnoneed>], width = 2 : i64, fn = @square}> : (f32, tensor<2xf32>, f32) -> (f32, tensor<2xf32>)
