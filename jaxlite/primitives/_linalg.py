"""triangular_solve (lax.linalg.triangular_solve): `op(a) @ x = b` (left_side) or
`x @ op(a) = b`, with `a` triangular, op transposing and/or conjugating it (complex) when asked;
leading batch dimensions.
"""

from __future__ import annotations

import numpy as np

from jaxlite import dtypes
from jaxlite.core import ShapedArray, get_aval
from jaxlite.primitives._base import _prim

triangular_solve_p = _prim("triangular_solve")


def _tri_matrix(a, lower, unit_diagonal):
    """`a`'s triangle that the solve reads (the other one, and a unit diagonal, ignored)."""
    t = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        n = a.shape[-1]
        t = t.copy()
        t[..., np.arange(n), np.arange(n)] = 1
    return t


@triangular_solve_p.def_impl
def _triangular_solve_impl(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    # NB: the eager path runs no shape rule: this one is cheap next to the solve.
    _triangular_solve_abstract(get_aval(a), get_aval(b), left_side=left_side, lower=lower,
                               transpose_a=transpose_a, conjugate_a=conjugate_a,
                               unit_diagonal=unit_diagonal)  # fmt: skip
    t = _tri_matrix(a, lower, unit_diagonal)
    if conjugate_a and t.dtype.kind == "c":
        t = np.conj(t)
    if transpose_a:
        t = np.swapaxes(t, -1, -2)
    if not left_side:  # x @ t = b  <=>  t.T @ x.T = b.T
        t, b = np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)
    eff_lower = (lower != transpose_a) != (not left_side)
    m = t.shape[-1]
    x = np.array(b, dtype=b.dtype)
    order = range(m) if eff_lower else range(m - 1, -1, -1)
    with np.errstate(all="ignore"):
        for i in order:
            js = slice(0, i) if eff_lower else slice(i + 1, m)
            acc = x[..., i, :] - np.einsum("...j,...jk->...k", t[..., i, js], x[..., js, :])
            x[..., i, :] = acc / t[..., i, i][..., None]
    x = x.astype(b.dtype, copy=False)
    return np.ascontiguousarray(np.swapaxes(x, -1, -2) if not left_side else x)


@triangular_solve_p.def_abstract_eval
def _triangular_solve_abstract(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    if a.dtype != b.dtype or not (dtypes.is_float(a.dtype) or dtypes.is_complex(a.dtype)):
        raise TypeError(
            "triangular_solve: a and b must have the same floating-point dtype (real or complex), got "
            f"{a.dtype.name} and {b.dtype.name}"
        )
    if a.ndim < 2 or a.shape[-1] != a.shape[-2] or b.ndim != a.ndim:
        raise TypeError(
            "triangular_solve: a must be square matrices (..., m, m) and b of the same rank, "
            f"got shapes {a.shape} and {b.shape}"
        )
    m = a.shape[-1]
    common = b.shape[-2] if left_side else b.shape[-1]
    if a.shape[:-2] != b.shape[:-2] or common != m:
        side = "b.shape[-2]" if left_side else "b.shape[-1]"
        raise TypeError(
            f"triangular_solve: batch dimensions must match and {side} must equal a's size {m}, "
            f"got shapes {a.shape} and {b.shape} (left_side={left_side})"
        )
    return ShapedArray(b.shape, b.dtype, False)


def triangular_solve(
    a, b, *, left_side=False, lower=False, transpose_a=False, conjugate_a=False,
    unit_diagonal=False,
):  # fmt: skip
    """lax.linalg.triangular_solve: `x` with `op(a) @ x = b` (left_side) or `x @ op(a) = b`."""
    return triangular_solve_p.bind(
        a, b, left_side=bool(left_side), lower=bool(lower), transpose_a=bool(transpose_a),
        conjugate_a=bool(conjugate_a), unit_diagonal=bool(unit_diagonal),
    )  # fmt: skip
