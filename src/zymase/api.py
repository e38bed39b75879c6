"""JAX-style transformations: lower -> pipeline -> emit, cached per abstract signature."""

from __future__ import annotations

import functools
import inspect
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from xdsl.dialects.builtin import ModuleOp

from .backend import build_function
from .frontend import PreTraced, Program, lower, signature, trace
from .ir.enzyme import ACTIVE, ACTIVENONEED, CONST, CONSTNONEED, DUP, DUPNONEED, Activity, AutoDiffOp, ForwardDiffOp, add_diff_func
from .passes import rules_enabled, run_pipeline


_signature = signature


# ============================================================================ caches


class TransformCache:
    """The compiled programs of a transformation: per user function, an LRU of at most
    ``maxsize`` entries keyed by abstract signature and the transformation's options.

    Each transformation has one, module-wide (``_JIT_CACHE``, ``_GRAD_CACHE``, ...), with
    the transformation's options in the key, so ``zymase.grad(f)`` made afresh in a loop
    finds what an earlier ``zymase.grad(f)`` compiled. Functions are held
    weakly: a function's entries go when it dies, and an entry must not refer to its
    function (it holds the lowered program, not the Python function). A bound method is
    held by its object (each attribute access makes a new method object). A callable
    that is unhashable or cannot be weakly referenced is not cached: each call builds.
    Whether the rewrite rules are on (``ZYMASE_OPT``) is part of every key."""

    def __init__(self, maxsize: int = 64):
        self.maxsize = maxsize
        self._by_owner: weakref.WeakKeyDictionary[Any, OrderedDict] = weakref.WeakKeyDictionary()

    @staticmethod
    def _owner(f: Callable) -> tuple[Any, tuple]:
        """What is held weakly for ``f``, and what tells ``f`` apart among that owner's functions."""
        if inspect.ismethod(f):
            return f.__self__, (f.__func__,)
        return f, ()

    def get(self, f: Callable, key: Any, build: Callable[[], Any]) -> Any:
        """The entry of ``f`` for ``key``; ``build()`` makes (and caches) it when missing."""
        owner, tag = self._owner(f)
        full = (tag, rules_enabled(), key)  # ZYMASE_OPT=0 builds other programs
        try:
            lru = self._by_owner.get(owner)
            if lru is None:
                lru = self._by_owner[owner] = OrderedDict()
            got = lru.get(full)
        except TypeError:  # unhashable or not weakly referenceable: no caching
            return build()
        if got is not None:
            lru.move_to_end(full)
            return got
        got = lru[full] = build()
        while len(lru) > self.maxsize:
            lru.popitem(last=False)
        return got

    def entries(self, f: Callable) -> dict[Any, Any]:
        """The cached entries of ``f``, by key, least recently used first."""
        owner, tag = self._owner(f)
        try:
            lru = self._by_owner.get(owner) or {}
        except TypeError:
            return {}
        return {key: v for (t, _, key), v in lru.items() if t == tag}

    def __len__(self) -> int:
        return sum(len(lru) for lru in self._by_owner.values())


def hoist_closure(f: Callable, args: tuple, kwargs: dict | None = None) -> tuple[Callable, tuple]:
    """Trace ``f`` once for ``args``. Returns ``(g, consts)`` with ``g(*args, *consts,
    **kwargs) == f(*args, **kwargs)``: ``consts`` are the values of an enclosing JAX trace
    that ``f`` closes over (``jax.jit(lambda x, a: zymase.grad(lambda x: f(x, a))(x))``),
    passed explicitly; ``(f with its trace, ())`` when there are none, so that lowering
    reuses the trace instead of running ``f`` again."""
    kwargs = kwargs or {}
    traced = trace(f, tuple(args), kwargs)
    if not traced._consts:
        return PreTraced(f, traced, signature(tuple(args), kwargs, ())), ()
    closed = traced.jaxpr
    consts = tuple(traced._consts)
    n, k = len(args), len(consts)
    out_tree = traced.out_tree

    def g(*args_and_consts: Any, **kw: Any) -> Any:
        leaves = jax.tree_util.tree_leaves((tuple(args_and_consts[:n]), kw))
        outs = jax.core.eval_jaxpr(closed.jaxpr, closed.consts, *args_and_consts[n : n + k], *leaves)
        return jax.tree_util.tree_unflatten(out_tree, outs)

    functools.update_wrapper(g, f)
    return g, consts


class Compiled:
    """A program emitted as a JAX function, plus its pytree metadata."""

    def __init__(self, program: Program, static: tuple[int, ...]):
        run_pipeline(primal_pipeline(program.module), program.module)
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


def primal_pipeline(module: ModuleOp) -> str:
    """The pipeline of a program zymase.jit compiles: ``zymase-primal``, or
    ``zymase-derivative`` when it holds enzyme ops (a zymase transformation called
    inside it, frontend/nesting.py)."""
    from .ir.enzyme import _DiffOp

    return "zymase-derivative" if any(isinstance(op, _DiffOp) for op in module.walk()) else "zymase-primal"


_JIT_CACHE = TransformCache()
"""zymase.jit's compiled programs, per function: (signature, static_argnums) -> Compiled."""


class Jitted:
    """``zymase.jit(f)``: a callable that lowers ``f`` through zymase per abstract
    signature (shapes, dtypes, static arguments, pytree structure), runs the primal
    pipeline, emits lax code and calls it. ``.lower(*args)`` gives the imported Program.

    A class rather than a function with attributes, so that ``jax.jit(zymase.jit(f))``
    (which copies the wrapped callable's ``__dict__``) keeps jax's own ``lower``."""

    def __init__(self, f: Callable, static_argnums: int | Sequence[int] = ()):
        self.fun = f
        self.static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
        functools.update_wrapper(self, f)
        self._dispatch = jax.jit(self._trace, static_argnums=self.static)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._dispatch(*args, **kwargs)

    def _trace(self, *args: Any, **kwargs: Any) -> Any:
        fun, consts = (self.fun, ()) if self.static else hoist_closure(self.fun, args, kwargs)
        args = args + consts
        compiled = _JIT_CACHE.get(
            self.fun, (_signature(args, kwargs, self.static), self.static), lambda: Compiled(lower(fun, *args, static_argnums=self.static, **kwargs), self.static)
        )
        return compiled(args, kwargs)

    @property
    def _cache(self) -> dict[Any, Compiled]:
        """This function's compiled programs for these static_argnums, by signature."""
        return {key[0]: c for key, c in _JIT_CACHE.entries(self.fun).items() if key[1] == self.static}

    def lower(self, *args: Any, **kwargs: Any) -> Program:
        """The program after zymase's primal pipeline, with every stage recorded."""
        program = lower(self.fun, *args, static_argnums=self.static, **kwargs)
        run_pipeline(primal_pipeline(program.module), program.module, _stage_recorder(program))
        return program


