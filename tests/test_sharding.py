"""Sharded programs through zymase: Shardy ops (sdy.manual_computation, sdy.return,
sdy.sharding_constraint) and the StableHLO collectives parse, print and verify; zymase's
gradients and jvps of programs with ``with_sharding_constraint`` and ``shard_map``
(psum, all_gather, psum_scatter, ppermute, all_to_all) equal jax's in float64, with the
output shardings jax gives and no more collectives in the compiled HLO.

The multi-device checks run in ONE subprocess on 8 host devices
(XLA_FLAGS=--xla_force_host_platform_device_count=8)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from zymase.ir import parse_module, print_module
from zymase.ir.sdy import (
    ManualComputationOp,
    device_assignment,
    parse_mesh,
    parse_sharding,
    parse_sharding_list,
    print_sharding,
    record_device_assignment,
    replica_groups,
)

# What jax 0.10 prints for a shard_map with collectives on a (4, 2) mesh (trimmed).
SHARD_MAP_TEXT = """
module @jit_g attributes {mhlo.num_partitions = 8 : i32, mhlo.num_replicas = 1 : i32} {
  sdy.mesh @mesh = <["data"=4, "model"=2]>
  func.func public @main(%arg0: tensor<8x4xf32> {sdy.sharding = #sdy.sharding<@mesh, [{"data"}, {}]>}, %arg1: tensor<f32> {sdy.sharding = #sdy.sharding<@mesh, []>}) -> (tensor<8x4xf32> {jax.result_info = "result"}) {
    %0 = sdy.manual_computation(%arg0, %arg1) in_shardings=[<@mesh, [{"data", ?}, {"model"}]>, <@mesh, []>] out_shardings=[<@mesh, [{"data", ?}, {"model"}]>] manual_axes={"data", "model"} (%arg2: tensor<2x2xf32>, %arg3: tensor<f32>) {
      %1 = "stablehlo.all_reduce"(%arg2) <{channel_handle = #stablehlo.channel_handle<handle = 1, type = 1>, replica_groups = dense<[[0, 1], [2, 3], [4, 5], [6, 7]]> : tensor<4x2xi64>, use_global_device_ids}> ({
      ^bb0(%a: tensor<f32>, %b: tensor<f32>):
        %s = stablehlo.add %a, %b : tensor<f32>
        stablehlo.return %s : tensor<f32>
      }) : (tensor<2x2xf32>) -> tensor<2x2xf32>
      %2 = "stablehlo.all_gather"(%1) <{all_gather_dim = 1 : i64, channel_handle = #stablehlo.channel_handle<handle = 1, type = 1>, replica_groups = dense<[[0, 1], [2, 3], [4, 5], [6, 7]]> : tensor<4x2xi64>, use_global_device_ids}> : (tensor<2x2xf32>) -> tensor<2x4xf32>
      %3 = "stablehlo.all_to_all"(%2) <{channel_handle = #stablehlo.channel_handle<handle = 1, type = 1>, concat_dimension = 0 : i64, replica_groups = dense<[[0, 1], [2, 3], [4, 5], [6, 7]]> : tensor<4x2xi64>, split_count = 2 : i64, split_dimension = 1 : i64}> : (tensor<2x4xf32>) -> tensor<4x2xf32>
      %4 = "stablehlo.reduce_scatter"(%3) <{channel_handle = #stablehlo.channel_handle<handle = 1, type = 1>, replica_groups = dense<[[0, 1], [2, 3], [4, 5], [6, 7]]> : tensor<4x2xi64>, scatter_dimension = 0 : i64, use_global_device_ids}> ({
      ^bb0(%a: tensor<f32>, %b: tensor<f32>):
        %s = stablehlo.add %a, %b : tensor<f32>
        stablehlo.return %s : tensor<f32>
      }) : (tensor<4x2xf32>) -> tensor<2x2xf32>
      %5 = "stablehlo.collective_permute"(%4) <{channel_handle = #stablehlo.channel_handle<handle = 1, type = 1>, source_target_pairs = dense<[[0, 2], [2, 4], [4, 6], [6, 0], [1, 3], [3, 5], [5, 7], [7, 1]]> : tensor<8x2xi64>}> : (tensor<2x2xf32>) -> tensor<2x2xf32>
      %6 = stablehlo.broadcast_in_dim %arg3, dims = [] : (tensor<f32>) -> tensor<2x2xf32>
      %7 = stablehlo.multiply %5, %6 : tensor<2x2xf32>
      sdy.return %7 : tensor<2x2xf32>
    } : (tensor<8x4xf32>, tensor<f32>) -> tensor<8x4xf32>
    %8 = sdy.sharding_constraint %0 <@mesh, [{}, {"model"}]> : tensor<8x4xf32>
    return %8 : tensor<8x4xf32>
  }
}
"""


def test_shard_map_text_round_trips() -> None:
    module = parse_module(SHARD_MAP_TEXT)
    module.verify()
    custom = print_module(module, generic=False)
    generic = print_module(module)
    assert 'manual_axes={"data", "model"}' in custom
    assert '#sdy<manual_axes{"data", "model"}>' in generic
    assert "#sdy.sharding_per_value<[<@mesh" in generic
    for text, is_generic in ((custom, False), (generic, True)):
        again = parse_module(text)
        again.verify()
        assert print_module(again, generic=is_generic) == text
    assert print_module(parse_module(generic), generic=False) == custom


def test_manual_computation_verifier_checks_local_shapes() -> None:
    bad = SHARD_MAP_TEXT.replace('in_shardings=[<@mesh, [{"data", ?}, {"model"}]>', 'in_shardings=[<@mesh, [{"data", ?}, {}]>', 1)
    module = parse_module(bad)
    with pytest.raises(Exception) as info:
        module.verify()
    assert "'sdy.manual_computation' op" in str(info.value)
    assert "expected shape [2, 4]" in str(info.value)


BAD_GATHER = """
sdy.mesh @mesh = <["data"=4, "model"=2]>
func.func @main(%x: tensor<8x4xf32>) -> tensor<8x12xf32> {
  %0 = sdy.manual_computation(%x) in_shardings=[<@mesh, [{"data"}, {"model"}]>] out_shardings=[<@mesh, [{"data"}, {"model"}]>] manual_axes={"data", "model"} (%a: tensor<2x2xf32>) {
    %1 = "stablehlo.all_gather"(%a) <{all_gather_dim = 1 : i64, replica_groups = dense<[[0, 1], [2, 3], [4, 5], [6, 7]]> : tensor<4x2xi64>, use_global_device_ids}> : (tensor<2x2xf32>) -> tensor<2x6xf32>
    sdy.return %1 : tensor<2x6xf32>
  } : (tensor<8x4xf32>) -> tensor<8x12xf32>
  func.return %0 : tensor<8x12xf32>
}
"""


def test_collectives_are_verified_against_the_mesh() -> None:
    with pytest.raises(Exception) as info:
        parse_module(BAD_GATHER).verify()
    assert "'stablehlo.all_gather' op" in str(info.value), info.value
    assert "expected [2, 4]" in str(info.value), info.value
    ring = SHARD_MAP_TEXT.replace("[[0, 2], [2, 4], [4, 6], [6, 0],", "[[0, 2], [2, 4], [4, 6], [6, 2],")
    with pytest.raises(Exception, match="send from or to one device twice"):
        parse_module(ring).verify()


def test_sharding_readers() -> None:
    s = parse_sharding('@mesh, [{"data", ?}, {}, {"a", "b"}p1], replicated={"c"}')
    assert [d.axes for d in s.dims] == [("data",), (), ("a", "b")]
    assert [d.is_open for d in s.dims] == [True, False, False]
    assert s.replicated == ("c",)
    assert parse_sharding(print_sharding(s)) == s
    assert len(parse_sharding_list('[<@mesh, [{"data"}]>, <@mesh, []>]')) == 2
    mesh = parse_mesh('["data"=4, "model"=2]')
    assert mesh.names == ("data", "model") and mesh.sizes == (4, 2)
    # jax's groups: psum over "model", over "data", over ("model", "data")
    assert replica_groups(mesh, ["model"]) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert replica_groups(mesh, ["data"]) == [[0, 2, 4, 6], [1, 3, 5, 7]]
    assert replica_groups(mesh, ["model", "data"]) == [[0, 2, 4, 6, 1, 3, 5, 7]]
    assert parse_mesh('["a"=2, "b"=2], device_ids=[3, 2, 1, 0]').device_ids == (3, 2, 1, 0)
    inline = parse_sharding('mesh<["a"=2]>, [{"a"}, {}]')
    assert inline.mesh is None and inline.inline_mesh.axes == (("a", 2),)
    assert parse_sharding(print_sharding(inline)) == inline
    inline_ids = parse_sharding('mesh<["a"=2], device_ids=[1, 0]>, [{"a"}]')
    assert inline_ids.inline_mesh.device_ids == (1, 0) and parse_sharding(print_sharding(inline_ids)) == inline_ids
    with pytest.raises(ValueError, match="sub-axes"):
        parse_sharding('@mesh, [{"data":(1)2}]')


def test_device_assignment_is_kept_when_not_the_default() -> None:
    module = parse_module(SHARD_MAP_TEXT)
    record_device_assignment(module, range(8), range(8))
    assert device_assignment(module) is None  # jax.devices() in id order: nothing recorded
    record_device_assignment(module, [3, 1, 0, 2, 7, 5, 4, 6], range(8))
    for text in (print_module(module), print_module(module, generic=False)):
        assert device_assignment(parse_module(text)) == (3, 1, 0, 2, 7, 5, 4, 6)
    unsharded = parse_module("func.func @f(%x: f32) -> f32 {\n  func.return %x : f32\n}")
    record_device_assignment(unsharded, [1, 0], range(2))
    assert device_assignment(unsharded) is None  # no sdy.mesh


def test_manual_computation_is_an_op() -> None:
    module = parse_module(SHARD_MAP_TEXT)
    ops = [op for op in module.walk() if isinstance(op, ManualComputationOp)]
    assert len(ops) == 1 and ops[0].manual_axis_names == ("data", "model")


SCRIPT = textwrap.dedent(
    """
    import re, time
    from functools import partial
    T0 = time.perf_counter()
    import jax, jax.numpy as jnp, numpy as np
    from jax import lax, shard_map
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    jax.config.update("jax_enable_x64", True)
    import zymase

    assert len(jax.devices()) == 8, jax.devices()
    mesh = Mesh(np.array(jax.devices()).reshape(4, 2), ("data", "model"))
    rs = np.random.RandomState(0)
    put = lambda a, spec: jax.device_put(a, NamedSharding(mesh, spec))
    KINDS = ["all-reduce", "all-gather", "reduce-scatter", "all-to-all", "collective-permute"]

    def compiled(f, *args):
        # f compiled for args, and its counts of each kind of collective
        exe = jax.jit(f).lower(*args).compile()
        text = exe.as_text()
        # an instruction's shape is one token or a tuple, (f32[2]{0}, /*index=5*/f32[4]{0})
        return exe, {k: len(re.findall(rf"= (?:\\([^)]*\\)|\\S+) {k}(?:-start)?\\(", text)) for k in KINDS}

    def same(name, got, want):
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
            assert a.dtype == np.float64, (name, a.dtype)
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-10, err_msg=name)
            assert a.sharding.is_equivalent_to(b.sharding, a.ndim), (name, a.sharding, b.sharding)

    def check(name, f, args, argnums, jvp=True):
        (mine_exe, mine), (theirs_exe, theirs) = compiled(zymase.grad(f, argnums), *args), compiled(jax.grad(f, argnums), *args)
        same(name + " grad", mine_exe(*args), theirs_exe(*args))
        assert all(mine[k] <= theirs[k] for k in KINDS), (name, mine, theirs)
        print(name, "grad OK", mine, theirs, round(time.perf_counter() - T0, 1))
        if not jvp:
            return
        tangents = tuple(jax.tree.map(lambda a: put(rs.randn(*a.shape), a.sharding.spec), a) for a in args)
        want = jax.jit(lambda *a: jax.jvp(f, a, tangents))(*args)
        got = jax.jit(lambda *a: zymase.jvp(f, a, tangents))(*args)
        same(name + " jvp", got, want)
        print(name, "jvp OK", round(time.perf_counter() - T0, 1))

    # 1. tensor-parallel MLP on a 2-D mesh with with_sharding_constraint
    def tp_loss(a, b, x):
        h = jnp.tanh(x @ a)
        h = lax.with_sharding_constraint(h, NamedSharding(mesh, P("data", "model")))
        o = lax.with_sharding_constraint(h @ b, NamedSharding(mesh, P("data", None)))
        return jnp.mean(o ** 2)
    tp = (put(rs.randn(4, 8), P(None, "model")), put(rs.randn(8, 4), P("model", None)), put(rs.randn(16, 4), P("data")))
    check("constraint", tp_loss, tp, (0, 1, 2))
    # the cotangent keeps the constraint: the gradient of x is sharded as jax's
    def constrained(x):
        return jnp.sum(jnp.sin(lax.with_sharding_constraint(x * 2.0, NamedSharding(mesh, P(None, "model")))) ** 2)
    xs = put(rs.randn(8, 4), P("data"))
    same("constraint sharding", jax.jit(zymase.grad(constrained))(xs), jax.jit(jax.grad(constrained))(xs))
    text = zymase.grad(constrained).lower(xs).as_text()
    derivative = text.split('sym_name = "diffemain"')[1]
    assert derivative.count('"sdy.sharding_constraint"') == 2, text  # the primal's and the cotangent's

    # 2. data-parallel MLP: loss psum'd inside shard_map, replicated weights
    def dp_loss(params, x, y):
        @partial(shard_map, mesh=mesh, in_specs=(P(), P("data"), P("data")), out_specs=P())
        def local(params, x, y):
            w1, w2 = params
            h = jnp.tanh(x @ w1) @ w2
            return lax.psum(jnp.sum((h - y) ** 2), "data") / 16
        return local(params, x, y)
    dp = ((put(rs.randn(4, 8), P()), put(rs.randn(8, 1), P())), put(rs.randn(16, 4), P("data")), put(rs.randn(16, 1), P("data")))
    check("psum", dp_loss, dp, (0, 1))

    # 3. every collective: psum, all_gather, psum_scatter, ppermute (a ring), all_to_all
    @partial(shard_map, mesh=mesh, in_specs=(P("data", "model"), P("model")), out_specs=P("data", "model"))
    def coll(x, w):
        x = jnp.sin(x) * w
        a = lax.psum(x, "model")
        b = lax.all_gather(x, "model", axis=1, tiled=True)
        c = lax.psum_scatter(b * b, "model", scatter_dimension=1, tiled=True)
        d = lax.ppermute(x, "data", perm=[(i, (i + 1) % 4) for i in range(4)])
        e = lax.all_to_all(b, "model", 1, 0, tiled=True)
        return a * c + d + jnp.sum(e * e) * lax.axis_index("data")
    def coll_loss(x, w):
        return jnp.sum(jnp.tanh(coll(x, w)))
    check("collectives", coll_loss, (put(rs.randn(8, 4), P("data")), put(rs.randn(4), P())), (0, 1))
    xc, wc = put(rs.randn(8, 4), P("data")), put(rs.randn(4), P())
    fwd = jax.jit(zymase.jit(coll))(xc, wc)
    assert fwd.sharding.spec == P("data", "model"), fwd.sharding
    # width-4 forward mode over reverse mode: the Hessian's directions cross the shard_map
    # as one leading, unsplit dimension
    same("hessian", jax.jit(zymase.hessian(coll_loss, 1))(xc, wc), jax.jit(jax.hessian(coll_loss, 1))(xc, wc))

    # 4. a pipeline of two shard_maps, the second passing shards around a ring in a loop
    ring = [(i, (i + 1) % 4) for i in range(4)]
    def ring_pass(w, x):
        def step(i, c):
            acc, blk = c
            blk = lax.ppermute(blk, "data", ring)
            return acc + jnp.tanh(blk * w) * (i + 1), blk
        acc, _ = lax.fori_loop(0, 3, step, (jnp.zeros_like(x), x))
        return lax.psum(jnp.sum(acc ** 2), "data")
    def pipe(w, x):
        s1 = shard_map(lambda w, x: jnp.sin(x * w), mesh=mesh, in_specs=(P(), P("data")), out_specs=P("data"))
        s2 = shard_map(ring_pass, mesh=mesh, in_specs=(P(), P("data")), out_specs=P())
        return s2(w, s1(w, x))
    check("pipeline", pipe, (put(rs.randn(4), P()), put(rs.randn(16, 4), P("data"))), (0, 1), jvp=False)

    # 5. a shard_map manual over "data" only: jax writes axis_index as a nested manual
    # computation over "model" reading constants of the outer region; psum of a tuple
    def partial_manual(x):
        def body(x):
            a, b = lax.psum((jnp.sin(x), x * 2), "data")
            g = lax.all_gather(x, "data")
            return (jnp.sum(a * b) * (lax.axis_index("data") + 1) + jnp.sum(g ** 2))[None]
        return jnp.sum(shard_map(body, mesh=mesh, in_specs=P("data"), out_specs=P("data"), axis_names={"data"}, check_vma=False)(x))
    check("partial manual", partial_manual, (put(rs.randn(16, 4), P("data")),), 0, jvp=False)

    # 6. a mesh whose devices are not in jax.devices() order: jax's module names logical
    # devices only, their order is jax's device assignment, which zymase keeps
    # (zymase.device_assignment); outputs on the same devices in the same order as jax's
    pmesh = Mesh(np.array(jax.devices())[[3, 1, 0, 2, 7, 5, 4, 6]].reshape(4, 2), ("data", "model"))
    assert not NamedSharding(pmesh, P("data")).is_equivalent_to(NamedSharding(mesh, P("data")), 2)
    pput = lambda a, spec: jax.device_put(a, NamedSharding(pmesh, spec))
    @partial(shard_map, mesh=pmesh, in_specs=(P("data", "model"), P("model")), out_specs=P("data", "model"))
    def pcoll(x, w):
        x = jnp.sin(x) * w
        return lax.psum(x, "model") + lax.ppermute(x, "data", perm=ring)
    def ploss(x, w):
        return jnp.sum(lax.with_sharding_constraint(jnp.tanh(pcoll(x, w)), NamedSharding(pmesh, P(None, "model"))) ** 2)
    pargs = (pput(rs.randn(8, 4), P("data")), pput(rs.randn(4), P()))
    check("permuted mesh", ploss, pargs, (0, 1))
    same("permuted mesh jit", zymase.jit(pcoll)(*pargs), jax.jit(pcoll)(*pargs))
    same("permuted mesh jvp", zymase.jvp(ploss, pargs, pargs), jax.jvp(ploss, pargs, pargs))
    assert "zymase.device_assignment = array<i64: 3, 1, 0, 2, 7, 5, 4, 6>" in zymase.grad(ploss).lower(*pargs).as_text()

    # 7. unsupported: pmax has no derivative (one line naming the op)
    def pmax_loss(x):
        return jnp.sum(shard_map(lambda x: lax.pmax(x, "data"), mesh=mesh, in_specs=P("data"), out_specs=P())(x))
    try:
        zymase.grad(pmax_loss)(xs)
    except Exception as e:
        message = str(e).splitlines()[0]
        assert "stablehlo.all_reduce" in message, message
    else:
        raise AssertionError("pmax was differentiated")
    print("SHARDING-OK", round(time.perf_counter() - T0, 1))
    """
)


def test_sharded_programs_on_eight_host_devices() -> None:
    env = dict(os.environ, XLA_FLAGS=(os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8").strip(), JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "SHARDING-OK" in proc.stdout
