"""jnp.histogram, histogram_bin_edges, histogram2d, histogramdd (JAX's: bins by searchsorted,
counts by a scatter-add; values outside the range and NaNs are not counted, the last edge
belongs to the last bin)."""

from __future__ import annotations

import builtins
import operator

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.core import Tracer
from jaxlite.numpy import _reductions as red
from jaxlite.numpy._creation import linspace
from jaxlite.numpy._edit import diff, ravel_multi_index
from jaxlite.numpy._shape import reshape, stack
from jaxlite.numpy._sorting import bincount, searchsorted, where
from jaxlite.numpy._ufuncs import add, divide, equal, subtract
from jaxlite.numpy._util import (
    asarray,
    convert,
    dtype_of,
    promote_dtypes_inexact,
    shape_of,
)


def _at(v, i: int):
    n = shape_of(v)[0]
    i = i + n if i < 0 else i
    return lax.reshape(lax.slice(v, (i,), (i + 1,)), ())


def _bins_int(bins, name: str) -> int:
    if isinstance(bins, Tracer):
        raise TypeError(f"jnp.{name}: the number of bins must be static, got a traced value")
    try:
        return operator.index(bins)
    except TypeError:
        raise TypeError(f"jnp.{name}: bins must be an int or a 1-D array, got {bins!r}") from None


def histogram_bin_edges(a, bins=10, range=None, weights=None):  # noqa: A002 - NumPy's name
    """The edges `histogram` uses: `bins` itself when it is 1-D, else `bins + 1` equal steps over
    `range` (default: the data's min and max; a zero-width range is widened by 0.5 each way)."""
    if isinstance(bins, str):
        raise NotImplementedError("jnp.histogram: string values for `bins` not implemented.")
    arr = asarray(a, "histogram_bin_edges")
    dt = dtypes.to_inexact(dtype_of(arr))
    if len(shape_of(asarray(bins, "histogram_bin_edges"))) == 1:
        return convert(asarray(bins, "histogram_bin_edges"), dt)
    n = _bins_int(bins, "histogram_bin_edges")
    if range is None:
        lo, hi = red.min(arr), red.max(arr)
    else:
        r = asarray(range if not isinstance(range, (list, tuple)) else stack(range), "histogram")
        if shape_of(r) != (2,):
            raise ValueError(
                f"jnp.histogram: `range` must be either None or a sequence of scalars, got {range}"
            )
        lo, hi = _at(r, 0), _at(r, 1)
    lo, hi = convert(lo, dt), convert(hi, dt)
    same = equal(lo, hi)
    lo, hi = where(same, subtract(lo, 0.5), lo), where(same, add(hi, 0.5), hi)
    return linspace(lo, hi, n + 1, dtype=dt)


def histogram(a, bins=10, range=None, weights=None, density=None):  # noqa: A002 - NumPy's name
    """(counts, bin_edges) of the values of `a` (weighted sums with `weights`; with `density`,
    normalized to integrate to 1). Counts are floats (the inexact dtype of `a`), as JAX's."""
    a = asarray(a, "histogram")
    if weights is None:
        (a,) = promote_dtypes_inexact("histogram", a)
        w = lax.broadcast_in_dim(convert(1, dtype_of(a)), shape_of(a), ())
    else:
        w = asarray(weights, "histogram")
        if shape_of(a) != shape_of(w):
            raise ValueError("jnp.histogram: weights should have the same shape as a.")
        a, w = promote_dtypes_inexact("histogram", a, w)
    edges = histogram_bin_edges(a, bins, range, w)
    m = shape_of(edges)[0]
    flat, wflat = reshape(a, (-1,)), reshape(w, (-1,))
    idx = searchsorted(edges, flat, side="right")
    idx = where(equal(flat, _at(edges, -1)), m - 1, idx)
    counts = lax.slice(bincount(idx, wflat, length=m + 1), (1,), (m,))
    if density:
        counts = divide(divide(counts, diff(edges)), red.sum(counts))
    return counts, edges


def histogramdd(sample, bins=10, range=None, weights=None, density=None):  # noqa: A002
    """(hist, [edges per dimension]) of the N points of `sample` (N, D); `bins` an int, or one
    int or edge array per dimension; `range` None or one (lo, hi) or None per dimension."""
    sample = asarray(sample, "histogramdd")
    if weights is None:
        (sample,) = promote_dtypes_inexact("histogramdd", sample)
    else:
        weights = asarray(weights, "histogramdd")
        if shape_of(weights) != shape_of(sample)[:1]:
            raise ValueError("jnp.histogramdd: should have one weight for each sample.")
        sample, weights = promote_dtypes_inexact("histogramdd", sample, weights)
    if len(shape_of(sample)) != 2:
        raise ValueError(f"jnp.histogramdd: sample must be 2-D (N, D), got {shape_of(sample)}")
    n, d = shape_of(sample)
    if range is not None and (len(range) != d or any(r is not None and len(r) != 2 for r in range)):
        raise ValueError(
            f"jnp.histogramdd: for sample.shape={(n, d)}, range must be a sequence of {d} pairs or Nones; "
            f"got {range=}"
        )
    try:
        per_dim = list(bins)
    except TypeError:
        per_dim = [bins] * d
    else:
        if len(per_dim) != d:
            raise ValueError("jnp.histogramdd: should be a bin for each dimension.")
    idxs, all_edges = [], []
    for i in builtins.range(d):
        col = lax.reshape(lax.slice(sample, (0, i), (n, i + 1)), (n,))
        edges = histogram_bin_edges(col, per_dim[i], None if range is None else range[i])
        idx = searchsorted(edges, col, side="right")
        idx = where(equal(col, _at(edges, -1)), subtract(idx, 1), idx)
        idxs.append(idx)
        all_edges.append(edges)
    nbins = tuple(shape_of(e)[0] + 1 for e in all_edges)
    flat = ravel_multi_index(tuple(idxs), nbins, mode="clip")
    size = 1
    for b in nbins:
        size *= b
    hist = reshape(bincount(flat, weights, length=size), nbins)
    hist = lax.slice(hist, (1,) * d, tuple(b - 1 for b in nbins))
    if density:
        hist = convert(hist, dtype_of(sample))
        hist = divide(hist, red.sum(hist))
        for i, e in enumerate(all_edges):
            widths = diff(e)
            shape = [1] * d
            shape[i] = shape_of(widths)[0]
            hist = divide(hist, reshape(widths, tuple(shape)))
    return hist, all_edges


def histogram2d(x, y, bins=10, range=None, weights=None, density=None):  # noqa: A002
    """(hist, x_edges, y_edges): histogramdd of the points (x[i], y[i])."""
    x, y = asarray(x, "histogram2d"), asarray(y, "histogram2d")
    try:
        nb = len(bins)
    except TypeError:
        nb = 1
    if nb not in (1, 2):
        edges = asarray(bins, "histogram2d")
        bins = [edges, edges]
    hist, edges = histogramdd(stack([x, y], axis=1), bins, range, weights, density)
    return hist, edges[0], edges[1]
