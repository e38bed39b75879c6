"""benchmarks/hlo_conformance.py on small lit files written here: every file and function
is counted (parsed, parse error with its reason, values equal or differ, size against
the CHECK lines), and the markdown section is written between its markers. Also the two
elementwise rules that crashed on inputs they cannot handle (complex operands, dynamic
shapes) and now decline them."""

from __future__ import annotations

import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import hlo_conformance as hc  # noqa: E402

SHRINK = """\
// RUN: enzymexlamlir-opt --enzyme-hlo-opt %s | FileCheck %s

func.func @negneg(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.negate %arg0 : tensor<4xf32>
  %1 = stablehlo.negate %0 : tensor<4xf32>
  %2 = stablehlo.multiply %1, %arg0 : tensor<4xf32>
  return %2 : tensor<4xf32>
}

// CHECK-LABEL: func.func @negneg
// CHECK-NEXT:    %0 = stablehlo.multiply %arg0, %arg0 : tensor<4xf32>
// CHECK-NEXT:    return %0 : tensor<4xf32>

func.func @keeps(%arg0: tensor<4xf64>) -> tensor<4xf64> {
  %0 = stablehlo.exponential %arg0 : tensor<4xf64>
  %1 = stablehlo.log %0 : tensor<4xf64>
  return %1 : tensor<4xf64>
}

// CHECK-LABEL: func.func @keeps
// CHECK-NEXT:    return %arg0 : tensor<4xf64>

func.func @partial(%arg0: tensor<4xf64>) -> tensor<4xf64> {
  // CHECK: stablehlo.sine
  %0 = stablehlo.sine %arg0 : tensor<4xf64>
  %1 = stablehlo.cosine %0 : tensor<4xf64>
  return %1 : tensor<4xf64>
}
"""

SPLIT = """\
// RUN: enzymexlamlir-opt --enzyme-hlo-generate-td="patterns=multiply_abs;add_self" --transform-interpreter --enzyme-hlo-remove-transform --split-input-file %s | FileCheck %s --check-prefix=OUT

func.func @cabs(%arg0: tensor<3xcomplex<f32>>) -> tensor<3xf32> {
  %0 = stablehlo.abs %arg0 : (tensor<3xcomplex<f32>>) -> tensor<3xf32>
  %1 = stablehlo.multiply %0, %0 : tensor<3xf32>
  return %1 : tensor<3xf32>
}
// OUT-LABEL: @cabs
// OUT: stablehlo.abs
// OUT: stablehlo.multiply
// OUT: return

// -----

func.func @dyn(%arg0: tensor<?x?xi32>) -> tensor<?x?xi32> {
  %0 = stablehlo.add %arg0, %arg0 : tensor<?x?xi32>
  return %0 : tensor<?x?xi32>
}
// OUT-LABEL: @dyn
// OUT: stablehlo.add
// OUT: return

// -----

func.func @broken(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.negate %arg0 : tensor<4xf32>
  return %0, : tensor<4xf32>
}
"""

OTHER = """\
// RUN: enzymexlamlir-opt --canonicalize %s | FileCheck %s
func.func @f(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  return %arg0 : tensor<4xf32>
}
"""


def _lit_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    d = tmp_path / "lit"
    d.mkdir()
    (d / "shrink.mlir").write_text(SHRINK)
    (d / "split.mlir").write_text(SPLIT)
    (d / "other.mlir").write_text(OTHER)
    return d


def test_run_lines_give_family_prefixes_and_split():
    spec = hc.optimizer_run(SPLIT)
    assert spec.family == "multiply_abs;add_self" and spec.prefixes == ["OUT"] and spec.split and spec.filecheck
    plain = hc.optimizer_run(SHRINK)
    assert plain.family == "enzyme-hlo-opt" and plain.prefixes == ["CHECK"] and not plain.split
    piped = hc.parse_run_line('enzymexlamlir-opt --pass-pipeline="builtin.module(auto-batching,enzyme-hlo-opt{max_constant_expansion=1})" %s | FileCheck %s')
    assert piped.family == "enzyme-hlo-opt + auto-batching"
    assert hc.optimizer_run(OTHER) is None
    assert [start for start, _ in hc.split_chunks(SPLIT, True)] == [1, 14, 24]


