"""C lowering rules of the elementwise primitives: each a C expression of atoms (locals, array
reads, literals), fused into the loops of whoever reads the value."""

from __future__ import annotations

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as P
from jaxlite.backend.c_nodes import CTYPE, c_literal, sfx
from jaxlite.backend.lower_ctx import ElementwiseRule, register_elementwise

# ------------------------------------------------------------------------------------------
# ELEMENTWISE: C expressions (arguments are atoms: locals, array reads, literals)
# ------------------------------------------------------------------------------------------


def _integer_pow(dt, x: str, y: int) -> str:
    """x**y for a constant y: small float powers as the products jl_ipow computes (the same
    rounding), written out so that the loop stays vectorizable (jl_ipow's bit loop is not)."""
    n = abs(y)
    if not dtypes.is_float(dt) or not 1 <= n <= 8:
        return f"jl_ipow_{sfx(dt)}({x}, {y})"
    acc, b = None, x
    while n:
        if n & 1:
            acc = b if acc is None else f"({acc} * {b})"
        n >>= 1
        if n:
            b = f"({b} * {b})"
    if y < 0:
        acc = f"(({CTYPE[dt]})(1 / {acc}))"
    return acc


def infix(op: str) -> ElementwiseRule:
    return lambda dt, x, y: f"{x} {op} {y}"


def prefix(op: str) -> ElementwiseRule:
    return lambda dt, x: f"{op}{x}"


def libm(fn: str) -> ElementwiseRule:
    """A <math.h> function: `sinf` for float32, `sin` for float64."""
    return lambda dt, *xs: f"{fn}{'f' if dt == dtypes.float32 else ''}({', '.join(xs)})"


def helper(fn: str) -> ElementwiseRule:
    """A jaxlite.h function named by the operand dtype: `jl_div_i32`."""
    return lambda dt, *xs: f"jl_{fn}_{sfx(dt)}({', '.join(xs)})"


def by_kind(f=None, i=None, u=None, b=None) -> ElementwiseRule:
    """Dispatch on the operand's kind: f(loat), i(nt), u(nsigned), b(ool); u defaults to i."""
    table = {"f": f, "i": i, "u": u or i, "b": b}
    return lambda dt, *xs, **params: table[dtypes.kind(dt)](dt, *xs, **params)


def identity(dt, x):
    return x


