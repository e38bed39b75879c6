"""The function zymase emits is ordinary JAX: it runs under jax.jit, jax.vmap, jax.grad
and with shardings over several devices.

Under jax.jit the results are bitwise those of jax. Under vmap and grad they are compared
with tight tolerances: jax batches and differentiates the high-level primitives of ``f``
(tanh, logsumexp's custom_jvp, reduce_max ...) while it batches and differentiates the
StableHLO they lowered to in the emitted function: the same mathematics, evaluated along
a different (equally valid) sequence of float operations.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zymase
from corpus import CASES, Case, by_name


def _tol(w: np.ndarray) -> dict:
    """Tolerances by dtype. float32: 2e-6 relative to the leaf's largest magnitude, not
    absolute: an element that is a difference of terms of that size carries their rounding
    (pytree_nested's gradient, leaves of magnitude 12-56, against its float64 value: jax's
    own float32 errors 0.5-1.6e-6, zymase's 0.7-3.3e-6, depending on how XLA fuses)."""
    dtype = np.dtype(w.dtype)
    if dtype == np.float64:
        return dict(rtol=1e-12, atol=1e-13)
    if dtype.itemsize == 2:
        return dict(rtol=1e-2, atol=1e-3)
    scale = float(np.max(np.abs(w))) if w.size else 1.0
    return dict(rtol=2e-6, atol=2e-6 * max(1.0, scale))


def assert_close_tree(got, want, exact: bool = False) -> None:
    got_leaves, got_tree = jax.tree_util.tree_flatten(got)
    want_leaves, want_tree = jax.tree_util.tree_flatten(want)
    assert got_tree == want_tree
    for i, (g, w) in enumerate(zip(got_leaves, want_leaves)):
        assert g.dtype == w.dtype and g.shape == w.shape, f"leaf {i}"
        g, w = np.asarray(g), np.asarray(w)
        if exact or not np.issubdtype(g.dtype, np.inexact) and g.dtype.kind != "V":
            np.testing.assert_array_equal(g, w, err_msg=f"leaf {i}")
        else:
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), err_msg=f"leaf {i}", **_tol(w))


# ----------------------------------------------------------------- jax.jit

JIT_CASES = [c for c in CASES if not c.static_argnums and c.make_kwargs is None]


@pytest.mark.parametrize("case", JIT_CASES, ids=lambda c: c.name)
def test_under_jax_jit_bitwise(case: Case) -> None:
    with case.context():
        args, _ = case.inputs()
        want = jax.jit(case.fn)(*args)
        got = jax.jit(zymase.jit(case.fn))(*args)
        assert_close_tree(got, want, exact=True)


# ----------------------------------------------------------------- jax.vmap

VMAP_CASES = [
    "mlp_f32", "cnn", "scan_rnn", "fori_loop", "while_data_dependent", "cond", "switch", "take",
    "at_add", "sort_argsort", "dynamic_slices", "random_key", "cholesky_solve", "int_arith",
]


def _batch(x):
    x = np.asarray(x)
    other = ~x if x.dtype == np.bool_ else (x * 3 if x.dtype.kind in "iu" else x * np.asarray(0.5, x.dtype) + np.asarray(1, x.dtype))
    return np.stack([x, other.astype(x.dtype)])


@pytest.mark.parametrize("name", VMAP_CASES)
def test_under_vmap(name: str) -> None:
    case = by_name(name)
    with case.context():
        args, _ = case.inputs()
        if name == "random_key":  # a batch of two valid keys
            args = (np.stack([args[0], np.asarray(jax.random.key_data(jax.random.PRNGKey(7)))]), _batch(args[1]))
        else:
            args = tuple(jax.tree_util.tree_map(_batch, a) for a in args)
        want = jax.jit(jax.vmap(case.fn))(*args)  # compiled once
        got = jax.vmap(zymase.jit(case.fn))(*args)
        assert_close_tree(got, want)


