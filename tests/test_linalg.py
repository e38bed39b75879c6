"""Linear algebra: jax.lax.linalg's primitives lowered to the ``matrix`` dialect
(frontend/linalg.py, ir/linalg.py), differentiated by ad/rules/linalg.py and emitted back
as jax.lax.linalg calls (backend/linalg_ops.py).

Table-driven against jax in float64 on small well-conditioned matrices: for each row,
the lowered IR holds the expected matrix ops and no LAPACK custom call, zymase.jit gives
jax's values, zymase.grad and zymase.jvp give jax's derivatives, and reverse mode passes
the dot-product test <J v, w> = <v, J^T w> (zymase.jvp against zymase.vjp). Then second
derivatives, the refusals, and the dialect's text form and verifiers.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
import pytest
from jax import lax

import zymase
from zymase.ad.engine import DiffError
from zymase.ir import parse_module, print_module

TOL = 1e-10


pytestmark = pytest.mark.usefixtures("x64")


# ============================================================================ inputs


def orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def general(*shape: int) -> Callable:
    """A well-conditioned matrix: random, plus a multiple of the identity when square."""

    def make(rng: np.random.Generator) -> np.ndarray:
        a = rng.standard_normal(shape)
        if shape[-1] == shape[-2]:
            a = a + 2.0 * np.sqrt(shape[-1]) * np.eye(shape[-1])
        return a

    return make


def spd(*shape: int) -> Callable:
    def make(rng: np.random.Generator) -> np.ndarray:
        a = rng.standard_normal(shape)
        return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])

    return make


def symmetric_spectrum(*shape: int) -> Callable:
    """Symmetric with well-separated eigenvalues (the eigenvector derivative divides by
    their gaps)."""

    def make(rng: np.random.Generator) -> np.ndarray:
        n = shape[-1]
        out = np.empty(shape)
        for idx in np.ndindex(*shape[:-2]):
            q = orthogonal(rng, n)
            out[idx] = q @ np.diag(np.linspace(-2.0, 3.0, n)) @ q.T
        return out

    return make


def singular_spectrum(*shape: int) -> Callable:
    """``U diag(s) V^T`` with well-separated singular values away from zero."""

    def make(rng: np.random.Generator) -> np.ndarray:
        m, n = shape[-2:]
        k = min(m, n)
        out = np.empty(shape)
        for idx in np.ndindex(*shape[:-2]):
            u, v = orthogonal(rng, m)[:, :k], orthogonal(rng, n)[:, :k]
            out[idx] = u @ np.diag(np.linspace(4.0, 1.0, k)) @ v.T
        return out

    return make


def vector(*shape: int) -> Callable:
    return lambda rng: rng.standard_normal(shape)


def tridiagonal(m: int, cols: int) -> Callable:
    """(dl, d, du, b), diagonally dominant."""

    def make(rng: np.random.Generator) -> tuple:
        return rng.standard_normal(m), rng.standard_normal(m) + 6.0, rng.standard_normal(m), rng.standard_normal((m, cols))

    return make


# ============================================================================ gauge-invariant functions of factors


def eigh_vectors(a):
    """Invariant under each eigenvector's sign: sum_i c_i v_i v_i^T, and v * v."""
    w, v = jnp.linalg.eigh(a)
    c = jnp.arange(1.0, v.shape[-1] + 1)
    return (v * c[..., None, :]) @ jnp.swapaxes(v, -1, -2), v * v, w


def svd_vectors(a):
    """Invariant under the joint sign of u_i and v_i: U diag(c) V^T, and u * u, vt * vt."""
    u, s, vt = jnp.linalg.svd(a, full_matrices=False)
    c = jnp.arange(1.0, s.shape[-1] + 1)
    return (u * c[..., None, :]) @ vt, u * u, vt * vt, s


def qr_factors(a):
    return jnp.linalg.qr(a)


# ============================================================================ the table


@dataclass
class Row:
    name: str
    f: Callable
    make_args: Callable
    ops: tuple[str, ...]
    """matrix ops the lowered IR must contain"""
    tol: float = TOL

    def args(self) -> list:
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        got = self.make_args(rng)
        return list(got) if isinstance(got, tuple) else [got]


def args(*makers: Callable) -> Callable:
    return lambda rng: tuple(m(rng) for m in makers)


LU_SOLVE = ("matrix.custom_linear_solve", "matrix.lu", "matrix.triangular_solve")

