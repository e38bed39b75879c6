"""The enzyme dialect: ``enzyme.autodiff`` (reverse mode) and ``enzyme.fwddiff`` (forward
mode), with Enzyme-MLIR's operand and result conventions.

fwddiff operands: each argument's primal, followed by its tangent when the argument is
dup/dupnoneed. Results per return value: const -> primal, dup -> primal then tangent,
dupnoneed -> tangent, constnoneed -> nothing. With ``width = N`` each tangent carries N
directions stacked along a new leading dimension (``f32`` -> ``tensor<Nxf32>``,
``tensor<3xf32>`` -> ``tensor<Nx3xf32>``).

autodiff operands: the primals (every argument), each dup/dupnoneed argument (a memref)
followed by its shadow, then one seed per active/activenoneed result. Results: the primal
results that are not "noneed", then one gradient per active argument (a dup memref's
derivative is accumulated into its shadow: Enzyme's shadow memory, ad/rules/memref.py).
With ``width = N`` (batched reverse mode) each seed and gradient has a leading dimension
N (``f64`` -> ``tensor<Nxf64>``): N cotangents pulled back in one reverse sweep.

fwdlaplace (zymase's forward-Laplacian mode) operands: the primals; exactly one argument
is dup (the input x, d = its number of elements), the others const. Results per return
value: const -> primal, dup -> primal, gradient ``tensor<d x S>``, Laplacian
``tensor<S>``, dupnoneed -> gradient, Laplacian, constnoneed -> nothing.

Custom assembly (MLIR's, with a trailing function type)::

    %o2, %dx = enzyme.autodiff @square(%x, %y, %do1) {activity = [#enzyme<activity enzyme_active>,
        #enzyme<activity enzyme_const>], ret_activity = [...]} : (f32, f32, f32) -> (f32, f32)

The activity lists also accept the bare keywords of the Enzyme-MLIR papers
(``activity = [enzyme_active, enzyme_const]``) and Enzyme's current spellings: the
activity ``#enzyme.activity<enzyme_dup>``, the attributes as properties
``<{activity = [...], ...}>`` or ``< activity = [...], ... >``, and ``ret_activity`` left
out for a function without results. Everything prints in the form above.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, NoReturn

from xdsl.dialects.builtin import (
    ArrayAttr,
    BoolAttr,
    FileLineColLoc,
    FlatSymbolRefAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    SymbolRefAttr,
    TensorType,
    UnitAttr,
    i64,
)
from xdsl.dialects.func import FuncOp, FunctionType, ReturnOp
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, Block, Dialect, Region, SpacedOpaqueSyntaxAttribute, SSAValue
from xdsl.irdl import IRDLOperation, irdl_attr_definition, irdl_op_definition, operand_def, opt_prop_def, prop_def, result_def, traits_def, var_operand_def, var_result_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import HasCanonicalizationPatternsTrait, Pure, SymbolTable
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum


class Activity(StrEnum):
    enzyme_const = "enzyme_const"
    enzyme_dup = "enzyme_dup"
    enzyme_dupnoneed = "enzyme_dupnoneed"
    enzyme_active = "enzyme_active"
    enzyme_activenoneed = "enzyme_activenoneed"
    enzyme_constnoneed = "enzyme_constnoneed"


@irdl_attr_definition
class ActivityAttr(EnumAttribute[Activity], SpacedOpaqueSyntaxAttribute):
    """``#enzyme<activity enzyme_active>``"""

    name = "enzyme.activity"

    @classmethod
    def parse_parameter(cls, parser) -> Activity:
        """Both spellings: the opaque ``#enzyme<activity enzyme_dup>`` (what zymase prints)
        and Enzyme's current pretty ``#enzyme.activity<enzyme_dup>``."""
        if parser.parse_optional_punctuation("<") is None:
            return super().parse_parameter(parser)
        value = super().parse_parameter(parser)
        parser.parse_punctuation(">")
        return value


CONST = Activity.enzyme_const
DUP = Activity.enzyme_dup
DUPNONEED = Activity.enzyme_dupnoneed
ACTIVE = Activity.enzyme_active
ACTIVENONEED = Activity.enzyme_activenoneed
CONSTNONEED = Activity.enzyme_constnoneed

DERIVATIVE_KINDS = (DUP, DUPNONEED, ACTIVE, ACTIVENONEED)
"""Activities under which a value carries a derivative (tangent, seed or gradient)."""

