"""The derivative-rule registry, in three tiers.

- **Elementwise** ops give only their partial derivatives, one per operand, built from
  the primal operands ``xs`` and the primal result ``ans``; forward and reverse modes are
  derived from them (``t_ans = sum_i p_i * t_x_i``, ``ct_x_i += p_i * ct``).
- **Linear** ops give their transposes. ``jointly`` linear ops (add, pad, concatenate,
  select in its branches, ...) are linear in all their differentiable operands together:
  the tangent is the op applied to the tangents. ``multilinear`` ops (multiply,
  dot_general, convolution) are linear in each operand separately: the tangent is the sum
  over operands of the op with that operand replaced by its tangent.
- **Custom** ops (loops, branches, reductions, gather/scatter, sort, calls, ...) give
  full forward and reverse functions.

Non-differentiable ops are declared *inactive*: their results have zero derivative.
A rule never checks activity, never materializes zeros and never accumulates: the engine
does that bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xdsl.ir import Operation, SSAValue

from ..ir.builder import Builder

if TYPE_CHECKING:
    from .engine import ForwardSweep, ReverseSweep

Partials = Callable[[Builder, Sequence[SSAValue], SSAValue, Operation], Sequence[SSAValue | None]]
Transpose = Callable[[Builder, Operation, SSAValue, int, Sequence[SSAValue]], SSAValue | None]


@dataclass
class ElementwiseRule:
    partials: Partials
    """``partials(b, xs, ans, op)``: d ans / d xs[i] for each operand (None: not differentiable)."""


@dataclass
class LinearRule:
    transpose: Transpose
    """``transpose(b, op, ct, i, xs)``: the cotangent of operand ``i`` given the result's ``ct``
    (None: no contribution, when another operand's cotangent carries it all)."""
    operands: tuple[int, ...] | None = None
    """Indices of the differentiable operands (None: all of them)."""
    multilinear: bool = False


@dataclass
class CustomRule:
    forward: Callable[[ForwardSweep, Operation], None] | None = None
    reverse: Callable[[ReverseSweep, Operation], None] | None = None
    augment: Callable[[ReverseSweep, Operation], Operation] | None = None
    """Builds the op's primal in the forward sweep of reverse mode, keeping what the
    reverse sweep needs (a loop's tape); by default the op is cloned."""


ELEMENTWISE: dict[type[Operation], ElementwiseRule] = {}
LINEAR: dict[type[Operation], LinearRule] = {}
CUSTOM: dict[type[Operation], CustomRule] = {}
INACTIVE: set[type[Operation]] = set()
BATCHED: dict[type[Operation], Callable[..., SSAValue]] = {}
"""Width-N forward rules of linear ops: ``rule(fwd, op, operands, batched)`` applies
``op`` to operands of which those flagged in ``batched`` carry a leading direction
dimension (``fwd.width``), returning the batched result."""


BATCHED_TRANSPOSE: dict[type[Operation], Callable[..., SSAValue | None]] = {}
"""Width-N reverse rules of linear ops: ``rule(rev, op, ct, i, xs)`` is the transpose
for a cotangent ``ct`` with a leading dimension of ``rev.width`` cotangents (``xs``, the
primal operands, have none); it returns operand ``i``'s cotangent, batched likewise."""
BATCHED_REVERSE: set[type[Operation]] = set()
"""Ops whose custom reverse rule handles width N (adjoints with a leading dimension of
``rev.width``); such a rule may still raise ``NoBatchedRule`` for a case it does not
handle, before building anything. The engine runs the reverse rule of any other op once
per cotangent (``ReverseSweep.per_direction``)."""


def batched_transpose(*classes: type[Operation]) -> Callable:
    def register(fn: Callable) -> Callable:
        for cls in classes:
            BATCHED_TRANSPOSE[cls] = fn
        return fn

    return register


def batched_reverse(*classes: type[Operation]) -> None:
    BATCHED_REVERSE.update(classes)


def elementwise(*classes: type[Operation]) -> Callable[[Partials], Partials]:
    def register(fn: Partials) -> Partials:
        for cls in classes:
            ELEMENTWISE[cls] = ElementwiseRule(fn)
        return fn

    return register


def linear(*classes: type[Operation], operands: Sequence[int] | None = None, multilinear: bool = False) -> Callable[[Transpose], Transpose]:
    def register(fn: Transpose) -> Transpose:
        for cls in classes:
            LINEAR[cls] = LinearRule(fn, tuple(operands) if operands is not None else None, multilinear)
        return fn

    return register


def _custom(part: str, classes: Sequence[type[Operation]]) -> Callable:
    def register(fn: Callable) -> Callable:
        for cls in classes:
            setattr(CUSTOM.setdefault(cls, CustomRule()), part, fn)
        return fn

    return register


def custom_forward(*classes: type[Operation]) -> Callable:
    return _custom("forward", classes)


def custom_reverse(*classes: type[Operation]) -> Callable:
    return _custom("reverse", classes)


def custom_augment(*classes: type[Operation]) -> Callable:
    return _custom("augment", classes)


def batched(*classes: type[Operation]) -> Callable:
    def register(fn: Callable) -> Callable:
        for cls in classes:
            BATCHED[cls] = fn
        return fn

    return register


def inactive(*classes: type[Operation]) -> None:
    INACTIVE.update(classes)


def tier_of(cls: type[Operation]) -> str | None:
    if cls in ELEMENTWISE:
        return "elementwise"
    if cls in LINEAR:
        return "linear"
    if cls in CUSTOM:
        return "custom"
    if cls in INACTIVE:
        return "inactive"
    return None


def load_rules() -> None:
    from .rules import callbacks as _cb, complex as _c, control, custom, elementwise as _e, linear as _l, scf, structured  # noqa: F401
    from .rules import linalg as _linalg  # noqa: F401
    from .rules import collectives as _coll  # noqa: F401
    from .rules import math_extra as _mx  # noqa: F401
    from .rules import complex_scalar as _cs  # noqa: F401  (the complex dialect, on scalars)
