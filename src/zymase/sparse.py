"""Sparse Jacobians and Hessians: ``zymase.jacfwd / jacrev / hessian(f, sparse=...)``.

Per abstract signature, once, when the function is first traced: lower ``f``, run the
primal pipeline, read the sparsity pattern off the IR (``analysis/sparsity.py``: the
Jacobian's output x input dependencies, or the Hessian's pattern by the second-order
analysis) and color it (``analysis/coloring.py``: columns for forward mode, rows for
reverse mode, a star coloring for the symmetric Hessian). Each call then evaluates the
compressed derivative with one seed per color, batched with jax.vmap over zymase's own
jvp (columns), vjp (rows) or jvp of zymase.grad (Hessian-vector products), and reads
every nonzero directly from it (decompression is one gather with precomputed indices).

``sparse=True`` scatters the nonzeros into the dense result jax.jacfwd / jacrev /
hessian would give (same pytree structure); ``sparse="bcoo"`` returns a
``jax.experimental.sparse.BCOO`` of shape ``out.shape + in.shape`` (one array argument
and one array result). The plan is cached per function like every transformation
(``TransformCache``), so the returned functions compose with jax.jit and jax.vmap
(``"bcoo"`` results under jax.vmap excepted: a BCOO's indices would be batched too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from .analysis.coloring import color_columns, color_rows, color_symmetric, column_sources, row_sources
from .analysis.sparsity import Pattern, hessian_pattern, jacobian_pattern
from .api import TransformCache, _argnums_tuple, _check_float_inputs, _float0_zeros, _is_float, _leaf_ranges, grad, hoist_closure, jvp, primal_pipeline, vjp
from .frontend import lower, signature
from .passes import run_pipeline

FORMATS = (True, "bcoo")


@dataclass
class Plan:
    """A pattern, its coloring and the decompression indices, for one signature."""

    pattern: Pattern
    colors: np.ndarray  # per column (fwd, hessian) or per row (rev)
    ncolors: int
    sources: np.ndarray  # per nonzero (CSR order): flat index into the compressed (ncolors, k) matrix


_PLAN_CACHE = TransformCache()
"""Sparse derivatives' plans, per function: (signature, argnums, kind) -> Plan."""


def _build_plan(fun: Callable, full: tuple, norm: tuple[int, ...], kind: str) -> Plan:
    program = lower(fun, *full)
    run_pipeline(primal_pipeline(program.module), program.module)
    ranges = _leaf_ranges(full)
    offsets: list[int | None] = [None] * len(program.in_avals)
    n = 0
    for a in norm:
        for i in ranges[a]:
            offsets[i] = n
            n += int(np.prod(program.in_avals[i].shape, dtype=np.int64))
    if kind == "hessian":
        outs = program.out_avals
        if len(outs) != 1 or outs[0].shape != () or not _is_float(outs[0].dtype):
            raise TypeError(f"hessian(sparse=...) requires a real-valued scalar output; got outputs {[(o.shape, str(o.dtype)) for o in outs]}")
        pattern = hessian_pattern(program.module, program.entry, offsets, n)
        colors, sources = color_symmetric(pattern)
    else:
        pattern = jacobian_pattern(program.module, program.entry, offsets, n)
        if kind == "fwd":
            colors = color_columns(pattern)
            sources = column_sources(pattern, colors)
        else:
            colors = color_rows(pattern)
            sources = row_sources(pattern, colors)
        assert sources is not None, "internal error: an invalid coloring"
    ncolors = int(colors.max()) + 1 if colors.size and pattern.nnz else 0
    return Plan(pattern, colors, ncolors, sources)


def plan_for(f: Callable, args: tuple, argnums: int | Sequence[int] = 0, kind: str = "fwd") -> Plan:
    """The cached plan of ``f`` at ``args`` (pattern, coloring): kind "fwd", "rev" or "hessian"."""
    fun, consts = hoist_closure(f, args)
    full = args + consts
    norm = tuple(a % len(args) for a in _argnums_tuple(argnums))
    if len(set(norm)) != len(norm):
        raise ValueError(f"sparse derivatives need distinct argnums, got {argnums}")
    return _PLAN_CACHE.get(f, (signature(full, {}, ()), norm, kind), lambda: _build_plan(fun, full, norm, kind))


LITERAL_SEEDS = 32
"""Up to this many colors the seeds are a literal 0/1 matrix (XLA folds what depends on
them alone, such as slices of the seeds); with more, they are built from an iota, as a
literal would let XLA constant-fold whole products of the seeds with constant weights
(a dense layer) at compile time, which takes seconds."""


