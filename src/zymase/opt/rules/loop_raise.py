"""Loop raising: counted while loops whose iterations are independent become tensor ops.

A counted loop (an exact trip count ``T``; see ``opt/batching.py``) carries induction
variables, loop-invariant values, and *state*. When each state slot is

- a *map* buffer: iteration k writes its own window of the buffer (``dynamic_update_slice``
  or a replacing ``scatter`` at a start index that is affine in k, windows disjoint and in
  bounds) and reads nothing else of it -- ``out.at[i].set(f(i))``, a scan's ``ys``; or
- a *reduction* accumulator: ``acc = acc op f(k)`` with op add, multiply, maximum,
  minimum, and, or, and ``acc`` read nowhere else,

and ``f`` reads no state, the body is batched over all iterations (``Batcher``) and the
loop is replaced by the batched values: the windows stacked into the buffer (a
``dynamic_update_slice`` of the block when it covers part of it, one ``scatter`` when the
windows are spaced apart), or ``acc0 op reduce(f, dim 0)`` (floating-point sums and
products are reassociated, as XLA's reductions are). A loop mixing independent groups of
state is first split in two (``while_fission``) so the raisable group can go. Inside a counted loop, comparisons
decided by the induction variables' ranges fold to constants
(``compare_induction_range``), which removes jax's negative-index normalisation.

Raising before differentiation turns an O(T) reverse loop (each step touching whole
arrays) into one vector op and its vector derivative. The rules run again after AD.

Safety. A loop whose body reads a state slot (``out[i-1]``, a recurrence) is never
raised: the batcher refuses values that depend on state. Reads are exact (dynamic_slice
becomes a slice only when its start never clamps, else a gather, which clamps the same
way); writes are raised only when no two iterations write one element and every write is
in bounds (a scatter drops out-of-bounds updates, a dynamic_update_slice clamps them:
neither is modelled). Bodies must be pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Block, BlockArgument, Operation, Region, SSAValue

from ...ir import stablehlo as hlo
from ...ir.attributes import ScatterDimensionNumbersAttr
from ...ir.builder import Builder
from ...ir.dense import element_dtype, is_float_type
from ...ir.query import body_ops, element_type, region_combiner, shape, used_values
from ..batching import Affine, Batcher, CountedLoop, affine_of, counted_loop, decide_compare, is_pure, stack_windows, window_blocks
from ..lazy_jax import jnp, lax
from ..pattern import Example, rule

# ============================================================================ matching


def _loop(op: hlo.WhileOp) -> CountedLoop | None:
    """The counted view of ``op`` when it runs at least once and its body is pure."""
    loop = counted_loop(op)
    if loop is None or loop.count < 1:
        return None
    if not all(is_pure(o) for o in body_ops(op.body.block)):
        return None
    return loop


def _state(loop: CountedLoop) -> list[int]:
    """The carried slots that are neither induction variables nor invariant."""
    return [j for j in range(len(loop.op.operand)) if j not in loop.ivs and j not in loop.invariant]


def _uses(v: SSAValue) -> list:
    return list(v.uses)


def _carried(arg: BlockArgument) -> SSAValue:
    """``arg`` past conversions to its own type that are its only use (jax converts a
    weakly typed carry so)."""
    v: SSAValue = arg
    while True:
        uses = _uses(v)
        if len(uses) != 1 or not isinstance(uses[0].operation, hlo.ConvertOp) or uses[0].operation.result.type != v.type:
            return v
        v = uses[0].operation.result


def _sole_use(arg: BlockArgument, op: Operation, index: int) -> bool:
    """``arg``'s only use (past same-type conversions) is operand ``index`` of ``op``."""
    uses = _uses(_carried(arg))
    return len(uses) == 1 and uses[0].operation is op and uses[0].index == index


def _yields(op: hlo.WhileOp) -> list[SSAValue]:
    return list(op.body.block.last_op.operands)


@dataclass
class _Write:
    """Iteration k writes ``update`` (of shape ``window``, after a reshape) at ``starts``
    (body values, or constant 0) into the buffer carried in ``slot``."""

    slot: int
    update: SSAValue
    window: list[int]
    starts: list[SSAValue | int]
    scatter: bool


