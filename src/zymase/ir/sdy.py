"""Shardy (``sdy``) in zymase: the manual computation of ``jax.shard_map`` and its
terminator, and readers of the sharding attributes JAX writes.

What JAX 0.10 puts in a sharded program:

- ``sdy.mesh @mesh = <["data"=4, "model"=2]>`` (``ir/stablehlo.py``: ``SdyMeshOp``), the
  axes of a ``jax.sharding.Mesh`` (names and sizes; ``device_ids``, logical ids, only for
  a sharding jax gives its own order of the mesh's devices);
- ``#sdy.sharding<@mesh, [{"data"}, {}]>`` argument and result attributes of ``@main``
  (``sdy.sharding``), one dimension sharding per dimension, ``{?}`` for an open one;
- ``sdy.sharding_constraint %x <@mesh, [...]>`` (``ir/host.py``) for
  ``jax.lax.with_sharding_constraint``;
- ``sdy.manual_computation`` (here) for ``jax.shard_map``: its region is the per-device
  function, which reads the local shards of its operands and returns the local shards of
  its results (``sdy.return``); ``in_shardings`` / ``out_shardings`` say how the global
  values are split, ``manual_axes`` over which mesh axes the region is manual. Inside
  it, the StableHLO collectives (``stablehlo.all_reduce`` ...) name their devices by
  replica groups of logical device ids, the row-major positions in the mesh.

Which jax devices the logical ids are is not in jax's module: it is the device assignment
of jax's lowering (the mesh's devices, row-major, e.g. ``Mesh(devices[perm].reshape(4, 2),
...)`` gives ``perm``). zymase's frontend keeps it as the module attribute
``zymase.device_assignment = array<i64: ...>`` (:data:`DEVICE_ASSIGNMENT`) when it is not
the first devices of ``jax.devices()`` by id; :func:`device_assignment` reads it.

The sharding attributes stay opaque text in the IR (``ir/attributes.py``); the readers
below (:func:`parse_sharding`, :func:`parse_mesh`, ...) give their structure to the
emitter and to the derivative rules. Sub-axes (``"x":(1)2``) are refused by the readers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute, Dialect, Operation, Region
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    prop_def,
    region_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import HasParent, IsTerminator, Pure, RecursiveMemoryEffect

from . import asm
from .attributes import SdyManualAxesAttr, SdyMeshAttr, SdyShardingAttr, SdyShardingPerValueAttr
from .stablehlo import SdyMeshOp, _fail


class ShardingSyntaxError(ValueError):
    """A Shardy attribute zymase cannot read (sub-axes, an unknown keyword)."""


# ============================================================================ readers


@dataclass(frozen=True)
class DimSharding:
    """One dimension's sharding: the mesh axes splitting it, major first; ``is_open``
    (``{?}``, ``{"x", ?}``): the partitioner may shard it further."""

    axes: tuple[str, ...] = ()
    is_open: bool = False


@dataclass(frozen=True)
class TensorSharding:
    """``<@mesh, [{"data"}, {}], replicated={"model"}>``. ``mesh`` is the mesh symbol's
    name, or ``None`` when the mesh is written inline (then ``inline_mesh`` holds it)."""

    mesh: str | None
    dims: tuple[DimSharding, ...]
    replicated: tuple[str, ...] = ()
    unreduced: tuple[str, ...] = ()
    inline_mesh: MeshShape | None = None

    def axes_used(self) -> set[str]:
        return {a for d in self.dims for a in d.axes}


@dataclass(frozen=True)
class MeshShape:
    """``["data"=4, "model"=2], device_ids=[...]``: axes in order, with sizes."""

    axes: tuple[tuple[str, int], ...]
    device_ids: tuple[int, ...] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.axes)

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(s for _, s in self.axes)

    def size(self, name: str) -> int:
        return dict(self.axes)[name]


_TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|@[\w$.-]+|[A-Za-z_][\w]*|-?\d+|[\[\]{}(),=?:<>])')


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ShardingSyntaxError(f"cannot read the Shardy attribute text {text!r} at {text[pos:]!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


class _Reader:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise ShardingSyntaxError(f"expected {want or 'more'} in the Shardy attribute text {self.text!r}")
        self.i += 1
        return tok

    def optional(self, want: str) -> bool:
        if self.peek() == want:
            self.i += 1
            return True
        return False

    def string(self) -> str:
        tok = self.take()
        if not tok.startswith('"'):
            raise ShardingSyntaxError(f"expected an axis name in {self.text!r}, got {tok}")
        return tok[1:-1]

    def axis(self) -> str:
        name = self.string()
        if self.peek() == ":":
            raise ShardingSyntaxError(f"sub-axes of mesh axis '{name}' are not supported: {self.text!r}")
        return name

    def axis_list(self) -> tuple[tuple[str, ...], bool]:
        """``{"a", "b", ?}`` -> (axes, open)"""
        self.take("{")
        axes: list[str] = []
        is_open = False
        while not self.optional("}"):
            if self.optional("?"):
                is_open = True
            else:
                axes.append(self.axis())
            self.optional(",")
        tok = self.peek()
        if tok is not None and re.fullmatch(r"p\d+", tok):
            self.i += 1  # a priority: only a hint to the partitioner
        return tuple(axes), is_open

    def mesh_body(self) -> MeshShape:
        """``["a"=2, "b"=4], device_ids=[...]`` (after ``<`` of an inline mesh)"""
        axes: list[tuple[str, int]] = []
        self.take("[")
        while not self.optional("]"):
            name = self.string()
            self.take("=")
            axes.append((name, int(self.take())))
            self.optional(",")
        ids = None
        if self.optional(","):
            self.take("device_ids")
            self.take("=")
            self.take("[")
            got: list[int] = []
            while not self.optional("]"):
                got.append(int(self.take()))
                self.optional(",")
            ids = tuple(got)
        return MeshShape(tuple(axes), ids)

    def tensor_sharding(self) -> TensorSharding:
        """``@mesh, [{...}, ...], replicated={...}, unreduced={...}`` (inside ``<...>``)"""
        mesh: str | None = None
        inline = None
        tok = self.take()
        if tok.startswith("@"):
            mesh = tok[1:]
        elif tok == "mesh":
            self.take("<")
            inline = self.mesh_body()
            self.take(">")
        else:
            raise ShardingSyntaxError(f"expected a mesh in the sharding {self.text!r}")
        self.take(",")
        self.take("[")
        dims: list[DimSharding] = []
        while not self.optional("]"):
            axes, is_open = self.axis_list()
            dims.append(DimSharding(axes, is_open))
            self.optional(",")
        replicated: tuple[str, ...] = ()
        unreduced: tuple[str, ...] = ()
        while self.optional(","):
            key = self.take()
            self.take("=")
            axes, _ = self.axis_list()
            if key == "replicated":
                replicated = axes
            elif key == "unreduced":
                unreduced = axes
            else:
                raise ShardingSyntaxError(f"unknown entry '{key}' in the sharding {self.text!r}")
        return TensorSharding(mesh, tuple(dims), replicated, unreduced, inline)

    def end(self) -> None:
        if self.peek() is not None:
            raise ShardingSyntaxError(f"unexpected '{self.peek()}' in the Shardy attribute text {self.text!r}")


def parse_sharding(text: str | SdyShardingAttr) -> TensorSharding:
    """The structure of ``#sdy.sharding<...>`` (its text between the angle brackets)."""
    r = _Reader(text.data if isinstance(text, SdyShardingAttr) else text)
    got = r.tensor_sharding()
    r.end()
    return got


