"""The JAX-style AD API of zymase (grad, value_and_grad, vjp, jvp, jacfwd, jacrev,
hessian), its raw Enzyme conventions (autodiff, fwddiff), nesting, composition with
jax.jit / jax.vmap, caching, and the errors it raises.

Everything is compared with jax: float32 to rtol 1e-5, float64 (under x64) to 1e-10."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import zymase
import zymase.api
from zymase.ad import registry
from zymase.ad.engine import DiffError
from zymase.ir import stablehlo as hlo

RS = np.random.RandomState(7)
X = RS.randn(5).astype(np.float32)
W = (RS.randn(5, 3) / 2).astype(np.float32)
B = RS.randn(3).astype(np.float32)


def close(got, want, rtol: float = 1e-5) -> None:
    got_leaves, got_tree = jax.tree_util.tree_flatten(got)
    want_leaves, want_tree = jax.tree_util.tree_flatten(want)
    assert got_tree == want_tree
    for g, w in zip(got_leaves, want_leaves):
        assert np.shape(g) == np.shape(w) and jnp.result_type(g) == jnp.result_type(w), (g, w)
        if jnp.result_type(w) == jax.dtypes.float0:
            continue
        scale = float(np.max(np.abs(w), initial=0.0))
        np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(w, np.float64), rtol=rtol, atol=rtol * scale)


def layer(x, w, b):
    return jnp.sum(jnp.tanh(x @ w + b) ** 2)


# ============================================================================ grad


@pytest.mark.parametrize("argnums", [0, 1, 2, (0, 2), (2, 0), -1, (-3, -2), (1,)])
def test_grad_argnums(argnums) -> None:
    close(zymase.grad(layer, argnums=argnums)(X, W, B), jax.grad(layer, argnums=argnums)(X, W, B))


def test_value_and_grad() -> None:
    value, g = zymase.value_and_grad(layer, argnums=(0, 1))(X, W, B)
    want_value, want_g = jax.value_and_grad(layer, argnums=(0, 1))(X, W, B)
    close(value, want_value)
    close(g, want_g)


def aux_loss(x, w, b):
    h = jnp.tanh(x @ w + b)
    return jnp.sum(h**2), {"h": h, "n": jnp.int32(3)}


def test_grad_has_aux() -> None:
    close(zymase.grad(aux_loss, argnums=1, has_aux=True)(X, W, B), jax.grad(aux_loss, argnums=1, has_aux=True)(X, W, B))


def test_value_and_grad_has_aux() -> None:
    got = zymase.value_and_grad(aux_loss, argnums=(0, 2), has_aux=True)(X, W, B)
    close(got, jax.value_and_grad(aux_loss, argnums=(0, 2), has_aux=True)(X, W, B))


def tree_loss(params, data):
    h = jnp.tanh(data["x"] @ params["enc"][0] + params["enc"][1])
    out = h @ params["dec"]["w"] + params["dec"]["b"][0] * params["dec"]["b"][1]
    return jnp.mean((out - data["y"]) ** 2)


PARAMS = {
    "enc": (RS.randn(4, 6).astype(np.float32), RS.randn(6).astype(np.float32)),
    "dec": {"w": RS.randn(6, 2).astype(np.float32), "b": [RS.randn(2).astype(np.float32), RS.randn(2).astype(np.float32)]},
}
DATA = {"x": RS.randn(3, 4).astype(np.float32), "y": RS.randn(3, 2).astype(np.float32)}


def test_grad_pytree_inputs() -> None:
    close(zymase.grad(tree_loss)(PARAMS, DATA), jax.grad(tree_loss)(PARAMS, DATA))
    close(zymase.grad(tree_loss, argnums=(0, 1))(PARAMS, DATA), jax.grad(tree_loss, argnums=(0, 1))(PARAMS, DATA))


def test_grad_of_non_scalar_output_raises() -> None:
    with pytest.raises(TypeError, match="scalar"):
        zymase.grad(lambda x: jnp.sin(x))(X)
    with pytest.raises(TypeError, match="scalar"):
        zymase.grad(lambda x: (jnp.sum(x), jnp.sum(x)))(X)


def test_grad_integer_argnums_raise_like_jax() -> None:
    def f(x, n):
        return jnp.sum(x) * n

    n = np.int32(3)
    with pytest.raises(TypeError) as theirs:
        jax.grad(f, argnums=1)(X, n)
    with pytest.raises(TypeError) as ours:
        zymase.grad(f, argnums=1)(X, n)
    for info in (theirs, ours):
        message = str(info.value)
        assert message.startswith("grad requires real") and "but got int32" in message and "use vjp" in message, message
    close(zymase.grad(f)(X, n), jax.grad(f)(X, n))  # an int argument that is not differentiated


def test_grad_argnums_out_of_range() -> None:
    with pytest.raises(ValueError, match="argnums"):
        zymase.grad(layer, argnums=3)(X, W, B)


def test_grad_float64_under_x64() -> None:
    with jax.enable_x64(True):
        x, w, b = X.astype(np.float64), W.astype(np.float64), B.astype(np.float64)
        got = zymase.grad(layer, argnums=(0, 1, 2))(x, w, b)
        assert all(g.dtype == np.float64 for g in got)
        close(got, jax.grad(layer, argnums=(0, 1, 2))(x, w, b), rtol=1e-10)


# ============================================================================ vjp / jvp


def two_outputs(x, w):
    h = x @ w
    return {"sin": jnp.sin(h), "pair": (jnp.sum(h * h), x * 2.0)}


def test_vjp_pytree() -> None:
    out, pullback = zymase.vjp(two_outputs, X, W)
    want_out, want_pullback = jax.vjp(two_outputs, X, W)
    close(out, want_out)
    ct = jax.tree_util.tree_map(lambda o: np.asarray(RS.randn(*o.shape)).astype(o.dtype), want_out)
    close(pullback(ct), want_pullback(ct))


def test_vjp_has_aux() -> None:
    def f(x, w):
        h = jnp.tanh(x @ w)
        return h * 3.0, {"norm": jnp.sum(h**2)}

    out, pullback, aux = zymase.vjp(f, X, W, has_aux=True)
    want_out, want_pullback, want_aux = jax.vjp(f, X, W, has_aux=True)
    close((out, aux), (want_out, want_aux))
    ct = RS.randn(3).astype(np.float32)
    close(pullback(ct), want_pullback(ct))


def test_vjp_integer_input_gets_float0() -> None:
    def f(x, n):
        return x * n.astype(jnp.float32)

    n = np.arange(5, dtype=np.int32)
    _, pullback = zymase.vjp(f, X, n)
    ct = RS.randn(5).astype(np.float32)
    got = pullback(ct)
    assert got[1].dtype == jax.dtypes.float0
    close(got, jax.vjp(f, X, n)[1](ct))


def test_jvp_pytree_and_int_inputs() -> None:
    def f(p, n, x):
        h = jnp.tanh(x @ p["w"] + p["b"]) * n.astype(jnp.float32)
        return {"h": h, "count": n * 2, "s": (jnp.sum(h),)}

    p = {"w": W, "b": B}
    n = np.int32(4)
    tangents = ({"w": RS.randn(5, 3).astype(np.float32), "b": RS.randn(3).astype(np.float32)}, np.zeros((), jax.dtypes.float0), RS.randn(5).astype(np.float32))
    got = zymase.jvp(f, (p, n, X), tangents)
    want = jax.jvp(f, (p, n, X), tangents)
    assert got[1]["count"].dtype == jax.dtypes.float0
    close(got, want)


def test_jvp_has_aux() -> None:
    def f(x):
        return jnp.sin(x) * 2.0, jnp.cos(x)

    t = RS.randn(5).astype(np.float32)
    close(zymase.jvp(f, (X,), (t,), has_aux=True), jax.jvp(f, (X,), (t,), has_aux=True))


# ============================================================================ jacobians


def vector_fn(x, w, b):
    h = jnp.tanh(x @ w + b)
    return {"h": h, "s": jnp.sum(h * x[:3])}


@pytest.mark.parametrize("jac", ["jacfwd", "jacrev"])
@pytest.mark.parametrize("argnums", [0, (0, 1), (2, 0)])
def test_jacobians(jac: str, argnums) -> None:
    got = getattr(zymase, jac)(vector_fn, argnums=argnums)(X, W, B)
    close(got, getattr(jax, jac)(vector_fn, argnums=argnums)(X, W, B))


def test_hessian() -> None:
    def f(x, w):
        return jnp.sum(jnp.sin(x @ w) ** 2) + jnp.prod(x[:3])

    close(zymase.hessian(f)(X, W), jax.jit(jax.hessian(f))(X, W), rtol=1e-4)
    close(zymase.hessian(f, argnums=(0, 1))(X, W), jax.jit(jax.hessian(f, argnums=(0, 1)))(X, W), rtol=1e-4)


def test_hessian_float64() -> None:
    def f(x):
        return jnp.sum(jnp.exp(jnp.sin(x) * x[::-1])) * jnp.prod(x)

    with jax.enable_x64(True):
        x = X.astype(np.float64)
        close(zymase.hessian(f)(x), jax.jit(jax.hessian(f))(x), rtol=1e-10)


def test_hessian_of_product_at_zeros_float64() -> None:
    """The second derivative of prod(x) at x with zeros: exact exclusive products."""

    def f(x):
        return jnp.sum(jnp.prod(x, axis=1) * jnp.arange(1.0, 4.0))

    with jax.enable_x64(True):
        x = np.array([[1.5, -2.0, 3.0], [0.0, 2.0, 4.0], [0.0, 0.0, 5.0]])
        close(zymase.grad(f)(x), jax.grad(f)(x), rtol=1e-10)
        close(zymase.hessian(f)(x), jax.jit(jax.hessian(f))(x), rtol=1e-10)


def test_product_reduction_with_large_groups_float64(monkeypatch: pytest.MonkeyPatch) -> None:
    """Groups above EXACT_PRODUCT_GROUP divide: ans / x_i, the others' product at a lone zero, 0 with two zeros."""
    from zymase.ad.rules import control

    monkeypatch.setattr(control, "EXACT_PRODUCT_GROUP", 2)

    def f(x):
        return jnp.sum(jnp.prod(x, axis=0) * jnp.arange(1.0, 4.0))

    with jax.enable_x64(True):
        x = np.random.RandomState(1).uniform(0.5, 1.5, (6, 3))
        x[2, 1] = 0.0
        x[0, 2] = x[4, 2] = 0.0
        close(zymase.grad(f)(x), jax.grad(f)(x), rtol=1e-10)
        t = np.random.RandomState(2).randn(6, 3)
        close(zymase.jvp(f, (x,), (t,)), jax.jvp(f, (x,), (t,)), rtol=1e-10)


