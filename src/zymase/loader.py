"""Run MLIR text as JAX: ``load_mlir(text)`` gives a module whose functions are callable.

    mod = load_mlir(open("square.mlir").read())
    mod.square(3.0, 4.0)        # -> (Array(9.), Array(16.))
    mod["square"](x, y)

Each function is emitted as lax calls (:mod:`zymase.backend`) and wrapped in ``jax.jit``.
Arguments are converted to the function's argument types (a float array passed to an
``f32`` argument is cast; a float passed to an integer argument is an error). A function
with one result returns it, otherwise a tuple.

Parsed ops get a ``file:line:col`` location, so every error (parse, verify, emit, call)
is an :class:`MlirError` whose message is one line starting with that location.

Parsing and verifying need no JAX (``zymase-opt`` on MLIR text starts without it); JAX
is imported when a function is first called.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, FileLineColLoc, FunctionType, IntAttr, MemRefType, ModuleOp, StringAttr, SymbolRefAttr, TensorType, UnknownLoc
from xdsl.dialects.func import FuncOp
from xdsl.ir import Attribute, Operation
from xdsl.parser import Parser
from xdsl.utils.exceptions import ParseError
from xdsl.utils.lexer import Span

from .backend.emitter import EmitError, build_function
from .ir.query import describe_location
from .errors import MlirError, _one_line  # noqa: F401  (re-exported; defined apart for zymase-opt)
from .ir import parse_module


# ----------------------------------------------------------------- parse and verify


class LocatingParser(Parser):
    """xDSL's parser, giving each op without an explicit ``loc(...)`` its file:line:col."""

    def parse_operation(self) -> Operation:
        start = Span(self.pos, self.pos, self.lexer.input).get_location()
        op = super().parse_operation()
        if isinstance(op.location, UnknownLoc):
            op.location = FileLineColLoc(StringAttr(start.file), IntAttr(start.line), IntAttr(start.col))
        return op


def parse_error(e: ParseError) -> MlirError:
    return MlirError(e.msg, str(e.span.get_location()))


def parse_located(text: str, name: str = "<input>", allow_unregistered: bool = False) -> ModuleOp:
    """Parse MLIR text with zymase's dialects; raises :class:`MlirError`. With
    ``allow_unregistered`` (zymase-opt's ``--allow-unregistered-dialect``), ops, attributes
    and types of unknown dialects parse as opaque ones (xDSL's ``UnregisteredOp``): they
    print as written and pass through passes that need not know their meaning."""
    from .ir import make_context

    try:
        return parse_module(text, name, ctx=make_context(allow_unregistered=allow_unregistered, lazy=True), parser_class=LocatingParser)
    except ParseError as e:
        raise parse_error(e) from None


def verify_located(module: ModuleOp) -> None:
    """Verify op by op, so that a failure names the op and where it is."""
    for op in module.walk():
        try:
            op.verify(verify_nested_ops=False)
        except Exception as e:  # xDSL verifiers raise VerifyException, and some plain Exception
            message = str(e)
            if not message.startswith(f"'{op.name}' op"):
                message = f"'{op.name}' op {message}"
            raise MlirError(message, _location(op)) from None
    try:  # what is left: the structure of regions and blocks
        module.verify()
    except Exception as e:
        raise MlirError(str(e)) from None


def _location(op: Operation) -> str | None:
    where = describe_location(op)
    return None if where == "unknown location" else where


# ----------------------------------------------------------------- calling


