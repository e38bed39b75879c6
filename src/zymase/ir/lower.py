"""The rewrites zymase applies before it runs or differentiates a module, each into ops
it already runs and differentiates: affine -> scf / memref / arith (``ir/affine.py``),
``scf.parallel`` -> nested ``scf.for`` (``ir/scf.py``), ``math.sincos`` -> ``math.sin``
and ``math.cos`` (``ir/math.py``), ``memref.alloca_scope`` -> its body (``ir/memref.py``), scalar ``llvm.alloca`` /
``load`` / ``store`` -> memref (``ir/llvm.py``). The enzyme pass and the loader call
``lower_for_zymase``; it imports a rewrite only when the module uses its ops."""

from __future__ import annotations

from xdsl.ir import Operation


def needs_lowering(module: Operation) -> bool:
    return any(op.name.startswith("affine.") or op.name in ("scf.parallel", "math.sincos", "memref.alloca_scope", "llvm.alloca", "llvm.mlir.constant") for op in module.walk())


def lower_for_zymase(module: Operation) -> bool:
    names = {op.name for op in module.walk()}
    changed = False
    if any(n.startswith("affine.") for n in names):
        from .affine import lower_affine

        changed |= lower_affine(module)
    if "scf.parallel" in names or any(n == "affine.parallel" for n in names):
        from .scf import lower_parallel

        changed |= lower_parallel(module)
    if "llvm.alloca" in names or "llvm.mlir.constant" in names:
        from .llvm import lower_llvm_memory

        changed |= lower_llvm_memory(module)
    if "memref.alloca_scope" in names:
        from .memref import inline_alloca_scopes

        changed |= inline_alloca_scopes(module)
    if "math.sincos" in names:
        from .math import lower_sincos

        changed |= lower_sincos(module)
    return changed


__all__ = ["lower_for_zymase", "needs_lowering"]
