"""Elementwise primitives: unary math (exp, sin, erf_inv, ...), binary arithmetic, bitwise ops
and shifts, comparisons, select_n and clamp, and the dtype conversions (convert_element_type,
bitcast_convert_type), each with its NumPy impl that follows XLA's semantics.
"""

from __future__ import annotations

import builtins
import math
from functools import partial

import numpy as np

from jaxlite import dtypes
from jaxlite.core import ShapedArray
from jaxlite.primitives._base import (
    _FLOAT,
    _INT,
    _INEXACT,
    _INT_BOOL,
    _NUM,
    _NUMC,
    _NUM_BOOL,
    _all_weak,
    _binop,
    _check_kinds,
    _checked_binop,
    _checked_kinds_binop,
    _compare_abstract,
    _contiguous,
    _prim,
    _promote_scalars,
    _same_dtypes,
    _unop,
)
from jaxlite.util import safe_zip

# ------------------------------------------------------------------------------------------
# Elementwise: unary
# ------------------------------------------------------------------------------------------


def _erf_np(x):
    f = np.frompyfunc(math.erf, 1, 1)
    return np.asarray(f(x.astype(np.float64)), dtype=np.float64).astype(x.dtype)


_ERF_INV_F32_SMALL = (
    2.81022636e-08,
    3.43273939e-07,
    -3.5233877e-06,
    -4.39150654e-06,
    0.00021858087,
    -0.00125372503,
    -0.00417768164,
    0.246640727,
    1.50140941,
)
_ERF_INV_F32_LARGE = (
    -0.000200214257,
    0.000100950558,
    0.00134934322,
    -0.00367342844,
    0.00573950773,
    -0.0076224613,
    0.00943887047,
    1.00167406,
    2.83297682,
)


def _erf_inv_f32_np(x):
    # NB: XLA's float32 algorithm (Giles' polynomials evaluated in float32 on w = -log1p(-x*x)),
    # so that jaxlite.random.normal reproduces jax.random.normal's float32 bits.
    w = -np.log1p(-x * x)
    small = w < np.float32(5.0)
    t = np.where(small, w - np.float32(2.5), np.sqrt(np.maximum(w, 0)) - np.float32(3.0))
    p = np.where(small, np.float32(_ERF_INV_F32_SMALL[0]), np.float32(_ERF_INV_F32_LARGE[0]))
    for a, b in safe_zip(_ERF_INV_F32_SMALL[1:], _ERF_INV_F32_LARGE[1:]):
        p = np.where(small, np.float32(a), np.float32(b)) + p * t
    return np.where(np.abs(x) == 1, x * np.float32(np.inf), p * x).astype(np.float32)


def _erf_inv_np(x):
    if x.dtype == np.float32:
        return _erf_inv_f32_np(x)
    # Giles' single-precision approximation, refined by two Newton steps in float64.
    y = x.astype(np.float64)
    w = -np.log((1.0 - y) * (1.0 + y))
    small = w < 5.0
    ws = w - 2.5
    p1 = 2.81022636e-08
    for c in (
        3.43273939e-07,
        -3.5233877e-06,
        -4.39150654e-06,
        0.00021858087,
        -0.00125372503,
        -0.00417768164,
        0.246640727,
        1.50140941,
    ):
        p1 = c + p1 * ws
    wl = np.sqrt(np.maximum(w, 5.0)) - 3.0
    p2 = -0.000200214257
    for c in (
        0.000100950558,
        0.00134934322,
        -0.00367342844,
        0.00573950773,
        -0.0076224613,
        0.00943887047,
        1.00167406,
        2.83297682,
    ):
        p2 = c + p2 * wl
    r = np.where(small, p1, p2) * y
    erf = np.frompyfunc(math.erf, 1, 1)
    for _ in range(2):
        ok = np.isfinite(r)
        err = np.asarray(erf(np.where(ok, r, 0.0)), np.float64) - y
        r = np.where(ok, r - err / (2.0 / math.sqrt(math.pi) * np.exp(-r * r)), r)
    r = np.where(y == 1.0, np.inf, np.where(y == -1.0, -np.inf, r))
    r = np.where(np.abs(y) > 1.0, np.nan, r)
    return r.astype(x.dtype)


