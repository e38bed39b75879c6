"""lax emitters for MLIR's standard dialects: arith, math and scf (func.call lives in
:mod:`.emitter`), on scalars and tensors, so MLIR written by hand runs.

Types. An MLIR type becomes the dtype JAX would use for the matching numpy dtype
(:func:`jax_dtype`): ``f32`` -> float32, ``i1`` -> bool, ``iN`` -> intN (MLIR integers
are signless; zymase stores them as signed integers and reinterprets the bits as
unsigned for the ``u`` ops), and ``index`` -> int64. All of them go through JAX's
canonicalization, so with ``jax_enable_x64`` off, ``index``, ``i64`` and ``f64`` become
int32, int32 and float32. The choice is made when a function is built.

Control flow. ``scf.for`` becomes ``lax.fori_loop`` over its trip count, with the
induction variable ``lb + i * step`` passed to the body; when the bounds are constants
the trip count is a Python int and JAX lowers the loop to a scan (reverse
differentiable). ``scf.if`` becomes ``lax.cond``, ``scf.while`` ``lax.while_loop`` and
``scf.index_switch`` ``lax.switch``. An ``scf.for`` / ``scf.if`` without results has no
effect (the ops zymase emits are pure) and emits nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from xdsl.dialects import arith, math, scf
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IntegerAttr,
    IntegerType,
)
from xdsl.ir import Attribute, Operation, SSAValue

from ..ir.dense import dense_to_numpy, element_dtype
from ..ir.query import element_type, shape
from .emitter import FunctionBuilder, OpFn, emit_error, emits, emits_table

# ----------------------------------------------------------------- types


def jax_dtype(t: Attribute) -> np.dtype:
    """The dtype JAX uses for values of MLIR type ``t`` (a scalar or tensor type; index is int64)."""
    return np.dtype(jax.dtypes.canonicalize_dtype(element_dtype(element_type(t))))


def value_dtype(v: SSAValue) -> np.dtype:
    return jax_dtype(v.type)


def _unsigned(dtype: np.dtype) -> np.dtype:
    return np.dtype(f"uint{dtype.itemsize * 8}")


def as_unsigned(x: Any) -> Any:
    """The bits of a signless integer read as an unsigned number (i1 true is 1)."""
    if x.dtype == np.bool_:
        return lax.convert_element_type(x, np.uint8)
    return lax.bitcast_convert_type(x, _unsigned(np.dtype(x.dtype)))


def as_signed(x: Any) -> Any:
    """The bits of a signless integer read as a two's complement number (i1 true is -1)."""
    if x.dtype == np.bool_:
        return lax.neg(lax.convert_element_type(x, np.int8))
    return x


def from_unsigned(x: Any, dtype: np.dtype) -> Any:
    """Back from :func:`as_unsigned` to zymase's storage dtype."""
    if dtype == np.bool_:
        return lax.ne(x, np.zeros((), x.dtype))
    return lax.bitcast_convert_type(x, dtype)


def _wrap_int(value: int, dtype: np.dtype) -> np.ndarray:
    """An integer literal (which MLIR allows in signed or unsigned spelling) as ``dtype``."""
    if dtype == np.bool_:
        return np.asarray(value % 2 != 0)
    bits = dtype.itemsize * 8
    value %= 1 << bits
    if value >= 1 << (bits - 1):
        value -= 1 << bits
    return np.asarray(value, dtype=dtype)


def _single(n_results: int, out: tuple) -> Any:
    return out[0] if n_results == 1 else out


def _no_effect(*args: Any) -> None:
    return None


# ----------------------------------------------------------------- arith: constants


@emits(arith.ConstantOp)
def _constant(b: FunctionBuilder, op: arith.ConstantOp) -> OpFn:
    to = value_dtype(op.result)
    attr = op.value
    if isinstance(attr, DenseIntOrFPElementsAttr):
        value = dense_to_numpy(attr).astype(to)
    elif isinstance(attr, IntegerAttr):
        value = _wrap_int(attr.value.data, to)
    elif isinstance(attr, FloatAttr):
        value = np.asarray(attr.value.data, dtype=to)
    else:
        raise emit_error(op, f"constants of kind {attr.name} are not supported")
    return lambda: value


