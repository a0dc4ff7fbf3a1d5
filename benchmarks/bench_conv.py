"""Convolutional networks under jit, beside JAX jit and PyTorch (eager, and torch.compile when it
works) when they are importable (they are not dependencies): medians of interleaved repetitions.

  lenet    LeNet-style training step, batch 128, 28x28x1: conv 5x5x32 (SAME), 2x2 max pool, conv
           5x5x64, 2x2 max pool, dense 1024, dense 10, softmax cross-entropy, SGD;
           jit(value_and_grad) + update
  resnet   a ResNet basic block forward + backward, batch 32, 32x32x64, two 3x3 convs, relu,
           identity shortcut (no batch norm), gradient of a sum w.r.t. the input and both kernels
  convs    each convolution of those two alone (forward), in GFLOP/s, beside this machine's
           measured sgemm rate (a 1024^3 product through jaxlite's jit)
  cold     the LeNet step's cold compile (target <= 1 s, as the MLP's): in fresh processes whose
           cache holds only the runtime library (benchmarks/bench_compile.py's "cold"), from the
           first call to the first result (trace, lower, cc, run), wall and CPU time (with the
           compiler's: wall time on a loaded machine waits for other processes), and the C size

All float32, NHWC (PyTorch: NCHW, its native layout). Run:
  python benchmarks/bench_conv.py [--repeat N] [--only lenet,resnet,convs,cold] [--cpu]
      [--torch-compile]
`--torch-compile` adds PyTorch's torch.compile (inductor) beside its eager mode for the LeNet step
and the ResNet block: it works here (g++), but compiles for minutes on this loaded machine (77 s
for one conv + relu), so it is not on by default.
`--cpu` reports CPU time (all threads) instead of wall time: on a shared, loaded machine, run it
with one thread per library (OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1") for a measure of
each library's work that other processes' load barely moves.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
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

NHWC = ("NHWC", "HWIO", "NHWC")


CPU_TIME = False  # --cpu
TORCH_COMPILE = False  # --torch-compile


def ms(fns: dict, repeat: int, number: int) -> dict:
    """Median milliseconds per call: wall time (timing.settled_medians), or CPU time."""
    if not CPU_TIME:
        return {k: t * 1e3 for k, t in settled_medians(fns, repeat, number).items()}
    return {k: t * 1e3 for k, t in cpu_medians(fns, repeat, number).items()}


def block(fn):
    """`fn` with its outputs waited for (JAX dispatches asynchronously)."""

    def run():
        out = fn()
        for leaf in out if isinstance(out, (tuple, list)) else [out]:
            if hasattr(leaf, "block_until_ready"):
                leaf.block_until_ready()
        return out

    return run


# --- LeNet ------------------------------------------------------------------------------------


def lenet_params(rng):
    def init(*shape, fan_in):
        return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)

    return [init(5, 5, 1, 32, fan_in=25), np.zeros(32, np.float32),
            init(5, 5, 32, 64, fan_in=800), np.zeros(64, np.float32),
            init(7 * 7 * 64, 1024, fan_in=3136), np.zeros(1024, np.float32),
            init(1024, 10, fan_in=1024), np.zeros(10, np.float32)]  # fmt: skip


def lenet_loss(L, relu, log_softmax):
    """The loss in library `L` (jaxlite or jax: the same source)."""

    def pool(h):
        return L.lax.reduce_window(h, -np.inf, L.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

    def loss(params, x, y):
        w1, b1, w2, b2, w3, b3, w4, b4 = params
        h = pool(
            relu(L.lax.conv_general_dilated(x, w1, (1, 1), "SAME", dimension_numbers=NHWC) + b1)
        )
        h = pool(
            relu(L.lax.conv_general_dilated(h, w2, (1, 1), "SAME", dimension_numbers=NHWC) + b2)
        )
        h = relu(h.reshape(h.shape[0], -1) @ w3 + b3)
        logits = h @ w4 + b4
        return -(log_softmax(logits) * y).sum() / x.shape[0]

    return loss


def sgd_step(L, loss):
    vg = L.value_and_grad(loss)

    def step(params, x, y):
        v, g = vg(params, x, y)
        return v, [p - 0.01 * d for p, d in zip(params, g)]

    return L.jit(step)


def bench_lenet(repeat, jax, torch):
    rng = np.random.default_rng(0)
    params = lenet_params(rng)
    x = rng.standard_normal((128, 28, 28, 1)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]
    fns = {}
    step = sgd_step(jaxlite, lenet_loss(jaxlite, jaxlite.nn.relu, jaxlite.nn.log_softmax))
    p_jl = [jnp.asarray(p) for p in params]
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    fns["jaxlite jit"] = lambda: step(p_jl, xj, yj)
    ref = step(p_jl, xj, yj)[0]
    if jax is not None:
        jstep = sgd_step(jax, lenet_loss(jax, jax.nn.relu, jax.nn.log_softmax))
        p_jx = [jax.numpy.asarray(p) for p in params]
        xx, yx = jax.numpy.asarray(x), jax.numpy.asarray(y)
        fns["JAX jit"] = block(lambda: jstep(p_jx, xx, yx))
        print(f"  loss: jaxlite {float(ref):.6f}, JAX {float(jstep(p_jx, xx, yx)[0]):.6f}")
    if torch is not None:
        fns.update(torch_lenet(torch, params, x, y))
    return ms(fns, repeat, 3)


def torch_lenet(torch, params, x, y):
    F = torch.nn.functional
    tp = [torch.tensor(p) for p in params]
    tp[0] = tp[0].permute(3, 2, 0, 1).contiguous().requires_grad_()  # HWIO -> OIHW
    tp[2] = tp[2].permute(3, 2, 0, 1).contiguous().requires_grad_()
    # the dense layer reads NHWC-flattened features: permute its rows to NCHW order
    w3 = params[4].reshape(7, 7, 64, 1024).transpose(2, 0, 1, 3).reshape(-1, 1024)
    tp[4] = torch.tensor(w3)
    for p in tp:
        p.requires_grad_()
    tx = torch.tensor(x).permute(0, 3, 1, 2).contiguous()
    ty = torch.tensor(y)

    def loss_fn(tp, tx):
        w1, b1, w2, b2, w3, b3, w4, b4 = tp
        h = F.max_pool2d(F.relu(F.conv2d(tx, w1, b1, padding=2)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, padding=2)), 2)
        h = F.relu(h.reshape(h.shape[0], -1) @ w3 + b3)
        return -(F.log_softmax(h @ w4 + b4, dim=1) * ty).sum() / tx.shape[0]

    def step():
        for p in tp:
            p.grad = None
        loss = loss_fn(tp, tx)
        loss.backward()
        with torch.no_grad():
            for p in tp:
                p -= 0.01 * p.grad  # NB: in place; the repeated steps only move the weights
        return loss

    fns = {"PyTorch eager": step}
    print(f"  loss: PyTorch {float(loss_fn(tp, tx).detach()):.6f}")
    if TORCH_COMPILE:
        compiled = torch.compile(loss_fn)

        def cstep():
            for p in tp:
                p.grad = None
            loss = compiled(tp, tx)
            loss.backward()
            with torch.no_grad():
                for p in tp:
                    p -= 0.01 * p.grad
            return loss

        fns["torch.compile"] = _timed_compile(cstep)
    return fns


def _timed_compile(fn):
    """`fn` after its first call (torch.compile's compilation), whose time is printed."""
    t0 = time.perf_counter()
    fn()
    print(f"  torch.compile: first call (compilation) {time.perf_counter() - t0:.1f} s")
    return fn


# --- ResNet basic block -------------------------------------------------------------------------


def resnet_fns(repeat, jax, torch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 32, 32, 64)).astype(np.float32)
    w1, w2 = (rng.standard_normal((3, 3, 64, 64)).astype(np.float32) / 24 for _ in range(2))

    def block_loss(L, relu):
        def f(x, w1, w2):
            h = relu(L.lax.conv_general_dilated(x, w1, (1, 1), "SAME", dimension_numbers=NHWC))
            h = L.lax.conv_general_dilated(h, w2, (1, 1), "SAME", dimension_numbers=NHWC)
            return relu(h + x).sum()

        return L.jit(L.value_and_grad(f, (0, 1, 2)))

    fns = {}
    g = block_loss(jaxlite, jaxlite.nn.relu)
    a = [jnp.asarray(v) for v in (x, w1, w2)]
    fns["jaxlite jit"] = lambda: g(*a)
    if jax is not None:
        gj = block_loss(jax, jax.nn.relu)
        aj = [jax.numpy.asarray(v) for v in (x, w1, w2)]
        fns["JAX jit"] = block(lambda: gj(*aj))
    if torch is not None:
        F = torch.nn.functional
        tx = torch.tensor(x).permute(0, 3, 1, 2).contiguous().requires_grad_()
        tw = [torch.tensor(w).permute(3, 2, 0, 1).contiguous().requires_grad_() for w in (w1, w2)]

        def tstep():
            for t in (tx, *tw):
                t.grad = None
            h = F.relu(F.conv2d(tx, tw[0], padding=1))
            out = F.relu(F.conv2d(h, tw[1], padding=1) + tx).sum()
            out.backward()
            return out

        fns["PyTorch eager"] = tstep
        if TORCH_COMPILE:
            fwd = torch.compile(
                lambda tx, w1, w2: F.relu(
                    F.conv2d(F.relu(F.conv2d(tx, w1, padding=1)), w2, padding=1) + tx
                ).sum()
            )

            def cstep():
                for t in (tx, *tw):
                    t.grad = None
                out = fwd(tx, *tw)
                out.backward()
                return out

            fns["torch.compile"] = _timed_compile(cstep)
    return ms(fns, repeat, 2)


