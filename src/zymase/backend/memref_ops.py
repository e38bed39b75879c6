"""lax emitters for the memref dialect (``ir/memref.py``), by conversion to value semantics.

A buffer is a :class:`Cell`, a Python object holding the buffer's current contents as a
jax array. The emitted code passes cells where the MLIR passes memrefs: ``memref.alloc``
makes a new cell (filled with zeros: MLIR leaves new memory undefined, zymase makes it
deterministic), ``memref.load`` reads the cell's array, ``memref.store`` replaces it with
``array.at[indices].set(value)``, ``memref.copy`` moves one cell's array into another,
``memref.dealloc`` does nothing. Calls pass the cells on, so a callee writes its caller's
buffers.

Straight-line code mutates the cells as it goes. Inside ``lax`` control flow a traced
body may not leave its values in Python objects, so ``scf.for``, ``scf.if`` and
``scf.while`` whose regions use buffers from outside carry those buffers' arrays through
the loop or branch (in, then back into the cells after it). ``scf.index_switch`` over
buffers is refused.

Why value semantics and not an interpreter: the result stays one jax function, so it runs
under ``jax.jit`` (and XLA updates the carried buffers in place), and the memref programs
share the emitters of every other op. The cost: XLA's shapes are static, so an
allocation whose size is computed at run time (the cache of a reversed loop with
run-time bounds) cannot be compiled; it raises :class:`DynamicSize`, and the loader then
runs the function op by op without ``jax.jit`` (every value concrete, loops still lax).

:func:`with_buffers` wraps an emitted function whose arguments include memrefs: it takes
arrays, and returns the results and the final contents of the memref arguments, which
``load_mlir`` and ``zymase-opt --run`` write back into the caller's numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from xdsl.dialects import scf
from xdsl.dialects.builtin import MemRefType
from xdsl.ir import Attribute, Operation, SSAValue

from ..ir.memref import AllocaOp, AllocOp, CastOp, CopyOp, DeallocOp, DimOp, LoadOp, StoreOp, is_memref
from ..ir.query import free_values
from .emitter import EMITTERS, EmitError, FunctionBuilder, OpFn, emit_error, emits
from .std_ops import _single, _static_int, for_trip_count, jax_dtype, value_dtype


class Cell:
    """One buffer: ``value`` is its current contents (a jax array)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __repr__(self) -> str:
        return f"Cell({self.value!r})"


class DynamicSize(EmitError):
    """An allocation whose size is a traced value: the function cannot be compiled as
    one XLA program (whose shapes are static); the loader then runs it op by op, where
    every size is a concrete number."""


def _concrete_int(x: Any) -> int | None:
    if isinstance(x, jax.core.Tracer):
        return None
    return int(np.asarray(x))


def _dtype(t: Attribute) -> np.dtype:
    assert isinstance(t, MemRefType)
    return jax_dtype(t.get_element_type())


# ----------------------------------------------------------------- the memory ops


@emits(AllocOp, AllocaOp)
def _alloc(b: FunctionBuilder, op: AllocOp | AllocaOp) -> OpFn:
    t = op.memref.type
    assert isinstance(t, MemRefType)
    static = list(t.get_shape())
    dtype = _dtype(t)

    def alloc(*sizes: Any) -> Cell:
        it = iter(sizes)
        shape = []
        for s in static:
            if s >= 0:
                shape.append(s)
                continue
            n = _concrete_int(next(it))
            if n is None:
                raise DynamicSize(emit_error(op, "the size of a dynamic dimension must be known when the function is traced").args[0])
            shape.append(n)
        return Cell(jnp.zeros(shape, dtype))

    return alloc


@emits(DeallocOp)
def _dealloc(b: FunctionBuilder, op: DeallocOp) -> OpFn:
    return lambda cell: None


@emits(LoadOp)
def _load(b: FunctionBuilder, op: LoadOp) -> OpFn:
    def load(cell: Cell, *idx: Any) -> Any:
        if cell.value.size == 0:  # only in code that does not run (a zero-trip loop's traced body)
            return jnp.zeros((), cell.value.dtype)
        return cell.value[tuple(idx)]

    return load


@emits(StoreOp)
def _store(b: FunctionBuilder, op: StoreOp) -> OpFn:
    def store(value: Any, cell: Cell, *idx: Any) -> None:
        if cell.value.size == 0:
            return
        cell.value = cell.value.at[tuple(idx)].set(lax.convert_element_type(value, cell.value.dtype))

    return store


@emits(CopyOp)
def _copy(b: FunctionBuilder, op: CopyOp) -> OpFn:
    def copy(src: Cell, dst: Cell) -> None:
        if src.value.shape != dst.value.shape:
            raise emit_error(op, f"copies a buffer of shape {src.value.shape} into one of shape {dst.value.shape}")
        dst.value = src.value

    return copy


@emits(CastOp)
def _cast(b: FunctionBuilder, op: CastOp) -> OpFn:
    return lambda cell: cell  # the same buffer


@emits(DimOp)
def _dim(b: FunctionBuilder, op: DimOp) -> OpFn:
    dtype = value_dtype(op.result)

    def dim(cell: Cell, i: Any) -> Any:
        k = _static_int(i)
        if k is None:
            raise emit_error(op, "the dimension index must be a constant")
        return np.asarray(cell.value.shape[k], dtype)

    return dim


# ----------------------------------------------------------------- regions that use buffers


def _buffers(op: Operation) -> list[SSAValue]:
    """The memrefs from outside ``op`` that its regions use (the cells to carry)."""
    return [v for v in free_values(op) if is_memref(v.type)]


