"""FFTs under `jit` (issue 21) beside NumPy (pocketfft), SciPy (pocketfft, C++) and JAX (ducc on
CPU): the 1-D complex64 transform of 2^10 .. 2^20 points, the 2-D 512x512 real transform
(rfft2), and a spectral 2-D heat equation: 100 steps `u <- irfft2(rfft2(u) * exp(-k^2 dt))`
by `jit(lax.scan)` (jaxlite, JAX) or a Python loop (NumPy).

The machine is shared: each figure is the median over rounds of the CPU time of a burst
(`time.process_time`, all threads of this process), after a settle; JAX runs single-threaded
(XLA flag below) so that both sides use one core. Run:
  PYTHONPATH=. /work/benchvenv/bin/python benchmarks/bench_fft.py [--repeat N] [--max-log2 20]
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import numpy as np  # noqa: E402

import jaxlite  # noqa: E402
import jaxlite.numpy as jnp  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import isa  # benchmarks/isa.py (this script's directory)  # noqa: E402
from timing import cpu_medians, try_jax  # noqa: E402


def _libs():
    jax = try_jax("jax.numpy")
    try:
        import scipy.fft as sfft
    except ImportError:
        sfft = None
    return jax, sfft


def _row(label, res, unit=1e3):
    best = min(res.values())
    cells = "  ".join(f"{k} {v * unit:8.3f}" for k, v in res.items())
    print(f"{label:<16} {cells}   jaxlite/best {res['jaxlite'] / best:5.2f}")


def bench_1d(repeat, max_log2, jax, sfft):
    print("1-D complex64 FFT, ms per transform (CPU time)")
    f_jl = jaxlite.jit(jnp.fft.fft)
    f_jx = jax.jit(jax.numpy.fft.fft) if jax else None
    rng = np.random.default_rng(0)
    for k in range(10, max_log2 + 1, 2):
        n = 1 << k
        x = (rng.normal(size=n) + 1j * rng.normal(size=n)).astype(np.complex64)
        xl = jnp.asarray(x)
        fns = {"jaxlite": lambda xl=xl: f_jl(xl), "numpy": lambda x=x: np.fft.fft(x)}
        if sfft:
            fns["scipy"] = lambda x=x: sfft.fft(x)
        if jax:
            xj = jax.numpy.asarray(x)
            fns["jax"] = lambda xj=xj: f_jx(xj).block_until_ready()
        for f in fns.values():
            f()
        want = np.fft.fft(x.astype(np.complex128))
        err = np.max(np.abs(np.asarray(f_jl(xl)) - want)) / np.max(np.abs(want))
        number = max(1, (1 << 16) // n)
        _row(f"n = 2^{k}", cpu_medians(fns, repeat, number))
        assert err < 1e-5, err


def bench_2d(repeat, jax, sfft):
    print("2-D 512x512 real FFT (rfft2, float32), ms (CPU time)")
    x = np.random.default_rng(1).normal(size=(512, 512)).astype(np.float32)
    f_jl = jaxlite.jit(jnp.fft.rfft2)
    xl = jnp.asarray(x)
    fns = {"jaxlite": lambda: f_jl(xl), "numpy": lambda: np.fft.rfft2(x)}
    if sfft:
        fns["scipy"] = lambda: sfft.rfft2(x)
    if jax:
        f_jx, xj = jax.jit(jax.numpy.fft.rfft2), jax.numpy.asarray(x)
        fns["jax"] = lambda: f_jx(xj).block_until_ready()
    for f in fns.values():
        f()
    _row("rfft2 512^2", cpu_medians(fns, repeat, 2))


def heat_parts(np_, n=256, dt=1e-4):
    k = np_.fft.fftfreq(n) * n * 2 * np.pi
    kr = np_.fft.rfftfreq(n) * n * 2 * np.pi
    decay = np_.exp(-(k[:, None] ** 2 + kr[None, :] ** 2) * dt).astype(np.float32)
    return decay


def bench_heat(repeat, jax, steps=100, n=256):
    print(f"spectral 2-D heat, {steps} steps of {n}x{n} float32, ms per run (CPU time)")
    u0 = np.random.default_rng(2).normal(size=(n, n)).astype(np.float32)
    decay = heat_parts(np, n)

    def run(L, lnp, u, decay):
        def step(u, _):
            return lnp.fft.irfft2(lnp.fft.rfft2(u) * decay, s=(n, n)), None

        return L.lax.scan(step, u, None, length=steps)[0]

    f_jl = jaxlite.jit(lambda u, d: run(jaxlite, jnp, u, d))
    ul, dl = jnp.asarray(u0), jnp.asarray(decay)

    def numpy_loop():
        u = u0
        for _ in range(steps):
            u = np.fft.irfft2(np.fft.rfft2(u) * decay, s=(n, n)).astype(np.float32)
        return u

    fns = {"jaxlite": lambda: f_jl(ul, dl), "numpy": numpy_loop}
    if jax:
        f_jx = jax.jit(lambda u, d: run(jax, jax.numpy, u, d))
        uj, dj = jax.numpy.asarray(u0), jax.numpy.asarray(decay)
        fns["jax"] = lambda: f_jx(uj, dj).block_until_ready()
    for f in fns.values():
        f()
    np.testing.assert_allclose(np.asarray(f_jl(ul, dl)), numpy_loop(), rtol=1e-3, atol=1e-4)
    _row("heat 100 steps", cpu_medians(fns, repeat, 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--max-log2", type=int, default=20)
    args = ap.parse_args()
    jax, sfft = _libs()
    print(isa.line("jax"))  # the ISA each library runs
    print(f"load average {os.getloadavg()[0]:.1f}; JAX {'single-threaded' if jax else 'absent'}")
    bench_1d(args.repeat, args.max_log2, jax, sfft)
    bench_2d(args.repeat, jax, sfft)
    bench_heat(args.repeat, jax)


if __name__ == "__main__":
    main()