# --- single convolutions and the sgemm floor ----------------------------------------------------

CONVS = {  # name: (lhs NHWC, rhs HWIO)
    "lenet conv1 128x28x28x1 * 5x5x1x32": ((128, 28, 28, 1), (5, 5, 1, 32)),
    "lenet conv2 128x14x14x32 * 5x5x32x64": ((128, 14, 14, 32), (5, 5, 32, 64)),
    "resnet 32x32x32x64 * 3x3x64x64": ((32, 32, 32, 64), (3, 3, 64, 64)),
}


def bench_convs(repeat, jax, torch):
    rng = np.random.default_rng(2)
    rows = {}
    f = jaxlite.jit(
        lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=NHWC)
    )
    for name, (ls, rs) in CONVS.items():
        x, w = (
            rng.standard_normal(ls).astype(np.float32),
            rng.standard_normal(rs).astype(np.float32),
        )
        flops = 2 * np.prod(ls[:3]) * np.prod(rs)
        xl, wl = jnp.asarray(x), jnp.asarray(w)
        fns = {"jaxlite jit": lambda xl=xl, wl=wl: f(xl, wl)}
        if jax is not None:
            fj = jax.jit(
                lambda x, w: jax.lax.conv_general_dilated(
                    x, w, (1, 1), "SAME", dimension_numbers=NHWC
                )
            )
            xa, wa = jax.numpy.asarray(x), jax.numpy.asarray(w)
            fns["JAX jit"] = block(lambda fj=fj, xa=xa, wa=wa: fj(xa, wa))
        if torch is not None:
            tx = torch.tensor(x).permute(0, 3, 1, 2).contiguous()
            tw = torch.tensor(w).permute(3, 2, 0, 1).contiguous()
            pad = rs[0] // 2
            fns["PyTorch eager"] = lambda tx=tx, tw=tw, pad=pad: torch.nn.functional.conv2d(
                tx, tw, padding=pad
            )
        t = ms(fns, repeat, 3)
        rows[name] = {k: (v, flops / v / 1e6) for k, v in t.items()}
    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    mm = jaxlite.jit(lambda a, b: a @ b)
    aj = jnp.asarray(a)
    t = ms({"sgemm": lambda: mm(aj, aj)}, repeat, 3)["sgemm"]
    return rows, 2 * 1024**3 / t / 1e6


