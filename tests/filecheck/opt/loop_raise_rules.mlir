// RUN: zymase-opt --print-op-generic -p 'zymase-hlo-opt{rules=compare_induction_range}' %s | FileCheck %s --check-prefix=RANGE
// RUN: zymase-opt --print-op-generic -p 'zymase-hlo-opt{rules=while_fission}' %s | FileCheck %s --check-prefix=FISSION
// RUN: zymase-opt --print-op-generic -p 'zymase-hlo-opt{rules=while_raise_map}' %s | FileCheck %s --check-prefix=RAISE

// The loop-raising rules one at a time.

// compare_induction_range: i in [0, 7], so jax's normalisation select(i < 0, i + 8, i)
// folds to i (compare -> false; the select is another rule's, kept here).
// RANGE-LABEL: sym_name = "index_range"
// RANGE:         "stablehlo.while"
// RANGE:         "stablehlo.compare"(%{{.*}}, %n{{.*}})
// RANGE:         ^bb{{.*}}(%[[I:[^:]*]]: tensor<i32>, %{{[^:]*}}: tensor<f64>):
// RANGE-NOT:     "stablehlo.compare"
// RANGE:         %[[F:.*]] = "stablehlo.constant"() <{value = dense<false> : tensor<i1>}>
// RANGE-NOT:     "stablehlo.compare"
// RANGE:         "stablehlo.select"(%[[F]], %{{.*}}, %[[I]])

// while_fission: the map buffer and the recurrence go to two loops.
// FISSION-LABEL: sym_name = "fission"
// FISSION:         "stablehlo.while"(%{{.*}}, %z)
// FISSION:         "stablehlo.dynamic_update_slice"
// FISSION-NOT:     "stablehlo.tanh"
// FISSION:         "stablehlo.while"(%{{.*}}, %h0)
// FISSION-NOT:     "stablehlo.dynamic_update_slice"
// FISSION:         "stablehlo.tanh"
// FISSION:         "func.return"

// while_raise_map alone leaves a loop mixing a map and a recurrence alone...
// RAISE-LABEL: sym_name = "fission"
// RAISE:         "stablehlo.while"
// RAISE:         "stablehlo.dynamic_update_slice"
// ... and raise the scatter written by jax's out.at[i].set(...): x read whole (the
// identity slice is x itself), cosine on all of it, the windows stacked (reshapes the
// whole optimizer folds).
// RAISE-LABEL: sym_name = "scatter_map"
// RAISE-NOT:     "stablehlo.while"
// RAISE-NOT:     "stablehlo.scatter"
// RAISE:         %[[X:.*]] = "stablehlo.reshape"(%x) : (tensor<4xf64>) -> tensor<4x1xf64>
// RAISE:         %[[X1:.*]] = "stablehlo.reshape"(%[[X]]) : (tensor<4x1xf64>) -> tensor<4xf64>
// RAISE:         %[[C:.*]] = "stablehlo.cosine"(%[[X1]]) : (tensor<4xf64>) -> tensor<4xf64>
// RAISE-NOT:     "stablehlo.while"
// RAISE:         "func.return"


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

func.func @index_range(%x: tensor<8xf64>, %s0: tensor<f64>) -> tensor<f64> {
  %i0 = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %r:2 = "stablehlo.while"(%i0, %s0) ({
  ^bb0(%i: tensor<i32>, %s: tensor<f64>):
    %n = "stablehlo.constant"() <{value = dense<8> : tensor<i32>}> : () -> tensor<i32>
    %c = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%c) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %s: tensor<f64>):
    %zero = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
    %eight = "stablehlo.constant"() <{value = dense<8> : tensor<i32>}> : () -> tensor<i32>
    %neg = "stablehlo.compare"(%i, %zero) <{compare_type = #stablehlo<comparison_type SIGNED>, comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    %wrapped = "stablehlo.add"(%i, %eight) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %k = "stablehlo.select"(%neg, %wrapped, %i) : (tensor<i1>, tensor<i32>, tensor<i32>) -> tensor<i32>
    %xi = "stablehlo.dynamic_slice"(%x, %k) <{slice_sizes = array<i64: 1>}> : (tensor<8xf64>, tensor<i32>) -> tensor<1xf64>
    %v = "stablehlo.reshape"(%xi) : (tensor<1xf64>) -> tensor<f64>
    %sv = "stablehlo.multiply"(%s, %v) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    %s2 = "stablehlo.sine"(%sv) : (tensor<f64>) -> tensor<f64>
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i2 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    "stablehlo.return"(%i2, %s2) : (tensor<i32>, tensor<f64>) -> ()
  }) : (tensor<i32>, tensor<f64>) -> (tensor<i32>, tensor<f64>)
  func.return %r#1 : tensor<f64>
}

func.func @scatter_map(%x: tensor<4xf64>) -> tensor<4xf64> {
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<4xf64>}> : () -> tensor<4xf64>
  %i0 = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %r:2 = "stablehlo.while"(%i0, %z) ({
  ^bb0(%i: tensor<i32>, %o: tensor<4xf64>):
    %n = "stablehlo.constant"() <{value = dense<4> : tensor<i32>}> : () -> tensor<i32>
    %c = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%c) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %o: tensor<4xf64>):
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %j = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %xi = "stablehlo.dynamic_slice"(%x, %i) <{slice_sizes = array<i64: 1>}> : (tensor<4xf64>, tensor<i32>) -> tensor<1xf64>
    %v = "stablehlo.reshape"(%xi) : (tensor<1xf64>) -> tensor<f64>
    %cv = "stablehlo.cosine"(%v) : (tensor<f64>) -> tensor<f64>
    %idx = "stablehlo.reshape"(%i) : (tensor<i32>) -> tensor<1xi32>
    %o2 = "stablehlo.scatter"(%o, %idx, %cv) <{scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0], scatter_dims_to_operand_dims = [0]>}> ({
    ^bb1(%p: tensor<f64>, %q: tensor<f64>):
      "stablehlo.return"(%q) : (tensor<f64>) -> ()
    }) : (tensor<4xf64>, tensor<1xi32>, tensor<f64>) -> tensor<4xf64>
    "stablehlo.return"(%j, %o2) : (tensor<i32>, tensor<4xf64>) -> ()
  }) : (tensor<i32>, tensor<4xf64>) -> (tensor<i32>, tensor<4xf64>)
  func.return %r#1 : tensor<4xf64>
}
