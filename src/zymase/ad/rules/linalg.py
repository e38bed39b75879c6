"""Derivative rules of the ``matrix`` dialect (ir/linalg.py), from matrix calculus.

Every rule works on batches of matrices ``[..., m, n]`` (products are ``dot_general``
with the leading dimensions as batch dimensions) and on real element types; complex
matrices are refused (DiffError naming the op and its source location).

How the rules are made
----------------------

- ``matrix.triangular_solve``, ``matrix.tridiagonal_solve`` and
  ``matrix.custom_linear_solve`` have hand-written forward *and* reverse rules. They are
  the base cases: linear in their right-hand side, their reverse rules are what the
  derived rules below transpose through. (``custom_linear_solve``'s are jax's meaning of
  the primitive: ``dx = A^-1 (db - dA x)`` with ``dA x`` the forward derivative of the
  ``@matvec`` function in the values it closes over; in reverse mode ``ct_b`` is the
  transposed solve — the op again with ``vecmat`` and ``transpose_solve`` — and those
  values get minus ``@matvec`` reversed at ``x``, seeded with ``ct_b``. The solvers' own
  closed-over values, e.g. an LU factorization, get no derivative, as in jax.)
- ``matrix.cholesky``, ``matrix.lu``, ``matrix.eigh``, ``matrix.svd`` and ``matrix.qr``
  have one forward rule each (a function ``jvp(builder, op, inputs, outputs, tangents)``
  written with zymase's Builder). Forward mode builds it inline. Reverse mode outlines it
  into a private function of the module, ``@matrix_jvp_<op>(inputs..., outputs...,
  tangents...) -> output tangents``, and reverses that function with respect to its
  tangent arguments (the rule is linear in them, so its reverse mode is its transpose),
  calling the result at zero tangents with the output adjoints as seeds; the approach
  ``custom_jvp`` functions take in ad/rules/custom.py. A forward rule is then the single
  statement of the derivative: the reverse rule cannot drift from it, and needs reverse
  rules only for what the forward rule is made of (StableHLO's linear ops and
  ``matrix.triangular_solve`` in its right-hand side). The primal outputs are arguments
  of the outlined function, so nothing is factorized twice.

The conventions are jax's, so that zymase's derivatives agree with jax's:

- ``cholesky``: ``dL = L Phi(L^-1 dA L^-T)`` with ``Phi`` the lower triangle with a halved
  diagonal, for the full ``dA`` (jax symmetrizes the input before the primitive in
  ``jnp.linalg.cholesky``, which makes ``dA`` symmetric).
- ``triangular_solve``: the derivative with respect to ``a`` is restricted to the
  triangle the solve reads (without the diagonal when ``unit_diagonal``).
- ``lu``: ``P A = L U``; ``dLU = L tril(X, -1) + triu(X) U`` with ``X = L^-1 P dA U^-1``
  (``L`` unit lower ``m x m``, ``U`` upper ``n x n``, completed by the identity when the
  matrix is not square). ``pivots`` and ``permutation`` have no derivative.
- ``eigh``: for distinct eigenvalues, ``dw = diag(V^T dA V)`` and
  ``dV = V (F o V^T dA V)`` with ``F_ij = 1 / (w_j - w_i)`` (0 on the diagonal); the full
  ``dA`` as for cholesky. ``subset_by_index`` (a partial decomposition) is refused.
- ``svd``: with ``dS = U^T dA V``, ``ds = diag(dS)``, and with ``F_ij = 1/(s_j^2 - s_i^2)``:
  ``dU = U (F o (dS S + S dS^T))``, ``dV = V (F o (S dS + dS^T S))``, plus the components
  outside the span of ``U`` (``m > n``) or ``V`` (``n > m``). Thin factors only: full
  ``U`` / ``Vt`` of a non-square matrix are refused (as in jax). Singular values alone
  (``compute_uv = false``) take the singular vectors from an SVD built in the rule.
- ``qr``: for ``m >= n`` (thin factors) ``dQ = Q (dO - C) + dA R^-1``, ``dR = (C - dO) R``
  with ``C = Q^T dA R^-1`` and ``dO = tril(C, -1) - tril(C, -1)^T``; for ``m < n`` the
  square block ``A_1 = Q R_1`` by that rule and ``dR_2 = dQ^T A_2 + Q^T dA_2``. Full
  ``Q`` of a tall matrix (``full_matrices`` with ``m > n``) is refused: its last columns
  are any orthonormal basis of the complement. With ``pivoting`` the rules apply to the
  permuted columns ``A P``.
- ``tridiagonal_solve``: ``dX = A^-1 (dB - dA X)``; ``dl[0]`` and ``du[m-1]`` are not part
  of ``A`` and get no derivative.

The nonsymmetric ``eig`` (and ``schur``, ``hessenberg``, ...) are not ops of the dialect:
they are calls differentiated with jax's own rules (frontend/linalg.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from xdsl.dialects import func
from xdsl.dialects.builtin import BoolAttr, ComplexType, IntegerType
from xdsl.ir import Operation, SSAValue

from ...ir import linalg as M
from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem, shape, tensor
from ...ir.dense import is_float_type
from ...ir.enzyme import ACTIVE, ACTIVENONEED, CONST, CONSTNONEED, DUP, DUPNONEED
from ..errors import unsupported
from ..registry import batched_reverse, custom_forward, custom_reverse, inactive

if TYPE_CHECKING:
    from ..engine import ForwardSweep, ReverseSweep

I32 = IntegerType(32)
I1 = IntegerType(1)

inactive(M.LuPivotsToPermutationOp)

Tangents = list  # of SSAValue | None, one per operand / result

# ============================================================================ matrix helpers


def _flag(attr) -> bool:
    return attr is not None and bool(attr.value.data)


def _bool(value: bool) -> BoolAttr:
    return BoolAttr(bool(value), I1)


def _real_only(op: Operation) -> None:
    for v in [*op.operands, *op.results]:
        if isinstance(elem(v), ComplexType):
            raise unsupported(op, "the matrix rules differentiate real matrices only, not complex ones")


T = Builder.matrix_transpose  # T(b, x): the transpose of the last two dimensions
mm = Builder.matmul  # mm(b, x, y): x @ y over the last two dimensions, batched


def _offsets(b: Builder, dims: Sequence[int]) -> SSAValue:
    """``j - i`` (column minus row index of the last two dimensions), i32, of shape ``dims``."""
    r = len(dims)
    return b.sub(b.iota(list(dims), r - 1, I32), b.iota(list(dims), r - 2, I32))


def band_mask(b: Builder, dims: Sequence[int], lo: int | None, hi: int | None) -> SSAValue:
    """i1 mask of the entries with ``lo <= j - i <= hi`` (None: unbounded)."""
    off = _offsets(b, dims)
    mask = None
    if lo is not None:
        mask = b.compare(off, b.constant(lo, tensor(I32, dims)), "GE")
    if hi is not None:
        upper = b.compare(off, b.constant(hi, tensor(I32, dims)), "LE")
        mask = upper if mask is None else b.insert(hlo.AndOp(mask, upper)).results[0]
    assert mask is not None
    return mask


def keep(b: Builder, mask: SSAValue, x: SSAValue) -> SSAValue:
    return b.select(mask, x, b.zeros_like(x))


def tril(b: Builder, x: SSAValue, k: int = 0) -> SSAValue:
    return keep(b, band_mask(b, shape(x), None, k), x)


def triu(b: Builder, x: SSAValue, k: int = 0) -> SSAValue:
    return keep(b, band_mask(b, shape(x), k, None), x)


def eye_like(b: Builder, x: SSAValue) -> SSAValue:
    return b.select(band_mask(b, shape(x), 0, 0), b.ones_like(x), b.zeros_like(x))


def diagonal(b: Builder, x: SSAValue) -> SSAValue:
    """``[..., n, n] -> [..., n]``: the diagonal (a masked row sum, linear in x)."""
    return b.reduce_sum(keep(b, band_mask(b, shape(x), 0, 0), x), [len(shape(x)) - 1])


def along_columns(b: Builder, v: SSAValue, dims: Sequence[int]) -> SSAValue:
    """``v[..., j]`` broadcast to ``dims`` = ``[..., m, n]``: entry (i, j) is v_j."""
    r = len(dims)
    return b.broadcast_in_dim(v, list(dims), [*range(r - 2), r - 1])


def along_rows(b: Builder, v: SSAValue, dims: Sequence[int]) -> SSAValue:
    """``v[..., i]`` broadcast to ``dims``: entry (i, j) is v_i."""
    r = len(dims)
    return b.broadcast_in_dim(v, list(dims), [*range(r - 2), r - 2])


def reciprocal_off_diagonal(b: Builder, x: SSAValue) -> SSAValue:
    """``1 / x`` off the diagonal, 0 on it (x's diagonal is not read)."""
    diag = band_mask(b, shape(x), 0, 0)
    safe = b.select(diag, b.ones_like(x), x)
    return b.select(diag, b.zeros_like(x), b.div(b.ones_like(x), safe))


def slice_last2(b: Builder, x: SSAValue, rows: tuple[int, int], cols: tuple[int, int]) -> SSAValue:
    s = shape(x)
    lead = [0] * (len(s) - 2)
    return b.slice(x, [*lead, rows[0], cols[0]], [*s[:-2], rows[1], cols[1]])


def pad_last2(b: Builder, x: SSAValue, rows: tuple[int, int], cols: tuple[int, int]) -> SSAValue:
    r = len(shape(x))
    zero = b.zeros(tensor(elem(x), []))
    return b.pad(x, zero, [0] * (r - 2) + [rows[0], cols[0]], [0] * (r - 2) + [rows[1], cols[1]])


def permutation_matrix(b: Builder, perm: SSAValue, like: SSAValue, rows: bool) -> SSAValue:
    """The one-hot matrix of the permutation ``perm`` ([..., n], i32) with ``like``'s
    element type: ``P[i, j] = (perm[i] == j)`` (``rows``: ``P @ X = X[perm]``) or
    ``P[i, j] = (perm[j] == i)`` (``X @ P = X[:, perm]``)."""
    n = shape(perm)[-1]
    dims = [*shape(perm)[:-1], n, n]
    r = len(dims)
    if rows:
        hit = b.compare(along_rows(b, perm, dims), b.iota(dims, r - 1, I32), "EQ")
    else:
        hit = b.compare(along_columns(b, perm, dims), b.iota(dims, r - 2, I32), "EQ")
    ones = b.constant(1, tensor(elem(like), dims))
    return b.select(hit, ones, b.zeros_like(ones))


def triangular_solve(
    b: Builder, a: SSAValue, rhs: SSAValue, left_side: bool, lower: bool, transpose_a: bool, unit_diagonal: bool = False, conjugate_a: bool = False
) -> SSAValue:
    op = M.TriangularSolveOp.create(
        operands=[a, rhs],
        result_types=[rhs.type],
        properties={
            "left_side": _bool(left_side),
            "lower": _bool(lower),
            "transpose_a": _bool(transpose_a),
            "conjugate_a": _bool(conjugate_a),
            "unit_diagonal": _bool(unit_diagonal),
        },
    )
    return b.insert(op).results[0]


def tridiagonal_solve(b: Builder, dl: SSAValue, d: SSAValue, du: SSAValue, rhs: SSAValue, perturb_singular: bool) -> SSAValue:
    op = M.TridiagonalSolveOp.create(operands=[dl, d, du, rhs], result_types=[rhs.type], properties={"perturb_singular": _bool(perturb_singular)})
    return b.insert(op).results[0]


def _add(b: Builder, x: SSAValue | None, y: SSAValue | None) -> SSAValue | None:
    if x is None:
        return y
    if y is None:
        return x
    return b.add(x, y)


def _sub(b: Builder, x: SSAValue | None, y: SSAValue | None) -> SSAValue | None:
    if y is None:
        return x
    return b.neg(y) if x is None else b.sub(x, y)


# ============================================================================ driving a forward rule

Jvp = Callable[[Builder, Operation, list, list, Tangents], Tangents]
"""``jvp(b, op, inputs, outputs, tangents) -> output tangents``: the values are in the
function being built; a missing input tangent is None (zero), a None output tangent
means zero."""


def _is_float(v: SSAValue) -> bool:
    return is_float_type(elem(v))


def forward_with(jvp: Jvp) -> Callable[[ForwardSweep, Operation], None]:
    def forward(fwd: ForwardSweep, op: Operation) -> None:
        _real_only(op)
        new = fwd.clone(op)
        b = fwd.builder
        ins = [fwd.primal(v) for v in op.operands]
        outs = list(new.results)
        tangents = [fwd.tangent(v) for v in op.operands]
        if fwd.width == 1:
            douts = jvp(b, op, ins, outs, tangents)
        else:
            douts = _per_direction(fwd, op, jvp, ins, outs, tangents)
        for r, t in zip(op.results, douts):
            if t is not None:
                fwd.set_tangent(r, t)

    return forward


def _per_direction(fwd: ForwardSweep, op: Operation, jvp: Jvp, ins: list, outs: list, tangents: Tangents) -> Tangents:
    """Width N: the rule once per direction (a slice of the leading dimension), the
    results stacked again."""
    b = fwd.builder
    per: list[Tangents] = []
    for k in range(fwd.width):
        picked = []
        for t in tangents:
            if t is None:
                picked.append(None)
                continue
            dims = list(shape(t))
            row = b.slice(t, [k] + [0] * (len(dims) - 1), [k + 1, *dims[1:]])
            picked.append(b.reshape(row, dims[1:]))
        per.append(jvp(b, op, ins, outs, picked))
    stacked: Tangents = []
    for i, r in enumerate(op.results):
        if all(p[i] is None for p in per):
            stacked.append(None)
            continue
        rows = [b.reshape(p[i] if p[i] is not None else b.zeros(r.type), [1, *shape(r)]) for p in per]
        stacked.append(b.concatenate(rows, 0))
    return stacked


def reverse_by_transposing(jvp: Jvp) -> Callable[[ReverseSweep, Operation], None]:
    """The reverse rule of ``jvp``: the rule outlined into a function, reversed with
    respect to its tangent arguments."""

    def reverse(rev: ReverseSweep, op: Operation) -> None:
        _real_only(op)
        float_in = [i for i, v in enumerate(op.operands) if _is_float(v)]
        float_out = [j for j, r in enumerate(op.results) if _is_float(r)]
        active = [i for i in float_in if rev.is_active(op.operands[i])]
        seeded = [j for j in float_out if rev.adjoint(op.results[j]) is not None]
        if not active or not seeded:
            return
        name = _outlined(rev, op, jvp, float_in, float_out)
        n = len(op.operands) + len(op.results)
        arg_kinds = [CONST] * n + [ACTIVE if i in active else CONST for i in float_in]
        ret_kinds = [ACTIVENONEED if j in seeded else CONSTNONEED for j in float_out]
        diffe = rev.ctx.reverse_function(name, arg_kinds, ret_kinds, width=rev.width)  # width N: the rule reversed at width N
        b = rev.builder
        args = [rev.primal(v) for v in op.operands] + [rev.primal(r) for r in op.results]
        args += [b.zeros(op.operands[i].type) for i in float_in]  # the rule is linear in its tangents: any point will do
        args += [rev.adjoint(op.results[j]) for j in seeded]
        call = b.insert(func.CallOp(diffe, args, [rev.adjoint_type(op.operands[i].type) for i in active]))
        for i, ct in zip(active, call.results):
            rev.add_adjoint(op.operands[i], ct)

    return reverse


def _outlined(rev: ReverseSweep, op: Operation, jvp: Jvp, float_in: list[int], float_out: list[int]) -> str:
    """``@matrix_jvp_<op>(inputs..., outputs..., float input tangents...) -> float output
    tangents``, one per op name, properties and types."""
    key = ("matrix-jvp", op.name, str(sorted((k, str(v)) for k, v in op.properties.items())), tuple(str(v.type) for v in [*op.operands, *op.results]))
    got = rev.ctx.generated.get(key)
    if got is not None:
        return got
    name = rev.ctx.unique_name("matrix_jvp_" + op.name.split(".", 1)[1])
    rev.ctx.generated[key] = name
    ins = [v.type for v in op.operands] + [r.type for r in op.results] + [op.operands[i].type for i in float_in]
    outs = [op.results[j].type for j in float_out]
    fn, block = rev.ctx.add_func(name, ins, outs)
    b = Builder(block, op.location)
    args = list(block.args)
    n_in, n_out = len(op.operands), len(op.results)
    tangents: Tangents = [None] * n_in
    for i, t in zip(float_in, args[n_in + n_out :]):
        tangents[i] = t
    douts = jvp(b, op, args[:n_in], args[n_in : n_in + n_out], tangents)
    results = [douts[j] if douts[j] is not None else b.zeros(op.results[j].type) for j in float_out]
    block.add_op(func.ReturnOp(*results))
    return name


# ============================================================================ triangular_solve (hand-written, both modes)


def _solve_props(op: M.TriangularSolveOp) -> tuple[bool, bool, bool, bool, bool]:
    return _flag(op.left_side), _flag(op.lower), _flag(op.transpose_a), _flag(op.conjugate_a), _flag(op.unit_diagonal)


def _read_triangle(b: Builder, op: M.TriangularSolveOp, x: SSAValue) -> SSAValue:
    """The part of ``x`` in the triangle the solve reads."""
    _, lower, _, _, unit = _solve_props(op)
    k = 1 if unit else 0
    return tril(b, x, -k) if lower else triu(b, x, k)


def jvp_triangular_solve(b: Builder, op: M.TriangularSolveOp, ins: list, outs: list, tangents: Tangents) -> Tangents:
    """op(A) X = B: dX = op(A)^-1 (dB - op(dA) X);  X op(A) = B: dX = (dB - X op(dA)) op(A)^-1"""
    left, lower, trans, conj, unit = _solve_props(op)
    a, x = ins[0], outs[0]
    da, rhs = tangents
    if da is not None:
        d_op = _read_triangle(b, op, da)
        d_op = T(b, d_op) if trans else d_op
        rhs = _sub(b, rhs, mm(b, d_op, x) if left else mm(b, x, d_op))
    if rhs is None:
        return [None]
    return [triangular_solve(b, a, rhs, left, lower, trans, unit, conj)]


custom_forward(M.TriangularSolveOp)(forward_with(jvp_triangular_solve))
batched_reverse(M.TriangularSolveOp)


@custom_reverse(M.TriangularSolveOp)
def triangular_solve_reverse(rev: ReverseSweep, op: M.TriangularSolveOp) -> None:
    """ct_B = op(A)^-T ct_X (left) or ct_X op(A)^-T (right); the cotangent of op(A) is
    -ct_B X^T (left) or -X^T ct_B (right), transposed back when op transposes, restricted
    to the triangle the solve reads."""
    _real_only(op)
    b = rev.builder
    left, lower, trans, conj, unit = _solve_props(op)
    a, x, ct = rev.primal(op.a), rev.primal(op.result), rev.adjoint(op.result)
    a, x = rev.expand(a), rev.expand(x)  # width N: the cotangents are one more batch dimension
    ct_b = triangular_solve(b, a, ct, left, lower, not trans, unit, conj)
    rev.add_adjoint(op.b, ct_b)
    if rev.is_active(op.a):
        g = mm(b, ct_b, T(b, x)) if left else mm(b, T(b, x), ct_b)
        g = T(b, g) if trans else g
        rev.add_adjoint(op.a, b.neg(_read_triangle(b, op, g)))


# ============================================================================ tridiagonal_solve (hand-written, both modes)


def _shift_down(b: Builder, v: SSAValue, axis: int) -> SSAValue:
    """``w[i] = v[i - 1]`` along ``axis`` (``w[0] = 0``)."""
    s = list(shape(v))
    start, limit = [0] * len(s), list(s)
    limit[axis] -= 1
    low, high = [0] * len(s), [0] * len(s)
    low[axis] = 1
    return b.pad(b.slice(v, start, limit), b.zeros(tensor(elem(v), [])), low, high)


def _shift_up(b: Builder, v: SSAValue, axis: int) -> SSAValue:
    """``w[i] = v[i + 1]`` along ``axis`` (``w[m-1] = 0``)."""
    s = list(shape(v))
    start, limit = [0] * len(s), list(s)
    start[axis] = 1
    low, high = [0] * len(s), [0] * len(s)
    high[axis] = 1
    return b.pad(b.slice(v, start, limit), b.zeros(tensor(elem(v), [])), low, high)


def _tridiagonal_product(b: Builder, dl: SSAValue | None, d: SSAValue | None, du: SSAValue | None, x: SSAValue) -> SSAValue | None:
    """``A x`` for the tridiagonal ``A`` of (dl, d, du), any of them None (zero); dl[0] and
    du[m-1] are not read."""
    dims = shape(x)
    r = len(dims)
    row = r - 2
    total = None
    if d is not None:
        total = b.mul(along_rows(b, d, dims), x)
    if dims[row] > 1:
        if dl is not None:  # (A x)[i] += dl[i] x[i-1], i >= 1
            total = _add(b, total, b.mul(along_rows(b, dl, dims), _shift_down(b, x, row)))
            # dl[0] multiplies the zero row shifted in: not read
        if du is not None:  # (A x)[i] += du[i] x[i+1], i <= m-2
            total = _add(b, total, b.mul(along_rows(b, du, dims), _shift_up(b, x, row)))
    return total


def jvp_tridiagonal_solve(b: Builder, op: M.TridiagonalSolveOp, ins: list, outs: list, tangents: Tangents) -> Tangents:
    """dX = A^-1 (dB - dA X)"""
    dl, d, du, _ = ins
    x = outs[0]
    ddl, dd, ddu, rhs = tangents
    rhs = _sub(b, rhs, _tridiagonal_product(b, ddl, dd, ddu, x))
    if rhs is None:
        return [None]
    return [tridiagonal_solve(b, dl, d, du, rhs, _flag(op.perturb_singular))]


custom_forward(M.TridiagonalSolveOp)(forward_with(jvp_tridiagonal_solve))


@custom_reverse(M.TridiagonalSolveOp)
def tridiagonal_solve_reverse(rev: ReverseSweep, op: M.TridiagonalSolveOp) -> None:
    """ct_B = A^-T ct_X (A^T is tridiagonal with the off-diagonals swapped and shifted);
    ct_d[i] = -<ct_B[i], X[i]>, ct_dl[i] = -<ct_B[i], X[i-1]> (i >= 1),
    ct_du[i] = -<ct_B[i], X[i+1]> (i <= m-2)."""
    _real_only(op)
    b = rev.builder
    dl, d, du = rev.primal(op.dl), rev.primal(op.d), rev.primal(op.du)
    x, ct = rev.primal(op.result), rev.adjoint(op.result)
    last = len(shape(dl)) - 1
    # A^T: sub-diagonal (A^T)[i, i-1] = A[i-1, i] = du[i-1]; super-diagonal (A^T)[i, i+1] = dl[i+1]
    ct_b = tridiagonal_solve(b, _shift_down(b, du, last), d, _shift_up(b, dl, last), ct, _flag(op.perturb_singular))
    rev.add_adjoint(op.b, ct_b)
    row = len(shape(x)) - 2
    cols = [len(shape(x)) - 1]
    if rev.is_active(op.d):
        rev.add_adjoint(op.d, b.neg(b.reduce_sum(b.mul(ct_b, x), cols)))
    if shape(x)[row] > 1:
        if rev.is_active(op.dl):
            rev.add_adjoint(op.dl, b.neg(b.reduce_sum(b.mul(ct_b, _shift_down(b, x, row)), cols)))
        if rev.is_active(op.du):
            rev.add_adjoint(op.du, b.neg(b.reduce_sum(b.mul(ct_b, _shift_up(b, x, row)), cols)))


# ============================================================================ cholesky


def _phi(b: Builder, x: SSAValue) -> SSAValue:
    """The lower triangle of x with its diagonal halved."""
    dims = shape(x)
    half = b.mul(b.full_like(x, 0.5), x)
    return b.select(band_mask(b, dims, 0, 0), half, tril(b, x, -1))


def jvp_cholesky(b: Builder, op: M.CholeskyOp, ins: list, outs: list, tangents: Tangents) -> Tangents:
    """A = L L^T:  dL = L Phi(L^-1 dA L^-T)"""
    (da,) = tangents
    if da is None:
        return [None]
    l = outs[0]
    left = triangular_solve(b, l, da, True, True, False)  # L^-1 dA
    inner = triangular_solve(b, l, left, False, True, True)  # (L^-1 dA) L^-T
    return [mm(b, l, _phi(b, inner))]


# ============================================================================ lu


def _lu_factors(b: Builder, lu: SSAValue) -> tuple[SSAValue, SSAValue]:
    """(L, U) of a packed ``[..., m, n]`` LU: L unit lower ``m x m``, U upper ``n x n``,
    each completed by the identity beyond ``k = min(m, n)``."""
    *_, m, n = shape(lu)
    k = min(m, n)
    l = tril(b, slice_last2(b, lu, (0, m), (0, k)), -1)
    l = pad_last2(b, l, (0, 0), (0, m - k))
    l = b.add(l, eye_like(b, l))
    u = triu(b, slice_last2(b, lu, (0, k), (0, n)))
    u = pad_last2(b, u, (0, n - k), (0, 0))
    if n > k:  # ones on the diagonal of the padded rows
        dims = shape(u)
        rows = b.iota(list(dims), len(dims) - 2, I32)
        below = b.compare(rows, b.constant(k, tensor(I32, dims)), "GE")
        diag = b.insert(hlo.AndOp(band_mask(b, dims, 0, 0), below)).results[0]
        u = b.select(diag, b.ones_like(u), u)
    return l, u


def jvp_lu(b: Builder, op: M.LuOp, ins: list, outs: list, tangents: Tangents) -> Tangents:
    """P A = L U:  X = L^-1 P dA U^-1,  dLU = L tril(X, -1) + triu(X) U"""
    (da,) = tangents
    if da is None:
        return [None, None, None]
    lu, _, perm = outs
    l, u = _lu_factors(b, lu)
    pda = mm(b, permutation_matrix(b, perm, da, rows=True), da)
    left = triangular_solve(b, l, pda, True, True, False, unit_diagonal=True)  # L^-1 P dA
    x = triangular_solve(b, u, left, False, False, False)  # (L^-1 P dA) U^-1
    return [b.add(mm(b, l, tril(b, x, -1)), mm(b, triu(b, x), u)), None, None]


# ============================================================================ eigh


def jvp_eigh(b: Builder, op: M.EighOp, ins: list, outs: list, tangents: Tangents) -> Tangents:
    """A = V diag(w) V^T, distinct eigenvalues:  C = V^T dA V,  dw = diag(C),
    dV = V (F o C) with F_ij = 1 / (w_j - w_i), 0 on the diagonal."""
    (da,) = tangents
    if da is None:
        return [None, None]
    v, w = outs
    if op.subset_by_index is not None:
        lo, hi = (int(x) for x in op.subset_by_index.get_values())
        if (lo, hi) != (0, shape(v)[-2]):
            raise unsupported(op, f"the derivative of a partial eigendecomposition (subset_by_index = ({lo}, {hi})) is not defined")
    c = mm(b, T(b, v), mm(b, da, v))
    dims = shape(c)
    gaps = b.sub(along_columns(b, w, dims), along_rows(b, w, dims))  # w_j - w_i
    dv = mm(b, v, b.mul(reciprocal_off_diagonal(b, gaps), c))
    return [dv, diagonal(b, c)]


# ============================================================================ svd


def _svd_factors(b: Builder, op: M.SvdOp, a: SSAValue, outs: list) -> tuple[SSAValue, SSAValue, SSAValue]:
    """(s, U, Vt), thin: the op's own, or an SVD with singular vectors built here when the
    op computes the singular values only."""
    if _flag(op.compute_uv):
        return outs[0], outs[1], outs[2]
    *batch, m, n = shape(a)
    k = shape(outs[0])[-1]
    props = {"full_matrices": _bool(False), "compute_uv": _bool(True)}
    for name in ("subset_by_index", "algorithm"):
        if op.properties.get(name) is not None:
            props[name] = op.properties[name]
    e = elem(a)
    full = M.SvdOp.create(
        operands=[a], result_types=[outs[0].type, tensor(e, [*batch, m, k]), tensor(e, [*batch, k, n])], properties=props
    )
    s, u, vt = b.insert(full).results
    return s, u, vt


def jvp_svd(b: Builder, op: M.SvdOp, ins: list, outs: list, tangents: Tangents) -> Tangents:
    """A = U S V^T (thin):  C = U^T dA V,  ds = diag(C);  with F_ij = 1 / (s_j^2 - s_i^2)
    (0 on the diagonal): dU = U (F o (C S + S C^T)) + (I - U U^T) dA V S^-1,
    dV = V (F o (S C + C^T S)) + (I - V V^T) dA^T U S^-1."""
    (da,) = tangents
    compute_uv = _flag(op.compute_uv)
    if da is None:
        return [None] * len(op.results)
    a = ins[0]
    *_, m, n = shape(a)
    if op.subset_by_index is not None:
        lo, hi = (int(x) for x in op.subset_by_index.get_values())
        if (lo, hi) != (0, min(m, n)):
            raise unsupported(op, f"the derivative of a partial SVD (subset_by_index = ({lo}, {hi})) is not supported")
    if compute_uv and _flag(op.full_matrices) and m != n:
        raise unsupported(
            op,
            f"the singular vectors of a non-square ({m}x{n}) matrix with full_matrices=True: the extra columns are any "
            f"orthonormal basis of a complement (jax refuses this too); use full_matrices=False",
        )
    s, u, vt = _svd_factors(b, op, a, outs)
    v = T(b, vt)
    dav = mm(b, da, v)  # dA V, m x k
    c = mm(b, T(b, u), dav)  # U^T dA V, k x k
    ds = diagonal(b, c)
    if not compute_uv:
        return [ds]
    dims = shape(c)
    s_j, s_i = along_columns(b, s, dims), along_rows(b, s, dims)
    f = reciprocal_off_diagonal(b, b.sub(b.mul(s_j, s_j), b.mul(s_i, s_i)))
    cs = b.mul(c, s_j)  # C S
    sc = b.mul(s_i, c)  # S C
    du = mm(b, u, b.mul(f, b.add(cs, T(b, cs))))
    dv = mm(b, v, b.mul(f, b.add(sc, T(b, sc))))
    if m > n:
        rest = b.sub(dav, mm(b, u, c))  # (I - U U^T) dA V
        du = b.add(du, b.div(rest, along_columns(b, s, shape(rest))))
    if n > m:
        datu = mm(b, T(b, da), u)  # dA^T U, n x k
        rest = b.sub(datu, mm(b, v, T(b, c)))  # (I - V V^T) dA^T U
        dv = b.add(dv, b.div(rest, along_columns(b, s, shape(rest))))
    return [ds, du, T(b, dv)]


# ============================================================================ qr


def _thin_qr(b: Builder, q: SSAValue, r: SSAValue, dx: SSAValue) -> tuple[SSAValue, SSAValue]:
    """X = Q R with Q m x n orthonormal columns, R n x n upper:  D = dX R^-1, C = Q^T D,
    dO = tril(C, -1) - tril(C, -1)^T (skew), dQ = Q (dO - C) + D, dR = (C - dO) R."""
    d = triangular_solve(b, r, dx, False, False, False)  # dX R^-1
    c = mm(b, T(b, q), d)
    low = tril(b, c, -1)
    skew = b.sub(low, T(b, low))
    dq = b.add(mm(b, q, b.sub(skew, c)), d)
    dr = mm(b, b.sub(c, skew), r)
    return dq, dr


def jvp_qr(b: Builder, op: M.QrOp, ins: list, outs: list, tangents: Tangents) -> Tangents:
    (da,) = tangents
    nones = [None] * len(op.results)
    if da is None:
        return nones
    a = ins[0]
    q, r = outs[0], outs[1]
    *_, m, n = shape(a)
    if _flag(op.pivoting):  # A P = Q R: the rules below for the permuted columns
        perm = permutation_matrix(b, outs[2], da, rows=False)
        da, a = mm(b, da, perm), mm(b, a, perm)
    if m < n:
        # A = [A_1 A_2] with A_1 m x m: A_1 = Q R_1 (square), R_2 = Q^T A_2
        dq, dr1 = _thin_qr(b, q, slice_last2(b, r, (0, m), (0, m)), slice_last2(b, da, (0, m), (0, m)))
        a2, da2 = slice_last2(b, a, (0, m), (m, n)), slice_last2(b, da, (0, m), (m, n))
        dr2 = b.add(mm(b, T(b, dq), a2), mm(b, T(b, q), da2))
        dr = b.concatenate([dr1, dr2], len(shape(dr1)) - 1)
    else:
        if _flag(op.full_matrices) and m > n:
            raise unsupported(
                op,
                f"the full Q of a tall ({m}x{n}) matrix (full_matrices=True, jnp.linalg.qr mode='complete'): its last "
                f"{m - n} columns are any orthonormal basis of the complement of A's columns; use mode='reduced'",
            )
        dq, dr = _thin_qr(b, q, r, da)
    return [dq, dr, *nones[2:]]


# ============================================================================ custom_linear_solve (hand-written, both modes)


def _solve_groups(op: M.CustomLinearSolveOp, values: Sequence) -> tuple[list, list, list, list, list]:
    """(matvec, vecmat, solve, transpose_solve closed-over values, right-hand sides)."""
    groups, start = [], 0
    for n in op.lengths():
        groups.append(list(values[start : start + n]))
        start += n
    return groups[0], groups[1], groups[2], groups[3], list(values[start:])


def _linear_solve(b: Builder, op: M.CustomLinearSolveOp, operands: list, transposed: bool = False) -> list[SSAValue]:
    """The op again on other operands (grouped like the op's); ``transposed``: the
    transposed system, vecmat and transpose_solve taking the places of matvec and solve."""
    props = dict(op.properties)
    types = [r.type for r in op.outs]
    if transposed:
        if op.transpose_solve is None or op.vecmat is None:
            raise unsupported(op, "reverse mode needs the transposed solver: pass transpose_solve (or symmetric=True) to lax.custom_linear_solve")
        mv, vm, sv, ts, rhs = _solve_groups(op, operands)
        operands = [*vm, *mv, *ts, *sv, *rhs]
        lengths = op.lengths()
        props.update(matvec=op.vecmat, vecmat=op.matvec, solve=op.transpose_solve, transpose_solve=op.solve)
        props["const_lengths"] = hlo.i64_array([lengths[1], lengths[0], lengths[3], lengths[2]])
    new = M.CustomLinearSolveOp.create(operands=operands, result_types=types, properties=props)
    return list(b.insert(new).results)


def jvp_custom_linear_solve(b: Builder, op: M.CustomLinearSolveOp, ins: list, outs: list, tangents: Tangents, ctx=None) -> Tangents:
    """A x = b:  dx = A^-1 (db - dA x), with dA x the derivative of matvec with respect to
    the values it closes over (those of the solvers get none, as in jax); aux outputs have
    no derivative."""
    mv, _, _, _, rhs = _solve_groups(op, ins)
    _, _, _, _, d_rhs = _solve_groups(op, tangents)
    d_mv = _solve_groups(op, tangents)[0]
    n_b = len(rhs)
    xs = outs[:n_b]
    total = list(d_rhs)
    if any(t is not None for t in d_mv):
        kinds = [DUP if t is not None else CONST for t in d_mv] + [CONST] * n_b
        name = ctx.forward_function(op.matvec.root_reference.data, kinds, [DUPNONEED] * n_b)
        args: list[SSAValue] = []
        for v, t in zip(mv, d_mv):
            args.append(v)
            if t is not None:
                args.append(t)
        moved = b.insert(func.CallOp(name, [*args, *xs], [x.type for x in xs])).results
        total = [_sub(b, t, m) for t, m in zip(total, moved)]
    if all(t is None for t in total):
        return [None] * len(op.outs)
    total = [t if t is not None else b.zeros(x.type) for t, x in zip(total, xs)]
    consts = ins[: len(ins) - n_b]
    dx = _linear_solve(b, op, [*consts, *total])[:n_b]
    return [*dx, *([None] * (len(op.outs) - n_b))]


@custom_forward(M.CustomLinearSolveOp)
def custom_linear_solve_forward(fwd: ForwardSweep, op: M.CustomLinearSolveOp) -> None:
    forward_with(lambda b, o, ins, outs, ts: jvp_custom_linear_solve(b, o, ins, outs, ts, fwd.ctx))(fwd, op)


@custom_reverse(M.CustomLinearSolveOp)
def custom_linear_solve_reverse(rev: ReverseSweep, op: M.CustomLinearSolveOp) -> None:
    """ct_b = A^-T ct_x (the transposed solve), ct of matvec's values = -(d/dA <ct_b, A x>)
    (matvec reversed with respect to them at x, seeded with ct_b)."""
    _real_only(op)
    b = rev.builder
    ins = [rev.primal(v) for v in op.args]
    mv, _, _, _, rhs = _solve_groups(op, ins)
    mv_vals, _, _, _, rhs_vals = _solve_groups(op, list(op.args))
    n_b = len(rhs)
    xs = [rev.primal(r) for r in list(op.outs)[:n_b]]
    cts = [rev.adjoint(r) for r in list(op.outs)[:n_b]]
    active_mv = [rev.is_active(v) and _is_float(v) for v in mv_vals]
    if all(c is None for c in cts) or not (any(active_mv) or any(rev.is_active(v) for v in rhs_vals)):
        return
    cts = [c if c is not None else b.zeros(x.type) for c, x in zip(cts, xs)]
    consts = ins[: len(ins) - n_b]
    ct_b = _linear_solve(b, op, [*consts, *cts], transposed=True)[:n_b]
    for v, c in zip(rhs_vals, ct_b):
        rev.add_adjoint(v, c)
    if any(active_mv):
        kinds = [ACTIVE if a else CONST for a in active_mv] + [CONST] * n_b
        name = rev.ctx.reverse_function(op.matvec.root_reference.data, kinds, [ACTIVENONEED] * n_b)
        types = [v.type for v, a in zip(mv_vals, active_mv) if a]
        grads = iter(b.insert(func.CallOp(name, [*mv, *xs, *ct_b], types)).results)
        for v, a in zip(mv_vals, active_mv):
            if a:
                rev.add_adjoint(v, b.neg(next(grads)))


# ============================================================================ registration

for _cls, _jvp in ((M.CholeskyOp, jvp_cholesky), (M.LuOp, jvp_lu), (M.EighOp, jvp_eigh), (M.SvdOp, jvp_svd), (M.QrOp, jvp_qr)):
    custom_forward(_cls)(forward_with(_jvp))
    custom_reverse(_cls)(reverse_by_transposing(_jvp))
    batched_reverse(_cls)
