// RUN: zymase-opt %s -p enzyme | FileCheck %s

// x[i] = x[i]^2 in place for i < n (run-time bound), returning the sum of the squares.
// Reverse mode caches, per iteration, the carried sum and the loaded value in memrefs
// sized by the trip count (Enzyme's caches), then runs the reverse loop k = N-1 .. 0:
// the body is recomputed from the caches (the load is not redone: x[i] has changed),
// and the shadow of x[i] (the seed of its final value plus the sum's seed) times 2 x[i]
// becomes the gradient of x[i] on entry. With x = [1, 2, 3, 4] (n = 3 of them) and a
// shadow of ones: dx = (1 + 1) * 2 x = [4, 8, 12] and 1 for the element not touched.

func.func @square(%x: memref<?xf64>, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {
    %v = memref.load %x[%i] : memref<?xf64>
    %m = arith.mulf %v, %v : f64
    memref.store %m, %x[%i] : memref<?xf64>
    %a = arith.addf %acc, %m : f64
    scf.yield %a : f64
  }
  return %r : f64
}

func.func @dsquare(%x: memref<?xf64>, %dx: memref<?xf64>, %n: index, %dr: f64) {
  enzyme.autodiff @square(%x, %dx, %n, %dr) <activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_const>], ret_activity = [#enzyme.activity<enzyme_activenoneed>]> : (memref<?xf64>, memref<?xf64>, index, f64) -> ()
  return
}

// CHECK-LABEL: func.func private @diffesquare(%0: memref<?xf64>, %1: memref<?xf64>, %2: index, %3: f64) {
// CHECK:         %[[N:.+]] = arith.maxsi
// CHECK-NEXT:    %[[CACC:.+]] = memref.alloc(%[[N]]) : memref<?xf64>
// CHECK-NEXT:    %[[CV:.+]] = memref.alloc(%[[N]]) : memref<?xf64>
// CHECK-NEXT:    scf.for %[[IV:.+]] = %c0 to %2 step %c1 iter_args(%[[ACC:.+]] = %z) -> (f64) {
// CHECK:           memref.store %[[ACC]], %[[CACC]][%[[K:.+]]] : memref<?xf64>
// CHECK-NEXT:      %v = memref.load %0[%[[IV]]] : memref<?xf64>
// CHECK-NEXT:      memref.store %v, %[[CV]][%[[K]]] : memref<?xf64>
// CHECK-NEXT:      %m = arith.mulf %v, %v : f64
// CHECK-NEXT:      memref.store %m, %0[%[[IV]]] : memref<?xf64>
// CHECK:         scf.for %[[J:.+]] = %{{.+}} to %[[N]] step %{{.+}} iter_args(%[[CT:.+]] = %3) -> (f64) {
// CHECK:           %[[RK:.+]] = arith.subi %{{.+}}, %[[J]] : index
// CHECK:           %[[RIV:.+]] = arith.addi %c0, %{{.+}} : index
// CHECK-NOT:       memref.load %0
// CHECK:           %[[V:.+]] = memref.load %[[CV]][%[[RK]]] : memref<?xf64>
// CHECK-NOT:       memref.store %{{.+}}, %0
// CHECK:           %[[S:.+]] = memref.load %1[%[[RIV]]] : memref<?xf64>
// CHECK-NEXT:      %[[Z:.+]] = arith.constant 0.000000e+00 : f64
// CHECK-NEXT:      memref.store %[[Z]], %1[%[[RIV]]] : memref<?xf64>
// CHECK-NEXT:      %[[CM:.+]] = arith.addf %[[CT]], %[[S]] : f64
// CHECK-NEXT:      %[[P1:.+]] = arith.mulf %[[CM]], %[[V]] : f64
// CHECK-NEXT:      %[[P2:.+]] = arith.mulf %[[V]], %[[CM]] : f64
// CHECK-NEXT:      %[[CTV:.+]] = arith.addf %[[P1]], %[[P2]] : f64
// CHECK-NEXT:      %[[OLD:.+]] = memref.load %1[%[[RIV]]] : memref<?xf64>
// CHECK-NEXT:      %[[NEW:.+]] = arith.addf %[[OLD]], %[[CTV]] : f64
// CHECK-NEXT:      memref.store %[[NEW]], %1[%[[RIV]]] : memref<?xf64>
// CHECK-NEXT:      scf.yield %[[CT]] : f64
// CHECK-NEXT:    }
// CHECK-NEXT:    memref.dealloc %[[CACC]] : memref<?xf64>
// CHECK-NEXT:    memref.dealloc %[[CV]] : memref<?xf64>
// CHECK-NEXT:    return

// RUN: %python -c "import numpy as np; np.save('%t.x.npy', np.arange(1.0, 5.0)); np.save('%t.dx.npy', np.ones(4))"
// RUN: zymase-opt %s -p zymase-derivative --run dsquare --args %t.x.npy %t.dx.npy 3 1.0 | FileCheck --check-prefix=NUM %s
// NUM:      array([1., 4., 9., 4.])
// NUM-NEXT: array([ 4.,  8., 12.,  1.])
