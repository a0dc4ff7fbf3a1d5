"""The C lowering of every primitive and dtype against the eager NumPy interpreter, on the same
jaxpr (the eager implementations are the spec).

The tables below list one line per primitive (or variant). To keep compilation cheap, the lines
that apply to one dtype and shape are staged into ONE jaxpr, compiled once, and each line's output
is then checked on its own: `test_unary[exp-float32-(13,)]` fails alone if exp's C is wrong.
Comparison is exact (bit for bit, NaN == NaN, -0.0 != 0.0) except for the lines with a
tolerance: libm functions (NumPy uses its own SIMD versions, a few ulp apart) and float
reductions (a different summation order).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest

from jaxlite import core, lax
from jaxlite import dtypes as jl_dtypes
from jaxlite.api import make_jaxpr
from jaxlite.backend import lower
from jaxlite.jit import executable

BOOL, U8, U32, I32, I64, F32, F64 = map(
    np.dtype, [np.bool_, np.uint8, np.uint32, np.int32, np.int64, np.float32, np.float64]
)
I8, I16, U16, U64 = map(np.dtype, [np.int8, np.int16, np.uint16, np.uint64])
F16, BF16 = jl_dtypes.float16, jl_dtypes.bfloat16  # stored in 16 bits, computed in float32
C64, C128 = np.dtype(np.complex64), np.dtype(np.complex128)  # complex (issue 21)
ALL = (BOOL, U8, U16, U32, U64, I8, I16, I32, I64, F16, BF16, F32, F64, C64, C128)
KINDS = {
    "f": (F16, BF16, F32, F64),
    "i": (I8, I16, I32, I64),
    "u": (U8, U16, U32, U64),
    "b": (BOOL,),
    "c": (C64, C128),
}
SHAPES = [(), (13,), (3, 5)]


def dtypes_of(kinds: str, name: str = ""):
    return [d for k in kinds for d in KINDS[k] if not (d in (F16, BF16) and name in NOT_HALF)]


NOT_HALF: set = {"complex"}  # lines that do not apply to 16-bit floats (JAX rejects them)


class Line(NamedTuple):
    name: str
    fn: Callable
    kinds: str  # operand kinds: f(loat) i(nt) u(nsigned) b(ool)
    ulps: int = 0  # allowed distance in units in the last place (0: exact)


EXACT = 0
LIBM = 4  # NumPy's SIMD libm vs glibc's

# ------------------------------------------------------------------------------------------
# Inputs: special values first, then pseudo-random ones
# ------------------------------------------------------------------------------------------


def values(dtype, shape, which: int = 0) -> np.ndarray:
    n = math.prod(shape)
    rng = np.random.default_rng(1234 + which)
    if dtype.kind == "c":  # the float specials against each other, in both parts
        part = np.dtype(np.float32 if dtype == C64 else np.float64)
        re, im = values(part, shape, which), values(part, shape, which + 3)
        out = np.empty(shape, dtype)
        out.real, out.imag = re, im
        return out
    if jl_dtypes.is_float(dtype):
        info = jl_dtypes.finfo(dtype)
        special = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -1.5, np.nan, np.inf, -np.inf,
                   info.tiny / 4, info.max, 3.0, 0.25, 1e-3]  # fmt: skip
        rand = rng.normal(0, 3, size=n)
    elif dtype.kind == "b":
        special, rand = [True, False], rng.integers(0, 2, size=n)
    else:
        info = np.iinfo(dtype)
        special = [0, 1, 2, info.max, info.min, 7] + ([-1, -7, info.min + 1] if info.min else [])
        rand = rng.integers(info.min, int(info.max), size=n, endpoint=True,
                            dtype=np.uint64 if dtype.kind == "u" else np.int64)  # fmt: skip
    special = special[which % len(special) :] + special[: which % len(special)]
    if dtype.kind in "iu":  # exact: uint64 and int64 together would meet in float64
        special, rand = np.array(special, dtype), rand.astype(dtype)
    flat = np.concatenate([np.asarray(special[:n]), np.asarray(rand[len(special[:n]) :])])
    return flat.astype(dtype).reshape(shape)


def small_values(dtype, shape, which: int = 0, lo: int = -3, hi: int = 9) -> np.ndarray:
    rng = np.random.default_rng(99 + which)
    if dtype.kind == "u":
        lo = 0
    return rng.integers(lo, hi, size=shape).astype(dtype)


# ------------------------------------------------------------------------------------------
# Comparison
# ------------------------------------------------------------------------------------------


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in representable floats (a monotone integer view), NaN == NaN."""
    it = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]
    ia, ib = a.view(it).astype(np.int64), b.view(it).astype(np.int64)
    top = np.int64(np.iinfo(it).min)
    ia = np.where(ia < 0, top - ia, ia)
    ib = np.where(ib < 0, top - ib, ib)
    d = np.abs(ia - ib).astype(np.float64)
    return np.where(np.isnan(a) & np.isnan(b), 0, d)


