"""The Dirichlet distribution, as `jax.scipy.stats.dirichlet`: `alpha` is a vector of K
concentrations and `x` has K (or K - 1: the last is 1 minus their sum) entries along axis 0."""

from __future__ import annotations

from jaxlite import lax
from jaxlite import numpy as jnp
from jaxlite.numpy._util import promote_dtypes_inexact, shape_of
from jaxlite.scipy import special
from jaxlite.scipy.stats._common import declare

__all__ = ["logpdf", "pdf"]


def logpdf(x, alpha):
    x, alpha = promote_dtypes_inexact("scipy.stats.dirichlet.logpdf", x, alpha)
    xs, as_ = shape_of(x), shape_of(alpha)
    if len(as_) != 1:
        raise ValueError(f"`alpha` must be one-dimensional; got alpha.shape={as_}")
    if not xs or xs[0] not in (as_[0], as_[0] - 1):
        raise ValueError(
            "`x` must have either the same number of entries as `alpha` or one entry fewer; "
            f"got x.shape={xs}, alpha.shape={as_}"
        )
    if xs[0] != as_[0]:
        x = jnp.concatenate([x, 1 - jnp.sum(x, axis=0, keepdims=True)], axis=0)
    normalizer = jnp.sum(lax.lgamma(alpha)) - lax.lgamma(jnp.sum(alpha))
    alpha = jnp.reshape(alpha, as_ + (1,) * (len(shape_of(x)) - 1))
    log_probs = jnp.sum(special.xlogy(alpha - 1, x), axis=0) - normalizer
    simplex = jnp.all(x > 0, axis=0) & (jnp.abs(jnp.sum(x, axis=0) - 1) < 1e-6)
    return jnp.where(simplex, log_probs, -jnp.inf)


def pdf(x, alpha):
    return jnp.exp(logpdf(x, alpha))


declare("dirichlet", globals(), __all__)
