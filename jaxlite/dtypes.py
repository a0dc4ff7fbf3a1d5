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
import importlib.util
import sys
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from jaxlite._config import config

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
# --- complex (issue 21) ---
complex64 = np.dtype(np.complex64)
complex128 = np.dtype(np.complex128)
# --- end complex ---

# The tangent dtype of integer and boolean values, as in JAX: a dtype with no bytes.
float0 = np.dtype([("float0", np.void, 0)])

# --- 16-bit floats --------------------------------------------------------------------------
# float16 is NumPy's; bfloat16 is ml_dtypes' (the NumPy dtype JAX uses). NB: bfloat16's
# `dtype.kind` is "V", not "f": ask `is_float`/`kind` below, never `dtype.kind == "f"` alone.
#
# ml_dtypes is imported only when bfloat16 is first needed (importing it takes most of a second):
# `bfloat16_dtype()` imports it, and `jaxlite.dtypes.bfloat16`/`jnp.bfloat16`/the name "bfloat16"
# call it. Every table below that holds dtypes gets its bfloat16 entry the moment ml_dtypes is
# loaded, by jaxlite or by anyone (`_MlDtypesWatcher`): a bfloat16 array, which can exist only
# then, always finds it, and a lookup stays one set or dict access.
float16 = np.dtype(np.float16)
HALF_DTYPES: set[np.dtype] = {float16}  # the 16-bit floats; bfloat16 joins when ml_dtypes loads
_BF16: set[np.dtype] = set()  # {bfloat16} once ml_dtypes is loaded
_BF16_NAMES = frozenset(("bfloat16", "bf16"))  # names np.dtype does not parse (without ml_dtypes)
_on_bfloat16: list[Callable[[np.dtype], None]] = []


@functools.cache
def bfloat16_dtype() -> np.dtype:
    """The bfloat16 dtype (ml_dtypes'), importing ml_dtypes on first use."""
    import ml_dtypes

    dt = np.dtype(ml_dtypes.bfloat16)
    _add_bfloat16(dt)  # NB: the watcher has added it already unless ml_dtypes was half-imported
    return dt


def is_bfloat16(dtype) -> bool:
    """Whether `dtype` is bfloat16; never imports ml_dtypes (no bfloat16 exists without it)."""
    return dtype in _BF16


def on_bfloat16(hook: Callable[[np.dtype], None]) -> None:
    """Calls `hook(bfloat16)` once ml_dtypes is loaded (now if it is), so that a table keyed by
    dtype elsewhere can add its bfloat16 entry without importing ml_dtypes."""
    _on_bfloat16.append(hook)
    for dt in _BF16:
        hook(dt)


def _add_bfloat16(dt: np.dtype) -> None:
    if dt in _BF16:
        return
    _BF16.add(dt)
    HALF_DTYPES.add(dt)
    _SUPPORTED.add(dt)
    SHORT_NAMES[dt] = "bf16"
    _NODE_DTYPES["bfloat16"] = dt
    _TO_COMPLEX[dt] = complex64
    for hook in _on_bfloat16:
        hook(dt)


class _MlDtypesLoader:
    """ml_dtypes' own loader, which adds bfloat16 to jaxlite's tables once the module has run."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        module.__loader__ = module.__spec__.loader = self._loader  # no trace of jaxlite left
        _add_bfloat16(np.dtype(module.bfloat16))

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _MlDtypesWatcher:
    """A meta path finder that finds nothing itself: when ml_dtypes is imported (by anyone), it
    leaves the list and lets the import proceed as usual, with `_MlDtypesLoader` around the loader."""

    def find_spec(self, name, path=None, target=None):
        if name != "ml_dtypes":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _MlDtypesLoader(spec.loader)
        return spec


def _watch_ml_dtypes() -> None:
    mod = sys.modules.get("ml_dtypes")
    if mod is not None and hasattr(mod, "bfloat16"):
        _add_bfloat16(np.dtype(mod.bfloat16))
    elif mod is None:
        sys.meta_path.insert(0, _MlDtypesWatcher())


def np_dtype(dtype) -> np.dtype:
    """`np.dtype(dtype)`, also for the name "bfloat16" (as JAX's dtypes accept it)."""
    if isinstance(dtype, str) and dtype in _BF16_NAMES:
        return bfloat16_dtype()
    return np.dtype(dtype)


def __getattr__(name: str):
    # PEP 562: `jaxlite.dtypes.bfloat16` imports ml_dtypes on first use only.
    if name == "bfloat16":
        return bfloat16_dtype()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "bfloat16"})


