"""Transposes of compute ops: folded into the dimension numbers of a convolution (its
operands' and its result's layouts), moved out of an elementwise op whose other operand
is a constant (the constant is transposed instead, at compile time), and moved out of an
FFT that does not transform the moved dimensions.

Exactness. Every rule here changes only where elements sit: a convolution reads and
writes the same elements through permuted dimension numbers, an elementwise op sees the
same pairs of elements, and an FFT over its trailing dimensions computes each batch
element's transform the same way wherever the batch dimensions are. Values are unchanged,
bit for bit.
"""

from __future__ import annotations

import dataclasses

from ..lazy_jax import jnp
from ..lazy_jax import np
from xdsl.dialects.builtin import TensorType

from ...ir import stablehlo as hlo
from ...ir.attributes import ConvDimensionNumbersAttr
from ...ir.builder import Builder, elem
from ..pattern import BINARY_ELEMENTWISE, Example, producer, rule, shape, sides, single_use, sole_producer
from .common import MAX_FOLD_ELEMENTS, constant_array, constant_splat, emit, rebuild


def _perm(t: hlo.TransposeOp) -> list[int]:
    return list(t.permutation.get_values())


def _inverse(p: list[int]) -> list[int]:
    out = [0] * len(p)
    for i, q in enumerate(p):
        out[q] = i
    return out


# ============================================================================ elementwise op with a constant


@rule(
    roots=BINARY_ELEMENTWISE,
    example=[
        Example(lambda x: (x.T + np.arange(12.0).reshape(4, 3)).T, [(3, 4)]),
        Example(lambda x: np.arange(12.0).reshape(4, 3) - x.T, [(3, 4)]),
    ],
    needs=hlo.TransposeOp,
)
def binary_transpose_constant(op, b: Builder):
    """f(transpose(x, p), C) -> transpose(f(x, transpose(C, p⁻¹)), p) ;  f(C, transpose(x, p)) likewise   (C a constant of at most 65536 elements, transposed at compile time; the transpose has no other user)"""
    for mine, other, place in sides(op):
        t = sole_producer(mine, hlo.TransposeOp, op)
        if t is None or not isinstance(other.owner, hlo.ConstantOp) or constant_splat(other) is not None:
            continue
        arr = constant_array(other)
        if arr is None or arr.size > MAX_FOLD_ELEMENTS:
            continue
        moved = emit(b, np.ascontiguousarray(np.transpose(arr, _inverse(_perm(t)))), TensorType(elem(other), shape(t.operand)))
        return b.transpose(rebuild(b, op, place(t.operand, moved), shape(t.operand)), _perm(t))
    return None


# ============================================================================ convolution layouts


def _conv_with(op: hlo.ConvolutionOp, b: Builder, lhs, rhs, dims, result_shape):
    new = hlo.ConvolutionOp.create(
        operands=[lhs, rhs],
        result_types=[TensorType(elem(op.result), list(result_shape))],
        properties={**dict(op.properties), "dimension_numbers": ConvDimensionNumbersAttr(dims)},
        attributes=dict(op.attributes),
    )
    return b.insert(new).results[0]


_CONV = """
func.func @main(%x: tensor<1x2x5x5xf64>, %w: tensor<3x2x2x2xf64>) -> tensor<1x3x4x4xf64> {{
{body}
}}"""


def _conv_line(lhs: str, rhs: str, lhs_type: str, rhs_type: str, dims: str, out: str = "tensor<1x3x4x4xf64>") -> str:
    return (
        f"  %c = stablehlo.convolution({lhs}, {rhs}) dim_numbers = {dims}, window = {{stride = [1, 1], lhs_dilate = [1, 1], rhs_dilate = [1, 1]}}"
        f" {{batch_group_count = 1 : i64, feature_group_count = 1 : i64}} : ({lhs_type}, {rhs_type}) -> {out}"
    )


