"""A 1000-step RNN cell `h = tanh(h @ Wh + x_t @ Wx + b)` (hidden 64, batch 32, float32) run by
`jit(lax.scan)`, beside a NumPy Python loop and, when installed, JAX's `jit(lax.scan)`.
Target: jaxlite at least 10x faster than the NumPy loop; compile time independent of the number
of steps (the scan lowers to one C loop whatever its length).

Also reported: the forward + backward pass (`jit(grad)` through the scan, 1000 steps), and the
trace + lower + C compile time for 10, 1,000 and 100,000 steps (each in a new process with an
empty compile cache directory, so every compile is a real one).

Run: .venv/bin/python benchmarks/bench_scan.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from timing import settled_medians  # benchmarks/timing.py (this script's directory)

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
    fns = {"jaxlite": lambda: block(run(params, h0, xs)),
           "jaxlite grad": lambda: block(grad(params, h0, xs))}  # fmt: skip
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


def sgemm_rate() -> float:
    """This machine's float32 matrix-product rate (FLOP/s) through NumPy's BLAS, at the scan's
    own shapes batched into one big product: the compute floor, for context."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(STEPS * BATCH, HIDDEN)).astype(np.float32)
    w = rng.normal(size=(HIDDEN, HIDDEN)).astype(np.float32)
    t = settled_medians({"mm": lambda: a @ w}, 7)["mm"]
    return 2 * a.shape[0] * HIDDEN * HIDDEN / t


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
    parser.add_argument("--compile-only", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.compile_only is not None:
        print(*compile_once(args.compile_only))
        return 0

    params, h0, xs = make_data()
    jl, err = jaxlite_fns()
    fns = {"numpy": lambda: rnn_numpy(params, h0, xs), **jl, **jax_fns()}
    t = settled_medians(fns, args.repeat)
    flops = 2 * 2 * STEPS * BATCH * HIDDEN * HIDDEN  # two products per step

    print(f"RNN cell, {STEPS} steps, hidden {HIDDEN}, batch {BATCH}, float32: medians of "
          f"{args.repeat} interleaved runs; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"  NumPy Python loop          {t['numpy'] * 1e3:8.2f} ms")
    speedup = t["numpy"] / t["jaxlite"]
    print(
        f"  jaxlite jit(scan)          {t['jaxlite'] * 1e3:8.2f} ms   {speedup:5.1f}x NumPy"
        f"   {flops / t['jaxlite'] / 1e9:5.1f} GFLOP/s   (max |err| vs NumPy {err:.1e})"
    )
    print(f"  jaxlite jit(grad(scan))    {t['jaxlite grad'] * 1e3:8.2f} ms")
    if "jax" not in t:
        print("  JAX                        not installed")
    else:
        print(
            f"  JAX jit(scan)              {t['jax'] * 1e3:8.2f} ms   "
            f"{t['numpy'] / t['jax']:5.1f}x NumPy   jaxlite {t['jax'] / t['jaxlite']:.2f}x faster"
        )
        print(
            f"  JAX jit(grad(scan))        {t['jax grad'] * 1e3:8.2f} ms   "
            f"jaxlite {t['jax grad'] / t['jaxlite grad']:.2f}x faster"
        )
    rate = sgemm_rate()
    print(f"  compute floor: {flops / 1e6:.0f} MFLOP at NumPy's sgemm rate "
          f"({rate / 1e9:.0f} GFLOP/s) = {flops / rate * 1e3:.2f} ms; 10x NumPy needs "
          f"{t['numpy'] / 10 * 1e3:.2f} ms")  # fmt: skip

    print("cold trace + lower + C compile of jit(scan), by number of steps:")
    times = compile_times([10, 1000, 100_000])
    for n, (t, size) in times.items():
        print(f"  {n:>7} steps   {t * 1e3:8.1f} ms   C source {size} bytes")
    ok = speedup >= 10.0
    print(f"target >= 10x NumPy: {'met' if ok else 'NOT met'} ({speedup:.1f}x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
