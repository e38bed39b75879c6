"""The nonsymmetric eigendecomposition (jax.lax.linalg.eig: jnp.linalg.eigvals, and
eigenvectors with enable_eigvec_derivs=True) differentiated by zymase with jax's rules, in
forward mode and in reverse mode (jax's transpose of its forward rule), against jax in
float64: real and imaginary parts of functions of the complex eigenvalues and
eigenvectors. jax has no derivative for schur and hessenberg: neither has zymase, and
its refusal says so."""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import zymase
from zymase.ad.engine import DiffError

TOL = 1e-10

pytestmark = pytest.mark.usefixtures("x64")


def general(*shape, seed=0):
    """A random matrix (batch) with distinct eigenvalues (checked), some complex."""
    a = np.random.RandomState(seed).randn(*shape)
    w = np.linalg.eigvals(a)
    gaps = np.abs(w[..., :, None] - w[..., None, :]) + np.eye(shape[-1])
    assert gaps.min() > 1e-2
    return a


def eigvecs(a):
    return lax.linalg.eig(a, compute_left_eigenvectors=False, enable_eigvec_derivs=True)


def eigvals_poly(a):
    w = jnp.linalg.eigvals(a)
    return jnp.sum(jnp.real(w) ** 3 - 2.0 * jnp.imag(w) ** 2 + jnp.real(w) * jnp.imag(w))


def eigvals_abs(a):
    return jnp.sum(jnp.abs(jnp.linalg.eigvals(a * 2.0 + 1.0)))


def eigvecs_parts(a):
    w, v = eigvecs(a)
    c = jnp.arange(1.0, 1.0 + a.shape[-1])
    return jnp.sum(jnp.real(v) * c) + jnp.sum(jnp.imag(v) ** 2) + jnp.sum(jnp.real(w * jnp.conj(w)))


def rayleigh_trace(a):
    """sum_j Re(v_j^H A v_j) = Re(sum_j w_j) = trace(A) for unit eigenvectors: its
    derivative is the identity, though it goes through the eigenvectors."""
    w, v = eigvecs(a)
    return jnp.sum(jnp.real(jnp.conj(v) * (a.astype(v.dtype) @ v)))


