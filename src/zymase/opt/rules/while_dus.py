"""While loops whose carried buffers are only overwritten: a carried value the body sets
to a value from before the loop (its old value unread) is that value after a loop that
runs at least once.

Exact: the loop's trip count is known (``analysis.trip_count``), and a dropped carried
value is read neither by the condition nor by the body.
"""

from __future__ import annotations

from xdsl.ir import BlockArgument

from ...ir import stablehlo as hlo
from ...ir.builder import Builder
from ..pattern import Example, rule
from .while_loop import _exact_trip_count, _has_uses, _inside, _rebuild, _yields


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<4xf64>, %u: tensor<2xf64>) -> (tensor<4xf64>, tensor<2xf64>) {
  %i0 = stablehlo.constant dense<0> : tensor<i64>
  %z = stablehlo.constant dense<0.0> : tensor<2xf64>
  %r:3 = stablehlo.while(%i = %i0, %a = %x, %s = %z) : tensor<i64>, tensor<4xf64>, tensor<2xf64>
  cond {
    %n = stablehlo.constant dense<3> : tensor<i64>
    %p = stablehlo.compare LT, %i, %n : (tensor<i64>, tensor<i64>) -> tensor<i1>
    stablehlo.return %p : tensor<i1>
  } do {
    %a2 = stablehlo.dynamic_update_slice %a, %u, %i : (tensor<4xf64>, tensor<2xf64>, tensor<i64>) -> tensor<4xf64>
    %one = stablehlo.constant dense<1> : tensor<i64>
    %i2 = stablehlo.add %i, %one : tensor<i64>
    stablehlo.return %i2, %a2, %u : tensor<i64>, tensor<4xf64>, tensor<2xf64>
  }
  func.return %r#1, %r#2 : tensor<4xf64>, tensor<2xf64>
}"""
    ),
)
def while_carried_set_outside(op: hlo.WhileOp, b: Builder):
    """while(.., s, ..){ body returns v for s, s unread } -> v for the result; s no longer carried   (v defined before the loop; the loop runs at least once)"""
    body, cond = op.body.block, op.cond.block
    yields = _yields(op)
    n = len(op.operand)
    found = {}
    for k, y in enumerate(yields):
        if isinstance(y, BlockArgument) and y.block in (body, cond):
            continue
        if _inside(y, op) or _has_uses(body.args[k]) or _has_uses(cond.args[k]):
            continue
        if y.type != op.results[k].type:
            continue
        found[k] = y
    if not found or len(found) == n:
        return None
    trips = _exact_trip_count(op)
    if trips is None or trips < 1:
        return None
    return _rebuild(op, b, [k for k in range(n) if k not in found], found)
