"""What does `jit` run? Prints a function's jaxpr, the C that jaxlite generates for it, the
compile time, and checks the compiled result against eager evaluation.

    python examples/inspect_jit.py                       # an elementwise chain
    python examples/inspect_jit.py --function mlp_grad   # the gradient of a small MLP loss
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import nn


def elementwise(x):
    return jnp.tanh(x) * nn.sigmoid(1.7 * x + 0.3) + x * x


def mlp_loss(params, x, y):
    (w1, b1), (w2, b2) = params
    logits = nn.relu(x @ w1 + b1) @ w2 + b2
    return -jnp.mean(jnp.sum(nn.log_softmax(logits) * nn.one_hot(y, 10, dtype=jnp.float32), -1))


def make_case(name: str, size: int):
    rng = np.random.default_rng(0)
    if name == "elementwise":
        return elementwise, (rng.normal(size=size).astype(np.float32),)
    params = [
        (rng.normal(size=(64, 32)).astype(np.float32) * 0.1, np.zeros(32, np.float32)),
        (rng.normal(size=(32, 10)).astype(np.float32) * 0.1, np.zeros(10, np.float32)),
    ]
    x = rng.normal(size=(size, 64)).astype(np.float32)
    y = rng.integers(0, 10, size=size)
    return jaxlite.grad(mlp_loss), (params, x, y)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description="Print the jaxpr, generated C and compile time of a jitted function.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--function", choices=["elementwise", "mlp_grad"], default="elementwise")
    p.add_argument("--size", type=int, default=1000, help="elements (or batch size)")
    p.add_argument("--quick", action="store_true", help="smoke test: a small size")
    args = p.parse_args(argv)
    fn, inputs = make_case(args.function, 16 if args.quick else args.size)

    lowered = jaxlite.jit(fn).lower(*inputs)
    print("=" * 30, "jaxpr", "=" * 30)
    print(lowered.as_text())
    print("=" * 30, "generated C", "=" * 30)
    print(lowered.as_c())
    t0 = time.perf_counter()
    compiled = lowered.compile()
    t_compile = time.perf_counter() - t0
    print("=" * 72)
    print(f"compile time: {t_compile * 1e3:.1f} ms (a disk-cache hit on later runs)")

    out = compiled(*inputs)
    ref = fn(*inputs)  # the same function, evaluated eagerly primitive by primitive
    for o, r in zip(jaxlite.tree_util.tree_leaves(out), jaxlite.tree_util.tree_leaves(ref)):
        np.testing.assert_allclose(np.asarray(o), np.asarray(r), rtol=2e-5, atol=1e-6)
    t0 = time.perf_counter()
    n = 20
    for _ in range(n):
        jaxlite.tree_util.tree_map(lambda v: v.block_until_ready(), compiled(*inputs))
    print(
        f"run time: {(time.perf_counter() - t0) / n * 1e6:.1f} us per call; "
        "matches eager evaluation"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
