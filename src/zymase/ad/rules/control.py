"""Tier 3: control flow (while, if, case, func.call, optimization_barrier) and reduce.

Reverse mode of ``stablehlo.while`` needs the trip count (analysis/trip_count.py). The
forward sweep runs an augmented loop that stores, per iteration, the carried values the
body reads (loop-invariant ones are read from the loop's operands instead) into
preallocated ``tensor<T x ...>`` tapes; the reverse sweep runs a loop from T-1 down to 0
that reads the state of iteration k back, recomputes the body's intermediates from it and
runs the body's reverse sweep.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerType
from xdsl.ir import Block, Region, SSAValue

from ...analysis.activity import free_values, is_differentiable_type
from ...analysis.trip_count import find_trip_count, loop_invariant_carried
from ...frontend.importer import describe_location
from ...ir import stablehlo as hlo
from ...ir.builder import Builder, shape, tensor
from ...ir.enzyme import ACTIVE, ACTIVENONEED, CONST, CONSTNONEED, DUP
from ..engine import DiffError, ForwardSweep, ReverseSweep, body_ops, terminator
from ..registry import custom_augment, custom_forward, custom_reverse

# ============================================================================ while


@custom_forward(hlo.WhileOp)
def while_forward(fwd: ForwardSweep, op: hlo.WhileOp) -> None:
    """Carry the tangents of the active loop values next to the primals."""
    body = op.body.block
    n = len(op.operand)
    act = [i for i, a in enumerate(body.args) if fwd.analysis.is_active(a)]
    init = [fwd.primal(v) for v in op.operand] + [fwd.tangent_or_zero(op.operand[i]) for i in act]
    types = [v.type for v in init]

    cond_block = Block(arg_types=types)
    cond = fwd.child(Builder(cond_block))
    for old, new in zip(op.cond.block.args, cond_block.args):
        cond.primals[old] = new
    cond.run_block(op.cond.block)
    cond_block.add_op(hlo.ReturnOp([cond.primal(terminator(op.cond.block).operands[0])]))

    body_block = Block(arg_types=types)
    inner = fwd.child(Builder(body_block))
    for old, new in zip(body.args, body_block.args[:n]):
        inner.primals[old] = new
    for i, new in zip(act, body_block.args[n:]):
        inner.tangents[body.args[i]] = new
    inner.run_block(body)
    yields = terminator(body).operands
    out = [inner.primal(y) for y in yields] + [inner.tangent_or_zero(yields[i]) for i in act]
    body_block.add_op(hlo.ReturnOp(out))

    new = fwd.builder.insert(hlo.WhileOp.create(operands=init, result_types=types, regions=[Region(cond_block), Region(body_block)]))
    for old, res in zip(op.results, new.results[:n]):
        fwd.primals[old] = res
    for i, res in zip(act, new.results[n:]):
        fwd.set_tangent(op.results[i], res)


def _trip_count(op: hlo.WhileOp):
    tc = find_trip_count(op)
    if tc is None:
        raise DiffError(
            f"cannot reverse-differentiate 'stablehlo.while' at {describe_location(op)}: its trip count is not a "
            f"compile-time constant (zymase needs a counted loop, such as jax.lax.fori_loop with static bounds, "
            f"to size the tape); forward mode (jvp/jacfwd) works for any loop"
        )
    return tc


def _stored_indices(op: hlo.WhileOp) -> list[int]:
    """Carried values the body reads that change from iteration to iteration."""
    body = op.body.block
    invariant = loop_invariant_carried(op)
    return [i for i, a in enumerate(body.args) if i not in invariant and any(True for _ in a.uses)]


@custom_augment(hlo.WhileOp)
def while_augment(rev: ReverseSweep, op: hlo.WhileOp) -> None:
    """The primal loop, storing each iteration's carried state into tapes."""
    tc = _trip_count(op)
    if tc.count == 0:
        rev.clone(op)
        return
    b = rev.builder
    n = len(op.operand)
    stored = _stored_indices(op)
    counter_t = tensor(IntegerType(32), [])
    tapes_t = [tensor(op.operand[i].type.get_element_type(), [tc.count, *shape(op.operand[i])]) for i in stored]
    init = [rev.primal(v) for v in op.operand] + [b.zeros(counter_t)] + [b.zeros(t) for t in tapes_t]
    types = [v.type for v in init]

    cond_block = Block(arg_types=types)
    cond = rev.child(Builder(cond_block))
    for old, new in zip(op.cond.block.args, cond_block.args):
        cond.primals[old] = new
    for o in body_ops(op.cond.block):
        cond.clone(o)
    cond_block.add_op(hlo.ReturnOp([cond.primal(terminator(op.cond.block).operands[0])]))

    body_block = Block(arg_types=types)
    bb = Builder(body_block)
    k = body_block.args[n]
    zero_i = bb.zeros(counter_t)
    new_tapes = []
    for j, i in enumerate(stored):
        v = body_block.args[i]
        row = bb.reshape(v, [1, *shape(v)])
        new_tapes.append(bb.dynamic_update_slice(body_block.args[n + 1 + j], row, [k] + [zero_i] * len(shape(v))))
    inner = rev.child(bb)
    for old, new in zip(op.body.block.args, body_block.args[:n]):
        inner.primals[old] = new
    for o in body_ops(op.body.block):
        inner.clone(o)
    k_next = bb.add(k, bb.constant(1, counter_t))
    yields = [inner.primal(y) for y in terminator(op.body.block).operands]
    body_block.add_op(hlo.ReturnOp(yields + [k_next] + new_tapes))

    new = rev.builder.insert(hlo.WhileOp.create(operands=init, result_types=types, regions=[Region(cond_block), Region(body_block)]))
    for old, res in zip(op.results, new.results[:n]):
        rev.primals[old] = res
    rev.tapes[op] = (stored, list(new.results[n + 1 :]), tc.count)


