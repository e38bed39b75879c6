"""Control flow and tuples: stablehlo.if and stablehlo.case whose predicate or index is a
constant (the taken branch inlined), with a single branch, whose branches only return
values defined outside (a select), with a negated predicate; get_tuple_element of a
tuple, a tuple of all the elements of one tuple.

Exact for every value: the branch that runs is the one the op would have run (a case
index out of range runs the last branch), and its ops are cloned in place of the op, so
effects keep their order.
"""

from __future__ import annotations

from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ...ir.query import body_ops, shape, terminator
from ..pattern import Example, producer, rule, value_of


def _inline(b: Builder, region) -> list[SSAValue]:
    """The ops of the one block of ``region`` (no arguments) cloned before the root; the
    values it returns."""
    block = region.block
    mapper: dict[SSAValue, SSAValue] = {}
    for o in body_ops(block):
        b.insert(o.clone(value_mapper=mapper))
    return [mapper.get(v, v) for v in terminator(block).operands]


def _inlinable(region) -> bool:
    return len(region.blocks) == 1 and not region.block.args


def _outside_returns(region, op) -> list[SSAValue] | None:
    """The returned values when the region's block is only its terminator, returning values
    defined outside ``op``."""
    if not _inlinable(region) or body_ops(region.block):
        return None
    return list(terminator(region.block).operands)


def _all_tensors(op) -> bool:
    return all(isinstance(r.type, TensorType) for r in op.results)


_IF_EXAMPLE = """
func.func @main(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %p = stablehlo.constant dense<%P> : tensor<i1>
  %r = "stablehlo.if"(%p) ({
    %a = stablehlo.add %x, %y : tensor<3xf64>
    "stablehlo.return"(%a) : (tensor<3xf64>) -> ()
  }, {
    %m = stablehlo.multiply %x, %y : tensor<3xf64>
    "stablehlo.return"(%m) : (tensor<3xf64>) -> ()
  }) : (tensor<i1>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}"""


@rule(example=[Example(mlir=_IF_EXAMPLE.replace("%P", "true")), Example(mlir=_IF_EXAMPLE.replace("%P", "false"))], needs={0: hlo.ConstantOp})
def if_constant_predicate(op: hlo.IfOp, b: Builder):
    """if(true, A, B) -> A ;  if(false, A, B) -> B   (the branch's ops inlined)"""
    p = value_of(op.pred)
    if p is None or p.size != 1:
        return None
    region = op.true_branch if bool(p.reshape(())) else op.false_branch
    if not _inlinable(region):
        return None
    return _inline(b, region)


_CASE_EXAMPLE = """
func.func @main(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %i = stablehlo.constant dense<%I> : tensor<i32>
  %r = "stablehlo.case"(%i) ({
    %a = stablehlo.add %x, %y : tensor<3xf64>
    "stablehlo.return"(%a) : (tensor<3xf64>) -> ()
  }, {
    %m = stablehlo.multiply %x, %y : tensor<3xf64>
    "stablehlo.return"(%m) : (tensor<3xf64>) -> ()
  }, {
    %s = stablehlo.subtract %x, %y : tensor<3xf64>
    "stablehlo.return"(%s) : (tensor<3xf64>) -> ()
  }) : (tensor<i32>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}"""


