"""Timing shared by the benchmarks that run several libraries side by side (bench_jit.py,
bench_scan.py): medians of timed bursts, interleaved across the functions, each after a settle.
"""

from __future__ import annotations

import statistics
import time

SETTLE_S = 0.25


def _medians(fns: dict, repeat: int, number: int, clock) -> dict:
    times: dict = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t_end = time.perf_counter() + SETTLE_S
            while time.perf_counter() < t_end:
                fn()
            t0 = clock()
            for _ in range(number):
                fn()
            times[k].append((clock() - t0) / number)
    return {k: statistics.median(v) for k, v in times.items()}


def cpu_medians(fns: dict, repeat: int, number: int = 1) -> dict:
    """`settled_medians` in process CPU seconds (`time.process_time`) per call: what a loaded
    machine moves least. NB: the settle still matters, since BLAS threads spinning after another
    library's product count in this process's CPU time."""
    return _medians(fns, repeat, number, time.process_time)


def settled_medians(fns: dict, repeat: int, number: int = 1) -> dict:
    """Median seconds per call of each function: `repeat` rounds, each timing a burst of
    `number` calls of every function in turn (so that a burst of load on this shared machine
    hits all alike).

    NB: each timed burst follows SETTLE_S (0.25 s) of untimed calls of the same function. BLAS
    libraries keep their worker threads spinning for a while after a product (OpenBLAS's
    default: 2^28 cycles, 0.1-0.13 s here), so a burst that directly followed another library's
    would share the two cores with that library's spinning threads (measured: NumPy's MLP step
    2.6 -> 15 ms, jaxlite's 5 -> 18 ms; with 0.1 s, per-example grads still 0.09 -> 0.44 ms).
    Settling measures each library in its own steady state, side by side.
    """
    return _medians(fns, repeat, number, time.perf_counter)


def try_jax(*submodules: str):
    """JAX (CPU, 64-bit mode off: its default and jaxlite's) with `submodules` imported, or None
    when it is not installed (the anchors live in a separate venv; never a dependency)."""
    try:
        import importlib

        import jax

        for m in submodules:
            importlib.import_module(m)
        jax.config.update("jax_enable_x64", False)
        return jax
    except ImportError:
        return None


def try_torch():
    """PyTorch, or None when it is not installed."""
    try:
        import torch

        return torch
    except ImportError:
        return None
