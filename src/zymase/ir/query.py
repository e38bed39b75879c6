"""Questions about IR that the importer, the optimizer, the AD engine and the emitter all
ask: where an op comes from, a value's shape, a block's ops and terminator, the values a
region op captures, and what a two-argument combiner region computes.

Only xDSL is imported here (no jax), so any part of zymase may use it.
"""

from __future__ import annotations

from xdsl.dialects.builtin import FileLineColLoc, TensorType
from xdsl.ir import Attribute, Block, BlockArgument, Operation, OpResult, Region, SSAValue
from xdsl.traits import Commutative, IsTerminator, Pure, RecursiveMemoryEffect

from .dense import dense_to_numpy

# ============================================================================ locations


def describe_loc(loc: Attribute | None) -> str:
    """``file.py:12:3`` for a file location, else 'unknown location'."""
    if isinstance(loc, FileLineColLoc):
        return f"{loc.filename.data}:{loc.line.data}:{loc.column.data}"
    return "unknown location"


def describe_location(op: Operation) -> str:
    """A short source location of ``op`` for error messages: ``file.py:12:3`` or 'unknown location'."""
    return describe_loc(op.location)


# ============================================================================ types


_VALUE_CLASSES = (OpResult, BlockArgument)
"""The SSA values met almost always: checked by class first (``isinstance`` of the abstract
SSAValue goes through its ABC's check, and these helpers run tens of thousands of times
per compilation)."""


def _type_of(v: SSAValue | Attribute) -> Attribute:
    return v.type if type(v) in _VALUE_CLASSES or isinstance(v, SSAValue) else v  # type: ignore[union-attr]


def shape(v: SSAValue | Attribute) -> tuple[int, ...]:
    """The shape of a tensor value or type; ``()`` for anything else (scalars)."""
    t = _type_of(v)
    return tuple(t.get_shape()) if isinstance(t, TensorType) else ()


def element_type(v: SSAValue | Attribute) -> Attribute:
    """The element type of a tensor value or type; a scalar type is its own."""
    t = _type_of(v)
    return t.get_element_type() if isinstance(t, TensorType) else t


def padding_pairs(op: Operation, rank: int) -> list[tuple[int, int]]:
    """The (low, high) padding of each of ``rank`` dimensions of an op with an optional
    ``padding`` property (convolution, reduce_window, select_and_scatter); zeros when absent."""
    padding = op.padding  # type: ignore[attr-defined]
    if padding is None:
        return [(0, 0)] * rank
    return [(int(lo), int(hi)) for lo, hi in dense_to_numpy(padding).reshape(rank, 2)]


# ============================================================================ blocks and regions


def body_ops(block: Block) -> list[Operation]:
    """The ops of a block without its terminator."""
    ops = list(block.ops)
    if ops and ops[-1].has_trait(IsTerminator):
        ops.pop()
    return ops


def terminator(block: Block) -> Operation:
    """The last op of a block, which must be a terminator."""
    last = block.last_op
    assert last is not None and last.has_trait(IsTerminator), f"block does not end in a terminator: {last}"
    return last


def free_values(op: Operation) -> list[SSAValue]:
    """Values used inside ``op``'s regions but defined outside ``op`` (captures), once
    each, in order of first use. ``op``'s own operands are not included."""
    if not op.regions:
        return []
    inside: set[SSAValue] = set()
    for inner in op.walk():
        for region in inner.regions:
            for block in region.blocks:
                inside.update(block.args)
        if inner is not op:
            inside.update(inner.results)
    used: list[SSAValue] = []
    seen: set[SSAValue] = set()
    for inner in op.walk():
        if inner is op:
            continue
        for v in inner.operands:
            if v not in inside and v not in seen:
                seen.add(v)
                used.append(v)
    return used


def used_values(op: Operation) -> list[SSAValue]:
    """Every value ``op`` reads that is defined outside it: its operands, then its captures."""
    return list(op.operands) + free_values(op)


# ============================================================================ combiner regions


def region_combiner(region: Region) -> type[Operation] | str | None:
    """What a two-argument combiner region ``^bb(a, b)`` (of reduce, reduce_window,
    scatter, select_and_scatter) computes: the op class ``k`` when it is
    ``return k(a, b)`` (or ``k(b, a)`` for a commutative ``k``), ``'replace'`` when it is
    ``return b``, else None."""
    if len(region.blocks) != 1:
        return None
    block = region.block
    if len(block.args) != 2:
        return None
    a, b = block.args
    ops = list(block.ops)
    if not ops or not ops[-1].has_trait(IsTerminator) or len(ops[-1].operands) != 1:
        return None
    ret = ops[-1].operands[0]
    if len(ops) == 1:
        return "replace" if ret is b else None
    if len(ops) != 2:
        return None
    inner = ops[0]
    if inner.regions or len(inner.results) != 1 or ret is not inner.results[0]:
        return None
    operands = tuple(inner.operands)
    if operands == (a, b) or (operands == (b, a) and inner.has_trait(Commutative)):
        return type(inner)
    return None


def is_pure(op: Operation) -> bool:
    """Free of side effects, including every op nested in its regions."""
    for o in op.walk():
        if o.has_trait(Pure):
            continue
        if o.regions and o.has_trait(RecursiveMemoryEffect):
            continue
        return False
    return True
