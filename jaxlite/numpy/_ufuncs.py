"""Elementwise functions (NumPy's ufuncs): a promotion followed by one primitive, or a short
composition of primitives where NumPy's semantics need more (floor_divide, remainder, hypot, ...).
"""

from __future__ import annotations

import math

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.array import Array
from jaxlite.primitives._base import ELEMENTWISE_NUMPY
from jaxlite.numpy import _eager_fast
from jaxlite.numpy._util import (
    asarray,
    broadcast_shapes,
    broadcast_to_shape,
    check_kind,
    convert,
    dtype_of,
    dtype_weak,
    filled,
    fname,
    inexact_arg,
    promote,
    promote_inexact,
    shape_of,
)
from jaxlite.util import safe_zip

_FLOAT = "f"
_INT = "iu"
_INT_BOOL = "iub"
_NUM = "iuf"
_NUMC = "iufc"  # complex (issue 21)


def _named(fn, name: str, doc: str):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _numpy_impl(prim):
    """(NumPy function, the dtype kinds it accepts) of an elementwise primitive made by
    primitives/_base.py's `_unop`/`_binop`, for the eager fast paths; (None, "") for any
    other."""
    return ELEMENTWISE_NUMPY.get(prim, (None, ""))


def _fast_unary(prim, kinds: str, slow):
    """`slow`, behind the eager fast path (numpy/_eager_fast.py) on the dtypes of `kinds`."""
    impl, prim_kinds = _numpy_impl(prim)
    if impl is None:
        return slow
    ok = _eager_fast.fast_dtypes(impl, 1, "".join(k for k in kinds if k in prim_kinds))
    return _eager_fast.unary(impl, ok, slow)


def _fast_binary(prim, kinds: str, slow):
    """`slow`, behind the eager fast path (numpy/_eager_fast.py) on the dtypes of `kinds`."""
    impl, prim_kinds = _numpy_impl(prim)
    if impl is None:
        return slow
    ok = _eager_fast.fast_dtypes(impl, 2, "".join(k for k in kinds if k in prim_kinds))
    fn = _eager_fast.binary(impl, ok, slow)
    fn._eager_fast = (impl, ok)  # NB: Array's operators take the same path (_methods.py)
    return fn


def _unary_float(prim, name: str):
    """`name(x)` = `prim(x)`; integer and bool inputs become floats first (`dtypes.to_inexact`:
    float32 up to 32 bits, float64 for 64, as JAX)."""

    def fn(x, /):
        if type(x) is Array and dtypes.is_inexact(x._value.dtype):
            return prim.bind(x)
        return prim.bind(inexact_arg(name, x))

    return _named(
        _fast_unary(prim, _FLOAT, fn),
        name,
        f"Elementwise `{name}`; ints and bools become floats (`dtypes.to_inexact`).",
    )


def _binary(prim, name: str, kinds: str = _NUM, what: str = "a numeric argument"):
    """`name(x, y)` = `prim(x, y)` after promotion (JAX's lattice) and broadcasting."""

    def fn(x, y, /):
        if type(x) is Array and type(y) is Array:  # same dtype and shape: no promotion
            vx, vy = x._value, y._value
            if vx.dtype == vy.dtype and vx.shape == vy.shape and x.weak_type == y.weak_type:
                if vx.dtype.kind in kinds:
                    return prim.bind(x, y)
        x, y = promote(name, x, y)
        check_kind(name, x, kinds, what)
        return prim.bind(x, y)

    return _named(
        _fast_binary(prim, kinds, fn),
        name,
        f"Elementwise `{name}` with broadcasting and JAX's type promotion.",
    )


def _binary_float(prim, name: str):
    def fn(x, y, /):
        return prim.bind(*promote_inexact(name, x, y))

    return _named(
        fn, name, f"Elementwise `{name}`; ints and bools become floats (`dtypes.to_inexact`)."
    )


def _float_of(name: str, x):
    return inexact_arg(name, x)


def _default_float_of(name: str, x):
    """`x` as a float; ints and bools become the default float dtype (strong), as JAX's `rint`
    and `angle` do (unlike `sin`'s `dtypes.to_inexact`)."""
    x = asarray(x, name)
    dt = dtype_of(x)
    return x if dtypes.is_float(dt) else convert(x, dtypes.default_float_dtype(), False, name)


# ------------------------------------------------------------------------------------------
# Unary functions that are one primitive
# ------------------------------------------------------------------------------------------

