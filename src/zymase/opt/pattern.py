"""Rewrite-rule machinery: one identity = one small named function.

```python
@rule(example=Example(lambda x: x / 1.0, [(4,)]))
def divide_one(op: hlo.DivideOp, b: Builder):
    \"\"\"divide(x, 1) -> x\"\"\"
    if is_splat(op.rhs, 1):
        return op.lhs
    return None
```

A rule receives the root op (the type annotation of its first parameter is the root op
class) and a Builder that inserts before it; it returns the replacement value (for a
single-result op), a sequence of values (one per result), or None when it does not apply.
Rules check their conditions before building anything. Every rule has a name, an identity
(the first line of its docstring, ``lhs -> rhs``) and one example or a list of examples
(``Example``), each a program the rule fires on; the tests check the values before and
after on each.

Commutative rules. ``@rule(commutative=True)`` states a rule for one operand order of a
binary op; the driver tries it on both orders when the root is commutative (add, multiply,
maximum, minimum, and, or, xor, and compare with direction EQ or NE). Such a rule takes
the operand pair after the builder, in the order it is written for::

    @rule(example=[Example(lambda x: x + 0.0, [(4,)]), Example(lambda x: 0.0 + x, [(4,)])], commutative=True)
    def add_zero(op: hlo.AddOp, b: Builder, x: SSAValue, y: SSAValue):
        \"\"\"add(x, 0) -> x\"\"\"
        if is_splat(y, 0):
            return x
        return None

The driver calls ``add_zero(op, b, op.lhs, op.rhs)`` and, when that declines (having built
nothing), ``add_zero(op, b, op.rhs, op.lhs)``; ``op`` is always the real op, so its type,
attributes and uses are what they are. On a non-commutative root (a rule rooted at every
binary op, say) only the first order is tried. A rule that builds the root op again from
new operands may pass them in its own order: the op is commutative whenever the order was
swapped. A rule that must keep the operand positions of any binary op (``f(c, g(x)) ->
g(f(c, x))`` for a subtract as well) iterates ``sides(op)`` instead, whose ``place`` puts
new operands back where they were; ``orders(p)`` gives both operand orders of a
commutative producer ``p`` matched inside the pattern.

Needs. Most rules decline at once unless an operand of the root is produced by some op
class (``negate(negate(x))``, ``add(x, 0)``); ``@rule(needs=...)`` states that, so the
driver skips the rule without calling it:

- ``needs=hlo.NegateOp`` or ``needs=(hlo.SliceOp, hlo.PadOp)``: the rule fires only when
  *some* operand of the root is produced by an op of one of these classes (the form for
  commutative rules, whose driver passes the operands in either order, and for rules that
  look at every operand: ``sides(op)``, ``beside_splat``, the inputs of a concatenate);
- ``needs={0: hlo.NegateOp, 1: hlo.NegateOp}``: operand ``k`` is produced by one of the
  classes given for ``k``, for every ``k`` listed (``op.lhs`` is operand 0, ``op.rhs``
  operand 1, ``select``'s predicate 0; not for commutative rules).

Needs are checked with ``isinstance`` on each operand's defining op (a block argument
matches nothing): a class covers its subclasses, and ``UNARY_ELEMENTWISE`` works as a
class tuple. ``CONSTANT`` and ``SPLAT`` are the producers of the values the constant
readers see (``value_of``, ``constant_splat``, ...; ``splat_value``, ``is_splat``, which
look through reshapes too). Needs must hold on every path on which the rule can fire:
when a rule has several paths (``f(x, 0)`` or ``f(negate(x), y)``) they cover all of
them (a superset), and a rule whose need is not plain stays without: it is always tried.
The driver computes the producer classes of the root's operands once per visit and keeps,
per root class and producer classes, the list of rules to try. ``ZYMASE_RULE_FILTER=0``
(or ``optimize(rule_filter=False)``) turns the filter off: every enabled rule of the root
is tried, and tests check that the output is the same either way.

Per-visit memo. ``@per_visit`` on a helper of one argument (``reduce``'s combiner kind)
computes it once per visit of the driver, shared by all the rules tried on the root: a rule
that declines has changed nothing, so the value stays valid until the visit ends.

Helpers the rule families share (rebuilding an elementwise op, reading and emitting
constants bit-exactly, dimension bookkeeping, example MLIR) are in ``rules/common.py``.

The driver (``HloOptPass``) dispatches rules by root op class through a dict, runs xDSL's
worklist rewriter to a fixpoint with an iteration bound, and counts hits per rule
(``ZYMASE_RULE_STATS=1`` prints them at exit). Rule families are imported lazily: before
the driver plans the rules of a new (root class, producer classes) pair, it imports the
families with a rule rooted at that class whose needs those producers admit
(``rules.load_admitted``), so a run imports only the families the module's ops (and the
ops rewrites create) can trigger. ``load_rules()`` imports them all.
"""

