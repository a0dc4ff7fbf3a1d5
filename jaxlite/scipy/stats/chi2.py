"""The chi-squared distribution with `df` degrees of freedom, as `jax.scipy.stats.chi2`."""

from __future__ import annotations

import math

from jaxlite import lax
from jaxlite import numpy as jnp
from jaxlite.scipy.stats._common import declare, promote

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]


def logpdf(x, df, loc=0, scale=1):
    x, df, loc, scale = promote("chi2.logpdf", x, df, loc, scale)
    y = (x - loc) / scale
    half = df / 2
    kernel = (half - 1) * jnp.log(y) - y / 2
    norm = -(lax.lgamma(half) + df * (math.log(2) / 2))
    return jnp.where(x < loc, -jnp.inf, norm - jnp.log(scale) + kernel)


def pdf(x, df, loc=0, scale=1):
    return jnp.exp(logpdf(x, df, loc, scale))


def _args(name, x, df, loc, scale):
    x, df, loc, scale = promote(name, x, df, loc, scale)
    return df / 2, jnp.clip((x - loc) / scale / 2, 0, None)


def cdf(x, df, loc=0, scale=1):
    return lax.igamma(*_args("chi2.cdf", x, df, loc, scale))


def logcdf(x, df, loc=0, scale=1):
    return jnp.log(lax.igamma(*_args("chi2.logcdf", x, df, loc, scale)))


def sf(x, df, loc=0, scale=1):
    return lax.igammac(*_args("chi2.sf", x, df, loc, scale))


def logsf(x, df, loc=0, scale=1):
    return jnp.log(lax.igammac(*_args("chi2.logsf", x, df, loc, scale)))


declare("chi2", globals(), __all__)
