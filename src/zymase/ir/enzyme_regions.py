"""``enzyme.fwddiff_region`` and ``enzyme.autodiff_region``: differentiation requests
whose function is a region of the op (its block arguments are the primal arguments, its
``enzyme.yield`` the results), operands and results laid out as ``enzyme.fwddiff`` /
``enzyme.autodiff`` lay them out.

``outline_enzyme_regions`` (run by ``ir/lower.py`` before the enzyme pass) moves each
region into a private function (named by the op's ``fn`` when it has one) and replaces the
op by ``enzyme.fwddiff`` / ``autodiff`` of that function; values the region uses from
outside become trailing ``enzyme_const`` arguments (not differentiated, as the region's
operands are the only ones the activities speak of).

    %r = enzyme.fwddiff_region(%x, %dx) {
    ^bb0(%a: f64):
      ...
      enzyme.yield %y : f64
    } <{activity = [...], ret_activity = [...]}> : (f64, f64) -> f64
"""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.dialects.builtin import FunctionType, StringAttr
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, region_def, var_operand_def, var_result_def
from xdsl.parser import Parser
from xdsl.printer import Printer

from .query import free_values


class _RegionDiffOp(IRDLOperation):
    @classmethod
    def parse(cls, parser: Parser) -> _RegionDiffOp:
        operands = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, parser.parse_unresolved_operand)
        region = parser.parse_region()
        attributes: dict[str, Attribute] = {}
        props = parser.parse_optional_properties_dict()
        attributes.update(props)
        extra = parser.parse_optional_attr_dict_with_keyword()
        if extra is not None:
            attributes.update(extra.data)
        elif not props:
            attributes.update(parser.parse_optional_attr_dict())
        parser.parse_punctuation(":")
        ftype = parser.parse_function_type()
        values = parser.resolve_operands(operands, ftype.inputs.data, parser.pos)
        return cls.create(operands=values, result_types=list(ftype.outputs.data), regions=[region], attributes=attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string("(")
        printer.print_list(self.operands, printer.print_operand)
        printer.print_string(") ")
        printer.print_region(self.regions[0], print_entry_block_args=True)
        printer.print_op_attributes(dict(self.attributes), print_keyword=True)
        printer.print_string(" : ")
        printer.print_attribute(FunctionType.from_lists([v.type for v in self.operands], [r.type for r in self.results]))


@irdl_op_definition
class ForwardDiffRegionOp(_RegionDiffOp):
    name = "enzyme.fwddiff_region"
    inputs = var_operand_def()
    outputs = var_result_def()
    body = region_def("single_block")


@irdl_op_definition
class AutoDiffRegionOp(_RegionDiffOp):
    name = "enzyme.autodiff_region"
    inputs = var_operand_def()
    outputs = var_result_def()
    body = region_def("single_block")


def outline_enzyme_regions(module: Operation) -> bool:
    from .enzyme import ACTIVE, ACTIVENONEED, CONST, AutoDiffOp, ForwardDiffOp, make_diff_op
    from .enzyme_rules import YieldOp

    ops = [op for op in module.walk() if isinstance(op, (ForwardDiffRegionOp, AutoDiffRegionOp))]
    if not ops:
        return False
    names = {op.sym_name.data for op in module.ops if isinstance(getattr(op, "sym_name", None), StringAttr)}
    for k, op in enumerate(ops):
        block = op.regions[0].block
        captured = free_values(op)
        fn_attr = op.attributes.get("fn")
        base = fn_attr.data if isinstance(fn_attr, StringAttr) else f"enzyme_region_{k}"
        name, n = base, 0
        while name in names:
            n += 1
            name = f"{base}_{n}"
        names.add(name)
        new = Block(arg_types=[a.type for a in block.args] + [v.type for v in captured])
        env: dict[SSAValue, SSAValue] = dict(zip(block.args, new.args))
        env.update(zip(captured, new.args[len(block.args) :]))
        results: list[SSAValue] = []
        for inner in block.ops:
            if isinstance(inner, YieldOp):
                results = [env.get(v, v) for v in inner.values]
                break
            new.add_op(inner.clone(value_mapper=env))
        new.add_op(func.ReturnOp(*results))
        fn = func.FuncOp(name, ([a.type for a in new.args], [v.type for v in results]), Region(new), visibility="private")
        parent_fn = op
        while parent_fn.parent_op() is not None and parent_fn.parent_op() is not module:
            parent_fn = parent_fn.parent_op()
        module.body.block.insert_op_before(fn, parent_fn)
        acts = [a.data for a in op.attributes["activity"].data] + [CONST] * len(captured)
        rets = [a.data for a in op.attributes["ret_activity"].data]
        width_attr = op.attributes.get("width")
        width = width_attr.value.data if width_attr is not None else 1
        cls = ForwardDiffOp if isinstance(op, ForwardDiffRegionOp) else AutoDiffOp
        # captured values go after the region's primal operands, before the seeds / shadows
        # of autodiff (seeds come last): insert them where their primal slots are
        inputs = list(op.operands)
        if cls is AutoDiffOp:
            n_seeds = sum(1 for r in rets if r in (ACTIVE, ACTIVENONEED))
            cut = len(inputs) - n_seeds
            inputs = inputs[:cut] + captured + inputs[cut:]
        else:
            inputs = inputs + captured
        diff = make_diff_op(cls, name, inputs, [r.type for r in op.results], acts, rets, width)
        strong_zero = op.attributes.get("strong_zero")
        if strong_zero is not None:  # the region op's strong_zero carries over to the enzyme op
            diff.properties["strong_zero"] = strong_zero
        diff.location = getattr(op, "location", None) or diff.location
        op.parent_block().insert_op_before(diff, op)
        for r, v in zip(op.results, diff.results):
            r.replace_all_uses_with(v)
        op.detach()
        op.erase()
    return True


REGION_OPS = [ForwardDiffRegionOp, AutoDiffRegionOp]

__all__ = ["ForwardDiffRegionOp", "AutoDiffRegionOp", "outline_enzyme_regions", "REGION_OPS"]
