"""Reach of zymase's StableHLO rewrite rules, measured on the peer's lit tests (issue 14).

    .venv/bin/python -m benchmarks.hlo_conformance DIR [--timeout S] [--jobs N]
        [--pipeline P] [--json FILE] [--markdown FILE] [--revision TEXT] [--in-process]
        [--memory-gb G] [--max-run-elements N] [--quiet]

DIR is a directory of lit test files (``*.mlir``, searched recursively) as given: the
script fetches nothing. A file is *in scope* when one of its RUN lines runs the peer's
tensor optimizer (``enzyme-hlo-opt``, or ``enzyme-hlo-generate-td`` with a list of
``patterns=``). Of its RUN lines piped to FileCheck, the one used (its
``--split-input-file`` and FileCheck prefixes) is the first that is like zymase's run:
not the peer's fast-math mode (options ``no_nan`` or ``all_finite``: zymase's counterpart
is ``assume_finite``, off here), and the whole optimizer rather than a list of patterns
when the file has both (zymase runs all its rules); when none is, the first. Every file and
every function is counted, none is left out silently:

- per file: in scope or not; per chunk (``// -----`` with ``--split-input-file``) and
  function: *parsed* by zymase (or a parse error, with its one-line reason; when a
  chunk does not parse, each function is parsed alone so the others still count),
- the function (with the functions it calls) is run through the pipeline (``--pipeline``,
  default ``zymase-hlo-opt,cse,dce``): an exception there is an *optimizer error*,
- *ran*: the function before and after the pipeline is emitted and called through JAX
  (``zymase.loader``, 64-bit mode) on the same random inputs of its argument types
  (floats normal(0, 1), integers in [-4, 4], booleans, complex; ``?`` dimensions = 3),
  and the results compared: floats elementwise within a relative tolerance (f64 1e-12,
  f32 1e-6, f16 1e-3, bf16 1e-2; NaN equals NaN, infinities equal when equal),
  integers and booleans exactly: *values equal* or *values differ*. When the input
  does not run, the reason is counted; when only the optimized function fails to run,
  that is counted apart (a rule made it unrunnable),
- *size*: the ops of the optimized function (nested regions included, terminators not,
  nor the one op of a reduce body that StableHLO prints in the compact form ``reduce(...)
  applies stablehlo.add``, which the peer's CHECK lines show as the reduce alone)
  against the ops in the peer's CHECK lines for that function (the block from its
  ``CHECK-LABEL`` / ``CHECK: func.func @name`` to the next one; CHECK lines inside the
  body of an unlabelled function belong to it): zymase *smaller*, *equal* or *larger*.
  A block without the function's ``return``, or with a gap (a plain ``CHECK:`` or
  ``CHECK-DAG:`` line after its first op line, where FileCheck lets unchecked lines
  pass), covers only part of the output: a larger count there is reported apart ("peer
  block partial"), and so is a larger count that
  only the splat constants written as a scalar constant + ``broadcast_in_dim`` make,
- each function has a time limit (``--timeout``, seconds; ``SIGALRM`` in the worker, and
  the worker process is killed and restarted when it overruns: *timeout*; a worker that
  dies is a *crash*); a worker's address space is limited (``--memory-gb``), so an
  optimizer that materializes a huge constant fails with a MemoryError (an optimizer
  error) instead of exhausting the machine; a function with a tensor of more than
  ``--max-run-elements`` elements is optimized and counted but not run (*not run*, with
  that reason).

Families are the patterns of the RUN line when it names them, else ``enzyme-hlo-opt``
(with the other passes of the RUN line after a ``+``). The script prints one line per
file, a summary and per-family tables; ``--json`` writes every function's record and
``--markdown FILE`` writes or replaces the section "HLO conformance (issue 14)" of FILE
between its markers (the rest of the file is kept).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import functools
import json
import os
import pathlib
import re
import shlex
import sys
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

os.environ.setdefault("JAX_PLATFORMS", "cpu")

from .harness import write_section  # noqa: E402

BEGIN = "<!-- hlo_conformance:begin (benchmarks/hlo_conformance.py --markdown; do not edit by hand) -->"
END = "<!-- hlo_conformance:end -->"
TITLE = "## HLO conformance (issue 14)"
DEFAULT_PIPELINE = "zymase-hlo-opt,cse,dce"
OPTIMIZER_PASSES = ("enzyme-hlo-opt", "enzyme-hlo-generate-td")
PLUMBING = ("transform-interpreter", "enzyme-hlo-remove-transform", "canonicalize", "cse", "inline")
"""Passes of a RUN line that leave it "optimizer only": the peer's optimizer, its
transform-dialect plumbing and generic clean-ups (other passes, such as AD, batching or
lowerings, do work zymase's rules do not do)."""
DYNAMIC_SIZE = 3
MAX_RUN_ELEMENTS = 1 << 24
MEMORY_GB = 6.0
RTOL = {"float64": 1e-12, "float32": 1e-6, "float16": 1e-3, "bfloat16": 1e-2}

# ============================================================================ lit files (text only)


@dataclasses.dataclass
class RunSpec:
    """The RUN line a file is measured with."""

    line: str
    passes: list[str]
    patterns: list[str]
    prefixes: list[str]
    split: bool
    filecheck: bool
    optimizer_runs: int = 1
    fast_math: bool = False
    """The optimizer assumes values without NaN or infinities (``no_nan``, ``all_finite``)."""

    @property
    def optimizer_only(self) -> bool:
        return all(p in OPTIMIZER_PASSES or p in PLUMBING for p in self.passes)

    @property
    def family(self) -> str:
        if self.patterns:
            return ";".join(self.patterns)
        others = [p for p in self.passes if p not in (*OPTIMIZER_PASSES, "transform-interpreter", "enzyme-hlo-remove-transform")]
        return "enzyme-hlo-opt" + (" {no_nan}" if self.fast_math else "") + (" + " + ",".join(dict.fromkeys(others)) if others else "")


_DRIVER_FLAGS = {
    "split-input-file", "allow-unregistered-dialect", "verify-each", "mlir-print-ir-after-all", "mlir-print-debuginfo",
    "mlir-print-op-generic", "mlir-print-local-scope", "debug", "o", "mlir-disable-threading", "verify-diagnostics",
    "mlir-print-ir-after-failure", "allow-unregistered-dialects", "split-input-file=", "log-actions-to",
}


def run_lines(text: str) -> list[str]:
    """The RUN lines of a lit file, continuation lines (``\\``) joined."""
    out: list[str] = []
    pending = ""
    for line in text.splitlines():
        m = re.match(r"\s*//\s*RUN:\s?(.*)$", line)
        if not m:
            if pending:
                out.append(pending)
                pending = ""
            continue
        body = m.group(1).rstrip()
        if body.endswith("\\"):
            pending += body[:-1] + " "
        else:
            out.append(pending + body)
            pending = ""
    if pending:
        out.append(pending)
    return out


def _split_top(text: str, sep: str = ",") -> list[str]:
    """``text`` split at ``sep`` outside (), {}, <>."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "({<":
            depth += 1
        elif ch in ")}>":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [s.strip() for s in out if s.strip()]


def _pipeline_passes(spec: str) -> list[tuple[str, str]]:
    """(pass, options) of ``builtin.module(a{x=1},b)`` (anchors unwrapped)."""
    out: list[tuple[str, str]] = []
    for item in _split_top(spec):
        m = re.match(r"([\w.-]+)\s*\((.*)\)$", item, re.S)
        if m:  # an anchor: builtin.module(...), func.func(...), any(...)
            out += _pipeline_passes(m.group(2))
            continue
        m = re.match(r"([\w-]+)\s*(?:\{(.*)\})?$", item, re.S)
        if m:
            out.append((m.group(1), m.group(2) or ""))
    return out


def parse_run_line(line: str) -> RunSpec | None:
    """The passes, patterns, prefixes of an ``enzymexlamlir-opt`` RUN line; None when it
    does not run the peer's optimizer."""
    if not any(p in line for p in OPTIMIZER_PASSES):
        return None
    opt_part, _, rest = line.partition("|")
    try:
        tokens = shlex.split(opt_part)
    except ValueError:
        tokens = opt_part.split()
    passes: list[tuple[str, str]] = []
    split = False
    for tok in tokens:
        if not tok.startswith("-"):
            continue
        name, _, value = tok.lstrip("-").partition("=")
        if name == "pass-pipeline":
            passes += _pipeline_passes(value)
        elif name == "split-input-file":
            split = True
        elif name in _DRIVER_FLAGS or name.startswith("mlir-"):
            continue
        else:
            passes.append((name, value))
    patterns: list[str] = []
    for name, options in passes:
        if name == "enzyme-hlo-generate-td":
            m = re.search(r"patterns=([^ }]*)", options)
            if m:
                patterns += [p for p in m.group(1).strip("\"'").split(";") if p]
    prefixes = ["CHECK"]
    filecheck = "FileCheck" in rest
    for m in re.finditer(r"--?check-prefix(?:es)?[= ]([\w,-]+)", rest):
        prefixes = m.group(1).split(",")
    fast_math = any(name in OPTIMIZER_PASSES and _FAST_MATH.search(options.strip("\"'")) for name, options in passes)
    return RunSpec(line, [n for n, _ in passes], list(dict.fromkeys(patterns)), prefixes, split, filecheck, fast_math=fast_math)


_FAST_MATH = re.compile(r"\b(?:no_nan|all_finite)\b(?!\s*=\s*(?:false|0)\b)")
"""An option of the peer's optimizer that assumes finite values (``no_nan=true``, bare
``no_nan``, ``all_finite=true``); ``no_nan=false`` is IEEE semantics."""


def optimizer_run(text: str) -> RunSpec | None:
    """The RUN line a file is measured with (see the module docs)."""
    specs = [s for s in (parse_run_line(line) for line in run_lines(text)) if s is not None]
    if not specs:
        return None
    checked = [s for s in specs if s.filecheck] or specs
    exact = [s for s in checked if not s.fast_math] or checked
    whole = [s for s in exact if not s.patterns and s.optimizer_only]
    chosen = (whole or exact)[0]
    chosen.optimizer_runs = len(specs)
    return chosen


def split_chunks(text: str, split: bool) -> list[tuple[int, str]]:
    """(first line number, chunk text) of the file: one chunk, or one per ``// -----``.
    Each chunk's text starts with blank lines, so that line numbers are the file's."""
    if not split:
        return [(1, text)]
    lines = text.split("\n")
    out, start = [], 0
    for i, line in enumerate(lines + ["// -----"]):
        if re.match(r"\s*//\s*-----\s*$", line):
            out.append((start + 1, "\n" * start + "\n".join(lines[start:i])))
            start = i + 1
    return out


_FUNC_HEAD = re.compile(r'^\s*func\.func\s+(?:(?:public|private|nested)\s+)?@("?)([\w.$-]+)\1')


@dataclasses.dataclass
class FuncSpan:
    name: str
    first_line: int  # 1-based, the line of ``func.func``
    last_line: int
    start: int  # offsets in the chunk text
    end: int


def function_spans(chunk: str) -> list[FuncSpan]:
    """The ``func.func`` ops of a chunk as text: name, lines, offsets (brace matching,
    skipping comments and strings)."""
    out: list[FuncSpan] = []
    offset = 0
    lines = chunk.split("\n")
    starts = []
    for i, line in enumerate(lines):
        m = _FUNC_HEAD.match(line)
        if m:
            starts.append((i, offset + line.index("func.func"), m.group(2)))
        offset += len(line) + 1
    for i, start, name in starts:
        end = _matching_end(chunk, start)
        out.append(FuncSpan(name, i + 1, chunk.count("\n", 0, end) + 1, start, end))
    return out


def _matching_end(text: str, start: int) -> int:
    """Offset just past the ``}`` closing the first ``{`` of the op body after ``start``
    (the body is the first ``{`` after the signature's parentheses close)."""
    depth_paren = depth = 0
    i, n = start, len(text)
    in_str = entered = False
    while i < n:
        ch = text[i]
        if in_str:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif ch == "(":
            depth_paren += 1
        elif ch == ")":
            depth_paren -= 1
        elif ch == "{":
            if depth_paren == 0 and not entered and depth == 0 and _is_body_brace(text, i):
                entered = True
            depth += 1
        elif ch == "}":
            depth -= 1
            if entered and depth == 0:
                return i + 1
        i += 1
    return n


def _is_body_brace(text: str, i: int) -> bool:
    """A ``{`` at depth 0 after the signature: the body, unless ``attributes {``."""
    before = text[max(0, i - 40) : i].rstrip()
    return not before.endswith("attributes")


@dataclasses.dataclass
class PeerBlock:
    ops: list[str] = dataclasses.field(default_factory=list)
    complete: bool = False
    """The block shows the function's return and leaves no gap: the count is the peer's."""
    lines: int = 0
    returned: bool = False
    gap: bool = False
    """A plain ``CHECK:`` or ``CHECK-DAG:`` line after the block's first op line: FileCheck
    lets the lines before it match nothing, so the peer's output may hold ops the block
    does not show (``CHECK: reduce_window`` after ``CHECK: reshape`` leaves the init
    constant unchecked). The count is then a lower bound, as for a block without return."""


_DIRECTIVE = r"(?P<prefix>{prefixes})(?P<kind>-LABEL|-NEXT|-DAG|-SAME|-NOT|-EMPTY|-COUNT-\d+)?(?:\{{LITERAL\}})?\s*:(?P<content>.*)$"
_OP_NAME = re.compile(r'^(?:(?:%|\{\{|\[\[)[^=]*?=\s*)?"?([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)+)"?(?![\w.$])')
_TERMINATOR = re.compile(r"(^|\.)(return|yield)$")


@functools.cache
def _stablehlo_mnemonics() -> frozenset[str]:
    """The StableHLO op names zymase knows, without the ``stablehlo.`` prefix."""
    from xdsl.ir import Operation

    from zymase.ir import stablehlo as hlo

    names = (getattr(c, "name", "") for c in vars(hlo).values() if isinstance(c, type) and issubclass(c, Operation))
    return frozenset(n[len("stablehlo.") :] for n in names if n.startswith("stablehlo."))


def peer_op(content: str) -> str | None:
    """The op a CHECK line's content shows (``%x = stablehlo.add ...`` -> stablehlo.add;
    a bare StableHLO mnemonic, ``CHECK-COUNT-2: pad``, -> stablehlo.pad: FileCheck matches it
    on the op's line), None for other lines and for func.func, terminators and modules."""
    c = content.strip()
    m = _OP_NAME.match(c)
    if not m:
        if re.fullmatch(r"[a-z_]+", c) and not _TERMINATOR.search(c) and c in _stablehlo_mnemonics():
            return "stablehlo." + c
        return None
    name = m.group(1)
    if name in ("func.func", "builtin.module") or _TERMINATOR.search(name):
        return None
    return name


def peer_blocks(chunk: str, prefixes: Sequence[str], spans: Sequence[FuncSpan]) -> dict[str, list[PeerBlock]]:
    """The peer's expected output per function name of a chunk, one block per occurrence
    of the name in the order of the text (a chunk may hold several modules with a
    ``@main`` each; see the module docs)."""
    pattern = re.compile(r"//.*?\b" + _DIRECTIVE.format(prefixes="|".join(re.escape(p) for p in prefixes)))
    entries = []  # (line, kind, content)
    for i, line in enumerate(chunk.split("\n"), start=1):
        m = pattern.search(line)
        if m:
            entries.append((i, m.group("kind") or "", m.group("content")))
    labelled_names = {n for _, kind, content in entries if (n := _label_name(kind, content)) is not None}
    blocks: dict[str, list[PeerBlock]] = {}
    owned: dict[int, PeerBlock] = {}  # span index -> block of an unlabelled function
    current: PeerBlock | None = None
    pending: list[tuple[str, str]] = []
    for line, kind, content in entries:
        name = _label_name(kind, content)
        if name is not None:
            current = PeerBlock()
            blocks.setdefault(name, []).append(current)
            continue
        owner = next((k for k, s in enumerate(spans) if s.first_line <= line <= s.last_line and s.name not in labelled_names), None)
        if owner is not None:
            if owner not in owned:
                owned[owner] = PeerBlock()
            _add_line(owned[owner], kind, content)
        elif current is not None:
            _add_line(current, kind, content)
        else:
            pending.append((kind, content))
    if pending and len(spans) == 1 and not blocks:
        owned.setdefault(0, PeerBlock())
        for kind, content in pending:
            _add_line(owned[0], kind, content)
    # unlabelled functions with CHECK lines in their body: in the order of the text
    for k, block in sorted(owned.items()):
        blocks.setdefault(spans[k].name, []).append(block)
    return blocks


def _label_name(kind: str, content: str) -> str | None:
    c = content.strip()
    if kind == "-LABEL" or (kind in ("", "-NEXT") and re.match(r"(func\.func|func)\b", c)):
        m = re.search(r'@"?([\w.$-]+)', c)
        if m:
            return m.group(1)
        return "?" if kind == "-LABEL" else None
    return None


def _add_line(block: PeerBlock, kind: str, content: str) -> None:
    if kind in ("-NOT", "-SAME", "-EMPTY"):
        return
    block.lines += 1
    c = content.strip()
    if block.ops and (kind in ("", "-DAG") or kind.startswith("-COUNT-")):
        block.gap = True
    if re.match(r'^(?:"?func\.return"?|return)\b', c):
        block.returned = True
    block.complete = block.returned and not block.gap
    op = peer_op(c)
    if op is not None:
        count = int(kind[len("-COUNT-") :]) if kind.startswith("-COUNT-") else 1
        block.ops += [op] * count


# ============================================================================ records


@dataclasses.dataclass
class FuncRecord:
    file: str
    chunk: int
    name: str
    family: str
    status: str
    """parse-error | optimizer-error | timeout | crash | not-run | after-failed | equal | differ"""
    reason: str = ""
    seconds: float = 0.0
    ops_before: int | None = None
    ops_after: int | None = None
    splat_broadcasts: int = 0
    after_kinds: dict[str, int] = dataclasses.field(default_factory=dict)
    max_rel_diff: float | None = None
    peer_ops: int | None = None
    peer_kinds: dict[str, int] = dataclasses.field(default_factory=dict)
    peer_complete: bool = False
    optimizer_only: bool = True
    f64_check: str = ""
    """For values that differ in a narrower float type: the same function run in f64."""

    @property
    def parsed(self) -> bool:
        return self.status != "parse-error"

    @property
    def ran(self) -> bool:
        return self.status in ("equal", "differ")

    @property
    def size(self) -> str | None:
        """smaller | equal | larger | larger-partial | larger-splat, None without both counts."""
        if self.ops_after is None or self.peer_ops is None:
            return None
        if self.ops_after < self.peer_ops:
            return "smaller"
        if self.ops_after == self.peer_ops:
            return "equal"
        if not self.peer_complete:
            return "larger-partial"
        if self.ops_after - self.splat_broadcasts <= self.peer_ops:
            return "larger-splat"
        return "larger"

    def excess(self) -> Counter:
        return Counter(self.after_kinds) - Counter(self.peer_kinds)


@dataclasses.dataclass
class FileRecord:
    file: str
    in_scope: bool
    family: str = ""
    optimizer_only: bool = False
    run_line: str = ""
    chunks: int = 0
    note: str = ""


# ============================================================================ measuring (zymase, JAX)


class FunctionTimeout(Exception):
    pass


def _one_line(text: Any, limit: int = 300) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _error(e: BaseException) -> str:
    from zymase.errors import MlirError

    if isinstance(e, MlirError):
        return _one_line(e)
    if isinstance(e, MemoryError) and not str(e):
        return "MemoryError (over the worker's memory limit, --memory-gb)"
    return _one_line(f"{type(e).__name__}: {e}")


def _funcs(module) -> list:
    from xdsl.dialects.func import FuncOp

    return [op for op in module.walk() if isinstance(op, FuncOp) and op.body.blocks]


def _symbol_refs(op) -> set[str]:
    from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, SymbolRefAttr

    out: set[str] = set()

    def visit(a):
        if isinstance(a, SymbolRefAttr):
            out.add(a.root_reference.data)
        elif isinstance(a, ArrayAttr):
            for x in a.data:
                visit(x)
        elif isinstance(a, DictionaryAttr):
            for x in a.data.values():
                visit(x)

    for o in op.walk():
        for a in (*o.attributes.values(), *o.properties.values()):
            visit(a)
    return out


def reduced_module(module, name: str):
    """A clone of ``module`` keeping, of its top-level functions with bodies, ``@name``
    and those it calls (transitively)."""
    from xdsl.dialects.func import FuncOp

    clone = module.clone()
    top = {op.sym_name.data: op for op in clone.ops if isinstance(op, FuncOp)}
    if name not in top:
        return clone
    keep, work = set(), [name]
    while work:
        n = work.pop()
        if n in keep or n not in top:
            continue
        keep.add(n)
        work += list(_symbol_refs(top[n]))
    for n, op in top.items():
        if n not in keep and op.body.blocks:
            op.detach()
            op.erase()
    return clone


def _compact_combiner(op) -> bool:
    """The one op of a ``stablehlo.reduce`` body that applies it to the block's two
    arguments: StableHLO's compact form (``reduce(...) applies stablehlo.add``), which the
    peer's CHECK lines show as one op, the reduce."""
    parent = op.parent_op()
    if parent is None or parent.name != "stablehlo.reduce":
        return False
    block = op.parent_block()
    body = [o for o in block.ops if not _TERMINATOR.search(o.name)]
    return body == [op] and len(block.args) == 2 and list(op.operands) == list(block.args) and list(block.last_op.operands) == list(op.results)


def count_ops(func) -> tuple[int, Counter, int]:
    """(ops, op names, splat constants broadcast) in a function, nested regions included,
    terminators and the combiner of a reduce in the compact form not; the last counts broadcast_in_dim ops of one-element constants."""
    names: Counter = Counter()
    splats = 0
    for op in func.body.walk():
        if _TERMINATOR.search(op.name) or op.name == "func.func" or _compact_combiner(op):
            continue
        names[op.name] += 1
        if op.name == "stablehlo.broadcast_in_dim" and op.operands:
            src = op.operands[0]
            owner = getattr(src, "owner", None)
            if getattr(owner, "name", "") == "stablehlo.constant":
                shape = src.type.get_shape() if hasattr(src.type, "get_shape") else ()
                size = 1
                for d in shape:
                    size *= d
                splats += size == 1
    return sum(names.values()), names, splats


def _largest(func) -> int:
    """The most elements of a tensor type among the function's arguments and op results
    (dynamic dimensions as DYNAMIC_SIZE)."""
    from xdsl.dialects.builtin import TensorType

    types = [a.type for a in func.body.blocks[0].args] + [r.type for op in func.body.walk() for r in op.results]
    most = 0
    for t in types:
        if isinstance(t, TensorType):
            n = 1
            for d in t.get_shape():
                n *= DYNAMIC_SIZE if d < 0 else d
            most = max(most, n)
    return most


def random_args(fn, rng) -> list:
    """Random inputs of ``fn``'s argument types (see the module docs)."""
    import numpy as np
    from xdsl.dialects.builtin import TensorType

    from zymase.backend.std_ops import jax_dtype

    out = []
    for t in fn.arg_types:
        dt = jax_dtype(t)
        shape = tuple(DYNAMIC_SIZE if d < 0 else d for d in t.get_shape()) if isinstance(t, TensorType) else ()
        if dt == np.bool_:
            x = rng.random(shape) > 0.5
        elif dt.kind in "iu":
            lo = 0 if dt.kind == "u" else -4
            x = rng.integers(lo, 5, size=shape).astype(dt)
        elif dt.kind == "c":
            x = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
        elif dt.kind == "f" or dt.name == "bfloat16":
            x = rng.standard_normal(shape).astype(dt)
        else:
            raise TypeError(f"no random inputs of type {t}")
        out.append(np.asarray(x, dtype=dt))
    return out


def compare_values(want: Sequence[Any], got: Sequence[Any]) -> tuple[bool, float, str]:
    """(equal, max relative difference of floats, reason when not equal)."""
    import numpy as np

    worst = 0.0
    if len(want) != len(got):
        return False, float("inf"), f"{len(want)} results before, {len(got)} after"
    for k, (w, g) in enumerate(zip(want, got)):
        w, g = np.asarray(w), np.asarray(g)
        if w.shape != g.shape or w.dtype != g.dtype:
            return False, float("inf"), f"result {k}: {w.dtype}{list(w.shape)} before, {g.dtype}{list(g.shape)} after"
        if w.dtype.kind == "c":
            parts = [(w.real, g.real), (w.imag, g.imag)]
        else:
            parts = [(w, g)]
        for a, b in parts:
            if a.dtype.kind in "biu":
                bad = int(np.sum(a != b))
                if bad:
                    return False, float("inf"), f"result {k}: {bad} of {a.size} integers differ"
                continue
            rtol = RTOL.get(a.dtype.name, 1e-6)
            a64, b64 = a.astype(np.float64), b.astype(np.float64)
            same = (a64 == b64) | (np.isnan(a64) & np.isnan(b64))
            with np.errstate(invalid="ignore", over="ignore"):
                diff = np.abs(a64 - b64)
                scale = np.maximum(np.abs(a64), np.abs(b64))
                rel = np.where(same, 0.0, np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), np.inf))
            rel = np.where(np.isnan(rel), np.inf, rel)
            if rel.size:
                worst = max(worst, float(rel.max()))
            bad = int(np.sum(rel > rtol))
            if bad:
                i = np.unravel_index(int(np.argmax(rel)), rel.shape) if rel.ndim else ()
                return False, worst, f"result {k}: {bad} of {a.size} values differ (at {tuple(int(j) for j in i)}: {a[i]!r} before, {b[i]!r} after; rtol {rtol:g})"
    return True, worst, ""


