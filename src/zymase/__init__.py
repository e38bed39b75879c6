"""zymase: a Python compiler that differentiates programs on MLIR and optimizes them with
knowledge of automatic differentiation."""

from .api import autodiff, fwddiff, grad, hessian, jacfwd, jacrev, jit, jvp, laplacian, value_and_grad, vjp
from .frontend import Program, lower
from .loader import MlirModule, load_mlir

__all__ = ["autodiff", "fwddiff", "grad", "value_and_grad", "vjp", "jvp", "jacfwd", "jacrev", "hessian", "laplacian", "jit", "lower", "Program", "load_mlir", "MlirModule"]