def assert_same(got, want, ulps: int = 0, rtol: float = 0.0, what: str = ""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    if got.dtype.kind == "c":  # both parts, as floats
        for part in ("real", "imag"):
            g, w = getattr(got, part).copy(), getattr(want, part).copy()
            assert_same(g, w, ulps, rtol, f"{what} ({part} part)")
        return
    if got.dtype in (F16, BF16):
        # jit computes in float32 and rounds once (as XLA's CPU); eager is NumPy's float16 and
        # ml_dtypes' bfloat16 loops, which round some results twice (rsqrt, powers, cumulative
        # sums) and order signed zeros in max/min differently: one 16-bit ulp, zeros of either
        # sign, and float32-accumulation tolerances for reductions.
        if rtol:
            rtol = max(rtol, 4 * float(jl_dtypes.finfo(got.dtype).eps))
        got = np.where((got == 0) & (want == 0), want, got)
        ulps = max(ulps, 1)
    if not jl_dtypes.is_float(got.dtype):
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    if rtol:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=what)
        return
    assert np.array_equal(np.isnan(got), np.isnan(want)), (what, got, want)
    d = ulp_distance(got, want)
    bad = (d > ulps) | ((got == 0) & (want == 0) & (np.signbit(got) != np.signbit(want)))
    if ulps:  # near zero crossings relative error means little: also accept tiny absolute error
        eps = np.finfo(got.dtype).eps
        with np.errstate(invalid="ignore"):  # inf - inf where both are inf: NaN, not "close"
            close = np.abs(got.astype(np.float64) - want) <= 4 * eps * np.maximum(np.abs(want), 1)
        bad &= ~close
    assert not bad.any(), f"{what}: {bad.sum()} elements differ by more than {ulps} ulp:\n" + "\n".join(
        f"  at {np.unravel_index(i, got.shape)}: jit {got.flat[i]!r} vs eager {want.flat[i]!r}"
        for i in np.flatnonzero(bad)[:5]
    )  # fmt: skip


def run_both(fn, *args):
    """(jit outputs, eager outputs) of `fn` on the same jaxpr."""
    closed = make_jaxpr(fn)(*args)
    flat = [np.ascontiguousarray(a) for a in args]  # what jit passes the kernel
    got = executable(closed, "test")(*flat)
    want = [np.asarray(w) for w in core.eval_jaxpr(closed.jaxpr, closed.consts, *args)]
    return got, want


# ------------------------------------------------------------------------------------------
# Elementwise tables
# ------------------------------------------------------------------------------------------

