"""Rules rooted at stablehlo.while: loop-invariant code motion, removal of invariant,
constant and dead loop-carried values, and loops with a small constant trip count
(none: the operands; at most 4 (``_UNROLL_MAX_TRIPS``), with at most 64 ops emitted:
unrolled).

A rule builds a new while op (regions cloned into fresh blocks through a value map) and
returns one value per result of the old one.

Hoisting is exact: StableHLO's pure ops cannot trap, so computing a loop-invariant value
once before the loop, even for a loop that runs zero times, changes no result.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import prod

from ..lazy_jax import lax
from xdsl.ir import Block, BlockArgument, Operation, Region, SSAValue

from ...analysis.trip_count import exact_trip_count, loop_invariant_carried
from ...ir import stablehlo as hlo
from ...ir.builder import Builder, constant_value
from ...ir.query import body_ops as _body_ops
from ...ir.query import free_values, is_pure
from ...ir.query import used_values as _free_values  # the values op and the ops nested in it use that are defined outside op
from ..pattern import CONSTANT, Example, rule

_UNROLL_MAX_TRIPS = 4  # measured: unrolling a 7-step scan RNN cost 2x (XLA runs small loops well)
_UNROLL_MAX_OPS = 64
"""Bound on the ops an unrolled loop emits (trip count times body size)."""


# ============================================================================ helpers


def _inside(v: SSAValue, op: Operation) -> bool:
    """Whether v is defined in one of op's regions."""
    owner = v.owner
    o = owner.parent_op() if isinstance(owner, Block) else owner.parent_op()
    while o is not None:
        if o is op:
            return True
        o = o.parent_op()
    return False


def _yields(op: hlo.WhileOp) -> list[SSAValue]:
    return list(op.body.block.last_op.operands)


def _has_uses(v: SSAValue) -> bool:
    return any(True for _ in v.uses)


def _clone_ops(ops: Iterable[Operation], block: Block, mapper: dict) -> None:
    for o in ops:
        block.add_op(o.clone(value_mapper=mapper))


def _rebuild(op: hlo.WhileOp, b: Builder, slots: list[int], outside: dict[int, SSAValue], skip: set[Operation] = frozenset(), hoisted: dict | None = None) -> list[SSAValue]:
    """A new while carrying only ``slots``; the other carried values are replaced by the
    values in ``outside`` (defined before the loop) in the regions and the results. Body
    ops in ``skip`` are left out; ``hoisted`` maps body values to values before the loop."""
    types = [op.operand[i].type for i in slots]
    regions = []
    for region, is_body in ((op.cond, False), (op.body, True)):
        old = region.block
        new = Block(arg_types=types)
        mapper: dict[SSAValue, SSAValue] = dict(hoisted or {})
        for i, a in enumerate(old.args):
            mapper[a] = new.args[slots.index(i)] if i in slots else outside[i]
        if is_body:
            _clone_ops([o for o in _body_ops(old) if o not in skip], new, mapper)
            new.add_op(hlo.ReturnOp([mapper.get(old.last_op.operands[i], old.last_op.operands[i]) for i in slots]))
        else:
            _clone_ops(old.ops, new, mapper)
        regions.append(Region(new))
    loop = b.insert(hlo.WhileOp.create(operands=[op.operand[i] for i in slots], result_types=types, regions=regions))
    return [loop.results[slots.index(i)] if i in slots else outside[i] for i in range(len(op.operand))]


def _exact_trip_count(op: hlo.WhileOp) -> int | None:
    """The trip count, when the condition is pure and the counter cannot overflow."""
    tc = exact_trip_count(op)
    return None if tc is None else tc.count


# ============================================================================ rules


