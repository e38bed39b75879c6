// RUN: zymase-opt --print-op-generic --list-passes | FileCheck %s

// One pass per line, sorted.

// CHECK-DAG: {{^}}canonicalize{{$}}
// CHECK-DAG: {{^}}cse{{$}}
// CHECK-DAG: {{^}}dce{{$}}
// CHECK-DAG: {{^}}licm{{$}}
