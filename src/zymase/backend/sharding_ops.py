"""Emitters of sharded programs: Shardy ops (ir/sdy.py, ``sdy.sharding_constraint``) and
the StableHLO collectives, back to jax's sharding API.

- ``sdy.sharding_constraint`` -> ``jax.lax.with_sharding_constraint`` with a
  ``NamedSharding`` over the mesh rebuilt from ``sdy.mesh`` (open dimensions ``{?}`` are
  ``PartitionSpec.UNCONSTRAINED``). Constraints on a mesh without axes are jax's typed-key
  markers, which ``callback_ops.py`` emits; a constraint inside a manual computation
  naming no axis is the identity there.
- ``sdy.manual_computation`` -> ``jax.shard_map`` over that mesh, with the in/out specs of
  its shardings restricted to the manual axes, ``axis_names`` = the manual axes and
  ``check_vma=False`` (the IR carries no varying-manual-axes types; the program already
  is what jax checked).
- Collectives inside one: the mesh axes are recovered from the replica groups (logical
  device ids, row-major in the mesh): the ordered tuple of manual axes whose groups are
  exactly those. ``all_reduce`` (add / max / min) -> ``lax.psum`` / ``pmax`` / ``pmin``;
  ``all_gather`` -> ``lax.all_gather(tiled=True)``; ``reduce_scatter`` (add) ->
  ``lax.psum_scatter(tiled=True)``; ``all_to_all`` -> ``lax.all_to_all(tiled=True)``;
  ``collective_permute`` -> ``lax.ppermute`` with the pairs as axis indices;
  ``collective_broadcast`` -> a psum of the group's first shard; ``partition_id`` -> the
  linear ``lax.axis_index`` over every mesh axis (all axes manual); ``replica_id`` -> 0
  (jax's SPMD programs have one replica).

The mesh's devices: the logical ids of ``sdy.mesh`` (its ``device_ids``, else the iota)
mapped through the module's device assignment (``zymase.device_assignment``, which the
frontend records from jax's lowering, so a ``Mesh`` over devices in any order comes back
in that order), else through the devices of ``jax.devices()`` by id; without either,
jax's current mesh (``jax.set_mesh``) when its axes match.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import jax
import numpy as np
from jax import lax
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from xdsl.ir import Operation

from ..ir import stablehlo as hlo
from ..ir.host import ShardingConstraintOp
from ..ir.sdy import (
    ManualComputationOp,
    MeshShape,
    ShardingSyntaxError,
    TensorSharding,
    collective_combiner,
    device_assignment,
    groups_axes,
    lookup_mesh,
    op_groups,
    parse_sharding,
    parse_sharding_list,
)
from . import callback_ops
from .emitter import FunctionBuilder, OpFn, emit_error, emits

# ============================================================================ meshes


_MESHES: dict[tuple[MeshShape, tuple[int, ...] | None], Mesh] = {}


def concrete_mesh(shape: MeshShape, assignment: tuple[int, ...] | None = None) -> Mesh:
    """A ``jax.sharding.Mesh`` with the axes of ``shape``, its logical devices mapped to
    jax's through the device assignment ``assignment`` (see the module docstring)."""
    if assignment is None and shape.device_ids is None:
        current = _current_mesh()
        if current is not None and tuple(current.axis_names) == shape.names and tuple(current.devices.shape) == shape.sizes:
            return current
    got = _MESHES.get((shape, assignment))
    if got is None:
        by_id = {d.id: d for d in jax.devices()}
        n = math.prod(shape.sizes)
        logical = shape.device_ids if shape.device_ids else tuple(range(n))
        physical = assignment if assignment is not None else tuple(sorted(by_id))
        if len(logical) != n or any(not 0 <= i < len(physical) for i in logical) or any(physical[i] not in by_id for i in logical):
            raise ValueError(f"the mesh {dict(shape.axes)} needs {n} devices; jax has {len(by_id)}")
        devices = [by_id[physical[i]] for i in logical]
        got = _MESHES[(shape, assignment)] = Mesh(np.array(devices, dtype=object).reshape(shape.sizes), shape.names)
    return got


