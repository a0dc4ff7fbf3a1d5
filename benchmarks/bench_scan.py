"""A 1000-step RNN cell `h = tanh(h @ Wh + x_t @ Wx + b)` (hidden 64, batch 32, float32) run by
`jit(lax.scan)`, beside a NumPy Python loop and, when installed, JAX's `jit(lax.scan)`.
Targets (issue 20.4): jaxlite's `jit(scan)` <= 0.67x JAX's time and `jit(grad(scan))` <= 0.5x
JAX's, in one run (not judged when JAX is not installed). Also reported: the compute floor (the
run's multiply-adds at this machine's BLAS rate for the scan's products, hoisted input projection
and per-step recurrent product measured apart; and jaxlite's own products alone: the same scan
without tanh and ys, so `jit(scan)` minus it is the step's elementwise work and ys), and the trace + lower + C compile time for 10,
1,000 and 100,000 steps (each in a new process with an empty compile cache directory, so every
compile is a real one; it does not grow with the steps: the scan is one C loop).

Wall time by default; `--cpu` times process CPU time instead (on a loaded machine, run it with
one thread for both: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 XLA_FLAGS=
"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").

Run: .venv/bin/python benchmarks/bench_scan.py [--repeat N] [--cpu] [--no-compile]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import isa  # benchmarks/isa.py (this script's directory)
from timing import cpu_medians, settled_medians  # benchmarks/timing.py (this script's directory)

HIDDEN, BATCH, STEPS = 64, 32, 1000


def make_data(steps: int = STEPS, seed: int = 0):
    rng = np.random.default_rng(seed)
    f32 = np.float32
    params = {
        "Wh": (rng.normal(size=(HIDDEN, HIDDEN)) / np.sqrt(HIDDEN)).astype(f32),
        "Wx": (rng.normal(size=(HIDDEN, HIDDEN)) / np.sqrt(HIDDEN)).astype(f32),
        "b": np.zeros(HIDDEN, f32),
    }
    h0 = np.zeros((BATCH, HIDDEN), f32)
    xs = rng.normal(size=(steps, BATCH, HIDDEN)).astype(f32)
    return params, h0, xs


def rnn_numpy(params, h0, xs):
    h, ys = h0, np.empty(xs.shape, np.float32)
    wh, wx, b = params["Wh"], params["Wx"], params["b"]
    for t in range(xs.shape[0]):
        h = np.tanh(h @ wh + xs[t] @ wx + b)
        ys[t] = h
    return h, ys


def rnn_scan(lax, jnp):
    def run(params, h0, xs):
        def cell(h, x):
            h = jnp.tanh(h @ params["Wh"] + x @ params["Wx"] + params["b"])
            return h, h

        return lax.scan(cell, h0, xs)

    return run


def block(tree):
    import jaxlite

    for x in jaxlite.tree_util.tree_leaves(tree):
        np.asarray(x)
    return tree


def jaxlite_fns() -> tuple[dict, float]:
    """The timed jaxlite calls (forward, forward + backward), and the forward's max error."""
    import jaxlite
    import jaxlite.numpy as jnp
    from jaxlite import lax

    params, h0, xs = make_data()
    run = jaxlite.jit(rnn_scan(lax, jnp))
    h, ys = run(params, h0, xs)
    h_ref, ys_ref = rnn_numpy(params, h0, xs)
    err = float(np.max(np.abs(np.asarray(ys) - ys_ref)))

    def loss(p, h0, xs):
        h, ys = rnn_scan(lax, jnp)(p, h0, xs)
        return jnp.mean(ys * ys)

    grad = jaxlite.jit(jaxlite.grad(loss))

    def products_only(params, h0, xs):  # the forward's products alone: no tanh, no ys
        return lax.scan(lambda h, x: (h @ params["Wh"] + x @ params["Wx"], None), h0, xs)[0]

    prod = jaxlite.jit(products_only)
    fns = {"jaxlite": lambda: block(run(params, h0, xs)),
           "jaxlite grad": lambda: block(grad(params, h0, xs)),
           "jaxlite products": lambda: block(prod(params, h0, xs))}  # fmt: skip
    return fns, err


def jax_fns() -> dict:
    try:
        import jax
        import jax.numpy as jnp
        from jax import lax
    except ImportError:
        return {}
    params, h0, xs = make_data()
    run = jax.jit(rnn_scan(lax, jnp))

    def loss(p, h0, xs):
        h, ys = rnn_scan(lax, jnp)(p, h0, xs)
        return jnp.mean(ys * ys)

    grad = jax.jit(jax.grad(loss))
    return {"jax": lambda: jax.block_until_ready(run(params, h0, xs)),
            "jax grad": lambda: jax.block_until_ready(grad(params, h0, xs))}  # fmt: skip