def _seeds(plan: Plan, like: Sequence[Any]) -> list[Any]:
    """Per leaf of ``like``, the (ncolors, *leaf.shape) seeds: row c is 1 where the
    element's color is c."""
    import jax.numpy as jnp
    from jax import lax

    k = int(plan.colors.size)
    if plan.ncolors <= LITERAL_SEEDS:
        seeds = np.zeros((plan.ncolors, k), bool)
        seeds[plan.colors, np.arange(k)] = True
    else:
        colors = jnp.asarray(plan.colors.astype(np.int32))
        seeds = lax.broadcasted_iota(jnp.int32, (plan.ncolors, k), 0) == colors[None, :]
    parts, start = [], 0
    for x in like:
        size = int(np.size(x))
        parts.append(seeds[:, start : start + size].reshape((plan.ncolors, *np.shape(x))).astype(jax.dtypes.result_type(x)))
        start += size
    return parts


def _join(leaves: Sequence[Any], c: int) -> Any:
    import jax.numpy as jnp

    return jnp.concatenate([jnp.reshape(x, (c, -1)) for x in leaves], axis=1)


def _check(name: str, has_aux: bool, sparse: Any) -> None:
    if sparse not in FORMATS:
        raise ValueError(f"{name}: sparse must be False, True or 'bcoo', got {sparse!r}")
    if has_aux:
        raise NotImplementedError(f"{name}(sparse={sparse!r}) does not support has_aux; use sparse=False")


def _result(name: str, plan: Plan, data: Any, sparse: Any, out_leaves: list, out_tree: Any, in_leaves: list, in_trees: list, single: bool) -> Any:
    """The decompressed derivative: a BCOO, or the dense pytree jax's transformation gives."""
    import jax.numpy as jnp

    m, n = plan.pattern.shape
    rows, cols = plan.pattern.rows(), plan.pattern.indices
    if sparse == "bcoo":
        if len(out_leaves) != 1 or len(in_leaves) != 1:
            raise TypeError(f"{name}(sparse='bcoo') needs one array argument and one array result; use sparse=True for pytrees")
        from jax.experimental.sparse import BCOO

        out_shape, in_shape = tuple(np.shape(out_leaves[0])), tuple(np.shape(in_leaves[0]))
        parts = (list(np.unravel_index(rows, out_shape)) if out_shape else []) + (list(np.unravel_index(cols, in_shape)) if in_shape else [])
        idx = np.stack(parts, axis=1) if parts else np.zeros((rows.size, 0), np.int64)
        return BCOO((data, jnp.asarray(idx, jnp.int32)), shape=out_shape + in_shape, indices_sorted=True, unique_indices=True)
    dense = jnp.zeros((m * n,), data.dtype).at[rows * n + cols].set(data, indices_are_sorted=True, unique_indices=True).reshape(m, n)
    out_sizes = [int(np.size(o)) for o in out_leaves]
    blocks, r0 = [], 0
    for o, mk in zip(out_leaves, out_sizes):
        per_arg, c0 = [], 0
        for tree in in_trees:
            parts = []
            for leaf in tree[1]:
                k = int(np.size(leaf))
                parts.append(dense[r0 : r0 + mk, c0 : c0 + k].reshape((*np.shape(o), *np.shape(leaf))))
                c0 += k
            per_arg.append(jax.tree_util.tree_unflatten(tree[0], parts))
        blocks.append(per_arg[0] if single else tuple(per_arg))
        r0 += mk
    return jax.tree_util.tree_unflatten(out_tree, blocks)


def _jitted(f: Callable, fn: Callable) -> Callable:
    """``fn`` under jax.jit (seeding, evaluation and decompression compile to one
    program; called eagerly, op-by-op dispatch would dominate), named like ``f``."""
    import functools

    try:
        functools.update_wrapper(fn, f)
    except AttributeError:
        pass
    return jax.jit(fn)


def _dyn(args: tuple, argnums: int | Sequence[int], name: str) -> tuple[list[int], list, list]:
    norm = [i % len(args) for i in _argnums_tuple(argnums)]
    for i in norm:
        _check_float_inputs(name, jax.tree_util.tree_leaves(args[i]), f" for argument {i}")
    trees = [jax.tree_util.tree_flatten(args[i])[::-1] for i in norm]  # (treedef, leaves)
    leaves = [leaf for _, ls in trees for leaf in ls]
    return norm, trees, leaves


