"""jaxlite.scipy.signal's spectral analysis (stft, istft, csd, welch) and its windows: against
JAX (values, dtypes, weak types, shapes, x64 on and off, errors) and SciPy (values, the windows
to 1e-12), jit against eager, vmap against a loop, grads by finite differences.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import jaxlite
from jaxlite import numpy as jnp
from jaxlite.scipy import _windows, signal
from jaxlite.test_util import check_grads

ss = pytest.importorskip("scipy.signal")
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jss = jax.scipy.signal

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 40))
Y = RNG.standard_normal((2, 40))


def _same(got, want, tol=1e-10):
    """Tuples of arrays with one shape, dtype and weak type each, values within `tol`."""
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape, (g.shape, w.shape)
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        assert bool(g.weak_type) == bool(w.weak_type)
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=tol, atol=tol)


def _jax(fn, *args, **kw):
    """JAX's `fn` under one jit (its eager ops would compile one by one: slower)."""
    return jax.jit(lambda *a: getattr(jss, fn)(*a, **kw))(*args)


def _close(got, want, tol=1e-10):
    for g, w in zip(got, want):
        assert np.shape(g) == np.shape(w), (np.shape(g), np.shape(w))
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=tol, atol=tol)


# ------------------------------------------------------------------------------------ windows

_PLAIN = [n for n, (_, takes) in zip(_windows.SUPPORTED, _windows._WINDOWS.values()) if not takes]
_WITH_PARAMS = [("gaussian", 1.3), ("general_cosine", [0.5, 0.3, 0.2]), ("general_hamming", 0.6),
                ("general_gaussian", 1.5, 2.0), ("kaiser", 8.6), ("tukey", 0.25), ("tukey", 0.0),
                ("tukey", 1.0), "tukey", "exponential", ("exponential", None, 2.0),
                ("exponential", 2.0, 1.5), "hann_symmetric", "bartlett_periodic", 4.0, "rect",
                "tri", "sinc", "han"]  # fmt: skip


@pytest.mark.parametrize("window", _PLAIN + _WITH_PARAMS, ids=str)
def test_windows_match_scipy(window):
    for n in (1, 2, 3, 4, 7, 10, 33):
        for fftbins in (True, False):
            try:
                want = ss.get_window(window, n, fftbins=fftbins)
            except ValueError:  # a symmetric exponential window with a center
                with pytest.raises(ValueError):
                    _windows.get_window(window, n, fftbins)
                continue
            got = _windows.get_window(window, n, fftbins)
            assert got.dtype == np.float64 and got.shape == (n,)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_window_errors():
    with pytest.raises(ValueError, match="supported: .*hann"):
        _windows.get_window("hanning", 8)
    with pytest.raises(NotImplementedError, match="dpss"):
        _windows.get_window(("dpss", 3.0), 8)
    with pytest.raises(ValueError, match="needs parameters"):
        _windows.get_window("kaiser", 8)
    with pytest.raises(ValueError, match="takes no parameters"):
        _windows.get_window(("hann", 2), 8)
    with pytest.raises(ValueError, match="positive integer"):
        _windows.get_window("hann", 0)
    with pytest.raises(ValueError, match="must start with a name"):
        _windows.get_window((3, "hann"), 8)


# ------------------------------------------------------------------------- values against JAX

_STFT_CASES = [
    dict(nperseg=16),
    dict(nperseg=16, noverlap=15, window="hamming"),  # one gather (a hop under a quarter)
    dict(nperseg=15, nfft=20, detrend="linear", boundary="even", window=("kaiser", 5.0)),
    dict(nperseg=8, noverlap=2, boundary="odd", padded=False, fs=3.0),
    dict(nperseg=8, boundary=None, return_onesided=False, detrend="constant"),
    dict(nperseg=9, boundary="constant", window=("tukey", 0.3), axis=0),
]


@pytest.mark.parametrize("kw", _STFT_CASES, ids=str)
def test_stft_matches_jax_and_scipy(kw):
    x = X.T if kw.get("axis") == 0 else X
    got = signal.stft(x, **kw)
    _same(got, _jax("stft", x, **kw))
    _close(got, ss.stft(x, **kw))


_WELCH_CASES = [
    dict(),  # nperseg=None: the whole signal, one segment (as JAX; SciPy's default is 256)
    dict(nperseg=16, average="median", window="blackman"),
    dict(nperseg=10, noverlap=9, scaling="spectrum", detrend="linear"),
    dict(nperseg=9, nfft=12, return_onesided=False, detrend=False, fs=100.0),
    dict(nperseg=16, axis=0, window=np.hanning(16)),  # an array window
]


