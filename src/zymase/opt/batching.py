"""Body batching: what a counted ``stablehlo.while`` body computes, for every iteration at once.

A counted loop (``analysis.trip_count``: a counter compared against a constant bound) runs
its body ``T`` times; iteration ``k`` (``0 <= k < T``) sees each carried induction variable
at ``start + k * step``. Given some values of the body, ``Batcher`` builds, before the
loop, tensors with a leading dimension of size ``T`` whose row ``k`` is the value in
iteration ``k``, one op at a time:

- values that do not depend on the iteration (defined before the loop, carried unchanged,
  or computed from such values) stay as they are, computed once before the loop, and are
  broadcast where they meet batched values;
- integer scalars that are affine in ``k`` (``Affine``: the induction variables, sums,
  differences and constant multiples of them, conversions, size-one reshapes) are kept
  symbolically; comparisons they decide for every ``k`` in the loop's range fold to a
  constant, so jax's negative-index normalisation ``select(i < 0, i + n, i)`` goes away.
  Materialized, they become ``iota * step + start``;
- elementwise ops, compare, select, clamp, convert, broadcast_in_dim, reshape, transpose,
  reverse, slice, pad, concatenate, reduce and dot_general get the batch dimension;
- reads of a loop-invariant array: ``dynamic_slice`` at affine start indices that stay in
  bounds for every ``k`` (so clamping never acts) becomes a (strided) ``slice``, else a
  ``gather`` (which clamps its start indices exactly as dynamic_slice does); a ``gather``
  gets a batch dimension on its indices.

Anything else that depends on the iteration (a read of a carried value that is neither an
induction variable nor invariant, an impure op, an op without a batching rule, a batched
value of more than ``MAX_BATCHED_ELEMENTS``) makes the batcher refuse: ``run`` returns False and nothing is left behind. Ops are built in a
scratch block and moved before the loop only by ``commit``, so a rule can check every
condition, build, and still decline (``discard``).

Exactness: batching computes the same operations on the same values (integer arithmetic
wraps identically; affine values are only used symbolically when they provably do not
wrap), so results are bitwise those of the loop. Only the callers' reductions reassociate.

Only ``ir/`` and ``analysis/`` are imported (jax-free, layer 2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Block, BlockArgument, Operation, SSAValue

from ..analysis.trip_count import affine_carried, exact_trip_count, int_range, loop_invariant_carried
from ..ir import stablehlo as hlo
from ..ir.attributes import ComparisonType
from ..ir.builder import Builder, constant_value
from ..ir.query import element_type, free_values, is_pure, shape, used_values


# ============================================================================ affine values


@dataclass(frozen=True)
class Affine:
    """An integer value equal to ``a * k + b`` in iteration ``k`` (mathematically, with no
    wrap-around)."""

    a: int
    b: int

    def bounds(self, count: int) -> tuple[int, int]:
        """The least and greatest value over ``0 <= k < count`` (``count >= 1``)."""
        last = self.a * (max(count, 1) - 1) + self.b
        return min(self.b, last), max(self.b, last)


@dataclass
class CountedLoop:
    op: hlo.WhileOp
    count: int
    """The exact trip count ``T``."""
    ivs: dict[int, Affine]
    """Carried induction variables (scalar integers that never wrap): slot -> value at iteration k."""
    invariant: set[int]
    """Slots the body returns unchanged."""

    def final(self, b: Builder, j: int) -> SSAValue:
        """The value carried slot ``j`` (an induction variable or invariant) has after the loop."""
        if j in self.invariant:
            return self.op.operand[j]
        iv = self.ivs[j]
        t = self.op.operand[j].type
        lo, hi = int_range(element_type(t))
        span = hi - lo + 1
        value = (iv.a * self.count + iv.b - lo) % span + lo  # the counter wraps like the loop's adds
        return b.constant(value, t)


def counted_loop(op: hlo.WhileOp) -> CountedLoop | None:
    """The counted-loop view of ``op``, or None when its trip count is not exact."""
    tc = exact_trip_count(op)
    if tc is None:
        return None
    ivs: dict[int, Affine] = {}
    for j, (start, step) in affine_carried(op).items():
        rng = int_range(element_type(op.operand[j]))
        if rng is None or shape(op.operand[j]) != () or rng[1] - rng[0] < 2:
            continue
        iv = Affine(step, start)
        lo, hi = iv.bounds(tc.count)
        if rng[0] <= lo and hi <= rng[1]:
            ivs[j] = iv
    if tc.induction not in ivs:
        return None
    return CountedLoop(op, tc.count, ivs, loop_invariant_carried(op) - set(ivs))


def _size(v: SSAValue) -> int:
    return prod(shape(v))


def _integer_range(v: SSAValue) -> tuple[int, int] | None:
    """The range of a size-one integer value's type (not i1), else None."""
    if not isinstance(v.type, TensorType) or _size(v) != 1:
        return None
    rng = int_range(element_type(v))
    if rng is None or rng[1] - rng[0] < 2:
        return None
    return rng


