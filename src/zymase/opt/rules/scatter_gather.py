"""Gathers whose indices are known at compile time become slices (an arithmetic sequence
of rows: a strided slice, reversed when it descends; one row for every position: a
broadcast of a slice), and scatters with unique indices into a constant lose their
combiner (into the combiner's identity: a replacing scatter; a constant update: the
folded constant).

Index values are read by a small evaluator over constants, iotas and integer arithmetic
on them (``_index_values``), up to ``MAX_FOLD_ELEMENTS`` elements, without building
anything. A gather clamps each start into the operand; the slice rules only fire when
no start needs clamping (the one-row rule clamps at compile time, as the op does).
"""

from __future__ import annotations

from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem, tensor
from ..lazy_jax import jnp, lax
from ..pattern import Example, producer, rule, shape
from .common import MAX_FOLD_ELEMENTS, broadcast_array, constant_array, constant_splat, is_integer, size

# ============================================================================ index values


def _index_values(v: SSAValue, depth: int = 8):
    """The integer values of ``v`` as a numpy array when they follow from constants and
    iotas through broadcast_in_dim, reshape, convert, transpose, concatenate and integer
    add / subtract / multiply (at most ``MAX_FOLD_ELEMENTS`` elements), else None."""
    import numpy as np

    if depth == 0 or not is_integer(v) or any(n < 0 for n in shape(v)) or size(v) > MAX_FOLD_ELEMENTS:
        return None
    owner = v.owner
    if isinstance(owner, hlo.SelectOp):
        p = _index_values(owner.pred, depth - 1)
        if p is None:
            return None
        t, f = _index_values(owner.on_true, depth - 1), _index_values(owner.on_false, depth - 1)
        if t is None or f is None:
            return None
        return np.where(p, t, f)
    if isinstance(owner, hlo.CompareOp):
        a, c = _index_values(owner.lhs, depth - 1), _index_values(owner.rhs, depth - 1)
        if a is None or c is None:
            return None
        if owner.compare_type is not None and owner.compare_type.data.value == "UNSIGNED":
            return None
        fn = _COMPARE.get(owner.comparison_direction.data.value)
        return None if fn is None else fn(a.astype(np.int64), c.astype(np.int64))
    if isinstance(owner, hlo.ConstantOp):
        return constant_array(v)
    if isinstance(owner, hlo.IotaOp):
        dims = shape(v)
        d = owner.iota_dimension.value.data
        index = np.arange(dims[d], dtype=np.int64).reshape([dims[d] if k == d else 1 for k in range(len(dims))])
        return np.broadcast_to(index, dims)
    if isinstance(owner, hlo.BroadcastInDimOp):
        inner = _index_values(owner.operand, depth - 1)
        if inner is None:
            return None
        return broadcast_array(inner, list(owner.broadcast_dimensions.get_values()), shape(v))
    if isinstance(owner, hlo.ReshapeOp):
        inner = _index_values(owner.operand, depth - 1)
        return None if inner is None else inner.reshape(shape(v))
    if isinstance(owner, hlo.ConvertOp):
        inner = _index_values(owner.operand, depth - 1)
        if inner is None:
            return None
        from ...ir.dense import element_dtype

        dt = element_dtype(elem(v))
        out = inner.astype(dt)
        return out if np.array_equal(out.astype(np.int64), inner.astype(np.int64)) else None
    if isinstance(owner, hlo.TransposeOp):
        inner = _index_values(owner.operand, depth - 1)
        return None if inner is None else inner.transpose(list(owner.permutation.get_values()))
    if isinstance(owner, (hlo.AddOp, hlo.SubtractOp, hlo.MultiplyOp)):
        a, c = _index_values(owner.lhs, depth - 1), _index_values(owner.rhs, depth - 1)
        if a is None or c is None:
            return None
        a, c = a.astype(np.int64), c.astype(np.int64)
        out = a + c if isinstance(owner, hlo.AddOp) else a - c if isinstance(owner, hlo.SubtractOp) else a * c
        from ...ir.dense import element_dtype

        dt = element_dtype(elem(v))
        if not np.array_equal(out.astype(dt).astype(np.int64), out):
            return None  # wraps in the element type
        return out
    return None


