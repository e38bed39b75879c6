"""Tier 3: memref, with Enzyme's shadow memory.

Every buffer that can carry derivatives has a *shadow* of the same type: the memref
arguments marked ``enzyme_dup`` / ``enzyme_dupnoneed`` (the caller passes the shadow
next to the primal) and every float ``memref.alloc`` / ``alloca`` of the function (the
derivative function allocates the shadow next to it, filled with zeros). Memory without
a shadow (an ``enzyme_const`` argument) carries no derivative.

Forward mode: the shadow holds the tangent of each element. A load reads the tangent
beside the primal, a store writes the stored value's tangent (zero when it has none), a
copy copies the tangents.

Reverse mode: the shadow holds the cotangent of each element's current value. The
forward sweep runs the primal ops (loaded values stay available as SSA values, so the
reverse sweep never reads primal memory); in the reverse sweep a load adds its result's
cotangent into the shadow element, a store moves the shadow element into the stored
value's cotangent and zeroes it, a copy adds the destination's shadow into the source's
and zeroes it. On return the caller's shadow holds the derivative with respect to the
buffer's contents on entry.

``MemoryActivity`` extends the activity analysis with memory: loads from shadowed
buffers are varied, values stored into them useful. A value that carries a derivative
stored into memory without a shadow which the function reads back is refused (the
derivative would be lost); stored there and never read, it is dropped, as Enzyme does.
A call that passes a memref is inlined before differentiation (``inline_memory_calls``,
in a copy of the function). Memory reached in ways the rules do not follow (a memref
yielded by a loop or branch, returned in reverse mode with a cotangent, passed to a
recursion) is refused with a one-line error. Forward mode may return a buffer: its
tangent is its tangent buffer; reverse mode returns a buffer as a constant
(``enzyme_const``), without a cotangent.

In reverse mode, loops and branches whose regions touch memory (shadowed or not) get
the rules at the end of this file: the region rules of ``scf.py`` would recompute loads
from memory that has changed since, and redo stores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xdsl.dialects import arith, func, scf
from xdsl.dialects.builtin import DYNAMIC_INDEX, IndexType, MemRefType, TensorType
from xdsl.ir import Attribute, Block, BlockArgument, Operation, Region, SSAValue
from xdsl.rewriter import InsertPoint

from ...analysis.activity import ActivityAnalysis
from ...ir.builder import Builder
from ...ir.memref import AllocaOp, AllocOp, CastOp, CopyOp, DeallocOp, DimOp, LoadOp, StoreOp, is_float_memref, is_memref
from ...ir.query import body_ops, describe_location, free_values, terminator
from ..errors import DiffError
from ..registry import CUSTOM
from ..unroll import constant_bounds

if TYPE_CHECKING:
    from ..engine import ForwardSweep, ReverseSweep

MEMORY_OPS = (AllocOp, AllocaOp, DeallocOp, LoadOp, StoreOp, CopyOp, CastOp)
"""The ops that read, write, create, alias or free a buffer: their derivatives follow
the shadows, whatever the activity of their results."""


@dataclass
class MemoryRule:
    forward: Callable[[ForwardSweep, Operation], None] | None = None
    augment: Callable[[ReverseSweep, Operation], None] | None = None
    """The op in the forward sweep of reverse mode (default: a copy of the op)."""
    reverse: Callable[[ReverseSweep, Operation], None] | None = None


MEMORY: dict[type[Operation], MemoryRule] = {}
"""The rules of the memory ops. Apart from the registry's tiers: the engine runs them
for every op that touches a shadowed buffer (``MemoryActivity.touches_shadow``), since a
store has no result and an allocation no active one."""


def _rule(part: str, *classes: type[Operation]) -> Callable:
    def register(fn: Callable) -> Callable:
        for cls in classes:
            setattr(MEMORY.setdefault(cls, MemoryRule()), part, fn)
        return fn

    return register


def memory_forward(*classes: type[Operation]) -> Callable:
    return _rule("forward", *classes)


def memory_augment(*classes: type[Operation]) -> Callable:
    return _rule("augment", *classes)


def memory_reverse(*classes: type[Operation]) -> Callable:
    return _rule("reverse", *classes)


REGION_OPS = (scf.ForOp, scf.IfOp, scf.WhileOp, scf.ExecuteRegionOp, scf.IndexSwitchOp)


def uses_memory(fn: func.FuncOp) -> bool:
    """Whether ``fn`` has memref arguments or memref ops (then ``MemoryActivity`` applies)."""
    if any(is_memref(t) for t in fn.function_type.inputs.data):
        return True
    return any(isinstance(op, MEMORY_OPS) for op in fn.walk())


def _where(op: Operation) -> str:
    return f"'{op.name}' at {describe_location(op)}"


def _buffer(op: Operation) -> SSAValue | None:
    """The buffer a load, store, alloc, alloca, dealloc or cast reads, writes, creates,
    frees or aliases."""
    if isinstance(op, (LoadOp, StoreOp, DeallocOp, AllocOp, AllocaOp)):
        return op.memref
    if isinstance(op, CastOp):
        return op.source
    return None


# ============================================================================ activity


class MemoryActivity(ActivityAnalysis):
    """Activity with memory: ``shadowed`` holds the buffers (values of the source
    function) that have a shadow; ``shadows`` maps them to their shadows in the function
    being generated (filled by the engine and the rules)."""

    def __init__(self, fn: func.FuncOp, active_args: Sequence[bool], useful_results: Sequence[bool], shadowed_args: Sequence[bool], reverse: bool):
        block = fn.body.blocks.first
        assert block is not None
        self.shadowed: set[SSAValue] = set()
        self.shadows: dict[SSAValue, SSAValue] = {}
        self.reverse = reverse
        for arg, dup in zip(block.args, shadowed_args):
            if dup and is_float_memref(arg.type):
                self.shadowed.add(arg)
        self.root: dict[SSAValue, SSAValue] = {}
        """A memref.cast's result -> the buffer it aliases."""
        for op in fn.walk():  # program order: a cast follows its source
            if isinstance(op, (AllocOp, AllocaOp)) and is_float_memref(op.memref.type):
                self.shadowed.add(op.memref)
            elif isinstance(op, CastOp):
                self.root[op.dest] = self.root.get(op.source, op.source)
                if op.source in self.shadowed:
                    self.shadowed.add(op.dest)
        self._check_flows(fn, useful_results)
        self._touching: dict[Operation, bool] = {}
        self._entry = block
        self.tainted: set[SSAValue] = {a for a in self.shadowed if isinstance(a, BlockArgument)}
        """Buffers whose contents may carry a derivative: dup arguments, and buffers a
        varied value is stored (or such memory copied) into; a load from any other buffer
        is not varied (an allocation's shadow starts at zero)."""
        super().__init__(fn, active_args, useful_results)
        self._check_const_stores(fn)

    # ------------------------------------------------------------------ checks

    def _check_flows(self, fn: func.FuncOp, useful_results: Sequence[bool]) -> None:
        """Memrefs only as operands of the memory ops and memref.dim (and captured by
        regions): anything else would move a buffer where the shadows do not follow. The
        function may return a buffer: in forward mode its tangent is the buffer's
        tangent buffer (so it must have one when the tangent is asked for); in reverse
        mode only as a constant (``enzyme_const``: the primal buffer is returned, no
        cotangent flows in through it)."""
        ret = fn.body.blocks.first.last_op if fn.body.blocks else None
        for op in fn.walk():
            if op is fn or isinstance(op, (*MEMORY_OPS, DimOp)):
                continue
            if op is ret:
                for v, useful in zip(op.operands, useful_results):
                    if not (is_memref(v.type) and useful):
                        continue
                    if self.reverse:
                        raise DiffError(
                            f"{_where(op)} returns the memref {v.type} marked enzyme_active: in reverse mode zymase "
                            f"returns a buffer only as enzyme_const or enzyme_constnoneed (no cotangent seeds a buffer)"
                        )
                    if v not in self.shadowed:
                        raise DiffError(
                            f"{_where(op)} returns the memref {v.type}, which has no tangent buffer (an enzyme_const "
                            f"argument or memory of integers), with a derivative asked for"
                        )
                continue
            for v in op.operands:
                if is_memref(v.type):
                    raise DiffError(
                        f"{_where(op)} takes the memref {v.type}: zymase differentiates memory only through "
                        f"memref.alloc, alloca, dealloc, load, store, copy, dim and inlined calls (not through yielded "
                        f"or returned memrefs)"
                    )
            for region in op.regions:
                for b in region.blocks:
                    if any(is_memref(a.type) for a in b.args):
                        raise DiffError(f"{_where(op)} has a memref block argument: not supported in differentiated functions")
            if op.regions and not isinstance(op, REGION_OPS) and any(isinstance(x, MEMORY_OPS) for r in op.regions for x in r.walk()):
                raise DiffError(f"{_where(op)} reads or writes memory in its regions: zymase differentiates memory in scf regions only")

    def _check_const_stores(self, fn: func.FuncOp) -> None:
        def root(v: SSAValue) -> SSAValue:
            return self.root.get(v, v)

        read: set[SSAValue] = set()
        for op in fn.walk():
            if isinstance(op, LoadOp):
                read.add(root(op.memref))
            elif isinstance(op, CopyOp):
                read.add(root(op.source))
        for op in fn.walk():
            if isinstance(op, StoreOp) and op.memref not in self.shadowed and op.value in self.varied and root(op.memref) in read:
                raise DiffError(
                    f"{_where(op)} stores a value that carries a derivative into memory without a shadow "
                    f"(an enzyme_const memref), and the function reads that memory back: the derivative would be "
                    f"lost; mark the memref enzyme_dup"
                )
            if isinstance(op, CopyOp) and op.destination not in self.shadowed and op.source in self.shadowed and root(op.destination) in read:
                raise DiffError(
                    f"{_where(op)} copies memory that carries a derivative into memory without a shadow that the "
                    f"function reads back: the derivative would be lost; mark the destination enzyme_dup"
                )

    # ------------------------------------------------------------------ queries

    def touches_shadow(self, op: Operation) -> bool:
        """Whether ``op`` (or an op in its regions) reads, writes, creates or frees a
        buffer with a shadow: the engine then runs its rule whatever its results."""
        got = self._touching.get(op)
        if got is None:
            if isinstance(op, CopyOp):
                got = op.source in self.shadowed or op.destination in self.shadowed
            elif isinstance(op, MEMORY_OPS):
                got = _buffer(op) in self.shadowed
            elif op.regions and self.reverse:
                # any memory op: the region rules would recompute loads and redo stores
                got = any(isinstance(inner, MEMORY_OPS) for region in op.regions for inner in region.walk())
            elif op.regions:
                got = any(self.touches_shadow(inner) for region in op.regions for b in region.blocks for inner in b.ops)
            else:
                got = False
            self._touching[op] = got
        return got

    def op_is_active(self, op: Operation) -> bool:
        return self.touches_shadow(op) or super().op_is_active(op)

    def _forward_block(self, block: Block) -> None:
        if block is not self._entry:
            super()._forward_block(block)
            return
        while True:  # a store may taint a buffer an earlier load read: to a fixpoint
            n = len(self.tainted)
            super()._forward_block(block)
            if len(self.tainted) == n:
                return

    def _forward_op(self, op: Operation) -> None:
        if isinstance(op, LoadOp):
            if op.memref in self.shadowed and self.root.get(op.memref, op.memref) in self.tainted:
                self._mark_varied([op.res])
            return
        if isinstance(op, StoreOp):
            if op.memref in self.shadowed and op.value in self.varied:
                self.tainted.add(self.root.get(op.memref, op.memref))
            return
        if isinstance(op, CopyOp):
            if self.root.get(op.source, op.source) in self.tainted and op.destination in self.shadowed:
                self.tainted.add(self.root.get(op.destination, op.destination))
            return
        super()._forward_op(op)

    def _backward_op(self, op: Operation) -> None:
        if isinstance(op, StoreOp):
            if op.memref in self.shadowed:
                self._mark_useful([op.value])  # the shadow is an output of the derivative
            return
        super()._backward_op(op)