def _write(op: hlo.WhileOp, j: int) -> _Write | None:
    """Slot ``j`` as a map buffer: its only use is as the target of one write whose result
    is yielded back into slot ``j`` (and used nowhere else)."""
    body = op.body.block
    arg, y = body.args[j], _yields(op)[j]
    w = y.owner
    if not isinstance(w, (hlo.DynamicUpdateSliceOp, hlo.ScatterOp)) or w.parent_block() is not body:
        return None
    if len(_uses(y)) != 1 or not _sole_use(arg, w, 0):
        return None
    if isinstance(w, hlo.DynamicUpdateSliceOp):
        return _Write(j, w.update, list(shape(w.update)), list(w.start_indices), False)
    return _scatter_write(w, j)


def _scatter_write(w: hlo.ScatterOp, j: int) -> _Write | None:
    """A replacing scatter of one window at one index vector of one element, as a write."""
    if len(w.inputs) != 1 or region_combiner(w.update_computation) != "replace":
        return None
    dn = w.scatter_dimension_numbers
    if dn.input_batching_dims or dn.scatter_indices_batching_dims or len(dn.scatter_dims_to_operand_dims) != 1:
        return None
    indices, update = w.scatter_indices, w.updates[0]
    if any(n != 1 for n in shape(indices)):
        return None
    ushape = shape(update)
    if any(n != 1 for d, n in enumerate(ushape) if d not in dn.update_window_dims):
        return None
    rank = len(shape(w.inputs[0]))
    window_dims = [d for d in range(rank) if d not in dn.inserted_window_dims]
    if len(window_dims) != len(dn.update_window_dims):
        return None
    window = [1] * rank
    for d, u in zip(window_dims, dn.update_window_dims):
        window[d] = ushape[u]
    starts: list[SSAValue | int] = [0] * rank
    starts[dn.scatter_dims_to_operand_dims[0]] = indices
    return _Write(j, update, window, starts, True)


_IDENTITY = {hlo.AddOp: "zero", hlo.MultiplyOp: "one", hlo.MaximumOp: "lowest", hlo.MinimumOp: "highest", hlo.AndOp: "ones", hlo.OrOp: "zero"}


@dataclass
class _Accumulation:
    slot: int
    combiner: type[Operation]
    term: SSAValue


def _accumulation(op: hlo.WhileOp, j: int) -> _Accumulation | None:
    """Slot ``j`` as a reduction accumulator: ``yield = acc op f`` with ``acc`` used
    nowhere else."""
    body = op.body.block
    arg, y = body.args[j], _yields(op)[j]
    c = y.owner
    if type(c) not in _IDENTITY or c.parent_block() is not body or len(_uses(y)) != 1:
        return None
    acc = _carried(arg)
    if c.lhs is acc and _sole_use(arg, c, 0):
        term = c.rhs
    elif c.rhs is acc and _sole_use(arg, c, 1):
        term = c.lhs
    else:
        return None
    e = element_type(arg)
    if not is_float_type(e) and element_dtype(e).kind not in "iub":
        return None  # complex: no order for maximum / minimum, and no identity checked here
    if type(c) in (hlo.AndOp, hlo.OrOp) and is_float_type(e):
        return None
    if type(c) in (hlo.MaximumOp, hlo.MinimumOp) and is_float_type(e):
        return None  # a running maximum halves the derivative at each tie, one reduce splits it evenly among all
    return _Accumulation(j, type(c), term)


def _identity(b: Builder, kind: type[Operation], t) -> SSAValue:
    import numpy as np

    e = element_type(t)
    dtype = element_dtype(e)
    scalar = TensorType(e, [])
    name = _IDENTITY[kind]
    if name == "zero":
        value = -0.0 if is_float_type(e) else 0  # -0.0: x + (-0.0) == x for every x, -0.0 included
    elif name == "one":
        value = 1
    elif name == "ones":
        value = True if dtype == np.bool_ else (-1 if dtype.kind == "i" else np.iinfo(dtype).max)
    elif is_float_type(e):
        value = -np.inf if name == "lowest" else np.inf
    elif dtype == np.bool_:
        value = name == "highest"
    else:
        info = np.iinfo(dtype)
        value = info.min if name == "lowest" else info.max
    return b.constant(value, scalar)


