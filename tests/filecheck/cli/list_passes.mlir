// RUN: zymase-opt --print-op-generic --list-passes | FileCheck %s

// One pass per line, sorted.

// CHECK-DAG: {{^}}canonicalize{{$}}
// CHECK-DAG: {{^}}cse{{$}}
// CHECK-DAG: {{^}}dce{{$}}
// CHECK-DAG: {{^}}licm{{$}}

// The named pipelines of passes.py are passes too.
// CHECK-DAG: {{^}}zymase-derivative{{$}}
// CHECK-DAG: {{^}}zymase-primal{{$}}
