// RUN: zymase-opt %s -p enzyme | FileCheck %s
// RUN: zymase-opt %s --run dsq --args 3.0 1.0 | FileCheck --check-prefix=OUT %s

// llvm pointer programs on the memref model (ir/lower_llvm.py): a pointer argument
// becomes a memref sized by the offsets it is read and written at (p[0] and p[1]:
// memref<2xf64>), getelementptr an index, load / store memref.load / store, the alloca
// a memref.alloca, llvm.func / call / return their func twins; the derivatives are
// the memref ones (shadow memory). @sq: p[1] = p[0]^2 * x through an alloca and a call.

llvm.func @mul(%a: f64, %b: f64) -> f64 {
  %r = llvm.fmul %a, %b : f64
  llvm.return %r : f64
}
llvm.func @sq(%p: !llvm.ptr, %x: f64) {
  %one = llvm.mlir.constant(1 : i32) : i32
  %t = llvm.alloca %one x f64 : (i32) -> !llvm.ptr
  %v = llvm.load %p : !llvm.ptr -> f64
  %s = llvm.call @mul(%v, %v) : (f64, f64) -> f64
  llvm.store %s, %t : f64, !llvm.ptr
  %w = llvm.load %t : !llvm.ptr -> f64
  %y = llvm.fmul %w, %x : f64
  %q = llvm.getelementptr %p[1] : (!llvm.ptr) -> !llvm.ptr, f64
  llvm.store %y, %q : f64, !llvm.ptr
  llvm.return
}
func.func @gsq(%p: !llvm.ptr, %dp: !llvm.ptr, %x: f64) -> f64 {
  %g = enzyme.autodiff @sq(%p, %dp, %x) <{activity = [#enzyme.activity<enzyme_dup>, #enzyme.activity<enzyme_active>]}> : (!llvm.ptr, !llvm.ptr, f64) -> f64
  return %g : f64
}
// d(p0^2 x)/dx at p0 = 3, seeded with a shadow of p[1] = 1 (from a two-element array of x)
func.func @dsq(%x: f64, %seed: f64) -> f64 {
  %one = llvm.mlir.constant(2 : i32) : i32
  %p = llvm.alloca %one x f64 : (i32) -> !llvm.ptr
  %dp = llvm.alloca %one x f64 : (i32) -> !llvm.ptr
  %q = llvm.getelementptr %dp[1] : (!llvm.ptr) -> !llvm.ptr, f64
  %z = arith.constant 0.0 : f64
  llvm.store %x, %p : f64, !llvm.ptr
  llvm.store %z, %dp : f64, !llvm.ptr
  llvm.store %seed, %q : f64, !llvm.ptr
  %g = func.call @gsq(%p, %dp, %x) : (!llvm.ptr, !llvm.ptr, f64) -> f64
  return %g : f64
}

// CHECK-LABEL: func.func @mul(%a: f64, %b: f64) -> f64
// CHECK: arith.mulf %a, %b : f64
// CHECK-LABEL: func.func @sq(%p: memref<?xf64>, %x: f64)
// CHECK: memref.alloca() : memref<1xf64>
// CHECK: memref.load %p[%{{.*}}] : memref<?xf64>
// CHECK: call @mul(%v, %v)
// CHECK: memref.store %y, %p[%{{.*}}] : memref<?xf64>
// CHECK-LABEL: func.func @gsq(%p: memref<?xf64>, %dp: memref<?xf64>, %x: f64) -> f64
// CHECK: call @diffesq(%p, %dp, %x)
// CHECK-LABEL: func.func @dsq
// CHECK: memref.alloca() : memref<2xf64>
// CHECK: memref.cast %{{.*}} : memref<2xf64> to memref<?xf64>
// CHECK-NOT: llvm.
// CHECK-LABEL: func.func private @diffesq(%0: memref<?xf64>, %1: memref<?xf64>, %2: f64) -> f64
// the shadow of p[1] moves into the cotangent of y and is zeroed; p[0]'s gets 2 v ct
// CHECK: %[[CT:.*]] = memref.load %1[%[[ONE:.*]]] : memref<?xf64>
// CHECK: memref.store %{{.*}}, %1[%[[ONE]]] : memref<?xf64>
// CHECK: call @diffemul
// CHECK: memref.store %{{.*}}, %1[%{{.*}}] : memref<?xf64>

// x = 3, shadow of p[1] = 1: p0 = x, p1 = x^3; the gradient of the active x is p0^2 = 9
// (the derivative through p0 stays in the shadow dp[0], which dsq drops)
// OUT: array(9.)