# ============================================================================ nesting


def scalar_fn(x):
    return jnp.sum(jnp.sin(x) * jnp.cos(x[::-1]) + x**3)


def test_grad_of_grad() -> None:
    def g(x):
        return jnp.sum(zymase.grad(scalar_fn)(x) ** 2)

    def g_jax(x):
        return jnp.sum(jax.grad(scalar_fn)(x) ** 2)

    close(zymase.grad(g)(X), jax.grad(g_jax)(X), rtol=1e-4)
    s = np.float32(0.7)
    close(zymase.grad(zymase.grad(lambda a: jnp.sin(a) * a**2))(s), jax.grad(jax.grad(lambda a: jnp.sin(a) * a**2))(s))


def test_jacfwd_of_grad() -> None:
    close(zymase.jacfwd(zymase.grad(scalar_fn))(X), jax.jit(jax.jacfwd(jax.grad(scalar_fn)))(X), rtol=1e-4)


def test_grad_of_zymase_jit() -> None:
    close(zymase.grad(zymase.jit(layer), argnums=(0, 1))(X, W, B), jax.grad(layer, argnums=(0, 1))(X, W, B))


# ============================================================================ composition with jax


def test_under_jax_jit() -> None:
    close(jax.jit(zymase.grad(layer, argnums=(0, 1)))(X, W, B), jax.grad(layer, argnums=(0, 1))(X, W, B))
    close(jax.jit(zymase.value_and_grad(layer))(X, W, B), jax.value_and_grad(layer)(X, W, B))
    t = RS.randn(5).astype(np.float32)
    close(jax.jit(lambda x, t: zymase.jvp(scalar_fn, (x,), (t,)))(X, t), jax.jvp(scalar_fn, (X,), (t,)))
    ct = RS.randn(3).astype(np.float32)
    close(jax.jit(lambda x, ct: zymase.vjp(lambda x: jnp.tanh(x @ W), x)[1](ct))(X, ct), jax.vjp(lambda x: jnp.tanh(x @ W), X)[1](ct))
    close(jax.jit(zymase.jacrev(vector_fn))(X, W, B), jax.jit(jax.jacrev(vector_fn))(X, W, B))
    close(jax.jit(zymase.hessian(scalar_fn))(X), jax.jit(jax.hessian(scalar_fn))(X), rtol=1e-4)


