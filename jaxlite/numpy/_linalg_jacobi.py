"""`jnp.linalg.eigh`, `svd` and what builds on them (`pinv`, `lstsq`, `matrix_rank`), by Jacobi
rotations in round-robin order: each round rotates n/2 disjoint index pairs at once, inside a
`fori_loop` over a fixed number of sweeps (meant for small and medium matrices).

Complex (Hermitian) matrices use the same real rotations after a phase: the pair (p, q) with
`a_pq = |a_pq| e` is first rotated by diag(1, conj(e)), which makes `a_pq` real (issue 21).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.control_flow import cond, fori_loop
from jaxlite.custom_derivatives import custom_jvp
from jaxlite.numpy import _reductions as red
from jaxlite.numpy._creation import diagonal
from jaxlite.numpy._dot import matmul
from jaxlite.numpy._shape import matrix_transpose as _mT
from jaxlite.numpy._sorting import where
from jaxlite.numpy._ufuncs import (
    absolute,
    add,
    divide,
    equal,
    greater,
    greater_equal,
    less,
    less_equal,
    maximum,
    multiply,
    negative,
    not_equal,
    sqrt,
    subtract,
)
from jaxlite.numpy._util import (
    LinAlgError,
    asarray,
    concrete_value,
    convert,
    dtype_of,
    fname,
    inexact_arg,
    promote_dtypes_inexact,
    shape_of,
)

# Sweeps of the cyclic Jacobi methods (convergence is quadratic once the off-diagonal part is
# small). Measured on random matrices: 50 x 50 reaches rounding after 8 sweeps in float64 and
# 6 in float32, 20 x 20 after 6 and 5; the counts below leave a margin.
_SWEEPS = {np.dtype(np.float32): 8, np.dtype(np.float64): 10}


def _sweeps(dt) -> int:
    return _SWEEPS[np.dtype(dtypes.to_real(np.dtype(dt)))]


def _is_complex(x) -> bool:
    return dtype_of(x).kind == "c"


def _mH(x):
    """The conjugate transpose of the last two axes (the transpose of real matrices)."""
    return lax.conj(_mT(x)) if _is_complex(x) else _mT(x)


def _re(x):
    """The real part of complex `x` (real `x` as it is)."""
    return lax.real(x) if _is_complex(x) else x


def _cj(x):
    """conj(x), None for None."""
    return None if x is None else lax.conj(x)


def _sq_abs(x):
    """|x|^2, real."""
    return lax.real(lax.mul(lax.conj(x), x)) if _is_complex(x) else multiply(x, x)


class EighResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


class SVDResult(NamedTuple):
    U: object
    S: object
    Vh: object


# ------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------


def _matrix_arg(name: str, a):
    """`a` as a float array of at least 2 dimensions, or `LinAlgError`."""
    a = inexact_arg(name, a)
    if len(shape_of(a)) < 2:
        raise LinAlgError(
            f"{fname(name)}: expected an array of at least 2 dimensions (..., m, n), got shape "
            f"{shape_of(a)}"
        )
    return a


def _square_arg(name: str, a):
    a = _matrix_arg(name, a)
    s = shape_of(a)
    if s[-1] != s[-2]:
        raise LinAlgError(f"{fname(name)}: expected square matrices (..., n, n), got shape {s}")
    return a


def _eye(n: int, dt, batch=()):
    """The identity of size `n` in dtype `dt`, broadcast over `batch`."""
    i = lax.broadcasted_iota(dtypes.int64, (n, n), 0)
    j = lax.broadcasted_iota(dtypes.int64, (n, n), 1)
    eye = lax.convert_element_type(equal(i, j), dt)
    return lax.broadcast_in_dim(eye, batch + (n, n), (len(batch), len(batch) + 1))


def _expand(x, axis: int):
    """`x` with a size-1 axis inserted at `axis` (negative: counted from the end)."""
    s = shape_of(x)
    axis = axis % (len(s) + 1)
    return lax.reshape(x, s[:axis] + (1,) + s[axis:])


def _cut(x, axis: int, start: int, stop: int):
    """`x[..., start:stop, ...]` along `axis` (negative)."""
    s = shape_of(x)
    axis = axis % len(s)
    lo = [0] * len(s)
    hi = list(s)
    lo[axis], hi[axis] = start, stop
    return lax.slice(x, tuple(lo), tuple(hi))


def _pad_zeros(x, axis: int, count: int):
    """`x` with `count` zeros appended along `axis` (negative)."""
    if count == 0:
        return x
    cfg = [(0, 0, 0)] * len(shape_of(x))
    cfg[axis % len(cfg)] = (0, count, 0)
    return lax.pad(x, convert(0.0, dtype_of(x)), cfg)


def _round_robin(n: int) -> list[int]:
    """The permutation between rounds of the chess-tournament ordering on `n` (even) indices.

    Round pairs are (k, k + n/2). Index 0 stays in place; the others move one step around the
    ring t1 .. t_{h-1}, b_{h-1} .. b0, so after `n - 1` rounds every pair has met once and the
    order is back to the start.
    """
    h = n // 2
    if h < 2:
        return list(range(n))
    top = [0, h] + list(range(1, h - 1))
    bottom = list(range(h + 1, n)) + [h - 1]
    return top + bottom


def _permute(x, perm: list[int], axis: int):
    """`x` indexed by the static permutation `perm` along `axis`, as slices of contiguous runs."""
    if perm == list(range(len(perm))):
        return x
    runs, start = [], 0
    for k in range(1, len(perm) + 1):
        if k == len(perm) or perm[k] != perm[k - 1] + 1:
            runs.append(_cut(x, axis, perm[start], perm[k - 1] + 1))
            start = k
    return lax.concatenate(runs, len(shape_of(x)) + axis)


def _rotation(app, aqq, apq):
    """Cosine and sine (real) of the Jacobi rotation that zeroes `apq` in
    [[app, apq], [conj(apq), aqq]], and the phase `e` of a complex `apq` (None if real): the
    rotation then acts on the pair after the phase diag(1, conj(e)) (see `_rotate`)."""
    if _is_complex(apq):
        # NB: scaled by the larger part first, in real arithmetic: apq / |apq| of a subnormal
        # apq overflows in complex division (1 / |apq| > the largest float32).
        re, im = lax.real(apq), lax.imag(apq)
        big = maximum(absolute(re), absolute(im))
        zero = equal(big, 0.0)
        safe = where(zero, 1.0, big)
        re_s, im_s = divide(re, safe), divide(im, safe)
        m_s = sqrt(add(multiply(re_s, re_s), multiply(im_s, im_s)))  # in [1, sqrt(2)], or 0
        m_safe = where(zero, 1.0, m_s)
        e = lax.complex(where(zero, 1.0, divide(re_s, m_safe)), divide(im_s, m_safe))
        return (*_real_rotation(_re(app), _re(aqq), multiply(big, m_s)), e)
    return (*_real_rotation(app, aqq, apq), None)


def _real_rotation(app, aqq, apq):
    zero = equal(apq, 0.0)
    tau = divide(subtract(aqq, app), multiply(2.0, where(zero, 1.0, apq)))
    sgn = where(greater_equal(tau, 0.0), 1.0, -1.0)
    t = divide(sgn, add(absolute(tau), sqrt(add(1.0, multiply(tau, tau)))))
    t = where(zero, 0.0, t)
    c = lax.rsqrt(add(1.0, multiply(t, t)))
    return c, multiply(t, c)


def _rotate(x, c, s, axis: int, phase=None):
    """Applies the n/2 rotations to the index pairs (k, k + n/2) along `axis` (-1 or -2):
    for columns, `x[:, p], x[:, q] = c x[:, p] - s x[:, q], s x[:, p] + c x[:, q]`, after
    `x[:, q] *= phase` (complex: conj(e) for columns, e for rows)."""
    h = shape_of(x)[axis] // 2
    c, s = _expand(c, -1 if axis == -2 else -2), _expand(s, -1 if axis == -2 else -2)
    top, bottom = _cut(x, axis, 0, h), _cut(x, axis, h, 2 * h)
    if phase is not None:
        bottom = multiply(bottom, _expand(phase, -1 if axis == -2 else -2))
    new_top = subtract(multiply(top, c), multiply(bottom, s))
    new_bottom = add(multiply(top, s), multiply(bottom, c))
    return lax.concatenate([new_top, new_bottom], len(shape_of(x)) + axis)


def _sort_columns(keys, *mats):
    """Sorts `keys` (..., k) ascending and the columns of each matrix (..., r, k) the same way."""
    outs = []
    for m in mats:
        kb = lax.broadcast_in_dim(keys, shape_of(m), _keep_dims(shape_of(keys), -2))
        outs.append(lax.sort((kb, m), dimension=len(shape_of(m)) - 1, num_keys=1)[1])
    return lax.sort(keys, dimension=len(shape_of(keys)) - 1), outs


def _keep_dims(shape, inserted: int):
    """broadcast_dimensions mapping `shape` into a shape with one axis inserted at `inserted`."""
    nd = len(shape) + 1
    ins = inserted % nd
    return tuple(i if i < ins else i + 1 for i in range(len(shape)))


# ------------------------------------------------------------------------------------------
# eigh: two-sided cyclic Jacobi
# ------------------------------------------------------------------------------------------


def _eigh_round(_, carry):
    """One round of two-sided Jacobi on `a` (..., n, n) (n even) and the vectors `v`."""
    a, v = carry
    n = shape_of(a)[-1]
    h, perm = n // 2, _round_robin(n)
    d = diagonal(a, 0, -2, -1)
    app, aqq = _cut(d, -1, 0, h), _cut(d, -1, h, n)
    apq = diagonal(_cut(_cut(a, -2, 0, h), -1, h, n), 0, -2, -1)
    c, sn, e = _rotation(app, aqq, apq)
    a = _rotate(_rotate(a, c, sn, -1, _cj(e)), c, sn, -2, e)
    v = _rotate(v, c, sn, -1, _cj(e))
    return _permute(_permute(a, perm, -1), perm, -2), _permute(v, perm, -1)


def _jacobi_eigh(a):
    """Eigenvalues (unsorted) and eigenvectors of symmetric matrices (..., n, n)."""
    s = shape_of(a)
    n, batch, dt = s[-1], s[:-2], dtype_of(a)
    npad = n + n % 2
    a = _pad_zeros(_pad_zeros(a, -1, npad - n), -2, npad - n)  # a decoupled zero eigenvalue
    rounds = _sweeps(dt) * (npad - 1)
    # NB: the body is a module-level function, so fori_loop stages it once per signature.
    a, v = fori_loop(0, rounds, _eigh_round, (a, _eye(npad, dt, batch)))
    # Whole sweeps bring the round-robin order back to the start: the padding is last again.
    w = _re(_cut(diagonal(a, 0, -2, -1), -1, 0, n))
    return w, _cut(_cut(v, -1, 0, n), -2, 0, n)


@custom_jvp
def _eigh_sym(a):
    """Ascending eigenvalues and eigenvectors of symmetric (Hermitian) matrices (..., n, n)."""
    if shape_of(a)[-1] == 0:
        return _re(_cut(diagonal(a, 0, -2, -1), -1, 0, 0)), a
    w, v = _jacobi_eigh(a)
    w, (v,) = _sort_columns(w, v)
    return w, v


@_eigh_sym.defjvp
def _eigh_sym_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    w, v = _eigh_sym(a)
    vt_da_v = matmul(_mH(v), matmul(da, v))
    dw = _re(diagonal(vt_da_v, 0, -2, -1))
    eye = _eye(shape_of(a)[-1], dtype_of(a))
    diffs = subtract(_expand(w, -2), _expand(w, -1))  # (i, j): w_j - w_i
    f = subtract(divide(1.0, add(eye, lax.convert_element_type(diffs, dtype_of(a)))), eye)
    return (w, v), (dw, matmul(v, multiply(f, vt_da_v)))


def _symmetric(a, UPLO, symmetrize_input: bool, name: str):
    if UPLO not in ("L", "U"):
        raise ValueError(f"{fname(name)}: UPLO must be 'L' or 'U', got {UPLO!r}")
    if symmetrize_input:
        return multiply(add(a, _mH(a)), 0.5)
    n = shape_of(a)[-1]
    i = lax.broadcasted_iota(dtypes.int64, (n, n), 0)
    j = lax.broadcasted_iota(dtypes.int64, (n, n), 1)
    own = greater_equal(i, j) if UPLO == "L" else less_equal(i, j)  # the triangle that is read
    return where(own, a, _mH(a))


def eigh(a, UPLO=None, symmetrize_input=True):
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices (..., n, n).

    Cyclic Jacobi with round-robin ordering (n/2 rotations per round, a fixed number of
    sweeps in a `fori_loop`): accurate, but meant for small and medium matrices. Derivatives
    follow the standard formula (they assume distinct eigenvalues).

    Args:
      a: symmetric matrices (..., n, n); integer inputs become float32 (int64: float64).
      UPLO: 'L' (default) or 'U': the triangle read when `symmetrize_input` is False.
      symmetrize_input: use `(a + a.T) / 2` (default; better derivatives).

    Returns:
      `EighResult(eigenvalues, eigenvectors)`: (..., n) ascending, and (..., n, n) whose
      column `i` is the unit eigenvector of eigenvalue `i` (its sign is arbitrary).

    Example:
      >>> jnp.linalg.eigh(jnp.array([[2.0, 1.0], [1.0, 2.0]])).eigenvalues
      Array([1., 3.], dtype=float32)
    """
    a = _square_arg("linalg.eigh", a)
    a = _symmetric(a, "L" if UPLO is None else UPLO, symmetrize_input, "linalg.eigh")
    return EighResult(*_eigh_sym(a))


