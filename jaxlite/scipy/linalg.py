"""`jaxlite.scipy.linalg`: SciPy's linear-algebra faces (its keyword conventions: `lower=`,
`trans=`, `overwrite_*` and `check_finite` accepted and ignored), as JAX 0.10 has them.

Built on `jaxlite.numpy.linalg` (cholesky, qr, eigh, svd, inv, det, solve), the
`triangular_solve` primitive (solve_triangular, cho_solve, lu_solve) and an LU with partial
pivoting written as min(m, n) static steps of jnp operations (so it traces, batches over leading
dimensions and differentiates; meant for small matrices, as the rest of jaxlite's linalg).
"""

from __future__ import annotations

import numpy as np

from jaxlite import dtypes
from jaxlite import numpy as jnp
from jaxlite.numpy import linalg as jla
from jaxlite.numpy._util import promote_dtypes_inexact
from jaxlite.primitives._linalg import triangular_solve

__all__ = [
    "block_diag",
    "cho_factor",
    "cho_solve",
    "cholesky",
    "det",
    "eigh",
    "expm",
    "inv",
    "lu",
    "lu_factor",
    "lu_solve",
    "qr",
    "solve",
    "solve_triangular",
    "svd",
]


def _mT(x):
    return jnp.swapaxes(x, -1, -2)


def _square(name: str, a):
    (a,) = promote_dtypes_inexact(f"scipy.linalg.{name}", jnp.asarray(a))
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(
            f"jaxlite.scipy.linalg.{name}: expected square matrices (..., n, n), "
            f"got shape {a.shape}"
        )
    return a


def _trans_flags(name: str, trans) -> tuple[bool, bool]:
    """SciPy's `trans` (0/'N', 1/'T', 2/'C') as `(transpose_a, conjugate_a)` ('C' conjugates
    complex arrays; on real ones it is 'T')."""
    if trans in (0, "N"):
        return False, False
    if trans in (1, "T"):
        return True, False
    if trans in (2, "C"):
        return True, True
    raise ValueError(f"jaxlite.scipy.linalg.{name}: invalid trans value {trans!r}")


def _tri_solve(name, a, b, *, lower, transpose_a=False, conjugate_a=False, unit_diagonal=False):
    """`op(a) @ x = b` for b (..., m) or (..., m, k), with batch dimensions broadcast."""
    a, b = promote_dtypes_inexact(f"scipy.linalg.{name}", jnp.asarray(a), jnp.asarray(b))
    vec = b.ndim == a.ndim - 1
    if vec:
        b = b[..., None]
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(
            f"jaxlite.scipy.linalg.{name}: b of shape {b.shape[:-1] if vec else b.shape} "
            f"does not match a of shape {a.shape} (b needs {a.shape[-1]} rows)"
        )
    batch = jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = jnp.broadcast_to(a, batch + a.shape[-2:])
    b = jnp.broadcast_to(b, batch + b.shape[-2:])
    x = triangular_solve(
        a, b, left_side=True, lower=lower, transpose_a=transpose_a,
        conjugate_a=conjugate_a and a.dtype.kind == "c", unit_diagonal=unit_diagonal,
    )  # fmt: skip
    return x[..., 0] if vec else x


# ------------------------------------------------------------------------------------------
# Triangular systems and Cholesky
# ------------------------------------------------------------------------------------------


