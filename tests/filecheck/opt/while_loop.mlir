// RUN: zymase-opt --print-op-generic -p 'zymase-hlo-opt{disable=while_raise_map}' %s | FileCheck %s
// (while_raise_map off: with it the norm loop is raised to x / norm(x) altogether, see
// loop_raise.mlir; here the loop rules that keep the loop are checked)

// out[i] = x[i] / norm(x) in a jax.lax.fori_loop over 16 elements (lowered by JAX, private
// calls inlined). The norm is loop-invariant: it is computed once before the loop, which
// makes the loop O(n) instead of O(n^2). The carried copy of x goes too.
// CHECK-LABEL: sym_name = "norm_loop"
// CHECK:         %[[S:.*]] = "stablehlo.reduce"
// CHECK:         %[[N:.*]] = "stablehlo.sqrt"(%[[S]])
// CHECK:         "stablehlo.while"(%{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}) ({
// CHECK-NOT:     "stablehlo.reduce"
// CHECK-NOT:     "stablehlo.sqrt"
// CHECK:         "stablehlo.divide"(%{{.*}}, %[[N]])
// CHECK-NOT:     "stablehlo.reduce"
// CHECK:         "func.return"
func.func @norm_loop(%0: tensor<16xf64>) -> (tensor<16xf64>) {
  %1 = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f64>}> : () -> tensor<f64>
  %2 = "stablehlo.broadcast_in_dim"(%1) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<16xf64>
  %3 = "stablehlo.constant"() <{value = dense<0> : tensor<i64>}> : () -> tensor<i64>
  %4 = "stablehlo.constant"() <{value = dense<0> : tensor<i64>}> : () -> tensor<i64>
  %5, %6, %7, %8 = "stablehlo.while"(%0, %4, %3, %2) ({
  ^bb0(%9: tensor<16xf64>, %10: tensor<i64>, %11: tensor<i64>, %12: tensor<16xf64>):
    %13 = "stablehlo.constant"() <{value = dense<16> : tensor<i64>}> : () -> tensor<i64>
    %14 = "stablehlo.compare"(%10, %13) <{compare_type = #stablehlo<comparison_type SIGNED>, comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i64>, tensor<i64>) -> tensor<i1>
    "stablehlo.return"(%14) : (tensor<i1>) -> ()
  }, {
  ^bb0(%15: tensor<16xf64>, %16: tensor<i64>, %17: tensor<i64>, %18: tensor<16xf64>):
    %19 = "stablehlo.constant"() <{value = dense<1> : tensor<i64>}> : () -> tensor<i64>
    %20 = "stablehlo.add"(%17, %19) : (tensor<i64>, tensor<i64>) -> tensor<i64>
    %21 = "stablehlo.constant"() <{value = dense<0> : tensor<i64>}> : () -> tensor<i64>
    %22 = "stablehlo.compare"(%17, %21) <{compare_type = #stablehlo<comparison_type SIGNED>, comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i64>, tensor<i64>) -> tensor<i1>
    %23 = "stablehlo.convert"(%17) : (tensor<i64>) -> tensor<i64>
    %24 = "stablehlo.constant"() <{value = dense<16> : tensor<i64>}> : () -> tensor<i64>
    %25 = "stablehlo.add"(%23, %24) : (tensor<i64>, tensor<i64>) -> tensor<i64>
    %26 = "stablehlo.select"(%22, %25, %17) : (tensor<i1>, tensor<i64>, tensor<i64>) -> tensor<i64>
    %27 = "stablehlo.dynamic_slice"(%15, %26) <{slice_sizes = array<i64: 1>}> : (tensor<16xf64>, tensor<i64>) -> tensor<1xf64>
    %28 = "stablehlo.reshape"(%27) : (tensor<1xf64>) -> tensor<f64>
    %29 = "stablehlo.multiply"(%15, %15) : (tensor<16xf64>, tensor<16xf64>) -> tensor<16xf64>
    %30 = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f64>}> : () -> tensor<f64>
    %31 = "stablehlo.reduce"(%29, %30) <{dimensions = array<i64: 0>}> ({
    ^bb0(%32: tensor<f64>, %33: tensor<f64>):
      %34 = "stablehlo.add"(%32, %33) : (tensor<f64>, tensor<f64>) -> tensor<f64>
      "stablehlo.return"(%34) : (tensor<f64>) -> ()
    }) : (tensor<16xf64>, tensor<f64>) -> tensor<f64>
    %35 = "stablehlo.sqrt"(%31) : (tensor<f64>) -> tensor<f64>
    %36 = "stablehlo.divide"(%28, %35) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    %37 = "stablehlo.constant"() <{value = dense<0> : tensor<i64>}> : () -> tensor<i64>
    %38 = "stablehlo.compare"(%17, %37) <{compare_type = #stablehlo<comparison_type SIGNED>, comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i64>, tensor<i64>) -> tensor<i1>
    %39 = "stablehlo.constant"() <{value = dense<16> : tensor<i64>}> : () -> tensor<i64>
    %40 = "stablehlo.add"(%17, %39) : (tensor<i64>, tensor<i64>) -> tensor<i64>
    %41 = "stablehlo.select"(%38, %40, %17) : (tensor<i1>, tensor<i64>, tensor<i64>) -> tensor<i64>
    %42 = "stablehlo.convert"(%41) : (tensor<i64>) -> tensor<i32>
    %43 = "stablehlo.broadcast_in_dim"(%42) <{broadcast_dimensions = array<i64>}> : (tensor<i32>) -> tensor<1xi32>
    %44 = "stablehlo.scatter"(%18, %43, %36) <{indices_are_sorted = true, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 0>, unique_indices = true}> ({
    ^bb0(%45: tensor<f64>, %46: tensor<f64>):
      "stablehlo.return"(%46) : (tensor<f64>) -> ()
    }) : (tensor<16xf64>, tensor<1xi32>, tensor<f64>) -> tensor<16xf64>
    %47 = "stablehlo.constant"() <{value = dense<1> : tensor<i64>}> : () -> tensor<i64>
    %48 = "stablehlo.add"(%16, %47) : (tensor<i64>, tensor<i64>) -> tensor<i64>
    "stablehlo.return"(%15, %48, %20, %44) : (tensor<16xf64>, tensor<i64>, tensor<i64>, tensor<16xf64>) -> ()
  }) : (tensor<16xf64>, tensor<i64>, tensor<i64>, tensor<16xf64>) -> (tensor<16xf64>, tensor<i64>, tensor<i64>, tensor<16xf64>)
  func.return %8 : tensor<16xf64>
}

// Three trips of a counted loop are unrolled into straight-line code.
// CHECK-LABEL: sym_name = "unroll"
// CHECK-NOT:     stablehlo.while
// CHECK:         %[[A:.*]] = "stablehlo.multiply"(%x, %x)
// CHECK:         %[[B:.*]] = "stablehlo.multiply"(%[[A]], %[[A]])
// CHECK:         %[[C:.*]] = "stablehlo.multiply"(%[[B]], %[[B]])
// CHECK:         "func.return"(%[[C]])
func.func @unroll(%x: tensor<3xf64>) -> tensor<3xf64> {
  %i0 = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %r:2 = "stablehlo.while"(%x, %i0) ({
  ^bb0(%a: tensor<3xf64>, %i: tensor<i32>):
    %n = "stablehlo.constant"() <{value = dense<3> : tensor<i32>}> : () -> tensor<i32>
    %p = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%p) : (tensor<i1>) -> ()
  }, {
  ^bb0(%a: tensor<3xf64>, %i: tensor<i32>):
    %a2 = "stablehlo.multiply"(%a, %a) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i2 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    "stablehlo.return"(%a2, %i2) : (tensor<3xf64>, tensor<i32>) -> ()
  }) : (tensor<3xf64>, tensor<i32>) -> (tensor<3xf64>, tensor<i32>)
  func.return %r#0 : tensor<3xf64>
}