def eigvalsh(a, UPLO="L", *, symmetrize_input=True):
    """Eigenvalues (ascending) of symmetric matrices (..., n, n): `eigh(a).eigenvalues`.

    Example:
      >>> jnp.linalg.eigvalsh(jnp.array([[2.0, 1.0], [1.0, 2.0]]))
      Array([1., 3.], dtype=float32)
    """
    a = _square_arg("linalg.eigvalsh", a)
    return _eigh_sym(_symmetric(a, UPLO, symmetrize_input, "linalg.eigvalsh"))[0]


# ------------------------------------------------------------------------------------------
# svd: one-sided (Hestenes) Jacobi
# ------------------------------------------------------------------------------------------


def _columns_round(_, carry):
    """One round of one-sided Jacobi on the columns of `a` (..., m, n) (n even) and `v`."""
    a, v = carry
    n = shape_of(a)[-1]
    h, perm = n // 2, _round_robin(n)
    top, bottom = _cut(a, -1, 0, h), _cut(a, -1, h, n)
    alpha = red.sum(_sq_abs(top), -2)
    beta = red.sum(_sq_abs(bottom), -2)
    gamma = red.sum(multiply(_cj(top) if _is_complex(top) else top, bottom), -2)
    c, sn, e = _rotation(alpha, beta, gamma)
    a, v = _rotate(a, c, sn, -1, _cj(e)), _rotate(v, c, sn, -1, _cj(e))
    return _permute(a, perm, -1), _permute(v, perm, -1)