def solve_triangular(
    a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, debug=None,
    check_finite=True,
):  # fmt: skip
    """Solves `op(a) @ x = b` for triangular `a` (only its `lower` or upper triangle is read).

    Args:
      a: (..., m, m) triangular matrices.
      b: (..., m) or (..., m, k) right-hand sides.
      trans: 0/'N' solves `a @ x = b`, 1/'T' `a.T @ x = b`, 2/'C' `a.conj().T @ x = b`.
      lower: use the lower triangle of `a` (default: the upper one).
      unit_diagonal: assume ones on the diagonal (`a`'s diagonal is not read).

    Returns:
      `x`, of `b`'s shape (batch dimensions broadcast).

    Example:
      >>> solve_triangular(jnp.array([[2.0, 0.0], [1.0, 1.0]]), jnp.array([2.0, 3.0]), lower=True)
      Array([1., 2.], dtype=float64)
    """
    del overwrite_b, debug, check_finite
    transpose_a, conjugate_a = _trans_flags("solve_triangular", trans)
    a = _square("solve_triangular", a)
    return _tri_solve(
        "solve_triangular", a, b, lower=lower, transpose_a=transpose_a,
        conjugate_a=conjugate_a, unit_diagonal=unit_diagonal,
    )  # fmt: skip


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """Cholesky factor of symmetric positive-definite matrices: upper `U` with `U.T @ U = a`
    (default) or lower `L` with `L @ L.T = a`; NaN where `a` is not positive definite. Reads
    the triangle it returns (SciPy's convention; jnp.linalg.cholesky symmetrizes instead)."""
    del overwrite_a, check_finite
    a = _square("cholesky", a)
    if lower:
        return jla.cholesky(jnp.tril(a) + jnp.conj(_mT(jnp.tril(a, -1))))
    return jnp.conj(_mT(jla.cholesky(jnp.triu(a) + jnp.conj(_mT(jnp.triu(a, 1))))))


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """`(c, lower)`: the Cholesky factor of `a` for `cho_solve` (zeros in the other triangle)."""
    return cholesky(a, lower=lower, overwrite_a=overwrite_a, check_finite=check_finite), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """Solves `a @ x = b` given `cho_factor(a)` = `(c, lower)`; b is (..., n) or (..., n, k)."""
    del overwrite_b, check_finite
    c, lower = c_and_lower
    c = _square("cho_solve", c)
    # a = L L^H: solve L y = b, then L^H x = y (upper: a = U^H U, the same with U^H as L).
    y = _tri_solve("cho_solve", c, b, lower=lower, transpose_a=not lower, conjugate_a=not lower)
    return _tri_solve("cho_solve", c, y, lower=lower, transpose_a=lower, conjugate_a=lower)


# ------------------------------------------------------------------------------------------
# LU with partial pivoting
# ------------------------------------------------------------------------------------------


def _lu_steps(a):
    """LAPACK getrf on (..., m, n): packed LU, pivots (..., k) int32 and the permutation
    (..., m) with `a[perm] = L @ U`, by min(m, n) static elimination steps."""
    *batch, m, n = a.shape
    k = min(m, n)
    rows = jnp.arange(m)[:, None]  # (m, 1)
    cols = jnp.arange(n)[None, :]  # (1, n)
    perm = jnp.broadcast_to(jnp.arange(m, dtype=dtypes.default_int_dtype()), (*batch, m))
    pivots = []
    for j in range(k):
        cand = jnp.where(rows[:, 0] >= j, jnp.abs(a[..., :, j]), -1)
        p = jnp.argmax(cand, axis=-1)  # (...,)
        pivots.append(p)
        is_p = rows[:, 0] == p[..., None]  # (..., m)
        row_p = jnp.sum(jnp.where(is_p[..., None], a, 0), axis=-2, keepdims=True)
        row_j = a[..., j : j + 1, :]
        a = jnp.where(rows == j, row_p, jnp.where(is_p[..., None], row_j, a))
        perm_p = jnp.sum(jnp.where(is_p, perm, 0), axis=-1, keepdims=True)
        perm = jnp.where(rows[:, 0] == j, perm_p, jnp.where(is_p, perm[..., j : j + 1], perm))
        pivot = a[..., j : j + 1, j : j + 1]
        below = rows > j
        l_col = jnp.where(below, a[..., :, j : j + 1] / pivot, 0)  # (..., m, 1)
        a = jnp.where(below & (cols == j), l_col, a)
        a = a - jnp.where(below & (cols > j), l_col * a[..., j : j + 1, :], 0)
    piv = jnp.stack(pivots, axis=-1).astype(np.int32) if k else jnp.zeros((*batch, 0), np.int32)
    return a, piv, perm


def lu_factor(a, overwrite_a=False, check_finite=True):
    """`(lu, piv)`: L (unit diagonal, below) and U packed in one matrix, and LAPACK's pivots
    (row `i` was swapped with row `piv[i]`), for `lu_solve`.

    Example:
      >>> lu, piv = lu_factor(jnp.array([[1.0, 2.0], [3.0, 4.0]]))
      >>> piv
      Array([1, 1], dtype=int32)
    """
    del overwrite_a, check_finite
    (a,) = promote_dtypes_inexact("scipy.linalg.lu_factor", jnp.asarray(a))
    if a.ndim < 2:
        raise ValueError(f"jaxlite.scipy.linalg.lu_factor: expected matrices, got shape {a.shape}")
    lu_, piv, _ = _lu_steps(a)
    return lu_, piv


