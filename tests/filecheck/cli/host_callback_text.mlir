// RUN: not zymase-opt %s --run main --args 1.0 2>&1 | FileCheck %s
// RUN: zymase-opt %s | FileCheck --check-prefix=PRINT %s

// A jax host callback as jax lowers it (jax.debug.print): its Python function is an index
// into the lowering process's callback list, unknown to zymase-opt. Printing works;
// running is refused on one line instead of calling into nothing.

module @jit_f attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  sdy.mesh @maximal_mesh_0 = <[], device_ids=[0]> {stablehlo.mesh = {axes = [], device_ids = dense<0> : tensor<1xi64>}}
  func.func public @main(%arg0: tensor<f32>) -> (tensor<f32> {jax.result_info = "result"}) {
    stablehlo.custom_call @xla_ffi_python_cpu_callback(%arg0) {backend_config = "", has_side_effect = true, mhlo.backend_config = {index = 0 : ui64}, operand_layouts = [dense<> : tensor<0xindex>], result_layouts = [], sdy.sharding = #sdy.sharding_per_value<[<@maximal_mesh_0, []>]>} : (tensor<f32>) -> ()
    %cst = stablehlo.constant dense<2.000000e+00> : tensor<f32>
    %0 = stablehlo.multiply %arg0, %cst : tensor<f32>
    return %0 : tensor<f32>
  }
}

// CHECK: error: cannot emit {{.*}}custom call @xla_ffi_python_cpu_callback is a jax host callback whose Python function is not known here
// PRINT: xla_ffi_python_cpu_callback
