"""The ``matrix`` dialect: the dense linear-algebra primitives of ``jax.lax.linalg``.

jax lowers its linear algebra on CPU to LAPACK custom calls (``@lapack_dgetrf_ffi``, ...),
opaque to a differentiating compiler. zymase lowers these primitives with its own rules
(frontend/linalg.py) into ops of this dialect, which carry the primitives' static
parameters as typed properties, are differentiated by the rules in ad/rules/linalg.py and
are emitted back as ``jax.lax.linalg`` calls (backend/linalg_ops.py), so they run on any
backend. The dialect is named ``matrix`` so as not to clash with MLIR's ``linalg``.

Every op works on batches: operands have leading batch dimensions ``[..., m, n]``, the
same for every operand and result of one op.

- ``matrix.cholesky(a) -> l``: the lower Cholesky factor of the symmetric positive
  definite ``a``, reading ``a``'s lower triangle; zeros above the diagonal
  (``lax.linalg.cholesky(a, symmetrize_input=False)``).
- ``matrix.triangular_solve(a, b) -> x``: ``op(a) x = b`` (``left_side``) or
  ``x op(a) = b``, with ``op(a)`` ``a``, its transpose (``transpose_a``) and/or conjugate
  (``conjugate_a``); reads the ``lower`` (or upper) triangle of ``a``, and not its
  diagonal when ``unit_diagonal``.
- ``matrix.lu(a) -> (lu, pivots, permutation)``: ``P a = L U`` with partial pivoting;
  ``L`` (unit diagonal, not stored) and ``U`` packed in ``lu``; ``pivots`` (i32, 0-based row
  swaps) and ``permutation`` (i32, ``P`` as a permutation of the rows).
- ``matrix.lu_pivots_to_permutation(pivots) -> permutation`` (``permutation_size``).
- ``matrix.eigh(a) -> (v, w)``: eigenvectors (columns of ``v``) and eigenvalues of the
  symmetric ``a``, reading the ``lower`` (or upper) triangle.
- ``matrix.svd(a) -> (s, [u, vt])``: singular values, and with ``compute_uv`` the
  singular vectors (``a = u diag(s) vt``), thin unless ``full_matrices``. Results in the
  order of jax's primitive: ``s`` first.
- ``matrix.qr(a) -> (q, r, [p])``: ``a = q r`` (``a[:, p] = q r`` with ``pivoting``).
- ``matrix.tridiagonal_solve(dl, d, du, b) -> x``: ``A x = b`` with ``A`` tridiagonal:
  ``dl[i] = A[i, i-1]`` (``dl[0]`` unused), ``d[i] = A[i, i]``, ``du[i] = A[i, i+1]``
  (``du[m-1]`` unused).
- ``matrix.custom_linear_solve(consts..., b...) -> x...``: ``lax.custom_linear_solve``,
  whose linear map and solvers are functions of the module named by symbol.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import BoolAttr, ComplexType, DenseArrayBase, IntegerAttr, IntegerType, StringAttr, SymbolRefAttr, TensorType
from xdsl.ir import Attribute, Dialect
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, opt_prop_def, prop_def, result_def, traits_def, var_operand_def, var_result_def
from xdsl.traits import Pure

from .dense import is_float_type
from .query import element_type as _elem
from .query import shape as _shape
from .stablehlo import _fail


def _is_inexact(t: Attribute) -> bool:
    e = _elem(t)
    return is_float_type(e) or isinstance(e, ComplexType)


def _real_of(t: Attribute) -> Attribute:
    e = _elem(t)
    return e.element_type if isinstance(e, ComplexType) else e


def _flag(attr: Attribute | None) -> bool:
    return attr is not None and bool(attr.value.data)


def _matrix(op: IRDLOperation, label: str, t: Attribute, rank: int = 2) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(batch dims, trailing ``rank`` dims) of operand/result ``label``; it must be an
    inexact tensor of rank >= ``rank``."""
    if not isinstance(t, TensorType):
        _fail(op, f"{label} must be a tensor, got {t}")
    s = _shape(t)
    if len(s) < rank:
        _fail(op, f"{label} must have rank >= {rank}, got shape {s}")
    return s[: len(s) - rank], s[len(s) - rank :]