# Attributes of a func.func whose derivative is given by a rule (zymase.frontend.lowering
# sets them when lowering jax's custom_jvp / custom_vjp and library primitives; the AD
# engine and the inliner read them). Here so that reading them needs no JAX.
CUSTOM_JVP = "enzyme.custom_jvp"
CUSTOM_VJP_FWD = "enzyme.custom_vjp_fwd"
CUSTOM_VJP_BWD = "enzyme.custom_vjp_bwd"
CUSTOM_VJP_CONSTS = "enzyme.custom_vjp_consts"
"""The number of leading arguments of a custom_vjp (or custom_jvp) function that are values
it or its rules close over: never differentiated with respect to (refused when active)."""
CUSTOM_RULE_MISSING = "enzyme.custom_rule_unavailable"
"""A string attribute: why the function's custom rule could not be kept (differentiating
the function is then refused with this reason)."""
JAX_PRIMITIVE = "enzyme.jax_rule"
"""An integer attribute on a function whose derivative jax gives on demand (a library
primitive, or a custom rule that needs to know which inputs are active): the key of its
entry in ``zymase.frontend.lowering.PRIMITIVES``."""
CUSTOM_RULE_ATTRS = (CUSTOM_JVP, CUSTOM_VJP_FWD, CUSTOM_VJP_BWD, CUSTOM_RULE_MISSING, JAX_PRIMITIVE)


def activities(values: Sequence[Activity | str]) -> ArrayAttr[ActivityAttr]:
    return ArrayAttr([ActivityAttr(Activity(v)) for v in values])


def _kinds(arr: ArrayAttr) -> list[Activity]:
    return [a.data for a in arr.data]


def _names(kinds: Sequence[Activity]) -> str:
    return "[" + ", ".join(str(k) for k in kinds) + "]"


def _fail(op: IRDLOperation, message: str) -> NoReturn:
    """Raise the verifier error: ``'enzyme.autodiff' op at file:line:col: message``."""
    loc = op.location
    where = f" at {loc.filename.data}:{loc.line.data}:{loc.column.data}" if isinstance(loc, FileLineColLoc) else ""
    raise VerifyException(f"'{op.name}' op{where}: {message}")


def _lookup_callee(op: IRDLOperation, fn: SymbolRefAttr) -> FuncOp | None:
    """The callee, or None when the op is not (yet) inside a module."""
    module = op.get_toplevel_object()
    if not isinstance(module, ModuleOp):
        return None
    callee = _func_view(SymbolTable.lookup_symbol(module, fn))
    if not isinstance(callee, FuncOp):
        _fail(op, f"differentiates @{fn.string_value()}, which is not a func.func of the module")
    if not callee.body.blocks:
        _fail(op, f"differentiates @{fn.string_value()}, a declaration without a body")
    return callee


def _func_view(op):  # type: ignore[no-untyped-def]
    """``op``, or for an ``llvm.func`` a func.func with its signature and its body (not
    inserted anywhere; the llvm lowering turns the function itself into a func.func)."""
    if getattr(op, "name", None) != "llvm.func":
        return op
    t = op.function_type
    outs = [] if getattr(t.output, "name", None) == "llvm.void" else [t.output]
    view = FuncOp.__new__(FuncOp)
    view.__dict__.update(op.__dict__)  # shares the body region: only read
    view.properties = dict(op.properties) | {"function_type": FunctionType.from_lists(list(t.inputs.data), outs)}
    return view


def _is_pointer(t: Attribute) -> bool:
    """``!llvm.ptr``: memory, lowered onto a memref (``ir/lower_llvm.py``)."""
    return getattr(t, "name", None) == "llvm.ptr"


def _batched(t: Attribute, width: int) -> Attribute:
    if width == 1:
        return t
    if isinstance(t, TensorType):
        return TensorType(t.get_element_type(), [width, *t.get_shape()])
    return TensorType(t, [width])


def _is_integer_like(t: Attribute) -> bool:
    """Integer, index and bool values (and tensors of them) never carry a derivative."""
    if isinstance(t, TensorType):
        t = t.get_element_type()
    return isinstance(t, (IntegerType, IndexType))


Slot = tuple[str, Attribute]
"""One operand or result of a diff op: what it is (``seed of result 0``) and its type."""


# ============================================================================ syntax


