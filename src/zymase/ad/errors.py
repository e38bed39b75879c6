"""The AD error, and the messages the engine and the rule files share.

Rule files import these (and the IR queries of ``ir/query.py``) instead of the engine,
which imports the rules.
"""

from __future__ import annotations

from xdsl.ir import Operation

from ..ir.query import describe_location


class DiffError(Exception):
    """Differentiation is impossible or unsupported here; the message names the op,
    its source location and the missing rule."""


class NoBatchedRule(DiffError):
    """Raised by a forward rule that builds width-1 tangents only, when asked for width N,
    before it builds anything: the engine then runs it once per direction."""

    def __init__(self, op: Operation, width: int):
        super().__init__(f"no batched (width {width}) forward rule for '{op.name}' at {describe_location(op)}")
        self.op = op


def describe_op(op: Operation) -> str:
    """``'stablehlo.tanh'``; a custom call also names its target: ``'stablehlo.custom_call' @lapack_spotrf_ffi``."""
    target = getattr(op, "call_target_name", None)
    if target is not None and hasattr(target, "data"):
        return f"'{op.name}' @{target.data}"
    return f"'{op.name}'"


def missing_rule(op: Operation, mode: str) -> DiffError:
    """The error for an op in no tier of the rule registry."""
    return DiffError(
        f"no {mode}-mode derivative rule for {describe_op(op)} at {describe_location(op)}: the op is in no tier of the "
        f"rule registry (elementwise, linear, custom or inactive)"
    )


def unsupported(op: Operation, what: str) -> DiffError:
    """``no derivative rule for '<op>' at <location>: <what>``."""
    return DiffError(f"no derivative rule for '{op.name}' at {describe_location(op)}: {what}")
