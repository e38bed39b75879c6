"""numpy <-> xDSL conversions for element types, tensor types and dense constants.

ml_dtypes (numpy's bfloat16) takes most of a second to import, so it is imported only
when a bf16 type is met: a numpy array or dtype can be bfloat16 only once it is loaded.
numpy itself is imported by the functions that use it, so that parsing and printing MLIR
text without constants to read (zymase-opt's start-up) does not load it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from xdsl.dialects.builtin import (
    BFloat16Type,
    BytesAttr,
    ComplexType,
    DenseIntOrFPElementsAttr,
    Float16Type,
    Float32Type,
    Float64Type,
    IndexType,
    IntegerType,
    Signedness,
    TensorType,
    bf16,
    f16,
    f32,
    f64,
)
from xdsl.ir import Attribute

if TYPE_CHECKING:
    import numpy as np


def bfloat16_dtype() -> np.dtype:
    """numpy's bfloat16 (ml_dtypes), imported on first use."""
    import ml_dtypes
    import numpy as np

    return np.dtype(ml_dtypes.bfloat16)


def is_bfloat16(dtype: np.dtype | type) -> bool:
    """``dtype`` is bfloat16; never imports ml_dtypes (nothing is bfloat16 before it is loaded)."""
    ml_dtypes = sys.modules.get("ml_dtypes")
    if ml_dtypes is None:
        return False
    import numpy as np

    return np.dtype(dtype) == ml_dtypes.bfloat16


class DtypeTable(dict):
    """``{dtype: value}`` keyed by dtype name (``"float32"``, ``"bfloat16"``), looked up
    with a dtype (anything ``np.dtype`` takes) or a name. A table written with names
    imports neither numpy nor ml_dtypes; a lookup by dtype imports numpy, which its caller
    has loaded already."""

    def __init__(self, items: object = (), /) -> None:
        super().__init__({self._key(k): v for k, v in dict(items).items()})  # type: ignore[call-overload]

    @staticmethod
    def _key(key: object) -> object:
        if key is None or isinstance(key, str):
            return key  # (np.dtype(None) would be float64)
        import numpy as np

        return np.dtype(key).name  # type: ignore[call-overload]

    def __getitem__(self, key: object) -> object:
        return super().__getitem__(self._key(key))

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self._key(key))

    def get(self, key: object, default: object = None) -> object:
        return super().get(self._key(key), default)


def element_dtype(t: Attribute) -> np.dtype:
    """The numpy dtype of an MLIR element type."""
    import numpy as np

    if isinstance(t, Float32Type):
        return np.dtype(np.float32)
    if isinstance(t, Float64Type):
        return np.dtype(np.float64)
    if isinstance(t, Float16Type):
        return np.dtype(np.float16)
    if isinstance(t, BFloat16Type):
        return bfloat16_dtype()
    if isinstance(t, IntegerType):
        width = t.width.data
        if width == 1:
            return np.dtype(np.bool_)
        unsigned = t.signedness.data == Signedness.UNSIGNED
        return np.dtype(f"{'u' if unsigned else ''}int{width}")
    if isinstance(t, IndexType):
        return np.dtype(np.int64)
    if isinstance(t, ComplexType):
        inner = element_dtype(t.element_type)
        return np.dtype(np.complex64 if inner == np.float32 else np.complex128)
    raise TypeError(f"zymase has no numpy dtype for element type {t}")


def element_type(dtype: np.dtype | type) -> Attribute:
    """The MLIR element type of a numpy / jax dtype."""
    import numpy as np

    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return f32
    if dtype == np.float64:
        return f64
    if dtype == np.float16:
        return f16
    if is_bfloat16(dtype):
        return bf16
    if dtype == np.bool_:
        return IntegerType(1)
    if dtype.kind == "i":
        return IntegerType(dtype.itemsize * 8)
    if dtype.kind == "u":
        return IntegerType(dtype.itemsize * 8, Signedness.UNSIGNED)
    if dtype == np.complex64:
        return ComplexType(f32)
    if dtype == np.complex128:
        return ComplexType(f64)
    raise TypeError(f"zymase has no MLIR element type for dtype {dtype}")


def tensor_type(shape: Sequence[int], dtype: np.dtype | type) -> TensorType:
    return TensorType(element_type(dtype), list(shape))


def is_float_type(t: Attribute) -> bool:
    if isinstance(t, TensorType):
        t = t.get_element_type()
    return isinstance(t, (Float16Type, BFloat16Type, Float32Type, Float64Type))


def dense_to_numpy(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    import numpy as np

    t = attr.type
    dtype = element_dtype(t.get_element_type())
    shape = tuple(t.get_shape())
    if dtype == np.bool_:
        raw = np.frombuffer(attr.data.data, dtype=np.uint8) != 0
    else:
        raw = np.frombuffer(attr.data.data, dtype=dtype.newbyteorder("<"))
    n = int(np.prod(shape)) if shape else 1
    if raw.size == 1 and n != 1:
        return np.broadcast_to(raw.reshape(()), shape).copy()
    return raw.reshape(shape).astype(dtype, copy=False)


def dense_from_numpy(value: np.ndarray, type: TensorType | None = None) -> DenseIntOrFPElementsAttr:
    import numpy as np

    value = np.asarray(value)
    if type is None:
        type = tensor_type(value.shape, value.dtype)
    dtype = element_dtype(type.get_element_type())
    value = np.asarray(value, dtype=dtype)
    if dtype == np.bool_:
        data = np.where(value, np.uint8(0xFF), np.uint8(0)).tobytes()
    else:
        data = np.ascontiguousarray(value, dtype=dtype.newbyteorder("<")).tobytes()
    return DenseIntOrFPElementsAttr(type, BytesAttr(data))


def splat(value: float | int | bool, type: TensorType) -> DenseIntOrFPElementsAttr:
    import numpy as np

    dtype = element_dtype(type.get_element_type())
    return dense_from_numpy(np.full(tuple(type.get_shape()), value, dtype=dtype), type)
