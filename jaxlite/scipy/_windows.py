"""Window functions for `jaxlite.scipy.signal`'s spectral analysis (what JAX gets from SciPy's
`scipy.signal.get_window`), computed in NumPy float64 on the host: a window depends only on
static arguments (its name, parameters and length), so it is a constant of any traced function.

Each window below is written for its symmetric form of length m >= 2; `get_window` makes the
periodic form (fftbins=True, what the STFT uses) as SciPy does: the symmetric window of length
m + 1 without its last sample.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def _general_cosine(m, a):
    """sum_k a[k] cos(k t) for t evenly spaced over [-pi, pi]."""
    t = np.linspace(-np.pi, np.pi, m)
    w = np.zeros(m)
    for k, ak in enumerate(a):
        w += ak * np.cos(k * t)
    return w


def _general_hamming(m, alpha):
    return _general_cosine(m, [alpha, 1.0 - alpha])


def _hann(m):
    return _general_hamming(m, 0.5)


def _hamming(m):
    return _general_hamming(m, 0.54)


def _blackman(m):
    return _general_cosine(m, [0.42, 0.50, 0.08])


def _blackmanharris(m):
    return _general_cosine(m, [0.35875, 0.48829, 0.14128, 0.01168])


def _nuttall(m):
    return _general_cosine(m, [0.3635819, 0.4891775, 0.1365995, 0.0106411])


def _flattop(m):
    return _general_cosine(m, [0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368])


def _boxcar(m):
    return np.ones(m)


def _triang(m):
    """Triangle that does not reach zero at the ends."""
    n = np.arange(1, (m + 1) // 2 + 1)
    if m % 2 == 0:
        half = (2 * n - 1.0) / m
        return np.concatenate([half, half[::-1]])
    half = 2 * n / (m + 1.0)
    return np.concatenate([half, half[-2::-1]])


def _bartlett(m):
    """Triangle that is zero at both ends."""
    n = np.arange(m)
    return np.where(n <= (m - 1) / 2.0, 2.0 * n / (m - 1), 2.0 - 2.0 * n / (m - 1))


def _bohman(m):
    f = np.abs(np.linspace(-1, 1, m)[1:-1])
    w = (1 - f) * np.cos(np.pi * f) + 1.0 / np.pi * np.sin(np.pi * f)
    return np.concatenate([[0.0], w, [0.0]])


def _parzen(m):
    """Piecewise cubic (de la Vallee Poussin) window."""
    n = np.abs(np.arange(-(m - 1) / 2.0, (m - 1) / 2.0 + 0.5, 1.0))
    r = n / (m / 2.0)
    return np.where(n <= (m - 1) / 4.0, 1 - 6 * r**2 + 6 * r**3, 2 * (1 - r) ** 3)


def _cosine(m):
    return np.sin(np.pi / m * (np.arange(m) + 0.5))


def _barthann(m):
    f = np.abs(np.arange(m) / (m - 1.0) - 0.5)
    return 0.62 - 0.48 * f + 0.38 * np.cos(2 * np.pi * f)


def _lanczos(m):
    """sinc(2 n / (m - 1) - 1), built from its right half so that it is exactly symmetric."""
    right = np.sinc(2.0 * np.arange(m // 2 + m % 2, m) / (m - 1) - 1.0)
    middle = [1.0] if m % 2 else []
    return np.concatenate([right[::-1], middle, right])


def _tukey(m, alpha=0.5):
    """Flat top with cosine tapers over the fraction `alpha` of the window."""
    width = int(math.floor(alpha * (m - 1) / 2.0))
    n = np.arange(m)
    n1, n3 = n[: width + 1], n[m - width - 1 :]
    w1 = 0.5 * (1 + np.cos(np.pi * (-1 + 2.0 * n1 / alpha / (m - 1))))
    w2 = np.ones(max(m - 2 * width - 2, 0))
    w3 = 0.5 * (1 + np.cos(np.pi * (-2.0 / alpha + 1 + 2.0 * n3 / alpha / (m - 1))))
    return np.concatenate([w1, w2, w3])


def _kaiser(m, beta):
    n = np.arange(m)
    half = (m - 1) / 2.0
    return np.i0(beta * np.sqrt(1 - ((n - half) / half) ** 2.0)) / np.i0(float(beta))


def _gaussian(m, std):
    n = np.arange(m) - (m - 1.0) / 2.0
    return np.exp(-(n**2) / (2 * std * std))


def _general_gaussian(m, p, sig):
    n = np.arange(m) - (m - 1.0) / 2.0
    return np.exp(-0.5 * np.abs(n / sig) ** (2 * p))


def _exponential(m, center=None, tau=1.0):
    if center is None:
        center = (m - 1) / 2
    return np.exp(-np.abs(np.arange(m) - center) / tau)


# name -> (the symmetric window of length m >= 2, parameters: False, True or "optional"), with
# SciPy's aliases
_WINDOWS = {
    ("barthann", "brthan", "bth"): (_barthann, False),
    ("bartlett", "bart", "brt"): (_bartlett, False),
    ("blackman", "black", "blk"): (_blackman, False),
    ("blackmanharris", "blackharr", "bkh"): (_blackmanharris, False),
    ("bohman", "bman", "bmn"): (_bohman, False),
    ("boxcar", "box", "ones", "rect", "rectangular"): (_boxcar, False),
    ("cosine", "halfcosine"): (_cosine, False),
    ("exponential", "poisson"): (_exponential, "optional"),
    ("flattop", "flat", "flt"): (_flattop, False),
    ("gaussian", "gauss", "gss"): (_gaussian, True),
    ("general cosine", "general_cosine"): (_general_cosine, True),
    ("general gaussian", "general_gaussian", "general gauss", "general_gauss", "ggs"): (
        _general_gaussian,
        True,
    ),
    ("general hamming", "general_hamming"): (_general_hamming, True),
    ("hamming", "hamm", "ham"): (_hamming, False),
    ("hann", "han"): (_hann, False),
    ("kaiser", "ksr"): (_kaiser, True),
    ("lanczos", "sinc"): (_lanczos, False),
    ("nuttall", "nutl", "nut"): (_nuttall, False),
    ("parzen", "parz", "par"): (_parzen, False),
    ("triangle", "triang", "tri"): (_triang, False),
    ("tukey", "tuk"): (_tukey, "optional"),
}
_BY_NAME = {alias: entry for names, entry in _WINDOWS.items() for alias in names}
# SciPy's windows not written here (an optimization or an eigenproblem each)
_MISSING = ("chebwin", "cheb", "dpss", "taylor", "taylorwin", "kaiser bessel derived",
            "kaiser_bessel_derived", "kbd")  # fmt: skip

SUPPORTED = tuple(names[0] for names in _WINDOWS)


def get_window(window, nx: int, fftbins: bool = True, caller: str = "get_window") -> np.ndarray:
    """The float64 window `window` of length `nx`, as `scipy.signal.get_window`: `window` is a
    name ('hann'), a tuple of a name and its parameters (('kaiser', 8.0), ('tukey', 0.25)) or a
    float (a Kaiser window's beta); a name may end in '_periodic' or '_symmetric', which
    overrides `fftbins` (True: periodic, for spectral analysis; False: symmetric). Errors name
    `caller`, the function that asked for the window."""
    if isinstance(nx, bool) or not isinstance(nx, numbers.Integral) or nx <= 0:
        raise ValueError(f"{caller}: the window length must be a positive integer, got {nx!r}")
    if not isinstance(fftbins, bool):
        raise ValueError(f"{caller}: fftbins must be a bool, got {fftbins!r}")
    if not isinstance(window, (str, tuple)):
        try:
            beta = float(window)
        except (TypeError, ValueError):
            raise ValueError(
                f"{caller}: window must be a name, a tuple (name, parameters...) or a float "
                f"(a Kaiser window's beta), got {window!r:.60}"
            ) from None
        return _make(_kaiser, int(nx), not fftbins, (beta,))
    if isinstance(window, tuple) and (not window or not isinstance(window[0], str)):
        raise ValueError(f"{caller}: a tuple window must start with a name, got {window!r:.60}")
    wname = window if isinstance(window, str) else window[0]
    args = window[1:] if isinstance(window, tuple) else ()
    sym = not fftbins
    if wname.endswith("_symmetric"):
        sym, wname = True, wname[: -len("_symmetric")]
    elif wname.endswith("_periodic"):
        sym, wname = False, wname[: -len("_periodic")]
    if wname in _MISSING:
        raise NotImplementedError(
            f"{caller}: the {wname!r} window is not implemented in jaxlite; supported: "
            f"{', '.join(SUPPORTED)}"
        )
    if wname not in _BY_NAME:
        raise ValueError(
            f"{caller}: unknown window {wname!r} in window={window!r:.60}; supported: "
            f"{', '.join(SUPPORTED)} (or a tuple with parameters, e.g. ('kaiser', 8.0), or an "
            "array)"
        )
    fn, takes = _BY_NAME[wname]
    if args and takes is False:
        raise ValueError(f"{caller}: the {wname!r} window takes no parameters, got {window!r}")
    if not args and takes is True:
        raise ValueError(f"{caller}: the {wname!r} window needs parameters, got {window!r}")
    if fn is _exponential and sym and args and args[0] is not None:
        raise ValueError(f"{caller}: a symmetric exponential window takes center=None")
    return _make(fn, int(nx), sym, args)


def _make(fn, m: int, sym: bool, args: tuple) -> np.ndarray:
    if m <= 1:
        return np.ones(m)
    if fn is _tukey:  # its limits are other windows of the requested symmetry
        alpha = args[0] if args else 0.5
        if alpha <= 0:
            return np.ones(m)
        if alpha >= 1:
            return _make(_hann, m, sym, ())
    w = np.asarray(fn(m if sym else m + 1, *args), dtype=np.float64)
    return w if sym else w[:-1]
