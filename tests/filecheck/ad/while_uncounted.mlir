// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce | FileCheck %s
// RUN: zymase-opt %s -p enzyme --run grad_loop --args 0.7 5 1.0 --run grad_loop --args 0.7 0 1.0 | FileCheck --check-prefixes=NUM,ZERO %s

// The bound is an argument: the trip count is known only at run time. Reverse mode runs
// the loop once under its own condition, counting the iterations and storing checkpoints
// of the carried state every K steps into tensor<32x...> buffers, K doubling when they are
// full; the reverse goes segment by segment, last first, from them
// (ad/rules/checkpoint.py): no tape of the trip count's size.

func.func @loop(%x: tensor<f64>, %n: tensor<i32>) -> tensor<f64> {
  %zero = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %r:2 = "stablehlo.while"(%zero, %x) ({
  ^bb0(%i: tensor<i32>, %v: tensor<f64>):
    %lt = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%lt) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %v: tensor<f64>):
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i1 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %v1 = "stablehlo.sine"(%v) : (tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%i1, %v1) : (tensor<i32>, tensor<f64>) -> ()
  }) : (tensor<i32>, tensor<f64>) -> (tensor<i32>, tensor<f64>)
  func.return %r#1 : tensor<f64>
}

func.func @grad_loop(%x: tensor<f64>, %n: tensor<i32>, %d: tensor<f64>) -> tensor<f64> {
  %dx = enzyme.autodiff @loop(%x, %n, %d) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_activenoneed]} : (tensor<f64>, tensor<i32>, tensor<f64>) -> tensor<f64>
  func.return %dx : tensor<f64>
}

// CHECK-LABEL: sym_name = "diffeloop"
// The forward sweep: counter, stride K (from 1), the carried state, one buffer per
// carried tensor, under the loop's own condition.
// CHECK:       "stablehlo.while"(%zero, %one, %zero, %0, %{{[^ ]+}}, %{{[^ ]+}}) ({
// CHECK-NEXT:  ^bb0(%{{[^ ]+}}: tensor<i32>, %{{[^ ]+}}: tensor<i32>, %{{[^ ]+}}: tensor<i32>, %{{[^ ]+}}: tensor<f64>, %{{[^ ]+}}: tensor<32xi32>, %{{[^ ]+}}: tensor<32xf64>):
// CHECK-NEXT:  "stablehlo.compare"({{.*}}) <{comparison_direction = #stablehlo<comparison_direction LT>}>
// Full slots: keep the even ones, in the first half, and double K.
// CHECK:       "stablehlo.if"
// CHECK:       "stablehlo.slice"({{.*}}) <{start_indices = array<i64: 0>, limit_indices = array<i64: 32>, strides = array<i64: 2>}> : (tensor<32xf64>) -> tensor<16xf64>
// CHECK:       "stablehlo.dynamic_update_slice"({{.*}}) : (tensor<32xf64>, tensor<1xf64>, tensor<i32>) -> tensor<32xf64>
// CHECK:       "stablehlo.sine"
// The reverse: segments last first (from ceil(N/K) - 1 down to 0), a second level of
// checkpoints per segment, then one iteration's reverse (cos) from a recomputed state.
// CHECK:       "stablehlo.compare"({{.*}}) <{comparison_direction = #stablehlo<comparison_direction GE>
// CHECK:       "stablehlo.dynamic_slice"({{.*}}) <{slice_sizes = array<i64: 1>}> : (tensor<32xf64>, tensor<i32>) -> tensor<1xf64>
// CHECK:       "stablehlo.cosine"
// CHECK-NOT:   tensor<5xf64>
// CHECK-NOT:   Traceback

// sin^5 composed: d/dx = prod cos(x_k), x_0 = 0.7
// NUM:      @grad_loop(0.7, 5, 1.0)
// NUM-NEXT: array(0.36644077)
// ZERO:      @grad_loop(0.7, 0, 1.0)
// ZERO-NEXT: array(1.)
