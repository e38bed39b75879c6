"""Forward-Laplacian mode: ``enzyme.fwdlaplace @f`` -> ``fwdlaplace<f>``.

One forward sweep carries, for every active value v of shape S, its primal, its gradient
with respect to the dup argument x (d = x's number of elements) and its Laplacian
``L(v) = sum_k d^2 v / dx_k^2`` (shape S). The gradient has one of three forms, and is
converted only when an op forces it:

- *zero*: no entry (the value does not depend on x);
- *banded*: a few ``Band(g, axes, offset)``, each g of shape S, ``axes`` the positions
  in S of x's dimensions: ``G[k, s] = g[s]`` where the multi-index of element k is
  ``s[axes] + offset``, 0 elsewhere (g is 0 where that falls outside x). x itself is one
  band ``(ones, (0, ..., r-1), 0)``, its diagonal; elementwise ops, broadcasts,
  transposes, reshapes that only add or drop unit dimensions and reductions over other
  dimensions keep the bands; slices, pads and concatenations shift them (``x[1:] -
  x[:-1]`` has two bands, offsets 1 and 0). So no d x size array is built where the
  derivative is known to be (a few shifted) diagonals. Past ``MAX_BANDS`` bands, or
  through other ops, the gradient becomes dense;
- *dense*: ``Grad(G)``, G of shape (d, *S).

Rules:

- elementwise ops: ``G = sum_i p_i G_i`` and ``L = sum_i p_i L_i + sum_ij q_ij <G_i, G_j>``
  with ``<A, B> = sum_k A[k] B[k]``. The partials p_i come from the registry's
  ELEMENTWISE rule; the second partials q_ij = d p_i / d x_j are not tabulated: the
  rule's partial expressions are built in a scratch function and forward-differentiated
  by the engine (``ForwardSweep``), so every op with a first-order rule whose partials
  are themselves differentiable gets its second derivative for free;
- jointly linear ops act on all three parts (the gradient through the registry's width-N
  ``@batched`` rule, the Laplacian by the op itself); add, subtract, negate, convert,
  select, broadcast_in_dim, transpose, reshape, slice, pad, concatenate and reduce act
  on bands directly;
- multilinear ops (multiply, dot_general) add the cross term ``2 <G_a, G_b>`` (for
  dot_general the contraction of both gradients over k and the contracted dimensions);
  two bands meet only where they sit in the same row (statically known for bands on the
  same axes, an iota mask otherwise). A dot_general whose banded operand is contracted
  over x's dimensions gives a dense gradient without a d x d product (``x @ W`` with x's
  identity gradient is W); one with x's dimensions free or batched keeps the band;
- max/min reductions pick the chosen elements' parts (ties split evenly, as jax);
- while loops carry, and branches (if, case) return, each active value's dense gradient
  and Laplacian next to it.

Anything else (calls of functions with custom rules, sort, scatter, gather, ...) raises a
``LaplaceError`` naming the op; ``zymase.laplacian`` then falls back to forward over
reverse mode.
"""

from __future__ import annotations

from collections import ChainMap
from dataclasses import dataclass
from math import prod

from xdsl.dialects import arith, func
from xdsl.dialects.builtin import FunctionType, IntegerType, TensorType
from xdsl.ir import Block, Operation, Region, SSAValue

from ..analysis.activity import ActivityAnalysis, is_differentiable_type
from ..ir import stablehlo as hlo
from ..ir.builder import Builder, constant_value, elem, shape, tensor
from ..ir.dense import is_float_type
from ..ir.enzyme import CONST, DUP, DUPNONEED, ForwardLaplaceOp
from ..ir.query import body_ops, describe_location, terminator, used_values
from . import registry
from .engine import DiffContext, ForwardSweep
from .errors import DiffError, describe_op
from .registry import ELEMENTWISE, INACTIVE, LINEAR


class LaplaceError(DiffError):
    """The forward-Laplacian mode has no rule for an op."""


def unsupported(op: Operation, why: str = "") -> LaplaceError:
    return LaplaceError(f"no forward-Laplacian rule for {describe_op(op)} at {describe_location(op)}" + (f": {why}" if why else ""))


MAX_BANDS = 8
"""A banded gradient with more bands than this becomes dense."""


@dataclass(frozen=True)
class Band:
    """``G[k, s] = value[s]`` where the multi-index of element k of x is ``s[axes] + offset``."""

    value: SSAValue
    axes: tuple[int, ...]
    offset: tuple[int, ...]

    def key(self) -> tuple:
        return (self.axes, self.offset)


@dataclass(frozen=True)
class Grad:
    """A gradient: dense ``(d, *S)`` (``dense_value``) or a sum of bands (module docstring)."""

    dense_value: SSAValue | None = None
    bands: tuple[Band, ...] = ()

    @property
    def banded(self) -> bool:
        return self.dense_value is None


def _banded(bands) -> Grad:
    return Grad(None, tuple(bands))


# ============================================================================ generator


