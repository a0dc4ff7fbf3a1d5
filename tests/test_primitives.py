"""Every primitive against a NumPy or pure-Python reference, for every dtype it supports.

SPECS is the data table: one line per primitive (or per primitive variant) with the lax call, the
reference, the supported dtypes, the argument shapes and the input domain. Each line is run for
every dtype it supports (value, dtype and shape against the reference; the result type against
the staged jaxpr's abstract eval; eval_jaxpr against the eager result) and for every dtype it
does not support (a TypeError naming the primitive). test_every_primitive_is_in_the_table fails
when a primitive is added to ALL_PRIMITIVES without a line here.
"""

from __future__ import annotations

import math
import pathlib
from typing import NamedTuple
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import jaxlite
from jaxlite import core, lax
from jaxlite.primitives import ALL_PRIMITIVES

BOOL, U8, U32, I32, I64, F32, F64 = map(
    np.dtype, [np.bool_, np.uint8, np.uint32, np.int32, np.int64, np.float32, np.float64]
)
I8, I16, U16, U64 = map(np.dtype, [np.int8, np.int16, np.uint16, np.uint64])
FLOATS = (F32, F64)
INTS = (U8, U16, U32, U64, I8, I16, I32, I64)
NUM = INTS + FLOATS
ALL = (BOOL,) + NUM
INT_BOOL = (BOOL,) + INTS
NUM_BOOL = ALL

# Primitives whose tests live in another file (the value is that file).
TESTED_ELSEWHERE = {
    # complex (issue 21): their own tables of complex inputs
    "complex": "tests/test_complex.py",
    "real": "tests/test_complex.py",
    "imag": "tests/test_complex.py",
    "conj": "tests/test_complex.py",
    "fft": "tests/test_fft.py",
    "gather": "tests/test_indexing.py",
    "scatter": "tests/test_indexing.py",
    "scatter-add": "tests/test_indexing.py",
    "scatter-mul": "tests/test_indexing.py",
    "scatter-min": "tests/test_indexing.py",
    "scatter-max": "tests/test_indexing.py",
    "conv_general_dilated": "tests/test_conv.py",
    "reduce_window_sum": "tests/test_conv.py",
    "reduce_window_max": "tests/test_conv.py",
    "reduce_window_min": "tests/test_conv.py",
    "select_and_gather_add": "tests/test_pool.py",
    "select_and_scatter_add": "tests/test_pool.py",
    # Special functions: against SciPy, jit against eager and vmap against a loop, with ulp bounds.
    **{n: "tests/test_scipy_special.py" for n in (
        "lgamma", "digamma", "erfc", "bessel_i0e", "bessel_i1e", "igamma", "igammac",
        "igamma_grad_a", "regularized_incomplete_beta", "zeta")},
    "triangular_solve": "tests/test_scipy_linalg.py",
    "eig": "tests/test_complex_linalg.py",
    # Named-axis collectives: under vmap against JAX; compiled (a pmap axis) against eager.
    **{n: "tests/test_collectives.py" for n in (
        "psum", "pmax", "pmin", "all_gather", "reduce_scatter", "all_to_all", "ppermute",
        "axis_index")},
    **{n: "tests/test_debug_callbacks.py" for n in (
        "pure_callback", "io_callback", "debug_callback")},
}  # fmt: skip


class Spec(NamedTuple):
    name: str  # the primitive's name
    fn: Callable  # the lax call on arrays (static parameters bound)
    ref: Callable  # the reference on NumPy arrays; its result dtype is the expected dtype
    dtypes: tuple  # the dtypes the primitive supports (of the first argument)
    shapes: tuple  # one tuple of argument shapes per case
    domain: tuple = ("any",)  # input domain per argument (the last one repeats)
    tol: float = 0.0  # rtol for float32 (float64 uses tol * 1e-7); 0 = exact

    @property
    def id(self) -> str:
        return self.name


# ---- inputs ---------------------------------------------------------------------------------

_SPECIAL_FLOATS = [np.nan, np.inf, -np.inf, 3e9, -3e9, 1e20, -0.7, 0.5, -0.0, 255.9, 256.0,
                   2147483520.0, -2.5, 4294967040.0, 9.3e18, -9.3e18]  # fmt: skip


def make_arg(rng, shape, dtype, domain):
    """A random array of `shape`; some domains fix their own dtype (indices, predicates)."""
    if domain == "pred":
        return rng.random(shape) < 0.5
    if domain == "which3":
        return rng.integers(0, 3, shape).astype(np.int32)
    if domain == "start":
        return np.int32(rng.integers(-2, 7))
    if dtype == BOOL:
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        lo, hi = {
            "any": (-20, 20), "nonzero": (-20, 20), "small": (-3, 3), "exp": (0, 5),
            "pos": (1, 20), "unit": (-1, 1), "ge1": (1, 20), "convert": (-300, 300),
            "shift": (-2, info.bits + 2),
        }[domain]  # fmt: skip
        v = rng.integers(max(lo, info.min), min(hi, info.max) + 1, shape)
        if domain in ("any", "convert") and v.size:
            extremes = rng.choice(np.array([info.min, info.max], dtype=dtype), shape)
            v = np.where(rng.random(shape) < 0.2, extremes, v.astype(dtype))
        if domain == "nonzero":
            v = np.where(v == 0, 1, v)
        return v.astype(dtype)
    if domain == "any":
        v = rng.standard_normal(shape) * 3
    elif domain == "pos":
        v = rng.uniform(0.1, 10, shape)
    elif domain == "unit":
        v = rng.uniform(-0.99, 0.99, shape)
    elif domain == "ge1":
        v = rng.uniform(1.01, 10, shape)
    elif domain == "small":
        v = rng.uniform(-3, 3, shape)
    elif domain == "exp":
        v = rng.integers(-3, 4, shape).astype(np.float64)
    elif domain == "nonzero":
        v = rng.standard_normal(shape) * 3
        v = np.where(np.abs(v) < 0.1, 1.0, v)
    elif domain == "convert":
        pool = np.array(_SPECIAL_FLOATS)
        v = np.where(rng.random(shape) < 0.5, rng.choice(pool, shape), rng.standard_normal(shape))
    elif domain == "shift":
        v = rng.standard_normal(shape)
    else:
        raise ValueError(domain)
    return np.asarray(v).astype(dtype)