def constant_affine(v: SSAValue) -> Affine | None:
    """``Affine(0, c)`` for a size-one integer constant ``c``."""
    if _integer_range(v) is None:
        return None
    value = constant_value(v)
    if value is None or value.size != 1:
        return None
    return Affine(0, int(value.reshape(())))


GetAffine = Callable[[SSAValue], "Affine | None"]
GetTruth = Callable[[SSAValue], "bool | None"]


def affine_op(o: Operation, get: GetAffine, truth: GetTruth, count: int) -> Affine | None:
    """The affine form of ``o``'s result from those of its operands (``get``), when it is a
    size-one integer that cannot wrap over the loop's ``count`` iterations."""
    if len(o.results) != 1:
        return None
    rng = _integer_range(o.results[0])
    if rng is None:
        return None
    out: Affine | None = None
    if isinstance(o, hlo.ConstantOp):
        out = constant_affine(o.results[0])
    elif isinstance(o, (hlo.AddOp, hlo.SubtractOp, hlo.MultiplyOp)):
        x, y = get(o.lhs), get(o.rhs)
        if x is None or y is None:
            return None
        if isinstance(o, hlo.AddOp):
            out = Affine(x.a + y.a, x.b + y.b)
        elif isinstance(o, hlo.SubtractOp):
            out = Affine(x.a - y.a, x.b - y.b)
        elif x.a == 0:
            out = Affine(x.b * y.a, x.b * y.b)
        elif y.a == 0:
            out = Affine(y.b * x.a, y.b * x.b)
    elif isinstance(o, hlo.NegateOp):
        x = get(o.operand)
        out = None if x is None else Affine(-x.a, -x.b)
    elif isinstance(o, (hlo.ConvertOp, hlo.ReshapeOp, hlo.BroadcastInDimOp)):
        if _integer_range(o.operand) is not None:
            out = get(o.operand)
    elif isinstance(o, hlo.SelectOp):
        t = truth(o.pred)
        if t is not None:
            out = get(o.on_true if t else o.on_false)
    if out is None:
        return None
    lo, hi = out.bounds(count)
    if lo < rng[0] or hi > rng[1]:
        return None
    return out


def decide_compare(o: hlo.CompareOp, get: GetAffine, count: int) -> bool | None:
    """The value of an integer compare of two affine values when it is the same in every
    iteration ``0 <= k < count``, else None."""
    if _integer_range(o.lhs) is None:
        return None
    unsigned = int_range(element_type(o.lhs))[0] == 0
    kind = o.compare_type.data if o.compare_type is not None else None
    if kind not in ((None, ComparisonType.UNSIGNED) if unsigned else (None, ComparisonType.SIGNED, ComparisonType.NOTYPE)):
        return None
    x, y = get(o.lhs), get(o.rhs)
    if x is None or y is None:
        return None
    lo, hi = Affine(x.a - y.a, x.b - y.b).bounds(count)  # the sign of lhs - rhs decides
    direction = o.comparison_direction.data.value
    answers = {
        "LT": (hi < 0, lo >= 0),
        "LE": (hi <= 0, lo > 0),
        "GT": (lo > 0, hi <= 0),
        "GE": (lo >= 0, hi < 0),
        "EQ": (lo == hi == 0, lo > 0 or hi < 0),
        "NE": (lo > 0 or hi < 0, lo == hi == 0),
    }
    always, never = answers[direction]
    if always:
        return True
    if never:
        return False
    return None