class _SupportedDtypes(Sequence):
    """`SUPPORTED_DTYPES`: membership is a set lookup; listing them imports ml_dtypes (bfloat16)."""

    def _all(self) -> tuple[np.dtype, ...]:
        return tuple(bfloat16_dtype() if d is None else d for d in _SUPPORTED_ORDER)

    def __contains__(self, dtype) -> bool:
        return dtype in _SUPPORTED

    def __getitem__(self, i):
        return self._all()[i]

    def __len__(self) -> int:
        return len(_SUPPORTED_ORDER)

    def __iter__(self):
        return iter(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


# --- end of 16-bit floats --------------------------------------------------------------------

_SUPPORTED_ORDER = (
    bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64,
    float16, None,  # 16-bit floats (None: bfloat16, see above)
    float32, float64,
    complex64, complex128,  # complex (issue 21)
)  # fmt: skip
SUPPORTED_DTYPES = _SupportedDtypes()
# The dtypes jaxlite holds, bfloat16 once ml_dtypes is loaded: a set, for lookups on hot paths.
_SUPPORTED: set[np.dtype] = {d for d in _SUPPORTED_ORDER if d is not None}

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
    float16: "f16",  # bfloat16: "bf16" (`_add_bfloat16`)
    float32: "f32",
    float64: "f64",
    complex64: "c64",  # complex (issue 21)
    complex128: "c128",
}

# Python scalar types map to the mode's defaults, weakly typed. NB: read on hot paths, and held
# by reference elsewhere: `_set_x64` updates it in place.
PYTHON_SCALAR_DTYPES = {bool: bool_, int: int64, float: float64, complex: complex128}

# While x64 is off, each 64-bit dtype and the 32-bit one that stands for it; empty while x64 is
# on, so `NARROW.get(dt, dt)` canonicalizes at the cost of one lookup. Updated in place.
_X64_TO_X32 = {int64: int32, uint64: uint32, float64: float32, complex128: complex64}
NARROW: dict[np.dtype, np.dtype] = {}


def short_name(dtype) -> str:
    if dtype == float0:
        return "float0"
    return SHORT_NAMES.get(dtype, str(dtype))


def canonicalize(dtype, where: str = "jaxlite") -> np.dtype:
    """Returns `dtype` as a supported `np.dtype` of the current mode (a 64-bit dtype is its
    32-bit stand-in while x64 is off), or raises a `TypeError` naming `where`."""
    if dtype is None:
        raise TypeError(f"{where}: dtype must not be None")
    if dtype in PYTHON_SCALAR_DTYPES:
        return PYTHON_SCALAR_DTYPES[dtype]
    try:
        dt = np_dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: {dtype!r} is not a valid dtype") from None
    if dt not in _SUPPORTED:
        if dt.name == "bfloat16" and "ml_dtypes" in sys.modules and bfloat16_dtype() == dt:
            return dt  # ml_dtypes was imported past the watcher: its bfloat16 is now in _SUPPORTED
        names = ", ".join(str(d) if d is not None else "bfloat16" for d in _SUPPORTED_ORDER)
        raise TypeError(f"{where}: dtype {dt} is not supported by jaxlite (supported: {names})")
    return NARROW.get(dt, dt)


def user_dtype(dtype, where: str) -> np.dtype:
    """`canonicalize` for a dtype the user asked for: while x64 is off, asking for a 64-bit
    dtype gives JAX's UserWarning (a Python type such as `float` asks for the default)."""
    dt = canonicalize(dtype, where)
    if NARROW and dtype not in PYTHON_SCALAR_DTYPES:
        asked = np_dtype(dtype)
        if asked in NARROW:
            warnings.warn(
                f"Explicitly requested dtype {asked} requested in {where} is not available, and "
                f"will be truncated to dtype {dt}. To enable more dtypes, set the "
                "jax_enable_x64 configuration option (jaxlite.config.update('jax_enable_x64', "
                "True)) or the JAX_ENABLE_X64 shell environment variable.",
                stacklevel=3,
            )
    return dt


def narrow_value(x: np.ndarray) -> np.ndarray:
    """`x` with a dtype of the current mode: a 64-bit array converted while x64 is off."""
    dt = NARROW.get(x.dtype)
    return x if dt is None else x.astype(dt)


def kind(dtype) -> str:
    """`dtype.kind`, except "f" for bfloat16 (whose NumPy kind is "V")."""
    return "f" if dtype in _BF16 else dtype.kind


