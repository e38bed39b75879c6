"""Nested transformations as one module: a zymase transformation called inside a function
that another zymase transformation lowers is an enzyme op over the inner function
(frontend/nesting.py), the enzyme pass differentiates inner level first with the rules
run between levels (passes.py), jacfwd / hessian seed one width-N enzyme.fwddiff with an
identity built from iotas (api.py), and jax's transformations still compose."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zymase
from zymase import passes


@pytest.fixture(autouse=True, scope="module")
def _x64():
    with jax.enable_x64(True):
        yield


RS = np.random.RandomState(7)
W1 = RS.randn(4, 6) / 2.0
B1 = RS.randn(6) / 10.0
W2 = RS.randn(6, 1) / 2.0


def mlp_loss(x):
    h = jnp.tanh(x @ W1 + B1)
    return jnp.sum((h @ W2 - 1.0) ** 2) + jnp.sum(jnp.sin(x) * x)


def close(a, b):
    for u, v in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=1e-10, atol=1e-10)


def X():
    return jnp.asarray(RS.randn(4))


def _functions(text: str) -> dict[str, str]:
    """Function name -> its text, from a module printed in the generic form."""
    found = {}
    parts = re.split(r'(?="func.func"\(\))', text)
    for part in parts[1:]:
        name = re.search(r'sym_name = "([^"]+)"', part).group(1)
        found[name] = part
    return found


def _reaches(funcs: dict[str, str], name: str, needle: str) -> bool:
    """Whether @name or a function it calls (jax's nested jits are calls) contains ``needle``."""
    seen, todo = set(), [name]
    while todo:
        n = todo.pop()
        if n in seen or n not in funcs:
            continue
        seen.add(n)
        if needle in funcs[n]:
            return True
        todo += re.findall(r"callee = @([\w.]+)", funcs[n])
    return False


def _callee(op_text: str) -> str:
    return re.search(r"fn = @([\w.]+)", op_text).group(1)


# ============================================================================ one module


def test_grad_of_grad_is_one_module_with_nested_enzyme_ops():
    def inner_sq(x):
        return jnp.sum(zymase.grad(mlp_loss)(x) ** 2)

    gg = zymase.grad(inner_sq)
    x = X()
    program = gg.lower(x)
    funcs = _functions(program.as_text(stage="imported"))
    entry = funcs["zymase_entry"]
    assert entry.count("enzyme.autodiff") == 1 and _callee(entry[entry.index("enzyme.autodiff"):]) == "main"
    # @main (the outer primal) reaches an enzyme.autodiff over a private function holding mlp_loss
    inner = [name for name, body in funcs.items() if name != "zymase_entry" and "enzyme.autodiff" in body]
    assert inner, "the inner zymase.grad did not become an enzyme op"
    callee = _callee(funcs[inner[0]][funcs[inner[0]].index("enzyme.autodiff"):])
    assert "stablehlo.tanh" in funcs[callee] and "enzyme." not in funcs[callee]
    assert "enzyme." not in program.as_text(stage="final")
    close(gg(x), jax.grad(lambda x: jnp.sum(jax.grad(mlp_loss)(x) ** 2))(x))


def test_hessian_is_one_fwddiff_of_width_n_over_an_autodiff():
    x = X()
    program = zymase.hessian(mlp_loss).lower(x)
    imported = program.as_text(stage="imported")
    funcs = _functions(imported)
    main = funcs["main"]
    fwd = main[main.index("enzyme.fwddiff"):].split("\n", 1)[0]
    assert "width = 4" in fwd and "enzyme_dup" in fwd
    # the seeds are an identity built from iotas, not a dense constant
    assert main.count("stablehlo.iota") == 2 and "stablehlo.compare" in main and "stablehlo.select" in main
    g = funcs[_callee(fwd)]
    assert "enzyme.autodiff" in g
    assert "stablehlo.tanh" in funcs[_callee(g[g.index("enzyme.autodiff"):])]
    final = program.as_text(stage="final")
    assert "enzyme." not in final and "func.call" not in final and list(_functions(final)) == ["main"]
    # the identity times the first layer's (constant) weights is the weights: no product
    # with the seeds is left (the select is still used by the tangent of sin(x) * x)
    seeds = re.search(r'(%\d+) = "stablehlo.select"', final).group(1)
    dots = [line for line in final.splitlines() if "stablehlo.dot_general" in line]
    assert dots and not any(f"({seeds}," in line or f", {seeds})" in line for line in dots)
    close(zymase.hessian(mlp_loss)(x), jax.hessian(mlp_loss)(x))


def test_jacfwd_of_jacrev_is_the_hessian_module():
    x = X()
    program = zymase.jacfwd(zymase.jacrev(mlp_loss)).lower(x)
    main = _functions(program.as_text(stage="imported"))["main"]
    assert "enzyme.fwddiff" in main and "width = 4" in main
    close(zymase.jacfwd(zymase.jacrev(mlp_loss))(x), jax.hessian(mlp_loss)(x))


def test_hvp_is_one_module():
    x, v = X(), X()

    def hvp(x, v):
        return zymase.jvp(zymase.grad(mlp_loss), (x,), (v,))[1]

    text = zymase.lower(hvp, x, v).as_text()
    funcs = _functions(text)
    main = funcs["main"]
    assert "enzyme.fwddiff" in main
    assert _reaches(funcs, _callee(main[main.index("enzyme.fwddiff"):]), "enzyme.autodiff")
    want = jax.jvp(jax.grad(mlp_loss), (x,), (v,))[1]
    close(hvp(x, v), want)
    close(jax.jit(hvp)(x, v), want)


def test_rules_run_between_levels(monkeypatch):
    """The enzyme pass of a named pipeline optimizes between levels: the outer level then
    differentiates the optimized inner derivative, so what it generates is smaller."""

    def f(x):
        return jnp.sum(jnp.sin(x) * 3.0 + x * x)

    def ops(stage_text: str) -> int:
        return len(re.findall(r'"stablehlo\.\w+"\(', stage_text))

    x = jnp.arange(3.0)
    with_rules = ops(zymase.hessian(f).lower(x).as_text(stage="after-ad"))
    monkeypatch.setattr(passes, "LEVEL_CLEANUP", "cse")
    without = ops(zymase.hessian(f).lower(x).as_text(stage="after-ad"))
    assert with_rules < without
    close(zymase.hessian(f)(x), jax.hessian(f)(x))


# ============================================================================ values


@pytest.mark.parametrize("name", ["grad_grad", "jvp_grad", "jacfwd_jacrev", "jacrev_jacfwd", "hessian_argnums", "jacfwd_pytree"])
def test_values_match_jax(name):
    x, v = X(), X()
    w = jnp.asarray(RS.randn(4, 3))

    def vec(x, w):
        return jnp.tanh(x @ w) * jnp.sum(x)

    def two(x, w):
        return jnp.sum(jnp.tanh(x @ w) ** 2)

    if name == "grad_grad":
        got = zymase.grad(lambda x: zymase.grad(mlp_loss)(x)[1])(x)
        want = jax.grad(lambda x: jax.grad(mlp_loss)(x)[1])(x)
    elif name == "jvp_grad":
        got = zymase.jvp(zymase.grad(mlp_loss), (x,), (v,))
        want = jax.jvp(jax.grad(mlp_loss), (x,), (v,))
    elif name == "jacfwd_jacrev":
        got, want = zymase.jacfwd(zymase.jacrev(vec))(x, w), jax.jacfwd(jax.jacrev(vec))(x, w)
    elif name == "jacrev_jacfwd":
        got, want = zymase.jacrev(zymase.jacfwd(vec))(x, w), jax.jacrev(jax.jacfwd(vec))(x, w)
    elif name == "hessian_argnums":
        got, want = zymase.hessian(two, argnums=(0, 1))(x, w), jax.hessian(two, argnums=(0, 1))(x, w)
    else:
        got = zymase.jacfwd(lambda p: {"a": jnp.sin(p["x"]) * p["y"], "b": jnp.sum(p["x"] ** 2)})({"x": x, "y": x[0]})
        want = jax.jacfwd(lambda p: {"a": jnp.sin(p["x"]) * p["y"], "b": jnp.sum(p["x"] ** 2)})({"x": x, "y": x[0]})
    close(got, want)


# ============================================================================ jax over the results


def test_jax_transformations_over_nested_results():
    xs = jnp.asarray(RS.randn(3, 4))
    x = xs[0]
    h = zymase.hessian(mlp_loss)
    close(jax.jit(h)(x), jax.hessian(mlp_loss)(x))
    close(jax.vmap(h)(xs), jax.vmap(jax.hessian(mlp_loss))(xs))
    gg = zymase.grad(lambda x: jnp.sum(zymase.grad(mlp_loss)(x) ** 2))
    want_gg = jax.grad(lambda x: jnp.sum(jax.grad(mlp_loss)(x) ** 2))
    close(jax.jit(gg)(x), want_gg(x))
    close(jax.vmap(gg)(xs), jax.vmap(want_gg)(xs))
    # jax differentiates zymase's derivatives (the primitives' jvp rules)
    close(jax.grad(lambda x: jnp.sum(zymase.grad(mlp_loss)(x) ** 2))(x), want_gg(x))
    close(jax.jacfwd(zymase.grad(mlp_loss))(x), jax.hessian(mlp_loss)(x))
    close(jax.grad(lambda x: jnp.sum(zymase.hessian(mlp_loss)(x)))(x), jax.grad(lambda x: jnp.sum(jax.hessian(mlp_loss)(x)))(x))


def test_identity_seeds_are_the_standard_basis():
    from zymase.api import identity_seeds

    a, b = jnp.zeros((2, 3)), jnp.zeros(4)
    sa, sb = identity_seeds([a, b])
    assert sa.shape == (10, 2, 3) and sb.shape == (10, 4)
    joined = np.concatenate([np.asarray(sa).reshape(10, -1), np.asarray(sb)], axis=1)
    np.testing.assert_array_equal(joined, np.eye(10))


@pytest.mark.parametrize(
    "name, f",
    [
        ("sort", lambda x: jnp.sort(jnp.sin(x)) * jnp.arange(1.0, 8.0)),
        ("max_pool", lambda x: jax.lax.reduce_window(x * x, -jnp.inf, jax.lax.max, (3,), (1,), "VALID")),
        ("cumprod", lambda x: jnp.cumprod(x)),
    ],
)
def test_width_n_forward_runs_single_direction_rules_per_direction(name, f):
    """jacfwd is one width-N forward sweep; an op whose forward rule builds width-1
    tangents only (sort, reduce_window) gets them direction by direction in a loop, and
    the Jacobian is jax's."""
    x = jnp.asarray(np.random.default_rng(3).normal(size=7))
    close(zymase.jacfwd(f)(x), jax.jacfwd(f)(x))
    assert "stablehlo.while" in zymase.jacfwd(f).lower(x).as_text("after-ad")