UNARY = [
    Line("neg", lax.neg, "fiuc"),
    Line("sign", lax.sign, "fiuc"),
    Line("abs", lax.abs, "fiuc"),
    Line("exp", lax.exp, "fc", LIBM),
    Line("exp2", lax.exp2, "fc", LIBM),
    Line("log", lax.log, "fc", LIBM),
    Line("log1p", lax.log1p, "fc", LIBM),
    Line("expm1", lax.expm1, "fc", LIBM),
    Line("tanh", lax.tanh, "fc", LIBM),
    Line("logistic", lax.logistic, "fc", LIBM),
    Line("sin", lax.sin, "fc", LIBM),
    Line("cos", lax.cos, "fc", LIBM),
    Line("tan", lax.tan, "fc", LIBM),
    Line("asin", lax.asin, "fc", LIBM),
    Line("acos", lax.acos, "fc", LIBM),
    Line("atan", lax.atan, "fc", LIBM),
    Line("sinh", lax.sinh, "fc", LIBM),
    Line("cosh", lax.cosh, "fc", LIBM),
    Line("asinh", lax.asinh, "fc", LIBM),
    Line("acosh", lax.acosh, "fc", LIBM),
    Line("atanh", lax.atanh, "fc", LIBM),
    Line("sqrt", lax.sqrt, "fc"),
    Line("rsqrt", lax.rsqrt, "fc"),
    Line("cbrt", lax.cbrt, "f", LIBM),
    Line("erf", lax.erf, "f", LIBM),
    Line("erf_inv", lax.erf_inv, "f", 64),
    Line("floor", lax.floor, "f"),
    Line("ceil", lax.ceil, "f"),
    Line("round_away", lambda x: lax.round(x, 0), "f"),
    Line("round_even", lambda x: lax.round(x, 1), "f"),
    Line("is_finite", lax.is_finite, "f"),
    Line("reduce_precision_f16", lambda x: lax.reduce_precision(x, 5, 10), "f"),
    Line("reduce_precision_bf16", lambda x: lax.reduce_precision(x, 8, 7), "f"),
    Line("not", lax.bitwise_not, "iub"),
    Line("copy", lax.copy, "fiubc"),
    Line("stop_gradient", lax.stop_gradient, "fiubc"),
    Line("integer_pow_0", lambda x: lax.integer_pow(x, 0), "fiuc"),
    Line("integer_pow_2", lambda x: lax.integer_pow(x, 2), "fiuc"),
    Line("integer_pow_3", lambda x: lax.integer_pow(x, 3), "fiuc"),
    Line("integer_pow_7", lambda x: lax.integer_pow(x, 7), "fiuc"),
    Line("integer_pow_-3", lambda x: lax.integer_pow(x, -3), "fc"),
    Line("real", lax.real, "c"),
    Line("imag", lax.imag, "c"),
    Line("conj", lax.conj, "fc"),
]

BINARY = [
    Line("add", lax.add, "fiuc"),
    Line("sub", lax.sub, "fiuc"),
    Line("mul", lax.mul, "fiuc"),
    Line("div", lax.div, "fiuc"),
    Line("rem", lax.rem, "fiu"),
    Line("pow", lax.pow, "fiuc", LIBM),
    Line("max", lax.max, "fiub"),
    Line("min", lax.min, "fiub"),
    Line("atan2", lax.atan2, "f", LIBM),
    Line("nextafter", lax.nextafter, "f"),
    Line("and", lax.bitwise_and, "iub"),
    Line("or", lax.bitwise_or, "iub"),
    Line("xor", lax.bitwise_xor, "iub"),
    Line("shift_left", lax.shift_left, "iu"),
    Line("shift_right_arithmetic", lax.shift_right_arithmetic, "iu"),
    Line("shift_right_logical", lax.shift_right_logical, "iu"),
    Line("add_any", lax.add_any, "fiuc"),
    Line("eq", lax.eq, "fiubc"),
    Line("ne", lax.ne, "fiubc"),
    Line("lt", lax.lt, "fiub"),
    Line("le", lax.le, "fiub"),
    Line("gt", lax.gt, "fiub"),
    Line("ge", lax.ge, "fiub"),
    Line("complex", lax.complex, "f"),
]


def _second_operand(name, dtype, shape):
    if name.startswith("shift") and dtype.kind in "iu":
        bits = dtype.itemsize * 8
        lo = 0 if dtype.kind == "u" else -2
        return np.random.default_rng(5).integers(lo, bits + 3, size=shape).astype(dtype)
    if name == "pow" and dtype.kind in "iu":
        return small_values(dtype, shape, 1, -2, 12)
    return values(dtype, shape, which=5)


