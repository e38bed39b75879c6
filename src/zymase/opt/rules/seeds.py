"""Identities of the identity matrix: the seeds of a width-N forward sweep.

``zymase.jacfwd`` / ``zymase.hessian`` seed one ``enzyme.fwddiff`` of width N with the
identity, written ``select(compare EQ(iota 0, iota 1), 1, 0)`` (api.py's
``identity_seeds``) so that these rules see it through the derivative code: a product
with the identity keeps the other factor (a dense layer's first tangent is its weight
matrix), a product of the identity with a broadcast vector stays diagonal, and a sum
over the diagonal of such a value is the vector.

A product with the identity adds ``0 * y`` for every off-diagonal element: exact when
``y`` is finite (up to the sign of a zero), NaN where ``y`` is NaN or infinite. Rules
that drop those products are exact when the other factor is a constant whose values are
all finite, and ``unsafe`` (fast-math only) otherwise.
"""

from __future__ import annotations

from ..lazy_jax import jnp
from ..lazy_jax import lax
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ..pattern import Example, producer, rule, shape
from .common import constant_array, constant_splat, dense_constant

N = 4


def _diag():
    """compare EQ(iota 0, iota 1) (for the examples)."""
    return lax.broadcasted_iota(jnp.int32, (N, N), 0) == lax.broadcasted_iota(jnp.int32, (N, N), 1)


def _eye(x):
    """The identity as jacfwd writes its seeds (for the examples)."""
    return lax.select(_diag(), jnp.ones((N, N), x.dtype), jnp.zeros((N, N), x.dtype))


def _iota_dim(v: SSAValue) -> int | None:
    iota = producer(v, hlo.IotaOp)
    return None if iota is None else iota.iota_dimension.value.data


def _splat_is(v: SSAValue, x: float) -> bool:
    s = constant_splat(v)
    return s is not None and s.dtype.kind in "fc" and bool(s == x)


def diagonal_predicate(v: SSAValue) -> bool:
    """``v`` is ``compare EQ(iota 0, iota 1)`` (either order) of a square rank-2 shape:
    true exactly on the diagonal."""
    cmp = producer(v, hlo.CompareOp)
    s = shape(v)
    if cmp is None or len(s) != 2 or s[0] != s[1] or cmp.comparison_direction.data.value != "EQ":
        return False
    return {_iota_dim(cmp.lhs), _iota_dim(cmp.rhs)} == {0, 1}


def is_identity(v: SSAValue) -> bool:
    """``v`` is the square identity matrix ``select(diagonal, 1, 0)``."""
    sel = producer(v, hlo.SelectOp)
    return sel is not None and diagonal_predicate(sel.pred) and _splat_is(sel.on_true, 1) and _splat_is(sel.on_false, 0)


def _finite_constant(v: SSAValue) -> bool:
    import numpy as np

    arr = dense_constant(v)
    if arr is None:
        arr = constant_array(v)
    if arr is None:
        s = constant_splat(v)
        arr = None if s is None else np.asarray(s)
    return arr is not None and arr.dtype.kind == "f" and bool(np.all(np.isfinite(arr)))


def _identity_product(op: hlo.DotGeneralOp, b: Builder, need_finite: bool) -> SSAValue | None:
    """dot_general(I, y) -> y with its contracted dim first; dot_general(y, I) -> y with
    its contracted dim last (one contracting dim, no batch dims)."""
    dn = op.dot_dimension_numbers
    if list(dn.lhs_batching_dimensions) or list(dn.rhs_batching_dimensions) or op.algorithm is not None:
        return None
    lc, rc = list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)
    if len(lc) != 1 or not (elem(op.lhs) == elem(op.rhs) == elem(op.result)):
        return None
    if is_identity(op.lhs):
        other, c, first = op.rhs, rc[0], True
    elif is_identity(op.rhs):
        other, c, first = op.lhs, lc[0], False
    else:
        return None
    if need_finite and not _finite_constant(other):
        return None
    rest = [d for d in range(len(shape(other))) if d != c]
    perm = [c, *rest] if first else [*rest, c]
    if perm == list(range(len(perm))):
        return other
    return b.transpose(other, perm)


_W = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [3.0, 1.0, 0.0], [-2.0, 0.5, 1.25]]
_WT = [list(row) for row in zip(*_W)]