def is_float(dtype) -> bool:
    return dtype.kind == "f" or dtype in _BF16


def is_int(dtype) -> bool:
    return dtype.kind in "iu"


def is_unsigned(dtype) -> bool:
    return dtype.kind == "u"


def is_bool(dtype) -> bool:
    return dtype.kind == "b"


def is_inexact(dtype) -> bool:
    return dtype.kind in "fc" or dtype in _BF16


def is_complex(dtype) -> bool:
    return dtype.kind == "c"


# JAX's type-promotion lattice (jax/_src/dtypes.py `_type_promotion_lattice`, standard mode):
# each node maps to the nodes immediately above it. "i*" and "f*" are weakly typed ints and floats
# (Python scalars); a weak bool is just bool. Dtypes jaxlite does not hold yet are in it, so that
# adding them changes no rule. (JAX also has 4-bit ints, 8-bit floats and complex above the floats.)
# float16 and bfloat16 are both directly above "f*" and below float32: neither is above the
# other, so f16 x bf16 -> f32, and a weak float takes either.
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
        "f*": ("float16", "bfloat16"),
        "float16": ("float32",),  # 16-bit floats
        "bfloat16": ("float32",),  # 16-bit floats
        "float32": ("float64",),
        "float64": (),
        **_COMPLEX_LATTICE,
    }


# NB: np.dtype("bfloat16") does not parse: the lattice's names map to dtypes here ("bfloat16"
# joins when ml_dtypes loads; no promotion can reach that node without a bfloat16 operand).
_NODE_DTYPES = {d.name: d for d in _SUPPORTED}
# --- complex (issue 21): weak complex "c*" (Python complex) above "f*"; each float below the
# complex of its width (f32 -> c64, f64 -> c128), as JAX. Merged into the lattice by `**`: the
# float edges "f*" -> "c*" and "float32" -> "complex64" are added by `_with_complex`.
_COMPLEX_LATTICE = {"c*": ("complex64",), "complex64": ("complex128",), "complex128": ()}
_COMPLEX_EDGES = {"f*": "c*", "float32": "complex64", "float64": "complex128"}