ROWS = [
    Row("solve_vector", jnp.linalg.solve, args(general(4, 4), vector(4)), LU_SOLVE),
    Row("solve_matrix", jnp.linalg.solve, args(general(4, 4), vector(4, 2)), LU_SOLVE),
    Row("inv", jnp.linalg.inv, general(4, 4), LU_SOLVE),
    Row("det", jnp.linalg.det, general(4, 4), ("matrix.lu",)),
    Row("slogdet", lambda a: jnp.linalg.slogdet(a)[1], general(4, 4), ("matrix.lu",)),
    Row("cholesky", jnp.linalg.cholesky, spd(4, 4), ("matrix.cholesky",)),
    Row("cholesky_lax_raw", lambda a: lax.linalg.cholesky(a, symmetrize_input=False), spd(4, 4), ("matrix.cholesky",)),
    Row("eigvalsh", jnp.linalg.eigvalsh, symmetric_spectrum(4, 4), ("matrix.eigh",)),
    Row("eigh_vectors", eigh_vectors, symmetric_spectrum(4, 4), ("matrix.eigh",)),
    Row("svd_values", lambda a: jnp.linalg.svd(a, compute_uv=False), singular_spectrum(4, 4), ("matrix.svd",)),
    Row("svd_values_wide", lambda a: jnp.linalg.svd(a, compute_uv=False), singular_spectrum(3, 5), ("matrix.svd",)),
    Row("svd_vectors", svd_vectors, singular_spectrum(4, 4), ("matrix.svd",)),
    Row("svd_vectors_tall", svd_vectors, singular_spectrum(5, 3), ("matrix.svd",)),
    Row("svd_vectors_wide", svd_vectors, singular_spectrum(3, 5), ("matrix.svd",)),
    Row("qr", qr_factors, general(4, 4), ("matrix.qr",)),
    Row("qr_tall", qr_factors, general(5, 3), ("matrix.qr",)),
    Row("qr_wide", qr_factors, general(3, 5), ("matrix.qr",)),
    Row("qr_pivoting", lambda a: jsl.qr(a, pivoting=True)[:2], general(4, 4), ("matrix.qr",)),
    Row("pinv", jnp.linalg.pinv, singular_spectrum(4, 4), ("matrix.svd",)),
    Row("pinv_tall", jnp.linalg.pinv, singular_spectrum(5, 3), ("matrix.svd",)),
    Row("norm_2", lambda a: jnp.linalg.norm(a, 2), singular_spectrum(4, 4), ("matrix.svd",)),
    Row("norm_nuc", lambda a: jnp.linalg.norm(a, "nuc"), singular_spectrum(3, 5), ("matrix.svd",)),
    Row("solve_triangular_lower", lambda a, b: jsl.solve_triangular(a, b, lower=True), args(general(4, 4), vector(4, 2)), ("matrix.triangular_solve",)),
    Row("solve_triangular_upper", lambda a, b: jsl.solve_triangular(a, b, lower=False), args(general(4, 4), vector(4)), ("matrix.triangular_solve",)),
    Row("solve_triangular_lower_trans", lambda a, b: jsl.solve_triangular(a, b, trans=1, lower=True), args(general(4, 4), vector(4, 2)), ("matrix.triangular_solve",)),
    Row("solve_triangular_upper_trans", lambda a, b: jsl.solve_triangular(a, b, trans="T", lower=False), args(general(4, 4), vector(4)), ("matrix.triangular_solve",)),
    Row("solve_triangular_unit", lambda a, b: jsl.solve_triangular(a, b, lower=True, unit_diagonal=True), args(general(4, 4), vector(4)), ("matrix.triangular_solve",)),
    Row("cho_solve", lambda a, b: jsl.cho_solve((jnp.linalg.cholesky(a), True), b), args(spd(4, 4), vector(4, 2)), ("matrix.cholesky", "matrix.triangular_solve")),
    Row("lu_solve", lambda a, b: jsl.lu_solve(jsl.lu_factor(a), b), args(general(4, 4), vector(4, 2)), ("matrix.lu", "matrix.lu_pivots_to_permutation", "matrix.triangular_solve")),
    Row("lu_solve_trans", lambda a, b: jsl.lu_solve(jsl.lu_factor(a), b, trans=1), args(general(4, 4), vector(4)), ("matrix.lu", "matrix.triangular_solve")),
    Row("lu", lambda a: lax.linalg.lu(a)[0], general(4, 4), ("matrix.lu",)),
    Row("lu_wide", lambda a: lax.linalg.lu(a)[0], general(3, 5), ("matrix.lu",)),
    Row("lu_tall", lambda a: lax.linalg.lu(a)[0], general(5, 3), ("matrix.lu",)),
    Row("tridiagonal_solve", lax.linalg.tridiagonal_solve, tridiagonal(4, 2), ("matrix.tridiagonal_solve",)),
    # leading batch dimensions
    Row("batched_solve", jnp.linalg.solve, args(general(2, 3, 3), vector(2, 3, 1)), LU_SOLVE),
    Row("batched_inv", jnp.linalg.inv, general(2, 3, 3), LU_SOLVE),
    # jnp.linalg.det of n <= 3 matrices has a closed form: the batch of 4x4 goes through lu
    Row("batched_det", jnp.linalg.det, general(2, 4, 4), ("matrix.lu",)),
    Row("batched_slogdet", lambda a: jnp.linalg.slogdet(a)[1], general(2, 3, 3), ("matrix.lu",)),
    Row("batched_cholesky", jnp.linalg.cholesky, spd(2, 3, 3), ("matrix.cholesky",)),
    Row("batched_eigh", eigh_vectors, symmetric_spectrum(2, 3, 3), ("matrix.eigh",)),
    Row("batched_svd", svd_vectors, singular_spectrum(2, 3, 3), ("matrix.svd",)),
    Row("batched_qr", qr_factors, general(2, 3, 3), ("matrix.qr",)),
    Row("batched_lu", lambda a: lax.linalg.lu(a)[0], general(2, 3, 3), ("matrix.lu",)),
    Row("batched_triangular_solve", lambda a, b: lax.linalg.triangular_solve(a, b, left_side=True, lower=True), args(general(2, 3, 3), vector(2, 3, 2)), ("matrix.triangular_solve",)),
    Row("batched_tridiagonal_solve", lax.linalg.tridiagonal_solve, args(vector(2, 3), lambda rng: rng.standard_normal((2, 3)) + 6.0, vector(2, 3), vector(2, 3, 2)), ("matrix.tridiagonal_solve",)),
]

