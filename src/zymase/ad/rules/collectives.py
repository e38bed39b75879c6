"""Derivatives of sharded programs: the StableHLO collectives and ``sdy.manual_computation``.

Collectives are linear. Forward mode applies the same collective to the tangents (with a
leading direction dimension at width N, the dimension numbers shift by one). Reverse
mode transposes them over the same replica groups:

- ``all_reduce`` (sum) -> ``all_reduce`` (sum);
- ``all_gather`` along d -> ``reduce_scatter`` (sum) along d, and back;
- ``all_to_all`` (split s, concat c) -> ``all_to_all`` (split c, concat s);
- ``collective_permute`` (pairs s -> t) -> ``collective_permute`` (t -> s).

max / min all-reductions and ``collective_broadcast`` in reverse mode are refused;
``partition_id`` / ``replica_id`` are inactive (structured.py).

``sdy.manual_computation`` (``jax.shard_map``) is differentiated as a region: its body is
outlined into a private function, differentiated by the engine like a called function
(``fwddiffe`` / ``diffe``), and called from a new manual computation over the same mesh
and manual axes, whose in/out shardings are those of the primal values each operand and
result stands for (tangents and cotangents are split like their primals). The reverse
body recomputes the primal body (nothing is carried across the manual boundary).

Cotangents follow the per-device convention, in which the transposes above are exact: a
device's cotangent is its own contribution. A result the out_sharding replicates over
manual axes U (its value is the same on all of them, and the global value is one copy) has
its seed divided by |U| on every device, and an operand replicated over manual axes V gets
the sum over V of the devices' contributions (an ``all_reduce`` over V), so that the
global cotangents are those of the global function.

``sdy.sharding_constraint`` is linear (ad/rules/callbacks.py): its tangent and cotangent
get the same constraint.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, TensorType, UnitAttr, i64
from xdsl.ir import Block, Operation, Region, SSAValue

from ...analysis.activity import is_differentiable_type
from ...ir import stablehlo as hlo
from ...ir.attributes import ChannelHandle, ChannelHandleAttr
from ...ir.builder import Builder, _combiner_region
from ...ir.dense import dense_from_numpy
from ...ir.enzyme import ACTIVE, ACTIVENONEED, CONST, CONSTNONEED, DUP
from ...ir.query import describe_location, element_type, free_values, used_values
from ...ir.sdy import (
    DimSharding,
    ManualComputationOp,
    ReturnOp,
    TensorSharding,
    collective_combiner,
    groups_axes,
    lookup_mesh,
    manual_computation,
    op_groups,
    parse_sharding_list,
    replica_groups,
)
from ..errors import DiffError
from ..registry import custom_forward, custom_reverse

if TYPE_CHECKING:
    from ..engine import ForwardSweep, ReverseSweep

COLLECTIVES = (hlo.AllReduceOp, hlo.AllGatherOp, hlo.ReduceScatterOp, hlo.AllToAllOp, hlo.CollectivePermuteOp, hlo.CollectiveBroadcastOp)


def _refuse(op: Operation, mode: str, why: str) -> DiffError:
    return DiffError(f"no {mode}-mode derivative rule for '{op.name}' at {describe_location(op)}: {why}")


def _check_sum(op: Operation, mode: str) -> None:
    if isinstance(op, (hlo.AllReduceOp, hlo.ReduceScatterOp)) and collective_combiner(op.computation) is not hlo.AddOp:
        raise _refuse(op, mode, "only sum reductions are differentiable (as lax.psum; lax.pmax / pmin have no derivative)")


def _int(attr) -> int:
    return attr.value.data


def _common(op: Operation) -> dict:
    """replica_groups, channel_handle and use_global_device_ids of ``op`` (those it has)."""
    return {k: v for k, v in op.properties.items() if k in ("replica_groups", "channel_handle", "use_global_device_ids")}


def _with_leading(t, width: int):
    if width == 1:
        return t
    return TensorType(t.get_element_type(), [width, *t.get_shape()])


def _int_attr(v: int) -> IntegerAttr:
    return IntegerAttr(v, i64)


def _apply(b: Builder, op: Operation, xs: Sequence[SSAValue], width: int) -> list[SSAValue]:
    """``op`` applied to ``xs`` (tangents with a leading direction dimension at width > 1)."""
    shift = 0 if width == 1 else 1
    props = dict(op.properties)
    for key in ("all_gather_dim", "scatter_dimension", "split_dimension", "concat_dimension"):
        if key in props:
            props[key] = _int_attr(_int(props[key]) + shift)
    regions = [r.clone() for r in op.regions]
    types = [_with_leading(r.type, width) for r in op.results]
    new = b.insert(type(op).create(operands=list(xs), result_types=types, properties=props, regions=regions))
    return list(new.results)


@custom_forward(*COLLECTIVES)
def collective_forward(fwd: ForwardSweep, op: Operation) -> None:
    _check_sum(op, "forward")
    fwd.clone(op)
    if not any(fwd.tangent(v) is not None for v in op.operands):
        return
    tangents = [fwd.tangent_or_zero(v) for v in op.operands]
    for r, t in zip(op.results, _apply(fwd.builder, op, tangents, fwd.width)):
        fwd.set_tangent(r, t)


def all_reduce_sum(b: Builder, x: SSAValue, groups: list[list[int]], like: Operation | None = None) -> SSAValue:
    """``all_reduce`` (sum) of ``x`` over ``groups`` (logical device ids)."""
    import numpy as np

    props = _common(like) if like is not None else {}
    props["replica_groups"] = dense_from_numpy(np.array(groups, dtype=np.int64))
    props.setdefault("channel_handle", ChannelHandleAttr(ChannelHandle(1, 1)))
    props.setdefault("use_global_device_ids", UnitAttr())
    op = hlo.AllReduceOp.create(operands=[x], result_types=[x.type], properties=props, regions=[_combiner_region(element_type(x), hlo.AddOp)])
    return b.insert(op).results[0]


@custom_reverse(*COLLECTIVES)
def collective_reverse(rev: ReverseSweep, op: Operation) -> None:
    _check_sum(op, "reverse")
    b = rev.builder
    if isinstance(op, hlo.CollectiveBroadcastOp):
        raise _refuse(op, "reverse", "the transpose of a collective broadcast is not implemented")
    if isinstance(op, hlo.AllReduceOp):
        cts = [rev.adjoint_or_zero(r) for r in op.results]
        new = b.insert(hlo.AllReduceOp.create(operands=cts, result_types=[c.type for c in cts], properties=dict(op.properties), regions=[op.computation.clone()]))
        for x, ct in zip(op.operands, new.results):
            rev.add_adjoint(x, ct)
        return
    if isinstance(op, hlo.AllGatherOp):
        dim = _int(op.all_gather_dim)
        for x, r in zip(op.operands, op.results):
            ct = rev.adjoint(r)
            if ct is None or not rev.is_active(x):
                continue
            props = {**_common(op), "scatter_dimension": _int_attr(dim)}
            new = hlo.ReduceScatterOp.create(operands=[ct], result_types=[x.type], properties=props, regions=[_combiner_region(element_type(x), hlo.AddOp)])
            rev.add_adjoint(x, b.insert(new).results[0])
        return
    if isinstance(op, hlo.ReduceScatterOp):
        ct = rev.adjoint(op.result)
        props = {**_common(op), "all_gather_dim": op.scatter_dimension}
        new = hlo.AllGatherOp.create(operands=[ct], result_types=[op.operand.type], properties=props)
        rev.add_adjoint(op.operand, b.insert(new).results[0])
        return
    if isinstance(op, hlo.AllToAllOp):
        cts = [rev.adjoint_or_zero(r) for r in op.results]
        props = dict(op.properties)
        props["split_dimension"], props["concat_dimension"] = op.concat_dimension, op.split_dimension
        new = b.insert(hlo.AllToAllOp.create(operands=cts, result_types=[x.type for x in op.operands], properties=props))
        for x, ct in zip(op.operands, new.results):
            rev.add_adjoint(x, ct)
        return
    assert isinstance(op, hlo.CollectivePermuteOp)
    import numpy as np

    from ...ir.dense import dense_to_numpy

    pairs = np.asarray(dense_to_numpy(op.source_target_pairs)).reshape(-1, 2)
    props = dict(op.properties)
    props["source_target_pairs"] = dense_from_numpy(np.ascontiguousarray(pairs[:, ::-1]).astype(np.int64))
    new = hlo.CollectivePermuteOp.create(operands=[rev.adjoint(op.result)], result_types=[op.operand.type], properties=props)
    rev.add_adjoint(op.operand, b.insert(new).results[0])


# ============================================================================ manual computations


def _outline(ctx, op: ManualComputationOp) -> str:
    """A private function computing ``op``'s region (made once per op)."""
    cache = ctx.__dict__.setdefault("_manual_bodies", {})
    got = cache.get(op)
    if got is not None:
        return got
    block = op.body.blocks.first
    term = block.last_op
    name = ctx.unique_name("manual_body")
    _, new_block = ctx.add_func(name, [a.type for a in block.args], [v.type for v in term.operands])
    mapping = dict(zip(block.args, new_block.args))
    for v in free_values(op):  # jax's regions read constants defined outside them
        owner = v.owner
        if not isinstance(owner, Operation) or not isinstance(owner, (hlo.ConstantOp,)) and owner.name != "arith.constant":
            raise DiffError(f"cannot differentiate '{op.name}' at {describe_location(op)}: its region reads a value defined outside it that is not a constant")
        copy = owner.clone()
        new_block.add_op(copy)
        mapping[v] = copy.results[0]
    for inner in block.ops:
        if inner is term:
            break
        new_block.add_op(inner.clone(value_mapper=mapping))
    new_block.add_op(func.ReturnOp(*[mapping.get(v, v) for v in term.operands]))
    cache[op] = name
    return name