def make_args(spec: Spec, shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    doms = spec.domain + (spec.domain[-1],) * (len(shapes) - len(spec.domain))
    return [make_arg(rng, s, dtype, d) for s, d in zip(shapes, doms)]


# ---- references -----------------------------------------------------------------------------


def f64(fn):
    """A float reference computed in float64 and rounded to the input's dtype."""

    def ref(*xs):
        return np.asarray(fn(*[x.astype(np.float64) for x in xs])).astype(xs[0].dtype)

    return ref


def same(fn):
    """A reference that NumPy computes in the input dtype with lax's semantics already."""
    return lambda *xs: np.asarray(fn(*xs))


def wrap_int(v: int, dtype) -> int:
    """Two's complement wrap of a Python int to `dtype`."""
    bits = dtype.itemsize * 8
    v &= (1 << bits) - 1
    if dtype.kind == "i" and v >= 1 << (bits - 1):
        v -= 1 << bits
    return v


def pyint(op):
    """An elementwise reference on Python ints (exact), wrapped to the dtype."""

    def ref(*xs):
        dt = xs[0].dtype
        bx = np.broadcast_arrays(*xs)
        vals = [op(*map(int, t), dt) for t in zip(*(b.ravel().tolist() for b in bx))]
        return np.array([wrap_int(v, dt) for v in vals], dtype=dt).reshape(bx[0].shape)

    return ref


def tdiv(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def by_kind(float_ref, int_ref):
    return lambda *xs: (float_ref if xs[0].dtype.kind == "f" else int_ref)(*xs)


def _erf_inv_ref(x):
    # Bisection on math.erf in float64, then Newton steps: independent of the implementation.
    a = np.where(np.abs(x) < 1, np.abs(x), 0.5)
    lo, hi = np.zeros_like(a), np.full_like(a, 10.0)
    erf = np.vectorize(math.erf, otypes=[np.float64])
    for _ in range(60):
        mid = (lo + hi) / 2
        below = erf(mid) < a
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    r = (lo + hi) / 2
    for _ in range(3):
        r = r - (erf(r) - a) / (2 / math.sqrt(math.pi) * np.exp(-r * r))
    r = np.where(np.abs(x) == 1, np.inf, np.where(np.abs(x) < 1, r, np.nan))
    return np.copysign(r, x)


def _round_ref(x):
    # Half away from zero: np.rint except at exact halves.
    t = np.trunc(x)
    return np.where(np.abs(x - t) == 0.5, t + np.sign(x), np.rint(x))


def _sign_ref(x):
    if x.dtype.kind == "u":
        return (x > 0).astype(x.dtype)
    if x.dtype.kind == "f":
        return np.where(x == 0, x, np.sign(x)).astype(x.dtype)
    return np.sign(x)


def _pow_int(a, b, dt):
    if b >= 0:
        return pow(a, b, 1 << (dt.itemsize * 8))
    return 1 if a == 1 else (-1 if b % 2 else 1) if a == -1 else 0


def _shl(a, b, dt):
    return a << b if 0 <= b < dt.itemsize * 8 else 0


def _shr_arith(a, b, dt):
    # XLA shifts the bits arithmetically for unsigned types too (the top bit is the sign).
    bits = dt.itemsize * 8
    if dt.kind == "u" and a >= 1 << (bits - 1):
        a -= 1 << bits
    return a >> b if 0 <= b < bits else (-1 if a < 0 else 0)


def _shr_logical(a, b, dt):
    bits = dt.itemsize * 8
    return (a % (1 << bits)) >> b if 0 <= b < bits else 0


def convert_ref(x, dst):
    dst = np.dtype(dst)
    if dst == BOOL:
        return x != 0
    if x.dtype.kind == "f" and dst.kind in "iu":
        info = np.iinfo(dst)

        def one(v):
            if math.isnan(v):
                return 0
            if math.isinf(v):
                return info.max if v > 0 else info.min
            return min(max(math.trunc(v), info.min), info.max)

        return np.array([one(v) for v in x.ravel().tolist()], dst).reshape(x.shape)
    return x.astype(dst)


def dot_ref(dn, out=None):
    (xc, yc), (xb, yb) = dn

    def ref(x, y):
        letters = iter("abcdefghij")
        xs = [next(letters) for _ in range(x.ndim)]
        ys = [next(letters) for _ in range(y.ndim)]
        for a, b in list(zip(xc, yc)) + list(zip(xb, yb)):
            ys[b] = xs[a]
        free_x = [xs[i] for i in range(x.ndim) if i not in xc and i not in xb]
        free_y = [ys[i] for i in range(y.ndim) if i not in yc and i not in yb]
        spec = f"{''.join(xs)},{''.join(ys)}->{''.join([xs[i] for i in xb] + free_x + free_y)}"
        acc = np.float64 if x.dtype.kind == "f" else np.int64
        r = np.einsum(spec, x.astype(acc), y.astype(acc))
        if x.dtype == BOOL:
            r = r > 0
        return r.astype(out or x.dtype)

    return ref


def pad_ref(config):
    def ref(x, v):
        out_shape = [lo + hi + d + max(d - 1, 0) * it for d, (lo, hi, it) in zip(x.shape, config)]
        out = np.full(out_shape, v, x.dtype)
        for src in np.ndindex(*x.shape):
            dst = tuple(lo + i * (it + 1) for i, (lo, _, it) in zip(src, config))
            if all(0 <= j < n for j, n in zip(dst, out_shape)):
                out[dst] = x[src]
        return out

    return ref


def dynamic_slice_ref(sizes):
    def ref(x, *starts):
        # lax's: a negative start counts from the end (as JAX), then clamped to fit
        st = [
            min(max(int(s) + d * (int(s) < 0), 0), d - z) for s, d, z in zip(starts, x.shape, sizes)
        ]
        return x[tuple(slice(s, s + z) for s, z in zip(st, sizes))].copy()

    return ref


def dynamic_update_slice_ref(x, u, *starts):
    st = [
        min(max(int(s) + d * (int(s) < 0), 0), d - z) for s, d, z in zip(starts, x.shape, u.shape)
    ]
    out = x.copy()
    out[tuple(slice(s, s + z) for s, z in zip(st, u.shape))] = u
    return out


def reduce_ref(fn, identity=None):
    def ref(x, axes):
        if x.size == 0 and identity is not None:
            shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
            return np.full(shape, identity(x.dtype), x.dtype)
        acc = np.float64 if x.dtype.kind == "f" else None
        return np.asarray(fn(x.astype(acc) if acc else x, axis=axes)).astype(x.dtype)

    return ref


def _lowest(dt):
    return -np.inf if dt.kind == "f" else (False if dt == BOOL else np.iinfo(dt).min)


def _all_ones(dt):
    return np.invert(np.zeros((), dt))


def _highest(dt):
    return np.inf if dt.kind == "f" else (True if dt == BOOL else np.iinfo(dt).max)


def cum_ref(ufunc, reverse=False):
    def ref(x, axis=0):
        y = np.flip(x, axis) if reverse else x
        acc = np.float64 if x.dtype.kind == "f" else x.dtype
        r = ufunc.accumulate(y.astype(acc), axis=axis).astype(x.dtype)
        return np.flip(r, axis) if reverse else r

    return ref


def same_size(dtype):
    """The numeric dtypes a bitcast from `dtype` can produce."""
    return [d for d in NUM if d.itemsize == np.dtype(dtype).itemsize]


def sort_multi_ref(num_keys):
    def ref(*ops):
        # Sort along the last axis, row by row, by the first num_keys operands (stable).
        out = [np.empty_like(o) for o in ops]
        for idx in np.ndindex(*ops[0].shape[:-1]):
            rows = [o[idx] for o in ops]
            perm = sorted(range(len(rows[0])), key=lambda i: tuple(r[i] for r in rows[:num_keys]))
            for o, r in zip(out, rows):
                o[idx] = r[perm]
        return tuple(out)

    return ref


# ---- the table ------------------------------------------------------------------------------

UNARY_SHAPES = (((),), ((5,),), ((3, 4),), ((0, 3),))
BINARY_SHAPES = (((), ()), ((5,), (5,)), ((3, 4), ()), ((), (2, 3)), ((2, 0), (2, 0)))
T32 = 1e-5  # float32 tolerance of transcendental functions against a float64 reference


def _reduce_precision_ref(x, exponent_bits, mantissa_bits):
    """Round to nearest even by exact rational arithmetic (Python floats hold every input): the
    grid of the narrow format, overflow to inf, below its smallest normal to zero, NaN kept."""
    bias = 2 ** (exponent_bits - 1) - 1
    tiny, top = 2.0 ** (1 - bias), (2 - 2.0**-mantissa_bits) * 2.0**bias
    out = []
    for v in x.ravel().tolist():
        if math.isnan(v) or math.isinf(v) or v == 0:
            out.append(v)
            continue
        step = 2.0 ** (math.frexp(abs(v))[1] - 1 - mantissa_bits)
        r = math.copysign(round(abs(v) / step) * step, v)  # Python's round: ties to even
        if abs(r) > top:
            r = math.copysign(math.inf, v)
        elif abs(r) < tiny:
            r = math.copysign(0.0, v)
        out.append(r)
    return np.array(out, x.dtype).reshape(x.shape)


def unary(name, fn, ref, dtypes, domain="any", tol=T32):
    return Spec(name, fn, ref, dtypes, UNARY_SHAPES, (domain,), tol)


def binary(name, fn, ref, dtypes, domain=("any",), tol=0.0):
    return Spec(name, fn, ref, dtypes, BINARY_SHAPES, domain, tol)


# fmt: off
SPECS = [
    unary("neg", lax.neg, same(np.negative), NUM, tol=0),
    unary("sign", lax.sign, _sign_ref, NUM, tol=0),
    unary("abs", lax.abs, same(np.abs), NUM, tol=0),
    unary("exp", lax.exp, f64(np.exp), FLOATS),
    unary("exp2", lax.exp2, f64(np.exp2), FLOATS),
    unary("log", lax.log, f64(np.log), FLOATS, "pos"),
    unary("log1p", lax.log1p, f64(np.log1p), FLOATS, "pos"),
    unary("expm1", lax.expm1, f64(np.expm1), FLOATS),
    unary("tanh", lax.tanh, f64(np.tanh), FLOATS),
    unary("logistic", lax.logistic, f64(lambda x: 1 / (1 + np.exp(-x))), FLOATS),
    unary("sin", lax.sin, f64(np.sin), FLOATS),
    unary("cos", lax.cos, f64(np.cos), FLOATS),
    unary("tan", lax.tan, f64(np.tan), FLOATS, "unit"),
    unary("asin", lax.asin, f64(np.arcsin), FLOATS, "unit"),
    unary("acos", lax.acos, f64(np.arccos), FLOATS, "unit"),
    unary("atan", lax.atan, f64(np.arctan), FLOATS),
    unary("sinh", lax.sinh, f64(np.sinh), FLOATS),
    unary("cosh", lax.cosh, f64(np.cosh), FLOATS),
    unary("asinh", lax.asinh, f64(np.arcsinh), FLOATS),
    unary("acosh", lax.acosh, f64(np.arccosh), FLOATS, "ge1"),
    unary("atanh", lax.atanh, f64(np.arctanh), FLOATS, "unit"),
    unary("sqrt", lax.sqrt, f64(np.sqrt), FLOATS, "pos"),
    unary("rsqrt", lax.rsqrt, f64(lambda x: 1 / np.sqrt(x)), FLOATS, "pos"),
    unary("cbrt", lax.cbrt, f64(np.cbrt), FLOATS),
    unary("erf", lax.erf, f64(np.vectorize(math.erf, otypes=[float])), FLOATS),
    unary("erf_inv", lax.erf_inv, f64(_erf_inv_ref), FLOATS, "unit", tol=3e-5),
    unary("floor", lax.floor, same(np.floor), FLOATS, tol=0),
    unary("ceil", lax.ceil, same(np.ceil), FLOATS, tol=0),
    unary("round", lax.round, same(_round_ref), FLOATS, tol=0),
    unary("round", lambda x: lax.round(x, 1), same(np.rint), FLOATS, tol=0),
    unary("is_finite", lax.is_finite, same(np.isfinite), FLOATS, tol=0),
    unary("not", lax.bitwise_not, same(np.invert), INT_BOOL, tol=0),
    unary("copy", lax.copy, same(np.copy), ALL, tol=0),
    unary("stop_gradient", lambda x: lax.stop_gradient_p.bind(x), same(np.copy), ALL, tol=0),
    *[
        unary("integer_pow", lambda x, y=y: lax.integer_pow(x, y), same(lambda x, y=y: x**y),
              NUM, "small", tol=1e-6)
        for y in (0, 1, 2, 3, 5)
    ],
    unary("integer_pow", lambda x: lax.integer_pow(x, -2), f64(lambda x: x**-2.0), FLOATS,
          "nonzero", tol=1e-6),
    *[
        unary("reduce_precision", lambda x, e=e, m=m: lax.reduce_precision(x, e, m),
              same(lambda x, e=e, m=m: _reduce_precision_ref(x, e, m)), FLOATS, tol=0)
        for e, m in ((5, 10), (8, 7), (2, 1))
    ],
    binary("add", lax.add, same(np.add), NUM),
    binary("sub", lax.sub, same(np.subtract), NUM),
    binary("mul", lax.mul, same(np.multiply), NUM),
    binary("div", lax.div, by_kind(f64(np.true_divide),
                                   pyint(lambda a, b, dt: 0 if b == 0 else tdiv(a, b))), NUM),
    binary("rem", lax.rem, by_kind(f64(np.fmod),
                                   pyint(lambda a, b, dt: 0 if b == 0 else a - b * tdiv(a, b))),
           NUM),
    binary("pow", lax.pow, f64(np.power), FLOATS, ("pos", "any"), 1e-5),
    binary("pow", lax.pow, pyint(_pow_int), INTS, ("small", "any")),
    binary("max", lax.max, same(np.maximum), NUM_BOOL),
    binary("min", lax.min, same(np.minimum), NUM_BOOL),
    binary("add_any", lax.add_any, same(np.add), NUM),
    binary("atan2", lax.atan2, f64(np.arctan2), FLOATS, tol=T32),
    binary("nextafter", lax.nextafter, same(np.nextafter), FLOATS),
    binary("and", lax.bitwise_and, same(np.bitwise_and), INT_BOOL),
    binary("or", lax.bitwise_or, same(np.bitwise_or), INT_BOOL),
    binary("xor", lax.bitwise_xor, same(np.bitwise_xor), INT_BOOL),
    binary("shift_left", lax.shift_left, pyint(_shl), INTS, ("any", "shift")),
    binary("shift_right_arithmetic", lax.shift_right_arithmetic, pyint(_shr_arith), INTS,
           ("any", "shift")),
    binary("shift_right_logical", lax.shift_right_logical, pyint(_shr_logical), INTS,
           ("any", "shift")),
    binary("eq", lax.eq, same(np.equal), ALL),
    binary("ne", lax.ne, same(np.not_equal), ALL),
    binary("lt", lax.lt, same(np.less), ALL),
    binary("le", lax.le, same(np.less_equal), ALL),
    binary("gt", lax.gt, same(np.greater), ALL),
    binary("ge", lax.ge, same(np.greater_equal), ALL),
    Spec("select_n", lax.select_n, lambda p, a, b: np.where(p, b, a), ALL,
         (((3, 4), (3, 4), (3, 4)), ((), (2,), (2,))), ("pred", "any")),
    Spec("select_n", lax.select_n, lambda w, *cs: np.choose(w, cs), ALL,
         (((3, 4),) * 4,), ("which3", "any")),
    Spec("clamp", lax.clamp, lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi), NUM_BOOL,
         (((), (3, 4), ()), ((5,), (5,), (5,)), ((), (5,), (5,)))),
    Spec("convert_element_type", lambda x: tuple(lax.convert_element_type(x, d) for d in ALL),
         lambda x: tuple(convert_ref(x, d) for d in ALL), ALL, (((40,),), ((),)), ("convert",)),
    Spec("bitcast_convert_type",
         lambda x: tuple(lax.bitcast_convert_type(x, d) for d in same_size(x.dtype)),
         lambda x: tuple(x.view(d) for d in same_size(x.dtype)), NUM, (((3, 4),), ((),))),
    *[
        Spec(name, lambda x, axes=axes, f=f: f(x, axes), lambda x, axes=axes, r=r: r(x, axes),
             dtypes, (((2, 3, 4),), ((0, 3, 2),)), ("any",), 1e-5)
        for axes in [(0,), (1, 2), (0, 1, 2), ()]
        for name, f, r, dtypes in [
            ("reduce_sum", lax.reduce_sum, reduce_ref(np.sum), NUM),
            ("reduce_prod", lax.reduce_prod, reduce_ref(np.prod), NUM),
            ("reduce_max", lax.reduce_max, reduce_ref(np.max, _lowest), NUM_BOOL),
            ("reduce_min", lax.reduce_min, reduce_ref(np.min, _highest), NUM_BOOL),
            ("reduce_and", lax.reduce_and, reduce_ref(np.bitwise_and.reduce, _all_ones), INT_BOOL),
            ("reduce_or", lax.reduce_or, reduce_ref(np.bitwise_or.reduce, lambda d: 0), INT_BOOL),
        ]
        if axes != (0, 1, 2) or name in ("reduce_sum", "reduce_max")
    ],
    *[
        Spec(name, lambda x, a=axis, f=f: f(x, a), lambda x, a=axis, r=r: r(x, axis=a).astype(I32),
             NUM_BOOL, (((3, 4),), ((1, 5),)))
        for axis in (0, 1)
        for name, f, r in [("argmax", lax.argmax, np.argmax), ("argmin", lax.argmin, np.argmin)]
    ],
    Spec("argmax", lambda x: lax.argmax(x, 1, np.int64), lambda x: np.argmax(x, 1), FLOATS,
         (((3, 4),),)),
    *[
        Spec(name, lambda x, a=axis, rv=rv, f=f: f(x, a, rv),
             lambda x, a=axis, rv=rv, u=u: cum_ref(u, rv)(x, a), NUM,
             (((3, 4),), ((0, 2),)), ("small",), 1e-5)
        for axis in (0, 1)
        for rv in (False, True)
        for name, f, u in [
            ("cumsum", lax.cumsum, np.add), ("cumprod", lax.cumprod, np.multiply),
            ("cummax", lax.cummax, np.maximum), ("cummin", lax.cummin, np.minimum),
        ]  # fmt: skip
    ],
    Spec("broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (2, 3, 4), (1, 2)),
         lambda x: np.broadcast_to(x, (2, 3, 4)).copy(), ALL, (((3, 4),), ((1, 4),), ((3, 1),))),
    Spec("broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (2, 3), ()),
         lambda x: np.full((2, 3), x), ALL, (((),),)),
    Spec("reshape", lambda x: lax.reshape(x, (4, 3)), lambda x: x.reshape(4, 3), ALL,
         (((3, 4),), ((12,),), ((2, 6),))),
    Spec("reshape", lambda x: lax.reshape(x, ()), lambda x: x.reshape(()), ALL, (((1, 1),),)),
    Spec("transpose", lambda x: lax.transpose(x, (2, 0, 1)), lambda x: x.transpose(2, 0, 1),
         ALL, (((2, 3, 4),), ((0, 1, 2),))),
    Spec("transpose", lambda x: lax.transpose(x, (0, 1)), lambda x: x.copy(), ALL, (((2, 3),),)),
    Spec("squeeze", lambda x: lax.squeeze(x, (0, 2)), lambda x: x.squeeze((0, 2)), ALL,
         (((1, 3, 1),),)),
    Spec("squeeze", lambda x: lax.squeeze(x, (-1,)), lambda x: x[..., 0], ALL, (((2, 1),),)),
    Spec("expand_dims", lambda x: lax.expand_dims(x, (0, 2)), lambda x: np.expand_dims(x, (0, 2)),
         ALL, (((3, 4),), ((3,),))),
    Spec("rev", lambda x: lax.rev(x, (0, 2)), lambda x: np.flip(x, (0, 2)), ALL,
         (((2, 3, 4),), ((0, 1, 1),))),
    Spec("concatenate", lambda *xs: lax.concatenate(xs, 1), lambda *xs: np.concatenate(xs, 1),
         ALL, (((2, 3), (2, 1), (2, 0)), ((2, 2),))),
    *[
        Spec("pad", lambda x, v, c=c: lax.pad(x, v, c), pad_ref(c), ALL, ((shape, ()),))
        for shape, c in [
            ((3,), ((1, 2, 0),)),
            ((3, 4), ((0, 0, 1), (2, -1, 0))),
            ((4,), ((-2, -1, 2),)),
            ((0, 2), ((1, 1, 3), (0, 0, 0))),
        ]
    ],
    Spec("slice", lambda x: lax.slice(x, (1, 0), (3, 4), (1, 2)), lambda x: x[1:3, 0:4:2], ALL,
         (((3, 5),),)),
    Spec("slice", lambda x: lax.slice(x, (0,), (4,)), lambda x: x.copy(), ALL, (((4,),),)),
    Spec("dynamic_slice", lambda x, i, j: lax.dynamic_slice(x, (i, j), (2, 3)),
         dynamic_slice_ref((2, 3)), ALL, (((4, 5), (), ()),), ("any", "start")),
    Spec("dynamic_update_slice", lambda x, u, i, j: lax.dynamic_update_slice(x, u, (i, j)),
         dynamic_update_slice_ref, ALL, (((4, 5), (2, 3), (), ()),), ("any", "any", "start")),
    Spec("iota", lambda d: lax.broadcasted_iota(d.dtype, (3, 4), 1),
         lambda d: np.broadcast_to(np.arange(4, dtype=d.dtype), (3, 4)), NUM, (((),),)),
    Spec("iota", lambda d: lax.iota(d.dtype, 5), lambda d: np.arange(5, dtype=d.dtype), NUM,
         (((),),)),
    *[
        Spec("dot_general", lambda x, y, dn=dn: lax.dot_general(x, y, dn), dot_ref(dn), ALL,
             (shapes,), ("small",), 1e-5)
        for dn, shapes in [
            ((((1,), (0,)), ((), ())), ((3, 4), (4, 5))),
            ((((2,), (1,)), ((0,), (0,))), ((2, 3, 4), (2, 4, 5))),
            ((((0,), (0,)), ((), ())), ((4,), (4,))),
            ((((0, 2), (1, 0)), ((), ())), ((2, 3, 4), (4, 2, 5))),
            ((((1,), (0,)), ((), ())), ((3, 0), (0, 2))),
        ]
    ],
    Spec("dot_general",
         lambda x, y: lax.dot_general(x, y, (((1,), (0,)), ((), ())), preferred_element_type=F64),
         dot_ref((((1,), (0,)), ((), ())), F64), (I32, F32), (((3, 4), (4, 2)),), ("small",),
         1e-12),
    Spec("sort", lambda x: lax.sort(x, dimension=0), lambda x: np.sort(x, 0, kind="stable"), ALL,
         (((5, 3),), ((0,),))),
    Spec("sort", lambda x: lax.sort(x), lambda x: np.sort(x, -1, kind="stable"), ALL,
         (((3, 6),),), ("small",)),
    Spec("sort", lambda k, v: lax.sort((k, v), num_keys=1), sort_multi_ref(1), ALL,
         (((3, 6), (3, 6)),), ("small",)),
    Spec("sort", lambda a, b, c: lax.sort((a, b, c), num_keys=2), sort_multi_ref(2), ALL,
         (((2, 7),) * 3,), ("small",)),
]
# fmt: on

SPEC_NAMES = {s.name for s in SPECS}
PRIMS = {p.name: p for p in ALL_PRIMITIVES}
CASES = [(s, dt) for s in SPECS for dt in s.dtypes]
# A primitive supports the union of its lines' dtypes; one line of each is run on the others.
SUPPORTED = {n: {dt for s in SPECS if s.name == n for dt in s.dtypes} for n in SPEC_NAMES}
FIRST = {n: next(s for s in SPECS if s.name == n) for n in SPEC_NAMES}
UNSUPPORTED = [(FIRST[n], dt) for n in sorted(SPEC_NAMES) for dt in ALL if dt not in SUPPORTED[n]]


def case_id(c):
    s, dt = c
    return f"{s.name}-{SPECS.index(s)}-{dt.name}"


# ---- the table is complete ------------------------------------------------------------------


def test_every_primitive_is_in_the_table():
    missing = sorted(set(PRIMS) - SPEC_NAMES - set(TESTED_ELSEWHERE))
    assert not missing, f"primitives without a line in SPECS: {missing}"


def test_the_table_names_only_real_primitives():
    assert not SPEC_NAMES - set(PRIMS), SPEC_NAMES - set(PRIMS)
    assert not set(TESTED_ELSEWHERE) & SPEC_NAMES


def test_primitives_tested_elsewhere_are_tested_there():
    root = pathlib.Path(__file__).resolve().parent.parent
    for name, path in TESTED_ELSEWHERE.items():
        if name in PRIMS:
            f = root / path
            assert f.exists(), f"{name} is said to be tested in {path}, which does not exist"
            assert name in f.read_text() or name.replace("-", "_") in f.read_text(), (name, path)


def test_primitive_names_are_unique():
    names = [p.name for p in ALL_PRIMITIVES]
    assert len(names) == len(set(names))


# ---- values, dtypes and abstract eval agree ---------------------------------------------------


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _check_close(got: np.ndarray, want: np.ndarray, tol: float, what: str):
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, reference {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, reference {want.shape}"
    if got.dtype.kind == "f" and tol:
        rtol = tol if got.dtype == F32 else tol * 1e-7
        atol = rtol * 1e-1
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


@pytest.mark.parametrize("spec, dtype", CASES, ids=map(case_id, CASES))
def test_primitive_matches_reference(spec: Spec, dtype):
    prim = PRIMS[spec.name]
    for i, shapes in enumerate(spec.shapes):
        args = make_args(spec, shapes, dtype, seed=i)
        saved = [np.copy(a) for a in args]
        what = f"{spec.name} on {[f'{a.dtype}{list(np.shape(a))}' for a in args]}"
        outs = _flat(spec.fn(*args))
        wants = _flat(spec.ref(*args))
        assert len(outs) == len(wants), what
        for out, want in zip(outs, wants):
            assert type(out) is jaxlite.Array, what
            _check_close(np.asarray(out), np.asarray(want), spec.tol, what)
            for a in args:  # results never alias a caller's (writable) NumPy buffer
                assert not np.shares_memory(np.asarray(out), a), what
        for a, s in zip(args, saved):
            np.testing.assert_array_equal(a, s, err_msg=f"{what}: input mutated")

        # The staged jaxpr's types come from the abstract eval: they must match the impl's.
        closed = jaxlite.make_jaxpr(spec.fn)(*args)
        assert any(e.primitive is prim for e in closed.eqns), f"{what}: {prim} not in {closed}"
        core.typecheck_jaxpr(closed.jaxpr)
        for out, aval in zip(outs, closed.out_avals):
            assert (out.shape, out.dtype) == (aval.shape, aval.dtype), f"{what}: {aval}"
        # eval_jaxpr of the staged program gives the eager result.
        for out, again in zip(outs, core.eval_jaxpr(closed.jaxpr, closed.consts, *args)):
            np.testing.assert_array_equal(np.asarray(again), np.asarray(out), err_msg=what)


@pytest.mark.parametrize("spec, dtype", UNSUPPORTED, ids=map(case_id, UNSUPPORTED))
def test_unsupported_dtype_is_a_type_error_naming_the_primitive(spec: Spec, dtype):
    args = make_args(spec, spec.shapes[0], dtype)
    with pytest.raises(TypeError, match=spec.name):
        jaxlite.make_jaxpr(spec.fn)(*args)


# ---- scalar broadcasting of binary lax ops (hypothesis) -------------------------------------

BINARY_SPECS = [s for s in SPECS if s.shapes is BINARY_SHAPES and s.name != "add_any"]
small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)


@given(
    spec=st.sampled_from(BINARY_SPECS),
    dtype_index=st.integers(0, 6),
    sx=small_shapes,
    sy=small_shapes,
    seed=st.integers(0, 2**16),
)
def test_binary_ops_broadcast_rank_0_operands_only(spec, dtype_index, sx, sy, seed):
    dtype = spec.dtypes[dtype_index % len(spec.dtypes)]
    rng = np.random.default_rng(seed)
    doms = spec.domain + spec.domain[-1:]
    x, y = make_arg(rng, sx, dtype, doms[0]), make_arg(rng, sy, dtype, doms[1])
    if sx == sy or sx == () or sy == ():
        out = spec.fn(x, y)
        _check_close(np.asarray(out), spec.ref(x, y), spec.tol, spec.name)
        assert out.shape == (sy if sx == () else sx)
    else:
        # The staged rule is lax's contract: no NumPy-style broadcasting of non-scalars.
        with pytest.raises(TypeError, match=rf"{spec.name} got incompatible shapes"):
            jaxlite.make_jaxpr(spec.fn)(x, y)


@given(name=st.sampled_from(["add", "mul", "max", "lt", "sub"]), sx=small_shapes, sy=small_shapes)
def test_eager_binary_ops_reject_what_numpy_cannot_broadcast(name, sx, sy):
    x, y = np.zeros(sx, np.float32), np.zeros(sy, np.float32)
    try:
        np.broadcast_shapes(sx, sy)
    except ValueError:
        with pytest.raises(TypeError, match=rf"{name} got incompatible shapes"):
            getattr(lax, name)(x, y)


def test_eager_lax_ops_apply_the_shape_and_dtype_rules():
    # NumPy would broadcast, promote or convert; lax refuses eagerly exactly as under tracing.
    with pytest.raises(TypeError, match="add got incompatible shapes"):
        lax.add(np.ones((3, 1), np.float32), np.ones(3, np.float32))
    with pytest.raises(TypeError, match="add requires arguments to have the same dtypes"):
        lax.add(np.ones(3, np.float32), np.ones(3, np.float64))
    with pytest.raises(TypeError, match="sin does not accept dtype int32"):
        lax.sin(np.ones(3, np.int32))
    with pytest.raises(TypeError, match="lt requires arguments to have the same dtypes"):
        lax.lt(np.ones(3, np.int32), np.ones(3, np.int64))


def test_python_scalars_take_the_array_dtype_and_stay_weak():
    # jaxlite's internal wrappers (jaxlite.primitives) promote a Python scalar to the array's
    # dtype; the public `lax` requires one dtype as JAX does (a Python scalar counts as the
    # mode's default int/float), so mixing raises there.
    from jaxlite import lax as public_lax
    from jaxlite import primitives as lax

    x = np.arange(3, dtype=np.float32)
    with pytest.raises(TypeError, match="lax.add requires arguments to have the same dtypes"):
        public_lax.add(x, 1)
    with jaxlite.enable_x64(False):
        assert public_lax.mul(2.5, x).dtype == F32  # a weak f32 with x64 off, as JAX
    for out in (lax.add(x, 1), lax.mul(2.5, x), lax.max(x, 1.0)):
        assert out.dtype == F32 and not out.weak_type
    w = lax.add(1.0, 2.0)
    assert w.dtype == F64 and w.weak_type and float(w) == 3.0
    assert lax.add(np.int32(1), 2).dtype == I32
    with pytest.raises(TypeError, match="float"):
        lax.add(np.arange(3, dtype=np.int32), 1.5)
    with pytest.raises(OverflowError, match="uint8"):
        lax.add(np.arange(3, dtype=np.uint8), 300)


def test_lax_requires_equal_dtypes_under_tracing():
    f = jaxlite.make_jaxpr(lax.add)
    with pytest.raises(TypeError, match="add requires arguments to have the same dtypes.*float32"):
        f(np.ones(3, np.float32), np.ones(3, np.float64))


# ---- special values of float ops --------------------------------------------------------------

SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1e-30, 1e30])

