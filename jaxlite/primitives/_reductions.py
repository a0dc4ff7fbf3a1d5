"""Reductions over axes (reduce_sum, reduce_max, ...), argmax/argmin and the cumulative scans
(cumsum, cumprod, cummax, cummin).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from jaxlite import dtypes
from jaxlite.core import ShapedArray
from jaxlite.primitives._base import (
    _INT_BOOL,
    _NUM,
    _NUM_BOOL,
    _NUMC,
    _check_axes,
    _check_kinds,
    _prim,
)

# ------------------------------------------------------------------------------------------
# Reductions and scans
# ------------------------------------------------------------------------------------------


def _reduce_abstract(name, kinds, x, *, axes):
    _check_kinds(name, x, kinds)
    axes = _check_axes(name, axes, x.shape)
    shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    return ShapedArray(shape, x.dtype, x.weak_type)


def _reduce(name, impl, kinds):
    p = _prim(name)
    p.def_impl(impl)
    p.def_abstract_eval(partial(_reduce_abstract, name, kinds))
    return p


def _np_reduce(fn):
    return lambda x, *, axes: np.asarray(fn(x, axis=tuple(axes))).astype(x.dtype, copy=False)


def _reduce_max_np(x, *, axes):
    if x.size == 0:
        return _reduce_empty(x, axes, "max")
    return np.max(x, axis=tuple(axes))


def _reduce_min_np(x, *, axes):
    if x.size == 0:
        return _reduce_empty(x, axes, "min")
    return np.min(x, axis=tuple(axes))


def _reduce_empty(x, axes, which):
    # The identity of max is the dtype's lowest value (-inf for floats), as in XLA.
    shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    if dtypes.is_float(x.dtype):
        v = -np.inf if which == "max" else np.inf
    elif x.dtype.kind == "b":
        v = which == "min"
    else:
        info = np.iinfo(x.dtype)
        v = info.min if which == "max" else info.max
    return np.full(shape, v, x.dtype)


reduce_sum_p = _reduce(
    "reduce_sum", lambda x, *, axes: np.add.reduce(x, axis=tuple(axes), dtype=x.dtype), _NUMC
)
reduce_prod_p = _reduce(
    "reduce_prod", lambda x, *, axes: np.multiply.reduce(x, axis=tuple(axes), dtype=x.dtype), _NUMC
)
reduce_max_p = _reduce("reduce_max", _reduce_max_np, _NUM_BOOL)
reduce_min_p = _reduce("reduce_min", _reduce_min_np, _NUM_BOOL)
reduce_and_p = _reduce("reduce_and", _np_reduce(np.all), _INT_BOOL)
reduce_or_p = _reduce("reduce_or", _np_reduce(np.any), _INT_BOOL)


def _reduce_bitwise_impl(ufunc):
    def impl(x, *, axes):
        if x.dtype == np.bool_:
            return (
                np.all(x, axis=tuple(axes))
                if ufunc is np.bitwise_and
                else np.any(x, axis=tuple(axes))
            )
        return ufunc.reduce(x, axis=tuple(axes)).astype(x.dtype)

    return impl


reduce_and_p.def_impl(_reduce_bitwise_impl(np.bitwise_and))
reduce_or_p.def_impl(_reduce_bitwise_impl(np.bitwise_or))


# fmt: off
def reduce_sum(x, axes): return reduce_sum_p.bind(x, axes=tuple(axes))
def reduce_prod(x, axes): return reduce_prod_p.bind(x, axes=tuple(axes))
def reduce_max(x, axes): return reduce_max_p.bind(x, axes=tuple(axes))
def reduce_min(x, axes): return reduce_min_p.bind(x, axes=tuple(axes))
def reduce_and(x, axes): return reduce_and_p.bind(x, axes=tuple(axes))
def reduce_or(x, axes): return reduce_or_p.bind(x, axes=tuple(axes))
# fmt: on


def _arg_abstract(name, x, *, axes, index_dtype):
    _check_kinds(name, x, _NUM_BOOL)
    if len(axes) != 1:
        raise ValueError(f"[{name}] needs exactly one axis, got {axes}")
    (axis,) = _check_axes(name, axes, x.shape)
    if x.shape[axis] == 0:
        raise ValueError(f"[{name}] cannot reduce the empty axis {axis} of shape {x.shape}")
    shape = tuple(d for i, d in enumerate(x.shape) if i != axis)
    return ShapedArray(shape, dtypes.canonicalize(index_dtype, name))


argmax_p = _prim("argmax")
argmax_p.def_impl(lambda x, *, axes, index_dtype: np.argmax(x, axis=axes[0]).astype(index_dtype))
argmax_p.def_abstract_eval(partial(_arg_abstract, "argmax"))
argmin_p = _prim("argmin")
argmin_p.def_impl(lambda x, *, axes, index_dtype: np.argmin(x, axis=axes[0]).astype(index_dtype))
argmin_p.def_abstract_eval(partial(_arg_abstract, "argmin"))


def argmax(x, axis, index_dtype=np.int32):
    return argmax_p.bind(x, axes=(int(axis),), index_dtype=dtypes.canonicalize(index_dtype))


def argmin(x, axis, index_dtype=np.int32):
    return argmin_p.bind(x, axes=(int(axis),), index_dtype=dtypes.canonicalize(index_dtype))


def _cum_abstract(name, kinds, x, *, axis, reverse):
    _check_kinds(name, x, kinds)
    _check_axes(name, (axis,), x.shape)
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def _cum_impl(ufunc):
    def impl(x, *, axis, reverse):
        if reverse:
            x = np.flip(x, axis)
        out = ufunc.accumulate(x, axis=axis, dtype=x.dtype) if x.size else np.copy(x)
        return np.flip(out, axis) if reverse else out

    return impl


def _cum(name, ufunc, kinds):
    p = _prim(name)
    p.def_impl(_cum_impl(ufunc))
    p.def_abstract_eval(partial(_cum_abstract, name, kinds))
    return p


cumsum_p = _cum("cumsum", np.add, _NUMC)
cumprod_p = _cum("cumprod", np.multiply, _NUMC)
cummax_p = _cum("cummax", np.maximum, _NUM)
cummin_p = _cum("cummin", np.minimum, _NUM)


# fmt: off
def cumsum(x, axis=0, reverse=False): return cumsum_p.bind(x, axis=int(axis), reverse=bool(reverse))
def cumprod(x, axis=0, reverse=False): return cumprod_p.bind(x, axis=int(axis), reverse=bool(reverse))
def cummax(x, axis=0, reverse=False): return cummax_p.bind(x, axis=int(axis), reverse=bool(reverse))
def cummin(x, axis=0, reverse=False): return cummin_p.bind(x, axis=int(axis), reverse=bool(reverse))
# fmt: on
