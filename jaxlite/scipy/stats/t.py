"""Student's t distribution, as `jax.scipy.stats.t`."""

from __future__ import annotations

import math

from jaxlite import lax
from jaxlite import numpy as jnp
from jaxlite.scipy.stats._common import declare, promote

__all__ = ["logpdf", "pdf"]


def logpdf(x, df, loc=0, scale=1):
    x, df, loc, scale = promote("t.logpdf", x, df, loc, scale)
    z = (x - loc) / scale
    half_df = df / 2
    norm = (
        lax.lgamma(half_df)
        - lax.lgamma(half_df + 0.5)
        + 0.5 * jnp.log(scale * scale * df * math.pi)
    )
    return -(norm + (half_df + 0.5) * jnp.log1p(z * z / df))


def pdf(x, df, loc=0, scale=1):
    return jnp.exp(logpdf(x, df, loc, scale))


declare("t", globals(), __all__)