_COMPARE = {
    "EQ": lambda a, c: a == c,
    "NE": lambda a, c: a != c,
    "LT": lambda a, c: a < c,
    "LE": lambda a, c: a <= c,
    "GT": lambda a, c: a > c,
    "GE": lambda a, c: a >= c,
}


def _index_rows(op: hlo.GatherOp):
    """The start index vectors of a gather, one row per batch position (batch positions
    in row-major order), or None."""
    import numpy as np

    dims = op.dimension_numbers
    ishape = shape(op.start_indices)
    ivd = dims.index_vector_dim
    s = constant_splat(op.start_indices)
    k = len(dims.start_index_map)
    if s is not None and s.dtype.kind in "iu":
        batch = [n for d, n in enumerate(ishape) if d != ivd]
        count = 1
        for n in batch:
            count *= n
        return np.full((count, k), int(s), dtype=np.int64), batch
    values = _index_values(op.start_indices)
    if values is None:
        return None
    if ivd == len(ishape):
        values = values[..., None]
    else:
        values = np.moveaxis(values, ivd, -1)
    batch = list(values.shape[:-1])
    return values.reshape(-1, values.shape[-1]).astype(np.int64), batch


def _plain(op: hlo.GatherOp) -> bool:
    dims = op.dimension_numbers
    return not dims.operand_batching_dims and not dims.start_indices_batching_dims and all(n >= 0 for n in shape(op.operand))


# ============================================================================ gather


_GATHER_ONE_ROW = """
func.func @main(%x: tensor<5x3xf64>) -> tensor<4x3xf64> {
  %i = stablehlo.constant dense<2> : tensor<4x1xi64>
  %0 = "stablehlo.gather"(%x, %i) {dimension_numbers = #stablehlo.gather<offset_dims = [1], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 1>, slice_sizes = array<i64: 1, 3>} : (tensor<5x3xf64>, tensor<4x1xi64>) -> tensor<4x3xf64>
  func.return %0 : tensor<4x3xf64>
}"""

_GATHER_CLAMPED = """
func.func @main(%x: tensor<5x3xf64>) -> tensor<2x1x2xf64> {
  %i = stablehlo.constant dense<[[[7, -1]], [[7, -1]]]> : tensor<2x1x2xi64>
  %0 = "stablehlo.gather"(%x, %i) {dimension_numbers = #stablehlo.gather<offset_dims = [2], collapsed_slice_dims = [0], start_index_map = [0, 1], index_vector_dim = 2>, slice_sizes = array<i64: 1, 2>} : (tensor<5x3xf64>, tensor<2x1x2xi64>) -> tensor<2x1x2xf64>
  func.return %0 : tensor<2x1x2xf64>
}"""


@rule(example=[Example(mlir=_GATHER_ONE_ROW), Example(mlir=_GATHER_CLAMPED)])
def gather_one_row(op: hlo.GatherOp, b: Builder):
    """gather(x, indices with the same row everywhere) -> broadcast_in_dim(reshape(slice(x, clamp(row))))   (constant indices)"""
    import numpy as np

    if not _plain(op) or size(op.result) == 0:
        return None
    rows = _index_rows(op)
    if rows is None:
        return None
    values, _ = rows
    if values.shape[0] == 0 or not np.all(values == values[0]):
        return None
    dims = op.dimension_numbers
    xs = shape(op.operand)
    sizes = list(op.slice_sizes.get_values())
    start = [0] * len(xs)
    for k, d in enumerate(dims.start_index_map):
        start[d] = int(min(max(int(values[0][k]), 0), xs[d] - sizes[d]))
    piece = b.slice(op.operand, start, [s + n for s, n in zip(start, sizes)])
    kept = [sizes[d] for d in range(len(xs)) if d not in dims.collapsed_slice_dims]
    if kept != sizes:
        piece = b.reshape(piece, kept)
    out = shape(op.result)
    if list(out) == kept:
        return piece
    return b.broadcast_in_dim(piece, list(out), sorted(dims.offset_dims))