def test_peer_blocks_count_ops_and_see_partial_blocks():
    spans = hc.function_spans(SHRINK)
    assert [(s.name, s.first_line) for s in spans] == [("negneg", 3), ("keeps", 14), ("partial", 23)]
    blocks = hc.peer_blocks(SHRINK, ["CHECK"], spans)
    assert blocks["negneg"][0].ops == ["stablehlo.multiply"] and blocks["negneg"][0].complete
    assert blocks["keeps"][0].ops == [] and blocks["keeps"][0].complete
    assert blocks["partial"][0].ops == ["stablehlo.sine"] and not blocks["partial"][0].complete
    assert hc.peer_op('%[[R:.+]]:2 = "stablehlo.while"(%a) ({') == "stablehlo.while"
    assert hc.peer_op("stablehlo.return %0 : tensor<f32>") is None
    assert hc.peer_op("func.func @f(%arg0: tensor<f32>)") is None


def test_two_modules_with_the_same_function_name_get_their_own_blocks():
    text = """\
// RUN: enzymexlamlir-opt %s --enzyme-hlo-opt | FileCheck %s
module {
  func.func @main(%arg0: tensor<2xi32>) -> tensor<2xi32> {
    %0 = stablehlo.negate %arg0 : tensor<2xi32>
    %1 = stablehlo.negate %0 : tensor<2xi32>
    return %1 : tensor<2xi32>
  }
}
// CHECK: func.func @main(%arg0: tensor<2xi32>) -> tensor<2xi32> {
// CHECK-NEXT{LITERAL}:   return %arg0 : tensor<2xi32>
module {
  func.func @main(%arg0: tensor<2xi32>) -> tensor<2xi32> {
    %0 = stablehlo.abs %arg0 : tensor<2xi32>
    %1 = stablehlo.abs %0 : tensor<2xi32>
    return %1 : tensor<2xi32>
  }
}
// CHECK: func.func @main(%arg0: tensor<2xi32>) -> tensor<2xi32> {
// CHECK-NEXT{LITERAL}:   %0 = stablehlo.abs %arg0 : tensor<2xi32>
// CHECK-NEXT{LITERAL}:   return %0 : tensor<2xi32>
"""
    first, second = hc.check_chunk("two.mlir", 0, text, hc.optimizer_run(text))
    assert (first.status, first.ops_before, first.ops_after, first.peer_ops, first.size) == ("equal", 2, 0, 0, "equal")
    assert (second.status, second.ops_before, second.ops_after, second.peer_ops, second.size) == ("equal", 2, 1, 1, "equal")


def test_compare_values_tolerances_nan_and_integers():
    a = np.array([1.0, np.nan, np.inf, 0.0], np.float32)
    assert hc.compare_values([a], [a.copy()])[0]
    assert hc.compare_values([a], [a * np.float32(1 + 5e-7)])[0]  # within f32's 1e-6
    b = a.copy()
    b[0] = np.float32(1.00001)
    equal, worst, why = hc.compare_values([a], [b])
    assert not equal and worst > 1e-6 and "result 0: 1 of 4 values differ" in why
    c = np.array([1.0, 2.0])
    assert not hc.compare_values([c], [c * (1 + 1e-11)])[0]  # f64 needs 1e-12
    i = np.array([1, 2, 3], np.int32)
    assert not hc.compare_values([i], [i + np.array([0, 0, 1], np.int32)])[0]
    assert not hc.compare_values([c], [c.astype(np.float32)])[0]  # dtype differs


def test_sweep_counts_every_file_and_function(tmp_path):
    files, tasks = hc.plan(_lit_dir(tmp_path))
    assert [(f.file, f.in_scope, f.chunks) for f in files] == [("other.mlir", False, 0), ("shrink.mlir", True, 1), ("split.mlir", True, 3)]
    records = hc.sweep(tasks, hc.DEFAULT_PIPELINE, 60.0, 1, in_process=True)
    by = {r.name: r for r in records}
    assert sorted(by) == ["broken", "cabs", "dyn", "keeps", "negneg", "partial"]
    # negate(negate(x)) * x: zymase's rules shrink it to the peer's one op
    assert by["negneg"].status == "equal" and by["negneg"].ops_before == 3 and by["negneg"].ops_after == 1 and by["negneg"].size == "equal"
    # log(exp(x)) -> x is unsafe (not applied): larger than the peer, values equal
    assert by["keeps"].status == "equal" and by["keeps"].ops_after == 2 and by["keeps"].peer_ops == 0 and by["keeps"].size == "larger"
    assert by["keeps"].excess() == {"stablehlo.exponential": 1, "stablehlo.log": 1}
    # CHECK lines inside an unlabelled body: a partial block
    assert by["partial"].peer_ops == 1 and by["partial"].size == "larger-partial"
    # the rules decline a complex abs * abs and a dynamic-shape x + x: same ops, same values
    assert by["cabs"].status == "equal" and by["cabs"].family == "multiply_abs;add_self" and by["cabs"].ops_after == 2 and by["cabs"].size == "equal"
    assert by["dyn"].status == "equal" and by["dyn"].ops_after == 1
    # a malformed chunk is a parse error with its one-line reason (file:line:col)
    assert by["broken"].status == "parse-error" and by["broken"].reason.startswith("split.mlir:27:") and "\n" not in by["broken"].reason
    s = hc.summarize(files, records)
    assert (s["files"], s["files_in_scope"], s["functions"], s["parsed"], s["parse_errors"]) == (3, 2, 6, 5, 1)
    assert (s["ran"], s["values_equal"], s["values_differ"]) == (5, 5, 0)
    assert (s["smaller"], s["size_equal"], s["larger"], s["larger_partial"], s["as_small"]) == (0, 3, 1, 1, 3)


