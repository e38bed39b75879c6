"""Every registered rewrite rule, checked on each of its examples: it fires, the result
verifies, and the values before and after agree on random inputs (float64, 1e-12)."""

import functools
from dataclasses import dataclass, field

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



def _module(ex):
    if ex.mlir is not None:
        return parse_module(ex.mlir), None
    rng = np.random.RandomState(0)
    dtypes = ex.dtypes or ["float64"] * len(ex.shapes)
    args = [np.asarray(rng.uniform(ex.domain[0], ex.domain[1], size=s)).astype(dt) for s, dt in zip(ex.shapes, dtypes)]
    module = lower(ex.fn, *args).module
    inline_calls(module)
    return module, args


def _inputs(module, ex, seed):
    from zymase.ir.dense import element_dtype

    main = next(op for op in module.ops if getattr(op, "sym_name", None) is not None and op.sym_name.data == "main")
    rng = np.random.RandomState(seed)
    lo, hi = ex.domain
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


CASES = sorted(
    ((name, i) for name in RULES for i in range(max(1, len(RULES[name].examples)))),
    key=lambda case: (RULES[case[0]].family, case),
)
SEEDS = range(3)


@dataclass
class _Checked:
    """One example after its rule ran: whether the rule fired, the first error met
    (rewriting, verification, emission or running), and the values before and after
    for each seed."""

    fired: int = 0
    error: BaseException | None = None
    values: list = field(default_factory=list)


@functools.cache
def _family(family: str) -> dict[tuple[str, int], _Checked]:
    """Every example of the family's rules rewritten by its rule alone, then all the
    before / after programs run in one jitted function: one XLA compilation per family
    instead of one per example. An error in the joint program is located by running the
    examples one by one."""
    checked: dict[tuple[str, int], _Checked] = {}
    runnable = []
    for name, index in (case for case in CASES if RULES[case[0]].family == family):
        rule, out = RULES[name], _Checked()
        checked[name, index] = out
        if not rule.examples:
            continue
        ex = rule.examples[index]
        try:
            module, _ = _module(ex)
            before = module.clone()
            STATS[name] = 0
            optimize(module, assume_finite=rule.unsafe, only=[name])
            out.fired = STATS[name]
            if not out.fired:
                continue
            module.verify()
            pair = (build_function(before, "main"), build_function(module, "main"))
            runnable.append((out, pair, [_inputs(before, ex, seed) for seed in SEEDS]))
        except Exception as e:  # reported by the example's own test
            out.error = e

    def run(entries):
        both = jax.jit(lambda *arg_sets: [(fb(*a), fa(*a)) for ((fb, fa), a) in zip([p for _, p, _ in entries], arg_sets)])
        for seed in SEEDS:
            results = both(*[inputs[seed] for _, _, inputs in entries])
            for (out, _, _), (want, got) in zip(entries, results):
                out.values.append((want, got))

    try:
        run(runnable)
    except Exception:
        for entry in runnable:
            entry[0].values.clear()
            try:
                run([entry])
            except Exception as e:
                entry[0].error = e
    return checked


# Under pytest-xdist (``--dist loadgroup``) a family's examples run on one worker, which
# compiles the family's programs once.
@pytest.mark.parametrize(
    "name, index",
    [pytest.param(name, i, marks=pytest.mark.xdist_group(RULES[name].family)) for name, i in CASES],
    ids=[name if i == 0 else f"{name}[{i}]" for name, i in CASES],
)
def test_rule_example(name, index):
    rule = RULES[name]
    assert rule.examples, f"rule {name} has no example"
    out = _family(rule.family)[name, index]
    if out.error is not None:
        raise out.error
    assert out.fired > 0, f"rule {name} did not fire on its example"
    assert len(out.values) == len(SEEDS)
    for want, got in out.values:
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


def test_commutative_rules_try_the_other_operand_order_on_commutative_roots_only():
    """``@rule(commutative=True)``: written for add(x, 0), add_zero also fires on add(0, x);
    compare swaps its operands for EQ and NE only, subtract never."""
    from zymase.opt.pattern import is_commutative

    module = parse_module(
        """
func.func @main(%x: tensor<4xf64>) -> tensor<4xf64> {
  %z = "stablehlo.constant"() <{value = dense<0.0> : tensor<4xf64>}> : () -> tensor<4xf64>
  %0 = "stablehlo.add"(%z, %x) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  %1 = "stablehlo.subtract"(%z, %x) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  %2 = "stablehlo.compare"(%0, %1) <{comparison_direction = #stablehlo<comparison_direction EQ>}> : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>
  %3 = "stablehlo.compare"(%0, %1) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>
  %4 = "stablehlo.select"(%2, %0, %1) : (tensor<4xi1>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  %5 = "stablehlo.select"(%3, %4, %1) : (tensor<4xi1>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  func.return %5 : tensor<4xf64>
}"""
    )
    ops = {op.name: op for op in module.walk()}
    compares = [op for op in module.walk() if op.name == "stablehlo.compare"]
    assert is_commutative(ops["stablehlo.add"]) and not is_commutative(ops["stablehlo.subtract"])
    assert [is_commutative(c) for c in compares] == [True, False]
    STATS["add_zero"] = 0
    optimize(module, only=["add_zero"])
    assert STATS["add_zero"] == 1
    assert not any(op.name == "stablehlo.add" for op in module.walk())