# ----------------------------------------------------------------- arith: floats


def _maxnum(x: Any, y: Any) -> Any:
    """max that returns the other operand when one is NaN (IEEE maxNum)."""
    return lax.select(lax.ne(x, x), y, lax.select(lax.ne(y, y), x, lax.max(x, y)))


def _minnum(x: Any, y: Any) -> Any:
    return lax.select(lax.ne(x, x), y, lax.select(lax.ne(y, y), x, lax.min(x, y)))


_FLOAT_BINARY: dict[type[Operation], Callable[[Any, Any], Any]] = {
    arith.AddfOp: lax.add,
    arith.SubfOp: lax.sub,
    arith.MulfOp: lax.mul,
    arith.DivfOp: lax.div,
    arith.MaximumfOp: lax.max,  # XLA's max propagates NaN, like maximumf
    arith.MinimumfOp: lax.min,
    arith.MaxnumfOp: _maxnum,
    arith.MinnumfOp: _minnum,
}


emits_table(_FLOAT_BINARY)


@emits(arith.NegfOp)
def _negf(b: FunctionBuilder, op: arith.NegfOp) -> OpFn:
    return lax.neg


# ----------------------------------------------------------------- arith: integers


def _floordiv(x: Any, y: Any) -> Any:
    q, r = lax.div(x, y), lax.rem(x, y)
    zero = np.zeros((), x.dtype)
    adjust = lax.bitwise_and(lax.ne(r, zero), lax.ne(lax.lt(r, zero), lax.lt(y, zero)))
    return lax.select(adjust, lax.sub(q, np.ones((), x.dtype)), q)


def _ceildiv(x: Any, y: Any) -> Any:
    q, r = lax.div(x, y), lax.rem(x, y)
    zero = np.zeros((), x.dtype)
    adjust = lax.bitwise_and(lax.ne(r, zero), lax.eq(lax.lt(r, zero), lax.lt(y, zero)))
    return lax.select(adjust, lax.add(q, np.ones((), x.dtype)), q)


_SIGNED_BINARY: dict[type[Operation], Callable[[Any, Any], Any]] = {
    arith.AddiOp: lax.add,
    arith.SubiOp: lax.sub,
    arith.MuliOp: lax.mul,
    arith.DivSIOp: lax.div,  # integer lax.div rounds toward zero, like divsi
    arith.RemSIOp: lax.rem,  # the sign of the dividend, like remsi
    arith.FloorDivSIOp: _floordiv,
    arith.CeilDivSIOp: _ceildiv,
    arith.MaxSIOp: lax.max,
    arith.MinSIOp: lax.min,
    arith.ShLIOp: lax.shift_left,
    arith.ShRSIOp: lax.shift_right_arithmetic,
    arith.ShRUIOp: lax.shift_right_logical,
}

_UNSIGNED_BINARY: dict[type[Operation], Callable[[Any, Any], Any]] = {
    arith.DivUIOp: lax.div,
    arith.RemUIOp: lax.rem,
    arith.CeilDivUIOp: _ceildiv,
    arith.MaxUIOp: lax.max,
    arith.MinUIOp: lax.min,
}

_BITWISE: dict[type[Operation], Callable[[Any, Any], Any]] = {
    arith.AndIOp: lax.bitwise_and,
    arith.OrIOp: lax.bitwise_or,
    arith.XOrIOp: lax.bitwise_xor,
}


@emits(*_SIGNED_BINARY)
def _signed_binary(b: FunctionBuilder, op: Operation) -> OpFn:
    if value_dtype(op.results[0]) == np.bool_:
        raise emit_error(op, "arithmetic on i1 is not supported (use andi / ori / xori)")
    return _SIGNED_BINARY[type(op)]


