"""Host callbacks (jax.debug.print, jax.debug.callback, jax.pure_callback,
jax.experimental.io_callback) and typed PRNG keys through zymase.jit, grad,
value_and_grad and jvp: the process survives, the printed text is what jax prints for the
same transformation under jax.jit, the values match jax."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from jax.experimental import io_callback

import zymase
from zymase.ad.engine import DiffError
from zymase.frontend.callbacks import CallbackLoweringError


def printed(capfd: pytest.CaptureFixture, run) -> str:
    """What ``run()`` prints (jax prints from a host thread: wait for it)."""
    capfd.readouterr()
    jax.block_until_ready(run())
    jax.effects_barrier()
    return capfd.readouterr().out


def jax_and_zymase(name: str, f):
    """(jax's transformation of f under jax.jit, zymase's), as functions of x."""
    if name == "jit":
        return jax.jit(f), zymase.jit(f)
    if name == "grad":
        return jax.jit(jax.grad(f)), zymase.grad(f)
    if name == "value_and_grad":
        return jax.jit(jax.value_and_grad(f)), zymase.value_and_grad(f)
    assert name == "jvp"
    return jax.jit(lambda x: jax.jvp(f, (x,), (1.0,))), lambda x: zymase.jvp(f, (x,), (1.0,))


def assert_same(got, want) -> None:
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)


TRANSFORMS = ["jit", "grad", "value_and_grad", "jvp"]


# ============================================================================ jax.debug.print


def straight(x):
    y = jnp.sin(x)
    jax.debug.print("y={y} x={x}", y=y, x=x)
    jax.debug.print("square {}", x * x)  # a value nothing else uses: the print must survive DCE
    jax.debug.print("no arguments")
    return y * x


def looped(x):
    # 6 trips: zymase unrolls loops of at most 4, after which XLA may run unordered
    # callbacks in any order; a loop keeps them in iteration order, as in jax.
    def body(i, c):
        jax.debug.print("i={i} c={c}", i=i, c=c)
        return jnp.sin(c) * x

    return lax.fori_loop(0, 6, body, x)


def branching(x):
    def yes(v):
        jax.debug.print("yes {v}", v=v)
        return jnp.sin(v)

    def no(v):
        jax.debug.print("no {v}", v=v)
        return jnp.cos(v)

    return lax.cond(x > 0, yes, no, x * 2.0)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_debug_print_straight_line(capfd, name: str) -> None:
    want_fn, got_fn = jax_and_zymase(name, straight)
    want_out = printed(capfd, lambda: want_fn(0.7))
    got_out = printed(capfd, lambda: got_fn(0.7))
    assert "y=0.64421" in want_out and want_out.count("\n") == 3
    assert got_out == want_out
    assert_same(got_fn(0.7), want_fn(0.7))


@pytest.mark.parametrize("name", ["jit", "grad", "jvp"])
def test_debug_print_in_fori_loop(capfd, name: str) -> None:
    want_fn, got_fn = jax_and_zymase(name, looped)
    want_out = printed(capfd, lambda: want_fn(0.9))
    got_out = printed(capfd, lambda: got_fn(0.9))
    assert want_out.count("\n") == 6
    assert got_out == want_out
    assert_same(got_fn(0.9), want_fn(0.9))


@pytest.mark.parametrize("name", ["jit", "jvp", "grad"])
def test_debug_print_in_cond(capfd, name: str) -> None:
    want_fn, got_fn = jax_and_zymase(name, branching)
    for x in (0.4, -0.4):
        want_out = printed(capfd, lambda: want_fn(x))
        got_out = printed(capfd, lambda: got_fn(x))
        assert want_out.count("\n") == 1
        assert got_out == want_out
        assert_same(got_fn(x), want_fn(x))


def test_debug_callback_sees_the_primal_values() -> None:
    def collect(into):
        def f(x):
            jax.debug.callback(lambda v: into.append(np.asarray(v).copy()), jnp.exp(x))
            return jnp.sum(jnp.exp(x) * x)

        return f

    want, got = [], []
    x = jnp.array([0.1, 0.2, 0.3])
    jax.jit(jax.grad(collect(want)))(x)
    g = zymase.grad(collect(got))(x)
    jax.effects_barrier()
    assert len(got) == len(want) == 1
    np.testing.assert_allclose(got[0], want[0])
    assert_same(g, jax.grad(collect([]))(x))


def test_printed_ir_names_the_callback() -> None:
    text = zymase.jit(straight).lower(0.7).as_text()
    assert text.count('"host.debug_callback"') == 3
    assert "callee = \"jax.debug.print 'y={y} x={x}'\"" in text
    assert "callback = " in text
    assert "xla_ffi_python" not in text


# ============================================================================ ordered callbacks


def ordered_program():
    """A new function each time (zymase caches transformations per function)."""

    def f(x):
        jax.debug.print("first {x}", x=x, ordered=True)
        y = jnp.sin(x)
        jax.debug.print("second {y}", y=y, ordered=True)
        jax.debug.callback(lambda v: print("third", v), y * 2.0, ordered=True)
        jax.debug.print("fourth {}", y * x, ordered=True)
        return y * x

    return f


@pytest.mark.parametrize("name", TRANSFORMS)
def test_ordered_debug_print_in_program_order(capfd, name: str) -> None:
    want_fn, got_fn = jax_and_zymase(name, ordered_program())[0], jax_and_zymase(name, ordered_program())[1]
    want_out = printed(capfd, lambda: want_fn(0.7))
    got_out = printed(capfd, lambda: got_fn(0.7))
    lines = want_out.splitlines()
    assert [line.split()[0] for line in lines] == ["first", "second", "third", "fourth"]  # once per evaluation
    assert got_out == want_out
    assert_same(got_fn(0.7), want_fn(0.7))


def ordered_everywhere():
    """Ordered prints in a loop body, both branches of a cond, an inner jax.jit and a
    custom_jvp function (jax threads its tokens through all of them)."""

    @jax.custom_jvp
    def g(v):
        jax.debug.print("g {v}", v=v, ordered=True)
        return jnp.sin(v)

    g.defjvp(lambda p, t: (g(p[0]), 3.0 * jnp.cos(p[0]) * t[0]))

    def f(x):
        jax.debug.print("first {x}", x=x, ordered=True)

        def body(i, c):
            jax.debug.print("i={i} c={c}", i=i, c=c, ordered=True)
            return jnp.sin(c) * x

        y = lax.fori_loop(0, 3, body, x)
        y = lax.cond(y > 0.25, lambda v: (jax.debug.print("big {v}", v=v, ordered=True), jnp.sin(v))[1], lambda v: (jax.debug.print("small {v}", v=v, ordered=True), v * v)[1], y)
        y = jax.jit(lambda v: (jax.debug.print("inner jit {v}", v=v, ordered=True), g(v) * 3.0)[1])(y)
        jax.debug.print("last {y}", y=y, ordered=True)
        return y * x

    return f


@pytest.mark.usefixtures("x64")
def test_ordered_prints_in_loops_branches_and_calls(capfd) -> None:
    """zymase.grad, and jax.jit of it, print what jax.jit(jax.grad(f)) prints, in the
    same order, and the gradient is jax's."""
    x = 0.7
    want_fn = jax.jit(jax.grad(ordered_everywhere()))
    want_out = printed(capfd, lambda: want_fn(x))
    assert [line.split()[0] for line in want_out.splitlines()] == ["first", "i=0", "i=1", "i=2", "small", "inner", "g", "last"]
    want = want_fn(x)
    for got_fn in (zymase.grad(ordered_everywhere()), jax.jit(zymase.grad(ordered_everywhere()))):
        got_out = printed(capfd, lambda: got_fn(x))
        assert got_out == want_out
        np.testing.assert_allclose(got_fn(x), want, rtol=1e-10, atol=1e-10)


