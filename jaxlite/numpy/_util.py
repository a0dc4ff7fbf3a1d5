"""The base of `jaxlite.numpy`: argument checking, conversion of array-likes, promotion and
broadcasting shared by every `jnp` function. It imports no other module of `jaxlite.numpy`.

`promote(name, *args)` converts arguments to one dtype on JAX's promotion lattice (Python scalars
and weakly typed arrays are weak; `dtypes.result_type`) and broadcasts them to one shape with `broadcast_in_dim`. The eager
fast paths (an Array of the right dtype, an Array and a Python scalar) cost a few type checks.
"""

from __future__ import annotations

import operator

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.array import Array, _wrap
from jaxlite.core import Tracer, captured_copy, concretization_message, get_aval
from jaxlite.errors import ConcretizationTypeError
from jaxlite.util import safe_zip

_SCALARS = dtypes.PYTHON_SCALAR_DTYPES
_SUPPORTED = dtypes._SUPPORTED  # a live set: bfloat16 joins when ml_dtypes loads
# NumPy dtypes jaxlite does not hold, mapped as `jnp.array` maps them (x64 defaults).
_NARROW: dict = {}  # dtypes jaxlite holds in a wider one (none since float16 is supported)
# Kinds a weak Python scalar may join without changing the array's dtype.
_SCALAR_KINDS = {bool: "biufc", int: "iufc", float: "fc", complex: "c"}


class LinAlgError(ValueError):  # noqa: N818 - NumPy's name
    """Raised by linalg functions for invalid matrices (as `numpy.linalg.LinAlgError`)."""

    # NB: defined here, below every linalg module that raises it; users see jnp.linalg's name.
    __module__ = "jaxlite.numpy.linalg"


def fname(name: str) -> str:
    """`sin` -> `jnp.sin`, `linalg.det` -> `jnp.linalg.det`: the name errors show."""
    return name if name.startswith("jnp.") else f"jnp.{name}"


def supported_dtype(dt: np.dtype, name: str) -> np.dtype:
    """`dt` if jaxlite holds it, its wider stand-in, or a TypeError."""
    if dt in _SUPPORTED:
        return dt
    if dt in _NARROW:
        return _NARROW[dt]
    raise TypeError(f"{fname(name)}: arrays of dtype {dt} are not supported by jaxlite")


def asarray_arg(x, name: str):
    """Accepts Arrays, tracers, NumPy arrays and scalars; converts lists; rejects the rest.

    Returns an Array, a tracer, a NumPy array of a supported dtype, or a Python scalar.
    """
    t = type(x)
    if t is Array or t in _SCALARS or isinstance(x, Tracer):
        return x
    if t is np.ndarray or isinstance(x, np.generic):
        x = np.asarray(x)
        if x.dtype not in _SUPPORTED:
            x = x.astype(supported_dtype(x.dtype, name))
        return x
    if isinstance(x, (list, tuple)):
        return to_array(x, None, 0, name)
    if isinstance(x, Array):
        return x
    if isinstance(x, (bool, int, float, complex)):  # subclasses (IntEnum, ...) become plain
        t = next(t for t in (bool, int, float, complex) if isinstance(x, t))
        return t(x)
    if x is None:
        raise TypeError(f"{fname(name)}: got None where an array was expected")
    raise TypeError(
        f"{fname(name)}: argument of type {type(x).__name__} is not a valid array: expected a "
        "jaxlite.Array, a NumPy array, a list of numbers, or a Python bool, int, float or complex"
    )


# ------------------------------------------------------------------------------------------
# Array-likes -> Arrays (`jnp.array` is `to_array`)
# ------------------------------------------------------------------------------------------


def _contains_tracer(obj) -> bool:
    if isinstance(obj, Tracer):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_tracer(o) for o in obj)
    return False


def _from_python(obj, name: str) -> Array:
    """An Array from nested lists/tuples of numbers and arrays (no tracers)."""
    try:
        v = np.array(obj)
    except (ValueError, TypeError) as e:
        raise TypeError(f"{fname(name)}: cannot build an array from {obj!r:.60}: {e}") from None
    if v.dtype.kind in "OUSVMm" and not dtypes.is_float(v.dtype):  # NB: bfloat16 is "V"
        raise TypeError(
            f"{fname(name)}: {obj!r:.60} is not a (rectangular) nested list of numbers "
            f"(NumPy made an array of dtype {v.dtype}); strings, None and ragged lists are "
            "not arrays"
        )
    return _wrap(v.astype(supported_dtype(v.dtype, name), copy=False), False)


