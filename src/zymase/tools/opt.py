"""``zymase-opt``: xDSL's opt driver with zymase's dialects and passes.

    zymase-opt FILE -p cse,dce              # run passes, print the module (custom form)
    zymase-opt FILE -p zymase-derivative    # a named pipeline: what zymase.grad & co run (passes.py)
    zymase-opt FILE --print-op-generic      # print the module in the generic form
    zymase-opt --list-passes                # one pass name per line
    zymase-opt FILE --run f --args 1.0 x.npy  # call @f (after the passes) and print results
                                              # (then the final contents of its memref arguments)

Reads stdin when FILE is omitted. Input may mix the generic form and StableHLO's custom
assembly syntax (``jax.jit(f).lower(x).as_text()``); output is the custom form, or the
generic form with ``--print-op-generic``, as mlir-opt does. A user error (malformed input, a verifier failure, an
unknown pass, bad arguments) is one line on stderr, ``file:line:col: error: message``
or ``zymase-opt: error: message``, and exit code 1. ``--run`` enables JAX's 64-bit
mode, so ``f64`` and ``i64`` run in full width and ``index`` is int64. JAX is imported
only for ``--run``: listing passes and running passes on MLIR text start without it, and
``--list-passes`` does not even import the IR (see tests/test_startup.py).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from xdsl.dialects.builtin import MemRefType, ModuleOp, TensorType
from xdsl.ir import Attribute
from xdsl.utils.arg_spec import parse_pipeline
from xdsl.utils.exceptions import ArgSpecParseError
from xdsl.xdsl_opt_main import xDSLOptMain

from ..errors import MlirError
from ..passes import get_all_passes

if TYPE_CHECKING:
    from ..loader import MlirModule

PROG = "zymase-opt"


class ZymaseOptMain(xDSLOptMain):
    version_format = "zymase-opt built on xDSL {xdsl_version}"

    def register_all_dialects(self) -> None:
        pass  # in run(): --list-passes, --help and argument errors import no dialect

    def run(self) -> None:
        from ..ir import register_dialects

        register_dialects(self.ctx)  # by name: a dialect is imported when the input uses it
        super().run()

    def register_all_passes(self) -> None:
        for name, factory in get_all_passes().items():
            self.register_pass(name, factory)

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        super().register_all_arguments(arg_parser)
        arg_parser.prog = PROG
        arg_parser.add_argument("--list-passes", action="store_true", help="print the available passes, one per line")
        arg_parser.add_argument("--list-rules", action="store_true", help="print the rewrite rules of zymase-hlo-opt, one per line: name, family, identity")
        arg_parser.add_argument(
            "--run",
            metavar="FN",
            action=_RunAction,
            help="call func.func @FN (after the passes) and print its results; may be repeated, each --run with the --args after it",
        )
        arg_parser.add_argument(
            "--args", nargs="*", action=_ArgsAction, metavar="ARG", help="arguments for the --run before: numbers (cast to the argument types) or .npy files"
        )
        arg_parser.set_defaults(calls=None, args=None)

    def setup_pipeline(self) -> None:
        for spec in parse_pipeline(self.args.passes):
            if spec.name not in self.available_passes:
                raise MlirError(f"unknown pass '{spec.name}'")
        try:
            super().setup_pipeline()
        except (ValueError, TypeError) as e:  # xDSL builds each pass from its options here
            raise MlirError(f"bad pass options in '{self.args.passes}': {_one_line(e)}") from None

    def parse_chunk(self, chunk: IO[bytes], file_extension: str, start_offset: int = 0) -> ModuleOp | None:
        from ..loader import parse_located, verify_located

        # Leading newlines keep line numbers right for a chunk of --split-input-file.
        text = "\n" * start_offset + chunk.read().decode()
        module = parse_located(text, self.get_input_name(), self.args.allow_unregistered_dialect)
        if not self.args.disable_verify:
            verify_located(module)
        return module

    def apply_passes(self, prog: ModuleOp) -> None:
        try:
            super().apply_passes(prog)
        except MlirError:
            raise
        except Exception as e:
            raise MlirError(f"pass pipeline '{self.args.passes}' failed: {e}", self.get_input_name()) from None

    def output_resulting_program(self, prog: ModuleOp) -> str:
        from ..ir import print_module
        from ..loader import MlirModule

        if self.args.run is not None:
            module = MlirModule(prog)
            calls = _calls(self.args)
            if len(calls) == 1:
                return run_function(module, *calls[0])
            return "".join(f"// @{name}({', '.join(texts)})\n" + run_function(module, name, texts) for name, texts in calls)
        if self.args.target == "mlir" and not self.args.print_no_properties:
            return print_module(prog, generic=self.args.print_op_generic, debuginfo=self.args.print_debuginfo)
        return super().output_resulting_program(prog)


class _RunAction(argparse.Action):
    """``--run FN``: a new call, in ``namespace.calls``, taking the ``--args`` after it."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, value: Any, option: str | None = None) -> None:
        calls = getattr(namespace, "calls", None) or []
        namespace.calls = [*calls, (value, None)]
        namespace.run = value


