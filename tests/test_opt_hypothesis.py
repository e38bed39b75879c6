"""Random small programs from a grammar of ops: the whole optimizer (every safe rule,
to a fixpoint) must preserve their values."""

import jax
import pytest
import jax.numpy as jnp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jax import lax

from zymase.backend import build_function
from zymase.frontend import lower
from zymase.opt.inline import inline_calls
from zymase.opt.pattern import optimize

@pytest.fixture(autouse=True, scope="module")
def _x64():
    """float64 for this module only (a global switch would leak into other test modules)."""
    with jax.enable_x64(True):
        yield


SHAPE = (4, 6)


def _unary(name):
    return {
        "neg": lambda x: -x,
        "tanh": jnp.tanh,
        "abs": jnp.abs,
        "transpose2": lambda x: x.T.T,
        "reshape": lambda x: x.reshape(6, 4).reshape(SHAPE),
        "slice_pad": lambda x: jnp.pad(x[1:3, 2:5], ((1, 1), (2, 1))),
        "reverse": lambda x: x[::-1],
        "broadcast_sum": lambda x: jnp.broadcast_to(x.sum(0), SHAPE),
        "row_max": lambda x: jnp.broadcast_to(x.max(1, keepdims=True), SHAPE),
        "concat_slices": lambda x: jnp.concatenate([x[:, :2], x[:, 2:]], axis=1),
        "add_zero": lambda x: x + 0.0,
        "mul_one": lambda x: x * 1.0,
        "div_two": lambda x: x / 2.0,
        "dot_square": lambda x: jnp.pad(x @ x.T, ((0, 0), (0, 2))),
        "dynamic_slice": lambda x: jnp.pad(lax.dynamic_slice(x, (1, 2), (2, 3)), ((1, 1), (1, 2))),
        "where_pos": lambda x: jnp.where(x > 0, x, 0.5 * x),
        "select_same": lambda x: jnp.where(x > 0, x, x),
        "double_negate": lambda x: -(-x),
        "clip": lambda x: jnp.clip(x, -1.0, 1.0),
        "exp_neg": lambda x: jnp.exp(-jnp.abs(x)),
        "scan_cumsum": lambda x: jnp.cumsum(x, axis=1),
        "fori": lambda x: lax.fori_loop(0, 3, lambda i, c: c * 0.5 + x, x),
    }[name]


def _binary(name):
    return {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "max": jnp.maximum,
        "min": jnp.minimum,
        "concat_split": lambda a, b: jnp.concatenate([a, b], axis=0)[2:6],
    }[name]


UNARY = [
    "neg", "tanh", "abs", "transpose2", "reshape", "slice_pad", "reverse", "broadcast_sum", "row_max",
    "concat_slices", "add_zero", "mul_one", "div_two", "dot_square", "dynamic_slice", "where_pos",
    "select_same", "double_negate", "clip", "exp_neg", "scan_cumsum", "fori",
]
BINARY = ["add", "sub", "mul", "max", "min", "concat_split"]

program = st.recursive(
    st.sampled_from(["x", "y"]),
    lambda children: st.one_of(
        st.tuples(st.sampled_from(UNARY), children),
        st.tuples(st.sampled_from(BINARY), children, children),
    ),
    max_leaves=8,
)


def _build(tree):
    def f(x, y):
        def ev(t):
            if t == "x":
                return x
            if t == "y":
                return y
            if len(t) == 2:
                return _unary(t[0])(ev(t[1]))
            return _binary(t[0])(ev(t[1]), ev(t[2]))

        return ev(tree)

    return f


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program, st.integers(0, 2**31 - 1))
def test_optimizer_preserves_values(tree, seed):
    f = _build(tree)
    rng = np.random.RandomState(seed % (2**32))
    x, y = rng.uniform(-2, 2, SHAPE), rng.uniform(-2, 2, SHAPE)
    module = lower(f, x, y).module
    inline_calls(module)
    before = module.clone()
    optimize(module)
    module.verify()
    want = jax.jit(build_function(before, "main"))(x, y)
    got = jax.jit(build_function(module, "main"))(x, y)
    for w, g in zip(want, got):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-12, atol=1e-12)
