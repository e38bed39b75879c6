"""Helpers shared by the rule families (no rules here): rebuilding an elementwise op on
new operands, reading constants bit-exactly and emitting them in canonical form, folding
shape ops of constants, reshape and dot_general dimension bookkeeping, and the MLIR text
of examples.

Constants. A splat is read without materialising it (a splat ``stablehlo.constant``, or a
``broadcast_in_dim`` chain over one), comparing bits (``-0.0`` is not ``0.0``, NaN is
NaN). A constant result with one value everywhere is emitted as one splat
``stablehlo.constant dense<v> : tensor<...>``, stored as one element whatever its size
(``ir/dense.py``); other results are materialised only up to ``MAX_FOLD_ELEMENTS``
elements.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod
from typing import TYPE_CHECKING

from xdsl.dialects.builtin import IndexType, IntegerType, TensorType
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem, tensor
from ...ir.dense import DtypeTable, dense_from_numpy, dense_to_numpy, element_dtype, is_bfloat16, splat_element
from ...ir.dense import splat as splat_attr
from ..pattern import Example, producer, shape, sides, sole_producer, value_of

if TYPE_CHECKING:
    import numpy as np

MAX_FOLD_ELEMENTS = 65536
"""Largest non-splat constant a rule materialises."""

MANTISSA_BITS = DtypeTable({"float64": 53, "float32": 24, "float16": 11, "bfloat16": 8})
"""Significand bits (with the implicit one) of the float types: integers up to 2**bits are exact."""


# ============================================================================ building


def rebuild(b: Builder, op, operands: Sequence[SSAValue], dims: Sequence[int]) -> SSAValue:
    """``op`` (an elementwise op) again on ``operands``, with result shape ``dims``."""
    result_type = TensorType(elem(op.result), list(dims))
    new = type(op).create(operands=list(operands), result_types=[result_type], properties=dict(op.properties), attributes=dict(op.attributes))
    return b.insert(new).results[0]


def splat_scalar(v: SSAValue):
    """The rank-0 value that ``v`` splats (a broadcast of a rank-0 value, or a splat
    constant as a numpy scalar), else None."""
    bc = producer(v, hlo.BroadcastInDimOp)
    if bc is not None and shape(bc.operand) == ():
        return bc.operand
    c = producer(v, hlo.ConstantOp)
    if c is not None:
        one = splat_element(c.value)  # a compact splat is read without expanding it
        return None if one is None else one[()]
    return None


def same_scalar(s, t) -> bool:
    """``s`` and ``t`` (rank-0 values, or numpy scalars as ``splat_scalar`` returns them)
    are one value: the same SSA value, or constants with the same bits."""
    if s is t:
        return True
    import numpy as np

    a = s if isinstance(s, np.generic) else value_of(s)
    c = t if isinstance(t, np.generic) else value_of(t)
    if a is None or c is None or a.dtype != c.dtype:
        return False
    return a.tobytes() == c.tobytes()


def as_value(b: Builder, scalar, like: SSAValue) -> SSAValue:
    """A rank-0 SSA value for what ``splat_scalar`` returned (``like`` gives the element type)."""
    import numpy as np

    if isinstance(scalar, np.generic):
        return b.constant(scalar, TensorType(elem(like), []))
    return scalar


def splat_to(b: Builder, scalar, dims: Sequence[int], like: SSAValue) -> SSAValue:
    """What ``splat_scalar`` returned, everywhere in a tensor of shape ``dims`` (``like``
    gives the element type): one splat constant for a constant, else ``broadcast_in_dim``
    of the rank-0 value."""
    import numpy as np

    if isinstance(scalar, np.generic):
        return emit_splat(b, np.asarray(scalar), TensorType(elem(like), list(dims)))
    return b.broadcast_in_dim(scalar, list(dims), [])


def beside_splat(op, b: Builder, cls: type):
    """For a binary op: ``(p, c, place)`` for the first side whose operand is a ``cls``
    op ``p`` with no other user while the other operand splats a scalar, ``c`` the rank-0
    value of that scalar and ``place`` as in ``sides``; else None. The rank-0 constant of
    a splat constant is built only on a match."""
    for mine, other, place in sides(op):
        p, c = sole_producer(mine, cls, op), splat_scalar(other)
        if p is not None and c is not None:
            return p, as_value(b, c, other), place
    return None


# ============================================================================ values


def size(v: SSAValue) -> int:
    return prod(shape(v))  # math.prod: numpy's costs microseconds per call, and this is asked on every try


def constant_int(v: SSAValue) -> int | None:
    """The value of a one-element integer constant, or None."""
    value = value_of(v)
    if value is None or value.size != 1 or value.dtype.kind not in "iu":
        return None
    return int(value.reshape(()))


def clamped_start(v: SSAValue, n: int, k: int) -> int | None:
    """The start a window (a dynamic slice or update) of size ``k`` of a dimension of size
    ``n`` uses for the index ``v``, when ``v`` is a constant (StableHLO clamps it)."""
    c = constant_int(v)
    if c is None or n < 0:
        return None
    return min(max(c, 0), n - k)


def index_constant(b: Builder, value: int, like: SSAValue) -> SSAValue:
    """A rank-0 constant index ``value`` of the type of the index ``like``."""
    return b.constant(value, TensorType(elem(like), []))


def any_dtype(v: SSAValue) -> np.dtype | None:
    """The numpy dtype of ``v``'s elements, or None for types without one."""
    try:
        return element_dtype(elem(v))
    except TypeError:
        return None