def fwdlaplace_function(ctx: DiffContext, op: ForwardLaplaceOp) -> str:
    """Generate (or find) ``fwdlaplace<fn>`` for the op's callee and activities."""
    name = op.fn.root_reference.data
    key = ("fwdlaplace", name, tuple(op.arg_kinds), tuple(op.ret_kinds))
    if key in ctx.generated:
        return ctx.generated[key]
    primal = ctx.func(name)
    arg_kinds, ret_kinds = op.arg_kinds, op.ret_kinds
    ins, outs = op.expected_types(primal)
    new_name = ctx.unique_name(f"fwdlaplace{name}")
    ctx.generated[key] = new_name
    src = primal.body.blocks.first
    x = src.args[arg_kinds.index(DUP)]
    if not isinstance(x.type, TensorType):
        raise LaplaceError(f"'{op.name}' at {describe_location(op)}: the dup argument of @{name} has type {x.type}; the forward-Laplacian mode takes a tensor")
    _, block = ctx.add_func(new_name, ins, outs)
    analysis = ActivityAnalysis(primal, [k == DUP for k in arg_kinds], [k in (DUP, DUPNONEED) for k in ret_kinds])
    sweep = LaplaceSweep(ctx, analysis, Builder(block), shape(x))
    for arg, new in zip(src.args, block.args):
        sweep.primals[arg] = new
    r = len(shape(x))
    sweep.grads[x] = _banded([Band(sweep.builder.ones_like(sweep.primal(x)), tuple(range(r)), (0,) * r)])
    sweep.run_block(src)
    results: list[SSAValue] = []
    for v, k in zip(terminator(src).operands, ret_kinds):
        if k in (CONST, DUP):
            results.append(sweep.primal(v))
        if k in (DUP, DUPNONEED):
            results.append(sweep.dense_or_zero(v))
            results.append(sweep.lap_or_zero(v))
    block.add_op(func.ReturnOp(*results))
    return new_name


# ============================================================================ the sweep


