"""jnp elementwise functions against NumPy: a data table crossed with dtypes, result dtypes under
NumPy 2 promotion, broadcasting shapes (hypothesis), and every function under make_jaxpr (the
staged jaxpr evaluated with eval_jaxpr must give the eager result).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.test_jax_promotion import jax_promote

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core

DTYPES = [np.bool_, np.uint8, np.uint32, np.int32, np.int64, np.float32, np.float64]
SUPPORTED = {np.dtype(d) for d in DTYPES}
INTS = [np.uint8, np.uint32, np.int32, np.int64]
FLOATS = [np.float32, np.float64]


class Case(NamedTuple):
    name: str
    ref: Callable
    nargs: int = 1
    domain: str = "any"  # any | pos | unit | ge1 | open_unit | nonzero | small
    dtypes: tuple = tuple(DTYPES)
    rtol32: float = 2e-6
    rtol64: float = 1e-13


def rand(rng, dtype, shape, domain="any"):
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return rng.random(shape) < 0.5
    if dt.kind in "iu":
        lo = 0 if dt.kind == "u" or domain in ("pos", "ge1", "nonzero") else -9
        lo = max(lo, 1) if domain in ("pos", "ge1", "nonzero") else lo
        hi = 2 if domain in ("unit", "open_unit") else 10
        if domain == "small":
            lo, hi = (0 if dt.kind == "u" else -3), 4
        v = rng.integers(lo, hi, size=shape).astype(dt)
        if domain == "nonzero":
            v = np.where(v == 0, 1, v).astype(dt)
        return v
    lo, hi = {
        "any": (-5, 5),
        "pos": (0.1, 5),
        "unit": (-1, 1),
        "ge1": (1, 5),
        "open_unit": (-0.95, 0.95),
        "nonzero": (0.5, 5),
        "small": (-3, 3),
    }[domain]
    v = rng.uniform(lo, hi, size=shape)
    if domain == "nonzero":
        v = v * np.where(rng.random(shape) < 0.5, -1, 1)
    return v.astype(dt)


# JAX's `to_inexact_dtype` (even with x64): the float dtype float functions give bool and integer
# inputs. NumPy differs (float16 for bool/uint8, float64 for int32/uint32).
JAX_INEXACT = {np.dtype(k): np.dtype(v) for k, v in [
    (np.bool_, np.float32), (np.uint8, np.float32), (np.uint32, np.float32),
    (np.int32, np.float32), (np.int64, np.float64)]}  # fmt: skip
# Functions that give ints and bools JAX's default float (float64 with x64) instead. (JAX's round
# raises for bools; jaxlite's rounds them as floats, as NumPy.)
DEFAULT_FLOAT = {"rint", "angle", "round", "around"}


def expected_dtype(ref_dtype, in_dtypes, name=None):
    """JAX's result dtype (x64) from NumPy's reference dtype and the (equal) input dtypes."""
    ref_dtype = np.dtype(ref_dtype)
    if in_dtypes and ref_dtype.kind == "f":
        ins = {np.dtype(d) for d in in_dtypes}
        if all(d.kind != "f" for d in ins) and name not in DEFAULT_FLOAT:
            return max(JAX_INEXACT[d] for d in ins)
        if name == "float_power" and np.dtype(np.float32) in ins:
            return np.dtype(np.float32)  # JAX keeps float32 (NumPy computes in float64)
    if ref_dtype == np.float16:
        return np.dtype(np.float64)
    if ref_dtype == np.uint64:
        return np.dtype(np.int64)
    return ref_dtype


def np_ref(case: Case, *xs):
    """NumPy's answer, computed in float64 where NumPy would pick float16."""
    with np.errstate(all="ignore"):
        out = case.ref(*xs)
        if isinstance(out, tuple):
            return out
        if np.asarray(out).dtype == np.float16:
            out = case.ref(*[np.asarray(x).astype(np.float64) for x in xs])
    return out


def check_close(got, want, dtype, case: Case):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    if got.dtype.kind == "f":
        rtol = case.rtol32 if got.dtype == np.float32 else case.rtol64
        np.testing.assert_allclose(
            got, want.astype(got.dtype), rtol=rtol, atol=rtol, equal_nan=True
        )
    else:
        np.testing.assert_array_equal(got, want)