def parse_sharding_list(text: str | SdyShardingPerValueAttr) -> list[TensorSharding]:
    """``[<@mesh, [...]>, ...]`` (``#sdy.sharding_per_value``, in/out shardings)."""
    r = _Reader(text.data if isinstance(text, SdyShardingPerValueAttr) else text)
    out: list[TensorSharding] = []
    r.take("[")
    while not r.optional("]"):
        r.take("<")
        out.append(r.tensor_sharding())
        r.take(">")
        r.optional(",")
    r.end()
    return out


def parse_mesh(text: str | SdyMeshAttr) -> MeshShape:
    """``["data"=4, "model"=2]`` (``#sdy.mesh<...>``)."""
    r = _Reader(text.data if isinstance(text, SdyMeshAttr) else text)
    got = r.mesh_body()
    r.end()
    return got


def parse_axis_names(text: str | SdyManualAxesAttr) -> tuple[str, ...]:
    """``"data", "model"`` (``#sdy<manual_axes{...}>``)."""
    data = text.data if isinstance(text, SdyManualAxesAttr) else text
    return tuple(m.group(1) for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', data))


def _quote(name: str) -> str:
    return '"' + name + '"'


def print_sharding(s: TensorSharding) -> str:
    """The text of ``#sdy.sharding<...>`` for ``s`` (the inverse of :func:`parse_sharding`)."""
    if s.mesh is not None:
        mesh = "@" + s.mesh
    else:
        assert s.inline_mesh is not None
        ids = s.inline_mesh.device_ids
        mesh = "mesh<[" + ", ".join(f"{_quote(n)}={k}" for n, k in s.inline_mesh.axes) + "]" + (f", device_ids=[{', '.join(map(str, ids))}]" if ids else "") + ">"
    dims = []
    for d in s.dims:
        parts = [_quote(a) for a in d.axes] + (["?"] if d.is_open else [])
        dims.append("{" + ", ".join(parts) + "}")
    text = f"{mesh}, [{', '.join(dims)}]"
    if s.replicated:
        text += ", replicated={" + ", ".join(map(_quote, s.replicated)) + "}"
    if s.unreduced:
        text += ", unreduced={" + ", ".join(map(_quote, s.unreduced)) + "}"
    return text


def sharding_per_value(shardings: Sequence[TensorSharding]) -> SdyShardingPerValueAttr:
    return SdyShardingPerValueAttr("[" + ", ".join(f"<{print_sharding(s)}>" for s in shardings) + "]")


def module_of(op: Operation) -> ModuleOp | None:
    while op is not None and not isinstance(op, ModuleOp):
        op = op.parent_op()
    return op


def lookup_mesh(op: Operation, sharding: TensorSharding) -> MeshShape:
    """The mesh ``sharding`` names, looked up in the module around ``op``."""
    if sharding.inline_mesh is not None:
        return sharding.inline_mesh
    module = module_of(op)
    if module is not None:
        for other in module.ops:
            if isinstance(other, SdyMeshOp) and other.sym_name.data == sharding.mesh:
                return parse_mesh(other.mesh)
    raise ShardingSyntaxError(f"no sdy.mesh @{sharding.mesh} in the module")


DEVICE_ASSIGNMENT = "zymase.device_assignment"
"""Module attribute: the jax device id of each logical device (see the module docstring)."""


def device_assignment(op: Operation) -> tuple[int, ...] | None:
    """The device assignment of the module around ``op`` (None: the default, the logical
    device k is the k-th device of ``jax.devices()`` by id)."""
    from xdsl.dialects.builtin import DenseArrayBase

    module = op if isinstance(op, ModuleOp) else module_of(op)
    attr = module.attributes.get(DEVICE_ASSIGNMENT) if module is not None else None
    if attr is None:
        return None
    if not isinstance(attr, DenseArrayBase):
        raise ShardingSyntaxError(f"the module attribute {DEVICE_ASSIGNMENT} must be an array<i64: ...>, got {attr}")
    return tuple(int(i) for i in attr.get_values())


def set_device_assignment(module: ModuleOp, ids: Sequence[int]) -> None:
    """Record the jax device ids of the logical devices of ``module`` (in order)."""
    from xdsl.dialects.builtin import DenseArrayBase, i64

    module.attributes[DEVICE_ASSIGNMENT] = DenseArrayBase.from_list(i64, [int(i) for i in ids])


def record_device_assignment(module: ModuleOp, ids: Sequence[int], all_ids: Sequence[int]) -> None:
    """Keep jax's device assignment ``ids`` of a sharded module (one with an ``sdy.mesh``)
    when it is not the default, the first of ``all_ids`` (every jax device id) in order."""
    ids = [int(i) for i in ids]
    if len(ids) < 2 or not any(isinstance(op, SdyMeshOp) for op in module.ops):
        return
    if ids != sorted(int(i) for i in all_ids)[: len(ids)]:
        set_device_assignment(module, ids)


def local_shape(global_shape: Sequence[int], sharding: TensorSharding, mesh: MeshShape, manual: Sequence[str]) -> list[int]:
    """The shape of one device's shard under the manual axes of ``sharding``."""
    out = list(global_shape)
    for i, d in enumerate(sharding.dims[: len(out)]):
        k = math.prod(mesh.size(a) for a in d.axes if a in manual)
        out[i] = out[i] // k if k else out[i]
    return out


def replica_groups(mesh: MeshShape, axes: Sequence[str]) -> list[list[int]]:
    """The replica groups (logical device ids, row-major in the mesh) of a collective over
    ``axes``, in order: one group per position on the other axes, the ids along ``axes``
    with ``axes[0]`` major (what jax writes for ``lax.psum(x, axes)``)."""
    import numpy as np

    names = mesh.names
    ids = np.arange(math.prod(mesh.sizes)).reshape(mesh.sizes)
    first = [names.index(a) for a in axes]
    rest = [i for i in range(len(names)) if i not in first]
    k = math.prod(mesh.size(a) for a in axes)
    return np.transpose(ids, rest + first).reshape(-1, k).tolist()


def groups_axes(mesh: MeshShape, manual: Sequence[str], groups: set[tuple[int, ...]]) -> tuple[str, ...] | None:
    """The ordered manual axes whose replica groups (:func:`replica_groups`) are ``groups``;
    None when no axes give them."""
    import itertools

    for r in range(1, len(manual) + 1):
        for axes in itertools.permutations(manual, r):
            if {tuple(g) for g in replica_groups(mesh, axes)} == groups:
                return axes
    return None


def op_groups(op: Operation) -> set[tuple[int, ...]]:
    """The replica groups of a collective (``replica_groups``; the pairs' devices of a
    collective_permute are not groups)."""
    import numpy as np

    from .dense import dense_to_numpy

    arr = np.asarray(dense_to_numpy(op.replica_groups))
    return {tuple(int(v) for v in row if v >= 0) for row in arr.reshape(arr.shape[0], -1)}


def collective_combiner(region: Region) -> type[Operation] | None:
    """The op class a collective's reduction region applies (``stablehlo.add`` ...),
    looking through the ``sdy.sharding_constraint`` jax puts on its result in a manual
    computation over some of the mesh axes; None when it is anything else."""
    from .query import region_combiner

    kind = region_combiner(region)
    if isinstance(kind, type):
        return kind
    if len(region.blocks) != 1:
        return None
    ops = list(region.block.ops)
    if len(ops) != 3 or ops[1].name != "sdy.sharding_constraint" or ops[1].operands[0] is not ops[0].results[0]:
        return None
    if ops[2].operands[0] is not ops[1].results[0] or tuple(ops[0].operands) != tuple(region.block.args):
        return None
    return type(ops[0])


# ============================================================================ ops


_COLLECTIVE_NAMES = frozenset(
    f"stablehlo.{n}" for n in ("all_reduce", "all_gather", "reduce_scatter", "all_to_all", "collective_permute", "collective_broadcast")
)


def verify_collective(op: Operation, mesh: MeshShape) -> None:
    """Check a collective inside a manual computation against its mesh: device ids in
    range, groups of one size that do not overlap, result shapes that fit the group size
    (all_gather multiplies its dimension, reduce_scatter divides it, all_to_all moves a
    factor from the split to the concat dimension), one source and target per device."""
    import numpy as np

    from .dense import dense_to_numpy

    n = math.prod(mesh.sizes)
    if op.name == "stablehlo.collective_permute":
        pairs = np.asarray(dense_to_numpy(op.source_target_pairs)).reshape(-1, 2)
        if pairs.size and (pairs.min() < 0 or pairs.max() >= n):
            _fail(op, f"source_target_pairs name devices outside the mesh of {n} devices")
        if len(set(pairs[:, 0].tolist())) != len(pairs) or len(set(pairs[:, 1].tolist())) != len(pairs):
            _fail(op, "source_target_pairs send from or to one device twice")
        return
    groups = np.asarray(dense_to_numpy(op.replica_groups))
    groups = groups.reshape(groups.shape[0], -1)
    ids = groups[groups >= 0]
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        _fail(op, f"replica_groups name devices outside the mesh of {n} devices")
    if len(set(ids.tolist())) != ids.size:
        _fail(op, "replica_groups name a device twice")
    k = groups.shape[1]
    if op.name in ("stablehlo.all_reduce", "stablehlo.collective_broadcast"):
        return
    src = list(op.operands[0].type.get_shape())
    out = list(op.results[0].type.get_shape())
    want = list(src)
    if op.name == "stablehlo.all_gather":
        d = op.all_gather_dim.value.data
        want[d] = src[d] * k
    elif op.name == "stablehlo.reduce_scatter":
        d = op.scatter_dimension.value.data
        if src[d] % k:
            _fail(op, f"dimension {d} of size {src[d]} does not split into {k} parts")
        want[d] = src[d] // k
    else:  # all_to_all
        split, concat, count = op.split_dimension.value.data, op.concat_dimension.value.data, op.split_count.value.data
        if count != k:
            _fail(op, f"split_count {count} differs from the replica group size {k}")
        if src[split] % k:
            _fail(op, f"dimension {split} of size {src[split]} does not split into {k} parts")
        want[split] //= k
        want[concat] *= k
    if out != want:
        _fail(op, f"result shape {out} does not fit the operand shape {src} and groups of {k} devices; expected {want}")


def _scan_balanced(parser: Parser, open_: str, close: str) -> str:
    """The raw text of a balanced ``open_ ... close`` group at the current token (strings
    respected); the lexer moves past it."""
    content = parser.lexer.input.content
    start = parser._current_token.span.start
    if content[start] != open_:
        parser.raise_error(f"expected '{open_}'")
    depth, i, in_string = 0, start, False
    while i < len(content):
        c = content[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{<(":
            depth += 1
        elif c in "]}>)":
            depth -= 1
            if depth == 0:
                break
        i += 1
    parser.lexer.pos = i + 1
    parser._parser_state.current_token = parser.lexer.lex()
    return content[start + 1 : i]


@irdl_op_definition
class ManualComputationOp(IRDLOperation):
    """``sdy.manual_computation``: ``jax.shard_map``. The region runs once per device on
    the local shards of ``tensors`` (split by ``in_shardings`` over ``manual_axes``) and
    returns the local shards of the results (joined by ``out_shardings``)."""

    name = "sdy.manual_computation"
    tensors = var_operand_def()
    in_shardings = prop_def(SdyShardingPerValueAttr)
    out_shardings = prop_def(SdyShardingPerValueAttr)
    manual_axes = prop_def(SdyManualAxesAttr)
    body = region_def("single_block")
    results_ = var_result_def()
    traits = traits_def(RecursiveMemoryEffect())  # not isolated: jax's regions read outer constants

    @property
    def manual_axis_names(self) -> tuple[str, ...]:
        return parse_axis_names(self.manual_axes)

    def verify_(self) -> None:
        try:
            ins = parse_sharding_list(self.in_shardings)
            outs = parse_sharding_list(self.out_shardings)
        except ShardingSyntaxError as e:
            _fail(self, str(e))
        if len(ins) != len(self.tensors):
            _fail(self, f"{len(ins)} in_shardings for {len(self.tensors)} operands")
        if len(outs) != len(self.results):
            _fail(self, f"{len(outs)} out_shardings for {len(self.results)} results")
        block = self.body.blocks.first
        if block is None or len(block.args) != len(self.tensors):
            _fail(self, f"the region takes {len(block.args) if block else 0} arguments for {len(self.tensors)} operands")
        last = block.last_op
        if not isinstance(last, ReturnOp):
            _fail(self, "the region does not end in sdy.return")
        if len(last.operands) != len(self.results):
            _fail(self, f"sdy.return gives {len(last.operands)} values for {len(self.results)} results")
        manual = self.manual_axis_names
        try:
            mesh = lookup_mesh(self, ins[0] if ins else outs[0]) if (ins or outs) else None
        except ShardingSyntaxError:
            mesh = None  # a detached op (no module yet): shapes are checked once it is placed
        if mesh is None:
            return
        for a in manual:
            if a not in mesh.names:
                _fail(self, f"manual axis '{a}' is not an axis of the mesh {list(mesh.names)}")
        for inner in self.body.walk():
            if inner.name in _COLLECTIVE_NAMES:
                verify_collective(inner, mesh)
        pairs = [(v.type, arg.type, s, "operand") for v, arg, s in zip(self.tensors, block.args, ins)]
        pairs += [(r.type, v.type, s, "result") for r, v, s in zip(self.results, last.operands, outs)]
        for glob, local, s, what in pairs:
            if not isinstance(glob, TensorType) or not isinstance(local, TensorType):
                continue
            want = local_shape(glob.get_shape(), s, mesh, manual)
            if list(local.get_shape()) != want or glob.get_element_type() != local.get_element_type():
                _fail(self, f"{what} of type {glob} has local type {local}; expected shape {want}")

    @classmethod
    def parse(cls, parser: Parser) -> ManualComputationOp:
        """``(%a, ..) in_shardings=[..] out_shardings=[..] manual_axes={..} (%x: T, ..) {..} attr-dict : (..) -> ..``"""
        operands = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_unresolved_operand)
        asm.parse_keyword_value(parser, "in_shardings")
        ins = SdyShardingPerValueAttr("[" + _scan_balanced(parser, "[", "]") + "]")
        asm.parse_keyword_value(parser, "out_shardings")
        outs = SdyShardingPerValueAttr("[" + _scan_balanced(parser, "[", "]") + "]")
        asm.parse_keyword_value(parser, "manual_axes")
        axes = SdyManualAxesAttr(_scan_balanced(parser, "{", "}"))
        args = parser.parse_comma_separated_list(parser.Delimiter.PAREN, lambda: parser.parse_argument())
        body = parser.parse_region(args)
        properties, attributes = asm.parse_attr_dict(parser, cls)
        ft = asm.parse_functional_type(parser)
        props = {**properties, "in_shardings": ins, "manual_axes": axes, "out_shardings": outs}  # jax's (sorted) order
        return asm.build(cls, asm.resolve(parser, operands, ft.inputs.data), ft.outputs.data, props, attributes, [body])

    def print(self, printer: Printer) -> None:
        printer.print_string("(")
        asm.print_operands(printer, self.tensors)
        printer.print_string(f") in_shardings={self.in_shardings.data} out_shardings={self.out_shardings.data} ")
        printer.print_string("manual_axes={" + self.manual_axes.data + "} (")
        printer.print_list(self.body.blocks.first.args, printer.print_block_argument)
        printer.print_string(") ")
        printer.print_region(self.body, print_entry_block_args=False)
        asm.print_attr_dict(printer, self, elide=("in_shardings", "out_shardings", "manual_axes"))
        asm.print_functional_type(printer, self)


@irdl_op_definition
class ReturnOp(IRDLOperation):
    """``sdy.return``: the local shards a manual computation's region returns."""

    name = "sdy.return"
    results_ = var_operand_def()
    traits = traits_def(IsTerminator(), HasParent(ManualComputationOp), Pure())

    def __init__(self, values: Sequence) -> None:
        super().__init__(operands=[list(values)])

    @classmethod
    def parse(cls, parser: Parser) -> ReturnOp:
        """``%a, %b attr-dict : T1, T2``"""
        operands, comma = asm.parse_operands(parser)
        if comma:
            parser.raise_error("expected an operand after ','")
        properties, attributes = asm.parse_attr_dict(parser, cls)
        types: list[Attribute] = []
        if operands:
            parser.parse_punctuation(":")
            types = asm.parse_type_list(parser)
        return asm.build(cls, asm.resolve(parser, operands, types), (), properties, attributes)

    def print(self, printer: Printer) -> None:
        if self.operands:
            printer.print_string(" ")
            asm.print_operands(printer, self.operands)
        asm.print_attr_dict(printer, self)
        if self.operands:
            printer.print_string(" : ")
            asm.print_type_list(printer, [v.type for v in self.operands])


def manual_computation(
    operands: Sequence, in_shardings: Sequence[TensorSharding], out_shardings: Sequence[TensorSharding], manual_axes: SdyManualAxesAttr, body: Region, result_types: Sequence[Attribute]
) -> ManualComputationOp:
    """A new ``sdy.manual_computation`` (``body`` ends in ``sdy.return``)."""
    return ManualComputationOp.create(
        operands=list(operands),
        result_types=list(result_types),
        properties={"in_shardings": sharding_per_value(in_shardings), "manual_axes": manual_axes, "out_shardings": sharding_per_value(out_shardings)},
        regions=[body],
    )


SDY_OPS = [ManualComputationOp, ReturnOp]

Shardy = Dialect("shardy", SDY_OPS, [])
"""The Shardy ops defined here (they keep their ``sdy.`` names; see ``ir/__init__.py``)."""

__all__ = [
    "DimSharding",
    "ManualComputationOp",
    "MeshShape",
    "ReturnOp",
    "Shardy",
    "ShardingSyntaxError",
    "TensorSharding",
    "local_shape",
    "lookup_mesh",
    "manual_computation",
    "parse_axis_names",
    "parse_mesh",
    "parse_sharding",
    "parse_sharding_list",
    "print_sharding",
    "replica_groups",
    "groups_axes",
    "collective_combiner",
    "op_groups",
    "sharding_per_value",
]