def _arithmetic(seq) -> int | None:
    """The common difference of an arithmetic sequence of at least two values, else None."""
    if len(seq) < 2:
        return None
    step = int(seq[1]) - int(seq[0])
    for k in range(1, len(seq)):
        if int(seq[k]) - int(seq[k - 1]) != step:
            return None
    return step


_GATHER_IOTA = """
func.func @main(%x: tensor<10x3xf64>) -> tensor<4x3xf64> {
  %c = stablehlo.constant dense<1> : tensor<4x1xi64>
  %s = stablehlo.constant dense<2> : tensor<4x1xi64>
  %iota = stablehlo.iota dim = 0 : tensor<4x1xi64>
  %m = stablehlo.multiply %iota, %s : tensor<4x1xi64>
  %i = stablehlo.add %m, %c : tensor<4x1xi64>
  %0 = "stablehlo.gather"(%x, %i) {dimension_numbers = #stablehlo.gather<offset_dims = [1], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 1>, slice_sizes = array<i64: 1, 3>} : (tensor<10x3xf64>, tensor<4x1xi64>) -> tensor<4x3xf64>
  func.return %0 : tensor<4x3xf64>
}"""

_GATHER_DESCENDING = """
func.func @main(%x: tensor<3x10xf64>) -> tensor<3x4xf64> {
  %c = stablehlo.constant dense<[8, 6, 4, 2]> : tensor<4xi32>
  %0 = "stablehlo.gather"(%x, %c) {dimension_numbers = #stablehlo.gather<offset_dims = [0], collapsed_slice_dims = [1], start_index_map = [1], index_vector_dim = 1>, slice_sizes = array<i64: 3, 1>} : (tensor<3x10xf64>, tensor<4xi32>) -> tensor<3x4xf64>
  func.return %0 : tensor<3x4xf64>
}"""

_GATHER_MOVED = """
func.func @main(%x: tensor<10x3xf64>) -> tensor<3x5xf64> {
  %i = stablehlo.iota dim = 0 : tensor<5x1xi64>
  %0 = "stablehlo.gather"(%x, %i) {dimension_numbers = #stablehlo.gather<offset_dims = [0], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 1>, slice_sizes = array<i64: 1, 3>} : (tensor<10x3xf64>, tensor<5x1xi64>) -> tensor<3x5xf64>
  func.return %0 : tensor<3x5xf64>
}"""


@rule(example=[Example(mlir=_GATHER_IOTA), Example(mlir=_GATHER_DESCENDING), Example(mlir=_GATHER_MOVED), Example(lambda x: x[jnp.arange(1, 7, 2)], [(8, 3)])])
def gather_arithmetic_rows(op: hlo.GatherOp, b: Builder):
    """gather(x, [a, a + s, ..., a + (n-1) s] along d) -> slice(x, a : a + (n-1) s + 1 : s)   (s < 0: reverse of the ascending slice; a transpose when the batch dimension is elsewhere; indices in bounds)"""
    if not _plain(op):
        return None
    dims = op.dimension_numbers
    if len(dims.start_index_map) != 1 or list(dims.collapsed_slice_dims) != list(dims.start_index_map):
        return None
    d = dims.start_index_map[0]
    xs = shape(op.operand)
    sizes = list(op.slice_sizes.get_values())
    if sizes[d] != 1 or any(sizes[e] != xs[e] for e in range(len(xs)) if e != d):
        return None
    rows = _index_rows(op)
    if rows is None:
        return None
    values, batch = rows
    if len(batch) != 1 or values.shape[1] != 1:
        return None
    seq = [int(v) for v in values[:, 0]]
    step = _arithmetic(seq)
    if step is None or step == 0 or min(seq) < 0 or max(seq) >= xs[d]:
        return None
    lo, hi = min(seq), max(seq)
    start, limit, strides = [0] * len(xs), list(xs), [1] * len(xs)
    start[d], limit[d], strides[d] = lo, hi + 1, abs(step)
    piece = b.slice(op.operand, start, limit, strides) if (lo, hi + 1, abs(step)) != (0, xs[d], 1) else op.operand
    if step < 0:
        piece = b.reverse(piece, [d])
    out_rank = len(shape(op.result))
    p = next(k for k in range(out_rank) if k not in dims.offset_dims)
    others = [e for e in range(len(xs)) if e != d]
    perm = others[:p] + [d] + others[p:]
    if perm != list(range(len(xs))):
        piece = b.transpose(piece, perm)
    return piece


