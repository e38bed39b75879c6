"""The lazy loading of rewrite-rule families: the roots read from each family file's text
(``zymase.opt.rules.roots_by_family``) must cover the roots its rules register, or the
driver, which imports a family the first time it visits an op of one of its root classes,
would skip rules that apply. Also: the order in which a root's rules are tried does not
depend on the order in which the families were imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from zymase.opt.pattern import BY_ROOT, RULES, load_rules
from zymase.opt.rules import ANY, family_names, family_rank, roots_by_family

load_rules()


def test_every_rule_root_is_in_its_family_index() -> None:
    index = roots_by_family()
    missing = [
        f"{r.name} ({r.family}): {cls.__name__}"
        for r in RULES.values()
        for cls in r.roots
        if index[r.family] is not ANY and cls not in index[r.family]  # type: ignore[operator]
    ]
    assert not missing, "roots the family index does not know (rules the lazy driver would skip): " + ", ".join(missing)


def test_the_index_reads_every_family_precisely() -> None:
    """A family read as ANY would be imported for every op: only a decorator the reading
    does not understand does that. The single-root families are read as exactly that root."""
    from zymase.ir import stablehlo as hlo

    index = roots_by_family()
    assert set(index) == set(family_names()) == {r.family for r in RULES.values()}
    assert [name for name, roots in index.items() if roots is ANY] == []
    assert hlo.DotGeneralOp in index["dot_general"] and hlo.ReduceOp not in index["dot_general"]  # type: ignore[operator]


def test_rules_of_a_root_are_tried_in_family_order() -> None:
    for cls, rules in BY_ROOT.items():
        ranks = [(family_rank(r.family), list(RULES).index(r.name)) for r in rules]
        assert ranks == sorted(ranks), cls.__name__


ORDER_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from zymase.opt.pattern import BY_ROOT, RULES
    from zymase.opt.rules import family_names, load_all, load_family
    if sys.argv[1] == "all":
        load_all()  # by name, as the package always did: each root's rules in registration order
        registered = list(RULES)
        assert all([r.name for r in rules] == sorted((r.name for r in rules), key=registered.index) for rules in BY_ROOT.values())
    else:
        for name in reversed(family_names()):
            load_family(name)
    print(json.dumps({cls.name: [r.name for r in rules] for cls, rules in BY_ROOT.items()}))
    """
)


def _rule_order(how: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", ORDER_SCRIPT, how], capture_output=True, text=True, env={**os.environ, "JAX_PLATFORMS": "cpu"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_lazy_import_order_gives_the_same_rule_order() -> None:
    """Importing the families in reverse order gives every root the same list of rules as
    importing them all by name (which registers a family's imports before it)."""
    assert _rule_order("reversed") == _rule_order("all")


def test_the_cached_index_is_the_index_read_from_the_texts(monkeypatch) -> None:
    """The index kept in __pycache__/rule_index.json gives what reading the family files
    gives, and a cache whose files changed (size or modification time) is not used."""
    import zymase.opt.rules as rules

    names = family_names()
    texts = {name: rules._source(name) for name in names}
    read = {name: rules._read_roots(name, texts[name]) for name in names}
    stamp = rules._stamp(names)
    monkeypatch.setattr(rules, "_INDEX", read)
    rules._save_index(stamp)
    cached = rules._load_index(stamp)
    assert cached is not None and cached[0] == read and cached[1] == rules._RANK
    stale = [[name, size + 1, mtime] for name, size, mtime in stamp]
    assert rules._load_index(stale) is None
