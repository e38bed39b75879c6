// RUN: zymase-opt %s -p enzyme | FileCheck %s
// RUN: zymase-opt %s -p zymase-derivative --run dsq_mutable --args 3.0 0.5 | FileCheck --check-prefix=NUM %s

// A function returning a buffer it allocates (Enzyme's canonicalize test's
// @copy_memref): in forward mode the returned buffer's tangent is its tangent buffer,
// the shadow allocated beside it. x = 3, dx = 0.5: [x^2] = [9] and [2 x dx] = [3]. Reverse
// mode refuses a returned memref in one line (tests/test_memory_while.py).

func.func @copy_memref(%x: f64) -> memref<1xf64> {
  %tmp = memref.alloc() : memref<1xf64>
  %c0 = arith.constant 0 : index
  %y = arith.mulf %x, %x : f64
  memref.store %y, %tmp[%c0] : memref<1xf64>
  return %tmp : memref<1xf64>
}

func.func @dsq_mutable(%x: f64, %dx: f64) -> (memref<1xf64>, memref<1xf64>) {
  %p, %r = enzyme.fwddiff @copy_memref(%x, %dx) {activity = [#enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dup>]} : (f64, f64) -> (memref<1xf64>, memref<1xf64>)
  return %p, %r : memref<1xf64>, memref<1xf64>
}

// CHECK-LABEL: func.func private @fwddiffecopy_memref(%0: f64, %1: f64) -> (memref<1xf64>, memref<1xf64>) {
// CHECK:         %[[TMP:.+]] = memref.alloc() : memref<1xf64>
// CHECK-NEXT:    %[[SHADOW:.+]] = memref.alloc() : memref<1xf64>
// CHECK:         memref.store %{{.+}}, %[[TMP]][%c0] : memref<1xf64>
// CHECK-NEXT:    memref.store %{{.+}}, %[[SHADOW]][%c0] : memref<1xf64>
// CHECK-NEXT:    return %[[TMP]], %[[SHADOW]] : memref<1xf64>, memref<1xf64>

// NUM:      array([9.])
// NUM-NEXT: array([3.])

