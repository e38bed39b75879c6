"""Transpose rules: fold transposes into each other, into constants, broadcasts, iotas,
dot_general dimension numbers and reductions, and sink them past elementwise ops.

Canonical direction: transposes move toward the results (``f(transpose(x)) ->
transpose(f(x))``), where they meet other transposes, reductions and contractions that
absorb them. Rules that sink a transpose require it to have no other user, so the
number of transposes never grows.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax
from xdsl.dialects.builtin import TensorType

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ..pattern import Example, sole_producer, producer, rule, shape, splat_value, UNARY_ELEMENTWISE, BINARY_ELEMENTWISE, only_used_by as _only_used_by, is_dead as _is_dead

UNARY, BINARY = UNARY_ELEMENTWISE, BINARY_ELEMENTWISE


def _perm(op: hlo.TransposeOp) -> list[int]:
    return list(op.permutation.get_values())


def _inverse(perm: list[int]) -> list[int]:
    inv = [0] * len(perm)
    for i, d in enumerate(perm):
        inv[d] = i
    return inv


def _rebuild(b: Builder, op, operands, dims) -> object:
    """``op`` (an elementwise op) again on ``operands``, with result shape ``dims``."""
    result_type = TensorType(op.result.type.get_element_type(), list(dims))
    new = type(op).create(operands=list(operands), result_types=[result_type], properties=dict(op.properties), attributes=dict(op.attributes))
    return b.insert(new).results[0]


def _is_scalar_broadcast(v) -> bool:
    """``v`` is a broadcast of a rank-0 value or a splat constant."""
    bc = producer(v, hlo.BroadcastInDimOp)
    if bc is not None and shape(bc.operand) == ():
        return True
    return producer(v, hlo.ConstantOp) is not None and splat_value(v) is not None


def _rebroadcast(b: Builder, v, dims) -> object:
    """The scalar that ``v`` broadcasts (see _is_scalar_broadcast), broadcast to ``dims``."""
    bc = producer(v, hlo.BroadcastInDimOp)
    if bc is not None:
        return b.broadcast_in_dim(bc.operand, dims, [])
    return b.constant(splat_value(v), TensorType(elem(v), list(dims)))


# ============================================================================ transpose of transposes and of leaves


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3x4xf64>) -> tensor<3x4xf64> {
  %0 = "stablehlo.transpose"(%x) <{permutation = array<i64: 0, 1>}> : (tensor<3x4xf64>) -> tensor<3x4xf64>
  func.return %0 : tensor<3x4xf64>
}"""
    )
)
def transpose_identity(op: hlo.TransposeOp, b: Builder):
    """transpose(x, [0, 1, ..., n-1]) -> x"""
    if _perm(op) == list(range(len(_perm(op)))):
        return op.operand
    return None


@rule(example=Example(lambda x: jnp.transpose(jnp.transpose(x, (1, 2, 0)), (2, 0, 1)), [(2, 3, 4)]))
def transpose_transpose(op: hlo.TransposeOp, b: Builder):
    """transpose(transpose(x, p), q) -> transpose(x, p∘q)   (x when p∘q is the identity)"""
    inner = producer(op.operand, hlo.TransposeOp)
    if inner is None:
        return None
    p, q = _perm(inner), _perm(op)
    return b.transpose(inner.operand, [p[j] for j in q])