def jit(f: Callable, static_argnums: int | Sequence[int] = ()) -> Jitted:
    """Like ``jax.jit``, through zymase's compiler."""
    return Jitted(f, static_argnums)


# ============================================================================ AD


ENTRY = "zymase_entry"


def run_ad_pipeline(module: ModuleOp, on_stage: Callable | None = None, loop_checkpoint: str | None = None) -> str:
    """The derivative pipeline, ``zymase-derivative`` of passes.py (optimize,
    differentiate, optimize), as ``zymase-opt -p zymase-derivative`` runs it; with
    ``loop_checkpoint``, after ``zymase-opt -p 'loop-checkpoint{schedule=...}'``."""
    before = f'loop-checkpoint{{schedule="{loop_checkpoint}"}}' if loop_checkpoint is not None else ""
    return run_pipeline("zymase-derivative", module, on_stage, before_enzyme=before)


def _stage_recorder(program: Program) -> Callable:
    """Records each stage's text in ``program.stages``, after a comment line naming the
    pipeline text that produced it."""
    from .ir import print_module

    def record(stage: str, module: ModuleOp, comment: str) -> None:
        program.stages[stage] = comment + "\n" + print_module(module)

    return record


def _add_entry(program: Program, cls: type, arg_kinds: list[Activity], ret_kinds: list[Activity], width: int = 1) -> None:
    """Add ``@zymase_entry`` calling enzyme.autodiff / enzyme.fwddiff on the program's
    entry: the caller passes the enzyme op's operands and gets its results."""
    add_diff_func(program.module, ENTRY, cls, program.entry, arg_kinds, ret_kinds, width)


class Transformed:
    """A zymase transformation of ``f`` (grad, value_and_grad, ...): call it like the
    function; ``.lower(*args)`` compiles it for those arguments and returns the Program,
    whose ``as_text(stage=...)`` shows the IR after each stage of the pipeline
    (imported, optimized-before-ad, after-ad, final)."""

    def __init__(self, f: Callable, call: Callable, lower_fn: Callable):
        functools.update_wrapper(self, f)
        self._call = call
        self._lower = lower_fn
        # Calls go through jax.jit: its C++ dispatch finds the compiled program for the
        # arguments' signature; zymase's compiler runs when jax traces a new signature.
        self._dispatch = jax.jit(call)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._dispatch(*args, **kwargs)

    def lower(self, *args: Any, **kwargs: Any) -> Program:
        return self._lower(*args, **kwargs)


def _is_float(dtype: Any) -> bool:
    return jax.dtypes.issubdtype(dtype, np.inexact)


class _Derivative:
    """A compiled derivative program: flat JAX values in, flat tuple out. ``lazy``: the
    pipeline runs, and the lax function is built, on first use (a derivative that is
    only nested in an outer transformation's module is never compiled on its own)."""

    def __init__(self, program: Program | Callable[[], Program], record_stages: bool = False, loop_checkpoint: str | None = None, lazy: bool = False, entry: str = ENTRY):
        self._program = program  # or how to lower it, on first use
        self.entry = entry
        self._record = record_stages
        self._loop_checkpoint = loop_checkpoint
        self._fn: Callable | None = None
        if not lazy:
            self.compile()

    @property
    def program(self) -> Program:
        if not isinstance(self._program, Program):
            self._program = self._program()
        return self._program

    def compile(self) -> _Derivative:
        if self._fn is None:
            run_ad_pipeline(self.program.module, _stage_recorder(self.program) if self._record else None, self._loop_checkpoint)
            fn = build_function(self.program.module, self.entry)
            self.jitted = jax.jit(lambda *xs: fn(*xs))
            self._fn = fn
        return self

    @property
    def fn(self) -> Callable:
        self.compile()
        assert self._fn is not None
        return self._fn

    def __call__(self, *leaves: Any) -> tuple:
        return self.compile().jitted(*leaves)


class _EnzymeCall:
    """A derivative as the enzyme op it stands for: ``cls`` (enzyme.autodiff /
    enzyme.fwddiff) on the program's entry with these activities and width, and the
    compiled (lazily) program with that op in ``@zymase_entry``. ``__call__`` binds
    nesting's ``diff_p``: for jax the compiled derivative, for an outer zymase
    transformation the enzyme op over the primal (frontend/nesting.py)."""

    def __init__(self, program: Program, cls: type, arg_kinds: list[Activity], ret_kinds: list[Activity], width: int = 1, record_stages: bool = False, loop_checkpoint: str | None = None):
        self.cls, self.arg_kinds, self.ret_kinds, self.width = cls, arg_kinds, ret_kinds, width
        self.out_avals = _enzyme_out_avals(program, cls, arg_kinds, ret_kinds, width)
        _add_entry(program, cls, arg_kinds, ret_kinds, width)
        self.derivative = _Derivative(program, record_stages, loop_checkpoint, lazy=True)

    @property
    def program(self) -> Program:
        return self.derivative.program

    def __call__(self, primal: Any, operands: Sequence[Any], name: str) -> list:
        from .frontend.nesting import bind_diff

        if primal.effects:  # host callbacks: the compiled derivative, called as a jitted function (it carries the effects)
            return list(self.derivative(*operands))
        return bind_diff(
            operands,
            kind=self.cls.name,
            primal=primal,
            activity=[k.value for k in self.arg_kinds],
            ret_activity=[k.value for k in self.ret_kinds],
            width=self.width,
            out_avals=self.out_avals,
            derivative=self.derivative,
            name=name,
        )


def _batched_aval(a: Any, width: int) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(tuple(a.shape) if width == 1 else (width, *a.shape), a.dtype)


def _enzyme_out_avals(program: Program, cls: type, arg_kinds: Sequence[Activity], ret_kinds: Sequence[Activity], width: int) -> list:
    """The result types of the enzyme op ``cls`` on the program's entry (ir/enzyme.py's conventions)."""
    outs: list = []
    if cls is ForwardDiffOp:
        for o, k in zip(program.out_avals, ret_kinds):
            if k in (CONST, DUP):
                outs.append(o)
            if k in (DUP, DUPNONEED):
                outs.append(_batched_aval(o, width))
        return outs
    outs = [o for o, k in zip(program.out_avals, ret_kinds) if k in (ACTIVE, CONST)]
    return outs + [_batched_aval(a, width) for a, k in zip(program.in_avals, arg_kinds) if k == ACTIVE]