// A loop whose counter starts past its bound runs zero times.
// CHECK-LABEL: sym_name = "zero_trip"
// CHECK-NOT:     stablehlo.while
// CHECK:         "func.return"(%x)
func.func @zero_trip(%x: tensor<3xf64>) -> tensor<3xf64> {
  %i0 = "stablehlo.constant"() <{value = dense<7> : tensor<i32>}> : () -> tensor<i32>
  %r:2 = "stablehlo.while"(%x, %i0) ({
  ^bb0(%a: tensor<3xf64>, %i: tensor<i32>):
    %n = "stablehlo.constant"() <{value = dense<3> : tensor<i32>}> : () -> tensor<i32>
    %p = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%p) : (tensor<i1>) -> ()
  }, {
  ^bb0(%a: tensor<3xf64>, %i: tensor<i32>):
    %a2 = "stablehlo.multiply"(%a, %a) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i2 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    "stablehlo.return"(%a2, %i2) : (tensor<3xf64>, tensor<i32>) -> ()
  }) : (tensor<3xf64>, tensor<i32>) -> (tensor<3xf64>, tensor<i32>)
  func.return %r#0 : tensor<3xf64>
}

// A carried value nobody reads (%b) leaves the loop, with its computation; a loop with an
// unknown trip count stays a loop.
// CHECK-LABEL: sym_name = "dead"
// CHECK:         "stablehlo.while"(%x) ({
// CHECK-NEXT:    ^{{.*}}(%{{.*}}: tensor<f64>):
// CHECK-NOT:     stablehlo.exponential
// CHECK:         }) : (tensor<f64>) -> tensor<f64>
func.func @dead(%x: tensor<f64>, %y: tensor<3xf64>) -> tensor<f64> {
  %r:2 = "stablehlo.while"(%x, %y) ({
  ^bb0(%a: tensor<f64>, %b: tensor<3xf64>):
    %n = "stablehlo.constant"() <{value = dense<100.0> : tensor<f64>}> : () -> tensor<f64>
    %p = "stablehlo.compare"(%a, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<f64>, tensor<f64>) -> tensor<i1>
    "stablehlo.return"(%p) : (tensor<i1>) -> ()
  }, {
  ^bb0(%a: tensor<f64>, %b: tensor<3xf64>):
    %a2 = "stablehlo.add"(%a, %a) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    %b2 = "stablehlo.exponential"(%b) : (tensor<3xf64>) -> tensor<3xf64>
    "stablehlo.return"(%a2, %b2) : (tensor<f64>, tensor<3xf64>) -> ()
  }) : (tensor<f64>, tensor<3xf64>) -> (tensor<f64>, tensor<3xf64>)
  func.return %r#0 : tensor<f64>
}
