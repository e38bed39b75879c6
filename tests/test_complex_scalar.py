"""The complex dialect on complex scalars (backend/complex_ops.py, ad/rules/complex_scalar.py):
values and derivatives against jax's own (jax.jvp / jax.vjp of the same function written
with jax.numpy, complex128), which fixes the convention: a cotangent pairs with a tangent
as Re(ct t), without conjugation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zymase.loader import load_mlir

pytestmark = pytest.mark.usefixtures("x64")

TEXT = """
func.func @f(%z: complex<f64>, %w: complex<f64>) -> complex<f64> {
  %a = complex.mul %z, %w : complex<f64>
  %b = complex.rsqrt %a : complex<f64>
  %c = complex.exp %z : complex<f64>
  %d = complex.div %b, %c : complex<f64>
  %e = complex.sin %w : complex<f64>
  %g = complex.sub %d, %e : complex<f64>
  %h = complex.conj %g : complex<f64>
  %k = complex.add %h, %a : complex<f64>
  return %k : complex<f64>
}
func.func @parts(%z: complex<f64>, %t: f64) -> (f64, f64) {
  %r = complex.re %z : complex<f64>
  %i = complex.im %z : complex<f64>
  %m = arith.mulf %r, %t : f64
  %c = complex.create %m, %i : complex<f64>
  %s = complex.mul %c, %c : complex<f64>
  %sr = complex.re %s : complex<f64>
  %si = complex.im %s : complex<f64>
  return %sr, %si : f64, f64
}
func.func @df(%z: complex<f64>, %dz: complex<f64>, %w: complex<f64>, %dw: complex<f64>) -> complex<f64> {
  %r = enzyme.fwddiff @f(%z, %dz, %w, %dw) {activity = [#enzyme<activity enzyme_dup>, #enzyme<activity enzyme_dup>], ret_activity = [#enzyme<activity enzyme_dupnoneed>]} : (complex<f64>, complex<f64>, complex<f64>, complex<f64>) -> complex<f64>
  return %r : complex<f64>
}
func.func @gf(%z: complex<f64>, %w: complex<f64>, %s: complex<f64>) -> (complex<f64>, complex<f64>) {
  %g:2 = enzyme.autodiff @f(%z, %w, %s) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>]} : (complex<f64>, complex<f64>, complex<f64>) -> (complex<f64>, complex<f64>)
  return %g#0, %g#1 : complex<f64>, complex<f64>
}
func.func @gparts(%z: complex<f64>, %t: f64, %s1: f64, %s2: f64) -> (complex<f64>, f64) {
  %g:2 = enzyme.autodiff @parts(%z, %t, %s1, %s2) {activity = [#enzyme<activity enzyme_active>, #enzyme<activity enzyme_active>], ret_activity = [#enzyme<activity enzyme_activenoneed>, #enzyme<activity enzyme_activenoneed>]} : (complex<f64>, f64, f64, f64) -> (complex<f64>, f64)
  return %g#0, %g#1 : complex<f64>, f64
}
"""


def f_jax(z, w):
    a = z * w
    return jnp.conj(jax.lax.rsqrt(a) / jnp.exp(z) - jnp.sin(w)) + a


def parts_jax(z, t):
    c = jax.lax.complex(jnp.real(z) * t, jnp.imag(z))
    s = c * c
    return jnp.real(s), jnp.imag(s)


Z, W = 0.7 + 0.4j, 1.1 - 0.3j


def test_values():
    mod = load_mlir(TEXT)
    assert complex(mod.f(Z, W)) == pytest.approx(complex(f_jax(Z, W)), rel=1e-12)


def test_forward_against_jax_jvp():
    mod = load_mlir(TEXT)
    dz, dw = 0.3 - 0.8j, -0.5 + 0.2j
    _, want = jax.jvp(f_jax, (jnp.complex128(Z), jnp.complex128(W)), (jnp.complex128(dz), jnp.complex128(dw)))
    assert complex(mod.df(Z, dz, W, dw)) == pytest.approx(complex(want), rel=1e-10)


def test_reverse_against_jax_vjp():
    mod = load_mlir(TEXT)
    s = 0.6 + 0.9j
    _, vjp = jax.vjp(f_jax, jnp.complex128(Z), jnp.complex128(W))
    want = vjp(jnp.complex128(s))
    got = mod.gf(Z, W, s)
    for g, w in zip(got, want):
        assert complex(g) == pytest.approx(complex(w), rel=1e-10)


def test_parts_against_jax_vjp():
    mod = load_mlir(TEXT)
    t, s1, s2 = 1.3, 0.4, -0.7
    _, vjp = jax.vjp(parts_jax, jnp.complex128(Z), jnp.float64(t))
    wz, wt = vjp((jnp.float64(s1), jnp.float64(s2)))
    gz, gt = mod.gparts(Z, t, s1, s2)
    assert complex(gz) == pytest.approx(complex(wz), rel=1e-12)
    assert float(gt) == pytest.approx(float(wt), rel=1e-12)
