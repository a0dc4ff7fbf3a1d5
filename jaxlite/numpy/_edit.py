"""Index arithmetic and editing: unravel_index, ravel_multi_index, diff, ediff1d, resize,
delete, insert, trim_zeros. Static index sets become slices and concatenations.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.numpy._shape import _slice_axis, concatenate, moveaxis, ravel, tile
from jaxlite.numpy._ufuncs import add, multiply, not_equal, remainder, subtract
from jaxlite.numpy._util import (
    asarray,
    broadcast_to_shape,
    canonicalize_axis,
    concrete_int,
    concrete_value,
    convert,
    dtype_of,
    dtype_weak,
    normalize_shape,
    promote_dtypes,
    shape_of,
)
from jaxlite.util import safe_zip

# ------------------------------------------------------------------------------------------
# Index arithmetic, differences, resizing
# ------------------------------------------------------------------------------------------


def unravel_index(indices, shape):
    """Flat indices -> a tuple of coordinate arrays for an array of `shape` (C order).

    As in JAX, negative indices count from the end and out-of-bounds indices are clipped.
    """
    dims = normalize_shape(shape, "unravel_index")
    idx = asarray(indices, "unravel_index")
    if dtype_of(idx).kind not in "iu":
        raise TypeError(f"jnp.unravel_index: indices must be integers, got {dtype_of(idx)}")
    total = math.prod(dims)
    idx = convert(idx, dtypes.int64)
    idx = lax.select(lax.lt(idx, 0), lax.add(idx, total), idx)
    idx = lax.clamp(0, idx, builtins.max(total - 1, 0))
    out = []
    stride = total
    for d in dims:
        stride //= d if d else 1
        out.append(lax.rem(lax.div(idx, builtins.max(stride, 1)), builtins.max(d, 1)))
    return tuple(out)


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """Coordinate arrays -> flat indices (C order); `mode` 'raise', 'wrap' or 'clip'."""
    dims = normalize_shape(dims, "ravel_multi_index")
    if len(multi_index) != len(dims):
        raise ValueError(
            f"jnp.ravel_multi_index: {len(multi_index)} index arrays for {len(dims)} dimensions"
        )
    if order not in ("C", "F"):
        raise ValueError(f"jnp.ravel_multi_index: order must be 'C' or 'F', got {order!r}")
    idxs = [convert(asarray(i, "ravel_multi_index"), dtypes.int64) for i in multi_index]
    idxs = list(promote_dtypes("ravel_multi_index", *idxs))
    if mode == "raise":
        for i, d in safe_zip(idxs, dims):
            v = concrete_value(i, "ravel_multi_index", "indices (with mode='raise')")
            if v.size and (v.min() < 0 or v.max() >= d):
                raise ValueError(f"jnp.ravel_multi_index: invalid entry in coordinates for dim {d}")
    elif mode == "wrap":
        idxs = [remainder(i, d) for i, d in safe_zip(idxs, dims)]
    elif mode == "clip":
        idxs = [lax.clamp(0, i, builtins.max(d - 1, 0)) for i, d in safe_zip(idxs, dims)]
    else:
        raise ValueError(f"jnp.ravel_multi_index: mode must be raise, wrap or clip, got {mode!r}")
    order_dims = list(range(len(dims))) if order == "C" else list(reversed(range(len(dims))))
    out = None
    stride = 1
    for k in reversed(order_dims):
        term = multiply(idxs[k], stride)
        out = term if out is None else add(out, term)
        stride *= dims[k]
    return out


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The `n`-th discrete difference along `axis`."""
    a = asarray(a, "diff")
    s = shape_of(a)
    if not s:
        raise ValueError("jnp.diff: requires an input that is at least one dimensional")
    ax = canonicalize_axis(axis, len(s), "diff", s)
    n = concrete_int(n, "diff", "n")
    if n < 0:
        raise ValueError(f"jnp.diff: order must be non-negative, got {n}")
    if prepend is not None or append is not None:

        def edge(e):
            e = asarray(e, "diff")
            if shape_of(e) == ():
                e = broadcast_to_shape(e, s[:ax] + (1,) + s[ax + 1 :], "diff")
            return e

        pre = [edge(prepend)] if prepend is not None else []
        post = [edge(append)] if append is not None else []
        a = concatenate(pre + [a] + post, ax)
    op = not_equal if dtype_of(a).kind == "b" else subtract
    for _ in range(n):
        m = shape_of(a)[ax]
        if m == 0:
            break
        a = op(_slice_axis(a, ax, 1, m), _slice_axis(a, ax, 0, m - 1))
    return a


def ediff1d(ary, to_end=None, to_begin=None):
    """Differences between consecutive elements of the flattened array."""
    d = diff(ravel(asarray(ary, "ediff1d")))
    parts = ([ravel(asarray(to_begin, "ediff1d"))] if to_begin is not None else []) + [d]
    parts += [ravel(asarray(to_end, "ediff1d"))] if to_end is not None else []
    return concatenate(parts) if len(parts) > 1 else d