def stack_arrays(xs, axis: int = 0):
    """`jnp.stack` of arrays (or tracers) of one dtype; a ValueError if their shapes differ."""
    s0 = shape_of(xs[0])
    for x in xs:
        if shape_of(x) != s0:
            raise ValueError(
                f"jnp.stack: all input arrays must have the same shape, got "
                f"{[shape_of(x) for x in xs]}"
            )
    ax = canonicalize_axis(axis, len(s0) + 1, "stack", s0)
    if len(xs) == 1:
        return lax.expand_dims(xs[0], (ax,))
    return lax.concatenate([lax.expand_dims(x, (ax,)) for x in xs], ax)


def to_array(obj, dtype, ndmin: int, name: str):
    """`jnp.array(obj, dtype, ndmin=ndmin)`; errors name `name`. Lists holding tracers stack."""
    t = type(obj)
    if t is Array or isinstance(obj, Tracer):
        out = obj
    elif t is int and dtype is not None:  # straight into the dtype: jnp.uint32(2**32 - 1)
        out, dtype = _wrap(np.asarray(obj, canonical_dtype(dtype, name)), False), None
    elif t in _SCALARS:
        out = _wrap(np.asarray(obj, _SCALARS[t]), True)
    elif isinstance(obj, (np.ndarray, np.generic)):
        out = _wrap(np.array(obj, dtype=supported_dtype(np.asarray(obj).dtype, name)), False)
    elif isinstance(obj, (list, tuple)):
        if _contains_tracer(obj) and len(obj):
            rows = [to_array(o, None, 0, name) for o in obj]
            out = stack_arrays(list(promote_dtypes("stack", *rows)))
        else:
            out = _from_python(obj, name)
    else:
        out = asarray_arg(obj, name)  # raises a TypeError naming the function
        if not isinstance(out, Array):
            out = to_array(out, None, 0, name)
    if dtype is not None:
        out = convert(out, canonical_dtype(dtype, name), False, name)
    nd = len(shape_of(out))
    if ndmin > nd:
        out = lax.expand_dims(out, tuple(range(ndmin - nd)))
    return out


def asarray(x, name: str):
    """`x` as an Array or a tracer (Python scalars become weakly typed 0-d Arrays)."""
    t = type(x)
    if t is Array or isinstance(x, Tracer):
        return x
    x = asarray_arg(x, name)
    t = type(x)
    if t is np.ndarray:
        return captured_copy(x, _copy_array)
    if t in _SCALARS:
        return _wrap(np.asarray(x, _SCALARS[t]), True)
    return x


def _copy_array(x: np.ndarray) -> Array:
    return _wrap(np.array(x, copy=True), False)


def dtype_weak(x) -> tuple[np.dtype, bool]:
    t = type(x)
    if t is Array:
        return x._value.dtype, x.weak_type
    if t is np.ndarray:
        return dtypes.NARROW.get(x.dtype, x.dtype), False
    if isinstance(x, Tracer):
        return x.aval.dtype, x.aval.weak_type
    if t in _SCALARS:
        return _SCALARS[t], True
    a = get_aval(asarray_arg(x, "jnp"))
    return a.dtype, a.weak_type


def dtype_of(x) -> np.dtype:
    return dtype_weak(x)[0]


def shape_of(x) -> tuple[int, ...]:
    t = type(x)
    if t is Array:
        return x._value.shape
    if t is np.ndarray or isinstance(x, Tracer):
        return x.shape
    if t in _SCALARS:
        return ()
    return get_aval(x).shape


def _scalar_const(x, dtype: np.dtype, weak: bool, name: str):
    if isinstance(x, float) and dtype.kind in "iub":
        raise TypeError(f"{fname(name)}: cannot convert the float {x} to {dtype.name} implicitly")
    if isinstance(x, complex) and dtype.kind != "c":
        raise TypeError(f"{fname(name)}: cannot convert the complex {x} to {dtype.name} implicitly")
    if type(x) is int:
        # NB: as JAX, a Python int is first a weak int of the mode (int32 with x64 off).
        info = np.iinfo(dtype if dtype.kind in "iu" else dtypes.default_int_dtype())
        if not info.min <= x <= info.max:
            raise OverflowError(f"{fname(name)}: Python int {x} is out of bounds for {info.dtype}")
    return _wrap(np.asarray(x, dtype), weak)


