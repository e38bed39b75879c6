"""Round trips of the StableHLO / chlo dialects between JAX (jaxlib's MLIR) and zymase.

Every op class of the dialects appears in at least one case (``test_every_op_is_covered``).
A case is a JAX function (lowered with ``jax.jit(f).lower(...)``) or, for ops JAX does not
emit on a single CPU, hand-written generic MLIR that jaxlib parses and verifies. For each
case:

(a) ``import_module`` of jaxlib's module gives a module that verifies;
(b) zymase's generic printing is accepted by jaxlib's parser and reparses to JAX's module
    (both printed generically by jaxlib, without locations);
(c) ``parse_module`` of jaxlib's generic text gives the same IR as the importer;
(d) print -> parse -> print is a fixpoint.

Shardy (``sdy``) policy, tested below: the importer drops discardable ``sdy.*`` attributes
of ops (sharding rules of FFI calls, sharding of callbacks); everything else sdy JAX puts
in single-device programs (the ``sdy.mesh`` op, ``#sdy.sharding`` in argument attributes)
is kept opaque and printed back verbatim. So (b) and (c) compare against JAX's module with
the discardable ``sdy.*`` attributes of ops removed, and ``parse_module`` keeps them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import jax
import jax.numpy as jnp
import jaxlib.mlir.ir as jir
import numpy as np
import pytest
from jax import lax
from jax._src.interpreters import mlir as jm

from zymase.frontend.importer import import_module
from zymase.ir import chlo, parse_module, print_module, stablehlo
from zymase.ir.attributes import SdyOpShardingRuleAttr, SdyShardingPerValueAttr

@pytest.fixture(autouse=True, scope="module")
def _x64():
    """float64 for this module only (a global switch would leak into other test modules)."""
    with jax.enable_x64(True):
        yield



@dataclass
class Case:
    name: str
    fn: Callable[..., Any] | None = None
    args: tuple = ()
    text: str | None = None  # hand-written generic MLIR instead of a JAX function
    tags: dict = field(default_factory=dict)


F32 = np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(3, 4)
I32 = np.arange(12, dtype=np.int32).reshape(3, 4)
C64 = (np.arange(3) + 1j * np.arange(3)).astype(np.complex64)
SPD = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]], np.float32)
IMG = np.ones((1, 3, 8, 8), np.float32)
KER = np.ones((4, 3, 3, 3), np.float32)
IDX = np.array([0, 2, 1])
ALL_DTYPES = [jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64, jnp.bool_, jnp.int8, jnp.int32, jnp.int64, jnp.uint8, jnp.uint32, jnp.uint64]

JAX_CASES = [
    Case("unary", lambda x: [jnp.abs(x), -x, jnp.sign(x), jnp.floor(x), jnp.ceil(x), jnp.round(x), lax.round(x), jnp.exp(x), jnp.expm1(x), jnp.log(x), jnp.log1p(x), jax.nn.sigmoid(x), jnp.sqrt(x), lax.rsqrt(x), jnp.cbrt(x), jnp.sin(x), jnp.cos(x), jnp.tan(x), jnp.tanh(x), jnp.isfinite(x), jnp.square(x)], (F32,)),
    Case("chlo", lambda x: [lax.erf(x), lax.erfc(x), lax.erf_inv(x), lax.lgamma(x), lax.digamma(x), jnp.sinh(x), jnp.cosh(x), jnp.arcsin(x), jnp.arccos(x), jnp.arctan(x), jnp.arcsinh(x), jnp.arccosh(x), jnp.arctanh(x), lax.bessel_i1e(x), jnp.nextafter(x, x), lax.polygamma(x, x), lax.zeta(x, x), lax.top_k(x, 2)], (F32,)),
    Case("binary", lambda x, y: [x + y, x - y, x * y, x / y, jnp.maximum(x, y), jnp.minimum(x, y), x**y, x % y, jnp.arctan2(x, y), lax.complex(x, y), lax.clamp(np.float32(0), x, np.float32(1)), jnp.where(x > y, x, y), lax.reduce_precision(x, 5, 10)], (F32, F32)),
    Case("integer", lambda x, y: [x & y, x | y, x ^ y, ~x, x << y, x >> y, lax.shift_right_logical(x, y), lax.population_count(x), lax.clz(x), lax.mulhi(x, y), lax.bitcast_convert_type(x, np.float32), lax.bitcast_convert_type(x, np.int8), x.astype(np.uint32) < y.astype(np.uint32), jnp.clip(x, 0, 2)], (I32, I32)),
    Case("complex", lambda z: [jnp.real(z), jnp.imag(z), z * z, jnp.exp(z), jnp.abs(z)], (C64,)),
    Case("conj", lambda a, b: lax.linalg.triangular_solve(a, b, left_side=True, lower=True, conjugate_a=True), (np.eye(3, dtype=np.complex64), np.ones((3, 3), np.complex64))),
    Case("dtypes", lambda: [jnp.array([1, 2, 3], d) for d in ALL_DTYPES] + [jnp.full((2,), 7, d) for d in ALL_DTYPES]),
    Case("dtypes_large", lambda: [jnp.array(np.arange(20) % 3, d) for d in ALL_DTYPES]),
    Case("convert", lambda x: [x.astype(d) for d in [*ALL_DTYPES, jnp.complex64]], (F32,)),
    Case("specials", lambda: [jnp.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45], d) for d in [jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64]] + [jnp.full((3,), v, d) for v in (np.nan, np.inf, -np.inf) for d in [jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64]]),
    Case("specials_large", lambda: [jnp.array(np.array([np.nan, np.inf, -np.inf, 0.5] * 6), d) for d in [jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64]]),
    Case("empty", lambda x: [x[:0], jnp.zeros((0, 3)), jnp.zeros((2, 0), np.int32), x[:, :0].sum(1)], (F32,)),
    Case("shape", lambda x: [x.reshape(4, 3), x.T, x[1:3, ::2], jnp.broadcast_to(x, (2, 3, 4)), jnp.concatenate([x, x], 1), lax.pad(x, np.float32(0), [(1, 2, 1), (0, 1, 0)]), x[::-1], lax.iota(np.int32, 5), lax.dynamic_slice(x, (1, 1), (2, 2)), lax.dynamic_update_slice(x, x[:1], (1, 0))], (F32,)),
    Case("dot", lambda x, y: [x @ y.T, lax.dot_general(x[None], y[None], (((2,), (2,)), ((0,), (0,)))), lax.dot(x, y.T, precision=lax.Precision.HIGHEST)], (F32, F32)),
    Case("dot_algorithm", lambda x, y: lax.dot(x, y.T, precision=lax.DotAlgorithmPreset.F32_F32_F32), (F32, F32)),
    Case("conv", lambda x, k: [lax.conv_general_dilated(x, k, (1, 1), "SAME"), lax.conv_general_dilated(x, k, (2, 1), [(1, 1), (0, 2)], lhs_dilation=(1, 2), rhs_dilation=(2, 1)), lax.conv_general_dilated(x.transpose(0, 2, 3, 1), k.transpose(2, 3, 1, 0), (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))], (IMG, KER)),
    Case("conv_grad", jax.grad(lambda x, k: lax.conv_general_dilated(x, k, (2, 2), "SAME", feature_group_count=3).sum(), argnums=(0, 1)), (IMG, np.ones((3, 1, 3, 3), np.float32))),
    Case("reduce", lambda x: [x.sum(0), x.max(1), x.min(), jnp.argmax(x, 0), jnp.any(x > 0)], (F32,)),
    Case("reduce_window", lambda x: [lax.reduce_window(x, np.float32(0), lax.add, (2, 2), (1, 1), "SAME"), lax.reduce_window(x, -np.float32(np.inf), lax.max, (2, 2), (2, 1), "VALID", base_dilation=(1, 2), window_dilation=(2, 1))], (F32,)),
    Case("select_and_scatter", jax.grad(lambda x: lax.reduce_window(x, -jnp.inf, lax.max, (2, 2), (1, 2), "VALID").sum()), (F32,)),
    Case("gather", lambda x, i: [x[i], x[:, i], x[i, i]], (F32, IDX)),
    Case("gather_batching", jax.vmap(lambda x, i: x[i]), (F32, IDX)),
    Case("scatter", lambda x, i: [x.at[i].add(1.0), x.at[:, i].max(1.0), x.at[i].mul(2.0, unique_indices=True, indices_are_sorted=True)], (F32, IDX)),
    Case("scatter_batching", jax.vmap(lambda x, i: x.at[i].add(1.0)), (F32, IDX)),
    Case("sort", lambda x: [jnp.sort(x), jnp.argsort(x, axis=0), lax.sort((x, x), num_keys=1, is_stable=True)], (F32,)),
    Case("control_flow", lambda x: [lax.fori_loop(0, 3, lambda i, c: c * 2, x), lax.cond(x.sum() > 0, lambda: x, lambda: -x), lax.switch(1, [lambda: x, lambda: x + 1, lambda: x * 2])], (F32,)),
    Case("optimization_barrier", lambda x: lax.optimization_barrier((x, x + 1)), (F32,)),
    Case("rng_bit_generator", lambda k: [lax.rng_bit_generator(k, (4,), algorithm=lax.RandomAlgorithm.RNG_THREE_FRY), lax.rng_bit_generator(k, (4,), algorithm=lax.RandomAlgorithm.RNG_PHILOX)], (np.ones((2,), np.uint64),)),
    Case("rng", lambda: lax.rng_uniform(np.float32(0), np.float32(1), (3,))),
    Case("fft", lambda z: [jnp.fft.fft(z), jnp.fft.ifft(z), jnp.fft.rfft(z.real), jnp.fft.irfft(z)], (C64,)),
    Case("custom_call_ffi", lambda a: [jnp.linalg.cholesky(a), lax.linalg.triangular_solve(a, a, left_side=True, lower=True)], (SPD,)),
    Case("callback", lambda x: (jax.debug.print("x={}", x), jax.pure_callback(lambda a: a, jax.ShapeDtypeStruct(x.shape, x.dtype), x))[1], (F32,)),
    Case("composite", lambda x: lax.composite(lambda x, scale: jnp.sin(x) * scale, name="my.scaled_sin")(x, scale=2.0), (F32,)),
    Case("result_accuracy", lambda x: [lax.exp(x, accuracy=lax.Tolerance(atol=1e-3, rtol=0.5, ulps=2)), lax.tanh(x, accuracy=lax.AccuracyMode.HIGHEST)], (F32,)),
    Case("collectives", jax.pmap(lambda x: [lax.psum(x, "i"), lax.all_gather(x, "i"), lax.axis_index("i"), lax.ppermute(x, "i", [(0, 0)]), lax.psum_scatter(x, "i", tiled=True)], axis_name="i"), (np.ones((1, 4), np.float32),)),
]


def _module(body: str, args: str, results: str) -> str:
    return (
        '"builtin.module"() ({\n'
        f'  "func.func"() <{{function_type = ({args}) -> ({results}), sym_name = "main"}}> ({{\n'
        f"{body}"
        "  }) : () -> ()\n"
        "}) : () -> ()\n"
    )


HAND_CASES = [
    Case("tuple", text=_module(
        """  ^bb0(%a: tensor<f32>, %b: tensor<2xi32>):
    %t = "stablehlo.tuple"(%a, %b) : (tensor<f32>, tensor<2xi32>) -> tuple<tensor<f32>, tensor<2xi32>>
    %e = "stablehlo.get_tuple_element"(%t) <{index = 1 : i32}> : (tuple<tensor<f32>, tensor<2xi32>>) -> tensor<2xi32>
    "func.return"(%e) : (tensor<2xi32>) -> ()
