"""Tier 2 and 3 rules for the structured ops: gather, scatter, sort, top_k, reduce_window,
select_and_scatter, convolution, cholesky, triangular_solve, and the special functions
whose derivative needs more than a partial (polygamma, zeta, bessel_i1e).

Index conventions of gather and scatter follow the StableHLO specification: gather clamps
its start indices into range, scatter drops an update window that does not fit. The
transpose of a gather is a scatter-add at the *clamped* indices; the cotangent of a
scatter's updates is a gather of the result's cotangent, zero for dropped windows.

Products (scatter-multiply, product windows) differentiate through the product of the
*other* elements, taken by prefix and suffix scans of multiplications (_others_products),
never by dividing the product by an element: exact with zeros in the input, and so are
their own derivatives.
"""

from __future__ import annotations

import math as pymath
from collections import ChainMap
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from xdsl.dialects.builtin import IntegerType
from xdsl.dialects import func
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.traits import SymbolTable

from ...ir.query import body_ops, describe_location, padding_pairs, terminator
from ...ir import chlo
from ...ir import stablehlo as hlo
from ...ir.attributes import (
    ComparisonDirection,
    ConvDimensionNumbersAttr,
    GatherDimensionNumbersAttr,
    ScatterDimensionNumbersAttr,
    Transpose,
)
from ...ir.builder import Builder, constant_value, elem, shape, tensor
from ..errors import DiffError, NoBatchedRule, unsupported
from ..registry import batched_reverse, custom_augment, custom_forward, custom_reverse, elementwise, inactive, linear

if TYPE_CHECKING:
    from ..engine import ForwardSweep, ReverseSweep

I32 = IntegerType(32)


def single_direction(fwd: ForwardSweep, op) -> None:
    """The custom forward rules here build width-1 tangents; in batched forward mode
    (width N, tangents with a leading direction dimension) they raise ``NoBatchedRule``
    before building anything, and the engine runs them once per direction in a loop."""
    width = getattr(fwd, "width", 1)
    if width != 1:
        raise NoBatchedRule(op, width)


def _ints(attr, default: list[int]) -> list[int]:
    return list(attr.get_values()) if attr is not None else default


def _both(b: Builder, p: SSAValue, q: SSAValue) -> SSAValue:
    return b.insert(hlo.AndOp(p, q)).results[0]


def _either(b: Builder, p: SSAValue, q: SSAValue) -> SSAValue:
    return b.insert(hlo.OrOp(p, q)).results[0]


# ============================================================================ products of the other elements


def _shift(b: Builder, v: SSAValue, k: int, fill) -> SSAValue:
    """out[i] = v[i - k] along dimension 0, ``fill`` for i < k."""
    n, rank = shape(v)[0], len(shape(v))
    k = min(k, n)
    padded = b.pad(v, b.constant(fill, tensor(elem(v), [])), [k] + [0] * (rank - 1), [0] * rank)
    return b.slice(padded, [0] * rank, list(shape(v)))


def _products_before(b: Builder, v: SSAValue, runs: SSAValue | None) -> SSAValue:
    """out[i] = prod_{j < i} v[j] along dimension 0, over the j in i's run of equal
    ``runs`` ids (non-negative, equal ids contiguous) when given. A log-step scan: step k
    multiplies in the partial product k places back if that place is in the same run."""
    ones = b.ones_like(v)

    def same_run(k: int) -> SSAValue:
        return b.compare(_shift(b, runs, k, -1), runs, "EQ")

    def within_run(k: int, combined: SSAValue, alone: SSAValue) -> SSAValue:
        if runs is None:
            return combined
        return b.select(b.broadcast_in_dim(same_run(k), shape(v), [0]), combined, alone)

    inclusive, k = v, 1
    while k < shape(v)[0]:
        inclusive = within_run(k, b.mul(inclusive, _shift(b, inclusive, k, 1)), inclusive)
        k *= 2
    return within_run(1, _shift(b, inclusive, 1, 1), ones)


def _others_products(b: Builder, v: SSAValue, runs: SSAValue | None = None) -> SSAValue:
    """out[i] = prod_{j != i} v[j] along dimension 0 (over i's run of equal ``runs`` ids
    when given): the products before i times the products after i. Only multiplications,
    so exact with zeros in v, and so are its own derivatives (no division by v[i])."""
    before = _products_before(b, v, runs)
    backwards = _products_before(b, b.reverse(v, [0]), b.reverse(runs, [0]) if runs is not None else None)
    return b.mul(before, b.reverse(backwards, [0]))


# ============================================================================ gather


def _clamp_indices(b: Builder, idx: SSAValue, ivd: int, highs: list[int]) -> SSAValue:
    """Clamp each component k of the index vectors in ``idx`` into [0, highs[k]]."""
    element = elem(idx)
    lo = b.zeros(idx.type)
    if ivd == len(shape(idx)):
        hi = b.constant(highs[0], idx.type)
    else:
        vec = b.constant(np.asarray(highs), tensor(element, [len(highs)]))
        hi = b.broadcast_in_dim(vec, shape(idx), [ivd])
    return b.clamp(lo, idx, hi)


@linear(hlo.GatherOp, operands=(0,))
def gather(b: Builder, op: hlo.GatherOp, ct, i, xs):
    """gather(x, idx)^T ct = scatter_add(zeros_like(x), clamp(idx), ct)"""
    x, idx = xs
    d = op.dimension_numbers
    sizes = list(op.slice_sizes.get_values())
    highs = [shape(x)[k] - sizes[k] for k in d.start_index_map]
    clamped = _clamp_indices(b, idx, d.index_vector_dim, highs)
    dims = ScatterDimensionNumbersAttr.get(
        update_window_dims=d.offset_dims,
        inserted_window_dims=d.collapsed_slice_dims,
        input_batching_dims=d.operand_batching_dims,
        scatter_indices_batching_dims=d.start_indices_batching_dims,
        scatter_dims_to_operand_dims=d.start_index_map,
        index_vector_dim=d.index_vector_dim,
    )
    return b.scatter(b.zeros(x.type), clamped, ct, dims, hlo.AddOp)


# ============================================================================ scatter


_SCATTER_KINDS = {hlo.AddOp: "add", "replace": "replace", hlo.MultiplyOp: "mul", hlo.MaximumOp: "max", hlo.MinimumOp: "min"}


def _scatter_kind(op: hlo.ScatterOp) -> str:
    if len(op.inputs) != 1:
        raise unsupported(op, "variadic scatter (several inputs) is not differentiable yet")
    kind = _SCATTER_KINDS.get(op.combiner())
    if kind is None:
        raise unsupported(op, "only add, replace, multiply, maximum and minimum update computations are differentiable")
    return kind


def _scatter_as_gather(op: hlo.ScatterOp, updates: SSAValue) -> tuple[GatherDimensionNumbersAttr, list[int]]:
    """The gather reading, for each update element, the operand element it lands on."""
    d = op.scatter_dimension_numbers
    rank = len(shape(op.inputs[0]))
    dropped = set(d.inserted_window_dims) | set(d.input_batching_dims)
    window = iter(shape(updates)[k] for k in d.update_window_dims)
    sizes = [1 if k in dropped else next(window) for k in range(rank)]
    dims = GatherDimensionNumbersAttr.get(
        offset_dims=d.update_window_dims,
        collapsed_slice_dims=d.inserted_window_dims,
        operand_batching_dims=d.input_batching_dims,
        start_indices_batching_dims=d.scatter_indices_batching_dims,
        start_index_map=d.scatter_dims_to_operand_dims,
        index_vector_dim=d.index_vector_dim,
    )
    return dims, sizes


def _gather_updates(b: Builder, op: hlo.ScatterOp, v: SSAValue, idx: SSAValue, updates: SSAValue) -> SSAValue:
    dims, sizes = _scatter_as_gather(op, updates)
    return b.gather(v, idx, dims, sizes, tensor(elem(v), shape(updates)))