_ELEMENTWISE_RULES = {
    P.neg_p: prefix("-"),
    P.sign_p: helper("sign"),
    P.abs_p: by_kind(f=libm("fabs"), i=helper("abs"), u=identity),
    P.exp_p: helper("exp"),  # csrc/jl_math.h: these five vectorize
    P.exp2_p: libm("exp2"),
    P.log_p: helper("log"),
    P.log1p_p: helper("log1p"),
    P.expm1_p: libm("expm1"),
    P.tanh_p: helper("tanh"),
    P.logistic_p: helper("logistic"),
    P.sin_p: libm("sin"),
    P.cos_p: libm("cos"),
    P.tan_p: libm("tan"),
    P.asin_p: libm("asin"),
    P.acos_p: libm("acos"),
    P.atan_p: libm("atan"),
    P.sinh_p: libm("sinh"),
    P.cosh_p: libm("cosh"),
    P.asinh_p: libm("asinh"),
    P.acosh_p: libm("acosh"),
    P.atanh_p: libm("atanh"),
    P.sqrt_p: libm("sqrt"),
    P.rsqrt_p: lambda dt, x: f"{c_literal(1, dt)} / {libm('sqrt')(dt, x)}",
    P.cbrt_p: libm("cbrt"),
    P.erf_p: lambda dt, x: f"jl_erf_f32({x})" if dt == dtypes.float32 else f"erf({x})",
    P.erf_inv_p: helper("erf_inv"),
    P.floor_p: libm("floor"),
    P.ceil_p: libm("ceil"),
    P.round_p: lambda dt, x, rounding_method: libm("rint" if rounding_method else "round")(dt, x),
    P.is_finite_p: lambda dt, x: f"isfinite({x})",
    P.not_p: by_kind(i=prefix("~"), b=prefix("!")),
    P.copy_p: identity,
    P.stop_gradient_p: identity,
    P.integer_pow_p: lambda dt, x, y: _integer_pow(dt, x, y),
    P.reduce_precision_p: lambda dt, x, exponent_bits, mantissa_bits: (
        f"jl_reduce_precision_{sfx(dt)}({x}, {exponent_bits}, {mantissa_bits})"
    ),
    P.add_p: infix("+"),
    P.add_any_p: infix("+"),
    P.sub_p: infix("-"),
    P.mul_p: infix("*"),
    P.div_p: by_kind(f=infix("/"), i=helper("div")),
    P.rem_p: by_kind(f=libm("fmod"), i=helper("rem")),
    P.pow_p: by_kind(f=libm("pow"), i=helper("pow")),
    P.max_p: helper("max"),
    P.min_p: helper("min"),
    P.atan2_p: libm("atan2"),
    P.nextafter_p: lambda dt, x, y: (
        f"jl_nextafter_{sfx(dt)}({x}, {y})"
        if dt in dtypes.HALF_DTYPES
        else libm("nextafter")(dt, x, y)
    ),
    P.and_p: infix("&"),
    P.or_p: infix("|"),
    P.xor_p: infix("^"),
    P.shift_left_p: helper("shl"),
    P.shift_right_arithmetic_p: helper("shra"),
    P.shift_right_logical_p: helper("shrl"),
    P.eq_p: infix("=="),
    P.ne_p: infix("!="),
    P.lt_p: infix("<"),
    P.le_p: infix("<="),
    P.gt_p: infix(">"),
    P.ge_p: infix(">="),
    P.clamp_p: lambda dt, lo, x, hi: f"jl_min_{sfx(dt)}(jl_max_{sfx(dt)}({x}, {lo}), {hi})",
}
_EXPENSIVE = {
    P.exp_p, P.exp2_p, P.log_p, P.log1p_p, P.expm1_p, P.tanh_p, P.logistic_p, P.sin_p, P.cos_p,
    P.tan_p, P.asin_p, P.acos_p, P.atan_p, P.sinh_p, P.cosh_p, P.asinh_p, P.acosh_p, P.atanh_p,
    P.cbrt_p, P.erf_p, P.erf_inv_p, P.pow_p, P.atan2_p, P.div_p, P.rem_p, P.rsqrt_p,
}  # fmt: skip

# --- complex (issue 21): csrc/jl_complex.h's functions, named by dtype (`jl_exp_c64`) ----------
_COMPLEX_HELPERS = (
    P.exp_p, P.exp2_p, P.log_p, P.log1p_p, P.expm1_p, P.tanh_p, P.logistic_p, P.sin_p, P.cos_p,
    P.tan_p, P.asin_p, P.acos_p, P.atan_p, P.sinh_p, P.cosh_p, P.asinh_p, P.acosh_p, P.atanh_p,
    P.sqrt_p, P.rsqrt_p, P.sign_p, P.abs_p, P.pow_p,
)  # fmt: skip
_COMPLEX_RULES = {p: helper(p.name) for p in _COMPLEX_HELPERS}
_COMPLEX_RULES[P.mul_p] = lambda dt, x, y: f"jl_cmul_{sfx(dt)}({x}, {y})"  # not C's `*`: see
_COMPLEX_RULES[P.div_p] = lambda dt, x, y: f"jl_cdiv_{sfx(dt)}({x}, {y})"  # jl_complex.h


def _or_complex(real_rule: ElementwiseRule, complex_rule: ElementwiseRule) -> ElementwiseRule:
    return lambda dt, *xs, **params: (complex_rule if dt.kind == "c" else real_rule)(
        dt, *xs, **params
    )


for _p, _rule in _ELEMENTWISE_RULES.items():
    if _p in _COMPLEX_RULES:
        _rule = _or_complex(_rule, _COMPLEX_RULES[_p])
    # A real mul or sqrt stays cheap, and so does a complex mul (6 flops, no libm): costed as
    # a libm call, 2^18 / 11 elements of x * y ran on threads, 2.4x slower in the FFT heat
    # benchmark's scan (benchmarks/bench_fft.py, 33024 complex64 per step).
    expensive_complex = _p in _COMPLEX_RULES and _p is not P.mul_p
    register_elementwise(_p, _rule, expensive=_p in _EXPENSIVE, expensive_complex=expensive_complex)