def _parse_activity_entry(parser: Parser) -> Attribute:
    keyword = parser.parse_optional_keyword_in([k.value for k in Activity])
    if keyword is not None:
        return ActivityAttr(Activity(keyword))
    return parser.parse_attribute()


def _parse_attr_entry(parser: Parser) -> tuple[str, Attribute]:
    """``name = value`` or ``name`` (a unit attribute); the activity lists may use the
    bare keywords ``enzyme_active``, ``enzyme_const``, ..."""
    name = parser.parse_identifier_or_str_literal("attribute name expected")
    if parser.parse_optional_punctuation("=") is None:
        return name, UnitAttr()
    if name in ("activity", "ret_activity"):
        entries = parser.parse_optional_comma_separated_list(parser.Delimiter.SQUARE, lambda: _parse_activity_entry(parser))
        if entries is not None:
            return name, ArrayAttr(entries)
    return name, parser.parse_attribute()


def _print_attr_entry(printer: Printer, name: str, value: Attribute) -> None:
    printer.print_identifier_or_string_literal(name)
    if isinstance(value, UnitAttr):
        return
    printer.print_string(" = ")
    if name == "width" and isinstance(value, IntegerAttr) and value.type == i64:
        printer.print_string(str(value.value.data))  # i64 is what a bare integer parses to
        return
    printer.print_attribute(value)


def _parse_diff_attributes(parser: Parser) -> list[tuple[str, Attribute]]:
    """The op's attributes and properties in any of the forms Enzyme has printed: an
    attribute dictionary ``{activity = [...], ...}``, properties ``<{activity = [...]}>``
    (optionally followed by an attribute dictionary), or Enzyme's current
    ``< activity = [...], ret_activity = [...] >``."""
    entries: list[tuple[str, Attribute]] = []
    if parser.parse_optional_punctuation("<") is not None:
        if parser.parse_optional_punctuation("{") is not None:
            if parser.parse_optional_punctuation("}") is None:
                entries += parser.parse_comma_separated_list(parser.Delimiter.NONE, lambda: _parse_attr_entry(parser))
                parser.parse_punctuation("}")
        else:
            entries += parser.parse_comma_separated_list(parser.Delimiter.NONE, lambda: _parse_attr_entry(parser))
        parser.parse_punctuation(">")
    entries += parser.parse_optional_comma_separated_list(parser.Delimiter.BRACES, lambda: _parse_attr_entry(parser)) or []
    return entries


class ActivityCanonicalization(HasCanonicalizationPatternsTrait):
    """``-p canonicalize`` demotes the activities of enzyme.autodiff / enzyme.fwddiff as
    ``enzyme-activity-canonicalize`` does (unused primals and derivatives, known-zero seeds
    and tangents, results the callee's activity analysis proves constant). The pattern is
    imported when the pass meets such an op, so parsing imports no AD code."""

    @classmethod
    def get_canonicalization_patterns(cls):  # type: ignore[no-untyped-def]
        from ..ad.canonicalize import ActivityPattern

        return (ActivityPattern(use_callee=True, zero_args=False),)


