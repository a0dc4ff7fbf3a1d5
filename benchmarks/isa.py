"""The vector instructions every library of the benchmarks runs with: `native` (what each picks on
this CPU) or `avx2` (every library limited to AVX2, on an AVX-512 machine: a stand-in for an
AVX2-only x86-64, which issue 20's targets must hold on too).

Zen 4 executes AVX-512 as two 256-bit halves, so on it an AVX2 build has the same peak: the
`avx2` figures are what an AVX2-only EPYC of that clock would show. What `avx2` sets, for the
benchmark's process (environment variables read when each library loads):

  jaxlite   JAXLITE_CFLAGS += -mno-avx512f (after -march=native: no __AVX512F__ in kernels or
            the runtime library; the compile cache keys and the measured kernel choice name the
            flags, so neither build reuses the other's objects or table)
  OpenBLAS  OPENBLAS_CORETYPE=Haswell (jaxlite's scipy-openblas32 and NumPy's bundled one)
  NumPy     NPY_DISABLE_CPU_FEATURES = its AVX-512 dispatch targets (NumPy 2.x: X86_V4,
            AVX512_ICL, AVX512_SPR; older: AVX512F, AVX512_SKX, ...)
  JAX/XLA   XLA_FLAGS += --xla_cpu_max_isa=AVX2 (LLVM's target becomes "haswell", -avx512f)
  PyTorch   ATEN_CPU_CAPABILITY=avx2; MKL_ENABLE_INSTRUCTIONS=AVX2 and ONEDNN_MAX_CPU_ISA=AVX2
            (MKL's sgemm on AMD runs the same code either way: 96-99 GFLOP/s at 512^3)

`line()` is the one header line a benchmark prints: the ISA each library runs with, read back
from the library where it can say (jaxlite's runtime library's vector width, OpenBLAS's core
name, NumPy's enabled dispatch targets, torch's ATen capability), else from its flags (XLA).

Run:  python benchmarks/isa.py [--isa avx2] --verify     (each library's evidence, in a child)
      python benchmarks/isa.py --isa avx2 benchmarks/bench_gemm.py --cpu   (a benchmark under it)
"""

from __future__ import annotations

import ctypes
import glob
import os
import shlex
import subprocess
import sys

ISAS = ("native", "avx2")
# NumPy < 2's names of its AVX-512 targets (2.x names them X86_V4, AVX512_ICL, AVX512_SPR)
_NPY_OLD_AVX512 = "AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL"


def _numpy_avx512_targets() -> list[str]:
    """NumPy's dispatch targets that use AVX-512 (asked in a child process, so the caller need
    not have imported NumPy, and its own NumPy is not the one measured)."""
    code = (
        "import numpy as np\n"
        "try:\n from numpy._core._multiarray_umath import __cpu_dispatch__ as d\n"
        "except ImportError:\n from numpy.core._multiarray_umath import __cpu_dispatch__ as d\n"
        "print(' '.join(t for t in d if '512' in t or t == 'X86_V4'))\n"
    )
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60, check=True).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        out = ""
    return out.split() or _NPY_OLD_AVX512.split()


def environment(isa: str, env: dict | None = None) -> dict:
    """A copy of `env` (default: this process's) for a process whose libraries run `isa`."""
    if isa not in ISAS:
        raise ValueError(f"isa: expected one of {ISAS}, got {isa!r}")
    env = dict(os.environ if env is None else env)
    env["JAXLITE_BENCH_ISA"] = isa  # for the benchmark's header (`line`)
    if isa == "native":
        return env

    def add(name, flag):
        have = env.get(name, "")
        if flag not in shlex.split(have):
            env[name] = f"{have} {flag}".strip()

    add("JAXLITE_CFLAGS", "-mno-avx512f")
    add("XLA_FLAGS", "--xla_cpu_max_isa=AVX2")
    env["OPENBLAS_CORETYPE"] = "Haswell"
    env["ATEN_CPU_CAPABILITY"] = "avx2"
    env["MKL_ENABLE_INSTRUCTIONS"] = "AVX2"
    env["ONEDNN_MAX_CPU_ISA"] = "AVX2"
    env["NPY_DISABLE_CPU_FEATURES"] = " ".join(_numpy_avx512_targets())
    return env


# ------------------------------------------------------------------------------------------
# What each library runs with (in the benchmark's own process)
# ------------------------------------------------------------------------------------------


def jaxlite_isa() -> str:
    """jaxlite's kernels: the vector width its runtime library was built with, and the core of
    the OpenBLAS build it calls."""
    from jaxlite.backend import compile as jc

    cc = jc.find_compiler()
    lib = jc.runtime_library(cc)
    width = lib.function(f"jl_rt_gemm_vec_width_{jc.runtime_tag(cc)}", "int(*)(int)")(0) * 32
    name = {512: "AVX-512", 256: "AVX2"}.get(width, f"{width}-bit")
    return f"jaxlite {name} (OpenBLAS {jc.blas_core(lib)})"


