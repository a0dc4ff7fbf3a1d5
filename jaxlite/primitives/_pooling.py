"""The derivatives of a max (min) pool, as XLA has them: select_and_gather_add (the tangent:
each window's tangent at its selected element) and select_and_scatter_add (the gradient: each
window's cotangent added at its selected element), each the other's transpose.

The selection is XLA's with `select_prim` ge (max) or le (min), the first extremum in window
order, exactly as JAX 0.10 on CPU gives it, NaNs included:
- select_and_gather_add starts from (the monoid's identity, 0) and visits the window's elements
  in order, skipping padding and base-dilation holes; an element replaces the selection unless
  `select_prim(selected, element)` holds. A window of identities (-inf for a max) keeps the 0.
- select_and_scatter_add (no dilations, as XLA's) pads the operand with the identity and starts
  from the window's first element, padding included: a cotangent selected into the padding is
  dropped.
Gradients equal JAX's everywhere (tests/test_pool.py). One difference: on windows that reach
padding, XLA's CPU emitter visits the window in another order (the padded dimension outermost,
in blocks), so JAX's JVP at exact ties there may pick another of the tied elements; jaxlite keeps
the row-major order XLA documents (and its CPU uses without padding).
"""

from __future__ import annotations

import numpy as np

from jaxlite.core import ShapedArray, get_aval
from jaxlite.primitives._base import _NUM, _check_kinds, _prim
from jaxlite.primitives._conv import dilate_and_pad, windows
from jaxlite.primitives._elementwise import ge_p, le_p
from jaxlite.primitives._windowed import (
    reduce_window_max_p,
    reduce_window_min_p,
    reduce_window_shape_tuple,
)
from jaxlite.primitives._windowed import identity as _monoid_identity

select_and_gather_add_p = _prim("select_and_gather_add")
select_and_scatter_add_p = _prim("select_and_scatter_add")

SELECT_PRIMS = (ge_p, le_p)


def select_identity(select_prim, dtype):
    """The padding value of a select: the lowest value for ge (a max), the highest for le."""
    return _monoid_identity(reduce_window_max_p if select_prim is ge_p else reduce_window_min_p,
                            dtype)  # fmt: skip


def keeps(select_prim, selected, candidate):
    """NumPy: where the selection stays (`select_prim(selected, candidate)`; False at NaNs)."""
    with np.errstate(invalid="ignore"):
        return (np.greater_equal if select_prim is ge_p else np.less_equal)(selected, candidate)


def _check_params(name, x, select_prim, params):
    if select_prim not in SELECT_PRIMS:
        raise TypeError(f"{name}: select_prim must be lax.ge_p or lax.le_p, got {select_prim!r}.")
    for what, v in params.items():
        if len(v) != x.ndim:
            raise TypeError(
                f"{name}: {what} {v} must have one entry per dimension of the operand "
                f"(shape {x.shape})."
            )


def _gather_abstract(t, x, *, select_prim, window_dimensions, window_strides, padding,
                     base_dilation, window_dilation):  # fmt: skip
    name = "select_and_gather_add"
    _check_kinds(name, t, _NUM)
    _check_kinds(name, x, _NUM)
    if t.shape != x.shape:
        raise TypeError(
            f"{name}: the tangents and the operand must have the same shape, got {t.shape} and "
            f"{x.shape}."
        )
    _check_params(name, x, select_prim, dict(
        window_dimensions=window_dimensions, window_strides=window_strides, padding=padding,
        base_dilation=base_dilation, window_dilation=window_dilation))  # fmt: skip
    shape = reduce_window_shape_tuple(x.shape, window_dimensions, window_strides, padding,
                                      base_dilation, window_dilation)  # fmt: skip
    return ShapedArray(shape, t.dtype, t.weak_type)


def _scatter_abstract(s, x, *, select_prim, window_dimensions, window_strides, padding):
    name = "select_and_scatter_add"
    _check_kinds(name, s, _NUM)
    _check_kinds(name, x, _NUM)
    _check_params(name, x, select_prim, dict(
        window_dimensions=window_dimensions, window_strides=window_strides, padding=padding))  # fmt: skip
    want = reduce_window_shape_tuple(x.shape, window_dimensions, window_strides, padding)
    if s.shape != want:
        raise TypeError(
            f"{name}: the source must have the shape of the operand's windows, {want} (operand "
            f"{x.shape}, window {window_dimensions}, strides {window_strides}, padding "
            f"{padding}), got {s.shape}."
        )
    return ShapedArray(x.shape, s.dtype, s.weak_type)