def _ldexp_ref(x, n):
    return np.ldexp(x, n.astype(np.int32)) if np.asarray(n).dtype.kind in "iub" else None


UNARY = [
    Case("sin", np.sin),
    Case("cos", np.cos),
    Case("tan", np.tan, domain="unit"),
    Case("arcsin", np.arcsin, domain="unit"),
    Case("arccos", np.arccos, domain="unit"),
    Case("arctan", np.arctan),
    Case("sinh", np.sinh),
    Case("cosh", np.cosh),
    Case("tanh", np.tanh),
    Case("arcsinh", np.arcsinh),
    Case("arccosh", np.arccosh, domain="ge1"),
    Case("arctanh", np.arctanh, domain="open_unit"),
    Case("asin", np.asin, domain="unit"),
    Case("acos", np.acos, domain="unit"),
    Case("atan", np.atan),
    Case("asinh", np.asinh),
    Case("acosh", np.acosh, domain="ge1"),
    Case("atanh", np.atanh, domain="open_unit"),
    Case("exp", np.exp),
    Case("exp2", np.exp2),
    Case("expm1", np.expm1),
    Case("log", np.log, domain="pos"),
    Case("log2", np.log2, domain="pos", rtol64=1e-12),
    Case("log10", np.log10, domain="pos", rtol64=1e-12),
    Case("log1p", np.log1p, domain="pos"),
    Case("sqrt", np.sqrt, domain="pos"),
    Case("cbrt", np.cbrt),
    Case("square", np.square, dtypes=tuple(DTYPES[1:])),
    Case(
        "reciprocal",
        lambda x: (
            1.0 / np.asarray(x, np.float64) if np.asarray(x).dtype.kind != "f" else np.reciprocal(x)
        ),
        domain="nonzero",
    ),
    Case("negative", np.negative, dtypes=tuple(DTYPES[1:])),
    Case("positive", np.positive, dtypes=tuple(DTYPES[1:])),
    Case("absolute", np.absolute),
    Case("abs", np.abs),
    Case("fabs", np.fabs, dtypes=tuple(DTYPES[1:])),
    Case("sign", np.sign, dtypes=tuple(DTYPES[1:])),
    Case("signbit", np.signbit, dtypes=tuple(DTYPES[1:])),
    Case("floor", np.floor),
    Case("ceil", np.ceil),
    Case("trunc", np.trunc),
    Case("fix", np.fix),
    Case("rint", np.rint, dtypes=tuple(DTYPES[1:])),
    Case("round", np.round),
    Case("around", np.round),
    Case("deg2rad", np.deg2rad),
    Case("rad2deg", np.rad2deg),
    Case("radians", np.radians),
    Case("degrees", np.degrees),
    Case("sinc", np.sinc),
    Case("isnan", np.isnan),
    Case("isinf", np.isinf),
    Case("isfinite", np.isfinite),
    Case("isposinf", np.isposinf, dtypes=tuple(DTYPES[1:])),
    Case("isneginf", np.isneginf, dtypes=tuple(DTYPES[1:])),
    Case("logical_not", np.logical_not),
    Case("invert", np.invert, dtypes=tuple(DTYPES[:5])),
    Case("bitwise_not", np.bitwise_not, dtypes=tuple(DTYPES[:5])),
    Case("bitwise_invert", np.bitwise_invert, dtypes=tuple(DTYPES[:5])),
    Case("nan_to_num", np.nan_to_num),
    Case("conj", np.conj),
    Case("real", np.real),
    Case("imag", np.imag),
    Case("angle", np.angle, dtypes=tuple(DTYPES[1:])),
    Case("iscomplex", np.iscomplex),
    Case("isreal", np.isreal),
]