UNARY_FLOAT_SPECS = [
    s for s in SPECS
    if s.shapes is UNARY_SHAPES and F32 in s.dtypes and s.name not in ("integer_pow",)
]  # fmt: skip


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("spec", UNARY_FLOAT_SPECS, ids=lambda s: s.name)
def test_unary_special_values(spec, dtype):
    x = SPECIALS.astype(dtype)
    with np.errstate(all="ignore"):
        want = np.asarray(spec.ref(x))
    got = np.asarray(spec.fn(x))
    _check_close(got, want, spec.tol, f"{spec.name}({x})")
    zero = (want == 0) & (got == 0)
    np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]), spec.name)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_binary_special_values(dtype):
    a, b = np.meshgrid(SPECIALS.astype(dtype), SPECIALS.astype(dtype))
    for name, fn, ref in [
        ("add", lax.add, np.add), ("mul", lax.mul, np.multiply), ("div", lax.div, np.divide),
        ("rem", lax.rem, np.fmod), ("max", lax.max, np.maximum), ("min", lax.min, np.minimum),
        ("pow", lax.pow, np.power), ("atan2", lax.atan2, np.arctan2),
        ("eq", lax.eq, np.equal), ("lt", lax.lt, np.less), ("ne", lax.ne, np.not_equal),
    ]:  # fmt: skip
        with np.errstate(all="ignore"):
            want = ref(a, b)
        got = np.asarray(fn(a, b))
        _check_close(got, want, 0, name)
        if got.dtype.kind == "f":
            zero = (want == 0) & (got == 0)
            np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]), name)


