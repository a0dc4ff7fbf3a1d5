"""The runtime library's own product kernels on threads (csrc/jl_gemm.c): the small kernel (its
products and its fused update `C = cin + alpha (A B)`, in bands of rows or, for short C, of
columns), the transposed-B kernel (blocks of C's columns) and the packed kernel (slabs) split C
into bands of the tiles the calling thread alone computes, so the bits never depend on the
thread count.

Each case runs in subprocesses: with JAXLITE_THREADS=alternate and 3 threads (every region site
alternates between 3 threads and one: two calls in a row must agree bit for bit; 3 threads split
the bands unevenly) and with OMP_NUM_THREADS=1 (no region at all): the same bytes; and close to
the float64 product. Shapes past each path's thread threshold (2^21 multiply-adds for the small
kernels, 2^22 for the packed one), with row and column remainders of the tiles and bands; in this CPU's build and, on x86-64, an AVX2 build (`-mno-avx512f`).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import textwrap

import pytest

BUILDS = ["native"] + (["-mno-avx512f"] if platform.machine() in ("x86_64", "AMD64") else [])

_SCRIPT = textwrap.dedent(
    """
    import hashlib, json, sys
    import numpy as np
    from jaxlite.backend import compile as cb

    SMALL, PACKED = 1, 2
    cc = cb.find_compiler()
    lib, tag = cb.runtime_library(cc), cb.runtime_tag(cc)
    nclass = lib.function(f"jl_rt_gemm_nclass_{tag}", "int(*)(void)")()
    ARGS = "_Bool, _Bool, int64_t, int64_t, int64_t, {0} *, int64_t, {0} *, int64_t, {0} *, int64_t"

    def fn(kind, ct):
        s = "f32" if ct == "float" else "f64"
        if kind == "ws":
            sig = f"void(*)({ARGS.format(ct)}, {ct} *, int64_t)"
        else:
            sig = f"void(*)({ARGS.format(ct)}, {ct} *, int64_t, {ct}, {ct} *, int64_t)"
        return lib.function(f"jl_rt_gemm_{kind}_{s}_{tag}", sig)

    def force(path, tb):
        table = {d: [path] * nclass for d in ("float32", "float64")}
        if tb:
            table |= {d + "_tb": [path] * nclass for d in ("float32", "float64")}
        cb.set_gemm_choice(lib, tag, table)

    def ptr(dt, x):
        return cb.ffi.from_buffer(("float" if dt == np.float32 else "double") + "[]", x)

    # (path, update, dtype, ta, tb, m, n, k)
    CASES = [
        # the small kernel: bands of rows (not a multiple of the bands' 24, ragged columns: B
        # packed), short C in bands of columns (B's rows 4 KiB apart: its column blocks copied)
        (SMALL, False, "f32", False, False, 250, 130, 97),
        (SMALL, False, "f32", True, False, 203, 144, 80),
        (SMALL, False, "f32", False, False, 40, 1024, 64),
        (SMALL, False, "f64", False, False, 37, 592, 120),
        (SMALL, False, "f64", True, False, 131, 200, 90),
        # 2 rows past the last band (a 4-row tile of the whole product in an AVX2 build, 6-row
        # tiles: the last band takes them with its whole rows)
        (SMALL, False, "f64", False, False, 50, 320, 140),
        (SMALL, False, "f32", False, False, 50, 640, 70),
        # its update: blocks (k <= 64), and f64 past the blocks' bytes (the tiles' own stores)
        (SMALL, True, "f32", True, False, 250, 260, 40),
        (SMALL, True, "f32", True, False, 787, 512, 32),
        (SMALL, True, "f64", False, False, 400, 96, 64),
        # B transposed: blocks of 64 of C's columns (the last one short)
        (SMALL, False, "f32", False, True, 40, 500, 120),
        (SMALL, False, "f32", True, True, 100, 300, 97),
        (SMALL, False, "f64", False, True, 32, 660, 128),
        # the packed kernel (slabs from 2^22), and its update
        (PACKED, False, "f32", False, False, 130, 250, 140),
        (PACKED, True, "f32", True, False, 200, 160, 132),
        (PACKED, True, "f64", False, False, 97, 300, 150),
    ]
    rng = np.random.default_rng(0)
    out = {}
    for path, upd, s, ta, tb, m, n, k in CASES:
        dt, ct = (np.float32, "float") if s == "f32" else (np.float64, "double")
        force(path, tb)
        a = rng.standard_normal((k, m) if ta else (m, k)).astype(dt)
        b = rng.standard_normal((n, k) if tb else (k, n)).astype(dt)
        w = rng.standard_normal((m, n)).astype(dt)
        scratch = np.zeros(1 << 18, dt)
        alpha = dt(-0.0625)
        results = []
        for _ in range(3):  # alternate: 3 threads, 1, 3 (when past the threshold)
            c = np.full((m, n), np.nan, dt)
            args = [ta, tb, m, n, k, ptr(dt, a), a.shape[1], ptr(dt, b), b.shape[1], ptr(dt, c),
                    n, ptr(dt, scratch), scratch.size]
            if upd:
                fn("upd", ct)(*args, alpha, ptr(dt, w), n)
            else:
                fn("ws", ct)(*args)
            results.append(c)
        name = f"{path} {'upd' if upd else 'ws'} {s} ta={ta} tb={tb} {m}x{n}x{k}"
        assert all(r.tobytes() == results[0].tobytes() for r in results), name
        exact = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
        want = w + float(alpha) * exact if upd else exact
        tol = 1e-4 if dt == np.float32 else 1e-12
        np.testing.assert_allclose(results[0], want, rtol=tol, atol=tol * k, err_msg=name)
        out[name] = hashlib.sha256(results[0].tobytes()).hexdigest()
    print(json.dumps(out))
    """
)


def _run(tmp_path, build: str, **env) -> dict:
    script = tmp_path / "gemm_threads.py"
    script.write_text(_SCRIPT)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    full = dict(os.environ, PYTHONPATH=root, JAXLITE_CFLAGS="" if build == "native" else build)
    full.update(env)
    res = subprocess.run([sys.executable, str(script)], env=full, capture_output=True,
                         text=True, timeout=900)  # fmt: skip
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("build", BUILDS)
def test_own_kernels_on_threads_give_the_bits_of_one_thread(tmp_path, build):
    threaded = _run(tmp_path, build, JAXLITE_THREADS="alternate", OMP_NUM_THREADS="3",
                    OPENBLAS_NUM_THREADS="3")  # fmt: skip
    alone = _run(tmp_path, build, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    assert threaded.keys() == alone.keys()
    differ = [name for name in threaded if threaded[name] != alone[name]]
    assert not differ, differ
