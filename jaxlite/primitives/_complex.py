"""The complex-number primitives (issue 21): `complex` (two reals -> one complex), `real`, `imag`
and `conj`, with JAX's dtypes: real and imag of complex64 are float32, complex of two float64s is
complex128, and conj of a real array is that array made complex (JAX's `input_dtype` parameter
records the operand's dtype for conj's transpose).
"""

from __future__ import annotations

import numpy as np

from jaxlite import dtypes
from jaxlite.core import ShapedArray, get_aval
from jaxlite.primitives._base import (
    _FLOAT,
    _INEXACT,
    _all_weak,
    _binop_shape,
    _check_kinds,
    _prim,
    _promote_scalars,
    _same_dtypes,
)


def _check(name: str, x, kinds: str):
    if x.dtype.kind not in kinds:
        _check_kinds(name, get_aval(x), kinds)


complex_p = _prim("complex")


@complex_p.def_impl
def _complex_impl(x, y):
    _check("complex", x, _FLOAT)
    if x.dtype != y.dtype or x.dtype in dtypes.HALF_DTYPES:
        _complex_abstract(get_aval(x), get_aval(y))
    out = np.empty(np.broadcast_shapes(x.shape, y.shape), dtypes.to_complex(x.dtype))
    out.real, out.imag = x, y
    return out


@complex_p.def_abstract_eval
def _complex_abstract(x, y):
    dt = _same_dtypes("complex", x, y)
    _check_kinds("complex", x, _FLOAT)
    if dt in dtypes.HALF_DTYPES:  # as JAX: no complex type of 16-bit parts
        raise TypeError(
            f"complex does not accept dtype {dt.name} at position 0. Accepted dtypes at position "
            "0 are subtypes of float32, float64."
        )
    return ShapedArray(_binop_shape("complex", x, y), dtypes.to_complex(dt), _all_weak(x, y))


def _real_impl(x):
    _check("real", x, "c")
    return np.array(x.real)


def _imag_impl(x):
    _check("imag", x, "c")
    return np.array(x.imag)


def _part_abstract(name, x):
    _check_kinds(name, x, "c")
    return ShapedArray(x.shape, dtypes.to_real(x.dtype), x.weak_type)


real_p = _prim("real")
real_p.def_impl(_real_impl)
real_p.def_abstract_eval(lambda x: _part_abstract("real", x))
imag_p = _prim("imag")
imag_p.def_impl(_imag_impl)
imag_p.def_abstract_eval(lambda x: _part_abstract("imag", x))

conj_p = _prim("conj")


@conj_p.def_impl
def _conj_impl(x, *, input_dtype):
    _check("conj", x, _INEXACT)
    return np.conj(x.astype(dtypes.to_complex(x.dtype), copy=False)).copy()


@conj_p.def_abstract_eval
def _conj_abstract(x, *, input_dtype):
    _check_kinds("conj", x, _INEXACT)
    return ShapedArray(x.shape, dtypes.to_complex(x.dtype), x.weak_type)


# fmt: off
def complex(x, y): return complex_p.bind(*_promote_scalars("complex", x, y))  # noqa: A001
def real(x): return real_p.bind(x)
def imag(x): return imag_p.bind(x)
def conj(x): return conj_p.bind(x, input_dtype=get_aval(x).dtype)
# fmt: on
