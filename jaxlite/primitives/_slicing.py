"""lax's slicing conveniences along one axis (`slice_in_dim`, `index_in_dim`,
`dynamic_slice_in_dim`, `dynamic_index_in_dim`, `dynamic_update_slice_in_dim`) and the parallel
prefix scan of `associative_scan` (JAX's algorithm, on a flat list of arrays): composites of
slice, pad, concatenate, rev and the dynamic slices, so they need no rules of their own.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from jaxlite.core import get_aval
from jaxlite.primitives._base import _canonicalize_axis, operator_index
from jaxlite.primitives._elementwise import add, bitwise_or, lt, select
from jaxlite.primitives._shape import (
    concatenate,
    dynamic_slice,
    dynamic_update_slice,
    pad,
    rev,
    slice,  # noqa: A004 - lax's name
    squeeze,
)


def _axis(name: str, axis, ndim: int) -> int:
    return _canonicalize_axis(operator_index(axis), ndim, name)


def slice_in_dim(operand, start_index, limit_index, stride=1, axis=0):
    """lax.slice_in_dim: `operand[start:limit:stride]` along `axis` (negative indices count from
    the end; None is the start or the end)."""
    shape = get_aval(operand).shape
    axis = _axis("slice_in_dim", axis, len(shape))
    n = shape[axis]
    start = 0 if start_index is None else int(operator_index(start_index))
    limit = n if limit_index is None else int(operator_index(limit_index))
    start = start + n if start < 0 else start
    limit = limit + n if limit < 0 else limit
    stride = int(operator_index(stride))
    # (checked here: the eager path of lax.slice runs no shape rule)
    if not 0 <= start <= limit <= n or stride < 1:
        raise TypeError(
            f"slice_in_dim: start {start_index}, limit {limit_index}, stride {stride} do not "
            f"fit dimension {axis} of size {n} (after counting negative indices from the end, "
            "0 <= start <= limit <= size and stride >= 1 are needed)"
        )
    starts, limits, strides = [0] * len(shape), list(shape), [1] * len(shape)
    starts[axis], limits[axis], strides[axis] = start, limit, stride
    return slice(operand, starts, limits, strides)


def index_in_dim(operand, index, axis=0, keepdims=True):
    """lax.index_in_dim: the static `index` along `axis` (kept as a size-1 axis if keepdims)."""
    shape = get_aval(operand).shape
    axis = _axis("index_in_dim", axis, len(shape))
    index = int(operator_index(index))
    n = shape[axis]
    wrapped = index + n if index < 0 else index
    if not 0 <= wrapped < n:
        raise IndexError(f"index {index} is out of bounds for axis {axis} with size {n}")
    out = slice_in_dim(operand, wrapped, wrapped + 1, 1, axis)
    return out if keepdims else squeeze(out, (axis,))


def _start(index, size: int, allow_negative_indices: bool):
    """A start index, counted from the end when negative (as JAX's dynamic slices)."""
    if isinstance(index, (int, np.integer)) and not isinstance(index, (bool, np.bool_)):
        index = int(index)
        return index + size if allow_negative_indices and index < 0 else index
    aval = get_aval(index)
    if aval.shape != () or aval.dtype.kind not in "iu":
        raise TypeError(f"index arguments must be integer scalars, got {aval.str_short()}")
    if not allow_negative_indices or aval.dtype.kind == "u":
        return index
    return select(lt(index, 0), add(index, size), index)


def _zero_like(index):
    return 0 if isinstance(index, int) else np.zeros((), get_aval(index).dtype)


def dynamic_slice_in_dim(operand, start_index, slice_size, axis=0, *, allow_negative_indices=True):
    """lax.dynamic_slice_in_dim: `slice_size` elements from the (traced) `start_index` along
    `axis`; the start is clamped so that the slice fits, as lax.dynamic_slice."""
    shape = get_aval(operand).shape
    axis = _axis("dynamic_slice_in_dim", axis, len(shape))
    start = _start(start_index, shape[axis], allow_negative_indices)
    starts = [_zero_like(start)] * len(shape)
    sizes = list(shape)
    starts[axis], sizes[axis] = start, int(operator_index(slice_size))
    if not 0 <= sizes[axis] <= shape[axis]:  # (checked here too: vmap's gather would not)
        raise TypeError(
            f"dynamic_slice_in_dim: slice_size {sizes[axis]} does not fit in dimension {axis} "
            f"of the operand, shape {shape}"
        )
    return dynamic_slice(operand, starts, sizes)


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True, *, allow_negative_indices=True):
    """lax.dynamic_index_in_dim: the element at the (traced) `index` along `axis`."""
    shape = get_aval(operand).shape
    axis = _axis("dynamic_index_in_dim", axis, len(shape))
    out = dynamic_slice_in_dim(
        operand, index, 1, axis, allow_negative_indices=allow_negative_indices
    )
    return out if keepdims else squeeze(out, (axis,))