def _logistic_np(x):
    if x.dtype.kind == "c":
        return (1 / (1 + np.exp(-x))).astype(x.dtype)
    # exp(-|x|) never overflows; both branches are exact where they are used.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def _round_np(x, rounding_method=0):
    if rounding_method == 1:
        return np.rint(x)
    t = np.trunc(x)
    return np.where(np.abs(x - t) >= 0.5, t + np.sign(x), t).astype(x.dtype)


def _sign_np(x):
    if x.dtype.kind == "u":
        return (x > 0).astype(x.dtype)
    if dtypes.is_float(x.dtype):
        return np.where(x == 0, x, np.sign(x))  # sign(-0.0) = -0.0, as in XLA
    if x.dtype.kind == "c":  # x / |x| part by part, 0 at 0, as XLA (NumPy says 1 at infinities)
        a = np.abs(x)
        a = np.where(a == 0, 1, a)
        out = np.empty_like(x)
        out.real, out.imag = x.real / a, x.imag / a
        return out
    return np.sign(x)


def _abs_np(x):
    return np.abs(x)


neg_p = _unop("neg", np.negative, _NUMC)
sign_p = _unop("sign", _sign_np, _NUMC)
abs_p = _unop("abs", _abs_np, _NUMC)


@abs_p.def_abstract_eval
def _abs_abstract(x):  # NB: |complex| is real, as in JAX
    _check_kinds("abs", x, _NUMC)
    return ShapedArray(x.shape, dtypes.to_real(x.dtype), x.weak_type)


exp_p = _unop("exp", np.exp, _INEXACT)
exp2_p = _unop("exp2", np.exp2, _INEXACT)
log_p = _unop("log", np.log, _INEXACT)
log1p_p = _unop("log1p", np.log1p, _INEXACT)
expm1_p = _unop("expm1", np.expm1, _INEXACT)
tanh_p = _unop("tanh", np.tanh, _INEXACT)
logistic_p = _unop("logistic", _logistic_np, _INEXACT)
sin_p = _unop("sin", np.sin, _INEXACT)
cos_p = _unop("cos", np.cos, _INEXACT)
tan_p = _unop("tan", np.tan, _INEXACT)
asin_p = _unop("asin", np.arcsin, _INEXACT)
acos_p = _unop("acos", np.arccos, _INEXACT)
atan_p = _unop("atan", np.arctan, _INEXACT)
sinh_p = _unop("sinh", np.sinh, _INEXACT)
cosh_p = _unop("cosh", np.cosh, _INEXACT)
asinh_p = _unop("asinh", np.arcsinh, _INEXACT)
acosh_p = _unop("acosh", np.arccosh, _INEXACT)
atanh_p = _unop("atanh", np.arctanh, _INEXACT)
sqrt_p = _unop("sqrt", np.sqrt, _INEXACT)
rsqrt_p = _unop("rsqrt", lambda x: (1 / np.sqrt(x)).astype(x.dtype), _INEXACT)
cbrt_p = _unop("cbrt", np.cbrt, _FLOAT)
erf_p = _unop("erf", _erf_np, _FLOAT)
erf_inv_p = _unop("erf_inv", _erf_inv_np, _FLOAT)
floor_p = _unop("floor", np.floor, _FLOAT)
ceil_p = _unop("ceil", np.ceil, _FLOAT)
round_p = _unop("round", _round_np, _FLOAT)
not_p = _unop("not", np.invert, _INT_BOOL)
copy_p = _unop("copy", np.copy, _NUM_BOOL + "c")
stop_gradient_p = _unop("stop_gradient", np.copy, _NUM_BOOL + "c")

