"""Complex conjugates and parts: ``chlo.conj``, ``real`` and ``imag`` of values whose
parts are known (real operands, ``complex(a, b)``, conjugates), conjugates moved through
the ops that only rearrange elements, and the infinity tests of ``chlo`` on constants.

Exactness. Conjugation negates the imaginary part and nothing else, so every identity here
is exact, signs of zero included, unless its docstring says otherwise: real(conj(z)) is
real(z) bit for bit, imag(conj(z)) is -imag(z) bit for bit, and a rearrangement (transpose,
reshape, broadcast, slice, reverse) moves the same elements whether they were conjugated
before or after.
"""

from __future__ import annotations

from xdsl.dialects.builtin import ComplexType, TensorType
from xdsl.ir import SSAValue

from ...ir import chlo
from ...ir import stablehlo as hlo
from ...ir.builder import Builder, elem
from ..pattern import CONSTANT, Example, producer, rule, shape, single_use
from .common import MAX_FOLD_ELEMENTS, constant_splat, dense_constant, emit, mlir_main


def _is_complex(v: SSAValue) -> bool:
    return isinstance(elem(v), ComplexType)


def _is_real_number(v: SSAValue) -> bool:
    """Real floating-point or integer elements (not complex)."""
    return isinstance(v.type, TensorType) and not _is_complex(v)


def _conj(b: Builder, z: SSAValue) -> SSAValue:
    return b.insert(chlo.ConjOp(z)).results[0]


_C = "tensor<4xcomplex<f64>>"
_R = "tensor<4xf64>"


def _complex_main(body: str, result: str = _C) -> str:
    """``@main(%x, %y : tensor<4xf64>)`` with ``%z = complex(x, y)`` ahead of ``body``."""
    head = f'  %z = "stablehlo.complex"(%x, %y) : ({_R}, {_R}) -> {_C}\n'
    return mlir_main(head + body, f"%x: {_R}, %y: {_R}", result)


# ============================================================================ conj of real, conj of conj


@rule(example=Example(mlir=mlir_main(f"  %0 = chlo.conj %x : {_R} -> {_R}\n  func.return %0 : {_R}", f"%x: {_R}", _R)))
def conj_real_operand(op: chlo.ConjOp, b: Builder):
    """conj(x) -> x   (x real: its conjugate is itself)"""
    if _is_complex(op.operand) or op.operand.type != op.result.type:
        return None
    return op.operand


@rule(example=Example(mlir=_complex_main(f"  %0 = chlo.conj %z : {_C} -> {_C}\n  %1 = chlo.conj %0 : {_C} -> {_C}\n  func.return %1 : {_C}")), needs={0: chlo.ConjOp})
def conj_conj(op: chlo.ConjOp, b: Builder):
    """conj(conj(z)) -> z   (negating the imaginary part twice, bit for bit)"""
    inner = producer(op.operand, chlo.ConjOp)
    if inner is None or inner.operand.type != op.result.type:
        return None
    return inner.operand


@rule(
    example=[
        Example(mlir=_complex_main(f"  %0 = chlo.conj %z : {_C} -> {_C}\n  func.return %0 : {_C}")),
    ],
    needs={0: hlo.ComplexOp},
)
def conj_complex(op: chlo.ConjOp, b: Builder):
    """conj(complex(a, b)) -> complex(a, negate(b))"""
    c = producer(op.operand, hlo.ComplexOp)
    if c is None:
        return None
    if c.result.type != op.result.type:
        return None
    return b.insert(hlo.ComplexOp(c.lhs, b.neg(c.rhs), op.result.type)).results[0]