def test_under_jax_vmap() -> None:
    xs = RS.randn(4, 5).astype(np.float32)
    close(jax.vmap(zymase.grad(layer), in_axes=(0, None, None))(xs, W, B), jax.jit(jax.vmap(jax.grad(layer), in_axes=(0, None, None)))(xs, W, B))
    ts = RS.randn(4, 5).astype(np.float32)
    close(jax.vmap(lambda x, t: zymase.jvp(scalar_fn, (x,), (t,)))(xs, ts), jax.jit(jax.vmap(lambda x, t: jax.jvp(scalar_fn, (x,), (t,))))(xs, ts))
    cts = RS.randn(4, 3).astype(np.float32)
    close(
        jax.vmap(lambda ct: zymase.vjp(lambda w: jnp.tanh(X @ w), W)[1](ct))(cts),
        jax.jit(jax.vmap(lambda ct: jax.vjp(lambda w: jnp.tanh(X @ w), W)[1](ct)))(cts),
    )
    close(jax.vmap(zymase.jacfwd(scalar_fn))(xs), jax.jit(jax.vmap(jax.jacfwd(scalar_fn)))(xs))
    close(jax.vmap(zymase.hessian(scalar_fn))(xs), jax.jit(jax.vmap(jax.hessian(scalar_fn)))(xs), rtol=1e-4)


