"""The binomial distribution of `n` trials with success probability `p`, as
`jax.scipy.stats.binom`."""

from __future__ import annotations

from jaxlite import lax
from jaxlite import numpy as jnp
from jaxlite.scipy import special
from jaxlite.scipy.stats._common import declare, promote

__all__ = ["logpmf", "pmf"]


def logpmf(k, n, p, loc=0):
    k, n, p, loc = promote("binom.logpmf", k, n, p, loc)
    y = k - loc
    comb = lax.lgamma(n + 1) - lax.lgamma(y + 1) - lax.lgamma(n - y + 1)
    log_probs = comb + special.xlogy(y, p) + special.xlog1py(n - y, -p)
    return jnp.where((y >= 0) & (y <= n), log_probs, -jnp.inf)


def pmf(k, n, p, loc=0):
    return jnp.exp(logpmf(k, n, p, loc))


declare("binom", globals(), __all__)
