"""Oracle specs of jaxlite.scipy.signal's spectral analysis (issue 15): stft, istft, csd, welch.
Real inputs only where the one-sided default would warn on complex ones (the suite turns
warnings into errors); segment lengths within the signal (no clipping warning)."""

from __future__ import annotations

from .harness import Call, Spec

SPECS: dict = {}


def _stft_real(f, L, x, **kw):
    """stft with its complex spectra as one real array, so that grad applies."""
    freqs, times, z = f(x, **kw)
    return freqs, times, L.numpy.real(z) * 2 + L.numpy.imag(z)


SPECS["scipy.signal.stft"] = Spec(
    [Call(lambda f, L, x: _stft_real(f, L, x, nperseg=8), [((3, 20),), ((13,),)]),
     Call(lambda f, L, x: _stft_real(f, L, x, nperseg=6, noverlap=4, window="hamming",
                                     boundary="even", axis=0), [((17, 2),)]),
     Call(lambda f, L, x: _stft_real(f, L, x, nperseg=5, nfft=8, return_onesided=False,
                                     boundary=None, padded=False, detrend="linear"),
          [((2, 16),)])],
    dtypes=("int32", "float32", "float64"),
    diff=True,
    tol=10.0,
)  # fmt: skip
SPECS["scipy.signal.welch"] = Spec(
    [Call(lambda f, L, x: f(x, nperseg=8), [((3, 20),), ((13,),)]),
     Call(lambda f, L, x: f(x, nperseg=8, average="median", window="blackman"), [((24,),)]),
     Call(lambda f, L, x: f(x, nperseg=5, nfft=8, detrend="linear", scaling="spectrum",
                            window=("tukey", 0.3), axis=0), [((17, 2),)])],
    dtypes=("int32", "float32", "float64"),
    diff=True,
    tol=10.0,
)  # fmt: skip
SPECS["scipy.signal.csd"] = Spec(
    [Call(lambda f, L, x, y: f(x, y, nperseg=8), [((3, 20), (3, 20)), ((1, 20), (3, 16))]),
     Call(lambda f, L, x, y: f(x, y, nperseg=6, average="median", return_onesided=False),
          [((20,), (20,))])],
    dtypes=("float32", "float64"),
    tol=10.0,
)  # fmt: skip
SPECS["scipy.signal.istft"] = Spec(
    [Call(lambda f, L, z: f(z, nperseg=8), [((5, 6),), ((2, 5, 4),)]),
     Call(lambda f, L, z: f(z, nperseg=8, noverlap=6, window="hamming", time_axis=0,
                            freq_axis=1), [((7, 5),)]),
     Call(lambda f, L, z: f(z, input_onesided=False, boundary=False), [((6, 5),)])],
    dtypes=("float32", "float64", "complex64"),
    diff=True,
    tol=10.0,
)  # fmt: skip