@pytest.mark.parametrize("kw", _WELCH_CASES, ids=lambda kw: str(sorted(kw)))
def test_welch_and_csd_match_jax_and_scipy(kw):
    x, y = (X.T, Y.T) if kw.get("axis") == 0 else (X, Y)
    got = signal.welch(x, **kw)
    _same(got, _jax("welch", x, **kw))
    got_xy = signal.csd(x, y, **kw)
    _same(got_xy, _jax("csd", x, y, **kw))
    if "nperseg" in kw:
        _close(got, ss.welch(x, **kw))
        _close(got_xy, ss.csd(x, y, **kw))


def test_csd_broadcasts_and_pads_to_the_longer_signal():
    x, y = X[:1], RNG.standard_normal((3, 33))
    got = signal.csd(x, y, nperseg=8)
    _same(got, _jax("csd", x, y, nperseg=8))
    _close(got, ss.csd(np.broadcast_to(x, (3, 40)), y, nperseg=8))  # (SciPy pads, then fails)
    _same(signal.csd(X, None, nperseg=8), _jax("csd", X, None, nperseg=8))  # x's own, complex


@pytest.mark.parametrize("kw", [dict(nperseg=16), dict(nperseg=16, noverlap=13, window="hamming"),
                                dict(nperseg=12, nfft=16, noverlap=11, window=("tukey", 0.5))],
                         ids=str)  # fmt: skip
def test_istft_inverts_stft_and_matches_jax(kw):
    z = signal.stft(X, **kw)[2]
    got = signal.istft(z, **kw)
    _same(got, _jax("istft", np.asarray(z), **kw))
    _close(got, ss.istft(np.asarray(z), **kw))
    np.testing.assert_allclose(got[1][:, :40], X, atol=1e-12)


def test_istft_two_sided_and_axes():
    xc = X + 1j * Y
    with pytest.warns(UserWarning, match="complex"):
        z = signal.stft(xc, nperseg=8)[2]  # complex input: two-sided
    zt = np.moveaxis(np.asarray(z), -1, 0)  # (time, batch, freq)
    kw = dict(nperseg=8, input_onesided=False, time_axis=0, freq_axis=-1)
    got = signal.istft(zt, **kw)
    _same(got, _jax("istft", zt, **kw))
    # x keeps Zxx's time axis in place; t counts x.shape[0] samples (SciPy's and JAX's t)
    np.testing.assert_allclose(np.moveaxis(np.asarray(got[1]), 0, -1)[:, :40], xc, atol=1e-12)


def test_x64_off_dtypes_match_jax():
    x32 = X.astype(np.float32)
    with jax.enable_x64(False), jaxlite.enable_x64(False):
        for x in (x32, (x32 * 4).astype(np.int32)):
            f, t, z = signal.stft(x, nperseg=8)
            assert (f.dtype, t.dtype, z.dtype) == (np.float32, np.float32, np.complex64)
            _same((f, t, z), _jax("stft", x, nperseg=8), tol=1e-5)
            _same(signal.welch(x, nperseg=8, average="median"),
                  _jax("welch", x, nperseg=8, average="median"), tol=1e-5)  # fmt: skip
            _same(signal.csd(x, x[::-1], nperseg=8), _jax("csd", x, x[::-1], nperseg=8), tol=1e-5)
            _same(signal.istft(z, nperseg=8), _jax("istft", np.asarray(z), nperseg=8), tol=1e-5)
    with jax.enable_x64(True), jaxlite.enable_x64(True):  # integers: float64 and complex128
        f, t, z = signal.stft((X * 4).astype(np.int64), nperseg=8)
        assert (f.dtype, t.dtype, z.dtype) == (np.float64, np.float64, np.complex128)


def test_nperseg_clipped_to_the_signal_and_empty_input():
    with pytest.warns(UserWarning, match="nperseg=256 is greater than"):
        got = signal.stft(X[0, :20])
    with pytest.warns(UserWarning):
        _same(got, _jax("stft", X[0, :20]))
    for shape in ((0,), (3, 0)):
        with pytest.warns(UserWarning, match="input_length=0"):  # both clip 256 to 0
            _same(signal.stft(np.zeros(shape)), _jax("stft", np.zeros(shape)))
        _same(signal.welch(np.zeros(shape)), _jax("welch", np.zeros(shape)))
    e, y = np.zeros((3, 0)), np.ones((1, 5))
    _close(signal.csd(e, y), ss.csd(e, y))  # SciPy's shapes (JAX's are (1, 3) and (1,))


# --------------------------------------------- SciPy's semantics where JAX 0.10.2 slips


def test_callable_detrend_gets_segments_on_the_last_axis():
    def remove_mean(d):
        return d - jnp.mean(d, axis=-1, keepdims=True)

    for x, axis in ((X, -1), (X.T, 0)):
        got = signal.welch(x, nperseg=8, detrend=remove_mean, axis=axis)
        _close(got, signal.welch(x, nperseg=8, detrend="constant", axis=axis))
        _close(got, ss.welch(x, nperseg=8, detrend=remove_mean, axis=axis))


