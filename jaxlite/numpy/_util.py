"""Promotion and broadcasting shared by every `jnp` function (the eager fast path lives here).

`promote(name, *args)` converts arguments to one dtype under NEP 50 rules (Python scalars and
weakly typed arrays are weak) and broadcasts them to one shape with `broadcast_in_dim`.
"""

from __future__ import annotations

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.array import Array, _wrap
from jaxlite.core import Tracer, get_aval

_SCALARS = dtypes.PYTHON_SCALAR_DTYPES


def dtype_weak(x) -> tuple[np.dtype, bool]:
    t = type(x)
    if t is Array:
        return x._value.dtype, x.weak_type
    if t is np.ndarray:
        return x.dtype, False
    if isinstance(x, Tracer):
        return x.aval.dtype, x.aval.weak_type
    if t in _SCALARS:
        return _SCALARS[t], True
    a = get_aval(asarray_arg(x, "jaxlite.numpy"))
    return a.dtype, a.weak_type


def shape_of(x) -> tuple[int, ...]:
    t = type(x)
    if t is Array:
        return x._value.shape
    if t is np.ndarray or isinstance(x, Tracer):
        return x.shape
    if t in _SCALARS:
        return ()
    return get_aval(x).shape


def asarray_arg(x, name: str):
    """Accepts Arrays, tracers, NumPy arrays and scalars; converts lists; rejects the rest."""
    t = type(x)
    if t is Array or t is np.ndarray or t in _SCALARS or isinstance(x, Tracer):
        return x
    if isinstance(x, np.generic):
        return np.asarray(x)
    if isinstance(x, (list, tuple)):
        from jaxlite.numpy._creation import array

        return array(x)
    if isinstance(x, Array):
        return x
    raise TypeError(
        f"{name}: argument of type {type(x).__name__} is not a valid array: expected a "
        "jaxlite.Array, a NumPy array, a list of numbers, or a Python bool, int or float"
    )


def convert(x, dtype: np.dtype, weak: bool = False):
    """`x` as `dtype`; Python scalars become constants, arrays get a convert_element_type."""
    t = type(x)
    if t in _SCALARS:
        if isinstance(x, float) and dtype.kind in "iu":
            raise TypeError(f"cannot convert the float {x} to {dtype.name} implicitly")
        return _wrap(np.asarray(x, dtype), weak)
    cur, cur_weak = dtype_weak(x)
    if cur == dtype and cur_weak == weak:
        return x
    return lax.convert_element_type_p.bind(x, new_dtype=dtype, weak_type=weak)


def broadcast_shapes(name: str, *shapes) -> tuple[int, ...]:
    nd = max(len(s) for s in shapes)
    out = []
    for dims in zip(*[(1,) * (nd - len(s)) + tuple(s) for s in shapes]):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            raise ValueError(
                f"{name}: incompatible shapes for broadcasting: "
                + ", ".join(str(tuple(s)) for s in shapes)
            )
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def broadcast_to_shape(x, shape: tuple[int, ...]):
    s = shape_of(x)
    if s == shape:
        return x
    nd = len(shape)
    lead = nd - len(s)
    if lead < 0:
        raise ValueError(f"cannot broadcast an array of shape {s} to shape {shape}")
    keep = [i for i, d in enumerate(s) if d == shape[lead + i]]
    if len(keep) != len(s):
        # squeeze the size-1 dimensions that are being broadcast
        for i, d in enumerate(s):
            if d != 1 and d != shape[lead + i]:
                raise ValueError(f"cannot broadcast an array of shape {s} to shape {shape}")
        x = lax.reshape(x, tuple(s[i] for i in keep))
    return lax.broadcast_in_dim(x, shape, tuple(lead + i for i in keep))


def promote(name: str, *args):
    """Promotes `args` to a common dtype and shape (scalars stay scalars: lax broadcasts them)."""
    infos = [dtype_weak(a) for a in args]
    d0 = infos[0]
    if not all(i == d0 for i in infos):
        dt, weak = dtypes.result_type(*infos)
        args = tuple(convert(a, dt, weak) for a in args)
    elif type(args[0]) in _SCALARS:
        args = tuple(convert(a, d0[0], True) for a in args)
    shapes = [shape_of(a) for a in args]
    s0 = shapes[0]
    if all(s == s0 or s == () for s in shapes) and (s0 != () or all(s == () for s in shapes)):
        return args
    nonscalar = {s for s in shapes if s != ()}
    if len(nonscalar) == 1:
        return args
    shape = broadcast_shapes(name, *shapes)
    return tuple(a if s == () else broadcast_to_shape(a, shape) for a, s in zip(args, shapes))


def promote_inexact(name: str, *args):
    """Like `promote`, then integers and bools become the default float (float64) or float32."""
    args = promote(name, *args)
    dt, weak = dtype_weak(args[0])
    if dt.kind != "f":
        args = tuple(convert(a, dtypes.float64, weak) for a in args)
    return args


def canonicalize_axis(axis, ndim: int, name: str) -> int:
    try:
        axis = int(axis)
    except TypeError:
        raise TypeError(f"{name}: axis must be an int, got {axis!r}") from None
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of bounds for an array of dimension {ndim}")
    return axis % ndim


def canonicalize_axes(axis, ndim: int, name: str) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(canonicalize_axis(a, ndim, name) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{name}: repeated axis in {axis}")
        return axes
    return (canonicalize_axis(axis, ndim, name),)
