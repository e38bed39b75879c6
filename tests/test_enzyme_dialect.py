"""The enzyme dialect: custom syntax (parse, print, round trip) and the verifiers of
enzyme.autodiff / enzyme.fwddiff, on the seed's @square and its canonicalized forms."""

from __future__ import annotations

import re

import pytest
from xdsl.dialects.func import FuncOp
from xdsl.utils.exceptions import ParseError, VerifyException

from zymase.ir import parse_module, print_module
from zymase.ir.enzyme import (
    ACTIVE,
    ACTIVENONEED,
    CONST,
    AutoDiffOp,
    ForwardDiffOp,
    make_diff_op,
)
from zymase.loader import MlirError, parse_located, verify_located

SQUARE = """
func.func @square(%x: f32, %y: f32) -> (f32, f32) {
  %o1 = arith.mulf %x, %x : f32
  %o2 = arith.mulf %y, %y : f32
  func.return %o1, %o2 : f32, f32
}
"""


def _grad(results: str, op: str, returns: str = "f32, f32") -> str:
    """@square and a @grad_square whose body is ``results = op``."""
    names = ", ".join(r.strip() for r in results.split(","))
    return SQUARE + (
        f"func.func @grad_square(%x: f32, %y: f32, %do1: f32, %do2: f32) -> ({returns}) {{\n"
        f"  {results} = {op}\n"
        f"  func.return {names} : {returns}\n"
        "}\n"
    )


def _diff_op(module) -> AutoDiffOp | ForwardDiffOp:
    ops = [op for op in module.walk() if isinstance(op, (AutoDiffOp, ForwardDiffOp))]
    assert len(ops) == 1
    return ops[0]


def _roundtrip(text: str) -> str:
    """Parse, verify, print in custom form; the printed form and the generic form parse
    back to the same custom text."""
    module = parse_module(text)
    module.verify()
    custom = print_module(module, generic=False)
    again = parse_module(custom)
    again.verify()
    assert print_module(again, generic=False) == custom
    generic = parse_module(print_module(module, generic=True))
    generic.verify()
    assert print_module(generic, generic=False) == custom
    return custom


def _verify_error(text: str) -> str:
    module = parse_module(text)
    with pytest.raises(VerifyException) as info:
        module.verify()
    return str(info.value)


# ============================================================================ syntax


SEED_GRAD = (
    "enzyme.autodiff @square(%x,%y,%do1,%do2) { activity = [enzyme_active, enzyme_active],\n"
    "      ret_activity = [enzyme_active,enzyme_active] } : (f32, f32, f32, f32) -> (f32, f32, f32, f32)"
)


def test_seed_grad_square_four_results() -> None:
    """The seed's grad_square, in its shorthand, with MLIR's trailing function type."""
    text = _grad("%o1, %o2, %dx, %dy", SEED_GRAD, "f32, f32, f32, f32")
    custom = _roundtrip(text)
    op = _diff_op(parse_module(text))
    assert op.arg_kinds == [ACTIVE, ACTIVE]
    assert op.ret_kinds == [ACTIVE, ACTIVE]
    assert op.fn.string_value() == "square"
    assert len(op.inputs) == 4 and len(op.outputs) == 4
    full = "#enzyme<activity enzyme_active>"
    assert (
        f"%o1, %o2, %dx, %dy = enzyme.autodiff @square(%x, %y, %do1, %do2) {{activity = [{full}, {full}], "
        f"ret_activity = [{full}, {full}]}} : (f32, f32, f32, f32) -> (f32, f32, f32, f32)"
    ) in custom


@pytest.mark.parametrize(
    "results, op, kinds",
    [
        (  # dy eliminated: y's gradient is not used
            "%o1, %o2, %dx",
            "enzyme.autodiff @square(%x, %y, %do1) {activity = [enzyme_active, enzyme_const], "
            "ret_activity = [enzyme_active, enzyme_const]} : (f32, f32, f32) -> (f32, f32, f32)",
            ([ACTIVE, CONST], [ACTIVE, CONST]),
        ),
        (  # o1 not returned: activenoneed
            "%o2, %dx",
            "enzyme.autodiff @square(%x, %y, %do1) {activity = [#enzyme<activity enzyme_active>, "
            "#enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_activenoneed>, "
            "#enzyme<activity enzyme_const>]} : (f32, f32, f32) -> (f32, f32)",
            ([ACTIVE, CONST], [ACTIVENONEED, CONST]),
        ),
    ],
    ids=["dy-eliminated", "o1-not-returned"],
)
def test_seed_canonicalized_forms(results: str, op: str, kinds: tuple) -> None:
    n = len(results.split(","))
    text = _grad(results, op, ", ".join(["f32"] * n))
    custom = _roundtrip(text)
    diff = _diff_op(parse_module(text))
    assert (diff.arg_kinds, diff.ret_kinds) == kinds
    assert "enzyme.autodiff @square(%x, %y, %do1) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>]" in custom


