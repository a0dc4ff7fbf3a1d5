"""eig (lax.linalg.eig): eigenvalues and left/right eigenvectors of general square matrices
(..., n, n), complex results for real and complex inputs (issue 21). Eagerly NumPy's LAPACK
`geev`; in C a call back to the same NumPy function (as JAX's CPU eig calls LAPACK on the host).

Eigenvectors are normalized as LAPACK's `geev` (and JAX) document: unit 2-norm, the component of
largest modulus real and positive. Their order is NumPy's (the order of XLA's geev call may
differ); a matrix with NaN or infinity gives NaN results, as JAX's failed decompositions do.
"""

from __future__ import annotations

import numpy as np

from jaxlite import dtypes
from jaxlite.core import ShapedArray, get_aval
from jaxlite.primitives._base import _prim

eig_p = _prim("eig", multiple_results=True)

_EIG_DTYPES = ("float32", "float64", "complex64", "complex128")


@eig_p.def_abstract_eval
def _eig_abstract(x, *, compute_left_eigenvectors, compute_right_eigenvectors,
                  enable_eigvec_derivs, implementation):  # fmt: skip
    if x.dtype.name not in _EIG_DTYPES:
        raise TypeError(
            f"lax.linalg.eig: needs a float32, float64, complex64 or complex128 operand, got "
            f"{x.dtype.name} (convert it first)"
        )
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(
            f"lax.linalg.eig: the input to eig must be square matrices (..., n, n), got shape "
            f"{x.shape}"
        )
    cdt = dtypes.to_complex(x.dtype)
    outs = [ShapedArray(x.shape[:-1], cdt)]
    outs += [ShapedArray(x.shape, cdt)] * (compute_left_eigenvectors + compute_right_eigenvectors)
    return outs


def _normalize(v):
    """Columns of `v` (n, n) scaled as LAPACK's geev: unit norm, largest component real > 0."""
    k = np.argmax(np.abs(v), axis=0)
    big = v[k, np.arange(v.shape[1])]
    phase = np.where(big == 0, 1, np.conj(big) / np.where(big == 0, 1, np.abs(big)))
    v = v * phase
    norm = np.linalg.norm(v, axis=0)
    return v / np.where(norm == 0, 1, norm)


def _eig_one(a, left: bool, right: bool):
    """`(w, vl, vr)` of one matrix in complex128 (vl/vr None unless asked)."""
    n = a.shape[-1]
    if not np.all(np.isfinite(a)):
        nan = np.full((n, n), np.nan, np.complex128) * (1 + 1j)
        return nan[0], nan, nan
    w, vr = np.linalg.eig(a)
    w, vr = w.astype(np.complex128), vr.astype(np.complex128)
    vl = None
    if left:
        # Rows of vr^-1 are the left eigenvectors' conjugates (y_j^T A = w_j y_j^T), in w's order.
        try:
            vl = _normalize(np.conj(np.linalg.inv(vr)).T)
        except np.linalg.LinAlgError:  # a defective matrix: its left vectors from A^H itself
            wl, vl = np.linalg.eig(np.conj(a).T)
            vl = _normalize(vl[:, [int(np.argmin(np.abs(np.conj(wl) - x))) for x in w]])
    return w, vl, (_normalize(vr) if right else None)


@eig_p.def_impl
def _eig_impl(x, *, compute_left_eigenvectors, compute_right_eigenvectors,
              enable_eigvec_derivs, implementation):  # fmt: skip
    avals = _eig_abstract(
        get_aval(x), compute_left_eigenvectors=compute_left_eigenvectors,
        compute_right_eigenvectors=compute_right_eigenvectors,
        enable_eigvec_derivs=enable_eigvec_derivs, implementation=implementation,
    )  # fmt: skip
    x = np.asarray(x)
    n, batch = x.shape[-1], x.shape[:-2]
    cdt = avals[0].dtype
    w = np.zeros(batch + (n,), cdt)
    vl = np.zeros(batch + (n, n), cdt)
    vr = np.zeros(batch + (n, n), cdt)
    if n:
        for idx in np.ndindex(*batch):
            # NB: in float64/complex128 (as the sizes here are small): float32 inputs get
            # float32-rounded results, as LAPACK's sgeev would give.
            wi, li, ri = _eig_one(x[idx].astype(np.complex128 if x.dtype.kind == "c" else
                                                np.float64), compute_left_eigenvectors,
                                  compute_right_eigenvectors)  # fmt: skip
            w[idx] = wi
            if li is not None:
                vl[idx] = li
            if ri is not None:
                vr[idx] = ri
    outs = [w]
    if compute_left_eigenvectors:
        outs.append(vl)
    if compute_right_eigenvectors:
        outs.append(vr)
    return outs


def eig(x, *, compute_left_eigenvectors=True, compute_right_eigenvectors=True,
        enable_eigvec_derivs=False, implementation=None, use_magma=None):  # fmt: skip
    """lax.linalg.eig: `[w, vl, vr]` of square matrices (..., n, n), vl/vr only if asked.

    `w` (..., n) are the eigenvalues, the columns of `vr` the right eigenvectors (A v = w v) and
    those of `vl` the left ones (v^H A = w v^H), unit norm with the largest component real.
    Derivatives of the eigenvectors need `enable_eigvec_derivs=True` (as in JAX: valid only for
    distinct eigenvalues). `implementation` and `use_magma` choose GPU libraries in JAX: on CPU
    only None or "lapack" (NumPy's LAPACK) are accepted.
    """
    if implementation is not None and str(getattr(implementation, "name", implementation)).lower() \
            != "lapack":  # fmt: skip
        raise ValueError("lax.linalg.eig: only the lapack implementation is supported on CPU")
    return eig_p.bind(
        x, compute_left_eigenvectors=bool(compute_left_eigenvectors),
        compute_right_eigenvectors=bool(compute_right_eigenvectors),
        enable_eigvec_derivs=bool(enable_eigvec_derivs), implementation=None,
    )  # fmt: skip
