"""The way out: a module becomes an ordinary JAX function made of ``jax.lax`` calls.

Each op class has an emitter, registered with ``@emits(OpClass)``. An emitter sees the op
once, when the function is built, reads its static fields, and returns a callable that
maps the JAX values of the op's operands to the values of its results (a single value or
a sequence, one per result). Regions are compiled into callables the same way, so
``stablehlo.while`` becomes ``lax.while_loop(cond, body, init)`` with ``cond`` and
``body`` built from its regions.

The result is plain JAX: it runs eagerly, under ``jax.jit``, ``jax.vmap``, ``jax.grad``
and with shardings, since scale-out is JAX's and XLA's job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import CallOp, FuncOp, ReturnOp
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.traits import IsTerminator

from ..ir.query import describe_location

OpFn = Callable[..., Any]
Emitter = Callable[["FunctionBuilder", Any], OpFn]

EMITTERS: dict[type[Operation], Emitter] = {}


class EmitError(Exception):
    """An op has no lax emitter, or a form of it that zymase cannot express in JAX."""


def emits(*classes: type[Operation]) -> Callable[[Emitter], Emitter]:
    def register(fn: Emitter) -> Emitter:
        for cls in classes:
            EMITTERS[cls] = fn
        return fn

    return register


def emits_table(table: dict[type[Operation], OpFn]) -> None:
    """Each op class of ``table`` emits as the function the table maps it to (ops whose
    properties do not change what they compute)."""
    for cls, fn in table.items():
        EMITTERS[cls] = lambda b, op, fn=fn: fn


def emit_error(op: Operation, message: str) -> EmitError:
    return EmitError(f"cannot emit '{op.name}' at {describe_location(op)}: {message}")


class FunctionBuilder:
    """Compiles the functions of one module into Python callables over JAX values."""

    def __init__(self, module: ModuleOp):
        self.module = module
        self.funcs: dict[str, FuncOp] = {op.sym_name.data: op for op in module.ops if isinstance(op, FuncOp)}
        self.compiled: dict[str, Callable[..., tuple]] = {}

    def function(self, name: str) -> Callable[..., tuple]:
        """The callable for ``func.func @name``: positional JAX values in, tuple out."""
        got = self.compiled.get(name)
        if got is not None:
            return got
        func = self.funcs.get(name)
        if func is None:
            raise EmitError(f"no function @{name} in the module")
        if not func.body.blocks:
            raise EmitError(f"function @{name} is a declaration without a body")
        # Recursive calls resolve through this indirection once compilation finishes.
        cell: list[Callable[..., tuple]] = []
        self.compiled[name] = lambda *args: cell[0](*args)
        body = self.block(func.body.blocks.first, isolated=True)
        cell.append(body)
        self.compiled[name] = body
        return body

    def region(self, region: Region) -> Callable[..., tuple]:
        if len(region.blocks) != 1:
            raise EmitError(f"regions with {len(region.blocks)} blocks are not supported (one block expected)")
        return self.block(region.blocks.first)

    def block(self, block: Block, isolated: bool = False) -> Callable[..., tuple]:
        """Compile a block into ``f(*block_args) -> tuple(terminator operands)``.

        A region's block reads the values it captures from the environment of the
        block that runs it; a function body (``isolated``) starts from nothing."""
        steps: list[tuple[OpFn, tuple[SSAValue, ...], tuple[SSAValue, ...], Operation]] = []
        terminator: Operation | None = None
        for op in block.ops:
            if op is block.last_op and op.has_trait(IsTerminator):
                terminator = op
                break
            emitter = EMITTERS.get(type(op))
            if emitter is None:
                raise emit_error(op, "zymase has no lax emitter for this op")
            steps.append((emitter(self, op), tuple(op.operands), tuple(op.results), op))
        if terminator is None:
            raise EmitError(f"block in '{block.parent_op().name if block.parent_op() else '?'}' has no terminator")
        outputs = tuple(terminator.operands)
        args = tuple(block.args)
        env_stack = self._env_stack

        def run(*values: Any) -> tuple:
            env: dict[SSAValue, Any] = {} if isolated or not env_stack else dict(env_stack[-1])
            env.update(zip(args, values))
            env_stack.append(env)
            try:
                for fn, operands, results, op in steps:
                    out = fn(*[env[v] for v in operands])
                    if len(results) == 1:
                        env[results[0]] = out
                    elif results:
                        env.update(zip(results, out))
                return tuple(env[v] for v in outputs)
            finally:
                env_stack.pop()

        return run

    def with_custom_rule(self, name: str) -> Callable[..., tuple] | None:
        """``@name`` wrapped in ``jax.custom_jvp`` / ``jax.custom_vjp`` when it carries a
        custom derivative rule, so jax's transformations of the emitted code (and zymase
        lowering it again) keep the rule; None for a plain function."""
        from .custom_rules import wrap_custom_rule

        got = self._wrapped.get(name, False)
        if got is False:
            got = self._wrapped[name] = wrap_custom_rule(self, self.funcs[name])
        return got

    @property
    def _wrapped(self) -> dict[str, Any]:
        got = getattr(self, "_wrapped_cache", None)
        if got is None:
            got = self._wrapped_cache = {}
        return got

    @property
    def _env_stack(self) -> list[dict[SSAValue, Any]]:
        stack = getattr(self, "_stack", None)
        if stack is None:
            stack = self._stack = []
        return stack


@emits(CallOp)
def _call(b: FunctionBuilder, op: CallOp) -> OpFn:
    name = op.callee.root_reference.data
    b.function(name)  # compile now so errors surface at build time
    target = b.with_custom_rule(name)

    def call(*args: Any) -> Any:
        out = target(*args) if target is not None else b.compiled[name](*args)
        return out[0] if len(op.results) == 1 else out

    return call


def build_function(module: ModuleOp, name: str = "main") -> Callable[..., tuple]:
    """Emit ``func.func @name`` of ``module`` as a Python function of JAX values
    returning a tuple with one entry per function result."""
    from . import callback_ops, custom_rules, lax_ops, std_ops  # noqa: F401  (register the emitters)
    from . import math_ops  # noqa: F401  (math.erfc)
    from . import complex_ops  # noqa: F401  (the complex dialect, on scalars)
    from . import linalg_ops  # noqa: F401
    from . import sharding_ops  # noqa: F401  (after callback_ops: it takes over sdy.sharding_constraint)
    from . import memref_ops  # noqa: F401  (after std_ops: it wraps the scf emitters for regions that use buffers)

    return FunctionBuilder(module).function(name)


__all__ = ["EMITTERS", "EmitError", "FunctionBuilder", "build_function", "emits", "emit_error", "ReturnOp"]
