"""zymase: a Python compiler that differentiates programs on MLIR and optimizes them with
knowledge of automatic differentiation.

The public names are imported on first use (PEP 562), so that ``import zymase.ir`` or
``zymase-opt`` on MLIR text does not import JAX; ``zymase.grad`` and
``from zymase import grad`` work as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import autodiff, fwddiff, grad, hessian, jacfwd, jacrev, jit, jvp, laplacian, value_and_grad, vjp
    from .frontend import Program, lower
    from .loader import MlirModule, load_mlir

_API = ("autodiff", "fwddiff", "grad", "hessian", "jacfwd", "jacrev", "jit", "jvp", "laplacian", "value_and_grad", "vjp")
_SOURCES: dict[str, str] = {
    **dict.fromkeys(_API, ".api"),
    **dict.fromkeys(("Program", "lower"), ".frontend"),
    **dict.fromkeys(("MlirModule", "load_mlir"), ".loader"),
}


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(source, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = ["autodiff", "fwddiff", "grad", "value_and_grad", "vjp", "jvp", "jacfwd", "jacrev", "hessian", "laplacian", "jit", "lower", "Program", "load_mlir", "MlirModule"]