def _window_views(arrays_and_fills, out_shape, window_dimensions, window_strides, padding,
                  base_dilation, window_dilation):  # fmt: skip
    """Each array padded (and base-dilated) with its fill, seen as (outputs..., window...),
    flattened over the window: a list of (outputs..., positions) arrays."""
    res = []
    for a, fill in arrays_and_fills:
        ap = dilate_and_pad(a, base_dilation, padding, fill)
        w = windows(ap, out_shape, window_dimensions, window_strides, window_dilation)
        res.append(w.reshape(*out_shape, -1))
    return res


def _gather_impl(t, x, *, select_prim, window_dimensions, window_strides, padding,
                 base_dilation, window_dilation):  # fmt: skip
    aval = select_and_gather_add_p.abstract_eval(
        get_aval(t), get_aval(x), select_prim=select_prim, window_dimensions=window_dimensions,
        window_strides=window_strides, padding=padding, base_dilation=base_dilation,
        window_dilation=window_dilation)  # fmt: skip
    out = np.zeros(aval.shape, aval.dtype)
    if 0 in aval.shape or 0 in window_dimensions:
        return out
    ident = select_identity(select_prim, x.dtype)
    inside = np.ones(x.shape, bool)
    xw, tw, mw = _window_views([(x, ident), (t, 0), (inside, False)], aval.shape,
                               window_dimensions, window_strides, padding, base_dilation,
                               window_dilation)  # fmt: skip
    best = np.full(aval.shape, ident, x.dtype)
    for k in range(xw.shape[-1]):
        take = mw[..., k] & ~keeps(select_prim, best, xw[..., k])
        best = np.where(take, xw[..., k], best)
        out = np.where(take, tw[..., k], out)
    return np.array(out, dtype=aval.dtype, order="C")


def _scatter_impl(s, x, *, select_prim, window_dimensions, window_strides, padding):
    select_and_scatter_add_p.abstract_eval(
        get_aval(s), get_aval(x), select_prim=select_prim, window_dimensions=window_dimensions,
        window_strides=window_strides, padding=padding)  # fmt: skip
    n = x.ndim
    out = np.zeros(x.size, s.dtype)
    if 0 in s.shape or 0 in window_dimensions or x.size == 0:
        return out.reshape(x.shape)
    ident = select_identity(select_prim, x.dtype)
    flat = np.arange(x.size).reshape(x.shape)
    ones = (1,) * n
    xw, iw = _window_views([(x, ident), (flat, -1)], s.shape, window_dimensions, window_strides,
                           padding, ones, ones)  # fmt: skip
    best, where = xw[..., 0], iw[..., 0]
    for k in range(1, xw.shape[-1]):
        take = ~keeps(select_prim, best, xw[..., k])
        best = np.where(take, xw[..., k], best)
        where = np.where(take, iw[..., k], where)
    hit = where >= 0
    if s.dtype == np.bool_:
        np.logical_or.at(out, where[hit], s[hit])
    else:
        np.add.at(out, where[hit], s[hit])
    return out.reshape(x.shape)


select_and_gather_add_p.def_abstract_eval(_gather_abstract)
select_and_gather_add_p.def_impl(_gather_impl)
select_and_scatter_add_p.def_abstract_eval(_scatter_abstract)
select_and_scatter_add_p.def_impl(_scatter_impl)


def select_and_gather_add(tangents, operand, select_prim, window_dimensions, window_strides,
                          padding, base_dilation, window_dilation):  # fmt: skip
    """The tangent at the selected element of each window of `operand` (JAX's
    lax.windowed_reductions._select_and_gather_add; `select_prim` is lax.ge_p or lax.le_p)."""
    return select_and_gather_add_p.bind(
        tangents, operand, select_prim=select_prim, window_dimensions=tuple(window_dimensions),
        window_strides=tuple(window_strides), padding=tuple(tuple(p) for p in padding),
        base_dilation=tuple(base_dilation), window_dilation=tuple(window_dilation))  # fmt: skip


def select_and_scatter_add(source, operand, select_prim, window_dimensions, window_strides,
                           padding):  # fmt: skip
    """Each element of `source` added at the selected element of its window of `operand`
    (JAX's lax.windowed_reductions._select_and_scatter_add)."""
    return select_and_scatter_add_p.bind(
        source, operand, select_prim=select_prim, window_dimensions=tuple(window_dimensions),
        window_strides=tuple(window_strides), padding=tuple(tuple(p) for p in padding))  # fmt: skip


def select_prim_of(prim):
    """ge_p for reduce_window_max_p, le_p for reduce_window_min_p."""
    return ge_p if prim is reduce_window_max_p else le_p
