"""One invalid program per verifier of the StableHLO / chlo dialects: verification fails
with a message that names the op, its source location and the problem."""

from __future__ import annotations

import re

import pytest
from xdsl.utils.exceptions import VerifyException

from zymase.ir import parse_module

LOC = 'loc("model.py":12:7)'


def _program(args: str, op: str) -> str:
    """A function whose arguments have the types ``args`` and whose body is ``op``."""
    names = ", ".join(f"%a{i}: {t}" for i, t in enumerate(_split_types(args)))
    return (
        '"builtin.module"() ({\n'
        f'  "func.func"() <{{function_type = ({args}) -> (), sym_name = "main"}}> ({{\n'
        f"  ^bb0({names}):\n"
        f"    {op} {LOC}\n"
        '    "func.return"() : () -> ()\n'
        "  }) : () -> ()\n"
        "}) : () -> ()\n"
    )


def _split_types(args: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in args:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += ch in "<(" and 1 or (ch in ">)" and -1 or 0)
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


ADD_REGION = """({
    ^bb0(%x: tensor<f32>, %y: tensor<f32>):
      %s = "stablehlo.add"(%x, %y) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      "stablehlo.return"(%s) : (tensor<f32>) -> ()
    })"""

LESS_REGION = """({
    ^bb0(%x: tensor<f32>, %y: tensor<f32>):
      %s = "stablehlo.compare"(%x, %y) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<f32>, tensor<f32>) -> tensor<i1>
      "stablehlo.return"(%s) : (tensor<i1>) -> ()
    })"""

# (op name, argument types, op text, a regular expression for the problem)
CASES = [
    ("stablehlo.negate", "tensor<3xf32>", '%0 = "stablehlo.negate"(%a0) : (tensor<3xf32>) -> tensor<4xf32>', r"same shape.*\(3,\).*\(4,\)"),
    ("stablehlo.add", "tensor<3xf32>, tensor<2xf32>", '%0 = "stablehlo.add"(%a0, %a1) : (tensor<3xf32>, tensor<2xf32>) -> tensor<3xf32>', r"same shape"),
    ("chlo.erf", "tensor<3xf32>", '%0 = "chlo.erf"(%a0) : (tensor<3xf32>) -> tensor<3x1xf32>', r"same shape"),
    ("stablehlo.compare", "tensor<3xf32>", '%0 = "stablehlo.compare"(%a0, %a0) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>', r"i1"),
    ("stablehlo.select", "tensor<2xi1>, tensor<3xf32>", '%0 = "stablehlo.select"(%a0, %a1, %a1) : (tensor<2xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>', r"pred"),
    ("stablehlo.select", "tensor<i1>, tensor<3xf32>, tensor<4xf32>", '%0 = "stablehlo.select"(%a0, %a1, %a2) : (tensor<i1>, tensor<3xf32>, tensor<4xf32>) -> tensor<3xf32>', r"on_true, on_false and result"),
    ("stablehlo.clamp", "tensor<2xf32>, tensor<3xf32>", '%0 = "stablehlo.clamp"(%a0, %a1, %a0) : (tensor<2xf32>, tensor<3xf32>, tensor<2xf32>) -> tensor<3xf32>', r"min to be a scalar"),
    ("stablehlo.constant", "", '%0 = "stablehlo.constant"() <{value = dense<1.0> : tensor<2xf32>}> : () -> tensor<3xf32>', r"value type"),
    ("stablehlo.iota", "", '%0 = "stablehlo.iota"() <{iota_dimension = 2 : i64}> : () -> tensor<3x4xi32>', r"iota_dimension 2 is out of range"),
    ("stablehlo.broadcast_in_dim", "tensor<3xf32>", '%0 = "stablehlo.broadcast_in_dim"(%a0) <{broadcast_dimensions = array<i64: 0>}> : (tensor<3xf32>) -> tensor<4x3xf32>', r"cannot broadcast"),
    ("stablehlo.reshape", "tensor<3x4xf32>", '%0 = "stablehlo.reshape"(%a0) : (tensor<3x4xf32>) -> tensor<13xf32>', r"element counts differ"),
    ("stablehlo.transpose", "tensor<3x4xf32>", '%0 = "stablehlo.transpose"(%a0) <{permutation = array<i64: 1, 0>}> : (tensor<3x4xf32>) -> tensor<3x4xf32>', r"permuted operand shape"),
    ("stablehlo.slice", "tensor<8xf32>", '%0 = "stablehlo.slice"(%a0) <{limit_indices = array<i64: 7>, start_indices = array<i64: 1>, strides = array<i64: 2>}> : (tensor<8xf32>) -> tensor<4xf32>', r"slice shape \(3,\)"),
    ("stablehlo.dynamic_slice", "tensor<8xf32>, tensor<i32>", '%0 = "stablehlo.dynamic_slice"(%a0, %a1) <{slice_sizes = array<i64: 9>}> : (tensor<8xf32>, tensor<i32>) -> tensor<9xf32>', r"slice size 9 of dimension 0 is out of range"),
    ("stablehlo.dynamic_update_slice", "tensor<8xf32>, tensor<2xf32>, tensor<i32>", '%0 = "stablehlo.dynamic_update_slice"(%a0, %a1, %a2) : (tensor<8xf32>, tensor<2xf32>, tensor<i32>) -> tensor<2xf32>', r"differs from the operand shape"),
    ("stablehlo.concatenate", "tensor<2x3xf32>, tensor<2x4xf32>", '%0 = "stablehlo.concatenate"(%a0, %a1) <{dimension = 1 : i64}> : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>', r"add up to 7"),
    ("stablehlo.pad", "tensor<3xf32>, tensor<f32>", '%0 = "stablehlo.pad"(%a0, %a1) <{edge_padding_high = array<i64: 1>, edge_padding_low = array<i64: 1>, interior_padding = array<i64: 1>}> : (tensor<3xf32>, tensor<f32>) -> tensor<6xf32>', r"padded shape \(7,\)"),
    ("stablehlo.reverse", "tensor<3x4xf32>", '%0 = "stablehlo.reverse"(%a0) <{dimensions = array<i64: 2>}> : (tensor<3x4xf32>) -> tensor<3x4xf32>', r"dimensions \[2\] must be distinct and in range"),
    ("stablehlo.dot_general", "tensor<3x4xf32>, tensor<5x6xf32>", '%0 = "stablehlo.dot_general"(%a0, %a1) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>}> : (tensor<3x4xf32>, tensor<5x6xf32>) -> tensor<3x6xf32>', r"lhs dimension 1 \(size 4\) does not match rhs dimension 0 \(size 5\)"),
    ("stablehlo.reduce", "tensor<3x4xf32>, tensor<f32>", '%0 = "stablehlo.reduce"(%a0, %a1) <{dimensions = array<i64: 1>}> ' + ADD_REGION + " : (tensor<3x4xf32>, tensor<f32>) -> tensor<4xf32>", r"expected \(3,\)"),
    ("stablehlo.sort", "tensor<3xf32>", '%0 = "stablehlo.sort"(%a0) <{dimension = 1 : i64}> ' + LESS_REGION + " : (tensor<3xf32>) -> tensor<3xf32>", r"dimension 1 is out of range"),
    ("stablehlo.while", "tensor<f32>", '%0 = "stablehlo.while"(%a0) ({\n    ^bb0(%c: tensor<i32>):\n      %t = "stablehlo.constant"() <{value = dense<true> : tensor<i1>}> : () -> tensor<i1>\n      "stablehlo.return"(%t) : (tensor<i1>) -> ()\n    }, {\n    ^bb0(%c: tensor<f32>):\n      "stablehlo.return"(%c) : (tensor<f32>) -> ()\n    }) : (tensor<f32>) -> tensor<f32>', r"cond block arguments"),
    ("stablehlo.bitcast_convert", "tensor<3xf32>", '%0 = "stablehlo.bitcast_convert"(%a0) : (tensor<3xf32>) -> tensor<3xi16>', r"expected shape \(3, 2\)"),
    ("chlo.top_k", "tensor<3x4xf32>", '%0:2 = "chlo.top_k"(%a0) <{k = 2 : i64}> : (tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x3xi32>)', r"indices has shape \(3, 3\), expected \(3, 2\)"),
]


@pytest.mark.parametrize("name, args, op, problem", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_invalid_op_is_rejected(name: str, args: str, op: str, problem: str) -> None:
    module = parse_module(_program(args, op))
    with pytest.raises(VerifyException) as info:
        module.verify()
    message = str(info.value)
    assert f"'{name}' op at model.py:12:7:" in message
    assert re.search(problem, message), message


def test_every_verifier_has_an_invalid_case() -> None:
    from xdsl.ir import Operation

    from zymase.ir import chlo, stablehlo

    names = {c[0] for c in CASES}
    # xDSL wraps a class's verify_ in a closure over ``custom_verify``; elementwise ops
    # share one verifier, covered by the negate, add and erf cases.
    def custom_verifier(op):
        code = op.verify_.__code__
        if "custom_verify" not in code.co_freevars:
            return None
        return op.verify_.__closure__[code.co_freevars.index("custom_verify")].cell_contents

    with_verifier = {
        op.name
        for op in (*stablehlo.STABLEHLO_OPS, *chlo.CHLO_OPS)
        if custom_verifier(op) not in (None, Operation.verify_) and not issubclass(op, stablehlo.ElementwiseOp)
    }
    assert with_verifier <= names, sorted(with_verifier - names)


def test_valid_ops_pass() -> None:
    """The same shapes, made consistent, verify: the verifiers reject only what is wrong."""
    ok = [
        ("tensor<2x3xf32>, tensor<2x4xf32>", '%0 = "stablehlo.concatenate"(%a0, %a1) <{dimension = 1 : i64}> : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2x7xf32>'),
        ("tensor<3xf32>, tensor<f32>", '%0 = "stablehlo.pad"(%a0, %a1) <{edge_padding_high = array<i64: 1>, edge_padding_low = array<i64: -1>, interior_padding = array<i64: 1>}> : (tensor<3xf32>, tensor<f32>) -> tensor<5xf32>'),
        ("tensor<0xf32>, tensor<f32>", '%0 = "stablehlo.pad"(%a0, %a1) <{edge_padding_high = array<i64: 1>, edge_padding_low = array<i64: 1>, interior_padding = array<i64: 3>}> : (tensor<0xf32>, tensor<f32>) -> tensor<2xf32>'),
        ("tensor<8xf32>, tensor<i32>", '%0 = "stablehlo.dynamic_slice"(%a0, %a1) <{slice_sizes = array<i64: 8>}> : (tensor<8xf32>, tensor<i32>) -> tensor<8xf32>'),
        ("tensor<3x4xf32>, tensor<f32>", '%0 = "stablehlo.reduce"(%a0, %a1) <{dimensions = array<i64: 1>}> ' + ADD_REGION + " : (tensor<3x4xf32>, tensor<f32>) -> tensor<3xf32>"),
        ("tensor<3xf32>", '%0 = "stablehlo.sort"(%a0) <{dimension = -1 : i64}> ' + LESS_REGION + " : (tensor<3xf32>) -> tensor<3xf32>"),
        ("tensor<f32>, tensor<3xf32>", '%0 = "stablehlo.clamp"(%a0, %a1, %a0) : (tensor<f32>, tensor<3xf32>, tensor<f32>) -> tensor<3xf32>'),
        ("tensor<3xf32>", '%0 = "stablehlo.bitcast_convert"(%a0) : (tensor<3xf32>) -> tensor<3x4xi8>'),
        ("tensor<3x2xi32>", '%0 = "stablehlo.bitcast_convert"(%a0) : (tensor<3x2xi32>) -> tensor<3xf64>'),
        ("tensor<3xf32>", '%0 = "stablehlo.bitcast_convert"(%a0) : (tensor<3xf32>) -> tensor<3xui32>'),
        ("tensor<3x4xf32>", '%0:2 = "chlo.top_k"(%a0) <{k = 2 : i64}> : (tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi32>)'),
    ]
    for args, op in ok:
        parse_module(_program(args, op)).verify()