class _DiffOp(IRDLOperation):
    fn = prop_def(SymbolRefAttr)
    activity = prop_def(ArrayAttr)
    ret_activity = prop_def(ArrayAttr, default_value=ArrayAttr([]))
    width = opt_prop_def(IntegerAttr)
    strong_zero = opt_prop_def(BoolAttr)
    """Enzyme's ``strong_zero = true``: a zero tangent or cotangent times a partial
    derivative is 0 even where the partial is inf or nan (the generated code multiplies
    as ``select(d == 0, 0, d * partial)``)."""
    inputs = var_operand_def()
    outputs = var_result_def()

    # Activities allowed for arguments and for results, set by each op.
    ARG_KINDS: ClassVar[tuple[Activity, ...]] = ()
    RET_KINDS: ClassVar[tuple[Activity, ...]] = ()

    @property
    def arg_kinds(self) -> list[Activity]:
        return _kinds(self.activity)

    @property
    def ret_kinds(self) -> list[Activity]:
        return _kinds(self.ret_activity)

    @property
    def width_value(self) -> int:
        return 1 if self.width is None else self.width.value.data

    @property
    def strong_zero_value(self) -> bool:
        return self.strong_zero is not None and bool(self.strong_zero.value.data)

    # ------------------------------------------------------------------ syntax

    @classmethod
    def parse(cls, parser: Parser) -> _DiffOp:
        """``@fn(%a, %b) {activity = [...], ret_activity = [...], width = N} : (ts) -> (ts)``"""
        fn = FlatSymbolRefAttr(parser.parse_symbol_name())
        operands_pos = parser.pos
        operands = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_unresolved_operand)
        attrs_pos = parser.pos
        entries = _parse_diff_attributes(parser)
        attrs: dict[str, Attribute] = {}
        for name, value in entries:
            if name in attrs:
                parser.raise_error(f"duplicate attribute '{name}'", attrs_pos)
            attrs[name] = value
        if "activity" not in attrs:
            parser.raise_error(f"'{cls.name}' expects an attribute dictionary with 'activity'", attrs_pos)
        attrs.setdefault("ret_activity", ArrayAttr([]))  # Enzyme lets a function without results omit it
        parser.parse_punctuation(":", f"'{cls.name}' expects ':' and a function type after its attributes")
        ftype = parser.parse_function_type()
        inputs = parser.resolve_operands(operands, ftype.inputs.data, operands_pos)
        props = {name: attrs.pop(name) for name in ("activity", "ret_activity", "width", "strong_zero") if name in attrs}
        props["fn"] = fn
        return cls.create(operands=list(inputs), result_types=list(ftype.outputs.data), properties=props, attributes=attrs)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_attribute(self.fn)
        with printer.in_parens():
            printer.print_list(self.inputs, printer.print_operand)
        entries: dict[str, Attribute] = {"activity": self.activity, "ret_activity": self.ret_activity}
        if self.width is not None:
            entries["width"] = self.width
        if self.strong_zero is not None:
            entries["strong_zero"] = self.strong_zero
        entries.update(self.attributes)
        printer.print_string(" ")
        with printer.in_braces():
            printer.print_list(entries.items(), lambda entry: _print_attr_entry(printer, *entry))
        printer.print_string(" : ")
        printer.print_function_type(self.inputs.types, self.outputs.types)

    # ------------------------------------------------------------------ verification

    def _fail(self, message: str) -> NoReturn:
        _fail(self, message)

    def slots(self, callee: FuncOp) -> tuple[list[Slot], list[Slot]]:
        """What each operand and result should be for ``callee`` and the activities."""
        raise NotImplementedError

    def expected_types(self, callee: FuncOp) -> tuple[list[Attribute], list[Attribute]]:
        ins, outs = self.slots(callee)
        return [t for _, t in ins], [t for _, t in outs]

    def _describe_activity(self) -> str:
        return f"activity {_names(self.arg_kinds)} and ret_activity {_names(self.ret_kinds)}"

    def _check_kinds(self) -> None:
        for field, arr in (("activity", self.activity), ("ret_activity", self.ret_activity)):
            for i, a in enumerate(arr.data):
                if not isinstance(a, ActivityAttr):
                    self._fail(f"{field} entry {i} is {a}, expected #enzyme<activity ...>")
        for field, kinds, allowed in (
            ("activity", self.arg_kinds, self.ARG_KINDS),
            ("ret_activity", self.ret_kinds, self.RET_KINDS),
        ):
            for i, k in enumerate(kinds):
                if k not in allowed:
                    self._fail(
                        f"{field} entry {i} is {k}, which is not allowed here; "
                        f"'{self.name}' takes {', '.join(str(a) for a in allowed)}"
                    )
        if self.width_value < 1:
            self._fail(f"width must be at least 1, got {self.width_value}")

    def _check_callee(self, callee: FuncOp) -> None:
        fn = self.fn.string_value()
        arg_types = callee.function_type.inputs.data
        ret_types = callee.function_type.outputs.data
        if len(self.arg_kinds) != len(arg_types):
            self._fail(
                f"@{fn} has {len(arg_types)} argument(s), but activity has {len(self.arg_kinds)} "
                f"entr{'y' if len(self.arg_kinds) == 1 else 'ies'} {_names(self.arg_kinds)}: give one activity per argument"
            )
        if not self.ret_kinds and ret_types and self.name == "enzyme.fwddiff" and len(self.results) == len(ret_types):
            # Enzyme's reading of an omitted ret_activity in forward mode: the op returns
            # only the tangents, each result dupnoneed
            self.properties["ret_activity"] = ArrayAttr([ActivityAttr(DUPNONEED)] * len(ret_types))
        if len(self.ret_kinds) != len(ret_types):
            self._fail(
                f"@{fn} has {len(ret_types)} result(s), but ret_activity has {len(self.ret_kinds)} "
                f"entr{'y' if len(self.ret_kinds) == 1 else 'ies'} {_names(self.ret_kinds)}: give one activity per result"
            )
        for what, types, kinds in (("argument", arg_types, self.arg_kinds), ("result", ret_types, self.ret_kinds)):
            for i, (t, k) in enumerate(zip(types, kinds)):
                if k in (ACTIVE, ACTIVENONEED) and _is_pointer(t):
                    self._fail(f"{what} {i} of @{fn} is the pointer {t} and cannot be {k}: memory carries its derivative in a shadow; mark it enzyme_dup or enzyme_const")
                if k in DERIVATIVE_KINDS and _is_integer_like(t):
                    self._fail(
                        f"{what} {i} of @{fn} has type {t} and cannot be {k}: "
                        f"integer values have no derivative; mark it enzyme_const"
                        + ("" if what == "argument" else " or enzyme_constnoneed")
                    )

    def _check_signature(self, callee: FuncOp) -> None:
        want_in, want_out = self.slots(callee)
        fn = self.fn.string_value()
        got_out = [r.type for r in self.outputs]
        if len(got_out) == 1 and len(want_out) > 1 and getattr(got_out[0], "name", None) == "llvm.struct":
            got_out = list(got_out[0].types.data)  # the results packed into one llvm struct
        for what, got, want in (("operand", [v.type for v in self.inputs], want_in), ("result", got_out, want_out)):
            if len(got) != len(want):
                layout = ", ".join(f"{d}: {t}" for d, t in want) or "none"
                self._fail(
                    f"expects {len(want)} {what}s for @{fn} with {self._describe_activity()} "
                    f"({layout}), got {len(got)}"
                )
            for i, (g, (desc, w)) in enumerate(zip(got, want)):
                if g != w:
                    self._fail(f"{what} {i} ({desc} of @{fn}) has type {g}, expected {w}")

    def verify_(self) -> None:
        self._check_kinds()
        callee = _lookup_callee(self, self.fn)
        if callee is None:
            return
        self._check_callee(callee)
        self._check_signature(callee)


