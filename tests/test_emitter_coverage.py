"""Every op the IR context registers has a lax emitter, or is on a list below with the
reason it has none.

The ops are those of every dialect ``zymase.ir.make_context()`` loads: zymase's own
(stablehlo with ``sdy.mesh``, chlo, enzyme, host with ``sdy.sharding_constraint``,
matrix) and xDSL's (builtin, func, arith, math, scf, tensor), since zymase-opt parses and
``--run`` / ``load_mlir`` emits all of them. The emitters are those ``build_function``
registers (``EMITTERS`` of backend/emitter.py, filled by the backend modules).

A new op without an emitter fails ``test_every_op_has_an_emitter_or_a_reason``: write its
emitter (docs/architecture.md, "Adding an op"), or list it here with an honest reason.
A listed op that gained an emitter, or that no dialect registers any more, fails
``test_lists_are_current``.
"""

from __future__ import annotations

import pytest
from xdsl.traits import IsTerminator

from zymase.backend.emitter import EMITTERS, EmitError, build_function
from zymase.ir import make_context, parse_module
from zymase.ir.llvm import LLVM, LLVMExt
from zymase.loader import parse_located

# Terminators are not emitted one by one: FunctionBuilder.block reads the operands of a
# block's terminator as the block's outputs. Each is listed with the ops whose regions it ends.
TERMINATORS: dict[str, str] = {
    "func.return": "func.func bodies",
    "stablehlo.return": "regions of stablehlo ops (while, if, case, reduce, sort, scatter, ...)",
    "scf.yield": "scf.for, scf.if, scf.while (after), scf.execute_region, scf.index_switch",
    "scf.condition": "scf.while (before region; its emitter reads the condition first)",
    "scf.reduce": "inside scf.parallel, lowered to scf.for (ir/scf.py)",
    "scf.reduce.return": "scf.reduce regions, inside scf.parallel, which has no emitter",
    "tensor.yield": "tensor.pad regions; tensor.pad has no emitter (below)",
    "sdy.return": "sdy.manual_computation regions",
}

# Ops that have no emitter on purpose. Emitting a function that contains one raises a
# one-line EmitError naming the op and its location (test_missing_emitter_is_a_located_error).
NOT_EMITTED: dict[str, str] = {
    # --- structure, not computation: FunctionBuilder walks them itself
    "builtin.module": "the container; build_function looks up its func.func ops",
    "func.func": "compiled by FunctionBuilder.function, not by an op emitter",
    "sdy.mesh": "a module-level symbol (a device mesh jax declares for callbacks); never inside a function body",
    # --- consumed by passes before emission
    "enzyme.autodiff": "replaced by a call of the generated diffe<fn> by the enzyme pass, which every AD pipeline runs",
    "enzyme.fwddiff": "replaced by a call of the generated fwddiffe<fn> by the enzyme pass",
    "enzyme.fwdlaplace": "replaced by a call of the generated fwdlaplace<fn> by the enzyme pass",
    "enzyme.batch": "replaced by a call of the generated batched_<fn>, a loop over the batch, by the enzyme-batch and enzyme passes (ir/enzyme_batch.py)",
    # --- rewritten before running and differentiating (ir/lower.py, called by the loader and the enzyme pass)
    "affine.for": "lowered to scf.for (ir/affine.py)",
    "affine.parallel": "lowered to nested scf.for (ir/affine.py)",
    "affine.load": "lowered to memref.load (ir/affine.py)",
    "affine.store": "lowered to memref.store (ir/affine.py)",
    "affine.apply": "lowered to arith on index (ir/affine.py)",
    "affine.min": "lowered to arith.minsi (ir/affine.py)",
    "affine.yield": "lowered to scf.yield with its loop (ir/affine.py)",
    "math.sincos": "lowered to math.sin and math.cos (ir/math.py)",
    "memref.alloca_scope": "replaced by its body before running (ir/memref.py)",
    "memref.alloca_scope.return": "replaced by its values with its scope (ir/memref.py)",
    "cf.br": "multi-block regions are structured into scf.if / scf.while (ir/cf.py)",
    "cf.cond_br": "becomes scf.if (ir/cf.py)",
    "cf.switch": "becomes a chain of scf.if (ir/cf.py)",
    "cf.assert": "dropped when its region is structured (ir/cf.py): zymase has no traps",
    "enzyme.custom_reverse_rule": "becomes the functions <rule>.fwd / <rule>.bwd (ir/enzyme_rules.py)",
    "enzyme.custom_reverse_rule.augmented_primal": "becomes <rule>.fwd (ir/enzyme_rules.py)",
    "enzyme.custom_reverse_rule.reverse": "becomes <rule>.bwd (ir/enzyme_rules.py)",
    "enzyme.init": "a rule's cache: becomes residuals of <rule>.fwd (ir/enzyme_rules.py)",
    "enzyme.push": "becomes a residual result of <rule>.fwd (ir/enzyme_rules.py)",
    "enzyme.pop": "becomes a residual argument of <rule>.bwd (ir/enzyme_rules.py)",
    "enzyme.yield": "a rule region's terminator: becomes func.return (ir/enzyme_rules.py)",
    "enzyme.fwddiff_region": "outlined into a function and an enzyme.fwddiff of it (ir/enzyme_regions.py)",
    "enzyme.autodiff_region": "outlined into a function and an enzyme.autodiff of it (ir/enzyme_regions.py)",
    "enzyme.autodiff_split_mode.primal": "becomes a call of the function (ir/enzyme_split.py)",
    "enzyme.autodiff_split_mode.reverse": "becomes an enzyme.autodiff at the primal's arguments (ir/enzyme_split.py)",
    "affine.if": "lowered to scf.if (ir/affine_if.py)",
    "enzyme.affine_atomic_rmw": "a load, the update and a store (ir/enzyme_atomic.py)",
    "complex.atan2": "complex atan2 has no lax counterpart; never produced by zymase",
    "complex.bitcast": "reinterprets bits between complex and integer types; not supported",
    # --- xDSL placeholders zymase never produces
    "builtin.unregistered": "stands for an op of an unknown dialect (only with allow_unregistered); nothing to run",
    "builtin.unrealized_conversion_cast": "an artefact of dialect conversion; zymase has no conversions",
    # --- tokens order side effects; zymase's programs carry none (ordered host callbacks
    #     are refused in frontend/callbacks.py)
    "stablehlo.create_token": "tokens: ordered effects are not supported",
    "stablehlo.after_all": "tokens: ordered effects are not supported",
    # --- xDSL standard-dialect ops that neither jax's lowering nor zymase's passes produce;
    #     they parse (hand-written MLIR) but --run / load_mlir refuses them
    "arith.addui_extended": "two-result wide arithmetic; not produced by zymase, not emitted yet",
    "arith.mului_extended": "two-result wide arithmetic; not produced by zymase, not emitted yet",
    "arith.mulsi_extended": "two-result wide arithmetic; not produced by zymase, not emitted yet",
    "scf.parallel": "lowered to nested scf.for before running (ir/scf.py)",
    # xDSL's tensor dialect is loaded for tensor.splat / tensor.extract, which zymase's
    # Builder uses between scalars and 0-d tensors (both emitted); the rest is not emitted yet
    "tensor.cast": "not produced by zymase, not emitted yet",
    "tensor.collapse_shape": "not produced by zymase, not emitted yet (stablehlo.reshape is)",
    "tensor.concat": "not produced by zymase, not emitted yet (stablehlo.concatenate is)",
    "tensor.dim": "dynamic shapes: not supported",
    "tensor.empty": "uninitialised tensors: not produced by zymase, not emitted yet",
    "tensor.expand_shape": "not produced by zymase, not emitted yet (stablehlo.reshape is)",
    "tensor.extract_slice": "not produced by zymase, not emitted yet (stablehlo.slice is)",
    "tensor.from_elements": "not produced by zymase, not emitted yet",
    "tensor.insert": "not produced by zymase, not emitted yet",
    "tensor.insert_slice": "not produced by zymase, not emitted yet (stablehlo.dynamic_update_slice is)",
    "tensor.reshape": "shape given as a tensor operand; not produced by zymase, not emitted yet",
    "tensor.pad": "not produced by zymase, not emitted yet (stablehlo.pad is)",
}

