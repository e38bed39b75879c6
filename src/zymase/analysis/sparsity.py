"""Sparsity patterns of Jacobians and Hessians, read off the IR (xDSL and numpy only).

For every value of a function, per element (row-major), the set of flattened inputs its
derivative may depend on: a :class:`Deps`, a CSR-like boolean matrix (``indptr``,
``indices``: element e depends on ``indices[indptr[e]:indptr[e+1]]``), or ``dense``
(every element on every input) when the analysis cannot tell or the pattern would be too
large. Sets grow and never shrink: every answer over-approximates the true derivative's
nonzeros (a structural zero in the pattern is a zero of the derivative for every input).

Only derivative dependencies are tracked: integer and bool values (compare results,
indices, loop counters) carry none, and a select's predicate adds none, as the derivative
of a comparison is zero. An index that is not a constant makes the element it selects
unknown, so the result depends on the whole operand.

The Hessian of a scalar output comes from a second-order pass over the same program
(:func:`hessian_pattern`): every op adds its *nonlinear interactions* to one global set
of input pairs: ``multiply(x, y)`` couples deps(x) x deps(y) per element, ``divide(x, y)``
also deps(y) x deps(y), a nonlinear unary op f(u) couples deps(u) x deps(u), a product
reduction couples all the elements it multiplies; linear and piecewise-linear ops (add,
slice, dot with a constant, max, select, abs, ...) add none. The Hessian of f = g(h(x)) is
a sum over ops of J_in^T (op'') J_in terms plus op' times the inner Hessians, so the union
of these pairs contains its nonzeros. The second-order pass reads the primal program,
not zymase's gradient program: the gradient's reverse loops index their tapes with the
loop counter, which an analysis that must not guess would have to treat as dense.

Loops: a fixed point over the carried values (widened to everything the loop can see
after ``MAX_LOOP_ITERATIONS`` rounds); branches: the union of their results. Calls are
analysed through the callee; a function with a custom_jvp rule through its rule's
tangent results (a custom derivative need not follow the primal); other custom rules
fall back as below.

Ops without a rule here fall back to: each result element depends on the union of all
the op's operands (and captured values), with every pair of those inputs interacting.
For a pure op this is sound; the program entry's inputs are the only sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.dialects.func import CallOp, FuncOp
from xdsl.ir import Block, Operation, SSAValue

from ..ir import chlo
from ..ir import stablehlo as hlo
from ..ir.dense import dense_to_numpy
from ..ir.enzyme import CUSTOM_JVP, CUSTOM_RULE_ATTRS, IgnoreDerivativesOp
from ..ir.query import free_values, region_combiner, shape

MAX_NNZ = 20_000_000
"""A value (or the Hessian) with more dependency pairs than this becomes dense."""
MAX_LOOP_ITERATIONS = 32
"""Fixed-point iterations of a loop before its carried values are widened."""


# ============================================================================ dependency sets


def unique_sorted(a: np.ndarray, counts: bool = False):
    """The sorted distinct values of an integer array (and how often each occurs), by
    sorting: numpy's hash-based ``np.unique`` is far slower on millions of keys."""
    s = np.sort(np.asarray(a, np.int64).ravel())
    if s.size == 0:
        return (s, np.zeros(0, np.int64)) if counts else s
    first = np.empty(s.size, bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    u = s[first]
    if not counts:
        return u
    starts = np.flatnonzero(first)
    return u, np.diff(np.append(starts, s.size))


@dataclass
class Deps:
    """Per element of a value, the inputs its derivative may depend on (CSR rows)."""

    size: int
    indptr: np.ndarray = field(repr=False)
    indices: np.ndarray = field(repr=False)
    dense: bool = False

    @staticmethod
    def empty(size: int) -> Deps:
        return Deps(size, np.zeros(size + 1, np.int64), np.zeros(0, np.int64))

    @staticmethod
    def full(size: int) -> Deps:
        d = Deps.empty(size)
        d.dense = True
        return d

    @staticmethod
    def identity(size: int, offset: int) -> Deps:
        return Deps(size, np.arange(size + 1, dtype=np.int64), np.arange(offset, offset + size, dtype=np.int64))

    def is_empty(self) -> bool:
        return not self.dense and self.indices.size == 0

    def rows(self) -> np.ndarray:
        """The element of each entry of ``indices``."""
        return np.repeat(np.arange(self.size, dtype=np.int64), np.diff(self.indptr))

    def same(self, other: Deps) -> bool:
        if self.dense or other.dense:
            return self.dense == other.dense
        return np.array_equal(self.indptr, other.indptr) and np.array_equal(self.indices, other.indices)

    def to_dense(self, n: int) -> np.ndarray:
        """A boolean (size, n) matrix."""
        out = np.zeros((self.size, n), bool)
        if self.dense:
            out[:] = True
        else:
            out[self.rows(), self.indices] = True
        return out


def _from_coo(size: int, rows: np.ndarray, cols: np.ndarray, n: int) -> Deps:
    if rows.size == 0:
        return Deps.empty(size)
    key = unique_sorted(rows.astype(np.int64) * max(n, 1) + cols.astype(np.int64))
    if key.size > MAX_NNZ:
        return Deps.full(size)
    r, c = np.divmod(key, max(n, 1))
    indptr = np.zeros(size + 1, np.int64)
    np.cumsum(np.bincount(r, minlength=size), out=indptr[1:])
    return Deps(size, indptr, c)


def _union(n: int, size: int, *ds: Deps) -> Deps:
    live = [d for d in ds if not d.is_empty()]
    if any(d.dense for d in live):
        return Deps.full(size)
    if not live:
        return Deps.empty(size)
    if len(live) == 1:
        return live[0]
    rows = np.concatenate([d.rows() for d in live])
    cols = np.concatenate([d.indices for d in live])
    return _from_coo(size, rows, cols, n)


def _take(d: Deps, src: np.ndarray) -> Deps:
    """Element e of the result has the deps of element ``src[e]`` of ``d`` (none when -1)."""
    src = np.asarray(src, np.int64).ravel()
    size = src.size
    if d.dense:
        return Deps.full(size) if np.any(src >= 0) else Deps.empty(size)
    safe = np.maximum(src, 0)
    lengths = np.where(src >= 0, np.diff(d.indptr)[safe] if d.size else 0, 0)
    indptr = np.zeros(size + 1, np.int64)
    np.cumsum(lengths, out=indptr[1:])
    total = int(indptr[-1])
    if total > MAX_NNZ:
        return Deps.full(size)
    starts = d.indptr[safe] if d.size else np.zeros(size, np.int64)
    pos = np.arange(total, dtype=np.int64) - np.repeat(indptr[:-1], lengths) + np.repeat(starts, lengths)
    return Deps(size, indptr, d.indices[pos])


def _stack(ds: Sequence[Deps]) -> Deps:
    """The elements of ``ds`` one after the other (sources of an index map)."""
    size = sum(d.size for d in ds)
    if any(d.dense for d in ds):
        return Deps.full(size)
    lengths = np.concatenate([np.diff(d.indptr) for d in ds]) if ds else np.zeros(0, np.int64)
    indptr = np.zeros(size + 1, np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.concatenate([d.indices for d in ds]) if ds else np.zeros(0, np.int64)
    return Deps(size, indptr, indices)


def _group(d: Deps, groups: np.ndarray, ngroups: int, n: int) -> Deps:
    """Result element g depends on the union of the elements e of ``d`` with ``groups[e] == g``."""
    if d.dense:
        return Deps.full(ngroups)
    rows = np.asarray(groups, np.int64)[d.rows()]
    keep = rows >= 0
    return _from_coo(ngroups, rows[keep], d.indices[keep], n)


def _all_of(ds: Sequence[Deps]) -> tuple[bool, np.ndarray]:
    """(dense, the union of every element's inputs)."""
    if any(d.dense for d in ds):
        return True, np.zeros(0, np.int64)
    parts = [d.indices for d in ds if d.indices.size]
    return False, (unique_sorted(np.concatenate(parts)) if parts else np.zeros(0, np.int64))


def _uniform(ds: Sequence[Deps], size: int) -> Deps:
    """Every one of ``size`` elements depends on everything ``ds`` depends on."""
    dense, cols = _all_of(ds)
    if dense:
        return Deps.full(size)
    if cols.size * size > MAX_NNZ:
        return Deps.full(size)
    indptr = np.arange(size + 1, dtype=np.int64) * cols.size
    return Deps(size, indptr, np.tile(cols, size))


def _outer(a: Deps, b: Deps) -> tuple[np.ndarray, np.ndarray] | None:
    """Per element, every pair of an input of ``a`` with an input of ``b``; None: all pairs."""
    if a.is_empty() or b.is_empty():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if a.dense or b.dense:
        return None
    la, lb = np.diff(a.indptr), np.diff(b.indptr)
    cnt = la * lb
    total = int(cnt.sum())
    if total > MAX_NNZ:
        return None
    row = np.repeat(np.arange(a.size, dtype=np.int64), cnt)
    k = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    i = a.indices[a.indptr[row] + k // lb[row]]
    j = b.indices[b.indptr[row] + k % lb[row]]
    return i, j


# ============================================================================ patterns


@dataclass
class Pattern:
    """A boolean (m, n) matrix in CSR form (sorted, unique column indices per row)."""

    shape: tuple[int, int]
    indptr: np.ndarray
    indices: np.ndarray

    @property
    def nnz(self) -> int:
        return int(self.indices.size)

    def rows(self) -> np.ndarray:
        return np.repeat(np.arange(self.shape[0], dtype=np.int64), np.diff(self.indptr))

    def to_dense(self) -> np.ndarray:
        out = np.zeros(self.shape, bool)
        out[self.rows(), self.indices] = True
        return out

    def transpose(self) -> Pattern:
        return Pattern.from_coo((self.shape[1], self.shape[0]), self.indices, self.rows())

    @staticmethod
    def from_coo(shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray) -> Pattern:
        m, n = shape
        key = unique_sorted(np.asarray(rows, np.int64) * max(n, 1) + np.asarray(cols, np.int64))
        r, c = np.divmod(key, max(n, 1))
        indptr = np.zeros(m + 1, np.int64)
        np.cumsum(np.bincount(r, minlength=m), out=indptr[1:])
        return Pattern((m, n), indptr, c)

    @staticmethod
    def full(shape: tuple[int, int]) -> Pattern:
        m, n = shape
        return Pattern(shape, np.arange(m + 1, dtype=np.int64) * n, np.tile(np.arange(n, dtype=np.int64), m))


def _deps_pattern(ds: Sequence[Deps], n: int) -> Pattern:
    m = sum(d.size for d in ds)
    stacked = _stack(ds)
    if stacked.dense:
        return Pattern.full((m, n))
    return Pattern((m, n), stacked.indptr, stacked.indices)


# ============================================================================ the analysis


def _size(v: SSAValue) -> int:
    return int(np.prod(shape(v), dtype=np.int64)) if isinstance(v.type, TensorType) else 1


def _differentiable(v: SSAValue) -> bool:
    from .activity import is_differentiable_type

    return is_differentiable_type(v)


def _ints(attr) -> list[int]:
    return [int(x) for x in attr.get_values()]


def _const_int(v: SSAValue) -> int | None:
    """The value of a scalar integer constant (through convert / reshape / broadcast), or None."""
    op = v.owner
    if isinstance(op, hlo.ConstantOp):
        arr = dense_to_numpy(op.value)
        return int(arr.ravel()[0]) if arr.size >= 1 and np.all(arr == arr.ravel()[0]) else None
    if isinstance(op, (hlo.ConvertOp, hlo.ReshapeOp, hlo.BroadcastInDimOp)):
        return _const_int(op.operands[0])
    if isinstance(op, Operation) and op.name == "arith.constant":
        value = op.properties.get("value") or op.attributes.get("value")
        data = getattr(value, "value", None)
        return int(data.data) if data is not None and hasattr(data, "data") else None
    return None


# The elementwise ops by what their second derivative couples.
_ZERO_DERIVATIVE = (
    hlo.SignOp, hlo.FloorOp, hlo.CeilOp, hlo.RoundNearestEvenOp, hlo.RoundNearestAfzOp, hlo.IsFiniteOp,
    hlo.NotOp, hlo.PopcntOp, hlo.CountLeadingZerosOp, hlo.CompareOp,
)
_LINEAR_UNARY = (hlo.NegateOp, hlo.ConvertOp, hlo.RealOp, hlo.ImagOp, hlo.AbsOp, hlo.ReducePrecisionOp)
_LINEAR_BINARY = (hlo.AddOp, hlo.SubtractOp, hlo.MaximumOp, hlo.MinimumOp, hlo.ComplexOp, hlo.RemainderOp)
_ARITH_LINEAR = {"arith.addf", "arith.subf", "arith.negf", "arith.maximumf", "arith.minimumf", "arith.maxnumf", "arith.minnumf", "arith.select", "arith.extf", "arith.truncf", "math.absf"}
_ARITH_ZERO = {"arith.constant", "arith.cmpf", "arith.cmpi", "math.floor", "math.ceil", "math.round", "math.roundeven", "math.trunc", "math.copysign"}


class SparsityAnalysis:
    """Dependencies of every value of ``func`` on its inputs: argument k contributes the
    inputs ``offsets[k] .. offsets[k] + size`` (None: a constant argument). With
    ``second_order``, also the global set of interacting input pairs (the Hessian of a
    scalar result)."""

    def __init__(self, module: ModuleOp, func: FuncOp, offsets: Sequence[int | None], n: int, second_order: bool = False):
        self.module = module
        self.n = n
        self.second_order = second_order
        self.env: dict[SSAValue, Deps] = {}
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []
        self.pair_count = 0
        self.hessian_dense = False
        self._call_depth = 0
        self._rules: set[str] = set()
        self._assumed: dict[str, list[Deps]] = {}
        block = func.body.blocks.first
        assert block is not None
        args = [Deps.empty(_size(a)) if off is None or not _differentiable(a) else Deps.identity(_size(a), off) for a, off in zip(block.args, offsets)]
        self.results = self._run_block(block, args)

    # ------------------------------------------------------------------ plumbing

    def get(self, v: SSAValue) -> Deps:
        d = self.env.get(v)
        if d is None:  # a value the analysis did not see: everything, first and second order
            self.hessian_dense = self.hessian_dense or self.second_order
            return Deps.full(_size(v))
        return d

    def set(self, v: SSAValue, d: Deps) -> None:
        self.env[v] = d if _differentiable(v) else Deps.empty(_size(v))

    def couple(self, a: Deps, b: Deps | None = None) -> None:
        """Record the pairs deps(a)[e] x deps(b)[e] (b defaults to a) as interacting."""
        if not self.second_order or self.hessian_dense:
            return
        got = _outer(a, a if b is None else b)
        if got is None:
            self.hessian_dense = True
            return
        i, j = got
        if i.size == 0:
            return
        key = unique_sorted(np.minimum(i, j) * max(self.n, 1) + np.maximum(i, j))
        self.pairs.append(np.divmod(key, max(self.n, 1)))
        self.pair_count += key.size
        if self.pair_count > MAX_NNZ:
            self._compact()

    def _compact(self) -> None:
        if not self.pairs:
            return
        key = unique_sorted(np.concatenate([i * max(self.n, 1) + j for i, j in self.pairs]))
        if key.size > MAX_NNZ:
            self.hessian_dense = True
            self.pairs = []
            return
        self.pairs = [np.divmod(key, max(self.n, 1))]
        self.pair_count = key.size

    def _run_block(self, block: Block, args: Sequence[Deps]) -> list[Deps]:
        for a, d in zip(block.args, args):
            self.set(a, d)
        results: list[Deps] = []
        for op in block.ops:
            if op is block.last_op and op.name in ("func.return", "stablehlo.return", "scf.yield", "scf.condition"):
                results = [self.get(v) for v in op.operands]
                break
            self.visit(op)
        return results

    def _fallback(self, op: Operation, nonlinear: bool = True) -> None:
        """Each result element depends on everything the operands and captures depend on."""
        ins = [self.get(v) for v in (*op.operands, *free_values(op)) if _differentiable(v)]
        if not op.results:
            return
        if nonlinear and self.second_order and ins:
            u = _uniform(ins, 1)
            self.couple(u)
        for r in op.results:
            self.set(r, _uniform(ins, _size(r)))

    def _map(self, op: Operation, sources: Sequence[SSAValue], src: np.ndarray) -> None:
        """Result element e is element ``src[e]`` of the sources laid end to end."""
        self.set(op.results[0], _take(_stack([self.get(v) for v in sources]), src))

    # ------------------------------------------------------------------ ops

    def visit(self, op: Operation) -> None:
        n = self.n
        if isinstance(op, (hlo.ConstantOp, hlo.IotaOp, IgnoreDerivativesOp, hlo.RngOp, hlo.RngBitGeneratorOp)) or op.name in _ARITH_ZERO:
            for r in op.results:
                self.set(r, Deps.empty(_size(r)))
            return
        if isinstance(op, _ZERO_DERIVATIVE) or isinstance(op, (chlo.IsInfOp, chlo.IsNegInfOp)):
            self.set(op.results[0], Deps.empty(_size(op.results[0])))
            return
        if isinstance(op, _LINEAR_UNARY):
            self.set(op.results[0], self.get(op.operands[0]))
            return
        if isinstance(op, hlo.UnaryElementwiseOp):
            d = self.get(op.operands[0])
            self.couple(d)
            self.set(op.results[0], d)
            return
        if isinstance(op, hlo.BinaryElementwiseOp):
            size = _size(op.results[0])
            x, y = self.get(op.operands[0]), self.get(op.operands[1])
            if isinstance(op, hlo.MultiplyOp):
                self.couple(x, y)
            elif isinstance(op, hlo.DivideOp):
                self.couple(x, y)
                self.couple(y)
            elif not isinstance(op, _LINEAR_BINARY):
                self.couple(_union(n, size, x, y))
            self.set(op.results[0], _union(n, size, x, y))
            return
        if op.name in _ARITH_LINEAR or op.name in ("arith.mulf", "arith.divf") or (op.name.startswith("math.") and len(op.results) == 1):
            ins = [self.get(v) for v in op.operands if _differentiable(v)]
            size = _size(op.results[0])
            if op.name == "arith.mulf" and len(ins) == 2:
                self.couple(ins[0], ins[1])
            elif op.name == "arith.divf" and len(ins) == 2:
                self.couple(ins[0], ins[1])
                self.couple(ins[1])
            elif op.name not in _ARITH_LINEAR:
                self.couple(_union(n, size, *ins))
            self.set(op.results[0], _union(n, size, *ins))
            return
        handler = _HANDLERS.get(type(op))
        if handler is not None:
            handler(self, op)
            return
        if isinstance(op, CallOp):
            self._call(op)
            return
        if isinstance(op, hlo.OptimizationBarrierOp) or op.name == "sdy.sharding_constraint":
            for v, r in zip(op.operands, op.results):
                self.set(r, self.get(v))
            return
        if op.name == "scf.for":
            self._scf_for(op)
            return
        if op.name == "scf.if":
            self._branches(op, [op.regions[0], op.regions[1]] if op.regions[1].blocks else [op.regions[0]])
            return
        self._fallback(op)

    # elementwise with a predicate or bounds

    def _select(self, op: hlo.SelectOp) -> None:
        size = _size(op.result)
        self.set(op.result, _union(self.n, size, self.get(op.on_true), self.get(op.on_false)))

    def _clamp(self, op: hlo.ClampOp) -> None:
        size = _size(op.result)
        parts = []
        for v in (op.min, op.operand, op.max):
            d = self.get(v)
            parts.append(_take(d, np.zeros(size, np.int64)) if d.size == 1 and size != 1 else d)
        self.set(op.result, _union(self.n, size, *parts))

    # index maps

    def _broadcast(self, op: hlo.BroadcastInDimOp) -> None:
        in_shape, out_shape = shape(op.operand), shape(op.result)
        dims = _ints(op.broadcast_dimensions)
        src = np.arange(int(np.prod(in_shape, dtype=np.int64))).reshape(in_shape)
        perm = list(np.argsort(dims))
        src = src.transpose(perm) if perm else src
        expanded = [1] * len(out_shape)
        for k in perm:
            expanded[dims[k]] = in_shape[k]
        src = np.broadcast_to(src.reshape(expanded), out_shape)
        self._map(op, [op.operand], src)

    def _reshape(self, op: Operation) -> None:
        self.set(op.results[0], self.get(op.operands[0]))

    def _transpose(self, op: hlo.TransposeOp) -> None:
        in_shape = shape(op.operand)
        src = np.arange(int(np.prod(in_shape, dtype=np.int64))).reshape(in_shape).transpose(_ints(op.permutation))
        self._map(op, [op.operand], src)

    def _slice(self, op: hlo.SliceOp) -> None:
        in_shape = shape(op.operand)
        idx = tuple(slice(s, l, st) for s, l, st in zip(_ints(op.start_indices), _ints(op.limit_indices), _ints(op.strides)))
        src = np.arange(int(np.prod(in_shape, dtype=np.int64))).reshape(in_shape)[idx]
        self._map(op, [op.operand], src)

    def _reverse(self, op: hlo.ReverseOp) -> None:
        in_shape = shape(op.operand)
        src = np.arange(int(np.prod(in_shape, dtype=np.int64))).reshape(in_shape)
        dims = _ints(op.dimensions)
        self._map(op, [op.operand], np.flip(src, axis=tuple(dims)) if dims else src)

    def _concatenate(self, op: hlo.ConcatenateOp) -> None:
        parts, offset = [], 0
        for v in op.inputs:
            k = _size(v)
            parts.append(np.arange(offset, offset + k).reshape(shape(v)))
            offset += k
        self._map(op, list(op.inputs), np.concatenate(parts, axis=op.dimension.value.data))

    def _pad(self, op: hlo.PadOp) -> None:
        in_shape, out_shape = shape(op.operand), shape(op.result)
        size_in = int(np.prod(in_shape, dtype=np.int64))
        out = np.full(out_shape, size_in, np.int64)  # the padding value (one element, after the operand)
        axes, keep = [], []
        for d, (lo, interior) in enumerate(zip(_ints(op.edge_padding_low), _ints(op.interior_padding))):
            pos = lo + np.arange(in_shape[d]) * (interior + 1)
            ok = (pos >= 0) & (pos < out_shape[d])
            axes.append(pos[ok])
            keep.append(np.nonzero(ok)[0])
        src = np.arange(size_in).reshape(in_shape)[np.ix_(*keep)] if in_shape else np.arange(size_in).reshape(in_shape)
        if in_shape:
            out[np.ix_(*axes)] = src
        else:
            out[()] = 0
        self._map(op, [op.operand, op.padding_value], out)

    def _dynamic_slice(self, op: hlo.DynamicSliceOp) -> None:
        in_shape = shape(op.operand)
        sizes = _ints(op.slice_sizes)
        starts = [_const_int(v) for v in op.start_indices]
        if any(s is None for s in starts):
            self.set(op.result, _uniform([self.get(op.operand)], _size(op.result)))
            return
        idx = tuple(slice(min(max(s, 0), dim - k), min(max(s, 0), dim - k) + k) for s, dim, k in zip(starts, in_shape, sizes))
        src = np.arange(int(np.prod(in_shape, dtype=np.int64))).reshape(in_shape)[idx]
        self._map(op, [op.operand], src)

    def _dynamic_update_slice(self, op: hlo.DynamicUpdateSliceOp) -> None:
        in_shape, up_shape = shape(op.operand), shape(op.update)
        starts = [_const_int(v) for v in op.start_indices]
        size_in = _size(op.operand)
        if any(s is None for s in starts):
            size = _size(op.result)
            self.set(op.result, _union(self.n, size, self.get(op.operand), _uniform([self.get(op.update)], size)))
            return
        out = np.arange(size_in).reshape(in_shape).copy()
        idx = tuple(slice(min(max(s, 0), dim - k), min(max(s, 0), dim - k) + k) for s, dim, k in zip(starts, in_shape, up_shape))
        out[idx] = size_in + np.arange(_size(op.update)).reshape(up_shape)
        self._map(op, [op.operand, op.update], out)

    # contractions and reductions

    def _reduce_groups(self, in_shape: tuple[int, ...], reduced: list[int]) -> tuple[np.ndarray, int]:
        kept = [d for d in range(len(in_shape)) if d not in reduced]
        n_out = int(np.prod([in_shape[d] for d in kept], dtype=np.int64))
        size = int(np.prod(in_shape, dtype=np.int64))
        groups = np.empty(size, np.int64)
        order = np.arange(size).reshape(in_shape).transpose(kept + reduced).reshape(n_out, -1) if size else np.zeros((n_out, 0), np.int64)
        groups[order] = np.arange(n_out)[:, None]
        return groups, n_out

    def _reduce(self, op: hlo.ReduceOp) -> None:
        inputs, inits = list(op.inputs), list(op.init_values)
        dims = _ints(op.dimensions)
        kind = region_combiner(op.body) if len(inputs) == 1 else None
        groups, n_out = self._reduce_groups(shape(inputs[0]), dims)
        grouped = [_group(self.get(v), groups, n_out, self.n) for v in inputs]
        init = [_uniform([self.get(v)], n_out) for v in inits]
        if kind in (hlo.AddOp, hlo.MaximumOp, hlo.MinimumOp, hlo.SubtractOp):
            self.set(op.results[0], _union(self.n, n_out, grouped[0], init[0]))
            return
        everything = _union(self.n, n_out, *grouped, *init)
        captured = [self.get(v) for v in free_values(op) if _differentiable(v)]
        if captured:
            everything = _union(self.n, n_out, everything, _uniform(captured, n_out))
        if kind is not hlo.OrOp and kind is not hlo.AndOp:
            self.couple(everything)  # a product (or an unknown combiner) couples its whole group
        for r in op.results:
            self.set(r, everything)

    def _dot_general(self, op: hlo.DotGeneralOp) -> None:
        dn = op.dot_dimension_numbers.data
        lhs_shape, rhs_shape = shape(op.lhs), shape(op.rhs)
        lb, rb = list(dn.lhs_batching_dimensions), list(dn.rhs_batching_dimensions)
        lc, rc = list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)
        lf = [d for d in range(len(lhs_shape)) if d not in lb and d not in lc]
        rf = [d for d in range(len(rhs_shape)) if d not in rb and d not in rc]
        nb = int(np.prod([lhs_shape[d] for d in lb], dtype=np.int64))
        nl = int(np.prod([lhs_shape[d] for d in lf], dtype=np.int64))
        nr = int(np.prod([rhs_shape[d] for d in rf], dtype=np.int64))
        nk = int(np.prod([lhs_shape[d] for d in lc], dtype=np.int64))
        L, R = self.get(op.lhs), self.get(op.rhs)

        def groups(shp, order, rows, cols):
            size = int(np.prod(shp, dtype=np.int64))
            g = np.empty(size, np.int64)
            if size:
                idx = np.arange(size).reshape(shp).transpose(order).reshape(rows, cols)
                g[idx] = np.arange(rows)[:, None]
            return g

        # first order: out[b, i, j] depends on lhs[b, i, :] and rhs[b, :, j]
        l_red = _group(L, groups(lhs_shape, lb + lf + lc, nb * nl, nk), nb * nl, self.n)
        r_red = _group(R, groups(rhs_shape, rb + rf + rc, nb * nr, nk), nb * nr, self.n)
        b, i, j = np.meshgrid(np.arange(nb), np.arange(nl), np.arange(nr), indexing="ij")
        size = _size(op.result)
        out = _union(self.n, size, _take(l_red, (b * nl + i).ravel()), _take(r_red, (b * nr + j).ravel()))
        self.set(op.result, out)
        # second order: lhs[b, :, k] x rhs[b, k, :] per batch and contraction index
        if self.second_order and not L.is_empty() and not R.is_empty():
            l_k = _group(L, groups(lhs_shape, lb + lc + lf, nb * nk, nl), nb * nk, self.n)
            r_k = _group(R, groups(rhs_shape, rb + rc + rf, nb * nk, nr), nb * nk, self.n)
            self.couple(l_k, r_k)

    def _gather(self, op: hlo.GatherOp) -> None:
        """With constant indices, an index map; else any element of the operand may be
        picked (gather is linear in its operand: no interactions)."""
        src = _gather_map(op)
        if src is None:
            self.set(op.result, _uniform([self.get(op.operand)], _size(op.result)))
            return
        self._map(op, [op.operand], src)

    def _scatter(self, op: hlo.ScatterOp) -> None:
        kind = region_combiner(op.update_computation) if len(op.results) == 1 else None
        if kind not in (hlo.AddOp, "replace"):
            self._fallback(op)
            return
        (operand,), (updates,) = list(op.inputs), list(op.updates)
        size = _size(op.results[0])
        self.set(op.results[0], _union(self.n, size, self.get(operand), _uniform([self.get(updates)], size)))

    # control flow

    def _fixed_point(self, init: list[Deps], body, captured: list[SSAValue]) -> list[Deps]:
        """Carried values: the least fixed point of ``carried = carried | body(carried)``,
        widened to everything the loop can see when it does not settle."""
        carried = list(init)
        for _ in range(MAX_LOOP_ITERATIONS):
            out = body(carried)
            if len(out) != len(carried):  # a terminator the analysis does not know
                self.hessian_dense = self.hessian_dense or self.second_order
                return [Deps.full(c.size) for c in carried]
            new = [_union(self.n, c.size, c, o) for c, o in zip(carried, out)]
            if all(a.same(b) for a, b in zip(carried, new)):
                return carried
            carried = new
        seen = carried + [self.get(v) for v in captured if _differentiable(v)]
        carried = [_uniform(seen, c.size) for c in carried]
        body(carried)  # records the interactions at the widened deps
        return carried

    def _while(self, op: hlo.WhileOp) -> None:
        block = op.body.blocks.first
        init = [self.get(v) for v in op.operands]
        carried = self._fixed_point(init, lambda c: self._run_block(block, c), free_values(op))
        for r, d in zip(op.results, carried):
            self.set(r, d)

    def _scf_for(self, op: Operation) -> None:
        block = op.regions[0].blocks.first
        iter_args = list(op.operands[3:])
        init = [self.get(v) for v in iter_args]
        iv = Deps.empty(1)
        carried = self._fixed_point(init, lambda c: self._run_block(block, [iv, *c]), free_values(op))
        for r, d in zip(op.results, carried):
            self.set(r, d)

    def _branches(self, op: Operation, regions) -> None:
        outs = [self._run_block(region.blocks.first, []) for region in regions]
        if any(len(o) != len(op.results) for o in outs):  # a terminator the analysis does not know
            outs = [[Deps.full(_size(r)) for r in op.results]]
            self.hessian_dense = self.hessian_dense or self.second_order
        for k, r in enumerate(op.results):
            self.set(r, _union(self.n, _size(r), *[o[k] for o in outs]))

    def _if(self, op: hlo.IfOp) -> None:
        self._branches(op, [op.true_branch, op.false_branch])

    def _case(self, op: hlo.CaseOp) -> None:
        self._branches(op, list(op.branches))

    def _call(self, op: CallOp) -> None:
        from xdsl.traits import SymbolTable

        callee = SymbolTable.lookup_symbol(op, op.callee)
        if not isinstance(callee, FuncOp) or not callee.body.blocks or self._call_depth > 32:
            self._fallback(op)
            return
        if any(k in callee.attributes for k in CUSTOM_RULE_ATTRS if k != CUSTOM_JVP) or (
            CUSTOM_JVP in callee.attributes and not self._jvp_rule(op, callee)
        ):
            self._fallback(op)  # a custom derivative need not follow the primal's structure
            return
        if CUSTOM_JVP in callee.attributes:
            return
        self._call_depth += 1
        try:
            outs = self._run_block(callee.body.blocks.first, [self.get(v) for v in op.operands])
        finally:
            self._call_depth -= 1
        if len(outs) != len(op.results):
            self._fallback(op)
            return
        for r, d in zip(op.results, outs):
            self.set(r, d)

    def _jvp_rule(self, op: CallOp, callee: FuncOp) -> bool:
        """A function with a custom_jvp rule ``rule(primals..., tangents...) -> (outs...,
        tangent outs...)``: its results depend on what the rule's tangent results depend
        on, analysed with both the primals and the tangents carrying the operands'
        dependencies (the interactions of the primals with the tangents inside the rule
        are the function's second-order ones). The rule may call the function on its
        primals (the primal value, a coefficient): the first pass takes that value as
        constant, which cannot change what the tangent results depend on; the second
        takes it to depend on what the first pass found, so that the interactions it
        records hold. False when the rule's form is not that."""
        from xdsl.dialects.builtin import SymbolRefAttr
        from xdsl.traits import SymbolTable

        ref = callee.attributes[CUSTOM_JVP]
        name = ref.string_value() if isinstance(ref, SymbolRefAttr) else None
        rule = SymbolTable.lookup_symbol(op, ref) if name is not None else None
        k, m = len(op.operands), len(op.results)
        if not isinstance(rule, FuncOp) or not rule.body.blocks or len(rule.body.blocks.first.args) != 2 * k:
            return False
        ins = [self.get(v) for v in op.operands]
        if name in self._rules:  # the primal value, called inside the function's own rule
            assumed = self._assumed.get(name)
            if assumed is not None and len(assumed) == m and list(op.operands) == list(rule.body.blocks.first.args[:k]):
                for r, d in zip(op.results, assumed):
                    self.set(r, d)
            else:
                for r in op.results:
                    self.set(r, _uniform(ins, _size(r)))
            return True
        self._rules.add(name)
        self._call_depth += 1
        try:
            self._assumed[name] = [Deps.empty(_size(r)) for r in op.results]
            outs = self._run_block(rule.body.blocks.first, ins + ins)
            if len(outs) == 2 * m:
                self._assumed[name] = outs[m:]
                outs = self._run_block(rule.body.blocks.first, ins + ins)
        finally:
            self._call_depth -= 1
            self._rules.discard(name)
            self._assumed.pop(name, None)
        if len(outs) != 2 * m:
            return False
        for r, d in zip(op.results, outs[m:]):
            self.set(r, d)
        return True


def _const_array(v: SSAValue) -> np.ndarray | None:
    """The value of an integer tensor built from constants (constant, iota, convert,
    reshape, broadcast_in_dim, concatenate), or None."""
    op = v.owner
    if isinstance(op, hlo.ConstantOp):
        return np.asarray(dense_to_numpy(op.value)).reshape(shape(op.output)).astype(np.int64)
    if isinstance(op, hlo.IotaOp):
        out = shape(op.results[0])
        dim = int(op.iota_dimension.value.data)
        return np.broadcast_to(np.arange(out[dim]).reshape([-1 if d == dim else 1 for d in range(len(out))]), out).copy()
    if isinstance(op, (hlo.ConvertOp, hlo.ReshapeOp)):
        inner = _const_array(op.operands[0])
        return None if inner is None else inner.reshape(shape(op.results[0]))
    if isinstance(op, hlo.BroadcastInDimOp):
        inner = _const_array(op.operand)
        if inner is None:
            return None
        dims = _ints(op.broadcast_dimensions)
        out = shape(op.result)
        perm = list(np.argsort(dims))
        expanded = [1] * len(out)
        for k in perm:
            expanded[dims[k]] = inner.shape[k]
        return np.broadcast_to((inner.transpose(perm) if perm else inner).reshape(expanded), out).copy()
    if isinstance(op, hlo.ConcatenateOp):
        parts = [_const_array(x) for x in op.inputs]
        return None if any(p is None for p in parts) else np.concatenate(parts, axis=op.dimension.value.data)
    return None


def _gather_map(op: hlo.GatherOp) -> np.ndarray | None:
    """Per result element, the operand element a gather with constant indices reads; None
    when the indices are not constant or the gather has batching dimensions."""
    dn = op.dimension_numbers.data
    if dn.operand_batching_dims or dn.start_indices_batching_dims:
        return None
    idx = _const_array(op.start_indices)
    if idx is None:
        return None
    operand_shape, out_shape = shape(op.operand), shape(op.result)
    rank, sizes = len(operand_shape), _ints(op.slice_sizes)
    idx = idx[..., None] if dn.index_vector_dim == idx.ndim else np.moveaxis(idx, dn.index_vector_dim, -1)
    starts = np.zeros((*idx.shape[:-1], rank), np.int64)
    for k, d in enumerate(dn.start_index_map):
        starts[..., d] = idx[..., k]
    starts = np.clip(starts, 0, np.asarray(operand_shape, np.int64) - np.asarray(sizes, np.int64))
    out_idx = np.indices(out_shape, dtype=np.int64).reshape(len(out_shape), -1)
    batch_dims = [d for d in range(len(out_shape)) if d not in dn.offset_dims]
    window_dims = [d for d in range(rank) if d not in dn.collapsed_slice_dims]
    if len(window_dims) != len(dn.offset_dims) or len(batch_dims) != starts.ndim - 1:
        return None
    where = starts[tuple(out_idx[batch_dims])] if batch_dims else np.broadcast_to(starts, (out_idx.shape[1], rank)).copy()
    for d, o in zip(window_dims, dn.offset_dims):
        where[:, d] += out_idx[o]
    if not rank:
        return np.zeros(out_idx.shape[1], np.int64)
    return np.ravel_multi_index(tuple(where.T), operand_shape)


_HANDLERS = {
    hlo.SelectOp: SparsityAnalysis._select,
    hlo.ClampOp: SparsityAnalysis._clamp,
    hlo.BroadcastInDimOp: SparsityAnalysis._broadcast,
    hlo.ReshapeOp: SparsityAnalysis._reshape,
    hlo.TransposeOp: SparsityAnalysis._transpose,
    hlo.SliceOp: SparsityAnalysis._slice,
    hlo.ReverseOp: SparsityAnalysis._reverse,
    hlo.ConcatenateOp: SparsityAnalysis._concatenate,
    hlo.PadOp: SparsityAnalysis._pad,
    hlo.DynamicSliceOp: SparsityAnalysis._dynamic_slice,
    hlo.DynamicUpdateSliceOp: SparsityAnalysis._dynamic_update_slice,
    hlo.ReduceOp: SparsityAnalysis._reduce,
    hlo.DotGeneralOp: SparsityAnalysis._dot_general,
    hlo.GatherOp: SparsityAnalysis._gather,
    hlo.ScatterOp: SparsityAnalysis._scatter,
    hlo.WhileOp: SparsityAnalysis._while,
    hlo.IfOp: SparsityAnalysis._if,
    hlo.CaseOp: SparsityAnalysis._case,
}


def _entry(module: ModuleOp, name: str) -> FuncOp:
    for op in module.ops:
        if isinstance(op, FuncOp) and op.sym_name.data == name:
            return op
    raise KeyError(f"no function @{name} in the module")


def jacobian_pattern(module: ModuleOp, entry: str, offsets: Sequence[int | None], n: int, outputs: Sequence[int] | None = None) -> Pattern:
    """The Jacobian pattern of ``@entry``'s results (``outputs``: which, in order; all by
    default) with respect to its arguments: argument k holds inputs ``offsets[k] ...``
    (None: not differentiated); rows are the results' elements laid end to end."""
    a = SparsityAnalysis(module, _entry(module, entry), offsets, n)
    res = a.results if outputs is None else [a.results[k] for k in outputs]
    return _deps_pattern(res, n)


def hessian_pattern(module: ModuleOp, entry: str, offsets: Sequence[int | None], n: int) -> Pattern:
    """The (symmetric) Hessian pattern of ``@entry``'s scalar first result, by the
    second-order analysis (module docstring)."""
    a = SparsityAnalysis(module, _entry(module, entry), offsets, n, second_order=True)
    if a.hessian_dense:
        return Pattern.full((n, n))
    if not a.pairs:
        return Pattern.from_coo((n, n), np.zeros(0, np.int64), np.zeros(0, np.int64))
    i = np.concatenate([p[0] for p in a.pairs])
    j = np.concatenate([p[1] for p in a.pairs])
    return Pattern.from_coo((n, n), np.concatenate([i, j]), np.concatenate([j, i]))
