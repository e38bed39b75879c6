"""Sparse Jacobians and Hessians: the patterns read off the IR (analysis/sparsity.py), the
colorings (analysis/coloring.py) and zymase.jacfwd / jacrev / hessian(f, sparse=...)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zymase
from zymase.analysis.coloring import _star, color_columns, color_rows, color_symmetric, column_sources, row_sources, symmetric_sources
from zymase.analysis.sparsity import Pattern, hessian_pattern, jacobian_pattern
from zymase.frontend import lower
from zymase.passes import run_pipeline
from zymase.sparse import plan_for

pytestmark = pytest.mark.usefixtures("x64")

N = 12
W = np.random.RandomState(1).randn(5, N)
EDGES = np.array([[0, 5], [3, 7], [11, 2], [4, 4], [9, 1]])


def x0(n: int = N, seed: int = 0):
    return jnp.asarray(np.random.RandomState(seed).randn(n), jnp.float64)


def patterns(f, x) -> tuple[np.ndarray, np.ndarray | None]:
    program = lower(f, x)
    run_pipeline("zymase-primal", program.module)
    jac = jacobian_pattern(program.module, program.entry, [0], x.size).to_dense()
    hess = None
    if program.out_avals[0].shape == ():
        hess = hessian_pattern(program.module, program.entry, [0], x.size).to_dense()
    return jac, hess


# ----------------------------------------------------------------------------- programs


def chain(x):
    d = x[1:] - x[:-1]
    return jnp.sum(d**4) + jnp.sum(jnp.sin(x))


def weighted_squares(x):
    return jnp.sum(jnp.linspace(1.0, 2.0, x.size) * x * x)


def elementwise(x):
    return jnp.tanh(x) * x + jnp.exp(x)


def stencil(x):  # banded Jacobian: bandwidth 1
    return x[1:-1] ** 2 - x[:-2] * x[2:]


def blocks(x):  # block-diagonal Jacobian: 3 blocks of 4
    a = x.reshape(3, 4)
    return (jnp.sum(a, axis=1, keepdims=True) * jnp.sin(a)).ravel()


def loop(x):
    return jax.lax.fori_loop(0, 3, lambda i, c: jnp.sin(c) + jnp.roll(c, 1) * 0.5, x)


def while_loop(x):
    def body(c):
        y, k = c
        return y * 1.5 + 0.1 * jnp.roll(y, 1) ** 2, k + 1

    return jax.lax.while_loop(lambda c: c[1] < 4, body, (x, 0))[0]


def branch(x):
    return jax.lax.cond(x[0] > 0, lambda x: jnp.sin(x) * x, lambda x: x[::-1] ** 3, x)


def mlp(x):
    return jnp.tanh(jnp.asarray(W) @ x)


def mlp_loss(x):
    return jnp.sum(mlp(x) ** 2)


def structural(x):
    a = jnp.pad(x, (2, 3)) * 2.0
    b = jax.lax.dynamic_slice(x, (3,), (4,)) ** 2
    c = x[jnp.array([1, 5, 2])] * x[jnp.array([0, 0, 7])]
    return jnp.concatenate([a, b, c, jnp.flip(x.reshape(3, 4).T, 0).ravel()])


def edge_energy(x):
    return jnp.sum((x[EDGES[:, 0]] - x[EDGES[:, 1]]) ** 2) + jnp.sum(x**3) + jnp.prod(x[:3])


@jax.custom_jvp
def straight_through_round(x):
    return jnp.round(x)


straight_through_round.defjvp(lambda p, t: (straight_through_round(p[0]), t[0] * (1.0 + straight_through_round(p[0]) ** 2)))


def custom_rules(x):
    """relu and logaddexp (custom_jvp in jax) and a custom rule whose primal is piecewise
    constant: the patterns come from the rules, not the primals."""
    return jnp.sum(jax.nn.relu(x[1:] - x[:-1]) ** 3) + jnp.sum(jnp.logaddexp(x, 0.5)) + jnp.sum(straight_through_round(x) * x)


def loop_energy(x):
    return jnp.sum(while_loop(x) ** 2)


JACOBIAN_PROGRAMS = [elementwise, stencil, blocks, loop, while_loop, branch, mlp, structural]
HESSIAN_PROGRAMS = [chain, weighted_squares, mlp_loss, edge_energy, loop_energy, custom_rules]


# ----------------------------------------------------------------------------- patterns


@pytest.mark.parametrize("f", JACOBIAN_PROGRAMS + HESSIAN_PROGRAMS, ids=lambda f: f.__name__)
def test_patterns_contain_the_true_nonzeros(f):
    x = x0(seed=5)
    jac, hess = patterns(f, x)
    true = np.asarray(jax.jit(jax.jacfwd(f))(x)).reshape(-1, N) != 0
    assert not np.any(true & ~jac), f"{f.__name__}: Jacobian nonzeros outside the pattern"
    if hess is not None:
        true_h = np.asarray(jax.jit(jax.jacfwd(jax.jacfwd(f)))(x)) != 0  # jax cannot reverse a while loop
        assert not np.any(true_h & ~hess), f"{f.__name__}: Hessian nonzeros outside the pattern"


def test_patterns_are_exact_on_banded_diagonal_and_block_cases():
    i, j = np.indices((N, N))
    _, hess = patterns(chain, x0())
    assert np.array_equal(hess, np.abs(i - j) <= 1)  # tridiagonal
    _, hess = patterns(weighted_squares, x0())
    assert np.array_equal(hess, i == j)
    _, hess = patterns(custom_rules, x0())
    assert np.array_equal(hess, np.abs(i - j) <= 1)
    jac, _ = patterns(elementwise, x0())
    assert np.array_equal(jac, i == j)
    jac, _ = patterns(stencil, x0())
    r, c = np.indices((N - 2, N))
    assert np.array_equal(jac, (c >= r) & (c <= r + 2))
    jac, _ = patterns(blocks, x0())
    assert np.array_equal(jac, i // 4 == j // 4)
    jac, _ = patterns(mlp, x0())
    assert jac.all()
    _, hess = patterns(edge_energy, x0())
    expect = i == j
    for a, b in EDGES:
        expect[a, b] = expect[b, a] = True
    expect[:3, :3] = True
    assert np.array_equal(hess, expect)


def test_structural_ops_follow_their_elements():
    """pad, dynamic_slice, gather (constant indices), concatenate, transpose, reverse:
    exactly the true pattern."""
    jac, _ = patterns(structural, x0())
    true = np.asarray(jax.jit(jax.jacfwd(structural))(x0())).reshape(-1, N) != 0
    assert np.array_equal(jac, true)


def test_a_loop_that_does_not_settle_is_widened_soundly():
    """Dependencies spread by one neighbour per iteration for 40 iterations: past the
    fixed-point budget the carried values are widened, never cut short."""
    n = 80

    def spread(x):
        return jax.lax.fori_loop(0, 40, lambda i, c: c + 0.1 * jnp.roll(c, 1) ** 2, x)

    x = x0(n, 3)
    jac, _ = patterns(spread, x)
    true = np.asarray(jax.jit(jax.jacfwd(spread))(x)) != 0
    assert true.sum() > 40 * n  # the true pattern: a band of width 41 (cyclic)
    assert not np.any(true & ~jac)


_PERM = np.array([3, 0, 7, 1, 6, 2, 5, 4])
_BAND = np.triu(np.tril(np.random.RandomState(2).randn(8, 8), 1), -1)
_UNARY = {
    "sin": jnp.sin,
    "square": lambda x: x * x,
    "roll": lambda x: jnp.roll(x, 1),
    "cumsum": jnp.cumsum,
    "slice_pad": lambda x: jnp.pad(x[2:], (0, 2)),
    "sum": lambda x: jnp.broadcast_to(jnp.sum(x), x.shape),
    "where": lambda x: jnp.where(x > 0, x, 0.5 * x),
    "band_dot": lambda x: jnp.asarray(_BAND) @ x,
    "gather": lambda x: x[_PERM],
    "relu": jax.nn.relu,
    "softplus": jax.nn.softplus,
    "custom": straight_through_round,
    "loop": lambda x: jax.lax.while_loop(lambda c: c[1] < 2, lambda c: (jnp.tanh(jnp.roll(c[0], 2)) * c[0], c[1] + 1), (x, 0))[0],
}
_BINARY = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1.0 + b * b),
    "max": jnp.maximum,
}
random_program = st.recursive(
    st.just("x"),
    lambda kids: st.one_of(st.tuples(st.sampled_from(sorted(_UNARY)), kids), st.tuples(st.sampled_from(sorted(_BINARY)), kids, kids)),
    max_leaves=5,
)


def _build(tree):
    if tree == "x":
        return lambda x: x
    if len(tree) == 2:
        inner = _build(tree[1])
        return lambda x: _UNARY[tree[0]](inner(x))
    a, b = _build(tree[1]), _build(tree[2])
    return lambda x: _BINARY[tree[0]](a(x), b(x))


@settings(max_examples=12, deadline=None)
@given(random_program)
def test_patterns_of_random_programs_contain_the_true_nonzeros(tree):
    body = _build(tree)

    def f(x):
        return jnp.sum(jnp.sin(body(x)))

    x = x0(8, 4)
    jac, _ = patterns(body, x)
    _, hess = patterns(f, x)
    true = np.asarray(jax.jit(jax.jacfwd(body))(x)) != 0
    true_h = np.asarray(jax.jit(jax.jacfwd(jax.jacfwd(f)))(x)) != 0
    assert not np.any(true & ~jac), f"Jacobian nonzeros outside the pattern for {tree}"
    assert not np.any(true_h & ~hess), f"Hessian nonzeros outside the pattern for {tree}"


# ----------------------------------------------------------------------------- values


def _dense(x):
    from jax.experimental.sparse import BCOO

    return x.todense() if isinstance(x, BCOO) else x


@pytest.mark.parametrize("f", [loop, branch, mlp], ids=lambda f: f.__name__)
def test_sparse_jacobians_equal_jax(f):
    x = x0()
    want = jax.jit(jax.jacfwd(f))(x)
    for transform in (zymase.jacfwd, zymase.jacrev):
        for fmt in (True, "bcoo"):
            got = _dense(transform(f, sparse=fmt)(x))
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-10, err_msg=f"{transform.__name__} sparse={fmt}")


@pytest.mark.parametrize("f", [mlp_loss, edge_energy, loop_energy, custom_rules], ids=lambda f: f.__name__)  # chain, weighted_squares: below
def test_sparse_hessians_equal_jax(f):
    x = x0()
    want = jax.jit(jax.jacfwd(jax.jacfwd(f)))(x)
    for fmt in (True, "bcoo"):
        np.testing.assert_allclose(_dense(zymase.hessian(f, sparse=fmt)(x)), want, rtol=0, atol=1e-10)


def test_colors_match_the_structure():
    x = x0()
    assert plan_for(weighted_squares, (x,), 0, "hessian").ncolors == 1  # one Hessian-vector product
    assert plan_for(chain, (x,), 0, "hessian").ncolors == 3
    assert plan_for(elementwise, (x,), 0, "fwd").ncolors == 1
    assert plan_for(stencil, (x,), 0, "fwd").ncolors == 3
    assert plan_for(mlp, (x,), 0, "fwd").ncolors == N  # full pattern: dense cost
    assert plan_for(mlp, (x,), 0, "rev").ncolors == 5


def test_decompression_gathers_at_color_and_element():
    """The nonzeros are read from the (colors, n) compressed matrix by (color, element)
    pairs, not from its flattening (XLA fuses the HVP into the gather; a flat index
    would be split back into (color, element) per nonzero)."""
    x = x0()
    text = jax.jit(zymase.hessian(chain, sparse="bcoo")).lower(x).as_text()
    gathers = [line for line in text.splitlines() if "stablehlo.gather" in line]
    assert len(gathers) == 1 and "start_index_map = [0, 1]" in gathers[0] and "tensor<3x12xf64>" in gathers[0], gathers


def test_one_hvp_for_a_diagonal_hessian(monkeypatch):
    """sum(a*x^2): zymase.hessian(sparse=True) calls zymase's jvp once, on one seed."""
    import zymase.sparse as sp

    calls = []
    real = sp.jvp

    def counting(f, primals, tangents, **kw):
        calls.append(np.shape(tangents[0]))
        return real(f, primals, tangents, **kw)

    monkeypatch.setattr(sp, "jvp", counting)
    x = x0()
    out = zymase.hessian(weighted_squares, sparse=True)(x)
    np.testing.assert_allclose(out, jax.jit(jax.hessian(weighted_squares))(x), rtol=0, atol=1e-10)
    assert calls == [(N,)]  # traced once under jax.vmap over the single color


