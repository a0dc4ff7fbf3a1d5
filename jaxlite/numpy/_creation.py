"""Array creation: `array`, `asarray`, `zeros`, `full`, `arange`, `linspace`, `eye`, `tri`,
`meshgrid`, `diag`, ... Filled arrays are `broadcast_in_dim` of a scalar, as in JAX, so that they
stage as one equation under `make_jaxpr` instead of a captured constant.
"""

from __future__ import annotations

import math

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.array import Array, _wrap
from jaxlite.core import Tracer
from jaxlite.numpy import _reductions as red
from jaxlite.numpy._indexing import take
from jaxlite.numpy._ufuncs import log10, power, sign
from jaxlite.numpy._util import (
    broadcast_shapes,
    broadcast_to_shape,
    canonical_dtype,
    canonicalize_axis,
    concrete_int,
    concrete_value,
    convert,
    dtype_of,
    dtype_weak,
    fname,
    normalize_shape,
    shape_of,
    supported_dtype,
    to_array,
)


def array(object, dtype=None, copy=True, order=None, ndmin=0):  # noqa: A002 - NumPy's name
    """Creates an Array from array-like data: lists, tuples, NumPy arrays, scalars, Arrays.

    Python scalars give weakly typed arrays; lists of Python floats give the default float
    (float32; float64 with x64).

    Example:
      >>> jnp.array([[1, 2], [3, 4]], dtype=jnp.float32)
      Array([[1., 2.],
             [3., 4.]], dtype=float32)
    """
    return to_array(object, dtype, int(ndmin), "array")


def asarray(a, dtype=None, order=None, *, copy=None):
    """Converts `a` to an Array; Arrays and tracers of the right dtype pass through unchanged."""
    if type(a) is Array or isinstance(a, Tracer):
        if dtype is None:
            return a
        dt = canonical_dtype(dtype, "asarray")
        return a if dtype_weak(a) == (dt, False) else convert(a, dt, False, "asarray")
    return to_array(a, dtype, 0, "asarray")


def copy(a, order=None):
    """A copy of `a` (a `copy` equation under tracing)."""
    return lax.copy(to_array(a, None, 0, "copy"))


# ------------------------------------------------------------------------------------------
# Filled arrays
# ------------------------------------------------------------------------------------------


def full(shape, fill_value, dtype=None):
    """An array of `shape` filled with `fill_value` (weakly typed for a Python scalar fill).

    Example:
      >>> jnp.full((2,), 7, dtype=jnp.int32)
      Array([7, 7], dtype=int32)
    """
    shape = normalize_shape(shape, "full")
    dt = canonical_dtype(dtype, "full")
    fill = to_array(fill_value, None, 0, "full")
    if dt is not None:
        fill = convert(fill, dt, False, "full")
    fs = shape_of(fill)
    if fs == ():
        return lax.broadcast_in_dim(fill, shape, ())
    return broadcast_to_shape(fill, shape, "full")


def _filled(shape, value, dtype, name: str):
    shape = normalize_shape(shape, name)
    dt = canonical_dtype(dtype, name) or dtypes.default_float_dtype()
    return lax.broadcast_in_dim(_wrap(np.asarray(value, dt), False), shape, ())


def zeros(shape, dtype=None):
    """An array of zeros (float64 unless `dtype` is given)."""
    return _filled(shape, 0, dtype, "zeros")


def ones(shape, dtype=None):
    """An array of ones (float64 unless `dtype` is given)."""
    return _filled(shape, 1, dtype, "ones")


def empty(shape, dtype=None):
    """Same as `zeros`: jaxlite arrays are immutable, so uninitialised memory is never useful."""
    return _filled(shape, 0, dtype, "empty")


def _like(a, value, dtype, shape, name: str):
    if isinstance(a, (list, tuple)) or not hasattr(a, "shape"):
        a = to_array(a, None, 0, name)
    s = shape_of(a) if shape is None else normalize_shape(shape, name)
    dt = canonical_dtype(dtype, name)
    if dt is None:
        dt, weak = dtype_weak(a)
        dt = supported_dtype(np.dtype(dt), name)
    else:
        weak = False
    if value is None:
        return dt, weak, s
    return lax.broadcast_in_dim(_wrap(np.asarray(value, dt), weak), s, ())


