"""Sorts whose result is known: operands that are the same along the sorted dimension
(splats, broadcasts), an iota already in order, a constant sorted at compile time.

Exact for every value: a sort permutes its operands along the dimension, so values equal
along it come out as they went in whatever the comparator; the constant fold only takes
comparators ``compare(a, b)`` with LT or GT on integers, or on floats that are distinct
and not NaN, whose order is then the one numpy gives.
"""

from __future__ import annotations


from ...ir import stablehlo as hlo
from ...ir.attributes import ComparisonType
from ...ir.builder import Builder
from ...ir.query import body_ops, shape, terminator
from ..lazy_jax import jnp, lax
from ..pattern import Example, producer, rule, value_of
from .common import MAX_FOLD_ELEMENTS, emit, splat_scalar


def _dimension(op: hlo.SortOp) -> int:
    d = op.dimension.value.data if op.dimension is not None else -1
    return d % len(shape(op.inputs[0])) if shape(op.inputs[0]) else 0


def _same_along(v, d: int) -> bool:
    """Every element of ``v`` equals its neighbours along dimension ``d``."""
    if splat_scalar(v) is not None:
        return True
    bc = producer(v, hlo.BroadcastInDimOp)
    if bc is not None:
        dims = list(bc.broadcast_dimensions.get_values())
        if d not in dims:
            return True
        return shape(bc.operand)[dims.index(d)] == 1
    it = producer(v, hlo.IotaOp)
    return it is not None and it.iota_dimension.value.data != d


@rule(
    example=[
        Example(lambda x: lax.sort(jnp.broadcast_to(x[:, None], (3, 4)), dimension=1) * 2.0, [(3,)]),
        Example(lambda x: lax.sort((jnp.broadcast_to(x[:, None], (3, 4)), jnp.zeros((3, 4))), dimension=1, num_keys=1)[0], [(3,)]),
    ],
)
def sort_same_along_dimension(op: hlo.SortOp, b: Builder):
    """sort(xs, d) -> xs   (every operand the same along d: splats, broadcasts along d, iotas of another dimension)"""
    if not op.inputs:
        return None
    d = _dimension(op)
    if not all(_same_along(v, d) for v in op.inputs):
        return None
    return list(op.inputs)


def _simple_comparator(op: hlo.SortOp) -> str | None:
    """LT or GT when the comparator is ``return compare(a0, b0, LT|GT)`` (not TOTALORDER) on a
    one-operand sort, else None."""
    if len(op.comparator.blocks) != 1:
        return None
    block = op.comparator.block
    ops = body_ops(block)
    if len(block.args) != 2 or len(ops) != 1 or not isinstance(ops[0], hlo.CompareOp):
        return None
    c = ops[0]
    if list(terminator(block).operands) != [c.result] or (c.lhs, c.rhs) != (block.args[0], block.args[1]):
        return None
    if c.compare_type is not None and c.compare_type.data == ComparisonType.TOTALORDER:
        return None
    direction = c.comparison_direction.data.value
    return direction if direction in ("LT", "GT") else None


def _compare_kind(op: hlo.SortOp) -> str | None:
    c = body_ops(op.comparator.block)[0]
    if c.compare_type is None or c.compare_type.data == ComparisonType.NOTYPE:
        return None
    return str(c.compare_type.data.value)


def _is_iota_along(v, d: int) -> bool:
    import numpy as np
    it = producer(v, hlo.IotaOp)
    return it is not None and it.iota_dimension.value.data == d and np.dtype(_dtype(v)).kind in "iu"


