"""``enzyme.batch``: apply a function to every element of a batch.

    %r = enzyme.batch @f(%x, %y) {batch_shape = array<i64: 10, 2>} : (tensor<10x2x3xf64>, tensor<10x2xf64>) -> tensor<10x2x3xf64>

Every operand and every result is the callee's argument or result with ``batch_shape``
prepended (a scalar ``f64`` becomes ``tensor<10x2xf64>``); result element ``[i, j]`` is
``@f`` applied to operand elements ``[i, j]``. The attribute may also be written as a
property (``<{batch_shape = ...}>``); it prints as an attribute dictionary.

``lower_batches`` (run by the enzyme pass before differentiation, and by the
``enzyme-batch`` pass alone) replaces each op by a call of ``batched_<f>``: a
``stablehlo.while`` over the batch, flattened, that slices each operand's element, calls
``@f`` and writes the results' elements. The derivative is then the loop's, and it runs
through jax as a while loop (exact; one call of ``@f`` per batch element, not a
vectorized body).
"""

from __future__ import annotations

from xdsl.dialects.builtin import (
    DenseArrayBase,
    FlatSymbolRefAttr,
    IndexType,
    IntegerType,
    ModuleOp,
    SymbolRefAttr,
    TensorType,
    i64,
)
from xdsl.dialects.func import CallOp, FuncOp
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, prop_def, var_operand_def, var_result_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import SymbolTable


def batched_type(t: Attribute, batch: list[int]) -> Attribute | None:
    """``t`` with the batch dimensions in front, or None for a type that cannot be
    batched (memory, pointers)."""
    if isinstance(t, TensorType):
        return TensorType(t.get_element_type(), [*batch, *t.get_shape()])
    if isinstance(t, (IntegerType, IndexType)) or getattr(t, "name", "").startswith(("f", "bf", "complex")):
        return TensorType(t, batch)
    return None


@irdl_op_definition
class BatchOp(IRDLOperation):
    name = "enzyme.batch"

    fn = prop_def(SymbolRefAttr)
    batch_shape = prop_def(DenseArrayBase)
    inputs = var_operand_def()
    outputs = var_result_def()

    @property
    def batch(self) -> list[int]:
        return list(self.batch_shape.get_values())

    @classmethod
    def parse(cls, parser: Parser) -> BatchOp:
        from .enzyme import _parse_diff_attributes

        fn = FlatSymbolRefAttr(parser.parse_symbol_name())
        pos = parser.pos
        operands = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_unresolved_operand)
        attrs_pos = parser.pos
        attrs = dict(_parse_diff_attributes(parser))
        if "batch_shape" not in attrs:
            parser.raise_error("'enzyme.batch' expects a 'batch_shape' attribute (array<i64: ...>)", attrs_pos)
        parser.parse_punctuation(":", "'enzyme.batch' expects ':' and a function type after its attributes")
        ftype = parser.parse_function_type()
        inputs = parser.resolve_operands(operands, ftype.inputs.data, pos)
        props = {"fn": fn, "batch_shape": attrs.pop("batch_shape")}
        return cls.create(operands=list(inputs), result_types=list(ftype.outputs.data), properties=props, attributes=attrs)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_attribute(self.fn)
        with printer.in_parens():
            printer.print_list(self.inputs, printer.print_operand)
        printer.print_string(" ")
        printer.print_attr_dict({"batch_shape": self.batch_shape, **self.attributes})
        printer.print_string(" : ")
        printer.print_function_type(self.inputs.types, self.outputs.types)

    def verify_(self) -> None:
        from .enzyme import _fail, _lookup_callee

        shape = self.batch_shape
        if shape.elt_type != i64:
            _fail(self, f"batch_shape must be an array<i64: ...>, got {shape}")
        if any(n < 0 for n in self.batch):
            _fail(self, f"batch_shape {self.batch} has a negative size")
        callee = _lookup_callee(self, self.fn)
        if callee is None:
            return
        fn = self.fn.string_value()
        ft = callee.function_type
        for what, got, want in (("operand", list(self.inputs.types), list(ft.inputs.data)), ("result", list(self.outputs.types), list(ft.outputs.data))):
            if len(got) != len(want):
                _fail(self, f"@{fn} has {len(want)} {'argument' if what == 'operand' else what}(s), the op {len(got)} {what}(s)")
            for i, (g, w) in enumerate(zip(got, want)):
                b = batched_type(w, self.batch)
                if b is None:
                    _fail(self, f"{what} {i} of @{fn} has type {w}, which cannot be batched (only tensors and scalars)")
                if g != b:
                    _fail(self, f"{what} {i} has type {g}, expected {b} (type {w} of @{fn} with batch_shape {self.batch})")