@rule(
    example=Example(
        mlir=_CONV.format(
            body="  %t = stablehlo.transpose %x, dims = [2, 3, 1, 0] : (tensor<1x2x5x5xf64>) -> tensor<5x5x2x1xf64>\n"
            + _conv_line("%t", "%w", "tensor<5x5x2x1xf64>", "tensor<3x2x2x2xf64>", "[0, 1, f, b]x[o, i, 0, 1]->[b, f, 0, 1]")
            + "\n  func.return %c : tensor<1x3x4x4xf64>"
        )
    ),
    needs={0: hlo.TransposeOp},
)
def convolution_transpose_lhs(op: hlo.ConvolutionOp, b: Builder):
    """convolution(transpose(x, p), w) -> convolution(x, w)   (p folded into the input dimension numbers)"""
    t = producer(op.lhs, hlo.TransposeOp)
    if t is None:
        return None
    p, d = _perm(t), op.dimension_numbers.data
    dims = dataclasses.replace(
        d,
        input_batch_dimension=p[d.input_batch_dimension],
        input_feature_dimension=p[d.input_feature_dimension],
        input_spatial_dimensions=tuple(p[k] for k in d.input_spatial_dimensions),
    )
    return _conv_with(op, b, t.operand, op.rhs, dims, shape(op.result))


@rule(
    example=Example(
        mlir=_CONV.format(
            body="  %t = stablehlo.transpose %w, dims = [2, 3, 1, 0] : (tensor<3x2x2x2xf64>) -> tensor<2x2x2x3xf64>\n"
            + _conv_line("%x", "%t", "tensor<1x2x5x5xf64>", "tensor<2x2x2x3xf64>", "[b, f, 0, 1]x[0, 1, i, o]->[b, f, 0, 1]")
            + "\n  func.return %c : tensor<1x3x4x4xf64>"
        )
    ),
    needs={1: hlo.TransposeOp},
)
def convolution_transpose_rhs(op: hlo.ConvolutionOp, b: Builder):
    """convolution(x, transpose(w, p)) -> convolution(x, w)   (p folded into the kernel dimension numbers)"""
    t = producer(op.rhs, hlo.TransposeOp)
    if t is None:
        return None
    p, d = _perm(t), op.dimension_numbers.data
    dims = dataclasses.replace(
        d,
        kernel_input_feature_dimension=p[d.kernel_input_feature_dimension],
        kernel_output_feature_dimension=p[d.kernel_output_feature_dimension],
        kernel_spatial_dimensions=tuple(p[k] for k in d.kernel_spatial_dimensions),
    )
    return _conv_with(op, b, op.lhs, t.operand, dims, shape(op.result))


@rule(
    example=Example(
        mlir=_CONV.format(
            body=_conv_line("%x", "%w", "tensor<1x2x5x5xf64>", "tensor<3x2x2x2xf64>", "[b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1]")
            + "\n  %t = stablehlo.transpose %c, dims = [0, 1, 3, 2] : (tensor<1x3x4x4xf64>) -> tensor<1x3x4x4xf64>"
            + "\n  func.return %t : tensor<1x3x4x4xf64>"
        )
    ),
    needs={0: hlo.ConvolutionOp},
)
def transpose_convolution(op: hlo.TransposeOp, b: Builder):
    """transpose(convolution(x, w), p) -> convolution(x, w)   (p folded into the output dimension numbers; the convolution has no other user)"""
    c = producer(op.operand, hlo.ConvolutionOp)
    if c is None or not single_use(op.operand):
        return None
    q, d = _inverse(_perm(op)), c.dimension_numbers.data
    dims = dataclasses.replace(
        d,
        output_batch_dimension=q[d.output_batch_dimension],
        output_feature_dimension=q[d.output_feature_dimension],
        output_spatial_dimensions=tuple(q[k] for k in d.output_spatial_dimensions),
    )
    return _conv_with(c, b, c.lhs, c.rhs, dims, shape(op.result))


# ============================================================================ FFT over the trailing dimensions


