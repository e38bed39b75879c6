"""custom_jvp / custom_vjp functions whose rules close over values traced by jax (a
function defined inside the differentiated function, closing over an argument or an
intermediate): zymase converts those values into explicit operands of the rule functions
and keeps the rules' meaning, also when the value comes from outside the loop body or
branch the function is called in (it is passed in); differentiating with respect to such
a value is refused, as jax refuses it. float64, against jax."""

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
X = np.array([0.3, -1.2, 2.0, 0.7])
Y = 0.8

pytestmark = pytest.mark.usefixtures("x64")


def scaled_sin(y):
    """A custom_vjp whose function and both rules close over y; the bwd rule is
    deliberately not the true derivative (3x it), so that using the rule shows."""

    @jax.custom_vjp
    def g(z):
        return jnp.sin(z) * y

    g.defvjp(lambda z: (jnp.sin(z) * y, jnp.cos(z)), lambda c, ct: (3.0 * ct * c * y,))
    return g


def vjp_argument(x, y):
    return jnp.sum(scaled_sin(y)(x) * x)


def vjp_intermediate(x, y):
    return jnp.sum(scaled_sin(jnp.exp(y) * jnp.ones(4))(x))


def vjp_bwd_only(x, y):
    """Only the bwd rule closes over y: the function's value does not depend on y."""

    @jax.custom_vjp
    def g(z):
        return jnp.sin(z)

    g.defvjp(lambda z: (jnp.sin(z), jnp.cos(z)), lambda c, ct: (ct * c * y,))
    return jnp.sum(g(x) ** 2)


def vjp_residual_from_closure(x, y):
    """fwd keeps a residual computed from the closed-over value."""
    w = jnp.cos(y) * jnp.arange(1.0, 5.0)

    @jax.custom_vjp
    def g(z):
        return z * w

    g.defvjp(lambda z: (z * w, w * w), lambda r, ct: (ct * r,))
    return jnp.sum(jnp.tanh(g(x)))


def jvp_argument(x, y):
    """A custom_jvp whose rule calls its own function and closes over y."""

    @jax.custom_jvp
    def g(z):
        return jnp.sin(z) * y

    g.defjvp(lambda p, t: (g(p[0]), 3.0 * jnp.cos(p[0]) * y * t[0]))
    return jnp.sum(g(x) * x)


def jvp_rule_only(x, y):
    @jax.custom_jvp
    def g(z):
        return jnp.sin(z)

    g.defjvp(lambda p, t: (jnp.sin(p[0]), 3.0 * jnp.cos(p[0]) * y * t[0]))
    return jnp.sum(g(x))


def called_twice(x, y):
    g = scaled_sin(y)
    return jnp.sum(g(x) * g(2.0 * x))


def under_vmap(x, y):
    return jnp.sum(jax.vmap(lambda xi: scaled_sin(y)(xi))(x))


def closure_converted(x, y):
    """jax.closure_convert: the closed-over value is an explicit argument."""
    inner = lambda z: jnp.sin(z) * y  # noqa: E731
    conv, consts = jax.closure_convert(inner, x)

    @jax.custom_vjp
    def g(z, *cs):
        return conv(z, *cs)

    def fwd(z, *cs):
        return conv(z, *cs), (z, cs)

    def bwd(res, ct):
        z, cs = res
        _, pull = jax.vjp(conv, z, *cs)
        gz, *gcs = pull(ct)
        return (2.0 * gz, *gcs)

    g.defvjp(fwd, bwd)
    return jnp.sum(g(x, *consts))