BINARY = [
    Case("add", np.add, 2),
    Case("subtract", np.subtract, 2, dtypes=tuple(DTYPES[1:])),
    Case("multiply", np.multiply, 2),
    Case("true_divide", np.true_divide, 2, "nonzero"),
    Case("divide", np.divide, 2, "nonzero"),
    Case("floor_divide", np.floor_divide, 2, "nonzero", tuple(DTYPES[1:])),
    Case("remainder", np.remainder, 2, "nonzero", tuple(DTYPES[1:])),
    Case("mod", np.mod, 2, "nonzero", tuple(DTYPES[1:])),
    Case("fmod", np.fmod, 2, "nonzero", tuple(DTYPES[1:])),
    Case("power", np.power, 2, "small", tuple(DTYPES[1:])),
    Case("pow", np.pow, 2, "small", tuple(DTYPES[1:])),
    Case("float_power", np.float_power, 2, "pos", tuple(DTYPES[1:]), rtol64=1e-12),
    Case("maximum", np.maximum, 2),
    Case("minimum", np.minimum, 2),
    Case("fmax", np.fmax, 2),
    Case("fmin", np.fmin, 2),
    Case("arctan2", np.arctan2, 2),
    Case("atan2", np.atan2, 2),
    Case("hypot", np.hypot, 2, rtol32=4e-7 * 8, rtol64=4e-16 * 8),
    Case("logaddexp", np.logaddexp, 2, rtol32=1e-6, rtol64=1e-14),
    Case("logaddexp2", np.logaddexp2, 2, rtol32=1e-6, rtol64=1e-14),
    Case("copysign", np.copysign, 2),
    Case("heaviside", np.heaviside, 2),
    Case("nextafter", np.nextafter, 2, dtypes=tuple(FLOATS)),
    Case("equal", np.equal, 2),
    Case("not_equal", np.not_equal, 2),
    Case("less", np.less, 2),
    Case("less_equal", np.less_equal, 2),
    Case("greater", np.greater, 2),
    Case("greater_equal", np.greater_equal, 2),
    Case("logical_and", np.logical_and, 2),
    Case("logical_or", np.logical_or, 2),
    Case("logical_xor", np.logical_xor, 2),
    Case("bitwise_and", np.bitwise_and, 2, dtypes=tuple(DTYPES[:5])),
    Case("bitwise_or", np.bitwise_or, 2, dtypes=tuple(DTYPES[:5])),
    Case("bitwise_xor", np.bitwise_xor, 2, dtypes=tuple(DTYPES[:5])),
    Case("left_shift", np.left_shift, 2, "small", tuple(INTS)),
    Case("right_shift", np.right_shift, 2, "small", tuple(INTS)),
    Case("bitwise_left_shift", np.bitwise_left_shift, 2, "small", tuple(INTS)),
    Case("bitwise_right_shift", np.bitwise_right_shift, 2, "small", tuple(INTS)),
    Case(
        "ldexp", lambda x, n: np.ldexp(x, np.asarray(n).astype(np.int32)), 2, "small", tuple(FLOATS)
    ),
]

ALL = UNARY + BINARY


def _inputs(case: Case, dtype, shape=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    xs = [rand(rng, dtype, shape, case.domain) for _ in range(case.nargs)]
    if case.name in ("left_shift", "right_shift", "bitwise_left_shift", "bitwise_right_shift"):
        xs[1] = np.abs(xs[1]).astype(dtype)  # NumPy's negative shifts are platform-defined
    if case.name in ("power", "pow") and np.dtype(dtype).kind in "iu":
        xs[1] = np.abs(xs[1]).astype(dtype)  # NumPy raises for negative integer powers
    if case.name == "ldexp":
        xs[1] = rand(rng, np.int32, shape, "small")
    return xs


def _supported_by_numpy(case: Case, xs) -> bool:
    try:
        out = np_ref(case, *xs)
    except TypeError:
        return False
    outs = out if isinstance(out, tuple) else (out,)
    return all(expected_dtype(np.asarray(o).dtype, None) in SUPPORTED for o in outs)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", ALL, ids=lambda c: c.name)
def test_against_numpy(case, dtype):
    if dtype not in case.dtypes:
        pytest.skip("dtype not supported by this function")
    xs = _inputs(case, dtype)
    if not _supported_by_numpy(case, xs):
        pytest.skip("NumPy has no loop for this dtype")
    fn = getattr(jnp, case.name)
    want = np_ref(case, *xs)
    got = fn(*[jnp.asarray(x) for x in xs])
    assert isinstance(got, jaxlite.Array)
    assert got.dtype == expected_dtype(np.asarray(want).dtype, [x.dtype for x in xs], case.name), (
        got.dtype,
        np.asarray(want).dtype,
    )
    check_close(got, want, dtype, case)


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.name)
def test_traced_matches_eager(case):
    dtype = np.float32 if np.float32 in case.dtypes else case.dtypes[-1]
    xs = [jnp.asarray(x) for x in _inputs(case, dtype, seed=1)]
    fn = getattr(jnp, case.name)
    eager = fn(*xs)
    closed = jaxlite.make_jaxpr(fn)(*xs)
    core.typecheck_jaxpr(closed.jaxpr)
    (traced,) = core.eval_jaxpr(closed.jaxpr, closed.consts, *xs)
    assert traced.dtype == eager.dtype
    np.testing.assert_array_equal(np.asarray(traced), np.asarray(eager))


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.name)
def test_python_and_numpy_inputs(case):
    """Python scalars, lists and NumPy arrays are accepted, with NEP 50 weak scalars."""
    dtype = np.float32 if np.float32 in case.dtypes else case.dtypes[-1]
    xs = _inputs(case, dtype, shape=(4,), seed=2)
    fn = getattr(jnp, case.name)
    from_np = fn(*xs)
    from_arr = fn(*[jnp.asarray(x) for x in xs])
    np.testing.assert_array_equal(np.asarray(from_np), np.asarray(from_arr))
    lists = [x.tolist() for x in xs]
    assert np.asarray(fn(*lists)).shape == (4,)
    if case.nargs == 2 and case.name != "ldexp":
        scalar = xs[1][0].item()
        got = fn(xs[0], scalar)
        want = np_ref(case, xs[0], scalar)
        if expected_dtype(np.asarray(want).dtype, None) in SUPPORTED:
            assert got.dtype == expected_dtype(np.asarray(want).dtype, [dtype], case.name)
            check_close(got, want, dtype, case)