IDS = [r.name for r in ROWS]


# ============================================================================ helpers


def leaves(tree: Any) -> list[np.ndarray]:
    return [np.asarray(x, np.float64) for x in jax.tree_util.tree_leaves(tree)]


def close(got: Any, want: Any, tol: float, what: str) -> None:
    g, w = leaves(got), leaves(want)
    assert len(g) == len(w), f"{what}: {len(g)} leaves, expected {len(w)}"
    for i, (a, b) in enumerate(zip(g, w)):
        assert a.shape == b.shape, f"{what} leaf {i}: shape {a.shape} != {b.shape}"
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(scale, 1.0), err_msg=f"{what} leaf {i}")


@functools.cache
def reference(f: Callable) -> Callable:
    """jax's own evaluation of ``f``, compiled once per function (eager evaluation would
    compile every primitive separately)."""
    return jax.jit(f)


def weights_like(row: Row, out: Any) -> list[np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(row.name.encode()) + 1)
    return [rng.standard_normal(np.shape(x)) for x in jax.tree_util.tree_leaves(out)]


def loss_of(f: Callable, weights: list[np.ndarray]) -> Callable:
    def loss(*xs):
        return sum(jnp.sum(w * o) for w, o in zip(weights, jax.tree_util.tree_leaves(f(*xs))))

    return loss


def directions(row: Row, xs: list, salt: int) -> list[np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(row.name.encode()) + salt)
    return [rng.standard_normal(np.shape(x)) for x in xs]


def inner(a: Any, b: Any) -> float:
    return float(sum(np.vdot(x, y) for x, y in zip(leaves(a), leaves(b))))