@rule(example=Example(lambda x: jnp.transpose(x, (1, 0, 2)), [(1, 3, 4)]))
def transpose_moves_unit_dims(op: hlo.TransposeOp, b: Builder):
    """transpose(x, p) -> reshape(x)   (p keeps the order of the dimensions of size > 1)"""
    p, src = _perm(op), shape(op.operand)
    moved = [d for d in p if src[d] != 1]
    if p == list(range(len(p))) or moved != sorted(moved):
        return None
    return b.reshape(op.operand, shape(op.result))


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<4x3xf64>) -> tensor<4x3xf64> {
  %c = "stablehlo.constant"() <{value = dense<2.500000e+00> : tensor<3x4xf64>}> : () -> tensor<3x4xf64>
  %t = "stablehlo.transpose"(%c) <{permutation = array<i64: 1, 0>}> : (tensor<3x4xf64>) -> tensor<4x3xf64>
  %0 = "stablehlo.add"(%x, %t) : (tensor<4x3xf64>, tensor<4x3xf64>) -> tensor<4x3xf64>
  func.return %0 : tensor<4x3xf64>
}"""
    )
)
def transpose_splat_constant(op: hlo.TransposeOp, b: Builder):
    """transpose(constant splat c) -> broadcast(c)"""
    if producer(op.operand, hlo.ConstantOp) is None:
        return None
    c = splat_value(op.operand)
    if c is None:
        return None
    return b.constant(c, op.result.type)


@rule(example=Example(lambda x: x + jnp.transpose(lax.broadcasted_iota(jnp.float64, (3, 4), 1)), [(4, 3)]))
def transpose_iota(op: hlo.TransposeOp, b: Builder):
    """transpose(iota(d), p) -> iota(p⁻¹[d])"""
    iota = producer(op.operand, hlo.IotaOp)
    if iota is None:
        return None
    d = iota.iota_dimension.value.data
    return b.iota(shape(op.result), _inverse(_perm(op))[d], elem(op.result))


@rule(example=Example(lambda x: jnp.transpose(jnp.broadcast_to(x[:, None, :], (3, 2, 4)), (2, 0, 1)), [(3, 4)]))
def transpose_broadcast_in_dim(op: hlo.TransposeOp, b: Builder):
    """transpose(broadcast_in_dim(x, dims), p) -> broadcast_in_dim(transpose(x, q), sorted(p⁻¹[dims]))"""
    bc = producer(op.operand, hlo.BroadcastInDimOp)
    if bc is None:
        return None
    inv = _inverse(_perm(op))
    dims = [inv[d] for d in bc.broadcast_dimensions.get_values()]
    order = sorted(range(len(dims)), key=lambda i: dims[i])
    x = b.transpose(bc.operand, order)
    return b.broadcast_in_dim(x, shape(op.result), sorted(dims))


# ============================================================================ sinking transposes past elementwise ops


@rule(roots=UNARY, example=Example(lambda x: jnp.exp(x.T), [(3, 4)]))
def unary_transpose(op, b: Builder):
    """f(transpose(x, p)) -> transpose(f(x), p)   (f elementwise; the transpose has no other user)"""
    t = sole_producer(op.operand, hlo.TransposeOp, op)
    if t is None:
        return None
    return b.transpose(_rebuild(b, op, [t.operand], shape(t.operand)), _perm(t))


@rule(roots=BINARY, example=Example(lambda x, y: x.T * y.T, [(3, 4), (3, 4)]))
def binary_transposes(op, b: Builder):
    """f(transpose(x, p), transpose(y, p)) -> transpose(f(x, y), p)   (f elementwise; no other users)"""
    tx, ty = sole_producer(op.lhs, hlo.TransposeOp, op), sole_producer(op.rhs, hlo.TransposeOp, op)
    if tx is None or ty is None or _perm(tx) != _perm(ty):
        return None
    return b.transpose(_rebuild(b, op, [tx.operand, ty.operand], shape(tx.operand)), _perm(tx))


@rule(roots=BINARY, example=Example(lambda x: x.T - 2.0, [(3, 4)]))
def binary_transpose_splat_rhs(op, b: Builder):
    """f(transpose(x, p), splat c) -> transpose(f(x, splat c), p)   (f elementwise; no other user)"""
    t = sole_producer(op.lhs, hlo.TransposeOp, op)
    if t is None or not _is_scalar_broadcast(op.rhs):
        return None
    c = _rebroadcast(b, op.rhs, shape(t.operand))
    return b.transpose(_rebuild(b, op, [t.operand, c], shape(t.operand)), _perm(t))


@rule(roots=BINARY, example=Example(lambda x: 2.0 - x.T, [(3, 4)]))
def binary_transpose_splat_lhs(op, b: Builder):
    """f(splat c, transpose(x, p)) -> transpose(f(splat c, x), p)   (f elementwise; no other user)"""
    t = sole_producer(op.rhs, hlo.TransposeOp, op)
    if t is None or not _is_scalar_broadcast(op.lhs):
        return None
    c = _rebroadcast(b, op.lhs, shape(t.operand))
    return b.transpose(_rebuild(b, op, [c, t.operand], shape(t.operand)), _perm(t))


@rule(example=Example(lambda z, x, y: jnp.where(z.T, x.T, y.T), [(3, 4), (3, 4), (3, 4)], dtypes=["bool", "float64", "float64"]))
def select_transposes(op: hlo.SelectOp, b: Builder):
    """select(transpose(p, q), transpose(x, q), transpose(y, q)) -> transpose(select(p, x, y), q)   (also a scalar p)"""
    tx, ty = sole_producer(op.on_true, hlo.TransposeOp, op), sole_producer(op.on_false, hlo.TransposeOp, op)
    if tx is None or ty is None or _perm(tx) != _perm(ty):
        return None
    if shape(op.pred) == ():
        pred = op.pred
    else:
        tp = sole_producer(op.pred, hlo.TransposeOp, op)
        if tp is None or _perm(tp) != _perm(tx):
            return None
        pred = tp.operand
    return b.transpose(b.select(pred, tx.operand, ty.operand), _perm(tx))


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3x4xf64>, %lo: tensor<f64>, %hi: tensor<f64>) -> tensor<4x3xf64> {
  %t = "stablehlo.transpose"(%x) <{permutation = array<i64: 1, 0>}> : (tensor<3x4xf64>) -> tensor<4x3xf64>
  %0 = "stablehlo.clamp"(%lo, %t, %hi) : (tensor<f64>, tensor<4x3xf64>, tensor<f64>) -> tensor<4x3xf64>
  func.return %0 : tensor<4x3xf64>
}"""
    )
)
def clamp_transpose(op: hlo.ClampOp, b: Builder):
    """clamp(lo, transpose(x, p), hi) -> transpose(clamp(lo, x, hi), p)   (scalar lo and hi)"""
    t = sole_producer(op.operand, hlo.TransposeOp, op)
    if t is None or shape(op.min) != () or shape(op.max) != ():
        return None
    return b.transpose(b.clamp(op.min, t.operand, op.max), _perm(t))