# --- cold compile -------------------------------------------------------------------------------


def cold_worker(what: str) -> None:
    """In a fresh process: build the runtime library only, or time the LeNet step's first call."""
    if what == "runtime":
        from jaxlite.backend import compile as jl_compile

        jl_compile.runtime_library()
        return
    rng = np.random.default_rng(0)
    params = [jnp.asarray(p) for p in lenet_params(rng)]
    x = jnp.asarray(rng.standard_normal((128, 28, 28, 1)).astype(np.float32))
    y = jnp.asarray(np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)])
    step = sgd_step(jaxlite, lenet_loss(jaxlite, jaxlite.nn.relu, jaxlite.nn.log_softmax))
    w0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
    step(params, x, y)
    cpu = time.process_time() - c0 + _children_cpu() - k0  # (the C compiler is a child)
    print(json.dumps({"wall": time.perf_counter() - w0, "cpu": cpu}))


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def bench_cold(repeat: int):
    walls, cpus, sizes = [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, JAXLITE_CACHE_DIR=d)
            run = [sys.executable, __file__, "--cold-worker"]
            subprocess.run([*run, "runtime"], env=env, check=True)
            before = set(glob.glob(os.path.join(d, "*.c")))
            out = subprocess.run([*run, "lenet"], env=env, check=True, capture_output=True,
                                 text=True).stdout  # fmt: skip
            r = json.loads(out.strip().splitlines()[-1])
            walls.append(r["wall"] * 1e3)
            cpus.append(r["cpu"] * 1e3)
            sizes.append(
                sum(os.path.getsize(f) for f in set(glob.glob(os.path.join(d, "*.c"))) - before)
            )
    return statistics.median(walls), statistics.median(cpus), max(sizes)


