"""NumPy indexing of jaxlite arrays: `x[idx]`, `take`, `take_along_axis` (`x.at[idx]` updates are
in `_index_update`, built on the parsing and gather description here).

As in JAX: static ints and slices lower to `rev`/`slice`/`squeeze` (scalar traced ints to
`dynamic_slice`), index arrays to one `gather`, and `.at[]` updates to one `scatter*`. Out of
bounds, gathers clamp (unless `mode="fill"`) and scatters drop the update (unless `mode="clip"`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.array import Array, _wrap
from jaxlite.core import Tracer, user_frame
from jaxlite.errors import NonConcreteBooleanIndexError
from jaxlite.numpy import _util
from jaxlite.primitives import GatherDimensionNumbers, GatherScatterMode
from jaxlite.util import safe_zip

_CLAMPING = (GatherScatterMode.CLIP, GatherScatterMode.PROMISE_IN_BOUNDS)
_INT32_MAX = int(np.iinfo(np.int32).max)
_INT32_MIN = int(np.iinfo(np.int32).min)

# ------------------------------------------------------------------------------------------
# Parsing an index into canonical entries
# ------------------------------------------------------------------------------------------
# Entries after parsing: None, Ellipsis, a slice of static ints, a Python int (static), a Python
# bool, an integer np.ndarray of rank >= 1 (concrete index array), a boolean np.ndarray of
# rank >= 1 (concrete mask), or an integer Tracer (rank 0: dynamic scalar; else index array).


def _bool_index_error(t: Tracer) -> NonConcreteBooleanIndexError:
    return NonConcreteBooleanIndexError(
        f"Array boolean indices must be concrete; got {t.aval!r} while tracing "
        f"{t._trace.description}, at {user_frame()}.\n"
        "The shape of x[mask] depends on the values of the mask, which are unknown while "
        "tracing. Use jnp.where(mask, x, 0) (or jnp.where(mask, x, y)) to keep the shape, or "
        "index with a concrete NumPy mask."
    )


def _static_slice_part(v, what: str):
    if v is None:
        return None
    if isinstance(v, Tracer):
        c = v.to_concrete_value()
        if c is None:
            raise IndexError(
                "Array slice indices must have static start/stop/step to be used with NumPy "
                f"indexing syntax: the slice {what} is a traced value {v.aval.str_short()}. To "
                "index a statically sized array at a dynamic position, use "
                "lax.dynamic_slice / lax.dynamic_update_slice (or an integer index array)."
            )
        v = c
    try:
        return int(v.__index__())
    except (AttributeError, TypeError):
        raise TypeError(f"slice indices must be integers or None, got {what} {v!r:.60}") from None


def _parse_slice(s: slice) -> slice:
    out = slice(
        _static_slice_part(s.start, "start"),
        _static_slice_part(s.stop, "stop"),
        _static_slice_part(s.step, "step"),
    )
    if out.step == 0:
        raise ValueError("slice step cannot be zero")
    return out


def _from_numpy(v: np.ndarray, pos: int):
    if v.dtype.kind == "b":
        return bool(v) if v.ndim == 0 else v
    if v.dtype.kind in "iu":
        if v.dtype.kind == "u" and v.dtype.itemsize == 8:
            v = np.minimum(v, np.iinfo(np.int64).max).astype(np.int64)
        return int(v) if v.ndim == 0 else v
    raise TypeError(
        "Indexer must have integer or boolean type, got indexer with type "
        f"{v.dtype.name} at position {pos}, indexer value {v!r:.60}"
    )


def _has_tracer(seq) -> bool:
    return any(
        isinstance(e, Tracer) or (isinstance(e, (list, tuple)) and _has_tracer(e)) for e in seq
    )


def _sequence_index(seq):
    """A list inside an index tuple, as an array (an empty list is an empty integer array)."""
    if len(seq) == 0:
        return np.zeros((0,), np.int64)
    if _has_tracer(seq):
        return _util.asarray_arg(seq, "indexing")
    try:
        v = np.asarray([e._value if type(e) is Array else e for e in seq])
    except ValueError:
        raise IndexError(
            f"indexing: ragged nested sequence {seq!r:.60} is not a valid index"
        ) from None
    if dtypes.kind(v.dtype) not in "biuf":
        raise TypeError(f"indexing: {seq!r:.60} is not a valid index (expected ints or bools)")
    return v


def _parse_entry(e, pos: int):
    if e is None or e is Ellipsis:
        return e
    t = type(e)
    if t is slice:
        return _parse_slice(e)
    if t is int:
        return e
    if t is bool or t is np.bool_:
        return bool(e)
    if isinstance(e, np.integer):
        return int(e)
    if t is Array:
        return _from_numpy(e._value, pos)
    if isinstance(e, Tracer):
        kind = e.aval.dtype.kind
        if kind in "iu":
            return e
        if kind == "b":
            c = e.to_concrete_value()
            if c is None:
                raise _bool_index_error(e)
            return _from_numpy(np.asarray(c), pos)
        raise TypeError(
            "Indexer must have integer or boolean type, got indexer with type "
            f"{e.aval.dtype.name} at position {pos}"
        )
    if isinstance(e, np.ndarray):
        return _from_numpy(e, pos)
    if isinstance(e, (list, tuple)):
        return _parse_entry(_sequence_index(e), pos)
    if isinstance(e, str):
        raise TypeError(f"jaxlite does not support string indexing; got {e!r:.60}")
    if isinstance(e, float):
        raise TypeError(
            f"Indexer must have integer or boolean type, got the float {e} at position {pos}"
        )
    raise IndexError(
        f"Indexing mode not supported: got an indexer of type {t.__name__} at position {pos}: "
        f"{e!r:.60}. Use ints, slices, None, Ellipsis, integer arrays or boolean masks."
    )


def _as_tuple(idx) -> tuple:
    if isinstance(idx, tuple):
        return idx
    if isinstance(idx, list):
        raise TypeError(
            "Using a non-tuple sequence for multidimensional indexing is not allowed; use "
            "`arr[tuple(seq)]` or `arr[jnp.array(seq)]` instead of `arr[seq]` (as in JAX)."
        )
    return (idx,)


def _consumed(e) -> int:
    if e is None or e is Ellipsis or type(e) is bool:
        return 0
    if type(e) is np.ndarray and e.dtype == np.bool_:
        return e.ndim
    return 1


def _is_advanced(e) -> bool:
    """Advanced for NumPy's placement rule: ints, bools and arrays (not None/slices/...)."""
    return not (e is None or e is Ellipsis or type(e) is slice)


