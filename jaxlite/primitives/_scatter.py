"""The scatters (scatter, scatter-add, -mul, -min, -max): windows of an operand at a batch of
indices overwritten or combined with updates (XLA's Scatter, JAX's lax.scatter_*), with their
NumPy impl and shape rule.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from jaxlite.core import Primitive, ShapedArray
from jaxlite.primitives._base import _prim, _promote_scalars, _same_dtypes
from jaxlite.primitives._indexing import (
    GatherScatterMode,
    ScatterDimensionNumbers,
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


def _scatter_impl(ufunc, operand, indices, updates, *, dimension_numbers, mode, **_):
    dn = dimension_numbers
    rank = operand.ndim
    window = _window_dims(rank, dn.inserted_window_dims, dn.operand_batching_dims)
    sizes = [1] * rank
    for d, u in safe_zip(window, dn.update_window_dims):
        sizes[d] = updates.shape[u]
    scatter_dims = [i for i in range(updates.ndim) if i not in dn.update_window_dims]
    upd = np.transpose(updates, scatter_dims + list(dn.update_window_dims))
    out = operand.copy()
    if out.size == 0 or upd.size == 0:
        return out
    starts, ok = _clamped_window_starts(
        operand.shape,
        indices,
        dn.scatter_dims_to_operand_dims,
        sizes,
        mode is not GatherScatterMode.CLIP,
    )
    arrays = _window_index_arrays(
        operand.shape,
        starts,
        dn.scatter_dims_to_operand_dims,
        window,
        dn.operand_batching_dims,
        dn.scatter_indices_batching_dims,
        sizes,
    )
    flat = np.zeros((1,) * upd.ndim, np.int64)
    for a, stride in safe_zip(arrays, np.cumprod((operand.shape + (1,))[:0:-1])[::-1]):
        flat = flat + a * stride
    flat = np.broadcast_to(flat, upd.shape)
    if ok is not None:
        keep = np.broadcast_to(ok.reshape(ok.shape + (1,) * len(window)), upd.shape)
        flat, upd = flat[keep], upd[keep]
    else:
        flat, upd = flat.reshape(-1), upd.reshape(-1)
    target = out.reshape(-1)  # a view: `out` is a fresh C-contiguous copy
    if ufunc is None:
        target[flat] = upd  # NB: duplicate indices: the last update wins, as on XLA:CPU
    else:
        ufunc.at(target, flat, upd)
    return out


def _scatter_abstract(prim, operand, indices, updates, *, dimension_numbers, mode, **_):
    dn = dimension_numbers
    _same_dtypes(prim, operand, updates)
    _check_index_avals(
        prim,
        operand,
        indices,
        dn.scatter_dims_to_operand_dims,
        dn.inserted_window_dims,
        dn.operand_batching_dims,
        dn.scatter_indices_batching_dims,
        ("scatter_dims_to_operand_dims", "inserted_window_dims", "scatter_indices_batching_dims"),
    )
    _check_dims(prim, "update_window_dims", dn.update_window_dims, updates.ndim)
    window = _window_dims(operand.ndim, dn.inserted_window_dims, dn.operand_batching_dims)
    if len(window) != len(dn.update_window_dims):
        raise TypeError(
            f"{prim}: every operand dimension must be a window, inserted or batching "
            f"dimension: operand rank {operand.ndim}, update_window_dims "
            f"{dn.update_window_dims}, inserted_window_dims {dn.inserted_window_dims}, "
            f"operand_batching_dims {dn.operand_batching_dims}"
        )
    scatter_shape = tuple(s for i, s in enumerate(updates.shape) if i not in dn.update_window_dims)
    if scatter_shape != indices.shape[:-1]:
        raise TypeError(
            f"{prim}: updates of shape {updates.shape} with update_window_dims "
            f"{dn.update_window_dims} have scatter dimensions {scatter_shape}, which must equal "
            f"the batch dimensions {indices.shape[:-1]} of indices of shape {indices.shape}"
        )
    for d, u in safe_zip(window, dn.update_window_dims):
        if updates.shape[u] > operand.shape[d]:
            raise TypeError(
                f"{prim}: window dimension {u} of updates {updates.shape} is larger than "
                f"dimension {d} of the operand {operand.shape}"
            )
    if not isinstance(mode, GatherScatterMode):
        raise TypeError(f"{prim}: mode must be a GatherScatterMode, got {mode!r}")
    return ShapedArray(operand.shape, operand.dtype, operand.weak_type)


def _scatter_prim(name: str, ufunc) -> Primitive:
    p = _prim(name)
    _def_checked_impl(p, partial(_scatter_impl, ufunc))
    p.def_abstract_eval(partial(_scatter_abstract, name))
    return p


scatter_p = _scatter_prim("scatter", None)
scatter_add_p = _scatter_prim("scatter-add", np.add)
scatter_mul_p = _scatter_prim("scatter-mul", np.multiply)
scatter_min_p = _scatter_prim("scatter-min", np.minimum)
scatter_max_p = _scatter_prim("scatter-max", np.maximum)


def _scatter_bind(
    prim,
    name,
    operand,
    indices,
    updates,
    dimension_numbers,
    indices_are_sorted,
    unique_indices,
    mode,
):
    operand, updates = _promote_scalars(name, operand, updates)
    return prim.bind(
        operand,
        _as_indices(indices),
        updates,
        dimension_numbers=ScatterDimensionNumbers(*map(_int_tuple, dimension_numbers)),
        indices_are_sorted=bool(indices_are_sorted),
        unique_indices=bool(unique_indices),
        mode=GatherScatterMode.from_any(mode),
    )


def scatter(
    operand,
    scatter_indices,
    updates,
    dimension_numbers,
    *,
    indices_are_sorted=False,
    unique_indices=False,
    mode=None,
):
    """lax.scatter: `operand` with windows at `scatter_indices` overwritten by `updates`.

    `mode` defaults to "fill"/"drop": updates whose window is out of bounds are dropped. With
    repeated indices the last update wins (JAX leaves the order unspecified).
    """
    return _scatter_bind(
        scatter_p,
        "scatter",
        operand,
        scatter_indices,
        updates,
        dimension_numbers,
        indices_are_sorted,
        unique_indices,
        mode,
    )


def scatter_add(
    operand,
    scatter_indices,
    updates,
    dimension_numbers,
    *,
    indices_are_sorted=False,
    unique_indices=False,
    mode=None,
):
    """lax.scatter_add: adds `updates` into the windows at `scatter_indices` (repeats add up)."""
    return _scatter_bind(
        scatter_add_p,
        "scatter-add",
        operand,
        scatter_indices,
        updates,
        dimension_numbers,
        indices_are_sorted,
        unique_indices,
        mode,
    )


def scatter_mul(
    operand,
    scatter_indices,
    updates,
    dimension_numbers,
    *,
    indices_are_sorted=False,
    unique_indices=False,
    mode=None,
):
    """lax.scatter_mul: multiplies the windows at `scatter_indices` by `updates`."""
    return _scatter_bind(
        scatter_mul_p,
        "scatter-mul",
        operand,
        scatter_indices,
        updates,
        dimension_numbers,
        indices_are_sorted,
        unique_indices,
        mode,
    )


def scatter_min(
    operand,
    scatter_indices,
    updates,
    dimension_numbers,
    *,
    indices_are_sorted=False,
    unique_indices=False,
    mode=None,
):
    """lax.scatter_min: elementwise minimum of the windows at `scatter_indices` and `updates`."""
    return _scatter_bind(
        scatter_min_p,
        "scatter-min",
        operand,
        scatter_indices,
        updates,
        dimension_numbers,
        indices_are_sorted,
        unique_indices,
        mode,
    )


def scatter_max(
    operand,
    scatter_indices,
    updates,
    dimension_numbers,
    *,
    indices_are_sorted=False,
    unique_indices=False,
    mode=None,
):
    """lax.scatter_max: elementwise maximum of the windows at `scatter_indices` and `updates`."""
    return _scatter_bind(
        scatter_max_p,
        "scatter-max",
        operand,
        scatter_indices,
        updates,
        dimension_numbers,
        indices_are_sorted,
        unique_indices,
        mode,
    )