def _primal_jaxpr(fun: Callable, args: tuple, kwargs: dict | None = None) -> Any:
    """jax's jaxpr of ``fun`` on the flat leaves of ``(args, kwargs)`` (the arguments of
    the lowered program's ``@main``), reusing the trace a PreTraced carries."""
    return trace(fun, tuple(args), kwargs or {}).jaxpr


def _fn_name(f: Callable) -> str:
    name = getattr(f, "__name__", "") or "primal"
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return name if name and not name[0].isdigit() else "f_" + name


def _leaf_ranges(args: tuple) -> list[range]:
    ranges, start = [], 0
    for a in args:
        n = len(jax.tree_util.tree_leaves(a))
        ranges.append(range(start, start + n))
        start += n
    return ranges


def _check_float_inputs(name: str, leaves: list, where: str = "") -> None:
    for x in leaves:
        dt = jax.dtypes.result_type(x)
        if not _is_float(dt):
            raise TypeError(
                f"{name} requires real-valued inputs (input dtype that is a sub-dtype of np.floating), but got {dt.name}{where}. "
                f"If you want to use integer-valued inputs, use vjp or jvp."
            )


def _argnums_tuple(argnums: int | Sequence[int]) -> tuple[int, ...]:
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, loop_checkpoint: str | None = None) -> Callable:
    """Like ``jax.value_and_grad``, with the derivative generated by zymase
    (``loop_checkpoint``: as for ``grad``)."""
    return _grad_impl(f, argnums, has_aux, with_value=True, loop_checkpoint=loop_checkpoint)


def grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, loop_checkpoint: str | None = None) -> Callable:
    """Like ``jax.grad``, with the derivative generated by zymase. ``loop_checkpoint``
    ("binomial", "binomial:S", "periodic", "periodic:K"; None: a full tape) checkpoints
    the reverse mode of every counted loop (ad/rules/checkpoint.py)."""
    return _grad_impl(f, argnums, has_aux, with_value=False, loop_checkpoint=loop_checkpoint)


def _checked_schedule(loop_checkpoint: str | None) -> str | None:
    from .ad.rules.checkpoint import parse_schedule

    return None if parse_schedule(loop_checkpoint) is None else loop_checkpoint


def _grad_impl(f: Callable, argnums: int | Sequence[int], has_aux: bool, with_value: bool, loop_checkpoint: str | None = None) -> Callable:
    loop_checkpoint = _checked_schedule(loop_checkpoint)
    nums = _argnums_tuple(argnums)
    single = isinstance(argnums, int)
    name = "value_and_grad" if with_value else "grad"

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nargs = len(args)
        fun, consts = hoist_closure(f, args, kwargs)
        for a in nums:
            if not -nargs <= a < nargs:
                raise ValueError(f"{name}: argnums {a} is out of range for a function called with {nargs} positional arguments")
        norm = tuple(a % nargs for a in nums)
        full = args + consts  # closed-over tracers ride along as constant arguments
        key = (_signature(full, kwargs, ()), norm, has_aux, with_value, loop_checkpoint)
        deriv, active = _GRAD_CACHE.get(f, key, lambda: _build_grad(fun, full, kwargs, norm, has_aux, with_value, name, loop_checkpoint=loop_checkpoint))
        leaves = jax.tree_util.tree_leaves((full, kwargs))
        seed = np.ones((), dtype=deriv.program.out_avals[0].dtype)
        outs = deriv(_primal_jaxpr(fun, full, kwargs), [*leaves, seed], _fn_name(f))
        # The derivative returns one gradient per active leaf, in leaf order, whatever
        # the order (or repetitions) of argnums.
        active_leaves = sorted(set(active))
        n_primal = len(outs) - len(active_leaves)
        primal = list(outs[:n_primal])
        by_leaf = dict(zip(active_leaves, outs[n_primal:]))
        ranges = _leaf_ranges(args)
        tree_grads = []
        for a in norm:
            sub = [by_leaf[i] for i in ranges[a]]
            tree_grads.append(jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(args[a]), sub))
        g = tree_grads[0] if single else tuple(tree_grads)
        out_tree = deriv.program.out_tree
        if has_aux:
            value_tree, aux_tree = out_tree.children()
            if with_value:
                value = jax.tree_util.tree_unflatten(value_tree, primal[:1])
                aux = jax.tree_util.tree_unflatten(aux_tree, primal[1:])
                return (value, aux), g
            return g, jax.tree_util.tree_unflatten(aux_tree, primal)
        if with_value:
            return jax.tree_util.tree_unflatten(out_tree, primal), g
        return g

    def lower_grad(*args: Any, **kwargs: Any) -> Program:
        norm = tuple(a % len(args) for a in nums)
        deriv, _ = _build_grad(f, args, kwargs, norm, has_aux, with_value, name, record_stages=True, loop_checkpoint=loop_checkpoint)
        deriv.derivative.compile()
        return deriv.program

    return Transformed(f, wrapped, lower_grad)


def _build_grad(f, args, kwargs, nums, has_aux, with_value, name, record_stages=False, loop_checkpoint=None):
    program = lower(f, *args, **kwargs)
    outs = program.out_avals
    if has_aux:
        if len(program.out_tree.children()) != 2:
            raise TypeError(f"{name} with has_aux=True requires the function to return a pair (output, aux)")
        n_out = program.out_tree.children()[0].num_leaves
    else:
        n_out = len(outs)
    if n_out != 1 or outs[0].shape != ():
        raise TypeError(f"{name} requires a scalar output; got output of shape {outs[0].shape if outs else ()}" + (" and more than one output" if n_out != 1 else ""))
    if not _is_float(outs[0].dtype):
        raise TypeError(f"{name} requires a real-valued scalar output, got {outs[0].dtype}")
    ranges = _leaf_ranges(args)
    active: list[int] = []
    leaves = jax.tree_util.tree_leaves((args, kwargs))
    for a in nums:
        _check_float_inputs(name, [leaves[i] for i in ranges[a]], f" for argument {a}")
        active += list(ranges[a])
    arg_kinds = [ACTIVE if i in active else CONST for i in range(len(program.in_avals))]
    loss_kind = ACTIVE if with_value else ACTIVENONEED
    aux_kind = CONST if (with_value or has_aux) else CONSTNONEED
    ret_kinds = [loss_kind] + [aux_kind] * (len(outs) - 1)
    if has_aux and not with_value:
        ret_kinds[0] = ACTIVENONEED
    return _EnzymeCall(program, AutoDiffOp, arg_kinds, ret_kinds, record_stages=record_stages, loop_checkpoint=loop_checkpoint), active


def _float0_zeros(x: Any) -> Any:
    return np.zeros(np.shape(x), dtype=jax.dtypes.float0)


def jvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any], has_aux: bool = False) -> Any:
    """Like ``jax.jvp``: ``(f(*primals), J tangents)``, with forward mode generated by zymase."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            f"primal and tangent arguments to zymase.jvp must be tuples or lists; found {type(primals).__name__} and "
            f"{type(tangents).__name__}."
        )
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise TypeError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    user_f = f  # caches are keyed by the user's function
    f, consts = hoist_closure(f, primals)
    if consts:  # closed-over tracers: constant arguments (float0 tangents)
        primals = primals + consts
        tangents = tangents + tuple(_float0_zeros(c) for c in consts)
    p_leaves, p_tree = jax.tree_util.tree_flatten(primals)
    t_leaves, t_tree = jax.tree_util.tree_flatten(tangents)
    if p_tree != t_tree:
        raise TypeError(f"jvp: primal and tangent arguments must have the same tree structure, got {p_tree} and {t_tree}")
    for p, t in zip(p_leaves, t_leaves):
        if np.shape(p) != np.shape(t):
            raise ValueError(f"jvp: primal shape {np.shape(p)} and tangent shape {np.shape(t)} differ")
        _check_tangent_dtype(p, t)
    # A float0 tangent on a float primal (jacfwd passes them for the arguments it does
    # not differentiate) makes that argument constant.
    const = tuple(jax.dtypes.result_type(t) == jax.dtypes.float0 for t in t_leaves)

    def build() -> tuple:
        program = lower(f, *primals)
        arg_kinds = [DUP if _is_float(a.dtype) and not c else CONST for a, c in zip(program.in_avals, const)]
        ret_kinds = [DUP if _is_float(o.dtype) else CONST for o in program.out_avals]
        if has_aux:
            n_out = program.out_tree.children()[0].num_leaves
            ret_kinds = ret_kinds[:n_out] + [CONST] * (len(ret_kinds) - n_out)
        return _EnzymeCall(program, ForwardDiffOp, arg_kinds, ret_kinds), arg_kinds, ret_kinds

    d, arg_kinds, ret_kinds = _JVP_CACHE.get(user_f, (_signature(primals, {}, ()), has_aux, const), build)
    flat: list[Any] = []
    for p, t, k in zip(p_leaves, t_leaves, arg_kinds):
        flat.append(p)
        if k == DUP:
            flat.append(jnp_asarray(t, p))
    outs = iter(d(_primal_jaxpr(f, primals), flat, _fn_name(user_f)))
    prim, tang = [], []
    for o, k in zip(d.program.out_avals, ret_kinds):
        prim.append(next(outs))
        tang.append(next(outs) if k == DUP else _float0_zeros(prim[-1]))
    tree = d.program.out_tree
    if has_aux:
        out_tree, aux_tree = tree.children()
        n = out_tree.num_leaves
        return (
            jax.tree_util.tree_unflatten(out_tree, prim[:n]),
            jax.tree_util.tree_unflatten(out_tree, tang[:n]),
            jax.tree_util.tree_unflatten(aux_tree, prim[n:]),
        )
    return jax.tree_util.tree_unflatten(tree, prim), jax.tree_util.tree_unflatten(tree, tang)


def _check_tangent_dtype(p: Any, t: Any) -> None:
    """jax's rule: a tangent has its primal's dtype (float0 for an integer or bool
    primal). zymase also takes float0 for a float primal: that argument is then constant."""
    pd, td = jax.dtypes.result_type(p), jax.dtypes.result_type(t)
    if td == jax.dtypes.float0:
        return
    expected = pd if _is_float(pd) else jax.dtypes.float0
    if td != expected:
        raise TypeError(
            "primal and tangent arguments to zymase.jvp do not match; dtypes must be equal, or in case of int/bool "
            f"primal dtype the tangent dtype must be float0. Got primal dtype {pd} and so expected tangent dtype "
            f"{np.dtype(expected)}, but got tangent dtype {td} instead."
        )


def jnp_asarray(t: Any, like: Any) -> Any:
    import jax.numpy as jnp

    return jnp.asarray(t, dtype=jax.dtypes.result_type(like))


_GRAD_CACHE = TransformCache()
"""grad's and value_and_grad's derivatives, per function: (signature, argnums, has_aux,
with value) -> (derivative, active leaves). Shared by every ``grad(f)`` of the same ``f``,
so ``zymase.grad(f)(x)`` written in a loop compiles once, as ``jax.grad`` under jit does."""
_RAW_CACHE = TransformCache()
"""autodiff's and fwddiff's derivatives, per function: (signature, op, activities, width)."""
_JVP_CACHE = TransformCache()
"""jvp's derivatives, per function: (signature, has_aux, constant leaves) -> (derivative, activities)."""
_VJP_CACHE = TransformCache()
"""vjp's programs, per function: ("primal", signature) -> the primal program;
("derivative", signature, has_aux, loop_checkpoint, constant leaves, zero outputs) -> (derivative, activities)."""


