"""Every primitive, once: its name, its one-line wrapper (JAX's `lax` signature), its NumPy
implementation and its shape/dtype rule. Transformation rules live in the interpreters.

Wrappers take arrays positionally and static parameters as keywords, so tracers only ever appear
positionally. Binary wrappers accept Python scalars, which take the other operand's dtype.
"""

from __future__ import annotations

import builtins
import math
import warnings
from functools import partial
from typing import Sequence

import numpy as np

from jaxlite import dtypes
from jaxlite.core import Primitive, ShapedArray, Tracer, api_entry, get_aval

# NumPy's floating-point RuntimeWarnings (log(0), 0/0, ...) are not errors in JAX's semantics.
# This filter only matches warnings attributed to jaxlite's own modules and costs nothing until
# a warning fires (np.errstate would cost 1.5 us per eager op).
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"jaxlite(\.|$)")

ALL_PRIMITIVES: list[Primitive] = []


def _prim(name: str, multiple_results: bool = False) -> Primitive:
    p = Primitive(name, multiple_results)
    ALL_PRIMITIVES.append(p)
    return p


def _contiguous(x: np.ndarray) -> np.ndarray:
    # NB: always a fresh C-contiguous buffer: a view (np.ascontiguousarray of a contiguous slice)
    # would share memory with the caller's writable NumPy input, breaking immutability.
    return np.array(x, order="C")


# ------------------------------------------------------------------------------------------
# Shape/dtype rule helpers
# ------------------------------------------------------------------------------------------

_FLOAT = "f"
_INT = "iu"
_NUM = "iuf"
_NUM_BOOL = "iufb"
_INT_BOOL = "iub"


def _check_kinds(name: str, aval: ShapedArray, kinds: str) -> None:
    if aval.dtype.kind not in kinds:
        allowed = {
            _FLOAT: "floating-point",
            _INT: "integer",
            _NUM: "numeric (integer or floating-point)",
            _NUM_BOOL: "numeric or boolean",
            _INT_BOOL: "integer or boolean",
        }.get(kinds, kinds)
        raise TypeError(
            f"{name} does not accept dtype {aval.dtype.name}: it needs a {allowed} argument"
        )


def _same_dtypes(name: str, *avals: ShapedArray) -> np.dtype:
    dts = {a.dtype for a in avals}
    if len(dts) > 1:
        names = ", ".join(a.dtype.name for a in avals)
        raise TypeError(
            f"{name} requires arguments to have the same dtypes, got {names}. "
            "(jnp functions promote dtypes for you; lax functions do not.)"
        )
    return avals[0].dtype


def _binop_shape(name: str, *avals: ShapedArray) -> tuple[int, ...]:
    shapes = {a.shape for a in avals if a.shape != ()}
    if len(shapes) > 1:
        raise TypeError(
            f"{name} got incompatible shapes for broadcasting: "
            + ", ".join(str(a.shape) for a in avals)
        )
    return shapes.pop() if shapes else ()


def _all_weak(*avals: ShapedArray) -> bool:
    return all(a.weak_type for a in avals)


def _unop_abstract(name, kinds, aval, **_):
    _check_kinds(name, aval, kinds)
    return ShapedArray(aval.shape, aval.dtype, aval.weak_type)


def _binop_abstract(name, kinds, x, y, **_):
    dt = _same_dtypes(name, x, y)
    _check_kinds(name, x, kinds)
    return ShapedArray(_binop_shape(name, x, y), dt, _all_weak(x, y))


def _compare_abstract(name, x, y):
    _same_dtypes(name, x, y)
    return ShapedArray(_binop_shape(name, x, y), dtypes.bool_, False)


# NB: the eager path does not run shape/dtype rules (they cost ~1.5 us); these checked impls
# test the few conditions elementwise rules reject (~0.1 us) and raise the rule's own error, so
# eager `lax` calls fail exactly as traced ones do.


def _checked_unop(name, impl, kinds):
    def checked(x, **params):
        if x.dtype.kind not in kinds:
            _check_kinds(name, get_aval(x), kinds)
        return impl(x, **params)

    return checked


def _checked_binop(name, impl, rule):
    def checked(x, y):
        if x.dtype != y.dtype or (x.shape != y.shape and x.shape and y.shape):
            rule(get_aval(x), get_aval(y))
        return impl(x, y)

    return checked


def _unop(name, impl, kinds):
    p = _prim(name)
    p.def_impl(_checked_unop(name, impl, kinds))
    p.def_abstract_eval(partial(_unop_abstract, name, kinds))
    return p


def _binop(name, impl, kinds):
    p = _prim(name)
    rule = partial(_binop_abstract, name, kinds)
    p.def_impl(_checked_binop(name, _checked_kinds_binop(name, impl, kinds), rule))
    p.def_abstract_eval(rule)
    return p


def _checked_kinds_binop(name, impl, kinds):
    def checked(x, y):
        if x.dtype.kind not in kinds:
            _check_kinds(name, get_aval(x), kinds)
        return impl(x, y)

    return checked


def _canonicalize_axis(axis: int, ndim: int, name: str) -> int:
    if not -ndim <= axis < builtins.max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
        raise ValueError(f"[{name}] axis {axis} out of range for an array of rank {ndim}")
    return axis % ndim if ndim else 0


def _check_axes(name: str, axes: Sequence[int], shape) -> tuple[int, ...]:
    out = []
    for a in axes:
        if not 0 <= a < len(shape):
            raise ValueError(f"[{name}] axis {a} out of range for shape {tuple(shape)}")
        out.append(a)
    if len(set(out)) != len(out):
        raise ValueError(f"[{name}] repeated axes {tuple(axes)}")
    return tuple(out)


# ------------------------------------------------------------------------------------------
# Python scalars in lax wrappers
# ------------------------------------------------------------------------------------------


_NO_ARRAY = object()  # (None is an argument too: a bad one, reported by get_aval)


def _is_array_like(x) -> bool:
    return not (type(x) in dtypes.PYTHON_SCALAR_DTYPES)


def _scalar_to(x, like, name: str):
    """Converts a Python scalar `x` to the dtype of `like` (a weakly typed 0-d array)."""
    dt = get_aval(like).dtype
    if isinstance(x, float) and dt.kind != "f":
        raise TypeError(f"{name}: cannot combine the float {x} with an array of dtype {dt.name}")
    if isinstance(x, int) and not isinstance(x, bool) and dt.kind == "b":
        raise TypeError(f"{name}: cannot combine the int {x} with an array of dtype bool")
    if dt.kind in "iu" and not isinstance(x, bool):
        info = np.iinfo(dt)
        if not info.min <= x <= info.max:
            raise OverflowError(f"{name}: Python int {x} is out of bounds for {dt.name}")
    from jaxlite.array import _wrap

    return _wrap(np.asarray(x, dt), True)


def _promote_scalars(name: str, *args):
    if all(_is_array_like(a) for a in args):
        return args
    like = next((a for a in args if _is_array_like(a)), _NO_ARRAY)
    if like is _NO_ARRAY:
        dt, _ = dtypes.result_type(*[(dtypes.dtype_of_scalar(a), True) for a in args])
        from jaxlite.array import _wrap

        return tuple(_wrap(np.asarray(a, dt), True) for a in args)
    return tuple(a if _is_array_like(a) else _scalar_to(a, like, name) for a in args)


# ------------------------------------------------------------------------------------------
# Elementwise: unary
# ------------------------------------------------------------------------------------------


def _erf_np(x):
    f = np.frompyfunc(math.erf, 1, 1)
    return np.asarray(f(x.astype(np.float64)), dtype=np.float64).astype(x.dtype)