def foldable_dtype(v: SSAValue) -> np.dtype | None:
    """The numpy dtype of ``v``'s elements, or None for types never folded elementwise
    (complex, ...)."""
    dt = any_dtype(v)
    return None if dt is None or dt.kind == "c" else dt


def is_integer(v: SSAValue) -> bool:
    """Integer or i1 elements (of a type with a numpy dtype, as ``any_dtype``), read off the
    element type: asked of most roots, it does not import numpy."""
    t = elem(v)
    return isinstance(t, IndexType) or (isinstance(t, IntegerType) and t.width.data in (1, 8, 16, 32, 64))


def single_number(v: SSAValue):
    """The number every element of ``v`` has, for splat constants of at most
    ``MAX_FOLD_ELEMENTS`` elements or broadcasts of one element of them (NaN is one value),
    else None."""
    import numpy as np

    bc = producer(v, hlo.BroadcastInDimOp)
    if bc is not None:
        return single_number(bc.operand) if size(bc.operand) == 1 else None
    c = producer(v, hlo.ConstantOp)
    if c is None:
        return None
    s = splat_element(c.value)
    if s is not None:
        return s[()]
    if size(v) > MAX_FOLD_ELEMENTS:
        return None
    value = dense_to_numpy(c.value)
    if value.size == 0:
        return None
    first = value.reshape(-1)[0]
    same = np.all((value == first) | (np.isnan(value) & np.isnan(first))) if np.issubdtype(value.dtype, np.inexact) else np.all(value == first)
    return first if same else None


# ============================================================================ constants, bit-exact


