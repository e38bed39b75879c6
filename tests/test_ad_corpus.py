"""End to end on the corpus: zymase.grad, zymase.jvp and zymase.vjp against jax.

For every case with differentiable float arguments (``case.diff_argnums``):

- grad: of a scalar loss, the sum of the float outputs times fixed random weights,
  with respect to ``diff_argnums``; compared with ``jax.grad`` (``jax.jacfwd`` for the
  while loops ``jax.grad`` refuses, ``jax_grad_ok=False``);
- jvp: random tangents on the ``diff_argnums`` arguments (zero tangents on the other
  float arguments, float0 on integer ones), compared with ``jax.jvp``;
- vjp: random cotangents on the float outputs, compared with ``jax.vjp`` (the jacfwd of
  <f(x), ct> when ``jax_grad_ok=False``).

Tolerances, by the dtype of the compared leaf: relative 1e-10 for float64, 1e-5 for
float32 (the issue's), and 4 ulps for float16/bfloat16 (these are not the issue's: it
names no half-precision bound, and one rounding of a half-precision partial is already
an ulp). ``atol`` is the same relative bound times the largest magnitude in the leaf:
an entry that is the sum of large terms cancelling to nearly 0 is only determined to
that absolute accuracy by either implementation.

A case zymase cannot differentiate must fail loudly: ``KNOWN_UNSUPPORTED`` lists them
(case, mode) -> the op the DiffError must name. The test asserts the error, so a case
that starts working fails here until it is taken off the list.
"""

from __future__ import annotations

import contextlib
import zlib
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import zymase
from corpus import CASES, Case
from zymase.ad.engine import DiffError

MODES = ("grad", "jvp", "vjp")

# (case, mode) -> a regular expression the DiffError message must match (it names the op).
KNOWN_UNSUPPORTED: dict[tuple[str, str], str] = {
    # (while_data_dependent, whose trip count depends on the data, is reversed by
    # checkpointing since ad/rules/checkpoint.py; jax.grad refuses it, the reference is jacfwd)
}


def _nextafter_without_derivative(x, y):
    return lax.nextafter(lax.stop_gradient(x), lax.stop_gradient(y))


def _at_mul_by_products(x, idx, upd):
    """x.at[idx].mul(upd) as a product over a one-hot mask of the indices."""
    hits = idx[:, None] == jnp.arange(x.shape[0])[None, :]
    return x * jnp.prod(jnp.where(hits[:, :, None], upd[:, None, :], 1.0), axis=0)


# jax differentiates scatter-multiply only with unique indices (the at_mul case repeats
# one): its reference is an equivalent program without scatter.
JAX_REFERENCE_FUNCTIONS = {"at_mul": _at_mul_by_products}


# jax refuses to differentiate some ops zymase declares to have a zero derivative; jax's
# reference is computed with those ops behind stop_gradient.
JAX_REFERENCE_PATCHES = {
    "elementwise_zoo": [(jnp, "nextafter", _nextafter_without_derivative)],
}

DIFF_CASES = [c for c in CASES if c.diff_argnums]


# ----------------------------------------------------------------- helpers


def is_float(x) -> bool:
    return jnp.issubdtype(jax.dtypes.result_type(x), jnp.inexact)


def rtol_for(dtype) -> float:
    dtype = jnp.dtype(dtype)
    if dtype == jnp.float64:
        return 1e-10
    if dtype == jnp.float32:
        return 1e-5
    return 4 * float(jnp.finfo(dtype).eps)