def _expect(op: IRDLOperation, label: str, t: Attribute, shape: Sequence[int], element: Attribute) -> None:
    if _shape(t) != tuple(shape):
        _fail(op, f"{label} has shape {_shape(t)}, expected {tuple(shape)}")
    if _elem(t) != element:
        _fail(op, f"{label} has element type {_elem(t)}, expected {element}")


def _inexact_operand(op: IRDLOperation, label: str, t: Attribute) -> None:
    if not _is_inexact(t):
        _fail(op, f"{label} must have a float or complex element type, got {_elem(t)}")


def _subset(op: IRDLOperation, attr: DenseArrayBase | None, limit: int) -> int:
    """The number of values a ``subset_by_index`` selects (``limit`` when absent)."""
    if attr is None:
        return limit
    values = [int(v) for v in attr.get_values()]
    if len(values) != 2:
        _fail(op, f"subset_by_index must have two entries, got {values}")
    lo, hi = values
    if not 0 <= lo <= hi <= limit:
        _fail(op, f"subset_by_index ({lo}, {hi}) is out of range [0, {limit}]")
    return hi - lo


I32 = IntegerType(32)


@irdl_op_definition
class CholeskyOp(IRDLOperation):
    name = "matrix.cholesky"
    a = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        _inexact_operand(self, "a", self.a.type)
        _, (m, n) = _matrix(self, "a", self.a.type)
        if m != n:
            _fail(self, f"a must be square, got {m}x{n}")
        _expect(self, "result", self.result.type, _shape(self.a.type), _elem(self.a.type))


