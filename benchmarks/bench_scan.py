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


def timeit(fn, repeat: int) -> float:
    """The fastest of `repeat` calls, in seconds (after one warm-up call).

    NB: the minimum, not the median: on a shared machine, the scheduler's time slices (~4 ms)
    land on some calls and not others, and the minimum is the uncontended time.
    """
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def block(tree):
    import jaxlite

    for x in jaxlite.tree_util.tree_leaves(tree):
        np.asarray(x)
    return tree


def bench_jaxlite(repeat: int) -> dict:
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
    return {
        "forward": timeit(lambda: block(run(params, h0, xs)), repeat),
        "grad": timeit(lambda: block(grad(params, h0, xs)), max(repeat // 2, 3)),
        "max_abs_err_vs_numpy": err,
    }


def bench_jax(repeat: int) -> dict | None:
    try:
        import jax
        import jax.numpy as jnp
        from jax import lax
    except ImportError:
        return None
    params, h0, xs = make_data()
    run = jax.jit(rnn_scan(lax, jnp))

    def loss(p, h0, xs):
        h, ys = rnn_scan(lax, jnp)(p, h0, xs)
        return jnp.mean(ys * ys)

    grad = jax.jit(jax.grad(loss))
    return {
        "forward": timeit(lambda: jax.block_until_ready(run(params, h0, xs)), repeat),
        "grad": timeit(lambda: jax.block_until_ready(grad(params, h0, xs)), max(repeat // 2, 3)),
    }


def compile_once(n: int) -> tuple[float, int]:
    """Trace + lower + C compile (`jit(f).lower(...).compile()`) of the n-step scan; the size of
    its C source."""
    import jaxlite
    import jaxlite.numpy as jnp
    from jaxlite import lax

    params, h0, _ = make_data(1)
    xs = np.zeros((n, BATCH, HIDDEN), np.float32)  # only the shape matters
    run = jaxlite.jit(rnn_scan(lax, jnp))
    t0 = time.perf_counter()
    lowered = run.lower(params, h0, xs)
    lowered.compile()
    return time.perf_counter() - t0, len(lowered.as_c())


def compile_times(step_counts) -> dict:
    """`compile_once` per number of steps, each in a new process with an empty compile cache."""
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
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--compile-only", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.compile_only is not None:
        print(*compile_once(args.compile_only))
        return 0

    params, h0, xs = make_data()
    t_numpy = timeit(lambda: rnn_numpy(params, h0, xs), max(args.repeat // 4, 3))
    jl = bench_jaxlite(args.repeat)
    jx = bench_jax(args.repeat)

    print(f"RNN cell, {STEPS} steps, hidden {HIDDEN}, batch {BATCH}, float32 (fastest of N runs)")
    print(f"  NumPy Python loop          {t_numpy * 1e3:8.2f} ms")
    speedup = t_numpy / jl["forward"]
    print(f"  jaxlite jit(scan)          {jl['forward'] * 1e3:8.2f} ms   {speedup:5.1f}x NumPy"
          f"   (max |err| vs NumPy {jl['max_abs_err_vs_numpy']:.1e})")  # fmt: skip
    print(f"  jaxlite jit(grad(scan))    {jl['grad'] * 1e3:8.2f} ms")
    if jx is None:
        print("  JAX                        not installed")
    else:
        print(f"  JAX jit(scan)              {jx['forward'] * 1e3:8.2f} ms")
        print(f"  JAX jit(grad(scan))        {jx['grad'] * 1e3:8.2f} ms")

    print("cold trace + lower + C compile of jit(scan), by number of steps:")
    times = compile_times([10, 1000, 100_000])
    for n, (t, size) in times.items():
        print(f"  {n:>7} steps   {t * 1e3:8.1f} ms   C source {size} bytes")
    ok = speedup >= 10.0
    print(f"target >= 10x NumPy: {'met' if ok else 'NOT met'} ({speedup:.1f}x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