def assert_close(got, want, what: str) -> None:
    got_leaves, got_tree = jax.tree_util.tree_flatten(got)
    want_leaves, want_tree = jax.tree_util.tree_flatten(want)
    assert got_tree == want_tree, f"{what}: tree {got_tree} != {want_tree}"
    for i, (g, w) in enumerate(zip(got_leaves, want_leaves)):
        assert g.dtype == w.dtype, f"{what} leaf {i}: dtype {g.dtype} != {w.dtype}"
        assert g.shape == w.shape, f"{what} leaf {i}: shape {g.shape} != {w.shape}"
        if w.dtype == jax.dtypes.float0:
            continue
        g64, w64 = np.asarray(g, np.float64), np.asarray(w, np.float64)
        if not is_float(w):
            np.testing.assert_array_equal(g64, w64, err_msg=f"{what} leaf {i}")
            continue
        rtol = rtol_for(w.dtype)
        finite = w64[np.isfinite(w64)]
        scale = float(np.max(np.abs(finite))) if finite.size else 0.0
        np.testing.assert_allclose(g64, w64, rtol=rtol, atol=rtol * scale, err_msg=f"{what} leaf {i}")


class Setup:
    """A case reduced to a function of its dynamic positional arguments, with seeded
    tangents, cotangents and loss weights."""

    def __init__(self, case: Case):
        args, kwargs = case.inputs()
        self.static = {i: args[i] for i in case.static_argnums}
        self.dyn_index = [i for i in range(len(args)) if i not in self.static]
        self.args = tuple(args[i] for i in self.dyn_index)
        self.argnums = tuple(self.dyn_index.index(i) for i in case.diff_argnums)
        self.kwargs = kwargs
        self.case = case
        self.as_reference = False
        """Inside jax_reference(): fn runs the case's JAX_REFERENCE_FUNCTIONS entry, if any."""
        self.rs = np.random.RandomState(zlib.crc32(case.name.encode()) + 1)
        self.out = jax.eval_shape(self.fn, *self.args)

    def fn(self, *dyn):
        full = list(dyn)
        for i in sorted(self.static):
            full.insert(i, self.static[i])
        fn = JAX_REFERENCE_FUNCTIONS.get(self.case.name, self.case.fn) if self.as_reference else self.case.fn
        return fn(*full, **self.kwargs)

    def random_like(self, x):
        dt = jax.dtypes.result_type(x)
        return np.asarray(self.rs.randn(*np.shape(x))).astype(dt)

    def tangents(self):
        def one(k, a):
            def leaf(x):
                if not is_float(x):
                    return np.zeros(np.shape(x), jax.dtypes.float0)
                return self.random_like(x) if k in self.argnums else np.zeros(np.shape(x), jax.dtypes.result_type(x))

            return jax.tree_util.tree_map(leaf, a)

        return tuple(one(k, a) for k, a in enumerate(self.args))

    def cotangents(self):
        return jax.tree_util.tree_map(lambda o: self.random_like(o) if is_float(o) else np.zeros(o.shape, jax.dtypes.float0), self.out)

    def loss(self):
        acc = jnp.float64 if self.case.x64 else jnp.float32
        weights = [self.random_like(o) if is_float(o) else None for o in jax.tree_util.tree_leaves(self.out)]

        def loss(*dyn):
            outs = jax.tree_util.tree_leaves(self.fn(*dyn))
            return sum(jnp.sum(o.astype(acc) * w.astype(acc)) for o, w in zip(outs, weights) if w is not None)

        return loss

    def jax_reference(self):
        patches = JAX_REFERENCE_PATCHES.get(self.case.name, [])
        stack = contextlib.ExitStack()
        for module, name, value in patches:
            stack.enter_context(mock.patch.object(module, name, value))
        self.as_reference = True
        stack.callback(setattr, self, "as_reference", False)
        return stack


def run_zymase(setup: Setup, mode: str):
    if mode == "grad":
        return zymase.grad(setup.loss(), argnums=setup.argnums)(*setup.args)
    if mode == "jvp":
        return zymase.jvp(setup.fn, setup.args, setup.tangents())
    out, pullback = zymase.vjp(setup.fn, *setup.args)
    return out, pullback(setup.cotangents())


def diff_leaves(setup: Setup, grads):
    """The cotangents of the ``diff_argnums`` arguments."""
    return tuple(grads[k] for k in setup.argnums)


# ----------------------------------------------------------------- tests