@pytest.mark.usefixtures("x64")
def test_ordered_prints_under_nested_and_pullback_transformations(capfd) -> None:
    """zymase.grad(zymase.grad(f)) and zymase.vjp print once per evaluation, as jax does
    (the pullback of a vjp does not print again: nor do jacrev and hessian, built on it)."""
    x = jnp.array([0.7, -0.4])

    def make():
        def f(x):
            jax.debug.print("in {x}", x=x, ordered=True)
            y = jnp.sum(jnp.sin(x) * x)
            jax.debug.print("out {y}", y=y, ordered=True)
            return y

        return f

    cases = [
        (lambda: jax.jit(jax.grad(lambda x: jnp.sum(jax.grad(make())(x) ** 2)))(x), lambda: zymase.grad(lambda x: jnp.sum(zymase.grad(make())(x) ** 2))(x)),
        (lambda: jax.vjp(make(), x)[1](1.0), lambda: zymase.vjp(make(), x)[1](1.0)),
    ]
    for want_fn, got_fn in cases:
        want_out = printed(capfd, want_fn)
        assert [line.split()[0] for line in want_out.splitlines()] == ["in", "out"]
        assert printed(capfd, got_fn) == want_out
        for a, b in zip(jax.tree_util.tree_leaves(got_fn()), jax.tree_util.tree_leaves(want_fn())):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.usefixtures("x64")
