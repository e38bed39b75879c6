"""StableHLO rewrite rules, one module per family (every module here but ``common``).

Importing this package registers no rule: ``load_all()`` imports every family;
``load_rooted_at(cls)`` imports the families that have a rule rooted at the op class
``cls`` (what the driver falls back to without the index of needs, ``load_admitted``
below), so that ``zymase-opt -p zymase-hlo-opt`` on a small module imports only the
families its ops can trigger. Which family roots rules at which classes is read from the family files'
text, without importing them (``roots_by_family``): the root class is the annotation of
the first parameter of each ``@rule`` function (``op: hlo.TransposeOp``, ``op: hlo.AddOp
| hlo.SubtractOp``) or the rule's ``roots=`` (``[hlo.MaxOp, ...]``, ``UNARY``,
``BINARY``, ``(*UNARY, hlo.ConvertOp)``, read as the elementwise classes; ``chlo.ConjOp``
for chlo roots). A family with
a root the reading does not understand is loaded for every op class. A new family file
is picked up like the others; ``tests/test_opt_rule_index.py`` checks that the roots read
cover the roots the rules register.

Finer: ``load_admitted(cls, kinds)`` imports only the families with a rule rooted at ``cls``
whose ``needs`` the producers ``kinds`` of the root's operands can meet (the driver's
pre-filter, ``pattern.Needs``), which the driver calls before it plans the rules of a new
(root class, producer classes) pair: a family none of whose rules the module's ops admit is
not imported (on the dense layer of ``benchmarks/startup.py``, 11 families of the 29 with a
root there). That index of each rule's roots and needs is made by importing every family
once and kept with the roots in the cache below (``rule_index``), rebuilt when a family file
changes; without it, the roots decide (``load_rooted_at``).
"""

from __future__ import annotations

import importlib
import os
import re

_DECORATED = re.compile(r"\((.*?)\)\n(?:@[^\n]*\n)*def \w+\(\w+(?:: ([^,)=]+))?", re.S)
"""What follows ``@rule`` at the start of a line: ``(args)``, other decorators, and the
rule function's first parameter with its annotation."""
_WORD = re.compile(r"\w")
_ROOTS = re.compile(r"\broots=(\[[^\]]*\]|\([^)]*\)|\w+)")
_NOT_FAMILIES = ("common",)

ANY = object()
"""The roots of a family whose rules' roots were not all understood: every op class."""

_INDEX: dict[str, object] | None = None  # family -> frozenset of root classes, or ANY
_RANK: dict[str, int] = {}  # family -> its place in the order of registration of load_all()
_LOADED: set[str] = set()
_IMPORT = re.compile(r"^from \.(\w+) import", re.M)


def family_names() -> list[str]:
    """The rule families: the modules of this package but ``common``."""
    import pkgutil

    return sorted(info.name for info in pkgutil.iter_modules(__path__) if info.name not in _NOT_FAMILIES and not info.name.startswith("_"))


def _resolve(text: str) -> object:
    """The classes named by a root annotation or ``roots=`` expression, or ANY."""
    from ...ir import stablehlo as hlo
    from ..pattern import BINARY_ELEMENTWISE, UNARY_ELEMENTWISE

    out: set[type] = set()
    for item in re.split(r"[,|]", text.strip("[]() \n")):
        item = item.strip().lstrip("*").strip()
        if not item:
            continue
        if item in ("UNARY", "UNARY_ELEMENTWISE"):
            out.update(UNARY_ELEMENTWISE)
        elif item in ("BINARY", "BINARY_ELEMENTWISE"):
            out.update(BINARY_ELEMENTWISE)
        elif item.startswith("hlo.") and isinstance(cls := getattr(hlo, item[4:], None), type):
            out.add(cls)
        elif item.startswith("chlo.") and isinstance(cls := getattr(_chlo(), item[5:], None), type):
            out.add(cls)
        else:
            return ANY
    return frozenset(out)


def _chlo():
    """The chlo dialect module, imported only when a family names a chlo root."""
    from ...ir import chlo

    return chlo


def _source(family: str) -> str | None:
    try:
        with open(os.path.join(os.path.dirname(__file__), family + ".py"), encoding="utf-8") as f:
            return f.read()
    except OSError:  # no source to read (a byte-code-only install)
        return None


