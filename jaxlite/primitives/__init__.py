"""Every primitive, once: its name, its one-line wrapper (JAX's `lax` signature), its NumPy
implementation and its shape/dtype rule. Transformation rules live in the interpreters.

Wrappers take arrays positionally and static parameters as keywords, so tracers only ever appear
positionally. Binary wrappers accept Python scalars, which take the other operand's dtype.

This package only re-exports; one module per family:

    _base         ALL_PRIMITIVES, `_prim`, the elementwise rule combinators, scalar promotion
    _elementwise  unary and binary math, bitwise ops, comparisons, select_n, clamp, conversions
    _reductions   reduce_*, argmax/argmin, cumsum/cumprod/cummax/cummin
    _shape        broadcast_in_dim, reshape, transpose, squeeze, expand_dims, rev, concatenate,
                  pad, slice, dynamic_slice, dynamic_update_slice, iota
    _dot          dot_general, dot
    _sort         sort, top_k (a composite of sort)
    _indexing     gather/scatter dimension numbers and modes, their shared window arithmetic
    _gather       gather
    _scatter      scatter, scatter_add, scatter_mul, scatter_min, scatter_max
    _conv         conv_general_dilated, its dimension numbers and wrappers (conv, conv_transpose, ...)
    _windowed     reduce_window_sum/max/min (lax.reduce_window: jaxlite/_reduce_window.py)
    _linalg       triangular_solve (imported, not re-exported: lax.linalg's)
    _eig          eig (imported, not re-exported: lax.linalg's)
    _callback     pure_callback, io_callback, debug_callback (imported, not re-exported)
    _slicing      slice_in_dim, index_in_dim, dynamic_*_in_dim, prefix_scan (composites)
    _precision    reduce_precision
    _complex      complex, real, imag, conj
    _fft          fft (FftType)
    _pooling      select_and_gather_add, select_and_scatter_add (a max pool's derivatives)

Sub-modules import `_base` and each other, never this package (tests/test_layering.py).
"""

