"""Tier 3: control flow (while, if, case, func.call, optimization_barrier) and reduce.

Reverse mode of ``stablehlo.while`` needs the trip count (analysis/trip_count.py). The
forward sweep runs an augmented loop that stores, per iteration, the carried values the
body reads (loop-invariant ones are read from the loop's operands instead) into
preallocated ``tensor<T x ...>`` tapes; the reverse sweep runs a loop from T-1 down to 0
that reads the state of iteration k back, recomputes the body's intermediates from it and
runs the body's reverse sweep. The reverse loop keeps to the forms XLA updates in place,
and sums outer products after the loop rather than in it (loop_buffers.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerType
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.rewriter import InsertPoint

from ...analysis.activity import is_differentiable_type
from ...analysis.trip_count import affine_carried, find_trip_count, loop_invariant_carried
from ...ir.query import body_ops, describe_location, free_values, terminator, used_values
from ...ir import stablehlo as hlo
from ...ir.builder import Builder, constant_value, is_zero, shape, tensor
from ...ir.enzyme import ACTIVE, ACTIVENONEED, CONST, CONSTNONEED, DUP
from ..errors import DiffError
from ..registry import batched_reverse, custom_augment, custom_forward, custom_reverse
from . import checkpoint, custom, loop_buffers

if TYPE_CHECKING:
    from ..engine import ForwardSweep, ReverseSweep

# ============================================================================ while


@custom_forward(hlo.WhileOp)
def while_forward(fwd: ForwardSweep, op: hlo.WhileOp) -> None:
    """Carry the tangents of the active loop values next to the primals."""
    body = op.body.block
    act = [i for i, a in enumerate(body.args) if fwd.analysis.is_active(a)]
    init = fwd.with_tangents(op.operand, act)
    types = [v.type for v in init]

    cond_block = Block(arg_types=types)
    cond = fwd.child(Builder(cond_block))
    cond.bind_with_tangents(op.cond.block.args, cond_block.args, [])
    cond.run_block(op.cond.block)
    cond_block.add_op(hlo.ReturnOp([cond.primal(terminator(op.cond.block).operands[0])]))

    body_block = Block(arg_types=types)
    inner = fwd.child(Builder(body_block))
    inner.bind_with_tangents(body.args, body_block.args, act)
    inner.run_block(body)
    body_block.add_op(hlo.ReturnOp(inner.with_tangents(terminator(body).operands, act)))

    new = fwd.builder.insert(hlo.WhileOp.create(operands=init, result_types=types, regions=[Region(cond_block), Region(body_block)]))
    fwd.bind_with_tangents(op.results, new.results, act)


def _trip_count(op: hlo.WhileOp):
    tc = find_trip_count(op)
    if tc is None:
        raise DiffError(
            f"cannot reverse-differentiate 'stablehlo.while' at {describe_location(op)}: its trip count is not a "
            f"compile-time constant (zymase needs a counted loop, such as jax.lax.fori_loop with static bounds, "
            f"to size the tape); forward mode (jvp/jacfwd) works for any loop"
        )
    return tc


def _varying(op: hlo.WhileOp, recomputable: set[int]) -> set[SSAValue]:
    """Body values that change from iteration to iteration in a way the reverse loop
    cannot recompute (they depend on a carried value that is neither loop-invariant nor
    the induction variable, which the reverse loop recomputes from its counter)."""
    body = op.body.block
    invariant = loop_invariant_carried(op)
    varying: set[SSAValue] = {a for i, a in enumerate(body.args) if i not in invariant and i not in recomputable}
    for o in body_ops(body):
        inputs = used_values(o)
        if any(v in varying for v in inputs):
            varying.update(o.results)
    return varying


def _top_level(op: Operation, block: Block) -> Operation | None:
    """The ancestor of ``op`` that sits directly in ``block``."""
    while op is not None and op.parent_block() is not block:
        op = op.parent_op()
    return op


def _erase_dead(block: Block, candidates: set[Operation]) -> None:
    changed = True
    while changed:
        changed = False
        for o in reversed(list(block.ops)):
            if o in candidates and all(not any(True for _ in r.uses) for r in o.results):
                if isinstance(o, hlo.CustomCallOp) and o.has_side_effect is not None and o.has_side_effect.value.data:
                    continue
                o.detach()
                o.erase()
                candidates.discard(o)
                changed = True


@dataclass
class _LoopTape:
    """What the forward sweep of a while loop prepared for its reverse sweep."""

    body: Block  # the reverse loop's body, ready
    count: int
    act: list[int]  # carried values whose adjoints the reverse loop carries
    frees: list[SSAValue]  # captured active values whose adjoints it accumulates
    outputs: dict[int, np.ndarray] = field(default_factory=dict)  # write-only buffers: rows written
    lifted: list = field(default_factory=list)  # products summed after the loop (loop_buffers.lift_products)


@custom_augment(hlo.WhileOp)
def while_augment(rev: ReverseSweep, op: hlo.WhileOp) -> None:
    """The primal loop, storing per iteration the values the reverse sweep reads.

    The reverse loop's body is built first, recomputing the body's primal values from
    placeholders for the carried state; the values its reverse ops read that change from
    iteration to iteration (the residuals) are then stored by the forward loop into
    ``tensor<T x ...>`` tapes and read back, and the recomputation they needed is removed.
    Loop-invariant values stay recomputed (and are hoisted by the optimizer). Carried
    state is stored only where something the reverse needs cannot be read from a
    residual (a nested loop's own tape, for instance)."""
    if checkpoint.handles(op):  # run-time trip count, or checkpointing asked for
        checkpoint.augment(rev, op)
        return
    tc = _trip_count(op)
    if tc.count == 0:
        rev.clone(op)
        return
    body = op.body.block
    n = len(op.operand)
    invariant = loop_invariant_carried(op)
    act = [i for i, a in enumerate(body.args) if rev.is_active(a) or rev.is_active(op.results[i])]
    frees = [f for f in free_values(op) if rev.is_active(f)]
    counter_t = tensor(IntegerType(32), [])

    # ---- the reverse body, recomputing from placeholders for the carried state
    rtypes = [counter_t] + [rev.adjoint_type(op.results[i].type) for i in act] + [rev.adjoint_type(f.type) for f in frees]
    state_types = [body.args[i].type for i in range(n) if i not in invariant]
    rblock = Block(arg_types=rtypes + state_types)
    rb = Builder(rblock)
    k = rblock.args[0]
    inner = rev.child(rb)
    state_args = iter(rblock.args[len(rtypes) :])
    placeholder: dict[int, SSAValue] = {}
    for i, a in enumerate(body.args):
        if i in invariant:
            inner.primals[a] = rev.primal(op.operand[i])
        else:
            placeholder[i] = inner.primals[a] = next(state_args)
    # induction variables (the loop's counter and any other carried value that grows by a
    # constant) at iteration k are start + k * step: recomputed, never taped
    affine = {j: st for j, st in affine_carried(op).items() if j not in invariant}
    affine.setdefault(tc.induction, (tc.start, tc.step))
    for j, (start_j, step_j) in affine.items():
        arg = body.args[j]
        kk = rb.convert(k, arg.type.get_element_type())
        value = rb.add(rb.constant(start_j, arg.type), rb.mul(kk, rb.constant(step_j, arg.type)))
        inner.primals[arg] = placeholder[j] = value
    inner.forward_block(body)
    recompute = set(rblock.ops)
    yields = terminator(body).operands
    for i, adj in zip(act, rblock.args[1 : 1 + len(act)]):
        inner.add_adjoint(yields[i], adj)
    inner.reverse_block(body)
    new_adj = [inner.adjoint_or_zero(body.args[i]) for i in act]
    # the cotangent of a buffer the loop only writes, a window per iteration, is carried
    # unchanged: zeroing iteration k's window after reading it would copy the buffer
    # (loop_buffers.py); the windows are zeroed once, after the loop (while_reverse)
    outputs = {i: rows for i, rows in loop_buffers.output_buffers(op, tc, affine).items() if i in act} if rev.width == 1 else {}
    dropped = []
    for p, i in enumerate(act):
        if i in outputs:
            dropped.append(new_adj[p])
            new_adj[p] = rblock.args[1 + p]
    new_acc = []
    for f, acc in zip(frees, rblock.args[1 + len(act) : len(rtypes)]):
        ct = inner.adjoints.get(f)
        new_acc.append(acc if ct is None else rb.add(acc, ct))
    k_next = rb.sub(k, rb.constant(1, counter_t))
    rblock.add_op(hlo.ReturnOp([k_next] + new_adj + new_acc))
    for v in dropped:
        loop_buffers.erase_unused(v, rblock)

    # ---- residuals: varying body values whose recomputed copies reverse ops read
    varying = _varying(op, set(affine))
    candidates = [a for i, a in enumerate(body.args) if i not in invariant] + [r for o in body_ops(body) for r in o.results]
    stored: list[SSAValue] = []
    for v in candidates:
        if v not in varying:
            continue
        r = inner.primals.get(v)
        if r is None:
            continue
        if any(_top_level(u.operation, rblock) not in recompute for u in r.uses):
            stored.append(v)
    # a value the loop itself writes, row by row, into a carried output buffer (a scan's
    # ys) is read back from the loop's final buffer instead of being taped twice
    rows = _output_rows(op, stored, affine)
    stored = [v for v in stored if v not in rows]
    buffer_reads = _buffer_reads(op, inner, rows, placeholder)
    reads = _store_reads(rb, rblock, inner, stored, k, tc.count, counter_t)
    _erase_dead(rblock, recompute)
    leftover = [i for i, p in placeholder.items() if i not in affine and any(True for _ in p.uses)]
    if leftover:
        more = [body.args[i] for i in leftover]
        reads += _store_reads(rb, rblock, inner, more, k, tc.count, counter_t, replace=lambda v: placeholder[v.index])
        stored += more
    for p in reversed(rblock.args[len(rtypes) :]):
        rblock.erase_arg(p)

    # ---- the forward loop, writing the residuals into tapes
    b = rev.builder
    tapes_t = [tensor(v.type.get_element_type(), [tc.count, *shape(v)]) for v in stored]
    init = [rev.primal(v) for v in op.operand] + [b.zeros(counter_t)] + [b.zeros(t) for t in tapes_t]
    types = [v.type for v in init]
    cond_block = Block(arg_types=types)
    cond = rev.child(Builder(cond_block))
    for old, new in zip(op.cond.block.args, cond_block.args):
        cond.primals[old] = new
    for o in body_ops(op.cond.block):
        cond.clone(o)
    cond_block.add_op(hlo.ReturnOp([cond.primal(terminator(op.cond.block).operands[0])]))
    fblock = Block(arg_types=types)
    fb = Builder(fblock)
    fwd = rev.child(fb)
    for old, new in zip(body.args, fblock.args[:n]):
        fwd.primals[old] = new
    for o in body_ops(body):
        fwd.clone(o)
    fk = fblock.args[n]
    zero_i = fb.zeros(counter_t)
    new_tapes = []
    for j, v in enumerate(stored):
        row = fb.reshape(fwd.primal(v), [1, *shape(v)])
        new_tapes.append(fb.dynamic_update_slice(fblock.args[n + 1 + j], row, [fk] + [zero_i] * len(shape(v))))
    out = [fwd.primal(y) for y in yields] + [fb.add(fk, fb.constant(1, counter_t))] + new_tapes
    fblock.add_op(hlo.ReturnOp(out))
    new = b.insert(hlo.WhileOp.create(operands=init, result_types=types, regions=[Region(cond_block), Region(fblock)]))
    for old, res in zip(op.results, new.results[:n]):
        rev.primals[old] = res
    for read, tape in zip(reads, new.results[n + 1 :]):
        read.operands = [tape, *read.operands[1:]]
    for read, j in buffer_reads:
        read.operands = [new.results[j], *read.operands[1:]]
    lifted = loop_buffers.lift_products(rblock, 1 + len(act), len(frees), tc.count) if rev.width == 1 else []
    rev.tapes[op] = _LoopTape(rblock, tc.count, act, frees, outputs, lifted)
    state = [a for i, a in enumerate(body.args) if i not in invariant and any(True for _ in a.uses)]
    TAPE_LOG.append(
        {
            "trips": tc.count,
            "residual_bytes": sum(tc.count * _nbytes(v.type) for v in stored),
            "state_bytes": sum(tc.count * _nbytes(v.type) for v in state),
            "lifted_products": len(lifted),
            "stack_bytes": sum(_nbytes(a.type) for a in rblock.args[1 + len(act) + len(frees) :]),
            "output_buffers": len(outputs),
        }
    )


TAPE_LOG: list[dict] = []
"""One entry per reversed loop: bytes taped (residuals) and what taping the carried state
each iteration (this rule's first design) would have taken; read by benchmarks/tapes.py.
Also how many products the reverse loop sums after the loop, the bytes of the stacks it
fills for them, and how many write-only buffers it carries unchanged (loop_buffers.py)."""


def _nbytes(t) -> int:
    from ...ir.dense import element_dtype

    return int(np.prod(t.get_shape())) * element_dtype(t.get_element_type()).itemsize


def _output_rows(op: hlo.WhileOp, values: list[SSAValue], affine: dict[int, tuple[int, int]]) -> dict[SSAValue, tuple[int, int]]:
    """Values ``v`` the body writes as row ``i`` of a carried buffer ``j`` --
    ``yield_j = dynamic_update_slice(arg_j, reshape(v), [i, 0, ...])`` with ``i`` an
    induction variable (so each iteration writes its own row) -- so that the loop's final
    buffer holds every iteration's ``v``: ``{v: (j, index of i)}``."""
    body = op.body.block
    counters = {body.args[a]: a for a, (_, step) in affine.items() if step != 0}
    yields = terminator(body).operands
    found: dict[SSAValue, tuple[int, int]] = {}
    for j, y in enumerate(yields):
        dus = y.owner
        if not isinstance(dus, hlo.DynamicUpdateSliceOp) or dus.operand is not body.args[j]:
            continue
        idx = list(dus.start_indices)
        if not idx or idx[0] not in counters or any(not is_zero(v) for v in idx[1:]):
            continue
        upd = dus.update.owner
        if not isinstance(upd, (hlo.ReshapeOp, hlo.BroadcastInDimOp)):
            continue
        v = upd.operand
        if shape(dus.update) != (1, *shape(v)) or shape(dus.operand)[1:] != shape(v):
            continue
        if isinstance(upd, hlo.BroadcastInDimOp) and list(upd.broadcast_dimensions.get_values()) != list(range(1, len(shape(v)) + 1)):
            continue
        if v in values and v not in found:
            found[v] = (j, counters[idx[0]])
    return found


def _buffer_reads(op: hlo.WhileOp, inner: ReverseSweep, rows: dict[SSAValue, tuple[int, int]], placeholder: dict[int, SSAValue]) -> list[tuple[Operation, int]]:
    """Read the row of iteration k of each output buffer (a placeholder until the forward
    loop exists) in place of the recomputed copies of ``rows``' values."""
    out = []
    for v, (j, counter) in rows.items():
        i_k = placeholder[counter]
        top = Builder(InsertPoint.after(i_k.owner))
        buffer = top.zeros(op.operand[j].type)
        zero = top.zeros(i_k.type)
        row = top.dynamic_slice(buffer, [i_k] + [zero] * len(shape(v)), [1, *shape(v)])
        value = top.reshape(row, shape(v))
        inner.primals[v].replace_all_uses_with(value)
        inner.primals[v] = value
        out.append((row.owner, j))
    return out


def _store_reads(rb: Builder, rblock: Block, inner: ReverseSweep, values, k, count: int, counter_t, replace=None) -> list[Operation]:
    """Read ``values`` of iteration k from tapes (placeholders until the forward loop
    exists) at the start of the reverse body, replacing their recomputed copies."""
    top = Builder(InsertPoint.before(rblock.first_op))
    reads = []
    for v in values:
        placeholder_tape = top.zeros(tensor(v.type.get_element_type(), [count, *shape(v)]))
        zero_i = top.zeros(counter_t)
        row = top.dynamic_slice(placeholder_tape, [k] + [zero_i] * len(shape(v)), [1, *shape(v)])
        value = top.reshape(row, shape(v))
        target = replace(v) if replace is not None else inner.primals[v]
        target.replace_all_uses_with(value)
        inner.primals[v] = value
        reads.append(row.owner)
    return reads


@custom_reverse(hlo.WhileOp)
def while_reverse(rev: ReverseSweep, op: hlo.WhileOp) -> None:
    if isinstance(rev.tapes.get(op), checkpoint.Checkpoints):
        checkpoint.reverse(rev, op)  # width N: the N adjoints carried through the replay
        return
    n = len(op.operand)
    tape = rev.tapes.get(op)
    if tape is None:  # zero-trip loop: results are the operands
        body = op.body.block
        for i in range(n):
            if rev.is_active(body.args[i]) or rev.is_active(op.results[i]):
                rev.add_adjoint(op.operand[i], rev.adjoint(op.results[i]))
        return
    b = rev.builder
    counter_t = tensor(IntegerType(32), [])
    init = [b.constant(tape.count - 1, counter_t)]
    init += [rev.adjoint_or_zero(op.results[i]) for i in tape.act]
    init += [b.zeros(rev.adjoint_type(f.type)) for f in tape.frees]
    init += [b.zeros(a.type) for a in tape.body.args[len(init) :]]  # stacks of lifted products
    # reads of a cotangent the loop also updates in place move one iteration earlier
    adjoints = [p for p, i in enumerate(tape.act, 1) if i not in tape.outputs]
    init += loop_buffers.pipeline_reads(tape.body, adjoints, init, b)
    types = [v.type for v in init]
    cond_block = Block(arg_types=types)
    cb = Builder(cond_block)
    cond_block.add_op(hlo.ReturnOp([cb.compare(cond_block.args[0], cb.zeros(counter_t), "GE")]))
    new = b.insert(hlo.WhileOp.create(operands=init, result_types=types, regions=[Region(cond_block), Region(tape.body)]))
    for p, (i, res) in enumerate(zip(tape.act, new.results[1 : 1 + len(tape.act)])):
        if i in tape.outputs:  # carried unchanged: the windows the loop wrote get no cotangent
            res = loop_buffers.zero_written_rows(b, init[1 + p], tape.outputs[i]) if rev.is_active(op.operand[i]) else None
        rev.add_adjoint(op.operand[i], res)
    for f, res in zip(tape.frees, new.results[1 + len(tape.act) :]):
        rev.add_adjoint(f, res)
    for fi, term in loop_buffers.finish_products(b, tape.lifted, new.results):
        rev.add_adjoint(tape.frees[fi], term)


# ============================================================================ if / case


@custom_forward(hlo.IfOp, hlo.CaseOp)
def branch_forward(fwd: ForwardSweep, op) -> None:
    act = [i for i, r in enumerate(op.results) if fwd.analysis.is_active(r)]
    regions = []
    for region in op.regions:
        block = Block()
        sub = fwd.child(Builder(block))
        sub.run_block(region.block)
        outs = terminator(region.block).operands
        block.add_op(hlo.ReturnOp(sub.with_tangents(outs, act)))
        regions.append(Region(block))
    types = [r.type for r in op.results] + [fwd.tangent_type(op.results[i].type) for i in act]
    selector = fwd.primal(op.operands[0])
    cls = type(op)
    new = fwd.builder.insert(cls.create(operands=[selector], result_types=types, regions=regions))
    fwd.bind_with_tangents(op.results, new.results, act)


@custom_reverse(hlo.IfOp, hlo.CaseOp)
def branch_reverse(rev: ReverseSweep, op) -> None:
    """Each branch recomputes its primal values and runs its reverse sweep; the branch
    results are the cotangents of the values the branches capture."""
    frees = [f for f in free_values(op) if rev.is_active(f)]
    if not frees:
        return
    regions = []
    for region in op.regions:
        block = Block()
        sub = rev.child(Builder(block))
        sub.forward_block(region.block)
        recomputed = set(block.ops)
        for v, r in zip(terminator(region.block).operands, op.results):
            sub.add_adjoint(v, rev.adjoint(r))
        sub.reverse_block(region.block)
        # What the reverse sweep does not read is not recomputed: pure values, and effects
        # such as jax.debug.print, which ran once in the forward sweep already.
        _erase_dead(block, recomputed)
        block.add_op(hlo.ReturnOp([sub.adjoint_or_zero(f) for f in frees]))
        regions.append(Region(block))
    cls = type(op)
    new = rev.builder.insert(cls.create(operands=[rev.primal(op.operands[0])], result_types=[rev.adjoint_type(f.type) for f in frees], regions=regions))
    for f, res in zip(frees, new.results):
        rev.add_adjoint(f, res)


# ============================================================================ calls


@custom_forward(func.CallOp)
def call_forward(fwd: ForwardSweep, op: func.CallOp) -> None:
    callee = op.callee.root_reference.data
    fn = fwd.ctx.func(callee)
    if custom.has_custom_rule(fn):
        custom.call_forward(fwd, op, fn)
        return
    arg_kinds = [DUP if fwd.tangent(v) is not None else CONST for v in op.operands]
    ret_kinds = [DUP if fwd.analysis.is_active(r) else CONST for r in op.results]
    name = fwd.ctx.forward_function(callee, arg_kinds, ret_kinds, fwd.width)
    args: list[SSAValue] = []
    for v, k in zip(op.operands, arg_kinds):
        args.append(fwd.primal(v))
        if k == DUP:
            args.append(fwd.tangent(v))
    types = []
    for r, k in zip(op.results, ret_kinds):
        types.append(r.type)
        if k == DUP:
            types.append(fwd.tangent_type(r.type))
    new = fwd.builder.insert(func.CallOp(name, args, types))
    it = iter(new.results)
    for r, k in zip(op.results, ret_kinds):
        fwd.primals[r] = next(it)
        if k == DUP:
            fwd.set_tangent(r, next(it))


@custom_reverse(func.CallOp)
def call_reverse(rev: ReverseSweep, op: func.CallOp) -> None:
    """Call ``diffe<callee>``, which recomputes the callee's primal values."""
    callee = op.callee.root_reference.data
    fn = rev.ctx.func(callee)
    if custom.uses_custom_reverse(rev, fn):
        custom.call_reverse(rev, op, fn)
        return
    arg_kinds = [ACTIVE if rev.is_active(v) else CONST for v in op.operands]
    ret_kinds = [ACTIVENONEED if rev.adjoint(r) is not None else CONSTNONEED for r in op.results]
    name = rev.ctx.reverse_function(callee, arg_kinds, ret_kinds, rev.transposing, rev.width)
    args = [rev.primal(v) for v in op.operands]
    args += [rev.adjoint(r) for r, k in zip(op.results, ret_kinds) if k == ACTIVENONEED]
    types = [rev.adjoint_type(v.type) for v, k in zip(op.operands, arg_kinds) if k == ACTIVE]
    new = rev.builder.insert(func.CallOp(name, args, types))
    grads = iter(new.results)
    for v, k in zip(op.operands, arg_kinds):
        if k == ACTIVE:
            rev.add_adjoint(v, next(grads))


# ============================================================================ barrier


@custom_forward(hlo.OptimizationBarrierOp)
def barrier_forward(fwd: ForwardSweep, op) -> None:
    fwd.clone(op)
    for x, r in zip(op.operands, op.results):
        fwd.set_tangent(r, fwd.tangent(x))


@custom_reverse(hlo.OptimizationBarrierOp)
def barrier_reverse(rev: ReverseSweep, op) -> None:
    for x, r in zip(op.operands, op.results):
        rev.add_adjoint(x, rev.adjoint(r))


# ============================================================================ reduce


def reduce_kind(op: hlo.ReduceOp) -> str:
    """'sum', 'product', 'max', 'min' or 'chooser' (a variadic reduce whose float results are picked
    from the inputs by compare/select, like argmax); raises otherwise."""
    kinds = {hlo.AddOp: "sum", hlo.MultiplyOp: "product", hlo.MaximumOp: "max", hlo.MinimumOp: "min"}
    kind = kinds.get(op.combiner())
    if kind is not None:
        return kind
    ops = body_ops(op.body.block)
    choosing = (hlo.CompareOp, hlo.SelectOp, hlo.ConstantOp, hlo.OrOp, hlo.AndOp, hlo.NotOp, hlo.BroadcastInDimOp, hlo.ConvertOp)
    if all(isinstance(o, choosing) or not any(is_differentiable_type(r) for r in o.results) for o in ops):
        return "chooser"
    raise DiffError(
        f"no derivative rule for this 'stablehlo.reduce' body at {describe_location(op)}: the custom tier handles "
        f"add, multiply, maximum and minimum reductions and argmax-style choosers"
    )


def _kept_dims(op: hlo.ReduceOp) -> list[int]:
    dims = set(op.dimensions.get_values())
    return [d for d in range(len(shape(op.inputs[0]))) if d not in dims]


def _chooser_mask(b: Builder, x: SSAValue, ans: SSAValue, op: hlo.ReduceOp):
    kept = _kept_dims(op)
    ans_b = b.broadcast_in_dim(ans, shape(x), kept)
    mask = b.compare(x, ans_b, "EQ")
    ones, zeros = b.ones_like(x), b.zeros_like(x)
    counts = b.reduce_sum(b.select(mask, ones, zeros), list(op.dimensions.get_values()))
    return mask, counts, kept


EXACT_PRODUCT_GROUP = 256
"""Reductions over at most this many elements per result take the exclusive products
directly (O(n^2) work per group), larger ones divide (O(n))."""


def _one(b: Builder, x: SSAValue) -> SSAValue:
    return b.constant(1, tensor(x.type.get_element_type(), []))


def _product_partials(b: Builder, x: SSAValue, whole: SSAValue, op: hlo.ReduceOp) -> SSAValue:
    """d whole / d x_i = prod_{j != i} x_j over each reduced group of n elements, where
    ``whole`` is the product of the group (a reduction from 1)."""
    dims = list(op.dimensions.get_values())
    n = 1
    for d in dims:
        n *= shape(x)[d]
    if n <= EXACT_PRODUCT_GROUP:
        return _exclusive_products(b, x, dims)
    return _divided_products(b, x, whole, op)


def _exclusive_products(b: Builder, x: SSAValue, dims: list[int]) -> SSAValue:
    """prod_{j != i} x_j as products of the group with x_i replaced by 1: exact,
    and so is its own derivative (a second derivative at zeros of x)."""
    xs = shape(x)
    kept = [d for d in range(len(xs)) if d not in dims]
    perm = kept + dims
    k = 1
    for d in kept:
        k *= xs[d]
    n = 1
    for d in dims:
        n *= xs[d]
    grouped = b.reshape(b.transpose(x, perm), [k, n])
    rows = b.broadcast_in_dim(grouped, [k, n, n], [0, 2])
    i32 = IntegerType(32)
    diagonal = b.compare(b.iota([k, n, n], 1, i32), b.iota([k, n, n], 2, i32), "EQ")
    others = b.select(diagonal, b.ones_like(rows), rows)
    exclusive = b.reduce(others, _one(b, x), [2], hlo.MultiplyOp)
    back = b.reshape(exclusive, [xs[d] for d in perm])
    inverse = [perm.index(d) for d in range(len(xs))]
    return b.transpose(back, inverse)


def _divided_products(b: Builder, x: SSAValue, whole: SSAValue, op: hlo.ReduceOp) -> SSAValue:
    """The same, without the n x n products: whole / x_i when the group has no zero; the
    product of the group's other entries at its only zero; 0 elsewhere (two zeros or
    more). The division is by ``select(x == 0, 1, x)``, so that no branch, not even one
    the select discards, is infinite (its derivative would be NaN). Exact first
    derivatives; a second derivative through it misses the terms of exact zeros of x."""
    dims = list(op.dimensions.get_values())
    kept = _kept_dims(op)
    zeros, ones = b.zeros_like(x), b.ones_like(x)
    is_zero = b.compare(x, zeros, "EQ")
    safe_x = b.select(is_zero, ones, x)
    zero_count = b.reduce_sum(b.select(is_zero, ones, zeros), dims)
    nonzero_product = b.reduce(safe_x, _one(b, x), dims, hlo.MultiplyOp)

    def spread(v: SSAValue) -> SSAValue:
        return b.broadcast_in_dim(v, shape(x), kept)

    count = spread(zero_count)
    no_zero = b.compare(count, zeros, "EQ")
    one_zero = b.compare(count, ones, "EQ")
    exclusive = b.div(spread(whole), safe_x)
    at_only_zero = b.select(is_zero, spread(nonzero_product), zeros)
    return b.select(no_zero, exclusive, b.select(one_zero, at_only_zero, zeros))


def _init_is_one(op: hlo.ReduceOp) -> bool:
    value = constant_value(op.init_values[0])
    return value is not None and value.size == 1 and bool(value.reshape(()) == 1)


def _product_with_init(b: Builder, op: hlo.ReduceOp, x: SSAValue, init: SSAValue) -> tuple[SSAValue, SSAValue]:
    """``(ans, whole)`` of a product reduction whose init value is not 1: ``whole``, the
    product of each group, is a reduction from 1, and ``ans = init * whole``. How many
    times a reduction applies its init value is implementation-defined (XLA on CPU: none
    for one-element groups, several for long ones), so the derivative programs apply it
    exactly once, and their primal and derivative agree."""
    whole = b.reduce(x, _one(b, x), list(op.dimensions.get_values()), hlo.MultiplyOp)
    return b.mul(b.broadcast_in_dim(init, shape(whole), []), whole), whole


def _product_forward(fwd: ForwardSweep, op: hlo.ReduceOp) -> None:
    """ans = init * whole:  t_ans = init * sum_i (d whole / d x_i) t_x_i + t_init * whole"""
    b = fwd.builder
    x, init = op.inputs[0], op.init_values[0]
    px, p_init = fwd.primal(x), fwd.primal(init)
    if _init_is_one(op):
        whole = fwd.clone(op).results[0]
    else:
        ans, whole = _product_with_init(b, op, px, p_init)
        fwd.primals[op.results[0]] = ans
    total = None
    t_x, t_init = fwd.tangent(x), fwd.tangent(init)
    if t_x is not None:
        partials = _product_partials(b, px, whole, op)
        total = b.reduce_sum(b.mul(fwd.expand(partials), t_x), fwd.bdims(op.dimensions.get_values()))
        if not _init_is_one(op):
            total = b.mul(fwd.expand(b.broadcast_in_dim(p_init, shape(whole), [])), total)
    if t_init is not None:
        want = shape(fwd.tangent_type(op.results[0].type))
        term = b.mul(b.broadcast_in_dim(t_init, want, [0] if fwd.width != 1 else []), fwd.expand(whole))
        total = term if total is None else b.add(total, term)
    fwd.set_tangent(op.results[0], total)


@custom_augment(hlo.ReduceOp)
def reduce_augment(rev: ReverseSweep, op: hlo.ReduceOp) -> None:
    """A product reduction whose init value is not 1 is built as ``init * whole``
    (_product_with_init), keeping ``whole`` for the reverse sweep; the others are cloned."""
    if op.combiner() is not hlo.MultiplyOp or _init_is_one(op):
        rev.clone(op)
        return
    ans, whole = _product_with_init(rev.builder, op, rev.primal(op.inputs[0]), rev.primal(op.init_values[0]))
    rev.primals[op.results[0]] = ans
    rev.tapes[op] = (whole,)


def _product_reverse(rev: ReverseSweep, op: hlo.ReduceOp) -> None:
    """ans = init * whole:  ct_x_i = init * (d whole / d x_i) ct,  ct_init = sum(whole ct)"""
    b = rev.builder
    x, init = op.inputs[0], op.init_values[0]
    px, ct = rev.primal(x), rev.adjoint(op.results[0])
    if _init_is_one(op):
        whole, scaled = rev.primal(op.results[0]), ct
    else:
        whole = rev.tapes[op][0] if op in rev.tapes else _product_with_init(b, op, px, rev.primal(init))[1]
        scaled = b.mul(b.broadcast_in_dim(rev.primal(init), shape(ct), []), ct)
    partials = _product_partials(b, px, whole, op)
    lead = _lead(rev)
    spread = b.broadcast_in_dim(scaled, shape(rev.adjoint_type(px.type)), lead + rev.bdims(_kept_dims(op)))
    rev.add_adjoint(x, b.mul(rev.expand(partials), spread))
    rev.add_adjoint(init, b.reduce_sum(b.mul(rev.expand(whole), ct), list(range(len(lead), len(shape(ct))))))


def _lead(rev: ReverseSweep) -> list[int]:
    """The cotangent dimension of a batched adjoint (width N), or none."""
    return [0] if rev.width != 1 else []


@custom_forward(hlo.ReduceOp)
def reduce_forward(fwd: ForwardSweep, op: hlo.ReduceOp) -> None:
    kind = reduce_kind(op)
    if kind == "product":
        _product_forward(fwd, op)
        return
    new = fwd.clone(op)
    b = fwd.builder
    dims = fwd.bdims(op.dimensions.get_values())
    if kind == "sum":
        t_x, t_init = fwd.tangent(op.inputs[0]), fwd.tangent(op.init_values[0])
        total = b.reduce_sum(t_x, dims) if t_x is not None else None
        if t_init is not None:
            want = fwd.tangent_type(op.results[0].type)
            t_i = b.broadcast_in_dim(t_init, shape(want), [0] if fwd.width != 1 else [])
            total = t_i if total is None else b.add(total, t_i)
        fwd.set_tangent(op.results[0], total)
        return
    for k, (x, r) in enumerate(zip(op.inputs, op.results)):
        if not is_differentiable_type(r) or not fwd.analysis.is_active(r):
            continue
        if fwd.tangent(op.init_values[k]) is not None:
            raise DiffError(f"'stablehlo.reduce' at {describe_location(op)}: the init value of a max/min reduction cannot be active")
        t_x = fwd.tangent(x)
        if t_x is None:
            continue
        mask, counts, _ = _chooser_mask(b, fwd.primal(x), new.results[k], op)
        mask = fwd.expand(mask)
        picked = b.reduce_sum(b.select(mask, t_x, b.zeros_like(t_x)), dims)
        fwd.set_tangent(r, b.div(picked, fwd.expand(counts)))


@custom_reverse(hlo.ReduceOp)
def reduce_reverse(rev: ReverseSweep, op: hlo.ReduceOp) -> None:
    kind = reduce_kind(op)
    b = rev.builder
    if kind == "product":
        _product_reverse(rev, op)
        return
    lead = _lead(rev)
    if kind == "sum":
        ct = rev.adjoint(op.results[0])
        x = op.inputs[0]
        rev.add_adjoint(x, b.broadcast_in_dim(ct, shape(rev.adjoint_type(x.type)), lead + rev.bdims(_kept_dims(op))))
        if rev.is_active(op.init_values[0]):
            rev.add_adjoint(op.init_values[0], b.reduce_sum(ct, list(range(len(lead), len(shape(ct))))))
        return
    for k, (x, r) in enumerate(zip(op.inputs, op.results)):
        ct = rev.adjoint(r)
        if ct is None:
            continue
        if rev.is_active(op.init_values[k]):
            raise DiffError(f"'stablehlo.reduce' at {describe_location(op)}: the init value of a max/min reduction cannot be active")
        px = rev.primal(x)
        mask, counts, kept = _chooser_mask(b, px, rev.primal(r), op)
        share = b.broadcast_in_dim(b.div(ct, rev.expand(counts)), shape(rev.adjoint_type(px.type)), lead + rev.bdims(kept))
        rev.add_adjoint(x, b.select(rev.expand(mask), share, b.zeros_like(share)))


# Width-N reverse mode (adjoints with a leading dimension of N cotangents): these rules
# handle it themselves (a call asks for the callee's width-N derivative; a custom_vjp
# call, whose bwd takes one cotangent, raises NoBatchedRule and runs once per cotangent).
batched_reverse(hlo.ReduceOp, hlo.IfOp, hlo.CaseOp, func.CallOp, hlo.OptimizationBarrierOp, hlo.WhileOp)
