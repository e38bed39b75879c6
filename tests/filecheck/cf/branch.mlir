// RUN: zymase-opt %s -p enzyme | FileCheck %s
// RUN: zymase-opt %s --run dloop --args 0.5 1.0 | FileCheck --check-prefix=OUT %s

// Multi-block functions are structured before differentiation (ir/cf.py): cf.cond_br
// becomes scf.if, a loop of blocks an scf.while whose before region runs one iteration
// and whose results are the values leaving the loop; the derivative is taken of that form.

// CHECK-LABEL: func.func @select
// CHECK-NOT: {{ cf\.}}
// CHECK: scf.if
// CHECK: return
func.func @select(%x: f64, %y: f64) -> f64 {
  %c = arith.cmpf olt, %x, %y : f64
  cf.cond_br %c, ^join(%x : f64), ^join(%y : f64)
^join(%r: f64):
  return %r : f64
}

// x doubled until it exceeds 3: x = 0.5 -> 4.0 after 3 iterations, d/dx = 8
// CHECK-LABEL: func.func @loop
// CHECK-NOT: {{ cf\.}}
// CHECK: scf.while
// CHECK: scf.condition
func.func @loop(%x: f64) -> f64 {
  %lim = arith.constant 3.0 : f64
  cf.br ^h(%x : f64)
^h(%a: f64):
  %d = arith.addf %a, %a : f64
  %more = arith.cmpf ole, %d, %lim : f64
  cf.cond_br %more, ^h(%d : f64), ^out(%d : f64)
^out(%r: f64):
  return %r : f64
}

// CHECK-LABEL: func.func private @fwddiffeloop
// CHECK: scf.while
func.func @dloop(%x: f64, %dx: f64) -> f64 {
  %r = enzyme.fwddiff @loop(%x, %dx) {activity = [#enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dupnoneed>]} : (f64, f64) -> f64
  return %r : f64
}

// OUT: 8
