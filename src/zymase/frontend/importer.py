"""Build xDSL IR straight from the MLIR module JAX produced (jaxlib's MLIR objects),
without a round trip through text.

Walking jaxlib's module costs about 10 us per op; parsing the same module as text with
xDSL's parser costs about 300 us per op. Types and small attributes are converted by
printing them and parsing the (short) text with xDSL, cached per distinct string; large
dense constants go through numpy buffers.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from jaxlib.mlir import ir as mlir
from xdsl.dialects.builtin import ArrayAttr, DenseIntOrFPElementsAttr, DictionaryAttr, FileLineColLoc, FunctionType, IntAttr, ModuleOp, StringAttr, TensorType, UnknownLoc
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.irdl import IRDLOperation
from xdsl.parser import Parser

from ..ir import make_context
from ..ir.dense import dense_from_numpy, element_dtype
from ..ir.query import describe_loc
from .lowering import MARKER_ATTRS, MARKER_PREFIX


class UnsupportedOpError(Exception):
    """The program uses an op zymase's dialects do not define; ``op_name`` names it."""

    def __init__(self, message: str, op_name: str = ""):
        super().__init__(message)
        self.op_name = op_name


_LOC_RE = re.compile(r'"([^"]+)":(\d+):(\d+)')


class Importer:
    def __init__(self) -> None:
        self.ctx = make_context()
        self.type_cache: dict[str, Attribute] = {}
        self.attr_cache: dict[str, Attribute] = {}
        self.loc_cache: dict[str, Attribute] = {}
        self.values: dict[Any, SSAValue] = {}

    # ------------------------------------------------------------------ pieces

    def type(self, t: mlir.Type) -> Attribute:
        key = str(t)
        got = self.type_cache.get(key)
        if got is None:
            got = self.type_cache[key] = Parser(self.ctx, key).parse_type()
        return got

    def attr(self, a: mlir.Attribute) -> Attribute:
        if isinstance(a, mlir.DenseElementsAttr) and not a.is_splat and len(a) > 16:
            arr = self._dense_array(a)
            t = self.type(a.type)
            assert isinstance(t, TensorType)
            if arr is not None and arr.size == t.element_count() and arr.dtype == element_dtype(t.get_element_type()):
                return dense_from_numpy(arr.reshape(t.get_shape()), t)
        if isinstance(a, mlir.ArrayAttr) and len(a) > 16:  # a function's argument attributes: by element, each cached
            return ArrayAttr([self.attr(e) for e in a])
        if isinstance(a, mlir.TypeAttr) and isinstance(t := a.value, mlir.FunctionType):  # a signature: by its types, each cached
            return FunctionType.from_lists([self.type(i) for i in t.inputs], [self.type(r) for r in t.results])
        key = str(a)
        got = self.attr_cache.get(key)
        if got is None:
            got = self.attr_cache[key] = Parser(self.ctx, key).parse_attribute()
        return got

    def attr_from_text(self, src: mlir.Operation, key: str) -> Attribute:
        """Read attribute ``key`` of ``src`` from the op's generic text: its dictionaries of
        properties ``<{...}>`` and of attributes ``{...}`` are parsed with xDSL."""
        text = src.get_asm(print_generic_op_form=True, skip_regions=True)
        for m in re.finditer(r"(?:<|\) )\{", text):
            try:
                found = Parser(self.ctx, text[m.end() - 1 :]).parse_attribute()
            except Exception:
                continue
            if isinstance(found, DictionaryAttr) and key in found.data:
                return found.data[key]
        raise UnsupportedOpError(f"cannot read the attribute '{key}' of '{src.name}'", src.name)

    @staticmethod
    def _dense_array(a: mlir.DenseElementsAttr) -> np.ndarray | None:
        try:
            return np.array(a)
        except Exception:  # element types numpy's buffer protocol lacks (bf16, i1 bit-packed)
            return None

    def location(self, loc: mlir.Location) -> Attribute:
        key = str(loc)
        got = self.loc_cache.get(key)
        if got is None:
            m = _LOC_RE.search(key)
            got = FileLineColLoc(StringAttr(m.group(1)), IntAttr(int(m.group(2))), IntAttr(int(m.group(3)))) if m else UnknownLoc()
            self.loc_cache[key] = got
        return got

    # ------------------------------------------------------------------ structure

    def block(self, src: mlir.Block, dst: Block) -> None:
        for arg in src.arguments:
            new = dst.insert_arg(self.type(arg.type), len(dst.args))
            self.values[arg] = new
        for op in src.operations:
            dst.add_op(self.op(op.operation))

    def op(self, src: mlir.Operation) -> Operation:
        name = src.name
        if name == "stablehlo.custom_call":
            target = mlir.StringAttr(src.attributes["call_target_name"]).value
            if target.startswith(MARKER_PREFIX):
                return self.marker(src, target[len(MARKER_PREFIX):])
        cls = self.ctx.get_optional_op(name)
        if cls is None:
            where = describe_loc(self.location(src.location))
            func = _enclosing_function(src)
            inside = f" in @{func}" if func else ""
            raise UnsupportedOpError(f"zymase does not support the op '{name}'{inside} (at {where})", name)
        attributes = {}
        for key in src.attributes:
            try:
                attributes[key] = self.attr(src.attributes[key])
            except TypeError:  # jaxlib cannot hand out some attributes (complex dense constants)
                attributes[key] = self.attr_from_text(src, key)
        regions = []
        for r in src.regions:
            region = Region()
            for b in r.blocks:
                blk = Block()
                region.add_block(blk)
                self.block(b, blk)
            regions.append(region)
        return self.create(cls, src, attributes, regions)

    def marker(self, src: mlir.Operation, name: str) -> Operation:
        """``custom_call @zymase.<name>`` (see lowering.py) becomes the op ``<name>``; the
        entries of its ``zymase.attrs`` dictionary become the op's properties (or
        attributes, for names the op does not declare)."""
        cls = self.ctx.get_optional_op(name)
        if cls is None:
            raise UnsupportedOpError(f"zymase does not know the op '{name}' named by a zymase custom call", name)
        attributes = {}
        if MARKER_ATTRS in src.attributes:
            for entry in mlir.DictAttr(src.attributes[MARKER_ATTRS]):
                attributes[entry.name] = self.attr(entry.attr)
        if name in ("enzyme.autodiff", "enzyme.fwddiff"):
            _enzyme_activities(attributes)
        return self.create(cls, src, attributes, [])

    def create(self, cls: type[Operation], src: mlir.Operation, attributes: dict[str, Attribute], regions: list[Region]) -> Operation:
        """The op ``cls`` standing for ``src``: its operands and result types, ``attributes``
        split into the properties ``cls`` declares and discardable attributes."""
        prop_names = _property_names(cls)
        props = {k: v for k, v in attributes.items() if k in prop_names}
        attrs = {k: v for k, v in attributes.items() if k not in prop_names}
        operands = [self.values[v] for v in src.operands]
        result_types = [self.type(r.type) for r in src.results]
        new = cls.create(operands=operands, result_types=result_types, properties=props, attributes=attrs, regions=regions)
        new.location = self.location(src.location)
        for old, res in zip(src.results, new.results):
            self.values[old] = res
        return new

    def module(self, src: mlir.Module) -> ModuleOp:
        body = Block()
        self.block(src.body, body)
        module = ModuleOp(Region(body))
        src_attrs = src.operation.attributes
        for key in src_attrs:
            if key == "sym_name":
                module.sym_name = self.attr(src_attrs[key])
            else:
                module.attributes[key] = self.attr(src_attrs[key])
        return module


