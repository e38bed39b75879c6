"""zymase.laplacian: the trace of the Hessian, by forward over reverse mode."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zymase


def logpsi(x, params):
    h = x
    for w, b in params:
        h = jnp.tanh(h @ w + b)
    return jnp.sum(h)


def _params(rs, d, width=8):
    sizes = [d, width, width, 1]
    return [(jnp.asarray(rs.randn(m, n) / np.sqrt(m), jnp.float32), jnp.asarray(0.1 * rs.randn(n), jnp.float32)) for m, n in zip(sizes[:-1], sizes[1:])]


def test_laplacian_matches_the_hessian_trace():
    rs = np.random.RandomState(0)
    params = _params(rs, 6)
    x = jnp.asarray(rs.randn(6), jnp.float32)
    want = jnp.trace(jax.jit(jax.hessian(logpsi))(x, params))  # compiled once
    np.testing.assert_allclose(zymase.laplacian(logpsi)(x, params), want, rtol=1e-5, atol=1e-6)


def test_laplacian_of_walkers_under_jit_and_vmap():
    rs = np.random.RandomState(1)
    params = _params(rs, 4)
    walkers = jnp.asarray(rs.randn(5, 4), jnp.float32)
    lap = jax.jit(jax.vmap(zymase.laplacian(logpsi), in_axes=(0, None)))
    want = jax.jit(jax.vmap(lambda x: jnp.trace(jax.hessian(logpsi)(x, params))))(walkers)  # compiled once
    np.testing.assert_allclose(lap(walkers, params), want, rtol=1e-5, atol=1e-6)


def test_laplacian_of_a_separable_quadratic_is_twice_the_coefficient_sum():
    a = jnp.arange(1.0, 9.0)
    f = lambda x: jnp.sum(a * x * x)
    np.testing.assert_allclose(zymase.laplacian(f)(jnp.ones(8)), 2 * float(jnp.sum(a)), rtol=1e-6)


def test_laplacian_rejects_integer_inputs():
    with pytest.raises(TypeError, match="laplacian requires real-valued inputs"):
        zymase.laplacian(lambda x: jnp.sum(x * x))(jnp.arange(3))