def _inside(v: SSAValue, op: Operation) -> bool:
    """Whether ``v`` is defined inside one of ``op``'s regions."""
    owner = v.owner
    o = owner.parent_op()
    while o is not None:
        if o is op:
            return True
        o = o.parent_op()
    return False


def affine_of(loop: CountedLoop, v: SSAValue, depth: int = 16) -> Affine | None:
    """The affine form of a value seen in ``loop``'s body (looking ``depth`` ops back)."""
    body = loop.op.body.block
    if isinstance(v, BlockArgument) and v.block is body:
        if v.index in loop.ivs:
            return loop.ivs[v.index]
        if v.index in loop.invariant:
            return constant_affine(loop.op.operand[v.index])
        return None
    if not _inside(v, loop.op):
        return constant_affine(v)
    o = v.owner
    if depth == 0 or not isinstance(o, Operation) or o.parent_block() is not body:
        return None

    def get(u: SSAValue) -> Affine | None:
        return affine_of(loop, u, depth - 1)

    def truth(u: SSAValue) -> bool | None:
        p = u.owner
        if isinstance(p, hlo.CompareOp) and p.parent_block() is body:
            return decide_compare(p, get, loop.count)
        return None

    return affine_op(o, get, truth, loop.count)


# ============================================================================ the batcher


class Refused(Exception):
    """Raised inside the batcher when a value cannot be batched."""


MAX_BATCHED_ELEMENTS = 1 << 26
"""Bound on the elements of one batched value (``T`` times the value's size): a loop
computing a large intermediate per iteration keeps its O(size) memory instead of
materializing all ``T`` of them at once."""


_ELEMENTWISE = (hlo.ElementwiseOp, hlo.SelectOp, hlo.ClampOp)


