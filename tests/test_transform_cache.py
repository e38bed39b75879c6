"""The caches of the transformations: bounded, and they do not keep user functions alive."""

import gc
import weakref

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zymase
from zymase import api
from zymase.api import TransformCache

X = jnp.arange(3.0)


def _new_function():
    def f(x, y):
        return jnp.sum(jnp.sin(x) * y)

    return f


USES = {
    "grad": lambda f: zymase.grad(f)(X, X),
    "value_and_grad": lambda f: zymase.value_and_grad(f, argnums=(0, 1))(X, X),
    "jit": lambda f: zymase.jit(f)(X, X),
    "vjp": lambda f: zymase.vjp(f, X, X)[1](1.0),
    "jvp": lambda f: zymase.jvp(f, (X, X), (X, X)),
    "jacfwd": lambda f: zymase.jacfwd(f)(X, X),
    "jacrev": lambda f: zymase.jacrev(f)(X, X),
    "jax.jit-of-grad": lambda f: jax.jit(zymase.grad(f))(X, X),
}


def test_a_transformed_function_can_be_collected():
    """Each transformation, on its own new function: none keeps the function alive (one
    full garbage collection for all of them: a full collection of a worker's heap costs
    seconds)."""
    alive = {}
    for name, use in USES.items():
        f = _new_function()
        alive[name] = weakref.ref(f)
        use(f)
        del f
    gc.collect()
    assert [name for name, ref in alive.items() if ref() is not None] == []


def test_vjp_and_jvp_entries_go_with_their_function():
    f = _new_function()
    zymase.vjp(f, X, X)[1](1.0)
    zymase.jvp(f, (X, X), (X, X))
    assert api._VJP_CACHE.entries(f) and api._JVP_CACHE.entries(f)
    before = len(api._VJP_CACHE), len(api._JVP_CACHE)
    del f
    gc.collect()
    assert len(api._VJP_CACHE) < before[0] and len(api._JVP_CACHE) < before[1]


def test_the_cache_is_a_bounded_lru():
    cache = TransformCache(maxsize=2)
    f = _new_function()
    built = []

    def build(k):
        built.append(k)
        return k

    for k in (0, 1, 0, 2):  # 0 is used again, so 1 is the least recently used when 2 comes
        assert cache.get(f, k, lambda k=k: build(k)) == k
    assert list(cache.entries(f)) == [0, 2] and built == [0, 1, 2]
    cache.get(f, 1, lambda: build(1))
    assert list(cache.entries(f)) == [2, 1] and built == [0, 1, 2, 1]


def test_jvp_keeps_at_most_maxsize_programs_per_function(monkeypatch):
    monkeypatch.setattr(api._JVP_CACHE, "maxsize", 2)
    f = _new_function()
    for n in (2, 3, 4):
        x = jnp.arange(float(n))
        _, t = zymase.jvp(f, (x, x), (x, jnp.zeros(n)))
        np.testing.assert_allclose(t, jnp.sum(jnp.cos(x) * x * x), rtol=1e-6)
    assert len(api._JVP_CACHE.entries(f)) == 2


def test_bound_methods_share_entries_and_do_not_keep_their_object():
    class Model:
        def loss(self, x):
            return jnp.sum(jnp.cos(x))

    m = Model()
    zymase.vjp(m.loss, X)[1](1.0)
    zymase.vjp(m.loss, X)[1](1.0)  # a new bound method object, the same entries
    assert len(api._VJP_CACHE.entries(m.loss)) == 2  # the primal and one derivative
    alive = weakref.ref(m)
    del m
    gc.collect()
    assert alive() is None


def test_callables_that_cannot_be_weakly_referenced_are_not_cached():
    """(jax.jit itself takes only hashable, weakly referenceable callables; the cache does
    not rely on that.)"""
    class Unhashable:
        __hash__ = None

        def __call__(self, x):
            return x

    class Slotted:
        __slots__ = ()

        def __call__(self, x):
            return x

    cache = TransformCache()
    for f in (Unhashable(), Slotted()):
        built = []
        for _ in range(2):
            assert cache.get(f, "key", lambda: built.append(1) or "value") == "value"
        assert len(built) == 2 and cache.entries(f) == {}



def test_rules_off_builds_its_own_program(monkeypatch):
    """ZYMASE_OPT=0 is part of the cache key: a zymase.grad made with the rules off does
    not reuse the program an earlier zymase.grad compiled with them on."""

    def f(x):
        return jnp.sum(jnp.sin(x) * 1.0)

    x = jnp.arange(3.0)
    on = zymase.grad(f).lower(x)
    zymase.grad(f)(x)
    monkeypatch.setenv("ZYMASE_OPT", "0")
    zymase.grad(f)(x)
    keys = list(api._GRAD_CACHE._by_owner[f])
    assert sorted(k[1] for k in keys) == [False, True], keys
    assert "stablehlo.multiply" not in on.as_text(stage="optimized-before-ad")
