"""`jaxlite.scipy.special`: JAX's `jax.scipy.special`, built from lax's special-function
primitives (primitives/_special.py) and jnp, with JAX's dtype rules (integer and bool arguments
become floats; Python scalars are weak) and JAX's derivatives.
"""

from __future__ import annotations

import math

import numpy as np

from jaxlite import dtypes
from jaxlite import numpy as jnp
from jaxlite import primitives as lax
from jaxlite.api import jvp
from jaxlite.core import name_api
from jaxlite.custom_derivatives import custom_jvp
from jaxlite.numpy._util import (
    canonicalize_axes,
    concrete_int,
    dtype_of,
    inexact_arg,
    promote_inexact,
    shape_of,
)
from jaxlite.primitives._special import ZETA_BERNOULLI

__all__ = [
    "betainc", "betaln", "beta", "digamma", "entr", "erf", "erfc", "erfinv", "expit",
    "factorial", "gamma", "gammainc", "gammaincc", "gammaln", "gammasgn", "i0", "i0e", "i1",
    "i1e", "kl_div", "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr",
    "ndtri", "polygamma", "rel_entr", "softmax", "xlog1py", "xlogy", "zeta",
]  # fmt: skip


def _x(name, x):
    return inexact_arg(f"scipy.special.{name}", x)


def _xs(name, *xs):
    return promote_inexact(f"scipy.special.{name}", *xs)


# ------------------------------------------------------------------------------------------
# Error function and the normal distribution
# ------------------------------------------------------------------------------------------


def erf(x):
    """The error function `2/sqrt(pi) * integral_0^x exp(-t^2) dt`."""
    return lax.erf(_x("erf", x))


def erfc(x):
    """The complementary error function `1 - erf(x)`, accurate where erf(x) is near 1."""
    return lax.erfc(_x("erfc", x))


def erfinv(x):
    """The inverse of `erf` on (-1, 1)."""
    return lax.erf_inv(_x("erfinv", x))


def _no_half(name: str, x):
    """JAX's ndtr, ndtri and log_ndtr take float32 and float64 only (a TypeError, as JAX)."""
    dt = dtype_of(x)
    if dt in dtypes.HALF_DTYPES:
        raise TypeError(f"{name}: x.dtype={dt} is not supported; pass float32 or float64")
    return x


def ndtr(x):
    """The standard normal CDF, through erf near 0 and erfc in the tails (no cancellation)."""
    x = _no_half("ndtr", _x("ndtr", x))
    w = x * math.sqrt(0.5)
    z = jnp.abs(w)
    tail = jnp.where(w > 0, 2.0 - lax.erfc(z), lax.erfc(z))
    return 0.5 * jnp.where(z < math.sqrt(0.5), 1.0 + lax.erf(w), tail)


_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _ndtri_impl(p):
    # A seed (erfinv in the middle, Abramowitz-Stegun 26.2.23 in the tails) refined by Newton
    # steps on log ndtr(x) = log p: quadratic, and accurate in the tails where p is tiny.
    q = jnp.minimum(p, 1.0 - p)
    t = jnp.sqrt(-2.0 * jnp.log(jnp.where(q > 0, q, 0.5)))
    tail = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) / (
        1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))))  # fmt: skip
    mid = math.sqrt(2.0) * lax.erf_inv(2.0 * q - 1.0)
    x = jnp.where(q > 0.02, mid, tail)  # the quantile of q <= 1/2: x <= 0
    log_q = jnp.log(jnp.where(q > 0, q, 0.5))
    for _ in range(4 if dtype_of(p) == np.float64 else 3):
        lc = _log_ndtr(x, 12)  # 12 terms: the asymptotic series' error is far below eps
        x = x - (lc - log_q) * jnp.exp(lc + 0.5 * x * x + _LOG_SQRT_2PI)
    x = jnp.where(p > 0.5, -x, x)
    x = jnp.where(p == 0, -jnp.inf, jnp.where(p == 1, jnp.inf, x))
    return jnp.where((p < 0) | (p > 1), jnp.nan, x)


@custom_jvp
def _ndtri(p):
    return _ndtri_impl(p)


@_ndtri.defjvp
def _ndtri_jvp(primals, tangents):
    (p,), (g,) = primals, tangents
    x = _ndtri(p)
    return x, g * jnp.exp(0.5 * x * x + _LOG_SQRT_2PI)  # 1 / pdf(x)


def ndtri(p):
    """The inverse of `ndtr`: the standard normal quantile function."""
    return _ndtri(_no_half("ndtri", _x("ndtri", p)))