@rule(example=[Example(mlir=_CASE_EXAMPLE.replace("%I", "1")), Example(mlir=_CASE_EXAMPLE.replace("%I", "7"))], needs={0: hlo.ConstantOp})
def case_constant_index(op: hlo.CaseOp, b: Builder):
    """case(k, B0, ..., Bn) -> Bk   (k constant; an index out of [0, n] runs Bn; the branch's ops inlined)"""
    k = value_of(op.index)
    if k is None or k.size != 1:
        return None
    n = len(op.branches)
    k = int(k.reshape(()))
    region = op.branches[k if 0 <= k < n else n - 1]
    if not _inlinable(region):
        return None
    return _inline(b, region)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %i: tensor<i32>) -> tensor<3xf64> {
  %r = "stablehlo.case"(%i) ({
    %a = stablehlo.add %x, %x : tensor<3xf64>
    "stablehlo.return"(%a) : (tensor<3xf64>) -> ()
  }) : (tensor<i32>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}"""
    )
)
def case_single_branch(op: hlo.CaseOp, b: Builder):
    """case(k, B) -> B   (one branch runs whatever k is)"""
    if len(op.branches) != 1 or not _inlinable(op.branches[0]):
        return None
    return _inline(b, op.branches[0])


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %z = stablehlo.constant dense<0.0> : tensor<f64>
  %s = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0] : (tensor<3xf64>, tensor<f64>) -> tensor<f64>
  %p = stablehlo.compare GT, %s, %z : (tensor<f64>, tensor<f64>) -> tensor<i1>
  %r:2 = "stablehlo.if"(%p) ({
    "stablehlo.return"(%x, %y) : (tensor<3xf64>, tensor<3xf64>) -> ()
  }, {
    "stablehlo.return"(%y, %x) : (tensor<3xf64>, tensor<3xf64>) -> ()
  }) : (tensor<i1>) -> (tensor<3xf64>, tensor<3xf64>)
  %o = stablehlo.subtract %r#0, %r#1 : tensor<3xf64>
  func.return %o : tensor<3xf64>
}"""
    )
)
def if_returns_outside_values(op: hlo.IfOp, b: Builder):
    """if(p, return a, return b) -> select(p, a, b)   (both branches only return values defined outside)"""
    if not _all_tensors(op) or shape(op.pred) != ():
        return None
    a = _outside_returns(op.true_branch, op)
    c = _outside_returns(op.false_branch, op)
    if a is None or c is None:
        return None
    return [x if x is y else b.select(op.pred, x, y) for x, y in zip(a, c)]


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %z = stablehlo.constant dense<0.0> : tensor<f64>
  %s = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0] : (tensor<3xf64>, tensor<f64>) -> tensor<f64>
  %c = stablehlo.compare GT, %s, %z : (tensor<f64>, tensor<f64>) -> tensor<i1>
  %i = stablehlo.convert %c : (tensor<i1>) -> tensor<i32>
  %r = "stablehlo.case"(%i) ({
    "stablehlo.return"(%x) : (tensor<3xf64>) -> ()
  }, {
    "stablehlo.return"(%y) : (tensor<3xf64>) -> ()
  }) : (tensor<i32>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}"""
    )
)
def case_two_returns_outside_values(op: hlo.CaseOp, b: Builder):
    """case(k, return a, return b) -> select(k == 0, a, b)   (both branches only return values defined outside; any k but 0 runs the last branch)"""
    if len(op.branches) != 2 or not _all_tensors(op) or shape(op.index) != ():
        return None
    a = _outside_returns(op.branches[0], op)
    c = _outside_returns(op.branches[1], op)
    if a is None or c is None:
        return None
    if all(x is y for x, y in zip(a, c)):
        return a
    zero = b.constant(0, op.index.type)
    p = b.compare(op.index, zero, "EQ")
    return [x if x is y else b.select(p, x, y) for x, y in zip(a, c)]


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %i: tensor<i32>) -> tensor<3xf64> {
  %r = "stablehlo.case"(%i) ({
    "stablehlo.return"(%x) : (tensor<3xf64>) -> ()
  }, {
    "stablehlo.return"(%x) : (tensor<3xf64>) -> ()
  }, {
    "stablehlo.return"(%x) : (tensor<3xf64>) -> ()
  }) : (tensor<i32>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}"""
    )
)
def case_same_returns(op: hlo.CaseOp, b: Builder):
    """case(k, return a, ..., return a) -> a   (every branch only returns the same values defined outside)"""
    first = _outside_returns(op.branches[0], op) if len(op.branches) else None
    if first is None:
        return None
    for region in list(op.branches)[1:]:
        other = _outside_returns(region, op)
        if other is None or any(x is not y for x, y in zip(first, other)):
            return None
    return first


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %z = stablehlo.constant dense<0.0> : tensor<f64>
  %s = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0] : (tensor<3xf64>, tensor<f64>) -> tensor<f64>
  %c = stablehlo.compare GT, %s, %z : (tensor<f64>, tensor<f64>) -> tensor<i1>
  %p = stablehlo.not %c : tensor<i1>
  %r = "stablehlo.if"(%p) ({
    %a = stablehlo.add %x, %y : tensor<3xf64>
    "stablehlo.return"(%a) : (tensor<3xf64>) -> ()
  }, {
    %m = stablehlo.multiply %x, %y : tensor<3xf64>
    "stablehlo.return"(%m) : (tensor<3xf64>) -> ()
  }) : (tensor<i1>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}"""
    ),
    needs={0: hlo.NotOp},
)
def if_not_predicate(op: hlo.IfOp, b: Builder):
    """if(not p, A, B) -> if(p, B, A)"""
    n = producer(op.pred, hlo.NotOp)
    if n is None:
        return None
    true_branch = op.true_branch.clone()
    false_branch = op.false_branch.clone()
    new = hlo.IfOp.create(operands=[n.operand], result_types=[r.type for r in op.results], regions=[false_branch, true_branch])
    return list(b.insert(new).results)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %y: tensor<2xf64>) -> tensor<2xf64> {
  %t = stablehlo.tuple %x, %y : tuple<tensor<3xf64>, tensor<2xf64>>
  %e = stablehlo.get_tuple_element %t[1] : (tuple<tensor<3xf64>, tensor<2xf64>>) -> tensor<2xf64>
  func.return %e : tensor<2xf64>
}"""
    ),
    needs={0: hlo.TupleOp},
)
def get_tuple_element_tuple(op: hlo.GetTupleElementOp, b: Builder):
    """get_tuple_element(tuple(x0, ..., xn), i) -> xi"""
    t = producer(op.operand, hlo.TupleOp)
    if t is None:
        return None
    i = op.index.value.data
    if not 0 <= i < len(t.val):
        return None
    return t.val[i]


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %y: tensor<2xf64>) -> tensor<2xf64> {
  %t = stablehlo.tuple %x, %y : tuple<tensor<3xf64>, tensor<2xf64>>
  %a = stablehlo.get_tuple_element %t[0] : (tuple<tensor<3xf64>, tensor<2xf64>>) -> tensor<3xf64>
  %b = stablehlo.get_tuple_element %t[1] : (tuple<tensor<3xf64>, tensor<2xf64>>) -> tensor<2xf64>
  %u = stablehlo.tuple %a, %b : tuple<tensor<3xf64>, tensor<2xf64>>
  %e = stablehlo.get_tuple_element %u[1] : (tuple<tensor<3xf64>, tensor<2xf64>>) -> tensor<2xf64>
  func.return %e : tensor<2xf64>
}"""
    ),
    needs=hlo.GetTupleElementOp,
)
def tuple_get_tuple_elements(op: hlo.TupleOp, b: Builder):
    """tuple(get_tuple_element(t, 0), ..., get_tuple_element(t, n)) -> t   (all of t's elements, in order)"""
    source = None
    for k, v in enumerate(op.val):
        g = producer(v, hlo.GetTupleElementOp)
        if g is None or g.index.value.data != k or (source is not None and g.operand is not source):
            return None
        source = g.operand
    if source is None or source.type != op.result.type:
        return None
    return source


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %z = stablehlo.constant dense<0.0> : tensor<f64>
  %s = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0] : (tensor<3xf64>, tensor<f64>) -> tensor<f64>
  %c = stablehlo.compare GT, %s, %z : (tensor<f64>, tensor<f64>) -> tensor<i1>
  %i = stablehlo.convert %c : (tensor<i1>) -> tensor<i32>
  %r = "stablehlo.case"(%i) ({
    %a = stablehlo.add %x, %y : tensor<3xf64>
    "stablehlo.return"(%a) : (tensor<3xf64>) -> ()
  }, {
    %m = stablehlo.multiply %x, %y : tensor<3xf64>
    "stablehlo.return"(%m) : (tensor<3xf64>) -> ()
  }) : (tensor<i32>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}"""
    ),
    needs={0: hlo.ConvertOp},
)
def case_of_converted_boolean(op: hlo.CaseOp, b: Builder):
    """case(convert(p), B0, B1) -> if(p, B1, B0)   (p boolean: false runs B0, true B1)"""
    cv = producer(op.index, hlo.ConvertOp)
    if cv is None or len(op.branches) != 2 or shape(cv.operand) != ():
        return None
    t = cv.operand.type.get_element_type()
    if getattr(t, "width", None) is None or t.width.data != 1:
        return None
    new = hlo.IfOp.create(
        operands=[cv.operand], result_types=[r.type for r in op.results], regions=[op.branches[1].clone(), op.branches[0].clone()]
    )
    return list(b.insert(new).results)


def _same_regions(regions) -> bool:
    first = regions[0]
    return all(r.is_structurally_equivalent(first) for r in regions[1:])


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %z = stablehlo.constant dense<0.0> : tensor<f64>
  %s = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0] : (tensor<3xf64>, tensor<f64>) -> tensor<f64>
  %p = stablehlo.compare GT, %s, %z : (tensor<f64>, tensor<f64>) -> tensor<i1>
  %r = "stablehlo.if"(%p) ({
    %a = stablehlo.add %x, %y : tensor<3xf64>
    "stablehlo.return"(%a) : (tensor<3xf64>) -> ()
  }, {
    %a = stablehlo.add %x, %y : tensor<3xf64>
    "stablehlo.return"(%a) : (tensor<3xf64>) -> ()
  }) : (tensor<i1>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}"""
    )
)
def if_same_branches(op: hlo.IfOp, b: Builder):
    """if(p, A, A) -> A   (the branches are the same ops on the same values; inlined)"""
    if not _inlinable(op.true_branch) or not _inlinable(op.false_branch):
        return None
    if not _same_regions([op.true_branch, op.false_branch]):
        return None
    return _inline(b, op.true_branch)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %i: tensor<i32>) -> tensor<3xf64> {
  %r = "stablehlo.case"(%i) ({
    %a = stablehlo.sine %x : tensor<3xf64>
    "stablehlo.return"(%a) : (tensor<3xf64>) -> ()
  }, {
    %a = stablehlo.sine %x : tensor<3xf64>
    "stablehlo.return"(%a) : (tensor<3xf64>) -> ()
  }) : (tensor<i32>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}"""
    )
)
def case_same_branches(op: hlo.CaseOp, b: Builder):
    """case(k, B, ..., B) -> B   (every branch the same ops on the same values; inlined)"""
    regions = list(op.branches)
    if len(regions) < 2 or not all(_inlinable(r) for r in regions) or not _same_regions(regions):
        return None
    if all(not body_ops(r.block) for r in regions):
        return None  # case_same_returns
    return _inline(b, regions[0])


def _enclosing_branch(op, pred) -> bool | None:
    """True (False) when ``op`` is nested in the true (false) branch of an if on ``pred``."""
    region = op.parent_region()
    while region is not None:
        parent = region.parent_op()
        if parent is None:
            return None
        if isinstance(parent, hlo.IfOp) and parent.pred is pred:
            return region is parent.true_branch
        region = parent.parent_region()
    return None


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %z = stablehlo.constant dense<0.0> : tensor<f64>
  %s = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0] : (tensor<3xf64>, tensor<f64>) -> tensor<f64>
  %p = stablehlo.compare GT, %s, %z : (tensor<f64>, tensor<f64>) -> tensor<i1>
  %r = "stablehlo.if"(%p) ({
    %a = stablehlo.select %p, %x, %y : tensor<i1>, tensor<3xf64>
    "stablehlo.return"(%a) : (tensor<3xf64>) -> ()
  }, {
    %m = stablehlo.select %p, %x, %y : tensor<i1>, tensor<3xf64>
    %n = stablehlo.negate %m : tensor<3xf64>
    "stablehlo.return"(%n) : (tensor<3xf64>) -> ()
  }) : (tensor<i1>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}"""
    )
)
def select_predicate_of_enclosing_if(op: hlo.SelectOp, b: Builder):
    """if(p, {... select(p, x, y) ...}, {... select(p, x, y) ...}) -> x in the true branch, y in the false one   (p the if's predicate)"""
    if shape(op.pred) != ():
        return None
    taken = _enclosing_branch(op, op.pred)
    if taken is None:
        return None
    return op.on_true if taken else op.on_false