is_finite_p = _prim("is_finite")
is_finite_p.def_impl(np.isfinite)


@is_finite_p.def_abstract_eval
def _is_finite_abstract(x):
    _check_kinds("is_finite", x, _FLOAT)
    return ShapedArray(x.shape, dtypes.bool_)


integer_pow_p = _prim("integer_pow")


@integer_pow_p.def_impl
def _integer_pow_impl(x, *, y):
    if y == 0:
        return np.ones_like(x)
    if y == 1:
        return x.copy()  # never return the input object
    if y < 0 and not dtypes.is_inexact(x.dtype):
        raise TypeError("integer_pow: negative powers of integer arrays are not supported")
    acc = None
    base = x
    n = builtins.abs(y)
    while n:  # exponentiation by squaring, as XLA does
        if n & 1:
            acc = base if acc is None else acc * base
        n >>= 1
        if n:
            base = base * base
    return (1 / acc).astype(x.dtype) if y < 0 else acc


@integer_pow_p.def_abstract_eval
def _integer_pow_abstract(x, *, y):
    _check_kinds("integer_pow", x, _NUMC)
    if not isinstance(y, (int, np.integer)):
        raise TypeError(f"integer_pow: the exponent y must be a Python int, got {y!r}")
    if y < 0 and not dtypes.is_inexact(x.dtype):
        raise TypeError("integer_pow: negative powers need a floating-point base")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


# fmt: off
def neg(x): return neg_p.bind(x)
def sign(x): return sign_p.bind(x)
def abs(x): return abs_p.bind(x)  # noqa: A001 - lax's name
def exp(x): return exp_p.bind(x)
def exp2(x): return exp2_p.bind(x)
def log(x): return log_p.bind(x)
def log1p(x): return log1p_p.bind(x)
def expm1(x): return expm1_p.bind(x)
def tanh(x): return tanh_p.bind(x)
def logistic(x): return logistic_p.bind(x)
def sin(x): return sin_p.bind(x)
def cos(x): return cos_p.bind(x)
def tan(x): return tan_p.bind(x)
def asin(x): return asin_p.bind(x)
def acos(x): return acos_p.bind(x)
def atan(x): return atan_p.bind(x)
def sinh(x): return sinh_p.bind(x)
def cosh(x): return cosh_p.bind(x)
def asinh(x): return asinh_p.bind(x)
def acosh(x): return acosh_p.bind(x)
def atanh(x): return atanh_p.bind(x)
def sqrt(x): return sqrt_p.bind(x)
def rsqrt(x): return rsqrt_p.bind(x)
def cbrt(x): return cbrt_p.bind(x)
def erf(x): return erf_p.bind(x)
def erf_inv(x): return erf_inv_p.bind(x)
def floor(x): return floor_p.bind(x)
def ceil(x): return ceil_p.bind(x)
def round(x, rounding_method=0): return round_p.bind(x, rounding_method=int(rounding_method))  # noqa: A001
def is_finite(x): return is_finite_p.bind(x)
def bitwise_not(x): return not_p.bind(x)
def copy(x): return copy_p.bind(x)
def stop_gradient(x): return stop_gradient_p.bind(x)
def integer_pow(x, y): return integer_pow_p.bind(x, y=int(y))
def square(x): return integer_pow_p.bind(x, y=2)
# fmt: on


# ------------------------------------------------------------------------------------------
# Elementwise: binary
# ------------------------------------------------------------------------------------------


