"""User-written reverse rules in MLIR: ``enzyme.custom_reverse_rule`` and its pieces
(``augmented_primal``, ``reverse``, ``enzyme.init`` / ``push`` / ``pop`` of
``!enzyme.Cache<T>`` values, ``enzyme.yield``), and ``lower_custom_reverse_rules``,
which turns each rule into the pair of functions zymase's custom_vjp machinery calls
(``ad/rules/custom.py``) before a module is run or differentiated (``ir/lower.py``).

A function names its rules with ``enzyme.custom_rule = @rule`` or a list of them; each
rule has ``activity`` / ``ret_activity`` (which arguments and results it differentiates)
and ``function_type``. Its ``augmented_primal`` region computes the primal results and
pushes values into caches; ``reverse`` takes the cotangents of the rule's active results,
pops the caches and yields the cotangents of its active arguments. The rewrite makes

- ``@<rule>.fwd(args) -> (results..., cached values...)``: the augmented primal, each
  push a residual (one push per cache, in the order of the caches' ``enzyme.init``),
- ``@<rule>.bwd(cached values..., cotangents of the float results...) -> cotangents of
  the float arguments``: the reverse region, each pop the residual of its cache,
  zeros for arguments the rule holds constant,

and marks the function with the rule of most active arguments (``enzyme.custom_vjp_fwd``
/ ``bwd``); the enzyme pass picks the rule per call from the call's activity
(``ad/rules/custom_reverse.py``). A push inside a nested region, a cache pushed twice,
or a pop of a cache never pushed is refused in one line.
"""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, FunctionType, StringAttr, SymbolRefAttr, TensorType
from xdsl.ir import Attribute, Block, Operation, ParametrizedAttribute, Region, SSAValue, TypeAttribute
from xdsl.irdl import IRDLOperation, irdl_attr_definition, irdl_op_definition, operand_def, opt_attr_def, param_def, region_def, result_def, traits_def, var_operand_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import IsTerminator, SymbolOpInterface

from ..errors import MlirError

RULE_SET = "enzyme.custom_rule"
RULE_OF = "zymase.custom_rule_of"
"""On a copy of a function with rules: the function it copies (the copy carries one rule)."""
RULE_ACTIVITY = "zymase.rule_activity"
"""On a function with rules: each rule's argument activity (enzyme activity attributes)."""
RULE_ERRORS = "zymase.rule_errors"
"""On a function with rules: why each rule cannot be used ("" when it can)."""


class RuleError(MlirError, ValueError):
    """A custom reverse rule zymase cannot use (one line)."""


@irdl_attr_definition
class CacheType(ParametrizedAttribute, TypeAttribute):
    """``!enzyme.Cache<T>``: a stack of T values (push in the augmented primal, pop in
    the reverse)."""

    name = "enzyme.Cache"
    element: Attribute = param_def(Attribute)


@irdl_op_definition
class InitOp(IRDLOperation):
    name = "enzyme.init"
    result = result_def(CacheType)


@irdl_op_definition
class PushOp(IRDLOperation):
    name = "enzyme.push"
    cache = operand_def(CacheType)
    value = operand_def()


@irdl_op_definition
class PopOp(IRDLOperation):
    name = "enzyme.pop"
    cache = operand_def(CacheType)
    result = result_def()


@irdl_op_definition
class YieldOp(IRDLOperation):
    name = "enzyme.yield"
    values = var_operand_def()
    traits = traits_def(IsTerminator())
    assembly_format = "attr-dict ($values^ `:` type($values))?"


def _parse_signature_region(parser: Parser) -> tuple[list[Attribute], Region]:
    """``(%a: T, ...) -> T | (T, ...) { ... }``: the result types and the region."""
    args = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, parser.parse_argument)
    results: list[Attribute] = []
    if parser.parse_optional_punctuation("->") is not None:
        if parser.parse_optional_punctuation("(") is not None:
            if parser.parse_optional_punctuation(")") is None:
                results = parser.parse_comma_separated_list(Parser.Delimiter.NONE, parser.parse_type)
                parser.parse_punctuation(")")
        else:
            results = [parser.parse_type()]
    region = parser.parse_region(args)
    return results, region


