"""The `fft` primitive (issue 21), as JAX's `lax.fft`: a transform of kind `fft_type` (FFT, IFFT,
RFFT, IRFFT) over the trailing `len(fft_lengths)` axes (1 to 3). IFFT and IRFFT are normalized
(divided by the product of the lengths), as XLA's and NumPy's inverse transforms. Eagerly NumPy's
pocketfft; in C csrc/jl_fft.h.
"""

from __future__ import annotations

import enum
import operator

import numpy as np

from jaxlite import dtypes
from jaxlite.core import ShapedArray, get_aval
from jaxlite.primitives._base import _prim


class FftType(enum.IntEnum):
    """The kinds of transform, with JAX's names and values (`jax.lax.FftType`)."""

    FFT = 0  # complex -> complex, forward
    IFFT = 1  # complex -> complex, inverse (normalized)
    RFFT = 2  # real -> complex: the n // 2 + 1 non-negative frequencies of the last axis
    IRFFT = 3  # complex (n // 2 + 1 on the last axis) -> real, inverse (normalized)


def _fft_type(t) -> FftType:
    if isinstance(t, str):
        try:
            return FftType[t.upper()]
        except KeyError:
            pass
    elif isinstance(t, (int, np.integer)) and 0 <= t <= 3:
        return FftType(int(t))
    raise ValueError(f"lax.fft: unknown fft_type {t!r} (FftType, or FFT, IFFT, RFFT or IRFFT)")


fft_p = _prim("fft")


@fft_p.def_abstract_eval
def _fft_abstract(x, *, fft_type, fft_lengths):
    k = len(fft_lengths)
    if not 1 <= k <= 3:
        raise ValueError(f"lax.fft: 1 to 3 transformed axes, got fft_lengths={fft_lengths}")
    if x.ndim < k:
        raise ValueError(f"lax.fft: fft_lengths={fft_lengths} needs an operand of rank >= {k}, "
                         f"got shape {x.shape}")  # fmt: skip
    lead, tail = x.shape[: x.ndim - k], x.shape[x.ndim - k :]
    if fft_type == FftType.RFFT:
        if x.dtype in dtypes.HALF_DTYPES:  # as JAX
            raise ValueError(f"RFFT input must be float32 or float64, got {x.dtype}")
        if x.dtype.kind != "f":
            raise TypeError(f"lax.fft: RFFT needs a real floating-point operand, got {x.dtype}")
        if tail != tuple(fft_lengths):
            raise ValueError(f"lax.fft: RFFT of shape {x.shape} with fft_lengths={fft_lengths}: "
                             "the trailing axes must equal fft_lengths")  # fmt: skip
        shape = lead + tuple(fft_lengths[:-1]) + (fft_lengths[-1] // 2 + 1,)
        return ShapedArray(shape, dtypes.to_complex(x.dtype))
    if x.dtype.kind != "c":
        raise TypeError(f"lax.fft: {fft_type.name} needs a complex operand, got {x.dtype}")
    if fft_type == FftType.IRFFT:
        want = tuple(fft_lengths[:-1]) + (fft_lengths[-1] // 2 + 1,)
        if tail != want:
            raise ValueError(f"lax.fft: IRFFT of shape {x.shape} with fft_lengths={fft_lengths}: "
                             f"the trailing axes must be {want}")  # fmt: skip
        return ShapedArray(lead + tuple(fft_lengths), dtypes.to_real(x.dtype))
    if tail != tuple(fft_lengths):
        raise ValueError(f"lax.fft: {fft_type.name} of shape {x.shape} with fft_lengths="
                         f"{fft_lengths}: the trailing axes must equal fft_lengths")  # fmt: skip
    return ShapedArray(x.shape, x.dtype)


@fft_p.def_impl
def _fft_impl(x, *, fft_type, fft_lengths):
    out_aval = _fft_abstract(get_aval(x), fft_type=fft_type, fft_lengths=fft_lengths)
    if x.size == 0 or 0 in out_aval.shape:  # (pocketfft rejects empty transforms; XLA does not)
        return np.zeros(out_aval.shape, out_aval.dtype)
    axes = tuple(range(x.ndim - len(fft_lengths), x.ndim))
    if fft_type == FftType.FFT:
        r = np.fft.fftn(x, axes=axes)
    elif fft_type == FftType.IFFT:
        r = np.fft.ifftn(x, axes=axes)
    elif fft_type == FftType.RFFT:
        r = np.fft.rfftn(x, axes=axes)
    else:
        r = np.fft.irfftn(x, s=fft_lengths, axes=axes)
    return np.asarray(r, out_aval.dtype)


def fft(x, fft_type, fft_lengths):
    """`lax.fft`: the transform `fft_type` (FftType or its name) over the trailing axes."""
    t = _fft_type(fft_type)
    try:
        lengths = tuple(operator.index(n) for n in np.atleast_1d(np.asarray(fft_lengths, object)))
    except TypeError:
        raise TypeError(
            f"lax.fft: fft_lengths must be a tuple of ints, got {fft_lengths!r}"
        ) from None
    return fft_p.bind(x, fft_type=t, fft_lengths=lengths)
