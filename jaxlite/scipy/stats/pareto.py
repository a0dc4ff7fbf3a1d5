"""The Pareto distribution with shape `b` on [loc + scale, inf), as `jax.scipy.stats.pareto`."""

from __future__ import annotations

from jaxlite import numpy as jnp
from jaxlite.scipy.stats._common import declare, promote

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]


def _z(name, x, b, loc, scale):
    x, b, loc, scale = promote(name, x, b, loc, scale)
    return x, b, loc, scale, (x - loc) / scale


def logpdf(x, b, loc=0, scale=1):
    x, b, loc, scale, z = _z("pareto.logpdf", x, b, loc, scale)
    log_probs = -(b + 1) * jnp.log(z) - jnp.log(scale / b)
    return jnp.where(x < loc + scale, -jnp.inf, log_probs)


def pdf(x, b, loc=0, scale=1):
    return jnp.exp(logpdf(x, b, loc, scale))


def logsf(x, b, loc=0, scale=1):
    x, b, loc, scale, z = _z("pareto.logsf", x, b, loc, scale)
    return jnp.where(z < 1, 0, -b * jnp.log(z))


def sf(x, b, loc=0, scale=1):
    return jnp.exp(logsf(x, b, loc, scale))


def logcdf(x, b, loc=0, scale=1):
    x, b, loc, scale, z = _z("pareto.logcdf", x, b, loc, scale)
    return jnp.where(z < 1, -jnp.inf, jnp.log1p(-(z**-b)))


def cdf(x, b, loc=0, scale=1):
    x, b, loc, scale, z = _z("pareto.cdf", x, b, loc, scale)
    return jnp.where(z < 1, 0, -jnp.expm1(-b * jnp.log(z)))


def ppf(q, b, loc=0, scale=1):
    q, b, loc, scale = promote("pareto.ppf", q, b, loc, scale)
    out = scale * (1 - q) ** (-1 / b) + loc
    return jnp.where(jnp.isnan(q) | (q < 0) | (q >= 1), jnp.nan, out)


declare("pareto", globals(), __all__)
