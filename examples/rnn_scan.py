"""Train a recurrent network with `grad` through `lax.scan`, compiled whole by `jit`.

The task: read a sequence of noisy numbers and predict, at every step, a smoothed running sum of
what was read so far (which needs memory). The RNN cell runs inside one `lax.scan`, so the
jaxpr, the C and the compile time do not grow with the sequence length; reverse mode stacks the
residuals of each step and runs a second scan backwards. The script prints the training loss,
the loss of a Python-loop twin of the same model (equal gradients), and the C loop of the scan.

    python examples/rnn_scan.py [--steps 50] [--hidden 32] [--iters 300] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax, optim


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="An RNN trained with grad through lax.scan.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--steps", type=int, default=50, help="sequence length")
    p.add_argument("--hidden", type=int, default=32, help="hidden units")
    p.add_argument("--batch", type=int, default=64, help="sequences per batch")
    p.add_argument("--iters", type=int, default=300, help="Adam steps")
    p.add_argument("--quick", action="store_true", help="smoke test: a few iterations")
    return p.parse_args(argv)


def make_batch(rng, batch: int, steps: int):
    xs = rng.normal(size=(steps, batch, 1)).astype(np.float32)
    targets = np.zeros((steps, batch), np.float32)
    acc = np.zeros(batch, np.float32)
    for t in range(steps):
        acc = 0.8 * acc + xs[t, :, 0]
        targets[t] = np.tanh(acc)
    return xs, targets


def init_params(rng, hidden: int):
    f32 = np.float32
    return {
        "Wh": (rng.normal(size=(hidden, hidden)) * 0.5 / np.sqrt(hidden)).astype(f32),
        "Wx": rng.normal(size=(1, hidden)).astype(f32),
        "b": np.zeros(hidden, f32),
        "v": (rng.normal(size=hidden) / np.sqrt(hidden)).astype(f32),
    }


def cell(params, h, x):
    h = jnp.tanh(h @ params["Wh"] + x @ params["Wx"] + params["b"])
    return h, h @ params["v"]


def loss_scan(params, xs, targets):
    h0 = jnp.zeros((xs.shape[1], params["b"].shape[0]), jnp.float32)
    _, preds = lax.scan(lambda h, x: cell(params, h, x), h0, xs)
    return jnp.mean((preds - targets) ** 2)


def loss_loop(params, xs, targets):
    """The same model as a Python loop: unrolled into `steps` copies of the cell."""
    h = jnp.zeros((xs.shape[1], params["b"].shape[0]), jnp.float32)
    preds = []
    for x in xs:
        h, y = cell(params, h, x)
        preds.append(y)
    return jnp.mean((jnp.stack(preds) - targets) ** 2)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.quick:
        args.iters = 5
    rng = np.random.default_rng(0)
    params = init_params(rng, args.hidden)
    opt = optim.adam(1e-2)
    state = opt.init(params)

    @jaxlite.jit
    def train_step(params, state, xs, targets):
        loss, grads = jaxlite.value_and_grad(loss_scan)(params, xs, targets)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state, loss

    xs, targets = make_batch(rng, args.batch, args.steps)
    g_scan = jaxlite.grad(loss_scan)(params, xs, targets)
    g_loop = jaxlite.grad(loss_loop)(params, xs, targets)
    diff = max(float(np.max(np.abs(np.asarray(g_scan[k]) - np.asarray(g_loop[k])))) for k in g_scan)
    n_scan = len(jaxlite.make_jaxpr(jaxlite.grad(loss_scan))(params, xs, targets).eqns)
    n_loop = len(jaxlite.make_jaxpr(jaxlite.grad(loss_loop))(params, xs, targets).eqns)
    print(f"grad through scan vs the unrolled Python loop: max |difference| {diff:.2e}")
    print(f"equations in the gradient's jaxpr: scan {n_scan}, unrolled loop {n_loop}")

    t0 = time.perf_counter()
    for it in range(args.iters):
        xs, targets = make_batch(rng, args.batch, args.steps)
        params, state, loss = train_step(params, state, xs, targets)
        if it == 0:
            print(f"first step (trace + compile + run): {time.perf_counter() - t0:.2f} s")
            t0 = time.perf_counter()
        if it % max(args.iters // 6, 1) == 0 or it == args.iters - 1:
            print(f"iter {it:4d}  loss {float(loss):.4f}")
    if args.iters > 1:
        per_step = (time.perf_counter() - t0) / (args.iters - 1)
        what = f"{args.steps} RNN steps, batch {args.batch}"
        print(f"{per_step * 1e3:.2f} ms per training step ({what})")

    src = jaxlite.jit(loss_scan).lower(params, xs, targets).as_c()
    loop = [ln for ln in src.splitlines() if "for (int64_t it" in ln]
    print(f"the forward scan in C ({len(src.splitlines())} lines in all): {loop[0].strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
