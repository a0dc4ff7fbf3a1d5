"""The vectorized float max/min reductions (backend/rules_reduce.py `_float_extremum`): long rows
(vector bodies and tails), NaN anywhere propagates, infinities, every reduction layout; jit
against eager (NumPy) bit for bit, and the generated C is the vector form."""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
from jaxlite import lax

N = 67  # a vector body and a tail at every width


def _rows(dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(9, N)).astype(dtype)
    x[1, 0] = np.nan  # first
    x[2, N - 1] = np.nan  # in the tail
    x[3, 40] = -np.nan  # a negative NaN in the body
    x[4, :] = np.nan
    x[5, 3] = np.inf
    x[6, 7] = -np.inf
    x[7, :] = -np.inf
    x[8, :] = np.inf
    return x


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(np.isnan(got), np.isnan(want)), (got, want)
    ok = np.isnan(want) | (got == want)
    assert ok.all(), (got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("op", [lax.reduce_max, lax.reduce_min], ids=["max", "min"])
def test_rows_columns_and_all(dtype, op):
    x = _rows(dtype)
    fns = [lambda x: op(x, (1,)), lambda x: op(x, (0,)), lambda x: op(x, (0, 1)),
           lambda x: op(x[4:8], (0, 1)), lambda x: op(np.float32(2) * x, (1,))]  # fmt: skip
    for fn in fns:
        _same(jaxlite.jit(fn)(x), _eager(fn, x))


def _eager(fn, x):
    return np.asarray(fn(jaxlite.numpy.asarray(x)))


def test_matches_numpy_on_rows():
    x = _rows(np.float32)
    _same(jaxlite.jit(lambda x: jaxlite.numpy.max(x, axis=1))(x), np.max(x, axis=1))
    _same(jaxlite.jit(lambda x: jaxlite.numpy.min(x, axis=1))(x), np.min(x, axis=1))
    # integers and bools reduce with OpenMP's own max/min
    i = np.random.default_rng(1).integers(-1000, 1000, size=(5, N)).astype(np.int32)
    np.testing.assert_array_equal(jaxlite.jit(lambda i: jaxlite.numpy.max(i, 1))(i), i.max(1))
    np.testing.assert_array_equal(jaxlite.jit(lambda i: jaxlite.numpy.min(i, 1))(i), i.min(1))
    b = i > 900
    np.testing.assert_array_equal(jaxlite.jit(lambda b: jaxlite.numpy.max(b, 1))(b), b.max(1))
    np.testing.assert_array_equal(jaxlite.jit(lambda b: jaxlite.numpy.min(b, 1))(b), b.min(1))


def test_the_row_loop_is_the_vector_form():
    x = np.zeros((4, N), np.float32)
    c = jaxlite.jit(lambda x: jaxlite.numpy.max(x, axis=1)).lower(x).as_c()
    assert "reduction(max:" in c and "jl_max_f32" in c  # the NaN rescan keeps the ordered form
    c = jaxlite.jit(lambda x: x**2 + 1).lower(x).as_c()
    assert "jl_ipow" not in c  # small float powers are products: the loop vectorizes
