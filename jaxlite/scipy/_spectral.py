"""`jaxlite.scipy.signal`'s spectral analysis: stft, istft, csd and welch, as JAX's
jax.scipy.signal computes them (SciPy's legacy `_spectral_helper` semantics), from jnp.fft and
jnp ops, so that jit, grad and vmap go through. Windows come from `_windows.get_window` (NumPy,
on the host: JAX asks SciPy for them, jaxlite does not depend on SciPy).

Where JAX 0.10.2 departs from SciPy by a slip, this follows SciPy: a callable `detrend` gets the
segments along the last axis (JAX hands it the transposed segments); istft takes noverlap=0 and
nperseg=0 as given (JAX reads them as "default"), inverts an odd `nperseg` with nfft=None (JAX
fails on a shape mismatch) and returns every overlap-added sample when a segment spans more hops
than there are segments (JAX keeps only 2 nseg - 1 hops); csd of an empty x or y returns SciPy's
shape (JAX's inserts the axis at the wrong place or fails an assertion).
"""

from __future__ import annotations

import warnings

import numpy as np

from jaxlite import dtypes
from jaxlite import numpy as jnp
from jaxlite.numpy import fft as _fft
from jaxlite.numpy._util import (
    asarray,
    broadcast_shapes,
    canonicalize_axis,
    concrete_int,
    dtype_of,
    promote_dtypes_inexact,
    shape_of,
)
from jaxlite.scipy._detrend import detrend
from jaxlite.scipy._windows import get_window

__all__ = ["csd", "istft", "stft", "welch"]

_BOUNDARIES = ("even", "odd", "constant", "zeros", None)
# Segments are cut (and overlap-added back) with one slice per hop within a segment: the usual
# overlaps (a half, three quarters) take 2 to 4; a hop shorter than this fraction of a segment
# uses one gather (a scatter-add for istft) instead.
_MAX_SLICES = 4