def _cells(b: FunctionBuilder, values: Sequence[SSAValue]) -> list[Cell]:
    """The cells of ``values``, each once (a memref.cast is the same cell)."""
    env = b._env_stack[-1]
    return list({id(env[v]): env[v] for v in values}.values())


def _get(cells: Sequence[Cell]) -> tuple:
    return tuple(c.value for c in cells)


def _set(cells: Sequence[Cell], values: Sequence[Any]) -> None:
    for c, v in zip(cells, values):
        c.value = v


def _with_buffers_emitter(cls: type[Operation], make: Callable[[FunctionBuilder, Any, list[SSAValue]], OpFn]) -> None:
    """The emitter of ``cls``: ``make`` when the op's regions use buffers from outside,
    the ordinary emitter otherwise."""
    plain = EMITTERS[cls]

    def emitter(b: FunctionBuilder, op: Any) -> OpFn:
        buffers = _buffers(op)
        return make(b, op, buffers) if buffers else plain(b, op)

    EMITTERS[cls] = emitter


def _for(b: FunctionBuilder, op: scf.ForOp, buffers: list[SSAValue]) -> OpFn:
    n_results = len(op.res)
    body = b.region(op.body)
    iv_dtype = value_dtype(op.lb)

    def for_(lb: Any, ub: Any, step: Any, *init: Any) -> Any:
        cells = _cells(b, buffers)
        lb, step, trips = for_trip_count(op, lb, ub, step)

        def loop_body(i: Any, carry: tuple) -> tuple:
            values, bufs = carry
            _set(cells, bufs)
            iv = lax.add(lb, lax.mul(lax.convert_element_type(i, iv_dtype), step))
            out = tuple(body(iv, *values))
            return out, _get(cells)

        out, bufs = lax.fori_loop(0, trips, loop_body, (tuple(init), _get(cells)))
        _set(cells, bufs)
        return _single(n_results, out) if n_results else None

    return for_


def _if(b: FunctionBuilder, op: scf.IfOp, buffers: list[SSAValue]) -> OpFn:
    n_results = len(op.output)
    then_fn = b.region(op.true_region)
    else_fn = b.region(op.false_region) if op.false_region.blocks else (lambda: ())

    def if_(cond: Any) -> Any:
        cells = _cells(b, buffers)

        def branch(fn: Callable[[], tuple]) -> Callable[[tuple], tuple]:
            def run(bufs: tuple) -> tuple:
                _set(cells, bufs)
                out = tuple(fn())
                return out, _get(cells)

            return run

        out, bufs = lax.cond(cond, branch(then_fn), branch(else_fn), _get(cells))
        _set(cells, bufs)
        return _single(n_results, out) if n_results else None

    return if_


def _while(b: FunctionBuilder, op: scf.WhileOp, buffers: list[SSAValue]) -> OpFn:
    n_results = len(op.res)
    before, after = b.region(op.before_region), b.region(op.after_region)

    def while_(*init: Any) -> Any:
        cells = _cells(b, buffers)

        def run_before(values: tuple) -> tuple:
            cond, *vals = before(*values)
            return cond, tuple(vals)

        def next_state(carry: tuple) -> tuple:
            _, vals, bufs = carry
            _set(cells, bufs)
            cond, new = run_before(tuple(after(*vals)))
            return cond, new, _get(cells)

        cond, vals = run_before(init)
        _, out, bufs = lax.while_loop(lambda carry: carry[0], next_state, (cond, vals, _get(cells)))
        _set(cells, bufs)
        return _single(n_results, out) if n_results else None

    return while_


def _index_switch(b: FunctionBuilder, op: scf.IndexSwitchOp, buffers: list[SSAValue]) -> OpFn:
    raise emit_error(op, "an scf.index_switch whose cases use memrefs is not supported yet")


_with_buffers_emitter(scf.ForOp, _for)
_with_buffers_emitter(scf.IfOp, _if)
_with_buffers_emitter(scf.WhileOp, _while)
_with_buffers_emitter(scf.IndexSwitchOp, _index_switch)


# ----------------------------------------------------------------- function entry


def with_buffers(fn: Callable[..., tuple], arg_types: Sequence[Attribute]) -> Callable[..., tuple[tuple, tuple]]:
    """``fn`` (an emitted function) taking arrays for its memref arguments: returns
    ``(results, buffers)``, the buffers being the final contents of the memref arguments
    in order (a memref result is returned as its contents)."""
    memref_args = [i for i, t in enumerate(arg_types) if is_memref(t)]

    def entry(*args: Any) -> tuple[tuple, tuple]:
        values = list(args)
        cells = {i: Cell(values[i]) for i in memref_args}
        for i, c in cells.items():
            values[i] = c
        out = fn(*values)
        results = tuple(r.value if isinstance(r, Cell) else r for r in out)
        return results, tuple(cells[i].value for i in memref_args)

    return entry


__all__ = ["Cell", "DynamicSize", "with_buffers"]


# ----------------------------------------------------------------- ub.poison

from ..ir.ub import PoisonOp  # noqa: E402


@emits(PoisonOp)
def _poison(b: FunctionBuilder, op: PoisonOp) -> OpFn:
    """Any value will do: zeros (of a scalar or static tensor type)."""
    t = op.result.type
    shape = tuple(t.get_shape()) if hasattr(t, "get_shape") else ()
    dtype = jax_dtype(t)
    return lambda: jnp.zeros(shape, dtype)