_NORM_LOOP = """
func.func @main(%x: tensor<16xf64>) -> tensor<16xf64> {
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<f64>}> : () -> tensor<f64>
  %zs = "stablehlo.broadcast_in_dim"(%z) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<16xf64>
  %i0 = "stablehlo.constant"() <{value = dense<0> : tensor<i64>}> : () -> tensor<i64>
  %r:3 = "stablehlo.while"(%x, %i0, %zs) ({
  ^bb0(%a: tensor<16xf64>, %i: tensor<i64>, %o: tensor<16xf64>):
    %n = "stablehlo.constant"() <{value = dense<16> : tensor<i64>}> : () -> tensor<i64>
    %c = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i64>, tensor<i64>) -> tensor<i1>
    "stablehlo.return"(%c) : (tensor<i1>) -> ()
  }, {
  ^bb0(%a: tensor<16xf64>, %i: tensor<i64>, %o: tensor<16xf64>):
    %sq = "stablehlo.multiply"(%a, %a) : (tensor<16xf64>, tensor<16xf64>) -> tensor<16xf64>
    %z2 = "stablehlo.constant"() <{value = dense<0.0> : tensor<f64>}> : () -> tensor<f64>
    %s = "stablehlo.reduce"(%sq, %z2) <{dimensions = array<i64: 0>}> ({
    ^bb1(%p: tensor<f64>, %q: tensor<f64>):
      %pq = "stablehlo.add"(%p, %q) : (tensor<f64>, tensor<f64>) -> tensor<f64>
      "stablehlo.return"(%pq) : (tensor<f64>) -> ()
    }) : (tensor<16xf64>, tensor<f64>) -> tensor<f64>
    %nrm = "stablehlo.sqrt"(%s) : (tensor<f64>) -> tensor<f64>
    %xi = "stablehlo.dynamic_slice"(%a, %i) <{slice_sizes = array<i64: 1>}> : (tensor<16xf64>, tensor<i64>) -> tensor<1xf64>
    %nb = "stablehlo.broadcast_in_dim"(%nrm) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<1xf64>
    %yi = "stablehlo.divide"(%xi, %nb) : (tensor<1xf64>, tensor<1xf64>) -> tensor<1xf64>
    %o2 = "stablehlo.dynamic_update_slice"(%o, %yi, %i) : (tensor<16xf64>, tensor<1xf64>, tensor<i64>) -> tensor<16xf64>
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i64>}> : () -> tensor<i64>
    %i2 = "stablehlo.add"(%i, %one) : (tensor<i64>, tensor<i64>) -> tensor<i64>
    "stablehlo.return"(%a, %i2, %o2) : (tensor<16xf64>, tensor<i64>, tensor<16xf64>) -> ()
  }) : (tensor<16xf64>, tensor<i64>, tensor<16xf64>) -> (tensor<16xf64>, tensor<i64>, tensor<16xf64>)
  func.return %r#2 : tensor<16xf64>
}"""


@rule(example=Example(mlir=_NORM_LOOP))
def while_hoist_invariant(op: hlo.WhileOp, b: Builder):
    """while(..., body{ y = f(inv) ... }) -> y = f(inv); while(..., body{ ... })   (f pure; inv defined before the loop, loop-invariant carried or hoisted)"""
    body = op.body.block
    known: dict[SSAValue, SSAValue | None] = {}
    for i in loop_invariant_carried(op):
        known[body.args[i]] = op.operand[i]
    hoist: list[Operation] = []
    hoistable = lambda v: v in known or not _inside(v, op)  # noqa: E731
    for o in _body_ops(body):
        # Operands first: they rule out most ops without walking a nested region.
        if not all(hoistable(v) for v in o.operands) or not is_pure(o):
            continue
        if all(hoistable(v) for v in free_values(o)):
            hoist.append(o)
            for r in o.results:
                known[r] = None
    if not hoist:
        return None
    mapper = {a: v for a, v in known.items() if isinstance(a, BlockArgument)}
    for o in hoist:
        b.insert(o.clone(value_mapper=mapper))
    hoisted = {r: mapper[r] for o in hoist for r in o.results}
    n = len(op.operand)
    return _rebuild(op, b, list(range(n)), {}, skip=set(hoist), hoisted=hoisted)


def _while_drop_slots(op: hlo.WhileOp, b: Builder, removed: dict[int, SSAValue]):
    n = len(op.operand)
    if not removed or len(removed) == n:
        return None
    return _rebuild(op, b, [i for i in range(n) if i not in removed], removed)


@rule(
    example=Example(
        lambda x, y: lax.fori_loop(0, 4, lambda i, c: (c[0] * c[1], c[1]), (x, y))[0],
        [(3,), (3,)],
    )
)
def while_invariant_carried(op: hlo.WhileOp, b: Builder):
    """while(x, ...){ body returns x unchanged } -> x used directly in the loop and for the result; x no longer carried"""
    return _while_drop_slots(op, b, {i: op.operand[i] for i in loop_invariant_carried(op)})


