// RUN: zymase-opt --print-op-generic %s | FileCheck %s
// RUN: zymase-opt --print-op-generic %s | zymase-opt --print-op-generic | FileCheck %s

// Elementwise StableHLO and chlo ops, compare/select/clamp, conversions and result_accuracy round-trip unchanged in generic form.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<2x3xf32>, tensor<2x3xi32>, tensor<3xcomplex<f32>>) -> (), sym_name = "elementwise"}> ({
  ^bb0(%x: tensor<2x3xf32>, %n: tensor<2x3xi32>, %z: tensor<3xcomplex<f32>>):
    %0 = "stablehlo.exponential"(%x) <{result_accuracy = #stablehlo.result_accuracy<atol = 1.000000e-03, rtol = 0.5, ulps = 2, mode = #stablehlo.result_accuracy_mode<TOLERANCE>>}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %1 = "stablehlo.tanh"(%0) <{result_accuracy = #stablehlo.result_accuracy<mode = #stablehlo.result_accuracy_mode<HIGHEST>>}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %2 = "stablehlo.add"(%x, %1) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %3 = "stablehlo.atan2"(%2, %x) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %4 = "stablehlo.compare"(%3, %x) <{compare_type = #stablehlo<comparison_type FLOAT>, comparison_direction = #stablehlo<comparison_direction GT>}> : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
    %5 = "stablehlo.select"(%4, %3, %x) : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %6 = "stablehlo.clamp"(%n, %n, %n) : (tensor<2x3xi32>, tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
    %7 = "stablehlo.shift_right_logical"(%6, %n) : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
    %8 = "stablehlo.convert"(%7) : (tensor<2x3xi32>) -> tensor<2x3xbf16>
    %9 = "stablehlo.bitcast_convert"(%x) : (tensor<2x3xf32>) -> tensor<2x3x4xui8>
    %10 = "stablehlo.real"(%z) : (tensor<3xcomplex<f32>>) -> tensor<3xf32>
    %11 = "stablehlo.complex"(%10, %10) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xcomplex<f32>>
    %12 = "chlo.erf_inv"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %13 = "chlo.is_inf"(%12) : (tensor<2x3xf32>) -> tensor<2x3xi1>
    %14 = "chlo.next_after"(%x, %12) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %15 = "chlo.square"(%14) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %16 = "chlo.mulhi"(%n, %n) : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
    %17 = "chlo.conj"(%11) : (tensor<3xcomplex<f32>>) -> tensor<3xcomplex<f32>>
    %18 = "stablehlo.reduce_precision"(%15) <{exponent_bits = 5 : i32, mantissa_bits = 10 : i32}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
    "func.return"() : () -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:      "builtin.module"() ({
// CHECK-NEXT:   "func.func"() <{function_type = (tensor<2x3xf32>, tensor<2x3xi32>, tensor<3xcomplex<f32>>) -> (), sym_name = "elementwise"}> ({
// CHECK-NEXT:   ^bb0(%[[X:[^ ,:)#]+]]: tensor<2x3xf32>, %[[N:[^ ,:)#]+]]: tensor<2x3xi32>, %[[Z:[^ ,:)#]+]]: tensor<3xcomplex<f32>>):
// CHECK-NEXT:     %[[V0:[^ ,:)#]+]] = "stablehlo.exponential"(%[[X]]) <{result_accuracy = #stablehlo.result_accuracy<atol = 1.000000e-03, rtol = 5.000000e-01, ulps = 2, mode = #stablehlo.result_accuracy_mode<TOLERANCE>>}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:     %[[V1:[^ ,:)#]+]] = "stablehlo.tanh"(%[[V0]]) <{result_accuracy = #stablehlo.result_accuracy<mode = #stablehlo.result_accuracy_mode<HIGHEST>>}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:     %[[V2:[^ ,:)#]+]] = "stablehlo.add"(%[[X]], %[[V1]]) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:     %[[V3:[^ ,:)#]+]] = "stablehlo.atan2"(%[[V2]], %[[X]]) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:     %[[V4:[^ ,:)#]+]] = "stablehlo.compare"(%[[V3]], %[[X]]) <{compare_type = #stablehlo<comparison_type FLOAT>, comparison_direction = #stablehlo<comparison_direction GT>}> : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
// CHECK-NEXT:     %[[V5:[^ ,:)#]+]] = "stablehlo.select"(%[[V4]], %[[V3]], %[[X]]) : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:     %[[V6:[^ ,:)#]+]] = "stablehlo.clamp"(%[[N]], %[[N]], %[[N]]) : (tensor<2x3xi32>, tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
// CHECK-NEXT:     %[[V7:[^ ,:)#]+]] = "stablehlo.shift_right_logical"(%[[V6]], %[[N]]) : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
// CHECK-NEXT:     %[[V8:[^ ,:)#]+]] = "stablehlo.convert"(%[[V7]]) : (tensor<2x3xi32>) -> tensor<2x3xbf16>
// CHECK-NEXT:     %[[V9:[^ ,:)#]+]] = "stablehlo.bitcast_convert"(%[[X]]) : (tensor<2x3xf32>) -> tensor<2x3x4xui8>
// CHECK-NEXT:     %[[V10:[^ ,:)#]+]] = "stablehlo.real"(%[[Z]]) : (tensor<3xcomplex<f32>>) -> tensor<3xf32>
// CHECK-NEXT:     %[[V11:[^ ,:)#]+]] = "stablehlo.complex"(%[[V10]], %[[V10]]) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xcomplex<f32>>
// CHECK-NEXT:     %[[V12:[^ ,:)#]+]] = "chlo.erf_inv"(%[[X]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:     %[[V13:[^ ,:)#]+]] = "chlo.is_inf"(%[[V12]]) : (tensor<2x3xf32>) -> tensor<2x3xi1>
// CHECK-NEXT:     %[[V14:[^ ,:)#]+]] = "chlo.next_after"(%[[X]], %[[V12]]) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:     %[[V15:[^ ,:)#]+]] = "chlo.square"(%[[V14]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:     %[[V16:[^ ,:)#]+]] = "chlo.mulhi"(%[[N]], %[[N]]) : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
// CHECK-NEXT:     %[[V17:[^ ,:)#]+]] = "chlo.conj"(%[[V11]]) : (tensor<3xcomplex<f32>>) -> tensor<3xcomplex<f32>>
// CHECK-NEXT:     %[[V18:[^ ,:)#]+]] = "stablehlo.reduce_precision"(%[[V15]]) <{exponent_bits = 5 : i32, mantissa_bits = 10 : i32}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:     "func.return"() : () -> ()
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT: }) : () -> ()