def test_max_min_propagate_nan_and_order_signed_zeros_like_numpy():
    nan = np.float32(np.nan)
    assert np.isnan(lax.max(nan, np.float32(1))) and np.isnan(lax.min(np.float32(1), nan))
    assert np.isnan(lax.reduce_max(np.array([1, np.nan, 3], np.float32), (0,)))


def test_clamp_with_nan_and_reversed_bounds():
    x = np.array([np.nan, -5, 5, 0.5], np.float32)
    np.testing.assert_array_equal(lax.clamp(np.float32(0), x, np.float32(1)), [np.nan, 0, 1, 0.5])
    np.testing.assert_array_equal(lax.clamp(np.float32(2), x[1:], np.float32(1)), [1, 1, 1])


def test_empty_reductions_give_the_identity():
    e = np.zeros((0, 3), np.float32)
    np.testing.assert_array_equal(lax.reduce_sum(e, (0,)), [0, 0, 0])
    np.testing.assert_array_equal(lax.reduce_prod(e, (0,)), [1, 1, 1])
    np.testing.assert_array_equal(lax.reduce_max(e, (0,)), [-np.inf] * 3)
    np.testing.assert_array_equal(lax.reduce_min(e.astype(np.int32), (0,)), [2**31 - 1] * 3)
    np.testing.assert_array_equal(lax.reduce_and(e.astype(bool), (0,)), [True] * 3)
    with pytest.raises(ValueError, match="argmax.*empty"):
        jaxlite.make_jaxpr(lambda x: lax.argmax(x, 0))(e)