class _ArgsAction(argparse.Action):
    """``--args A B ...``: the arguments of the last ``--run`` (or of the only one, given
    before it)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: str | None = None) -> None:
        calls = list(getattr(namespace, "calls", None) or [])
        if calls and calls[-1][1] is None:
            calls[-1] = (calls[-1][0], list(values))
        elif getattr(namespace, "args", None) is None and not calls:
            namespace.args = list(values)  # before the --run: kept until it comes
            return
        else:
            raise MlirError("each --args follows the --run it is for")
        namespace.calls = calls


def _calls(namespace: argparse.Namespace) -> list[tuple[str, list[str]]]:
    calls = list(namespace.calls or [])
    early = namespace.args  # --args given before the (only) --run
    if early is not None:
        if len(calls) != 1 or calls[0][1] is not None:
            raise MlirError("each --args follows the --run it is for")
        calls = [(calls[0][0], early)]
    return [(name, texts or []) for name, texts in calls]


def run_function(module: MlirModule, name: str, texts: Sequence[str]) -> str:
    """Call ``@name`` on arguments given as text; its results' numpy reprs, one a line."""
    import numpy as np

    try:
        fn = module[name]
    except KeyError as e:
        raise MlirError(e.args[0]) from None
    fn.check_arity(len(texts))
    args = [_argument(i, text, t) for i, (text, t) in enumerate(zip(texts, fn.arg_types))]
    out = fn(*args)
    results = out if len(fn.result_types) != 1 else (out,)
    buffers = [args[i] for i in fn.memref_args]  # memref arguments: their contents after the call
    return "".join(repr(np.asarray(r)) + "\n" for r in [*results, *buffers])


def _argument(i: int, text: str, t: Attribute) -> Any:
    import numpy as np

    if text.endswith(".npy"):
        try:
            return np.array(np.load(text))  # writable: a memref argument is updated
        except OSError as e:
            raise MlirError(f"argument {i}: cannot read '{text}': {e.strerror or e}") from None
    from ..backend.std_ops import jax_dtype

    if isinstance(t, MemRefType):
        dtype = jax_dtype(t.get_element_type())
    else:
        dtype = jax_dtype(t)
    try:
        if dtype == np.bool_:
            value: Any = {"true": True, "false": False, "1": True, "0": False}[text.lower()]
        elif dtype.kind in "iu":
            value = int(text)
        else:
            value = float(text)
    except (KeyError, ValueError):
        raise MlirError(f"argument {i}: '{text}' is not a value of type {t}") from None
    shape = tuple(t.get_shape()) if isinstance(t, (TensorType, MemRefType)) else ()
    if any(s < 0 for s in shape):
        raise MlirError(f"argument {i}: a number cannot fill the dynamic shape of {t}; pass a .npy file")
    return np.full(shape, value, dtype=dtype)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        tool = ZymaseOptMain(description="zymase's MLIR optimizer and runner", args=argv)
        if tool.args.list_passes:
            print("\n".join(sorted(tool.available_passes)))
            return 0
        if tool.args.list_rules:
            from ..opt.pattern import RULES, load_rules

            load_rules()
            for r in sorted(RULES.values(), key=lambda r: (r.family, r.name)):
                flag = "  [assume_finite]" if r.unsafe else ""
                print(f"{r.name}  ({r.family})  {r.identity}{flag}")
            return 0
        if tool.args.frontend is None:
            tool.args.frontend = "mlir"  # any file name: MLIR text is all zymase-opt reads
        with _x64() if tool.args.run is not None else contextlib.nullcontext():
            tool.run()
    except MlirError as e:
        print(str(e) if e.location else f"{PROG}: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # the input or output file
        message = f"cannot open '{e.filename}': {e.strerror}" if e.filename else str(e)
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 1
    except ArgSpecParseError as e:  # a malformed -p (derives from BaseException)
        print(f"{PROG}: error: {_one_line(e)}", file=sys.stderr)
        return 1
    except Exception as e:  # a bug in zymase or xDSL: still one line, but say so
        if _is_refusal(e):
            print(f"{PROG}: error: {_one_line(e)}", file=sys.stderr)
        else:
            print(f"{PROG}: internal error: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 1
    return 0


def _is_refusal(e: Exception) -> bool:
    """A derivative zymase refuses to generate (``DiffError``, raised when ``--run`` runs
    the enzyme pass): the user's program, not a bug."""
    errors = sys.modules.get("zymase.ad.errors")
    return errors is not None and isinstance(e, errors.DiffError)


def _x64() -> contextlib.AbstractContextManager[Any]:
    import jax  # only --run needs JAX

    return jax.enable_x64(True)


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())


if __name__ == "__main__":
    sys.exit(main())
