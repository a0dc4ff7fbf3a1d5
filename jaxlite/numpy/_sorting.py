"""Sorting and searching: sort, argsort (sort with an iota operand, as JAX does), lexsort,
searchsorted, partition, unique, nonzero/argwhere/where, bincount.

Functions whose output shape depends on the data (`unique`, `nonzero`, ...) need concrete values,
or a static `size=` as in JAX (then they trace: the first `size` results, padded with
`fill_value`).
"""

from __future__ import annotations

import math

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.numpy._edit import unravel_index
from jaxlite.numpy._indexing import take
from jaxlite.numpy._shape import concatenate, stack
from jaxlite.numpy._ufuncs import _where
from jaxlite.numpy._util import (
    asarray,
    canonicalize_axis,
    check_kind,
    concrete_int,
    concrete_value,
    convert,
    dtype_of,
    dtype_weak,
    fname,
    promote_dtypes,
    shape_of,
)
from jaxlite.util import safe_zip


def _flat(a):
    s = shape_of(a)
    return a if len(s) == 1 else lax.reshape(a, (math.prod(s),))


def _axis_or_flat(a, axis, name: str):
    a = asarray(a, name)
    if axis is None:
        return _flat(a), 0
    s = shape_of(a)
    if not s:
        raise ValueError(f"{fname(name)}: axis {axis} is out of bounds for a 0-d array")
    return a, canonicalize_axis(axis, len(s), name, s)


def sort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    """`a` sorted along `axis` (flattened when None); NaNs sort to the end.

    Example:
      >>> jnp.sort(jnp.array([3, 1, 2]))
      Array([1, 2, 3], dtype=int32)
    """
    if order is not None:
        raise TypeError("jnp.sort: the `order` argument (structured arrays) is not supported")
    a, ax = _axis_or_flat(a, axis, "sort")
    if descending:
        return lax.rev(lax.sort(lax.rev(a, (ax,)), dimension=ax), (ax,))
    return lax.sort(a, dimension=ax)


def argsort(a, axis=-1, kind=None, order=None, *, stable=True, descending=False):
    """Indices (int64) that sort `a` along `axis`; stable (equal elements keep their order)."""
    if order is not None:
        raise TypeError("jnp.argsort: the `order` argument (structured arrays) is not supported")
    a, ax = _axis_or_flat(a, axis, "argsort")
    s = shape_of(a)
    if descending:
        n = s[ax]
        rev = lax.rev(a, (ax,))
        idx = lax.sort((rev, lax.broadcasted_iota(dtypes.int64, s, ax)), dimension=ax, num_keys=1)[
            1
        ]
        return lax.rev(lax.sub(n - 1, idx), (ax,))
    iota = lax.broadcasted_iota(dtypes.int64, s, ax)
    return lax.sort((a, iota), dimension=ax, num_keys=1)[1]


def lexsort(keys, axis=-1):
    """Indices that sort by several keys: the last key is the primary one."""
    if not isinstance(keys, (tuple, list)) and not hasattr(keys, "shape"):
        raise TypeError(f"jnp.lexsort: keys must be a sequence of arrays, got {keys!r:.40}")
    keys = [asarray(k, "lexsort") for k in keys]
    if not keys:
        raise TypeError("jnp.lexsort: need at least one key")
    s = shape_of(keys[0])
    if any(shape_of(k) != s for k in keys):
        raise ValueError(
            f"jnp.lexsort: all keys need the same shape, got {[shape_of(k) for k in keys]}"
        )
    if not s:
        raise TypeError("jnp.lexsort: the keys must be at least 1-D")
    ax = canonicalize_axis(axis, len(s), "lexsort", s)
    iota = lax.broadcasted_iota(dtypes.int64, s, ax)
    out = lax.sort(tuple(reversed(keys)) + (iota,), dimension=ax, num_keys=len(keys))
    return out[-1]


def partition(a, kth, axis=-1):
    """`a` with the `kth` element in its sorted place, smaller ones before and larger ones after
    (a full sort, which satisfies that)."""
    a = asarray(a, "partition")
    s = shape_of(a)
    ax = canonicalize_axis(axis, len(s), "partition", s)
    _check_kth(kth, s[ax], "partition")
    return lax.sort(a, dimension=ax)