class MlirFunction:
    """``func.func @name`` of a loaded module, callable on numpy / JAX arrays."""

    def __init__(self, module: ModuleOp, func: FuncOp):
        self.module = module
        self.func = func
        self.name = func.sym_name.data
        function_type: FunctionType = func.function_type
        self.arg_types: tuple[Attribute, ...] = tuple(function_type.inputs.data)
        self.result_types: tuple[Attribute, ...] = tuple(function_type.outputs.data)
        self._jitted: dict[bool, Any] = {}
        self._plain: dict[bool, Any] = {}
        self.memref_args: tuple[int, ...] = tuple(i for i, t in enumerate(self.arg_types) if isinstance(t, MemRefType))
        """The memref arguments: numpy arrays whose contents the call updates in place."""
        self._memory = bool(self.memref_args) or any(isinstance(t, MemRefType) for t in self.result_types)

    def _compiled(self) -> Any:
        import jax

        # Dtypes (index, i64, f64) depend on jax_enable_x64 when the function is built.
        x64 = bool(jax.config.jax_enable_x64)
        got = self._jitted.get(x64)
        if got is None:
            try:
                runnable = _runnable(self.module, self.name)
                _refuse_unregistered(runnable, self.name)
                fn = build_function(runnable, self.name)
            except EmitError as e:
                raise MlirError(str(e), _location(self.func)) from None
            if self._memory:  # buffers: arrays in, (results, final buffers) out (backend/memref_ops.py)
                from .backend.memref_ops import with_buffers

                fn = with_buffers(fn, self.arg_types)
            self._plain[x64] = fn
            cycle = _recursion(runnable, self.name)
            got = self._jitted[x64] = _eager(fn, cycle) if cycle else jax.jit(fn)
        return got

    def check_arity(self, n: int) -> None:
        if n != len(self.arg_types):
            raise MlirError(f"@{self.name} takes {len(self.arg_types)} arguments, got {n}", _location(self.func))

    def convert_args(self, args: Sequence[Any]) -> list[Any]:
        """The arguments as arrays of the argument types; raises :class:`MlirError`."""
        self.check_arity(len(args))
        return [self._convert(i, x, t) for i, (x, t) in enumerate(zip(args, self.arg_types))]

    def _convert(self, i: int, x: Any, t: Attribute) -> Any:
        import jax.numpy as jnp
        import numpy as np

        from .backend.std_ops import jax_dtype

        if isinstance(t, MemRefType) and not (isinstance(x, np.ndarray) and x.flags.writeable):
            raise MlirError(f"argument {i} of @{self.name} is a {t}: pass a writable numpy array (the call updates it)", _location(self.func))
        want = jax_dtype(t.get_element_type() if isinstance(t, MemRefType) else t)
        have = np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype
        if not np.can_cast(have, want, casting="same_kind"):
            raise MlirError(f"argument {i} of @{self.name} has type {t}, cannot take a {have} value", _location(self.func))
        shape = tuple(t.get_shape()) if isinstance(t, (TensorType, MemRefType)) else ()
        got = tuple(np.shape(x))
        if len(got) != len(shape) or any(s >= 0 and s != g for s, g in zip(shape, got)):  # a dynamic size (negative) takes any
            raise MlirError(f"argument {i} of @{self.name} has type {t}, got an array of shape {got}", _location(self.func))
        return jnp.asarray(x, dtype=want)

    def __call__(self, *args: Any) -> Any:
        values = self.convert_args(args)
        try:
            out = self._compiled()(*values)
        except EmitError as e:
            from .backend.memref_ops import DynamicSize

            if not isinstance(e, DynamicSize):
                raise
            import jax

            out = self._plain[bool(jax.config.jax_enable_x64)](*values)  # run-time allocation sizes: op by op, without jax.jit
        if self._memory:
            import numpy as np

            out, buffers = out
            for i, value in zip(self.memref_args, buffers):
                np.copyto(args[i], np.asarray(value), casting="unsafe")  # the memref's final contents
        return out[0] if len(self.result_types) == 1 else tuple(out)

    def __repr__(self) -> str:
        return f"<MlirFunction @{self.name}>"


class MlirModule:
    """A parsed and verified module; ``mod.f(...)`` / ``mod["f"](...)`` call ``@f``."""

    def __init__(self, module: ModuleOp):
        if any(op.name == "llvm.func" or (isinstance(op, FuncOp) and any(getattr(t, "name", None) == "llvm.ptr" for t in op.function_type.inputs.data)) for op in module.ops):
            from .ir.lower import lower_for_zymase  # llvm functions and pointers: called as the func.func / memrefs they become

            module = module.clone()
            lower_for_zymase(module)
        self.module = module
        self._functions = {op.sym_name.data: MlirFunction(module, op) for op in module.ops if isinstance(op, FuncOp) and op.body.blocks}

    @property
    def functions(self) -> list[str]:
        return list(self._functions)

    def __getitem__(self, name: str) -> MlirFunction:
        got = self._functions.get(name)
        if got is None:
            raise KeyError(f"no function @{name} in the module (it has: {', '.join(self._functions) or 'none'})")
        return got

    def __getattr__(self, name: str) -> MlirFunction:
        functions = self.__dict__.get("_functions", {})
        if name in functions:
            return functions[name]
        raise AttributeError(f"no function @{name} in the module (it has: {', '.join(functions) or 'none'})")

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self._functions]

    def __repr__(self) -> str:
        return f"<MlirModule functions={self.functions}>"