@rule(example=Example(lambda x: jnp.flip(x.T, axis=0), [(3, 4)]))
def reverse_transpose(op: hlo.ReverseOp, b: Builder):
    """reverse(transpose(x, p), dims) -> transpose(reverse(x, p[dims]), p)   (no other user)"""
    t = sole_producer(op.operand, hlo.TransposeOp, op)
    if t is None:
        return None
    p = _perm(t)
    return b.transpose(b.reverse(t.operand, [p[d] for d in op.dimensions.get_values()]), p)


@rule(example=Example(lambda x, y: jnp.concatenate([x.T, y.T], axis=1), [(3, 4), (2, 4)]))
def concatenate_transposes(op: hlo.ConcatenateOp, b: Builder):
    """concatenate(transpose(x, p), transpose(y, p), dim) -> transpose(concatenate(x, y, p[dim]), p)   (no other users)"""
    ts = [producer(v, hlo.TransposeOp) for v in op.inputs]
    if len(ts) < 2 or any(t is None or not _only_used_by(t.result, op) for t in ts):
        return None
    p = _perm(ts[0])
    if any(_perm(t) != p for t in ts):
        return None
    dim = op.dimension.value.data
    return b.transpose(b.concatenate([t.operand for t in ts], p[dim]), p)


# ============================================================================ transposes absorbed by contractions and reductions


def _free(rank: int, batch, contract) -> list[int]:
    return [d for d in range(rank) if d not in batch and d not in contract]