def _call(fn, args: Sequence[Any]) -> Any:
    """``fn(*args)``; for a function with dynamic (``?``) dimensions its jitted function is
    called directly on the arguments (already of the argument types): MlirFunction's
    argument check takes -1 for the dynamic size, xDSL writes it as DYNAMIC_INDEX."""
    from xdsl.dialects.builtin import TensorType

    if not any(isinstance(t, TensorType) and any(d < 0 for d in t.get_shape()) for t in fn.arg_types):
        return fn(*args)
    fn.check_arity(len(args))
    out = fn._compiled()(*args)
    return out[0] if len(fn.result_types) == 1 else tuple(out)


_NARROW_FLOAT = re.compile(r"(?:(?<=[0-9?]x)|(?<![%@\w$.]))(bf16|f16|f32)\b")
"""The narrower float types of MLIR text: ``f32``, ``tensor<4xf32>``, ``complex<f32>``."""


def _f64_check(before, name: str, args: Sequence[Any], pipeline: str) -> str:
    """For values that differ: the function with its narrower float types written as f64,
    before and after the pipeline, on the same inputs, compared at f64's tolerance. When
    they agree there, the difference is rounding of the narrower type (a summation order
    XLA chose differently for the rewritten program), not a wrong rewrite."""
    import numpy as np

    from zymase.ir import print_module
    from zymase.loader import MlirModule, parse_located, verify_located

    text = print_module(before)
    if not _NARROW_FLOAT.search(text):
        return "no f64 check: the function has no f32, f16 or bf16 type"
    try:
        wide = parse_located(_NARROW_FLOAT.sub("f64", text), "f64 version")
        verify_located(wide)
        wide_after = wide.clone()
        _run_pipeline(wide_after, pipeline)
        wide_args = [a.astype(np.complex128) if a.dtype.kind == "c" else a.astype(np.float64) if a.dtype.kind == "f" or a.dtype.name == "bfloat16" else a for a in args]
        fn = MlirModule(wide)[name]
        n = len(fn.result_types)
        want, got = _call(fn, wide_args), _call(MlirModule(wide_after)[name], wide_args)
        want, got = ((want,), (got,)) if n == 1 else (tuple(want), tuple(got))
        equal, worst, why = compare_values([np.asarray(w) for w in want], [np.asarray(g) for g in got])
    except FunctionTimeout:
        raise
    except Exception as e:  # noqa: BLE001 -- reported as such
        return f"no f64 check: {_error(e)}"
    return f"agrees in f64 (max rel. diff {worst:.1e}): rounding" if equal else f"differs in f64 too: {why}"


