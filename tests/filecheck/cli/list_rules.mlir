// RUN: zymase-opt --print-op-generic --list-rules %s | FileCheck %s
// One rule per line: name, family, identity.
// CHECK-DAG: add_zero  (algebraic)  add(x, 0) -> x
// CHECK-DAG: negate_negate  (algebraic)  negate(negate(x)) -> x
// CHECK-DAG: subtract_self  (algebraic)  subtract(x, x) -> 0   (x finite; static shapes)  [assume_finite]