def _window_fits(b: Builder, op: hlo.ScatterOp, x: SSAValue, idx: SSAValue, updates: SSAValue) -> SSAValue:
    """i1 mask of the updates' shape: the update's window fits in the operand (the
    scatter does not drop it)."""
    d = op.scatter_dimension_numbers
    _, sizes = _scatter_as_gather(op, updates)
    highs = [shape(x)[k] - sizes[k] for k in d.scatter_dims_to_operand_dims]
    ivd = d.index_vector_dim
    lo = b.zeros(idx.type)
    if ivd == len(shape(idx)):
        hi = b.constant(highs[0], idx.type)
    else:
        hi = b.broadcast_in_dim(b.constant(np.asarray(highs), tensor(elem(idx), [len(highs)])), shape(idx), [ivd])
    ok = _both(b, b.compare(idx, lo, "GE"), b.compare(idx, hi, "LE"))
    if ivd != len(shape(idx)):
        bad = b.select(ok, b.zeros(tensor(I32, shape(idx))), b.constant(1, tensor(I32, shape(idx))))
        bad = b.reduce_sum(bad, [ivd])
        ok = b.compare(bad, b.zeros(bad.type), "EQ")
    scatter_dims = [k for k in range(len(shape(updates))) if k not in d.update_window_dims]
    return b.broadcast_in_dim(ok, shape(updates), scatter_dims)


def _scatter_points(op: hlo.ScatterOp) -> int:
    """How many index vectors (update windows) the scatter has."""
    idx = op.scatter_indices
    ivd = op.scatter_dimension_numbers.index_vector_dim
    return int(np.prod([d for k, d in enumerate(shape(idx)) if k != ivd]))


def _no_shared_targets(op: hlo.ScatterOp) -> bool:
    """No two update elements land on one operand element: a single window, or indices
    the program declares unique."""
    unique = op.unique_indices is not None and bool(op.unique_indices.value.data)
    return unique or _scatter_points(op) <= 1


def _ascending_comparator(elements: list) -> Region:
    """A sort comparator ordering by the first operand, ascending."""
    block = Block(arg_types=[tensor(e, []) for e in elements for _ in range(2)])
    less = Builder(block).compare(block.args[0], block.args[1], "LT")
    block.add_op(hlo.ReturnOp([less]))
    return Region(block)


def _shared_target_products(b: Builder, op: hlo.ScatterOp, idx: SSAValue, u: SSAValue, fits: SSAValue, operand_shape) -> SSAValue:
    """For each update element, the product of the *other* update elements landing on the
    same operand element (1 when there are none). Dropped updates take no part (they
    count as 1). The update elements are sorted by target, and the products taken within
    runs of equal targets by _others_products: multiplications only, exact with zeros."""
    if _no_shared_targets(op):
        return b.ones_like(u)
    n = int(np.prod(shape(u)))
    size = int(np.prod(operand_shape))
    linear_index = b.reshape(b.iota([size], 0, I32), operand_shape)
    target = b.reshape(_gather_updates(b, op, linear_index, idx, u), [n])
    values = b.reshape(b.select(fits, u, b.ones_like(u)), [n])
    sorted_target, perm = b.sort([target, b.iota([n], 0, I32)], 0, True, _ascending_comparator([I32, I32]))
    others = _others_products(b, _take_along(b, values, perm, 0), sorted_target)
    return b.reshape(_put_along(b, others, perm, 0, values), shape(u))


def _scatter_partials(b: Builder, op: hlo.ScatterOp, kind: str, x: SSAValue, idx: SSAValue, u: SSAValue, ans: SSAValue) -> tuple[SSAValue, SSAValue]:
    """``(a, d)`` for a multiply, maximum or minimum scatter: ``a`` (operand-shaped) is
    d ans[p] / d x[p], ``d`` (updates-shaped) is d ans[p] / d u for the element p that u
    lands on (0 for dropped updates). Then t_ans = a t_x + scatter_add(0, idx, d t_u).

    mul: ans[p] = x[p] prod_{u -> p} u, so a = prod_{u -> p} u and d = x[p] prod_{v -> p, v != u} v.
    max/min: jax's convention: the tangent is the mean of the tangents of the values tied
    for the result, x[p] among them when it is (an element no update reaches keeps t_x)."""
    dims = op.scatter_dimension_numbers
    fits = _window_fits(b, op, x, idx, u)
    if kind == "mul":
        a = b.scatter(b.ones_like(x), idx, u, dims, hlo.MultiplyOp)
        others = _shared_target_products(b, op, idx, u, fits, shape(x))
        d = b.select(fits, b.mul(_gather_updates(b, op, x, idx, u), others), b.zeros_like(u))
        return a, d
    zeros_x, ones_x = b.zeros_like(x), b.ones_like(x)
    won = _both(b, fits, b.compare(u, _gather_updates(b, op, ans, idx, u), "EQ"))
    winners = b.scatter(zeros_x, idx, b.select(won, b.ones_like(u), b.zeros_like(u)), dims, hlo.AddOp)
    reached = b.scatter(zeros_x, idx, b.ones_like(u), dims, hlo.AddOp)
    kept = b.select(_either(b, b.compare(x, ans, "EQ"), b.compare(reached, zeros_x, "EQ")), ones_x, zeros_x)
    ties = b.max(b.add(winners, kept), ones_x)  # >= 1 unless ans is NaN, where nothing ties
    a = b.div(kept, ties)
    d = b.select(won, b.reciprocal(_gather_updates(b, op, ties, idx, u)), b.zeros_like(u))
    return a, d


@custom_forward(hlo.ScatterOp)
def scatter_forward(fwd: ForwardSweep, op: hlo.ScatterOp) -> None:
    """add/replace: jointly linear in (operand, updates): t_ans = scatter(t_x, idx, t_u);
    mul/max/min: t_ans = a t_x + scatter_add(0, idx, d t_u) (_scatter_partials)"""
    single_direction(fwd, op)
    kind = _scatter_kind(op)
    new = fwd.clone(op)
    b = fwd.builder
    x, u = op.inputs[0], op.updates[0]
    t_x, t_u = fwd.tangent(x), fwd.tangent(u)
    if kind in ("mul", "max", "min"):
        idx, pu = fwd.primal(op.scatter_indices), fwd.primal(u)
        a, d = _scatter_partials(b, op, kind, fwd.primal(x), idx, pu, new.results[0])
        total = b.mul(a, t_x) if t_x is not None else None
        if t_u is not None:
            spread = b.scatter(b.zeros_like(a), idx, b.mul(d, t_u), op.scatter_dimension_numbers, hlo.AddOp)
            total = spread if total is None else b.add(total, spread)
        fwd.set_tangent(op.results[0], total)
        return
    if kind == "add" and t_u is None:
        fwd.set_tangent(op.results[0], t_x)
        return
    t = b.scatter(
        fwd.tangent_or_zero(x),
        fwd.primal(op.scatter_indices),
        fwd.tangent_or_zero(u),
        op.scatter_dimension_numbers,
        hlo.AddOp if kind == "add" else None,
    )
    fwd.set_tangent(op.results[0], t)