def _log_ndtr_asymptotic(x, series_order):
    # log Phi(x) for x -> -inf: -x^2/2 - log(-x) - log sqrt(2 pi) + log(1 + sum_k ...)
    x2 = x * x
    total, term = 1.0, 1.0
    for k in range(1, series_order + 1):
        term = term * (-(2 * k - 1)) / x2
        total = total + term
    return -0.5 * x2 - jnp.log(-x) - _LOG_SQRT_2PI + jnp.log(total)


def _log_ndtr_impl(x, series_order):
    f32 = dtype_of(x) == np.float32
    upper, lower = (5.0, -10.0) if f32 else (8.0, -20.0)
    high = jnp.log1p(-ndtr(-jnp.maximum(x, upper)))  # log(1 - Phi(-x)) where Phi(x) ~ 1
    mid = jnp.log(ndtr(jnp.maximum(x, lower)))
    low = _log_ndtr_asymptotic(jnp.minimum(x, lower), series_order)
    return jnp.where(x > upper, high, jnp.where(x > lower, mid, low))


_log_ndtr = custom_jvp(_log_ndtr_impl, nondiff_argnums=(1,))


@_log_ndtr.defjvp
def _log_ndtr_jvp(series_order, primals, tangents):
    (x,), (g,) = primals, tangents
    y = _log_ndtr(x, series_order)
    return y, g * jnp.exp(-0.5 * x * x - _LOG_SQRT_2PI - y)


def log_ndtr(x, series_order: int = 3):
    """`log(ndtr(x))`, accurate far into both tails (an asymptotic series below -20)."""
    series_order = concrete_int(series_order, "scipy.special.log_ndtr", "series_order")
    if not 0 <= series_order <= 30:
        raise ValueError(f"log_ndtr: series_order must be in [0, 30], got {series_order}")
    dt = dtype_of(jnp.asarray(x))
    if not dtypes.is_float(dt):  # as JAX: no integer arguments
        raise TypeError(f"log_ndtr: x.dtype={dt} is not supported; pass a float array")
    return _log_ndtr(_no_half("log_ndtr", _x("log_ndtr", x)), series_order)


# ------------------------------------------------------------------------------------------
# Gamma family
# ------------------------------------------------------------------------------------------


def gammaln(x):
    """`log|Gamma(x)|`."""
    return lax.lgamma(_x("gammaln", x))


def gammasgn(x):
    """The sign of `Gamma(x)`: 1 for x > 0, alternating on the negative axis, NaN at poles."""
    x = _x("gammasgn", x)
    one = jnp.ones_like(x)
    neg_sign = jnp.where(jnp.floor(x) % 2 == 0, one, -one)
    pole = (x <= 0) & (x == jnp.floor(x))
    out = jnp.where(x > 0, one, neg_sign)
    out = jnp.where(x == 0, jnp.where(jnp.signbit(x), -one, one), out)
    return jnp.where(jnp.isnan(x) | (pole & (x != 0)), jnp.nan, out)


def gamma(x):
    """`Gamma(x)`, as `gammasgn(x) * exp(gammaln(x))`."""
    x = _x("gamma", x)
    return gammasgn(x) * jnp.exp(lax.lgamma(x))


def factorial(n, exact: bool = False):
    """`n!` as `Gamma(n + 1)` (0 for negative n); `exact=True` is not supported, as in JAX."""
    if exact:
        raise NotImplementedError("factorial with exact=True is not supported (as in JAX)")
    n = _x("factorial", n)
    return jnp.where(n < 0, 0.0, jnp.exp(lax.lgamma(n + 1.0)))


def digamma(x):
    """The logarithmic derivative of Gamma; NaN at the poles 0, -1, -2, ..."""
    return lax.digamma(_x("digamma", x))


def _zeta_series(x, q):
    # The Euler-Maclaurin expansion the primitive computes, written in jnp so that its
    # derivatives with respect to both arguments follow by differentiating it (as JAX does).
    n = 8 if dtype_of(q) == np.float32 else 16
    k = jnp.arange(n, dtype=dtype_of(q))
    xe, qe = jnp.expand_dims(x, -1), jnp.expand_dims(q, -1)
    total = jnp.sum((qe + k) ** -xe, axis=-1)
    a = q + n
    w = a**-x
    total = total + a * w / (x - 1.0) + 0.5 * w
    term = x * w / a
    for j, bj in enumerate(ZETA_BERNOULLI):
        if j:
            term = term * (x + (2 * j - 1)) * (x + 2 * j) / (a * a)
        total = total + bj * term
    return total


@custom_jvp
def _zeta(x, q):
    return lax.zeta(x, q)


@_zeta.defjvp
def _zeta_jvp(primals, tangents):
    _, out_dot = jvp(_zeta_series, primals, tangents)
    return _zeta(*primals), out_dot


