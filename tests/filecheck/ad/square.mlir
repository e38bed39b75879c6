// RUN: zymase-opt --print-op-generic %s -p enzyme,cse,dce > %t
// RUN: FileCheck --check-prefix=REV %s < %t
// RUN: FileCheck --check-prefix=FWD %s < %t
// RUN: zymase-opt %s -p enzyme --run grad_square --args 3.0 4.0 1.0 1.0 --run jvp_square --args 3.0 0.5 4.0 2.0 | FileCheck --check-prefixes=RUN-REV,RUN-FWD %s

// The seed's @square: enzyme.autodiff becomes a call to @diffesquare (primals first, then
// the derivatives: d(x*x) = dx*x + x*dx); a const argument gets no derivative work; a
// noneed result is not computed. enzyme.fwddiff becomes a call to @fwddiffesquare.

func.func @square(%x: f32, %y: f32) -> (f32, f32) {
  %o1 = arith.mulf %x, %x : f32
  %o2 = arith.mulf %y, %y : f32
  func.return %o1, %o2 : f32, f32
}

func.func @grad_square(%x: f32, %y: f32, %do1: f32, %do2: f32) -> (f32, f32, f32, f32) {
  %o1, %o2, %dx, %dy = enzyme.autodiff @square(%x, %y, %do1, %do2) {activity = [enzyme_active, enzyme_active], ret_activity = [enzyme_active, enzyme_active]} : (f32, f32, f32, f32) -> (f32, f32, f32, f32)
  func.return %o1, %o2, %dx, %dy : f32, f32, f32, f32
}

func.func @grad_square_x(%x: f32, %y: f32, %do1: f32) -> (f32, f32) {
  %o2, %dx = enzyme.autodiff @square(%x, %y, %do1) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_activenoneed, enzyme_const]} : (f32, f32, f32) -> (f32, f32)
  func.return %o2, %dx : f32, f32
}

func.func @jvp_square(%x: f32, %tx: f32, %y: f32, %ty: f32) -> (f32, f32, f32) {
  %o1, %t1, %t2 = enzyme.fwddiff @square(%x, %tx, %y, %ty) {activity = [enzyme_dup, enzyme_dup], ret_activity = [enzyme_dup, enzyme_dupnoneed]} : (f32, f32, f32, f32) -> (f32, f32, f32)
  func.return %o1, %t1, %t2 : f32, f32, f32
}

func.func @jvp_square_x(%x: f32, %tx: f32, %y: f32) -> f32 {
  %t1 = enzyme.fwddiff @square(%x, %tx, %y) {activity = [enzyme_dup, enzyme_const], ret_activity = [enzyme_dupnoneed, enzyme_constnoneed]} : (f32, f32, f32) -> f32
  func.return %t1 : f32
}

// The enzyme ops are replaced by calls.
// REV-LABEL: sym_name = "grad_square"
// REV:       ^bb0(%[[X:[^ ,:)#]+]]: f32, %[[Y:[^ ,:)#]+]]: f32, %[[DO1:[^ ,:)#]+]]: f32, %[[DO2:[^ ,:)#]+]]: f32):
// REV-NEXT:    %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} = "func.call"(%[[X]], %[[Y]], %[[DO1]], %[[DO2]]) <{callee = @diffesquare}> : (f32, f32, f32, f32) -> (f32, f32, f32, f32)
// REV-LABEL: sym_name = "grad_square_x"
// REV:         "func.call"({{.*}}) <{callee = @[[REV_X:diffesquare_?[0-9]*]]}> : (f32, f32, f32) -> (f32, f32)
// REV-NOT:   enzyme.autodiff

// All active: the primals, then each seed times each factor.
// REV-LABEL: sym_name = "diffesquare", function_type = (f32, f32, f32, f32) -> (f32, f32, f32, f32), sym_visibility = "private"
// REV-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: f32, %[[Y:[^ ,:)#]+]]: f32, %[[DO1:[^ ,:)#]+]]: f32, %[[DO2:[^ ,:)#]+]]: f32):
// REV-NEXT:    %[[O1:[^ ]+]] = "arith.mulf"(%[[X]], %[[X]])
// REV-NEXT:    %[[O2:[^ ]+]] = "arith.mulf"(%[[Y]], %[[Y]])
// REV-NEXT:    %[[A:[^ ]+]] = "arith.mulf"(%[[DO2]], %[[Y]])
// REV-NEXT:    %[[B:[^ ]+]] = "arith.mulf"(%[[Y]], %[[DO2]])
// REV-NEXT:    %[[DY:[^ ]+]] = "arith.addf"(%[[A]], %[[B]])
// REV-NEXT:    %[[C:[^ ]+]] = "arith.mulf"(%[[DO1]], %[[X]])
// REV-NEXT:    %[[D:[^ ]+]] = "arith.mulf"(%[[X]], %[[DO1]])
// REV-NEXT:    %[[DX:[^ ]+]] = "arith.addf"(%[[C]], %[[D]])
// REV-NEXT:    "func.return"(%[[O1]], %[[O2]], %[[DX]], %[[DY]]) : (f32, f32, f32, f32) -> ()