def _alarm(seconds: float):
    import signal

    def handler(signum, frame):
        raise FunctionTimeout(f"over {seconds:g} s")

    if seconds and seconds > 0 and hasattr(signal, "setitimer"):
        try:
            signal.signal(signal.SIGALRM, handler)
            signal.setitimer(signal.ITIMER_REAL, seconds)
            return True
        except ValueError:  # not the main thread
            return False
    return False


def _alarm_off() -> None:
    import signal

    if hasattr(signal, "setitimer"):
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        except ValueError:
            pass


def _run_pipeline(module, pipeline: str) -> None:
    from xdsl.context import Context
    from xdsl.passes import PassPipeline

    from zymase.passes import get_all_passes

    PassPipeline.parse_spec(get_all_passes(), pipeline, None).apply(Context(), module)


def check_chunk(
    path: str, chunk_index: int, chunk: str, spec: RunSpec, pipeline: str = DEFAULT_PIPELINE, timeout: float = 60.0, emit=None, max_run_elements: int = MAX_RUN_ELEMENTS
) -> list[FuncRecord]:
    """Measure every function of one chunk of a lit file (see the module docs): parse,
    optimize, run before and after (unless a tensor of the function has more than
    ``max_run_elements`` elements), count ops, compare with the peer's CHECK lines.
    ``emit(record)``, when given, sees each record as soon as it is made."""
    import jax

    records: list[FuncRecord] = []

    def add(rec: FuncRecord) -> None:
        records.append(rec)
        if emit is not None:
            emit(rec)

    with jax.enable_x64(True):
        _check_chunk(path, chunk_index, chunk, spec, pipeline, timeout, add, max_run_elements)
    return records