def lu(a, permute_l=False, overwrite_a=False, check_finite=True):
    """`(p, l, u)` with `a = p @ l @ u` (`(p @ l, u)` with `permute_l`): `p` a permutation
    matrix, `l` (m, k) unit lower triangular, `u` (k, n) upper triangular, k = min(m, n)."""
    del overwrite_a, check_finite
    (a,) = promote_dtypes_inexact("scipy.linalg.lu", jnp.asarray(a))
    if a.ndim < 2:
        raise ValueError(f"jaxlite.scipy.linalg.lu: expected matrices, got shape {a.shape}")
    m, n = a.shape[-2:]
    k = min(m, n)
    packed, _, perm = _lu_steps(a)
    l_ = jnp.tril(packed[..., :, :k], -1) + jnp.eye(m, k, dtype=a.dtype)
    u = jnp.triu(packed[..., :k, :])
    # a[perm] = l @ u, so a = p @ l @ u with p[perm[i], i] = 1.
    p = (perm[..., None, :] == jnp.arange(m)[:, None]).astype(
        dtypes.to_real(a.dtype)
    )  # real, as JAX
    if permute_l:
        return jnp.matmul(p, l_), u
    return p, l_, u


def _pivots_to_permutation(piv, m: int):
    """The row order (..., m) that LAPACK's sequence of swaps `piv` (..., k) produces."""
    perm = jnp.broadcast_to(jnp.arange(m, dtype=piv.dtype), (*piv.shape[:-1], m))
    idx = jnp.arange(m, dtype=piv.dtype)
    for i in range(piv.shape[-1]):
        p = piv[..., i : i + 1]
        at_p = jnp.sum(jnp.where(idx == p, perm, 0), axis=-1, keepdims=True)
        perm = jnp.where(idx == i, at_p, jnp.where(idx == p, perm[..., i : i + 1], perm))
    return perm


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """Solves `a @ x = b` (trans=0), `a.T @ x = b` (trans=1) or `a^H @ x = b` (trans=2) given
    `lu_factor(a)`;
    b is (..., n) or (..., n, k)."""
    del overwrite_b, check_finite
    lu_, piv = lu_and_piv
    lu_ = _square("lu_solve", lu_)
    transpose, conjugate = _trans_flags("lu_solve", trans)
    (b,) = promote_dtypes_inexact("scipy.linalg.lu_solve", jnp.asarray(b))
    b = b.astype(lu_.dtype) if b.dtype != lu_.dtype else b
    m = lu_.shape[-1]
    vec = b.ndim == lu_.ndim - 1
    bm = b[..., None] if vec else b
    if bm.ndim < 2 or bm.shape[-2] != m:
        raise ValueError(
            f"jaxlite.scipy.linalg.lu_solve: b of shape {b.shape} does not match lu of shape "
            f"{lu_.shape} (b needs {m} rows)"
        )
    perm = _pivots_to_permutation(jnp.asarray(piv), m)
    onehot = (perm[..., :, None] == jnp.arange(m)).astype(lu_.dtype)  # P with P @ a = L U
    if not transpose:  # L U x = P b
        y = _tri_solve("lu_solve", lu_, jnp.matmul(onehot, bm), lower=True, unit_diagonal=True)
        x = _tri_solve("lu_solve", lu_, y, lower=False)
    else:  # a.T = U.T L.T P: U.T z = b, L.T w = z, x = P.T w (conjugated for trans=2)
        z = _tri_solve("lu_solve", lu_, bm, lower=False, transpose_a=True, conjugate_a=conjugate)
        w = _tri_solve("lu_solve", lu_, z, lower=True, transpose_a=True, conjugate_a=conjugate,
                       unit_diagonal=True)  # fmt: skip
        x = jnp.matmul(_mT(onehot), w)
    return x[..., 0] if vec else x


