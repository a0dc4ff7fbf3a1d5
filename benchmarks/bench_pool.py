"""Max and average pooling alone under jit, beside JAX jit and PyTorch eager when importable:
forward, and forward + backward (the gradient of a weighted sum), at the LeNet step's two pools
(2x2, stride 2, NHWC; PyTorch NCHW, its native layout): 128x28x28x32 and 128x14x14x64, float32.
Medians of interleaved repetitions (benchmarks/timing.py).

  python benchmarks/bench_pool.py [--repeat N] [--cpu]

`--cpu` reports CPU time: run it with one thread per library (OMP_NUM_THREADS=1
OPENBLAS_NUM_THREADS=1 XLA_FLAGS="--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1") on a loaded machine.
"""

from __future__ import annotations

import argparse

import numpy as np

import jaxlite
import isa  # benchmarks/isa.py (this script's directory)
from timing import cpu_medians, settled_medians, try_jax, try_torch

SHAPES = {"pool1 128x28x28x32": (128, 28, 28, 32), "pool2 128x14x14x64": (128, 14, 14, 64)}
WIN = (1, 2, 2, 1)


def fns_for(L, kind):
    """Forward and forward+backward of a 2x2 pool in library `L` (jaxlite or jax)."""

    def pool(x):
        if kind == "max":
            return L.lax.reduce_window(x, -np.inf, L.lax.max, WIN, WIN, "VALID")
        return L.lax.reduce_window(x, 0.0, L.lax.add, WIN, WIN, "VALID") * 0.25

    fwd = L.jit(pool)
    bwd = L.jit(L.grad(lambda x, w: (pool(x) * w).sum()))
    return fwd, bwd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=11)
    ap.add_argument("--cpu", action="store_true")
    args = ap.parse_args()
    print(isa.line("jax", "torch"))  # the ISA each library runs
    medians = cpu_medians if args.cpu else settled_medians
    jax, torch = try_jax(), try_torch()
    rng = np.random.default_rng(0)
    for kind in ("max", "avg"):
        for name, shape in SHAPES.items():
            fns = case_fns(kind, shape, rng, jax, torch)
            for _ in range(2):
                for fn in fns.values():
                    fn()
            t = medians(fns, args.repeat, 5)
            print(f"{kind} {name}: " + ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in t.items()))


def case_fns(kind, shape, rng, jax, torch):
    x = rng.standard_normal(shape).astype(np.float32)
    oshape = (shape[0], shape[1] // 2, shape[2] // 2, shape[3])
    w = rng.standard_normal(oshape).astype(np.float32)
    fns = {}
    f, b = fns_for(jaxlite, kind)
    xj, wj = jaxlite.numpy.asarray(x), jaxlite.numpy.asarray(w)
    fns["jaxlite fwd"], fns["jaxlite fwd+bwd"] = lambda: f(xj), lambda: b(xj, wj)
    if jax is not None:
        jf, jb = fns_for(jax, kind)
        xx, wx = jax.numpy.asarray(x), jax.numpy.asarray(w)
        np.testing.assert_allclose(np.asarray(b(xj, wj)), np.asarray(jb(xx, wx)), 1e-6)
        fns["JAX fwd"] = lambda: jf(xx).block_until_ready()
        fns["JAX fwd+bwd"] = lambda: jb(xx, wx).block_until_ready()
    if torch is not None:
        F = torch.nn.functional
        tx = torch.tensor(x.transpose(0, 3, 1, 2).copy())
        tw = torch.tensor(w.transpose(0, 3, 1, 2).copy())
        tpool = F.max_pool2d if kind == "max" else F.avg_pool2d

        def tfb():
            t = tx.clone().requires_grad_()
            (tpool(t, 2) * tw).sum().backward()
            return t.grad

        fns["PyTorch fwd"] = lambda: tpool(tx, 2)
        fns["PyTorch fwd+bwd"] = tfb
    return fns


if __name__ == "__main__":
    main()