def _part(fn: str) -> ElementwiseRule:
    """crealf/cimagf/conjf for complex64, creal/cimag/conj for complex128."""
    return lambda dt, x, **_: f"{fn}{'f' if dt == dtypes.complex64 else ''}({x})"


register_elementwise(P.real_p, _part("creal"))
register_elementwise(P.imag_p, _part("cimag"))
register_elementwise(
    P.conj_p,
    # conj of a real x: x - 0i (the imaginary part is -0.0, as conj(complex(x, 0)))
    lambda dt, x, input_dtype: (
        _part("conj")(dt, x) if dt.kind == "c" else f"__builtin_complex({x}, -{c_literal(0, dt)})"
    ),
)
register_elementwise(P.complex_p, lambda dt, x, y: f"__builtin_complex({x}, {y})")


def _select_n(dt, which, *cases):
    if dt.kind == "b":
        return f"{which} ? {cases[1]} : {cases[0]}" if len(cases) == 2 else cases[0]
    # An integer `which` is clamped to [0, n): `which <= 0 ? c0 : which == 1 ? c1 : ... : c_last`
    text = cases[-1]
    for k in range(len(cases) - 2, -1, -1):
        text = f"{which} {'<=' if k == 0 else '=='} {k} ? {cases[k]} : {text}"
    return text


register_elementwise(P.select_n_p, _select_n)


def convert(src: np.dtype, dst: np.dtype, x: str) -> str:
    """C for convert_element_type: saturating float -> int, `!= 0` to bool, else a C cast."""
    if src == dst:
        return x
    if src in dtypes.HALF_DTYPES:  # 16-bit floats: exact to float32, then as from float32
        return convert(dtypes.float32, dst, f"jl_{sfx(src)}_to_f32({x})")
    if dst in dtypes.HALF_DTYPES:  # one rounding to nearest even (float64: see jl_math.h)
        if src == dtypes.float64 or src.kind in "iu":  # NB: 64-bit ints: exact up to 2^53
            return f"jl_f64_to_{sfx(dst)}((double){x})"
        if src.kind == "b":
            return f"({x} ? {c_literal(1, dst)} : {c_literal(0, dst)})"
        return f"jl_f32_to_{sfx(dst)}({convert(src, dtypes.float32, x)})"
    if dst.kind == "b":
        return f"{x} != 0"
    if src.kind == "c" and dst.kind != "c":  # complex -> real drops the imaginary part, as XLA
        return convert(
            dtypes.to_real(src), dst, f"creal{'f' if src == dtypes.complex64 else ''}({x})"
        )
    if dtypes.is_float(src) and dst.kind in "iu":
        return f"jl_f2i_{sfx(dst)}({x})"
    if src.kind == "b":  # NB: gcc 12 does not vectorize a (float) cast of a bool; a select it does
        return f"({x} ? {c_literal(1, dst)} : {c_literal(0, dst)})"
    return f"({CTYPE[dst]}){x}"


register_elementwise(
    P.convert_element_type_p, lambda dt, x, new_dtype, weak_type=False: convert(dt, new_dtype, x)
)
register_elementwise(
    P.bitcast_convert_type_p,
    lambda dt, x, new_dtype: (
        x
        if dt == new_dtype
        else f"(({CTYPE[new_dtype]}){x})"  # 16-bit floats are their bits: a 16-bit int cast
        if dt in dtypes.HALF_DTYPES or new_dtype in dtypes.HALF_DTYPES
        else f"jl_bitcast_{sfx(dt)}_{sfx(new_dtype)}({x})"
    ),
)


# The special functions of csrc/jl_special.h (primitives/_special.py)
_SPECIAL_RULES = {
    P.lgamma_p: helper("lgamma"),
    P.digamma_p: helper("digamma"),
    P.erfc_p: helper("erfc"),
    P.bessel_i0e_p: helper("bessel_i0e"),
    P.bessel_i1e_p: helper("bessel_i1e"),
    P.igamma_p: helper("igamma"),
    P.igammac_p: helper("igammac"),
    P.igamma_grad_a_p: helper("igamma_grad_a"),
    P.zeta_p: helper("zeta"),
    P.regularized_incomplete_beta_p: helper("betainc"),
}
for _p, _rule in _SPECIAL_RULES.items():
    register_elementwise(_p, _rule, expensive=True)
