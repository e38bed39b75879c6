"""The clean-up passes ``cse`` and ``dce``: xDSL's common-subexpression and dead-code
elimination, with the same results, made cheaper for the modules AD produces (thousands
of ops, a reduce body per reduction).

``dce``: xDSL's liveness analysis (to a fixpoint over nested regions, then erasure) asks
for each op, on every round, whether it would be dead were its results unused: a walk over
its traits and memory effects. Here the answer is computed once per op, and once per op
class for ops without regions whose only memory-effect trait is ``NoMemoryEffect`` (Pure);
and the round that only confirms the fixpoint (xDSL always runs one) is skipped when no
op became live after one of its producers was found dead (``region_dce``).

``cse``: xDSL's driver hashes an op's name, attributes, properties, operand and result
types each time it looks the op up (twice per op, more on a hit) and copies the table of
known ops at each nested region (a reduce body copies every op of the function seen so
far). Here an op is hashed once per look-up, by its name and operands (equality still
compares everything xDSL compares), and nested regions stack a new table on the
enclosing ones instead of copying them; for a pure op without regions, whether it is a
terminator, trivially dead or free of side effects is asked once per class. Which ops are
merged and which are erased is decided exactly as xDSL decides it
(``tests/test_opt_cleanup.py`` compares both passes with xDSL's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, UnregisteredOp
from xdsl.ir import Operation, Region
from xdsl.irdl import IRDLOperation
from xdsl.passes import ModulePass
from xdsl.traits import IsolatedFromAbove, IsTerminator, MemoryEffect, NoMemoryEffect, is_side_effect_free
from xdsl.transforms.common_subexpression_elimination import CSEDriver
from xdsl.transforms.dead_code_elimination import LiveSet, would_be_trivially_dead

# ============================================================================ dce

_PURE_CLASS: dict[type, bool] = {}
"""Op class -> its memory-effect traits are exactly NoMemoryEffect (its effects are none,
whatever the op's attributes)."""


def _pure_class(op: Operation) -> bool:
    cls = type(op)
    got = _PURE_CLASS.get(cls)
    if got is None:
        effects = op.get_traits_of_type(MemoryEffect) if isinstance(op, IRDLOperation) else ()
        got = _PURE_CLASS[cls] = bool(effects) and all(isinstance(t, NoMemoryEffect) for t in effects)
    return got


_DEAD_IF_UNUSED: dict[type, bool] = {}
"""Op class (without regions, pure) -> ``would_be_trivially_dead`` of its ops."""


def dead_if_unused(op: Operation) -> bool:
    """xDSL's ``would_be_trivially_dead(op)``, answered once per class for pure ops
    without regions (then it depends on the class's traits only)."""
    if op.regions or not _pure_class(op):
        return would_be_trivially_dead(op)
    cls = type(op)
    got = _DEAD_IF_UNUSED.get(cls)
    if got is None:
        got = _DEAD_IF_UNUSED[cls] = would_be_trivially_dead(op)
    return got


def side_effect_free(op: Operation) -> bool:
    """xDSL's ``is_side_effect_free(op)``, answered once per class for pure ops without regions."""
    if not op.regions and _pure_class(op):
        return True
    return is_side_effect_free(op)


@dataclass
class _LiveSet(LiveSet):
    """xDSL's liveness, with ``dead_if_unused`` asked once per op, and a round repeated
    only when it can change something: when an op found dead in the round has a live user
    (``late``)."""

    _dead_if_unused: dict[Operation, bool] = field(default_factory=dict)
    found_dead: list[Operation] = field(default_factory=list)
    """The ops found not live in this round."""

    def propagate_op_liveness(self, op: Operation) -> None:
        for region in op.regions:
            self.propagate_region_liveness(region)
        live = self._live_ops
        if op in live:
            return
        removable = self._dead_if_unused.get(op)
        if removable is None:
            removable = self._dead_if_unused[op] = dead_if_unused(op)
        if not removable or any(use.operation in live for r in op.results for use in r.uses):
            self.set_live(op)
        else:
            self.found_dead.append(op)

    def late(self) -> bool:
        """An op found dead in this round has a live user: the user became live after the
        op was visited, and another round may make the op live."""
        live = self._live_ops
        return any(use.operation in live for op in self.found_dead for r in op.results for use in r.uses)


def region_dce(region: Region) -> bool:
    """Erase the dead ops (and blocks) of ``region``; whether anything was erased.

    xDSL repeats its liveness round until a round marks nothing new, so a module takes at
    least two. An op's liveness depends only on its users', and an op found dead in a round
    stays dead in the next unless one of its users became live after it was visited (ops
    are visited users first, so only across blocks, loops or regions); when no op found
    dead has a live user at the end of a round, the next round would change nothing and
    is skipped. The live ops, and so what is erased, are the same."""
    live = _LiveSet()
    live.propagate_region_liveness(region)
    while live.late():
        live.found_dead = []
        live.propagate_region_liveness(region)
    live.changed = False
    live.delete_dead(region, None)
    return live.changed


@dataclass(frozen=True)
class DeadCodeElimination(ModulePass):
    """Removes ops whose results are unused and that have no other effect (xDSL's ``dce``)."""

    name: ClassVar[str] = "dce"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        region_dce(op.body)


# ============================================================================ cse


class _Key:
    """An op as a key of the known-ops table: equal to another op's key when xDSL's CSE
    would call the two ops equal (name, attributes, properties, operands, result types,
    structurally equivalent regions). The hash leaves out the result types (equal ops
    have equal ones, and ops with the same name, operands and properties almost always
    do), whose hashing is a third of the cost of xDSL's, and takes the operands by identity."""

    __slots__ = ("op", "name", "hash")

    def __init__(self, op: Operation):
        self.op = op
        self.name = op.op_name.data if isinstance(op, UnregisteredOp) else op.name
        operands = tuple(map(id, op._operands))  # pyright: ignore[reportPrivateUsage]  (op.operands, without its view)
        attributes = sum(hash(i) for i in op.attributes.items()) if op.attributes else 0
        self.hash = hash((self.name, attributes, sum(hash(i) for i in op.properties.items()), operands))

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Key):
            return False
        a, b = self.op, other.op
        return (
            self.hash == other.hash
            and self.name == other.name
            and a.operands == b.operands
            and a.attributes == b.attributes
            and a.properties == b.properties
            and a.result_types == b.result_types
            and all(s.is_structurally_equivalent(o) for s, o in zip(a.regions, b.regions, strict=True))
        )