def _enzyme_activities(attributes: dict[str, Attribute]) -> None:
    """A nested transformation's marker (frontend/nesting.py) names activities as
    strings (jaxlib has no enzyme dialect); the enzyme op takes ``#enzyme<activity ...>``."""
    from ..ir.enzyme import activities

    for key in ("activity", "ret_activity"):
        value = attributes.get(key)
        if isinstance(value, ArrayAttr) and all(isinstance(a, StringAttr) for a in value.data):
            attributes[key] = activities([a.data for a in value.data])


_PROPS: dict[type, frozenset[str]] = {}


def _property_names(cls: type[Operation]) -> frozenset[str]:
    got = _PROPS.get(cls)
    if got is None:
        if issubclass(cls, IRDLOperation):
            got = frozenset(cls.get_irdl_definition().properties)
        else:
            got = frozenset()
        _PROPS[cls] = got
    return got


def _enclosing_function(src: mlir.Operation) -> str | None:
    """The name of the func.func around ``src`` (jax's private functions, such as
    @_where, carry no file locations of their own)."""
    op = src
    while op is not None:
        if op.name == "func.func":
            return mlir.StringAttr(op.attributes["sym_name"]).value
        try:
            op = op.parent
        except Exception:  # reached the top
            return None
    return None


def import_module(src: mlir.Module) -> ModuleOp:
    """Convert a jaxlib MLIR module to an xDSL module."""
    return Importer().module(src)


def is_dense(attr: Attribute) -> bool:
    return isinstance(attr, DenseIntOrFPElementsAttr)