def vjp(f: Callable, *primals: Any, has_aux: bool = False, loop_checkpoint: str | None = None, _const_argnums: tuple[int, ...] = ()) -> Any:
    """Like ``jax.vjp``: ``(f(*primals), vjp_fn)``; ``vjp_fn(ct)`` runs zymase's reverse
    mode (it recomputes the primal values it needs). ``_const_argnums`` (for jacrev):
    arguments not to differentiate; their cotangents are float0 zeros."""
    loop_checkpoint = _checked_schedule(loop_checkpoint)
    n_user = len(primals)
    user_f = f  # caches are keyed by the user's function
    f, consts = hoist_closure(f, primals)
    primals = primals + consts  # closed-over tracers: constant arguments
    _const_argnums = tuple(_const_argnums) + tuple(range(n_user, len(primals)))
    ranges = _leaf_ranges(primals)
    const_leaves = {i for a in _const_argnums for i in ranges[a]}
    sig = _signature(primals, {}, ())

    def derivative(zero_outputs: frozenset[int]) -> tuple:
        """The reverse-mode program; outputs whose cotangent is known to be zero are
        const (activity canonicalization then drops their derivative work)."""

        def build() -> tuple:
            from .frontend.callbacks import drop_debug_callbacks

            program = lower(f, *primals)
            drop_debug_callbacks(program.module)  # the primal run below prints, the pullback does not (as in jax)
            arg_kinds = [ACTIVE if _is_float(a.dtype) and i not in const_leaves else CONST for i, a in enumerate(program.in_avals)]
            n_out = program.out_tree.children()[0].num_leaves if has_aux else len(program.out_avals)
            ret_kinds = [
                ACTIVENONEED if _is_float(o.dtype) and i < n_out and i not in zero_outputs else CONSTNONEED
                for i, o in enumerate(program.out_avals)
            ]
            return _EnzymeCall(program, AutoDiffOp, arg_kinds, ret_kinds, loop_checkpoint=loop_checkpoint), arg_kinds, ret_kinds

        return _VJP_CACHE.get(user_f, ("derivative", sig, has_aux, loop_checkpoint, tuple(sorted(const_leaves)), zero_outputs), build)

    primal = _VJP_CACHE.get(user_f, ("primal", sig), lambda: Compiled(lower(f, *primals), ()))
    primal_jaxpr = functools.cache(lambda: _primal_jaxpr(f, primals))
    out = primal(primals, {})
    p_leaves, p_tree = jax.tree_util.tree_flatten(primals)
    if has_aux:
        out, aux = out
    out_leaves, out_tree = jax.tree_util.tree_flatten(out)

    def vjp_fn(ct: Any) -> tuple:
        ct_leaves, ct_tree = jax.tree_util.tree_flatten(ct)
        if ct_tree != out_tree:
            raise TypeError(f"vjp: cotangent structure {ct_tree} does not match the output structure {out_tree}")
        zero = frozenset(i for i, c in enumerate(ct_leaves) if _known_zero(c))
        deriv, arg_kinds, ret_kinds = derivative(zero)
        seeds = [jnp_asarray(c, o) for c, o, k in zip(ct_leaves, out_leaves, ret_kinds) if k == ACTIVENONEED]
        grads = iter(deriv(primal_jaxpr(), [*p_leaves, *seeds], _fn_name(user_f)))
        res = [next(grads) if k == ACTIVE else _float0_zeros(p) for p, k in zip(p_leaves, arg_kinds)]
        return tuple(jax.tree_util.tree_unflatten(p_tree, res))[:n_user]

    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _known_zero(c: Any) -> bool:
    """A cotangent whose value is known now (not traced) and is all zeros."""
    if isinstance(c, jax.core.Tracer):
        return False
    arr = np.asarray(c)
    return arr.dtype != jax.dtypes.float0 and arr.size > 0 and not np.any(arr)


def _std_basis(leaves: Sequence[Any]) -> list[Any]:
    """The standard basis of the space of ``leaves`` (arrays), for jacfwd's input
    directions, jacrev's output cotangents and laplacian's directions: per leaf an array
    of shape ``(total, *leaf.shape)`` and the leaf's dtype, ``total`` the sum of the leaves'
    sizes; row k across them is the k-th unit vector of the leaves flattened and joined."""
    import jax.numpy as jnp

    sizes = [int(np.size(x)) for x in leaves]
    total, offset, basis = sum(sizes), 0, []
    for x, n in zip(leaves, sizes):
        dt = jax.dtypes.result_type(x)
        block = jnp.eye(n, dtype=dt) if n == total else jnp.zeros((total, n), dtype=dt).at[offset : offset + n].set(jnp.eye(n, dtype=dt))
        basis.append(block.reshape((total, *np.shape(x))))
        offset += n
    return basis


def jacfwd(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, sparse: bool | str = False) -> Callable:
    """Like ``jax.jacfwd``: the Jacobian by one ``enzyme.fwddiff`` of width N (N the
    number of input elements) whose seeds, the identity, are built in the program
    (compare(iota, iota) / select, which the rewrite rules see); seeds, derivative and
    the arrangement of its result compile as one module. ``sparse=True`` / ``"bcoo"``:
    one direction per color of the Jacobian's sparsity pattern (sparse.py)."""
    if sparse:
        from .sparse import sparse_jacfwd

        return sparse_jacfwd(f, argnums, has_aux, sparse=sparse)
    nums = _argnums_tuple(argnums)
    single = isinstance(argnums, int)

    def prepare(args: tuple) -> tuple:
        norm = tuple(i % len(args) for i in nums)
        for i in norm:
            _check_float_inputs("jacfwd", jax.tree_util.tree_leaves(args[i]), f" for argument {i}")
        fun, consts = hoist_closure(f, args)
        return norm, fun, args + consts

    def jac(*args: Any) -> Any:
        norm, fun, full = prepare(args)
        key = (_signature(full, {}, ()), norm, single, has_aux)
        prog = _JACFWD_CACHE.get(f, key, lambda: _JacobianProgram(fun, full, len(args), norm, single, has_aux))
        return prog(full)

    def lower_jac(*args: Any) -> Program:
        norm, fun, full = prepare(args)
        prog = _JacobianProgram(fun, full, len(args), norm, single, has_aux, record_stages=True)
        return prog.compiled.compile().program

    return Transformed(f, jac, lower_jac)


_JACFWD_CACHE = TransformCache()
"""jacfwd's programs, per function: (signature, argnums, single, has_aux) -> _JacobianProgram."""


def identity_seeds(leaves: Sequence[Any], dtypes: Sequence[Any] | None = None) -> list[Any]:
    """The standard basis of the space of ``leaves`` built from iotas, as the seeds of a
    width-N forward sweep (N the sum of the leaves' sizes): per leaf, ``(N, *leaf.shape)``
    with row k the k-th unit vector of the leaves flattened and joined; the (N, size)
    block is ``select(iota0 == iota1 + offset, 1, 0)``, a form the rewrite rules know
    (opt/rules/seeds.py), not a dense constant."""
    from jax import lax

    sizes = [int(np.prod(np.shape(x), dtype=np.int64)) for x in leaves]
    total, offset, seeds = sum(sizes), 0, []
    for k, (x, n) in enumerate(zip(leaves, sizes)):
        dt = dtypes[k] if dtypes is not None else jax.dtypes.result_type(x)
        rows = lax.broadcasted_iota(np.int32, (total, n), 0)
        cols = lax.broadcasted_iota(np.int32, (total, n), 1)
        if offset:
            cols = cols + np.int32(offset)
        block = lax.select(rows == cols, lax.full((total, n), 1, dt), lax.full((total, n), 0, dt))
        seeds.append(block.reshape((total, *np.shape(x))) if np.ndim(x) != 1 else block)
        offset += n
    return seeds