def _check_chunk(path, chunk_index, chunk, spec, pipeline, timeout, add, max_run_elements) -> None:
    from zymase.loader import MlirError, parse_located, verify_located

    spans = function_spans(chunk)
    blocks = peer_blocks(chunk, spec.prefixes, spans)
    family = spec.family

    seen: Counter = Counter()  # occurrences of each name so far: the k-th @main gets the k-th block

    def record(name: str, status: str, **kw) -> FuncRecord:
        got = blocks.get(name, [])
        block = got[seen[name]] if seen[name] < len(got) else None
        seen[name] += 1
        if block is not None:
            kw.setdefault("peer_ops", len(block.ops))
            kw.setdefault("peer_kinds", dict(Counter(block.ops)))
            kw.setdefault("peer_complete", block.complete)
        return FuncRecord(path, chunk_index, name, family, status, optimizer_only=spec.optimizer_only, **kw)

    def parse(text: str):
        module = parse_located(text, path)
        verify_located(module)
        return module

    # One module for the chunk; when it does not parse, each function alone.
    modules: list[tuple[str, Any]] = []
    try:
        _alarm(timeout)
        module = parse(chunk)
        _alarm_off()
        funcs = _funcs(module)
        if not funcs:
            add(record("(no function)", "parse-error", reason="the chunk has no func.func with a body"))
        modules = [(f.sym_name.data, f.parent_op()) for f in funcs]  # the (inner) module holding it
    except (MlirError, FunctionTimeout, Exception) as whole_error:
        _alarm_off()
        if not spans:
            add(record("(chunk)", "parse-error", reason=_error(whole_error)))
            return
        for s in spans:
            text = "\n" * (s.first_line - 1) + chunk[s.start : s.end]
            try:
                _alarm(timeout)
                modules.append((s.name, parse(text)))
            except Exception as e:  # noqa: BLE001 -- a parse error, counted with its reason
                add(record(s.name, "parse-error", reason=_error(e)))
            finally:
                _alarm_off()
    for name, module in modules:
        add(_check_function(path, name, module, pipeline, timeout, record, max_run_elements))