@emits(*_UNSIGNED_BINARY)
def _unsigned_binary(b: FunctionBuilder, op: Operation) -> OpFn:
    to = value_dtype(op.results[0])
    if to == np.bool_:
        raise emit_error(op, "arithmetic on i1 is not supported (use andi / ori / xori)")
    fn = _UNSIGNED_BINARY[type(op)]
    return lambda x, y: from_unsigned(fn(as_unsigned(x), as_unsigned(y)), to)


emits_table(_BITWISE)


# ----------------------------------------------------------------- arith: comparisons


def _ordered(x: Any, y: Any) -> Any:
    return lax.bitwise_and(lax.eq(x, x), lax.eq(y, y))


def _always(value: bool) -> Callable[[Any, Any], Any]:
    return lambda x, y: jnp.full(jnp.shape(x), value)


# lax comparisons are false when an operand is NaN, except ne, which is true; the
# unordered predicates are the negations of the opposite ordered ones.
_CMPF: dict[str, Callable[[Any, Any], Any]] = {
    "false": _always(False),
    "oeq": lax.eq,
    "ogt": lax.gt,
    "oge": lax.ge,
    "olt": lax.lt,
    "ole": lax.le,
    "one": lambda x, y: lax.bitwise_and(_ordered(x, y), lax.ne(x, y)),
    "ord": _ordered,
    "ueq": lambda x, y: lax.bitwise_not(lax.bitwise_and(_ordered(x, y), lax.ne(x, y))),
    "ugt": lambda x, y: lax.bitwise_not(lax.le(x, y)),
    "uge": lambda x, y: lax.bitwise_not(lax.lt(x, y)),
    "ult": lambda x, y: lax.bitwise_not(lax.ge(x, y)),
    "ule": lambda x, y: lax.bitwise_not(lax.gt(x, y)),
    "une": lax.ne,
    "uno": lambda x, y: lax.bitwise_not(_ordered(x, y)),
    "true": _always(True),
}
CMPF_PREDICATES = list(_CMPF)  # in the order of their integer codes

_CMPI: dict[str, Callable[[Any, Any], Any]] = {
    "eq": lax.eq,
    "ne": lax.ne,
    "slt": lambda x, y: lax.lt(as_signed(x), as_signed(y)),
    "sle": lambda x, y: lax.le(as_signed(x), as_signed(y)),
    "sgt": lambda x, y: lax.gt(as_signed(x), as_signed(y)),
    "sge": lambda x, y: lax.ge(as_signed(x), as_signed(y)),
    "ult": lambda x, y: lax.lt(as_unsigned(x), as_unsigned(y)),
    "ule": lambda x, y: lax.le(as_unsigned(x), as_unsigned(y)),
    "ugt": lambda x, y: lax.gt(as_unsigned(x), as_unsigned(y)),
    "uge": lambda x, y: lax.ge(as_unsigned(x), as_unsigned(y)),
}
CMPI_PREDICATES = list(_CMPI)


def _compare(op: arith.CmpfOp | arith.CmpiOp, names: list[str], table: dict[str, Any]) -> OpFn:
    """The comparison of ``op``'s predicate, numbered as in ``names``."""
    code = op.predicate.value.data
    if not 0 <= code < len(names):
        raise emit_error(op, f"unknown {op.name.removeprefix('arith.')} predicate {code}")
    return table[names[code]]


@emits(arith.CmpfOp)
def _cmpf(b: FunctionBuilder, op: arith.CmpfOp) -> OpFn:
    return _compare(op, CMPF_PREDICATES, _CMPF)


@emits(arith.CmpiOp)
def _cmpi(b: FunctionBuilder, op: arith.CmpiOp) -> OpFn:
    return _compare(op, CMPI_PREDICATES, _CMPI)


@emits(arith.SelectOp)
def _select(b: FunctionBuilder, op: arith.SelectOp) -> OpFn:
    out_shape = shape(op.result)
    if shape(op.cond) == () and out_shape != ():
        return lambda c, x, y: lax.select(jnp.broadcast_to(c, out_shape), x, y)
    return lax.select


