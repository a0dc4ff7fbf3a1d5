"""dot_general, the one contraction primitive (batch, free and contracting dimensions, as XLA's
DotGeneral), and `dot`, its lax wrapper for vectors and matrices.
"""

from __future__ import annotations

import math

import numpy as np

from jaxlite import dtypes
from jaxlite.core import ShapedArray, get_aval
from jaxlite.primitives._base import _all_weak, _prim, _same_dtypes
from jaxlite.util import safe_zip

dot_general_p = _prim("dot_general")


def _dot_free_dims(nd, contract, batch):
    return [i for i in range(nd) if i not in contract and i not in batch]


@dot_general_p.def_impl
def _dot_general_impl(x, y, *, dimension_numbers, preferred_element_type=None):
    (xc, yc), (xb, yb) = dimension_numbers
    xf = _dot_free_dims(x.ndim, xc, xb)
    yf = _dot_free_dims(y.ndim, yc, yb)
    bshape = [x.shape[i] for i in xb]
    m = [x.shape[i] for i in xf]
    n = [y.shape[i] for i in yf]
    k = math.prod([x.shape[i] for i in xc])  # NB: math.prod, not np.prod (2 us per call)
    B, M, N = math.prod(bshape), math.prod(m), math.prod(n)
    x2 = np.transpose(x, list(xb) + xf + list(xc)).reshape(B, M, k)
    y2 = np.transpose(y, list(yb) + list(yc) + yf).reshape(B, k, N)
    out_dt = preferred_element_type or x.dtype
    if out_dt != x.dtype and x.dtype != np.bool_:  # accumulate in the preferred type, as XLA
        x2, y2 = x2.astype(out_dt), y2.astype(out_dt)
    if x2.dtype in dtypes.HALF_DTYPES:  # 16-bit floats accumulate in float32, as XLA's CPU
        x2, y2 = x2.astype(np.float32), y2.astype(np.float32)
    if x.dtype == np.bool_:
        out = np.matmul(x2.astype(np.int32), y2.astype(np.int32)) > 0
    elif k == 1:  # an outer product (per-example gradients): einsum is 4-8x faster than matmul
        out = np.einsum("bm,bn->bmn", x2[:, :, 0], y2[:, 0, :])
    else:
        out = np.matmul(x2, y2)
    return out.reshape(bshape + m + n).astype(out_dt, copy=False)


@dot_general_p.def_abstract_eval
def _dot_general_abstract(x, y, *, dimension_numbers, preferred_element_type=None):
    (xc, yc), (xb, yb) = dimension_numbers
    dt = _same_dtypes("dot_general", x, y)
    if len(xc) != len(yc) or len(xb) != len(yb):
        raise TypeError(f"dot_general: dimension_numbers {dimension_numbers} are unbalanced")
    for a, b in safe_zip(xc, yc):
        if not (0 <= a < x.ndim and 0 <= b < y.ndim) or x.shape[a] != y.shape[b]:
            raise TypeError(
                f"dot_general: contracting dimensions {xc} of {x.shape} and {yc} of {y.shape} "
                "do not match"
            )
    for a, b in safe_zip(xb, yb):
        if not (0 <= a < x.ndim and 0 <= b < y.ndim) or x.shape[a] != y.shape[b]:
            raise TypeError(
                f"dot_general: batch dimensions {xb} of {x.shape} and {yb} of {y.shape} do not match"
            )
    shape = (
        tuple(x.shape[i] for i in xb)
        + tuple(x.shape[i] for i in _dot_free_dims(x.ndim, xc, xb))
        + tuple(y.shape[i] for i in _dot_free_dims(y.ndim, yc, yb))
    )
    out_dt = (
        dtypes.canonicalize(preferred_element_type) if preferred_element_type is not None else dt
    )
    return ShapedArray(shape, out_dt, _all_weak(x, y))


def dot_general(x, y, dimension_numbers, preferred_element_type=None):
    (xc, yc), (xb, yb) = dimension_numbers
    dn = (
        (tuple(int(i) for i in xc), tuple(int(i) for i in yc)),
        (tuple(int(i) for i in xb), tuple(int(i) for i in yb)),
    )
    pet = None if preferred_element_type is None else dtypes.canonicalize(preferred_element_type)
    return dot_general_p.bind(x, y, dimension_numbers=dn, preferred_element_type=pet)


def dot(x, y, preferred_element_type=None):
    """lax.dot: vector-vector, matrix-vector or matrix-matrix product."""
    xn, yn = get_aval(x).ndim, get_aval(y).ndim
    return dot_general(
        x, y, (((xn - 1,), (0 if yn == 1 else yn - 2,)), ((), ())), preferred_element_type
    )
