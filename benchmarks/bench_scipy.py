"""jaxlite.scipy under jit on 1M float32 elements, beside SciPy (and JAX's jit when it is
importable: it is not a dependency), in one process run: medians of interleaved repetitions.

  logsumexp     scipy.special.logsumexp over the rows of f32[1024, 1024]
  norm.logpdf   scipy.stats.norm.logpdf(x, 0.5, 2.0) on f32[1M]
  gammaln       scipy.special.gammaln on f32[1M] (positive and negative arguments)

Target: jaxlite's jit faster than both SciPy and JAX's jit.

Run: .venv/bin/python benchmarks/bench_scipy.py [--repeat N] [--cpu]

`--cpu` reports CPU time (all threads) instead of wall time: on a shared, loaded machine, run it
with one thread per library for a measure of the work each does:
  OMP_NUM_THREADS=1 XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import scipy.special
import scipy.stats

import jaxlite
import jaxlite.scipy.special as jls
import jaxlite.scipy.stats as jlst
import isa  # benchmarks/isa.py (this script's directory)
from timing import (
    cpu_medians,
    settled_medians,
    try_jax,
)  # benchmarks/timing.py (this script's directory)


N = 1 << 20
rng = np.random.default_rng(0)
CASES = {
    "logsumexp": (
        rng.normal(size=(1024, 1024)).astype(np.float32) * 4,
        lambda x: jls.logsumexp(x, axis=-1),
        lambda x: scipy.special.logsumexp(x, axis=-1),
        lambda jax: lambda x: jax.scipy.special.logsumexp(x, axis=-1),
    ),
    "norm.logpdf": (
        rng.normal(size=N).astype(np.float32),
        lambda x: jlst.norm.logpdf(x, 0.5, 2.0),
        lambda x: scipy.stats.norm.logpdf(x, 0.5, 2.0),
        lambda jax: lambda x: jax.scipy.stats.norm.logpdf(x, 0.5, 2.0),
    ),
    "gammaln": (
        rng.uniform(-20, 40, size=N).astype(np.float32),
        jls.gammaln,
        scipy.special.gammaln,
        lambda jax: jax.scipy.special.gammaln,
    ),
}


def bench(name: str, repeat: int, cpu: bool = False):
    x, jl_fn, sp_fn, jax_fn = CASES[name]
    f = jaxlite.jit(jl_fn)
    got, want = np.asarray(f(x)), sp_fn(x)
    finite = np.isfinite(want)
    scale = np.maximum(np.abs(want[finite]), 1)
    assert np.max(np.abs(got[finite] - want[finite]) / scale) < 1e-4, name
    fns = {"scipy": lambda: sp_fn(x), "jaxlite jit": lambda: f(x)}
    jax = try_jax("jax.scipy.special", "jax.scipy.stats")
    if jax:
        jf = jax.jit(jax_fn(jax))
        xj = jax.device_put(x)
        jf(xj).block_until_ready()
        fns["jax jit"] = lambda: jf(xj).block_until_ready()
    medians = cpu_medians if cpu else settled_medians
    t = {k: v * 1e3 for k, v in medians(fns, repeat, 3).items()}
    ratios = [("scipy / jaxlite", t["scipy"] / t["jaxlite jit"])]
    if jax:
        ratios.append(("jax / jaxlite", t["jax jit"] / t["jaxlite jit"]))
    return t, ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--cpu", action="store_true", help="CPU time instead of wall time")
    opts = ap.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(isa.line("jax"))  # the ISA each library runs
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average {load:.1f}, numpy {np.__version__}, "
          f"scipy {scipy.__version__}; {'CPU' if opts.cpu else 'wall'} time, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")  # fmt: skip
    missed = []
    for name in CASES:
        times, ratios = bench(name, opts.repeat, opts.cpu)
        print(f"\n{name}")
        for k, v in times.items():
            print(f"  {k:<16}{v:>10.3f} ms")
        for label, value in ratios:
            missed += [] if value > 1 else [f"{name} {label}"]
            print(f"  -> {label:<18}{value:>8.2f}   target > 1{'' if value > 1 else '   MISSED'}")
    if missed:
        print(f"\ntargets missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
