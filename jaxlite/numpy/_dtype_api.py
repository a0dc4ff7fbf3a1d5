"""Dtype objects and queries: `dtype`, `result_type`, `promote_types`, `can_cast`, `issubdtype`,
`isdtype`, `finfo`, `iinfo`, `astype`, and NumPy's scalar type hierarchy (`jnp.floating`, ...).
"""

from __future__ import annotations

import numpy as np

from jaxlite import dtypes
from jaxlite.array import Array
from jaxlite.core import Tracer
from jaxlite.numpy._util import asarray, canonical_dtype, convert, dtype_weak

# NumPy's abstract scalar types, for issubdtype(x.dtype, jnp.floating) and friends.
generic = np.generic
number = np.number
integer = np.integer
signedinteger = np.signedinteger
unsignedinteger = np.unsignedinteger
inexact = np.inexact
floating = np.floating
complexfloating = np.complexfloating

_PY_TYPES = dtypes.PYTHON_SCALAR_DTYPES


def dtype(obj, align=False, copy=False):
    """The `np.dtype` of `obj` (a dtype, a type, a name, or an array); only jaxlite's dtypes."""
    if isinstance(obj, (Array, Tracer, np.ndarray)):
        obj = obj.dtype
    return dtypes.canonicalize(obj, "jnp.dtype")


def _is_scalar_type(x) -> bool:
    """A NumPy scalar type or a jnp one (`jnp.float32`: a type with a `dtype`)."""
    return isinstance(x, type) and (
        issubclass(x, np.generic) or isinstance(getattr(x, "dtype", None), np.dtype)
    )


def _dtype_and_weak(x, name: str = "jnp.result_type"):
    if isinstance(x, type) and x in _PY_TYPES:
        return _PY_TYPES[x], x is not bool
    if isinstance(x, (np.dtype, str)) or _is_scalar_type(x):
        return dtypes.user_dtype(x, name), False  # NB: JAX warns for float64 with x64 off
    if x is None:  # JAX: None stands for the default float dtype
        return dtypes.default_float_dtype(), False
    return dtype_weak(asarray(x, "result_type"))


def result_type(*args):
    """The dtype JAX's promotion gives for `args` (arrays, scalars or dtypes).

    Python scalars and types are weak: `result_type(jnp.float32, 1.0)` is float32, and a weak
    result is the default dtype of its kind. JAX's lattice, not NumPy's: `result_type(jnp.int32,
    jnp.float32)` is float32 and `result_type(jnp.uint32, jnp.int32)` int64.
    """
    if not args:
        raise ValueError("jnp.result_type: at least one argument is required")
    return dtypes.public_result_type(*[_dtype_and_weak(a) for a in args])


def promote_types(type1, type2):
    """The dtype a binary operation casts two dtypes to, on JAX's lattice (not NumPy's).

    Python types are weak: `promote_types(jnp.uint8, int)` is uint8.
    """
    a, b = _promotable(type1), _promotable(type2)
    return dtypes.promote_types(a[0], b[0], a[1], b[1])


def _promotable(x) -> tuple[np.dtype, bool]:
    """A dtype as `promote_types` takes it: not canonicalized (64 bits stay with x64 off)."""
    if isinstance(x, type) and x in _PY_TYPES:
        py = {
            bool: dtypes.bool_,
            int: dtypes.int64,
            float: dtypes.float64,
            complex: dtypes.complex128,
        }
        return py[x], x is not bool
    dt = dtypes.np_dtype(x)
    dtypes.canonicalize(dt, "jnp.promote_types")  # a TypeError for unsupported dtypes
    return dt, False


def _as_dtype(x, name: str) -> np.dtype:
    if isinstance(x, (Array, Tracer, np.ndarray)):
        return x.dtype
    if isinstance(x, type) and x in _PY_TYPES:
        return _PY_TYPES[x]
    return dtypes.np_dtype(x)


def can_cast(from_, to, casting="safe"):
    """Whether `from_` (a dtype or an array) can be cast to `to` under `casting`."""
    return bool(np.can_cast(_as_dtype(from_, "can_cast"), _as_dtype(to, "can_cast"), casting))


def _dtype_or_type(x):
    if isinstance(x, type) and issubclass(x, np.generic):
        return x  # NB: also the abstract ones (np.floating), which have no dtype
    if _is_scalar_type(x):
        return x.dtype.type
    return _as_dtype(x, "issubdtype")


# bfloat16 (ml_dtypes) is not a subclass of np.floating; JAX places it below it.
_BF16_SUPERTYPES = (np.floating, np.inexact, np.number, np.generic)


def issubdtype(arg1, arg2):
    """Whether `arg1` is lower than or equal to `arg2` in NumPy's type hierarchy (bfloat16 is a
    floating type, as in JAX)."""
    a, b = _dtype_or_type(arg1), _dtype_or_type(arg2)
    if _is_bf16(a) and b in _BF16_SUPERTYPES:
        return True
    return bool(np.issubdtype(a, b))


def _is_bf16(x) -> bool:
    if isinstance(x, np.dtype):
        return dtypes.is_bfloat16(x)
    return any(x is dt.type for dt in dtypes._BF16)  # a scalar type (ml_dtypes.bfloat16)


def isdtype(dtype, kind):
    """Array API dtype-kind test: 'bool', 'signed integer', 'integral', 'real floating', ..."""
    dt = _as_dtype(dtype, "isdtype")
    if dtypes.is_bfloat16(dt):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        return any(k in ("real floating", "numeric") or k == dt for k in kinds)
    return bool(np.isdtype(dt, kind))


def finfo(dtype):
    """Machine limits of a floating-point dtype (`np.finfo`; ml_dtypes' for bfloat16)."""
    return dtypes.finfo(_as_dtype(dtype, "finfo"))


def iinfo(int_type):
    """Machine limits of an integer dtype (`np.iinfo`)."""
    return np.iinfo(_as_dtype(int_type, "iinfo"))


def astype(x, dtype, /, *, copy=False, device=None):
    """`x` converted to `dtype` (float -> int truncates and saturates, NaN -> 0, as in XLA)."""
    x = asarray(x, "astype")
    dt = canonical_dtype(dtype, "astype")
    return convert(x, dt, False, "astype")


def _astype_method(x, dtype, order=None, casting=None, subok=None, copy=False):
    return astype(x, dtype)


def iscomplexobj(x):
    """Whether `x` (an array, a scalar or anything with a `dtype`) has a complex dtype."""
    if x is None:
        return False
    dt = getattr(x, "dtype", None)
    if dt is None:
        dt = np.asarray(x).dtype
    return np.dtype(dt).kind == "c"


def isrealobj(x):
    """`not iscomplexobj(x)`."""
    return not iscomplexobj(x)


def isscalar(element):
    """True for Python scalars, NumPy scalars and 0-d arrays (as in JAX)."""
    if isinstance(element, (bool, int, float, np.generic)):
        return True
    if isinstance(element, (Array, Tracer, np.ndarray)):
        return element.ndim == 0
    return False


def iterable(y):
    """Whether `iter(y)` works."""
    try:
        iter(y)
    except TypeError:
        return False
    return True