# ------------------------------------------------------------------------------------------
# Faces of jnp.linalg
# ------------------------------------------------------------------------------------------


def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """QR decomposition, SciPy's modes: 'full' -> (q (m, m), r (m, n)), 'economic' -> (q (m, k),
    r (k, n)), 'r' -> (r (m, n),) (a tuple, as SciPy and JAX)."""
    del overwrite_a, lwork, check_finite
    if pivoting:
        raise NotImplementedError("jaxlite.scipy.linalg.qr: pivoting=True is not implemented")
    if mode not in ("full", "r", "economic"):
        raise ValueError(
            f"jaxlite.scipy.linalg.qr: unsupported mode {mode!r}: use 'full', 'r' or 'economic'"
        )
    q, r = jla.qr(a, mode="reduced" if mode == "economic" else "complete")
    return (r,) if mode == "r" else (q, r)


def eigh(
    a, b=None, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False,
    turbo=True, eigvals=None, type=1, check_finite=True, subset_by_index=None,
):  # fmt: skip
    """Eigenvalues (ascending) `w` and eigenvectors `v` of symmetric matrices, reading the
    `lower` (default) or upper triangle; `subset_by_index=(lo, hi)` keeps w[lo:hi+1]."""
    del overwrite_a, overwrite_b, turbo, check_finite
    if b is not None:
        raise NotImplementedError("jaxlite.scipy.linalg.eigh: only b=None is implemented")
    if type != 1:
        raise NotImplementedError("jaxlite.scipy.linalg.eigh: only type=1 is implemented")
    if eigvals is not None:
        raise NotImplementedError(
            "jaxlite.scipy.linalg.eigh: eigvals= is not implemented (use subset_by_index)"
        )
    a = _square("eigh", a)
    w, v = jla.eigh(a, UPLO="L" if lower else "U", symmetrize_input=False)
    if subset_by_index is not None:
        lo, hi = (int(i) for i in subset_by_index)
        w, v = w[..., lo : hi + 1], v[..., lo : hi + 1]
    return w if eigvals_only else (w, v)


def svd(
    a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
    lapack_driver="gesdd",
):  # fmt: skip
    """Singular value decomposition `(u, s, vh)` (`s` only without `compute_uv`)."""
    del overwrite_a, check_finite, lapack_driver
    return jla.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)


def inv(a, overwrite_a=False, check_finite=True):
    """Inverse of square matrices (..., n, n)."""
    del overwrite_a, check_finite
    return jla.inv(_square("inv", a))


def det(a, overwrite_a=False, check_finite=True):
    """Determinant of square matrices (..., n, n)."""
    del overwrite_a, check_finite
    return jla.det(_square("det", a))


def solve(
    a, b, lower=False, overwrite_a=False, overwrite_b=False, debug=False, check_finite=True,
    assume_a="gen",
):  # fmt: skip
    """Solves `a @ x = b`; `assume_a='pos'` solves by Cholesky (reading the `lower` or upper
    triangle), any other value ('gen', 'sym', 'her') by LU."""
    del overwrite_a, overwrite_b, debug, check_finite
    if assume_a not in ("gen", "sym", "her", "pos"):
        raise ValueError(f"jaxlite.scipy.linalg.solve: unknown assume_a {assume_a!r}")
    a = _square("solve", a)
    if assume_a != "pos":
        return jla.solve(a, b)
    (b,) = promote_dtypes_inexact("scipy.linalg.solve", jnp.asarray(b))
    return cho_solve(cho_factor(a, lower=lower), b)


def block_diag(*arrs):
    """The block-diagonal matrix of `arrs` (each at most 2-D: scalars and vectors are rows).

    Example:
      >>> block_diag(jnp.ones((1, 2)), 3.0).shape
      (2, 3)
    """
    if not arrs:
        return jnp.zeros((1, 0))
    arrs = jnp.atleast_2d(*arrs)
    arrs = [arrs] if not isinstance(arrs, (list, tuple)) else list(arrs)
    bad = [i for i, x in enumerate(arrs) if x.ndim > 2]
    if bad:
        raise ValueError(
            "jaxlite.scipy.linalg.block_diag: arguments must be at most 2-D, got argument "
            f"{bad[0]} of shape {arrs[bad[0]].shape}"
        )
    dt = jnp.result_type(*arrs)
    width = sum(x.shape[1] for x in arrs)
    rows, left = [], 0
    for x in arrs:
        r, c = x.shape
        rows.append(jnp.pad(x.astype(dt), ((0, 0), (left, width - left - c))))
        left += c
    return jnp.concatenate(rows, axis=0)