PROGRAMS = {
    "eigvals_poly": (eigvals_poly, general(4, 4)),
    "eigvals_abs": (eigvals_abs, general(3, 3, seed=1)),
    "eigvals_batched": (eigvals_poly, general(2, 3, 3, seed=2)),
    "eigvecs_parts": (eigvecs_parts, general(3, 3, seed=3)),
    "rayleigh_trace": (rayleigh_trace, general(3, 3, seed=4)),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_grad_matches_jax(name):
    f, a = PROGRAMS[name]
    want = jax.jit(jax.grad(f))(a)
    np.testing.assert_allclose(zymase.grad(f)(a), want, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_jvp_matches_jax(name):
    f, a = PROGRAMS[name]
    t = np.random.RandomState(7).randn(*a.shape)
    want = jax.jit(lambda a, t: jax.jvp(f, (a,), (t,)))(a, t)
    got = zymase.jvp(f, (a,), (t,))
    np.testing.assert_allclose(got[0], want[0], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(got[1], want[1], rtol=TOL, atol=TOL)


def test_derivative_through_the_eigenvectors_is_exact():
    a = general(3, 3, seed=4)
    t = np.random.RandomState(8).randn(3, 3)
    _, dt = zymase.jvp(rayleigh_trace, (a,), (t,))
    np.testing.assert_allclose(dt, np.trace(t), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(zymase.grad(rayleigh_trace)(a), np.eye(3), rtol=1e-9, atol=1e-9)


def test_complex_outputs_forward_mode():
    """jvp of the complex eigenvalues and eigenvectors themselves: real and imaginary parts."""
    a = general(3, 3, seed=5)
    t = np.random.RandomState(9).randn(3, 3)
    for f in (jnp.linalg.eigvals, eigvecs):
        want = jax.jvp(f, (a,), (t,))
        got = zymase.jvp(f, (a,), (t,))
        for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
            assert np.iscomplexobj(g) and np.abs(np.imag(w)).max() > 1e-3
            np.testing.assert_allclose(np.real(g), np.real(w), rtol=TOL, atol=TOL)
            np.testing.assert_allclose(np.imag(g), np.imag(w), rtol=TOL, atol=TOL)


def test_vjp_of_complex_eigenvalues():
    a = general(3, 3, seed=6)
    ct = np.array([1.0 - 2.0j, 0.5 + 0.25j, -1.0 + 1.0j])
    want = jax.vjp(jnp.linalg.eigvals, a)[1](ct)[0]
    got = zymase.vjp(jnp.linalg.eigvals, a)[1](ct)[0]
    np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL)


def test_composes_with_jit_and_vmap():
    f, a = PROGRAMS["eigvals_poly"]
    batch = np.stack([a, general(4, 4, seed=10)])
    want = jax.vmap(jax.grad(f))(batch)
    np.testing.assert_allclose(jax.jit(jax.vmap(zymase.grad(f)))(batch), want, rtol=TOL, atol=TOL)


def eigvecs_without_opt_in(a):
    return jnp.sum(jnp.real(jnp.linalg.eig(a)[1]))


def schur_sum(a):
    return jnp.sum(jax.scipy.linalg.schur(a)[0])


def hessenberg_sum(a):
    return jnp.sum(jax.scipy.linalg.hessenberg(a))


REFUSED = {
    "eig_vectors": (eigvecs_without_opt_in, "eig", "Derivatives of non-symmetric eigenvectors are only valid under assumptions"),
    "schur": (schur_sum, "schur", "Differentiation rule for 'schur' not implemented"),
    "hessenberg": (hessenberg_sum, "hessenberg", "Differentiation rule for 'hessenberg' not implemented"),
}


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_where_jax_refuses(name, mode):
    f, prim, text = REFUSED[name]
    a = general(3, 3)
    line = inspect.getsourcelines(f)[1] + 1
    with pytest.raises(NotImplementedError, match=text):
        jax.grad(f)(a) if mode == "reverse" else jax.jvp(f, (a,), (a,))
    with pytest.raises(DiffError) as err:
        zymase.grad(f)(a) if mode == "reverse" else zymase.jvp(f, (a,), (a,))
    message = str(err.value).split("\n--------------------\n")[0]
    assert "\n" not in message
    assert f"jax's {mode}-mode rule of the primitive '{prim}'" in message
    assert f"test_eig.py:{line}:" in message
    assert "(jax cannot differentiate it either)" in message and text in message
    np.testing.assert_allclose(zymase.jit(f)(a), f(a), rtol=1e-12)


def test_printed_ir_keeps_the_primitive_as_a_call():
    text = zymase.lower(eigvals_poly, general(4, 4)).as_text()
    assert "enzyme.jax_rule" in text and "primitive_eig" in text


def test_jax_differentiates_zymase_jit_of_eig():
    """The emitted program binds eig again: jax's own rules apply to it."""
    f, a = PROGRAMS["eigvals_poly"]
    np.testing.assert_allclose(jax.grad(zymase.jit(f))(a), jax.jit(jax.grad(f))(a), rtol=TOL, atol=TOL)


def test_second_order_refused_like_jax():
    """jax's eig rule computes eigenvectors without enable_eigvec_derivs: neither jax nor
    zymase differentiates it twice."""
    f, a = PROGRAMS["eigvals_abs"]
    with pytest.raises(NotImplementedError, match="Derivatives of non-symmetric eigenvectors"):
        jax.hessian(f)(a)
    with pytest.raises(DiffError, match="primitive 'eig' .*jax cannot differentiate it either.*Derivatives of non-symmetric eigenvectors"):
        zymase.hessian(f)(a)
