"""Convolutions that are matrix products: a kernel of one element in every spatial
dimension, stride 1, no padding, one feature group is a dot_general over the features
(then a transpose into the output layout).

The sums over the input features are the same sums, but XLA may order a convolution's
and a dot_general's accumulation differently: fast-math only.
"""

from __future__ import annotations

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ...ir.query import padding_pairs, shape
from ..lazy_jax import lax
from ..pattern import Example, rule


def _ints(attr, rank: int, default: int = 1) -> list[int]:
    return list(attr.get_values()) if attr is not None else [default] * rank


@rule(
    example=[
        Example(lambda x, k: lax.conv_general_dilated(x, k, (1, 1), "VALID"), [(2, 3, 4, 4), (5, 3, 1, 1)]),
        Example(
            lambda x, k: lax.conv_general_dilated(x, k, (1,), "VALID", dimension_numbers=("NWC", "WIO", "NWC")),
            [(2, 5, 3), (1, 3, 4)],
        ),
    ],
    unsafe=True,
)
def convolution_unit_kernel(op: hlo.ConvolutionOp, b: Builder):
    """convolution(x, k) -> transpose(dot_general(x, reshape(k)))   (k one element in every spatial dim; stride 1, no padding or input dilation, one group; sums reordered)"""
    dn = op.dimension_numbers
    xs, ks = shape(op.lhs), shape(op.rhs)
    rank = len(xs)
    spatial = list(dn.input_spatial_dimensions)
    n = len(spatial)
    if op.feature_group_count.value.data != 1 or op.batch_group_count.value.data != 1:
        return None
    if any(ks[d] != 1 for d in dn.kernel_spatial_dimensions) or any(v < 0 for v in xs + ks):
        return None
    if _ints(op.window_strides, n) != [1] * n or _ints(op.lhs_dilation, n) != [1] * n:
        return None
    if any(lo or hi for lo, hi in padding_pairs(op, n)):
        return None
    kdims = [d for d in range(len(ks)) if d not in dn.kernel_spatial_dimensions]
    k_in = kdims.index(dn.kernel_input_feature_dimension)
    lfree = [d for d in range(rank) if d != dn.input_feature_dimension]
    perm = [0] * rank
    perm[dn.output_batch_dimension] = lfree.index(dn.input_batch_dimension)
    perm[dn.output_feature_dimension] = rank - 1
    for j, d in enumerate(dn.output_spatial_dimensions):
        perm[d] = lfree.index(spatial[j])
    dot_shape = [xs[d] for d in lfree] + [ks[dn.kernel_output_feature_dimension]]
    if [dot_shape[p] for p in perm] != list(shape(op.result)):
        return None
    k2 = b.reshape(op.rhs, [ks[d] for d in kdims])
    dot = b.dot_general(op.lhs, k2, [], [], [dn.input_feature_dimension], [k_in], result_element=elem(op.result), precision=op.precision_config)
    return b.transpose(dot, perm) if perm != list(range(rank)) else dot