@custom_reverse(hlo.ScatterOp)
def scatter_reverse(rev: ReverseSweep, op: hlo.ScatterOp) -> None:
    """add:     ct_x = ct,  ct_u = gather(ct, idx) where the window fits, else 0
    replace: ct_x = ct where no update landed,  ct_u = gather(ct, idx) for the update
             that won its place (found by scattering update ids), else 0
    mul/max/min: ct_x = a ct,  ct_u = d gather(ct, idx) (_scatter_partials)"""
    kind = _scatter_kind(op)
    if rev.width != 1:
        _scatter_reverse_batched(rev, op, kind)
        return
    b = rev.builder
    ct = rev.adjoint(op.results[0])
    x, u = op.inputs[0], op.updates[0]
    px, idx, pu = rev.primal(x), rev.primal(op.scatter_indices), rev.primal(u)
    if kind in ("mul", "max", "min"):
        a, d = _scatter_partials(b, op, kind, px, idx, pu, rev.primal(op.results[0]))
        rev.add_adjoint(x, b.mul(a, ct))
        rev.add_adjoint(u, b.mul(d, _gather_updates(b, op, ct, idx, pu)))
        return
    if kind == "add":
        rev.add_adjoint(x, ct)
        if rev.is_active(u):
            picked = _gather_updates(b, op, ct, idx, pu)
            fits = _window_fits(b, op, px, idx, pu)
            rev.add_adjoint(u, b.select(fits, picked, b.zeros(pu.type)))
        return
    if rev.is_active(x):
        rev.add_adjoint(x, b.scatter(ct, idx, b.zeros(pu.type), op.scatter_dimension_numbers, None))
    if rev.is_active(u):
        ivd = op.scatter_dimension_numbers.index_vector_dim
        points = int(np.prod([d for k, d in enumerate(shape(idx)) if k != ivd]))
        unique = op.unique_indices is not None and bool(op.unique_indices.value.data)
        if points <= 1 or unique:
            # no two updates compete for a place: an update wins where its window fits
            won = _window_fits(b, op, px, idx, pu)
        else:
            n = int(np.prod(shape(pu)))
            ids = b.add(b.reshape(b.iota([n], 0, I32), shape(pu)), b.constant(1, tensor(I32, shape(pu))))
            owner = b.scatter(b.zeros(tensor(I32, shape(px))), idx, ids, op.scatter_dimension_numbers, None)
            won = b.compare(_gather_updates(b, op, owner, idx, pu), ids, "EQ")
        picked = _gather_updates(b, op, ct, idx, pu)
        rev.add_adjoint(u, b.select(won, picked, b.zeros(pu.type)))


def _shifted(dims) -> list[int]:
    return [k + 1 for k in dims]


def _batched_scatter_dims(d: ScatterDimensionNumbersAttr) -> ScatterDimensionNumbersAttr:
    """The scatter over operand and updates with a leading cotangent dimension, which is
    a window dimension of both (taken whole)."""
    return ScatterDimensionNumbersAttr.get(
        update_window_dims=[0, *_shifted(d.update_window_dims)],
        inserted_window_dims=_shifted(d.inserted_window_dims),
        input_batching_dims=_shifted(d.input_batching_dims),
        scatter_indices_batching_dims=d.scatter_indices_batching_dims,
        scatter_dims_to_operand_dims=_shifted(d.scatter_dims_to_operand_dims),
        index_vector_dim=d.index_vector_dim,
    )


def _gather_updates_batched(b: Builder, op: hlo.ScatterOp, v: SSAValue, idx: SSAValue, updates: SSAValue, width: int) -> SSAValue:
    """_gather_updates of the N cotangents ``v`` (a leading dimension of size ``width``)."""
    dims, sizes = _scatter_as_gather(op, updates)
    batched = GatherDimensionNumbersAttr.get(
        offset_dims=[0, *_shifted(dims.offset_dims)],
        collapsed_slice_dims=_shifted(dims.collapsed_slice_dims),
        operand_batching_dims=_shifted(dims.operand_batching_dims),
        start_indices_batching_dims=dims.start_indices_batching_dims,
        start_index_map=_shifted(dims.start_index_map),
        index_vector_dim=dims.index_vector_dim,
    )
    return b.gather(v, idx, batched, [width, *sizes], tensor(elem(v), [width, *shape(updates)]))


def _scatter_reverse_batched(rev: ReverseSweep, op: hlo.ScatterOp, kind: str) -> None:
    """scatter_reverse with N cotangents: the partials and masks are primal-shaped and
    broadcast along the cotangents; gathers and scatters of cotangents take the cotangent
    dimension as a whole window dimension."""
    b = rev.builder
    ct = rev.adjoint(op.results[0])
    x, u = op.inputs[0], op.updates[0]
    px, idx, pu = rev.primal(x), rev.primal(op.scatter_indices), rev.primal(u)
    zeros_u = b.zeros(rev.adjoint_type(pu.type))
    if kind in ("mul", "max", "min"):
        a, d = _scatter_partials(b, op, kind, px, idx, pu, rev.primal(op.results[0]))
        rev.add_adjoint(x, b.mul(rev.expand(a), ct))
        if rev.is_active(u):
            rev.add_adjoint(u, b.mul(rev.expand(d), _gather_updates_batched(b, op, ct, idx, pu, rev.width)))
        return
    if kind == "add":
        rev.add_adjoint(x, ct)
        if rev.is_active(u):
            picked = _gather_updates_batched(b, op, ct, idx, pu, rev.width)
            rev.add_adjoint(u, b.select(rev.expand(_window_fits(b, op, px, idx, pu)), picked, zeros_u))
        return
    if rev.is_active(x):
        rev.add_adjoint(x, b.scatter(ct, idx, zeros_u, _batched_scatter_dims(op.scatter_dimension_numbers), None))
    if rev.is_active(u):
        if _no_shared_targets(op):
            won = _window_fits(b, op, px, idx, pu)
        else:
            n = int(np.prod(shape(pu)))
            ids = b.add(b.reshape(b.iota([n], 0, I32), shape(pu)), b.constant(1, tensor(I32, shape(pu))))
            owner = b.scatter(b.zeros(tensor(I32, shape(px))), idx, ids, op.scatter_dimension_numbers, None)
            won = b.compare(_gather_updates(b, op, owner, idx, pu), ids, "EQ")
        picked = _gather_updates_batched(b, op, ct, idx, pu, rev.width)
        rev.add_adjoint(u, b.select(rev.expand(won), picked, zeros_u))


# ============================================================================ sort and top_k


def _take_along(b: Builder, v: SSAValue, perm: SSAValue, dim: int) -> SSAValue:
    """out[..., j, ...] = v[..., perm[..., j, ...], ...] along ``dim``."""
    rank = len(shape(v))
    others = [d for d in range(rank) if d != dim]
    dims = GatherDimensionNumbersAttr.get(
        offset_dims=[],
        collapsed_slice_dims=[dim],
        operand_batching_dims=others,
        start_indices_batching_dims=others,
        start_index_map=[dim],
        index_vector_dim=rank,
    )
    return b.gather(v, perm, dims, [1] * rank, tensor(elem(v), shape(perm)))


def _put_along(b: Builder, ct: SSAValue, perm: SSAValue, dim: int, like: SSAValue) -> SSAValue:
    """The transpose of _take_along: out[..., perm[..., j, ...], ...] += ct[..., j, ...]."""
    rank = len(shape(like))
    others = [d for d in range(rank) if d != dim]
    dims = ScatterDimensionNumbersAttr.get(
        update_window_dims=[],
        inserted_window_dims=[dim],
        input_batching_dims=others,
        scatter_indices_batching_dims=others,
        scatter_dims_to_operand_dims=[dim],
        index_vector_dim=rank,
    )
    return b.scatter(b.zeros(like.type), perm, ct, dims, hlo.AddOp)


def _sort_dim(op: hlo.SortOp) -> int:
    rank = len(shape(op.inputs[0]))
    dim = op.dimension.value.data if op.dimension is not None else -1
    return dim % rank


def _sort_with_permutation(b: Builder, op: hlo.SortOp, primals: Mapping[SSAValue, SSAValue]) -> tuple[list[SSAValue], SSAValue]:
    """The sort with an extra iota operand (ignored by the comparator): its sorted copy is
    the permutation, ``ans = take_along(x, perm)``.

    The comparator is copied with the sweep's ``primals`` mapping: a sort region is not
    isolated from above, so it may read values of the enclosing function (CSE merges the
    comparator's constants with equal ones outside), and its copy must read their
    counterparts in the derivative function."""
    dim = _sort_dim(op)
    xs = [primals[v] for v in op.inputs]
    iota = b.iota(shape(xs[0]), dim, I32)
    comparator = Region()
    op.comparator.clone_into(comparator, value_mapper=ChainMap({}, primals))  # type: ignore[arg-type]
    block = comparator.block
    for _ in range(2):
        block.insert_arg(tensor(I32, []), len(block.args))
    stable = bool(op.is_stable.value.data) if op.is_stable is not None else False
    outs = b.sort([*xs, iota], dim, stable, comparator)
    return outs[:-1], outs[-1]


