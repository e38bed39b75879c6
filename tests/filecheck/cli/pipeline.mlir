// RUN: zymase-opt --print-op-generic %s -p cse,dce | FileCheck %s
// RUN: zymase-opt --print-op-generic %s -p dce | FileCheck --check-prefix=DCE %s

// cse merges the two identical products (xDSL's cse also erases the dead exp);
// dce alone drops only the unused exp.

func.func @f(%x: f32) -> f32 {
  %a = arith.mulf %x, %x : f32
  %b = arith.mulf %x, %x : f32
  %unused = math.exp %x : f32
  %s = arith.addf %a, %b : f32
  func.return %s : f32
}

// CHECK:       ^{{.*}}(%[[X:.*]]: f32):
// CHECK-NEXT:    %[[A:.*]] = "arith.mulf"(%[[X]], %[[X]])
// CHECK-NEXT:    %[[S:.*]] = "arith.addf"(%[[A]], %[[A]])
// CHECK-NEXT:    "func.return"(%[[S]])

// DCE:       %[[A:.*]] = "arith.mulf"
// DCE-NEXT:  %[[B:.*]] = "arith.mulf"
// DCE-NOT:   "math.exp"
// DCE-NEXT:  "arith.addf"(%[[A]], %[[B]])