# ------------------------------------------------------------------------------------------
# Promotion between dtypes and broadcasting
# ------------------------------------------------------------------------------------------

PROMOTING = [
    "add",
    "multiply",
    "maximum",
    "true_divide",
    "equal",
    "floor_divide",
    "remainder",
    "arctan2",
    "logical_and",
    "bitwise_or",
    "power",
]


@pytest.mark.parametrize("name", PROMOTING)
@pytest.mark.parametrize("d1", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(
    "d2", [np.bool_, np.uint8, np.int32, np.float32, np.float64], ids=lambda d: np.dtype(d).name
)
def test_mixed_dtype_promotion(name, d1, d2):
    case = next(c for c in ALL if c.name == name)
    rng = np.random.default_rng(3)
    x = rand(rng, d1, (5,), "small" if name == "power" else "nonzero")
    y = rand(rng, d2, (5,), "small" if name == "power" else "nonzero")
    if name == "power":
        y = np.abs(y).astype(d2)
    try:
        want = np_ref(case, x, y)
    except TypeError:
        pytest.skip("NumPy rejects this combination")
    if expected_dtype(np.asarray(want).dtype, None) not in SUPPORTED:
        pytest.skip("NumPy's result dtype is not a jaxlite dtype")
    if name == "bitwise_or" and np.asarray(want).dtype.kind == "f":
        pytest.skip("float bitwise")
    got = getattr(jnp, name)(jnp.asarray(x), jnp.asarray(y))
    # JAX's lattice, not NumPy's (int32 + float32 is float32), then JAX's inexact rule
    jax_dt = jax_promote(d1, d2)
    if np.asarray(want).dtype.kind == "b":  # comparisons and logical ops
        jax_dt = np.dtype(np.bool_)
    elif np.asarray(want).dtype.kind == "f" and jax_dt.kind != "f":
        jax_dt = JAX_INEXACT[jax_dt]
    assert got.dtype == jax_dt
    check_close(got, want, got.dtype, case)


def test_float32_stays_float32_with_python_scalars():
    x = jnp.ones(3, jnp.float32)
    for y in (
        x + 1,
        x * 2.5,
        x / 3,
        2.0**x,
        x - True,
        jnp.maximum(x, 0.0),
        x // 2,
        x % 2.0,
        jnp.where(x > 0, x, 0.0),
        jnp.clip(x, 0, 1),
        jnp.hypot(x, 1.0),
        -x,
        abs(x),
    ):
        assert y.dtype == np.float32


def test_weak_python_scalar_results():
    assert jnp.add(1, 2).dtype == np.int64
    assert jnp.add(1.0, 2).dtype == np.float64
    i8 = jnp.asarray(np.array([1, 2], np.uint8))
    assert (i8 + 3).dtype == np.uint8
    assert (i8 + 3.0).dtype == np.float64
    assert jnp.sin(2).dtype == np.float64
    with pytest.raises(OverflowError, match="out of bounds for uint8"):
        i8 + 300


shapes_pair = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=4
)


