"""`jaxlite.scipy.integrate`: the trapezoidal rule (jax.scipy.integrate.trapezoid)."""

from __future__ import annotations

from jaxlite.numpy._statistics import trapezoid as _trapezoid

__all__ = ["trapezoid"]


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of `y` along `axis` by the trapezoidal rule, at sample points `x` (same length
    as `y` along `axis`, or broadcastable to `y`) or with spacing `dx`.

    Example:
      >>> trapezoid(jnp.array([1.0, 2.0, 3.0]))
      Array(4., dtype=float64)
    """
    return _trapezoid(y, x=x, dx=dx, axis=axis)