@functools.cache
def _unary_group(dtype, shape):
    lines = [ln for ln in UNARY if jl_dtypes.kind(dtype) in ln.kinds]
    x = values(dtype, shape)
    got, want = run_both(lambda x: [ln.fn(x) for ln in lines], x)
    return {ln.name: (g, w) for ln, g, w in zip(lines, got, want)}


def _all_pairs(dtype):
    """Every pair of special values (x, y), then random pairs: ties, signed zeros, NaN, limits."""
    sp = values(dtype, (16,) if dtype.kind != "b" else (2,))
    x, y = np.repeat(sp, len(sp)), np.tile(sp, len(sp))
    return np.concatenate([x, values(dtype, (40,), 2)]), np.concatenate(
        [y, values(dtype, (40,), 7)]
    )


@functools.cache
def _binary_group(dtype, shape, scalar_rhs: bool):
    lines = [ln for ln in BINARY if dtype in dtypes_of(ln.kinds, ln.name)]
    if shape == "pairs":
        x, y0 = _all_pairs(dtype)
        ys = [_second_operand(ln.name, dtype, x.shape) if ln.name.startswith(("shift", "pow"))
              and not jl_dtypes.is_float(dtype) else y0 for ln in lines]  # fmt: skip
    else:
        x = values(dtype, shape)
        ys = [_second_operand(ln.name, dtype, () if scalar_rhs else shape) for ln in lines]
    if scalar_rhs:  # a rank-0 operand broadcasts (lax's one implicit broadcast)
        ys = [y.reshape(()) if y.ndim else y for y in ys]
    got, want = run_both(lambda x, *ys: [ln.fn(x, y) for ln, y in zip(lines, ys)], x, *ys)
    return {ln.name: (g, w) for ln, g, w in zip(lines, got, want)}


def _cases(table):
    # NB: the narrow and 64-bit unsigned types share every lowering rule with the others: one
    # shape each (the pairs and rank-0 tests below cover them too) keeps the compile count down
    return [
        pytest.param(ln, dt, shape, id=f"{ln.name}-{dt.name}-{shape}")
        for ln in table
        for dt in dtypes_of(ln.kinds, ln.name)
        for shape in (SHAPES if dt not in (I8, I16, U16, U64, F16, BF16) else SHAPES[1:2])
    ]


@pytest.mark.parametrize("line,dtype,shape", _cases(UNARY))
def test_unary(line, dtype, shape):
    got, want = _unary_group(dtype, shape)[line.name]
    assert_same(got, want, line.ulps, what=line.name)


def _overflowing_complex_products(line, got, want):
    """Complex mul/div where an intermediate product overflows: NaN on one side, inf on the other
    (NumPy's SIMD loop fuses a multiply-add, which does not overflow there; the C, compiled with
    -ffp-contract=off, and XLA do not), so those elements are compared as non-finite only, and
    the finite ones within 2 ulp (the same fused multiply-add rounds once less)."""
    if got.dtype.kind != "c" or line.name not in ("mul", "div"):
        return got, want, line.ulps
    odd = ~np.isfinite(got) & ~np.isfinite(want)
    return np.where(odd, np.nan, got), np.where(odd, np.nan, want), 2


@pytest.mark.parametrize("line,dtype,shape", _cases(BINARY))
def test_binary(line, dtype, shape):
    got, want = _binary_group(dtype, shape, False)[line.name]
    got, want, ulps = _overflowing_complex_products(line, got, want)
    assert_same(got, want, ulps, what=line.name)


@pytest.mark.parametrize("line,dtype", [pytest.param(ln, dt, id=f"{ln.name}-{dt.name}")
                                        for ln in BINARY for dt in dtypes_of(ln.kinds, ln.name)])  # fmt: skip
def test_binary_every_pair_of_special_values(line, dtype):
    got, want = _binary_group(dtype, "pairs", False)[line.name]
    got, want, ulps = _overflowing_complex_products(line, got, want)
    assert_same(got, want, ulps, what=line.name)