def _int_div_np(x, y):
    """C semantics (round toward zero); x / 0 = 0 and INT_MIN / -1 = INT_MIN, never a trap."""
    if dtypes.is_inexact(x.dtype):
        return np.true_divide(x, y).astype(x.dtype)
    if x.dtype.kind == "b":
        raise TypeError("div does not accept dtype bool")
    safe_y = np.where(y == 0, 1, y).astype(x.dtype)
    q = np.floor_divide(x, safe_y)
    if x.dtype.kind == "i":
        # floor -> trunc: add one where the signs differ and the division is inexact
        q = q + ((np.remainder(x, safe_y) != 0) & ((x < 0) != (safe_y < 0))).astype(x.dtype)
    return np.where(y == 0, np.zeros((), x.dtype), q).astype(x.dtype)


def _rem_np(x, y):
    """C fmod semantics (sign of the dividend); integer x % 0 = 0."""
    if dtypes.is_float(x.dtype):
        return np.fmod(x, y).astype(x.dtype)
    safe_y = np.where(y == 0, 1, y).astype(x.dtype)
    return np.where(y == 0, np.zeros((), x.dtype), np.fmod(x, safe_y)).astype(x.dtype)


def _pow_np(x, y):
    if dtypes.is_inexact(x.dtype):
        return np.power(x, y).astype(x.dtype)
    y_pos = np.maximum(y, 0)
    r = np.power(x, y_pos)
    neg = y < 0
    if np.any(neg):
        # integer x ** negative y truncates: 1 for x == 1, +-1 for x == -1, else 0
        alt = np.where(x == 1, 1, np.where(x == -1, np.where(np.abs(y) % 2 == 1, -1, 1), 0))
        r = np.where(neg, alt, r)
    return np.asarray(r).astype(x.dtype)


def _shift_amount_ok(x, y):
    bits = x.dtype.itemsize * 8
    return (y >= 0) & (y < bits), np.clip(y, 0, bits - 1).astype(x.dtype)


def _shl_np(x, y):
    ok, s = _shift_amount_ok(x, y)
    return np.where(ok, np.left_shift(x, s), np.zeros((), x.dtype)).astype(x.dtype)


def _shr_arith_np(x, y):
    if x.dtype.kind == "u":  # as XLA: an arithmetic shift of the bits (the top bit is the sign)
        sdt = np.dtype(f"i{x.dtype.itemsize}")
        return _shr_arith_np(x.astype(sdt), y.astype(sdt)).astype(x.dtype)
    ok, s = _shift_amount_ok(x, y)
    bits = x.dtype.itemsize * 8
    fill = np.right_shift(x, np.asarray(bits - 1, x.dtype))
    return np.where(ok, np.right_shift(x, s), fill).astype(x.dtype)


def _shr_logical_np(x, y):
    ok, s = _shift_amount_ok(x, y)
    udt = np.dtype(f"u{x.dtype.itemsize}")
    r = np.right_shift(x.view(udt) if x.ndim else x.astype(udt), s.astype(udt)).astype(x.dtype)
    return np.where(ok, r, np.zeros((), x.dtype)).astype(x.dtype)


def _max_np(x, y):
    return np.maximum(x, y)


def _min_np(x, y):
    return np.minimum(x, y)


add_p = _binop("add", np.add, _NUMC)
sub_p = _binop("sub", np.subtract, _NUMC)
mul_p = _binop("mul", np.multiply, _NUMC)
div_p = _binop("div", _int_div_np, _NUMC)
rem_p = _binop("rem", _rem_np, _NUM)
pow_p = _binop("pow", _pow_np, _NUMC)
max_p = _binop("max", _max_np, _NUM_BOOL)
min_p = _binop("min", _min_np, _NUM_BOOL)
atan2_p = _binop("atan2", np.arctan2, _FLOAT)
nextafter_p = _binop("nextafter", np.nextafter, _FLOAT)
and_p = _binop("and", np.bitwise_and, _INT_BOOL)
or_p = _binop("or", np.bitwise_or, _INT_BOOL)
xor_p = _binop("xor", np.bitwise_xor, _INT_BOOL)
shift_left_p = _binop("shift_left", _shl_np, _INT)
shift_right_arithmetic_p = _binop("shift_right_arithmetic", _shr_arith_np, _INT)
shift_right_logical_p = _binop("shift_right_logical", _shr_logical_np, _INT)
# add_any accumulates cotangents in reverse mode: add without broadcasting of any kind.
add_any_p = _binop("add_any", np.add, _NUMC)