from __future__ import annotations

import atexit
import bisect
import os
import sys
import typing
from abc import ABCMeta
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern
from xdsl.rewriter import InsertPoint

from ..ir import stablehlo as hlo
from ..ir.builder import Builder, constant_value
from ..ir.dense import is_compact_splat, is_float_type, splat_element
from ..ir.query import shape  # noqa: F401  (the rule files import it from here)

if TYPE_CHECKING:
    import numpy as np

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
    examples: tuple[Example, ...]
    unsafe: bool = False
    """Only valid when values are finite (no NaN or Inf): off unless ``assume_finite``."""
    commutative: bool = False
    """Written for one operand order; tried on both for a commutative root (see above)."""
    needs: Needs | None = None
    """What the rule needs from its root's operands' producers (see "Needs" above), or
    None: the rule is always tried."""

    @property
    def example(self) -> Example | None:
        return self.examples[0] if self.examples else None

    def apply(self, op: Operation, b: Builder) -> SSAValue | Sequence[SSAValue] | None:
        """The rule's replacement for ``op``, or None."""
        if not self.commutative:
            return self.fn(op, b)
        lhs, rhs = op._operands  # pyright: ignore[reportPrivateUsage]  (op.operands, without its view object)
        out = self.fn(op, b, lhs, rhs)
        if out is None and lhs is not rhs and is_commutative(op):
            out = self.fn(op, b, rhs, lhs)
        return out

    def admits(self, kinds: tuple[type, ...]) -> bool:
        """Whether the rule may fire on a root whose operands are produced by ops of the
        classes ``kinds`` (in operand order; a block argument's is ``Block``)."""
        return self.needs is None or self.needs.admits(kinds)


@dataclass(frozen=True)
class Needs:
    """A rule's precondition on the producers of its root's operands, checked by the
    driver before the rule is called (see "Needs" in the module docstring)."""

    some: tuple[type[Operation], ...] | None = None
    """Some operand is produced by an op of one of these classes."""
    at: tuple[tuple[int, tuple[type[Operation], ...]], ...] = ()
    """``(k, classes)``: operand ``k`` is produced by an op of one of ``classes``."""

    def admits(self, kinds: tuple[type, ...]) -> bool:
        if self.some is not None and not any(issubclass(k, self.some) for k in kinds):
            return False
        return all(k < len(kinds) and issubclass(kinds[k], classes) for k, classes in self.at)


_OP_CLASSES: set[type] = set()
"""The classes ``_classes`` has checked to be op classes (checked once each)."""


def _is_op_class(c: Any) -> bool:
    if c in _OP_CLASSES:
        return True
    if isinstance(c, type) and (issubclass(c, Operation) or c is ArithConstant):
        _OP_CLASSES.add(c)
        return True
    return False


def _classes(name: str, spec: Any) -> tuple[type[Operation], ...]:
    out = (spec,) if isinstance(spec, type) else tuple(spec)
    if not out or not all(_is_op_class(c) for c in out):
        raise ValueError(f"rule {name}: needs names op classes, got {spec!r}")
    return out


def _needs(name: str, spec: Any, commutative: bool) -> Needs | None:
    """The ``Needs`` of ``@rule(needs=spec)``."""
    if spec is None:
        return None
    if isinstance(spec, dict):
        if commutative:
            raise ValueError(f"rule {name}: a commutative rule sees its operands in either order; give needs as the classes some operand is produced by")
        return Needs(at=tuple((int(k), _classes(name, v)) for k, v in sorted(spec.items())))
    return Needs(some=_classes(name, spec))


RULES: dict[str, Rule] = {}
BY_ROOT: dict[type[Operation], list[Rule]] = {}
STATS: Counter[str] = Counter()


