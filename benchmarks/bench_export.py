"""Exported MLP inference called from C against the same function through `jit` from Python.

The MLP of the reference workloads (784-512-512-10, float32, random weights), exported with
`jaxlite.export.to_c` with its weights embedded, at batch 1 and 128. The C side is a small
program timing the exported function in a loop (clock_gettime); the Python side times
`jit(predict)(params, x)` (weights passed as a pytree, the usual call) and a jit of a closure
over the weights (one array argument: jit's fastest dispatch path). Both sides run one thread
(OMP_NUM_THREADS=1 unless set), so the difference at batch 1 is Python's dispatch. Also
reports the size of the exported code as a shared library (and its text / data).

    PYTHONPATH=. python benchmarks/bench_export.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import jaxlite  # noqa: E402
import jaxlite.numpy as jnp  # noqa: E402
from jaxlite import nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import isa  # benchmarks/isa.py (this script's directory)  # noqa: E402
from timing import settled_medians  # noqa: E402

SIZES = (784, 512, 512, 10)

TIMER_C = r"""
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "mlp{b}.h"
static double now(void) {{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}}
static int cmp(const void *a, const void *b) {{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}}
int main(int argc, char **argv) {{
  int repeat = argc > 1 ? atoi(argv[1]) : 15;
  if (repeat < 1 || repeat > 1000) repeat = 15;
  static float x[MLP{b}_x_SIZE], out[MLP{b}_out_SIZE];
  void *ws = malloc(MLP{b}_WORKSPACE_SIZE + 1);
  for (int i = 0; i < MLP{b}_x_SIZE; i++) x[i] = (float)(i % 13) * 0.07f;
  /* calls per timed burst: about 0.1 s each */
  double t0 = now();
  int n = 0;
  while (now() - t0 < 0.1) {{ mlp{b}(x, out, ws); n++; }}
  double wall[1000], cpu[1000];
  for (int r = 0; r < repeat; r++) {{
    double settle = now();
    while (now() - settle < 0.05) mlp{b}(x, out, ws);
    clock_t c0 = clock();
    double w0 = now();
    for (int k = 0; k < n; k++) mlp{b}(x, out, ws);
    wall[r] = (now() - w0) / n;
    cpu[r] = (double)(clock() - c0) / CLOCKS_PER_SEC / n;
  }}
  qsort(wall, (size_t)repeat, sizeof wall[0], cmp);
  qsort(cpu, (size_t)repeat, sizeof cpu[0], cmp);
  printf("%.9g %.9g %g\n", wall[repeat / 2], cpu[repeat / 2], (double)out[0]);
  free(ws);
  return 0;
}}
"""


def predict(params, x):
    for w, b in params[:-1]:
        x = nn.relu(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def make_params(seed=0):
    r = np.random.default_rng(seed)
    return [
        (r.normal(0, (2 / m) ** 0.5, (m, n)).astype(np.float32), np.zeros(n, np.float32))
        for m, n in zip(SIZES[:-1], SIZES[1:])
    ]


def build(params, batch: int, out: str, cc: str) -> tuple[str, int, str]:
    """(timing program, shared library size in bytes, `size` of it) of the export at `batch`."""
    x = jaxlite.ShapeDtypeStruct((batch, SIZES[0]), np.float32)
    name = f"mlp{batch}"
    exp = jaxlite.export.to_c(predict, params, x, name=name, embed=(0,))
    d = os.path.join(out, name)
    exp.write(d)
    with open(os.path.join(d, "timer.c"), "w") as f:
        f.write(TIMER_C.format(b=batch))
    flags = jaxlite.export.cflags()
    lib = os.path.join(d, f"lib{name}.so")
    prog = os.path.join(d, "timer")
    src = os.path.join(d, f"{name}.c")
    subprocess.run([cc, *flags, "-fPIC", "-shared", src, "-o", lib, "-lm"], check=True)
    subprocess.run([cc, *flags, "-I", d, os.path.join(d, "timer.c"), src, "-o", prog, "-lm"],
                   check=True)  # fmt: skip
    size = subprocess.run(["size", lib], capture_output=True, text=True).stdout.splitlines()[-1]
    return prog, os.path.getsize(lib), size


def cpu_median(fn, repeat: int, number: int) -> float:
    """Median CPU seconds (this process, all threads) per call over `repeat` bursts."""
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        for _ in range(number):
            fn()
        times.append((time.process_time() - t0) / number)
    return statistics.median(times)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=15)
    args = p.parse_args(argv)
    cc = shutil.which(os.environ.get("CC", "cc")) or "cc"
    params = make_params()
    jparams = jaxlite.tree_util.tree_map(jnp.asarray, params)
    out = tempfile.mkdtemp(prefix="jaxlite-bench-export-")
    print(isa.line())  # the ISA each library runs
    print(f"load average {os.getloadavg()[0]:.2f}; OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    print(f"MLP {'-'.join(map(str, SIZES))} float32, weights embedded; median per call")
    print(
        "per call, wall (cpu): the exported C called from C; jit(predict)(params, x) and a "
        "jit of a closure over the weights, called from Python"
    )
    print("(the last jit column: products on jaxlite's packed kernel, as the export has them)")
    print(f"{'batch':>5} {'C':>20} {'jit(params, x)':>20} {'jit closure(x)':>20} "
          f"{'closure, own gemm':>20} {'library':>9}")  # fmt: skip
    try:
        for batch in (1, 128):
            prog, lib_bytes, size = build(params, batch, out, cc)
            x = jnp.asarray(np.random.default_rng(1).normal(size=(batch, SIZES[0])), jnp.float32)
            f = jaxlite.jit(predict)
            g = jaxlite.jit(functools.partial(predict, jparams))
            f(jparams, x), g(x)  # compile
            number = 200 if batch == 1 else 20
            fns = {"f": lambda f=f, x=x: f(jparams, x), "g": lambda g=g, x=x: g(x)}
            wall = settled_medians(fns, args.repeat, number)
            cpu = {k: cpu_median(fn, args.repeat, number) for k, fn in fns.items()}
            # jit's products on the packed kernel, as the export's batch-128 products. NB: not
            # at batch 1, where own_products' packed kernel repacks B in every call (the export
            # and jit both take the register-blocked kernel there).
            wall["own"] = cpu["own"] = float("nan")
            if batch > 1:
                with jaxlite.export.own_products():
                    wall["own"] = settled_medians({"o": fns["g"]}, args.repeat, number)["o"]
                    cpu["own"] = cpu_median(fns["g"], args.repeat, number)
            c_wall, c_cpu, _ = map(float, subprocess.run(
                [prog, str(args.repeat)], capture_output=True, text=True, check=True
            ).stdout.split())  # fmt: skip

            def us(w, c):
                return "-" if w != w else f"{w * 1e6:.1f} ({c * 1e6:.1f}) us"

            print(f"{batch:>5} {us(c_wall, c_cpu):>20} {us(wall['f'], cpu['f']):>20} "
                  f"{us(wall['g'], cpu['g']):>20} {us(wall['own'], cpu['own']):>20} "
                  f"{lib_bytes / 1e6:>7.2f}MB")  # fmt: skip
            text, data, bss = size.split()[:3]
            print(
                f"{'':>5} shared library: {text} bytes text (code + embedded weights), "
                f"{data} data, {bss} bss"
            )
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
