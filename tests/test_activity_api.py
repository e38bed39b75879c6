"""Activity canonicalization through the Python API: no derivative work nobody uses."""

import re

import jax
import jax.numpy as jnp
import numpy as np

import zymase
from zymase.api import _VJP_CACHE


def _diffe(text: str) -> str:
    """The text of the generated reverse-mode function."""
    start = text.index('sym_name = "diffemain"')
    return text[text.rindex('"func.func"', 0, start) :]


def _ops(text: str) -> list[str]:
    return re.findall(r'"((?:stablehlo|chlo)\.[a-z_]+)"', text)


def test_grad_argnums_generates_nothing_for_the_other_input():
    def f(x, y):
        return jnp.sum(jnp.sin(x) * y + jnp.exp(y))

    x, y = jnp.arange(3.0), jnp.ones(3)
    gen = _diffe(zymase.grad(f, argnums=0).lower(x, y).as_text(stage="final"))
    assert "stablehlo.exponential" not in gen  # exp(y) matters neither to df/dx nor to the (unreturned) loss
    assert "stablehlo.cosine" in gen
    np.testing.assert_allclose(zymase.grad(f)(x, y), jax.grad(f)(x, y), rtol=1e-6)


def test_value_and_grad_differs_from_grad_only_by_the_primal():
    def f(x):
        return jnp.sum(jnp.tanh(x) ** 2)

    x = jnp.arange(4.0) / 4
    g = _ops(_diffe(zymase.grad(f).lower(x).as_text(stage="final")))
    vg = _ops(_diffe(zymase.value_and_grad(f).lower(x).as_text(stage="final")))
    extra = list(vg)
    for op in g:
        extra.remove(op)
    # exactly the primal's own work: tanh(x)**2 (a multiply) summed (reduce, its init, body add and return)
    assert sorted(extra) == sorted(["stablehlo.multiply", "stablehlo.reduce", "stablehlo.constant", "stablehlo.add", "stablehlo.return"]), extra
    v, gv = zymase.value_and_grad(f)(x)
    np.testing.assert_allclose(gv, zymase.grad(f)(x), rtol=1e-6)
    np.testing.assert_allclose(v, f(x), rtol=1e-6)


def test_vjp_with_a_zero_cotangent_drops_that_output():
    w = jnp.arange(9.0).reshape(3, 3) / 9

    def f(x):
        return jnp.sin(x), jnp.exp(x) @ w

    x = jnp.arange(3.0)
    _, pullback = zymase.vjp(f, x)
    (g,) = pullback((jnp.ones(3), jnp.zeros(3)))
    np.testing.assert_allclose(g, np.cos(np.arange(3.0)), rtol=1e-6)
    # derivative keys end with the outputs whose cotangent is zero
    specialised = [v[0] for k, v in _VJP_CACHE.entries(f).items() if k[0] == "derivative" and k[-1]]
    assert len(specialised) == 1
    gen = _diffe(specialised[0].program.as_text())
    assert "stablehlo.dot_general" not in gen and "stablehlo.exponential" not in gen
    # with both cotangents non-zero the full derivative is used
    (g2,) = pullback((jnp.ones(3), jnp.ones(3)))
    np.testing.assert_allclose(g2, jax.vjp(f, x)[1]((jnp.ones(3), jnp.ones(3)))[0], rtol=1e-6)