def rule(
    example: Example | Sequence[Example] | None = None,
    roots: Sequence[type[Operation]] | None = None,
    unsafe: bool = False,
    commutative: bool = False,
    needs: Any = None,
) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        name = fn.__name__
        if name in RULES:
            raise ValueError(f"duplicate rewrite rule name {name!r}")
        root_classes = tuple(roots) if roots is not None else _root_from_annotation(fn)
        identity = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        if "->" not in identity:
            raise ValueError(f"rule {name}: the docstring's first line must state the identity 'lhs -> rhs'")
        if commutative and fn.__code__.co_argcount != 4:  # type: ignore[attr-defined]
            raise ValueError(f"rule {name}: a commutative rule takes (op, b, x, y)")
        examples = () if example is None else (example,) if isinstance(example, Example) else tuple(example)
        family = fn.__module__.rsplit(".", 1)[-1]
        r = Rule(name, root_classes, fn, identity, family, examples, unsafe, commutative, _needs(name, needs, commutative))
        RULES[name] = r
        _ORDER[name] = len(_ORDER)
        _RANKS[name] = _rank(r)
        for cls in root_classes:  # in rank order: it does not depend on which family was imported first
            bisect.insort(BY_ROOT.setdefault(cls, []), r, key=_ranked)
        return fn

    return register


_ANNOTATIONS: dict[tuple[str, str], Any] = {}
"""(module, annotation text) -> its value: the rules of a family share a few root annotations."""


_ORDER: dict[str, int] = {}
"""Rule name -> position in the order of registration."""

_RANKS: dict[str, tuple[int, int]] = {}
"""Rule name -> its ``_rank``, computed once (at registration)."""


def _ranked(r: Rule) -> tuple[int, int]:
    return _RANKS[r.name]


def _rank(r: Rule) -> tuple[int, int]:
    """Rules of a root are tried family by family as ``load_rules()`` registers them (by
    name, a family after those it imports), each family's in the order it defines them."""
    from .rules import family_rank

    return family_rank(r.family), _ORDER[r.name]


def _root_from_annotation(fn: RuleFn) -> tuple[type[Operation], ...]:
    code = fn.__code__  # type: ignore[attr-defined]
    ann = fn.__annotations__.get(code.co_varnames[0]) if code.co_argcount else None
    if ann is None:
        raise ValueError(f"rule {fn.__name__}: annotate the first parameter with the root op class")
    if isinstance(ann, str):  # the rule files use `from __future__ import annotations`
        key = (fn.__module__, ann)
        if key not in _ANNOTATIONS:
            _ANNOTATIONS[key] = eval(ann, fn.__globals__)  # noqa: S307  (a root annotation, as typing.get_type_hints does)
        ann = _ANNOTATIONS[key]
    args = typing.get_args(ann)
    return tuple(args) if args else (ann,)


def load_rules() -> None:
    """Import every rule family (``--list-rules``, the tests, rule names given by the user)."""
    from .rules import load_all

    load_all()


# ============================================================================ match helpers


class ArithConstant(metaclass=ABCMeta):
    """Stands for xDSL's ``arith.ConstantOp`` in ``isinstance`` / ``issubclass`` tests
    (and in ``needs``) without importing the arith dialect, which a StableHLO module does
    not use: before the dialect is loaded no class is a subclass (the answers ``abc``
    caches stay right), afterwards exactly ``arith.ConstantOp`` and its subclasses are."""

    @classmethod
    def __subclasshook__(cls, other: type) -> bool:
        arith = sys.modules.get("xdsl.dialects.arith")
        return arith is not None and issubclass(other, arith.ConstantOp)


CONSTANT: tuple[type[Operation], ...] = (hlo.ConstantOp, hlo.BroadcastInDimOp, ArithConstant)  # type: ignore[assignment]
"""The ops that may produce a value the constant readers read (``value_of``, and in
``rules/common.py`` ``constant_splat``, ``constant_array``, ``dense_constant``,
``is_constant``, ``all_ones``, ``integer_zero``, ``single_number``, ``splat_scalar``):
for ``needs``, a rule that declines unless operand k is such a constant needs
``{k: CONSTANT}``."""

SPLAT: tuple[type[Operation], ...] = (*CONSTANT, hlo.ReshapeOp)
"""The ops that may produce a value ``splat_value`` / ``is_splat`` read (they look through
reshapes too): ``needs={k: SPLAT}`` for a rule that declines unless operand k splats."""