# ruff: noqa: F401
# NB: the sub-modules register their primitives as they are imported, so the order below is the
# order of ALL_PRIMITIVES (which tests and tables iterate): keep it, and add new families last.
# isort: off
from jaxlite.primitives._base import (
    ALL_PRIMITIVES,
    operator_index,
)
from jaxlite.primitives._elementwise import (
    abs,
    abs_p,
    acos,
    acos_p,
    acosh,
    acosh_p,
    add,
    add_any,
    add_any_p,
    add_p,
    and_p,
    asin,
    asin_p,
    asinh,
    asinh_p,
    atan,
    atan2,
    atan2_p,
    atan_p,
    atanh,
    atanh_p,
    bitcast_convert_type,
    bitcast_convert_type_p,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    cbrt,
    cbrt_p,
    ceil,
    ceil_p,
    clamp,
    clamp_p,
    convert_element_type,
    convert_element_type_p,
    copy,
    copy_p,
    cos,
    cos_p,
    cosh,
    cosh_p,
    div,
    div_p,
    eq,
    eq_p,
    erf,
    erf_inv,
    erf_inv_p,
    erf_p,
    exp,
    exp2,
    exp2_p,
    exp_p,
    expm1,
    expm1_p,
    floor,
    floor_p,
    ge,
    ge_p,
    gt,
    gt_p,
    integer_pow,
    integer_pow_p,
    is_finite,
    is_finite_p,
    le,
    le_p,
    log,
    log1p,
    log1p_p,
    log_p,
    logistic,
    logistic_p,
    lt,
    lt_p,
    max,
    max_p,
    min,
    min_p,
    mul,
    mul_p,
    ne,
    ne_p,
    neg,
    neg_p,
    nextafter,
    nextafter_p,
    not_p,
    or_p,
    pow,
    pow_p,
    rem,
    rem_p,
    round,
    round_p,
    rsqrt,
    rsqrt_p,
    select,
    select_n,
    select_n_p,
    shift_left,
    shift_left_p,
    shift_right_arithmetic,
    shift_right_arithmetic_p,
    shift_right_logical,
    shift_right_logical_p,
    sign,
    sign_p,
    sin,
    sin_p,
    sinh,
    sinh_p,
    sqrt,
    sqrt_p,
    square,
    stop_gradient,
    stop_gradient_p,
    sub,
    sub_p,
    tan,
    tan_p,
    tanh,
    tanh_p,
    xor_p,
)
from jaxlite.primitives._reductions import (
    argmax,
    argmax_p,
    argmin,
    argmin_p,
    cummax,
    cummax_p,
    cummin,
    cummin_p,
    cumprod,
    cumprod_p,
    cumsum,
    cumsum_p,
    reduce_and,
    reduce_and_p,
    reduce_max,
    reduce_max_p,
    reduce_min,
    reduce_min_p,
    reduce_or,
    reduce_or_p,
    reduce_prod,
    reduce_prod_p,
    reduce_sum,
    reduce_sum_p,
)
from jaxlite.primitives._shape import (
    broadcast,
    broadcast_in_dim,
    broadcast_in_dim_p,
    broadcasted_iota,
    concatenate,
    concatenate_p,
    dynamic_slice,
    dynamic_slice_p,
    dynamic_update_slice,
    dynamic_update_slice_p,
    expand_dims,
    expand_dims_p,
    iota,
    iota_p,
    pad,
    pad_p,
    reshape,
    reshape_p,
    rev,
    rev_p,
    slice,
    slice_p,
    squeeze,
    squeeze_p,
    transpose,
    transpose_p,
)
from jaxlite.primitives._dot import (
    dot,
    dot_general,
    dot_general_p,
)
from jaxlite.primitives._sort import (
    sort,
    sort_p,
    top_k,
)
from jaxlite.primitives._indexing import (
    GatherDimensionNumbers,
    GatherScatterMode,
    ScatterDimensionNumbers,
)
from jaxlite.primitives._gather import (
    gather,
    gather_p,
)
from jaxlite.primitives._scatter import (
    scatter,
    scatter_add,
    scatter_add_p,
    scatter_max,
    scatter_max_p,
    scatter_min,
    scatter_min_p,
    scatter_mul,
    scatter_mul_p,
    scatter_p,
)
from jaxlite.primitives._conv import (
    ConvDimensionNumbers,
    conv,
    conv_dimension_numbers,
    conv_general_dilated,
    conv_general_dilated_p,
    conv_general_dilated_patches,
    conv_general_permutations,
    conv_general_shape_tuple,
    conv_shape_tuple,
    conv_transpose,
    conv_transpose_shape_tuple,
    conv_with_general_padding,
    padtype_to_pads,
)
from jaxlite.primitives._windowed import (
    reduce_window_max_p,
    reduce_window_min_p,
    reduce_window_shape_tuple,
    reduce_window_sum_p,
)

# Not lax names (JAX has them in lax.linalg and jax._src.callback): imported, not re-exported.
from jaxlite.primitives import _linalg, _eig, _callback
from jaxlite.primitives._special import (
    bessel_i0e,
    bessel_i0e_p,
    bessel_i1e,
    bessel_i1e_p,
    betainc,
    digamma,
    digamma_p,
    erfc,
    erfc_p,
    igamma,
    igamma_p,
    igammac,
    igammac_p,
    igamma_grad_a,
    igamma_grad_a_p,
    lgamma,
    lgamma_p,
    regularized_incomplete_beta_p,
    zeta,
    zeta_p,
)
from jaxlite.primitives._slicing import (
    dynamic_index_in_dim,
    dynamic_slice_in_dim,
    dynamic_update_slice_in_dim,
    index_in_dim,
    slice_in_dim,
)
from jaxlite.primitives._precision import (
    reduce_precision,
    reduce_precision_p,
)
from jaxlite.primitives._complex import (
    complex,
    complex_p,
    conj,
    conj_p,
    imag,
    imag_p,
    real,
    real_p,
)
from jaxlite.primitives._fft import (
    FftType,
    fft,
    fft_p,
)
from jaxlite.primitives._pooling import (  # (their wrappers stay private, as JAX's)
    select_and_gather_add_p,
    select_and_scatter_add_p,
)
# isort: on

# The old single module imported these names from the core, and `jaxlite.lax` (`import *`) has
# always passed them on; kept so that neither namespace shrinks.
from jaxlite import dtypes
from jaxlite.core import Primitive, ShapedArray, Tracer, api_entry, get_aval
