"""A small IR builder with result-type inference, used by derivative rules and rewrite
rules.

Values of tensor type are built with StableHLO ops; scalar values (``f32``, ``index``,
...) with arith/math ops, so one derivative rule serves ``stablehlo.multiply`` on
``tensor<4xf32>`` and ``arith.mulf`` on ``f32`` alike.

Importing the builder loads neither numpy nor xDSL's arith, math and tensor dialects
(together about 0.2 s of zymase-opt's start-up): a scalar op's class is imported when
a scalar op is built (``_scalar_op``), numpy by the functions that build or read dense
constants, and ``is_arith_constant`` asks whether an op is an ``arith.constant`` without
importing arith (no op is one before the dialect is loaded).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from xdsl.dialects.builtin import (
    BoolAttr,
    ComplexType,
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    TensorType,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from . import stablehlo as hlo
from .attributes import ComparisonDirection, ComparisonDirectionAttr, ComparisonType, ComparisonTypeAttr, DotDimensionNumbersAttr
from .dense import dense_from_numpy, element_dtype, is_float_type
from .query import element_type as elem
from .query import shape

if TYPE_CHECKING:
    import numpy as np


def _scalar_op(name: str) -> type[Operation]:
    """The op class ``name`` (``"arith.AddfOp"``, ``"math.ExpOp"``, ``"tensor.SplatOp"``)
    of xDSL's dialects, imported on first use."""
    dialect, cls = name.split(".")
    return getattr(importlib.import_module(f"xdsl.dialects.{dialect}"), cls)


_COMPLEX_SCALAR = {
    "stablehlo.add": "complex.AddOp",
    "stablehlo.subtract": "complex.SubOp",
    "stablehlo.multiply": "complex.MulOp",
    "stablehlo.divide": "complex.DivOp",
    "stablehlo.negate": "complex.NegOp",
    "stablehlo.exponential": "complex.ExpOp",
    "stablehlo.log": "complex.LogOp",
    "stablehlo.sqrt": "complex.SqrtOp",
    "stablehlo.rsqrt": "complex.RsqrtOp",
    "stablehlo.sine": "complex.SinOp",
    "stablehlo.cosine": "complex.CosOp",
    "stablehlo.tanh": "complex.TanhOp",
}
"""The complex dialect's op for a builder op on complex scalars (``complex<f64>``)."""


def is_arith_constant(op: Operation | None) -> bool:
    """``op`` is an ``arith.constant``; never imports the arith dialect (no op is one
    before it is loaded)."""
    arith = sys.modules.get("xdsl.dialects.arith")
    return arith is not None and isinstance(op, arith.ConstantOp)


def is_tensor(v: SSAValue | Attribute) -> bool:
    t = v.type if isinstance(v, SSAValue) else v
    return isinstance(t, TensorType)


def tensor(element: Attribute, dims: Sequence[int]) -> TensorType:
    """``tensor<dims x element>``, one object per element type and shape (a type is
    immutable, and building one, with its verification, costs as much as an op)."""
    key = (element, tuple(dims))
    got = _TENSORS.get(key)
    if got is None:
        if len(_TENSORS) > 4096:
            _TENSORS.clear()
        got = _TENSORS[key] = TensorType(element, list(dims))
    return got


_TENSORS: dict[tuple[Attribute, tuple[int, ...]], TensorType] = {}


_SPLATS: dict[tuple, Attribute] = {}
"""(tensor type, number class, repr) -> the dense attribute ``Builder.constant`` makes of
that number for that type (attributes are immutable; derivative code asks for the same
zeros and ones hundreds of times, and building one costs three times building an op)."""


