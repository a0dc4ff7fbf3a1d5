"""Windowed reductions: reduce_window_sum, reduce_window_max, reduce_window_min (XLA's
ReduceWindow with a monoid, as lax has them), with window strides, padding, base (input) dilation
and window dilation; the shape helper `reduce_window_shape_tuple`; what lax.reduce_window
(jaxlite/_reduce_window.py) needs to recognize those monoids.
"""

from __future__ import annotations

import builtins
import itertools

import numpy as np

from jaxlite import dtypes
from jaxlite.core import ShapedArray, get_aval
from jaxlite.primitives._base import _NUM, _NUM_BOOL, _check_kinds, _prim
from jaxlite.primitives._conv import (
    _dilate_shape,
    _ints,
    _pairs,
    dilate_and_pad,
    padtype_to_pads,
    windows,
)
from jaxlite.primitives._elementwise import add, gt, lt, select_n
from jaxlite.primitives._elementwise import max as lax_max
from jaxlite.primitives._elementwise import min as lax_min
from jaxlite.primitives._shape import broadcast_in_dim, pad
from jaxlite.primitives._shape import slice as lax_slice
from jaxlite.util import safe_zip

reduce_window_sum_p = _prim("reduce_window_sum")
reduce_window_max_p = _prim("reduce_window_max")
reduce_window_min_p = _prim("reduce_window_min")


def identity(prim, dtype) -> object:
    """The monoid's identity in `dtype`: 0, the lowest value, the highest value."""
    dtype = np.dtype(dtype)
    if prim is reduce_window_sum_p:
        return dtype.type(0)
    big = True if dtype.kind == "b" else np.inf if dtypes.is_float(dtype) else np.iinfo(dtype).max
    small = (
        False if dtype.kind == "b" else -np.inf if dtypes.is_float(dtype) else np.iinfo(dtype).min
    )
    return dtype.type(small if prim is reduce_window_max_p else big)


