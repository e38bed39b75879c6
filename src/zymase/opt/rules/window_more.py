"""reduce_window identities: windows of a splat, windows spanning whole dimensions (a
reduce), windows with no element, integer windows of constants folded.

Integer and boolean windows are exact for every value (two's complement sums and
products do not depend on the order); floating-point windows spanning whole dimensions
are reassociated (and the sign of a zero maximum may change): fast-math only.
"""

from __future__ import annotations

from math import prod


from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ...ir.query import padding_pairs, shape
from ..lazy_jax import jnp, lax
from ..pattern import Example, rule, value_of
from .common import MAX_FOLD_ELEMENTS, constant_splat, emit, emit_splat, splat_scalar

_KINDS = (hlo.AddOp, hlo.MultiplyOp, hlo.MaximumOp, hlo.MinimumOp, hlo.AndOp, hlo.OrOp, hlo.XorOp)


def _ints(attr, rank: int, default: int = 1) -> list[int]:
    return list(attr.get_values()) if attr is not None else [default] * rank


def _plain_window(op: hlo.ReduceWindowOp, dilations: bool = True) -> bool:
    """One input, no padding, no base dilation (and, when asked, no window dilation)."""
    if len(op.inputs) != 1:
        return False
    rank = len(shape(op.inputs[0]))
    if _ints(op.base_dilations, rank) != [1] * rank:
        return False
    if dilations and _ints(op.window_dilations, rank) != [1] * rank:
        return False
    return not any(lo or hi for lo, hi in padding_pairs(op, rank))


def _identity(kind: type, s: np.ndarray) -> bool:
    """``s`` (a scalar) is the identity of ``kind``."""
    import numpy as np
    if s.dtype == np.bool_:
        return (kind in (hlo.AndOp, hlo.MinimumOp) and bool(s)) or (kind in (hlo.OrOp, hlo.XorOp, hlo.MaximumOp) and not bool(s))
    if s.dtype.kind == "f":
        return {hlo.MaximumOp: -np.inf, hlo.MinimumOp: np.inf, hlo.AddOp: 0.0, hlo.MultiplyOp: 1.0}.get(kind) == float(s)
    if s.dtype.kind in "iu":
        info = np.iinfo(s.dtype)
        return {
            hlo.AddOp: 0,
            hlo.MultiplyOp: 1,
            hlo.MaximumOp: info.min,
            hlo.MinimumOp: info.max,
            hlo.AndOp: -1 if s.dtype.kind == "i" else info.max,
            hlo.OrOp: 0,
            hlo.XorOp: 0,
        }.get(kind) == int(s)
    return False


@rule(
    example=[
        Example(lambda x: lax.reduce_window(jnp.broadcast_to(x, (4, 6)), -jnp.inf, lax.max, (2, 3), (1, 2), "VALID"), [()]),
        Example(lambda x: lax.reduce_window(jnp.full((5,), 2.5), jnp.inf, lax.min, (2,), (1,), "VALID") + x, [(4,)]),
    ],
)
def reduce_window_splat(op: hlo.ReduceWindowOp, b: Builder):
    """reduce_window(splat c, identity, k) -> splat c   (k maximum or minimum with the identity as init, no padding: every window holds c only)"""
    import numpy as np
    if not _plain_window(op, dilations=False):
        return None
    kind = op.combiner()
    if kind not in (hlo.MaximumOp, hlo.MinimumOp):
        return None
    init = constant_splat(op.init_values[0])
    if init is None or not _identity(kind, init):
        return None
    x = op.inputs[0]
    out = op.results_[0]
    if prod(shape(out)) == 0 or np.dtype(_dtype(x)).name not in ("float32", "float64") and np.dtype(_dtype(x)).kind not in "iu":
        return None  # half-precision maxima are computed in f32, which quiets signalling NaNs
    s = splat_scalar(x)
    if s is None:
        return None
    if isinstance(s, np.generic) or isinstance(s, np.ndarray):
        return emit_splat(b, np.asarray(s), out.type)
    return b.broadcast_in_dim(s, list(shape(out)), [])


def _full_window_dims(op: hlo.ReduceWindowOp) -> list[int] | None:
    """The dims the windows span whole (the others have windows of one element, stride 1),
    or None."""
    x = op.inputs[0]
    xs = shape(x)
    rank = len(xs)
    window = _ints(op.window_dimensions, rank)
    strides = _ints(op.window_strides, rank)
    full = []
    for d in range(rank):
        if window[d] == xs[d] and xs[d] > 1:
            full.append(d)
        elif window[d] != 1 or strides[d] != 1:
            return None
    return full or None


def _full_window(op: hlo.ReduceWindowOp, b: Builder, want_float: bool):
    import numpy as np
    if not _plain_window(op):
        return None
    kind = op.combiner()
    if kind not in _KINDS:
        return None
    x = op.inputs[0]
    is_float = np.dtype(_dtype(x)).kind in "fc"
    if is_float != want_float or any(n < 0 for n in shape(x)):
        return None
    dims = _full_window_dims(op)
    init = constant_splat(op.init_values[0])
    if dims is None or init is None or not _identity(kind, init):
        return None  # a reduction's init that is not the identity is used an unspecified number of times
    r = b.reduce(x, op.init_values[0], dims, kind)
    return b.reshape(r, list(shape(op.results_[0])))


