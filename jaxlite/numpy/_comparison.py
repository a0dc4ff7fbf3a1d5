"""Whole-array comparisons: `isclose`, `allclose`, `array_equal`, `array_equiv`. They return
jaxlite bool arrays (not Python bools), so they trace like everything else.
"""

from __future__ import annotations

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.numpy._reductions import all as all_
from jaxlite.numpy._ufuncs import equal, isnan
from jaxlite.numpy._util import (
    asarray,
    broadcast_shapes,
    convert,
    dtype_of,
    promote_inexact,
    shape_of,
)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise `|a - b| <= atol + rtol * |b|`; infinities are close only to themselves.

    Example:
      >>> jnp.isclose(jnp.array([1.0, 2.0]), jnp.array([1.0 + 1e-9, 2.1]))
      Array([ True, False], dtype=bool)
    """
    a, b = promote_inexact("isclose", asarray(a, "isclose"), asarray(b, "isclose"))
    diff = lax.abs(lax.sub(a, b))
    tol = lax.add(convert(atol, dtype_of(a)), lax.mul(convert(rtol, dtype_of(a)), lax.abs(b)))
    finite_b = lax.is_finite(b)
    close = lax.bitwise_and(lax.le(diff, tol), finite_b)
    out = lax.bitwise_or(close, lax.eq(a, b))
    if equal_nan:
        out = lax.bitwise_or(out, lax.bitwise_and(isnan(a), isnan(b)))
    return out


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of `a` is close to `b` (see `isclose`); a bool 0-d array."""
    return all_(isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1, a2, equal_nan=False):
    """Whether the arrays have the same shape and elements; a bool 0-d array."""
    a1, a2 = asarray(a1, "array_equal"), asarray(a2, "array_equal")
    if shape_of(a1) != shape_of(a2):
        return convert(False, dtypes.bool_)
    eq = equal(a1, a2)
    if equal_nan and (dtypes.is_float(dtype_of(a1)) or dtypes.is_float(dtype_of(a2))):
        eq = lax.bitwise_or(eq, lax.bitwise_and(isnan(a1), isnan(a2)))
    return all_(eq)


def array_equiv(a1, a2):
    """Whether the arrays are equal after broadcasting (False if they do not broadcast)."""
    a1, a2 = asarray(a1, "array_equiv"), asarray(a2, "array_equiv")
    try:
        broadcast_shapes("array_equiv", shape_of(a1), shape_of(a2))
    except ValueError:
        return convert(False, dtypes.bool_)
    return all_(equal(a1, a2))