def zeros_like(a, dtype=None, shape=None):
    """Zeros with the shape and dtype of `a`."""
    return _like(a, 0, dtype, shape, "zeros_like")


def ones_like(a, dtype=None, shape=None):
    """Ones with the shape and dtype of `a`."""
    return _like(a, 1, dtype, shape, "ones_like")


def empty_like(prototype, dtype=None, shape=None):
    """Same as `zeros_like`."""
    return _like(prototype, 0, dtype, shape, "empty_like")


def full_like(a, fill_value, dtype=None, shape=None):
    """An array with the shape and dtype of `a`, filled with `fill_value`."""
    dt, weak, s = _like(a, None, dtype, shape, "full_like")
    fill = convert(to_array(fill_value, None, 0, "full_like"), dt, weak, "full_like")
    if shape_of(fill) == ():
        return lax.broadcast_in_dim(fill, s, ())
    return broadcast_to_shape(fill, s, "full_like")


# ------------------------------------------------------------------------------------------
# Ranges
# ------------------------------------------------------------------------------------------


def _static_number(x, name: str, what: str):
    if x is None:
        return None
    v = concrete_value(x, name, f"its argument `{what}`")
    if v.ndim != 0:
        raise TypeError(f"{fname(name)}: `{what}` must be a scalar, got shape {v.shape}")
    return v[()] if isinstance(x, (Array, Tracer, np.ndarray, np.generic)) else x


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in `[start, stop)`; the arguments must be static (not traced).

    `arange(n)` stages one `iota`; other ranges are computed by NumPy as constants, as in JAX.

    Example:
      >>> jnp.arange(5)
      Array([0, 1, 2, 3, 4], dtype=int32)
    """
    dt = canonical_dtype(dtype, "arange")
    if start is None:
        raise TypeError("jnp.arange: `start` (or `stop`) must be a number, got None")
    start = _static_number(start, "arange", "start")
    stop = _static_number(stop, "arange", "stop")
    step = _static_number(step, "arange", "step")
    if stop is None:
        start, stop = 0, start
    if step is None:
        step = 1
    if step == 0:
        raise ValueError("jnp.arange: step must not be zero")
    v = np.arange(start, stop, step)
    out_dt = dt or dtypes.canonicalize(supported_dtype(v.dtype, "arange"))  # NumPy's int64
    if dt is not None:
        v = np.arange(start, stop, step, dtype=dt)
    if isinstance(start, (int, np.integer)) and start == 0 and step == 1:
        return lax.iota(out_dt, v.shape[0])
    return _wrap(np.ascontiguousarray(v.astype(out_dt, copy=False)), False)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """`num` evenly spaced samples from `start` to `stop` (NumPy's algorithm; traceable in
    `start` and `stop`).

    Example:
      >>> jnp.linspace(0.0, 1.0, 5)
      Array([0.  , 0.25, 0.5 , 0.75, 1.  ], dtype=float32)
    """
    num = concrete_int(num, "linspace", "num")
    if num < 0:
        raise ValueError(f"jnp.linspace: number of samples, {num}, must be non-negative")
    out_dt = canonical_dtype(dtype, "linspace")
    start = to_array(start, None, 0, "linspace")
    stop = to_array(stop, None, 0, "linspace")
    cdt = _inexact_result_type(start, stop)
    start, stop = convert(start, cdt), convert(stop, cdt)
    bshape = broadcast_shapes("linspace", shape_of(start), shape_of(stop))
    start = broadcast_to_shape(start, bshape, "linspace")
    stop = broadcast_to_shape(stop, bshape, "linspace")
    nd = len(bshape) + 1
    ax = canonicalize_axis(axis, nd, "linspace")
    shape = bshape[:ax] + (num,) + bshape[ax:]
    rest = tuple(i for i in range(nd) if i != ax)
    start_b = lax.broadcast_in_dim(start, shape, rest)
    stop_b = lax.broadcast_in_dim(stop, shape, rest)
    div = (num - 1) if endpoint else num
    idx = lax.broadcasted_iota(cdt, shape, ax)
    delta = lax.sub(stop_b, start_b)
    if div > 0:
        step = lax.div(delta, float(div))
        y = lax.add(lax.mul(idx, step), start_b)
    else:
        step = lax.mul(delta, np.nan)
        y = lax.add(lax.mul(idx, delta), start_b)
    if endpoint and num > 1:
        last = lax.eq(lax.broadcasted_iota(dtypes.int64, shape, ax), num - 1)
        y = lax.select(last, stop_b, y)
    if out_dt is not None and out_dt.kind in "iu":
        y = lax.floor(y)
    if out_dt is not None:
        y = convert(y, out_dt)
    if retstep:
        step = lax.div(lax.sub(stop, start), float(div)) if div > 0 else lax.mul(stop, np.nan)
        return y, step
    return y


def _inexact_result_type(start, stop) -> np.dtype:
    """The float dtype linspace, logspace and geomspace compute in: JAX's `to_inexact_dtype` of
    `result_type(start, stop)` (Python scalars: the default dtype of their kind)."""
    return dtypes.to_inexact(dtypes.public_result_type(dtype_weak(start), dtype_weak(stop)))


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """`base ** linspace(start, stop, num)`."""
    y = linspace(start, stop, num, endpoint, axis=axis)
    out = power(base, y) if not isinstance(base, (int, float)) else power(float(base), y)
    return out if dtype is None else convert(out, canonical_dtype(dtype, "logspace"))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Samples evenly spaced on a log scale from `start` to `stop` (the endpoints are exact)."""
    start = to_array(start, None, 0, "geomspace")
    stop = to_array(stop, None, 0, "geomspace")
    cdt = _inexact_result_type(start, stop)
    start, stop = convert(start, cdt), convert(stop, cdt)
    s = sign(start)
    a, b = lax.div(start, s), lax.div(stop, s)
    y = power(10.0, linspace(log10(a), log10(b), num, endpoint, axis=axis))
    nd = len(shape_of(y))
    ax = canonicalize_axis(axis, nd, "geomspace")
    shape = shape_of(y)
    rest = tuple(i for i in range(nd) if i != ax)
    pos = lax.broadcasted_iota(dtypes.int64, shape, ax)
    if num > 0:
        y = lax.select(lax.eq(pos, 0), lax.broadcast_in_dim(a, shape, rest), y)
    if num > 1 and endpoint:
        y = lax.select(lax.eq(pos, num - 1), lax.broadcast_in_dim(b, shape, rest), y)
    y = lax.mul(y, lax.broadcast_in_dim(s, shape, rest))
    return y if dtype is None else convert(y, canonical_dtype(dtype, "geomspace"))