# the llvm dialect (and llvm_ext) is rewritten into func / arith / math / scf / memref
# before running; what does not map is refused there by name
NOT_EMITTED.update({op.name: "rewritten into func / arith / math / scf / memref before running, or refused by name (ir/lower_llvm.py)" for op in (*LLVM.operations, *LLVMExt.operations)})


def _registered_ops() -> dict[str, type]:
    """Op name -> class, for every op of every dialect the context loads."""
    return {op.name: op for dialect in make_context().loaded_dialects for op in dialect.operations}


@pytest.fixture(scope="module")
def emitters() -> dict[type, object]:
    """The emitter registry as build_function fills it (building any function registers them)."""
    build_function(parse_module("func.func @main() {\n  func.return\n}\n"), "main")
    return EMITTERS


def test_every_op_has_an_emitter_or_a_reason(emitters: dict) -> None:
    ops = _registered_ops()
    missing = sorted(name for name, cls in ops.items() if cls not in emitters and name not in TERMINATORS and name not in NOT_EMITTED)
    assert not missing, (
        "ops without a lax emitter (write one with @emits in src/zymase/backend/, or list the op in "
        f"NOT_EMITTED of tests/test_emitter_coverage.py with the reason): {missing}"
    )


def test_lists_are_current(emitters: dict) -> None:
    ops = _registered_ops()
    listed = {**TERMINATORS, **NOT_EMITTED}
    unknown = sorted(name for name in listed if name not in ops)
    assert not unknown, f"listed ops that no dialect of make_context() registers: {unknown}"
    emitted = sorted(name for name in listed if ops[name] in emitters)
    assert not emitted, f"listed ops that have an emitter now (take them off the list): {emitted}"
    assert not set(TERMINATORS) & set(NOT_EMITTED), "an op is on both lists"
    not_terminators = sorted(name for name in TERMINATORS if not ops[name].has_trait(IsTerminator))
    assert not not_terminators, f"TERMINATORS lists ops that are not terminators: {not_terminators}"


def test_every_list_entry_has_a_reason() -> None:
    blank = sorted(name for name, why in {**TERMINATORS, **NOT_EMITTED}.items() if not why.strip())
    assert not blank, f"listed without a reason: {blank}"


def test_missing_emitter_is_a_located_error() -> None:
    """An op without an emitter is refused when the function is built, in one line that
    names the op and where it is (never a wrong program, never a bare KeyError)."""
    text = """func.func @main() -> tensor<ui32> {
  %r = "stablehlo.replica_id"() : () -> tensor<ui32>
  func.return %r : tensor<ui32>
}
"""
    with pytest.raises(EmitError) as info:
        build_function(parse_located(text, "replica.mlir"), "main")
    message = str(info.value)
    assert "'stablehlo.replica_id'" in message and "replica.mlir:2:" in message, message
    assert "\n" not in message, message