@given(
    shapes=shapes_pair,
    name=st.sampled_from(
        [
            "add",
            "subtract",
            "multiply",
            "maximum",
            "less",
            "arctan2",
            "logaddexp",
            "hypot",
            "floor_divide",
            "copysign",
            "where",
        ]
    ),
)
def test_broadcasting_shapes(shapes, name):
    s1, s2 = shapes.input_shapes
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 3, s1)
    y = rng.uniform(0.5, 3, s2)
    if name == "where":
        got = jnp.where(jnp.asarray(x) > 1.5, x, y)
        want = np.where(x > 1.5, x, y)
    else:
        got = getattr(jnp, name)(x, y)
        want = getattr(np, name)(x, y)
    assert got.shape == want.shape == shapes.result_shape
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-13)


def test_incompatible_shapes_error():
    with pytest.raises(
        ValueError,
        match=r"jnp.add: incompatible shapes for broadcasting: "
        r"\(3,\), \(4,\)",
    ):
        jnp.add(jnp.ones(3), jnp.ones(4))


# ------------------------------------------------------------------------------------------
# Special values and semantics
# ------------------------------------------------------------------------------------------


def test_integer_division_python_signs():
    a = np.array([7, -7, 7, -7, 0, 5], np.int32)
    b = np.array([2, 2, -2, -2, 3, 0], np.int32)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(np.asarray(jnp.floor_divide(a, b)), np.floor_divide(a, b))
        np.testing.assert_array_equal(np.asarray(jnp.remainder(a, b)), np.remainder(a, b))
    q, r = jnp.divmod(a, b)
    np.testing.assert_array_equal(np.asarray(q), [3, -4, -4, 3, 0, 0])
    np.testing.assert_array_equal(np.asarray(r), [1, 1, -1, -1, 0, 0])


def test_float_divmod_special_values():
    a = np.array([7.5, -7.5, 7.5, -7.5, 0.0, -0.0, 1.0, np.inf, 3.0, 5.0])
    b = np.array([2.0, 2.0, -2.0, -2.0, 3.0, 3.0, 0.0, 2.0, np.inf, -np.inf])
    with np.errstate(all="ignore"):
        for fn in ("floor_divide", "remainder", "fmod"):
            got = np.asarray(getattr(jnp, fn)(a, b))
            want = getattr(np, fn)(a, b)
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_special_float_values():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-310, -2.5, 2.5, 3.5], np.float64)
    with np.errstate(all="ignore"):
        for name in (
            "sign",
            "signbit",
            "isnan",
            "isinf",
            "isfinite",
            "isposinf",
            "isneginf",
            "floor",
            "ceil",
            "trunc",
            "rint",
            "round",
            "nan_to_num",
            "sinc",
            "square",
            "absolute",
            "exp",
            "log1p",
            "cbrt",
        ):
            got = np.asarray(getattr(jnp, name)(x))
            want = getattr(np, name)(x)
            np.testing.assert_array_equal(got, want, err_msg=name)
        for name in (
            "fmax",
            "fmin",
            "maximum",
            "minimum",
            "hypot",
            "logaddexp",
            "copysign",
            "heaviside",
            "nextafter",
        ):
            got = np.asarray(getattr(jnp, name)(x, x[::-1]))
            want = getattr(np, name)(x, x[::-1])
            np.testing.assert_allclose(got, want, rtol=1e-15, equal_nan=True, err_msg=name)


def test_round_decimals():
    x = np.array([1.2345, -2.675, 1234.5, 0.5, 1.5, -0.5], np.float64)
    for d in (-2, -1, 0, 1, 2, 3):
        np.testing.assert_array_equal(np.asarray(jnp.round(x, d)), np.round(x, d))
    i = np.array([15, 25, -15, 149], np.int64)
    np.testing.assert_array_equal(np.asarray(jnp.round(i, -1)), np.round(i, -1))
    assert jnp.round(jnp.ones(2, jnp.float32), 2).dtype == np.float32