# ============================================================================ building


def _raise_writes(bat: Batcher, op: hlo.WhileOp, writes: list[_Write]) -> dict[int, SSAValue] | None:
    """The buffers after the loop, built in the batcher's scratch block, or None."""
    b, count = bat.b, bat.count
    out: dict[int, SSAValue] = {}
    for w in writes:
        init = op.operand[w.slot]
        extent = shape(init)
        affs: list[Affine | None] = [Affine(0, s) if isinstance(s, int) else bat.affine(s) for s in w.starts]
        varying = [d for d, a in enumerate(affs) if a is not None and a.a != 0]
        if len(varying) != 1:
            return None
        p = varying[0]
        lo = window_blocks(count, affs[p], w.window[p], extent[p])
        if lo is None:
            spaced = _spaced_windows(bat, w, init, affs, p)
            if spaced is None:
                return None
            out[w.slot] = spaced
            continue
        starts: list[SSAValue] = []
        index_type = TensorType(element_type(next(s for s in w.starts if isinstance(s, SSAValue))), [])
        for d, (s, a) in enumerate(zip(w.starts, affs)):
            if d == p:
                starts.append(b.constant(lo, index_type))
            elif w.scatter:
                # a scatter drops a window out of bounds where dynamic_update_slice would clamp it
                if a is None or not 0 <= a.b <= extent[d] - w.window[d]:
                    return None
                starts.append(b.constant(a.b, index_type))
            else:
                x = bat.outside(s)
                if x is None:
                    return None
                starts.append(x)
        block = stack_windows(b, bat.batched(w.update), w.window, p, affs[p].a < 0)
        if shape(block) == extent:
            out[w.slot] = block  # every element is written (starts clamp to 0 where the window is full)
        else:
            out[w.slot] = b.dynamic_update_slice(init, block, starts)
    return out


def _spaced_windows(bat: Batcher, w: _Write, init: SSAValue, affs: list[Affine | None], p: int) -> SSAValue | None:
    """Windows written ``|a| > size`` apart in dimension ``p`` (``out[2*i] = ...``): one
    scatter of all of them into the initial buffer, when every window lies in bounds (the
    scatter would drop one that does not, where each write clamped or dropped it)."""
    b, count, extent, window = bat.b, bat.count, shape(init), w.window
    iv = affs[p]
    lo, hi = iv.bounds(count)
    if abs(iv.a) < window[p] or lo < 0 or hi > extent[p] - window[p]:
        return None  # overlapping windows (the last write wins) or one out of bounds
    index = next(s for s in w.starts if isinstance(s, SSAValue))
    column = TensorType(element_type(index), [count, 1])
    columns = [b.reshape(bat.batched(w.starts[p]), [count, 1])]  # type: ignore[arg-type]
    scattered = [p]
    for d, a in enumerate(affs):
        if d == p or window[d] == extent[d]:
            continue  # a full window starts at 0: dynamic_update_slice clamps it there, a scatter write was checked
        if a is None:
            return None
        start = a.b if w.scatter else min(max(a.b, 0), extent[d] - window[d])  # dynamic_update_slice clamps
        if not 0 <= start <= extent[d] - window[d]:
            return None
        columns.append(b.constant(start, column))
        scattered.append(d)
    rows = b.reshape(bat.batched(w.update), [count, *window])
    dims = ScatterDimensionNumbersAttr.get(
        update_window_dims=list(range(1, len(window) + 1)), inserted_window_dims=[], scatter_dims_to_operand_dims=scattered, index_vector_dim=1
    )
    return b.scatter(init, b.concatenate(columns, 1), rows, dims, None)


def _raise_accumulations(bat: Batcher, op: hlo.WhileOp, accs: list[_Accumulation]) -> dict[int, SSAValue]:
    b = bat.b
    out: dict[int, SSAValue] = {}
    for acc in accs:
        init = op.operand[acc.slot]
        total = b.reduce(bat.batched(acc.term), _identity(b, acc.combiner, init.type), [0], acc.combiner)
        out[acc.slot] = b.insert(acc.combiner(init, total)).results[0]
    return out


