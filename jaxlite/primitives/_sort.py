"""sort: one array, or several sorted together by the first `num_keys` of them (lax.sort),
stable, along one dimension; and top_k, a composite of it.
"""

from __future__ import annotations

import numpy as np

from jaxlite import dtypes
from jaxlite.core import ShapedArray, get_aval
from jaxlite.primitives._base import _canonicalize_axis, _check_axes, _prim, operator_index
from jaxlite.primitives._elementwise import (
    bitcast_convert_type,
    bitwise_not,
    bitwise_xor,
    convert_element_type,
    lt,
    select,
)
from jaxlite.primitives._shape import broadcasted_iota, slice  # noqa: A004 - lax's name

sort_p = _prim("sort", multiple_results=True)


@sort_p.def_impl
def _sort_impl(*operands, dimension, is_stable, num_keys):
    keys = operands[:num_keys]
    if num_keys == 1:
        perm = np.argsort(keys[0], axis=dimension, kind="stable")
    else:
        moved = [np.moveaxis(k, dimension, -1) for k in keys]
        flat = [m.reshape(-1, m.shape[-1]) for m in moved]
        perm_rows = (
            np.stack(
                [np.lexsort(tuple(f[r] for f in reversed(flat))) for r in range(flat[0].shape[0])]
            )
            if flat[0].size
            else np.zeros(flat[0].shape, np.int64)
        )
        perm = np.moveaxis(perm_rows.reshape(moved[0].shape), -1, dimension)
    return [np.take_along_axis(o, perm, axis=dimension) for o in operands]


@sort_p.def_abstract_eval
def _sort_abstract(*operands, dimension, is_stable, num_keys):
    shapes = {o.shape for o in operands}
    if len(shapes) != 1:
        raise TypeError(
            f"sort: operands must have the same shape, got {[o.shape for o in operands]}"
        )
    if not 1 <= num_keys <= len(operands):
        raise ValueError(f"sort: num_keys={num_keys} with {len(operands)} operands")
    _check_axes("sort", (dimension,), operands[0].shape)
    return [ShapedArray(o.shape, o.dtype, o.weak_type) for o in operands]


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
    """lax.sort: one array, or a tuple of arrays sorted by the first `num_keys` of them."""
    single = not isinstance(operand, (tuple, list))
    ops = [operand] if single else list(operand)
    nd = get_aval(ops[0]).ndim
    out = sort_p.bind(
        *ops,
        dimension=_canonicalize_axis(dimension, nd, "sort"),
        is_stable=bool(is_stable),
        num_keys=int(num_keys),
    )
    return out[0] if single else tuple(out)


def _descending_key(x):
    """An integer key whose ascending order is `x`'s descending total order (floats: NaN >
    inf > ... > 0.0 > -0.0 > ... > -inf > -NaN, as XLA's TopK): no overflow, no NaN."""
    dt = get_aval(x).dtype
    if dt.kind == "b":
        x = convert_element_type(x, np.dtype(np.int8))
    elif dtypes.is_float(dt):
        bits = bitcast_convert_type(x, np.dtype(f"i{dt.itemsize}"))
        # negative floats: flip all but the sign, so the signed integers order like the floats
        x = select(lt(bits, 0), bitwise_xor(bits, np.iinfo(bits.dtype).max), bits)
    return bitwise_not(x)


def top_k(operand, k, *, axis=-1):
    """lax.top_k: the `k` largest entries along `axis` (last by default), in descending order,
    and their int32 indices; ties keep the lower index first (a stable sort on an integer key,
    so NaNs come first as in JAX; jvp and vmap come from sort's rules)."""
    aval = get_aval(operand)
    k = int(operator_index(k))
    if aval.ndim == 0:
        raise TypeError("top_k: operand must have at least one dimension, got a scalar")
    axis = _canonicalize_axis(operator_index(axis), aval.ndim, "top_k")
    if k < 0:
        raise ValueError(f"top_k: k must be nonnegative, got {k}")
    if aval.shape[axis] < k:
        raise ValueError(
            f"top_k: k={k} is larger than dimension {axis} of the operand, shape {aval.shape}"
        )
    idx = broadcasted_iota(np.dtype(np.int32), aval.shape, axis)
    _, values, indices = sort_p.bind(
        _descending_key(operand), operand, idx, dimension=axis, is_stable=True, num_keys=1
    )
    limits = list(aval.shape)
    limits[axis] = k
    start = [0] * aval.ndim
    return slice(values, start, limits), slice(indices, start, limits)
