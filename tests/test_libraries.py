"""Programs built with JAX libraries as their documentation shows them (equinox, optax,
optimistix, lineax, diffrax; the `libs` extra), differentiated by zymase and by jax, in
float64. They lean on custom_jvp (implicit differentiation of root finds),
custom_vjp around while loops with run-time trip counts (adjoints of solvers and ODE
integrators) and stop_gradient (step-size control)."""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import optax
import optimistix as optx
import pytest

import zymase

TOL = 1e-8  # iterative solvers stop at 1e-10 relative tolerance; both sides run the same iterations


pytestmark = pytest.mark.usefixtures("x64")


def _cubic_root(solver):
    def f(a):
        sol = optx.root_find(lambda y, args: y**3 + y - args, solver, jnp.asarray(1.0), args=a, options=dict(lower=-10.0, upper=10.0), throw=False)
        return sol.value

    return f


def bisection_root(a):
    return _cubic_root(optx.Bisection(rtol=1e-12, atol=1e-12))(a)


def newton_root(a):
    return _cubic_root(optx.Newton(rtol=1e-12, atol=1e-12))(a)


def fixed_point(a):
    sol = optx.fixed_point(lambda y, args: jnp.cos(y) * args, optx.FixedPointIteration(rtol=1e-12, atol=1e-12), jnp.asarray(0.5), args=a, throw=False)
    return sol.value


def bfgs_minimum(a):
    sol = optx.minimise(lambda y, args: jnp.sum((y - args) ** 2 * jnp.arange(1.0, 4.0)) + jnp.sum(y**4), optx.BFGS(rtol=1e-12, atol=1e-12), jnp.zeros(3), args=a * jnp.ones(3), throw=False)
    return jnp.sum(sol.value)


_A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])


def cg_solve(a):
    op = lx.MatrixLinearOperator(_A + a * np.eye(3), lx.positive_semidefinite_tag)
    return jnp.sum(lx.linear_solve(op, jnp.array([1.0, 2.0, 3.0]) * a, lx.CG(rtol=1e-12, atol=1e-12)).value ** 2)


def lu_solve(a):
    op = lx.MatrixLinearOperator(_A + a * np.eye(3))
    return jnp.sum(lx.linear_solve(op, jnp.array([1.0, -2.0, 0.5]), lx.LU()).value ** 2)


def tridiagonal_solve(a):
    op = lx.TridiagonalLinearOperator(jnp.array([3.0, 4.0, 5.0]) * a, jnp.array([1.0, 0.5]), jnp.array([0.2, 0.3]))
    return jnp.sum(lx.linear_solve(op, jnp.array([1.0, 2.0, 3.0]), lx.Tridiagonal()).value ** 2)


def _ode(a, adjoint):
    term = diffrax.ODETerm(lambda t, y, args: -args * y + jnp.sin(t))
    sol = diffrax.diffeqsolve(
        term,
        diffrax.Tsit5(),
        t0=0.0,
        t1=1.0,
        dt0=0.1,
        y0=jnp.array([1.0, 2.0]),
        args=a,
        stepsize_controller=diffrax.PIDController(rtol=1e-8, atol=1e-8),
        adjoint=adjoint,
    )
    return jnp.sum(sol.ys[-1])


def ode_checkpointed(a):
    return _ode(a, diffrax.RecursiveCheckpointAdjoint())


def ode_backsolve(a):
    return _ode(a, diffrax.BacksolveAdjoint())


def equinox_mlp(a):
    model = eqx.nn.MLP(3, 2, 8, 2, key=jax.random.PRNGKey(0))
    return jnp.sum(model(jnp.array([0.1, -0.2, 0.3]) * a) ** 2)


def optax_adam(a):
    opt = optax.adam(0.1)
    params = jnp.array([1.0, -1.0]) * a
    state = opt.init(params)
    for _ in range(3):
        g = jax.grad(lambda p: jnp.sum((p - 0.5) ** 2))(params)
        updates, state = opt.update(g, state, params)
        params = optax.apply_updates(params, updates)
    return jnp.sum(params**2)