def test_known_unsupported_names_real_cases() -> None:
    names = {c.name for c in DIFF_CASES}
    assert {name for name, _ in KNOWN_UNSUPPORTED} <= names
    assert {mode for _, mode in KNOWN_UNSUPPORTED} <= set(MODES)


VJP_CASES = {c.name for c in DIFF_CASES[::2]}
"""vjp mode on every other case: grad mode already reverses every case with the weights
as cotangents (the loss is the weighted sum of the outputs); vjp adds zymase.vjp's API
(pullback, cotangent pytrees), checked on half the corpus, every kind of program
included."""

PARAMS = [(case, mode) for case in DIFF_CASES for mode in MODES if mode != "vjp" or case.name in VJP_CASES]


@pytest.mark.parametrize("case, mode", PARAMS, ids=[f"{c.name}-{m}" for c, m in PARAMS])
def test_derivative_matches_jax(case: Case, mode: str) -> None:
    with case.context():
        setup = Setup(case)
        expected_error = KNOWN_UNSUPPORTED.get((case.name, mode))
        if expected_error is not None:
            with pytest.raises(DiffError, match=expected_error):
                run_zymase(setup, mode)
            return
        if mode == "grad":
            loss = setup.loss()
            got = zymase.grad(loss, argnums=setup.argnums)(*setup.args)
            with setup.jax_reference():
                reference = jax.grad if case.jax_grad_ok else jax.jacfwd
                # Compiled as one program (eager evaluation compiles every primitive alone).
                want = jax.jit(reference(loss, argnums=setup.argnums))(*setup.args)
            assert_close(got, want, "grad")
        elif mode == "jvp":
            tangents = setup.tangents()
            got_out, got_t = zymase.jvp(setup.fn, setup.args, tangents)
            with setup.jax_reference():
                want_out, want_t = jax.jit(lambda a, t: jax.jvp(setup.fn, a, t))(setup.args, tangents)  # compiled once
            assert_close(got_out, want_out, "jvp primal")
            assert_close(got_t, want_t, "jvp tangent")
        else:
            cts = setup.cotangents()
            got_out, pullback = zymase.vjp(setup.fn, *setup.args)
            got = diff_leaves(setup, pullback(cts))
            with setup.jax_reference():
                if case.jax_grad_ok:

                    def reference(args, cts):
                        out, jax_pullback = jax.vjp(setup.fn, *args)
                        return out, diff_leaves(setup, jax_pullback(cts))

                    want_out, want = jax.jit(reference)(setup.args, cts)  # compiled once
                else:
                    want_out = jax.jit(lambda *a: setup.fn(*a))(*setup.args)

                    def inner(*dyn):
                        outs, ct_leaves = jax.tree_util.tree_leaves(setup.fn(*dyn)), jax.tree_util.tree_leaves(cts)
                        return sum(jnp.sum(o * c) for o, c in zip(outs, ct_leaves) if is_float(o))

                    want = jax.jit(jax.jacfwd(inner, argnums=setup.argnums))(*setup.args)
            assert_close(got_out, want_out, "vjp primal")
            assert_close(got, want, "vjp cotangent")


def test_every_float_case_is_checked() -> None:
    """Each case with float arguments marks some of them differentiable, or has none
    that may be differentiated meaningfully (listed here with the reason)."""
    no_diff_args = {
        "dot_preferred_type": "int8 operands and bfloat16 dots with preferred_element_type; differentiated via bfloat16 elsewhere",
        "bool_logic": "float input only flows through select and a bool cast",
        "argmax_nan": "NaN inputs: the derivative of max at NaN is meaningless",
    }
    for c in CASES:
        if c.diff_argnums:
            continue
        with c.context():
            args, kwargs = c.inputs()
        has_float = any(is_float(x) for x in jax.tree_util.tree_leaves((args, kwargs)) if not isinstance(x, str))
        assert not has_float or c.name in no_diff_args, f"{c.name} has float inputs but no diff_argnums"