# ============================================================================ the table's tests


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_lowered_ir_has_matrix_ops_and_no_lapack(row: Row) -> None:
    text = zymase.lower(row.f, *row.args()).as_text()
    assert "lapack" not in text
    for op in row.ops:
        assert f'"{op}"' in text, f"{op} not in the lowered IR"


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_jit_matches_jax(row: Row) -> None:
    xs = row.args()
    close(zymase.jit(row.f)(*xs), reference(row.f)(*xs), row.tol, "zymase.jit")


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_grad_matches_jax(row: Row) -> None:
    xs = row.args()
    loss = loss_of(row.f, weights_like(row, reference(row.f)(*xs)))
    nums = tuple(range(len(xs)))
    close(zymase.grad(loss, argnums=nums)(*xs), jax.jit(jax.grad(loss, argnums=nums))(*xs), row.tol, "zymase.grad")


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_jvp_matches_jax_and_reverse_dot_product(row: Row) -> None:
    """zymase.jvp matches jax.jvp, and <J v, w> = <v, J^T w> with zymase's forward and
    reverse modes (one test, so the forward derivative is compiled once)."""
    xs = row.args()
    vs = directions(row, xs, 2)
    got_out, got_t = zymase.jvp(row.f, xs, vs)
    want_out, want_t = jax.jit(lambda xs, vs: jax.jvp(row.f, xs, vs))(xs, vs)
    close(got_out, want_out, row.tol, "jvp primal")
    close(got_t, want_t, row.tol, "jvp tangent")

    vs = directions(row, xs, 3)
    out, jv = zymase.jvp(row.f, xs, vs)
    ws = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(out), weights_like(row, out))
    _, pullback = zymase.vjp(row.f, *xs)
    jtw = pullback(ws)
    lhs, rhs = inner(jv, ws), inner(vs, jtw)
    assert abs(lhs - rhs) <= row.tol * max(1.0, abs(lhs)), f"<Jv, w> = {lhs} but <v, J^T w> = {rhs}"


# ============================================================================ every triangular_solve flag


FLAGS = [(left, lower, trans, unit) for left in (True, False) for lower in (True, False) for trans in (False, True) for unit in ((left and lower) or (not left and not lower),)]


@pytest.mark.parametrize("left, lower, trans, unit", FLAGS)
def test_triangular_solve_flags(left: bool, lower: bool, trans: bool, unit: bool) -> None:
    rng = np.random.default_rng(7)
    a = rng.standard_normal((4, 4)) + 5 * np.eye(4)
    b = rng.standard_normal((4, 3) if left else (3, 4))

    def f(a, b):
        return lax.linalg.triangular_solve(a, b, left_side=left, lower=lower, transpose_a=trans, conjugate_a=True, unit_diagonal=unit)

    w = rng.standard_normal(b.shape)
    loss = lambda a, b: jnp.sum(w * f(a, b))
    close(zymase.grad(loss, argnums=(0, 1))(a, b), jax.jit(jax.grad(loss, argnums=(0, 1)))(a, b), TOL, "grad")
    va, vb = rng.standard_normal(a.shape), rng.standard_normal(b.shape)
    close(zymase.jvp(f, (a, b), (va, vb))[1], jax.jit(lambda a, b, va, vb: jax.jvp(f, (a, b), (va, vb))[1])(a, b, va, vb), TOL, "jvp")


# ============================================================================ how reverse mode is made


def test_reverse_mode_transposes_the_forward_rule() -> None:
    """The reverse rule of cholesky (and lu, eigh, svd, qr) is the forward rule outlined
    into @matrix_jvp_<op> and reversed in its tangents; triangular_solve's is hand-written."""
    from zymase.ad.enzyme_pass import differentiate_module
    from zymase.ir import print_module
    from zymase.loader import parse_located

    def generated(program) -> str:
        """The enzyme pass alone on the optimized module (the pipeline inlines what it generates)."""
        module = parse_located(program.as_text("optimized-before-ad").split("\n", 1)[1])
        differentiate_module(module)
        return print_module(module)

    a = spd(4, 4)(np.random.default_rng(0))
    text = generated(zymase.grad(lambda a: jnp.sum(jnp.linalg.cholesky(a) ** 2)).lower(a))
    assert 'sym_name = "matrix_jvp_cholesky"' in text and "@diffematrix_jvp_cholesky" in text
    text = generated(zymase.grad(lambda a, b: jnp.sum(jsl.solve_triangular(a, b, lower=True) ** 2), argnums=(0, 1)).lower(a, a[0]))
    assert "matrix_jvp" not in text


# ============================================================================ second derivatives


