"""Runs every benchmarks/bench_*.py (what `make bench` does) and prints their tables and a summary.

Each benchmark runs in its own Python process (some pin BLAS threads or use fresh compile caches
before importing NumPy), with its output streamed as it comes. The summary lists each benchmark's
wall time and exit status, then every line of its output that states a target (the ratios and
whether they were met); a benchmark exits non-zero when it crashes or misses its target, and so
does this script.

With `--isa avx2` every library runs limited to AVX2 (benchmarks/isa.py: jaxlite built with
-mno-avx512f, OpenBLAS's Haswell kernels, XLA's max ISA, torch's ATen capability, NumPy's
dispatch); each benchmark's header says which ISA each library ran with.

With `--cpu` every benchmark that can (`--cpu` in its arguments) times process CPU time, and
every library runs one thread (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, XLA's flags): on a
machine shared with other work, the measure the load moves least.

A benchmark that exits with status 77 (SKIP: an optional dependency missing, e.g. mpi4py) is
listed as skipped, not as a failure.

Run: .venv/bin/python benchmarks/run_all.py [--only eager,jit] [--list] [--timeout S]
     [--isa native|avx2] [--cpu]    (`make bench ISA=avx2 CPU=1`)
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys
import time

import isa  # benchmarks/isa.py (this script's directory)

HERE = pathlib.Path(__file__).resolve().parent


def discover() -> list[pathlib.Path]:
    return sorted(HERE.glob("bench_*.py"))


def short(path: pathlib.Path) -> str:
    return path.stem.removeprefix("bench_")


def is_target_line(line: str) -> bool:
    """Whether a benchmark's output line states a target (its ratio and verdict)."""
    low = line.lower()
    return "target" in low or "missed" in low


SKIP = 77  # a benchmark's exit status when an optional dependency is missing


def takes_cpu_flag(path: pathlib.Path) -> bool:
    """Whether the benchmark has a `--cpu` option (CPU time instead of wall time)."""
    return '"--cpu"' in path.read_text()


def one_thread(env: dict) -> dict:
    """`env` with every library on one thread (what CPU-time figures need: CPU time of several
    threads would add up)."""
    env = dict(env)
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = env["MKL_NUM_THREADS"] = "1"
    flags = env.get("XLA_FLAGS", "").split()
    for f in ("--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1"):
        if f not in flags:
            flags.append(f)
    env["XLA_FLAGS"] = " ".join(flags)
    return env


def run(
    path: pathlib.Path, timeout: float | None, env=None, cpu: bool = False
) -> tuple[str, float, list[str]]:
    """(status, seconds, the output lines that state targets), the output streamed meanwhile."""
    print(f"\n=== {path.name} " + "=" * max(0, 70 - len(path.name)), flush=True)
    start = time.perf_counter()
    targets: list[str] = []
    args = [sys.executable, str(path), *(["--cpu"] if cpu and takes_cpu_flag(path) else [])]
    proc = subprocess.Popen(args, cwd=HERE.parent, text=True, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        for line in proc.stdout:
            print(line, end="", flush=True)
            if is_target_line(line):
                targets.append(line.strip())
            if timeout is not None and time.perf_counter() - start > timeout:
                raise subprocess.TimeoutExpired(proc.args, timeout)
        code = proc.wait(timeout=None if timeout is None else max(1.0, timeout))
        status = "ok" if code == 0 else "skipped" if code == SKIP else f"exit {code}"
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        status = f"timeout after {timeout:.0f} s"
    return status, time.perf_counter() - start, targets


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated names, e.g. eager,jit")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per benchmark")
    ap.add_argument("--isa", choices=isa.ISAS, default="native",
                    help="avx2: every library limited to AVX2 (benchmarks/isa.py)")  # fmt: skip
    ap.add_argument("--cpu", action="store_true",
                    help="process CPU time where a benchmark can, one thread per library")  # fmt: skip
    args = ap.parse_args(argv)

    benches = discover()
    if args.list:
        print("\n".join(short(b) for b in benches))
        return 0
    if args.only:
        wanted = {w.strip() for w in args.only.split(",") if w.strip()}
        unknown = wanted - {short(b) for b in benches}
        if unknown:
            ap.error(f"no such benchmark: {', '.join(sorted(unknown))}")
        benches = [b for b in benches if short(b) in wanted]

    env = isa.environment(args.isa)
    # Benchmarks measure the tuned runtime library: where the cache lacks it (after a change in
    # jaxlite/csrc, or another ISA's flags) the first process waits for its build instead of
    # running on the basic tier (bench_compile.py measures the tiers themselves)
    env.setdefault("JAXLITE_RUNTIME_TIERS", "0")
    if args.cpu:
        env = one_thread(env)
    results = [(b, *run(b, args.timeout, env, args.cpu)) for b in benches]

    print(f"\n=== summary ({args.isa} ISA) " + "=" * (62 - len(f" ({args.isa} ISA)")))
    print(f"{'benchmark':<24} {'wall time':>10}  status")
    for b, status, seconds, _ in results:
        print(f"{b.name:<24} {seconds:>9.1f}s  {status}")
    print("\ntargets (as each benchmark printed them):")
    for b, _, _, targets in results:
        for line in targets:
            print(f"  {short(b):<12} {line}")
    failed = [b.name for b, status, _, _ in results if status not in ("ok", "skipped")]
    if failed:
        print(f"\nnot ok: {', '.join(failed)} (a crash, or a target missed: see its table above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