def _jacobi_columns(a):
    """Orthogonalizes the columns of `a` (..., m, n) by rotations: returns `(a V, V)`."""
    s = shape_of(a)
    n, batch, dt = s[-1], s[:-2], dtype_of(a)
    npad = n + n % 2
    a = _pad_zeros(a, -1, npad - n)  # a zero column: every rotation with it is the identity
    rounds = _sweeps(dt) * (npad - 1)
    a, v = fori_loop(0, rounds, _columns_round, (a, _eye(npad, dt, batch)))
    return _cut(a, -1, 0, n), _cut(_cut(v, -1, 0, n), -2, 0, n)


def _tall_svd(a):
    """Descending singular values with their (unnormalized) left columns: `(a V, s, V)` for
    `a` (..., m, n), m >= n, sorted so that `s` descends."""
    av, v = _jacobi_columns(a)
    s = sqrt(red.sum(_sq_abs(av), -2))
    neg_s, (av, v) = _sort_columns(negative(s), av, v)
    return av, negative(neg_s), v


def _complement(u, keep, width: int):
    """The columns of `u` (..., m, k) where `keep`, the others (and `width - k` more) replaced
    by an orthonormal basis of the complement of the kept ones.

    The basis: eigenvectors of `P W P`, `P = I - U U^T` the projector on the complement and
    `W = diag(1 + i/m)`, whose eigenvalues are 0 on the range of U and in [1, 2] on the
    complement (sorted after it). W makes them distinct, so that the basis is a continuous
    function of `u` (a degenerate eigenspace would have no well-defined basis).
    """
    m, k = shape_of(u)[-2:]
    dt, batch = dtype_of(u), shape_of(u)[:-2]
    p = subtract(_eye(m, dt, batch), matmul(u, _mH(u)))
    w = add(1.0, divide(lax.broadcasted_iota(dtypes.to_real(dt), (m,), 0), float(m)))
    q = _eigh_sym(matmul(multiply(p, w), p))[1]
    keep = _expand(
        _pad_zeros(lax.convert_element_type(keep, dtypes.to_real(dt)), -1, width - k), -2
    )
    return where(greater(keep, 0.0), _pad_zeros(u, -1, width - k), _cut(q, -1, 0, width))