class _RulePart(IRDLOperation):
    """The two regions of a rule (fields ``body`` and ``signature_results`` in each subclass)."""

    @classmethod
    def parse(cls, parser: Parser) -> _RulePart:
        results, region = _parse_signature_region(parser)
        attrs = parser.parse_optional_attr_dict()
        op = cls.create(regions=[region], attributes={"signature_results": ArrayAttr(results), **attrs})
        return op

    def print(self, printer: Printer) -> None:
        block = self.body.block
        printer.print_string(" (")
        printer.print_list(block.args, lambda a: (printer.print_operand(a), printer.print_string(": "), printer.print_attribute(a.type)))
        printer.print_string(")")
        results = list(self.signature_results.data) if self.signature_results is not None else []
        if results:
            printer.print_string(" -> ")
            if len(results) == 1:
                printer.print_attribute(results[0])
            else:
                printer.print_string("(")
                printer.print_list(results, printer.print_attribute)
                printer.print_string(")")
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=False)


@irdl_op_definition
class AugmentedPrimalOp(_RulePart):
    name = "enzyme.custom_reverse_rule.augmented_primal"
    body = region_def("single_block")
    signature_results = opt_attr_def(ArrayAttr)


@irdl_op_definition
class ReverseOp(_RulePart):
    name = "enzyme.custom_reverse_rule.reverse"
    body = region_def("single_block")
    signature_results = opt_attr_def(ArrayAttr)


@irdl_op_definition
class CustomReverseRuleOp(IRDLOperation):
    """``enzyme.custom_reverse_rule @name { caches, augmented_primal, reverse }
    attributes {activity, ret_activity, function_type}``."""

    name = "enzyme.custom_reverse_rule"
    sym_name = opt_attr_def(StringAttr)
    body = region_def("single_block")
    traits = traits_def(SymbolOpInterface())

    @classmethod
    def parse(cls, parser: Parser) -> CustomReverseRuleOp:
        name = parser.parse_symbol_name()
        region = parser.parse_region()
        attrs = parser.parse_optional_attr_dict_with_keyword()
        attributes = dict(attrs.data) if attrs is not None else {}
        attributes["sym_name"] = name
        return cls.create(regions=[region], attributes=attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" @")
        printer.print_string(self.sym_name.data if self.sym_name is not None else "")
        printer.print_string(" ")
        printer.print_region(self.body)
        rest = {k: v for k, v in self.attributes.items() if k != "sym_name"}
        if rest:
            printer.print_op_attributes(rest, print_keyword=True)


# ============================================================================ lowering


def _where(op: Operation) -> str:
    from .query import describe_location

    loc = describe_location(op)
    return f" at {loc}" if loc else ""


def kind_names(rule: CustomReverseRuleOp, key: str) -> list[str]:
    """The activity names (enzyme_active, enzyme_const, ...) of ``activity`` or ``ret_activity``."""
    out = []
    for a in rule.attributes[key].data:
        text = str(a)
        for k in ("enzyme_activenoneed", "enzyme_active", "enzyme_constnoneed", "enzyme_const", "enzyme_dupnoneed", "enzyme_dup"):
            if k in text:
                out.append(k)
                break
        else:
            out.append(text)
    return out


def _is_float(t: Attribute) -> bool:
    from .dense import is_float_type

    return is_float_type(t) or (isinstance(t, TensorType) and is_float_type(t.element_type))


def _zero(t: Attribute) -> Operation:
    from xdsl.dialects import arith
    from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, FloatAttr

    if isinstance(t, TensorType):
        return arith.ConstantOp(DenseIntOrFPElementsAttr.from_list(t, [0.0]))
    return arith.ConstantOp(FloatAttr(0.0, t))


def _part(rule: CustomReverseRuleOp, cls: type) -> _RulePart:
    parts = [op for op in rule.body.block.ops if isinstance(op, cls)]
    if len(parts) != 1:
        what = "augmented_primal" if cls is AugmentedPrimalOp else "reverse"
        raise RuleError(f"'enzyme.custom_reverse_rule' @{rule.sym_name.data}{_where(rule)} needs exactly one '{what}' region, found {len(parts)}")
    return parts[0]


