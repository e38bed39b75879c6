"""The cf dialect (xDSL's: ``cf.br``, ``cf.cond_br``, ``cf.switch``, ``cf.assert``) and
``structure_control_flow``, which rewrites every region with more than one block into
one block of structured ops before zymase runs or differentiates a module
(``ir/lower.py``); single-block ``scf.execute_region`` ops are inlined on the way.

The rewrite walks the control-flow graph from the entry block: ``cf.br`` continues with
the target block's ops, ``cf.cond_br`` becomes an ``scf.if``, ``cf.switch`` a chain of
them. When the branches meet again (the branch block's immediate post-dominator in the
acyclic part of the graph being built), each branch of the ``scf.if`` ends there and
yields the join's block arguments, and the walk goes on once at the join (values defined
inside the branches cannot be used past the join: they do not dominate it). When they
do not meet (one side returns or leaves the loop), each branch continues its path to its
end, copying the blocks the paths share (tail duplication); a block without successors
(``func.return``, ``scf.yield``) ends a path, and the region's new terminator returns
what the ``scf.if`` ops yield. A loop
(a header block dominating the source of an edge into it; the CFG must be reducible,
an irreducible one is refused) becomes an ``scf.while`` whose ``before`` region holds
one iteration: its arguments are the header's block arguments, each path through the
loop yields either ``true`` and the header's next arguments (the edge back to the
header) or ``false``, the number of the exit taken and the values that leave the loop
(the exit block's arguments and the loop's values used after it; slots an exit does not
fill hold zeros). After the loop the exits are continued the same way. Every value is
computed as before, so derivatives of the structured form are exact; copies of shared
blocks are bounded (a graph whose paths would grow the function past ``MAX_OPS``
copies is refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, FloatAttr, IndexType, IntegerAttr, IntegerType, TensorType, i1, i32
from xdsl.dialects.cf import AssertOp, BranchOp, Cf, ConditionalBranchOp, SwitchOp
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.traits import IsTerminator

from ..errors import MlirError
from .query import describe_location

MAX_OPS = 20000
"""The most ops the copies of one region may hold."""


class ControlFlowError(MlirError, ValueError):
    """A control-flow graph zymase cannot structure (one line)."""


@dataclass
class _Loop:
    header: Block
    blocks: set[Block]
    exits: list[Block] = field(default_factory=list)
    liveouts: list[SSAValue] = field(default_factory=list)


@dataclass
class _Ctx:
    loop: _Loop | None
    exit_types: list[Attribute]
    header_args: list[SSAValue] = field(default_factory=list)
    payload_types: list[Attribute] = field(default_factory=list)
    exit_slots: dict[Block, int] = field(default_factory=dict)  # exit -> first payload slot
    stop: Block | None = None  # a join the current branch ends at (its arguments are yielded)


def _successors(block: Block) -> list[Block]:
    term = block.last_op
    return list(term.successors) if term is not None else []


def _where(op: Operation) -> str:
    loc = describe_location(op)
    return f" at {loc}" if loc else ""


def _owner_name(region: Region) -> str:
    op = region.parent_op()
    name = getattr(op, "sym_name", None)
    return f"@{name.data}" if name is not None else f"'{op.name}'" if op is not None else "a region"


class _Structurer:
    def __init__(self, region: Region):
        self.region = region
        self.owner = _owner_name(region)
        self.blocks = list(region.blocks)
        self.entry = self.blocks[0]
        self.budget = MAX_OPS
        for b in self.blocks:
            term = b.last_op
            if term is not None and term.successors and not isinstance(term, (BranchOp, ConditionalBranchOp, SwitchOp)):
                raise ControlFlowError(f"'{term.name}'{_where(term)} in {self.owner}: zymase structures only cf.br, cf.cond_br and cf.switch between blocks")
        self._analyse()

    # ------------------------------------------------------------------ analysis

    def _analyse(self) -> None:
        order: list[Block] = []  # reverse post-order from the entry
        seen: set[Block] = set()
        on_stack: set[Block] = set()
        retreating: list[tuple[Block, Block]] = []
        stack = [(self.entry, iter(_successors(self.entry)))]
        seen.add(self.entry)
        on_stack.add(self.entry)
        while stack:
            b, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                on_stack.discard(b)
                order.append(b)
                continue
            if nxt in on_stack:
                retreating.append((b, nxt))
            elif nxt not in seen:
                seen.add(nxt)
                on_stack.add(nxt)
                stack.append((nxt, iter(_successors(nxt))))
        order.reverse()
        self.reachable = seen
        preds: dict[Block, list[Block]] = {b: [] for b in seen}
        for b in seen:
            for s in _successors(b):
                preds[s].append(b)
        # dominators (iterative, over the reachable blocks)
        dom: dict[Block, set[Block]] = {b: set(seen) for b in seen}
        dom[self.entry] = {self.entry}
        changed = True
        while changed:
            changed = False
            for b in order[1:]:
                new = set.intersection(*(dom[p] for p in preds[b])) | {b}
                if new != dom[b]:
                    dom[b], changed = new, True
        self.loops: dict[Block, _Loop] = {}
        for src, hdr in retreating:
            if hdr not in dom[src]:
                term = src.last_op
                raise ControlFlowError(f"irreducible control flow in {self.owner}: the branch{_where(term)} enters a loop at a block that does not dominate it; zymase structures reducible control flow only")
            loop = self.loops.setdefault(hdr, _Loop(hdr, {hdr}))
            work = [src]
            while work:
                b = work.pop()
                if b not in loop.blocks:
                    loop.blocks.add(b)
                    work.extend(preds[b])
        position = {b: i for i, b in enumerate(self.blocks)}
        for loop in self.loops.values():
            loop.exits = sorted({s for b in loop.blocks for s in _successors(b) if s not in loop.blocks}, key=position.__getitem__)
            defined = [v for b in sorted(loop.blocks, key=position.__getitem__) for v in (*b.args, *(r for op in b.ops for r in op.results))]
            loop.liveouts = [v for v in defined if any(self._top_block(u.operation) not in loop.blocks for u in v.uses)]

    def _top_block(self, op: Operation) -> Block | None:
        """The block of this region that holds ``op`` (directly or nested)."""
        while op is not None:
            block = op.parent_block()
            if block is None:
                return None
            if block.parent is self.region:
                return block
            op = block.parent_op()
        return None

    # ------------------------------------------------------------------ building

    def run(self, template: Operation) -> Block:
        self.template = template
        new = Block(arg_types=[a.type for a in self.entry.args])
        for a, b in zip(self.entry.args, new.args):
            b.name_hint = a.name_hint
        env = dict(zip(self.entry.args, new.args))
        ctx = _Ctx(None, [o.type for o in template.operands])
        vals = self._block(self.entry, list(new.args), env, ctx, new)
        end = template.clone()
        end.operands = vals
        new.add_op(end)
        return new

    def _add(self, out: Block, op: Operation) -> Operation:
        self.budget -= 1
        if self.budget < 0:
            raise ControlFlowError(f"the control flow of {self.owner} has too many paths: structuring it would copy more than {MAX_OPS} ops")
        out.add_op(op)
        return op

    def _zero(self, t: Attribute, out: Block) -> SSAValue:
        if isinstance(t, (IntegerType, IndexType)):
            return self._add(out, arith.ConstantOp(IntegerAttr(0, t))).results[0]
        if isinstance(t, TensorType) and isinstance(t.element_type, (IntegerType, IndexType)):
            return self._add(out, arith.ConstantOp(DenseIntOrFPElementsAttr.from_list(t, [0]))).results[0]
        from .dense import is_float_type

        if is_float_type(t):
            return self._add(out, arith.ConstantOp(FloatAttr(0.0, t))).results[0]
        if isinstance(t, TensorType) and is_float_type(t.element_type):
            return self._add(out, arith.ConstantOp(DenseIntOrFPElementsAttr.from_list(t, [0.0]))).results[0]
        from .ub import PoisonOp

        return self._add(out, PoisonOp(t)).results[0]

    def _block(self, block: Block, args: list[SSAValue], env: dict, ctx: _Ctx, out: Block) -> list[SSAValue]:
        env = dict(env)
        env.update(zip(block.args, args))
        dead_end = block.last_op is not None and block.last_op.name == "llvm.unreachable"
        for op in block.ops:
            if op is block.last_op and op.has_trait(IsTerminator):
                break
            if isinstance(op, AssertOp) or (dead_end and op.name == "llvm.intr.trap"):
                continue  # checks and traps, no values: run as nothing (zymase has no traps)
            self._add(out, op.clone(value_mapper=env))
        term = block.last_op
        get = lambda v: env.get(v, v)  # noqa: E731
        if isinstance(term, BranchOp):
            return self._edge(term.successor, [get(v) for v in term.arguments], env, ctx, out)
        if isinstance(term, ConditionalBranchOp):
            cond = get(term.cond)
            edges = [(term.then_block, [get(v) for v in term.then_arguments]), (term.else_block, [get(v) for v in term.else_arguments])]
            return self._branch(block, [cond], edges, env, ctx, out)
        if isinstance(term, SwitchOp):
            flag = get(term.flag)
            values = [int(v) for v in term.case_values.get_values()] if term.case_values is not None else []
            conds = []
            for v in values:
                c = self._add(out, arith.ConstantOp(IntegerAttr(v, flag.type))).results[0]
                conds.append(self._add(out, arith.CmpiOp(flag, c, "eq")).results[0])
            edges = [(b, [get(v) for v in ops]) for b, ops in zip(term.case_blocks, term.case_operand)]
            edges.append((term.default_block, [get(v) for v in term.default_operands]))
            return self._branch(block, conds, edges, env, ctx, out)
        # a block without successors ends the path
        if term is not None and term.name == self.template.name and ctx.loop is None:
            return [get(v) for v in term.operands]
        return [self._zero(t, out) for t in ctx.exit_types]  # llvm.unreachable and the like

    def _local_successors(self, b: Block, ctx: _Ctx) -> list[Block | None]:
        """Successors of ``b`` within the part of the graph the current context lowers:
        None (the end) for a return, the back edge and the exits of the loop being built;
        a nested loop's header stands for the whole loop (its successors: the exits)."""
        loop = ctx.loop
        inner = self.loops.get(b)
        succ = inner.exits if inner is not None and inner is not loop else _successors(b)
        out: list[Block | None] = []
        for t in succ:
            out.append(None if loop is not None and (t is loop.header or t not in loop.blocks) else t)
        return out or [None]

    def _join(self, block: Block, ctx: _Ctx) -> Block | None:
        """The immediate post-dominator of ``block`` in the context's acyclic part of the
        graph: where all its branches meet again (None: they only meet at the end)."""
        order: list[Block] = []  # post-order of the blocks reachable from block's successors
        seen: set[Block] = set()
        for first in self._local_successors(block, ctx):
            if first is None or first in seen:
                continue
            seen.add(first)
            stack = [(first, iter(self._local_successors(first, ctx)))]
            while stack:
                n, it = stack[-1]
                nxt = next(it, False)
                if nxt is False:
                    stack.pop()
                    order.append(n)
                elif nxt is not None and nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, iter(self._local_successors(nxt, ctx))))
        end = frozenset([None])
        pdom: dict[Block, frozenset] = {}
        for n in order:
            succ = self._local_successors(n, ctx)
            if any(t is not None and t not in pdom for t in succ):
                return None  # not acyclic after all: do not join
            pdom[n] = frozenset.intersection(*(pdom[t] if t is not None else end for t in succ)) | {n}
        firsts = [pdom[t] if t is not None else end for t in self._local_successors(block, ctx)]
        common = frozenset.intersection(*firsts) - {None}
        if not common:
            return None
        return max(common, key=lambda n: len(pdom[n]))

    def _branch(self, block: Block, conds: list[SSAValue], edges: list[tuple[Block, list[SSAValue]]], env: dict, ctx: _Ctx, out: Block) -> list[SSAValue]:
        """A conditional branch: when its paths meet again at a join, an scf.if that yields
        the join's arguments, and the lowering goes on at the join once; otherwise each
        path is continued to its end inside the scf.if."""
        join = self._join(block, ctx)
        if join is None or join is ctx.stop:
            return self._choose(conds, edges, env, ctx, out)
        inner = _Ctx(ctx.loop, [a.type for a in join.args], ctx.header_args, ctx.payload_types, ctx.exit_slots, stop=join)
        args = self._choose(conds, edges, env, inner, out)
        return self._edge(join, args, env, ctx, out)

    def _choose(self, conds: list[SSAValue], edges: list[tuple[Block, list[SSAValue]]], env: dict, ctx: _Ctx, out: Block) -> list[SSAValue]:
        """The path of the first true condition (the last edge when none is)."""
        if not conds:
            return self._edge(*edges[0], env, ctx, out)
        then_b, else_b = Block(), Block()
        then_vals = self._edge(*edges[0], env, ctx, then_b)
        self._add(then_b, scf.YieldOp(*then_vals))
        else_vals = self._choose(conds[1:], edges[1:], env, ctx, else_b)
        self._add(else_b, scf.YieldOp(*else_vals))
        op = self._add(out, scf.IfOp(conds[0], list(ctx.exit_types), Region(then_b), Region(else_b)))
        return list(op.results)

    def _edge(self, target: Block, args: list[SSAValue], env: dict, ctx: _Ctx, out: Block) -> list[SSAValue]:
        if target is ctx.stop:  # the join of the branch being built: yield its arguments
            return list(args)
        loop = ctx.loop
        if loop is not None and target is loop.header:
            true = self._add(out, arith.ConstantOp(IntegerAttr(1, i1))).results[0]
            which = [self._zero(i32, out)] if len(loop.exits) > 1 else []
            return [true, *args, *which, *(self._zero(t, out) for t in ctx.payload_types)]
        if loop is not None and target not in loop.blocks:
            false = self._add(out, arith.ConstantOp(IntegerAttr(0, i1))).results[0]
            payload: list[SSAValue | None] = [None] * len(ctx.payload_types)
            start = ctx.exit_slots[target]
            payload[start : start + len(args)] = args
            first_live = len(payload) - len(loop.liveouts)
            for k, v in enumerate(loop.liveouts):
                payload[first_live + k] = env.get(v)
            payload = [p if p is not None else self._zero(t, out) for p, t in zip(payload, ctx.payload_types)]
            which = [self._add(out, arith.ConstantOp(IntegerAttr(loop.exits.index(target), i32))).results[0]] if len(loop.exits) > 1 else []
            return [false, *ctx.header_args, *which, *payload]
        inner = self.loops.get(target)
        if inner is not None and (loop is None or inner is not loop):
            return self._loop(inner, args, env, ctx, out)
        return self._block(target, args, env, ctx, out)

    def _loop(self, loop: _Loop, init: list[SSAValue], env: dict, ctx: _Ctx, out: Block) -> list[SSAValue]:
        header_types = [a.type for a in loop.header.args]
        slots: dict[Block, int] = {}
        payload_types: list[Attribute] = []
        for e in loop.exits:
            slots[e] = len(payload_types)
            payload_types += [a.type for a in e.args]
        payload_types += [v.type for v in loop.liveouts]
        which_types = [i32] if len(loop.exits) > 1 else []
        forwarded = [*header_types, *which_types, *payload_types]
        before = Block(arg_types=header_types)
        inner = _Ctx(loop, [i1, *forwarded], list(before.args), payload_types, slots)
        vals = self._block(loop.header, list(before.args), env, inner, before)
        self._add(before, scf.ConditionOp(vals[0], *vals[1:]))
        after = Block(arg_types=forwarded)
        self._add(after, scf.YieldOp(*after.args[: len(header_types)]))
        w = self._add(out, scf.WhileOp(init, forwarded, Region(before), Region(after)))
        res = list(w.results)
        n = len(header_types)
        which = res[n] if which_types else None
        payload = res[n + len(which_types) :]
        env = dict(env)
        env.update(zip(loop.liveouts, payload[len(payload) - len(loop.liveouts) :]))
        edges = [(e, payload[slots[e] : slots[e] + len(e.args)]) for e in loop.exits]
        if not edges:  # a loop without exits never ends: nothing after it runs
            return [self._zero(t, out) for t in ctx.exit_types]
        conds = []
        for k in range(len(edges) - 1):
            c = self._add(out, arith.ConstantOp(IntegerAttr(k, i32))).results[0]
            conds.append(self._add(out, arith.CmpiOp(which, c, "eq")).results[0])
        return self._choose(conds, edges, env, ctx, out)


