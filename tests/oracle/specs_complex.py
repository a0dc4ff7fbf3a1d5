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

# --- jnp.fft and lax.fft ----------------------------------------------------------------------
_FFT_IN = COMPLEX + FLOATS


def _fft_spec(fn, shapes=((4, 6),), dtypes=_FFT_IN, diff=True):
    return Spec([Call(fn, [s if isinstance(s[0], tuple) else (s,) for s in shapes])],
                dtypes=dtypes, diff=diff)  # fmt: skip


SPECS |= {
    "lax.fft": _fft_spec(lambda f, L, x: f(x, "FFT", (6,)), dtypes=COMPLEX),
    "lax.FftType": Spec(
        [Call(lambda f, L: (int(f.FFT), int(f.IFFT), int(f.RFFT), int(f.IRFFT)), [()])],
        routes=("eager",),
    ),  # fmt: skip
    "numpy.fft.fft": _fft_spec(lambda f, L, x: (f(x), f(x, n=8, axis=0, norm="ortho"))),
    "numpy.fft.ifft": _fft_spec(lambda f, L, x: (f(x), f(x, n=3, norm="forward"))),
    "numpy.fft.rfft": _fft_spec(lambda f, L, x: (f(x), f(x, n=7, axis=0)), dtypes=FLOATS),
    "numpy.fft.irfft": _fft_spec(lambda f, L, x: (f(x), f(x, n=9, norm="ortho")), dtypes=COMPLEX),
    "numpy.fft.hfft": _fft_spec(lambda f, L, x: (f(x), f(x, n=6, norm="forward"))),
    "numpy.fft.ihfft": _fft_spec(lambda f, L, x: (f(x), f(x, norm="ortho")), dtypes=FLOATS),
    "numpy.fft.fft2": _fft_spec(lambda f, L, x: (f(x), f(x, s=(3, 7))), [(2, 4, 6)]),
    "numpy.fft.ifft2": _fft_spec(lambda f, L, x: f(x, axes=(0, 2), norm="ortho"), [(2, 4, 6)]),
    "numpy.fft.rfft2": _fft_spec(lambda f, L, x: f(x), [(2, 4, 6)], dtypes=FLOATS),
    "numpy.fft.irfft2": _fft_spec(lambda f, L, x: (f(x), f(x, s=(4, 7))), [(2, 4, 6)], COMPLEX),
    "numpy.fft.fftn": _fft_spec(lambda f, L, x: (f(x), f(x, axes=(0,))), [(2, 4, 6)]),
    "numpy.fft.ifftn": _fft_spec(lambda f, L, x: f(x, s=(3, 4, 5)), [(2, 4, 6)]),
    "numpy.fft.rfftn": _fft_spec(lambda f, L, x: f(x), [(2, 4, 6)], dtypes=FLOATS),
    "numpy.fft.irfftn": _fft_spec(lambda f, L, x: f(x, s=(2, 4, 9)), [(2, 4, 6)], COMPLEX),
    "numpy.fft.fftshift": _fft_spec(lambda f, L, x: (f(x), f(x, axes=1)), [(3, 4)], diff=False),
    "numpy.fft.ifftshift": _fft_spec(lambda f, L, x: (f(x), f(x, axes=0)), [(3, 5)], diff=False),
    "numpy.fft.fftfreq": Spec(
        [Call(lambda f, L: (f(8), f(7, 0.3), f(5, dtype="float32")), [()])], routes=("eager", "jit")
    ),  # fmt: skip
    "numpy.fft.rfftfreq": Spec(
        [Call(lambda f, L: (f(8), f(7, 0.3)), [()])], routes=("eager", "jit")
    ),
}
