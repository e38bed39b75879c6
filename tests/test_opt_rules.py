"""Every registered rewrite rule, checked on its own example: it fires, the result
verifies, and the values before and after agree on random inputs (float64, 1e-12)."""

import jax
import numpy as np
import pytest

import zymase
from zymase.backend import build_function
from zymase.frontend import lower
from zymase.ir import parse_module
from zymase.opt.inline import inline_calls
from zymase.opt.pattern import RULES, STATS, load_rules, optimize

load_rules()
@pytest.fixture(autouse=True, scope="module")
def _x64():
    """float64 for this module only (a global switch would leak into other test modules)."""
    with jax.enable_x64(True):
        yield



def _module(rule):
    ex = rule.example
    if ex.mlir is not None:
        return parse_module(ex.mlir), None
    rng = np.random.RandomState(0)
    dtypes = ex.dtypes or ["float64"] * len(ex.shapes)
    args = [np.asarray(rng.uniform(ex.domain[0], ex.domain[1], size=s)).astype(dt) for s, dt in zip(ex.shapes, dtypes)]
    module = lower(ex.fn, *args).module
    inline_calls(module)
    return module, args


def _inputs(module, rule, seed):
    from zymase.ir.dense import element_dtype

    main = next(op for op in module.ops if getattr(op, "sym_name", None) is not None and op.sym_name.data == "main")
    rng = np.random.RandomState(seed)
    lo, hi = rule.example.domain
    out = []
    for t in main.function_type.inputs.data:
        dt = element_dtype(t.get_element_type())
        shp = tuple(t.get_shape())
        if np.issubdtype(dt, np.floating):
            out.append(rng.uniform(lo, hi, size=shp).astype(dt))
        elif dt == np.bool_:
            out.append(rng.rand(*shp) > 0.5)
        else:
            out.append(rng.randint(-5, 6, size=shp).astype(dt))
    return out


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_example(name):
    rule = RULES[name]
    assert rule.example is not None, f"rule {name} has no example"
    module, _ = _module(rule)
    before = module.clone()
    STATS[name] = 0
    optimize(module, assume_finite=rule.unsafe, only=[name])
    assert STATS[name] > 0, f"rule {name} did not fire on its example"
    module.verify()
    f_before, f_after = build_function(before, "main"), build_function(module, "main")
    for seed in range(3):
        args = _inputs(before, rule, seed)
        want = jax.jit(f_before)(*args)
        got = jax.jit(f_after)(*args)
        for w, g in zip(want, got):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-12, atol=1e-12)


def test_rules_have_identities_and_unique_names():
    assert len(RULES) == len({r.name for r in RULES.values()})
    for r in RULES.values():
        assert "->" in r.identity, r.name
        assert r.roots, r.name


def test_rules_terminate_on_median_along_an_axis():
    """A rule that builds ops and then declines made the driver revisit them forever
    (reshape_broadcast._hoist on jnp.median's selects); the program must compile and agree."""
    import jax.numpy as jnp

    x = jnp.arange(12.0).reshape(3, 4) ** 1.3
    np.testing.assert_allclose(zymase.jit(lambda x: jnp.median(x, axis=1))(x), jnp.median(x, axis=1), rtol=1e-6)