# ------------------------------------------------------------------------------------------
# expm: Pade approximation with scaling and squaring (Higham 2005)
# ------------------------------------------------------------------------------------------

# Pade orders chosen by the 1-norm of `a` (bins between these bounds, Higham's theta_m, as JAX
# chooses them), and the norm above which `a` is scaled by 2^-s first: float32 uses orders up to
# 7, float64 up to 13.
_PADE_B = {
    3: (120.0, 60.0, 12.0, 1.0),
    5: (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0),
    7: (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0),
    9: (
        17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0,
        110880.0, 3960.0, 90.0, 1.0,
    ),
    13: (
        64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
        129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
        40840800.0, 960960.0, 16380.0, 182.0, 1.0,
    ),
}  # fmt: skip
_ORDERS = {  # dtype -> (orders, bounds between them, the scaling threshold)
    "float32": ((3, 5, 7), (4.258730016922831e-001, 1.880152677804762e000), 3.925724783138660),
    "float64": (
        (3, 5, 7, 9, 13),
        (1.495585217958292e-002, 2.539398330063230e-001, 9.504178996162932e-001,
         2.097847961257068e000),
        5.371920351148152,
    ),
}  # fmt: skip


def _pade(a, order: int):
    """(P, Q) of the diagonal Pade approximant of exp of order `order` (P/Q ~ exp(a))."""
    b = _PADE_B[order]
    n = a.shape[-1]
    eye = jnp.broadcast_to(jnp.eye(n, dtype=a.dtype), a.shape)
    a2 = jnp.matmul(a, a)
    if order <= 9:
        powers = [eye, a2]
        while len(powers) <= order // 2:
            powers.append(jnp.matmul(powers[-1], a2))
        u = jnp.matmul(a, sum(b[2 * i + 1] * powers[i] for i in range(len(powers))))
        v = sum(b[2 * i] * powers[i] for i in range(len(powers)))
    else:
        a4 = jnp.matmul(a2, a2)
        a6 = jnp.matmul(a4, a2)
        u = jnp.matmul(
            a,
            jnp.matmul(a6, b[13] * a6 + b[11] * a4 + b[9] * a2)
            + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye,
        )  # fmt: skip
        v = (
            jnp.matmul(a6, b[12] * a6 + b[10] * a4 + b[8] * a2)
            + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
        )  # fmt: skip
    return v + u, v - u


def expm(A, *, upper_triangular=False, max_squarings=16):
    """Matrix exponential of square matrices (..., n, n), by Pade approximation with scaling
    and squaring (the order chosen by the 1-norm as JAX does: 3 to 13 in float64, 3 to 7 in
    float32). NaN where more than `max_squarings` squarings would be needed.

    Example:
      >>> expm(jnp.zeros((2, 2)))
      Array([[1., 0.],
             [0., 1.]], dtype=float64)
    """
    del upper_triangular
    a = _square("expm", A)
    if a.shape[-1] == 0:
        return a
    orders, bounds, maxnorm = _ORDERS["float32" if a.dtype == np.float32 else "float64"]
    norm = jnp.max(jnp.sum(jnp.abs(a), axis=-2), axis=-1)[..., None, None]  # the 1-norm
    s = jnp.maximum(0, jnp.floor(jnp.log2(norm / maxnorm)))
    scaled = a / 2.0**s
    # The order is chosen by the norm before scaling (as JAX does); every candidate is computed
    # and selected, so that batches and derivatives need no branches (small matrices).
    p, q = _pade(scaled, orders[-1])
    for order, bound in reversed(list(zip(orders[:-1], bounds))):
        po, qo = _pade(scaled, order)
        below = norm < bound
        p, q = jnp.where(below, po, p), jnp.where(below, qo, q)
    r = jnp.linalg.solve(q, p)
    for i in range(max_squarings):
        r = jnp.where(s > i, jnp.matmul(r, r), r)
    return jnp.where(s > max_squarings, np.nan, r)
