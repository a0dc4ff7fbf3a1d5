"""Oracle specs of the pooling helper's names (issue 17): jaxlite.scipy.signal's FFT convolution
and detrend. (The max pool's derivative primitives are `lax.*_p` objects, covered by specs.py's
primitive-object rule.)"""

from __future__ import annotations

from .harness import Call, Spec

SPECS: dict = {}

# every mode, both orders of sizes ('valid' swaps), 1-D to 3-D, size-1 dimensions (a product)
_SHAPES = [((6,), (3,)), ((3,), (6,)), ((5, 4), (2, 3)), ((2, 3), (5, 4)), ((4, 1), (1, 3)),
           ((3, 4, 2), (2, 2, 2))]  # fmt: skip
SPECS["scipy.signal.fftconvolve"] = Spec(
    [Call(lambda f, L, a, b, mode=mode: f(a, b, mode), _SHAPES[:4] + _SHAPES[5:])
     for mode in ("full", "same", "valid")]
    + [Call(lambda f, L, a, b: f(a, b, "same"), [_SHAPES[4]]),
       Call(lambda f, L, a, b: f(a, b, "full", axes=1), [((3, 7), (3, 4))]),
       Call(lambda f, L, a, b: f(a, b, "valid", axes=(0,)), [((6, 2), (3, 2))])],
    dtypes=("int32", "float32", "float64", "complex64"),
    diff=True,
    tol=10.0,
)  # fmt: skip
SPECS["scipy.signal.detrend"] = Spec(
    [Call(lambda f, L, x: f(x), [((9,),), ((3, 7),)]),
     Call(lambda f, L, x: f(x, type="constant"), [((3, 7),)]),
     Call(lambda f, L, x: f(x, axis=0, bp=[2, 5]), [((8, 3),)]),
     Call(lambda f, L, x: f(x, bp=3), [((2, 6),)])],
    dtypes=("int32", "float32", "float64"),
    diff=True,
    tol=10.0,
)  # fmt: skip
