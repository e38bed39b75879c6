"""numpy <-> xDSL conversions for element types, tensor types and dense constants.

ml_dtypes (numpy's bfloat16) takes most of a second to import, so it is imported only
when a bf16 type is met: a numpy array or dtype can be bfloat16 only once it is loaded.
numpy itself is imported by the functions that use it, so that parsing and printing MLIR
text without constants to read (zymase-opt's start-up) does not load it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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


# ============================================================================ dense attributes
#
# A splat (one value everywhere) is stored as that one element, whatever the tensor's
# size: ``dense<1.0> : tensor<1000000xf32>`` holds 4 bytes, as MLIR holds it. xDSL's
# attribute keeps ``data`` as given; its ``len()`` is then 1 and it prints as ``dense<v>``.
# Every dense attribute zymase builds or parses is normalised so (``dense_attr``): two
# equal splats are equal attributes (CSE merges them) and nothing expands a splat into
# its elements at parse, fold, print or emission.


def _element_size(type: Attribute) -> int:
    return type.get_element_type().compile_time_size  # type: ignore[attr-defined]


def _count(type: Attribute) -> int:
    n = 1
    for d in type.get_shape():  # type: ignore[attr-defined]
        n *= d
    return n


def dense_attr(type: Attribute, data: bytes) -> DenseIntOrFPElementsAttr:
    """The dense attribute of ``type`` with the little-endian element bytes ``data`` (all
    elements, or one for a splat), stored as one element when every element has the same
    bits (bit-exact: -0.0 and 0.0 differ, NaNs with one payload are one value)."""
    width, count = _element_size(type), _count(type)
    if count == 0:
        data = b""
    elif count > 1 and len(data) == width * count and data[:width] * count == data:
        data = data[:width]
    return DenseIntOrFPElementsAttr(type, BytesAttr(data))  # type: ignore[arg-type]


def is_compact_splat(attr: DenseIntOrFPElementsAttr) -> bool:
    """``attr`` holds one element for a tensor of more than one: a splat stored compactly."""
    return len(attr.data.data) == _element_size(attr.type) and _count(attr.type) > 1


def splat_element(attr: DenseIntOrFPElementsAttr) -> np.ndarray | None:
    """The value (0-d array) of every element of a splat attribute, else None (also for an
    empty one); a compact splat is read without expanding it."""
    import numpy as np

    count = _count(attr.type)
    if count == 0:
        return None
    dtype = element_dtype(attr.type.get_element_type())
    data = attr.data.data
    width = _element_size(attr.type)
    if len(data) != width and data[:width] * count != data:
        return None
    if dtype == np.bool_:
        return np.asarray(data[0] != 0)
    return np.frombuffer(data[:width], dtype=dtype.newbyteorder("<")).astype(dtype).reshape(())


def dense_to_numpy(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    """The value of a dense attribute; a compact splat comes back as a read-only
    broadcast view of its one element (no memory per element)."""
    import numpy as np

    t = attr.type
    dtype = element_dtype(t.get_element_type())
    shape = tuple(t.get_shape())
    if dtype == np.bool_:
        raw = np.frombuffer(attr.data.data, dtype=np.uint8) != 0
    else:
        raw = np.frombuffer(attr.data.data, dtype=dtype.newbyteorder("<")).astype(dtype, copy=False)
    n = _count(t)
    if raw.size == 1 and n != 1:
        return np.broadcast_to(raw.reshape(()), shape)
    return raw.reshape(shape)


def dense_from_numpy(value: np.ndarray, type: TensorType | None = None) -> DenseIntOrFPElementsAttr:
    """The dense attribute of an array (of ``type``, default the array's own); a splat is
    stored as one element, and a broadcast view of one element is not expanded to be
    recognised as one."""
    import numpy as np

    value = np.asarray(value)
    if type is None:
        type = tensor_type(value.shape, value.dtype)
    if value.size > 1 and not any(value.strides):
        return splat(value[(0,) * value.ndim], type)
    dtype = element_dtype(type.get_element_type())
    value = np.asarray(value, dtype=dtype)
    if dtype == np.bool_:
        data = np.where(value, np.uint8(0xFF), np.uint8(0)).tobytes()
    else:
        data = np.ascontiguousarray(value, dtype=dtype.newbyteorder("<")).tobytes()
    return dense_attr(type, data)


def splat(value: object, type: TensorType) -> DenseIntOrFPElementsAttr:
    """The splat attribute of ``type`` with every element ``value`` (a number, numpy scalar
    or one-element array), stored as one element."""
    import numpy as np

    dtype = element_dtype(type.get_element_type())
    one = np.asarray(value).reshape(()).astype(dtype)
    if dtype == np.bool_:
        data = b"\xff" if one else b"\x00"
    else:
        data = one.astype(dtype.newbyteorder("<")).tobytes()
    return dense_attr(type, data)


# ============================================================================ parsing


def _parse_dense_elements(parser: Any, type: Attribute | None) -> DenseIntOrFPElementsAttr:
    """``dense<...>`` as MLIR reads it (empty, a hex string, a nested literal or one value
    for every element), with splats kept as one element: xDSL 0.74 expands a splat into a
    list of Python numbers, one per element (27 s and 570 MB for 10M elements)."""
    parser.parse_punctuation("<", " in dense attribute")
    contents: Any = None
    if parser.parse_optional_punctuation(">") is None:
        hex_text = parser.parse_optional_str_literal()
        contents = hex_text if hex_text is not None else parser._parse_tensor_literal()
        parser.parse_punctuation(">", " in dense attribute")
    if type is None:
        parser.parse_punctuation(":", " in dense attribute")
        type = parser._parse_dense_literal_type()
    dims, count = list(type.get_shape()), _count(type)  # type: ignore[attr-defined]
    element = type.get_element_type()  # type: ignore[attr-defined]
    width = element.compile_time_size
    if contents is None:
        if count != 0:
            parser.raise_error("Expected at least one element in the dense literal, but got None")
        return dense_attr(type, b"")
    if isinstance(contents, str):
        try:
            data = bytes.fromhex(contents[2:])
        except ValueError:
            parser.raise_error("Hex string in denseAttr is invalid")
        if len(data) not in (width, width * count):
            parser.raise_error(f"Shape mismatch in dense literal. Expected {count} elements from the type, but got {len(data) // max(width, 1)} elements.")
        return dense_attr(type, data)
    literal, literal_shape = contents
    if literal_shape and literal_shape != dims:
        parser.raise_error(f"Shape mismatch in dense literal. Expected {dims} shape from the type, but got {literal_shape} shape.")
    values = [e.to_type(parser, element) for e in literal]
    if isinstance(element, IntegerType):
        values = [element.get_normalized_value(v) for v in values]
    return dense_attr(type, element.pack(values))


def install_splat_parsing() -> None:
    """Make xDSL's parser read dense literals with ``_parse_dense_elements`` (idempotent)."""
    from xdsl.parser import AttrParser

    if getattr(AttrParser, "_zymase_splats", False):
        return
    AttrParser.parse_dense_int_or_fp_elements_attr = _parse_dense_elements  # type: ignore[method-assign,assignment]
    AttrParser._zymase_splats = True  # type: ignore[attr-defined]