FWD = """
func.func @f(%a: f32, %b: tensor<3xf32>, %c: f32) -> (f32, tensor<3xf32>, f32, f32) {
  %m = arith.mulf %a, %c : f32
  func.return %m, %b, %a, %c : f32, tensor<3xf32>, f32, f32
}
"""


def test_fwddiff_all_activities() -> None:
    """dup -> primal and tangent; dupnoneed -> tangent; const -> primal; constnoneed -> nothing."""
    text = FWD + """
func.func @jvp(%a: f32, %ta: f32, %b: tensor<3xf32>, %tb: tensor<3xf32>, %c: f32) -> (f32, f32, tensor<3xf32>, f32) {
  %p0, %t0, %t1, %p2 = enzyme.fwddiff @f(%a, %ta, %b, %tb, %c) {activity = [enzyme_dup, enzyme_dupnoneed, enzyme_const], ret_activity = [enzyme_dup, enzyme_dupnoneed, enzyme_const, enzyme_constnoneed]} : (f32, f32, tensor<3xf32>, tensor<3xf32>, f32) -> (f32, f32, tensor<3xf32>, f32)
  func.return %p0, %t0, %t1, %p2 : f32, f32, tensor<3xf32>, f32
}
"""
    custom = _roundtrip(text)
    assert "enzyme.fwddiff @f(%a, %ta, %b, %tb, %c) {activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dupnoneed>" in custom
    op = _diff_op(parse_module(text))
    callee = parse_module(text).ops.first
    assert isinstance(callee, FuncOp)
    ins, outs = op.slots(callee)
    assert [d for d, _ in ins] == ["primal of argument 0", "tangent of argument 0", "primal of argument 1", "tangent of argument 1", "primal of argument 2"]
    assert [d for d, _ in outs] == ["primal of result 0", "tangent of result 0", "tangent of result 1", "primal of result 2"]


BATCHED = FWD + """
func.func @jvp2(%a: f32, %ta: TA, %b: tensor<3xf32>, %tb: tensor<2x3xf32>, %c: f32) -> (f32, tensor<2xf32>, tensor<2x3xf32>) {
  %p0, %t0, %t1 = enzyme.fwddiff @f(%a, %ta, %b, %tb, %c) {activity = [enzyme_dup, enzyme_dup, enzyme_const], ret_activity = [enzyme_dup, enzyme_dupnoneed, enzyme_constnoneed, enzyme_constnoneed], width = 2} : (f32, TA, tensor<3xf32>, tensor<2x3xf32>, f32) -> (f32, tensor<2xf32>, tensor<2x3xf32>)
  func.return %p0, %t0, %t1 : f32, tensor<2xf32>, tensor<2x3xf32>
}
"""


def test_width_two_batches_tangents() -> None:
    """width = 2: an f32 tangent is tensor<2xf32>, a tensor<3xf32> one tensor<2x3xf32>."""
    custom = _roundtrip(BATCHED.replace("TA", "tensor<2xf32>"))
    assert "width = 2}" in custom
    assert _diff_op(parse_module(BATCHED.replace("TA", "tensor<2xf32>"))).width_value == 2


def test_width_two_wrong_tangent_type() -> None:
    message = _verify_error(BATCHED.replace("TA", "f32"))
    assert "operand 1 (tangent of argument 0 of @f) has type f32, expected tensor<2xf32>" in message


