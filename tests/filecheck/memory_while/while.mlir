// RUN: zymase-opt %s -p enzyme | FileCheck %s

// x[i] = x[i]^2 in place while i < n and the running sum of the squares stays below 5:
// an scf.while over shadowed memory, whose trip count is known only once it has run.
// Reverse mode runs the loop twice: first counting its trips into a counter on a copy
// of the buffer it writes (the real buffer is untouched), then for real, storing the
// before region's arguments (N + 1 entries) and the after region's loads (N entries)
// into memrefs sized by the count; the reverse is an scf.for over the N trips, last
// first, recomputing each trip from the caches (the load is not redone: x[i] has
// changed). With x = [1, 2, 3, 4], n = 4: two trips (sum 1, then 5), x = [1, 4, 3, 4];
// with a shadow of ones and a seed of 1: dx = (1 + 1) * 2 x = [4, 8] on the touched
// elements, the others keep their 1.

func.func @square(%x: memref<?xf64>, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %lim = arith.constant 5.0 : f64
  %r:2 = scf.while (%i = %c0, %acc = %z) : (index, f64) -> (index, f64) {
    %in = arith.cmpi slt, %i, %n : index
    %low = arith.cmpf olt, %acc, %lim : f64
    %go = arith.andi %in, %low : i1
    scf.condition(%go) %i, %acc : index, f64
  } do {
  ^bb0(%j: index, %b: f64):
    %v = memref.load %x[%j] : memref<?xf64>
    %m = arith.mulf %v, %v : f64
    memref.store %m, %x[%j] : memref<?xf64>
    %t = arith.addf %b, %m : f64
    %j1 = arith.addi %j, %c1 : index
    scf.yield %j1, %t : index, f64
  }
  return %r#1 : f64
}

func.func @dsquare(%x: memref<?xf64>, %dx: memref<?xf64>, %n: index, %dr: f64) -> f64 {
  %r = enzyme.autodiff @square(%x, %dx, %n, %dr) <{activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_const>], ret_activity = [#enzyme.activity<enzyme_active>]}> : (memref<?xf64>, memref<?xf64>, index, f64) -> f64
  return %r : f64
}

// CHECK-LABEL: func.func private @diffesquare(%0: memref<?xf64>, %1: memref<?xf64>, %2: index, %3: f64) -> f64 {
// The counting run, on a copy of x, counting the trips into a counter.
// CHECK:         %[[COPY:.+]] = memref.alloc(%{{.+}}) : memref<?xf64>
// CHECK-NEXT:    memref.copy %0, %[[COPY]] : memref<?xf64> to memref<?xf64>
// CHECK:         %[[LARGEST:.+]] = memref.alloc() : memref<1xindex>
// CHECK:         %[[TRIPS:.+]] = memref.alloc() : memref<1xindex>
// CHECK:         scf.while
// CHECK:           memref.store %{{.+}}, %[[TRIPS]][%{{.+}}] : memref<1xindex>
// CHECK:           memref.load %[[COPY]]
// CHECK:           memref.store %{{.+}}, %[[COPY]]
// CHECK:         arith.maxsi
// CHECK-NEXT:    memref.store %{{.+}}, %[[LARGEST]][%{{.+}}] : memref<1xindex>
// CHECK:         %[[N:.+]] = memref.load %[[LARGEST]][%{{.+}}] : memref<1xindex>
// CHECK:         memref.dealloc %[[COPY]] : memref<?xf64>
// CHECK:         %[[N1:.+]] = arith.addi %[[N]], %{{.+}} : index
// CHECK-NEXT:    %[[CI:.+]] = memref.alloc(%[[N1]]) : memref<?xindex>
// CHECK-NEXT:    %[[CACC:.+]] = memref.alloc(%[[N1]]) : memref<?xf64>
// CHECK-NEXT:    %[[CV:.+]] = memref.alloc(%[[N]]) : memref<?xf64>
// The real run, recording.
// CHECK:         %{{.+}}, %[[R:.+]], %[[NR:.+]] = scf.while (%[[I:.+]] = %c0, %[[ACC:.+]] = %z, %[[K:.+]] = %{{.+}}) : (index, f64, index) -> (index, f64, index) {
// CHECK-NEXT:      memref.store %[[I]], %[[CI]][%[[K]]] : memref<?xindex>
// CHECK-NEXT:      memref.store %[[ACC]], %[[CACC]][%[[K]]] : memref<?xf64>
// CHECK:         } do {
// CHECK:           %[[V:.+]] = memref.load %0[%{{.+}}] : memref<?xf64>
// CHECK-NEXT:      memref.store %[[V]], %[[CV]][%{{.+}}] : memref<?xf64>
// CHECK:           memref.store %{{.+}}, %0[%{{.+}}] : memref<?xf64>
// The reverse: one scf.for over the N trips, reading the caches, not x.
// CHECK:         scf.for %[[J:.+]] = %{{.+}} to %[[NR]] step %{{.+}} iter_args(%[[CT:.+]] = %3) -> (f64) {
// CHECK-NOT:       memref.load %0
// CHECK:           memref.load %[[CV]]
// CHECK-NOT:       memref.load %0
// CHECK:           memref.store %{{.+}}, %1[%{{.+}}] : memref<?xf64>
// CHECK:           scf.yield
// CHECK-NEXT:    }
// CHECK-NEXT:    memref.dealloc %[[CI]] : memref<?xindex>
// CHECK-NEXT:    memref.dealloc %[[CACC]] : memref<?xf64>
// CHECK-NEXT:    memref.dealloc %[[CV]] : memref<?xf64>
// CHECK-NEXT:    return %[[R]] : f64

// RUN: %python -c "import numpy as np; np.save('%t.x.npy', np.arange(1.0, 5.0)); np.save('%t.dx.npy', np.ones(4))"
// RUN: zymase-opt %s -p zymase-derivative --run dsquare --args %t.x.npy %t.dx.npy 4 1.0 | FileCheck --check-prefix=NUM %s
// NUM:      array(5.)
// NUM-NEXT: array([1., 4., 3., 4.])
// NUM-NEXT: array([4., 8., 1., 1.])