sin = _unary_float(lax.sin_p, "sin")
cos = _unary_float(lax.cos_p, "cos")
tan = _unary_float(lax.tan_p, "tan")
arcsin = _unary_float(lax.asin_p, "arcsin")
arccos = _unary_float(lax.acos_p, "arccos")
arctan = _unary_float(lax.atan_p, "arctan")
sinh = _unary_float(lax.sinh_p, "sinh")
cosh = _unary_float(lax.cosh_p, "cosh")
tanh = _unary_float(lax.tanh_p, "tanh")
arcsinh = _unary_float(lax.asinh_p, "arcsinh")
arccosh = _unary_float(lax.acosh_p, "arccosh")
arctanh = _unary_float(lax.atanh_p, "arctanh")
exp = _unary_float(lax.exp_p, "exp")
exp2 = _unary_float(lax.exp2_p, "exp2")
expm1 = _unary_float(lax.expm1_p, "expm1")
log = _unary_float(lax.log_p, "log")
log1p = _unary_float(lax.log1p_p, "log1p")
sqrt = _unary_float(lax.sqrt_p, "sqrt")
cbrt = _unary_float(lax.cbrt_p, "cbrt")
asin, acos, atan = arcsin, arccos, arctan
asinh, acosh, atanh = arcsinh, arccosh, arctanh


def log2(x, /):
    """Base-2 logarithm, elementwise."""
    x = _float_of("log2", x)
    return lax.div(lax.log(x), math.log(2.0))


def log10(x, /):
    """Base-10 logarithm, elementwise."""
    x = _float_of("log10", x)
    return lax.div(lax.log(x), math.log(10.0))


def _rounding(prim, name: str):
    def fn(x, /):
        x = asarray(x, name)
        if not dtypes.is_float(dtype_of(x)):
            check_kind(name, x, "iub", "a numeric argument")
            return x  # NumPy 2 keeps integers and bools as they are
        return prim.bind(x)

    return _named(fn, name, f"Elementwise `{name}`; integer inputs are returned unchanged.")


floor = _rounding(lax.floor_p, "floor")
ceil = _rounding(lax.ceil_p, "ceil")


def trunc(x, /):
    """Rounds toward zero, elementwise (integers are returned unchanged)."""
    x = asarray(x, "trunc")
    if not dtypes.is_float(dtype_of(x)):
        check_kind("trunc", x, "iub", "a numeric argument")
        return x
    return _where(lax.lt(x, 0.0), lax.ceil(x), lax.floor(x))


fix = _named(lambda x, /: trunc(x), "fix", "Rounds toward zero (same as `trunc`).")


def rint(x, /):
    """Rounds to the nearest integer, halves to even; ints and bools become the default float."""
    x = _default_float_of("rint", x)
    return lax.round(x, rounding_method=1)


def round(a, decimals=0, out=None):  # noqa: A001 - NumPy's name
    """Rounds to `decimals` decimals, halves to even (as NumPy does).

    Example:
      >>> jnp.round(jnp.array([0.5, 1.5, 2.675]), 2)
      Array([0.5 , 1.5 , 2.68], dtype=float32)
    """
    _no_out("round", out)
    a = asarray(a, "round")
    decimals = int(decimals)
    dt = dtype_of(a)
    if dt.kind == "b":  # NumPy rounds bools as floats
        a, dt = convert(a, dtypes.float64, dtype_weak(a)[1]), dtypes.float64
    if not dtypes.is_float(dt):
        check_kind("round", a, "iu", "a numeric argument")
        if decimals >= 0:
            return a
        f = 10.0 ** (-decimals)
        r = lax.mul(lax.round(lax.div(convert(a, dtypes.float64), f), rounding_method=1), f)
        return convert(r, dt, dtype_weak(a)[1])
    if decimals == 0:
        return lax.round(a, rounding_method=1)
    if dt == dtypes.float16:  # JAX rescales float16 in float32 (float16 would misround)
        return convert(round(convert(a, dtypes.float32), decimals), dt, dtype_weak(a)[1])
    if decimals > 0:
        f = 10.0**decimals
        return lax.div(lax.round(lax.mul(a, f), rounding_method=1), f)
    f = 10.0 ** (-decimals)
    return lax.mul(lax.round(lax.div(a, f), rounding_method=1), f)


around = round


def _no_out(name: str, out):
    if out is not None:
        raise TypeError(
            f"{fname(name)}: the `out` argument is not supported (arrays are immutable)"
        )


# ------------------------------------------------------------------------------------------
# Signs and absolute values
# ------------------------------------------------------------------------------------------