def convert(x, dtype: np.dtype, weak: bool = False, name: str = "convert"):
    """`x` as `dtype`; Python scalars become constants, arrays get a convert_element_type."""
    t = type(x)
    if t in _SCALARS:
        return _scalar_const(x, dtype, weak, name)
    cur, cur_weak = dtype_weak(x)
    if cur == dtype and cur_weak == weak:
        return x
    return lax.convert_element_type_p.bind(x, new_dtype=dtype, weak_type=weak)


def broadcast_shapes(name: str, *shapes) -> tuple[int, ...]:
    nd = max((len(s) for s in shapes), default=0)
    out = []
    for dims in safe_zip(*[(1,) * (nd - len(s)) + tuple(s) for s in shapes]):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            raise ValueError(
                f"{fname(name)}: incompatible shapes for broadcasting: "
                + ", ".join(str(tuple(s)) for s in shapes)
            )
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def broadcast_to_shape(x, shape: tuple[int, ...], name: str = "broadcast_to"):
    s = shape_of(x)
    shape = tuple(shape)
    if s == shape:
        return x
    nd = len(shape)
    lead = nd - len(s)
    if lead < 0 or any(d != 1 and d != shape[lead + i] for i, d in enumerate(s)):
        raise ValueError(f"{fname(name)}: cannot broadcast an array of shape {s} to shape {shape}")
    keep = [i for i, d in enumerate(s) if d == shape[lead + i]]
    if len(keep) != len(s):  # squeeze the size-1 dimensions that are being broadcast
        x = lax.reshape(x, tuple(s[i] for i in keep))
    return lax.broadcast_in_dim(x, shape, tuple(lead + i for i in keep))


def _check_args(name: str, args):
    for a in args:
        if not (type(a) is Array or isinstance(a, Tracer)):
            return tuple(asarray_arg(a, name) for a in args)
    return args


def promote_dtypes(name: str, *args):
    """Converts `args` to their common dtype on JAX's lattice (no broadcasting)."""
    args = _check_args(name, args)
    infos = [dtype_weak(a) for a in args]
    d0 = infos[0]
    if not all(i == d0 for i in infos):
        dt, weak = dtypes.result_type(*infos)
        return tuple(convert(a, dt, weak, name) for a in args)
    if any(type(a) in _SCALARS for a in args):
        return tuple(convert(a, d0[0], d0[1], name) for a in args)
    return args


def promote_shapes(name: str, *args):
    """Broadcasts `args` to one shape; rank-0 operands stay as they are (lax broadcasts them)."""
    shapes = [shape_of(a) for a in args]
    nonscalar = {s for s in shapes if s != ()}
    if len(nonscalar) <= 1:
        return args
    shape = broadcast_shapes(name, *shapes)
    return tuple(
        a if s == () else broadcast_to_shape(a, shape, name) for a, s in safe_zip(args, shapes)
    )


def promote(name: str, *args):
    """Promotes `args` to a common dtype and shape (scalars stay scalars: lax broadcasts them)."""
    if len(args) == 2:
        x, y = args
        tx, ty = type(x), type(y)
        # Fast path: an Array (or tracer) and a Python scalar of a kind its dtype already holds.
        if ty in _SCALARS and (tx is Array or isinstance(x, Tracer)):
            dt = x.dtype
            if dtypes.kind(dt) in _SCALAR_KINDS[ty]:
                return x, _scalar_const(y, dt, x.weak_type, name)
        elif tx in _SCALARS and (ty is Array or isinstance(y, Tracer)):
            dt = y.dtype
            if dtypes.kind(dt) in _SCALAR_KINDS[tx]:
                return _scalar_const(x, dt, y.weak_type, name), y
        elif (tx is Array or isinstance(x, Tracer)) and (ty is Array or isinstance(y, Tracer)):
            # Fast path: one dtype, weak type and shape (tracers under eager grad, vmap, jit)
            if x.dtype == y.dtype and x.weak_type == y.weak_type and x.shape == y.shape:
                return x, y
    return promote_shapes(name, *promote_dtypes(name, *args))


def promote_inexact(name: str, *args):
    """Like `promote`, then integers and bools become floats (`dtypes.to_inexact`: float32 up to
    32 bits, float64 for 64), as JAX's `promote_args_inexact`."""
    return _to_inexact(promote(name, *args), name)


