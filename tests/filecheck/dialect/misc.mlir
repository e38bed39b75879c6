// RUN: zymase-opt --print-op-generic %s | FileCheck %s
// RUN: zymase-opt --print-op-generic %s | zymase-opt --print-op-generic | FileCheck %s

// Random numbers, FFT, linear algebra, custom calls with backend_config dictionaries and discardable attributes (mhlo.*, sdy.* kept opaque), sdy.mesh.

"builtin.module"() ({
  "sdy.mesh"() <{mesh = #sdy.mesh<[], device_ids=[0]>, sym_name = "maximal_mesh_0"}> : () -> ()
  "func.func"() <{function_type = (tensor<2xui64>, tensor<4xcomplex<f32>>, tensor<3x3xf32>) -> (), sym_name = "misc"}> ({
  ^bb0(%key: tensor<2xui64>, %z: tensor<4xcomplex<f32>>, %a: tensor<3x3xf32>):
    %lo = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f32>}> : () -> tensor<f32>
    %shape = "stablehlo.constant"() <{value = dense<3> : tensor<1xi64>}> : () -> tensor<1xi64>
    %0 = "stablehlo.rng"(%lo, %lo, %shape) <{rng_distribution = #stablehlo<rng_distribution UNIFORM>}> : (tensor<f32>, tensor<f32>, tensor<1xi64>) -> tensor<3xf32>
    %1:2 = "stablehlo.rng_bit_generator"(%key) <{rng_algorithm = #stablehlo<rng_algorithm THREE_FRY>}> : (tensor<2xui64>) -> (tensor<2xui64>, tensor<4xui32>)
    %2 = "stablehlo.fft"(%z) <{fft_length = array<i64: 4>, fft_type = #stablehlo<fft_type IFFT>}> : (tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>>
    %3 = "stablehlo.cholesky"(%a) <{lower = true}> : (tensor<3x3xf32>) -> tensor<3x3xf32>
    %4 = "stablehlo.triangular_solve"(%3, %a) <{left_side = false, lower = true, transpose_a = #stablehlo<transpose TRANSPOSE>, unit_diagonal = true}> : (tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
    %5:2 = "stablehlo.custom_call"(%a) <{api_version = 4 : i32, backend_config = {uplo = 76 : ui8}, call_target_name = "lapack_spotrf_ffi", operand_layouts = [dense<[0, 1]> : tensor<2xindex>], output_operand_aliases = [#stablehlo.output_operand_alias<output_tuple_indices = [0], operand_index = 0, operand_tuple_indices = []>], result_layouts = [dense<[0, 1]> : tensor<2xindex>, dense<> : tensor<0xindex>]}> {mhlo.frontend_attributes = {num_batch_dims = "0"}, sdy.sharding_rule = #sdy.op_sharding_rule<([i, j])->([k, l], []) {i=3, j=3, k=3, l=3}, custom>} : (tensor<3x3xf32>) -> (tensor<3x3xf32>, tensor<i32>)
    "stablehlo.custom_call"(%a) <{api_version = 1 : i32, backend_config = "", call_target_name = "xla_ffi_python_cpu_callback", has_side_effect = true}> {mhlo.backend_config = {index = 0 : ui64}, sdy.sharding = #sdy.sharding_per_value<[<@maximal_mesh_0, []>]>} : (tensor<3x3xf32>) -> ()
    "func.return"() : () -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:      "builtin.module"() ({
// CHECK-NEXT:   "sdy.mesh"() <{mesh = #sdy.mesh<[], device_ids=[0]>, sym_name = "maximal_mesh_0"}> : () -> ()
// CHECK-NEXT:   "func.func"() <{function_type = (tensor<2xui64>, tensor<4xcomplex<f32>>, tensor<3x3xf32>) -> (), sym_name = "misc"}> ({
// CHECK-NEXT:   ^bb0(%[[KEY:[^ ,:)#]+]]: tensor<2xui64>, %[[Z:[^ ,:)#]+]]: tensor<4xcomplex<f32>>, %[[A:[^ ,:)#]+]]: tensor<3x3xf32>):
// CHECK-NEXT:     %[[LO:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f32>}> : () -> tensor<f32>
// CHECK-NEXT:     %[[SHAPE:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<3> : tensor<1xi64>}> : () -> tensor<1xi64>
// CHECK-NEXT:     %[[V0:[^ ,:)#]+]] = "stablehlo.rng"(%[[LO]], %[[LO]], %[[SHAPE]]) <{rng_distribution = #stablehlo<rng_distribution UNIFORM>}> : (tensor<f32>, tensor<f32>, tensor<1xi64>) -> tensor<3xf32>
// CHECK-NEXT:     %[[V1:[^ ,:)#]+]], %[[V2:[^ ,:)#]+]] = "stablehlo.rng_bit_generator"(%[[KEY]]) <{rng_algorithm = #stablehlo<rng_algorithm THREE_FRY>}> : (tensor<2xui64>) -> (tensor<2xui64>, tensor<4xui32>)
// CHECK-NEXT:     %[[V3:[^ ,:)#]+]] = "stablehlo.fft"(%[[Z]]) <{fft_length = array<i64: 4>, fft_type = #stablehlo<fft_type IFFT>}> : (tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>>
// CHECK-NEXT:     %[[V4:[^ ,:)#]+]] = "stablehlo.cholesky"(%[[A]]) <{lower = true}> : (tensor<3x3xf32>) -> tensor<3x3xf32>
// CHECK-NEXT:     %[[V5:[^ ,:)#]+]] = "stablehlo.triangular_solve"(%[[V4]], %[[A]]) <{left_side = false, lower = true, transpose_a = #stablehlo<transpose TRANSPOSE>, unit_diagonal = true}> : (tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
// CHECK-NEXT:     %[[V6:[^ ,:)#]+]], %[[V7:[^ ,:)#]+]] = "stablehlo.custom_call"(%[[A]]) <{api_version = 4 : i32, backend_config = {uplo = 76 : ui8}, call_target_name = "lapack_spotrf_ffi", operand_layouts = [dense<[0, 1]> : tensor<2xindex>], output_operand_aliases = [#stablehlo.output_operand_alias<output_tuple_indices = [0], operand_index = 0, operand_tuple_indices = []>], result_layouts = [dense<[0, 1]> : tensor<2xindex>, dense<> : tensor<0xindex>]}> {mhlo.frontend_attributes = {num_batch_dims = "0"}, sdy.sharding_rule = #sdy.op_sharding_rule<([i, j])->([k, l], []) {i=3, j=3, k=3, l=3}, custom>} : (tensor<3x3xf32>) -> (tensor<3x3xf32>, tensor<i32>)
// CHECK-NEXT:     "stablehlo.custom_call"(%[[A]]) <{api_version = 1 : i32, backend_config = "", call_target_name = "xla_ffi_python_cpu_callback", has_side_effect = true}> {mhlo.backend_config = {index = 0 : ui64}, sdy.sharding = #sdy.sharding_per_value<[<@maximal_mesh_0, []>]>} : (tensor<3x3xf32>) -> ()
// CHECK-NEXT:     "func.return"() : () -> ()
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT: }) : () -> ()
