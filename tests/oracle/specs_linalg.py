"""Oracle specs of jaxlite.scipy.linalg, scipy.optimize and scipy.integrate (issue 16)."""

from __future__ import annotations

from .harness import FLOATS, Call, Spec

M = [((2, 3, 3),), ((3, 3),)]  # square matrices: batched, single
_s = "scipy.linalg."
_lin = dict(dtypes=("int32",) + FLOATS, diff=True, tol=1e4)
_flt = dict(dtypes=FLOATS, diff=True, tol=1e4)


def _sym(L, a):
    """A symmetric positive-definite matrix from `a` (of any shape: a @ a.T is square)."""
    return a @ L.numpy.swapaxes(a, -1, -2) + 3 * L.numpy.eye(a.shape[-2], dtype=a.dtype)


def _tri(L, a):
    """`a` (square) with a dominant diagonal (well-conditioned triangles)."""
    return a + 8 * L.numpy.eye(a.shape[-1], dtype=a.dtype)


def _quartic(L, a):
    """A smooth objective with its minimum near `a` (computed in `a`'s dtype)."""
    w = L.numpy.arange(1.0, 4.0, dtype=a.dtype)
    return lambda x: L.numpy.sum((x - a) ** 2 * w + x**4 / 4)


def _bfgs(r):
    """Every field in float64; in float32 the solution only: the line search's rounding-level
    decisions (XLA's float32 arithmetic is not NumPy's or gcc's) change the counters and status."""
    return r if r.x.dtype == "float64" else (r.x, r.fun)


def one(fn, shapes, **kw):
    return Spec([Call(fn, shapes)], **kw)


def _sl(L, name):
    return L.resolve(_s + name)


SPECS = {
    _s + "cholesky": Spec(
        [
            Call(lambda f, L, a: f(_sym(L, a)), M),
            Call(lambda f, L, a: f(_sym(L, a), lower=True), M),
        ],
        **_lin,
    ),  # fmt: skip
    _s + "cho_factor": one(lambda f, L, a: f(_sym(L, a), lower=True), M, **_lin),
    _s + "cho_solve": Spec(
        [
            Call(lambda f, L, a, b: f(_sl(L, "cho_factor")(_sym(L, a)), b), [((3, 3), (3, 2))]),
            Call(
                lambda f, L, a, b: f(_sl(L, "cho_factor")(_sym(L, a), lower=True), b),
                [((3, 3), (3,))],
            ),
        ],
        **_flt,
    ),  # fmt: skip
    _s + "solve_triangular": Spec(
        [
            Call(lambda f, L, a, b: f(_tri(L, a), b, lower=True), [((3, 3), (3, 2))]),
            Call(lambda f, L, a, b: f(_tri(L, a), b, trans=1), [((3, 3), (3,))]),
            Call(
                lambda f, L, a, b: f(_tri(L, a), b, trans="T", lower=True, unit_diagonal=True),
                [((2, 3, 3), (2, 3, 2))],
            ),
        ],
        **_lin,
    ),  # fmt: skip
    _s + "lu": Spec(
        [
            Call(lambda f, L, a: f(a), [((3, 3),), ((3, 4),), ((4, 2),)]),
            Call(lambda f, L, a: f(a, permute_l=True), [((3, 3),)]),
        ],
        **_flt,
    ),  # fmt: skip
    _s + "lu_factor": one(lambda f, L, a: f(a), M + [((2, 3),)], **_flt),
    _s + "lu_solve": Spec(
        [
            Call(lambda f, L, a, b: f(_sl(L, "lu_factor")(_tri(L, a)), b), [((3, 3), (3, 2))]),
            Call(
                lambda f, L, a, b: f(_sl(L, "lu_factor")(_tri(L, a)), b, trans=1), [((3, 3), (3,))]
            ),
        ],
        **_flt,
    ),  # fmt: skip
    _s + "qr": Spec(
        [
            Call(lambda f, L, a: L.numpy.abs(f(a)[1]), M),
            Call(lambda f, L, a: L.numpy.abs(f(a, mode="economic")[1]), [((4, 3),)]),
            Call(lambda f, L, a: L.numpy.abs(f(a, mode="r")[0]), [((4, 3),)]),
        ],
        **_lin,
    ),  # fmt: skip
    _s + "eigh": Spec(
        [
            Call(lambda f, L, a: f(_sym(L, a))[0], M),
            Call(lambda f, L, a: f(_sym(L, a), eigvals_only=True, lower=False), M),
        ],
        **_lin,
    ),  # fmt: skip
    _s + "svd": one(lambda f, L, a: f(a, compute_uv=False), M, **_lin),
    _s + "inv": one(lambda f, L, a: f(_sym(L, a)), M, **_lin),
    _s + "det": one(lambda f, L, a: f(a), M, **_lin),
    _s + "solve": Spec(
        [
            Call(lambda f, L, a, b: f(_sym(L, a), b), [((3, 3), (3, 2))]),
            Call(lambda f, L, a, b: f(_sym(L, a), b, assume_a="pos"), [((3, 3), (3, 2))]),
        ],
        **_lin,
    ),  # fmt: skip
    _s + "expm": Spec(
        [Call(lambda f, L, a: f(a * 0.05), M), Call(lambda f, L, a: f(a), [((3, 3),)])],
        **_flt,
    ),  # fmt: skip
    _s + "block_diag": Spec(
        [
            Call(lambda f, L, a, b: f(a, b), [((2, 3), (1, 2))]),
            Call(lambda f, L, a, b, c: f(a, b, c), [((2, 2), (3,), ())]),
        ],
        diff=True,
    ),  # fmt: skip
    "scipy.integrate.trapezoid": Spec(
        [
            Call(lambda f, L, y: f(y), [((3, 4),), ((5,),)]),
            Call(lambda f, L, y, x: f(y, x), [((3, 4), (4,)), ((5,), (5,))]),
            Call(lambda f, L, y: f(y, dx=0.5, axis=0), [((3, 4),)]),
        ],
        diff=True,
    ),  # fmt: skip
    "scipy.optimize.minimize": Spec(
        [
            Call(
                lambda f, L, a: _bfgs(f(_quartic(L, a), L.numpy.zeros(3, a.dtype), method="BFGS")),
                [((3,),)],
            )
        ],
        dtypes=FLOATS,
        tol=1e3,
    ),  # fmt: skip
}