def test_frexp_modf():
    x = np.array([0.0, -0.0, 1.0, -3.5, 1e-310, 6e300, np.inf, -np.inf, np.nan, 0.1])
    for dt in (np.float64, np.float32):
        with np.errstate(all="ignore"):
            xd = x.astype(dt)  # 6e300 overflows float32 to inf on purpose
            m, e = jnp.frexp(xd)
            wm, we = np.frexp(xd)
            np.testing.assert_array_equal(np.asarray(m), wm)
            np.testing.assert_array_equal(np.asarray(e), we)
            f, i = jnp.modf(xd)
            wf, wi = np.modf(xd)
            np.testing.assert_array_equal(np.asarray(f), wf)
            np.testing.assert_array_equal(np.asarray(i), wi)
            np.testing.assert_array_equal(np.signbit(np.asarray(f)), np.signbit(wf))


def test_power_integer_exponent_stages_integer_pow():
    x = jnp.ones(3, jnp.float32)
    assert "integer_pow[y=3]" in str(jaxlite.make_jaxpr(lambda x: x**3)(x))
    assert "pow" in str(jaxlite.make_jaxpr(lambda x: x**2.5)(x))
    with pytest.raises(ValueError, match="negative integer powers"):
        jnp.power(jnp.arange(3), -1)
    np.testing.assert_allclose(
        np.asarray(jnp.power(jnp.arange(1, 4) * 1.0, -2)), np.arange(1, 4) ** -2.0
    )


def test_where_select_clip():
    c = np.array([True, False, True])
    np.testing.assert_array_equal(np.asarray(jnp.where(c, 1, 2.5)), np.where(c, 1, 2.5))
    assert jnp.where(c, 1, 2).dtype == np.int64
    assert jnp.where(c, jnp.ones(3, jnp.float32), 0).dtype == np.float32
    x = np.arange(6)
    got = jnp.select([x < 2, x > 3], [x, x**2], -1)
    np.testing.assert_array_equal(np.asarray(got), np.select([x < 2, x > 3], [x, x**2], -1))
    np.testing.assert_array_equal(np.asarray(jnp.clip(x, 1, 4)), np.clip(x, 1, 4))
    np.testing.assert_array_equal(np.asarray(jnp.clip(x, max=3)), np.clip(x, None, 3))
    np.testing.assert_array_equal(np.asarray(jnp.clip(x, min=2)), np.clip(x, 2, None))
    assert jnp.clip(jnp.ones(2, jnp.int32), 0, 1).dtype == np.int32


def test_isclose_allclose_equal():
    a = np.array([1.0, np.nan, np.inf, -np.inf, 1e-9, 2.0])
    b = np.array([1.0 + 1e-9, np.nan, np.inf, np.inf, 0.0, 2.1])
    for eq_nan in (False, True):
        np.testing.assert_array_equal(
            np.asarray(jnp.isclose(a, b, equal_nan=eq_nan)), np.isclose(a, b, equal_nan=eq_nan)
        )
    assert bool(jnp.allclose(a[:1], b[:1])) and not bool(jnp.allclose(a, b))
    assert bool(jnp.array_equal([1, 2], [1, 2])) and not bool(jnp.array_equal([1, 2], [1, 2, 3]))
    assert bool(jnp.array_equal(a[:2], a[:2], equal_nan=True))
    assert not bool(jnp.array_equal(a[:2], a[:2]))
    assert bool(jnp.array_equiv([1, 1], 1)) and not bool(jnp.array_equiv([1, 2], [1, 2, 3]))
    np.testing.assert_array_equal(
        np.asarray(jnp.isclose(np.arange(3), np.arange(3) + 1e-9)), [True] * 3
    )


def test_bool_arithmetic():
    t = np.array([True, False, True])
    f = np.array([True, True, False])
    assert jnp.add(t, f).dtype == np.bool_
    np.testing.assert_array_equal(np.asarray(jnp.add(t, f)), np.add(t, f))
    np.testing.assert_array_equal(np.asarray(jnp.multiply(t, f)), np.multiply(t, f))
    with pytest.raises(TypeError, match="jnp.subtract"):
        jnp.subtract(t, f)
    with pytest.raises(TypeError, match="jnp.negative"):
        jnp.negative(t)


