// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce | FileCheck %s
// RUN: zymase-opt --print-op-generic %s -p enzyme --run jvp2 --args 3.0 1.0 | FileCheck --check-prefix=NUM %s

// Batched forward mode on a scalar function (arith on f32): the tangent of an f32 with
// width = 2 is a tensor<2xf32> (the verifier's and the engine's convention).
// KNOWN BUG (reported to the lead): the engine stops with "cannot mix scalar f32 into
// tensor code" — the elementwise rule multiplies the f32 partial by the tensor<2xf32>
// tangent without broadcasting the scalar partial into a tensor first.

func.func @cube(%x: f32) -> f32 {
  %x2 = arith.mulf %x, %x : f32
  %x3 = arith.mulf %x2, %x : f32
  func.return %x3 : f32
}

func.func @jvp2(%x: f32, %s: f32) -> tensor<2xf32> {
  %tx = "stablehlo.constant"() <{value = dense<[1.0, 2.0]> : tensor<2xf32>}> : () -> tensor<2xf32>
  %t = enzyme.fwddiff @cube(%x, %tx) {activity = [enzyme_dup], ret_activity = [enzyme_dupnoneed], width = 2} : (f32, tensor<2xf32>) -> tensor<2xf32>
  func.return %t : tensor<2xf32>
}

// CHECK-LABEL: sym_name = "jvp2"
// CHECK:         "func.call"({{.*}}) <{callee = @{{[^ ]+}}}> : (f32, tensor<2xf32>) -> tensor<2xf32>
// CHECK-NOT:   enzyme.fwddiff

// d(x^3) = 3 x^2 = 27 at x = 3, in the directions 1 and 2.
// NUM: array([27., 54.], dtype=float32)