_ERF_INV_F32_SMALL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                      0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_ERF_INV_F32_LARGE = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                      0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _erf_inv_f32_np(x):
    # NB: XLA's float32 algorithm (Giles' polynomials evaluated in float32 on w = -log1p(-x*x)),
    # so that jaxlite.random.normal reproduces jax.random.normal's float32 bits.
    w = -np.log1p(-x * x)
    small = w < np.float32(5.0)
    t = np.where(small, w - np.float32(2.5), np.sqrt(np.maximum(w, 0)) - np.float32(3.0))
    p = np.where(small, np.float32(_ERF_INV_F32_SMALL[0]), np.float32(_ERF_INV_F32_LARGE[0]))
    for a, b in zip(_ERF_INV_F32_SMALL[1:], _ERF_INV_F32_LARGE[1:]):
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
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p1 = c + p1 * ws
    wl = np.sqrt(np.maximum(w, 5.0)) - 3.0
    p2 = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
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
    if x.dtype.kind == "f":
        return np.where(x == 0, x, np.sign(x))  # sign(-0.0) = -0.0, as in XLA
    return np.sign(x)


def _abs_np(x):
    return np.abs(x)


neg_p = _unop("neg", np.negative, _NUM)
sign_p = _unop("sign", _sign_np, _NUM)
abs_p = _unop("abs", _abs_np, _NUM)
exp_p = _unop("exp", np.exp, _FLOAT)
exp2_p = _unop("exp2", np.exp2, _FLOAT)
log_p = _unop("log", np.log, _FLOAT)
log1p_p = _unop("log1p", np.log1p, _FLOAT)
expm1_p = _unop("expm1", np.expm1, _FLOAT)
tanh_p = _unop("tanh", np.tanh, _FLOAT)
logistic_p = _unop("logistic", _logistic_np, _FLOAT)
sin_p = _unop("sin", np.sin, _FLOAT)
cos_p = _unop("cos", np.cos, _FLOAT)
tan_p = _unop("tan", np.tan, _FLOAT)
asin_p = _unop("asin", np.arcsin, _FLOAT)
acos_p = _unop("acos", np.arccos, _FLOAT)
atan_p = _unop("atan", np.arctan, _FLOAT)
sinh_p = _unop("sinh", np.sinh, _FLOAT)
cosh_p = _unop("cosh", np.cosh, _FLOAT)
asinh_p = _unop("asinh", np.arcsinh, _FLOAT)
acosh_p = _unop("acosh", np.arccosh, _FLOAT)
atanh_p = _unop("atanh", np.arctanh, _FLOAT)
sqrt_p = _unop("sqrt", np.sqrt, _FLOAT)
rsqrt_p = _unop("rsqrt", lambda x: (1 / np.sqrt(x)).astype(x.dtype), _FLOAT)
cbrt_p = _unop("cbrt", np.cbrt, _FLOAT)
erf_p = _unop("erf", _erf_np, _FLOAT)
erf_inv_p = _unop("erf_inv", _erf_inv_np, _FLOAT)
floor_p = _unop("floor", np.floor, _FLOAT)
ceil_p = _unop("ceil", np.ceil, _FLOAT)
round_p = _unop("round", _round_np, _FLOAT)
not_p = _unop("not", np.invert, _INT_BOOL)
copy_p = _unop("copy", np.copy, _NUM_BOOL)
stop_gradient_p = _unop("stop_gradient", np.copy, _NUM_BOOL)

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
    if y < 0 and x.dtype.kind != "f":
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
    _check_kinds("integer_pow", x, _NUM)
    if not isinstance(y, (int, np.integer)):
        raise TypeError(f"integer_pow: the exponent y must be a Python int, got {y!r}")
    if y < 0 and x.dtype.kind != "f":
        raise TypeError("integer_pow: negative powers need a floating-point base")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


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


# ------------------------------------------------------------------------------------------
# Elementwise: binary
# ------------------------------------------------------------------------------------------


def _int_div_np(x, y):
    """C semantics (round toward zero); x / 0 = 0 and INT_MIN / -1 = INT_MIN, never a trap."""
    if x.dtype.kind == "f":
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
    if x.dtype.kind == "f":
        return np.fmod(x, y).astype(x.dtype)
    safe_y = np.where(y == 0, 1, y).astype(x.dtype)
    return np.where(y == 0, np.zeros((), x.dtype), np.fmod(x, safe_y)).astype(x.dtype)


def _pow_np(x, y):
    if x.dtype.kind == "f":
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


add_p = _binop("add", np.add, _NUM)
sub_p = _binop("sub", np.subtract, _NUM)
mul_p = _binop("mul", np.multiply, _NUM)
div_p = _binop("div", _int_div_np, _NUM)
rem_p = _binop("rem", _rem_np, _NUM)
pow_p = _binop("pow", _pow_np, _NUM)
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
add_any_p = _binop("add_any", np.add, _NUM)


def _cmp(name, impl):
    p = _prim(name)
    rule = partial(_compare_abstract, name)
    p.def_impl(_checked_binop(name, impl, rule))
    p.def_abstract_eval(rule)
    return p


eq_p = _cmp("eq", np.equal)
ne_p = _cmp("ne", np.not_equal)
lt_p = _cmp("lt", np.less)
le_p = _cmp("le", np.less_equal)
gt_p = _cmp("gt", np.greater)
ge_p = _cmp("ge", np.greater_equal)


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


# ------------------------------------------------------------------------------------------
# Selection and conversion
# ------------------------------------------------------------------------------------------

select_n_p = _prim("select_n")


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


def select_n(which, *cases): return select_n_p.bind(which, *_promote_scalars("select_n", *cases))
def select(pred, on_true, on_false): return select_n(pred, on_false, on_true)


clamp_p = _prim("clamp")
clamp_p.def_impl(lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi).astype(x.dtype))


@clamp_p.def_abstract_eval
def _clamp_abstract(lo, x, hi):
    _same_dtypes("clamp", lo, x, hi)
    for b in (lo, hi):
        if b.shape not in ((), x.shape):
            raise TypeError(f"clamp: bound of shape {b.shape} does not match operand {x.shape}")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def clamp(min, x, max): return clamp_p.bind(*_promote_scalars("clamp", min, x, max))  # noqa: A002


convert_element_type_p = _prim("convert_element_type")


@convert_element_type_p.def_impl
def _convert_impl(x, *, new_dtype, weak_type=False):
    if x.dtype.kind == "f" and new_dtype.kind in "iu":
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


# ------------------------------------------------------------------------------------------
# Reductions and scans
# ------------------------------------------------------------------------------------------


def _reduce_abstract(name, kinds, x, *, axes):
    _check_kinds(name, x, kinds)
    axes = _check_axes(name, axes, x.shape)
    shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    return ShapedArray(shape, x.dtype, x.weak_type)


def _reduce(name, impl, kinds):
    p = _prim(name)
    p.def_impl(impl)
    p.def_abstract_eval(partial(_reduce_abstract, name, kinds))
    return p


def _np_reduce(fn):
    return lambda x, *, axes: np.asarray(fn(x, axis=tuple(axes))).astype(x.dtype, copy=False)


def _reduce_max_np(x, *, axes):
    if x.size == 0:
        return _reduce_empty(x, axes, "max")
    return np.max(x, axis=tuple(axes))


def _reduce_min_np(x, *, axes):
    if x.size == 0:
        return _reduce_empty(x, axes, "min")
    return np.min(x, axis=tuple(axes))


def _reduce_empty(x, axes, which):
    # The identity of max is the dtype's lowest value (-inf for floats), as in XLA.
    shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    if x.dtype.kind == "f":
        v = -np.inf if which == "max" else np.inf
    elif x.dtype.kind == "b":
        v = which == "min"
    else:
        info = np.iinfo(x.dtype)
        v = info.min if which == "max" else info.max
    return np.full(shape, v, x.dtype)


