// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce > %t
// RUN: FileCheck --check-prefix=REV %s < %t
// RUN: FileCheck --check-prefix=FWD %s < %t
// RUN: zymase-opt %s -p enzyme --run grad_outer --args 0.5 2.0 1.0 --run jvp_outer --args 0.5 1.0 2.0 | FileCheck --check-prefix=NUM %s

// func.call: the callee is differentiated too, once per activity pattern. Both calls
// of @inner have an active first and a const second argument, so one @diffeinner (and
// one @fwddiffeinner) serves both. The reverse sweep calls @diffeinner with the
// call's cotangent as the seed.

func.func @inner(%x: tensor<f32>, %y: tensor<f32>) -> tensor<f32> {
  %s = "stablehlo.sine"(%x) : (tensor<f32>) -> tensor<f32>
  %m = "stablehlo.multiply"(%s, %y) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %m : tensor<f32>
}

func.func @outer(%x: tensor<f32>, %y: tensor<f32>) -> tensor<f32> {
  %a = func.call @inner(%x, %y) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %b = "stablehlo.exponential"(%a) : (tensor<f32>) -> tensor<f32>
  %c = func.call @inner(%b, %y) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %c : tensor<f32>
}

func.func @grad_outer(%x: tensor<f32>, %y: tensor<f32>, %d: tensor<f32>) -> tensor<f32> {
  %dx = enzyme.autodiff @outer(%x, %y, %d) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_activenoneed]} : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %dx : tensor<f32>
}

func.func @jvp_outer(%x: tensor<f32>, %tx: tensor<f32>, %y: tensor<f32>) -> tensor<f32> {
  %dz = enzyme.fwddiff @outer(%x, %tx, %y) {activity = [enzyme_dup, enzyme_const], ret_activity = [enzyme_dupnoneed]} : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %dz : tensor<f32>
}

// REV-LABEL: sym_name = "diffeouter"
// REV-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: tensor<f32>, %[[Y:[^ ,:)#]+]]: tensor<f32>, %[[D:[^ ,:)#]+]]: tensor<f32>):
// The forward sweep calls the primal @inner. (The second call's result is unused, but
// dce keeps it: xDSL does not know that func.call has no side effects.)
// REV-NEXT:    %[[A:[^ ]+]] = "func.call"(%[[X]], %[[Y]]) <{callee = @inner}>
// REV-NEXT:    %[[B:[^ ]+]] = "stablehlo.exponential"(%[[A]])
// REV-NEXT:    "func.call"(%[[B]], %[[Y]]) <{callee = @inner}>
// The reverse sweep, last call first.
// REV-NEXT:    %[[CTB:[^ ]+]] = "func.call"(%[[B]], %[[Y]], %[[D]]) <{callee = @diffeinner}> : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<f32>
// REV-NEXT:    %[[CTA:[^ ]+]] = "stablehlo.multiply"(%[[B]], %[[CTB]])
// REV-NEXT:    %[[CTX:[^ ]+]] = "func.call"(%[[X]], %[[Y]], %[[CTA]]) <{callee = @diffeinner}> : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<f32>
// REV-NEXT:    "func.return"(%[[CTX]]) : (tensor<f32>) -> ()

// REV-LABEL: sym_name = "diffeinner", function_type = (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<f32>
// REV-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: tensor<f32>, %[[Y:[^ ,:)#]+]]: tensor<f32>, %[[D:[^ ,:)#]+]]: tensor<f32>):
// REV-NEXT:    %[[CTS:[^ ]+]] = "stablehlo.multiply"(%[[D]], %[[Y]])
// REV-NEXT:    %[[COS:[^ ]+]] = "stablehlo.cosine"(%[[X]])
// REV-NEXT:    %[[CTX:[^ ]+]] = "stablehlo.multiply"(%[[COS]], %[[CTS]])
// REV-NEXT:    "func.return"(%[[CTX]]) : (tensor<f32>) -> ()
// REV-NOT:   diffeinner_1

// FWD-LABEL: sym_name = "fwddiffeouter"
// FWD-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: tensor<f32>, %[[TX:[^ ,:)#]+]]: tensor<f32>, %[[Y:[^ ,:)#]+]]: tensor<f32>):
// FWD-NEXT:    %[[A:[^ ]+]], %[[TA:[^ ]+]] = "func.call"(%[[X]], %[[TX]], %[[Y]]) <{callee = @fwddiffeinner}> : (tensor<f32>, tensor<f32>, tensor<f32>) -> (tensor<f32>, tensor<f32>)
// FWD-NEXT:    %[[B:[^ ]+]] = "stablehlo.exponential"(%[[A]])
// FWD-NEXT:    %[[TB:[^ ]+]] = "stablehlo.multiply"(%[[B]], %[[TA]])
// FWD-NEXT:    %{{.*}}, %[[TC:[^ ]+]] = "func.call"(%[[B]], %[[TB]], %[[Y]]) <{callee = @fwddiffeinner}>
// FWD-NEXT:    "func.return"(%[[TC]]) : (tensor<f32>) -> ()

// FWD-LABEL: sym_name = "fwddiffeinner", function_type = (tensor<f32>, tensor<f32>, tensor<f32>) -> (tensor<f32>, tensor<f32>)
// FWD-NOT:   fwddiffeinner_1

// d/dx sin(exp(sin(x) y)) y at x = 0.5, y = 2 (jax.grad: -7.88762...).
// NUM:      @grad_outer
// NUM-NEXT: array(-7.8876{{[0-9]*}}, dtype=float32)
// NUM:      @jvp_outer
// NUM:      array(-7.8876{{[0-9]*}}, dtype=float32)
