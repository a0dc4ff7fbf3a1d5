"""jaxlite.scipy.signal's FFT convolution (fftconvolve, convolve/correlate with method='fft')
and detrend: against SciPy and JAX (values, dtypes, x64 on and off), grads by finite differences,
jit against eager, vmap against a loop, bad input.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
from jaxlite.scipy import signal
from jaxlite.test_util import check_grads

ss = pytest.importorskip("scipy.signal")
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jss = jax.scipy.signal

SHAPES = [((7,), (3,)), ((3,), (7,)), ((5, 4), (2, 3)), ((2, 3), (5, 4)), ((3, 4, 2), (2, 2, 2))]


def _close(a, b, tol=1e-10):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_fftconvolve_matches_scipy_and_jax(shapes, mode):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    got = signal.fftconvolve(a, b, mode)
    assert got.dtype == np.float64
    _close(got, jss.fftconvolve(a, b, mode))
    if mode != "same" or all(x >= y for x, y in zip(*shapes)):  # (SciPy centers on in1 too)
        _close(got, ss.fftconvolve(a, b, mode))
    _close(got, signal.convolve(a, b, mode))  # the direct method
    _close(signal.convolve(a, b, mode, method="fft"), got)
    _close(signal.correlate(a, b, mode, method="fft"), jss.correlate(a, b, mode, method="fft"))


def test_fftconvolve_axes_complex_and_products():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 9)), rng.standard_normal((3, 4))
    _close(signal.fftconvolve(a, b, axes=1), ss.fftconvolve(a, b, axes=1))
    _close(signal.fftconvolve(a, b, "valid", axes=[-1]), ss.fftconvolve(a, b, "valid", axes=-1))
    c = a + 1j * rng.standard_normal(a.shape)
    got = signal.fftconvolve(c, b, "same", axes=-1)
    assert got.dtype == np.complex128
    _close(got, ss.fftconvolve(c, b, "same", axes=-1))
    # every dimension of size 1 in one input: a product, as JAX
    x, y = rng.standard_normal((4, 1)), rng.standard_normal((1, 3))
    _close(signal.fftconvolve(x, y), jss.fftconvolve(x, y))


def test_dtypes_x64_off_and_integers():
    with jaxlite.enable_x64(False):
        out = signal.fftconvolve(np.arange(5), np.ones(3, np.int32))
        assert out.dtype == np.float32
        _close(out, np.convolve(np.arange(5), np.ones(3)), 1e-5)
        c = signal.fftconvolve(np.ones(4, np.complex64), np.ones(2, np.float32), "same")
        assert c.dtype == np.complex64
        assert signal.detrend(np.arange(6)).dtype == np.float32
        assert signal.detrend(np.arange(6.0, dtype=np.float32), type="constant").dtype == (
            np.float32
        )
    assert signal.fftconvolve(np.ones(3, np.float32), np.ones(2, np.float32)).dtype == np.float32


def test_fftconvolve_grads_jit_and_vmap():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((6,)), rng.standard_normal((3,))
    check_grads(lambda a, b: signal.fftconvolve(a, b, "same"), (a, b), order=2,
                modes=("fwd", "rev"))  # fmt: skip
    check_grads(lambda a, b: signal.fftconvolve(b, a, "valid"), (a, b), order=1, modes=("rev",))
    f = jaxlite.jit(lambda a, b: signal.fftconvolve(a, b, "same"))
    _close(f(a, b), signal.fftconvolve(a, b, "same"))
    A = rng.standard_normal((3, 6))
    _close(jaxlite.vmap(lambda a: signal.fftconvolve(a, b))(A),
           np.stack([signal.fftconvolve(x, b) for x in A]))  # fmt: skip


@pytest.mark.parametrize(
    "kw", [{}, {"type": "constant"}, {"bp": [3, 7]}, {"axis": 0}, {"axis": 0, "bp": 2}], ids=str
)
def test_detrend_matches_scipy_and_jax(kw):
    x = np.random.default_rng(3).standard_normal((4, 10))
    _close(signal.detrend(x, **kw), ss.detrend(x, **kw))
    if kw == {"bp": [3, 7]}:  # (JAX's is compared on every case by the oracle)
        _close(signal.detrend(x, **kw), jss.detrend(x, **kw))


def test_detrend_grads_jit_vmap():
    x = np.random.default_rng(4).standard_normal((3, 8))
    check_grads(lambda x: signal.detrend(x, bp=[4]), (x,), order=2, modes=("fwd", "rev"))
    f = jaxlite.jit(lambda x: signal.detrend(x, axis=0))
    _close(f(x), ss.detrend(x, axis=0))
    _close(jaxlite.vmap(signal.detrend)(x), ss.detrend(x))
    _close(signal.detrend(np.array([2.0, 5.0, 1.0]), bp=[2]), ss.detrend([2.0, 5.0, 1.0], bp=[2]))


def test_bad_input():
    with pytest.raises(ValueError, match="fftconvolve.*same dimensionality"):
        signal.fftconvolve(np.ones(3), np.ones((2, 2)))
    with pytest.raises(ValueError, match="fftconvolve: mode"):
        signal.fftconvolve(np.ones(3), np.ones(2), "wrong")
    with pytest.raises(ValueError, match="fftconvolve.*'valid'"):
        signal.fftconvolve(np.ones((4, 2)), np.ones((2, 4)), "valid")
    with pytest.raises(ValueError, match="fftconvolve: mapped axes"):
        signal.fftconvolve(np.ones((3, 4)), np.ones((2, 4)), axes=1)
    with pytest.raises(ValueError, match="convolve: got method='magic'"):
        signal.convolve(np.ones(3), np.ones(2), method="magic")
    with pytest.raises(ValueError, match="detrend: trend type"):
        signal.detrend(np.ones(4), type="quadratic")
    with pytest.raises(ValueError, match="detrend: breakpoints"):
        signal.detrend(np.ones(4), bp=[7])
    with pytest.raises(NotImplementedError, match="overwrite_data"):
        signal.detrend(np.ones(4), overwrite_data=True)