def optax_lbfgs(a):
    opt = optax.lbfgs()
    fun = lambda p: jnp.sum((p - a) ** 2 * jnp.array([1.0, 3.0])) + jnp.sum(p**4)  # noqa: E731
    params = jnp.zeros(2)
    state = opt.init(params)
    value_and_grad = optax.value_and_grad_from_state(fun)
    for _ in range(1):  # one step already has the line search's while loop and the stop_gradient of lbfgs's first step
        value, grad = value_and_grad(params, state=state)
        updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=fun)
        params = optax.apply_updates(params, updates)
    return jnp.sum(params)


PROGRAMS = {
    "optimistix_bisection": bisection_root,
    "optimistix_newton": newton_root,
    "optimistix_fixed_point": fixed_point,
    "optimistix_bfgs": bfgs_minimum,
    "lineax_cg": cg_solve,
    "lineax_lu": lu_solve,
    "lineax_tridiagonal": tridiagonal_solve,
    "diffrax_checkpointed_pid": ode_checkpointed,
    "diffrax_backsolve_pid": ode_backsolve,
    "equinox_mlp": equinox_mlp,
    "optax_adam": optax_adam,
    "optax_lbfgs": optax_lbfgs,
}

A = 1.3
FORWARD_REFERENCE = {"optimistix_bfgs"}
"""Programs whose while loops jax cannot reverse (no custom rule around them); zymase can,
so their reference derivative is jax's forward mode."""


REVERSE_REFUSED = {"optax_lbfgs"}
"""optax's zoom line search is a while loop with a run-time trip count and no custom
rule: jax refuses to reverse it; zymase reverses it by checkpointing
(ad/rules/checkpoint.py). Its cubic and quadratic interpolations take sqrt and divide in
results that jnp.where discards; reverse mode through them gives NaN (0 * inf, as any
reverse mode would: zymase's gradient of the library's program as is is NaN), so the
comparison with jax's forward mode runs with NaN-free interpolations (0 where the
interpolation is not finite, the jnp.where idiom), for both."""


def _finite_or_zero(fn, fallback):
    """``fn`` where its result is finite, else 0; the derivative of the discarded branch
    is taken at the finite ``fallback`` inputs (the NaN-safe jnp.where idiom)."""

    def safe(*args):
        ok = jnp.isfinite(fn(*args))
        shifted = fn(*[jnp.where(ok, x, jnp.asarray(v, jnp.result_type(x))) for x, v in zip(args, fallback)])
        return jnp.where(ok, shifted, 0.0)

    return safe


@pytest.mark.parametrize("name", sorted(set(PROGRAMS) - REVERSE_REFUSED))
def test_grad_matches_jax(name):
    f = PROGRAMS[name]
    want = jax.jit(jax.jacfwd(f) if name in FORWARD_REFERENCE else jax.grad(f))(A)  # one compilation, not one per primitive
    got = zymase.grad(f)(A)
    assert abs(float(want)) > 1e-6  # a meaningful gradient, not 0 == 0
    np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL)


FORWARD = ["optimistix_bisection", "optimistix_newton", "lineax_lu", "lineax_tridiagonal", "equinox_mlp", "optax_adam", "optax_lbfgs"]


@pytest.mark.parametrize("name", FORWARD)
def test_jvp_matches_jax(name):
    f = PROGRAMS[name]
    want = jax.jit(lambda a: jax.jvp(f, (a,), (1.0,)))(A)
    got = zymase.jvp(f, (A,), (1.0,))
    np.testing.assert_allclose(got[0], want[0], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(got[1], want[1], rtol=TOL, atol=TOL)


@pytest.mark.parametrize("name", sorted(REVERSE_REFUSED))
def test_grad_refused_by_jax_checkpointed_by_zymase(name, monkeypatch):
    from optax._src import linesearch

    f = PROGRAMS[name]
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work"):
        jax.jit(jax.grad(f))(A)
    monkeypatch.setattr(linesearch, "_cubicmin", _finite_or_zero(linesearch._cubicmin, [0.0, 1.0, -1.0, 1.0, 1.0, 2.0, 5.0]))
    monkeypatch.setattr(linesearch, "_quadmin", _finite_or_zero(linesearch._quadmin, [0.0, 1.0, -1.0, 1.0, 1.0]))
    jax.clear_caches()  # optax's jitted line search was traced with the originals
    try:
        want = jax.jit(jax.jacfwd(f))(A)
        got = zymase.grad(f)(A)
    finally:
        jax.clear_caches()  # ... and now with the replacements
    assert abs(float(want)) > 1e-6
    np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL)
