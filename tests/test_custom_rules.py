"""JAX-level derivative semantics survive zymase's lowering: lax.stop_gradient,
jax.custom_jvp and jax.custom_vjp, in both modes, in several positions (straight-line,
inside loops and branches, nested), composed with vmap / jit / hessian, against jax in
float64."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import zymase
from zymase.ad.engine import DiffError

TOL = 1e-10


pytestmark = pytest.mark.usefixtures("x64")


# ============================================================================ rules used below


@jax.custom_jvp
def sin_100(x):
    return jnp.sin(x)


@sin_100.defjvp
def _sin_100_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return sin_100(x), 100.0 * t


@jax.custom_jvp
def safe_norm(x):
    return jnp.sqrt(jnp.sum(x * x))


@safe_norm.defjvp
def _safe_norm_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    n = safe_norm(x)
    safe = jnp.where(n == 0.0, 1.0, n)
    return n, jnp.where(n == 0.0, 0.0, jnp.dot(x, t) / safe)


@jax.custom_vjp
def clip_gradient(x):
    return x


def _clip_fwd(x):
    return x, None


def _clip_bwd(_, g):
    return (jnp.clip(g, -0.1, 0.1),)


clip_gradient.defvjp(_clip_fwd, _clip_bwd)


@jax.custom_vjp
def scaled_square(x, k):
    """A custom_vjp with residuals and two inputs, one of them integer."""
    return x * x * k


def _ss_fwd(x, k):
    return x * x * k, (x, k)


def _ss_bwd(res, g):
    x, k = res
    return (3.0 * x * k * g, None)  # deliberately not the true derivative (2xk)


scaled_square.defvjp(_ss_fwd, _ss_bwd)


def make_scaled(c):
    """Closures with the same code and different captured values are different rules."""

    @jax.custom_jvp
    def f(x):
        return x * 1.0

    @f.defjvp
    def f_jvp(p, t):
        return f(p[0]), c * t[0]

    return f


scale2, scale5 = make_scaled(2.0), make_scaled(5.0)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def apply_static(n, x):
    return x**n


@apply_static.defjvp
def _apply_static_jvp(n, primals, tangents):
    (x,), (t,) = primals, tangents
    return x**n, 10.0 * n * t


def fixed_point_sqrt(a):
    """sqrt(a) by a Newton iteration with a run-time trip count, differentiated
    implicitly by a custom_vjp (as optimistix / lineax solvers are)."""

    @jax.custom_vjp
    def solve(a):
        def cond(s):
            x, x_old = s
            return jnp.abs(x - x_old) > 1e-14

        def body(s):
            x, _ = s
            return 0.5 * (x + a / x), x

        x, _ = lax.while_loop(cond, body, (a, a + 1.0))
        return x

    def fwd(a):
        x = solve(a)
        return x, x

    def bwd(x, g):
        return (g / (2.0 * x),)  # implicit function theorem on x^2 - a = 0

    solve.defvjp(fwd, bwd)
    return solve(a)


@jax.custom_jvp
def implicit_root(a):
    """The root of x^3 + x - a by bisection, with an implicit-function jvp rule (as
    optimistix's root finders)."""

    def body(_, lohi):
        lo, hi = lohi
        mid = 0.5 * (lo + hi)
        too_big = mid**3 + mid - a > 0
        return jnp.where(too_big, lo, mid), jnp.where(too_big, mid, hi)

    lo, hi = lax.fori_loop(0, 80, body, (jnp.zeros_like(a) - 10.0, jnp.zeros_like(a) + 10.0))
    return 0.5 * (lo + hi)


@implicit_root.defjvp
def _implicit_root_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    x = implicit_root(a)
    return x, t / (3.0 * x * x + 1.0)


# ============================================================================ programs

X = np.array([0.3, -1.2, 2.0, 0.7])

PROGRAMS = {
    "stop_gradient_product": lambda x: jnp.sum(lax.stop_gradient(x) * x),
    "stop_gradient_nested_expr": lambda x: jnp.sum(jnp.sin(x) * lax.stop_gradient(jnp.exp(x) * x)),
    "stop_gradient_of_output": lambda x: jnp.sum(x**2) + lax.stop_gradient(jnp.sum(x**3)),
    "stop_gradient_in_fori_loop": lambda x: jnp.sum(lax.fori_loop(0, 3, lambda i, c: c * lax.stop_gradient(c) + jnp.sin(c), x)),
    "stop_gradient_in_scan": lambda x: jnp.sum(lax.scan(lambda c, xi: (c + lax.stop_gradient(c) * xi, c * xi), 1.0, x)[1]),
    "stop_gradient_in_cond": lambda x: lax.cond(x[0] > 0, lambda v: jnp.sum(lax.stop_gradient(v) * v), lambda v: jnp.sum(v), x),
    "stop_gradient_in_while": lambda x: jnp.sum(lax.while_loop(lambda s: s[0] < 3, lambda s: (s[0] + 1, s[1] * lax.stop_gradient(s[1]) + s[1]), (0, x))[1]),
    "softmax_max_shift": lambda x: jnp.sum(jax.nn.softmax(x) * jnp.arange(4.0)),
    "logsumexp": lambda x: jax.nn.logsumexp(x * 2.0),
    "straight_through": lambda x: jnp.sum((x + lax.stop_gradient(jnp.round(x) - x)) * jnp.arange(1.0, 5.0)),
    "custom_jvp_sin": lambda x: jnp.sum(sin_100(x)),
    "custom_jvp_safe_norm_origin": lambda x: safe_norm(x * 0.0) + jnp.sum(x),
    "custom_jvp_safe_norm": lambda x: safe_norm(x),
    "custom_jvp_relu_mlp": lambda x: jnp.sum(jax.nn.relu(jnp.outer(x, x) - 0.5) @ x),
    "custom_jvp_closures": lambda x: jnp.sum(scale2(x) + scale5(x) * x),
    "custom_jvp_nondiff_argnums": lambda x: jnp.sum(apply_static(3, x)),
    "custom_jvp_in_fori_loop": lambda x: jnp.sum(lax.fori_loop(0, 3, lambda i, c: sin_100(c) * x, x)),
    "custom_jvp_in_cond": lambda x: lax.cond(x[1] > 0, lambda v: jnp.sum(v), lambda v: jnp.sum(sin_100(v)), x),
    "custom_jvp_implicit_root": lambda x: jnp.sum(implicit_root(x + 3.0)),
    "custom_vjp_clip": lambda x: jnp.sum(clip_gradient(x) * x),
    "custom_vjp_residuals_int_arg": lambda x: jnp.sum(scaled_square(x, 2)),
    "custom_vjp_in_fori_loop": lambda x: jnp.sum(lax.fori_loop(0, 3, lambda i, c: clip_gradient(c) * x, x)),
    "custom_vjp_while_trip_count": lambda x: jnp.sum(jax.vmap(fixed_point_sqrt)(x * x + 1.0)),
    "custom_vjp_and_stop_gradient": lambda x: jnp.sum(lax.stop_gradient(x) * sin_100(x) + clip_gradient(x) ** 2),
}

VJP_ONLY = {name for name in PROGRAMS if "custom_vjp" in name}
FORWARD_REFERENCE = {"stop_gradient_in_while"}
"""jax cannot reverse a while loop; zymase can (its trip count is known), so the
reference gradient is jax's forward-mode Jacobian."""


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_grad_matches_jax(name):
    f = PROGRAMS[name]
    want = jax.jit(jax.jacfwd(f) if name in FORWARD_REFERENCE else jax.grad(f))(X)  # compiled once
    got = zymase.grad(f)(X)
    np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("name", sorted(set(PROGRAMS) - VJP_ONLY))
def test_jvp_matches_jax(name):
    f = PROGRAMS[name]
    t = np.array([0.5, -0.25, 1.0, 2.0])
    want = jax.jit(lambda x, t: jax.jvp(f, (x,), (t,)))(X, t)  # compiled once
    got = zymase.jvp(f, (X,), (t,))
    np.testing.assert_allclose(got[0], want[0], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(got[1], want[1], rtol=TOL, atol=TOL)


@pytest.mark.parametrize("name", sorted(VJP_ONLY))
def test_jvp_of_custom_vjp_raises_like_jax(name):
    f = PROGRAMS[name]
    with pytest.raises(Exception, match="can't apply forward-mode autodiff"):
        jax.jvp(f, (X,), (X,))
    with pytest.raises(DiffError, match="can't apply forward-mode autodiff \\(jvp\\) to a custom_vjp function"):
        zymase.jvp(f, (X,), (X,))


def test_the_issue_examples():
    x = jnp.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(zymase.grad(lambda x: jnp.sum(lax.stop_gradient(x) * x))(x), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(zymase.grad(lambda x: jnp.sum(clip_gradient(x) * 10.0))(x), [0.1, 0.1, 0.1])
    np.testing.assert_allclose(zymase.grad(lambda x: safe_norm(x * 0.0))(x), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(zymase.grad(lambda x: jnp.sum(sin_100(x)))(x), [100.0, 100.0, 100.0])


def test_printed_ir_shows_the_rules():
    text = zymase.lower(PROGRAMS["custom_vjp_and_stop_gradient"], X).as_text()
    assert "enzyme.ignore_derivatives" in text
    assert "enzyme.custom_jvp = @" in text
    assert "enzyme.custom_vjp_fwd = @" in text and "enzyme.custom_vjp_bwd = @" in text


def test_self_calling_rule_is_emitted_once():
    """sin_100's rule calls sin_100: one rule function serves both call sites and the
    call inside the rule itself."""
    text = zymase.lower(lambda x: jnp.sum(sin_100(x) + sin_100(2.0 * x)), X).as_text()
    rules = {line.split("enzyme.custom_jvp = @")[1].split("}")[0].split(",")[0] for line in text.splitlines() if "enzyme.custom_jvp = @" in line}
    assert len(rules) == 1
    assert text.count('sym_name = "custom_jvp_rule') == 1


# ============================================================================ composition


def test_vmap_jit_of_grad():
    f = PROGRAMS["custom_vjp_and_stop_gradient"]
    xs = np.stack([X, 2.0 * X, -X])
    want = jax.jit(jax.vmap(jax.grad(f)))(xs)
    np.testing.assert_allclose(jax.vmap(zymase.grad(f))(xs), want, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(jax.jit(zymase.grad(f))(X), jax.jit(jax.grad(f))(X), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(jax.jit(jax.vmap(zymase.grad(f)))(xs), want, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("name", ["custom_jvp_sin", "custom_jvp_safe_norm", "stop_gradient_product", "custom_jvp_closures", "softmax_max_shift"])
def test_hessian(name):
    f = PROGRAMS[name]
    np.testing.assert_allclose(zymase.hessian(f)(X), jax.jit(jax.hessian(f))(X), rtol=1e-9, atol=1e-9)


def test_grad_of_grad_through_custom_jvp():
    f = lambda x: jnp.sum(sin_100(x) * x)  # noqa: E731
    want = jax.jit(jax.grad(lambda x: jnp.sum(jax.grad(f)(x))))(X)
    got = zymase.grad(lambda x: jnp.sum(zymase.grad(f)(x)))(X)
    np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL)


def test_jax_transformations_of_zymase_jit_keep_the_rules():
    for name in ("custom_jvp_sin", "custom_vjp_clip", "stop_gradient_product", "custom_jvp_safe_norm_origin"):
        f = PROGRAMS[name]
        np.testing.assert_allclose(jax.grad(zymase.jit(f))(X), jax.jit(jax.grad(f))(X), rtol=TOL, atol=TOL)


def test_value_and_grad_and_vjp():
    f = PROGRAMS["custom_vjp_and_stop_gradient"]
    v, g = zymase.value_and_grad(f)(X)
    vj, gj = jax.jit(jax.value_and_grad(f))(X)
    np.testing.assert_allclose(v, vj, rtol=TOL)
    np.testing.assert_allclose(g, gj, rtol=TOL, atol=TOL)
    y, pull = zymase.vjp(lambda x: clip_gradient(x) * x, X)
    yj, pullj = jax.vjp(lambda x: clip_gradient(x) * x, X)
    ct = np.array([1.0, -2.0, 0.5, 3.0])
    np.testing.assert_allclose(pull(ct)[0], pullj(ct)[0], rtol=TOL, atol=TOL)


def test_rule_closing_over_a_traced_value():
    """A custom_vjp whose rules close over a traced argument: zymase makes the value an
    operand of the rules (tests/test_closure_rules.py has more). Like jax, it
    differentiates with respect to the explicit inputs and refuses to differentiate with
    respect to the closed-over value."""

    def f(x, y):
        @jax.custom_vjp
        def g(z):
            return z * y

        g.defvjp(lambda z: (z * y, None), lambda _, ct: (ct * y * 3.0,))
        return jnp.sum(g(x))

    np.testing.assert_allclose(zymase.grad(f, argnums=0)(X, 2.0), jax.grad(f, argnums=0)(X, 2.0), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(zymase.grad(f, argnums=0)(X, 2.0), np.full(4, 6.0), rtol=TOL)
    with pytest.raises(Exception):
        jax.grad(f, argnums=1)(X, 2.0)
    with pytest.raises(DiffError, match="custom_vjp function .* with respect to a value it closes over"):
        zymase.grad(f, argnums=1)(X, 2.0)
    np.testing.assert_allclose(zymase.jit(f)(X, 2.0), f(X, 2.0), rtol=TOL)


@jax.custom_jvp
def sin_plain_primal(x):
    return jnp.sin(x)


@sin_plain_primal.defjvp
def _sin_plain_primal_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return jnp.sin(x), 2.0 * jnp.cos(x) * t  # the primal output is a plain sin, not the function


SECOND_ORDER = {
    "straight": lambda x: jnp.sum(sin_plain_primal(x) * x),
    "fori_loop": lambda x: jnp.sum(lax.fori_loop(0, 2, lambda i, a: sin_plain_primal(a) * x, x)),
    "custom_vjp": lambda x: jnp.sum(clip_gradient(jnp.sin(x)) * x),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_order_differentiates_the_rule_as_jax_does(name):
    """A second derivative differentiates what the rule computes (jax linearizes the rule):
    with a rule whose primal output is a plain ``sin``, its derivative is ``cos``, not the
    rule's ``2 cos`` again; in reverse-over-reverse and forward-over-reverse, inside a loop
    too."""
    f = SECOND_ORDER[name]
    want = jax.jit(jax.hessian(f))(X)
    np.testing.assert_allclose(zymase.hessian(f)(X), want, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(zymase.jacrev(zymase.grad(f))(X), want, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(zymase.jacfwd(zymase.jacfwd(f))(X), jax.jit(jax.jacfwd(jax.jacfwd(f)))(X), rtol=TOL, atol=TOL) if name != "custom_vjp" else None