def test_a_wrong_rewrite_is_counted_as_values_differ(monkeypatch):
    """A pipeline that swaps the operands of every subtract after zymase's rules (a wrong
    rewrite) must be seen: the values differ, with the worst element in the reason, and
    the f64 version of the function differs too (not rounding)."""
    text = """\
// RUN: enzymexlamlir-opt --enzyme-hlo-opt %s | FileCheck %s
func.func @sub(%arg0: tensor<4xf32>, %arg1: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.subtract %arg0, %arg1 : tensor<4xf32>
  return %0 : tensor<4xf32>
}
"""
    spec = hc.optimizer_run(text)
    (safe,) = hc.check_chunk("sub.mlir", 0, text, spec)
    assert safe.status == "equal" and safe.ops_after == 1 and safe.peer_ops is None and safe.size is None
    run_pipeline = hc._run_pipeline

    def wrong(module, pipeline):
        run_pipeline(module, pipeline)
        for op in module.walk():
            if op.name == "stablehlo.subtract":
                op.operands = (op.operands[1], op.operands[0])

    monkeypatch.setattr(hc, "_run_pipeline", wrong)
    (rec,) = hc.check_chunk("sub.mlir", 0, text, spec)
    assert rec.status == "differ" and rec.ops_after == 1 and "values differ" in rec.reason and rec.max_rel_diff > 1e-6
    # not rounding of f32: the same function in f64 differs too
    assert rec.f64_check.startswith("differs in f64 too: result 0:")
    assert safe.f64_check == ""
    s = hc.summarize([], [safe, rec])
    assert (s["values_equal"], s["values_differ"], s["differ_rounding"]) == (1, 1, 0)


def test_markdown_section_is_written_and_replaced(tmp_path, capsys):
    d = _lit_dir(tmp_path)
    md = tmp_path / "BENCHMARKS.md"
    md.write_text("# Benchmarks\n\n## Another section\n\nkept\n")
    assert hc.main([str(d), "--in-process", "--quiet", "--markdown", str(md), "--revision", "test"]) == 0
    first = md.read_text()
    assert first.startswith("# Benchmarks\n\n## Another section\n\nkept\n")
    assert first.count(hc.BEGIN) == 1 and first.count(hc.END) == 1 and hc.TITLE in first
    assert "| functions | 6 | 6 |" in first and "| parse errors | 1 | 1 |" in first and "| **values differ** (of which: agree when run in f64, i.e. rounding of f32) | 0 (0) | 0 (0) |" in first
    md.write_text(first + "\ntail\n")
    assert hc.main([str(d), "--in-process", "--quiet", "--markdown", str(md)]) == 0
    second = md.read_text()
    assert second.count(hc.BEGIN) == 1 and second.endswith("\ntail\n") and "## Another section" in second
    out = capsys.readouterr().out
    assert "functions: 6: parsed 5, parse errors 1" in out


def test_elementwise_rules_decline_complex_and_dynamic_operands():
    """multiply_abs_self on abs of a complex value (|z|*|z| is not z*z) and add_self on a
    dynamic shape (no constant of that type) used to crash; they decline."""
    from zymase.ir import parse_module
    from zymase.opt.pattern import STATS, optimize

    module = parse_module(
        """
func.func @main(%z: tensor<3xcomplex<f64>>, %d: tensor<?x?xf64>) -> (tensor<3xf64>, tensor<?x?xf64>) {
  %0 = stablehlo.abs %z : (tensor<3xcomplex<f64>>) -> tensor<3xf64>
  %1 = stablehlo.multiply %0, %0 : tensor<3xf64>
  %2 = stablehlo.add %d, %d : tensor<?x?xf64>
  return %1, %2 : tensor<3xf64>, tensor<?x?xf64>
}"""
    )
    before = [op.name for op in module.walk()]
    for name in ("multiply_abs_self", "add_self"):
        STATS[name] = 0
        optimize(module, only=[name])
        assert STATS[name] == 0
    assert [op.name for op in module.walk()] == before
    module.verify()
