// RUN: zymase-opt %s | zymase-opt | FileCheck %s
// RUN: zymase-opt %s --print-op-generic | zymase-opt | FileCheck %s
// RUN: zymase-opt %s --print-op-generic | FileCheck %s --check-prefix=GENERIC
// Shardy's syntax as jax prints it: sdy.manual_computation with its shardings, manual
// axes and region, sdy.return, sdy.sharding_constraint, sdy.mesh and the collectives.

sdy.mesh @mesh = <["data"=4, "model"=2]>
func.func @main(%arg0: tensor<8x4xf32> {sdy.sharding = #sdy.sharding<@mesh, [{"data"}, {}]>}) -> tensor<8x4xf32> {
  %0 = sdy.manual_computation(%arg0) in_shardings=[<@mesh, [{"data", ?}, {"model"}]>] out_shardings=[<@mesh, [{"data", ?}, {"model"}]>] manual_axes={"data", "model"} (%arg1: tensor<2x2xf32>) {
    %1 = "stablehlo.all_reduce"(%arg1) <{channel_handle = #stablehlo.channel_handle<handle = 1, type = 1>, replica_groups = dense<[[0, 1], [2, 3], [4, 5], [6, 7]]> : tensor<4x2xi64>, use_global_device_ids}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      %s = stablehlo.add %a, %b : tensor<f32>
      stablehlo.return %s : tensor<f32>
    }) : (tensor<2x2xf32>) -> tensor<2x2xf32>
    %2 = stablehlo.partition_id : tensor<ui32>
    sdy.return %1 : tensor<2x2xf32>
  } : (tensor<8x4xf32>) -> tensor<8x4xf32>
  %3 = sdy.sharding_constraint %0 <@mesh, [{}, {"model"}]> : tensor<8x4xf32>
  func.return %3 : tensor<8x4xf32>
}

// CHECK: sdy.mesh @mesh = <["data"=4, "model"=2]>
// CHECK: func.func @main(%{{.*}}: tensor<8x4xf32> {sdy.sharding = #sdy.sharding<@mesh, [{"data"}, {}]>}) -> tensor<8x4xf32>
// CHECK: sdy.manual_computation(%{{.*}}) in_shardings=[<@mesh, [{"data", ?}, {"model"}]>] out_shardings=[<@mesh, [{"data", ?}, {"model"}]>] manual_axes={"data", "model"} (%[[L:.*]]: tensor<2x2xf32>) {
// CHECK: "stablehlo.all_reduce"(%[[L]])
// CHECK: sdy.return %{{.*}} : tensor<2x2xf32>
// CHECK-NEXT: } : (tensor<8x4xf32>) -> tensor<8x4xf32>
// CHECK: sdy.sharding_constraint %{{.*}} <@mesh, [{}, {"model"}]> : tensor<8x4xf32>

// GENERIC: "sdy.manual_computation"(%{{.*}}) <{in_shardings = #sdy.sharding_per_value<[<@mesh, [{"data", ?}, {"model"}]>]>, manual_axes = #sdy<manual_axes{"data", "model"}>, out_shardings = #sdy.sharding_per_value<[<@mesh, [{"data", ?}, {"model"}]>]>}> ({
// GENERIC: "sdy.return"(%{{.*}}) : (tensor<2x2xf32>) -> ()
