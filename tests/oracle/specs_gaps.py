"""Oracle specs of the lax and jnp gaps (issue 16): the *_in_dim slicing helpers,
associative_scan, top_k, generic reduce, reduce_precision; jnp.vectorize, piecewise, the
histograms, polyfit, einsum_path."""

from __future__ import annotations

import numpy as np

from .harness import DTYPES, FLOATS, Call, Spec

NUM = tuple(d for d in DTYPES if d != "bool")
X2 = [((3, 4),)]


def one(fn, shapes=X2, diff=False, dtypes=DTYPES, kind="any", **kw):
    return Spec([Call(fn, shapes, kind)], dtypes=dtypes, diff=diff, **kw)


def _argmax_pair(L):
    lax = L.lax

    def comb(a, b):
        (va, ia), (vb, ib) = a, b
        take_b = lax.bitwise_or(lax.gt(vb, va), lax.bitwise_and(lax.eq(vb, va), lax.lt(ib, ia)))
        return lax.select(take_b, vb, va), lax.select(take_b, ib, ia)

    return comb


def _reduce_argmax(f, L, x):
    # Indices in x's dtype and depending on x (+ 0 * x): JAX's jvp of a variadic reduce fails
    # on an operand whose tangent is symbolically zero. Init values are constants: JAX raises
    # NotImplementedError for batched init values under vmap and for init tangents (jaxlite's
    # composite handles both).
    idx = L.lax.convert_element_type(L.lax.broadcasted_iota("int32", x.shape, 1), x.dtype) + x * 0
    return f((x, idx), (_lowest(x.dtype), x.dtype.type(0)), _argmax_pair(L), (1,))


def _lowest(dt):
    # (an identity: JAX's jvp of a generic reduce drops a non-identity init from the primal)
    return dt.type(-np.inf) if dt.kind == "f" else dt.type(np.iinfo(dt).min)


_x = "lax."
_n = "numpy."
SPECS = {
    _x + "slice_in_dim": one(
        lambda f, L, x: (f(x, 1, None, 2, axis=1), f(x, -2, -1), f(x, None, 2, axis=-1)),
        diff=True,
    ),
    _x + "index_in_dim": one(
        lambda f, L, x: (f(x, -1, axis=1, keepdims=False), f(x, 0)), diff=True
    ),
    _x + "dynamic_slice_in_dim": one(
        lambda f, L, x: (f(x, 1, 2, axis=1), f(x, -1, 2), f(x, L.numpy.int32(-3), 2, 1)),
        diff=True,
    ),
    _x + "dynamic_index_in_dim": one(
        lambda f, L, x: (f(x, -1, 1, False), f(x, L.numpy.int32(2))), diff=True
    ),
    _x + "dynamic_update_slice_in_dim": one(
        lambda f, L, x, u: (f(x, u, -2, 1), f(x, u, L.numpy.int32(1), axis=1)),
        [((3, 4), (3, 2))],
        diff=True,
    ),
    _x + "associative_scan": Spec(
        [
            Call(lambda f, L, x: (f(L.lax.add, x, axis=1), f(L.lax.max, x, reverse=True)), X2),
            Call(
                lambda f, L, x, y: f(lambda a, b: (a[0] + b[0], a[1] * b[1]), (x, y), axis=0),
                [((5, 2), (5, 2))],
            ),
        ],
        dtypes=NUM,
        diff=True,
    ),
    _x + "top_k": Spec(
        [
            Call(lambda f, L, x: (f(x, 2), f(x, 3, axis=0)), X2),
            Call(lambda f, L, x: f(x, 4), [("special",)]),
        ],
        diff=True,
    ),
    _x + "reduce": Spec(
        [
            Call(
                lambda f, L, x: (
                    f(x, 0, L.lax.add, (1,)),
                    f(x, x.dtype.type(1), L.lax.mul, (0, 1)),
                    f(x, _lowest(x.dtype), lambda a, b: L.lax.max(a, b), (0,)),  # generic
                ),
                X2,
            ),
            Call(_reduce_argmax, X2),
        ],
        dtypes=NUM,
        diff=True,
        tol=10.0,
    ),
    _x + "reduce_precision": Spec(
        [
            Call(lambda f, L, x: (f(x, 5, 10), f(x, exponent_bits=8, mantissa_bits=7)), X2),
            Call(lambda f, L, x: (f(x, 5, 10), f(x, 2, 0)), [("special",)]),
        ],
        dtypes=FLOATS,
        diff=True,
    ),
    _n + "vectorize": Spec(
        [
            Call(
                lambda f, L, x, y: f(lambda a, b: L.numpy.dot(a, b), signature="(n),(n)->()")(x, y),
                [((3, 4), (4,))],
            ),
            Call(lambda f, L, x: f(lambda a, p: a * p + 1, excluded={1})(x, 2), X2),
        ],
        dtypes=NUM,
        diff=True,
    ),
    _n + "piecewise": one(
        lambda f, L, x: (
            f(x, [x < 2, x > 3], [lambda v: v * 2, lambda v: v - 1, 1]),
            f(x, [x > 1], [lambda v, k: v * k, 3], 2),
        ),
        dtypes=NUM,
        diff=True,
    ),
    _n + "histogram": one(
        lambda f, L, x: (f(x, bins=4), f(x, bins=3, range=(0, 4), density=True)),
        dtypes=NUM,
    ),
    _n + "histogram_bin_edges": one(
        lambda f, L, x: (f(x, bins=5), f(x, bins=3, range=(1, 2))), dtypes=NUM
    ),
    _n + "histogram2d": one(
        lambda f, L, x, y: (f(x, y, bins=3), f(x, y, bins=[2, 3], weights=x, density=True)),
        [((8,), (8,))],
        dtypes=FLOATS,
    ),
    _n + "histogramdd": one(
        # Edges exact in both libraries: JAX's float32 linspace puts an edge one ulp off an
        # integer (e.g. 1.0000002) where jaxlite's and NumPy's give the integer.
        lambda f, L, x: (
            f(x, bins=[L.numpy.array([-6.0, -1.0, 2.0, 7.0]), L.numpy.array([-6.0, 0.0, 7.0])]),
            f(x, bins=[2, 2], range=[(0, 3), (-6, 6)]),
        ),
        [((8, 2),)],
        dtypes=NUM,
    ),
    _n + "polyfit": one(
        lambda f, L, y: (
            f(L.numpy.arange(6.0), y, 2),
            f(L.numpy.arange(6.0), y, 1, full=True)[:3],
            f(L.numpy.arange(6.0), y, 1, cov=True),
        ),
        [((6,),)],
        dtypes=FLOATS,
        diff=True,
        tol=100.0,
    ),
    _n + "einsum_path": one(
        lambda f, L, x, y, z: (
            f("ij,jk,kl->il", x, y, z)[0],
            str(f("ij,jk,kl->il", x, y, z)[1]),
            f("ij,jk,kl->il", x, y, z, optimize="greedy")[0],
            f("ij,jk", x, y, optimize=False)[0],
        ),
        [((2, 3), (3, 9), (9, 4))],
        dtypes=("float64",),
        routes=("eager",),
    ),
}
