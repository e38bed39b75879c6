"""StableHLO's custom assembly syntax, read and written by zymase as StableHLO's own
printer writes it (``jax.jit(f).lower(x).as_text()`` is the ground truth).

- every op of the dialects: the custom-form text jaxlib prints for it parses to the same
  IR as its generic form, and zymase's custom printing is accepted by jaxlib's parser
  (and means the same module);
- the corpus (tests/corpus.py) and the dialect round-trip cases: ``as_text()`` parses and
  prints back unchanged apart from SSA names and locations;
- text with locations (``as_text(debug_info=True)``, ``#loc`` aliases at the end) parses;
- malformed custom syntax is a one-line ``file:line:col: error: ...`` from zymase-opt.
"""

from __future__ import annotations

import functools
import re

import jax
import jaxlib.mlir.ir as jir
import pytest
from jax._src.interpreters import mlir as jm

import test_dialect_roundtrip as roundtrip
from corpus import CASES as CORPUS
from zymase.ir import chlo, parse_module, print_module, stablehlo
from zymase.tools.opt import main as opt_main

# the round-trip cases are written for float64 (test_dialect_roundtrip enables it for its own module)
_x64 = roundtrip._x64

# ----------------------------------------------------------------- normalisation

_TOKEN = re.compile(r"%([\w.$-]+)(?::(\d+)(?= =|, %)|#(\d+))?")
_RESULTS_PREFIX = re.compile(r"^\s*(?:%[\w.$-]+(?::\d+)?, )*$")
_RESULTS_SUFFIX = re.compile(r"^(?:, %[\w.$-]+(?::\d+)?)* = ")
_LOC = re.compile(r" loc\((?:[^()\"]|\"[^\"]*\"|\((?:[^()\"]|\"[^\"]*\"|\([^()]*\))*\))*\)")


def normalize(text: str) -> str:
    """MLIR text without locations and with SSA values renamed %v0, %v1, ... in order of
    definition (a ``%x:2`` result group becomes two names, as xDSL prints it)."""
    out: list[str] = []
    names: dict[str, str] = {}
    counter = 0

    def fresh() -> str:
        nonlocal counter
        counter += 1
        return f"%v{counter - 1}"

    for line in text.splitlines():
        if line.startswith("#loc") or not line.strip():
            continue
        line = _LOC.sub("", line)
        pieces: list[str] = []
        pos = 0
        for m in _TOKEN.finditer(line):
            pieces.append(line[pos : m.start()])
            pos = m.end()
            name, count, index = m.group(1), m.group(2), m.group(3)
            rest = line[m.end() :]
            if count is not None:
                new = [fresh() for _ in range(int(count))]
                for i, v in enumerate(new):
                    names[f"{name}#{i}"] = v
                pieces.append(", ".join(new))
                continue
            is_def = rest.startswith((": ", " = ")) or (
                _RESULTS_PREFIX.match(line[: m.start()]) is not None and _RESULTS_SUFFIX.match(rest) is not None
            )
            key = f"{name}#{index}" if index is not None else name
            if is_def:
                names[key] = fresh()
            pieces.append(names.get(key, "%?" + key))
        pieces.append(line[pos:])
        out.append("".join(pieces).rstrip())
    return "\n".join(out) + "\n"


def test_normalize() -> None:
    a = "%0:2 = f %x\n  %y = g %0#1, %0#0 loc(#loc3)\n#loc3 = loc(\"a\":1:2)\n"
    b = "%p, %q = f %x\n  %r = g %q, %p\n"
    assert normalize(a) == normalize(b)


# ----------------------------------------------------------------- sources of text


@functools.cache
def corpus_text(name: str, debug_info: bool = False) -> str:
    case = next(c for c in CORPUS if c.name == name)
    with case.context():
        args, kwargs = case.inputs()
        lowered = jax.jit(case.fn, static_argnums=case.static_argnums).lower(*args, **kwargs)
        return lowered.as_text(debug_info=debug_info)


@functools.cache
def roundtrip_texts(name: str) -> tuple[str, str]:
    """(custom form, generic form) of a case of test_dialect_roundtrip, both by jaxlib."""
    case = next(c for c in roundtrip.CASES if c.name == name)
    with jm.make_ir_context():
        if case.text is not None:
            module = jir.Module.parse(case.text)
        else:
            module = jir.Module.parse(jax.jit(case.fn).lower(*case.args).as_text())
        custom = module.operation.get_asm(enable_debug_info=False)
        generic = module.operation.get_asm(print_generic_op_form=True, enable_debug_info=False)
    return custom, generic


def jaxlib_generic(text: str) -> str:
    with jm.make_ir_context():
        module = jir.Module.parse(text)
        assert module.operation.verify()
        return module.operation.get_asm(print_generic_op_form=True, enable_debug_info=False)


def clear_name_hints(module) -> None:
    """Drop SSA name hints and put properties in name order (xDSL's func.func parser
    and its generic parser store them in different orders)."""
    for op in module.walk():
        sorted_properties = dict(sorted(op.properties.items()))
        op.properties.clear()
        op.properties.update(sorted_properties)
        for value in op.results:
            value.name_hint = None
        for region in op.regions:
            for block in region.blocks:
                for arg in block.args:
                    arg.name_hint = None


