"""Transpose rules: fold transposes into each other, into constants, broadcasts, iotas,
dot_general dimension numbers and reductions, and sink them past elementwise ops.

Canonical direction: transposes move toward the results (``f(transpose(x)) ->
transpose(f(x))``), where they meet other transposes, reductions and contractions that
absorb them. Rules that sink a transpose require it to have no other user, so the
number of transposes never grows.
"""

from __future__ import annotations

from ..lazy_jax import jnp
from ..lazy_jax import lax
from xdsl.dialects.builtin import TensorType

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ..pattern import CONSTANT, Example, sole_producer, producer, rule, shape, UNARY_ELEMENTWISE, BINARY_ELEMENTWISE, only_used_by as _only_used_by
from .common import beside_splat, fold_rearrangement, free_dims, rebuild

UNARY, BINARY = UNARY_ELEMENTWISE, BINARY_ELEMENTWISE


def _perm(op: hlo.TransposeOp) -> list[int]:
    return list(op.permutation.get_values())


def _inverse(perm: list[int]) -> list[int]:
    inv = [0] * len(perm)
    for i, d in enumerate(perm):
        inv[d] = i
    return inv


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


@rule(example=Example(lambda x: jnp.transpose(jnp.transpose(x, (1, 2, 0)), (2, 0, 1)), [(2, 3, 4)]), needs={0: hlo.TransposeOp})
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
    example=[
        Example(
            mlir="""
func.func @main(%x: tensor<4x3xf64>) -> tensor<4x3xf64> {
  %c = "stablehlo.constant"() <{value = dense<2.500000e+00> : tensor<3x4xf64>}> : () -> tensor<3x4xf64>
  %t = "stablehlo.transpose"(%c) <{permutation = array<i64: 1, 0>}> : (tensor<3x4xf64>) -> tensor<4x3xf64>
  %0 = "stablehlo.add"(%x, %t) : (tensor<4x3xf64>, tensor<4x3xf64>) -> tensor<4x3xf64>
  func.return %0 : tensor<4x3xf64>
}"""
        ),
        Example(lambda x: x + jnp.transpose(jnp.array([[1.0, 2.0], [3.0, 4.0]])), [(2, 2)]),
    ]
, needs={0: CONSTANT})
def transpose_constant(op: hlo.TransposeOp, b: Builder):
    """transpose(constant c, p) -> constant c'   (a splat stays broadcast(c); other results of at most 65536 elements)"""
    return fold_rearrangement(op, b, op.operand, lambda v: v.transpose(_perm(op)))


@rule(example=Example(lambda x: x + jnp.transpose(lax.broadcasted_iota(jnp.float64, (3, 4), 1)), [(4, 3)]), needs={0: hlo.IotaOp})
def transpose_iota(op: hlo.TransposeOp, b: Builder):
    """transpose(iota(d), p) -> iota(p⁻¹[d])"""
    iota = producer(op.operand, hlo.IotaOp)
    if iota is None:
        return None
    d = iota.iota_dimension.value.data
    return b.iota(shape(op.result), _inverse(_perm(op))[d], elem(op.result))


@rule(example=Example(lambda x: jnp.transpose(jnp.broadcast_to(x[:, None, :], (3, 2, 4)), (2, 0, 1)), [(3, 4)]), needs={0: hlo.BroadcastInDimOp})
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


@rule(roots=UNARY, example=Example(lambda x: jnp.exp(x.T), [(3, 4)]), needs={0: hlo.TransposeOp})
def unary_transpose(op, b: Builder):
    """f(transpose(x, p)) -> transpose(f(x), p)   (f elementwise; the transpose has no other user)"""
    t = sole_producer(op.operand, hlo.TransposeOp, op)
    if t is None:
        return None
    return b.transpose(rebuild(b, op, [t.operand], shape(t.operand)), _perm(t))


@rule(roots=BINARY, example=Example(lambda x, y: x.T * y.T, [(3, 4), (3, 4)]), needs={0: hlo.TransposeOp, 1: hlo.TransposeOp})
def binary_transposes(op, b: Builder):
    """f(transpose(x, p), transpose(y, p)) -> transpose(f(x, y), p)   (f elementwise; no other users)"""
    tx, ty = sole_producer(op.lhs, hlo.TransposeOp, op), sole_producer(op.rhs, hlo.TransposeOp, op)
    if tx is None or ty is None or _perm(tx) != _perm(ty):
        return None
    return b.transpose(rebuild(b, op, [tx.operand, ty.operand], shape(tx.operand)), _perm(tx))


@rule(roots=BINARY, example=[Example(lambda x: x.T - 2.0, [(3, 4)]), Example(lambda x: 2.0 - x.T, [(3, 4)])], needs=hlo.TransposeOp)
def binary_transpose_splat(op, b: Builder):
    """f(transpose(x, p), splat c) -> transpose(f(x, splat c), p) ;  f(splat c, transpose(x, p)) likewise   (f elementwise; no other user)"""
    match = beside_splat(op, b, hlo.TransposeOp)
    if match is None:
        return None
    t, c, place = match
    c = b.broadcast_in_dim(c, shape(t.operand), [])
    return b.transpose(rebuild(b, op, place(t.operand, c), shape(t.operand)), _perm(t))