def negative(x, /):
    """Elementwise `-x`."""
    if type(x) is not Array or x._value.dtype.kind == "b":
        x = asarray(x, "negative")
        check_kind("negative", x, _NUMC, "a numeric argument (use ~ or logical_not for bool)")
    return lax.neg(x)


def positive(x, /):
    """Elementwise `+x` (returns `x`)."""
    x = asarray(x, "positive")
    check_kind("positive", x, _NUMC, "a numeric argument")
    return x


def absolute(x, /):
    """Elementwise absolute value; bool and unsigned inputs are returned unchanged."""
    x = asarray(x, "absolute")
    if dtype_of(x).kind in "bu":
        return x
    return lax.abs(x)


abs = absolute  # noqa: A001 - NumPy's name


def fabs(x, /):
    """Absolute value as a float (ints and bools become floats, `dtypes.to_inexact`)."""
    return lax.abs(_float_of("fabs", x))


def sign(x, /):
    """-1, 0 or +1 by the sign of `x` (NaN for NaN)."""
    x = asarray(x, "sign")
    check_kind("sign", x, _NUMC, "a numeric argument")
    return lax.sign(x)


def signbit(x, /):
    """True where the sign bit is set (including -0.0 and negative NaNs)."""
    x = asarray(x, "signbit")
    dt = dtype_of(x)
    if dtypes.is_float(dt):
        ibits = {2: dtypes.int16, 4: dtypes.int32, 8: dtypes.int64}[dt.itemsize]
        return lax.lt(lax.bitcast_convert_type(x, ibits), 0)
    if dt.kind == "i":
        return lax.lt(x, 0)
    return lax.ne(x, x)  # unsigned and bool: never negative


def copysign(x1, x2, /):
    """`|x1|` with the sign of `x2`, elementwise."""
    x1, x2 = promote_inexact("copysign", x1, x2)
    mag = lax.abs(x1)
    return _where(signbit(x2), lax.neg(mag), mag)


def _numeric(x):
    """JAX's `to_numeric_dtype`: a bool array becomes int32 (in either x64 mode)."""
    return (
        convert(x, dtypes.int32) if dtype_of(x).kind == "b" else x
    )  # never weak (JAX: bool is not)


def square(x, /):
    """Elementwise `x * x` (bools square as int32, as JAX)."""
    x = _numeric(asarray(x, "square"))
    check_kind("square", x, _NUMC, "a numeric argument")
    return lax.integer_pow(x, 2)


def reciprocal(x, /):
    """Elementwise `1 / x` (integer inputs become floats, as in JAX)."""
    return lax.integer_pow(_float_of("reciprocal", x), -1)


def conjugate(x, /):
    """Complex conjugate; the identity on real dtypes (as JAX)."""
    x = asarray(x, "conjugate")
    return lax.conj(x) if dtype_of(x).kind == "c" else x


conj = conjugate


def real(val, /):
    """Real part; the identity on real dtypes."""
    x = asarray(val, "real")
    return lax.real(x) if dtype_of(x).kind == "c" else x


def imag(val, /):
    """Imaginary part; zeros on real dtypes."""
    x = asarray(val, "imag")
    return lax.imag(x) if dtype_of(x).kind == "c" else filled(x, 0)


def angle(z, deg=False):
    """Argument of `z` (`atan2(imag, real)`): 0 for non-negative reals, pi for negative ones."""
    z = asarray(z, "angle")
    if dtype_of(z).kind == "c":
        re, im = lax.real(z), lax.imag(z)
    else:
        re = _default_float_of("angle", z)
        if shape_of(re) == ():  # NB: JAX gives 0-d floats the default float dtype too
            re = convert(re, dtypes.default_float_dtype(), False, "angle")
        im = filled(re, 0)
    r = lax.atan2(im, re)
    return lax.mul(r, 180.0 / math.pi) if deg else r


# ------------------------------------------------------------------------------------------
# Arithmetic
# ------------------------------------------------------------------------------------------

subtract = _binary(lax.sub_p, "subtract", _NUMC, "numeric arguments (bool - bool is undefined)")
_maximum = _binary(lax.max_p, "maximum", "iufb")
_minimum = _binary(lax.min_p, "minimum", "iufb")