def same_ir(a, b) -> None:
    clear_name_hints(a)
    clear_name_hints(b)
    assert print_module(a) == print_module(b)


# ----------------------------------------------------------------- every op

ROUNDTRIP_NAMES = [c.name for c in roundtrip.CASES]
CORPUS_NAMES = [c.name for c in CORPUS]


@pytest.mark.parametrize("name", ROUNDTRIP_NAMES)
def test_custom_text_parses_like_generic(name: str) -> None:
    custom, generic = roundtrip_texts(name)
    same_ir(parse_module(custom), parse_module(generic))


@pytest.mark.parametrize("name", ROUNDTRIP_NAMES)
def test_custom_printing_is_jaxs_text(name: str) -> None:
    custom, generic = roundtrip_texts(name)
    printed = print_module(parse_module(generic), generic=False)
    assert normalize(printed) == normalize(custom)
    assert jaxlib_generic(printed) == jaxlib_generic(custom)


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_corpus_round_trip(name: str) -> None:
    text = corpus_text(name)
    printed = print_module(parse_module(text), generic=False)
    assert normalize(printed) == normalize(text)
    assert jaxlib_generic(printed) == jaxlib_generic(text)


@pytest.mark.parametrize("name", CORPUS_NAMES[:8])
def test_corpus_with_locations(name: str) -> None:
    """JAX's text with locations (#loc aliases defined at the end) parses; the ops keep
    their file locations."""
    text = corpus_text(name, debug_info=True)
    assert "#loc" in text
    module = parse_module(text)
    assert normalize(print_module(module, generic=False)) == normalize(corpus_text(name))


def _custom_ops(text: str) -> set[str]:
    return set(re.findall(r"(?:^\s*|= )((?:stablehlo|chlo|sdy)\.[a-z_0-9]+)\b", text, re.M))


def test_every_op_with_custom_syntax_is_covered() -> None:
    """Every op class that has a custom syntax in zymase appears in custom form in
    jaxlib's printing of the cases above (the rest print generically, in JAX too)."""
    seen: set[str] = set()
    for name in ROUNDTRIP_NAMES:
        seen |= _custom_ops(roundtrip_texts(name)[0])
    for name in CORPUS_NAMES:
        seen |= _custom_ops(corpus_text(name))
    seen |= _custom_ops(EXTRA)
    from xdsl.ir import Operation

    custom = {op.name for op in (*stablehlo.STABLEHLO_OPS, *stablehlo.SDY_OPS, *chlo.CHLO_OPS) if op.print is not Operation.print}
    assert custom - seen == set()