def test_argmax_and_argmin_return_the_first_nan_or_extremum():
    x = np.array([1.0, np.nan, 3.0, np.nan], np.float32)
    assert int(lax.argmax(x, 0)) == 1 and int(lax.argmin(x, 0)) == 1
    assert int(lax.argmax(np.array([2, 7, 7], np.int32), 0)) == 1


def test_sort_puts_nan_last():
    x = np.array([3.0, np.nan, -np.inf, 1.0, np.inf], np.float32)
    np.testing.assert_array_equal(lax.sort(x), [-np.inf, 1, 3, np.inf, np.nan])


# ---- integer semantics ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [I8, I16, I32, I64], ids=str)
def test_integer_div_rem_round_toward_zero(dtype):
    x = np.array([7, -7, 7, -7, 0, 6, -6], dtype)
    y = np.array([2, 2, -2, -2, 3, 4, -4], dtype)
    np.testing.assert_array_equal(lax.div(x, y), [3, -3, -3, 3, 0, 1, 1])
    np.testing.assert_array_equal(lax.rem(x, y), [1, -1, 1, -1, 0, 2, -2])


@pytest.mark.parametrize("dtype", INTS, ids=str)
def test_integer_division_by_zero_is_zero(dtype):
    x = np.array([0, 1, 5, np.iinfo(dtype).max], dtype)
    z = np.zeros(4, dtype)
    np.testing.assert_array_equal(lax.div(x, z), z)
    np.testing.assert_array_equal(lax.rem(x, z), z)