@pytest.mark.parametrize("line,dtype", [pytest.param(ln, dt, id=f"{ln.name}-{dt.name}")
                                        for ln in BINARY for dt in dtypes_of(ln.kinds, ln.name)])  # fmt: skip
def test_binary_with_rank0_operand(line, dtype):
    got, want = _binary_group(dtype, (2, 5), True)[line.name]
    assert_same(got, want, line.ulps, what=line.name)


# ------------------------------------------------------------------------------------------
# Selection and conversion
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL, ids=str)
def test_select_n_and_clamp(dtype):
    x, a, b = (values(dtype, (3, 4), k) for k in range(3))
    pred = values(BOOL, (3, 4), 1)
    which = small_values(I32, (3, 4), 2, -2, 5)
    fns = [
        lambda x, a, b, p, w: lax.select_n(p, x, a),
        lambda x, a, b, p, w: lax.select_n(w, x, a, b),
        lambda x, a, b, p, w: lax.select_n(p[0, 0], x, a),
        lambda x, a, b, p, w: lax.select_n(w, x),
    ]
    if dtype.kind not in "bc":  # (no order on complex: no clamp, as in JAX)
        fns.append(lambda x, a, b, p, w: lax.clamp(lax.min(a, b), x, lax.max(a, b)))
        fns.append(lambda x, a, b, p, w: lax.clamp(a[0, 0], x, b[0, 0]))
    got, want = run_both(lambda *args: [f(*args) for f in fns], x, a, b, pred, which)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, what=f"case {k}")


@pytest.mark.parametrize("src", ALL, ids=str)
def test_convert_element_type_every_pair(src):
    x = values(src, (4, 7))
    if jl_dtypes.is_float(src):  # around every integer type's limits
        extra = np.array([2.0**31, 2.0**31 - 128, -(2.0**31) - 1, 2.0**32, 2.0**63, -(2.0**63),
                          255.5, 256.0, -0.7, 4294967295.0, 1e20, -1e20, 2.0**64, 2.0**64 - 2048,
                          127.5, 128.0, -128.9, -129.0, 32767.5, 32768.0, -32768.5, -32769.0,
                          65535.5, 65536.0, 2.0**63 + 2048],
                         np.float64)  # fmt: skip
        with np.errstate(over="ignore"):  # float16 holds up to 65504
            x.flat[: len(extra)] = extra.astype(src)
    got, want = run_both(lambda x: [lax.convert_element_type(x, d) for d in ALL], x)
    for d, g, w in zip(ALL, got, want):
        assert_same(g, w, what=f"{src} -> {d}")


@pytest.mark.parametrize("src,dst", [(F32, I32), (F32, U32), (I32, F32), (U32, I32), (I32, U32),
                                     (U32, F32), (F64, I64), (I64, F64), (F64, U64), (U64, F64),
                                     (I64, U64), (U64, I64), (I8, U8), (U8, I8), (I16, U16),
                                     (U16, I16)])  # fmt: skip
def test_bitcast_convert_type(src, dst):
    x = values(src, (9,))
    got, want = run_both(lambda x: lax.bitcast_convert_type(x, dst), x)
    np.testing.assert_array_equal(got[0].view(np.uint8), want[0].view(np.uint8))


# ------------------------------------------------------------------------------------------
# Structured primitives: one line per parameter choice, grouped per dtype
# ------------------------------------------------------------------------------------------

X3 = (2, 3, 4)


class Case(NamedTuple):
    name: str
    fn: Callable  # of (x: shape X3, y: shape X3, i: int32 scalar)
    kinds: str
    rtol: float = 0.0  # for float results (0: exact)


def dn(lc, rc, lb=(), rb=()):
    return ((lc, rc), (lb, rb))


def _reduction(p, axes):
    return lambda x, y, i: p(x, axes)


def _cumulative(p, axis, reverse):
    return lambda x, y, i: p(x, axis, reverse)


