// RUN: zymase-opt %s -p zymase-derivative | FileCheck %s
// Reverse mode of a shard_map (sdy.manual_computation): the derivative is a manual
// computation over the same mesh and manual axes, reading the primal operands and the
// result's cotangent (split like the result) and returning the operands' cotangents
// (split like the operands). Inside it the collectives are transposed: all_gather along
// dimension 1 becomes a reduce_scatter along dimension 1, the ring permute runs backwards;
// the weight replicated over "data" gets its cotangent summed over "data" (an all_reduce
// with the "data" groups), while the "model" axis, along which nothing varies, needs
// neither that sum nor the division of the cotangent by its size.

sdy.mesh @mesh = <["data"=4, "model"=2]>
func.func @main(%w: tensor<4xf32>, %x: tensor<8x4xf32>) -> tensor<4xf32> {
  %one = stablehlo.constant dense<1.0> : tensor<f32>
  %d = enzyme.autodiff @f(%w, %x, %one) {activity=[#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], ret_activity=[#enzyme<activity enzyme_activenoneed>]} : (tensor<4xf32>, tensor<8x4xf32>, tensor<f32>) -> tensor<4xf32>
  func.return %d : tensor<4xf32>
}
func.func private @f(%w: tensor<4xf32>, %x: tensor<8x4xf32>) -> tensor<f32> {
  %0 = sdy.manual_computation(%w, %x) in_shardings=[<@mesh, [{}]>, <@mesh, [{"data"}, {}]>] out_shardings=[<@mesh, [{"data"}, {}]>] manual_axes={"data", "model"} (%lw: tensor<4xf32>, %lx: tensor<2x4xf32>) {
    %b = stablehlo.broadcast_in_dim %lw, dims = [1] : (tensor<4xf32>) -> tensor<2x4xf32>
    %m = stablehlo.multiply %lx, %b : tensor<2x4xf32>
    %s = stablehlo.sine %m : tensor<2x4xf32>
    %g = "stablehlo.all_gather"(%s) <{all_gather_dim = 1 : i64, channel_handle = #stablehlo.channel_handle<handle = 1, type = 1>, replica_groups = dense<[[0, 2, 4, 6], [1, 3, 5, 7]]> : tensor<2x4xi64>, use_global_device_ids}> : (tensor<2x4xf32>) -> tensor<2x16xf32>
    %sq = stablehlo.multiply %g, %g : tensor<2x16xf32>
    %sl = stablehlo.slice %sq [0:2, 0:4] : (tensor<2x16xf32>) -> tensor<2x4xf32>
    %p = "stablehlo.collective_permute"(%sl) <{channel_handle = #stablehlo.channel_handle<handle = 1, type = 1>, source_target_pairs = dense<[[0, 2], [2, 4], [4, 6], [6, 0], [1, 3], [3, 5], [5, 7], [7, 1]]> : tensor<8x2xi64>}> : (tensor<2x4xf32>) -> tensor<2x4xf32>
    sdy.return %p : tensor<2x4xf32>
  } : (tensor<4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
  %c = stablehlo.constant dense<0.0> : tensor<f32>
  %r = stablehlo.reduce(%0 init: %c) applies stablehlo.add across dimensions = [0, 1] : (tensor<8x4xf32>, tensor<f32>) -> tensor<f32>
  func.return %r : tensor<f32>
}

// CHECK-LABEL: func.func @main
// CHECK-NOT: func.call
// CHECK: %[[CT:.*]] = stablehlo.constant dense<1.000000e+00> : tensor<8x4xf32>
// CHECK: sdy.manual_computation(%w, %x, %[[CT]]) in_shardings=[<@mesh, [{}]>, <@mesh, [{"data"}, {}]>, <@mesh, [{"data"}, {}]>] out_shardings=[<@mesh, [{}]>] manual_axes={"data", "model"} ({{.*}}: tensor<4xf32>, {{.*}}: tensor<2x4xf32>, {{.*}}: tensor<2x4xf32>) {
// CHECK-NOT: constant dense<5.0
// CHECK: "stablehlo.all_gather"
// CHECK: "stablehlo.collective_permute"({{.*}}) <{{.*}}source_target_pairs = dense<{{\[\[}}2, 0], [4, 2], [6, 4], [0, 6], [3, 1], [5, 3], [7, 5], [1, 7]]>
// CHECK: "stablehlo.reduce_scatter"({{.*}}) <{{.*}}replica_groups = dense<{{\[\[}}0, 2, 4, 6], [1, 3, 5, 7]]> : tensor<2x4xi64>, {{.*}}scatter_dimension = 1 : i64
// CHECK: %[[G:.*]] = stablehlo.reduce
// CHECK-NEXT: "stablehlo.all_reduce"(%[[G]]) <{replica_groups = dense<{{\[\[}}0, 2, 4, 6], [1, 3, 5, 7]]>
// CHECK: sdy.return {{.*}} : tensor<4xf32>
// CHECK-NEXT: } : (tensor<4xf32>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<4xf32>
