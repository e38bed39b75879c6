// RUN: zymase-opt %s -p enzyme | FileCheck --check-prefixes=CONST,DUP,FWD %s
// RUN: zymase-opt %s -p enzyme --run grad_set_dup --args 0.0 1.0 3.0 0.5 | FileCheck --check-prefix=RUN-DUP %s

// The talk's @set (CGO 2025), in valid MLIR: 10 stores of %val into %arr at 2*i in an
// scf.for, and %val squared. With %arr enzyme_const the derivative is dv = 2 v dout and
// the stores carry none; with %arr enzyme_dup the caller passes a shadow, each store in
// reverse moves the shadow element into dv and zeroes it (Enzyme's shadow memory), so
// dv = 2 v dout + the sum of the shadow at the stored positions. The 10-iteration loop
// stays a loop in reverse mode, as in Enzyme (ad/unroll.py unrolls a loop only when the
// unrolled reverse is no larger). Forward mode keeps a tangent buffer
// beside the primal one (its numbers, and those of the const case, are checked in
// tests/test_memref.py). Numbers: v = 3, dout = 0.5, a shadow of ones.

func.func @set(%arr: memref<20xf32>, %val: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c10 = arith.constant 10 : index
  scf.for %ii = %c0 to %c10 step %c1 {
    %idx = arith.muli %ii, %c2 : index
    memref.store %val, %arr[%idx] : memref<20xf32>
  }
  %out = arith.mulf %val, %val : f32
  return %out : f32
}

func.func @grad_set(%X: memref<20xf32>, %v: f32, %dout: f32) -> (f32, f32) {
  %out, %dv = enzyme.autodiff @set(%X, %v, %dout) {
    activity = [enzyme_const, enzyme_active],
    ret_activity = [enzyme_active]
  } : (memref<20xf32>, f32, f32) -> (f32, f32)
  return %out, %dv : f32, f32
}

func.func @grad_set_dup(%X: memref<20xf32>, %dX: memref<20xf32>, %v: f32, %dout: f32) -> (f32, f32) {
  %out, %dv = enzyme.autodiff @set(%X, %dX, %v, %dout) <{
    activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_active>],
    ret_activity = [#enzyme.activity<enzyme_active>]
  }> : (memref<20xf32>, memref<20xf32>, f32, f32) -> (f32, f32)
  return %out, %dv : f32, f32
}

func.func @jvp_set(%X: memref<20xf32>, %dX: memref<20xf32>, %v: f32, %dv: f32) -> (f32, f32) {
  %out, %dout = enzyme.fwddiff @set(%X, %dX, %v, %dv) {
    activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_dup>],
    ret_activity = [#enzyme.activity<enzyme_dup>]
  } : (memref<20xf32>, memref<20xf32>, f32, f32) -> (f32, f32)
  return %out, %dout : f32, f32
}

// CONST-LABEL: func.func private @diffeset(%0: memref<20xf32>, %1: f32, %2: f32) -> (f32, f32) {
// CONST:         scf.for %{{.*}} = %c0 to %c10 step %c1 {
// CONST-NEXT:      %idx = arith.muli
// CONST-NEXT:      memref.store %1, %0[%idx] : memref<20xf32>
// CONST-NEXT:    }
// CONST-NOT:     memref.load
// CONST:         %out = arith.mulf %1, %1 : f32
// CONST-NEXT:    %[[A:.+]] = arith.mulf %2, %1 : f32
// CONST-NEXT:    %[[B:.+]] = arith.mulf %1, %2 : f32
// CONST-NEXT:    %[[DV:.+]] = arith.addf %[[A]], %[[B]] : f32
// CONST-NEXT:    return %out, %[[DV]] : f32, f32

// Enzyme's layout: the shadow follows the dup argument; the dup argument has no result.
// The reverse loop runs the iterations last first; each moves the shadow element at the
// stored position into dv and zeroes it.
// DUP-LABEL: func.func private @diffeset_1(%0: memref<20xf32>, %1: memref<20xf32>, %2: f32, %3: f32) -> (f32, f32) {
// DUP:         scf.for
// DUP:           memref.store %2, %0[%idx] : memref<20xf32>
// DUP:         %[[DV0:.+]] = arith.addf
// DUP:         %[[SUM:.+]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.+]] = %{{.*}}) -> (f32) {
// DUP:           %[[I:.+]] = arith.muli %{{.*}}, %c2 : index
// DUP-NEXT:      %[[S:.+]] = memref.load %1[%[[I]]] : memref<20xf32>
// DUP-NEXT:      %[[Z:.+]] = arith.constant 0.000000e+00 : f32
// DUP-NEXT:      memref.store %[[Z]], %1[%[[I]]] : memref<20xf32>
// DUP-NEXT:      %[[NEXT:.+]] = arith.addf %[[ACC]], %[[S]] : f32
// DUP-NEXT:      scf.yield %[[NEXT]] : f32
// DUP-NEXT:    }
// DUP-NEXT:    %[[DV:.+]] = arith.addf %[[DV0]], %[[SUM]] : f32
// DUP-NEXT:    return %out, %[[DV]] : f32, f32

// FWD-LABEL: func.func private @fwddiffeset(%0: memref<20xf32>, %1: memref<20xf32>, %2: f32, %3: f32) -> (f32, f32) {
// FWD:         scf.for %{{.*}} = %c0 to %c10 step %c1 {
// FWD-NEXT:      %idx = arith.muli
// FWD-NEXT:      memref.store %2, %0[%idx] : memref<20xf32>
// FWD-NEXT:      memref.store %3, %1[%idx] : memref<20xf32>
// FWD-NEXT:    }

// RUN-DUP:      array(9., dtype=float32)
// RUN-DUP-NEXT: array(13., dtype=float32)
// RUN-DUP-NEXT: array([3., 0., 3., 0., 3., 0.,
// RUN-DUP:      array([0., 1., 0., 1., 0., 1.,
