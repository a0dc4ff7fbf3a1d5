"""jaxlite.scipy.special and lax's special-function primitives: values against SciPy, dtypes,
gradients by finite differences, jit against eager on the same jaxpr, vmap against a loop, and
the errors JAX raises."""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.scipy import special as S
from jaxlite.test_util import check_grads

sp = pytest.importorskip("scipy.special")

X = np.linspace(-4.7, 6.3, 23)
POS = np.linspace(0.3, 9.1, 12)
P01 = np.linspace(0.02, 0.98, 13)

# name -> (jaxlite function, SciPy function, inputs)
UNARY = {
    "erf": (S.erf, sp.erf, X), "erfc": (S.erfc, sp.erfc, X), "erfinv": (S.erfinv, sp.erfinv, P01),
    "gammaln": (S.gammaln, sp.gammaln, X), "digamma": (S.digamma, sp.digamma, X),
    "gamma": (S.gamma, sp.gamma, X), "gammasgn": (S.gammasgn, sp.gammasgn, X),
    "expit": (S.expit, sp.expit, X), "logit": (S.logit, sp.logit, P01),
    "ndtr": (S.ndtr, sp.ndtr, X), "ndtri": (S.ndtri, sp.ndtri, P01),
    "log_ndtr": (S.log_ndtr, sp.log_ndtr, np.array([-60.0, -25.0, -12.0, -3.0, 0.0, 4.0, 9.0])),
    "entr": (S.entr, sp.entr, X), "i0": (S.i0, sp.i0, X), "i0e": (S.i0e, sp.i0e, X),
    "i1": (S.i1, sp.i1, X), "i1e": (S.i1e, sp.i1e, X),
    "factorial": (S.factorial, lambda n: sp.factorial(n, exact=False), POS),
}  # fmt: skip
BINARY = {
    "xlogy": (S.xlogy, sp.xlogy), "xlog1py": (S.xlog1py, sp.xlog1py),
    "gammainc": (S.gammainc, sp.gammainc), "gammaincc": (S.gammaincc, sp.gammaincc),
    "betaln": (S.betaln, sp.betaln), "beta": (S.beta, sp.beta),
    "rel_entr": (S.rel_entr, sp.rel_entr), "kl_div": (S.kl_div, sp.kl_div),
    "zeta": (lambda s, q: S.zeta(s + 1.0, q), lambda s, q: sp.zeta(s + 1.0, q)),
}  # fmt: skip


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_against_scipy(name):
    f, ref, x = UNARY[name]
    np.testing.assert_allclose(np.asarray(f(x)), ref(x), rtol=1e-9, atol=1e-12)
    x32 = x.astype(np.float32)
    out = f(x32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.asarray(out), ref(x), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_against_scipy(name):
    f, ref = BINARY[name]
    a, b = np.meshgrid(POS, np.concatenate([POS, [0.0]]))
    np.testing.assert_allclose(np.asarray(f(a, b)), ref(a, b), rtol=1e-9, atol=1e-12)


def test_betainc_multigammaln_polygamma_against_scipy():
    a, b = np.meshgrid(POS, POS)
    for x in (0.05, 0.5, 0.93):
        np.testing.assert_allclose(np.asarray(S.betainc(a, b, x)), sp.betainc(a, b, x), rtol=1e-9)
    np.testing.assert_allclose(np.asarray(S.multigammaln(POS + 2, 3)), sp.multigammaln(POS + 2, 3))
    n = np.arange(4)[:, None]
    np.testing.assert_allclose(np.asarray(S.polygamma(n, POS)), sp.polygamma(n, POS), rtol=1e-9)


def test_logsumexp_against_scipy():
    a = np.array([[1.0, -np.inf, 3.0], [-np.inf, -np.inf, -np.inf], [1000.0, 1000.0, 0.5]])
    b = np.array([1.0, -2.0, 0.5])
    for kw in ({}, {"axis": 1}, {"axis": 0, "keepdims": True}, {"axis": (0, 1)}):
        np.testing.assert_allclose(np.asarray(S.logsumexp(a, **kw)), sp.logsumexp(a, **kw))
    got = S.logsumexp(a, axis=1, b=b, return_sign=True)
    want = sp.logsumexp(a, axis=1, b=b, return_sign=True)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), w)
    assert np.isnan(np.asarray(S.logsumexp(np.array([0.0, 1.0]), b=np.array([1.0, -2.0]))))
    where = np.array([[True, False, True], [False, True, True], [True, True, False]])
    want = sp.logsumexp(np.where(where, a, -np.inf), axis=1)
    np.testing.assert_allclose(np.asarray(S.logsumexp(a, axis=1, where=where)), want)
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(np.asarray(S.softmax(x, axis=1)), sp.softmax(x, axis=1))
    np.testing.assert_allclose(np.asarray(S.log_softmax(x)), sp.log_softmax(x))


def test_dtypes_follow_jax():
    assert S.gammaln(3).dtype == jnp.zeros(()).dtype  # the default float
    assert S.gammaln(np.int32(3)).dtype == np.float32
    assert S.xlogy(np.float32(2), 3.0).dtype == np.float32
    assert S.logsumexp(np.arange(3, dtype=np.int32)).dtype == np.float32
    assert lax.lgamma(np.float32(2.5)).dtype == np.float32


