"""Oracle specs of complex numbers (issue 21): the new lax primitives and jnp scalar types, and
(`EXTRA_DTYPES`) complex64/complex128 added to the dtypes tried for the existing names that JAX
defines on complex values."""

from __future__ import annotations

from .harness import COMPLEX, FLOATS, Call, Spec

U = [((3, 4),), ("special",), ((),)]


def _unary(fn, dtypes, diff=True):
    return Spec([Call(fn, U)], dtypes=dtypes, diff=diff)


SPECS = {
    "lax.complex": Spec(
        [Call(lambda f, L, x, y: f(x, y), [((3, 4), (3, 4)), ((), ())])], dtypes=FLOATS, diff=True
    ),
    "lax.real": _unary(lambda f, L, x: f(x), COMPLEX),
    "lax.imag": _unary(lambda f, L, x: f(x), COMPLEX),
    "lax.conj": _unary(lambda f, L, x: f(x), COMPLEX + FLOATS),
    "numpy.complex64": _unary(lambda f, L, x: f(x), COMPLEX + FLOATS, diff=False),
    "numpy.complex128": _unary(lambda f, L, x: f(x), COMPLEX + FLOATS, diff=False),
    "numpy.complex_": _unary(lambda f, L, x: f(x), COMPLEX + FLOATS, diff=False),
}

_LAX = """neg sign abs exp exp2 log log1p expm1 tanh logistic sin cos tan asin acos atan sinh cosh
asinh acosh atanh sqrt rsqrt square add sub mul div pow eq ne""".split()
_NUMPY = """exp exp2 expm1 log log1p log2 log10 sin cos tan arcsin arccos arctan sinh cosh tanh
arcsinh arccosh arctanh sqrt abs absolute real imag conj conjugate angle add subtract multiply
divide true_divide power equal not_equal less less_equal greater greater_equal maximum minimum
negative positive sign square reciprocal isnan isinf isfinite iscomplex isreal sum prod mean var
cumsum cumprod dot vdot matmul""".split()
EXTRA_DTYPES = {f"lax.{n}": COMPLEX for n in _LAX} | {f"numpy.{n}": COMPLEX for n in _NUMPY}
EXTRA_DTYPES |= {"numpy.iscomplexobj": COMPLEX, "numpy.isrealobj": COMPLEX}