def _has_dtype(v: SSAValue) -> bool:
    """A constant of ``v``'s type can be built (its element type has a numpy dtype)."""
    from ...ir.dense import element_dtype

    try:
        element_dtype(v.type.get_element_type())
    except (TypeError, ValueError, KeyError):
        return False
    return True


def _without_unused(op, b: Builder, regions):
    """``op`` again (an if or a case) returning only its used results; zeros, unused, for the
    others. None when every result is used or a result is not a tensor."""
    keep = [k for k, r in enumerate(op.results) if r.uses]
    if len(keep) == len(op.results) or not _all_tensors(op) or not all(_inlinable(r) for r in regions):
        return None
    if any(n < 0 for r in op.results for n in shape(r)) or not all(_has_dtype(r) for k, r in enumerate(op.results) if k not in keep):
        return None
    clones = []
    for region in regions:
        c = region.clone()
        term = terminator(c.block)
        c.block.insert_op_before(hlo.ReturnOp([term.operands[k] for k in keep]), term)
        c.block.erase_op(term)
        clones.append(c)
    new = b.insert(type(op).create(operands=list(op.operands), result_types=[op.results[k].type for k in keep], regions=clones))
    out = dict(zip(keep, new.results))
    return [out[k] if k in out else b.zeros(r.type) for k, r in enumerate(op.results)]


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %z = stablehlo.constant dense<0.0> : tensor<f64>
  %s = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0] : (tensor<3xf64>, tensor<f64>) -> tensor<f64>
  %p = stablehlo.compare GT, %s, %z : (tensor<f64>, tensor<f64>) -> tensor<i1>
  %r:2 = "stablehlo.if"(%p) ({
    %a = stablehlo.add %x, %y : tensor<3xf64>
    %e = stablehlo.exponential %x : tensor<3xf64>
    "stablehlo.return"(%a, %e) : (tensor<3xf64>, tensor<3xf64>) -> ()
  }, {
    %m = stablehlo.multiply %x, %y : tensor<3xf64>
    %l = stablehlo.log %y : tensor<3xf64>
    "stablehlo.return"(%m, %l) : (tensor<3xf64>, tensor<3xf64>) -> ()
  }) : (tensor<i1>) -> (tensor<3xf64>, tensor<3xf64>)
  func.return %r#0 : tensor<3xf64>
}"""
    )
)
def if_unused_results(op: hlo.IfOp, b: Builder):
    """if(p, A, B) -> if(p, A', B')   (A', B' return only the results that are used)"""
    return _without_unused(op, b, [op.true_branch, op.false_branch])


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %i: tensor<i32>) -> tensor<3xf64> {
  %r:2 = "stablehlo.case"(%i) ({
    %a = stablehlo.add %x, %x : tensor<3xf64>
    %e = stablehlo.exponential %x : tensor<3xf64>
    "stablehlo.return"(%a, %e) : (tensor<3xf64>, tensor<3xf64>) -> ()
  }, {
    %m = stablehlo.multiply %x, %x : tensor<3xf64>
    "stablehlo.return"(%m, %m) : (tensor<3xf64>, tensor<3xf64>) -> ()
  }) : (tensor<i32>) -> (tensor<3xf64>, tensor<3xf64>)
  func.return %r#0 : tensor<3xf64>
}"""
    )
)
def case_unused_results(op: hlo.CaseOp, b: Builder):
    """case(k, B0, ..., Bn) -> case(k, B0', ..., Bn')   (the branches return only the results that are used)"""
    return _without_unused(op, b, list(op.branches))


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %z = stablehlo.constant dense<0.0> : tensor<f64>
  %s = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0] : (tensor<3xf64>, tensor<f64>) -> tensor<f64>
  %p = stablehlo.compare GT, %s, %z : (tensor<f64>, tensor<f64>) -> tensor<i1>
  %r = "stablehlo.if"(%p) ({
    %in = "stablehlo.if"(%p) ({
      %a = stablehlo.add %x, %y : tensor<3xf64>
      "stablehlo.return"(%a) : (tensor<3xf64>) -> ()
    }, {
      %m = stablehlo.multiply %x, %y : tensor<3xf64>
      "stablehlo.return"(%m) : (tensor<3xf64>) -> ()
    }) : (tensor<i1>) -> tensor<3xf64>
    "stablehlo.return"(%in) : (tensor<3xf64>) -> ()
  }, {
    "stablehlo.return"(%y) : (tensor<3xf64>) -> ()
  }) : (tensor<i1>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}"""
    )
)
def if_nested_same_predicate(op: hlo.IfOp, b: Builder):
    """if(p, {... if(p, A, B) ...}, {... if(p, C, D) ...}) -> A in the true branch, D in the false one   (the inner if inlined)"""
    taken = _enclosing_branch(op, op.pred)
    if taken is None:
        return None
    region = op.true_branch if taken else op.false_branch
    if not _inlinable(region):
        return None
    return _inline(b, region)


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %z = stablehlo.constant dense<0.0> : tensor<f64>
  %s = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0] : (tensor<3xf64>, tensor<f64>) -> tensor<f64>
  %p = stablehlo.compare GT, %s, %z : (tensor<f64>, tensor<f64>) -> tensor<i1>
  %c2 = stablehlo.constant dense<2> : tensor<i32>
  %c0 = stablehlo.constant dense<0> : tensor<i32>
  %i = stablehlo.select %p, %c2, %c0 : tensor<i1>, tensor<i32>
  %r = "stablehlo.case"(%i) ({
    %a = stablehlo.add %x, %y : tensor<3xf64>
    "stablehlo.return"(%a) : (tensor<3xf64>) -> ()
  }, {
    %m = stablehlo.multiply %x, %y : tensor<3xf64>
    "stablehlo.return"(%m) : (tensor<3xf64>) -> ()
  }, {
    %d = stablehlo.subtract %x, %y : tensor<3xf64>
    "stablehlo.return"(%d) : (tensor<3xf64>) -> ()
  }) : (tensor<i32>) -> tensor<3xf64>
  func.return %r : tensor<3xf64>
}"""
    ),
    needs={0: hlo.SelectOp},
)
def case_of_select_constants(op: hlo.CaseOp, b: Builder):
    """case(select(p, c1, c2), B...) -> if(p, Bc1, Bc2)   (constant indices; one out of range runs the last branch)"""
    s = producer(op.index, hlo.SelectOp)
    if s is None or shape(s.pred) != ():
        return None
    t, f = value_of(s.on_true), value_of(s.on_false)
    if t is None or f is None or t.size != 1 or f.size != 1:
        return None
    n = len(op.branches)
    pick = [int(v.reshape(())) for v in (t, f)]
    pick = [k if 0 <= k < n else n - 1 for k in pick]
    new = hlo.IfOp.create(
        operands=[s.pred], result_types=[r.type for r in op.results], regions=[op.branches[pick[0]].clone(), op.branches[pick[1]].clone()]
    )
    return list(b.insert(new).results)