# ============================================================================ caching


@pytest.fixture
def lower_calls(monkeypatch: pytest.MonkeyPatch) -> list:
    calls: list = []
    real = zymase.api.lower

    def counting(*a, **k):
        calls.append(a[0])
        return real(*a, **k)

    monkeypatch.setattr(zymase.api, "lower", counting)
    return calls


def test_grad_cache_hit_does_no_compiler_work(lower_calls: list) -> None:
    g = zymase.grad(layer, argnums=(0, 1))

    def fresh_layer(x, w, b):  # not seen by any other test
        return layer(x, w, b)

    g = zymase.grad(fresh_layer, argnums=(0, 1))
    first = g(X, W, B)
    assert len(lower_calls) == 1
    second = g(X + np.float32(1), W, B)  # same shapes and dtypes
    assert len(lower_calls) == 1
    close(second, jax.grad(layer, argnums=(0, 1))(X + np.float32(1), W, B))
    close(first, jax.grad(layer, argnums=(0, 1))(X, W, B))
    g(np.concatenate([X, X])[:5].reshape(5), W, B)
    assert len(lower_calls) == 1
    g(np.ones((2, 5), np.float32), W, B.reshape(1, 3))  # a new signature compiles once more
    assert len(lower_calls) == 2
    zymase.grad(fresh_layer, argnums=0)(X, W, B)  # other argnums: another derivative
    assert len(lower_calls) == 3


def test_jacobians_cache_hits_and_do_not_differentiate_other_arguments(lower_calls: list) -> None:
    def fresh(x, w, b):
        return jnp.tanh(x @ w + b)

    for jac in (zymase.jacfwd, zymase.jacrev):
        j = jac(fresh, argnums=1)
        first = j(X, W, B)
        n = len(lower_calls)
        close(j(X * 2, W, B), getattr(jax, jac.__name__)(fresh, argnums=1)(X * 2, W, B))
        assert len(lower_calls) == n
        close(first, getattr(jax, jac.__name__)(fresh, argnums=1)(X, W, B))


def test_jvp_vjp_cache_hits(lower_calls: list) -> None:
    def fresh(x):
        return jnp.tanh(x) * 2.0

    t = RS.randn(5).astype(np.float32)
    zymase.jvp(fresh, (X,), (t,))
    zymase.jvp(fresh, (X * 2,), (t,))
    assert len(lower_calls) == 1
    zymase.vjp(fresh, X)[1](t)
    n = len(lower_calls)
    zymase.vjp(fresh, X * 3)[1](t)
    assert len(lower_calls) == n


