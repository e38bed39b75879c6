"""The AD engine: generates forward-mode (``fwddiffe<fn>``) and reverse-mode
(``diffe<fn>``) derivative functions from a function and its activities.

Forward mode walks the function once, cloning each primal op and computing the tangents
of its active results. Reverse mode clones the function (the forward sweep), then walks
it backwards accumulating adjoints (the reverse sweep); values the reverse sweep does not
read are removed by dead-code elimination afterwards. Loops store the per-iteration state
the reverse sweep needs in preallocated tensors (see ``rules/control.py``).

Functions that use memory (memref arguments or ops) get ``MemoryActivity`` and Enzyme's
shadow memory (``rules/memref.py``): a dup memref argument is followed by its shadow in
the generated function's arguments, and the memory rules run for every op that touches a
buffer with a shadow (``_memory_rule``), before the tiers of the registry.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Sequence

from xdsl.dialects import func
from xdsl.dialects.builtin import ComplexType, IntegerType, MemRefType, ModuleOp, StringAttr, TensorType, UnregisteredOp
from xdsl.ir import Attribute, Block, Operation, SSAValue

from ..analysis.activity import ActivityAnalysis, is_differentiable_type
from ..ir.query import body_ops, describe_location, free_values, terminator
from ..ir.builder import Builder, elem, is_tensor, shape
from ..ir.dense import is_float_type
from ..ir.enzyme import ACTIVE, ACTIVENONEED, CONST, CONSTNONEED, CUSTOM_RULE_ATTRS, DUP, DUPNONEED, Activity, add_func
from . import registry
from .errors import DiffError, NoBatchedRule, missing_rule
from .registry import CUSTOM, ELEMENTWISE, INACTIVE, LINEAR
from .unroll import unroll_counted_loops


# ============================================================================ context


class DiffContext:
    """Per-module state: the functions, and the derivative functions generated so far."""

    def __init__(self, module: ModuleOp):
        registry.load_rules()
        self.module = module
        self.generated: dict[tuple, str] = {}
        self.strong_zero = False
        """Enzyme's ``strong_zero`` for what is generated now (the enzyme op's attribute,
        set by the enzyme pass): products of a derivative and a partial are
        ``select(d == 0, 0, d * partial)`` (``strong_zero_product``); the callees it
        differentiates inherit it, and it is part of each generated function's key."""

    def func(self, name: str) -> func.FuncOp:
        for op in self.module.ops:
            if isinstance(op, func.FuncOp) and op.sym_name.data == name:
                return op
        raise DiffError(f"no function @{name} to differentiate")

    def unique_name(self, base: str) -> str:
        names = {op.sym_name.data for op in self.module.ops if isinstance(op, func.FuncOp)}
        name, k = base, 1
        while name in names:
            name, k = f"{base}_{k}", k + 1
        return name

    def add_func(self, name: str, inputs: Sequence[Attribute], outputs: Sequence[Attribute]) -> tuple[func.FuncOp, Block]:
        """A new private function of the module (ir/enzyme.py's ``add_func``) and its entry block."""
        return add_func(self.module, name, inputs, outputs, visibility="private")

    # ------------------------------------------------------------------ forward

    def forward_function(self, name: str, arg_kinds: Sequence[Activity], ret_kinds: Sequence[Activity], width: int = 1) -> str:
        key = ("fwd", name, tuple(arg_kinds), tuple(ret_kinds), width, self.strong_zero)
        if key in self.generated:
            return self.generated[key]
        primal = _inline_memory_calls(self.module, self.func(name))
        new_name = self.unique_name(f"fwddiffe{name}" if width == 1 else f"fwddiffe{width}{name}")
        self.generated[key] = new_name
        ft = primal.function_type
        arg_types, ret_types = list(ft.inputs.data), list(ft.outputs.data)
        ins: list[Attribute] = []
        for t, k in zip(arg_types, arg_kinds):
            ins.append(t)
            if k in (DUP, DUPNONEED):
                ins.append(batched_type(t, width))
        outs: list[Attribute] = []
        for t, k in zip(ret_types, ret_kinds):
            if k in (CONST, DUP):
                outs.append(t)
            if k in (DUP, DUPNONEED):
                outs.append(batched_type(t, width))
        fn, block = self.add_func(new_name, ins, outs)
        src = primal.body.blocks.first
        dups = [k in (DUP, DUPNONEED) for k in arg_kinds]
        analysis = _analysis(primal, dups, [k in (DUP, DUPNONEED) for k in ret_kinds], dups, reverse=False)
        if width != 1 and _has_memory(analysis):
            raise DiffError(f"@{name}: forward mode with width {width} of a function that uses memory (memref) is not supported; use width 1")
        sweep = ForwardSweep(self, analysis, Builder(block), width)
        it = iter(block.args)
        for arg, k in zip(src.args, arg_kinds):
            sweep.primals[arg] = next(it)
            if k in (DUP, DUPNONEED):
                t = next(it)
                if is_differentiable_type(arg) or arg in getattr(analysis, "shadowed", ()):
                    sweep.tangents[arg] = t  # a buffer's tangent is the buffer of its elements' tangents
        sweep.run_block(src)
        results: list[SSAValue] = []
        for v, k in zip(terminator(src).operands, ret_kinds):
            if k in (CONST, DUP):
                results.append(sweep.primal(v))
            if k in (DUP, DUPNONEED):
                results.append(sweep.tangent_or_zero(v))
        block.add_op(func.ReturnOp(*results))
        return new_name

    # ------------------------------------------------------------------ reverse

    def reverse_function(self, name: str, arg_kinds: Sequence[Activity], ret_kinds: Sequence[Activity], transposing: bool = False, width: int = 1) -> str:
        """``diffe<name>``. ``transposing``: the function is a custom_jvp rule being
        reversed in its tangents (a transposition); custom_jvp functions applied to
        tangents inside it are then differentiated through their bodies, as jax transposes
        them (their own rules would ask for the same transposition again, without end).
        ``width`` N > 1: batched reverse mode, each seed and gradient (and every adjoint of
        the sweep) carries N cotangents in a leading dimension (``diffe<N><name>``)."""
        key = ("rev", name, tuple(arg_kinds), tuple(ret_kinds), transposing, width, self.strong_zero)
        if key in self.generated:
            return self.generated[key]
        primal = _inline_memory_calls(self.module, self.func(name))
        if any(op.name == "scf.for" for op in primal.walk()):
            primal = primal.clone()  # short counted scf.for loops are unrolled, in a copy (ad/unroll.py)
            unroll_counted_loops(primal)
        new_name = self.unique_name(f"diffe{name}" if width == 1 else f"diffe{width}{name}")
        self.generated[key] = new_name
        ft = primal.function_type
        arg_types, ret_types = list(ft.inputs.data), list(ft.outputs.data)
        for t, k in zip(arg_types, arg_kinds):
            if k == ACTIVE and not is_differentiable_type(SSAValueOfType(t)):
                raise DiffError(f"@{name}: an argument of type {t} is marked enzyme_active, but only float arguments can be active")
        seeds = [batched_type(t, width) for t, k in zip(ret_types, ret_kinds) if k in (ACTIVE, ACTIVENONEED)]
        dups = [k in (DUP, DUPNONEED) for k in arg_kinds]
        ins: list[Attribute] = []
        for t, dup in zip(arg_types, dups):
            ins += [t, t] if dup else [t]  # a dup memref's shadow follows it (Enzyme's layout)
        ins += seeds
        outs = [t for t, k in zip(ret_types, ret_kinds) if k in (ACTIVE, CONST)]
        outs += [batched_type(t, width) for t, k in zip(arg_types, arg_kinds) if k == ACTIVE]
        fn, block = self.add_func(new_name, ins, outs)
        src = primal.body.blocks.first
        useful = [k in (ACTIVE, ACTIVENONEED) for k in ret_kinds]
        analysis = _analysis(primal, [k == ACTIVE for k in arg_kinds], useful, dups, reverse=True)
        if width != 1 and (_has_memory(analysis) or any(dups)):
            raise DiffError(f"@{name}: reverse mode with width {width} of a function that uses memory (memref) is not supported; use width 1")
        sweep = ReverseSweep(self, analysis, Builder(block), transposing, width)
        it = iter(block.args)
        for arg, dup in zip(src.args, dups):
            sweep.primals[arg] = next(it)
            if dup:
                shadow = next(it)
                if arg in analysis.shadowed:  # type: ignore[attr-defined]
                    analysis.shadows[arg] = shadow  # type: ignore[attr-defined]
        sweep.forward_block(src)
        ret = terminator(src)
        seed_values = iter(block.args[len(ins) - len(seeds):])
        for v, k in zip(ret.operands, ret_kinds):
            if k in (ACTIVE, ACTIVENONEED):
                sweep.add_adjoint(v, next(seed_values))
        sweep.reverse_block(src)
        results = [sweep.primal(v) for v, k in zip(ret.operands, ret_kinds) if k in (ACTIVE, CONST)]
        results += [sweep.adjoint_or_zero(a) for a, k in zip(src.args, arg_kinds) if k == ACTIVE]
        block.add_op(func.ReturnOp(*results))
        return new_name