def _read_roots(family: str, text: str | None) -> object:
    """The root classes of the rules of ``family``, read from its source text."""
    if text is None:
        return ANY  # loaded for every op
    # The text after each line-starting "@rule" (str.split: a regular expression anchored
    # at line starts would try every position of the file); "@rules..." is not a rule.
    decorations = [d for d in ("\n" + text).split("\n@rule")[1:] if not _WORD.match(d)]
    roots: set[type] = set()
    resolved: dict[str, object] = {}
    for decoration in decorations:
        found = _DECORATED.match(decoration)
        if found is None:
            return ANY  # a decorator the reading does not understand
        args, annotation = found.groups()
        given = _ROOTS.search(args)
        spec = given.group(1) if given is not None else annotation
        if not spec:
            return ANY
        if spec not in resolved:
            resolved[spec] = _resolve(spec)
        if resolved[spec] is ANY:
            return ANY
        roots.update(resolved[spec])  # type: ignore[arg-type]
    return frozenset(roots)


def roots_by_family() -> dict[str, object]:
    """family -> the op classes its rules are rooted at (a superset), or ``ANY``."""
    global _INDEX
    if _INDEX is None:
        names = family_names()
        stamp = _stamp(names)
        cached = _load_index(stamp)
        if cached is not None:
            _INDEX, ranks = cached
            _RANK.update(ranks)
        else:
            texts = {name: _source(name) for name in names}
            _INDEX = {name: _read_roots(name, texts[name]) for name in names}
            _rank_families(names, texts)
            _save_index(stamp)
    return _INDEX


# The index read from the family files' text (2.4 MB, ~25 ms) is kept in
# __pycache__/rule_index.json, valid while every family file keeps its size and
# modification time (as Python's own byte-code cache); a tree that cannot be written
# reads the texts each time.

_CACHE = os.path.join(os.path.dirname(__file__), "__pycache__", "rule_index.json")


def _stamp(names: list[str]) -> list[list[object]] | None:
    here = os.path.dirname(__file__)
    out: list[list[object]] = []
    for name in names:
        try:
            st = os.stat(os.path.join(here, name + ".py"))
        except OSError:
            return None
        out.append([name, st.st_size, st.st_mtime_ns])
    return out


def _class_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__name__}"


def _load_index(stamp: list[list[object]] | None) -> tuple[dict[str, object], dict[str, int]] | None:
    if stamp is None:
        return None
    import json

    try:
        with open(_CACHE, encoding="utf-8") as f:
            data = json.load(f)
        if data.get("stamp") != stamp:
            return None
        index: dict[str, object] = {}
        modules: dict[str, object] = {}
        by_name: dict[str, type] = {}
        for name, roots in data["roots"].items():
            if roots == "ANY":
                index[name] = ANY
                continue
            classes = []
            for qual in roots:
                cls = by_name.get(qual)
                if cls is None:
                    module, _, attr = qual.partition(":")
                    if module not in modules:
                        modules[module] = importlib.import_module(module)
                    cls = by_name[qual] = getattr(modules[module], attr)
                classes.append(cls)
            index[name] = frozenset(classes)
        stored = data.get("rules") or {}
        _CACHED_RULES.clear()
        _CACHED_RULES.update(stored.get("families") or {})
        _RULE_CLASSES[:] = stored.get("classes") or []
        return index, {k: int(v) for k, v in data["rank"].items()}
    except (OSError, ValueError, KeyError, AttributeError, ImportError, TypeError):
        return None  # no cache, an old one, or one naming a class that moved: read the texts


def _save_index(stamp: list[list[object]] | None) -> None:
    if stamp is None or _INDEX is None:
        return
    import json

    roots = {name: "ANY" if r is ANY else sorted(_class_name(c) for c in r) for name, r in _INDEX.items()}  # type: ignore[union-attr]
    try:
        os.makedirs(os.path.dirname(_CACHE), exist_ok=True)
        tmp = f"{_CACHE}.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            rules = {"classes": _RULE_CLASSES, "families": _CACHED_RULES} if _CACHED_RULES else None
            json.dump({"stamp": stamp, "roots": roots, "rank": _RANK, "rules": rules}, f)
        os.replace(tmp, _CACHE)  # atomic: concurrent runs (lit, pytest workers) never read half a file
    except OSError:
        pass


def _rank_families(names: list[str], texts: dict[str, str | None]) -> None:
    """The order in which ``load_all()`` registers the families: by name, a family that
    imports another (``from .while_loop import ...``) after it."""

    started: set[str] = set()

    def visit(name: str) -> None:
        if name in started:  # done, or on the way (an import cycle)
            return
        started.add(name)
        for dep in _IMPORT.findall(texts.get(name) or ""):
            if dep in texts:
                visit(dep)
        _RANK[name] = len(_RANK)

    for name in names:
        visit(name)


def family_rank(name: str) -> int:
    """The place of a family in the order of registration of ``load_all()``: the rules of
    one root are tried in that order, whatever order the families were imported in."""
    roots_by_family()
    return _RANK.get(name, len(_RANK))


def load_family(name: str) -> None:
    if name not in _LOADED:
        importlib.import_module(f"{__name__}.{name}")
        _LOADED.add(name)


