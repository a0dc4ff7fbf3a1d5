"""Statistics and curves: cov, corrcoef, trapezoid, interp, digitize, polyval. Compositions of
reductions, products, searchsorted and take.
"""

from __future__ import annotations

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.numpy import _reductions as red
from jaxlite.numpy._creation import diagonal
from jaxlite.numpy._dot import dot
from jaxlite.numpy._edit import diff
from jaxlite.numpy._indexing import take
from jaxlite.numpy._shape import concatenate, squeeze, transpose
from jaxlite.numpy._sorting import searchsorted, where
from jaxlite.numpy._ufuncs import (
    absolute,
    add,
    clip,
    divide,
    greater,
    less,
    less_equal,
    multiply,
    remainder,
    subtract,
)
from jaxlite.numpy._util import (
    asarray,
    canonicalize_axis,
    convert,
    dtype_of,
    filled,
    promote_dtypes,
    promote_dtypes_inexact,
    shape_of,
)


def _rows(x, rowvar: bool, name: str):
    x = asarray(x, name)
    s = shape_of(x)
    if len(s) > 2:
        raise ValueError(f"jnp.{name}: the input has more than 2 dimensions: {s}")
    if len(s) < 2:
        x = lax.reshape(x, (1,) + (s if s else (1,)))
    elif not rowvar and s[0] != 1:
        x = transpose(x)
    return x


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
    """Covariance matrix of the variables in the rows of `m` (columns if not `rowvar`).

    Computed in floats (ints and bools promote as JAX's `promote_args_inexact`: float32 up to 32
    bits); `fweights` and `aweights` weight the observations.
    """
    if y is None:
        x = _rows(promote_dtypes_inexact("cov", asarray(m, "cov"))[0], rowvar, "cov")
    else:
        m, y = promote_dtypes_inexact("cov", asarray(m, "cov"), asarray(y, "cov"))
        x = concatenate([_rows(m, rowvar, "cov"), _rows(y, rowvar, "cov")], 0)
    if ddof is None:
        ddof = 0 if bias else 1
    w = None
    if fweights is not None:
        w = convert(asarray(fweights, "cov"), dtype_of(x))
    if aweights is not None:
        aw = convert(asarray(aweights, "cov"), dtype_of(x))
        w = aw if w is None else multiply(w, aw)
    n = shape_of(x)[1]
    if w is None:
        avg = red.mean(x, axis=1)
        fact = float(n - ddof)
    else:
        avg, w_sum = red.average(x, axis=1, weights=w, returned=True)
        w_sum = lax.slice(w_sum, (0,), (1,))
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = subtract(w_sum, ddof)
        else:
            fact = subtract(w_sum, divide(multiply(ddof, red.sum(multiply(w, aw))), w_sum))
        fact = lax.reshape(fact, ())
    xc = subtract(x, lax.broadcast_in_dim(avg, shape_of(x), (0,)))
    xt = transpose(xc if w is None else multiply(xc, w))
    c = divide(dot(xc, xt), fact)
    return squeeze(c)


def corrcoef(x, y=None, rowvar=True):
    """Pearson correlation coefficients of the rows of `x` (and `y`), clipped to [-1, 1]."""
    c = cov(x, y, rowvar)
    if shape_of(c) == ():
        return divide(c, c)
    d = lax.sqrt(_diag(c))
    n = shape_of(d)[0]
    c = divide(c, lax.broadcast_in_dim(d, (n, n), (0,)))
    c = divide(c, lax.broadcast_in_dim(d, (n, n), (1,)))
    return clip(c, -1, 1)