def _uses_memory(fn: func.FuncOp) -> bool:
    from .rules.memref import uses_memory

    return uses_memory(fn)


def _analysis(fn: func.FuncOp, active_args: Sequence[bool], useful: Sequence[bool], dups: Sequence[bool], reverse: bool) -> ActivityAnalysis:
    """The activity analysis of ``fn``; with memory (memref arguments or ops), the one that
    follows buffers and their shadows (rules/memref.py)."""
    if not fn.body.blocks:
        raise DiffError(f"cannot differentiate a call of @{fn.sym_name.data}: it is a declaration without a body and has no derivative rule")
    if not _uses_memory(fn):
        return ActivityAnalysis(fn, active_args, useful)
    from .rules.memref import MemoryActivity

    return MemoryActivity(fn, active_args, useful, dups, reverse)


def _inline_memory_calls(module: ModuleOp, fn: func.FuncOp) -> func.FuncOp:
    """``fn``, or a copy of it in which the calls that pass memrefs are inlined
    (rules/memref.py): the shadows follow the buffers into the callees' bodies."""
    if not any(isinstance(op, func.CallOp) and any(isinstance(v.type, MemRefType) for v in op.operands) for op in fn.walk()):
        return fn
    from .rules.memref import inline_memory_calls

    return inline_memory_calls(module, fn)


