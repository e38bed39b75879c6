"""Reverse loops XLA updates in place (src/zymase/ad/rules/loop_buffers.py).

Structural checks on the compiled HLO of zymase.grad: no ``copy`` of a buffer of the
loop's length inside a while body (a copy per iteration makes the gradient O(n^2)), and
the gradients of every form the rewrite touches, against jax.grad in float64."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import zymase
from zymase.ad.rules import control

pytestmark = pytest.mark.usefixtures("x64")


def _computations(text: str) -> dict[str, list[str]]:
    comps: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        head = re.match(r"^(?:ENTRY )?%(\S+) .*\{$", line)
        if head:
            current = head.group(1)
            comps[current] = []
        elif line.startswith("}"):
            current = None
        elif current is not None:
            comps[current].append(line)
    return comps


def _calls(comps: dict[str, list[str]], name: str) -> list[str]:
    """The lines of computation ``name`` and of the computations it calls."""
    lines = list(comps[name])
    for line in comps[name]:
        for callee in re.findall(r"calls=%([\w.\-]+)", line):
            lines += _calls(comps, callee)
    return lines


def loop_copies(fn, *args, min_elements: int, reverse_only: bool = False) -> dict[str, int]:
    """For each while body of the compiled ``fn``: how many ``copy`` instructions of
    arrays with at least ``min_elements`` elements it runs per iteration. With
    ``reverse_only``, only the loops whose condition counts down (``>= 0``): zymase's
    reverse loops."""
    text = jax.jit(fn).lower(*args).compile().as_text()
    comps = _computations(text)
    bodies = []
    for lines in comps.values():
        for line in lines:
            m = re.search(r" while\(.*condition=%([\w.\-]+), body=%([\w.\-]+)", line)
            if m and (not reverse_only or any("direction=GE" in c for c in _calls(comps, m.group(1)))):
                bodies.append(m.group(2))
    assert bodies, "no while loop in the compiled gradient"
    counts = {}
    for body in bodies:
        n = 0
        for line in comps[body]:
            m = re.search(r"= \w+\[([\d,]*)\]\S* copy\(", line)
            if m and int(np.prod([int(d) for d in m.group(1).split(",") if d])) >= min_elements:
                n += 1
        counts[body] = n
    return counts


def _check_grad(f, *args, argnums=0):
    got = zymase.grad(f, argnums=argnums)(*args)
    want = jax.jit(jax.grad(f, argnums=argnums))(*args)
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def normalize_loss(x, w):
    def body(i, out):
        return out.at[i].set(x[i] / jnp.sqrt(jnp.sum(x * x)))

    return jnp.sum(lax.fori_loop(0, x.shape[0], body, jnp.zeros_like(x)) * w)


def recurrence_loss(x, a):
    """A true recurrence (not raisable to tensor ops) that also writes out[i]."""

    def body(i, carry):
        h, out = carry
        h = jnp.tanh(a * h + x[i])
        return h, out.at[i].set(h * h)

    h, out = lax.fori_loop(0, x.shape[0], body, (jnp.zeros(()), jnp.zeros_like(x)))
    return h + jnp.sum(out * jnp.cos(x))


def test_vector_norm_reverse_loop_copies_no_buffer(monkeypatch):
    monkeypatch.setenv("ZYMASE_OPT", "0")  # keep the loop (the optimizer would raise it)
    n = 48
    x = jnp.linspace(0.5, 1.5, n)
    w = jnp.cos(jnp.arange(n) * 1.0)
    copies = loop_copies(zymase.grad(normalize_loss), x, w, min_elements=n)
    assert all(c == 0 for c in copies.values()), copies
    _check_grad(normalize_loss, x, w)


@pytest.mark.parametrize("opt", ["0", "1"])
def test_recurrence_writing_rows_copies_no_buffer(monkeypatch, opt):
    monkeypatch.setenv("ZYMASE_OPT", opt)
    n = 40
    x = jnp.sin(jnp.arange(n) * 0.7)
    copies = loop_copies(zymase.grad(recurrence_loss, argnums=(0, 1)), x, 0.8, min_elements=n)
    assert copies and all(c == 0 for c in copies.values()), copies
    _check_grad(recurrence_loss, x, 0.8, argnums=(0, 1))


def test_scan_outputs_copy_nothing():
    steps, hidden = 30, 8
    rs = np.random.RandomState(0)
    w = jnp.asarray(rs.randn(hidden, hidden) / 3)
    xs = jnp.asarray(rs.randn(steps, hidden))

    def loss(w, xs):
        def step(h, x):
            h = jnp.tanh(x + h @ w)
            return h, h

        _, hs = lax.scan(step, jnp.zeros(hidden), xs)
        return jnp.sum(hs * hs)

    copies = loop_copies(zymase.grad(loss, argnums=(0, 1)), w, xs, min_elements=steps * hidden)
    assert all(c == 0 for c in copies.values()), copies
    _check_grad(loss, w, xs, argnums=(0, 1))


# ---------------------------------------------------------------- gradients of the forms


def test_written_rows_of_an_active_buffer_get_no_cotangent():
    """Half the rows of x are overwritten: their cotangent is zeroed after the loop, the
    others pass through."""
    n = 10

    def f(x):
        out = lax.fori_loop(0, n // 2, lambda i, o: o.at[2 * i].set(x[2 * i] ** 3), x)
        return jnp.sum(out * jnp.arange(1.0, n + 1))

    _check_grad(f, jnp.linspace(0.2, 1.4, n))


def test_dynamic_update_slice_windows_of_two_rows():
    n, m = 12, 3

    def f(x, y):
        def body(i, out):
            win = jnp.tanh(lax.dynamic_slice(x, (2 * i, 0), (2, m))) * y
            return lax.dynamic_update_slice(out, win, (2 * i, 0))

        out = lax.fori_loop(0, n // 2 - 1, body, x * 2.0)
        return jnp.sum(jnp.sin(out))

    rs = np.random.RandomState(1)
    _check_grad(f, jnp.asarray(rs.randn(n, m)), jnp.asarray(rs.randn(m)), argnums=(0, 1))


def test_scatter_dropping_windows_out_of_range():
    n = 8

    def f(x):
        def body(i, out):
            return out.at[i + 3].set(x[i] * x[i], mode="drop")

        return jnp.sum(lax.fori_loop(0, n, body, x) * jnp.arange(1.0, n + 1))

    _check_grad(f, jnp.linspace(-1.0, 1.0, n))


@pytest.mark.parametrize("opt", ["0", "1"])
def test_cotangent_read_and_zeroed_is_read_one_iteration_early(monkeypatch, opt):
    """out[i] = out[i-1] x[i] + 1 reads and overwrites its buffer: the reverse loop reads
    ct[i] and zeroes it; the read moves to the end of the previous iteration (on the
    buffer that iteration yields), and the reverse loop copies nothing. (The forward loop
    is the user's own and XLA copies it, as it does for jax.grad.)"""
    monkeypatch.setenv("ZYMASE_OPT", opt)
    n = 40

    def cumulative(x):
        def body(i, out):
            return out.at[i].set(out[i - 1] * x[i] + 1.0)

        return jnp.sum(lax.fori_loop(1, n, body, x) ** 2)

    x = jnp.linspace(0.1, 0.9, n)
    copies = loop_copies(zymase.grad(cumulative), x, min_elements=n, reverse_only=True)
    assert all(c == 0 for c in copies.values()), copies
    _check_grad(cumulative, x)


def test_overlapping_or_read_buffers_keep_the_zeroing():
    """Windows that repeat (i // 2) and buffers the body also reads are not write-only:
    the reverse loop zeroes the window it read, and the gradient stays right."""
    n = 8

    def repeat(x):
        def body(i, out):
            return out.at[i // 2].set(x[i] * out[i // 2] + x[i])

        return jnp.sum(lax.fori_loop(0, n, body, x) ** 2)

    def cumulative(x):
        def body(i, out):
            return out.at[i].set(out[i - 1] * x[i] + 1.0)

        return jnp.sum(lax.fori_loop(1, n, body, x) ** 2)

    _check_grad(repeat, jnp.linspace(0.1, 0.9, n))
    _check_grad(cumulative, jnp.linspace(0.1, 0.9, n))


def test_tape_log_still_records_the_loop():
    control.TAPE_LOG.clear()
    n = 16
    _check_grad(normalize_loss, jnp.linspace(0.5, 1.5, n), jnp.ones(n))
    assert all(e["residual_bytes"] <= 8 * n for e in control.TAPE_LOG), control.TAPE_LOG


# ---------------------------------------------------------------- products summed after the loop


def _lifted(f, *args, argnums):
    control.TAPE_LOG.clear()
    _check_grad(f, *args, argnums=argnums)
    return [e["lifted_products"] for e in control.TAPE_LOG]


def test_rnn_weight_gradients_are_one_contraction_after_the_loop():
    steps, hidden, inputs = 12, 6, 4
    rs = np.random.RandomState(2)
    params = {"wx": jnp.asarray(rs.randn(inputs, hidden) / 2), "wh": jnp.asarray(rs.randn(hidden, hidden) / 3), "b": jnp.asarray(rs.randn(hidden))}
    xs = jnp.asarray(rs.randn(steps, inputs))

    def loss(params, xs):
        def step(h, x):
            h = jnp.tanh(x @ params["wx"] + h @ params["wh"] + params["b"])
            return h, h

        _, hs = lax.scan(step, jnp.zeros(hidden), xs)
        return jnp.sum(hs * hs)

    # wx's and wh's outer products (b's cotangent stays a per-step sum)
    assert _lifted(loss, params, xs, argnums=(0, 1)) == [2]


def test_products_with_contracted_and_batched_dimensions():
    steps, batch, n, m = 7, 3, 8, 5
    rs = np.random.RandomState(3)
    w = jnp.asarray(rs.randn(n, n) / 2)
    v = jnp.asarray(rs.randn(batch, n, m) / 2)
    h0 = jnp.asarray(rs.randn(batch, n))

    def loss(w, v, h0):
        def body(i, carry):
            h, acc = carry
            h = jnp.sin(h @ w) + 0.1 * i  # batch contracted in w's cotangent
            y = jnp.einsum("bn,bnm->bm", h, v)  # batched: v's cotangent keeps b
            return h, acc + jnp.sum(jnp.cos(y))

        h, acc = lax.fori_loop(0, steps, body, (h0, 0.0))
        return acc + jnp.sum(h * h)

    assert _lifted(loss, w, v, h0, argnums=(0, 1, 2)) == [2]


def test_mixed_terms_and_nested_loops():
    """A captured matrix with a product term and an elementwise term (only the product
    leaves the loop), and an inner loop's products inside an outer reversed loop."""
    n = 4
    rs = np.random.RandomState(4)
    w = jnp.asarray(rs.randn(n, n) / 2)
    x0 = jnp.asarray(rs.randn(n))

    def loss(w, x0):
        def inner(x):
            return lax.fori_loop(0, 5, lambda j, x: jnp.tanh(w @ x + jnp.sum(w * w) * 0.01), x)

        def outer(i, x):
            return inner(x) * 0.9 + 0.1 * jnp.cos(x)

        return jnp.sum(lax.fori_loop(0, 6, outer, x0) ** 2)

    lifted = _lifted(loss, w, x0, argnums=(0, 1))
    assert len(lifted) == 2 and max(lifted) >= 1, lifted
