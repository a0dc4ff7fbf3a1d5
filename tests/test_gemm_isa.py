"""The runtime library's small product kernel (csrc/jl_gemm.c) built for this CPU and, on x86-64,
with `-mno-avx512f` (an AVX2 build: 8-float vectors, 6 x 2-vector and 12 x 1 tiles for 16
registers, where AVX-512 builds take 8 x 3 and 12 x 1), against NumPy in float64: every row
remainder of both tile heights (then the 4-row and the 1-3-row tiles), row panels of 240 rows
(a partial last one), column blocks of 2 and 3
vectors, single vectors and ragged columns, transposed operands, k = 1. The products are called
through cffi with the small kernel forced for every shape class (the table of measured choices),
so the test builds no kernel of its own: one runtime library per build. And the implicit-GEMM
convolution (jl_conv_gemm: 2-vector blocks of 6 x 2 and 12 x 1 tiles on AVX2, 4-vector blocks
of 6 x 4 .. 12 x 1 on AVX-512) in both builds against eager: one jitted function of two
convolutions and their gradients (row-tile remainders, output features not whole vectors, more
than one block of vectors).
"""

from __future__ import annotations


import numpy as np
import pytest

import jaxlite
from jaxlite import lax
from jaxlite.backend import compile as cb

SMALL = 1
# (250, 487: more than one row panel of 240, the last a partial one with tile remainders)
ROWS = [1, 2, 3, 4, 5, 6, 7, 9, 11, 12, 13, 15, 17, 23, 32, 250, 487]
# columns: 1-3 AVX2 vectors (2-vector blocks and a single one), AVX-512's 3-vector block and
# more, ragged widths (< 1 vector, between vectors)
COLS = [8, 16, 24, 40, 48, 3, 10, 21]


@pytest.fixture(scope="module")
def build(runtime_build):
    """Each build (conftest.runtime_build) with every product class on the small kernel."""
    _, lib, tag = runtime_build
    nclass = lib.function(f"jl_rt_gemm_nclass_{tag}", "int(*)(void)")()
    cb.set_gemm_choice(lib, tag, {"float32": [SMALL] * nclass, "float64": [SMALL] * nclass})
    return runtime_build


def _call(lib, tag, dtype, ta, tb, a, b, m, n, k):
    name = "f32" if dtype == np.float32 else "f64"
    ct = "float" if dtype == np.float32 else "double"
    gemm = lib.function(
        f"jl_rt_gemm_{name}_{tag}",
        f"void(*)(_Bool, _Bool, int64_t, int64_t, int64_t, {ct} *, int64_t, {ct} *, int64_t, "
        f"{ct} *, int64_t)",
    )
    path = lib.function(f"jl_rt_gemm_path_{tag}", "int(*)(int, _Bool, int64_t, int64_t, int64_t)")
    c = np.full((m, n), np.nan, dtype)
    ff = cb.ffi
    pa, pb, pc = (ff.from_buffer(f"{ct}[]", x) for x in (a, b, c))
    gemm(ta, tb, m, n, k, pa, a.shape[1], pb, b.shape[1], pc, n)
    return c, path(int(dtype == np.float64), tb, m, n, k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_small_kernel_tiles_and_remainders(build, dtype):
    flags, lib, tag = build
    rng = np.random.default_rng(7)
    for m in ROWS:
        for n in COLS:
            for k, ta, tb in [(37, False, False), (1, False, False), (19, True, False),
                              (13, False, True)]:  # fmt: skip
                a = rng.normal(size=(m, k))
                b = rng.normal(size=(k, n))
                sa = np.ascontiguousarray(a.T if ta else a, dtype)
                sb = np.ascontiguousarray(b.T if tb else b, dtype)
                got, path = _call(lib, tag, dtype, ta, tb, sa, sb, m, n, k)
                if not tb:
                    assert path == SMALL, (flags, m, n, k)
                want = a.astype(dtype).astype(np.float64) @ b.astype(dtype).astype(np.float64)
                tol = 4 * k * np.finfo(dtype).eps * (np.abs(a) @ np.abs(b)) + 1e-30
                err = np.abs(got - want)
                assert np.all(err <= tol), (flags, m, n, k, ta, tb, float(np.nanmax(err)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_implicit_gemm_conv_tiles(build, dtype):
    flags, _, _ = build
    rng = np.random.default_rng(3)
    nhwc = ("NHWC", "HWIO", "NHWC")
    x1, w1 = rng.standard_normal((2, 7, 9, 9)), rng.standard_normal((3, 3, 9, 37))
    x2, w2 = rng.standard_normal((1, 9, 8, 17)), rng.standard_normal((3, 2, 17, 20))
    args = [a.astype(dtype) for a in (x1, w1, x2, w2)]

    def f(x1, w1, x2, w2):
        y1 = lax.conv_general_dilated(x1, w1, (1, 1), "SAME", dimension_numbers=nhwc)
        y2 = lax.conv_general_dilated(x2, w2, (2, 1), "SAME", dimension_numbers=nhwc)
        return (y1 * y1).sum() + (y2 * y2 * 0.5).sum()

    g = jaxlite.value_and_grad(f, (0, 1, 2, 3))
    jg = jaxlite.jit(g)
    assert "jl_conv_gemm" in jg.lower(*args).as_c()
    got, want = jg(*args), g(*args)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for a, b in zip(jaxlite.tree_util.tree_leaves(got), jaxlite.tree_util.tree_leaves(want)):
        a, b = np.asarray(a), np.asarray(b)
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * np.abs(b).max(), err_msg=flags)