def _complex_lexicographic(real_op, name: str, on_complex):
    """`real_op`, except that complex operands (after promotion) go to
    `on_complex(x1, x2, r1, r2)` with their real parts: they are ordered lexicographically (real
    part, then imaginary), as JAX's jnp (lax's comparisons reject complex)."""

    def fn(x1, x2, /):
        if type(x1) is Array and type(x2) is Array and "c" not in (x1.dtype.kind, x2.dtype.kind):
            return real_op(x1, x2)
        x1, x2 = promote(name, x1, x2)
        if dtype_of(x1).kind != "c":
            return real_op(x1, x2)
        return on_complex(x1, x2, lax.real(x1), lax.real(x2))

    return _named(fn, name, real_op.__doc__ + " Complex numbers compare lexicographically.")


def _lexicographic(real_op, gt, name: str):
    """maximum/minimum; complex operands ordered lexicographically, as in JAX."""

    def on_complex(x1, x2, r1, r2):
        take1 = lax.select(lax.eq(r1, r2), gt(lax.imag(x1), lax.imag(x2)), gt(r1, r2))
        shape = shape_of(take1)  # select needs both cases at full shape (one may be 0-d)
        x1, x2 = broadcast_to_shape(x1, shape, name), broadcast_to_shape(x2, shape, name)
        return lax.select(take1, x1, x2)

    return _complex_lexicographic(real_op, name, on_complex)


maximum = _named(
    _fast_binary(lax.max_p, "iufb", _lexicographic(_maximum, lax.gt, "maximum")),
    "maximum",
    _maximum.__doc__ + " Complex numbers compare lexicographically.",
)
minimum = _named(
    _fast_binary(lax.min_p, "iufb", _lexicographic(_minimum, lax.lt, "minimum")),
    "minimum",
    _minimum.__doc__ + " Complex numbers compare lexicographically.",
)
nextafter = _binary_float(lax.nextafter_p, "nextafter")
arctan2 = _binary_float(lax.atan2_p, "arctan2")
atan2 = arctan2


def _add(x, y, /):
    if type(x) is Array and type(y) is Array:
        vx, vy = x._value, y._value
        if vx.dtype == vy.dtype and vx.shape == vy.shape and x.weak_type == y.weak_type:
            if vx.dtype.kind != "b":
                return lax.add_p.bind(x, y)
    x, y = promote("add", x, y)
    if dtype_of(x).kind == "b":
        return lax.bitwise_or(x, y)
    return lax.add_p.bind(x, y)


def _multiply(x, y, /):
    if type(x) is Array and type(y) is Array:
        vx, vy = x._value, y._value
        if vx.dtype == vy.dtype and vx.shape == vy.shape and x.weak_type == y.weak_type:
            if vx.dtype.kind != "b":
                return lax.mul_p.bind(x, y)
    x, y = promote("multiply", x, y)
    if dtype_of(x).kind == "b":
        return lax.bitwise_and(x, y)
    return lax.mul_p.bind(x, y)


def _true_divide(x1, x2, /):
    return lax.div_p.bind(*promote_inexact("true_divide", x1, x2))


add = _named(
    _fast_binary(lax.add_p, _NUMC, _add),
    "add",
    "Elementwise `x + y` (logical or for two bools), with broadcasting and promotion.",
)
multiply = _named(
    _fast_binary(lax.mul_p, _NUMC, _multiply),
    "multiply",
    "Elementwise `x * y` (logical and for two bools), with broadcasting and promotion.",
)
true_divide = _named(
    _fast_binary(lax.div_p, _FLOAT, _true_divide),
    "true_divide",
    "Elementwise `x1 / x2` as floats (ints and bools: float32 up to 32 bits, float64 for 64).",
)
divide = true_divide


def _int_floor_divide(x, y):
    q = lax.div(x, y)
    if dtype_of(x).kind == "u":
        return q
    # lax.div rounds toward zero: step down where the signs differ and the division is inexact
    fix_ = lax.bitwise_and(lax.ne(lax.rem(x, y), 0), lax.ne(lax.lt(x, 0), lax.lt(y, 0)))
    return lax.sub(q, lax.convert_element_type(fix_, dtype_of(x)))


def _int_remainder(x, y):
    r = lax.rem(x, y)
    if dtype_of(x).kind == "u":
        return r
    fix_ = lax.bitwise_and(lax.ne(r, 0), lax.ne(lax.lt(r, 0), lax.lt(y, 0)))
    return lax.select(fix_, lax.add(r, y), r)


def _divmod_parts(a, b):
    """The shared start of NumPy's `npy_divmod` on floats: fmod, the truncated quotient, and
    where the remainder's sign must be flipped to that of `b`."""
    mod = lax.rem(a, b)
    div = lax.div(lax.sub(a, mod), b)
    nonzero_mod = lax.ne(mod, 0.0)
    flip = lax.bitwise_and(nonzero_mod, lax.ne(lax.lt(b, 0.0), lax.lt(mod, 0.0)))
    return mod, div, nonzero_mod, flip


