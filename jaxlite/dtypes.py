"""Dtypes jaxlite supports, their short names, and JAX's type promotion (its lattice, not NumPy's).

Python scalars and arrays built from them are *weakly typed*: they take the dtype of the strongly
typed operand they meet (`f32 + 1.0 -> f32`, `u8 + 1 -> u8`). Strong dtypes promote along JAX's
lattice, so `i32 + f32 -> f32` and `i64 + f32 -> f32` (NumPy says float64 for both), and
`u32 + i32 -> i64`. Integer and bool inputs of functions that need floats become float32 for up
to 32 bits, float64 for 64 bits (`to_inexact`). jaxlite follows JAX with x64 enabled; the x64-off
mode will change `default_int_dtype`/`default_float_dtype` and one lattice edge.
"""

from __future__ import annotations

import functools

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
# TODO(x64-off): this dict is read on hot paths; it must follow `default_int_dtype()` and
# `default_float_dtype()` (rebuild it when the mode changes, and key every cache on the mode).
PYTHON_SCALAR_DTYPES = {bool: bool_, int: int64, float: float64}


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


# JAX's type-promotion lattice (jax/_src/dtypes.py `_type_promotion_lattice`, standard mode):
# each node maps to the nodes immediately above it. "i*" and "f*" are weakly typed ints and floats
# (Python scalars); a weak bool is just bool. Dtypes jaxlite does not hold yet are in it, so that
# adding them changes no rule. (JAX also has 4-bit ints, float16/bfloat16 between "f*" and float32,
# and complex above the floats.)
def _lattice(x64: bool) -> dict[str, tuple[str, ...]]:
    return {
        "bool": ("i*",),
        "i*": ("uint8", "int8"),
        "uint8": ("int16", "uint16"),
        "uint16": ("int32", "uint32"),
        # NB: without x64 JAX avoids forming int64 here: u32 x i32 -> i32.
        "uint32": ("int64", "uint64") if x64 else ("int32", "uint64"),
        "uint64": ("f*",),
        "int8": ("int16",),
        "int16": ("int32",),
        "int32": ("int64",),
        "int64": ("f*",),
        "f*": ("float32",),
        "float32": ("float64",),
        "float64": (),
    }


def _upper_bounds(lattice: dict) -> dict[str, frozenset]:
    """Every node's set of upper bounds (itself included): the lattice's transitive closure."""
    ub = {n: {n} for n in lattice}
    changed = True
    while changed:
        changed = False
        for n in lattice:
            new = set().union(*(lattice[b] for b in ub[n])) - ub[n]
            if new:
                ub[n] |= new
                changed = True
    return {n: frozenset(b) for n, b in ub.items()}


_UPPER_BOUNDS = _upper_bounds(_lattice(x64=True))


def x64_enabled() -> bool:
    """Whether 64-bit defaults are on. Always, for now (JAX with `jax_enable_x64`)."""
    return True


def default_int_dtype() -> np.dtype:
    """The dtype of Python ints and of `jnp.arange(3)`: int64 with x64 (int32 without)."""
    return int64


def default_float_dtype() -> np.dtype:
    """The dtype of Python floats and of `jnp.zeros(3)`: float64 with x64 (float32 without)."""
    return float64


def _default_for_node(node: str) -> np.dtype:
    return default_int_dtype() if node == "i*" else default_float_dtype()


def _lub(nodes: frozenset) -> str:
    """The least upper bound of lattice nodes (JAX's `_least_upper_bound`)."""
    try:
        common = frozenset.intersection(*(_UPPER_BOUNDS[n] for n in nodes))
    except KeyError:
        bad = next(n for n in nodes if n not in _UPPER_BOUNDS)
        raise TypeError(f"dtype {bad} cannot take part in type promotion") from None
    least = (common & nodes) or {c for c in common if common <= _UPPER_BOUNDS[c]}
    if len(least) != 1:
        names = ", ".join(sorted(nodes))
        raise TypeError(f"no implicit type promotion path for dtypes {names}")
    return next(iter(least))


def _node(dtype: np.dtype, weak: bool) -> str:
    if weak and dtype.kind in "iu":
        return "i*"
    if weak and dtype.kind == "f":
        return "f*"
    return dtype.name


@functools.lru_cache(maxsize=512)
def _lattice_result_type(dtypes_and_weak: tuple) -> tuple[np.dtype, bool]:
    if all(w for _, w in dtypes_and_weak):
        # JAX: all weak -> the bound of their strong dtypes, still weak (weak i32 + 1 -> weak i64).
        out = _lub(frozenset(d.name for d, _ in dtypes_and_weak))
        weak = True
    else:
        out = _lub(frozenset(_node(d, w) for d, w in dtypes_and_weak))
        weak = out in ("i*", "f*")
    dt = _default_for_node(out) if out in ("i*", "f*") else np.dtype(out)
    return canonicalize(dt), weak and dt != bool_


def result_type(*dtypes_and_weak) -> tuple[np.dtype, bool]:
    """Promotes `(dtype, weak_type)` pairs on JAX's lattice; returns `(dtype, weak_type)`.

    A weak operand (a Python scalar, or an array made from one) takes the dtype of the strong
    ones it meets; the result is weak when the bound is a weak node ("i*" or "f*"), as in
    `jax.dtypes.result_type(..., return_weak_type_flag=True)`.
    """
    if len(dtypes_and_weak) == 1:
        return dtypes_and_weak[0]
    d0 = dtypes_and_weak[0][0]
    if all(d == d0 for d, _ in dtypes_and_weak) and not all(w for _, w in dtypes_and_weak):
        return d0, False
    return _lattice_result_type(tuple(dtypes_and_weak))


def public_result_type(*dtypes_and_weak) -> np.dtype:
    """`jnp.result_type`'s answer: `result_type`, with a weak result made the default dtype of
    its kind (as JAX's `dtypes.result_type`)."""
    dt, weak = result_type(*dtypes_and_weak)
    if not weak:
        return dt
    return default_int_dtype() if dt.kind in "iu" else default_float_dtype()


def promote_types(a: np.dtype, b: np.dtype, weak_a: bool = False, weak_b: bool = False):
    """The dtype two dtypes promote to (`jnp.promote_types`); a weak one acts as a Python type."""
    return result_type((a, weak_a), (b, weak_b))[0]


# JAX's `_dtype_to_inexact`: bool and integers of up to 32 bits become float32 (even with x64),
# 64-bit integers float64.
_TO_INEXACT = {
    np.dtype(k): np.dtype(v)
    for k, v in [
        ("bool", "float32"),
        ("uint8", "float32"),
        ("int8", "float32"),
        ("uint16", "float32"),
        ("int16", "float32"),
        ("uint32", "float32"),
        ("int32", "float32"),
        ("uint64", "float64"),
        ("int64", "float64"),
    ]
}


def to_inexact(dtype: np.dtype) -> np.dtype:
    """The float dtype that functions needing floats compute `dtype` in (JAX's rule)."""
    return _TO_INEXACT.get(dtype, dtype)


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
