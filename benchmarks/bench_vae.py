"""A VAE training step under jit (the architecture of JAX's examples/mnist_vae.py) beside JAX's
`jit` when installed (not a dependency), in one run: medians of interleaved settled repetitions.

Encoder 784-512-512 (ReLU) then two heads of 10 (mean, and log of the variance through softplus
as `sigmasq = softplus(.)`), a sample `z = mu + sqrt(sigmasq) * eps`, decoder 10-512-512-784
(ReLU) giving Bernoulli logits; loss = mean over the batch of the negative ELBO (binary cross
entropy of the logits plus the Gaussian KL); plain SGD on every parameter; batch 32, float32.
`eps` is an input (the same normal draws for both libraries, so they compute the same step).
Target (issue 20.3): jaxlite <= 0.7x JAX's time.

Wall time by default; `--cpu` times process CPU time instead (on a loaded machine, run with
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 XLA_FLAGS="--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1").

Run: python benchmarks/bench_vae.py [--repeat N] [--cpu]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
import isa  # benchmarks/isa.py (this script's directory)
from timing import cpu_medians, settled_medians, try_jax  # benchmarks/timing.py

BATCH, LATENT, LR = 32, 10, 1e-3
TARGET = 0.7
ENC = [(784, 512), (512, 512)]
DEC = [(LATENT, 512), (512, 512), (512, 784)]


def init_params(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)

    def dense(m, n):
        return ((rng.normal(size=(m, n)) / np.sqrt(m)).astype(np.float32), np.zeros(n, np.float32))

    return {"enc": [dense(m, n) for m, n in ENC], "mu": dense(512, LATENT),
            "sig": dense(512, LATENT), "dec": [dense(m, n) for m, n in DEC]}  # fmt: skip


def make_loss(np_like, nn):
    def mlp(layers, h, last_linear):
        for i, (w, b) in enumerate(layers):
            h = h @ w + b
            if not (last_linear and i == len(layers) - 1):
                h = nn.relu(h)
        return h

    def loss(p, x, eps):
        h = mlp(p["enc"], x, False)
        mu = h @ p["mu"][0] + p["mu"][1]
        sigmasq = nn.softplus(h @ p["sig"][0] + p["sig"][1])
        z = mu + np_like.sqrt(sigmasq) * eps
        logits = mlp(p["dec"], z, True)
        # Bernoulli log-likelihood of x under the logits: x*l - softplus(l)
        nll = -np_like.sum(x * logits - nn.softplus(logits), axis=-1)
        kl = 0.5 * np_like.sum(sigmasq + mu**2 - 1.0 - np_like.log(sigmasq), axis=-1)
        return np_like.mean(nll + kl)

    return loss


def sgd_step(lib, loss):
    tree_map = lib.tree_util.tree_map

    @lib.jit
    def step(p, x, eps):
        v, g = lib.value_and_grad(loss)(p, x, eps)
        return v, tree_map(lambda a, b: a - LR * b, p, g)

    return step


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--cpu", action="store_true", help="process CPU time instead of wall time")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(1)
    params = init_params()
    x = (rng.random(size=(BATCH, 784)) < 0.3).astype(np.float32)  # binarized pixels
    eps = rng.normal(size=(BATCH, LATENT)).astype(np.float32)

    step = sgd_step(jaxlite, make_loss(jnp, jaxlite.nn))
    v0, new = step(params, x, eps)
    fns = {"jaxlite jit": lambda: step(params, x, eps)}
    jax = try_jax()
    if jax:
        jstep = sgd_step(jax, make_loss(jax.numpy, jax.nn))
        pj = jax.tree_util.tree_map(jax.device_put, params)
        xj, ej = jax.device_put(x), jax.device_put(eps)
        vj, newj = jstep(pj, xj, ej)
        np.testing.assert_allclose(float(v0), float(vj), rtol=1e-4)
        for a, b in zip(jaxlite.tree_util.tree_leaves(new), jax.tree_util.tree_leaves(newj)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-3, atol=1e-6)
        fns["jax jit"] = lambda: jax.block_until_ready(jstep(pj, xj, ej))

    t = cpu_medians(fns, args.repeat, 5) if args.cpu else settled_medians(fns, args.repeat, 5)
    print(isa.line("jax"))  # the ISA each library runs
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"{'CPU' if args.cpu else 'wall'} time; OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}")  # fmt: skip
    print(
        f"VAE SGD step (784-512-512-(10+10), 10-512-512-784, batch {BATCH}), float32: "
        f"medians of {args.repeat}"
    )
    for k, v in t.items():
        print(f"  {k:<14}{v * 1e3:9.3f} ms")
    if "jax jit" not in t:
        print("  JAX not installed: target not judged")
        return 0
    ratio = t["jaxlite jit"] / t["jax jit"]
    ok = ratio <= TARGET
    print(f"  -> jaxlite / JAX {ratio:.2f}   target <= {TARGET}{'' if ok else '   MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