@rule(
    example=Example(
        mlir=mlir_main(
            f'  %c = stablehlo.constant dense<[(1.5, 2.0), (-3.0, -0.0), (0.0, 4.0), (2.0, 1.0)]> : {_C}\n'
            f"  %0 = chlo.conj %c : {_C} -> {_C}\n"
            f'  %z = "stablehlo.complex"(%x, %x) : ({_R}, {_R}) -> {_C}\n'
            f"  %1 = stablehlo.add %0, %z : {_C}\n  func.return %1 : {_C}",
            f"%x: {_R}",
            _C,
        )
    ),
    needs={0: CONSTANT},
)
def conj_constant_fold(op: chlo.ConjOp, b: Builder):
    """conj(c) -> c'   (complex constants: the imaginary parts negated, -0.0 included)"""
    import numpy as np

    s = constant_splat(op.operand, complex_ok=True)
    if s is not None and s.dtype.kind == "c":
        return b.constant(np.conj(s), op.result.type) if all(n >= 0 for n in shape(op.result)) else None
    arr = dense_constant(op.operand, complex_ok=True)
    if arr is None or arr.dtype.kind != "c" or arr.size > MAX_FOLD_ELEMENTS:
        return None
    return emit(b, np.conj(arr), op.result.type)


# ============================================================================ parts of conjugates and of real values


@rule(example=Example(mlir=_complex_main(f"  %0 = chlo.conj %z : {_C} -> {_C}\n  %1 = stablehlo.real %0 : ({_C}) -> {_R}\n  func.return %1 : {_R}", _R)), needs={0: chlo.ConjOp})
def real_conj(op: hlo.RealOp, b: Builder):
    """real(conj(z)) -> real(z)"""
    inner = producer(op.operand, chlo.ConjOp)
    if inner is None or not _is_complex(inner.operand):
        return None
    return b.insert(hlo.RealOp(inner.operand, op.result.type)).results[0]


@rule(example=Example(mlir=_complex_main(f"  %0 = chlo.conj %z : {_C} -> {_C}\n  %1 = stablehlo.imag %0 : ({_C}) -> {_R}\n  func.return %1 : {_R}", _R)), needs={0: chlo.ConjOp})
def imag_conj(op: hlo.ImagOp, b: Builder):
    """imag(conj(z)) -> negate(imag(z))   (bit for bit: conj negates the imaginary part)"""
    inner = producer(op.operand, chlo.ConjOp)
    if inner is None or not _is_complex(inner.operand):
        return None
    return b.neg(b.insert(hlo.ImagOp(inner.operand, op.result.type)).results[0])


@rule(example=Example(mlir=mlir_main(f"  %0 = stablehlo.real %x : {_R}\n  %1 = stablehlo.add %0, %x : {_R}\n  func.return %1 : {_R}", f"%x: {_R}", _R)))
def real_of_real(op: hlo.RealOp, b: Builder):
    """real(x) -> x   (x real)"""
    if _is_complex(op.operand) or op.operand.type != op.result.type:
        return None
    return op.operand


@rule(example=Example(mlir=mlir_main(f"  %0 = stablehlo.imag %x : {_R}\n  %1 = stablehlo.add %0, %x : {_R}\n  func.return %1 : {_R}", f"%x: {_R}", _R)))
def imag_of_real(op: hlo.ImagOp, b: Builder):
    """imag(x) -> 0   (x real: its imaginary part is +0, also for NaN and infinities)"""
    if _is_complex(op.operand) or op.operand.type != op.result.type or any(n < 0 for n in shape(op.result)):
        return None
    return b.zeros(op.result.type)


@rule(example=Example(mlir=_complex_main(f"  %0 = chlo.conj %z : {_C} -> {_C}\n  %1 = stablehlo.abs %0 : ({_C}) -> {_R}\n  func.return %1 : {_R}", _R)), needs={0: chlo.ConjOp})
def abs_conj(op: hlo.AbsOp, b: Builder):
    """abs(conj(z)) -> abs(z)   (|a - bi| = |a + bi|: the modulus sees the parts' magnitudes only)"""
    inner = producer(op.operand, chlo.ConjOp)
    if inner is None or not _is_complex(inner.operand):
        return None
    return b.insert(hlo.AbsOp(inner.operand, op.result.type)).results[0]