@rule(example=Example(lambda z, x, y: jnp.where(z.T, x.T, y.T), [(3, 4), (3, 4), (3, 4)], dtypes=["bool", "float64", "float64"]), needs={1: hlo.TransposeOp, 2: hlo.TransposeOp})
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
, needs={1: hlo.TransposeOp})
def clamp_transpose(op: hlo.ClampOp, b: Builder):
    """clamp(lo, transpose(x, p), hi) -> transpose(clamp(lo, x, hi), p)   (scalar lo and hi)"""
    t = sole_producer(op.operand, hlo.TransposeOp, op)
    if t is None or shape(op.min) != () or shape(op.max) != ():
        return None
    return b.transpose(b.clamp(op.min, t.operand, op.max), _perm(t))


@rule(example=Example(lambda x: jnp.flip(x.T, axis=0), [(3, 4)]), needs={0: hlo.TransposeOp})
def reverse_transpose(op: hlo.ReverseOp, b: Builder):
    """reverse(transpose(x, p), dims) -> transpose(reverse(x, p[dims]), p)   (no other user)"""
    t = sole_producer(op.operand, hlo.TransposeOp, op)
    if t is None:
        return None
    p = _perm(t)
    return b.transpose(b.reverse(t.operand, [p[d] for d in op.dimensions.get_values()]), p)


@rule(example=Example(lambda x, y: jnp.concatenate([x.T, y.T], axis=1), [(3, 4), (2, 4)]), needs={0: hlo.TransposeOp, 1: hlo.TransposeOp})
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


@rule(example=[Example(lambda x, y: x.T @ y, [(5, 3), (5, 4)]), Example(lambda x, y: jnp.matmul(x, jnp.swapaxes(y, 1, 2)), [(2, 3, 4), (2, 5, 4)])], needs=hlo.TransposeOp)
def dot_general_transpose(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(transpose(x, p), y) -> dot_general(x, y) with p applied to the lhs dimension numbers ;  same for y   (free dims keep their order)"""
    if op.algorithm is not None:
        return None
    dn = op.dot_dimension_numbers
    numbers = [
        [list(dn.lhs_batching_dimensions), list(dn.rhs_batching_dimensions)],
        [list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)],
    ]
    operands = [op.lhs, op.rhs]
    for side in (0, 1):
        t = producer(operands[side], hlo.TransposeOp)
        if t is None:
            continue
        p = _perm(t)
        batch, contract = numbers[0][side], numbers[1][side]
        free = [p[j] for j in free_dims(len(p), batch, contract)]
        if free != sorted(free):
            continue
        operands[side] = t.operand
        numbers[0][side], numbers[1][side] = [p[j] for j in batch], [p[j] for j in contract]
        (lb, rb), (lc, rc) = numbers
        return b.dot_general(*operands, lb, rb, lc, rc, elem(op.result), op.precision_config)
    return None


@rule(example=[Example(lambda x, y: lax.dot_general(x, y, (((0,), (0,)), ((), ()))).T, [(5, 3), (5, 4)]), Example(lambda x, y: jnp.transpose(x @ y, (1, 0, 2, 3)), [(2, 3, 4, 5), (2, 3, 5, 6)])], needs={0: hlo.DotGeneralOp})
def transpose_dot_general(op: hlo.TransposeOp, b: Builder):
    """transpose(dot_general(x, y), p) -> dot_general(y, x) or dot_general(x, y) with permuted batch dims   (p moves whole free groups)

    The swap makes x the rhs; it is not done when x is contracted over its trailing
    dimensions (``(x @ y).T``, ``(x @ w.T).T``): as a rhs x would then need a transposed
    copy before the product, which costs more than transposing the result (under jax.vmap
    of a Hessian, x is the batched tangent and the copy is of the whole batch)."""
    dot = producer(op.operand, hlo.DotGeneralOp)
    if dot is None or dot.algorithm is not None or not _only_used_by(dot.result, op):
        return None
    dn, p = dot.dot_dimension_numbers, _perm(op)
    lb, rb = list(dn.lhs_batching_dimensions), list(dn.rhs_batching_dimensions)
    lc, rc = list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)
    nb = len(lb)
    nl = len(free_dims(len(shape(dot.lhs)), lb, lc))
    nr = len(free_dims(len(shape(dot.rhs)), rb, rc))
    sigma, rest = p[:nb], p[nb:]
    if sorted(sigma) != list(range(nb)):
        return None
    lb2, rb2 = [lb[s] for s in sigma], [rb[s] for s in sigma]
    if rest == list(range(nb, nb + nl + nr)):
        return b.dot_general(dot.lhs, dot.rhs, lb2, rb2, lc, rc, elem(op.result), dot.precision_config)
    if rest == list(range(nb + nl, nb + nl + nr)) + list(range(nb, nb + nl)):
        rank = len(shape(dot.lhs))
        if lc and sorted(lc) == list(range(rank - len(lc), rank)):
            return None
        precision = dot.precision_config
        if precision is not None and len(precision.data) == 2:
            precision = type(precision)([precision.data[1], precision.data[0]])
        return b.dot_general(dot.rhs, dot.lhs, rb2, lb2, rc, lc, elem(op.result), precision)
    return None


@rule(example=Example(lambda x: jnp.sum(jnp.transpose(x, (2, 0, 1)), axis=1), [(2, 3, 4)]), needs={0: hlo.TransposeOp})
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