def _lower_rule(rule: CustomReverseRuleOp) -> tuple[func.FuncOp, func.FuncOp]:
    name = rule.sym_name.data
    ftype = rule.attributes.get("function_type")
    if not isinstance(ftype, FunctionType):
        raise RuleError(f"'enzyme.custom_reverse_rule' @{name}{_where(rule)}: the attribute 'function_type' is missing")
    ins, outs = list(ftype.inputs.data), list(ftype.outputs.data)
    act, ret_act = kind_names(rule, "activity"), kind_names(rule, "ret_activity")
    if len(act) != len(ins) or len(ret_act) != len(outs):
        raise RuleError(f"'enzyme.custom_reverse_rule' @{name}{_where(rule)}: activity has {len(act)} entries and ret_activity {len(ret_act)} for a function type {ftype}")
    caches = [op.result for op in rule.body.block.ops if isinstance(op, InitOp)]
    aug, rev = _part(rule, AugmentedPrimalOp), _part(rule, ReverseOp)

    # fwd: the augmented primal, pushes become residuals
    pushed: dict[SSAValue, SSAValue] = {}
    block = Block(arg_types=ins)
    env: dict[SSAValue, SSAValue] = dict(zip(aug.body.block.args, block.args))
    for op in aug.body.block.ops:
        if isinstance(op, YieldOp):
            results = [env.get(v, v) for v in op.values]
            break
        if isinstance(op, PushOp):
            if op.cache in pushed:
                raise RuleError(f"'enzyme.push'{_where(op)} in rule @{name}: the cache is pushed twice in one call; zymase keeps one value per cache")
            pushed[op.cache] = env.get(op.value, op.value)
            continue
        if any(isinstance(inner, PushOp) for inner in op.walk()):
            raise RuleError(f"'enzyme.push'{_where(op)} in rule @{name}: a push inside a nested region is not supported")
        block.add_op(op.clone(value_mapper=env))
    else:
        raise RuleError(f"rule @{name}{_where(rule)}: the augmented primal does not end with enzyme.yield")
    order = [c for c in caches if c in pushed]
    residuals = [pushed[c] for c in order]
    block.add_op(func.ReturnOp(*results, *residuals))
    fwd = func.FuncOp(f"{name}.fwd", ([a.type for a in block.args], [v.type for v in [*results, *residuals]]), Region(block), visibility="private")

    # bwd: (residuals..., cotangents of the float results) -> cotangents of the float arguments
    float_outs = [i for i, t in enumerate(outs) if _is_float(t)]
    float_ins = [i for i, t in enumerate(ins) if _is_float(t)]
    res_types = [v.type for v in residuals]
    bblock = Block(arg_types=[*res_types, *(outs[i] for i in float_outs)])
    cache_arg = dict(zip(order, bblock.args[: len(order)]))
    ct_of = dict(zip(float_outs, bblock.args[len(order) :]))
    rargs = rev.body.block.args
    active_outs = [i for i, k in enumerate(ret_act) if k in ("enzyme_active", "enzyme_activenoneed")]
    if len(rargs) != len(active_outs):
        raise RuleError(f"reverse region of rule @{name}{_where(rev)} takes {len(rargs)} cotangents; ret_activity has {len(active_outs)} active results")
    env = {}
    for a, i in zip(rargs, active_outs):
        if i not in ct_of:
            raise RuleError(f"rule @{name}{_where(rev)}: result {i} is active but not a float")
        env[a] = ct_of[i]
    popped: set[SSAValue] = set()
    for op in rev.body.block.ops:
        if isinstance(op, YieldOp):
            cts = [env.get(v, v) for v in op.values]
            break
        if isinstance(op, PopOp):
            if op.cache not in cache_arg:
                raise RuleError(f"'enzyme.pop'{_where(op)} in rule @{name}: the cache is never pushed by the augmented primal")
            if op.cache in popped:
                raise RuleError(f"'enzyme.pop'{_where(op)} in rule @{name}: the cache is popped twice in one call; it holds one value")
            popped.add(op.cache)
            env[op.result] = cache_arg[op.cache]
            continue
        if any(isinstance(inner, (PopOp, PushOp)) for inner in op.walk()):
            raise RuleError(f"'enzyme.pop'{_where(op)} in rule @{name}: a pop inside a nested region is not supported")
        bblock.add_op(op.clone(value_mapper=env))
    else:
        raise RuleError(f"rule @{name}{_where(rev)}: the reverse region does not end with enzyme.yield")
    active_ins = [i for i, k in enumerate(act) if k == "enzyme_active"]
    if len(cts) != len(active_ins):
        raise RuleError(f"reverse region of rule @{name}{_where(rev)} yields {len(cts)} cotangents; activity has {len(active_ins)} active arguments")
    by_arg = dict(zip(active_ins, cts))
    outs_b = []
    for i in float_ins:
        if i in by_arg:
            outs_b.append(by_arg[i])
        else:
            z = _zero(ins[i])
            bblock.add_op(z)
            outs_b.append(z.results[0])
    bblock.add_op(func.ReturnOp(*outs_b))
    bwd = func.FuncOp(f"{name}.bwd", ([a.type for a in bblock.args], [v.type for v in outs_b]), Region(bblock), visibility="private")
    return fwd, bwd