SECOND_ORDER = [
    ("slogdet", lambda a: jnp.linalg.slogdet(a)[1], general(3, 3)),
    ("solve", lambda a: jnp.sum(jnp.linalg.solve(a, jnp.arange(1.0, 4.0)) ** 2), general(3, 3)),
    ("inv", lambda a: jnp.sum(jnp.sin(jnp.linalg.inv(a))), general(3, 3)),
    ("cholesky", lambda a: jnp.sum(jnp.linalg.cholesky(a) ** 3), spd(3, 3)),
    ("eigh", lambda a: jnp.sum(eigh_vectors(a)[0] ** 2) + jnp.sum(jnp.linalg.eigvalsh(a) ** 3), symmetric_spectrum(3, 3)),
    ("svd", lambda a: jnp.sum(jnp.linalg.svd(a, compute_uv=False) ** 3), singular_spectrum(3, 3)),
    ("qr", lambda a: jnp.sum(jnp.linalg.qr(a)[1] ** 3), general(3, 3)),
    ("lu_solve", lambda a: jnp.sum(jsl.lu_solve(jsl.lu_factor(a), jnp.ones(3)) ** 2), general(3, 3)),
    ("tridiagonal_solve", lambda a: jnp.sum(lax.linalg.tridiagonal_solve(a[0], a[1] + 6, a[2], a[:, :2]) ** 2), general(3, 3)),
]


@pytest.mark.parametrize("name, f, make", SECOND_ORDER, ids=[r[0] for r in SECOND_ORDER])
def test_hessian_vector_product(name: str, f: Callable, make: Callable) -> None:
    """Forward over reverse: the derivative code (new matrix ops, and for solve and inv
    the transposed matrix.custom_linear_solve) differentiates again."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    a, v = make(rng), rng.standard_normal((3, 3))
    close(zymase.jvp(zymase.grad(f), (a,), (v,))[1], jax.jit(lambda a, v: jax.jvp(jax.grad(f), (a,), (v,))[1])(a, v), TOL, "hvp")


def test_jax_differentiates_the_emitted_solve_twice() -> None:
    """zymase.jit emits lax.custom_linear_solve again, so jax's Hessian of the emitted
    program keeps the matrix's implicit derivative."""
    a = general(3, 3)(np.random.default_rng(1))
    f = lambda a: jnp.linalg.slogdet(a)[1] + jnp.sum(jnp.linalg.solve(a, jnp.ones(3)) ** 2)
    want = jax.jit(jax.hessian(f))(a)  # compiled once, for both comparisons
    close(jax.hessian(zymase.jit(f))(a), want, TOL, "jax.hessian of zymase.jit")
    close(zymase.hessian(f)(a), want, TOL, "zymase.hessian")


def test_forward_mode_width_two() -> None:
    rng = np.random.default_rng(2)
    a, v = general(3, 3)(rng), rng.standard_normal((2, 3, 3))
    f = lambda a: jnp.linalg.eigvalsh(a + a.T) + jnp.linalg.det(a) + jnp.linalg.cholesky(a @ a.T)[:, 0]
    got = zymase.fwddiff(f, ["enzyme_dup"], ["enzyme_dupnoneed"], width=2)(a, v)[0]
    jvp = jax.jit(lambda a, t: jax.jvp(f, (a,), (t,))[1])  # compiled once
    want = np.stack([jvp(a, v[k]) for k in range(2)])
    close(got, want, TOL, "width-2 tangents")


def test_pivoted_qr_of_a_wide_matrix_matches_finite_differences() -> None:
    """A P = Q R with m < n: R's trailing block is Q^T (A P)[:, m:]; zymase uses the
    permuted columns (jax 0.10.2's rule reads the unpermuted ones and disagrees with
    finite differences here, so the reference is a central difference)."""
    rng = np.random.default_rng(1)
    a, v = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    f = lambda a: jnp.sum(jnp.sin(jsl.qr(a, pivoting=True, mode="economic")[0])) + jnp.sum(jsl.qr(a, pivoting=True, mode="economic")[1] ** 2)
    h = 1e-6
    fd = (f(a + h * v) - f(a - h * v)) / (2 * h)
    got = zymase.jvp(f, (a,), (v,))[1]
    # central difference: error O(h^2) plus rounding O(eps / h)
    np.testing.assert_allclose(float(got), float(fd), rtol=1e-7)


# ============================================================================ refusals