def _float_floor_divide(a, b):
    """NumPy's floor quotient of floats, signed zeros and division by zero included. Its
    derivative is zero everywhere, as JAX's (a rounding): no path through `a / b` carries a NaN
    or inf tangent into it."""
    a, b = lax.stop_gradient(a), lax.stop_gradient(b)
    _, div, _, flip = _divmod_parts(a, b)
    div = lax.select(flip, lax.sub(div, 1.0), div)
    floordiv = lax.floor(div)
    floordiv = lax.select(lax.gt(lax.sub(div, floordiv), 0.5), lax.add(floordiv, 1.0), floordiv)
    ratio = lax.div(a, b)
    # div == 0: a zero with the sign of a / b; b == 0: a / b itself (inf or nan)
    floordiv = lax.select(lax.eq(div, 0.0), copysign(filled(a, 0.0), ratio), floordiv)
    return lax.select(lax.eq(b, 0.0), ratio, floordiv)


def _float_remainder(a, b):
    """NumPy's float remainder: the sign of `b`, a zero remainder is a zero with b's sign."""
    mod, _, nonzero_mod, flip = _divmod_parts(a, b)
    mod = lax.select(flip, lax.add(mod, b), mod)
    # The zero remainder takes b's sign (NumPy) but keeps `mod`'s derivative (1 in `a`, as
    # JAX's): `zero - (sg(mod) - mod)` is that zero, sign kept, and differentiates as `mod`.
    zero_b = lax.sub(copysign(filled(a, 0.0), b), lax.sub(lax.stop_gradient(mod), mod))
    return lax.select(nonzero_mod, mod, lax.select(lax.eq(b, 0.0), mod, zero_b))


def _int_args(name: str, x1, x2):
    x1, x2 = promote(name, x1, x2)
    check_kind(name, x1, _NUM, "numeric arguments")
    return x1, x2


def _any_args(name: str, x1, x2):
    x1, x2 = promote(name, x1, x2)
    check_kind(name, x1, "iufb", "numeric or bool arguments")
    return x1, x2


def floor_divide(x1, x2, /):
    """Elementwise `x1 // x2`, rounding toward minus infinity (Python's convention)."""
    x1, x2 = _int_args("floor_divide", x1, x2)
    if dtypes.is_float(dtype_of(x1)):
        return _float_floor_divide(x1, x2)
    return _int_floor_divide(x1, x2)


def remainder(x1, x2, /):
    """Elementwise `x1 % x2` with the sign of `x2` (Python's convention)."""
    x1, x2 = _int_args("remainder", x1, x2)
    if dtypes.is_float(dtype_of(x1)):
        return _float_remainder(x1, x2)
    return _int_remainder(x1, x2)


mod = remainder


def divmod(x1, x2, /):  # noqa: A001 - NumPy's name
    """`(floor_divide(x1, x2), remainder(x1, x2))`."""
    x1, x2 = _int_args("divmod", x1, x2)
    if dtypes.is_float(dtype_of(x1)):
        return _float_floor_divide(x1, x2), _float_remainder(x1, x2)
    return _int_floor_divide(x1, x2), _int_remainder(x1, x2)


def fmod(x1, x2, /):
    """Elementwise C `fmod`: the remainder has the sign of `x1`."""
    x1, x2 = _int_args("fmod", x1, x2)
    return lax.rem(x1, x2)


def power(x1, x2, /):
    """Elementwise `x1 ** x2`. A Python int exponent stages `integer_pow`, as in JAX."""
    if type(x2) is int and type(x1) is not int and type(x1) is not float:
        x1 = _numeric(asarray(x1, "power"))
        check_kind("power", x1, _NUMC, "a numeric argument")
        if x2 < 0 and not dtypes.is_inexact(dtype_of(x1)):
            raise ValueError("jnp.power: integers to negative integer powers are not allowed")
        return lax.integer_pow(x1, x2)
    x1, x2 = promote("power", x1, x2)
    if dtype_of(x1).kind == "b":
        raise TypeError("jnp.power does not accept two bool arguments")
    return lax.pow(x1, x2)


pow = power  # noqa: A001 - NumPy 2's name


def float_power(x1, x2, /):
    """`x1 ** x2` in floats: JAX promotes to inexact (float32 stays float32, unlike NumPy)."""
    return lax.pow(*promote_inexact("float_power", x1, x2))