@pytest.mark.parametrize("dtype", [I8, I16, I32, I64], ids=str)
def test_int_min_divided_by_minus_one_wraps(dtype):
    lo = np.iinfo(dtype).min
    x, m1 = np.array([lo, lo], dtype), np.array([-1, 1], dtype)
    np.testing.assert_array_equal(lax.div(x, m1), [lo, lo])
    np.testing.assert_array_equal(lax.rem(x, m1), [0, 0])
    np.testing.assert_array_equal(lax.neg(x), x)
    np.testing.assert_array_equal(lax.abs(x), x)


@pytest.mark.parametrize("dtype", INTS, ids=str)
def test_shifts_past_the_width(dtype):
    bits = dtype.itemsize * 8
    one, neg = np.array([1, 5], dtype), np.array([1, 5], dtype)
    if dtype.kind == "i":
        neg = np.array([-1, -8], dtype)
    for s in (bits, bits + 1, 1000 % np.iinfo(dtype).max):
        amount = np.array([s, s], dtype)
        np.testing.assert_array_equal(lax.shift_left(one, amount), [0, 0])
        np.testing.assert_array_equal(lax.shift_right_logical(neg, amount), [0, 0])
        fill = -1 if dtype.kind == "i" else 0
        np.testing.assert_array_equal(lax.shift_right_arithmetic(neg, amount), [fill, fill])
    last = np.array([bits - 1, bits - 1], dtype)
    np.testing.assert_array_equal(
        lax.shift_left(one, last)[0], np.array(1 << (bits - 1)).astype(dtype)
    )
    if dtype.kind == "i":
        np.testing.assert_array_equal(lax.shift_right_logical(neg, last), [1, 1])
        np.testing.assert_array_equal(lax.shift_left(one, np.array([-1, -1], dtype)), [0, 0])