# ============================================================================ helpers


def _index(b: Builder, value: int) -> SSAValue:
    return b.constant(value, IndexType())


def _dims(b: Builder, buf: SSAValue) -> list[SSAValue]:
    t = buf.type
    assert isinstance(t, MemRefType)
    out = []
    for i, s in enumerate(t.get_shape()):
        out.append(_index(b, s) if s >= 0 else b.insert(DimOp(buf, _index(b, i))).results[0])
    return out


def for_each_element(b: Builder, buf: SSAValue, body: Callable[[Builder, list[SSAValue]], None]) -> None:
    """``body(builder, indices)`` for every element of ``buf``, in nested scf.for loops."""
    dims = _dims(b, buf)

    def nest(outer: Builder, level: int, indices: list[SSAValue]) -> None:
        if level == len(dims):
            body(outer, indices)
            return
        block = Block(arg_types=[IndexType()])
        inner = Builder(block, outer.location)
        nest(inner, level + 1, [*indices, block.args[0]])
        inner.insert(scf.YieldOp())
        outer.insert(scf.ForOp(_index(outer, 0), dims[level], _index(outer, 1), [], Region(block)))

    nest(b, 0, [])


def _zero(b: Builder, buf: SSAValue) -> SSAValue:
    t = buf.type
    assert isinstance(t, MemRefType)
    return b.constant(0, t.get_element_type())


def fill_zero(b: Builder, buf: SSAValue) -> None:
    zero = _zero(b, buf)
    for_each_element(b, buf, lambda ib, idx: ib.insert(StoreOp.get(zero, buf, idx)) and None)


def _load(b: Builder, buf: SSAValue, indices: Sequence[SSAValue]) -> SSAValue:
    return b.insert(LoadOp.get(buf, list(indices))).results[0]


def _store(b: Builder, value: SSAValue, buf: SSAValue, indices: Sequence[SSAValue]) -> None:
    b.insert(StoreOp.get(value, buf, list(indices)))


def _new_shadow(b: Builder, op: AllocOp | AllocaOp, sizes: Sequence[SSAValue]) -> SSAValue:
    t = op.memref.type
    if isinstance(op, AllocOp):
        new = AllocOp(list(sizes), [], t, op.alignment)
    else:
        new = AllocaOp.build(operands=[list(sizes), []], result_types=[t], properties={"alignment": op.alignment})
    shadow = b.insert(new).results[0]
    fill_zero(b, shadow)
    return shadow


