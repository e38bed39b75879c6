"""Rewrite-rule machinery: one identity = one small named function.

```python
@rule(example=Example(lambda x: x + 0.0, [(4,)]))
def add_zero(op: hlo.AddOp, b: Builder):
    \"\"\"add(x, 0) -> x\"\"\"
    if is_zero(op.rhs):
        return op.lhs
    return None
```

A rule receives the root op (the type annotation of its first parameter is the root op
class) and a Builder that inserts before it; it returns the replacement value (for a
single-result op), a sequence of values (one per result), or None when it does not apply.
Rules check their conditions before building anything.

The driver (``HloOptPass``) dispatches rules by root op class through a dict, runs xDSL's
worklist rewriter to a fixpoint with an iteration bound, and counts hits per rule
(``ZYMASE_RULE_STATS=1`` prints them at exit).
"""

from __future__ import annotations

import atexit
import inspect
import os
import typing
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern
from xdsl.rewriter import InsertPoint

from ..ir.builder import Builder, constant_value

RuleFn = Callable[[Any, Builder], "SSAValue | Sequence[SSAValue] | None"]


@dataclass
class Example:
    """A minimal program the rule fires on: a JAX function with argument shapes (and an
    input domain), or MLIR text whose function ``@main`` is checked."""

    fn: Callable | None = None
    shapes: Sequence[tuple[int, ...]] = ()
    mlir: str | None = None
    domain: tuple[float, float] = (-2.0, 2.0)
    dtypes: Sequence[str] | None = None


@dataclass
class Rule:
    name: str
    roots: tuple[type[Operation], ...]
    fn: RuleFn
    identity: str
    family: str
    example: Example | None
    unsafe: bool = False
    """Only valid when values are finite (no NaN or Inf): off unless ``assume_finite``."""


RULES: dict[str, Rule] = {}
BY_ROOT: dict[type[Operation], list[Rule]] = {}
STATS: Counter[str] = Counter()


def rule(
    example: Example | None = None,
    roots: Sequence[type[Operation]] | None = None,
    unsafe: bool = False,
) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        name = fn.__name__
        if name in RULES:
            raise ValueError(f"duplicate rewrite rule name {name!r}")
        root_classes = tuple(roots) if roots is not None else _root_from_annotation(fn)
        identity = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        if "->" not in identity:
            raise ValueError(f"rule {name}: the docstring's first line must state the identity 'lhs -> rhs'")
        family = fn.__module__.rsplit(".", 1)[-1]
        r = Rule(name, root_classes, fn, identity, family, example, unsafe)
        RULES[name] = r
        for cls in root_classes:
            BY_ROOT.setdefault(cls, []).append(r)
        return fn

    return register


def _root_from_annotation(fn: RuleFn) -> tuple[type[Operation], ...]:
    hints = typing.get_type_hints(fn, globalns=fn.__globals__)
    first = next(iter(inspect.signature(fn).parameters))
    ann = hints.get(first)
    if ann is None:
        raise ValueError(f"rule {fn.__name__}: annotate the first parameter with the root op class")
    args = typing.get_args(ann)
    return tuple(args) if args else (ann,)


def load_rules() -> None:
    from . import rules  # noqa: F401  (registers every family)


# ============================================================================ match helpers


def producer(v: SSAValue, cls: type[Operation] | tuple[type[Operation], ...]) -> Any:
    """The op defining ``v`` if it is an instance of ``cls``, else None."""
    owner = v.owner
    return owner if isinstance(owner, cls) else None


def value_of(v: SSAValue) -> np.ndarray | None:
    """The constant value of ``v`` (constants and broadcasts of constants), else None."""
    return constant_value(v)


def splat_value(v: SSAValue) -> Any:
    """The single value every element of ``v`` has when ``v`` is constant, else None
    (a broadcast of a scalar constant is read without materializing it)."""
    from ..ir import stablehlo as hlo

    owner = v.owner
    while isinstance(owner, (hlo.BroadcastInDimOp, hlo.ReshapeOp)):
        v = owner.operand
        owner = v.owner
    value = constant_value(v)
    if value is None or value.size == 0:
        return None
    first = value.reshape(-1)[0]
    if np.all(value == first):
        return first.item()
    return None


def is_splat(v: SSAValue, x: float) -> bool:
    s = splat_value(v)
    return s is not None and s == x


def _stablehlo_subclasses(base: type) -> tuple[type, ...]:
    out: list[type] = []
    for cls in base.__subclasses__():
        if getattr(cls, "name", "").startswith("stablehlo."):
            out.append(cls)
        out.extend(_stablehlo_subclasses(cls))
    return tuple(out)


def _elementwise_classes() -> tuple[tuple[type, ...], tuple[type, ...]]:
    from ..ir import stablehlo as hlo

    unary = _stablehlo_subclasses(hlo.UnaryElementwiseOp)
    binary = (*_stablehlo_subclasses(hlo.BinaryElementwiseOp), hlo.CompareOp)
    return unary, binary


UNARY_ELEMENTWISE, BINARY_ELEMENTWISE = _elementwise_classes()
"""The StableHLO elementwise op classes with one operand, and with two (compare included)."""