# ----------------------------------------------------------------- arith: casts


@emits(arith.ExtFOp, arith.TruncFOp, arith.FPToSIOp)
def _convert(b: FunctionBuilder, op: Operation) -> OpFn:
    to = value_dtype(op.results[0])
    return lambda x: lax.convert_element_type(x, to)


@emits(arith.SIToFPOp, arith.ExtSIOp, arith.IndexCastOp)
def _convert_signed(b: FunctionBuilder, op: Operation) -> OpFn:
    to = value_dtype(op.results[0])
    if to == np.bool_:  # index_cast to i1 keeps the low bit
        return lambda x: lax.ne(lax.bitwise_and(x, np.ones((), x.dtype)), np.zeros((), x.dtype))
    return lambda x: lax.convert_element_type(as_signed(x), to)


@emits(arith.UIToFPOp, arith.ExtUIOp)
def _convert_unsigned(b: FunctionBuilder, op: Operation) -> OpFn:
    to = value_dtype(op.results[0])
    return lambda x: lax.convert_element_type(as_unsigned(x), to)


@emits(arith.FPToUIOp)
def _fptoui(b: FunctionBuilder, op: arith.FPToUIOp) -> OpFn:
    to = value_dtype(op.result)
    if to == np.bool_:
        return lambda x: lax.ne(x, np.zeros((), x.dtype))
    return lambda x: lax.bitcast_convert_type(lax.convert_element_type(x, _unsigned(to)), to)


@emits(arith.TruncIOp)
def _trunci(b: FunctionBuilder, op: arith.TruncIOp) -> OpFn:
    to = value_dtype(op.result)
    if to == np.bool_:
        return lambda x: lax.ne(lax.bitwise_and(x, np.ones((), x.dtype)), np.zeros((), x.dtype))
    return lambda x: lax.convert_element_type(x, to)


@emits(arith.BitcastOp)
def _bitcast(b: FunctionBuilder, op: arith.BitcastOp) -> OpFn:
    to = value_dtype(op.result)
    if to == value_dtype(op.input):
        return lambda x: x
    return lambda x: lax.bitcast_convert_type(x, to)


# ----------------------------------------------------------------- math


def _log_base(base: float) -> Callable[[Any], Any]:
    return lambda x: lax.div(lax.log(x), lax.log(np.asarray(base, x.dtype)))


def _trunc(x: Any) -> Any:
    return lax.select(lax.lt(x, np.zeros((), x.dtype)), lax.ceil(x), lax.floor(x))


def _cttz(x: Any) -> Any:
    """Trailing zeros: the ones below the lowest set bit (all bits when x is 0)."""
    lowest = lax.bitwise_and(x, lax.neg(x))
    return lax.population_count(lax.sub(lowest, np.ones((), x.dtype)))


_MATH_UNARY: dict[type[Operation], Callable[[Any], Any]] = {
    math.AbsFOp: lax.abs,
    math.AbsIOp: lax.abs,
    math.AcosOp: lax.acos,
    math.AcoshOp: lax.acosh,
    math.AsinOp: lax.asin,
    math.AsinhOp: lax.asinh,
    math.AtanOp: lax.atan,
    math.AtanhOp: lax.atanh,
    math.CbrtOp: lax.cbrt,
    math.CeilOp: lax.ceil,
    math.CosOp: lax.cos,
    math.CoshOp: lax.cosh,
    math.ErfOp: lax.erf,
    math.Exp2Op: lax.exp2,
    math.ExpM1Op: lax.expm1,
    math.ExpOp: lax.exp,
    math.FloorOp: lax.floor,
    math.Log10Op: _log_base(10.0),
    math.Log1pOp: lax.log1p,
    math.Log2Op: _log_base(2.0),
    math.LogOp: lax.log,
    math.RoundEvenOp: lambda x: lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN),
    math.RoundOp: lambda x: lax.round(x, lax.RoundingMethod.AWAY_FROM_ZERO),
    math.RsqrtOp: lax.rsqrt,
    math.SinOp: lax.sin,
    math.SinhOp: lax.sinh,
    math.SqrtOp: lax.sqrt,
    math.TanOp: lax.tan,
    math.TanhOp: lax.tanh,
    math.TruncOp: _trunc,
    math.CountLeadingZerosOp: lax.clz,
    math.CountTrailingZerosOp: _cttz,
    math.CtPopOp: lax.population_count,
}