def argpartition(a, kth, axis=-1):
    """Indices that partition `a` around `kth` (a stable argsort, which satisfies that)."""
    a = asarray(a, "argpartition")
    s = shape_of(a)
    ax = canonicalize_axis(axis, len(s), "argpartition", s)
    _check_kth(kth, s[ax], "argpartition")
    return argsort(a, ax)


def _check_kth(kth, n: int, name: str):
    for k in np.atleast_1d(concrete_value(kth, name, "kth")).ravel():
        if not -n <= int(k) < n:
            raise ValueError(f"{fname(name)}: kth {int(k)} is out of bounds for size {n}")


def _less(x, y):
    """`x < y` in sort order: NaN is larger than everything."""
    lt = lax.lt(x, y)
    if not dtypes.is_float(dtype_of(x)):
        return lt
    return lax.bitwise_or(lt, lax.bitwise_and(lax.ne(y, y), lax.eq(x, x)))


def searchsorted(a, v, side="left", sorter=None, *, method="compare_all"):
    """Indices (int32, as JAX) where `v` would be inserted into the sorted 1-D `a` to keep it sorted.

    Counts the elements of `a` before each `v` (`method='compare_all'`, as in JAX).

    Example:
      >>> jnp.searchsorted(jnp.array([1, 2, 3]), jnp.array([2, 5]))
      Array([1, 3], dtype=int32)
    """
    if side not in ("left", "right"):
        raise ValueError(f"jnp.searchsorted: side must be 'left' or 'right', got {side!r}")
    a = asarray(a, "searchsorted")
    if len(shape_of(a)) != 1:
        raise ValueError(f"jnp.searchsorted: `a` must be 1-D, got shape {shape_of(a)}")
    if sorter is not None:
        a = take(a, sorter)
    a, v = promote_dtypes("searchsorted", a, asarray(v, "searchsorted"))
    check_kind("searchsorted", a, "iufb", "numeric arguments")
    vs = shape_of(v)
    n = shape_of(a)[0]
    full = vs + (n,)
    ab = lax.broadcast_in_dim(a, full, (len(vs),))
    vb = lax.broadcast_in_dim(v, full, tuple(range(len(vs))))
    before = _less(ab, vb) if side == "left" else lax.bitwise_not(_less(vb, ab))
    return lax.reduce_sum(lax.convert_element_type(before, dtypes.int32), (len(vs),))


# ------------------------------------------------------------------------------------------
# Data-dependent shapes
# ------------------------------------------------------------------------------------------


def _first_true(mask, size: int, fill):
    """Positions (int64) of the first `size` True entries of the 1-D `mask`, in order, then
    `fill`; and the number of True entries. A stable sort of `~mask` with an iota."""
    n = shape_of(mask)[0]
    iota = lax.iota(dtypes.int64, n)
    order = lax.sort((lax.bitwise_not(mask), iota), dimension=0, num_keys=1)[1]
    count = lax.reduce_sum(lax.convert_element_type(mask, dtypes.int64), (0,))
    if size <= n:
        pos = lax.slice(order, (0,), (size,))
    else:
        pos = lax.pad(order, convert(0, dtypes.int64), [(0, size - n, 0)])
    valid = lax.lt(lax.iota(dtypes.int64, size), count)
    return (
        lax.select(valid, pos, lax.broadcast_in_dim(convert(fill, dtypes.int64), (size,), ())),
        count,
        valid,
    )


def _static_size(x, size, name: str, count_fn) -> int:
    if size is not None:
        s = concrete_int(size, name, "size")
        if s < 0:
            raise ValueError(f"{fname(name)}: size must be non-negative, got {s}")
        return s
    return int(count_fn(concrete_value(x, name, "its input (or pass size=...)")))


def flatnonzero(a, *, size=None, fill_value=None):
    """Indices (int64) of the nonzero elements of the flattened `a`."""
    a = _flat(asarray(a, "flatnonzero"))
    n = _static_size(a, size, "flatnonzero", np.count_nonzero)
    mask = a if dtype_of(a).kind == "b" else lax.ne(a, 0)
    fill = 0 if fill_value is None else fill_value
    return _first_true(mask, n, fill)[0]


