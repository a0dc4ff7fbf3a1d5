"""lax.fft and jnp.fft (issue 21): the C transforms (csrc/jl_fft.h: Stockham radices 4, 2 and small
odd ones, Bluestein for other lengths) against NumPy's pocketfft over lengths of every kind, the
rules (linear JVP, JAX's transposes, batching) by finite differences, against JAX and a loop, and
the jnp.fft functions' arguments (n, axes, norm) against JAX."""

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.test_util import check_grads

RNG = np.random.default_rng(0)
# powers of 2 and 4, small primes and their products, Bluestein lengths (a factor above 13)
LENGTHS = (1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 17, 30, 34, 64, 97, 105, 128, 143, 1000, 1024, 2053)


def _complex(shape, dt):
    return (RNG.normal(size=shape) + 1j * RNG.normal(size=shape)).astype(dt)


def _rel_err(got, want):
    return np.max(np.abs(np.asarray(got) - want)) / max(np.max(np.abs(want)), 1)


@pytest.mark.parametrize("dt", [np.complex64, np.complex128])
def test_c_transforms_match_pocketfft_for_every_kind_of_length(dt):
    tol = 2e-6 * 8 if dt == np.complex64 else 1e-13
    real = np.float32 if dt == np.complex64 else np.float64
    xs = {n: _complex((2, n), dt) for n in LENGTHS}
    rs = {n: xs[n].real.astype(real) for n in LENGTHS}
    hs = {n: np.fft.rfft(rs[n]).astype(dt) for n in LENGTHS}

    def all_transforms(xs, rs, hs):  # one kernel for every length and kind
        out = {}
        for n in LENGTHS:
            out[n] = (lax.fft(xs[n], "FFT", (n,)), lax.fft(xs[n], "IFFT", (n,)),
                      lax.fft(rs[n], "RFFT", (n,)), lax.fft(hs[n], "IRFFT", (n,)))  # fmt: skip
        return out

    got = jaxlite.jit(all_transforms)(xs, rs, hs)
    for n in LENGTHS:
        want = (np.fft.fft(xs[n]), np.fft.ifft(xs[n]), np.fft.rfft(rs[n]), np.fft.irfft(hs[n], n))
        for kind, g, w in zip(("FFT", "IFFT", "RFFT", "IRFFT"), got[n], want):
            assert g.dtype == (real if kind == "IRFFT" else dt)
            assert _rel_err(g, w) < tol, (n, kind, _rel_err(g, w))


def test_c_multidimensional_and_batched():
    x = _complex((2, 6, 10, 3), np.complex128)
    r, h = x.real, np.fft.rfftn(x.real, axes=(1, 2, 3))

    def f(x, r, h):
        return (lax.fft(x, "FFT", (6, 10, 3)), lax.fft(x, "IFFT", (10, 3)),
                lax.fft(r, "RFFT", (6, 10, 3)), lax.fft(h, "IRFFT", (6, 10, 3)))  # fmt: skip

    want = (np.fft.fftn(x, axes=(1, 2, 3)), np.fft.ifftn(x, axes=(2, 3)), h,
            np.fft.irfftn(h, (6, 10, 3), axes=(1, 2, 3)))  # fmt: skip
    for g, e, w in zip(jaxlite.jit(f)(x, r, h), f(x, r, h), want):
        np.testing.assert_allclose(np.asarray(g), w, atol=1e-12)
        np.testing.assert_allclose(np.asarray(e), w, atol=1e-12)


# strided-axis lengths: no pass (1), one pass (2..5), radix 4/2/odd mixes, Bluestein (17)
STRIDED = (1, 2, 3, 4, 5, 8, 12, 16, 17, 64, 105)


@pytest.mark.parametrize("dt", [np.complex64, np.complex128])
def test_c_strided_axes_in_place_blocks(dt):
    # axis 1 of (2, n, 17): two blocks of 8 columns transformed in place and one column alone
    tol = 2e-6 * 8 if dt == np.complex64 else 1e-13
    xs = {n: _complex((2, n, 17), dt) for n in STRIDED}
    rs = {n: _complex((3, n, 16), dt).real for n in STRIDED}

    def f(xs, rs):
        return {n: (lax.fft(xs[n], "FFT", (n, 17)), lax.fft(xs[n], "IFFT", (n, 17)),
                    lax.fft(rs[n], "RFFT", (n, 16)),
                    lax.fft(lax.fft(rs[n], "RFFT", (n, 16)), "IRFFT", (n, 16)))
                for n in STRIDED}  # fmt: skip

    got = jaxlite.jit(f)(xs, rs)
    for n in STRIDED:
        want = (np.fft.fft2(xs[n]), np.fft.ifft2(xs[n]), np.fft.rfft2(rs[n]), rs[n])
        for kind, g, w in zip(("FFT", "IFFT", "RFFT", "IRFFT"), got[n], want):
            assert _rel_err(g, w) < tol, (n, kind, _rel_err(g, w))