def _check_function(path: str, name: str, module, pipeline: str, timeout: float, record, max_run_elements: int) -> FuncRecord:
    import numpy as np

    from zymase.loader import MlirModule, verify_located

    t0 = time.perf_counter()
    kw: dict[str, Any] = {}
    try:
        _alarm(timeout)
        before = reduced_module(module, name)
        f_before = next(f for f in _funcs(before) if f.sym_name.data == name)
        kw["ops_before"] = count_ops(f_before)[0]
        after = before.clone()
        try:
            _run_pipeline(after, pipeline)
            verify_located(after)
        except FunctionTimeout:
            raise
        except Exception as e:  # noqa: BLE001 -- the optimizer failed: counted as such
            return record(name, "optimizer-error", reason=_error(e), seconds=time.perf_counter() - t0, **kw)
        f_after = next((f for f in _funcs(after) if f.sym_name.data == name), None)
        if f_after is not None:
            n, kinds, splats = count_ops(f_after)
            kw.update(ops_after=n, after_kinds=dict(kinds), splat_broadcasts=splats)
        largest = max(_largest(f_before), _largest(f_after) if f_after is not None else 0)
        if largest > max_run_elements:
            why = f"not run: a tensor of {largest} elements (limit {max_run_elements})"
            return record(name, "not-run", reason=why, seconds=time.perf_counter() - t0, **kw)
        try:
            fn_before = MlirModule(before)[name]
            rng = np.random.default_rng(zlib.crc32(f"{os.path.basename(path)}:{name}".encode()))
            args = random_args(fn_before, rng)
            want = _call(fn_before, args)
        except FunctionTimeout:
            raise
        except Exception as e:  # noqa: BLE001 -- the input does not run in zymase
            return record(name, "not-run", reason=_error(e), seconds=time.perf_counter() - t0, **kw)
        try:
            got = _call(MlirModule(after)[name], args)
        except FunctionTimeout:
            raise
        except Exception as e:  # noqa: BLE001 -- the optimized function does not run: a rule broke it
            return record(name, "after-failed", reason=_error(e), seconds=time.perf_counter() - t0, **kw)
        n_results = len(fn_before.result_types)
        want = (want,) if n_results == 1 else tuple(want)
        got = (got,) if n_results == 1 else tuple(got)
        equal, worst, why = compare_values([np.asarray(w) for w in want], [np.asarray(g) for g in got])
        if not equal:
            kw["f64_check"] = _f64_check(before, name, args, pipeline)
        return record(name, "equal" if equal else "differ", reason=why, max_rel_diff=worst, seconds=time.perf_counter() - t0, **kw)
    except FunctionTimeout as e:
        return record(name, "timeout", reason=str(e), seconds=time.perf_counter() - t0, **kw)
    finally:
        _alarm_off()


# ============================================================================ the sweep


def lit_files(root: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in root.rglob("*.mlir") if p.is_file())


def plan(root: pathlib.Path) -> tuple[list[FileRecord], list[tuple[str, int, str, RunSpec, list[FuncSpan]]]]:
    """Every file's record, and the chunks to measure: (path, index, text, spec, spans)."""
    files: list[FileRecord] = []
    tasks = []
    for p in lit_files(root):
        rel = str(p.relative_to(root))
        text = p.read_text(errors="replace")
        spec = optimizer_run(text)
        if spec is None:
            files.append(FileRecord(rel, False, note="no RUN line runs enzyme-hlo-opt / enzyme-hlo-generate-td"))
            continue
        chunks = split_chunks(text, spec.split)
        note = f"{spec.optimizer_runs} optimizer RUN lines, the one like zymase's run is used (see the module docs)" if spec.optimizer_runs > 1 else ""
        if not spec.filecheck:
            note = (note + "; " if note else "") + "the RUN line has no FileCheck: no peer counts"
        files.append(FileRecord(rel, True, spec.family, spec.optimizer_only, spec.line, len(chunks), note))
        for i, (_, chunk) in enumerate(chunks):
            tasks.append((rel, i, chunk, spec, function_spans(chunk)))
    return files, tasks


def _worker(conn, pipeline: str, timeout: float, memory_gb: float, max_run_elements: int) -> None:
    """A worker process: measures the chunks it is sent, one message per function. Its
    address space is limited to ``memory_gb`` (an allocation beyond is a MemoryError of
    the function, not the machine's memory)."""
    if memory_gb > 0:
        import resource

        limit = int(memory_gb * (1 << 30))
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import gc

    import jax

    jax.config.update("jax_enable_x64", True)
    while True:
        task = conn.recv()
        if task is None:
            return
        path, index, chunk, spec = task
        try:
            check_chunk(path, index, chunk, spec, pipeline, timeout, emit=lambda r: conn.send(("record", dataclasses.asdict(r))), max_run_elements=max_run_elements)
        except Exception as e:  # noqa: BLE001 -- reported, the sweep goes on
            conn.send(("record", dataclasses.asdict(FuncRecord(path, index, "(chunk)", spec.family, "optimizer-error", reason="measuring failed: " + _error(e)))))
        jax.clear_caches()  # the compiled functions of this chunk: memory stays flat over the sweep
        gc.collect()
        conn.send(("done", None))


