"""lax emitters for the StableHLO and chlo dialects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from xdsl.dialects.builtin import ArrayAttr, DenseArrayBase, DenseIntOrFPElementsAttr, IntegerAttr, StringAttr, TensorType
from xdsl.ir import Attribute, Operation, SSAValue

from ..ir import chlo
from ..ir import stablehlo as hlo
from ..ir.attributes import ComparisonDirection, ComparisonType, Precision, Transpose
from ..ir.dense import dense_to_numpy, element_dtype, is_compact_splat, splat_element
from ..ir.query import padding_pairs, shape
from .emitter import EMITTERS, FunctionBuilder, OpFn, emit_error, emits, emits_table


def ints(attr: DenseArrayBase | None) -> tuple[int, ...] | None:
    return None if attr is None else tuple(int(v) for v in attr.get_values())


def dtype(v: SSAValue | Attribute) -> np.dtype:
    t = v.type if isinstance(v, SSAValue) else v
    assert isinstance(t, TensorType)
    return element_dtype(t.get_element_type())


def result_dtype(op: Operation, i: int = 0) -> np.dtype:
    return dtype(op.results[i])


# ----------------------------------------------------------------- elementwise

_UNARY: dict[type[Operation], Any] = {
    hlo.AbsOp: lax.abs,
    hlo.NegateOp: lax.neg,
    hlo.SignOp: lax.sign,
    hlo.FloorOp: lax.floor,
    hlo.CeilOp: lax.ceil,
    hlo.RoundNearestEvenOp: lambda x: lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN),
    hlo.RoundNearestAfzOp: lambda x: lax.round(x, lax.RoundingMethod.AWAY_FROM_ZERO),
    hlo.ExponentialOp: lax.exp,
    hlo.ExponentialMinusOneOp: lax.expm1,
    hlo.LogOp: lax.log,
    hlo.LogPlusOneOp: lax.log1p,
    hlo.LogisticOp: lax.logistic,
    hlo.SqrtOp: lax.sqrt,
    hlo.RsqrtOp: lax.rsqrt,
    hlo.CbrtOp: lax.cbrt,
    hlo.SineOp: lax.sin,
    hlo.CosineOp: lax.cos,
    hlo.TanOp: lax.tan,
    hlo.TanhOp: lax.tanh,
    hlo.NotOp: lax.bitwise_not,
    hlo.PopcntOp: lax.population_count,
    hlo.CountLeadingZerosOp: lax.clz,
    hlo.IsFiniteOp: lax.is_finite,
    hlo.RealOp: lambda x: lax.real(x) if jnp.iscomplexobj(x) else x,  # StableHLO: real of a real tensor is itself
    hlo.ImagOp: lambda x: lax.imag(x) if jnp.iscomplexobj(x) else jnp.zeros_like(x),  # ... and its imaginary part 0
    chlo.ErfOp: lax.erf,
    chlo.ErfcOp: lax.erfc,
    chlo.ErfInvOp: lax.erf_inv,
    chlo.LgammaOp: lax.lgamma,
    chlo.DigammaOp: lax.digamma,
    chlo.SinhOp: lax.sinh,
    chlo.CoshOp: lax.cosh,
    chlo.AsinOp: lax.asin,
    chlo.AcosOp: lax.acos,
    chlo.AtanOp: lax.atan,
    chlo.AsinhOp: lax.asinh,
    chlo.AcoshOp: lax.acosh,
    chlo.AtanhOp: lax.atanh,
    chlo.BesselI1eOp: lax.bessel_i1e,
    chlo.IsInfOp: lambda x: jnp.isinf(x),
    chlo.IsNegInfOp: lambda x: jnp.isneginf(x),
    chlo.IsPosInfOp: lambda x: jnp.isposinf(x),
    chlo.SquareOp: lax.square,
    chlo.ConjOp: lambda x: lax.conj(x) if jnp.iscomplexobj(x) else x,  # the conjugate of a real tensor is itself (lax.conj would make it complex)
    chlo.TanOp: lax.tan,
}

_BINARY: dict[type[Operation], Any] = {
    hlo.AddOp: lax.add,
    hlo.SubtractOp: lax.sub,
    hlo.MultiplyOp: lax.mul,
    hlo.DivideOp: lax.div,
    hlo.MaximumOp: lax.max,
    hlo.MinimumOp: lax.min,
    hlo.PowerOp: lax.pow,
    hlo.RemainderOp: lax.rem,
    hlo.Atan2Op: lax.atan2,
    hlo.AndOp: lax.bitwise_and,
    hlo.OrOp: lax.bitwise_or,
    hlo.XorOp: lax.bitwise_xor,
    hlo.ShiftLeftOp: lax.shift_left,
    hlo.ShiftRightArithmeticOp: lax.shift_right_arithmetic,
    hlo.ShiftRightLogicalOp: lax.shift_right_logical,
    hlo.ComplexOp: lax.complex,
    chlo.NextAfterOp: lax.nextafter,
    chlo.PolygammaOp: lax.polygamma,
    chlo.ZetaOp: lax.zeta,
    chlo.MulhiOp: lax.mulhi,
}


emits_table(_UNARY)
emits_table(_BINARY)


@emits(hlo.ConvertOp)
def _convert(b: FunctionBuilder, op: hlo.ConvertOp) -> OpFn:
    to = result_dtype(op)
    return lambda x: lax.convert_element_type(x, to)


@emits(hlo.BitcastConvertOp)
def _bitcast_convert(b: FunctionBuilder, op: hlo.BitcastConvertOp) -> OpFn:
    to = result_dtype(op)
    return lambda x: lax.bitcast_convert_type(x, to)


def _total_order_key(x: Any) -> Any:
    """Map floats to signed integers whose order is the IEEE total order."""
    bits = {2: jnp.int16, 4: jnp.int32, 8: jnp.int64}[np.dtype(x.dtype).itemsize]
    i = lax.bitcast_convert_type(x, bits)
    maxint = jnp.array(np.iinfo(bits).max, dtype=bits)
    return lax.select(i < 0, lax.bitwise_xor(i, maxint), i)


_COMPARE = {
    ComparisonDirection.EQ: lax.eq,
    ComparisonDirection.NE: lax.ne,
    ComparisonDirection.LT: lax.lt,
    ComparisonDirection.LE: lax.le,
    ComparisonDirection.GT: lax.gt,
    ComparisonDirection.GE: lax.ge,
}


@emits(hlo.CompareOp)
def _compare(b: FunctionBuilder, op: hlo.CompareOp) -> OpFn:
    fn = _COMPARE[op.comparison_direction.data]
    kind = op.compare_type.data if op.compare_type is not None else None
    if kind == ComparisonType.TOTALORDER and np.issubdtype(dtype(op.lhs), np.floating):
        return lambda x, y: fn(_total_order_key(x), _total_order_key(y))
    return fn


@emits(hlo.SelectOp)
def _select(b: FunctionBuilder, op: hlo.SelectOp) -> OpFn:
    if shape(op.pred) == () and shape(op.on_true) != ():
        return lambda p, t, f: lax.select(jnp.broadcast_to(p, t.shape), t, f)
    return lax.select


@emits(hlo.ClampOp)
def _clamp(b: FunctionBuilder, op: hlo.ClampOp) -> OpFn:
    return lax.clamp


# ----------------------------------------------------------------- constants


@emits(hlo.ConstantOp)
def _constant(b: FunctionBuilder, op: hlo.ConstantOp) -> OpFn:
    if is_compact_splat(op.value):  # a splat is filled by XLA, never materialised here
        one, shp = splat_element(op.value), shape(op.output)
        return lambda: lax.full(shp, one, one.dtype)
    value = dense_to_numpy(op.value)
    return lambda: value


@emits(hlo.IotaOp)
def _iota(b: FunctionBuilder, op: hlo.IotaOp) -> OpFn:
    dt, shp, dim = result_dtype(op), shape(op.output), op.iota_dimension.value.data
    return lambda: lax.broadcasted_iota(dt, shp, dim)


# ----------------------------------------------------------------- shapes


@emits(hlo.BroadcastInDimOp)
def _broadcast_in_dim(b: FunctionBuilder, op: hlo.BroadcastInDimOp) -> OpFn:
    shp, dims = shape(op.result), ints(op.broadcast_dimensions)
    return lambda x: lax.broadcast_in_dim(x, shp, dims)


@emits(hlo.ReshapeOp)
def _reshape(b: FunctionBuilder, op: hlo.ReshapeOp) -> OpFn:
    shp = shape(op.result)
    return lambda x: lax.reshape(x, shp)


@emits(hlo.TransposeOp)
def _transpose(b: FunctionBuilder, op: hlo.TransposeOp) -> OpFn:
    perm = ints(op.permutation)
    return lambda x: lax.transpose(x, perm)


@emits(hlo.SliceOp)
def _slice(b: FunctionBuilder, op: hlo.SliceOp) -> OpFn:
    start, limit, strides = ints(op.start_indices), ints(op.limit_indices), ints(op.strides)
    return lambda x: lax.slice(x, start, limit, strides)


@emits(hlo.DynamicSliceOp)
def _dynamic_slice(b: FunctionBuilder, op: hlo.DynamicSliceOp) -> OpFn:
    sizes = ints(op.slice_sizes)
    return lambda x, *idx: lax.dynamic_slice(x, idx, sizes, allow_negative_indices=False)


@emits(hlo.DynamicUpdateSliceOp)
def _dynamic_update_slice(b: FunctionBuilder, op: hlo.DynamicUpdateSliceOp) -> OpFn:
    return lambda x, upd, *idx: lax.dynamic_update_slice(x, upd, idx, allow_negative_indices=False)


@emits(hlo.ConcatenateOp)
def _concatenate(b: FunctionBuilder, op: hlo.ConcatenateOp) -> OpFn:
    dim = op.dimension.value.data
    return lambda *xs: lax.concatenate(xs, dim)


@emits(hlo.PadOp)
def _pad(b: FunctionBuilder, op: hlo.PadOp) -> OpFn:
    config = list(zip(ints(op.edge_padding_low), ints(op.edge_padding_high), ints(op.interior_padding)))
    return lambda x, v: lax.pad(x, v, config)


@emits(hlo.ReverseOp)
def _reverse(b: FunctionBuilder, op: hlo.ReverseOp) -> OpFn:
    dims = ints(op.dimensions)
    return lambda x: lax.rev(x, dims)


# ----------------------------------------------------------------- contractions

_PRECISION = {
    Precision.DEFAULT: lax.Precision.DEFAULT,
    Precision.HIGH: lax.Precision.HIGH,
    Precision.HIGHEST: lax.Precision.HIGHEST,
}


def _precision(op: Operation, config: ArrayAttr | None) -> Any:
    if config is None or not config.data:
        return None
    values = tuple(_PRECISION[p.data] for p in config.data)
    if all(v == lax.Precision.DEFAULT for v in values):
        return None
    return values


@emits(hlo.DotGeneralOp)
def _dot_general(b: FunctionBuilder, op: hlo.DotGeneralOp) -> OpFn:
    dn = op.dot_dimension_numbers
    dims = ((dn.lhs_contracting_dimensions, dn.rhs_contracting_dimensions), (dn.lhs_batching_dimensions, dn.rhs_batching_dimensions))
    if op.algorithm is not None:
        raise emit_error(op, "dot algorithms are not supported")
    prec = _precision(op, op.precision_config)
    out = result_dtype(op)
    same = dtype(op.lhs) == out and dtype(op.rhs) == out
    pref = None if same else out
    return lambda x, y: lax.dot_general(x, y, dims, precision=prec, preferred_element_type=pref)


@emits(hlo.ConvolutionOp)
def _convolution(b: FunctionBuilder, op: hlo.ConvolutionOp) -> OpFn:
    d = op.dimension_numbers
    n = len(d.input_spatial_dimensions)
    strides = ints(op.window_strides) or (1,) * n
    lhs_dil = ints(op.lhs_dilation) or (1,) * n
    rhs_dil = ints(op.rhs_dilation) or (1,) * n
    if op.window_reversal is not None and any(op.window_reversal.get_values()):
        raise emit_error(op, "window_reversal is not supported by lax.conv_general_dilated")
    padding = padding_pairs(op, n)
    dn = lax.ConvDimensionNumbers(
        lhs_spec=(d.input_batch_dimension, d.input_feature_dimension, *d.input_spatial_dimensions),
        rhs_spec=(d.kernel_output_feature_dimension, d.kernel_input_feature_dimension, *d.kernel_spatial_dimensions),
        out_spec=(d.output_batch_dimension, d.output_feature_dimension, *d.output_spatial_dimensions),
    )
    fgc, bgc = op.feature_group_count.value.data, op.batch_group_count.value.data
    prec = _precision(op, op.precision_config)
    out = result_dtype(op)
    pref = None if dtype(op.lhs) == out else out
    return lambda x, w: lax.conv_general_dilated(
        x, w, strides, padding, lhs_dil, rhs_dil, dn, fgc, bgc, precision=prec, preferred_element_type=pref
    )


# ----------------------------------------------------------------- regions


def _scalar_body(b: FunctionBuilder, op: Operation, region) -> Any:
    """A reduction body over scalars (tensor<T>) as a Python function."""
    return b.region(region)


def _identity(kind: Any, dt: np.dtype) -> np.ndarray | None:
    """The identity lax uses for its differentiable monoid reductions (reduce_sum,
    reduce_max, ...), or None."""
    dt = np.dtype(dt)
    floating = np.issubdtype(dt, np.inexact) or dt.kind == "V" or dt.name in ("bfloat16",)
    if kind is hlo.AddOp or kind is hlo.OrOp or kind is hlo.XorOp:
        return np.zeros((), dt)
    if kind is hlo.MultiplyOp:
        return np.ones((), dt)
    if kind is hlo.AndOp:
        if dt == np.bool_:
            return np.array(True)
        return np.array(-1, dt) if dt.kind == "i" else np.array(np.iinfo(dt).max, dt) if dt.kind == "u" else None
    if kind is hlo.MaximumOp or kind is hlo.MinimumOp:
        big = kind is hlo.MinimumOp
        if dt == np.bool_:
            return np.array(big)
        if dt.kind in "iu":
            return np.array(np.iinfo(dt).max if big else np.iinfo(dt).min, dt)
        if floating:
            return np.array(np.inf if big else -np.inf, dt)
    return None


_MONOID = {
    hlo.AddOp: lax.add,
    hlo.MultiplyOp: lax.mul,
    hlo.MaximumOp: lax.max,
    hlo.MinimumOp: lax.min,
    hlo.AndOp: lax.bitwise_and,
    hlo.OrOp: lax.bitwise_or,
    hlo.XorOp: lax.bitwise_xor,
}


def _static_scalar(v: SSAValue) -> np.ndarray | None:
    """The value of a scalar known when the function is built: a constant, possibly
    through scalar-to-scalar broadcast_in_dim / reshape / convert (jax writes reduction
    inits that way)."""
    owner = v.owner
    if isinstance(owner, hlo.ConstantOp):
        value = dense_to_numpy(owner.value)
        return value if value.shape == () else None
    if isinstance(owner, (hlo.BroadcastInDimOp, hlo.ReshapeOp)) and shape(v) == () and shape(owner.operands[0]) == ():
        return _static_scalar(owner.operands[0])
    return None


def _monoid(kind: type[Operation] | None, init: Any) -> Any:
    """lax.add / lax.max / ... when a one-operand reduction combines with ``kind`` (see
    ``ReduceOp.combiner``) and the init value is a constant bitwise equal to lax's
    identity for it. lax then binds its differentiable, batchable reduce_sum /
    reduce_max / ... primitives, which lower to the same stablehlo op; otherwise None (a
    generic body is used)."""
    fn = _MONOID.get(kind)
    if fn is None:
        return None
    ident = _identity(kind, init.dtype)
    if ident is None or np.asarray(init).tobytes() != ident.astype(init.dtype).tobytes():
        return None
    return fn


def _reduction(b: FunctionBuilder, op: hlo.ReduceOp | hlo.ReduceWindowOp, lax_reduce: Any) -> OpFn:
    """The function of a reduce or reduce_window op; ``lax_reduce(operand(s), init(s),
    computation)`` is lax.reduce or lax.reduce_window with the op's other parameters.
    The monoid of a one-input op with a static identity init is passed as the
    computation (see ``_monoid``), else the body."""
    body = b.region(op.body)
    n = len(op.inputs)

    def computation(xs: Any, ys: Any) -> Any:
        out = body(*xs, *ys) if n > 1 else body(xs, ys)
        return out if n > 1 else out[0]

    init = _static_scalar(op.init_values[0]) if n == 1 else None
    monoid = _monoid(op.combiner(), init) if init is not None else None

    def reduce(*args: Any) -> Any:
        operands, inits = args[:n], args[n:]
        if monoid is not None:
            return lax_reduce(operands[0], init, monoid)
        if n == 1:
            return lax_reduce(operands[0], inits[0], computation)
        return tuple(lax_reduce(tuple(operands), tuple(inits), computation))

    return reduce


@emits(hlo.ReduceOp)
def _reduce(b: FunctionBuilder, op: hlo.ReduceOp) -> OpFn:
    dims = ints(op.dimensions)
    return _reduction(b, op, lambda xs, inits, fn: lax.reduce(xs, inits, fn, dims))


@emits(hlo.ReduceWindowOp)
def _reduce_window(b: FunctionBuilder, op: hlo.ReduceWindowOp) -> OpFn:
    rank = len(shape(op.inputs[0]))
    window = ints(op.window_dimensions)
    strides = ints(op.window_strides) or (1,) * rank
    base = ints(op.base_dilations) or (1,) * rank
    wdil = ints(op.window_dilations) or (1,) * rank
    padding = padding_pairs(op, rank)
    return _reduction(b, op, lambda xs, inits, fn: lax.reduce_window(xs, inits, fn, window, strides, padding, base, wdil))


@emits(hlo.SelectAndScatterOp)
def _select_and_scatter(b: FunctionBuilder, op: hlo.SelectAndScatterOp) -> OpFn:
    direction = op.select_direction()
    if direction not in (ComparisonDirection.GE, ComparisonDirection.LE) or op.combiner() is not hlo.AddOp:
        raise emit_error(op, "only the select-GE/LE, scatter-add form (the gradient of max/min pooling) is supported")
    rank = len(shape(op.operand))
    window = ints(op.window_dimensions) or (1,) * rank
    strides = ints(op.window_strides) or (1,) * rank
    padding = padding_pairs(op, rank)
    is_max = direction == ComparisonDirection.GE
    dt = dtype(op.operand)
    if np.issubdtype(dt, np.floating):
        ident = np.array(-np.inf if is_max else np.inf, dt)
    else:
        ident = np.array(np.iinfo(dt).min if is_max else np.iinfo(dt).max, dt)
    reducer = lax.max if is_max else lax.min

    def select_and_scatter(x: Any, source: Any, init: Any) -> Any:
        # The transpose of max/min reduce_window is select_and_scatter_add, which jax
        # lowers to exactly this op (with a zero init). The reducer and its identity must
        # be concrete (numpy) for lax to recognise the differentiable max/min window.
        _, pullback = jax.vjp(lambda y: lax.reduce_window(y, ident, reducer, window, strides, padding), x)
        (out,) = pullback(source)
        return out + init

    return select_and_scatter


def _index_vector_last(idx: Any, ivd: int, idx_rank: int) -> Any:
    """lax wants the index vector dimension of gather/scatter indices last (and present)."""
    if ivd == idx_rank:
        return lax.expand_dims(idx, (idx_rank,))
    if ivd != idx_rank - 1:
        return jnp.moveaxis(idx, ivd, -1)
    return idx


def _dims_without(dims: Sequence[int], ivd: int) -> tuple[int, ...]:
    """Renumber batching dimensions of the indices once the index vector dim moved last."""
    return tuple(int(k) - (1 if k > ivd else 0) for k in dims)


@emits(hlo.GatherOp)
def _gather(b: FunctionBuilder, op: hlo.GatherOp) -> OpFn:
    d = op.dimension_numbers
    dn = lax.GatherDimensionNumbers(
        offset_dims=d.offset_dims,
        collapsed_slice_dims=d.collapsed_slice_dims,
        start_index_map=d.start_index_map,
        operand_batching_dims=d.operand_batching_dims,
        start_indices_batching_dims=_dims_without(d.start_indices_batching_dims, d.index_vector_dim),
    )
    sizes = ints(op.slice_sizes)
    ivd = d.index_vector_dim
    idx_rank = len(shape(op.start_indices))
    sorted_ = bool(op.indices_are_sorted.value.data) if op.indices_are_sorted is not None else False

    def gather(x: Any, idx: Any) -> Any:
        # stablehlo.gather clamps start indices into range, which is lax's CLIP mode; CLIP
        # lowers to the bare op, and its transpose clamps too, so derivatives stay right.
        return lax.gather(x, _index_vector_last(idx, ivd, idx_rank), dn, sizes, indices_are_sorted=sorted_, mode=lax.GatherScatterMode.CLIP)

    return gather


_SCATTER = {
    "replace": lax.scatter,
    hlo.AddOp: lax.scatter_add,
    hlo.MultiplyOp: lax.scatter_mul,
    hlo.MinimumOp: lax.scatter_min,
    hlo.MaximumOp: lax.scatter_max,
}


@emits(hlo.ScatterOp)
def _scatter(b: FunctionBuilder, op: hlo.ScatterOp) -> OpFn:
    if len(op.inputs) != 1:
        raise emit_error(op, "variadic scatter is not supported")
    fn = _SCATTER.get(op.combiner())
    if fn is None:
        raise emit_error(op, "the update computation must be replace, add, multiply, minimum or maximum")
    d = op.scatter_dimension_numbers
    dn = lax.ScatterDimensionNumbers(
        update_window_dims=d.update_window_dims,
        inserted_window_dims=d.inserted_window_dims,
        scatter_dims_to_operand_dims=d.scatter_dims_to_operand_dims,
        operand_batching_dims=d.input_batching_dims,
        scatter_indices_batching_dims=_dims_without(d.scatter_indices_batching_dims, d.index_vector_dim),
    )
    ivd = d.index_vector_dim
    idx_rank = len(shape(op.scatter_indices))
    sorted_ = bool(op.indices_are_sorted.value.data) if op.indices_are_sorted is not None else False
    unique = bool(op.unique_indices.value.data) if op.unique_indices is not None else False

    def scatter(x: Any, idx: Any, upd: Any) -> Any:
        # stablehlo.scatter skips updates whose window falls out of bounds: lax's
        # FILL_OR_DROP mode, which lowers to the bare op (CLIP would clamp the indices
        # first and move those updates), and whose transpose gathers zeros for them.
        idx = _index_vector_last(idx, ivd, idx_rank)
        return fn(x, idx, upd, dn, indices_are_sorted=sorted_, unique_indices=unique, mode=lax.GatherScatterMode.FILL_OR_DROP)

    return scatter


def _sort_keys(op: hlo.SortOp) -> int:
    """The number of leading operands jax's lexicographic comparator sorts by.

    jax's comparator compares block arguments (2k, 2k+1) for the first num_keys
    operands, with LT in total order; other comparators are not expressible in lax."""
    block = op.comparator.block
    used = {i // 2 for i, a in enumerate(block.args) if a.uses}
    num_keys = max(used) + 1 if used else 1
    if used != set(range(num_keys)):
        raise emit_error(op, "the comparator must compare a prefix of the operands")
    directions = {o.comparison_direction.data for o in block.ops if isinstance(o, hlo.CompareOp)}
    ordering = directions - {ComparisonDirection.EQ, ComparisonDirection.NE}
    if ordering != {ComparisonDirection.LT}:
        raise emit_error(op, f"only ascending (LT) comparators are supported, got {sorted(str(d) for d in ordering)}")
    return num_keys


@emits(hlo.SortOp)
def _sort(b: FunctionBuilder, op: hlo.SortOp) -> OpFn:
    num_keys = _sort_keys(op)
    dim = op.dimension.value.data if op.dimension is not None else -1
    stable = bool(op.is_stable.value.data) if op.is_stable is not None else False
    n = len(op.inputs)

    def sort(*xs: Any) -> Any:
        out = lax.sort(xs, dimension=dim, is_stable=stable, num_keys=num_keys)
        return tuple(out) if n > 1 else out[0]

    return sort


@emits(hlo.WhileOp)
def _while(b: FunctionBuilder, op: hlo.WhileOp) -> OpFn:
    cond = b.region(op.cond)
    body = b.region(op.body)
    n = len(op.operand)

    def while_(*init: Any) -> Any:
        out = lax.while_loop(lambda c: cond(*c)[0], lambda c: tuple(body(*c)), tuple(init))
        return out if n != 1 else out[0]

    return while_


@emits(hlo.IfOp)
def _if(b: FunctionBuilder, op: hlo.IfOp) -> OpFn:
    true_fn, false_fn = b.region(op.true_branch), b.region(op.false_branch)
    n = len(op.results)

    def if_(pred: Any) -> Any:
        out = lax.cond(pred, lambda: true_fn(), lambda: false_fn())
        return out if n != 1 else out[0]

    return if_


@emits(hlo.CaseOp)
def _case(b: FunctionBuilder, op: hlo.CaseOp) -> OpFn:
    branches = [b.region(r) for r in op.branches]
    n, k = len(op.results), len(branches)

    def case(index: Any) -> Any:
        # StableHLO sends an out-of-range index to the last branch; lax.switch clamps.
        index = jnp.where((index < 0) | (index >= k), k - 1, index)
        out = lax.switch(index, [(lambda br=br: br()) for br in branches])
        return out if n != 1 else out[0]

    return case


@emits(hlo.OptimizationBarrierOp)
def _optimization_barrier(b: FunctionBuilder, op: hlo.OptimizationBarrierOp) -> OpFn:
    n = len(op.results)
    return lambda *xs: lax.optimization_barrier(xs) if n != 1 else lax.optimization_barrier(xs)[0]


@emits(hlo.TupleOp)
def _tuple(b: FunctionBuilder, op: hlo.TupleOp) -> OpFn:
    return lambda *xs: tuple(xs)


@emits(hlo.GetTupleElementOp)
def _get_tuple_element(b: FunctionBuilder, op: hlo.GetTupleElementOp) -> OpFn:
    i = op.index.value.data
    return lambda t: t[i]


# ----------------------------------------------------------------- misc

_RNG = {"DEFAULT": lax.RandomAlgorithm.RNG_DEFAULT, "THREE_FRY": lax.RandomAlgorithm.RNG_THREE_FRY, "PHILOX": lax.RandomAlgorithm.RNG_PHILOX}


@emits(hlo.RngBitGeneratorOp)
def _rng_bit_generator(b: FunctionBuilder, op: hlo.RngBitGeneratorOp) -> OpFn:
    alg = _RNG[op.rng_algorithm.data.value]
    shp, dt = shape(op.output), dtype(op.output)
    return lambda key: lax.rng_bit_generator(key, shp, dt, alg)


@emits(hlo.CholeskyOp)
def _cholesky(b: FunctionBuilder, op: hlo.CholeskyOp) -> OpFn:
    lower = bool(op.lower.value.data) if op.lower is not None else False

    def cholesky(a: Any) -> Any:
        if lower:
            return lax.linalg.cholesky(a, symmetrize_input=False)
        upper = lax.linalg.cholesky(jnp.swapaxes(a, -1, -2), symmetrize_input=False)
        return jnp.swapaxes(upper, -1, -2)

    return cholesky


@emits(hlo.TriangularSolveOp)
def _triangular_solve(b: FunctionBuilder, op: hlo.TriangularSolveOp) -> OpFn:
    t = op.transpose_a.data
    kwargs = dict(
        left_side=bool(op.left_side.value.data),
        lower=bool(op.lower.value.data),
        unit_diagonal=bool(op.unit_diagonal.value.data),
        transpose_a=t in (Transpose.TRANSPOSE, Transpose.ADJOINT),
        conjugate_a=t == Transpose.ADJOINT,
    )
    return lambda a, rhs: lax.linalg.triangular_solve(a, rhs, **kwargs)


@emits(hlo.ReducePrecisionOp)
def _reduce_precision(b: FunctionBuilder, op: hlo.ReducePrecisionOp) -> OpFn:
    e, m = op.exponent_bits.value.data, op.mantissa_bits.value.data
    return lambda x: lax.reduce_precision(x, e, m)


@emits(hlo.FftOp)
def _fft(b: FunctionBuilder, op: hlo.FftOp) -> OpFn:
    kind = {"FFT": lax.FftType.FFT, "IFFT": lax.FftType.IFFT, "RFFT": lax.FftType.RFFT, "IRFFT": lax.FftType.IRFFT}[op.fft_type.data.value]
    lengths = ints(op.fft_length)
    return lambda x: lax.fft(x, kind, lengths)


@emits(hlo.RngOp)
def _rng(b: FunctionBuilder, op: hlo.RngOp) -> OpFn:
    if op.rng_distribution.data.value != "UNIFORM":
        raise emit_error(op, "only the UNIFORM distribution has a lax counterpart (lax.rng_uniform)")
    shp = shape(op.result)
    return lambda lo, hi, _shape: lax.rng_uniform(lo, hi, shp)


@emits(hlo.GetDimensionSizeOp)
def _get_dimension_size(b: FunctionBuilder, op: hlo.GetDimensionSizeOp) -> OpFn:
    size = np.array(shape(op.operand)[op.dimension.value.data], result_dtype(op))
    return lambda x: size


def _composite_attr(a: Attribute) -> Any:
    if isinstance(a, DenseIntOrFPElementsAttr):
        return dense_to_numpy(a)
    return _ffi_attr(a)


@emits(hlo.CompositeOp)
def _composite(b: FunctionBuilder, op: hlo.CompositeOp) -> OpFn:
    """``lax.composite`` around the decomposition, so the op keeps its name and attributes;
    attributes lax cannot take are a reason to inline the decomposition (its meaning)."""
    callee = op.decomposition.root_reference.data
    body = b.function(callee)
    n = len(op.results)
    try:
        attrs = {k: _composite_attr(v) for k, v in (op.composite_attributes.data.items() if op.composite_attributes else ())}
    except TypeError:
        attrs = None

    def decomposition(*xs: Any, **_: Any) -> Any:
        out = body(*xs)
        return out[0] if n == 1 else tuple(out)

    if attrs is None:
        return decomposition
    version = op.version.value.data if op.version is not None else 0
    return lambda *xs: lax.composite(decomposition, op.name_.data, version=version)(*xs, **attrs)


@emits(chlo.TopKOp)
def _top_k(b: FunctionBuilder, op: chlo.TopKOp) -> OpFn:
    k = op.k.value.data
    return lambda x: tuple(lax.top_k(x, k))


def _ffi_attr(a: Attribute) -> Any:
    if isinstance(a, IntegerAttr):
        t = a.type
        if hasattr(t, "width"):
            return np.array(a.value.data, dtype=element_dtype(t)).reshape(())[()]
        return a.value.data
    if isinstance(a, StringAttr):
        return a.data
    from xdsl.dialects.builtin import FloatAttr

    if isinstance(a, FloatAttr):
        return np.array(a.value.data, dtype=element_dtype(a.type))[()]
    raise TypeError(f"unsupported custom_call attribute {a}")


def _layouts(attr: ArrayAttr | None) -> list | None:
    if attr is None:
        return None
    # MLIR layouts are minor-to-major; ffi_call wants major-to-minor.
    return [tuple(reversed([int(v) for v in dense_to_numpy(l).reshape(-1)])) for l in attr.data]


@emits(hlo.CustomCallOp)
def _custom_call(b: FunctionBuilder, op: hlo.CustomCallOp) -> OpFn:
    """Pass a custom call through to XLA with jax.ffi.ffi_call (typed-FFI targets, such
    as the LAPACK kernels jax uses on CPU)."""
    target = op.call_target_name.data
    if "python" in target and "callback" in target:
        # jax's host callbacks find their Python function by an index into the lowered
        # module's own callback list: run from any other program, the index is meaningless
        raise emit_error(op, f"custom call @{target} is a jax host callback whose Python function is not known here")
    config = op.attributes.get("mhlo.backend_config")
    from xdsl.dialects.builtin import DictionaryAttr

    if config is not None and not isinstance(config, DictionaryAttr):
        raise emit_error(op, f"custom call @{target}: only dictionary backend configs (typed FFI) are supported")
    try:
        attrs = {k: _ffi_attr(v) for k, v in (config.data.items() if config is not None else ())}
    except TypeError as e:
        raise emit_error(op, f"custom call @{target}: {e}") from None
    results = [jax.ShapeDtypeStruct(shape(r), dtype(r)) for r in op.results]
    aliases = {}
    if op.output_operand_aliases is not None:
        for a in op.output_operand_aliases.data:
            aliases[a.operand_index] = a.output_tuple_indices[0] if a.output_tuple_indices else 0
    in_layouts, out_layouts = _layouts(op.operand_layouts), _layouts(op.result_layouts)
    side = bool(op.has_side_effect.value.data) if op.has_side_effect is not None else False
    call = jax.ffi.ffi_call(
        target,
        results,
        has_side_effect=side,
        vmap_method="sequential",
        input_layouts=in_layouts,
        output_layouts=out_layouts,
        input_output_aliases=aliases or None,
    )
    n = len(results)

    def custom_call(*xs: Any) -> Any:
        out = call(*xs, **attrs)
        return tuple(out) if n != 1 else out[0]

    return custom_call


# ----------------------------------------------------------------- 64-bit values in 32-bit mode

# jax's own lowerings use 64-bit types even when x64 is off (threefry counts in ui64,
# rng_bit_generator takes its u32[4] key as ui64[2]). lax refuses to make such values
# in 32-bit mode (it would silently truncate them to 32 bits), so an op that reads or
# makes a 64-bit value is emitted with x64 switched on for the duration of that op.


def _is_64bit(t: Attribute) -> bool:
    if not isinstance(t, TensorType):
        return False
    dt = element_dtype(t.get_element_type())
    return (dt.itemsize == 8 and dt.kind != "c") or dt.itemsize == 16


def _needs_x64(op: Operation) -> bool:
    return any(_is_64bit(v.type) for v in (*op.operands, *op.results))


def _x64_guard(emitter: Any) -> Any:
    def emit(b: FunctionBuilder, op: Operation) -> OpFn:
        fn = emitter(b, op)
        if not _needs_x64(op):
            return fn

        def with_x64(*xs: Any) -> Any:
            with jax.enable_x64(True):
                return fn(*xs)

        return with_x64

    return emit


for _cls, _emitter in list(EMITTERS.items()):
    if _cls.__module__ in (hlo.__name__, chlo.__name__):
        EMITTERS[_cls] = _x64_guard(_emitter)
