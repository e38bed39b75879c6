"""xDSL's scf dialect with the pieces of MLIR's syntax it lacks, and ``scf.parallel``
lowered for running and differentiating.

Syntax (the op classes stay xDSL's, so every table keyed by op class still matches):

- ``scf.for ... iter_args(...) -> f64`` and ``scf.if %c -> f32``: a single result type
  without parentheses, as MLIR prints it;
- ``scf.parallel (%i, ...) = (%lb, ...) to (%ub, ...) step (%s, ...) [init (%v, ...)
  [-> (T, ...)]] { ... scf.reduce ... }``: MLIR's custom form (xDSL has only the
  generic one).

``lower_parallel`` rewrites ``scf.parallel`` into nested ``scf.for`` loops (outer
dimension first; the iterations are independent, so any order leaves the same memory),
each reduction carried as a loop value and combined by inlining its ``scf.reduce``
region. The enzyme pass and the loader run it, as they run ``lower_affine``.
"""

from __future__ import annotations

from xdsl.dialects import scf as _scf
from xdsl.dialects.builtin import IndexType
from xdsl.dialects.scf import ForOp, IfOp, ParallelOp, ReduceOp, ReduceReturnOp, Scf, YieldOp
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.rewriter import Rewriter


def _lenient_types(parse):
    """``parse`` accepting ``-> T`` where xDSL wants ``-> (T)``: the first
    parenthesized list after an arrow may be a single bare element."""

    def wrapped(cls, parser: Parser):
        orig_list = parser.parse_comma_separated_list
        orig_arrow = parser.parse_optional_punctuation
        armed = [False]

        def arrow(p, *a, **k):
            got = orig_arrow(p, *a, **k)
            if p == "->" and got is not None:
                armed[0] = True
            return got

        def plist(delimiter, fn, *a, **k):
            if armed[0] and delimiter == Parser.Delimiter.PAREN:
                armed[0] = False
                if parser.parse_optional_punctuation("(") is None:
                    return [fn()]
                items = orig_list(Parser.Delimiter.NONE, fn, *a, **k)
                parser.parse_punctuation(")")
                return items
            return orig_list(delimiter, fn, *a, **k)

        orig_chars = parser.parse_punctuation

        def punct(p, *a, **k):
            got = orig_chars(p, *a, **k)
            if p == "->":
                armed[0] = True
            return got

        names = ("parse_comma_separated_list", "parse_optional_punctuation", "parse_punctuation", "parse_region")
        saved = {n: parser.__dict__[n] for n in names if n in parser.__dict__}
        orig_region = parser.parse_region

        def restore() -> None:
            for n in names:
                if n in saved:
                    parser.__dict__[n] = saved[n]
                else:
                    parser.__dict__.pop(n, None)

        def region(*a, **k):  # the result types come before the regions: nested ops parse as usual
            restore()
            return orig_region(*a, **k)

        parser.parse_comma_separated_list = plist  # type: ignore[method-assign]
        parser.parse_optional_punctuation = arrow  # type: ignore[method-assign]
        parser.parse_punctuation = punct  # type: ignore[method-assign]
        parser.parse_region = region  # type: ignore[method-assign]
        try:
            return parse.__func__(cls, parser)
        finally:
            restore()

    return classmethod(wrapped)


def _parse_parallel(cls, parser: Parser) -> ParallelOp:
    ivs = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, lambda: parser.parse_argument(expect_type=False))
    parser.parse_punctuation("=")
    index = IndexType()
    lbs = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, lambda: parser.parse_operand(index))
    parser.parse_keyword("to")
    ubs = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, lambda: parser.parse_operand(index))
    parser.parse_keyword("step")
    steps = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, lambda: parser.parse_operand(index))
    inits: list[SSAValue] = []
    if parser.parse_optional_keyword("init") is not None:
        pos = parser.pos
        unresolved = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, parser.parse_unresolved_operand)
        parser.parse_punctuation("->")
        if parser.parse_optional_punctuation("(") is not None:
            types = parser.parse_comma_separated_list(Parser.Delimiter.NONE, parser.parse_type)
            parser.parse_punctuation(")")
        else:
            types = [parser.parse_type()]
        inits = parser.resolve_operands(unresolved, types, pos)
    region = parser.parse_region([a.resolve(index) for a in ivs])
    block = region.block
    if not isinstance(block.last_op, ReduceOp):
        block.add_op(ReduceOp())
    attrs = parser.parse_optional_attr_dict()
    op = ParallelOp(lbs, ubs, steps, region, inits)
    op.attributes |= attrs
    return op


