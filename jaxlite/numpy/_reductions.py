"""Reductions with NumPy's `axis`, `keepdims`, `dtype`, `initial` and `where` arguments, the
cumulative ones, the NaN-ignoring ones, and the order statistics (median, quantile) via sort.

Accumulator dtypes follow NumPy 2 / JAX x64: sums and products of bools and signed integers are
int64, of unsigned integers uint64; means, variances, ... of bools and integers are float32 up to
32 bits and float64 for 64 (JAX's `to_inexact_dtype`).
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.array import Array, _wrap
from jaxlite.core import Tracer
from jaxlite.numpy._ufuncs import _no_out, isnan, logical_not, sqrt, subtract
from jaxlite.numpy._util import (
    promote_dtypes_inexact,
    asarray,
    broadcast_to_shape,
    canonical_dtype,
    canonicalize_axes,
    canonicalize_axis,
    check_kind,
    convert,
    dtype_of,
    dtype_weak,
    filled,
    fname,
    promote_inexact,
    shape_of,
)

_ALL_AXES = [tuple(range(n)) for n in range(65)]  # axes=None for each rank, prebuilt


def _sum_dtype(dt: np.dtype) -> np.dtype:
    """JAX's: integers and bools sum in the mode's widest int of their kind (int32 x64 off)."""
    if dtypes.is_inexact(dt):
        return dt
    return dtypes.canonicalize(dtypes.uint64 if dt.kind == "u" else dtypes.int64)


def _upcast(dt: np.dtype) -> np.dtype:
    """JAX's `_upcast_f16`: sums, products, means and variances of 16-bit floats compute in
    float32 and round once at the end."""
    return dtypes.float32 if dt in dtypes.HALF_DTYPES else dt


def _cumulative_dtype(dt: np.dtype) -> np.dtype:
    """JAX's: cumulative sums and products keep the dtype; bools count in the default int."""
    return dtypes.default_int_dtype() if dt.kind == "b" else dt


def _prep(a, axis, name: str):
    a = asarray(a, name)
    shape = shape_of(a)
    return a, shape, canonicalize_axes(axis, len(shape), name, shape)


def _keep(out, axes, keepdims: bool):
    return lax.expand_dims(out, axes) if keepdims and axes else out


def _size(shape, axes) -> int:
    return math.prod(shape[i] for i in axes)


def _as_dtype(a, dt: np.dtype):
    """`a` converted to `dt`; weak arrays stay weak when the dtype does not change."""
    return a if dtype_weak(a)[0] == dt else convert(a, dt, False)


def _masked(a, where_, identity, name: str):
    if where_ is None:
        return a
    mask = broadcast_to_shape(_bool(where_, name), shape_of(a), name)
    return lax.select(mask, a, filled(a, identity))


def _bool(x, name: str):
    x = asarray(x, name)
    return x if dtype_of(x).kind == "b" else lax.ne(x, 0)


def _initial(initial, dt: np.dtype, name: str):
    """JAX's reading of `initial`: a scalar cast to the reduction's dtype as
    `lax.convert_element_type` casts (`initial=0.5` on integers is 0), not a weak constant."""
    init = asarray(initial, name)
    if shape_of(init) != ():
        raise ValueError(
            f"{fname(name)}: initial value must be a scalar, got an array of shape {shape_of(init)}"
        )
    return convert(init, dt, False, name)


