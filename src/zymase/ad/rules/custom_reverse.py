"""Which ``enzyme.custom_reverse_rule`` a call uses (the rules themselves become custom_vjp
functions in ``ir/enzyme_rules.py``; ``ad/rules/custom.py`` calls them).

A function may name several rules (``enzyme.custom_rule = [@r1, @r2]``), each for some
activity of its arguments. Before the enzyme pass differentiates a request, each call of
such a function in the differentiated function (nested regions included) gets the rule
for its activity there: a rule fits when every argument active at the call is active in
the rule; the fitting rule with the fewest active arguments is taken (an exact match
first, as the peer does). The call is pointed at a copy of the function that carries
that rule (``@<fn>.<rule>``, same body); no fitting rule is a one-line error at the call.
Calls in functions the differentiated function calls keep the function's default rule,
the one with the most active arguments."""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr, SymbolRefAttr

from ...analysis.activity import ActivityAnalysis
from ...ir.enzyme import ACTIVE, ACTIVENONEED, CUSTOM_VJP_BWD, CUSTOM_VJP_FWD, DUP, DUPNONEED
from ...ir.enzyme_rules import RULE_ACTIVITY, RULE_ERRORS, RULE_OF, RULE_SET, rule_names
from ...ir.query import describe_location
from ..errors import DiffError


def _active(kinds) -> list[bool]:  # noqa: ANN001
    return [("enzyme_active" in str(k)) and "noneed" not in str(k) for k in kinds.data]


def choose_rules(module: ModuleOp, op) -> None:  # noqa: ANN001  (an enzyme.autodiff / fwddiff op)
    funcs = {f.sym_name.data: f for f in module.ops if isinstance(f, func.FuncOp)}
    if not any(RULE_SET in f.attributes for f in funcs.values()):
        return
    fn = funcs.get(op.fn.root_reference.data)
    if fn is None or not fn.body.blocks:
        return
    arg_kinds = list(op.arg_kinds)
    ret_kinds = list(op.ret_kinds)
    active_args = [k in (ACTIVE, DUP, DUPNONEED) for k in arg_kinds]
    useful = [k in (ACTIVE, ACTIVENONEED, DUP, DUPNONEED) for k in ret_kinds]
    analysis = ActivityAnalysis(fn, active_args, useful)
    for call in list(fn.walk()):
        if not isinstance(call, func.CallOp):
            continue
        callee = funcs.get(call.callee.root_reference.data)
        if callee is None:
            continue
        origin_ref = callee.attributes.get(RULE_OF)
        base = funcs.get(origin_ref.root_reference.data) if isinstance(origin_ref, SymbolRefAttr) else callee
        if base is None:
            continue
        names = rule_names(base)
        if not names:
            continue
        need = [analysis.is_active(v) for v in call.operands]
        fitting = []
        for k, (n, kinds) in enumerate(zip(names, base.attributes[RULE_ACTIVITY].data)):
            rule_active = _active(kinds)
            if all(r or not a for a, r in zip(need, rule_active)):
                fitting.append((sum(rule_active), k, n))
        if not fitting:
            wanted = ", ".join("enzyme_active" if a else "enzyme_const" for a in need)
            raise DiffError(
                f"'func.call' of @{base.sym_name.data} at {describe_location(call)}: could not find a rule with the right activity "
                f"(the call needs [{wanted}]; rules: {', '.join('@' + n for n in names)})"
            )
        _, k, rule = min(fitting)
        broken = base.attributes[RULE_ERRORS].data[k].data
        if broken:
            raise DiffError(f"'func.call' of @{base.sym_name.data} at {describe_location(call)} uses rule @{rule}: {broken}")
        name = f"{base.sym_name.data}.{rule}"
        if name not in funcs:
            copy = base.clone()
            copy.sym_name = StringAttr(name)
            copy.sym_visibility = StringAttr("private")
            for key in (RULE_SET, RULE_ACTIVITY, RULE_ERRORS):
                copy.attributes.pop(key, None)
            copy.attributes[RULE_OF] = SymbolRefAttr(base.sym_name.data)
            copy.attributes[CUSTOM_VJP_FWD] = SymbolRefAttr(f"{rule}.fwd")
            copy.attributes[CUSTOM_VJP_BWD] = SymbolRefAttr(f"{rule}.bwd")
            module.body.block.insert_op_after(copy, base)
            funcs[name] = copy
        call.callee = SymbolRefAttr(name)


__all__ = ["choose_rules"]
