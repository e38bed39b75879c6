// RUN: zymase-opt -p zymase-hlo-opt %s | FileCheck %s
// RUN: zymase-opt -p 'zymase-hlo-opt{assume_finite=true}' %s | FileCheck --check-prefix=FINITE %s

// Rules for the peer's families (issue 14): factoring, data movement, gathers and
// scatters with known indices, loop index arithmetic.

// (a * 7) + (b * -7) -> (a - b) * 7 on integers; floats only under fast-math.
func.func @negated_factor(%a: tensor<4xi32>, %b: tensor<4xi32>) -> tensor<4xi32> {
  %c = stablehlo.constant dense<7> : tensor<4xi32>
  %n = stablehlo.constant dense<-7> : tensor<4xi32>
  %0 = stablehlo.multiply %a, %c : tensor<4xi32>
  %1 = stablehlo.multiply %b, %n : tensor<4xi32>
  %2 = stablehlo.add %0, %1 : tensor<4xi32>
  return %2 : tensor<4xi32>
}
// CHECK-LABEL: func.func @negated_factor
// CHECK-NEXT:    %[[C:.*]] = stablehlo.constant dense<7>
// CHECK-NEXT:    %[[D:.*]] = stablehlo.subtract %a, %b
// CHECK-NEXT:    %[[M:.*]] = stablehlo.multiply %[[D]], %[[C]]
// CHECK-NEXT:    return %[[M]]

func.func @negated_factor_float(%a: tensor<4xf64>, %b: tensor<4xf64>) -> tensor<4xf64> {
  %c = stablehlo.constant dense<3.0> : tensor<4xf64>
  %n = stablehlo.constant dense<-3.0> : tensor<4xf64>
  %0 = stablehlo.multiply %a, %c : tensor<4xf64>
  %1 = stablehlo.multiply %b, %n : tensor<4xf64>
  %2 = stablehlo.add %0, %1 : tensor<4xf64>
  return %2 : tensor<4xf64>
}
// CHECK-LABEL: func.func @negated_factor_float
// CHECK-DAG:     stablehlo.multiply %a
// CHECK-DAG:     stablehlo.multiply %b
// CHECK:         stablehlo.subtract
// FINITE-LABEL: func.func @negated_factor_float
// FINITE:         %[[D:.*]] = stablehlo.subtract %a, %b
// FINITE-NEXT:    %[[M:.*]] = stablehlo.multiply %[[D]]
// FINITE-NEXT:    return %[[M]]

// Disjoint zero pads added: one concatenate.
func.func @pads_to_concatenate(%x: tensor<2x3xf64>, %y: tensor<2x2xf64>) -> tensor<2x5xf64> {
  %z = stablehlo.constant dense<0.0> : tensor<f64>
  %0 = stablehlo.pad %x, %z, low = [0, 2], high = [0, 0], interior = [0, 0] : (tensor<2x3xf64>, tensor<f64>) -> tensor<2x5xf64>
  %1 = stablehlo.pad %y, %z, low = [0, 0], high = [0, 3], interior = [0, 0] : (tensor<2x2xf64>, tensor<f64>) -> tensor<2x5xf64>
  %2 = stablehlo.add %0, %1 : tensor<2x5xf64>
  return %2 : tensor<2x5xf64>
}
// CHECK-LABEL: func.func @pads_to_concatenate
// CHECK-NEXT:    %[[C:.*]] = stablehlo.concatenate %y, %x, dim = 1
// CHECK-NEXT:    return %[[C]]

// Unit slices concatenated in descending order: a reverse.
func.func @slices_to_reverse(%x: tensor<3x2xf64>) -> tensor<3x2xf64> {
  %0 = stablehlo.slice %x [2:3, 0:2] : (tensor<3x2xf64>) -> tensor<1x2xf64>
  %1 = stablehlo.slice %x [1:2, 0:2] : (tensor<3x2xf64>) -> tensor<1x2xf64>
  %2 = stablehlo.slice %x [0:1, 0:2] : (tensor<3x2xf64>) -> tensor<1x2xf64>
  %3 = stablehlo.concatenate %0, %1, %2, dim = 0 : (tensor<1x2xf64>, tensor<1x2xf64>, tensor<1x2xf64>) -> tensor<3x2xf64>
  return %3 : tensor<3x2xf64>
}
// CHECK-LABEL: func.func @slices_to_reverse
// CHECK-NEXT:    %[[R:.*]] = stablehlo.reverse %x, dims = [0]
// CHECK-NEXT:    return %[[R]]

