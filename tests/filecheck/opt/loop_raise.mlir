// RUN: zymase-opt --print-op-generic -p zymase-hlo-opt %s | FileCheck %s

// Loop raising (opt/rules/loop_raise.py) inside the whole optimizer.

// out[i] = x[i] / norm(x): a map loop writing its own element; the norm is invariant.
// The loop becomes x / norm(x) on the whole array.
// CHECK-LABEL: sym_name = "map_dus"
// CHECK-NOT:     "stablehlo.while"
// CHECK:         %[[N:.*]] = "stablehlo.sqrt"
// CHECK:         %[[B:.*]] = "stablehlo.broadcast_in_dim"(%[[N]])
// CHECK:         %[[R:.*]] = "stablehlo.divide"(%x, %[[B]]) : (tensor<16xf64>, tensor<16xf64>) -> tensor<16xf64>
// CHECK-NOT:     "stablehlo.while"
// CHECK:         "func.return"(%[[R]])

// s = s0 + sum_i x[i]^2: a reduction loop becomes s0 + reduce(x * x) (identity -0.0).
// CHECK-LABEL: sym_name = "sum_squares"
// CHECK-NOT:     "stablehlo.while"
// CHECK:         %[[SQ:.*]] = "stablehlo.multiply"(%x, %x)
// CHECK:         %[[S:.*]] = "stablehlo.reduce"(%[[SQ]], %{{.*}}) <{dimensions = array<i64: 0>}>
// CHECK:         %[[R:.*]] = "stablehlo.add"(%s0, %[[S]])
// CHECK:         "func.return"(%[[R]])

// out[i] = out[i-1] + x[i] reads the buffer it writes: it stays a loop.
// CHECK-LABEL: sym_name = "previous"
// CHECK:         "stablehlo.while"
// CHECK:         "stablehlo.dynamic_slice"
// CHECK:         "stablehlo.dynamic_update_slice"

// Rows 1..4 of a 6x3 buffer written from rows 0..3 of x: a slice of x, the first and last
// rows of the initial buffer kept.
// CHECK-LABEL: sym_name = "rows_partial"
// CHECK-NOT:     "stablehlo.while"
// CHECK:         %[[X:.*]] = "stablehlo.slice"(%x) <{start_indices = array<i64: 0, 0>, limit_indices = array<i64: 4, 3>, strides = array<i64: 1, 1>}>
// CHECK:         %[[E:.*]] = "stablehlo.exponential"(%[[X]]) : (tensor<4x3xf64>) -> tensor<4x3xf64>
// CHECK:         "stablehlo.concatenate"(%{{.*}}, %[[E]], %{{.*}}) <{dimension = 0 : i64}>

// A map buffer beside a recurrence: split, the map raised to sine(x), the recurrence left
// in a loop of its own.
// CHECK-LABEL: sym_name = "fission"
// CHECK:         %[[S:.*]] = "stablehlo.sine"(%x) : (tensor<8xf64>) -> tensor<8xf64>
// CHECK:         %{{.*}}, %[[H:.*]] = "stablehlo.while"
// CHECK-NOT:     "stablehlo.sine"
// CHECK-NOT:     "stablehlo.dynamic_update_slice"
// CHECK:         "stablehlo.tanh"
// CHECK:         "func.return"(%[[S]], %[[H]])


