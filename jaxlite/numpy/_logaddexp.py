"""`logaddexp` and `logaddexp2` with JAX's derivatives: custom JVP rules `t1 * exp(x1 - out) +
t2 * exp(x2 - out)`, so that at a tie (`logaddexp(0, 0)`) each input gets half of the gradient,
and an infinite input or output is replaced by 0 in the rule (jax/_src/lax/other.py).

The composition (`max + log1p(exp(-|x1 - x2|))`) differentiated as it is would give the whole
gradient to one input at a tie (`max`'s choice) and 0 to a finite input next to an infinite one.
"""

from __future__ import annotations

import math

import numpy as np

from jaxlite import primitives as lax
from jaxlite.custom_derivatives import custom_jvp
from jaxlite.numpy._util import filled, promote_inexact


def _replace_inf(x):
    return lax.select(lax.eq(x, np.inf), filled(x, 0), x)


@custom_jvp
def _logaddexp(x1, x2):
    amax = lax.max(x1, x2)
    delta = lax.sub(x1, x2)
    r = lax.add(amax, lax.log1p(lax.exp(lax.neg(lax.abs(delta)))))
    return lax.select(lax.ne(delta, delta), lax.add(x1, x2), r)  # NaNs, or infs of one sign


@_logaddexp.defjvp
def _logaddexp_jvp(primals, tangents):
    (x1, x2), (t1, t2) = primals, tangents
    out = _logaddexp(x1, x2)
    w1 = lax.exp(lax.sub(_replace_inf(x1), _replace_inf(out)))
    w2 = lax.exp(lax.sub(_replace_inf(x2), _replace_inf(out)))
    return out, lax.add(lax.mul(t1, w1), lax.mul(t2, w2))


@custom_jvp
def _logaddexp2(x1, x2):
    amax = lax.max(x1, x2)
    delta = lax.sub(x1, x2)
    r = lax.add(amax, lax.div(lax.log1p(lax.exp2(lax.neg(lax.abs(delta)))), math.log(2.0)))
    return lax.select(lax.ne(delta, delta), lax.add(x1, x2), r)


@_logaddexp2.defjvp
def _logaddexp2_jvp(primals, tangents):
    (x1, x2), (t1, t2) = primals, tangents
    out = _logaddexp2(x1, x2)
    w1 = lax.exp2(lax.sub(_replace_inf(x1), _replace_inf(out)))
    w2 = lax.exp2(lax.sub(_replace_inf(x2), _replace_inf(out)))
    return out, lax.add(lax.mul(t1, w1), lax.mul(t2, w2))


def logaddexp(x1, x2, /):
    """`log(exp(x1) + exp(x2))` without overflow; its gradient is JAX's (half each at a tie)."""
    return _logaddexp(*promote_inexact("logaddexp", x1, x2))


def logaddexp2(x1, x2, /):
    """`log2(2**x1 + 2**x2)` without overflow; its gradient is JAX's (half each at a tie)."""
    return _logaddexp2(*promote_inexact("logaddexp2", x1, x2))
