"""Eager dispatch overhead of one `jnp` op on a small array (float32[8]) beside NumPy's, in one
run. Targets: `jnp.sin`, `jnp.add` and `jnp.sum` on float32[8] cost at most 4 us each, and
(issue 20.7) at most 3x NumPy's own call (`np.sin`, `np.add`, `np.sum`) each. Also eager
control flow, whose bodies are staged once per signature (JAX's eager `lax.cond` costs ~30-100
us): `lax.cond` at most 30 us, a 10-step `lax.scan` at most 100 us.

Each measurement times a loop of `--number` calls; jaxlite and NumPy runs are interleaved and the
median over `--repeat` runs is reported, as wall time and as thread CPU time (which other
processes on a shared machine do not inflate; on an idle machine the two agree). The target is
checked on CPU time.

Run: .venv/bin/python benchmarks/bench_eager.py [--number N] [--repeat R]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

import jaxlite.numpy as jnp
from jaxlite import lax
import isa  # benchmarks/isa.py (this script's directory)

TARGET_US = 4.0
TARGET_RATIO = 3.0  # x NumPy's call, for the TARGETED ops
TARGETED = ("sin", "add", "sum")
CONTROL_FLOW_TARGETS_US = {"lax.cond": 30.0, "lax.scan x10": 100.0}


def _step(c, x):
    return c * 0.5 + x, c


def _np_scan(c, xs):
    ys = np.empty_like(xs)
    for t, x in enumerate(xs):
        c, ys[t] = _step(c, x)
    return c, ys


def _cases():
    xn = np.linspace(-1.0, 1.0, 8, dtype=np.float32)
    yn = xn[::-1].copy()
    x, y = jnp.asarray(xn), jnp.asarray(yn)
    xsn = np.ones((10, 8), np.float32)
    xs = jnp.asarray(xsn)
    return [
        ("sin", lambda: jnp.sin(x), lambda: np.sin(xn)),
        ("add", lambda: jnp.add(x, y), lambda: np.add(xn, yn)),
        ("sum", lambda: jnp.sum(x), lambda: np.sum(xn)),
        ("x * y", lambda: x * y, lambda: xn * yn),
        ("x + 1.0", lambda: x + 1.0, lambda: xn + 1.0),
        ("maximum(x, 0.0)", lambda: jnp.maximum(x, 0.0), lambda: np.maximum(xn, 0.0)),
        ("mean", lambda: jnp.mean(x), lambda: np.mean(xn)),
        ("where", lambda: jnp.where(x > 0, x, y), lambda: np.where(xn > 0, xn, yn)),
        ("reshape", lambda: x.reshape(2, 4), lambda: xn.reshape(2, 4)),
        ("dot", lambda: jnp.dot(x, y), lambda: np.dot(xn, yn)),
        ("x[1:3]", lambda: x[1:3], lambda: xn[1:3]),
        ("lax.cond", lambda: lax.cond(True, jnp.sin, jnp.cos, x), lambda: np.sin(xn)),
        ("lax.scan x10", lambda: lax.scan(_step, x, xs), lambda: _np_scan(xn, xsn)),
    ]


def _time_loop(fn, number: int) -> tuple[float, float]:
    """(wall, cpu) microseconds per call over `number` calls."""
    w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
    for _ in range(number):
        fn()
    c1, w1 = time.thread_time_ns(), time.perf_counter_ns()
    return (w1 - w0) / number / 1e3, (c1 - c0) / number / 1e3


def measure(number: int, repeat: int):
    rows = []
    for name, f_jl, f_np in _cases():
        f_jl(), f_np()  # warm up
        jl_w, jl_c, np_w, np_c = [], [], [], []
        for _ in range(repeat):  # interleaved, so load changes hit both sides alike
            w, c = _time_loop(f_jl, number)
            jl_w.append(w), jl_c.append(c)
            w, c = _time_loop(f_np, number)
            np_w.append(w), np_c.append(c)
        med = statistics.median
        rows.append((name, med(jl_w), med(jl_c), med(np_w), med(np_c)))
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--number", type=int, default=5000, help="calls per timed loop")
    p.add_argument("--repeat", type=int, default=15, help="timed loops per side")
    args = p.parse_args(argv)
    print(isa.line())  # the ISA each library runs
    rows = measure(args.number, args.repeat)
    print(f"eager op on float32[8]: median of {args.repeat} x {args.number} calls (us per call)")
    print(
        f"{'op':18s} {'jaxlite cpu':>11s} {'numpy cpu':>10s} {'ratio':>6s} "
        f"{'jaxlite wall':>12s} {'numpy wall':>10s}"
    )
    ok = True
    for name, jw, jc, nw, nc in rows:
        flag = ""
        target = TARGET_US if name in TARGETED else CONTROL_FLOW_TARGETS_US.get(name)
        if target is not None:
            good = jc <= target
            flag = f"  {'ok' if good else 'OVER'} (target <= {target:g} us"
            if name in TARGETED:
                good_ratio = jc / nc <= TARGET_RATIO
                flag += f", {'ok' if good_ratio else 'OVER'} ratio <= {TARGET_RATIO:g}"
                good = good and good_ratio
            flag += ")"
            ok &= good
        print(f"{name:18s} {jc:11.2f} {nc:10.2f} {jc / nc:6.1f} {jw:12.2f} {nw:10.2f}{flag}")
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
