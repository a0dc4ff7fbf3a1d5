"""Complex numbers (issue 21): dtypes and promotion, the complex primitives eagerly and under jit
(C `_Complex`, csrc/jl_complex.h) against the eager interpreter and NumPy, autodiff the JAX way
(holomorphic, real-valued functions of complex inputs, JAX's errors) by finite differences and
against JAX, vmap against a loop, and the x64-off narrowing."""

import warnings

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.test_util import check_grads

jax = pytest.importorskip("jax")
jxn = jax.numpy

RNG = np.random.default_rng(0)
Z = (RNG.normal(size=6) + 1j * RNG.normal(size=6)) * 0.8
W = (RNG.normal(size=6) + 1j * RNG.normal(size=6)) * 0.8
# inf/nan/zero in each part: C's functions must agree with the eager (NumPy) ones there too
SPECIAL = np.array([0, 1 + 1j, -1.5 + 0.5j, complex(np.inf, 0), complex(np.nan, 1),
                    complex(0, np.inf), complex(-np.inf, 2), 1e30 - 1e30j, -0.0 + 0j])  # fmt: skip

UNARY = ("exp log sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh sqrt rsqrt exp2 "
         "expm1 log1p logistic sign abs neg real imag conj").split()  # fmt: skip


def _binary(x, y):
    return (x * y, x / y, x + y, x - y, x**y, x == y, x != y, lax.integer_pow(x, 3),
            lax.integer_pow(x, -2), lax.complex(lax.real(x), lax.imag(y)))  # fmt: skip


def _unary(x):
    return tuple(getattr(lax, n)(x) for n in UNARY)


@pytest.mark.parametrize("dt", [np.complex64, np.complex128])
def test_jit_matches_eager_on_every_complex_primitive(dt):
    for f, args in ((_unary, (Z,)), (_unary, (SPECIAL,)), (_binary, (Z, W))):
        args = [jnp.asarray(a.astype(dt)) for a in args]
        eager, compiled = f(*args), jaxlite.jit(f)(*args)
        for k, (e, c) in enumerate(zip(eager, compiled)):
            assert e.dtype == c.dtype, (f.__name__, k)
            tol = 2e-5 if dt == np.complex64 else 1e-12
            np.testing.assert_allclose(np.asarray(c), np.asarray(e), rtol=tol, atol=tol,
                                       err_msg=f"{f.__name__} output {k}")  # fmt: skip


def test_eager_matches_jax_on_finite_values():
    x = jnp.asarray(Z.astype(np.complex64))
    want = jax.jit(lambda x: tuple(getattr(jax.lax, n)(x) for n in UNARY))(Z.astype(np.complex64))
    for n, b in zip(UNARY, want):
        a = getattr(lax, n)(x)
        assert a.dtype == b.dtype, n
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=3e-5, atol=3e-6, err_msg=n)


def test_dtypes_and_weak_complex():
    x = jnp.zeros(3, jnp.float32)
    assert (x + 1j).dtype == np.complex64 and not (x + 1j).weak_type
    assert jnp.asarray(1j).weak_type and jnp.asarray(1j).dtype == np.complex128
    assert (jnp.zeros(3, jnp.complex64) + 1.5).dtype == np.complex64
    assert (jnp.zeros(3, jnp.float64) + jnp.zeros(3, jnp.complex64)).dtype == np.complex128
    assert jnp.promote_types(jnp.float64, jnp.complex64) == np.complex128
    assert lax.abs(jnp.ones(2, jnp.complex64)).dtype == np.float32
    assert jnp.iscomplexobj(jnp.ones(2, jnp.complex64)) and not jnp.iscomplexobj(x)


def test_x64_off_narrows_complex128():
    with jaxlite.enable_x64(False):
        assert jnp.asarray(1j).dtype == np.complex64
        assert (jnp.zeros(2) + 1j).dtype == np.complex64
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            assert jnp.zeros(2, jnp.complex128).dtype == np.complex64
        assert any("complex128" in str(m.message) for m in w)
        assert jaxlite.jit(lambda z: z * z)(np.ones(2, np.complex128)).dtype == np.complex64


