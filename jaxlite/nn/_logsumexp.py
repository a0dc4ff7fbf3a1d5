"""`jaxlite.nn.logsumexp` (also `jax.scipy.special`'s): `log(sum(b * exp(a)))` along axes,
stable for large inputs, exact with `-inf` entries, with `b=`, `return_sign=` and `where=`."""

from __future__ import annotations

import operator

import numpy as np

from jaxlite import dtypes
from jaxlite import numpy as jnp
from jaxlite import primitives as lax
from jaxlite.array import Array, _wrap
from jaxlite.core import Tracer, get_aval


def _arr(name: str, x):
    """`x` as an array (Python scalars stay weakly typed); strings, None, ... raise TypeError."""
    if isinstance(x, (Array, Tracer)):
        return x
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"jaxlite.nn.{name}: expected an array, got {type(x).__name__}")
    if isinstance(x, np.ndarray) and x.dtype in dtypes.SUPPORTED_DTYPES:
        return x
    try:
        return jnp.asarray(x)
    except (TypeError, ValueError) as e:
        raise type(e)(f"jaxlite.nn.{name}: {e}") from None


def _float(name: str, x):
    """`x` as an array of a float dtype (ints and bools: `dtypes.to_inexact`, as jnp and JAX)."""
    x = _arr(name, x)
    aval = get_aval(x)
    if not dtypes.is_float(aval.dtype):
        dt = dtypes.to_inexact(aval.dtype)
        x = lax.convert_element_type_p.bind(x, new_dtype=dt, weak_type=aval.weak_type)
    return x


def _const(v, like):
    """A constant of `like`'s shape and dtype."""
    aval = get_aval(like)
    return lax.broadcast_in_dim(_wrap(np.asarray(v, aval.dtype)), aval.shape, ())


def _axes(name: str, axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        a = operator.index(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"jaxlite.nn.{name}: axis {a} is out of range for rank {ndim}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"jaxlite.nn.{name}: repeated axis in {axis}")
    return tuple(sorted(out))


def _keep(r, shape, axes):
    """Broadcasts a reduction over `axes` back to `shape` (NumPy's keepdims, then broadcast)."""
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    return lax.broadcast_in_dim(r, shape, kept)


def _mask(name: str, where, shape):
    """A boolean `where=` mask broadcast to `shape`."""
    where = _arr(name, where)
    if get_aval(where).dtype != dtypes.bool_:
        where = lax.ne(where, _const(0, where))
    return _bcast_to(name, where, shape)


def _bcast_to(name: str, x, shape):
    """`x` broadcast to `shape` with NumPy's rules."""
    xs = get_aval(x).shape
    if xs == shape:
        return x
    try:
        np.broadcast_shapes(xs, shape)
    except ValueError:
        raise ValueError(f"jaxlite.nn.{name}: shape {xs} does not broadcast to {shape}") from None
    lead = len(shape) - len(xs)
    keep = [i for i, d in enumerate(xs) if d == shape[lead + i]]
    x = lax.reshape(x, tuple(xs[i] for i in keep))
    return lax.broadcast_in_dim(x, shape, tuple(lead + i for i in keep))


def logsumexp(a, axis=None, b=None, keepdims: bool = False, return_sign: bool = False, where=None):
    """`log(sum(b * exp(a), axis))`, stable for large inputs and exact with `-inf` entries.

    Args:
      a: input array.
      axis: an int, a tuple of ints, or None (all axes, the default).
      b: optional scale factors, broadcast to `a`'s shape.
      keepdims: keep the reduced axes with size 1.
      return_sign: also return the sign of the sum (then the result is `log|sum|`).
      where: optional boolean mask of the elements to include.

    Returns:
      The result, or `(result, sign)` if `return_sign`.
    """
    a = _float("logsumexp", a)
    shape = get_aval(a).shape
    axes = _axes("logsumexp", axis, len(shape))
    mask = None if where is None else _mask("logsumexp", where, shape)
    if b is not None:
        b = _float("logsumexp", b)
        ba, aa = get_aval(b), get_aval(a)
        dt, _ = dtypes.result_type((aa.dtype, aa.weak_type), (ba.dtype, ba.weak_type))
        a, b = _cast(a, dt), _bcast_to("logsumexp", _cast(b, dt), shape)
        a = lax.select(lax.ne(b, _const(0, b)), a, _const(-np.inf, a))
    if mask is not None:
        a = lax.select(mask, a, _const(-np.inf, a))
    a_max = lax.reduce_max(a, axes)
    # an infinite (or empty) maximum is replaced by 0, so -inf entries give exp(-inf) = 0
    a_max = lax.stop_gradient(lax.select(lax.is_finite(a_max), a_max, _const(0, a_max)))
    e = lax.exp(lax.sub(a, _keep(a_max, shape, axes)))
    if b is not None:
        e = lax.mul(e, b)
    total = lax.reduce_sum(e, axes)
    sign = lax.sign(total)
    magnitude = lax.abs(total) if (return_sign or b is not None) else total
    out = lax.add(lax.log(magnitude), a_max)
    if b is not None and not return_sign:
        out = lax.select(lax.lt(sign, _const(0, sign)), _const(np.nan, out), out)
    if keepdims:
        out = lax.expand_dims(out, axes)
        sign = lax.expand_dims(sign, axes)
    return (out, sign) if return_sign else out


def _cast(x, dt):
    return x if get_aval(x).dtype == dt else lax.convert_element_type(x, dt)
