"""llvm dialect -> func / arith / math / scf / memref: zymase's memory model for llvm
pointer programs (``lower_llvm``; ``ir/lower.py`` calls it before running or
differentiating a module).

Functions. ``llvm.func`` / ``llvm.return`` / ``llvm.call`` become ``func.func`` /
``func.return`` / ``func.call`` (a declaration becomes a private ``func.func`` without
body); the arith-like ops and math intrinsics become their arith / math twins;
``llvm.mlir.constant`` -> ``arith.constant``; ``undef`` / ``poison`` / ``zero`` of a
scalar -> the constant 0 (as ``ub.poison`` runs). ``extractvalue`` of an
``insertvalue`` chain is the inserted value. An enzyme op whose results come packed
into one ``!llvm.struct`` gets them one by one (each ``extractvalue`` of it reads one).
Debug information, lifetime markers, alias-scope declarations, size hints and comdats
are dropped: they do not change a value.

Pointers. Every ``!llvm.ptr`` is followed back to its *root*: a function argument or an
``llvm.alloca``. Roots that meet (a pointer passed to a call, to an enzyme op with its
shadow, or copied from by ``memcpy``) form one *memory*, whose element type T is the
scalar type its loads and stores use (they must agree). A root becomes a
``memref<N x T>``: an alloca of n elements of T (arrays and structs of T count their
scalars), a function argument ``memref<? x T>``, or ``memref<N x T>`` when every access
of its memory has an offset bounded by constants and loop bounds (N = the largest
offset + 1) and no alloca is passed in. A pointer is then (root, element offset):
``getelementptr`` adds its indices times the sizes of the indexed types (natural
alignment, offsets in bytes divided by the size of T: they must divide), ``load`` /
``store`` become ``memref.load`` / ``memref.store`` at the offset, ``memset`` /
``memcpy`` of n bytes become stores / load-store pairs of n / size(T) elements (an
``scf.for`` when more than one, n constant or a multiple of size(T) computed by a
``muli``). Memory no load or store types is bytes (``i8``): it may be set, not copied,
and not set when an enzyme op gives it a shadow. A pointer stored into a one-pointer
slot (an alloca, or a ``memref<1x!llvm.ptr>``) once and read back in the same block is
forwarded. A memory of pointers (an argument whose loads read ``!llvm.ptr``, or a
``memref<N x !llvm.ptr>`` argument) becomes ``memref<N x C x T>``: the pointer read
at element i is row i, the memory it points to (loads, stores and getelementptr through
it index that row; one level, pointers only read). A load of a scalar global no one can
write is its initializer. Derivatives and running then follow the memref model (shadow
memory, ``ad/rules/memref.py``).

Anything else a pointer does is refused in one line naming the op, its location and
why: pointers from integers or from globals that may be written, loaded from memory
other than as rows, stored in memory otherwise, returned, yielded or selected, passed to
a function without body, at a non-zero offset or twice to one call (aliasing), memory
read with two types, a ``memcpy`` whose element type nothing tells, sizes that are not
whole elements; aggregates that do not fold away.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from xdsl.dialects import arith, func, math, memref, scf
from xdsl.dialects import llvm as L
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    FloatAttr,
    FunctionType,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    UnitAttr,
)
from xdsl.ir import Attribute, Block, BlockArgument, Operation, Region, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from ..errors import MlirError
from . import llvm as Z
from .dense import is_float_type
from .query import describe_location

_DYNAMIC = DYNAMIC_INDEX  # a dynamic memref size


def _error(op: Operation, why: str) -> MlirError:
    where = describe_location(op)
    if where == "unknown location":  # an op a rewrite made: name its function
        fn = op.parent_op()
        while fn is not None and not isinstance(fn, (func.FuncOp, L.FuncOp)):
            fn = fn.parent_op()
        return MlirError(f"'{op.name}' in @{fn.sym_name.data if fn is not None else '?'}: {why}")
    return MlirError(f"'{op.name}': {why}", where)


def _is_ptr(t: Attribute) -> bool:
    return isinstance(t, L.LLVMPointerType)


def _is_ptr_memref(t: Attribute) -> bool:
    """``memref<N x !llvm.ptr>``: a memory of pointers given as a memref."""
    return isinstance(t, MemRefType) and _is_ptr(t.get_element_type()) and len(t.get_shape()) == 1


def _scalar(t: Attribute) -> bool:
    return is_float_type(t) or isinstance(t, IntegerType)


def _size(t: Attribute, op: Operation) -> tuple[int, int]:
    """(size in bytes, alignment) under natural alignment."""
    if isinstance(t, IntegerType):
        n = max(1, (t.width.data + 7) // 8)
        return n, n
    if is_float_type(t):
        n = t.bitwidth // 8  # type: ignore[attr-defined]
        return n, n
    if _is_ptr(t):
        return 8, 8
    if isinstance(t, L.LLVMArrayType):
        n, a = _size(t.type, op)
        return n * t.size.data, a
    if isinstance(t, L.LLVMStructType):
        offset, align = 0, 1
        for f in t.types.data:
            n, a = _size(f, op)
            offset = (offset + a - 1) // a * a + n
            align = max(align, a)
        return (offset + align - 1) // align * align, align
    raise _error(op, f"the size of {t} is not known to zymase")


def _field_offset(t: L.LLVMStructType, k: int, op: Operation) -> int:
    offset = 0
    for i, f in enumerate(t.types.data):
        n, a = _size(f, op)
        offset = (offset + a - 1) // a * a
        if i == k:
            return offset
        offset += n
    raise _error(op, f"{t} has no field {k}")


def _scalars(t: Attribute) -> tuple[Attribute, int] | None:
    """(T, n) when ``t`` is n scalars of one type T laid out without padding."""
    if _scalar(t):
        return t, 1
    if isinstance(t, L.LLVMArrayType):
        inner = _scalars(t.type)
        return None if inner is None else (inner[0], inner[1] * t.size.data)
    if isinstance(t, L.LLVMStructType) and t.types.data:
        parts = [_scalars(f) for f in t.types.data]
        if all(p is not None and p[0] == parts[0][0] for p in parts):  # type: ignore[index]
            return parts[0][0], sum(p[1] for p in parts)  # type: ignore[index]
    return None


def _const_int(v: SSAValue) -> int | None:
    owner = v.owner
    if isinstance(owner, (arith.ConstantOp, L.ConstantOp)) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    if isinstance(owner, (arith.IndexCastOp, arith.ExtSIOp, arith.ExtUIOp, L.SExtOp, L.ZExtOp)):
        return _const_int(owner.operands[0])
    return None


def _range(v: SSAValue, depth: int = 0) -> tuple[int, int] | None:
    """Bounds [lo, hi] of an integer value from constants and constant loop bounds."""
    if depth > 32:
        return None
    c = _const_int(v)
    if c is not None:
        return c, c
    owner = v.owner
    if isinstance(v, BlockArgument):
        parent = v.block.parent_op()
        if isinstance(parent, scf.ForOp) and v.index == 0:
            lb, ub, step = _const_int(parent.lb), _const_int(parent.ub), _const_int(parent.step)
            if lb is None or ub is None or step is None or step <= 0 or ub <= lb:
                return None
            return lb, lb + (ub - 1 - lb) // step * step
        return None
    if isinstance(owner, (arith.IndexCastOp, arith.ExtSIOp, L.SExtOp)):
        return _range(owner.operands[0], depth + 1)
    if isinstance(owner, (arith.AddiOp, arith.SubiOp, arith.MuliOp, L.AddOp, L.SubOp, L.MulOp)):
        a, b = _range(owner.operands[0], depth + 1), _range(owner.operands[1], depth + 1)
        if a is None or b is None:
            return None
        if isinstance(owner, (arith.AddiOp, L.AddOp)):
            return a[0] + b[0], a[1] + b[1]
        if isinstance(owner, (arith.SubiOp, L.SubOp)):
            return a[0] - b[1], a[1] - b[0]
        corners = [x * y for x in a for y in b]
        return min(corners), max(corners)
    return None


# ============================================================================ the easy ops

SIZE_HINT = "__enzyme_ptr_size_hint"
"""The declaration whose calls give a pointer's size (the call form of
``llvm_ext.ptr_size_hint``): dropped like it."""

_DROPPED = {"llvm.intr.dbg.value", "llvm.intr.dbg.declare", "llvm.intr.lifetime.start", "llvm.intr.lifetime.end", "llvm.intr.experimental.noalias.scope.decl", "llvm_ext.ptr_size_hint"}

_BINARY = {
    L.FAddOp: arith.AddfOp, L.FSubOp: arith.SubfOp, L.FMulOp: arith.MulfOp, L.FDivOp: arith.DivfOp,
    L.AddOp: arith.AddiOp, L.SubOp: arith.SubiOp, L.MulOp: arith.MuliOp, L.SDivOp: arith.DivSIOp, L.UDivOp: arith.DivUIOp,
    L.SRemOp: arith.RemSIOp, L.URemOp: arith.RemUIOp, L.AndOp: arith.AndIOp, L.OrOp: arith.OrIOp, L.XOrOp: arith.XOrIOp,
    L.FPowOp: math.PowFOp, L.FCopySignOp: math.CopySignOp,
}  # fmt: skip
_UNARY = {
    L.FNegOp: arith.NegfOp, L.FAbsOp: math.AbsFOp, L.FSqrtOp: math.SqrtOp, L.FExpOp: math.ExpOp, L.FLogOp: math.LogOp,
    L.FSinOp: math.SinOp, L.FCosOp: math.CosOp, L.FExp2Op: math.Exp2Op, L.FLog2Op: math.Log2Op, L.FFloorOp: math.FloorOp,
    L.FCeilOp: math.CeilOp,
}  # fmt: skip
_CASTS = {L.SExtOp: arith.ExtSIOp, L.ZExtOp: arith.ExtUIOp, L.TruncOp: arith.TruncIOp, L.SIToFPOp: arith.SIToFPOp, L.FPExtOp: arith.ExtFOp, L.FPTruncOp: arith.TruncFOp}


def _zero(t: Attribute) -> Operation | None:
    if is_float_type(t):
        return arith.ConstantOp(FloatAttr(0.0, t))  # type: ignore[arg-type]
    if isinstance(t, (IntegerType, IndexType)):
        return arith.ConstantOp(IntegerAttr(0, t))
    return None


def _convert_scalar_ops(module: ModuleOp) -> None:
    for op in list(module.walk()):
        new: Operation | None = None
        if op.name in _DROPPED or isinstance(op, (Z.ComdatOp,)):
            op.detach()
            op.erase(safe_erase=False)
            continue
        if isinstance(op, L.ConstantOp):
            if isinstance(op.value, IntegerAttr):
                new = arith.ConstantOp(IntegerAttr(op.value.value.data, op.result.type))
            elif isinstance(op.value, FloatAttr):
                new = arith.ConstantOp(FloatAttr(op.value.value.data, op.result.type))  # type: ignore[arg-type]
        elif isinstance(op, (L.UndefOp, Z.PoisonOp, L.ZeroOp)):
            new = _zero(op.results[0].type)
        elif type(op) in _BINARY:
            new = _BINARY[type(op)](op.operands[0], op.operands[1])
        elif type(op) in _UNARY:
            new = _UNARY[type(op)](op.operands[0])
        elif type(op) in _CASTS:
            new = _CASTS[type(op)](op.operands[0], op.results[0].type)
        elif isinstance(op, L.SelectOp):
            new = arith.SelectOp(op.cond, op.lhs, op.rhs)
        elif isinstance(op, L.FMAOp):
            new = math.FmaOp(op.a, op.b, op.c)
        elif isinstance(op, L.ICmpOp):
            new = arith.CmpiOp(op.lhs, op.rhs, op.predicate.value.data)
        elif isinstance(op, L.FCmpOp):
            new = arith.CmpfOp(op.lhs, op.rhs, op.predicate.value.data)
        if new is not None:
            new.location = op.location
            Rewriter.replace_op(op, new)


def _fold_aggregates(module: ModuleOp) -> None:
    """``extractvalue`` of an ``insertvalue`` chain -> the inserted value; dead aggregate
    ops removed."""
    for op in [o for o in module.walk() if isinstance(o, L.ExtractValueOp)]:
        pos = list(op.position.get_values())
        c = op.container
        while isinstance(c.owner, L.InsertValueOp):
            ins = c.owner
            p = list(ins.position.get_values())
            if p == pos:
                op.res.replace_all_uses_with(ins.value)
                op.detach()
                op.erase()
                break
            if p == pos[: len(p)] or pos == p[: len(pos)]:  # nested positions: left as it is
                break
            c = ins.container
    changed = True
    while changed:
        changed = False
        for op in list(module.walk()):
            if isinstance(op, (L.InsertValueOp, L.UndefOp, Z.PoisonOp, L.ZeroOp)) and not op.results[0].uses:
                op.detach()
                op.erase()
                changed = True


def _unpack_struct_results(module: ModuleOp) -> None:
    """An enzyme op whose results arrive packed into one llvm struct: one result each."""
    from xdsl.traits import SymbolTable

    from .enzyme import _DiffOp, _func_view

    for op in [o for o in module.walk() if isinstance(o, _DiffOp)]:
        if len(op.results) != 1 or not isinstance(op.results[0].type, L.LLVMStructType):
            continue
        types = list(op.results[0].type.types.data)
        callee = _func_view(SymbolTable.lookup_symbol(module, op.fn))
        if callee is None or op.expected_types(callee)[1] != types:
            continue  # one result that is a struct
        for use in op.results[0].uses:
            user = use.operation
            if not (isinstance(user, L.ExtractValueOp) and len(user.position.get_values()) == 1):
                raise _error(user, f"uses the packed results of '{op.name}' other than by extractvalue of one field")
        new = type(op).create(operands=list(op.operands), result_types=types, properties=dict(op.properties), attributes=dict(op.attributes))
        new.location = op.location
        Rewriter.insert_op(new, InsertPoint.before(op))
        for use in list(op.results[0].uses):
            user = use.operation
            user.results[0].replace_all_uses_with(new.results[user.position.get_values()[0]])
            user.detach()
            user.erase()
        op.detach()
        op.erase()


def _convert_functions(module: ModuleOp) -> None:
    for op in list(module.ops):
        if isinstance(op, Z.ComdatOp):
            op.detach()
            op.erase()
        elif isinstance(op, L.FuncOp):
            t = op.function_type
            if isinstance(t.variadic, UnitAttr):
                raise _error(op, "variadic functions are not supported")
            outs = [] if isinstance(t.output, L.LLVMVoidType) else [t.output]
            new = func.FuncOp(op.sym_name.data, FunctionType.from_lists(list(t.inputs.data), outs), Region(), "private" if not op.body.blocks else None)
            if op.arg_attrs is not None:
                new.arg_attrs = op.arg_attrs
            op.body.move_blocks(new.body)
            new.location = op.location
            Rewriter.replace_op(op, new)
    for op in list(module.walk()):
        if isinstance(op, L.ReturnOp):
            new = func.ReturnOp(*([op.arg] if op.arg is not None else []))
        elif isinstance(op, L.CallOp):
            if op.callee is None:
                raise _error(op, "an indirect call (through a function pointer) is not supported")
            new = func.CallOp(op.callee.root_reference.data, list(op.args), [r.type for r in op.results])
        else:
            continue
        new.location = op.location
        Rewriter.replace_op(op, new)


def _fold_constant_globals(module: ModuleOp) -> None:
    """A global scalar no one can write (``constant``, or internal / private and never
    reached but by loads of its type) holds its initializer: each load -> that constant."""
    addresses: dict[str, list[Operation]] = {}
    for op in module.walk():
        if isinstance(op, L.AddressOfOp):
            addresses.setdefault(op.global_name.root_reference.data, []).append(op)
    for g in [o for o in module.ops if isinstance(o, L.GlobalOp)]:
        uses = addresses.get(g.sym_name.data, [])
        t, value = g.global_type, g.value
        if not (_scalar(t) and isinstance(value, (IntegerAttr, FloatAttr))):
            continue
        if g.constant is None and g.linkage.linkage.data not in ("internal", "private"):
            continue  # another module may write it
        loads = [u.operation for a in uses for u in a.results[0].uses]
        if not all(isinstance(ld, L.LoadOp) and ld.dereferenced_value.type == t for ld in loads):
            continue
        for ld in loads:
            new = arith.ConstantOp(IntegerAttr(value.value.data, t) if isinstance(value, IntegerAttr) else FloatAttr(value.value.data, t))  # type: ignore[arg-type]
            new.location = ld.location
            Rewriter.replace_op(ld, new)
        for a in uses:
            a.detach()
            a.erase()
        g.detach()
        g.erase()


# ============================================================================ pointer slots


def _slot_kind(op: Operation) -> bool:
    """An alloca holding exactly one pointer."""
    if isinstance(op, L.AllocaOp):
        t = op.elem_type
        one = _const_int(op.size) == 1
        return one and (_is_ptr(t) or (isinstance(t, L.LLVMStructType) and len(t.types.data) == 1 and _is_ptr(t.types.data[0])))
    if isinstance(op, memref.AllocaOp):
        t = op.memref.type
        return isinstance(t, MemRefType) and _is_ptr(t.get_element_type()) and all(s == 1 for s in t.get_shape())
    return False


def _ancestor_in(op: Operation, block: Block) -> Operation | None:
    while op is not None and op.parent_block() is not block:
        op = op.parent_op()  # type: ignore[assignment]
    return op


def _forward_pointer_slots(module: ModuleOp) -> None:
    for slot in [o for o in module.walk() if _slot_kind(o)]:
        res = slot.results[0]
        stores, loads = [], []
        for use in res.uses:
            user = use.operation
            if isinstance(user, L.StoreOp) and use.index == 1:
                stores.append(user)
            elif isinstance(user, memref.StoreOp) and use.index == 1 and all(_const_int(i) == 0 for i in user.indices):
                stores.append(user)
            elif isinstance(user, L.LoadOp) or (isinstance(user, memref.LoadOp) and all(_const_int(i) == 0 for i in user.indices)):
                loads.append(user)
            else:
                raise _error(user, "uses a pointer slot other than by one store and loads of it")
        if len(stores) != 1:
            raise _error(slot, f"a pointer stored into memory {len(stores)} times: zymase forwards a pointer stored once")
        store = stores[0]
        block = store.parent_block()
        for load in loads:
            anc = _ancestor_in(load, block)  # type: ignore[arg-type]
            if anc is None or block.get_operation_index(anc) <= block.get_operation_index(store):  # type: ignore[union-attr]
                raise _error(load, "reads a pointer slot before it is stored to, or from another block")
        value = store.operands[0]
        for load in loads:
            load.results[0].replace_all_uses_with(value)
            load.detach()
            load.erase()
        store.detach()
        store.erase()
        slot.detach()
        slot.erase()


# ============================================================================ pointers


@dataclass
class _Root:
    key: object
    op: Operation  # the function or the alloca
    arg: int = -1  # the argument's number for a function argument
    parent: _Root | None = None
    types: dict = field(default_factory=dict)  # T -> the op that reads or writes it
    untyped: list = field(default_factory=list)  # memset / memcpy ops
    dup: list = field(default_factory=list)  # enzyme ops that give the memory a shadow
    extents: list = field(default_factory=list)  # per access: largest element offset + 1, None when unbounded
    allocas: list = field(default_factory=list)
    same: _Root | None = None  # memory identity (calls, enzyme ops), finer than parent (one type)
    same_allocas: list = field(default_factory=list)
    rows: _Root | None = None  # a memory of pointers: the memory they point to

    def find(self) -> _Root:
        r = self
        while r.parent is not None:
            r = r.parent
        return r

    def memory(self) -> _Root:
        r = self
        while r.same is not None:
            r = r.same
        return r


def _union(a: _Root, b: _Root, same_memory: bool = False) -> None:
    """One element type for a and b; with ``same_memory`` also one memory (one size)."""
    if same_memory:
        ma, mb = a.memory(), b.memory()
        if ma is not mb:
            mb.same = ma
            ma.extents += mb.extents
            ma.same_allocas += mb.same_allocas
    a, b = a.find(), b.find()
    if a is b:
        return
    b.parent = a
    a.types.update(b.types)
    a.untyped += b.untyped
    a.dup += b.dup
    a.allocas += b.allocas


@dataclass
class _Ptr:
    root: _Root
    const: int = 0  # byte offset
    terms: list = field(default_factory=list)  # (SSA integer, bytes per unit)
    outer: _Root | None = None  # a pointer read from a memory of pointers: that memory
    load: Operation | None = None  # ... and the load that read it (its row)


def _diff_operand_params(op: Operation) -> dict[int, int]:
    """Operand index -> the callee's argument index, for an enzyme op (primal and shadow)."""
    kinds = [str(k) for k in op.arg_kinds]  # type: ignore[attr-defined]
    out, i = {}, 0
    for a, k in enumerate(kinds):
        out[i] = a
        i += 1
        if k in ("enzyme_dup", "enzyme_dupnoneed"):
            out[i] = a
            i += 1
    return out