def _same_constant(a: SSAValue, c: SSAValue) -> bool:
    if prod(a.type.get_shape()) > 65536:
        return False
    va, vc = constant_value(a), constant_value(c)
    return va is not None and vc is not None and va.dtype == vc.dtype and va.shape == vc.shape and va.tobytes() == vc.tobytes()


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>) -> tensor<3xf64> {
  %i0 = "stablehlo.constant"() <{value = dense<0> : tensor<i64>}> : () -> tensor<i64>
  %c0 = "stablehlo.constant"() <{value = dense<2.0> : tensor<f64>}> : () -> tensor<f64>
  %r:3 = "stablehlo.while"(%x, %i0, %c0) ({
  ^bb0(%a: tensor<3xf64>, %i: tensor<i64>, %c: tensor<f64>):
    %n = "stablehlo.constant"() <{value = dense<3> : tensor<i64>}> : () -> tensor<i64>
    %p = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i64>, tensor<i64>) -> tensor<i1>
    "stablehlo.return"(%p) : (tensor<i1>) -> ()
  }, {
  ^bb0(%a: tensor<3xf64>, %i: tensor<i64>, %c: tensor<f64>):
    %cb = "stablehlo.broadcast_in_dim"(%c) <{broadcast_dimensions = array<i64>}> : (tensor<f64>) -> tensor<3xf64>
    %a2 = "stablehlo.multiply"(%a, %cb) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i64>}> : () -> tensor<i64>
    %i2 = "stablehlo.add"(%i, %one) : (tensor<i64>, tensor<i64>) -> tensor<i64>
    %two = "stablehlo.constant"() <{value = dense<2.0> : tensor<f64>}> : () -> tensor<f64>
    "stablehlo.return"(%a2, %i2, %two) : (tensor<3xf64>, tensor<i64>, tensor<f64>) -> ()
  }) : (tensor<3xf64>, tensor<i64>, tensor<f64>) -> (tensor<3xf64>, tensor<i64>, tensor<f64>)
  func.return %r#0 : tensor<3xf64>
}"""
    )
, needs=CONSTANT)
def while_constant_carried(op: hlo.WhileOp, b: Builder):
    """while(c, ...){ body returns the constant c } -> c used directly in the loop and for the result; no longer carried"""
    removed = {}
    for i, (v, y) in enumerate(zip(op.operand, _yields(op))):
        if i not in loop_invariant_carried(op) and _same_constant(v, y):
            removed[i] = v
    return _while_drop_slots(op, b, removed)


@rule(
    example=Example(
        lambda x, y: lax.fori_loop(0, 3, lambda i, c: (c[0] + 1.0, c[1] * c[1]), (x, y))[0],
        [(3,), (3,)],
    )
)
def while_dead_carried(op: hlo.WhileOp, b: Builder):
    """while(..., d, ...) -> while(...)   (d unused by the condition, the results' users and the other carried values)"""
    body, cond = op.body.block, op.cond.block
    yields = _yields(op)
    n = len(op.operand)
    live = {i for i in range(n) if _has_uses(op.results[i]) or _has_uses(cond.args[i])}
    if len(live) == n:
        return None
    needed = {o for o in _body_ops(body) if not is_pure(o)}
    stack = [yields[i] for i in live] + [v for o in needed for v in _free_values(o)]
    while stack:
        v = stack.pop()
        if isinstance(v, BlockArgument) and v.block is body:
            if v.index not in live:
                live.add(v.index)
                stack.append(yields[v.index])
            continue
        o = v.owner
        if isinstance(o, Operation) and o.parent_block() is body and o not in needed:
            needed.add(o)
            stack.extend(_free_values(o))
    if len(live) == n or not live:
        return None
    slots = sorted(live)
    skip = {o for o in _body_ops(body) if o not in needed}
    return _rebuild(op, b, slots, {i: op.operand[i] for i in range(n) if i not in live}, skip=skip)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>) -> tensor<3xf64> {
  %i0 = "stablehlo.constant"() <{value = dense<5> : tensor<i32>}> : () -> tensor<i32>
  %r:2 = "stablehlo.while"(%x, %i0) ({
  ^bb0(%a: tensor<3xf64>, %i: tensor<i32>):
    %n = "stablehlo.constant"() <{value = dense<2> : tensor<i32>}> : () -> tensor<i32>
    %p = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%p) : (tensor<i1>) -> ()
  }, {
  ^bb0(%a: tensor<3xf64>, %i: tensor<i32>):
    %a2 = "stablehlo.add"(%a, %a) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i2 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    "stablehlo.return"(%a2, %i2) : (tensor<3xf64>, tensor<i32>) -> ()
  }) : (tensor<3xf64>, tensor<i32>) -> (tensor<3xf64>, tensor<i32>)
  func.return %r#0 : tensor<3xf64>
}"""
    )
)
def while_zero_trip(op: hlo.WhileOp, b: Builder):
    """while(x...) -> x...   (constant trip count 0, pure condition)"""
    if _exact_trip_count(op) != 0:
        return None
    return list(op.operand)


@rule(example=Example(lambda x: lax.fori_loop(0, 3, lambda i, c: c * c + i, x), [(3,)], domain=(-1.0, 1.0)))
def while_unroll(op: hlo.WhileOp, b: Builder):
    """while(x...) -> body(body(...body(x)))   (constant trip count 1..4; at most 64 ops emitted; a pure body)"""
    count = _exact_trip_count(op)
    if count is None or not 1 <= count <= _UNROLL_MAX_TRIPS:
        return None
    body = op.body.block
    if not all(is_pure(o) for o in _body_ops(body)):
        return None  # unrolled, effects (host callbacks) of different trips could be reordered
    size = sum(1 for o in _body_ops(body) for _ in o.walk())
    if count * size > _UNROLL_MAX_OPS:
        return None
    values = list(op.operand)
    yields = _yields(op)
    for _ in range(count):
        mapper: dict[SSAValue, SSAValue] = dict(zip(body.args, values))
        for o in _body_ops(body):
            b.insert(o.clone(value_mapper=mapper))
        values = [mapper.get(y, y) for y in yields]
    return values

