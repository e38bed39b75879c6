// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce > %t
// RUN: FileCheck --check-prefix=REV %s < %t
// RUN: FileCheck --check-prefix=FWD %s < %t
// RUN: zymase-opt %s -p enzyme --run grad_power --args 0.5 1.0 --run jvp_power --args 0.5 1.0 | FileCheck --check-prefix=NUM %s

// A counted stablehlo.while (3 iterations of acc = sin(acc) * x, x captured).
// Reverse mode: the forward loop stores each iteration's acc into a tensor<3xf32> tape
// (dynamic_update_slice at the iteration counter); a second loop runs the counter from
// 2 down to 0, reads acc back (dynamic_slice), and carries acc's cotangent and the
// accumulated cotangent of the captured x. Forward mode: the tangent is carried along.

func.func @power(%x: tensor<f32>) -> tensor<f32> {
  %zero = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %c = "stablehlo.constant"() <{value = dense<1.0> : tensor<f32>}> : () -> tensor<f32>
  %r:2 = "stablehlo.while"(%zero, %c) ({
  ^bb0(%i: tensor<i32>, %acc: tensor<f32>):
    %n = "stablehlo.constant"() <{value = dense<3> : tensor<i32>}> : () -> tensor<i32>
    %lt = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%lt) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %acc: tensor<f32>):
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i1 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %s = "stablehlo.sine"(%acc) : (tensor<f32>) -> tensor<f32>
    %acc1 = "stablehlo.multiply"(%s, %x) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    "stablehlo.return"(%i1, %acc1) : (tensor<i32>, tensor<f32>) -> ()
  }) : (tensor<i32>, tensor<f32>) -> (tensor<i32>, tensor<f32>)
  func.return %r#1 : tensor<f32>
}