func.func @map_dus(%x: tensor<16xf64>) -> tensor<16xf64> {
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<16xf64>}> : () -> tensor<16xf64>
  %i0 = "stablehlo.constant"() <{value = dense<0> : tensor<i64>}> : () -> tensor<i64>
  %r:2 = "stablehlo.while"(%i0, %z) ({
  ^bb0(%i: tensor<i64>, %o: tensor<16xf64>):
    %n = "stablehlo.constant"() <{value = dense<16> : tensor<i64>}> : () -> tensor<i64>
    %c = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i64>, tensor<i64>) -> tensor<i1>
    "stablehlo.return"(%c) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i64>, %o: tensor<16xf64>):
    %sq = "stablehlo.multiply"(%x, %x) : (tensor<16xf64>, tensor<16xf64>) -> tensor<16xf64>
    %z2 = "stablehlo.constant"() <{value = dense<0.0> : tensor<f64>}> : () -> tensor<f64>
    %s = "stablehlo.reduce"(%sq, %z2) <{dimensions = array<i64: 0>}> ({
    ^bb1(%p: tensor<f64>, %q: tensor<f64>):
      %pq = "stablehlo.add"(%p, %q) : (tensor<f64>, tensor<f64>) -> tensor<f64>
      "stablehlo.return"(%pq) : (tensor<f64>) -> ()
    }) : (tensor<16xf64>, tensor<f64>) -> tensor<f64>
    %nrm = "stablehlo.sqrt"(%s) : (tensor<f64>) -> tensor<f64>
    %xi = "stablehlo.dynamic_slice"(%x, %i) <{slice_sizes = array<i64: 1>}> : (tensor<16xf64>, tensor<i64>) -> tensor<1xf64>
    %nb = "stablehlo.broadcast_in_dim"(%nrm) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<1xf64>
    %yi = "stablehlo.divide"(%xi, %nb) : (tensor<1xf64>, tensor<1xf64>) -> tensor<1xf64>
    %o2 = "stablehlo.dynamic_update_slice"(%o, %yi, %i) : (tensor<16xf64>, tensor<1xf64>, tensor<i64>) -> tensor<16xf64>
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i64>}> : () -> tensor<i64>
    %i2 = "stablehlo.add"(%i, %one) : (tensor<i64>, tensor<i64>) -> tensor<i64>
    "stablehlo.return"(%i2, %o2) : (tensor<i64>, tensor<16xf64>) -> ()
  }) : (tensor<i64>, tensor<16xf64>) -> (tensor<i64>, tensor<16xf64>)
  func.return %r#1 : tensor<16xf64>
}

func.func @sum_squares(%x: tensor<16xf64>, %s0: tensor<f64>) -> tensor<f64> {
  %i0 = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %r:2 = "stablehlo.while"(%i0, %s0) ({
  ^bb0(%i: tensor<i32>, %s: tensor<f64>):
    %n = "stablehlo.constant"() <{value = dense<16> : tensor<i32>}> : () -> tensor<i32>
    %c = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%c) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %s: tensor<f64>):
    %xi = "stablehlo.dynamic_slice"(%x, %i) <{slice_sizes = array<i64: 1>}> : (tensor<16xf64>, tensor<i32>) -> tensor<1xf64>
    %v = "stablehlo.reshape"(%xi) : (tensor<1xf64>) -> tensor<f64>
    %v2 = "stablehlo.multiply"(%v, %v) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    %s2 = "stablehlo.add"(%s, %v2) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i2 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    "stablehlo.return"(%i2, %s2) : (tensor<i32>, tensor<f64>) -> ()
  }) : (tensor<i32>, tensor<f64>) -> (tensor<i32>, tensor<f64>)
  func.return %r#1 : tensor<f64>
}

func.func @previous(%x: tensor<16xf64>) -> tensor<16xf64> {
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<16xf64>}> : () -> tensor<16xf64>
  %i0 = "stablehlo.constant"() <{value = dense<1> : tensor<i64>}> : () -> tensor<i64>
  %r:2 = "stablehlo.while"(%i0, %z) ({
  ^bb0(%i: tensor<i64>, %o: tensor<16xf64>):
    %n = "stablehlo.constant"() <{value = dense<16> : tensor<i64>}> : () -> tensor<i64>
    %c = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i64>, tensor<i64>) -> tensor<i1>
    "stablehlo.return"(%c) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i64>, %o: tensor<16xf64>):
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i64>}> : () -> tensor<i64>
    %im = "stablehlo.subtract"(%i, %one) : (tensor<i64>, tensor<i64>) -> tensor<i64>
    %prev = "stablehlo.dynamic_slice"(%o, %im) <{slice_sizes = array<i64: 1>}> : (tensor<16xf64>, tensor<i64>) -> tensor<1xf64>
    %xi = "stablehlo.dynamic_slice"(%x, %i) <{slice_sizes = array<i64: 1>}> : (tensor<16xf64>, tensor<i64>) -> tensor<1xf64>
    %yi = "stablehlo.add"(%prev, %xi) : (tensor<1xf64>, tensor<1xf64>) -> tensor<1xf64>
    %o2 = "stablehlo.dynamic_update_slice"(%o, %yi, %i) : (tensor<16xf64>, tensor<1xf64>, tensor<i64>) -> tensor<16xf64>
    %i2 = "stablehlo.add"(%i, %one) : (tensor<i64>, tensor<i64>) -> tensor<i64>
    "stablehlo.return"(%i2, %o2) : (tensor<i64>, tensor<16xf64>) -> ()
  }) : (tensor<i64>, tensor<16xf64>) -> (tensor<i64>, tensor<16xf64>)
  func.return %r#1 : tensor<16xf64>
}

