"""The way in: a JAX function becomes a :class:`Program`, a StableHLO module on xDSL
plus what is needed to rebuild the pytrees of its inputs and outputs."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np
from jax._src import effects
from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import FuncOp

from ..ir import print_module
from ..ir.query import describe_location
from ..ir.sdy import record_device_assignment
from .importer import UnsupportedOpError, import_module
from .lowering import lowering_parameters, thread_closure_values


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
        """The module's MLIR text now, or as it was at a pipeline ``stage`` ('imported',
        'optimized-before-ad', 'after-ad', 'final') when it was recorded; a stage's text
        starts with a comment line naming the pipeline text (``zymase-opt -p ...``) and
        the pass after which it was taken."""
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


def signature(args: tuple, kwargs: dict, static: tuple[int, ...]) -> Any:
    """What a trace depends on: pytree structure, shapes, dtypes, weak types, static values."""
    dyn = [a for i, a in enumerate(args) if i not in static]
    leaves, tree = jax.tree_util.tree_flatten((tuple(dyn), kwargs))
    avals = tuple((np.shape(x), jax.dtypes.result_type(x), bool(getattr(x, "weak_type", False)) or isinstance(x, (int, float, complex, bool))) for x in leaves)
    statics = tuple((i, args[i]) for i in static)
    return tree, avals, statics


class PreTraced:
    """``f`` with jax's trace of it for one signature, so that lowering it for that
    signature does not run the Python function again. Calls, hashing and equality are
    ``f``'s (caches keyed by the function find it)."""

    def __init__(self, f: Callable, traced: Any, key: Any):
        self.fun = f
        self.traced = traced
        self.key = key
        functools.update_wrapper(self, f)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fun(*args, **kwargs)

    def __hash__(self) -> int:
        return hash(self.fun)

    def __eq__(self, other: object) -> bool:
        return self.fun == (other.fun if isinstance(other, PreTraced) else other)


def trace(f: Callable, args: tuple, kwargs: dict, static: tuple[int, ...] = ()) -> Any:
    """jax's trace of ``f`` (``jax.stages.Traced``); its ``_consts`` are the values of an
    enclosing jax trace that ``f`` closes over."""
    if isinstance(f, PreTraced) and f.key == signature(args, kwargs, static):
        return f.traced
    return jax.jit(f, static_argnums=static, keep_unused=True).trace(*args, **kwargs)


def lower(f: Callable, *args: Any, static_argnums: int | Sequence[int] = (), **kwargs: Any) -> Program:
    """Trace ``f`` with JAX (or reuse the trace a :class:`PreTraced` carries), lower it to
    StableHLO and import it into zymase's IR."""
    static = _normalize_argnums(static_argnums, len(args))
    traced = trace(f, args, kwargs, static)
    if traced._consts:
        raise ValueError("internal error: lowering a function that closes over traced values (hoist them first)")
    lowered = traced.lower(_private_parameters=lowering_parameters(ordered_effects=True))
    module = import_module(lowered.compiler_ir("stablehlo"))
    # the order of a sharded program's devices is jax's device assignment, not in the module
    record_device_assignment(module, [d.id for d in getattr(lowered._lowering, "_device_list", None) or ()], [d.id for d in jax.devices()])
    thread_closure_values(module)  # custom rules closing over values from outside their loop body or branch
    if effects.ordered_effects.filter_in(traced.jaxpr.effects):
        from .callbacks import strip_tokens

        strip_tokens(module)  # ordered host callbacks: their host ops keep program order instead
    in_leaves, in_tree = jax.tree_util.tree_flatten(lowered.in_avals)
    in_avals = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in in_leaves]
    out_info = lowered.out_info
    out_leaves, out_tree = jax.tree_util.tree_flatten(out_info)
    out_avals = [jax.ShapeDtypeStruct(o.shape, o.dtype) for o in out_leaves]
    return Program(module, in_tree, out_tree, in_avals, out_avals)


__all__ = ["Program", "PreTraced", "lower", "signature", "trace", "lookup_func", "UnsupportedOpError", "describe_location"]