def _mapped(sweep, values: Sequence[SSAValue]) -> list[SSAValue]:
    return [sweep.primal(v) for v in values]


# ============================================================================ forward mode


def _tangent_buffer(fwd: ForwardSweep, buf: SSAValue) -> SSAValue | None:
    """The tangent buffer of ``buf``; None for memory without a shadow."""
    t = fwd.tangents.get(buf)
    if t is None and buf in fwd.analysis.shadowed:  # type: ignore[attr-defined]
        raise DiffError(f"internal error: the tangent buffer of a buffer ({buf.type}) was not created before its use")
    return t


@memory_forward(AllocOp, AllocaOp)
def alloc_forward(fwd: ForwardSweep, op: AllocOp | AllocaOp) -> None:
    fwd.clone(op)
    if op.memref in fwd.analysis.shadowed:  # type: ignore[attr-defined]
        fwd.tangents[op.memref] = _new_shadow(fwd.builder, op, _mapped(fwd, op.dynamic_sizes))


@memory_forward(CastOp)
def cast_forward(fwd: ForwardSweep, op: CastOp) -> None:
    fwd.clone(op)
    t = _tangent_buffer(fwd, op.source)
    if t is not None:
        fwd.tangents[op.dest] = fwd.builder.insert(CastOp(t, op.dest.type)).results[0]


@memory_forward(DeallocOp)
def dealloc_forward(fwd: ForwardSweep, op: DeallocOp) -> None:
    fwd.clone(op)
    t = _tangent_buffer(fwd, op.memref)
    if t is not None:
        fwd.builder.insert(DeallocOp.get(t))


@memory_forward(LoadOp)
def load_forward(fwd: ForwardSweep, op: LoadOp) -> None:
    fwd.clone(op)
    t = _tangent_buffer(fwd, op.memref)
    if t is not None:
        fwd.set_tangent(op.res, _load(fwd.builder, t, _mapped(fwd, op.indices)))


@memory_forward(StoreOp)
def store_forward(fwd: ForwardSweep, op: StoreOp) -> None:
    fwd.clone(op)
    t = _tangent_buffer(fwd, op.memref)
    if t is not None:
        tangent = fwd.tangent(op.value)
        if tangent is None:
            tangent = _zero(fwd.builder, t)
        _store(fwd.builder, tangent, t, _mapped(fwd, op.indices))


@memory_forward(CopyOp)
def copy_forward(fwd: ForwardSweep, op: CopyOp) -> None:
    fwd.clone(op)
    dst = _tangent_buffer(fwd, op.destination)
    if dst is None:
        return
    src = _tangent_buffer(fwd, op.source)
    if src is None:
        fill_zero(fwd.builder, dst)
    else:
        fwd.builder.insert(CopyOp(src, dst))


# ============================================================================ reverse mode


def _shadow(rev: ReverseSweep, buf: SSAValue) -> SSAValue | None:
    """The shadow of ``buf``; None for memory without one (never silently for a buffer
    that should have one)."""
    analysis: MemoryActivity = rev.analysis  # type: ignore[assignment]
    shadow = analysis.shadows.get(buf)
    if shadow is None and buf in analysis.shadowed:
        raise DiffError(f"internal error: the shadow of a buffer ({buf.type}) was not created before its use")
    return shadow


def _make_shadow_cast(rev: ReverseSweep, op: CastOp) -> None:
    shadow = _shadow(rev, op.source)
    if shadow is not None:
        rev.analysis.shadows[op.dest] = rev.builder.insert(CastOp(shadow, op.dest.type)).results[0]  # type: ignore[attr-defined]


@memory_augment(CastOp)
def cast_augment(rev: ReverseSweep, op: CastOp) -> None:
    rev.clone(op)
    _make_shadow_cast(rev, op)


@memory_augment(AllocOp, AllocaOp)
def alloc_augment(rev: ReverseSweep, op: AllocOp | AllocaOp) -> None:
    rev.clone(op)
    if op.memref in rev.analysis.shadowed:  # type: ignore[attr-defined]
        rev.analysis.shadows[op.memref] = _new_shadow(rev.builder, op, _mapped(rev, op.dynamic_sizes))  # type: ignore[attr-defined]


@memory_reverse(AllocOp, AllocaOp)
def alloc_reverse(rev: ReverseSweep, op: AllocOp | AllocaOp) -> None:
    """The shadow lives until the reverse sweep has passed every use of the buffer: a
    heap buffer's shadow is freed here, at the reverse of its allocation."""
    shadow = _shadow(rev, op.memref)
    if shadow is not None and isinstance(op, AllocOp) and any(isinstance(u.operation, DeallocOp) for u in op.memref.uses):
        rev.builder.insert(DeallocOp.get(shadow))


@memory_reverse(DeallocOp)
def dealloc_reverse(rev: ReverseSweep, op: DeallocOp) -> None:
    """The primal buffer was freed in the forward sweep (the reverse sweep reads only
    its shadow); the shadow is freed at the reverse of the allocation."""


@memory_reverse(LoadOp)
def load_reverse(rev: ReverseSweep, op: LoadOp) -> None:
    ct = rev.adjoint(op.res)
    shadow = _shadow(rev, op.memref)
    if ct is None or shadow is None:
        return
    b = rev.builder
    idx = _mapped(rev, op.indices)
    _store(b, b.add(_load(b, shadow, idx), ct), shadow, idx)


@memory_reverse(StoreOp)
def store_reverse(rev: ReverseSweep, op: StoreOp) -> None:
    shadow = _shadow(rev, op.memref)
    if shadow is None:
        return
    b = rev.builder
    idx = _mapped(rev, op.indices)
    ct = _load(b, shadow, idx)
    _store(b, _zero(b, shadow), shadow, idx)
    rev.add_adjoint(op.value, ct)


@memory_reverse(CopyOp)
def copy_reverse(rev: ReverseSweep, op: CopyOp) -> None:
    dst = _shadow(rev, op.destination)
    if dst is None:
        return
    src = _shadow(rev, op.source)
    zero = _zero(rev.builder, dst)

    def move(b: Builder, idx: list[SSAValue]) -> None:
        ct = _load(b, dst, idx)
        _store(b, zero, dst, idx)
        if src is not None:
            _store(b, b.add(_load(b, src, idx), ct), src, idx)

    for_each_element(rev.builder, dst, move)


# ============================================================================ regions in reverse mode
#
# The reverse of a loop or branch recomputes the primal values of its body. Loads must
# not be recomputed (the memory may have changed since) and stores must not be redone:
# the forward sweep keeps every load's value (a loop in a cache indexed by iteration, a
# branch as an extra result), and the recomputation reads those instead, skipping the
# stores. Loops also cache their carried values per iteration, from which the reverse
# recomputes the body (Enzyme's caches: ``memref<N x T>`` allocated before the loop,
# freed after its reverse). A nested loop over memory has caches with one dimension per
# enclosing loop, allocated before the outermost one; its results are cached in the
# enclosing loop's iteration, and the enclosing reverse body runs its reverse with the
# enclosing iteration indices. A loop over memory in a branch has its caches allocated
# before the branch (or before the outermost enclosing loop); a branch over memory in a
# loop yields its loads and its loops' results as extra results, which the loop caches
# (in a branch, the enclosing branch yields them too).
# A trip count known only as the outermost op runs (an scf.while; an scf.for bounded by
# values computed inside the outermost op) is counted by a dry run: a copy of the
# outermost op runs first on copies of the buffers it writes, keeping each such loop's
# longest run; then the op records into caches of that size (a growing cache would
# change shape inside a lax loop, which value semantics cannot express). A nested
# scf.while stores each run's trip count for its reverse; a nested scf.for's reverse
# recomputes its own from its bounds.


