"""lax emitters for the ``matrix`` dialect (ir/linalg.py): each op becomes the
``jax.lax.linalg`` call it was lowered from, with the same parameters, so the emitted
program runs on any backend (LAPACK on CPU, cuSOLVER on GPU, ...)."""

from __future__ import annotations

from typing import Any

from jax import lax
from jax.lax.linalg import EighImplementation, SvdAlgorithm

from ..ir import linalg as M
from .emitter import FunctionBuilder, OpFn, emits


def _flag(attr: Any) -> bool:
    return attr is not None and bool(attr.value.data)


def _subset(attr: Any) -> tuple[int, int] | None:
    if attr is None:
        return None
    lo, hi = (int(v) for v in attr.get_values())
    return lo, hi


@emits(M.CholeskyOp)
def _cholesky(b: FunctionBuilder, op: M.CholeskyOp) -> OpFn:
    return lambda a: lax.linalg.cholesky(a, symmetrize_input=False)


@emits(M.TriangularSolveOp)
def _triangular_solve(b: FunctionBuilder, op: M.TriangularSolveOp) -> OpFn:
    kwargs = dict(
        left_side=_flag(op.left_side),
        lower=_flag(op.lower),
        transpose_a=_flag(op.transpose_a),
        conjugate_a=_flag(op.conjugate_a),
        unit_diagonal=_flag(op.unit_diagonal),
    )
    return lambda a, rhs: lax.linalg.triangular_solve(a, rhs, **kwargs)


@emits(M.LuOp)
def _lu(b: FunctionBuilder, op: M.LuOp) -> OpFn:
    return lambda a: tuple(lax.linalg.lu(a))


@emits(M.LuPivotsToPermutationOp)
def _lu_pivots_to_permutation(b: FunctionBuilder, op: M.LuPivotsToPermutationOp) -> OpFn:
    size = op.permutation_size.value.data
    return lambda pivots: lax.linalg.lu_pivots_to_permutation(pivots, size)


@emits(M.EighOp)
def _eigh(b: FunctionBuilder, op: M.EighOp) -> OpFn:
    kwargs = dict(
        lower=_flag(op.lower),
        symmetrize_input=False,
        sort_eigenvalues=_flag(op.sort_eigenvalues),
        subset_by_index=_subset(op.subset_by_index),
        implementation=EighImplementation[op.algorithm.data] if op.algorithm is not None else None,
    )
    return lambda a: tuple(lax.linalg.eigh(a, **kwargs))


@emits(M.SvdOp)
def _svd(b: FunctionBuilder, op: M.SvdOp) -> OpFn:
    compute_uv = _flag(op.compute_uv)
    kwargs = dict(
        full_matrices=_flag(op.full_matrices),
        compute_uv=compute_uv,
        subset_by_index=_subset(op.subset_by_index),
        algorithm=SvdAlgorithm[op.algorithm.data] if op.algorithm is not None else None,
    )

    def svd(a: Any) -> Any:
        if not compute_uv:
            return lax.linalg.svd(a, **kwargs)
        u, s, vt = lax.linalg.svd(a, **kwargs)
        return s, u, vt  # the op's results follow jax's primitive: s first

    return svd


@emits(M.QrOp)
def _qr(b: FunctionBuilder, op: M.QrOp) -> OpFn:
    kwargs = dict(
        pivoting=_flag(op.pivoting),
        full_matrices=_flag(op.full_matrices),
        use_magma=bool(op.use_magma.value.data) if op.use_magma is not None else None,
    )
    return lambda a: tuple(lax.linalg.qr(a, **kwargs))


@emits(M.TridiagonalSolveOp)
def _tridiagonal_solve(b: FunctionBuilder, op: M.TridiagonalSolveOp) -> OpFn:
    perturb = _flag(op.perturb_singular)
    return lambda dl, d, du, rhs: lax.linalg.tridiagonal_solve(dl, d, du, rhs, perturb_singular=perturb)


@emits(M.CustomLinearSolveOp)
def _custom_linear_solve(b: FunctionBuilder, op: M.CustomLinearSolveOp) -> OpFn:
    """``lax.custom_linear_solve`` with the functions the op names, the right-hand side
    as a tuple of arrays (jax derives ``vecmat`` from ``matvec`` itself)."""
    lengths = op.lengths()
    n_consts = sum(lengths)
    n_rhs = op.num_rhs()
    n_out = len(op.outs)
    has_aux = n_out > n_rhs
    fns = {
        field: b.function(getattr(op, field).root_reference.data)
        for field in ("matvec", "solve", "transpose_solve")
        if getattr(op, field) is not None
    }
    starts = [sum(lengths[:i]) for i in range(4)]

    def solver(fn: Any, consts: tuple) -> Any:
        def run(_matvec: Any, rhs: tuple) -> Any:
            out = tuple(fn(*consts, *rhs))
            return (out[:n_rhs], out[n_rhs:]) if has_aux else out

        return run

    def linear_solve(*args: Any) -> Any:
        groups = [tuple(args[s : s + n]) for s, n in zip(starts, lengths)]
        rhs = tuple(args[n_consts:])
        matvec_fn = fns["matvec"]

        def matvec(x: tuple) -> tuple:
            return tuple(matvec_fn(*groups[0], *x))

        tsolve = solver(fns["transpose_solve"], groups[3]) if "transpose_solve" in fns else None
        out = lax.custom_linear_solve(matvec, rhs, solver(fns["solve"], groups[2]), tsolve, has_aux=has_aux)
        flat = [*out[0], *out[1]] if has_aux else list(out)
        return flat[0] if n_out == 1 else tuple(flat)

    return linear_solve