@rule(example=[
    Example(lambda x: _eye(x) @ jnp.asarray(_W, x.dtype) + x[:, :3], [(N, N)]),
    Example(lambda x: jnp.asarray(_WT, x.dtype) @ _eye(x) + x[:3], [(N, N)]),
], needs=hlo.SelectOp)
def dot_general_identity(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(I, w) -> w ;  dot_general(w, I) -> w   (transposed to the result's dims; w a constant with finite values)"""
    return _identity_product(op, b, need_finite=True)


@rule(example=[
    Example(lambda x, w: _eye(x) @ w, [(N,), (N, 3)]),
    Example(lambda x, w: w @ _eye(x), [(N,), (3, N)]),
], unsafe=True, needs=hlo.SelectOp)
def dot_general_identity_any(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(I, y) -> y ;  dot_general(y, I) -> y   (transposed to the result's dims; y finite: fast-math only)"""
    return _identity_product(op, b, need_finite=False)


@rule(example=[
    Example(lambda x, v: _eye(x) * jnp.broadcast_to(v, (N, N)), [(N,), (N,)]),
    Example(lambda x, v: jnp.broadcast_to(v[:, None], (N, N)) * _eye(x), [(N,), (N,)]),
], unsafe=True, commutative=True, needs=hlo.SelectOp)
def multiply_identity(op: hlo.MultiplyOp, b: Builder, x: SSAValue, y: SSAValue):
    """multiply(x, select(c, 1, 0)) -> select(c, x, 0)   (x finite: fast-math only; the identity times broadcast(v) stays diagonal)"""
    sel = producer(y, hlo.SelectOp)
    if sel is None or not _splat_is(sel.on_true, 1) or not _splat_is(sel.on_false, 0) or shape(x) != shape(y):
        return None
    return b.select(sel.pred, x, sel.on_false)


def _diagonal_of_broadcast(v: SSAValue) -> SSAValue | None:
    """The vector u when ``v`` = ``select(diagonal, broadcast_in_dim(u), 0)`` with ``u``
    of rank 1 (the value is ``u`` on the diagonal and 0 elsewhere)."""
    sel = producer(v, hlo.SelectOp)
    if sel is None or not diagonal_predicate(sel.pred) or not _splat_is(sel.on_false, 0):
        return None
    bc = producer(sel.on_true, hlo.BroadcastInDimOp)
    if bc is None or sorted(shape(bc.operand)) != [1] * (len(shape(bc.operand)) - 1) + [shape(v)[0]]:
        return None
    return bc.operand  # rank 1, or (n, 1) / (1, n)


@rule(example=[
    Example(lambda x, v: jnp.sum(lax.select(_diag(), jnp.broadcast_to(v, (N, N)), jnp.zeros((N, N), v.dtype)), axis=1) + x, [(N,), (N,)]),
    Example(lambda x, v: jnp.sum(lax.select(_diag(), jnp.broadcast_to(v[:, None], (N, N)), jnp.zeros((N, N), v.dtype)), axis=0) + x, [(N,), (N,)]),
], needs={0: hlo.SelectOp})
def reduce_diagonal(op: hlo.ReduceOp, b: Builder):
    """reduce_add(select(diagonal, broadcast(u), 0), [d]) -> u   (each row and column holds one element of u and zeros; up to the sign of a zero)"""
    if len(op.inputs) != 1 or len(shape(op.inputs[0])) != 2 or len(list(op.dimensions.get_values())) != 1:
        return None
    if op.combiner() is not hlo.AddOp or not _splat_is(op.init_values[0], 0):
        return None
    u = _diagonal_of_broadcast(op.inputs[0])
    if u is None or elem(u) != elem(op.results[0]):
        return None
    return u if len(shape(u)) == 1 else b.reshape(u, shape(op.results[0]))


@rule(example=Example(lambda x, v: jnp.transpose(lax.select(_diag(), jnp.broadcast_to(v, (N, N)), jnp.zeros((N, N), v.dtype))) + x, [(N,), (N,)]), needs={0: hlo.SelectOp})
def transpose_diagonal(op: hlo.TransposeOp, b: Builder):
    """transpose(select(diagonal, broadcast(u), 0)) -> select(diagonal, broadcast(u), 0)   (a diagonal matrix is symmetric)"""
    if list(op.permutation.get_values()) != [1, 0] or _diagonal_of_broadcast(op.operand) is None:
        return None
    return op.operand