def test_integer_pow_with_negative_exponents():
    x = np.array([-2, -1, 0, 1, 2, 3], np.int32)
    np.testing.assert_array_equal(lax.pow(x, np.full(6, -1, np.int32)), [0, -1, 0, 1, 0, 0])
    np.testing.assert_array_equal(lax.pow(x, np.full(6, -2, np.int32)), [0, 1, 0, 1, 0, 0])
    with pytest.raises(TypeError, match="integer_pow.*negative"):
        jaxlite.make_jaxpr(lambda x: lax.integer_pow(x, -1))(x)


@pytest.mark.parametrize("src", FLOATS, ids=str)
@pytest.mark.parametrize("dst", INTS, ids=str)
def test_float_to_int_conversion_saturates_and_maps_nan_to_zero(src, dst):
    info = np.iinfo(dst)
    x = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 2.0**63, -(2.0**63), 2.0**31, -0.9,
                  0.9, -1.5, 254.6, float(info.max), float(info.min)], src)  # fmt: skip
    got = np.asarray(lax.convert_element_type(x, dst))
    np.testing.assert_array_equal(got, convert_ref(x, dst))
    assert got[1] == info.max and got[2] == info.min and got[0] == 0


def test_int_to_narrower_int_wraps_and_to_bool_tests_nonzero():
    x = np.array([256, 257, -1, 2**31], np.int64)
    np.testing.assert_array_equal(lax.convert_element_type(x, np.uint8), [0, 1, 255, 0])
    np.testing.assert_array_equal(lax.convert_element_type(x, np.int32), [256, 257, -1, -(2**31)])
    f = np.array([0.0, -0.0, 0.1, np.nan], np.float32)
    np.testing.assert_array_equal(lax.convert_element_type(f, bool), [False, False, True, True])