@rule(example=Example(mlir=_complex_main(f"  %0 = stablehlo.negate %z : {_C}\n  %1 = chlo.conj %0 : {_C} -> {_C}\n  func.return %1 : {_C}")), needs={0: hlo.NegateOp})
def conj_negate(op: chlo.ConjOp, b: Builder):
    """conj(negate(z)) -> negate(conj(z))   (both negate the parts componentwise; conjugates innermost)"""
    n = producer(op.operand, hlo.NegateOp)
    if n is None or not single_use(op.operand):
        return None
    return b.neg(_conj(b, n.operand))


def _known_real(v: SSAValue) -> tuple[SSAValue, bool] | None:
    """(a, conjugated) when ``v`` is convert(a) of a real ``a`` to a complex type, or the
    conjugate of one (imaginary part +0, or -0 for the conjugate), else None."""
    conjugated = False
    inner = producer(v, chlo.ConjOp)
    if inner is not None:
        v, conjugated = inner.operand, True
    cv = producer(v, hlo.ConvertOp)
    if cv is None or _is_complex(cv.operand) or not _is_complex(cv.result):
        return None
    return cv.operand, conjugated


@rule(
    example=Example(
        mlir=mlir_main(
            f'  %z = "stablehlo.convert"(%x) : ({_R}) -> {_C}\n'
            f"  %c = chlo.conj %z : {_C} -> {_C}\n"
            f"  %0 = stablehlo.multiply %z, %c : {_C}\n"
            f"  %1 = stablehlo.real %0 : ({_C}) -> {_R}\n  func.return %1 : {_R}",
            f"%x: {_R}",
            _R,
        )
    ),
    needs={0: hlo.MultiplyOp},
)
def real_multiply_converted_reals(op: hlo.RealOp, b: Builder):
    """real(convert(a) * convert(c)) -> a * c   (a, c real of the result type, both or neither conjugated, or a is c: ac - bd with bd = +0.0 exactly, or ac >= +0)"""
    m = producer(op.operand, hlo.MultiplyOp)
    if m is None:
        return None
    left, right = _known_real(m.lhs), _known_real(m.rhs)
    if left is None or right is None:
        return None
    (a, conj_a), (c, conj_c) = left, right
    if a.type != op.result.type or c.type != op.result.type:
        return None
    if conj_a != conj_c and a is not c:
        return None  # bd = -0.0: ac - (-0.0) turns a product -0.0 into +0.0
    return b.mul(a, c)


# ============================================================================ conjugates through rearrangements


def _conj_inside(op: chlo.ConjOp, b: Builder, cls, rebuild):
    """conj(r(z)) -> r(conj(z)) for a rearranging op ``r`` of class ``cls`` (single use)."""
    r = producer(op.operand, cls)
    if r is None or not single_use(op.operand) or not _is_complex(op.operand):
        return None
    return rebuild(_conj(b, r.operands[0]), r)


_C22 = "tensor<2x2xcomplex<f64>>"


def _rearranged(line: str, out: str) -> Example:
    body = f'  %z = "stablehlo.complex"(%x, %y) : ({_R}, {_R}) -> {_C}\n  %r = {line}\n  %0 = chlo.conj %r : {out} -> {out}\n  func.return %0 : {out}'
    return Example(mlir=mlir_main(body, f"%x: {_R}, %y: {_R}", out))


@rule(
    example=Example(
        mlir=mlir_main(
            f'  %a = "stablehlo.complex"(%x, %y) : (tensor<2x2xf64>, tensor<2x2xf64>) -> {_C22}\n'
            f"  %t = stablehlo.transpose %a, dims = [1, 0] : ({_C22}) -> {_C22}\n"
            f"  %0 = chlo.conj %t : {_C22} -> {_C22}\n  func.return %0 : {_C22}",
            "%x: tensor<2x2xf64>, %y: tensor<2x2xf64>",
            _C22,
        )
    ),
    needs={0: hlo.TransposeOp},
)
def conj_transpose(op: chlo.ConjOp, b: Builder):
    """conj(transpose(z, p)) -> transpose(conj(z), p)   (the transpose has no other user; conjugates move to their operands)"""
    return _conj_inside(op, b, hlo.TransposeOp, lambda z, r: b.transpose(z, list(r.permutation.get_values())))


