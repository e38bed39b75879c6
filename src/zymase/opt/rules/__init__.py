"""StableHLO rewrite rules, one module per family (every module here but ``common``).

Importing this package registers no rule: ``load_all()`` imports every family;
``load_rooted_at(cls)`` imports the families that have a rule rooted at the op class
``cls``, which the driver calls the first time it visits an op of that class, so that
``zymase-opt -p zymase-hlo-opt`` on a small module imports only the families its ops
can trigger. Which family roots rules at which classes is read from the family files'
text, without importing them (``roots_by_family``): the root class is the annotation of
the first parameter of each ``@rule`` function (``op: hlo.TransposeOp``, ``op: hlo.AddOp
| hlo.SubtractOp``) or the rule's ``roots=`` (``[hlo.MaxOp, ...]``, ``UNARY``,
``BINARY``, ``(*UNARY, hlo.ConvertOp)``, read as the elementwise classes; ``chlo.ConjOp``
for chlo roots). A family with
a root the reading does not understand is loaded for every op class. A new family file
is picked up like the others; ``tests/test_opt_rule_index.py`` checks that the roots read
cover the roots the rules register.
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
            json.dump({"stamp": stamp, "roots": roots, "rank": _RANK}, f)
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