def nonzero(a, *, size=None, fill_value=None):
    """A tuple of index arrays (int64), one per dimension, of the nonzero elements of `a`.

    Needs a concrete `a`, or a static `size` (the first `size` indices, padded with
    `fill_value`, default 0), as in JAX.

    Example:
      >>> jnp.nonzero(jnp.array([0, 3, 0, 4]))
      (Array([1, 3], dtype=int32),)
    """
    a = asarray(a, "nonzero")
    s = shape_of(a)
    if not s:
        raise ValueError("jnp.nonzero: calling nonzero on 0-d arrays is not allowed")
    flat = _flat(a)
    n = _static_size(flat, size, "nonzero", np.count_nonzero)
    mask = flat if dtype_of(flat).kind == "b" else lax.ne(flat, 0)
    pos, count, valid = _first_true(mask, n, 0)
    coords = unravel_index(pos, s) if len(s) > 1 else (pos,)
    if fill_value is None:
        return tuple(coords)
    fills = fill_value if isinstance(fill_value, (tuple, list)) else (fill_value,) * len(s)
    if len(fills) != len(s):
        raise ValueError(
            f"jnp.nonzero: fill_value must be a scalar or a tuple of {len(s)} values (one per "
            f"dimension), got {fill_value!r:.60}"
        )
    return tuple(
        lax.select(valid, c, lax.broadcast_in_dim(convert(f, dtypes.int64), (n,), ()))
        for c, f in safe_zip(coords, fills)
    )


def where(condition, x=None, y=None, /):
    """`x` where `condition` is true, else `y` (broadcast together); one argument: `nonzero`.

    Example:
      >>> jnp.where(jnp.array([True, False]), 1.0, jnp.array([5.0, 6.0]))
      Array([1., 6.], dtype=float32)
    """
    if x is None and y is None:
        return nonzero(condition)
    if x is None or y is None:
        raise ValueError("jnp.where: pass either only `condition`, or `condition`, `x` and `y`")
    return _where(condition, x, y)


def argwhere(a, *, size=None, fill_value=None):
    """Indices (int64) of the nonzero elements of `a`, one row per element."""
    a = asarray(a, "argwhere")
    if not shape_of(a):  # NumPy: one row of zero coordinates per nonzero element
        n = _static_size(a, size, "argwhere", np.count_nonzero)
        return lax.broadcast_in_dim(convert(0, dtypes.int64), (n, 0), ())
    idx = nonzero(a, size=size, fill_value=fill_value)
    return stack(idx, axis=1)


def _sorted_with_perm(x):
    iota = lax.iota(dtypes.int64, shape_of(x)[0])
    return lax.sort((x, iota), dimension=0, num_keys=1)


