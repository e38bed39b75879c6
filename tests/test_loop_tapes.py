"""What reversed loops tape: only the values the reverse loop reads that vary per
iteration; the induction variable, loop-invariant slices and rows the loop already writes
to an output buffer are not taped."""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import zymase
from zymase.ad.rules import control


def _taped(f, *args):
    control.TAPE_LOG.clear()
    g = zymase.grad(f)(*args)
    np.testing.assert_allclose(g, jax.grad(f)(*args), rtol=1e-5, atol=1e-6)
    assert len(control.TAPE_LOG) == 1
    return control.TAPE_LOG[0]


def test_scan_tapes_only_the_previous_state():
    steps, hidden = 6, 4
    rs = np.random.RandomState(0)
    w = jnp.asarray(rs.randn(hidden, hidden) / 2, jnp.float32)
    xs = jnp.asarray(rs.randn(steps, hidden), jnp.float32)

    def loss(w):
        def step(h, x):
            h = jnp.tanh(x + h @ w)
            return h, h

        _, hs = lax.scan(step, jnp.zeros(hidden, jnp.float32), xs)
        return jnp.sum(hs * hs)

    log = _taped(loss, w)
    # h at the start of each step (read by the transpose of h @ w): one f32 row per step.
    # tanh's output is read back from the scan's own output buffer; xs[i] and i are recomputed.
    assert log["residual_bytes"] == steps * hidden * 4, log


def test_vector_normalisation_tapes_scalars_only(monkeypatch):
    monkeypatch.setenv("ZYMASE_OPT", "0")  # keep the loop: the optimizer raises it to tensor ops
    n = 50

    def norm(x):
        def body(i, out):
            return out.at[i].set(x[i] / jnp.sqrt(jnp.sum(x * x)))

        return jnp.sum(lax.fori_loop(0, n, body, jnp.zeros_like(x)) ** 2 * jnp.arange(n))

    log = _taped(norm, jnp.linspace(0.1, 1.0, n))
    # no per-iteration copy of the n-element state: O(n) bytes in all, not O(n^2)
    assert log["residual_bytes"] <= 8 * n, log
    assert log["state_bytes"] >= 4 * n * n, log