class Batcher:
    """Batches values of a counted loop's body (see the module docstring)."""

    def __init__(self, loop: CountedLoop):
        self.loop = loop
        self.op = loop.op
        self.count = loop.count
        self.block = Block()
        self.b = Builder(self.block, loop.op.location)
        """Builds into the scratch block; ``commit`` moves what it built before the loop."""
        self.inv: dict[SSAValue, SSAValue] = {}
        """Body values that are the same in every iteration -> their value before the loop."""
        self.aff: dict[SSAValue, Affine] = {}
        self.truth: dict[SSAValue, bool] = {}
        self.bat: dict[SSAValue, SSAValue] = {}
        body = loop.op.body.block
        for j in loop.invariant:
            self.inv[body.args[j]] = loop.op.operand[j]
            c = constant_affine(loop.op.operand[j])
            if c is not None:
                self.aff[body.args[j]] = c
        for j, iv in loop.ivs.items():
            self.aff[body.args[j]] = iv

    # -------------------------------------------------------------- driving

    def run(self, wanted: Sequence[SSAValue]) -> bool:
        """Batch the body ops ``wanted`` depends on; False (nothing kept) when one cannot be."""
        try:
            for o in self._needed(wanted):
                self._visit(o)
            for v in wanted:
                if self.outside(v) is None and v not in self.aff and v not in self.bat:
                    raise Refused
        except Refused:
            return False
        return True

    def commit(self, b: Builder) -> None:
        """Move the ops built so far before the loop (through the rule's builder)."""
        for o in list(self.block.ops):
            o.detach()
            b.insert(o)

    def discard(self) -> None:
        """Erase the ops built so far."""
        for o in reversed(list(self.block.ops)):
            o.detach()
            o.erase()

    def _needed(self, wanted: Sequence[SSAValue]) -> list[Operation]:
        body = self.op.body.block
        need: set[Operation] = set()
        seen: set[SSAValue] = set()
        stack = list(wanted)
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            if isinstance(v, BlockArgument):
                if v.block is body and v not in self.inv and v not in self.aff:
                    raise Refused  # a carried value that changes from one iteration to the next
                continue
            o = v.owner
            if o.parent_block() is body:
                if o not in need:
                    need.add(o)
                    stack.extend(used_values(o))
            elif _inside(v, self.op):
                raise Refused
        return [o for o in body.ops if o in need]

    # -------------------------------------------------------------- queries

    def outside(self, v: SSAValue) -> SSAValue | None:
        """The value before the loop that ``v`` equals in every iteration, or None."""
        got = self.inv.get(v)
        if got is not None:
            return got
        if isinstance(v, BlockArgument) and v.block is self.op.body.block:
            return None
        if not _inside(v, self.op):
            return v
        return None

    def affine(self, v: SSAValue) -> Affine | None:
        got = self.aff.get(v)
        if got is not None:
            return got
        if not _inside(v, self.op):
            return constant_affine(v)
        return None

    def batched(self, v: SSAValue) -> SSAValue:
        """``v`` for all iterations: shape ``[T, *shape(v)]``."""
        got = self.bat.get(v)
        if got is not None:
            return got
        b, count, s = self.b, self.count, list(shape(v))
        if count * _size(v) > MAX_BATCHED_ELEMENTS:
            raise Refused
        x = self.outside(v)
        if x is not None:
            out = b.broadcast_in_dim(x, [count, *s], list(range(1, len(s) + 1)))
        elif v in self.aff:
            iv = self.aff[v]
            t = TensorType(element_type(v), [count])
            out = b.iota([count], 0, element_type(v))
            if abs(iv.a) != 1:
                out = b.mul(out, b.constant(abs(iv.a), t))
            if iv.a < 0:
                out = b.sub(b.constant(iv.b, t), out)
            elif iv.b != 0:
                out = b.add(out, b.constant(iv.b, t))
            out = b.reshape(out, [count, *s])
        else:
            raise Refused
        self.bat[v] = out
        return out

    # -------------------------------------------------------------- one op

    def _visit(self, o: Operation) -> None:
        if not is_pure(o):
            raise Refused
        if isinstance(o, hlo.SelectOp) and o.pred in self.truth:
            self._alias(o.results[0], o.on_true if self.truth[o.pred] else o.on_false)
            return
        if isinstance(o, hlo.CompareOp):
            t = decide_compare(o, self.affine, self.count)
            if t is not None:
                self.truth[o.result] = t
                self.inv[o.result] = self.b.constant(t, o.result.type)
                return
        iv = affine_op(o, self.affine, self.truth.get, self.count)
        if iv is not None:
            self.aff[o.results[0]] = iv
        used = used_values(o)
        if all(self.outside(v) is not None for v in used):
            mapper = {v: self.inv[v] for v in used if v in self.inv}
            clone = self.b.insert(o.clone(value_mapper=mapper))
            for r, c in zip(o.results, clone.results):
                self.inv[r] = c
            return
        if iv is not None:
            return  # materialized (iota) only if a batched op needs it
        outs = self._batch(o)
        for r, v in zip(o.results, outs, strict=True):
            self.bat[r] = v

    def _alias(self, r: SSAValue, v: SSAValue) -> None:
        x = self.outside(v)
        if x is not None:
            self.inv[r] = x
        if v in self.aff:
            self.aff[r] = self.aff[v]
        if v in self.truth:
            self.truth[r] = self.truth[v]
        if v in self.bat:
            self.bat[r] = self.bat[v]
        if x is None and v not in self.aff and v not in self.bat:
            raise Refused

    def _batch(self, o: Operation) -> list[SSAValue]:
        b, count = self.b, self.count
        if any(count * _size(r) > MAX_BATCHED_ELEMENTS for r in o.results):
            raise Refused
        if free_values(o) and not isinstance(o, hlo.ReduceOp):
            raise Refused
        if isinstance(o, _ELEMENTWISE):
            s = list(shape(o.results[0]))
            operands = []
            for v in o.operands:
                if list(shape(v)) == s:
                    operands.append(self.batched(v))
                elif (x := self.outside(v)) is not None:
                    operands.append(x)  # a scalar predicate or bound
                else:
                    operands.append(b.broadcast_in_dim(self.batched(v), [count, *s], [0]))
            new = type(o).create(
                operands=operands,
                result_types=[TensorType(element_type(o.results[0]), [count, *s])],
                properties=dict(o.properties),
                attributes=dict(o.attributes),
            )
            return [b.insert(new).results[0]]
        if isinstance(o, hlo.BroadcastInDimOp):
            dims = [0, *(d + 1 for d in o.broadcast_dimensions.get_values())]
            return [b.broadcast_in_dim(self.batched(o.operand), [count, *shape(o.result)], dims)]
        if isinstance(o, hlo.ReshapeOp):
            return [b.reshape(self.batched(o.operand), [count, *shape(o.result)])]
        if isinstance(o, hlo.TransposeOp):
            return [b.transpose(self.batched(o.operand), [0, *(p + 1 for p in o.permutation.get_values())])]
        if isinstance(o, hlo.ReverseOp):
            return [b.reverse(self.batched(o.operand), [d + 1 for d in o.dimensions.get_values()])]
        if isinstance(o, hlo.SliceOp):
            return [
                b.slice(
                    self.batched(o.operand),
                    [0, *o.start_indices.get_values()],
                    [count, *o.limit_indices.get_values()],
                    [1, *o.strides.get_values()],
                )
            ]
        if isinstance(o, hlo.PadOp):
            value = self.outside(o.padding_value)
            if value is None:
                raise Refused
            return [
                b.pad(
                    self.batched(o.operand),
                    value,
                    [0, *o.edge_padding_low.get_values()],
                    [0, *o.edge_padding_high.get_values()],
                    [0, *o.interior_padding.get_values()],
                )
            ]
        if isinstance(o, hlo.ConcatenateOp):
            return [b.concatenate([self.batched(v) for v in o.inputs], o.dimension.value.data + 1)]
        if isinstance(o, hlo.ReduceOp):
            return self._reduce(o)
        if isinstance(o, hlo.DotGeneralOp):
            return [self._dot_general(o)]
        if isinstance(o, hlo.DynamicSliceOp):
            return [self._dynamic_slice(o)]
        if isinstance(o, hlo.GatherOp):
            return [self._gather(o)]
        raise Refused

    def _reduce(self, o: hlo.ReduceOp) -> list[SSAValue]:
        if any(self.outside(v) is None for v in free_values(o)) or any(_inside(v, self.op) for v in free_values(o)):
            raise Refused  # the combiner reads a body value
        inits = [self.outside(v) for v in o.init_values]
        if any(v is None for v in inits):
            raise Refused
        inputs = [self.batched(v) for v in o.inputs]
        new = hlo.ReduceOp.create(
            operands=[*inputs, *inits],
            result_types=[TensorType(element_type(r), [self.count, *shape(r)]) for r in o.results],
            properties={**dict(o.properties), "dimensions": hlo.i64_array([d + 1 for d in o.dimensions.get_values()])},
            attributes=dict(o.attributes),
            regions=[o.body.clone()],
        )
        return list(self.b.insert(new).results)

    def _dot_general(self, o: hlo.DotGeneralOp) -> SSAValue:
        if o.algorithm is not None:
            raise Refused
        dn = o.dot_dimension_numbers
        lb, rb = list(dn.lhs_batching_dimensions), list(dn.rhs_batching_dimensions)
        lc, rc = list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)
        lx, rx = self.outside(o.lhs), self.outside(o.rhs)
        b, e = self.b, element_type(o.result)

        def up(ds: list[int]) -> list[int]:
            return [d + 1 for d in ds]

        if lb or (lx is None and rx is None):
            lhs, rhs = self.batched(o.lhs), self.batched(o.rhs)
            return b.dot_general(lhs, rhs, [0, *up(lb)], [0, *up(rb)], up(lc), up(rc), e, o.precision_config)
        if rx is not None:  # batched lhs: its batch dimension is the first free one, first in the result
            return b.dot_general(self.batched(o.lhs), rx, [], [], up(lc), rc, e, o.precision_config)
        out = b.dot_general(lx, self.batched(o.rhs), [], [], lc, up(rc), e, o.precision_config)
        nl = len(shape(o.lhs)) - len(lc)
        rank = len(shape(out))
        return b.transpose(out, [nl, *range(nl), *range(nl + 1, rank)])

    def _dynamic_slice(self, o: hlo.DynamicSliceOp) -> SSAValue:
        x = self.outside(o.operand)
        if x is None:
            raise Refused  # a read of a value computed in the iteration (a batched gather would do)
        sizes = list(o.slice_sizes.get_values())
        xs = shape(x)
        affs = [self.affine(v) for v in o.start_indices]
        if all(a is not None for a in affs):
            out = self._strided_slice(x, xs, sizes, affs)  # type: ignore[arg-type]
            if out is not None:
                return out
        return self._gather_rows(x, list(o.start_indices), sizes)

    def _strided_slice(self, x: SSAValue, xs: tuple[int, ...], sizes: list[int], affs: list[Affine]) -> SSAValue | None:
        """dynamic_slice at affine starts that never clamp, with one start varying by
        ``a`` and the slice size 1 or ``|a|`` there: a slice (+ reshape, reverse, transpose)."""
        count, b = self.count, self.b
        for a, n, s in zip(affs, xs, sizes):
            lo, hi = a.bounds(count)
            if lo < 0 or hi > n - s:
                return None  # clamping acts for some iteration
        varying = [d for d, a in enumerate(affs) if a.a != 0]
        if len(varying) != 1:
            return None
        p = varying[0]
        step, s = abs(affs[p].a), sizes[p]
        if s not in (1, step):
            return None  # overlapping or spaced windows wider than one
        start = [a.bounds(count)[0] for a in affs]
        limit = [st + sz for st, sz in zip(start, sizes)]
        strides = [1] * len(xs)
        limit[p] = start[p] + (count - 1) * step + s
        if s == 1:
            strides[p] = step
        out = b.slice(x, start, limit, strides)
        split = [*sizes[:p], count, s, *sizes[p + 1 :]]
        out = b.reshape(out, split)
        if affs[p].a < 0:
            out = b.reverse(out, [p])
        return b.transpose(out, [p, *range(p), *range(p + 1, len(split))])

    def _gather_rows(self, x: SSAValue, starts: list[SSAValue], sizes: list[int]) -> SSAValue:
        """dynamic_slice of ``x`` at batched starts as one gather (it clamps the starts as
        dynamic_slice does)."""
        from ..ir.attributes import GatherDimensionNumbersAttr

        kinds = {element_type(v) for v in starts}
        if len(kinds) != 1:
            raise Refused
        b, count, rank = self.b, self.count, len(sizes)
        columns = [b.reshape(self.batched(v), [count, 1]) for v in starts]
        indices = b.concatenate(columns, 1)
        dims = GatherDimensionNumbersAttr.get(
            offset_dims=list(range(1, rank + 1)), collapsed_slice_dims=[], start_index_map=list(range(rank)), index_vector_dim=1
        )
        return b.gather(x, indices, dims, sizes, TensorType(element_type(x), [count, *sizes]))

    def _gather(self, o: hlo.GatherOp) -> SSAValue:
        x = self.outside(o.operand)
        if x is None:
            raise Refused
        dn = o.dimension_numbers
        new = dn.replace(
            offset_dims=[d + 1 for d in dn.offset_dims],
            start_indices_batching_dims=[d + 1 for d in dn.start_indices_batching_dims],
            index_vector_dim=dn.index_vector_dim + 1,
        )
        result = TensorType(element_type(o.result), [self.count, *shape(o.result)])
        return self.b.gather(x, self.batched(o.start_indices), new, list(o.slice_sizes.get_values()), result)