def test_lax_errors_as_jax():
    z = jnp.ones(2, jnp.complex64)
    for f in (lax.lt, lax.max, lax.rem, lax.atan2):
        with pytest.raises(TypeError):
            f(z, z)
    with pytest.raises(TypeError):
        lax.add(jnp.ones(2, jnp.float32), 1j)  # lax does not promote
    with pytest.raises(TypeError, match="complex"):
        jaxlite.jit(lax.floor)(z)
    with pytest.raises(TypeError):
        lax.real(jnp.ones(2))


def test_jnp_lexicographic_order():
    a, b = np.array([1 + 2j, 1 + 2j, 3 - 1j]), np.array([1 + 3j, 0 + 9j, 3 - 1j])
    for n in ("less", "less_equal", "greater", "maximum", "minimum"):
        got = getattr(jnp, n)(a, b)
        want = getattr(jxn, n)(a, b)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=n)


# --- autodiff --------------------------------------------------------------------------------

HOLOMORPHIC = {
    "poly": lambda z: z * z * 3.0 + z * (1 - 2j),
    "exp_sin": lambda z: jnp.exp(z) * jnp.sin(z),
    "div_log": lambda z: jnp.log(z + 3.0) / (z + 2j),
    "tanh_sqrt": lambda z: jnp.tanh(z) + jnp.sqrt(z + 4.0),
    "pow": lambda z: (z + 2.0) ** (0.5 + 0.25j),
}
REAL_VALUED = {
    "abs2": lambda z: jnp.sum(jnp.abs(z) ** 2),
    "angle": lambda z: jnp.sum(jnp.angle(z + 3.0)),
    "real_imag": lambda z: jnp.sum(jnp.real(jnp.exp(z)) * jnp.imag(z * z)),
    "conj": lambda z: jnp.sum(jnp.real(jnp.conj(z) * z * (1 + 1j))),
    "abs_log": lambda z: jnp.sum(jnp.abs(jnp.log(z + 3.0))),
}
Z128 = jnp.asarray(Z[:3])


@pytest.mark.parametrize("name", sorted(HOLOMORPHIC))
def test_check_grads_holomorphic(name):
    check_grads(HOLOMORPHIC[name], (Z128,), order=2)


@pytest.mark.parametrize("name", sorted(REAL_VALUED))
def test_check_grads_real_valued(name):
    check_grads(REAL_VALUED[name], (Z128,), order=2)


def _jax_version(f):
    """The same function written with jax.numpy (the lambdas above use `jnp`)."""
    import types

    g = types.FunctionType(f.__code__, {**f.__globals__, "jnp": jxn})
    return g


@pytest.mark.parametrize("name", ["abs2", "angle", "real_imag"])
def test_grad_of_real_valued_matches_jax(name):
    f = REAL_VALUED[name]
    with jax.enable_x64(True):
        want = jax.grad(_jax_version(f))(jxn.asarray(Z[:3]))
    np.testing.assert_allclose(np.asarray(jaxlite.grad(f)(Z128)), np.asarray(want), rtol=1e-10)


@pytest.mark.parametrize("name", ["poly", "exp_sin", "pow"])
def test_holomorphic_grad_and_jacobians_match_jax(name):
    f = HOLOMORPHIC[name]
    fj = _jax_version(f)
    with jax.enable_x64(True):
        z = jxn.asarray(Z[:3])
        want_g = jax.grad(lambda z: jxn.sum(fj(z)), holomorphic=True)(z)
        want_jf = jax.jacfwd(fj, holomorphic=True)(z)
        want_jr = jax.jacrev(fj, holomorphic=True)(z)
    got_g = jaxlite.grad(lambda z: jnp.sum(f(z)), holomorphic=True)(Z128)
    np.testing.assert_allclose(np.asarray(got_g), np.asarray(want_g), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(jaxlite.jacfwd(f, holomorphic=True)(Z128)),
                               np.asarray(want_jf), rtol=1e-10)  # fmt: skip
    np.testing.assert_allclose(np.asarray(jaxlite.jacrev(f, holomorphic=True)(Z128)),
                               np.asarray(want_jr), rtol=1e-10)  # fmt: skip


