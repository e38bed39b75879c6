"""Ops whose results have no elements: a constant of the result type, whatever the
operands are (the ops are pure, and a tensor without elements has no value to compute).
"""

from __future__ import annotations

from math import prod

from xdsl.dialects.builtin import TensorType

from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ...ir.query import is_pure, shape
from ..lazy_jax import jnp, lax
from ..pattern import Example, rule


def _has_dtype(v) -> bool:
    """A constant of ``v``'s type can be built (its element type has a numpy dtype)."""
    from ...ir.dense import element_dtype

    try:
        element_dtype(v.type.get_element_type())
    except (TypeError, ValueError, KeyError):
        return False
    return True


@rule(
    example=[
        Example(lambda x: jnp.sort(x[:, :0], axis=1).sum() + x, [(3, 4)]),
        Example(lambda x: lax.reduce_window(x[:0], 0.0, lax.add, (1, 2), (1, 1), "VALID").sum() + x, [(3, 4)]),
        Example(lambda x: jnp.concatenate([jnp.transpose(x[:0]), jnp.ones((4, 1))], axis=1) * 2.0, [(3, 4)]),
    ],
    roots=[hlo.GatherOp, hlo.ReduceWindowOp, hlo.SortOp, hlo.ConvolutionOp, hlo.DotGeneralOp, hlo.FftOp, hlo.TransposeOp, hlo.ReverseOp, hlo.BroadcastInDimOp, hlo.SliceOp, hlo.ReshapeOp, hlo.IotaOp, hlo.SelectAndScatterOp],
)
def empty_result_to_constant(op, b: Builder):
    """op(...) -> constant   (every result a tensor without elements; the op pure)"""
    if not op.results or not all(isinstance(r.type, TensorType) for r in op.results):
        return None
    if any(any(n < 0 for n in shape(r)) or prod(shape(r)) != 0 for r in op.results):
        return None
    if not is_pure(op) or not all(_has_dtype(r) for r in op.results):
        return None
    return [b.zeros(r.type) for r in op.results]
