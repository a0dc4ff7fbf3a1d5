"""The packed product kernel of the runtime library (csrc/jl_gemm.c, jl_packed_serial and its
threaded slabs), called directly with the kernel choice forced to it, against NumPy in float64:
every layout (A or B stored transposed), rows past the last whole MR-row panel, columns past
the last whole strip, several KC-step passes, NC-column blocks, MC-row blocks of a transposed A,
row strides wider than the matrices, with and without the caller's scratch (too small a scratch:
the kernel allocates), and products large enough for the threaded slabs.
"""

from __future__ import annotations

import numpy as np
import pytest

from jaxlite.backend import compile as cb
from jaxlite.backend import rules_dot

PACKED = 2
KC, NC, MC = rules_dot.PK_KC, rules_dot.PK_NC, rules_dot.PK_MC
# (m, n, k): one panel and one strip; ragged rows (m % 6, m % 4) and columns (< one strip, and
# after whole strips at any vector width); k = 1; several KC passes with a short last one; more
# than NC columns; more than MC rows (a transposed A: two MC blocks); m = 1 and n = 1; and the
# transformer block's product shapes (benchmarks/bench_transformer.py) with fewer rows
SHAPES = [(6, 64, 8), (13, 70, 19), (5, 3, 300), (1, 200, 33), (200, 1, 40), (7, 33, 1),
          (64, 130, KC + 5), (31, NC + 17, 20), (MC + 7, 50, 2 * KC + 1), (48, 768, 256),
          (48, 256, 1024), (24, 1024, 256)]  # fmt: skip


@pytest.fixture(scope="module")
def rt():
    cc = cb.find_compiler()
    lib = cb.runtime_library(cc)
    tag, key = cb.runtime_tag(cc), cb._runtime_key(cc)[1]
    table = cb.gemm_choice(lib, tag, key)
    nclass = lib.function(f"jl_rt_gemm_nclass_{tag}", "int(*)(void)")()
    cb.set_gemm_choice(lib, tag, {"float32": [PACKED] * nclass, "float64": [PACKED] * nclass})
    yield lib, tag
    cb.set_gemm_choice(lib, tag, table)


def _gemm(lib, tag, dtype, scratch: bool):
    s, t = ("f64", "double") if dtype == np.float64 else ("f32", "float")
    args = (
        f"_Bool, _Bool, int64_t, int64_t, int64_t, {t} *, int64_t, {t} *, int64_t, {t} *, int64_t"
    )
    if scratch:
        return lib.function(f"jl_rt_gemm_ws_{s}_{tag}", f"void(*)({args}, {t} *, int64_t)"), t
    return lib.function(f"jl_rt_gemm_{s}_{tag}", f"void(*)({args})"), t


def _run(rt, dtype, shape, ta, tb, scratch=None, pad=0):
    """C = A B through the runtime library, A and B stored transposed when ta / tb, rows `pad`
    elements wider than the matrices; `scratch`: its elements (None: the call without)."""
    lib, tag = rt
    m, n, k = shape
    rng = np.random.default_rng(m * 7919 + n * 31 + k + 2 * ta + tb)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)

    def stored(x, t):
        x = x.T if t else x
        out = np.zeros((x.shape[0], x.shape[1] + pad), dtype)
        out[:, : x.shape[1]] = x
        return out

    sa, sb = stored(a, ta), stored(b, tb)
    c = np.full((m, n + pad), np.nan, dtype)
    fn, t = _gemm(lib, tag, dtype, scratch is not None)
    ptr = lambda x: cb.ffi.cast(f"{t} *", x.ctypes.data)  # noqa: E731
    args = [ta, tb, m, n, k, ptr(sa), sa.shape[1], ptr(sb), sb.shape[1], ptr(c), n + pad]
    if scratch is not None:
        buf = np.zeros(max(scratch, 1) + 16, dtype)
        off = (-buf.ctypes.data % 64) // buf.itemsize  # 64-byte aligned, as the lowering's
        args += [cb.ffi.cast(f"{t} *", buf.ctypes.data + off * buf.itemsize), scratch]
    fn(*args)
    want = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    tol = 4 * k * np.finfo(dtype).eps * scale + np.finfo(dtype).tiny
    err = np.abs(c[:, :n] - want)
    assert np.all(err <= tol), (shape, ta, tb, float(np.nanmax(err)))
    if pad:
        assert np.isnan(c[:, n:]).all()  # nothing written past the row's n elements


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_packed_kernel_matches_numpy(rt, dtype, shape):
    m, n, k = shape
    for ta in (False, True):
        for tb in (False, True):
            # the lowering's scratch (rules_dot.scratch_elems), then none: allocated
            _run(rt, dtype, shape, ta, tb, rules_dot.scratch_elems(np.dtype(dtype), m, n, k))
            _run(rt, dtype, shape, ta, tb)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_wider_rows_and_short_scratch(rt, dtype):
    # row strides past the matrices' widths (a view of a wider array: nothing written past n),
    # and a scratch too small for the product (the kernel allocates its own)
    for ta in (False, True):
        for tb in (False, True):
            _run(rt, dtype, (MC + 7, 70, KC + 3), ta, tb, pad=5)
            _run(rt, dtype, (13, 70, 19), ta, tb, scratch=10)


def test_threaded_slabs(rt):
    # from 2^22 multiply-adds each thread takes a slab of C (by columns when C is wider than
    # tall, else by rows: ragged slabs of whole panels and strips); on one thread, the serial
    # kernel: exact either way
    for shape in [(130, 1000, 40), (1000, 130, 40), (391, 1100, 13)]:
        for ta in (False, True):
            _run(rt, np.float32, shape, ta, not ta)


def test_scratch_elems_covers_every_vector_width():
    # the lowering's scratch for the packed kernel: B's KC x NC block (n rounded up to whole
    # strips of 4 vectors of 64 bytes) and A's rows (rounded up to 6- or 4-row panels, at most MC)
    f32, f64 = np.dtype(np.float32), np.dtype(np.float64)
    assert rules_dot.scratch_elems(f32, 13, 70, 19) >= 19 * (128 + 16)
    assert rules_dot.scratch_elems(f64, 13, 70, 19) >= 19 * (96 + 16)
    assert rules_dot.scratch_elems(f32, 1000, 2000, 1000) == KC * (NC + MC)
