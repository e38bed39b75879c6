// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce | FileCheck %s
// RUN: zymase-opt %s -p enzyme --run grad_all --args 0.9 1.0 | FileCheck --check-prefix=NUM %s
// RUN: zymase-opt --print-op-generic %s -p 'loop-checkpoint{schedule="periodic:5"},enzyme,cse,dce' | FileCheck --check-prefix=PASS %s

// Checkpointed reverse mode of a counted loop (50 iterations of acc = sin(acc) x + x),
// asked for on the loop: zymase.checkpoint = "binomial" (a revolve-style action table,
// tensor<R x 4 x i32>, interpreted by ONE while loop whose reverse step sits in a
// stablehlo.case), Enzyme's enzyme.enable_checkpointing = true (periodic, every
// ceil(sqrt 50) = 8 steps), and the loop-checkpoint pass, which sets the attribute on every
// loop that has none. None of them keeps a tensor<50x...> tape; all three gradients equal
// the full tape's.

func.func @full(%x: tensor<f64>) -> tensor<f64> {
  %zero = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %c = "stablehlo.constant"() <{value = dense<1.0> : tensor<f64>}> : () -> tensor<f64>
  %r:2 = "stablehlo.while"(%zero, %c) ({
  ^bb0(%i: tensor<i32>, %acc: tensor<f64>):
    %n = "stablehlo.constant"() <{value = dense<50> : tensor<i32>}> : () -> tensor<i32>
    %lt = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%lt) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %acc: tensor<f64>):
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i1 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %s = "stablehlo.sine"(%acc) : (tensor<f64>) -> tensor<f64>
    %t = "stablehlo.multiply"(%s, %x) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    %acc1 = "stablehlo.add"(%t, %x) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%i1, %acc1) : (tensor<i32>, tensor<f64>) -> ()
  }) : (tensor<i32>, tensor<f64>) -> (tensor<i32>, tensor<f64>)
  func.return %r#1 : tensor<f64>
}

func.func @binomial(%x: tensor<f64>) -> tensor<f64> {
  %zero = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %c = "stablehlo.constant"() <{value = dense<1.0> : tensor<f64>}> : () -> tensor<f64>
  %r:2 = "stablehlo.while"(%zero, %c) ({
  ^bb0(%i: tensor<i32>, %acc: tensor<f64>):
    %n = "stablehlo.constant"() <{value = dense<50> : tensor<i32>}> : () -> tensor<i32>
    %lt = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%lt) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %acc: tensor<f64>):
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i1 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %s = "stablehlo.sine"(%acc) : (tensor<f64>) -> tensor<f64>
    %t = "stablehlo.multiply"(%s, %x) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    %acc1 = "stablehlo.add"(%t, %x) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%i1, %acc1) : (tensor<i32>, tensor<f64>) -> ()
  }) {zymase.checkpoint = "binomial"} : (tensor<i32>, tensor<f64>) -> (tensor<i32>, tensor<f64>)
  func.return %r#1 : tensor<f64>
}

func.func @enzyme(%x: tensor<f64>) -> tensor<f64> {
  %zero = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %c = "stablehlo.constant"() <{value = dense<1.0> : tensor<f64>}> : () -> tensor<f64>
  %r:2 = "stablehlo.while"(%zero, %c) ({
  ^bb0(%i: tensor<i32>, %acc: tensor<f64>):
    %n = "stablehlo.constant"() <{value = dense<50> : tensor<i32>}> : () -> tensor<i32>
    %lt = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%lt) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %acc: tensor<f64>):
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i1 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %s = "stablehlo.sine"(%acc) : (tensor<f64>) -> tensor<f64>
    %t = "stablehlo.multiply"(%s, %x) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    %acc1 = "stablehlo.add"(%t, %x) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    "stablehlo.return"(%i1, %acc1) : (tensor<i32>, tensor<f64>) -> ()
  }) {enzyme.enable_checkpointing = true} : (tensor<i32>, tensor<f64>) -> (tensor<i32>, tensor<f64>)
  func.return %r#1 : tensor<f64>
}

func.func @grad_all(%x: tensor<f64>, %d: tensor<f64>) -> (tensor<f64>, tensor<f64>, tensor<f64>) {
  %a = enzyme.autodiff @full(%x, %d) {activity = [enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<f64>, tensor<f64>) -> tensor<f64>
  %b = enzyme.autodiff @binomial(%x, %d) {activity = [enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<f64>, tensor<f64>) -> tensor<f64>
  %c = enzyme.autodiff @enzyme(%x, %d) {activity = [enzyme_active], ret_activity = [enzyme_activenoneed]} : (tensor<f64>, tensor<f64>) -> tensor<f64>
  func.return %a, %b, %c : tensor<f64>, tensor<f64>, tensor<f64>
}

// The full tape: a tensor<50xf64> tape.
// CHECK-LABEL: sym_name = "diffefull"
// CHECK:       tensor<50xf64>
// Binomial: the primal loop, then the table (8 slots: ceil(sqrt 50)) and one loop reading
// it row by row: restore, advance (an inner loop of m steps), store, and the reverse of one
// step in branch 1 of a case on the row's reverse flag.
// CHECK-LABEL: sym_name = "diffebinomial"
// CHECK-NOT:   tensor<50x
// CHECK:       %[[TABLE:[^ ]+]] = "stablehlo.constant"() <{value = dense<{{.*}}> : tensor<{{[0-9]+}}x4xi32>}>
// CHECK-NOT:   tensor<50x
// CHECK:       "stablehlo.while"({{.*}}) ({
// CHECK-NEXT:  ^bb0(%{{[^ ]+}}: tensor<i32>, %{{[^ ]+}}: tensor<i32>, %{{[^ ]+}}: tensor<f64>, %{{[^ ]+}}: tensor<8xi32>, %{{[^ ]+}}: tensor<8xf64>, %{{[^ ]+}}: tensor<f64>, %{{[^ ]+}}: tensor<f64>):
// CHECK:       "stablehlo.dynamic_slice"(%[[TABLE]], {{.*}}) <{slice_sizes = array<i64: 1, 4>}>
// CHECK:       "stablehlo.while"
// CHECK:       "stablehlo.case"
// CHECK:       "stablehlo.cosine"
// CHECK-NOT:   tensor<50x
// Enzyme's attribute: checkpoints every 8 steps in 7 slots, each segment's states
// recomputed into 8 slots.
// CHECK-LABEL: sym_name = "diffeenzyme"
// CHECK-NOT:   tensor<50x
// CHECK:       tensor<7xf64>
// CHECK-NOT:   tensor<50x
// CHECK:       tensor<8xf64>
// CHECK-NOT:   tensor<50x

// NUM: array([[G:[-0-9.e]+]])
// NUM-NEXT: array([[G]])
// NUM-NEXT: array([[G]])

// The pass: periodic:5 on the loop that had no attribute (10 slots of 5 steps).
// PASS-LABEL: sym_name = "diffefull"
// PASS-NOT:   tensor<50x
// PASS:       tensor<10xf64>
// PASS-NOT:   tensor<50x
// PASS:       tensor<5xf64>
// PASS-NOT:   tensor<50x
// PASS-LABEL: sym_name = "diffebinomial"