def test_ordered_io_callbacks_run_in_order() -> None:
    """Ordered io_callbacks and ordered jax.debug.callbacks append to a list: the same
    calls with the same values, each kind in program order, as under jax (jax orders each
    kind of ordered effect on its own: between the kinds there is no order)."""

    def make(log):
        def record(tag):
            def run(v):
                log.append((tag, float(v)))
                return np.float64(v + 1.0)

            return run

        def f(x):
            a = io_callback(record("a"), jax.ShapeDtypeStruct((), jnp.float64), jnp.float64(3.0), ordered=True)
            jax.debug.callback(lambda v: log.append(("p", float(v))), jnp.sin(x) * a, ordered=True)
            b = io_callback(record("b"), jax.ShapeDtypeStruct((), jnp.float64), a * 2.0, ordered=True)
            jax.debug.callback(lambda v: log.append(("q", float(v))), x * b, ordered=True)
            c = io_callback(record("c"), jax.ShapeDtypeStruct((), jnp.float64), b - 1.0, ordered=True)
            return jnp.sin(x) * a + x * b * c

        return f

    def by_kind(log):
        return [e for e in log if e[0] in "abc"], [e for e in log if e[0] in "pq"]

    want, got, got_jit = [], [], []
    g_want = jax.jit(jax.grad(make(want)))(0.3)
    g = zymase.grad(make(got))(0.3)
    g_jit = jax.jit(zymase.grad(make(got_jit)))(0.3)
    jax.effects_barrier()
    assert by_kind(want) == ([("a", 3.0), ("b", 8.0), ("c", 8.0)], [("p", pytest.approx(np.sin(0.3) * 4.0)), ("q", pytest.approx(0.3 * 9.0))])
    assert by_kind(got) == by_kind(want) and by_kind(got_jit) == by_kind(want)
    np.testing.assert_allclose(g, g_want, rtol=1e-10)
    np.testing.assert_allclose(g_jit, g_want, rtol=1e-10)