def _check_callee_body(ctx: DiffContext, op: Operation) -> None:
    """An active call of a declaration (a function without a body and without a
    derivative rule) is refused here, where the call's location is known; so is an active
    op of an unregistered dialect (``--allow-unregistered-dialect``), whose meaning is
    unknown (an inactive one is copied as it is)."""
    if isinstance(op, UnregisteredOp):
        raise DiffError(f"cannot differentiate through the unregistered op '{op.op_name.data}' at {describe_location(op)}: its derivative is unknown (the op is active)")
    if not isinstance(op, func.CallOp):
        return
    name = op.callee.root_reference.data
    fn = ctx.func(name)
    if fn.body.blocks or any(a in fn.attributes for a in CUSTOM_RULE_ATTRS):
        return
    raise DiffError(f"cannot differentiate the call at {describe_location(op)} of @{name}: it is a declaration without a body and has no derivative rule")


def _has_memory(analysis: ActivityAnalysis) -> bool:
    return bool(getattr(analysis, "shadowed", None))


def _memory_rule(analysis: ActivityAnalysis, op: Operation):
    """The memory rule of ``op`` when it touches a buffer with a shadow (MemoryActivity),
    else None (rules/memref.py: the memory ops, and scf.for / scf.if over memory in
    reverse mode)."""
    touches = getattr(analysis, "touches_shadow", None)
    if touches is None or not touches(op):
        return None
    from .rules.memref import MEMORY

    return MEMORY.get(type(op))


def strong_zero_product(b: Builder, d: SSAValue, product: SSAValue) -> SSAValue:
    """``select(d == 0, 0, product)``: the product of the derivative ``d`` (a tangent or
    cotangent) and a partial, 0 where ``d`` is 0 even when the partial is inf or nan
    (Enzyme's ``strong_zero``). ``d`` and ``product`` have one type."""
    if is_tensor(d):
        kind = "FLOAT" if isinstance(elem(d), ComplexType) else None
    elif is_float_type(d.type):
        kind = None
    else:
        return product  # a scalar of the complex dialect: no comparison to build
    zero = b.zeros_like(d)
    return b.select(b.compare(d, zero, "EQ", kind), zero if zero.type == product.type else b.zeros_like(product), product)


_MULTIPLY_NAMES = ("stablehlo.multiply", "arith.mulf")
"""The multilinear ops whose derivative products ``strong_zero`` guards (elementwise
products of a derivative and a primal)."""


_STRONG_ZERO_SAFE = frozenset(
    {
        "stablehlo.while", "stablehlo.if", "stablehlo.case", "func.call", "scf.for", "scf.if", "scf.while", "scf.parallel",
        "scf.execute_region", "stablehlo.sort", "stablehlo.gather", "stablehlo.optimization_barrier",
    }
)
"""Ops whose derivative rules multiply no derivative by a partial of their own (control
flow differentiates its bodies op by op, which guards their products; sort and gather
move values): safe under ``strong_zero``."""

_STRONG_ZERO_COMBINERS = ("AddOp", "MaxOp", "MinOp")
"""Reduces (and windows) whose derivative moves or sums cotangents without products."""