# ------------------------------------------------------------------------------------------
# Matrices
# ------------------------------------------------------------------------------------------


def _diag_mask(n: int, m: int, k: int, op):
    rows = lax.broadcasted_iota(dtypes.int64, (n, m), 0)
    cols = lax.broadcasted_iota(dtypes.int64, (n, m), 1)
    return op(cols, lax.add(rows, k))


def eye(N, M=None, k=0, dtype=None):
    """A 2-D array with ones on the `k`-th diagonal and zeros elsewhere.

    Example:
      >>> jnp.eye(2, dtype=jnp.int32)
      Array([[1, 0],
             [0, 1]], dtype=int32)
    """
    n = concrete_int(N, "eye", "N")
    m = n if M is None else concrete_int(M, "eye", "M")
    k = concrete_int(k, "eye", "k")
    dt = canonical_dtype(dtype, "eye") or dtypes.default_float_dtype()
    normalize_shape((n, m), "eye")
    return lax.convert_element_type(_diag_mask(n, m, k, lax.eq), dt)


def identity(n, dtype=None):
    """The `n` x `n` identity matrix."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the `k`-th diagonal, zeros above."""
    n = concrete_int(N, "tri", "N")
    m = n if M is None else concrete_int(M, "tri", "M")
    dt = canonical_dtype(dtype, "tri") or dtypes.float32  # NB: JAX's default here, even with x64
    normalize_shape((n, m), "tri")
    return lax.convert_element_type(_diag_mask(n, m, concrete_int(k, "tri", "k"), lax.le), dt)


def _tri_select(m, k, op, name):
    m = to_array(m, None, 0, name)
    s = shape_of(m)
    if len(s) < 2:
        raise ValueError(f"{fname(name)}: the input must be at least 2-D, got shape {s}")
    mask = _diag_mask(s[-2], s[-1], concrete_int(k, name, "k"), op)
    mask = lax.broadcast_in_dim(mask, s, (len(s) - 2, len(s) - 1))
    zero = lax.broadcast_in_dim(convert(0, dtype_of(m), dtype_weak(m)[1]), s, ())
    return lax.select(mask, m, zero)