# ------------------------------------------------------------------------------------------
# Bad inputs
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "abc",
        None,
        [[1, 2], [3]],
        np.array([1, None], dtype=object),
        b"ab",  # (complex numbers are valid since issue 21: bytes and datetimes are not)
        np.array(["2020-01-01"], "M8[D]"),
        {"a": 1},
        object(),
    ],
    ids=["str", "None", "ragged", "object", "bytes", "datetime_array", "dict", "object_instance"],
)
@pytest.mark.parametrize("name", ["sin", "add", "sum", "where", "reshape", "sort", "dot"])
def test_bad_inputs_raise_type_error_naming_function(bad, name):
    fn = getattr(jnp, name)
    args = {
        "sin": (bad,),
        "add": (jnp.ones(2), bad),
        "sum": (bad,),
        "where": (bad, 1.0, 2.0),
        "reshape": (bad, (2,)),
        "sort": (bad,),
        "dot": (jnp.ones(2), bad),
    }[name]
    with pytest.raises(TypeError, match=f"jnp.{name}"):
        fn(*args)


def test_operators_defer_to_unknown_types():
    x = jnp.ones(3)
    assert (x == None) is False  # noqa: E711 - the point of the test
    assert (x != "a") is True
    with pytest.raises(TypeError):
        x + "a"
    with pytest.raises(TypeError):
        x + [1, 2, 3]  # as in JAX: lists are not arrays in operators


def test_operators_and_methods_on_arrays_and_tracers():
    x = np.arange(1, 7, dtype=np.float32).reshape(2, 3)

    def f(a):
        b = (a + 1) * 2 - a / 3
        c = b // 2 + b % 2 + b**2 + (-b) + abs(b) + (+b)
        m = (a @ a.T).sum() + a.T.shape[0] + len(a)
        i = jnp.asarray(a, jnp.int32)
        bits = (i & 3) | (i ^ 1) | (~i) | (i << 1) | (i >> 1)
        cmp = (a < 2) & (a <= 2) | (a > 5) ^ (a >= 5) | (a == 3) | (a != 4)
        meth = (
            a.reshape(3, 2).sum(0).mean()
            + a.max()
            + a.min()
            + a.prod()
            + a.transpose().ravel()[0]
            + a.squeeze().dot(a.T).sum()
            + a.clip(0, 3).sum()
            + a.argmax()
            + a.argmin()
            + a.astype(jnp.float64).sum()
            + a.reshape((6,)).sum()
            + a.flatten().std()
            + a.var()
            + a.cumsum().sum()
            + a.round().sum()
            + a.sort().sum()
            + a.argsort().sum()
            + a.any()
            + a.all()
        )
        return c, m, bits, cmp, meth, a.mT

    eager = f(jnp.asarray(x))
    closed = jaxlite.make_jaxpr(f)(jnp.asarray(x))
    traced = core.eval_jaxpr(closed.jaxpr, closed.consts, jnp.asarray(x))
    for e, t in zip(eager, traced):
        np.testing.assert_allclose(np.asarray(e), np.asarray(t), rtol=1e-6)
    c = eager[0]
    b = (x + 1) * 2 - x / 3
    want = b // 2 + b % 2 + b**2 + (-b) + abs(b) + b
    np.testing.assert_allclose(np.asarray(c), want, rtol=1e-5)
    assert c.dtype == np.float32


@pytest.mark.parametrize(
    "name",
    [
        "negative",
        "positive",
        "sign",
        "subtract",
        "floor_divide",
        "remainder",
        "fmod",
        "power",
        "left_shift",
    ],
)
def test_bool_inputs_numpy_rejects_raise_type_error(name):
    t = np.array([True, False])
    fn = getattr(jnp, name)
    args = (t,) if name in ("negative", "positive", "sign") else (t, t)  # NB: square(bool) is int32
    with pytest.raises(TypeError, match=f"jnp.{name}"):
        fn(*args)


@pytest.mark.parametrize("name", ["invert", "bitwise_and", "left_shift", "right_shift"])
def test_bitwise_on_floats_raise_type_error(name):
    x = jnp.ones(2)
    with pytest.raises(TypeError, match=f"jnp.{name}"):
        getattr(jnp, name)(*([x] if name == "invert" else [x, x]))