def test_istft_noverlap_zero_and_odd_nperseg_as_scipy():
    z = ss.stft(X[0], nperseg=8, noverlap=0, window="boxcar")[2]
    got = signal.istft(z, nperseg=8, noverlap=0, window="boxcar")  # JAX: noverlap=4
    _close(got, ss.istft(z, nperseg=8, noverlap=0, window="boxcar"))
    z = ss.stft(X[0], nperseg=7)[2]
    _close(signal.istft(z, nperseg=7), ss.istft(z, nperseg=7))  # JAX: a shape error
    z = RNG.standard_normal((3, 1)) + 1j  # one segment of 3 (JAX keeps 2 samples)
    kw = dict(input_onesided=False, boundary=False, window="boxcar")
    _close(signal.istft(z, **kw), ss.istft(z, **kw))


# ------------------------------------------------------------------------ transformations


def test_jit_matches_eager():
    def f(x, fs):
        return signal.stft(x, fs=fs, nperseg=8)[2], signal.welch(x, fs=fs, nperseg=8)[1]

    _close(jaxlite.jit(f)(X, 3.0), f(X, 3.0), tol=1e-12)
    z = np.asarray(signal.stft(X, nperseg=8, noverlap=7)[2])  # gather and scatter-add
    g = jaxlite.jit(lambda z: signal.istft(z, nperseg=8, noverlap=7)[1])
    np.testing.assert_allclose(g(z), signal.istft(z, nperseg=8, noverlap=7)[1], atol=1e-12)


def test_vmap_matches_a_loop():
    def f(x):
        return signal.csd(x, x**2, nperseg=8, average="median")[1]

    _close([jaxlite.vmap(f)(X)], [np.stack([f(r) for r in X])], tol=1e-12)
    z = np.asarray(signal.stft(X, nperseg=8)[2])
    g = lambda z: signal.istft(z, nperseg=8)[1]  # noqa: E731
    _close([jaxlite.vmap(g)(z)], [np.stack([g(r) for r in z])], tol=1e-12)


def test_grads_by_finite_differences():
    x = X[0, :12]
    check_grads(lambda x: jnp.sum(jnp.abs(signal.stft(x, nperseg=8)[2]) ** 2), (x,), order=2)
    check_grads(lambda x: signal.welch(x, nperseg=6, detrend="linear")[1], (x,), order=2)
    check_grads(lambda x: jnp.real(signal.csd(x, jnp.sin(x), nperseg=6)[1]), (x,), order=2)
    z = np.asarray(signal.stft(x, nperseg=8, noverlap=6)[2])
    check_grads(lambda z: signal.istft(z, nperseg=8, noverlap=6)[1], (z,), order=2)


# ------------------------------------------------------------------------------- bad input

_BAD = [
    ("stft", dict(nperseg=0)),
    ("stft", dict(nperseg=8, noverlap=8)),
    ("stft", dict(nperseg=8, nfft=4)),
    ("stft", dict(nperseg=8, window=np.ones(6))),  # window length != nperseg
    ("stft", dict(nperseg=None, window=np.ones((2, 4)))),
    ("stft", dict(nperseg=8, window="no-such-window")),
    ("stft", dict(nperseg=8, boundary="wrap")),
    ("welch", dict(nperseg=8, scaling="power")),
    ("welch", dict(nperseg=8, average="mode")),
    ("welch", dict(nperseg=8, detrend=True)),
    ("welch", dict(window=np.ones(41))),  # longer than the signal
    ("welch", dict(nperseg=8, axis=2)),
]


@pytest.mark.parametrize("fn,kw", _BAD, ids=str)
def test_bad_input_raises_as_jax(fn, kw):
    with pytest.raises(Exception) as want:
        getattr(jss, fn)(X, **kw)
    with pytest.raises(type(want.value), match=fn):
        getattr(signal, fn)(X, **kw)


def test_bad_input_csd_and_istft():
    with pytest.raises(ValueError, match="same rank"):
        signal.csd(X, X[0], nperseg=8)
    with pytest.raises(ValueError, match="broadcast"):
        signal.csd(X, np.ones((3, 40)), nperseg=8)
    z = np.asarray(signal.stft(X, nperseg=8)[2])
    for kw in (dict(nperseg=8, noverlap=8), dict(nperseg=8, nfft=6), dict(window=np.ones(5)),
               dict(time_axis=1), dict(window=np.ones((8, 1)))):  # fmt: skip
        with pytest.raises(ValueError):
            _jax("istft", z, **kw)
        with pytest.raises(ValueError, match="istft"):
            signal.istft(z, **kw)
    with pytest.raises(ValueError, match="positive"):
        signal.istft(z, nperseg=0)  # as SciPy (JAX takes 0 for the default)
    with pytest.raises(ValueError, match="at least 2-D"):
        signal.istft(z[0, 0])
    with pytest.raises(jaxlite.errors.ConcretizationTypeError, match="nperseg"):
        jaxlite.jit(lambda x, n: signal.welch(x, nperseg=n))(X, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        signal.welch(X, nperseg=8)  # no warning on the ordinary path