def producer(v: SSAValue, cls: type[Operation] | tuple[type[Operation], ...]) -> Any:
    """The op defining ``v`` if it is an instance of ``cls``, else None."""
    owner = v.owner
    return owner if isinstance(owner, cls) else None


def value_of(v: SSAValue) -> np.ndarray | None:
    """The constant value of ``v`` (constants and broadcasts of constants), else None."""
    return constant_value(v)


_LOOKED_THROUGH = (hlo.BroadcastInDimOp, hlo.ReshapeOp)


def splat_value(v: SSAValue) -> Any:
    """The single value every element of ``v`` has when ``v`` is constant, else None
    (a broadcast of a scalar constant is read without materializing it)."""
    owner = v.owner
    while isinstance(owner, _LOOKED_THROUGH):
        v = owner._operands[0]  # pyright: ignore[reportPrivateUsage]  (owner.operand, without xDSL's accessor)
        owner = v.owner
    if not isinstance(owner, CONSTANT):
        return None  # what constant_value would say, without its calls
    import numpy as np

    if isinstance(owner, hlo.ConstantOp) and is_compact_splat(owner.value):  # read without expanding it
        one = splat_element(owner.value).item()
        return one if one == one else None  # NaN: not a splat by ==, as below

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


def is_commutative(op: Operation) -> bool:
    """``op`` is a binary op whose operands may be swapped: add, multiply, maximum,
    minimum, and, or, xor, or a compare by EQ or NE."""
    if isinstance(op, hlo.CommutativeBinaryOp):
        return True
    return isinstance(op, hlo.CompareOp) and op.comparison_direction.data.value in ("EQ", "NE")


def orders(op: Operation) -> tuple[tuple[SSAValue, SSAValue], tuple[SSAValue, SSAValue]]:
    """Both operand orders ``(lhs, rhs)``, ``(rhs, lhs)`` of a commutative binary op
    matched inside a pattern (the root's orders are the driver's, see ``commutative``)."""
    lhs, rhs = op._operands[0], op._operands[1]  # pyright: ignore[reportPrivateUsage]  (op.lhs, op.rhs, without xDSL's accessors)
    return (lhs, rhs), (rhs, lhs)


def sides(op: Operation):
    """For a binary op, ``(mine, other, place)`` with ``mine`` the lhs, then the rhs:
    ``place(new_mine, new_other)`` lists new operands in the op's order, so a rule that
    sinks something through either operand builds the op again with its operand
    positions kept (for a non-commutative op too)."""
    lhs, rhs = op._operands[0], op._operands[1]  # pyright: ignore[reportPrivateUsage]  (op.lhs, op.rhs)
    yield lhs, rhs, _in_order
    yield rhs, lhs, _swapped


def _in_order(m: SSAValue, o: SSAValue) -> list[SSAValue]:
    return [m, o]


def _swapped(m: SSAValue, o: SSAValue) -> list[SSAValue]:
    return [o, m]


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


def is_float_tensor(v: SSAValue) -> bool:
    return is_float_type(v.type)


# ============================================================================ driver


def rule_filter_enabled() -> bool:
    """The driver's pre-filter on ``needs`` is on unless ``ZYMASE_RULE_FILTER=0`` (then
    every enabled rule of a root is tried, as if no rule declared its needs)."""
    return os.environ.get("ZYMASE_RULE_FILTER", "1") not in ("0", "false", "off")


_VISIT: list[dict | None] = [None]
"""The memo of the driver's current visit (``per_visit``), None outside one."""


