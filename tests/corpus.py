"""A corpus of small JAX programs for end-to-end tests.

Each :class:`Case` is a named program: a function, a function that makes concrete
example inputs from a seeded ``numpy.random.RandomState``, and the metadata later tests
need (which positional arguments are differentiable floats, whether ``jax.grad`` accepts
the program, static arguments, keyword arguments).

64-bit programs: JAX runs in its default 32-bit mode in the test session; a case with
``x64=True`` must be traced, run and compared inside ``case.context()``, which enables
x64 for that block only (``jax.enable_x64(True)``). Inputs are made inside the same block
(``case.inputs()`` does not depend on the mode: it returns numpy arrays with explicit
dtypes). Every 32-bit case gives its inputs and constants explicit dtypes, so it means the
same thing whatever the mode.

Use::

    for case in CASES:
        with case.context():
            args, kwargs = case.inputs()
            out = jax.jit(case.fn, static_argnums=case.static_argnums)(*args, **kwargs)
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

RS = np.random.RandomState


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable[..., Any]
    make_args: Callable[[RS], tuple]
    # Positional arguments that are differentiable floating-point values (pytrees allowed).
    diff_argnums: tuple[int, ...] = ()
    static_argnums: tuple[int, ...] = ()
    make_kwargs: Callable[[RS], dict] | None = None
    x64: bool = False
    # False when jax.grad refuses the program (reverse mode through while_loop) or the
    # derivative is meaningless (integer outputs only).
    jax_grad_ok: bool = True
    tags: frozenset[str] = field(default_factory=frozenset)

    def inputs(self) -> tuple[tuple, dict]:
        """Concrete example (args, kwargs), the same on every call."""
        rs = RS(zlib.crc32(self.name.encode()))
        args = self.make_args(rs)
        kwargs = self.make_kwargs(rs) if self.make_kwargs is not None else {}
        return args, kwargs

    def context(self) -> contextlib.AbstractContextManager:
        return jax.enable_x64(True) if self.x64 else contextlib.nullcontext()

    def __repr__(self) -> str:
        return f"Case({self.name})"


CASES: list[Case] = []


def case(name: str, make_args: Callable[[RS], tuple], **meta: Any) -> Callable[[Callable], Callable]:
    tags = frozenset(meta.pop("tags", ()))

    def register(fn: Callable) -> Callable:
        if any(c.name == name for c in CASES):
            raise ValueError(f"duplicate case {name}")
        CASES.append(Case(name, fn, make_args, tags=tags, **meta))
        return fn

    return register


def by_name(name: str) -> Case:
    for c in CASES:
        if c.name == name:
            return c
    raise KeyError(name)


# ----------------------------------------------------------------- input helpers


def f32(rs: RS, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (scale * rs.randn(*shape)).astype(np.float32)


def f64(rs: RS, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (scale * rs.randn(*shape)).astype(np.float64)


def i32(rs: RS, low: int, high: int, *shape: int) -> np.ndarray:
    return rs.randint(low, high, size=shape).astype(np.int32)


def spd(rs: RS, n: int, dtype: Any) -> np.ndarray:
    a = rs.randn(n, n)
    return (a @ a.T + n * np.eye(n)).astype(dtype)


def mlp_params(rs: RS, sizes: list[int], dtype: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        ((rs.randn(m, n) / np.sqrt(m)).astype(dtype), (0.1 * rs.randn(n)).astype(dtype))
        for m, n in zip(sizes[:-1], sizes[1:])
    ]


# ----------------------------------------------------------------- networks


def mlp(params, x):
    for w, b in params[:-1]:
        x = jnp.tanh(x @ w + b)
    w, b = params[-1]
    return x @ w + b


case("mlp_f32", lambda rs: (mlp_params(rs, [8, 16, 16, 4], np.float32), f32(rs, 5, 8)), diff_argnums=(0, 1), tags={"net"})(mlp)
case("mlp_f64", lambda rs: (mlp_params(rs, [8, 16, 16, 4], np.float64), f64(rs, 5, 8)), diff_argnums=(0, 1), x64=True, tags={"net"})(mlp)


@case(
    "mlp_xent_loss",
    lambda rs: (mlp_params(rs, [6, 12, 3], np.float32), f32(rs, 7, 6), i32(rs, 0, 3, 7)),
    diff_argnums=(0,),
    tags={"net"},
)
def mlp_xent_loss(params, x, labels):
    logits = mlp(params, x)
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))


@case(
    "mlp_relu_grad_inside",
    lambda rs: (mlp_params(rs, [5, 9, 1], np.float32), f32(rs, 4, 5)),
    diff_argnums=(0, 1),
    tags={"net", "grad"},
)
def mlp_relu_grad_inside(params, x):
    def loss(p):
        h = x
        for w, b in p[:-1]:
            h = jax.nn.relu(h @ w + b)
        w, b = p[-1]
        return jnp.sum((h @ w + b) ** 2)

    return jax.grad(loss)(params)


def _cnn_args(rs: RS) -> tuple:
    params = {
        "conv1": f32(rs, 3, 3, 2, 4, scale=0.3),
        "conv2": f32(rs, 3, 3, 4, 6, scale=0.3),
        "dense": f32(rs, 6, 3, scale=0.3),
    }
    return params, f32(rs, 2, 8, 8, 2)


@case("cnn", _cnn_args, diff_argnums=(0, 1), tags={"net", "conv"})
def cnn(params, x):
    dn = ("NHWC", "HWIO", "NHWC")
    h = lax.conv_general_dilated(x, params["conv1"], (1, 1), "SAME", dimension_numbers=dn)
    h = jax.nn.relu(h)
    h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")  # max pool
    h = lax.conv_general_dilated(h, params["conv2"], (1, 1), ((1, 1), (1, 1)), dimension_numbers=dn)
    h = jnp.tanh(h)
    h = lax.reduce_window(h, 0.0, lax.add, (1, 2, 2, 1), (1, 2, 2, 1), "VALID") / 4.0  # avg pool
    h = jnp.mean(h, axis=(1, 2))
    return h @ params["dense"]


@case(
    "conv_strided_dilated_grouped",
    lambda rs: (f32(rs, 2, 4, 9, 9), f32(rs, 6, 2, 3, 3, scale=0.3)),
    diff_argnums=(0, 1),
    tags={"conv"},
)
def conv_strided_dilated_grouped(x, w):
    return lax.conv_general_dilated(
        x, w, window_strides=(2, 1), padding=((1, 2), (0, 1)), lhs_dilation=(1, 2), rhs_dilation=(2, 1), feature_group_count=2
    )


@case("maxpool_grad", lambda rs: (f32(rs, 2, 6, 6, 3),), diff_argnums=(0,), tags={"conv", "grad"})
def maxpool_grad(x):
    def pool(y):
        return jnp.sum(lax.reduce_window(y, -jnp.inf, lax.max, (1, 3, 3, 1), (1, 2, 2, 1), "SAME") ** 2)

    return jax.grad(pool)(x)


def _attention_args(rs: RS) -> tuple:
    return f32(rs, 2, 6, 8), f32(rs, 2, 6, 8), f32(rs, 2, 6, 8), rs.rand(2, 6) > 0.3


@case("attention_masked", _attention_args, diff_argnums=(0, 1, 2), tags={"net"})
def attention_masked(q, k, v, keep):
    scores = jnp.einsum("bqd,bkd->bqk", q, k) / jnp.sqrt(jnp.float32(q.shape[-1]))
    causal = jnp.tril(jnp.ones((q.shape[1], k.shape[1]), dtype=bool))
    mask = causal[None] & keep[:, None, :]
    scores = jnp.where(mask, scores, jnp.float32(-1e9))
    weights = jax.nn.softmax(scores, axis=-1)
    return jnp.einsum("bqk,bkd->bqd", weights, v)


@case("layernorm", lambda rs: (f32(rs, 4, 10), f32(rs, 10), f32(rs, 10)), diff_argnums=(0, 1, 2), tags={"net"})
def layernorm(x, gamma, beta):
    mu = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean((x - mu) ** 2, axis=-1, keepdims=True)
    return gamma * (x - mu) * lax.rsqrt(var + jnp.float32(1e-5)) + beta


def _rnn_args(rs: RS) -> tuple:
    params = {"wx": f32(rs, 3, 5, scale=0.5), "wh": f32(rs, 5, 5, scale=0.5), "b": f32(rs, 5)}
    return params, f32(rs, 7, 3), np.zeros(5, np.float32)


@case("scan_rnn", _rnn_args, diff_argnums=(0, 1, 2), tags={"loop"})
def scan_rnn(params, xs, h0):
    def step(h, x):
        h = jnp.tanh(x @ params["wx"] + h @ params["wh"] + params["b"])
        return h, jnp.sum(h)

    h, ys = lax.scan(step, h0, xs)
    return h, ys


# ----------------------------------------------------------------- control flow


@case("fori_loop", lambda rs: (f32(rs, 4), f32(rs, 4, 4, scale=0.3)), diff_argnums=(0, 1), tags={"loop"})
def fori_loop(x, a):
    return lax.fori_loop(0, 6, lambda i, y: jnp.sin(a @ y) + jnp.float32(0.1) * i.astype(jnp.float32), x)


@case("while_fixed", lambda rs: (f32(rs, 3),), diff_argnums=(0,), jax_grad_ok=False, tags={"loop"})
def while_fixed(x):
    def body(c):
        i, y = c
        return i + 1, jnp.cos(y) * y

    return lax.while_loop(lambda c: c[0] < 5, body, (jnp.int32(0), x))[1]


@case("while_data_dependent", lambda rs: (f32(rs, 6, scale=10.0),), diff_argnums=(0,), jax_grad_ok=False, tags={"loop"})
def while_data_dependent(x):
    """Halve x until its norm is below 1: the trip count depends on the data."""

    def cond(c):
        return jnp.sum(c[1] * c[1]) > jnp.float32(1.0)

    def body(c):
        return c[0] + 1, c[1] * jnp.float32(0.5)

    n, y = lax.while_loop(cond, body, (jnp.int32(0), x))
    return n, y


@case("cond", lambda rs: (f32(rs, 5), f32(rs, 5)), diff_argnums=(0, 1), tags={"control"})
def cond(x, y):
    return lax.cond(jnp.sum(x) > jnp.sum(y), lambda a, b: a * b, lambda a, b: jnp.sin(a) - b, x, y)


@case("switch", lambda rs: (np.int32(5), f32(rs, 4)), diff_argnums=(1,), tags={"control"})
def switch(i, x):
    branches = [lambda v: v + 1, lambda v: jnp.exp(v), lambda v: v * v]
    return lax.switch(i, branches, x), lax.switch(i - 4, branches, x), lax.switch(-3, branches, x)


@case("nested_control", lambda rs: (f32(rs, 4),), diff_argnums=(0,), tags={"control", "loop"})
def nested_control(x):
    def body(i, y):
        return lax.cond(i % 2 == 0, lambda z: z * jnp.float32(0.9), lambda z: jnp.tanh(z + 1), y)

    return lax.fori_loop(0, 5, body, x)


# ----------------------------------------------------------------- indexing


@case("take", lambda rs: (f32(rs, 6, 3), i32(rs, -6, 6, 4)), diff_argnums=(0,), tags={"index"})
def take(x, idx):
    return jnp.take(x, idx, axis=0), jnp.take(x, idx[:2], axis=1, mode="clip"), jnp.take(x, idx + 3, axis=0, mode="fill", fill_value=-1.0)


@case("getitem", lambda rs: (f32(rs, 5, 4, 3), i32(rs, 0, 5, 3), np.int32(2)), diff_argnums=(0,), tags={"index"})
def getitem(x, idx, j):
    return x[idx], x[:, j], x[idx, 1:3], x[..., ::-1][j], x[1:, None, ::2, 1]


@case("at_add", lambda rs: (f32(rs, 6, 2), np.array([0, 2, 2, 5, 7, -1], np.int32), f32(rs, 6, 2)), diff_argnums=(0, 2), tags={"index"})
def at_add(x, idx, upd):
    return x.at[idx].add(upd), x.at[idx].add(upd, mode="drop")


@case("at_set", lambda rs: (f32(rs, 7), np.array([1, 4, 6], np.int32), f32(rs, 3)), diff_argnums=(0, 2), tags={"index"})
def at_set(x, idx, upd):
    return x.at[idx].set(upd), x.at[2:5].set(jnp.float32(0.0)), x.at[idx + 4].set(upd, mode="drop")


@case("at_mul", lambda rs: (f32(rs, 4, 3), np.array([3, 0, 3], np.int32), f32(rs, 3, 3)), diff_argnums=(0, 2), tags={"index"})
def at_mul(x, idx, upd):
    return x.at[idx].mul(upd)


@case("at_max_min", lambda rs: (f32(rs, 8), i32(rs, 0, 8, 5), f32(rs, 5)), diff_argnums=(0, 2), tags={"index"})
def at_max_min(x, idx, upd):
    return x.at[idx].max(upd), x.at[idx].min(upd)


@case("at_2d_index", lambda rs: (f32(rs, 4, 5), i32(rs, 0, 4, 3), i32(rs, 0, 5, 3), f32(rs, 3)), diff_argnums=(0, 3), tags={"index"})
def at_2d_index(x, rows, cols, upd):
    return x.at[rows, cols].add(upd), x[rows, cols], x.at[:, cols].set(jnp.float32(7.0))


@case("dynamic_slices", lambda rs: (f32(rs, 6, 5), f32(rs, 2, 3), np.int32(3), np.int32(-1)), diff_argnums=(0, 1), tags={"index"})
def dynamic_slices(x, upd, i, j):
    a = lax.dynamic_slice(x, (i, j), (2, 3))
    b = lax.dynamic_update_slice(x, upd, (i, jnp.int32(1)))
    c = lax.dynamic_slice_in_dim(x, i + 4, 3, axis=0)  # clamped into range
    return a, b, c


@case("vmapped_gather", lambda rs: (f32(rs, 3, 5), i32(rs, 0, 5, 3, 2)), diff_argnums=(0,), tags={"index"})
def vmapped_gather(x, idx):
    return jax.vmap(lambda row, i: row[i])(x, idx)


# ----------------------------------------------------------------- sorting and scans


@case("sort_argsort", lambda rs: (f32(rs, 4, 7), i32(rs, -3, 3, 9)), diff_argnums=(0,), tags={"sort"})
def sort_argsort(x, k):
    return jnp.sort(x, axis=-1), jnp.argsort(x, axis=0), jnp.sort(k), jnp.argsort(k, stable=True), jnp.sort(x, axis=1, descending=True)


@case("sort_nan_multikey", lambda rs: (np.array([3.0, np.nan, -0.0, 0.0, -np.inf, 1.0, np.nan, 3.0], np.float32), i32(rs, 0, 3, 8)), diff_argnums=(0,), tags={"sort"})
def sort_nan_multikey(x, k):
    return jnp.sort(x), lax.sort((k, x), num_keys=2), lax.sort((x, k), num_keys=1, is_stable=True)


@case("top_k", lambda rs: (f32(rs, 3, 10),), diff_argnums=(0,), tags={"sort"})
def top_k(x):
    return lax.top_k(x, 4)


@case("cumulative", lambda rs: (f32(rs, 5, 6), i32(rs, -4, 4, 6)), diff_argnums=(0,), tags={"scan"})
def cumulative(x, k):
    return jnp.cumsum(x, axis=1), jnp.cumprod(x, axis=0), lax.cummax(x, axis=1), lax.cummin(k), jnp.cumsum(k), lax.cumlogsumexp(x, axis=0)


# ----------------------------------------------------------------- shapes


@case("concat_pad_reverse", lambda rs: (f32(rs, 3, 4), f32(rs, 2, 4)), diff_argnums=(0, 1), tags={"shape"})
def concat_pad_reverse(x, y):
    c = jnp.concatenate([x, y, x[:1]], axis=0)
    p = lax.pad(x, jnp.float32(-2.0), ((1, 2, 1), (-1, 0, 2)))
    return c, p, lax.rev(c, (0, 1)), jnp.pad(y, ((0, 1), (2, 0)), mode="reflect"), jnp.flip(y, 1)


@case("reshape_transpose_broadcast", lambda rs: (f32(rs, 2, 3, 4), f32(rs, 4)), diff_argnums=(0, 1), tags={"shape"})
def reshape_transpose_broadcast(x, v):
    t = jnp.transpose(x, (2, 0, 1)).reshape(4, 6)
    return t * v[:, None], jnp.broadcast_to(v, (3, 4)), x.reshape(-1)[::3], jnp.squeeze(x[:, :1, :], 1), jnp.expand_dims(v, (0, 2))


@case("einsum_batched", lambda rs: (f32(rs, 3, 4, 5), f32(rs, 3, 5, 2), f32(rs, 2, 4)), diff_argnums=(0, 1, 2), tags={"linalg"})
def einsum_batched(a, b, c):
    return jnp.einsum("bij,bjk->bik", a, b), jnp.einsum("bij,bjk,ki->b", a, b, c), jnp.tensordot(a, c, axes=((1,), (1,)))


@case("dot_preferred_type", lambda rs: (i32(rs, -100, 100, 3, 4).astype(np.int8), i32(rs, -100, 100, 4, 2).astype(np.int8), f32(rs, 3, 4).astype(jnp.bfloat16), f32(rs, 4, 5).astype(jnp.bfloat16)), tags={"linalg"})
def dot_preferred_type(a, b, c, d):
    return (
        lax.dot(a, b, preferred_element_type=jnp.int32),
        lax.dot(c, d, preferred_element_type=jnp.float32),
        lax.dot(c, d),
        lax.dot_general(c, d, (((1,), (0,)), ((), ())), precision=lax.Precision.HIGHEST, preferred_element_type=jnp.float32),
    )


# ----------------------------------------------------------------- integers and booleans


@case("int_arith", lambda rs: (i32(rs, -50, 50, 8), i32(rs, 1, 6, 8)), tags={"int"})
def int_arith(a, b):
    return (
        a + b * 3,
        a // b,
        a % b,
        lax.rem(a, b),
        a << (b % 4),
        a >> (b % 4),
        lax.shift_right_logical(a, b % 4),
        a & b,
        a | b,
        a ^ b,
        ~a,
        jnp.abs(a),
        jnp.sign(a),
        jnp.maximum(a, b),
        jnp.where(a > b, a, -b),
        (a == b) | (a < 0),
        jnp.clip(a, -10, 10),
        a**2,
    )


@case("uint_bits", lambda rs: (rs.randint(0, 2**31, size=6).astype(np.uint32) * np.uint32(3), rs.randint(0, 32, size=6).astype(np.uint32)), tags={"int"})
def uint_bits(a, s):
    return a >> s, a << s, lax.population_count(a), lax.clz(a), a * np.uint32(2654435761), a // np.uint32(7), a.astype(np.int32), (a > s)


@case("bool_logic", lambda rs: (rs.rand(7) > 0.5, rs.rand(7) > 0.5, f32(rs, 7)), tags={"bool"})
def bool_logic(p, q, x):
    return p & q, p | q, p ^ q, ~p, jnp.any(p), jnp.all(q), jnp.where(p, x, -x), jnp.sum(p), p.astype(jnp.float32) * x, jnp.logical_xor(p, x > 0)


@case("comparisons", lambda rs: (np.array([1.0, -0.0, 0.0, np.nan, np.inf, -np.inf, 2.5], np.float32), f32(rs, 7)), diff_argnums=(1,), tags={"float"})
def comparisons(x, y):
    return x < y, x <= y, x == y, x != y, jnp.isnan(x), jnp.isinf(x), jnp.isfinite(x), jnp.maximum(x, y), jnp.minimum(x, y), jnp.nan_to_num(x)


@case("int64_x64", lambda rs: (rs.randint(-(2**40), 2**40, size=5).astype(np.int64), rs.randint(1, 9, size=5).astype(np.int64)), x64=True, tags={"int", "x64"})
def int64_x64(a, b):
    return a * b, a // b, a >> b, jnp.sum(a), jnp.cumsum(b), a.astype(jnp.float64) / b


@case("mixed_x64", lambda rs: (f64(rs, 4), f32(rs, 4), rs.randint(0, 10, size=4).astype(np.int64)), diff_argnums=(0, 1), x64=True, tags={"x64"})
def mixed_x64(x, y, n):
    return x * y, jnp.sin(x) + n, y.astype(jnp.float64) ** 2, jnp.float32(1.5) * y, jnp.exp(x).astype(jnp.float32)


# ----------------------------------------------------------------- floats


@case("elementwise_zoo", lambda rs: (f32(rs, 9) * 3, rs.rand(9).astype(np.float32) + 0.1), diff_argnums=(0, 1), tags={"float"})
def elementwise_zoo(x, y):
    return (
        jnp.floor(x), jnp.ceil(x), jnp.round(x), lax.round(x, lax.RoundingMethod.AWAY_FROM_ZERO), jnp.sign(x),
        jnp.abs(x), jnp.exp(x), jnp.expm1(x), jnp.log(y), jnp.log1p(y), jnp.sqrt(y), lax.rsqrt(y), jnp.cbrt(x),
        jnp.sin(x), jnp.cos(x), jnp.tan(x), jnp.tanh(x), jax.nn.sigmoid(x), jnp.power(y, x), jnp.arctan2(x, y),
        jnp.sinh(x), jnp.cosh(x), jnp.arcsinh(x), jnp.arctan(x), jnp.arcsin(y / 2), jnp.arccos(y / 2), lax.rem(x, y),
        jnp.clip(x, -1.0, 1.0), jnp.nextafter(x, y), x**3, 1 / x,
    )


@case("special_functions", lambda rs: (f32(rs, 8), rs.rand(8).astype(np.float32) * 4 + 0.1), diff_argnums=(0, 1), tags={"special"})
def special_functions(x, y):
    return (
        jax.scipy.special.erf(x), jax.scipy.special.erfc(x), jax.scipy.special.erfinv(jnp.tanh(x)),
        jax.scipy.special.gammaln(y), jax.scipy.special.digamma(y), jax.scipy.special.logsumexp(x),
        jax.scipy.special.logsumexp(jnp.stack([x, y]), axis=0), jax.nn.gelu(x), jax.nn.softplus(x),
        jax.scipy.special.xlogy(y, y), jax.scipy.special.i1e(x),
    )


@case("special_f64", lambda rs: (f64(rs, 6), rs.rand(6) * 3 + 0.2), diff_argnums=(0, 1), x64=True, tags={"special", "x64"})
def special_f64(x, y):
    return jax.scipy.special.erf(x), jax.scipy.special.gammaln(y), jax.scipy.special.logsumexp(x), jnp.log(y) * x


@case("float16", lambda rs: (f32(rs, 6).astype(np.float16), f32(rs, 6).astype(np.float16)), diff_argnums=(0, 1), tags={"float"})
def float16(x, y):
    return x * y + jnp.float16(1), jnp.exp(x), jnp.sum(x), x.astype(jnp.float32) @ y.astype(jnp.float32), jnp.tanh(y)


@case("bfloat16", lambda rs: (f32(rs, 4, 6).astype(jnp.bfloat16), f32(rs, 6, 3).astype(jnp.bfloat16)), diff_argnums=(0, 1), tags={"float"})
def bfloat16(x, w):
    return x @ w, jax.nn.relu(x) * x, jnp.mean(x, axis=0), jnp.max(w), x.astype(jnp.float32)


@case("reductions", lambda rs: (f32(rs, 4, 6), i32(rs, -9, 9, 4, 6)), diff_argnums=(0,), tags={"reduce"})
def reductions(x, k):
    return (
        jnp.sum(x), jnp.sum(x, axis=0), jnp.max(x, axis=1), jnp.min(x), jnp.prod(x, axis=1),
        jnp.argmax(x, axis=1), jnp.argmin(x, axis=0), jnp.mean(x, axis=1), jnp.var(x), jnp.std(x, axis=0),
        jnp.sum(k, axis=1), jnp.max(k), jnp.argmax(k), jnp.linalg.norm(x, axis=1),
    )


@case("argmax_nan", lambda rs: (np.array([[1.0, np.nan, 3.0], [2.0, 2.0, -1.0]], np.float32),), tags={"reduce"})
def argmax_nan(x):
    return jnp.argmax(x, axis=1), jnp.nanargmax(x, axis=1), jnp.max(x, axis=1), jnp.nanmax(x)


# ----------------------------------------------------------------- linalg


@case("cholesky_solve", lambda rs: (spd(rs, 5, np.float32), f32(rs, 5, 2)), diff_argnums=(0, 1), tags={"linalg", "custom_call"})
def cholesky_solve(a, b):
    low = jnp.linalg.cholesky(a)
    y = lax.linalg.triangular_solve(low, b, left_side=True, lower=True)
    z = jax.scipy.linalg.solve_triangular(low, b, lower=True, trans=1)
    return low, y, z, jax.scipy.linalg.cho_solve((low, True), b)


@case("linear_solve", lambda rs: (f32(rs, 4, 4) + 4 * np.eye(4, dtype=np.float32), f32(rs, 4, 3)), diff_argnums=(0, 1), tags={"linalg", "custom_call"})
def linear_solve(a, b):
    return jnp.linalg.solve(a, b), jnp.linalg.inv(a), jnp.linalg.det(a)


@case("linalg_f64", lambda rs: (spd(rs, 4, np.float64), f64(rs, 4)), diff_argnums=(0, 1), x64=True, tags={"linalg", "custom_call", "x64"})
def linalg_f64(a, b):
    return jnp.linalg.solve(a, b), jnp.linalg.cholesky(a), jnp.linalg.slogdet(a)[1]


@case("eigh_qr", lambda rs: (spd(rs, 4, np.float32), f32(rs, 5, 3)), diff_argnums=(0,), tags={"linalg", "custom_call"})
def eigh_qr(a, m):
    w, _ = jnp.linalg.eigh(a)
    q, r = jnp.linalg.qr(m)
    return w, jnp.abs(q), jnp.abs(r)


# ----------------------------------------------------------------- random numbers


@case("random_key", lambda rs: (np.asarray(jax.random.key_data(jax.random.PRNGKey(rs.randint(0, 1000)))), f32(rs, 3)), diff_argnums=(1,), tags={"random"})
def random_key(key, x):
    k1, k2, k3 = jax.random.split(key, 3)
    noise = jax.random.normal(k1, (3,), dtype=jnp.float32)
    u = jax.random.uniform(k2, (2, 3), dtype=jnp.float32)
    bits = jax.random.bernoulli(k3, 0.3, (5,))
    perm = jax.random.permutation(k3, 6)
    return x + noise, u * x, bits, perm, jax.random.randint(k2, (4,), 0, 10)


@case("rng_bit_generator", lambda rs: (rs.randint(0, 2**31, size=4).astype(np.uint32),), tags={"random"})
def rng_bit_generator(state):
    new_state, bits = lax.rng_bit_generator(state, (3, 4), dtype=jnp.uint32)
    return new_state, bits


# ----------------------------------------------------------------- calling conventions


def _nested_params(rs: RS) -> tuple:
    p = {"enc": {"w": f32(rs, 3, 4), "b": f32(rs, 4)}, "dec": (f32(rs, 4, 2), [f32(rs, 2), f32(rs, 2)])}
    return p, f32(rs, 5, 3)


@case("pytree_nested", _nested_params, diff_argnums=(0, 1), tags={"pytree"})
def pytree_nested(p, x):
    h = jnp.tanh(x @ p["enc"]["w"] + p["enc"]["b"])
    w, (b0, b1) = p["dec"]
    y = h @ w + b0 * b1
    return {"y": y, "aux": (jnp.sum(h), [h[0], {"sq": y**2}])}


@case("unused_args", lambda rs: (f32(rs, 3), f32(rs, 4), i32(rs, 0, 3, 2), f32(rs, 3)), diff_argnums=(0, 1, 3), tags={"pytree"})
def unused_args(x, unused, unused_int, y):
    return x * y


@case("static_args", lambda rs: (f32(rs, 4), 3, "tanh"), diff_argnums=(0,), static_argnums=(1, 2), tags={"static"})
def static_args(x, n, act):
    f = {"tanh": jnp.tanh, "relu": jax.nn.relu}[act]
    for _ in range(n):
        x = f(x * 2 - 1)
    return x


@case(
    "keyword_args",
    lambda rs: (f32(rs, 4),),
    make_kwargs=lambda rs: {"scale": f32(rs, 4), "shift": {"a": np.float32(rs.randn()), "b": f32(rs, 4)}},
    diff_argnums=(0,),
    tags={"kwargs"},
)
def keyword_args(x, *, scale, shift):
    return x * scale + shift["a"] - shift["b"]


@case("scalar_and_empty", lambda rs: (np.float32(2.5), np.zeros((0, 3), np.float32), f32(rs, 3)), diff_argnums=(0, 2), tags={"shape"})
def scalar_and_empty(s, e, x):
    return s * x, jnp.sum(e, axis=0), e.T, s**2, jnp.concatenate([e, x[None]], axis=0)


@case("no_inputs_consts", lambda rs: (), tags={"const"})
def no_inputs_consts():
    big = jnp.asarray(np.arange(40, dtype=np.float32).reshape(5, 8))
    return jnp.sum(big * jnp.float32(np.pi)), jnp.array([np.nan, np.inf, -np.inf, -0.0], jnp.float32), jnp.arange(5, dtype=jnp.int32)


@jax.jit
def _inner(x, y):
    return jnp.where(x > y, x - y, jnp.sin(y)), jnp.sort(x)


@case("nested_jit_calls", lambda rs: (f32(rs, 6), f32(rs, 6)), diff_argnums=(0, 1), tags={"call"})
def nested_jit_calls(x, y):
    a, s = _inner(x, y)
    b, t = _inner(a, s)
    c = jnp.clip(x, jnp.min(y), jnp.max(y))  # jnp.clip goes through a private call
    return a + b, s * t, c, jnp.where(x > 0, jnp.float32(1), jnp.float32(-1))


@case("checkpoint_grad", lambda rs: (f32(rs, 5), f32(rs, 5, 5, scale=0.4)), diff_argnums=(0, 1), tags={"grad", "call"})
def checkpoint_grad(x, w):
    @jax.checkpoint
    def layer(h):
        return jnp.sin(h @ w) * jnp.cos(h)

    return jax.grad(lambda h: jnp.sum(layer(layer(h))))(x)


@case("reduce_precision_bitcast", lambda rs: (f32(rs, 5),), diff_argnums=(0,), tags={"float"})
def reduce_precision_bitcast(x):
    bits = lax.bitcast_convert_type(x, jnp.int32)
    return lax.reduce_precision(x, exponent_bits=5, mantissa_bits=10), bits, lax.bitcast_convert_type(bits ^ jnp.int32(1), jnp.float32), lax.bitcast_convert_type(x, jnp.uint8)


@case("custom_jvp_functions", lambda rs: (f32(rs, 6),), diff_argnums=(0,), tags={"call"})
def custom_jvp_functions(x):
    return jax.nn.relu(x), jax.nn.silu(x), jax.nn.logsumexp(x), jax.nn.one_hot(jnp.argmax(x), 6, dtype=jnp.float32), jax.nn.standardize(x)
