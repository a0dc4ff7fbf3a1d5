"""`jaxlite.scipy.signal.detrend` (scipy.signal.detrend): removes a least-squares line (piecewise
between breakpoints) or the mean along an axis. Its own module since the spectral functions
(`_spectral.py`) detrend each segment with it.
"""

from __future__ import annotations

import numpy as np

from jaxlite import numpy as jnp
from jaxlite import primitives as lax
from jaxlite.numpy._util import (
    asarray,
    canonicalize_axis,
    dtype_of,
    promote_dtypes_inexact,
    shape_of,
)


def detrend(data, axis=-1, type="linear", bp=0, overwrite_data=None):  # noqa: A002 - SciPy's
    """Removes the linear trend (least squares, piecewise between the breakpoints `bp`) or the
    mean (type='constant') along `axis` (scipy.signal.detrend). Integers give floats.

    Example:
        >>> detrend(jnp.array([1., 4., 8., 8., 9.]))  # doctest: +SKIP
        Array([-1., -0.,  2., -0., -1.], dtype=float32)
    """
    name = "detrend"
    if overwrite_data is not None:
        raise NotImplementedError(f"{name}: the overwrite_data argument is not implemented.")
    if type not in ("constant", "linear"):
        raise ValueError(f"{name}: trend type must be 'linear' or 'constant', got {type!r}.")
    (x,) = promote_dtypes_inexact(name, asarray(data, name))
    shape = shape_of(x)
    if not shape:
        raise ValueError(f"{name}: data must have at least one dimension, got a scalar.")
    axis = canonicalize_axis(axis, len(shape), name, shape)
    if type == "constant":
        return x - jnp.mean(x, axis, keepdims=True)
    n = shape[axis]
    bps = np.sort(np.unique(np.r_[0, bp, n]))
    if bps[0] < 0 or bps[-1] > n:
        raise ValueError(
            f"{name}: breakpoints must be non-negative and at most the length of the data "
            f"along the axis ({n}), got bp={bp!r}."
        )
    pieces = []
    for lo, hi in zip(bps[:-1], bps[1:]):
        lo, hi = int(lo), int(hi)
        start = [0] * len(shape)
        limit = list(shape)
        start[axis], limit[axis] = lo, hi
        y = lax.slice(x, start, limit)
        pieces.append(_remove_line(y, axis, hi - lo, dtype_of(x)))
    return pieces[0] if len(pieces) == 1 else lax.concatenate(pieces, axis)


def _remove_line(y, axis, m, dtype):
    """`y` minus its least-squares line along `axis` (m points): the residual of the projection
    on (1, t), in closed form (the projection is unique, whatever solver computes it)."""
    real = np.dtype(dtype).type(0).real.dtype
    t = np.arange(m, dtype=np.float64) - (m - 1) / 2.0  # centered
    tt = float(np.dot(t, t))
    bshape = [1] * len(shape_of(y))
    bshape[axis] = m
    t = lax.convert_element_type(t.reshape(bshape), real)
    centered = y - jnp.mean(y, axis, keepdims=True)
    if tt == 0.0:  # one point: the line goes through it
        return centered
    slope = jnp.sum(centered * t, axis, keepdims=True) * (1.0 / tt)
    return centered - slope * t