""", "tensor<f32>, tensor<2xi32>", "tensor<2xi32>")),
    Case("if_logistic", text=_module(
        """  ^bb0(%p: tensor<i1>, %x: tensor<3xf32>):
    %r = "stablehlo.if"(%p) ({
      %l = "stablehlo.logistic"(%x) : (tensor<3xf32>) -> tensor<3xf32>
      "stablehlo.return"(%l) : (tensor<3xf32>) -> ()
    }, {
      "stablehlo.return"(%x) : (tensor<3xf32>) -> ()
    }) : (tensor<i1>) -> tensor<3xf32>
    "func.return"(%r) : (tensor<3xf32>) -> ()
""", "tensor<i1>, tensor<3xf32>", "tensor<3xf32>")),
    Case("linalg", text=_module(
        """  ^bb0(%a: tensor<3x3xf32>, %b: tensor<3x2xf32>):
    %l = "stablehlo.cholesky"(%a) <{lower = true}> : (tensor<3x3xf32>) -> tensor<3x3xf32>
    %x = "stablehlo.triangular_solve"(%l, %b) <{left_side = true, lower = true, transpose_a = #stablehlo<transpose ADJOINT>, unit_diagonal = false}> : (tensor<3x3xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
    "func.return"(%x) : (tensor<3x2xf32>) -> ()
""", "tensor<3x3xf32>, tensor<3x2xf32>", "tensor<3x2xf32>")),
    Case("chlo_predicates", text=_module(
        """  ^bb0(%x: tensor<4xf64>):
    %0 = "chlo.is_inf"(%x) : (tensor<4xf64>) -> tensor<4xi1>
    %1 = "chlo.is_neg_inf"(%x) : (tensor<4xf64>) -> tensor<4xi1>
    %2 = "chlo.is_pos_inf"(%x) : (tensor<4xf64>) -> tensor<4xi1>
    %3 = "chlo.tan"(%x) : (tensor<4xf64>) -> tensor<4xf64>
    "func.return"(%0, %1, %2, %3) : (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xf64>) -> ()
""", "tensor<4xf64>", "tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xf64>")),
    Case("collectives_more", text=_module(
        """  ^bb0(%x: tensor<2x4xf32>):
    %r = "stablehlo.replica_id"() : () -> tensor<ui32>
    %a = "stablehlo.all_to_all"(%x) <{concat_dimension = 1 : i64, replica_groups = dense<[[0]]> : tensor<1x1xi64>, split_count = 1 : i64, split_dimension = 0 : i64}> : (tensor<2x4xf32>) -> tensor<2x4xf32>
    %b = "stablehlo.collective_broadcast"(%a) <{channel_handle = #stablehlo.channel_handle<handle = 2, type = 1>, replica_groups = dense<[[0]]> : tensor<1x1xi64>}> : (tensor<2x4xf32>) -> tensor<2x4xf32>
    %t0 = "stablehlo.create_token"() : () -> !stablehlo.token
    %t1 = "stablehlo.after_all"(%t0, %t0) : (!stablehlo.token, !stablehlo.token) -> !stablehlo.token
    %n = "stablehlo.get_dimension_size"(%x) <{dimension = 1 : i64}> : (tensor<2x4xf32>) -> tensor<i32>
    "func.return"(%r, %b, %t1, %n) : (tensor<ui32>, tensor<2x4xf32>, !stablehlo.token, tensor<i32>) -> ()
""", "tensor<2x4xf32>", "tensor<ui32>, tensor<2x4xf32>, !stablehlo.token, tensor<i32>")),
    Case("custom_call_attributes", text=_module(
        """  ^bb0(%x: tensor<4xf32>):
    %0:2 = "stablehlo.custom_call"(%x) <{api_version = 4 : i32, backend_config = {alpha = 1.500000e+00 : f32, name = "k", flags = [1, 2]}, call_target_name = "my_kernel", has_side_effect = true, operand_layouts = [dense<0> : tensor<1xindex>], output_operand_aliases = [#stablehlo.output_operand_alias<output_tuple_indices = [0], operand_index = 0, operand_tuple_indices = []>], result_layouts = [dense<0> : tensor<1xindex>, dense<> : tensor<0xindex>]}> {mhlo.frontend_attributes = {num_batch_dims = "0"}, mhlo.sharding = "{replicated}", zymase.note = "kept"} : (tensor<4xf32>) -> (tensor<4xf32>, tensor<i32>)
    %1 = "stablehlo.custom_call"(%x) <{backend_config = "opaque bytes", call_target_name = "legacy", called_computations = [@main]}> {mhlo.backend_config = {index = 3 : ui64, scale = 2.000000e+00 : f64}} : (tensor<4xf32>) -> tensor<4xf32>
    "func.return"(%0#0, %1) : (tensor<4xf32>, tensor<4xf32>) -> ()
""", "tensor<4xf32>", "tensor<4xf32>, tensor<4xf32>")),
]

CASES = JAX_CASES + HAND_CASES

_OP_RE = re.compile(r'"((?:stablehlo|chlo|sdy)\.[a-z_0-9]+)"\(')


def _jax_generic(module: jir.Module) -> str:
    return module.operation.get_asm(print_generic_op_form=True, enable_debug_info=False)


def _strip_sdy_discardable(module: jir.Module) -> list[str]:
    """Remove discardable sdy.* attributes of ops (what the importer drops); return their names."""
    dropped: list[str] = []

    def walk(op: jir.Operation) -> None:
        for name in list(op.attributes):
            if name.startswith("sdy."):
                dropped.append(name)
                del op.attributes[name]
        for region in op.regions:
            for block in region.blocks:
                for inner in block.operations:
                    walk(inner.operation)

    walk(module.operation)
    return dropped


@dataclass
class Prepared:
    jax_text: str  # JAX's module, sdy discardables removed, generic, without locations
    jax_text_with_sdy: str
    dropped_sdy: list[str]
    imported: Any


@functools.cache
def prepared(name: str) -> Prepared:
    case = next(c for c in CASES if c.name == name)
    if case.text is not None:
        ctx = jm.make_ir_context()
        with ctx:
            module = jir.Module.parse(case.text)
            assert module.operation.verify()
    else:
        module = jax.jit(case.fn).lower(*case.args).compiler_ir("stablehlo")
    with module.context:
        with_sdy = _jax_generic(module)
        dropped = _strip_sdy_discardable(module)
        text = _jax_generic(module)
        imported = import_module(module)
    return Prepared(text, with_sdy, dropped, imported)


def _clear_name_hints(module) -> None:
    for op in module.walk():
        for value in op.results:
            value.name_hint = None
        for region in op.regions:
            for block in region.blocks:
                for arg in block.args:
                    arg.name_hint = None


def _jaxlib_reparse(text: str) -> str:
    with jm.make_ir_context():
        module = jir.Module.parse(text)
        assert module.operation.verify()
        return _jax_generic(module)


CASE_NAMES = [c.name for c in CASES]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_import_verifies(name: str) -> None:
    prepared(name).imported.verify()


@pytest.mark.parametrize("name", CASE_NAMES)
def test_print_reparses_in_jaxlib_to_the_original(name: str) -> None:
    p = prepared(name)
    assert _jaxlib_reparse(print_module(p.imported)) == p.jax_text


@pytest.mark.parametrize("name", CASE_NAMES)
def test_parse_matches_import(name: str) -> None:
    p = prepared(name)
    parsed = parse_module(p.jax_text)
    parsed.verify()
    _clear_name_hints(parsed)
    assert print_module(parsed) == print_module(p.imported)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_print_parse_fixpoint(name: str) -> None:
    text = print_module(prepared(name).imported)
    assert print_module(parse_module(text)) == text


def _ops_in(text: str) -> set[str]:
    return set(_OP_RE.findall(text))


def test_every_op_is_covered() -> None:
    seen: set[str] = set()
    for name in CASE_NAMES:
        p = prepared(name)
        seen |= _ops_in(p.jax_text)
        seen |= {op.name for op in p.imported.walk()}
    defined = {op.name for op in (*stablehlo.STABLEHLO_OPS, *chlo.CHLO_OPS, *stablehlo.SDY_OPS)}
    assert not defined - seen, f"op classes without a round-trip case: {sorted(defined - seen)}"


def test_every_dtype_is_covered() -> None:
    text = "\n".join(prepared(name).jax_text for name in CASE_NAMES)
    for element in ["f16", "bf16", "f32", "f64", "i1", "i8", "i32", "i64", "ui8", "ui32", "ui64", "complex<f32>"]:
        assert re.search(rf"tensor<(?:\d+x)*{re.escape(element)}>", text), element


def _constant_values(module) -> list:
    return [op.value for op in module.walk() if isinstance(op, stablehlo.ConstantOp)]


def test_special_float_constants_keep_their_bits() -> None:
    from zymase.ir.dense import dense_to_numpy

    for name in ("specials", "specials_large"):
        p = prepared(name)
        assert "0x7FC00000" in p.jax_text and "0xFF800000" in p.jax_text  # MLIR's hex float literals
        arrays = [dense_to_numpy(v) for v in _constant_values(p.imported)]
        floats = [a.astype(np.float64) for a in arrays if a.dtype.kind == "f" or a.dtype.name == "bfloat16"]
        assert any(np.isnan(a).any() for a in floats)
        assert any((a == np.inf).any() for a in floats) and any((a == -np.inf).any() for a in floats)
    large = [v for v in _constant_values(prepared("specials_large").imported) if v.type.element_count() > 16]
    assert len(large) == 4  # > 16 elements: the importer's numpy path, for f16, bf16, f32, f64
    for v in large:
        a = dense_to_numpy(v).astype(np.float64)
        assert np.isnan(a[0::4]).all() and (a[1::4] == np.inf).all() and (a[2::4] == -np.inf).all() and (a[3::4] == 0.5).all()


def test_large_integer_and_bool_constants() -> None:
    from zymase.ir.dense import dense_to_numpy

    values = [dense_to_numpy(v) for v in _constant_values(prepared("dtypes_large").imported)]
    assert len(values) == len(ALL_DTYPES)
    for a in values:
        assert a.shape == (20,)
        np.testing.assert_array_equal(a.astype(np.float64), np.arange(20) % 3 if a.dtype != np.bool_ else (np.arange(20) % 3) != 0)


def test_structured_attributes_are_typed() -> None:
    ops = {type(op): op for name in ("dot", "gather_batching", "scatter_batching", "conv", "custom_call_ffi", "dot_algorithm", "result_accuracy") for op in prepared(name).imported.walk()}
    dot = next(op for name in ("dot",) for op in prepared(name).imported.walk() if isinstance(op, stablehlo.DotGeneralOp) and op.dot_dimension_numbers.lhs_batching_dimensions)
    assert dot.dot_dimension_numbers.lhs_batching_dimensions == (0,) and dot.dot_dimension_numbers.rhs_contracting_dimensions == (2,)
    assert ops[stablehlo.GatherOp].dimension_numbers.operand_batching_dims == (0,)
    assert ops[stablehlo.ScatterOp].scatter_dimension_numbers.input_batching_dims == (0,)
    alg = ops[stablehlo.DotGeneralOp].algorithm
    assert alg is not None and alg.num_primitive_operations == 1 and alg.allow_imprecise_accumulation is False
    exp = ops[stablehlo.ExponentialOp].result_accuracy
    assert (exp.atol, exp.rtol, exp.ulps, exp.mode.data.value) == (1e-3, 0.5, 2, "TOLERANCE")
    convs = [op.dimension_numbers for op in prepared("conv").imported.walk() if isinstance(op, stablehlo.ConvolutionOp)]
    nhwc = convs[-1]
    assert (nhwc.input_batch_dimension, nhwc.input_feature_dimension, nhwc.input_spatial_dimensions) == (0, 3, (1, 2))
    assert (nhwc.kernel_input_feature_dimension, nhwc.kernel_output_feature_dimension, nhwc.kernel_spatial_dimensions) == (2, 3, (0, 1))
    dilated = [op for op in prepared("conv").imported.walk() if isinstance(op, stablehlo.ConvolutionOp)][1]
    assert dilated.lhs_dilation.get_values() == (1, 2) and dilated.rhs_dilation.get_values() == (2, 1)
    aliases = [op.output_operand_aliases for op in prepared("custom_call_ffi").imported.walk() if isinstance(op, stablehlo.CustomCallOp)]
    assert any(a is not None and a.data[0].operand_index == 0 for a in aliases)


def test_custom_call_discardable_attributes_survive() -> None:
    p = prepared("custom_call_attributes")
    calls = [op for op in p.imported.walk() if isinstance(op, stablehlo.CustomCallOp)]
    assert calls[0].attributes["zymase.note"].data == "kept"
    assert set(calls[0].attributes) == {"mhlo.frontend_attributes", "mhlo.sharding", "zymase.note"}
    assert calls[0].backend_config.data["name"].data == "k"
    assert calls[1].attributes["mhlo.backend_config"].data["index"].value.data == 3
    assert calls[1].backend_config.data == "opaque bytes"


def test_sdy_policy() -> None:
    """The importer drops discardable sdy.* attributes; the parser keeps them opaque and
    they print back verbatim, so jaxlib reparses them to what JAX produced."""
    ffi = prepared("custom_call_ffi")
    assert "sdy.sharding_rule" in ffi.dropped_sdy
    assert "sdy.sharding_rule" not in print_module(ffi.imported)
    parsed = parse_module(ffi.jax_text_with_sdy)
    rules = [op.attributes["sdy.sharding_rule"] for op in parsed.walk() if "sdy.sharding_rule" in op.attributes]
    assert rules and all(isinstance(r, SdyOpShardingRuleAttr) for r in rules)
    text = print_module(parsed)
    assert _jaxlib_reparse(text) == ffi.jax_text_with_sdy

    callback = prepared("callback")
    assert "sdy.sharding" in callback.dropped_sdy
    assert [op.name for op in callback.imported.ops][0] == "sdy.mesh"  # the mesh op is kept
    parsed = parse_module(callback.jax_text_with_sdy)
    assert any(isinstance(op.attributes.get("sdy.sharding"), SdyShardingPerValueAttr) for op in parsed.walk())
    assert _jaxlib_reparse(print_module(parsed)) == callback.jax_text_with_sdy


def test_complex_constants_round_trip_as_text() -> None:
    """jaxlib 0.10 cannot hand complex dense attributes to Python (its attribute cast
    raises), so complex constants are checked on the text path."""
    module = jax.jit(lambda: [jnp.array([1 + 2j, 3 - 4j, 0.5, 1j], np.complex64), jnp.array(np.arange(20) * (1 - 1j), np.complex64)]).lower().compiler_ir("stablehlo")
    text = _jax_generic(module)
    parsed = parse_module(text)
    parsed.verify()
    values = _constant_values(parsed)
    assert [v.type.element_count() for v in values] == [4, 20]
    printed = print_module(parsed)
    assert _jaxlib_reparse(printed) == text
    assert print_module(parse_module(printed)) == printed
