"""The multivariate normal distribution, as `jax.scipy.stats.multivariate_normal`: a scalar
mean and variance, a vector mean with a scalar variance, or a covariance matrix (through its
Cholesky factor); every argument broadcasts over leading batch dimensions."""

from __future__ import annotations

import math

from jaxlite import numpy as jnp
from jaxlite.numpy._util import promote_dtypes_inexact, shape_of
from jaxlite.scipy.stats._common import declare

__all__ = ["logpdf", "pdf"]
_LOG_2PI = math.log(2 * math.pi)


def logpdf(x, mean, cov, allow_singular=None):
    if allow_singular is not None:
        raise NotImplementedError("allow_singular argument of multivariate_normal.logpdf")
    x, mean, cov = promote_dtypes_inexact("scipy.stats.multivariate_normal.logpdf", x, mean, cov)
    if not shape_of(mean):
        return -0.5 * jnp.square(x - mean) / cov - 0.5 * (_LOG_2PI + jnp.log(cov))
    n = shape_of(mean)[-1]
    y = x - mean
    if not shape_of(cov):
        return -0.5 * jnp.sum(y * y, axis=-1) / cov - 0.5 * n * (_LOG_2PI + jnp.log(cov))
    cs = shape_of(cov)
    if len(cs) < 2 or cs[-2:] != (n, n):
        raise ValueError(
            f"multivariate_normal.logpdf got incompatible shapes: mean {shape_of(mean)} needs a "
            f"covariance of shape (..., {n}, {n}), got {cs}"
        )
    chol = jnp.linalg.cholesky(cov)
    batch = jnp.broadcast_shapes(shape_of(y)[:-1], cs[:-2])
    chol = jnp.broadcast_to(chol, (*batch, n, n))
    y = jnp.broadcast_to(y, (*batch, n))
    z = jnp.linalg.solve(chol, y[..., None])[..., 0]  # L z = y: |z|^2 = y' cov^-1 y
    log_det = jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    return -0.5 * jnp.sum(z * z, axis=-1) - 0.5 * n * _LOG_2PI - log_det


def pdf(x, mean, cov):
    return jnp.exp(logpdf(x, mean, cov))


declare("multivariate_normal", globals(), __all__)
