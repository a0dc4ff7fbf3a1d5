"""The geometric distribution (trials up to the first success), as `jax.scipy.stats.geom`."""

from __future__ import annotations

from jaxlite import numpy as jnp
from jaxlite.scipy import special
from jaxlite.scipy.stats._common import declare, promote

__all__ = ["logpmf", "pmf"]


def logpmf(k, p, loc=0):
    k, p, loc = promote("geom.logpmf", k, p, loc)
    x = k - loc
    log_probs = special.xlog1py(x - 1, -p) + jnp.log(p)
    return jnp.where(x <= 0, -jnp.inf, log_probs)


def pmf(k, p, loc=0):
    return jnp.exp(logpmf(k, p, loc))


declare("geom", globals(), __all__)