def resize(a, new_shape):
    """`a` flattened, repeated as needed and reshaped to `new_shape`."""
    a = ravel(asarray(a, "resize"))
    shape = normalize_shape(new_shape, "resize")
    total = math.prod(shape)
    n = shape_of(a)[0]
    if total == 0 or n == 0:
        return lax.broadcast_in_dim(convert(0, dtype_of(a)), shape, ())
    reps = -(-total // n)
    return lax.reshape(lax.slice(tile(a, reps), (0,), (total,)), shape)


def _runs(keep: np.ndarray) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, k in enumerate(list(keep) + [False]):
        if k and start is None:
            start = i
        elif not k and start is not None:
            runs.append((start, i))
            start = None
    return runs


def delete(arr, obj, axis=None):
    """`arr` without the entries `obj` (static ints, a slice, or a bool mask) along `axis`."""
    a = asarray(arr, "delete")
    if axis is None:
        a = ravel(a)
        axis = 0
    s = shape_of(a)
    ax = canonicalize_axis(axis, len(s), "delete", s)
    n = s[ax]
    keep = np.ones(n, bool)
    if isinstance(obj, slice):
        keep[obj] = False
    else:
        idx = concrete_value(obj, "delete", "`obj`")
        if idx.dtype == np.bool_:
            if idx.shape != (n,):
                raise ValueError(f"jnp.delete: boolean mask of shape {idx.shape} for axis size {n}")
            keep = ~idx
        else:
            idx = idx.astype(np.int64).ravel()
            if ((idx < -n) | (idx >= n)).any():
                raise IndexError(f"jnp.delete: index out of bounds for axis {ax} with size {n}")
            keep[idx] = False
    pieces = [_slice_axis(a, ax, lo, hi) for lo, hi in _runs(keep)]
    if not pieces:
        return _slice_axis(a, ax, 0, 0)
    return lax.concatenate(pieces, ax) if len(pieces) > 1 else pieces[0]


def insert(arr, obj, values, axis=None):
    """`arr` with `values` inserted before the static index (or indices) `obj` along `axis`."""
    a = asarray(arr, "insert")
    if axis is None:
        a = ravel(a)
        axis = 0
    s = shape_of(a)
    ax = canonicalize_axis(axis, len(s), "insert", s)
    n = s[ax]
    v = convert(asarray(values, "insert"), dtype_of(a), dtype_weak(a)[1], "insert")
    if isinstance(obj, slice):
        obj = np.arange(n)[obj]
    idx = concrete_value(obj, "insert", "`obj`").astype(np.int64)
    vs = shape_of(v)
    if len(vs) < len(s):  # NumPy's ndmin=arr.ndim
        v = lax.reshape(v, (1,) * (len(s) - len(vs)) + vs)
    if idx.ndim == 0:
        i = int(idx) + (n if idx < 0 else 0)
        if not 0 <= i <= n:
            raise IndexError(f"jnp.insert: index {int(idx)} is out of bounds for size {n}")
        v = moveaxis(v, 0, ax)
        k = shape_of(v)[ax]
        v = broadcast_to_shape(v, s[:ax] + (k,) + s[ax + 1 :], "insert")
        pieces = [_slice_axis(a, ax, 0, i), v, _slice_axis(a, ax, i, n)]
    else:
        idx = idx.ravel()
        idx = np.where(idx < 0, idx + n, idx)
        if ((idx < 0) | (idx > n)).any():
            raise IndexError(f"jnp.insert: an index is out of bounds for size {n}")
        v = broadcast_to_shape(v, s[:ax] + (idx.size,) + s[ax + 1 :], "insert")
        pieces, prev = [], 0
        for j in np.argsort(idx, kind="stable"):  # value j goes before a[idx[j]]
            pos = int(idx[j])
            pieces.append(_slice_axis(a, ax, prev, pos))
            pieces.append(_slice_axis(v, ax, int(j), int(j) + 1))
            prev = pos
        pieces.append(_slice_axis(a, ax, prev, n))
    pieces = [p for p in pieces if shape_of(p)[ax]]
    if not pieces:
        return _slice_axis(a, ax, 0, 0)
    return lax.concatenate(pieces, ax) if len(pieces) > 1 else pieces[0]


def trim_zeros(filt, trim="fb"):
    """The 1-D `filt` without leading (`f`) and/or trailing (`b`) zeros (needs concrete data)."""
    a = asarray(filt, "trim_zeros")
    v = concrete_value(a, "trim_zeros", "`filt`")
    nz = np.flatnonzero(v)
    if nz.size == 0:
        return _slice_axis(a, 0, 0, 0)
    lo = int(nz[0]) if "f" in trim.lower() else 0
    hi = int(nz[-1]) + 1 if "b" in trim.lower() else v.size
    return _slice_axis(a, 0, lo, hi)