def is_dead(op: Operation, depth: int = 4) -> bool:
    """``op`` has results and none is used by a live op (looking ``depth`` users deep)."""
    if not op.results or depth == 0:
        return False
    return all(is_dead(use.operation, depth - 1) for r in op.results for use in r.uses)


def only_used_by(v: SSAValue, op: Operation) -> bool:
    """Every live user of ``v`` is ``op`` (so rewriting ``op`` may consume ``v``)."""
    return all(use.operation is op or is_dead(use.operation) for use in v.uses)


def sole_producer(v: SSAValue, cls: type[Operation], op: Operation) -> Any:
    """The ``cls`` op defining ``v`` when ``op`` is its only live user, else None (a rule
    rooted at ``op`` may then rewrite the producer away)."""
    owner = producer(v, cls)
    if owner is None or not only_used_by(owner.results[0], op):
        return None
    return owner


def single_use(v: SSAValue) -> bool:
    return v.has_one_use() if hasattr(v, "has_one_use") else len(list(v.uses)) == 1


def shape(v: SSAValue) -> tuple[int, ...]:
    t = v.type
    return tuple(t.get_shape()) if isinstance(t, TensorType) else ()


def is_float_tensor(v: SSAValue) -> bool:
    from ..ir.dense import is_float_type

    return is_float_type(v.type)


# ============================================================================ driver


@dataclass
class _Dispatch(RewritePattern):
    enabled: dict[str, bool]
    budget: list[int]

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        rules = BY_ROOT.get(type(op))
        if not rules or self.budget[0] <= 0:
            return
        b = Builder(InsertPoint.before(op), op.location, rewriter)  # one per visit: rules that do not fire build nothing
        for r in rules:
            if not self.enabled.get(r.name, False):
                continue
            out = r.fn(op, b)
            if out is None:
                continue
            values = [out] if isinstance(out, SSAValue) else list(out)
            if len(values) != len(op.results):
                raise RuntimeError(f"rule {r.name} returned {len(values)} values for an op with {len(op.results)} results")
            for old, new in zip(op.results, values):
                if old.type != new.type:
                    raise RuntimeError(f"rule {r.name} changed a type: {old.type} -> {new.type}")
            producers = [v.owner for v in op.operands if isinstance(v.owner, Operation)]
            rewriter.replace(op, [], values)
            _erase_dead_producers(producers, rewriter)
            STATS[r.name] += 1
            self.budget[0] -= 1
            return


def _erase_dead_producers(ops: list[Operation], rewriter: PatternRewriter) -> None:
    """Erase pure ops left without users by a rewrite, and their producers in turn, so
    that use counts (``single_use``) seen by later rules are exact."""
    from xdsl.traits import is_side_effect_free

    work = list(ops)
    while work:
        o = work.pop()
        if o.parent is None or any(True for r in o.results for _ in r.uses):
            continue
        if not is_side_effect_free(o):
            continue
        work.extend(v.owner for v in o.operands if isinstance(v.owner, Operation))
        rewriter.erase(o)


def enabled_rules(assume_finite: bool = False, only: Sequence[str] | None = None, disable: Sequence[str] = ()) -> dict[str, bool]:
    load_rules()
    unknown = [n for n in [*(only or ()), *disable] if n not in RULES]
    if unknown:
        raise KeyError(f"unknown rewrite rule(s): {', '.join(unknown)} (zymase-opt --list-rules lists them)")
    names = set(only) if only else set(RULES)
    return {n: (n in names and n not in disable and (assume_finite or not RULES[n].unsafe)) for n in RULES}


def optimize(module: ModuleOp, assume_finite: bool = False, only: Sequence[str] | None = None, disable: Sequence[str] = (), max_rewrites: int = 100_000) -> int:
    """Apply the rewrite rules to a fixpoint (or until ``max_rewrites``); returns the number of rewrites."""
    enabled = enabled_rules(assume_finite, only, disable)
    budget = [max_rewrites]
    PatternRewriteWalker(_Dispatch(enabled, budget), apply_recursively=True).rewrite_module(module)
    from xdsl.transforms.dead_code_elimination import DeadCodeElimination

    DeadCodeElimination().apply(Context(), module)
    return max_rewrites - budget[0]


def _split(names: str | tuple) -> tuple[str, ...]:
    if isinstance(names, tuple):
        return names
    return tuple(n for n in names.split(",") if n) if names else ()


@dataclass(frozen=True)
class HloOptPass(ModulePass):
    """The tensor optimizer: zymase's StableHLO rewrite rules, to a fixpoint."""

    name = "zymase-hlo-opt"

    assume_finite: bool = False
    rules: str = ""
    disable: str = ""
    max_rewrites: int = 100_000

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        only = _split(self.rules) or None
        optimize(op, self.assume_finite, only, _split(self.disable), self.max_rewrites)


def _print_stats() -> None:
    if os.environ.get("ZYMASE_RULE_STATS") and STATS:
        import sys

        print("zymase rewrite-rule hits:", file=sys.stderr)
        for name, n in STATS.most_common():
            print(f"  {n:8d}  {name}", file=sys.stderr)


atexit.register(_print_stats)
