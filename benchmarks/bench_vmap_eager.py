"""Eager per-example gradients: `vmap(grad(loss), in_axes=(None, 0, 0))` for softmax regression
(784 -> 10, batch 128, float32, no jit), beside a NumPy loop over examples and a hand-vectorized
NumPy version, in one run. Targets: >= 2x faster than the loop, <= 1.5x the hand-vectorized time.

Every variant runs single-threaded (BLAS is pinned to one thread before NumPy loads: these
matrices are too small for threads to pay, and on a shared machine BLAS threads that wait for a
busy core cost milliseconds). The runs are interleaved; the report gives the median wall time and
the median CPU time of each, and checks the targets on CPU time, which other processes on the
machine do not inflate (on an idle machine the two agree).

Run: .venv/bin/python benchmarks/bench_vmap_eager.py [--repeat N]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import statistics
import sys
import time

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
import isa  # benchmarks/isa.py (this script's directory)

D, K, B = 784, 10, 128


def loss(params, x, y):
    """Softmax cross-entropy of one example: x is f32[784], y a one-hot f32[10]."""
    logits = jnp.dot(x, params["W"]) + params["b"]
    return -jnp.sum(y * jaxlite.nn.log_softmax(logits))


per_example_grads = jaxlite.vmap(jaxlite.grad(loss), in_axes=(None, 0, 0))


def _softmax_grad_np(W, b, x, y):
    logits = x @ W + b
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True) - y  # d loss / d logits


def numpy_loop(W, b, xs, ys):
    """The loop a user writes without vmap: one NumPy gradient per example, then a stack."""
    grads = []
    for x, y in zip(xs, ys):
        g = _softmax_grad_np(W, b, x, y)
        grads.append({"W": np.outer(x, g), "b": g})
    return {k: np.stack([g[k] for g in grads]) for k in ("W", "b")}


def numpy_vectorized(W, b, xs, ys):
    """The same gradients written by hand for the whole batch."""
    g = _softmax_grad_np(W, b, xs, ys)
    return {"W": xs[:, :, None] * g[:, None, :], "b": g}


def _medians_ms(fns, repeat: int) -> list[tuple[float, float]]:
    """(median wall ms, median CPU ms) of each function, with the runs interleaved."""
    for fn in fns:
        fn()  # warm-up
    times = [([], []) for _ in fns]
    for _ in range(repeat):
        for fn, (wall, cpu) in zip(fns, times):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - t0)
    return [(statistics.median(w) * 1e3, statistics.median(c) * 1e3) for w, c in times]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    W = (rng.normal(size=(D, K)) * 0.01).astype(np.float32)
    b = np.zeros(K, np.float32)
    xs = rng.normal(size=(B, D)).astype(np.float32)
    ys = np.eye(K, dtype=np.float32)[rng.integers(0, K, size=B)]
    params = {"W": jnp.asarray(W), "b": jnp.asarray(b)}
    jx, jy = jnp.asarray(xs), jnp.asarray(ys)

    got = per_example_grads(params, jx, jy)
    want = numpy_vectorized(W, b, xs, ys)
    for k in ("W", "b"):
        assert got[k].dtype == np.float32, got[k].dtype
        np.testing.assert_allclose(np.asarray(got[k]), want[k], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(numpy_loop(W, b, xs, ys)[k], want[k], rtol=1e-4, atol=1e-6)

    (w_vmap, c_vmap), (w_loop, c_loop), (w_vec, c_vec) = _medians_ms(
        [
            lambda: per_example_grads(params, jx, jy),
            lambda: numpy_loop(W, b, xs, ys),
            lambda: numpy_vectorized(W, b, xs, ys),
        ],
        args.repeat,
    )
    print(isa.line())  # the ISA each library runs
    print(f"per-example gradients, softmax regression {D}x{K}, batch {B}, float32, eager")
    print(f"  medians of {args.repeat} interleaved runs    wall ms    CPU ms")
    print(f"  jaxlite vmap(grad(loss))          {w_vmap:8.3f}  {c_vmap:8.3f}")
    print(f"  NumPy loop over examples          {w_loop:8.3f}  {c_loop:8.3f}")
    print(f"  NumPy hand-vectorized             {w_vec:8.3f}  {c_vec:8.3f}")
    speedup, overhead = c_loop / c_vmap, c_vmap / c_vec
    print(f"  vmap vs loop: {speedup:.2f}x faster (target >= 2; wall: {w_loop / w_vmap:.2f}x)")
    print(f"  vmap vs hand-vectorized: {overhead:.2f}x the time (target <= 1.5; wall: "
          f"{w_vmap / w_vec:.2f}x)")  # fmt: skip
    ok = speedup >= 2.0 and overhead <= 1.5
    print("  targets met" if ok else "  TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