@rule(example=_rearranged(f'stablehlo.reshape %z : ({_C}) -> {_C22}', _C22), needs={0: hlo.ReshapeOp})
def conj_reshape(op: chlo.ConjOp, b: Builder):
    """conj(reshape(z)) -> reshape(conj(z))   (the reshape has no other user)"""
    return _conj_inside(op, b, hlo.ReshapeOp, lambda z, r: b.reshape(z, shape(r.result)))


@rule(example=_rearranged(f"stablehlo.broadcast_in_dim %z, dims = [0] : ({_C}) -> tensor<4x2xcomplex<f64>>", "tensor<4x2xcomplex<f64>>"), needs={0: hlo.BroadcastInDimOp})
def conj_broadcast_in_dim(op: chlo.ConjOp, b: Builder):
    """conj(broadcast_in_dim(z)) -> broadcast_in_dim(conj(z))   (fewer elements conjugated; the broadcast has no other user)"""
    return _conj_inside(op, b, hlo.BroadcastInDimOp, lambda z, r: b.broadcast_in_dim(z, shape(r.result), list(r.broadcast_dimensions.get_values())))


@rule(example=_rearranged(f"stablehlo.slice %z [1:3] : ({_C}) -> tensor<2xcomplex<f64>>", "tensor<2xcomplex<f64>>"), needs={0: hlo.SliceOp})
def conj_slice(op: chlo.ConjOp, b: Builder):
    """conj(slice(z)) -> slice(conj(z))   (the slice has no other user)"""
    return _conj_inside(
        op, b, hlo.SliceOp, lambda z, r: b.slice(z, list(r.start_indices.get_values()), list(r.limit_indices.get_values()), list(r.strides.get_values()))
    )


@rule(example=_rearranged(f"stablehlo.reverse %z, dims = [0] : {_C}", _C), needs={0: hlo.ReverseOp})
def conj_reverse(op: chlo.ConjOp, b: Builder):
    """conj(reverse(z, dims)) -> reverse(conj(z), dims)   (the reverse has no other user)"""
    return _conj_inside(op, b, hlo.ReverseOp, lambda z, r: b.reverse(z, list(r.dimensions.get_values())))


# ============================================================================ infinity tests of constants and integers


_F4 = "tensor<4xf32>"
_B4 = "tensor<4xi1>"


def _inf_example(name: str, values: str) -> Example:
    body = (
        f'  %c = "stablehlo.constant"() <{{value = dense<{values}> : {_F4}}}> : () -> {_F4}\n'
        f"  %0 = chlo.{name} %c : {_F4} -> {_B4}\n"
        f'  %1 = "stablehlo.compare"(%x, %x) <{{comparison_direction = #stablehlo<comparison_direction EQ>}}> : ({_F4}, {_F4}) -> {_B4}\n'
        f'  %2 = "stablehlo.and"(%0, %1) : ({_B4}, {_B4}) -> {_B4}\n  func.return %2 : {_B4}'
    )
    return Example(mlir=mlir_main(body, f"%x: {_F4}", _B4))


def _fold_test(op, b: Builder, test):
    import numpy as np

    s = constant_splat(op.operand)
    if s is not None and s.dtype.kind == "f":
        return b.constant(np.asarray(test(s), np.bool_), op.result.type) if all(n >= 0 for n in shape(op.result)) else None
    arr = dense_constant(op.operand)
    if arr is None or arr.dtype.kind != "f" or arr.size > MAX_FOLD_ELEMENTS:
        return None
    return emit(b, np.asarray(test(arr), np.bool_), op.result.type)


