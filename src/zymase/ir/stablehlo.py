"""The StableHLO dialect on xDSL: the ops JAX emits for ordinary programs.

Field names follow the StableHLO specification (``operand``, ``lhs``/``rhs``,
``broadcast_dimensions``, ...). Result types are checked where that is cheap (O(rank)):
elementwise shapes, compare, select, clamp, constant, iota, broadcast_in_dim, reshape,
transpose, slice, dynamic_slice, dynamic_update_slice, concatenate, pad, reverse,
dot_general, reduce, sort, while. A verifier error names the op and, when known, its
source location: ``'stablehlo.pad' op at f.py:3:9: ...``.

Besides StableHLO, the dialect object registers the one Shardy op JAX puts in ordinary
single-device programs (``sdy.mesh``, from host callbacks and ``jax.debug.print``) and
Shardy's attributes, all kept opaque (see ``attributes.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    ArrayAttr,
    BoolAttr,
    ComplexType,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    FileLineColLoc,
    FlatSymbolRefAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
    TensorType,
    UnitAttr,
    i1,
    i64,
)
from xdsl.ir import Attribute, Dialect, ParametrizedAttribute, Region, SSAValue, TypeAttribute
from xdsl.irdl import (
    IRDLOperation,
    SameVariadicOperandSize,
    irdl_attr_definition,
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
from xdsl.traits import Commutative, IsTerminator, Pure, RecursiveMemoryEffect, SymbolOpInterface
from xdsl.utils.exceptions import VerifyException

from .attributes import (
    SDY_ATTRIBUTES,
    STABLEHLO_ATTRIBUTES,
    ChannelHandleAttr,
    ComparisonDirectionAttr,
    ComparisonTypeAttr,
    ConvDimensionNumbersAttr,
    DotAlgorithmAttr,
    DotDimensionNumbersAttr,
    FftTypeAttr,
    GatherDimensionNumbersAttr,
    ResultAccuracyAttr,
    RngAlgorithmAttr,
    RngDistributionAttr,
    ScatterDimensionNumbersAttr,
    SdyMeshAttr,
    TransposeAttr,
)


def i64_array(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


def shape_of(value: SSAValue | Attribute) -> tuple[int, ...]:
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType), f"expected a tensor type, got {t}"
    return tuple(t.get_shape())


def _fail(op: IRDLOperation, message: str) -> None:
    loc = op.location
    where = f" at {loc.filename.data}:{loc.line.data}:{loc.column.data}" if isinstance(loc, FileLineColLoc) else ""
    raise VerifyException(f"'{op.name}' op{where}: {message}")


@irdl_attr_definition
class TokenType(ParametrizedAttribute, TypeAttribute):
    """``!stablehlo.token``: orders side effects (collectives, callbacks, infeed)."""

    name = "stablehlo.token"


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


class TranscendentalUnaryOp(UnaryElementwiseOp):
    """Unary ops whose accuracy may be requested (``result_accuracy``, e.g. from
    ``lax.exp(x, accuracy=...)``)."""

    result_accuracy = opt_prop_def(ResultAccuracyAttr)


class BinaryElementwiseOp(ElementwiseOp):
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, lhs: SSAValue, rhs: SSAValue, result_type: Attribute | None = None):
        super().__init__(operands=[lhs, rhs], result_types=[result_type or SSAValue.get(lhs).type])


class CommutativeBinaryOp(BinaryElementwiseOp):
    traits = traits_def(Pure(), Commutative())


def _unary(mnemonic: str, doc: str, transcendental: bool = False) -> type[UnaryElementwiseOp]:
    cls = type(
        "".join(p.capitalize() for p in mnemonic.split("_")) + "Op",
        (TranscendentalUnaryOp if transcendental else UnaryElementwiseOp,),
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
ExponentialOp = _unary("exponential", "exp(x)", transcendental=True)
ExponentialMinusOneOp = _unary("exponential_minus_one", "exp(x) - 1", transcendental=True)
LogOp = _unary("log", "log(x)", transcendental=True)
LogPlusOneOp = _unary("log_plus_one", "log(1 + x)", transcendental=True)
LogisticOp = _unary("logistic", "1 / (1 + exp(-x))", transcendental=True)
SqrtOp = _unary("sqrt", "sqrt(x)", transcendental=True)
RsqrtOp = _unary("rsqrt", "1 / sqrt(x)", transcendental=True)
CbrtOp = _unary("cbrt", "cube root", transcendental=True)
SineOp = _unary("sine", "sin(x)", transcendental=True)
CosineOp = _unary("cosine", "cos(x)", transcendental=True)
TanOp = _unary("tan", "tan(x)", transcendental=True)
TanhOp = _unary("tanh", "tanh(x)", transcendental=True)
NotOp = _unary("not", "bitwise / logical not")
PopcntOp = _unary("popcnt", "population count")
CountLeadingZerosOp = _unary("count_leading_zeros", "leading zero bits")
IsFiniteOp = _unary("is_finite", "x is neither inf nor nan (i1 result)")
RealOp = _unary("real", "real part")
ImagOp = _unary("imag", "imaginary part")
ConvertOp = _unary("convert", "element type conversion")

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



def _bitwidth(t: Attribute) -> int | None:
    if isinstance(t, ComplexType):
        inner = _bitwidth(t.element_type)
        return None if inner is None else 2 * inner
    width = getattr(t, "bitwidth", None)
    return width if isinstance(width, int) else None


@irdl_op_definition
class BitcastConvertOp(IRDLOperation):
    """Reinterpret bits. Changing the element width adds (narrower result) or removes
    (wider result) a trailing dimension of size ratio, so it is elementwise only in name."""

    name = "stablehlo.bitcast_convert"
    operand = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, operand: SSAValue, result_type: Attribute):
        super().__init__(operands=[operand], result_types=[result_type])

    def verify_(self) -> None:
        src, dst = shape_of(self.operand), shape_of(self.result)
        w_src = _bitwidth(self.operand.type.get_element_type())
        w_dst = _bitwidth(self.result.type.get_element_type())
        if w_src is None or w_dst is None:
            return
        if w_src == w_dst:
            expect = src
        elif w_src > w_dst and w_src % w_dst == 0:
            expect = (*src, w_src // w_dst)
        elif w_dst > w_src and w_dst % w_src == 0 and src and src[-1] == w_dst // w_src:
            expect = src[:-1]
        else:
            _fail(self, f"cannot reinterpret {w_src}-bit elements of shape {src} as {w_dst}-bit elements")
        if dst != expect:
            _fail(self, f"result shape {dst} does not match the expected shape {expect}")


@irdl_op_definition
class CompareOp(ElementwiseOp):
    name = "stablehlo.compare"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    comparison_direction = prop_def(ComparisonDirectionAttr)
    compare_type = opt_prop_def(ComparisonTypeAttr)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        super().verify_()
        if self.result.type.get_element_type() != i1:
            _fail(self, f"requires a result of i1 elements, got {self.result.type}")


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

    def verify_(self) -> None:
        shape = shape_of(self.operand)
        if shape_of(self.result) != shape:
            _fail(self, f"result shape {shape_of(self.result)} differs from the operand shape {shape}")
        for bound, label in ((self.min, "min"), (self.max, "max")):
            if shape_of(bound) not in ((), shape):
                _fail(self, f"requires {label} to be a scalar or to have the operand shape {shape}, got {shape_of(bound)}")


# ----------------------------------------------------------------- constants


@irdl_op_definition
class ConstantOp(IRDLOperation):
    name = "stablehlo.constant"
    value = prop_def(DenseIntOrFPElementsAttr)
    output = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, value: DenseIntOrFPElementsAttr):
        super().__init__(properties={"value": value}, result_types=[value.type])

    def verify_(self) -> None:
        if self.value.type != self.output.type:
            _fail(self, f"result type {self.output.type} differs from the value type {self.value.type}")


@irdl_op_definition
class IotaOp(IRDLOperation):
    name = "stablehlo.iota"
    iota_dimension = prop_def(IntegerAttr)
    output = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        rank = len(shape_of(self.output))
        if not 0 <= self.iota_dimension.value.data < rank:
            _fail(self, f"iota_dimension {self.iota_dimension.value.data} is out of range for result rank {rank}")


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

    def verify_(self) -> None:
        src, sizes = shape_of(self.operand), tuple(self.slice_sizes.get_values())
        if len(self.start_indices) != len(src) or len(sizes) != len(src):
            _fail(self, f"requires one start index and one slice size per operand dimension (rank {len(src)}), got {len(self.start_indices)} and {len(sizes)}")
        for d, (n, size) in enumerate(zip(src, sizes)):
            if not 0 <= size <= n:
                _fail(self, f"slice size {size} of dimension {d} is out of range [0, {n}]")
        if sizes != shape_of(self.result):
            _fail(self, f"result shape {shape_of(self.result)} differs from slice_sizes {sizes}")


@irdl_op_definition
class DynamicUpdateSliceOp(IRDLOperation):
    name = "stablehlo.dynamic_update_slice"
    operand = operand_def(TensorType)
    update = operand_def(TensorType)
    start_indices = var_operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        src, upd = shape_of(self.operand), shape_of(self.update)
        if shape_of(self.result) != src:
            _fail(self, f"result shape {shape_of(self.result)} differs from the operand shape {src}")
        if len(upd) != len(src) or len(self.start_indices) != len(src):
            _fail(self, f"requires an update of rank {len(src)} and {len(src)} start indices, got rank {len(upd)} and {len(self.start_indices)}")
        for d, (u, n) in enumerate(zip(upd, src)):
            if u > n:
                _fail(self, f"update dimension {d} of size {u} exceeds the operand size {n}")


@irdl_op_definition
class ConcatenateOp(IRDLOperation):
    name = "stablehlo.concatenate"
    inputs = var_operand_def(TensorType)
    dimension = prop_def(IntegerAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        dim, dst = self.dimension.value.data, shape_of(self.result)
        if not self.inputs:
            _fail(self, "requires at least one input")
        if not 0 <= dim < len(dst):
            _fail(self, f"dimension {dim} is out of range for result rank {len(dst)}")
        total = 0
        for i, v in enumerate(self.inputs):
            shape = shape_of(v)
            if len(shape) != len(dst) or shape[:dim] != dst[:dim] or shape[dim + 1 :] != dst[dim + 1 :]:
                _fail(self, f"input {i} of shape {shape} does not match the result shape {dst} outside dimension {dim}")
            total += shape[dim]
        if total != dst[dim]:
            _fail(self, f"result dimension {dim} has size {dst[dim]}, but the inputs add up to {total}")


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

    def verify_(self) -> None:
        src, dst = shape_of(self.operand), shape_of(self.result)
        lows, highs, interiors = (a.get_values() for a in (self.edge_padding_low, self.edge_padding_high, self.interior_padding))
        if shape_of(self.padding_value) != ():
            _fail(self, f"requires a scalar padding_value, got shape {shape_of(self.padding_value)}")
        if not len(lows) == len(highs) == len(interiors) == len(src):
            _fail(self, f"edge_padding_low, edge_padding_high and interior_padding must have {len(src)} entries (the operand rank)")
        expect = []
        for d, (n, lo, hi, mid) in enumerate(zip(src, lows, highs, interiors)):
            if mid < 0:
                _fail(self, f"interior padding {mid} of dimension {d} is negative")
            expect.append(lo + hi + n + max(n - 1, 0) * mid)
        if tuple(expect) != dst:
            _fail(self, f"result shape {dst} does not match the padded shape {tuple(expect)}")


@irdl_op_definition
class ReverseOp(IRDLOperation):
    name = "stablehlo.reverse"
    operand = operand_def(TensorType)
    dimensions = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def verify_(self) -> None:
        src, dims = shape_of(self.operand), self.dimensions.get_values()
        if shape_of(self.result) != src:
            _fail(self, f"result shape {shape_of(self.result)} differs from the operand shape {src}")
        if len(set(dims)) != len(dims) or any(not 0 <= d < len(src) for d in dims):
            _fail(self, f"dimensions {list(dims)} must be distinct and in range for rank {len(src)}")


# ----------------------------------------------------------------- contractions


@irdl_op_definition
class DotGeneralOp(IRDLOperation):
    name = "stablehlo.dot_general"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    dot_dimension_numbers = prop_def(DotDimensionNumbersAttr)
    precision_config = opt_prop_def(ArrayAttr)
    algorithm = opt_prop_def(DotAlgorithmAttr)
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

    def verify_(self) -> None:
        dims = self.dimensions.get_values()
        if len(self.results_) != len(self.inputs):
            _fail(self, f"requires one result per input, got {len(self.results_)} results for {len(self.inputs)} inputs")
        for i, (x, init, r) in enumerate(zip(self.inputs, self.init_values, self.results_)):
            src = shape_of(x)
            if len(set(dims)) != len(dims) or any(not 0 <= d < len(src) for d in dims):
                _fail(self, f"dimensions {list(dims)} must be distinct and in range for input rank {len(src)}")
            if shape_of(init) != ():
                _fail(self, f"init value {i} must be a scalar, got shape {shape_of(init)}")
            expect = tuple(n for d, n in enumerate(src) if d not in dims)
            if shape_of(r) != expect:
                _fail(self, f"result {i} has shape {shape_of(r)}, expected {expect} (input {src} reduced over {list(dims)})")


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

    def verify_(self) -> None:
        if not self.inputs:
            _fail(self, "requires at least one input")
        shape = shape_of(self.inputs[0])
        if [r.type for r in self.results_] != [v.type for v in self.inputs]:
            _fail(self, "requires the result types to match the input types")
        if any(shape_of(v) != shape for v in self.inputs):
            _fail(self, "requires all inputs to have the same shape")
        dim = self.dimension.value.data if self.dimension is not None else -1
        if not -len(shape) <= dim < max(len(shape), 1):
            _fail(self, f"dimension {dim} is out of range for rank {len(shape)}")


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



@irdl_op_definition
class FftOp(IRDLOperation):
    name = "stablehlo.fft"
    operand = operand_def(TensorType)
    fft_type = prop_def(FftTypeAttr)
    fft_length = prop_def(DenseArrayBase)
    result = result_def(TensorType)
    traits = traits_def(Pure())


@irdl_op_definition
class RngOp(IRDLOperation):
    """Random numbers from a distribution with parameters ``a``, ``b`` (``lax.rng_uniform``)."""

    name = "stablehlo.rng"
    a = operand_def(TensorType)
    b = operand_def(TensorType)
    shape = operand_def(TensorType)
    rng_distribution = prop_def(RngDistributionAttr)
    result = result_def(TensorType)


@irdl_op_definition
class CompositeOp(IRDLOperation):
    """A named op with attributes whose meaning is the function ``decomposition``
    (``lax.composite``)."""

    name = "stablehlo.composite"
    inputs = var_operand_def()
    name_ = prop_def(StringAttr, prop_name="name")
    composite_attributes = opt_prop_def(DictionaryAttr)
    decomposition = prop_def(FlatSymbolRefAttr)
    version = opt_prop_def(IntegerAttr)
    results_ = var_result_def()


@irdl_op_definition
class GetDimensionSizeOp(IRDLOperation):
    name = "stablehlo.get_dimension_size"
    operand = operand_def(TensorType)
    dimension = prop_def(IntegerAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())


# ----------------------------------------------------------------- collectives and tokens


@irdl_op_definition
class ReplicaIdOp(IRDLOperation):
    name = "stablehlo.replica_id"
    result = result_def(TensorType)


@irdl_op_definition
class PartitionIdOp(IRDLOperation):
    name = "stablehlo.partition_id"
    result = result_def(TensorType)


@irdl_op_definition
class AllReduceOp(IRDLOperation):
    name = "stablehlo.all_reduce"
    operands_ = var_operand_def(TensorType)
    replica_groups = prop_def(DenseIntOrFPElementsAttr)
    channel_handle = opt_prop_def(ChannelHandleAttr)
    use_global_device_ids = opt_prop_def(UnitAttr)
    computation = region_def()
    results_ = var_result_def(TensorType)


@irdl_op_definition
class AllGatherOp(IRDLOperation):
    name = "stablehlo.all_gather"
    operands_ = var_operand_def(TensorType)
    all_gather_dim = prop_def(IntegerAttr)
    replica_groups = prop_def(DenseIntOrFPElementsAttr)
    channel_handle = opt_prop_def(ChannelHandleAttr)
    use_global_device_ids = opt_prop_def(UnitAttr)
    results_ = var_result_def(TensorType)


@irdl_op_definition
class ReduceScatterOp(IRDLOperation):
    name = "stablehlo.reduce_scatter"
    operand = operand_def(TensorType)
    scatter_dimension = prop_def(IntegerAttr)
    replica_groups = prop_def(DenseIntOrFPElementsAttr)
    channel_handle = opt_prop_def(ChannelHandleAttr)
    use_global_device_ids = opt_prop_def(UnitAttr)
    computation = region_def()
    result = result_def(TensorType)


@irdl_op_definition
class AllToAllOp(IRDLOperation):
    name = "stablehlo.all_to_all"
    operands_ = var_operand_def(TensorType)
    split_dimension = prop_def(IntegerAttr)
    concat_dimension = prop_def(IntegerAttr)
    split_count = prop_def(IntegerAttr)
    replica_groups = prop_def(DenseIntOrFPElementsAttr)
    channel_handle = opt_prop_def(ChannelHandleAttr)
    results_ = var_result_def(TensorType)


@irdl_op_definition
class CollectivePermuteOp(IRDLOperation):
    name = "stablehlo.collective_permute"
    operand = operand_def(TensorType)
    source_target_pairs = prop_def(DenseIntOrFPElementsAttr)
    channel_handle = opt_prop_def(ChannelHandleAttr)
    result = result_def(TensorType)


@irdl_op_definition
class CollectiveBroadcastOp(IRDLOperation):
    name = "stablehlo.collective_broadcast"
    operand = operand_def(TensorType)
    replica_groups = prop_def(DenseIntOrFPElementsAttr)
    channel_handle = opt_prop_def(ChannelHandleAttr)
    result = result_def(TensorType)


@irdl_op_definition
class CreateTokenOp(IRDLOperation):
    name = "stablehlo.create_token"
    result = result_def(TokenType)


@irdl_op_definition
class AfterAllOp(IRDLOperation):
    name = "stablehlo.after_all"
    inputs = var_operand_def(TokenType)
    result = result_def(TokenType)


# ----------------------------------------------------------------- Shardy


@irdl_op_definition
class SdyMeshOp(IRDLOperation):
    """``sdy.mesh @name = <...>``: a device mesh JAX declares for sharded host callbacks.
    zymase does not interpret sharding; the op and its mesh are carried through opaquely."""

    name = "sdy.mesh"
    sym_name = prop_def(StringAttr)
    mesh = prop_def(SdyMeshAttr)
    traits = traits_def(SymbolOpInterface())


STABLEHLO_OPS: list[type[IRDLOperation]] = [
    v
    for v in list(globals().values())
    if isinstance(v, type) and issubclass(v, IRDLOperation) and isinstance(getattr(v, "name", None), str)
    and v.name.startswith("stablehlo.")
]

SDY_OPS: list[type[IRDLOperation]] = [SdyMeshOp]

# The Shardy op and attributes ride along in this dialect object so that make_context()
# knows them; they keep their own "sdy." names.
StableHLO = Dialect("stablehlo", [*STABLEHLO_OPS, *SDY_OPS], [*STABLEHLO_ATTRIBUTES, TokenType, *SDY_ATTRIBUTES])

__all__ = [op.__name__ for op in STABLEHLO_OPS] + ["SdyMeshOp", "TokenType", "StableHLO", "i64_array", "shape_of", "i1", "IntegerType"]