def test_special_values():
    assert np.isnan(np.asarray(S.digamma(np.array([0.0, -1.0, -2.0])))).all()  # as JAX
    np.testing.assert_array_equal(np.asarray(S.gammaln(np.array([0.0, -1.0, np.inf]))), np.inf)
    np.testing.assert_array_equal(
        np.asarray(S.gammainc(np.array([0.0, 1.0, -1.0, 1.0]), np.array([1.0, 0.0, 1.0, -1.0]))),
        [1.0, 0.0, np.nan, np.nan],
    )
    np.testing.assert_array_equal(
        np.asarray(S.ndtri(np.array([0.0, 1.0, 1.5]))), [-np.inf, np.inf, np.nan]
    )
    np.testing.assert_allclose(
        np.asarray(S.ndtri(np.array([1e-300, 1e-20]))), sp.ndtri([1e-300, 1e-20])
    )


GRADS = {
    "gammaln": (S.gammaln, (np.array([0.7, 2.5, -1.5]),)),
    "digamma": (S.digamma, (np.array([0.7, 2.5, -1.5]),)),
    "erfc": (S.erfc, (np.array([-0.7, 0.2, 1.5]),)),
    "i0e": (S.i0e, (np.array([-0.7, 0.2, 9.5]),)),
    "i1e": (S.i1e, (np.array([-0.7, 0.2, 9.5]),)),
    "ndtri": (S.ndtri, (np.array([0.1, 0.5, 0.8]),)),
    "log_ndtr": (S.log_ndtr, (np.array([-30.0, -3.0, 0.5, 9.0]),)),
    "logit": (S.logit, (np.array([0.1, 0.5, 0.8]),)),
    "xlogy": (S.xlogy, (np.array([0.5, 2.0]), np.array([1.5, 3.0]))),
    "gammainc_x": (lambda x: S.gammainc(2.5, x), (np.array([0.5, 2.0, 7.0]),)),
    "gammainc_a": (lambda a: S.gammainc(a, 3.0), (np.array([0.7, 2.5, 9.0]),), 1),
    "gammaincc_a": (lambda a: S.gammaincc(a, 0.4), (np.array([0.7, 2.5, 9.0]),), 1),
    "gammaincc_x": (lambda x: S.gammaincc(2.5, x), (np.array([0.5, 2.0, 7.0]),)),
    "betainc_x": (lambda x: S.betainc(2.5, 1.5, x), (np.array([0.2, 0.6]),)),
    "zeta": (S.zeta, (np.array([2.5, 3.0]), np.array([0.7, 2.0]))),
    "polygamma": (lambda x: S.polygamma(2, x), (np.array([0.7, 2.0]),)),
    "logsumexp": (lambda a, b: S.logsumexp(a, axis=1, b=b), (np.ones((2, 3)), np.full(3, 0.7))),
    "entr": (S.entr, (np.array([0.3, 2.0]),)),
}  # fmt: skip


@pytest.mark.parametrize("name", list(GRADS))
def test_grads_by_finite_differences(name):
    f, args, *order = GRADS[name]
    check_grads(f, args, order=order[0] if order else 2, rtol=1e-5, atol=1e-6)


def test_derivatives_jax_does_not_have_raise():
    with pytest.raises(NotImplementedError, match="igamma_grad_a"):
        jaxlite.grad(jaxlite.grad(S.gammainc))(2.0, 1.0)  # no second derivative in a, as JAX
    with pytest.raises(ValueError, match="with respect to a and b"):
        jaxlite.grad(S.betainc)(2.0, 1.0, 0.3)
    with pytest.raises(ValueError, match="integer type"):
        S.polygamma(1.0, 2.0)
    with pytest.raises(NotImplementedError, match="Riemann"):
        S.zeta(2.0)
    with pytest.raises(TypeError, match="igamma"):
        lax.igamma(np.float32(1), np.float64(1))
    with pytest.raises(TypeError, match="lgamma"):
        lax.lgamma(np.int32(1))


def _all_special(x, a):
    # Every special-function primitive (regularized_incomplete_beta is lax.betainc's).
    return (lax.lgamma(x), lax.digamma(x), lax.erfc(x), lax.bessel_i0e(x), lax.bessel_i1e(x),
            lax.igamma(a, x), lax.igammac(a, x), lax.zeta(a + 1.0, x), S.logsumexp(x),
            lax.betainc(a, x, x / (x + 1.0)), lax.igamma_grad_a(a, x))  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_jit_matches_eager(dtype):
    x = np.array([0.3, 1.7, 4.5, 11.0, 0.01], dtype)
    a = np.array([0.5, 2.0, 3.5, 1.0, 7.0], dtype)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    for e, j in zip(_all_special(x, a), jaxlite.jit(_all_special)(x, a)):
        np.testing.assert_allclose(np.asarray(j), np.asarray(e), rtol=tol, atol=tol)


def test_vmap_matches_a_loop():
    x = np.array([[0.3, 1.7, 4.5], [11.0, 0.01, 2.0]])
    a = np.array([0.5, 2.0])
    got = jaxlite.vmap(lambda x, a: lax.igamma(a, x) + S.gammaln(x) + S.logsumexp(x))(x, a)
    want = [lax.igamma(a[i], x[i]) + S.gammaln(x[i]) + S.logsumexp(x[i]) for i in range(2)]
    np.testing.assert_allclose(np.asarray(got), np.stack([np.asarray(w) for w in want]))


def test_jaxlite_scipy_is_lazy_and_complete():
    import importlib

    assert jaxlite.scipy.special is S
    assert jaxlite.scipy.stats.norm.logpdf(0.0).dtype == jnp.zeros(()).dtype
    with pytest.raises(AttributeError):
        jaxlite.scipy.no_such_module  # noqa: B018
    assert importlib.import_module("jaxlite.scipy.special") is S
