// RUN: zymase-opt --print-op-generic -p zymase-hlo-opt %s | FileCheck %s

// select(p, select(p, a, b), c) -> select(p, a, c)
func.func @nested_select(%p: tensor<4xi1>, %a: tensor<4xf64>, %b: tensor<4xf64>, %c: tensor<4xf64>) -> tensor<4xf64> {
  %0 = "stablehlo.select"(%p, %a, %b) : (tensor<4xi1>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  %1 = "stablehlo.select"(%p, %0, %c) : (tensor<4xi1>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  func.return %1 : tensor<4xf64>
}
// CHECK-LABEL: sym_name = "nested_select"
// CHECK:         ^{{.*}}(%[[P:[^ ,:)#]+]]: tensor<4xi1>, %[[A:[^ ,:)#]+]]: tensor<4xf64>, %[[B:[^ ,:)#]+]]: tensor<4xf64>, %[[C:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[R:[^ ,:)#]+]] = "stablehlo.select"(%[[P]], %[[A]], %[[C]])
// CHECK-NEXT:      "func.return"(%[[R]])

// select(p, -a, -b) -> -select(p, a, b)
func.func @select_negates(%p: tensor<4xi1>, %a: tensor<4xf64>, %b: tensor<4xf64>) -> tensor<4xf64> {
  %0 = "stablehlo.negate"(%a) : (tensor<4xf64>) -> tensor<4xf64>
  %1 = "stablehlo.negate"(%b) : (tensor<4xf64>) -> tensor<4xf64>
  %2 = "stablehlo.select"(%p, %0, %1) : (tensor<4xi1>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  func.return %2 : tensor<4xf64>
}
// CHECK-LABEL: sym_name = "select_negates"
// CHECK:         ^{{.*}}(%[[P:[^ ,:)#]+]]: tensor<4xi1>, %[[A:[^ ,:)#]+]]: tensor<4xf64>, %[[B:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[S:[^ ,:)#]+]] = "stablehlo.select"(%[[P]], %[[A]], %[[B]])
// CHECK-NEXT:      %[[N:[^ ,:)#]+]] = "stablehlo.negate"(%[[S]])
// CHECK-NEXT:      "func.return"(%[[N]])

// x < y or x == y -> x <= y (exact for floats too)
func.func @or_compares(%x: tensor<4xf64>, %y: tensor<4xf64>) -> tensor<4xi1> {
  %0 = "stablehlo.compare"(%x, %y) <{comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type FLOAT>}> : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>
  %1 = "stablehlo.compare"(%y, %x) <{comparison_direction = #stablehlo<comparison_direction EQ>, compare_type = #stablehlo<comparison_type FLOAT>}> : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>
  %2 = "stablehlo.or"(%0, %1) : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  func.return %2 : tensor<4xi1>
}
// CHECK-LABEL: sym_name = "or_compares"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<4xf64>, %[[Y:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[R:[^ ,:)#]+]] = "stablehlo.compare"(%[[X]], %[[Y]]) <{comparison_direction = #stablehlo<comparison_direction LE>
// CHECK-NEXT:      "func.return"(%[[R]])

// not(x < y) on floats stays (NaN); on integers it becomes x >= y.
func.func @not_compare(%x: tensor<4xf64>, %y: tensor<4xf64>, %i: tensor<4xi32>, %j: tensor<4xi32>) -> (tensor<4xi1>, tensor<4xi1>) {
  %0 = "stablehlo.compare"(%x, %y) <{comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type FLOAT>}> : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>
  %1 = "stablehlo.not"(%0) : (tensor<4xi1>) -> tensor<4xi1>
  %2 = "stablehlo.compare"(%i, %j) <{comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type SIGNED>}> : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi1>
  %3 = "stablehlo.not"(%2) : (tensor<4xi1>) -> tensor<4xi1>
  func.return %1, %3 : tensor<4xi1>, tensor<4xi1>
}
// CHECK-LABEL: sym_name = "not_compare"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<4xf64>, %[[Y:[^ ,:)#]+]]: tensor<4xf64>, %[[I:[^ ,:)#]+]]: tensor<4xi32>, %[[J:[^ ,:)#]+]]: tensor<4xi32>):
// CHECK-NEXT:      %[[F:[^ ,:)#]+]] = "stablehlo.compare"(%[[X]], %[[Y]]) <{comparison_direction = #stablehlo<comparison_direction LT>
// CHECK-NEXT:      %[[NF:[^ ,:)#]+]] = "stablehlo.not"(%[[F]])
// CHECK-NEXT:      %[[G:[^ ,:)#]+]] = "stablehlo.compare"(%[[I]], %[[J]]) <{comparison_direction = #stablehlo<comparison_direction GE>, compare_type = #stablehlo<comparison_type SIGNED>}>
// CHECK-NEXT:      "func.return"(%[[NF]], %[[G]])

// p & ~p -> false
func.func @and_not_self(%p: tensor<4xi1>) -> tensor<4xi1> {
  %0 = "stablehlo.not"(%p) : (tensor<4xi1>) -> tensor<4xi1>
  %1 = "stablehlo.and"(%p, %0) : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  func.return %1 : tensor<4xi1>
}
// CHECK-LABEL: sym_name = "and_not_self"
// CHECK:           %[[B:[^ ,:)#]+]] = "stablehlo.constant"() <{value = dense<false> : tensor<{{[0-9x]+}}xi1>}>
// CHECK-NEXT:      "func.return"(%[[B]])

// select(x > y, x, y) -> maximum(x, y) for integers; floats keep the select (NaN).
func.func @select_max(%i: tensor<4xi32>, %j: tensor<4xi32>, %x: tensor<4xf64>, %y: tensor<4xf64>) -> (tensor<4xi32>, tensor<4xf64>) {
  %0 = "stablehlo.compare"(%i, %j) <{comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type SIGNED>}> : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi1>
  %1 = "stablehlo.select"(%0, %i, %j) : (tensor<4xi1>, tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %2 = "stablehlo.compare"(%x, %y) <{comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type FLOAT>}> : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>
  %3 = "stablehlo.select"(%2, %x, %y) : (tensor<4xi1>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  func.return %1, %3 : tensor<4xi32>, tensor<4xf64>
}
// CHECK-LABEL: sym_name = "select_max"
// CHECK:         ^{{.*}}(%[[I:[^ ,:)#]+]]: tensor<4xi32>, %[[J:[^ ,:)#]+]]: tensor<4xi32>, %[[X:[^ ,:)#]+]]: tensor<4xf64>, %[[Y:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[M:[^ ,:)#]+]] = "stablehlo.maximum"(%[[I]], %[[J]])
// CHECK-NEXT:      %[[C:[^ ,:)#]+]] = "stablehlo.compare"(%[[X]], %[[Y]])
// CHECK-NEXT:      %[[S:[^ ,:)#]+]] = "stablehlo.select"(%[[C]], %[[X]], %[[Y]])
// CHECK-NEXT:      "func.return"(%[[M]], %[[S]])

// max(x, min(x, y)) -> x for integers; floats keep max(max(x, y), y), whose derivative
// at x = y (1/4, 3/4) is not max(x, y)'s.
func.func @max_min(%i: tensor<4xi32>, %j: tensor<4xi32>, %x: tensor<4xf64>, %y: tensor<4xf64>) -> (tensor<4xi32>, tensor<4xf64>) {
  %0 = "stablehlo.minimum"(%i, %j) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %1 = "stablehlo.maximum"(%i, %0) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %2 = "stablehlo.maximum"(%x, %y) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  %3 = "stablehlo.maximum"(%2, %y) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  func.return %1, %3 : tensor<4xi32>, tensor<4xf64>
}
// CHECK-LABEL: sym_name = "max_min"
// CHECK:         ^{{.*}}(%[[I:[^ ,:)#]+]]: tensor<4xi32>, %[[J:[^ ,:)#]+]]: tensor<4xi32>, %[[X:[^ ,:)#]+]]: tensor<4xf64>, %[[Y:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[M:[^ ,:)#]+]] = "stablehlo.maximum"(%[[X]], %[[Y]])
// CHECK-NEXT:      %[[N:[^ ,:)#]+]] = "stablehlo.maximum"(%[[M]], %[[Y]])
// CHECK-NEXT:      "func.return"(%[[I]], %[[N]])

// compare(-x, -y, LT) -> compare(y, x, LT)
func.func @compare_negates(%x: tensor<4xf64>, %y: tensor<4xf64>) -> tensor<4xi1> {
  %0 = "stablehlo.negate"(%x) : (tensor<4xf64>) -> tensor<4xf64>
  %1 = "stablehlo.negate"(%y) : (tensor<4xf64>) -> tensor<4xf64>
  %2 = "stablehlo.compare"(%0, %1) <{comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type FLOAT>}> : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>
  func.return %2 : tensor<4xi1>
}
// CHECK-LABEL: sym_name = "compare_negates"
// CHECK:         ^{{.*}}(%[[X:[^ ,:)#]+]]: tensor<4xf64>, %[[Y:[^ ,:)#]+]]: tensor<4xf64>):
// CHECK-NEXT:      %[[R:[^ ,:)#]+]] = "stablehlo.compare"(%[[Y]], %[[X]]) <{comparison_direction = #stablehlo<comparison_direction LT>
// CHECK-NEXT:      "func.return"(%[[R]])