@custom_reverse(hlo.WhileOp)
def while_reverse(rev: ReverseSweep, op: hlo.WhileOp) -> None:
    body = op.body.block
    n = len(op.operand)
    act = [i for i, a in enumerate(body.args) if rev.is_active(a) or rev.is_active(op.results[i])]
    if op not in rev.tapes:  # zero-trip loop: results are the operands
        for i in act:
            rev.add_adjoint(op.operand[i], rev.adjoint(op.results[i]))
        return
    stored, tapes, count = rev.tapes[op]
    invariant = loop_invariant_carried(op)
    frees = [f for f in free_values(op) if rev.is_active(f)]
    b = rev.builder
    counter_t = tensor(IntegerType(32), [])
    init = [b.constant(count - 1, counter_t)]
    init += [rev.adjoint_or_zero(op.results[i]) for i in act]
    init += [b.zeros(f.type) for f in frees]
    types = [v.type for v in init]

    cond_block = Block(arg_types=types)
    cb = Builder(cond_block)
    cond_block.add_op(hlo.ReturnOp([cb.compare(cond_block.args[0], cb.zeros(counter_t), "GE")]))

    body_block = Block(arg_types=types)
    bb = Builder(body_block)
    k = body_block.args[0]
    zero_i = bb.zeros(counter_t)
    inner = rev.child(bb)
    for j, i in enumerate(stored):
        v = body.args[i]
        row = bb.dynamic_slice(tapes[j], [k] + [zero_i] * len(shape(v)), [1, *shape(v)])
        inner.primals[v] = bb.reshape(row, shape(v))
    for i in invariant:
        inner.primals[body.args[i]] = rev.primal(op.operand[i])
    inner.forward_block(body)
    yields = terminator(body).operands
    for i, adj in zip(act, body_block.args[1 : 1 + len(act)]):
        inner.add_adjoint(yields[i], adj)
    inner.reverse_block(body)
    new_adj = [inner.adjoint_or_zero(body.args[i]) for i in act]
    new_acc = []
    for f, acc in zip(frees, body_block.args[1 + len(act) :]):
        ct = inner.adjoints.get(f)
        new_acc.append(acc if ct is None else bb.add(acc, ct))
    k_next = bb.sub(k, bb.constant(1, counter_t))
    body_block.add_op(hlo.ReturnOp([k_next] + new_adj + new_acc))

    new = b.insert(hlo.WhileOp.create(operands=init, result_types=types, regions=[Region(cond_block), Region(body_block)]))
    for i, res in zip(act, new.results[1 : 1 + len(act)]):
        rev.add_adjoint(op.operand[i], res)
    for f, res in zip(frees, new.results[1 + len(act) :]):
        rev.add_adjoint(f, res)


# ============================================================================ if / case


def _branch_regions(op) -> list[Region]:
    return list(op.regions)


def _rebuild_branching(op, regions: list[Region], result_types: Sequence, builder: Builder):
    if isinstance(op, hlo.IfOp):
        new = hlo.IfOp.create(operands=[op.pred], result_types=list(result_types), regions=regions)
    else:
        new = hlo.CaseOp.create(operands=[op.index], result_types=list(result_types), regions=regions)
    return new


