"""The register-blocked kernels of the runtime library, csrc/jl_gemm.c (small products, and
large ones packed in blocks, which jit computes without BLAS where BLAS's kernels are narrower)
against NumPy in float64: every tile shape and remainder (rows not a multiple of 4, columns not
a multiple of the vector width), transposed operands, batch dimensions, block edges, both sides
of the size thresholds, and NaN/inf propagation.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)

# (m, n, k): 4x4-vector tiles, single-vector tiles, ragged columns (< one vector, and after full
# vectors), rows 1..3 past a multiple of 4, k = 1, and 128^3 (the largest small product) beside
# 129 x 128 x 128 (BLAS).
SHAPES = [(32, 64, 64), (4, 16, 1), (1, 1, 1), (3, 5, 7), (5, 17, 3), (7, 100, 3), (33, 80, 17),
          (6, 10, 64), (64, 64, 32), (13, 48, 9), (2, 130, 5), (128, 128, 128), (129, 128, 128),
          # the packed kernel (and its threads, from 2^22): ragged row panels and strips, several
          # k blocks (KC = 256); tests/test_packed_gemm.py has its column and row blocks
          (130, 200, 150), (67, 530, 129), (300, 64, 300),
          # B's rows 512 elements apart: its column blocks copied first (rows past the tiles)
          (29, 512, 40), (9, 1024, 7)]  # fmt: skip


def reference(a, b):
    return a.astype(np.float64) @ b.astype(np.float64)


def check(got, a, b, dtype):
    want = reference(a, b)
    got = np.asarray(got)
    assert got.dtype == dtype and got.shape == want.shape
    k = a.shape[-1]
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    tol = 4 * k * np.finfo(dtype).eps * scale + np.finfo(dtype).tiny
    assert np.all(np.abs(got - want) <= tol), np.abs(got - want).max()


@pytest.mark.parametrize("dtype", [F32, F64], ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("layout", ["nn", "tn", "nt", "tt"])
def test_products_match_numpy(shape, layout, dtype):
    check_product(shape, layout, dtype)


def check_product(shape, layout: str, dtype) -> None:
    """jit's product of random (m, k) and (k, n) matrices against NumPy's; `layout` says which
    are stored transposed ("tn": A), which jit then reads in place."""
    m, n, k = shape
    rng = np.random.default_rng(m * 10007 + n * 101 + k)
    a = rng.normal(size=(m, k)).astype(dtype)
    b = rng.normal(size=(k, n)).astype(dtype)
    sa = np.ascontiguousarray(a.T) if layout[0] == "t" else a
    sb = np.ascontiguousarray(b.T) if layout[1] == "t" else b
    fa = (lambda x: x.T) if layout[0] == "t" else (lambda x: x)
    fb = (lambda x: x.T) if layout[1] == "t" else (lambda x: x)
    got = jaxlite.jit(lambda x, y: jnp.matmul(fa(x), fb(y)))(sa, sb)
    check(got, a, b, dtype)


def test_the_kernel_is_used_below_the_threshold_and_blas_above():
    # The C source is the same; which path runs is decided at run time by m * n * k. Both
    # give the product, and a product computed in a scan loop is the case the kernel is for.
    rng = np.random.default_rng(0)
    w = rng.normal(size=(64, 64)).astype(np.float32) / 8
    xs = rng.normal(size=(20, 32, 64)).astype(np.float32)

    def run(h, xs):
        return lax.scan(lambda h, x: (jnp.tanh(h @ w + x), None), h, xs)[0]

    h0 = np.zeros((32, 64), np.float32)
    got = np.asarray(jaxlite.jit(run)(h0, xs))
    h = h0.astype(np.float64)
    for x in xs:
        h = np.tanh(h @ w.astype(np.float64) + x)
    np.testing.assert_allclose(got, h, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("batch", [1, 3])
def test_batched_products(batch):
    rng = np.random.default_rng(batch)
    a = rng.normal(size=(batch, 9, 20)).astype(np.float32)
    b = rng.normal(size=(batch, 20, 33)).astype(np.float32)
    got = jaxlite.jit(jnp.matmul)(a, b)
    for i in range(batch):
        check(np.asarray(got)[i], a[i], b[i], F32)


@pytest.mark.parametrize("dtype", [F32, F64], ids=str)
def test_nan_and_inf_propagate_as_in_numpy(dtype):
    a = np.ones((6, 5), dtype)
    b = np.ones((5, 19), dtype)
    a[1, 2] = np.nan
    a[4, 0] = np.inf
    b[3, 18] = -np.inf
    got = np.asarray(jaxlite.jit(jnp.matmul)(a, b))
    with np.errstate(invalid="ignore"):
        want = a @ b
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
    np.testing.assert_array_equal(got[np.isfinite(want)], want[np.isfinite(want)])


PACKED = [(130, 200, 150), (67, 530, 129), (300, 64, 300), (64, 600, 40)]


@pytest.mark.parametrize("dtype", [F32, F64], ids=str)
@pytest.mark.parametrize("shape", PACKED, ids=str)
@pytest.mark.parametrize("layout", ["nn", "tt"])
def test_packed_kernel_without_blas(shape, layout, dtype, monkeypatch):
    # Where OpenBLAS's kernels are as wide as ours, BLAS takes the large products; without
    # BLAS the packed kernel takes them on every machine, so it is tested on every machine.
    from jaxlite.backend import compile as jl_compile

    monkeypatch.setattr(jl_compile, "_BLAS", [None])
    assert "-DJL_HAVE_BLAS" not in jl_compile.compiler_command(
        ["cc"], "rt.c", "rt.so", blas=True, openmp=True
    )
    check_product(shape, layout, dtype)