def _dtype(v):
    from ...ir.dense import element_dtype

    return element_dtype(v.type.get_element_type())


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3x4xi32>) -> tensor<3x4xi32> {
  %0 = stablehlo.iota dim = 1 : tensor<3x4xi32>
  %1 = "stablehlo.sort"(%0) <{dimension = 1 : i64, is_stable = false}> ({
  ^bb0(%a: tensor<i32>, %b: tensor<i32>):
    %c = stablehlo.compare LT, %a, %b, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
    stablehlo.return %c : tensor<i1>
  }) : (tensor<3x4xi32>) -> tensor<3x4xi32>
  %2 = stablehlo.add %1, %x : tensor<3x4xi32>
  func.return %2 : tensor<3x4xi32>
}"""
    ),
    needs={0: hlo.IotaOp},
)
def sort_iota_ascending(op: hlo.SortOp, b: Builder):
    """sort(iota(d), d, LT) -> iota(d)   (integers, already ascending along d; iota's last value fits its type)"""
    import numpy as np
    if len(op.inputs) != 1 or _simple_comparator(op) != "LT":
        return None
    d = _dimension(op)
    v = op.inputs[0]
    if not _is_iota_along(v, d):
        return None
    dt = np.dtype(_dtype(v))
    if shape(v)[d] - 1 > np.iinfo(dt).max:
        return None
    return v


@rule(
    example=[
        Example(
            mlir="""
func.func @main(%x: tensor<2x3xi32>) -> tensor<2x3xi32> {
  %0 = stablehlo.constant dense<[[3, -1, 2], [0, 7, -4]]> : tensor<2x3xi32>
  %1 = "stablehlo.sort"(%0) <{dimension = 1 : i64, is_stable = false}> ({
  ^bb0(%a: tensor<i32>, %b: tensor<i32>):
    %c = stablehlo.compare LT, %a, %b, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
    stablehlo.return %c : tensor<i1>
  }) : (tensor<2x3xi32>) -> tensor<2x3xi32>
  %2 = stablehlo.add %1, %x : tensor<2x3xi32>
  func.return %2 : tensor<2x3xi32>
}"""
        ),
        Example(
            mlir="""
func.func @main(%x: tensor<4xf64>) -> tensor<4xf64> {
  %0 = stablehlo.constant dense<[3.5, -1.0, 0.0, 2.25]> : tensor<4xf64>
  %1 = "stablehlo.sort"(%0) <{dimension = 0 : i64, is_stable = true}> ({
  ^bb0(%a: tensor<f64>, %b: tensor<f64>):
    %c = stablehlo.compare LT, %a, %b, FLOAT : (tensor<f64>, tensor<f64>) -> tensor<i1>
    stablehlo.return %c : tensor<i1>
  }) : (tensor<4xf64>) -> tensor<4xf64>
  %2 = stablehlo.add %1, %x : tensor<4xf64>
  func.return %2 : tensor<4xf64>
}"""
        ),
    ],
    needs={0: hlo.ConstantOp},
)
def sort_constant_fold(op: hlo.SortOp, b: Builder):
    """sort(c, d, LT|GT) -> c'   (one constant operand: integers, or distinct floats without NaN)"""
    import numpy as np
    if len(op.inputs) != 1:
        return None
    direction = _simple_comparator(op)
    value = value_of(op.inputs[0])
    if direction is None or value is None or value.size > MAX_FOLD_ELEMENTS or value.ndim == 0:
        return None
    d = _dimension(op)
    kind = _compare_kind(op)
    if kind is not None and kind != {"f": "FLOAT", "i": "SIGNED", "u": "UNSIGNED"}.get(value.dtype.kind):
        return None
    if value.dtype.kind == "f":
        if np.isnan(value).any():
            return None
        ordered = np.sort(value, axis=d)
        if value.shape[d] > 1 and (np.diff(ordered, axis=d) == 0).any():
            return None  # equal keys (-0.0 and 0.0 among them) come out in an order the sort chooses
    elif value.dtype.kind in "iu":
        ordered = np.sort(value, axis=d)
    else:
        return None
    if direction == "GT":
        ordered = np.flip(ordered, axis=d)
    return emit(b, np.ascontiguousarray(ordered), op.results_[0].type)


def _integer_key(v) -> bool:
    import numpy as np
    return np.dtype(_dtype(v)).kind in "iu"


_SORT_LT = """
  %S = "stablehlo.sort"(%IN) <{dimension = 1 : i64, is_stable = false}> ({
  ^bb0(%a: tensor<i32>, %b: tensor<i32>):
    %c = stablehlo.compare LT, %a, %b, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
    stablehlo.return %c : tensor<i1>
  }) : (tensor<3x4xi32>) -> tensor<3x4xi32>"""


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3x4xi32>) -> tensor<3x4xi32> {"""
        + _SORT_LT.replace("%S", "%0").replace("%IN", "%x")
        + _SORT_LT.replace("%S", "%1").replace("%IN", "%0")
        + """
  func.return %1 : tensor<3x4xi32>
}"""
    ),
    needs={0: hlo.SortOp},
)
def sort_sort_integer(op: hlo.SortOp, b: Builder):
    """sort(sort(x, d, cmp), d, cmp) -> sort(x, d, cmp)   (one integer operand, the same compare(a, b) LT or GT comparator: already in order)"""
    inner = producer(op.inputs[0], hlo.SortOp) if len(op.inputs) == 1 else None
    if inner is None or len(inner.inputs) != 1 or not _integer_key(op.inputs[0]):
        return None
    if _dimension(op) != _dimension(inner) or _simple_comparator(op) is None:
        return None
    if not op.comparator.is_structurally_equivalent(inner.comparator):
        return None
    return op.inputs[0]


@rule(
    example=Example(
        mlir="""