REDUCTIONS = [
    Case(f"{p.__name__}{axes}", _reduction(p, axes), kinds, tol)
    for p, kinds, tol in [
        (lax.reduce_sum, "fiu", 1e-5),
        (lax.reduce_prod, "fiu", 1e-5),
        (lax.reduce_max, "fiub", 0),
        (lax.reduce_min, "fiub", 0),
        (lax.reduce_and, "iub", 0),
        (lax.reduce_or, "iub", 0),
    ]
    for axes in [(), (0,), (1,), (2,), (0, 2), (0, 1, 2)]
]
CUMULATIVE = [
    Case(f"{p.__name__}{ax}{'r' if rev else ''}", _cumulative(p, ax, rev), "fiu")
    for p in (lax.cumsum, lax.cumprod, lax.cummax, lax.cummin)
    for ax in (0, 2)
    for rev in (False, True)
]

# fmt: off
STRUCTURED = [
    # reductions
    *REDUCTIONS,
    Case("argmax1", lambda x, y, i: lax.argmax(x, 1, np.int32), "fiub"),
    Case("argmax0", lambda x, y, i: lax.argmax(x, 0, np.int64), "fiub"),
    Case("argmin2", lambda x, y, i: lax.argmin(x, 2, np.int32), "fiub"),
    *CUMULATIVE,
    # shapes
    Case("broadcast_in_dim", lambda x, y, i: lax.broadcast_in_dim(x[:, :1], (5, 2, 3, 4), (1, 2, 3)), "fiub"),
    Case("reshape", lambda x, y, i: lax.reshape(x, (4, 6)), "fiub"),
    Case("reshape_of_transpose", lambda x, y, i: lax.reshape(lax.transpose(x, (2, 0, 1)), (8, 3)), "fiub"),
    Case("transpose", lambda x, y, i: lax.transpose(x, (2, 0, 1)), "fiub"),
    Case("squeeze", lambda x, y, i: lax.squeeze(x[:1], (0,)), "fiub"),
    Case("expand_dims", lambda x, y, i: lax.expand_dims(x, (0, 3)), "fiub"),
    Case("rev", lambda x, y, i: lax.rev(x, (0, 2)), "fiub"),
    Case("concatenate", lambda x, y, i: lax.concatenate([x, y, x[:, :1]], 1), "fiub"),
    Case("pad", lambda x, y, i: lax.pad(x, x[0, 0, 0], ((1, 2, 0), (-1, 1, 1), (0, -2, 2))), "fiub"),
    Case("pad_all_cropped", lambda x, y, i: lax.pad(x, y[0, 0, 0], ((-2, 0, 0), (0, 0, 0), (0, 0, 0))), "fiub"),
    Case("slice", lambda x, y, i: lax.slice(x, (0, 1, 0), (2, 3, 4), (1, 1, 3)), "fiub"),
    Case("rev_slice_transpose", lambda x, y, i: lax.transpose(lax.slice(lax.rev(x, (2,)), (1, 0, 1), (2, 3, 4)), (2, 1, 0)), "fiub"),
    Case("dynamic_slice", lambda x, y, i: lax.dynamic_slice(x, (i, 1, i), (1, 2, 3)), "fiub"),
    Case("dynamic_slice_clamped", lambda x, y, i: lax.dynamic_slice(x, (i + 5, -4, 2), (2, 2, 3)), "fiub"),
    Case("dynamic_update_slice", lambda x, y, i: lax.dynamic_update_slice(x, y[:1, 1:], (i, i, i + 7)), "fiub"),
    Case("iota", lambda x, y, i: lax.broadcasted_iota(x.dtype, (3, 4), 1), "fiu"),
    Case("dot_mm", lambda x, y, i: lax.dot_general(x[0], y[0], dn((1,), (1,))), "fiub", 1e-5),
    Case("dot_batch", lambda x, y, i: lax.dot_general(x, y, dn((2,), (2,), (0,), (0,))), "fiub", 1e-5),
    Case("dot_two_contractions", lambda x, y, i: lax.dot_general(x, y, dn((0, 2), (0, 2))), "fiub", 1e-5),
    Case("dot_outer", lambda x, y, i: lax.dot_general(x[0, 0], y[1, 1], dn((), ())), "fiu", 1e-5),
    Case("dot_preferred", lambda x, y, i: lax.dot_general(x[0], y[0], dn((1,), (1,)), preferred_element_type=np.float64), "fiu", 1e-5),
    Case("sort", lambda x, y, i: lax.sort(x, 2), "fiub"),
    Case("sort_dim0", lambda x, y, i: lax.sort(x, 0), "fiub"),
    Case("sort_multi", lambda x, y, i: lax.sort((x, y), 1, num_keys=1), "fiub"),
    Case("sort_two_keys", lambda x, y, i: lax.sort((y > y[0], x, y), 1, num_keys=2), "fiub"),
    Case("argsort_iota", lambda x, y, i: lax.sort((x, lax.broadcasted_iota(np.int32, X3, 2)), 2, num_keys=1)[1], "fiub"),
]
# fmt: on