@rule(example=[_inf_example("is_inf", "[1.0, 0xFF800000, 0x7F800000, 0x7FC00000]"), _inf_example("is_inf", "2.0")], needs={0: CONSTANT})
def is_inf_constant_fold(op: chlo.IsInfOp, b: Builder):
    """is_inf(c) -> c'   (+inf and -inf; NaN is not infinite)"""
    import numpy as np

    return _fold_test(op, b, np.isinf)


@rule(example=_inf_example("is_pos_inf", "[1.0, 0xFF800000, 0x7F800000, 0x7FC00000]"), needs={0: CONSTANT})
def is_pos_inf_constant_fold(op: chlo.IsPosInfOp, b: Builder):
    """is_pos_inf(c) -> c'"""
    import numpy as np

    return _fold_test(op, b, lambda a: np.isposinf(a))


@rule(example=_inf_example("is_neg_inf", "[1.0, 0xFF800000, 0x7F800000, 0x7FC00000]"), needs={0: CONSTANT})
def is_neg_inf_constant_fold(op: chlo.IsNegInfOp, b: Builder):
    """is_neg_inf(c) -> c'"""
    import numpy as np

    return _fold_test(op, b, lambda a: np.isneginf(a))


def _converted_small_integer(v: SSAValue) -> bool:
    """``v`` is convert(x) of an integer x whose every value is finite in ``v``'s float type."""
    import numpy as np

    from .common import any_dtype

    cv = producer(v, hlo.ConvertOp)
    if cv is None:
        return False
    src, dst = any_dtype(cv.operand), any_dtype(v)
    if src is None or dst is None or src.kind not in "iub" or dst.kind != "f":
        return False
    if src.kind == "b":
        return True
    try:
        big = float(np.finfo(dst).max)
    except ValueError:
        return False
    info = np.iinfo(src)
    # the largest magnitude rounds to at most 2^ceil(log2(m)), finite when below the float maximum
    return float(max(abs(int(info.min)), int(info.max))) * 2 < big


_I4 = "tensor<4xi32>"


def _converted_test_example(name: str) -> Example:
    body = f'  %f = "stablehlo.convert"(%i) : ({_I4}) -> {_F4}\n  %0 = chlo.{name} %f : {_F4} -> {_B4}\n  func.return %0 : {_B4}'
    return Example(mlir=mlir_main(body, f"%i: {_I4}", _B4))


@rule(example=[_converted_test_example("is_inf"), _converted_test_example("is_pos_inf"), _converted_test_example("is_neg_inf")], roots=[chlo.IsInfOp, chlo.IsPosInfOp, chlo.IsNegInfOp], needs={0: hlo.ConvertOp})
def is_inf_converted_integer(op, b: Builder):
    """is_inf(convert(i)) -> false ;  is_pos_inf, is_neg_inf likewise   (i integer: every value converts to a finite float)"""
    if not _converted_small_integer(op.operand) or any(n < 0 for n in shape(op.result)):
        return None
    return b.zeros(op.result.type)


@rule(
    example=Example(mlir=mlir_main(f'  %f = "stablehlo.convert"(%i) : ({_I4}) -> {_F4}\n  %0 = "stablehlo.is_finite"(%f) : ({_F4}) -> {_B4}\n  func.return %0 : {_B4}', f"%i: {_I4}", _B4)),
    needs={0: hlo.ConvertOp},
)
def is_finite_converted_integer(op: hlo.IsFiniteOp, b: Builder):
    """is_finite(convert(i)) -> true   (i integer: every value converts to a finite float)"""
    import numpy as np

    if not _converted_small_integer(op.operand) or any(n < 0 for n in shape(op.result)):
        return None
    return b.constant(np.asarray(True), op.result.type)


# ============================================================================ ops of conjugates


