// RUN: zymase-opt --print-op-generic %s | FileCheck %s
// RUN: zymase-opt --print-op-generic %s | zymase-opt --print-op-generic | FileCheck %s

// Constants of every element type: splat and non-splat, NaN and infinities as MLIR hex literals, large and empty tensors; iota.

"builtin.module"() ({
  "func.func"() <{function_type = () -> (), sym_name = "constants"}> ({
    %0 = "stablehlo.constant"() <{value = dense<0x7FC00000> : tensor<f32>}> : () -> tensor<f32>
    %1 = "stablehlo.constant"() <{value = dense<[0x7FF8000000000000, 0x7FF0000000000000, 0xFFF0000000000000, -0.000000e+00, 1.500000e+00]> : tensor<5xf64>}> : () -> tensor<5xf64>
    %2 = "stablehlo.constant"() <{value = dense<[0x7E00, 0x7C00, 0xFC00, 1.000000e+00]> : tensor<4xf16>}> : () -> tensor<4xf16>
    %3 = "stablehlo.constant"() <{value = dense<[0x7FC0, 0xFF80, 2.500000e+00]> : tensor<3xbf16>}> : () -> tensor<3xbf16>
    %4 = "stablehlo.constant"() <{value = dense<[true, false, true]> : tensor<3xi1>}> : () -> tensor<3xi1>
    %5 = "stablehlo.constant"() <{value = dense<[-128, 0, 127]> : tensor<3xi8>}> : () -> tensor<3xi8>
    %6 = "stablehlo.constant"() <{value = dense<[255, 0]> : tensor<2xui8>}> : () -> tensor<2xui8>
    %7 = "stablehlo.constant"() <{value = dense<4294967295> : tensor<2x2xui32>}> : () -> tensor<2x2xui32>
    %8 = "stablehlo.constant"() <{value = dense<18446744073709551615> : tensor<ui64>}> : () -> tensor<ui64>
    %9 = "stablehlo.constant"() <{value = dense<-9223372036854775808> : tensor<i64>}> : () -> tensor<i64>
    %10 = "stablehlo.constant"() <{value = dense<[(1.000000e+00,-2.000000e+00), (0.000000e+00,5.000000e-01)]> : tensor<2xcomplex<f32>>}> : () -> tensor<2xcomplex<f32>>
    %11 = "stablehlo.constant"() <{value = dense<[[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14], [15, 16, 17, 18, 19]]> : tensor<4x5xi32>}> : () -> tensor<4x5xi32>
    %12 = "stablehlo.constant"() <{value = dense<> : tensor<0x3xf32>}> : () -> tensor<0x3xf32>
    %13 = "stablehlo.iota"() <{iota_dimension = 1 : i64}> : () -> tensor<2x3xui32>
    "func.return"() : () -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:      "builtin.module"() ({
// CHECK-NEXT:   "func.func"() <{function_type = () -> (), sym_name = "constants"}> ({
// CHECK-NEXT:     %[[V0:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<0x7FC00000> : tensor<f32>}> : () -> tensor<f32>
// CHECK-NEXT:     %[[V1:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<[0x7FF8000000000000, 0x7FF0000000000000, 0xFFF0000000000000, -0.000000e+00, 1.500000e+00]> : tensor<5xf64>}> : () -> tensor<5xf64>
// CHECK-NEXT:     %[[V2:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<[0x7E00, 0x7C00, 0xFC00, 1.000000e+00]> : tensor<4xf16>}> : () -> tensor<4xf16>
// CHECK-NEXT:     %[[V3:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<[0x7FC0, 0xFF80, 2.500000e+00]> : tensor<3xbf16>}> : () -> tensor<3xbf16>
// CHECK-NEXT:     %[[V4:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<[true, false, true]> : tensor<3xi1>}> : () -> tensor<3xi1>
// CHECK-NEXT:     %[[V5:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<[-128, 0, 127]> : tensor<3xi8>}> : () -> tensor<3xi8>
// CHECK-NEXT:     %[[V6:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<[255, 0]> : tensor<2xui8>}> : () -> tensor<2xui8>
// CHECK-NEXT:     %[[V7:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<4294967295> : tensor<2x2xui32>}> : () -> tensor<2x2xui32>
// CHECK-NEXT:     %[[V8:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<18446744073709551615> : tensor<ui64>}> : () -> tensor<ui64>
// CHECK-NEXT:     %[[V9:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<-9223372036854775808> : tensor<i64>}> : () -> tensor<i64>
// CHECK-NEXT:     %[[V10:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<[(1.000000e+00,-2.000000e+00), (0.000000e+00,5.000000e-01)]> : tensor<2xcomplex<f32>>}> : () -> tensor<2xcomplex<f32>>
// CHECK-NEXT:     %[[V11:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<{{\[\[}}0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14], [15, 16, 17, 18, 19]]> : tensor<4x5xi32>}> : () -> tensor<4x5xi32>
// CHECK-NEXT:     %[[V12:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<> : tensor<0x3xf32>}> : () -> tensor<0x3xf32>
// CHECK-NEXT:     %[[V13:[^ ,:)#]+]] = "stablehlo.iota"() <{iota_dimension = 1 : i64}> : () -> tensor<2x3xui32>
// CHECK-NEXT:     "func.return"() : () -> ()
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT: }) : () -> ()