class _Worker:
    def __init__(self, ctx, pipeline: str, timeout: float, memory_gb: float, max_run_elements: int):
        self.ctx, self.pipeline, self.timeout, self.memory_gb, self.max_run_elements = ctx, pipeline, timeout, memory_gb, max_run_elements
        self._start()

    def _start(self) -> None:
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child, self.pipeline, self.timeout, self.memory_gb, self.max_run_elements), daemon=True)
        self.proc.start()
        child.close()
        self.task = None
        self.got: list[FuncRecord] = []
        self.deadline = 0.0

    def submit(self, task) -> None:
        path, index, chunk, spec, spans = task
        self.task, self.got = task, []
        self.conn.send((path, index, chunk, spec))
        self.deadline = time.monotonic() + 3 * self.timeout + 120  # the first task also imports zymase and JAX

    def kill_and_restart(self, died: bool = False) -> list[FuncRecord]:
        """The records of the task of a worker that overran (or died): those received,
        then the rest as timeouts (or crashes)."""
        code = self.proc.exitcode
        self.proc.kill()
        self.proc.join()
        path, index, chunk, spec, spans = self.task
        seen = {r.name for r in self.got}
        out = list(self.got)
        rest = [s.name for s in spans if s.name not in seen] or (["(chunk)"] if not out else [])
        for i, name in enumerate(rest):
            if i:
                why = "not measured: the worker stopped on an earlier function of the chunk"
            elif died:
                why = f"the worker process died (exit code {code})"
            else:
                why = f"worker killed after {3 * self.timeout + 30:g} s without progress"
            out.append(FuncRecord(path, index, name, spec.family, "crash" if died else "timeout", reason=why))
        self._start()
        return out

    def close(self) -> None:
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.kill()


def sweep(tasks, pipeline: str, timeout: float, jobs: int, in_process: bool, progress=None, memory_gb: float = MEMORY_GB, max_run_elements: int = MAX_RUN_ELEMENTS) -> list[FuncRecord]:
    """Measure every chunk; ``progress(path, records)`` after each file's last chunk."""
    records: list[FuncRecord] = []
    by_file: dict[str, list[FuncRecord]] = collections.defaultdict(list)
    remaining = Counter(t[0] for t in tasks)

    def finished(path: str, recs: list[FuncRecord]) -> None:
        records.extend(recs)
        by_file[path].extend(recs)
        remaining[path] -= 1
        if remaining[path] == 0 and progress is not None:
            progress(path, by_file[path])

    if in_process:
        for path, index, chunk, spec, _ in tasks:
            finished(path, check_chunk(path, index, chunk, spec, pipeline, timeout, max_run_elements=max_run_elements))
        return records
    import multiprocessing
    from multiprocessing.connection import wait

    ctx = multiprocessing.get_context("spawn")
    workers = [_Worker(ctx, pipeline, timeout, memory_gb, max_run_elements) for _ in range(max(1, jobs))]
    queue = list(tasks)
    try:
        for w in workers:
            if queue:
                w.submit(queue.pop(0))
        while any(w.task is not None for w in workers):
            busy = [w for w in workers if w.task is not None]
            wait_for = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy], timeout=wait_for)
            for w in busy:
                if w.conn in ready:
                    try:
                        kind, payload = w.conn.recv()
                    except (EOFError, OSError):
                        kind, payload = "died", None
                    if kind == "record":
                        w.got.append(FuncRecord(**payload))
                        w.deadline = time.monotonic() + 3 * timeout + 30
                        continue
                    if kind == "done":
                        path, index = w.task[0], w.task[1]
                        recs, w.task = w.got, None
                        finished(path, recs)
                    else:  # the worker died (a crash in XLA, out of memory)
                        path = w.task[0]
                        finished(path, w.kill_and_restart(died=True))
                    if queue:
                        w.submit(queue.pop(0))
                elif time.monotonic() > w.deadline:
                    path = w.task[0]
                    finished(path, w.kill_and_restart())
                    if queue:
                        w.submit(queue.pop(0))
    finally:
        for w in workers:
            w.close()
    return records


# ============================================================================ tables


def summarize(files: Sequence[FileRecord], records: Sequence[FuncRecord]) -> dict[str, Any]:
    st = Counter(r.status for r in records)
    sizes = Counter(r.size for r in records if r.parsed)
    parsed = sum(r.parsed for r in records)
    compared = sum(v for k, v in sizes.items() if k is not None)
    as_small = sizes["smaller"] + sizes["equal"]
    return {
        "files": len(files),
        "files_in_scope": sum(f.in_scope for f in files),
        "chunks": sum(f.chunks for f in files),
        "functions": len(records),
        "parsed": parsed,
        "parse_errors": st["parse-error"],
        "optimizer_errors": st["optimizer-error"],
        "timeouts": st["timeout"],
        "crashes": st["crash"],
        "not_run": st["not-run"],
        "after_failed": st["after-failed"],
        "ran": st["equal"] + st["differ"],
        "values_equal": st["equal"],
        "values_differ": st["differ"],
        "differ_rounding": sum(r.status == "differ" and r.f64_check.startswith("agrees") for r in records),
        "compared": compared,
        "no_peer_count": parsed - compared,
        "smaller": sizes["smaller"],
        "size_equal": sizes["equal"],
        "larger": sizes["larger"],
        "larger_splat": sizes["larger-splat"],
        "larger_partial": sizes["larger-partial"],
        "larger_peer_extension": sum(r.size == "larger" and any(k.startswith("enzymexla.") for k in r.peer_kinds) for r in records),
        "as_small": as_small,
        "as_small_of_compared": as_small / compared if compared else 0.0,
        "as_small_of_parsed": as_small / parsed if parsed else 0.0,
    }


def reasons(records: Iterable[FuncRecord], status: str, n: int = 10) -> list[tuple[str, int, str]]:
    """The most common reasons of a status, locations and names blurred: (reason, count, example)."""
    got: Counter = Counter()
    example: dict[str, str] = {}
    for r in records:
        if r.status != status:
            continue
        key = re.sub(r"^[^ ]*:\d+:\d+: (error: )?", "", r.reason)
        key = re.sub(r"%[\w#]+|@[\w.$-]+|\d+", "N", key)[:140]
        got[key] += 1
        example.setdefault(key, f"{r.file}@{r.name}")
    return [(k, c, example[k]) for k, c in got.most_common(n)]


def family_rows(files: Sequence[FileRecord], records: Sequence[FuncRecord]) -> list[dict[str, Any]]:
    fam_files = Counter(f.family for f in files if f.in_scope)
    by: dict[str, list[FuncRecord]] = collections.defaultdict(list)
    for r in records:
        by[r.family].append(r)
    rows = []
    for fam in fam_files:
        rs = by.get(fam, [])
        st = Counter(r.status for r in rs)
        sizes = Counter(r.size for r in rs if r.parsed)
        excess: Counter = Counter()
        for r in rs:
            if r.size == "larger":
                excess += r.excess()
        rows.append({
            "family": fam,
            "files": fam_files[fam],
            "functions": len(rs),
            "parsed": sum(r.parsed for r in rs),
            "ran": st["equal"] + st["differ"],
            "equal": st["equal"],
            "differ": st["differ"],
            "failed": st["optimizer-error"] + st["after-failed"] + st["timeout"] + st["crash"],
            "smaller": sizes["smaller"],
            "same": sizes["equal"],
            "larger": sizes["larger"],
            "larger_other": sizes["larger-splat"] + sizes["larger-partial"],
            "excess": ", ".join(f"{k.split('.')[-1]} {v}" for k, v in excess.most_common(3)),
        })
    rows.sort(key=lambda r: (-r["functions"], r["family"]))
    return rows


