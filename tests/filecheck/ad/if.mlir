// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce > %t
// RUN: FileCheck --check-prefix=REV %s < %t
// RUN: FileCheck --check-prefix=FWD %s < %t
// RUN: zymase-opt %s -p enzyme --run grad_relu3 --args 2.0 1.0 --run grad_relu3 --args -2.0 1.0 --run jvp_relu3 --args 2.0 1.0 | FileCheck --check-prefixes=POS,NEG,JVP %s

// The talk's relu3: x > 0 ? x*x*x : 0, with stablehlo.if. Reverse mode: a second
// stablehlo.if on the same predicate, whose branches recompute their primal values and
// return the cotangent of the captured x (3x^2 ct in the true branch, zero in the false
// one). Forward mode: the if returns each result's tangent next to it.

func.func @relu3(%x: tensor<f32>) -> tensor<f32> {
  %zero = "stablehlo.constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32>
  %p = "stablehlo.compare"(%x, %zero) <{comparison_direction = #stablehlo<comparison_direction GT>}> : (tensor<f32>, tensor<f32>) -> tensor<i1>
  %r = "stablehlo.if"(%p) ({
    %x2 = "stablehlo.multiply"(%x, %x) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %x3 = "stablehlo.multiply"(%x2, %x) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    "stablehlo.return"(%x3) : (tensor<f32>) -> ()
  }, {
    "stablehlo.return"(%zero) : (tensor<f32>) -> ()
  }) : (tensor<i1>) -> tensor<f32>
  func.return %r : tensor<f32>
}

func.func @grad_relu3(%x: tensor<f32>, %d: tensor<f32>) -> tensor<f32> {
  %dx = enzyme.autodiff @relu3(%x, %d) {activity = [enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return %dx : tensor<f32>
}

func.func @jvp_relu3(%x: tensor<f32>, %t: tensor<f32>) -> (tensor<f32>, tensor<f32>) {
  %y, %dy = enzyme.fwddiff @relu3(%x, %t) {activity = [enzyme_dup], ret_activity = [enzyme_dup]} : (tensor<f32>, tensor<f32>) -> (tensor<f32>, tensor<f32>)
  func.return %y, %dy : tensor<f32>, tensor<f32>
}

// REV-LABEL: sym_name = "differelu3"
// REV-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: tensor<f32>, %[[D:[^ ,:)#]+]]: tensor<f32>):
// REV-NEXT:    %[[ZERO:[^ ]+]] = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f32>}>
// REV-NEXT:    %[[P:[^ ]+]] = "stablehlo.compare"(%[[X]], %[[ZERO]])
// The primal result is not needed (activenoneed), so the only if left is the reverse one.
// REV-NEXT:    %[[DX:[^ ]+]] = "stablehlo.if"(%[[P]]) ({
// REV-NEXT:      %[[X2:[^ ]+]] = "stablehlo.multiply"(%[[X]], %[[X]])
// x3 = x2 * x with x2 = x * x, a cube: ct_x = ct * (3 * x2) (tests/filecheck/ad/cube.mlir).
// REV-NEXT:      %[[THREE:[^ ]+]] = "stablehlo.constant"() <{value = dense<3.000000e+00> : tensor<f32>}>
// REV-NEXT:      %[[S3:[^ ]+]] = "stablehlo.multiply"(%[[X2]], %[[THREE]])
// REV-NEXT:      %[[SUM:[^ ]+]] = "stablehlo.multiply"(%[[D]], %[[S3]])
// REV-NEXT:      "stablehlo.return"(%[[SUM]]) : (tensor<f32>) -> ()
// REV-NEXT:    }, {
// REV-NEXT:      "stablehlo.return"(%[[ZERO]]) : (tensor<f32>) -> ()
// REV-NEXT:    }) : (tensor<i1>) -> tensor<f32>
// REV-NEXT:    "func.return"(%[[DX]]) : (tensor<f32>) -> ()

// FWD-LABEL: sym_name = "fwddifferelu3"
// FWD-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: tensor<f32>, %[[T:[^ ,:)#]+]]: tensor<f32>):
// FWD:         %[[Y:[^ ]+]], %[[DY:[^ ]+]] = "stablehlo.if"(%{{.*}}) ({
// FWD-NEXT:      %[[X2:[^ ]+]] = "stablehlo.multiply"(%[[X]], %[[X]])
// FWD-NEXT:      %[[A:[^ ]+]] = "stablehlo.multiply"(%[[T]], %[[X]])
// FWD-NEXT:      %[[B:[^ ]+]] = "stablehlo.multiply"(%[[X]], %[[T]])
// FWD-NEXT:      %[[TX2:[^ ]+]] = "stablehlo.add"(%[[A]], %[[B]])
// FWD-NEXT:      %[[X3:[^ ]+]] = "stablehlo.multiply"(%[[X2]], %[[X]])
// FWD-NEXT:      %[[C:[^ ]+]] = "stablehlo.multiply"(%[[TX2]], %[[X]])
// FWD-NEXT:      %[[E:[^ ]+]] = "stablehlo.multiply"(%[[X2]], %[[T]])
// FWD-NEXT:      %[[TX3:[^ ]+]] = "stablehlo.add"(%[[C]], %[[E]])
// FWD-NEXT:      "stablehlo.return"(%[[X3]], %[[TX3]]) : (tensor<f32>, tensor<f32>) -> ()
// FWD-NEXT:    }, {
// The false branch: the constant 0 and its zero tangent (one constant after cse).
// FWD-NEXT:      "stablehlo.return"(%[[Z:[^ ,]+]], %[[Z]]) : (tensor<f32>, tensor<f32>) -> ()
// FWD-NEXT:    }) : (tensor<i1>) -> (tensor<f32>, tensor<f32>)
// FWD-NEXT:    "func.return"(%[[Y]], %[[DY]]) : (tensor<f32>, tensor<f32>) -> ()

// POS: array(12., dtype=float32)
// NEG: array(0., dtype=float32)
// JVP:      @jvp_relu3
// JVP-NEXT: array(8., dtype=float32)
// JVP-NEXT: array(12., dtype=float32)