@custom_forward(hlo.IfOp, hlo.CaseOp)
def branch_forward(fwd: ForwardSweep, op) -> None:
    n = len(op.results)
    act = [i for i, r in enumerate(op.results) if fwd.analysis.is_active(r)]
    regions = []
    for region in op.regions:
        block = Block()
        sub = fwd.child(Builder(block))
        sub.run_block(region.block)
        outs = terminator(region.block).operands
        block.add_op(hlo.ReturnOp([sub.primal(v) for v in outs] + [sub.tangent_or_zero(outs[i]) for i in act]))
        regions.append(Region(block))
    types = [r.type for r in op.results] + [fwd.tangent_type(op.results[i].type) for i in act]
    selector = fwd.primal(op.operands[0])
    cls = type(op)
    new = fwd.builder.insert(cls.create(operands=[selector], result_types=types, regions=regions))
    for old, res in zip(op.results, new.results[:n]):
        fwd.primals[old] = res
    for i, res in zip(act, new.results[n:]):
        fwd.set_tangent(op.results[i], res)


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
        for v, r in zip(terminator(region.block).operands, op.results):
            sub.add_adjoint(v, rev.adjoint(r))
        sub.reverse_block(region.block)
        block.add_op(hlo.ReturnOp([sub.adjoint_or_zero(f) for f in frees]))
        regions.append(Region(block))
    cls = type(op)
    new = rev.builder.insert(cls.create(operands=[rev.primal(op.operands[0])], result_types=[f.type for f in frees], regions=regions))
    for f, res in zip(frees, new.results):
        rev.add_adjoint(f, res)


# ============================================================================ calls


@custom_forward(func.CallOp)
def call_forward(fwd: ForwardSweep, op: func.CallOp) -> None:
    callee = op.callee.root_reference.data
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
    arg_kinds = [ACTIVE if rev.is_active(v) else CONST for v in op.operands]
    ret_kinds = [ACTIVENONEED if rev.adjoint(r) is not None else CONSTNONEED for r in op.results]
    name = rev.ctx.reverse_function(callee, arg_kinds, ret_kinds)
    args = [rev.primal(v) for v in op.operands]
    args += [rev.adjoint(r) for r, k in zip(op.results, ret_kinds) if k == ACTIVENONEED]
    types = [v.type for v, k in zip(op.operands, arg_kinds) if k == ACTIVE]
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
    """'sum', 'max', 'min' or 'chooser' (a variadic reduce whose float results are picked
    from the inputs by compare/select, like argmax); raises otherwise."""
    block = op.body.block
    ops = body_ops(block)
    if len(op.inputs) == 1 and len(ops) == 1:
        inner = ops[0]
        if set(inner.operands) == {block.args[0], block.args[1]} and terminator(block).operands[0] is inner.results[0]:
            kinds = {hlo.AddOp: "sum", hlo.MaximumOp: "max", hlo.MinimumOp: "min"}
            if type(inner) in kinds:
                return kinds[type(inner)]
            if type(inner) is hlo.MultiplyOp:
                raise DiffError(f"no derivative rule for a product 'stablehlo.reduce' at {describe_location(op)} (custom tier: products are not supported yet)")
    choosing = (hlo.CompareOp, hlo.SelectOp, hlo.ConstantOp, hlo.OrOp, hlo.AndOp, hlo.NotOp, hlo.BroadcastInDimOp, hlo.ConvertOp)
    if all(isinstance(o, choosing) or not any(is_differentiable_type(r) for r in o.results) for o in ops):
        return "chooser"
    raise DiffError(
        f"no derivative rule for this 'stablehlo.reduce' body at {describe_location(op)}: the custom tier handles "
        f"add, maximum and minimum reductions and argmax-style choosers"
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


@custom_forward(hlo.ReduceOp)
def reduce_forward(fwd: ForwardSweep, op: hlo.ReduceOp) -> None:
    kind = reduce_kind(op)
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
    if kind == "sum":
        ct = rev.adjoint(op.results[0])
        x = op.inputs[0]
        rev.add_adjoint(x, b.broadcast_in_dim(ct, shape(x), _kept_dims(op)))
        if rev.is_active(op.init_values[0]):
            rev.add_adjoint(op.init_values[0], b.reduce_sum(ct, list(range(len(shape(ct))))))
        return
    for k, (x, r) in enumerate(zip(op.inputs, op.results)):
        ct = rev.adjoint(r)
        if ct is None:
            continue
        if rev.is_active(op.init_values[k]):
            raise DiffError(f"'stablehlo.reduce' at {describe_location(op)}: the init value of a max/min reduction cannot be active")
        px = rev.primal(x)
        mask, counts, kept = _chooser_mask(b, px, rev.primal(r), op)
        share = b.broadcast_in_dim(b.div(ct, counts), shape(px), kept)
        rev.add_adjoint(x, b.select(mask, share, b.zeros_like(share)))