def excess_overall(records: Sequence[FuncRecord], n: int = 12) -> list[tuple[str, int, int]]:
    """Op kinds zymase has beyond the peer's, over the functions larger than the peer's:
    (op, extra ops, functions)."""
    extra: Counter = Counter()
    funcs: Counter = Counter()
    for r in records:
        if r.size == "larger":
            e = r.excess()
            extra += e
            funcs.update(e.keys())
    return [(k, v, funcs[k]) for k, v in extra.most_common(n)]


def print_report(files: Sequence[FileRecord], records: Sequence[FuncRecord], out=None) -> dict[str, Any]:
    p = lambda *a: print(*a, file=out or sys.stdout)  # noqa: E731
    only = summarize([f for f in files if f.optimizer_only], [r for r in records if r.optimizer_only])
    s = summarize(files, records)
    _print_summary(p, s, "all files in scope")
    _print_summary(p, only, "only the files whose RUN line runs the peer's optimizer alone (no AD, batching, lowering passes)")
    _print_details(p, files, records)
    return s


def _print_summary(p, s: dict[str, Any], title: str) -> None:
    p(f"\n== {title}")
    p(f"files: {s['files']} ({s['files_in_scope']} run the peer's optimizer, {s['files'] - s['files_in_scope']} do not), chunks {s['chunks']}")
    p(f"functions: {s['functions']}: parsed {s['parsed']}, parse errors {s['parse_errors']}")
    p(f"  of the parsed: optimizer errors {s['optimizer_errors']}, timeouts {s['timeouts']}, worker crashes {s['crashes']}, input does not run {s['not_run']}, "
      f"optimized does not run {s['after_failed']}, ran {s['ran']}: values equal {s['values_equal']}, values differ {s['values_differ']} "
      f"(of which {s['differ_rounding']} agree when run in f64)")
    p(f"  size vs the peer's CHECK lines ({s['compared']} with a count, {s['no_peer_count']} without): smaller {s['smaller']}, equal {s['size_equal']}, "
      f"larger {s['larger']} (of which the peer's block holds enzymexla ops {s['larger_peer_extension']}), larger only by splat broadcasts {s['larger_splat']}, "
      f"larger than a partial CHECK block {s['larger_partial']}")
    p(f"  as small as the peer: {s['as_small']} = {100 * s['as_small_of_compared']:.1f}% of the compared, {100 * s['as_small_of_parsed']:.1f}% of the parsed")


def _print_details(p, files: Sequence[FileRecord], records: Sequence[FuncRecord]) -> None:
    wrong = [r for r in records if r.status == "differ"]
    if wrong:
        p(f"\nvalues differ ({len(wrong)}):")
        for r in wrong:
            p(f"  {r.file}@{r.name} (chunk {r.chunk}, {r.family}): {r.reason}; {r.f64_check}")
    for status in ("after-failed", "optimizer-error", "timeout", "crash", "parse-error", "not-run"):
        top = reasons(records, status, 100 if status in ("differ", "after-failed", "optimizer-error", "crash") else 12)
        if top:
            p(f"\n{status}: most common reasons")
            for k, c, ex in top:
                p(f"  {c:5d}  {k}   (e.g. {ex})")
    p("\nop kinds zymase has beyond the peer's, over the larger functions: op, extra ops, functions")
    for k, v, n in excess_overall(records):
        p(f"  {k:40s} {v:5d} {n:5d}")
    p("\nper family: files, functions, parsed, ran, values equal, differ, failed (optimizer / optimized run / timeout / crash), "
      "smaller, same, larger, larger (splat or partial block), excess ops of the larger")
    for r in family_rows(files, records):
        p(f"  {r['family'][:70]:70s} {r['files']:4d} {r['functions']:5d} {r['parsed']:5d} {r['ran']:5d} {r['equal']:5d} {r['differ']:3d} {r['failed']:3d} "
          f"{r['smaller']:4d} {r['same']:4d} {r['larger']:4d} {r['larger_other']:4d}  {r['excess']}")


def file_line(path: str, recs: Sequence[FuncRecord]) -> str:
    st = Counter(r.status for r in recs)
    sizes = Counter(r.size for r in recs)
    fam = recs[0].family if recs else ""
    return (f"{path[:60]:60s} {fam[:30]:30s} funcs {len(recs):3d} parsed {sum(r.parsed for r in recs):3d} ran {st['equal'] + st['differ']:3d} "
            f"equal {st['equal']:3d} differ {st['differ']} | smaller {sizes['smaller']} same {sizes['equal']} "
            f"larger {sizes['larger'] + sizes['larger-splat'] + sizes['larger-partial']}"
            + (f" | {', '.join(f'{k} {v}' for k, v in st.items() if k not in ('equal', 'differ'))}" if set(st) - {"equal", "differ"} else ""))