def test_under_jit_and_vmap():
    xs = jnp.stack([x0(seed=s) for s in range(3)])
    want = jax.jit(jax.vmap(jax.hessian(chain)))(xs)
    np.testing.assert_allclose(jax.jit(jax.vmap(zymase.hessian(chain, sparse=True)))(xs), want, rtol=0, atol=1e-10)
    np.testing.assert_allclose(jax.jit(zymase.hessian(chain, sparse="bcoo"))(xs[1]).todense(), want[1], rtol=0, atol=1e-10)
    np.testing.assert_allclose(jax.jit(jax.vmap(zymase.jacrev(stencil, sparse=True)))(xs), jax.jit(jax.vmap(jax.jacrev(stencil)))(xs), rtol=0, atol=1e-10)


def test_pytrees_and_argnums():
    def f(p, y):
        return jnp.sum(p["a"] ** 2 * y[:3]) + jnp.sum(jnp.sin(p["b"]) * y[3:].sum())

    p = {"a": x0(3, 1), "b": x0(2, 2)}
    y = x0(5, 3)
    want = jax.jit(jax.hessian(f, argnums=(0, 1)))(p, y)
    got = zymase.hessian(f, argnums=(0, 1), sparse=True)(p, y)
    assert jax.tree_util.tree_structure(got) == jax.tree_util.tree_structure(want)
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-10)
    def g(y):
        return {"u": y[:3] * y[1:4], "v": jnp.cos(y)}

    jw, jg = jax.jit(jax.jacrev(g))(y), zymase.jacrev(g, sparse=True)(y)
    assert jax.tree_util.tree_structure(jg) == jax.tree_util.tree_structure(jw)
    for a, b in zip(jax.tree_util.tree_leaves(jg), jax.tree_util.tree_leaves(jw)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


def test_refusals():
    with pytest.raises(ValueError, match="sparse must be"):
        zymase.jacfwd(chain, sparse="csr")
    with pytest.raises(NotImplementedError, match="has_aux"):
        zymase.hessian(chain, has_aux=True, sparse=True)
    with pytest.raises(TypeError, match="one array argument"):
        zymase.hessian(lambda a, b: jnp.sum(a * b), argnums=(0, 1), sparse="bcoo")(x0(3), x0(3))
    with pytest.raises(TypeError, match="scalar output"):
        zymase.hessian(jnp.sin, sparse=True)(x0(3))


# ----------------------------------------------------------------------------- colorings


@st.composite
def sparse_patterns(draw, symmetric: bool = False):
    m = draw(st.integers(1, 14))
    n = m if symmetric else draw(st.integers(1, 14))
    density = draw(st.floats(0.0, 0.6))
    seed = draw(st.integers(0, 2**31 - 1))
    mask = np.random.RandomState(seed).rand(m, n) < density
    if symmetric:
        mask = mask | mask.T | np.eye(n, dtype=bool)
    rows, cols = np.nonzero(mask)
    return Pattern.from_coo((m, n), rows, cols), mask


@settings(max_examples=60, deadline=None)
@given(sparse_patterns())
def test_column_and_row_colorings_are_valid(pm):
    p, mask = pm
    color = color_columns(p)
    for c in np.unique(color):
        assert mask[:, color == c].sum(axis=1).max() <= 1, "two columns of one color share a row"
    assert column_sources(p, color) is not None
    rcolor = color_rows(p)
    for c in np.unique(rcolor):
        assert mask[rcolor == c, :].sum(axis=0).max() <= 1, "two rows of one color share a column"
    # decompression recovers every entry of a random matrix with this pattern
    J = np.where(mask, np.random.RandomState(0).randn(*mask.shape), 0.0)
    seeds = np.zeros((color.max() + 1, p.shape[1]))
    seeds[color, np.arange(p.shape[1])] = 1
    comp = seeds @ J.T  # (colors, m): J s_c per color
    np.testing.assert_array_equal(comp.reshape(-1)[column_sources(p, color)], J[p.rows(), p.indices])
    rseeds = np.zeros((rcolor.max() + 1, p.shape[0]))
    rseeds[rcolor, np.arange(p.shape[0])] = 1
    rcomp = rseeds @ J  # (colors, n): s_c^T J per color
    np.testing.assert_array_equal(rcomp.reshape(-1)[row_sources(p, rcolor)], J[p.rows(), p.indices])


@settings(max_examples=60, deadline=None)
@given(sparse_patterns(symmetric=True))
def test_star_coloring_recovers_every_hessian_entry(pm):
    p, mask = pm
    color = _star(p)
    off = mask & ~np.eye(p.shape[0], dtype=bool)
    assert not np.any(off & (color[:, None] == color[None, :])), "neighbours share a color"
    src = symmetric_sources(p, color)
    assert src is not None, "the star coloring does not allow direct recovery"
    color, src = color_symmetric(p)
    a = np.where(mask, np.random.RandomState(1).randn(*mask.shape), 0.0)
    H = a + a.T
    seeds = np.zeros((color.max() + 1, p.shape[0]))
    seeds[color, np.arange(p.shape[0])] = 1
    comp = seeds @ H  # (colors, n): H s_c per color (H symmetric)
    np.testing.assert_allclose(comp.reshape(-1)[src], H[p.rows(), p.indices], rtol=0, atol=1e-12)


def test_star_coloring_beats_column_coloring_on_an_arrowhead():
    """An arrowhead (dense first row and column, diagonal): two colors for the star
    coloring, one per column for a distance-2 coloring."""
    n = 20
    mask = np.eye(n, dtype=bool)
    mask[0, :] = mask[:, 0] = True
    p = Pattern.from_coo((n, n), *np.nonzero(mask))
    color, _ = color_symmetric(p)
    assert color.max() + 1 == 2
    assert color_columns(p).max() + 1 == n
