"""Oracle specs of jaxlite.scipy.special, jaxlite.scipy.stats.* and lax's special-function
primitives (merged into specs.SPECS)."""

from __future__ import annotations

from .harness import FLOATS, Call, Spec

NUMS = ("int32", "float32", "float64")  # integer arguments become floats (promote_args_inexact)
U = [((3, 4),), ("special",), ((),)]


def unary(kind="any", diff=True, dtypes=NUMS, tol=1.0):
    return Spec([Call(lambda f, L, x: f(x), U, kind)], dtypes=dtypes, diff=diff, tol=tol)


def calls(fn, shapes, kind="any", diff=True, dtypes=FLOATS, tol=1.0):
    return Spec([Call(fn, shapes, kind)], dtypes=dtypes, diff=diff, tol=tol)


def pos(L, x):
    return L.numpy.abs(x) + 0.5


def prob(L, x):
    return L.numpy.abs(x) / 1.5  # in [0, 0.6)


SPECS: dict[str, Spec] = {}
_S = "scipy.special."

# --- special: one argument
for _n in ("erf", "erfc", "expit", "i0", "i0e", "i1", "i1e", "ndtr", "log_ndtr", "gammaln",
           "digamma", "gammasgn", "entr"):  # fmt: skip
    SPECS[_S + _n] = unary(diff=_n != "gammasgn")
SPECS[_S + "gamma"] = unary(tol=10.0)
SPECS[_S + "factorial"] = calls(lambda f, L, x: f(x), [((3, 4),)], "pos", diff=False, tol=10.0)
SPECS[_S + "erfinv"] = unary("unit")
SPECS[_S + "logit"] = calls(lambda f, L, x: f(prob(L, x)), [((3, 4),)], "unit")
SPECS[_S + "ndtri"] = calls(lambda f, L, x: f(prob(L, x) + 0.2), [((3, 4),)], "unit", tol=10.0)
SPECS[_S + "multigammaln"] = calls(lambda f, L, x: f(x + 2.0, 3), [((3, 4),), ((),)], "pos")
# --- special: two and three arguments
_B2 = [((3, 4), (3, 4)), ((3, 1), (4,)), ((), ())]
for _n in ("xlogy", "xlog1py", "rel_entr", "kl_div"):
    SPECS[_S + _n] = Spec(
        [Call(lambda f, L, x, y: f(x, y), _B2, "pos"),
         Call(lambda f, L, x, y: f(x, y), [("special", "special")])],
        dtypes=FLOATS, diff=True,
    )  # fmt: skip
for _n in ("gammainc", "gammaincc", "betaln", "beta", "zeta"):
    SPECS[_S + _n] = calls(lambda f, L, a, x: f(a, x), _B2, "pos", tol=10.0)
SPECS[_S + "zeta"] = calls(lambda f, L, s, q: f(s + 1.0, q), _B2, "pos", tol=10.0)
SPECS[_S + "betainc"] = calls(
    lambda f, L, a, b, x: f(a, b, prob(L, x)), [((3, 4), (3, 4), (3, 4))], "pos", tol=10.0
)
SPECS[_S + "polygamma"] = calls(
    lambda f, L, x: f(L.numpy.arange(4).reshape(4, 1), x), [((3,),)], "pos", tol=10.0
)
SPECS[_S + "logsumexp"] = Spec(
    [Call(lambda f, L, x: f(x), [((3, 4),), ("special",), ((),)]),
     Call(lambda f, L, x: f(x, axis=1, keepdims=True), [((3, 4),)]),
     Call(lambda f, L, x, b: f(x, axis=0, b=b), [((3, 4), (3, 4))]),
     Call(lambda f, L, x, b: f(x, axis=-1, b=b - 3.0, return_sign=True), [((2, 3), (2, 3))]),
     Call(lambda f, L, x: f(x, axis=1, where=x > 0), [((3, 4),)])],
    dtypes=NUMS, diff=True,
)  # fmt: skip
for _n in ("softmax", "log_softmax"):
    SPECS[_S + _n] = Spec(
        [Call(lambda f, L, x: f(x, axis=-1), [((3, 4),)]), Call(lambda f, L, x: f(x), [((5,),)])],
        dtypes=FLOATS, diff=True,
    )  # fmt: skip

# --- lax's special-function primitives
for _n in ("lgamma", "digamma", "erfc", "bessel_i0e", "bessel_i1e"):
    SPECS["lax." + _n] = unary(dtypes=FLOATS)
for _n in ("igamma", "igammac", "igamma_grad_a", "zeta"):
    SPECS["lax." + _n] = calls(
        lambda f, L, a, x: f(a + 1.0, x), [((3, 4), (3, 4))], "pos", tol=10.0
    )
SPECS["lax.betainc"] = SPECS[_S + "betainc"]

# --- stats
_T = "scipy.stats."


def _loc_scale(n_shape=0, kind="any", diff=True, x=lambda L, x: x, tol=10.0, dtypes=FLOATS):
    """f(x, *shape params) and f(x, *shape params, loc, scale), shape parameters positive."""
    return Spec(
        [Call(lambda f, L, x_, *p: f(x(L, x_), *[pos(L, q) for q in p]),
              [((3, 4),) + ((3, 4),) * n_shape], kind),
         Call(lambda f, L, x_, *p: f(x(L, x_), *[pos(L, q) for q in p[:-2]], p[-2], pos(L, p[-1])),
              [((3, 4),) + ((3, 4),) * n_shape + ((3, 4), (3, 4))], kind)],
        dtypes=dtypes, diff=diff, tol=tol,
    )  # fmt: skip