// An integer maximum over unit slices of one row: a reduce (float ones stay: a tree of
// maxima splits the derivative at ties by its grouping).
func.func @slices_to_reduce(%x: tensor<2x4xi32>) -> tensor<2x1xi32> {
  %0 = stablehlo.slice %x [0:2, 0:1] : (tensor<2x4xi32>) -> tensor<2x1xi32>
  %1 = stablehlo.slice %x [0:2, 1:2] : (tensor<2x4xi32>) -> tensor<2x1xi32>
  %2 = stablehlo.slice %x [0:2, 2:3] : (tensor<2x4xi32>) -> tensor<2x1xi32>
  %3 = stablehlo.slice %x [0:2, 3:4] : (tensor<2x4xi32>) -> tensor<2x1xi32>
  %4 = stablehlo.maximum %0, %2 : tensor<2x1xi32>
  %5 = stablehlo.maximum %3, %1 : tensor<2x1xi32>
  %6 = stablehlo.maximum %4, %5 : tensor<2x1xi32>
  return %6 : tensor<2x1xi32>
}
// CHECK-LABEL: func.func @slices_to_reduce
// CHECK:         stablehlo.reduce(%x init: %{{.*}}) applies stablehlo.maximum across dimensions = [1]
// CHECK-NOT:     stablehlo.slice