def refuse_region(rev: ReverseSweep, op: Operation) -> None:
    """Reverse mode of a region op touching shadowed memory that has no memory rule."""
    raise DiffError(
        f"reverse mode of {_where(op)}: the region reads or writes memory with a shadow; zymase reverses "
        f"scf.for, scf.while and scf.if over memory, not this op yet"
    )


def _scalar(t: Attribute) -> bool:
    return not isinstance(t, (TensorType, MemRefType))


def _memory_body(op: Operation, block: Block) -> tuple[list[LoadOp], list[Operation]]:
    """The loads of ``block`` (a body of ``op``) and its nested region ops over memory
    (scf.for, scf.while and scf.if in a loop or branch), checking that the reverse can
    follow the body: no other nested region that touches memory."""
    loads: list[LoadOp] = []
    nested: list[Operation] = []
    in_loop = isinstance(op, (scf.ForOp, scf.WhileOp))
    for inner in block.ops:
        if isinstance(inner, LoadOp):
            loads.append(inner)
        elif _over_memory(inner):
            loop = isinstance(inner, (scf.ForOp, scf.WhileOp))
            if not ((loop or isinstance(inner, scf.IfOp)) and (in_loop or isinstance(op, scf.IfOp))):
                raise DiffError(f"reverse mode of {_where(op)}: the nested {_where(inner)} reads or writes memory; not supported yet")
            nested.append(inner)
    return loads, nested


def _over_memory(op: Operation) -> bool:
    """A region op whose regions read, write, create or free memory."""
    return bool(op.regions) and any(isinstance(x, MEMORY_OPS) for r in op.regions for x in r.walk())


def _kept(block: Block, loads: Sequence[LoadOp], nested: Sequence[Operation]) -> list[SSAValue]:
    """The values of ``block`` a loop caches per iteration: its loads, the results of its
    nested region ops over memory, and the loads of its nested branches (which the
    branch yields as extra results)."""
    out = [*(load.res for load in loads), *(r for o in nested for r in o.results)]
    for o in nested:
        if isinstance(o, scf.IfOp):
            out += _branch_values(o)
    return out


def _branch_values(op: scf.IfOp) -> list[SSAValue]:
    """The values a branch over memory keeps for its reverse (its extra results): the
    loads and the results of the loops and branches over memory of both regions, and
    what those branches keep."""
    return [v for region in (op.true_region, op.false_region) for v in _region_values(op, region)]


def _region_values(op: scf.IfOp, region: Region) -> list[SSAValue]:
    if not region.blocks:
        return []
    loads, nested = _memory_body(op, region.block)
    out = [*(load.res for load in loads), *(r for o in nested for r in o.results)]
    for o in nested:
        if isinstance(o, scf.IfOp):
            out += _branch_values(o)
    return out


def _recompute(sub: ReverseSweep, block: Block, loaded: dict[SSAValue, SSAValue], skipped: Sequence[Operation] = ()) -> None:
    """The primal values of ``block`` in ``sub``: loads (and the ``skipped`` nested loops)
    read ``loaded``, stores and copies are not redone, other ops are copied (active
    region ops through their augment rule)."""
    for op in body_ops(block):
        sub.builder.location = op.location
        if isinstance(op, LoadOp) or op in skipped:
            for r in op.results:
                sub.primals[r] = loaded[r]
        elif isinstance(op, (StoreOp, CopyOp, DeallocOp)):
            continue
        elif isinstance(op, (AllocOp, AllocaOp)):
            # a buffer of this region only (SSA scoping): a fresh zeroed shadow for the
            # reverse of this iteration; the primal buffer is not needed again (its loads
            # are cached, its stores not redone), so the shadow stands for it as well
            if op.memref in sub.analysis.shadowed:  # type: ignore[attr-defined]
                shadow = _new_shadow(sub.builder, op, _mapped(sub, op.dynamic_sizes))
                sub.analysis.shadows[op.memref] = shadow  # type: ignore[attr-defined]
                sub.primals[op.memref] = shadow
            else:
                sub.clone(op)
        elif isinstance(op, CastOp):
            sub.clone(op)
            _make_shadow_cast(sub, op)
        else:
            rule = CUSTOM.get(type(op))
            if rule is not None and rule.augment is not None and sub.analysis.op_is_active(op):
                rule.augment(sub, op)
            else:
                sub.clone(op)


def _to(b: Builder, v: SSAValue, t: Attribute) -> SSAValue:
    """An integer or index value as type ``t`` (index_cast between them)."""
    if v.type == t:
        return v
    return b.insert(arith.IndexCastOp(v, t)).results[0]


def _trip_count(b: Builder, lb: SSAValue, ub: SSAValue, step: SSAValue) -> SSAValue:
    """``max(0, ceil((ub - lb) / step))`` for a positive step, as an index."""
    one = b.constant(1, lb.type)
    n = b.div(b.add(b.sub(ub, lb), b.sub(step, one)), step)
    return _to(b, b.max(n, b.constant(0, lb.type)), IndexType())


Dim = tuple[int | None, SSAValue]
"""A dimension of a cache: its size when it is a constant, and its size as a value."""


def _cache(b: Builder, t: Attribute, dims: Sequence[Dim]) -> SSAValue:
    """A ``memref<N1 x ... x t>``, one dimension per enclosing loop (static when the
    trip count is a constant)."""
    shape = [DYNAMIC_INDEX if s is None else s for s, _ in dims]
    sizes = [v for s, v in dims if s is None]
    return b.insert(AllocOp(sizes, [], MemRefType(t, shape))).results[0]


@dataclass
class _LoopCache:
    count: SSAValue
    """The trip count (index), defined before the outermost loop."""
    carried: list[SSAValue]
    """One cache per carried value: its value at the start of each iteration."""
    values: dict[SSAValue, SSAValue]
    """One cache per value the reverse must not recompute (a load's result, a nested
    loop's result): its value in each iteration."""
    inner: dict[Operation, _LoopCache]
    """The caches of the nested loops over memory (one more dimension each)."""
    branches: dict[Operation, _BranchTape] = field(default_factory=dict)
    """The nested branches over memory: the values each keeps (cached in ``values``) and
    the caches of its loops over memory (one dimension per enclosing loop)."""
    whiles: dict[Operation, _WhileTape] = field(default_factory=dict)
    """The caches of the nested scf.while ops over memory (one more dimension each,
    sized by the longest run)."""
    dynamic: bool = False
    """The trip count varies with the enclosing iterations (bounds computed inside
    them): ``count`` is the largest, the reverse computes each run's from its bounds."""

    def skipped(self) -> list[Operation]:
        """The nested ops whose results the reverse reads from the caches."""
        return [*self.inner, *self.branches, *self.whiles]

    def scope(self, sub: ReverseSweep, at: list[SSAValue], loaded: dict[SSAValue, SSAValue]) -> None:
        """The tapes of the nested ops in ``sub``, the reverse of one iteration ``at``."""
        for loop, inner in [*self.inner.items(), *self.whiles.items()]:
            sub.tapes[loop] = _Scoped(inner, at)  # type: ignore[assignment]
        for branch, tape in self.branches.items():
            sub.tapes[branch] = _BranchTape({v: loaded[v] for v in tape.kept}, tape.loops, at, tape.branches)  # type: ignore[assignment]

    def buffers(self) -> list[SSAValue]:
        nested = [*self.inner.values(), *self.whiles.values(), *self.branches.values()]
        return [*self.carried, *self.values.values(), *(b for c in nested for b in c.buffers())]


