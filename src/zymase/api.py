"""JAX-style transformations: lower -> pipeline -> emit, cached per abstract signature."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from .backend import build_function
from .frontend import Program, lower


def _signature(args: tuple, kwargs: dict, static: tuple[int, ...]) -> Any:
    dyn = [a for i, a in enumerate(args) if i not in static]
    leaves, tree = jax.tree_util.tree_flatten((tuple(dyn), kwargs))
    avals = tuple((np.shape(x), jax.dtypes.result_type(x), bool(getattr(x, "weak_type", False)) or isinstance(x, (int, float, complex, bool))) for x in leaves)
    statics = tuple((i, args[i]) for i in static)
    return tree, avals, statics


class Compiled:
    """A program emitted as a JAX function, plus its pytree metadata."""

    def __init__(self, program: Program, static: tuple[int, ...]):
        self.program = program
        self.static = static
        self.fn = build_function(program.module, program.entry)
        self.jitted = jax.jit(self._flat)

    def _flat(self, *leaves: Any) -> tuple:
        return self.fn(*leaves)

    def __call__(self, args: tuple, kwargs: dict) -> Any:
        dyn = [a for i, a in enumerate(args) if i not in self.static]
        leaves = jax.tree_util.tree_leaves((tuple(dyn), kwargs))
        out = self.jitted(*leaves)
        return jax.tree_util.tree_unflatten(self.program.out_tree, list(out))


def jit(f: Callable, static_argnums: int | Sequence[int] = ()) -> Callable:
    """Like ``jax.jit``: lower ``f`` through zymase, run its pipeline, emit lax, call.

    Compiled per abstract signature (shapes, dtypes, static arguments, pytree structure)."""
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    cache: dict[Any, Compiled] = {}

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = _signature(args, kwargs, static)
        compiled = cache.get(key)
        if compiled is None:
            program = lower(f, *args, static_argnums=static, **kwargs)
            compiled = cache[key] = Compiled(program, static)
        return compiled(args, kwargs)

    wrapped.lower = lambda *args, **kwargs: lower(f, *args, static_argnums=static, **kwargs)  # type: ignore[attr-defined]
    wrapped._cache = cache  # type: ignore[attr-defined]
    return wrapped