class _JacobianProgram:
    """jacfwd for one signature: ``body`` (flat leaves -> flat results) builds the
    identity seeds, binds the width-N enzyme.fwddiff (nesting's ``diff_p``) and arranges
    its tangents as jax.jacfwd does; called, it binds nesting's ``program_p``, whose
    implementation is ``body`` compiled by zymase as one module (``compiled``)."""

    def __init__(self, fun: Callable, full: tuple, n_user: int, norm: tuple[int, ...], single: bool, has_aux: bool, record_stages: bool = False):
        from .frontend.nesting import bind_diff

        program = lower(fun, *full)
        ranges = _leaf_ranges(full)
        in_avals = program.in_avals
        active = [i for a in norm for i in ranges[a]]
        width = sum(int(np.prod(in_avals[i].shape, dtype=np.int64)) for i in active)
        arg_kinds = [DUP if i in active else CONST for i in range(len(in_avals))]
        outs = program.out_avals
        if has_aux:
            if len(program.out_tree.children()) != 2:
                raise TypeError("jacfwd with has_aux=True requires the function to return a pair (output, aux)")
            n_out = program.out_tree.children()[0].num_leaves
        else:
            n_out = len(outs)
        ret_kinds = [DUP if k < n_out and _is_float(o.dtype) else CONST for k, o in enumerate(outs)]
        call = _EnzymeCall(program, ForwardDiffOp, arg_kinds, ret_kinds, width=max(width, 1))
        primal = _primal_jaxpr(fun, full)
        name = _fn_name(fun)
        in_tree = jax.tree_util.tree_structure(full)
        arg_trees = [jax.tree_util.tree_structure(full[a]) for a in norm]
        out_tree = program.out_tree
        tree: list = []

        def body(*leaves: Any) -> list:
            import jax.numpy as jnp

            seeds = dict(zip(active, identity_seeds([leaves[i] for i in active], [in_avals[i].dtype for i in active])))
            operands: list = []
            for i, x in enumerate(leaves):
                operands.append(x)
                if i in seeds:
                    operands.append(seeds[i])
            got = iter(call(primal, operands, name))
            prim, tang = [], []
            for o, k in zip(outs, ret_kinds):
                prim.append(next(got))
                tang.append(next(got) if k == DUP else None)
            blocks = []
            for k in range(n_out):
                o = outs[k]
                per_arg, start = [], 0
                for a, t in zip(norm, arg_trees):
                    parts = []
                    for i in ranges[a]:
                        size = int(np.prod(in_avals[i].shape, dtype=np.int64))
                        shape = (*o.shape, *in_avals[i].shape)
                        if tang[k] is None:  # an integer output: zeros of its dtype, as jax.jacfwd gives
                            parts.append(jnp.zeros(shape, o.dtype))
                        else:
                            moved = jnp.moveaxis(tang[k], 0, -1) if o.shape else tang[k]
                            parts.append(moved[..., start : start + size].reshape(shape))
                        start += size
                    per_arg.append(jax.tree_util.tree_unflatten(t, parts))
                blocks.append(per_arg[0] if single else tuple(per_arg))
            if has_aux:
                value_tree, aux_tree = out_tree.children()
                result = (jax.tree_util.tree_unflatten(value_tree, blocks), jax.tree_util.tree_unflatten(aux_tree, prim[n_out:]))
            else:
                result = jax.tree_util.tree_unflatten(out_tree, blocks)
            leaves_out, t = jax.tree_util.tree_flatten(result)
            tree[:] = [t]
            return leaves_out

        self.body = jax.make_jaxpr(body)(*in_avals)
        self.out_tree = tree[0]
        self.in_tree = in_tree
        self.compiled = _Derivative(lambda: lower(core_fun(self.body), *in_avals), record_stages, lazy=True, entry=program.entry)

    def __call__(self, full: tuple) -> Any:
        from .frontend.nesting import bind_program

        leaves = jax.tree_util.tree_leaves(full)
        if self.body.effects:  # host callbacks: the compiled program, called as a jitted function (it carries the effects)
            return jax.tree_util.tree_unflatten(self.out_tree, list(self.compiled(*leaves)))
        return jax.tree_util.tree_unflatten(self.out_tree, bind_program(leaves, body=self.body, compiled=self.compiled))


def core_fun(closed: Any) -> Callable:
    """A closed jaxpr as a function of flat arrays."""

    def run(*xs: Any) -> list:
        return jax.core.eval_jaxpr(closed.jaxpr, closed.consts, *xs)

    return run


def jacrev(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, loop_checkpoint: str | None = None, sparse: bool | str = False) -> Callable:
    """Like ``jax.jacrev``. A non-scalar output: one ``enzyme.autodiff`` of width N (N the
    number of output elements) whose seeds, the identity, are built in the program as
    jacfwd's are (compare(iota, iota) / select); seeds, batched reverse sweep and the
    arrangement of its gradients compile as one module (``_JacrevProgram``). A scalar
    output: one reverse sweep of width 1 (``vjp``), so an outer transformation nests it as
    an enzyme.autodiff. ``sparse=True`` / ``"bcoo"``: one cotangent per color of the
    Jacobian's sparsity pattern (sparse.py). ``.lower(*args)`` gives the Program."""
    if sparse:
        from .sparse import sparse_jacrev

        return sparse_jacrev(f, argnums, has_aux, loop_checkpoint, sparse=sparse)
    loop_checkpoint = _checked_schedule(loop_checkpoint)
    nums = _argnums_tuple(argnums)
    single = isinstance(argnums, int)

    def prepare(args: tuple) -> tuple:
        norm = tuple(i % len(args) for i in nums)
        for i in norm:
            _check_float_inputs("jacrev", jax.tree_util.tree_leaves(args[i]), f" for argument {i}")
        fun, consts = hoist_closure(f, args)
        return norm, fun, args + consts

    def batched(args: tuple, record_stages: bool = False) -> tuple[_JacrevProgram | None, tuple]:
        norm, fun, full = prepare(args)
        if record_stages:
            return _JacrevProgram.build(fun, full, norm, single, has_aux, loop_checkpoint, record_stages=True), full
        key = (_signature(full, {}, ()), norm, single, has_aux, loop_checkpoint)
        prog = _JACREV_CACHE.get(f, key, lambda: _JacrevProgram.build(fun, full, norm, single, has_aux, loop_checkpoint) or _ONE_VJP)
        return (None if prog is _ONE_VJP else prog), full

    def jac(*args: Any) -> Any:
        prog, full = batched(args)
        if prog is not None:
            return prog(full)
        norm = [i % len(args) for i in nums]
        dyn = [args[i] for i in norm]
        others = tuple(i for i in range(len(args)) if i not in norm)
        res = vjp(f, *args, has_aux=has_aux, loop_checkpoint=loop_checkpoint, _const_argnums=others)
        out, pullback = res[0], res[1]
        out_leaves, out_tree = jax.tree_util.tree_flatten(out)
        sizes = [int(np.size(o)) for o in out_leaves]
        basis = _std_basis(out_leaves)
        if sum(sizes) == 1:  # a scalar output: one cotangent, no batching (an outer transformation then nests this one)
            one = pullback(jax.tree_util.tree_unflatten(out_tree, [b[0] for b in basis]))
            all_rows = jax.tree_util.tree_map(lambda r: r[None], one)
        else:  # outputs that are not all float: the pullback, batched by jax.vmap
            all_rows = jax.vmap(lambda *cts: pullback(jax.tree_util.tree_unflatten(out_tree, list(cts))))(*basis)
        rows = [all_rows[i] for i in norm]

        def arrange_out(k: int, o: Any) -> Any:
            start = sum(sizes[:k])
            per_arg = []
            for r, d in zip(rows, dyn):
                def cut(leaf: Any, dleaf: Any) -> Any:
                    return leaf[start : start + sizes[k]].reshape((*np.shape(o), *np.shape(dleaf)))

                per_arg.append(jax.tree_util.tree_map(cut, r, d))
            return per_arg[0] if single else tuple(per_arg)

        result = jax.tree_util.tree_unflatten(out_tree, [arrange_out(k, o) for k, o in enumerate(out_leaves)])
        return (result, res[2]) if has_aux else result

    def lower_jac(*args: Any) -> Program:
        prog, _ = batched(args, record_stages=True)
        if prog is None:
            raise TypeError("jacrev(...).lower: the function's output is a scalar (or not all float): it is one vjp, see zymase.vjp / zymase.grad(...).lower")
        return prog.compiled.compile().program

    return _Jacrev(f, jac, lower_jac)


