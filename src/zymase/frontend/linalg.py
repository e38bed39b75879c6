"""Linear algebra survives lowering as ops of the ``matrix`` dialect (ir/linalg.py).

jax lowers ``jax.lax.linalg``'s primitives on CPU to LAPACK custom calls
(``stablehlo.custom_call @lapack_dgetrf_ffi``, ...), which no derivative rule can read.
zymase lowers them with its own rules into markers ``custom_call @zymase.matrix.<op>``
(see lowering.py) carrying the primitive's static parameters; the importer turns each
marker into the op ``matrix.<op>``:

========================================  ==========================================
primitive                                 op
========================================  ==========================================
``cholesky_p``                            ``matrix.cholesky``
``triangular_solve_p``                    ``matrix.triangular_solve``
``lu_p``                                  ``matrix.lu``
``lu_pivots_to_permutation_p``            ``matrix.lu_pivots_to_permutation``
``eigh_p``                                ``matrix.eigh``
``svd_p``                                 ``matrix.svd``
``qr_p``                                  ``matrix.qr``
``tridiagonal_solve_p``                   ``matrix.tridiagonal_solve``
``custom_linear_solve_p``                 ``matrix.custom_linear_solve``
========================================  ==========================================

``jnp.linalg.solve`` and ``inv`` (and the derivative rules of ``det``, ``slogdet``)
solve through ``lax.custom_linear_solve``, whose derivative jax defines by implicit
differentiation through its linear map ``matvec``. jax's own lowering of it evaluates
only the ``solve`` function, whose matrix factors the caller has put behind
``stop_gradient``: differentiating what is left would silently miss the derivative with
respect to the matrix. zymase keeps the primitive as ``matrix.custom_linear_solve``,
with ``matvec``, ``vecmat``, ``solve`` and ``transpose_solve`` lowered as functions of the
module that the op names; ad/rules/linalg.py differentiates it as jax does, and the
emitter calls ``lax.custom_linear_solve`` again.

The other ``jax.lax.linalg`` primitives that jax lowers to LAPACK calls (``eig``,
``schur``, ``hessenberg``, ``tridiagonal``, ``geqrf``, ``geqp3``, ``householder_product``,
``ormqr``) become calls of private functions whose bodies are jax's lowering, marked
``enzyme.jax_rule`` (``jax_rule_primitive`` in lowering.py): the AD engine differentiates
them with jax's own rules, traced on demand. ``eig``'s eigenvalues (and, with
``enable_eigvec_derivs=True``, its eigenvectors) are so differentiated in both modes, as
jax does (reverse mode is jax's transpose of its forward rule); for the others jax has no
rule, and differentiating them is refused with jax's message ("Differentiation rule for
'schur' not implemented"), the call and its source location.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
from jax._src import core
from jax._src.interpreters import mlir
from jax._src.lax import linalg as _linalg
from jax._src.lax.control_flow import solves as _solves
from jax._src.lib.mlir import ir

from .lowering import jax_rule_primitive, marker, override


def _bool(value: Any) -> ir.Attribute:
    return ir.BoolAttr.get(bool(value))


def _i64(value: int) -> ir.Attribute:
    return ir.IntegerAttr.get(ir.IntegerType.get_signless(64), int(value))


def _subset(attrs: dict[str, ir.Attribute], subset_by_index: Any) -> None:
    if subset_by_index is not None:
        attrs["subset_by_index"] = ir.DenseI64ArrayAttr.get([int(v) for v in subset_by_index])


def _algorithm(attrs: dict[str, ir.Attribute], algorithm: Any) -> None:
    """An implementation enum (EighImplementation, SvdAlgorithm) by its member name."""
    if algorithm is not None:
        attrs["algorithm"] = ir.StringAttr.get(algorithm.name)


@override(_linalg.cholesky_p)
def _cholesky(ctx: mlir.LoweringRuleContext, a: ir.Value) -> Sequence[ir.Value]:
    return marker(ctx, "matrix.cholesky", [a])


@override(_linalg.triangular_solve_p)
def _triangular_solve(
    ctx: mlir.LoweringRuleContext, a: ir.Value, b: ir.Value, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal
) -> Sequence[ir.Value]:
    attrs = {
        "left_side": _bool(left_side),
        "lower": _bool(lower),
        "transpose_a": _bool(transpose_a),
        "conjugate_a": _bool(conjugate_a),
        "unit_diagonal": _bool(unit_diagonal),
    }
    return marker(ctx, "matrix.triangular_solve", [a, b], attributes=attrs)


@override(_linalg.lu_p)
def _lu(ctx: mlir.LoweringRuleContext, a: ir.Value) -> Sequence[ir.Value]:
    return marker(ctx, "matrix.lu", [a])


@override(_linalg.lu_pivots_to_permutation_p)
def _lu_pivots_to_permutation(ctx: mlir.LoweringRuleContext, pivots: ir.Value, *, permutation_size) -> Sequence[ir.Value]:
    return marker(ctx, "matrix.lu_pivots_to_permutation", [pivots], attributes={"permutation_size": _i64(permutation_size)})


@override(_linalg.eigh_p)
def _eigh(ctx: mlir.LoweringRuleContext, a: ir.Value, *, lower, sort_eigenvalues, subset_by_index, algorithm) -> Sequence[ir.Value]:
    attrs = {"lower": _bool(lower), "sort_eigenvalues": _bool(sort_eigenvalues)}
    _subset(attrs, subset_by_index)
    _algorithm(attrs, algorithm)
    return marker(ctx, "matrix.eigh", [a], attributes=attrs)


@override(_linalg.svd_p)
def _svd(ctx: mlir.LoweringRuleContext, a: ir.Value, *, full_matrices, compute_uv, subset_by_index, algorithm=None) -> Sequence[ir.Value]:
    attrs = {"full_matrices": _bool(full_matrices), "compute_uv": _bool(compute_uv)}
    _subset(attrs, subset_by_index)
    _algorithm(attrs, algorithm)
    return marker(ctx, "matrix.svd", [a], attributes=attrs)


@override(_linalg.qr_p)
def _qr(ctx: mlir.LoweringRuleContext, a: ir.Value, *, pivoting, full_matrices, use_magma=None) -> Sequence[ir.Value]:
    attrs = {"pivoting": _bool(pivoting), "full_matrices": _bool(full_matrices)}
    if use_magma is not None:
        attrs["use_magma"] = _bool(use_magma)
    return marker(ctx, "matrix.qr", [a], attributes=attrs)


@override(_linalg.tridiagonal_solve_p)
def _tridiagonal_solve(
    ctx: mlir.LoweringRuleContext, dl: ir.Value, d: ir.Value, du: ir.Value, b: ir.Value, *, perturb_singular
) -> Sequence[ir.Value]:
    return marker(ctx, "matrix.tridiagonal_solve", [dl, d, du, b], attributes={"perturb_singular": _bool(perturb_singular)})


# ============================================================================ custom_linear_solve


def _function(ctx: mlir.LoweringRuleContext, name: str, closed: core.ClosedJaxpr) -> ir.Attribute:
    """``closed`` as a public function of the module (public, so that the inliner, which
    drops private functions nothing calls, keeps it for the op naming it); its symbol."""
    if closed.effects:
        raise NotImplementedError(f"zymase: a custom_linear_solve whose {name} has side effects ({closed.effects}) is not supported")
    in_avals = [core.ShapedArray(a.shape, a.dtype) for a in closed.in_avals]
    traced = jax.make_jaxpr(core.jaxpr_as_fun(closed))(*in_avals)
    fn = mlir.lower_called_computation(name, traced, ctx.module_context, 0, in_avals, traced.out_avals, ctx.tokens_in.subset([]))[0]
    fn.attributes["sym_visibility"] = ir.StringAttr.get("public")
    return ir.FlatSymbolRefAttr.get(ir.StringAttr(fn.attributes["sym_name"]).value)


@override(_solves.linear_solve_p)
def _custom_linear_solve(ctx: mlir.LoweringRuleContext, *args: ir.Value, const_lengths, jaxprs) -> Sequence[ir.Value]:
    """``matrix.custom_linear_solve`` naming the lowered ``matvec``, ``vecmat``, ``solve``
    and ``transpose_solve`` (those given) as functions of the module."""
    attrs = {"const_lengths": ir.DenseI64ArrayAttr.get([int(n) for n in const_lengths])}
    for field in ("matvec", "vecmat", "solve", "transpose_solve"):
        closed = getattr(jaxprs, field)
        if closed is not None:
            attrs[field] = _function(ctx, f"custom_linear_solve_{field}", closed)
    return marker(ctx, "matrix.custom_linear_solve", list(args), attributes=attrs)


# ============================================================================ primitives with jax's rules

for _prim in (_linalg.eig_p, _linalg.schur_p, _linalg.hessenberg_p, _linalg.tridiagonal_p, _linalg.geqrf_p, _linalg.geqp3_p, _linalg.householder_product_p, _linalg.ormqr_p):
    override(_prim)(jax_rule_primitive(_prim))