def zeta(x, q=None):
    """The Hurwitz zeta function `sum_n (n + q)^-x` (JAX has no Riemann zeta: q is required)."""
    if q is None:
        raise NotImplementedError(
            "Riemann zeta function not implemented; pass q != None to compute the Hurwitz Zeta "
            "function."
        )
    return _zeta(*_xs("zeta", x, q))


def polygamma(n, x):
    """The n-th derivative of digamma; `n` must have an integer dtype, as in JAX."""
    nd = dtype_of(jnp.asarray(n))
    if nd.kind not in "iu":
        raise ValueError(f"Argument `n` to polygamma must be of integer type. Got dtype {nd}.")
    n, x = _xs("polygamma", n, x)
    sign = jnp.where(n % 2 == 0, -1.0, 1.0)  # (-1)^(n + 1)
    higher = sign * jnp.exp(lax.lgamma(n + 1.0)) * _zeta(n + 1.0, x)
    return jnp.where(n == 0, lax.digamma(x), higher)


def gammainc(a, x):
    """The regularized lower incomplete gamma function `P(a, x)`."""
    return lax.igamma(*_xs("gammainc", a, x))


def gammaincc(a, x):
    """The regularized upper incomplete gamma function `Q(a, x) = 1 - P(a, x)`."""
    return lax.igammac(*_xs("gammaincc", a, x))


def betaln(a, b):
    """`log|B(a, b)| = gammaln(a) + gammaln(b) - gammaln(a + b)`."""
    a, b = _xs("betaln", a, b)
    return lax.lgamma(a) + lax.lgamma(b) - lax.lgamma(a + b)


def beta(a, b):
    """`B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b)`, computed through its logarithm."""
    a, b = _xs("beta", a, b)
    sign = gammasgn(a) * gammasgn(b) * gammasgn(a + b)
    return sign * jnp.exp(betaln(a, b))


def betainc(a, b, x):
    """The regularized incomplete beta function `I_x(a, b)` (derivative in x only, as JAX)."""
    return lax.betainc(*_xs("betainc", a, b, x))


def multigammaln(a, d):
    """The log of the multivariate gamma function of dimension `d` (a static int)."""
    d = concrete_int(d, "scipy.special.multigammaln", "d")
    a = _x("multigammaln", a)
    j = jnp.arange(d, dtype=dtype_of(a))
    terms = lax.lgamma(jnp.expand_dims(a, -1) - 0.5 * j)
    return jnp.sum(terms, axis=-1) + (d * (d - 1) / 4) * math.log(math.pi)


# ------------------------------------------------------------------------------------------
# Bessel functions
# ------------------------------------------------------------------------------------------


def i0e(x):
    """The exponentially scaled modified Bessel function of order 0, `exp(-|x|) I0(x)`."""
    return lax.bessel_i0e(_x("i0e", x))


def i0(x):
    """The modified Bessel function of order 0."""
    x = _x("i0", x)
    return jnp.exp(jnp.abs(x)) * lax.bessel_i0e(x)


def i1e(x):
    """The exponentially scaled modified Bessel function of order 1, `exp(-|x|) I1(x)`."""
    return lax.bessel_i1e(_x("i1e", x))


def i1(x):
    """The modified Bessel function of order 1."""
    x = _x("i1", x)
    return jnp.exp(jnp.abs(x)) * lax.bessel_i1e(x)


# ------------------------------------------------------------------------------------------
# Logistic, entropy and x log y
# ------------------------------------------------------------------------------------------


def expit(x):
    """The logistic sigmoid `1 / (1 + exp(-x))`."""
    return lax.logistic(_x("expit", x))


@custom_jvp
def _logit(x):
    return jnp.log(x / (1.0 - x))


@_logit.defjvp
def _logit_jvp(primals, tangents):
    (x,), (g,) = primals, tangents
    return _logit(x), g / (x * (1.0 - x))


def logit(x):
    """The inverse of `expit`: `log(x / (1 - x))`."""
    return _logit(_x("logit", x))


@custom_jvp
def _xlogy(x, y):
    return jnp.where((x != 0) | jnp.isnan(y), x * jnp.log(y), jnp.zeros_like(x))


@_xlogy.defjvp
def _xlogy_jvp(primals, tangents):
    (x, y), (gx, gy) = primals, tangents
    return _xlogy(x, y), gx * jnp.log(y) + gy * x / y


def xlogy(x, y):
    """`x * log(y)`, 0 where x == 0 (unless y is NaN)."""
    return _xlogy(*_xs("xlogy", x, y))


@custom_jvp
def _xlog1py(x, y):
    return jnp.where((x != 0) | jnp.isnan(y), x * jnp.log1p(y), jnp.zeros_like(x))