def _is_array(e) -> bool:
    return type(e) is np.ndarray or (isinstance(e, Tracer) and e.aval.ndim > 0)


class _Parsed(NamedTuple):
    entries: tuple  # one entry per output-producing item; Ellipsis expanded, trailing `:` added
    shape: tuple  # the indexed shape, with a size-1 axis per scalar bool
    bool_axes: tuple  # axes of `shape` inserted for scalar bools
    advanced: bool  # any index array: NumPy's advanced indexing
    block_pos: int  # the entry where the broadcast advanced dimensions go


def _parse(shape: tuple, idx) -> _Parsed:
    raw = [_parse_entry(e, i) for i, e in enumerate(_as_tuple(idx))]
    if sum(e is Ellipsis for e in raw) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    ndim = len(shape)
    used = sum(_consumed(e) for e in raw)
    if used > ndim:
        raise IndexError(
            f"Too many indices: {ndim}-dimensional array of shape {tuple(shape)} indexed with "
            f"{used} regular indices."
        )
    # Masks become index arrays; Ellipsis is kept until placement is decided.
    entries: list = []
    ax = 0
    for pos, e in enumerate(raw):
        if type(e) is np.ndarray and e.dtype == np.bool_:
            want = tuple(shape[ax : ax + e.ndim])
            if e.shape != want:
                raise IndexError(
                    f"boolean index did not match shape of indexed array in index {pos}: got "
                    f"{e.shape}, expected {want}"
                )
            entries.extend(np.nonzero(e))
        else:
            entries.append(e)
        ax += ndim - used if e is Ellipsis else _consumed(e)
    adv_pos = [i for i, e in enumerate(entries) if _is_advanced(e)]
    contiguous = all(b - a == 1 for a, b in zip(adv_pos, adv_pos[1:]))
    block_pos = adv_pos[0] if adv_pos and contiguous else 0
    fill = [slice(None)] * (ndim - used)
    ell = next((i for i, e in enumerate(entries) if e is Ellipsis), None)
    if ell is None:
        entries += fill
    else:
        entries[ell : ell + 1] = fill
        if ell < block_pos:
            block_pos += len(fill) - 1
    # Scalar bools add a size-1 axis indexed by arange(1) (True) or arange(0) (False).
    new_shape, bool_axes = [], []
    for i, e in enumerate(entries):
        if e is None:
            continue
        if type(e) is bool:
            bool_axes.append(len(new_shape))
            new_shape.append(1)
            entries[i] = np.arange(int(e), dtype=np.int64)
        else:
            new_shape.append(shape[len(new_shape) - len(bool_axes)])
    advanced = any(_is_array(e) for e in entries)
    return _Parsed(tuple(entries), tuple(new_shape), tuple(bool_axes), advanced, block_pos)