@custom_forward(hlo.SortOp)
def sort_forward(fwd: ForwardSweep, op: hlo.SortOp) -> None:
    """t_ans_k = take_along(t_x_k, perm)"""
    single_direction(fwd, op)
    outs, perm = _sort_with_permutation(fwd.builder, op, fwd.primals)
    for old, new in zip(op.results, outs):
        fwd.primals[old] = new
    dim = _sort_dim(op)
    for x, r in zip(op.inputs, op.results):
        t = fwd.tangent(x)
        if t is not None:
            fwd.set_tangent(r, _take_along(fwd.builder, t, perm, dim))


@custom_augment(hlo.SortOp)
def sort_augment(rev: ReverseSweep, op: hlo.SortOp) -> None:
    """The primal sort, also sorting an iota: the permutation is kept for the reverse."""
    outs, perm = _sort_with_permutation(rev.builder, op, rev.primals)
    for old, new in zip(op.results, outs):
        rev.primals[old] = new
    rev.tapes[op] = (perm,)


@custom_reverse(hlo.SortOp)
def sort_reverse(rev: ReverseSweep, op: hlo.SortOp) -> None:
    """ct_x_k = put_along(ct_k, perm) (a scatter through the permutation)"""
    if op in rev.tapes:
        (perm,) = rev.tapes[op]
    else:
        _, perm = _sort_with_permutation(rev.builder, op, rev.primals)
    dim = _sort_dim(op)
    if rev.width != 1:  # the permutation applies to each of the N cotangents
        perm, dim = rev.expand(perm), dim + 1
    for x, r in zip(op.inputs, op.results):
        ct = rev.adjoint(r)
        if ct is not None:
            rev.add_adjoint(x, _put_along(rev.builder, ct, perm, dim, ct))


@custom_forward(chlo.TopKOp)
def top_k_forward(fwd: ForwardSweep, op: chlo.TopKOp) -> None:
    """t_values = take_along(t_x, indices) along the last dimension"""
    single_direction(fwd, op)
    new = fwd.clone(op)
    b = fwd.builder
    dim = len(shape(op.operand)) - 1
    idx = new.results[1]
    if elem(idx) != I32:
        idx = b.convert(idx, I32)
    fwd.set_tangent(op.values, _take_along(b, fwd.tangent(op.operand), idx, dim))


@custom_reverse(chlo.TopKOp)
def top_k_reverse(rev: ReverseSweep, op: chlo.TopKOp) -> None:
    """ct_x = put_along(ct_values, indices)"""
    b = rev.builder
    dim = len(shape(op.operand)) - 1
    idx = rev.primal(op.indices)
    if elem(idx) != I32:
        idx = b.convert(idx, I32)
    rev.add_adjoint(op.operand, _put_along(b, rev.adjoint(op.values), idx, dim, rev.primal(op.operand)))


# ============================================================================ reduce_window


def _window_kind(op: hlo.ReduceWindowOp) -> str:
    if len(op.inputs) != 1:
        raise unsupported(op, "variadic reduce_window is not differentiable yet")
    kind = op.combiner()
    kinds = {hlo.AddOp: "sum", hlo.MaximumOp: "max", hlo.MinimumOp: "min", hlo.MultiplyOp: "product"}
    if kind in kinds:
        return kinds[kind]
    if _is_logaddexp(op, op.body.block):
        return "logaddexp"
    raise unsupported(op, "only add, multiply, maximum, minimum and logaddexp reduce_window bodies are differentiable")


def _is_logaddexp(op, block: Block) -> bool:
    """The body computes jax's logaddexp(a, b) (lax.cumlogsumexp, jnp.logaddexp):
    ``select(d != d, a + b, max(a, b) + log1p(exp(-|d|)))`` with d = a - b, inline or in a
    function the body calls (a function with jax's custom jvp for logaddexp)."""
    if len(block.args) != 2:
        return False
    a, b = block.args
    ops = body_ops(block)
    ret = terminator(block).operands
    if len(ret) != 1:
        return False
    call = ret[0].owner
    if len(ops) == 1 and isinstance(call, func.CallOp) and list(call.operands) == [a, b]:
        callee = SymbolTable.lookup_symbol(op, call.callee)
        return isinstance(callee, func.FuncOp) and bool(callee.body.blocks) and _is_logaddexp(op, callee.body.block)

    def owner(v: SSAValue, cls: type, *operands: SSAValue) -> Operation | None:
        o = v.owner
        if not isinstance(o, cls) or o.parent_block() is not block:
            return None
        if operands and list(o.operands) != list(operands) and not (cls in _COMMUTATIVE and list(o.operands) == list(operands)[::-1]):
            return None
        return o

    def is_difference(v: SSAValue) -> bool:
        return owner(v, hlo.SubtractOp, a, b) is not None or owner(v, hlo.SubtractOp, b, a) is not None

    select = owner(ret[0], hlo.SelectOp)
    if select is None:
        return False
    nan = owner(select.pred, hlo.CompareOp)
    if nan is None or nan.comparison_direction.data != ComparisonDirection.NE or nan.lhs is not nan.rhs or not is_difference(nan.lhs):
        return False
    if owner(select.on_true, hlo.AddOp, a, b) is None:
        return False
    total = owner(select.on_false, hlo.AddOp)
    if total is None:
        return False
    first, second = total.operands
    big, small = (first, second) if owner(first, hlo.MaximumOp, a, b) is not None else (second, first)
    if owner(big, hlo.MaximumOp, a, b) is None:
        return False
    # small = log1p(exp(-|d|)): follow the chain of unary ops down to d
    for cls in (hlo.LogPlusOneOp, hlo.ExponentialOp, hlo.NegateOp, hlo.AbsOp):
        unary = owner(small, cls)
        if unary is None:
            return False
        small = unary.operand
    return is_difference(small)


_COMMUTATIVE = (hlo.AddOp, hlo.MaximumOp)


class _Window:
    """The window geometry of a reduce_window or select_and_scatter."""

    def __init__(self, op, rank: int):
        self.dims = _ints(op.window_dimensions, [1] * rank)
        self.strides = _ints(op.window_strides, [1] * rank)
        self.padding = padding_pairs(op, rank)
        self.base = _ints(getattr(op, "base_dilations", None), [1] * rank)
        self.wdil = _ints(getattr(op, "window_dilations", None), [1] * rank)

    def batched(self) -> _Window:
        """The same windows over a value with a leading cotangent dimension (width N):
        one more window dimension of size 1, stride 1, no padding."""
        w = object.__new__(_Window)
        w.dims, w.strides, w.padding = [1, *self.dims], [1, *self.strides], [(0, 0), *self.padding]
        w.base, w.wdil = [1, *self.base], [1, *self.wdil]
        return w


def _chooser(direction: str):
    """Variadic window body over (key, value) pairs keeping the pair with the larger
    (GE) or smaller (LE) key."""

    def body(b: Builder, accs, xs):
        keep = b.compare(accs[0], xs[0], direction)
        return [b.select(keep, accs[0], xs[0]), b.select(keep, accs[1], xs[1])]

    return body


def _check_init_inactive(active: bool, op) -> None:
    if active:
        raise unsupported(op, "the init value must not be active (it is a constant in JAX programs)")