def _copysign(x: Any, y: Any) -> Any:
    """|x| with the sign bit of y, so copysign(1, -0.0) is -1."""
    bits = np.dtype(f"int{np.dtype(y.dtype).itemsize * 8}")
    negative = lax.lt(lax.bitcast_convert_type(y, bits), np.zeros((), bits))
    return lax.select(negative, lax.neg(lax.abs(x)), lax.abs(x))


_MATH_BINARY: dict[type[Operation], Callable[[Any, Any], Any]] = {
    math.Atan2Op: lax.atan2,
    math.PowFOp: lax.pow,
    math.CopySignOp: _copysign,
    math.FPowIOp: lax.pow,  # lax.pow takes an integer exponent
}


emits_table(_MATH_UNARY)
emits_table(_MATH_BINARY)


@emits(math.FmaOp)
def _fma(b: FunctionBuilder, op: math.FmaOp) -> OpFn:
    # XLA decides whether to fuse; the result may differ from a fused fma in the last bit.
    return lambda a, x, c: lax.add(lax.mul(a, x), c)


def _ipowi(x: Any, n: Any) -> Any:
    """x ** n on integers by squaring over the bits of |n|. For n < 0 the result is
    1 / x**|n| in integer division: 1 for x = 1, +-1 for x = -1, 0 otherwise."""
    dtype = x.dtype
    one, zero = np.ones((), dtype), np.zeros((), dtype)
    x, n = jnp.broadcast_arrays(x, n)
    e = lax.abs(n)

    def step(_: Any, carry: tuple) -> tuple:
        acc, base, e = carry
        odd = lax.ne(lax.bitwise_and(e, one), zero)
        return lax.select(odd, lax.mul(acc, base), acc), lax.mul(base, base), lax.shift_right_logical(e, one)

    acc, _, _ = lax.fori_loop(0, dtype.itemsize * 8, step, (jnp.ones_like(x), x, e))
    odd_n = lax.ne(lax.bitwise_and(n, one), zero)
    minus_one = lax.select(odd_n, lax.neg(jnp.ones_like(x)), jnp.ones_like(x))
    negative = lax.select(lax.eq(x, jnp.ones_like(x)), jnp.ones_like(x), lax.select(lax.eq(x, lax.neg(jnp.ones_like(x))), minus_one, jnp.zeros_like(x)))
    return lax.select(lax.lt(n, jnp.zeros_like(n)), negative, acc)


@emits(math.IPowIOp)
def _ipowi_emitter(b: FunctionBuilder, op: math.IPowIOp) -> OpFn:
    if value_dtype(op.result) == np.bool_:
        raise emit_error(op, "ipowi on i1 is not supported")
    return _ipowi


# ----------------------------------------------------------------- scf