def test_generic_form_still_parses() -> None:
    text = SQUARE + """
func.func @g(%x: f32, %y: f32, %do1: f32) -> (f32, f32) {
  %o2, %dx = "enzyme.autodiff"(%x, %y, %do1) <{fn = @square, activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_const>], ret_activity = [#enzyme<activity enzyme_activenoneed>, #enzyme<activity enzyme_const>]}> : (f32, f32, f32) -> (f32, f32)
  func.return %o2, %dx : f32, f32
}
"""
    custom = _roundtrip(text)
    assert "%o2, %dx = enzyme.autodiff @square(%x, %y, %do1) {activity" in custom
    assert '"enzyme.autodiff"(%x, %y, %do1) <{' in print_module(parse_module(text))


def test_extra_attributes_are_kept() -> None:
    text = _grad("%o2, %dx", "enzyme.autodiff @square(%x, %y, %do1) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_activenoneed, enzyme_const], note = \"hi\", flag} : (f32, f32, f32) -> (f32, f32)")
    custom = _roundtrip(text)
    assert 'ret_activity = [#enzyme<activity enzyme_activenoneed>, #enzyme<activity enzyme_const>], note = "hi", flag} :' in custom
    op = _diff_op(parse_module(text))
    assert set(op.attributes) == {"note", "flag"}


def test_no_operands_no_results() -> None:
    text = """
func.func @k() -> f32 {
  %c = arith.constant 1.0 : f32
  func.return %c : f32
}
func.func @use() {
  enzyme.autodiff @k() {activity = [], ret_activity = [enzyme_constnoneed]} : () -> ()
  func.return
}
"""
    assert "enzyme.autodiff @k() {activity = [], ret_activity = [#enzyme<activity enzyme_constnoneed>]} : () -> ()" in _roundtrip(text)


@pytest.mark.parametrize(
    "op, problem",
    [
        ("enzyme.autodiff @square(%x, %y, %do1) {ret_activity = [enzyme_active, enzyme_const]} : (f32, f32, f32) -> (f32, f32, f32)", "with 'activity'"),
        ("enzyme.autodiff @square(%x, %y, %do1) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_active, enzyme_const]}", "':'"),
        ("enzyme.autodiff @square(%x, %y, %do1) {activity = [enzyme_active, enzyme_const], activity = [], ret_activity = []} : (f32, f32, f32) -> f32", "duplicate attribute 'activity'"),
        ("enzyme.autodiff @square(%x, %y, %do1) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_active, enzyme_const]} : (f32, f32) -> (f32, f32, f32)", "expected 2 operand types but had 3"),
    ],
    ids=["missing-activity", "missing-type", "duplicate", "operand-count"],
)
def test_parse_errors(op: str, problem: str) -> None:
    with pytest.raises(ParseError, match=re.escape(problem)):
        parse_module(_grad("%o1, %o2, %dx", op, "f32, f32, f32"))


# ============================================================================ verifier


def _autodiff(results: str, operands: str, activity: str, ret_activity: str, types: str, extra: str = "") -> str:
    n = len(results.split(","))
    return _grad(results, f"enzyme.autodiff @square({operands}) {{activity = [{activity}], ret_activity = [{ret_activity}]{extra}}} : {types}", ", ".join(["f32"] * n))


