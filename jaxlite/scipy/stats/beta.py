"""The beta distribution, as `jax.scipy.stats.beta`."""

from __future__ import annotations

from jaxlite import lax
from jaxlite import numpy as jnp
from jaxlite.scipy import special
from jaxlite.scipy.stats._common import declare, promote

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]


def logpdf(x, a, b, loc=0, scale=1):
    x, a, b, loc, scale = promote("beta.logpdf", x, a, b, loc, scale)
    y = (x - loc) / scale
    log_linear = special.xlogy(a - 1, y) + special.xlog1py(b - 1, -y)
    log_probs = log_linear - special.betaln(a, b) - jnp.log(scale)
    return jnp.where((x > loc + scale) | (x < loc), -jnp.inf, log_probs)


def pdf(x, a, b, loc=0, scale=1):
    return jnp.exp(logpdf(x, a, b, loc, scale))


def _y(name, x, a, b, loc, scale):
    x, a, b, loc, scale = promote(name, x, a, b, loc, scale)
    return a, b, jnp.clip((x - loc) / scale, 0, 1)


def cdf(x, a, b, loc=0, scale=1):
    return lax.betainc(*_y("beta.cdf", x, a, b, loc, scale))


def logcdf(x, a, b, loc=0, scale=1):
    return jnp.log(lax.betainc(*_y("beta.logcdf", x, a, b, loc, scale)))


def sf(x, a, b, loc=0, scale=1):
    a, b, y = _y("beta.sf", x, a, b, loc, scale)
    return lax.betainc(b, a, 1 - y)


def logsf(x, a, b, loc=0, scale=1):
    a, b, y = _y("beta.logsf", x, a, b, loc, scale)
    return jnp.log(lax.betainc(b, a, 1 - y))


declare("beta", globals(), __all__)