@irdl_op_definition
class ForwardDiffOp(_DiffOp):
    name = "enzyme.fwddiff"
    traits = traits_def(ActivityCanonicalization())

    ARG_KINDS: ClassVar[tuple[Activity, ...]] = (CONST, DUP, DUPNONEED)
    RET_KINDS: ClassVar[tuple[Activity, ...]] = (CONST, DUP, DUPNONEED, CONSTNONEED)

    def slots(self, callee: FuncOp) -> tuple[list[Slot], list[Slot]]:
        w = self.width_value
        ins: list[Slot] = []
        for i, (t, k) in enumerate(zip(callee.function_type.inputs.data, self.arg_kinds)):
            ins.append((f"primal of argument {i}", t))
            if k in (DUP, DUPNONEED):
                ins.append((f"tangent of argument {i}", _batched(t, w)))
        outs: list[Slot] = []
        for i, (t, k) in enumerate(zip(callee.function_type.outputs.data, self.ret_kinds)):
            if k in (CONST, DUP):
                outs.append((f"primal of result {i}", t))
            if k in (DUP, DUPNONEED):
                outs.append((f"tangent of result {i}", _batched(t, w)))
        return ins, outs


@irdl_op_definition
class AutoDiffOp(_DiffOp):
    name = "enzyme.autodiff"
    traits = traits_def(ActivityCanonicalization())

    ARG_KINDS: ClassVar[tuple[Activity, ...]] = (CONST, ACTIVE, DUP, DUPNONEED)
    RET_KINDS: ClassVar[tuple[Activity, ...]] = (CONST, ACTIVE, ACTIVENONEED, CONSTNONEED)

    def slots(self, callee: FuncOp) -> tuple[list[Slot], list[Slot]]:
        """Enzyme's layout: each argument's primal, followed by its shadow when it is
        dup/dupnoneed (a memref whose shadow the caller passes; the derivative is
        accumulated into it, so it has no result), then the seeds. With ``width = N``
        (Enzyme's batched reverse mode) each seed and each gradient carries N cotangents
        in a leading dimension, as fwddiff's tangents do; the primals do not."""
        w = self.width_value
        arg_types = list(callee.function_type.inputs.data)
        ret_types = list(callee.function_type.outputs.data)
        ins: list[Slot] = []
        for i, (t, k) in enumerate(zip(arg_types, self.arg_kinds)):
            ins.append((f"primal of argument {i}", t))
            if k in (DUP, DUPNONEED):
                ins.append((f"shadow of argument {i}", _batched(t, w) if not isinstance(t, MemRefType) else t))
        ins += [(f"seed of result {i}", _batched(t, w)) for i, (t, k) in enumerate(zip(ret_types, self.ret_kinds)) if k in (ACTIVE, ACTIVENONEED)]
        outs: list[Slot] = [(f"primal of result {i}", t) for i, (t, k) in enumerate(zip(ret_types, self.ret_kinds)) if k in (ACTIVE, CONST)]
        outs += [(f"gradient of argument {i}", _batched(t, w)) for i, (t, k) in enumerate(zip(arg_types, self.arg_kinds)) if k == ACTIVE]
        return ins, outs

    def verify_(self) -> None:
        self._check_kinds()
        callee = _lookup_callee(self, self.fn)
        if callee is not None:
            for i, (t, k) in enumerate(zip(callee.function_type.inputs.data, self.arg_kinds)):
                if k in (DUP, DUPNONEED) and not (isinstance(t, MemRefType) or _is_pointer(t)):
                    self._fail(
                        f"activity entry {i} is {k}, which is not allowed here; 'enzyme.autodiff' takes enzyme_const, "
                        f"enzyme_active for values (argument {i} of @{self.fn.string_value()} has type {t}); "
                        f"{k} only for memref arguments, whose shadow the caller passes"
                    )
        super().verify_()