@rule(
    example=[
        Example(lambda x: jnp.fft.fft(jnp.transpose(x.astype(np.complex128), (1, 0, 2)), axis=2), [(2, 3, 4)]),
        Example(lambda x: jnp.fft.rfft(jnp.transpose(x, (1, 0, 2)), axis=2), [(2, 3, 4)]),
    ],
    needs={0: hlo.TransposeOp},
)
def fft_transpose_batch(op: hlo.FftOp, b: Builder):
    """fft(transpose(x, p)) -> transpose(fft(x), p)   (p moves batch dimensions only: the transformed trailing dimensions stay in place)"""
    t = producer(op.operand, hlo.TransposeOp)
    if t is None:
        return None
    perm = _perm(t)
    rank, k = len(perm), len(list(op.fft_length.get_values()))
    if perm[rank - k :] != list(range(rank - k, rank)):
        return None
    out_dims = list(shape(t.operand))
    out_dims[rank - k :] = shape(op.result)[rank - k :]
    new = hlo.FftOp.create(operands=[t.operand], result_types=[TensorType(elem(op.result), out_dims)], properties=dict(op.properties), attributes=dict(op.attributes))
    return b.transpose(b.insert(new).results[0], perm)


@rule(
    example=Example(lambda x: jnp.fft.fft(x.astype(np.complex128), axis=1)[::-1], [(3, 4)]),
    needs={0: hlo.FftOp},
)
def reverse_fft_batch(op: hlo.ReverseOp, b: Builder):
    """reverse(fft(x), D) -> fft(reverse(x, D))   (D batch dimensions only: each transform moves whole; the fft has no other user)"""
    f = producer(op.operand, hlo.FftOp)
    if f is None or not single_use(op.operand):
        return None
    dims = list(op.dimensions.get_values())
    rank, k = len(shape(op.result)), len(list(f.fft_length.get_values()))
    if not dims or any(d >= rank - k for d in dims):
        return None
    new = hlo.FftOp.create(operands=[b.reverse(f.operand, dims)], result_types=[f.result.type], properties=dict(f.properties), attributes=dict(f.attributes))
    return b.insert(new).results[0]


# ============================================================================ symmetric values


_SELF_COMMUTING = (hlo.AddOp, hlo.MultiplyOp, hlo.MaximumOp, hlo.MinimumOp, hlo.AndOp, hlo.OrOp, hlo.XorOp)
"""Ops with f(a, b) == f(b, a) bit for bit (IEEE addition and multiplication commute
exactly; max / min propagate NaN and order -0.0 < +0.0 either way round)."""


def _symmetric(v, p: list[int], depth: int = 6) -> bool:
    """``v`` equals transpose(v, p) element for element by construction (p an involution):
    f(x, transpose(x, p)) for a commuting f, splats, and elementwise ops (or selects) of
    such values."""
    if depth <= 0:
        return False
    if constant_splat(v) is not None:
        return True
    op = v.owner
    if isinstance(op, hlo.BroadcastInDimOp) and shape(op.operand) == ():
        return True
    if isinstance(op, _SELF_COMMUTING):
        for a, c in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            t = producer(c, hlo.TransposeOp)
            if t is not None and t.operand is a and _perm(t) == p:
                return True
    if isinstance(op, (hlo.UnaryElementwiseOp, hlo.BinaryElementwiseOp, hlo.CompareOp, hlo.SelectOp)):
        return all(shape(o) == shape(v) or shape(o) == () for o in op.operands) and all(_symmetric(o, p, depth - 1) for o in op.operands)
    return False


@rule(
    example=[
        Example(lambda x: (x + x.T).T, [(3, 3)]),
        Example(lambda x: jnp.exp(jnp.maximum(x.T, x) * 2.0).T, [(3, 3)]),
    ],
    needs={0: (hlo.UnaryElementwiseOp, hlo.BinaryElementwiseOp, hlo.CompareOp, hlo.SelectOp)},
)
def transpose_symmetric(op: hlo.TransposeOp, b: Builder):
    """transpose(s, p) -> s   (p an involution and s symmetric under it by construction: f(x, transpose(x, p)) with f commuting bit for bit, and elementwise ops of such values)"""
    p = _perm(op)
    if any(p[p[i]] != i for i in range(len(p))) or p == list(range(len(p))) or op.operand.type != op.result.type:
        return None
    return op.operand if _symmetric(op.operand, p) else None


# ============================================================================ reversed free dimensions of a dot_general


