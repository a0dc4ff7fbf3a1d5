"""lax.reduce_window: a reduction with any `computation` over sliding windows of a pytree of
operands.

As JAX, a single operand reduced by lax.add/max/min from a concrete identity init value is the
specialized primitive (reduce_window_sum/max/min). Any other computation is a composite, not a
primitive with a jaxpr parameter: the operands padded (and base-dilated) with the init values,
one strided slice per window position, folded left in row-major window order by
`vmap(computation)` from the init values, skipping the positions that fall in padding or in a
hole of base dilation, as XLA (which reads neither). XLA assumes an associative computation (its
CPU order varies with the padding); without padding a non-associative one gives XLA's answer too. jvp (init values included),
vmap (batched init values included) and C lowering come from the pieces.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from jaxlite import primitives as P
from jaxlite import tree_util
from jaxlite._lax_composites import _init_like, pairwise
from jaxlite._vmap_api import vmap
from jaxlite.core import Tracer, get_aval
from jaxlite.primitives._windowed import (
    _is_identity,
    _monoid_of,
    _window_params,
    identity,
    reduce_window_shape_tuple,
)
from jaxlite.util import safe_zip

NAME = "reduce_window"


def reduce_window(operand, init_value, computation: Callable, window_dimensions,
                  window_strides=None, padding="VALID", base_dilation=None,
                  window_dilation=None):  # fmt: skip
    """lax.reduce_window: reduces the windows of `operand` (an array or a pytree of arrays of
    one shape) with `computation(a, b)` (pytrees like `operand` of scalars) from `init_value`
    (scalars, a pytree like `operand`). Padding and the holes of `base_dilation` read the init
    values, as XLA's.

    Example:
        >>> x = jnp.arange(10.0)
        >>> lax.reduce_window(x, 1.0, lax.mul, window_dimensions=(2,))  # products of pairs
    """
    ops, tree = tree_util.tree_flatten(operand)
    inits, init_tree = tree_util.tree_flatten(init_value)
    if tree != init_tree:
        raise ValueError(
            f"{NAME}: operands must have the same tree structure as init_values: "
            f"{tree} vs. {init_tree}"
        )
    if not ops:
        raise ValueError(f"{NAME} must have at least one operand.")
    avals = [get_aval(x) for x in ops]
    shape = avals[0].shape
    if any(a.shape != shape for a in avals):
        raise ValueError(f"{NAME}: operands must have one shape, got {[a.shape for a in avals]}")
    params = _window_params(NAME, shape, window_dimensions, window_strides, padding,
                            base_dilation, window_dilation)  # fmt: skip
    prim = _monoid_of(computation) if len(ops) == 1 else None
    if prim is not None and not isinstance(inits[0], Tracer):
        init = np.asarray(inits[0])
        if init.shape == () and _is_identity(init, identity(prim, avals[0].dtype)):
            return tree_util.tree_unflatten(tree, [prim.bind(ops[0], **params)])
    inits = [_init_like(i, a, NAME) for i, a in safe_zip(inits, avals)]
    outs = _fold_windows(computation, tree, ops, inits, **params)
    return tree_util.tree_unflatten(tree, outs)


def _fold_windows(computation, tree, ops, inits, *, window_dimensions, window_strides, padding,
                  base_dilation, window_dilation):  # fmt: skip
    shape = get_aval(ops[0]).shape
    out_shape = reduce_window_shape_tuple(shape, window_dimensions, window_strides, padding,
                                          base_dilation, window_dilation)  # fmt: skip
    size = math.prod(out_shape)
    acc = [P.broadcast_in_dim(i, (size,), ()) for i in inits]
    if size == 0:
        return [P.reshape(a, out_shape) for a in acc]
    cfg = [(lo, hi, b - 1) for (lo, hi), b in safe_zip(padding, base_dilation)]
    padded = [P.pad(x, i, cfg) for x, i in safe_zip(ops, inits)]
    step = vmap(pairwise(NAME, computation, tree, [get_aval(x).dtype for x in ops]))
    geom = (shape, out_shape, window_strides, padding, base_dilation, window_dilation)
    for k in itertools.product(*map(range, window_dimensions)):
        read = _reads(k, *geom).reshape(-1)
        if not read.any():
            continue
        start = [i * d for i, d in safe_zip(k, window_dilation)]
        limit = [s + (n - 1) * st + 1 for s, n, st in safe_zip(start, out_shape, window_strides)]
        xs = [P.reshape(P.slice(x, start, limit, window_strides), (size,)) for x in padded]
        new = step(*acc, *xs)
        acc = new if read.all() else [P.select_n(read, a, b) for a, b in safe_zip(acc, new)]
    return [P.reshape(a, out_shape) for a in acc]


def _reads(k, shape, out_shape, strides, padding, base_dilation, window_dilation) -> np.ndarray:
    """Which outputs' windows read an element of the operand at window position `k` (XLA skips
    the positions in padding or in the holes of base dilation: the init value and the elements
    read are all the computation sees)."""
    mask = np.ones((), bool)
    for kd, n, o, s, (lo, _), b, w in zip(k, shape, out_shape, strides, padding, base_dilation,
                                          window_dilation):  # fmt: skip
        at = np.arange(o) * s + kd * w - lo  # in the dilated operand
        mask = mask[..., None] & (at >= 0) & (at <= (n - 1) * b) & (at % b == 0)
    return mask
