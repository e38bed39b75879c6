"""The affine dialect as far as zymase reads it: ``affine.for``, ``affine.load``,
``affine.store``, ``affine.apply``, ``affine.min``, ``affine.yield`` (xDSL's op classes
and their MLIR syntax).

zymase neither runs nor differentiates affine ops directly: ``lower_affine`` rewrites
them, as MLIR's affine-to-scf lowering does, into ``scf.for`` / ``memref.load`` /
``memref.store`` with the affine expressions computed by ``arith`` on ``index`` values.
The enzyme pass lowers a module before differentiating it and the loader before running
it, so an affine program gets exactly the scf and memref semantics (shadow memory,
loop caches, value-semantics emission) that zymase already has, and its derivative is
expressed in scf and memref.

Affine semantics kept: a loop's lower bound is the maximum of its lower-bound map's
results and its upper bound the minimum of its upper-bound map's results; ``mod`` is
non-negative (``a mod b = a - b * floor(a / b)``), ``floordiv`` and ``ceildiv`` round
towards minus and plus infinity. A map's dimension operands come first, then its
symbols. ``affine.parallel`` and ``affine.if`` (``ir/affine_if.py``) are lowered too;
affine ops zymase does not lower are not registered, so a program using them fails to
parse with a message naming the op. ``affine.load`` / ``store`` read MLIR's access
syntax (below), which xDSL's parser does not fully accept.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects import affine as _affine
from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import AffineMapAttr, ArrayAttr, DenseArrayBase, FloatAttr, IndexType, IntegerAttr, MemRefType, ModuleOp, StringAttr, i64
from xdsl.ir import Attribute, Block, Dialect, Operation, Region, SSAValue
from xdsl.irdl import AttrSizedOperandSegments, IRDLOperation, irdl_op_definition, prop_def, region_def, var_operand_def, var_result_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException
from xdsl.ir.affine import AffineBinaryOpExpr, AffineBinaryOpKind, AffineConstantExpr, AffineDimExpr, AffineExpr, AffineMap, AffineSymExpr
from xdsl.rewriter import InsertPoint, Rewriter

ForOp = _affine.ForOp


# ----------------------------------------------------------------- load / store syntax
#
# ``affine.load %m[<exprs>] {attrs} : T`` and ``affine.store %v, %m[<exprs>] {attrs} : T``
# as MLIR writes them: an expression is built from integers, SSA values (``%i``),
# ``symbol(%s)``, ``+``, ``-``, ``*``, ``floordiv``, ``ceildiv``, ``mod`` and
# parentheses, and may multiply two symbols (``symbol(%a) * symbol(%b)``, a semi-affine
# product MLIR accepts, which xDSL's affine expressions refuse: it is built directly as a
# binary expression). Every SSA value is one symbol of the op's map (as xDSL does); the
# lowering computes the map with arith whatever the operands are. The attribute
# dictionary after the indices (``{alignment = 16 : i64}``) is kept on the op and
# dropped by the lowering (alignment does not change values).


def _binary(kind: AffineBinaryOpKind, a: AffineExpr, b: AffineExpr) -> AffineExpr:
    if isinstance(a, AffineConstantExpr) and isinstance(b, AffineConstantExpr):
        x, y = a.value, b.value
        if kind == AffineBinaryOpKind.Add:
            return AffineExpr.constant(x + y)
        if kind == AffineBinaryOpKind.Mul:
            return AffineExpr.constant(x * y)
        if y > 0 and kind == AffineBinaryOpKind.FloorDiv:
            return AffineExpr.constant(x // y)
        if y > 0 and kind == AffineBinaryOpKind.CeilDiv:
            return AffineExpr.constant(-(-x // y))
        if y > 0 and kind == AffineBinaryOpKind.Mod:
            return AffineExpr.constant(x % y)
    return AffineBinaryOpExpr(kind, a, b)


def parse_access(parser: Parser) -> tuple[AffineMap, list[SSAValue]]:
    """``[expr, ...]`` over SSA values: the map (every value a symbol) and its operands."""
    operands: list[SSAValue] = []

    def operand(v: SSAValue) -> AffineExpr:
        for k, w in enumerate(operands):
            if w is v:
                return AffineExpr.symbol(k)
        operands.append(v)
        return AffineExpr.symbol(len(operands) - 1)

    def primary() -> AffineExpr:
        k = parser.parse_optional_integer(allow_boolean=False, allow_negative=False)
        if k is not None:
            return AffineExpr.constant(k)
        if parser.parse_optional_punctuation("-") is not None:
            return _binary(AffineBinaryOpKind.Mul, primary(), AffineExpr.constant(-1))
        if parser.parse_optional_punctuation("(") is not None:
            e = expr()
            parser.parse_punctuation(")")
            return e
        if parser.parse_optional_keyword("symbol") is not None:
            parser.parse_punctuation("(")
            v = parser.parse_operand(IndexType())
            parser.parse_punctuation(")")
            return operand(v)
        return operand(parser.parse_operand(IndexType()))

    def term() -> AffineExpr:
        e = primary()
        while True:
            if parser.parse_optional_punctuation("*") is not None:
                e = _binary(AffineBinaryOpKind.Mul, e, primary())
            elif parser.parse_optional_keyword("floordiv") is not None:
                e = _binary(AffineBinaryOpKind.FloorDiv, e, primary())
            elif parser.parse_optional_keyword("ceildiv") is not None:
                e = _binary(AffineBinaryOpKind.CeilDiv, e, primary())
            elif parser.parse_optional_keyword("mod") is not None:
                e = _binary(AffineBinaryOpKind.Mod, e, primary())
            else:
                return e

    def expr() -> AffineExpr:
        e = term()
        while True:
            if parser.parse_optional_punctuation("+") is not None:
                e = _binary(AffineBinaryOpKind.Add, e, term())
            elif parser.parse_optional_punctuation("-") is not None:
                e = _binary(AffineBinaryOpKind.Add, e, _binary(AffineBinaryOpKind.Mul, term(), AffineExpr.constant(-1)))
            else:
                return e

    exprs = parser.parse_comma_separated_list(Parser.Delimiter.SQUARE, expr)
    return AffineMap(0, len(operands), tuple(exprs)), operands


_SPELLING = {
    AffineBinaryOpKind.Add: "+",
    AffineBinaryOpKind.Mul: "*",
    AffineBinaryOpKind.FloorDiv: "floordiv",
    AffineBinaryOpKind.CeilDiv: "ceildiv",
    AffineBinaryOpKind.Mod: "mod",
}


def _is_add(e: AffineExpr) -> bool:
    return isinstance(e, AffineBinaryOpExpr) and e.kind == AffineBinaryOpKind.Add


def print_access(printer: Printer, m: AffineMap, operands: Sequence[SSAValue]) -> None:
    """The inverse of ``parse_access``; a value multiplied by a non-constant prints as
    ``symbol(%v)``."""

    def text(e: AffineExpr, as_symbol: bool = False, parens: bool = False) -> None:
        if isinstance(e, AffineConstantExpr):
            printer.print_string(str(e.value))
        elif isinstance(e, (AffineSymExpr, AffineDimExpr)):
            v = operands[m.num_dims + e.position if isinstance(e, AffineSymExpr) else e.position]
            if as_symbol:
                printer.print_string("symbol(")
                printer.print_operand(v)
                printer.print_string(")")
            else:
                printer.print_operand(v)
        elif isinstance(e, AffineBinaryOpExpr):
            product = e.kind == AffineBinaryOpKind.Mul and not isinstance(e.lhs, AffineConstantExpr) and not isinstance(e.rhs, AffineConstantExpr)
            add = e.kind == AffineBinaryOpKind.Add
            if parens:
                printer.print_string("(")
            # a sum inside a product, and a product on the right of a product, keep parentheses
            text(e.lhs, product, not add and _is_add(e.lhs))
            printer.print_string(f" {_SPELLING[e.kind]} ")
            text(e.rhs, product, not add and isinstance(e.rhs, AffineBinaryOpExpr))
            if parens:
                printer.print_string(")")
        else:
            printer.print_string(str(e))

    printer.print_string("[")
    for k, e in enumerate(m.results):
        if k:
            printer.print_string(", ")
        text(e)
    printer.print_string("]")


LoadOp = _affine.LoadOp
StoreOp = _affine.StoreOp


def _memref_type(parser: Parser) -> MemRefType:
    t = parser.parse_type()
    if not isinstance(t, MemRefType):
        parser.raise_error(f"expected a memref type, got {t}")
    return t


def _parse_load(cls, parser: Parser) -> LoadOp:
    unresolved = parser.parse_unresolved_operand()
    m, indices = parse_access(parser)
    attrs = parser.parse_optional_attr_dict()
    parser.parse_punctuation(":")
    t = _memref_type(parser)
    op = cls(parser.resolve_operand(unresolved, t), indices, AffineMapAttr(m), t.get_element_type())
    op.attributes |= attrs
    return op


def _print_load(self: LoadOp, printer: Printer) -> None:
    printer.print_string(" ")
    printer.print_operand(self.memref)
    print_access(printer, self.map.data, list(self.indices))
    if self.attributes:
        printer.print_op_attributes(self.attributes)
    printer.print_string(" : ")
    printer.print_attribute(self.memref.type)


def _parse_store(cls, parser: Parser) -> StoreOp:
    value = parser.parse_unresolved_operand()
    parser.parse_punctuation(",")
    unresolved = parser.parse_unresolved_operand()
    m, indices = parse_access(parser)
    attrs = parser.parse_optional_attr_dict()
    parser.parse_punctuation(":")
    t = _memref_type(parser)
    op = cls(parser.resolve_operand(value, t.get_element_type()), parser.resolve_operand(unresolved, t), indices, AffineMapAttr(m))
    op.attributes |= attrs
    return op


def _print_store(self: StoreOp, printer: Printer) -> None:
    printer.print_string(" ")
    printer.print_operand(self.value)
    printer.print_string(", ")
    printer.print_operand(self.memref)
    print_access(printer, self.map.data, list(self.indices))
    if self.attributes:
        printer.print_op_attributes(self.attributes)
    printer.print_string(" : ")
    printer.print_attribute(self.memref.type)


LoadOp.parse = classmethod(_parse_load)  # type: ignore[method-assign]
LoadOp.print = _print_load  # type: ignore[method-assign]
StoreOp.parse = classmethod(_parse_store)  # type: ignore[method-assign]
StoreOp.print = _print_store  # type: ignore[method-assign]
ApplyOp = _affine.ApplyOp
MinOp = _affine.MinOp
YieldOp = _affine.YieldOp


REDUCTIONS = ("addf", "mulf")
"""The reductions of ``affine.parallel`` zymase lowers (with their identities 0 and 1)."""


@irdl_op_definition
class ParallelOp(IRDLOperation):
    """``affine.parallel (%i, %j) = (lb, ...) to (ub, ...) [step (s, ...)]
    [reduce ("addf", ...) -> (f32, ...)] { ... }`` with bounds that are integers, SSA
    values or ``symbol(%v)`` (one expression per dimension): the bounds are kept as
    maps over symbols, ``lowerBoundsMap`` / ``upperBoundsMap`` with their operands."""

    name = "affine.parallel"
    lowerBoundsOperands = var_operand_def(IndexType)
    upperBoundsOperands = var_operand_def(IndexType)
    res = var_result_def()
    lowerBoundsMap = prop_def(AffineMapAttr)
    upperBoundsMap = prop_def(AffineMapAttr)
    steps = prop_def(DenseArrayBase)
    reductions = prop_def(ArrayAttr[StringAttr])
    region = region_def()
    irdl_options = (AttrSizedOperandSegments(as_property=True),)

    def verify_(self) -> None:
        n = len(self.region.block.args)
        if len(self.lowerBoundsMap.data.results) != n or len(self.upperBoundsMap.data.results) != n:
            raise VerifyException(f"'affine.parallel' has {n} induction variables but bounds of another rank")
        if len(self.reductions.data) != len(self.results):
            raise VerifyException("'affine.parallel' needs one reduction per result")

    @classmethod
    def parse(cls, parser: Parser) -> ParallelOp:
        ivs = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, lambda: parser.parse_argument(expect_type=False))
        parser.parse_punctuation("=")

        def bounds() -> tuple[AffineMap, list[SSAValue]]:
            operands: list[SSAValue] = []

            def one() -> AffineExpr:
                k = parser.parse_optional_integer(allow_boolean=False)
                if k is not None:
                    return AffineExpr.constant(k)
                if parser.parse_optional_keyword("symbol") is not None:
                    parser.parse_punctuation("(")
                    v = parser.parse_operand(IndexType())
                    parser.parse_punctuation(")")
                else:
                    v = parser.parse_operand(IndexType())
                operands.append(v)
                return AffineExpr.symbol(len(operands) - 1)

            exprs = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, one)
            return AffineMap(0, len(operands), tuple(exprs)), operands

        lb_map, lb_ops = bounds()
        parser.parse_keyword("to")
        ub_map, ub_ops = bounds()
        steps = [1] * len(ivs)
        if parser.parse_optional_keyword("step") is not None:
            steps = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, lambda: parser.parse_integer(allow_boolean=False))
        reductions: list[str] = []
        types: list[Attribute] = []
        if parser.parse_optional_keyword("reduce") is not None:
            reductions = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, parser.parse_str_literal)
            parser.parse_punctuation("->")
            types = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, parser.parse_type)
        region = parser.parse_region([a.resolve(IndexType()) for a in ivs])
        block = region.block
        if block.last_op is None or not isinstance(block.last_op, YieldOp):
            block.add_op(YieldOp.get())
        attrs = parser.parse_optional_attr_dict()
        op = cls(
            operands=[lb_ops, ub_ops],
            result_types=[types],
            properties={
                "lowerBoundsMap": AffineMapAttr(lb_map),
                "upperBoundsMap": AffineMapAttr(ub_map),
                "steps": DenseArrayBase.from_list(i64, steps),
                "reductions": ArrayAttr([StringAttr(r) for r in reductions]),
            },
            regions=[region],
        )
        op.attributes |= attrs
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" (")
        printer.print_list(self.region.block.args, printer.print_operand)
        printer.print_string(") = (")
        self._print_bounds(printer, self.lowerBoundsMap.data, list(self.lowerBoundsOperands))
        printer.print_string(") to (")
        self._print_bounds(printer, self.upperBoundsMap.data, list(self.upperBoundsOperands))
        printer.print_string(")")
        steps = list(self.steps.get_values())
        if any(s != 1 for s in steps):
            printer.print_string(" step (" + ", ".join(str(s) for s in steps) + ")")
        if self.results:
            printer.print_string(" reduce (" + ", ".join(f'"{r.data}"' for r in self.reductions.data) + ") -> (")
            printer.print_list(self.result_types, printer.print_attribute)
            printer.print_string(")")
        printer.print_string(" ")
        printer.print_region(self.region, print_entry_block_args=False, print_empty_block=False, print_block_terminators=bool(self.results))
        if self.attributes:
            printer.print_op_attributes(self.attributes)

    @staticmethod
    def _print_bounds(printer: Printer, m: AffineMap, ops: list[SSAValue]) -> None:
        for k, e in enumerate(m.results):
            if k:
                printer.print_string(", ")
            if isinstance(e, AffineConstantExpr):
                printer.print_string(str(e.value))
            elif isinstance(e, AffineSymExpr):
                printer.print_string("symbol(")
                printer.print_operand(ops[e.position])
                printer.print_string(")")
            else:
                printer.print_string(str(e))


from .affine_if import IfOp  # noqa: E402  (affine.if, lowered to scf.if by ir/affine_if.py)

OPS = (ForOp, ParallelOp, LoadOp, StoreOp, ApplyOp, MinOp, YieldOp, IfOp)

Affine = Dialect("affine", list(OPS), [])


class _Emit:
    """Builds arith ops before ``anchor``, with one constant per value."""

    def __init__(self, anchor: Operation):
        self.anchor = anchor
        self.consts: dict[int, SSAValue] = {}

    def add(self, op: Operation) -> SSAValue:
        Rewriter.insert_op(op, InsertPoint.before(self.anchor))
        return op.results[0]

    def const(self, v: int) -> SSAValue:
        if v not in self.consts:
            self.consts[v] = self.add(arith.ConstantOp(IntegerAttr(v, IndexType())))
        return self.consts[v]

    def expr(self, e: AffineExpr, dims: Sequence[SSAValue], syms: Sequence[SSAValue]) -> SSAValue:
        if isinstance(e, AffineConstantExpr):
            return self.const(e.value)
        if isinstance(e, AffineDimExpr):
            return dims[e.position]
        if isinstance(e, AffineSymExpr):
            return syms[e.position]
        if not isinstance(e, AffineBinaryOpExpr):
            raise ValueError(f"affine expression {e} is not supported")
        a = self.expr(e.lhs, dims, syms)
        b = self.expr(e.rhs, dims, syms)
        kind = e.kind
        if kind == AffineBinaryOpKind.Add:
            return self.add(arith.AddiOp(a, b))
        if kind == AffineBinaryOpKind.Mul:
            return self.add(arith.MuliOp(a, b))
        if kind == AffineBinaryOpKind.FloorDiv:
            return self.add(arith.FloorDivSIOp(a, b))
        if kind == AffineBinaryOpKind.CeilDiv:
            return self.add(arith.CeilDivSIOp(a, b))
        if kind == AffineBinaryOpKind.Mod:  # a - b * floor(a / b): never negative for b > 0
            q = self.add(arith.FloorDivSIOp(a, b))
            return self.add(arith.SubiOp(a, self.add(arith.MuliOp(b, q))))
        raise ValueError(f"affine expression {e} is not supported")

    def map(self, m: AffineMap, operands: Sequence[SSAValue]) -> list[SSAValue]:
        dims, syms = list(operands[: m.num_dims]), list(operands[m.num_dims :])
        return [self.expr(r, dims, syms) for r in m.results]

    def fold(self, values: list[SSAValue], op: type[Operation]) -> SSAValue:
        out = values[0]
        for v in values[1:]:
            out = self.add(op(out, v))
        return out


def _lower_for(op: ForOp) -> None:
    e = _Emit(op)
    lb_ops = list(op.lowerBoundOperands)
    ub_ops = list(op.upperBoundOperands)
    lb = e.fold(e.map(op.lowerBoundMap.data, lb_ops), arith.MaxSIOp)
    ub = e.fold(e.map(op.upperBoundMap.data, ub_ops), arith.MinSIOp)
    step = e.const(op.step.value.data)
    body = op.body
    block = body.blocks[0]
    last = block.last_op
    if isinstance(last, YieldOp):
        Rewriter.replace_op(last, scf.YieldOp(*last.operands))
    elif last is None or not last.has_trait(_IsTerminatorTrait):
        block.add_op(scf.YieldOp())
    region = Region()
    op.body.move_blocks(region)
    new = scf.ForOp(lb, ub, step, list(op.inits), region)
    for k, v in op.attributes.items():
        new.attributes[k] = v
    Rewriter.replace_op(op, new)


def _lower_parallel(op: ParallelOp) -> None:
    """Nested scf.for loops, outer dimension first (the iterations are independent, so
    any order gives the same memory); reductions are carried as loop values."""
    kinds = [r.data for r in op.reductions.data]
    for k in kinds:
        if k not in REDUCTIONS:
            raise ValueError(f"'affine.parallel' reduction \"{k}\" is not supported (only {', '.join(REDUCTIONS)})")
    e = _Emit(op)
    lbs = e.map(op.lowerBoundsMap.data, list(op.lowerBoundsOperands))
    ubs = e.map(op.upperBoundsMap.data, list(op.upperBoundsOperands))
    steps = [e.const(s) for s in op.steps.get_values()]
    types = list(op.result_types)
    inits = [e.add(arith.ConstantOp(FloatAttr(0.0 if k == "addf" else 1.0, t))) for k, t in zip(kinds, types)]
    old = op.region.block
    n = len(old.args)
    blocks = [Block(arg_types=[IndexType(), *types]) for _ in range(n)]
    # the innermost block receives the original body
    inner = blocks[-1]
    for k, a in enumerate(old.args):
        a.replace_all_uses_with(blocks[k].args[0])
    term = old.last_op
    assert isinstance(term, YieldOp)
    for o in list(old.ops):
        if o is term:
            continue
        o.detach()
        inner.add_op(o)
    accs = list(inner.args[1:])
    outs = []
    for kind, acc, v in zip(kinds, accs, term.operands):
        c = arith.AddfOp(acc, v) if kind == "addf" else arith.MulfOp(acc, v)
        inner.add_op(c)
        outs.append(c.result)
    inner.add_op(scf.YieldOp(*outs))
    loops: list[scf.ForOp] = []
    for k in range(n - 1, -1, -1):
        carried = inits if k == 0 else list(blocks[k - 1].args[1:])
        loop = scf.ForOp(lbs[k], ubs[k], steps[k], carried, Region(blocks[k]))
        loops.append(loop)
        if k > 0:
            blocks[k - 1].add_op(loop)
            blocks[k - 1].add_op(scf.YieldOp(*loop.results))
    outer = loops[-1]
    for key, v in op.attributes.items():
        outer.attributes[key] = v
    Rewriter.replace_op(op, outer, new_results=list(outer.results))


def _lower_load(op: LoadOp) -> None:
    e = _Emit(op)
    idx = e.map(op.map.data, list(op.indices))
    new = memref.LoadOp.get(op.memref, idx)
    Rewriter.replace_op(op, new)


def _lower_store(op: StoreOp) -> None:
    e = _Emit(op)
    idx = e.map(op.map.data, list(op.indices))
    Rewriter.replace_op(op, memref.StoreOp.get(op.value, op.memref, idx))


def _lower_apply(op: ApplyOp) -> None:
    e = _Emit(op)
    (v,) = e.map(op.map.data, list(op.mapOperands))
    op.result.replace_all_uses_with(v)
    Rewriter.erase_op(op)


def _lower_min(op: MinOp) -> None:
    e = _Emit(op)
    v = e.fold(e.map(op.map.data, list(op.arguments)), arith.MinSIOp)
    op.result.replace_all_uses_with(v)
    Rewriter.erase_op(op)


try:  # the terminator trait, for loops whose body ends without an affine.yield
    from xdsl.traits import IsTerminator as _IsTerminatorTrait
except ImportError:  # pragma: no cover
    _IsTerminatorTrait = None  # type: ignore[assignment]

_LOWER = {ForOp: _lower_for, ParallelOp: _lower_parallel, LoadOp: _lower_load, StoreOp: _lower_store, ApplyOp: _lower_apply, MinOp: _lower_min}


def has_affine(module: Operation) -> bool:
    return any(type(op) in _LOWER or isinstance(op, YieldOp) for op in module.walk())


def lower_affine(module: ModuleOp | Operation) -> bool:
    """Rewrite every affine op of ``module`` into scf / memref / arith (inner ops first);
    True when anything changed. Affine ops of other kinds are left alone."""
    todo = [op for op in module.walk() if type(op) in _LOWER]
    for op in reversed(todo):
        _LOWER[type(op)](op)
    return bool(todo)


__all__ = ["Affine", "OPS", "ParallelOp", "ForOp", "LoadOp", "StoreOp", "ApplyOp", "MinOp", "YieldOp", "has_affine", "lower_affine"]
