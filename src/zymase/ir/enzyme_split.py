"""Split-mode reverse differentiation: ``enzyme.autodiff_split_mode.primal`` runs the
function and returns its primal results and a ``!enzyme.Tape``;
``enzyme.autodiff_split_mode.reverse`` takes the seeds and the tape and returns the
gradients. Operands and results are laid out as ``enzyme.autodiff``'s, split in two.

    %r, %tape = enzyme.autodiff_split_mode.primal @f(%a, %b) {activity = [...], ret_activity = [...]} : (f32, f32) -> (f32, !enzyme.Tape)
    %da, %db = enzyme.autodiff_split_mode.reverse @f(%dr, %tape) {activity = [...], ret_activity = [...]} : (f32, !enzyme.Tape) -> (f32, f32)

``lower_split_mode`` (``ir/lower.py``) keeps the primal's arguments as the tape: the
primal op becomes a call of ``@f``, and each reverse op an ``enzyme.autodiff`` of ``@f`` at
those arguments that returns the gradients only (the forward sweep is recomputed there,
which gives the same values). A function that takes memrefs is refused (its memory would
be written twice), as is a tape used by anything but reverse ops.
"""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.dialects.builtin import FunctionType, MemRefType, SymbolRefAttr
from xdsl.ir import Attribute, Operation, ParametrizedAttribute, SSAValue, TypeAttribute
from xdsl.irdl import IRDLOperation, irdl_attr_definition, irdl_op_definition, var_operand_def, var_result_def
from xdsl.parser import Parser
from xdsl.printer import Printer

from ..errors import MlirError


@irdl_attr_definition
class TapeType(ParametrizedAttribute, TypeAttribute):
    """``!enzyme.Tape``: what a split-mode primal leaves for its reverse."""

    name = "enzyme.Tape"


class _SplitOp(IRDLOperation):
    @classmethod
    def parse(cls, parser: Parser) -> _SplitOp:
        fn = parser.parse_symbol_name()
        operands = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, parser.parse_unresolved_operand)
        attributes: dict[str, Attribute] = dict(parser.parse_optional_properties_dict())
        attributes.update(parser.parse_optional_attr_dict())
        parser.parse_punctuation(":")
        ftype = parser.parse_function_type()
        values = parser.resolve_operands(operands, ftype.inputs.data, parser.pos)
        attributes["fn"] = SymbolRefAttr(fn.data)
        return cls.create(operands=values, result_types=list(ftype.outputs.data), attributes=attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" @" + self.attributes["fn"].root_reference.data + "(")
        printer.print_list(self.operands, printer.print_operand)
        printer.print_string(")")
        printer.print_op_attributes({k: v for k, v in self.attributes.items() if k != "fn"})
        printer.print_string(" : ")
        printer.print_attribute(FunctionType.from_lists([v.type for v in self.operands], [r.type for r in self.results]))


@irdl_op_definition
class SplitPrimalOp(_SplitOp):
    name = "enzyme.autodiff_split_mode.primal"
    inputs = var_operand_def()
    outputs = var_result_def()


@irdl_op_definition
class SplitReverseOp(_SplitOp):
    name = "enzyme.autodiff_split_mode.reverse"
    inputs = var_operand_def()
    outputs = var_result_def()


def _where(op: Operation) -> str:
    from .query import describe_location

    loc = describe_location(op)
    return f" at {loc}" if loc else ""


def lower_split_mode(module: Operation) -> bool:
    from .enzyme import ACTIVE, ACTIVENONEED, CONST, CONSTNONEED, DUP, DUPNONEED, AutoDiffOp, make_diff_op

    prims = [op for op in module.walk() if isinstance(op, SplitPrimalOp)]
    revs = [op for op in module.walk() if isinstance(op, SplitReverseOp)]
    if not prims and not revs:
        return False
    tapes: dict[SSAValue, list[SSAValue]] = {}
    for op in prims:
        name = op.attributes["fn"].root_reference.data
        kinds = [a.data for a in op.attributes["activity"].data]
        rets = [a.data for a in op.attributes["ret_activity"].data]
        if any(isinstance(v.type, MemRefType) for v in op.operands):
            raise MlirError(f"'{op.name}'{_where(op)}: split mode of @{name}, which takes memrefs, is not supported (its memory would be written twice)")
        primals, it = [], iter(op.operands)
        for k in kinds:
            primals.append(next(it))
            if k in (DUP, DUPNONEED):
                next(it)
        results = [r for r in op.results if not isinstance(r.type, TapeType)]
        tape = next((r for r in op.results if isinstance(r.type, TapeType)), None)
        callee = next((f for f in module.ops if isinstance(f, func.FuncOp) and f.sym_name.data == name), None)
        if callee is None:
            raise MlirError(f"'{op.name}'{_where(op)}: @{name} is not a function of the module")
        call = func.CallOp(name, primals, list(callee.function_type.outputs.data))
        op.parent_block().insert_op_before(call, op)
        kept = [r for r, k in zip(call.results, rets) if k in (ACTIVE, CONST)]
        for r, v in zip(results, kept):
            r.replace_all_uses_with(v)
        if tape is not None:
            tapes[tape] = list(op.operands)
            for use in tape.uses:
                if not isinstance(use.operation, SplitReverseOp):
                    raise MlirError(f"'{use.operation.name}'{_where(use.operation)} uses a split-mode tape; only enzyme.autodiff_split_mode.reverse may")
    for op in revs:
        name = op.attributes["fn"].root_reference.data
        tape = next((v for v in op.operands if isinstance(v.type, TapeType)), None)
        if tape not in tapes:
            raise MlirError(f"'{op.name}'{_where(op)}: its tape does not come from enzyme.autodiff_split_mode.primal")
        seeds = [v for v in op.operands if not isinstance(v.type, TapeType)]
        kinds = [a.data for a in op.attributes["activity"].data]
        rets = [{ACTIVE: ACTIVENONEED, CONST: CONSTNONEED}.get(a.data, a.data) for a in op.attributes["ret_activity"].data]
        diff = make_diff_op(AutoDiffOp, name, [*tapes[tape], *seeds], [r.type for r in op.results], kinds, rets)
        op.parent_block().insert_op_before(diff, op)
        for r, v in zip(op.results, diff.results):
            r.replace_all_uses_with(v)
    for op in revs + prims:
        op.detach()
        op.erase(safe_erase=False)
    return True


SPLIT_OPS = [SplitPrimalOp, SplitReverseOp]
SPLIT_ATTRS = [TapeType]

__all__ = ["SplitPrimalOp", "SplitReverseOp", "TapeType", "lower_split_mode", "SPLIT_OPS", "SPLIT_ATTRS"]