@dataclass
class _Scoped:
    """A nested loop's cache and the indices of the enclosing iterations in the scope of
    its reverse."""

    cache: _LoopCache | _WhileTape
    outer: list[SSAValue]


Counts = dict[Operation, SSAValue]
"""The largest trip count of each loop over memory whose trip count is known only as
the outermost op runs (``_dry_run``), defined before that op."""

Outer = list[tuple[int | None, SSAValue, SSAValue]]
"""(constant size, size, iteration index) of each enclosing loop's cache dimension."""


def _augment_loop(top: ReverseSweep, fwd: ReverseSweep, op: scf.ForOp, outer: Outer, counts: Counts) -> _LoopCache:
    """The loop in ``fwd``'s block, storing its carried values, loads and nested loops'
    results into caches allocated in ``top``'s block (before the outermost loop);
    ``outer``: (constant trip count, trip count, iteration index) of each enclosing loop.
    A nested loop whose bounds are computed inside the outermost op has its dimension
    sized by its longest run (``counts``)."""
    body = op.body.block
    loads, loops = _memory_body(op, body)
    kept = _kept(body, loads, loops)
    for v in [*body.args[1:], *kept]:
        if not _scalar(v.type):
            raise DiffError(f"reverse mode of {_where(op)}: the loop over memory carries or loads {v.type}; only scalars are cached yet")
    alloc = top.builder
    bounds = constant_bounds(op)
    static = None
    dynamic = False
    if bounds is not None:
        if bounds[2] <= 0:
            raise DiffError(f"reverse mode of {_where(op)}: the step must be positive, got {bounds[2]}")
        static = max(0, -(-(bounds[1] - bounds[0]) // bounds[2]))
        count = _index(alloc, static)
    elif op in counts:
        count, dynamic = counts[op], True
    else:
        count = _trip_count(alloc, top.primal(op.lb), top.primal(op.ub), top.primal(op.step))
    dims: list[Dim] = [(s, c) for s, c, _ in outer] + [(static, count)]
    carried = [_cache(alloc, a.type, dims) for a in body.args[1:]]
    values = {v: _cache(alloc, v.type, dims) for v in kept}

    b = fwd.builder
    lb, ub, step = fwd.primal(op.lb), fwd.primal(op.ub), fwd.primal(op.step)
    block = Block(arg_types=[body.args[0].type, *[v.type for v in op.iter_args]])
    fb = Builder(block, b.location)
    sub = fwd.child(fb)
    iv = block.args[0]
    k = _to(fb, fb.div(fb.sub(iv, lb), step), IndexType())
    at = [*(kk for _, _, kk in outer), k]
    sub.primals[body.args[0]] = iv
    for a, new, cache in zip(body.args[1:], block.args[1:], carried):
        sub.primals[a] = new
        _store(fb, new, cache, at)
    result = _LoopCache(count, carried, values, {}, {}, dynamic=dynamic)
    for o in body_ops(body):
        fb.location = o.location
        _augment_nested(top, sub, o, loops, [*outer, (static, count, k)], at, result, counts)
    block.add_op(scf.YieldOp(*[sub.primal(y) for y in terminator(body).operands]))
    new = b.insert(scf.ForOp(lb, ub, step, [fwd.primal(v) for v in op.iter_args], Region(block)))
    for r, res in zip(op.results, new.results):
        fwd.primals[r] = res
    return result


def _augment_nested(
    top: ReverseSweep, sub: ReverseSweep, o: Operation, nested: Sequence[Operation], outer: Outer, at: list[SSAValue], into: _LoopCache, counts: Counts
) -> None:
    """One op of a loop body in the recording loop: a copy, or a nested loop or branch
    over memory with its own caches or extra results (recorded in ``into``); then the
    values the reverse reads are stored into the caches at the iteration ``at``."""
    if o in nested and isinstance(o, scf.ForOp):
        into.inner[o] = _augment_loop(top, sub, o, outer, counts)
    elif o in nested and isinstance(o, scf.WhileOp):
        into.whiles[o] = _augment_while(top, sub, o, outer, counts)
    elif o in nested:
        tape = _augment_branch(top, sub, o, outer, counts)  # type: ignore[arg-type]
        into.branches[o] = tape
        for v, res in tape.kept.items():
            _store(sub.builder, res, into.values[v], at)
    else:
        sub.clone(o)
    for r in o.results:
        if r in into.values:
            _store(sub.builder, sub.primal(r), into.values[r], at)


def _counted(op: Operation) -> list[Operation]:
    """The loops over memory in ``op`` (``op`` itself when an scf.while) whose trip
    counts are known only as ``op`` runs: scf.while ops, and scf.for ops whose bounds
    are computed inside ``op``."""
    out: list[Operation] = []
    for x in op.walk():
        if isinstance(x, scf.WhileOp) and _over_memory(x):
            out.append(x)
        elif isinstance(x, scf.ForOp) and x is not op and _over_memory(x) and constant_bounds(x) is None:
            if any(op.is_ancestor(v.owner) for v in (x.lb, x.ub, x.step)):  # type: ignore[arg-type]
                out.append(x)
    return out


def _dry_run(rev: ReverseSweep, op: Operation, targets: Sequence[Operation]) -> Counts:
    """The largest trip count of each of ``targets`` (loops in ``op``): a copy of ``op``
    run on copies of the buffers it writes (the real run follows, then recording into
    caches of those sizes), counting the trips of every run of each target."""
    analysis: MemoryActivity = rev.analysis  # type: ignore[assignment]

    def root(v: SSAValue) -> SSAValue:
        return analysis.root.get(v, v)

    written = {root(x.memref) for x in op.walk() if isinstance(x, (StoreOp, DeallocOp))}
    written |= {root(x.destination) for x in op.walk() if isinstance(x, CopyOp)}
    b = rev.builder
    index = IndexType()
    mapping: dict[SSAValue, SSAValue] = {}
    copies: dict[SSAValue, SSAValue] = {}
    for v in [*op.operands, *free_values(op)]:
        if v in mapping:
            continue
        if not is_memref(v.type):
            mapping[v] = rev.primal(v)
            continue
        r = root(v)
        if r not in written:
            mapping[v] = rev.primal(v)
            continue
        if r not in copies:
            src = rev.primal(r)
            t = src.type
            assert isinstance(t, MemRefType)
            sizes = [d for d, s in zip(_dims(b, src), t.get_shape()) if s < 0]
            copies[r] = b.insert(AllocOp(sizes, [], t)).results[0]
            b.insert(CopyOp(src, copies[r]))
        mapping[v] = copies[r] if v is r else b.insert(CastOp(copies[r], v.type)).results[0]

    def counter() -> SSAValue:
        c = b.insert(AllocOp([], [], MemRefType(index, [1]))).results[0]
        _store(b, _index(b, 0), c, [_index(b, 0)])
        return c

    def bump(at: Builder, c: SSAValue, n: SSAValue, add: bool) -> None:
        zero = _index(at, 0)
        old = _load(at, c, [zero])
        _store(at, at.add(old, n) if add else at.max(old, n), c, [zero])

    largest = {t: counter() for t in targets}
    trips = {t: counter() for t in targets if isinstance(t, scf.WhileOp)}
    twin = b.insert(op.clone(value_mapper=mapping))
    twins = dict(zip(op.walk(), twin.walk()))
    for t in targets:
        x = twins[t]
        if isinstance(x, scf.ForOp):
            xb = Builder.before(x)
            bump(xb, largest[t], _trip_count(xb, x.lb, x.ub, x.step), add=False)
            continue
        assert isinstance(x, scf.WhileOp)
        n = trips[t]
        xb = Builder.before(x)
        _store(xb, _index(xb, 0), n, [_index(xb, 0)])
        first = x.after_region.block.first_op
        assert first is not None
        ab = Builder.before(first)
        bump(ab, n, _index(ab, 1), add=True)
        after = b if x is twin else Builder.before(x.next_op)  # type: ignore[arg-type]
        zero = _index(after, 0)
        bump(after, largest[t], _load(after, n, [zero]), add=False)
    out = {t: _load(b, c, [_index(b, 0)]) for t, c in largest.items()}
    for c in [*copies.values(), *trips.values(), *largest.values()]:
        b.insert(DeallocOp.get(c))
    return out


def _inert(rev: ReverseSweep, op: Operation) -> bool:
    """A region op that touches only memory without a shadow and has no active result:
    its forward is a copy, its reverse nothing."""
    analysis: MemoryActivity = rev.analysis  # type: ignore[assignment]
    if ActivityAnalysis.op_is_active(analysis, op):
        return False
    return not any(isinstance(x, MEMORY_OPS) and analysis.touches_shadow(x) for r in op.regions for x in r.walk())


@memory_augment(scf.ForOp)
def for_augment(rev: ReverseSweep, op: scf.ForOp) -> None:
    if _inert(rev, op):
        rev.clone(op)
        rev.tapes[op] = None  # type: ignore[assignment]
        return
    counted = _counted(op)
    rev.tapes[op] = _augment_loop(rev, rev, op, [], _dry_run(rev, op, counted) if counted else {})  # type: ignore[assignment]


@memory_reverse(scf.ForOp)
def for_reverse(rev: ReverseSweep, op: scf.ForOp) -> None:
    """An scf.for over j = 0..N-1 reversing iteration k = N-1-j: the body recomputed from
    iteration k's cached carried values and loads, then its reverse sweep."""
    tape = rev.tapes[op]
    if tape is None:
        return
    cache, outer = (tape.cache, tape.outer) if isinstance(tape, _Scoped) else (tape, [])
    assert isinstance(cache, _LoopCache)
    body = op.body.block
    b = rev.builder
    act = [i for i, a in enumerate(body.args[1:]) if rev.is_active(a)]
    frees = [f for f in free_values(op) if rev.is_active(f)]
    carry = [rev.adjoint_or_zero(op.results[i]) for i in act] + [b.zeros(f.type) for f in frees]
    lb, step = rev.primal(op.lb), rev.primal(op.step)
    index = IndexType()
    count = _trip_count(b, lb, rev.primal(op.ub), step) if cache.dynamic else cache.count
    block = Block(arg_types=[index, *[v.type for v in carry]])
    rb = Builder(block, b.location)
    k = rb.sub(rb.sub(count, rb.constant(1, index)), block.args[0])
    at = [*outer, k]
    iv = rb.add(lb, rb.mul(_to(rb, k, lb.type), step))
    sub = rev.child(rb)
    sub.primals[body.args[0]] = iv
    for a, c in zip(body.args[1:], cache.carried):
        sub.primals[a] = _load(rb, c, at)
    loaded = {v: _load(rb, c, at) for v, c in cache.values.items()}
    _recompute(sub, body, loaded, cache.skipped())
    cache.scope(sub, at, loaded)
    term = terminator(body)
    for i, ct in zip(act, block.args[1:]):
        sub.add_adjoint(term.operands[i], ct)
    sub.reverse_block(body)
    outs = [sub.adjoint_or_zero(body.args[1 + i]) for i in act]
    for f, acc in zip(frees, block.args[1 + len(act) :]):
        ct = sub.adjoints.get(f)
        outs.append(acc if ct is None else rb.add(acc, ct))
    block.add_op(scf.YieldOp(*outs))
    new = b.insert(scf.ForOp(b.constant(0, index), count, b.constant(1, index), carry, Region(block)))
    if not isinstance(tape, _Scoped):  # a nested loop's caches are freed by the enclosing op's reverse
        for c in cache.buffers():
            b.insert(DeallocOp.get(c))
    for i, ct in zip(act, new.results):
        rev.add_adjoint(op.iter_args[i], ct)
    for f, ct in zip(frees, new.results[len(act) :]):
        rev.add_adjoint(f, ct)


@dataclass
class _BranchTape:
    kept: dict[SSAValue, SSAValue]
    """A load's or nested loop's result in the branch -> the if's extra result holding it
    (zero from the branch not taken)."""
    loops: dict[Operation, _Tape]
    """The caches of the loops over memory in the branches (allocated before the if, or
    before the outermost enclosing loop)."""
    outer: list[SSAValue] | None = None
    """In a loop or branch over memory: the indices of the enclosing iterations (the
    loops' caches are then freed by the outermost op's reverse)."""
    branches: dict[Operation, _BranchTape] = field(default_factory=dict)
    """The nested branches over memory (what they keep is kept by this one too)."""

    def buffers(self) -> list[SSAValue]:
        return [b for t in [*self.loops.values(), *self.branches.values()] for b in t.buffers()]


def _augment_branch(top: ReverseSweep, fwd: ReverseSweep, op: scf.IfOp, outer: Outer | None, counts: Counts) -> _BranchTape:
    """The branch in ``fwd``'s block, also yielding the values its loads read, its loops
    and branches over memory return, and those branches keep (zero from the branch not
    taken); such a loop caches its iterations in buffers allocated in ``top``'s block,
    before the if (or before the outermost enclosing op), sized by the loop's trip count
    (its largest, from the dry run, when its bounds are computed inside). In a loop or
    branch, ``outer`` holds the enclosing loops (as ``_augment_loop`` takes them), and
    the enclosing op keeps the extra results."""
    regions = [op.true_region, op.false_region]
    bodies = [_memory_body(op, r.block) if r.blocks else ([], []) for r in regions]
    mine = [_region_values(op, r) for r in regions]
    extra = [v for vs in mine for v in vs]
    for v in extra:
        if not _scalar(v.type):
            raise DiffError(f"reverse mode of {_where(op)}: the branch loads or computes in a loop {v.type}; only scalars are kept yet")
    caches: dict[Operation, _Tape] = {}
    branches: dict[Operation, _BranchTape] = {}
    new_regions = []
    for region, (_, loops), kept in zip(regions, bodies, mine):
        block = Block()
        fb = Builder(block, fwd.builder.location)
        sub = fwd.child(fb)
        outs: list[SSAValue] = []
        inner_kept: dict[SSAValue, SSAValue] = {}
        if region.blocks:
            for inner in body_ops(region.block):
                fb.location = inner.location
                if inner in loops and isinstance(inner, scf.WhileOp):
                    caches[inner] = _augment_while(top, sub, inner, outer or [], counts)
                elif inner in loops and isinstance(inner, scf.ForOp):
                    caches[inner] = _augment_loop(top, sub, inner, outer or [], counts)
                elif inner in loops:  # a branch over memory: what it keeps, this one yields too
                    branches[inner] = _augment_branch(top, sub, inner, outer or [], counts)  # type: ignore[arg-type]
                    inner_kept.update(branches[inner].kept)
                else:
                    sub.clone(inner)
            outs = [sub.primal(v) for v in terminator(region.block).operands]
        yielded = [(inner_kept[v] if v in inner_kept else sub.primal(v)) if v in kept else fb.zeros(v.type) for v in extra]
        block.add_op(scf.YieldOp(*outs, *yielded))
        new_regions.append(Region(block))
    types = [r.type for r in op.results] + [v.type for v in extra]
    new = fwd.builder.insert(scf.IfOp(fwd.primal(op.cond), types, new_regions[0], new_regions[1]))
    n = len(op.results)
    for r, res in zip(op.results, new.results[:n]):
        fwd.primals[r] = res
    return _BranchTape(dict(zip(extra, new.results[n:])), caches, None if outer is None else [k for _, _, k in outer], branches)


@memory_augment(scf.IfOp)
def if_augment(rev: ReverseSweep, op: scf.IfOp) -> None:
    counted = _counted(op)
    rev.tapes[op] = _augment_branch(rev, rev, op, None, _dry_run(rev, op, counted) if counted else {})  # type: ignore[assignment]


@memory_reverse(scf.IfOp)
def if_reverse(rev: ReverseSweep, op: scf.IfOp) -> None:
    tape: _BranchTape = rev.tapes[op]  # type: ignore[assignment]
    frees = [f for f in free_values(op) if rev.is_active(f)]
    regions = []
    for region in (op.true_region, op.false_region):
        block = Block()
        sub = rev.child(Builder(block, rev.builder.location))
        if region.blocks:
            loops = [o for o in region.block.ops if o in tape.loops]
            nested = [o for o in region.block.ops if o in tape.branches]
            _recompute(sub, region.block, tape.kept, [*loops, *nested])
            for loop in loops:
                sub.tapes[loop] = _Scoped(tape.loops[loop], tape.outer or [])  # type: ignore[assignment]
            for branch in nested:  # its kept values are this one's; its caches freed with this one's
                inner = tape.branches[branch]
                sub.tapes[branch] = _BranchTape({v: tape.kept[v] for v in inner.kept}, inner.loops, tape.outer or [], inner.branches)  # type: ignore[assignment]
            for v, r in zip(terminator(region.block).operands, op.results):
                sub.add_adjoint(v, rev.adjoint(r))
            sub.reverse_block(region.block)
        block.add_op(scf.YieldOp(*[sub.adjoint_or_zero(f) for f in frees]))
        regions.append(Region(block))
    new = rev.builder.insert(scf.IfOp(rev.primal(op.cond), [f.type for f in frees], regions[0], regions[1]))
    if tape.outer is None:  # in a loop or branch, the outermost op's reverse frees them
        for c in tape.buffers():
            rev.builder.insert(DeallocOp.get(c))
    for f, res in zip(frees, new.results):
        rev.add_adjoint(f, res)


@dataclass
class _WhileTape:
    count: SSAValue
    """N, the number of times the ``after`` region ran (the ``before`` region ran N + 1):
    of the run itself for an outermost while; the largest over the runs for a nested
    one, which reads each run's from ``trips``."""
    before: _LoopCache
    """The ``before`` region's arguments and kept values, N + 1 entries."""
    after: _LoopCache
    """The ``after`` region's kept values, N entries (its arguments are recomputed by
    the ``before`` region of the same iteration)."""
    trips: SSAValue | None = None
    """A nested while: the trip count of each run, indexed by the enclosing iterations
    (and a last dimension of 1)."""

    def buffers(self) -> list[SSAValue]:
        return [*self.before.buffers(), *self.after.buffers(), *([self.trips] if self.trips is not None else [])]


_Tape = _LoopCache | _WhileTape


def _augment_while(top: ReverseSweep, fwd: ReverseSweep, op: scf.WhileOp, outer: Outer, counts: Counts) -> _WhileTape:
    """The loop in ``fwd``'s block, storing the ``before`` region's arguments and every
    region's loads and nested loops' results into caches indexed by iteration (after
    the enclosing iterations ``outer``), allocated in ``top``'s block and sized by the
    longest run the dry run counted (``counts``). A nested while also stores the trip
    count of its run."""
    before, after = op.before_region.block, op.after_region.block
    (loads_b, loops_b), (loads_a, loops_a) = _memory_body(op, before), _memory_body(op, after)
    kept_b = _kept(before, loads_b, loops_b)
    kept_a = _kept(after, loads_a, loops_a)
    for v in [*before.args, *after.args, *kept_b, *kept_a]:
        if not _scalar(v.type):
            raise DiffError(f"reverse mode of {_where(op)}: the loop over memory carries or loads {v.type}; only scalars are cached yet")
    if op not in counts:
        raise DiffError(f"internal error: reverse mode of {_where(op)}: no dry run counted the trips of this loop")
    alloc = top.builder
    index = IndexType()
    count = counts[op]
    count1 = alloc.add(count, alloc.constant(1, index))
    dims_o: list[Dim] = [(s, c) for s, c, _ in outer]
    ks = [k for _, _, k in outer]
    carried = [_cache(alloc, a.type, [*dims_o, (None, count1)]) for a in before.args]
    values_b = {v: _cache(alloc, v.type, [*dims_o, (None, count1)]) for v in kept_b}
    values_a = {v: _cache(alloc, v.type, [*dims_o, (None, count)]) for v in kept_a}
    b = fwd.builder

    def record(block: Block, args: Sequence[SSAValue], new: Block, values: dict[SSAValue, SSAValue], nested: Sequence[Operation], size: SSAValue) -> tuple[ReverseSweep, _LoopCache]:
        fb = Builder(new, b.location)
        sub = fwd.child(fb)
        k = new.args[-1]
        for a, v in zip(block.args, args):
            sub.primals[a] = v
        cache = _LoopCache(size, [], values, {}, {})
        for o in body_ops(block):
            fb.location = o.location
            _augment_nested(top, sub, o, nested, [*outer, (None, size, k)], [*ks, k], cache, counts)
        return sub, cache

    bblock = Block(arg_types=[*(a.type for a in before.args), index])
    for a, c in zip(bblock.args, carried):
        _store(Builder(bblock, b.location), a, c, [*ks, bblock.args[-1]])
    sub, cache_b = record(before, bblock.args[:-1], bblock, values_b, loops_b, count1)
    cond = terminator(before)
    assert isinstance(cond, scf.ConditionOp)
    bblock.add_op(scf.ConditionOp(sub.primal(cond.condition), *[sub.primal(v) for v in cond.args], bblock.args[-1]))
    ablock = Block(arg_types=[*(a.type for a in after.args), index])
    sub, cache_a = record(after, ablock.args[:-1], ablock, values_a, loops_a, count)
    ab = Builder(ablock, b.location)
    nxt = ab.add(ablock.args[-1], ab.constant(1, index))
    ablock.add_op(scf.YieldOp(*[sub.primal(v) for v in terminator(after).operands], nxt))
    inits = [fwd.primal(v) for v in op.arguments]
    new = b.insert(scf.WhileOp([*inits, b.constant(0, index)], [*(r.type for r in op.res), index], Region(bblock), Region(ablock)))
    for r, res in zip(op.res, new.res):
        fwd.primals[r] = res
    cache_b.carried = carried
    if top is fwd:
        return _WhileTape(new.res[-1], cache_b, cache_a)
    trips = _cache(alloc, index, [*dims_o, (1, _index(alloc, 1))])
    _store(b, new.res[-1], trips, [*ks, _index(b, 0)])
    return _WhileTape(count, cache_b, cache_a, trips)


@memory_augment(scf.WhileOp)
def while_augment(rev: ReverseSweep, op: scf.WhileOp) -> None:
    if _inert(rev, op):
        rev.clone(op)
        rev.tapes[op] = None  # type: ignore[assignment]
        return
    rev.tapes[op] = _augment_while(rev, rev, op, [], _dry_run(rev, op, _counted(op)))  # type: ignore[assignment]


@memory_reverse(scf.WhileOp)
def while_reverse(rev: ReverseSweep, op: scf.WhileOp) -> None:
    """The reverse of the last ``before`` (whose forwarded values are the loop's
    results), then an scf.for over j = 0..N-1 reversing iteration k = N-1-j: ``before``
    and ``after`` recomputed from iteration k's caches, the reverse of ``after``, its
    arguments' cotangents into the forwarded values, the reverse of ``before``. Nested
    in a loop or branch, the caches are indexed by the enclosing iterations first and N
    is this run's."""
    tape = rev.tapes[op]
    if tape is None:
        return
    outer: list[SSAValue] = []
    scoped = isinstance(tape, _Scoped)
    if isinstance(tape, _Scoped):
        tape, outer = tape.cache, tape.outer
    assert isinstance(tape, _WhileTape)
    before, after = op.before_region.block, op.after_region.block
    cond = terminator(before)
    assert isinstance(cond, scf.ConditionOp)
    b = rev.builder
    index = IndexType()
    count = tape.count if tape.trips is None else _load(b, tape.trips, [*outer, _index(b, 0)])
    act = [i for i, a in enumerate(before.args) if rev.is_active(a)]
    frees = [f for f in free_values(op) if rev.is_active(f)]

    def run_before(sub: ReverseSweep, at: list[SSAValue]) -> None:
        for a, c in zip(before.args, tape.before.carried):
            sub.primals[a] = _load(sub.builder, c, at)
        loaded = {v: _load(sub.builder, c, at) for v, c in tape.before.values.items()}
        _recompute(sub, before, loaded, tape.before.skipped())
        tape.before.scope(sub, at, loaded)

    last = rev.child(b)
    run_before(last, [*outer, count])
    for r, v in zip(op.res, cond.args):
        last.add_adjoint(v, rev.adjoint(r))
    last.reverse_block(before)
    carry = [last.adjoint_or_zero(before.args[i]) for i in act] + [last.adjoint_or_zero(f) for f in frees]

    block = Block(arg_types=[index, *[v.type for v in carry]])
    rb = Builder(block, b.location)
    k = rb.sub(rb.sub(count, rb.constant(1, index)), block.args[0])
    at = [*outer, k]
    sub = rev.child(rb)
    run_before(sub, at)
    for a, v in zip(after.args, cond.args):
        sub.primals[a] = sub.primal(v)
    loaded = {v: _load(rb, c, at) for v, c in tape.after.values.items()}
    _recompute(sub, after, loaded, tape.after.skipped())
    tape.after.scope(sub, at, loaded)
    yld = terminator(after)
    for i, ct in zip(act, block.args[1:]):
        sub.add_adjoint(yld.operands[i], ct)
    sub.reverse_block(after)
    for a, v in zip(after.args, cond.args):
        sub.add_adjoint(v, sub.adjoint(a))
    sub.reverse_block(before)
    outs = [sub.adjoint_or_zero(before.args[i]) for i in act]
    for f, acc in zip(frees, block.args[1 + len(act) :]):
        ct = sub.adjoints.get(f)
        outs.append(acc if ct is None else rb.add(acc, ct))
    block.add_op(scf.YieldOp(*outs))
    new = b.insert(scf.ForOp(b.constant(0, index), count, b.constant(1, index), carry, Region(block)))
    if not scoped:  # a nested while's caches are freed by the enclosing op's reverse
        for c in tape.buffers():
            b.insert(DeallocOp.get(c))
    for i, ct in zip(act, new.results):
        rev.add_adjoint(op.arguments[i], ct)
    for f, ct in zip(frees, new.results[len(act) :]):
        rev.add_adjoint(f, ct)


for _cls in REGION_OPS:
    if _cls not in MEMORY:
        memory_augment(_cls)(refuse_region)


__all__ = ["MEMORY", "MemoryActivity", "MEMORY_OPS", "REGION_OPS", "uses_memory", "fill_zero", "for_each_element", "refuse_region"]


# ============================================================================ calls over memory


MAX_INLINED_CALLS = 64


def inline_memory_calls(module, fn: func.FuncOp) -> func.FuncOp:
    """A copy of ``fn`` in which every func.call that passes a memref is replaced by the
    callee's body (repeatedly, for calls in the inlined bodies): the shadows then follow
    the buffers through the callee, in both modes, and the reverse never runs a callee's
    primal again on memory that has changed since the call. A declaration, a callee with
    more than one block or a recursion (more than ``MAX_INLINED_CALLS`` inlinings) is
    refused."""
    from xdsl.rewriter import Rewriter

    funcs = {op.sym_name.data: op for op in module.ops if isinstance(op, func.FuncOp)}
    copy = fn.clone()
    for _ in range(MAX_INLINED_CALLS + 1):
        call = next((op for op in copy.walk() if isinstance(op, func.CallOp) and any(is_memref(v.type) for v in op.operands)), None)
        if call is None:
            return copy
        callee = funcs.get(call.callee.root_reference.data)
        if callee is None or not callee.body.blocks:
            raise DiffError(f"{_where(call)} passes a memref to @{call.callee.root_reference.data}, which has no body to differentiate")
        if len(callee.body.blocks) != 1:
            raise DiffError(f"{_where(call)} passes a memref to @{callee.sym_name.data}, whose body has more than one block")
        body = callee.body.blocks.first
        mapping: dict[SSAValue, SSAValue] = dict(zip(body.args, call.operands))
        for op in body_ops(body):
            new = op.clone(value_mapper=mapping)
            Rewriter.insert_op(new, InsertPoint.before(call))
            mapping.update(zip(op.results, new.results))
        for r, v in zip(call.results, terminator(body).operands):
            r.replace_all_uses_with(mapping.get(v, v))
        Rewriter.erase_op(call)
    raise DiffError(f"@{fn.sym_name.data}: more than {MAX_INLINED_CALLS} calls passing memrefs to inline (a recursion?); not supported")
