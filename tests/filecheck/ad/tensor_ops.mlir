// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce > %t
// RUN: FileCheck --check-prefix=REV %s < %t
// RUN: FileCheck --check-prefix=FWD %s < %t
// RUN: zymase-opt %s -p enzyme --run grad_layer --args 0.1 0.2 0.3 1.0 --run jvp_layer --args 0.1 0.2 1.0 0.3 | FileCheck --check-prefixes=RUN-REV,RUN-FWD %s

// A dense layer and a squared-sum loss: dot_general, broadcast_in_dim, add, tanh,
// multiply and a reduce (sum). Reverse mode transposes each linear op (reduce sum ->
// broadcast_in_dim, broadcast_in_dim -> reduce, dot_general -> dot_general with the
// cotangent); tanh's partial is 1 - ans*ans.

func.func @layer(%w: tensor<3x4xf32>, %x: tensor<4xf32>, %b: tensor<f32>) -> tensor<f32> {
  %h = "stablehlo.dot_general"(%w, %x) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>}> : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3xf32>
  %bb = "stablehlo.broadcast_in_dim"(%b) <{broadcast_dimensions = array<i64>}> : (tensor<f32>) -> tensor<3xf32>
  %z = "stablehlo.add"(%h, %bb) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %t = "stablehlo.tanh"(%z) : (tensor<3xf32>) -> tensor<3xf32>
  %sq = "stablehlo.multiply"(%t, %t) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %zero = "stablehlo.constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32>
  %s = "stablehlo.reduce"(%sq, %zero) <{dimensions = array<i64: 0>}> ({
  ^bb0(%a: tensor<f32>, %c: tensor<f32>):
    %r = "stablehlo.add"(%a, %c) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    "stablehlo.return"(%r) : (tensor<f32>) -> ()
  }) : (tensor<3xf32>, tensor<f32>) -> tensor<f32>
  func.return %s : tensor<f32>
}