def _check_init_identity(op: hlo.ReduceWindowOp, kind: str) -> None:
    """A product or logaddexp window's derivative needs its init value to be the body's
    identity: how often a reduction applies its init value, and whether padding reads it,
    is implementation-defined (XLA applies it once and skips the padding)."""
    identity = {"product": 1.0, "logaddexp": -np.inf}[kind]
    value = constant_value(op.init_values[0])
    if value is None or value.size != 1 or not bool(value.reshape(()) == identity):
        raise unsupported(op, f"a {kind} reduce_window is differentiable only with the init value {identity} (its identity)")


def _window_positions(b: Builder, w: _Window, out: tuple[int, ...]) -> SSAValue:
    """i32 [W, *out, rank]: the position, in the padded and dilated input, of the k-th of
    the W elements of each window (window o, offset j: o * stride + j * window_dilation)."""
    rank = len(w.dims)
    grid = [*w.dims, *out]
    coords = []
    for d in range(rank):
        start = b.mul(b.iota(grid, rank + d, I32), b.constant(w.strides[d], tensor(I32, grid)))
        offset = b.mul(b.iota(grid, d, I32), b.constant(w.wdil[d], tensor(I32, grid)))
        coords.append(b.reshape(b.add(start, offset), [*grid, 1]))
    return b.reshape(b.concatenate(coords, 2 * rank), [int(np.prod(w.dims)), *out, rank])


def _windows_of(b: Builder, v: SSAValue, fill, w: _Window, positions: SSAValue) -> SSAValue:
    """[W, *out]: the elements of each window of ``v`` padded and dilated with ``fill``."""
    rank = len(shape(v))
    padded = b.pad(v, b.constant(fill, tensor(elem(v), [])), [lo for lo, _ in w.padding], [hi for _, hi in w.padding], [d - 1 for d in w.base])
    dims = GatherDimensionNumbersAttr.get(
        offset_dims=[],
        collapsed_slice_dims=list(range(rank)),
        operand_batching_dims=[],
        start_indices_batching_dims=[],
        start_index_map=list(range(rank)),
        index_vector_dim=rank + 1,
    )
    return b.gather(padded, positions, dims, [1] * rank, tensor(elem(v), shape(positions)[:-1]))


def _windows_transpose(b: Builder, ct: SSAValue, positions: SSAValue, x_shape, w: _Window) -> SSAValue:
    """The transpose of _windows_of: each window element's cotangent added back to its
    input element (padding and dilation holes dropped)."""
    rank = len(x_shape)
    padded = [lo + hi + (n - 1) * bd + 1 for n, (lo, hi), bd in zip(x_shape, w.padding, w.base)]
    dims = ScatterDimensionNumbersAttr.get(
        update_window_dims=[],
        inserted_window_dims=list(range(rank)),
        input_batching_dims=[],
        scatter_indices_batching_dims=[],
        scatter_dims_to_operand_dims=list(range(rank)),
        index_vector_dim=rank + 1,
    )
    ct_padded = b.scatter(b.zeros(tensor(elem(ct), padded)), positions, ct, dims, hlo.AddOp)
    return _unpad(b, ct_padded, w)


def _unpad(b: Builder, ct_padded: SSAValue, w: _Window) -> SSAValue:
    """The transpose of padding and base-dilating the input of a window op."""
    zero = b.zeros(tensor(elem(ct_padded), []))
    unpadded = b.pad(ct_padded, zero, [-lo for lo, _ in w.padding], [-hi for _, hi in w.padding])
    return b.slice(unpadded, [0] * len(w.dims), list(shape(unpadded)), w.base)


def _window_partials(b: Builder, kind: str, x: SSAValue, ans: SSAValue, w: _Window, positions: SSAValue) -> SSAValue:
    """[W, *out]: d ans[o] / d (the k-th element of window o).
    product:   the product of the window's other elements (_others_products: exact with zeros);
    logaddexp: exp(x_k - ans[o]), the softmax weights, 0 for elements at -inf (the padding)."""
    if kind == "product":
        return _others_products(b, _windows_of(b, x, 1.0, w, positions))
    elements = _windows_of(b, x, -np.inf, w, positions)
    spread = b.broadcast_in_dim(ans, shape(elements), list(range(1, len(shape(elements)))))
    at_minus_inf = b.compare(elements, b.full_like(elements, -np.inf), "EQ")
    return b.select(at_minus_inf, b.zeros_like(elements), b.exp(b.sub(elements, spread)))


def _has_no_elements(x: SSAValue, ans: SSAValue) -> bool:
    return 0 in shape(x) or 0 in shape(ans)


@custom_forward(hlo.ReduceWindowOp)
def reduce_window_forward(fwd: ForwardSweep, op: hlo.ReduceWindowOp) -> None:
    """sum: the same window sum of t_x;  max/min: t_x at each window's arg-max/min;
    product/logaddexp: t_ans[o] = sum_k partial[k, o] t_x[k-th element of window o]"""
    single_direction(fwd, op)
    kind = _window_kind(op)
    _check_init_inactive(fwd.tangent(op.init_values[0]) is not None, op)
    new = fwd.clone(op)
    b = fwd.builder
    x = op.inputs[0]
    t_x = fwd.tangent(x)
    w = _Window(op, len(shape(x)))
    if kind in ("product", "logaddexp"):
        _check_init_identity(op, kind)
        ans = new.results[0]
        if _has_no_elements(x, ans):
            return
        positions = _window_positions(b, w, shape(ans))
        partials = _window_partials(b, kind, fwd.primal(x), ans, w, positions)
        fwd.set_tangent(op.results[0], b.reduce_sum(b.mul(partials, _windows_of(b, t_x, 0.0, w, positions)), [0]))
        return
    zero = b.zeros(tensor(elem(x), []))
    geometry = dict(window=w.dims, strides=w.strides, padding=w.padding, base_dilations=w.base, window_dilations=w.wdil)
    if kind == "sum":
        fwd.set_tangent(op.results[0], b.reduce_window([t_x], [zero], hlo.AddOp, **geometry)[0])
        return
    direction = "GE" if kind == "max" else "LE"
    px, init = fwd.primal(x), fwd.primal(op.init_values[0])
    outs = b.reduce_window([px, t_x], [init, zero], _chooser(direction), **geometry)
    fwd.set_tangent(op.results[0], outs[1])


def _window_sum_transpose(b: Builder, ct: SSAValue, x_shape, w: _Window) -> SSAValue:
    """The transpose of a window sum: pad ct (interior stride - 1, edges window - 1),
    window-sum it with stride 1 onto the padded, dilated input, then undo the padding and
    the base dilation."""
    zero = b.zeros(tensor(elem(ct), []))
    out = shape(ct)
    if any(m == 0 for m in out):
        return b.zeros(tensor(elem(ct), x_shape))
    low, high, interior, padded = [], [], [], []
    for n, m, k, s, (lo, hi), bd, wd in zip(x_shape, out, w.dims, w.strides, w.padding, w.base, w.wdil):
        lp = lo + hi + (n - 1) * bd + 1
        low.append((k - 1) * wd)
        high.append(lp - (m - 1) * s - 1)
        interior.append(s - 1)
        padded.append(lp)
    spread = b.pad(ct, zero, low, high, interior)
    ct_xp = b.reduce_window([spread], [zero], hlo.AddOp, window=w.dims, window_dilations=w.wdil)[0]
    assert shape(ct_xp) == tuple(padded), (shape(ct_xp), padded)
    return _unpad(b, ct_xp, w)


def _is_identity(v: SSAValue, kind: str) -> bool:
    value = constant_value(v)
    return value is not None and value.size == 1 and float(value.reshape(())) == (-np.inf if kind == "max" else np.inf)