class Builder:
    """Inserts ops at an insertion point; every method returns the new SSA value."""

    def __init__(self, where: InsertPoint | Block, location: Attribute | None = None, rewriter: Any = None):
        self.where = InsertPoint.at_end(where) if isinstance(where, Block) else where
        self.location = location
        self.rewriter = rewriter
        """An xDSL PatternRewriter to insert through (so its worklist sees new ops)."""

    @staticmethod
    def before(op: Operation) -> Builder:
        return Builder(InsertPoint.before(op), op.location)

    def insert(self, op: Operation) -> Operation:
        if self.location is not None:
            op.location = self.location
        if self.rewriter is not None:
            self.rewriter.insert(op, self.where)
        else:
            Rewriter.insert_op(op, self.where)
        return op

    def _one(self, op: Operation) -> SSAValue:
        return self.insert(op).results[0]

    # -------------------------------------------------------------- constants

    def constant(self, value: Any, type: Attribute) -> SSAValue:
        """A constant of ``type`` (tensor or scalar) filled with ``value`` (scalar or array)."""
        if isinstance(type, TensorType):
            number = value.__class__ in (int, float, bool)
            if number:  # the attribute of a Python number's splat, built once per type and number
                key = (type, value.__class__, repr(value))  # repr: -0.0 and 0.0 (and each NaN) apart
                attr = _SPLATS.get(key)
                if attr is not None:
                    return self._one(hlo.ConstantOp(attr))
            import numpy as np

            arr = np.broadcast_to(np.asarray(value, dtype=element_dtype(type.get_element_type())), shape(type))
            # a splat (bitwise: -0.0 != 0.0) is one constant stored as one element (ir/dense.py)
            attr = dense_from_numpy(arr, type)
            if number and len(_SPLATS) < 4096:
                _SPLATS[key] = attr
            return self._one(hlo.ConstantOp(attr))
        if isinstance(type, IntegerType) or isinstance(type, IndexType):
            return self._one(_scalar_op("arith.ConstantOp")(IntegerAttr(int(value), type)))
        if isinstance(type, ComplexType):  # a complex scalar (the complex dialect): complex.constant
            from xdsl.dialects.builtin import ArrayAttr

            v = complex(value)
            parts = ArrayAttr([FloatAttr(v.real, type.element_type), FloatAttr(v.imag, type.element_type)])
            return self._one(_scalar_op("complex.ConstantOp")(parts, type))
        return self._one(_scalar_op("arith.ConstantOp")(FloatAttr(float(value), type)))

    def zeros(self, type: Attribute) -> SSAValue:
        return self.constant(0, type)

    def zeros_like(self, v: SSAValue) -> SSAValue:
        return self.zeros(v.type)

    def ones_like(self, v: SSAValue) -> SSAValue:
        return self.constant(1, v.type)

    def full_like(self, v: SSAValue, value: Any) -> SSAValue:
        return self.constant(value, v.type)

    # -------------------------------------------------------------- elementwise

    def _binary(self, tensor_cls: type, float_op: str | None, int_op: str | None, x: SSAValue, y: SSAValue) -> SSAValue:
        """``tensor_cls`` on tensors; on scalars the op named ``float_op`` or ``int_op``
        (``"arith.AddfOp"``, see ``_scalar_op``)."""
        if is_tensor(x):
            return self._one(tensor_cls(x, y))
        if isinstance(x.type, ComplexType) and tensor_cls.name in _COMPLEX_SCALAR:  # complex scalars: the complex dialect
            return self._one(_scalar_op(_COMPLEX_SCALAR[tensor_cls.name])(x, y))
        name = float_op if is_float_type(x.type) else int_op
        if name is None:
            raise TypeError(f"no scalar op for {tensor_cls.name} on {x.type}")
        return self._one(_scalar_op(name)(x, y))

    def add(self, x: SSAValue, y: SSAValue) -> SSAValue:
        return self._binary(hlo.AddOp, "arith.AddfOp", "arith.AddiOp", x, y)

    def sub(self, x: SSAValue, y: SSAValue) -> SSAValue:
        return self._binary(hlo.SubtractOp, "arith.SubfOp", "arith.SubiOp", x, y)

    def mul(self, x: SSAValue, y: SSAValue) -> SSAValue:
        return self._binary(hlo.MultiplyOp, "arith.MulfOp", "arith.MuliOp", x, y)

    def div(self, x: SSAValue, y: SSAValue) -> SSAValue:
        return self._binary(hlo.DivideOp, "arith.DivfOp", "arith.DivSIOp", x, y)

    def max(self, x: SSAValue, y: SSAValue) -> SSAValue:
        return self._binary(hlo.MaximumOp, "arith.MaximumfOp", "arith.MaxSIOp", x, y)

    def min(self, x: SSAValue, y: SSAValue) -> SSAValue:
        return self._binary(hlo.MinimumOp, "arith.MinimumfOp", "arith.MinSIOp", x, y)

    def pow(self, x: SSAValue, y: SSAValue) -> SSAValue:
        return self._binary(hlo.PowerOp, "math.PowFOp", None, x, y)

    def atan2(self, x: SSAValue, y: SSAValue) -> SSAValue:
        return self._binary(hlo.Atan2Op, "math.Atan2Op", None, x, y)

    def _unary(self, tensor_cls: type, scalar_op: str | None, x: SSAValue) -> SSAValue:
        if is_tensor(x):
            return self._one(tensor_cls(x))
        if isinstance(x.type, ComplexType) and tensor_cls.name in _COMPLEX_SCALAR:
            return self._one(_scalar_op(_COMPLEX_SCALAR[tensor_cls.name])(x))
        if scalar_op is None:
            raise TypeError(f"no scalar op for {tensor_cls.name} on {x.type}")
        return self._one(_scalar_op(scalar_op)(x))

    def neg(self, x: SSAValue) -> SSAValue:
        return self._unary(hlo.NegateOp, "arith.NegfOp", x)

    def exp(self, x: SSAValue) -> SSAValue:
        return self._unary(hlo.ExponentialOp, "math.ExpOp", x)

    def log(self, x: SSAValue) -> SSAValue:
        return self._unary(hlo.LogOp, "math.LogOp", x)

    def sqrt(self, x: SSAValue) -> SSAValue:
        return self._unary(hlo.SqrtOp, "math.SqrtOp", x)

    def rsqrt(self, x: SSAValue) -> SSAValue:
        return self._unary(hlo.RsqrtOp, "math.RsqrtOp", x)

    def sin(self, x: SSAValue) -> SSAValue:
        return self._unary(hlo.SineOp, "math.SinOp", x)

    def cos(self, x: SSAValue) -> SSAValue:
        return self._unary(hlo.CosineOp, "math.CosOp", x)

    def tanh(self, x: SSAValue) -> SSAValue:
        return self._unary(hlo.TanhOp, "math.TanhOp", x)

    def abs(self, x: SSAValue) -> SSAValue:
        return self._unary(hlo.AbsOp, "math.AbsFOp", x)

    def sign(self, x: SSAValue) -> SSAValue:
        if is_tensor(x):
            return self._one(hlo.SignOp(x))
        zero = self.zeros_like(x)
        one, mone = self.ones_like(x), self.full_like(x, -1)
        pos = self.select(self.compare(x, zero, "GT"), one, zero)
        return self.select(self.compare(x, zero, "LT"), mone, pos)

    def logistic(self, x: SSAValue) -> SSAValue:
        if is_tensor(x):
            return self._one(hlo.LogisticOp(x))
        one = self.ones_like(x)
        return self.div(one, self.add(one, self.exp(self.neg(x))))

    def square(self, x: SSAValue) -> SSAValue:
        return self.mul(x, x)

    def reciprocal(self, x: SSAValue) -> SSAValue:
        return self.div(self.ones_like(x), x)

    def compare(self, x: SSAValue, y: SSAValue, direction: str, kind: str | None = None) -> SSAValue:
        if is_tensor(x):
            if kind is None:
                e = elem(x)
                if is_float_type(e):
                    kind = "FLOAT"
                elif isinstance(e, IntegerType) and e.signedness.data.name == "UNSIGNED" or (isinstance(e, IntegerType) and e.width.data == 1):
                    kind = "UNSIGNED"
                else:
                    kind = "SIGNED"
            op = hlo.CompareOp.create(
                operands=[x, y],
                result_types=[tensor(IntegerType(1), shape(x))],
                properties={
                    "comparison_direction": ComparisonDirectionAttr(ComparisonDirection(direction)),
                    "compare_type": ComparisonTypeAttr(ComparisonType(kind)),
                },
            )
            return self._one(op)
        if is_float_type(x.type):
            pred = {"EQ": "oeq", "NE": "une", "LT": "olt", "LE": "ole", "GT": "ogt", "GE": "oge"}[direction]
            return self._one(_scalar_op("arith.CmpfOp")(x, y, pred))
        pred = {"EQ": "eq", "NE": "ne", "LT": "slt", "LE": "sle", "GT": "sgt", "GE": "sge"}[direction]
        return self._one(_scalar_op("arith.CmpiOp")(x, y, pred))

    def select(self, pred: SSAValue, on_true: SSAValue, on_false: SSAValue) -> SSAValue:
        if is_tensor(on_true):
            return self._one(hlo.SelectOp(pred, on_true, on_false))
        return self._one(_scalar_op("arith.SelectOp")(pred, on_true, on_false))

    def convert(self, x: SSAValue, element: Attribute) -> SSAValue:
        if elem(x) == element:
            return x
        if is_tensor(x):
            return self._one(hlo.ConvertOp(x, tensor(element, shape(x))))
        src, dst = x.type, element
        if is_float_type(src) and is_float_type(dst):
            wider = element_dtype(dst).itemsize > element_dtype(src).itemsize
            return self._one(_scalar_op("arith.ExtFOp" if wider else "arith.TruncFOp")(x, dst))
        if is_float_type(dst):
            return self._one(_scalar_op("arith.SIToFPOp")(x, dst))
        if is_float_type(src):
            return self._one(_scalar_op("arith.FPToSIOp")(x, dst))
        if isinstance(src, IndexType) or isinstance(dst, IndexType):
            return self._one(_scalar_op("arith.IndexCastOp")(x, dst))
        wider = dst.width.data > src.width.data
        return self._one(_scalar_op("arith.ExtSIOp" if wider else "arith.TruncIOp")(x, dst))

    # -------------------------------------------------------------- shapes

    def broadcast_in_dim(self, x: SSAValue, dims_out: Sequence[int], dims: Sequence[int]) -> SSAValue:
        if not is_tensor(x):
            assert not dims, "a scalar broadcasts along no dimensions"
            return self._one(_scalar_op("tensor.SplatOp")(x, [], tensor(x.type, dims_out)))
        if tuple(dims_out) == shape(x) and list(dims) == list(range(len(dims_out))):
            return x
        return self._one(hlo.BroadcastInDimOp(x, dims, tensor(elem(x), dims_out)))

    def broadcast_to(self, x: SSAValue, target: Attribute) -> SSAValue:
        """Broadcast a scalar-shaped (or equal-shaped) value to ``target``'s shape."""
        out = shape(target)
        if shape(x) == out and is_tensor(x) == isinstance(target, TensorType):
            return x
        assert shape(x) == (), f"broadcast_to expects a rank-0 value, got {shape(x)}"
        return self.broadcast_in_dim(x, out, [])

    def from_scalar(self, x: SSAValue) -> SSAValue:
        """A builtin scalar (f32) as tensor<f32>."""
        return self._one(_scalar_op("tensor.SplatOp")(x, [], tensor(x.type, [])))

    def to_scalar(self, x: SSAValue) -> SSAValue:
        """A tensor<f32> as the builtin scalar f32."""
        return self._one(_scalar_op("tensor.ExtractOp")(x, [], elem(x)))

    def reshape(self, x: SSAValue, dims: Sequence[int]) -> SSAValue:
        if shape(x) == tuple(dims):
            return x
        return self._one(hlo.ReshapeOp(x, tensor(elem(x), dims)))

    def matrix_transpose(self, x: SSAValue) -> SSAValue:
        """The transpose of the last two dimensions (batched over the leading ones)."""
        r = len(shape(x))
        return self.transpose(x, [*range(r - 2), r - 1, r - 2])

    def matmul(self, x: SSAValue, y: SSAValue) -> SSAValue:
        """x @ y over the last two dimensions, batched over the leading ones."""
        r = len(shape(x))
        batch = list(range(r - 2))
        return self.dot_general(x, y, batch, batch, [r - 1], [r - 2])

    def transpose(self, x: SSAValue, perm: Sequence[int]) -> SSAValue:
        if list(perm) == list(range(len(perm))):
            return x
        return self._one(hlo.TransposeOp(x, perm))

    def slice(self, x: SSAValue, start: Sequence[int], limit: Sequence[int], strides: Sequence[int] | None = None) -> SSAValue:
        strides = list(strides) if strides is not None else [1] * len(start)
        if list(start) == [0] * len(start) and tuple(limit) == shape(x) and strides == [1] * len(start):
            return x
        return self._one(hlo.SliceOp(x, start, limit, strides))

    def pad(self, x: SSAValue, value: SSAValue, low: Sequence[int], high: Sequence[int], interior: Sequence[int] | None = None) -> SSAValue:
        interior = list(interior) if interior is not None else [0] * len(low)
        if not any(low) and not any(high) and not any(interior):
            return x
        out = [lo + hi + d + max(0, d - 1) * it for d, lo, hi, it in zip(shape(x), low, high, interior)]
        op = hlo.PadOp.create(
            operands=[x, value],
            result_types=[tensor(elem(x), out)],
            properties={
                "edge_padding_low": hlo.i64_array(low),
                "edge_padding_high": hlo.i64_array(high),
                "interior_padding": hlo.i64_array(interior),
            },
        )
        return self._one(op)

    def concatenate(self, xs: Sequence[SSAValue], dim: int) -> SSAValue:
        if len(xs) == 1:
            return xs[0]
        out = list(shape(xs[0]))
        out[dim] = sum(shape(x)[dim] for x in xs)
        op = hlo.ConcatenateOp.create(
            operands=list(xs), result_types=[tensor(elem(xs[0]), out)], properties={"dimension": IntegerAttr(dim, i64)}
        )
        return self._one(op)

    def reverse(self, x: SSAValue, dims: Sequence[int]) -> SSAValue:
        if not dims:
            return x
        op = hlo.ReverseOp.create(operands=[x], result_types=[x.type], properties={"dimensions": hlo.i64_array(dims)})
        return self._one(op)

    def iota(self, dims: Sequence[int], dim: int, element: Attribute) -> SSAValue:
        op = hlo.IotaOp.create(result_types=[tensor(element, dims)], properties={"iota_dimension": IntegerAttr(dim, i64)})
        return self._one(op)

    def dynamic_slice(self, x: SSAValue, starts: Sequence[SSAValue], sizes: Sequence[int]) -> SSAValue:
        op = hlo.DynamicSliceOp.create(
            operands=[x, *starts], result_types=[tensor(elem(x), sizes)], properties={"slice_sizes": hlo.i64_array(sizes)}
        )
        return self._one(op)

    def dynamic_update_slice(self, x: SSAValue, update: SSAValue, starts: Sequence[SSAValue]) -> SSAValue:
        op = hlo.DynamicUpdateSliceOp.create(operands=[x, update, *starts], result_types=[x.type])
        return self._one(op)

    # -------------------------------------------------------------- reductions and contractions

    def reduce(self, x: SSAValue, init: SSAValue, dims: Sequence[int], combiner: type) -> SSAValue:
        """reduce(x) over ``dims`` with a scalar body applying ``combiner`` (an op class)."""
        if not dims:
            return x
        from xdsl.ir import Block, Region

        scalar = tensor(elem(x), [])
        body = Block(arg_types=[scalar, scalar])
        inner = combiner(body.args[0], body.args[1])
        body.add_ops([inner, hlo.ReturnOp([inner.results[0]])])
        out = [d for i, d in enumerate(shape(x)) if i not in dims]
        op = hlo.ReduceOp.create(
            operands=[x, init],
            result_types=[tensor(elem(x), out)],
            properties={"dimensions": hlo.i64_array(sorted(dims))},
            regions=[Region(body)],
        )
        return self._one(op)

    def reduce_sum(self, x: SSAValue, dims: Sequence[int]) -> SSAValue:
        if not dims:
            return x
        return self.reduce(x, self.zeros(tensor(elem(x), [])), dims, hlo.AddOp)

    def sum_to_shape(self, x: SSAValue, target: Sequence[int]) -> SSAValue:
        """Sum a broadcast value back to ``target`` (numpy-style trailing alignment)."""
        src = shape(x)
        if src == tuple(target):
            return x
        lead = len(src) - len(target)
        dims = list(range(lead)) + [lead + i for i, d in enumerate(target) if d == 1 and src[lead + i] != 1]
        out = self.reduce_sum(x, dims)
        return self.reshape(out, target)

    def dot_general(
        self,
        lhs: SSAValue,
        rhs: SSAValue,
        lhs_batch: Sequence[int],
        rhs_batch: Sequence[int],
        lhs_contract: Sequence[int],
        rhs_contract: Sequence[int],
        result_element: Attribute | None = None,
        precision: Attribute | None = None,
    ) -> SSAValue:
        ls, rs = shape(lhs), shape(rhs)
        lfree = [d for d in range(len(ls)) if d not in lhs_batch and d not in lhs_contract]
        rfree = [d for d in range(len(rs)) if d not in rhs_batch and d not in rhs_contract]
        out = [ls[d] for d in lhs_batch] + [ls[d] for d in lfree] + [rs[d] for d in rfree]
        props: dict[str, Attribute] = {
            "dot_dimension_numbers": DotDimensionNumbersAttr.get(
                lhs_batching_dimensions=list(lhs_batch),
                rhs_batching_dimensions=list(rhs_batch),
                lhs_contracting_dimensions=list(lhs_contract),
                rhs_contracting_dimensions=list(rhs_contract),
            )
        }
        if precision is not None:
            props["precision_config"] = precision
        op = hlo.DotGeneralOp.create(operands=[lhs, rhs], result_types=[tensor(result_element or elem(lhs), out)], properties=props)
        return self._one(op)

    # -------------------------------------------------------------- structured ops (gather/scatter, sort, windows, convolution, linear algebra)

    def clamp(self, lo: SSAValue, x: SSAValue, hi: SSAValue) -> SSAValue:
        return self._one(hlo.ClampOp.create(operands=[lo, x, hi], result_types=[x.type]))

    def gather(self, operand: SSAValue, indices: SSAValue, dims: Any, slice_sizes: Sequence[int], result_type: Attribute | None = None) -> SSAValue:
        """stablehlo.gather; ``dims`` is a GatherDimensionNumbersAttr. The result type is
        inferred when not given."""
        if result_type is None:
            ishape = list(shape(indices))
            ivd = dims.index_vector_dim
            batch = [n for d, n in enumerate(ishape) if d != ivd]
            dropped = set(dims.collapsed_slice_dims) | set(dims.operand_batching_dims)
            offsets = [n for d, n in enumerate(slice_sizes) if d not in dropped]
            rank = len(batch) + len(offsets)
            out, bi, oi = [], iter(batch), iter(offsets)
            for d in range(rank):
                out.append(next(oi) if d in dims.offset_dims else next(bi))
            result_type = tensor(elem(operand), out)
        op = hlo.GatherOp.create(
            operands=[operand, indices],
            result_types=[result_type],
            properties={"dimension_numbers": dims, "slice_sizes": hlo.i64_array(slice_sizes), "indices_are_sorted": BoolAttr(False, IntegerType(1))},
        )
        return self._one(op)

    def scatter(self, operand: SSAValue, indices: SSAValue, updates: SSAValue, dims: Any, combiner: type | None) -> SSAValue:
        """stablehlo.scatter of one operand; ``combiner`` is the update op class (AddOp) or
        None for a replacing scatter."""
        op = hlo.ScatterOp.create(
            operands=[operand, indices, updates],
            result_types=[operand.type],
            properties={
                "scatter_dimension_numbers": dims,
                "indices_are_sorted": BoolAttr(False, IntegerType(1)),
                "unique_indices": BoolAttr(False, IntegerType(1)),
            },
            regions=[_combiner_region(elem(operand), combiner)],
        )
        return self._one(op)

    def reduce_window(
        self,
        xs: Sequence[SSAValue],
        inits: Sequence[SSAValue],
        body: Any,
        window: Sequence[int],
        strides: Sequence[int] | None = None,
        padding: Sequence[Sequence[int]] | None = None,
        base_dilations: Sequence[int] | None = None,
        window_dilations: Sequence[int] | None = None,
    ) -> list[SSAValue]:
        """stablehlo.reduce_window over ``xs``; ``body`` is an op class (one input) or a
        function ``body(b, accs, xs) -> outs`` over scalars (several inputs)."""
        rank = len(window)
        strides = list(strides) if strides is not None else [1] * rank
        padding = [tuple(p) for p in padding] if padding is not None else [(0, 0)] * rank
        base = list(base_dilations) if base_dilations is not None else [1] * rank
        wdil = list(window_dilations) if window_dilations is not None else [1] * rank
        n = len(xs)
        scalars = [tensor(elem(x), []) for x in xs]
        if isinstance(body, type):
            region = _combiner_region(elem(xs[0]), body)
        else:
            region = _region(scalars + scalars, lambda b, args: body(b, args[:n], args[n:]))
        out = [_window_out(d, w, s, lo, hi, bd, wd) for d, w, s, (lo, hi), bd, wd in zip(shape(xs[0]), window, strides, padding, base, wdil)]
        op = hlo.ReduceWindowOp.create(
            operands=[*xs, *inits],
            result_types=[tensor(elem(x), out) for x in xs],
            properties={
                "window_dimensions": hlo.i64_array(window),
                "window_strides": hlo.i64_array(strides),
                "base_dilations": hlo.i64_array(base),
                "window_dilations": hlo.i64_array(wdil),
                "padding": _padding_attr(padding),
            },
            regions=[region],
        )
        return list(self.insert(op).results)

    def select_and_scatter(
        self,
        operand: SSAValue,
        source: SSAValue,
        init: SSAValue,
        direction: str,
        window: Sequence[int],
        strides: Sequence[int],
        padding: Sequence[Sequence[int]],
    ) -> SSAValue:
        """select_and_scatter with a ``compare(a, b, direction)`` select and an add scatter."""
        scalar = tensor(elem(operand), [])
        select = _region([scalar, scalar], lambda b, args: [b.compare(args[0], args[1], direction)])
        scatter = _combiner_region(elem(source), hlo.AddOp)
        op = hlo.SelectAndScatterOp.create(
            operands=[operand, source, init],
            result_types=[operand.type],
            properties={"window_dimensions": hlo.i64_array(window), "window_strides": hlo.i64_array(strides), "padding": _padding_attr(padding)},
            regions=[select, scatter],
        )
        return self._one(op)

    def convolution(
        self,
        lhs: SSAValue,
        rhs: SSAValue,
        dims: Any,
        strides: Sequence[int],
        padding: Sequence[Sequence[int]],
        lhs_dilation: Sequence[int],
        rhs_dilation: Sequence[int],
        feature_group_count: int = 1,
        batch_group_count: int = 1,
        precision: Attribute | None = None,
        result_element: Attribute | None = None,
    ) -> SSAValue:
        """stablehlo.convolution with ``dims`` a ConvDimensionNumbersAttr; the result type is
        inferred."""
        ls, rs = shape(lhs), shape(rhs)
        n = len(dims.input_spatial_dimensions)
        out = [0] * (n + 2)
        out[dims.output_batch_dimension] = ls[dims.input_batch_dimension] // batch_group_count
        out[dims.output_feature_dimension] = rs[dims.kernel_output_feature_dimension]
        for k in range(n):
            size = _window_out(
                ls[dims.input_spatial_dimensions[k]], rs[dims.kernel_spatial_dimensions[k]], strides[k], padding[k][0], padding[k][1], lhs_dilation[k], rhs_dilation[k]
            )
            out[dims.output_spatial_dimensions[k]] = size
        props: dict[str, Attribute] = {
            "window_strides": hlo.i64_array(strides),
            "padding": _padding_attr(padding),
            "lhs_dilation": hlo.i64_array(lhs_dilation),
            "rhs_dilation": hlo.i64_array(rhs_dilation),
            "dimension_numbers": dims,
            "feature_group_count": IntegerAttr(feature_group_count, i64),
            "batch_group_count": IntegerAttr(batch_group_count, i64),
        }
        if precision is not None:
            props["precision_config"] = precision
        op = hlo.ConvolutionOp.create(operands=[lhs, rhs], result_types=[tensor(result_element or elem(lhs), out)], properties=props)
        return self._one(op)

    def triangular_solve(self, a: SSAValue, b: SSAValue, left_side: bool, lower: bool, unit_diagonal: bool, transpose_a: bool) -> SSAValue:
        """Solve op(a) x = b (left side) or x op(a) = b, op(a) = a or a^T."""
        from .attributes import Transpose, TransposeAttr

        op = hlo.TriangularSolveOp.create(
            operands=[a, b],
            result_types=[b.type],
            properties={
                "left_side": BoolAttr(left_side, IntegerType(1)),
                "lower": BoolAttr(lower, IntegerType(1)),
                "unit_diagonal": BoolAttr(unit_diagonal, IntegerType(1)),
                "transpose_a": TransposeAttr(Transpose.TRANSPOSE if transpose_a else Transpose.NO_TRANSPOSE),
            },
        )
        return self._one(op)

    def while_loop(self, init: Sequence[SSAValue], cond_fn: Any, body_fn: Any) -> list[SSAValue]:
        """A stablehlo.while over ``init``: ``cond_fn(builder, args) -> i1 tensor`` and
        ``body_fn(builder, args) -> next values``, each building into its own region (which
        may use values of the enclosing function)."""
        from xdsl.ir import Region

        types = [v.type for v in init]
        cond_block = Block(arg_types=types)
        cond_block.add_op(hlo.ReturnOp([cond_fn(Builder(cond_block), list(cond_block.args))]))
        body_block = Block(arg_types=types)
        body_block.add_op(hlo.ReturnOp(body_fn(Builder(body_block), list(body_block.args))))
        new = self.insert(hlo.WhileOp.create(operands=list(init), result_types=types, regions=[Region(cond_block), Region(body_block)]))
        return list(new.results)

    def sort(self, xs: Sequence[SSAValue], dimension: int, is_stable: bool, comparator: Any) -> list[SSAValue]:
        """stablehlo.sort of ``xs`` with the given comparator region."""
        op = hlo.SortOp.create(
            operands=list(xs),
            result_types=[x.type for x in xs],
            properties={"dimension": IntegerAttr(dimension, i64), "is_stable": BoolAttr(is_stable, IntegerType(1))},
            regions=[comparator],
        )
        return list(self.insert(op).results)