def _with_complex(lattice: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {
        n: up + ((_COMPLEX_EDGES[n],) if n in _COMPLEX_EDGES else ()) for n, up in lattice.items()
    }


_WEAK_NODES = ("i*", "f*", "c*")
# --- end complex ---


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


# NB: one lattice for both modes: while x64 is off, a 64-bit bound is canonicalized to its 32-bit
# stand-in (u32 x i32 -> i64 -> i32), which is what JAX's x64-off lattice edge gives.
_UPPER_BOUNDS = _upper_bounds(_with_complex(_lattice(x64=True)))
_UPPER_BOUNDS_X32 = _upper_bounds(
    _with_complex(_lattice(x64=False))
)  # for `promote_types`, which keeps 64 bits

_x64 = False
_on_x64_change: list[Callable[[], None]] = []


def x64_enabled() -> bool:
    """Whether 64-bit mode is on (`jaxlite.config.jax_enable_x64`; off by default, as in JAX)."""
    return _x64


def on_x64_change(hook: Callable[[], None]) -> None:
    """Calls `hook()` after each change of mode (caches that depend on it clear themselves)."""
    _on_x64_change.append(hook)


def _set_x64(on: bool) -> None:
    global _x64
    on = bool(on)
    changed = on != _x64
    _x64 = on
    NARROW.clear()
    if not on:
        NARROW.update(_X64_TO_X32)
    PYTHON_SCALAR_DTYPES[int] = int64 if on else int32
    PYTHON_SCALAR_DTYPES[float] = float64 if on else float32
    PYTHON_SCALAR_DTYPES[complex] = complex128 if on else complex64
    _lattice_result_type.cache_clear()
    if changed:
        for hook in _on_x64_change:
            hook()


def default_int_dtype() -> np.dtype:
    """The dtype of Python ints and of `jnp.arange(3)`: int64 with x64, int32 without."""
    return int64 if _x64 else int32


def default_float_dtype() -> np.dtype:
    """The dtype of Python floats and of `jnp.zeros(3)`: float64 with x64, float32 without."""
    return float64 if _x64 else float32


def default_complex_dtype() -> np.dtype:
    """The dtype of Python complex numbers: complex128 with x64, complex64 without."""
    return complex128 if _x64 else complex64


def _default_for_node(node: str) -> np.dtype:
    if node == "c*":
        return default_complex_dtype()
    return default_int_dtype() if node == "i*" else default_float_dtype()


def _lub(nodes: frozenset, ub: dict = _UPPER_BOUNDS) -> str:
    """The least upper bound of lattice nodes (JAX's `_least_upper_bound`)."""
    try:
        common = frozenset.intersection(*(ub[n] for n in nodes))
    except KeyError:
        bad = next(n for n in nodes if n not in ub)
        raise TypeError(f"dtype {bad} cannot take part in type promotion") from None
    least = (common & nodes) or {c for c in common if common <= ub[c]}
    if len(least) != 1:
        names = ", ".join(sorted(nodes))
        raise TypeError(f"no implicit type promotion path for dtypes {names}")
    return next(iter(least))


def _node(dtype: np.dtype, weak: bool) -> str:
    if weak and dtype.kind in "iu":
        return "i*"
    if weak and is_float(dtype):
        return "f*"
    if weak and dtype.kind == "c":
        return "c*"
    return dtype.name


@functools.lru_cache(maxsize=512)
def _lattice_result_type(dtypes_and_weak: tuple) -> tuple[np.dtype, bool]:
    if all(w for _, w in dtypes_and_weak):
        # JAX: all weak -> the bound of their strong dtypes, still weak (weak i32 + 1 -> weak i64).
        out = _lub(frozenset(d.name for d, _ in dtypes_and_weak))
        weak = True
    else:
        out = _lub(frozenset(_node(d, w) for d, w in dtypes_and_weak))
        weak = out in _WEAK_NODES
    dt = _default_for_node(out) if out in _WEAK_NODES else _NODE_DTYPES[out]
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
    if dt.kind == "c":
        return default_complex_dtype()
    return default_int_dtype() if dt.kind in "iu" else default_float_dtype()


def promote_types(a: np.dtype, b: np.dtype, weak_a: bool = False, weak_b: bool = False):
    """The dtype two dtypes promote to (`jnp.promote_types`); a weak one acts as a Python type.

    As JAX's, this is promotion of dtypes, not of values: it is not canonicalized, so 64-bit
    dtypes stay (and weak results are int64/float64) with x64 off too; only the lattice's
    x64-off edge (u32 x i32 -> i32) follows the mode."""
    ub = _UPPER_BOUNDS if _x64 else _UPPER_BOUNDS_X32
    out = _lub(frozenset((_node(a, weak_a), _node(b, weak_b))), ub)
    return {"i*": int64, "f*": float64, "c*": complex128}.get(out) or _NODE_DTYPES[out]


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
    dt = _TO_INEXACT.get(dtype, dtype)
    return NARROW.get(dt, dt)


# complex (issue 21)
_TO_COMPLEX = {
    float16: complex64,  # as JAX's to_complex_dtype: 16-bit floats widen to complex64
    # bfloat16: complex64 (`_add_bfloat16`)
    float32: complex64,
    float64: complex128,
    complex64: complex64,
    complex128: complex128,
}


def to_complex(dtype: np.dtype) -> np.dtype:
    """The complex dtype of `dtype`'s width (float32 -> complex64; ints through `to_inexact`)."""
    return _TO_COMPLEX[to_inexact(dtype)]


def to_real(dtype: np.dtype) -> np.dtype:
    """The real dtype of a complex one (complex64 -> float32); other dtypes unchanged."""
    return {complex64: float32, complex128: float64}.get(dtype, dtype)


def dtype_of_scalar(x) -> np.dtype:
    """The weak dtype of a Python scalar, or raises `TypeError` for anything else."""
    t = type(x)
    if t in PYTHON_SCALAR_DTYPES:
        return PYTHON_SCALAR_DTYPES[t]
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return PYTHON_SCALAR_DTYPES[int]
    if isinstance(x, float):
        return PYTHON_SCALAR_DTYPES[float]
    if isinstance(x, complex):
        return PYTHON_SCALAR_DTYPES[complex]
    raise TypeError(f"{type(x).__name__} is not a valid jaxlite scalar")


def finfo(dtype):
    """Machine limits of a float dtype (ml_dtypes' finfo knows bfloat16 as well)."""
    dt = canonicalize(dtype)
    if dt in _BF16:
        import ml_dtypes  # loaded already: a bfloat16 dtype exists

        return ml_dtypes.finfo(dt)
    return np.finfo(dt)


def iinfo(dtype):
    return np.iinfo(canonicalize(dtype))


_watch_ml_dtypes()
config.on_change("jax_enable_x64", _set_x64)
config.update("jax_enable_x64", config.jax_enable_x64)  # NB: the environment is read once, here
