"""What gather and scatter share: JAX's dimension-number tuples and out-of-bounds modes, the
window index arithmetic of their NumPy impls, and the checks their shape rules have in common.

XLA's gather and scatter with JAX's parameters. The index vector is always the last dimension
of the indices (as in JAX's lax wrappers). Out-of-bounds windows: gathers clamp (CLIP,
PROMISE_IN_BOUNDS) or fill (FILL_OR_DROP); scatters clamp (CLIP) or are dropped (the others).
"""

from __future__ import annotations

import enum
from typing import NamedTuple

import numpy as np

from jaxlite.core import Primitive, api_entry, get_aval
from jaxlite.primitives._base import operator_index


class GatherDimensionNumbers(NamedTuple):
    """How a gather's operand, start indices and output dimensions relate (JAX's names).

    offset_dims: output dimensions holding the window (slice) dimensions, sorted.
    collapsed_slice_dims: operand dimensions of slice size 1 left out of the output, sorted.
    start_index_map: the operand dimension indexed by each entry of the index vector.
    operand_batching_dims: operand dimensions paired one-to-one with the index batch
      dimensions `start_indices_batching_dims` (sorted).
    """

    offset_dims: tuple
    collapsed_slice_dims: tuple
    start_index_map: tuple
    operand_batching_dims: tuple = ()
    start_indices_batching_dims: tuple = ()


class ScatterDimensionNumbers(NamedTuple):
    """How a scatter's operand, indices and updates dimensions relate (JAX's names).

    update_window_dims: dimensions of `updates` that are window dimensions, sorted.
    inserted_window_dims: operand dimensions of window size 1 absent from `updates`, sorted.
    scatter_dims_to_operand_dims: the operand dimension indexed by each index-vector entry.
    operand_batching_dims / scatter_indices_batching_dims: paired batch dimensions.
    """

    update_window_dims: tuple
    inserted_window_dims: tuple
    scatter_dims_to_operand_dims: tuple
    operand_batching_dims: tuple = ()
    scatter_indices_batching_dims: tuple = ()


class GatherScatterMode(enum.Enum):
    """Out-of-bounds rule of gathers and scatters (a window is out of bounds if any part is).

    CLIP: start indices are clamped so that the whole window is in bounds.
    FILL_OR_DROP: gathers return `fill_value` for the window; scatters drop the update.
    PROMISE_IN_BOUNDS: the caller promises in-bounds indices; gathers clamp, scatters drop.
    """

    CLIP = 0
    FILL_OR_DROP = 1
    PROMISE_IN_BOUNDS = 2

    @staticmethod
    def from_any(s) -> GatherScatterMode:
        if isinstance(s, GatherScatterMode):
            return s
        if s == "clip":
            return GatherScatterMode.CLIP
        if s is None or s == "fill" or s == "drop":
            return GatherScatterMode.FILL_OR_DROP
        if s == "promise_in_bounds":
            return GatherScatterMode.PROMISE_IN_BOUNDS
        raise ValueError(
            f'Unknown gather/scatter mode "{s}": use "clip", "fill", "drop" or "promise_in_bounds"'
        )


def _int_tuple(xs) -> tuple[int, ...]:
    return tuple(int(operator_index(x)) for x in xs)


def _window_dims(rank: int, dropped, batching) -> list[int]:
    return [d for d in range(rank) if d not in dropped and d not in batching]


def _clamped_window_starts(op_shape, indices, index_map, sizes, with_mask: bool):
    """Start indices (int64, clamped so every window is in bounds) and, if asked, the mask of
    windows that were in bounds before clamping."""
    hi = np.array([op_shape[d] - sizes[d] for d in index_map], np.int64)
    starts = indices.astype(np.int64, copy=False)
    ok = np.all((starts >= 0) & (starts <= hi), axis=-1) if with_mask else None
    return np.minimum(np.maximum(starts, 0), hi), ok  # NB: np.clip costs ~5 us more