def _cmp(name, impl, ordered=False):
    p = _prim(name)
    rule = partial(_compare_abstract, name, ordered)
    if ordered:  # complex (issue 21): eager lt/le/gt/ge reject complex as traced ones do
        impl = _checked_kinds_binop(name, impl, "iufb")
    p.def_impl(_checked_binop(name, impl, rule))
    p.def_abstract_eval(rule)
    return p


eq_p = _cmp("eq", np.equal)
ne_p = _cmp("ne", np.not_equal)
lt_p = _cmp("lt", ordered=True, impl=np.less)
le_p = _cmp("le", ordered=True, impl=np.less_equal)
gt_p = _cmp("gt", ordered=True, impl=np.greater)
ge_p = _cmp("ge", ordered=True, impl=np.greater_equal)


# fmt: off
def add(x, y): return add_p.bind(*_promote_scalars("add", x, y))
def sub(x, y): return sub_p.bind(*_promote_scalars("sub", x, y))
def mul(x, y): return mul_p.bind(*_promote_scalars("mul", x, y))
def div(x, y): return div_p.bind(*_promote_scalars("div", x, y))
def rem(x, y): return rem_p.bind(*_promote_scalars("rem", x, y))
def pow(x, y): return pow_p.bind(*_promote_scalars("pow", x, y))  # noqa: A001
def max(x, y): return max_p.bind(*_promote_scalars("max", x, y))  # noqa: A001
def min(x, y): return min_p.bind(*_promote_scalars("min", x, y))  # noqa: A001
def atan2(x, y): return atan2_p.bind(*_promote_scalars("atan2", x, y))
def nextafter(x, y): return nextafter_p.bind(*_promote_scalars("nextafter", x, y))
def bitwise_and(x, y): return and_p.bind(*_promote_scalars("and", x, y))
def bitwise_or(x, y): return or_p.bind(*_promote_scalars("or", x, y))
def bitwise_xor(x, y): return xor_p.bind(*_promote_scalars("xor", x, y))
def shift_left(x, y): return shift_left_p.bind(*_promote_scalars("shift_left", x, y))
def shift_right_arithmetic(x, y): return shift_right_arithmetic_p.bind(*_promote_scalars("shift_right_arithmetic", x, y))
def shift_right_logical(x, y): return shift_right_logical_p.bind(*_promote_scalars("shift_right_logical", x, y))
def add_any(x, y): return add_any_p.bind(x, y)
def eq(x, y): return eq_p.bind(*_promote_scalars("eq", x, y))
def ne(x, y): return ne_p.bind(*_promote_scalars("ne", x, y))
def lt(x, y): return lt_p.bind(*_promote_scalars("lt", x, y))
def le(x, y): return le_p.bind(*_promote_scalars("le", x, y))
def gt(x, y): return gt_p.bind(*_promote_scalars("gt", x, y))
def ge(x, y): return ge_p.bind(*_promote_scalars("ge", x, y))
# fmt: on


# ------------------------------------------------------------------------------------------
# Selection and conversion
# ------------------------------------------------------------------------------------------

select_n_p = _prim("select_n")
select_n_p.weak_from = 1  # as JAX: weak when every case is, whatever `which` is


@select_n_p.def_impl
def _select_n_impl(which, *cases):
    if which.dtype == np.bool_:
        return np.where(which, cases[1], cases[0]) if len(cases) == 2 else np.copy(cases[0])
    idx = np.clip(which, 0, len(cases) - 1)
    return np.choose(idx, cases)


