"""The normal distribution truncated to [a, b] (in units of scale, around loc), as
`jax.scipy.stats.truncnorm`; the mass of [a, b] is computed in log space from the side of
the distribution where it does not cancel."""

from __future__ import annotations

from jaxlite import numpy as jnp
from jaxlite.scipy import special
from jaxlite.scipy.stats import norm
from jaxlite.scipy.stats._common import declare, promote

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]


def _log_diff(x, y):
    return x + jnp.log1p(-jnp.exp(y - x))  # log(e^x - e^y) for x >= y


def _log_gauss_mass(a, b):
    """log(Phi(b) - Phi(a))."""
    a, b = jnp.broadcast_arrays(a, b)
    left = b <= 0
    right = a > 0
    in_left = _log_diff(special.log_ndtr(b), special.log_ndtr(a))
    in_right = _log_diff(special.log_ndtr(-a), special.log_ndtr(-b))
    central = jnp.log1p(-special.ndtr(a) - special.ndtr(-b))
    return jnp.where(left, in_left, jnp.where(right, in_right, central))


def logpdf(x, a, b, loc=0, scale=1):
    x, a, b, loc, scale = promote("truncnorm.logpdf", x, a, b, loc, scale)
    val = norm.logpdf(x, loc, scale) - _log_gauss_mass(a, b)
    z = (x - loc) / scale
    val = jnp.where((z < a) | (z > b), -jnp.inf, val)
    return jnp.where(a >= b, jnp.nan, val)


def pdf(x, a, b, loc=0, scale=1):
    return jnp.exp(logpdf(x, a, b, loc, scale))


def logsf(x, a, b, loc=0, scale=1):
    x, a, b, loc, scale = promote("truncnorm.logsf", x, a, b, loc, scale)
    x, a, b = jnp.broadcast_arrays(x, a, b)
    z = (x - loc) / scale
    val = _log_gauss_mass(z, b) - _log_gauss_mass(a, b)
    val = jnp.where(z >= b, -jnp.inf, jnp.where(z <= a, 0, val))
    return jnp.where(a >= b, jnp.nan, val)


def sf(x, a, b, loc=0, scale=1):
    return jnp.exp(logsf(x, a, b, loc, scale))


def logcdf(x, a, b, loc=0, scale=1):
    x, a, b, loc, scale = promote("truncnorm.logcdf", x, a, b, loc, scale)
    x, a, b = jnp.broadcast_arrays(x, a, b)
    z = (x - loc) / scale
    val = _log_gauss_mass(a, z) - _log_gauss_mass(a, b)
    val = jnp.where(z >= b, 0, jnp.where(z <= a, -jnp.inf, val))
    return jnp.where(a >= b, jnp.nan, val)


def cdf(x, a, b, loc=0, scale=1):
    return jnp.exp(logcdf(x, a, b, loc, scale))


declare("truncnorm", globals(), __all__)