def dynamic_update_slice_in_dim(operand, update, start_index, axis, *, allow_negative_indices=True):
    """lax.dynamic_update_slice_in_dim: `operand` with `update` written from the (traced)
    `start_index` along `axis` (update has operand's other dimensions)."""
    shape = get_aval(operand).shape
    axis = _axis("dynamic_update_slice_in_dim", axis, len(shape))
    start = _start(start_index, shape[axis], allow_negative_indices)
    starts = [_zero_like(start)] * len(shape)
    starts[axis] = start
    ushape = get_aval(update).shape
    if len(ushape) != len(shape) or any(u > d for u, d in zip(ushape, shape)):
        raise TypeError(
            f"dynamic_update_slice_in_dim: update of shape {ushape} does not fit in the "
            f"operand, shape {shape}"
        )
    return dynamic_update_slice(operand, update, starts)


# ------------------------------------------------------------------------------------------
# associative_scan
# ------------------------------------------------------------------------------------------


def _interleave(a, b, axis: int):
    """a0 b0 a1 b1 ... along `axis` (len(a) is len(b) or len(b) + 1): each padded with zeros
    into the other's places, then added (or'ed for bools), as JAX does."""
    aval = get_aval(a)
    na, nb = aval.shape[axis], get_aval(b).shape[axis]
    a_cfg = [(0, 0, 0)] * aval.ndim
    b_cfg = [(0, 0, 0)] * aval.ndim
    a_cfg[axis] = (0, 1 if na == nb else 0, 1)
    b_cfg[axis] = (1, 0 if na == nb else 1, 1)
    zero = np.zeros((), aval.dtype)
    op = bitwise_or if aval.dtype.kind == "b" else add
    return op(pad(a, zero, a_cfg), pad(b, zero, b_cfg))


def prefix_scan(combine: Callable, leaves: list, axis: int, reverse: bool = False) -> list:
    """The inclusive scan of the arrays `leaves` (one size along `axis`) with the associative
    `combine(list, list) -> list`, by JAX's odd/even recursion (O(log n) depth; derivatives
    flow through the slices). lax.associative_scan (pytrees) and the cumulative jvp rules
    call it."""
    if reverse:
        leaves = [rev(x, (axis,)) for x in leaves]

    def sl(xs, start, limit, stride=1):
        return [slice_in_dim(x, start, limit, stride, axis) for x in xs]

    def scan(xs):
        k = get_aval(xs[0]).shape[axis]
        if k < 2:
            return xs
        odd = scan(combine(sl(xs, 0, -1, 2), sl(xs, 1, None, 2)))
        rest = sl(xs, 2, None, 2)
        even = combine(sl(odd, 0, -1) if k % 2 == 0 else odd, rest)
        even = [concatenate([f, e], axis) for f, e in zip(sl(xs, 0, 1), even)]
        return [_interleave(e, o, axis) for e, o in zip(even, odd)]

    out = scan(list(leaves))
    return [rev(x, (axis,)) for x in out] if reverse else out