# ============================================================================ scatter


def _identity_of(kind: type, s) -> bool:
    import numpy as np

    if kind is hlo.AddOp or kind is hlo.OrOp or kind is hlo.XorOp:
        return not bool(s) if s.dtype.kind in "biu" else (s == 0 and not np.signbit(s))
    if kind is hlo.MultiplyOp:
        return bool(s == 1)
    if kind is hlo.MaximumOp:
        return bool(s == (-np.inf if s.dtype.kind == "f" else np.iinfo(s.dtype).min if s.dtype.kind in "iu" else False))
    if kind is hlo.MinimumOp:
        return bool(s == (np.inf if s.dtype.kind == "f" else np.iinfo(s.dtype).max if s.dtype.kind in "iu" else True))
    return False


def _disjoint_windows(op: hlo.ScatterOp) -> bool:
    """The scatter's windows are pairwise disjoint, known at compile time: constant
    indices, distinct rows, every scattered dimension an inserted (size-1) window dim.
    (The ``unique_indices`` flag is a promise a caller may break; this is a proof.)"""
    import numpy as np

    dims = op.scatter_dimension_numbers
    if dims.input_batching_dims or dims.scatter_indices_batching_dims:
        return False
    if not set(dims.scatter_dims_to_operand_dims) <= set(dims.inserted_window_dims):
        return False
    values = _index_values(op.scatter_indices)
    if values is None:
        return False
    ivd = dims.index_vector_dim
    values = values[..., None] if ivd == values.ndim else np.moveaxis(values, ivd, -1)
    rows = values.reshape(-1, values.shape[-1])
    return len({tuple(int(x) for x in r) for r in rows}) == rows.shape[0]


def _with_region(op: hlo.ScatterOp, b: Builder, build, updates: SSAValue | None = None) -> SSAValue:
    from xdsl.ir import Block, Region

    scalar = tensor(elem(op.inputs[0]), [])
    block = Block(arg_types=[scalar, scalar])
    out = build(Builder(block), list(block.args))
    block.add_op(hlo.ReturnOp([out]))
    new = hlo.ScatterOp.create(
        operands=[*op.inputs, op.scatter_indices, *([updates] if updates is not None else op.updates)],
        result_types=[r.type for r in op.results_],
        properties=dict(op.properties),
        attributes=dict(op.attributes),
        regions=[Region(block)],
    )
    return b.insert(new).results[0]


_SCATTER_ADD_ZERO = """
func.func @main(%i: tensor<3x1xi32>, %u: tensor<3x2xf64>) -> tensor<6x2xf64> {
  %z = stablehlo.constant dense<0.0> : tensor<6x2xf64>
  %k = stablehlo.constant dense<[[4], [0], [2]]> : tensor<3x1xi32>
  %0 = "stablehlo.scatter"(%z, %k, %u) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = true}> ({
  ^bb0(%a: tensor<f64>, %c: tensor<f64>):
    %1 = stablehlo.add %a, %c : tensor<f64>
    stablehlo.return %1 : tensor<f64>
  }) : (tensor<6x2xf64>, tensor<3x1xi32>, tensor<3x2xf64>) -> tensor<6x2xf64>
  func.return %0 : tensor<6x2xf64>
}"""


@rule(example=[Example(mlir=_SCATTER_ADD_ZERO), Example(mlir=_SCATTER_ADD_ZERO.replace("dense<0.0>", "dense<1.0>").replace("stablehlo.add", "stablehlo.multiply"))])
def scatter_unique_into_identity(op: hlo.ScatterOp, b: Builder):
    """scatter(identity of k, unique i, u, k) -> scatter(identity of k, i, u, replace)   (windows disjoint, known from constant indices; up to the sign of zero)"""
    if len(op.inputs) != 1:
        return None
    kind = op.combiner()
    if kind not in (hlo.AddOp, hlo.MultiplyOp, hlo.MaximumOp, hlo.MinimumOp, hlo.OrOp, hlo.XorOp):
        return None
    s = constant_splat(op.inputs[0])
    if s is None or not _identity_of(kind, s) or not _disjoint_windows(op):
        return None
    return _with_region(op, b, lambda bb, args: args[1])