def _orthonormal_left(av, s, full: bool):
    """Unit left singular vectors from `av = a V` (..., m, k), completed to an orthonormal set
    (m columns with `full`): columns of negligible singular values come from `_complement`."""
    m, k = shape_of(av)[-2:]
    tol = multiply(red.max(s, -1, keepdims=True), float(np.finfo(dtype_of(s)).eps) * m)
    keep = greater(s, tol)  # (..., k)
    u = divide(av, _expand(where(keep, s, 1.0), -2))
    u = where(_expand(keep, -2), u, 0.0)
    if full and m > k:
        return _complement(u, keep, m)
    # Usually every column is kept: the completion then runs only under vmap (both branches).
    return cond(red.all(keep), _kept, _completed, u, keep)


def _kept(u, keep):
    return u


def _completed(u, keep):
    return _complement(u, keep, shape_of(u)[-1])


def _svd_parts(a, full: bool):
    """`(U, s, Vh)` of `a` (..., m, n) by one-sided Jacobi on its taller orientation."""
    m, n = shape_of(a)[-2:]
    if m >= n:
        av, s, v = _tall_svd(a)
        return _orthonormal_left(av, s, full), s, _mH(v)
    av, s, v = _tall_svd(_mH(a))  # a^H = U' S V'^H, so a = V' S U'^H
    return v, s, _mH(_orthonormal_left(av, s, full))


