"""zymase: a Python compiler that differentiates programs on MLIR and optimizes them with
knowledge of automatic differentiation."""

from .api import jit
from .frontend import Program, lower
from .loader import MlirModule, load_mlir

__all__ = ["jit", "lower", "Program", "load_mlir", "MlirModule"]
