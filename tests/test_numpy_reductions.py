"""jnp reductions against NumPy: a table of functions crossed with dtypes and axis/keepdims
choices, result dtypes (NumPy 2: integer sums are int64, integer means float64), NaN handling,
and each reduction under make_jaxpr.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest

from tests.test_jax_promotion import jax_inexact

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core

DTYPES = [np.bool_, np.uint8, np.uint32, np.int32, np.int64, np.float32, np.float64, np.int8,
          np.int16, np.uint16, np.uint64]  # fmt: skip
NUMERIC = DTYPES[1:]
SUPPORTED = {np.dtype(d) for d in DTYPES}


class Red(NamedTuple):
    name: str
    ref: Callable = None  # default: np.<name>
    dtypes: tuple = tuple(DTYPES)
    kwargs: dict = {}
    multi_axis: bool = True  # accepts a tuple of axes
    nan: bool = False  # inputs contain NaNs (float dtypes)
    rtol32: float = 2e-6


REDUCTIONS = [
    Red("sum"),
    Red("prod"),
    Red("max"),
    Red("min"),
    Red("amax"),
    Red("amin"),
    Red("all"),
    Red("any"),
    Red("mean"),
    Red("mean", kwargs={"dtype": np.float32}),
    Red("sum", kwargs={"dtype": np.float32}),
    Red("sum", kwargs={"initial": 5}),
    Red("max", kwargs={"initial": 3}),
    Red("var"),
    Red("var", kwargs={"ddof": 1}),
    Red("std"),
    Red("std", kwargs={"ddof": 1}),
    Red("ptp", dtypes=tuple(NUMERIC)),
    Red("argmax", multi_axis=False),
    Red("argmin", multi_axis=False),
    Red("count_nonzero"),
    Red("median", dtypes=tuple(NUMERIC)),
    Red("nansum", nan=True),
    Red("nanprod", nan=True),
    Red("nanmax", nan=True),
    Red("nanmin", nan=True),
    Red("nanmean", nan=True),
    Red("nanvar", nan=True),
    Red("nanstd", nan=True),
    Red("nanmedian", dtypes=tuple(NUMERIC), nan=True),
    Red(
        "nanargmax",
        lambda a, axis=None, keepdims=False: _nanarg(np.argmax, -np.inf, a, axis, keepdims),
        multi_axis=False,
        nan=True,
    ),
    Red(
        "nanargmin",
        lambda a, axis=None, keepdims=False: _nanarg(np.argmin, np.inf, a, axis, keepdims),
        multi_axis=False,
        nan=True,
    ),
    Red("average", multi_axis=False),
    Red(
        "quantile",
        lambda a, axis=None, keepdims=False: np.quantile(
            a, [0.1, 0.5, 0.9], axis=axis, keepdims=keepdims
        ),
        dtypes=tuple(NUMERIC),
        multi_axis=False,
    ),
    Red(
        "percentile",
        lambda a, axis=None, keepdims=False: np.percentile(a, 37.0, axis=axis, keepdims=keepdims),
        dtypes=tuple(NUMERIC),
        multi_axis=False,
    ),
    Red(
        "nanquantile",
        lambda a, axis=None, keepdims=False: np.nanquantile(
            a, [0.25, 0.75], axis=axis, keepdims=keepdims
        ),
        dtypes=tuple(NUMERIC),
        multi_axis=False,
        nan=True,
    ),
]


def _nanarg(fn, fill, a, axis, keepdims):
    """np.nanargmax, but -1 for all-NaN slices (JAX's convention) instead of raising."""
    if a.dtype.kind != "f":
        return fn(a, axis=axis, keepdims=keepdims)
    r = fn(np.where(np.isnan(a), fill, a), axis=axis, keepdims=keepdims)
    return np.where(np.all(np.isnan(a), axis=axis, keepdims=keepdims), -1, r)


JNP_EXTRA = {
    "quantile": {"q": [0.1, 0.5, 0.9]},
    "percentile": {"q": 37.0},
    "nanquantile": {"q": [0.25, 0.75]},
}


def rand(rng, dtype, shape, nan=False):
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return rng.random(shape) < 0.6
    if dt.kind == "u":
        return rng.integers(0, 6, shape).astype(dt)
    if dt.kind == "i":
        return rng.integers(-5, 6, shape).astype(dt)
    v = rng.uniform(-3, 3, shape)
    if nan:
        v[rng.random(shape) < 0.25] = np.nan
    return v.astype(dt)


def expected_dtype(dt):
    dt = np.dtype(dt)
    return {
        np.dtype(np.float16): np.dtype(np.float64),
    }.get(dt, dt)


def _ref(case: Red, x, axis, keepdims):
    fn = case.ref or getattr(np, case.name)
    kw = dict(case.kwargs)
    if case.name == "average":
        return fn(x, axis=axis, keepdims=keepdims)
    if case.name in ("count_nonzero",):
        return fn(x, axis=axis, keepdims=keepdims)
    return fn(x, axis=axis, keepdims=keepdims, **kw)


def _jnp(case: Red, x, axis, keepdims):
    fn = getattr(jnp, case.name)
    kw = dict(case.kwargs)
    if case.name in JNP_EXTRA:
        return fn(x, JNP_EXTRA[case.name]["q"], axis=axis, keepdims=keepdims)
    return fn(x, axis=axis, keepdims=keepdims, **kw)


# (axis, keepdims) pairs: every axis form once, keepdims on half of them.
AXES = [
    (None, False),
    (None, True),
    (0, True),
    (1, False),
    (-1, True),
    ((0, 2), False),
    ((1, 2), True),
    ((), False),
]


def _case_id(c: Red):
    return c.name + (
        "" if not c.kwargs else "-" + "-".join(f"{k}={v}" for k, v in c.kwargs.items())
    )


@pytest.mark.parametrize("axis_keepdims", AXES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", REDUCTIONS, ids=_case_id)
def test_against_numpy(case, dtype, axis_keepdims):
    axis, keepdims = axis_keepdims
    if dtype not in case.dtypes:
        pytest.skip("dtype not supported by this function")
    if isinstance(axis, tuple) and not case.multi_axis:
        pytest.skip("single-axis function")
    if case.nan and np.dtype(dtype).kind != "f" and dtype not in (np.int32,):
        pytest.skip("NaN variants on integers: one dtype is enough")
    x = rand(np.random.default_rng(0), dtype, (3, 4, 5), case.nan)
    if case.nan and np.dtype(dtype).kind == "f":
        x[0, 0, :] = np.nan  # one all-NaN slice along the last axis
    with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        try:
            want = _ref(case, x, axis, keepdims)
        except (TypeError, ValueError) as e:
            pytest.skip(f"NumPy rejects: {e}")
    want = np.asarray(want)
    if expected_dtype(want.dtype) not in SUPPORTED:
        pytest.skip("NumPy's result dtype is not a jaxlite dtype")
    got = _jnp(case, jnp.asarray(x), axis, keepdims)
    assert got.shape == want.shape
    # JAX's rule, not NumPy's: float results of bools and ints are float32 up to 32 bits, and
    # float32 inputs stay float32 (NumPy's quantiles of float32 with a float q are float64)
    want_dt = expected_dtype(want.dtype)
    if want.dtype.kind == "f" and "dtype" not in case.kwargs:
        want_dt = jax_inexact(x.dtype)
    assert got.dtype == want_dt, (got.dtype, want.dtype)
    if got.dtype.kind == "f":
        rtol = case.rtol32 if np.float32 in (got.dtype, x.dtype) else 1e-12
        np.testing.assert_allclose(np.asarray(got), want, rtol=rtol, atol=rtol, equal_nan=True)
    else:
        np.testing.assert_array_equal(np.asarray(got), want)


@pytest.mark.parametrize("case", REDUCTIONS, ids=_case_id)
def test_traced_matches_eager(case):
    dtype = np.float32
    x = jnp.asarray(rand(np.random.default_rng(1), dtype, (3, 4), case.nan))

    def f(x):
        return _jnp(case, x, 1, False), _jnp(case, x, None, True)

    eager = f(x)
    closed = jaxlite.make_jaxpr(f)(x)
    core.typecheck_jaxpr(closed.jaxpr)
    traced = core.eval_jaxpr(closed.jaxpr, closed.consts, x)
    for e, t in zip(eager, traced):
        assert e.dtype == t.dtype and e.shape == t.shape
        np.testing.assert_array_equal(np.asarray(e), np.asarray(t))


CUMULATIVE = ["cumsum", "cumprod", "nancumsum", "nancumprod"]


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", CUMULATIVE)
def test_cumulative(name, dtype, axis):
    x = rand(np.random.default_rng(2), dtype, (3, 4), nan=name.startswith("nan"))
    want = getattr(np, name)(x, axis=axis)
    got = getattr(jnp, name)(x, axis=axis)
    # JAX's rule, not NumPy's: integers keep their dtype, bools count in the default int.
    keep = np.dtype(dtype) if np.dtype(dtype).kind in "iuf" else np.dtype(np.int64)
    assert got.dtype == keep
    np.testing.assert_allclose(np.asarray(got), want.astype(keep), rtol=1e-6)


@pytest.mark.parametrize("include_initial", [False, True])
@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
def test_cumulative_array_api(name, include_initial):
    x = np.arange(1, 7, dtype=np.int32).reshape(2, 3)
    want = getattr(np, name)(x, axis=1, include_initial=include_initial)
    got = getattr(jnp, name)(x, axis=1, include_initial=include_initial)
    assert got.dtype == np.int32  # JAX keeps the dtype (NumPy: int64)
    np.testing.assert_array_equal(np.asarray(got), want)
    with pytest.raises(ValueError, match="axis"):
        getattr(jnp, name)(x)


def test_where_argument():
    x = np.arange(12.0).reshape(3, 4)
    w = x % 3 != 0
    for name, kw in [
        ("sum", {}),
        ("prod", {}),
        ("mean", {}),
        ("max", {"initial": -1.0}),
        ("min", {"initial": 100.0}),
        ("all", {}),
        ("any", {}),
        ("var", {}),
        ("std", {}),
        ("nansum", {}),
        ("nanmean", {}),
    ]:
        want = getattr(np, name)(x, axis=1, where=w, **kw)
        got = getattr(jnp, name)(x, axis=1, where=w, **kw)
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, err_msg=name)


def test_weighted_average():
    x = np.arange(12.0).reshape(3, 4)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(
        np.asarray(jnp.average(x, axis=1, weights=w)), np.average(x, axis=1, weights=w)
    )
    avg, scl = jnp.average(x, weights=x + 1, returned=True)
    wa, ws = np.average(x, weights=x + 1, returned=True)
    np.testing.assert_allclose(np.asarray(avg), wa)
    np.testing.assert_allclose(np.asarray(scl), ws)
    # JAX's lattice: int32 with float32 weights is float32 (NumPy: float64)
    r = jnp.average(np.arange(4, dtype=np.int32), weights=np.ones(4, np.float32))
    assert r.dtype == np.float32 and float(r) == 1.5


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_quantile_methods(method):
    x = np.random.default_rng(3).uniform(size=(4, 7))
    q = np.array([0.0, 0.13, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(
        np.asarray(jnp.quantile(x, q, axis=1, method=method)),
        np.quantile(x, q, axis=1, method=method),
        rtol=1e-13,
    )
    np.testing.assert_allclose(
        np.asarray(jnp.percentile(x, 40, method=method)),
        np.percentile(x, 40, method=method),
        rtol=1e-13,
    )


def test_mean_dtypes():
    # JAX's to_inexact_dtype, even with x64 (NumPy: float64 for all three integer means)
    assert jnp.mean(np.arange(4, dtype=np.int32)).dtype == np.float32
    assert jnp.mean(np.arange(4, dtype=np.int64)).dtype == np.float64
    assert jnp.mean(np.ones(4, np.float32)).dtype == np.float32
    assert jnp.mean(np.ones(4, np.bool_)).dtype == np.float32
    assert jnp.sum(np.ones(4, np.int32)).dtype == np.int64
    assert jnp.sum(np.ones(4, np.uint8)).dtype == np.uint64  # as NumPy and JAX
    assert jnp.sum(np.ones(4, np.int8)).dtype == np.int64
    assert jnp.var(np.ones(4, np.float32)).dtype == np.float32


def test_empty_reductions():
    e = np.zeros((0, 3))
    assert float(jnp.sum(e)) == 0.0 and float(jnp.prod(e)) == 1.0
    np.testing.assert_array_equal(np.asarray(jnp.max(e, axis=0, initial=-1.0)), [-1.0] * 3)
    with pytest.raises(ValueError, match=r"jnp.max: zero-size array \(shape \(0, 3\)\)"):
        jnp.max(e)
    with pytest.raises(ValueError, match="jnp.argmax"):
        jnp.argmax(e)
    assert np.isnan(float(jnp.mean(e)))


def test_axis_errors_name_function_axis_and_shape():
    x = jnp.ones((2, 3))
    for name in ("sum", "mean", "max", "argmax", "cumsum", "var", "all", "median"):
        with pytest.raises(
            ValueError,
            match=rf"jnp.{name}: axis 2 is out of bounds for an "
            rf"array of shape \(2, 3\)",
        ):
            getattr(jnp, name)(x, axis=2)
    with pytest.raises(ValueError, match="repeated axis"):
        jnp.sum(x, axis=(0, 0))
    with pytest.raises(TypeError, match="jnp.sum: axis must be an int"):
        jnp.sum(x, axis=1.5)
