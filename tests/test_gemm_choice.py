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
# short (m <= 64; ragged rows past the 8-row tiles, ragged columns), short contraction (k <= 64)
CLASS_SHAPES = [
    (4, 8, 16),
    (37, 5, 200),
    (33, 80, 17),
    (600, 64, 96),
    (130, 200, 150),
    (45, 300, 200),
    (301, 203, 40),
    (1, 520, 300),  # one row (the 8 x 3 and 12 x 1 tiles' single-row remainder alone)
    (45, 300, 1),  # k = 1
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
        assert table[dname][4] != SMALL  # the small kernel is not blocked for large products
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