@_xlog1py.defjvp
def _xlog1py_jvp(primals, tangents):
    (x, y), (gx, gy) = primals, tangents
    return _xlog1py(x, y), gx * jnp.log1p(y) + gy * x / (1.0 + y)


def xlog1py(x, y):
    """`x * log1p(y)`, 0 where x == 0 (unless y is NaN)."""
    return _xlog1py(*_xs("xlog1py", x, y))


@custom_jvp
def _xlogx(x):
    return _xlogy(x, x)


@_xlogx.defjvp
def _xlogx_jvp(primals, tangents):
    (x,), (g,) = primals, tangents
    return _xlogx(x), g * (_xlogy(1.0 + 0.0 * x, x) + 1.0)


def entr(x):
    """The elementwise entropy `-x log x` (-0 at 0, -inf below 0, NaN for NaN)."""
    x = _x("entr", x)
    return jnp.where(x < 0, -jnp.inf, -_xlogx(jnp.where(x < 0, 1.0, x)))


def _entropy_masks(p, q):
    both = (p > 0) & (q > 0)
    p_zero = (p == 0) & (q >= 0)
    return both, p_zero, jnp.where(both, p, 1.0), jnp.where(both, q, 1.0)


def rel_entr(p, q):
    """`p log(p / q)` for p, q > 0; 0 where p == 0 and q >= 0; inf otherwise."""
    p, q = _xs("rel_entr", p, q)
    both, p_zero, sp, sq = _entropy_masks(p, q)
    val = _xlogx(sp) - _xlogy(sp, sq)
    return jnp.where(both, val, jnp.where(p_zero, 0.0, jnp.inf))


def kl_div(p, q):
    """`rel_entr(p, q) - p + q`."""
    p, q = _xs("kl_div", p, q)
    return rel_entr(p, q) - p + q


# ------------------------------------------------------------------------------------------
# logsumexp and softmax
# ------------------------------------------------------------------------------------------


def _reduce_axes(name, axis, shape):
    if axis is None:
        return tuple(range(len(shape)))
    return canonicalize_axes(axis, len(shape), f"scipy.special.{name}", shape)


def logsumexp(a, axis=None, b=None, keepdims: bool = False, return_sign: bool = False, where=None):
    """`log(sum(b * exp(a), axis))` without overflow; `-inf` entries contribute 0.

    With `b`, a negative sum gives NaN unless `return_sign`, which returns `(log|sum|, sign)`;
    `where` selects the entries that take part.
    """
    if b is not None:
        a, b = _xs("logsumexp", a, b)
        shape = jnp.broadcast_shapes(shape_of(a), shape_of(b))
        a, b = jnp.broadcast_to(a, shape), jnp.broadcast_to(b, shape)
        a = jnp.where(b != 0, a, -jnp.inf)
    else:
        a = _x("logsumexp", a)
    if where is not None:
        a = jnp.where(where, a, -jnp.inf)
        if b is not None:
            b = jnp.where(where, b, 0.0)
    axes = _reduce_axes("logsumexp", axis, shape_of(a))
    a_max = jnp.max(a, axis=axes, keepdims=True)
    a_max = lax.stop_gradient(jnp.where(jnp.isfinite(a_max), a_max, 0.0))
    e = jnp.exp(a - a_max)
    if b is not None:
        e = e * b
    total = jnp.sum(e, axis=axes, keepdims=True)
    sign = jnp.sign(total)
    out = jnp.log(jnp.abs(total) if (b is not None or return_sign) else total) + a_max
    if not keepdims:
        out, sign = jnp.squeeze(out, axis=axes), jnp.squeeze(sign, axis=axes)
    if return_sign:
        return out, sign
    return jnp.where(sign < 0, jnp.nan, out) if b is not None else out


def softmax(x, /, *, axis=None):
    """`exp(x) / sum(exp(x), axis)` computed from `x - max(x)` (axis None: all axes)."""
    x = _x("softmax", x)
    axes = _reduce_axes("softmax", axis, shape_of(x))
    e = jnp.exp(x - lax.stop_gradient(jnp.max(x, axis=axes, keepdims=True)))
    return e / jnp.sum(e, axis=axes, keepdims=True)


def log_softmax(x, /, *, axis=None):
    """`x - logsumexp(x, axis)` (axis None: all axes)."""
    x = _x("log_softmax", x)
    axes = _reduce_axes("log_softmax", axis, shape_of(x))
    shifted = x - lax.stop_gradient(jnp.max(x, axis=axes, keepdims=True))
    return shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=axes, keepdims=True))


name_api("jaxlite.scipy.special.", {n: globals()[n] for n in __all__})  # error messages