PROGRAMS = {
    "vjp_argument": vjp_argument,
    "vjp_intermediate": vjp_intermediate,
    "vjp_bwd_only": vjp_bwd_only,
    "vjp_residual_from_closure": vjp_residual_from_closure,
    "jvp_argument": jvp_argument,
    "jvp_rule_only": jvp_rule_only,
    "called_twice": called_twice,
    "under_vmap": under_vmap,
    "closure_converted": closure_converted,
}
JVP_PROGRAMS = ["jvp_argument", "jvp_rule_only"]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_grad_matches_jax(name):
    f = PROGRAMS[name]
    want = jax.grad(f)(X, Y)
    np.testing.assert_allclose(zymase.grad(f)(X, Y), want, rtol=TOL, atol=TOL)
    # every rule above deliberately differs from the true derivative: the rule was used
    assert not np.allclose(want, _central_differences(f, X, Y), atol=1e-4)


def _central_differences(f, x, y):
    eps = 1e-6
    return np.array([(f(x + eps * e, y) - f(x - eps * e, y)) / (2 * eps) for e in np.eye(len(x))])


@pytest.mark.parametrize("name", ["vjp_argument", "jvp_argument", "vjp_bwd_only"])
def test_composes_with_jax_jit_and_vmap(name):
    f = PROGRAMS[name]
    want = jax.jit(jax.grad(f))(X, Y)
    np.testing.assert_allclose(jax.jit(zymase.grad(f))(X, Y), want, rtol=TOL, atol=TOL)
    ys = np.array([0.5, Y, -1.5])
    want_v = jax.vmap(jax.grad(f), in_axes=(None, 0))(X, ys)
    np.testing.assert_allclose(jax.vmap(zymase.grad(f), in_axes=(None, 0))(X, ys), want_v, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(jax.jit(jax.vmap(zymase.grad(f), in_axes=(None, 0)))(X, ys), want_v, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("name", JVP_PROGRAMS)
def test_jvp_matches_jax(name):
    f = PROGRAMS[name]
    t = np.array([0.5, -0.25, 1.0, 2.0])
    want = jax.jvp(lambda x: f(x, Y), (X,), (t,))
    got = zymase.jvp(lambda x: f(x, Y), (X,), (t,))
    np.testing.assert_allclose(got[0], want[0], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(got[1], want[1], rtol=TOL, atol=TOL)


def test_hessian_through_a_closing_rule():
    f = PROGRAMS["jvp_argument"]
    np.testing.assert_allclose(zymase.hessian(f)(X, Y), jax.hessian(f)(X, Y), rtol=1e-9, atol=1e-9)


def test_a_value_only_the_rules_close_over_is_refused():
    """The function's value does not depend on y, and jax's first derivative in y is zero;
    but the rule's derivative in x does depend on y, so a second derivative through it
    would come out silently zero: zymase refuses to differentiate with respect to y, and
    differentiating in x alone still works."""
    for name in ("vjp_bwd_only", "jvp_rule_only"):
        f = PROGRAMS[name]
        assert float(jax.grad(f, argnums=1)(X, Y)) == 0.0
        with pytest.raises(DiffError, match="with respect to a value it closes over"):
            zymase.grad(f, argnums=1)(X, Y)
        np.testing.assert_allclose(zymase.grad(f)(X, Y), jax.grad(f)(X, Y), rtol=TOL, atol=TOL)


def test_second_derivative_through_a_rule_only_closure_is_refused():
    """y = sin(x) closed over by the rule only: jax refuses; a zero Hessian would be wrong."""

    def f(x):
        y = jnp.sin(x)

        @jax.custom_jvp
        def g(x):
            return x

        @g.defjvp
        def g_jvp(p, t):
            return p[0], y * t[0]

        return jnp.sum(g(x))

    x = jnp.array([0.3, 0.7])
    with pytest.raises(Exception):
        jax.hessian(f)(x)
    with pytest.raises(DiffError, match="with respect to a value it closes over"):
        zymase.hessian(f)(x)


@pytest.mark.parametrize("name", ["vjp_argument", "vjp_intermediate", "jvp_argument"])
def test_differentiating_a_closed_over_value_is_refused_like_jax(name):
    f = PROGRAMS[name]
    with pytest.raises(Exception):
        jax.grad(f, argnums=1)(X, Y)
    kind = "custom_jvp" if name.startswith("jvp") else "custom_vjp"
    with pytest.raises(DiffError, match=rf"^differentiation of the {kind} function @\S+ \(called at .*test_closure_rules.py:\d+:\d+\) with respect to a value it closes over"):
        zymase.grad(f, argnums=1)(X, Y)


def test_forward_mode_in_a_closed_over_value_is_refused():
    f = PROGRAMS["jvp_argument"]
    with pytest.raises(Exception):
        jax.jvp(lambda y: f(X, y), (Y,), (1.0,))
    with pytest.raises(DiffError, match="custom_jvp function .* with respect to a value it closes over"):
        zymase.jvp(lambda y: f(X, y), (Y,), (1.0,))


def test_intermediate_of_the_differentiated_argument_is_refused_like_jax():
    def f(x, y):
        return jnp.sum(scaled_sin(jnp.exp(x))(x))

    with pytest.raises(Exception):
        jax.grad(f)(X, Y)
    with pytest.raises(DiffError, match="custom_vjp function .* with respect to a value it closes over"):
        zymase.grad(f)(X, Y)


def test_inner_jit_where_jax_fails():
    """An inner jax.jit whose custom_vjp closes over an intermediate of the inner
    function: jax.grad fails on it; zymase gives jax's gradient of the same program
    without the inner jit."""

    def program(jit):
        def f(x, y):
            def inner(x, y):
                return scaled_sin(y * 2.0)(x)

            return jnp.sum((jax.jit(inner) if jit else inner)(x, y))

        return f

    with pytest.raises(Exception):
        jax.grad(program(True))(X, Y)
    np.testing.assert_allclose(zymase.grad(program(True))(X, Y), jax.grad(program(False))(X, Y), rtol=TOL, atol=TOL)


def loop_closure(x, y):
    g = scaled_sin(y)
    return jnp.sum(lax.fori_loop(0, 3, lambda i, c: g(c) + x, x))


def scan_closure(x, y):
    g = scaled_sin(jnp.exp(y))
    return jnp.sum(lax.scan(lambda c, xi: (g(c) * xi, c), x, jnp.arange(1.0, 4.0))[1])


def cond_closure(x, y):
    g = scaled_sin(y)
    return jnp.sum(lax.cond(jnp.sum(x) > 0, lambda v: g(v) * v, lambda v: v, x))


def bwd_only_loop(x, y):
    """Only the bwd rule closes over y, which nothing in the loop uses otherwise."""

    @jax.custom_vjp
    def g(z):
        return jnp.sin(z)

    g.defvjp(lambda z: (jnp.sin(z), jnp.cos(z)), lambda c, ct: (ct * c * y,))
    return jnp.sum(lax.fori_loop(0, 3, lambda i, c: g(c) * x, x))


def jvp_rule_only_loop(x, y):
    w = jnp.exp(y)

    @jax.custom_jvp
    def g(z):
        return jnp.sin(z)

    g.defjvp(lambda p, t: (jnp.sin(p[0]), 3.0 * jnp.cos(p[0]) * w * t[0]))
    return jnp.sum(lax.fori_loop(0, 3, lambda i, c: g(c) * x, x))


def jvp_scan(x, y):
    w = jnp.cos(y)

    @jax.custom_jvp
    def g(z):
        return jnp.sin(z) * w

    g.defjvp(lambda p, t: (g(p[0]), 3.0 * jnp.cos(p[0]) * w * t[0]))
    return jnp.sum(lax.scan(lambda c, xi: (g(c) * xi + x, c), x, jnp.arange(1.0, 4.0))[1])


def nested_closure(x, y):
    """Through an inner jax.jit (a function of its own), a cond, and two nested loops."""
    w = jnp.cos(y) * 2.0

    @jax.custom_vjp
    def g(z):
        return jnp.sin(z)

    g.defvjp(lambda z: (jnp.sin(z), jnp.cos(z)), lambda c, ct: (ct * c * w,))
    inner = jax.jit(lambda c: lax.cond(jnp.sum(c) > 0, lambda v: g(v), lambda v: g(-v), c))
    return jnp.sum(lax.fori_loop(0, 2, lambda i, c: lax.fori_loop(0, 2, lambda j, d: inner(d) * x, c) + inner(c * 0.5), x))


LOOP_PROGRAMS = {
    "loop_closure": loop_closure,
    "scan_closure": scan_closure,
    "cond_closure": cond_closure,
    "bwd_only_loop": bwd_only_loop,
    "jvp_rule_only_loop": jvp_rule_only_loop,
    "jvp_scan": jvp_scan,
    "nested_closure": nested_closure,
}


@pytest.mark.parametrize("name", sorted(LOOP_PROGRAMS))
def test_closure_over_a_value_outside_the_loop_body_or_branch(name):
    """The rule's value from outside the loop body or branch is passed into it (through
    the functions jax lowers in between): the gradient is jax's, and the rule was used."""
    f = LOOP_PROGRAMS[name]
    np.testing.assert_allclose(zymase.grad(f)(X, Y), jax.grad(f)(X, Y), rtol=TOL, atol=TOL)  # jax uses the (deliberately untrue) rules
    if name == "nested_closure":
        np.testing.assert_allclose(zymase.jit(f)(X, Y), f(X, Y), rtol=TOL, atol=TOL)


@pytest.mark.parametrize("name", ["jvp_rule_only_loop", "jvp_scan"])
def test_closure_in_a_loop_in_forward_mode(name):
    f = LOOP_PROGRAMS[name]
    t = np.array([0.5, -0.25, 1.0, 2.0])
    want = jax.jvp(lambda x: f(x, Y), (X,), (t,))
    got = zymase.jvp(lambda x: f(x, Y), (X,), (t,))
    np.testing.assert_allclose(got[0], want[0], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(got[1], want[1], rtol=TOL, atol=TOL)


def test_closure_in_a_loop_under_jax_jit_and_vmap():
    f = LOOP_PROGRAMS["loop_closure"]
    np.testing.assert_allclose(jax.jit(zymase.grad(f))(X, Y), jax.grad(f)(X, Y), rtol=TOL, atol=TOL)
    f = LOOP_PROGRAMS["jvp_scan"]
    ys = np.array([0.5, Y, -1.5])
    want = jax.vmap(jax.grad(f), in_axes=(None, 0))(X, ys)
    np.testing.assert_allclose(jax.vmap(zymase.grad(f), in_axes=(None, 0))(X, ys), want, rtol=TOL, atol=TOL)


def test_differentiating_a_value_closed_over_in_a_loop_is_refused_like_jax():
    line = inspect.getsourcelines(loop_closure)[1] + 2
    with pytest.raises(Exception):
        jax.grad(loop_closure, argnums=1)(X, Y)
    with pytest.raises(DiffError) as err:
        zymase.grad(loop_closure, argnums=1)(X, Y)
    message = str(err.value).split("\n--------------------\n")[0]
    assert "\n" not in message
    assert f"test_closure_rules.py:{line}:" in message and "with respect to a value it closes over" in message
    with pytest.raises(DiffError, match="with respect to a value it closes over"):
        zymase.grad(bwd_only_loop, argnums=1)(X, Y)


def test_loop_closure_ir_has_no_closure_markers():
    text = zymase.lower(nested_closure, X, Y).as_text()
    assert "zymase_closure" not in text and "zymase.closure_values" not in text
    assert "enzyme.custom_vjp_consts = 1" in text


def test_printed_ir_has_the_values_as_operands():
    text = zymase.lower(vjp_argument, X, Y).as_text()
    assert "enzyme.custom_vjp_consts = 1" in text
    text = zymase.lower(jvp_rule_only, X, Y).as_text()
    assert "enzyme.custom_jvp = @" in text and "enzyme.custom_vjp_consts = 1" in text
