"""The gamma distribution with shape `a`, as `jax.scipy.stats.gamma`."""

from __future__ import annotations

from jaxlite import lax
from jaxlite import numpy as jnp
from jaxlite.scipy import special
from jaxlite.scipy.stats._common import declare, promote

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]


def logpdf(x, a, loc=0, scale=1):
    x, a, loc, scale = promote("gamma.logpdf", x, a, loc, scale)
    y = (x - loc) / scale
    log_probs = special.xlogy(a - 1, y) - y - lax.lgamma(a) - jnp.log(scale)
    return jnp.where(x < loc, -jnp.inf, log_probs)


def pdf(x, a, loc=0, scale=1):
    return jnp.exp(logpdf(x, a, loc, scale))


def _y(name, x, a, loc, scale):
    x, a, loc, scale = promote(name, x, a, loc, scale)
    return a, jnp.clip((x - loc) / scale, 0, None)


def cdf(x, a, loc=0, scale=1):
    return lax.igamma(*_y("gamma.cdf", x, a, loc, scale))


def logcdf(x, a, loc=0, scale=1):
    return jnp.log(lax.igamma(*_y("gamma.logcdf", x, a, loc, scale)))


def sf(x, a, loc=0, scale=1):
    return lax.igammac(*_y("gamma.sf", x, a, loc, scale))


def logsf(x, a, loc=0, scale=1):
    return jnp.log(lax.igammac(*_y("gamma.logsf", x, a, loc, scale)))


declare("gamma", globals(), __all__)
