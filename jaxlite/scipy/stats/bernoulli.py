"""The Bernoulli distribution with success probability `p`, as `jax.scipy.stats.bernoulli`."""

from __future__ import annotations

from jaxlite import numpy as jnp
from jaxlite.scipy import special
from jaxlite.scipy.stats._common import declare, promote

__all__ = ["cdf", "logpmf", "pmf", "ppf"]


def logpmf(k, p, loc=0):
    k, p, loc = promote("bernoulli.logpmf", k, p, loc)
    x = k - loc
    log_probs = special.xlogy(x, p) + special.xlog1py(1 - x, -p)
    return jnp.where((x < 0) | (x > 1), -jnp.inf, log_probs)


def pmf(k, p, loc=0):
    return jnp.exp(logpmf(k, p, loc))


def _bad_p(p):
    return jnp.isnan(p) | (p < 0) | (p > 1)


def cdf(k, p):
    k, p = promote("bernoulli.cdf", k, p)
    out = jnp.where(k < 0, 0, jnp.where(k < 1, 1 - p, 1))
    return jnp.where(jnp.isnan(k) | _bad_p(p), jnp.nan, out)


def ppf(q, p):
    q, p = promote("bernoulli.ppf", q, p)
    out = jnp.where(q <= 1 - p, jnp.zeros_like(q), jnp.ones_like(q))
    return jnp.where(jnp.isnan(q) | _bad_p(p) | (q < 0) | (q > 1), jnp.nan, out)


declare("bernoulli", globals(), __all__)