_SCATTER_CONSTANTS = """
func.func @main(%x: tensor<6x2xf64>) -> tensor<6x2xf64> {
  %k = stablehlo.constant dense<[[5], [1], [2]]> : tensor<3x1xi32>
  %z = stablehlo.constant dense<2.0> : tensor<6x2xf64>
  %u = stablehlo.constant dense<5.0> : tensor<3x2xf64>
  %0 = "stablehlo.scatter"(%z, %k, %u) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = true}> ({
  ^bb0(%a: tensor<f64>, %c: tensor<f64>):
    %1 = stablehlo.multiply %a, %c : tensor<f64>
    stablehlo.return %1 : tensor<f64>
  }) : (tensor<6x2xf64>, tensor<3x1xi32>, tensor<3x2xf64>) -> tensor<6x2xf64>
  %r = stablehlo.add %0, %x : tensor<6x2xf64>
  func.return %r : tensor<6x2xf64>
}"""


@rule(example=[Example(mlir=_SCATTER_CONSTANTS), Example(mlir=_SCATTER_CONSTANTS.replace("stablehlo.multiply %a", "stablehlo.maximum %a"))])
def scatter_constant_combination(op: hlo.ScatterOp, b: Builder):
    """scatter(splat c, unique i, splat u, k) -> scatter(c, i, splat k(c, u), replace)   (windows disjoint, known from constant indices; k add, subtract, multiply, maximum, minimum; f32, f64 or integers: folded exactly)"""
    import numpy as np

    if len(op.inputs) != 1:
        return None
    kind = op.combiner()
    if kind not in (hlo.AddOp, hlo.SubtractOp, hlo.MultiplyOp, hlo.MaximumOp, hlo.MinimumOp):
        return None
    c, u = constant_splat(op.inputs[0]), constant_splat(op.updates[0])
    if c is None or u is None or c.dtype != u.dtype or c.dtype not in (np.float32, np.float64, np.int32, np.int64):
        return None
    if not _disjoint_windows(op):
        return None
    with np.errstate(all="ignore"):
        if kind is hlo.AddOp:
            folded = c + u
        elif kind is hlo.SubtractOp:
            folded = c - u
        elif kind is hlo.MultiplyOp:
            folded = c * u
        elif kind is hlo.MaximumOp:
            folded = np.maximum(c, u)
        else:
            folded = np.minimum(c, u)
    folded = np.asarray(folded, c.dtype).reshape(())
    if folded.tobytes() == u.tobytes() and op.combiner() == "replace":
        return None
    updates = b.constant(folded, op.updates[0].type)
    return _with_region(op, b, lambda bb, args: args[1], updates=updates)


# ============================================================================ gathers of constants


_GATHER_SPLAT = """
func.func @main(%i: tensor<5x2xi64>) -> tensor<5xf64> {
  %c = stablehlo.constant dense<1.5> : tensor<8x8xf64>
  %0 = "stablehlo.gather"(%c, %i) {dimension_numbers = #stablehlo.gather<collapsed_slice_dims = [0, 1], start_index_map = [0, 1], index_vector_dim = 1>, slice_sizes = array<i64: 1, 1>} : (tensor<8x8xf64>, tensor<5x2xi64>) -> tensor<5xf64>
  func.return %0 : tensor<5xf64>
}"""


@rule(example=Example(mlir=_GATHER_SPLAT))
def gather_splat_operand(op: hlo.GatherOp, b: Builder):
    """gather(splat c, i) -> splat c   (every start is clamped into the operand)"""
    s = constant_splat(op.operand, complex_ok=True)
    if s is None or any(n < 0 for n in shape(op.result)):
        return None
    return b.constant(s, op.result.type)