def reduce_window_shape_tuple(
    operand_shape, window_dimensions, window_strides, padding, base_dilation=None,
    window_dilation=None,
):  # fmt: skip
    """lax.reduce_window_shape_tuple: the shape a windowed reduction returns."""
    n = len(operand_shape)
    if base_dilation is not None:
        operand_shape = _dilate_shape(operand_shape, base_dilation)
    if window_dilation is not None:
        window_dimensions = _dilate_shape(window_dimensions, window_dilation)
    padded = [d + lo + hi for d, (lo, hi) in safe_zip(operand_shape, padding)]
    return tuple(
        builtins.max(0, (p - w) // s + 1) if p >= w else 0
        for p, w, s in safe_zip(padded, window_dimensions, window_strides or (1,) * n)
    )


def _abstract(name, kinds):
    def rule(x, *, window_dimensions, window_strides, padding, base_dilation, window_dilation):
        _check_kinds(name, x, kinds)
        for what, v in (("window_dimensions", window_dimensions), ("window_strides", window_strides),
                        ("padding", padding), ("base_dilation", base_dilation),
                        ("window_dilation", window_dilation)):  # fmt: skip
            if len(v) != x.ndim:
                raise TypeError(
                    f"{name}: {what} {v} must have one entry per dimension of the operand "
                    f"(shape {x.shape})."
                )
        shape = reduce_window_shape_tuple(
            x.shape, window_dimensions, window_strides, padding, base_dilation, window_dilation
        )
        return ShapedArray(shape, x.dtype, x.weak_type)

    return rule


_REDUCE = {"reduce_window_sum": np.sum, "reduce_window_max": np.max, "reduce_window_min": np.min}


def _impl(prim):
    def impl(x, *, window_dimensions, window_strides, padding, base_dilation, window_dilation):
        aval = prim.abstract_eval(
            get_aval(x), window_dimensions=window_dimensions, window_strides=window_strides,
            padding=padding, base_dilation=base_dilation, window_dilation=window_dilation,
        )  # fmt: skip
        fill = identity(prim, x.dtype)
        if 0 in aval.shape or 0 in window_dimensions:
            return np.full(aval.shape, fill, x.dtype)
        xp = dilate_and_pad(x, base_dilation, padding, fill)
        w = windows(xp, aval.shape, window_dimensions, window_strides, window_dilation)
        axes = tuple(range(x.ndim, 2 * x.ndim))
        out = _REDUCE[prim.name](w, axis=axes)
        return np.array(out, dtype=x.dtype, order="C")

    return impl


for _p, _kinds in ((reduce_window_sum_p, _NUM), (reduce_window_max_p, _NUM_BOOL),
                   (reduce_window_min_p, _NUM_BOOL)):  # fmt: skip
    _p.def_abstract_eval(_abstract(_p.name, _kinds))
    _p.def_impl(_impl(_p))


def _window_params(name, shape, window_dimensions, window_strides, padding, base_dilation,
                   window_dilation):  # fmt: skip
    n = len(shape)
    window = tuple(window_dimensions)
    if len(window) != n or any(
        isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in window
    ):
        raise TypeError(
            f"{name}: window_dimensions must be {n} positive integers (one per dimension "
            f"of the operand of shape {tuple(shape)}), got {window_dimensions!r}."
        )
    window = tuple(int(d) for d in window)
    strides = _ints(
        name, "window_strides", (1,) * n if window_strides is None else window_strides, n
    )
    bdil = _ints(name, "base_dilation", (1,) * n if base_dilation is None else base_dilation, n)
    wdil = _ints(
        name, "window_dilation", (1,) * n if window_dilation is None else window_dilation, n
    )
    if isinstance(padding, str):
        # NB: of the operand's shape, not its base-dilated one (as JAX's lax.reduce_window)
        pads = tuple(padtype_to_pads(shape, _dilate_shape(window, wdil), strides, padding))
    else:
        pads = _pairs(name, padding, n)
    return dict(window_dimensions=window, window_strides=strides, padding=pads,
                base_dilation=bdil, window_dilation=wdil)  # fmt: skip


def _monoid_wrapper(prim):
    def wrapper(operand, window_dimensions, window_strides=None, padding="VALID",
                base_dilation=None, window_dilation=None):  # fmt: skip
        params = _window_params(prim.name, get_aval(operand).shape, window_dimensions,
                                window_strides, padding, base_dilation, window_dilation)  # fmt: skip
        return prim.bind(operand, **params)

    wrapper.__name__ = prim.name
    return wrapper


_reduce_window_sum = _monoid_wrapper(reduce_window_sum_p)
_reduce_window_max = _monoid_wrapper(reduce_window_max_p)
_reduce_window_min = _monoid_wrapper(reduce_window_min_p)


def _monoid_of(computation):
    names = {"add": reduce_window_sum_p, "max": reduce_window_max_p, "min": reduce_window_min_p,
             "maximum": reduce_window_max_p, "minimum": reduce_window_min_p}  # fmt: skip
    lax_ops = {add: reduce_window_sum_p, lax_max: reduce_window_max_p, lax_min: reduce_window_min_p}
    if computation in lax_ops:
        return lax_ops[computation]
    mod = getattr(computation, "__module__", "") or ""
    if mod == "jaxlite.lax" or mod.startswith("jaxlite.numpy"):  # the public faces' wrappers
        return names.get(getattr(computation, "__name__", ""))
    return None


def _is_identity(init: np.ndarray, ident) -> bool:
    try:
        return bool(init == ident)
    except (TypeError, ValueError):
        return False


def select_and_gather(t, x, prim, *, window_dimensions, window_strides, padding, base_dilation,
                      window_dilation):  # fmt: skip
    """For each window of `x`, the element of `t` where `x` is largest (`prim` is
    reduce_window_max_p) or smallest (reduce_window_min_p); the first one on ties. The tangent
    of a window-dilated max/min pool (whose select_and_gather_add JAX cannot transpose), written
    with pad, strided slices and selects, so that it is linear in `t` and its transpose comes
    from theirs.
    """
    xa = get_aval(x)
    out_shape = reduce_window_shape_tuple(xa.shape, window_dimensions, window_strides, padding,
                                          base_dilation, window_dilation)  # fmt: skip
    cfg = [(lo, hi, b - 1) for (lo, hi), b in safe_zip(padding, base_dilation)]
    xp = pad(x, identity(prim, xa.dtype).item(), cfg)
    tp = pad(t, 0.0 if dtypes.is_float(get_aval(t).dtype) else 0, cfg)
    if 0 in out_shape or 0 in window_dimensions:
        return broadcast_in_dim(np.zeros((), get_aval(t).dtype), out_shape, ())
    better = gt if prim is reduce_window_max_p else lt
    best = tbest = None
    for k in itertools.product(*map(range, window_dimensions)):
        start = [i * d for i, d in safe_zip(k, window_dilation)]
        limit = [s + (n - 1) * st + 1 for s, n, st in safe_zip(start, out_shape, window_strides)]
        xk = lax_slice(xp, start, limit, window_strides)
        tk = lax_slice(tp, start, limit, window_strides)
        if best is None:
            best, tbest = xk, tk
            continue
        take = better(xk, best)
        best = select_n(take, best, xk)
        tbest = select_n(take, tbest, tk)
    return tbest