@irdl_op_definition
class ForwardLaplaceOp(_DiffOp):
    """``enzyme.fwdlaplace``: forward-Laplacian mode. One argument is ``enzyme_dup`` (the
    input x, d = its number of elements), the others ``enzyme_const``; every operand is
    a primal (the seed is implied: the gradient is taken with respect to each element of
    x). Results per return value: const -> primal; dup -> primal, gradient, Laplacian;
    dupnoneed -> gradient, Laplacian; constnoneed -> nothing. The gradient of a result of
    type ``tensor<S>`` is ``tensor<d x S>`` (row k: the derivative with respect to
    element k of x, row-major), its Laplacian ``sum_k d^2 r / dx_k^2`` has type S."""

    name = "enzyme.fwdlaplace"

    ARG_KINDS: ClassVar[tuple[Activity, ...]] = (CONST, DUP)
    RET_KINDS: ClassVar[tuple[Activity, ...]] = (CONST, DUP, DUPNONEED, CONSTNONEED)

    def input_size(self, callee: FuncOp) -> int:
        """d: the number of elements of the dup argument."""
        k = self.arg_kinds.index(DUP)
        t = callee.function_type.inputs.data[k]
        n = 1
        for s in t.get_shape() if isinstance(t, TensorType) else ():
            n *= s
        return n

    def slots(self, callee: FuncOp) -> tuple[list[Slot], list[Slot]]:
        d = self.input_size(callee)
        ins: list[Slot] = [(f"primal of argument {i}", t) for i, t in enumerate(callee.function_type.inputs.data)]
        outs: list[Slot] = []
        for i, (t, k) in enumerate(zip(callee.function_type.outputs.data, self.ret_kinds)):
            if k in (CONST, DUP):
                outs.append((f"primal of result {i}", t))
            if k in (DUP, DUPNONEED):
                outs.append((f"gradient of result {i}", _with_rows(t, d)))
                outs.append((f"Laplacian of result {i}", t))
        return ins, outs

    def verify_(self) -> None:
        if self.width_value != 1:
            self._fail(f"width {self.width_value}: the forward-Laplacian mode takes no width (the gradient has one row per element of the dup argument)")
        self._check_kinds()
        dups = [i for i, k in enumerate(self.arg_kinds) if k == DUP]
        if len(dups) != 1:
            self._fail(f"expects exactly one enzyme_dup argument (the input of the Laplacian), got {len(dups)} in {_names(self.arg_kinds)}")
        callee = _lookup_callee(self, self.fn)
        if callee is None:
            return
        self._check_callee(callee)
        t = callee.function_type.inputs.data[dups[0]]
        if isinstance(t, TensorType) and any(s < 0 for s in t.get_shape()):
            self._fail(f"argument {dups[0]} of @{self.fn.string_value()} has the dynamic shape {t}; the input of the Laplacian needs a static shape")
        self._check_signature(callee)