def tril(m, k=0):
    """`m` with the entries above the `k`-th diagonal set to zero (last two axes)."""
    return _tri_select(m, k, lax.le, "tril")


def triu(m, k=0):
    """`m` with the entries below the `k`-th diagonal set to zero (last two axes)."""
    return _tri_select(m, k, lax.ge, "triu")


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The `offset`-th diagonal over `axis1`, `axis2` (moved to the last axis of the result).

    Built from reshape and a strided slice: element i sits at i * (m + 1) + offset.
    """
    a = to_array(a, None, 0, "diagonal")
    s = shape_of(a)
    if len(s) < 2:
        raise ValueError(f"jnp.diagonal: the input must be at least 2-D, got shape {s}")
    a1 = canonicalize_axis(axis1, len(s), "diagonal", s)
    a2 = canonicalize_axis(axis2, len(s), "diagonal", s)
    if a1 == a2:
        raise ValueError(f"jnp.diagonal: axis1 and axis2 cannot be the same ({axis1})")
    k = concrete_int(offset, "diagonal", "offset")
    perm = [i for i in range(len(s)) if i not in (a1, a2)] + [a1, a2]
    a = lax.transpose(a, perm)
    lead = tuple(s[i] for i in perm[:-2])
    n, m = s[a1], s[a2]
    length = max(0, min(n, m - k) if k >= 0 else min(n + k, m))
    flat = lax.reshape(a, lead + (n * m,))
    start = k if k >= 0 else -k * m
    if length == 0:
        start = 0
    limit = start + (length - 1) * (m + 1) + 1 if length else 0
    z = (0,) * len(lead)
    return lax.slice(flat, z + (start,), lead + (limit,), (1,) * len(lead) + (m + 1,))


def diag(v, k=0):
    """The `k`-th diagonal of a 2-D `v`, or a 2-D array with the 1-D `v` on its `k`-th diagonal."""
    v = to_array(v, None, 0, "diag")
    s = shape_of(v)
    k = concrete_int(k, "diag", "k")
    if len(s) == 2:
        return diagonal(v, k)
    if len(s) != 1:
        raise ValueError(f"jnp.diag: the input must be 1-D or 2-D, got shape {s}")
    n = s[0] + abs(k)
    cfg = [(0, abs(k), 0)]
    vp = lax.pad(v, convert(0, dtype_of(v), dtype_weak(v)[1]), cfg)
    shape = (n, n)
    if k >= 0:
        vb = lax.broadcast_in_dim(vp, shape, (0,))  # row i holds v[i] at column i + k
    else:
        vb = lax.broadcast_in_dim(vp, shape, (1,))  # column j holds v[j] at row j - k
    mask = _diag_mask(n, n, k, lax.eq)
    zero = lax.broadcast_in_dim(convert(0, dtype_of(v), dtype_weak(v)[1]), shape, ())
    return lax.select(mask, vb, zero)


def diagflat(v, k=0):
    """A 2-D array with the flattened `v` on its `k`-th diagonal."""
    v = to_array(v, None, 0, "diagflat")
    return diag(lax.reshape(v, (math.prod(shape_of(v)),)), k)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """Sum along the `offset`-th diagonal (integers accumulate in int64)."""
    return red.sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype, out=out)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate matrices from coordinate vectors (`indexing` 'xy' or 'ij')."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"jnp.meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    xs = [to_array(x, None, 0, "meshgrid") for x in xi]
    xs = [lax.reshape(x, (math.prod(shape_of(x)),)) for x in xs]
    sizes = [shape_of(x)[0] for x in xs]
    if indexing == "xy" and len(xs) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, x in enumerate(xs):
        d = i
        if indexing == "xy" and len(xs) >= 2 and i < 2:
            d = 1 - i
        if sparse:
            shape = tuple(s if j == d else 1 for j, s in enumerate(sizes))
            out.append(lax.reshape(x, shape))
        else:
            out.append(lax.broadcast_in_dim(x, tuple(sizes), (d,)))
    return out


def indices(dimensions, dtype=None, sparse=False):
    """An array of grid indices: `out[k][i0, i1, ...] = ik` (a tuple of arrays if `sparse`)."""
    dims = normalize_shape(dimensions, "indices")
    dt = canonical_dtype(dtype, "indices") or dtypes.default_int_dtype()
    if sparse:
        return tuple(
            lax.broadcasted_iota(dt, tuple(d if j == i else 1 for j, d in enumerate(dims)), i)
            for i in range(len(dims))
        )
    parts = [lax.broadcasted_iota(dt, (1,) + dims, i + 1) for i in range(len(dims))]
    if not parts:
        return lax.broadcast_in_dim(_wrap(np.asarray(0, dt)), (0,), ())
    return lax.concatenate(parts, 0)


def fromfunction(function, shape, *, dtype=float, **kwargs):
    """`function(*indices(shape))` with index arrays of the default float dtype (by default)."""
    shape = normalize_shape(shape, "fromfunction")
    dt = canonical_dtype(dtype, "fromfunction")
    return function(*indices(shape, dt, sparse=False), **kwargs) if shape else function(**kwargs)


def _static_indices(fn, *args):
    return tuple(_wrap(np.asarray(i, dtypes.int64)) for i in fn(*args))


def tril_indices(n, k=0, m=None):
    """Row and column indices (int64) of the lower triangle of an `n` x `m` array."""
    return _static_indices(np.tril_indices, concrete_int(n, "tril_indices", "n"), k, m)


def triu_indices(n, k=0, m=None):
    """Row and column indices (int64) of the upper triangle of an `n` x `m` array."""
    return _static_indices(np.triu_indices, concrete_int(n, "triu_indices", "n"), k, m)


def tril_indices_from(arr, k=0):
    """`tril_indices` for the shape of the 2-D `arr`."""
    s = shape_of(to_array(arr, None, 0, "tril_indices_from"))
    return tril_indices(s[-2], k, s[-1])


def triu_indices_from(arr, k=0):
    """`triu_indices` for the shape of the 2-D `arr`."""
    s = shape_of(to_array(arr, None, 0, "triu_indices_from"))
    return triu_indices(s[-2], k, s[-1])


def diag_indices(n, ndim=2):
    """Indices (int64) of the main diagonal of an `n` x ... x `n` array."""
    i = lax.iota(dtypes.int64, concrete_int(n, "diag_indices", "n"))
    return (i,) * ndim


def diag_indices_from(arr):
    """`diag_indices` for the square `arr`."""
    s = shape_of(to_array(arr, None, 0, "diag_indices_from"))
    if len(set(s)) != 1:
        raise ValueError(f"jnp.diag_indices_from: all dimensions must be equal, got {s}")
    return diag_indices(s[0], len(s))


def fill_diagonal(a, val, wrap=False, *, inplace=True):
    """`a` with its main diagonal set to `val` (repeated cyclically if it is an array).

    jaxlite arrays are immutable: pass `inplace=False` and use the returned array (as in JAX).
    """
    if inplace:
        raise ValueError(
            "jnp.fill_diagonal: jaxlite arrays are immutable; call it with inplace=False and "
            "use the returned array"
        )
    a = to_array(a, None, 0, "fill_diagonal")
    s = shape_of(a)
    if len(s) < 2:
        raise ValueError(f"jnp.fill_diagonal: array must be at least 2-d, got shape {s}")
    if len(s) > 2 and len(set(s)) != 1:
        raise ValueError(f"jnp.fill_diagonal: all dimensions must be of equal length, got {s}")
    total = math.prod(s)
    if len(s) == 2:  # NumPy's flat-index walk: every (m + 1)-th element
        step = s[1] + 1
        end = total if wrap else min(total, s[1] * s[1])
    else:
        step = 1 + int(np.cumprod(s[:-1]).sum())
        end = total
    flat = lax.reshape(a, (total,))
    idx = lax.iota(dtypes.int64, total)
    mask = lax.bitwise_and(lax.eq(lax.rem(idx, step), 0), lax.lt(idx, end))
    v = to_array(val, None, 0, "fill_diagonal")
    v = convert(v, dtype_of(a), dtype_weak(a)[1], "fill_diagonal")
    nv = math.prod(shape_of(v))
    if nv == 1:
        vals = lax.broadcast_in_dim(lax.reshape(v, ()), (total,), ())
    else:
        vals = take(lax.reshape(v, (nv,)), lax.rem(lax.div(idx, step), nv), mode="clip")
    return lax.reshape(lax.select(mask, vals, flat), s)