def check_strong_zero(ctx, op: Operation, multilinear: bool = False) -> None:
    """Refuse, under ``strong_zero``, an op whose derivative rule multiplies a derivative
    by a partial without the strong-zero guard (contractions, products, factorizations):
    its result would be nan where strong_zero promises 0."""
    if not ctx.strong_zero or op.name in _MULTIPLY_NAMES or op.name in _STRONG_ZERO_SAFE:
        return
    combiner = getattr(op, "combiner", None)
    if not multilinear and callable(combiner):
        kind = combiner()
        if isinstance(kind, type) and kind.__name__ in _STRONG_ZERO_COMBINERS:
            return
    raise DiffError(
        f"cannot differentiate '{op.name}' at {describe_location(op)} with strong_zero: its derivative rule multiplies "
        "derivatives by partials without the strong-zero guard (only elementwise ops, multiply, control flow, sort, "
        "gather and add/max/min reduces keep strong_zero)"
    )


def batched_type(t: Attribute, width: int) -> Attribute:
    """The type of ``width`` tangents of a value of type ``t``: a leading dimension."""
    if width == 1:
        return t
    if isinstance(t, TensorType):
        return TensorType(t.get_element_type(), [width, *t.get_shape()])
    return TensorType(t, [width])


class SSAValueOfType:
    """A stand-in with a ``type`` for type predicates that take values."""

    def __init__(self, t: Attribute):
        self.type = t


class _Sweep:
    """What both sweeps do with primal values: ``primals`` maps each value of the source
    function to its copy in the generated one."""

    def __init__(self, ctx: DiffContext, analysis: ActivityAnalysis, builder: Builder):
        self.ctx = ctx
        self.analysis = analysis
        self.builder = builder
        self.primals: dict[SSAValue, SSAValue] = {}

    def primal(self, v: SSAValue) -> SSAValue:
        return self.primals[v]

    def clone(self, op: Operation) -> Operation:
        """Insert a copy of ``op`` reading the copies of its operands."""
        new = op.clone(value_mapper=self.primals)
        self.builder.insert(new)
        for old, res in zip(op.results, new.results):
            self.primals[old] = res
        return new


# ============================================================================ forward


