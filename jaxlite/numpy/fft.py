"""`jnp.fft` (issue 21): NumPy's FFT functions on `lax.fft`, with JAX's semantics: `n`/`s` crop or
zero-pad the input, `axis`/`axes` pick the transformed axes (moved last for the primitive, which
transforms up to 3 trailing axes: more are done in chunks), `norm` is "backward" (default),
"ortho" or "forward". Integer inputs become floats (`dtypes.to_inexact`), real inputs of the
complex transforms complex of their width.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.numpy._shape import moveaxis, roll
from jaxlite.numpy._util import asarray, canonicalize_axes, convert, dtype_of, fname, shape_of

__all__ = [
    "fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn",
    "ifftn", "rfftn", "irfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift",
]  # fmt: skip

_T = lax.FftType
_NORMS = (None, "backward", "ortho", "forward")


def _as_input(name: str, a, fft_type):
    a = asarray(a, name)
    dt = dtype_of(a)
    if fft_type == _T.RFFT:
        if dt.kind == "c":
            raise TypeError(f"{fname(name)} does not support complex input (dtype {dt.name})")
        target = dtypes.to_inexact(dt)
    else:
        target = dtypes.to_complex(dt) if dt.kind != "c" else dt
    return convert(a, target, False, name) if dt != target else a


def _resize(a, axis: int, n: int):
    """`a` cropped or zero-padded to length `n` along `axis`."""
    shape = shape_of(a)
    if shape[axis] > n:
        return lax.slice_in_dim(a, 0, n, axis=axis)
    if shape[axis] < n:
        cfg = [(0, 0, 0)] * len(shape)
        cfg[axis] = (0, n - shape[axis], 0)
        return lax.pad(a, 0, cfg)
    return a


def _fft_core(name: str, fft_type, a, s, axes, norm):
    if norm not in _NORMS:
        raise ValueError(
            f'{fname(name)}: invalid norm {norm!r} (None, "backward", "ortho", "forward")'
        )
    a = _as_input(name, a, fft_type)
    nd = len(shape_of(a))
    if s is not None:
        s = tuple(operator.index(n) for n in np.atleast_1d(s))
        if any(n < 1 for n in s):
            raise ValueError(f"{fname(name)}: invalid number of data points {s}")
        if axes is None:
            axes = tuple(range(nd - len(s), nd))
    axes = canonicalize_axes(axes, nd, name, shape_of(a))
    if not axes:
        return a
    if s is None:
        shape = shape_of(a)
        s = tuple(shape[ax] for ax in axes)
        if fft_type == _T.IRFFT:
            s = s[:-1] + (max(2 * (s[-1] - 1), 0),)
    if len(s) != len(axes):
        raise ValueError(f"{fname(name)}: shape s={s} and axes={axes} have different lengths")
    in_s = s[:-1] + (s[-1] // 2 + 1,) if fft_type == _T.IRFFT else s
    for ax, n in zip(axes, in_s):
        a = _resize(a, ax, n)
    k = len(axes)
    a = moveaxis(a, axes, tuple(range(nd - k, nd)))
    out = _transform(a, fft_type, s)
    out = moveaxis(out, tuple(range(nd - k, nd)), axes)
    return _normalize(out, name, s, norm)


def _transform(a, fft_type, s):
    """lax.fft over the trailing len(s) axes, in chunks of at most 3 axes."""
    k = len(s)
    if k <= 3:
        return lax.fft(a, fft_type, s)
    if fft_type == _T.RFFT:
        a = lax.fft(a, _T.RFFT, s[-3:])
        return _transform_leading(a, _T.FFT, s[:-3])
    if fft_type == _T.IRFFT:
        a = _transform_leading(a, _T.IFFT, s[:-3])
        return lax.fft(a, _T.IRFFT, s[-3:])
    a = lax.fft(a, fft_type, s[-3:])
    return _transform_leading(a, fft_type, s[:-3])


def _transform_leading(a, fft_type, s):
    """The transform over the len(s) axes just before the last three."""
    nd = len(shape_of(a))
    k = len(s)
    src = tuple(range(nd - 3 - k, nd - 3))
    dst = tuple(range(nd - k, nd))
    return moveaxis(_transform(moveaxis(a, src, dst), fft_type, s), dst, src)


def _normalize(out, name, s, norm):
    if norm in (None, "backward"):
        return out
    n = math.prod(s)
    # NB: as JAX, by the name: hfft (an IRFFT) scales as a forward transform, ihfft as an inverse
    inverse = name.rpartition(".")[2].startswith("i")
    if norm == "ortho":
        factor = math.sqrt(n) if inverse else 1 / math.sqrt(n)
    else:  # "forward": the forward transform divides by n, the inverse does not
        factor = n if inverse else 1 / n
    return lax.mul(out, factor)


def _axis_1d(name, axis):
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{fname(name)}: axis must be an int, got {axis!r} (use fftn for several)")
    return (axis,)


def _axes_2d(name, axes):
    if len(axes) != 2:
        raise ValueError(f"{fname(name)}: axes must have 2 entries, got {axes!r}")
    return axes


def fft(a, n=None, axis=-1, norm=None):
    """One-dimensional discrete Fourier transform along `axis` (length `n`: crop or zero-pad)."""
    return _fft_core(
        "fft.fft", _T.FFT, a, None if n is None else (n,), _axis_1d("fft.fft", axis), norm
    )


def ifft(a, n=None, axis=-1, norm=None):
    """One-dimensional inverse discrete Fourier transform along `axis`."""
    return _fft_core(
        "fft.ifft", _T.IFFT, a, None if n is None else (n,), _axis_1d("fft.ifft", axis), norm
    )


def rfft(a, n=None, axis=-1, norm=None):
    """The non-negative frequencies (n // 2 + 1) of the transform of real `a` along `axis`."""
    return _fft_core(
        "fft.rfft", _T.RFFT, a, None if n is None else (n,), _axis_1d("fft.rfft", axis), norm
    )


def irfft(a, n=None, axis=-1, norm=None):
    """The real signal of length `n` (default 2 (m - 1)) whose rfft is `a` along `axis`."""
    return _fft_core(
        "fft.irfft", _T.IRFFT, a, None if n is None else (n,), _axis_1d("fft.irfft", axis), norm
    )


def hfft(a, n=None, axis=-1, norm=None):
    """The transform of a signal with Hermitian symmetry (its first half `a`): real output."""
    a = asarray(a, "fft.hfft")
    conj_a = lax.conj(_as_input("fft.hfft", a, _T.IRFFT))
    nn = (shape_of(a)[axis] - 1) * 2 if n is None else n
    out = _fft_core("fft.hfft", _T.IRFFT, conj_a, None if n is None else (n,),
                    _axis_1d("fft.hfft", axis), norm)  # fmt: skip
    return lax.mul(out, float(nn))


def ihfft(a, n=None, axis=-1, norm=None):
    """The inverse of `hfft`: the first half of the inverse transform of a real signal."""
    a = asarray(a, "fft.ihfft")
    nn = shape_of(a)[axis] if n is None else n
    out = _fft_core("fft.ihfft", _T.RFFT, a, None if n is None else (n,),
                    _axis_1d("fft.ihfft", axis), norm)  # fmt: skip
    return lax.mul(lax.conj(out), 1 / nn)


def fft2(a, s=None, axes=(-2, -1), norm=None):
    """Two-dimensional discrete Fourier transform over `axes`."""
    return _fft_core("fft.fft2", _T.FFT, a, s, _axes_2d("fft.fft2", axes), norm)


def ifft2(a, s=None, axes=(-2, -1), norm=None):
    """Two-dimensional inverse discrete Fourier transform over `axes`."""
    return _fft_core("fft.ifft2", _T.IFFT, a, s, _axes_2d("fft.ifft2", axes), norm)


def rfft2(a, s=None, axes=(-2, -1), norm=None):
    """Two-dimensional transform of real `a` (the last axis halved)."""
    return _fft_core("fft.rfft2", _T.RFFT, a, s, _axes_2d("fft.rfft2", axes), norm)


def irfft2(a, s=None, axes=(-2, -1), norm=None):
    """The inverse of `rfft2`."""
    return _fft_core("fft.irfft2", _T.IRFFT, a, s, _axes_2d("fft.irfft2", axes), norm)


def fftn(a, s=None, axes=None, norm=None):
    """N-dimensional discrete Fourier transform over `axes` (all by default)."""
    return _fft_core("fft.fftn", _T.FFT, a, s, axes, norm)


def ifftn(a, s=None, axes=None, norm=None):
    """N-dimensional inverse discrete Fourier transform over `axes` (all by default)."""
    return _fft_core("fft.ifftn", _T.IFFT, a, s, axes, norm)


def rfftn(a, s=None, axes=None, norm=None):
    """N-dimensional transform of real `a` (the last transformed axis halved)."""
    return _fft_core("fft.rfftn", _T.RFFT, a, s, axes, norm)


def irfftn(a, s=None, axes=None, norm=None):
    """The inverse of `rfftn`."""
    return _fft_core("fft.irfftn", _T.IRFFT, a, s, axes, norm)


def _freq_dtype(name, dtype):
    if dtype is None:
        return dtypes.default_float_dtype()
    return dtypes.user_dtype(dtype, name)


def _check_n(name, n):
    try:
        return operator.index(n)
    except TypeError:
        raise TypeError(f"{fname(name)}: n must be an int, got {n!r}") from None


def fftfreq(n, d=1.0, *, dtype=None, device=None):
    """The sample frequencies of `fft`: [0, 1, ..., -(n // 2), ..., -1] / (d n)."""
    n = _check_n("fft.fftfreq", n)
    dt = _freq_dtype("fft.fftfreq", dtype)
    k = np.concatenate([np.arange(0, (n - 1) // 2 + 1), np.arange(-(n // 2), 0)])
    return lax.div(asarray(k.astype(dt), "fft.fftfreq"), convert(asarray(d, "fft.fftfreq") * n, dt))


def rfftfreq(n, d=1.0, *, dtype=None, device=None):
    """The sample frequencies of `rfft`: [0, 1, ..., n // 2] / (d n)."""
    n = _check_n("fft.rfftfreq", n)
    dt = _freq_dtype("fft.rfftfreq", dtype)
    k = np.arange(0, n // 2 + 1)
    return lax.div(
        asarray(k.astype(dt), "fft.rfftfreq"), convert(asarray(d, "fft.rfftfreq") * n, dt)
    )


def _shift(name, x, axes, sign):
    x = asarray(x, name)
    shape = shape_of(x)
    axes = canonicalize_axes(axes, len(shape), name, shape)
    if not axes:
        return x
    return roll(x, tuple(sign * (shape[ax] // 2) for ax in axes), axes)


def fftshift(x, axes=None):
    """`x` with the zero frequency moved to the centre of `axes` (all by default)."""
    return _shift("fft.fftshift", x, axes, 1)


def ifftshift(x, axes=None):
    """The inverse of `fftshift`."""
    return _shift("fft.ifftshift", x, axes, -1)