@rule(
    example=[
        Example(mlir=_complex_main(f"  %w = \"stablehlo.complex\"(%y, %x) : ({_R}, {_R}) -> {_C}\n  %a = chlo.conj %z : {_C} -> {_C}\n  %c = chlo.conj %w : {_C} -> {_C}\n  %0 = stablehlo.multiply %a, %c : {_C}\n  func.return %0 : {_C}")),
        Example(mlir=_complex_main(f"  %w = \"stablehlo.complex\"(%y, %x) : ({_R}, {_R}) -> {_C}\n  %a = chlo.conj %z : {_C} -> {_C}\n  %c = chlo.conj %w : {_C} -> {_C}\n  %0 = stablehlo.subtract %a, %c : {_C}\n  func.return %0 : {_C}")),
    ],
    roots=[hlo.AddOp, hlo.SubtractOp, hlo.MultiplyOp],
    needs={0: chlo.ConjOp, 1: chlo.ConjOp},
)
def binary_conjugates(op, b: Builder):
    """conj(z) ± conj(w) -> conj(z ± w) ;  conj(z) * conj(w) -> conj(z * w)   (componentwise negation of the imaginary parts commutes with them exactly: ac - (-b)(-d), a(-d) + (-b)c)"""
    p, q = producer(op.lhs, chlo.ConjOp), producer(op.rhs, chlo.ConjOp)
    if p is None or q is None or not _is_complex(op.result):
        return None
    inner = b.insert(type(op)(p.operand, q.operand)).results[0]
    return _conj(b, inner)


@rule(
    example=Example(
        mlir=_complex_main(
            f"  %r = stablehlo.real %z : ({_C}) -> {_R}\n  %i = stablehlo.imag %z : ({_C}) -> {_R}\n  %n = stablehlo.negate %i : {_R}\n"
            f'  %0 = "stablehlo.complex"(%r, %n) : ({_R}, {_R}) -> {_C}\n  func.return %0 : {_C}'
        )
    ),
    needs={0: hlo.RealOp, 1: hlo.NegateOp},
)
def complex_of_conjugate_parts(op: hlo.ComplexOp, b: Builder):
    """complex(real(z), negate(imag(z))) -> conj(z)"""
    r, n = producer(op.lhs, hlo.RealOp), producer(op.rhs, hlo.NegateOp)
    im = None if n is None else producer(n.operand, hlo.ImagOp)
    if r is None or im is None or r.operand is not im.operand or r.operand.type != op.result.type:
        return None
    return _conj(b, r.operand)


def _widened(v: SSAValue):
    """x when ``v`` is convert(x) of a real float to a wider real float, else None."""
    from .common import any_dtype

    cv = producer(v, hlo.ConvertOp)
    if cv is None:
        return None
    src, dst = any_dtype(cv.operand), any_dtype(cv.result)
    order = {"float16": 0, "bfloat16": 0, "float32": 1, "float64": 2}
    if src is None or dst is None or str(src) not in order or str(dst) not in order or order[str(dst)] <= order[str(src)]:
        return None
    return cv.operand


@rule(
    example=[
        Example(mlir=mlir_main(f'  %w = "stablehlo.convert"(%x) : ({_F4}) -> tensor<4xf64>\n  %0 = "stablehlo.is_finite"(%w) : (tensor<4xf64>) -> {_B4}\n  func.return %0 : {_B4}', f"%x: {_F4}", _B4)),
        Example(mlir=mlir_main(f'  %w = "stablehlo.convert"(%x) : ({_F4}) -> tensor<4xf64>\n  %0 = chlo.is_pos_inf %w : tensor<4xf64> -> {_B4}\n  func.return %0 : {_B4}', f"%x: {_F4}", _B4)),
    ],
    roots=[hlo.IsFiniteOp, chlo.IsInfOp, chlo.IsPosInfOp, chlo.IsNegInfOp],
    needs={0: hlo.ConvertOp},
)
def infinity_test_of_widened(op, b: Builder):
    """is_finite(convert(x)) -> is_finite(x) ;  is_inf, is_pos_inf, is_neg_inf likewise   (x a float widened exactly: infinities and NaN stay what they are)"""
    x = _widened(op.operand)
    if x is None:
        return None
    return b.insert(type(op)(x, op.result.type)).results[0]


