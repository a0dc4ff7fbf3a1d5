"""Trains a small convolutional network on scikit-learn's handwritten digits with jaxlite.

conv 3x3x16 - relu - 2x2 max pool - conv 3x3x32 - relu - 2x2 max pool - dense 10, written with
`lax.conv_general_dilated` and `lax.reduce_window` exactly as in JAX; the whole training step,
`jit(value_and_grad(loss))` plus Adam, is one compiled C kernel. The 1,797 8x8 digit images ship
with scikit-learn (the `examples` extra), so it runs offline.

    python examples/cnn.py                  # >= 98% test accuracy in well under 60 s
    python examples/cnn.py --epochs 1 --quick
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax, nn, optim
from jaxlite import random as jr

TARGET_ACCURACY = 0.98
TIME_BUDGET_S = 60.0
NHWC = ("NHWC", "HWIO", "NHWC")  # images (batch, height, width, channels), kernels HWIO


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Train a small CNN on the scikit-learn digits with jaxlite (jit + grad + Adam).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--epochs", type=int, default=20, help="passes over the training set")
    p.add_argument("--batch-size", type=int, default=32, help="examples per Adam step")
    p.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed (init, data split, batches)")
    p.add_argument("--quick", action="store_true", help="smoke test: a quarter of the data")
    return p.parse_args(argv)


def load_digits(key, quick: bool):
    """Digits as (n, 8, 8, 1) images scaled to [0, 1], split 80/20 with a jaxlite permutation."""
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError:
        sys.exit("this demo needs scikit-learn: pip install -e '.[examples]'")
    x, y = sk_load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    order = np.asarray(jr.permutation(key, len(x)))
    if quick:
        order = order[: len(order) // 4]
    n_test = len(order) // 5
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def init_params(key):
    k1, k2, k3 = jr.split(key, 3)
    he = nn.initializers.he_normal()
    return {
        "conv1": (he(k1, (3, 3, 1, 16), jnp.float32), jnp.zeros((16,), jnp.float32)),
        "conv2": (he(k2, (3, 3, 16, 32), jnp.float32), jnp.zeros((32,), jnp.float32)),
        "dense": (he(k3, (2 * 2 * 32, 10), jnp.float32), jnp.zeros((10,), jnp.float32)),
    }


def conv_relu_pool(x, w, b):
    y = lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=NHWC) + b
    return lax.reduce_window(nn.relu(y), -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def predict(params, x):
    x = conv_relu_pool(x, *params["conv1"])  # (n, 4, 4, 16)
    x = conv_relu_pool(x, *params["conv2"])  # (n, 2, 2, 32)
    w, b = params["dense"]
    return x.reshape(x.shape[0], -1) @ w + b  # logits


def loss_fn(params, x, y):
    """Mean softmax cross-entropy."""
    logp = nn.log_softmax(predict(params, x))
    return -jnp.mean(jnp.sum(logp * nn.one_hot(y, 10, dtype=jnp.float32), axis=-1))


def make_step(opt):
    @jaxlite.jit
    def train_step(params, opt_state, x, y):
        loss, grads = jaxlite.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, loss

    return train_step


@jaxlite.jit
def accuracy(params, x, y):
    return jnp.mean(jnp.argmax(predict(params, x), axis=-1) == y)


def main(argv=None) -> int:
    args = parse_args(argv)
    t_start = time.perf_counter()
    data_key, init_key, shuffle_key = jr.split(jr.PRNGKey(args.seed), 3)
    x_train, y_train, x_test, y_test = load_digits(data_key, args.quick)
    print(
        f"digits: {len(x_train)} train / {len(x_test)} test 8x8 images; CNN conv3x3x16-pool-"
        f"conv3x3x32-pool-dense10; Adam lr={args.lr}, batch {args.batch_size}, {args.epochs} epochs"
    )
    params = init_params(init_key)
    opt = optim.adam(args.lr)
    opt_state = opt.init(params)
    train_step = make_step(opt)
    batch = min(args.batch_size, len(x_train))
    steps = len(x_train) // batch  # the remainder is dropped: one compiled shape

    t0 = time.perf_counter()
    train_step(params, opt_state, x_train[:batch], y_train[:batch])
    print(f"traced and compiled the training step in {time.perf_counter() - t0:.2f} s")

    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        perm = np.asarray(jr.permutation(jr.fold_in(shuffle_key, epoch), len(x_train)))
        losses = []
        for i in range(steps):
            idx = perm[i * batch : (i + 1) * batch]
            params, opt_state, loss = train_step(params, opt_state, x_train[idx], y_train[idx])
            losses.append(loss)
        dt = time.perf_counter() - t0
        train_acc = float(accuracy(params, x_train, y_train))
        test_acc = float(accuracy(params, x_test, y_test))
        print(
            f"epoch {epoch:3d}/{args.epochs}  loss {float(np.mean(losses)):.4f}  "
            f"train acc {train_acc:7.2%}  test acc {test_acc:7.2%}  "
            f"{steps * batch / dt:9,.0f} examples/s",
            flush=True,
        )

    elapsed = time.perf_counter() - t_start
    test_acc = float(accuracy(params, x_test, y_test))
    n_right = int(round(test_acc * len(x_test)))
    print(f"final test accuracy: {test_acc:.2%} ({n_right}/{len(x_test)}) in {elapsed:.1f} s")
    if not args.quick:
        ok = test_acc >= TARGET_ACCURACY and elapsed < TIME_BUDGET_S
        verdict = "reached" if ok else "MISSED"
        print(
            f"target: >= {TARGET_ACCURACY:.0%} test accuracy in < {TIME_BUDGET_S:.0f} s: {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
