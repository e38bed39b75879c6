"""Loops through AD: three loops whose iterations are independent (zymase raises them to
whole-array ops before differentiating) and two true recurrences (they must stay loops).

Each program is written as a user writes it, with jax.lax.fori_loop; float32, gradient
with respect to every float input. Variants: jax.grad of the loop (baseline), zymase.grad
of the loop, and a bound: jax.grad of the vectorized program (for the recurrences, a
vectorized form a person writes by knowing the math: an associative scan, powers of x).

Raisable:
- pairwise: out[i] = sum_j exp(-(x[i] - x[j])²), loss dot(out, w);
- row_softmax: out[i] = softmax(X[i]) row by row, loss sum(out * W);
- polynomial: acc += c[i] * x**i (a reduction over the coefficient index), loss sum(acc).
Recurrences:
- linear_recurrence: h[i] = a * h[i-1] + x[i], loss dot(h, w) (bound: associative scan);
- horner: acc = acc * x + c[i] over the coefficients (bound: the powers of x times c).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import zymase

from .harness import Row, Variant, measure

NAME = "loops"


def pairwise(x, w):
    def body(i, out):
        return out.at[i].set(jnp.sum(jnp.exp(-((x[i] - x) ** 2))))

    return jnp.dot(lax.fori_loop(0, x.shape[0], body, jnp.zeros_like(x)), w)


def pairwise_vec(x, w):
    return jnp.dot(jnp.sum(jnp.exp(-((x[:, None] - x[None, :]) ** 2)), axis=1), w)


def row_softmax(X, W):
    def body(i, out):
        return out.at[i].set(jax.nn.softmax(X[i]))

    return jnp.sum(lax.fori_loop(0, X.shape[0], body, jnp.zeros_like(X)) * W)


def row_softmax_vec(X, W):
    return jnp.sum(jax.nn.softmax(X, axis=1) * W)


def polynomial(c, x):
    def body(i, acc):
        return acc + c[i] * x ** i.astype(x.dtype)

    return jnp.sum(lax.fori_loop(0, c.shape[0], body, jnp.zeros_like(x)))


def polynomial_vec(c, x):
    powers = x[None, :] ** jnp.arange(c.shape[0], dtype=x.dtype)[:, None]
    return jnp.sum(c @ powers)


def linear_recurrence(a, x, w):
    def body(i, carry):
        h, hs = carry
        h = a * h + x[i]
        return h, hs.at[i].set(h)

    _, hs = lax.fori_loop(0, x.shape[0], body, (jnp.zeros((), x.dtype), jnp.zeros_like(x)))
    return jnp.dot(hs, w)


def linear_recurrence_vec(a, x, w):
    def combine(p, q):
        return (p[0] * q[0], q[0] * p[1] + q[1])

    _, hs = lax.associative_scan(combine, (jnp.full_like(x, a), x))
    return jnp.dot(hs, w)


def horner(c, x):
    def body(i, acc):
        return acc * x + c[i]

    return jnp.sum(lax.fori_loop(0, c.shape[0], body, jnp.zeros_like(x)))


def horner_vec(c, x):
    powers = x[None, :] ** jnp.arange(c.shape[0] - 1, -1, -1, dtype=x.dtype)[:, None]
    return jnp.sum(c @ powers)


def _problems(mode: str):
    rs = np.random.RandomState(0)
    f32 = lambda *s: jnp.asarray(rs.randn(*s), jnp.float32)  # noqa: E731
    small = mode == "tiny"
    n = 16 if small else 512
    rows_, cols = (4, 8) if small else (512, 256)
    deg, pts = (5, 8) if small else (64, 4096)
    length = 16 if small else 4096
    a = jnp.asarray(0.9, jnp.float32)
    return [
        ("pairwise", f"n = {n}", pairwise, pairwise_vec, (f32(n), f32(n)), (0, 1)),
        ("row_softmax", f"{rows_} x {cols}", row_softmax, row_softmax_vec, (f32(rows_, cols), f32(rows_, cols)), (0,)),
        ("polynomial", f"degree {deg}, {pts} points", polynomial, polynomial_vec, (f32(deg) * 0.5, jnp.asarray(rs.rand(pts), jnp.float32)), (0, 1)),
        ("linear_recurrence (stays a loop)", f"n = {length}", linear_recurrence, linear_recurrence_vec, (a, f32(length), f32(length)), (0, 1)),
        ("horner (stays a loop)", f"degree {deg}, {pts} points", horner, horner_vec, (f32(deg) * 0.5, jnp.asarray(rs.rand(pts), jnp.float32)), (0, 1)),
    ]


def run(mode: str = "full") -> dict:
    runs = {"tiny": 1, "quick": 10, "full": 30}[mode]
    rows: list[Row] = []
    for name, config, f, bound, args, argnums in _problems(mode):
        rows += measure(NAME, f"{name}: gradient, {config}", [
            Variant("jax.grad", jax.jit(jax.grad(f, argnums)), args, kind="jax"),
            Variant("zymase.grad", jax.jit(zymase.grad(f, argnums)), args),
            Variant("vectorized (jax.grad)", jax.jit(jax.grad(bound, argnums)), args, kind="bound"),
        ], runs=runs)
    return {"rows": rows}
