"""The rewrites zymase applies before it runs or differentiates a module, each into ops
it already runs and differentiates: affine -> scf / memref / arith (``ir/affine.py``),
``scf.parallel`` -> nested ``scf.for`` (``ir/scf.py``), ``math.sincos`` -> ``math.sin``
and ``math.cos`` (``ir/math.py``), ``memref.alloca_scope`` -> its body (``ir/memref.py``), the llvm dialect and
its pointers -> func / arith / math / memref (``ir/lower_llvm.py``), multi-block regions -> scf.if /
scf.while (``ir/cf.py``), ``affine.if`` -> scf.if (``ir/affine_if.py``), ``arith.select`` of memrefs
(``ir/memref_select.py``), ``enzyme.affine_atomic_rmw`` (``ir/enzyme_atomic.py``), enzyme region and
split-mode requests -> enzyme.fwddiff / autodiff (``ir/enzyme_regions.py``, ``ir/enzyme_split.py``),
``enzyme.custom_reverse_rule`` -> custom_vjp functions (``ir/enzyme_rules.py``). The enzyme pass and the
loader call ``lower_for_zymase``; it imports a rewrite only when the module uses its ops."""

from __future__ import annotations

from xdsl.ir import Operation


def needs_lowering(module: Operation) -> bool:
    return any(_memref_select(op) or op.name.startswith(("affine.", "cf.")) or op.name in ("scf.execute_region", "enzyme.affine_atomic_rmw", "enzyme.custom_reverse_rule", "enzyme.fwddiff_region", "enzyme.autodiff_region", "enzyme.autodiff_split_mode.primal", "scf.parallel", "math.sincos", "memref.alloca_scope") or op.name.startswith("llvm") or _has_pointer_arguments(op) for op in module.walk())


def _has_pointer_arguments(op: Operation) -> bool:
    return op.name == "func.func" and any(getattr(t, "name", None) == "llvm.ptr" for t in op.function_type.inputs.data)  # type: ignore[attr-defined]


def _memref_select(op: Operation) -> bool:
    return op.name == "arith.select" and getattr(op.results[0].type, "name", None) == "memref"


def lower_for_zymase(module: Operation) -> bool:
    names = {op.name for op in module.walk()}
    changed = False
    if any(n.startswith("cf.") for n in names) or "scf.execute_region" in names:
        from .cf import structure_control_flow  # multi-block regions -> scf.if / scf.while

        changed |= structure_control_flow(module)
    if "enzyme.fwddiff_region" in names or "enzyme.autodiff_region" in names:
        from .enzyme_regions import outline_enzyme_regions  # -> enzyme.fwddiff / autodiff of an outlined function

        changed |= outline_enzyme_regions(module)
    if "arith.select" in names:
        from .memref_select import lower_memref_select  # a select of memrefs: each load / store on both

        changed |= lower_memref_select(module)
    if "enzyme.autodiff_split_mode.primal" in names or "enzyme.autodiff_split_mode.reverse" in names:
        from .enzyme_split import lower_split_mode  # -> a call and enzyme.autodiff at the primal's arguments

        changed |= lower_split_mode(module)
    if "enzyme.custom_reverse_rule" in names:
        from .enzyme_rules import lower_custom_reverse_rules  # rules -> custom_vjp fwd / bwd functions

        changed |= lower_custom_reverse_rules(module)
    if "enzyme.affine_atomic_rmw" in names:
        from .enzyme_atomic import lower_atomic_rmw  # -> memref.load, the update, memref.store

        changed |= lower_atomic_rmw(module)
    if "affine.if" in names:
        from .affine_if import lower_affine_if  # -> scf.if, before the loops around it

        changed |= lower_affine_if(module)
    if any(n.startswith("affine.") for n in names):
        from .affine import lower_affine

        changed |= lower_affine(module)
    if "scf.parallel" in names or any(n == "affine.parallel" for n in names):
        from .scf import lower_parallel

        changed |= lower_parallel(module)
    if any(n.startswith("llvm") for n in names) or any(_has_pointer_arguments(op) for op in module.ops):
        from .lower_llvm import lower_llvm

        changed |= lower_llvm(module)
    if "memref.alloca_scope" in names:
        from .memref import inline_alloca_scopes

        changed |= inline_alloca_scopes(module)
    if "math.sincos" in names:
        from .math import lower_sincos

        changed |= lower_sincos(module)
    return changed


__all__ = ["lower_for_zymase", "needs_lowering"]
