// RUN: zymase-opt %s -p enzyme | FileCheck %s

// An scf.while over memory nested in an scf.for: iteration i runs i + 1 trips over
// x[0..i], x[l] *= a, summing the loaded values into the carried r. The while's trip
// count is known only as the loop runs, so reverse mode first runs a copy of the loop on
// a copy of x (a dry run), keeping the largest trip count; the while's caches are sized
// (outer trips) x (largest + 1), and each run stores its own trip count, which the
// reverse of that outer iteration reads back.
//
// With x = [1, 2, 3], a = 2, n = 2: r = x0 + a x0 + x1 = 5, x becomes [4, 4, 3];
// dr/da = x0 = 1, dr/dx = [1 + a, 1, 0] = [3, 1, 0].

func.func @tri(%x: memref<?xf64>, %a: f64, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {
    %i1 = arith.addi %i, %c1 : index
    %j:2 = scf.while (%k = %c0, %b = %acc) : (index, f64) -> (index, f64) {
      %c = arith.cmpi slt, %k, %i1 : index
      scf.condition(%c) %k, %b : index, f64
    } do {
    ^bb0(%l: index, %q: f64):
      %v = memref.load %x[%l] : memref<?xf64>
      %w = arith.mulf %v, %a : f64
      memref.store %w, %x[%l] : memref<?xf64>
      %t = arith.addf %q, %v : f64
      %l1 = arith.addi %l, %c1 : index
      scf.yield %l1, %t : index, f64
    }
    scf.yield %j#1 : f64
  }
  return %r : f64
}

func.func @dtri(%x: memref<?xf64>, %dx: memref<?xf64>, %a: f64, %n: index, %dr: f64) -> f64 {
  %g = enzyme.autodiff @tri(%x, %dx, %a, %n, %dr) <{activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_active>, #enzyme.activity<enzyme_const>], ret_activity = [#enzyme.activity<enzyme_activenoneed>]}> : (memref<?xf64>, memref<?xf64>, f64, index, f64) -> f64
  return %g : f64
}

// The dry run: the loop on a copy of x, the while counting its trips into a counter,
// the largest kept.
// CHECK-LABEL: func.func private @diffetri(%0: memref<?xf64>, %1: memref<?xf64>, %2: f64, %3: index, %4: f64) -> f64 {
// CHECK:         %[[COPY:.+]] = memref.alloc(%{{.+}}) : memref<?xf64>
// CHECK-NEXT:    memref.copy %0, %[[COPY]] : memref<?xf64> to memref<?xf64>
// CHECK:         %[[LARGEST:.+]] = memref.alloc() : memref<1xindex>
// CHECK:         %[[TRIPS:.+]] = memref.alloc() : memref<1xindex>
// CHECK:         scf.for
// CHECK:           scf.while
// CHECK:           } do {
// CHECK:             memref.store %{{.+}}, %[[TRIPS]][%{{.+}}] : memref<1xindex>
// CHECK:             memref.store %{{.+}}, %[[COPY]][%{{.+}}] : memref<?xf64>
// CHECK:           arith.maxsi
// CHECK:           memref.store %{{.+}}, %[[LARGEST]][%{{.+}}] : memref<1xindex>
// CHECK:         %[[MAX:.+]] = memref.load %[[LARGEST]][%{{.+}}] : memref<1xindex>
// CHECK:         memref.dealloc %[[COPY]] : memref<?xf64>
// The caches: per outer iteration, (largest + 1) entries of the before region's
// arguments, largest entries of the loads, and one trip count.
// CHECK:         %[[OUTER:.+]] = arith.maxsi
// CHECK:         %[[MAX1:.+]] = arith.addi %[[MAX]], %{{.+}} : index
// CHECK:         %[[CK:.+]] = memref.alloc(%[[OUTER]], %[[MAX1]]) : memref<?x?xindex>
// CHECK-NEXT:    %[[CB:.+]] = memref.alloc(%[[OUTER]], %[[MAX1]]) : memref<?x?xf64>
// CHECK-NEXT:    %[[CV:.+]] = memref.alloc(%[[OUTER]], %[[MAX]]) : memref<?x?xf64>
// CHECK:         %[[CN:.+]] = memref.alloc(%[[OUTER]]) : memref<?x1xindex>
// The real run records into them, on x itself.
// CHECK:         scf.for
// CHECK:           scf.while
// CHECK:             memref.store %{{.+}}, %[[CK]][%[[I:.+]], %{{.+}}] : memref<?x?xindex>
// CHECK-NEXT:        memref.store %{{.+}}, %[[CB]][%[[I]], %{{.+}}] : memref<?x?xf64>
// CHECK:           } do {
// CHECK:             %[[V:.+]] = memref.load %0[%{{.+}}] : memref<?xf64>
// CHECK-NEXT:        memref.store %[[V]], %[[CV]][%[[I]], %{{.+}}] : memref<?x?xf64>
// CHECK:             memref.store %{{.+}}, %0[%{{.+}}] : memref<?xf64>
// CHECK:           memref.store %{{.+}}, %[[CN]][%[[I]], %{{.+}}] : memref<?x1xindex>
// The reverse of outer iteration k reads its run's trip count, then reverses the trips.
// CHECK:         scf.for
// CHECK:           %[[N:.+]] = memref.load %[[CN]][%[[K:.+]], %{{.+}}] : memref<?x1xindex>
// CHECK:           scf.for %{{.+}} = %{{.+}} to %[[N]] step
// CHECK:             memref.load %[[CV]][%[[K]], %{{.+}}] : memref<?x?xf64>
// CHECK:         memref.dealloc %[[CN]] : memref<?x1xindex>
// CHECK:         return

// RUN: %python -c "import numpy as np; np.save('%t.x.npy', np.array([1.0, 2.0, 3.0])); np.save('%t.dx.npy', np.zeros(3))"
// RUN: zymase-opt %s -p zymase-derivative --run dtri --args %t.x.npy %t.dx.npy 2.0 2 1.0 | FileCheck --check-prefix=NUM %s
// NUM:      array(1.)
// NUM-NEXT: array([4., 4., 3.])
// NUM-NEXT: array([3., 1., 0.])