# ------------------------------------------------------------------------------------------
# Basic indexing: rev / slice / dynamic_slice / squeeze / expand_dims
# ------------------------------------------------------------------------------------------


def _normalize(i, n: int):
    """An index in [-n, n) as an index in [0, n) (others stay out of bounds)."""
    if type(i) is int:
        return i + n if i < 0 else i
    if type(i) is np.ndarray:
        return np.where(i < 0, i.astype(np.int64) + n, i) if i.dtype.kind == "i" else i
    if i.aval.dtype.kind == "u":
        return i
    return lax.select_n(lax.lt(i, 0), i, lax.add(i, n))


def _clamp_static(i: int, n: int, axis: int) -> int:
    if n == 0:
        raise IndexError(f"index is out of bounds for axis {axis} with size 0")
    return min(max(_normalize(i, n), 0), n - 1)


def _basic_getitem(x, entries, shape):
    """`x[entries]` for static slices, ints and None and traced scalar ints (no index arrays)."""
    starts, limits, strides, revs, squeezed, newaxis, dyn, np_idx = [], [], [], [], [], [], {}, []
    ax = out = 0
    for e in entries:
        if e is None:
            newaxis.append(out)
            np_idx.append(None)
            out += 1
            continue
        n = shape[ax]
        if type(e) is slice:
            start, stop, step = e.indices(n)
            m = len(range(start, stop, step))
            if step < 0:
                revs.append(ax)
                start, step = n - 1 - start, -step
            start = min(max(start, 0), n)
            starts.append(start)
            limits.append(start + (m - 1) * step + 1 if m else start)
            strides.append(step)
            np_idx.append(e)
            out += 1
        else:
            k = _clamp_static(e, n, ax) if type(e) is int else 0
            if type(e) is not int:
                dyn[ax] = _normalize(e, n)
            starts.append(k)
            limits.append(k + 1 if type(e) is int else n)
            strides.append(1)
            squeezed.append(ax)
            np_idx.append(k)
        ax += 1
    if type(x) is Array and not dyn:
        # Eager fast path: NumPy's basic indexing (a view of the read-only buffer).
        return _wrap(np.asarray(x._value[tuple(np_idx)]), x.weak_type)
    y = x
    if revs:
        y = lax.rev(y, revs)
    if any(
        s != 0 or lim != n or st != 1 for s, lim, st, n in safe_zip(starts, limits, strides, shape)
    ):
        y = lax.slice(y, starts, limits, strides if any(st != 1 for st in strides) else None)
    if dyn:
        cur = _util.shape_of(y)
        zero = _wrap(np.zeros((), next(iter(dyn.values())).aval.dtype))
        y = lax.dynamic_slice(
            y,
            [dyn.get(d, zero) for d in range(len(cur))],
            [1 if d in dyn else s for d, s in enumerate(cur)],
        )
    if squeezed:
        y = lax.squeeze(y, squeezed)
    if newaxis:
        y = lax.expand_dims(y, newaxis)
    return y


# ------------------------------------------------------------------------------------------
# Advanced indexing: one gather (or scatter) described by an _Indexer
# ------------------------------------------------------------------------------------------


