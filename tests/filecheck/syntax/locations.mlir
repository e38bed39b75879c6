// JAX's text with locations: #loc aliases are defined after the module that uses them;
// range locations ("file":3:9 to :16) are read. Output leaves locations out unless
// asked for.
// RUN: zymase-opt %s | FileCheck %s
// RUN: zymase-opt %s --print-debuginfo | FileCheck --check-prefix=DEBUG %s
#loc1 = loc("x")
module @jit_f {
  func.func public @main(%arg0: tensor<4xf32> loc("x")) -> (tensor<4xf32> {jax.result_info = "result"}) {
    %0 = stablehlo.sine %arg0 : tensor<4xf32> loc(#loc5)
    %1 = "stablehlo.negate"(%0) : (tensor<4xf32>) -> tensor<4xf32> loc(#loc6)
    return %1 : tensor<4xf32> loc(#loc)
  } loc(#loc)
} loc(#loc)
#loc = loc(unknown)
#loc2 = loc("/work/f.py":3:9 to :16)
#loc3 = loc("f"(#loc2))
#loc4 = loc("/work/f.py":4:1 to 5:2)
#loc5 = loc("jit(f)/sin"(#loc3))
#loc6 = loc(callsite(#loc3 at #loc2))

// CHECK:      %[[S:[^ ]+]] = stablehlo.sine %{{[^ ]+}} : tensor<4xf32>{{$}}
// CHECK-NEXT: stablehlo.negate %[[S]] : tensor<4xf32>{{$}}

// DEBUG: stablehlo.sine %{{[^ ]+}} : tensor<4xf32> loc("jit(f)/sin"("f"("/work/f.py":3:9)))