# Forms the cases above do not produce: attribute dictionaries on ops, zero-operand
# forms, the general reduce, mixed types, window-less convolution, defaults left out.
EXTRA = """
func.func @extra(%a: tensor<3xi32>, %p: tensor<3xi1>, %f: tensor<3xf32>, %k: tensor<1x1x4x4xf32>, %m: tensor<2x2xf32>) -> tensor<3xi32> {
  %0 = stablehlo.bitcast_convert %a : (tensor<3xi32>) -> tensor<3xi32>
  %1 = stablehlo.convert %a : tensor<3xi32>
  %2 = stablehlo.dot_general %a, %a, contracting_dims = [] x [] : (tensor<3xi32>, tensor<3xi32>) -> tensor<3x3xi32>
  %cst = stablehlo.constant {foo = 1 : i64} dense<1.000000e+00> : tensor<f32>
  %3 = stablehlo.exponential %cst : tensor<f32>
  %4 = stablehlo.add %a, %a {foo = 2 : i32} : tensor<3xi32>
  %5 = stablehlo.compare LT, %a, %a : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi1>
  %6 = stablehlo.custom_call @foo(%a) {backend_config = ""} : (tensor<3xi32>) -> tensor<3xi32>
  %7 = stablehlo.custom_call @"x-y"(%a) {api_version = 2 : i32, has_side_effect = true} : (tensor<3xi32>) -> tensor<3xi32>
  %8 = stablehlo.select %p, %a, %a : tensor<3xi1>, tensor<3xi32>
  stablehlo.optimization_barrier()
  %9:2 = stablehlo.optimization_barrier {foo = 1 : i64} %a, %cst : tensor<3xi32>, tensor<f32>
  %10 = stablehlo.cholesky %m : tensor<2x2xf32>
  %11 = stablehlo.iota dim = 0 {foo = 1 : i64} : tensor<3xi32>
  %12 = stablehlo.broadcast_in_dim %cst, dims = [] {foo = 1 : i64} : (tensor<f32>) -> tensor<3xf32>
  %13 = stablehlo.slice %a [0:2] {foo = 1 : i64} : (tensor<3xi32>) -> tensor<2xi32>
  stablehlo.while() attributes {foo = 1 : i64}
  cond {
    %c_0 = stablehlo.constant dense<true> : tensor<i1>
    stablehlo.return %c_0 : tensor<i1>
  } do {
    stablehlo.return 
  }
  %14:2 = stablehlo.while(%iterArg = %f, %iterArg_0 = %cst) : tensor<3xf32>, tensor<f32> attributes {foo = 1 : i64}
  cond {
    %c_1 = stablehlo.constant dense<true> : tensor<i1>
    stablehlo.return %c_1 : tensor<i1>
  } do {
    stablehlo.return %iterArg, %iterArg_0 : tensor<3xf32>, tensor<f32>
  }
  %c = stablehlo.constant dense<0> : tensor<i32>
  %15 = stablehlo.reduce(%a init: %c) applies stablehlo.add across dimensions = [0] {foo = 1 : i64} : (tensor<3xi32>, tensor<i32>) -> tensor<i32>
  %16 = stablehlo.reduce(%f init: %cst) across dimensions = [0] : (tensor<3xf32>, tensor<f32>) -> tensor<f32>
   reducer(%arg5: tensor<f32>, %arg6: tensor<f32>)  {
    %30 = stablehlo.add %arg6, %arg5 : tensor<f32>
    stablehlo.return %30 : tensor<f32>
  }
  %17 = stablehlo.convolution(%k, %k) dim_numbers = [b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1], window = {} {batch_group_count = 1 : i64, feature_group_count = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x1x1xf32>
  %18 = stablehlo.composite "foo.bar" %f {decomposition = @dec} : (tensor<3xf32>) -> tensor<3xf32>
  %19 = stablehlo.composite "foo.bar" %f {decomposition = @dec, foo = 1 : i64, version = 2 : i32} : (tensor<3xf32>) -> tensor<3xf32>
  %values, %indices = chlo.top_k(%f, k = 2) {foo = 1 : i64} : tensor<3xf32> -> (tensor<2xf32>, tensor<2xi32>)
  %20 = chlo.erf %f {foo = 1 : i64} : tensor<3xf32> -> tensor<3xf32>
  %21 = stablehlo.clamp %cst, %f, %cst : (tensor<f32>, tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %22 = stablehlo.select %p, %f, %f {foo = 1 : i64} : tensor<3xi1>, tensor<3xf32>
  %23 = stablehlo.reverse %a, dims = [0] : tensor<3xi32>
  %24 = stablehlo.abs %cst : tensor<f32>
  return %a : tensor<3xi32>
}
func.func private @dec(%arg0: tensor<3xf32>) -> tensor<3xf32> {
  return %arg0 : tensor<3xf32>
}
"""


def test_extra_forms() -> None:
    with jm.make_ir_context():
        module = jir.Module.parse(EXTRA)
        custom = module.operation.get_asm(enable_debug_info=False)
        generic = module.operation.get_asm(print_generic_op_form=True, enable_debug_info=False)
    same_ir(parse_module(EXTRA), parse_module(generic))
    printed = print_module(parse_module(generic), generic=False)
    assert normalize(printed) == normalize(custom)
    assert jaxlib_generic(printed) == jaxlib_generic(custom)


def test_mixed_forms_in_one_module() -> None:
    text = """
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "stablehlo.add"(%x, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = stablehlo.multiply %0, %x : tensor<4xf32>
  "func.return"(%1) : (tensor<4xf32>) -> ()
}
"""
    module = parse_module(text)
    module.verify()
    assert "stablehlo.multiply %0, %arg0 : tensor<4xf32>" in print_module(module, generic=False).replace("%x", "%arg0")


# ----------------------------------------------------------------- errors

MALFORMED = [
    ("%0 = stablehlo.add %x %x : tensor<4xf32>", 3, "expected"),
    ("%0 = stablehlo.broadcast_in_dim %x, dimz = [0] : (tensor<4xf32>) -> tensor<4xf32>", 3, "dims"),
    ("%0 = stablehlo.compare XX, %x, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>", 3, ""),
    ("%0 = stablehlo.slice %x [0:2, : (tensor<4xf32>) -> tensor<2xf32>", 3, ""),
    ("%0 = stablehlo.reduce(%x init: %x) applies stablehlo.nope across dimensions = [0] : (tensor<4xf32>, tensor<4xf32>) -> tensor<f32>", 3, "nope"),
    ("%0 = stablehlo.dot_general %x, %x, precision = [DEFAULT, DEFAULT] : (tensor<4xf32>, tensor<4xf32>) -> tensor<f32>", 3, "contracting_dims"),
]


@pytest.mark.parametrize("line, lineno, fragment", MALFORMED)
def test_malformed_custom_syntax(tmp_path, capsys, line: str, lineno: int, fragment: str) -> None:
    path = tmp_path / "bad.mlir"
    path.write_text(f"func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {{\n  // a comment\n  {line}\n  return %x : tensor<4xf32>\n}}\n")
    assert opt_main([str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert re.match(rf"{re.escape(str(path))}:{lineno}:\d+: error: ", err), err
    assert fragment.lower() in err.lower()