// y const, o1 activenoneed: o1 is not computed, y gets no derivative work.
// REV:       sym_name = "[[REV_X]]", function_type = (f32, f32, f32) -> (f32, f32)
// REV-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: f32, %[[Y:[^ ,:)#]+]]: f32, %[[DO1:[^ ,:)#]+]]: f32):
// REV-NEXT:    %[[O2:[^ ]+]] = "arith.mulf"(%[[Y]], %[[Y]])
// REV-NEXT:    %[[C:[^ ]+]] = "arith.mulf"(%[[DO1]], %[[X]])
// REV-NEXT:    %[[D:[^ ]+]] = "arith.mulf"(%[[X]], %[[DO1]])
// REV-NEXT:    %[[DX:[^ ]+]] = "arith.addf"(%[[C]], %[[D]])
// REV-NEXT:    "func.return"(%[[O2]], %[[DX]]) : (f32, f32) -> ()

// FWD-LABEL: sym_name = "jvp_square"
// FWD:         "func.call"({{.*}}) <{callee = @fwddiffesquare}> : (f32, f32, f32, f32) -> (f32, f32, f32)
// FWD-LABEL: sym_name = "jvp_square_x"
// FWD:         "func.call"({{.*}}) <{callee = @[[FWD_X:fwddiffesquare_?[0-9]*]]}> : (f32, f32, f32) -> f32
// FWD-NOT:   enzyme.fwddiff

// Operands: x, tx, y, ty. Results: o1, its tangent, o2's tangent (dupnoneed: no o2).
// FWD-LABEL: sym_name = "fwddiffesquare", function_type = (f32, f32, f32, f32) -> (f32, f32, f32)
// FWD-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: f32, %[[TX:[^ ,:)#]+]]: f32, %[[Y:[^ ,:)#]+]]: f32, %[[TY:[^ ,:)#]+]]: f32):
// FWD-NEXT:    %[[O1:[^ ]+]] = "arith.mulf"(%[[X]], %[[X]])
// FWD-NEXT:    %[[A:[^ ]+]] = "arith.mulf"(%[[TX]], %[[X]])
// FWD-NEXT:    %[[B:[^ ]+]] = "arith.mulf"(%[[X]], %[[TX]])
// FWD-NEXT:    %[[T1:[^ ]+]] = "arith.addf"(%[[A]], %[[B]])
// FWD-NEXT:    %[[C:[^ ]+]] = "arith.mulf"(%[[TY]], %[[Y]])
// FWD-NEXT:    %[[D:[^ ]+]] = "arith.mulf"(%[[Y]], %[[TY]])
// FWD-NEXT:    %[[T2:[^ ]+]] = "arith.addf"(%[[C]], %[[D]])
// FWD-NEXT:    "func.return"(%[[O1]], %[[T1]], %[[T2]]) : (f32, f32, f32) -> ()

// Only x's tangent; y is not even squared.
// FWD:       sym_name = "[[FWD_X]]", function_type = (f32, f32, f32) -> f32
// FWD-NEXT:  ^bb0(%[[X:[^ ,:)#]+]]: f32, %[[TX:[^ ,:)#]+]]: f32, %[[Y:[^ ,:)#]+]]: f32):
// FWD-NEXT:    %[[A:[^ ]+]] = "arith.mulf"(%[[TX]], %[[X]])
// FWD-NEXT:    %[[B:[^ ]+]] = "arith.mulf"(%[[X]], %[[TX]])
// FWD-NEXT:    %[[T1:[^ ]+]] = "arith.addf"(%[[A]], %[[B]])
// FWD-NEXT:    "func.return"(%[[T1]]) : (f32) -> ()

// x = 3, y = 4, seeds 1: o1 = 9, o2 = 16, dx = 6, dy = 8.
// RUN-REV:      @grad_square
// RUN-REV-NEXT: array(9., dtype=float32)
// RUN-REV-NEXT: array(16., dtype=float32)
// RUN-REV-NEXT: array(6., dtype=float32)
// RUN-REV-NEXT: array(8., dtype=float32)

// x = 3, tx = 0.5, y = 4, ty = 2: o1 = 9, t1 = 2*3*0.5 = 3, t2 = 2*4*2 = 16.
// RUN-FWD:      @jvp_square
// RUN-FWD-NEXT: array(9., dtype=float32)
// RUN-FWD-NEXT: array(3., dtype=float32)
// RUN-FWD-NEXT: array(16., dtype=float32)
