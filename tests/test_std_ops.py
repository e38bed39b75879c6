"""The lax emitters of arith, math and scf (zymase.backend.std_ops), run through
load_mlir on hand-written MLIR and checked against numpy; and zymase-opt --run errors."""

from __future__ import annotations

import math as pymath

import jax
import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp

from zymase import load_mlir
from zymase.loader import MlirError
from zymase.tools.opt import main as opt_main

RNG = np.random.default_rng(0)

F32 = np.array([-2.5, -1.0, -0.25, 0.0, 0.5, 1.75, 3.0], np.float32)
F32_NAN = np.array([np.nan, 1.0, -2.0, np.nan, 0.0, 3.0], np.float32)
F32_NAN2 = np.array([1.0, np.nan, -3.0, np.nan, -0.0, 3.0], np.float32)
I32 = np.array([-7, -3, -1, 0, 1, 5, 2**31 - 1, -(2**31)], np.int32)
I32_NONZERO = np.array([3, -2, 5, -1, 7, -4, 3, 9], np.int32)


def unary_module(line: str, arg: str, result: str) -> str:
    return f"""
func.func @f(%x: {arg}) -> {result} {{
  %r = {line}
  func.return %r : {result}
}}
"""


def binary_module(line: str, arg: str, result: str, arg2: str | None = None) -> str:
    return f"""
func.func @f(%x: {arg}, %y: {arg2 or arg}) -> {result} {{
  %r = {line}
  func.return %r : {result}
}}
"""


def run_elementwise(text: str, *args: np.ndarray) -> np.ndarray:
    """Call @f on each element of the arguments (scalar forms), stacking the results."""
    fn = load_mlir(text).f
    return np.array([np.asarray(fn(*xs)) for xs in zip(*args)])


def assert_close(got: np.ndarray, want: np.ndarray, dtype: type) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == np.dtype(dtype), (got.dtype, dtype)
    tol = 2e-6 if np.dtype(dtype) == np.float32 else 1e-13
    np.testing.assert_allclose(got, want.astype(dtype), rtol=tol, atol=tol)


# ----------------------------------------------------------------- loader


SQUARE = """
func.func @square(%x: f32, %y: f32) -> (f32, f32) {
  %o1 = arith.mulf %x, %x : f32
  %o2 = arith.mulf %y, %y : f32
  func.return %o1, %o2 : f32, f32
}

func.func @cube(%x: f32) -> f32 {
  %s = arith.mulf %x, %x : f32
  %c = arith.mulf %s, %x : f32
  func.return %c : f32
}

func.func @twice(%x: f32) -> f32 {
  %c = func.call @cube(%x) : (f32) -> f32
  %r = arith.addf %c, %c : f32
  func.return %r : f32
}
"""


def test_load_mlir_calls_functions_by_attribute_and_name():
    mod = load_mlir(SQUARE)
    assert isinstance(mod.module, ModuleOp)
    assert mod.functions == ["square", "cube", "twice"]
    o1, o2 = mod.square(3.0, np.float32(-2.5))
    assert np.asarray(o1) == np.float32(9.0) and np.asarray(o2) == np.float32(6.25)
    o1, o2 = mod["square"](np.float64(1.5), 2)
    assert np.asarray(o1).dtype == np.float32 and float(o1) == 2.25 and float(o2) == 4.0
    single = mod.cube(2.0)
    assert not isinstance(single, tuple) and float(single) == 8.0
    assert float(mod.twice(3.0)) == 54.0


def test_load_mlir_errors_are_one_line_with_location():
    mod = load_mlir(SQUARE, "square.mlir")
    with pytest.raises(MlirError) as e:
        mod.square(1.0)
    assert str(e.value) == "square.mlir:2:1: error: @square takes 2 arguments, got 1"
    with pytest.raises(MlirError, match="cannot take a float64 value"):
        load_mlir("func.func @f(%i: i32) -> i32 {\n  func.return %i : i32\n}").f(2.5)
    with pytest.raises(MlirError, match=r"got an array of shape \(2,\)"):
        mod.cube(np.ones(2, np.float32))
    with pytest.raises(AttributeError, match="no function @nope"):
        mod.nope
    with pytest.raises(KeyError, match="no function @nope"):
        mod["nope"]


def test_parse_and_verify_errors_carry_line_and_column():
    with pytest.raises(MlirError) as e:
        load_mlir("func.func @f(%x: f32) -> f32 {\n  %y = arith.mulf %x, %x : f64\n  func.return %y : f32\n}", "bad.mlir")
    assert str(e.value).startswith("bad.mlir:2:19: error: ")
    assert "\n" not in str(e.value)
    with pytest.raises(MlirError) as e:
        load_mlir('func.func @f(%x: f32) -> f32 {\n  %y = "arith.mulf"(%x, %x) : (f32, f32) -> i32\n  func.return %x : f32\n}', "v.mlir")
    assert str(e.value).startswith("v.mlir:2:3: error: 'arith.mulf' op ")
    assert "\n" not in str(e.value)


def test_emit_error_names_the_op_and_location():
    text = "func.func @f(%x: i1) -> i1 {\n  %y = arith.addi %x, %x : i1\n  func.return %y : i1\n}"
    with pytest.raises(MlirError, match=r"cannot emit 'arith.addi' at <input>:2:3: arithmetic on i1"):
        load_mlir(text).f(True)


