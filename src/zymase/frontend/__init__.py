"""The way in: a JAX function becomes a :class:`Program`, a StableHLO module on xDSL
plus what is needed to rebuild the pytrees of its inputs and outputs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import FuncOp

from ..ir import print_module
from .importer import UnsupportedOpError, describe_location, import_module
from .lowering import lowering_parameters


@dataclass
class Program:
    """A lowered JAX function.

    ``module`` holds a public ``func.func @main`` whose arguments are the flattened
    (non-static) inputs, in pytree order, and whose results are the flattened outputs.
    """

    module: ModuleOp
    in_tree: Any
    out_tree: Any
    in_avals: list[jax.ShapeDtypeStruct]
    out_avals: list[jax.ShapeDtypeStruct]
    entry: str = "main"
    stages: dict[str, str] = field(default_factory=dict)

    @property
    def main(self) -> FuncOp:
        return lookup_func(self.module, self.entry)

    def as_text(self, stage: str | None = None, generic: bool = True) -> str:
        """The module's MLIR text now, or as it was after a pipeline ``stage``
        ('imported', 'optimized-before-ad', 'after-ad', 'final') when it was recorded."""
        if stage is None:
            return print_module(self.module, generic=generic)
        if stage not in self.stages:
            known = ", ".join(self.stages) or "none (lower the transformation, e.g. zymase.grad(f).lower(*args))"
            raise KeyError(f"no recorded stage '{stage}'; recorded stages: {known}")
        return self.stages[stage]

    def __str__(self) -> str:
        return self.as_text()


def lookup_func(module: ModuleOp, name: str) -> FuncOp:
    for op in module.ops:
        if isinstance(op, FuncOp) and op.sym_name.data == name:
            return op
    raise KeyError(f"no function @{name} in the module")


def _normalize_argnums(argnums: int | Sequence[int], n: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    return tuple(a % n if n else a for a in nums)


def lower(f: Callable, *args: Any, static_argnums: int | Sequence[int] = (), **kwargs: Any) -> Program:
    """Trace ``f`` with JAX, lower it to StableHLO and import it into zymase's IR."""
    static = _normalize_argnums(static_argnums, len(args))
    traced = jax.jit(f, static_argnums=static, keep_unused=True).trace(*args, **kwargs)
    lowered = traced.lower(_private_parameters=lowering_parameters())
    module = import_module(lowered.compiler_ir("stablehlo"))
    in_leaves, in_tree = jax.tree_util.tree_flatten(lowered.in_avals)
    in_avals = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in in_leaves]
    out_info = lowered.out_info
    out_leaves, out_tree = jax.tree_util.tree_flatten(out_info)
    out_avals = [jax.ShapeDtypeStruct(o.shape, o.dtype) for o in out_leaves]
    return Program(module, in_tree, out_tree, in_avals, out_avals)


__all__ = ["Program", "lower", "lookup_func", "UnsupportedOpError", "describe_location"]