class ForwardSweep(_Sweep):
    """With ``width`` N > 1, every tangent carries N directions in a leading dimension."""

    def __init__(self, ctx: DiffContext, analysis: ActivityAnalysis, builder: Builder, width: int = 1):
        super().__init__(ctx, analysis, builder)
        self.width = width
        self.tangents: dict[SSAValue, SSAValue] = {}

    def child(self, builder: Builder) -> ForwardSweep:
        """A sweep writing into a nested block, seeing this sweep's values."""
        sub = ForwardSweep(self.ctx, self.analysis, builder, self.width)
        sub.primals = ChainMap({}, self.primals)  # type: ignore[assignment]
        sub.tangents = ChainMap({}, self.tangents)  # type: ignore[assignment]
        return sub

    def tangent(self, v: SSAValue) -> SSAValue | None:
        return self.tangents.get(v)

    def tangent_or_zero(self, v: SSAValue) -> SSAValue:
        t = self.tangents.get(v)
        return t if t is not None else self.builder.zeros(self.tangent_type(v.type))

    def tangent_type(self, t: Attribute) -> Attribute:
        return batched_type(t, self.width)

    def expand(self, v: SSAValue) -> SSAValue:
        """A primal-shaped value broadcast along the tangent directions."""
        if self.width == 1:
            return v
        rank = len(shape(v))
        return self.builder.broadcast_in_dim(v, [self.width, *shape(v)], list(range(1, rank + 1)))

    def bdims(self, dims: Sequence[int]) -> list[int]:
        """Dimension numbers of a primal op, shifted past the tangent dimension."""
        return [d + 1 for d in dims] if self.width != 1 else list(dims)

    def set_tangent(self, v: SSAValue, t: SSAValue | None) -> None:
        if t is not None and is_differentiable_type(v):
            self.tangents[v] = t

    def with_tangents(self, values: Sequence[SSAValue], act: Sequence[int]) -> list[SSAValue]:
        """The copies of ``values``, then the tangents (zero when none) of ``values[i]``
        for ``i`` in ``act``: what a rebuilt loop or branch carries, yields or returns."""
        return [self.primal(v) for v in values] + [self.tangent_or_zero(values[i]) for i in act]

    def bind_with_tangents(self, values: Sequence[SSAValue], new: Sequence[SSAValue], act: Sequence[int]) -> None:
        """The converse of ``with_tangents``: ``new`` (the results of a rebuilt loop or
        branch, or the arguments of a rebuilt block) holds the copies of ``values``, then
        the tangents of ``values[i]`` for ``i`` in ``act``."""
        n = len(values)
        for v, p in zip(values, new[:n]):
            self.primals[v] = p
        for i, t in zip(act, new[n:]):
            self.set_tangent(values[i], t)

    def run_block(self, block: Block) -> None:
        for op in body_ops(block):
            self.visit(op)

    def has_tangent_inputs(self, op: Operation) -> bool:
        return any(v in self.tangents for v in op.operands) or any(v in self.tangents for v in free_values(op))

    def visit(self, op: Operation) -> None:
        self.builder.location = op.location
        memory = _memory_rule(self.analysis, op)
        if memory is not None and memory.forward is not None:
            memory.forward(self, op)
            return
        if not self.analysis.op_is_active(op) or not self.has_tangent_inputs(op):
            self.clone(op)
            return
        cls = type(op)
        if cls in ELEMENTWISE:
            new = self.clone(op)
            xs = [self.primal(v) for v in op.operands]
            partials = ELEMENTWISE[cls].partials(self.builder, xs, new.results[0], op)
            total: SSAValue | None = None
            for x, p in zip(op.operands, partials):
                t = self.tangent(x)
                if t is None or p is None:
                    continue
                d = self._broadcast_tangent(t, op.results[0])
                term = self.builder.mul(self.expand(self._broadcast_like(p, op.results[0])), d)
                if self.ctx.strong_zero:
                    term = strong_zero_product(self.builder, d, term)
                total = term if total is None else self.builder.add(total, term)
            self.set_tangent(op.results[0], total)
            return
        if cls in LINEAR:
            new = self.clone(op)
            rule = LINEAR[cls]
            diff = rule.operands if rule.operands is not None else tuple(range(len(op.operands)))
            active = [i for i in diff if self.tangent(op.operands[i]) is not None]
            if self.ctx.strong_zero and op.name in _MULTIPLY_NAMES:
                total = None
                for i in active:
                    d = self.tangent(op.operands[i])
                    term = strong_zero_product(self.builder, d, self.builder.mul(d, self.expand(self.primal(op.operands[1 - i]))))
                    total = term if total is None else self.builder.add(total, term)
                self.set_tangent(op.results[0], total)
                return
            if rule.multilinear:
                check_strong_zero(self.ctx, op, multilinear=True)
            if self.width != 1:
                self.set_tangent(op.results[0], self._batched_linear(op, rule, diff, active))
                return
            if rule.multilinear:
                total = None
                for i in active:
                    operands = [self.primal(v) for v in op.operands]
                    operands[i] = self.tangent(op.operands[i])
                    term = self._clone_with(op, operands)
                    total = term if total is None else self.builder.add(total, term)
            else:
                operands = [self.primal(v) for v in op.operands]
                for i in diff:
                    if is_differentiable_type(op.operands[i]):
                        operands[i] = self.tangent_or_zero(op.operands[i])
                total = self._clone_with(op, operands)
            self.set_tangent(op.results[0], total)
            return
        _check_callee_body(self.ctx, op)
        rule = CUSTOM.get(cls)
        if rule is not None and rule.forward is not None:
            check_strong_zero(self.ctx, op)
            if self.width == 1:
                rule.forward(self, op)
                return
            try:
                rule.forward(self, op)
            except NoBatchedRule as e:
                if e.op is not op:
                    raise
                self.clone(op)
                self.per_direction(op)
            return
        if cls in INACTIVE:
            self.clone(op)
            return
        raise missing_rule(op, "forward")

    def per_direction(self, op: Operation) -> None:
        """The tangents of ``op`` (whose primal results exist already) for an op with no
        batched rule: a stablehlo.while over the N directions runs the op's width-1 rule on
        direction k (row k of each operand's tangent) and writes row k of each result's
        tangent. Exact, and N times the op's width-1 tangent work (the rule's primal copy
        included)."""
        from .rules.checkpoint import read_slot, write_slot

        b = self.builder
        inputs = [v for v in [*op.operands, *free_values(op)] if v in self.tangents]
        inputs = list(dict.fromkeys(inputs))
        outs = [r for r in op.results if is_differentiable_type(r)]
        produced: list[bool] = []
        i32 = TensorType(IntegerType(32), [])

        def cond(cb: Builder, args: list[SSAValue]) -> SSAValue:
            return cb.compare(args[0], cb.constant(self.width, i32), "LT")

        def body(bb: Builder, args: list[SSAValue]) -> list[SSAValue]:
            k, accs = args[0], args[1:]
            sub = ForwardSweep(self.ctx, self.analysis, bb, 1)
            sub.primals = ChainMap({}, self.primals)  # type: ignore[assignment]
            for v in inputs:
                sub.tangents[v] = read_slot(bb, self.tangents[v], k, shape(v))
            sub.visit(op)
            produced[:] = [sub.tangent(r) is not None for r in outs]
            new = [write_slot(bb, acc, k, sub.tangent_or_zero(r)) for acc, r in zip(accs, outs)]
            return [bb.add(k, bb.constant(1, i32)), *new]

        init = [b.constant(0, i32), *[b.zeros(self.tangent_type(r.type)) for r in outs]]
        results = b.while_loop(init, cond, body)
        for r, t, made in zip(outs, results[1:], produced):
            if made:
                self.set_tangent(r, t)

    def _clone_with(self, op: Operation, operands: list[SSAValue]) -> SSAValue:
        """A copy of ``op`` with its operands replaced position by position (an operand
        may appear twice, as in ``multiply(x, x)``)."""
        new = op.clone(value_mapper=ChainMap({}, self.primals))  # type: ignore[arg-type]
        new.operands = operands
        self.builder.insert(new)
        return new.results[0]

    def _batched_linear(self, op: Operation, rule, diff: Sequence[int], active: Sequence[int]) -> SSAValue | None:
        batch = registry.BATCHED.get(type(op))
        if batch is None:
            self.per_direction(op)
            return self.tangent(op.results[0])
        if rule.multilinear:
            total = None
            for i in active:
                operands = [self.primal(v) for v in op.operands]
                operands[i] = self.tangent(op.operands[i])
                flags = [k == i for k in range(len(operands))]
                term = batch(self, op, operands, flags)
                total = term if total is None else self.builder.add(total, term)
            return total
        operands = [self.primal(v) for v in op.operands]
        flags = [False] * len(operands)
        for i in diff:
            if is_differentiable_type(op.operands[i]):
                operands[i] = self.tangent_or_zero(op.operands[i])
                flags[i] = True
        return batch(self, op, operands, flags)

    def _broadcast_tangent(self, t: SSAValue, like: SSAValue) -> SSAValue:
        """A tangent of a rank-0 operand broadcast to the result's (batched) shape."""
        want = self.tangent_type(like.type)
        if shape(t) == shape(want):
            return t
        if self.width == 1:
            return self.builder.broadcast_to(t, like.type)
        return self.builder.broadcast_in_dim(t, shape(want), [0])

    def _broadcast_like(self, v: SSAValue, like: SSAValue) -> SSAValue:
        if shape(v) == shape(like) and isinstance(v.type, TensorType) == isinstance(like.type, TensorType):
            return v
        return self.builder.broadcast_to(v, like.type)