def _assignment(op: Operation) -> tuple[int, ...] | None:
    try:
        return device_assignment(op)
    except ShardingSyntaxError as e:
        raise emit_error(op, str(e)) from None


def _current_mesh() -> Mesh | None:
    getter = getattr(jax.sharding, "get_mesh", None)
    try:
        mesh = getter() if getter is not None else None
    except Exception:
        return None
    if mesh is None or not isinstance(mesh, Mesh) or not mesh.axis_names:
        return None
    return mesh


def partition_spec(s: TensorSharding, only: tuple[str, ...] | None = None) -> PartitionSpec:
    """The PartitionSpec of a sharding (restricted to the axes ``only`` when given)."""
    parts: list[Any] = []
    for d in s.dims:
        axes = tuple(a for a in d.axes if only is None or a in only)
        if not axes:
            parts.append(PartitionSpec.UNCONSTRAINED if d.is_open and only is None else None)
        else:
            parts.append(axes[0] if len(axes) == 1 else axes)
    while parts and parts[-1] is None:
        parts.pop()
    return PartitionSpec(*parts)


# ============================================================================ sharding constraints


def _manual_parent(op: Operation) -> ManualComputationOp | None:
    p = op.parent_op()
    while p is not None:
        if isinstance(p, ManualComputationOp):
            return p
        p = p.parent_op()
    return None


@emits(ShardingConstraintOp)
def _sharding_constraint(b: FunctionBuilder, op: ShardingConstraintOp) -> OpFn:
    try:
        s = parse_sharding(op.sharding)
        mesh_shape = lookup_mesh(op, s)
    except ShardingSyntaxError as e:
        raise emit_error(op, str(e)) from None
    if not mesh_shape.axes:
        return callback_ops._sharding_constraint(b, op)  # typed PRNG keys (no mesh)
    if s.unreduced:
        raise emit_error(op, "unreduced axes in a sharding constraint are not supported")
    if not s.axes_used() and (_manual_parent(op) is not None or _inside_manual(b)):
        return lambda x: x  # jax's constraints on values inside a shard_map body name no axis
    if _manual_parent(op) is not None:
        raise emit_error(op, "a sharding constraint naming mesh axes inside a manual computation is not supported")
    spec = partition_spec(s)
    assignment = _assignment(op)

    def constraint(x: Any) -> Any:
        return lax.with_sharding_constraint(x, NamedSharding(concrete_mesh(mesh_shape, assignment), spec))

    return constraint


# ============================================================================ manual computations


class _ManualContext:
    def __init__(self, mesh: MeshShape, manual: tuple[str, ...]):
        self.mesh = mesh
        self.manual = manual


def _stack(b: FunctionBuilder) -> list[_ManualContext]:
    got = getattr(b, "_manual_stack", None)
    if got is None:
        got = b._manual_stack = []
    return got


def _inside_manual(b: FunctionBuilder) -> bool:
    return bool(getattr(b, "_manual_stack", None))


@emits(ManualComputationOp)
def _manual_computation(b: FunctionBuilder, op: ManualComputationOp) -> OpFn:
    try:
        ins = parse_sharding_list(op.in_shardings)
        outs = parse_sharding_list(op.out_shardings)
        mesh_shape = lookup_mesh(op, (ins or outs)[0])
    except (ShardingSyntaxError, IndexError) as e:
        raise emit_error(op, str(e)) from None
    assignment = _assignment(op)
    manual = op.manual_axis_names
    in_specs = tuple(partition_spec(s, manual) for s in ins)
    out_specs = tuple(partition_spec(s, manual) for s in outs)
    ctx = _ManualContext(mesh_shape, _enclosing_axes(b, op) + manual)  # a nested one adds axes
    stack = _stack(b)
    stack.append(ctx)  # the collectives of the region are emitted (statically) in this context
    try:
        body = b.region(op.body)
    finally:
        stack.pop()
    n_out = len(op.results)

    def local(*xs: Any) -> tuple:
        stack.append(ctx)
        try:
            return tuple(body(*xs))
        finally:
            stack.pop()

    def manual_computation(*xs: Any) -> Any:
        # nested in another one: over the mesh jax's context holds (some axes manual already)
        mesh = jax.sharding.get_abstract_mesh() if stack else concrete_mesh(mesh_shape, assignment)
        mapped = jax.shard_map(local, mesh=mesh, in_specs=in_specs, out_specs=out_specs, axis_names=frozenset(manual), check_vma=False)
        out = mapped(*xs)
        return out[0] if n_out == 1 else tuple(out)

    return manual_computation