def same_bits(arr: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Elementwise equality that tells -0.0 from 0.0 and sees NaN equal to NaN."""
    import numpy as np

    if arr.dtype.kind == "c":
        return same_bits(arr.real, np.asarray(x).real) & same_bits(arr.imag, np.asarray(x).imag)
    if arr.dtype.kind == "f" or is_bfloat16(arr.dtype):
        a, c = np.asarray(arr, np.float64), np.asarray(x, np.float64)
        return ((a == c) & (np.signbit(a) == np.signbit(c))) | (np.isnan(a) & np.isnan(c))
    return arr == x


def constant_splat(v: SSAValue, complex_ok: bool = False) -> np.ndarray | None:
    """The value (a 0-d array) of a constant ``v`` with one value everywhere, without
    materialising it: a splat constant or a broadcast of one. Complex values only with
    ``complex_ok`` (the elementwise folds do not evaluate them)."""
    import numpy as np

    owner = v.owner
    if isinstance(owner, hlo.BroadcastInDimOp):
        return constant_splat(owner.operand, complex_ok)
    dt = any_dtype(v) if complex_ok else foldable_dtype(v)
    if not isinstance(owner, hlo.ConstantOp) or dt is None:
        return None
    return splat_element(owner.value)  # bit-exact; a compact splat is read without expanding it


def is_constant(v: SSAValue) -> bool:
    """``v`` is a constant (or a broadcast of one) that ``constant_splat`` or
    ``constant_array`` reads."""
    return constant_splat(v) is not None or constant_array(v) is not None


def all_ones(v: SSAValue) -> bool:
    """``v`` is a constant with every bit set: true for i1, -1 for signed and the maximum
    for unsigned integers."""
    import numpy as np

    s = constant_splat(v)
    if s is None or s.dtype.kind not in "iub":
        return False
    return bool(s) if s.dtype == np.bool_ else bool(np.invert(s) == 0)


def integer_zero(v: SSAValue) -> bool:
    """``v`` is an integer (or i1) constant zero."""
    s = constant_splat(v)
    return s is not None and s.dtype.kind in "iub" and not bool(s)


def dense_constant(v: SSAValue, complex_ok: bool = False) -> np.ndarray | None:
    """The value of a ``stablehlo.constant`` ``v`` (not a broadcast)."""
    owner = v.owner
    dt = any_dtype(v) if complex_ok else foldable_dtype(v)
    if isinstance(owner, hlo.ConstantOp) and dt is not None:
        return dense_to_numpy(owner.value)
    return None


def constant_array(v: SSAValue) -> np.ndarray | None:
    """The value of a constant ``v`` (a constant, or a broadcast of one) as an array, when
    it has at most ``MAX_FOLD_ELEMENTS`` elements."""
    if foldable_dtype(v) is None or size(v) > MAX_FOLD_ELEMENTS:
        return None
    owner = v.owner
    if isinstance(owner, hlo.ConstantOp):
        return dense_to_numpy(owner.value)
    if isinstance(owner, hlo.BroadcastInDimOp):
        inner = constant_array(owner.operand)
        if inner is None:
            return None
        return broadcast_array(inner, list(owner.broadcast_dimensions.get_values()), shape(owner.result))
    return None


def broadcast_array(arr: np.ndarray, dims: list[int], out: tuple[int, ...]) -> np.ndarray:
    """``broadcast_in_dim`` in numpy: operand dimension i goes to result dimension dims[i]."""
    import numpy as np

    order = sorted(range(len(dims)), key=lambda i: dims[i])
    expanded = [1] * len(out)
    for i in order:
        expanded[dims[i]] = arr.shape[i]
    return np.broadcast_to(arr.transpose(order).reshape(expanded), out)


def emit(b: Builder, value: np.ndarray, type: TensorType) -> SSAValue:
    """A constant of ``type`` holding ``value`` (a splat is stored as one element; a
    broadcast view of one element is not expanded)."""
    import numpy as np

    dt = element_dtype(type.get_element_type())
    value = np.asarray(value)
    if value.size >= 1 and not any(value.strides):
        return emit_splat(b, value[(0,) * value.ndim], type)
    arr = np.broadcast_to(value.astype(dt), tuple(type.get_shape()))
    return b.insert(hlo.ConstantOp(dense_from_numpy(arr, type))).results[0]


def emit_splat(b: Builder, scalar: np.ndarray, type: TensorType) -> SSAValue:
    """``constant dense<scalar> : type``: one op, the value stored as one element."""
    return b.insert(hlo.ConstantOp(splat_attr(scalar, type))).results[0]


def fold_rearrangement(op, b: Builder, operand: SSAValue, fn: Callable[[np.ndarray], np.ndarray]) -> SSAValue | None:
    """Fold a shape op that rearranges the elements of a constant ``operand`` (any element
    type: nothing is computed): a splat stays a splat, other values are ``fn(value)``."""
    s = constant_splat(operand, complex_ok=True)
    if s is not None:
        return emit_splat(b, s, op.result.type)
    value = dense_constant(operand, complex_ok=True)
    if value is None or size(op.result) > MAX_FOLD_ELEMENTS:
        return None
    return emit(b, fn(value), op.result.type)


# ============================================================================ dimensions


def reshape_groups(src: Sequence[int], dst: Sequence[int]) -> list[tuple[list[int], list[int]]] | None:
    """The contiguous groups (src dims, dst dims) of the dimensions of size > 1 with equal
    products: a reshape rearranges each group independently. None for empty tensors."""
    if 0 in src or 0 in dst:
        return None
    ins = [i for i, n in enumerate(src) if n != 1]
    outs = [j for j, n in enumerate(dst) if n != 1]
    groups: list[tuple[list[int], list[int]]] = []
    i = j = 0
    while i < len(ins) and j < len(outs):
        gi, gj = [ins[i]], [outs[j]]
        pi, pj = src[ins[i]], dst[outs[j]]
        while pi != pj:
            if pi < pj:
                i += 1
                gi.append(ins[i])
                pi *= src[ins[i]]
            else:
                j += 1
                gj.append(outs[j])
                pj *= dst[outs[j]]
        groups.append((gi, gj))
        i += 1
        j += 1
    return groups


def free_dims(rank: int, batch: Sequence[int], contract: Sequence[int]) -> list[int]:
    """The free (neither batch nor contracting) dimensions of a dot_general operand."""
    return [d for d in range(rank) if d not in batch and d not in contract]


# ============================================================================ examples


def mlir_main(body: str, args: str = "%x: tensor<4xf64>", result: str = "tensor<4xf64>") -> str:
    """MLIR text of ``func.func @main(args) -> result`` with ``body``."""
    return f"func.func @main({args}) -> {result} {{\n{body}\n}}"


def mlir_constant(name: str, value: str, type: str) -> str:
    """An MLIR line ``%name = stablehlo.constant dense<value> : type``."""
    return f'  %{name} = "stablehlo.constant"() <{{value = dense<{value}> : {type}}}> : () -> {type}'


_I32 = "tensor<4xi32>"
_I32_ARGS = f"%x: {_I32}, %y: {_I32}"


def mlir_i32(body: str) -> str:
    """``@main(%x, %y : tensor<4xi32>) -> tensor<4xi32>`` with ``body``."""
    return mlir_main(body, _I32_ARGS, _I32)


def i32_binary_examples(opname: str, constant: str) -> list[Example]:
    """``opname(x, c)`` and ``opname(c, x)`` on tensor<4xi32>: the two operand orders of a
    commutative rule about the constant ``c``."""

    def example(lhs: str, rhs: str) -> Example:
        line = f'  %0 = "stablehlo.{opname}"({lhs}, {rhs}) : ({_I32}, {_I32}) -> {_I32}\n  func.return %0 : {_I32}'
        return Example(mlir=mlir_i32(mlir_constant("m", constant, _I32) + "\n" + line))

    return [example("%x", "%m"), example("%m", "%x")]