@custom_reverse(hlo.ReduceWindowOp)
def reduce_window_reverse(rev: ReverseSweep, op: hlo.ReduceWindowOp) -> None:
    """sum: _window_sum_transpose;  max/min: select_and_scatter(x, ct) with a GE/LE select;
    product/logaddexp: each window element gets partial[k, o] ct[o] (_windows_transpose)"""
    kind = _window_kind(op)
    _check_init_inactive(rev.is_active(op.init_values[0]), op)
    if rev.width != 1 and kind in ("product", "logaddexp"):
        raise NoBatchedRule(op, rev.width)
    b = rev.builder
    x = op.inputs[0]
    ct = rev.adjoint(op.results[0])
    w = _Window(op, len(shape(x)))
    if rev.width != 1:  # the cotangent dimension: a window dimension of size 1
        w = w.batched()
    if kind in ("product", "logaddexp"):
        _check_init_identity(op, kind)
        px, ans = rev.primal(x), rev.primal(op.results[0])
        if _has_no_elements(x, ans):
            return
        positions = _window_positions(b, w, shape(ans))
        partials = _window_partials(b, kind, px, ans, w, positions)
        spread = b.broadcast_in_dim(ct, shape(partials), list(range(1, len(shape(partials)))))
        rev.add_adjoint(x, _windows_transpose(b, b.mul(partials, spread), positions, shape(x), w))
        return
    if kind == "sum":
        rev.add_adjoint(x, _window_sum_transpose(b, ct, shape(rev.adjoint_type(x.type)), w))
        return
    if any(d != 1 for d in w.base + w.wdil):
        raise unsupported(op, "reverse mode of a max/min reduce_window with base or window dilation (forward mode works)")
    init = rev.primal(op.init_values[0])
    if not _is_identity(op.init_values[0], kind):
        # where the init value won, no input element was chosen
        init_b = b.broadcast_in_dim(init, shape(ct), [])
        ct = b.select(b.compare(rev.expand(rev.primal(op.results[0])), init_b, "EQ"), b.zeros(ct.type), ct)
    zero = b.zeros(tensor(elem(x), []))
    direction = "GE" if kind == "max" else "LE"
    rev.add_adjoint(x, b.select_and_scatter(rev.expand(rev.primal(x)), ct, zero, direction, w.dims, w.strides, w.padding))


# ============================================================================ select_and_scatter


def _select_direction(op: hlo.SelectAndScatterOp) -> str:
    direction = op.select_direction()
    if direction not in (ComparisonDirection.GE, ComparisonDirection.LE) or op.combiner() is not hlo.AddOp:
        raise unsupported(op, "only the GE/LE-select, add-scatter form (the transpose of max/min pooling) is differentiable")
    return "GE" if direction == ComparisonDirection.GE else "LE"


@custom_forward(hlo.SelectAndScatterOp)
def select_and_scatter_forward(fwd: ForwardSweep, op: hlo.SelectAndScatterOp) -> None:
    """Jointly linear in (source, init); the selection is piecewise constant in operand:
    t_ans = select_and_scatter(x, t_source, t_init)"""
    single_direction(fwd, op)
    direction = _select_direction(op)
    fwd.clone(op)
    b = fwd.builder
    w = _Window(op, len(shape(op.operand)))
    t = b.select_and_scatter(
        fwd.primal(op.operand), fwd.tangent_or_zero(op.source), fwd.tangent_or_zero(op.init_value), direction, w.dims, w.strides, w.padding
    )
    fwd.set_tangent(op.result, t)


@custom_reverse(hlo.SelectAndScatterOp)
def select_and_scatter_reverse(rev: ReverseSweep, op: hlo.SelectAndScatterOp) -> None:
    """ct_source = ct at each window's selected element (a chooser window over (x, ct));
    ct_init = sum(ct)"""
    direction = _select_direction(op)
    b = rev.builder
    ct = rev.adjoint(op.result)
    x = rev.primal(op.operand)
    w = _Window(op, len(shape(x)))
    if rev.width != 1:  # the cotangent dimension: a window dimension of size 1
        w, x = w.batched(), rev.expand(x)
    if rev.is_active(op.source):
        worst = b.constant(-np.inf if direction == "GE" else np.inf, tensor(elem(x), []))
        zero = b.zeros(tensor(elem(ct), []))
        outs = b.reduce_window([x, ct], [worst, zero], _chooser(direction), window=w.dims, strides=w.strides, padding=w.padding)
        rev.add_adjoint(op.source, outs[1])
    if rev.is_active(op.init_value):
        rev.add_adjoint(op.init_value, b.reduce_sum(ct, list(range(1 if rev.width != 1 else 0, len(shape(ct))))))


# ============================================================================ convolution


