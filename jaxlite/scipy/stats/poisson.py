"""The Poisson distribution with mean `mu`, as `jax.scipy.stats.poisson`."""

from __future__ import annotations

import math

from jaxlite import lax
from jaxlite import numpy as jnp
from jaxlite.numpy._util import dtype_of
from jaxlite.scipy import special
from jaxlite.scipy.stats._common import declare, promote

__all__ = ["cdf", "entropy", "logpmf", "pmf"]


def logpmf(k, mu, loc=0):
    k, mu, loc = promote("poisson.logpmf", k, mu, loc)
    x = k - loc
    log_probs = special.xlogy(x, mu) - lax.lgamma(x + 1) - mu
    return jnp.where((x < 0) | (jnp.floor(x) != x), -jnp.inf, log_probs)


def pmf(k, mu, loc=0):
    return jnp.exp(logpmf(k, mu, loc))


def cdf(k, mu, loc=0):
    k, mu, loc = promote("poisson.cdf", k, mu, loc)
    x = k - loc
    p = lax.igammac(jnp.floor(1 + x), mu)
    return jnp.where(x < 0, 0, p)


_ENTROPY_TERMS = 300  # the pmf below mu = 100 is negligible beyond k = 300


def entropy(mu, loc=0):
    """`-sum_k p(k) log p(k)`: summed over k < 300 below mu = 100, Stirling's series above;
    `loc` shifts the distribution and leaves its entropy unchanged. NaN for mu <= 0."""
    mu, loc = promote("poisson.entropy", mu, loc)
    mu = mu + jnp.zeros_like(loc)
    small = mu < 100
    m = jnp.where(small, mu, 1.0)
    k = jnp.arange(_ENTROPY_TERMS, dtype=dtype_of(mu))
    me = jnp.expand_dims(m, -1)
    logp = special.xlogy(k, me) - lax.lgamma(k + 1) - me
    summed = -jnp.sum(jnp.exp(logp) * logp, axis=-1)
    big = jnp.where(small, 100.0, mu)
    stirling = (0.5 * jnp.log(2 * math.pi * math.e * big) - 1 / (12 * big)
                - 1 / (24 * big**2) - 19 / (360 * big**3))  # fmt: skip
    return jnp.where(mu > 0, jnp.where(small, summed, stirling), jnp.nan)


declare("poisson", globals(), __all__)