# ============================================================================ reverse


PER_DIRECTION_LOG: list[str] = []
"""The ops whose width-N reverse ran once per cotangent (``ReverseSweep.per_direction``),
by name, in order: what tests and benchmarks read to see which rules lack width support."""


class ReverseSweep(_Sweep):
    """With ``width`` N > 1 (batched reverse mode), every adjoint carries N cotangents in a
    leading dimension: the adjoint of a value of type ``tensor<S>`` has type
    ``tensor<N x S>`` (``batched_type``). Elementwise rules need nothing more (their
    partials are broadcast along the cotangents); linear ops use their ``@batched_transpose``
    rule; custom rules registered with ``batched_reverse`` handle the width themselves; the
    reverse rule of any other op runs once per cotangent (``per_direction``)."""

    def __init__(self, ctx: DiffContext, analysis: ActivityAnalysis, builder: Builder, transposing: bool = False, width: int = 1):
        super().__init__(ctx, analysis, builder)
        self.transposing = transposing
        """Reversing a custom_jvp rule in its tangents (see DiffContext.reverse_function)."""
        self.width = width
        self.adjoints: dict[SSAValue, SSAValue] = {}
        self.tapes: dict[Operation, tuple] = {}
        """What a custom rule's augmented primal kept for its reverse (a loop's tapes)."""

    def child(self, builder: Builder) -> ReverseSweep:
        sub = ReverseSweep(self.ctx, self.analysis, builder, self.transposing, self.width)
        sub.primals = ChainMap({}, self.primals)  # type: ignore[assignment]
        return sub

    # ------------------------------------------------------------------ values

    def is_active(self, v: SSAValue) -> bool:
        return self.analysis.is_active(v)

    def adjoint(self, v: SSAValue) -> SSAValue | None:
        return self.adjoints.get(v)

    def adjoint_type(self, t: Attribute) -> Attribute:
        """The type of the adjoint of a value of type ``t`` (with width N: N cotangents)."""
        return batched_type(t, self.width)

    def adjoint_or_zero(self, v: SSAValue) -> SSAValue:
        ct = self.adjoints.get(v)
        return ct if ct is not None else self.builder.zeros(self.adjoint_type(v.type))

    def expand(self, v: SSAValue) -> SSAValue:
        """A primal-shaped value broadcast along the cotangents (width N)."""
        if self.width == 1:
            return v
        return self.builder.broadcast_in_dim(v, [self.width, *shape(v)], list(range(1, len(shape(v)) + 1)))

    def bdims(self, dims: Sequence[int]) -> list[int]:
        """Dimension numbers of a primal op, shifted past the cotangent dimension."""
        return [d + 1 for d in dims] if self.width != 1 else list(dims)

    def add_adjoint(self, v: SSAValue, ct: SSAValue | None) -> None:
        if ct is None or not self.is_active(v):
            return
        want = self.adjoint_type(v.type)
        if ct.type != want:
            if shape(ct) == shape(want):
                raise DiffError(f"internal error: cotangent of type {ct.type} for a value of type {v.type}")
            raise DiffError(f"internal error: cotangent shape {shape(ct)} for a value of shape {shape(v)} (width {self.width})")
        prev = self.adjoints.get(v)
        self.adjoints[v] = ct if prev is None else self.builder.add(prev, ct)

    def clone(self, op: Operation) -> Operation:
        """A copy of ``op`` for the primal values of the reverse derivative; a call of a
        custom_jvp function gives the primal outputs of its rule instead (as jax
        linearizes the rule), so that a derivative of this derivative differentiates what
        the rule computes, not the custom rule again."""
        if isinstance(op, func.CallOp):
            from .rules import custom

            new = custom.rule_primals(self, op)
            if new is not None:
                return new
        return super().clone(op)

    # ------------------------------------------------------------------ forward sweep

    def forward_block(self, block: Block) -> None:
        for op in body_ops(block):
            self.builder.location = op.location
            memory = _memory_rule(self.analysis, op)
            if memory is not None:
                if memory.augment is not None:
                    memory.augment(self, op)
                else:
                    self.clone(op)
                continue
            rule = CUSTOM.get(type(op))
            if rule is not None and rule.augment is not None and self.analysis.op_is_active(op):
                rule.augment(self, op)
            else:
                self.clone(op)

    # ------------------------------------------------------------------ reverse sweep

    def reverse_block(self, block: Block) -> None:
        for op in reversed(body_ops(block)):
            self.visit(op)

    def visit(self, op: Operation) -> None:
        memory = _memory_rule(self.analysis, op)
        if memory is not None:  # a store has no result, an allocation no active one
            self.builder.location = op.location
            if memory.reverse is not None:
                memory.reverse(self, op)
            return
        if not self.analysis.op_is_active(op):
            return
        if all(self.adjoint(r) is None for r in op.results):
            return
        self.builder.location = op.location
        cls = type(op)
        if cls in ELEMENTWISE:
            ct = self.adjoints[op.results[0]]
            xs = [self.primal(v) for v in op.operands]
            ans = self.primal(op.results[0])
            partials = ELEMENTWISE[cls].partials(self.builder, xs, ans, op)
            for x, p in zip(op.operands, partials):
                if p is None or not self.is_active(x):
                    continue
                if self.width == 1:
                    if shape(p) != shape(ct):
                        p = self.builder.broadcast_to(p, ct.type)
                else:
                    if shape(p) != shape(ans) or isinstance(p.type, TensorType) != isinstance(ans.type, TensorType):
                        p = self.builder.broadcast_to(p, ans.type)
                    p = self.expand(p)
                contrib = self.builder.mul(p, ct)
                if self.ctx.strong_zero:
                    contrib = strong_zero_product(self.builder, ct, contrib)
                self.add_adjoint(x, self._unbroadcast(contrib, x))
            return
        if cls in LINEAR:
            ct = self.adjoints[op.results[0]]
            rule = LINEAR[cls]
            diff = rule.operands if rule.operands is not None else tuple(range(len(op.operands)))
            xs = [self.primal(v) for v in op.operands]
            if rule.multilinear:
                check_strong_zero(self.ctx, op, multilinear=True)
            if self.width != 1:
                batch = registry.BATCHED_TRANSPOSE.get(cls)
                if batch is None:
                    self.per_direction(op)
                    return
                for i in diff:
                    if self.is_active(op.operands[i]):
                        self.add_adjoint(op.operands[i], self._guard(op, ct, batch(self, op, ct, i, xs)))
                return
            for i in diff:
                if self.is_active(op.operands[i]):
                    self.add_adjoint(op.operands[i], self._guard(op, ct, rule.transpose(self.builder, op, ct, i, xs)))
            return
        _check_callee_body(self.ctx, op)
        rule = CUSTOM.get(cls)
        if rule is not None and rule.reverse is not None:
            check_strong_zero(self.ctx, op)
            if self.width == 1:
                rule.reverse(self, op)
                return
            if cls not in registry.BATCHED_REVERSE:
                self.per_direction(op)
                return
            try:
                rule.reverse(self, op)
            except NoBatchedRule as e:
                if e.op is not op:
                    raise
                self.per_direction(op)
            return
        if cls in INACTIVE:
            return
        raise missing_rule(op, "reverse")

    def _guard(self, op: Operation, ct: SSAValue, contrib: SSAValue | None) -> SSAValue | None:
        """A multiply's transpose ``ct * y`` under ``strong_zero``: 0 where ct is 0
        (``None``, no contribution, stays None)."""
        if contrib is None or not self.ctx.strong_zero or op.name not in _MULTIPLY_NAMES:
            return contrib
        return strong_zero_product(self.builder, ct, contrib)

    def per_direction(self, op: Operation) -> None:
        """The adjoints of ``op``'s operands (and captured values) for an op whose reverse
        rule handles width 1 only: a stablehlo.while over the N cotangents runs the op's
        width-1 reverse rule on cotangent k (row k of each result's adjoint) and writes
        row k of each operand's adjoint. Exact, and N times the rule's width-1 work."""
        from .rules.checkpoint import read_slot, write_slot

        PER_DIRECTION_LOG.append(op.name)
        b = self.builder
        outs = [r for r in op.results if self.adjoint(r) is not None]
        targets = [v for v in [*op.operands, *free_values(op)] if is_differentiable_type(v) and self.is_active(v)]
        targets = list(dict.fromkeys(targets))
        if not targets:
            return
        produced: list[bool] = []
        i32 = TensorType(IntegerType(32), [])

        def row(bb: Builder, buf: SSAValue, k: SSAValue, v: SSAValue) -> SSAValue:
            r = read_slot(bb, buf, k, shape(v))
            return r if isinstance(v.type, TensorType) else bb.to_scalar(r)

        def cond(cb: Builder, args: list[SSAValue]) -> SSAValue:
            return cb.compare(args[0], cb.constant(self.width, i32), "LT")

        def body(bb: Builder, args: list[SSAValue]) -> list[SSAValue]:
            k, accs = args[0], args[1:]
            sub = ReverseSweep(self.ctx, self.analysis, bb, self.transposing, 1)
            sub.primals = ChainMap({}, self.primals)  # type: ignore[assignment]
            sub.tapes = self.tapes
            for r in outs:
                sub.adjoints[r] = row(bb, self.adjoints[r], k, r)
            sub.visit(op)
            produced[:] = [sub.adjoint(t) is not None for t in targets]
            new = []
            for acc, t in zip(accs, targets):
                ct = sub.adjoint(t)
                if ct is None:
                    new.append(acc)
                    continue
                if not isinstance(ct.type, TensorType):
                    ct = bb.from_scalar(ct)
                new.append(write_slot(bb, acc, k, ct))
            return [bb.add(k, bb.constant(1, i32)), *new]

        init = [b.constant(0, i32), *[b.zeros(self.adjoint_type(t.type)) for t in targets]]
        results = b.while_loop(init, cond, body)
        for t, ct, made in zip(targets, results[1:], produced):
            if made:
                self.add_adjoint(t, ct)

    def _unbroadcast(self, ct: SSAValue, x: SSAValue) -> SSAValue:
        """Sum a cotangent over the dimensions a rank-0 operand was broadcast along."""
        if shape(ct) == shape(x) and isinstance(ct.type, TensorType) == isinstance(x.type, TensorType):
            return ct
        if self.width != 1:
            if shape(ct) == shape(self.adjoint_type(x.type)):
                return ct
            assert shape(x) == (), f"operand of shape {shape(x)} vs result {shape(ct)}"
            return self.builder.reduce_sum(ct, list(range(1, len(shape(ct)))))
        assert shape(x) == (), f"operand of shape {shape(x)} vs result {shape(ct)}"
        return self.builder.reduce_sum(ct, list(range(len(shape(ct)))))
