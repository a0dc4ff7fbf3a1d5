"""`jaxlite.numpy.linalg`: norms, and det/slogdet/inv/solve/cholesky by Gaussian elimination
with partial pivoting written as n static steps of jnp operations (so they trace and batch over
leading dimensions; meant for small matrices).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.numpy import _reductions as red
from jaxlite.numpy import _creation
from jaxlite.numpy._dot import cross, matmul, outer, tensordot, vecdot  # noqa: F401
from jaxlite.numpy._linalg_jacobi import (  # noqa: F401
    EighResult,
    SVDResult,
    eigh,
    eigvalsh,
    lstsq,
    matrix_rank,
    pinv,
    svd,
    svdvals,
)
from jaxlite.numpy._linalg_qr import QRResult, qr  # noqa: F401
from jaxlite.primitives._eig import eig as _lax_eig
from jaxlite.numpy._shape import matrix_transpose  # noqa: F401
from jaxlite.numpy._ufuncs import absolute, log, power, sqrt
from jaxlite.numpy._ufuncs import sign as sign_fn
from jaxlite.numpy._util import (
    LinAlgError,
    asarray,
    broadcast_shapes,
    broadcast_to_shape,
    canonicalize_axes,
    concrete_int,
    convert,
    dtype_of,
    fname,
    inexact_arg,
    promote_dtypes,
    shape_of,
)

__all__ = [
    "LinAlgError",
    "cholesky",
    "cross",
    "det",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "diagonal",
    "inv",
    "lstsq",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "matrix_transpose",
    "multi_dot",
    "norm",
    "outer",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "tensordot",
    "trace",
    "vecdot",
    "vector_norm",
]


# ------------------------------------------------------------------------------------------
# Norms
# ------------------------------------------------------------------------------------------


def _vector_norm(x, ord, axes, keepdims):
    ax = absolute(x)
    if ord is None or ord == 2:
        return sqrt(red.sum(lax.mul(x, x), axes, keepdims=keepdims))
    if ord == np.inf:
        return red.max(ax, axes, keepdims=keepdims)
    if ord == -np.inf:
        return red.min(ax, axes, keepdims=keepdims)
    if ord == 0:
        return convert(red.count_nonzero(x, axes, keepdims=keepdims), dtype_of(x))
    if ord == 1:
        return red.sum(ax, axes, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"jnp.linalg.norm: invalid norm order {ord!r} for vectors")
    p = float(ord)
    return power(red.sum(power(ax, p), axes, keepdims=keepdims), 1.0 / p)


def _spectral_norm(x, ord, axes, keepdims):
    """ord 2 (largest singular value), -2 (smallest) or 'nuc' (their sum) over `axes`."""
    r, c = axes
    nd = len(shape_of(x))
    rest = [i for i in range(nd) if i not in (r, c)]
    s = svdvals(lax.transpose(x, tuple(rest) + (r, c)))  # (..., k)
    out = {2: red.max, -2: red.min, "nuc": red.sum}[ord](s, -1)
    if keepdims:
        out = lax.broadcast_in_dim(out, tuple(1 if i in (r, c) else shape_of(x)[i]
                                              for i in range(nd)), tuple(rest))  # fmt: skip
    return out


def _matrix_norm(x, ord, axes, keepdims, name):
    r, c = axes
    if ord in (2, -2, "nuc"):
        return _spectral_norm(x, ord, axes, keepdims)
    if ord in (None, "fro", "f"):
        return sqrt(red.sum(lax.mul(x, x), axes, keepdims=keepdims))
    ax = absolute(x)
    if ord in (1, -1):
        s = red.sum(ax, r, keepdims=True)
        out = (red.max if ord == 1 else red.min)(s, c, keepdims=True)
    elif ord in (np.inf, -np.inf):
        s = red.sum(ax, c, keepdims=True)
        out = (red.max if ord == np.inf else red.min)(s, r, keepdims=True)
    else:
        raise ValueError(f"{fname(name)}: invalid norm order {ord!r} for matrices")
    if keepdims:
        return out
    return lax.squeeze(out, tuple(sorted((r, c))))


def _modulus(x, matrix_ord=None):
    """|x| for complex `x`: every norm is a norm of the moduli, except the spectral matrix norms
    (ord 2, -2, 'nuc'), which take the singular values of `x` itself."""
    if dtype_of(x).kind != "c" or matrix_ord in (2, -2, "nuc"):
        return x
    return lax.abs(x)


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm (NumPy's `ord` conventions).

    Vectors: None/2, 1, inf, -inf, 0 and any p. Matrices (2-D, or `axis` a pair): None/'fro',
    1, -1, inf, -inf. Integer inputs give float32 (int64: float64), as JAX.

    Example:
      >>> jnp.linalg.norm(jnp.array([3.0, 4.0]))
      Array(5., dtype=float32)
    """
    x = inexact_arg("linalg.norm", x)
    s = shape_of(x)
    matrix = len(s) == 2 if axis is None else isinstance(axis, (tuple, list)) and len(axis) == 2
    x = _modulus(x, ord if matrix else None)
    if axis is None:
        if ord is None:
            axes = tuple(range(len(s)))
            return sqrt(red.sum(lax.mul(x, x), axes, keepdims=keepdims))
        if len(s) not in (1, 2):
            raise ValueError(f"jnp.linalg.norm: improper number of dimensions {len(s)} for ord")
        axes = tuple(range(len(s)))
    else:
        axes = canonicalize_axes(axis, len(s), "linalg.norm", s)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims, "linalg.norm")
    raise ValueError(f"jnp.linalg.norm: improper number of axes {axes} to norm over")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """Vector norm over `axis` (all elements by default; array API)."""
    x = _modulus(inexact_arg("linalg.vector_norm", x))
    s = shape_of(x)
    axes = canonicalize_axes(axis, len(s), "linalg.vector_norm", s)
    return _vector_norm(x, ord, axes, keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """Matrix norm over the last two axes (array API)."""
    x = _modulus(inexact_arg("linalg.matrix_norm", x), ord)
    n = len(shape_of(x))
    if n < 2:
        raise ValueError(f"jnp.linalg.matrix_norm: needs at least 2 dimensions, got {shape_of(x)}")
    return _matrix_norm(x, ord, (n - 2, n - 1), keepdims, "linalg.matrix_norm")


# ------------------------------------------------------------------------------------------
# Gaussian elimination
# ------------------------------------------------------------------------------------------


def _square(a, name: str):
    a = inexact_arg(name, a)
    s = shape_of(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise LinAlgError(f"{fname(name)}: expected square matrices (..., n, n), got shape {s}")
    return a, s


def _row(a, k: int):
    """`a[..., k, :]` keeping the row axis: shape (..., 1, m)."""
    s = shape_of(a)
    return lax.slice(a, (0,) * (len(s) - 2) + (k, 0), s[:-2] + (k + 1, s[-1]))


def _col(a, k: int):
    """`a[..., :, k]` keeping the column axis: shape (..., n, 1)."""
    s = shape_of(a)
    return lax.slice(a, (0,) * (len(s) - 1) + (k,), s[:-1] + (k + 1,))


def _bcast(x, shape):
    """`x` (a scalar, or of rank len(shape) with size-1 dimensions) broadcast to `shape`."""
    nd = len(shape_of(x))
    return lax.broadcast_in_dim(x, shape, tuple(range(len(shape) - nd, len(shape))))


def _eliminate(a, n: int, jordan: bool):
    """Partial-pivoting elimination on the first `n` columns of `a` (..., n, m).

    Returns the reduced matrix, the pivots (..., n) and the permutation sign (..., ).
    With `jordan`, rows above the pivot are eliminated too and pivot rows are scaled to 1.
    """
    s = shape_of(a)
    batch = s[:-2]
    rows = lax.broadcasted_iota(dtypes.int64, s[:-1] + (1,), len(s) - 2)  # (..., n, 1)
    dt = dtype_of(a)
    sign = lax.broadcast_in_dim(convert(1.0, dt), batch, ())
    pivots = []
    for k in range(n):
        col = _col(a, k)  # (..., n, 1)
        cand = lax.select(
            lax.ge(rows, k), absolute(col), _bcast(convert(-1.0, dtypes.to_real(dt)), shape_of(col))
        )
        p = lax.argmax(lax.reshape(cand, batch + (s[-2],)), len(batch), dtypes.int64)
        pb = lax.broadcast_in_dim(p, s[:-1] + (1,), tuple(range(len(batch))))
        is_p = lax.eq(rows, pb)  # (..., n, 1)
        zero = _bcast(convert(0.0, dt), s)
        row_p = red.sum(lax.select(_bcast(is_p, s), a, zero), len(s) - 2, keepdims=True)
        row_k = _row(a, k)
        is_k = lax.eq(rows, k)
        a = lax.select(
            _bcast(is_k, s), _bcast(row_p, s), lax.select(_bcast(is_p, s), _bcast(row_k, s), a)
        )
        sign = lax.select(lax.ne(p, k), lax.neg(sign), sign)
        piv_row = row_p  # (..., 1, m): the new row k
        piv = lax.reshape(
            lax.slice(piv_row, (0,) * len(s[:-2]) + (0, k), batch + (1, k + 1)), batch
        )
        pivots.append(piv)
        safe = lax.select(lax.eq(piv, 0.0), _bcast(convert(1.0, dt), batch), piv)
        safe_b = lax.broadcast_in_dim(safe, s[:-1] + (1,), tuple(range(len(batch))))
        col = _col(a, k)
        factor = lax.div(col, safe_b)  # (..., n, 1)
        target = lax.ne(rows, k) if jordan else lax.gt(rows, k)
        factor = lax.select(target, factor, _bcast(convert(0.0, dt), shape_of(factor)))
        a = lax.sub(a, lax.mul(_bcast(factor, s), _bcast(piv_row, s)))
        if jordan:
            scale = lax.select(is_k, safe_b, _bcast(convert(1.0, dt), shape_of(safe_b)))
            a = lax.div(a, _bcast(scale, s))
    piv = (
        lax.concatenate([lax.reshape(p, batch + (1,)) for p in pivots], len(batch))
        if n
        else lax.broadcast_in_dim(convert(1.0, dt), batch + (0,), ())
    )
    return a, piv, sign


def det(a):
    """Determinant of square matrices (..., n, n), by LU with partial pivoting.

    Example:
      >>> jnp.linalg.det(jnp.array([[1.0, 2.0], [3.0, 4.0]]))
      Array(-2., dtype=float32)
    """
    a, s = _square(a, "linalg.det")
    _, piv, sign = _eliminate(a, s[-1], jordan=False)
    return lax.mul(sign, red.prod(piv, -1))


def slogdet(a):
    """`(sign, log|det|)` of square matrices (..., n, n)."""
    a, s = _square(a, "linalg.slogdet")
    _, piv, sign = _eliminate(a, s[-1], jordan=False)
    if dtype_of(piv).kind == "c":
        # piv / |piv| (0 at 0), differentiable: jnp.sign's derivative is zero, as JAX's, but the
        # complex sign of a determinant moves with it (JAX's slogdet JVP: i Im tr(a^-1 da) sign).
        mag = absolute(piv)
        zero = lax.eq(mag, convert(0.0, dtype_of(mag)))
        one = _bcast(convert(1.0, dtype_of(mag)), shape_of(mag))
        unit = lax.div(piv, convert(lax.select(zero, one, mag), dtype_of(piv)))
        phases = lax.select(zero, _bcast(convert(0.0, dtype_of(piv)), shape_of(piv)), unit)
    else:
        phases = sign_fn(piv)
    sgn = lax.mul(sign, red.prod(phases, -1))
    return sgn, red.sum(log(absolute(piv)), -1)


def solve(a, b):
    """The solution `x` of `a @ x = b` for square `a` (..., n, n) and `b` (..., n, k) or (n,)."""
    a, s = _square(a, "linalg.solve")
    b = asarray(b, "linalg.solve")
    n = s[-1]
    vec = len(shape_of(b)) == 1
    if vec:
        b = lax.reshape(b, (n, 1))
    a, b = promote_dtypes("linalg.solve", a, b)
    sb = shape_of(b)
    if sb[-2] != n:
        raise ValueError(f"jnp.linalg.solve: b of shape {sb} does not match a of shape {s}")
    batch = broadcast_shapes("linalg.solve", s[:-2], sb[:-2])
    a = broadcast_to_shape(a, batch + s[-2:], "linalg.solve")
    b = broadcast_to_shape(b, batch + sb[-2:], "linalg.solve")
    aug = lax.concatenate([a, b], len(batch) + 1)
    red_, _, _ = _eliminate(aug, n, jordan=True)
    so = shape_of(red_)
    x = lax.slice(red_, (0,) * len(so[:-1]) + (n,), so)
    return lax.reshape(x, shape_of(x)[:-1]) if vec else x


def inv(a):
    """Inverse of square matrices (..., n, n), by Gauss-Jordan elimination with pivoting."""
    a, s = _square(a, "linalg.inv")
    n = s[-1]
    eye = lax.convert_element_type(
        lax.eq(
            lax.broadcasted_iota(dtypes.int64, (n, n), 0),
            lax.broadcasted_iota(dtypes.int64, (n, n), 1),
        ),
        dtype_of(a),
    )
    return solve(a, lax.broadcast_in_dim(eye, s, (len(s) - 2, len(s) - 1)))


def matrix_power(a, n):
    """`a` (square) to the integer power `n` (by repeated squaring; negative powers invert)."""
    a = asarray(a, "linalg.matrix_power")
    s = shape_of(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise LinAlgError(f"jnp.linalg.matrix_power: expected square matrices, got shape {s}")
    n = concrete_int(n, "linalg.matrix_power", "n")
    if n < 0:
        a, n = inv(a), -n
    if n == 0:
        eye = lax.convert_element_type(
            lax.eq(
                lax.broadcasted_iota(dtypes.int64, s[-2:], 0),
                lax.broadcasted_iota(dtypes.int64, s[-2:], 1),
            ),
            dtype_of(a),
        )
        return lax.broadcast_in_dim(eye, s, (len(s) - 2, len(s) - 1))
    result = None
    while n:
        if n & 1:
            result = a if result is None else matmul(result, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return result


def multi_dot(arrays, *, precision=None):
    """`arrays[0] @ arrays[1] @ ...` (left to right; 1-D ends are vectors)."""
    if len(arrays) < 2:
        raise ValueError("jnp.linalg.multi_dot: needs at least two arrays")
    out = arrays[0]
    for x in arrays[1:]:
        out = matmul(out, x)
    return out


def cholesky(a, *, upper=False, symmetrize_input=True):
    """Lower Cholesky factor `L` (with `L @ L^H = a`) of Hermitian (real: symmetric)
    positive-definite matrices; NaN where `a` is not positive definite.

    As JAX's, `a` is symmetrized first, `(a + a^H) / 2` (so derivatives are those of the
    symmetrized input); `upper=True` returns `L^H`.
    """
    a, s = _square(a, "linalg.cholesky")
    cplx = dtype_of(a).kind == "c"
    if symmetrize_input:
        a = lax.mul(lax.add(a, _mH(a)), convert(0.5, dtype_of(a)))
    n = s[-1]
    cols = []
    for j in range(n):
        cj = _col(a, j)  # (..., n, 1)
        if cols:
            L = lax.concatenate(cols, len(s) - 1)  # (..., n, j)
            Lj = _row(L, j)  # (..., 1, j)
            cj = lax.sub(cj, matmul(L, _mH(Lj)))
        d = lax.reshape(lax.slice(cj, (0,) * len(s[:-2]) + (j, 0), s[:-2] + (j + 1, 1)), s[:-2])
        root = sqrt(lax.real(d)) if cplx else sqrt(d)  # the diagonal of L is real
        if cplx:
            root = convert(root, dtype_of(a))
        rb = lax.broadcast_in_dim(root, s[:-1] + (1,), tuple(range(len(s) - 2)))
        rows = lax.broadcasted_iota(dtypes.int64, s[:-1] + (1,), len(s) - 2)
        col = lax.select(
            lax.ge(rows, j), lax.div(cj, rb), _bcast(convert(0.0, dtype_of(a)), s[:-1] + (1,))
        )
        cols.append(col)
    L = lax.concatenate(cols, len(s) - 1) if n else a
    return _mH(L) if upper else L


def _mH(x):
    """The conjugate transpose of the last two axes (the transpose for real `x`)."""
    t = matrix_transpose(x)
    return lax.conj(t) if dtype_of(x).kind == "c" else t


class EigResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


def eig(a):
    """Eigenvalues and right eigenvectors of general square matrices (..., n, n).

    Always complex (complex64 for float32 inputs, complex128 for float64), as JAX. Eigenvectors
    are the columns of `eigenvectors`, unit norm with their largest component real (LAPACK's
    geev normalization); their order may differ from JAX's (both come from geev, JAX's through
    XLA). Derivatives: of the eigenvalues only (JAX raises for the eigenvectors, as here).

    Example:
      >>> jnp.linalg.eig(jnp.array([[0.0, -1.0], [1.0, 0.0]])).eigenvalues
      Array([0.+1.j, 0.-1.j], dtype=complex64)
    """
    a, _ = _square(a, "linalg.eig")
    w, v = _lax_eig(a, compute_left_eigenvectors=False)
    return EigResult(w, v)


def eigvals(a):
    """Eigenvalues (complex) of general square matrices (..., n, n).

    Example:
      >>> jnp.linalg.eigvals(jnp.array([[2.0, 0.0], [0.0, 3.0]]))
      Array([2.+0.j, 3.+0.j], dtype=complex64)
    """
    a, _ = _square(a, "linalg.eigvals")
    return _lax_eig(a, compute_left_eigenvectors=False, compute_right_eigenvectors=False)[0]


def diagonal(x, /, *, offset=0):
    """The diagonals of the last two axes (the array API's, as JAX's `jnp.linalg.diagonal`;
    `jnp.diagonal` takes NumPy's axes 0 and 1)."""
    return _creation.diagonal(x, offset=offset, axis1=-2, axis2=-1)


def trace(x, /, *, offset=0, dtype=None):
    """The sums of the diagonals of the last two axes (the array API's, as JAX's
    `jnp.linalg.trace`; `jnp.trace` takes NumPy's axes 0 and 1)."""
    return _creation.trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)