def ldexp(x1, x2, /):
    """`x1 * 2**x2`, elementwise (`x2` an integer array)."""
    x1 = _float_of("ldexp", x1)
    x2 = asarray(x2, "ldexp")
    check_kind("ldexp", x2, "iub", "an integer exponent")
    dt = dtype_of(x1)
    n = convert(x2, dtypes.int64)
    half = lax.div(n, 2)  # two steps, so that 2**n may overflow while the product does not
    f1 = lax.exp2(convert(half, dt))
    f2 = lax.exp2(convert(lax.sub(n, half), dt))
    x1, f1 = promote("ldexp", x1, f1)
    x1, f2 = promote("ldexp", x1, f2)
    return lax.mul(lax.mul(x1, f1), f2)


def frexp(x, /):
    """Mantissa in [0.5, 1) and integer exponent with `x = m * 2**e` (int32 exponents)."""
    x = _float_of("frexp", x)
    dt = dtype_of(x)
    if dt in dtypes.HALF_DTYPES:  # exact in float32, and the mantissa fits back in 16 bits
        m, e = frexp(convert(x, dtypes.float32))
        return convert(m, dt), e
    if dt == dtypes.float32:
        ibits, mbits, bias, scale = dtypes.int32, 23, 126, 25
    else:
        ibits, mbits, bias, scale = dtypes.int64, 52, 1022, 54
    sub = lax.lt(lax.abs(x), float(np.finfo(dt).tiny))
    xs = lax.select(sub, lax.mul(x, float(2.0**scale)), x)
    bits = lax.bitcast_convert_type(xs, ibits)
    expo_mask = (1 << (dt.itemsize * 8 - 1 - mbits)) - 1
    e = lax.bitwise_and(lax.shift_right_logical(bits, mbits), expo_mask)
    e = lax.sub(e, lax.select(sub, filled(e, bias + scale), filled(e, bias)))
    keep = ~(expo_mask << mbits)
    mbits_ = lax.bitwise_or(lax.bitwise_and(bits, keep), bias << mbits)
    m = lax.bitcast_convert_type(mbits_, dt)
    special = lax.bitwise_or(lax.eq(x, 0.0), lax.bitwise_not(lax.is_finite(x)))
    m = lax.select(special, x, m)
    e = lax.select(special, filled(e, 0), e)
    return m, lax.convert_element_type(e, dtypes.int32)


def modf(x, /):
    """`(fractional part, integral part)`, both with the sign of `x`."""
    x = _float_of("modf", x)
    i = trunc(x)
    frac = copysign(lax.select(lax.is_finite(x), lax.sub(x, i), lax.sub(x, x)), x)
    frac = lax.select(lax.eq(lax.abs(x), np.inf), copysign(filled(x, 0), x), frac)
    return frac, i


def hypot(x1, x2, /):
    """`sqrt(x1**2 + x2**2)` without overflow or underflow in the squares."""
    x1, x2 = promote_inexact("hypot", x1, x2)
    a, b = lax.abs(x1), lax.abs(x2)
    big, small = lax.max(a, b), lax.min(a, b)
    safe = lax.select(lax.eq(big, 0.0), filled(big, 1), big)
    r = lax.mul(big, lax.sqrt(lax.add(1.0, lax.square(lax.div(small, safe)))))
    r = lax.select(lax.eq(big, 0.0), big, r)
    inf = lax.bitwise_or(lax.eq(a, np.inf), lax.eq(b, np.inf))
    return lax.select(inf, filled(r, np.inf), r)


def deg2rad(x, /):
    """Degrees to radians."""
    return lax.mul(_float_of("deg2rad", x), math.pi / 180.0)


def rad2deg(x, /):
    """Radians to degrees."""
    return lax.mul(_float_of("rad2deg", x), 180.0 / math.pi)


radians, degrees = deg2rad, rad2deg


def heaviside(x1, x2, /):
    """0 where `x1 < 0`, `x2` where `x1 == 0`, 1 where `x1 > 0` (NaN stays NaN)."""
    x1, x2 = promote_inexact("heaviside", x1, x2)
    x1, x2, _ = _broadcast3("heaviside", x1, x2, x2)  # NB: select needs equal shapes
    one, zero = filled(x1, 1), filled(x1, 0)
    r = lax.select(lax.lt(x1, 0.0), zero, lax.select(lax.gt(x1, 0.0), one, x2))
    return lax.select(lax.ne(x1, x1), x1, r)


