"""Dtypes jaxlite supports, their short names, and NumPy 2 (NEP 50) type promotion.

Python scalars and arrays built from them are *weakly typed*: they take the dtype of the strongly
typed operand they meet (`f32 + 1.0 -> f32`), as in JAX with x64 enabled and in NumPy 2.
"""

from __future__ import annotations

import numpy as np

bool_ = np.dtype(np.bool_)
uint8 = np.dtype(np.uint8)
uint16 = np.dtype(np.uint16)
uint32 = np.dtype(np.uint32)
uint64 = np.dtype(np.uint64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)

# The tangent dtype of integer and boolean values, as in JAX: a dtype with no bytes.
float0 = np.dtype([("float0", np.void, 0)])

SUPPORTED_DTYPES = (
    bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64, float32, float64,
)  # fmt: skip
_SUPPORTED = frozenset(SUPPORTED_DTYPES)

SHORT_NAMES = {
    bool_: "bool",
    uint8: "u8",
    uint16: "u16",
    uint32: "u32",
    uint64: "u64",
    int8: "i8",
    int16: "i16",
    int32: "i32",
    int64: "i64",
    float32: "f32",
    float64: "f64",
}

# Python scalar types map to the x64 defaults, weakly typed.
PYTHON_SCALAR_DTYPES = {bool: bool_, int: int64, float: float64}
_WEAK_STANDIN = {bool_: False, int64: 0, float64: 0.0}


def short_name(dtype) -> str:
    if dtype == float0:
        return "float0"
    return SHORT_NAMES.get(dtype, str(dtype))


def canonicalize(dtype, where: str = "jaxlite") -> np.dtype:
    """Returns `dtype` as a supported `np.dtype`, or raises a `TypeError` naming `where`."""
    if dtype is None:
        raise TypeError(f"{where}: dtype must not be None")
    if dtype in PYTHON_SCALAR_DTYPES:
        return PYTHON_SCALAR_DTYPES[dtype]
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: {dtype!r} is not a valid dtype") from None
    if dt not in _SUPPORTED:
        names = ", ".join(str(d) for d in SUPPORTED_DTYPES)
        raise TypeError(f"{where}: dtype {dt} is not supported by jaxlite (supported: {names})")
    return dt


def is_float(dtype) -> bool:
    return dtype.kind == "f"


def is_int(dtype) -> bool:
    return dtype.kind in "iu"


def is_unsigned(dtype) -> bool:
    return dtype.kind == "u"


def is_bool(dtype) -> bool:
    return dtype.kind == "b"


def is_inexact(dtype) -> bool:
    return dtype.kind == "f"


def result_type(*dtypes_and_weak) -> tuple[np.dtype, bool]:
    """Promotes `(dtype, weak_type)` pairs under NEP 50; returns `(dtype, weak_type)`.

    A weak operand acts like a Python scalar of its kind. The result is weak only when every
    operand is weak.
    """
    strong = [d for d, w in dtypes_and_weak if not w]
    if len(strong) == len(dtypes_and_weak) and len(set(strong)) == 1:
        return strong[0], False
    args = [d if not w else _WEAK_STANDIN.get(d, d) for d, w in dtypes_and_weak]
    all_weak = not strong
    try:
        out = np.result_type(*args)
    except (TypeError, OverflowError) as e:
        names = ", ".join(str(d) for d, _ in dtypes_and_weak)
        raise TypeError(f"cannot promote dtypes {names}: {e}") from None
    return canonicalize(out), all_weak


def dtype_of_scalar(x) -> np.dtype:
    """The weak dtype of a Python scalar, or raises `TypeError` for anything else."""
    t = type(x)
    if t in PYTHON_SCALAR_DTYPES:
        return PYTHON_SCALAR_DTYPES[t]
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return int64
    if isinstance(x, float):
        return float64
    raise TypeError(f"{type(x).__name__} is not a valid jaxlite scalar")


def finfo(dtype):
    return np.finfo(canonicalize(dtype))


def iinfo(dtype):
    return np.iinfo(canonicalize(dtype))
