"""sort: one array, or several sorted together by the first `num_keys` of them (lax.sort),
stable, along one dimension.
"""

from __future__ import annotations

import numpy as np

from jaxlite.core import ShapedArray, get_aval
from jaxlite.primitives._base import _canonicalize_axis, _check_axes, _prim

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
