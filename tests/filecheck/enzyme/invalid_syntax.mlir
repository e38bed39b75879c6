// RUN: not zymase-opt --print-op-generic %s 2>&1 | FileCheck %s

// The custom form needs its activities.

func.func @f(%x: f32) -> f32 {
  func.return %x : f32
}

func.func @g(%x: f32, %d: f32) -> f32 {
  %dx = enzyme.autodiff @f(%x, %d) {ret_activity = [enzyme_activenoneed]} : (f32, f32) -> f32
  func.return %dx : f32
}

// CHECK-NOT: Traceback
// CHECK: invalid_syntax.mlir:10:36: error: 'enzyme.autodiff' expects an attribute dictionary with 'activity'
