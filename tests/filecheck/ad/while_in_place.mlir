// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce > %t
// RUN: FileCheck --check-prefix=ROWS %s < %t
// RUN: FileCheck --check-prefix=RNN %s < %t
// RUN: zymase-opt %s -p enzyme --run grad_rows --args 2.0 1.0 --run grad_rnn --args 0.5 1.0 1.0 | FileCheck --check-prefixes=NUMROWS,NUMRNN %s

// Reverse loops without per-iteration copies (src/zymase/ad/rules/loop_buffers.py).
//
// @rows writes x[i]^2 into row i of a buffer that starts as x, for i = 0, 1, 2: a buffer
// the loop only writes, a different row each iteration. Its cotangent is carried through
// the reverse loop unchanged (reading row k of it is free; zeroing row k too would copy
// the buffer every iteration), and the rows the loop wrote are zeroed once, after it.
//
// @rnn is h = tanh(W h), three times, W captured: the outer products g_t h_t^T that
// make W's cotangent leave the loop; the reverse loop stacks g_t, the forward loop's tape
// already stacks h_t, and one dot_general contracting the stack dimension sums them.

func.func @rows(%x: tensor<4xf32>) -> tensor<4xf32> {
  %zero = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %r:2 = "stablehlo.while"(%zero, %x) ({
  ^bb0(%i: tensor<i32>, %out: tensor<4xf32>):
    %n = "stablehlo.constant"() <{value = dense<3> : tensor<i32>}> : () -> tensor<i32>
    %lt = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%lt) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %out: tensor<4xf32>):
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i1 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %xi = "stablehlo.dynamic_slice"(%x, %i) <{slice_sizes = array<i64: 1>}> : (tensor<4xf32>, tensor<i32>) -> tensor<1xf32>
    %sq = "stablehlo.multiply"(%xi, %xi) : (tensor<1xf32>, tensor<1xf32>) -> tensor<1xf32>
    %out1 = "stablehlo.dynamic_update_slice"(%out, %sq, %i) : (tensor<4xf32>, tensor<1xf32>, tensor<i32>) -> tensor<4xf32>
    "stablehlo.return"(%i1, %out1) : (tensor<i32>, tensor<4xf32>) -> ()
  }) : (tensor<i32>, tensor<4xf32>) -> (tensor<i32>, tensor<4xf32>)
  func.return %r#1 : tensor<4xf32>
}

func.func @grad_rows(%x: tensor<4xf32>, %d: tensor<4xf32>) -> tensor<4xf32> {
  %dx = enzyme.autodiff @rows(%x, %d) {activity = [enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %dx : tensor<4xf32>
}

func.func @rnn(%w: tensor<4x4xf32>, %h0: tensor<4xf32>) -> tensor<4xf32> {
  %zero = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %r:2 = "stablehlo.while"(%zero, %h0) ({
  ^bb0(%i: tensor<i32>, %h: tensor<4xf32>):
    %n = "stablehlo.constant"() <{value = dense<3> : tensor<i32>}> : () -> tensor<i32>
    %lt = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%lt) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %h: tensor<4xf32>):
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i1 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %wh = "stablehlo.dot_general"(%w, %h) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>}> : (tensor<4x4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %h1 = "stablehlo.tanh"(%wh) : (tensor<4xf32>) -> tensor<4xf32>
    "stablehlo.return"(%i1, %h1) : (tensor<i32>, tensor<4xf32>) -> ()
  }) : (tensor<i32>, tensor<4xf32>) -> (tensor<i32>, tensor<4xf32>)
  func.return %r#1 : tensor<4xf32>
}

func.func @grad_rnn(%w: tensor<4x4xf32>, %h0: tensor<4xf32>, %d: tensor<4xf32>) -> tensor<4x4xf32> {
  %dw = enzyme.autodiff @rnn(%w, %h0, %d) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_activenoneed]} : (tensor<4x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
  func.return %dw : tensor<4x4xf32>
}

// ROWS-LABEL: sym_name = "differows"
// ROWS-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: tensor<4xf32>, %[[D:[^ ,:)#]+]]: tensor<4xf32>):
// The reverse loop is seeded with d and returns it unchanged; only row reads of it.
// ROWS:         "stablehlo.while"(%{{[^ ]+}}, %[[D]], %{{[^ ]+}})
// ROWS:         }, {
// ROWS-NEXT:    ^bb0(%[[K:[^ ,:)#]+]]: tensor<i32>, %[[CT:[^ ,:)#]+]]: tensor<4xf32>, %[[ACC:[^ ,:)#]+]]: tensor<4xf32>):
// ROWS-NOT:       "stablehlo.dynamic_update_slice"(%[[CT]]
// ROWS:           "stablehlo.dynamic_slice"(%[[CT]], %{{[^ ]+}}) <{slice_sizes = array<i64: 1>}>
// ROWS-NOT:       "stablehlo.dynamic_update_slice"(%[[CT]]
// ROWS:           "stablehlo.return"(%{{[^ ]+}}, %[[CT]], %{{[^ ]+}})
// After the loop: rows 0..2 of d are zeroed (they were overwritten), row 3 flows to x.
// ROWS:         %[[MASK:[^ ]+]] = "stablehlo.constant"() <{value = dense<[1, 1, 1, 0]> : tensor<4xi32>}>
// ROWS:         %[[WRITTEN:[^ ]+]] = "stablehlo.compare"(%[[MASK]], %{{[^ ]+}}) <{comparison_direction = #stablehlo<comparison_direction NE>
// ROWS-NEXT:    "stablehlo.select"(%[[WRITTEN]], %{{[^ ]+}}, %[[D]])

// RNN-LABEL: sym_name = "differnn"
// The forward loop tapes h (the state at the start of each iteration).
// RNN:         %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}, %[[HTAPE:[^ ]+]], %{{[^ ]+}} = "stablehlo.while"
// The reverse loop: no 4x4 outer product inside; it writes g_t into row k of a stack.
// RNN:         %{{[^ ]+}}, %{{[^ ]+}}, %[[ACCW:[^ ]+]], %[[GSTACK:[^ ]+]] = "stablehlo.while"
// RNN:         }, {
// RNN-NEXT:    ^bb0(%[[K:[^ ,:)#]+]]: tensor<i32>, %{{[^ ]+}}: tensor<4xf32>, %{{[^ ]+}}: tensor<4x4xf32>, %[[STACK:[^ ,:)#]+]]: tensor<3x4xf32>):
// RNN-NOT:       -> tensor<4x4xf32>
// RNN:           "stablehlo.dynamic_update_slice"(%[[STACK]], %{{[^ ]+}}, %[[K]], %{{[^ ]+}})
// RNN-NOT:       -> tensor<4x4xf32>
// RNN:         }) :
// After it, one contraction over the stack dimension: sum_t g_t h_t^T.
// RNN-NEXT:    %[[DW:[^ ]+]] = "stablehlo.dot_general"(%[[GSTACK]], %[[HTAPE]]) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>}> : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<4x4xf32>
// RNN-NEXT:    "stablehlo.add"(%[[ACCW]], %[[DW]])

// x = 2 everywhere, d = 1: rows 0..2 give 2 x = 4, row 3 passes d through.
// NUMROWS: array([4., 4., 4., 1.], dtype=float32)
// jax.grad of sum(h_3) at W = 0.5, h0 = 1: 0.09427213 in every entry.
// NUMRNN: array({{\[\[}}0.094272{{[0-9]*}}, 0.094272{{[0-9]*}}, 0.094272{{[0-9]*}}, 0.094272{{[0-9]*}}],