class _Indexer(NamedTuple):
    slice_shape: tuple  # the shape of x[idx]
    slice_sizes: tuple  # the gather's window sizes
    indices: Any  # (batch..., K) integer array or tracer
    dnums: GatherDimensionNumbers
    unique: bool  # windows cannot repeat (no index arrays)
    is_sorted: bool
    newaxis_dims: tuple  # dimensions of slice_shape made by None


def _index_dtype(shape, pieces) -> np.dtype:
    big = any(d > _INT32_MAX for d in shape)
    wide = any(
        isinstance(v, Tracer) and v.aval.dtype in (dtypes.int64, dtypes.uint32, dtypes.uint64)
        for v, _ in pieces
    )
    return dtypes.int64 if big or wide else dtypes.int32


def _place(v, pos: tuple, gshape: tuple, dt: np.dtype) -> np.ndarray:
    """A concrete index piece broadcast to `gshape`, its dimensions at positions `pos`."""
    v = np.asarray(v, np.int64)
    if dt != dtypes.int64:
        v = np.minimum(np.maximum(v, _INT32_MIN), _INT32_MAX)
    v = v.astype(dt)
    expanded = [1] * len(gshape)
    for p, s in safe_zip(pos, v.shape):
        expanded[p] = s
    return np.broadcast_to(v.reshape(expanded), gshape)


def _assemble_indices(pieces, gshape: tuple, dt: np.dtype):
    if all(not isinstance(v, Tracer) for v, _ in pieces):
        out = np.empty(gshape + (len(pieces),), dt)
        for k, (v, pos) in enumerate(pieces):
            out[..., k] = _place(v, pos, gshape, dt)
        return out
    full = gshape + (1,)
    cols = []
    for v, pos in pieces:
        if isinstance(v, Tracer):
            if v.aval.dtype != dt:
                v = lax.convert_element_type(v, dt)
            cols.append(lax.broadcast_in_dim(v, full, pos))
        else:
            cols.append(np.ascontiguousarray(_place(v, pos, gshape, dt)[..., None]))
    return cols[0] if len(cols) == 1 else lax.concatenate(cols, len(gshape))


def _broadcast_index_shapes(shapes) -> tuple:
    try:
        return _util.broadcast_shapes("indexing", *shapes)
    except ValueError:
        raise IndexError(
            "shape mismatch: indexing arrays could not be broadcast together with shapes "
            + " ".join(str(tuple(s)) for s in shapes)
        ) from None


def _index_to_gather(p: _Parsed) -> _Indexer:
    shape, entries = p.shape, p.entries
    x_axis, ax = [], 0
    for e in entries:
        x_axis.append(ax)
        ax += e is not None
    adv = [i for i, e in enumerate(entries) if p.advanced and _is_advanced(e)]
    pieces: list = []  # (value, positions in the gather batch shape)
    gshape: list = []
    slice_shape, slice_sizes, newaxis = [], [], []
    offset_dims, collapsed, start_map = [], [], []
    out_ax = 0  # dimension of x[idx] without the None dimensions
    sorted_ok = True
    for pos, e in enumerate(entries):
        if adv and pos == p.block_pos:
            bshape = _broadcast_index_shapes([_util.shape_of(entries[i]) for i in adv])
            for i in adv:
                v, d = entries[i], x_axis[i]
                nd = len(_util.shape_of(v))
                base = len(gshape) + len(bshape) - nd
                pieces.append((_normalize(v, shape[d]), tuple(range(base, base + nd))))
                start_map.append(d)
                collapsed.append(d)
            gshape += bshape
            slice_shape += bshape
            out_ax += len(bshape)
        if pos in adv:
            slice_sizes.append(1)
            continue
        if e is None:
            newaxis.append(len(slice_shape))
            slice_shape.append(1)
            continue
        d = x_axis[pos]
        n = shape[d]
        if type(e) is slice:
            start, stop, step = e.indices(n)
            m = len(range(start, stop, step))
            slice_shape.append(m)
            if step == 1:
                if m != n:
                    pieces.append((start, ()))
                    start_map.append(d)
                slice_sizes.append(m)
                offset_dims.append(out_ax)
            else:
                sorted_ok = sorted_ok and step > 0
                pieces.append((np.arange(start, stop, step), (len(gshape),)))
                start_map.append(d)
                collapsed.append(d)
                gshape.append(m)
                slice_sizes.append(1)
            out_ax += 1
        else:  # a static or traced scalar int, outside advanced indexing
            if n == 0:
                raise IndexError(f"index is out of bounds for axis {d} with size 0")
            pieces.append((_normalize(e, n), ()))
            start_map.append(d)
            collapsed.append(d)
            slice_sizes.append(1)
    dt = _index_dtype(shape, pieces)
    indices = _assemble_indices(pieces, tuple(gshape), dt) if pieces else np.zeros((0,), dt)
    dnums = GatherDimensionNumbers(tuple(offset_dims), tuple(sorted(collapsed)), tuple(start_map))
    return _Indexer(
        tuple(slice_shape),
        tuple(slice_sizes),
        indices,
        dnums,
        not adv,
        not adv and sorted_ok,
        tuple(newaxis),
    )