def table(title, times):
    base = times.get("jaxlite jit")
    print(f"\n{title}")
    for k, v in times.items():
        ratio = f"  ({v / base:.2f}x jaxlite's time)" if base and k != "jaxlite jit" else ""
        print(f"  {k:16s} {v:9.2f} ms{ratio}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--only", default="lenet,resnet,convs,cold")
    ap.add_argument("--cpu", action="store_true", help="CPU time instead of wall time")
    ap.add_argument(
        "--torch-compile",
        action="store_true",
        help="also torch.compile (its compilation: minutes on a loaded 2-core machine)",
    )
    ap.add_argument("--cold-worker", choices=["runtime", "lenet"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cold_worker:
        return cold_worker(args.cold_worker)
    global CPU_TIME, TORCH_COMPILE
    CPU_TIME, TORCH_COMPILE = args.cpu, args.torch_compile
    only = args.only.split(",")
    jax, torch = try_jax(), try_torch()
    print(isa.line("jax", "torch"))  # the ISA each library runs
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{sys.version.split()[0]}; JAX {getattr(jax, '__version__', 'absent')}, PyTorch "
          f"{getattr(torch, '__version__', 'absent')}; {'CPU' if args.cpu else 'wall'} time")  # fmt: skip
    if "lenet" in only:
        table(
            "LeNet training step, batch 128 (jit(value_and_grad) + SGD)",
            bench_lenet(args.repeat, jax, torch),
        )
    if "resnet" in only:
        table("ResNet basic block fwd+bwd, 32x32x32x64, 3x3", resnet_fns(args.repeat, jax, torch))
    if "convs" in only:
        rows, sgemm = bench_convs(args.repeat, jax, torch)
        print(f"\nsingle convolutions, forward (sgemm 1024^3 through jaxlite: {sgemm:.0f} GFLOP/s)")
        for name, r in rows.items():
            cells = ", ".join(f"{k} {t:.2f} ms = {g:.0f} GFLOP/s" for k, (t, g) in r.items())
            print(f"  {name}: {cells}")
    if "cold" in only:
        wall, cpu, size = bench_cold(max(3, args.repeat // 5))
        print(
            f"\nLeNet step, cold compile to first result (target <= 1000 ms): {wall:.0f} ms wall, "
            f"{cpu:.0f} ms CPU (with the C compiler's), "
            f"C source {size} bytes"
        )


if __name__ == "__main__":
    main()
