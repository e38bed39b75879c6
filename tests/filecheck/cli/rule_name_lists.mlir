// Rule options take one name or a comma list (the pipeline parser gives a list as a tuple).
// RUN: zymase-opt -p 'zymase-hlo-opt{disable=add_self,multiply_one}' %s | FileCheck %s --check-prefix=OFF
// RUN: zymase-opt -p 'zymase-hlo-opt{rules=add_zero,add_self}' %s | FileCheck %s --check-prefix=ON

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = stablehlo.add %x, %x : tensor<4xf32>
  return %y : tensor<4xf32>
}
// OFF: stablehlo.add %{{.*}}, %{{.*}}
// OFF-NOT: stablehlo.multiply
// ON: stablehlo.multiply
// ON-NOT: stablehlo.add