def _full(shape, value, like):
    dt, weak = _util.dtype_weak(like)
    return lax.broadcast_in_dim(_wrap(np.full((), value, dt), weak), tuple(shape), ())


def _zeros(shape, like):
    return _full(shape, 0, like)


def _check_gather_axes(ix: _Indexer, shape) -> None:
    for d in ix.dnums.collapsed_slice_dims:
        if shape[d] == 0:
            raise IndexError(f"index is out of bounds for axis {d} with size 0")


def _static_slice(s: slice) -> bool:
    return (
        type(s.start) in _STATIC_PART
        and type(s.stop) in _STATIC_PART
        and type(s.step) in _STATIC_PART
    )


_STATIC_PART = (int, type(None))
_BASIC = (int, type(None), type(Ellipsis))


def _eager_getitem(x: Array, idx):
    """`x[idx]` by NumPy itself where NumPy agrees with JAX: basic indices in bounds, or one
    integer array on the first axis (normalized, then clamped). None means: take the long way."""
    v = x._value
    t = type(idx)
    if t is np.ndarray or t is Array:
        a = idx if t is np.ndarray else idx._value
        if a.ndim == 0 or a.dtype.kind not in "iu" or v.ndim == 0 or v.shape[0] == 0:
            return None
        if a.dtype.kind == "i":
            a = np.where(a < 0, a + np.int64(v.shape[0]), a)
        return _wrap(np.take(v, a, axis=0, mode="clip"), x.weak_type)
    if t is tuple:
        for e in idx:
            if type(e) is slice:
                if not _static_slice(e):
                    return None
            elif type(e) not in _BASIC:
                return None
    elif t is slice:
        if not _static_slice(idx):
            return None
    elif t is not int:
        return None
    try:
        r = v[idx]
    except (IndexError, ValueError):
        return None
    return _wrap(r if type(r) is np.ndarray else np.asarray(r), x.weak_type)


def _rewriting_take(
    x, idx, indices_are_sorted=False, unique_indices=False, mode=None, fill_value=None
):
    """`x[idx]` with JAX's options (the body of `x[idx]` and `x.at[idx].get()`)."""
    gmode = (
        GatherScatterMode.PROMISE_IN_BOUNDS if mode is None else (GatherScatterMode.from_any(mode))
    )
    if type(x) is Array and gmode in _CLAMPING:
        out = _eager_getitem(x, idx)
        if out is not None:
            return out
    shape = _util.shape_of(x)
    p = _parse(shape, idx)
    if not p.advanced and (
        gmode in _CLAMPING or all(type(e) in (slice, type(None)) for e in p.entries)
    ):
        return _basic_getitem(x, p.entries, shape)
    y = lax.expand_dims(x, p.bool_axes) if p.bool_axes else x
    ix = _index_to_gather(p)
    if 0 in ix.slice_shape:
        return _zeros(ix.slice_shape, x)
    _check_gather_axes(ix, p.shape)
    y = lax.gather(
        y,
        ix.indices,
        ix.dnums,
        ix.slice_sizes,
        unique_indices=unique_indices or ix.unique,
        indices_are_sorted=indices_are_sorted or ix.is_sorted,
        mode=gmode,
        fill_value=fill_value,
    )
    return lax.expand_dims(y, ix.newaxis_dims) if ix.newaxis_dims else y