def _sum_like(prim, identity, name: str):
    def fn(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
        t = type(a)
        if axis is None and dtype is None and not keepdims and initial is None:
            if t is Array:
                v = a._value
                if where is None and out is None and v.dtype.kind == "f" and v.itemsize > 2:
                    return prim.bind(a, axes=_ALL_AXES[v.ndim])  # the eager fast path
            elif isinstance(a, Tracer) and where is None and out is None:
                av = a.aval  # the same for tracers (eager grad's, vmap's, jit's)
                if av.dtype.kind == "f" and av.dtype.itemsize > 2:
                    return prim.bind(a, axes=_ALL_AXES[len(av.shape)])
        _no_out(name, out)
        a, shape, axes = _prep(a, axis, name)
        check_kind(name, a, "iufbc", "a numeric or bool argument")
        dt = canonical_dtype(dtype, name) or _sum_dtype(dtype_of(a))
        cdt = _upcast(dt)
        a = _masked(_as_dtype(a, cdt), where, identity, name)
        r = prim.bind(a, axes=axes)
        if initial is not None:
            r = (lax.add if identity == 0 else lax.mul)(r, _initial(initial, cdt, name))
        return _keep(_as_dtype(r, dt), axes, keepdims)

    fn.__name__ = fn.__qualname__ = name
    return fn


sum = _sum_like(lax.reduce_sum_p, 0, "sum")  # noqa: A001
sum.__doc__ = """Sum of array elements over `axis` (all axes by default).

Args:
  a: array-like. axis: int, tuple of ints or None. dtype: accumulator and result dtype
    (default: the default int of their kind for bools and integers, int32 or int64 with x64;
    the input dtype for floats).
  keepdims: keep reduced axes as size 1. initial: a scalar added to the result.
  where: bool mask of elements to include.

Example:
  >>> jnp.sum(jnp.array([[1, 2], [3, 4]]), axis=0)
  Array([4, 6], dtype=int32)
"""
prod = _sum_like(lax.reduce_prod_p, 1, "prod")
prod.__doc__ = "Product of array elements over `axis` (same arguments as `sum`)."


def _extremum(prim, name: str, word: str):
    def fn(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        _no_out(name, out)
        a, shape, axes = _prep(a, axis, name)
        check_kind(name, a, "iufb", "a numeric or bool argument")
        if initial is None:
            if where is not None:
                raise ValueError(f"{fname(name)}: reducing with `where` needs an `initial` value")
            if _size(shape, axes) == 0 and axes:
                raise ValueError(
                    f"{fname(name)}: zero-size array (shape {shape}) to reduction operation "
                    f"{word} which has no identity; pass `initial`"
                )
        else:
            init = _initial(initial, dtype_of(a), name)
            a = _masked(a, where, init, name)
        r = prim.bind(a, axes=axes)
        if initial is not None:
            r = (lax.max if word == "maximum" else lax.min)(r, init)
        return _keep(r, axes, keepdims)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"The {word} of array elements over `axis` (NaN if any element is NaN)."
    return fn


max = _extremum(lax.reduce_max_p, "max", "maximum")  # noqa: A001
min = _extremum(lax.reduce_min_p, "min", "minimum")  # noqa: A001
amax, amin = max, min


def _boolean(prim, name: str):
    def fn(a, axis=None, out=None, keepdims=False, *, where=None):
        _no_out(name, out)
        a, shape, axes = _prep(a, axis, name)
        a = _masked(_bool(a, name), where, name == "all", name)
        return _keep(prim.bind(a, axes=axes), axes, keepdims)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Whether {'all' if name == 'all' else 'any'} elements over `axis` are nonzero."
    return fn


all = _boolean(lax.reduce_and_p, "all")  # noqa: A001
any = _boolean(lax.reduce_or_p, "any")  # noqa: A001


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """Arithmetic mean over `axis`; bools and integers give float32 (int64: float64), as JAX.

    Example:
      >>> jnp.mean(jnp.array([1, 2, 3, 4]))
      Array(2.5, dtype=float32)
    """
    if type(a) is Array and axis is None and dtype is None and not keepdims and where is None:
        v = a._value
        if v.dtype.kind == "f" and v.itemsize > 2 and out is None and v.size:  # eager fast path
            s = lax.reduce_sum_p.bind(a, axes=_ALL_AXES[v.ndim])
            return lax.div_p.bind(s, _wrap(np.asarray(v.size, v.dtype), True))
    _no_out("mean", out)
    a, shape, axes = _prep(a, axis, "mean")
    check_kind("mean", a, "iufbc", "a numeric or bool argument")
    dt = canonical_dtype(dtype, "mean") or _inexact(dtype_of(a))
    cdt = _upcast(dt)
    s = sum(a, axes, dtype=cdt, keepdims=keepdims, where=where)
    if where is None:
        return _as_dtype(lax.div(s, float(_size(shape, axes))), dt)
    n = sum(broadcast_to_shape(_bool(where, "mean"), shape), axes, dtype=cdt, keepdims=keepdims)
    return _as_dtype(lax.div(s, n), dt)


_mean = mean


def _inexact(dt: np.dtype) -> np.dtype:
    return dtypes.to_inexact(dt)


def var(
    a,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    where=None,
    mean=None,
    correction=None,
):
    """Variance over `axis`: `sum((a - mean)**2) / (n - ddof)`.

    Example:
      >>> jnp.var(jnp.array([1.0, 2.0, 3.0, 4.0]), ddof=1)
      Array(1.66666667, dtype=float32)
    """
    _no_out("var", out)
    if correction is not None:
        if ddof != 0:
            raise ValueError("jnp.var: pass `ddof` or `correction`, not both")
        ddof = correction
    a, shape, axes = _prep(a, axis, "var")
    check_kind("var", a, "iufbc", "a numeric or bool argument")
    dt = canonical_dtype(dtype, "var") or _inexact(dtype_of(a))
    out_dt, dt = dt, _upcast(dt)
    a = _as_dtype(a, dt)
    if mean is None:
        mean = _mean(a, axes, keepdims=True, where=where)
    else:
        mean = _as_dtype(asarray(mean, "var"), dt) if out_dt != dt else mean
    centered = lax.sub(a, broadcast_to_shape(asarray(mean, "var"), shape))
    if dtype_of(centered).kind == "c":  # |a - mean|^2: the variance of complex data is real
        re, im = lax.real(centered), lax.imag(centered)
        sq = lax.add(lax.mul(re, re), lax.mul(im, im))
        dt = dtypes.to_real(dt)
    else:
        sq = lax.mul(centered, centered)
    sq = _masked(sq, where, 0, "var")
    if where is None:
        n = float(_size(shape, axes))
    else:
        n = sum(broadcast_to_shape(_bool(where, "var"), shape), axes, dtype=dt, keepdims=keepdims)
    r = sum(sq, axes, keepdims=keepdims)
    # As JAX: NaN where `n - ddof <= 0`, selected in (not computed), so its tangent is zero
    if where is None:
        r = lax.div(r, n - ddof) if n - ddof > 0 else filled(r, np.nan)
    else:
        norm = lax.sub(n, float(ddof))
        r = lax.select(lax.gt(norm, 0.0), lax.div(r, norm), filled(r, np.nan))
    return _as_dtype(r, out_dt)


def std(
    a,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    where=None,
    mean=None,
    correction=None,
):
    """Standard deviation over `axis`: `sqrt(var(a, axis, ddof=ddof))`."""
    return sqrt(
        var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction)
    )


def _arg_extremum(prim, name: str):
    def fn(a, axis=None, out=None, keepdims=False):
        _no_out(name, out)
        a = asarray(a, name)
        shape = shape_of(a)
        check_kind(name, a, "iufb", "a numeric or bool argument")
        if axis is None:
            if 0 in shape:
                raise ValueError(f"{fname(name)}: attempt to get {name} of an empty sequence")
            r = prim.bind(lax.reshape(a, (math.prod(shape),)), axes=(0,), index_dtype=dtypes.int64)
            return lax.reshape(r, (1,) * len(shape)) if keepdims else r
        ax = canonicalize_axis(axis, len(shape), name, shape)
        if shape[ax] == 0:
            raise ValueError(
                f"{fname(name)}: attempt to get {name} of an empty axis {axis} (shape {shape})"
            )
        return _keep(prim.bind(a, axes=(ax,), index_dtype=dtypes.int64), (ax,), keepdims)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Indices (int64) of the {name[3:]}imum values along `axis` (first occurrence)."
    return fn


argmax = _arg_extremum(lax.argmax_p, "argmax")
argmin = _arg_extremum(lax.argmin_p, "argmin")


def ptp(a, axis=None, out=None, keepdims=False):
    """Range (`max - min`) of values along `axis`."""
    _no_out("ptp", out)
    return subtract(max(a, axis, keepdims=keepdims), min(a, axis, keepdims=keepdims))


def count_nonzero(a, axis=None, *, keepdims=False):
    """Number of nonzero values along `axis`, in the default int dtype (int32; int64 with x64)."""
    a, shape, axes = _prep(a, axis, "count_nonzero")
    return sum(_bool(a, "count_nonzero"), axes, dtype=dtypes.default_int_dtype(), keepdims=keepdims)


# ------------------------------------------------------------------------------------------
# Cumulative reductions
# ------------------------------------------------------------------------------------------


def _cumulative(fn_lax, name: str):
    def fn(a, axis=None, dtype=None, out=None):
        _no_out(name, out)
        a = asarray(a, name)
        check_kind(
            name,
            a,
            "iufbc" if name in ("cumsum", "cumprod") else "iufb",
            "a numeric or bool argument",
        )
        if axis is None:
            a = lax.reshape(a, (math.prod(shape_of(a)),))
            axis = 0
        shape = shape_of(a)
        ax = canonicalize_axis(axis, len(shape), name, shape)
        dt = canonical_dtype(dtype, name) or _cumulative_dtype(dtype_of(a))
        return fn_lax(_as_dtype(a, dt), ax)

    fn.__name__ = fn.__qualname__ = name
    return fn


cumsum = _cumulative(lax.cumsum, "cumsum")
cumsum.__doc__ = "Cumulative sum along `axis` (of the flattened array when `axis` is None)."
cumprod = _cumulative(lax.cumprod, "cumprod")
cumprod.__doc__ = "Cumulative product along `axis` (of the flattened array when `axis` is None)."


def _nan_as(a, value, name: str):
    a = asarray(a, name)
    if not dtypes.is_float(dtype_of(a)):
        return a
    return lax.select(isnan(a), filled(a, value), a)


def nancumsum(a, axis=None, dtype=None, out=None):
    """`cumsum` treating NaNs as zero."""
    return cumsum(_nan_as(a, 0, "nancumsum"), axis, dtype, out)


def nancumprod(a, axis=None, dtype=None, out=None):
    """`cumprod` treating NaNs as one."""
    return cumprod(_nan_as(a, 1, "nancumprod"), axis, dtype, out)


def _cumulative_api(fn, identity, name: str):
    def api(x, /, *, axis=None, dtype=None, include_initial=False):
        x = asarray(x, name)
        nd = len(shape_of(x))
        if axis is None:
            if nd > 1:
                raise ValueError(f"{fname(name)}: `axis` is required for arrays of rank {nd}")
            axis = 0
        if nd == 0:
            x = lax.reshape(x, (1,))
        r = fn(x, axis, dtype)
        if not include_initial:
            return r
        ax = canonicalize_axis(axis, len(shape_of(r)), name)
        cfg = [(0, 0, 0)] * len(shape_of(r))
        cfg[ax] = (1, 0, 0)
        return lax.pad(r, convert(identity, dtype_of(r)), cfg)

    api.__name__ = api.__qualname__ = name
    api.__doc__ = f"NumPy 2's `{name}` (array API): `{fn.__name__}` with `include_initial`."
    return api


cumulative_sum = _cumulative_api(cumsum, 0, "cumulative_sum")
cumulative_prod = _cumulative_api(cumprod, 1, "cumulative_prod")


# ------------------------------------------------------------------------------------------
# NaN-ignoring reductions
# ------------------------------------------------------------------------------------------


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """`sum` treating NaNs as zero."""
    return sum(_nan_as(a, 0, "nansum"), axis, dtype, out, keepdims, initial, where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """`prod` treating NaNs as one."""
    return prod(_nan_as(a, 1, "nanprod"), axis, dtype, out, keepdims, initial, where)


def _nan_extremum(fn, fill, name: str):
    def api(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        a = asarray(a, name)
        if not dtypes.is_float(dtype_of(a)):
            return fn(a, axis, out, keepdims, initial, where)
        nan = isnan(a)
        r = fn(lax.select(nan, filled(a, fill), a), axis, out, keepdims, initial, where)
        all_nan = all(nan, axis, keepdims=keepdims)
        return lax.select(all_nan, filled(r, np.nan), r)

    api.__name__ = api.__qualname__ = name
    api.__doc__ = f"`{fn.__name__}` ignoring NaNs (NaN where a slice is all NaN)."
    return api


nanmax = _nan_extremum(max, -np.inf, "nanmax")
nanmin = _nan_extremum(min, np.inf, "nanmin")


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """`mean` of the non-NaN values (NaN where a slice is all NaN)."""
    a = asarray(a, "nanmean")
    if not dtypes.is_float(dtype_of(a)):
        return mean(a, axis, dtype, out, keepdims, where=where)
    keep = logical_not(isnan(a))
    if where is not None:
        keep = lax.bitwise_and(keep, broadcast_to_shape(_bool(where, "nanmean"), shape_of(a)))
    return mean(a, axis, dtype, out, keepdims, where=keep)


def nanvar(
    a,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    where=None,
    mean=None,
    correction=None,
):
    """`var` of the non-NaN values."""
    a = asarray(a, "nanvar")
    if not dtypes.is_float(dtype_of(a)):
        return var(
            a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction
        )
    keep = logical_not(isnan(a))
    if where is not None:
        keep = lax.bitwise_and(keep, broadcast_to_shape(_bool(where, "nanvar"), shape_of(a)))
    return var(a, axis, dtype, out, ddof, keepdims, where=keep, mean=mean, correction=correction)


def nanstd(
    a,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    where=None,
    mean=None,
    correction=None,
):
    """`std` of the non-NaN values."""
    return sqrt(
        nanvar(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction)
    )


def _nan_arg(fn, fill, name: str):
    def api(a, axis=None, out=None, keepdims=False):
        a = asarray(a, name)
        if not dtypes.is_float(dtype_of(a)):
            return fn(a, axis, out, keepdims)
        nan = isnan(a)
        r = fn(lax.select(nan, filled(a, fill), a), axis, out, keepdims)
        return lax.select(all(nan, axis, keepdims=keepdims), filled(r, -1), r)

    api.__name__ = api.__qualname__ = name
    api.__doc__ = f"`{fn.__name__}` ignoring NaNs; -1 where a slice is all NaN (as in JAX)."
    return api


nanargmax = _nan_arg(argmax, -np.inf, "nanargmax")
nanargmin = _nan_arg(argmin, np.inf, "nanargmin")


# ------------------------------------------------------------------------------------------
# Weighted mean and order statistics
# ------------------------------------------------------------------------------------------


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Weighted mean over `axis`; with `returned`, also the sum of the weights."""
    if weights is None:
        avg = mean(a, axis, keepdims=keepdims)
        a, shape, axes = _prep(a, axis, "average")
        n = filled(avg, float(_size(shape, axes)))
        return (avg, n) if returned else avg
    a, shape, axes = _prep(a, axis, "average")
    w = asarray(weights, "average")
    wshape = shape_of(w)
    if wshape != shape:
        if axis is None:
            raise TypeError(
                f"jnp.average: axis must be given when the shapes of a {shape} and weights "
                f"{wshape} differ"
            )
        if len(wshape) != 1 or len(axes) != 1 or wshape[0] != shape[axes[0]]:
            raise ValueError(
                f"jnp.average: weights of shape {wshape} do not match axis {axis} of a {shape}"
            )
        w = lax.broadcast_in_dim(w, shape, axes)
    a, w = promote_inexact("average", a, w)
    scl = sum(w, axes, keepdims=keepdims)
    avg = lax.div(sum(lax.mul(a, w), axes, keepdims=keepdims), scl)
    return (avg, scl) if returned else avg


def _sorted_last(a, axis, name: str, keepdims: bool = False, weights=None):
    """`a` as floats (`dtypes.to_inexact`), its reduced axes merged into one last axis, sorted; also
    the original shape and the reduced axes. As JAX's order statistics, which ravel a 0-d input
    first, a 0-d `a` reduced with `keepdims` counts as shape (1,): the result keeps that axis.
    With `weights` (of `a`'s shape, from `_with_weights`), returns them too, sorted with `a`
    (xs, shape, axes, ws); `ws` is None without."""
    a = asarray(a, name)
    if keepdims and shape_of(a) == () and (axis is None or axis == ()):
        a, axis = lax.reshape(a, (1,)), None
        weights = None if weights is None else lax.reshape(weights, (1,))
    check_kind(name, a, "iufb", "a numeric argument")
    a = _as_dtype(a, _inexact(dtype_of(a)))
    shape = shape_of(a)
    axes = canonicalize_axes(axis, len(shape), name, shape)
    kept = [i for i in range(len(shape)) if i not in axes]
    merged = tuple(shape[i] for i in kept) + (math.prod(shape[i] for i in axes),)

    def merge(x):
        if list(axes) != list(range(len(shape) - len(axes), len(shape))):
            x = lax.transpose(x, kept + list(axes))
        return lax.reshape(x, merged)

    last = len(merged) - 1
    if weights is None:
        return lax.sort(merge(a), dimension=last), shape, axes, None
    xs, ws = lax.sort((merge(a), merge(weights)), dimension=last, num_keys=1)
    return xs, shape, axes, ws


def _slice_last(x, i: int):
    s = shape_of(x)
    starts = (0,) * (len(s) - 1) + (i,)
    r = lax.slice(x, starts, s[:-1] + (i + 1,))
    return lax.reshape(r, s[:-1])


def _keep_full(out, shape, axes, keepdims):
    if not keepdims:
        return out
    return lax.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(shape)))


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Median along `axis` (NaN if the slice holds a NaN), computed with a sort."""
    _no_out("median", out)
    xs, shape, axes, _ = _sorted_last(a, axis, "median", keepdims)
    n = shape_of(xs)[-1]
    if n == 0:
        return _keep_full(_nans(shape_of(xs)[:-1], dtype_of(xs)), shape, axes, keepdims)
    lo, hi = _slice_last(xs, (n - 1) // 2), _slice_last(xs, n // 2)
    r = lo if n % 2 else lax.div(lax.add(lo, hi), 2.0)
    r = lax.select(isnan(_slice_last(xs, n - 1)), filled(r, np.nan), r)
    return _keep_full(r, shape, axes, keepdims)


def _take_last(xs, idx):
    """`xs[..., idx]` for integer indices `idx` (any shape Q): result Q + xs.shape[:-1].

    A one-hot selection, so that traced indices need no gather.
    """
    s = shape_of(xs)
    q = shape_of(idx)
    full = q + s
    onehot = lax.eq(
        lax.broadcasted_iota(dtypes.int64, full, len(full) - 1),
        lax.broadcast_in_dim(convert(idx, dtypes.int64), full, tuple(range(len(q)))),
    )
    xb = lax.broadcast_in_dim(xs, full, tuple(range(len(q), len(full))))
    picked = lax.select(onehot, xb, filled(xb, 0))
    return lax.reduce_sum(picked, (len(full) - 1,))


_METHODS = ("linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf")


def quantile(
    a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
    weights=None,
):  # fmt: skip
    """The `q`-th quantiles (q in [0, 1], a scalar or 1-D) along `axis`, by sorting.

    Methods as JAX's: linear (default), lower, higher, midpoint, nearest (the lower value at an
    exact half, as JAX; NumPy rounds the position to even), inverted_cdf (the only one that takes
    `weights`: the first value whose cumulative weight reaches `q` of the total). The result has
    shape `q.shape + reduced shape`; NaN where the slice holds a NaN.
    """
    return _order_stat("quantile", a, q, axis, out, overwrite_input, method, keepdims, weights)


def percentile(
    a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
    weights=None,
):  # fmt: skip
    """The `q`-th percentiles (q in [0, 100]) along `axis` (see `quantile`)."""
    return _order_stat("percentile", a, q, axis, out, overwrite_input, method, keepdims, weights)


def nanquantile(
    a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
    weights=None,
):  # fmt: skip
    """`quantile` of the non-NaN values (NaNs sort last; each slice uses its own count; NaN
    where a slice is all NaN)."""
    return _order_stat("nanquantile", a, q, axis, out, overwrite_input, method, keepdims, weights)


def nanpercentile(
    a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
    weights=None,
):  # fmt: skip
    """`percentile` of the non-NaN values (q in [0, 100]; see `nanquantile`)."""
    return _order_stat("nanpercentile", a, q, axis, out, overwrite_input, method, keepdims, weights)


def _order_stat(name, a, q, axis, out, overwrite_input, method, keepdims, weights):
    """The checks JAX makes, then `_quantile` or `_nanquantile`."""
    _no_out(name, out)
    if overwrite_input:
        raise ValueError(
            f"{fname(name)}: overwrite_input=True is not supported (arrays are immutable)"
        )
    if q is None:
        raise TypeError(f"{fname(name)}: q must be a number or a 1-D array of them, got None")
    if method not in _METHODS:
        raise ValueError(f"{fname(name)}: method must be one of {_METHODS}, got {method!r}")
    if weights is not None and method != "inverted_cdf":
        raise NotImplementedError(
            f"{fname(name)}: method {method!r} does not take weights; only 'inverted_cdf' does"
        )
    q = asarray(q, name)
    if len(shape_of(q)) > 1:
        raise ValueError(f"{fname(name)}: q must be a scalar or 1-D, got shape {shape_of(q)}")
    if name.endswith("percentile"):
        q = lax.div(promote_inexact(name, q)[0], 100.0)
    a, weights = _with_weights(name, a, axis, weights)
    if name.startswith("nan"):
        return _nanquantile(a, q, axis, keepdims, name, method, weights)
    return _quantile(a, q, axis, method, keepdims, name, weights)


def _with_weights(name, a, axis, weights):
    """`a` and `weights` made inexact together, `weights` broadcast to `a`'s shape (JAX's checks:
    the same shape, or that of the reduced axes)."""
    a = asarray(a, name)
    if weights is None:
        return a, None
    w = asarray(weights, name)
    if dtype_of(w).kind == "c":
        raise ValueError(f"{fname(name)}: weights cannot be complex, got {dtype_of(w)}")
    a, w = promote_dtypes_inexact(name, a, w)
    shape = shape_of(a)
    if shape_of(w) != shape:
        if axis is None:
            raise ValueError(
                f"{fname(name)}: weights of shape {shape_of(w)} must match a's shape {shape} "
                "when axis is None"
            )
        axes = canonicalize_axes(axis, len(shape), name, shape)
        want = tuple(shape[i] for i in axes)
        if shape_of(w) != want:
            raise ValueError(
                f"{fname(name)}: weights of shape {shape_of(w)} must match the reduced axes' "
                f"shape {want}"
            )
        w = lax.broadcast_in_dim(w, shape, tuple(axes))
    return a, w


def _quantile(a, q, axis, method, keepdims, name, weights=None):
    # JAX: every method works on `a` made inexact; q does not take part in the dtype.
    xs, shape, axes, ws = _sorted_last(a, axis, name, keepdims, weights)
    dt = dtype_of(xs)
    q = _as_dtype(q, dtypes.float64)
    n = shape_of(xs)[-1]
    if n == 0:
        r = _nans(shape_of(q) + shape_of(xs)[:-1], _inexact(dt))
        if keepdims:
            r = lax.reshape(
                r, shape_of(q) + tuple(1 if i in axes else d for i, d in enumerate(shape))
            )
        return r
    qs = shape_of(q)
    if method == "inverted_cdf":
        r = _inverted_cdf(xs, ws, q, None)
    else:
        pos = lax.mul(q, float(n - 1))
        lo = lax.clamp(0.0, lax.floor(pos), float(builtins.max(n - 1, 0)))
        hi = lax.clamp(0.0, lax.ceil(pos), float(builtins.max(n - 1, 0)))
        v_lo, v_hi = _take_last(xs, lo), _take_last(xs, hi)
        g = lax.broadcast_in_dim(lax.sub(pos, lo), shape_of(v_lo), tuple(range(len(qs))))
        r = _interpolate(method, g, v_lo, v_hi, dt)
    has_nan = isnan(_slice_last(xs, n - 1))
    has_nan = lax.broadcast_in_dim(has_nan, shape_of(r), tuple(range(len(qs), len(shape_of(r)))))
    r = lax.select(has_nan, filled(r, np.nan), r)
    if keepdims:
        kept = tuple(1 if i in axes else d for i, d in enumerate(shape))
        r = lax.reshape(r, qs + kept)
    return r


def _interpolate(method, g, v_lo, v_hi, dt):
    """The value between the two order statistics `v_lo` <= `v_hi` at fraction `g` (float64)."""
    if method in ("lower", "higher"):
        return convert(v_hi if method == "higher" else v_lo, dt)
    if method == "nearest":  # JAX: the lower one at an exact half
        return convert(lax.select(lax.le(g, 0.5), v_lo, v_hi), dt)
    g = convert(g if method == "linear" else filled(g, 0.5), dt)
    diff = convert(lax.sub(v_hi, v_lo), dt)  # NB: NumPy subtracts in the input dtype
    v_lo, v_hi = convert(v_lo, dt), convert(v_hi, dt)
    return lax.select(
        lax.ge(g, 0.5),
        lax.sub(v_hi, lax.mul(diff, lax.sub(1.0, g))),
        lax.add(v_lo, lax.mul(diff, g)),
    )


def _inverted_cdf(xs, ws, q, valid):
    """JAX's inverted_cdf: per slice of `xs` (sorted along its last axis, NaNs last, `ws` the
    weights sorted with it or None for ones), the first value whose cumulative weight reaches
    `q` of the slice's total; NaN where a weight is negative or NaN. NaN values weigh nothing;
    `valid` (the non-NaN count per slice, or None for all) bounds the index. Shape q + rest."""
    s = shape_of(xs)
    qs, last = shape_of(q), len(s) - 1
    rest = s[:-1]
    dt = dtype_of(xs)
    nan = isnan(xs)
    zero = filled(xs, 0)
    if ws is None:
        bad = None
        clean = lax.select(nan, zero, filled(xs, 1))
    else:
        bad = lax.bitwise_or(lax.lt(ws, zero), isnan(ws))
        clean = lax.select(lax.bitwise_or(bad, nan), zero, ws)
    cw = lax.cumsum(clean, axis=last)
    total = _slice_last(cw, s[-1] - 1)
    full = qs + rest
    target = lax.mul(
        lax.broadcast_in_dim(convert(q, dt), full, tuple(range(len(qs)))),
        lax.broadcast_in_dim(total, full, tuple(range(len(qs), len(full)))),
    )
    less = lax.lt(
        lax.broadcast_in_dim(cw, qs + s, tuple(range(len(qs), len(qs) + len(s)))),
        lax.broadcast_in_dim(target, qs + s, tuple(range(len(full)))),
    )
    idx = lax.reduce_sum(convert(less, dtypes.int64), (len(full),))
    if valid is None:
        top = filled(idx, s[-1] - 1)
    else:
        top = lax.broadcast_in_dim(
            convert(valid, dtypes.int64), full, tuple(range(len(qs), len(full)))
        )
        top = lax.sub(top, filled(top, 1))
    idx = lax.max(lax.min(idx, top), filled(idx, 0))
    r = _take_last_per(xs, idx, qs)
    if bad is not None:
        any_bad = lax.reduce_or(bad, (last,))
        any_bad = lax.broadcast_in_dim(any_bad, full, tuple(range(len(qs), len(full))))
        r = lax.select(any_bad, filled(r, np.nan), r)
    return r


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Median of the non-NaN values along `axis` (NaN where a slice is all NaN)."""
    _no_out("nanmedian", out)
    return _nanquantile(asarray(a, "nanmedian"), None, axis, keepdims, "nanmedian")


def _nanquantile(a, q, axis, keepdims, name, method="linear", weights=None):
    """Quantiles of the non-NaN values (`method` as `quantile`'s); `q=None` is the median."""
    q = asarray(0.5 if q is None else q, name)
    xs, shape, axes, ws = _sorted_last(a, axis, name, keepdims, weights)
    dt = dtype_of(xs)  # JAX: the inexact dtype of `a`; q does not take part
    q = _as_dtype(q, dtypes.float64)
    qs = shape_of(q)
    count = sum(logical_not(isnan(xs)), (len(shape_of(xs)) - 1,), dtype=dtypes.default_int_dtype())
    rest = shape_of(count)
    full = qs + rest
    cnt = convert(
        lax.broadcast_in_dim(count, full, tuple(range(len(qs), len(full)))), dtypes.float64
    )
    if shape_of(xs)[-1] == 0:
        r = _nans(full, dt)
    elif method == "inverted_cdf":
        r = _inverted_cdf(xs, ws, q, count)
    else:
        top = lax.max(lax.sub(cnt, 1.0), 0.0)
        pos = lax.mul(lax.broadcast_in_dim(q, full, tuple(range(len(qs)))), top)
        lo, hi = lax.floor(pos), lax.ceil(pos)
        v_lo, v_hi = _take_last_per(xs, lo, qs), _take_last_per(xs, hi, qs)
        if name == "nanmedian":  # NumPy's median: the mean of the two middle values
            r = lax.div(lax.add(v_lo, v_hi), 2.0)
        else:
            r = _interpolate(method, lax.sub(pos, lo), v_lo, v_hi, dt)
    r = lax.select(lax.eq(cnt, 0.0), filled(r, np.nan), r)
    if keepdims:
        r = lax.reshape(r, qs + tuple(1 if i in axes else d for i, d in enumerate(shape)))
    return r


def _nans(shape, dt):
    return lax.broadcast_in_dim(convert(np.nan, dt), tuple(shape), ())


def _take_last_per(xs, idx, qs):
    """`xs[..., idx]` where `idx` has shape `qs + xs.shape[:-1]` (a per-slice index)."""
    s = shape_of(xs)
    full = qs + s
    onehot = lax.eq(
        lax.broadcasted_iota(dtypes.int64, full, len(full) - 1),
        lax.broadcast_in_dim(convert(idx, dtypes.int64), full, tuple(range(len(full) - 1))),
    )
    xb = lax.broadcast_in_dim(xs, full, tuple(range(len(qs), len(full))))
    return lax.reduce_sum(lax.select(onehot, xb, filled(xb, 0)), (len(full) - 1,))