# ----------------------------------------------------------------- arith: floats

FLOAT_BINARY = {
    "addf": np.add,
    "subf": np.subtract,
    "mulf": np.multiply,
    "divf": np.divide,
    "maximumf": np.maximum,
    "minimumf": np.minimum,
    "maxnumf": np.fmax,
    "minnumf": np.fmin,
}


@pytest.mark.parametrize("name", FLOAT_BINARY)
def test_float_binary_scalar_f32(name):
    x, y = F32_NAN, F32_NAN2
    with np.errstate(all="ignore"):
        want = FLOAT_BINARY[name](x, y)
    got = run_elementwise(binary_module(f"arith.{name} %x, %y : f32", "f32", "f32"), x, y)
    assert_close(got, want, np.float32)


@pytest.mark.parametrize("name", FLOAT_BINARY)
def test_float_binary_tensor_f64(name):
    x, y = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))
    with jax.enable_x64(True):
        t = "tensor<2x3xf64>"
        got = load_mlir(binary_module(f"arith.{name} %x, %y : {t}", t, t)).f(x, y)
        assert_close(got, FLOAT_BINARY[name](x, y), np.float64)


def test_negf():
    got = load_mlir(unary_module("arith.negf %x : tensor<7xf32>", "tensor<7xf32>", "tensor<7xf32>")).f(F32)
    assert_close(got, -F32, np.float32)


# ----------------------------------------------------------------- arith: integers


def _u32(x):
    return np.asarray(x).astype(np.int32).view(np.uint32)


def _trunc_div(x, y):
    q = np.abs(x.astype(np.int64)) // np.abs(y.astype(np.int64))
    return (np.sign(x.astype(np.int64)) * np.sign(y.astype(np.int64)) * q).astype(np.int32)


