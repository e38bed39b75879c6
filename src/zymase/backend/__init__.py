"""The way out: modules become ordinary JAX functions (see :mod:`.emitter`)."""

from .emitter import EMITTERS, EmitError, build_function, emits

__all__ = ["EMITTERS", "EmitError", "build_function", "emits"]