def _dot_free_position(op: hlo.DotGeneralOp, side: int, d: int) -> int | None:
    """The result dimension of free dimension ``d`` of operand ``side`` (0 lhs, 1 rhs), or
    None when ``d`` is a batch or contracting dimension."""
    dn = op.dot_dimension_numbers
    batch = [list(dn.lhs_batching_dimensions), list(dn.rhs_batching_dimensions)]
    contract = [list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)]
    ranks = [len(shape(op.lhs)), len(shape(op.rhs))]
    free = [[k for k in range(ranks[s]) if k not in batch[s] and k not in contract[s]] for s in (0, 1)]
    if d not in free[side]:
        return None
    return len(batch[0]) + (0 if side == 0 else len(free[0])) + free[side].index(d)


@rule(
    example=[
        Example(lambda x, y: jnp.flip(x, 0) @ y, [(3, 4), (4, 2)]),
        Example(lambda x, y: x @ jnp.flip(y, 1), [(3, 4), (4, 2)]),
    ],
    needs=hlo.ReverseOp,
)
def dot_general_reverse_free(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(reverse(x, D), y) -> reverse(dot_general(x, y), D')   (D free dimensions of x, D' where they land in the result; same for y; every product and sum the same)"""
    for side, v in ((0, op.lhs), (1, op.rhs)):
        r = producer(v, hlo.ReverseOp)
        if r is None or not single_use(v):
            continue
        dims = list(r.dimensions.get_values())
        out = [_dot_free_position(op, side, d) for d in dims]
        if not dims or any(o is None for o in out):
            continue
        operands = [r.operand, op.rhs] if side == 0 else [op.lhs, r.operand]
        new = hlo.DotGeneralOp.create(operands=operands, result_types=[op.result.type], properties=dict(op.properties), attributes=dict(op.attributes))
        return b.reverse(b.insert(new).results[0], sorted(out))
    return None


# ============================================================================ FFTs of length one


@rule(
    example=[
        Example(lambda x: jnp.fft.fft(x.astype(np.complex128), axis=1), [(3, 1)]),
        Example(lambda x: jnp.fft.ifft(x.astype(np.complex128), axis=1), [(3, 1)]),
    ],
)
def fft_unit_length(op: hlo.FftOp, b: Builder):
    """fft(x) -> x   (FFT and IFFT whose every transformed length is 1: a one-point transform is the identity, and its inverse scales by 1)"""
    kind = op.fft_type.data.value
    if kind not in ("FFT", "IFFT") or any(n != 1 for n in op.fft_length.get_values()) or op.operand.type != op.result.type:
        return None
    return op.operand


@rule(
    example=[
        Example(lambda x: jnp.fft.ifft(jnp.fft.fft(x.astype(np.complex128), axis=1), axis=1), [(2, 4)]),
        Example(
            mlir="func.func @main(%x: tensor<2x4xf64>) -> tensor<2x4xf64> {\n"
            "  %0 = stablehlo.fft %x, type = RFFT, length = [4] : (tensor<2x4xf64>) -> tensor<2x3xcomplex<f64>>\n"
            "  %1 = stablehlo.fft %0, type = IRFFT, length = [4] : (tensor<2x3xcomplex<f64>>) -> tensor<2x4xf64>\n"
            "  func.return %1 : tensor<2x4xf64>\n}"
        ),
    ],
    unsafe=True,
    needs={0: hlo.FftOp},
)
def fft_inverse_pair(op: hlo.FftOp, b: Builder):
    """ifft(fft(x)) -> x ;  fft(ifft(x)) -> x ;  irfft(rfft(x)) -> x   (same lengths; rounding: fast-math only)"""
    inner = producer(op.operand, hlo.FftOp)
    if inner is None or list(inner.fft_length.get_values()) != list(op.fft_length.get_values()):
        return None
    pair = (inner.fft_type.data.value, op.fft_type.data.value)
    if pair not in (("FFT", "IFFT"), ("IFFT", "FFT"), ("RFFT", "IRFFT")) or inner.operand.type != op.result.type:
        return None
    return inner.operand