reduce_sum_p = _reduce("reduce_sum", lambda x, *, axes: np.add.reduce(x, axis=tuple(axes), dtype=x.dtype), _NUM)
reduce_prod_p = _reduce("reduce_prod", lambda x, *, axes: np.multiply.reduce(x, axis=tuple(axes), dtype=x.dtype), _NUM)
reduce_max_p = _reduce("reduce_max", _reduce_max_np, _NUM_BOOL)
reduce_min_p = _reduce("reduce_min", _reduce_min_np, _NUM_BOOL)
reduce_and_p = _reduce("reduce_and", _np_reduce(np.all), _INT_BOOL)
reduce_or_p = _reduce("reduce_or", _np_reduce(np.any), _INT_BOOL)


def _reduce_bitwise_impl(ufunc):
    def impl(x, *, axes):
        if x.dtype == np.bool_:
            return np.all(x, axis=tuple(axes)) if ufunc is np.bitwise_and else np.any(x, axis=tuple(axes))
        return ufunc.reduce(x, axis=tuple(axes)).astype(x.dtype)

    return impl


reduce_and_p.def_impl(_reduce_bitwise_impl(np.bitwise_and))
reduce_or_p.def_impl(_reduce_bitwise_impl(np.bitwise_or))


def reduce_sum(x, axes): return reduce_sum_p.bind(x, axes=tuple(axes))
def reduce_prod(x, axes): return reduce_prod_p.bind(x, axes=tuple(axes))
def reduce_max(x, axes): return reduce_max_p.bind(x, axes=tuple(axes))
def reduce_min(x, axes): return reduce_min_p.bind(x, axes=tuple(axes))
def reduce_and(x, axes): return reduce_and_p.bind(x, axes=tuple(axes))
def reduce_or(x, axes): return reduce_or_p.bind(x, axes=tuple(axes))


def _arg_abstract(name, x, *, axes, index_dtype):
    _check_kinds(name, x, _NUM_BOOL)
    if len(axes) != 1:
        raise ValueError(f"[{name}] needs exactly one axis, got {axes}")
    (axis,) = _check_axes(name, axes, x.shape)
    if x.shape[axis] == 0:
        raise ValueError(f"[{name}] cannot reduce the empty axis {axis} of shape {x.shape}")
    shape = tuple(d for i, d in enumerate(x.shape) if i != axis)
    return ShapedArray(shape, dtypes.canonicalize(index_dtype, name))


argmax_p = _prim("argmax")
argmax_p.def_impl(lambda x, *, axes, index_dtype: np.argmax(x, axis=axes[0]).astype(index_dtype))
argmax_p.def_abstract_eval(partial(_arg_abstract, "argmax"))
argmin_p = _prim("argmin")
argmin_p.def_impl(lambda x, *, axes, index_dtype: np.argmin(x, axis=axes[0]).astype(index_dtype))
argmin_p.def_abstract_eval(partial(_arg_abstract, "argmin"))


def argmax(x, axis, index_dtype=np.int32):
    return argmax_p.bind(x, axes=(int(axis),), index_dtype=dtypes.canonicalize(index_dtype))


def argmin(x, axis, index_dtype=np.int32):
    return argmin_p.bind(x, axes=(int(axis),), index_dtype=dtypes.canonicalize(index_dtype))


def _cum_abstract(name, kinds, x, *, axis, reverse):
    _check_kinds(name, x, kinds)
    _check_axes(name, (axis,), x.shape)
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def _cum_impl(ufunc):
    def impl(x, *, axis, reverse):
        if reverse:
            x = np.flip(x, axis)
        out = ufunc.accumulate(x, axis=axis, dtype=x.dtype) if x.size else np.copy(x)
        return np.flip(out, axis) if reverse else out

    return impl


def _cum(name, ufunc, kinds):
    p = _prim(name)
    p.def_impl(_cum_impl(ufunc))
    p.def_abstract_eval(partial(_cum_abstract, name, kinds))
    return p


cumsum_p = _cum("cumsum", np.add, _NUM)
cumprod_p = _cum("cumprod", np.multiply, _NUM)
cummax_p = _cum("cummax", np.maximum, _NUM)
cummin_p = _cum("cummin", np.minimum, _NUM)


def cumsum(x, axis=0, reverse=False): return cumsum_p.bind(x, axis=int(axis), reverse=bool(reverse))
def cumprod(x, axis=0, reverse=False): return cumprod_p.bind(x, axis=int(axis), reverse=bool(reverse))
def cummax(x, axis=0, reverse=False): return cummax_p.bind(x, axis=int(axis), reverse=bool(reverse))
def cummin(x, axis=0, reverse=False): return cummin_p.bind(x, axis=int(axis), reverse=bool(reverse))


# ------------------------------------------------------------------------------------------
# Shapes
# ------------------------------------------------------------------------------------------


def _check_shape(name: str, shape) -> tuple[int, ...]:
    try:
        shape = tuple(int(operator_index(d)) for d in shape)
    except TypeError:
        raise TypeError(f"{name}: shape must be a tuple of ints, got {shape!r}") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"{name}: negative dimension in shape {shape}")
    return shape


def operator_index(d):
    if isinstance(d, Tracer):
        return d.__index__()
    import operator

    return operator.index(d)


broadcast_in_dim_p = _prim("broadcast_in_dim")


@broadcast_in_dim_p.def_impl
def _broadcast_in_dim_impl(x, *, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        expanded[d] = x.shape[i]
    out = np.empty(shape, x.dtype)  # NB: 2 us faster than np.broadcast_to(...).copy()
    out[...] = x.reshape(expanded)
    return out


@broadcast_in_dim_p.def_abstract_eval
def _broadcast_in_dim_abstract(x, *, shape, broadcast_dimensions):
    if len(broadcast_dimensions) != x.ndim:
        raise TypeError(
            f"broadcast_in_dim: broadcast_dimensions {broadcast_dimensions} must have one entry "
            f"per operand dimension (operand shape {x.shape})"
        )
    for i, d in enumerate(broadcast_dimensions):
        if not 0 <= d < len(shape) or x.shape[i] not in (1, shape[d]):
            raise TypeError(
                f"broadcast_in_dim: operand shape {x.shape} cannot be broadcast to {shape} "
                f"with broadcast_dimensions {broadcast_dimensions}"
            )
    if list(broadcast_dimensions) != sorted(set(broadcast_dimensions)):
        raise TypeError(f"broadcast_in_dim: broadcast_dimensions {broadcast_dimensions} must be strictly increasing")
    return ShapedArray(shape, x.dtype, x.weak_type)


def broadcast_in_dim(x, shape, broadcast_dimensions):
    return broadcast_in_dim_p.bind(
        x,
        shape=_check_shape("broadcast_in_dim", shape),
        broadcast_dimensions=tuple(int(d) for d in broadcast_dimensions),
    )


def broadcast(x, sizes):
    """Adds leading dimensions `sizes` (lax.broadcast)."""
    nd = len(get_aval(x).shape)
    sizes = tuple(sizes)
    return broadcast_in_dim(x, sizes + tuple(get_aval(x).shape), tuple(range(len(sizes), len(sizes) + nd)))


reshape_p = _prim("reshape")
reshape_p.def_impl(lambda x, *, new_sizes, dimensions: np.reshape(x, new_sizes).copy())


@reshape_p.def_abstract_eval
def _reshape_abstract(x, *, new_sizes, dimensions):
    if dimensions is not None:
        raise NotImplementedError("reshape with `dimensions` is not supported; transpose first")
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise TypeError(f"reshape: cannot reshape an array of shape {x.shape} into shape {tuple(new_sizes)}")
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


def reshape(x, new_sizes, dimensions=None):
    return reshape_p.bind(x, new_sizes=_check_shape("reshape", new_sizes), dimensions=None if dimensions is None else tuple(dimensions))


transpose_p = _prim("transpose")
# NB: a view, not a copy: Arrays are immutable, and eager transposes (x.T, moving vmap's batch
# axis, the transposes of reverse mode) then cost nothing. A caller's writable NumPy array is
# copied, so that mutating it later cannot change the result.
@transpose_p.def_impl
def _transpose_impl(x, *, permutation):
    y = np.transpose(x, permutation)
    return y.copy() if x.flags.writeable else y


@transpose_p.def_abstract_eval
def _transpose_abstract(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise TypeError(f"transpose: permutation {permutation} is not a permutation of the axes of shape {x.shape}")
    return ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype, x.weak_type)


def transpose(x, permutation): return transpose_p.bind(x, permutation=tuple(int(p) for p in permutation))


squeeze_p = _prim("squeeze")
squeeze_p.def_impl(lambda x, *, dimensions: np.squeeze(x, axis=tuple(dimensions)).copy())


@squeeze_p.def_abstract_eval
def _squeeze_abstract(x, *, dimensions):
    dims = _check_axes("squeeze", dimensions, x.shape)
    for d in dims:
        if x.shape[d] != 1:
            raise ValueError(f"squeeze: cannot squeeze dimension {d} of shape {x.shape} (size {x.shape[d]} != 1)")
    return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i not in dims), x.dtype, x.weak_type)