def _two_conj(line: str, result: str = _C, extra_args: str = "") -> Example:
    body = (
        f'  %z = "stablehlo.complex"(%x, %y) : ({_R}, {_R}) -> {_C}\n'
        f'  %w = "stablehlo.complex"(%y, %x) : ({_R}, {_R}) -> {_C}\n'
        f"  %a = chlo.conj %z : {_C} -> {_C}\n  %c = chlo.conj %w : {_C} -> {_C}\n"
        f"  %0 = {line}\n  func.return %0 : {result}"
    )
    return Example(mlir=mlir_main(body, f"%x: {_R}, %y: {_R}" + extra_args, result))


@rule(example=[_two_conj(f"stablehlo.compare EQ, %a, %c : ({_C}, {_C}) -> {_B4}", _B4), _two_conj(f"stablehlo.compare NE, %a, %a : ({_C}, {_C}) -> {_B4}", _B4)], needs={0: chlo.ConjOp, 1: chlo.ConjOp})
def compare_conjugates(op: hlo.CompareOp, b: Builder):
    """compare(conj(z), conj(w), EQ|NE) -> compare(z, w, EQ|NE)   (conjugation is a bijection: -0.0 == +0.0 and NaN unequal either way)"""
    p, q = producer(op.lhs, chlo.ConjOp), producer(op.rhs, chlo.ConjOp)
    if p is None or q is None or op.comparison_direction.data.value not in ("EQ", "NE"):
        return None
    kind = None if op.compare_type is None else op.compare_type.data.value
    if kind == "TOTALORDER":
        return None
    return b.compare(p.operand, q.operand, op.comparison_direction.data.value, kind)


@rule(example=_two_conj(f'"stablehlo.select"(%p, %a, %c) : ({_B4}, {_C}, {_C}) -> {_C}', _C, f", %p: {_B4}"), needs={1: chlo.ConjOp, 2: chlo.ConjOp})
def select_conjugates(op: hlo.SelectOp, b: Builder):
    """select(p, conj(a), conj(b)) -> conj(select(p, a, b))"""
    p, q = producer(op.on_true, chlo.ConjOp), producer(op.on_false, chlo.ConjOp)
    if p is None or q is None or p.operand.type != q.operand.type:
        return None
    return _conj(b, b.select(op.pred, p.operand, q.operand))


_C23 = "tensor<2x3xcomplex<f64>>"
_C32 = "tensor<3x2xcomplex<f64>>"


@rule(
    example=Example(
        mlir=mlir_main(
            f'  %z = "stablehlo.complex"(%x, %y) : (tensor<2x3xf64>, tensor<2x3xf64>) -> {_C23}\n'
            f'  %w = "stablehlo.complex"(%u, %v) : (tensor<3x2xf64>, tensor<3x2xf64>) -> {_C32}\n'
            f"  %a = chlo.conj %z : {_C23} -> {_C23}\n  %c = chlo.conj %w : {_C32} -> {_C32}\n"
            f"  %0 = stablehlo.dot_general %a, %c, contracting_dims = [1] x [0] : ({_C23}, {_C32}) -> {_C22}\n  func.return %0 : {_C22}",
            "%x: tensor<2x3xf64>, %y: tensor<2x3xf64>, %u: tensor<3x2xf64>, %v: tensor<3x2xf64>",
            _C22,
        )
    ),
    needs={0: chlo.ConjOp, 1: chlo.ConjOp},
)
def dot_general_conjugates(op: hlo.DotGeneralOp, b: Builder):
    """dot_general(conj(x), conj(y)) -> conj(dot_general(x, y))   (each product and sum has its imaginary part negated exactly: round to nearest is symmetric)"""
    p, q = producer(op.lhs, chlo.ConjOp), producer(op.rhs, chlo.ConjOp)
    if p is None or q is None or not _is_complex(op.result):
        return None
    new = hlo.DotGeneralOp.create(operands=[p.operand, q.operand], result_types=[op.result.type], properties=dict(op.properties), attributes=dict(op.attributes))
    return _conj(b, b.insert(new).results[0])