def _raise(op: hlo.WhileOp, loop: CountedLoop, writes: list[_Write], accs: list[_Accumulation]) -> tuple[Batcher, dict[int, SSAValue]] | None:
    """Batch the body for these writes and accumulations; the new values of their slots
    (in the batcher's scratch block: ``commit`` or ``discard``), or None."""
    wanted = [w.update for w in writes] + [s for w in writes for s in w.starts if isinstance(s, SSAValue)]
    wanted += [a.term for a in accs]
    bat = Batcher(loop)
    if not bat.run(wanted):
        bat.discard()
        return None
    values = _raise_writes(bat, op, writes)
    if values is None:
        bat.discard()
        return None
    values.update(_raise_accumulations(bat, op, accs))
    return bat, values


def _results(op: hlo.WhileOp, loop: CountedLoop, b: Builder, bat: Batcher, values: dict[int, SSAValue]) -> list[SSAValue]:
    bat.commit(b)
    return [values[j] if j in values else loop.final(b, j) for j in range(len(op.operand))]


# ============================================================================ rules

_SCATTER_MAP = Example(
    lambda x: lax.fori_loop(0, 6, lambda i, o: o.at[i].set(jnp.sin(x[i]) / jnp.sqrt(jnp.sum(x * x))), jnp.zeros_like(x)),
    [(6,)],
)
_ROWS_MAP = Example(
    lambda a: lax.fori_loop(0, 3, lambda i, o: o.at[i].set(jnp.exp(a[i]) / jnp.sum(jnp.exp(a[i]))), jnp.zeros_like(a)),
    [(3, 4)],
)
_SCAN_YS = Example(lambda c, xs: lax.scan(lambda h, x: (h, jnp.tanh(x * h)), c, xs)[1], [(), (5, 2)])
_REVERSED_DUS = Example(
    mlir="""
func.func @main(%x: tensor<8xf64>) -> tensor<8xf64> {
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<8xf64>}> : () -> tensor<8xf64>
  %i0 = "stablehlo.constant"() <{value = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %r:2 = "stablehlo.while"(%i0, %z) ({
  ^bb0(%i: tensor<i32>, %o: tensor<8xf64>):
    %n = "stablehlo.constant"() <{value = dense<4> : tensor<i32>}> : () -> tensor<i32>
    %c = "stablehlo.compare"(%i, %n) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "stablehlo.return"(%c) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %o: tensor<8xf64>):
    %two = "stablehlo.constant"() <{value = dense<2> : tensor<i32>}> : () -> tensor<i32>
    %six = "stablehlo.constant"() <{value = dense<6> : tensor<i32>}> : () -> tensor<i32>
    %t = "stablehlo.multiply"(%i, %two) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %at = "stablehlo.subtract"(%six, %t) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %xi = "stablehlo.dynamic_slice"(%x, %t) <{slice_sizes = array<i64: 2>}> : (tensor<8xf64>, tensor<i32>) -> tensor<2xf64>
    %y = "stablehlo.exponential"(%xi) : (tensor<2xf64>) -> tensor<2xf64>
    %o2 = "stablehlo.dynamic_update_slice"(%o, %y, %at) : (tensor<8xf64>, tensor<2xf64>, tensor<i32>) -> tensor<8xf64>
    %one = "stablehlo.constant"() <{value = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %i2 = "stablehlo.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    "stablehlo.return"(%i2, %o2) : (tensor<i32>, tensor<8xf64>) -> ()
  }) : (tensor<i32>, tensor<8xf64>) -> (tensor<i32>, tensor<8xf64>)
  func.return %r#1 : tensor<8xf64>
}""",
)
_PARTIAL_DUS = Example(
    lambda x, y: lax.fori_loop(1, 4, lambda i, o: lax.dynamic_update_slice(o, lax.dynamic_slice(x, (i - 1, 0), (1, 3)) * 2.0, (i, 0)), y),
    [(5, 3), (5, 3)],
)

_SPACED = Example(lambda x: lax.fori_loop(0, 3, lambda i, o: o.at[2 * i + 1].set(jnp.exp(x[i])), jnp.ones(7) * x[0]), [(3,)])


