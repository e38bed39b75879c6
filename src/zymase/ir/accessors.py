"""Named operands and results of xDSL ops (``op.lhs``, ``op.operand``, ``op.result``),
read in one step.

xDSL's accessor for a single operand or result declared before any variadic one reads
``args[idx]`` of the op's operand view (or result tuple), found through two function
calls and a view object: about 2.5 us per read, three times the read itself. Rules,
derivative rules, the emitter and the analyses read these names tens of thousands of
times per compilation of a deep network (about 55,000 reads in a first call of
``zymase.grad`` on a 200-layer MLP). The accessor here returns ``op._operands[idx]`` or
``op.results[idx]`` directly: the same value, from the same tuple, as xDSL's
``BeforeVariadicSingleAccessor.index``; regions and successors, and every other kind of
accessor, keep xDSL's code.

``TensorType.get_shape()`` likewise: xDSL builds the tuple of dimensions from the type's
``IntAttr`` parameters on every call (35,000 calls in that first call); here it is built
once per type object and kept in the object's ``__dict__`` (a type is immutable; equality,
hashing and printing read its parameters only).

Installed on import (``zymase.ir`` imports this module).
"""

from __future__ import annotations

from typing import Any

from xdsl.dialects.builtin import TensorType
from xdsl.irdl.operations import BeforeVariadicSingleAccessor, VarIRConstruct

_OPERAND = VarIRConstruct.OPERAND
_RESULT = VarIRConstruct.RESULT
_XDSL_GET = BeforeVariadicSingleAccessor.__get__


def _get(self: BeforeVariadicSingleAccessor, obj: Any, objtype: Any = None) -> Any:
    if obj is not None:
        construct = self.construct
        if construct is _OPERAND:
            return obj._operands[self.idx]  # pyright: ignore[reportPrivateUsage]  (what op.operands[idx] reads)
        if construct is _RESULT:
            return obj.results[self.idx]
    return _XDSL_GET(self, obj, objtype)


def _tensor_shape(self: TensorType) -> tuple[int, ...]:
    fields = self.__dict__
    shape = fields.get("_zymase_shape")
    if shape is None:
        shape = fields["_zymase_shape"] = tuple(i.data for i in self.shape.data)
    return shape


def install() -> None:
    if BeforeVariadicSingleAccessor.__get__ is not _get:
        BeforeVariadicSingleAccessor.__get__ = _get  # type: ignore[method-assign]
    if TensorType.get_shape is not _tensor_shape:
        TensorType.get_shape = _tensor_shape  # type: ignore[method-assign]


install()
