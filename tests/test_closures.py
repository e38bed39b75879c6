"""Transformations of functions that close over values traced by an enclosing JAX
transformation (the closed-over tracers are passed to the compiled program explicitly)."""

import jax
import jax.numpy as jnp
import numpy as np

import zymase


def f(x, a, n):
    return jnp.sum(jnp.sin(x * a) ** 2) + n * jnp.sum(x)


X = jnp.arange(1.0, 4.0) / 3
A = jnp.float32(1.7)


def test_grad_of_closure_under_jit():
    got = jax.jit(lambda x, a, n: zymase.grad(lambda x: f(x, a, n))(x))(X, A, 3)
    want = jax.grad(f)(X, A, 3)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_grad_of_closure_under_vmap():
    a = jnp.array([0.5, 1.0, 2.0])
    got = jax.vmap(lambda a: zymase.grad(lambda x: f(x, a, 2))(X))(a)
    want = jax.jit(jax.vmap(lambda a: jax.grad(lambda x: f(x, a, 2))(X)))(a)  # compiled once
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_jvp_vjp_and_jit_of_closures():
    def run(x, a):
        y, t = zymase.jvp(lambda x: f(x, a, 1), (x,), (jnp.ones_like(x),))
        out, pullback = zymase.vjp(lambda x: jnp.sin(x * a), x)
        (ct,) = pullback(jnp.ones_like(out))
        z = zymase.jit(lambda x: x * a)(x)
        return y, t, ct, z

    got = jax.jit(run)(X, A)
    y, t = jax.jvp(lambda x: f(x, A, 1), (X,), (jnp.ones_like(X),))
    ct = jax.vjp(lambda x: jnp.sin(x * A), X)[1](jnp.ones(3, jnp.float32))[0]
    for g, w in zip(got, (y, t, ct, X * A)):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_hessian_with_a_traced_argument():
    got = jax.jit(lambda x, a: zymase.hessian(lambda x: f(x, a, 0))(x))(X, A)
    want = jax.jit(jax.hessian(lambda x: f(x, A, 0)))(X)  # compiled once
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
