"""jaxlite.scipy.stats: every method of every distribution against scipy.stats, JAX's dtype
rules, gradients by finite differences, jit against eager, vmap against a loop, and errors."""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
from jaxlite.scipy import stats as S
from jaxlite.test_util import check_grads

ss = pytest.importorskip("scipy.stats")

X = np.linspace(-2.9, 4.3, 11)
U = np.linspace(0.03, 0.97, 9)

# distribution -> (shape parameters, x values, methods); loc = 0.3, scale = 1.7 on a second run
CONTINUOUS = {
    "norm": ((), X, ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")),
    "t": ((3.5,), X, ("logpdf", "pdf")),
    "gamma": ((2.5,), X, ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")),
    "chi2": ((3.0,), X, ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")),
    "beta": ((2.5, 1.5), U * 2.4 - 0.2, ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")),
    "uniform": ((), X, ("logpdf", "pdf", "cdf", "ppf")),
    "laplace": ((), X, ("logpdf", "pdf", "cdf")),
    "logistic": ((), X, ("logpdf", "pdf", "cdf", "sf", "ppf", "isf")),
    "cauchy": ((), X, ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")),
    "expon": ((), X, ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf")),
    "pareto": ((2.5,), X, ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf")),
    "truncnorm": ((-0.7, 1.9), X, ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")),
}
CASES = [(d, m) for d, (_, _, ms) in CONTINUOUS.items() for m in ms]


@pytest.mark.parametrize("dist,method", CASES, ids=[f"{d}.{m}" for d, m in CASES])
def test_continuous_against_scipy(dist, method):
    shape, x, _ = CONTINUOUS[dist]
    if method in ("ppf", "isf"):
        x = U
    f = getattr(getattr(S, dist), method)
    ref = getattr(getattr(ss, dist), method)
    with np.errstate(divide="ignore", invalid="ignore"):
        for loc_scale in ((), (0.3, 1.7)):
            want = ref(x, *shape, *loc_scale)
            np.testing.assert_allclose(
                np.asarray(f(x, *shape, *loc_scale)), want, rtol=1e-9, atol=1e-12
            )
        got32 = f(x.astype(np.float32), *shape)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(np.asarray(got32), ref(x, *shape), rtol=2e-4, atol=1e-5)


@pytest.mark.filterwarnings("ignore:expect")  # SciPy's entropy sum at large mu
def test_discrete_against_scipy():
    k = np.arange(-1.0, 9.0)
    with np.errstate(divide="ignore"):
        for m in ("logpmf", "pmf"):
            np.testing.assert_allclose(
                np.asarray(getattr(S.poisson, m)(k, 3.5)), getattr(ss.poisson, m)(k, 3.5)
            )
            np.testing.assert_allclose(
                np.asarray(getattr(S.poisson, m)(k, 3.5, 1)), getattr(ss.poisson, m)(k, 3.5, 1)
            )
            np.testing.assert_allclose(
                np.asarray(getattr(S.binom, m)(k, 7, 0.3)), getattr(ss.binom, m)(k, 7, 0.3)
            )
            np.testing.assert_allclose(
                np.asarray(getattr(S.geom, m)(k, 0.3)), getattr(ss.geom, m)(k, 0.3)
            )
            np.testing.assert_allclose(
                np.asarray(getattr(S.bernoulli, m)(k, 0.3)), getattr(ss.bernoulli, m)(k, 0.3)
            )
    np.testing.assert_allclose(np.asarray(S.poisson.cdf(k, 3.5)), ss.poisson.cdf(k, 3.5))
    np.testing.assert_allclose(np.asarray(S.bernoulli.cdf(k, 0.3)), ss.bernoulli.cdf(k, 0.3))
    np.testing.assert_allclose(np.asarray(S.bernoulli.ppf(U, 0.3)), ss.bernoulli.ppf(U, 0.3))
    mu = np.array([0.5, 3.0, 40.0, 99.0, 150.0, 400.0])
    np.testing.assert_allclose(np.asarray(S.poisson.entropy(mu)), ss.poisson.entropy(mu), rtol=1e-9)


def test_multivariate_against_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 3))
    cov, mean, x = a @ a.T + np.eye(3), rng.normal(size=3), rng.normal(size=(5, 3))
    want = ss.multivariate_normal.logpdf(x, mean, cov)
    np.testing.assert_allclose(np.asarray(S.multivariate_normal.logpdf(x, mean, cov)), want)
    np.testing.assert_allclose(np.asarray(S.multivariate_normal.pdf(x, mean, cov)), np.exp(want))
    want = ss.multivariate_normal.logpdf(x, mean, 2.0)
    np.testing.assert_allclose(np.asarray(S.multivariate_normal.logpdf(x, mean, 2.0)), want)
    np.testing.assert_allclose(
        np.asarray(S.multivariate_normal.logpdf(x[:, 0], 0.5, 2.0)),
        ss.norm.logpdf(x[:, 0], 0.5, np.sqrt(2.0)),
    )
    alpha = np.array([1.5, 2.0, 0.7])
    p = np.array([[0.2, 0.5], [0.3, 0.1], [0.5, 0.4]])
    np.testing.assert_allclose(
        np.asarray(S.dirichlet.logpdf(p, alpha)), ss.dirichlet.logpdf(p, alpha)
    )
    np.testing.assert_allclose(
        np.asarray(S.dirichlet.pdf(p[:2, 0], alpha)), ss.dirichlet.pdf(p[:, 0], alpha)
    )


def test_errors():
    with pytest.raises(ValueError, match="incompatible shapes"):
        S.multivariate_normal.logpdf(np.zeros(3), np.zeros(3), np.eye(2))
    with pytest.raises(ValueError, match="one-dimensional"):
        S.dirichlet.logpdf(np.full(2, 0.5), np.ones((2, 2)))
    with pytest.raises(ValueError, match="one entry fewer"):
        S.dirichlet.logpdf(np.full(5, 0.2), np.ones(3))


GRADS = {
    "norm.logpdf": (S.norm.logpdf, (X[:4], 0.3, 1.7)),
    "norm.logcdf": (S.norm.logcdf, (np.array([-30.0, -2.0, 1.0]),)),
    "t.logpdf": (S.t.logpdf, (X[:4], 3.5, 0.3, 1.7)),
    "gamma.logpdf": (S.gamma.logpdf, (np.array([0.5, 2.0]), 2.5)),
    "beta.logpdf": (S.beta.logpdf, (np.array([0.2, 0.7]), 2.5, 1.5)),
    "truncnorm.logpdf": (S.truncnorm.logpdf, (np.array([0.2, 0.7]), -1.0, 2.0)),
    "mvn.logpdf": (S.multivariate_normal.logpdf, (np.ones((2, 2)), np.zeros(2), np.array([[2.0, 0.3], [0.3, 1.0]]))),
    "poisson.logpmf": (lambda mu: S.poisson.logpmf(np.arange(4.0), mu), (np.array(2.5),)),
    "dirichlet.logpdf": (S.dirichlet.logpdf, (np.array([0.2, 0.5]), np.array([1.5, 2.0, 0.7]))),
}  # fmt: skip


@pytest.mark.parametrize("name", list(GRADS))
def test_grads_by_finite_differences(name):
    f, args = GRADS[name]
    check_grads(f, args, order=2, rtol=1e-5, atol=1e-6)


def _many(x):
    return (S.norm.logpdf(x, 0.5, 2.0), S.norm.cdf(x), S.t.logpdf(x, 4.0), S.gamma.cdf(x, 2.0),
            S.logistic.logpdf(x), S.cauchy.logsf(x), S.expon.logcdf(x + 3.0),
            S.poisson.logpmf(x + 3.0, 2.0), S.truncnorm.logpdf(x, -1.0, 1.0))  # fmt: skip


def test_jit_and_vmap_match_eager():
    x = np.array([[-0.7, 0.2, 1.5], [2.0, -2.5, 0.0]])
    eager = _many(x)
    for got, want in zip(jaxlite.jit(_many)(x), eager):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-12)
    for got, want in zip(jaxlite.vmap(_many)(x), eager):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-12)