def _nan_ignoring(name: str, cmp):
    """JAX's `jnp.fmax`/`jnp.fmin`: `where(cmp(x1, x2) | isnan(x2), x1, x2)`. Being a select, its
    derivative goes wholly to one side: to `x2` at ties, to the non-NaN side at a NaN."""

    def fn(x1, x2, /):
        x1, x2 = _any_args(name, x1, x2)
        mask = bitwise_or(cmp(x1, x2), isnan(x2))
        mask, x1, x2 = _broadcast3(name, mask, x1, x2)  # NB: select needs equal shapes
        return lax.select(mask, x1, x2)

    fn.__name__ = fn.__qualname__ = name
    return fn


fmax = _nan_ignoring("fmax", lambda a, b: greater(a, b))
fmax.__doc__ = "Elementwise maximum that ignores NaNs (NaN only where both are NaN)."
fmin = _nan_ignoring("fmin", lambda a, b: less(a, b))
fmin.__doc__ = "Elementwise minimum that ignores NaNs (NaN only where both are NaN)."


# ------------------------------------------------------------------------------------------
# Comparisons, logic, bits
# ------------------------------------------------------------------------------------------

equal = _binary(lax.eq_p, "equal", "iufbc")
not_equal = _binary(lax.ne_p, "not_equal", "iufbc")


def _ordered(prim, name: str):
    """A comparison; complex operands compare lexicographically (real part, then imaginary), as
    JAX's `jnp.less` and friends (lax's comparisons reject complex)."""

    def on_complex(x1, x2, r1, r2):
        return lax.select(lax.eq(r1, r2), prim.bind(lax.imag(x1), lax.imag(x2)), prim.bind(r1, r2))

    return _complex_lexicographic(_binary(prim, name, "iufb"), name, on_complex)


less = _ordered(lax.lt_p, "less")
less_equal = _ordered(lax.le_p, "less_equal")
greater = _ordered(lax.gt_p, "greater")
greater_equal = _ordered(lax.ge_p, "greater_equal")

_BITS = "integer or bool arguments"
bitwise_and = _binary(lax.and_p, "bitwise_and", _INT_BOOL, _BITS)
bitwise_or = _binary(lax.or_p, "bitwise_or", _INT_BOOL, _BITS)
bitwise_xor = _binary(lax.xor_p, "bitwise_xor", _INT_BOOL, _BITS)


def invert(x, /):
    """Elementwise bitwise not (`~x`); logical not for bools."""
    x = asarray(x, "invert")
    check_kind("invert", x, _INT_BOOL, "an integer or bool argument")
    return lax.bitwise_not(x)


bitwise_not = bitwise_invert = invert


def left_shift(x1, x2, /):
    """Elementwise `x1 << x2` (shifts by the bit width or more give 0)."""
    x1, x2 = promote("left_shift", x1, x2)
    check_kind("left_shift", x1, _INT, "integer arguments")
    return lax.shift_left(x1, x2)


def right_shift(x1, x2, /):
    """Elementwise `x1 >> x2`: arithmetic for signed, logical for unsigned integers."""
    x1, x2 = promote("right_shift", x1, x2)
    check_kind("right_shift", x1, _INT, "integer arguments")
    if dtype_of(x1).kind == "u":
        return lax.shift_right_logical(x1, x2)
    return lax.shift_right_arithmetic(x1, x2)


bitwise_left_shift, bitwise_right_shift = left_shift, right_shift


def _to_bool(x, name: str):
    x = asarray(x, name)
    if dtype_of(x).kind == "b":
        return x
    check_kind(name, x, _NUM, "a numeric or bool argument")
    return lax.ne(x, 0)


def logical_not(x, /):
    """Elementwise logical not (nonzero is True)."""
    return lax.bitwise_not(_to_bool(x, "logical_not"))


def _logical(prim, name):
    def fn(x1, x2, /):
        return prim.bind(*promote(name, _to_bool(x1, name), _to_bool(x2, name)))

    return _named(fn, name, f"Elementwise `{name}` of the truth values (nonzero is True).")


logical_and = _logical(lax.and_p, "logical_and")
logical_or = _logical(lax.or_p, "logical_or")
logical_xor = _logical(lax.xor_p, "logical_xor")


# ------------------------------------------------------------------------------------------
# Floating-point classification
# ------------------------------------------------------------------------------------------


def _classify(name, on_float, on_other: bool, on_complex=None):
    def fn(x, /):
        x = asarray(x, name)
        if dtypes.is_float(dtype_of(x)):
            return on_float(x)
        if dtype_of(x).kind == "c" and on_complex is not None:
            return on_complex(lax.real(x), lax.imag(x))
        check_kind(name, x, "iub", "a numeric argument")
        return filled(x, on_other, dtypes.bool_)

    return _named(fn, name, f"Elementwise `{name}` (integers and bools: {on_other}).")


