"""`jnp.linalg.qr` by Householder reflections with LAPACK's conventions (`dgeqrf`/`dorgqr`): one
`scan` step per column reduces the matrix and emits its reflector, a reverse `scan` applies the
reflectors to the identity to form Q. Compositions of jnp ops, so every transformation applies.
"""

from __future__ import annotations

from typing import NamedTuple

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.control_flow import scan
from jaxlite.numpy import _reductions as red
from jaxlite.numpy._sorting import where
from jaxlite.numpy._ufuncs import (
    absolute,
    add,
    divide,
    equal,
    greater,
    greater_equal,
    less,
    multiply,
    negative,
    sqrt,
    subtract,
)
from jaxlite.numpy._util import LinAlgError, dtype_of, fname, inexact_arg, shape_of

_MODES = ("reduced", "complete", "r", "raw")


class QRResult(NamedTuple):
    Q: object
    R: object


# ------------------------------------------------------------------------------------------
# Householder reduction (LAPACK's dgeqr2 / dlarfg)
# ------------------------------------------------------------------------------------------


def _iota(shape, dimension: int):
    return lax.broadcasted_iota(dtypes.int64, shape, dimension)


def _reflector(col, k):
    """LAPACK's `dlarfg` (complex: `zlarfg`) on `col[k:]` of `col` (..., m): `(v, tau, beta)`
    with `v[k] = 1`, `v[:k] = 0` and `(I - conj(tau) v v^H) col[k:] = beta e_k`, beta real.

    `beta = -sign(alpha) ||col[k:]||` with `alpha = col[k]` (sign(0) = +1); when `col[k+1:]` is
    zero the reflector is the identity (`tau = 0`, `beta = alpha`), which also keeps zero columns
    free of NaN (the divisions below see 1 there, so gradients stay finite too). Complex: the
    sign is that of `real(alpha)`, and the reflector is the identity only if `alpha` is real too.
    """
    cplx = dtype_of(col).kind == "c"
    m = shape_of(col)[-1]
    r = _iota((m,), 0)
    alpha = red.sum(where(equal(r, k), col, 0.0), -1)
    below = where(greater(r, k), col, 0.0)
    # NB: the reflector is computed from the column divided by its largest entry, so that
    # squares and reciprocals neither overflow nor underflow (LAPACK rescales likewise); the
    # results do not depend on the scale, so its derivative cancels.
    big = red.max(absolute(where(less(r, k), 0.0, col)), -1, initial=0.0)
    big = where(equal(big, 0.0), 1.0, big)
    below_s, alpha_s = divide(below, lax.expand_dims(big, (-1,))), divide(alpha, big)
    sigma = red.sum(_sq_abs(below_s), -1)
    skip = equal(sigma, 0.0)
    if cplx:
        skip = lax.bitwise_and(skip, equal(lax.imag(alpha_s), 0.0))
    norm_s = sqrt(add(_sq_abs(alpha_s), where(skip, 1.0, sigma)))
    re_alpha = lax.real(alpha_s) if cplx else alpha_s
    beta_s = where(greater_equal(re_alpha, 0.0), negative(norm_s), norm_s)  # |beta_s| >= 1
    tau = where(skip, 0.0, divide(subtract(beta_s, alpha_s), beta_s))
    scale = divide(1.0, where(skip, 1.0, subtract(alpha_s, beta_s)))
    v = where(equal(r, k), 1.0, multiply(below_s, lax.expand_dims(scale, (-1,))))
    beta = where(skip, alpha, multiply(big, beta_s))
    return v, tau, beta


def _sq_abs(x):
    """|x|^2 (real)."""
    return lax.real(lax.mul(lax.conj(x), x)) if dtype_of(x).kind == "c" else multiply(x, x)


def _reflect(x, v, tau):
    """`(I - tau v v^H) x` for `x` (..., m, q), `v` (..., m), `tau` (...)."""
    vc = lax.expand_dims(v, (-1,))  # (..., m, 1)
    vh = lax.conj(vc) if dtype_of(vc).kind == "c" else vc
    w = red.sum(multiply(vh, x), -2, keepdims=True)  # (..., 1, q)
    return subtract(x, multiply(multiply(lax.expand_dims(tau, (-1, -2)), vc), w))


def _reduce_step(a, k):
    """Column `k` of `a` (..., m, n): reflect columns > k, write `beta e_k` into column k."""
    m, n = shape_of(a)[-2:]
    cols = _iota((1, n), 1)
    rows = _iota((m, 1), 0)
    col = red.sum(where(equal(cols, k), a, 0.0), -1)  # (..., m)
    v, tau, beta = _reflector(col, k)
    new_col = where(equal(rows, k), lax.expand_dims(beta, (-1, -2)), where(less(rows, k), a, 0.0))
    tau_h = lax.conj(tau) if dtype_of(tau).kind == "c" else tau  # R = H^H a (zgeqr2)
    a = where(greater(cols, k), _reflect(a, v, tau_h), where(equal(cols, k), new_col, a))
    return a, (v, tau)