REFUSED = [
    ("svd_full_matrices_tall", lambda a: jnp.sum(jnp.linalg.svd(a, full_matrices=True)[0]), general(5, 3), r"'matrix\.svd' .*full_matrices=False"),
    ("qr_complete_tall", lambda a: jnp.sum(jnp.linalg.qr(a, mode="complete")[0]), general(5, 3), r"'matrix\.qr' .*mode='reduced'"),
    ("eigh_subset", lambda a: jnp.sum(lax.linalg.eigh(a, subset_by_index=(0, 2))[1]), symmetric_spectrum(4, 4), r"'matrix\.eigh' at .*test_linalg\.py:\d+:\d+: .*partial"),
    ("complex_cholesky", lambda a: jnp.sum(jnp.abs(jnp.linalg.cholesky(a.astype(jnp.complex128)))), spd(3, 3), r"'matrix\.cholesky' .*real matrices only"),
    ("eig_vectors", lambda a: jnp.sum(jnp.abs(jnp.linalg.eig(a)[1])), general(3, 3), r"primitive 'eig' .*jax cannot differentiate it either.*enable_eigvec_derivs"),
    ("schur", lambda a: jnp.sum(jsl.schur(a)[0]), general(3, 3), r"primitive 'schur' @\S+ \(called at .*test_linalg\.py:\d+:\d+\) failed \(jax cannot differentiate it either\)"),
    (
        "custom_linear_solve_without_transpose",
        lambda a: jnp.sum(lax.custom_linear_solve(lambda x: a @ x, jnp.ones(3), lambda mv, b: jnp.linalg.solve(a, b))),
        general(3, 3),
        r"'matrix\.custom_linear_solve' at .*test_linalg\.py:\d+:\d+: .*transpose_solve",
    ),
]


@pytest.mark.parametrize("name, f, make, match", REFUSED, ids=[r[0] for r in REFUSED])
def test_unsupported_derivatives_raise(name: str, f: Callable, make: Callable, match: str) -> None:
    with pytest.raises(DiffError, match=match):
        zymase.grad(f)(make(np.random.default_rng(0)))


def test_eigenvalues_of_a_general_matrix() -> None:
    """jnp.linalg.eigvals is differentiated with jax's rule (tests/test_eig.py has more)."""
    a = general(3, 3)(np.random.default_rng(0))
    f = lambda a: jnp.sum(jnp.abs(jnp.linalg.eigvals(a)))
    close(zymase.grad(f)(a), jax.jit(jax.grad(f))(a), TOL, "grad")


def test_custom_linear_solve_without_transpose_has_forward_mode() -> None:
    a = general(3, 3)(np.random.default_rng(0))
    v = np.random.default_rng(1).standard_normal((3, 3))
    f = lambda a: lax.custom_linear_solve(lambda x: a @ x, jnp.ones(3), lambda mv, b: jnp.linalg.solve(a, b))
    close(zymase.jvp(f, (a,), (v,))[1], jax.jit(lambda a, v: jax.jvp(f, (a,), (v,))[1])(a, v), TOL, "jvp")


# ============================================================================ the dialect


def test_text_round_trip_and_verify() -> None:
    a = general(4, 4)(np.random.default_rng(0))

    def f(a):
        return (
            jnp.linalg.solve(a, jnp.ones(4)),
            jnp.linalg.svd(a),
            jnp.linalg.eigh(a),
            jsl.qr(a, pivoting=True),
            lax.linalg.tridiagonal_solve(a[0], a[1], a[2], a[:, :1]),
            jsl.lu_factor(a),
        )

    program = zymase.lower(f, a)
    text = program.as_text()
    module = parse_module(text)
    module.verify()
    assert print_module(module) == text
    assert program.as_text(generic=False)


def test_verifier_names_the_op() -> None:
    from xdsl.dialects.builtin import TensorType, f64
    from xdsl.ir import Block
    from xdsl.utils.exceptions import VerifyException

    from zymase.ir.linalg import CholeskyOp, LuOp

    block = Block(arg_types=[TensorType(f64, [3, 4])])
    with pytest.raises(VerifyException, match=r"'matrix\.cholesky' op: a must be square"):
        CholeskyOp.create(operands=[block.args[0]], result_types=[TensorType(f64, [3, 4])]).verify()
    from xdsl.dialects.builtin import i32

    bad = LuOp.create(operands=[block.args[0]], result_types=[TensorType(f64, [3, 4]), TensorType(i32, [4]), TensorType(i32, [3])])
    with pytest.raises(VerifyException, match=r"'matrix\.lu' op: pivots has shape \(4,\), expected \(3,\)"):
        bad.verify()