@custom_jvp
def _svd_thin(a):
    return _svd_parts(a, full=False)


@_svd_thin.defjvp
def _svd_thin_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    u, s, vh = _svd_thin(a)
    m, n = shape_of(a)[-2:]
    v, ut = _mH(vh), _mH(u)
    ds_mat = matmul(ut, matmul(da, v))  # U^H dA V, (..., k, k)
    ds = _re(diagonal(ds_mat, 0, -2, -1))
    s_row = _expand(s, -2)  # (i, j): s_j
    s_col = _expand(s, -1)  # (i, j): s_i
    eye = _eye(shape_of(s)[-1], dtype_of(s))
    diffs = multiply(add(s_row, s_col), subtract(s_row, s_col))  # s_j^2 - s_i^2
    f = subtract(divide(1.0, add(diffs, eye)), eye)
    dss, sds = multiply(ds_mat, s_row), multiply(s_col, ds_mat)
    inner = multiply(f, add(dss, _mH(dss)))
    if _is_complex(a):  # JAX's extra term: the imaginary diagonal of U^H dA V, over s
        s_inv = divide(1.0, where(equal(s, 0.0), 1.0, s))
        s_inv = where(equal(s, 0.0), 0.0, s_inv)
        skew = multiply(subtract(ds_mat, _mH(ds_mat)), 0.5)
        inner = add(inner, multiply(skew, multiply(eye, _expand(s_inv, -2))))
    du = matmul(u, inner)
    dv = matmul(v, multiply(f, add(sds, _mH(sds))))
    if m > n:  # the part of dA V outside the range of U
        dav = matmul(da, v)
        du = add(du, divide(subtract(dav, matmul(u, matmul(ut, dav))), s_row))
    if n > m:
        datu = matmul(_mH(da), u)
        dv = add(dv, divide(subtract(datu, matmul(v, matmul(vh, datu))), s_row))
    return (u, s, vh), (du, ds, _mH(dv))