def _householder(a):
    """Reduces `a` (..., m, n) to upper-trapezoidal R; returns R and the reflectors `v`
    (p, ..., m) and `tau` (p, ...), p = min(m, n), reflector k acting on rows k:."""
    p = min(shape_of(a)[-2:])
    # NB: module-level step functions, so `scan` stages each once per signature.
    r, (vs, taus) = scan(_reduce_step, a, lax.iota(dtypes.int64, p))
    return r, vs, taus


def _apply_step(e, v_tau):
    v, tau = v_tau
    return _reflect(e, v, tau), None


def _form_q(vs, taus, batch, m: int, cols: int, dt):
    """`H_0 H_1 ... H_{p-1} I[:, :cols]` (LAPACK's `dorgqr`), applying H_{p-1} first."""
    eye = lax.convert_element_type(equal(_iota((m, cols), 0), _iota((m, cols), 1)), dt)
    e = lax.broadcast_in_dim(eye, batch + (m, cols), (len(batch), len(batch) + 1))
    q, _ = scan(_apply_step, e, (vs, taus), reverse=True)
    return q


def _raw(r, vs, taus):
    """NumPy's `mode="raw"`: `h` (..., n, m) holding R and the reflectors below the diagonal (the
    transposed, Fortran-order `dgeqrf` output) and `tau` (..., p)."""
    s = shape_of(r)
    m, n, nb = s[-2], s[-1], len(s) - 2
    p = shape_of(vs)[0]
    vmat = lax.transpose(vs, tuple(range(1, nb + 1)) + (nb + 1, 0))  # (..., m, p)
    if n > p:  # wide: no reflectors for the last n - p columns
        zero = lax.convert_element_type(0.0, dtype_of(r))
        vmat = lax.pad(vmat, zero, [(0, 0, 0)] * (nb + 1) + [(0, n - p, 0)])
    h = where(greater(_iota((m, n), 0), _iota((m, n), 1)), vmat, r)
    tau = lax.transpose(taus, tuple(range(1, nb + 1)) + (0,))
    return lax.transpose(h, tuple(range(nb)) + (nb + 1, nb)), tau


# ------------------------------------------------------------------------------------------
# Public API
# ------------------------------------------------------------------------------------------


def qr(a, mode: str = "reduced"):
    """QR decomposition `a = Q @ R` of matrices (..., M, N), by Householder reflections.

    Signs follow LAPACK (NumPy): R's diagonal is `-sign(alpha) * ||column||` at each step, so it
    may be negative; a column already zero below the diagonal is left as it is. Derivatives
    (forward and reverse, any order) are those of the algorithm, valid where every reflected
    column is nonzero below the diagonal (e.g. `a` of full column rank and generic).

    Args:
      a: array of shape (..., M, N); integers become float32 (int64: float64).
      mode: with K = min(M, N),
        "reduced": Q (..., M, K) and R (..., K, N) (default);
        "complete": Q (..., M, M) and R (..., M, N);
        "r": R (..., K, N) alone;
        "raw": NumPy's LAPACK-internal `(h, tau)`, of shapes (..., N, M) and (..., K).

    Returns:
      `QRResult(Q, R)` for "reduced" and "complete", R for "r", a tuple `(h, tau)` for "raw".

    Example:
      >>> Q, R = jnp.linalg.qr(jnp.array([[3.0, 1.0], [4.0, 2.0]]))
      >>> R
      Array([[-5. , -2.2],
             [ 0. ,  0.4]], dtype=float32)
    """
    if mode not in _MODES:
        raise ValueError(
            f"jnp.linalg.qr: unsupported mode {mode!r}; use 'reduced', 'complete', 'r' or 'raw'"
        )
    a = inexact_arg("linalg.qr", a)
    s = shape_of(a)
    if len(s) < 2:
        raise LinAlgError(
            f"{fname('linalg.qr')}: expected an array of at least 2 dimensions (..., M, N), got "
            f"shape {s}"
        )
    batch, (m, n), dt = s[:-2], s[-2:], dtype_of(a)
    p = min(m, n)
    r, vs, taus = _householder(a)
    if mode == "raw":
        return _raw(r, vs, taus)
    if mode != "complete" and m > p:
        r = lax.slice(r, (0,) * len(s), batch + (p, n))
    if mode == "r":
        return r
    q = _form_q(vs, taus, batch, m, m if mode == "complete" else p, dt)
    return QRResult(q, r)