_METHODS = {
    "t": ("logpdf", "pdf"),
    "uniform": ("logpdf", "pdf", "cdf"),
    "laplace": ("logpdf", "pdf", "cdf"),
    "logistic": ("logpdf", "pdf", "cdf", "sf"),
}
_CONT = {"norm": 0, "t": 1, "gamma": 1, "chi2": 1, "beta": 2, "uniform": 0, "laplace": 0,
         "logistic": 0, "cauchy": 0, "expon": 0, "pareto": 1, "truncnorm": 2}  # fmt: skip
for _d, _k in _CONT.items():
    for _m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        if _m in _METHODS.get(_d, _m):
            SPECS[f"{_T}{_d}.{_m}"] = _loc_scale(_k)
for _d in ("norm", "uniform", "logistic", "cauchy", "expon", "pareto"):
    SPECS[f"{_T}{_d}.ppf"] = _loc_scale(_CONT[_d], "unit", x=prob)
for _d in ("norm", "logistic", "cauchy"):
    SPECS[f"{_T}{_d}.isf"] = _loc_scale(0, "unit", x=lambda L, x: prob(L, x) + 0.2)
SPECS[_T + "beta.cdf"] = _loc_scale(2, x=prob, diff=False)
for _m in ("logcdf", "sf", "logsf"):
    SPECS[f"{_T}beta.{_m}"] = _loc_scale(2, x=prob, diff=False)
SPECS[_T + "truncnorm.logpdf"] = Spec(
    [Call(lambda f, L, x, a, b: f(x, -pos(L, a), pos(L, b)), [((3, 4), (3, 4), (3, 4))]),
     Call(lambda f, L, x, a, b: f(x, pos(L, a), pos(L, a) + pos(L, b)), [((5,), (5,), (5,))])],
    dtypes=FLOATS, diff=True, tol=10.0,
)  # fmt: skip
for _m in ("pdf", "cdf", "logcdf", "sf", "logsf"):
    SPECS[f"{_T}truncnorm.{_m}"] = SPECS[_T + "truncnorm.logpdf"]

_K = lambda L, k: L.numpy.round(k)  # noqa: E731 - counts
for _m in ("logpmf", "pmf", "cdf"):
    SPECS[f"{_T}poisson.{_m}"] = Spec(
        [Call(lambda f, L, k, mu: f(_K(L, k), pos(L, mu)), [((3, 4), (3, 4))]),
         Call(lambda f, L, k, mu: f(_K(L, k), pos(L, mu), 1.0), [((5,), (5,))])],
        dtypes=FLOATS, diff=True, tol=10.0,
    )  # fmt: skip
SPECS[_T + "poisson.entropy"] = calls(
    lambda f, L, mu: f(L.numpy.concatenate([pos(L, mu), 50 * pos(L, mu)])), [((4,),)], tol=10.0
)
for _m in ("logpmf", "pmf"):
    SPECS[f"{_T}bernoulli.{_m}"] = calls(
        lambda f, L, k, p: f(L.numpy.round(prob(L, k) * 1.6), prob(L, p)), [((3, 4), (3, 4))]
    )
    SPECS[f"{_T}binom.{_m}"] = calls(
        lambda f, L, k, n, p: f(_K(L, k), _K(L, pos(L, n)) + 2, prob(L, p)),
        [((3, 4), (3, 4), (3, 4))], "pos", tol=10.0,
    )  # fmt: skip
    SPECS[f"{_T}geom.{_m}"] = calls(
        lambda f, L, k, p: f(_K(L, k), prob(L, p) + 0.1), [((3, 4), (3, 4))], "pos", tol=10.0
    )
    SPECS[f"{_T}dirichlet.{_m.replace('pm', 'pd')}"] = Spec(
        [Call(lambda f, L, x, a: f(L.numpy.abs(x) / L.numpy.sum(L.numpy.abs(x), 0), pos(L, a)),
              [((3,), (3,)), ((3, 2), (3,))], "pos"),
         Call(lambda f, L, x, a: f(L.numpy.abs(x) / (1 + L.numpy.sum(L.numpy.abs(x), 0)),
                                   pos(L, a)), [((2,), (3,))], "pos")],
        dtypes=FLOATS, diff=True, tol=10.0,
    )  # fmt: skip
SPECS[_T + "bernoulli.cdf"] = calls(
    lambda f, L, k, p: f(k, prob(L, p)), [((3, 4), (3, 4))], diff=False
)
SPECS[_T + "bernoulli.ppf"] = calls(
    lambda f, L, q, p: f(prob(L, q), prob(L, p)), [((3, 4), (3, 4))], diff=False
)
for _m in ("logpdf", "pdf"):
    SPECS[f"{_T}multivariate_normal.{_m}"] = Spec(
        [Call(lambda f, L, x, m, a: f(x, m, a @ L.numpy.swapaxes(a, -1, -2) + L.numpy.eye(3)),
              [((4, 3), (3,), (3, 3)), ((3,), (3,), (2, 3, 3))]),
         Call(lambda f, L, x, m, c: f(x, m, pos(L, c)), [((4, 3), (3,), ()), ((5,), (), ())])],
        dtypes=FLOATS, diff=True, tol=10.0,
    )  # fmt: skip
