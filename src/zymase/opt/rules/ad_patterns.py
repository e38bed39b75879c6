"""Rules for the shapes reverse mode produces: cotangents scattered into zero tensors and
accumulated. In a reversed loop, ``acc + dynamic_update_slice(zeros, ct, i)`` touches the
whole accumulator every iteration (O(n) per step, O(n^2) per loop); updating only the
window keeps each step O(1)."""

from __future__ import annotations

from ..lazy_jax import jnp
from ..lazy_jax import lax

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, shape
from xdsl.ir import SSAValue

from ..pattern import Example, is_splat, producer, rule


def _scatter_into_zeros(v):
    dus = producer(v, hlo.DynamicUpdateSliceOp)
    if dus is not None and is_splat(dus.operand, 0):
        return dus
    return None


@rule(
    example=[
        Example(lambda acc, u: acc + lax.dynamic_update_slice(jnp.zeros(8), u, (2,)), [(8,), (3,)]),
        Example(lambda acc, u: lax.dynamic_update_slice(jnp.zeros(8), u, (2,)) + acc, [(8,), (3,)]),
    ],
    commutative=True,
    needs=hlo.DynamicUpdateSliceOp,
)
def add_dynamic_update_slice_of_zeros(op: hlo.AddOp, b: Builder, acc: SSAValue, other: SSAValue):
    """add(acc, dynamic_update_slice(0, u, i)) -> dynamic_update_slice(acc, add(dynamic_slice(acc, i), u), i)"""
    dus = _scatter_into_zeros(other)
    if dus is None:
        return None
    idx = list(dus.start_indices)
    window = b.dynamic_slice(acc, idx, shape(dus.update))
    return b.dynamic_update_slice(acc, b.add(window, dus.update), idx)
