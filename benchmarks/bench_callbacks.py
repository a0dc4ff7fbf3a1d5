"""The cost of one host callback: a `jaxlite.pure_callback` (identity on a float32[4]) and a
`jaxlite.debug.callback` (a no-op) called 1,000 times from a compiled `jit(lax.scan)`, per
call, minus the same scan without the callback; beside JAX's when installed.

The compiled kernel calls a cffi callback (backend/host_callbacks.py), which takes the GIL,
copies the operands into NumPy arrays, wraps them as Arrays, calls the function, checks and
copies its results back.

Run: .venv/bin/python benchmarks/bench_callbacks.py [--repeat N]
"""

from __future__ import annotations

import argparse

import numpy as np
import isa  # benchmarks/isa.py (this script's directory)
from timing import settled_medians  # benchmarks/timing.py (this script's directory)

STEPS = 1000


def scans(lib, lax, jnp, pure_callback, debug_callback):
    spec = lib.ShapeDtypeStruct((4,), np.float32)

    def plain(c, x):
        return c * 0.5 + x, None

    def pure(c, x):
        c = pure_callback(lambda a: a, spec, c, vmap_method="sequential")
        return c * 0.5 + x, None

    def debug(c, x):
        debug_callback(lambda a: None, c)
        return c * 0.5 + x, None

    xs = jnp.ones((STEPS, 4), np.float32)
    c0 = jnp.zeros(4, np.float32)
    out = {}
    for name, body in (("none", plain), ("pure_callback", pure), ("debug.callback", debug)):
        f = lib.jit(lambda c, xs, body=body: lax.scan(body, c, xs)[0])
        np.asarray(f(c0, xs))  # compiled before timing
        out[name] = lambda f=f: np.asarray(f(c0, xs))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    print(isa.line("jax"))  # the ISA each library runs
    import jaxlite
    import jaxlite.numpy as jnp

    libs = {"jaxlite": scans(jaxlite, jaxlite.lax, jnp, jaxlite.pure_callback,
                             jaxlite.debug.callback)}  # fmt: skip
    try:
        import jax
        import jax.numpy as jjnp

        libs["jax"] = scans(jax, jax.lax, jjnp, jax.pure_callback, jax.debug.callback)
    except ImportError:
        pass
    for lib, fns in libs.items():
        t = settled_medians(fns, args.repeat)
        for name in ("pure_callback", "debug.callback"):
            per = (t[name] - t["none"]) / STEPS * 1e6
            print(f"{lib:8s} {name:15s} {per:6.2f} us per callback (scan of {STEPS}, jit)")


if __name__ == "__main__":
    main()
