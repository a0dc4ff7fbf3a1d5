"""`jaxlite.numpy`: NumPy's API on jaxlite arrays, composed from primitives (no rules of its own).

Every function accepts Arrays, tracers, NumPy arrays, Python scalars and lists, and behaves the
same eagerly and under transformations. Semantics: NumPy 2 / JAX with x64 enabled.
"""

# ruff: noqa: F401, A004, E402
import numpy as _np

from jaxlite import dtypes as _dtypes
from jaxlite.array import Array as ndarray

from jaxlite.numpy._creation import (
    arange, array, asarray, copy, diag, diag_indices, diag_indices_from, diagflat, diagonal,
    empty, empty_like, eye, fromfunction, full, full_like, geomspace, identity, indices, linspace,
    logspace, meshgrid, ones, ones_like, trace, tri, tril, tril_indices, tril_indices_from, triu,
    triu_indices, triu_indices_from, zeros, zeros_like,
)
from jaxlite.numpy._ufuncs import (
    abs, absolute, acos, acosh, add, angle, arccos, arccosh, arcsin, arcsinh, arctan, arctan2,
    arctanh, around, asin, asinh, atan, atan2, atanh, bitwise_and, bitwise_invert,
    bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift, bitwise_xor, cbrt, ceil,
    clip, conj, conjugate, copysign, cos, cosh, deg2rad, degrees, divide, divmod, equal, exp,
    exp2, expm1, fabs, fix, float_power, floor, floor_divide, fmax, fmin, fmod, frexp, greater,
    greater_equal, heaviside, hypot, imag, invert, iscomplex, isfinite, isinf, isnan, isneginf,
    isposinf, isreal, ldexp, left_shift, less, less_equal, log, log10, log1p, log2, logaddexp,
    logaddexp2, logical_and, logical_not, logical_or, logical_xor, maximum, minimum, mod, modf,
    multiply, nan_to_num, negative, nextafter, not_equal, positive, pow, power, rad2deg, radians,
    real, reciprocal, remainder, right_shift, rint, round, select, sign, signbit, sin, sinc, sinh,
    sqrt, square, subtract, tan, tanh, true_divide, trunc, where,
)
from jaxlite.numpy._reductions import (
    all, amax, amin, any, argmax, argmin, average, count_nonzero, cumprod, cumsum,
    cumulative_prod, cumulative_sum, max, mean, median, min, nanargmax, nanargmin, nancumprod,
    nancumsum, nanmax, nanmean, nanmedian, nanmin, nanprod, nanquantile, nanstd, nansum, nanvar,
    percentile, prod, ptp, quantile, std, sum, var,
)
from jaxlite.numpy._shape import (
    append, array_split, atleast_1d, atleast_2d, atleast_3d, broadcast_arrays, broadcast_shapes,
    broadcast_to, column_stack, concat, concatenate, delete, diff, dsplit, dstack, ediff1d,
    expand_dims, flip, fliplr, flipud, hsplit, hstack, insert, matrix_transpose, moveaxis, ndim,
    pad, permute_dims, ravel, ravel_multi_index, repeat, reshape, resize, roll, rollaxis, rot90,
    shape, size, split, squeeze, stack, swapaxes, tile, transpose, trim_zeros, unravel_index,
    unstack, vsplit, vstack,
)
from jaxlite.numpy._dot import (
    cross, dot, einsum, inner, kron, matmul, matvec, outer, tensordot, vdot, vecdot, vecmat,
)
from jaxlite.numpy._sorting import (
    argpartition, argsort, argwhere, bincount, flatnonzero, lexsort, nonzero, partition,
    searchsorted, sort, unique, unique_all, unique_counts, unique_inverse, unique_values,
)
from jaxlite.numpy._comparison import allclose, array_equal, array_equiv, isclose
from jaxlite.numpy._dtype_api import (
    astype, can_cast, complexfloating, dtype, finfo, floating, generic, iinfo, inexact, integer,
    iscomplexobj, isdtype, isrealobj, isscalar, issubdtype, iterable, number, promote_types,
    result_type, signedinteger, unsignedinteger,
)
from jaxlite.numpy._indexing import (
    _getitem, _IndexUpdateHelper, take, take_along_axis,
)
from jaxlite.numpy import linalg

bool_ = _np.bool_
bool = _np.bool_  # noqa: A001 - NumPy 2's name
uint8 = _np.uint8
uint32 = _np.uint32
int32 = _np.int32
int64 = _np.int64
float32 = _np.float32
float64 = _np.float64
pi = _np.pi
e = _np.e
euler_gamma = _np.euler_gamma
inf = _np.inf
nan = _np.nan
newaxis = None
float0 = _dtypes.float0

from jaxlite.numpy import _methods

_methods.install()