def window_blocks(count: int, iv: Affine, size: int, extent: int) -> int | None:
    """Where ``count`` windows of ``size`` at starts ``iv`` (``|a| == size``: side by side,
    never overlapping) begin as one block in a dimension of ``extent``, when all lie in
    bounds; else None."""
    if abs(iv.a) != size or size == 0:
        return None
    lo, hi = iv.bounds(count)
    if lo < 0 or hi > extent - size:
        return None
    return lo


def stack_windows(b: Builder, rows: SSAValue, window: list[int], p: int, reverse: bool) -> SSAValue:
    """``rows`` (``[T, *window]``, row k the window of iteration k) laid side by side
    along dimension ``p`` in iteration order (``reverse``: in reverse order), as one
    block of shape ``window`` with ``T * window[p]`` in dimension ``p``."""
    count = shape(rows)[0]
    rows = b.reshape(rows, [count, *window])
    if reverse:
        rows = b.reverse(rows, [0])
    rank = len(window)
    moved = b.transpose(rows, [*range(1, p + 1), 0, *range(p + 1, rank + 1)])
    block = list(window)
    block[p] = count * window[p]
    return b.reshape(moved, block)


__all__ = [
    "Affine",
    "Batcher",
    "CountedLoop",
    "affine_of",
    "counted_loop",
    "decide_compare",
    "is_pure",
    "stack_windows",
    "window_blocks",
]