def test_ordered_callbacks_keep_their_order_in_the_ir() -> None:
    program = zymase.grad(ordered_program()).lower(0.7)
    text = program.as_text(stage="final")
    callees = [line.split('callee = "')[1] for line in text.splitlines() if '"host.debug_callback"' in line]
    marks = [next(m for m in ("first", "second", "lambda", "fourth") if m in c) for c in callees]
    assert marks and marks == ["first", "second", "lambda", "fourth"] * (len(marks) // 4)  # each function keeps program order
    assert "stablehlo.token" not in text


def test_active_ordered_io_callback_is_refused() -> None:
    def record(v):
        return np.float32(v + 1.0)

    with pytest.raises(DiffError, match=r"io_callback \S*record \('host.io_callback'\) at .* reverse mode"):
        zymase.grad(lambda x: io_callback(record, jax.ShapeDtypeStruct((), jnp.float32), x, ordered=True))(2.0)


def test_tokens_zymase_cannot_carry_are_refused() -> None:
    """A token that does more than pass through (here an optimization barrier) gets the
    one-line refusal; a token threaded through a loop and a call is removed."""
    from zymase.frontend.callbacks import strip_tokens
    from zymase.ir import parse_module

    barrier = parse_module(
        """
        func.func @main(%t: !stablehlo.token, %x: tensor<f32>) -> (!stablehlo.token, tensor<f32>) {
          %0:2 = stablehlo.optimization_barrier %t, %x : !stablehlo.token, tensor<f32>
          return %0#0, %0#1 : !stablehlo.token, tensor<f32>
        }
        """
    )
    with pytest.raises(CallbackLoweringError, match=r"^zymase: 'stablehlo.optimization_barrier' at .* effect token [^\n]*$"):
        strip_tokens(barrier)
    loop = parse_module(
        """
        func.func @main(%t: !stablehlo.token, %x: tensor<f32>) -> (!stablehlo.token, tensor<f32>) {
          %c = stablehlo.constant dense<0> : tensor<i32>
          %0:3 = stablehlo.while(%a = %t, %i = %c, %b = %x) : !stablehlo.token, tensor<i32>, tensor<f32>
          cond {
            %k = stablehlo.constant dense<3> : tensor<i32>
            %p = stablehlo.compare LT, %i, %k, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
            stablehlo.return %p : tensor<i1>
          } do {
            %r:2 = func.call @body(%a, %b) : (!stablehlo.token, tensor<f32>) -> (!stablehlo.token, tensor<f32>)
            %one = stablehlo.constant dense<1> : tensor<i32>
            %j = stablehlo.add %i, %one : tensor<i32>
            stablehlo.return %r#0, %j, %r#1 : !stablehlo.token, tensor<i32>, tensor<f32>
          }
          return %0#0, %0#2 : !stablehlo.token, tensor<f32>
        }
        func.func private @body(%t: !stablehlo.token, %x: tensor<f32>) -> (!stablehlo.token, tensor<f32>) {
          %y = stablehlo.sine %x : tensor<f32>
          return %t, %y : !stablehlo.token, tensor<f32>
        }
        """
    )
    strip_tokens(loop)
    loop.verify()
    from zymase.ir import print_module

    text = print_module(loop)
    assert "token" not in text and text.count("stablehlo.while") == 1


# ============================================================================ pure_callback / io_callback


def scaled_by_callback(x, c):
    """x times a numpy function of c (c not differentiated)."""
    return jnp.sum(x * jax.pure_callback(np.sin, jax.ShapeDtypeStruct(c.shape, c.dtype), c))


def test_pure_callback_of_an_inactive_value() -> None:
    x, c = jnp.array([1.0, 2.0]), jnp.array([0.5, -0.25])
    assert_same(zymase.grad(scaled_by_callback)(x, c), jax.grad(scaled_by_callback)(x, c))
    assert_same(zymase.jit(scaled_by_callback)(x, c), scaled_by_callback(x, c))
    t = jnp.array([1.0, -1.0])
    assert_same(zymase.jvp(lambda x: scaled_by_callback(x, c), (x,), (t,)), jax.jvp(lambda x: scaled_by_callback(x, c), (x,), (t,)))


def host_sin(x):
    return np.sin(x)


def through_callback(x):
    return jax.pure_callback(host_sin, jax.ShapeDtypeStruct(x.shape, x.dtype), x) * x


CALLBACK_LINE = inspect.getsourcelines(through_callback)[1] + 1


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_pure_callback_of_an_active_value_is_refused(mode: str) -> None:
    x = jnp.array([0.3, 0.4])
    with pytest.raises(DiffError) as err:
        if mode == "reverse":
            zymase.grad(lambda x: jnp.sum(through_callback(x)))(x)
        else:
            zymase.jvp(through_callback, (x,), (x,))
    message = str(err.value).split("\n--------------------\n")[0]  # jax may append a note on its traceback filtering
    assert "\n" not in message
    assert "jax.pure_callback host_sin" in message
    assert f"test_callbacks.py:{CALLBACK_LINE}:" in message
    assert f"{mode} mode" in message
    assert "jax.custom_jvp or jax.custom_vjp" in message


def test_pure_callback_with_a_custom_jvp() -> None:
    @jax.custom_jvp
    def hsin(x):
        return jax.pure_callback(np.sin, jax.ShapeDtypeStruct(x.shape, x.dtype), x)

    @hsin.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return hsin(x), jax.pure_callback(np.cos, jax.ShapeDtypeStruct(x.shape, x.dtype), x) * t

    f = lambda x: jnp.sum(hsin(x) * x)
    x = jnp.array([0.3, 1.2])
    assert_same(zymase.grad(f)(x), jax.grad(f)(x))


def test_io_callback_runs_once_per_call() -> None:
    calls = []

    def record(v):
        calls.append(float(v))
        return np.float32(v + 1.0)

    def f(x):
        y = io_callback(record, jax.ShapeDtypeStruct((), jnp.float32), jnp.float32(3.0))
        return x * y

    assert_same(zymase.jit(f)(2.0), 8.0)
    assert_same(zymase.grad(f)(2.0), 4.0)
    assert_same(zymase.jvp(f, (2.0,), (1.0,)), (8.0, 4.0))
    jax.effects_barrier()
    assert calls == [3.0, 3.0, 3.0]
    with pytest.raises(DiffError, match=r"io_callback \S*record \('host.io_callback'\) at .* reverse mode"):
        zymase.grad(lambda x: io_callback(record, jax.ShapeDtypeStruct((), jnp.float32), x))(2.0)


# ============================================================================ typed PRNG keys


def noisy(x, key):
    return jnp.sum(x * jax.random.normal(key, x.shape))


@pytest.mark.parametrize("impl", ["threefry2x32", "rbg"])
def test_typed_key_argument(impl: str) -> None:
    x, key = jnp.array([0.5, -1.0, 2.0]), jax.random.key(7, impl=impl)
    assert_same(zymase.jit(noisy)(x, key), jax.jit(noisy)(x, key))
    assert_same(zymase.grad(noisy)(x, key), jax.grad(noisy)(x, key))
    t = (jnp.ones(3), np.zeros((), jax.dtypes.float0))
    assert_same(zymase.jvp(noisy, (x, key), t), jax.jvp(noisy, (x, key), t))


def test_typed_key_arrays_and_results() -> None:
    def split_draw(key):
        a, b = jax.random.split(key)
        return a, jax.random.uniform(b, (2,))

    for key in (jax.random.key(1), jax.random.key(1, impl="rbg")):
        (got_key, got), (want_key, want) = zymase.jit(split_draw)(key), jax.jit(split_draw)(key)
        assert got_key.dtype == want_key.dtype
        assert_same(jax.random.key_data(got_key), jax.random.key_data(want_key))
        assert_same(got, want)

    def with_aux(x, key):
        k1, k2 = jax.random.split(key)
        return noisy(x, k1), k2

    x, key = jnp.array([0.5, -1.0, 2.0]), jax.random.key(3)
    (g, k), (g_want, k_want) = zymase.grad(with_aux, has_aux=True)(x, key), jax.grad(with_aux, has_aux=True)(x, key)
    assert_same(g, g_want)
    assert_same(jax.random.key_data(k), jax.random.key_data(k_want))
    keys = jax.random.split(key, 4)
    batch = lambda x, keys: jnp.sum(jax.vmap(lambda k: noisy(x, k))(keys))
    assert_same(zymase.grad(batch)(x, keys), jax.grad(batch)(x, keys))


def test_sharding_constraint_on_floats_is_differentiated() -> None:
    mesh = jax.make_mesh((1,), ("x",), axis_types=(jax.sharding.AxisType.Auto,))
    spec = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("x"))
    f = lambda x: jnp.sum(jnp.sin(jax.lax.with_sharding_constraint(x * x, spec)))
    x = jnp.array([0.5, -1.0, 2.0, 0.25])
    assert_same(zymase.grad(f)(x), jax.grad(f)(x))
    assert_same(zymase.jvp(f, (x,), (x,)), jax.jvp(f, (x,), (x,)))


# ============================================================================ the process survives


SCRIPT = textwrap.dedent(
    """
    import jax, jax.numpy as jnp
    import zymase

    def f(x):
        y = jnp.sin(x)
        jax.debug.print("y={y}", y=y)
        jax.debug.callback(lambda v: print("callback", v), x)
        return y * x

    zymase.jit(f)(0.5)
    zymase.grad(f)(0.5)
    zymase.value_and_grad(f)(0.5)
    zymase.jvp(f, (0.5,), (1.0,))
    jax.effects_barrier()
    print("SURVIVED")
    """
)


def test_debug_print_programs_exit_cleanly() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = proc.stdout.splitlines()
    assert lines.count("y=0.4794255495071411") == 4
    assert lines.count("callback 0.5") == 4
    assert lines[-1] == "SURVIVED"
