"""The paths of the runtime library's folded update `C = cin + alpha (A B)` (csrc/jl_gemm.c,
`jl_rt_gemm_upd_*`) other than the small kernel chosen for the product: a contraction of at most
64 (a batch's weight gradient) takes the small kernel's fused update whatever the product's
path; the packed kernel updates each tile in its last pass over k (no pass over C after the
product), also where BLAS computes the product.

Checked through cffi in this CPU's build and, on x86-64, an AVX2 build (`-mno-avx512f`), with
the table of measured choices forced to each path: bit for bit against the product of the
kernel the update takes followed by NumPy's `cin + alpha * g` (the unfused code's two
roundings), and against float64 within the product's rounding, at
row and column remainders of both kernels' tiles, transposed A (the weight gradient's x^T),
ragged columns, k past KC (two passes: only the last updates), a product large enough for
threads (the result must not depend on them). And one jitted SGD step whose weight gradients
take these paths, against the same step unfolded and against eager.
"""

from __future__ import annotations


import numpy as np
import pytest

import jaxlite
from jaxlite.backend import compile as cb

SMALL, PACKED, BLAS = 1, 2, 3
# (m, n, k, ta): k <= 64 (the small kernel's update whatever the path), then the packed kernel's
# (row remainders of 6- and 4-row tiles, columns past whole strips, k past KC = 256), and one of
# 2^22 multiply-adds or more (threads, when free)
SHAPES = [(70, 52, 40, True), (33, 48, 64, False), (5, 3, 7, True), (70, 52, 100, True),
          (13, 100, 300, False), (131, 97, 80, True), (256, 130, 65, False),
          (200, 160, 132, True),
          # outputs narrower than any build's vector (4 doubles): the small kernel's update too
          (40, 3, 100, True)]  # fmt: skip


@pytest.fixture(scope="module")
def build(runtime_build):
    return runtime_build[1:]  # (conftest.runtime_build: each build, its choice table restored)


def _force(lib, tag, path):
    nclass = lib.function(f"jl_rt_gemm_nclass_{tag}", "int(*)(void)")()
    cb.set_gemm_choice(lib, tag, {d: [path] * nclass for d in ("float32", "float64")})


def _ptr(dt, x):
    return cb.ffi.from_buffer(("float" if dt == np.float32 else "double") + "[]", x)


def _product(lib, tag, dt, ta, a, b, m, n, k):
    s, ct = ("f32", "float") if dt == np.float32 else ("f64", "double")
    ws = lib.function(f"jl_rt_gemm_ws_{s}_{tag}", f"void(*)(_Bool, _Bool, int64_t, int64_t, "
                      f"int64_t, {ct} *, int64_t, {ct} *, int64_t, {ct} *, int64_t, {ct} *, "
                      "int64_t)")  # fmt: skip
    c, scratch = np.full((m, n), np.nan, dt), np.zeros(1 << 18, dt)
    ws(ta, False, m, n, k, _ptr(dt, a), a.shape[1], _ptr(dt, b), n, _ptr(dt, c), n,
       _ptr(dt, scratch), scratch.size)  # fmt: skip
    return c


def _update(lib, tag, dt, ta, a, b, w, alpha, m, n, k):
    s, ct = ("f32", "float") if dt == np.float32 else ("f64", "double")
    upd = lib.function(f"jl_rt_gemm_upd_{s}_{tag}", f"void(*)(_Bool, _Bool, int64_t, int64_t, "
                       f"int64_t, {ct} *, int64_t, {ct} *, int64_t, {ct} *, int64_t, {ct} *, "
                       f"int64_t, {ct}, {ct} *, int64_t)")  # fmt: skip
    c, scratch = np.full((m, n), np.nan, dt), np.zeros(1 << 18, dt)
    upd(ta, False, m, n, k, _ptr(dt, a), a.shape[1], _ptr(dt, b), n, _ptr(dt, c), n,
        _ptr(dt, scratch), scratch.size, alpha, _ptr(dt, w), n)  # fmt: skip
    return c


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("path", [PACKED, BLAS], ids=["packed", "blas"])
def test_update_paths(build, dtype, path):
    lib, tag = build
    rng = np.random.default_rng(7)
    alpha = dtype(-0.0625)
    for m, n, k, ta in SHAPES:
        a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        w = rng.standard_normal((m, n)).astype(dtype)
        # the kernel the update takes: the small one for k <= 64 or narrow outputs, else the
        # packed one (where BLAS computes the product too)
        _force(lib, tag, SMALL if k <= 64 or n < 4 else PACKED)
        g = _product(lib, tag, dtype, ta, a, b, m, n, k)
        _force(lib, tag, path)
        got = _update(lib, tag, dtype, ta, a, b, w, alpha, m, n, k)
        want = w + alpha * g  # NumPy: alpha * g rounded, then the add
        np.testing.assert_array_equal(got, want, err_msg=f"{(m, n, k, ta)}")
        exact = (a.T if ta else a).astype(np.float64) @ b.astype(np.float64)
        tol = 1e-4 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, w + float(alpha) * exact, rtol=tol, atol=tol * k)


def test_jitted_step_with_packed_weight_gradients():
    """An SGD step of a batch of 72 (weight gradients 40 x 136 x 72 and 136 x 24 x 72: past the
    small kernel's update) with the packed kernel forced: folded (each tile updated in the
    packed kernel's store), bit for bit as unfolded (the packed product, then the update), close
    to eager."""
    from tests.test_gemm_fold import check, mlp_data, mlp_loss

    params, x, y = mlp_data(np.dtype(np.float32), batch=72, sizes=(40, 136, 24))

    def make():
        def step(p, x, y):
            v, g = jaxlite.value_and_grad(mlp_loss)(p, x, y)
            return v, jaxlite.tree_util.tree_map(lambda a, b: a - 0.01 * b, p, g)

        return step

    check(make, (params, x, y), 2, np.dtype(np.float32), path=PACKED)