def _static_int(v, name: str, what: str) -> int:
    """A Python int from a static argument; like JAX's int(v), a float with an integral value
    passes."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        v = int(v)
    return concrete_int(v, name, what)


def _last_axis_slice(x, start: int, stop: int):
    return x[..., start:stop]


def _pad_last(x, before: int, after: int, mode: str = "constant"):
    widths = [(0, 0)] * (len(shape_of(x)) - 1) + [(before, after)]
    return jnp.pad(x, widths, mode)


def _odd_ext(name: str, x, n: int):
    """`x` extended by `n` points at each end of its last axis by odd symmetry about the end
    points (2 x[0] - x[n..1], ..., 2 x[-1] - x[-2..-n-1])."""
    if n < 1:
        return x
    length = shape_of(x)[-1]
    if n > length - 1:
        raise ValueError(
            f"{name}: boundary='odd' extends by nperseg // 2 = {n} points, more than the signal "
            f"length minus one ({length - 1}); use a shorter nperseg or another boundary."
        )
    first, last = x[..., :1], x[..., -1:]
    left = 2 * first - jnp.flip(x[..., 1 : n + 1], -1)
    right = 2 * last - jnp.flip(x[..., length - n - 1 : length - 1], -1)
    return jnp.concatenate([left, x, right], axis=-1)


def _extend(name: str, x, boundary, n: int):
    if boundary == "even":
        return _pad_last(x, n, n, "reflect")
    if boundary == "odd":
        return _odd_ext(name, x, n)
    if boundary == "constant":
        return _pad_last(x, n, n, "edge")
    return _pad_last(x, n, n)  # "zeros"


def _segments(x, nperseg: int, nstep: int):
    """The segments x[..., i nstep : i nstep + nperseg] of the last axis, as (..., nseg,
    nperseg). The last axis, cut in blocks of `nstep`, gives each segment as `s` consecutive
    blocks: the segments are `s` slices of the blocks side by side."""
    *batch, n = shape_of(x)
    nseg = (n - nperseg) // nstep + 1
    s = -(-nperseg // nstep)
    if s > _MAX_SLICES:
        index = nstep * np.arange(nseg)[:, None] + np.arange(nperseg)
        return jnp.take(x, index, axis=-1)
    total = (nseg + s - 1) * nstep
    x = _last_axis_slice(x, 0, total) if n >= total else _pad_last(x, 0, total - n)
    blocks = jnp.reshape(x, (*batch, nseg + s - 1, nstep))
    parts = [blocks[..., k : k + nseg, :] for k in range(s)]
    segs = parts[0] if s == 1 else jnp.concatenate(parts, axis=-1)
    return _last_axis_slice(segs, 0, nperseg)


def _overlap_add(frames, nstep: int):
    """The sum of the frames (..., nseg, nperseg), frame i shifted by i nstep, as (..., nstep
    (nseg - 1) + nperseg): `_segments`' transpose."""
    *batch, nseg, nperseg = shape_of(frames)
    length = nstep * (nseg - 1) + nperseg
    s = -(-nperseg // nstep)
    if s > _MAX_SLICES:
        index = nstep * np.arange(nseg)[:, None] + np.arange(nperseg)
        return jnp.zeros((*batch, length), dtype_of(frames)).at[..., index].add(frames)
    frames = _pad_last(frames, 0, s * nstep - nperseg)
    frames = jnp.reshape(frames, (*batch, nseg, s, nstep))
    total = None
    for k in range(s):  # block k of every frame lands on output block i + k
        part = jnp.pad(frames[..., k, :], [(0, 0)] * len(batch) + [(k, s - 1 - k), (0, 0)])
        total = part if total is None else total + part
    total = jnp.reshape(total, (*batch, (nseg + s - 1) * nstep))
    return _last_axis_slice(total, 0, length)


def _window(name: str, window, nperseg, input_length: int, dtype):
    """(window as an array of `dtype`, nperseg): a name or tuple makes a periodic window of
    length nperseg (default and at most: the input length); an array is the window itself."""
    if isinstance(window, (str, tuple)):
        n = input_length if nperseg is None else nperseg
        if n > input_length:
            warnings.warn(
                f"{name}: nperseg={n} is greater than input_length={input_length}, using "
                f"nperseg={input_length}",
                stacklevel=4,
            )
            n = input_length
        w = np.ones(0) if n == 0 and window == "hann" else get_window(window, n, caller=name)
        return jnp.asarray(w, dtype=dtype), n
    win = jnp.asarray(window, dtype=dtype)
    ws = shape_of(win)
    if len(ws) != 1:
        raise ValueError(f"{name}: window must be 1-D, got an array of shape {ws}")
    n = ws[0] if nperseg is None else nperseg
    if input_length < ws[0]:
        raise ValueError(
            f"{name}: window is longer than input signal ({ws[0]} > {input_length} samples)"
        )
    if n != ws[0]:
        raise ValueError(
            f"{name}: value specified for nperseg ({n}) is different from length of window "
            f"({ws[0]})"
        )
    return win, n


def _detrend_func(name: str, detrend_type):
    if isinstance(detrend_type, str):
        return lambda d: detrend(d, axis=-1, type=detrend_type)
    if callable(detrend_type):
        return detrend_type
    if not detrend_type:
        return lambda d: d
    raise ValueError(
        f"{name}: unsupported detrend type {detrend_type!r}: use False, 'constant', 'linear' "
        "or a function of the segments (along their last axis)"
    )


def _without(shape, axis: int):
    return shape[:axis] + shape[axis + 1 :]


def _spectral(name: str, x, y, fs, window, nperseg, noverlap, nfft, detrend_type,
              return_onesided, scaling, axis, mode, boundary=None, padded=False):  # fmt: skip
    """(frequencies, segment times, spectra): stft's segment spectra (mode 'stft') or the
    unaveraged (cross) periodograms (mode 'psd', `y` None for x's own), as SciPy's
    `_spectral_helper`; the frequency axis takes `axis`' place, the segments go last."""
    if boundary not in _BOUNDARIES:
        raise ValueError(
            f"{name}: unknown boundary option {boundary!r}, must be one of: {list(_BOUNDARIES)}"
        )
    x = asarray(x, name)
    xs = shape_of(x)
    axis = canonicalize_axis(_static_int(axis, name, "axis"), len(xs), name, xs)
    if y is None:
        (x,) = promote_dtypes_inexact(name, x)
        outer = _without(xs, axis)
    else:
        x, y = promote_dtypes_inexact(name, x, asarray(y, name))
        ys = shape_of(y)
        if len(xs) != len(ys):
            raise ValueError(f"{name}: x and y must have the same rank, got shapes {xs} and {ys}")
        try:
            outer = broadcast_shapes(name, _without(xs, axis), _without(ys, axis))
        except ValueError as err:
            raise ValueError(
                f"{name}: x and y cannot be broadcast together: shapes {xs} and {ys} outside "
                f"axis {axis}"
            ) from err
    result_dtype = dtypes.to_complex(dtype_of(x))
    freq_dtype = dtypes.to_real(result_dtype)

    if nperseg is not None:
        nperseg = _static_int(nperseg, name, "nperseg")
        if nperseg < 1:
            raise ValueError(f"{name}: nperseg must be a positive integer, got {nperseg}")
    win, nperseg = _window(name, window, nperseg, xs[axis], dtype_of(x))
    noverlap = nperseg // 2 if noverlap is None else _static_int(noverlap, name, "noverlap")
    nfft = nperseg if nfft is None else _static_int(nfft, name, "nfft")

    if y is None and 0 in xs:
        return (jnp.zeros(xs, freq_dtype), jnp.zeros(xs, freq_dtype),
                jnp.zeros(xs, result_dtype))  # fmt: skip
    if y is not None and (0 in xs or 0 in shape_of(y)):
        n = min(xs[axis], shape_of(y)[axis])
        shape = outer[:axis] + (n,) + outer[axis:]
        return (jnp.zeros(shape, freq_dtype), jnp.zeros(shape, freq_dtype),
                jnp.zeros(shape, result_dtype))  # fmt: skip

    x = jnp.moveaxis(x, axis, -1)
    if y is not None:
        y = jnp.moveaxis(y, axis, -1)
        nx, ny = shape_of(x)[-1], shape_of(y)[-1]
        if nx < ny:
            x = _pad_last(x, 0, ny - nx)
        elif ny < nx:
            y = _pad_last(y, 0, nx - ny)
    if nfft < nperseg:
        raise ValueError(
            f"{name}: nfft must be greater than or equal to nperseg, got nfft={nfft}, "
            f"nperseg={nperseg}"
        )
    if noverlap >= nperseg:
        raise ValueError(
            f"{name}: noverlap must be less than nperseg, got noverlap={noverlap}, "
            f"nperseg={nperseg}"
        )
    nstep = nperseg - noverlap
    if boundary is not None:
        x = _extend(name, x, boundary, nperseg // 2)
        if y is not None:
            y = _extend(name, y, boundary, nperseg // 2)
    if padded:  # zeros up to a whole number of segments
        nadd = (-(shape_of(x)[-1] - nperseg) % nstep) % nperseg
        x = _pad_last(x, 0, nadd)
        if y is not None:
            y = _pad_last(y, 0, nadd)

    detrend_func = _detrend_func(name, detrend_type)
    if scaling == "density":
        scale = 1.0 / (fs * jnp.sum(win * win))
    elif scaling == "spectrum":
        scale = 1.0 / jnp.sum(win) ** 2
    else:
        raise ValueError(f"{name}: unknown scaling {scaling!r}: use 'density' or 'spectrum'")
    if mode == "stft":
        scale = jnp.sqrt(scale)

    twosided = not return_onesided
    if return_onesided and (
        dtypes.is_complex(dtype_of(x)) or (y is not None and dtypes.is_complex(dtype_of(y)))
    ):
        warnings.warn("Input data is complex, switching to return_onesided=False", stacklevel=4)
        twosided = True
    if twosided:
        freqs = _fft.fftfreq(nfft, 1 / fs, dtype=freq_dtype)
    else:
        freqs = _fft.rfftfreq(nfft, 1 / fs, dtype=freq_dtype)

    def spectra(v):  # the windowed FFT of every segment: (..., nseg, nfreq)
        segs = detrend_func(_segments(v, nperseg, nstep)) * win
        return _fft.fft(segs, n=nfft) if twosided else _fft.rfft(jnp.real(segs), n=nfft)

    result = spectra(x)
    if y is not None:
        result = jnp.conjugate(result) * spectra(y)
    elif mode == "psd":
        result = jnp.conjugate(result) * result
    result = result * scale
    if mode == "psd" and not twosided:  # one side holds the power of both
        double = np.full(nfft // 2 + 1, 2.0)
        double[0] = 1.0
        if nfft % 2 == 0:
            double[-1] = 1.0
        result = result * jnp.asarray(double, dtype=dtypes.to_real(dtype_of(result)))

    length = shape_of(x)[-1]
    starts = np.arange(nperseg / 2, length - nperseg / 2 + 1, nstep, dtype=np.float64)
    time = jnp.asarray(starts, dtype=freq_dtype) / fs
    if boundary is not None:
        time = time - (nperseg / 2) / fs

    result = result.astype(result_dtype)
    if y is None and mode != "stft":
        result = jnp.real(result)
    return freqs, time, jnp.moveaxis(result, -1, axis)


def stft(x, fs=1.0, window="hann", nperseg=256, noverlap=None, nfft=None, detrend=False,
         return_onesided=True, boundary="zeros", padded=True, axis=-1):  # fmt: skip
    """Short-time Fourier transform (scipy.signal.stft, as jax.scipy.signal.stft).

    Args:
      x: the signal; the transform runs along `axis`.
      fs: its sampling frequency.
      window: a window name ('hann', 'hamming', 'blackman', ...), a tuple of a name and its
        parameters (('tukey', 0.25), ('kaiser', 8.0)), or a 1-D array of length nperseg.
      nperseg: samples per segment (clipped, with a warning, to the signal's length).
      noverlap: samples shared by consecutive segments (default nperseg // 2).
      nfft: FFT length (default nperseg; longer pads each segment with zeros).
      detrend: False, 'constant', 'linear', or a function of the segments (last axis).
      return_onesided: the rfft half of the spectrum for real input (complex input is always
        two-sided, with a warning).
      boundary: extend the signal by nperseg // 2 at both ends: 'zeros', 'even', 'odd',
        'constant' or None.
      padded: pad with zeros to a whole number of segments.
      axis: the time axis.

    Returns:
      (f, t, Zxx): the frequencies, the segment times and the complex spectra, with the
      frequency axis in `axis`' place and the segments last. float32 input gives complex64.

    Example:
      >>> f, t, Z = stft(jnp.array([1., 2., 3., 2., 1., 0., 1., 2.]), nperseg=4)
      >>> Z.shape
      (3, 5)
    """
    return _spectral("stft", x, None, fs, window, nperseg, noverlap, nfft, detrend,
                     return_onesided, "spectrum", axis, "stft", boundary, padded)  # fmt: skip


def csd(x, y, fs=1.0, window="hann", nperseg=None, noverlap=None, nfft=None,
        detrend="constant", return_onesided=True, scaling="density", axis=-1,
        average="mean"):  # fmt: skip
    """Cross power spectral density by Welch's method (scipy.signal.csd, as
    jax.scipy.signal.csd): the average over segments of conj(X) Y.

    Args as `welch`, plus `y`, the second signal (None: x's own PSD, as `welch` but complex);
    x and y are zero-padded to the longer of the two, their other axes broadcast. As JAX's,
    nperseg=None uses the whole signal as one segment (SciPy: 256).

    Returns:
      (f, Pxy): the frequencies and the complex cross spectral density.
    """
    return _csd("csd", x, y, fs, window, nperseg, noverlap, nfft, detrend, return_onesided,
                scaling, axis, average)  # fmt: skip


def _csd(name, x, y, fs, window, nperseg, noverlap, nfft, detrend, return_onesided, scaling,
         axis, average):  # fmt: skip
    """csd, its errors naming `name` (csd or welch)."""
    freqs, _, pxy = _spectral(name, x, y, fs, window, nperseg, noverlap, nfft, detrend,
                              return_onesided, scaling, axis, "psd")  # fmt: skip
    if y is not None:
        pxy = pxy + 0j
    shape = shape_of(pxy)
    if len(shape) >= 2 and 0 not in shape:
        if shape[-1] > 1:
            if average == "median":
                bias = _median_bias(shape[-1])
                if dtypes.is_complex(dtype_of(pxy)):
                    pxy = jnp.median(jnp.real(pxy), axis=-1) + 1j * jnp.median(
                        jnp.imag(pxy), axis=-1
                    )
                else:
                    pxy = jnp.median(pxy, axis=-1)
                pxy = pxy / jnp.asarray(bias, dtype=dtypes.to_real(dtype_of(pxy)))
            elif average == "mean":
                pxy = jnp.mean(pxy, axis=-1)
            else:
                raise ValueError(f'{name}: average must be "median" or "mean", got {average!r}')
        else:
            pxy = jnp.reshape(pxy, shape[:-1])
    return freqs, pxy


def _median_bias(n: int) -> float:
    """The median of n periodograms over their mean, for chi-square(2) ones: 1 - 1/2 + 1/3 -
    ... + 1/(2 m + 1) - ... up to n terms (Allen et al., FINDCHIRP, appendix B)."""
    even = np.arange(2.0, n, 2)
    return float(1 + np.sum(1.0 / (even + 1) - 1.0 / even))


def welch(x, fs=1.0, window="hann", nperseg=None, noverlap=None, nfft=None, detrend="constant",
          return_onesided=True, scaling="density", axis=-1, average="mean"):  # fmt: skip
    """Power spectral density by Welch's method (scipy.signal.welch, as jax.scipy.signal.welch):
    the average ('mean' or 'median') of the windowed segments' periodograms.

    Args:
      x: the signal; the estimate runs along `axis`.
      fs: its sampling frequency.
      window: a window name, (name, parameters...) tuple, or 1-D array (see `stft`).
      nperseg: samples per segment; None (as JAX: SciPy's default is 256) is the whole signal.
      noverlap: samples shared by consecutive segments (default nperseg // 2).
      nfft: FFT length (default nperseg).
      detrend: 'constant' (default), 'linear', False, or a function of the segments.
      return_onesided: one-sided spectrum for real input.
      scaling: 'density' (V**2/Hz) or 'spectrum' (V**2).
      axis: the time axis.
      average: 'mean' or 'median' (bias-corrected).

    Returns:
      (f, Pxx): the frequencies and the (real) power spectral density.

    Example:
      >>> f, p = welch(jnp.sin(jnp.arange(64.)), nperseg=16)
      >>> p.shape
      (9,)
    """
    freqs, pxx = _csd("welch", x, None, fs, window, nperseg, noverlap, nfft, detrend,
                      return_onesided, scaling, axis, average)  # fmt: skip
    return freqs, jnp.real(pxx)


def istft(Zxx, fs=1.0, window="hann", nperseg=None, noverlap=None, nfft=None,
          input_onesided=True, boundary=True, time_axis=-1, freq_axis=-2):  # fmt: skip
    """Inverse short-time Fourier transform (scipy.signal.istft, as jax.scipy.signal.istft):
    the inverse FFT of each segment, windowed, overlap-added and divided by the overlap-added
    squared window (where that exceeds 1e-10: JAX's stand-in for SciPy's NOLA check, without
    its warning).

    Args:
      Zxx: the STFT (frequencies on `freq_axis`, segments on `time_axis`).
      fs: the sampling frequency.
      window: as `stft`'s (an array must have length nperseg).
      nperseg: samples per segment (default: from the frequency axis, 2 (n - 1) one-sided).
      noverlap: samples shared by consecutive segments (default nperseg // 2).
      nfft: FFT length (default: from the frequency axis; nperseg when that is one more).
      input_onesided: Zxx holds the rfft half (the output is real) or the full spectrum.
      boundary: drop the nperseg // 2 samples that stft's boundary extension added at each
        end.
      time_axis, freq_axis: the two axes of Zxx.

    Returns:
      (t, x): the times and the signal, with the time axis where Zxx's was (SciPy's and
      JAX's t counts x.shape[0] samples, also when x has more than one axis).

    Example:
      >>> x = jnp.array([1., 2., 3., 2., 1., 0., 1., 2.])
      >>> t, y = istft(stft(x, nperseg=4)[2])
      >>> y
      Array([1., 2., 3., 2., 1., 0., 1., 2.], dtype=float32)
    """
    name = "istft"
    z = asarray(Zxx, name)
    zs = shape_of(z)
    if len(zs) < 2:
        raise ValueError(f"{name}: input stft must be at least 2-D, got shape {zs}")
    freq_axis = canonicalize_axis(_static_int(freq_axis, name, "freq_axis"), len(zs), name, zs)
    time_axis = canonicalize_axis(_static_int(time_axis, name, "time_axis"), len(zs), name, zs)
    if freq_axis == time_axis:
        raise ValueError(f"{name}: time_axis and freq_axis must differ, both are {freq_axis}")
    z = z.astype(dtypes.to_complex(dtype_of(z)))

    n_default = 2 * (zs[freq_axis] - 1) if input_onesided else zs[freq_axis]
    nperseg = n_default if nperseg is None else _static_int(nperseg, name, "nperseg")
    if nperseg < 1:
        raise ValueError(f"{name}: nperseg must be a positive integer, got {nperseg}")
    if nfft is None:
        nfft = nperseg if input_onesided and nperseg == n_default + 1 else n_default
    else:
        nfft = _static_int(nfft, name, "nfft")
    if nfft < nperseg:
        raise ValueError(f"{name}: FFT length ({nfft}) must be longer than nperseg ({nperseg}).")
    noverlap = nperseg // 2 if noverlap is None else _static_int(noverlap, name, "noverlap")
    if noverlap >= nperseg:
        raise ValueError(
            f"{name}: noverlap must be less than nperseg, got noverlap={noverlap}, "
            f"nperseg={nperseg}"
        )
    nstep = nperseg - noverlap

    outer = tuple(d for d in range(len(zs)) if d not in (freq_axis, time_axis))
    z = jnp.transpose(z, outer + (time_axis, freq_axis))  # (..., segments, frequencies)
    segs = _fft.irfft(z, n=nfft) if input_onesided else _fft.ifft(z, n=nfft)
    segs = _last_axis_slice(segs, 0, nperseg)

    if isinstance(window, (str, tuple)):
        win = jnp.asarray(get_window(window, nperseg, caller=name), dtype=dtype_of(segs))
    else:
        win = asarray(window, name)
        ws = shape_of(win)
        if len(ws) != 1:
            raise ValueError(f"{name}: window must be 1-D, got an array of shape {ws}")
        if ws[0] != nperseg:
            raise ValueError(f"{name}: window must have length of {nperseg}, got {ws[0]}")
    segs = segs * jnp.sum(win)  # undoes stft's 'spectrum' scaling

    x = _overlap_add(segs * win, nstep)
    nseg = shape_of(segs)[-2]
    norm = _overlap_add(jnp.broadcast_to(win * win, (nseg, nperseg)), nstep)
    if boundary:  # as SciPy's x[..., k:-k], empty for nperseg == 1
        k = nperseg // 2
        stop = shape_of(x)[-1] - k if k else 0
        x, norm = _last_axis_slice(x, k, stop), _last_axis_slice(norm, k, stop)
    x = x / jnp.where(norm > 1e-10, norm, 1.0)

    if len(shape_of(x)) > 1 and time_axis != len(zs) - 1:
        x = jnp.moveaxis(x, -1, time_axis - 1 if freq_axis < time_axis else time_axis)
    time = jnp.arange(shape_of(x)[0], dtype=dtypes.to_real(dtype_of(x))) / fs
    return time, x