INT_BINARY = {
    "addi": lambda x, y: (x.astype(np.int64) + y).astype(np.int32),
    "subi": lambda x, y: (x.astype(np.int64) - y).astype(np.int32),
    "muli": lambda x, y: (x.astype(np.int64) * y).astype(np.int32),
    "divsi": _trunc_div,
    "remsi": lambda x, y: np.fmod(x.astype(np.int64), y).astype(np.int32),
    "floordivsi": lambda x, y: np.floor_divide(x.astype(np.int64), y).astype(np.int32),
    "ceildivsi": lambda x, y: (-np.floor_divide(-x.astype(np.int64), y)).astype(np.int32),
    "divui": lambda x, y: (_u32(x) // _u32(y)).view(np.int32),
    "remui": lambda x, y: (_u32(x) % _u32(y)).view(np.int32),
    "ceildivui": lambda x, y: (-(-_u32(x).astype(np.int64) // _u32(y).astype(np.int64))).astype(np.uint32).view(np.int32),
    "maxsi": np.maximum,
    "minsi": np.minimum,
    "maxui": lambda x, y: np.maximum(_u32(x), _u32(y)).view(np.int32),
    "minui": lambda x, y: np.minimum(_u32(x), _u32(y)).view(np.int32),
    "andi": np.bitwise_and,
    "ori": np.bitwise_or,
    "xori": np.bitwise_xor,
}


@pytest.mark.parametrize("name", INT_BINARY)
def test_int_binary_scalar_i32(name):
    x, y = I32, I32_NONZERO
    got = run_elementwise(binary_module(f"arith.{name} %x, %y : i32", "i32", "i32"), x, y)
    np.testing.assert_array_equal(got, INT_BINARY[name](x, y))
    assert got.dtype == np.int32


@pytest.mark.parametrize("name", INT_BINARY)
def test_int_binary_tensor_i32(name):
    x, y = I32.reshape(2, 4), I32_NONZERO.reshape(2, 4)
    t = "tensor<2x4xi32>"
    got = load_mlir(binary_module(f"arith.{name} %x, %y : {t}", t, t)).f(x, y)
    np.testing.assert_array_equal(got, INT_BINARY[name](x, y))


@pytest.mark.parametrize("name", ["addi", "muli", "divsi", "divui", "maxui", "remsi"])
def test_int_binary_i64(name):
    x = np.array([-(2**40), -5, 7, 2**62, -1], np.int64)
    y = np.array([3, -2, 2**33, 5, 7], np.int64)
    u = lambda v: v.view(np.uint64)  # noqa: E731
    refs = {
        "addi": lambda: x + y,
        "muli": lambda: x * y,
        "divsi": lambda: np.array([(abs(a) // abs(b)) * (1 if (a < 0) == (b < 0) else -1) for a, b in zip(x.tolist(), y.tolist())]),
        "divui": lambda: (u(x) // u(y)).view(np.int64),
        "maxui": lambda: np.maximum(u(x), u(y)).view(np.int64),
        "remsi": lambda: np.fmod(x, y),
    }
    with jax.enable_x64(True):
        got = load_mlir(binary_module(f"arith.{name} %x, %y : tensor<5xi64>", "tensor<5xi64>", "tensor<5xi64>")).f(x, y)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(got, refs[name]())


@pytest.mark.parametrize("name,ref", [
    ("shli", lambda x, s: (x.astype(np.int64) << s).astype(np.int32)),
    ("shrsi", lambda x, s: x >> s),
    ("shrui", lambda x, s: (_u32(x) >> s.astype(np.uint32)).view(np.int32)),
])
def test_shifts(name, ref):
    x = I32
    s = np.array([0, 1, 3, 31, 4, 2, 30, 5], np.int32)
    got = load_mlir(binary_module(f"arith.{name} %x, %y : tensor<8xi32>", "tensor<8xi32>", "tensor<8xi32>")).f(x, s)
    np.testing.assert_array_equal(got, ref(x, s))


def test_bitwise_on_i1():
    for name, ref in [("andi", np.logical_and), ("ori", np.logical_or), ("xori", np.logical_xor)]:
        for a in (False, True):
            for b in (False, True):
                got = load_mlir(binary_module(f"arith.{name} %x, %y : i1", "i1", "i1")).f(a, b)
                assert bool(got) == ref(a, b)


# ----------------------------------------------------------------- arith: comparisons


def _cmpf_ref(pred: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ordered = ~np.isnan(x) & ~np.isnan(y)
    rel = {"eq": np.equal, "gt": np.greater, "ge": np.greater_equal, "lt": np.less, "le": np.less_equal, "ne": np.not_equal}
    if pred == "false":
        return np.zeros(x.shape, bool)
    if pred == "true":
        return np.ones(x.shape, bool)
    if pred == "ord":
        return ordered
    if pred == "uno":
        return ~ordered
    with np.errstate(invalid="ignore"):
        r = rel[pred[1:]](x, y)
    return (ordered & r) if pred[0] == "o" else (~ordered | r)


CMPF = ["false", "oeq", "ogt", "oge", "olt", "ole", "one", "ord", "ueq", "ugt", "uge", "ult", "ule", "une", "uno", "true"]


@pytest.mark.parametrize("pred", CMPF)
def test_cmpf_all_predicates(pred):
    x = np.array([np.nan, 1.0, 1.0, 2.0, np.nan, -1.0, 0.0], np.float32)
    y = np.array([1.0, np.nan, 1.0, 1.0, np.nan, 3.0, -0.0], np.float32)
    want = _cmpf_ref(pred, x, y)
    # xDSL 0.74's cmpf (and cmpi) results are i1 only, so there is no tensor form to test.
    got = run_elementwise(binary_module(f"arith.cmpf {pred}, %x, %y : f32", "f32", "i1"), x, y)
    np.testing.assert_array_equal(got, want)


CMPI = {
    "eq": lambda x, y: x == y,
    "ne": lambda x, y: x != y,
    "slt": lambda x, y: x < y,
    "sle": lambda x, y: x <= y,
    "sgt": lambda x, y: x > y,
    "sge": lambda x, y: x >= y,
    "ult": lambda x, y: _u32(x) < _u32(y),
    "ule": lambda x, y: _u32(x) <= _u32(y),
    "ugt": lambda x, y: _u32(x) > _u32(y),
    "uge": lambda x, y: _u32(x) >= _u32(y),
}


@pytest.mark.parametrize("pred", CMPI)
def test_cmpi_all_predicates(pred):
    x = np.array([-1, 0, 5, -7, 3, 2**31 - 1, -(2**31), 4], np.int32)
    y = np.array([1, 0, -5, -7, 4, -(2**31), 2**31 - 1, 4], np.int32)
    want = CMPI[pred](x, y)
    got = run_elementwise(binary_module(f"arith.cmpi {pred}, %x, %y : i32", "i32", "i1"), x, y)
    np.testing.assert_array_equal(got, want)


def test_cmpi_on_index_and_i1():
    got = run_elementwise(binary_module("arith.cmpi slt, %x, %y : index", "index", "i1"), np.array([1, 5, -2]), np.array([2, 5, -3]))
    np.testing.assert_array_equal(got, [True, False, False])
    # i1 true is -1 when signed and 1 when unsigned
    assert bool(load_mlir(binary_module("arith.cmpi slt, %x, %y : i1", "i1", "i1")).f(True, False))
    assert not bool(load_mlir(binary_module("arith.cmpi ult, %x, %y : i1", "i1", "i1")).f(True, False))


def test_select_scalar_and_tensor():
    text = """
func.func @f(%c: i1, %x: f32, %y: f32, %a: tensor<3xf32>, %b: tensor<3xf32>) -> (f32, tensor<3xf32>) {
  %s = arith.select %c, %x, %y : f32
  %t = arith.select %c, %a, %b : tensor<3xf32>
  func.return %s, %t : f32, tensor<3xf32>
}
"""
    fn = load_mlir(text).f
    a, b = np.arange(3, dtype=np.float32), -np.arange(3, dtype=np.float32)
    for c in (True, False):
        s, t = fn(c, 1.0, 2.0, a, b)
        assert float(s) == (1.0 if c else 2.0)
        np.testing.assert_array_equal(t, a if c else b)


# ----------------------------------------------------------------- arith: constants and casts


def test_constants():
    text = """
func.func @f() -> (f32, i32, index, i1, i1, tensor<3xf32>, tensor<2x2xi32>, i32, i8) {
  %a = arith.constant 1.5 : f32
  %b = arith.constant -7 : i32
  %c = arith.constant 12 : index
  %d = arith.constant true
  %e = arith.constant false
  %f = arith.constant dense<[1.0, -2.0, 3.5]> : tensor<3xf32>
  %g = arith.constant dense<4> : tensor<2x2xi32>
  %h = arith.constant 4294967295 : i32
  %i = arith.constant 200 : i8
  func.return %a, %b, %c, %d, %e, %f, %g, %h, %i : f32, i32, index, i1, i1, tensor<3xf32>, tensor<2x2xi32>, i32, i8
}
"""
    a, b, c, d, e, f, g, h, i = load_mlir(text).f()
    assert np.asarray(a).dtype == np.float32 and float(a) == 1.5
    assert np.asarray(b).dtype == np.int32 and int(b) == -7
    assert int(c) == 12 and np.asarray(c).dtype == (np.int64 if jax.config.jax_enable_x64 else np.int32)
    assert np.asarray(d).dtype == np.bool_ and bool(d) and not bool(e)
    np.testing.assert_array_equal(f, np.array([1.0, -2.0, 3.5], np.float32))
    np.testing.assert_array_equal(g, np.full((2, 2), 4, np.int32))
    assert int(h) == -1
    assert np.asarray(i).dtype == np.int8 and int(i) == 200 - 256


def test_index_is_int64_under_x64_and_int32_otherwise():
    text = unary_module("arith.addi %x, %x : index", "index", "index")
    with jax.enable_x64(False):
        assert np.asarray(load_mlir(text).f(3)).dtype == np.int32
    with jax.enable_x64(True):
        got = load_mlir(text).f(2**40)
        assert np.asarray(got).dtype == np.int64 and int(got) == 2**41


def _cast(line: str, arg: str, result: str, x: np.ndarray) -> np.ndarray:
    return run_elementwise(unary_module(line, arg, result), x)


def test_int_float_casts():
    x = I32[:6]
    np.testing.assert_array_equal(_cast("arith.sitofp %x : i32 to f32", "i32", "f32", x), x.astype(np.float32))
    np.testing.assert_array_equal(_cast("arith.uitofp %x : i32 to f32", "i32", "f32", x), _u32(x).astype(np.float32))
    f = np.array([-2.7, -0.5, 0.0, 1.9, 100.2], np.float32)
    np.testing.assert_array_equal(_cast("arith.fptosi %x : f32 to i32", "f32", "i32", f), np.trunc(f).astype(np.int32))
    g = np.array([0.0, 1.9, 100.2, 3.0e9], np.float32)
    np.testing.assert_array_equal(_cast("arith.fptoui %x : f32 to i32", "f32", "i32", g), np.trunc(g).astype(np.uint32).view(np.int32))
    # i1: sitofp reads true as -1, uitofp as 1
    np.testing.assert_array_equal(_cast("arith.sitofp %x : i1 to f32", "i1", "f32", np.array([True, False])), [-1.0, 0.0])
    np.testing.assert_array_equal(_cast("arith.uitofp %x : i1 to f32", "i1", "f32", np.array([True, False])), [1.0, 0.0])


def test_width_casts_x64():
    x = I32
    with jax.enable_x64(True):
        np.testing.assert_array_equal(_cast("arith.extsi %x : i32 to i64", "i32", "i64", x), x.astype(np.int64))
        np.testing.assert_array_equal(_cast("arith.extui %x : i32 to i64", "i32", "i64", x), _u32(x).astype(np.int64))
        big = np.array([2**40 + 5, -(2**35) - 1, 7, -1], np.int64)
        np.testing.assert_array_equal(_cast("arith.trunci %x : i64 to i32", "i64", "i32", big), big.astype(np.int32))
        f = np.array([1.0 / 3.0, -2.5e-30, 1e300], np.float64)  # (XLA on CPU flushes f32 denormals)
        with np.errstate(over="ignore"):
            np.testing.assert_array_equal(_cast("arith.truncf %x : f64 to f32", "f64", "f32", f), f.astype(np.float32))
        t = "tensor<7xf32>"
        got = load_mlir(unary_module(f"arith.extf %x : {t} to tensor<7xf64>", t, "tensor<7xf64>")).f(F32)
        assert np.asarray(got).dtype == np.float64
        np.testing.assert_array_equal(got, F32.astype(np.float64))


def test_i1_and_narrow_casts():
    b = np.array([True, False])
    np.testing.assert_array_equal(_cast("arith.extsi %x : i1 to i32", "i1", "i32", b), [-1, 0])
    np.testing.assert_array_equal(_cast("arith.extui %x : i1 to i32", "i1", "i32", b), [1, 0])
    x = np.array([2, 3, -1, 0], np.int32)
    np.testing.assert_array_equal(_cast("arith.trunci %x : i32 to i1", "i32", "i1", x), [False, True, True, False])
    np.testing.assert_array_equal(_cast("arith.trunci %x : i32 to i8", "i32", "i8", I32), I32.astype(np.int8))
    np.testing.assert_array_equal(_cast("arith.extsi %x : i8 to i32", "i8", "i32", np.array([-128, 5], np.int8)), [-128, 5])


def test_index_cast_and_bitcast():
    x = np.array([-3, 0, 9], np.int32)
    np.testing.assert_array_equal(_cast("arith.index_cast %x : i32 to index", "i32", "index", x), x)
    np.testing.assert_array_equal(_cast("arith.index_cast %x : index to i32", "index", "i32", x), x)
    np.testing.assert_array_equal(_cast("arith.bitcast %x : f32 to i32", "f32", "i32", F32), F32.view(np.int32))
    np.testing.assert_array_equal(_cast("arith.bitcast %x : i32 to f32", "i32", "f32", F32.view(np.int32)), F32)


# ----------------------------------------------------------------- math

POS = np.array([0.1, 0.5, 1.0, 2.0, 7.5], np.float32)
SYM = np.array([-3.0, -0.7, 0.0, 0.3, 2.2], np.float32)
UNIT = np.array([-0.9, -0.3, 0.0, 0.4, 0.8], np.float32)
HALVES = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1.7, 0.3], np.float32)

MATH_UNARY = {
    "sin": (np.sin, SYM),
    "cos": (np.cos, SYM),
    "tan": (np.tan, SYM),
    "exp": (np.exp, SYM),
    "expm1": (np.expm1, SYM),
    "exp2": (np.exp2, SYM),
    "log": (np.log, POS),
    "log1p": (np.log1p, POS),
    "log2": (np.log2, POS),
    "log10": (np.log10, POS),
    "sqrt": (np.sqrt, POS),
    "rsqrt": (lambda x: 1 / np.sqrt(x), POS),
    "tanh": (np.tanh, SYM),
    "sinh": (np.sinh, SYM),
    "cosh": (np.cosh, SYM),
    "atan": (np.arctan, SYM),
    "asin": (np.arcsin, UNIT),
    "acos": (np.arccos, UNIT),
    "atanh": (np.arctanh, UNIT),
    "asinh": (np.arcsinh, SYM),
    "acosh": (np.arccosh, POS + 1),
    "erf": (np.vectorize(pymath.erf), SYM),
    "cbrt": (np.cbrt, SYM),
    "absf": (np.abs, SYM),
    "ceil": (np.ceil, HALVES),
    "floor": (np.floor, HALVES),
    "round": (lambda x: np.sign(x) * np.floor(np.abs(x) + 0.5), HALVES),
    "roundeven": (np.round, HALVES),
    "trunc": (np.trunc, HALVES),
}


@pytest.mark.parametrize("name", MATH_UNARY)
def test_math_unary_f32_scalar_and_tensor(name):
    ref, x = MATH_UNARY[name]
    want = ref(x.astype(np.float64))
    assert_close(run_elementwise(unary_module(f"math.{name} %x : f32", "f32", "f32"), x), want, np.float32)
    t = f"tensor<{x.size}xf32>"
    assert_close(load_mlir(unary_module(f"math.{name} %x : {t}", t, t)).f(x), want, np.float32)


@pytest.mark.parametrize("name", ["sin", "exp", "log", "tanh", "erf", "cbrt", "roundeven", "log10"])
def test_math_unary_f64(name):
    ref, x = MATH_UNARY[name]
    x = x.astype(np.float64) * (1 + 1e-9)
    with jax.enable_x64(True):
        got = load_mlir(unary_module(f"math.{name} %x : tensor<{x.size}xf64>", f"tensor<{x.size}xf64>", f"tensor<{x.size}xf64>")).f(x)
    assert_close(got, ref(x), np.float64)


def _ctlz(v: int) -> int:
    return 32 - (v & 0xFFFFFFFF).bit_length()


def _cttz(v: int) -> int:
    v &= 0xFFFFFFFF
    return 32 if v == 0 else (v & -v).bit_length() - 1


@pytest.mark.parametrize("name,ref", [
    ("absi", lambda v: abs(v) if v != -(2**31) else v),
    ("ctlz", _ctlz),
    ("cttz", _cttz),
    ("ctpop", lambda v: bin(v & 0xFFFFFFFF).count("1")),
])
def test_math_integer_unary(name, ref):
    x = np.array([0, 1, -1, 12, -(2**31), 2**31 - 1, 96, -40], np.int32)
    want = np.array([ref(int(v)) for v in x], np.int32)
    np.testing.assert_array_equal(run_elementwise(unary_module(f"math.{name} %x : i32", "i32", "i32"), x), want)
    np.testing.assert_array_equal(load_mlir(unary_module(f"math.{name} %x : tensor<8xi32>", "tensor<8xi32>", "tensor<8xi32>")).f(x), want)


@pytest.mark.parametrize("name,ref,x,y", [
    ("atan2", np.arctan2, SYM, np.array([1.0, -2.0, 0.5, -0.1, 3.0], np.float32)),
    ("powf", np.power, POS, SYM),
    ("copysign", np.copysign, SYM, np.array([-1.0, 2.0, -0.0, 0.0, -5.0], np.float32)),
])
def test_math_binary(name, ref, x, y):
    want = ref(x.astype(np.float64), y.astype(np.float64))
    assert_close(run_elementwise(binary_module(f"math.{name} %x, %y : f32", "f32", "f32"), x, y), want, np.float32)
    t = f"tensor<{x.size}xf32>"
    assert_close(load_mlir(binary_module(f"math.{name} %x, %y : {t}", t, t)).f(x, y), want, np.float32)


def test_copysign_of_negative_zero():
    assert float(load_mlir(binary_module("math.copysign %x, %y : f32", "f32", "f32")).f(2.0, -0.0)) == -2.0


def test_fpowi():
    x = np.array([2.0, -1.5, 0.5, 3.0, -2.0], np.float32)
    n = np.array([3, 2, -2, 0, -3], np.int32)
    got = run_elementwise(binary_module("math.fpowi %x, %y : f32, i32", "f32", "f32", arg2="i32"), x, n)
    assert_close(got, x.astype(np.float64) ** n.astype(np.float64), np.float32)


def _wrap32(v: int) -> int:
    return (v + 2**31) % 2**32 - 2**31


def _ipowi_ref(x: int, n: int) -> int:
    """MLIR's math.ipowi: x**n wrapped to 32 bits; for n < 0, 1 / x**|n| in integers."""
    if n >= 0:
        return _wrap32(x**n)
    if x == 1:
        return 1
    if x == -1:
        return -1 if n % 2 else 1
    return 0


def test_ipowi():
    x = np.array([2, -3, 5, 1, -1, -1, 7, 0, 3, 2], np.int32)
    n = np.array([10, 3, 0, -4, -3, -2, -1, 5, 19, 31], np.int32)
    want = np.array([_ipowi_ref(int(a), int(b)) for a, b in zip(x, n)], np.int32)
    np.testing.assert_array_equal(run_elementwise(binary_module("math.ipowi %x, %y : i32", "i32", "i32"), x, n), want)
    np.testing.assert_array_equal(load_mlir(binary_module("math.ipowi %x, %y : tensor<10xi32>", "tensor<10xi32>", "tensor<10xi32>")).f(x, n), want)


def test_fma():
    text = """
func.func @f(%a: tensor<5xf32>, %b: tensor<5xf32>, %c: tensor<5xf32>) -> tensor<5xf32> {
  %r = math.fma %a, %b, %c : tensor<5xf32>
  func.return %r : tensor<5xf32>
}
"""
    a, b, c = (RNG.normal(size=5).astype(np.float32) for _ in range(3))
    assert_close(load_mlir(text).f(a, b, c), a.astype(np.float64) * b + c, np.float32)


# ----------------------------------------------------------------- scf.for

FOR_STATIC = """
func.func @f(%x: f32) -> (f32, i32) {
  %lb = arith.constant 3 : index
  %ub = arith.constant 12 : index
  %step = arith.constant 2 : index
  %zero = arith.constant 0 : i32
  %r:2 = scf.for %i = %lb to %ub step %step iter_args(%acc = %x, %count = %zero) -> (f32, i32) {
    %ii = arith.index_cast %i : index to i32
    %fi = arith.sitofp %ii : i32 to f32
    %prod = arith.mulf %acc, %fi : f32
    %one = arith.constant 1 : i32
    %c = arith.addi %count, %one : i32
    scf.yield %prod, %c : f32, i32
  }
  func.return %r#0, %r#1 : f32, i32
}
"""


def test_for_with_constant_bounds_and_step_two():
    acc, count = load_mlir(FOR_STATIC).f(0.5)
    assert_close(acc, 0.5 * np.prod(np.arange(3, 12, 2, dtype=np.float64)), np.float32)
    assert int(count) == len(range(3, 12, 2))


FOR_DYNAMIC = """
func.func @f(%lb: index, %ub: index, %step: index, %x: f32) -> f32 {
  %r = scf.for %i = %lb to %ub step %step iter_args(%acc = %x) -> (f32) {
    %ii = arith.index_cast %i : index to i32
    %fi = arith.sitofp %ii : i32 to f32
    %next = arith.addf %acc, %fi : f32
    scf.yield %next : f32
  }
  func.return %r : f32
}
"""


@pytest.mark.parametrize("lb,ub,step", [(0, 10, 1), (2, 11, 3), (-4, 5, 2), (5, 5, 1), (7, 2, 1), (0, 1, 5)])
def test_for_with_dynamic_bounds(lb, ub, step):
    got = load_mlir(FOR_DYNAMIC).f(lb, ub, step, 0.25)
    assert_close(got, 0.25 + sum(range(lb, ub, step)), np.float32)


def test_for_with_integer_induction_variable_and_tensor_carry():
    text = """
func.func @f(%v: tensor<3xf32>, %n: i32) -> tensor<3xf32> {
  %lb = arith.constant 0 : i32
  %step = arith.constant 1 : i32
  %r = scf.for %i = %lb to %n step %step iter_args(%acc = %v) -> (tensor<3xf32>) : i32 {
    %fi = arith.sitofp %i : i32 to f32
    %two = arith.constant dense<2.0> : tensor<3xf32>
    %d = arith.mulf %acc, %two : tensor<3xf32>
    %e = math.sin %d : tensor<3xf32>
    %s = arith.addf %acc, %e : tensor<3xf32>
    scf.yield %s : tensor<3xf32>
  }
  func.return %r : tensor<3xf32>
}
"""
    v = np.array([0.1, -0.4, 1.2], np.float32)
    want = v.astype(np.float64)
    for _ in range(4):
        want = want + np.sin(2 * want)
    got = load_mlir(text).f(v, 4)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_nested_for():
    text = """
func.func @f(%n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %outer = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f32) {
    %inner = scf.for %j = %c0 to %i step %c1 iter_args(%acc2 = %acc) -> (f32) {
      %ij = arith.muli %i, %j : index
      %k = arith.index_cast %ij : index to i32
      %f = arith.sitofp %k : i32 to f32
      %s = arith.addf %acc2, %f : f32
      scf.yield %s : f32
    }
    scf.yield %inner : f32
  }
  func.return %outer : f32
}
"""
    for n in (0, 1, 5, 9):
        want = sum(i * j for i in range(n) for j in range(i))
        assert float(load_mlir(text).f(n)) == want


def test_for_without_results_has_no_effect():
    text = """
func.func @f(%x: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %y = arith.addf %x, %x : f32
  }
  %r = arith.addf %x, %x : f32
  func.return %r : f32
}
"""
    assert float(load_mlir(text).f(1.5)) == 3.0


def test_for_with_constant_bounds_is_reverse_differentiable_by_jax():
    from zymase.backend import build_function

    mod = load_mlir(FOR_STATIC)
    fn = build_function(mod.module, "f")
    grad = jax.grad(lambda x: fn(x)[0])(np.float32(2.0))
    assert_close(grad, np.prod(np.arange(3, 12, 2, dtype=np.float64)), np.float32)


# ----------------------------------------------------------------- scf.if, scf.while, others

IF = """
func.func @f(%x: f32, %y: f32) -> (f32, i32) {
  %c = arith.cmpf olt, %x, %y : f32
  %r:2 = scf.if %c -> (f32, i32) {
    %d = arith.subf %y, %x : f32
    %one = arith.constant 1 : i32
    scf.yield %d, %one : f32, i32
  } else {
    %p = arith.mulf %x, %y : f32
    %two = arith.constant 2 : i32
    scf.yield %p, %two : f32, i32
  }
  scf.if %c {
    %unused = arith.addf %x, %y : f32
  }
  func.return %r#0, %r#1 : f32, i32
}
"""


@pytest.mark.parametrize("x,y", [(1.0, 3.0), (4.0, 2.5), (2.0, 2.0)])
def test_if(x, y):
    v, k = load_mlir(IF).f(x, y)
    if x < y:
        assert (float(v), int(k)) == (y - x, 1)
    else:
        assert (float(v), int(k)) == (x * y, 2)


def test_if_inside_for():
    text = """
func.func @f(%n: index) -> i32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0 : i32
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (i32) {
    %m = arith.remsi %i, %c2 : index
    %even = arith.cmpi eq, %m, %c0 : index
    %ii = arith.index_cast %i : index to i32
    %next = scf.if %even -> (i32) {
      %a = arith.addi %acc, %ii : i32
      scf.yield %a : i32
    } else {
      %b = arith.subi %acc, %ii : i32
      scf.yield %b : i32
    }
    scf.yield %next : i32
  }
  func.return %r : i32
}
"""
    for n in (0, 1, 6, 11):
        assert int(load_mlir(text).f(n)) == sum(i if i % 2 == 0 else -i for i in range(n))


WHILE = """
func.func @f(%x: f32, %limit: f32) -> (i32, f32, f32) {
  %zero = arith.constant 0 : i32
  %r:3 = scf.while (%i = %zero, %v = %x) : (i32, f32) -> (i32, f32, f32) {
    %go = arith.cmpf olt, %v, %limit : f32
    %half = arith.constant 0.5 : f32
    %h = arith.mulf %v, %half : f32
    scf.condition(%go) %i, %v, %h : i32, f32, f32
  } do {
  ^bb0(%i2: i32, %v2: f32, %h2: f32):
    %one = arith.constant 1 : i32
    %i3 = arith.addi %i2, %one : i32
    %three = arith.constant 3.0 : f32
    %v3 = arith.mulf %v2, %three : f32
    %v4 = arith.addf %v3, %h2 : f32
    scf.yield %i3, %v4 : i32, f32
  }
  func.return %r#0, %r#1, %r#2 : i32, f32, f32
}
"""


@pytest.mark.parametrize("x,limit", [(1.0, 100.0), (5.0, 2.0), (0.5, 0.6)])
def test_while_passes_condition_values_to_after(x, limit):
    i, v = 0, np.float32(x)
    while v < limit:
        i, v = i + 1, np.float32(v * np.float32(3.0)) + np.float32(v * np.float32(0.5))
    got_i, got_v, got_h = load_mlir(WHILE).f(x, limit)
    assert int(got_i) == i
    assert_close(got_v, v, np.float32)
    assert_close(got_h, v * np.float32(0.5), np.float32)


def test_execute_region_and_index_switch():
    text = """
func.func @f(%k: index, %x: f32) -> (f32, f32) {
  %e = scf.execute_region -> f32 {
    %d = arith.addf %x, %x : f32
    scf.yield %d : f32
  }
  %s = scf.index_switch %k -> f32
  case 2 {
    %a = math.exp %x : f32
    scf.yield %a : f32
  }
  case 5 {
    %b = arith.negf %x : f32
    scf.yield %b : f32
  }
  default {
    scf.yield %x : f32
  }
  func.return %e, %s : f32, f32
}
"""
    fn = load_mlir(text).f
    for k, want in [(2, np.exp(np.float32(1.5))), (5, -1.5), (0, 1.5), (7, 1.5)]:
        e, s = fn(k, 1.5)
        assert float(e) == 3.0
        assert_close(s, want, np.float32)


# ----------------------------------------------------------------- passes keep values


PASS_INPUT = """
func.func @f(%x: f32, %n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f32
  %r = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %zero) -> (f32) {
    %inv = arith.mulf %x, %x : f32
    %again = arith.mulf %x, %x : f32
    %s = arith.addf %inv, %again : f32
    %t = arith.addf %acc, %s : f32
    scf.yield %t : f32
  }
  %c = arith.cmpf ogt, %x, %zero : f32
  %q = scf.if %c -> (f32) {
    %e = math.exp %x : f32
    scf.yield %e : f32
  } else {
    scf.yield %x : f32
  }
  %u = arith.addf %r, %q : f32
  %dead = math.sin %x : f32
  func.return %u : f32
}
"""


@pytest.mark.parametrize("name", ["canonicalize", "cse", "dce", "licm", "scf-for-loop-unroll", "control-flow-hoist"])
def test_each_registered_pass_keeps_the_values(name, tmp_path, capsys):
    src = tmp_path / "in.mlir"
    src.write_text(PASS_INPUT)
    assert opt_main([str(src), "-p", name]) == 0
    after = capsys.readouterr().out
    before_fn, after_fn = load_mlir(PASS_INPUT).f, load_mlir(after).f
    for x in (-1.25, 0.5, 2.0):
        assert_close(after_fn(x, 0), np.asarray(before_fn(x, 0)), np.float32)


# ----------------------------------------------------------------- zymase-opt --run errors


@pytest.fixture
def square_file(tmp_path):
    path = tmp_path / "square.mlir"
    path.write_text(SQUARE)
    return path


def _opt(argv, capsys) -> tuple[int, str, str]:
    code = opt_main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_run_prints_results(square_file, capsys):
    code, out, err = _opt([square_file, "--run", "square", "--args", "3", "-2.5"], capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == [repr(np.asarray(np.float32(9.0))), repr(np.asarray(np.float32(6.25)))]


@pytest.mark.parametrize("args,message", [
    (["1"], "square.mlir:2:1: error: @square takes 2 arguments, got 1"),
    (["1", "2", "3"], "square.mlir:2:1: error: @square takes 2 arguments, got 3"),
    (["1", "two"], "zymase-opt: error: argument 1: 'two' is not a value of type f32"),
    (["1", "missing.npy"], "zymase-opt: error: argument 1: cannot read 'missing.npy': No such file or directory"),
])
def test_run_with_bad_args_gives_one_line(square_file, capsys, args, message):
    code, out, err = _opt([square_file, "--run", "square", "--args", *args], capsys)
    assert code == 1 and out == ""
    assert err.endswith(message + "\n")
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_run_with_npy_of_wrong_shape(square_file, tmp_path, capsys):
    arr = tmp_path / "v.npy"
    np.save(arr, np.ones(3, np.float32))
    code, out, err = _opt([square_file, "--run", "cube", "--args", arr], capsys)
    assert code == 1 and len(err.splitlines()) == 1
    assert "argument 0 of @cube has type f32, got an array of shape (3,)" in err


def test_run_unknown_function(square_file, capsys):
    code, out, err = _opt([square_file, "--run", "nope"], capsys)
    assert code == 1 and err == "zymase-opt: error: no function @nope in the module (it has: square, cube, twice)\n"


def test_run_does_not_leak_x64(square_file, capsys):
    before = jax.config.jax_enable_x64
    _opt([square_file, "--run", "cube", "--args", "2"], capsys)
    assert jax.config.jax_enable_x64 == before


@pytest.mark.parametrize("text,argv,message", [
    ("func.func @f(%x: f32) -> f32 {\n  %y = arith.mulf %x, %x : f64\n  func.return %y : f32\n}\n", [], "in.mlir:2:19: error: "),
    ('func.func @f(%x: f32) -> f32 {\n  %y = "arith.mulf"(%x, %x) : (f32, f32) -> i32\n  func.return %x : f32\n}\n', [], "in.mlir:2:3: error: 'arith.mulf' op "),
    (SQUARE, ["-p", "cse,frobnicate"], "zymase-opt: error: unknown pass 'frobnicate'"),
])
def test_opt_errors_exit_1_with_one_line(tmp_path, text, argv, message):
    import subprocess
    import sys

    src = tmp_path / "in.mlir"
    src.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "zymase.tools.opt", str(src), *argv], capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr
    assert message in proc.stderr


def test_dynamic_dimension_takes_any_size() -> None:
    """A `?` dimension (xDSL's dynamic index) takes an array of any size; the rank still counts."""
    m = load_mlir(
        """func.func @f(%x: tensor<?xf32>) -> tensor<?xf32> {
  %y = stablehlo.add %x, %x : tensor<?xf32>
  func.return %y : tensor<?xf32>
}"""
    )
    np.testing.assert_array_equal(np.asarray(m.f(np.arange(3, dtype=np.float32))), [0.0, 2.0, 4.0])
    with pytest.raises(MlirError, match="got an array of shape"):
        m.f(np.ones((3, 2), np.float32))