def _diag(c):
    return diagonal(c)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of `y` along `axis` by the trapezoidal rule (sample points `x` or spacing `dx`)."""
    if x is None:
        (y,) = promote_dtypes_inexact("trapezoid", asarray(y, "trapezoid"))
    else:
        y, x = promote_dtypes_inexact("trapezoid", asarray(y, "trapezoid"), asarray(x, "trapezoid"))
    s = shape_of(y)
    ax = canonicalize_axis(axis, len(s), "trapezoid", s)
    n = s[ax]
    lo = lax.slice(y, (0,) * len(s), s[:ax] + (max(n - 1, 0),) + s[ax + 1 :])
    hi = lax.slice(y, (0,) * ax + (min(1, n),) + (0,) * (len(s) - ax - 1), s)
    if x is None:
        d = dx
    else:
        d = diff(
            asarray(x, "trapezoid"), axis=-1 if len(shape_of(asarray(x, "trapezoid"))) == 1 else ax
        )
        if len(shape_of(d)) == 1 and len(s) > 1:
            d = lax.broadcast_in_dim(d, shape_of(lo), (ax,))
    return red.sum(divide(multiply(d, add(hi, lo)), 2.0), axis=ax)


def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of the points (`xp`, `fp`) at `x` (`xp` increasing).

    As JAX's: `left`/`right` (default fp[0], fp[-1]) are the values below xp[0] and above
    xp[-1], or 'extrapolate' to extend the end segments; with `period`, x and xp are taken
    modulo the period (xp need not be sorted then) and left/right are ignored. Repeated xp
    points give the left one's fp (no division by zero, so no NaN gradients).
    """
    x, xp = promote_dtypes_inexact("interp", asarray(x, "interp"), asarray(xp, "interp"))
    (fp,) = promote_dtypes_inexact("interp", asarray(fp, "interp"))
    if len(shape_of(xp)) != 1 or shape_of(xp) != shape_of(fp):
        raise ValueError(
            f"jnp.interp: xp and fp must be 1-D of one length, got {shape_of(xp)} "
            f"and {shape_of(fp)}"
        )
    if shape_of(xp)[0] == 0:
        raise ValueError("jnp.interp: xp and fp must not be empty")
    extrapolate = []
    for name, v in (("left", left), ("right", right)):
        if isinstance(v, str) and v != "extrapolate":
            raise ValueError(
                f"the only valid string value of `{name}` is 'extrapolate', but got: {v!r}"
            )
        extrapolate.append(isinstance(v, str))
    if period is not None:
        period = asarray(period, "interp")
        if len(shape_of(period)) != 0:
            raise ValueError(f"period must be a scalar; got {period}")
        period = absolute(period)
        x, xp = remainder(x, period), remainder(xp, period)
        xp, fp = lax.sort((xp, fp), num_keys=1)
        n = shape_of(xp)[0]
        xp = concatenate([subtract(xp[n - 1 :], period), xp, add(xp[:1], period)])
        fp = concatenate([fp[n - 1 :], fp, fp[:1]])
    n = shape_of(xp)[0]
    i = clip(searchsorted(xp, x, side="right"), 1, n - 1)
    xp0, xp1 = take(xp, subtract(i, 1), mode="clip"), take(xp, i, mode="clip")
    fp0, fp1 = take(fp, subtract(i, 1), mode="clip"), take(fp, i, mode="clip")
    df, dx, delta = subtract(fp1, fp0), subtract(xp1, xp0), subtract(x, xp0)
    eps = float(np.spacing(np.finfo(dtype_of(xp)).eps))
    dx0 = less_equal(absolute(dx), eps)
    f = where(dx0, fp0, add(fp0, multiply(divide(delta, where(dx0, 1.0, dx)), df)))
    if period is None:
        if not extrapolate[0]:
            f = where(less(x, _at(xp, 0)), _at(fp, 0) if left is None else left, f)
        if not extrapolate[1]:
            f = where(greater(x, _at(xp, n - 1)), _at(fp, n - 1) if right is None else right, f)
    return f


def _at(v, i: int):
    """`v[i]` of a 1-D array, as a 0-d array."""
    return lax.reshape(lax.slice(v, (i,), (i + 1,)), ())


def digitize(x, bins, right=False):
    """Indices (int32, as JAX) of the bins each `x` falls in (bins increasing or decreasing)."""
    x = asarray(x, "digitize")
    bins = asarray(bins, "digitize")
    if len(shape_of(bins)) != 1:
        raise ValueError(f"jnp.digitize: bins must be 1-D, got shape {shape_of(bins)}")
    n = shape_of(bins)[0]
    side = "left" if right else "right"
    if n == 0:
        return filled(x, 0, dtypes.int32)
    inc = searchsorted(bins, x, side=side)
    dec = subtract(n, searchsorted(lax.rev(bins, (0,)), x, side=side))
    increasing = lax.ge(_at(bins, n - 1), _at(bins, 0))
    return where(increasing, inc, dec)


def polyval(p, x):
    """The polynomial with coefficients `p` (highest power first) at `x` (Horner's scheme)."""
    p = asarray(p, "polyval")
    x = asarray(x, "polyval")
    p, x = promote_dtypes("polyval", p, x)
    if len(shape_of(p)) != 1:
        raise ValueError(f"jnp.polyval: p must be 1-D, got shape {shape_of(p)}")
    y = filled(x, 0)
    for k in range(shape_of(p)[0]):
        y = add(multiply(y, x), _at(p, k))
    return y
