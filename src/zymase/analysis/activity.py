"""Activity analysis.

A value is *varied* when it depends on an active input and *useful* when it reaches an
output whose derivative is wanted; it is *active* when it is both, and of a float type.
Integer and bool values are never active. Regions are handled exactly for loops
(``stablehlo.while``, ``scf.for``, ``scf.while``: a fixpoint over the loop-carried
values) and branches (``stablehlo.if``/``case``, ``scf.if``); other region ops (reduce,
sort, scatter, ...) are treated as opaque functions of their operands.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from xdsl.dialects import scf
from xdsl.dialects.func import FuncOp
from xdsl.ir import Block, Operation, SSAValue

from ..ir import stablehlo as hlo
from ..ir.dense import is_float_type
from ..ir.enzyme import IgnoreDerivativesOp
from ..ir.query import body_ops, free_values, terminator, used_values


def _holds_floats(t) -> bool:
    from xdsl.dialects.builtin import ComplexType, TensorType, TupleType

    if is_float_type(t):
        return True
    if isinstance(t, TensorType):
        t = t.get_element_type()
    if isinstance(t, ComplexType):
        return True
    if isinstance(t, TupleType):
        return any(_holds_floats(e) for e in t.types.data)
    return False


def is_differentiable_type(v: SSAValue) -> bool:
    """Float values, and values that carry floats (complex numbers, tuples): a derivative
    flowing through the latter must meet a rule or raise, never vanish."""
    return _holds_floats(v.type)


def _add_differentiable(into: set[SSAValue], values: Iterable[SSAValue]) -> bool:
    """Add the differentiable ``values`` to ``into``; whether any was not there yet."""
    changed = False
    for v in values:
        if v not in into and is_differentiable_type(v):
            into.add(v)
            changed = True
    return changed


class ActivityAnalysis:
    """Activity of every value in a function, for given argument and result activity."""

    def __init__(self, func: FuncOp, active_args: Sequence[bool], useful_results: Sequence[bool]):
        self.func = func
        self.varied: set[SSAValue] = set()
        self.useful: set[SSAValue] = set()
        block = func.body.blocks.first
        assert block is not None
        for arg, active in zip(block.args, active_args):
            if active and is_differentiable_type(arg):
                self.varied.add(arg)
        self._forward_block(block)
        ret = terminator(block)
        self._mark_useful(v for v, u in zip(ret.operands, useful_results) if u)
        self._backward_block(block)

    # ------------------------------------------------------------------ queries

    def is_active(self, v: SSAValue) -> bool:
        return v in self.varied and v in self.useful

    def op_is_active(self, op: Operation) -> bool:
        return any(self.is_active(r) for r in op.results)

    # ------------------------------------------------------------------ varied (forward)

    def _mark_varied(self, values: Iterable[SSAValue]) -> bool:
        return _add_differentiable(self.varied, values)

    def _forward_block(self, block: Block) -> None:
        for op in block.ops:
            self._forward_op(op)

    def _forward_op(self, op: Operation) -> None:
        if isinstance(op, IgnoreDerivativesOp):
            return  # its result carries no derivative
        if isinstance(op, (hlo.WhileOp, scf.WhileOp, scf.ForOp)):
            self._forward_loop(op)
            return
        if isinstance(op, (hlo.IfOp, hlo.CaseOp, scf.IfOp)):
            regions = [r for r in op.regions if r.blocks]  # an scf.if may have no else
            for region in regions:
                self._forward_block(region.blocks.first)
            for region in regions:
                term = terminator(region.blocks.first)
                self._mark_varied(r for r, v in zip(op.results, term.operands) if v in self.varied)
            return
        inputs = used_values(op)
        if any(v in self.varied for v in inputs):
            self._mark_varied(op.results)

    def _loop_parts(self, op: Operation) -> tuple[list[SSAValue], list[tuple[Block, int]], list[tuple[Block, int]]]:
        """(init values, [(block, first carried arg index)], [(block whose terminator yields carried values, offset)])."""
        if isinstance(op, hlo.WhileOp):
            return list(op.operand), [(op.cond.block, 0), (op.body.block, 0)], [(op.body.block, 0)]
        if isinstance(op, scf.ForOp):
            return list(op.iter_args), [(op.body.block, 1)], [(op.body.block, 0)]
        assert isinstance(op, scf.WhileOp)
        return list(op.arguments), [(op.before_region.block, 0)], [(op.after_region.block, 0)]

    def _forward_loop(self, op: Operation) -> None:
        init, carried_blocks, yielding = self._loop_parts(op)
        while True:
            before = len(self.varied)
            for block, off in carried_blocks:
                for i, arg in enumerate(block.args[off:]):
                    yields = [terminator(b).operands[o + i] for b, o in yielding]
                    if init[i] in self.varied or any(y in self.varied for y in yields):
                        self._mark_varied([arg])
            for region in op.regions:
                for block in region.blocks:
                    self._forward_block(block)
            if isinstance(op, scf.WhileOp):
                cond = terminator(op.before_region.block)
                self._mark_varied(a for a, v in zip(op.after_region.block.args, cond.operands[1:]) if v in self.varied)
            if len(self.varied) == before:
                break
        if isinstance(op, scf.WhileOp):
            cond = terminator(op.before_region.block)
            self._mark_varied(r for r, v in zip(op.results, cond.operands[1:]) if v in self.varied)
        else:
            _, carried, _ = self._loop_parts(op)
            block, off = carried[-1]
            self._mark_varied(r for r, a in zip(op.results, block.args[off:]) if a in self.varied)

    # ------------------------------------------------------------------ useful (backward)

    def _mark_useful(self, values: Iterable[SSAValue]) -> bool:
        return _add_differentiable(self.useful, values)

    def _backward_block(self, block: Block) -> None:
        for op in reversed(body_ops(block)):
            self._backward_op(op)

    def _backward_op(self, op: Operation) -> None:
        if isinstance(op, (hlo.WhileOp, scf.ForOp)):
            self._backward_loop(op)
            return
        if isinstance(op, scf.WhileOp):
            self._backward_scf_while(op)
            return
        if isinstance(op, (hlo.IfOp, hlo.CaseOp, scf.IfOp)):
            for region in [r for r in op.regions if r.blocks]:
                block = region.blocks.first
                term = terminator(block)
                self._mark_useful(v for r, v in zip(op.results, term.operands) if r in self.useful)
                self._backward_block(block)
            return
        if any(r in self.useful for r in op.results):
            self._mark_useful(op.operands)
            self._mark_useful(free_values(op))

    def _backward_loop(self, op: Operation) -> None:
        init, carried, _ = self._loop_parts(op)
        body, off = carried[-1]
        term = terminator(body)
        while True:
            before = len(self.useful)
            for i, (res, arg) in enumerate(zip(op.results, body.args[off:])):
                if res in self.useful or arg in self.useful:
                    self._mark_useful([term.operands[i], arg])
            self._backward_block(body)
            if len(self.useful) == before:
                break
        self._mark_useful(v for v, r, a in zip(init, op.results, body.args[off:]) if r in self.useful or a in self.useful)

    def _backward_scf_while(self, op: scf.WhileOp) -> None:
        before_b, after_b = op.before_region.block, op.after_region.block
        cond = terminator(before_b)
        yield_ = terminator(after_b)
        while True:
            n = len(self.useful)
            for r, v, a in zip(op.results, cond.operands[1:], after_b.args):
                if r in self.useful or a in self.useful:
                    self._mark_useful([v])
            self._backward_block(after_b)
            self._mark_useful(y for y, a in zip(yield_.operands, before_b.args) if a in self.useful)
            self._backward_block(before_b)
            self._mark_useful(y for y, a in zip(yield_.operands, before_b.args) if a in self.useful)
            if len(self.useful) == n:
                break
        self._mark_useful(v for v, a in zip(op.arguments, before_b.args) if a in self.useful)