def _with_rows(t: Attribute, d: int) -> Attribute:
    """``t`` with a leading dimension of size d (also when d = 1): a gradient's type."""
    if isinstance(t, TensorType):
        return TensorType(t.get_element_type(), [d, *t.get_shape()])
    return TensorType(t, [d])


def make_diff_op(
    cls: type[_DiffOp],
    fn: str,
    inputs: Sequence[SSAValue],
    result_types: Sequence[Attribute],
    arg_activity: Sequence[Activity | str],
    ret_activity: Sequence[Activity | str],
    width: int = 1,
) -> _DiffOp:
    props: dict[str, Attribute] = {
        "fn": FlatSymbolRefAttr(fn),
        "activity": activities(arg_activity),
        "ret_activity": activities(ret_activity),
    }
    if width != 1:
        props["width"] = IntegerAttr(width, i64)
    return cls.create(operands=list(inputs), result_types=list(result_types), properties=props)


def add_func(module: ModuleOp, name: str, inputs: Sequence[Attribute], outputs: Sequence[Attribute], visibility: str | None = None) -> tuple[FuncOp, Block]:
    """Append ``func.func @name`` with this signature and an empty entry block to
    ``module``; returns the function and the block (the caller fills it, return included)."""
    block = Block(arg_types=list(inputs))
    fn = FuncOp(name, FunctionType.from_lists(list(inputs), list(outputs)), Region(block), visibility=visibility)
    module.body.block.add_op(fn)
    return fn, block


def add_diff_func(
    module: ModuleOp,
    name: str,
    cls: type[_DiffOp],
    fn: str,
    arg_activity: Sequence[Activity | str],
    ret_activity: Sequence[Activity | str],
    width: int = 1,
) -> FuncOp:
    """Append ``func.func @name`` whose body is one ``cls`` (enzyme.autodiff or
    enzyme.fwddiff) on ``@fn`` of ``module`` with these activities: it takes the enzyme op's
    operands (primals, then tangents or seeds) and returns its results, their types given
    by ``@fn``'s signature and the activities."""
    callee = next((_func_view(op) for op in module.ops if op.name in ("func.func", "llvm.func") and op.sym_name.data == fn), None)
    if callee is None:
        raise KeyError(f"no function @{fn} in the module")
    ins, outs = make_diff_op(cls, fn, [], [], arg_activity, ret_activity, width).expected_types(callee)
    func_op, block = add_func(module, name, ins, outs)
    op = make_diff_op(cls, fn, list(block.args), outs, arg_activity, ret_activity, width)
    block.add_ops([op, ReturnOp(*op.results)])
    return func_op


@irdl_op_definition
class IgnoreDerivativesOp(IRDLOperation):
    """``enzyme.ignore_derivatives``: the identity, whose result carries no derivative in
    either mode (jax's ``lax.stop_gradient``). It stays through differentiation, so a
    derivative program differentiated again still stops there, and is emitted as
    ``lax.stop_gradient``."""

    name = "enzyme.ignore_derivatives"
    input = operand_def()
    result = result_def()
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"
    traits = traits_def(Pure())

    def __init__(self, x: SSAValue):
        super().__init__(operands=[x], result_types=[x.type])

    def verify_(self) -> None:
        if self.input.type != self.result.type:
            _fail(self, f"result type {self.result.type} differs from the operand type {self.input.type}")


from .enzyme_regions import REGION_OPS  # noqa: E402  (enzyme.fwddiff_region / autodiff_region)
from .enzyme_rules import RULE_ATTRS, RULE_OPS  # noqa: E402  (enzyme.custom_reverse_rule and its pieces)
from .enzyme_split import SPLIT_ATTRS, SPLIT_OPS  # noqa: E402  (enzyme.autodiff_split_mode.primal / reverse)
from .enzyme_atomic import ATOMIC_OPS  # noqa: E402  (enzyme.affine_atomic_rmw)
from .enzyme_batch import BATCH_OPS  # noqa: E402  (enzyme.batch)

Enzyme = Dialect("enzyme", [ForwardDiffOp, AutoDiffOp, ForwardLaplaceOp, IgnoreDerivativesOp, *RULE_OPS, *REGION_OPS, *SPLIT_OPS, *ATOMIC_OPS, *BATCH_OPS], [ActivityAttr, *RULE_ATTRS, *SPLIT_ATTRS])
