"""A pre-LayerNorm transformer block's SGD training step under jit, beside JAX `jit` and PyTorch
eager (when installed; neither is a dependency), in one run: medians of interleaved settled
repetitions (benchmarks/timing.py).

The block: batch 8, sequence 128, d_model 256, 4 heads of 64, causal softmax attention, an MLP
of 1024 with GELU (tanh form), LayerNorms before attention and MLP, residuals; loss = mean of the
block's output squared; SGD on every parameter. Target (issue 20.2): jaxlite <= 0.8x the time of
the faster of JAX and PyTorch.

Wall time by default; `--cpu` times process CPU time (all threads) instead: on a loaded machine,
run it with one thread for every library (OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
MKL_NUM_THREADS=1 XLA_FLAGS="--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1"; this script sets PyTorch's own thread count from
OMP_NUM_THREADS).

Run: python benchmarks/bench_transformer.py [--repeat N] [--cpu]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
import isa  # benchmarks/isa.py (this script's directory)
from timing import cpu_medians, settled_medians, try_jax, try_torch  # benchmarks/timing.py

B, T, D, H, F = 8, 128, 256, 4, 1024
LR = 0.01
TARGET = 0.8


def init_params(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)

    def w(*shape):
        return (rng.normal(size=shape) / np.sqrt(shape[0])).astype(np.float32)

    z = lambda n: np.zeros(n, np.float32)  # noqa: E731
    o = lambda n: np.ones(n, np.float32)  # noqa: E731
    return {"ln1_g": o(D), "ln1_b": z(D), "wqkv": w(D, 3 * D), "bqkv": z(3 * D),
            "wo": w(D, D), "bo": z(D), "ln2_g": o(D), "ln2_b": z(D),
            "w1": w(D, F), "b1": z(F), "w2": w(F, D), "b2": z(D)}  # fmt: skip


def make_block(np_like, nn, where):
    """The loss of the block, written once for jaxlite and JAX (`np_like`, `nn`: their numpy
    and nn modules)."""

    def layer_norm(x, g, b):
        mu = np_like.mean(x, axis=-1, keepdims=True)
        var = np_like.mean((x - mu) ** 2, axis=-1, keepdims=True)
        return (x - mu) / np_like.sqrt(var + 1e-5) * g + b

    mask = np.tril(np.ones((T, T), bool))

    def block(p, x):
        h = layer_norm(x, p["ln1_g"], p["ln1_b"])
        qkv = h @ p["wqkv"] + p["bqkv"]  # (B, T, 3D)
        qkv = qkv.reshape(B, T, 3, H, D // H).transpose(2, 0, 3, 1, 4)  # (3, B, H, T, Dh)
        q, k, v = qkv[0], qkv[1], qkv[2]
        s = (q @ k.transpose(0, 1, 3, 2)) * (1.0 / math.sqrt(D // H))  # (B, H, T, T)
        s = where(mask, s, -1e9)
        a = nn.softmax(s, axis=-1)
        o = (a @ v).transpose(0, 2, 1, 3).reshape(B, T, D)
        x = x + o @ p["wo"] + p["bo"]
        h = layer_norm(x, p["ln2_g"], p["ln2_b"])
        h = nn.gelu(h @ p["w1"] + p["b1"], approximate=True)
        return x + h @ p["w2"] + p["b2"]

    def loss(p, x):
        y = block(p, x)
        return np_like.mean(y * y)

    return loss


def jaxlite_step():
    loss = make_block(jnp, jaxlite.nn, jnp.where)

    @jaxlite.jit
    def step(p, x):
        v, g = jaxlite.value_and_grad(loss)(p, x)
        return v, {k: p[k] - LR * g[k] for k in p}

    return step


def jax_step(jax):
    loss = make_block(jax.numpy, jax.nn, jax.numpy.where)

    @jax.jit
    def step(p, x):
        v, g = jax.value_and_grad(loss)(p, x)
        return v, {k: p[k] - LR * g[k] for k in p}

    return step


def torch_step(torch, params):
    F_ = torch.nn.functional
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))

    def block(x):
        h = F_.layer_norm(x, (D,), p["ln1_g"], p["ln1_b"], 1e-5)
        qkv = h @ p["wqkv"] + p["bqkv"]
        q, k, v = qkv.reshape(B, T, 3, H, D // H).permute(2, 0, 3, 1, 4)
        s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(D // H))
        s = s.masked_fill(~mask, -1e9)
        a = torch.softmax(s, dim=-1)
        o = (a @ v).transpose(1, 2).reshape(B, T, D)
        x = x + o @ p["wo"] + p["bo"]
        h = F_.layer_norm(x, (D,), p["ln2_g"], p["ln2_b"], 1e-5)
        h = F_.gelu(h @ p["w1"] + p["b1"], approximate="tanh")
        return x + h @ p["w2"] + p["b2"]

    def step(x):
        for t in p.values():
            t.grad = None
        y = block(x)
        loss = (y * y).mean()
        loss.backward()
        with torch.no_grad():
            for t in p.values():
                t -= LR * t.grad
        return loss

    return step, p


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--cpu", action="store_true", help="process CPU time instead of wall time")
    ap.add_argument("--no-anchors", action="store_true", help="jaxlite alone")
    args = ap.parse_args(argv)
    params = init_params()
    x = np.random.default_rng(1).normal(size=(B, T, D)).astype(np.float32)

    step = jaxlite_step()
    v0, new = step(params, x)
    fns = {"jaxlite jit": lambda: step(params, x)}
    jax = None if args.no_anchors else try_jax()
    if jax:
        jstep = jax_step(jax)
        pj = {k: jax.device_put(v) for k, v in params.items()}
        xj = jax.device_put(x)
        vj, newj = jstep(pj, xj)
        np.testing.assert_allclose(float(v0), float(vj), rtol=2e-4)
        for k in params:
            np.testing.assert_allclose(np.asarray(new[k]), np.asarray(newj[k]), rtol=2e-3,
                                       atol=2e-5, err_msg=k)  # fmt: skip
        fns["jax jit"] = lambda: jax.block_until_ready(jstep(pj, xj))
    torch = None if args.no_anchors else try_torch()
    if torch:
        if "OMP_NUM_THREADS" in os.environ:
            torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        tstep, _ = torch_step(torch, params)
        xt = torch.from_numpy(x)
        vt = float(tstep(xt))
        np.testing.assert_allclose(float(v0), vt, rtol=2e-4)
        fns["torch eager"] = lambda: tstep(xt)

    t = cpu_medians(fns, args.repeat, 3) if args.cpu else settled_medians(fns, args.repeat, 3)
    load = os.getloadavg()[0]
    print(isa.line("jax", "torch"))  # the ISA each library runs
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average {load:.1f}, "
          f"{'CPU' if args.cpu else 'wall'} time; threads: OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}")  # fmt: skip
    print(
        f"pre-LN transformer block SGD step, batch {B}, seq {T}, d_model {D}, {H} heads, "
        f"MLP {F} GELU, causal softmax attention, float32: medians of {args.repeat}"
    )
    for k, v in t.items():
        print(f"  {k:<16}{v * 1e3:9.2f} ms")
    anchors = [t[k] for k in ("jax jit", "torch eager") if k in t]
    if not anchors:
        print("  no anchor installed (JAX, PyTorch): target not judged")
        return 0
    ratio = t["jaxlite jit"] / min(anchors)
    ok = ratio <= TARGET
    print(f"  -> jaxlite / faster anchor {ratio:.2f}   target <= {TARGET}"
          f"{'' if ok else '   MISSED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