def numpy_openblas_core() -> str:
    """The core of NumPy's bundled OpenBLAS (scipy-openblas64 in NumPy 2), or "?"."""
    import numpy as np

    here = os.path.dirname(np.__file__)
    for path in sorted(glob.glob(os.path.join(here, os.pardir, "numpy.libs", "*openblas*"))):
        lib = ctypes.CDLL(path)
        for sym in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                    "openblas_get_corename64_", "openblas_get_corename"):  # fmt: skip
            fn = getattr(lib, sym, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return "?"


def numpy_isa() -> str:
    """NumPy's enabled dispatch targets above its baseline (its own kernels) and its BLAS core."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    on = [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]
    return f"numpy {on[-1] if on else 'baseline'} (OpenBLAS {numpy_openblas_core()})"


def xla_isa() -> str:
    """XLA's CPU target: `--xla_cpu_max_isa` where XLA_FLAGS sets it (read by XLA when JAX
    starts; `--verify` shows the target it gave LLVM), else this CPU's own."""
    for flag in shlex.split(os.environ.get("XLA_FLAGS", "")):
        if flag.startswith("--xla_cpu_max_isa="):
            return f"XLA {flag.split('=', 1)[1]}"
    return "XLA native"


def torch_isa(torch) -> str:
    return f"torch {torch.backends.cpu.get_cpu_capability()}"


def line(*anchors: str) -> str:
    """One header line: the ISA of jaxlite, NumPy and the `anchors` the benchmark runs ("jax",
    "torch"; an anchor that is not installed is left out)."""
    parts = [jaxlite_isa(), numpy_isa()]
    for name in anchors:
        if name == "jax":
            try:
                import jax  # noqa: F401
            except ImportError:
                continue
            parts.append(xla_isa())
        elif name == "torch":
            try:
                import torch
            except ImportError:
                continue
            parts.append(torch_isa(torch))
    cpu = os.environ.get("JAXLITE_BENCH_ISA", "native")
    return f"# ISA ({cpu}): " + "; ".join(parts)


# ------------------------------------------------------------------------------------------
# --verify: the evidence, library by library
# ------------------------------------------------------------------------------------------


def _xla_target() -> str:
    """The CPU name and AVX-512 feature sign XLA gave LLVM for a jitted function (from an XLA
    dump's topology: "znver4 +avx512f" natively, "haswell -avx512f" under max_isa=AVX2)."""
    import re
    import tempfile

    d = tempfile.mkdtemp(prefix="isa-xla-")
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} --xla_dump_to={d}".strip()
    code = "import jax, jax.numpy as jnp\nprint(jax.jit(lambda x: jnp.tanh(x) * 2)(jnp.ones(64)))"
    subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=300)
    found = glob.glob(os.path.join(d, "*", "topology.textproto"))
    if not found:
        return "no dump"
    text = open(found[0]).read()
    cpu = re.search(r"gnu\\022\\[0-9]+([A-Za-z0-9_-]+)", text)
    feat = re.search(r"([+-])avx512f,", text)
    return f"{cpu.group(1) if cpu else '?'} {feat.group(1) + 'avx512f' if feat else '?'}"


def _jaxlite_avx512f_in_kernels() -> bool:
    """Whether a kernel jaxlite compiles sees __AVX512F__ (a compiled probe)."""
    from jaxlite.backend import compile as jc

    src = (
        "int jl_isa_probe(void) {\n#ifdef __AVX512F__\n  return 1;\n#else\n  return 0;\n#endif\n}\n"
    )
    lib = jc.load(src, salt="isa-probe")  # NB: kept while its function runs (else unloaded)
    return bool(lib.function("jl_isa_probe", "int(*)(void)")())


def verify() -> None:
    """Prints what each library runs with, asked of each (in this process's environment)."""
    print(line("jax", "torch"))
    print(f"jaxlite kernels define __AVX512F__: {_jaxlite_avx512f_in_kernels()}")
    try:
        print(f"XLA's LLVM target: {_xla_target()}")
    except (OSError, subprocess.SubprocessError) as e:
        print(f"XLA's LLVM target: not found ({e})")
    for var in ("JAXLITE_CFLAGS", "OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES", "XLA_FLAGS",
                "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA"):  # fmt: skip
        print(f"  {var}={os.environ.get(var, '')!r}")


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--isa", choices=ISAS, default="native")
    ap.add_argument("--verify", action="store_true", help="print each library's evidence")
    ap.add_argument("script", nargs="?", help="a benchmark to run under --isa")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    env = environment(args.isa)
    if args.verify:
        cmd = [sys.executable, os.path.abspath(__file__), "--verify-here"]
    elif args.script:
        cmd = [sys.executable, args.script, *args.args]
    else:
        ap.error("give --verify or a script to run")
    return subprocess.run(cmd, env=env).returncode


if __name__ == "__main__":
    if sys.argv[1:] == ["--verify-here"]:
        verify()
        sys.exit(0)
    sys.exit(main())