@functools.cache
def _structured_group(dtype):
    cases = [c for c in STRUCTURED if jl_dtypes.kind(dtype) in c.kinds]
    x, y = values(dtype, X3, 0), values(dtype, X3, 3)
    if jl_dtypes.is_float(
        dtype
    ):  # keep products and sums away from overflow, but keep NaN and -0.0
        x = np.where(np.isfinite(x), np.clip(x, -4, 4), x).astype(dtype)
        y = np.where(np.isfinite(y), np.clip(y, -4, 4), y).astype(dtype)
    i = np.int32(1)
    got, want = run_both(lambda x, y, i: [c.fn(x, y, i) for c in cases], x, y, i)
    out, k = {}, 0
    for c in cases:
        n = len(c.fn(x, y, i)) if isinstance(c.fn(x, y, i), (tuple, list)) else 1
        out[c.name] = (got[k : k + n], want[k : k + n])
        k += n
    return out


@pytest.mark.parametrize("case,dtype", [pytest.param(c, dt, id=f"{c.name}-{dt.name}")
                                        for c in STRUCTURED for dt in dtypes_of(c.kinds)])  # fmt: skip
def test_structured(case, dtype):
    got, want = _structured_group(dtype)[case.name]
    for g, w in zip(got, want):
        assert_same(g, w, rtol=case.rtol if jl_dtypes.is_float(g.dtype) else 0, what=case.name)


@pytest.mark.parametrize("dtype", [F32, I32, BOOL], ids=str)
def test_empty_and_size_one_shapes(dtype):
    x = values(dtype, (0, 3))
    z = values(dtype, (1, 1))
    fns = [
        lambda x, z: lax.reduce_max(x, (0,)),
        lambda x, z: lax.reduce_or(x, (0, 1)) if dtype.kind != "f" else lax.reduce_sum(x, (0, 1)),
        lambda x, z: lax.transpose(x, (1, 0)),
        lambda x, z: lax.concatenate([x, x], 0),
        lambda x, z: lax.broadcast_in_dim(z, (4, 1, 3), (0, 1)),
        lambda x, z: lax.reshape(z, ()),
        lambda x, z: lax.sort(x, 0),
    ]
    got, want = run_both(lambda x, z: [f(x, z) for f in fns], x, z)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, what=f"case {k}")


def test_every_elementwise_lowering_is_tested():
    names = [ln.name for ln in UNARY + BINARY]
    covered = {"select_n", "clamp", "convert_element_type", "bitcast_convert_type"}
    # The special functions: jit against eager in tests/test_scipy_special.py, with ulp bounds.
    covered |= {"lgamma", "digamma", "erfc", "bessel_i0e", "bessel_i1e", "igamma", "igammac",
                "igamma_grad_a", "zeta", "regularized_incomplete_beta"}  # fmt: skip
    for p in lower.ELEMENTWISE:
        assert p.name in covered or any(n == p.name or n.startswith(p.name + "_") for n in names), p