def test_vmap_of_loop_has_per_example_trip_counts() -> None:
    case = by_name("while_data_dependent")
    xs = np.stack([np.full(6, 0.1, np.float32), np.full(6, 40.0, np.float32)])
    n, _ = jax.vmap(zymase.jit(case.fn))(xs)
    want, _ = jax.jit(jax.vmap(case.fn))(xs)
    np.testing.assert_array_equal(np.asarray(n), np.asarray(want))
    assert int(n[0]) == 0 and int(n[1]) > 5


# ----------------------------------------------------------------- jax.grad


def _float_sum(out) -> jax.Array:
    leaves = [l for l in jax.tree_util.tree_leaves(out) if jnp.issubdtype(l.dtype, jnp.floating)]
    return sum(jnp.sum(l.astype(jnp.float32 if l.dtype.itemsize < 4 else l.dtype)) for l in leaves)


GRAD_CASES = [
    "mlp_f32", "mlp_f64", "mlp_xent_loss", "mlp_relu_grad_inside", "cnn", "conv_strided_dilated_grouped",
    "maxpool_grad", "attention_masked", "layernorm", "cond", "switch", "take", "getitem", "at_add",
    "at_set", "at_max_min", "at_2d_index", "dynamic_slices", "vmapped_gather", "sort_argsort",
    "top_k", "concat_pad_reverse", "einsum_batched", "mixed_x64", "special_f64", "pytree_nested",
    "unused_args", "nested_jit_calls", "checkpoint_grad", "bfloat16",
]


@pytest.mark.parametrize("name", GRAD_CASES)
def test_grad_matches_jax_grad(name: str) -> None:
    case = by_name(name)
    assert case.jax_grad_ok and case.diff_argnums
    with case.context():
        args, _ = case.inputs()
        want = jax.jit(jax.grad(lambda *a: _float_sum(case.fn(*a)), argnums=case.diff_argnums))(*args)  # compiled once
        got = jax.grad(lambda *a: _float_sum(zymase.jit(case.fn)(*a)), argnums=case.diff_argnums)(*args)
        assert_close_tree(got, want)


def test_grad_of_scalar_loss_under_jit() -> None:
    case = by_name("mlp_xent_loss")
    params, x, labels = case.inputs()[0]
    want = jax.jit(jax.value_and_grad(case.fn))(params, x, labels)
    got = jax.jit(jax.value_and_grad(zymase.jit(case.fn)))(params, x, labels)
    assert_close_tree(got, want)


# ----------------------------------------------------------------- shardings over 4 host devices

SHARDED_SCRIPT = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    import zymase

    assert len(jax.devices()) == 4, jax.devices()
    mesh = Mesh(np.array(jax.devices()).reshape(4), ("data",))

    def f(w, x):
        h = jnp.tanh(x @ w["w1"] + w["b1"])
        return jnp.sum(h * h, axis=-1) + jnp.max(h, axis=-1)

    rs = np.random.RandomState(0)
    w = {"w1": rs.randn(8, 16).astype(np.float32), "b1": rs.randn(16).astype(np.float32)}
    x = jax.device_put(rs.randn(32, 8).astype(np.float32), NamedSharding(mesh, P("data", None)))
    w = jax.device_put(w, NamedSharding(mesh, P()))

    want = jax.jit(f)(w, x)
    got = jax.jit(zymase.jit(f))(w, x)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    assert len(got.sharding.device_set) == 4, got.sharding
    assert got.sharding.is_equivalent_to(want.sharding, got.ndim), (got.sharding, want.sharding)
    g = jax.jit(jax.grad(lambda w, x: jnp.sum(zymase.jit(f)(w, x))))(w, x)
    g_want = jax.jit(jax.grad(lambda w, x: jnp.sum(f(w, x))))(w, x)
    for a, b in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(g_want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-6, atol=2e-6)
    print("SHARDED-OK", got.sharding)
    """
)


def test_sharded_over_four_host_devices() -> None:
    env = dict(os.environ, XLA_FLAGS=(os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4").strip(), JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", SHARDED_SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "SHARDED-OK" in proc.stdout