class _Jacrev:
    """jacrev's result: called, the Jacobian (no jax.jit of its own, as before);
    ``.lower(*args)``, the Program of the batched reverse sweep."""

    def __init__(self, f: Callable, call: Callable, lower_fn: Callable):
        functools.update_wrapper(self, f)
        self._jacrev_call = call
        self._jacrev_lower = lower_fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._jacrev_call(*args, **kwargs)

    def lower(self, *args: Any) -> Program:
        return self._jacrev_lower(*args)


_JACREV_CACHE = TransformCache()
"""jacrev's batched programs, per function: (signature, argnums, single, has_aux,
loop_checkpoint) -> _JacrevProgram, or ``_ONE_VJP`` when the output is a scalar (or not
all float): jacrev is then built on vjp."""
_ONE_VJP = object()


class _JacrevProgram:
    """jacrev for one signature with a non-scalar output: ``body`` (flat leaves -> flat
    results) builds the identity seeds of the output space (``identity_seeds``), binds one
    enzyme.autodiff of width N (nesting's ``diff_p``) and arranges its batched gradients
    as jax.jacrev does; called, it binds nesting's ``program_p`` (compiled by zymase as
    one module), so jax.jit, jax.vmap and outer zymase transformations compose."""

    @classmethod
    def build(cls, fun: Callable, full: tuple, norm: tuple[int, ...], single: bool, has_aux: bool, loop_checkpoint: str | None, record_stages: bool = False) -> _JacrevProgram | None:
        program = lower(fun, *full)
        outs = program.out_avals
        if has_aux:
            if len(program.out_tree.children()) != 2:
                raise TypeError("jacrev with has_aux=True requires the function to return a pair (output, aux)")
            n_out = program.out_tree.children()[0].num_leaves
        else:
            n_out = len(outs)
        sizes = [int(np.prod(outs[k].shape, dtype=np.int64)) for k in range(n_out)]
        if sum(sizes) <= 1 or not all(_is_float(outs[k].dtype) for k in range(n_out)):
            return None
        return cls(program, fun, full, norm, single, has_aux, n_out, loop_checkpoint, record_stages)

    def __init__(self, program: Program, fun: Callable, full: tuple, norm: tuple[int, ...], single: bool, has_aux: bool, n_out: int, loop_checkpoint: str | None, record_stages: bool):
        ranges = _leaf_ranges(full)
        in_avals, outs = program.in_avals, program.out_avals
        active = [i for a in norm for i in ranges[a]]
        arg_kinds = [ACTIVE if i in active else CONST for i in range(len(in_avals))]
        ret_kinds = [ACTIVENONEED if k < n_out else CONST for k in range(len(outs))]
        width = sum(int(np.prod(outs[k].shape, dtype=np.int64)) for k in range(n_out))
        call = _EnzymeCall(program, AutoDiffOp, arg_kinds, ret_kinds, width=width, loop_checkpoint=loop_checkpoint)
        primal = _primal_jaxpr(fun, full)
        name = _fn_name(fun)
        arg_trees = [jax.tree_util.tree_structure(full[a]) for a in norm]
        out_tree = program.out_tree
        tree: list = []

        def body(*leaves: Any) -> list:
            seeds = identity_seeds([outs[k] for k in range(n_out)], [outs[k].dtype for k in range(n_out)])
            got = iter(call(primal, [*leaves, *seeds], name))
            aux = [next(got) for k in range(n_out, len(outs))]
            grads = {i: next(got) for i in sorted(active)}  # the op's gradients, in argument order
            blocks = []
            start = 0
            for k in range(n_out):
                o, size = outs[k], int(np.prod(outs[k].shape, dtype=np.int64))
                per_arg = []
                for a, t in zip(norm, arg_trees):
                    parts = [grads[i][start : start + size].reshape((*o.shape, *in_avals[i].shape)) for i in ranges[a]]
                    per_arg.append(jax.tree_util.tree_unflatten(t, parts))
                blocks.append(per_arg[0] if single else tuple(per_arg))
                start += size
            if has_aux:
                value_tree, aux_tree = out_tree.children()
                result = (jax.tree_util.tree_unflatten(value_tree, blocks), jax.tree_util.tree_unflatten(aux_tree, aux))
            else:
                result = jax.tree_util.tree_unflatten(out_tree, blocks)
            leaves_out, t = jax.tree_util.tree_flatten(result)
            tree[:] = [t]
            return leaves_out

        self.body = jax.make_jaxpr(body)(*in_avals)
        self.out_tree = tree[0]
        self.compiled = _Derivative(lambda: lower(core_fun(self.body), *in_avals), record_stages, loop_checkpoint, lazy=True, entry=program.entry)

    def __call__(self, full: tuple) -> Any:
        from .frontend.nesting import bind_program

        leaves = jax.tree_util.tree_leaves(full)
        if self.body.effects:  # host callbacks: the compiled program, called as a jitted function (it carries the effects)
            return jax.tree_util.tree_unflatten(self.out_tree, list(self.compiled(*leaves)))
        return jax.tree_util.tree_unflatten(self.out_tree, bind_program(leaves, body=self.body, compiled=self.compiled))