@select_n_p.def_abstract_eval
def _select_n_abstract(which, *cases):
    if not cases:
        raise TypeError("select_n needs at least one case")
    dt = _same_dtypes("select_n", *cases)
    shapes = {c.shape for c in cases}
    if len(shapes) != 1:
        raise TypeError(f"select_n cases must have the same shapes, got {[c.shape for c in cases]}")
    shape = cases[0].shape
    if which.shape not in ((), shape):
        raise TypeError(f"select_n: `which` has shape {which.shape}, cases have shape {shape}")
    if which.dtype == np.bool_:
        if len(cases) > 2:
            raise TypeError("select_n: a boolean `which` selects between at most 2 cases")
    elif which.dtype.kind not in "iu":
        raise TypeError(f"select_n: `which` must be bool or int32, got {which.dtype.name}")
    return ShapedArray(shape, dt, _all_weak(*cases))


# fmt: off
def select_n(which, *cases): return select_n_p.bind(which, *_promote_scalars("select_n", *cases))
def select(pred, on_true, on_false): return select_n(pred, on_false, on_true)
# fmt: on


clamp_p = _prim("clamp")
clamp_p.def_impl(lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi).astype(x.dtype))


@clamp_p.def_abstract_eval
def _clamp_abstract(lo, x, hi):
    _same_dtypes("clamp", lo, x, hi)
    for b in (lo, hi):
        if b.shape not in ((), x.shape):
            raise TypeError(f"clamp: bound of shape {b.shape} does not match operand {x.shape}")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


# fmt: off
def clamp(min, x, max): return clamp_p.bind(*_promote_scalars("clamp", min, x, max))  # noqa: A002
# fmt: on


convert_element_type_p = _prim("convert_element_type")


@convert_element_type_p.def_impl
def _convert_impl(x, *, new_dtype, weak_type=False):
    if x.dtype.kind == "c" and new_dtype.kind != "c":
        if new_dtype == np.bool_:
            return x != 0
        x = x.real  # complex -> real drops the imaginary part, as XLA
    if dtypes.is_float(x.dtype) and new_dtype.kind in "iu":
        # Saturating, NaN -> 0 (XLA's semantics; C's cast would be undefined behaviour).
        # NB: compared in x's float type, info.max may round up (int32 max -> 2**31 in float32),
        # so `>=` catches exactly the values that do not fit.
        info = np.iinfo(new_dtype)
        t = np.trunc(x)
        hi, lo = t >= info.max, t <= info.min
        out = np.where(hi | lo | np.isnan(t), 0, t).astype(new_dtype)
        return np.where(hi, info.max, np.where(lo, info.min, out)).astype(new_dtype)
    if new_dtype == np.bool_:
        return x != 0
    return x.astype(new_dtype)


@convert_element_type_p.def_abstract_eval
def _convert_abstract(x, *, new_dtype, weak_type=False):
    return ShapedArray(x.shape, dtypes.canonicalize(new_dtype, "convert_element_type"), weak_type)


def convert_element_type(x, new_dtype):
    dt = dtypes.canonicalize(new_dtype, "convert_element_type")
    return convert_element_type_p.bind(x, new_dtype=dt, weak_type=False)


bitcast_convert_type_p = _prim("bitcast_convert_type")
bitcast_convert_type_p.def_impl(lambda x, *, new_dtype: _contiguous(x).view(new_dtype))


@bitcast_convert_type_p.def_abstract_eval
def _bitcast_abstract(x, *, new_dtype):
    if x.dtype.itemsize != new_dtype.itemsize or x.dtype == np.bool_ or new_dtype == np.bool_:
        raise TypeError(
            f"bitcast_convert_type: {x.dtype.name} and {new_dtype.name} need the same itemsize"
        )
    return ShapedArray(x.shape, new_dtype)


def bitcast_convert_type(x, new_dtype):
    return bitcast_convert_type_p.bind(
        x, new_dtype=dtypes.canonicalize(new_dtype, "bitcast_convert_type")
    )
