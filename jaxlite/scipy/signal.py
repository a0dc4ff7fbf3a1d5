"""`jaxlite.scipy.signal`: N-dimensional convolution and cross-correlation (JAX's
jax.scipy.signal.convolve, convolve2d, correlate, correlate2d), each one conv_general_dilated as
JAX computes them (method 'direct', and 'auto', which JAX always computes directly); fftconvolve
(and method='fft'), through jnp.fft as JAX; detrend (`_detrend.py`); the spectral analysis
stft, istft, csd and welch (`_spectral.py`, with SciPy's windows from `_windows.py`).
"""

from __future__ import annotations

import operator

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.numpy import fft as _fft
from jaxlite.numpy._ufuncs import conjugate
from jaxlite.numpy._util import (
    asarray,
    canonicalize_axis,
    dtype_of,
    promote_dtypes_inexact,
    shape_of,
)
from jaxlite.scipy._detrend import detrend
from jaxlite.scipy._spectral import csd, istft, stft, welch

__all__ = [
    "convolve", "convolve2d", "correlate", "correlate2d", "csd", "detrend", "fftconvolve",
    "istft", "stft", "welch",
]  # fmt: skip

_MODES = ("full", "same", "valid")


def _flip(x):
    return lax.rev(x, tuple(range(len(shape_of(x)))))


def _conj(x):
    return conjugate(x)  # (the identity on real dtypes; JAX conjugates complex inputs)


