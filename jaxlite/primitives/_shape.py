"""Shape primitives: broadcast_in_dim, reshape, transpose, squeeze, expand_dims, rev,
concatenate, pad, slice, dynamic_slice, dynamic_update_slice and iota. They move or repeat
elements and never compute on them.
"""

from __future__ import annotations

import builtins

import numpy as np

from jaxlite import dtypes
from jaxlite.array import _wrap
from jaxlite.core import ShapedArray, get_aval
from jaxlite.primitives._base import (
    _NUM,
    _all_weak,
    _canonicalize_axis,
    _check_axes,
    _check_shape,
    _contiguous,
    _prim,
    _promote_scalars,
    _same_dtypes,
)
from jaxlite.util import safe_zip

broadcast_in_dim_p = _prim("broadcast_in_dim")


@broadcast_in_dim_p.def_impl
def _broadcast_in_dim_impl(x, *, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        expanded[d] = x.shape[i]
    out = np.empty(shape, x.dtype)  # NB: 2 us faster than np.broadcast_to(...).copy()
    out[...] = x.reshape(expanded)
    return out


@broadcast_in_dim_p.def_abstract_eval
def _broadcast_in_dim_abstract(x, *, shape, broadcast_dimensions):
    if len(broadcast_dimensions) != x.ndim:
        raise TypeError(
            f"broadcast_in_dim: broadcast_dimensions {broadcast_dimensions} must have one entry "
            f"per operand dimension (operand shape {x.shape})"
        )
    for i, d in enumerate(broadcast_dimensions):
        if not 0 <= d < len(shape) or x.shape[i] not in (1, shape[d]):
            raise TypeError(
                f"broadcast_in_dim: operand shape {x.shape} cannot be broadcast to {shape} "
                f"with broadcast_dimensions {broadcast_dimensions}"
            )
    if list(broadcast_dimensions) != sorted(set(broadcast_dimensions)):
        raise TypeError(
            f"broadcast_in_dim: broadcast_dimensions {broadcast_dimensions} must be strictly increasing"
        )
    return ShapedArray(shape, x.dtype, x.weak_type)


def broadcast_in_dim(x, shape, broadcast_dimensions):
    return broadcast_in_dim_p.bind(
        x,
        shape=_check_shape("broadcast_in_dim", shape),
        broadcast_dimensions=tuple(int(d) for d in broadcast_dimensions),
    )


def broadcast(x, sizes):
    """Adds leading dimensions `sizes` (lax.broadcast)."""
    nd = len(get_aval(x).shape)
    sizes = tuple(sizes)
    return broadcast_in_dim(
        x, sizes + tuple(get_aval(x).shape), tuple(range(len(sizes), len(sizes) + nd))
    )


reshape_p = _prim("reshape")
reshape_p.def_impl(lambda x, *, new_sizes, dimensions: np.reshape(x, new_sizes).copy())


@reshape_p.def_abstract_eval
def _reshape_abstract(x, *, new_sizes, dimensions):
    if dimensions is not None:
        raise NotImplementedError("reshape with `dimensions` is not supported; transpose first")
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise TypeError(
            f"reshape: cannot reshape an array of shape {x.shape} into shape {tuple(new_sizes)}"
        )
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


def reshape(x, new_sizes, dimensions=None):
    return reshape_p.bind(
        x,
        new_sizes=_check_shape("reshape", new_sizes),
        dimensions=None if dimensions is None else tuple(dimensions),
    )


transpose_p = _prim("transpose")


# NB: a view, not a copy: Arrays are immutable, and eager transposes (x.T, moving vmap's batch
# axis, the transposes of reverse mode) then cost nothing. A caller's writable NumPy array is
# copied, so that mutating it later cannot change the result.
@transpose_p.def_impl
def _transpose_impl(x, *, permutation):
    y = np.transpose(x, permutation)
    return y.copy() if x.flags.writeable else y


@transpose_p.def_abstract_eval
def _transpose_abstract(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise TypeError(
            f"transpose: permutation {permutation} is not a permutation of the axes of shape {x.shape}"
        )
    return ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype, x.weak_type)


def transpose(x, permutation):
    return transpose_p.bind(x, permutation=tuple(int(p) for p in permutation))


squeeze_p = _prim("squeeze")
squeeze_p.def_impl(lambda x, *, dimensions: np.squeeze(x, axis=tuple(dimensions)).copy())


@squeeze_p.def_abstract_eval
def _squeeze_abstract(x, *, dimensions):
    dims = _check_axes("squeeze", dimensions, x.shape)
    for d in dims:
        if x.shape[d] != 1:
            raise ValueError(
                f"squeeze: cannot squeeze dimension {d} of shape {x.shape} (size {x.shape[d]} != 1)"
            )
    return ShapedArray(
        tuple(s for i, s in enumerate(x.shape) if i not in dims), x.dtype, x.weak_type
    )


def squeeze(x, dimensions):
    nd = get_aval(x).ndim
    return squeeze_p.bind(
        x, dimensions=tuple(sorted(_canonicalize_axis(d, nd, "squeeze") for d in dimensions))
    )


expand_dims_p = _prim("expand_dims")
expand_dims_p.def_impl(lambda x, *, dimensions: np.expand_dims(x, tuple(dimensions)).copy())


@expand_dims_p.def_abstract_eval
def _expand_dims_abstract(x, *, dimensions):
    nd = x.ndim + len(dimensions)
    dims = _check_axes("expand_dims", dimensions, (0,) * nd)
    shape = list(x.shape)
    for d in sorted(dims):
        shape.insert(d, 1)
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


def expand_dims(x, dimensions):
    nd = get_aval(x).ndim + len(tuple(dimensions))
    return expand_dims_p.bind(
        x, dimensions=tuple(sorted(_canonicalize_axis(d, nd, "expand_dims") for d in dimensions))
    )


rev_p = _prim("rev")
rev_p.def_impl(lambda x, *, dimensions: np.flip(x, tuple(dimensions)).copy())


@rev_p.def_abstract_eval
def _rev_abstract(x, *, dimensions):
    _check_axes("rev", dimensions, x.shape)
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def rev(x, dimensions):
    return rev_p.bind(x, dimensions=tuple(int(d) for d in dimensions))


concatenate_p = _prim("concatenate")
concatenate_p.def_impl(lambda *xs, dimension: np.concatenate(xs, axis=dimension))


@concatenate_p.def_abstract_eval
def _concatenate_abstract(*xs, dimension):
    if not xs:
        raise ValueError("concatenate needs at least one operand")
    dt = _same_dtypes("concatenate", *xs)
    nd = xs[0].ndim
    if not 0 <= dimension < nd:
        raise ValueError(f"[concatenate] dimension {dimension} out of range for rank {nd}")
    for x in xs:
        if x.ndim != nd or any(
            a != b for i, (a, b) in enumerate(safe_zip(x.shape, xs[0].shape)) if i != dimension
        ):
            raise TypeError(
                "concatenate: operands must have equal shapes except along dimension "
                f"{dimension}, got {[x.shape for x in xs]}"
            )
    shape = list(xs[0].shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    return ShapedArray(tuple(shape), dt, _all_weak(*xs))


def concatenate(operands, dimension):
    return concatenate_p.bind(*_sequence("concatenate", operands), dimension=int(dimension))


def _sequence(name: str, xs) -> tuple:
    try:
        return tuple(xs)
    except TypeError:
        raise TypeError(f"{name}: expected a sequence of arrays, got {type(xs).__name__}") from None


pad_p = _prim("pad")


@pad_p.def_impl
def _pad_impl(x, padding_value, *, padding_config):
    grown = []
    for d, (lo, hi, interior) in safe_zip(x.shape, padding_config):
        core = d + (d - 1) * interior if d else 0
        grown.append(builtins.max(lo, 0) + core + builtins.max(hi, 0))
    out = np.full(grown, padding_value, dtype=x.dtype)
    idx = tuple(
        builtins.slice(
            builtins.max(lo, 0), builtins.max(lo, 0) + (d + (d - 1) * it if d else 0), it + 1
        )
        for d, (lo, hi, it) in safe_zip(x.shape, padding_config)
    )
    out[idx] = x
    crop = tuple(
        builtins.slice(builtins.max(-lo, 0), g - builtins.max(-hi, 0))
        for g, (lo, hi, _) in safe_zip(grown, padding_config)
    )
    return _contiguous(out[crop])


@pad_p.def_abstract_eval
def _pad_abstract(x, padding_value, *, padding_config):
    _same_dtypes("pad", x, padding_value)
    if padding_value.shape != ():
        raise TypeError("pad: padding_value must be a scalar")
    if len(padding_config) != x.ndim:
        raise TypeError(f"pad: padding_config has {len(padding_config)} entries for rank {x.ndim}")
    shape = []
    for d, (lo, hi, it) in safe_zip(x.shape, padding_config):
        if it < 0:
            raise ValueError("pad: interior padding must be non-negative")
        n = lo + hi + d + (builtins.max(d - 1, 0)) * it
        if n < 0:
            raise ValueError(
                f"pad: negative output dimension for shape {x.shape} and config {padding_config}"
            )
        shape.append(n)
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


def pad(x, padding_value, padding_config):
    x, padding_value = _promote_scalars("pad", x, padding_value)
    cfg = tuple((int(lo), int(hi), int(it)) for lo, hi, it in padding_config)
    return pad_p.bind(x, padding_value, padding_config=cfg)


slice_p = _prim("slice")
slice_p.def_impl(
    lambda x, *, start_indices, limit_indices, strides: _contiguous(
        x[
            tuple(
                builtins.slice(s, lim, st)
                for s, lim, st in safe_zip(start_indices, limit_indices, strides or (1,) * x.ndim)
            )
        ]
    )
)


@slice_p.def_abstract_eval
def _slice_abstract(x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * x.ndim
    if not len(start_indices) == len(limit_indices) == len(strides) == x.ndim:
        raise TypeError(f"slice: indices must have one entry per dimension of {x.shape}")
    shape = []
    for d, s, lim, st in safe_zip(x.shape, start_indices, limit_indices, strides):
        if not (0 <= s <= lim <= d) or st < 1:
            raise ValueError(
                f"slice: start_indices {start_indices}, limit_indices {limit_indices} and strides "
                f"{strides} are out of range for shape {x.shape}"
            )
        shape.append((lim - s + st - 1) // st)
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


def slice(x, start_indices, limit_indices, strides=None):  # noqa: A001 - lax's name
    return slice_p.bind(
        x,
        start_indices=tuple(int(i) for i in start_indices),
        limit_indices=tuple(int(i) for i in limit_indices),
        strides=None if strides is None else tuple(int(s) for s in strides),
    )


def _clamped_starts(shape, starts, sizes):
    return [int(np.clip(int(s), 0, d - z)) for d, s, z in safe_zip(shape, starts, sizes)]


dynamic_slice_p = _prim("dynamic_slice")


@dynamic_slice_p.def_impl
def _dynamic_slice_impl(x, *starts, slice_sizes):
    st = _clamped_starts(x.shape, starts, slice_sizes)
    return x[tuple(builtins.slice(s, s + z) for s, z in safe_zip(st, slice_sizes))].copy()


@dynamic_slice_p.def_abstract_eval
def _dynamic_slice_abstract(x, *starts, slice_sizes):
    if len(starts) != x.ndim or len(slice_sizes) != x.ndim:
        raise TypeError(
            f"dynamic_slice: need {x.ndim} start indices and slice sizes for shape {x.shape}"
        )
    for s in starts:
        if s.shape != () or s.dtype.kind not in "iu":
            raise TypeError(
                f"dynamic_slice: start indices must be integer scalars, got {s.str_short()}"
            )
    if any(not 0 <= z <= d for z, d in safe_zip(slice_sizes, x.shape)):
        raise TypeError(f"dynamic_slice: slice_sizes {slice_sizes} do not fit in shape {x.shape}")
    return ShapedArray(tuple(slice_sizes), x.dtype, x.weak_type)


def dynamic_slice(x, start_indices, slice_sizes):
    return dynamic_slice_p.bind(
        x, *_index_scalars(start_indices), slice_sizes=tuple(int(s) for s in slice_sizes)
    )


def _index_scalars(idxs):
    return [_wrap(np.asarray(i, np.int32)) if type(i) is int else i for i in idxs]


dynamic_update_slice_p = _prim("dynamic_update_slice")


@dynamic_update_slice_p.def_impl
def _dynamic_update_slice_impl(x, update, *starts):
    st = _clamped_starts(x.shape, starts, update.shape)
    out = x.copy()
    out[tuple(builtins.slice(s, s + z) for s, z in safe_zip(st, update.shape))] = update
    return out


@dynamic_update_slice_p.def_abstract_eval
def _dynamic_update_slice_abstract(x, update, *starts):
    _same_dtypes("dynamic_update_slice", x, update)
    if len(starts) != x.ndim or update.ndim != x.ndim:
        raise TypeError(
            f"dynamic_update_slice: update {update.shape} and {len(starts)} indices do not match {x.shape}"
        )
    if any(u > d for u, d in safe_zip(update.shape, x.shape)):
        raise TypeError(
            f"dynamic_update_slice: update of shape {update.shape} does not fit in {x.shape}"
        )
    for s in starts:
        if s.shape != () or s.dtype.kind not in "iu":
            raise TypeError(
                f"dynamic_update_slice: start indices must be integer scalars, got {s.str_short()}"
            )
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def dynamic_update_slice(x, update, start_indices):
    return dynamic_update_slice_p.bind(x, update, *_index_scalars(start_indices))


iota_p = _prim("iota")


@iota_p.def_impl
def _iota_impl(*, dtype, shape, dimension):
    r = np.arange(shape[dimension], dtype=dtype)
    expanded = [1] * len(shape)
    expanded[dimension] = shape[dimension]
    return np.broadcast_to(r.reshape(expanded), shape).copy()


@iota_p.def_abstract_eval
def _iota_abstract(*, dtype, shape, dimension):
    if dtypes.kind(dtype) not in _NUM:
        raise TypeError(f"iota does not accept dtype {dtype.name}: it needs a numeric dtype")
    if not 0 <= dimension < len(shape):
        raise ValueError(f"[iota] dimension {dimension} out of range for shape {shape}")
    return ShapedArray(shape, dtype)


def iota(dtype, size):
    return iota_p.bind(dtype=dtypes.canonicalize(dtype), shape=(int(size),), dimension=0)


def broadcasted_iota(dtype, shape, dimension):
    return iota_p.bind(
        dtype=dtypes.canonicalize(dtype),
        shape=_check_shape("iota", shape),
        dimension=int(dimension),
    )
