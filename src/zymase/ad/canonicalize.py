"""Activity canonicalization of enzyme.autodiff / enzyme.fwddiff (the seed's "Reverse
Mode Activity Canonicalization"): before derivative code is generated, look at how the
op's results are used, which seeds or tangents are known zeros, and what the callee's
activity analysis proves, and demote activities so no work is generated for derivatives
or primals nobody uses.

Reverse (autodiff) results:  active -> activenoneed (primal unused), active -> const
(seed known zero, or the result depends on no active argument of the callee), both -> constnoneed,
const -> constnoneed (unused), activenoneed -> constnoneed (zero seed / no dependence).
Reverse arguments: active -> const when its gradient is unused (or provably zero: it
reaches no active result; its uses then read a zero constant).
Forward (fwddiff) results: dup -> dupnoneed (primal unused), dup -> const (tangent
unused, or the result depends on no dup argument), both -> constnoneed, dupnoneed/const
-> constnoneed likewise.  Forward arguments: dup whose tangent is a known zero -> const.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import MemRefType, ModuleOp
from xdsl.dialects.func import FuncOp
from xdsl.ir import Operation, OpResult, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern
from xdsl.rewriter import InsertPoint
from xdsl.traits import SymbolTable

from ..analysis.activity import ActivityAnalysis
from ..ir.enzyme import (
    ACTIVE,
    ACTIVENONEED,
    CONST,
    CONSTNONEED,
    DUP,
    DUPNONEED,
    Activity,
    AutoDiffOp,
    ForwardDiffOp,
    make_diff_op,
)


def _builder(op: Operation, rewriter: PatternRewriter | None):
    from ..ir.builder import Builder  # imported when a rewrite happens (canonicalize meets enzyme ops cheaply)

    return Builder(InsertPoint.before(op), op.location, rewriter)


def is_zero(v: SSAValue) -> bool:
    """A known zero (a constant, possibly broadcast or reshaped); a block argument is not."""
    if not isinstance(v, OpResult):
        return False
    from ..ir.builder import is_zero as constant_is_zero

    return constant_is_zero(v)


def _unused(v: SSAValue) -> bool:
    return not any(True for _ in v.uses)


def _callee(op: Operation) -> FuncOp | None:
    module = op.get_toplevel_object()
    if not isinstance(module, ModuleOp):
        return None
    fn = SymbolTable.lookup_symbol(module, op.fn)
    return fn if isinstance(fn, FuncOp) and fn.body.blocks else None


# ============================================================================ reverse


def _reverse_layout(args: Sequence[Activity], rets: Sequence[Activity], n_args: int):
    """Positions of the operands and results of an autodiff op for given activities."""
    seed_of: dict[int, int] = {}
    pos = n_args
    for i, k in enumerate(rets):
        if k in (ACTIVE, ACTIVENONEED):
            seed_of[i] = pos
            pos += 1
    primal_of: dict[int, int] = {}
    r = 0
    for i, k in enumerate(rets):
        if k in (ACTIVE, CONST):
            primal_of[i] = r
            r += 1
    grad_of: dict[int, int] = {}
    for i, k in enumerate(args):
        if k == ACTIVE:
            grad_of[i] = r
            r += 1
    return seed_of, primal_of, grad_of


def canonical_reverse(op: AutoDiffOp, use_callee: bool = True, analyses: dict | None = None) -> tuple[list[Activity], list[Activity]]:
    args, rets = list(op.arg_kinds), list(op.ret_kinds)
    n_args = len(args)
    seed_of, primal_of, grad_of = _reverse_layout(args, rets, n_args)
    new_args = list(args)
    new_rets = list(rets)
    for i, k in enumerate(args):
        if k == ACTIVE and _unused(op.outputs[grad_of[i]]):
            new_args[i] = CONST
    for i, k in enumerate(rets):
        primal_unused = i in primal_of and _unused(op.outputs[primal_of[i]])
        zero_seed = i in seed_of and is_zero(op.inputs[seed_of[i]])
        if k == ACTIVE:
            new_rets[i] = {(False, False): ACTIVE, (True, False): ACTIVENONEED, (False, True): CONST, (True, True): CONSTNONEED}[
                (primal_unused, zero_seed)
            ]
        elif k == ACTIVENONEED and zero_seed:
            new_rets[i] = CONSTNONEED
        elif k == CONST and primal_unused:
            new_rets[i] = CONSTNONEED
    if use_callee:
        callee = _callee(op)
        if callee is not None:
            new_args, new_rets = _callee_reverse(callee, new_args, new_rets, {} if analyses is None else analyses)
    return new_args, new_rets


def _callee_reverse(callee: FuncOp, args: list[Activity], rets: list[Activity], analyses: dict) -> tuple[list[Activity], list[Activity]]:
    """Results that depend on no active argument carry no derivative; arguments that
    reach no active result have a zero gradient."""
    for _ in range(len(args) + len(rets) + 1):
        analysis = _reverse_activity(callee, args, rets, analyses)
        block = callee.body.blocks.first
        ret_vals = block.last_op.operands
        changed = False
        for i, k in enumerate(rets):
            if k in (ACTIVE, ACTIVENONEED) and ret_vals[i] not in analysis.varied:
                rets[i] = CONST if k == ACTIVE else CONSTNONEED
                changed = True
        if not changed:
            break
    return args, rets


def _reverse_activity(callee: FuncOp, args: Sequence[Activity], rets: Sequence[Activity], analyses: dict) -> ActivityAnalysis:
    """The activity analysis of ``callee`` under these activities, kept in ``analyses``
    (one rewrite's: the results' activities settle, then the zero gradients ask the same
    question of the unchanged callee)."""
    key = (tuple(k == ACTIVE for k in args), tuple(k in (ACTIVE, ACTIVENONEED) for k in rets))
    analysis = analyses.get(key)
    if analysis is None:
        analysis = analyses[key] = ActivityAnalysis(callee, list(key[0]), list(key[1]))
    return analysis


def _zero_gradients(callee: FuncOp, args: Sequence[Activity], rets: Sequence[Activity], analyses: dict) -> set[int]:
    analysis = _reverse_activity(callee, args, rets, analyses)
    block = callee.body.blocks.first
    return {i for i, (a, k) in enumerate(zip(block.args, args)) if k == ACTIVE and a not in analysis.useful}


def _uses_memory(op: AutoDiffOp | ForwardDiffOp) -> bool:
    """Memory (memref) activity follows the shadows (rules/memref.py), which the
    activity analysis used here does not model: such ops are left as they are."""
    if any(isinstance(v.type, MemRefType) for v in op.inputs):
        return True
    callee = _callee(op)
    if callee is None:
        return False
    if not any(isinstance(t, MemRefType) for t in callee.function_type.inputs.data) and not any(o.name.startswith("memref.") for o in callee.walk()):
        return False  # decided without importing the memory rules
    from .rules.memref import uses_memory

    return uses_memory(callee)


def rewrite_reverse(op: AutoDiffOp, rewriter: PatternRewriter | None = None, use_callee: bool = True, zero_args: bool = False) -> bool:
    if _uses_memory(op):
        return False
    args, rets = list(op.arg_kinds), list(op.ret_kinds)
    analyses: dict = {}
    new_args, new_rets = canonical_reverse(op, use_callee, analyses)
    zero_grads: set[int] = set()
    callee = _callee(op) if zero_args else None
    if callee is not None:
        zero_grads = _zero_gradients(callee, new_args, new_rets, analyses)
    if new_args == args and new_rets == rets and not zero_grads:
        return False
    n_args = len(args)
    seed_of, primal_of, grad_of = _reverse_layout(args, rets, n_args)
    b = _builder(op, rewriter)
    replacements: dict[int, SSAValue] = {}
    for i in zero_grads:
        res = op.outputs[grad_of[i]]
        if not _unused(res):
            replacements[grad_of[i]] = b.zeros(res.type)
        new_args[i] = CONST
    operands = list(op.inputs[:n_args])
    for i, k in enumerate(new_rets):
        if k in (ACTIVE, ACTIVENONEED):
            operands.append(op.inputs[seed_of[i]])
    _, new_primal_of, new_grad_of = _reverse_layout(new_args, new_rets, n_args)
    result_types = [None] * (len(new_primal_of) + len(new_grad_of))
    for i, r in new_primal_of.items():
        result_types[r] = op.outputs[primal_of[i]].type
    for i, r in new_grad_of.items():
        result_types[r] = op.outputs[grad_of[i]].type
    new = _carry(op, make_diff_op(AutoDiffOp, op.fn.root_reference.data, operands, result_types, new_args, new_rets, op.width_value))
    b.insert(new)
    for i, r in primal_of.items():
        if i in new_primal_of:
            replacements[r] = new.outputs[new_primal_of[i]]
    for i, r in grad_of.items():
        if i in new_grad_of:
            replacements[r] = new.outputs[new_grad_of[i]]
    _replace(op, new, replacements, rewriter)
    return True


# ============================================================================ forward


def _forward_layout(args: Sequence[Activity], rets: Sequence[Activity]):
    tangent_in: dict[int, int] = {}
    primal_in: dict[int, int] = {}
    pos = 0
    for i, k in enumerate(args):
        primal_in[i] = pos
        pos += 1
        if k in (DUP, DUPNONEED):
            tangent_in[i] = pos
            pos += 1
    primal_out: dict[int, int] = {}
    tangent_out: dict[int, int] = {}
    r = 0
    for i, k in enumerate(rets):
        if k in (CONST, DUP):
            primal_out[i] = r
            r += 1
        if k in (DUP, DUPNONEED):
            tangent_out[i] = r
            r += 1
    return primal_in, tangent_in, primal_out, tangent_out


def canonical_forward(op: ForwardDiffOp, use_callee: bool = True) -> tuple[list[Activity], list[Activity]]:
    args, rets = list(op.arg_kinds), list(op.ret_kinds)
    primal_in, tangent_in, primal_out, tangent_out = _forward_layout(args, rets)
    new_args = list(args)
    for i, k in enumerate(args):
        if k == DUP and is_zero(op.inputs[tangent_in[i]]):
            new_args[i] = CONST
    depends: set[int] | None = None
    if use_callee:
        callee = _callee(op)
        if callee is not None:
            analysis = ActivityAnalysis(callee, [k in (DUP, DUPNONEED) for k in new_args], [True] * len(rets))
            ret_vals = callee.body.blocks.first.last_op.operands
            depends = {i for i, v in enumerate(ret_vals) if v in analysis.varied}
    new_rets = list(rets)
    for i, k in enumerate(rets):
        primal_unused = i in primal_out and _unused(op.outputs[primal_out[i]])
        tangent_unused = i in tangent_out and _unused(op.outputs[tangent_out[i]])
        if depends is not None and i not in depends:
            tangent_unused = tangent_unused or k in (DUP, DUPNONEED)
        if k == DUP:
            new_rets[i] = {(False, False): DUP, (True, False): DUPNONEED, (False, True): CONST, (True, True): CONSTNONEED}[
                (primal_unused, tangent_unused)
            ]
        elif k == DUPNONEED and tangent_unused:
            new_rets[i] = CONSTNONEED
        elif k == CONST and primal_unused:
            new_rets[i] = CONSTNONEED
    return new_args, new_rets


def rewrite_forward(op: ForwardDiffOp, rewriter: PatternRewriter | None = None, use_callee: bool = True) -> bool:
    if _uses_memory(op):
        return False
    args, rets = list(op.arg_kinds), list(op.ret_kinds)
    new_args, new_rets = canonical_forward(op, use_callee)
    if new_args == args and new_rets == rets:
        return False
    primal_in, tangent_in, primal_out, tangent_out = _forward_layout(args, rets)
    _, _, new_primal_out, new_tangent_out = _forward_layout(new_args, new_rets)
    b = _builder(op, rewriter)
    operands: list[SSAValue] = []
    for i, k in enumerate(new_args):
        operands.append(op.inputs[primal_in[i]])
        if k in (DUP, DUPNONEED):
            operands.append(op.inputs[tangent_in[i]])
    n_out = len(new_primal_out) + len(new_tangent_out)
    result_types = [None] * n_out
    for i, r in new_primal_out.items():
        result_types[r] = op.outputs[primal_out[i]].type
    for i, r in new_tangent_out.items():
        result_types[r] = op.outputs[tangent_out[i]].type
    new = _carry(op, make_diff_op(ForwardDiffOp, op.fn.root_reference.data, operands, result_types, new_args, new_rets, op.width_value))
    b.insert(new)
    replacements: dict[int, SSAValue] = {}
    for i, r in primal_out.items():
        if i in new_primal_out:
            replacements[r] = new.outputs[new_primal_out[i]]
    for i, r in tangent_out.items():
        if i in new_tangent_out:
            replacements[r] = new.outputs[new_tangent_out[i]]
        elif not _unused(op.outputs[r]):
            # the tangent is provably zero (the result depends on no dup argument)
            replacements[r] = b.zeros(op.outputs[r].type)
    _replace(op, new, replacements, rewriter)
    return True


# ============================================================================ driver


def _carry(op: Operation, new: Operation) -> Operation:
    """``new`` with the other properties (``strong_zero``) and attributes of ``op``."""
    for name, value in op.properties.items():
        new.properties.setdefault(name, value)
    new.attributes.update(op.attributes)
    return new


def _replace(op: Operation, new: Operation, replacements: dict[int, SSAValue], rewriter: PatternRewriter | None) -> None:
    for r, res in enumerate(op.outputs):
        if r in replacements:
            if rewriter is not None:
                rewriter.replace_all_uses_with(res, replacements[r])
            else:
                res.replace_all_uses_with(replacements[r])
        else:
            assert _unused(res), f"internal error: dropped result {r} of {op.name} still has uses"
    if rewriter is not None:
        rewriter.erase(op)
    else:
        op.detach()
        op.erase()


@dataclass
class ActivityPattern(RewritePattern):
    """The activity canonicalization of one enzyme.autodiff / enzyme.fwddiff (the
    canonicalization pattern of both ops: ``-p canonicalize`` runs it, ir/enzyme.py)."""

    use_callee: bool
    zero_args: bool

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        if isinstance(op, AutoDiffOp):
            rewrite_reverse(op, rewriter, self.use_callee, self.zero_args)
        elif isinstance(op, ForwardDiffOp):
            rewrite_forward(op, rewriter, self.use_callee)


def canonicalize_activities(module: ModuleOp, use_callee: bool = True, zero_args: bool = False) -> None:
    PatternRewriteWalker(ActivityPattern(use_callee, zero_args), apply_recursively=True).rewrite_module(module)


@dataclass(frozen=True)
class ActivityCanonicalizePass(ModulePass):
    """Demote activities of enzyme ops from how their results are used and which seeds
    and tangents are known zeros."""

    name = "enzyme-activity-canonicalize"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        canonicalize_activities(op, use_callee=True, zero_args=False)


@dataclass(frozen=True)
class ActivityOptPass(ModulePass):
    """Activity canonicalization plus what activity analysis proves inside the callee:
    results that depend on no active argument and arguments that reach no active
    result are demoted to const."""

    name = "enzyme-activity-opt"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        canonicalize_activities(op, use_callee=True, zero_args=True)