@linear(hlo.ConvolutionOp, multilinear=True)
def convolution(b: Builder, op: hlo.ConvolutionOp, ct, i, xs):
    """conv(x, w)^T ct, per spatial dimension (x padded/dilated to xp, stride s, kernel
    dilation r): out[j] = sum_t xp[j s + t r] w[t], so
      ct_x = conv(ct, reverse(w)) with ct dilated by s, stride = x's dilation, padding so
             that each x position meets the kernel taps that read it;
      ct_w = conv(x, ct) contracting the batch, ct dilated by s, stride r.
    Feature groups become kernel regrouping (for ct_x) and batch groups (for ct_w)."""
    d = op.dimension_numbers
    n = len(d.input_spatial_dimensions)
    if op.window_reversal is not None and any(op.window_reversal.get_values()):
        raise unsupported(op, "window_reversal is not supported")
    if op.batch_group_count.value.data != 1:
        raise unsupported(op, "batch_group_count > 1 (the weight gradient of a grouped convolution) is not differentiable yet")
    groups = op.feature_group_count.value.data
    strides = _ints(op.window_strides, [1] * n)
    ldil = _ints(op.lhs_dilation, [1] * n)
    rdil = _ints(op.rhs_dilation, [1] * n)
    padding = padding_pairs(op, n)
    x, w = xs
    xs_, ws_, cs_ = shape(x), shape(w), shape(ct)
    geo = []
    for k in range(n):
        size = xs_[d.input_spatial_dimensions[k]]
        taps = ws_[d.kernel_spatial_dimensions[k]]
        m = cs_[d.output_spatial_dimensions[k]]
        lo, hi = padding[k]
        geo.append((size, taps, m, lo, hi, size and lo + hi + (size - 1) * ldil[k] + 1))
    target = xs[i]
    if any(m == 0 for _, _, m, *_ in geo):
        return b.zeros(target.type)
    ct_elem = elem(ct)
    if i == 0:
        # kernel in (O/G, G*I, spatial) layout, spatially reversed
        kc = b.transpose(w, [d.kernel_output_feature_dimension, d.kernel_input_feature_dimension, *d.kernel_spatial_dimensions])
        o, ci, sp = ws_[d.kernel_output_feature_dimension], ws_[d.kernel_input_feature_dimension], list(shape(kc)[2:])
        kc = b.reshape(kc, [groups, o // groups, ci, *sp])
        kc = b.transpose(kc, [1, 0, 2, *range(3, 3 + n)])
        kc = b.reshape(kc, [o // groups, groups * ci, *sp])
        kc = b.reverse(kc, list(range(2, 2 + n)))
        pads = []
        for k, (size, taps, m, lo, hi, lp) in enumerate(geo):
            span = (taps - 1) * rdil[k] + 1
            pads.append((span - 1 - lo, lp - (m - 1) * strides[k] - 1 - hi))
        dims = ConvDimensionNumbersAttr.get(
            input_batch_dimension=d.output_batch_dimension,
            input_feature_dimension=d.output_feature_dimension,
            input_spatial_dimensions=d.output_spatial_dimensions,
            kernel_input_feature_dimension=0,
            kernel_output_feature_dimension=1,
            kernel_spatial_dimensions=list(range(2, 2 + n)),
            output_batch_dimension=d.input_batch_dimension,
            output_feature_dimension=d.input_feature_dimension,
            output_spatial_dimensions=d.input_spatial_dimensions,
        )
        out = b.convolution(ct, kc, dims, ldil, pads, strides, rdil, groups, 1, op.precision_config, ct_elem)
    else:
        pads = []
        for k, (size, taps, m, lo, hi, lp) in enumerate(geo):
            extra = (lp - (m - 1) * strides[k] - 1) - (taps - 1) * rdil[k]
            pads.append((lo, hi - extra))
        dims = ConvDimensionNumbersAttr.get(
            input_batch_dimension=d.input_feature_dimension,
            input_feature_dimension=d.input_batch_dimension,
            input_spatial_dimensions=d.input_spatial_dimensions,
            kernel_input_feature_dimension=d.output_batch_dimension,
            kernel_output_feature_dimension=d.output_feature_dimension,
            kernel_spatial_dimensions=d.output_spatial_dimensions,
            output_batch_dimension=d.kernel_input_feature_dimension,
            output_feature_dimension=d.kernel_output_feature_dimension,
            output_spatial_dimensions=d.kernel_spatial_dimensions,
        )
        out = b.convolution(x, ct, dims, rdil, pads, ldil, strides, 1, groups, op.precision_config, ct_elem)
    if shape(out) != shape(target):
        raise DiffError(f"internal error: convolution transpose at {describe_location(op)} has shape {shape(out)}, expected {shape(target)}")
    return b.convert(out, elem(target))


# ============================================================================ linear algebra


_swap_last = Builder.matrix_transpose
_matmul = Builder.matmul


def _tri_mask(b: Builder, like: SSAValue, lower: bool, diagonal: bool) -> SSAValue:
    """i1 mask of the lower (or upper) triangle, with or without the diagonal."""
    s = shape(like)
    r = len(s)
    rows = b.iota(list(s), r - 2, I32)
    cols = b.iota(list(s), r - 1, I32)
    direction = ("GE" if diagonal else "GT") if lower else ("LE" if diagonal else "LT")
    return b.compare(rows, cols, direction)


def _diag_mask(b: Builder, like: SSAValue) -> SSAValue:
    s = shape(like)
    return b.compare(b.iota(list(s), len(s) - 2, I32), b.iota(list(s), len(s) - 1, I32), "EQ")


def _keep(b: Builder, mask: SSAValue, v: SSAValue) -> SSAValue:
    return b.select(mask, v, b.zeros_like(v))


def _is_lower(op: hlo.CholeskyOp) -> bool:
    return bool(op.lower.value.data) if op.lower is not None else False


def _phi(b: Builder, m: SSAValue) -> SSAValue:
    """The lower triangle of m with its diagonal halved."""
    half = b.full_like(m, 0.5)
    lower = _keep(b, _tri_mask(b, m, True, False), m)
    diag = _keep(b, _diag_mask(b, m), m)
    return b.add(lower, b.mul(half, diag))


@custom_forward(hlo.CholeskyOp)
def cholesky_forward(fwd: ForwardSweep, op: hlo.CholeskyOp) -> None:
    """A = L L^T reading A's lower triangle: with E the symmetric matrix of that triangle
    of dA, dL = L phi(L^-1 E L^-T)."""
    single_direction(fwd, op)
    new = fwd.clone(op)
    b = fwd.builder
    lower = _is_lower(op)
    ans, t_a = new.results[0], fwd.tangent(op.a)
    l = ans if lower else _swap_last(b, ans)
    t = t_a if lower else _swap_last(b, t_a)
    strict = _keep(b, _tri_mask(b, t, True, False), t)
    e = b.add(_keep(b, _tri_mask(b, t, True, True), t), _swap_last(b, strict))
    left = b.triangular_solve(l, e, True, True, False, False)  # L^-1 E
    m = b.triangular_solve(l, left, False, True, False, True)  # (L^-1 E) L^-T
    dl = _matmul(b, l, _phi(b, m))
    fwd.set_tangent(op.result, dl if lower else _swap_last(b, dl))


@custom_reverse(hlo.CholeskyOp)
def cholesky_reverse(rev: ReverseSweep, op: hlo.CholeskyOp) -> None:
    """S = L^-T phi(L^T ct_L) L^-1;  ct_A = S + S^T below the diagonal, S on it, 0 above"""
    b = rev.builder
    lower = _is_lower(op)
    ans, ct = rev.primal(op.result), rev.adjoint(op.result)
    l = ans if lower else _swap_last(b, ans)
    ct_l = ct if lower else _swap_last(b, ct)
    p = _phi(b, _matmul(b, _swap_last(b, l), ct_l))
    left = b.triangular_solve(l, p, True, True, False, True)  # L^-T P
    s = b.triangular_solve(l, left, False, True, False, False)  # (L^-T P) L^-1
    sym = b.add(s, _swap_last(b, s))
    ct_a = b.add(_keep(b, _tri_mask(b, s, True, False), sym), _keep(b, _diag_mask(b, s), s))
    rev.add_adjoint(op.a, ct_a if lower else _swap_last(b, ct_a))


def _solve_props(op: hlo.TriangularSolveOp) -> tuple[bool, bool, bool, bool]:
    t = op.transpose_a.data
    return (bool(op.left_side.value.data), bool(op.lower.value.data), bool(op.unit_diagonal.value.data), t in (Transpose.TRANSPOSE, Transpose.ADJOINT))


def _read_triangle(b: Builder, op: hlo.TriangularSolveOp, v: SSAValue) -> SSAValue:
    _, lower, unit, _ = _solve_props(op)
    return _keep(b, _tri_mask(b, v, lower, not unit), v)


@custom_forward(hlo.TriangularSolveOp)
def triangular_solve_forward(fwd: ForwardSweep, op: hlo.TriangularSolveOp) -> None:
    """op(A) X = B:  dX = op(A)^-1 (dB - op(dA) X);  X op(A) = B:  dX = (dB - X op(dA)) op(A)^-1
    (dA restricted to the triangle the solve reads)"""
    single_direction(fwd, op)
    new = fwd.clone(op)
    b = fwd.builder
    left, lower, unit, trans = _solve_props(op)
    a, x = fwd.primal(op.a), new.results[0]
    rhs = fwd.tangent(op.b)
    t_a = fwd.tangent(op.a)
    if t_a is not None:
        da = _read_triangle(b, op, t_a)
        da = _swap_last(b, da) if trans else da
        term = _matmul(b, da, x) if left else _matmul(b, x, da)
        rhs = b.neg(term) if rhs is None else b.sub(rhs, term)
    fwd.set_tangent(op.result, b.triangular_solve(a, rhs, left, lower, unit, trans))


@custom_reverse(hlo.TriangularSolveOp)
def triangular_solve_reverse(rev: ReverseSweep, op: hlo.TriangularSolveOp) -> None:
    """ct_B = op(A)^-T ct_X (left) or ct_X op(A)^-T (right);
    ct_A = -(ct_B X^T) (left) or -(X^T ct_B) (right), transposed when op transposes,
    restricted to the triangle the solve reads"""
    b = rev.builder
    left, lower, unit, trans = _solve_props(op)
    a, x, ct = rev.primal(op.a), rev.primal(op.result), rev.adjoint(op.result)
    ct_b = b.triangular_solve(a, ct, left, lower, unit, not trans)
    rev.add_adjoint(op.b, ct_b)
    if rev.is_active(op.a):
        g = _matmul(b, ct_b, _swap_last(b, x)) if left else _matmul(b, _swap_last(b, x), ct_b)
        g = _swap_last(b, g) if trans else g
        rev.add_adjoint(op.a, b.neg(_read_triangle(b, op, g)))


# ============================================================================ special functions and small ops


@elementwise(chlo.SquareOp)
def square(b: Builder, xs, ans, op):
    """(x^2)' = 2 x"""
    return [b.mul(b.full_like(xs[0], 2.0), xs[0])]


@elementwise(chlo.TanOp)
def chlo_tan(b: Builder, xs, ans, op):
    """tan(x)' = 1 + ans^2"""
    return [b.add(b.ones_like(ans), b.square(ans))]


def _polygamma(b: Builder, n: SSAValue, x: SSAValue) -> SSAValue:
    return b.insert(chlo.PolygammaOp(n, x)).results[0]


def _zeta(b: Builder, s: SSAValue, q: SSAValue) -> SSAValue:
    return b.insert(chlo.ZetaOp(s, q)).results[0]


@custom_forward(chlo.PolygammaOp)
def polygamma_forward(fwd: ForwardSweep, op: chlo.PolygammaOp) -> None:
    """d polygamma(n, x) / dx = polygamma(n + 1, x); n is an integer order"""
    single_direction(fwd, op)
    if fwd.tangent(op.lhs) is not None:
        raise unsupported(op, "polygamma(n, x) is not differentiable with respect to its order n")
    fwd.clone(op)
    b = fwd.builder
    n = fwd.primal(op.lhs)
    fwd.set_tangent(op.result, b.mul(_polygamma(b, b.add(n, b.ones_like(n)), fwd.primal(op.rhs)), fwd.tangent(op.rhs)))


@custom_reverse(chlo.PolygammaOp)
def polygamma_reverse(rev: ReverseSweep, op: chlo.PolygammaOp) -> None:
    if rev.is_active(op.lhs):
        raise unsupported(op, "polygamma(n, x) is not differentiable with respect to its order n")
    b = rev.builder
    n = rev.primal(op.lhs)
    rev.add_adjoint(op.rhs, b.mul(_polygamma(b, b.add(n, b.ones_like(n)), rev.primal(op.rhs)), rev.adjoint(op.result)))


@custom_forward(chlo.ZetaOp)
def zeta_forward(fwd: ForwardSweep, op: chlo.ZetaOp) -> None:
    """d zeta(s, q) / dq = -s zeta(s + 1, q); no closed form in s"""
    single_direction(fwd, op)
    if fwd.tangent(op.lhs) is not None:
        raise unsupported(op, "the Hurwitz zeta(s, q) is not differentiable with respect to s (only q)")
    fwd.clone(op)
    b = fwd.builder
    s, q = fwd.primal(op.lhs), fwd.primal(op.rhs)
    partial = b.neg(b.mul(s, _zeta(b, b.add(s, b.ones_like(s)), q)))
    fwd.set_tangent(op.result, b.mul(partial, fwd.tangent(op.rhs)))


@custom_reverse(chlo.ZetaOp)
def zeta_reverse(rev: ReverseSweep, op: chlo.ZetaOp) -> None:
    if rev.is_active(op.lhs):
        raise unsupported(op, "the Hurwitz zeta(s, q) is not differentiable with respect to s (only q)")
    b = rev.builder
    s, q = rev.primal(op.lhs), rev.primal(op.rhs)
    partial = b.neg(b.mul(s, _zeta(b, b.add(s, b.ones_like(s)), q)))
    rev.add_adjoint(op.rhs, b.mul(partial, rev.adjoint(op.result)))


def _i0e(b: Builder, x: SSAValue) -> SSAValue:
    """exp(-|x|) I0(x) = (1/pi) int_0^pi exp(|x| (cos t - 1)) dt by the trapezoidal rule,
    which converges geometrically for this periodic integrand (64 nodes: to double
    precision for |x| <= 150); beyond, the asymptotic series
    (2 pi |x|)^-1/2 sum_k ((2k-1)!!)^2 / (k! (8|x|)^k)."""
    nodes = 64
    a = b.abs(x)
    s = shape(x)
    r = len(s)
    grid = np.cos(np.pi * np.arange(nodes + 1) / nodes) - 1.0
    weights = np.full(nodes + 1, 1.0 / nodes)
    weights[0] = weights[-1] = 0.5 / nodes
    e = elem(x)
    a_b = b.broadcast_in_dim(a, [*s, nodes + 1], list(range(r)))
    grid_b = b.broadcast_in_dim(b.constant(grid, tensor(e, [nodes + 1])), [*s, nodes + 1], [r])
    w_b = b.broadcast_in_dim(b.constant(weights, tensor(e, [nodes + 1])), [*s, nodes + 1], [r])
    quad = b.reduce_sum(b.mul(w_b, b.exp(b.mul(a_b, grid_b))), [r])
    # asymptotic series for large |x|
    big = b.max(a, b.full_like(a, 150.0))
    inv8 = b.reciprocal(b.mul(b.full_like(big, 8.0), big))
    term, total = b.ones_like(big), b.ones_like(big)
    for k in range(1, 12):
        term = b.mul(term, b.mul(b.full_like(big, (2 * k - 1) ** 2 / k), inv8))
        total = b.add(total, term)
    asym = b.mul(total, b.rsqrt(b.mul(b.full_like(big, 2 * pymath.pi), big)))
    return b.select(b.compare(a, b.full_like(a, 150.0), "LE"), quad, asym)


@elementwise(chlo.BesselI1eOp)
def bessel_i1e(b: Builder, xs, ans, op):
    """i1e(x)' = i0e(x) - ans (sign(x) + 1/x), and 1/2 at x = 0"""
    x = xs[0]
    zero = b.zeros_like(x)
    at_zero = b.compare(x, zero, "EQ")
    safe = b.select(at_zero, b.ones_like(x), x)
    d = b.sub(_i0e(b, x), b.mul(ans, b.add(b.sign(x), b.reciprocal(safe))))
    return [b.select(at_zero, b.full_like(x, 0.5), d)]


@linear(hlo.ReducePrecisionOp)
def reduce_precision(b: Builder, op: hlo.ReducePrecisionOp, ct, i, xs):
    """reduce_precision is the identity up to rounding: ct_x = reduce_precision(ct)"""
    new = hlo.ReducePrecisionOp.create(
        operands=[ct], result_types=[ct.type], properties={"exponent_bits": op.exponent_bits, "mantissa_bits": op.mantissa_bits}
    )
    return b.insert(new).results[0]


# Integer-, index- and token-valued ops: their results carry no derivative.
inactive(
    hlo.GetDimensionSizeOp,
    hlo.ReplicaIdOp,
    hlo.PartitionIdOp,
    hlo.CreateTokenOp,
    hlo.AfterAllOp,
    chlo.MulhiOp,
)


# ============================================================================ width-N reverse

from ..registry import batched_transpose  # noqa: E402


@batched_transpose(hlo.GatherOp)
def batched_t_gather(rev, op: hlo.GatherOp, ct, i, xs):
    """scatter_add of the N cotangents at once: the cotangent dimension is a window
    dimension of the scatter (operand dimension 0, taken whole)"""
    b = rev.builder
    x, idx = xs
    d = op.dimension_numbers
    sizes = list(op.slice_sizes.get_values())
    highs = [shape(x)[k] - sizes[k] for k in d.start_index_map]
    clamped = _clamp_indices(b, idx, d.index_vector_dim, highs)
    dims = ScatterDimensionNumbersAttr.get(
        update_window_dims=[0] + [k + 1 for k in d.offset_dims],
        inserted_window_dims=[k + 1 for k in d.collapsed_slice_dims],
        input_batching_dims=[k + 1 for k in d.operand_batching_dims],
        scatter_indices_batching_dims=d.start_indices_batching_dims,
        scatter_dims_to_operand_dims=[k + 1 for k in d.start_index_map],
        index_vector_dim=d.index_vector_dim,
    )
    return b.scatter(b.zeros(rev.adjoint_type(x.type)), clamped, ct, dims, hlo.AddOp)


@batched_transpose(hlo.ReducePrecisionOp)
def batched_t_reduce_precision(rev, op, ct, i, xs):
    return reduce_precision(rev.builder, op, ct, i, xs)


# custom reverse rules that handle width N (the product and logaddexp windows raise
# NoBatchedRule and run once per cotangent)
batched_reverse(hlo.ReduceWindowOp, hlo.SelectAndScatterOp, hlo.SortOp, hlo.ScatterOp)