class LaplaceSweep:
    def __init__(self, ctx: DiffContext, analysis: ActivityAnalysis, builder: Builder, x_shape: tuple[int, ...]):
        self.ctx = ctx
        self.analysis = analysis
        self.builder = builder
        self.x_shape = tuple(x_shape)
        self.d = prod(self.x_shape)
        self.primals: dict[SSAValue, SSAValue] = {}
        self.grads: dict[SSAValue, Grad] = {}
        self.laps: dict[SSAValue, SSAValue] = {}
        # the width-d forward sweep whose @batched rules map dense gradients through linear ops
        self.batch = ForwardSweep(ctx, analysis, builder, self.d)
        self.batch.primals = self.primals

    def child(self, builder: Builder) -> LaplaceSweep:
        """A sweep writing into a nested block (a loop body), seeing this sweep's values."""
        sub = LaplaceSweep(self.ctx, self.analysis, builder, self.x_shape)
        sub.primals = ChainMap({}, self.primals)  # type: ignore[assignment]
        sub.grads = ChainMap({}, self.grads)  # type: ignore[assignment]
        sub.laps = ChainMap({}, self.laps)  # type: ignore[assignment]
        sub.batch.primals = sub.primals
        return sub

    # ------------------------------------------------------------------ values

    def primal(self, v: SSAValue) -> SSAValue:
        return self.primals[v]

    def has_part(self, v: SSAValue) -> bool:
        return v in self.grads or v in self.laps

    def clone(self, op: Operation) -> Operation:
        new = op.clone(value_mapper=self.primals)
        self.builder.insert(new)
        for old, res in zip(op.results, new.results):
            self.primals[old] = res
        return new

    def clone_with(self, op: Operation, operands: list[SSAValue]) -> SSAValue:
        """A copy of ``op`` reading ``operands`` (its results are not recorded)."""
        new = op.clone(value_mapper=ChainMap({}, self.primals))  # type: ignore[arg-type]
        new.operands = operands
        self.builder.insert(new)
        return new.results[0]

    def set_parts(self, v: SSAValue, g: Grad | None, lap: SSAValue | None) -> None:
        if g is not None:
            self.grads[v] = g
        if lap is not None:
            self.laps[v] = lap

    def dense_or_zero(self, v: SSAValue) -> SSAValue:
        g = self.grads.get(v)
        if g is None:
            return self.builder.zeros(self.rows_type(v.type))
        return self.dense(g)

    def lap_or_zero(self, v: SSAValue) -> SSAValue:
        lap = self.laps.get(v)
        return lap if lap is not None else self.builder.zeros(v.type)

    def rows_type(self, t) -> TensorType:
        return tensor(t.get_element_type(), [self.d, *t.get_shape()])

    # ------------------------------------------------------------------ gradient forms

    def _band_mask(self, s: tuple[int, ...], band: Band) -> SSAValue | None:
        """i1 of shape (*X, *s): element k of x is at ``s[axes] + offset`` (None when x is rank 0)."""
        b, r = self.builder, len(self.x_shape)
        full = [*self.x_shape, *s]
        mask = None
        i32 = IntegerType(32)
        for j, (a, off) in enumerate(zip(band.axes, band.offset)):
            at = b.iota(full, r + a, i32)
            if off:
                at = b.add(at, b.constant(off, at.type))
            eq = b.compare(b.iota(full, j, i32), at, "EQ")
            mask = eq if mask is None else b.insert(hlo.AndOp(mask, eq)).results[0]
        return mask

    def _band_dense(self, band: Band) -> SSAValue:
        b, r = self.builder, len(self.x_shape)
        s = shape(band.value)
        full = [*self.x_shape, *s]
        spread = b.broadcast_in_dim(band.value, full, list(range(r, r + len(s))))
        mask = self._band_mask(s, band)
        if mask is not None:
            spread = b.select(mask, spread, b.zeros_like(spread))
        return b.reshape(spread, [self.d, *s])

    def dense(self, g: Grad) -> SSAValue:
        """The gradient as a (d, *S) array (from bands: the only place a banded gradient
        becomes d x size)."""
        if not g.banded:
            return g.dense_value
        total = None
        for band in g.bands:
            term = self._band_dense(band)
            total = term if total is None else self.builder.add(total, term)
        return total

    def _extract(self, dense: SSAValue, band: Band) -> SSAValue:
        """E[s] = G[k, s] at the k where ``band`` lives (0 where that is outside x)."""
        b, r = self.builder, len(self.x_shape)
        s = shape(dense)[1:]
        g = b.reshape(dense, [*self.x_shape, *s])
        mask = self._band_mask(s, band)
        if mask is not None:
            g = b.select(mask, g, b.zeros_like(g))
        return b.reshape(b.reduce_sum(g, list(range(r))), list(s))

    def expand(self, p: SSAValue) -> SSAValue:
        """A primal-shaped value broadcast along the d rows of a dense gradient."""
        s = shape(p)
        return self.builder.broadcast_in_dim(p, [self.d, *s], list(range(1, len(s) + 1)))

    def map_bands(self, g: Grad, fn) -> Grad:
        """``fn(band) -> Band`` applied to every band of a banded gradient."""
        return _banded(fn(band) for band in g.bands)

    def scale(self, g: Grad | None, p: SSAValue) -> Grad | None:
        if g is None:
            return None
        if g.banded:
            return self.map_bands(g, lambda band: Band(self.builder.mul(band.value, p), band.axes, band.offset))
        return Grad(self.builder.mul(g.dense_value, self.expand(p)))

    def add(self, g: Grad | None, h: Grad | None) -> Grad | None:
        if g is None or h is None:
            return g if h is None else h
        if g.banded and h.banded:
            merged: dict[tuple, Band] = {band.key(): band for band in g.bands}
            for band in h.bands:
                same = merged.get(band.key())
                merged[band.key()] = band if same is None else Band(self.builder.add(same.value, band.value), band.axes, band.offset)
            if len(merged) <= MAX_BANDS:
                return _banded(merged.values())
        return Grad(self.builder.add(self.dense(g), self.dense(h)))

    def neg(self, g: Grad | None) -> Grad | None:
        if g is None:
            return None
        if g.banded:
            return self.map_bands(g, lambda band: Band(self.builder.neg(band.value), band.axes, band.offset))
        return Grad(self.builder.neg(g.dense_value))

    def _overlap(self, s: tuple[int, ...], u: Band, v: Band) -> SSAValue | bool:
        """Where two bands of values of shape s sit in the same row k: True, False (known
        statically) or an i1 mask of shape s."""
        if u.axes == v.axes:
            return u.offset == v.offset
        b = self.builder
        i32 = IntegerType(32)
        mask = None
        for a, c, da, dc in zip(u.axes, v.axes, u.offset, v.offset):
            if a == c:
                if da != dc:
                    return False
                continue
            left = b.iota(list(s), a, i32)
            right = b.iota(list(s), c, i32)
            if da - dc:
                right = b.add(right, b.constant(dc - da, right.type))
            eq = b.compare(left, right, "EQ")
            mask = eq if mask is None else b.insert(hlo.AndOp(mask, eq)).results[0]
        return True if mask is None else mask

    def inner(self, g: Grad, h: Grad) -> SSAValue | None:
        """sum_k G[k] H[k], of the values' shape (None: known to be zero)."""
        b = self.builder
        if g.banded and h.banded:
            total = None
            for u in g.bands:
                for v in h.bands:
                    where = self._overlap(shape(u.value), u, v)
                    if where is False:
                        continue
                    term = b.mul(u.value, v.value)
                    if where is not True:
                        term = b.select(where, term, b.zeros_like(term))
                    total = self.add_value(total, term)
            return total
        if h.banded:
            g, h = h, g
        if g.banded:
            total = None
            for u in g.bands:
                total = self.add_value(total, b.mul(u.value, self._extract(h.dense_value, u)))
            return total
        return b.reduce_sum(b.mul(g.dense_value, h.dense_value), [0])

    def _place(self, h: SSAValue, band: Band) -> SSAValue:
        """The dense gradient (d, *rest) of a value whose leading dimensions are the band's
        x dimensions (in x's order) at the band's offset: h padded into x's shape."""
        r = len(self.x_shape)
        sh = shape(h)
        low = [*band.offset, *([0] * (len(sh) - r))]
        high = [*(x - n - off for x, n, off in zip(self.x_shape, sh[:r], band.offset)), *([0] * (len(sh) - r))]
        if any(low) or any(high):
            h = self.builder.pad(h, self.builder.zeros(tensor(elem(h), [])), low, high)
        return self.builder.reshape(h, [self.d, *sh[r:]])

    def add_value(self, a: SSAValue | None, c: SSAValue | None) -> SSAValue | None:
        if a is None or c is None:
            return a if c is None else c
        return self.builder.add(a, c)

    def batched(self, op: Operation, operands: list[SSAValue], flags: list[bool]) -> SSAValue:
        """``op`` applied to operands of which the flagged ones are dense gradients."""
        if self.d == 1:  # the width-1 tangent form has no leading dimension
            squeezed = [self.builder.reshape(v, list(shape(v)[1:])) if f else v for v, f in zip(operands, flags)]
            out = self.clone_with(op, squeezed)
            return self.builder.reshape(out, [1, *shape(out)])
        rule = registry.BATCHED.get(type(op))
        if rule is None:
            raise unsupported(op, "no batched (width-N) forward rule for its gradient")
        return rule(self.batch, op, operands, flags)

    # ------------------------------------------------------------------ the walk

    def run_block(self, block: Block) -> None:
        for op in body_ops(block):
            self.visit(op)

    def visit(self, op: Operation) -> None:
        self.builder.location = op.location
        if not self.analysis.op_is_active(op) or not any(self.has_part(v) for v in used_values(op)):
            self.clone(op)
            return
        for v in [*op.operands, *op.results]:
            if is_differentiable_type(v) and not (isinstance(v.type, TensorType) and is_float_type(v.type.get_element_type())):
                raise unsupported(op, f"a value of type {v.type} (the mode handles real tensors)")
        cls = type(op)
        handler = _HANDLERS.get(cls)
        if handler is not None:
            handler(self, op)
            return
        rule = _partials_rule(op)
        if rule is not None:
            self.elementwise(op, rule)
            return
        if cls in LINEAR and not LINEAR[cls].multilinear:
            self.linear(op)
            return
        if cls in INACTIVE:
            self.clone(op)
            return
        raise unsupported(op)

    # ------------------------------------------------------------------ elementwise

    def elementwise(self, op: Operation, rule) -> None:
        new = self.clone(op)
        s = shape(new.results[0])
        active = [i for i, v in enumerate(op.operands) if self.has_part(v)]
        p, q = self.second_partials(op, rule, active)
        parts = {i: self._broadcast_parts(op.operands[i], s) for i in active}
        g: Grad | None = None
        lap: SSAValue | None = None
        b = self.builder
        for i in active:
            if p.get(i) is None:
                continue
            gi, li = parts[i]
            g = self.add(g, self.scale(gi, p[i]))
            if li is not None:
                lap = self.add_value(lap, b.mul(p[i], li))
        for n, i in enumerate(active):
            for j in active[n:]:
                gi, gj = parts[i][0], parts[j][0]
                if gi is None or gj is None:
                    continue
                # sum over ordered pairs: q_ij + q_ji for i != j
                qs = [q.get((i, j))] if i == j else [q.get((i, j)), q.get((j, i))]
                qs = [v for v in qs if v is not None]
                if not qs:
                    continue
                cross = self.inner(gi, gj)
                if cross is None:
                    continue
                coef = qs[0] if len(qs) == 1 else b.add(qs[0], qs[1])
                lap = self.add_value(lap, b.mul(coef, cross))
        self.set_parts(op.results[0], g, lap)

    def _broadcast_parts(self, v: SSAValue, s: tuple[int, ...]) -> tuple[Grad | None, SSAValue | None]:
        """The parts of an operand at the result's shape (a rank-0 operand of clamp is broadcast)."""
        g, lap = self.grads.get(v), self.laps.get(v)
        if shape(v) == s:
            return g, lap
        b = self.builder
        if g is not None:
            g = Grad(b.broadcast_in_dim(self.dense(g), [self.d, *s], [0]))
        if lap is not None:
            lap = b.broadcast_in_dim(lap, list(s), [])
        return g, lap

    def second_partials(self, op: Operation, rule, active: list[int]) -> tuple[dict[int, SSAValue | None], dict[tuple[int, int], SSAValue | None]]:
        """The partials p_i of ``op`` at its primal operands, and q_ij = d p_i / d x_j for
        the active j, by forward mode of the engine over the rule's partial expressions
        (built once in a scratch function)."""
        block = Block(arg_types=[v.type for v in op.operands])
        scratch_op = op.clone(value_mapper=dict(zip(op.operands, block.args)))
        block.add_op(scratch_op)
        partials = list(rule(Builder(block), list(block.args), scratch_op.results[0], op))
        kept = [i for i, v in enumerate(partials) if v is not None]
        block.add_op(func.ReturnOp(*[partials[i] for i in kept]))
        scratch = func.FuncOp("fwdlaplace_partials", FunctionType.from_lists([v.type for v in op.operands], [partials[i].type for i in kept]), Region(block))
        p: dict[int, SSAValue | None] = {}
        q: dict[tuple[int, int], SSAValue | None] = {}
        for j in active:
            analysis = ActivityAnalysis(scratch, [k == j for k in range(len(op.operands))], [True] * len(kept))
            sweep = ForwardSweep(self.ctx, analysis, self.builder)
            for arg, v in zip(block.args, op.operands):
                sweep.primals[arg] = self.primal(v)
            sweep.tangents[block.args[j]] = self.builder.ones_like(self.primal(op.operands[j]))
            try:
                sweep.run_block(block)
            except DiffError as e:
                raise unsupported(op, f"its partial derivatives could not be differentiated ({e})") from None
            for i in kept:
                p[i] = sweep.primal(partials[i])
                q[(i, j)] = sweep.tangent(partials[i])
        self.builder.location = op.location
        return p, q

    # ------------------------------------------------------------------ linear

    def linear(self, op: Operation) -> None:
        """Jointly linear ops: the op on the dense gradients (batched) and on the Laplacians."""
        rule = LINEAR[type(op)]
        diff = rule.operands if rule.operands is not None else tuple(range(len(op.operands)))
        self.clone(op)
        grads = list(self.primals[v] for v in op.operands)
        laps = list(grads)
        flags = [False] * len(grads)
        any_lap = False
        for i in diff:
            v = op.operands[i]
            if not is_differentiable_type(v):
                continue
            g = self.grads.get(v)
            grads[i] = self.dense(g) if g is not None else self.builder.zeros(self.rows_type(v.type))
            flags[i] = True
            lap = self.laps.get(v)
            any_lap |= lap is not None
            laps[i] = lap if lap is not None else self.builder.zeros(v.type)
        g = Grad(self.batched(op, grads, flags))
        lap = self.clone_with(op, laps) if any_lap else None
        self.set_parts(op.results[0], g, lap)

    def add_op(self, op: Operation) -> None:
        self.clone(op)
        a, c = op.operands
        self.set_parts(op.results[0], self.add(self.grads.get(a), self.grads.get(c)), self.add_value(self.laps.get(a), self.laps.get(c)))

    def subtract_op(self, op: Operation) -> None:
        self.clone(op)
        a, c = op.operands
        la, lc = self.laps.get(a), self.laps.get(c)
        lap = la if lc is None else (self.builder.neg(lc) if la is None else self.builder.sub(la, lc))
        self.set_parts(op.results[0], self.add(self.grads.get(a), self.neg(self.grads.get(c))), lap)

    def negate_op(self, op: Operation) -> None:
        self.clone(op)
        (a,) = op.operands
        lap = self.laps.get(a)
        self.set_parts(op.results[0], self.neg(self.grads.get(a)), None if lap is None else self.builder.neg(lap))

    def convert_op(self, op: Operation) -> None:
        new = self.clone(op)
        (a,) = op.operands
        e = elem(new.results[0])
        b = self.builder
        g, lap = self.grads.get(a), self.laps.get(a)
        if g is not None:
            g = self.map_bands(g, lambda band: Band(b.convert(band.value, e), band.axes, band.offset)) if g.banded else Grad(b.convert(g.dense_value, e))
        self.set_parts(op.results[0], g, None if lap is None else b.convert(lap, e))

    def multiply_op(self, op: Operation) -> None:
        """a * c: G = c G_a + a G_c, L = c L_a + a L_c + 2 <G_a, G_c>"""
        self.clone(op)
        a, c = op.operands
        b = self.builder
        pa, pc = self.primal(a), self.primal(c)
        ga, gc = self.grads.get(a), self.grads.get(c)
        la, lc = self.laps.get(a), self.laps.get(c)
        g = self.add(self.scale(ga, pc), self.scale(gc, pa))
        lap = None
        if la is not None:
            lap = b.mul(pc, la)
        if lc is not None:
            lap = self.add_value(lap, b.mul(pa, lc))
        if ga is not None and gc is not None:
            cross = self.inner(ga, gc)
            if cross is not None:
                lap = self.add_value(lap, b.add(cross, cross))
        self.set_parts(op.results[0], g, lap)

    def select_op(self, op: Operation) -> None:
        self.clone(op)
        pred, a, c = op.operands
        b = self.builder
        pp = self.primal(pred)
        ga, gc = self.grads.get(a), self.grads.get(c)
        g = None
        if ga is not None or gc is not None:
            if all(h is None or h.banded for h in (ga, gc)):
                on_true = {band.key(): band for band in (ga.bands if ga is not None else ())}
                on_false = {band.key(): band for band in (gc.bands if gc is not None else ())}
                bands = []
                for key in [*on_true, *(k for k in on_false if k not in on_true)]:
                    u, v = on_true.get(key), on_false.get(key)
                    some = u if u is not None else v
                    bands.append(Band(b.select(pp, u.value if u is not None else b.zeros_like(some.value), v.value if v is not None else b.zeros_like(some.value)), *key))
                g = _banded(bands)
            else:
                rows = self.rows_type(op.results[0].type)
                va = self.dense(ga) if ga is not None else b.zeros(rows)
                vc = self.dense(gc) if gc is not None else b.zeros(rows)
                pe = self.expand(pp) if shape(pp) != () else pp
                g = Grad(b.select(pe, va, vc))
        la, lc = self.laps.get(a), self.laps.get(c)
        lap = None
        if la is not None or lc is not None:
            lap = b.select(pp, la if la is not None else b.zeros(a.type), lc if lc is not None else b.zeros(c.type))
        self.set_parts(op.results[0], g, lap)

    def broadcast_in_dim_op(self, op: hlo.BroadcastInDimOp) -> None:
        new = self.clone(op)
        (a,) = op.operands
        b = self.builder
        dims = list(op.broadcast_dimensions.get_values())
        s_in, s_out = shape(a), shape(new.results[0])
        g, lap = self.grads.get(a), self.laps.get(a)
        if g is not None:
            if g.banded and all(s_in[ax] == s_out[dims[ax]] for band in g.bands for ax in band.axes):
                g = self.map_bands(g, lambda band: Band(b.broadcast_in_dim(band.value, list(s_out), dims), tuple(dims[ax] for ax in band.axes), band.offset))
            else:
                g = Grad(b.broadcast_in_dim(self.dense(g), [self.d, *s_out], [0, *(x + 1 for x in dims)]))
        if lap is not None:
            lap = b.broadcast_in_dim(lap, list(s_out), dims)
        self.set_parts(op.results[0], g, lap)

    def transpose_op(self, op: hlo.TransposeOp) -> None:
        self.clone(op)
        (a,) = op.operands
        b = self.builder
        perm = list(op.permutation.get_values())
        g, lap = self.grads.get(a), self.laps.get(a)
        if g is not None:
            if g.banded:
                g = self.map_bands(g, lambda band: Band(b.transpose(band.value, perm), tuple(perm.index(ax) for ax in band.axes), band.offset))
            else:
                g = Grad(b.transpose(g.dense_value, [0, *(p + 1 for p in perm)]))
        if lap is not None:
            lap = b.transpose(lap, perm)
        self.set_parts(op.results[0], g, lap)

    def reshape_op(self, op: hlo.ReshapeOp) -> None:
        new = self.clone(op)
        (a,) = op.operands
        b = self.builder
        s_in, s_out = shape(a), shape(new.results[0])
        g, lap = self.grads.get(a), self.laps.get(a)
        if g is not None:
            moved = [_reshape_axes(s_in, s_out, band.axes) for band in g.bands] if g.banded else [None]
            if all(axes is not None for axes in moved):
                g = _banded(Band(b.reshape(band.value, list(s_out)), axes, band.offset) for band, axes in zip(g.bands, moved))
            else:
                g = Grad(b.reshape(self.dense(g), [self.d, *s_out]))
        if lap is not None:
            lap = b.reshape(lap, list(s_out))
        self.set_parts(op.results[0], g, lap)

    def slice_op(self, op: hlo.SliceOp) -> None:
        """Slicing along x's dimensions (stride 1) shifts the bands' offsets."""
        (a,) = op.operands
        g = self.grads.get(a)
        start, limit, strides = (list(v.get_values()) for v in (op.start_indices, op.limit_indices, op.strides))
        if g is None or not g.banded or any(strides[ax] != 1 for band in g.bands for ax in band.axes):
            self.linear(op)
            return
        self.clone(op)
        b = self.builder
        lap = self.laps.get(a)

        def shifted(band: Band) -> Band:
            offset = tuple(off + start[ax] for ax, off in zip(band.axes, band.offset))
            return Band(b.slice(band.value, start, limit, strides), band.axes, offset)

        g = self.map_bands(g, shifted)
        self.set_parts(op.results[0], g, None if lap is None else b.slice(lap, start, limit, strides))

    def pad_op(self, op: hlo.PadOp) -> None:
        """Padding (no interior padding along x's dimensions) shifts the bands' offsets."""
        a, value = op.operands
        g = self.grads.get(a)
        low, high, interior = (list(v.get_values()) for v in (op.edge_padding_low, op.edge_padding_high, op.interior_padding))
        if g is None or not g.banded or self.has_part(value) or any(interior[ax] for band in g.bands for ax in band.axes):
            self.linear(op)
            return
        self.clone(op)
        b = self.builder
        zero = b.zeros(tensor(elem(a), []))
        lap = self.laps.get(a)

        def shifted(band: Band) -> Band:
            offset = tuple(off - low[ax] for ax, off in zip(band.axes, band.offset))
            return Band(b.pad(band.value, zero, low, high, interior), band.axes, offset)

        g = self.map_bands(g, shifted)
        self.set_parts(op.results[0], g, None if lap is None else b.pad(lap, zero, low, high, interior))

    def concatenate_op(self, op: hlo.ConcatenateOp) -> None:
        """Each operand's bands padded to the result (shifted along x's dimensions), summed."""
        grads = [self.grads.get(v) for v in op.operands]
        if not all(h is None or h.banded for h in grads):
            self.linear(op)
            return
        new = self.clone(op)
        b = self.builder
        dim = op.dimension.value.data
        total = shape(new.results[0])[dim]
        zero = b.zeros(tensor(elem(new.results[0]), []))
        g: Grad | None = None
        begin = 0
        for v, h in zip(op.operands, grads):
            size = shape(v)[dim]
            if h is not None:
                low = [0] * len(shape(v))
                high = [0] * len(shape(v))
                low[dim], high[dim] = begin, total - begin - size

                def shifted(band: Band, low=low, high=high) -> Band:
                    offset = tuple(off - low[ax] for ax, off in zip(band.axes, band.offset))
                    return Band(b.pad(band.value, zero, low, high), band.axes, offset)

                g = self.add(g, self.map_bands(h, shifted))
            begin += size
        laps = [self.laps.get(v) for v in op.operands]
        lap = None
        if any(l is not None for l in laps):
            lap = b.concatenate([l if l is not None else b.zeros(v.type) for l, v in zip(laps, op.operands)], dim)
        self.set_parts(op.results[0], g, lap)

    # ------------------------------------------------------------------ loops

    def while_op(self, op: hlo.WhileOp) -> None:
        """The loop carries, next to each active value, its dense gradient and its
        Laplacian; the body is swept like the function."""
        body = op.body.block
        act = [i for i, a in enumerate(body.args) if self.analysis.is_active(a)]
        init = [self.primal(v) for v in op.operand]
        init += [self.dense_or_zero(op.operand[i]) for i in act] + [self.lap_or_zero(op.operand[i]) for i in act]
        types = [v.type for v in init]
        n = len(op.operand)

        cond_block = Block(arg_types=types)
        cond = self.child(Builder(cond_block))
        for a, v in zip(op.cond.block.args, cond_block.args[:n]):
            cond.primals[a] = v
        cond.run_block(op.cond.block)
        cond_block.add_op(hlo.ReturnOp([cond.primal(terminator(op.cond.block).operands[0])]))

        body_block = Block(arg_types=types)
        inner = self.child(Builder(body_block))
        self._bind_carried(inner, body.args, body_block.args, act)
        inner.run_block(body)
        out = terminator(body).operands
        yields = [inner.primal(v) for v in out] + [inner.dense_or_zero(out[i]) for i in act] + [inner.lap_or_zero(out[i]) for i in act]
        body_block.add_op(hlo.ReturnOp(yields))

        new = self.builder.insert(hlo.WhileOp.create(operands=init, result_types=types, regions=[Region(cond_block), Region(body_block)]))
        self._bind_carried(self, op.results, new.results, act)

    def branch_op(self, op: Operation) -> None:
        """stablehlo.if / case: each branch returns, next to its results, the dense
        gradients and the Laplacians of the active ones."""
        act = [i for i, r in enumerate(op.results) if self.analysis.is_active(r)]
        regions = []
        for region in op.regions:
            block = Block()
            sub = self.child(Builder(block))
            sub.run_block(region.block)
            outs = terminator(region.block).operands
            yields = [sub.primal(v) for v in outs] + [sub.dense_or_zero(outs[i]) for i in act] + [sub.lap_or_zero(outs[i]) for i in act]
            block.add_op(hlo.ReturnOp(yields))
            regions.append(Region(block))
        types = [r.type for r in op.results] + [self.rows_type(op.results[i].type) for i in act] + [op.results[i].type for i in act]
        new = type(op).create(
            operands=[self.primal(v) for v in op.operands], result_types=types, properties=dict(op.properties), attributes=dict(op.attributes), regions=regions
        )
        self.builder.insert(new)
        self._bind_carried(self, op.results, new.results, act)

    @staticmethod
    def _bind_carried(sweep: LaplaceSweep, values, new, act: list[int]) -> None:
        """``new`` holds the primals of ``values``, then the gradients and the Laplacians
        of ``values[i]`` for ``i`` in ``act``."""
        n, m = len(values), len(act)
        for v, p in zip(values, new[:n]):
            sweep.primals[v] = p
        for k, i in enumerate(act):
            sweep.grads[values[i]] = Grad(new[n + k])
            sweep.laps[values[i]] = new[n + m + k]

    # ------------------------------------------------------------------ reduce

    def reduce_op(self, op: hlo.ReduceOp) -> None:
        from .rules.control import reduce_kind

        try:
            kind = reduce_kind(op)
        except DiffError:
            raise unsupported(op, "the reduction body is not add, maximum or minimum") from None
        if len(op.inputs) != 1 or kind not in ("sum", "max", "min"):
            raise unsupported(op, f"a {kind} reduction of {len(op.inputs)} input(s) (the mode handles sum, max and min of one input)")
        new = self.clone(op)
        b = self.builder
        x, init = op.inputs[0], op.init_values[0]
        dims = sorted(op.dimensions.get_values())
        s_in, s_out = shape(x), shape(new.results[0])
        kept = [k for k in range(len(s_in)) if k not in dims]
        g, lap = self.grads.get(x), self.laps.get(x)
        if kind == "sum":
            g = self._reduce_grad(g, dims, kept)
            lap = None if lap is None else b.reduce_sum(lap, dims)
            g_init, l_init = self.grads.get(init), self.laps.get(init)
            if g_init is not None:
                g = self.add(g, Grad(b.broadcast_in_dim(self.dense(g_init), [self.d, *s_out], [0])))
            if l_init is not None:
                lap = self.add_value(lap, b.broadcast_in_dim(l_init, list(s_out), []))
            self.set_parts(op.results[0], g, lap)
            return
        if self.has_part(init):
            raise unsupported(op, "the init value of a max/min reduction depends on the input")
        px = self.primal(x)
        mask = b.compare(px, b.broadcast_in_dim(new.results[0], list(s_in), kept), "EQ")
        ones = b.select(mask, b.ones_like(px), b.zeros_like(px))
        counts = b.reduce_sum(ones, dims)
        weight = b.div(ones, b.broadcast_in_dim(counts, list(s_in), kept))  # ties split evenly
        g = self._reduce_grad(self.scale(g, weight), dims, kept)
        lap = None if lap is None else b.reduce_sum(b.mul(lap, weight), dims)
        self.set_parts(op.results[0], g, lap)

    def _reduce_grad(self, g: Grad | None, dims: list[int], kept: list[int]) -> Grad | None:
        """The gradient of a sum over ``dims``."""
        if g is None:
            return None
        b = self.builder
        if g.banded:
            if not any(a in dims for band in g.bands for a in band.axes):
                return self.map_bands(g, lambda band: Band(b.reduce_sum(band.value, dims), tuple(kept.index(a) for a in band.axes), band.offset))
            if all(a in dims for band in g.bands for a in band.axes):
                # row k of the sum: the sum of the entries whose x-position is k: no d x size array
                total = None
                for band in g.bands:
                    h = b.reduce_sum(band.value, [k for k in dims if k not in band.axes])
                    left = sorted(set(kept) | set(band.axes))
                    h = b.transpose(h, [left.index(a) for a in band.axes] + [left.index(k) for k in kept])
                    term = self._place(h, band)
                    total = term if total is None else b.add(total, term)
                return Grad(total)
        return Grad(b.reduce_sum(self.dense(g), [k + 1 for k in dims]))

    # ------------------------------------------------------------------ dot_general

    def dot_general_op(self, op: hlo.DotGeneralOp) -> None:
        """G = G_a . c + a . G_c,  L = L_a . c + a . L_c + 2 sum_k G_a[k] . G_c[k]"""
        new = self.clone(op)
        b = self.builder
        out = new.results[0]
        a, c = op.operands
        pa, pc = self.primal(a), self.primal(c)
        ga, gc = self.grads.get(a), self.grads.get(c)
        la, lc = self.laps.get(a), self.laps.get(c)
        g = None
        if ga is not None:
            g = self.add(g, self._dot_grad(op, ga, pc, 0))
        if gc is not None:
            g = self.add(g, self._dot_grad(op, gc, pa, 1))
        lap = None
        if la is not None:
            lap = self.clone_with(op, [la, pc])
        if lc is not None:
            lap = self.add_value(lap, self.clone_with(op, [pa, lc]))
        if ga is not None and gc is not None:
            dn = op.dot_dimension_numbers
            shift = lambda ds: [k + 1 for k in ds]  # noqa: E731
            cross = b.dot_general(
                self.dense(ga),
                self.dense(gc),
                shift(dn.lhs_batching_dimensions),
                shift(dn.rhs_batching_dimensions),
                [0, *shift(dn.lhs_contracting_dimensions)],
                [0, *shift(dn.rhs_contracting_dimensions)],
                elem(out),
                op.precision_config,
            )
            lap = self.add_value(lap, b.add(cross, cross))
        self.set_parts(op.results[0], g, lap)

    def _dot_grad(self, op: hlo.DotGeneralOp, g: Grad, other: SSAValue, side: int) -> Grad:
        """The gradient of dot_general through operand ``side`` (0: lhs, 1: rhs)."""
        dn = op.dot_dimension_numbers
        mc = list(dn.lhs_contracting_dimensions if side == 0 else dn.rhs_contracting_dimensions)
        if g.banded:
            inside = [[ax in mc for ax in band.axes] for band in g.bands]
            if all(all(flags) or not any(flags) for flags in inside):
                total: Grad | None = None
                for band in g.bands:
                    total = self.add(total, self._dot_band(op, band, other, side))
                return total
        operands = [self.dense(g), other] if side == 0 else [other, self.dense(g)]
        return Grad(self.batched(op, operands, [side == 0, side == 1]))

    def _dot_band(self, op: hlo.DotGeneralOp, band: Band, other: SSAValue, side: int) -> Grad:
        """One band through dot_general: it passes through when x's dimensions are free or
        batch dimensions; when they are all contracted, row k is the product of the
        entries at x-position k (no d x d product)."""
        b = self.builder
        dn = op.dot_dimension_numbers
        lb, rb = list(dn.lhs_batching_dimensions), list(dn.rhs_batching_dimensions)
        lc, rc = list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)
        mb, ob, mc, oc = (lb, rb, lc, rc) if side == 0 else (rb, lb, rc, lc)
        g, axes = band.value, band.axes
        g_shape, o_shape = shape(g), shape(other)
        mfree = [k for k in range(len(g_shape)) if k not in mb and k not in mc]
        ofree = [k for k in range(len(o_shape)) if k not in ob and k not in oc]
        nb = len(mb)
        base = nb if side == 0 else nb + len(ofree)
        out_elem = elem(op.results[0])
        if not any(ax in mc for ax in axes):
            lhs, rhs = (g, other) if side == 0 else (other, g)
            value = b.dot_general(lhs, rhs, lb, rb, lc, rc, out_elem, op.precision_config)
            return _banded([Band(value, tuple(mb.index(ax) if ax in mb else base + mfree.index(ax) for ax in axes), band.offset)])
        o_axes = [oc[mc.index(ax)] for ax in axes]
        mc_rest = [k for k in mc if k not in axes]
        oc_rest = [oc[mc.index(k)] for k in mc_rest]
        if mc_rest or mb:
            if side == 0:
                value = b.dot_general(g, other, [*axes, *mb], [*o_axes, *ob], mc_rest, oc_rest, out_elem, op.precision_config)
            else:
                value = b.dot_general(other, g, [*o_axes, *ob], [*axes, *mb], oc_rest, mc_rest, out_elem, op.precision_config)
            return Grad(self._place(value, band))
        # no contraction left: an outer product per x-position (x @ W -> W when g is ones)
        r = len(axes)
        sa = [g_shape[ax] for ax in axes]
        g_free, o_free = [g_shape[k] for k in mfree], [o_shape[k] for k in ofree]
        out_dims = [*sa, *g_free, *o_free] if side == 0 else [*sa, *o_free, *g_free]
        g_pos = r if side == 0 else r + len(ofree)
        o_pos = r + len(mfree) if side == 0 else r
        g_map = [0] * len(g_shape)
        for j, ax in enumerate(axes):
            g_map[ax] = j
        for i, k in enumerate(mfree):
            g_map[k] = g_pos + i
        o_map = [0] * len(o_shape)
        for j, k in enumerate(o_axes):
            o_map[k] = j
        for i, k in enumerate(ofree):
            o_map[k] = o_pos + i
        spread = b.broadcast_in_dim(b.convert(other, out_elem), out_dims, o_map)
        if not _is_ones(g):
            spread = b.mul(b.broadcast_in_dim(b.convert(g, out_elem), out_dims, g_map), spread)
        return Grad(self._place(spread, band))