def for_trip_count(op: Operation, lb: Any, ub: Any, step: Any) -> tuple[Any, Any, Any]:
    """An scf.for's trip count: a Python int when its bounds are constants (the step must be
    positive), else a traced max(0, ceil((ub - lb) / step)); with ``lb`` and ``step`` as
    the loop body reads them."""
    lo, hi, st = _static_int(lb), _static_int(ub), _static_int(step)
    if lo is not None and hi is not None and st is not None:
        if st <= 0:
            raise emit_error(op, f"the step must be positive, got {st}")
        return lb, step, max(0, -(-(hi - lo) // st))
    lb, ub, step = as_signed(lb), as_signed(ub), as_signed(step)
    return lb, step, lax.max(_ceildiv(lax.sub(ub, lb), step), np.zeros((), lb.dtype))


def _static_int(x: Any) -> int | None:
    """The value of a loop bound known when tracing (an emitted constant), else None."""
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, np.ndarray) and x.shape == ():
        return int(x)
    return None


@emits(scf.ForOp)
def _for(b: FunctionBuilder, op: scf.ForOp) -> OpFn:
    n_results = len(op.res)
    if n_results == 0:
        return _no_effect
    body = b.region(op.body)
    iv_dtype = value_dtype(op.lb)

    def for_(lb: Any, ub: Any, step: Any, *init: Any) -> Any:
        lb, step, trips = for_trip_count(op, lb, ub, step)

        def loop_body(i: Any, carry: tuple) -> tuple:
            iv = lax.add(lb, lax.mul(lax.convert_element_type(i, iv_dtype), step))
            return tuple(body(iv, *carry))

        out = lax.fori_loop(0, trips, loop_body, tuple(init))
        return _single(n_results, out)

    return for_


@emits(scf.IfOp)
def _if(b: FunctionBuilder, op: scf.IfOp) -> OpFn:
    n_results = len(op.output)
    if n_results == 0:
        return _no_effect
    then_fn, else_fn = b.region(op.true_region), b.region(op.false_region)

    def if_(cond: Any) -> Any:
        out = lax.cond(cond, lambda: then_fn(), lambda: else_fn())
        return _single(n_results, out)

    return if_


@emits(scf.WhileOp)
def _while(b: FunctionBuilder, op: scf.WhileOp) -> OpFn:
    """``before`` runs first and ends in ``scf.condition(c, vals)``: while ``c``, ``after``
    maps ``vals`` to the next ``before`` arguments; the results are the last ``vals``.
    The loop state is ``(c, vals)``, so ``before`` runs once ahead of the loop and then
    at the end of each iteration."""
    n_results = len(op.res)
    before, after = b.region(op.before_region), b.region(op.after_region)

    def while_(*init: Any) -> Any:
        def next_state(carry: tuple) -> tuple:
            _, vals = carry
            cond, *new_vals = before(*after(*vals))
            return cond, tuple(new_vals)

        cond, *vals = before(*init)
        _, out = lax.while_loop(lambda carry: carry[0], next_state, (cond, tuple(vals)))
        return _single(n_results, out)

    return while_


@emits(scf.ExecuteRegionOp)
def _execute_region(b: FunctionBuilder, op: scf.ExecuteRegionOp) -> OpFn:
    n_results = len(op.outs)
    region = b.region(op.region)
    return lambda: _single(n_results, region())


@emits(scf.IndexSwitchOp)
def _index_switch(b: FunctionBuilder, op: scf.IndexSwitchOp) -> OpFn:
    n_results = len(op.output)
    cases = [int(c) for c in op.cases.get_values()]
    branches = [b.region(r) for r in op.case_regions] + [b.region(op.default_region)]

    def switch(arg: Any) -> Any:
        which = np.asarray(len(cases), np.int32)  # the default region comes last
        for i, case in enumerate(cases):
            which = lax.select(lax.eq(arg, np.asarray(case, arg.dtype)), np.asarray(i, np.int32), which)
        out = lax.switch(which, [(lambda br=br: br()) for br in branches])
        return _single(n_results, out)

    return switch


__all__ = ["jax_dtype", "CMPF_PREDICATES", "CMPI_PREDICATES"]


# ----------------------------------------------------------------- tensor (scalar <-> tensor)

from xdsl.dialects import tensor as _tensor  # noqa: E402


@emits(_tensor.SplatOp)
def _tensor_splat(b, op):
    if op.dynamicSizes:
        raise emit_error(op, "dynamic sizes are not supported")
    shape = tuple(op.result.type.get_shape())
    return lambda x: jnp.broadcast_to(x, shape)


@emits(_tensor.ExtractOp)
def _tensor_extract(b, op):
    return lambda t, *idx: t[tuple(idx)]
