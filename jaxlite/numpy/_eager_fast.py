"""The eager fast paths of jnp's elementwise functions and of Array's operators (issue 20.7).

Outside any transformation (`core.PLAIN_TRACE`), an elementwise primitive made by
primitives/_base.py's `_unop`/`_binop` applied to Arrays of one dtype is its NumPy
function on their buffers: the result's dtype is the operands' (checked once per dtype, below)
and it is weak iff the operands are (the rules' `_all_weak`). So these paths call that function
directly and wrap its fresh result with no checks, skipping bind, the promotion and the generic
eager impl, with which they agree (tests/test_eager_fast.py compares them). Anything else takes
the slow path the factory is given.

NB: measured on f32[8] (2-core AMD EPYC Zen 4, CPU time): `np.sin` 0.28 us; marking its result
read-only 0.05 us (`setflags(False)`: positional, a keyword costs 0.12), an Array 0.08 us.
"""

from __future__ import annotations

import numpy as np

from jaxlite import core
from jaxlite.array import Array, _wrap

_ND = np.ndarray
_NEW = object.__new__
_STATE = core.TRACE_STATE
_PLAIN = core.PLAIN_TRACE  # NB: one list, updated in place when jax_debug_nans/infs change

# The dtypes the fast paths may take: 16-bit floats are left to bind (their impls compute in
# float32 and round once); bool and complex where the caller's kinds allow them.
_CANDIDATES = [
    np.dtype(t)
    for t in (
        "float32", "float64", "int8", "int16", "int32", "int64",
        "uint8", "uint16", "uint32", "uint64", "complex64", "complex128", "bool",
    )
]  # fmt: skip


def fast_dtypes(impl, nargs: int, kinds: str) -> frozenset:
    """The dtypes of `kinds` on which `impl` (of `nargs` arrays) returns that same dtype, which
    the fast paths then need not check (probed once on a small array)."""
    ok = []
    for dt in _CANDIDATES:
        if dt.kind not in kinds:
            continue
        probe = np.ones(2, dt)
        try:
            with np.errstate(all="ignore"):
                out = impl(*[probe] * nargs)
        except (TypeError, ValueError):
            continue
        if type(out) is _ND and out.dtype == dt:
            ok.append(dt)
    return frozenset(ok)


def _wrap_out(out, args, weak: bool) -> Array:
    """NumPy's result `out` on the buffers `args` as an Array, when it may not be fresh (a
    non-ufunc impl may return an operand: a view is wrapped, never the caller's buffer) or is
    a NumPy scalar (a 0-d operand)."""
    for a in args:
        if out is a:
            out = out.view()
            break
    return _wrap(out, weak)


def unary(impl, ok: frozenset, slow):
    """`slow(x)`, with the fast path in front for an eager Array of a dtype in `ok`."""
    fresh = isinstance(impl, np.ufunc)  # NB: a ufunc's result is never its operand

    def fn(x, /):
        if type(x) is Array and _STATE.trace is _PLAIN[0]:
            v = x._value
            if v.dtype in ok:
                out = impl(v)
                if fresh and type(out) is _ND:
                    out.setflags(False)  # write=False
                    a = _NEW(Array)
                    a._value = out
                    a.weak_type = x.weak_type
                    return a
                return _wrap_out(out, (v,), x.weak_type)
        return slow(x)

    return fn


_F32_MAX = float(np.finfo(np.float32).max)
# NB: NumPy 2 (NEP 50) treats a Python scalar as JAX does a weak one: cast to the array's dtype.
_WEAK_SCALARS = int(np.__version__.split(".")[0]) >= 2


def _scalar_ok(s, dt) -> bool:
    """Whether the Python scalar `s` meets an Array of dtype `dt` on the fast path: a float with
    a float or complex array, an int with a numeric one (NumPy keeps their dtype), both of a size every dtype holds
    (ints that do not fit small int dtypes make NumPy raise OverflowError: the slow path then
    raises jnp's)."""
    t = type(s)
    if t is float:
        return dt.kind in "fc" and -_F32_MAX <= s <= _F32_MAX  # NB: NaN and inf: slow path
    return t is int and dt.kind != "b" and -(2**31) <= s < 2**31


def binary(impl, ok: frozenset, slow):
    """`slow(x, y)`, with the fast path in front for two eager Arrays of one dtype in `ok`, or
    one and a Python scalar (`_scalar_ok`): the result is weak iff both are (a scalar is weak),
    as `promote` and the rules make it. NumPy broadcasts the shapes as jnp does; shapes it
    cannot broadcast take the slow path, for jnp's error."""
    fresh = isinstance(impl, np.ufunc)
    scalars = fresh and _WEAK_SCALARS

    def fn(x, y, /):
        if type(x) is Array:
            if _STATE.trace is not _PLAIN[0]:
                return slow(x, y)
            vx = x._value
            dt = vx.dtype
            if type(y) is Array:
                vy = y._value
                if dt is vy.dtype and dt in ok:
                    try:
                        out = impl(vx, vy)
                    except ValueError:  # shapes that do not broadcast
                        return slow(x, y)
                    if fresh and type(out) is _ND:
                        out.setflags(False)  # write=False
                        a = _NEW(Array)
                        a._value = out
                        a.weak_type = x.weak_type and y.weak_type
                        return a
                    return _wrap_out(out, (vx, vy), x.weak_type and y.weak_type)
            elif scalars and dt in ok and _scalar_ok(y, dt):
                try:
                    out = impl(vx, y)
                except OverflowError:
                    return slow(x, y)
                return _wrap_scalar_out(out, x.weak_type)
        elif type(y) is Array and scalars and _STATE.trace is _PLAIN[0]:
            vy = y._value
            if vy.dtype in ok and _scalar_ok(x, vy.dtype):
                try:
                    out = impl(x, vy)
                except OverflowError:
                    return slow(x, y)
                return _wrap_scalar_out(out, y.weak_type)
        return slow(x, y)

    return fn


def _wrap_scalar_out(out, weak: bool) -> Array:
    if type(out) is not _ND:  # a 0-d operand
        return _wrap(out, weak)
    out.setflags(False)
    a = _NEW(Array)
    a._value = out
    a.weak_type = weak
    return a