def squeeze(x, dimensions):
    nd = get_aval(x).ndim
    return squeeze_p.bind(x, dimensions=tuple(sorted(_canonicalize_axis(d, nd, "squeeze") for d in dimensions)))


expand_dims_p = _prim("expand_dims")
expand_dims_p.def_impl(lambda x, *, dimensions: np.expand_dims(x, tuple(dimensions)).copy())


@expand_dims_p.def_abstract_eval
def _expand_dims_abstract(x, *, dimensions):
    nd = x.ndim + len(dimensions)
    dims = _check_axes("expand_dims", dimensions, (0,) * nd)
    shape = list(x.shape)
    for d in sorted(dims):
        shape.insert(d, 1)
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


def expand_dims(x, dimensions):
    nd = get_aval(x).ndim + len(tuple(dimensions))
    return expand_dims_p.bind(x, dimensions=tuple(sorted(_canonicalize_axis(d, nd, "expand_dims") for d in dimensions)))


rev_p = _prim("rev")
rev_p.def_impl(lambda x, *, dimensions: np.flip(x, tuple(dimensions)).copy())


@rev_p.def_abstract_eval
def _rev_abstract(x, *, dimensions):
    _check_axes("rev", dimensions, x.shape)
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def rev(x, dimensions): return rev_p.bind(x, dimensions=tuple(int(d) for d in dimensions))


concatenate_p = _prim("concatenate")
concatenate_p.def_impl(lambda *xs, dimension: np.concatenate(xs, axis=dimension))