def _convolve_nd(name: str, in1, in2, mode: str):
    """The convolution of two arrays of one rank (JAX's _convolve_nd): the larger one slides
    under the smaller, flipped, one."""
    if mode not in _MODES:
        raise ValueError(f"{name}: mode must be one of {list(_MODES)}, got {mode!r}")
    s1, s2 = shape_of(in1), shape_of(in2)
    if len(s1) != len(s2):
        raise ValueError(
            f"{name}: in1 and in2 must have the same number of dimensions, got shapes {s1} and {s2}"
        )
    if 0 in s1 or 0 in s2:
        raise ValueError(
            f"{name}: zero-size arrays not supported in convolutions, got shapes {s1} and {s2}."
        )
    in1, in2 = promote_dtypes_inexact(name, in1, in2)
    swap = all(a <= b for a, b in zip(s1, s2))
    if not (swap or all(a >= b for a, b in zip(s1, s2))):
        raise ValueError(
            f"{name}: one input must be smaller than the other in every dimension, got shapes "
            f"{s1} and {s2}."
        )
    shape_o = s2
    if swap:
        in1, in2 = in2, in1
    shape = shape_of(in2)
    if mode == "valid":
        padding = [(0, 0) for _ in shape]
    elif mode == "same":
        padding = [(s - 1 - (so - 1) // 2, s - so + (so - 1) // 2) for s, so in zip(shape, shape_o)]
    else:
        padding = [(s - 1, s - 1) for s in shape]
    n = len(shape)
    out = lax.conv_general_dilated(
        lax.reshape(in1, (1, 1, *shape_of(in1))), lax.reshape(_flip(in2), (1, 1, *shape)),
        (1,) * n, padding,
    )  # fmt: skip
    return lax.reshape(out, shape_of(out)[2:])


def _method(name: str, method: str):
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"{name}: got method={method!r}; expected 'auto', 'fft', or 'direct'.")
    return method


def fftconvolve(in1, in2, mode="full", axes=None):
    """Convolution of two N-dimensional arrays through the FFT (scipy.signal.fftconvolve):
    `mode` as `convolve`'s; `axes` the axes convolved (the others must match in size and are
    mapped over, as JAX's). Real inputs use rfftn/irfftn, complex ones fftn/ifftn, at the full
    output size (as JAX: no padding to a fast length). Integers and bools give floats.

    Example:
        >>> fftconvolve(jnp.array([1, 2, 3, 2, 1]), jnp.array([1, 1, 1]), mode="valid")
        Array([6., 7., 6.], dtype=float32)
    """
    name = "fftconvolve"
    in1, in2 = asarray(in1, name), asarray(in2, name)
    in1, in2 = promote_dtypes_inexact(name, in1, in2)
    s1, s2 = shape_of(in1), shape_of(in2)
    if len(s1) != len(s2):
        raise ValueError(
            f"{name}: in1 and in2 should have the same dimensionality, got shapes {s1} and {s2}."
        )
    if mode not in _MODES:
        raise ValueError(f"{name}: mode must be one of {list(_MODES)}, got {mode!r}.")
    n = len(s1)
    if axes is None:
        axes = tuple(range(n))
    else:
        axes = (axes,) if not isinstance(axes, (tuple, list)) else tuple(axes)
        try:
            axes = tuple(operator.index(a) for a in axes)
        except TypeError:
            raise TypeError(f"{name}: axes must be integers, got {axes!r}.") from None
        axes = tuple(sorted({canonicalize_axis(a, n, name, s1) for a in axes}))
    mapped = [d for d in range(n) if d not in axes]
    if any(s1[d] != s2[d] for d in mapped):
        raise ValueError(
            f"{name}: mapped axes must have same shape; got in1.shape={s1}, in2.shape={s2}, "
            f"axes={axes}."
        )
    if mode == "valid":
        no_swap = all(s1[d] >= s2[d] for d in axes)
        swap = all(s1[d] <= s2[d] for d in axes)
        if not (no_swap or swap):
            raise ValueError(
                f"{name}: for 'valid' mode, one input must be at least as large as the other in "
                f"every dimension, got shapes {s1} and {s2}."
            )
        if swap:
            in1, in2, s1, s2 = in2, in1, s2, s1
    full = [s1[d] + s2[d] - 1 if d in axes else s1[d] for d in range(n)]
    if all(s1[d] == 1 or s2[d] == 1 for d in axes):
        conv = in1 * in2
    else:
        size = [full[d] for d in axes]
        if dtypes.is_complex(dtype_of(in1)):
            conv = _fft.ifftn(_fft.fftn(in1, size, axes) * _fft.fftn(in2, size, axes), size, axes)
        else:
            conv = _fft.irfftn(
                _fft.rfftn(in1, size, axes) * _fft.rfftn(in2, size, axes), size, axes
            )
    if mode == "full":
        out = full
    elif mode == "same":
        out = list(s1)
    else:
        out = [s1[d] - s2[d] + 1 if d in axes else s1[d] for d in range(n)]
    start = [(f - o) // 2 for f, o in zip(full, out)]
    return lax.slice(conv, start, [b + o for b, o in zip(start, out)])


def _check_2d(name: str, in1, in2, boundary, fillvalue):
    if boundary != "fill" or fillvalue != 0:
        raise NotImplementedError(f"{name}() only supports boundary='fill', fillvalue=0")
    if len(shape_of(in1)) != 2 or len(shape_of(in2)) != 2:
        raise ValueError(
            f"{name}() only supports 2-dimensional inputs, got shapes {shape_of(in1)} and "
            f"{shape_of(in2)}."
        )


def convolve(in1, in2, mode="full", method="auto", precision=None):
    """Convolution of two N-dimensional arrays (scipy.signal.convolve): `mode` 'full' (every
    overlap, zeros outside), 'same' (centered, the size of `in1`) or 'valid' (full overlaps
    only). Integers and bools give floats.

    Example:
        >>> convolve(jnp.array([1, 2, 3, 2, 1]), jnp.array([1, 1, 1]), mode="same")
        Array([3., 6., 7., 6., 3.], dtype=float32)
    """
    if _method("convolve", method) == "fft":
        return fftconvolve(in1, in2, mode=mode)
    in1, in2 = asarray(in1, "convolve"), asarray(in2, "convolve")
    return _convolve_nd("convolve", in1, in2, mode)


def correlate(in1, in2, mode="full", method="auto", precision=None):
    """Cross-correlation of two N-dimensional arrays (scipy.signal.correlate): the convolution
    with `in2` flipped (and conjugated).

    Example:
        >>> correlate(jnp.array([1, 2, 3, 2, 1]), jnp.array([1, 3, 2]), mode="valid")
        Array([13., 15., 11.], dtype=float32)
    """
    method = _method("correlate", method)
    in1, in2 = asarray(in1, "correlate"), asarray(in2, "correlate")
    if method == "fft":
        return fftconvolve(in1, _flip(_conj(in2)), mode=mode)
    return _convolve_nd("correlate", in1, _flip(_conj(in2)), mode)


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, precision=None):
    """Convolution of two 2-D arrays (scipy.signal.convolve2d); only boundary='fill' with
    fillvalue=0, as JAX."""
    in1, in2 = asarray(in1, "convolve2d"), asarray(in2, "convolve2d")
    _check_2d("convolve2d", in1, in2, boundary, fillvalue)
    return _convolve_nd("convolve2d", in1, in2, mode)


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, precision=None):
    """Cross-correlation of two 2-D arrays (scipy.signal.correlate2d); only boundary='fill'
    with fillvalue=0, as JAX. When `in2` is the larger input, 'full' and 'valid' return
    SciPy's (and JAX's) answer: the correlation of the swapped inputs, not flipped back."""
    name = "correlate2d"
    in1, in2 = asarray(in1, name), asarray(in2, name)
    _check_2d(name, in1, in2, boundary, fillvalue)
    s1, s2 = shape_of(in1), shape_of(in2)
    swap = all(a <= b for a, b in zip(s1, s2)) and s1 != s2
    if mode == "same" or not swap or (mode == "valid" and s1 == s2):
        return _flip(_convolve_nd(name, _flip(in1), _conj(in2), mode))
    out = _convolve_nd(name, _flip(in2), _conj(in1), mode)
    return out if mode == "valid" else _conj(out)