def _dtype(v):
    from ...ir.dense import element_dtype

    return element_dtype(v.type.get_element_type())


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3x4xi32>) -> tensor<3x1xi32> {
  %z = stablehlo.constant dense<0> : tensor<i32>
  %0 = "stablehlo.reduce_window"(%x, %z) <{window_dimensions = array<i64: 1, 4>}> ({
  ^bb0(%a: tensor<i32>, %b: tensor<i32>):
    %s = stablehlo.add %a, %b : tensor<i32>
    stablehlo.return %s : tensor<i32>
  }) : (tensor<3x4xi32>, tensor<i32>) -> tensor<3x1xi32>
  func.return %0 : tensor<3x1xi32>
}"""
    )
)
def reduce_window_whole_dims_integer(op: hlo.ReduceWindowOp, b: Builder):
    """reduce_window(x, init, k) -> reshape(reduce(x, init, k, D))   (integers, init the identity of k; windows span the dims D whole and are single elements elsewhere, no padding or dilation)"""
    return _full_window(op, b, want_float=False)


@rule(
    example=Example(lambda x: lax.reduce_window(x, 0.0, lax.add, (3, 1), (1, 1), "VALID"), [(3, 4)]),
    unsafe=True,
)
def reduce_window_whole_dims(op: hlo.ReduceWindowOp, b: Builder):
    """reduce_window(x, init, k) -> reshape(reduce(x, init, k, D))   (floats: windows span the dims D whole and are single elements elsewhere; reassociated)"""
    return _full_window(op, b, want_float=True)


def _fold(x: np.ndarray, init, kind: type, window, strides, base, wdil, pads) -> np.ndarray:
    """reduce_window of the array ``x`` by the numpy reference of StableHLO's semantics."""
    import numpy as np
    fn = {
        hlo.AddOp: np.add,
        hlo.MultiplyOp: np.multiply,
        hlo.MaximumOp: np.maximum,
        hlo.MinimumOp: np.minimum,
        hlo.AndOp: np.bitwise_and,
        hlo.OrOp: np.bitwise_or,
        hlo.XorOp: np.bitwise_xor,
    }[kind]
    rank = x.ndim
    dil_shape = [(n - 1) * s + 1 if n > 0 else 0 for n, s in zip(x.shape, base)]
    dilated = np.full(dil_shape, init, dtype=x.dtype)
    dilated[tuple(slice(None, None, s) for s in base)] = x
    padded = np.full([n + lo + hi for n, (lo, hi) in zip(dil_shape, pads)], init, dtype=x.dtype)
    padded[tuple(slice(lo, lo + n) for n, (lo, _) in zip(dil_shape, pads))] = dilated
    extent = [(w - 1) * d + 1 for w, d in zip(window, wdil)]
    out_shape = [(p - e) // s + 1 if p >= e else 0 for p, e, s in zip(padded.shape, extent, strides)]
    out = np.full(out_shape, init, dtype=x.dtype)
    with np.errstate(over="ignore"):
        for idx in np.ndindex(*out_shape):
            sl = tuple(slice(i * s, i * s + e, d) for i, s, e, d in zip(idx, strides, extent, wdil))
            acc = np.asarray(init, dtype=x.dtype)
            for v in padded[sl].reshape(-1):
                acc = fn(acc, v)
            out[idx] = acc
    return out


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3x2xi32>) -> tensor<3x2xi32> {
  %c = stablehlo.constant dense<[[1, 2, 3], [4, 5, 6], [7, 8, 9], [-1, -2, -3]]> : tensor<4x3xi32>
  %z = stablehlo.constant dense<0> : tensor<i32>
  %0 = "stablehlo.reduce_window"(%c, %z) <{window_dimensions = array<i64: 2, 2>, padding = dense<[[0, 0], [0, 0]]> : tensor<2x2xi64>}> ({
  ^bb0(%a: tensor<i32>, %b: tensor<i32>):
    %s = stablehlo.add %a, %b : tensor<i32>
    stablehlo.return %s : tensor<i32>
  }) : (tensor<4x3xi32>, tensor<i32>) -> tensor<3x2xi32>
  %1 = stablehlo.add %0, %x : tensor<3x2xi32>
  func.return %1 : tensor<3x2xi32>
}"""
    ),
)
def reduce_window_constant_fold(op: hlo.ReduceWindowOp, b: Builder):
    """reduce_window(c, init, k) -> c'   (integer or boolean constants, init the identity of k; k add, multiply, maximum, minimum, and, or, xor)"""
    import numpy as np
    if len(op.inputs) != 1:
        return None
    kind = op.combiner()
    if kind not in _KINDS:
        return None
    x = value_of(op.inputs[0])
    init = value_of(op.init_values[0])
    if x is None or init is None or x.dtype.kind not in "iub" or init.size != 1 or not _identity(kind, init.reshape(())):
        return None
    if x.dtype == np.bool_ and kind not in (hlo.AndOp, hlo.OrOp, hlo.XorOp, hlo.MaximumOp, hlo.MinimumOp):
        return None
    out_shape = shape(op.results_[0])
    rank = x.ndim
    window = _ints(op.window_dimensions, rank)
    if x.size > MAX_FOLD_ELEMENTS or prod(out_shape) * prod(window) > MAX_FOLD_ELEMENTS // 16:
        return None
    out = _fold(
        x,
        init.reshape(()),
        kind,
        window,
        _ints(op.window_strides, rank),
        _ints(op.base_dilations, rank),
        _ints(op.window_dilations, rank),
        padding_pairs(op, rank),
    )
    if tuple(out.shape) != tuple(out_shape):
        return None
    return emit(b, out, op.results_[0].type)
