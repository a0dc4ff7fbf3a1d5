"""`sinc` with JAX's derivatives at 0: there `sin(pi x) / (pi x)` is replaced by a custom-JVP
function whose k-th derivative is the k-th Taylor coefficient (JAX's `_sinc_maclaurin`), so
`grad(grad(sinc))(0.)` is `-pi**2 / 3` (a constant 1 would give 0) and a NaN cotangent reaching
`sinc(0)` stays NaN (`x * 0 + c`, as JAX).
"""

from __future__ import annotations

import math

from jaxlite import primitives as lax
from jaxlite.custom_derivatives import custom_jvp
from jaxlite.numpy._ufuncs import _float_of
from jaxlite.numpy._util import filled


def _sinc_maclaurin_impl(k: int, x):
    """The k-th derivative of `sin(x) / x` at 0 (`(-1)**(k/2) / (k + 1)` for even k, else 0) as
    `x * 0 + c`: a NaN or inf cotangent reaching `sinc(0)` stays NaN, as in JAX."""
    zero = lax.mul(x, 0.0)
    return zero if k % 2 else lax.add(zero, (-1.0) ** (k // 2) / (k + 1))


_sinc_maclaurin = custom_jvp(_sinc_maclaurin_impl, nondiff_argnums=(0,))


@_sinc_maclaurin.defjvp
def _sinc_maclaurin_jvp(k, primals, tangents):
    (x,), (t,) = primals, tangents
    return _sinc_maclaurin(k, x), lax.mul(_sinc_maclaurin(k + 1, x), t)


def sinc(x, /):
    """`sin(pi x) / (pi x)`, with `sinc(0) = 1`; at 0 every derivative is the Taylor
    coefficient's (JAX's `_sinc_maclaurin`), so `grad(grad(sinc))(0.)` is `-pi**2 / 3`."""
    x = _float_of("sinc", x)
    zero = lax.eq(x, 0.0)
    px = lax.mul(x, math.pi)
    safe = lax.select(zero, filled(x, 1), px)
    return lax.select(zero, _sinc_maclaurin(0, px), lax.div(lax.sin(safe), safe))