def markdown(files: Sequence[FileRecord], records: Sequence[FuncRecord], command: str, elapsed: float, revision: str, pipeline: str, max_families: int = 40) -> str:
    s = summarize(files, records)
    out = [BEGIN, TITLE, ""]
    out.append(f"Command: `{command}` ({elapsed / 60:.1f} min)  ")
    out.append(f"Input: the peer's lit tests{f' ({revision})' if revision else ''}, read from a directory outside the repository; "
               f"zymase runs `{pipeline}` on each function (with the functions it calls).  ")
    out.append(f"Date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    out.append("")
    out.append(
        "A file counts when a RUN line runs the peer's tensor optimizer (`enzyme-hlo-opt`, or `enzyme-hlo-generate-td` "
        "with its patterns: the *family*); the right column keeps the files whose RUN line runs no other transformation "
        "(AD, batching, lowerings: work zymase's rules do not do). Per function: parsed by zymase; run before and after zymase's rules through "
        "JAX on the same random inputs (floats within relative 1e-6 for f32, 1e-12 for f64, NaN = NaN; integers exact); "
        "ops after zymase (nested regions included; terminators, and the one op of a reduce body in StableHLO's compact form, not) against the ops in the peer's CHECK lines for "
        "that function. *splat* = larger only because zymase writes a splat constant as a scalar constant + "
        "`broadcast_in_dim`; *partial* = the peer's CHECK lines stop before the function's return, or leave a gap "
        "(a plain `CHECK:` or `CHECK-DAG:` line after the first op line, before which FileCheck lets unchecked ops pass): a lower bound. "
        "Reproduce with the command above on the peer's `test/lit_tests`; `--json` writes every function's record."
    )
    out.append("")
    only = summarize([f for f in files if f.optimizer_only], [r for r in records if r.optimizer_only])
    out.append("| | all files in scope | RUN line: the optimizer alone |")
    out.append("|---|---|---|")
    rows = [
        ("files", lambda s: s["files_in_scope"]),
        ("functions", lambda s: s["functions"]),
        ("parsed by zymase", lambda s: s["parsed"]),
        ("parse errors", lambda s: s["parse_errors"]),
        ("optimizer errors (an exception in zymase's pipeline or an invalid result)", lambda s: s["optimizer_errors"]),
        ("timeouts / worker crashes", lambda s: f"{s['timeouts']} / {s['crashes']}"),
        ("not run (the input does not run in zymase's emitter, or is too large)", lambda s: s["not_run"]),
        ("optimized function does not run (the input does)", lambda s: s["after_failed"]),
        ("ran before and after", lambda s: s["ran"]),
        ("values equal", lambda s: s["values_equal"]),
        ("**values differ** (of which: agree when run in f64, i.e. rounding of f32)", lambda s: f"{s['values_differ']} ({s['differ_rounding']})"),
        ("parsed, with a peer count to compare", lambda s: s["compared"]),
        ("zymase smaller than the peer", lambda s: s["smaller"]),
        ("zymase as small as the peer (equal)", lambda s: s["size_equal"]),
        ("zymase larger", lambda s: s["larger"]),
        ("of which the peer's block holds ops outside StableHLO (`enzymexla.*`: rotate, wrap, extend, multi_slice, ...)", lambda s: s["larger_peer_extension"]),
        ("zymase larger only by splat broadcasts", lambda s: s["larger_splat"]),
        ("zymase larger than a partial peer block", lambda s: s["larger_partial"]),
        ("as small as the peer, of the compared / of the parsed (target: 85% of the parsed)", lambda s: f"{100 * s['as_small_of_compared']:.1f}% / {100 * s['as_small_of_parsed']:.1f}%"),
    ]
    out += [f"| {k} | {v(s)} | {v(only)} |" for k, v in rows]
    out.append("")
    out.append(f"{s['files'] - s['files_in_scope']} other files of the directory run no optimizer and are not measured.")
    wrong = [r for r in records if r.status == "differ"]
    if wrong:
        out += ["", "Every function whose values differ:", "", "| function | family | ops before / after | difference | the same function in f64 |", "|---|---|---|---|---|"]
        out += [f"| {_md(r.file)}@{_md(r.name)} | {_md(r.family[:60])} | {r.ops_before} / {r.ops_after} | {_md(r.reason)} | {_md(r.f64_check)} |" for r in wrong]
    for status, title in (
        ("after-failed", "Optimized functions that do not run"),
        ("optimizer-error", "Optimizer errors"),
        ("timeout", "Timeouts"),
        ("crash", "Worker crashes"),
        ("parse-error", "Most common parse errors"),
        ("not-run", "Most common reasons a function is not run"),
    ):
        top = reasons(records, status, 100 if status in ("differ", "after-failed", "optimizer-error", "timeout", "crash") else 8)
        if top:
            out += ["", f"{title}:", "", "| reason | functions | example |", "|---|---|---|"]
            out += [f"| `{_md(k)}` | {c} | {_md(ex)} |" for k, c, ex in top]
    top = excess_overall(records)
    if top:
        out += ["", "Op kinds zymase has beyond the peer's, over the functions where it is larger:", "", "| op | extra ops | functions |", "|---|---|---|"]
        out += [f"| {k} | {v} | {n} |" for k, v, n in top]
    fams = family_rows(files, records)
    out += ["", f"Per family ({len(fams)} families; the {min(max_families, len(fams))} with the most functions):", ""]
    out.append("| family | files | functions | parsed | ran | equal | differ | failed | smaller | same | larger | larger (splat / partial) | excess ops of the larger |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in fams[:max_families]:
        out.append(f"| {_md(r['family'][:80])} | {r['files']} | {r['functions']} | {r['parsed']} | {r['ran']} | {r['equal']} | {r['differ']} | {r['failed']} | "
                   f"{r['smaller']} | {r['same']} | {r['larger']} | {r['larger_other']} | {_md(r['excess'])} |")
    rest = fams[max_families:]
    if rest:
        agg = {k: sum(r[k] for r in rest) for k in ("files", "functions", "parsed", "ran", "equal", "differ", "failed", "smaller", "same", "larger", "larger_other")}
        out.append(f"| the other {len(rest)} families | {agg['files']} | {agg['functions']} | {agg['parsed']} | {agg['ran']} | {agg['equal']} | {agg['differ']} | "
                   f"{agg['failed']} | {agg['smaller']} | {agg['same']} | {agg['larger']} | {agg['larger_other']} | |")
    out += ["", END]
    return "\n".join(out)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("`", "'")


def write_markdown(path: pathlib.Path, section: str) -> None:
    write_section(path, section, BEGIN, END)


# ============================================================================ main


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="benchmarks.hlo_conformance", description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", type=pathlib.Path, nargs="?", help="a directory of the peer's lit test files (*.mlir)")
    ap.add_argument("--from-json", type=pathlib.Path, help="report (and --markdown) from the records a run wrote with --json, without measuring")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per function (default 60)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--pipeline", default=DEFAULT_PIPELINE, help=f"zymase's pass pipeline (default {DEFAULT_PIPELINE})")
    ap.add_argument("--in-process", action="store_true", help="measure in this process (no workers: no memory limit, a hung XLA compilation is not killed)")
    ap.add_argument("--memory-gb", type=float, default=MEMORY_GB, help=f"address-space limit of a worker in GB (default {MEMORY_GB:g}; 0: none)")
    ap.add_argument("--max-run-elements", type=int, default=MAX_RUN_ELEMENTS, help=f"functions with a larger tensor are optimized but not run (default {MAX_RUN_ELEMENTS})")
    ap.add_argument("--json", type=pathlib.Path, help="write every file's and function's record here")
    ap.add_argument("--markdown", type=pathlib.Path, help="write/replace the section in this file (BENCHMARKS.md)")
    ap.add_argument("--revision", default="", help="text naming the tests' revision, for the markdown")
    ap.add_argument("--quiet", action="store_true", help="no line per file")
    a = ap.parse_args(argv)
    if a.from_json is not None:
        saved = json.loads(a.from_json.read_text())
        files = [FileRecord(**f) for f in saved["files"]]
        records = [FuncRecord(**r) for r in saved["functions"]]
        print_report(files, records)
        if a.markdown:
            write_markdown(a.markdown, markdown(files, records, saved["command"], saved["elapsed"], a.revision or saved.get("revision", ""), saved["pipeline"]))
        return 0
    if a.directory is None or not a.directory.is_dir():
        print(f"benchmarks.hlo_conformance: error: not a directory: {a.directory}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    files, tasks = plan(a.directory)
    print(f"{len(files)} files, {sum(f.in_scope for f in files)} in scope, {len(tasks)} chunks", flush=True)

    def progress(path: str, recs: list[FuncRecord]) -> None:
        if not a.quiet:
            print(file_line(path, recs), flush=True)

    records = sweep(tasks, a.pipeline, a.timeout, a.jobs, a.in_process, progress, a.memory_gb, a.max_run_elements)
    elapsed = time.perf_counter() - t0
    print_report(files, records)
    print(f"\n({elapsed / 60:.1f} min)")
    command = ".venv/bin/python -m benchmarks.hlo_conformance " + " ".join(shlex.quote(str(x)) for x in (argv if argv is not None else sys.argv[1:]))
    if a.json:
        saved = {"command": command, "elapsed": elapsed, "revision": a.revision, "pipeline": a.pipeline}
        a.json.write_text(json.dumps({**saved, "files": [dataclasses.asdict(f) for f in files], "functions": [dataclasses.asdict(r) for r in records]}, indent=1))
    if a.markdown:
        write_markdown(a.markdown, markdown(files, records, command, elapsed, a.revision, a.pipeline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