def hessian(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, loop_checkpoint: str | None = None, sparse: bool | str = False) -> Callable:
    """Like ``jax.hessian``: ``jacfwd(jacrev(f))``, one module: an enzyme.fwddiff of
    width N (identity seeds) over a function holding enzyme.autodiff of ``f``,
    differentiated inner level first with the rewrite rules between levels.
    ``sparse=True`` / ``"bcoo"``: one Hessian-vector product per color of the star
    coloring of the Hessian's sparsity pattern (sparse.py)."""
    if sparse:
        from .sparse import sparse_hessian

        return sparse_hessian(f, argnums, has_aux, loop_checkpoint, sparse=sparse)
    return jacfwd(jacrev(f, argnums, has_aux=has_aux, loop_checkpoint=loop_checkpoint), argnums, has_aux=has_aux)


def _raw(cls: type, f: Callable, activity: Sequence[Activity | str], ret_activity: Sequence[Activity | str], width: int) -> Callable:
    arg_kinds = [Activity(a) for a in activity]
    ret_kinds = [Activity(a) for a in ret_activity]
    options = (cls.name, tuple(k.value for k in arg_kinds), tuple(k.value for k in ret_kinds), width)

    def call(*operands: Any) -> tuple:
        primals = operands[: len(arg_kinds)] if cls is AutoDiffOp else None
        if cls is ForwardDiffOp:
            it = iter(operands)
            primals = []
            for k in arg_kinds:
                primals.append(next(it))
                if k in (DUP, DUPNONEED):
                    next(it)

        def build() -> _Derivative:
            program = lower(f, *primals)
            if len(program.in_avals) != len(arg_kinds) or len(program.out_avals) != len(ret_kinds):
                raise TypeError(
                    f"activity has {len(arg_kinds)} entries and ret_activity {len(ret_kinds)}, but the function has "
                    f"{len(program.in_avals)} array arguments and {len(program.out_avals)} array results"
                )
            _add_entry(program, cls, arg_kinds, ret_kinds, width)
            return _Derivative(program)

        return tuple(_RAW_CACHE.get(f, (_signature(tuple(primals), {}, ()), options), build)(*operands))

    return call


def autodiff(f: Callable, activity: Sequence[Activity | str], ret_activity: Sequence[Activity | str]) -> Callable:
    """Enzyme's reverse mode as is: ``autodiff(f, activity, ret_activity)(*primals, *seeds)``
    returns the primal results that are not "noneed", then one gradient per
    ``enzyme_active`` argument (f takes and returns flat arrays)."""
    return _raw(AutoDiffOp, f, activity, ret_activity, 1)


def fwddiff(f: Callable, activity: Sequence[Activity | str], ret_activity: Sequence[Activity | str], width: int = 1) -> Callable:
    """Enzyme's forward mode as is: operands are each argument's primal followed by its
    tangent when dup/dupnoneed (with ``width`` N, tangents have a leading dimension N);
    results per return value: const -> primal, dup -> primal, tangent, dupnoneed ->
    tangent, constnoneed -> nothing."""
    return _raw(ForwardDiffOp, f, activity, ret_activity, width)


_LAPLACE_CACHE = TransformCache()
"""laplacian's programs, per function: (signature, argument) -> (derivative, None), or
(None, reason) when the forward-Laplacian mode does not handle the program (then the
fallback runs)."""


def _build_forward_laplacian(f: Callable, args: tuple, i: int) -> tuple[_Derivative | None, Any]:
    """The program ``@zymase_entry = enzyme.fwdlaplace @main`` with argument ``i`` dup,
    returning (gradient, Laplacian); (None, reason) when the mode cannot be used: the
    mode's LaplaceError (an op without a forward-Laplacian rule), or a string for a
    program laplacian's fallback handles or rejects (a non-scalar output, an argument
    that is not one array)."""
    from .ad.laplace import LaplaceError
    from .ir.enzyme import ForwardLaplaceOp

    program = lower(f, *args)
    leaves = _leaf_ranges(args)[i]
    outs = program.out_avals
    if len(leaves) != 1 or len(outs) != 1 or outs[0].shape != () or not _is_float(outs[0].dtype):
        return None, "laplacian takes one array argument of a function with one real scalar output"
    arg_kinds = [DUP if k == leaves[0] else CONST for k in range(len(program.in_avals))]
    _add_entry(program, ForwardLaplaceOp, arg_kinds, [DUPNONEED])
    try:
        return _Derivative(program), None
    except LaplaceError as e:
        return None, e.with_traceback(None)  # cached: keep no frames alive


def laplacian(f: Callable, argnums: int = 0, fallback: bool = True) -> Callable:
    """The Laplacian sum_i d^2 f / dx_i^2 of a scalar function with respect to one array
    argument, by zymase's forward-Laplacian mode (``enzyme.fwdlaplace``: one forward
    sweep carrying each value, its gradient and its Laplacian; gradients known to be
    diagonal, or a few shifted diagonals, are kept as vectors). A program the mode has
    no rule for (calls of custom_jvp functions such as jax.nn.relu, sort, scatter,
    gather, ...) falls back to forward over reverse mode (zymase.jvp of zymase.grad, one
    direction per element of the argument, batched with jax.vmap), which handles
    everything ``grad`` does; ``fallback=False`` raises the mode's one-line error naming
    the op instead."""
    from .ad.laplace import LaplaceError

    over_reverse = _laplacian_forward_over_reverse(f, argnums)

    def lap(*args: Any) -> Any:
        i = argnums % len(args)
        x = args[i]
        _check_float_inputs("laplacian", [x], f" for argument {i}")
        fun, consts = hoist_closure(f, args)
        full = args + consts  # closed-over tracers ride along as constant arguments
        deriv, why = _LAPLACE_CACHE.get(f, (_signature(full, {}, ()), i), lambda: _build_forward_laplacian(fun, full, i))
        if deriv is None:
            if not fallback and isinstance(why, LaplaceError):
                raise LaplaceError(str(why))
            return over_reverse(*args)
        _, value = deriv(*jax.tree_util.tree_leaves(full))
        return value

    return lap


def _laplacian_forward_over_reverse(f: Callable, argnums: int = 0) -> Callable:
    """laplacian's fallback: zymase's forward mode over its reverse mode, one direction
    per element of the argument, batched with jax.vmap (the trace of ``hessian`` without
    building it)."""
    import jax.numpy as jnp

    g = grad(f, argnums)

    def lap(*args: Any) -> Any:
        i = argnums % len(args)
        x = args[i]
        _check_float_inputs("laplacian", [x], f" for argument {i}")
        (basis,) = _std_basis([x])
        others = [jax.tree_util.tree_map(_float0_zeros, a) if k != i else None for k, a in enumerate(args)]

        def curvature(v: Any) -> Any:
            tangents = tuple(v if k == i else others[k] for k in range(len(args)))
            _, t = jvp(g, args, tangents)
            return jnp.vdot(t, v)

        return jnp.sum(jax.vmap(curvature)(basis))

    return lap
