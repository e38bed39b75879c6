"""Every program of the corpus runs through zymase.jit (lower, import, emit) and gives
bitwise the results of jax.jit on CPU, with the same pytree structure and dtypes."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import zymase
import zymase.api
from corpus import CASES, Case, by_name


def assert_same_tree(got, want) -> None:
    got_leaves, got_tree = jax.tree_util.tree_flatten(got)
    want_leaves, want_tree = jax.tree_util.tree_flatten(want)
    assert got_tree == want_tree
    for i, (g, w) in enumerate(zip(got_leaves, want_leaves)):
        assert g.dtype == w.dtype, f"leaf {i}: {g.dtype} != {w.dtype}"
        assert g.shape == w.shape, f"leaf {i}: {g.shape} != {w.shape}"
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w), err_msg=f"leaf {i}")


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 45
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_zymase_jit_matches_jax_jit(case: Case) -> None:
    with case.context():
        args, kwargs = case.inputs()
        want = jax.jit(case.fn, static_argnums=case.static_argnums)(*args, **kwargs)
        f = zymase.jit(case.fn, static_argnums=case.static_argnums)
        assert_same_tree(f(*args, **kwargs), want)
        cached = dict(f._cache)  # module-wide: other cases of the same function are in it too
        assert cached
        # The same signature again: served from the cache, nothing lowered anew.
        assert_same_tree(f(*args, **kwargs), want)
        assert f._cache == cached


def fresh(fn):
    """A new function object doing what ``fn`` does."""
    return lambda *args, **kwargs: fn(*args, **kwargs)


def test_cache_hit_does_not_lower_and_new_shape_compiles(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real_lower = zymase.api.lower

    def counting_lower(*a, **k):
        calls.append(1)
        return real_lower(*a, **k)

    monkeypatch.setattr(zymase.api, "lower", counting_lower)
    case = by_name("mlp_f32")
    params, x = case.inputs()[0]
    f = zymase.jit(fresh(case.fn))  # a function no other test compiled (the cache is module-wide)
    f(params, x)
    f(params, x + np.float32(1))  # same shapes and dtypes, new values
    assert len(calls) == 1 and len(f._cache) == 1
    x2 = np.concatenate([x, x], axis=0)
    assert_same_tree(f(params, x2), jax.jit(case.fn)(params, x2))
    assert len(calls) == 2 and len(f._cache) == 2
    f(params, x2)
    assert len(calls) == 2 and len(f._cache) == 2


def test_new_static_argument_compiles_new_entry() -> None:
    case = by_name("static_args")
    x, n, act = case.inputs()[0]
    f = zymase.jit(fresh(case.fn), static_argnums=case.static_argnums)
    f(x, n, act)
    got = f(x, n, "relu")
    assert len(f._cache) == 2
    assert_same_tree(got, jax.jit(case.fn, static_argnums=(1, 2))(x, n, "relu"))
