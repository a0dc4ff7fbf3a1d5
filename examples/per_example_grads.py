"""Per-example gradients with `vmap(grad)`, and per-example gradient clipping (as in DP-SGD).

`vmap(grad(loss), in_axes=(None, 0, 0))` gives one gradient per example with no Python loop;
clipping each one to a maximum norm before averaging bounds any single example's influence.

    python examples/per_example_grads.py --batch 128 --steps 200
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import nn, tree_util
from jaxlite import random as jr


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Per-example gradients and clipping with jaxlite.vmap(jaxlite.grad(...)).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--batch", type=int, default=128, help="examples per step")
    p.add_argument("--steps", type=int, default=300, help="clipped-SGD training steps")
    p.add_argument("--clip", type=float, default=1.0, help="maximum per-example gradient norm")
    p.add_argument("--lr", type=float, default=0.5, help="SGD learning rate")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed")
    p.add_argument("--quick", action="store_true", help="smoke test: a few small steps")
    args = p.parse_args(argv)
    if args.quick:
        args.batch, args.steps = 16, 5
    return args


def load_data():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return (x / 16.0).astype(np.float32), y


def loss(params, x, y):
    """Softmax cross-entropy of ONE example (x: f32[64], y: int)."""
    w, b = params
    logp = nn.log_softmax(x @ w + b)
    return -jnp.sum(logp * nn.one_hot(y, 10, dtype=jnp.float32))


per_example_grads = jaxlite.jit(jaxlite.vmap(jaxlite.grad(loss), in_axes=(None, 0, 0)))


@jaxlite.jit
def clipped_mean_grad(params, xs, ys, max_norm):
    """Each example's gradient scaled to norm <= max_norm, then averaged over the batch."""
    grads = jaxlite.vmap(jaxlite.grad(loss), in_axes=(None, 0, 0))(params, xs, ys)
    leaves = tree_util.tree_leaves(grads)
    sq = sum(jnp.sum(g.reshape(g.shape[0], -1) ** 2, axis=1) for g in leaves)
    norms = jnp.sqrt(sq)
    scale = jnp.minimum(1.0, max_norm / jnp.maximum(norms, 1e-12))

    def clip_and_mean(g):
        return jnp.mean(g * scale.reshape((-1,) + (1,) * (g.ndim - 1)), axis=0)

    return tree_util.tree_map(clip_and_mean, grads), norms


@jaxlite.jit
def batch_loss(params, xs, ys):
    return jnp.mean(jaxlite.vmap(loss, in_axes=(None, 0, 0))(params, xs, ys))


def main(argv=None) -> int:
    args = parse_args(argv)
    x, y = load_data()
    k_init, k_batch = jr.split(jr.PRNGKey(args.seed))
    params = (
        nn.initializers.glorot_normal()(k_init, (64, 10), jnp.float32),
        jnp.zeros((10,), jnp.float32),
    )
    xs, ys = x[: args.batch], y[: args.batch]

    # 1. vmap(grad) equals a loop of single-example gradients
    t0 = time.perf_counter()
    g_vmap = per_example_grads(params, xs, ys)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    g_vmap = per_example_grads(params, xs, ys)
    t_vmap = time.perf_counter() - t0
    one = jaxlite.jit(jaxlite.grad(loss))
    one(params, xs[0], ys[0])
    t0 = time.perf_counter()
    g_loop = [one(params, xs[i], ys[i]) for i in range(len(xs))]
    t_loop = time.perf_counter() - t0
    err = max(
        float(np.max(np.abs(np.asarray(gv) - np.stack([np.asarray(gl[j]) for gl in g_loop]))))
        for j, gv in enumerate(g_vmap)
    )
    print(f"per-example gradients: {len(xs)} examples, shapes {[g.shape for g in g_vmap]}")
    print(f"  vmap(grad) vs a loop of grad: max |difference| = {err:.2e}")
    print(
        f"  time: vmap {t_vmap * 1e3:.2f} ms (first call with compile {t_first * 1e3:.0f} ms), "
        f"loop {t_loop * 1e3:.2f} ms"
    )
    assert err < 1e-5, "vmap(grad) disagrees with the loop"

    # 2. per-example clipping, then plain SGD on the clipped mean gradient
    _, norms = clipped_mean_grad(params, xs, ys, args.clip)
    norms = np.asarray(norms)
    print(
        f"per-example gradient norms: min {norms.min():.3f}  median {np.median(norms):.3f}  "
        f"max {norms.max():.3f}; clipped to <= {args.clip}"
    )
    for step in range(args.steps + 1):
        idx = np.asarray(jr.randint(jr.fold_in(k_batch, step), (args.batch,), 0, len(x)))
        if step % max(1, args.steps // 5) == 0:
            print(f"  step {step:4d}  loss {float(batch_loss(params, x, y)):.4f}")
        if step == args.steps:
            break
        grads, _ = clipped_mean_grad(params, x[idx], y[idx], args.clip)
        params = tree_util.tree_map(lambda p, g: p - args.lr * g, params, grads)
    pred = np.argmax(np.asarray(x @ np.asarray(params[0]) + np.asarray(params[1])), axis=1)
    print(f"training accuracy after clipped SGD: {np.mean(pred == y):.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
