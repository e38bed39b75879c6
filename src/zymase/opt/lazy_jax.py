"""``jax``, ``jnp``, ``lax`` and ``ml_dtypes`` for the rule files, imported on first use.

A rule's :class:`~zymase.opt.pattern.Example` states its meaning as a JAX function
(``Example(lambda x: jnp.sin(x), ...)``), which only the rule-verification tests call.
Importing JAX takes about a second (most of it ml_dtypes, JAX's bfloat16 & co). So that
``zymase-hlo-opt`` (and ``zymase-opt`` on MLIR text) does not pay for it, the rule files
import these proxies instead::

    from ..lazy_jax import jnp, lax

Each proxy imports its module the first time one of its attributes is read. Only a
rule that meets a bfloat16 constant reads ``ml_dtypes.bfloat16`` (compare dtypes with
:func:`zymase.ir.dense.is_bfloat16` to not import it for the other types).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module ``name`` and imports it on the first attribute access."""

    def __init__(self, name: str):
        self.__dict__["_name"] = name
        self.__dict__["_module"] = None

    def _load(self) -> ModuleType:
        module = self.__dict__["_module"]
        if module is None:
            module = self.__dict__["_module"] = importlib.import_module(self.__dict__["_name"])
        return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"cannot set '{attr}' on the lazy module '{self._name}'")

    def __dir__(self) -> list[str]:
        return dir(self._load())

    def __repr__(self) -> str:
        state = "imported" if self.__dict__["_module"] is not None else "not imported yet"
        return f"<lazy module '{self._name}' ({state})>"


jax: Any = LazyModule("jax")
jnp: Any = LazyModule("jax.numpy")
lax: Any = LazyModule("jax.lax")
ml_dtypes: Any = LazyModule("ml_dtypes")
np: Any = LazyModule("numpy")
"""numpy, for rule files whose examples and folds use it: ``zymase-hlo-opt`` on a module
with nothing to fold does not import it."""

__all__ = ["LazyModule", "jax", "jnp", "lax", "ml_dtypes", "np"]