def _getitem(x, idx):
    """`x[idx]`: NumPy indexing with JAX's rules (out-of-bounds indices are clamped)."""
    return _rewriting_take(x, idx)


# ------------------------------------------------------------------------------------------
# take, take_along_axis
# ------------------------------------------------------------------------------------------


def _int_indices(indices, name: str):
    indices = _util.asarray_arg(indices, name)
    if type(indices) in (int, bool, float):
        indices = _util.asarray(indices, name)
    dt = _util.dtype_of(indices)
    if dt.kind not in "iu":
        raise TypeError(f"{_util.fname(name)}: indices must have an integer dtype, got {dt.name}")
    if type(indices) is Array:
        return indices._value
    return indices


def _wrap_indices(indices, n: int):
    """Python's `i % n` for `mode="wrap"`."""
    if type(indices) is np.ndarray:
        return np.mod(indices, n).astype(indices.dtype)
    r = lax.rem(indices, n)
    if indices.aval.dtype.kind == "u":
        return r
    return lax.select_n(lax.lt(r, 0), r, lax.add(r, n))


def _gather_mode(mode, indices, n: int, name: str):
    if mode is None or mode == "fill":
        return GatherScatterMode.FILL_OR_DROP, _normalize(indices, n)
    if mode == "clip":
        return GatherScatterMode.CLIP, indices
    if mode == "wrap":
        return GatherScatterMode.PROMISE_IN_BOUNDS, _wrap_indices(indices, n)
    if mode == "promise_in_bounds":
        return GatherScatterMode.PROMISE_IN_BOUNDS, indices
    if mode == "raise":
        raise NotImplementedError(f"{_util.fname(name)}: mode='raise' is not supported (as in JAX)")
    raise ValueError(
        f"{_util.fname(name)}: invalid mode {mode!r}: use 'fill', 'clip', 'wrap' or "
        "'promise_in_bounds'"
    )


def _last_axis(indices):
    if type(indices) is np.ndarray:
        return indices[..., None]
    return lax.expand_dims(indices, (indices.aval.ndim,))


def take(
    a,
    indices,
    axis=None,
    out=None,
    mode=None,
    unique_indices=False,
    indices_are_sorted=False,
    fill_value=None,
):
    """Elements of `a` at `indices` along `axis` (the flattened array if `axis` is None).

    Args:
      a: the array.
      indices: integer indices (any shape); negative ones count from the end.
      axis: the axis to take along, or None for the flattened array.
      mode: out-of-bounds rule: "fill" (default: `fill_value`, NaN for floats), "clip", "wrap".
      fill_value: the value of out-of-bounds elements under mode "fill".

    Returns:
      An array of shape `a.shape[:axis] + indices.shape + a.shape[axis + 1:]`.

    Example:
      >>> jnp.take(jnp.array([[1., 2.], [3., 4.]]), jnp.array([1, 0]), axis=1)
      Array([[2., 1.],
             [4., 3.]], dtype=float32)
    """
    if out is not None:
        raise NotImplementedError("jnp.take: the 'out' argument is not supported (as in JAX)")
    a = _util.asarray(a, "take")
    indices = _int_indices(indices, "take")
    if axis is None:
        a = lax.reshape(a, (int(np.prod(_util.shape_of(a), dtype=np.int64)),))
        axis = 0
    shape = _util.shape_of(a)
    axis = _util.canonicalize_axis(axis, len(shape), "take", shape)
    ishape = _util.shape_of(indices)
    n = shape[axis]
    if n == 0:
        if int(np.prod(ishape, dtype=np.int64)) != 0:
            raise IndexError("jnp.take: cannot take a non-empty selection from an empty axis")
        return a
    out_shape = shape[:axis] + ishape + shape[axis + 1 :]
    if 0 in out_shape:
        return _zeros(out_shape, a)
    gmode, indices = _gather_mode(mode, indices, n, "take")
    nd = len(ishape)
    dnums = GatherDimensionNumbers(
        offset_dims=tuple(range(axis)) + tuple(range(axis + nd, len(shape) + nd - 1)),
        collapsed_slice_dims=(axis,),
        start_index_map=(axis,),
    )
    sizes = shape[:axis] + (1,) + shape[axis + 1 :]
    return lax.gather(
        a,
        _last_axis(indices),
        dnums,
        sizes,
        mode=gmode,
        fill_value=fill_value,
        unique_indices=unique_indices,
        indices_are_sorted=indices_are_sorted,
    )


