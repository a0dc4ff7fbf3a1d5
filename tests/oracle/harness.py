"""The oracle's machinery: the two libraries side by side, inputs, routes, and the comparison.

Imported only by test modules that have already skipped when JAX is missing. Every case runs in
one of the two 64-bit modes, the same in both libraries: "x32" (JAX's and jaxlite's default, x64
off) or "x64" (`jax_enable_x64`), set around the case by `in_mode`.
"""

from __future__ import annotations

import importlib
import os
import types
import warnings
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field

import jax
import ml_dtypes
import numpy as np

import jax.numpy  # noqa: E402

import jaxlite  # noqa: E402
from jaxlite import errors  # noqa: E402

from .stats import EXAMPLES, FULL  # noqa: E402  (N extra examples per item; see stats.py)

DTYPES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32",
    "float64",
)  # fmt: skip
FLOATS = ("float32", "float64")
COMPLEX = ("complex64", "complex128")  # tried for the names specs_complex.py lists (issue 21)
INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
ROUTES = ("eager", "jit", "vmap", "jvp", "grad")
MODES = ("x32", "x64")  # x64 off (the default of both libraries), x64 on
# `JAXLITE_ORACLE_MODES=x32` (comma-separated) runs the items of those modes only.
_ONLY = [m for m in os.environ.get("JAXLITE_ORACLE_MODES", "").split(",") if m]


@contextmanager
def in_mode(mode: str):
    """Both libraries in `mode` within the block."""
    on = mode == "x64"
    with jax.enable_x64(on), jaxlite.enable_x64(on):
        yield


# Exceptions that say "this input is wrong"; anything else from jaxlite where JAX raises is a crash.
SENSIBLE = (TypeError, ValueError, IndexError, KeyError, NotImplementedError, ZeroDivisionError,
            OverflowError, FloatingPointError, np.linalg.LinAlgError)  # fmt: skip


class Lib:
    """One library's entry points: `L.numpy`, `L.lax`, `L.random`, ..., `L.jit`, `L.vmap`."""

    def __init__(self, name: str):
        self.name = name
        top = importlib.import_module(name)
        self.numpy = importlib.import_module(name + ".numpy")
        self.linalg = importlib.import_module(name + ".numpy.linalg")
        self.lax = importlib.import_module(name + ".lax")
        self.nn = importlib.import_module(name + ".nn")
        self.random = importlib.import_module(name + ".random")
        self.tree_util = importlib.import_module(name + ".tree_util")
        self.jit, self.vmap, self.grad, self.jvp = top.jit, top.vmap, top.grad, top.jvp

    def resolve(self, qualname: str):
        """`numpy.linalg.norm` -> the library's function (AttributeError if it has none)."""
        modpath, _, attr = qualname.rpartition(".")
        return getattr(importlib.import_module(f"{self.name}.{modpath}"), attr)

    def asarray(self, x):
        return self.numpy.asarray(x) if isinstance(x, np.ndarray) else x


JL, JX = Lib("jaxlite"), Lib("jax")


# ---------------------------------------------------------------------------------------- inputs

_TINY = {"float32": 2e-38, "float64": 3e-308, "float16": 1e-4, "bfloat16": 2e-38}
_HUGE = {"float32": 3e38, "float64": 1e308, "float16": 6e4, "bfloat16": 3e38}
HALF = ("float16", "bfloat16")  # tried by tests/oracle/test_half_functions.py


def np_dtype(dtype: str):
    """NumPy's dtype of a name (np.dtype does not parse "bfloat16")."""
    return ml_dtypes.bfloat16 if dtype == "bfloat16" else dtype


def specials(dtype: str) -> np.ndarray:
    """0, -0.0, ±inf, NaN, ties (x.5), huge and tiny (normal: XLA's CPU flushes subnormals)."""
    if dtype == "bool":
        return np.array([False, True])
    if dtype in COMPLEX:
        return _complex_specials(dtype)
    if dtype in INTS:
        info = np.iinfo(dtype)
        vals = [0, 1, 2, 3, info.max, info.max - 1] + ([-1, -2, info.min] if info.min else [])
        return np.array(vals, dtype)
    inf, t, h = np.inf, _TINY[dtype], _HUGE[dtype]
    return np.array(
        [0.0, -0.0, inf, -inf, np.nan, 0.5, -1.5, 2.5, h, -h, t, -t, 1.0], np_dtype(dtype)
    )


