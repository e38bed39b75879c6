"""Programs written the way users write them, differentiated by zymase and by jax.

Each program is compared in float64 at relative tolerance 1e-10: ``zymase.grad`` against
``jax.grad`` and ``zymase.jvp`` against ``jax.jvp`` (both references from one
``jax.jit``), some also through ``zymase.hessian``. Many inputs sit on purpose where
jax's derivative follows a convention rather than a limit: ``jnp.clip`` at its bounds
(maximum / minimum give half the derivative to each tied operand), ``lax.clamp`` at its
bounds (none), ``abs`` at 0, maxima of tied elements (shared evenly by one reduction,
halved by each maximum of a chain), running maxima (``lax.cummax``, differentiated as a
prefix scan). zymase's rewrite rules keep the values of a program; these programs pin
that they keep its derivatives too, there.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import zymase

pytestmark = pytest.mark.usefixtures("x64")

RTOL = 1e-10


def assert_close(got, want, what: str) -> None:
    got_leaves, got_tree = jax.tree_util.tree_flatten(got)
    want_leaves, want_tree = jax.tree_util.tree_flatten(want)
    assert got_tree == want_tree, f"{what}: {got_tree} != {want_tree}"
    for g, w in zip(got_leaves, want_leaves):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, f"{what}: {g.shape} {g.dtype} != {w.shape} {w.dtype}"
        scale = max(1.0, float(np.max(np.abs(w)))) if w.size else 1.0
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def _tangents(args, argnums, seed=1):
    rs = np.random.RandomState(seed)

    def tangent(x, active):
        x = np.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.inexact):
            return np.zeros(x.shape, jax.dtypes.float0)
        return np.asarray(rs.randn(*x.shape), x.dtype) if active else np.zeros_like(x)

    return tuple(jax.tree_util.tree_map(lambda x, i=i: tangent(x, i in argnums), a) for i, a in enumerate(args))


def check(f, args, argnums=(0,), hessian=False):
    """zymase's grad and jvp (and hessian) of ``f`` at ``args`` against jax's."""
    tangents = _tangents(args, argnums)

    @jax.jit
    def reference(*args):
        g = jax.grad(f, argnums=argnums)(*args)
        y, t = jax.jvp(f, args, tangents)
        h = jax.hessian(f, argnums=argnums[0])(*args) if hessian else None
        return g, y, t, h

    g, y, t, h = reference(*args)
    assert_close(zymase.grad(f, argnums=argnums)(*args), g, "grad")
    zy, zt = zymase.jvp(f, args, tangents)
    assert_close((zy, zt), (y, t), "jvp")
    if hessian:
        assert_close(zymase.hessian(f, argnums=argnums[0])(*args), h, "hessian")


# Inputs on the bounds (-1, 1), at 0 and -0, and off them.
BOUNDS = np.array([-1.0, 1.0, 0.0, 2.0, 0.5, -0.0, 3.0, -3.0])


# ============================================================================ ties and bounds


def clip_family(x):
    """Clipping as libraries spell it, weighted apart so that no term hides another."""
    t = jnp.clip(x, -1.0, 1.0) * x  # min(max(x, -1), 1): 1/2 at a bound
    t += 2.0 * jnp.clip(jnp.clip(x, -1.0, 2.0), 0.0, 1.0)
    t += 3.0 * jax.nn.hard_tanh(x) * x  # nested where: all or nothing at a bound
    t += 5.0 * jnp.where(x > 1.0, x, 1.0) * x
    t += 7.0 * jnp.minimum(jnp.maximum(x, 1.0), 1.0) * x  # 1/4 at x = 1
    t += 11.0 * jax.nn.relu6(3.0 * x)
    return jnp.sum(t)


def test_clip_and_hard_tanh_at_bounds():
    check(clip_family, (BOUNDS,), hessian=True)


def max_min_identities(x, y):
    t = jnp.maximum(x, -x)  # at 0: 0, not abs's 1
    t += 2.0 * jnp.maximum(jnp.abs(x), 0.0)  # at 0: 1/2 of abs's 1
    t += 3.0 * jnp.maximum(jnp.maximum(x, 0.5), 0.5) * x  # 1/4 at x = 0.5
    t += 5.0 * jnp.minimum(jnp.minimum(x, 1.0), 1.0) * x
    t += 7.0 * jnp.maximum(jnp.maximum(x, y), y)  # 1/4, 3/4 at x = y
    t += 11.0 * jnp.minimum(y, jnp.minimum(x, y))
    t += 13.0 * lax.clamp(-jnp.inf, x, 1.0) * x  # clamp: nothing at a bound
    t += 17.0 * lax.clamp(-1.0, x, jnp.inf) * x
    t += 19.0 * jnp.maximum(jnp.maximum(x, 1.0), x)
    t += 23.0 * jnp.abs(-x)  # at 0: -1, jax's abs passing +1 at -0.0
    return jnp.sum(t)


def test_max_min_identities_at_ties():
    y = np.where(np.arange(BOUNDS.size) % 2 == 0, BOUNDS, 0.25)
    check(max_min_identities, (BOUNDS, y), argnums=(0, 1))


def tied_reductions(x):
    t = jnp.max(jnp.max(x, axis=1))  # reduce of reduce
    t += 2.0 * jnp.min(jnp.concatenate([x[0], x[1] * 1.0]))
    t += 3.0 * jnp.max(jnp.clip(x, -1.0, 1.0))
    t += 5.0 * jnp.max(jnp.maximum(x, 1.0))
    t += 7.0 * jnp.sum(jnp.maximum(jnp.maximum(x[:, 0:1], x[:, 2:3]), jnp.maximum(x[:, 3:4], x[:, 1:2])))
    t += 11.0 * jnp.sum(jnp.minimum(jnp.minimum(jnp.minimum(x[:, 0:1], x[:, 1:2]), x[:, 2:3]), x[:, 3:4]))
    t += 13.0 * jnp.max((x[0] + jnp.array([0.0, 1e-12, 0.0, 0.0])).astype(jnp.float32)).astype(x.dtype)  # ties made by rounding
    return t


def test_maxima_of_tied_elements():
    x = np.array([[1.0, 1.0, 1.0, 0.0], [1.0, 0.5, -2.0, 1.0], [-2.0, 0.5, -2.0, 3.0]])
    check(tied_reductions, (x,))


def test_maxima_of_elements_rounding_makes_equal():
    """x + 1e20, x * 1e-300 * 1e-20: distinct elements round to one value, and jax shares
    the maximum's derivative over the tie; rewriting max(x + c) as max(x) + c (equal
    values) would give it all to x's own maximum."""
    x = np.array([[1.0, 2.0, 0.5], [3.0, -1.0, 3.5]])
    check(lambda x: jnp.sum(jnp.max(x + 1e20, axis=1)) + 2.0 * jnp.sum(jnp.min(1e20 - x, axis=0)), (x,))
    check(lambda x: jnp.sum(jnp.max(x * 1e-300 * 1e-20, axis=1)), (x,))


