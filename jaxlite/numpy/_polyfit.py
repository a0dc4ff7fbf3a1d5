"""jnp.polyfit: least-squares polynomial fit (JAX's algorithm: a column-scaled Vandermonde
matrix solved by lstsq, with `w`, `full` and `cov` as NumPy and JAX)."""

from __future__ import annotations

import numpy as np

from jaxlite import primitives as lax
from jaxlite.core import Tracer
from jaxlite.numpy import _reductions as red
from jaxlite.numpy._creation import array
from jaxlite.numpy._dot import matmul, outer
from jaxlite.numpy._linalg_jacobi import lstsq
from jaxlite.numpy._shape import atleast_1d, expand_dims, matrix_transpose
from jaxlite.numpy._ufuncs import divide, multiply, power, sqrt
from jaxlite.numpy.linalg import inv
from jaxlite.numpy._util import asarray, convert, dtype_of, promote_dtypes_inexact, shape_of


def _vander(x, order: int):
    """Columns x**(order-1), ..., x**0 (jnp.vander's order)."""
    dt = dtype_of(x)
    powers = lax.sub(convert(order - 1, dt), lax.iota(dt, order))
    return power(expand_dims(x, -1), powers)


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """jnp.polyfit: coefficients (highest power first) of the degree-`deg` polynomial that best
    fits `y` at `x` in least squares (one fit per column of a 2-D `y`).

    full=True returns (coefficients, residuals, rank, singular values, rcond); cov=True returns
    (coefficients, covariance), the covariance scaled by residuals / (len(x) - deg - 1) unless
    cov='unscaled'."""
    if isinstance(deg, Tracer):
        raise TypeError("jnp.polyfit: deg must be a static int, got a traced value")
    deg = int(deg)
    order = deg + 1
    if deg < 0:
        raise ValueError("jnp.polyfit: expected deg >= 0")
    x, y = asarray(x, "polyfit"), asarray(y, "polyfit")
    if len(shape_of(x)) != 1:
        raise TypeError("jnp.polyfit: expected 1D vector for x")
    if shape_of(x)[0] == 0:
        raise TypeError("jnp.polyfit: expected non-empty vector for x")
    if not 1 <= len(shape_of(y)) <= 2:
        raise TypeError("jnp.polyfit: expected 1D or 2D array for y")
    if shape_of(x)[0] != shape_of(y)[0]:
        raise TypeError("jnp.polyfit: expected x and y to have same length")
    x, y = promote_dtypes_inexact("polyfit", x, y)
    n = shape_of(x)[0]
    if rcond is None:
        rcond = n * float(np.finfo(dtype_of(x)).eps)
    if isinstance(rcond, Tracer):
        raise TypeError("jnp.polyfit: rcond must be a static float, got a traced value")
    rcond = float(rcond)
    lhs, rhs = _vander(x, order), y
    if w is not None:
        (w,) = promote_dtypes_inexact("polyfit", asarray(w, "polyfit"))
        if len(shape_of(w)) != 1:
            raise TypeError("jnp.polyfit: expected a 1-d array for weights")
        if shape_of(w)[0] != shape_of(y)[0]:
            raise TypeError("jnp.polyfit: expected w and y to have the same length")
        lhs = multiply(lhs, expand_dims(w, -1))
        rhs = multiply(rhs, expand_dims(w, -1) if len(shape_of(rhs)) == 2 else w)
    scale = sqrt(red.sum(multiply(lhs, lhs), axis=0))
    lhs = divide(lhs, expand_dims(scale, 0))
    c, resids, rank, s = lstsq(lhs, rhs, rcond)
    c = divide(c, expand_dims(scale, -1) if len(shape_of(c)) > 1 else scale)
    if full:
        return c, resids, rank, s, array(rcond)
    if cov:
        vbase = divide(inv(matmul(matrix_transpose(lhs), lhs)), outer(scale, scale))
        if isinstance(cov, str) and cov == "unscaled":
            fac = array(1.0)
        else:
            if n <= order:
                raise ValueError(
                    "jnp.polyfit: the number of data points must exceed order to scale the covariance matrix"
                )
            fac = divide(resids, n - order)
        if len(shape_of(y)) == 1:
            return c, multiply(vbase, expand_dims(atleast_1d(fac), 0))
        return c, multiply(expand_dims(vbase, -1), expand_dims(atleast_1d(fac), (0, 1)))
    return c