# ============================================================================ collectives


def _enclosing_axes(b: FunctionBuilder, op: Operation) -> tuple[str, ...]:
    """The manual axes of the manual computations around ``op`` (outermost first)."""
    axes: list[str] = []
    parent = _manual_parent(op)
    while parent is not None:
        axes[:0] = parent.manual_axis_names
        parent = _manual_parent(parent)
    if not axes and getattr(b, "_manual_stack", None):
        return b._manual_stack[-1].manual  # in a function called from a manual computation
    return tuple(axes)


def _context(b: FunctionBuilder, op: Operation) -> _ManualContext:
    parent = _manual_parent(op)
    if parent is not None:
        ins = parse_sharding_list(parent.in_shardings) or parse_sharding_list(parent.out_shardings)
        return _ManualContext(lookup_mesh(parent, ins[0]), _enclosing_axes(b, op))
    stack = getattr(b, "_manual_stack", None)
    if stack:
        return stack[-1]
    raise emit_error(op, "a collective outside a manual computation (sdy.manual_computation, jax.shard_map) is not supported")


def _axes(b: FunctionBuilder, op: Any) -> tuple[str, ...]:
    """The ordered manual mesh axes a collective's replica groups stand for."""
    ctx = _context(b, op)
    groups = op_groups(op)
    axes = groups_axes(ctx.mesh, ctx.manual, groups)
    if axes is None:
        raise emit_error(op, f"its replica groups {sorted(groups)} are not the groups of any manual mesh axes {list(ctx.manual)}")
    return axes


def _dense(attr: Any) -> np.ndarray:
    from ..ir.dense import dense_to_numpy

    return np.asarray(dense_to_numpy(attr))


def _name(axes: tuple[str, ...]) -> Any:
    return axes[0] if len(axes) == 1 else axes


@emits(hlo.AllReduceOp)
def _all_reduce(b: FunctionBuilder, op: hlo.AllReduceOp) -> OpFn:
    axes = _name(_axes(b, op))
    kind = collective_combiner(op.computation)
    reducer = {hlo.AddOp: lax.psum, hlo.MaximumOp: lax.pmax, hlo.MinimumOp: lax.pmin}.get(kind)  # type: ignore[call-overload]
    if reducer is None:
        raise emit_error(op, "only add, max and min all-reductions are supported")
    n = len(op.results)

    def all_reduce(*xs: Any) -> Any:
        out = [reducer(x, axes) for x in xs]
        return out[0] if n == 1 else tuple(out)

    return all_reduce


@emits(hlo.AllGatherOp)
def _all_gather(b: FunctionBuilder, op: hlo.AllGatherOp) -> OpFn:
    axes = _name(_axes(b, op))
    dim = op.all_gather_dim.value.data
    n = len(op.results)

    def all_gather(*xs: Any) -> Any:
        out = [lax.all_gather(x, axes, axis=dim, tiled=True) for x in xs]
        return out[0] if n == 1 else tuple(out)

    return all_gather


@emits(hlo.ReduceScatterOp)
def _reduce_scatter(b: FunctionBuilder, op: hlo.ReduceScatterOp) -> OpFn:
    axes = _name(_axes(b, op))
    if collective_combiner(op.computation) is not hlo.AddOp:
        raise emit_error(op, "only add reduce-scatters are supported")
    dim = op.scatter_dimension.value.data
    return lambda x: lax.psum_scatter(x, axes, scatter_dimension=dim, tiled=True)