func.func @grad_layer(%w: tensor<3x4xf32>, %x: tensor<4xf32>, %b: tensor<f32>, %d: tensor<f32>) -> (tensor<3x4xf32>, tensor<f32>) {
  %dw, %db = enzyme.autodiff @layer(%w, %x, %b, %d) {activity = [enzyme_active, enzyme_const, enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<3x4xf32>, tensor<4xf32>, tensor<f32>, tensor<f32>) -> (tensor<3x4xf32>, tensor<f32>)
  func.return %dw, %db : tensor<3x4xf32>, tensor<f32>
}

func.func @jvp_layer(%w: tensor<3x4xf32>, %x: tensor<4xf32>, %tx: tensor<4xf32>, %b: tensor<f32>) -> (tensor<f32>, tensor<f32>) {
  %y, %dy = enzyme.fwddiff @layer(%w, %x, %tx, %b) {activity = [enzyme_const, enzyme_dup, enzyme_const], ret_activity = [enzyme_dup]} : (tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>) -> (tensor<f32>, tensor<f32>)
  func.return %y, %dy : tensor<f32>, tensor<f32>
}

// REV-LABEL: sym_name = "diffelayer", function_type = (tensor<3x4xf32>, tensor<4xf32>, tensor<f32>, tensor<f32>) -> (tensor<3x4xf32>, tensor<f32>)
// REV-NEXT:  ^bb0(%[[W:[^ ,:)#]+]]: tensor<3x4xf32>, %[[X:[^ ,:)#]+]]: tensor<4xf32>, %[[B:[^ ,:)#]+]]: tensor<f32>, %[[D:[^ ,:)#]+]]: tensor<f32>):
// The forward sweep: the primal computation.
// REV:         %[[T:[^ ]+]] = "stablehlo.tanh"
// REV:         %[[ZERO:[^ ]+]] = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f32>}>
// The reverse sweep. reduce sum: the seed is broadcast back to the summed shape.
// REV-NEXT:    %[[CT_SQ:[^ ]+]] = "stablehlo.broadcast_in_dim"(%[[D]]) <{broadcast_dimensions = array<i64>}> : (tensor<f32>) -> tensor<3xf32>
// multiply(t, t): both operands get ct * the other one.
// REV-NEXT:    %[[P1:[^ ]+]] = "stablehlo.multiply"(%[[CT_SQ]], %[[T]])
// REV-NEXT:    %[[P2:[^ ]+]] = "stablehlo.multiply"(%[[T]], %[[CT_SQ]])
// REV-NEXT:    %[[CT_T:[^ ]+]] = "stablehlo.add"(%[[P1]], %[[P2]])
// tanh: (1 - t^2) * ct, in whichever form the rule writes 1 - t^2.
// REV:         "stablehlo.subtract"(
// REV:         %[[CT_Z:[^ ]+]] = "stablehlo.multiply"(%{{[^ ]+}}, %[[CT_T]])
// broadcast_in_dim of b: its cotangent is summed back to a scalar.
// REV-NEXT:    %[[DB:[^ ]+]] = "stablehlo.reduce"(%[[CT_Z]], %[[ZERO]]) <{dimensions = array<i64: 0>}> ({
// REV:         "stablehlo.add"
// REV:         }) : (tensor<3xf32>, tensor<f32>) -> tensor<f32>
// dot_general(w, x) for w: the outer product of the cotangent and x. x is const: no
// product with w.
// REV-NEXT:    %[[DW:[^ ]+]] = "stablehlo.dot_general"(%[[CT_Z]], %[[X]]) <{dot_dimension_numbers = #stablehlo.dot<>}> : (tensor<3xf32>, tensor<4xf32>) -> tensor<3x4xf32>
// REV-NEXT:    "func.return"(%[[DW]], %[[DB]]) : (tensor<3x4xf32>, tensor<f32>) -> ()

// FWD-LABEL: sym_name = "fwddiffelayer", function_type = (tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>) -> (tensor<f32>, tensor<f32>)
// FWD-NEXT:  ^bb0(%[[W:[^ ,:)#]+]]: tensor<3x4xf32>, %[[X:[^ ,:)#]+]]: tensor<4xf32>, %[[TX:[^ ,:)#]+]]: tensor<4xf32>, %[[B:[^ ,:)#]+]]: tensor<f32>):
// dot_general is linear in x: the same product with the tangent.
// FWD-NEXT:    %[[H:[^ ]+]] = "stablehlo.dot_general"(%[[W]], %[[X]])
// FWD-NEXT:    %[[TH:[^ ]+]] = "stablehlo.dot_general"(%[[W]], %[[TX]])
// FWD:         %[[Z:[^ ]+]] = "stablehlo.add"(%[[H]],
// FWD:         %[[TZ:[^ ]+]] = "stablehlo.add"(%[[TH]],
// FWD:         %[[T:[^ ]+]] = "stablehlo.tanh"(%[[Z]])
// tanh: t_t = (1 - t^2) * t_z, in whichever form the rule writes 1 - t^2.
// FWD-DAG:     %[[TT:[^ ]+]] = "stablehlo.multiply"(%{{[^ ]+}}, %[[TZ]])
// FWD-DAG:     %[[SQ:[^ ]+]] = "stablehlo.multiply"(%[[T]], %[[T]])
// FWD:         %[[A:[^ ]+]] = "stablehlo.multiply"(%[[TT]], %[[T]])
// FWD-NEXT:    %[[C:[^ ]+]] = "stablehlo.multiply"(%[[T]], %[[TT]])
// FWD-NEXT:    %[[TSQ:[^ ]+]] = "stablehlo.add"(%[[A]], %[[C]])
// The reduce is linear: the primal sum and the tangent's sum.
// FWD:         %[[S:[^ ]+]] = "stablehlo.reduce"(%[[SQ]],
// FWD:         %[[TS:[^ ]+]] = "stablehlo.reduce"(%[[TSQ]],
// FWD:         "func.return"(%[[S]], %[[TS]]) : (tensor<f32>, tensor<f32>) -> ()

// Against jax.grad: w = 0.1, x = 0.2, b = 0.3 everywhere; dW_ij = 2 t_i (1 - t_i^2) x_j.
// RUN-REV:      array({{\[\[}}0.12599{{[0-9]*}}, 0.12599{{[0-9]*}}, 0.12599{{[0-9]*}}, 0.12599{{[0-9]*}}],
// RUN-REV:      array(1.88994{{[0-9]*}}, dtype=float32)
// RUN-FWD:      @jvp_layer
// RUN-FWD-NEXT: array(0.39467{{[0-9]*}}, dtype=float32)
// RUN-FWD-NEXT: array(0.75597{{[0-9]*}}, dtype=float32)