def load_all() -> None:
    """Import every family (registers every rule)."""
    for name in family_names():
        load_family(name)


def load_rooted_at(cls: type) -> None:
    """Import the families that may have a rule rooted at ``cls``."""
    for name, roots in roots_by_family().items():
        if name not in _LOADED and (roots is ANY or cls in roots):  # type: ignore[operator]
            load_family(name)


# ============================================================================ roots and needs of each rule

_CACHED_RULES: dict[str, list] = {}
"""family -> the distinct ``[roots, needs]`` of its rules as stored in the cache (classes as
indices into ``_RULE_CLASSES``; needs as ``[some, at]`` or None), read with the roots;
empty when the cache has none."""

_RULE_CLASSES: list[str] = []
"""The class names the stored roots and needs index."""

_BY_ROOT: dict[str, list[tuple[str, object]]] | None = None
"""root class name -> (family, needs as stored) for each distinct rule rooted there."""

_NEEDS: dict[int, object] = {}
"""id of a stored needs -> its ``pattern.Needs`` (made when first asked)."""


def _class_number(cls: type, numbers: dict[str, int]) -> int:
    name = _class_name(cls)
    if name not in numbers:
        numbers[name] = len(_RULE_CLASSES)
        _RULE_CLASSES.append(name)
    return numbers[name]


def _needs_record(needs: object, numbers: dict[str, int]) -> object:
    if needs is None:
        return None
    some = needs.some  # type: ignore[attr-defined]
    return [
        None if some is None else [_class_number(c, numbers) for c in some],
        [[k, [_class_number(c, numbers) for c in classes]] for k, classes in needs.at],  # type: ignore[attr-defined]
    ]


def _build_rule_index() -> None:
    """Import every family and record the roots and needs of its rules in the cache."""
    from ..pattern import RULES

    try:
        load_all()
    except Exception:  # a family that does not import (being edited): the roots decide
        _CACHED_RULES.clear()
        return
    _CACHED_RULES.clear()
    _CACHED_RULES.update({name: [] for name in family_names()})
    _RULE_CLASSES.clear()
    numbers: dict[str, int] = {}
    for r in RULES.values():
        record = [sorted(_class_number(c, numbers) for c in r.roots), _needs_record(r.needs, numbers)]
        if record not in _CACHED_RULES[r.family]:
            _CACHED_RULES[r.family].append(record)
    _save_index(_stamp(family_names()))


def rule_index() -> dict[str, list[tuple[str, object]]]:
    """root class name -> (family, needs as stored) of the rules rooted there, from the
    cache (made by importing every family when it is missing or stale: once after each
    change of a family file); empty without it."""
    global _BY_ROOT
    if _BY_ROOT is not None:
        return _BY_ROOT
    roots_by_family()  # reads the cache, "rules" included, when it is valid
    if set(_CACHED_RULES) != set(_INDEX or ()) and _stamp(family_names()) is not None:
        _build_rule_index()
    if set(_CACHED_RULES) != set(_INDEX or ()):  # no index of needs (no family sources to stamp)
        _CACHED_RULES.clear()
    by_root: dict[str, list[tuple[str, object]]] = {}
    for family, rules in _CACHED_RULES.items():
        for roots, needs in rules:
            for root in roots:
                by_root.setdefault(_RULE_CLASSES[root], []).append((family, needs))
    _BY_ROOT = by_root
    return by_root


def _needs(stored: object) -> object:
    """The ``pattern.Needs`` of a stored needs."""
    got = _NEEDS.get(id(stored))
    if got is None:
        from ..pattern import Needs

        def resolve(number: int) -> type:
            module, _, attr = _RULE_CLASSES[number].partition(":")
            return getattr(importlib.import_module(module), attr)

        some, at = stored  # type: ignore[misc]
        got = _NEEDS[id(stored)] = Needs(some=None if some is None else tuple(resolve(q) for q in some), at=tuple((int(k), tuple(resolve(q) for q in qs)) for k, qs in at))
    return got


def load_admitted(cls: type, kinds: tuple[type, ...] | None) -> None:
    """Import the families with a rule rooted at ``cls`` that the producer classes
    ``kinds`` of the root's operands admit (every rule rooted at ``cls`` when ``kinds`` is
    None: the driver's pre-filter is off); all families rooted at ``cls`` when the index of
    needs is missing or names a class that moved."""
    index = rule_index()
    if not _CACHED_RULES:
        load_rooted_at(cls)
        return
    try:
        for family, needs in index.get(_class_name(cls), ()):
            if family not in _LOADED and (kinds is None or needs is None or _needs(needs).admits(kinds)):  # type: ignore[attr-defined]
                load_family(family)
    except (ImportError, AttributeError, ValueError, TypeError, IndexError):
        load_rooted_at(cls)
