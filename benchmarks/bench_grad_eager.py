"""Eager reverse mode: `grad(lambda x: jnp.sum(jnp.tanh(jnp.sin(x) * x + 1.0) ** 2))` on f32[3]
(no jit), beside the same function's plain NumPy forward pass, measured in one run (medians).
Target: at most 150 us per grad call (JAX eager takes 3.4 ms here, HIPS autograd 86 us).

Run: .venv/bin/python benchmarks/bench_grad_eager.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import jaxlite
import jaxlite.numpy as jnp

TARGET_US = 150.0


def f(x):
    return jnp.sum(jnp.tanh(jnp.sin(x) * x + 1.0) ** 2)


def f_numpy(x):
    return np.sum(np.tanh(np.sin(x) * x + 1.0) ** 2)


def median_us(fn, arg, repeat: int, number: int) -> float:
    """The median over `repeat` runs of the mean time of `number` calls, in microseconds."""
    fn(arg)  # warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn(arg)
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--number", type=int, default=500)
    args = parser.parse_args()

    x_np = np.array([0.1, 0.2, 0.3], np.float32)
    x = jnp.asarray(x_np)
    grad_f = jaxlite.grad(f)
    # Check the gradient before timing it (d/dx of tanh(u)^2 with u = x sin x + 1).
    u = np.sin(x_np) * x_np + 1.0
    expected = 2 * np.tanh(u) * (1 - np.tanh(u) ** 2) * (np.cos(x_np) * x_np + np.sin(x_np))
    np.testing.assert_allclose(np.asarray(grad_f(x)), expected, rtol=1e-5)

    t_grad = median_us(grad_f, x, args.repeat, args.number)
    t_fwd = median_us(f, x, args.repeat, args.number)
    t_np = median_us(f_numpy, x_np, args.repeat, args.number * 10)
    print(f"eager grad (jaxlite):        {t_grad:8.1f} us   (target <= {TARGET_US:.0f} us)")
    print(f"eager forward (jaxlite):     {t_fwd:8.1f} us")
    print(f"forward (NumPy):             {t_np:8.1f} us")
    print(f"grad / NumPy forward:        {t_grad / t_np:8.1f}x")
    print("PASS" if t_grad <= TARGET_US else "ABOVE TARGET")


if __name__ == "__main__":
    main()