def unique(
    ar,
    return_index=False,
    return_inverse=False,
    return_counts=False,
    axis=None,
    *,
    equal_nan=True,
    size=None,
    fill_value=None,
):
    """The sorted unique values of the flattened `ar`, optionally with the index of each first
    occurrence, the inverse indices and the counts.

    Needs a concrete `ar`, or a static `size` (padded with `fill_value`, default: the smallest
    unique value), as in JAX.

    Example:
      >>> jnp.unique(jnp.array([3, 1, 3, 2]))
      Array([1, 2, 3], dtype=int32)
    """
    if axis is not None:
        raise NotImplementedError("jnp.unique: the `axis` argument is not supported")
    ar = asarray(ar, "unique")
    x = _flat(ar)
    n_in = shape_of(x)[0]
    sx, perm = _sorted_with_perm(x)
    if n_in:
        prev = lax.slice(sx, (0,), (n_in - 1,))
        cur = lax.slice(sx, (1,), (n_in,))
        new = lax.ne(cur, prev)
        if equal_nan and dtypes.is_float(dtype_of(x)):
            new = lax.bitwise_and(
                new, lax.bitwise_not(lax.bitwise_and(lax.ne(cur, cur), lax.ne(prev, prev)))
            )
        mask = lax.concatenate(
            [lax.broadcast_in_dim(convert(True, dtypes.bool_), (1,), ()), new], 0
        )
    else:
        mask = lax.broadcast_in_dim(convert(True, dtypes.bool_), (0,), ())

    def count_unique(v):
        v = np.sort(v.ravel())
        if v.size == 0:
            return 0
        m = np.concatenate([[True], v[1:] != v[:-1]])
        if equal_nan and dtypes.is_float(v.dtype):
            m[1:] &= ~(np.isnan(v[1:]) & np.isnan(v[:-1]))
        return int(m.sum())

    k = _static_size(x, size, "unique", count_unique)
    pos, count, valid = _first_true(mask, k, 0)
    vals = (
        take(sx, pos, mode="clip")
        if n_in
        else lax.broadcast_in_dim(convert(0, dtype_of(x)), (k,), ())
    )
    if size is not None and n_in:
        fill = (
            lax.slice(sx, (0,), (1,))
            if fill_value is None
            else lax.reshape(
                convert(asarray(fill_value, "unique"), dtype_of(x), dtype_weak(x)[1]), (1,)
            )
        )
        vals = lax.select(valid, vals, lax.broadcast_in_dim(lax.reshape(fill, ()), (k,), ()))
    outs = [vals]
    if return_index:
        outs.append(take(perm, pos, mode="clip") if n_in else pos)
    if return_inverse:
        group = lax.sub(lax.cumsum(lax.convert_element_type(mask, dtypes.int64), 0), 1)
        inv_perm = lax.sort((perm, lax.iota(dtypes.int64, n_in)), dimension=0, num_keys=1)[1]
        inverse = take(group, inv_perm, mode="clip") if n_in else group
        outs.append(lax.reshape(inverse, shape_of(ar)) if len(shape_of(ar)) > 1 else inverse)
    if return_counts:
        if k == 0:
            counts = pos
        else:
            last = lax.broadcast_in_dim(convert(n_in, dtypes.int64), (1,), ())
            nxt = lax.concatenate([lax.slice(pos, (1,), (k,)), last], 0)
            before_last = lax.lt(lax.iota(dtypes.int64, k), lax.sub(count, 1))
            nxt = lax.select(before_last, nxt, lax.broadcast_in_dim(last, (k,), (0,)))
            counts = lax.select(valid, lax.sub(nxt, pos), lax.sub(pos, pos))
        outs.append(counts)
    return outs[0] if len(outs) == 1 else tuple(outs)


def unique_values(x, /):
    """The sorted unique values of `x` (array API)."""
    return unique(x)


def unique_counts(x, /):
    """`(values, counts)` of the unique values of `x` (array API)."""
    return unique(x, return_counts=True)


def unique_inverse(x, /):
    """`(values, inverse_indices)` of `x` (array API; the indices have the shape of `x`)."""
    return unique(x, return_inverse=True)


def unique_all(x, /):
    """`(values, indices, inverse_indices, counts)` of `x` (array API)."""
    return unique(x, return_index=True, return_inverse=True, return_counts=True)


def bincount(x, weights=None, minlength=0, *, length=None):
    """Counts of each value of the non-negative int array `x` (weighted sums with `weights`).

    The output length is `max(x) + 1` (needs a concrete `x`) or the static `length`.
    """
    x = asarray(x, "bincount")
    if len(shape_of(x)) != 1:
        raise ValueError(f"jnp.bincount: `x` must be 1-D, got shape {shape_of(x)}")
    check_kind("bincount", x, "iub", "an integer argument")
    minlength = concrete_int(minlength, "bincount", "minlength")
    if length is None:
        v = concrete_value(x, "bincount", "its input (or pass length=...)")
        if v.size and v.min() < 0:
            raise ValueError("jnp.bincount: `x` must be non-negative")
        length = max(int(v.max()) + 1 if v.size else 0, minlength)
    length = concrete_int(length, "bincount", "length")
    n = shape_of(x)[0]
    if weights is None:
        w = lax.broadcast_in_dim(convert(1, dtypes.int64), (n,), ())
    else:
        w = asarray(weights, "bincount")
        if shape_of(w) != (n,):
            raise ValueError(f"jnp.bincount: weights of shape {shape_of(w)} for x of shape {(n,)}")
        dt = dtype_of(w)
        w = convert(w, dtypes.float64 if not dtypes.is_float(dt) else dt)
    zeros = lax.broadcast_in_dim(convert(0, dtype_of(w)), (length,), ())
    idx = lax.reshape(convert(x, dtypes.int64), (n, 1))
    dn = lax.ScatterDimensionNumbers(
        update_window_dims=(), inserted_window_dims=(0,), scatter_dims_to_operand_dims=(0,)
    )
    return lax.scatter_add(zeros, idx, w, dn, mode=lax.GatherScatterMode.FILL_OR_DROP)