def take_along_axis(arr, indices, axis=-1, mode=None, fill_value=None):
    """`arr` indexed along `axis` by `indices` of the same rank (e.g. from `argsort`).

    Args:
      arr: the array.
      indices: integer array with `arr`'s rank, broadcast against `arr` except along `axis`.
      axis: the axis to index, or None for the flattened array (then `indices` is 1-D).
      mode: out-of-bounds rule: "fill" (default, NaN for floats), "clip", "promise_in_bounds".
      fill_value: the value of out-of-bounds elements under mode "fill".

    Returns:
      The selected elements; the shape is `arr`'s and `indices`' broadcast together.

    Example:
      >>> x = jnp.array([[5, 3, 4], [2, 7, 6]])
      >>> jnp.take_along_axis(x, jnp.argsort(x, axis=1), axis=1)
      Array([[3, 4, 5],
             [2, 6, 7]], dtype=int32)
    """
    a = _util.asarray(arr, "take_along_axis")
    indices = _int_indices(indices, "take_along_axis")
    ishape = _util.shape_of(indices)
    if axis is None:
        if len(ishape) != 1:
            raise ValueError(
                f"jnp.take_along_axis: indices must be 1-D when axis=None, got shape {ishape}"
            )
        a = lax.reshape(a, (int(np.prod(_util.shape_of(a), dtype=np.int64)),))
        axis = 0
    shape = _util.shape_of(a)
    rank = len(shape)
    if len(ishape) != rank:
        raise ValueError(
            "jnp.take_along_axis: indices and arr must have the same number of dimensions; "
            f"{len(ishape)} vs. {rank}"
        )
    axis = _util.canonicalize_axis(axis, rank, "take_along_axis", shape)
    arr_shape = shape[:axis] + (1,) + shape[axis + 1 :]
    out_shape = _util.broadcast_shapes("take_along_axis", ishape, arr_shape)
    n = shape[axis]
    if n == 0 or 0 in out_shape:
        return _zeros(out_shape, a)
    if mode == "promise_in_bounds":
        gmode = GatherScatterMode.PROMISE_IN_BOUNDS
    else:
        gmode = GatherScatterMode.from_any("fill" if mode is None else mode)
        indices = _normalize(indices, n)
    offset_dims, collapsed, start_map, op_batch, idx_batch, sizes, squeeze = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    index_dims = [i for i in range(rank) if i == axis or ishape[i] != 1]
    new_i = j = 0
    for i in range(rank):
        if i == axis:
            sizes.append(1)
            start_map.append(new_i)
            collapsed.append(new_i)
            new_i, j = new_i + 1, j + 1
        elif ishape[i] == 1:  # the whole axis of arr
            offset_dims.append(i)
            sizes.append(arr_shape[i])
            new_i += 1
        elif arr_shape[i] == 1:  # arr broadcast along an index dimension
            squeeze.append(i)
            j += 1
        else:  # paired dimensions: batching
            sizes.append(1)
            op_batch.append(new_i)
            idx_batch.append(j)
            new_i, j = new_i + 1, j + 1
    if squeeze:
        a = lax.squeeze(a, squeeze)
    gshape = tuple(out_shape[i] for i in index_dims) + (1,)
    if type(indices) is np.ndarray:
        gidx = indices.reshape(gshape)
    else:
        gidx = lax.reshape(indices, gshape)
    dnums = GatherDimensionNumbers(
        tuple(offset_dims), tuple(collapsed), tuple(start_map), tuple(op_batch), tuple(idx_batch)
    )
    return lax.gather(a, gidx, dnums, tuple(sizes), mode=gmode, fill_value=fill_value)