@irdl_op_definition
class TriangularSolveOp(IRDLOperation):
    name = "matrix.triangular_solve"
    a = operand_def(TensorType)
    b = operand_def(TensorType)
    left_side = prop_def(BoolAttr)
    lower = prop_def(BoolAttr)
    transpose_a = prop_def(BoolAttr)
    conjugate_a = prop_def(BoolAttr)
    unit_diagonal = prop_def(BoolAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        _inexact_operand(self, "a", self.a.type)
        batch, (m, n) = _matrix(self, "a", self.a.type)
        if m != n:
            _fail(self, f"a must be square, got {m}x{n}")
        b_batch, (p, q) = _matrix(self, "b", self.b.type)
        if b_batch != batch:
            _fail(self, f"a and b must have the same batch dimensions, got {batch} and {b_batch}")
        if _elem(self.b.type) != _elem(self.a.type):
            _fail(self, f"a and b must have the same element type, got {_elem(self.a.type)} and {_elem(self.b.type)}")
        solved = p if _flag(self.left_side) else q
        if solved != m:
            side = "rows" if _flag(self.left_side) else "columns"
            _fail(self, f"b has {solved} {side}, but a is {m}x{m}")
        _expect(self, "result", self.result.type, _shape(self.b.type), _elem(self.b.type))


@irdl_op_definition
class LuOp(IRDLOperation):
    name = "matrix.lu"
    a = operand_def(TensorType)
    lu = result_def(TensorType)
    pivots = result_def(TensorType)
    permutation = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        _inexact_operand(self, "a", self.a.type)
        batch, (m, n) = _matrix(self, "a", self.a.type)
        _expect(self, "lu", self.lu.type, _shape(self.a.type), _elem(self.a.type))
        _expect(self, "pivots", self.pivots.type, (*batch, min(m, n)), I32)
        _expect(self, "permutation", self.permutation.type, (*batch, m), I32)


@irdl_op_definition
class LuPivotsToPermutationOp(IRDLOperation):
    name = "matrix.lu_pivots_to_permutation"
    pivots = operand_def(TensorType)
    permutation_size = prop_def(IntegerAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        batch, (k,) = _matrix(self, "pivots", self.pivots.type, 1)
        if _elem(self.pivots.type) != I32:
            _fail(self, f"pivots must be i32, got {_elem(self.pivots.type)}")
        size = self.permutation_size.value.data
        if size < k:
            _fail(self, f"permutation_size {size} is smaller than the number of pivots {k}")
        _expect(self, "result", self.result.type, (*batch, size), I32)


@irdl_op_definition
class EighOp(IRDLOperation):
    name = "matrix.eigh"
    a = operand_def(TensorType)
    lower = prop_def(BoolAttr)
    sort_eigenvalues = prop_def(BoolAttr)
    subset_by_index = opt_prop_def(DenseArrayBase)
    algorithm = opt_prop_def(StringAttr)
    """The name of a ``jax.lax.linalg.EighImplementation`` (``QR``, ``JACOBI``, ``QDWH``);
    absent: the backend's default."""
    v = result_def(TensorType)
    w = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        _inexact_operand(self, "a", self.a.type)
        batch, (m, n) = _matrix(self, "a", self.a.type)
        if m != n:
            _fail(self, f"a must be square, got {m}x{n}")
        d = _subset(self, self.subset_by_index, n)
        _expect(self, "v", self.v.type, (*batch, n, d), _elem(self.a.type))
        _expect(self, "w", self.w.type, (*batch, d), _real_of(self.a.type))


@irdl_op_definition
class SvdOp(IRDLOperation):
    name = "matrix.svd"
    a = operand_def(TensorType)
    full_matrices = prop_def(BoolAttr)
    compute_uv = prop_def(BoolAttr)
    subset_by_index = opt_prop_def(DenseArrayBase)
    algorithm = opt_prop_def(StringAttr)
    """The name of a ``jax.lax.linalg.SvdAlgorithm``; absent: the default."""
    s = result_def(TensorType)
    uv = var_result_def(TensorType)
    """``u`` and ``vt`` when ``compute_uv``, nothing otherwise."""
    traits = traits_def(Pure())

    def verify_(self) -> None:
        _inexact_operand(self, "a", self.a.type)
        batch, (m, n) = _matrix(self, "a", self.a.type)
        k = _subset(self, self.subset_by_index, min(m, n))
        full = _flag(self.full_matrices)
        _expect(self, "s", self.s.type, (*batch, k), _real_of(self.a.type))
        if not _flag(self.compute_uv):
            if len(self.uv) != 0:
                _fail(self, f"without compute_uv the op has one result, got {1 + len(self.uv)}")
            return
        if len(self.uv) != 2:
            _fail(self, f"with compute_uv the op has three results (s, u, vt), got {1 + len(self.uv)}")
        _expect(self, "u", self.uv[0].type, (*batch, m, m if full else k), _elem(self.a.type))
        _expect(self, "vt", self.uv[1].type, (*batch, n if full else k, n), _elem(self.a.type))


@irdl_op_definition
class QrOp(IRDLOperation):
    name = "matrix.qr"
    a = operand_def(TensorType)
    pivoting = prop_def(BoolAttr)
    full_matrices = prop_def(BoolAttr)
    use_magma = opt_prop_def(BoolAttr)
    q = result_def(TensorType)
    r = result_def(TensorType)
    p = var_result_def(TensorType)
    """The column permutation (i32) with ``pivoting``, nothing otherwise."""
    traits = traits_def(Pure())

    def verify_(self) -> None:
        _inexact_operand(self, "a", self.a.type)
        batch, (m, n) = _matrix(self, "a", self.a.type)
        k = m if _flag(self.full_matrices) else min(m, n)
        _expect(self, "q", self.q.type, (*batch, m, k), _elem(self.a.type))
        _expect(self, "r", self.r.type, (*batch, k, n), _elem(self.a.type))
        if _flag(self.pivoting):
            if len(self.p) != 1:
                _fail(self, f"with pivoting the op has three results (q, r, p), got {2 + len(self.p)}")
            _expect(self, "p", self.p[0].type, (*batch, n), I32)
        elif len(self.p) != 0:
            _fail(self, f"without pivoting the op has two results (q, r), got {2 + len(self.p)}")


@irdl_op_definition
class TridiagonalSolveOp(IRDLOperation):
    name = "matrix.tridiagonal_solve"
    dl = operand_def(TensorType)
    d = operand_def(TensorType)
    du = operand_def(TensorType)
    b = operand_def(TensorType)
    perturb_singular = prop_def(BoolAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        _inexact_operand(self, "b", self.b.type)
        batch, (m, _) = _matrix(self, "b", self.b.type)
        for label, v in (("dl", self.dl), ("d", self.d), ("du", self.du)):
            _expect(self, label, v.type, (*batch, m), _elem(self.b.type))
        _expect(self, "result", self.result.type, _shape(self.b.type), _elem(self.b.type))


@irdl_op_definition
class CustomLinearSolveOp(IRDLOperation):
    """``matrix.custom_linear_solve(consts..., b...) -> (x..., aux...)``: jax's
    ``lax.custom_linear_solve``. The linear map and its solvers are functions of the
    module, named by symbol: ``@matvec(matvec consts..., x...) -> (A x)...``, ``@vecmat``
    (its transpose), ``@solve(solve consts..., b...) -> (x..., aux...)`` and
    ``@transpose_solve``; ``const_lengths`` counts the operands each closes over, which
    come first in that order (matvec, vecmat, solve, transpose_solve), then the
    right-hand side ``b``. ``x = solve(b)`` where ``A x = b``; its derivative is defined by
    ``matvec`` (implicit differentiation), not by the solver."""

    name = "matrix.custom_linear_solve"
    args = var_operand_def()
    matvec = prop_def(SymbolRefAttr)
    vecmat = opt_prop_def(SymbolRefAttr)
    solve = prop_def(SymbolRefAttr)
    transpose_solve = opt_prop_def(SymbolRefAttr)
    const_lengths = prop_def(DenseArrayBase)
    outs = var_result_def()
    traits = traits_def(Pure())

    def lengths(self) -> tuple[int, int, int, int]:
        values = tuple(int(v) for v in self.const_lengths.get_values())
        return values  # type: ignore[return-value]

    def num_rhs(self) -> int:
        return len(self.args) - sum(self.lengths())

    def verify_(self) -> None:
        lengths = [int(v) for v in self.const_lengths.get_values()]
        if len(lengths) != 4 or min(lengths) < 0:
            _fail(self, f"const_lengths must be four counts (matvec, vecmat, solve, transpose_solve), got {lengths}")
        if self.vecmat is None and lengths[1]:
            _fail(self, "operands for vecmat without a vecmat function")
        if self.transpose_solve is None and lengths[3]:
            _fail(self, "operands for transpose_solve without a transpose_solve function")
        n_b = len(self.args) - sum(lengths)
        if n_b < 1:
            _fail(self, f"{len(self.args)} operands, {sum(lengths)} of them closed-over values: no right-hand side")
        if len(self.outs) < n_b:
            _fail(self, f"{n_b} right-hand sides but {len(self.outs)} results")
        for i, (b, x) in enumerate(zip(list(self.args)[sum(lengths):], self.outs)):
            if b.type != x.type:
                _fail(self, f"result {i} has type {x.type}, but its right-hand side has type {b.type}")


MATRIX_OPS = [CholeskyOp, TriangularSolveOp, LuOp, LuPivotsToPermutationOp, EighOp, SvdOp, QrOp, TridiagonalSolveOp, CustomLinearSolveOp]

Matrix = Dialect("matrix", MATRIX_OPS, [])

__all__ = [
    "Matrix",
    "MATRIX_OPS",
    "CholeskyOp",
    "TriangularSolveOp",
    "LuOp",
    "LuPivotsToPermutationOp",
    "EighOp",
    "SvdOp",
    "QrOp",
    "TridiagonalSolveOp",
    "CustomLinearSolveOp",
]