// A gather of rows 1, 3, 5: a strided slice.
func.func @gather_rows(%x: tensor<8x3xf64>) -> tensor<3x3xf64> {
  %i = stablehlo.constant dense<[[1], [3], [5]]> : tensor<3x1xi64>
  %0 = "stablehlo.gather"(%x, %i) {dimension_numbers = #stablehlo.gather<offset_dims = [1], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 1>, slice_sizes = array<i64: 1, 3>} : (tensor<8x3xf64>, tensor<3x1xi64>) -> tensor<3x3xf64>
  return %0 : tensor<3x3xf64>
}
// CHECK-LABEL: func.func @gather_rows
// CHECK-NEXT:    %[[S:.*]] = stablehlo.slice %x [1:6:2, 0:3]
// CHECK-NEXT:    return %[[S]]

// i % 10 with i in [0, 10) is i: the loop copies y into x and is raised away.
func.func @remainder_in_loop(%x: tensor<10xf32>, %y: tensor<10xf32>) -> tensor<10xf32> {
  %c0 = stablehlo.constant dense<0> : tensor<i64>
  %c1 = stablehlo.constant dense<1> : tensor<i64>
  %c10 = stablehlo.constant dense<10> : tensor<i64>
  %0:2 = stablehlo.while(%i = %c0, %acc = %x) : tensor<i64>, tensor<10xf32>
  cond {
    %p = stablehlo.compare LT, %i, %c10 : (tensor<i64>, tensor<i64>) -> tensor<i1>
    stablehlo.return %p : tensor<i1>
  } do {
    %n = stablehlo.add %i, %c1 : tensor<i64>
    %r = stablehlo.remainder %i, %c10 : tensor<i64>
    %v = stablehlo.dynamic_slice %y, %r, sizes = [1] : (tensor<10xf32>, tensor<i64>) -> tensor<1xf32>
    %u = stablehlo.dynamic_update_slice %acc, %v, %r : (tensor<10xf32>, tensor<1xf32>, tensor<i64>) -> tensor<10xf32>
    stablehlo.return %n, %u : tensor<i64>, tensor<10xf32>
  }
  return %0#1 : tensor<10xf32>
}
// CHECK-LABEL: func.func @remainder_in_loop
// CHECK-NEXT:    return %y

// Two updates side by side at constant rows: one update of their concatenate.
func.func @neighbouring_updates(%x: tensor<6x5xf64>, %u: tensor<1x3xf64>, %v: tensor<1x3xf64>, %i: tensor<i32>) -> tensor<6x5xf64> {
  %c3 = stablehlo.constant dense<3> : tensor<i32>
  %c4 = stablehlo.constant dense<4> : tensor<i32>
  %0 = stablehlo.dynamic_update_slice %x, %u, %c3, %i : (tensor<6x5xf64>, tensor<1x3xf64>, tensor<i32>, tensor<i32>) -> tensor<6x5xf64>
  %1 = stablehlo.dynamic_update_slice %0, %v, %c4, %i : (tensor<6x5xf64>, tensor<1x3xf64>, tensor<i32>, tensor<i32>) -> tensor<6x5xf64>
  return %1 : tensor<6x5xf64>
}
// CHECK-LABEL: func.func @neighbouring_updates
// CHECK:         %[[C:.*]] = stablehlo.concatenate %u, %v, dim = 0
// CHECK-NEXT:    %[[D:.*]] = stablehlo.dynamic_update_slice %x, %[[C]]
// CHECK-NEXT:    return %[[D]]

// Transposes and reshapes that only move size-1 dims: at most two ops remain.
func.func @layout_chain(%x: tensor<3x1x4x1x5xf32>) -> tensor<5x4x3xf32> {
  %0 = stablehlo.transpose %x, dims = [4, 1, 2, 3, 0] : (tensor<3x1x4x1x5xf32>) -> tensor<5x1x4x1x3xf32>
  %1 = stablehlo.reshape %0 : (tensor<5x1x4x1x3xf32>) -> tensor<5x1x4x1x1x3xf32>
  %2 = stablehlo.transpose %1, dims = [2, 0, 1, 3, 4, 5] : (tensor<5x1x4x1x1x3xf32>) -> tensor<4x5x1x1x1x3xf32>
  %3 = stablehlo.reshape %2 : (tensor<4x5x1x1x1x3xf32>) -> tensor<4x5x1x3xf32>
  %4 = stablehlo.transpose %3, dims = [1, 0, 2, 3] : (tensor<4x5x1x3xf32>) -> tensor<5x4x1x3xf32>
  %5 = stablehlo.reshape %4 : (tensor<5x4x1x3xf32>) -> tensor<5x4x3xf32>
  return %5 : tensor<5x4x3xf32>
}
// CHECK-LABEL: func.func @layout_chain
// CHECK-NEXT:    %[[T:.*]] = stablehlo.transpose %x, dims = [4, 1, 2, 3, 0]
// CHECK-NEXT:    %[[R:.*]] = stablehlo.reshape %[[T]] : (tensor<5x1x4x1x3xf32>) -> tensor<5x4x3xf32>
// CHECK-NEXT:    return %[[R]]

// An add-scatter into zeros at distinct constant rows needs no add.
func.func @scatter_into_zeros(%u: tensor<3x2xf64>) -> tensor<6x2xf64> {
  %z = stablehlo.constant dense<0.0> : tensor<6x2xf64>
  %k = stablehlo.constant dense<[[4], [0], [2]]> : tensor<3x1xi32>
  %0 = "stablehlo.scatter"(%z, %k, %u) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}> ({
  ^bb0(%a: tensor<f64>, %c: tensor<f64>):
    %1 = stablehlo.add %a, %c : tensor<f64>
    stablehlo.return %1 : tensor<f64>
  }) : (tensor<6x2xf64>, tensor<3x1xi32>, tensor<3x2xf64>) -> tensor<6x2xf64>
  return %0 : tensor<6x2xf64>
}
// CHECK-LABEL: func.func @scatter_into_zeros
// CHECK:         "stablehlo.scatter"
// CHECK-NEXT:    ^bb0(%{{.*}}: tensor<f64>, %[[B:.*]]: tensor<f64>):
// CHECK-NEXT:      stablehlo.return %[[B]]

// exp(x) - 1 becomes exponential_minus_one only under fast-math (it is more accurate).
func.func @expm1(%x: tensor<4xf64>) -> tensor<4xf64> {
  %one = stablehlo.constant dense<1.0> : tensor<4xf64>
  %0 = stablehlo.exponential %x : tensor<4xf64>
  %1 = stablehlo.subtract %0, %one : tensor<4xf64>
  return %1 : tensor<4xf64>
}
// CHECK-LABEL: func.func @expm1
// CHECK:         stablehlo.exponential %x
// CHECK:         stablehlo.subtract
// FINITE-LABEL: func.func @expm1
// FINITE-NEXT:    %[[E:.*]] = stablehlo.exponential_minus_one %x
// FINITE-NEXT:    return %[[E]]