def promote_dtypes_inexact(name: str, *args):
    """`promote_dtypes`, then integers and bools become floats (no broadcasting)."""
    return _to_inexact(promote_dtypes(name, *args), name)


def _to_inexact(args, name: str):
    dt, weak = dtype_weak(args[0])
    if not dtypes.is_inexact(dt):
        dt = dtypes.to_inexact(dt)
        args = tuple(convert(a, dt, weak, name) for a in args)
    return args


def inexact_arg(name: str, x):
    """One argument as a floating-point array or tracer (`dtypes.to_inexact` for ints and bools)."""
    if type(x) is Array:
        if dtypes.is_inexact(x._value.dtype):
            return x
    elif isinstance(x, Tracer):
        if dtypes.is_inexact(x.aval.dtype):
            return x
    else:
        x = asarray(x, name)
    dt, weak = dtype_weak(x)
    return x if dtypes.is_inexact(dt) else convert(x, dtypes.to_inexact(dt), weak, name)


def check_kind(name: str, x, kinds: str, what: str):
    dt = dtype_of(x)
    if dtypes.kind(dt) not in kinds:
        raise TypeError(f"{fname(name)} does not accept dtype {dt.name}: it needs {what}")


def concrete_int(v, name: str, what: str) -> int:
    """A static Python int from `v`, or a TypeError saying that `what` must be static."""
    if isinstance(v, Tracer):
        c = v.to_concrete_value()
        if c is None:
            raise ConcretizationTypeError(
                f"{fname(name)}: {what} must be a static Python int. "
                + concretization_message(v, f"{fname(name)}({what}=...)")
            )
        v = c
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{fname(name)}: {what} must be an int, got {v!r:.60}") from None


def concrete_value(x, name: str, what: str = "this argument") -> np.ndarray:
    """The NumPy value of `x`; a ConcretizationTypeError naming `name` if it is traced."""
    if isinstance(x, Tracer):
        c = x.to_concrete_value()
        if c is None:
            raise ConcretizationTypeError(
                f"{fname(name)} needs a concrete value for {what}: its output shape depends on "
                "the values. " + concretization_message(x, f"{fname(name)}()")
            )
        x = c
    x = asarray_arg(x, name)
    return np.asarray(x._value if type(x) is Array else x)


def canonicalize_axis(axis, ndim: int, name: str, shape=None) -> int:
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{fname(name)}: axis must be an int, got {axis!r:.60}") from None
    if not -ndim <= axis < ndim:
        where = f"shape {tuple(shape)}" if shape is not None else f"dimension {ndim}"
        raise ValueError(f"{fname(name)}: axis {axis} is out of bounds for an array of {where}")
    return axis % ndim


def canonicalize_axes(axis, ndim: int, name: str, shape=None) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(canonicalize_axis(a, ndim, name, shape) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{fname(name)}: repeated axis in {tuple(axis)}")
        return axes
    return (canonicalize_axis(axis, ndim, name, shape),)


def normalize_shape(shape, name: str) -> tuple[int, ...]:
    """A shape argument (int or sequence of ints) as a tuple; clear errors otherwise."""
    if not isinstance(shape, (tuple, list)):
        if not isinstance(shape, (int, np.integer, Array, Tracer)) or isinstance(shape, bool):
            raise TypeError(
                f"{fname(name)}: shape must be an int or a tuple of ints, got {shape!r:.60}"
            )
        shape = (shape,)
    out = tuple(concrete_int(d, name, "shape") for d in shape)
    if any(d < 0 for d in out):
        raise ValueError(f"{fname(name)}: negative dimensions are not allowed, got {out}")
    return out


def canonical_dtype(dtype, name: str) -> np.dtype | None:
    """`None` stays `None`; anything else becomes a supported dtype (int8 -> TypeError)."""
    if dtype is None:
        return None
    return dtypes.user_dtype(dtype, fname(name))


def filled(x, value, dtype=None):
    """An array of the shape of `x` filled with `value` (of `x`'s dtype unless `dtype` is given)."""
    if dtype is None:
        dt, weak = dtype_weak(x)
    else:
        dt, weak = dtypes.canonicalize(dtype), False
    c = _wrap(np.asarray(value, dt), weak)
    shape = shape_of(x)
    return c if shape == () else lax.broadcast_in_dim(c, shape, ())
