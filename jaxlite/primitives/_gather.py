"""gather: windows of an operand at a batch of start indices (XLA's Gather, JAX's lax.gather),
with its NumPy impl (one np.take or fancy index in the common case), shape rule and fill values.
"""

from __future__ import annotations

import math

import numpy as np

from jaxlite import dtypes
from jaxlite.core import ShapedArray, Tracer, get_aval
from jaxlite.primitives._base import _prim
from jaxlite.primitives._elementwise import _convert_impl
from jaxlite.primitives._indexing import (
    GatherDimensionNumbers,
    GatherScatterMode,
    _as_indices,
    _check_dims,
    _check_index_avals,
    _clamped_window_starts,
    _def_checked_impl,
    _int_tuple,
    _window_dims,
    _window_index_arrays,
)
from jaxlite.util import safe_zip


def _fill_scalar(fill_value, dtype) -> np.ndarray:
    return _convert_impl(np.asarray(fill_value), new_dtype=dtype)


def _batch_window_to_output(out, nb: int, offset_dims) -> np.ndarray:
    """Transposes `batch + window` order into the output order given by `offset_dims`."""
    rank = nb + len(offset_dims)
    b, w = iter(range(nb)), iter(range(nb, rank))
    perm = [next(w) if p in offset_dims else next(b) for p in range(rank)]
    return out if perm == list(range(rank)) else np.transpose(out, perm)


gather_p = _prim("gather")


def _gather_impl(operand, indices, *, dimension_numbers, slice_sizes, mode, fill_value, **_):
    dn = dimension_numbers
    rank = operand.ndim
    window = _window_dims(rank, dn.collapsed_slice_dims, dn.operand_batching_dims)
    bshape = indices.shape[:-1]
    full = bshape + tuple(slice_sizes[d] for d in window)
    fill = mode is GatherScatterMode.FILL_OR_DROP
    starts, ok = _clamped_window_starts(
        operand.shape, indices, dn.start_index_map, slice_sizes, fill
    )
    if (
        not dn.operand_batching_dims
        and sorted(dn.start_index_map) == list(dn.collapsed_slice_dims)
        and all(slice_sizes[d] == operand.shape[d] for d in window)
    ):
        # x[i, j] with whole windows (the common case): one np.take or one fancy index.
        if starts.shape[-1] == 1:
            d = dn.start_index_map[0]
            out = np.take(operand, starts[..., 0], axis=d)  # window dims < d, batch, the rest
            nb = len(bshape)
            out = np.transpose(out, [*range(d, d + nb), *range(d), *range(d + nb, out.ndim)])
        else:
            perm = list(dn.start_index_map) + window
            x = operand if perm == list(range(rank)) else np.transpose(operand, perm)
            out = x[tuple(starts[..., k] for k in range(starts.shape[-1]))]
    else:
        arrays = _window_index_arrays(
            operand.shape,
            starts,
            dn.start_index_map,
            window,
            dn.operand_batching_dims,
            dn.start_indices_batching_dims,
            slice_sizes,
        )
        out = operand[tuple(arrays)] if arrays else operand
    if out.shape != full:
        out = np.broadcast_to(out, full)
    if fill:
        keep = ok.reshape(bshape + (1,) * (len(full) - len(bshape)))
        out = np.where(keep, out, _fill_scalar(fill_value, operand.dtype))
    out = np.asarray(_batch_window_to_output(out, len(bshape), dn.offset_dims), order="C")
    return out.copy() if np.may_share_memory(out, operand) else out


_def_checked_impl(gather_p, _gather_impl)