def _manual_like(op: ManualComputationOp, operands: list[SSAValue], ins: list[TensorSharding], outs: list[TensorSharding], arg_types: list, result_types: list, build) -> ManualComputationOp:
    """A manual computation over ``op``'s mesh and manual axes; ``build(b, args)`` fills
    its body (args of ``arg_types``) and returns the local results."""
    block = Block(arg_types=arg_types)
    values = build(Builder(block), list(block.args))
    block.add_op(ReturnOp(values))
    return manual_computation(operands, ins, outs, op.manual_axes, Region(block), result_types)


@custom_forward(ManualComputationOp)
def manual_forward(fwd: ForwardSweep, op: ManualComputationOp) -> None:
    """A manual computation returning the primal results and their tangents; at width N
    the tangents' leading direction dimension is not split (``{}``)."""
    from ..engine import batched_type

    width = fwd.width
    ins, outs = parse_sharding_list(op.in_shardings), parse_sharding_list(op.out_shardings)
    block = op.body.blocks.first
    local_out = [v.type for v in block.last_op.operands]
    name = _outline(fwd.ctx, op)
    arg_kinds = [DUP if fwd.tangent(v) is not None else CONST for v in op.operands]
    ret_kinds = [DUP if fwd.analysis.is_active(r) and is_differentiable_type(r) else CONST for r in op.results]
    fname = fwd.ctx.forward_function(name, arg_kinds, ret_kinds, width)
    operands, in_sh, arg_types = [], [], []
    for v, a, s, k in zip(op.operands, block.args, ins, arg_kinds):
        operands.append(fwd.primal(v))
        in_sh.append(s)
        arg_types.append(a.type)
        if k == DUP:
            operands.append(fwd.tangent(v))
            in_sh.append(_with_direction(s, width))
            arg_types.append(batched_type(a.type, width))
    out_sh, out_types, local_types = [], [], []
    for r, s, t, k in zip(op.results, outs, local_out, ret_kinds):
        out_sh.append(s)
        out_types.append(r.type)
        local_types.append(t)
        if k == DUP:
            out_sh.append(_with_direction(s, width))
            out_types.append(batched_type(r.type, width))
            local_types.append(batched_type(t, width))

    def build(b: Builder, args: list[SSAValue]) -> list[SSAValue]:
        return list(b.insert(func.CallOp(fname, args, local_types)).results)

    new = fwd.builder.insert(_manual_like(op, operands, in_sh, out_sh, arg_types, out_types, build))
    it = iter(new.results)
    for r, k in zip(op.results, ret_kinds):
        fwd.primals[r] = next(it)
        if k == DUP:
            fwd.set_tangent(r, next(it))


