"""The vectorizable exp, log, tanh and logistic of csrc/jl_math.h against NumPy, over the whole
float range: random bit patterns (every exponent, denormals, inf, nan), dense samples where the
functions change, and the special values. Within a few ulp of NumPy and of the float64 result
rounded to float32, with NaN, infinities and signed zeros exactly as NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
from jaxlite import lax
from tests.test_jit_primitives import ulp_distance

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)


def logistic_np(x):
    return np.asarray(lax.logistic(x))  # the eager implementation (the spec)


FUNCS = {"exp": (lax.exp, np.exp, (-110, 90), (-750, 712)),
         "log": (lax.log, np.log, (0, 4), (0, 4)),
         "log1p": (lax.log1p, np.log1p, (-1, 4), (-1, 4)),
         "tanh": (lax.tanh, np.tanh, (-12, 12), (-25, 25)),
         "logistic": (lax.logistic, logistic_np, (-110, 90), (-750, 712))}  # fmt: skip


def inputs(dtype) -> np.ndarray:
    rng = np.random.default_rng(7)
    it = np.uint32 if dtype == F32 else np.uint64
    bits = rng.integers(0, np.iinfo(it).max, size=1 << 17, dtype=it, endpoint=True).view(dtype)
    tiny = np.finfo(dtype).smallest_subnormal
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, tiny, -tiny, 0.625,
                        -0.625, np.finfo(dtype).max, np.finfo(dtype).tiny], dtype)  # fmt: skip
    return np.concatenate([special, bits])


@pytest.mark.parametrize("dtype", [F32, F64], ids=str)
@pytest.mark.parametrize("name", list(FUNCS))
def test_against_numpy_over_the_whole_range(name, dtype):
    fn, ref, r32, r64 = FUNCS[name]
    lo, hi = r32 if dtype == F32 else r64
    dense = np.linspace(lo, hi, 1 << 16, dtype=dtype)
    near_one = (1 + np.linspace(-1e-3, 1e-3, 4001)).astype(dtype)
    x = np.concatenate([inputs(dtype), dense, near_one])
    got = np.asarray(jaxlite.jit(fn)(x))
    with np.errstate(all="ignore"):  # NumPy's reference overflows to inf and NaN by design here
        want, want64 = ref(x), ref(x.astype(F64)).astype(F32)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    zeros = (got == 0) & (want == 0)
    assert np.array_equal(np.signbit(got[zeros]), np.signbit(want[zeros]))
    inf = np.isinf(want)
    np.testing.assert_array_equal(got[inf], want[inf])
    assert ulp_distance(got, want).max() <= 4
    if dtype == F32:  # against the float64 result rounded once
        assert ulp_distance(got, want64).max() <= 3


# Bands where the float32 formulas are at their edge, every float32 in them (every 3rd for the
# widest): denormal results (logistic's and exp's scaled steps), exp's overflow to inf, and tanh
# where its one-step range reduction errs most (n = -1) and 1 - e^{-2|x|} nearly cancels.
BANDS = [("logistic", -104.0, -87.0, 1), ("exp", -104.0, -87.0, 1), ("exp", 88.0, 89.0, 1),
         ("tanh", 0.17, 0.55, 3), ("tanh", -0.55, -0.17, 3)]  # fmt: skip


@pytest.mark.parametrize("name,lo,hi,step", BANDS, ids=[f"{b[0]}{b[1]:g}:{b[2]:g}" for b in BANDS])
def test_every_float32_of_a_band(name, lo, hi, step):
    fn, ref = FUNCS[name][:2]
    ends = np.abs(np.array([lo, hi], F32)).view(np.uint32)
    x = np.arange(ends.min(), ends.max(), step, dtype=np.uint32).view(F32)
    x = -x if lo < 0 else x
    got = np.asarray(jaxlite.jit(fn)(x))
    with np.errstate(over="ignore"):  # exp's band reaches past float32's largest value
        want = ref(x.astype(F64)).astype(F32)
    assert not np.isnan(got).any()
    inf = np.isinf(want)
    np.testing.assert_array_equal(got[inf], want[inf])
    assert ulp_distance(got, want).max() <= 2


def test_the_functions_vectorize():
    # One loop, no scalar libm call: the compiler can use vector instructions for all of it.
    c = (
        jaxlite.jit(lambda x: lax.tanh(x) * lax.logistic(x) + lax.exp(x) - lax.log(x))
        .lower(np.ones(1024, np.float32))
        .as_c()
    )
    for fn in ("jl_tanh_f32", "jl_logistic_f32", "jl_exp_f32", "jl_log_f32"):
        assert fn in c
    assert "expf(" not in c and "tanhf(" not in c