def running_maxima(x):
    def step(i, m):
        return jnp.maximum(m, x[:, i])

    t = jnp.sum(lax.fori_loop(0, x.shape[1], step, jnp.full(x.shape[0], -jnp.inf)))
    t += 2.0 * jnp.sum(lax.scan(lambda m, r: (jnp.minimum(m, r), None), jnp.full(x.shape[0], jnp.inf), x.T)[0])
    t += jnp.sum(lax.cummax(x.reshape(-1)) * jnp.arange(x.size))
    t += jnp.sum(lax.cummin(x, axis=1, reverse=True) * jnp.arange(x.size).reshape(x.shape))
    return t


def test_running_maxima_with_ties():
    x = np.array([[1.0, 1.0, 1.0, 0.0, 2.0], [1.0, 0.5, -2.0, 1.0, -2.0]])
    check(running_maxima, (x,), hessian=True)


def test_jax_differentiates_zymase_jit_at_bounds():
    f = lambda v: jnp.sum(jnp.clip(v, -1.0, 1.0) * v) + jnp.max(jnp.max(v.reshape(2, 4), axis=1))
    x = np.array([1.0, -1.0, 0.2, 1.0, 1.0, 0.0, -3.0, 2.0])
    want = jax.jit(lambda v: (jax.grad(f)(v), jax.hessian(f)(v)))(x)
    assert_close((jax.grad(zymase.jit(f))(x), jax.hessian(zymase.jit(f))(x)), want, "jax over zymase.jit")
    assert_close(jax.jit(zymase.grad(f))(x), want[0], "jax.jit(zymase.grad)")
    xs = np.stack([x, -x, 2 * x])
    assert_close(jax.vmap(zymase.grad(f))(xs), jax.vmap(jax.grad(f))(xs), "jax.vmap(zymase.grad)")


# ============================================================================ science and ML programs