def _with_direction(s: TensorSharding, width: int) -> TensorSharding:
    """The sharding of ``width`` tangents stacked in a leading, unsplit dimension."""
    if width == 1:
        return s
    return TensorSharding(s.mesh, (DimSharding(),) + s.dims, s.replicated, s.unreduced, s.inline_mesh)


def _collective_axes(op: Operation, mesh, manual: Sequence[str]) -> set[str]:
    """The manual axes a collective communicates over (all of them when unknown)."""
    if isinstance(op, hlo.CollectivePermuteOp):
        import numpy as np

        from ...ir.dense import dense_to_numpy

        ids = np.arange(math.prod(mesh.sizes)).reshape(mesh.sizes)
        coords = {int(ids[c]): c for c in np.ndindex(*mesh.sizes)}
        pairs = np.asarray(dense_to_numpy(op.source_target_pairs)).reshape(-1, 2)
        moved = {mesh.names[k] for s, t in pairs for k in range(len(mesh.names)) if coords[int(s)][k] != coords[int(t)][k]}
        return moved & set(manual)
    axes = groups_axes(mesh, manual, op_groups(op))
    return set(axes) if axes is not None else set(manual)


def varying_axes(block: Block, arg_axes: Sequence[set[str]], mesh, manual: Sequence[str]) -> dict[SSAValue, set[str]]:
    """For each value of a manual computation's body (``block``, the region or a function
    made from it), the manual axes along which it may differ between devices; the block's
    arguments vary along ``arg_axes``. An all-reduce or all-gather over axes A makes its
    result the same along A; the other collectives and ``partition_id`` make it vary."""
    vary: dict[SSAValue, set[str]] = dict(zip(block.args, (set(a) for a in arg_axes)))
    every = set(manual)

    def of(v: SSAValue) -> set[str]:
        return vary.get(v, every)  # a value from outside: anything

    def visit(blk: Block) -> None:
        for op in blk.ops:
            inputs: set[str] = set()
            for v in used_values(op):
                inputs |= of(v)
            if isinstance(op, (hlo.AllReduceOp, hlo.AllGatherOp)):
                out = inputs - _collective_axes(op, mesh, manual)
            elif isinstance(op, COLLECTIVES):
                out = inputs | _collective_axes(op, mesh, manual)
            elif isinstance(op, (hlo.PartitionIdOp, func.CallOp)):
                out = set(every)  # a call may communicate
            elif op.regions:
                # A region's values (a loop's state, a reduction's scalars) and the op's
                # results vary along the op's inputs' axes and those the collectives in it
                # communicate over (a bound on a loop's fixed point).
                out = set(inputs)
                for o in op.walk():
                    if o is op:
                        continue
                    if isinstance(o, COLLECTIVES):
                        out |= _collective_axes(o, mesh, manual)
                    elif isinstance(o, (hlo.PartitionIdOp, func.CallOp, ManualComputationOp)):
                        out = set(every)
                for r in op.regions:
                    for inner in r.blocks:
                        for a in inner.args:
                            vary[a] = set(out)
                        visit(inner)
            else:
                out = inputs
            for r in op.results:
                vary[r] = set(out)

    visit(block)
    return vary


