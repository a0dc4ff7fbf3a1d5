"""Array creation: `array`, `asarray`, `zeros`, `ones`, `full`, `arange`, ..."""

from __future__ import annotations

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.array import Array, _wrap
from jaxlite.core import Tracer
from jaxlite.numpy._util import convert, dtype_weak


def _check_nested(obj, name: str):
    """Rejects ragged lists, strings, None and objects with a clear TypeError."""
    if isinstance(obj, (list, tuple)):
        for o in obj:
            _check_nested(o, name)
        return
    if isinstance(obj, (bool, int, float, np.generic, np.ndarray, Array, Tracer)):
        return
    raise TypeError(
        f"{name}: element {obj!r:.50} of type {type(obj).__name__} is not a number or array"
    )


def _contains_tracer(obj) -> bool:
    if isinstance(obj, Tracer):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_tracer(o) for o in obj)
    return False


def array(object, dtype=None, copy=True, ndmin=0):  # noqa: A002 - NumPy's name
    """Creates an Array from array-like data (NumPy semantics; x64 default dtypes)."""
    if isinstance(object, Tracer):
        out = object
    elif type(object) is Array:
        out = object
    elif isinstance(object, (list, tuple)) and _contains_tracer(object):
        from jaxlite.numpy import stack

        out = stack([array(o) for o in object])
    else:
        weak = type(object) in dtypes.PYTHON_SCALAR_DTYPES
        _check_nested(object, "jnp.array")
        if isinstance(object, (list, tuple)):
            object = [np.asarray(o) if isinstance(o, Array) else o for o in object]
        try:
            v = np.array(object)
        except ValueError as e:
            raise TypeError(f"jnp.array: cannot build an array from {object!r:.60}: {e}") from None
        if v.dtype == object or v.dtype.kind in "OUSV":
            raise TypeError(f"jnp.array: {object!r:.60} is not numeric (NumPy dtype {v.dtype})")
        if v.dtype.kind == "c":
            raise TypeError("jnp.array: complex numbers are not supported by jaxlite")
        dt = _default_dtype(v.dtype)
        out = _wrap(np.array(v, dtype=dt, copy=True), weak)
    if dtype is not None:
        dt = dtypes.canonicalize(dtype, "jnp.array")
        out = convert(out, dt, False)
    while ndmin and out.ndim < ndmin:
        out = lax.expand_dims(out, (0,))
    return out


def _default_dtype(dt: np.dtype) -> np.dtype:
    if dt == np.float16:
        return dtypes.float32
    if dt.kind == "i" and dt.itemsize < 4:
        return dtypes.int32
    if dt.kind == "u" and dt.itemsize == 2:
        return dtypes.uint32
    if dt == np.uint64:
        return dtypes.int64
    return dtypes.canonicalize(dt, "jnp.array")


def asarray(a, dtype=None, copy=None):
    """Converts `a` to an Array; Arrays and tracers of the right dtype pass through."""
    if type(a) is Array or isinstance(a, Tracer):
        if dtype is None:
            return a
        dt = dtypes.canonicalize(dtype, "jnp.asarray")
        return a if dtype_weak(a)[0] == dt else convert(a, dt, False)
    return array(a, dtype=dtype)