def constant_value(v: SSAValue) -> np.ndarray | None:
    """The value of ``v`` when it is a constant (through broadcast_in_dim of a constant)."""
    from .dense import dense_to_numpy

    owner = v.owner
    if isinstance(owner, hlo.ConstantOp):
        return dense_to_numpy(owner.value)
    if isinstance(owner, hlo.BroadcastInDimOp):
        inner = constant_value(owner.operand)
        if inner is not None and inner.size == 1:
            import numpy as np

            return np.full(shape(owner.result), inner.reshape(()), dtype=inner.dtype)
    if is_arith_constant(owner):
        val = owner.value
        if isinstance(val, (IntegerAttr, FloatAttr)):
            import numpy as np

            return np.asarray(val.value.data)
        if isinstance(val, DenseIntOrFPElementsAttr):
            return dense_to_numpy(val)
    return None


def is_zero(v: SSAValue) -> bool:
    owner = v.owner
    while isinstance(owner, (hlo.BroadcastInDimOp, hlo.ReshapeOp)):
        v = owner.operand
        owner = v.owner
    value = constant_value(v)
    return value is not None and value.size > 0 and bool((value == 0).all())


# ---------------------------------------------------------------- helpers of the structured-op builders


def _region(arg_types: Sequence[Attribute], build: Any) -> Any:
    """A single-block region; ``build(builder, args)`` returns the values to return."""
    from xdsl.ir import Region

    block = Block(arg_types=list(arg_types))
    out = build(Builder(block), list(block.args))
    block.add_op(hlo.ReturnOp(list(out)))
    return Region(block)


def _combiner_region(element: Attribute, combiner: type | None) -> Any:
    """``^bb(a, b): return combiner(a, b)`` over scalars; ``combiner=None`` returns b
    (a replacing scatter)."""
    scalar = tensor(element, [])

    def build(b: Builder, args: list) -> list:
        if combiner is None:
            return [args[1]]
        return [b._one(combiner(args[0], args[1]))]

    return _region([scalar, scalar], build)


def _padding_attr(padding: Sequence[Sequence[int]]) -> DenseIntOrFPElementsAttr:
    import numpy as np

    arr = np.asarray([list(p) for p in padding], dtype=np.int64).reshape(len(padding), 2)
    return dense_from_numpy(arr, tensor(i64, [len(padding), 2]))


def _window_out(n: int, window: int, stride: int, lo: int, hi: int, base: int = 1, wdil: int = 1) -> int:
    padded = lo + hi + (max(n - 1, 0) * base + 1 if n > 0 else 0)
    eff = (window - 1) * wdil + 1
    return max(0, (padded - eff) // stride + 1) if padded >= eff else 0
