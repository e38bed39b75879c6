"""Constant folds the other families leave: integer dot_general, reduce of
an iota.

Exact for every value: integer arithmetic wraps in two's complement as XLA's does (numpy
computes in the operands' own type); a floating-point sum of an iota is folded only when
every partial sum is an integer the type holds exactly, so the order does not matter.
"""

from __future__ import annotations

from math import prod

from xdsl.dialects.builtin import TensorType

from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ...ir.dense import element_dtype
from ...ir.query import shape
from ..lazy_jax import jnp, lax
from ..pattern import Example, producer, rule, value_of
from .common import MANTISSA_BITS, MAX_FOLD_ELEMENTS, emit


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<2x2xi32>) -> tensor<2x2xi32> {
  %a = stablehlo.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi32>
  %b = stablehlo.constant dense<[[1, -1], [2, 0], [2147483647, 3]]> : tensor<3x2xi32>
  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (tensor<2x3xi32>, tensor<3x2xi32>) -> tensor<2x2xi32>
  %1 = stablehlo.add %0, %x : tensor<2x2xi32>
  func.return %1 : tensor<2x2xi32>
}"""
    ),
    needs={0: hlo.ConstantOp, 1: hlo.ConstantOp},
)
def dot_general_constant_fold_integer(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(c1, c2) -> c   (integer constants of the result's type; sums wrap)"""
    import numpy as np
    x, y = value_of(op.lhs), value_of(op.rhs)
    if x is None or y is None or x.dtype.kind not in "iu" or x.dtype != y.dtype:
        return None
    try:
        out_dt = np.dtype(element_dtype(op.result.type.get_element_type()))
    except (TypeError, ValueError, KeyError):
        return None
    if out_dt != x.dtype or x.ndim + y.ndim > len(_LETTERS):
        return None
    dn = op.dot_dimension_numbers
    lb, rb = list(dn.lhs_batching_dimensions), list(dn.rhs_batching_dimensions)
    lc, rc = list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)
    work = prod(x.shape) * prod(y.shape[d] for d in range(y.ndim) if d not in rb and d not in rc)
    if work > MAX_FOLD_ELEMENTS:
        return None
    ls = list(_LETTERS[: x.ndim])
    rs = list(_LETTERS[x.ndim : x.ndim + y.ndim])
    for i, j in zip(lb + lc, rb + rc):
        rs[j] = ls[i]
    lfree = [ls[d] for d in range(x.ndim) if d not in lb and d not in lc]
    rfree = [rs[d] for d in range(y.ndim) if d not in rb and d not in rc]
    out_sub = "".join([ls[d] for d in lb] + lfree + rfree)
    with np.errstate(over="ignore"):
        out = np.einsum(f"{''.join(ls)},{''.join(rs)}->{out_sub}", x, y, dtype=x.dtype, casting="unsafe")
    if out.shape != tuple(shape(op.result)):
        return None
    return emit(b, np.ascontiguousarray(out).astype(out_dt), op.result.type)


_REDUCERS = {
    hlo.AddOp: "add",
    hlo.MultiplyOp: "multiply",
    hlo.MaximumOp: "maximum",
    hlo.MinimumOp: "minimum",
    hlo.AndOp: "bitwise_and",
    hlo.OrOp: "bitwise_or",
    hlo.XorOp: "bitwise_xor",
}


def _integer_identity(kind: type, s) -> bool:
    import numpy as np

    info = np.iinfo(s.dtype)
    identity = {
        hlo.AddOp: 0,
        hlo.MultiplyOp: 1,
        hlo.MaximumOp: info.min,
        hlo.MinimumOp: info.max,
        hlo.AndOp: -1 if s.dtype.kind == "i" else info.max,
        hlo.OrOp: 0,
        hlo.XorOp: 0,
    }
    return identity.get(kind) == int(s)


@rule(
    example=[
        Example(lambda x: lax.reduce(lax.broadcasted_iota(jnp.int32, (3, 4), 1), jnp.int32(0), lax.add, (1,)) + x, [(3,)], dtypes=["int32"]),
        Example(lambda x: jnp.sum(lax.broadcasted_iota(jnp.float64, (3, 4), 1), axis=1) + x, [(3,)]),
    ],
    needs={0: hlo.IotaOp},
)
def reduce_iota_constant_fold(op: hlo.ReduceOp, b: Builder):
    """reduce(iota, c, k) -> c'   (c the identity of k; integers with k add, multiply, maximum, minimum, and, or, xor; floats: sums from 0 whose every partial sum is exact)"""
    import numpy as np
    if len(op.inputs) != 1:
        return None
    it = producer(op.inputs[0], hlo.IotaOp)
    init = value_of(op.init_values[0])
    kind = op.combiner()
    if it is None or init is None or init.size != 1 or kind not in _REDUCERS:
        return None
    xs = shape(op.inputs[0])
    if any(n < 0 for n in xs) or prod(xs) > MAX_FOLD_ELEMENTS:
        return None
    dt = init.dtype
    d = it.iota_dimension.value.data
    dims = sorted(int(v) for v in op.dimensions.get_values())
    if dt.kind == "f":
        if kind is not hlo.AddOp or float(init.reshape(())) != 0.0:
            return None
        mant = MANTISSA_BITS.get(dt.name)
        if mant is None or prod(xs) * max(xs[d] - 1, 0) >= 2**mant:
            return None
    elif dt.kind not in "iu" or not _integer_identity(kind, init.reshape(())):
        return None  # a reduction's init that is not the identity is used an unspecified number of times
    n = xs[d]
    line = np.arange(n, dtype=np.int64)
    iota = np.broadcast_to(line.reshape([n if k == d else 1 for k in range(len(xs))]), xs).astype(dt)
    fn = getattr(np, _REDUCERS[kind])
    with np.errstate(over="ignore"):
        acc = fn.reduce(iota, axis=tuple(dims), dtype=dt) if dims else iota
        out = fn(np.asarray(init.reshape(()), dtype=dt), acc).astype(dt)
    if dt.kind == "f":
        out = out + np.zeros((), dtype=dt)  # -0.0 init: +0.0 plus a sum of non-negatives
    rt = op.results_[0].type
    if not isinstance(rt, TensorType) or out.shape != tuple(shape(op.results_[0])):
        return None
    return emit(b, np.ascontiguousarray(out), rt)