@rule(example=[_SCATTER_MAP, _ROWS_MAP, _SCAN_YS, _REVERSED_DUS, _PARTIAL_DUS, _SPACED])
def while_raise_map(op: hlo.WhileOp, b: Builder):
    """while(i, out){ out[a*i+b] = f(i) } -> out with the windows f(0..T-1) written at once   (every carried value an induction variable, invariant, or a buffer written only at its own index; windows disjoint and in bounds: stacked, or one scatter when spaced)"""
    loop = _loop(op)
    if loop is None:
        return None
    state = _state(loop)
    writes = [_write(op, j) for j in state]
    if not state or any(w is None for w in writes):
        return None
    raised = _raise(op, loop, writes, [])  # type: ignore[arg-type]
    if raised is None:
        return None
    return _results(op, loop, b, *raised)


_SUM_OF_SQUARES = Example(lambda x: lax.fori_loop(0, 5, lambda i, s: s + x[i] * x[i], 0.5), [(5,)])
_POLYNOMIAL = Example(lambda c, x: lax.fori_loop(0, 4, lambda i, s: s + c[i] * x**i, jnp.zeros_like(x)), [(4,), (3,)])
_MAX_AND_PRODUCT = Example(  # an integer maximum: float ones stay loops (see _accumulation)
    lambda x: lax.fori_loop(0, 4, lambda i, c: (jnp.maximum(c[0], jnp.floor(4 * x[i]).astype(jnp.int32)), c[1] * x[i + 1]), (jnp.int32(-9), 1.0))[0:2],
    [(5,)],
)


@rule(example=[_SUM_OF_SQUARES, _POLYNOMIAL, _MAX_AND_PRODUCT])
def while_raise_reduce(op: hlo.WhileOp, b: Builder):
    """while(i, acc){ acc = acc op f(i) } -> acc0 op reduce(f(0..T-1), op)   (op add, multiply, maximum, minimum, and, or; f reads no carried state; floating-point sums and products are reassociated, as XLA's reductions are; not float maximum / minimum, whose derivatives at ties depend on the grouping)"""
    loop = _loop(op)
    if loop is None:
        return None
    state = _state(loop)
    accs = [_accumulation(op, j) for j in state]
    if not state or any(a is None for a in accs):
        return None
    raised = _raise(op, loop, [], accs)  # type: ignore[arg-type]
    if raised is None:
        return None
    return _results(op, loop, b, *raised)


def _state_reads(op: hlo.WhileOp, loop: CountedLoop, j: int, state: set[int]) -> set[int] | None:
    """The state slots whose carried value the yield of slot ``j`` depends on."""
    body = op.body.block
    found: set[int] = set()
    seen: set[SSAValue] = set()
    stack = [_yields(op)[j]]
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if isinstance(v, BlockArgument):
            if v.block is body and v.index in state:
                found.add(v.index)
            continue
        o = v.owner
        if isinstance(o, Operation) and o.parent_block() is body:
            stack.extend(used_values(o))
    return found


def _needed_ops(op: hlo.WhileOp, slots: set[int]) -> set[Operation]:
    body = op.body.block
    need: set[Operation] = set()
    stack = [_yields(op)[j] for j in slots]
    while stack:
        v = stack.pop()
        o = v.owner
        if isinstance(o, Operation) and o.parent_block() is body and o not in need:
            need.add(o)
            stack.extend(used_values(o))
    return need


def _groups(op: hlo.WhileOp, loop: CountedLoop, state: list[int]) -> list[list[int]]:
    """The state slots in groups that read each other's carried values (transitively)."""
    parent = {j: j for j in state}

    def find(j: int) -> int:
        while parent[j] != j:
            parent[j] = parent[parent[j]]
            j = parent[j]
        return j

    for j in state:
        for k in _state_reads(op, loop, j, set(state)):
            parent[find(j)] = find(k)
    groups: dict[int, list[int]] = {}
    for j in state:
        groups.setdefault(find(j), []).append(j)
    return list(groups.values())


_FISSION = Example(
    lambda x: lax.fori_loop(0, 5, lambda i, c: (c[0].at[i].set(jnp.cos(x[i])), c[1] * 0.5 + x[i]), (jnp.zeros_like(x), 0.0)),
    [(5,)],
)


