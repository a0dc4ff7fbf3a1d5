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


def binary(impl, ok: frozenset, slow):
    """`slow(x, y)`, with the fast path in front for two eager Arrays of one dtype in `ok` (the
    result is weak iff both are, as `promote` and the rules make it). NumPy broadcasts their
    shapes as jnp does; shapes it cannot broadcast take the slow path, for jnp's error."""
    fresh = isinstance(impl, np.ufunc)

    def fn(x, y, /):
        if type(y) is Array and type(x) is Array and _STATE.trace is _PLAIN[0]:
            vx = x._value
            vy = y._value
            dt = vx.dtype
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
        return slow(x, y)

    return fn