BATCH_OPS = [BatchOp]


# ============================================================================ lowering


def lower_batches(module: ModuleOp) -> bool:
    """Replace every ``enzyme.batch`` of ``module`` by a call of ``batched_<fn>`` (one
    generated function per callee and batch shape); returns whether any was replaced."""
    ops = [op for op in module.walk() if isinstance(op, BatchOp)]
    made: dict[tuple[str, tuple[int, ...]], str] = {}
    for op in ops:
        key = (op.fn.string_value(), tuple(op.batch))
        name = made.get(key)
        if name is None:
            name = made[key] = _batched_function(module, op)
        call = CallOp(name, list(op.inputs), [r.type for r in op.outputs])
        call.location = op.location
        from xdsl.rewriter import Rewriter

        Rewriter.replace_op(op, call)
    return bool(ops)


def _unique(module: ModuleOp, base: str) -> str:
    names = {op.sym_name.data for op in module.ops if isinstance(op, FuncOp)}
    name, k = base, 1
    while name in names:
        name, k = f"{base}_{k}", k + 1
    return name


def _batched_function(module: ModuleOp, op: BatchOp) -> str:
    from .builder import Builder, shape
    from .enzyme import add_func

    callee = SymbolTable.lookup_symbol(module, op.fn)
    assert isinstance(callee, FuncOp)
    batch = op.batch
    n = 1
    for s in batch:
        n *= s
    arg_types = list(callee.function_type.inputs.data)
    ret_types = list(callee.function_type.outputs.data)
    name = _unique(module, f"batched_{op.fn.string_value()}")
    fn, block = add_func(module, name, list(op.inputs.types), list(op.outputs.types), visibility="private")
    b = Builder(block)
    b.location = op.location
    i32 = TensorType(IntegerType(32), [])

    def element_shape(t: Attribute) -> list[int]:
        return list(t.get_shape()) if isinstance(t, TensorType) else []

    def elem_type(t: Attribute) -> Attribute:
        return t.get_element_type() if isinstance(t, TensorType) else t

    flat_args = [b.reshape(a, [n, *element_shape(t)]) for a, t in zip(block.args, arg_types)]

    def cond(cb: Builder, args: list[SSAValue]) -> SSAValue:
        return cb.compare(args[0], cb.constant(n, i32), "LT")

    def body(bb: Builder, args: list[SSAValue]) -> list[SSAValue]:
        k, accs = args[0], args[1:]
        zero = bb.constant(0, i32)
        xs = []
        for a, t in zip(flat_args, arg_types):
            dims = element_shape(t)
            x = bb.reshape(bb.dynamic_slice(a, [k] + [zero] * len(dims), [1, *dims]), dims)
            xs.append(x if isinstance(t, TensorType) else bb.to_scalar(x))
        call = bb.insert(CallOp(callee.sym_name.data, xs, ret_types))
        new = []
        for acc, r, t in zip(accs, call.results, ret_types):
            v = r if isinstance(t, TensorType) else bb.from_scalar(r)
            new.append(bb.dynamic_update_slice(acc, bb.reshape(v, [1, *shape(v)]), [k] + [zero] * len(shape(v))))
        return [bb.add(k, bb.constant(1, i32)), *new]

    init = [b.constant(0, i32), *[b.zeros(TensorType(elem_type(t), [n, *element_shape(t)])) for t in ret_types]]
    results = b.while_loop(init, cond, body)[1:]
    outs = [b.reshape(r, [*batch, *element_shape(t)]) for r, t in zip(results, ret_types)]
    from xdsl.dialects.func import ReturnOp

    block.add_op(ReturnOp(*outs))
    for inner in fn.walk():
        if inner is not fn:
            inner.location = op.location  # errors about the generated code point at the enzyme.batch
    return name