def rule_names(fn: func.FuncOp) -> list[str]:
    attr = fn.attributes.get(RULE_SET)
    if isinstance(attr, SymbolRefAttr):
        return [attr.root_reference.data]
    if isinstance(attr, ArrayAttr):
        return [a.root_reference.data for a in attr.data if isinstance(a, SymbolRefAttr)]
    return []


def lower_custom_reverse_rules(module: Operation) -> bool:
    """Each ``enzyme.custom_reverse_rule`` -> ``@<rule>.fwd`` and ``@<rule>.bwd``; each
    function with ``enzyme.custom_rule`` gets its rules' activities (``zymase.rule_activity``,
    in the order named) and the custom_vjp attributes of its usable rule with the most
    active arguments (the enzyme pass chooses per call). A rule zymase cannot use is
    reported when a call would use it (``zymase.rule_errors``)."""
    from .enzyme import CUSTOM_RULE_MISSING, CUSTOM_VJP_BWD, CUSTOM_VJP_FWD

    rules = [op for op in module.ops if isinstance(op, CustomReverseRuleOp)]
    if not rules:
        return False
    activity: dict[str, Attribute] = {}
    errors: dict[str, str] = {}
    width: dict[str, int] = {}
    for rule in rules:
        name = rule.sym_name.data
        activity[name] = rule.attributes.get("activity", ArrayAttr([]))
        width[name] = sum(k == "enzyme_active" for k in kind_names(rule, "activity")) if "activity" in rule.attributes else 0
        try:
            fwd, bwd = _lower_rule(rule)
        except RuleError as e:
            errors[name] = e.message
            continue
        module.body.block.insert_op_before(fwd, rule)
        module.body.block.insert_op_before(bwd, rule)
    for rule in rules:
        rule.detach()
        rule.erase(safe_erase=False)
    for fn in module.ops:
        if not isinstance(fn, func.FuncOp):
            continue
        names = rule_names(fn)
        if not names:
            continue
        missing = [n for n in names if n not in activity]
        if missing:
            raise RuleError(f"@{fn.sym_name.data} names the rule @{missing[0]}, which is not an enzyme.custom_reverse_rule of the module")
        fn.attributes[RULE_ACTIVITY] = ArrayAttr([activity[n] for n in names])
        fn.attributes[RULE_ERRORS] = ArrayAttr([StringAttr(errors.get(n, "")) for n in names])
        usable = [n for n in names if n not in errors]
        if usable:
            widest = max(usable, key=lambda n: width[n])
            fn.attributes[CUSTOM_VJP_FWD] = SymbolRefAttr(f"{widest}.fwd")
            fn.attributes[CUSTOM_VJP_BWD] = SymbolRefAttr(f"{widest}.bwd")
        else:
            fn.attributes[CUSTOM_RULE_MISSING] = StringAttr(errors[names[0]])
    return True


RULE_OPS = [CustomReverseRuleOp, AugmentedPrimalOp, ReverseOp, InitOp, PushOp, PopOp, YieldOp]
RULE_ATTRS = [CacheType]

__all__ = ["CustomReverseRuleOp", "AugmentedPrimalOp", "ReverseOp", "InitOp", "PushOp", "PopOp", "YieldOp", "CacheType", "RuleError", "lower_custom_reverse_rules", "rule_names", "RULE_OPS", "RULE_ATTRS", "RULE_SET", "RULE_OF", "RULE_ACTIVITY", "RULE_ERRORS"]