func.func @grad_power(%x: tensor<f32>, %d: tensor<f32>) -> tensor<f32> {
  %dx = enzyme.autodiff @power(%x, %d) {activity = [enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %dx : tensor<f32>
}

func.func @jvp_power(%x: tensor<f32>, %t: tensor<f32>) -> tensor<f32> {
  %dy = enzyme.fwddiff @power(%x, %t) {activity = [enzyme_dup], ret_activity = [enzyme_dupnoneed]} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %dy : tensor<f32>
}

// REV-LABEL: sym_name = "diffepower"
// REV-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: tensor<f32>, %[[D:[^ ,:)#]+]]: tensor<f32>):
// REV:         %[[TAPE0:[^ ]+]] = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<3xf32>}>
// The augmented forward loop carries the primal state, an iteration counter and the
// tapes; each iteration writes acc into row k of its tape.
// REV:         "stablehlo.while"({{.*}}%[[TAPE0]]
// REV:         }, {
// REV-NEXT:    ^bb0(%{{[^ ]+}}: tensor<i32>, %[[ACC:[^ ,:)#]+]]: tensor<f32>, %[[K:[^ ,:)#]+]]: tensor<i32>, {{.*}}: tensor<3xf32>):
// REV:         %[[ROW:[^ ]+]] = "stablehlo.reshape"(%[[ACC]]) : (tensor<f32>) -> tensor<1xf32>
// REV-NEXT:    "stablehlo.dynamic_update_slice"(%{{[^ ]+}}, %[[ROW]], %[[K]]) : (tensor<3xf32>, tensor<1xf32>, tensor<i32>) -> tensor<3xf32>
// REV:         "stablehlo.return"({{.*}}) : (tensor<i32>, tensor<f32>, tensor<i32>, {{.*}}tensor<3xf32>) -> ()
// The reversed loop: the counter runs from 2 down to 0; it carries acc's cotangent
// (seeded with d) and the accumulated cotangent of the captured x (from 0).
// REV:         %[[LAST:[^ ]+]] = "stablehlo.constant"() <{value = dense<2> : tensor<i32>}>
// REV-NEXT:    %[[FZERO:[^ ]+]] = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f32>}>
// REV-NEXT:    %{{.*}}, %{{.*}}, %[[DX:[^ ]+]] = "stablehlo.while"(%[[LAST]], %[[D]], %[[FZERO]])
// REV:           "stablehlo.compare"({{.*}}) <{comparison_direction = #stablehlo<comparison_direction GE>
// REV:         }, {
// REV-NEXT:    ^bb0(%[[RK:[^ ,:)#]+]]: tensor<i32>, %[[CT:[^ ,:)#]+]]: tensor<f32>, %[[CTX:[^ ,:)#]+]]: tensor<f32>):
// Iteration k's values come back from the tape.
// REV-NEXT:      "stablehlo.dynamic_slice"(%{{[^ ]+}}, %[[RK]]) <{slice_sizes = array<i64: 1>}> : (tensor<3xf32>, tensor<i32>) -> tensor<1xf32>
// acc1 = sin(acc) * x: ct_x += sin(acc) * ct, ct_acc = cos(acc) * (ct * x).
// REV:           %[[CTS:[^ ]+]] = "stablehlo.multiply"(%[[CT]], %[[X]])
// REV:           %[[COS:[^ ]+]] = "stablehlo.cosine"(
// REV-NEXT:      %[[CTACC:[^ ]+]] = "stablehlo.multiply"(%[[COS]], %[[CTS]])
// REV-NEXT:      %[[CTX1:[^ ]+]] = "stablehlo.add"(%[[CTX]],
// REV:           %[[NEXT:[^ ]+]] = "stablehlo.subtract"(%[[RK]],
// REV-NEXT:      "stablehlo.return"(%[[NEXT]], %[[CTACC]], %[[CTX1]])
// REV:         "func.return"(%[[DX]]) : (tensor<f32>) -> ()

// FWD-LABEL: sym_name = "fwddiffepower"
// FWD-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: tensor<f32>, %[[TX:[^ ,:)#]+]]: tensor<f32>):
// The initial acc is a constant: its tangent is zero.
// FWD:         %[[Z:[^ ]+]] = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f32>}>
// FWD-NEXT:    %{{.*}}, %{{.*}}, %[[TY:[^ ]+]] = "stablehlo.while"(%{{.*}}, %{{.*}}, %[[Z]])
// FWD:         }, {
// FWD-NEXT:    ^bb0(%{{[^ ]+}}: tensor<i32>, %[[ACC:[^ ,:)#]+]]: tensor<f32>, %[[TACC:[^ ,:)#]+]]: tensor<f32>):
// FWD:           %[[S:[^ ]+]] = "stablehlo.sine"(%[[ACC]])
// FWD-NEXT:      %[[COS:[^ ]+]] = "stablehlo.cosine"(%[[ACC]])
// FWD-NEXT:      %[[TS:[^ ]+]] = "stablehlo.multiply"(%[[COS]], %[[TACC]])
// FWD-NEXT:      %[[ACC1:[^ ]+]] = "stablehlo.multiply"(%[[S]], %[[X]])
// FWD-NEXT:      %[[A:[^ ]+]] = "stablehlo.multiply"(%[[TS]], %[[X]])
// FWD-NEXT:      %[[B:[^ ]+]] = "stablehlo.multiply"(%[[S]], %[[TX]])
// FWD-NEXT:      %[[TACC1:[^ ]+]] = "stablehlo.add"(%[[A]], %[[B]])
// FWD-NEXT:      "stablehlo.return"(%{{.*}}, %[[ACC1]], %[[TACC1]])
// FWD:         "func.return"(%[[TY]]) : (tensor<f32>) -> ()

// d/dx of the 3-fold sin(.)*x from 1, at x = 0.5 (jax.grad: 0.5908030...).
// NUM:      @grad_power
// NUM-NEXT: array(0.59080{{[0-9]*}}, dtype=float32)
// NUM:      @jvp_power
// NUM:      array(0.59080{{[0-9]*}}, dtype=float32)