def _lower_pointers(module: ModuleOp) -> None:
    from .enzyme import _DiffOp

    funcs = {op.sym_name.data: op for op in module.ops if isinstance(op, func.FuncOp)}
    for op in [o for o in module.walk() if isinstance(o, func.CallOp) and o.callee.root_reference.data == SIZE_HINT]:
        if SIZE_HINT in funcs and not funcs[SIZE_HINT].body.blocks and not op.results:  # the size-hint call: a hint, dropped
            op.detach()
            op.erase()
    roots: dict[object, _Root] = {}
    ptrs: dict[SSAValue, _Ptr] = {}

    def rows_of(r: _Root) -> _Root:
        if r.rows is None:
            r.rows = roots[("rows", r.key)] = _Root(("rows", r.key), r.op)
        return r.rows

    def root_of_arg(fn: func.FuncOp, i: int) -> _Root:
        key = (fn.sym_name.data, i)
        if key not in roots:
            roots[key] = _Root(key, fn, i)
        return roots[key]

    # -- which pointer comes from which root
    for fn in funcs.values():
        if fn.body.blocks:
            for i, a in enumerate(fn.body.blocks[0].args):
                if _is_ptr(a.type) or _is_ptr_memref(a.type):
                    ptrs[a] = _Ptr(root_of_arg(fn, i))
    for fn in funcs.values():
        for op in fn.walk():
            for r in op.results:
                if not _is_ptr(r.type):
                    continue
                if isinstance(op, L.AllocaOp):
                    root = roots[op] = _Root(op, op)
                    root.allocas.append(op)
                    root.same_allocas.append(op)
                    ptrs[r] = _Ptr(root)
                elif isinstance(op, L.GEPOp) and op.ptr in ptrs:
                    ptrs[r] = _gep(ptrs[op.ptr], op)
                elif isinstance(op, L.GEPOp):
                    raise _error(op, "offsets a pointer zymase cannot follow to an argument or an alloca")
                elif isinstance(op, L.AddressOfOp):
                    raise _error(op, "takes the address of a global; zymase maps only scalar globals no one writes (read as constants)")
                elif isinstance(op, (L.LoadOp, memref.LoadOp)) and op.operands[0] in ptrs and ptrs[op.operands[0]].outer is None:
                    outer = ptrs[op.operands[0]].root  # a row of a memory of pointers
                    ptrs[r] = _Ptr(rows_of(outer), outer=outer, load=op)
                elif isinstance(op, (L.LoadOp, memref.LoadOp)):
                    raise _error(op, "loads a pointer from memory zymase cannot follow (one level of pointers read from an argument's memory is followed)")
                else:
                    raise _error(op, "makes a pointer zymase cannot follow to a function argument or an alloca")
            for region in op.regions:
                for block in region.blocks:
                    if block is not fn.body.blocks[0] and any(_is_ptr(a.type) for a in block.args):
                        raise _error(op, "carries a pointer through a region or block argument; zymase maps only pointers it can follow to a function argument or an alloca")
    if not ptrs:
        return

    # -- what each pointer is used for
    for v, p in ptrs.items():
        for use in v.uses:
            user = use.operation
            root = p.root
            if p.outer is not None and not isinstance(user, (L.LoadOp, L.StoreOp, L.GEPOp)):
                raise _error(user, "uses a pointer read from memory other than to load, store or offset; zymase follows such pointers only as rows of their memory")
            if (isinstance(user, L.LoadOp) and _is_ptr(user.results[0].type)) or isinstance(user, memref.LoadOp):
                root.find().types.setdefault(L.LLVMPointerType(), user)  # a memory of pointers
            elif isinstance(user, L.LoadOp) or (isinstance(user, L.StoreOp) and use.index == 1):
                t = user.results[0].type if isinstance(user, L.LoadOp) else user.value.type
                if not _scalar(t):
                    raise _error(user, f"reads or writes {t} through a pointer; zymase maps memory of scalars only")
                root.find().types.setdefault(t, user)
            elif isinstance(user, (L.StoreOp, memref.StoreOp)) and (use.index == 0 or isinstance(user, memref.StoreOp)):
                raise _error(user, "stores a pointer into memory; zymase maps pointers onto memrefs and cannot store one")
            elif isinstance(user, L.GEPOp):
                continue
            elif isinstance(user, (Z.MemsetOp, Z.MemcpyOp)):
                root.find().untyped.append(user)
                if isinstance(user, Z.MemcpyOp):
                    _union(ptrs[user.dst].root, ptrs[user.src].root)
            elif isinstance(user, func.CallOp):
                callee = funcs.get(user.callee.root_reference.data)
                if callee is None or not callee.body.blocks:
                    raise _error(user, f"passes a pointer to @{user.callee.root_reference.data}, which has no body zymase can follow")
                if p.const or p.terms:
                    raise _error(user, "passes a pointer at an offset; zymase passes memory from its start only")
                _union(root, root_of_arg(callee, use.index), same_memory=True)
            elif isinstance(user, _DiffOp):
                callee = funcs.get(user.fn.root_reference.data)
                params = _diff_operand_params(user)
                if callee is None or use.index not in params:
                    raise _error(user, "passes a pointer that is not an argument of the differentiated function")
                if p.const or p.terms:
                    raise _error(user, "passes a pointer at an offset; zymase passes memory from its start only")
                _union(root, root_of_arg(callee, params[use.index]), same_memory=True)
                if str(user.arg_kinds[params[use.index]]) in ("enzyme_dup", "enzyme_dupnoneed"):
                    root.find().dup.append(user)
            else:
                raise _error(user, "uses a pointer in a way zymase cannot map onto a memref (pointers are followed through getelementptr, load, store, memset, memcpy and calls only)")

    for op in [o for fn in funcs.values() for o in fn.walk() if isinstance(o, func.CallOp)]:
        seen: set[int] = set()
        for v in op.operands:
            if v in ptrs:
                if id(ptrs[v].root) in seen:
                    raise _error(op, "passes one memory as two arguments; zymase maps each pointer argument onto a memref of its own and cannot follow aliasing")
                seen.add(id(ptrs[v].root))

    rows_of_memory: dict[int, _Root] = {}  # one memory of pointers -> the memory they point to
    for r in list(roots.values()):
        if r.rows is not None:
            other = rows_of_memory.setdefault(id(r.memory()), r.rows)
            if other is not r.rows:
                _union(other, r.rows, same_memory=True)

    # -- element types and sizes of each memory
    elem: dict[int, Attribute] = {}
    for root in {id(r.find()): r.find() for r in roots.values()}.values():
        types = dict(root.types)
        for a in root.allocas:
            s = _scalars(a.elem_type)
            if s is not None and (not types or s[0] in types):
                types.setdefault(s[0], a)
            elif not (isinstance(a.elem_type, IntegerType) and a.elem_type.width.data == 8):
                raise _error(a, f"allocates {a.elem_type}, but the memory is read as {', '.join(map(str, types))}; zymase maps memory of one scalar type")
        if len(types) > 1:
            t1, t2 = list(types)[:2]
            raise _error(types[t2], f"reads memory as {t2} that is also read as {t1} (at {describe_location(types[t1])}); zymase maps memory of one scalar type")
        if not types:
            copies = [o for o in root.untyped if isinstance(o, Z.MemcpyOp)]
            if copies:
                raise _error(copies[0], "no load or store tells the element type of the memory it copies; zymase would have to guess whether it holds floats (and derivatives)")
            if root.untyped and root.dup:
                raise _error(root.untyped[0], f"sets memory marked enzyme_dup (at {describe_location(root.dup[0])}) that no load or store types; zymase would have to guess whether it holds floats (and derivatives)")
            types = {IntegerType(8): root.op}  # untyped (at most set by memset): bytes
        elem[id(root)] = next(iter(types))

    def elem_of(r: _Root) -> Attribute:
        return elem[id(r.find())]

    def offset_range(p: _Ptr, op: Operation) -> int | None:
        """hi + 1 of the element offset of p, or None when unbounded."""
        size = _size(elem_of(p.root), op)[0]
        lo = hi = p.const
        for v, m in p.terms:
            r = _range(v)
            if r is None:
                return None
            lo, hi = lo + min(r[0] * m, r[1] * m), hi + max(r[0] * m, r[1] * m)
        if lo < 0:
            raise _error(op, "reaches memory before the start of the pointer's memory; zymase maps memory from its start only")
        return hi // size + 1

    for v, p in ptrs.items():
        for use in v.uses:
            user = use.operation
            n = None
            if isinstance(user, (L.LoadOp, L.StoreOp)) and not (isinstance(user, L.StoreOp) and use.index == 0):
                n = offset_range(p, user)
            elif isinstance(user, memref.LoadOp):
                r = _range(user.indices[0])
                n = None if r is None else r[1] + 1
            elif isinstance(user, (Z.MemsetOp, Z.MemcpyOp)):
                count = _const_int(user.len)
                n = offset_range(p, user)
                size = _size(elem_of(p.root), user)[0]
                n = None if n is None or count is None else n - 1 + count // size
            else:
                continue
            p.root.memory().extents.append(n)

    def memref_type(r: _Root) -> MemRefType:
        t = elem_of(r)
        if _is_ptr(t):  # a memory of pointers: one row per pointer, each the memory it points to
            rows = rows_of_memory.get(id(r.memory()))
            if rows is None:
                raise _error(r.op, "holds pointers no load follows; zymase maps a memory of pointers only through the pointers read from it")
            inner = memref_type(rows)
            top = r.memory()
            given = r.op.function_type.inputs.data[r.arg] if isinstance(r.op, func.FuncOp) and r.arg >= 0 else None
            if isinstance(given, MemRefType) and given.get_shape()[0] >= 0:
                n = given.get_shape()[0]
            else:
                n = _DYNAMIC if top.same_allocas or any(e is None for e in top.extents) or not top.extents else max(top.extents)
            return MemRefType(inner.get_element_type(), [n, inner.get_shape()[0]])
        if isinstance(r.op, L.AllocaOp):
            n = _const_int(r.op.size)
            s = _scalars(r.op.elem_type)
            per = s[1] if s is not None and s[0] == t else _size(r.op.elem_type, r.op)[0] // _size(t, r.op)[0]
            return MemRefType(t, [n * per if n is not None else _DYNAMIC])
        top = r.memory()
        if top.same_allocas or any(e is None for e in top.extents) or not top.extents:
            return MemRefType(t, [_DYNAMIC])
        return MemRefType(t, [max(top.extents)])

    # -- the rewrite: roots first
    mem: dict[int, SSAValue] = {}
    for fn in funcs.values():
        if not fn.body.blocks:
            if any(_is_ptr(t) for t in fn.function_type.inputs.data):
                fn.function_type = FunctionType.from_lists([memref_type(roots[(fn.sym_name.data, i)]) if (fn.sym_name.data, i) in roots else t for i, t in enumerate(fn.function_type.inputs.data)], list(fn.function_type.outputs.data))
            continue
        block = fn.body.blocks[0]
        inputs = list(fn.function_type.inputs.data)
        for i, a in enumerate(list(block.args)):
            if _is_ptr(a.type) or _is_ptr_memref(a.type):
                mt = memref_type(roots[(fn.sym_name.data, i)])
                p = ptrs.pop(a)
                new = Rewriter.replace_value_with_new_type(a, mt)
                ptrs[new] = p
                mem[id(p.root)] = new
                inputs[i] = mt
        fn.function_type = FunctionType.from_lists(inputs, list(fn.function_type.outputs.data))
    index = IndexType()

    def before(op: Operation, new: Operation) -> SSAValue:
        new.location = op.location
        Rewriter.insert_op(new, InsertPoint.before(op))
        return new.results[0] if new.results else None  # type: ignore[return-value]

    def as_index(op: Operation, v: SSAValue) -> SSAValue:
        return v if isinstance(v.type, IndexType) else before(op, arith.IndexCastOp(v, index))

    def element_index(op: Operation, p: _Ptr) -> SSAValue:
        size = _size(elem_of(p.root), op)[0]
        if p.const % size:
            raise _error(op, f"reaches byte offset {p.const}, not a whole number of {elem_of(p.root)} elements")
        idx: SSAValue | None = None
        for v, m in p.terms:
            if m % size:
                raise _error(op, f"steps {m} bytes, not a whole number of {elem_of(p.root)} elements")
            term = as_index(op, v)
            if m // size != 1:
                term = before(op, arith.MuliOp(term, before(op, arith.ConstantOp(IntegerAttr(m // size, index)))))
            idx = term if idx is None else before(op, arith.AddiOp(idx, term))
        if p.const or idx is None:
            c = before(op, arith.ConstantOp(IntegerAttr(p.const // size, index)))
            idx = c if idx is None else before(op, arith.AddiOp(idx, c))
        return idx

    def memory(op: Operation, p: _Ptr) -> SSAValue:
        return mem[id(p.outer if p.outer is not None else p.root)]

    row_index: dict[Operation, SSAValue] = {}

    def indices(op: Operation, p: _Ptr) -> list[SSAValue]:
        idx = element_index(op, p)
        return [row_index[p.load], idx] if p.load is not None else [idx]  # type: ignore[index]

    def count_of(op: Operation, length: SSAValue, t: Attribute) -> SSAValue | int:
        size = _size(t, op)[0]
        c = _const_int(length)
        if c is not None:
            if c % size:
                raise _error(op, f"covers {c} bytes, not a whole number of {t} elements")
            return c // size
        if size == 1:
            return as_index(op, length)
        owner = length.owner
        if isinstance(owner, (arith.MuliOp, L.MulOp)):
            for a, b in ((owner.operands[0], owner.operands[1]), (owner.operands[1], owner.operands[0])):
                k = _const_int(b)
                if k is not None and k % size == 0:
                    n = as_index(op, a)
                    return n if k == size else before(op, arith.MuliOp(n, before(op, arith.ConstantOp(IntegerAttr(k // size, index)))))
        raise _error(op, f"covers a number of bytes zymase cannot prove to be whole {t} elements (give it as a constant or as count * {size})")

    def loop(op: Operation, count: SSAValue | int, body) -> None:  # type: ignore[no-untyped-def]
        """``body(i)`` for i in [0, count): inline when count is 1, else an scf.for."""
        if count == 1:
            body(lambda o: before(op, o), None)
            return
        if count == 0:
            return
        n = count if isinstance(count, SSAValue) else before(op, arith.ConstantOp(IntegerAttr(count, index)))
        zero = before(op, arith.ConstantOp(IntegerAttr(0, index)))
        one = before(op, arith.ConstantOp(IntegerAttr(1, index)))
        blk = Block(arg_types=[index])
        before(op, scf.ForOp(zero, n, one, [], Region(blk)))

        def emit(o: Operation) -> SSAValue:
            o.location = op.location
            blk.add_op(o)
            return o.results[0] if o.results else None  # type: ignore[return-value]

        body(emit, blk.args[0])
        blk.add_op(scf.YieldOp())

    dead: list[Operation] = []
    for fn in funcs.values():
        for op in list(fn.walk()):
            if isinstance(op, L.AllocaOp) and op in roots:
                r = roots[op]
                mt = memref_type(r)
                if mt.get_shape()[0] == _DYNAMIC:
                    t = elem_of(r)
                    s = _scalars(op.elem_type)
                    per = s[1] if s is not None and s[0] == t else _size(op.elem_type, op)[0] // _size(t, op)[0]
                    n = as_index(op, op.size)
                    if per != 1:
                        n = before(op, arith.MuliOp(n, before(op, arith.ConstantOp(IntegerAttr(per, index)))))
                    mem[id(r)] = before(op, memref.AllocaOp.get(t, shape=[_DYNAMIC], dynamic_sizes=[n]))
                else:
                    mem[id(r)] = before(op, memref.AllocaOp.get(mt.get_element_type(), shape=list(mt.get_shape())))
                dead.append(op)
            elif isinstance(op, L.GEPOp) and op.result in ptrs:
                dead.append(op)
            elif isinstance(op, (L.LoadOp, memref.LoadOp)) and op.results[0] in ptrs:  # a row of a memory of pointers
                row_index[op] = element_index(op, ptrs[op.operands[0]]) if isinstance(op, L.LoadOp) else as_index(op, op.indices[0])
                dead.append(op)
            elif isinstance(op, L.LoadOp) and op.ptr in ptrs:
                p = ptrs[op.ptr]
                new = memref.LoadOp.get(memory(op, p), indices(op, p))
                new.location = op.location
                Rewriter.replace_op(op, new)
            elif isinstance(op, L.StoreOp) and op.ptr in ptrs:
                p = ptrs[op.ptr]
                new = memref.StoreOp.get(op.value, memory(op, p), indices(op, p))
                new.location = op.location
                Rewriter.replace_op(op, new)
            elif isinstance(op, Z.MemsetOp):
                p = ptrs[op.dst]
                t = elem_of(p.root)
                byte = _const_int(op.val)
                if byte is None:
                    raise _error(op, "sets memory to a byte only known at run time; zymase needs a constant byte")
                pattern = bytes([byte & 0xFF]) * _size(t, op)[0]
                value: float | int
                if is_float_type(t):
                    value = struct.unpack({2: "<e", 4: "<f", 8: "<d"}[len(pattern)], pattern)[0]
                    cst = before(op, arith.ConstantOp(FloatAttr(value, t)))  # type: ignore[arg-type]
                else:
                    cst = before(op, arith.ConstantOp(IntegerAttr(int.from_bytes(pattern, "little", signed=True), t)))
                start = element_index(op, p)
                m = memory(op, p)
                loop(op, count_of(op, op.len, t), lambda emit, i: emit(memref.StoreOp.get(cst, m, [start if i is None else emit(arith.AddiOp(start, i))])))
                dead.append(op)
            elif isinstance(op, Z.MemcpyOp):
                pd, ps = ptrs[op.dst], ptrs[op.src]
                t = elem_of(pd.root)
                d0, s0 = element_index(op, pd), element_index(op, ps)
                md, ms = memory(op, pd), memory(op, ps)

                def copy(emit, i, d0=d0, s0=s0, md=md, ms=ms):  # type: ignore[no-untyped-def]
                    x = emit(memref.LoadOp.get(ms, [s0 if i is None else emit(arith.AddiOp(s0, i))]))
                    emit(memref.StoreOp.get(x, md, [d0 if i is None else emit(arith.AddiOp(d0, i))]))

                loop(op, count_of(op, op.len, t), copy)
                dead.append(op)
            elif isinstance(op, (func.CallOp, _DiffOp)):
                for k, v in enumerate(list(op.operands)):
                    if v in ptrs:
                        m = memory(op, ptrs[v])
                        want = _param_type(op, k, funcs)
                        if want is not None and want != m.type:
                            m = before(op, _cast(m, want))
                        op.operands[k] = m
    for op in reversed(dead):
        op.detach()
        op.erase(safe_erase=False)


def _cast(m: SSAValue, t: Attribute) -> Operation:
    from .memref import CastOp

    return CastOp(m, t)


def _param_type(op: Operation, k: int, funcs: dict) -> Attribute | None:
    from .enzyme import _DiffOp

    if isinstance(op, func.CallOp):
        callee = funcs.get(op.callee.root_reference.data)
        return None if callee is None else callee.function_type.inputs.data[k]
    if isinstance(op, _DiffOp):
        callee = funcs.get(op.fn.root_reference.data)
        params = _diff_operand_params(op)
        return None if callee is None or k not in params else callee.function_type.inputs.data[params[k]]
    return None


def _gep(base: _Ptr, op: L.GEPOp) -> _Ptr:
    const, terms = base.const, list(base.terms)
    dyn = iter(op.ssa_indices)
    t = op.elem_type
    for k, raw in enumerate(op.rawConstantIndices.get_values()):
        v = next(dyn) if raw == L.GEP_USE_SSA_VAL else None
        c = raw if v is None else _const_int(v)
        if k == 0:
            stride = _size(t, op)[0]
        elif isinstance(t, L.LLVMStructType):
            if c is None:
                raise _error(op, "indexes a struct with a value known only at run time")
            const += _field_offset(t, c, op)
            t = t.types.data[c]
            continue
        elif isinstance(t, L.LLVMArrayType):
            t = t.type
            stride = _size(t, op)[0]
        else:
            raise _error(op, f"indexes into {t}, which has no elements")
        if c is not None:
            const += c * stride
        else:
            terms.append((v, stride))
    return _Ptr(base.root, const, terms, base.outer, base.load)


def _check_nothing_left(module: ModuleOp) -> None:
    for op in module.walk():
        if isinstance(op, (L.ExtractValueOp, L.InsertValueOp)):
            raise _error(op, "an aggregate value (a function argument or result, or memory): zymase maps aggregates only where insertvalue / extractvalue fold away, or as an enzyme op's packed results")
        if op.name.startswith("llvm.") or op.name.startswith("llvm_ext."):
            raise _error(op, "has no counterpart in zymase's memory model (func, arith, math, scf, memref)")
        for v in (*op.operands, *op.results):
            if _is_ptr(v.type):
                raise _error(op, "uses a pointer zymase could not map onto a memref")
            if isinstance(v.type, (L.LLVMStructType, L.LLVMArrayType)):
                raise _error(op, f"uses the aggregate {v.type}; zymase maps aggregates only where insertvalue / extractvalue fold away (or as an enzyme op's packed results)")


def needs_llvm_lowering(module: Operation) -> bool:
    for op in module.walk():
        if op.name.startswith("llvm"):
            return True
        if isinstance(op, func.FuncOp) and any(_is_ptr(t) for t in op.function_type.inputs.data):
            return True
    return False


def lower_llvm(module: ModuleOp) -> bool:
    """Rewrite the llvm ops and pointers of ``module`` (see the module's docs); True when
    anything changed. Raises :class:`MlirError` naming the first op it cannot map."""
    if not needs_llvm_lowering(module):
        return False
    _unpack_struct_results(module)
    _convert_functions(module)
    _convert_scalar_ops(module)
    _fold_aggregates(module)
    _fold_constant_globals(module)
    _forward_pointer_slots(module)
    _lower_pointers(module)
    _check_nothing_left(module)
    return True


__all__ = ["lower_llvm", "needs_llvm_lowering"]