BAD = [
    (
        "too-few-operands",
        _autodiff("%o2, %dx", "%x, %do1", "enzyme_active, enzyme_const", "enzyme_activenoneed, enzyme_const", "(f32, f32) -> (f32, f32)"),
        "expects 3 operands for @square with activity [enzyme_active, enzyme_const] and ret_activity [enzyme_activenoneed, enzyme_const] "
        "(primal of argument 0: f32, primal of argument 1: f32, seed of result 0: f32), got 2",
    ),
    (
        "too-many-results",
        _autodiff("%o1, %o2, %dx", "%x, %y, %do1", "enzyme_active, enzyme_const", "enzyme_activenoneed, enzyme_const", "(f32, f32, f32) -> (f32, f32, f32)"),
        "expects 2 results for @square with activity [enzyme_active, enzyme_const] and ret_activity [enzyme_activenoneed, enzyme_const] "
        "(primal of result 1: f32, gradient of argument 0: f32), got 3",
    ),
    (
        "seed-type",
        SQUARE
        + """
func.func @g(%x: f32, %y: f32, %do1: f64) -> (f32, f32) {
  %o2, %dx = enzyme.autodiff @square(%x, %y, %do1) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_activenoneed, enzyme_const]} : (f32, f32, f64) -> (f32, f32)
  func.return %o2, %dx : f32, f32
}
""",
        "operand 2 (seed of result 0 of @square) has type f64, expected f32",
    ),
    (
        "gradient-type",
        SQUARE
        + """
func.func @g(%x: f32, %y: f32, %do1: f32) -> (f32, f64) {
  %o2, %dx = enzyme.autodiff @square(%x, %y, %do1) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_activenoneed, enzyme_const]} : (f32, f32, f32) -> (f32, f64)
  func.return %o2, %dx : f32, f64
}
""",
        "result 1 (gradient of argument 0 of @square) has type f64, expected f32",
    ),
    (
        "activity-count",
        _autodiff("%o2, %dx", "%x, %y, %do1", "enzyme_active", "enzyme_activenoneed, enzyme_const", "(f32, f32, f32) -> (f32, f32)"),
        "@square has 2 argument(s), but activity has 1 entry [enzyme_active]: give one activity per argument",
    ),
    (
        "ret-activity-count",
        _autodiff("%o2, %dx", "%x, %y, %do1", "enzyme_active, enzyme_const", "enzyme_activenoneed, enzyme_const, enzyme_const", "(f32, f32, f32) -> (f32, f32)"),
        "@square has 2 result(s), but ret_activity has 3 entries [enzyme_activenoneed, enzyme_const, enzyme_const]: give one activity per result",
    ),
    (
        "dup-in-reverse-mode",
        _autodiff("%o2, %dx", "%x, %y, %do1", "enzyme_dup, enzyme_const", "enzyme_activenoneed, enzyme_const", "(f32, f32, f32) -> (f32, f32)"),
        "activity entry 0 is enzyme_dup, which is not allowed here; 'enzyme.autodiff' takes enzyme_const, enzyme_active",
    ),
    (
        "not-an-activity",
        _autodiff("%o2, %dx", "%x, %y, %do1", "enzyme_active, 1 : i32", "enzyme_activenoneed, enzyme_const", "(f32, f32, f32) -> (f32, f32)"),
        "activity entry 1 is 1 : i32, expected #enzyme<activity ...>",
    ),
    (
        "unknown-callee",
        _grad("%o2, %dx", "enzyme.autodiff @cube(%x, %y, %do1) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_activenoneed, enzyme_const]} : (f32, f32, f32) -> (f32, f32)"),
        "differentiates @cube, which is not a func.func of the module",
    ),
    (
        "width-in-reverse-mode",
        _autodiff("%o2, %dx", "%x, %y, %do1", "enzyme_active, enzyme_const", "enzyme_activenoneed, enzyme_const", "(f32, f32, f32) -> (f32, f32)", ", width = 2"),
        "operand 2 (seed of result 0 of @square) has type f32, expected tensor<2xf32>",  # width N: batched seeds
    ),
    (
        "fwd-tangent-count",
        FWD
        + """
func.func @jvp(%a: f32, %ta: f32, %b: tensor<3xf32>, %c: f32) -> f32 {
  %t0 = enzyme.fwddiff @f(%a, %ta, %b, %c) {activity = [enzyme_dup, enzyme_dup, enzyme_const], ret_activity = [enzyme_dupnoneed, enzyme_constnoneed, enzyme_constnoneed, enzyme_constnoneed]} : (f32, f32, tensor<3xf32>, f32) -> f32
  func.return %t0 : f32
}
""",
        "expects 5 operands for @f with activity [enzyme_dup, enzyme_dup, enzyme_const] and ret_activity "
        "[enzyme_dupnoneed, enzyme_constnoneed, enzyme_constnoneed, enzyme_constnoneed] (primal of argument 0: f32, "
        "tangent of argument 0: f32, primal of argument 1: tensor<3xf32>, tangent of argument 1: tensor<3xf32>, primal of argument 2: f32), got 4",
    ),
    (
        "fwd-active",
        FWD
        + """
func.func @jvp(%a: f32, %b: tensor<3xf32>, %c: f32) -> f32 {
  %t0 = enzyme.fwddiff @f(%a, %b, %c) {activity = [enzyme_active, enzyme_const, enzyme_const], ret_activity = [enzyme_dupnoneed, enzyme_constnoneed, enzyme_constnoneed, enzyme_constnoneed]} : (f32, tensor<3xf32>, f32) -> f32
  func.return %t0 : f32
}
""",
        "activity entry 0 is enzyme_active, which is not allowed here; 'enzyme.fwddiff' takes enzyme_const, enzyme_dup, enzyme_dupnoneed",
    ),
]