def _template(region: Region) -> Operation | None:
    """A terminator that ends the region (func.return, scf.yield, ...)."""
    for b in region.blocks:
        term = b.last_op
        if term is not None and term.has_trait(IsTerminator) and not term.successors and not term.name.startswith("llvm.unreachable"):
            return term
    return None


def structure_region(region: Region) -> None:
    """Rewrite ``region`` (more than one block) into one block of structured ops."""
    template = _template(region)
    if template is None:
        raise ControlFlowError(f"{_owner_name(region)} has no block that returns")
    new = _Structurer(region).run(template)
    old = list(region.blocks)
    for b in old:
        region.detach_block(b)
    for b in old:
        for op in b.ops:
            op.drop_all_references()
    for b in old:
        b.erase(safe_erase=False)
    region.add_block(new)


def inline_execute_regions(root: Operation) -> bool:
    """Replace each single-block ``scf.execute_region`` by its body."""
    changed = False
    for op in reversed(list(root.walk())):
        if isinstance(op, scf.ExecuteRegionOp) and len(op.region.blocks) == 1:
            block = op.region.block
            term = block.last_op
            vals = list(term.operands)
            for inner in list(block.ops):
                if inner is term:
                    break
                block.detach_op(inner)
                op.parent_block().insert_op_before(inner, op)
            for r, v in zip(op.results, vals):
                r.replace_all_uses_with(v)
            op.detach()
            op.erase()
            changed = True
    return changed


def structure_control_flow(root: Operation) -> bool:
    """Structure every region of ``root`` with more than one block (innermost first)
    and inline single-block ``scf.execute_region`` ops; whether anything changed."""
    changed = False
    for op in reversed(list(root.walk())):
        for region in op.regions:
            if len(region.blocks) > 1:
                structure_region(region)
                changed = True
    return inline_execute_regions(root) or changed


__all__ = ["Cf", "ControlFlowError", "MAX_OPS", "structure_control_flow", "structure_region", "inline_execute_regions"]