def _fold_invariant_sums(fn: func.FuncOp, arg_axes: Sequence[set[str]], mesh, manual: Sequence[str]) -> dict[SSAValue, set[str]]:
    """Replace each sum all-reduce over axes A whose operand is the same along A by the
    operand times |A| (no communication); returns the varying axes of ``fn``'s values."""
    block = fn.body.blocks.first
    vary = varying_axes(block, arg_axes, mesh, manual)
    for op in list(fn.walk()):
        if not isinstance(op, hlo.AllReduceOp) or len(op.operands) != 1 or collective_combiner(op.computation) is not hlo.AddOp:
            continue
        x = op.operands[0]
        axes = _collective_axes(op, mesh, manual)
        if vary.get(x, set(manual)) & axes:
            continue
        b = Builder.before(op)
        k = math.prod(mesh.size(a) for a in axes)
        new = b.mul(x, b.full_like(x, float(k))) if k != 1 else x
        vary[new] = vary.get(x, set())
        op.results[0].replace_all_uses_with(new)
        op.detach()
        op.erase()
    return vary


def _unmentioned(manual: Sequence[str], s: TensorSharding) -> list[str]:
    used = s.axes_used()
    return [a for a in manual if a not in used]


@custom_reverse(ManualComputationOp)
def manual_reverse(rev: ReverseSweep, op: ManualComputationOp) -> None:
    ins, outs = parse_sharding_list(op.in_shardings), parse_sharding_list(op.out_shardings)
    manual = op.manual_axis_names
    mesh = lookup_mesh(op, (ins or outs)[0])
    block = op.body.blocks.first
    local_out = [v.type for v in block.last_op.operands]
    name = _outline(rev.ctx, op)
    arg_kinds = [ACTIVE if rev.is_active(v) and is_differentiable_type(v) else CONST for v in op.operands]
    ret_kinds = [ACTIVENONEED if rev.adjoint(r) is not None else CONSTNONEED for r in op.results]
    if ACTIVE not in arg_kinds or ACTIVENONEED not in ret_kinds:
        return
    dname = rev.ctx.reverse_function(name, arg_kinds, ret_kinds, rev.transposing)
    seeded = [j for j, k in enumerate(ret_kinds) if k == ACTIVENONEED]
    active = [i for i, k in enumerate(arg_kinds) if k == ACTIVE]
    operands = [rev.primal(v) for v in op.operands] + [rev.adjoint(op.results[j]) for j in seeded]
    in_sh = list(ins) + [outs[j] for j in seeded]
    arg_types = [a.type for a in block.args] + [local_out[j] for j in seeded]
    out_sh = [ins[i] for i in active]
    out_types = [op.operands[i].type for i in active]
    local_grads = [block.args[i].type for i in active]
    n = len(op.operands)

    # Axes along which no value of the primal body varies (every device along them does the
    # same work) need neither the seeds' division nor the sums: they are left out.
    primal_vary = varying_axes(block, [set(manual) - set(_unmentioned(manual, s)) for s in ins], mesh, manual)
    top = [*block.args, *(r for o in block.ops for r in o.results)]
    moving = set().union(*(primal_vary[v] for v in top))
    every = manual
    manual = tuple(a for a in manual if a in moving)
    # The derivative body's values that are the same on every device along some axes need
    # no communication there: its sums over such axes become products.
    arg_axes = [set(manual) - set(_unmentioned(manual, s)) for s in ins]
    arg_axes += [set(manual) - set(_unmentioned(manual, outs[j])) for j in seeded]
    vary = _fold_invariant_sums(rev.ctx.func(dname), arg_axes, mesh, every)
    ret = rev.ctx.func(dname).body.blocks.first.last_op
    grad_vary = [vary.get(v, set(every)) for v in ret.operands]

    def build(b: Builder, args: list[SSAValue]) -> list[SSAValue]:
        seeds = []
        for j, seed in zip(seeded, args[n:]):
            copies = math.prod(mesh.size(a) for a in _unmentioned(manual, outs[j]))
            seeds.append(seed if copies == 1 else b.mul(seed, b.full_like(seed, 1.0 / copies)))
        grads = list(b.insert(func.CallOp(dname, [*args[:n], *seeds], local_grads)).results)
        summed = []
        for i, g, gv in zip(active, grads, grad_vary):
            over = _unmentioned(manual, ins[i])
            same = [a for a in over if a not in gv]  # the sum over these is a product
            over = [a for a in over if a in gv]
            k = math.prod(mesh.size(a) for a in same)
            if k != 1:
                g = b.mul(g, b.full_like(g, float(k)))
            summed.append(all_reduce_sum(b, g, replica_groups(mesh, over)) if over else g)
        return summed

    new = rev.builder.insert(_manual_like(op, operands, in_sh, out_sh, arg_types, out_types, build))
    for i, g in zip(active, new.results):
        rev.add_adjoint(op.operands[i], g)