def test_grad_under_jit_and_vmap():
    f = REAL_VALUED["real_imag"]
    g = jaxlite.grad(f)(Z128)
    np.testing.assert_allclose(np.asarray(jaxlite.jit(jaxlite.grad(f))(Z128)), np.asarray(g))
    batch = jnp.stack([Z128, Z128 * 2])
    got = jaxlite.vmap(jaxlite.grad(f))(batch)
    np.testing.assert_allclose(np.asarray(got[1]), np.asarray(jaxlite.grad(f)(Z128 * 2)))


def test_vmap_matches_loop():
    f = lambda z, w: lax.complex(lax.real(z), lax.imag(w)) * lax.conj(w) + jnp.abs(z)  # noqa: E731
    zs, ws = np.stack([Z, W]), np.stack([W, Z])
    got = jaxlite.vmap(f)(zs, ws)
    for i in range(2):
        np.testing.assert_allclose(np.asarray(got[i]), np.asarray(f(zs[i], ws[i])))


def test_autodiff_errors_as_jax():
    z = Z[:3]
    for lib, ln in ((jaxlite, jnp), (jax, jxn)):
        with pytest.raises(TypeError, match="holomorphic"):
            lib.grad(lambda z, ln=ln: ln.sum(z * z))(z)  # complex output without holomorphic
        with pytest.raises(TypeError, match="complex"):
            lib.grad(lambda z, ln=ln: ln.sum(z * z), holomorphic=True)(np.ones(3))  # real input
        with pytest.raises(TypeError, match="holomorphic"):
            lib.jacfwd(lambda z: z * z)(z)  # complex input without holomorphic
        with pytest.raises(TypeError, match="complex"):
            lib.jacrev(lambda z, ln=ln: ln.abs(z), holomorphic=True)(z)  # real output


def test_reductions_and_dot_in_c():
    def f(z, w):
        return (
            jnp.sum(z * w),
            jnp.prod(z),
            jnp.dot(z, w),
            jnp.vdot(z, w),
            jnp.cumsum(z),
            jnp.mean(z),
        )

    for dt in (np.complex64, np.complex128):
        z, w = jnp.asarray(Z.astype(dt)), jnp.asarray(W.astype(dt))
        for e, c, ref in zip(f(z, w), jaxlite.jit(f)(z, w), f(Z, W)):
            assert e.dtype == c.dtype == dt
            np.testing.assert_allclose(np.asarray(c), np.asarray(e), rtol=1e-5)
            np.testing.assert_allclose(np.asarray(c), np.asarray(ref), rtol=1e-5)


@pytest.mark.parametrize("dt", ["complex64", "complex128"])
def test_random_normal_complex_matches_jax(dt):
    with jax.enable_x64(True), jaxlite.enable_x64(True):
        want = np.asarray(jax.random.normal(jax.random.key(3), (40,), dt))
        got = jaxlite.random.normal(jaxlite.random.key(3), (40,), dt)
        jitted = jaxlite.jit(lambda k: jaxlite.random.normal(k, (40,), dt))(jaxlite.random.key(3))
    assert got.dtype == want.dtype == jitted.dtype
    # a few ulp apart: the division by sqrt(2) (XLA divides complex by complex) and, in float64,
    # erf_inv (jaxlite refines Giles' approximation by Newton steps)
    tol = 4e-7 if dt == "complex64" else 1e-14
    np.testing.assert_allclose(np.asarray(got), want, rtol=tol, atol=tol)
    np.testing.assert_allclose(np.asarray(jitted), want, rtol=tol, atol=tol)
