"""The product kernel of each shape class chosen by measurement (csrc/jl_gemm.c, and
jaxlite/backend/compile.py's gemm_choice): the table is measured once, cached in the cache
directory and reused; a forced table changes the path taken; every path is exact against
NumPy (float64 accumulation within rounding) at a product of each class.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import jaxlite
from jaxlite.backend import compile as cb

SMALL, PACKED, BLAS, SLABS = 1, 2, 3, 4
# one product (m, n, k) of each class: tiny, narrow (ragged columns), small, tall A, large,
# short (m <= 64; ragged rows past the 8-row tiles, ragged columns), short contraction (k <= 64),
# huge
CLASS_SHAPES = [
    (4, 8, 16),
    (37, 3, 200),  # narrower than a vector at every width (f64 on AVX2: 4)
    (33, 80, 17),
    (600, 64, 96),
    (130, 200, 150),
    (45, 300, 200),
    (301, 203, 40),
    (1, 520, 300),  # one row (the 8 x 3 and 12 x 1 tiles' single-row remainder alone)
    (45, 300, 1),  # k = 1
    (260, 520, 500),  # huge (from 2^26 multiply-adds; ragged rows and columns)
    (29, 512, 40),  # B's rows 512 apart: its column blocks copied first
    (29, 512, 130),  # (and an update past the small kernel's blocks of 24 x 528)
    (40, 3, 200),  # narrower than a vector of 4 doubles too (AVX2 builds: -mno-avx512f)
]


@pytest.fixture(scope="module")
def rt():
    cc = cb.find_compiler()
    lib = cb.runtime_library(cc)
    tag, key = cb.runtime_tag(cc), cb._runtime_key(cc)[1]
    table = cb.gemm_choice(lib, tag, key)  # the process's table, from the cache
    yield lib, tag, key
    cb.set_gemm_choice(lib, tag, table)


def _fn(lib, tag, name, ctype):
    return lib.function(f"jl_rt_{name}_{tag}", ctype)


def test_table_is_measured_cached_and_reused(rt, tmp_path, monkeypatch):
    lib, tag, key = rt
    monkeypatch.setenv("JAXLITE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cb, "gemm_max_load", lambda: float("inf"))
    nclass = _fn(lib, tag, "gemm_nclass", "int(*)(void)")()
    table = cb.gemm_choice(lib, tag, key)
    path = cb.gemm_choice_path(key)
    assert os.path.dirname(path) == str(tmp_path) and os.path.exists(path)
    for dname in ("float32", "float64"):
        assert len(table[dname]) == nclass and set(table[dname]) <= {0, SMALL, PACKED, BLAS, SLABS}
        # the small kernel is not blocked for large products
        assert table[dname][4] != SMALL and table[dname][7] != SMALL
        # measured: the times of every path beside the choice; a path replaces the fixed rules'
        # only when faster than it by the margin, else 0 (the fixed rules)
        # (class 1, narrow outputs: the shapes of it this build's vector width puts there)
        timed = [table["seconds"][dname].get(f"{m}x{n}x{k}") for m, n, k in cb.GEMM_SHAPES[1]]
        timed = [t for t in timed if t]
        assert timed
        score = {p: sum(t[p] / min(v for v in t.values() if v > 0) for t in timed)
                 for p in timed[0] if all(t[p] > 0 for t in timed)}  # fmt: skip
        rule = cb.GEMM_PATHS[table["fixed"][dname][1]]
        if table[dname][1]:
            won = cb.GEMM_PATHS[table[dname][1]]
            assert score[won] * cb.GEMM_MARGIN < score[rule]
        else:
            assert score[rule] <= cb.GEMM_MARGIN * min(score.values())
    # reused: a table written there is what the next load takes, unmeasured
    forced = dict(table, float32=[BLAS] * nclass, float64=[PACKED] * nclass)
    with open(path, "w") as f:
        json.dump(forced, f)
    assert cb.gemm_choice(lib, tag, key)["float32"] == [BLAS] * nclass
    # a damaged file is measured again and rewritten
    with open(path, "w") as f:
        f.write("{")
    assert len(cb.gemm_choice(lib, tag, key)["float32"]) == nclass
    with open(path) as f:
        assert len(json.load(f)["float64"]) == nclass


def test_busy_machine_measures_nothing(rt, tmp_path, monkeypatch):
    lib, tag, key = rt
    monkeypatch.setenv("JAXLITE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cb, "gemm_max_load", lambda: -1.0)
    table = cb.gemm_choice(lib, tag, key)
    assert not table["measured"] and set(table["float32"]) == {0}  # the fixed rules
    assert not os.path.exists(cb.gemm_choice_path(key))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("forced", [SMALL, PACKED, BLAS, SLABS])
def test_forced_table_changes_path_and_stays_exact(rt, forced, dtype):
    lib, tag, _ = rt
    d = int(dtype == np.float64)
    nclass = _fn(lib, tag, "gemm_nclass", "int(*)(void)")()
    cb.set_gemm_choice(lib, tag, {"float32": [forced] * nclass, "float64": [forced] * nclass})
    path_of = _fn(lib, tag, "gemm_path", "int(*)(int, _Bool, int64_t, int64_t, int64_t)")
    s = "f64" if d else "f32"
    t = "double" if d else "float"
    gemm = _fn(lib, tag, f"gemm_{s}", f"void(*)(_Bool, _Bool, int64_t, int64_t, int64_t, "
               f"{t} *, int64_t, {t} *, int64_t, {t} *, int64_t)")  # fmt: skip
    w = _fn(lib, tag, "gemm_vec_width", "int(*)(int)")(d)
    rng = np.random.default_rng(0)
    classes = set()
    for m, n, k in CLASS_SHAPES:
        cls = _fn(lib, tag, "gemm_class", "int(*)(int, int64_t, int64_t, int64_t)")(d, m, n, k)
        classes.add(cls)
        for ta in (False, True):
            for tb in (False, True):
                npad = -(-n // w) * w  # the small kernel packs B (k x npad) on the stack
                fits = forced != SMALL or n % w == 0 or k * npad <= 16384
                fits = fits and not tb  # B transposed: the fixed rules for small and slabs
                fits = fits or forced in (PACKED, BLAS)
                path = path_of(d, tb, m, n, k)
                # (B transposed, not fitting: the fixed rules, the small kernel for tiny ones)
                assert path == forced if fits else tb or path != forced, (forced, m, n, k, tb)
                a = rng.standard_normal((m, k)).astype(dtype)
                b = rng.standard_normal((k, n)).astype(dtype)
                sa = np.ascontiguousarray(a.T if ta else a)
                sb = np.ascontiguousarray(b.T if tb else b)
                c = np.full((m, n), np.nan, dtype)
                ffi = cb.ffi
                gemm(ta, tb, m, n, k, ffi.cast(f"{t} *", sa.ctypes.data), sa.shape[1],
                     ffi.cast(f"{t} *", sb.ctypes.data), sb.shape[1],
                     ffi.cast(f"{t} *", c.ctypes.data), n)  # fmt: skip
                want = a.astype(np.float64) @ b.astype(np.float64)
                scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
                tol = 4 * k * np.finfo(dtype).eps * scale
                assert np.all(np.abs(c - want) <= tol), (forced, m, n, k, ta, tb)
    assert classes == set(range(nclass))


def test_jit_product_follows_the_forced_table(rt):
    lib, tag, _ = rt
    nclass = _fn(lib, tag, "gemm_nclass", "int(*)(void)")()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((37, 200)).astype(np.float32)
    w = rng.standard_normal((200, 10)).astype(np.float32)
    f = jaxlite.jit(lambda a, b: a @ b)
    for forced in (SMALL, BLAS):
        cb.set_gemm_choice(lib, tag, {"float32": [forced] * nclass, "float64": [0] * nclass})
        got = np.asarray(f(x, w))
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, x.astype(np.float64) @ w, rtol=1e-4, atol=1e-4)


# B transposed, with its own table: the small kernel computes the transposed product C^T =
# B^T A^T (jl_small_gemm_nt), B read in place: m of 1 vector and less, 2 vectors (the 12 x 2
# tile on AVX-512), 3 and more (8 x 3 tiles and 12 x 1 ones), ragged m; n past the 64-row
# blocks of C^T; k of 1 and ragged; A stored transposed (read in place when m is whole vectors)
NT_SHAPES = [(1, 1, 1), (5, 7, 3), (16, 64, 17), (32, 65, 40), (32, 130, 64), (33, 200, 9),
             (48, 70, 100), (64, 129, 31), (100, 12, 50), (128, 128, 128), (8, 300, 1)]  # fmt: skip


def _gemm_fns(lib, tag, d):
    s, t = ("f64", "double") if d else ("f32", "float")
    gemm = _fn(lib, tag, f"gemm_ws_{s}", f"void(*)(_Bool, _Bool, int64_t, int64_t, int64_t, "
               f"{t} *, int64_t, {t} *, int64_t, {t} *, int64_t, {t} *, int64_t)")  # fmt: skip
    upd = _fn(lib, tag, f"gemm_upd_{s}", f"void(*)(_Bool, _Bool, int64_t, int64_t, int64_t, "
              f"{t} *, int64_t, {t} *, int64_t, {t} *, int64_t, {t} *, int64_t, {t}, {t} *, "
              f"int64_t)")  # fmt: skip
    return t, gemm, upd


def _operands(rng, dtype, m, n, k, ta, tb):
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    sa = np.ascontiguousarray(a.T if ta else a)
    sb = np.ascontiguousarray(b.T if tb else b)
    return a, b, sa, sb


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scratch", [False, True])
def test_transposed_b_small_kernel(rt, dtype, scratch):
    lib, tag, _ = rt
    d = int(dtype == np.float64)
    nclass = _fn(lib, tag, "gemm_nclass", "int(*)(void)")()
    cb.set_gemm_choice(lib, tag, {"float32": [BLAS] * nclass, "float64": [BLAS] * nclass,
                                  "float32_tb": [SMALL] * nclass, "float64_tb": [SMALL] * nclass})  # fmt: skip
    path_of = _fn(lib, tag, "gemm_path", "int(*)(int, _Bool, int64_t, int64_t, int64_t)")
    t, gemm, _ = _gemm_fns(lib, tag, d)
    w = _fn(lib, tag, "gemm_vec_width", "int(*)(int)")(d)
    rng = np.random.default_rng(2)
    ffi = cb.ffi
    ptr = lambda x: ffi.cast(f"{t} *", x.ctypes.data)  # noqa: E731
    for m, n, k in NT_SHAPES:
        assert path_of(d, True, m, n, k) == 5, (m, n, k)  # the transposed product's kernel
        assert path_of(d, False, m, n, k) == BLAS
        for ta in (False, True):
            a, b, sa, sb = _operands(rng, dtype, m, n, k, ta, True)
            c = np.full((m, n), np.nan, dtype)
            # A^T packed (m rounded up to whole vectors) in the caller's scratch, or its own
            ns = k * (-(-m // w) * w) if scratch else 0
            buf = np.zeros(max(ns, 1), dtype)
            gemm(ta, True, m, n, k, ptr(sa), sa.shape[1], ptr(sb), sb.shape[1], ptr(c), n,
                 ptr(buf), ns)  # fmt: skip
            want = a.astype(np.float64) @ b.astype(np.float64)
            scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
            assert np.all(np.abs(c - want) <= 4 * k * np.finfo(dtype).eps * scale), (m, n, k, ta)
    # beyond its size (m > 128, or A^T over 65536 elements): the fixed rules
    assert path_of(d, True, 129, 64, 64) != 5 and path_of(d, True, 64, 64, 2000) != 5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("forced", [SMALL, PACKED, BLAS, "nt"])
def test_product_update_is_the_product_then_the_update(rt, dtype, forced):
    """jl_gemm_upd (C = cin + alpha A B) against the product of the kernel the update takes
    followed by NumPy's `cin + alpha * c` in the same dtype: bit for bit, on every path. The
    update's kernel (csrc/jl_gemm.c, JL_RT(gemm_upd)): the small one where the product's path
    is, or for a contraction of at most 64 with B untransposed where it fits; the packed one
    where the product's path is it or BLAS; else the product's path (then a pass)."""
    lib, tag, _ = rt
    d = int(dtype == np.float64)
    nclass = _fn(lib, tag, "gemm_nclass", "int(*)(void)")()
    path_of = _fn(lib, tag, "gemm_path", "int(*)(int, _Bool, int64_t, int64_t, int64_t)")
    w = _fn(lib, tag, "gemm_vec_width", "int(*)(int)")(d)

    def force(nn, tb):
        cb.set_gemm_choice(lib, tag, {"float32": [nn] * nclass, "float64": [nn] * nclass,
                                      "float32_tb": [tb] * nclass, "float64_tb": [tb] * nclass})  # fmt: skip

    def update_kernel(m, n, k, tb):
        p = path_of(d, tb, m, n, k)
        fits = (not tb and n % w == 0) or k * (-(-n // w) * w) <= 16384  # JL_SMALL_FITS
        if p == SMALL or (k <= 64 and not tb and fits):
            return (SMALL, SMALL)
        return (PACKED, PACKED) if p in (PACKED, BLAS, SLABS) else table

    table = (BLAS, SMALL) if forced == "nt" else (forced, forced)
    t, gemm, upd = _gemm_fns(lib, tag, d)
    ffi = cb.ffi
    ptr = lambda x: ffi.cast(f"{t} *", x.ctypes.data)  # noqa: E731
    rng = np.random.default_rng(3)
    alpha = dtype(-0.001)
    # (the small kernel's update in blocks of 24 x 528: row and column chunks, ragged ones)
    shapes = (
        NT_SHAPES
        if forced == "nt"
        else CLASS_SHAPES + [(784, 512, 32), (10, 33, 32), (50, 1104, 12)]
    )
    for m, n, k in shapes:
        for ta in (False, True):
            for tb in (False, True) if forced != "nt" else (True,):
                a, b, sa, sb = _operands(rng, dtype, m, n, k, ta, tb)
                ns = 70000
                buf = np.zeros(ns, dtype)
                cin = (rng.standard_normal((m, n + 3)) * 4).astype(dtype)  # rows n + 3 apart
                c = np.full((m, n), np.nan, dtype)
                force(*table)
                force(*update_kernel(m, n, k, tb))
                gemm(ta, tb, m, n, k, ptr(sa), sa.shape[1], ptr(sb), sb.shape[1], ptr(c), n,
                     ptr(buf), ns)  # fmt: skip
                force(*table)
                want = cin[:, :n] + alpha * c
                got = np.full((m, n), np.nan, dtype)
                upd(ta, tb, m, n, k, ptr(sa), sa.shape[1], ptr(sb), sb.shape[1], ptr(got), n,
                    ptr(buf), ns, alpha, ptr(cin), n + 3)  # fmt: skip
                np.testing.assert_array_equal(got, want, err_msg=str((forced, m, n, k, ta, tb)))


def test_paths_are_timed_in_interleaved_rounds_and_keep_their_fastest():
    """One preempted call (path 3's first round) does not take a path out of the race, an
    unavailable path (-1) is asked once, and a path 3x slower than the best gets the limit."""
    calls = []
    times = {1: [5.0, 5.0, 5.0], 2: [4.0, 4.2, 3.9], 3: [90.0, 3.0, 3.1], 4: [-1.0]}

    def time_fn(d, p, m, n, k, reps, limit):
        calls.append((p, limit))
        return times[p][sum(q == p for q, _ in calls) - 1]

    t = cb._time_paths(time_fn, 0, (1, 2, 3, 4), 8, 8, 8)
    assert t == {1: 5.0, 2: 3.9, 3: 3.0, 4: -1.0}
    assert [p for p, _ in calls].count(4) == 1
    assert [p for p, _ in calls] == [1, 2, 3, 4] + [1, 2, 3] * (cb.GEMM_ROUNDS - 1)
    assert calls[0][1] == float("inf") and calls[2] == (3, 12.0)