@emits(hlo.AllToAllOp)
def _all_to_all(b: FunctionBuilder, op: hlo.AllToAllOp) -> OpFn:
    axes = _axes(b, op)
    ctx = _context(b, op)
    if op.split_count.value.data != math.prod(ctx.mesh.size(a) for a in axes):
        raise emit_error(op, "split_count differs from the size of its replica groups")
    split, concat = op.split_dimension.value.data, op.concat_dimension.value.data
    name = _name(axes)
    n = len(op.results)

    def all_to_all(*xs: Any) -> Any:
        out = [lax.all_to_all(x, name, split, concat, tiled=True) for x in xs]
        return out[0] if n == 1 else tuple(out)

    return all_to_all


def permutation_axes(op: Operation, mesh: MeshShape, manual: tuple[str, ...], pairs: list[tuple[int, int]]) -> tuple[tuple[str, ...], list[tuple[int, int]]]:
    """The manual axes a collective_permute moves along and its pairs as linear indices
    along them (the same in every group of the other axes)."""
    ids = np.arange(math.prod(mesh.sizes)).reshape(mesh.sizes)
    coords = {int(ids[c]): c for c in np.ndindex(*mesh.sizes)}
    names = mesh.names
    for r in range(1, len(manual) + 1):
        for axes in itertools.permutations(manual, r):
            pos = [names.index(a) for a in axes]
            rest = [i for i in range(len(names)) if names[i] not in axes]
            sizes = [mesh.sizes[p] for p in pos]

            def linear(c: tuple[int, ...]) -> int:
                return int(np.ravel_multi_index([c[p] for p in pos], sizes))

            per_group: dict[tuple[int, ...], set[tuple[int, int]]] = {}
            ok = True
            for s, t in pairs:
                cs, ct = coords[s], coords[t]
                if any(cs[i] != ct[i] for i in rest):
                    ok = False
                    break
                per_group.setdefault(tuple(cs[i] for i in rest), set()).add((linear(cs), linear(ct)))
            n_groups = math.prod(mesh.sizes[i] for i in rest)
            if not ok or len(per_group) != n_groups or len({frozenset(v) for v in per_group.values()}) != 1:
                continue
            return axes, sorted(next(iter(per_group.values())))
    raise emit_error(op, f"its source-target pairs {pairs} are not one permutation along manual mesh axes {list(manual)}")


@emits(hlo.CollectivePermuteOp)
def _collective_permute(b: FunctionBuilder, op: hlo.CollectivePermuteOp) -> OpFn:
    ctx = _context(b, op)
    pairs = [(int(s), int(t)) for s, t in _dense(op.source_target_pairs).reshape(-1, 2)]
    axes, perm = permutation_axes(op, ctx.mesh, ctx.manual, pairs)
    name = _name(axes)
    return lambda x: lax.ppermute(x, name, perm)


@emits(hlo.CollectiveBroadcastOp)
def _collective_broadcast(b: FunctionBuilder, op: hlo.CollectiveBroadcastOp) -> OpFn:
    axes = _axes(b, op)
    name = _name(axes)

    def collective_broadcast(x: Any) -> Any:
        first = lax.axis_index(name) == 0
        return lax.psum(jax.numpy.where(first, x, jax.numpy.zeros_like(x)), name)

    return collective_broadcast


@emits(hlo.PartitionIdOp)
def _partition_id(b: FunctionBuilder, op: hlo.PartitionIdOp) -> OpFn:
    ctx = _context(b, op)
    if set(ctx.manual) != set(ctx.mesh.names):
        raise emit_error(op, "partition_id in a manual computation over only some mesh axes is not supported")
    name = _name(ctx.mesh.names)
    return lambda: lax.convert_element_type(lax.axis_index(name), np.uint32)


@emits(hlo.ReplicaIdOp)
def _replica_id(b: FunctionBuilder, op: hlo.ReplicaIdOp) -> OpFn:
    _context(b, op)  # inside a manual computation (else refused, as the collectives)
    return lambda: jax.numpy.zeros((), np.uint32)
