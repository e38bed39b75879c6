// RUN: zymase-opt --print-op-generic %s --run sum_squares --args 5 --run sum_squares --args 0 | FileCheck --check-prefixes=CHECK,EMPTY %s
// RUN: zymase-opt --print-op-generic %s -p licm,cse,dce --run sum_squares --args 5 | FileCheck %s

// sum over i in [0, n) of i*i, with an scf.for carrying the sum in iter_args.

func.func @sum_squares(%n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f64) {
    %ii = arith.muli %i, %i : index
    %k = arith.index_cast %ii : index to i64
    %f = arith.sitofp %k : i64 to f64
    %next = arith.addf %acc, %f : f64
    scf.yield %next : f64
  }
  func.return %r : f64
}

// CHECK: array(30.)
// EMPTY:      @sum_squares(0)
// EMPTY-NEXT: array(0.)