# ============================================================================ raw Enzyme conventions


def square(x, y):
    """The seed's @square: (x * x, y * y)."""
    return x * x, y * y


F = np.float32


def test_autodiff_all_active() -> None:
    o1, o2, dx, dy = zymase.autodiff(square, ["enzyme_active", "enzyme_active"], ["enzyme_active", "enzyme_active"])(F(3), F(5), F(1), F(10))
    assert (float(o1), float(o2), float(dx), float(dy)) == (9.0, 25.0, 6.0, 100.0)


def test_autodiff_activenoneed_const() -> None:
    outs = zymase.autodiff(square, ["enzyme_active", "enzyme_const"], ["enzyme_activenoneed", "enzyme_const"])(F(3), F(5), F(2))
    assert len(outs) == 2
    o2, dx = outs
    assert (float(o2), float(dx)) == (25.0, 12.0)


def test_fwddiff_width_two() -> None:
    x, y = F(3), F(5)
    tx, ty = np.array([1.0, 2.0], F), np.array([0.5, -1.0], F)
    o1, t1, o2, t2 = zymase.fwddiff(square, ["enzyme_dup", "enzyme_dup"], ["enzyme_dup", "enzyme_dup"], width=2)(x, tx, y, ty)
    assert (float(o1), float(o2)) == (9.0, 25.0)
    np.testing.assert_array_equal(np.asarray(t1), 2 * x * tx)
    np.testing.assert_array_equal(np.asarray(t2), 2 * y * ty)


def test_fwddiff_dupnoneed_const() -> None:
    outs = zymase.fwddiff(square, ["enzyme_dup", "enzyme_const"], ["enzyme_dupnoneed", "enzyme_const"])(F(3), F(1), F(5))
    assert len(outs) == 2
    t1, o2 = outs
    assert (float(t1), float(o2)) == (6.0, 25.0)


def test_raw_activity_count_mismatch() -> None:
    with pytest.raises(TypeError, match="ret_activity 1"):
        zymase.autodiff(square, ["enzyme_active", "enzyme_active"], ["enzyme_active"])(F(3), F(5), F(1))


# ============================================================================ errors


def test_missing_rule_names_op_and_user_location(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take tanh's rule away: the error names the op and the line of this file."""
    registry.load_rules()
    monkeypatch.delitem(registry.ELEMENTWISE, hlo.TanhOp)

    def f(x):
        return jnp.sum(jnp.tanh(x) * 2.0)

    for transform in (lambda: zymase.grad(f)(X), lambda: zymase.jvp(f, (X,), (X,))):
        with pytest.raises(DiffError) as info:
            transform()
        message = str(info.value)
        assert "'stablehlo.tanh'" in message
        assert "test_ad_api.py:" in message, message


def test_data_dependent_while_in_reverse_mode() -> None:
    """jax.grad refuses a while_loop with a run-time trip count; zymase reverses it from
    checkpoints (ad/rules/checkpoint.py) and agrees with jax's forward mode."""

    def f(x):
        return lax.while_loop(lambda v: jnp.sum(v * v) > 1.0, lambda v: jnp.sin(v) * 0.9, x).sum()

    x = X * 10
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work"):
        jax.grad(f)(x)
    close(zymase.grad(f)(x), jax.jacfwd(f)(x))
    # forward mode handles any loop
    close(zymase.jvp(f, (x,), (X,)), jax.jvp(f, (x,), (X,)))


def test_jvp_argument_errors_match_jax():
    import jax.numpy as jnp

    x = jnp.ones(3, dtype=jnp.float32)
    with pytest.raises(TypeError, match="must be tuples or lists; found ArrayImpl and ArrayImpl"):
        zymase.jvp(jnp.sin, x, x)
    with pytest.raises(TypeError, match="expected tangent dtype float32, but got tangent dtype int32"):
        zymase.jvp(jnp.sin, (x,), (jnp.ones(3, dtype=jnp.int32),))
    with pytest.raises(TypeError):
        jax.jvp(jnp.sin, (x,), (jnp.ones(3, dtype=jnp.int32),))
