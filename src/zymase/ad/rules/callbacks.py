"""Host callbacks (ir/host.py) under differentiation, as jax treats them.

- ``host.debug_callback`` has no derivative and no results: it is inactive. Forward mode
  copies it, so it runs with the primal values; reverse mode copies it into the forward
  sweep, so it runs once, with the primal values (as ``jax.grad`` prints them in its
  forward pass), and never in the reverse sweep.
- ``host.pure_callback`` and ``host.io_callback`` have no derivative in jax either: when
  one's result depends on the differentiated arguments, differentiation is refused with
  jax's advice (give the callback a rule with ``jax.custom_jvp`` / ``jax.custom_vjp``,
  which zymase honours). With inputs that do not depend on them, they are constants and
  just run.
- ``sdy.sharding_constraint`` is the identity: on typed PRNG keys (integers) it is never
  active; on float values (``jax.lax.with_sharding_constraint``) it is linear, and its
  tangents and cotangents get the same constraint (ad/rules/collectives.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from xdsl.ir import SSAValue

from ...ir.query import describe_location
from ...ir.builder import Builder
from ...ir.host import DebugCallbackOp, IoCallbackOp, PureCallbackOp, ShardingConstraintOp
from ..errors import DiffError
from ..registry import batched, custom_forward, custom_reverse, inactive, linear

if TYPE_CHECKING:
    from ..engine import ForwardSweep, ReverseSweep

inactive(DebugCallbackOp)


@linear(ShardingConstraintOp)
def sharding_constraint(b: Builder, op: ShardingConstraintOp, ct: SSAValue, i: int, xs: Sequence[SSAValue]) -> SSAValue:
    """constraint(x)^T ct = constraint(ct): the cotangent gets the same sharding"""
    return b.insert(ShardingConstraintOp.create(operands=[ct], result_types=[ct.type], properties={"sharding": op.sharding})).results[0]


@batched(ShardingConstraintOp)
def batched_sharding_constraint(fwd: ForwardSweep, op: ShardingConstraintOp, operands: Sequence[SSAValue], flags: Sequence[bool]) -> SSAValue:
    """the tangents, directions and all"""
    return operands[0]


def not_differentiable(op: PureCallbackOp | IoCallbackOp, mode: str) -> DiffError:
    kind = "pure callbacks" if isinstance(op, PureCallbackOp) else "io callbacks"
    return DiffError(
        f"cannot differentiate {op.callee_name} ('{op.name}') at {describe_location(op)} in {mode} mode: its inputs "
        f"depend on the differentiated arguments, and {kind} have no derivative (as in jax); wrap the callback in "
        f"jax.custom_jvp or jax.custom_vjp to give it one"
    )


@custom_forward(PureCallbackOp, IoCallbackOp)
def callback_forward(fwd: ForwardSweep, op: PureCallbackOp | IoCallbackOp) -> None:
    raise not_differentiable(op, "forward")


@custom_reverse(PureCallbackOp, IoCallbackOp)
def callback_reverse(rev: ReverseSweep, op: PureCallbackOp | IoCallbackOp) -> None:
    raise not_differentiable(op, "reverse")
