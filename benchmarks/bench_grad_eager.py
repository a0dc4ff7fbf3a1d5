"""Eager reverse mode: `grad(lambda x: jnp.sum(jnp.tanh(jnp.sin(x) * x + 1.0) ** 2))` on f32[3]
(no jit), beside the same function's plain NumPy forward pass and, when installed, HIPS
`autograd`'s grad of it, measured in one run (medians of interleaved runs, wall and CPU time).
Targets, judged on CPU time (which other processes disturb less): at most 150 us per grad call,
and (issue 20.7) no slower than autograd's grad in the same run.

Run: .venv/bin/python benchmarks/bench_grad_eager.py [--repeat N] [--number N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
import isa  # benchmarks/isa.py (this script's directory)

TARGET_US = 150.0


def f(x):
    return jnp.sum(jnp.tanh(jnp.sin(x) * x + 1.0) ** 2)


def f_numpy(x):
    return np.sum(np.tanh(np.sin(x) * x + 1.0) ** 2)


def _medians_us(fns_and_args, repeat: int, number: int) -> list[tuple[float, float]]:
    """(wall, CPU) medians in microseconds per call, the functions' runs interleaved."""
    walls: list[list[float]] = [[] for _ in fns_and_args]
    cpus: list[list[float]] = [[] for _ in fns_and_args]
    for fn, arg in fns_and_args:
        fn(arg)  # warm up
    for _ in range(repeat):
        for i, (fn, arg) in enumerate(fns_and_args):
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(number):
                fn(arg)
            walls[i].append((time.perf_counter() - w0) / number * 1e6)
            cpus[i].append((time.process_time() - c0) / number * 1e6)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(walls, cpus)]


def autograd_grad():
    """HIPS autograd's grad of `f` (its numpy wrapper), or None when it is not installed."""
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return None
    return autograd.grad(lambda x: anp.sum(anp.tanh(anp.sin(x) * x + 1.0) ** 2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--number", type=int, default=300)
    args = parser.parse_args()

    print(isa.line())  # the ISA each library runs
    x_np = np.array([0.1, 0.2, 0.3], np.float32)
    x = jnp.asarray(x_np)
    grad_f = jaxlite.grad(f)
    # Check the gradient before timing it (d/dx of tanh(u)^2 with u = x sin x + 1).
    u = np.sin(x_np) * x_np + 1.0
    expected = 2 * np.tanh(u) * (1 - np.tanh(u) ** 2) * (np.cos(x_np) * x_np + np.sin(x_np))
    np.testing.assert_allclose(np.asarray(grad_f(x)), expected, rtol=1e-5)

    ag = autograd_grad()
    cases = [(grad_f, x), (f, x), (f_numpy, x_np)] + ([(ag, x_np)] if ag else [])
    if ag:
        np.testing.assert_allclose(ag(x_np), expected, rtol=1e-5)
    meds = _medians_us(cases, args.repeat, args.number)
    (w_grad, c_grad), (w_fwd, c_fwd), (w_np, c_np) = meds[:3]
    print("eager grad of sum(tanh(sin(x) * x + 1) ** 2), f32[3], no jit")
    print(f"  medians of {args.repeat} interleaved runs     wall us     CPU us")
    print(f"  jaxlite grad                       {w_grad:8.1f}   {c_grad:8.1f}")
    print(f"  jaxlite forward (eager)            {w_fwd:8.1f}   {c_fwd:8.1f}")
    print(f"  NumPy forward                      {w_np:8.1f}   {c_np:8.1f}")
    if ag:
        w_ag, c_ag = meds[3]
        print(f"  HIPS autograd grad                 {w_ag:8.1f}   {c_ag:8.1f}")
    print(f"  grad / NumPy forward: {c_grad / c_np:.1f}x (CPU), {w_grad / w_np:.1f}x (wall)")
    ok = c_grad <= TARGET_US
    print(f"  target <= {TARGET_US:.0f} us: " + ("met" if ok else "MISSED"))
    if ag:
        r = c_grad / c_ag
        print(
            f"  jaxlite / autograd {r:.2f} (CPU)   target <= 1: " + ("met" if r <= 1 else "MISSED")
        )
        ok = ok and r <= 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
