"""Data parallelism over MPI: the gradient all-reduce of the 784-512-512-10 MLP's parameters
through jaxlite (`pmap` of `lax.psum`, compiled, the Allreduce in a host call) against raw
mpi4py `Allreduce` of the same buffers, and the time of a whole data-parallel training step
for 1, 2 and 4 ranks.

    python benchmarks/bench_distributed.py            # launches mpiexec -n 1, 2, 4 itself
    mpiexec -n 2 python benchmarks/bench_distributed.py --worker

Timing: every rank runs the same calls in lockstep (a barrier before each timed burst; the
burst's time is the slowest rank's), medians of bursts (and the best burst: on a loaded machine
the median mostly measures which rank the scheduler put aside), the raw and jaxlite bursts
interleaved one call at a time.
With more ranks than cores (4 ranks on a 2-core machine) the ranks take turns on the cores: the
step time then measures oversubscription, and the script says so.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np
import isa  # benchmarks/isa.py (this script's directory)

SIZES = (784, 512, 512, 10)
GLOBAL_BATCH = 256


def _params(rng):
    return [
        (rng.standard_normal((m, n)).astype(np.float32) * np.float32(0.05),
         np.zeros(n, np.float32))
        for m, n in zip(SIZES[:-1], SIZES[1:])
    ]  # fmt: skip


def _bursts(comm, fns: dict, repeat: int, number: int, stat=statistics.median) -> dict:
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            comm.Barrier()
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            dt = (time.perf_counter() - t0) / number
            times[k].append(comm.allreduce(dt, op=_max_op()))
    return {k: stat(v) for k, v in times.items()}


def _max_op():
    from mpi4py import MPI

    return MPI.MAX


def worker(repeat: int, number: int) -> None:
    import jaxlite
    import jaxlite.numpy as jnp
    from jaxlite import lax, nn

    jaxlite.distributed.initialize()
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rank, n = comm.Get_rank(), comm.Get_size()
    rng = np.random.default_rng(0)
    grads = [a for pair in _params(rng) for a in pair]
    nbytes = sum(g.nbytes for g in grads)

    outs = [np.empty_like(g) for g in grads]

    def raw():
        for g, o in zip(grads, outs):
            comm.Allreduce(g, o, op=MPI.SUM)

    summed = jaxlite.pmap(lambda gs: [lax.psum(g, "i") for g in gs], axis_name="i")
    stacked = [jnp.asarray(g[None]) for g in grads]

    def through_jaxlite():
        summed(stacked)

    for fn in (raw, through_jaxlite):
        for _ in range(3):
            fn()

    def unchecked():
        os.environ["JAXLITE_MPI_CHECK_SHAPES"] = "0"
        try:
            summed(stacked)
        finally:
            os.environ["JAXLITE_MPI_CHECK_SHAPES"] = "1"

    # NB: one call per burst, the three alternating, many rounds: the load of this shared
    # machine drifts over seconds, and alternating exposes all three to it alike.
    fns = {"raw": raw, "jaxlite": through_jaxlite, "nocheck": unchecked}
    both = _bursts(comm, fns, repeat * number, 1, stat=lambda v: (statistics.median(v), min(v)))
    t = {k: v[0] for k, v in both.items()}
    best = {k: v[1] for k, v in both.items()}
    t_nocheck = t["nocheck"]

    # Latency: one 4-byte all-reduce (raw) against a pmapped psum of a scalar: what jaxlite
    # adds per call (pmap's dispatch, the shard check, the kernel's host call).
    one, one_out = np.ones(1, np.float32), np.empty(1, np.float32)
    tiny = jaxlite.pmap(lambda v: lax.psum(v, "i"), axis_name="i")
    tiny_in = jnp.ones((1, 1), jnp.float32)
    lat = _bursts(comm, {"raw": lambda: comm.Allreduce(one, one_out, op=MPI.SUM),
                         "jaxlite": lambda: tiny(tiny_in)}, repeat * number, 1)  # fmt: skip

    # A whole data-parallel training step (SGD): each rank's slice of the global batch.
    params = _params(rng)
    local = GLOBAL_BATCH // n
    x = rng.standard_normal((n, local, SIZES[0])).astype(np.float32)
    y = rng.integers(0, 10, (n, local))

    def loss(p, xb, yb):
        h = xb
        for w, b in p[:-1]:
            h = nn.relu(h @ w + b)
        w, b = p[-1]
        logp = nn.log_softmax(h @ w + b)
        return -jnp.mean(jnp.sum(logp * nn.one_hot(yb, 10, dtype=jnp.float32), axis=-1))

    def shard_step(p, xb, yb):
        g = lax.pmean(jaxlite.grad(loss)(p, xb, yb), "i")
        return jaxlite.tree.map(lambda a, b: a - 0.01 * b, p, g)

    step = jaxlite.pmap(shard_step, axis_name="i", in_axes=(None, 0, 0), out_axes=None)
    xs, ys = jnp.asarray(x[rank][None]), jnp.asarray(y[rank][None])
    state = {"p": params}

    def one_step():
        state["p"] = step(state["p"], xs, ys)

    for _ in range(3):
        one_step()
    t_step = _bursts(comm, {"step": one_step}, repeat, max(1, number // 2))["step"]
    if rank == 0:
        print(
            f"RESULT ranks={n} bytes={nbytes} raw_ms={t['raw'] * 1e3:.3f} "
            f"jaxlite_ms={t['jaxlite'] * 1e3:.3f} jaxlite_nocheck_ms={t_nocheck * 1e3:.3f} "
            f"step_ms={t_step * 1e3:.3f} lat_raw_us={lat['raw'] * 1e6:.1f} "
            f"lat_jaxlite_us={lat['jaxlite'] * 1e6:.1f} best_raw_ms={best['raw'] * 1e3:.3f} "
            f"best_jaxlite_ms={best['jaxlite'] * 1e3:.3f} "
            f"best_nocheck_ms={best['nocheck'] * 1e3:.3f}",
            flush=True,
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", action="store_true", help="run as one rank (under mpiexec)")
    p.add_argument("--ranks", default="1,2,4")
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--number", type=int, default=10)
    args = p.parse_args()
    if args.worker:
        worker(args.repeat, args.number)
        return
    exe = pathlib.Path(sys.executable).parent / "mpiexec"
    exe = str(exe) if exe.exists() else shutil.which("mpiexec")
    if exe is None:
        print("skipped: needs mpi4py and mpiexec: pip install 'jaxlite[distributed]'")
        sys.exit(77)  # run_all.py's SKIP
    cores = os.cpu_count()
    print(isa.line())  # the ISA each library runs
    print(f"{cores} cores; load average {os.getloadavg()[0]:.2f}; MLP {SIZES}, gradient "
          f"all-reduce of every parameter (6 buffers); step: global batch {GLOBAL_BATCH}")  # fmt: skip
    print(f"{'ranks':>5} {'MB':>6} {'raw mpi4py':>11} {'jaxlite':>9} {'overhead':>9} "
          f"{'no checks':>10} {'overhead':>9} {'step':>9}   4-byte psum: raw / jaxlite")  # fmt: skip
    root = pathlib.Path(__file__).resolve().parent.parent
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(root))
    for n in [int(r) for r in args.ranks.split(",")]:
        cmd = [exe, "-n", str(n), sys.executable, __file__, "--worker",
               "--repeat", str(args.repeat), "--number", str(args.number)]  # fmt: skip
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        line = next((s for s in r.stdout.splitlines() if s.startswith("RESULT")), None)
        if line is None:
            print(f"{n} ranks failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
            continue
        f = dict(kv.split("=") for kv in line.split()[1:])
        raw, jl, nc = float(f["raw_ms"]), float(f["jaxlite_ms"]), float(f["jaxlite_nocheck_ms"])
        note = "  (oversubscribed: more ranks than cores)" if n > cores else ""
        print(
            f"{n:>5} {int(f['bytes']) / 1e6:>6.2f} {raw:>8.3f} ms {jl:>6.3f} ms "
            f"{(jl / raw - 1) * 100:>+8.1f}% {nc:>7.3f} ms {(nc / raw - 1) * 100:>+8.1f}% "
            f"{float(f['step_ms']):>6.2f} ms   {float(f['lat_raw_us']):>6.1f} / "
            f"{float(f['lat_jaxlite_us']):.1f} us{note}"
        )
        braw, bjl, bnc = (float(f[k]) for k in ("best_raw_ms", "best_jaxlite_ms",
                                                  "best_nocheck_ms"))  # fmt: skip
        print(
            f"{'':>5} {'best:':>6} {braw:>8.3f} ms {bjl:>6.3f} ms {(bjl / braw - 1) * 100:>+8.1f}% "
            f"{bnc:>7.3f} ms {(bnc / braw - 1) * 100:>+8.1f}%"
        )


if __name__ == "__main__":
    main()
