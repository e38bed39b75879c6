// RUN: zymase-opt %s | FileCheck --check-prefix=PRINT %s
// RUN: zymase-opt %s -p enzyme | FileCheck %s

// affine.load / affine.store as MLIR writes them: an attribute dictionary after the
// indices (kept when printed, dropped by the lowering: alignment does not change values)
// and a product of two symbols in an index (semi-affine, lowered to arith.muli). The
// loop stores x[2i]^2 into x[2i + a*b]; with a * b = 1, x = [1, 2, 3, 4], n = 2 and a
// shadow of ones, reverse mode gives x = [1, 1, 3, 9] and dx = [1 + 2 * 1, 0, 1 + 2 * 3, 0]
// (each stored position's shadow moves into 2 x[2i], then is zeroed).

func.func @square_ip(%x: memref<?xf64>, %a: index, %b: index, %n: index) {
  affine.for %i = 0 to %n {
    %v = affine.load %x[2 * %i] {alignment = 16 : i64} : memref<?xf64>
    %sq = arith.mulf %v, %v : f64
    affine.store %sq, %x[%i * 2 + symbol(%a) * symbol(%b)] {alignment = 16 : i64} : memref<?xf64>
  }
  return
}

func.func @dsquare_ip(%x: memref<?xf64>, %dx: memref<?xf64>, %a: index, %b: index, %n: index) {
  enzyme.autodiff @square_ip(%x, %dx, %a, %b, %n) <{activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_const>, #enzyme.activity<enzyme_const>, #enzyme.activity<enzyme_const>], ret_activity = []}> : (memref<?xf64>, memref<?xf64>, index, index, index) -> ()
  return
}

// PRINT:      %v = affine.load %x[2 * %i] {alignment = 16 : i64} : memref<?xf64>
// PRINT:      affine.store %sq, %x[%i * 2 + symbol(%a) * symbol(%b)] {alignment = 16 : i64} : memref<?xf64>

// CHECK-LABEL: func.func private @diffesquare_ip
// CHECK:         %[[AB:.+]] = arith.muli %2, %3 : index
// CHECK:         memref.store %{{.+}}, %0[%{{.+}}] : memref<?xf64>

// RUN: %python -c "import numpy as np; np.save('%t.x.npy', np.arange(1.0, 5.0)); np.save('%t.dx.npy', np.ones(4))"
// RUN: zymase-opt %s -p zymase-derivative --run dsquare_ip --args %t.x.npy %t.dx.npy 1 1 2 | FileCheck --check-prefix=NUM %s
// NUM:      array([1., 1., 3., 9.])
// NUM-NEXT: array([3., 0., 7., 0.])