@rule(example=Example(lambda x, y: x.T @ y, [(5, 3), (5, 4)]))
def dot_general_transpose_lhs(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(transpose(x, p), y) -> dot_general(x, y) with p applied to the lhs dimension numbers   (free dims keep their order)"""
    t = producer(op.lhs, hlo.TransposeOp)
    if t is None or op.algorithm is not None:
        return None
    dn, p = op.dot_dimension_numbers, _perm(t)
    lb, lc = list(dn.lhs_batching_dimensions), list(dn.lhs_contracting_dimensions)
    free = [p[j] for j in _free(len(p), lb, lc)]
    if free != sorted(free):
        return None
    return b.dot_general(
        t.operand,
        op.rhs,
        [p[j] for j in lb],
        dn.rhs_batching_dimensions,
        [p[j] for j in lc],
        dn.rhs_contracting_dimensions,
        elem(op.result),
        op.precision_config,
    )


@rule(example=Example(lambda x, y: jnp.matmul(x, jnp.swapaxes(y, 1, 2)), [(2, 3, 4), (2, 5, 4)]))
def dot_general_transpose_rhs(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(x, transpose(y, p)) -> dot_general(x, y) with p applied to the rhs dimension numbers   (free dims keep their order)"""
    t = producer(op.rhs, hlo.TransposeOp)
    if t is None or op.algorithm is not None:
        return None
    dn, p = op.dot_dimension_numbers, _perm(t)
    rb, rc = list(dn.rhs_batching_dimensions), list(dn.rhs_contracting_dimensions)
    free = [p[j] for j in _free(len(p), rb, rc)]
    if free != sorted(free):
        return None
    return b.dot_general(
        op.lhs,
        t.operand,
        dn.lhs_batching_dimensions,
        [p[j] for j in rb],
        dn.lhs_contracting_dimensions,
        [p[j] for j in rc],
        elem(op.result),
        op.precision_config,
    )


@rule(example=Example(lambda x, y: (x @ y).T, [(3, 5), (5, 4)]))
def transpose_dot_general(op: hlo.TransposeOp, b: Builder):
    """transpose(dot_general(x, y), p) -> dot_general(y, x) or dot_general(x, y) with permuted batch dims   (p moves whole free groups)"""
    dot = producer(op.operand, hlo.DotGeneralOp)
    if dot is None or dot.algorithm is not None or not _only_used_by(dot.result, op):
        return None
    dn, p = dot.dot_dimension_numbers, _perm(op)
    lb, rb = list(dn.lhs_batching_dimensions), list(dn.rhs_batching_dimensions)
    lc, rc = list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)
    nb = len(lb)
    nl = len(_free(len(shape(dot.lhs)), lb, lc))
    nr = len(_free(len(shape(dot.rhs)), rb, rc))
    sigma, rest = p[:nb], p[nb:]
    if sorted(sigma) != list(range(nb)):
        return None
    lb2, rb2 = [lb[s] for s in sigma], [rb[s] for s in sigma]
    if rest == list(range(nb, nb + nl + nr)):
        return b.dot_general(dot.lhs, dot.rhs, lb2, rb2, lc, rc, elem(op.result), dot.precision_config)
    if rest == list(range(nb + nl, nb + nl + nr)) + list(range(nb, nb + nl)):
        precision = dot.precision_config
        if precision is not None and len(precision.data) == 2:
            precision = type(precision)([precision.data[1], precision.data[0]])
        return b.dot_general(dot.rhs, dot.lhs, rb2, lb2, rc, lc, elem(op.result), precision)
    return None


@rule(example=Example(lambda x: jnp.sum(jnp.transpose(x, (2, 0, 1)), axis=1), [(2, 3, 4)]))
def reduce_transpose(op: hlo.ReduceOp, b: Builder):
    """reduce(transpose(x, p), dims) -> transpose(reduce(x, p[dims]))   (the transpose dropped when the kept dims stay in order)"""
    ts = [producer(v, hlo.TransposeOp) for v in op.inputs]
    if any(t is None or not _only_used_by(t.result, op) for t in ts):
        return None
    p = _perm(ts[0])
    if any(_perm(t) != p for t in ts):
        return None
    dims = list(op.dimensions.get_values())
    kept = [p[j] for j in range(len(p)) if j not in dims]
    kept_sorted = sorted(kept)
    src = shape(ts[0].operand)
    new = hlo.ReduceOp.create(
        operands=[*(t.operand for t in ts), *op.init_values],
        result_types=[TensorType(elem(r), [src[k] for k in kept_sorted]) for r in op.results_],
        properties={**op.properties, "dimensions": hlo.i64_array(sorted(p[d] for d in dims))},
        attributes=dict(op.attributes),
        regions=[op.body.clone()],
    )
    b.insert(new)
    q = [kept_sorted.index(k) for k in kept]
    return [b.transpose(r, q) for r in new.results_]

