"""`jaxlite.numpy`: NumPy's API on jaxlite arrays, composed from primitives (no rules of its own).

Every function accepts Arrays, tracers, NumPy arrays, Python scalars and lists, and behaves the
same eagerly and under transformations. Semantics: NumPy 2 / JAX with x64 enabled.
"""

# ruff: noqa: F401, A004, E402
import sys as _sys

import numpy as _np

from jaxlite import core as _core
from jaxlite import dtypes as _dtypes
from jaxlite.array import Array as ndarray
from jaxlite.numpy import _methods, fft, linalg
from jaxlite.numpy._comparison import allclose, array_equal, array_equiv, isclose
from jaxlite.numpy._creation import (
    arange,
    array,
    asarray,
    copy,
    diag,
    diag_indices,
    diag_indices_from,
    diagflat,
    diagonal,
    empty,
    empty_like,
    eye,
    fill_diagonal,
    fromfunction,
    full,
    full_like,
    geomspace,
    identity,
    indices,
    linspace,
    logspace,
    meshgrid,
    ones,
    ones_like,
    trace,
    tri,
    tril,
    tril_indices,
    tril_indices_from,
    triu,
    triu_indices,
    triu_indices_from,
    zeros,
    zeros_like,
)
from jaxlite.numpy._convolve import convolve, correlate
from jaxlite.numpy._dot import (
    cross,
    dot,
    einsum,
    einsum_path,
    inner,
    kron,
    matmul,
    matvec,
    outer,
    tensordot,
    vdot,
    vecdot,
    vecmat,
)
from jaxlite.numpy._dtype_api import (
    astype,
    can_cast,
    complexfloating,
    dtype,
    finfo,
    floating,
    generic,
    iinfo,
    inexact,
    integer,
    iscomplexobj,
    isdtype,
    isrealobj,
    isscalar,
    issubdtype,
    iterable,
    number,
    promote_types,
    result_type,
    signedinteger,
    unsignedinteger,
)
from jaxlite.numpy._edit import (
    delete,
    diff,
    ediff1d,
    insert,
    ravel_multi_index,
    resize,
    trim_zeros,
    unravel_index,
)
from jaxlite.numpy._index_update import _IndexUpdateHelper
from jaxlite.numpy._indexing import _getitem, take, take_along_axis
from jaxlite.numpy._logaddexp import logaddexp, logaddexp2
from jaxlite.numpy._sinc import sinc
from jaxlite.numpy._pad import pad
from jaxlite.numpy._reductions import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    average,
    count_nonzero,
    cumprod,
    cumsum,
    cumulative_prod,
    cumulative_sum,
    max,
    mean,
    median,
    min,
    nanargmax,
    nanargmin,
    nancumprod,
    nancumsum,
    nanmax,
    nanmean,
    nanmedian,
    nanmin,
    nanprod,
    nanpercentile,
    nanquantile,
    nanstd,
    nansum,
    nanvar,
    percentile,
    prod,
    ptp,
    quantile,
    std,
    sum,
    var,
)
from jaxlite.numpy._shape import (
    append,
    array_split,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_arrays,
    broadcast_shapes,
    broadcast_to,
    column_stack,
    concat,
    concatenate,
    dsplit,
    dstack,
    expand_dims,
    flip,
    fliplr,
    flipud,
    hsplit,
    hstack,
    matrix_transpose,
    moveaxis,
    ndim,
    permute_dims,
    ravel,
    repeat,
    reshape,
    roll,
    rollaxis,
    rot90,
    shape,
    size,
    split,
    squeeze,
    stack,
    swapaxes,
    tile,
    transpose,
    unstack,
    vsplit,
    vstack,
)
from jaxlite.numpy._sorting import (
    argpartition,
    argsort,
    argwhere,
    bincount,
    compress,
    extract,
    flatnonzero,
    intersect1d,
    isin,
    lexsort,
    nonzero,
    partition,
    searchsorted,
    setdiff1d,
    sort,
    union1d,
    unique,
    unique_all,
    unique_counts,
    unique_inverse,
    unique_values,
    where,
)
from jaxlite.numpy._vectorize import piecewise, vectorize
from jaxlite.numpy._polyfit import polyfit
from jaxlite.numpy._histogram import (
    histogram,
    histogram2d,
    histogram_bin_edges,
    histogramdd,
)
from jaxlite.numpy._statistics import corrcoef, cov, digitize, interp, polyval, trapezoid
from jaxlite.numpy._ufuncs import (
    abs,
    absolute,
    acos,
    acosh,
    add,
    angle,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    around,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bitwise_and,
    bitwise_invert,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    cbrt,
    ceil,
    clip,
    conj,
    conjugate,
    copysign,
    cos,
    cosh,
    deg2rad,
    degrees,
    divide,
    divmod,
    equal,
    exp,
    exp2,
    expm1,
    fabs,
    fix,
    float_power,
    floor,
    floor_divide,
    fmax,
    fmin,
    fmod,
    frexp,
    greater,
    greater_equal,
    heaviside,
    hypot,
    imag,
    invert,
    iscomplex,
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    isreal,
    ldexp,
    left_shift,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    mod,
    modf,
    multiply,
    nan_to_num,
    negative,
    nextafter,
    not_equal,
    positive,
    pow,
    power,
    rad2deg,
    radians,
    real,
    reciprocal,
    remainder,
    right_shift,
    rint,
    round,
    select,
    sign,
    signbit,
    sin,
    sinh,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    true_divide,
    trunc,
)

from jaxlite.numpy._scalar_types import scalar_type as _scalar_type  # noqa: E402

bool_ = _scalar_type(_np.bool_, "bool")
bool = bool_  # noqa: A001 - NumPy 2's name
uint8 = _scalar_type(_np.uint8, "uint8")
uint16 = _scalar_type(_np.uint16, "uint16")
uint32 = _scalar_type(_np.uint32, "uint32")
uint64 = _scalar_type(_np.uint64, "uint64")
int8 = _scalar_type(_np.int8, "int8")
int16 = _scalar_type(_np.int16, "int16")
int32 = _scalar_type(_np.int32, "int32")
int64 = _scalar_type(_np.int64, "int64")
float16 = _scalar_type(_np.float16, "float16")
float32 = _scalar_type(_np.float32, "float32")
float64 = _scalar_type(_np.float64, "float64")
complex64 = _scalar_type(_np.complex64, "complex64")  # complex (issue 21)
complex128 = _scalar_type(_np.complex128, "complex128")
complex_ = complex128
pi = _np.pi
e = _np.e
euler_gamma = _np.euler_gamma
inf = _np.inf
nan = _np.nan
newaxis = None
float0 = _dtypes.float0


def __getattr__(name: str):
    # PEP 562: `jnp.bfloat16` imports ml_dtypes on first use only (it takes most of a second).
    if name == "bfloat16":
        t = globals()["bfloat16"] = _scalar_type(_dtypes.bfloat16_dtype(), "bfloat16")
        return t
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "bfloat16"})


_methods.install(_sys.modules[__name__])

_core.name_api("jnp.", globals())  # the names error messages give jnp's functions