def _gather_numpy(op: hlo.GatherOp, operand, rows, batch):
    """gather evaluated in numpy (no batching dimensions): one window per batch position."""
    import numpy as np

    dims = op.dimension_numbers
    xs = operand.shape
    sizes = list(op.slice_sizes.get_values())
    collapsed = set(dims.collapsed_slice_dims)
    kept = [d for d in range(len(xs)) if d not in collapsed]
    windows = []
    for row in rows:
        start = [0] * len(xs)
        for k, d in enumerate(dims.start_index_map):
            start[d] = int(min(max(int(row[k]), 0), xs[d] - sizes[d]))
        w = operand[tuple(slice(s, s + n) for s, n in zip(start, sizes))]
        windows.append(w.reshape([sizes[d] for d in kept]))
    stacked = np.stack(windows).reshape(list(batch) + [sizes[d] for d in kept]) if windows else np.zeros(list(batch) + [sizes[d] for d in kept], operand.dtype)
    rank = len(batch) + len(kept)
    offsets = sorted(dims.offset_dims)
    batch_positions = [p for p in range(rank) if p not in offsets]
    # stacked dims: batch dims (in order), then offset dims (in order): put each where it goes
    order = [0] * rank
    for j, p in enumerate(batch_positions):
        order[p] = j
    for j, p in enumerate(offsets):
        order[p] = len(batch) + j
    return stacked.transpose(order)


_GATHER_FOLD = """
func.func @main(%x: tensor<4xf64>) -> tensor<4xf64> {
  %c = stablehlo.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]> : tensor<3x3xf64>
  %i = stablehlo.constant dense<[[0, 0], [2, 1], [1, 2], [5, -1]]> : tensor<4x2xi64>
  %0 = "stablehlo.gather"(%c, %i) {dimension_numbers = #stablehlo.gather<collapsed_slice_dims = [0, 1], start_index_map = [0, 1], index_vector_dim = 1>, slice_sizes = array<i64: 1, 1>} : (tensor<3x3xf64>, tensor<4x2xi64>) -> tensor<4xf64>
  %1 = stablehlo.multiply %0, %x : tensor<4xf64>
  func.return %1 : tensor<4xf64>
}"""

_GATHER_FOLD_WINDOWS = """
func.func @main(%x: tensor<2x3x2xf64>) -> tensor<2x3x2xf64> {
  %c = stablehlo.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]> : tensor<3x3xf64>
  %i = stablehlo.constant dense<[[1], [0]]> : tensor<2x1xi64>
  %0 = "stablehlo.gather"(%c, %i) {dimension_numbers = #stablehlo.gather<offset_dims = [1, 2], start_index_map = [1], index_vector_dim = 1>, slice_sizes = array<i64: 3, 2>} : (tensor<3x3xf64>, tensor<2x1xi64>) -> tensor<2x3x2xf64>
  %1 = stablehlo.multiply %0, %x : tensor<2x3x2xf64>
  func.return %1 : tensor<2x3x2xf64>
}"""


@rule(example=[Example(mlir=_GATHER_FOLD), Example(mlir=_GATHER_FOLD_WINDOWS)])
def gather_constant_fold(op: hlo.GatherOp, b: Builder):
    """gather(constant, constant indices) -> constant   (at most MAX_FOLD_ELEMENTS elements; starts clamped as the op does)"""
    from .common import dense_constant, emit

    if not _plain(op) or size(op.result) > MAX_FOLD_ELEMENTS or any(n < 0 for n in shape(op.result)):
        return None
    operand = dense_constant(op.operand, complex_ok=True)
    if operand is None or operand.size > MAX_FOLD_ELEMENTS:
        return None
    rows = _index_rows(op)
    if rows is None:
        return None
    values, batch = rows
    out = _gather_numpy(op, operand, values, batch)
    if list(out.shape) != list(shape(op.result)):
        return None
    return emit(b, out, op.result.type)


_GATHER_WHOLE = """
func.func @main(%x: tensor<3x2xf64>, %i: tensor<4x2xi64>) -> tensor<4x3x2xf64> {
  %0 = "stablehlo.gather"(%x, %i) {dimension_numbers = #stablehlo.gather<offset_dims = [1, 2], start_index_map = [0, 1], index_vector_dim = 1>, slice_sizes = array<i64: 3, 2>} : (tensor<3x2xf64>, tensor<4x2xi64>) -> tensor<4x3x2xf64>
  func.return %0 : tensor<4x3x2xf64>
}"""


