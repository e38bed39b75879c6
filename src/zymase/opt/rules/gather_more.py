"""Gathers whose values are their indices: elements of a one-dimensional iota.

Exact for every index: a gather clamps each start into the operand, so the element read
at index i of iota(n) is clamp(i, 0, n - 1), converted to the iota's type (n - 1 fits the
type: an iota's values are exact in it).
"""

from __future__ import annotations

from xdsl.dialects.builtin import TensorType

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ...ir.query import shape
from ..pattern import Example, producer, rule


@rule(
    example=[
        Example(
            mlir="""
func.func @main(%i: tensor<4x1xi32>) -> tensor<4xf64> {
  %x = stablehlo.iota dim = 0 : tensor<5xf64>
  %0 = "stablehlo.gather"(%x, %i) {dimension_numbers = #stablehlo.gather<collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 1>, slice_sizes = array<i64: 1>} : (tensor<5xf64>, tensor<4x1xi32>) -> tensor<4xf64>
  func.return %0 : tensor<4xf64>
}"""
        ),
        Example(
            mlir="""
func.func @main(%i: tensor<2x3xi64>) -> tensor<2x3xi64> {
  %x = stablehlo.iota dim = 0 : tensor<4xi64>
  %0 = "stablehlo.gather"(%x, %i) {dimension_numbers = #stablehlo.gather<collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 2>, slice_sizes = array<i64: 1>} : (tensor<4xi64>, tensor<2x3xi64>) -> tensor<2x3xi64>
  func.return %0 : tensor<2x3xi64>
}"""
        ),
    ],
    needs={0: hlo.IotaOp},
)
def gather_iota_elements(op: hlo.GatherOp, b: Builder):
    """gather(iota(n), i) -> convert(clamp(0, i, n - 1))   (elements of a one-dimensional iota: the value read is the clamped index)"""
    it = producer(op.operand, hlo.IotaOp)
    if it is None or len(shape(op.operand)) != 1:
        return None
    n = shape(op.operand)[0]
    dn = op.dimension_numbers
    if list(dn.offset_dims) or list(dn.collapsed_slice_dims) != [0] or list(dn.start_index_map) != [0]:
        return None
    if list(dn.operand_batching_dims) or list(dn.start_indices_batching_dims) or list(op.slice_sizes.get_values()) != [1]:
        return None
    idx = op.start_indices
    ishape = list(shape(idx))
    v = dn.index_vector_dim
    if v < len(ishape):
        if ishape[v] != 1:
            return None
        batch = ishape[:v] + ishape[v + 1 :]
    else:
        batch = ishape
    if n <= 0 or batch != list(shape(op.result)) or any(d < 0 for d in batch):
        return None
    t = elem(idx)
    if getattr(t, "width", None) is None or t.width.data < 2 or n - 1 >= 2 ** (t.width.data - 1):
        return None
    flat = b.reshape(idx, batch) if len(batch) != len(ishape) else idx
    lo = b.constant(0, TensorType(t, []))
    hi = b.constant(n - 1, TensorType(t, []))
    clamped = b.clamp(lo, flat, hi)
    return b.convert(clamped, elem(op.result))