def _either(f):
    return lambda re, im: lax.bitwise_or(f(re), f(im))


isnan = _classify("isnan", lambda x: lax.ne(x, x), False, _either(lambda x: lax.ne(x, x)))
isinf = _classify(
    "isinf",
    lambda x: lax.eq(lax.abs(x), np.inf),
    False,
    _either(lambda x: lax.eq(lax.abs(x), np.inf)),
)
isfinite = _classify(
    "isfinite",
    lax.is_finite,
    True,
    lambda re, im: lax.bitwise_and(lax.is_finite(re), lax.is_finite(im)),
)
isposinf = _classify("isposinf", lambda x: lax.eq(x, np.inf), False)
isneginf = _classify("isneginf", lambda x: lax.eq(x, -np.inf), False)


def iscomplex(x, /):
    """True where the imaginary part is nonzero (False everywhere for real dtypes)."""
    x = asarray(x, "iscomplex")
    if dtype_of(x).kind == "c":
        return lax.ne(lax.imag(x), 0)
    return filled(x, False, dtypes.bool_)


def isreal(x, /):
    """True where the imaginary part is zero (True everywhere for real dtypes)."""
    x = asarray(x, "isreal")
    if dtype_of(x).kind == "c":
        return lax.eq(lax.imag(x), 0)
    return filled(x, True, dtypes.bool_)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """Replaces NaN by `nan`, +inf by `posinf` (default: the largest finite value) and -inf by
    `neginf` (default: the most negative finite value)."""
    x = asarray(x, "nan_to_num")
    dt = dtype_of(x)
    if not dtypes.is_float(dt):
        return x
    info = np.finfo(dt)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    x = _where(lax.ne(x, x), filled(x, nan), x)
    x = _where(lax.eq(x, np.inf), filled(x, posinf), x)
    return _where(lax.eq(x, -np.inf), filled(x, neginf), x)


# ------------------------------------------------------------------------------------------
# Selection
# ------------------------------------------------------------------------------------------


def _where(condition, x, y):
    """`x` where `condition` is true, else `y`, broadcast together: three-argument `jnp.where`
    (which lives in `_sorting`, beside `nonzero`, its one-argument form)."""
    if type(condition) is Array and type(x) is Array and type(y) is Array:  # eager fast path
        vc, vx, vy = condition._value, x._value, y._value
        if vc.dtype == np.bool_ and vx.dtype == vy.dtype and x.weak_type == y.weak_type:
            if vc.shape == vx.shape == vy.shape:
                return lax.select_n_p.bind(condition, y, x)
    c = _to_bool(condition, "where")
    x, y = promote("where", x, y)
    c, x, y = _broadcast3("where", c, x, y)
    return lax.select_n_p.bind(c, y, x)


def _broadcast3(name, *args):
    shapes = [shape_of(a) for a in args]
    if shapes[0] == shapes[1] == shapes[2]:
        return args
    shape = broadcast_shapes(name, *shapes)
    return tuple(broadcast_to_shape(a, shape, name) for a in args)


def select(condlist, choicelist, default=0):
    """The first `choicelist[i]` whose `condlist[i]` is true, else `default`, elementwise."""
    if not (hasattr(condlist, "__len__") and hasattr(choicelist, "__len__")):
        raise TypeError("jnp.select: condlist and choicelist must be sequences of arrays")
    if len(condlist) != len(choicelist):
        raise ValueError(
            f"jnp.select: condlist has {len(condlist)} entries but choicelist has {len(choicelist)}"
        )
    if not condlist:
        raise ValueError("jnp.select: condlist must not be empty")
    out = default
    for c, v in safe_zip(reversed(list(condlist)), reversed(list(choicelist))):
        out = _where(c, v, out)
    return out


def clip(arr, a_min=None, a_max=None, *, min=None, max=None):  # noqa: A002
    """Limits `arr` to `[min, max]` (either bound may be None).

    Example:
      >>> jnp.clip(jnp.arange(5), 1, 3)
      Array([1, 1, 2, 3, 3], dtype=int32)
    """
    lo = min if a_min is None else a_min
    hi = max if a_max is None else a_max
    arr = asarray(arr, "clip")
    if lo is not None:
        arr = maximum(lo, arr)
    if hi is not None:
        arr = minimum(hi, arr)
    return arr
