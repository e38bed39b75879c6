// RUN: zymase-opt --print-op-generic %s > %t
// RUN: FileCheck %s < %t
// RUN: zymase-opt --print-op-generic %s | zymase-opt --print-op-generic | FileCheck %s
// RUN: FileCheck %s < %t

// The output is generic MLIR, and it parses back to the same module.

func.func @square(%x: f32, %y: f32) -> (f32, f32) {
  %o1 = arith.mulf %x, %x : f32
  %o2 = arith.mulf %y, %y : f32
  func.return %o1, %o2 : f32, f32
}

// CHECK:      "builtin.module"() ({
// CHECK-NEXT:   "func.func"() <{sym_name = "square", function_type = (f32, f32) -> (f32, f32)}> ({
// CHECK-NEXT:   ^{{.*}}(%[[X:.*]]: f32, %[[Y:.*]]: f32):
// CHECK-NEXT:     %[[O1:.*]] = "arith.mulf"(%[[X]], %[[X]]) <{fastmath = #arith.fastmath<none>}> : (f32, f32) -> f32
// CHECK-NEXT:     %[[O2:.*]] = "arith.mulf"(%[[Y]], %[[Y]]) <{fastmath = #arith.fastmath<none>}> : (f32, f32) -> f32
// CHECK-NEXT:     "func.return"(%[[O1]], %[[O2]]) : (f32, f32) -> ()
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT: }) : () -> ()
