// RUN: zymase-opt %s -p enzyme | FileCheck %s

// Enzyme's scale (scf_parallel_if): out = x * y elementwise, an scf.parallel (lowered to
// scf.for) inside an scf.if, x and out enzyme_dup, y enzyme_const. The loop's caches
// (its loads) are allocated before the branch, sized by the loop's trip count (its bounds
// are known there), written inside the branch; the reverse is a second scf.if whose
// branch runs the reverse loop over them, and they are freed after it. With
// x = [1, 2, 3], y = [4, 5, 6], a shadow of x of 0.5 and a seed dout = [1, -2, 3]:
// dx = 0.5 + y * dout = [4.5, -9.5, 18.5], and dout is zeroed.

func.func @scale(%arg0: memref<?xf64>, %arg1: memref<?xf64>, %arg2: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %dim = memref.dim %arg0, %c0 : memref<?xf64>
  %0 = arith.cmpi sgt, %dim, %c0 : index
  scf.if %0 {
    scf.parallel (%arg3) = (%c0) to (%dim) step (%c1) {
      %1 = memref.load %arg0[%arg3] : memref<?xf64>
      %2 = memref.load %arg1[%arg3] : memref<?xf64>
      %3 = arith.mulf %1, %2 : f64
      memref.store %3, %arg2[%arg3] : memref<?xf64>
    }
  }
  return
}

func.func @dscale(%arg0: memref<?xf64>, %arg1: memref<?xf64>, %arg2: memref<?xf64>, %arg3: memref<?xf64>, %arg4: memref<?xf64>) {
  enzyme.autodiff @scale(%arg0, %arg3, %arg1, %arg2, %arg4) <{activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_const>, #enzyme.activity<enzyme_dup>], ret_activity = []}> : (memref<?xf64>, memref<?xf64>, memref<?xf64>, memref<?xf64>, memref<?xf64>) -> ()
  return
}

// CHECK-LABEL: func.func private @diffescale(%0: memref<?xf64>, %1: memref<?xf64>, %2: memref<?xf64>, %3: memref<?xf64>, %4: memref<?xf64>) {
// CHECK:         %[[COND:.+]] = arith.cmpi sgt, %dim, %c0 : index
// CHECK:         %[[N:.+]] = arith.maxsi
// CHECK-NEXT:    %[[CX:.+]] = memref.alloc(%[[N]]) : memref<?xf64>
// CHECK-NEXT:    %[[CY:.+]] = memref.alloc(%[[N]]) : memref<?xf64>
// CHECK-NEXT:    scf.if %[[COND]] {
// CHECK-NEXT:      scf.for
// CHECK:             %[[Y:.+]] = memref.load %2[%{{.+}}] : memref<?xf64>
// CHECK-NEXT:        memref.store %[[Y]], %[[CY]][%{{.+}}] : memref<?xf64>
// CHECK:             memref.store %{{.+}}, %3[%{{.+}}] : memref<?xf64>
// CHECK:         scf.if %[[COND]] {
// CHECK:           scf.for %{{.+}} = %{{.+}} to %[[N]] step
// CHECK:             %[[RY:.+]] = memref.load %[[CY]][%{{.+}}] : memref<?xf64>
// CHECK:             %[[S:.+]] = memref.load %4[%[[I:.+]]] : memref<?xf64>
// CHECK:             memref.store %{{.+}}, %4[%[[I]]] : memref<?xf64>
// CHECK-NEXT:        %[[P:.+]] = arith.mulf %[[S]], %[[RY]] : f64
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %1[%[[I]]] : memref<?xf64>
// CHECK-NEXT:        %[[NEW:.+]] = arith.addf %[[OLD]], %[[P]] : f64
// CHECK-NEXT:        memref.store %[[NEW]], %1[%[[I]]] : memref<?xf64>
// CHECK:         memref.dealloc %[[CX]] : memref<?xf64>
// CHECK-NEXT:    memref.dealloc %[[CY]] : memref<?xf64>
// CHECK-NEXT:    return

// RUN: %python -c "import numpy as np; np.save('%t.x.npy', np.array([1.0, 2.0, 3.0])); np.save('%t.y.npy', np.array([4.0, 5.0, 6.0])); np.save('%t.out.npy', np.zeros(3)); np.save('%t.dx.npy', np.full(3, 0.5)); np.save('%t.dout.npy', np.array([1.0, -2.0, 3.0]))"
// RUN: zymase-opt %s -p zymase-derivative --run dscale --args %t.x.npy %t.y.npy %t.out.npy %t.dx.npy %t.dout.npy | FileCheck --check-prefix=NUM %s
// NUM:      array([1., 2., 3.])
// NUM-NEXT: array([4., 5., 6.])
// NUM-NEXT: array([ 4., 10., 18.])
// NUM-NEXT: array([ 4.5, -9.5, 18.5])
// NUM-NEXT: array([0., 0., 0.])
