"""The ub dialect's ``ub.poison``: a value of any type whose contents are undefined
(MLIR's ``%p = ub.poison : f32``). zymase runs it as zeros (any value is allowed) and
it carries no derivative (it has no operands)."""

from __future__ import annotations

from xdsl.ir import Attribute, Dialect
from xdsl.irdl import IRDLOperation, irdl_op_definition, result_def, traits_def
from xdsl.traits import Pure


@irdl_op_definition
class PoisonOp(IRDLOperation):
    name = "ub.poison"
    result = result_def()
    traits = traits_def(Pure())
    assembly_format = "attr-dict `:` type($result)"

    def __init__(self, t: Attribute):
        super().__init__(result_types=[t])


UB = Dialect("ub", [PoisonOp], [])

__all__ = ["PoisonOp", "UB"]