def test_float32_stays_float32():
    x = np.linspace(-1, 1, 7, dtype=np.float32)
    for fn in (lax.sin, lax.exp, lax.logistic, lax.erf, lambda x: lax.mul(x, 0.5),
               lambda x: lax.integer_pow(x, 3), lambda x: lax.pow(x, np.float32(2)),
               lambda x: lax.reduce_sum(x, (0,)), lambda x: lax.cumsum(x)):  # fmt: skip
        assert fn(x).dtype == F32


# Regression: eagerly, the impls zipped the shape with too few indices and returned a slice of
# the leading dimensions (or broadcast the update into it), where jit raised. Both must raise
# the shape rule's error.
SHORT_INDEX_CALLS = {
    "slice": lambda x: lax.slice(x, (0,), (1,)),
    "slice strides": lambda x: lax.slice(x, (0, 0), (1, 1), (1,)),
    "dynamic_slice": lambda x: lax.dynamic_slice(x, [0], [1]),
    "dynamic_slice sizes": lambda x: lax.dynamic_slice(x, [0, 0], [1]),
    "dynamic_update_slice": lambda x: lax.dynamic_update_slice(x, np.ones((1, 1)), [0]),
}


@pytest.mark.parametrize("route", ["eager", "jit"])
@pytest.mark.parametrize("name", sorted(SHORT_INDEX_CALLS))
def test_too_few_indices_raise_eagerly_as_under_jit(name, route):
    f = SHORT_INDEX_CALLS[name]
    call = f if route == "eager" else jaxlite.jit(f)
    prim = name.split()[0]
    with pytest.raises(TypeError, match=rf"^{prim}: .*\(2, 3\)"):
        call(np.arange(6.0).reshape(2, 3))
