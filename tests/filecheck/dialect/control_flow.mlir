// RUN: zymase-opt --print-op-generic %s | FileCheck %s
// RUN: zymase-opt --print-op-generic %s | zymase-opt --print-op-generic | FileCheck %s

// Control flow and structure: while, if, case, optimization_barrier, tuples, composite.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<f32>, tensor<i32>, tensor<i1>) -> (), sym_name = "control"}> ({
  ^bb0(%x: tensor<f32>, %i: tensor<i32>, %p: tensor<i1>):
    %0:2 = "stablehlo.while"(%i, %x) ({
    ^bb0(%c: tensor<i32>, %v: tensor<f32>):
      %lt = "stablehlo.compare"(%c, %c) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
      "stablehlo.return"(%lt) : (tensor<i1>) -> ()
    }, {
    ^bb0(%c: tensor<i32>, %v: tensor<f32>):
      %w = "stablehlo.multiply"(%v, %v) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      "stablehlo.return"(%c, %w) : (tensor<i32>, tensor<f32>) -> ()
    }) : (tensor<i32>, tensor<f32>) -> (tensor<i32>, tensor<f32>)
    %1 = "stablehlo.if"(%p) ({
      "stablehlo.return"(%x) : (tensor<f32>) -> ()
    }, {
      %n = "stablehlo.negate"(%x) : (tensor<f32>) -> tensor<f32>
      "stablehlo.return"(%n) : (tensor<f32>) -> ()
    }) : (tensor<i1>) -> tensor<f32>
    %2 = "stablehlo.case"(%i) ({
      "stablehlo.return"(%x) : (tensor<f32>) -> ()
    }, {
      "stablehlo.return"(%1) : (tensor<f32>) -> ()
    }, {
      %s = "stablehlo.sine"(%x) : (tensor<f32>) -> tensor<f32>
      "stablehlo.return"(%s) : (tensor<f32>) -> ()
    }) : (tensor<i32>) -> tensor<f32>
    %3:2 = "stablehlo.optimization_barrier"(%2, %i) : (tensor<f32>, tensor<i32>) -> (tensor<f32>, tensor<i32>)
    %4 = "stablehlo.tuple"(%3#0, %3#1) : (tensor<f32>, tensor<i32>) -> tuple<tensor<f32>, tensor<i32>>
    %5 = "stablehlo.get_tuple_element"(%4) <{index = 0 : i32}> : (tuple<tensor<f32>, tensor<i32>>) -> tensor<f32>
    %6 = "stablehlo.composite"(%5) <{composite_attributes = {scale = 2.000000e+00 : f32}, decomposition = @scaled_sine, name = "my.scaled_sine", version = 1 : i32}> : (tensor<f32>) -> tensor<f32>
    "func.return"() : () -> ()
  }) : () -> ()
  "func.func"() <{function_type = (tensor<f32>) -> tensor<f32>, sym_name = "scaled_sine", sym_visibility = "private"}> ({
  ^bb0(%x: tensor<f32>):
    %0 = "stablehlo.sine"(%x) : (tensor<f32>) -> tensor<f32>
    "func.return"(%0) : (tensor<f32>) -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:      "builtin.module"() ({
// CHECK-NEXT:   "func.func"() <{function_type = (tensor<f32>, tensor<i32>, tensor<i1>) -> (), sym_name = "control"}> ({
// CHECK-NEXT:   ^bb0(%[[X:[^ ,:)#]+]]: tensor<f32>, %[[I:[^ ,:)#]+]]: tensor<i32>, %[[P:[^ ,:)#]+]]: tensor<i1>):
// CHECK-NEXT:     %[[V0:[^ ,:)#]+]], %[[V1:[^ ,:)#]+]] = "stablehlo.while"(%[[I]], %[[X]]) ({
// CHECK-NEXT:     ^bb0(%[[C:[^ ,:)#]+]]: tensor<i32>, %[[V:[^ ,:)#]+]]: tensor<f32>):
// CHECK-NEXT:       %[[LT:[^ ,:)#]+]] = "stablehlo.compare"(%[[C]], %[[C]]) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
// CHECK-NEXT:       "stablehlo.return"(%[[LT]]) : (tensor<i1>) -> ()
// CHECK-NEXT:     }, {
// CHECK-NEXT:     ^bb0(%[[C_1:[^ ,:)#]+]]: tensor<i32>, %[[V_1:[^ ,:)#]+]]: tensor<f32>):
// CHECK-NEXT:       %[[W:[^ ,:)#]+]] = "stablehlo.multiply"(%[[V_1]], %[[V_1]]) : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT:       "stablehlo.return"(%[[C_1]], %[[W]]) : (tensor<i32>, tensor<f32>) -> ()
// CHECK-NEXT:     }) : (tensor<i32>, tensor<f32>) -> (tensor<i32>, tensor<f32>)
// CHECK-NEXT:     %[[V2:[^ ,:)#]+]] = "stablehlo.if"(%[[P]]) ({
// CHECK-NEXT:       "stablehlo.return"(%[[X]]) : (tensor<f32>) -> ()
// CHECK-NEXT:     }, {
// CHECK-NEXT:       %[[N:[^ ,:)#]+]] = "stablehlo.negate"(%[[X]]) : (tensor<f32>) -> tensor<f32>
// CHECK-NEXT:       "stablehlo.return"(%[[N]]) : (tensor<f32>) -> ()
// CHECK-NEXT:     }) : (tensor<i1>) -> tensor<f32>
// CHECK-NEXT:     %[[V3:[^ ,:)#]+]] = "stablehlo.case"(%[[I]]) ({
// CHECK-NEXT:       "stablehlo.return"(%[[X]]) : (tensor<f32>) -> ()
// CHECK-NEXT:     }, {
// CHECK-NEXT:       "stablehlo.return"(%[[V2]]) : (tensor<f32>) -> ()
// CHECK-NEXT:     }, {
// CHECK-NEXT:       %[[S:[^ ,:)#]+]] = "stablehlo.sine"(%[[X]]) : (tensor<f32>) -> tensor<f32>
// CHECK-NEXT:       "stablehlo.return"(%[[S]]) : (tensor<f32>) -> ()
// CHECK-NEXT:     }) : (tensor<i32>) -> tensor<f32>
// CHECK-NEXT:     %[[V4:[^ ,:)#]+]], %[[V5:[^ ,:)#]+]] = "stablehlo.optimization_barrier"(%[[V3]], %[[I]]) : (tensor<f32>, tensor<i32>) -> (tensor<f32>, tensor<i32>)
// CHECK-NEXT:     %[[V6:[^ ,:)#]+]] = "stablehlo.tuple"(%[[V4]], %[[V5]]) : (tensor<f32>, tensor<i32>) -> tuple<tensor<f32>, tensor<i32>>
// CHECK-NEXT:     %[[V7:[^ ,:)#]+]] = "stablehlo.get_tuple_element"(%[[V6]]) <{index = 0 : i32}> : (tuple<tensor<f32>, tensor<i32>>) -> tensor<f32>
// CHECK-NEXT:     %[[V8:[^ ,:)#]+]] = "stablehlo.composite"(%[[V7]]) <{composite_attributes = {scale = 2.000000e+00 : f32}, decomposition = @scaled_sine, name = "my.scaled_sine", version = 1 : i32}> : (tensor<f32>) -> tensor<f32>
// CHECK-NEXT:     "func.return"() : () -> ()
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT:   "func.func"() <{function_type = (tensor<f32>) -> tensor<f32>, sym_name = "scaled_sine", sym_visibility = "private"}> ({
// CHECK-NEXT:   ^bb0(%[[X]]: tensor<f32>):
// CHECK-NEXT:     %[[V0]] = "stablehlo.sine"(%[[X]]) : (tensor<f32>) -> tensor<f32>
// CHECK-NEXT:     "func.return"(%[[V0]]) : (tensor<f32>) -> ()
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT: }) : () -> ()
