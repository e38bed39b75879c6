"""Reverse mode by checkpointing (ad/rules/checkpoint.py): loops whose trip count is
known only at run time, and the binomial / periodic schedules of counted loops, which
must give the full tape's gradient."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import zymase
from zymase.ad.rules import checkpoint

pytestmark = pytest.mark.usefixtures("x64")


def _leapfrog(n):
    def f(x, k):
        def body(i, c):
            q, p = c
            p = p - 0.05 * (q + 0.3 * q**3 + k * jnp.roll(q, 1))
            q = q + 0.1 * p
            return q, p

        q, p = lax.fori_loop(0, n, body, (x, jnp.cos(x)))
        return jnp.sum(q**2) + jnp.sum(jnp.sin(p))

    return f


# ---------------------------------------------------------------- run-time trip counts


def _geometric(x, n):
    """n (an argument) iterations of a nonlinear map: the trip count is data."""

    def cond(c):
        return c[0] < n

    def body(c):
        i, v = c
        return i + 1, jnp.sin(v) * 1.1 + 0.05 * v**2

    return jnp.sum(lax.while_loop(cond, body, (0, x))[1] ** 2)


@pytest.mark.parametrize("n", [0, 1, 2, 45])
def test_runtime_trip_count_matches_jacfwd(n):
    x = jnp.array([0.3, -0.7, 1.1])
    g = zymase.grad(_geometric)(x, jnp.int32(n))
    ref = jax.jit(jax.jacfwd(_geometric))(x, jnp.int32(n))
    np.testing.assert_allclose(g, ref, rtol=1e-10, atol=1e-14)


def test_runtime_trip_count_beyond_the_levels(monkeypatch):
    """With 2 slots and 2 levels (4 steps of capacity) 11 steps need the innermost
    segments' quadratic recomputation."""
    monkeypatch.setattr(checkpoint, "SLOTS", 2)
    monkeypatch.setattr(checkpoint, "LEVELS", 2)

    def f(x, n):
        return _geometric(x, n)

    x = jnp.array([0.2, 0.4])
    for n in (3, 11):
        np.testing.assert_allclose(zymase.grad(f)(x, jnp.int32(n)), jax.jit(jax.jacfwd(f))(x, jnp.int32(n)), rtol=1e-10)


def _newton_sqrt(a):
    """sqrt(a) by Newton's iteration until |y^2 - a| < 1e-12: the trip count depends on a."""

    def cond(y):
        return jnp.abs(y * y - a) > 1e-12

    def body(y):
        return 0.5 * (y + a / y)

    return lax.while_loop(cond, body, a)


def test_newton_with_a_tolerance():
    a = jnp.float64(7.3)
    g = zymase.grad(_newton_sqrt)(a)
    np.testing.assert_allclose(g, jax.jit(jax.jacfwd(_newton_sqrt))(a), rtol=1e-10)
    # the converged iteration's derivative is that of sqrt (up to the last step's error)
    np.testing.assert_allclose(g, 0.5 / np.sqrt(7.3), rtol=1e-6)


@pytest.mark.parametrize("outer_schedule", [None, "binomial"])
def test_data_dependent_loop_nested_in_fori_loop(outer_schedule):
    """A while loop running until the state's norm passes a threshold, inside a counted
    loop: the outer loop's reverse (full tape, or binomial) recomputes the inner loop's
    checkpoints per iteration."""

    def f(x):
        def outer(i, v):
            def cond(c):
                return jnp.sum(c[1] ** 2) < 4.0 + i

            def body(c):
                return c[0] + 1, c[1] * 1.2 + 0.1 * jnp.sin(c[1])

            _, w = lax.while_loop(cond, body, (0, v))
            return jnp.tanh(w) * 0.9

        return jnp.sum(jnp.cos(lax.fori_loop(0, 3, outer, x)))

    x = jnp.array([0.5, -0.2, 0.3])
    np.testing.assert_allclose(zymase.grad(f, loop_checkpoint=outer_schedule)(x), jax.jit(jax.jacfwd(f))(x), rtol=1e-10)


def test_hessian_of_checkpointed_loops():
    """Forward mode over the checkpointed reverse: a run-time trip count, and binomial."""
    x = jnp.array([0.3, -0.7, 1.1])

    def g(x):
        return _geometric(x, jnp.int32(9))

    np.testing.assert_allclose(zymase.hessian(g)(x), jax.jit(jax.jacfwd(jax.jacfwd(g)))(x), rtol=1e-10, atol=1e-13)
    f, k = _leapfrog(7), jnp.float64(0.1)
    np.testing.assert_allclose(zymase.hessian(f, loop_checkpoint="binomial")(x, k), jax.jit(jax.hessian(f))(x, k), rtol=1e-10, atol=1e-13)


# ---------------------------------------------------------------- counted loops, schedules


@pytest.mark.parametrize("schedule", ["binomial", "binomial:2", "periodic", "periodic:4"])
def test_schedules_equal_the_full_tape(schedule):
    n = 23
    f = _leapfrog(n)
    x, k = jnp.linspace(0.1, 0.9, 4), jnp.float64(0.2)
    full = zymase.grad(f, argnums=(0, 1))(x, k)
    g = zymase.grad(f, argnums=(0, 1), loop_checkpoint=schedule)
    ours = g(x, k)
    for a, b in zip(ours, full):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    # the checkpointed program keeps no tensor<23 x ...> tape
    text = g.lower(x, k).as_text(stage="final")
    assert "tensor<23x" not in text
    assert "tensor<23x" in zymase.grad(f).lower(x, k).as_text(stage="final")


def test_value_and_grad_vjp_jacrev_take_the_option():
    f = _leapfrog(9)
    x, k = jnp.linspace(0.1, 0.9, 3), jnp.float64(0.1)
    ref_v, ref_g = jax.value_and_grad(f)(x, k)
    v, g = zymase.value_and_grad(f, loop_checkpoint="binomial")(x, k)
    np.testing.assert_allclose(v, ref_v, rtol=1e-12)
    np.testing.assert_allclose(g, ref_g, rtol=1e-10)
    _, pull = zymase.vjp(f, x, k, loop_checkpoint="periodic:3")
    np.testing.assert_allclose(pull(jnp.float64(2.0))[0], 2 * ref_g, rtol=1e-10)
    np.testing.assert_allclose(zymase.jacrev(f, loop_checkpoint="binomial:3")(x, k), ref_g, rtol=1e-10)


def test_bad_schedule_is_refused():
    with pytest.raises(ValueError, match="loop checkpoint schedule 'revolve'"):
        zymase.grad(_leapfrog(3), loop_checkpoint="revolve")


@pytest.mark.parametrize("n,slots", [(1, 1), (2, 2), (7, 1), (10, 3), (100, 10), (1000, 5)])
def test_binomial_table_reverses_each_step_once(n, slots):
    table = checkpoint.binomial_schedule(n, slots)
    assert table.dtype == np.int32 and table.shape[1] == 4
    assert int(table[:, 2].max()) < slots and int(table[:, 0].max()) < slots
    done, advanced = checkpoint.simulate_schedule(table, n, slots)
    assert done == list(range(n - 1, -1, -1))
    # each step advanced at most t times, t the least with beta(slots - 1, t) >= n
    t = 0
    while checkpoint.beta(slots - 1, t) < n:
        t += 1
    assert advanced <= t * n