def _is_ones(v: SSAValue) -> bool:
    value = constant_value(v)
    return value is not None and value.size > 0 and bool((value == 1).all())


def _reshape_axes(s_in: tuple[int, ...], s_out: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...] | None:
    """Where a diagonal gradient's axes go through a reshape that only inserts or removes
    dimensions of size 1 (None for any other reshape)."""
    nz_in = [k for k, n in enumerate(s_in) if n != 1]
    nz_out = [k for k, n in enumerate(s_out) if n != 1]
    if [s_in[k] for k in nz_in] != [s_out[k] for k in nz_out] or any(s_in[a] == 1 for a in axes):
        return None
    return tuple(nz_out[nz_in.index(a)] for a in axes)


def _abs_partials(b: Builder, xs, ans, op):
    from .rules.elementwise import abs_partial

    return [abs_partial(b, xs[0])]


def _partials_rule(op: Operation):
    """The first-order partials of an elementwise op: the registry's, or |x|' for a real
    stablehlo.abs (a custom rule in the registry, for its complex case)."""
    rule = ELEMENTWISE.get(type(op))
    if rule is not None:
        return rule.partials
    if isinstance(op, hlo.AbsOp) and is_float_type(elem(op.operands[0])):
        return _abs_partials
    return None


_HANDLERS = {
    hlo.AddOp: LaplaceSweep.add_op,
    arith.AddfOp: LaplaceSweep.add_op,
    hlo.SubtractOp: LaplaceSweep.subtract_op,
    arith.SubfOp: LaplaceSweep.subtract_op,
    hlo.NegateOp: LaplaceSweep.negate_op,
    arith.NegfOp: LaplaceSweep.negate_op,
    hlo.ConvertOp: LaplaceSweep.convert_op,
    hlo.MultiplyOp: LaplaceSweep.multiply_op,
    arith.MulfOp: LaplaceSweep.multiply_op,
    hlo.SelectOp: LaplaceSweep.select_op,
    hlo.BroadcastInDimOp: LaplaceSweep.broadcast_in_dim_op,
    hlo.TransposeOp: LaplaceSweep.transpose_op,
    hlo.ReshapeOp: LaplaceSweep.reshape_op,
    hlo.ReduceOp: LaplaceSweep.reduce_op,
    hlo.SliceOp: LaplaceSweep.slice_op,
    hlo.PadOp: LaplaceSweep.pad_op,
    hlo.ConcatenateOp: LaplaceSweep.concatenate_op,
    hlo.WhileOp: LaplaceSweep.while_op,
    hlo.IfOp: LaplaceSweep.branch_op,
    hlo.CaseOp: LaplaceSweep.branch_op,
    hlo.DotGeneralOp: LaplaceSweep.dot_general_op,
}