func.func @rows_partial(%x: tensor<6x3xf64>, %y: tensor<6x3xf64>) -> tensor<6x3xf64> {
  %i0 = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
  %r:2 = "stablehlo.while"(%i0, %y) ({
  ^bb0(%i: tensor<i32>, %o: tensor<6x3xf64>):
    %n = "stablehlo.constant"() <{value = dense<5> : tensor<i32>}> : () -> tensor<i32>
    %c = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%c) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %o: tensor<6x3xf64>):
    %zero = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %im = "stablehlo.subtract"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %row = "stablehlo.dynamic_slice"(%x, %im, %zero) <{slice_sizes = array<i64: 1, 3>}> : (tensor<6x3xf64>, tensor<i32>, tensor<i32>) -> tensor<1x3xf64>
    %e = "stablehlo.exponential"(%row) : (tensor<1x3xf64>) -> tensor<1x3xf64>
    %o2 = "stablehlo.dynamic_update_slice"(%o, %e, %i, %zero) : (tensor<6x3xf64>, tensor<1x3xf64>, tensor<i32>, tensor<i32>) -> tensor<6x3xf64>
    %i2 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    "stablehlo.return"(%i2, %o2) : (tensor<i32>, tensor<6x3xf64>) -> ()
  }) : (tensor<i32>, tensor<6x3xf64>) -> (tensor<i32>, tensor<6x3xf64>)
  func.return %r#1 : tensor<6x3xf64>
}

func.func @fission(%x: tensor<8xf64>) -> (tensor<8xf64>, tensor<f64>) {
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<8xf64>}> : () -> tensor<8xf64>
  %h0 = "stablehlo.constant"() <{value = dense<0.5> : tensor<f64>}> : () -> tensor<f64>
  %i0 = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %r:3 = "stablehlo.while"(%i0, %z, %h0) ({
  ^bb0(%i: tensor<i32>, %o: tensor<8xf64>, %h: tensor<f64>):
    %n = "stablehlo.constant"() <{value = dense<8> : tensor<i32>}> : () -> tensor<i32>
    %c = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%c) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %o: tensor<8xf64>, %h: tensor<f64>):
    %xi = "stablehlo.dynamic_slice"(%x, %i) <{slice_sizes = array<i64: 1>}> : (tensor<8xf64>, tensor<i32>) -> tensor<1xf64>
    %s = "stablehlo.sine"(%xi) : (tensor<1xf64>) -> tensor<1xf64>
    %o2 = "stablehlo.dynamic_update_slice"(%o, %s, %i) : (tensor<8xf64>, tensor<1xf64>, tensor<i32>) -> tensor<8xf64>
    %v = "stablehlo.reshape"(%xi) : (tensor<1xf64>) -> tensor<f64>
    %hv = "stablehlo.multiply"(%h, %v) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    %h2 = "stablehlo.tanh"(%hv) : (tensor<f64>) -> tensor<f64>
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i2 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    "stablehlo.return"(%i2, %o2, %h2) : (tensor<i32>, tensor<8xf64>, tensor<f64>) -> ()
  }) : (tensor<i32>, tensor<8xf64>, tensor<f64>) -> (tensor<i32>, tensor<8xf64>, tensor<f64>)
  func.return %r#1, %r#2 : tensor<8xf64>, tensor<f64>
}
