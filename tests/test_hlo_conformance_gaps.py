"""benchmarks/hlo_conformance.py: a peer block that leaves a gap (a plain CHECK or
CHECK-DAG line after its first op line, where FileCheck lets unchecked lines pass) is a
lower bound like a block without return; a block chained with CHECK-NEXT is complete."""

from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import hlo_conformance as hc  # noqa: E402

GAPS = """\
// RUN: enzymexlamlir-opt --enzyme-hlo-opt %s | FileCheck %s

func.func @chained(%arg0: tensor<4xf64>) -> tensor<4xf64> {
  %0 = stablehlo.sine %arg0 : tensor<4xf64>
  return %0 : tensor<4xf64>
}
// CHECK-LABEL: func.func @chained
// CHECK:         %0 = stablehlo.sine %arg0
// CHECK-NEXT:    return %0

func.func @gap(%arg0: tensor<4xf64>) -> tensor<f64> {
  %c = stablehlo.constant dense<0.0> : tensor<f64>
  %0 = stablehlo.sine %arg0 : tensor<4xf64>
  %1 = stablehlo.reduce(%0 init: %c) applies stablehlo.add across dimensions = [0] : (tensor<4xf64>, tensor<f64>) -> tensor<f64>
  return %1 : tensor<f64>
}
// CHECK-LABEL: func.func @gap
// CHECK:         %[[S:.+]] = stablehlo.sine %arg0
// CHECK:         stablehlo.reduce(%[[S]]
// CHECK:         return

func.func @dag(%arg0: tensor<4xf64>) -> tensor<4xf64> {
  %0 = stablehlo.sine %arg0 : tensor<4xf64>
  %1 = stablehlo.cosine %arg0 : tensor<4xf64>
  %2 = stablehlo.add %0, %1 : tensor<4xf64>
  return %2 : tensor<4xf64>
}
// CHECK-LABEL: func.func @dag
// CHECK-DAG:     %[[S:.+]] = stablehlo.sine %arg0
// CHECK-DAG:     %[[C:.+]] = stablehlo.cosine %arg0
// CHECK-NEXT:    %[[A:.+]] = stablehlo.add %[[S]], %[[C]]
// CHECK-NEXT:    return %[[A]]
"""


def test_gaps_make_a_block_a_lower_bound():
    spans = hc.function_spans(GAPS)
    blocks = hc.peer_blocks(GAPS, ["CHECK"], spans)
    chained, gap, dag = blocks["chained"][0], blocks["gap"][0], blocks["dag"][0]
    assert chained.ops == ["stablehlo.sine"] and chained.complete and not chained.gap
    # the init constant of the reduce is not shown: the block is a lower bound
    assert gap.ops == ["stablehlo.sine", "stablehlo.reduce"] and gap.returned and gap.gap and not gap.complete
    assert dag.ops == ["stablehlo.sine", "stablehlo.cosine", "stablehlo.add"] and dag.gap and not dag.complete


def test_a_larger_count_against_a_gapped_block_is_partial():
    spec = hc.optimizer_run(GAPS)
    records = {r.name: r for r in hc.check_chunk("gaps.mlir", 0, GAPS, spec, timeout=120)}
    # zymase keeps the constant, the sine and the reduce (and its compact combiner): 3 ops
    # against the two the peer's block shows
    gap = records["gap"]
    assert gap.status == "equal" and gap.ops_after == 3 and gap.peer_ops == 2
    assert not gap.peer_complete and gap.size == "larger-partial"
    assert records["chained"].size == "equal" and records["chained"].peer_complete


def test_a_bare_mnemonic_is_the_op_it_names():
    # FileCheck matches ``CHECK-COUNT-2: pad`` on the lines of two pads
    assert hc.peer_op("pad") == "stablehlo.pad" and hc.peer_op("dynamic_update_slice") == "stablehlo.dynamic_update_slice"
    assert hc.peer_op("return") is None and hc.peer_op("else") is None and hc.peer_op("module") is None
    text = GAPS + """
func.func @pads(%arg0: tensor<1xf32>, %arg1: tensor<f32>) -> tensor<4xf32> {
  %0 = stablehlo.pad %arg0, %arg1, low = [1], high = [0], interior = [0] : (tensor<1xf32>, tensor<f32>) -> tensor<2xf32>
  %1 = stablehlo.pad %0, %arg1, low = [0], high = [2], interior = [0] : (tensor<2xf32>, tensor<f32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}
// CHECK-LABEL: @pads
// CHECK-COUNT-2: pad
"""
    blocks = hc.peer_blocks(text, ["CHECK"], hc.function_spans(text))
    assert blocks["pads"][0].ops == ["stablehlo.pad", "stablehlo.pad"] and not blocks["pads"][0].complete


def test_the_run_line_like_zymases_run_is_measured():
    # the peer's fast-math mode is not what zymase's default pipeline does: the IEEE run is used
    nan_modes = """\
// RUN: enzymexlamlir-opt --pass-pipeline="builtin.module(enzyme-hlo-opt{no_nan=true})" %s | FileCheck %s --check-prefix=NONAN
// RUN: enzymexlamlir-opt --pass-pipeline="builtin.module(enzyme-hlo-opt{no_nan=false})" %s | FileCheck %s --check-prefix=NAN
"""
    spec = hc.optimizer_run(nan_modes)
    assert spec.prefixes == ["NAN"] and not spec.fast_math and spec.optimizer_runs == 2
    # the whole optimizer rather than one pattern, when the file has both
    both = """\
// RUN: enzymexlamlir-opt --enzyme-hlo-generate-td="patterns=concat_reshape_reduce" --transform-interpreter --enzyme-hlo-remove-transform %s | FileCheck %s
// RUN: enzymexlamlir-opt --pass-pipeline="builtin.module(enzyme-hlo-opt)" %s | FileCheck %s --check-prefix=FULL
"""
    spec = hc.optimizer_run(both)
    assert spec.prefixes == ["FULL"] and spec.family == "enzyme-hlo-opt"
    # only a fast-math run: it is used, and its family says so
    only = '// RUN: enzymexlamlir-opt %s --enzyme-hlo-opt="no_nan" | FileCheck %s\n'
    spec = hc.optimizer_run(only)
    assert spec.fast_math and spec.family == "enzyme-hlo-opt {no_nan}"
    assert not hc.optimizer_run("// RUN: enzymexlamlir-opt %s --enzyme-hlo-opt=no_nan=false | FileCheck %s\n").fast_math
