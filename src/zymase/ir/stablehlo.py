"""The StableHLO dialect on xDSL: the ops JAX emits for ordinary programs.

Field names follow the StableHLO specification (``operand``, ``lhs``/``rhs``,
``broadcast_dimensions``, ...). Result types are checked where that is cheap:
elementwise shapes, broadcast_in_dim, reshape, transpose, slice, dot_general.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    ArrayAttr,
    BoolAttr,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
    TensorType,
    i1,
    i64,
)
from xdsl.ir import Attribute, Dialect, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    SameVariadicOperandSize,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_region_def,
    var_result_def,
)
from xdsl.traits import Commutative, IsTerminator, Pure, RecursiveMemoryEffect
from xdsl.utils.exceptions import VerifyException

from .attributes import (
    STABLEHLO_ATTRIBUTES,
    ComparisonDirectionAttr,
    ComparisonTypeAttr,
    ConvDimensionNumbersAttr,
    DotDimensionNumbersAttr,
    GatherDimensionNumbersAttr,
    RngAlgorithmAttr,
    ScatterDimensionNumbersAttr,
    TransposeAttr,
)


def i64_array(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


def shape_of(value: SSAValue | Attribute) -> tuple[int, ...]:
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType), f"expected a tensor type, got {t}"
    return tuple(t.get_shape())


def _fail(op: IRDLOperation, message: str) -> None:
    raise VerifyException(f"'{op.name}' op {message}")


# ----------------------------------------------------------------- elementwise


class ElementwiseOp(IRDLOperation):
    """Base of elementwise ops: all operands and results have one shape."""

    def verify_(self) -> None:
        shapes = {shape_of(v) for v in (*self.operands, *self.results) if isinstance(v.type, TensorType)}
        if len(shapes) > 1:
            _fail(self, f"requires all operands and results to have the same shape, got {sorted(shapes)}")


class UnaryElementwiseOp(ElementwiseOp):
    operand = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, operand: SSAValue, result_type: Attribute | None = None):
        super().__init__(operands=[operand], result_types=[result_type or SSAValue.get(operand).type])


class BinaryElementwiseOp(ElementwiseOp):
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, lhs: SSAValue, rhs: SSAValue, result_type: Attribute | None = None):
        super().__init__(operands=[lhs, rhs], result_types=[result_type or SSAValue.get(lhs).type])


class CommutativeBinaryOp(BinaryElementwiseOp):
    traits = traits_def(Pure(), Commutative())


def _unary(mnemonic: str, doc: str) -> type[UnaryElementwiseOp]:
    cls = type(
        "".join(p.capitalize() for p in mnemonic.split("_")) + "Op",
        (UnaryElementwiseOp,),
        {"name": f"stablehlo.{mnemonic}", "__doc__": doc, "__module__": __name__},
    )
    return irdl_op_definition(cls)


def _binary(mnemonic: str, doc: str, commutative: bool = False) -> type[BinaryElementwiseOp]:
    base = CommutativeBinaryOp if commutative else BinaryElementwiseOp
    cls = type(
        "".join(p.capitalize() for p in mnemonic.split("_")) + "Op",
        (base,),
        {"name": f"stablehlo.{mnemonic}", "__doc__": doc, "__module__": __name__},
    )
    return irdl_op_definition(cls)


AbsOp = _unary("abs", "|x|")
NegateOp = _unary("negate", "-x")
SignOp = _unary("sign", "sign(x)")
FloorOp = _unary("floor", "floor(x)")
CeilOp = _unary("ceil", "ceil(x)")
RoundNearestEvenOp = _unary("round_nearest_even", "round half to even")
RoundNearestAfzOp = _unary("round_nearest_afz", "round half away from zero")
ExponentialOp = _unary("exponential", "exp(x)")
ExponentialMinusOneOp = _unary("exponential_minus_one", "exp(x) - 1")
LogOp = _unary("log", "log(x)")
LogPlusOneOp = _unary("log_plus_one", "log(1 + x)")
LogisticOp = _unary("logistic", "1 / (1 + exp(-x))")
SqrtOp = _unary("sqrt", "sqrt(x)")
RsqrtOp = _unary("rsqrt", "1 / sqrt(x)")
CbrtOp = _unary("cbrt", "cube root")
SineOp = _unary("sine", "sin(x)")
CosineOp = _unary("cosine", "cos(x)")
TanOp = _unary("tan", "tan(x)")
TanhOp = _unary("tanh", "tanh(x)")
NotOp = _unary("not", "bitwise / logical not")
PopcntOp = _unary("popcnt", "population count")
CountLeadingZerosOp = _unary("count_leading_zeros", "leading zero bits")
IsFiniteOp = _unary("is_finite", "x is neither inf nor nan (i1 result)")
RealOp = _unary("real", "real part")
ImagOp = _unary("imag", "imaginary part")
ConvertOp = _unary("convert", "element type conversion")
BitcastConvertOp = _unary("bitcast_convert", "reinterpret bits")

AddOp = _binary("add", "x + y", commutative=True)
SubtractOp = _binary("subtract", "x - y")
MultiplyOp = _binary("multiply", "x * y", commutative=True)
DivideOp = _binary("divide", "x / y")
MaximumOp = _binary("maximum", "max(x, y)", commutative=True)
MinimumOp = _binary("minimum", "min(x, y)", commutative=True)
PowerOp = _binary("power", "x ** y")
RemainderOp = _binary("remainder", "x rem y (sign of x)")
Atan2Op = _binary("atan2", "atan2(x, y)")
AndOp = _binary("and", "x & y", commutative=True)
OrOp = _binary("or", "x | y", commutative=True)
XorOp = _binary("xor", "x ^ y", commutative=True)
ShiftLeftOp = _binary("shift_left", "x << y")
ShiftRightArithmeticOp = _binary("shift_right_arithmetic", "x >> y (arithmetic)")
ShiftRightLogicalOp = _binary("shift_right_logical", "x >> y (logical)")
ComplexOp = _binary("complex", "x + i*y")

# BitcastConvert may change element width (and then rank): it is elementwise only in name.
BitcastConvertOp.verify_ = lambda self: None  # type: ignore[method-assign]


@irdl_op_definition
class CompareOp(ElementwiseOp):
    name = "stablehlo.compare"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    comparison_direction = prop_def(ComparisonDirectionAttr)
    compare_type = opt_prop_def(ComparisonTypeAttr)
    traits = traits_def(Pure())


@irdl_op_definition
class SelectOp(IRDLOperation):
    name = "stablehlo.select"
    pred = operand_def(TensorType)
    on_true = operand_def(TensorType)
    on_false = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, pred: SSAValue, on_true: SSAValue, on_false: SSAValue):
        super().__init__(operands=[pred, on_true, on_false], result_types=[SSAValue.get(on_true).type])

    def verify_(self) -> None:
        if shape_of(self.on_true) != shape_of(self.on_false) or shape_of(self.on_true) != shape_of(self.result):
            _fail(self, "requires on_true, on_false and result to have the same type")
        if shape_of(self.pred) not in ((), shape_of(self.on_true)):
            _fail(self, "requires pred to be a scalar or to have the shape of on_true")


@irdl_op_definition
class ClampOp(IRDLOperation):
    name = "stablehlo.clamp"
    min = operand_def(TensorType)
    operand = operand_def(TensorType)
    max = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())


# ----------------------------------------------------------------- constants


@irdl_op_definition
class ConstantOp(IRDLOperation):
    name = "stablehlo.constant"
    value = prop_def(DenseIntOrFPElementsAttr)
    output = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, value: DenseIntOrFPElementsAttr):
        super().__init__(properties={"value": value}, result_types=[value.type])


@irdl_op_definition
class IotaOp(IRDLOperation):
    name = "stablehlo.iota"
    iota_dimension = prop_def(IntegerAttr)
    output = result_def(TensorType)
    traits = traits_def(Pure())


# ----------------------------------------------------------------- shape ops


@irdl_op_definition
class BroadcastInDimOp(IRDLOperation):
    name = "stablehlo.broadcast_in_dim"
    operand = operand_def(TensorType)
    broadcast_dimensions = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, operand: SSAValue, dims: Sequence[int], result_type: Attribute):
        super().__init__(operands=[operand], result_types=[result_type], properties={"broadcast_dimensions": i64_array(dims)})

    def verify_(self) -> None:
        dims = self.broadcast_dimensions.get_values()
        src, dst = shape_of(self.operand), shape_of(self.result)
        if len(dims) != len(src):
            _fail(self, f"broadcast_dimensions has {len(dims)} entries for an operand of rank {len(src)}")
        if len(set(dims)) != len(dims):
            _fail(self, "broadcast_dimensions must not repeat")
        for i, d in enumerate(dims):
            if not 0 <= d < len(dst):
                _fail(self, f"broadcast dimension {d} is out of range for result rank {len(dst)}")
            if src[i] != 1 and src[i] != dst[d]:
                _fail(self, f"operand dimension {i} of size {src[i]} cannot broadcast to result dimension {d} of size {dst[d]}")


@irdl_op_definition
class ReshapeOp(IRDLOperation):
    name = "stablehlo.reshape"
    operand = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, operand: SSAValue, result_type: Attribute):
        super().__init__(operands=[operand], result_types=[result_type])

    def verify_(self) -> None:
        if math.prod(shape_of(self.operand)) != math.prod(shape_of(self.result)):
            _fail(self, f"cannot reshape {shape_of(self.operand)} to {shape_of(self.result)}: element counts differ")


@irdl_op_definition
class TransposeOp(IRDLOperation):
    name = "stablehlo.transpose"
    operand = operand_def(TensorType)
    permutation = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, operand: SSAValue, permutation: Sequence[int], result_type: Attribute | None = None):
        if result_type is None:
            t = SSAValue.get(operand).type
            src = shape_of(t)
            result_type = TensorType(t.get_element_type(), [src[p] for p in permutation])
        super().__init__(operands=[operand], result_types=[result_type], properties={"permutation": i64_array(permutation)})

    def verify_(self) -> None:
        perm = self.permutation.get_values()
        src, dst = shape_of(self.operand), shape_of(self.result)
        if sorted(perm) != list(range(len(src))):
            _fail(self, f"permutation {list(perm)} is not a permutation of rank {len(src)}")
        if tuple(src[p] for p in perm) != dst:
            _fail(self, f"result shape {dst} does not match the permuted operand shape")


@irdl_op_definition
class SliceOp(IRDLOperation):
    name = "stablehlo.slice"
    operand = operand_def(TensorType)
    start_indices = prop_def(DenseArrayBase)
    limit_indices = prop_def(DenseArrayBase)
    strides = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, operand: SSAValue, start: Sequence[int], limit: Sequence[int], strides: Sequence[int] | None = None):
        t = SSAValue.get(operand).type
        strides = list(strides) if strides is not None else [1] * len(start)
        shape = [max(0, -(-(hi - lo) // s)) for lo, hi, s in zip(start, limit, strides)]
        super().__init__(
            operands=[operand],
            result_types=[TensorType(t.get_element_type(), shape)],
            properties={"start_indices": i64_array(start), "limit_indices": i64_array(limit), "strides": i64_array(strides)},
        )

    def verify_(self) -> None:
        start, limit, strides = (a.get_values() for a in (self.start_indices, self.limit_indices, self.strides))
        src, dst = shape_of(self.operand), shape_of(self.result)
        if not len(start) == len(limit) == len(strides) == len(src):
            _fail(self, "start_indices, limit_indices and strides must have one entry per operand dimension")
        for d, (lo, hi, s) in enumerate(zip(start, limit, strides)):
            if s <= 0 or lo < 0 or hi > src[d] or lo > hi:
                _fail(self, f"invalid slice [{lo}:{hi}:{s}] of dimension {d} (size {src[d]})")
        expect = tuple(-(-(hi - lo) // s) for lo, hi, s in zip(start, limit, strides))
        if expect != dst:
            _fail(self, f"result shape {dst} does not match the slice shape {expect}")


@irdl_op_definition
class DynamicSliceOp(IRDLOperation):
    name = "stablehlo.dynamic_slice"
    operand = operand_def(TensorType)
    start_indices = var_operand_def(TensorType)
    slice_sizes = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class DynamicUpdateSliceOp(IRDLOperation):
    name = "stablehlo.dynamic_update_slice"
    operand = operand_def(TensorType)
    update = operand_def(TensorType)
    start_indices = var_operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class ConcatenateOp(IRDLOperation):
    name = "stablehlo.concatenate"
    inputs = var_operand_def(TensorType)
    dimension = prop_def(IntegerAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class PadOp(IRDLOperation):
    name = "stablehlo.pad"
    operand = operand_def(TensorType)
    padding_value = operand_def(TensorType)
    edge_padding_low = prop_def(DenseArrayBase)
    edge_padding_high = prop_def(DenseArrayBase)
    interior_padding = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class ReverseOp(IRDLOperation):
    name = "stablehlo.reverse"
    operand = operand_def(TensorType)
    dimensions = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())


# ----------------------------------------------------------------- contractions


@irdl_op_definition
class DotGeneralOp(IRDLOperation):
    name = "stablehlo.dot_general"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    dot_dimension_numbers = prop_def(DotDimensionNumbersAttr)
    precision_config = opt_prop_def(ArrayAttr)
    algorithm = opt_prop_def(Attribute)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        dn = self.dot_dimension_numbers
        ls, rs = shape_of(self.lhs), shape_of(self.rhs)
        lb, rb = dn.lhs_batching_dimensions, dn.rhs_batching_dimensions
        lc, rc = dn.lhs_contracting_dimensions, dn.rhs_contracting_dimensions
        if len(lb) != len(rb) or len(lc) != len(rc):
            _fail(self, "lhs and rhs must have the same number of batching and of contracting dimensions")
        for a, b in (*zip(lb, rb), *zip(lc, rc)):
            if not (0 <= a < len(ls) and 0 <= b < len(rs)):
                _fail(self, "dot dimension out of range")
            if ls[a] != rs[b]:
                _fail(self, f"lhs dimension {a} (size {ls[a]}) does not match rhs dimension {b} (size {rs[b]})")
        lfree = [d for d in range(len(ls)) if d not in lb and d not in lc]
        rfree = [d for d in range(len(rs)) if d not in rb and d not in rc]
        expect = tuple([ls[d] for d in lb] + [ls[d] for d in lfree] + [rs[d] for d in rfree])
        if expect != shape_of(self.result):
            _fail(self, f"result shape {shape_of(self.result)} does not match the expected {expect}")


@irdl_op_definition
class ConvolutionOp(IRDLOperation):
    name = "stablehlo.convolution"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    window_strides = opt_prop_def(DenseArrayBase)
    padding = opt_prop_def(DenseIntOrFPElementsAttr)
    lhs_dilation = opt_prop_def(DenseArrayBase)
    rhs_dilation = opt_prop_def(DenseArrayBase)
    window_reversal = opt_prop_def(DenseArrayBase)
    dimension_numbers = prop_def(ConvDimensionNumbersAttr)
    feature_group_count = prop_def(IntegerAttr)
    batch_group_count = prop_def(IntegerAttr)
    precision_config = opt_prop_def(ArrayAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())


# ----------------------------------------------------------------- region ops


@irdl_op_definition
class ReturnOp(IRDLOperation):
    name = "stablehlo.return"
    values = var_operand_def()
    traits = traits_def(IsTerminator(), Pure())

    def __init__(self, values: Sequence[SSAValue]):
        super().__init__(operands=[list(values)])


@irdl_op_definition
class ReduceOp(IRDLOperation):
    name = "stablehlo.reduce"
    inputs = var_operand_def(TensorType)
    init_values = var_operand_def(TensorType)
    dimensions = prop_def(DenseArrayBase)
    body = region_def()
    results_ = var_result_def(TensorType)
    irdl_options = (SameVariadicOperandSize(),)
    traits = traits_def(RecursiveMemoryEffect())


@irdl_op_definition
class ReduceWindowOp(IRDLOperation):
    name = "stablehlo.reduce_window"
    inputs = var_operand_def(TensorType)
    init_values = var_operand_def(TensorType)
    window_dimensions = prop_def(DenseArrayBase)
    window_strides = opt_prop_def(DenseArrayBase)
    base_dilations = opt_prop_def(DenseArrayBase)
    window_dilations = opt_prop_def(DenseArrayBase)
    padding = opt_prop_def(DenseIntOrFPElementsAttr)
    body = region_def()
    results_ = var_result_def(TensorType)
    irdl_options = (SameVariadicOperandSize(),)
    traits = traits_def(RecursiveMemoryEffect())


@irdl_op_definition
class SelectAndScatterOp(IRDLOperation):
    name = "stablehlo.select_and_scatter"
    operand = operand_def(TensorType)
    source = operand_def(TensorType)
    init_value = operand_def(TensorType)
    window_dimensions = opt_prop_def(DenseArrayBase)
    window_strides = opt_prop_def(DenseArrayBase)
    padding = opt_prop_def(DenseIntOrFPElementsAttr)
    select = region_def()
    scatter = region_def()
    result = result_def(TensorType)
    traits = traits_def(RecursiveMemoryEffect())


@irdl_op_definition
class GatherOp(IRDLOperation):
    name = "stablehlo.gather"
    operand = operand_def(TensorType)
    start_indices = operand_def(TensorType)
    dimension_numbers = prop_def(GatherDimensionNumbersAttr)
    slice_sizes = prop_def(DenseArrayBase)
    indices_are_sorted = opt_prop_def(BoolAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class ScatterOp(IRDLOperation):
    name = "stablehlo.scatter"
    inputs = var_operand_def(TensorType)
    scatter_indices = operand_def(TensorType)
    updates = var_operand_def(TensorType)
    scatter_dimension_numbers = prop_def(ScatterDimensionNumbersAttr)
    indices_are_sorted = opt_prop_def(BoolAttr)
    unique_indices = opt_prop_def(BoolAttr)
    update_computation = region_def()
    results_ = var_result_def(TensorType)
    irdl_options = (SameVariadicOperandSize(),)
    traits = traits_def(RecursiveMemoryEffect())


@irdl_op_definition
class SortOp(IRDLOperation):
    name = "stablehlo.sort"
    inputs = var_operand_def(TensorType)
    dimension = opt_prop_def(IntegerAttr)
    is_stable = opt_prop_def(BoolAttr)
    comparator = region_def()
    results_ = var_result_def(TensorType)
    traits = traits_def(RecursiveMemoryEffect())


@irdl_op_definition
class WhileOp(IRDLOperation):
    name = "stablehlo.while"
    operand = var_operand_def()
    cond = region_def()
    body = region_def()
    results_ = var_result_def()
    traits = traits_def(RecursiveMemoryEffect())

    def verify_(self) -> None:
        types = [v.type for v in self.operand]
        if [r.type for r in self.results] != types:
            _fail(self, "requires the result types to match the operand types")
        for region, label in ((self.cond, "cond"), (self.body, "body")):
            if [a.type for a in region.block.args] != types:
                _fail(self, f"requires the {label} block arguments to match the operand types")


@irdl_op_definition
class IfOp(IRDLOperation):
    name = "stablehlo.if"
    pred = operand_def(TensorType)
    true_branch = region_def()
    false_branch = region_def()
    results_ = var_result_def()
    traits = traits_def(RecursiveMemoryEffect())


@irdl_op_definition
class CaseOp(IRDLOperation):
    name = "stablehlo.case"
    index = operand_def(TensorType)
    branches = var_region_def()
    results_ = var_result_def()
    traits = traits_def(RecursiveMemoryEffect())


@irdl_op_definition
class OptimizationBarrierOp(IRDLOperation):
    name = "stablehlo.optimization_barrier"
    operand = var_operand_def()
    results_ = var_result_def()


# ----------------------------------------------------------------- misc


@irdl_op_definition
class RngBitGeneratorOp(IRDLOperation):
    name = "stablehlo.rng_bit_generator"
    initial_state = operand_def(TensorType)
    rng_algorithm = prop_def(RngAlgorithmAttr)
    output_state = result_def(TensorType)
    output = result_def(TensorType)


@irdl_op_definition
class CholeskyOp(IRDLOperation):
    name = "stablehlo.cholesky"
    a = operand_def(TensorType)
    lower = opt_prop_def(BoolAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class TriangularSolveOp(IRDLOperation):
    name = "stablehlo.triangular_solve"
    a = operand_def(TensorType)
    b = operand_def(TensorType)
    left_side = prop_def(BoolAttr)
    lower = prop_def(BoolAttr)
    unit_diagonal = prop_def(BoolAttr)
    transpose_a = prop_def(TransposeAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class TupleOp(IRDLOperation):
    name = "stablehlo.tuple"
    val = var_operand_def()
    result = result_def()
    traits = traits_def(Pure())


@irdl_op_definition
class GetTupleElementOp(IRDLOperation):
    name = "stablehlo.get_tuple_element"
    operand = operand_def()
    index = prop_def(IntegerAttr)
    result = result_def()
    traits = traits_def(Pure())


@irdl_op_definition
class ReducePrecisionOp(IRDLOperation):
    name = "stablehlo.reduce_precision"
    operand = operand_def(TensorType)
    exponent_bits = prop_def(IntegerAttr)
    mantissa_bits = prop_def(IntegerAttr)
    output = result_def(TensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class CustomCallOp(IRDLOperation):
    """An opaque call into a backend kernel; kept as is and passed through."""

    name = "stablehlo.custom_call"
    inputs = var_operand_def()
    call_target_name = prop_def(StringAttr)
    has_side_effect = opt_prop_def(BoolAttr)
    backend_config = opt_prop_def(Attribute)
    api_version = opt_prop_def(IntegerAttr)
    called_computations = opt_prop_def(ArrayAttr)
    operand_layouts = opt_prop_def(ArrayAttr)
    result_layouts = opt_prop_def(ArrayAttr)
    output_operand_aliases = opt_prop_def(ArrayAttr)
    results_ = var_result_def()


STABLEHLO_OPS: list[type[IRDLOperation]] = [
    v
    for v in list(globals().values())
    if isinstance(v, type) and issubclass(v, IRDLOperation) and isinstance(getattr(v, "name", None), str)
    and v.name.startswith("stablehlo.")
]

StableHLO = Dialect("stablehlo", STABLEHLO_OPS, STABLEHLO_ATTRIBUTES)

__all__ = [op.__name__ for op in STABLEHLO_OPS] + ["StableHLO", "i64_array", "shape_of", "i1", "IntegerType"]
