"""The driver's pre-filter on ``@rule(needs=...)`` changes nothing but speed: the optimizer
gives the same module with the filter on and off (``ZYMASE_RULE_FILTER=0``), on every
rule's examples (the rule alone, and all rules with ``assume_finite``) and on the
pipelines of the AD corpus programs (primal, forward and reverse derivatives). A ``needs``
that hides a path on which its rule fires shows up here as a difference."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from corpus import CASES
from zymase.frontend import lower
from zymase.ir import parse_module, print_module
from zymase.ir.enzyme import ACTIVE, ACTIVENONEED, CONST, CONSTNONEED, DUP, AutoDiffOp, ForwardDiffOp, add_diff_func
from zymase.opt.inline import inline_calls
from zymase.opt.pattern import RULES, Needs, load_rules, optimize, rule_filter_enabled
from zymase.passes import run_pipeline

load_rules()


def _example_module(ex):
    if ex.mlir is not None:
        return parse_module(ex.mlir)
    rng = np.random.RandomState(0)
    dtypes = ex.dtypes or ["float64"] * len(ex.shapes)
    args = [np.asarray(rng.uniform(ex.domain[0], ex.domain[1], size=s)).astype(dt) for s, dt in zip(ex.shapes, dtypes)]
    module = lower(ex.fn, *args).module
    inline_calls(module)
    return module


def _optimized(module, rule_filter: bool, **options) -> tuple[int, str]:
    m = module.clone()
    n = optimize(m, rule_filter=rule_filter, **options)
    return n, print_module(m)


def test_filter_switch(monkeypatch):
    monkeypatch.delenv("ZYMASE_RULE_FILTER", raising=False)
    assert rule_filter_enabled()
    for off in ("0", "off", "false"):
        monkeypatch.setenv("ZYMASE_RULE_FILTER", off)
        assert not rule_filter_enabled()
    monkeypatch.setenv("ZYMASE_RULE_FILTER", "1")
    assert rule_filter_enabled()


def test_needs_forms():
    from zymase.ir import stablehlo as hlo

    some = Needs(some=(hlo.NegateOp,))
    assert some.admits((type(None), hlo.NegateOp)) and not some.admits((hlo.AddOp, hlo.AddOp)) and not some.admits(())
    at = Needs(at=((1, (hlo.NegateOp, hlo.AbsOp)),))
    assert at.admits((hlo.AddOp, hlo.AbsOp)) and not at.admits((hlo.AbsOp, hlo.AddOp)) and not at.admits((hlo.AbsOp,))
    annotated = [r for r in RULES.values() if r.needs is not None]
    assert len(annotated) > len(RULES) // 2
    assert not any(r.commutative and r.needs.at for r in annotated)


def test_commutative_rules_refuse_positional_needs():
    from zymase.opt.pattern import _needs
    from zymase.ir import stablehlo as hlo

    with pytest.raises(ValueError, match="commutative"):
        _needs("r", {0: hlo.NegateOp}, commutative=True)
    with pytest.raises(ValueError, match="op classes"):
        _needs("r", (int,), commutative=False)


CASES_BY_RULE = [(name, i) for name in sorted(RULES) for i in range(len(RULES[name].examples))]


@pytest.mark.parametrize("rule_name", sorted({name for name, _ in CASES_BY_RULE}))
def test_rule_examples_same_with_and_without_filter(rule_name):
    """Each example, with its rule alone and with every rule (``assume_finite``, so the
    unsafe rules run too): the same rewrites and the same module. (One test per rule, so
    that pytest-xdist spreads the examples over its workers.)"""
    differ = []
    with jax.enable_x64(True):
        for name, i in CASES_BY_RULE:
            if name != rule_name:
                continue
            rule = RULES[name]
            module = _example_module(rule.examples[i])
            for options in ({"only": [name], "assume_finite": rule.unsafe}, {"assume_finite": True}):
                on, off = _optimized(module, True, **options), _optimized(module, False, **options)
                if on != off:
                    differ.append(f"{name}[{i}] {options}")
    assert not differ, "the pre-filter changed the optimizer's output on: " + ", ".join(differ)


def _pipeline_text(module, pipeline: str, monkeypatch, rule_filter: bool) -> str:
    monkeypatch.setenv("ZYMASE_RULE_FILTER", "1" if rule_filter else "0")
    m = module.clone()
    try:
        run_pipeline(pipeline, m)
    except Exception as err:  # the same failure either way is the same outcome
        return f"{type(err).__name__}: {err}"
    return print_module(m)


def _is_float(dtype) -> bool:
    return jnp.issubdtype(dtype, jnp.inexact)


def _mlp(params, x):
    for w, b in params:
        x = jnp.tanh(x @ w + b)
    return jnp.mean(x * x) * 0.5


def _mlp_inputs():
    rs = np.random.RandomState(0)
    mlp_args = ([(rs.randn(8, 8).astype(np.float32), rs.randn(8).astype(np.float32)) for _ in range(3)], rs.randn(4, 8).astype(np.float32))
    return mlp_args, {}


PROGRAM_CASES = [(c.name, c.fn, c.inputs, c.static_argnums, c.context) for c in CASES[::2]]
# Every other corpus program (31 of 62, in corpus order, so every kind of program is
# represented): the filter only decides which rules are tried, each rule's own examples
# above check its needs rule by rule, and the whole corpus through both settings cost
# the suite half a minute.
PROGRAM_CASES.append(("mlp", _mlp, _mlp_inputs, (), lambda: jax.enable_x64(False)))


def _programs(case_name: str):
    """(label, imported module) of a corpus case or the small MLP: its primal, or its
    forward and reverse derivatives."""
    out = []
    for name, fn, inputs, static, context in PROGRAM_CASES:
        if name != case_name:
            continue
        with context():
            args, kwargs = inputs()
            program = lower(fn, *args, static_argnums=static, **kwargs)
        floats_in = [_is_float(a.dtype) for a in program.in_avals]
        floats_out = [_is_float(o.dtype) for o in program.out_avals]
        if not any(floats_in) or not any(floats_out):
            out.append((f"{name} primal", "zymase-primal", program.module))
            continue
        fwd = program.module.clone()
        add_diff_func(fwd, "zymase_entry", ForwardDiffOp, program.entry, [DUP if f else CONST for f in floats_in], [DUP if f else CONST for f in floats_out])
        out.append((f"{name} forward", "zymase-derivative", fwd))
        rev = program.module.clone()
        add_diff_func(rev, "zymase_entry", AutoDiffOp, program.entry, [ACTIVE if f else CONST for f in floats_in], [ACTIVENONEED if f else CONSTNONEED for f in floats_out])
        out.append((f"{name} reverse", "zymase-derivative", rev))
    return out


@pytest.mark.parametrize("case_name", [case[0] for case in PROGRAM_CASES])
def test_corpus_pipelines_same_with_and_without_filter(case_name, monkeypatch):
    """The AD corpus through the named pipelines (both ``zymase-hlo-opt`` runs of the
    derivative pipeline): the same final module, or the same error. (One test per
    program, so that pytest-xdist spreads them over its workers.)"""
    differ = []
    programs = _programs(case_name)
    assert programs, case_name
    for label, pipeline, module in programs:
        if _pipeline_text(module, pipeline, monkeypatch, True) != _pipeline_text(module, pipeline, monkeypatch, False):
            differ.append(label)
    assert not differ, "the pre-filter changed the pipeline's output on: " + ", ".join(differ)
