"""Reverse loops XLA keeps in place: the forms it updates without copying, and the
rewrites of a counted while loop's reverse that keep to them (used by control.py).

What XLA on CPU (jax 0.10) does with a buffer a ``while`` carries and the body updates by
``dynamic_update_slice`` or ``scatter``, read off the compiled HLO (``copy`` instructions
in the while body's computation; tests/test_loop_copies.py keeps the zymase side):

* **in place, no copy**: the update is the only reader of the old buffer, or every other
  read of it sits in the update's own fusion: a fresh row ``dus(tape, v, [k, 0])`` (the
  forward loop's tapes, a scan's ys), a read-modify-write of one window
  ``dus(acc, ds(acc, i) + v, i)`` (the ``acc[i] += v`` of a gather's transpose, which XLA
  also forms from ``acc + dus(zeros, v, i)``), and a read of the *updated* buffer
  (``buf' = dus(buf, 0, i); ds(buf', j)``). Read-only uses cost nothing: slicing row k of
  a buffer the body returns unchanged (a tape, a loop-invariant cotangent).
* **one or two copies of the whole buffer per iteration**: any other op reading the old
  buffer in the iteration that updates it. The reverse of ``out.at[i].set(v)`` is that
  form: read ``ct[i]`` (gather or dynamic_slice), then zero ``ct[i]`` (scatter or dus). It
  is copied even when the read comes first in program order, when the written value
  depends on the read one (``dus(ct, ds(ct, i) * 0, i)`` with the row also used
  elsewhere), and with an ``optimization_barrier`` between them (XLA drops it before
  fusion): copy insertion goes by data dependence, and fusion duplicates the cheap slice
  into each consumer, whose fusions are then unordered with the update.

So the reverse loop must not both read and overwrite one carried buffer. Three rewrites:

* The cotangent of a buffer the loop *only writes*, each iteration a different window
  (scan outputs, ``out.at[i].set(v)`` with ``i`` the loop counter), needs no zeroing
  inside the loop: the window of iteration k is read once, in reverse iteration k, and no
  other window of it is read, so the reverse loop carries that cotangent unchanged
  (read-only: no copy) and the windows are zeroed once after the loop, in the cotangent
  of the loop's operand (``output_buffers``, ``zero_written_rows``).
* Any other cotangent the reverse loop reads and updates in place has its reads moved to
  the end of the previous iteration, on the buffer that iteration yields
  (``pipeline_reads``).
* Outer-product terms of a captured value's cotangent leave the loop: one contraction
  over stacks after it (``lift_products``, ``finish_products``).

Shared with checkpoint.py's reverse loops where they apply: ``output_buffers`` needs the
loop and its trip count, ``pipeline_reads`` and ``lift_products`` any reverse-loop body
whose first block argument is the counter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import IntegerType
from xdsl.ir import Block, Operation, SSAValue
from xdsl.rewriter import InsertPoint
from xdsl.traits import is_side_effect_free

from ...analysis.trip_count import TripCount, int_range
from ...ir import stablehlo as hlo
from ...ir.attributes import ComparisonDirection
from ...ir.builder import Builder, constant_value, shape, tensor
from ...ir.query import element_type, terminator

I32 = IntegerType(32)

_COMPARE = {
    ComparisonDirection.EQ: np.equal,
    ComparisonDirection.NE: np.not_equal,
    ComparisonDirection.LT: np.less,
    ComparisonDirection.LE: np.less_equal,
    ComparisonDirection.GT: np.greater,
    ComparisonDirection.GE: np.greater_equal,
}
_BINARY = {
    hlo.AddOp: np.add,
    hlo.SubtractOp: np.subtract,
    hlo.MultiplyOp: np.multiply,
    hlo.MaximumOp: np.maximum,
    hlo.MinimumOp: np.minimum,
    hlo.AndOp: np.logical_and,
    hlo.OrOp: np.logical_or,
}


def index_values(v: SSAValue, env: dict[SSAValue, np.ndarray], count: int, depth: int = 0) -> np.ndarray | None:
    """The values of the integer ``v`` in each of ``count`` iterations, as an array of
    shape ``(count, *shape(v))``, when ``v`` is computed from values ``env`` gives (the
    loop's induction variables) and integer constants by integer arithmetic, comparisons,
    selects and reshapes; None when it is not, or when a value leaves its type's range."""
    if v in env:
        return env[v]
    value = constant_value(v)
    if value is not None:
        if not (np.issubdtype(value.dtype, np.integer) or value.dtype == np.bool_):
            return None
        return np.broadcast_to(value.astype(np.int64), (count, *value.shape))
    owner = v.owner
    if not isinstance(owner, Operation) or depth > 64 or len(owner.results) != 1:
        return None
    limits = int_range(element_type(v))
    if limits is None:
        return None
    args = []
    for x in owner.operands:
        a = index_values(x, env, count, depth + 1)
        if a is None:
            return None
        args.append(a)
    out = _apply(owner, args, count)
    if out is None:
        return None
    out = np.asarray(out, dtype=np.int64)
    if out.size and (out.min() < limits[0] or out.max() > limits[1]):
        return None
    return out


def _apply(op: Operation, args: list[np.ndarray], count: int) -> np.ndarray | None:
    result = shape(op.results[0])
    fn = _BINARY.get(type(op))
    if fn is not None:
        return fn(*args)
    if isinstance(op, hlo.NegateOp):
        return -args[0]
    if isinstance(op, hlo.CompareOp):
        return _COMPARE[op.comparison_direction.data](*args)
    if isinstance(op, hlo.SelectOp):
        pred, a, b = args
        pred = pred.reshape(pred.shape + (1,) * (a.ndim - pred.ndim))
        return np.where(pred != 0, a, b)
    if isinstance(op, hlo.ClampOp):
        lo, x, hi = args
        return np.minimum(np.maximum(x, lo), hi)
    if isinstance(op, (hlo.ConvertOp, hlo.ReshapeOp)):
        return args[0].reshape((count, *result))
    if isinstance(op, hlo.BroadcastInDimOp):
        dims = list(op.broadcast_dimensions.get_values())
        x = args[0]
        expanded = [1] * len(result)
        for k, d in enumerate(dims):
            expanded[d] = x.shape[1 + k]
        return np.broadcast_to(x.reshape((count, *expanded)), (count, *result))
    return None


def output_buffers(op: hlo.WhileOp, tc: TripCount, affine: dict[int, tuple[int, int]]) -> dict[int, np.ndarray]:
    """Carried buffers the body only writes, a different window each iteration:
    ``{j: rows}`` for ``yield_j = dynamic_update_slice(arg_j, u, [i, 0, ...])`` or a
    one-window replacing ``scatter(arg_j, i, u)`` -- ``arg_j`` read by nothing else, the
    update its only use, windows spanning every dimension but the first -- when the
    start ``i`` of every iteration is known (a function of the induction variables) and
    no two iterations' windows overlap. ``rows`` marks the rows some iteration writes."""
    body = op.body.block
    yields = terminator(body).operands
    env = {body.args[j]: start + step * np.arange(tc.count, dtype=np.int64) for j, (start, step) in affine.items()}
    found: dict[int, np.ndarray] = {}
    for j, arg in enumerate(body.args):
        uses = list(_past_identities(arg).uses)
        if len(uses) != 1 or uses[0].index != 0:
            continue
        writer = uses[0].operation
        if writer.parent_block() is not body or len(writer.results) != 1:
            continue
        out = _past_identities(writer.results[0])
        if yields[j] is not out or len(list(out.uses)) != 1:
            continue
        rows = _written_rows(writer, env, tc.count)
        if rows is not None:
            found[j] = rows
    return found


def _past_identities(v: SSAValue) -> SSAValue:
    """``v`` through the converts to its own type jax leaves in loop bodies, when each is
    its value's only use."""
    while True:
        uses = list(v.uses)
        if len(uses) != 1:
            return v
        user = uses[0].operation
        if not isinstance(user, hlo.ConvertOp) or user.result.type != v.type:
            return v
        v = user.result


def _written_rows(writer: Operation, env: dict[SSAValue, np.ndarray], count: int) -> np.ndarray | None:
    buf = shape(writer.results[0])
    if not buf or count == 0:
        return None
    if isinstance(writer, hlo.DynamicUpdateSliceOp):
        size = shape(writer.update)[0]
        if shape(writer.update)[1:] != buf[1:]:
            return None
        starts = index_values(writer.start_indices[0], env, count)
        if starts is None:
            return None
        starts = np.clip(starts.reshape(count), 0, buf[0] - size)  # dus clamps its start
    elif isinstance(writer, hlo.ScatterOp):
        from .structured import _scatter_as_gather, _scatter_points

        if len(writer.inputs) != 1 or writer.combiner() != "replace" or _scatter_points(writer) != 1:
            return None
        d = writer.scatter_dimension_numbers
        if list(d.input_batching_dims) or list(d.scatter_dims_to_operand_dims) != [0]:
            return None
        _, sizes = _scatter_as_gather(writer, writer.updates[0])
        if tuple(sizes[1:]) != buf[1:]:
            return None
        size = sizes[0]
        idx = index_values(writer.scatter_indices, env, count)
        if idx is None or idx[0].size != 1:
            return None
        starts = idx.reshape(count)
        starts = starts[(starts >= 0) & (starts <= buf[0] - size)]  # scatter drops windows out of range
    else:
        return None
    ordered = np.sort(starts)
    if ordered.size > 1 and int(np.min(np.diff(ordered))) < size:
        return None
    rows = np.zeros(buf[0], dtype=bool)
    rows[(starts[:, None] + np.arange(size)[None, :]).ravel()] = True
    return rows


def zero_written_rows(b: Builder, ct: SSAValue, rows: np.ndarray) -> SSAValue | None:
    """``ct`` with the rows the loop wrote set to zero: the cotangent of the loop's
    operand (None when every row was written)."""
    if rows.all():
        return None
    if not rows.any():
        return ct
    mask = b.constant(rows.astype(np.int32), tensor(I32, [rows.size]))
    written = b.compare(b.broadcast_in_dim(mask, list(shape(ct)), [0]), b.zeros(tensor(I32, list(shape(ct)))), "NE")
    return b.select(written, b.zeros(ct.type), ct)


def erase_unused(v: SSAValue, block: Block) -> None:
    """Erase the op defining ``v`` when nothing uses its results and it has no effect,
    then the ops of ``block`` it read that became unused in turn."""
    op = v.owner
    if not isinstance(op, Operation) or op.parent_block() is not block:
        return
    if any(True for r in op.results for _ in r.uses) or not is_side_effect_free(op):
        return
    operands = list(op.operands)
    op.detach()
    op.erase()
    for x in operands:
        erase_unused(x, block)


# ============================================================================ products moved after the loop
#
# The reverse of ``dot(a_t, W)`` for a captured W adds the outer product ``a_t^T g_t`` to
# W's cotangent in every iteration: the whole accumulator is read and written T times.
# The sum over t of ``dot_general(a_t, b_t)`` is one ``dot_general`` of the stacked a's
# and b's contracting the stack dimension as well, so such terms leave the loop: the
# reverse loop writes a_t and b_t into row t of stacks (or, when a value is already row t
# of a tape the forward loop filled, that tape is the stack), and one contraction after
# the loop adds the sum to the cotangent.


@dataclass
class LiftedProduct:
    """One ``sum_t transpose(dot_general(a_t, b_t))`` computed after the reverse loop."""

    free: int  # position of the captured value among the loop's ``frees``
    sources: list  # per operand: ("tape", value outside the loop) or ("stack", block argument index)
    shapes: list  # per operand: the shape of one iteration's value
    dims: tuple  # the product's (lhs batch, rhs batch, lhs contracting, rhs contracting) dimensions
    element: object  # its result element type
    precision: object  # its precision_config
    perm: list[int] | None  # the transpose applied to it, if any


def lift_products(rblock: Block, first_free: int, nfrees: int, count: int) -> list[LiftedProduct]:
    """Move the outer-product terms of the accumulated cotangents of captured values out
    of the reverse loop ``rblock`` (args ``[k, ..., frees..., stacks...]``), adding the
    stacks it needs as new block arguments; returns what ``finish_products`` computes
    after the loop. A term moves when it is ``[transpose](dot_general(a, b))`` of two
    per-iteration values and its result is at least as large as a and b together (so the
    accumulation, not the product, dominates)."""
    ret = rblock.last_op
    k = rblock.args[0]
    b = Builder(InsertPoint.before(ret))
    outs = list(ret.operands)
    lifted: list[LiftedProduct] = []
    dropped: list[SSAValue] = []
    for fi in range(nfrees):
        pos = first_free + fi
        acc = rblock.args[pos]
        total = outs[pos]
        adder = total.owner
        if not isinstance(adder, hlo.AddOp) or adder.parent_block() is not rblock or acc not in (adder.lhs, adder.rhs):
            continue
        ct = adder.rhs if adder.lhs is acc else adder.lhs
        keep: list[SSAValue] = []
        moved: list[LiftedProduct] = []
        for term in _sum_terms(ct, rblock):
            found = _product(term, rblock)
            if found is None:
                keep.append(term)
                continue
            dot, perm = found
            d = dot.dot_dimension_numbers
            dims = tuple(list(x) for x in (d.lhs_batching_dimensions, d.rhs_batching_dimensions, d.lhs_contracting_dimensions, d.rhs_contracting_dimensions))
            element = dot.result.type.get_element_type()
            moved.append(LiftedProduct(fi, [dot.lhs, dot.rhs], [list(shape(dot.lhs)), list(shape(dot.rhs))], dims, element, dot.precision_config, perm))
        if not moved:
            continue
        rest = None
        for term in keep:
            rest = term if rest is None else b.add(rest, term)
        outs[pos] = acc if rest is None else b.add(acc, rest)
        dropped.append(total)
        lifted += moved
    if not lifted:
        return []
    env = {k: np.arange(count, dtype=np.int64)}
    stacked: dict[SSAValue, tuple] = {}
    for item in lifted:
        sources = []
        for v in item.sources:
            if v not in stacked:
                tape = _tape_row(v, rblock, env, count)
                if tape is not None:
                    stacked[v] = ("tape", tape)
                else:
                    stack = rblock.insert_arg(tensor(v.type.get_element_type(), [count, *shape(v)]), len(rblock.args))
                    zero = b.zeros(k.type)
                    outs.append(b.dynamic_update_slice(stack, b.reshape(v, [1, *shape(v)]), [k] + [zero] * len(shape(v))))
                    stacked[v] = ("stack", stack.index)
            sources.append(stacked[v])
        item.sources = sources
    ret.operands = outs
    for v in dropped:
        erase_unused(v, rblock)
    return lifted


def _sum_terms(v: SSAValue, block: Block) -> list[SSAValue]:
    """The summands of ``v`` through the adds of ``block`` that only this sum reads."""
    op = v.owner
    if isinstance(op, hlo.AddOp) and op.parent_block() is block and len(list(v.uses)) == 1:
        return _sum_terms(op.lhs, block) + _sum_terms(op.rhs, block)
    return [v]


def _product(term: SSAValue, block: Block) -> tuple[hlo.DotGeneralOp, list[int] | None] | None:
    perm = None
    op = term.owner
    if isinstance(op, hlo.TransposeOp) and op.parent_block() is block and len(list(term.uses)) == 1:
        perm = list(op.permutation.get_values())
        term = op.operand
        op = term.owner
    if not isinstance(op, hlo.DotGeneralOp) or op.parent_block() is not block or len(list(term.uses)) != 1:
        return None
    per_iteration = [_defined_in(x, block) for x in (op.lhs, op.rhs)]
    if not all(per_iteration):
        return None
    size = int(np.prod(shape(term)))
    if size < int(np.prod(shape(op.lhs))) + int(np.prod(shape(op.rhs))):
        return None
    return op, perm


def _defined_in(v: SSAValue, block: Block) -> bool:
    owner = v.owner
    if isinstance(owner, Block):
        return owner is block
    return owner.parent_block() is block


def _tape_row(v: SSAValue, block: Block, env: dict[SSAValue, np.ndarray], count: int) -> SSAValue | None:
    """The buffer X defined outside the loop when ``v`` is row k of it (``reshape(
    dynamic_slice(X, [k, 0, ...]))``, X with ``count`` rows): then X is v's stack."""
    if isinstance(v.owner, hlo.ReshapeOp) and v.owner.parent_block() is block:
        v = v.owner.operand
    ds = v.owner
    if not isinstance(ds, hlo.DynamicSliceOp) or ds.parent_block() is not block:
        return None
    x = ds.operand
    if _defined_in(x, block) or shape(x)[0] != count:
        return None
    sizes = list(ds.slice_sizes.get_values())
    if sizes != [1, *shape(x)[1:]]:
        return None
    row = index_values(ds.start_indices[0], env, count)
    if row is None or not np.array_equal(row.reshape(count), np.arange(count)):
        return None
    return x


def finish_products(b: Builder, lifted: list[LiftedProduct], results) -> list[tuple[int, SSAValue]]:
    """The contractions over the stacks after the reverse loop (``results``: the loop's
    results, for the stacks it filled): ``[(free position, cotangent term)]``."""
    out = []
    for item in lifted:
        stacks = []
        for (kind, src), s in zip(item.sources, item.shapes):
            value = src if kind == "tape" else results[src]
            stacks.append(b.reshape(value, [shape(value)[0], *s]))
        lb, rb, lc, rc = ([x + 1 for x in dims] for dims in item.dims)
        prod = b.dot_general(stacks[0], stacks[1], lb, rb, [0, *lc], [0, *rc], result_element=item.element, precision=item.precision)
        out.append((item.free, prod if item.perm is None else b.transpose(prod, item.perm)))
    return out


# ============================================================================ reads moved to the previous iteration
#
# A carried cotangent the reverse loop both reads (a row, gather or dynamic_slice) and
# updates in place (zeroing a window it read, scatter or dus) is copied every iteration
# however the two are ordered. The read moves to the end of the previous iteration, where
# it reads the buffer that iteration yields -- after its updates, which is free -- and its
# value is carried into the next iteration; the first one is read before the loop.


def pipeline_reads(body: Block, positions: list[int], inits: list[SSAValue], b: Builder) -> list[SSAValue]:
    """Rewrite the loop ``body`` so that reads of the carried buffers at ``positions``,
    which the body also updates in place, happen one iteration early: at the end of the
    previous iteration, on the values it yields (its return's operands), and before the
    loop on the initial values ``inits`` (built with ``b``). A read moves when its indices
    are computed by effect-free ops of the body from block arguments and outer values.
    Returns the initial values of the block arguments it appends (their types are the
    reads'); the caller adds them to the loop's operands."""
    ret = body.last_op
    inits = list(inits)
    added: list[SSAValue] = []
    for p in positions:
        a = body.args[p]
        users = [u.operation for u in a.uses]
        written = any(isinstance(o, (hlo.DynamicUpdateSliceOp, hlo.ScatterOp)) and o.operands[0] is a for o in users)
        if not written:
            continue
        for read in users:
            if not isinstance(read, (hlo.DynamicSliceOp, hlo.GatherOp)) or read.operands[0] is not a or read.parent_block() is not body:
                continue
            if any(x is a for x in read.operands[1:]):
                continue
            chain = _index_slice(read, body)
            if chain is None:
                continue
            nexts = {arg: ret.operands[arg.index] for arg in body.args}
            starts = {arg: inits[arg.index] for arg in body.args}
            value = body.insert_arg(read.results[0].type, len(body.args))
            read.results[0].replace_all_uses_with(value)
            ahead = _clone_read(Builder(InsertPoint.before(ret)), read, chain, nexts)
            first = _clone_read(b, read, chain, starts)
            ret.operands = [*ret.operands, ahead]
            inits.append(first)
            added.append(first)
            read.detach()
            read.erase()
    return added


def _index_slice(read: Operation, body: Block) -> list[Operation] | None:
    """The ops of ``body`` computing ``read``'s indices, in block order, when they have
    no regions and no effects; None otherwise."""
    needed: set[Operation] = set()
    stack = list(read.operands[1:])
    while stack:
        v = stack.pop()
        owner = v.owner
        if isinstance(owner, Block):
            if owner is not body and _inside(owner.parent_op(), body):
                return None
            continue
        if owner.parent_block() is not body:
            if _inside(owner, body):
                return None
            continue
        if owner in needed:
            continue
        if owner.regions or not is_side_effect_free(owner):
            return None
        needed.add(owner)
        stack.extend(owner.operands)
    return [o for o in body.ops if o in needed]


def _inside(op: Operation, block: Block) -> bool:
    parent = op.parent_block()
    while parent is not None:
        if parent is block:
            return True
        owner = parent.parent_op()
        parent = owner.parent_block() if owner is not None else None
    return False


def _clone_read(b: Builder, read: Operation, chain: list[Operation], mapping: dict[SSAValue, SSAValue]) -> SSAValue:
    values = dict(mapping)
    for o in [*chain, read]:
        new = o.clone(value_mapper=values)
        b.insert(new)
        for old, res in zip(o.results, new.results):
            values[old] = res
    return values[read.results[0]]