@gather_p.def_abstract_eval
def _gather_abstract(operand, indices, *, dimension_numbers, slice_sizes, mode, fill_value, **_):
    dn = dimension_numbers
    _check_index_avals(
        "gather",
        operand,
        indices,
        dn.start_index_map,
        dn.collapsed_slice_dims,
        dn.operand_batching_dims,
        dn.start_indices_batching_dims,
        ("start_index_map", "collapsed_slice_dims", "start_indices_batching_dims"),
    )
    nb = indices.ndim - 1
    _check_dims("gather", "offset_dims", dn.offset_dims, nb + len(dn.offset_dims))
    if len(slice_sizes) != operand.ndim:
        raise TypeError(
            f"gather: slice_sizes {slice_sizes} must have one entry per dimension of the "
            f"operand of shape {operand.shape}"
        )
    window = _window_dims(operand.ndim, dn.collapsed_slice_dims, dn.operand_batching_dims)
    if len(window) != len(dn.offset_dims):
        raise TypeError(
            f"gather: every operand dimension must be an offset, collapsed or batching "
            f"dimension: operand rank {operand.ndim}, offset_dims {dn.offset_dims}, "
            f"collapsed_slice_dims {dn.collapsed_slice_dims}, operand_batching_dims "
            f"{dn.operand_batching_dims}"
        )
    for d, (s, n) in enumerate(safe_zip(slice_sizes, operand.shape)):
        if not 0 <= s <= n:
            raise TypeError(
                f"gather: slice size {s} of dimension {d} is out of range [0, {n}] for an "
                f"operand of shape {operand.shape}"
            )
    for d in dn.collapsed_slice_dims:
        if slice_sizes[d] != 1:
            raise TypeError(
                f"gather: collapsed dimension {d} needs slice size 1, got {slice_sizes[d]}"
            )
    for d in dn.operand_batching_dims:
        if slice_sizes[d] > 1:
            raise TypeError(f"gather: batching dimension {d} needs slice size 0 or 1")
    if not isinstance(mode, GatherScatterMode):
        raise TypeError(f"gather: mode must be a GatherScatterMode, got {mode!r}")
    sizes = iter(slice_sizes[d] for d in window)
    batch = iter(indices.shape[:-1])
    shape = tuple(
        next(sizes) if p in dn.offset_dims else next(batch) for p in range(nb + len(dn.offset_dims))
    )
    return ShapedArray(shape, operand.dtype, operand.weak_type)


_NAN = float("nan")  # one object, so params holding it compare equal to themselves


def _default_fill_value(dtype: np.dtype):
    if dtypes.is_float(dtype):
        return _NAN
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return int(info.min if dtype.kind == "i" else info.max)
    return True


def _static_fill_value(fill_value, dtype: np.dtype):
    if isinstance(fill_value, Tracer):
        raise TypeError(
            "gather: fill_value must be a concrete scalar (it is a static parameter), got a "
            f"traced value {fill_value.aval.str_short()}"
        )
    v = np.asarray(fill_value)
    if v.ndim != 0 or dtypes.kind(v.dtype) not in "biuf":
        raise ValueError(f"gather: fill_value must be a scalar number, got {fill_value!r}")
    v = v.item()
    return _NAN if isinstance(v, float) and math.isnan(v) else v


def gather(
    operand,
    start_indices,
    dimension_numbers,
    slice_sizes,
    *,
    unique_indices=False,
    indices_are_sorted=False,
    mode=None,
    fill_value=None,
):
    """lax.gather: slices of `operand` at `start_indices` (XLA's Gather, index vector last).

    Args:
      operand: the array to gather from.
      start_indices: integer array of shape `batch + (len(start_index_map),)`.
      dimension_numbers: a `GatherDimensionNumbers`.
      slice_sizes: the window size in every operand dimension.
      mode: out-of-bounds rule ("clip", "fill", "promise_in_bounds"; default: promise, which
        clamps).
      fill_value: the value of out-of-bounds windows with mode "fill" (default: NaN, the
        lowest signed / highest unsigned integer, or True).

    Returns:
      The gathered array.

    Example:
      >>> lax.gather(x, jnp.array([[2], [0]]), GatherDimensionNumbers((), (0,), (0,)), (1,))
    """
    m = GatherScatterMode.PROMISE_IN_BOUNDS if mode is None else GatherScatterMode.from_any(mode)
    dt = get_aval(operand).dtype
    if m is GatherScatterMode.FILL_OR_DROP:
        fill = _default_fill_value(dt) if fill_value is None else _static_fill_value(fill_value, dt)
    else:
        fill = None
    return gather_p.bind(
        operand,
        _as_indices(start_indices),
        dimension_numbers=GatherDimensionNumbers(*map(_int_tuple, dimension_numbers)),
        slice_sizes=_int_tuple(slice_sizes),
        unique_indices=bool(unique_indices),
        indices_are_sorted=bool(indices_are_sorted),
        mode=m,
        fill_value=fill,
    )