@rule(example=_FISSION)
def while_fission(op: hlo.WhileOp, b: Builder):
    """while(i, a, r){ a' = f(i, a); r' = g(i, r) } -> while(i, a){ a' = f(i, a) }; while(i, r){ r' = g(i, r) }   (a reads no state outside its group, and its group can be raised)"""
    loop = _loop(op)
    if loop is None:
        return None
    state = _state(loop)
    if len(state) < 2:
        return None
    cond = op.cond.block
    if any(_uses(cond.args[j]) for j in state):
        return None  # the condition reads state: every part would need it
    groups = _groups(op, loop, state)
    if len(groups) < 2:
        return None
    for group in groups:
        writes = [_write(op, j) for j in group]
        accs = [_accumulation(op, j) for j in group]
        if all(w is not None for w in writes):
            raised = _raise(op, loop, writes, [])  # type: ignore[arg-type]
        elif all(a is not None for a in accs):
            raised = _raise(op, loop, [], accs)  # type: ignore[arg-type]
        else:
            continue
        if raised is None:
            continue
        raised[0].discard()  # the split loop is raised by its own rule
        rest = [j for j in state if j not in group]
        return _split(op, loop, b, set(group), set(rest))
    return None


def _split(op: hlo.WhileOp, loop: CountedLoop, b: Builder, first: set[int], second: set[int]) -> list[SSAValue]:
    common = set(loop.ivs) | loop.invariant
    out: dict[int, SSAValue] = {}
    for part in (first, second):
        slots = sorted(common | part)
        values = _copy_loop(op, b, slots, _needed_ops(op, set(slots)))
        out.update({j: values[j] for j in part})
        if part is first:
            out.update({j: values[j] for j in common})
    return [out[j] for j in range(len(op.operand))]


def _copy_loop(op: hlo.WhileOp, b: Builder, slots: list[int], keep: set[Operation]) -> dict[int, SSAValue]:
    """A copy of ``op`` carrying only ``slots``, with only the body ops in ``keep`` (no kept
    op and no op of the condition reads another slot); its results by slot."""
    types = [op.operand[i].type for i in slots]
    regions = []
    for region, is_body in ((op.cond, False), (op.body, True)):
        old = region.block
        new = Block(arg_types=types)
        mapper: dict[SSAValue, SSAValue] = {old.args[i]: new.args[k] for k, i in enumerate(slots)}
        for o in body_ops(old) if is_body else old.ops:
            if not is_body or o in keep:
                new.add_op(o.clone(value_mapper=mapper))
        if is_body:
            new.add_op(hlo.ReturnOp([mapper.get(v, v) for v in (old.last_op.operands[i] for i in slots)]))
        regions.append(Region(new))
    loop = b.insert(hlo.WhileOp.create(operands=[op.operand[i] for i in slots], result_types=types, regions=regions))
    return {i: loop.results[k] for k, i in enumerate(slots)}


@rule(
    example=[
        Example(lambda x: lax.fori_loop(0, 5, lambda i, s: s * 0.5 + x[i], 0.0), [(5,)]),
        Example(lambda x: lax.fori_loop(2, 7, lambda i, s: s * 0.5 + x[i - 2] * (i >= 2), 0.0), [(5,)]),
    ]
)
def compare_induction_range(op: hlo.CompareOp, b: Builder):
    """compare(i, c) -> true / false   (i affine in an induction variable of the enclosing counted loop, decided over its range [start, start + step*(T-1)])"""
    loop_op = op.parent_op()
    if not isinstance(loop_op, hlo.WhileOp) or op.parent_block() is not loop_op.body.block:
        return None
    loop = counted_loop(loop_op)
    if loop is None or loop.count < 1:
        return None
    body = loop_op.body.block
    if not any(isinstance(v, BlockArgument) and v.block is body or isinstance(v.owner, Operation) and v.owner.parent_block() is body for v in op.operands):
        return None  # two values from outside the loop: constant folding's business
    decided = decide_compare(op, lambda v: affine_of(loop, v), loop.count)
    if decided is None:
        return None
    return b.constant(decided, op.result.type)

