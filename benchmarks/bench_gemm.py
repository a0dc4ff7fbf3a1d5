"""Matrix products under jit beside OpenBLAS through NumPy, shape by shape, float32: GFLOP/s of
each and jaxlite's time over NumPy's. Target (issue 20.1): no shape more than 1.1x BLAS's time.

The shapes (m x k x n: A is m x k, B is k x n; a leading "b x" is a batch of products) are the
products of the workloads the benchmarks run: a classifier's last layer (128x784x10), a narrow
hidden layer (128x784x64), the RNN's step (32x64x64), the MLP step's forward and backward
products (the weight gradient with A transposed, the input gradient with B transposed), the
transformer's attention (batched, scores with B transposed, then the weighted sum), the RNN's
input projection hoisted out of the scan, and a CNN's im2col product (batch 8, 28x28, 3x3x32 ->
64). NumPy's batched matmul loops over BLAS calls; jaxlite's jit calls its runtime library.

Each row times, medians of interleaved settled bursts (benchmarks/timing.py):
  jit     one jitted `dot_general` (the dispatch of a jit call, ~2 us, included);
  numpy   the same product in NumPy (`a @ b`, `.T` views where a side is transposed);
  kernel  jaxlite's runtime library's product (`jl_rt_gemm_f32`, the function every kernel calls,
          which picks its own kernel or BLAS by shape class) called through cffi;
  blas    `cblas_sgemm` of the OpenBLAS build jaxlite links, called the same way.
The target is judged on `kernel` against the faster of `numpy` and `blas`: the same product
behind the same call overhead (the jit column adds jit's dispatch, reported by bench_jit.py).
Wall time by default; `--cpu` times process CPU time instead (run it with OMP_NUM_THREADS=1
OPENBLAS_NUM_THREADS=1 on a loaded machine).

Run: python benchmarks/bench_gemm.py [--repeat N] [--cpu]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

import jaxlite
from jaxlite import lax
from jaxlite.backend import compile as _compile
import isa  # benchmarks/isa.py (this script's directory)
from timing import cpu_medians, settled_medians  # benchmarks/timing.py (this script's directory)

TARGET = 1.1
# (label, batch, m, k, n, A stored transposed, B stored transposed)
SHAPES = [
    ("classifier 128x784x10", 1, 128, 784, 10, False, False),
    ("narrow 128x784x64", 1, 128, 784, 64, False, False),
    ("rnn step 32x64x64", 1, 32, 64, 64, False, False),
    ("mlp fwd 128x784x512", 1, 128, 784, 512, False, False),
    ("mlp fwd 128x512x512", 1, 128, 512, 512, False, False),
    ("mlp dW 784x128x512 (A^T)", 1, 784, 128, 512, True, False),
    ("mlp dW 512x128x512 (A^T)", 1, 512, 128, 512, True, False),
    ("mlp dx 128x512x784 (B^T)", 1, 128, 512, 784, False, True),
    ("attn qk 32x 128x64x128 (B^T)", 32, 128, 64, 128, False, True),
    ("attn pv 32x 128x128x64", 32, 128, 128, 64, False, False),
    ("ffn 1024x256x1024", 1, 1024, 256, 1024, False, False),
    ("ffn 1024x1024x256", 1, 1024, 1024, 256, False, False),
    ("rnn hoisted 32000x64x64", 1, 32000, 64, 64, False, False),
    ("cnn im2col 6272x288x64", 1, 6272, 288, 64, False, False),
]


def product(batch, m, k, n, ta, tb):
    """(jitted jaxlite function, its arguments, NumPy function) for one row."""
    rng = np.random.default_rng(0)
    a_shape = (k, m) if ta else (m, k)
    b_shape = (n, k) if tb else (k, n)
    if batch > 1:
        a_shape, b_shape = (batch, *a_shape), (batch, *b_shape)
    a = rng.normal(size=a_shape).astype(np.float32)
    b = rng.normal(size=b_shape).astype(np.float32)
    nb = 1 if batch > 1 else 0
    lc = (nb + (0 if ta else 1),)
    rc = (nb + (1 if tb else 0),)
    bd = ((0,), (0,)) if batch > 1 else ((), ())
    dims = ((lc, rc), bd)

    def f(a, b):
        out = lax.dot_general(a, b, dims)
        # NB: A transposed puts its free dimension first already (dot_general's output order)
        return out

    jf = jaxlite.jit(f)
    at = np.swapaxes(a, -1, -2) if ta else a
    bt = np.swapaxes(b, -1, -2) if tb else b
    out = np.asarray(jf(a, b))
    want = at @ bt
    np.testing.assert_allclose(out, want, rtol=1e-3, atol=1e-3 * np.sqrt(k))
    ff = _compile.ffi
    c = np.empty(want.shape, np.float32)
    pa, pb, pc = (ff.from_buffer("float[]", x) for x in (a, b, c))
    lda, ldb = a.shape[-1], b.shape[-1]
    sa, sb, sc = a[0].size if batch > 1 else 0, b[0].size if batch > 1 else 0, m * n
    gemm, cblas = _kernels()
    offs = [(pa + i * sa, pb + i * sb, pc + i * sc) for i in range(batch)]

    keep = (pa, pb, pc)  # NB: the offset pointers do not keep the arrays alive

    def kernel(keep=keep):
        for x, y, z in offs:
            gemm(ta, tb, m, n, k, x, lda, y, ldb, z, n)

    tr = lambda t: 112 if t else 111  # CblasTrans, CblasNoTrans

    def blas(keep=keep):
        for x, y, z in offs:
            cblas(101, tr(ta), tr(tb), m, n, k, 1.0, x, lda, y, ldb, 0.0, z, n)

    kernel()
    np.testing.assert_allclose(c, want, rtol=1e-3, atol=1e-3 * np.sqrt(k))
    return {"jit": lambda: jf(a, b), "numpy": lambda: at @ bt, "kernel": kernel, "blas": blas}


_KERNELS: list = []


def _kernels():
    """(jaxlite's runtime gemm_f32, OpenBLAS's cblas_sgemm), through cffi."""
    if not _KERNELS:
        cc = _compile.find_compiler()
        lib = _compile.runtime_library(cc)
        tag = _compile.runtime_tag(cc)
        gemm = lib.function(
            f"jl_rt_gemm_f32_{tag}",
            "void(*)(_Bool, _Bool, int64_t, int64_t, "
            "int64_t, float *, int64_t, float *, int64_t, float *, int64_t)",
        )
        blas = _compile.Library("blas", _compile._blas_library(), False, 0.0)
        cblas = blas.function(
            "scipy_cblas_sgemm",
            "void(*)(int, int, int, int, int, int, float, "
            "float *, int, float *, int, float, float *, int)",
        )
        path = lib.function(
            f"jl_rt_gemm_path_{tag}", "int(*)(int, _Bool, int64_t, int64_t, int64_t)"
        )
        _KERNELS.extend([gemm, cblas, blas, path])
    return _KERNELS[0], _KERNELS[1]


def path_name(m, n, k, tb) -> str:
    """The path the runtime library takes for this product (its measured choice or fixed
    rules): where it is BLAS, `kernel` and `blas` run the same code and differ by noise only."""
    return _compile.GEMM_PATHS.get(_KERNELS[3](0, tb, m, n, k), "?")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cpu", action="store_true", help="process CPU time instead of wall time")
    ap.add_argument("--only", default="", help="substring of the labels to run")
    args = ap.parse_args(argv)
    load = os.getloadavg()[0]
    print(isa.line())  # the ISA each library runs
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average {load:.1f}, "
          f"{'CPU' if args.cpu else 'wall'} time, float32")  # fmt: skip
    print(f"{'product (us per call)':<30}{'jit':>8}{'numpy':>8}{'kernel':>8}{'blas':>8}"
          f"{'kern GF/s':>10}{'np GF/s':>8}{'kern/BLAS':>10}  path")  # fmt: skip
    missed = []
    for label, batch, m, k, n, ta, tb in SHAPES:
        if args.only and args.only not in label:
            continue
        fns = product(batch, m, k, n, ta, tb)
        flops = 2.0 * batch * m * k * n
        number = max(1, min(200, int(2e7 / flops)))
        t = cpu_medians(fns, args.repeat, number) if args.cpu else settled_medians(
            fns, args.repeat, number)  # fmt: skip
        base = min(t["numpy"], t["blas"])
        ratio = t["kernel"] / base
        flag = "" if ratio <= TARGET else "  MISSED"
        if ratio > TARGET:
            missed.append(label)
        us = lambda key, t=t: f"{t[key] * 1e6:>8.1f}"
        print(f"{label:<30}{us('jit')}{us('numpy')}{us('kernel')}{us('blas')}"
              f"{flops / t['kernel'] / 1e9:>10.1f}{flops / t['numpy'] / 1e9:>8.1f}"
              f"{ratio:>10.2f}  {path_name(m, n, k, tb)}{flag}")  # fmt: skip
    print(
        f"target: every runtime product <= {TARGET}x the faster BLAS call: "
        + ("met" if not missed else f"MISSED ({', '.join(missed)})")
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