_COMPLEX_SPECIALS = [
    0,
    1 + 1j,
    -1.5 + 0.5j,
    2.5 - 3j,
    0.5j,
    -2.0,
    complex(np.inf, 0),
    complex(np.nan, 0),
    complex(0, np.inf),
    complex(1e30, -1e30),
]


def _complex_specials(dtype: str) -> np.ndarray:
    return np.array(_COMPLEX_SPECIALS, dtype)


def random_array(dtype: str, shape, rng: np.random.Generator, kind: str = "any") -> np.ndarray:
    """Small values (some exact ties: quarters) of `dtype`; `kind` narrows the range:
    "pos" (> 0), "index" (valid indices 0..2), "unit" (in (-1, 1))."""
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype in COMPLEX:  # real and imaginary parts drawn as the floats of that width
        part = FLOATS[COMPLEX.index(dtype)]
        re, im = random_array(part, shape, rng, kind), random_array(part, shape, rng, kind)
        return (re + 1j * im.astype(np.float64)).astype(dtype)
    lo, hi = {"pos": (1, 9), "index": (0, 3), "unit": (-3, 4)}.get(kind, (-6, 7))
    if dtype.startswith("uint"):
        lo = max(lo, 0)
    if dtype in INTS:
        return rng.integers(lo, hi, shape).astype(dtype)
    x = rng.integers(lo * 4, hi * 4, shape) / 4 + rng.uniform(-0.1, 0.1, shape)
    x = np.where(rng.random(shape) < 0.3, np.round(x * 2) / 2, x)  # ties for round, sort, max
    if kind == "unit":
        x = x / 4.5
    if kind == "pos":
        x = np.abs(x) + 0.25
    return np.asarray(x, np_dtype(dtype))


# ----------------------------------------------------------------------------------------- specs


@dataclass
class Call:
    """`fn(f, L, *arrays)` calls the function `f` of library `L`; `shapes`: one tuple of array
    shapes per case (a shape is a tuple, or "special" for the dtype's special values)."""

    fn: object
    shapes: list
    kind: str = "any"


@dataclass
class Spec:
    calls: list
    dtypes: tuple = DTYPES
    diff: bool = False  # jvp and grad routes, on float inputs
    routes: tuple = ("eager", "jit", "vmap")
    tol: float = 1.0  # multiplies the dtype's tolerance
    values: bool = True  # False: compare dtype, shape and weak type only (jnp.empty)
    extra: dict = field(default_factory=dict)

    def route_list(self):
        return self.routes + (("jvp", "grad") if self.diff else ())


def cases(spec: Spec, dtype: str, rng: np.random.Generator, route: str):
    """(call, arrays) pairs for one item; the sample of the default run, all of them in FULL."""
    out = []
    for call in spec.calls:
        for shapes in call.shapes:
            arrays = [
                specials(dtype) if s == "special" else random_array(dtype, s, rng, call.kind)
                for s in shapes
            ]
            if len(shapes) == 2 and shapes == ("special", "special"):  # every pair of specials
                a = arrays[0]
                arrays = [np.repeat(a, len(a)), np.tile(a, len(a))]
            out.append((call, arrays))
    if FULL:
        for _ in range(EXAMPLES):
            call = spec.calls[rng.integers(len(spec.calls))]
            shapes = call.shapes[rng.integers(len(call.shapes))]
            sh = [tuple(rng.integers(0, 4, len(s))) if s != "special" else (7,) for s in shapes]
            if len(shapes) == 2 and all(isinstance(s, tuple) for s in shapes):
                sh[1] = tuple(d if rng.random() < 0.7 else 1 for d in sh[0])  # broadcastable
            out.append((call, [random_array(dtype, s, rng, call.kind) for s in sh]))
        return out
    # The default run: the first case (the representative: 2-d) and, eagerly, one more chosen
    # by the item for the families that have special values (so that across dtypes and names
    # every shape and the special values are seen).
    if (
        route == "eager"
        and len(out) > 1
        and any("special" in sh for c in spec.calls for sh in c.shapes)
    ):
        return [out[0], out[1 + int(rng.integers(len(out) - 1))]]
    return out[:1]