def sparse_jacfwd(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, sparse: Any = True) -> Callable:
    """The Jacobian by column compression: one jvp per color of the column coloring."""
    _check("jacfwd", has_aux, sparse)
    single = isinstance(argnums, int)

    def jac(*args: Any) -> Any:
        norm, trees, leaves = _dyn(args, argnums, "jacfwd")
        plan = plan_for(f, args, argnums, "fwd")
        m, n = plan.pattern.shape
        out_shape = jax.eval_shape(f, *args)
        out_leaves, out_tree = jax.tree_util.tree_flatten(out_shape)
        dtype = jax.dtypes.result_type(*out_leaves) if out_leaves else np.float64
        data = _compressed(plan, leaves, dtype, lambda *ts: _jvp_leaves(f, args, norm, trees, ts))
        return _result("jacfwd", plan, data, sparse, out_leaves, out_tree, leaves, trees, single)

    return _jitted(f, jac)


def _compressed(plan: Any, seeded: list, dtype: Any, evaluate: Callable) -> Any:
    """The nonzeros (CSR order): ``evaluate`` (one jvp / vjp / HVP on flat seeds) batched
    with jax.vmap over one seed per color, the compressed (colors, width) result read
    at the plan's sources."""
    import jax.numpy as jnp
    from jax import lax

    if plan.ncolors == 0:
        return jnp.zeros((0,), dtype)
    comp = _join(jax.vmap(evaluate)(*_seeds(plan, seeded)), plan.ncolors)
    # A two-dimensional gather at (color, element): XLA fuses the HVP into the gather and
    # evaluates it at each index, so indexing the flat (colors * width,) matrix would
    # cost a division and a remainder per nonzero to recover (color, element).
    width = int(comp.shape[1])
    idx = np.stack(np.divmod(plan.sources, max(width, 1)), axis=1).astype(np.int32)
    data = lax.gather(
        comp,
        jnp.asarray(idx),
        dimension_numbers=lax.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(0, 1), start_index_map=(0, 1)),
        slice_sizes=(1, 1),
        mode=lax.GatherScatterMode.PROMISE_IN_BOUNDS,
    )
    return data.astype(dtype)


def _jvp_leaves(fn: Callable, args: tuple, norm: Sequence[int], trees: list, ts: tuple) -> list:
    """The output leaves of zymase's jvp of ``fn`` at ``args``, with the flat tangents
    ``ts`` on the differentiated arguments ``norm`` (float0 zeros on the others)."""
    tangents = [jax.tree_util.tree_map(_float0_zeros, a) for a in args]
    it = iter(ts)
    for i, (tree, ls) in zip(norm, trees):
        tangents[i] = jax.tree_util.tree_unflatten(tree, [next(it) for _ in ls])
    return jax.tree_util.tree_leaves(jvp(fn, args, tuple(tangents))[1])


def sparse_jacrev(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, loop_checkpoint: str | None = None, sparse: Any = True) -> Callable:
    """The Jacobian by row compression: one vjp per color of the row coloring."""
    _check("jacrev", has_aux, sparse)
    single = isinstance(argnums, int)

    def jac(*args: Any) -> Any:
        norm, trees, leaves = _dyn(args, argnums, "jacrev")
        plan = plan_for(f, args, argnums, "rev")
        m, n = plan.pattern.shape
        others = tuple(i for i in range(len(args)) if i not in norm)
        out, pullback = vjp(f, *args, loop_checkpoint=loop_checkpoint, _const_argnums=others)
        out_leaves, out_tree = jax.tree_util.tree_flatten(out)
        dtype = jax.dtypes.result_type(*out_leaves) if out_leaves else np.float64

        def pull(*cts: Any) -> Any:
            got = pullback(jax.tree_util.tree_unflatten(out_tree, list(cts)))
            return [leaf for i in norm for leaf in jax.tree_util.tree_leaves(got[i])]

        data = _compressed(plan, out_leaves, dtype, pull)
        return _result("jacrev", plan, data, sparse, out_leaves, out_tree, leaves, trees, single)

    return _jitted(f, jac)


def sparse_hessian(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, loop_checkpoint: str | None = None, sparse: Any = True) -> Callable:
    """The Hessian by symmetric compression: one Hessian-vector product (zymase's jvp of
    zymase.grad) per color of the star coloring."""
    _check("hessian", has_aux, sparse)
    single = isinstance(argnums, int)
    g = grad(f, argnums, loop_checkpoint=loop_checkpoint)

    def hess(*args: Any) -> Any:
        norm, trees, leaves = _dyn(args, argnums, "hessian")
        plan = plan_for(f, args, argnums, "hessian")
        n = plan.pattern.shape[0]
        dtype = jax.dtypes.result_type(*leaves)
        data = _compressed(plan, leaves, dtype, lambda *ts: _jvp_leaves(g, args, norm, trees, ts))
        grad_tree = trees[0][0] if single else jax.tree_util.tree_structure(tuple(jax.tree_util.tree_unflatten(t, ls) for t, ls in trees))
        return _result("hessian", plan, data, sparse, leaves, grad_tree, leaves, trees, single)

    return _jitted(f, hess)
