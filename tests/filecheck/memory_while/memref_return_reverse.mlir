// RUN: zymase-opt %s -p enzyme | FileCheck %s
// RUN: zymase-opt %s -p zymase-derivative --run vjp --args 0.7 1.5 | FileCheck --check-prefix=NUM %s

// A buffer returned in reverse mode as enzyme_const, beside an active scalar read back
// from it: the derivative function returns the primal buffer (no cotangent seeds it)
// and the gradient of the scalar, p = sin(x) * x * sin(x). With x = 0.7 and a seed of
// 1.5: m = [sin(x) x, sin(x)], p = sin(x)^2 x, dx = 1.5 (2 sin(x) cos(x) x + sin(x)^2).
// The returned buffer and its zeroed shadow are distinct; the shadow gathers the
// scalar's cotangent (stored into it by the load adjoints, moved out by the stores').

func.func @make(%x: f64) -> (memref<2xf64>, f64) {
  %m = memref.alloc() : memref<2xf64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %s = math.sin %x : f64
  %y = arith.mulf %s, %x : f64
  memref.store %y, %m[%c0] : memref<2xf64>
  memref.store %s, %m[%c1] : memref<2xf64>
  %u = memref.load %m[%c0] : memref<2xf64>
  %w = memref.load %m[%c1] : memref<2xf64>
  %p = arith.mulf %u, %w : f64
  return %m, %p : memref<2xf64>, f64
}

func.func @vjp(%x: f64, %sp: f64) -> (memref<2xf64>, f64, f64) {
  %m, %p, %g = enzyme.autodiff @make(%x, %sp) <{activity = [#enzyme.activity<enzyme_active>], ret_activity = [#enzyme.activity<enzyme_const>, #enzyme.activity<enzyme_active>]}> : (f64, f64) -> (memref<2xf64>, f64, f64)
  return %m, %p, %g : memref<2xf64>, f64, f64
}

// CHECK-LABEL: func.func private @diffemake(%0: f64, %1: f64) -> (memref<2xf64>, f64, f64) {
// CHECK-NEXT:    %[[M:.+]] = memref.alloc() : memref<2xf64>
// CHECK-NEXT:    %[[SHADOW:.+]] = memref.alloc() : memref<2xf64>
// CHECK:         memref.store %{{.+}}, %[[M]][%c0] : memref<2xf64>
// CHECK:         %[[P:.+]] = arith.mulf %u, %w : f64
// CHECK:         memref.store %{{.+}}, %[[SHADOW]][%c1] : memref<2xf64>
// CHECK:         memref.store %{{.+}}, %[[SHADOW]][%c0] : memref<2xf64>
// CHECK:         math.cos %0 : f64
// CHECK:         return %[[M]], %[[P]], %{{.+}} : memref<2xf64>, f64, f64

// NUM:      array([0.45095238, 0.64421769])
// NUM-NEXT: array(0.2905115)
// NUM-NEXT: array(1.65724686)