@concatenate_p.def_abstract_eval
def _concatenate_abstract(*xs, dimension):
    if not xs:
        raise ValueError("concatenate needs at least one operand")
    dt = _same_dtypes("concatenate", *xs)
    nd = xs[0].ndim
    if not 0 <= dimension < nd:
        raise ValueError(f"[concatenate] dimension {dimension} out of range for rank {nd}")
    for x in xs:
        if x.ndim != nd or any(a != b for i, (a, b) in enumerate(zip(x.shape, xs[0].shape)) if i != dimension):
            raise TypeError(
                "concatenate: operands must have equal shapes except along dimension "
                f"{dimension}, got {[x.shape for x in xs]}"
            )
    shape = list(xs[0].shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    return ShapedArray(tuple(shape), dt, _all_weak(*xs))


def concatenate(operands, dimension):
    return concatenate_p.bind(*_sequence("concatenate", operands), dimension=int(dimension))


def _sequence(name: str, xs) -> tuple:
    try:
        return tuple(xs)
    except TypeError:
        raise TypeError(f"{name}: expected a sequence of arrays, got {type(xs).__name__}") from None


pad_p = _prim("pad")


@pad_p.def_impl
def _pad_impl(x, padding_value, *, padding_config):
    grown = []
    for d, (lo, hi, interior) in zip(x.shape, padding_config):
        core = d + (d - 1) * interior if d else 0
        grown.append(builtins.max(lo, 0) + core + builtins.max(hi, 0))
    out = np.full(grown, padding_value, dtype=x.dtype)
    idx = tuple(
        builtins.slice(builtins.max(lo, 0), builtins.max(lo, 0) + (d + (d - 1) * it if d else 0), it + 1)
        for d, (lo, hi, it) in zip(x.shape, padding_config)
    )
    out[idx] = x
    crop = tuple(
        builtins.slice(builtins.max(-lo, 0), g - builtins.max(-hi, 0)) for g, (lo, hi, _) in zip(grown, padding_config)
    )
    return _contiguous(out[crop])


@pad_p.def_abstract_eval
def _pad_abstract(x, padding_value, *, padding_config):
    _same_dtypes("pad", x, padding_value)
    if padding_value.shape != ():
        raise TypeError("pad: padding_value must be a scalar")
    if len(padding_config) != x.ndim:
        raise TypeError(f"pad: padding_config has {len(padding_config)} entries for rank {x.ndim}")
    shape = []
    for d, (lo, hi, it) in zip(x.shape, padding_config):
        if it < 0:
            raise ValueError("pad: interior padding must be non-negative")
        n = lo + hi + d + (builtins.max(d - 1, 0)) * it
        if n < 0:
            raise ValueError(f"pad: negative output dimension for shape {x.shape} and config {padding_config}")
        shape.append(n)
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


def pad(x, padding_value, padding_config):
    x, padding_value = _promote_scalars("pad", x, padding_value)
    cfg = tuple((int(lo), int(hi), int(it)) for lo, hi, it in padding_config)
    return pad_p.bind(x, padding_value, padding_config=cfg)


slice_p = _prim("slice")
slice_p.def_impl(
    lambda x, *, start_indices, limit_indices, strides: _contiguous(
        x[tuple(builtins.slice(s, l, st) for s, l, st in zip(start_indices, limit_indices, strides or (1,) * x.ndim))]
    )
)


@slice_p.def_abstract_eval
def _slice_abstract(x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * x.ndim
    if not len(start_indices) == len(limit_indices) == len(strides) == x.ndim:
        raise TypeError(f"slice: indices must have one entry per dimension of {x.shape}")
    shape = []
    for d, s, l, st in zip(x.shape, start_indices, limit_indices, strides):
        if not (0 <= s <= l <= d) or st < 1:
            raise ValueError(
                f"slice: start_indices {start_indices}, limit_indices {limit_indices} and strides "
                f"{strides} are out of range for shape {x.shape}"
            )
        shape.append((l - s + st - 1) // st)
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


def slice(x, start_indices, limit_indices, strides=None):  # noqa: A001 - lax's name
    return slice_p.bind(
        x,
        start_indices=tuple(int(i) for i in start_indices),
        limit_indices=tuple(int(i) for i in limit_indices),
        strides=None if strides is None else tuple(int(s) for s in strides),
    )


def _clamped_starts(shape, starts, sizes):
    return [int(np.clip(int(s), 0, d - z)) for d, s, z in zip(shape, starts, sizes)]


dynamic_slice_p = _prim("dynamic_slice")


@dynamic_slice_p.def_impl
def _dynamic_slice_impl(x, *starts, slice_sizes):
    st = _clamped_starts(x.shape, starts, slice_sizes)
    return x[tuple(builtins.slice(s, s + z) for s, z in zip(st, slice_sizes))].copy()


@dynamic_slice_p.def_abstract_eval
def _dynamic_slice_abstract(x, *starts, slice_sizes):
    if len(starts) != x.ndim or len(slice_sizes) != x.ndim:
        raise TypeError(f"dynamic_slice: need {x.ndim} start indices and slice sizes for shape {x.shape}")
    for s in starts:
        if s.shape != () or s.dtype.kind not in "iu":
            raise TypeError(f"dynamic_slice: start indices must be integer scalars, got {s.str_short()}")
    if any(not 0 <= z <= d for z, d in zip(slice_sizes, x.shape)):
        raise TypeError(f"dynamic_slice: slice_sizes {slice_sizes} do not fit in shape {x.shape}")
    return ShapedArray(tuple(slice_sizes), x.dtype, x.weak_type)


def dynamic_slice(x, start_indices, slice_sizes):
    return dynamic_slice_p.bind(x, *_index_scalars(start_indices), slice_sizes=tuple(int(s) for s in slice_sizes))


def _index_scalars(idxs):
    from jaxlite.array import _wrap

    return [_wrap(np.asarray(i, np.int32)) if type(i) is int else i for i in idxs]


dynamic_update_slice_p = _prim("dynamic_update_slice")


@dynamic_update_slice_p.def_impl
def _dynamic_update_slice_impl(x, update, *starts):
    st = _clamped_starts(x.shape, starts, update.shape)
    out = x.copy()
    out[tuple(builtins.slice(s, s + z) for s, z in zip(st, update.shape))] = update
    return out


@dynamic_update_slice_p.def_abstract_eval
def _dynamic_update_slice_abstract(x, update, *starts):
    _same_dtypes("dynamic_update_slice", x, update)
    if len(starts) != x.ndim or update.ndim != x.ndim:
        raise TypeError(f"dynamic_update_slice: update {update.shape} and {len(starts)} indices do not match {x.shape}")
    if any(u > d for u, d in zip(update.shape, x.shape)):
        raise TypeError(f"dynamic_update_slice: update of shape {update.shape} does not fit in {x.shape}")
    for s in starts:
        if s.shape != () or s.dtype.kind not in "iu":
            raise TypeError(f"dynamic_update_slice: start indices must be integer scalars, got {s.str_short()}")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def dynamic_update_slice(x, update, start_indices):
    return dynamic_update_slice_p.bind(x, update, *_index_scalars(start_indices))


iota_p = _prim("iota")


@iota_p.def_impl
def _iota_impl(*, dtype, shape, dimension):
    r = np.arange(shape[dimension], dtype=dtype)
    expanded = [1] * len(shape)
    expanded[dimension] = shape[dimension]
    return np.broadcast_to(r.reshape(expanded), shape).copy()


@iota_p.def_abstract_eval
def _iota_abstract(*, dtype, shape, dimension):
    if dtype.kind not in _NUM:
        raise TypeError(f"iota does not accept dtype {dtype.name}: it needs a numeric dtype")
    if not 0 <= dimension < len(shape):
        raise ValueError(f"[iota] dimension {dimension} out of range for shape {shape}")
    return ShapedArray(shape, dtype)


def iota(dtype, size):
    return iota_p.bind(dtype=dtypes.canonicalize(dtype), shape=(int(size),), dimension=0)


def broadcasted_iota(dtype, shape, dimension):
    return iota_p.bind(dtype=dtypes.canonicalize(dtype), shape=_check_shape("iota", shape), dimension=int(dimension))


# ------------------------------------------------------------------------------------------
# dot_general and sort
# ------------------------------------------------------------------------------------------

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
    for a, b in zip(xc, yc):
        if not (0 <= a < x.ndim and 0 <= b < y.ndim) or x.shape[a] != y.shape[b]:
            raise TypeError(
                f"dot_general: contracting dimensions {xc} of {x.shape} and {yc} of {y.shape} "
                "do not match"
            )
    for a, b in zip(xb, yb):
        if not (0 <= a < x.ndim and 0 <= b < y.ndim) or x.shape[a] != y.shape[b]:
            raise TypeError(
                f"dot_general: batch dimensions {xb} of {x.shape} and {yb} of {y.shape} do not match"
            )
    shape = (
        tuple(x.shape[i] for i in xb)
        + tuple(x.shape[i] for i in _dot_free_dims(x.ndim, xc, xb))
        + tuple(y.shape[i] for i in _dot_free_dims(y.ndim, yc, yb))
    )
    out_dt = dtypes.canonicalize(preferred_element_type) if preferred_element_type is not None else dt
    return ShapedArray(shape, out_dt, _all_weak(x, y))


def dot_general(x, y, dimension_numbers, preferred_element_type=None):
    (xc, yc), (xb, yb) = dimension_numbers
    dn = ((tuple(int(i) for i in xc), tuple(int(i) for i in yc)), (tuple(int(i) for i in xb), tuple(int(i) for i in yb)))
    pet = None if preferred_element_type is None else dtypes.canonicalize(preferred_element_type)
    return dot_general_p.bind(x, y, dimension_numbers=dn, preferred_element_type=pet)


def dot(x, y, preferred_element_type=None):
    """lax.dot: vector-vector, matrix-vector or matrix-matrix product."""
    xn, yn = get_aval(x).ndim, get_aval(y).ndim
    return dot_general(x, y, (((xn - 1,), (0 if yn == 1 else yn - 2,)), ((), ())), preferred_element_type)


sort_p = _prim("sort", multiple_results=True)


@sort_p.def_impl
def _sort_impl(*operands, dimension, is_stable, num_keys):
    keys = operands[:num_keys]
    if num_keys == 1:
        perm = np.argsort(keys[0], axis=dimension, kind="stable")
    else:
        moved = [np.moveaxis(k, dimension, -1) for k in keys]
        flat = [m.reshape(-1, m.shape[-1]) for m in moved]
        perm_rows = np.stack([np.lexsort(tuple(f[r] for f in reversed(flat))) for r in range(flat[0].shape[0])]) if flat[0].size else np.zeros(flat[0].shape, np.int64)
        perm = np.moveaxis(perm_rows.reshape(moved[0].shape), -1, dimension)
    return [np.take_along_axis(o, perm, axis=dimension) for o in operands]


@sort_p.def_abstract_eval
def _sort_abstract(*operands, dimension, is_stable, num_keys):
    shapes = {o.shape for o in operands}
    if len(shapes) != 1:
        raise TypeError(f"sort: operands must have the same shape, got {[o.shape for o in operands]}")
    if not 1 <= num_keys <= len(operands):
        raise ValueError(f"sort: num_keys={num_keys} with {len(operands)} operands")
    _check_axes("sort", (dimension,), operands[0].shape)
    return [ShapedArray(o.shape, o.dtype, o.weak_type) for o in operands]


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
    """lax.sort: one array, or a tuple of arrays sorted by the first `num_keys` of them."""
    single = not isinstance(operand, (tuple, list))
    ops = [operand] if single else list(operand)
    nd = get_aval(ops[0]).ndim
    out = sort_p.bind(*ops, dimension=_canonicalize_axis(dimension, nd, "sort"), is_stable=bool(is_stable), num_keys=int(num_keys))
    return out[0] if single else tuple(out)


# ---- gather / scatter ----
# XLA's gather and scatter with JAX's parameters. The index vector is always the last dimension
# of the indices (as in JAX's lax wrappers). Out-of-bounds windows: gathers clamp (CLIP,
# PROMISE_IN_BOUNDS) or fill (FILL_OR_DROP); scatters clamp (CLIP) or are dropped (the others).
# Owned by the gather/scatter work; keep edits from elsewhere out of this section.

import enum as _enum  # noqa: E402
from typing import NamedTuple as _NamedTuple  # noqa: E402


class GatherDimensionNumbers(_NamedTuple):
    """How a gather's operand, start indices and output dimensions relate (JAX's names).

    offset_dims: output dimensions holding the window (slice) dimensions, sorted.
    collapsed_slice_dims: operand dimensions of slice size 1 left out of the output, sorted.
    start_index_map: the operand dimension indexed by each entry of the index vector.
    operand_batching_dims: operand dimensions paired one-to-one with the index batch
      dimensions `start_indices_batching_dims` (sorted).
    """

    offset_dims: tuple
    collapsed_slice_dims: tuple
    start_index_map: tuple
    operand_batching_dims: tuple = ()
    start_indices_batching_dims: tuple = ()


class ScatterDimensionNumbers(_NamedTuple):
    """How a scatter's operand, indices and updates dimensions relate (JAX's names).

    update_window_dims: dimensions of `updates` that are window dimensions, sorted.
    inserted_window_dims: operand dimensions of window size 1 absent from `updates`, sorted.
    scatter_dims_to_operand_dims: the operand dimension indexed by each index-vector entry.
    operand_batching_dims / scatter_indices_batching_dims: paired batch dimensions.
    """

    update_window_dims: tuple
    inserted_window_dims: tuple
    scatter_dims_to_operand_dims: tuple
    operand_batching_dims: tuple = ()
    scatter_indices_batching_dims: tuple = ()


class GatherScatterMode(_enum.Enum):
    """Out-of-bounds rule of gathers and scatters (a window is out of bounds if any part is).

    CLIP: start indices are clamped so that the whole window is in bounds.
    FILL_OR_DROP: gathers return `fill_value` for the window; scatters drop the update.
    PROMISE_IN_BOUNDS: the caller promises in-bounds indices; gathers clamp, scatters drop.
    """

    CLIP = 0
    FILL_OR_DROP = 1
    PROMISE_IN_BOUNDS = 2

    @staticmethod
    def from_any(s) -> "GatherScatterMode":
        if isinstance(s, GatherScatterMode):
            return s
        if s == "clip":
            return GatherScatterMode.CLIP
        if s is None or s == "fill" or s == "drop":
            return GatherScatterMode.FILL_OR_DROP
        if s == "promise_in_bounds":
            return GatherScatterMode.PROMISE_IN_BOUNDS
        raise ValueError(
            f'Unknown gather/scatter mode "{s}": use "clip", "fill", "drop" or "promise_in_bounds"'
        )


def _int_tuple(xs) -> tuple[int, ...]:
    return tuple(int(operator_index(x)) for x in xs)


def _window_dims(rank: int, dropped, batching) -> list[int]:
    return [d for d in range(rank) if d not in dropped and d not in batching]


def _clamped_window_starts(op_shape, indices, index_map, sizes, with_mask: bool):
    """Start indices (int64, clamped so every window is in bounds) and, if asked, the mask of
    windows that were in bounds before clamping."""
    hi = np.array([op_shape[d] - sizes[d] for d in index_map], np.int64)
    starts = indices.astype(np.int64, copy=False)
    ok = np.all((starts >= 0) & (starts <= hi), axis=-1) if with_mask else None
    return np.minimum(np.maximum(starts, 0), hi), ok  # NB: np.clip costs ~5 us more


def _window_index_arrays(op_shape, starts, index_map, window, op_batch, idx_batch, sizes):
    """One int64 index array per operand dimension, broadcastable to `batch + window` shape."""
    bshape = starts.shape[:-1]
    nb, nw = len(bshape), len(window)
    arrays = []
    for d in range(len(op_shape)):
        a = np.zeros((1,) * (nb + nw), np.int64)
        if d in index_map:
            a = starts[..., index_map.index(d)].reshape(bshape + (1,) * nw)
        elif d in op_batch:
            b = idx_batch[op_batch.index(d)]
            a = np.arange(bshape[b], dtype=np.int64).reshape(
                tuple(bshape[b] if i == b else 1 for i in range(nb + nw))
            )
        if d in window:
            w = nb + window.index(d)
            a = a + np.arange(sizes[d], dtype=np.int64).reshape(
                tuple(sizes[d] if i == w else 1 for i in range(nb + nw))
            )
        arrays.append(a)
    return arrays


def _fill_scalar(fill_value, dtype) -> np.ndarray:
    return _convert_impl(np.asarray(fill_value), new_dtype=dtype)


def _batch_window_to_output(out, nb: int, offset_dims) -> np.ndarray:
    """Transposes `batch + window` order into the output order given by `offset_dims`."""
    rank = nb + len(offset_dims)
    b, w = iter(range(nb)), iter(range(nb, rank))
    perm = [next(w) if p in offset_dims else next(b) for p in range(rank)]
    return out if perm == list(range(rank)) else np.transpose(out, perm)


def _def_checked_impl(p: Primitive, fn) -> None:
    """Registers `fn` as the eager impl, run after the shape rule (so eager calls get its clear
    errors); the result is weakly typed iff the operand is (the indices do not matter)."""
    p.def_impl(fn)
    generic = p.impl
    checked: dict = {}  # (avals, params) -> output aval; bounded below

    def impl(*args, **params):
        key = (tuple(map(get_aval, args)), tuple(sorted(params.items())))
        aval = checked.get(key)
        if aval is None:
            aval = p.abstract_eval(*key[0], **params)
            if len(checked) > 256:
                checked.clear()
            checked[key] = aval
        out = generic(*args, **params)
        out.weak_type = aval.weak_type
        return out

    impl.numpy_impl = fn
    p.impl = impl


gather_p = _prim("gather")


def _gather_impl(operand, indices, *, dimension_numbers, slice_sizes, mode, fill_value, **_):
    dn = dimension_numbers
    rank = operand.ndim
    window = _window_dims(rank, dn.collapsed_slice_dims, dn.operand_batching_dims)
    bshape = indices.shape[:-1]
    full = bshape + tuple(slice_sizes[d] for d in window)
    fill = mode is GatherScatterMode.FILL_OR_DROP
    starts, ok = _clamped_window_starts(
        operand.shape, indices, dn.start_index_map, slice_sizes, fill
    )
    if (
        not dn.operand_batching_dims
        and sorted(dn.start_index_map) == list(dn.collapsed_slice_dims)
        and all(slice_sizes[d] == operand.shape[d] for d in window)
    ):
        # x[i, j] with whole windows (the common case): one np.take or one fancy index.
        if starts.shape[-1] == 1:
            d = dn.start_index_map[0]
            out = np.take(operand, starts[..., 0], axis=d)  # window dims < d, batch, the rest
            nb = len(bshape)
            out = np.transpose(out, [*range(d, d + nb), *range(d), *range(d + nb, out.ndim)])
        else:
            perm = list(dn.start_index_map) + window
            x = operand if perm == list(range(rank)) else np.transpose(operand, perm)
            out = x[tuple(starts[..., k] for k in range(starts.shape[-1]))]
    else:
        arrays = _window_index_arrays(
            operand.shape,
            starts,
            dn.start_index_map,
            window,
            dn.operand_batching_dims,
            dn.start_indices_batching_dims,
            slice_sizes,
        )
        out = operand[tuple(arrays)] if arrays else operand
    if out.shape != full:
        out = np.broadcast_to(out, full)
    if fill:
        keep = ok.reshape(bshape + (1,) * (len(full) - len(bshape)))
        out = np.where(keep, out, _fill_scalar(fill_value, operand.dtype))
    out = np.asarray(_batch_window_to_output(out, len(bshape), dn.offset_dims), order="C")
    return out.copy() if np.may_share_memory(out, operand) else out


_def_checked_impl(gather_p, _gather_impl)


def _check_dims(prim: str, what: str, dims, bound: int, sort: bool = True) -> None:
    if any(not 0 <= d < bound for d in dims):
        raise TypeError(f"{prim}: {what} {dims} out of range [0, {bound})")
    if len(set(dims)) != len(dims):
        raise TypeError(f"{prim}: {what} {dims} must not repeat")
    if sort and list(dims) != sorted(dims):
        raise TypeError(f"{prim}: {what} {dims} must be sorted")


def _check_index_avals(
    prim: str, operand, indices, index_map, dropped, op_batch, idx_batch, names
) -> None:
    """Checks shared by gather and scatter; `names` are the primitive's names for the fields."""
    n_map, n_dropped, n_idx_batch = names
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{prim}: indices must have an integer dtype, got {indices.dtype.name}")
    if indices.ndim < 1:
        raise TypeError(
            f"{prim}: indices must have rank >= 1 (the last dimension is the index vector), "
            f"got shape {indices.shape}"
        )
    if len(index_map) != indices.shape[-1]:
        raise TypeError(
            f"{prim}: {n_map} {index_map} has {len(index_map)} entries but the index vector "
            f"(last dimension of indices of shape {indices.shape}) has {indices.shape[-1]}"
        )
    _check_dims(prim, n_map, index_map, operand.ndim, sort=False)
    _check_dims(prim, n_dropped, dropped, operand.ndim)
    _check_dims(prim, "operand_batching_dims", op_batch, operand.ndim)
    _check_dims(prim, n_idx_batch, idx_batch, indices.ndim - 1, sort=False)
    for a, b, na, nb in (
        (dropped, op_batch, n_dropped, "operand_batching_dims"),
        (index_map, op_batch, n_map, "operand_batching_dims"),
    ):
        if set(a) & set(b):
            raise TypeError(f"{prim}: {na} {a} and {nb} {b} must be disjoint")
    if len(op_batch) != len(idx_batch):
        raise TypeError(
            f"{prim}: operand_batching_dims {op_batch} and {n_idx_batch} {idx_batch} must have "
            "the same length"
        )
    ob = tuple(operand.shape[d] for d in op_batch)
    ib = tuple(indices.shape[d] for d in idx_batch)
    if ob != ib:
        raise TypeError(
            f"{prim}: operand batching dimensions have sizes {ob} but the indices batching "
            f"dimensions have sizes {ib} (operand {operand.shape}, indices {indices.shape})"
        )


@gather_p.def_abstract_eval
def _gather_abstract(operand, indices, *, dimension_numbers, slice_sizes, mode, fill_value, **_):
    dn = dimension_numbers
    _check_index_avals(
        "gather",
        operand,
        indices,
        dn.start_index_map,
        dn.collapsed_slice_dims,
        dn.operand_batching_dims,
        dn.start_indices_batching_dims,
        ("start_index_map", "collapsed_slice_dims", "start_indices_batching_dims"),
    )
    nb = indices.ndim - 1
    _check_dims("gather", "offset_dims", dn.offset_dims, nb + len(dn.offset_dims))
    if len(slice_sizes) != operand.ndim:
        raise TypeError(
            f"gather: slice_sizes {slice_sizes} must have one entry per dimension of the "
            f"operand of shape {operand.shape}"
        )
    window = _window_dims(operand.ndim, dn.collapsed_slice_dims, dn.operand_batching_dims)
    if len(window) != len(dn.offset_dims):
        raise TypeError(
            f"gather: every operand dimension must be an offset, collapsed or batching "
            f"dimension: operand rank {operand.ndim}, offset_dims {dn.offset_dims}, "
            f"collapsed_slice_dims {dn.collapsed_slice_dims}, operand_batching_dims "
            f"{dn.operand_batching_dims}"
        )
    for d, (s, n) in enumerate(zip(slice_sizes, operand.shape)):
        if not 0 <= s <= n:
            raise TypeError(
                f"gather: slice size {s} of dimension {d} is out of range [0, {n}] for an "
                f"operand of shape {operand.shape}"
            )
    for d in dn.collapsed_slice_dims:
        if slice_sizes[d] != 1:
            raise TypeError(
                f"gather: collapsed dimension {d} needs slice size 1, got {slice_sizes[d]}"
            )
    for d in dn.operand_batching_dims:
        if slice_sizes[d] > 1:
            raise TypeError(f"gather: batching dimension {d} needs slice size 0 or 1")
    if not isinstance(mode, GatherScatterMode):
        raise TypeError(f"gather: mode must be a GatherScatterMode, got {mode!r}")
    sizes = iter(slice_sizes[d] for d in window)
    batch = iter(indices.shape[:-1])
    shape = tuple(
        next(sizes) if p in dn.offset_dims else next(batch) for p in range(nb + len(dn.offset_dims))
    )
    return ShapedArray(shape, operand.dtype, operand.weak_type)


def _scatter_impl(ufunc, operand, indices, updates, *, dimension_numbers, mode, **_):
    dn = dimension_numbers
    rank = operand.ndim
    window = _window_dims(rank, dn.inserted_window_dims, dn.operand_batching_dims)
    sizes = [1] * rank
    for d, u in zip(window, dn.update_window_dims):
        sizes[d] = updates.shape[u]
    scatter_dims = [i for i in range(updates.ndim) if i not in dn.update_window_dims]
    upd = np.transpose(updates, scatter_dims + list(dn.update_window_dims))
    out = operand.copy()
    if out.size == 0 or upd.size == 0:
        return out
    starts, ok = _clamped_window_starts(
        operand.shape,
        indices,
        dn.scatter_dims_to_operand_dims,
        sizes,
        mode is not GatherScatterMode.CLIP,
    )
    arrays = _window_index_arrays(
        operand.shape,
        starts,
        dn.scatter_dims_to_operand_dims,
        window,
        dn.operand_batching_dims,
        dn.scatter_indices_batching_dims,
        sizes,
    )
    flat = np.zeros((1,) * upd.ndim, np.int64)
    for a, stride in zip(arrays, np.cumprod((operand.shape + (1,))[:0:-1])[::-1]):
        flat = flat + a * stride
    flat = np.broadcast_to(flat, upd.shape)
    if ok is not None:
        keep = np.broadcast_to(ok.reshape(ok.shape + (1,) * len(window)), upd.shape)
        flat, upd = flat[keep], upd[keep]
    else:
        flat, upd = flat.reshape(-1), upd.reshape(-1)
    target = out.reshape(-1)  # a view: `out` is a fresh C-contiguous copy
    if ufunc is None:
        target[flat] = upd  # NB: duplicate indices: the last update wins, as on XLA:CPU
    else:
        ufunc.at(target, flat, upd)
    return out


def _scatter_abstract(prim, operand, indices, updates, *, dimension_numbers, mode, **_):
    dn = dimension_numbers
    _same_dtypes(prim, operand, updates)
    _check_index_avals(
        prim,
        operand,
        indices,
        dn.scatter_dims_to_operand_dims,
        dn.inserted_window_dims,
        dn.operand_batching_dims,
        dn.scatter_indices_batching_dims,
        ("scatter_dims_to_operand_dims", "inserted_window_dims", "scatter_indices_batching_dims"),
    )
    _check_dims(prim, "update_window_dims", dn.update_window_dims, updates.ndim)
    window = _window_dims(operand.ndim, dn.inserted_window_dims, dn.operand_batching_dims)
    if len(window) != len(dn.update_window_dims):
        raise TypeError(
            f"{prim}: every operand dimension must be a window, inserted or batching "
            f"dimension: operand rank {operand.ndim}, update_window_dims "
            f"{dn.update_window_dims}, inserted_window_dims {dn.inserted_window_dims}, "
            f"operand_batching_dims {dn.operand_batching_dims}"
        )
    scatter_shape = tuple(s for i, s in enumerate(updates.shape) if i not in dn.update_window_dims)
    if scatter_shape != indices.shape[:-1]:
        raise TypeError(
            f"{prim}: updates of shape {updates.shape} with update_window_dims "
            f"{dn.update_window_dims} have scatter dimensions {scatter_shape}, which must equal "
            f"the batch dimensions {indices.shape[:-1]} of indices of shape {indices.shape}"
        )
    for d, u in zip(window, dn.update_window_dims):
        if updates.shape[u] > operand.shape[d]:
            raise TypeError(
                f"{prim}: window dimension {u} of updates {updates.shape} is larger than "
                f"dimension {d} of the operand {operand.shape}"
            )
    if not isinstance(mode, GatherScatterMode):
        raise TypeError(f"{prim}: mode must be a GatherScatterMode, got {mode!r}")
    return ShapedArray(operand.shape, operand.dtype, operand.weak_type)


def _scatter_prim(name: str, ufunc) -> Primitive:
    p = _prim(name)
    _def_checked_impl(p, partial(_scatter_impl, ufunc))
    p.def_abstract_eval(partial(_scatter_abstract, name))
    return p


scatter_p = _scatter_prim("scatter", None)
scatter_add_p = _scatter_prim("scatter-add", np.add)
scatter_mul_p = _scatter_prim("scatter-mul", np.multiply)
scatter_min_p = _scatter_prim("scatter-min", np.minimum)
scatter_max_p = _scatter_prim("scatter-max", np.maximum)

_NAN = float("nan")  # one object, so params holding it compare equal to themselves


def _default_fill_value(dtype: np.dtype):
    if dtype.kind == "f":
        return _NAN
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return int(info.min if dtype.kind == "i" else info.max)
    return True


def _static_fill_value(fill_value, dtype: np.dtype):
    if isinstance(fill_value, Tracer):
        raise TypeError(
            "gather: fill_value must be a concrete scalar (it is a static parameter), got a "
            f"traced value {fill_value.aval.str_short()}"
        )
    v = np.asarray(fill_value)
    if v.ndim != 0 or v.dtype.kind not in "biuf":
        raise ValueError(f"gather: fill_value must be a scalar number, got {fill_value!r}")
    v = v.item()
    return _NAN if isinstance(v, float) and math.isnan(v) else v


def _as_indices(x):
    if not isinstance(x, (list, tuple)):
        return x
    try:
        return np.asarray(x)
    except ValueError as e:
        raise TypeError(f"{api_entry()}: indices {x!r} are not a valid integer array: {e}") from None


def gather(
    operand,
    start_indices,
    dimension_numbers,
    slice_sizes,
    *,
    unique_indices=False,
    indices_are_sorted=False,
    mode=None,
    fill_value=None,
):
    """lax.gather: slices of `operand` at `start_indices` (XLA's Gather, index vector last).

    Args:
      operand: the array to gather from.
      start_indices: integer array of shape `batch + (len(start_index_map),)`.
      dimension_numbers: a `GatherDimensionNumbers`.
      slice_sizes: the window size in every operand dimension.
      mode: out-of-bounds rule ("clip", "fill", "promise_in_bounds"; default: promise, which
        clamps).
      fill_value: the value of out-of-bounds windows with mode "fill" (default: NaN, the
        lowest signed / highest unsigned integer, or True).

    Returns:
      The gathered array.

    Example:
      >>> lax.gather(x, jnp.array([[2], [0]]), GatherDimensionNumbers((), (0,), (0,)), (1,))
    """
    m = GatherScatterMode.PROMISE_IN_BOUNDS if mode is None else GatherScatterMode.from_any(mode)
    dt = get_aval(operand).dtype
    if m is GatherScatterMode.FILL_OR_DROP:
        fill = _default_fill_value(dt) if fill_value is None else _static_fill_value(fill_value, dt)
    else:
        fill = None
    return gather_p.bind(
        operand,
        _as_indices(start_indices),
        dimension_numbers=GatherDimensionNumbers(*map(_int_tuple, dimension_numbers)),
        slice_sizes=_int_tuple(slice_sizes),
        unique_indices=bool(unique_indices),
        indices_are_sorted=bool(indices_are_sorted),
        mode=m,
        fill_value=fill,
    )


def _scatter_bind(
    prim,
    name,
    operand,
    indices,
    updates,
    dimension_numbers,
    indices_are_sorted,
    unique_indices,
    mode,
):
    operand, updates = _promote_scalars(name, operand, updates)
    return prim.bind(
        operand,
        _as_indices(indices),
        updates,
        dimension_numbers=ScatterDimensionNumbers(*map(_int_tuple, dimension_numbers)),
        indices_are_sorted=bool(indices_are_sorted),
        unique_indices=bool(unique_indices),
        mode=GatherScatterMode.from_any(mode),
    )


def scatter(
    operand,
    scatter_indices,
    updates,
    dimension_numbers,
    *,
    indices_are_sorted=False,
    unique_indices=False,
    mode=None,
):
    """lax.scatter: `operand` with windows at `scatter_indices` overwritten by `updates`.

    `mode` defaults to "fill"/"drop": updates whose window is out of bounds are dropped. With
    repeated indices the last update wins (JAX leaves the order unspecified).
    """
    return _scatter_bind(
        scatter_p,
        "scatter",
        operand,
        scatter_indices,
        updates,
        dimension_numbers,
        indices_are_sorted,
        unique_indices,
        mode,
    )


def scatter_add(
    operand,
    scatter_indices,
    updates,
    dimension_numbers,
    *,
    indices_are_sorted=False,
    unique_indices=False,
    mode=None,
):
    """lax.scatter_add: adds `updates` into the windows at `scatter_indices` (repeats add up)."""
    return _scatter_bind(
        scatter_add_p,
        "scatter-add",
        operand,
        scatter_indices,
        updates,
        dimension_numbers,
        indices_are_sorted,
        unique_indices,
        mode,
    )


def scatter_mul(
    operand,
    scatter_indices,
    updates,
    dimension_numbers,
    *,
    indices_are_sorted=False,
    unique_indices=False,
    mode=None,
):
    """lax.scatter_mul: multiplies the windows at `scatter_indices` by `updates`."""
    return _scatter_bind(
        scatter_mul_p,
        "scatter-mul",
        operand,
        scatter_indices,
        updates,
        dimension_numbers,
        indices_are_sorted,
        unique_indices,
        mode,
    )


def scatter_min(
    operand,
    scatter_indices,
    updates,
    dimension_numbers,
    *,
    indices_are_sorted=False,
    unique_indices=False,
    mode=None,
):
    """lax.scatter_min: elementwise minimum of the windows at `scatter_indices` and `updates`."""
    return _scatter_bind(
        scatter_min_p,
        "scatter-min",
        operand,
        scatter_indices,
        updates,
        dimension_numbers,
        indices_are_sorted,
        unique_indices,
        mode,
    )


def scatter_max(
    operand,
    scatter_indices,
    updates,
    dimension_numbers,
    *,
    indices_are_sorted=False,
    unique_indices=False,
    mode=None,
):
    """lax.scatter_max: elementwise maximum of the windows at `scatter_indices` and `updates`."""
    return _scatter_bind(
        scatter_max_p,
        "scatter-max",
        operand,
        scatter_indices,
        updates,
        dimension_numbers,
        indices_are_sorted,
        unique_indices,
        mode,
    )


# ---- end gather / scatter ----