@rule(example=Example(mlir=_GATHER_WHOLE))
def gather_whole_operand(op: hlo.GatherOp, b: Builder):
    """gather(x, i) with windows the whole of x -> broadcast_in_dim(x)   (every start clamps to 0)"""
    if not _plain(op):
        return None
    dims = op.dimension_numbers
    xs = shape(op.operand)
    sizes = list(op.slice_sizes.get_values())
    if sizes != list(xs) or dims.collapsed_slice_dims:
        return None
    out = shape(op.result)
    if any(n < 0 for n in out):
        return None
    return b.broadcast_in_dim(op.operand, list(out), sorted(dims.offset_dims))


_SCATTER_EMPTY = """
func.func @main(%x: tensor<5xf64>, %i: tensor<0x1xi32>, %u: tensor<0xf64>) -> tensor<5xf64> {
  %0 = "stablehlo.scatter"(%x, %i, %u) <{scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>}> ({
  ^bb0(%a: tensor<f64>, %c: tensor<f64>):
    %1 = stablehlo.add %a, %c : tensor<f64>
    stablehlo.return %1 : tensor<f64>
  }) : (tensor<5xf64>, tensor<0x1xi32>, tensor<0xf64>) -> tensor<5xf64>
  func.return %0 : tensor<5xf64>
}"""


@rule(example=Example(mlir=_SCATTER_EMPTY))
def scatter_no_updates(op: hlo.ScatterOp, b: Builder):
    """scatter(x, i, u) -> x   (u has no elements)"""
    if any(size(u) != 0 or any(n < 0 for n in shape(u)) for u in op.updates):
        return None
    if [r.type for r in op.results_] != [v.type for v in op.inputs]:
        return None
    return list(op.inputs)


_SCATTER_TWICE = """
func.func @main(%x: tensor<6x2xf64>, %i: tensor<3x1xi32>, %u: tensor<3x2xf64>, %v: tensor<3x2xf64>) -> tensor<6x2xf64> {
  %0 = "stablehlo.scatter"(%x, %i, %u) <{scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>}> ({
  ^bb0(%a: tensor<f64>, %c: tensor<f64>):
    stablehlo.return %c : tensor<f64>
  }) : (tensor<6x2xf64>, tensor<3x1xi32>, tensor<3x2xf64>) -> tensor<6x2xf64>
  %1 = "stablehlo.scatter"(%0, %i, %v) <{scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>}> ({
  ^bb0(%a: tensor<f64>, %c: tensor<f64>):
    stablehlo.return %c : tensor<f64>
  }) : (tensor<6x2xf64>, tensor<3x1xi32>, tensor<3x2xf64>) -> tensor<6x2xf64>
  func.return %1 : tensor<6x2xf64>
}"""


@rule(example=Example(mlir=_SCATTER_TWICE), needs={0: hlo.ScatterOp})
def scatter_scatter_overwrite(op: hlo.ScatterOp, b: Builder):
    """scatter(scatter(x, i, u, replace), i, v, replace) -> scatter(x, i, v, replace)   (the same indices and windows: every element u wrote, v writes again)"""
    if len(op.inputs) != 1 or op.combiner() != "replace":
        return None
    inner = producer(op.inputs[0], hlo.ScatterOp)
    if inner is None or len(inner.inputs) != 1 or inner.combiner() != "replace" or len(list(op.inputs[0].uses)) != 1:
        return None
    if inner.scatter_indices is not op.scatter_indices or inner.scatter_dimension_numbers != op.scatter_dimension_numbers:
        return None
    if shape(inner.updates[0]) != shape(op.updates[0]):
        return None
    new = hlo.ScatterOp.create(
        operands=[inner.inputs[0], op.scatter_indices, op.updates[0]],
        result_types=[op.results_[0].type],
        properties=dict(op.properties),
        attributes=dict(op.attributes),
        regions=[op.update_computation.clone()],
    )
    return b.insert(new).results[0]