def _window_index_arrays(op_shape, starts, index_map, window, op_batch, idx_batch, sizes):
    """One int64 index array per operand dimension, broadcastable to `batch + window` shape."""
    bshape = starts.shape[:-1]
    nb, nw = len(bshape), len(window)
    arrays = []
    for d in range(len(op_shape)):
        a = np.zeros((1,) * (nb + nw), np.int64)
        if d in index_map:
            a = starts[..., index_map.index(d)].reshape(bshape + (1,) * nw)
        elif d in op_batch:
            b = idx_batch[op_batch.index(d)]
            a = np.arange(bshape[b], dtype=np.int64).reshape(
                tuple(bshape[b] if i == b else 1 for i in range(nb + nw))
            )
        if d in window:
            w = nb + window.index(d)
            a = a + np.arange(sizes[d], dtype=np.int64).reshape(
                tuple(sizes[d] if i == w else 1 for i in range(nb + nw))
            )
        arrays.append(a)
    return arrays


def _def_checked_impl(p: Primitive, fn) -> None:
    """Registers `fn` as the eager impl, run after the shape rule (so eager calls get its clear
    errors); the result is weakly typed iff the operand is (the indices do not matter)."""
    p.def_impl(fn)
    generic = p.impl
    checked: dict = {}  # (avals, params) -> output aval; bounded below

    def impl(*args, **params):
        key = (tuple(map(get_aval, args)), tuple(sorted(params.items())))
        aval = checked.get(key)
        if aval is None:
            aval = p.abstract_eval(*key[0], **params)
            if len(checked) > 256:
                checked.clear()
            checked[key] = aval
        out = generic(*args, **params)
        out.weak_type = aval.weak_type
        return out

    impl.numpy_impl = fn
    p.impl = impl


def _check_dims(prim: str, what: str, dims, bound: int, sort: bool = True) -> None:
    if any(not 0 <= d < bound for d in dims):
        raise TypeError(f"{prim}: {what} {dims} out of range [0, {bound})")
    if len(set(dims)) != len(dims):
        raise TypeError(f"{prim}: {what} {dims} must not repeat")
    if sort and list(dims) != sorted(dims):
        raise TypeError(f"{prim}: {what} {dims} must be sorted")


def _check_index_avals(
    prim: str, operand, indices, index_map, dropped, op_batch, idx_batch, names
) -> None:
    """Checks shared by gather and scatter; `names` are the primitive's names for the fields."""
    n_map, n_dropped, n_idx_batch = names
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{prim}: indices must have an integer dtype, got {indices.dtype.name}")
    if indices.ndim < 1:
        raise TypeError(
            f"{prim}: indices must have rank >= 1 (the last dimension is the index vector), "
            f"got shape {indices.shape}"
        )
    if len(index_map) != indices.shape[-1]:
        raise TypeError(
            f"{prim}: {n_map} {index_map} has {len(index_map)} entries but the index vector "
            f"(last dimension of indices of shape {indices.shape}) has {indices.shape[-1]}"
        )
    _check_dims(prim, n_map, index_map, operand.ndim, sort=False)
    _check_dims(prim, n_dropped, dropped, operand.ndim)
    _check_dims(prim, "operand_batching_dims", op_batch, operand.ndim)
    _check_dims(prim, n_idx_batch, idx_batch, indices.ndim - 1, sort=False)
    for a, b, na, nb in (
        (dropped, op_batch, n_dropped, "operand_batching_dims"),
        (index_map, op_batch, n_map, "operand_batching_dims"),
    ):
        if set(a) & set(b):
            raise TypeError(f"{prim}: {na} {a} and {nb} {b} must be disjoint")
    if len(op_batch) != len(idx_batch):
        raise TypeError(
            f"{prim}: operand_batching_dims {op_batch} and {n_idx_batch} {idx_batch} must have "
            "the same length"
        )
    ob = tuple(operand.shape[d] for d in op_batch)
    ib = tuple(indices.shape[d] for d in idx_batch)
    if ob != ib:
        raise TypeError(
            f"{prim}: operand batching dimensions have sizes {ob} but the indices batching "
            f"dimensions have sizes {ib} (operand {operand.shape}, indices {indices.shape})"
        )


def _as_indices(x):
    if not isinstance(x, (list, tuple)):
        return x
    try:
        return np.asarray(x)
    except ValueError as e:
        raise TypeError(
            f"{api_entry()}: indices {x!r} are not a valid integer array: {e}"
        ) from None