@custom_jvp
def _svd_full(a):
    return _svd_parts(a, full=True)


@_svd_full.defjvp
def _svd_full_jvp(primals, tangents):
    raise NotImplementedError(
        f"jvp of jnp.linalg.svd: the derivative of the full decomposition of a non-square matrix "
        f"(shape {shape_of(primals[0])}) is not defined (its extra singular vectors are not "
        "unique); use full_matrices=False"
    )


@custom_jvp
def _svdvals(a):
    m, n = shape_of(a)[-2:]
    return _tall_svd(a if m >= n else _mT(a))[1]


@_svdvals.defjvp
def _svdvals_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    u, s, vh = _svd_thin(a)
    return s, _re(diagonal(matmul(_mH(u), matmul(da, _mH(vh))), 0, -2, -1))


def _svd_empty(a, full: bool, compute_uv: bool):
    """The decomposition of matrices with no rows or no columns."""
    s = shape_of(a)
    m, n, batch, dt = s[-2], s[-1], s[:-2], dtype_of(a)
    sv = lax.broadcast_in_dim(convert(0.0, dtypes.to_real(dt)), batch + (0,), ())
    if not compute_uv:
        return sv
    u = _eye(m, dt, batch) if full else lax.broadcast_in_dim(convert(0.0, dt), batch + (m, 0), ())
    vh = _eye(n, dt, batch) if full else lax.broadcast_in_dim(convert(0.0, dt), batch + (0, n), ())
    return SVDResult(u, sv, vh)


