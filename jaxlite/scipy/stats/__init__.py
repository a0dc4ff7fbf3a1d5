"""`jaxlite.scipy.stats`: JAX's `jax.scipy.stats` distributions, one module each
(`stats.norm.logpdf(x, loc, scale)`), with JAX's argument conventions and dtype rules."""

from jaxlite.scipy.stats import (  # noqa: F401
    bernoulli,
    beta,
    binom,
    cauchy,
    chi2,
    dirichlet,
    expon,
    gamma,
    geom,
    laplace,
    logistic,
    multivariate_normal,
    norm,
    pareto,
    poisson,
    t,
    truncnorm,
    uniform,
)

__all__: list[str] = []  # submodules only
