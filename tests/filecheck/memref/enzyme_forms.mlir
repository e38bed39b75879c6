// RUN: zymase-opt %s | zymase-opt | FileCheck --check-prefix=ROUND %s
// RUN: zymase-opt %s -p enzyme | FileCheck --check-prefixes=FWD,REV %s

// Enzyme's current syntax next to the older one: #enzyme.activity<...>, properties
// <{...}> and <...> on the enzyme ops, ret_activity omitted for a function without
// results; all print as zymase's form and parse again. The memref ops print in MLIR's
// custom form.

func.func @square(%x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %tmp = memref.alloc() : memref<1xf64>
  %y = arith.mulf %x, %x : f64
  memref.store %y, %tmp[%c0] : memref<1xf64>
  %r = memref.load %tmp[%c0] : memref<1xf64>
  memref.dealloc %tmp : memref<1xf64>
  return %r : f64
}
func.func @dsq(%x: f64, %dx: f64) -> f64 {
  %r = enzyme.fwddiff @square(%x, %dx) {activity = [#enzyme<activity enzyme_dup>], ret_activity = [#enzyme.activity<enzyme_dupnoneed>]} : (f64, f64) -> f64
  return %r : f64
}

func.func @stm(%x: f64, %out: memref<f64>) {
  %sq = arith.mulf %x, %x : f64
  memref.store %sq, %out[] : memref<f64>
  return
}
func.func @dstm(%x: f64, %out: memref<f64>, %dout: memref<f64>) -> f64 {
  %dx = enzyme.autodiff @stm(%x, %out, %dout) <{activity = [#enzyme.activity<enzyme_active>, #enzyme.activity<enzyme_dupnoneed>]}> : (f64, memref<f64>, memref<f64>) -> f64
  return %dx : f64
}
func.func @dstm2(%x: f64, %out: memref<f64>, %dout: memref<f64>) -> f64 {
  %dx = enzyme.autodiff @stm(%x, %out, %dout) <activity = [#enzyme.activity<enzyme_active>, #enzyme.activity<enzyme_dup>], ret_activity = []> : (f64, memref<f64>, memref<f64>) -> f64
  return %dx : f64
}

// ROUND: %r = enzyme.fwddiff @square(%x, %dx) {activity = [#enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dupnoneed>]} : (f64, f64) -> f64
// ROUND: %dx = enzyme.autodiff @stm(%x, %out, %dout) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_dupnoneed>], ret_activity = []} : (f64, memref<f64>, memref<f64>) -> f64
// ROUND: %dx = enzyme.autodiff @stm(%x, %out, %dout) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_dup>], ret_activity = []} : (f64, memref<f64>, memref<f64>) -> f64

// Forward mode: a tangent buffer allocated (and zeroed) beside the primal one.
// FWD-LABEL: func.func private @fwddiffesquare(%0: f64, %1: f64) -> f64 {
// FWD:         %tmp = memref.alloc() : memref<1xf64>
// FWD-NEXT:    %[[T:.+]] = memref.alloc() : memref<1xf64>
// FWD:           memref.store %{{.+}}, %[[T]][%{{.+}}] : memref<1xf64>
// FWD:         memref.store %y, %tmp[%c0] : memref<1xf64>
// FWD-NEXT:    memref.store %[[DY:.+]], %[[T]][%c0] : memref<1xf64>
// FWD-NEXT:    %r = memref.load %tmp[%c0] : memref<1xf64>
// FWD-NEXT:    %[[DR:.+]] = memref.load %[[T]][%c0] : memref<1xf64>
// FWD-NEXT:    memref.dealloc %tmp : memref<1xf64>
// FWD-NEXT:    memref.dealloc %[[T]] : memref<1xf64>
// FWD-NEXT:    return %[[DR]] : f64

// Reverse mode, dupnoneed: the store's reverse reads the shadow, zeroes it and
// multiplies by 2x (Enzyme's layout: the shadow after its memref, the gradient of x out).
// REV-LABEL: func.func private @diffestm(%0: f64, %1: memref<f64>, %2: memref<f64>) -> f64 {
// REV:         memref.store %sq, %1[] : memref<f64>
// REV-NEXT:    %[[G:.+]] = memref.load %2[] : memref<f64>
// REV-NEXT:    %[[Z:.+]] = arith.constant 0.000000e+00 : f64
// REV-NEXT:    memref.store %[[Z]], %2[] : memref<f64>
// REV-NEXT:    %[[A:.+]] = arith.mulf %[[G]], %0 : f64
// REV-NEXT:    %[[B:.+]] = arith.mulf %0, %[[G]] : f64
// REV-NEXT:    %[[S:.+]] = arith.addf %[[A]], %[[B]] : f64
// REV-NEXT:    return %[[S]] : f64
