"""``affine.if`` (MLIR's syntax: ``affine.if #set(%d0, ...)[%s0, ...] -> (T, ...) { ... }
else { ... }``) and its rewrite into ``scf.if`` before zymase runs or differentiates a
module (``ir/lower.py``, before the other affine ops): the condition is the conjunction
of the set's constraints, each ``e >= 0`` / ``e <= 0`` / ``e == 0`` computed with
``arith`` on ``index`` as ``ir/affine.py`` computes maps; ``affine.yield`` becomes
``scf.yield``. The same values, so the derivative is exact.
"""

from __future__ import annotations

from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import AffineSetAttr, IndexType
from xdsl.ir import Attribute, Block, Operation, Region
from xdsl.irdl import IRDLOperation, irdl_op_definition, prop_def, region_def, traits_def, var_operand_def, var_result_def
from xdsl.traits import RecursiveMemoryEffect
from xdsl.ir.affine.affine_set import AffineConstraintKind
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.rewriter import Rewriter


@irdl_op_definition
class IfOp(IRDLOperation):
    """``affine.if`` (xDSL's fields) with MLIR's custom syntax."""

    name = "affine.if"
    args = var_operand_def(IndexType)
    res = var_result_def()
    condition = prop_def(AffineSetAttr)
    then_region = region_def("single_block")
    else_region = region_def()
    traits = traits_def(RecursiveMemoryEffect())

    @classmethod
    def parse(cls, parser: Parser) -> IfOp:
        cond = parser.parse_attribute()
        if not isinstance(cond, AffineSetAttr):
            parser.raise_error(f"'affine.if' expects an affine set, got {cond}")
        dims = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, parser.parse_unresolved_operand)
        syms = parser.parse_optional_comma_separated_list(Parser.Delimiter.SQUARE, parser.parse_unresolved_operand) or []
        operands = parser.resolve_operands([*dims, *syms], [IndexType()] * (len(dims) + len(syms)), parser.pos)
        results: list[Attribute] = []
        if parser.parse_optional_punctuation("->") is not None:
            if parser.parse_optional_punctuation("(") is not None:
                results = parser.parse_comma_separated_list(Parser.Delimiter.NONE, parser.parse_type)
                parser.parse_punctuation(")")
            else:
                results = [parser.parse_type()]
        then_region = parser.parse_region()
        else_region = parser.parse_region() if parser.parse_optional_keyword("else") is not None else Region()
        attrs = parser.parse_optional_attr_dict()
        from .affine import YieldOp

        for region in (then_region, else_region):  # MLIR's implicit affine.yield of an if without results
            for block in region.blocks:
                if block.last_op is None or block.last_op.name != "affine.yield":
                    block.add_op(YieldOp.get())
        return cls.create(operands=operands, result_types=results, properties={"condition": cond}, regions=[then_region, else_region], attributes=attrs)

    def print(self, printer: Printer) -> None:
        s = self.condition.data
        printer.print_string(" ")
        printer.print_attribute(self.condition)
        printer.print_string("(")
        printer.print_list(list(self.args)[: s.num_dims], printer.print_operand)
        printer.print_string(")")
        if s.num_symbols:
            printer.print_string("[")
            printer.print_list(list(self.args)[s.num_dims :], printer.print_operand)
            printer.print_string("]")
        if self.results:
            printer.print_string(" -> (")
            printer.print_list([r.type for r in self.results], printer.print_attribute)
            printer.print_string(")")
        printer.print_string(" ")
        printer.print_region(self.then_region, print_entry_block_args=False)
        if self.else_region.blocks:
            printer.print_string(" else ")
            printer.print_region(self.else_region, print_entry_block_args=False)


def _lower_if(op: IfOp) -> None:
    from .affine import YieldOp, _Emit

    e = _Emit(op)
    s = op.condition.data
    args = list(op.args)
    dims, syms = args[: s.num_dims], args[s.num_dims :]
    zero = e.const(0)
    conds = []
    for c in s.constraints:
        lhs = e.expr(c.lhs, dims, syms)
        rhs = e.expr(c.rhs, dims, syms)
        diff = e.add(arith.SubiOp(lhs, rhs))
        pred = {AffineConstraintKind.ge: "sge", AffineConstraintKind.le: "sle", AffineConstraintKind.eq: "eq"}[c.kind]
        conds.append(e.add(arith.CmpiOp(diff, zero, pred)))
    if conds:
        cond = conds[0]
        for c in conds[1:]:
            cond = e.add(arith.AndIOp(cond, c))
    else:
        cond = e.add(arith.ConstantOp.from_int_and_width(1, 1))
    regions = []
    for region in (op.then_region, op.else_region):
        new = Region()
        if region.blocks:
            region.move_blocks(new)
            block = new.block
            last = block.last_op
            if isinstance(last, YieldOp) or (last is not None and last.name == "affine.yield"):
                Rewriter.replace_op(last, scf.YieldOp(*last.operands))
            elif last is None or last.name != "scf.yield":
                block.add_op(scf.YieldOp())
        elif op.results:
            raise ValueError("'affine.if' with results needs an else region")
        else:
            new.add_block(Block([scf.YieldOp()]))
        regions.append(new)
    Rewriter.replace_op(op, scf.IfOp(cond, [r.type for r in op.results], regions[0], regions[1]))


def lower_affine_if(module: Operation) -> bool:
    todo = [op for op in module.walk() if isinstance(op, IfOp)]
    for op in reversed(todo):
        _lower_if(op)
    return bool(todo)


__all__ = ["IfOp", "lower_affine_if"]