def _svd_hermitian(a, compute_uv: bool):
    """SVD of Hermitian matrices from their eigendecomposition: s = |w|, Vh = (V sign(w))^H."""
    w, v = eigh(a)
    s = absolute(w)
    if not compute_uv:
        return negative(lax.sort(negative(s), dimension=len(shape_of(s)) - 1))
    sign = where(greater_equal(w, 0.0), 1.0, -1.0)
    neg_s, (u, vs) = _sort_columns(negative(s), v, multiply(v, _expand(sign, -2)))
    return SVDResult(u, negative(neg_s), _mH(vs))


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Singular value decomposition `a = U @ diag(S) @ Vh` of matrices (..., m, n).

    One-sided (Hestenes) Jacobi with round-robin ordering on the taller orientation of `a`, a
    fixed number of sweeps in a `fori_loop` (meant for small and medium matrices); left vectors
    of zero singular values and the extra columns of `full_matrices` come from an
    eigendecomposition of the projector on the complement. Derivatives: singular values
    always, vectors with `full_matrices=False` (or square `a`), assuming distinct nonzero
    singular values.

    Args:
      a: matrices (..., m, n); integer inputs become float32 (int64: float64).
      full_matrices: U (..., m, m) and Vh (..., n, n) instead of (..., m, k) and (..., k, n),
        k = min(m, n).
      compute_uv: False returns only S.
      hermitian: `a` is symmetric: decompose it with `eigh`.

    Returns:
      `SVDResult(U, S, Vh)` with S (..., k) descending, or S alone.

    Example:
      >>> jnp.linalg.svd(jnp.array([[3.0, 0.0], [0.0, -4.0]]), compute_uv=False)
      Array([4., 3.], dtype=float32)
    """
    a = _matrix_arg("linalg.svd", a)
    m, n = shape_of(a)[-2:]
    if hermitian:
        _square_arg("linalg.svd", a)
        if n:
            return _svd_hermitian(a, compute_uv)
    if min(m, n) == 0:
        return _svd_empty(a, full_matrices, compute_uv)
    if not compute_uv:
        return _svdvals(a)
    if full_matrices and m != n:
        return SVDResult(*_svd_full(a))
    return SVDResult(*_svd_thin(a))


def svdvals(x, /):
    """Singular values (descending) of matrices (..., m, n): `svd(x, compute_uv=False)`.

    Example:
      >>> jnp.linalg.svdvals(jnp.array([[3.0, 0.0], [0.0, -4.0]]))
      Array([4., 3.], dtype=float32)
    """
    return svd(x, compute_uv=False)


# ------------------------------------------------------------------------------------------
# pinv, matrix_rank, lstsq
# ------------------------------------------------------------------------------------------


def _rtol_array(rtol, a, name: str):
    """`rtol` (None: max(m, n) * eps; a scalar; or an array of shape (...)) ready to multiply
    the largest singular values (..., 1)."""
    dt = dtypes.to_real(dtype_of(a))
    if rtol is None:
        return convert(float(np.finfo(dt).eps) * max(shape_of(a)[-2:]), dt)
    r = convert(asarray(rtol, name), dt)
    return _expand(r, -1) if shape_of(r) else r


def _pinv_impl(a, rtol, hermitian):
    m, n = shape_of(a)[-2:]
    if min(m, n) == 0:
        return lax.broadcast_in_dim(convert(0.0, dtype_of(a)), shape_of(a)[:-2] + (n, m), ())
    u, s, vh = svd(a, full_matrices=False, hermitian=hermitian)
    cutoff = multiply(_rtol_array(rtol, a, "linalg.pinv"), _cut(s, -1, 0, 1))
    keep = greater(s, cutoff)
    s_inv = where(keep, divide(1.0, where(keep, s, 1.0)), 0.0)
    return matmul(multiply(_mH(vh), _expand(s_inv, -2)), _mH(u))


_pinv = custom_jvp(_pinv_impl, nondiff_argnums=(1, 2))


@_pinv.defjvp
def _pinv_jvp(rtol, hermitian, primals, tangents):
    # Golub & Pereyra (1973): dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P.
    (a,), (da,) = primals, tangents
    p = _pinv(a, rtol, hermitian)
    m, n = shape_of(a)[-2:]
    dt, batch = dtype_of(a), shape_of(a)[:-2]
    dat, pt = _mH(da), _mH(p)
    dp = negative(matmul(p, matmul(da, p)))
    dp = add(dp, matmul(matmul(p, pt), matmul(dat, subtract(_eye(m, dt, batch), matmul(a, p)))))
    dp = add(dp, matmul(subtract(_eye(n, dt, batch), matmul(p, a)), matmul(dat, matmul(pt, p))))
    return p, dp


def pinv(a, rtol=None, hermitian=False):
    """Moore-Penrose pseudo-inverse of matrices (..., m, n), from the SVD.

    Singular values at most `rtol * max(S)` count as zero (default `rtol`: max(m, n) * eps).
    Derivatives use the formula of Golub and Pereyra (valid where the rank is locally constant).

    Args:
      a: matrices (..., m, n).
      rtol: relative cutoff, a scalar or an array of shape (...).
      hermitian: `a` is symmetric (the SVD comes from `eigh`).

    Returns:
      The pseudo-inverses, (..., n, m).

    Example:
      >>> jnp.linalg.pinv(jnp.array([[2.0, 0.0], [0.0, 0.0]]))
      Array([[0.5, 0. ],
             [0. , 0. ]], dtype=float32)
    """
    a = _matrix_arg("linalg.pinv", a)
    return _pinv(a, rtol, bool(hermitian))


def matrix_rank(M, rtol=None, *, hermitian=False, tol=None):
    """Number of singular values above `rtol * max(S)`, for matrices (..., m, n).

    Args:
      M: matrices (..., m, n), or a vector (rank 1 unless all zero).
      rtol: relative tolerance, a scalar or an array of shape (...) (default max(m, n) * eps).
      hermitian: `M` is symmetric (singular values from `eigvalsh`).
      tol: an alias of `rtol` (as in JAX); pass at most one of them.

    Returns:
      Integer ranks of shape (...).

    Example:
      >>> jnp.linalg.matrix_rank(jnp.array([[1.0, 2.0], [2.0, 4.0]]))
      Array(1, dtype=int32)
    """
    if rtol is not None and tol is not None:
        raise ValueError("jnp.linalg.matrix_rank: pass only one of rtol and tol")
    rtol = tol if rtol is None else rtol
    M = inexact_arg("linalg.matrix_rank", M)
    if len(shape_of(M)) < 2:
        return lax.convert_element_type(red.any(not_equal(M, 0.0)), dtypes.int32)
    s = svd(M, full_matrices=False, compute_uv=False, hermitian=hermitian)
    if shape_of(s)[-1] == 0:
        return red.sum(lax.convert_element_type(greater(s, 0.0), dtypes.int64), -1)
    cutoff = multiply(_rtol_array(rtol, M, "linalg.matrix_rank"), _cut(s, -1, 0, 1))
    return red.sum(greater(s, cutoff), -1)


def lstsq(a, b, rcond=None, *, numpy_resid=False):
    """Least-squares solution `x` minimizing `|b - a @ x|` for a 2-D `a` (m, n), via the SVD.

    Singular values below `rcond * max(S)` count as zero (default `rcond`: max(m, n) * eps;
    negative: machine eps).

    Args:
      a: a matrix (m, n). b: right-hand sides (m,) or (m, k).
      rcond: relative cutoff for small singular values.
      numpy_resid: return residuals as NumPy does (empty unless `a` has full column rank and
        m > n; needs concrete values, so not under `jit`). By default, as JAX, the residuals
        `|b - a @ x|^2` are always returned.

    Returns:
      `(x, residuals, rank, s)`: x (n,) or (n, k), residuals (k,) ((1,) for a 1-D `b`), the
      rank, and the singular values of `a`.

    Example:
      >>> x, resid, rank, s = jnp.linalg.lstsq(jnp.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]),
      ...                                      jnp.array([1.0, 2.0, 4.0]))
      >>> x
      Array([0.83333333, 1.5       ], dtype=float32)
    """
    a, b = promote_dtypes_inexact("linalg.lstsq", a, b)
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) != 2:
        raise TypeError(f"jnp.linalg.lstsq: a must be two-dimensional, got shape {sa}")
    if len(sb) not in (1, 2) or sb[0] != sa[0]:
        raise TypeError(
            f"jnp.linalg.lstsq: b must have shape ({sa[0]},) or ({sa[0]}, k) to match a of "
            f"shape {sa}, got {sb}"
        )
    vec = len(sb) == 1
    if vec:
        b = lax.reshape(b, sb + (1,))
    m, n = sa
    dt = dtype_of(a)
    rdt = dtypes.to_real(dt)
    if min(m, n) == 0:
        s = lax.broadcast_in_dim(convert(0.0, rdt), (0,), ())
        rank = convert(0, dtypes.int64)
        x = lax.broadcast_in_dim(convert(0.0, dt), (n, shape_of(b)[1]), ())
    else:
        if rcond is None:
            rcond = float(np.finfo(rdt).eps) * max(m, n)
        else:
            rc = convert(asarray(rcond, "linalg.lstsq"), rdt)
            rcond = where(less(rc, 0.0), float(np.finfo(rdt).eps), rc)
        u, s, vh = svd(a, full_matrices=False)
        keep = greater_equal(s, multiply(_cut(s, -1, 0, 1), rcond))
        rank = red.sum(keep)
        s_inv = where(keep, divide(1.0, where(keep, s, 1.0)), 0.0)
        x = matmul(_mH(vh), multiply(_expand(s_inv, -1), matmul(_mH(u), b)))
    if numpy_resid and (int(concrete_value(rank, "linalg.lstsq", "the rank")) < n or m <= n):
        resid = lax.broadcast_in_dim(convert(0.0, rdt), (0,), ())
    else:
        r = subtract(b, matmul(a, x))
        resid = red.sum(_sq_abs(r), 0)
    if vec:
        x = lax.reshape(x, (n,))
    return x, resid, rank, s