class _ScopedOps:
    """The known ops of the current scope: a stack of tables, the innermost last (the
    interface of xDSL's ``KnownOps`` that its CSE driver uses). An op is hashed when it is
    looked up; the op just looked up is added with that key (nothing changes in between).
    The ops in the tables never change: a merge rewires the uses of the merged op only
    when none of its users is known."""

    def __init__(self, outer: _ScopedOps | None = None):
        self.tables: list[dict[_Key, Operation]] = [*(outer.tables if outer is not None else ()), {}]
        self._last: _Key | None = None

    def _lookup(self, key: _Key) -> Operation | None:
        for table in reversed(self.tables):
            got = table.get(key)
            if got is not None:
                return got
        return None

    def get(self, op: Operation, default: Any = None) -> Any:
        key = self._last = _Key(op)
        got = self._lookup(key)
        return default if got is None else got

    def __getitem__(self, op: Operation) -> Operation:
        got = self._lookup(_Key(op))
        if got is None:
            raise KeyError(op)
        return got

    def __setitem__(self, op: Operation, value: Operation) -> None:
        key = self._last if self._last is not None and self._last.op is op else _Key(op)
        self._last = None
        self.tables[-1][key] = value

    def __contains__(self, op: Operation) -> bool:
        return self._lookup(_Key(op)) is not None


_TERMINATOR_CLASS: dict[type, bool] = {}
"""Op class -> it has the IsTerminator trait."""


@dataclass
class _CSEDriver(CSEDriver):
    """xDSL's CSE driver over ``_ScopedOps``; for a pure op without regions, the questions
    xDSL asks of each op (terminator? trivially dead? free of side effects?) are answered
    once per class (``dead_if_unused``, ``side_effect_free``)."""

    def __post_init__(self) -> None:
        self._known_ops = _ScopedOps()  # type: ignore[assignment]

    def _simplify_operation(self, op: Operation) -> None:
        if op.regions or not _pure_class(op):
            return super()._simplify_operation(op)
        cls = type(op)
        terminator = _TERMINATOR_CLASS.get(cls)
        if terminator is None:
            terminator = _TERMINATOR_CLASS[cls] = op.has_trait(IsTerminator)
        if terminator:
            return None
        if all(r.first_use is None for r in op.results) and dead_if_unused(op):
            self._mark_erasure(op)
            return None
        existing = self._known_ops.get(op)  # side-effect free: a candidate
        if existing:
            self._replace_and_delete(op, existing)
            return None
        self._known_ops[op] = op
        return None

    def _simplify_block(self, block: Any) -> None:
        for op in block.ops:
            if op.regions:
                if op.has_trait(IsolatedFromAbove, value_if_unregistered=True):  # a blank slate inside
                    outer = self._known_ops
                    self._known_ops = _ScopedOps()  # type: ignore[assignment]
                    for region in op.regions:
                        self._simplify_region(region)
                    self._known_ops = outer
                else:
                    for region in op.regions:
                        self._simplify_region(region)
            self._simplify_operation(op)

    def _simplify_region(self, region: Region) -> None:
        if len(region.blocks) != 1:
            return
        outer = self._known_ops
        self._known_ops = _ScopedOps(outer)  # type: ignore[arg-type, assignment]
        self._simplify_block(region.block)
        self._known_ops = outer


def cse(op: Operation) -> None:
    _CSEDriver().simplify(op)


@dataclass(frozen=True)
class CommonSubexpressionElimination(ModulePass):
    """Merges equal side-effect-free ops (xDSL's ``cse``)."""

    name: ClassVar[str] = "cse"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        cse(op)