def items(name: str, spec: Spec):
    """(mode, route, dtype) triples of a name. FULL: every route on every dtype (float dtypes for
    jvp and grad) in both modes. Default (sized for `make test`): eager on one dtype and, for half
    the names, one transformation on one dtype, each in one mode, chosen by the name, so that
    across a family every dtype, route and mode is seen."""
    out = []
    for route in spec.route_list():
        dts = spec.dtypes if route in ("eager", "jit", "vmap") else FLOATS + COMPLEX
        dts = tuple(d for d in spec.dtypes if d in dts) or dts
        out += [(route, d) for d in dts]
    if FULL:
        return [(m, r, d) for m in MODES for r, d in out if not _ONLY or m in _ONLY]
    h = zlib.crc32(name.encode())
    eager = [rd for rd in out if rd[0] == "eager"]
    other = [rd for rd in out if rd[0] != "eager"]
    # A transformation for every other name (`make test`'s budget: JAX compiles every case).
    trans = other[(h // 7) % len(other) :][:1] if other and (h // 3) % 2 == 0 else []
    picked = eager[h % len(eager) :][:1] + trans
    picked = [(MODES[(h // 11 + i) % 2], r, d) for i, (r, d) in enumerate(picked)]
    return [p for p in picked if not _ONLY or p[0] in _ONLY]


def _sum_out(L, out):
    """The scalar that `grad` differentiates: the sum of every inexact leaf of the output."""
    leaves = [x for x in _flatten(out) if hasattr(x, "dtype")]
    total = 0.0
    for x in leaves:
        total = total + L.numpy.sum(x)
    return total


def run(L: Lib, f, route: str, call: Call, arrays: list):
    """`f` of library `L` on `arrays` by `route`; raises what the library raises."""
    fn = call.fn
    if route == "eager":
        return fn(f, L, *[L.asarray(a) for a in arrays])
    if route == "jit":
        return L.jit(lambda *a: fn(f, L, *a))(*[L.asarray(a) for a in arrays])
    if route == "vmap":
        batched = [np.stack([a, a[::-1] if a.ndim else a]) for a in arrays]
        return L.vmap(lambda *a: fn(f, L, *a))(*[L.asarray(a) for a in batched])
    if route == "jvp":
        xs = tuple(L.asarray(a) for a in arrays)
        ts = tuple(L.asarray(np.full(a.shape, 0.75, a.dtype)) for a in arrays)
        return L.jvp(lambda *a: fn(f, L, *a), xs, ts)
    if route == "grad":
        argnums = tuple(range(len(arrays)))
        g = L.grad(lambda *a: _sum_out(L, fn(f, L, *a)), argnums=argnums)
        return g(*[L.asarray(a) for a in arrays])
    raise ValueError(route)


# ------------------------------------------------------------------------------------- comparison


def _flatten(out):
    if isinstance(out, dict):
        return [y for k in sorted(out, key=str) for y in _flatten(out[k])]
    if isinstance(out, (tuple, list)):
        return [y for x in out for y in _flatten(x)]
    return [out]


def _describe(x):
    """(value as NumPy, dtype name, weak_type, shape) of a leaf, or (_PY, value)."""
    if isinstance(x, jax.Array):
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            return np.asarray(jax.random.key_data(x)), f"key<{x.dtype}>", False, x.shape
        return np.asarray(x), str(x.dtype), bool(x.weak_type), tuple(x.shape)
    if isinstance(x, jaxlite.Array):
        return np.asarray(x), str(x.dtype), bool(x.weak_type), tuple(x.shape)
    if isinstance(x, (np.ndarray, np.generic)):
        return np.asarray(x), str(x.dtype), False, tuple(np.shape(x))
    return (_PY, x)


_PY = object()  # marks a leaf that is not an array (a Python value: compared by ==)


def _tol(dtype: str, scale: float):
    dtype = {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)
    if dtype == "float32":
        return 2e-5 * scale, 2e-6 * scale
    if dtype == "float64":
        return 1e-11 * scale, 1e-13 * scale
    if dtype in HALF:  # a few 16-bit ulps: both round each operation's float32 result
        eps = 2.0**-10 if dtype == "float16" else 2.0**-7
        return 4 * eps * scale, eps / 2 * scale
    return 0.0, 0.0


def compare(got, want, tol: float = 1.0, values: bool = True) -> str | None:
    """None if jaxlite's `got` agrees with JAX's `want`, else what differs."""
    g, w = _flatten(got), _flatten(want)
    if len(g) != len(w):
        return f"structure: jaxlite {len(g)} leaves, JAX {len(w)}"
    for i, (a, b) in enumerate(zip(g, w)):
        da, db = _describe(a), _describe(b)
        at = f" (leaf {i})" if len(g) > 1 else ""
        if da[0] is _PY or db[0] is _PY:
            if da[0] is _PY and db[0] is _PY:
                if type(a) is not type(b) and not (_num(a) and _num(b)) and not _dt(a, b):
                    return f"type{at}: jaxlite {type(a).__name__}, JAX {type(b).__name__}"
                if not _same_py(a, b):
                    return f"value{at}: jaxlite {a!r}, JAX {b!r}"
                continue
            return f"kind{at}: jaxlite {type(a).__name__}, JAX {type(b).__name__}"
        (va, ta, wa, sa), (vb, tb, wb, sb) = da, db
        if ta != tb:
            return f"dtype{at}: jaxlite {ta}, JAX {tb}"
        if sa != sb:
            return f"shape{at}: jaxlite {sa}, JAX {sb}"
        if wa != wb:
            return f"weak_type{at}: jaxlite {wa}, JAX {wb}"
        if values and not _close(va, vb, tb, tol):
            return f"value{at} ({tb}): jaxlite {_short(va)}, JAX {_short(vb)}"
    return None


def _num(x):
    return isinstance(x, (int, float, np.number)) and not isinstance(x, bool)


def _dt(a, b):
    return isinstance(a, np.dtype) and isinstance(b, np.dtype)


def _same_py(a, b):
    try:
        if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
            return True
        r = a == b
        return bool(np.all(r)) if not isinstance(r, bool) else r
    except Exception:
        return repr(a) == repr(b)


def _close(a, b, dtype, tol):
    if a.shape != b.shape:
        return False
    if a.dtype.kind not in "fc" and str(a.dtype) != "bfloat16":
        return np.array_equal(a, b)
    with np.errstate(all="ignore"):
        nan_a, nan_b = np.isnan(a), np.isnan(b)
        if not np.array_equal(nan_a, nan_b):
            return False
        a, b = a[~nan_a], b[~nan_b]
        inf_a, inf_b = np.isinf(a), np.isinf(b)
        if not np.array_equal(a[inf_a | inf_b], b[inf_a | inf_b]):
            return False
        wide = np.complex128 if a.dtype.kind == "c" else np.float64
        a, b = a[~(inf_a | inf_b)].astype(wide), b[~(inf_a | inf_b)].astype(wide)
        rtol, atol = _tol(dtype, tol)
        return bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def _short(v):
    s = np.array2string(np.asarray(v).ravel()[:8], precision=6, separator=",")
    return s if np.size(v) <= 8 else s[:-1] + ",...]"


_TRUNCATED = "Explicitly requested dtype"  # JAX's warning: a 64-bit dtype asked for with x64 off


def _run_recording(L: Lib, f, route, call, arrays, mode):
    """`run` in `mode`, and whether it warned that a 64-bit dtype was truncated. Other warnings
    are not compared (JAX's deprecations, NumPy's casts)."""
    with warnings.catch_warnings(record=True) as caught, in_mode(mode):
        warnings.simplefilter("always")
        out = run(L, f, route, call, arrays)
    return out, any(_TRUNCATED in str(w.message) for w in caught)


def check_case(f_jl, f_jx, route: str, call: Call, arrays: list, spec: Spec,
               mode: str = "x64") -> str | None:  # fmt: skip
    """Runs one case on both libraries in `mode`; None if they agree (raising together counts,
    and so does warning that a 64-bit dtype was truncated)."""
    try:
        want, want_warned = _run_recording(JX, f_jx, route, call, arrays, mode)
    except Exception as e:  # JAX rejects the input: jaxlite must as well, sensibly
        want_exc = e
    else:
        want_exc = None
    try:
        got, got_warned = _run_recording(JL, f_jl, route, call, arrays, mode)
    except Exception as e:
        if want_exc is not None:
            if isinstance(e, SENSIBLE) or isinstance(e, errors.JaxliteError):
                return None
            return f"raises: jaxlite {type(e).__name__} ({_msg(e)}), JAX {type(want_exc).__name__}"
        return f"raises: jaxlite {type(e).__name__}: {_msg(e)} (JAX does not)"
    if want_exc is not None:
        return f"raises: JAX {type(want_exc).__name__}: {_msg(want_exc)} (jaxlite does not)"
    if got_warned != want_warned:
        who = "jaxlite" if got_warned else "JAX"
        return f"warning: only {who} warns that a 64-bit dtype is truncated (x64 off)"
    return compare(got, want, spec.tol, spec.values)


def _msg(e):
    return str(e).splitlines()[0][:120] if str(e) else ""


def shape_label(arrays) -> str:
    return "x".join(str(tuple(a.shape)) + str(a.dtype) for a in arrays) or "()"


def is_module(x) -> bool:
    return isinstance(x, types.ModuleType)