def floor_seconds(medians) -> tuple[float, float]:
    """The forward's compute floor through NumPy's BLAS: (the input projection of every step as
    one 32000x64x64 product, the 1000 recurrent 32x64x64 products one after another; NB: these
    include NumPy's call, ~1 us of each 3)."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(STEPS * BATCH, HIDDEN)).astype(np.float32)
    h = rng.normal(size=(BATCH, HIDDEN)).astype(np.float32)
    w = rng.normal(size=(HIDDEN, HIDDEN)).astype(np.float32)
    t = medians({"mm": lambda: a @ w, "step": lambda: h @ w}, 7, 200)
    return t["mm"], t["step"] * STEPS


def compile_once(n: int) -> tuple[float, int]:
    """Trace + lower + C compile (`jit(f).lower(...).compile()`) of the n-step scan; the size of
    its C source."""
    import jaxlite
    import jaxlite.numpy as jnp
    from jaxlite import lax

    params, h0, _ = make_data(1)
    xs = np.zeros((n, BATCH, HIDDEN), np.float32)  # only the shape matters
    run = jaxlite.jit(rnn_scan(lax, jnp))
    # jaxlite's runtime library (products; built once per machine) is not part of this measure
    from jaxlite.backend import compile as jl_compile

    jl_compile.runtime_library()
    t0 = time.perf_counter()
    lowered = run.lower(params, h0, xs)
    lowered.compile()
    return time.perf_counter() - t0, len(lowered.as_c())


def compile_times(step_counts) -> dict:
    """`compile_once` per number of steps, each in a new process with a compile cache that
    holds only the runtime library."""
    out = {}
    for n in step_counts:
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, JAXLITE_CACHE_DIR=d)
            cmd = [sys.executable, os.path.abspath(__file__), "--compile-only", str(n)]
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            seconds, size = res.stdout.split()
            out[n] = (float(seconds), int(size))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--cpu", action="store_true", help="process CPU time, not wall time")
    parser.add_argument("--no-compile", action="store_true", help="skip the compile times")
    parser.add_argument("--compile-only", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.compile_only is not None:
        print(*compile_once(args.compile_only))
        return 0

    print(isa.line("jax"))  # the ISA each library runs
    params, h0, xs = make_data()
    jl, err = jaxlite_fns()
    fns = {"numpy": lambda: rnn_numpy(params, h0, xs), **jl, **jax_fns()}
    medians = cpu_medians if args.cpu else settled_medians
    t = medians(fns, args.repeat)
    flops = 2 * 2 * STEPS * BATCH * HIDDEN * HIDDEN  # two products per step

    print(f"RNN cell, {STEPS} steps, hidden {HIDDEN}, batch {BATCH}, float32: medians of "
          f"{args.repeat} interleaved runs, {'CPU' if args.cpu else 'wall'} time; load average "
          f"{os.getloadavg()[0]:.1f}; OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}")  # fmt: skip
    print(f"  NumPy Python loop          {t['numpy'] * 1e3:8.2f} ms")
    print(
        f"  jaxlite jit(scan)          {t['jaxlite'] * 1e3:8.2f} ms   "
        f"{t['numpy'] / t['jaxlite']:5.1f}x NumPy   {flops / t['jaxlite'] / 1e9:5.1f} GFLOP/s"
        f"   (max |err| vs NumPy {err:.1e})"
    )
    print(f"  jaxlite jit(grad(scan))    {t['jaxlite grad'] * 1e3:8.2f} ms")
    print(f"  jaxlite's products alone   {t['jaxlite products'] * 1e3:8.2f} ms   (the same scan "
          f"returning h @ Wh + x @ Wx: no tanh, no ys; {flops / t['jaxlite products'] / 1e9:.1f}"
          " GFLOP/s)")  # fmt: skip
    hoisted, steps = floor_seconds(medians)
    print(f"  compute floor (forward, NumPy's BLAS): input projection as one product "
          f"{hoisted * 1e3:.2f} ms + 1000 recurrent 32x64x64 products {steps * 1e3:.2f} ms = "
          f"{(hoisted + steps) * 1e3:.2f} ms")  # fmt: skip
    ok = True
    if "jax" not in t:
        print("  JAX                        not installed: targets not judged")
    else:
        r, rg = t["jaxlite"] / t["jax"], t["jaxlite grad"] / t["jax grad"]
        print(f"  JAX jit(scan)              {t['jax'] * 1e3:8.2f} ms   jaxlite / JAX {r:.2f}"
              f"   target <= 0.67{'' if r <= 0.67 else '   MISSED'}")  # fmt: skip
        print(f"  JAX jit(grad(scan))        {t['jax grad'] * 1e3:8.2f} ms   jaxlite / JAX "
              f"{rg:.2f}   target <= 0.5{'' if rg <= 0.5 else '   MISSED'}")  # fmt: skip
        ok = r <= 0.67 and rg <= 0.5

    if not args.no_compile:
        print("cold trace + lower + C compile of jit(scan), by number of steps:")
        for n, (sec, size) in compile_times([10, 1000, 100_000]).items():
            print(f"  {n:>7} steps   {sec * 1e3:8.1f} ms   C source {size} bytes")
    print("targets met" if ok else "target MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