def per_visit(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``fn(x)`` computed once per visit of the driver: the rules tried on one root share
    it (a rule that declines has built and changed nothing, so it stays valid until the
    visit ends). Outside the driver, plain ``fn(x)``."""

    def memoized(x: Any) -> Any:
        memo = _VISIT[0]
        if memo is None:
            return fn(x)
        key = (memoized, x)
        try:
            return memo[key]
        except KeyError:
            out = memo[key] = fn(x)
            return out

    memoized.__name__, memoized.__doc__, memoized.__wrapped__ = fn.__name__, fn.__doc__, fn  # type: ignore[attr-defined]
    return memoized


@dataclass(frozen=True)
class Enabled:
    """Which rules a run of the driver may apply: the safe ones (and the unsafe ones under
    ``assume_finite``), only those named in ``only`` when it is given, none in ``disable``."""

    assume_finite: bool = False
    only: frozenset[str] | None = None
    disable: frozenset[str] = frozenset()

    def __call__(self, r: Rule) -> bool:
        if self.only is not None and r.name not in self.only:
            return False
        return r.name not in self.disable and (self.assume_finite or not r.unsafe)


@dataclass
class _Dispatch(RewritePattern):
    enabled: Enabled
    budget: list[int]
    filter: bool = True
    plans: dict[Any, tuple[tuple[Rule, Callable], ...]] = field(default_factory=dict)
    """The rules to try, by root class (and, with the filter, its operands' producer
    classes), each with what to call: the rule's function, or ``Rule.apply`` for a
    commutative rule (both operand orders)."""

    def _plan(self, cls: type[Operation], kinds: tuple[type, ...] | None) -> tuple[tuple[Rule, Callable], ...]:
        rules = (r for r in BY_ROOT.get(cls, ()) if self.enabled(r))
        return tuple((r, r.apply if r.commutative else r.fn) for r in rules if kinds is None or r.admits(kinds))

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        cls = type(op)
        if self.budget[0] <= 0:
            return
        if self.filter:
            kinds = tuple([type(v.owner) for v in op._operands])  # pyright: ignore[reportPrivateUsage]
            key: Any = (cls, kinds)
        else:
            kinds, key = None, cls
        rules = self.plans.get(key)
        if rules is None:  # before the plan: every rule rooted at cls that kinds admits is registered
            from .rules import load_admitted

            load_admitted(cls, kinds)
            rules = self.plans[key] = self._plan(cls, kinds)
        if not rules:
            return
        where = rewriter.insertion_point  # the walker's InsertPoint.before(op), reused
        if where.insert_before is not op:
            where = InsertPoint.before(op)
        b = Builder(where, op.location, rewriter)  # one per visit: rules that do not fire build nothing
        _VISIT[0] = {}
        try:
            for r, apply in rules:
                out = apply(op, b)
                if out is not None:
                    break
            else:
                return
        finally:
            _VISIT[0] = None
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


def _erase_dead_producers(ops: list[Operation], rewriter: PatternRewriter) -> None:
    """Erase pure ops left without users by a rewrite, and their producers in turn, so
    that use counts (``single_use``) seen by later rules are exact."""
    from .cleanup import side_effect_free

    work = list(ops)
    while work:
        o = work.pop()
        if o.parent is None or any(True for r in o.results for _ in r.uses):
            continue
        if not side_effect_free(o):
            continue
        work.extend(v.owner for v in o.operands if isinstance(v.owner, Operation))
        rewriter.erase(o)


def enabled_rules(assume_finite: bool = False, only: Sequence[str] | None = None, disable: Sequence[str] = ()) -> Enabled:
    """The rules a run may apply; rule names given are checked against every family."""
    if only or disable:
        load_rules()
        unknown = [n for n in [*(only or ()), *disable] if n not in RULES]
        if unknown:
            raise KeyError(f"unknown rewrite rule(s): {', '.join(unknown)} (zymase-opt --list-rules lists them)")
    return Enabled(assume_finite, frozenset(only) if only else None, frozenset(disable))


def optimize(
    module: ModuleOp,
    assume_finite: bool = False,
    only: Sequence[str] | None = None,
    disable: Sequence[str] = (),
    max_rewrites: int = 100_000,
    rule_filter: bool | None = None,
) -> int:
    """Apply the rewrite rules to a fixpoint (or until ``max_rewrites``); returns the number
    of rewrites. ``rule_filter`` (default: ``ZYMASE_RULE_FILTER``, on) skips the rules whose
    ``needs`` the root's operands do not meet."""
    enabled = enabled_rules(assume_finite, only, disable)
    budget = [max_rewrites]
    use_filter = rule_filter_enabled() if rule_filter is None else rule_filter
    PatternRewriteWalker(_Dispatch(enabled, budget, use_filter), apply_recursively=True).rewrite_module(module)
    from .cleanup import region_dce

    region_dce(module.body)
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
    rules: str | tuple[str, ...] = ""  # one name, or a comma list (which the pipeline parser gives as a tuple)
    disable: str | tuple[str, ...] = ""
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
