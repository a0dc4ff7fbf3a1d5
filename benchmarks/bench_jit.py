"""jit's speed on the four workloads of the "jit to C, part 2" issue, beside NumPy (and JAX and
PyTorch when they are importable; they are not dependencies), in one process run: medians of
interleaved repetitions, and the ratios the targets are stated in.

  chain     tanh(x) * sigmoid(1.7x + 0.3) + x*x on f32[4M]: >= 8x faster than NumPy, <= 2.5x the
            time of a plain np.copyto of the same bytes (issue 20, target 5)
  mlp       MLP train step 784-512-512-10, batch 128, softmax CE + SGD, jit(value_and_grad):
            <= 0.8x the time of the hand-written NumPy step (issue 20, target 5)
  dispatch  a jitted `x + 1` on f32[4]: <= 5 us per call
  pegrad    per-example gradients jit(vmap(grad)), softmax regression 784x10, batch 128:
            >= 3.5x faster than hand-vectorized NumPy

Run: .venv/bin/python benchmarks/bench_jit.py [--repeat N] [--only chain,mlp,...]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import platform
import sys
import time

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
import isa  # benchmarks/isa.py (this script's directory)
from timing import (
    cpu_medians,
    settled_medians,
    try_jax,
    try_torch,
)  # benchmarks/timing.py (this script's directory)


_MEDIANS = [settled_medians]  # --cpu: [timing.cpu_medians]


def median_us(fns: dict, repeat: int, number: int) -> dict:
    """Median time per call of each function (us): `timing.settled_medians` (wall time), or
    `timing.cpu_medians` with --cpu (process CPU time: run with one thread per library)."""
    return {k: t * 1e6 for k, t in _MEDIANS[0](fns, repeat, number).items()}


# ------------------------------------------------------------------------------------------


def bench_chain(repeat):
    n = 4 * 1024 * 1024
    x = np.random.default_rng(0).normal(size=n).astype(np.float32)
    dst = np.empty_like(x)

    def numpy_chain():
        return np.tanh(x) * (1 / (1 + np.exp(-(1.7 * x + 0.3)))) + x * x

    f = jaxlite.jit(lambda x: jnp.tanh(x) * lax.logistic(1.7 * x + 0.3) + x * x)
    out = f(x)
    np.testing.assert_allclose(np.asarray(out), numpy_chain(), rtol=2e-6, atol=2e-6)
    fns = {
        "numpy": numpy_chain,
        "jaxlite jit": lambda: f(x),
        "np.copyto": lambda: np.copyto(dst, x),
    }
    jax = try_jax()
    if jax:
        jf = jax.jit(lambda x: jax.numpy.tanh(x) * jax.nn.sigmoid(1.7 * x + 0.3) + x * x)
        xj = jax.device_put(x)
        fns["jax jit"] = lambda: jf(xj).block_until_ready()
    torch = try_torch()
    if torch:
        xt = torch.from_numpy(x)
        fns["torch eager"] = lambda: torch.tanh(xt) * torch.sigmoid(1.7 * xt + 0.3) + xt * xt
    t = median_us(fns, repeat, 3)
    return t, [
        ("jaxlite vs numpy speed-up", t["numpy"] / t["jaxlite jit"], ">= 8"),
        ("jaxlite / copy", t["jaxlite jit"] / t["np.copyto"], "<= 2.5"),  # issue 20
    ]


def mlp_setup():
    rng = np.random.default_rng(0)
    sizes = [784, 512, 512, 10]
    params = [((rng.normal(size=(m, n)) / np.sqrt(m)).astype(np.float32), np.zeros(n, np.float32))
              for m, n in itertools.pairwise(sizes)]  # fmt: skip
    x = rng.normal(size=(128, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]
    return params, x, y


def mlp_loss(params, x, y):
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = jnp.maximum(h, 0.0)
    shifted = h - lax.stop_gradient(jnp.max(h, axis=1, keepdims=True))
    logp = shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=1, keepdims=True))
    return -jnp.mean(jnp.sum(logp * y, axis=1))


@jaxlite.jit
def mlp_step(params, x, y):
    value, grads = jaxlite.value_and_grad(mlp_loss)(params, x, y)
    return value, [(w - 0.01 * gw, b - 0.01 * gb) for (w, b), (gw, gb) in zip(params, grads)]


def numpy_mlp_step(params, x, y):
    """Hand-written forward and backward pass (the NumPy baseline)."""
    hs, h = [x], x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = np.maximum(h, 0)
        hs.append(h)
    z = h - h.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum((z - np.log(s)) * y, axis=1))
    g = (e / s - y) / x.shape[0]
    new = [None] * len(params)
    for i in range(len(params) - 1, -1, -1):
        w, b = params[i]
        gw, gb = hs[i].T @ g, g.sum(axis=0)
        if i:
            g = (g @ w.T) * (hs[i] > 0)
        new[i] = (w - 0.01 * gw, b - 0.01 * gb)
    return loss, new


def bench_mlp(repeat):
    params, x, y = mlp_setup()
    loss, new = mlp_step(params, x, y)
    loss0, new0 = numpy_mlp_step(params, x, y)
    np.testing.assert_allclose(float(loss), loss0, rtol=1e-4)
    for (w, _), (w0, _) in zip(new, new0):
        np.testing.assert_allclose(np.asarray(w), w0, rtol=1e-4, atol=1e-5)
    fns = {"numpy (hand backprop)": lambda: numpy_mlp_step(params, x, y),
           "jaxlite jit": lambda: mlp_step(params, x, y)}  # fmt: skip
    jax = try_jax()
    if jax:
        import jax.numpy as jjnp

        def jloss(params, x, y):
            h = x
            for i, (w, b) in enumerate(params):
                h = h @ w + b
                if i < len(params) - 1:
                    h = jjnp.maximum(h, 0.0)
            return -jjnp.mean(jjnp.sum(jax.nn.log_softmax(h) * y, axis=1))

        @jax.jit
        def jstep(params, x, y):
            v, g = jax.value_and_grad(jloss)(params, x, y)
            return v, jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, g)

        fns["jax jit"] = lambda: jax.block_until_ready(jstep(params, x, y))
    t = median_us(fns, repeat, 5)
    return t, [("jaxlite / numpy", t["jaxlite jit"] / t["numpy (hand backprop)"], "<= 0.8")]


def bench_dispatch(repeat):
    x = jnp.ones(4, jnp.float32)
    f = jaxlite.jit(lambda x: x + 1)
    fns = {"jaxlite jit x+1": lambda: f(x), "jaxlite eager x+1": lambda: x + 1,
           "numpy x+1": lambda: np.asarray(x) + 1}  # fmt: skip
    jax = try_jax()
    if jax:
        jf, xj = jax.jit(lambda x: x + 1), jax.numpy.ones(4, "float32")
        fns["jax jit x+1"] = lambda: jf(xj)
    t = median_us(fns, repeat, 2000)
    return t, [("jaxlite jit dispatch (us)", t["jaxlite jit x+1"], "<= 5")]


def pe_loss(params, x, y):
    logits = jnp.dot(x, params["W"]) + params["b"]
    shifted = logits - lax.stop_gradient(jnp.max(logits))
    return -jnp.sum(y * (shifted - jnp.log(jnp.sum(jnp.exp(shifted)))))


pe_grads = jaxlite.jit(jaxlite.vmap(jaxlite.grad(pe_loss), in_axes=(None, 0, 0)))


def numpy_pe_grads(W, b, xs, ys):
    logits = xs @ W + b
    e = np.exp(logits - logits.max(-1, keepdims=True))
    g = e / e.sum(-1, keepdims=True) - ys
    return {"W": xs[:, :, None] * g[:, None, :], "b": g}


def bench_pegrad(repeat):
    rng = np.random.default_rng(0)
    W = (rng.normal(size=(784, 10)) * 0.01).astype(np.float32)
    b = np.zeros(10, np.float32)
    xs = rng.normal(size=(128, 784)).astype(np.float32)
    ys = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]
    params = {"W": W, "b": b}
    got = pe_grads(params, xs, ys)
    want = numpy_pe_grads(W, b, xs, ys)
    np.testing.assert_allclose(np.asarray(got["W"]), want["W"], rtol=1e-4, atol=1e-6)
    fns = {"numpy (hand-vectorized)": lambda: numpy_pe_grads(W, b, xs, ys),
           "jaxlite jit(vmap(grad))": lambda: pe_grads(params, xs, ys)}  # fmt: skip
    t = median_us(fns, repeat, 10)
    return t, [("jaxlite speed-up vs numpy", t["numpy (hand-vectorized)"] /
                t["jaxlite jit(vmap(grad))"], ">= 3.5")]  # fmt: skip


def bench_threshold(repeat):
    """Where OpenMP threads start to pay: one cheap and one costly elementwise loop, compiled
    with and without `#pragma omp parallel for`, over sizes (sets lower.PARALLEL_MIN_WORK)."""
    from jaxlite.backend import lower

    saved = lower.PARALLEL_MIN_WORK
    times, ratios = {}, []
    for label, fn in [("x*2+1", lambda x: x * 2.0 + 1.0), ("tanh", jnp.tanh)]:
        for logn in range(12, 23, 2):
            x = np.ones(1 << logn, np.float32)
            fns = {}
            for mode, limit in (("serial", 1 << 62), ("parallel", 0)):
                lower.PARALLEL_MIN_WORK = limit
                f = jaxlite.jit(lambda x, fn=fn: fn(x))
                f(x)  # traced and compiled under this limit
                fns[mode] = functools.partial(f, x)
            lower.PARALLEL_MIN_WORK = saved
            t = median_us(fns, repeat, max(1, (1 << 20) >> logn))
            times[f"{label} 2^{logn} serial"] = t["serial"]
            times[f"{label} 2^{logn} parallel"] = t["parallel"]
            ratios.append((f"{label} 2^{logn} serial/parallel", t["serial"] / t["parallel"], "> 1"))
    return times, ratios


BENCHES = {"chain": bench_chain, "mlp": bench_mlp, "dispatch": bench_dispatch, "pegrad": bench_pegrad,
           "threshold": bench_threshold}  # fmt: skip


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--only", default="chain,mlp,dispatch,pegrad")
    ap.add_argument("--cpu", action="store_true", help="process CPU time instead of wall time")
    opts = ap.parse_args()
    if opts.cpu:
        _MEDIANS[0] = cpu_medians
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(isa.line("jax", "torch"))  # the ISA each library runs
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average {load:.1f}, numpy {np.__version__}, "
          f"{'CPU' if opts.cpu else 'wall'} time")  # fmt: skip
    missed = []
    for name in opts.only.split(","):
        times, ratios = BENCHES[name](opts.repeat)
        print(f"\n{name}")
        for k, v in times.items():
            print(f"  {k:<28}{v / 1e3:>10.3f} ms" if v > 100 else f"  {k:<28}{v:>10.2f} us")
        for label, value, target in ratios:
            ok = _meets(value, target)
            missed += [] if ok else [label]
            print(f"  -> {label:<30}{value:>8.2f}   target {target}{'' if ok else '   MISSED'}")
    if missed:
        print(f"\ntargets missed: {', '.join(missed)}")
    return 1 if missed else 0


def _meets(value: float, target: str) -> bool:
    op, bound = target.split()
    return value >= float(bound) if op in (">=", ">") else value <= float(bound)


if __name__ == "__main__":
    sys.exit(main())