@pytest.mark.parametrize("text, problem", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_verifier_explains_mismatch(text: str, problem: str) -> None:
    message = _verify_error(text)
    assert problem in message, message
    assert re.match(r"'enzyme\.(autodiff|fwddiff)' op", message), message


INT = """
func.func @scale(%x: f32, %n: i32) -> (f32, i32) {
  %m = arith.sitofp %n : i32 to f32
  %y = arith.mulf %x, %m : f32
  func.return %y, %n : f32, i32
}
"""


@pytest.mark.parametrize(
    "op, problem",
    [
        (
            "%o, %dx, %dn = enzyme.autodiff @scale(%x, %n, %d) {activity = [enzyme_active, enzyme_active], ret_activity = [enzyme_active, enzyme_constnoneed]} : (f32, i32, f32) -> (f32, f32, i32)",
            "argument 1 of @scale has type i32 and cannot be enzyme_active: integer values have no derivative; mark it enzyme_const",
        ),
        (
            "%o, %dx, %dn = enzyme.autodiff @scale(%x, %n, %d, %n) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_active, enzyme_activenoneed]} : (f32, i32, f32, i32) -> (f32, f32, i32)",
            "result 1 of @scale has type i32 and cannot be enzyme_activenoneed: integer values have no derivative; mark it enzyme_const or enzyme_constnoneed",
        ),
        (
            "%o, %dx, %dn = enzyme.fwddiff @scale(%x, %d, %n, %n) {activity = [enzyme_dup, enzyme_dup], ret_activity = [enzyme_dup, enzyme_constnoneed]} : (f32, f32, i32, i32) -> (f32, f32, i32)",
            "argument 1 of @scale has type i32 and cannot be enzyme_dup",
        ),
    ],
    ids=["autodiff-int-arg", "autodiff-int-result", "fwddiff-int-arg"],
)
def test_integer_values_cannot_be_active(op: str, problem: str) -> None:
    text = INT + f"""
func.func @g(%x: f32, %n: i32, %d: f32) -> (f32, f32, i32) {{
  {op}
  func.return %o, %dx, %dn : f32, f32, i32
}}
"""
    message = _verify_error(text)
    assert problem in message, message


def test_integer_argument_const_is_fine() -> None:
    text = INT + """
func.func @g(%x: f32, %n: i32, %d: f32) -> (f32, f32) {
  %o, %dx = enzyme.autodiff @scale(%x, %n, %d) {activity = [enzyme_active, enzyme_const], ret_activity = [enzyme_active, enzyme_constnoneed]} : (f32, i32, f32) -> (f32, f32)
  func.return %o, %dx : f32, f32
}
"""
    _roundtrip(text)


def test_cli_error_names_the_location() -> None:
    """zymase-opt's path: the failure is one line with file:line:col."""
    text = _autodiff("%o2, %dx", "%x, %y, %do1", "enzyme_active", "enzyme_activenoneed, enzyme_const", "(f32, f32, f32) -> (f32, f32)")
    module = parse_located(text, "grad.mlir")
    with pytest.raises(MlirError) as info:
        verify_located(module)
    message = str(info.value)
    assert message.startswith("grad.mlir:8:3: error: 'enzyme.autodiff' op")
    assert "activity has 1 entry" in message
    assert "\n" not in message


def test_make_diff_op_and_expected_types() -> None:
    """The builder API the frontend uses: expected_types gives the operand and result types."""
    module = parse_module(SQUARE)
    square = module.ops.first
    assert isinstance(square, FuncOp)
    op = make_diff_op(AutoDiffOp, "square", [], [], [ACTIVE, CONST], [ACTIVENONEED, CONST])
    ins, outs = op.expected_types(square)
    assert [str(t) for t in ins] == ["f32", "f32", "f32"]
    assert [str(t) for t in outs] == ["f32", "f32"]
    fwd = make_diff_op(ForwardDiffOp, "square", [], [], ["enzyme_dup", "enzyme_const"], ["enzyme_dupnoneed", "enzyme_const"], width=3)
    ins, outs = fwd.expected_types(square)
    assert [str(t) for t in ins] == ["f32", "tensor<3xf32>", "f32"]
    assert [str(t) for t in outs] == ["tensor<3xf32>", "f32"]