def attention_and_norms(q, k, v, gamma):
    s = q @ k.T / jnp.sqrt(q.shape[-1])
    mask = jnp.tril(jnp.ones((q.shape[0], k.shape[0]), bool))
    p = jax.nn.softmax(jnp.where(mask, s, -jnp.inf), axis=-1)
    o = p @ v
    mu, var = o.mean(-1, keepdims=True), o.var(-1, keepdims=True)
    ln = (o - mu) / jnp.sqrt(var + 1e-5) * gamma
    rms = o * lax.rsqrt(jnp.mean(o * o, axis=-1, keepdims=True) + 1e-6)
    lse = jax.nn.logsumexp(s, axis=1, where=mask)
    return jnp.sum(jnp.sin(ln)) + jnp.sum(rms**2 * gamma) + jnp.sum(lse)


def test_masked_attention_layer_norm_rms_norm():
    rs = np.random.RandomState(0)
    check(attention_and_norms, (rs.randn(4, 3), rs.randn(4, 3), rs.randn(4, 3), rs.randn(3)), argnums=(0, 1, 2, 3))


def gru_with_where(params, xs, h0):
    wz, wh = params

    def step(h, x):
        hx = jnp.concatenate([h, x])
        z = jax.nn.sigmoid(wz @ hx)
        hn = (1 - z) * h + z * jnp.tanh(wh @ hx)
        hn = jnp.where(jnp.abs(hn) > 0.5, hn, 0.5 * hn)
        return hn, jnp.sum(hn)

    h, ys = lax.scan(step, h0, xs)
    return jnp.sum(h**2) + jnp.sum(ys**2)


def test_gru_scan_with_where():
    rs = np.random.RandomState(1)
    check(gru_with_where, ((rs.randn(3, 5), rs.randn(3, 5)), rs.randn(6, 2), rs.randn(3)), argnums=(0, 1, 2))


def pairwise_energy(x, q):
    n = x.shape[0]
    eye = jnp.eye(n, dtype=bool)
    d = x[:, None, :] - x[None, :, :]
    r = jnp.sqrt(jnp.where(eye, 1.0, jnp.sum(d * d, -1)))  # safe sqrt on the diagonal
    lj = jnp.where(eye, 0.0, 4 * (r**-12 - r**-6))
    coulomb = jnp.triu(q[:, None] * q[None, :] / jnp.linalg.norm(d + eye[..., None], axis=-1), 1)
    return 0.5 * jnp.sum(lj) + jnp.sum(coulomb)


def test_pairwise_energy_hessian():
    x = np.array([[0.0, 0.0, 0.0], [1.1, 0.0, 0.0], [0.0, 1.2, 0.1], [0.9, 1.0, 0.5]])
    check(pairwise_energy, (x, np.array([1.0, -0.5, 0.3, 0.2])), argnums=(0, 1), hessian=True)


def gp_log_likelihood(theta, x, y):
    ls, sf, sn = jnp.exp(theta)
    d2 = jnp.sum((x[:, None] - x[None]) ** 2, -1)
    k = sf * jnp.exp(-0.5 * d2 / ls**2) + (sn + 1e-3) * jnp.eye(x.shape[0])
    chol = jnp.linalg.cholesky(k)
    alpha = jax.scipy.linalg.cho_solve((chol, True), y)
    _, logdet = jnp.linalg.slogdet(k)
    return -0.5 * y @ alpha - jnp.sum(jnp.log(jnp.diag(chol))) - 0.25 * logdet


def test_gaussian_process_log_likelihood():
    rs = np.random.RandomState(2)
    check(gp_log_likelihood, (np.array([0.1, -0.2, -1.0]), rs.randn(5, 2), rs.randn(5)))


@jax.custom_jvp
def _softplus(x):
    return jnp.logaddexp(x, 0.0)


@_softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return _softplus(x), jax.nn.sigmoid(x) * dx


def robust_regression(w, x, y):
    r = _softplus(x @ w) - y
    huber = jnp.where(jnp.abs(r) <= 1.0, 0.5 * r**2, jnp.abs(r) - 0.5)
    quantile = jnp.maximum(0.3 * r, -0.7 * r)
    center = lax.stop_gradient(jnp.mean(r))
    return jnp.sum(huber) + jnp.sum(quantile) + jnp.sum((r - center) ** 2)


def test_robust_regression_custom_jvp_stop_gradient():
    rs = np.random.RandomState(3)
    check(robust_regression, (rs.randn(3), rs.randn(6, 3), rs.randn(6)), argnums=(0, 1), hessian=True)
