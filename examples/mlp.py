"""Trains an MLP on scikit-learn's handwritten digits with jaxlite (what `make demo` runs).

A JAX training loop, unchanged but for the imports: `jit(value_and_grad(loss))` compiled to C,
Adam from `jaxlite.optim`, and mini-batches shuffled by `jaxlite.random.permutation`.
The 1,797 8x8 digit images ship with scikit-learn (the `examples` extra), so it runs offline.

    python examples/mlp.py                  # the demo: >= 95% test accuracy in well under 60 s
    python examples/mlp.py --epochs 1 --quick
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import nn, optim
from jaxlite import random as jr

TARGET_ACCURACY = 0.95
TIME_BUDGET_S = 60.0


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Train an MLP on the scikit-learn digits with jaxlite (jit + grad + Adam).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--epochs", type=int, default=15, help="passes over the training set")
    p.add_argument("--batch-size", type=int, default=32, help="examples per Adam step")
    p.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate")
    p.add_argument(
        "--hidden", type=str, default="128,64", help="comma-separated hidden layer sizes"
    )
    p.add_argument("--seed", type=int, default=0, help="PRNG seed (init, data split, batches)")
    p.add_argument(
        "--quick", action="store_true", help="smoke test: a quarter of the data, tiny layers"
    )
    args = p.parse_args(argv)
    try:
        args.hidden = tuple(int(h) for h in args.hidden.split(",") if h.strip())
    except ValueError:
        p.error(f"--hidden must be comma-separated integers, got {args.hidden!r}")
    if args.quick:
        args.hidden = (32,)
    return args


def load_digits(key, quick: bool):
    """Digits scaled to [0, 1], split 80/20 into train and test with a jaxlite permutation."""
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError:
        sys.exit("this demo needs scikit-learn: pip install -e '.[examples]'")
    x, y = sk_load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    order = np.asarray(jr.permutation(key, len(x)))
    if quick:
        order = order[: len(order) // 4]
    n_test = len(order) // 5
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def init_params(key, sizes):
    """He-normal weights and zero biases, one `(w, b)` pair per layer."""
    keys = jr.split(key, len(sizes) - 1)
    he = nn.initializers.he_normal()
    return [
        (he(k, (m, n), jnp.float32), jnp.zeros((n,), jnp.float32))
        for k, m, n in zip(keys, sizes[:-1], sizes[1:])
    ]


def predict(params, x):
    for w, b in params[:-1]:
        x = nn.relu(x @ w + b)
    w, b = params[-1]
    return x @ w + b  # logits


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
    sizes = (x_train.shape[1], *args.hidden, 10)
    print(
        f"digits: {len(x_train)} train / {len(x_test)} test images; MLP {'-'.join(map(str, sizes))}"
        f"; Adam lr={args.lr}, batch {args.batch_size}, {args.epochs} epochs"
    )
    params = init_params(init_key, sizes)
    opt = optim.adam(args.lr)
    opt_state = opt.init(params)
    train_step = make_step(opt)
    batch = min(args.batch_size, len(x_train))
    steps = len(x_train) // batch  # the remainder is dropped: one compiled shape

    # The first call traces the step, lowers it to C and compiles it (or loads it from the
    # disk cache); every later call runs the compiled kernel.
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