def _print_parallel(self: ParallelOp, printer: Printer) -> None:
    printer.print_string(" (")
    printer.print_list(self.body.block.args, printer.print_operand)
    printer.print_string(") = (")
    printer.print_list(self.lowerBound, printer.print_operand)
    printer.print_string(") to (")
    printer.print_list(self.upperBound, printer.print_operand)
    printer.print_string(") step (")
    printer.print_list(self.step, printer.print_operand)
    printer.print_string(")")
    if self.initVals:
        printer.print_string(" init (")
        printer.print_list(self.initVals, printer.print_operand)
        printer.print_string(") -> (")
        printer.print_list(self.result_types, printer.print_attribute)
        printer.print_string(")")
    printer.print_string(" ")
    printer.print_region(self.body, print_entry_block_args=False)
    if self.attributes:
        printer.print_op_attributes(self.attributes)


ForOp.parse = _lenient_types(ForOp.parse)  # type: ignore[method-assign]
IfOp.parse = _lenient_types(IfOp.parse)  # type: ignore[method-assign]
ParallelOp.parse = classmethod(_parse_parallel)  # type: ignore[method-assign]
ParallelOp.print = _print_parallel  # type: ignore[method-assign]


def _lower_one(op: ParallelOp) -> None:
    old = op.body.block
    n = len(old.args)
    inits = list(op.initVals)
    types = [v.type for v in inits]
    blocks = [Block(arg_types=[IndexType(), *types]) for _ in range(n)]
    inner = blocks[-1]
    for k, a in enumerate(old.args):
        a.replace_all_uses_with(blocks[k].args[0])
    term = old.last_op
    assert isinstance(term, ReduceOp)
    for o in list(old.ops):
        if o is not term:
            o.detach()
            inner.add_op(o)
    outs: list[SSAValue] = []
    for acc, value, combiner in zip(inner.args[1:], term.args, term.reductions):
        cb = combiner.block
        ret = cb.last_op
        assert isinstance(ret, ReduceReturnOp)
        cb.args[0].replace_all_uses_with(acc)
        cb.args[1].replace_all_uses_with(value)
        result = ret.result
        for o in list(cb.ops):
            if o is not ret:
                o.detach()
                inner.add_op(o)
        outs.append(result)
    inner.add_op(YieldOp(*outs))
    outer: ForOp | None = None
    for k in range(n - 1, -1, -1):
        carried = inits if k == 0 else list(blocks[k - 1].args[1:])
        loop = ForOp(op.lowerBound[k], op.upperBound[k], op.step[k], carried, Region(blocks[k]))
        if k > 0:
            blocks[k - 1].add_op(loop)
            blocks[k - 1].add_op(YieldOp(*loop.results))
        outer = loop
    assert outer is not None
    for key, v in op.attributes.items():
        outer.attributes[key] = v
    Rewriter.replace_op(op, outer, new_results=list(outer.results))


def lower_parallel(module: Operation) -> bool:
    """Rewrite every ``scf.parallel`` of ``module`` into nested ``scf.for`` (inner ones
    first); True when anything changed."""
    todo = [op for op in module.walk() if isinstance(op, ParallelOp)]
    for op in reversed(todo):
        _lower_one(op)
    return bool(todo)


__all__ = ["Scf", "lower_parallel"]
_ = _scf
