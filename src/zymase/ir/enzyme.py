"""The enzyme dialect: ``enzyme.autodiff`` (reverse mode) and ``enzyme.fwddiff`` (forward
mode), with Enzyme-MLIR's operand and result conventions.

fwddiff operands: each argument's primal, followed by its tangent when the argument is
dup/dupnoneed. Results per return value: const -> primal, dup -> primal then tangent,
dupnoneed -> tangent, constnoneed -> nothing.

autodiff operands: the primals (every argument), then one seed per active/activenoneed
result. Results: the primal results that are not "noneed", then one gradient per
active argument.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import ArrayAttr, FlatSymbolRefAttr, IntegerAttr, ModuleOp, SymbolRefAttr, i64
from xdsl.dialects.func import FuncOp
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, Dialect, SpacedOpaqueSyntaxAttribute, SSAValue
from xdsl.irdl import IRDLOperation, irdl_attr_definition, irdl_op_definition, opt_prop_def, prop_def, var_operand_def, var_result_def
from xdsl.traits import SymbolTable
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


CONST = Activity.enzyme_const
DUP = Activity.enzyme_dup
DUPNONEED = Activity.enzyme_dupnoneed
ACTIVE = Activity.enzyme_active
ACTIVENONEED = Activity.enzyme_activenoneed
CONSTNONEED = Activity.enzyme_constnoneed


def activities(values: Sequence[Activity | str]) -> ArrayAttr[ActivityAttr]:
    return ArrayAttr([ActivityAttr(Activity(v)) for v in values])


def _kinds(arr: ArrayAttr) -> list[Activity]:
    return [a.data for a in arr.data]


def _lookup_callee(op: IRDLOperation, fn: SymbolRefAttr) -> FuncOp | None:
    module = op.get_toplevel_object()
    if not isinstance(module, ModuleOp):
        return None
    callee = SymbolTable.lookup_symbol(module, fn)
    return callee if isinstance(callee, FuncOp) else None


def _batched(t: Attribute, width: int) -> Attribute:
    if width == 1:
        return t
    from xdsl.dialects.builtin import TensorType

    if isinstance(t, TensorType):
        return TensorType(t.get_element_type(), [width, *t.get_shape()])
    return TensorType(t, [width])


class _DiffOp(IRDLOperation):
    fn = prop_def(SymbolRefAttr)
    activity = prop_def(ArrayAttr)
    ret_activity = prop_def(ArrayAttr)
    width = opt_prop_def(IntegerAttr)
    inputs = var_operand_def()
    outputs = var_result_def()

    @property
    def arg_kinds(self) -> list[Activity]:
        return _kinds(self.activity)

    @property
    def ret_kinds(self) -> list[Activity]:
        return _kinds(self.ret_activity)

    @property
    def width_value(self) -> int:
        return 1 if self.width is None else self.width.value.data

    def _check_kinds(self, allowed_args: set[Activity], allowed_rets: set[Activity]) -> None:
        for a in self.activity.data:
            if not isinstance(a, ActivityAttr):
                raise VerifyException(f"'{self.name}' op activity entries must be #enzyme<activity ...>, got {a}")
        for a in self.ret_activity.data:
            if not isinstance(a, ActivityAttr):
                raise VerifyException(f"'{self.name}' op ret_activity entries must be #enzyme<activity ...>, got {a}")
        for k in self.arg_kinds:
            if k not in allowed_args:
                raise VerifyException(f"'{self.name}' op argument activity {k} is not valid here")
        for k in self.ret_kinds:
            if k not in allowed_rets:
                raise VerifyException(f"'{self.name}' op result activity {k} is not valid here")

    def _check_signature(self, want_in: list[Attribute], want_out: list[Attribute]) -> None:
        got_in = [v.type for v in self.inputs]
        got_out = [r.type for r in self.outputs]
        if len(got_in) != len(want_in):
            raise VerifyException(
                f"'{self.name}' op expects {len(want_in)} operands for @{self.fn.string_value()} with activity "
                f"{[str(k) for k in self.arg_kinds]} / {[str(k) for k in self.ret_kinds]}, got {len(got_in)}"
            )
        if len(got_out) != len(want_out):
            raise VerifyException(
                f"'{self.name}' op expects {len(want_out)} results for @{self.fn.string_value()} with activity "
                f"{[str(k) for k in self.arg_kinds]} / {[str(k) for k in self.ret_kinds]}, got {len(got_out)}"
            )
        for i, (g, w) in enumerate(zip(got_in, want_in)):
            if g != w:
                raise VerifyException(f"'{self.name}' op operand {i} has type {g}, expected {w}")
        for i, (g, w) in enumerate(zip(got_out, want_out)):
            if g != w:
                raise VerifyException(f"'{self.name}' op result {i} has type {g}, expected {w}")


@irdl_op_definition
class ForwardDiffOp(_DiffOp):
    name = "enzyme.fwddiff"

    def expected_types(self, callee: FuncOp) -> tuple[list[Attribute], list[Attribute]]:
        w = self.width_value
        ins: list[Attribute] = []
        for t, k in zip(callee.function_type.inputs.data, self.arg_kinds):
            ins.append(t)
            if k in (DUP, DUPNONEED):
                ins.append(_batched(t, w))
        outs: list[Attribute] = []
        for t, k in zip(callee.function_type.outputs.data, self.ret_kinds):
            if k in (CONST, DUP):
                outs.append(t)
            if k in (DUP, DUPNONEED):
                outs.append(_batched(t, w))
        return ins, outs

    def verify_(self) -> None:
        self._check_kinds({CONST, DUP, DUPNONEED}, {CONST, DUP, DUPNONEED, CONSTNONEED})
        callee = _lookup_callee(self, self.fn)
        if callee is None:
            return
        ft = callee.function_type
        if len(self.arg_kinds) != len(ft.inputs.data) or len(self.ret_kinds) != len(ft.outputs.data):
            raise VerifyException(
                f"'{self.name}' op @{self.fn.string_value()} has {len(ft.inputs.data)} arguments and "
                f"{len(ft.outputs.data)} results, but activity has {len(self.arg_kinds)} and ret_activity {len(self.ret_kinds)} entries"
            )
        self._check_signature(*self.expected_types(callee))


@irdl_op_definition
class AutoDiffOp(_DiffOp):
    name = "enzyme.autodiff"

    def expected_types(self, callee: FuncOp) -> tuple[list[Attribute], list[Attribute]]:
        arg_types = list(callee.function_type.inputs.data)
        ret_types = list(callee.function_type.outputs.data)
        ins = list(arg_types)
        for t, k in zip(ret_types, self.ret_kinds):
            if k in (ACTIVE, ACTIVENONEED):
                ins.append(t)
        outs = [t for t, k in zip(ret_types, self.ret_kinds) if k in (ACTIVE, CONST)]
        outs += [t for t, k in zip(arg_types, self.arg_kinds) if k == ACTIVE]
        return ins, outs

    def verify_(self) -> None:
        self._check_kinds({CONST, ACTIVE}, {CONST, ACTIVE, ACTIVENONEED, CONSTNONEED})
        callee = _lookup_callee(self, self.fn)
        if callee is None:
            return
        ft = callee.function_type
        if len(self.arg_kinds) != len(ft.inputs.data) or len(self.ret_kinds) != len(ft.outputs.data):
            raise VerifyException(
                f"'{self.name}' op @{self.fn.string_value()} has {len(ft.inputs.data)} arguments and "
                f"{len(ft.outputs.data)} results, but activity has {len(self.arg_kinds)} and ret_activity {len(self.ret_kinds)} entries"
            )
        self._check_signature(*self.expected_types(callee))


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


Enzyme = Dialect("enzyme", [ForwardDiffOp, AutoDiffOp], [ActivityAttr])