func.func @main(%x: tensor<3x4xi32>) -> tensor<3x4xi32> {
  %r = stablehlo.reverse %x, dims = [1] : tensor<3x4xi32>"""
        + _SORT_LT.replace("%S", "%1").replace("%IN", "%r")
        + """
  func.return %1 : tensor<3x4xi32>
}"""
    ),
    needs={0: hlo.ReverseOp},
)
def sort_reverse_integer(op: hlo.SortOp, b: Builder):
    """sort(reverse(x, [d]), d) -> sort(x, d)   (one integer operand, a compare(a, b) LT or GT comparator: the order of the input does not matter)"""
    if len(op.inputs) != 1 or not _integer_key(op.inputs[0]) or _simple_comparator(op) is None:
        return None
    r = producer(op.inputs[0], hlo.ReverseOp)
    if r is None or [int(v) for v in r.dimensions.get_values()] != [_dimension(op)]:
        return None
    new = hlo.SortOp.create(
        operands=[r.operand], result_types=[op.results_[0].type], properties=dict(op.properties), regions=[op.comparator.clone()]
    )
    return b.insert(new).results[0]


@rule(
    example=[
        Example(lambda x: jnp.max(jnp.sort(x, axis=1), axis=1), [(3, 4)]),
        Example(
            mlir="""
func.func @main(%x: tensor<3x4xi32>) -> tensor<3xi32> {"""
            + _SORT_LT.replace("%S", "%0").replace("%IN", "%x")
            + """
  %z = stablehlo.constant dense<0> : tensor<i32>
  %1 = stablehlo.reduce(%0 init: %z) applies stablehlo.add across dimensions = [1] : (tensor<3x4xi32>, tensor<i32>) -> tensor<3xi32>
  func.return %1 : tensor<3xi32>
}"""
        ),
    ],
    needs={0: hlo.SortOp},
)
def reduce_of_sort(op: hlo.ReduceOp, b: Builder):
    """reduce(sort(x, d), k, D) -> reduce(x, k, D)   (d in D: the sort only permutes what is reduced; k maximum or minimum, or integer add, multiply, and, or, xor)"""
    import numpy as np
    if len(op.inputs) != 1:
        return None
    s = producer(op.inputs[0], hlo.SortOp)
    if s is None or len(s.inputs) != 1:
        return None
    kind = op.combiner()
    dims = [int(v) for v in op.dimensions.get_values()]
    if _dimension(s) not in dims:
        return None
    if kind in (hlo.MaximumOp, hlo.MinimumOp):
        if np.dtype(_dtype(s.inputs[0])).kind not in "fiu":
            return None
    elif kind in (hlo.AddOp, hlo.MultiplyOp, hlo.AndOp, hlo.OrOp, hlo.XorOp):
        if np.dtype(_dtype(s.inputs[0])).kind not in "iub":
            return None
    else:
        return None
    new = hlo.ReduceOp.create(
        operands=[s.inputs[0], op.init_values[0]],
        result_types=[op.results_[0].type],
        properties=dict(op.properties),
        regions=[op.body.clone()],
    )
    return b.insert(new).results[0]