def _runnable(module: ModuleOp, name: str | None = None) -> ModuleOp:
    """The module as the backend runs it: affine ops lowered to scf / memref
    (``ir/affine.py``), and derivative requests (``enzyme.autodiff`` / ``fwddiff``)
    generated by the enzyme pass; a copy when anything has to change. With ``name``, the
    functions holding derivative requests that ``@name`` does not reach are left out of
    the copy (a request elsewhere that zymase refuses does not stop ``@name`` running)."""
    from .ir.lower import lower_for_zymase, needs_lowering

    names = {op.name for op in module.walk()}
    wants_lowering = needs_lowering(module)
    wants_enzyme = bool(names & {"enzyme.autodiff", "enzyme.fwddiff", "enzyme.fwdlaplace", "enzyme.batch"})
    if not (wants_lowering or wants_enzyme):
        return module
    module = module.clone()
    if name is not None and wants_enzyme:
        _drop_unreached_requests(module, name)
    if wants_lowering:
        lower_for_zymase(module)
        wants_enzyme = wants_enzyme or any(op.name in ("enzyme.autodiff", "enzyme.fwddiff") for op in module.walk())  # region / split-mode requests
    if wants_enzyme:
        from .ad.enzyme_pass import differentiate_module

        differentiate_module(module)
    return module


def _symbols(attr: Attribute) -> list[str]:
    """The root names of the symbol references in an attribute (nested in arrays and
    dictionaries too)."""
    if isinstance(attr, SymbolRefAttr):
        return [attr.root_reference.data]
    if isinstance(attr, ArrayAttr):
        return [s for a in attr.data for s in _symbols(a)]
    if isinstance(attr, DictionaryAttr):
        return [s for a in attr.data.values() for s in _symbols(a)]
    return []


def _reached(module: ModuleOp, name: str) -> dict[str, FuncOp]:
    """The functions ``@name`` reaches through symbol references (itself included)."""
    funcs = {op.sym_name.data: op for op in module.ops if isinstance(op, FuncOp)}
    reached: dict[str, FuncOp] = {}
    todo = [name]
    while todo:
        fn = funcs.get(todo.pop())
        if fn is None or fn.sym_name.data in reached:
            continue
        reached[fn.sym_name.data] = fn
        for op in fn.walk():
            for attr in [*op.properties.values(), *op.attributes.values()]:
                todo += _symbols(attr)
    return reached


def _recursion(module: ModuleOp, name: str) -> list[str] | None:
    """A cycle of calls among the functions ``@name`` reaches (``[f, g, f]``), or None."""
    funcs = _reached(module, name)
    edges = {n: [s for op in fn.walk() for a in [*op.properties.values(), *op.attributes.values()] for s in _symbols(a) if s in funcs] for n, fn in funcs.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        path.append(n)
        for m in edges[n]:
            if state.get(m) == 1:
                return [*path[path.index(m):], m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        path.pop()
        state[n] = 2
        return None

    return visit(name) if name in funcs else None


def _eager(fn: Any, cycle: list[str]) -> Any:
    """A recursive function, run op by op under ``jax.disable_jit()``: jax traces no
    recursion (a traced call would unfold without end), but with concrete values
    ``lax.cond`` runs only the branch taken, so a recursion that ends ends here too.
    One that goes deeper than Python's stack is refused in one line."""
    import jax

    def run(*args: Any) -> Any:
        try:
            with jax.disable_jit():
                return fn(*args)
        except RecursionError:
            raise MlirError(f"the recursion {' -> '.join('@' + n for n in cycle)} did not end within Python's stack (recursive functions run op by op, without jax.jit)") from None

    return run


def _refuse_unregistered(module: ModuleOp, name: str) -> None:
    """Running an op of an unregistered dialect is refused: what it computes is unknown."""
    from xdsl.dialects.builtin import UnregisteredOp

    for fn in _reached(module, name).values():
        for op in fn.walk():
            if isinstance(op, UnregisteredOp):
                raise MlirError(f"cannot run the unregistered op '{op.op_name.data}': zymase does not know what it computes", _location(op))


def _drop_unreached_requests(module: ModuleOp, name: str) -> None:
    """Erase the functions that ``@name`` does not reach (through symbol references) and
    that hold an enzyme op: nothing refers to them on the way to running ``@name``."""
    funcs = {op.sym_name.data: op for op in module.ops if isinstance(op, FuncOp)}
    reached = _reached(module, name)
    referenced = {s for op in module.ops if not isinstance(op, FuncOp) for inner in op.walk() for a in [*inner.properties.values(), *inner.attributes.values()] for s in _symbols(a)}
    for fname, fn in funcs.items():
        if fname in reached or fname in referenced:
            continue
        if any(op.name.startswith("enzyme.") for op in fn.walk()):
            fn.detach()
            fn.erase()


def load_mlir(text: str, name: str = "<input>", allow_unregistered: bool = False) -> MlirModule:
    """Parse and verify MLIR text; its functions become callable (see module docs).
    ``allow_unregistered``: ops of unknown dialects parse (running one is refused)."""
    module = parse_located(text, name, allow_unregistered)
    verify_located(module)
    return MlirModule(module)


__all__ = ["load_mlir", "MlirModule", "MlirFunction", "MlirError", "parse_located", "verify_located"]