@pytest.mark.parametrize("kind,lengths", [("FFT", (10,)), ("IFFT", (6, 10)), ("RFFT", (6, 10)),
                                          ("RFFT", (9,)), ("IRFFT", (6, 10)), ("IRFFT", (9,))])  # fmt: skip
def test_check_grads(kind, lengths):
    x = _complex((2,) + lengths, np.complex128)
    if kind == "RFFT":
        x = x.real
    elif kind == "IRFFT":
        x = np.fft.rfftn(x.real, axes=range(1, len(lengths) + 1))
    check_grads(lambda a: lax.fft(a, kind, lengths), (x,), order=2)


def test_vmap_matches_loop():
    x = _complex((3, 4, 8), np.complex64)
    got = jaxlite.vmap(lambda a: jnp.fft.fft(a, axis=0), in_axes=1)(x)
    for i in range(4):
        np.testing.assert_allclose(np.asarray(got[i]), np.fft.fft(x[:, i], axis=0), rtol=1e-5)


def test_grad_through_rfft_and_irfft_matches_jax():
    jax = pytest.importorskip("jax")
    x = RNG.normal(size=(4, 10))
    h = np.fft.rfft(x)

    def loss(L, np_, a, b):
        spec = np_.fft.rfft(a)
        back = np_.fft.irfft(b * spec, n=10)
        return np_.sum(back**2 * np_.arange(10.0)) + np_.sum(np_.abs(spec))

    with jax.enable_x64(True):
        want = jax.grad(lambda a, b: loss(jax, jax.numpy, a, b), argnums=(0, 1))(x, h)
    got = jaxlite.grad(lambda a, b: loss(jaxlite, jnp, a, b), argnums=(0, 1))(x, h)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-10, atol=1e-12)


def test_errors():
    with pytest.raises(TypeError, match="complex"):
        lax.fft(np.ones(4), "FFT", (4,))
    with pytest.raises(TypeError, match="real"):
        lax.fft(np.ones(4, np.complex64), "RFFT", (4,))
    with pytest.raises(ValueError, match="fft_lengths"):
        lax.fft(np.ones(4, np.complex64), "FFT", (5,))
    with pytest.raises(TypeError, match="complex input"):
        jnp.fft.rfft(np.ones(4, np.complex64))
    with pytest.raises(ValueError, match="norm"):
        jnp.fft.fft(np.ones(4), norm="bad")
    with pytest.raises(ValueError, match="invalid number"):
        jnp.fft.fft(np.ones(4), n=0)


def test_jnp_fft_arguments_match_jax():
    jax = pytest.importorskip("jax")
    x = _complex((4, 6, 5), np.complex128)
    r = x.real
    cases = [("fft", (x,), dict(n=8, axis=1, norm="ortho")), ("ifft", (x,), dict(n=3, norm="forward")),
             ("irfft", (x,), dict(n=9, axis=0, norm="ortho")), ("hfft", (x,), dict(norm="forward", n=6)),
             ("ihfft", (r,), dict(norm="ortho")), ("rfft2", (r,), dict(axes=(0, 2))),
             ("ifftn", (x,), dict(axes=(0, 2), norm="forward")), ("irfftn", (x,), dict(s=(4, 6, 8))),
             ("fftn", (np.ones((2, 2, 2, 3, 2)),), {}), ("irfftn", (np.ones((2, 2, 2, 3, 2)),), {}),
             ("fftfreq", (7, 0.3), {}), ("rfftfreq", (8,), dict(dtype=jnp.float32)),
             ("fftshift", (r,), {}), ("ifftshift", (r,), dict(axes=1)), ("rfft", (np.arange(6),), {})]  # fmt: skip
    with jax.enable_x64(True):
        for name, args, kw in cases:
            a, b = getattr(jnp.fft, name)(*args, **kw), getattr(jax.numpy.fft, name)(*args, **kw)
            assert (a.dtype, a.shape) == (b.dtype, b.shape), name
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name} {kw}")  # fmt: skip


def test_x64_off():
    with jaxlite.enable_x64(False):
        y = jnp.fft.fft(np.ones(4))
        assert y.dtype == np.complex64
        assert jnp.fft.irfft(y[:3]).dtype == np.float32
        assert jaxlite.jit(jnp.fft.rfft)(np.arange(5.0)).dtype == np.complex64