# ------------------------------------------------------------------------------------------
# Membership and set operations
# ------------------------------------------------------------------------------------------


def isin(element, test_elements, assume_unique=False, invert=False):
    """Whether each element of `element` is in `test_elements` (elementwise, shape of
    `element`)."""
    e = asarray(element, "isin")
    t = asarray(test_elements, "isin")
    t = _flat(t)
    e, t = promote_dtypes("isin", e, t)
    es = shape_of(e)
    full = es + shape_of(t)
    eq = lax.eq(
        lax.broadcast_in_dim(e, full, tuple(range(len(es)))),
        lax.broadcast_in_dim(t, full, (len(es),)),
    )
    found = lax.reduce_or(eq, (len(es),))
    return lax.bitwise_not(found) if invert else found


def compress(condition, a, axis=None, *, size=None, fill_value=0):
    """The slices of `a` along `axis` where the 1-D `condition` is true (flattened `a` when
    `axis` is None). Needs a concrete `condition`, or a static `size`."""
    c = _flat(asarray(condition, "compress"))
    a, ax = _axis_or_flat(a, axis, "compress")
    n = shape_of(a)[ax]
    m = shape_of(c)[0]
    if m > n:
        extra = concrete_value(c, "compress", "`condition`")[n:]
        if extra.any():
            raise IndexError(f"jnp.compress: condition has True entries beyond axis size {n}")
        c = lax.slice(c, (0,), (n,))
    elif m < n:
        c = lax.pad(
            c if dtype_of(c).kind == "b" else lax.ne(c, 0),
            convert(False, dtypes.bool_),
            [(0, n - m, 0)],
        )
    mask = c if dtype_of(c).kind == "b" else lax.ne(c, 0)
    k = _static_size(mask, size, "compress", np.count_nonzero)
    pos, _, valid = _first_true(mask, k, 0)
    out = take(a, pos, axis=ax, mode="clip")
    if size is None:
        return out
    fill = lax.broadcast_in_dim(
        convert(fill_value, dtype_of(out), dtype_weak(out)[1]), shape_of(out), ()
    )
    vb = lax.broadcast_in_dim(valid, shape_of(out), (ax,))
    return lax.select(vb, out, fill)


def extract(condition, arr, *, size=None, fill_value=0):
    """The elements of the flattened `arr` where the flattened `condition` is true."""
    return compress(
        _flat(asarray(condition, "extract")),
        _flat(asarray(arr, "extract")),
        size=size,
        fill_value=fill_value,
    )


def union1d(ar1, ar2, *, size=None, fill_value=None):
    """The sorted unique values in either array."""
    both = concatenate([_flat(asarray(ar1, "union1d")), _flat(asarray(ar2, "union1d"))])
    return unique(both, size=size, fill_value=fill_value)


def intersect1d(ar1, ar2, assume_unique=False, return_indices=False):
    """The sorted unique values in both arrays (needs concrete arrays)."""
    if return_indices:
        raise NotImplementedError("jnp.intersect1d: return_indices is not supported")
    u1 = unique(ar1) if not assume_unique else _flat(asarray(ar1, "intersect1d"))
    return compress(isin(u1, ar2), u1)


def setdiff1d(ar1, ar2, assume_unique=False):
    """The sorted unique values of `ar1` that are not in `ar2` (needs concrete arrays)."""
    u1 = unique(ar1) if not assume_unique else _flat(asarray(ar1, "setdiff1d"))
    return compress(isin(u1, ar2, invert=True), u1)
