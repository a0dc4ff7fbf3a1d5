"""C source -> loaded shared library, through an on-disk cache (cffi ABI mode).

`load(source)` returns a `Library` whose functions are called through cffi. Entries of the cache
directory are named by the SHA-256 of everything that determines the binary; each library has its
content hash beside it, checked before loading. This module imports no jaxlite module but errors
and the options (`_config`).

NB: cffi ABI mode (our own compiler call, then dlopen) rather than API mode, by measurement on
this 2-core EPYC, for a 4-element kernel: API mode (`ffi.set_source` + `ffi.compile`, which builds
a CPython extension through setuptools and includes Python.h) took 405 ms to build; ABI mode took
40 ms for the compiler call plus 0.6 ms to load. A call through ABI mode costs ~0.3 us more than
through API mode (0.86 vs 0.56 us with two pointer arguments), well inside the jit dispatch budget.
We load through `_cffi_backend` (`load_library` + `load_function`, exactly what `ffi.dlopen` does
inside) with the function type parsed by cffi's built-in C type parser: `ffi.cdef` would import
pycparser, which costs 32 ms in every new process, most of the 50 ms warm-start budget.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import json
import os
import platform
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import weakref

import _cffi_backend

from jaxlite._config import config
from jaxlite.errors import CompilerNotFoundError, JaxliteCompileError

# The C headers and the runtime library ship inside the package (package data), so a source
# checkout and an installed wheel find them the same way.
CSRC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "csrc")

ffi = _cffi_backend.FFI()
_DLOPEN_FLAGS = os.RTLD_NOW
# NB: OpenMP threads that spin long between parallel loops steal the cores BLAS's threads run on
# (an MLP step took 5x longer here with libgomp's default spin, 300,000 iterations); threads that
# never spin (OMP_WAIT_POLICY=passive) must be woken through the kernel for every parallel loop,
# which took ~100 us on this VM (2 threads lost to 1 below 2^20 elements of x*2+1). A short spin
# keeps both costs small: `benchmarks/bench_jit.py --only threshold` and the MLP step measured
# best at 10,000. The same for OpenBLAS's own threads (2^4 cycles of spinning, then sleep; its
# default, 2^28 cycles, keeps a core busy ~0.1 s after every product). Neither library has a call
# to set these: each reads its variable once, when it is loaded. So jaxlite sets a variable the
# user has not set only while it loads the library itself (`_thread_defaults`), and puts the
# environment back at once: the user's process and its children never see the change.
# JAXLITE_THREAD_DEFAULTS=0 turns this off.
THREAD_DEFAULTS = {"GOMP_SPINCOUNT": "10000", "OPENBLAS_THREAD_TIMEOUT": "4"}


_env_lock = threading.RLock()  # one thread at a time changes and restores the environment


@contextlib.contextmanager
def _thread_defaults():
    """While a library that reads them is loaded: THREAD_DEFAULTS that the user has not set."""
    with _env_lock:
        added = _set_thread_defaults()
        try:
            yield
        finally:
            for name in added:
                os.environ.pop(name, None)


def _set_thread_defaults() -> list[str]:
    added = []
    if config.jaxlite_thread_defaults:
        for name, value in THREAD_DEFAULTS.items():
            if name == "GOMP_SPINCOUNT" and "OMP_WAIT_POLICY" in os.environ:
                continue  # the user chose libgomp's waiting; the spin count would override it
            if name not in os.environ:
                os.environ[name] = value
                added.append(name)
    return added


# key -> Library, for this process; weak: a library no executable uses any more is unloaded.
_loaded: weakref.WeakValueDictionary[str, Library] = weakref.WeakValueDictionary()
_locks: dict[str, threading.Lock] = {}  # key -> lock: one thread builds a kernel, others wait
_locks_lock = threading.Lock()


# gcc's scheduler before register allocation, with register pressure counted by its "model"
# algorithm (2): the default pressure algorithm (1) cost the VAE step's AVX2 kernels 1-2%.
SCHEDULE_FLAGS = ("-fschedule-insns", "-fsched-pressure", "--param=sched-pressure-algorithm=2")


def _schedule_flags(exe: str) -> tuple[str, ...]:
    """gcc's pre-allocation scheduling, bounded by register pressure (see compiler_command);
    not for clang, which has no such flags (its own scheduler runs anyway)."""
    try:
        version = compiler_version(shutil.which(exe) or exe)
    except (OSError, CompilerNotFoundError):
        version = exe  # not runnable here: its name is all there is to go by
    return () if "clang" in version.lower() else SCHEDULE_FLAGS


def compiler_command(
    cc: list[str],
    source: str,
    output: str,
    *,
    blas: bool,
    openmp: bool,
    extra: tuple[str, ...] = (),
):
    """The compiler call: every flag, with why it is there."""
    return [
        *cc,
        "-std=c99",  # the dialect of the generated code and of csrc/
        "-O3",  # vectorize loops (gcc's -O2 vectorizes only with a very cheap cost model)
        "-march=native",  # this machine's vector units (AVX-512 here); the cache key names the host
        "-fPIC", "-shared",  # a shared library for dlopen (cffi ABI mode)
        "-fwrapv",  # signed integer overflow wraps, as in NumPy (and is not undefined behaviour)
        "-ffp-contract=off",  # no fused multiply-add: the same rounding as NumPy
        "-fno-math-errno",  # libm need not set errno (sqrt is one instruction); results unchanged
        "-fno-trapping-math",  # FP exceptions are masked: selects and floor vectorize; same results
        # Instruction scheduling before register allocation (off by default on x86), bounded by
        # register pressure: it interleaves a loop body's independent chains (tanh's and
        # logistic's in bench_jit.py's chain), which an out-of-order core with a 64-entry FP
        # scheduler cannot do for itself across two ~25-op chains: the chain's AVX2 loop 7%
        # less CPU time, AVX-512 2-3% (Zen 4); the VAE, transformer and MLP steps within 1%.
        # The same arithmetic, the same bits. The runtime library opts out (_RUNTIME_CFLAGS).
        *_schedule_flags(cc[0]),
        # NB: never -ffast-math: isnan, inf and signed zeros must behave as in NumPy.
        # `#pragma omp simd` (independent iterations: vectorize); with threads, also
        # `#pragma omp parallel for` (loops above a size threshold)
        "-fopenmp" if openmp else "-fopenmp-simd",
        "-I", CSRC_DIR,  # jaxlite.h and the other hand-written headers
        *_blas_flags(blas)[0],  # cblas.h from the scipy-openblas32 wheel
        # JL_RT_TAG (the runtime library's build: for it and for kernels that call it) and
        # the runtime library's own flags (see `runtime_library`)
        *extra,
        *shlex.split(config.jaxlite_cflags),  # the user's extra flags (JAXLITE_CFLAGS), last
        "-o", output, source,
        # NB: libraries after the source, or the linker (--as-needed) records no dependency
        *_blas_flags(blas)[1],  # cblas_sgemm/dgemm from the scipy-openblas32 wheel
        "-lm",  # libm
    ]  # fmt: skip


def _blas_flags(blas: bool) -> tuple[list[str], list[str]]:
    """(compiler flags, linker flags) for the scipy-openblas32 wheel."""
    paths = blas_paths() if blas else None
    if paths is None:  # csrc/jl_gemm.c falls back to its own kernels and C loops
        return [], []
    lib_dir, include_dir, lib_name = paths
    return (["-DJL_HAVE_BLAS", "-I", include_dir],
            ["-L", lib_dir, f"-l{lib_name}", f"-Wl,-rpath,{lib_dir}"])  # fmt: skip


_BLAS: list = []


def blas_paths() -> tuple[str, str, str] | None:
    """(lib dir, include dir, library name) of the scipy-openblas32 wheel, or None."""
    if not _BLAS:
        _BLAS.append(_blas_wheel_files() or _blas_wheel_import())
    return _BLAS[0]


def _blas_wheel_files() -> tuple[str, str, str] | None:
    """`blas_paths` read off the wheel's files, without importing it. NB: its import took 25 ms
    of a warm process's first jit call (importlib.metadata, for its version string); the library
    itself is loaded later, with the thread defaults, by `_pin_runtimes`."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("scipy_openblas32")
        pkg = spec.submodule_search_locations[0] if spec is not None else None
        if pkg is None:
            return None
        pkg = os.path.realpath(pkg)  # as the wheel's own functions give it
        lib_dir, include_dir = os.path.join(pkg, "lib"), os.path.join(pkg, "include")
        libs = sorted(f for f in os.listdir(lib_dir) if f.startswith("libscipy_openblas"))
    except (ImportError, ValueError, TypeError, IndexError, OSError):
        return None
    if not libs or not os.path.exists(os.path.join(include_dir, "cblas.h")):
        return None
    return lib_dir, include_dir, libs[0].split(".")[0][3:]  # the wheel's get_library()


def _blas_wheel_import() -> tuple[str, str, str] | None:
    try:
        # NB: importing the wheel loads OpenBLAS, which reads its variables then.
        with _thread_defaults():
            import scipy_openblas32 as ob

        return ob.get_lib_dir(), ob.get_include_dir(), ob.get_library()
    except (ImportError, AttributeError):
        return None


# ------------------------------------------------------------------------------------------
# Loaded libraries
# ------------------------------------------------------------------------------------------


class Library:
    """A loaded kernel library. `compiled` says whether this process ran the compiler for it."""

    def __init__(self, key: str, path: str, compiled: bool, seconds: float, flags=_DLOPEN_FLAGS):
        self.key = key
        self.path = path
        self.compiled = compiled
        self.seconds = seconds
        self._handle = _cffi_backend.load_library(path, flags)
        self._functions: dict = {}

    def function(self, name: str, ctype: str):
        """The C function `name`, called through cffi with type `ctype`, e.g. `int(*)(void *)`."""
        fn = self._functions.get((name, ctype))
        if fn is None:
            fn = self._functions[(name, ctype)] = self._handle.load_function(
                ffi.typeof(ctype), name
            )
        return fn


def load(source: str, *, salt: str = "", runtime: bool = False, openmp: bool = False) -> Library:
    """Compiles `source` (or finds it in the cache) and loads it.

    Args:
      source: the C translation unit.
      salt: extra text for the cache key (the caller's version).
      runtime: the source calls the runtime library (csrc/jl_blas.h's products): it is built
        (once per machine, beside this kernel's own compilation) and loaded first.
      openmp: compile with OpenMP.
    Raises:
      CompilerNotFoundError: no C compiler (JAXLITE_CC, CC or cc) was found.
      JaxliteCompileError: the compiler failed; the message has its output and the C file's path.
    """
    cc = find_compiler()
    basic = runtime and _process_tier(cc)
    extra = (f"-DJL_RT_TAG={runtime_tag(cc, basic=basic)}",) if runtime else ()
    key = cache_key(source, cc, salt, False, openmp, extra)
    needs = (lambda: runtime_library(cc, basic=basic)) if runtime else None
    return _load_once(
        key, lambda: _load_or_build(key, source, cc, openmp=openmp, extra=extra, needs=needs)
    )


def _load_once(key: str, load_or_build) -> Library:
    """The library `key`, loaded at most once per process even when threads race for it."""
    lib = _loaded.get(key)
    if lib is not None:
        return lib
    with _locks_lock:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        lib = _loaded.get(key)
        if lib is None:
            lib = _loaded[key] = load_or_build()
    with _locks_lock:
        if _locks.get(key) is lock:
            del _locks[key]
    return lib


# ------------------------------------------------------------------------------------------
# The runtime library: csrc/jl_gemm.c, compiled once per machine
# ------------------------------------------------------------------------------------------

RUNTIME_SOURCE = os.path.join(CSRC_DIR, "jl_gemm.c")
# NB: global, so that kernels loaded after it resolve its functions; never unloaded (its OpenMP
# and BLAS threads may outlive any one kernel).
_RUNTIME_FLAGS = os.RTLD_NOW | os.RTLD_GLOBAL | getattr(os, "RTLD_NODELETE", 0)
_runtimes: dict[str, Library] = {}  # key -> the loaded runtime library (kept for good)
# NB: its kernels are written with vector types; gcc's loop vectorizer found nothing to win in
# it (the same speed, measured) and took 2/3 of -O3's time on it: 1.9 s -> 0.8 s.
# -fno-schedule-insns: its hand-scheduled product kernels keep the scheduling they were tuned with.
_RUNTIME_CFLAGS = ("-fno-tree-loop-vectorize", "-fno-schedule-insns")
# The basic tier: jl_gemm.c without its own product kernels (JL_RT_BASIC: BLAS takes every
# product, as the fixed rules of a build without vector extension), at -O1 (nothing left in it
# gains from -O3; the loops it keeps are not vectorized in either tier). Measured on the 2-core
# EPYC, gcc 12: 0.3 s CPU against 6 s for the tuned library, the first call's whole budget.
_RUNTIME_BASIC_CFLAGS = ("-DJL_RT_BASIC", "-O1", "-fno-schedule-insns")


@functools.cache
def _runtime_source() -> str:
    with open(RUNTIME_SOURCE) as f:
        return f.read()


def _runtime_flags(basic: bool) -> tuple[str, ...]:
    return _RUNTIME_BASIC_CFLAGS if basic else _RUNTIME_CFLAGS


def _runtime_key(cc: list[str], basic: bool = False) -> tuple[str, str]:
    """(source, cache key) of the runtime library for compiler `cc` (BLAS and OpenMP on): the
    tuned build, or with `basic` the first tier's."""
    source = _runtime_source()
    return source, cache_key(source, cc, "runtime", True, True, _runtime_flags(basic))


def runtime_tag(cc: list[str], basic: bool = False) -> str:
    """The name tag (JL_RT_TAG) of the runtime library's build for compiler `cc` (tuned, or the
    basic tier's): a kernel built for one build calls that build, never the other."""
    return "t" + _runtime_key(cc, basic)[1][:16]


def runtime_library(cc: list[str] | None = None, basic: bool = False) -> Library:
    """The runtime library (csrc/jl_gemm.c), compiled into the cache the first time any process
    needs it and loaded with its symbols global, before the kernels that call it. The tuned
    build (about 6 s of CPU, gcc 12), then its measured kernel choice (`gemm_choice`); with
    `basic`, the first tier (`_process_tier`: BLAS for every product, 0.3 s)."""
    cc = cc or find_compiler()
    source, key = _runtime_key(cc, basic)
    lib = _runtimes.get(key)
    if lib is None:
        tag = runtime_tag(cc, basic)
        extra = (f"-DJL_RT_TAG={tag}", *_runtime_flags(basic))
        what = "jaxlite's runtime library (csrc/jl_gemm.c" + (", basic tier)" if basic else ")")

        def load_and_choose():
            if not basic and not os.path.exists(os.path.join(cache_dir(), key + ".so")):
                wait_runtime_build(cc)  # a background build of it: never two at once
            lib = _load_or_build(key, source, cc, blas=True, openmp=True, extra=extra,
                                 flags=_RUNTIME_FLAGS, what=what)  # fmt: skip
            if not basic:  # (the basic tier has one path, BLAS: nothing to choose)
                gemm_choice(lib, tag, key)
            return lib

        lib = _runtimes[key] = _load_once(key, load_and_choose)
    return lib


# ------------------------------------------------------------------------------------------
# Runtime tiers: a new machine starts on the basic build while the tuned one compiles apart
# ------------------------------------------------------------------------------------------

_tiers: dict[str, bool] = {}  # compiler -> whether this process's kernels use the basic tier
_tiers_lock = threading.Lock()


def _process_tier(cc: list[str]) -> bool:
    """Whether this process's kernels call the basic tier of the runtime library: decided at
    its first kernel with products and kept for the process (its kernels, compiled for one
    build, never mix the two; loading the tuned build beside the basic one would also find
    OpenBLAS already set to one thread by the first: csrc/jl_gemm.c's jl_blas_threads_init_).

    The tuned build when it is in the cache (or loaded), or when tiers are off
    (JAXLITE_RUNTIME_TIERS=0: wait for it, as every process did before), or without BLAS (the
    basic tier would run every product in plain loops). Else the basic tier, and the tuned build
    starts in a detached compiler process of its own (`_start_tuned_build`): later processes
    find it in the cache."""
    ident = shlex.join(cc)
    tier = _tiers.get(ident)
    if tier is not None:
        return tier
    with _tiers_lock:
        tier = _tiers.get(ident)
        if tier is None:
            tier = _tiers[ident] = _choose_tier(cc)
    return tier


def _choose_tier(cc: list[str]) -> bool:
    if not config.jaxlite_runtime_tiers or blas_paths() is None:
        return False
    key = _runtime_key(cc)[1]
    d = cache_dir()
    if key in _runtimes or os.path.exists(os.path.join(d, key + ".so")):
        return False
    if d in _PRIVATE.values():  # removed at this process's exit: no later process to serve
        return False
    failed = _read_text(os.path.join(d, key + ".failed"))
    if failed is not None:
        warn(
            "jaxlite: the background build of jaxlite's tuned runtime library (csrc/jl_gemm.c) "
            f"failed; products run on its basic tier (BLAS) meanwhile. Remove "
            f"{os.path.join(d, key + '.failed')} (or call jaxlite's clear_cache) to try again, "
            f"or set JAXLITE_RUNTIME_TIERS=0 to see the error where it happens.\n{failed}"
        )
        return True
    _start_tuned_build(cc, key, d)
    return True


def _read_text(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _lock_file(d: str, key: str) -> int | None:
    """The lock of runtime build `key` taken (an open descriptor), or None: another process
    holds it (its build is under way). An exclusive flock on `key.lock`, released when the last
    descriptor of it closes: when the builder exits, however it exits."""
    import fcntl

    fd = os.open(os.path.join(d, key + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _start_tuned_build(cc: list[str], key: str, d: str) -> bool:
    """Starts the tuned runtime library's build in a detached process at the lowest priority
    (it finishes even when this process exits, and leaves the cores to it meanwhile); the lock
    of the build is taken here and handed to that process, so one build at most runs per key.
    Returns whether it started (not when another process is building it, or has built it)."""
    fd = _lock_file(d, key)
    if fd is None:
        return False
    try:
        if os.path.exists(os.path.join(d, key + ".so")):
            return False
        job = {"cc": cc, "dir": d, "key": key, "cflags": config.jaxlite_cflags, "fd": fd}
        # NB: the builder forks at once and its parent exits (reaped by a thread here): the
        # builder is not this process's child (no zombie, no "subprocess is still running")
        code = ("import os, sys\nif os.fork(): os._exit(0)\nsys.path.insert(0, sys.argv[1])\n"
                "from jaxlite.backend import compile\ncompile._tuned_build_main(sys.argv[2])")  # fmt: skip
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", code, os.path.dirname(_PKG_DIR), json.dumps(job)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(fd,), start_new_session=True, cwd=d,
            )  # fmt: skip
        except OSError as e:
            _write_atomic(os.path.join(d, key + ".failed"), f"could not start it: {e}".encode())
            return False
        threading.Thread(target=proc.wait, daemon=True).start()
        return True
    finally:
        os.close(fd)  # NB: the builder keeps the lock through its own copy of the descriptor


def _tuned_build_main(job_json: str) -> None:
    """The detached builder (`_start_tuned_build`): compiles the tuned runtime library into the
    cache (atomically, as every build), or writes why it failed to `key.failed`."""
    job = json.loads(job_json)
    d, key, cc = job["dir"], job["key"], job["cc"]
    with contextlib.suppress(OSError, AttributeError):
        os.nice(19)
    config.update("jaxlite_cache_dir", d)
    config.update("jaxlite_cflags", job["cflags"])
    try:
        source, mine = _runtime_key(cc)
        if mine != key:  # NB: another jaxlite than the parent's (cannot happen: the same path)
            raise JaxliteCompileError(f"the builder computes the key {mine}, not {key}")
        if os.path.exists(os.path.join(d, key + ".so")):
            return
        extra = (f"-DJL_RT_TAG={runtime_tag(cc)}", *_RUNTIME_CFLAGS)
        c_file = os.path.join(d, key + ".c")
        _write_atomic(c_file, source.encode())
        _build(cc, c_file, os.path.join(d, key + ".so"), True, True, extra,
               "jaxlite's runtime library (csrc/jl_gemm.c)")  # fmt: skip
        evict(d, keep=key)
    except Exception as e:  # noqa: BLE001 (written for the processes that come next)
        with contextlib.suppress(OSError):
            _write_atomic(os.path.join(d, key + ".failed"), f"{type(e).__name__}: {e}".encode())
    finally:
        os.close(job["fd"])


def wait_runtime_build(cc: list[str] | None = None, timeout: float = 600.0) -> bool:
    """Waits for a background build of the tuned runtime library (this cache, compiler `cc`)
    to end; returns whether it has ended (False: still running after `timeout` seconds)."""
    cc = cc or find_compiler()
    d, key = cache_dir(), _runtime_key(cc)[1]
    deadline = time.monotonic() + timeout
    while True:
        fd = _lock_file(d, key)
        if fd is not None:
            os.close(fd)
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


# The product kernel of each shape class, chosen by measurement (csrc/jl_gemm.c's
# jl_gemm_class): (m, n, k) of the products timed for each class, row-major, no transposes.
# 0: the library's fixed rules; "blas-slabs": BLAS once per 64-row slab (csrc/jl_gemm.c)
GEMM_PATHS = {1: "small", 2: "packed", 3: "blas", 4: "blas-slabs"}
GEMM_SHAPES = (
    ((16, 16, 16),),  # 0 tiny
    # 1 narrower than a vector: a classifier's last layer (16 floats: AVX-512); 3 columns are
    # narrower than AVX2's 8 floats and 4 doubles too (a class's shapes outside it go untimed)
    ((128, 10, 784), (128, 3, 784)),
    ((32, 64, 64), (128, 128, 128), (128, 64, 128)),  # 2 small (the last: attention's heads)
    ((512, 64, 128),),  # 3 B within L2, tall A
    ((128, 256, 512),),  # 4 large
    ((32, 512, 784),),  # 5 at most 64 rows: a batch of 32 through a VAE's 784-512 layer
    ((784, 512, 32),),  # 6 a contraction of at most 64: that layer's weight gradient
    ((1024, 256, 256),),  # 7 huge (from 2^26): a dense layer of 256 over 1024 rows
)
# Classes whose products with B transposed are timed as such (its own table, "float32_tb"): the
# small kernel then computes the transposed product, reading B in place (csrc/jl_gemm.c:
# jl_small_gemm_nt); the others keep the fixed rules (and the table above's BLAS or packed).
GEMM_TB_CLASSES = (2, 5)
GEMM_REPS = 3  # the median of 3 timed calls (after an untimed one) per path and shape
GEMM_ROUNDS = 3  # interleaved rounds of every path per shape; each path's fastest round counts
GEMM_MARGIN = 1.05  # another path replaces the fixed rules' only when 5% faster


def gemm_max_load() -> float:
    """The 1-minute load average above which nothing is measured: the fixed rules serve this
    process and the next one measures. NB: on a busy machine threaded BLAS waits for its woken
    threads (measured on the 2-core EPYC under other processes: 128x256x512 in 15 ms, 0.2 ms
    quiet), and a table measured then would stay wrong for good."""
    return 0.75 * (os.cpu_count() or 1) + 1  # + 1: this process


def _cpu_id() -> str:
    """The CPU as the kernels see it: model name and flags (Linux), else the platform's names."""
    model = flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                name, _, value = line.partition(":")
                name = name.strip()
                if name in ("model name", "Hardware", "CPU part") and not model:
                    model = value.strip()
                elif name in ("flags", "Features") and not flags:
                    flags = " ".join(sorted(value.split()))
    except OSError:
        pass
    return f"{platform.machine()}|{model or platform.processor()}|{flags}|{os.cpu_count()}"


def blas_core(lib: Library | None = None) -> str:
    """The kernels OpenBLAS runs here ("Haswell", "SkylakeX", ...: what OPENBLAS_CORETYPE
    forces, else what it detected), asked of the library itself; "-" without BLAS. `lib`: the
    runtime library (which links BLAS), else the BLAS library is loaded."""
    try:
        if lib is None:
            blas = _blas_library()
            if blas is None:
                return "-"
            lib = Library("blas", blas, False, 0.0)
        name = lib.function("scipy_openblas_get_corename", "char *(*)(void)")()
        return ffi.string(name).decode() if name != ffi.NULL else "-"
    except (OSError, AttributeError, KeyError):
        return "-"


def gemm_choice_path(runtime_key: str, core: str | None = None) -> str:
    """The file caching the measured kernel choice of runtime library `runtime_key` on this CPU
    with BLAS's kernels `core` (`blas_core`). NB: the runtime key names the compiler flags
    (JAXLITE_CFLAGS: an AVX2 build of the library, `-mno-avx512f`, has its own key), the core
    the BLAS kernels it is timed against (OPENBLAS_CORETYPE=Haswell runs OpenBLAS's AVX2
    kernels): neither build reuses the other's choice."""
    how = f"{GEMM_SHAPES}{GEMM_TB_CLASSES}{GEMM_REPS}{GEMM_ROUNDS}{GEMM_MARGIN}"  # its version
    threads = [os.environ.get(v, "") for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")]
    core = blas_core() if core is None else core
    text = "|".join((runtime_key, _cpu_id(), _blas_library() or "-", core, how, *threads))
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    return os.path.join(cache_dir(), f"gemm-choice-{digest}.json")


def gemm_choice(lib: Library, tag: str, runtime_key: str) -> dict:
    """Gives the runtime library its kernel per shape class and dtype: read from the cache, else
    measured here (its own small and packed kernels against BLAS, `GEMM_SHAPES`, and for the
    classes `GEMM_TB_CLASSES` the same with B transposed, tables "float32_tb", "float64_tb";
    about 0.5 s, once per machine, CPU, compiler and BLAS build) and cached; on a busy machine
    (`gemm_max_load`), neither: the fixed rules. Returns the table."""
    core = blas_core(lib)
    path = gemm_choice_path(runtime_key, core)
    nclass = lib.function(f"jl_rt_gemm_nclass_{tag}", "int(*)(void)")()
    table = None
    try:
        with open(path) as f:
            table = json.load(f)
        if any(len(table.get(d, ())) != nclass for d in _TABLES):
            table = None
    except (OSError, ValueError, AttributeError):
        table = None
    if table is None and _load_average() > gemm_max_load():
        table = {d: [0] * nclass for d in _TABLES} | {"measured": False}
        set_gemm_choice(lib, tag, table)
        return table
    if table is None:
        time_ty = "double(*)(int, int, int64_t, int64_t, int64_t, int, double)"
        time_nn = lib.function(f"jl_rt_gemm_time_{tag}", time_ty)
        time_tb = lib.function(f"jl_rt_gemm_time_tb_{tag}", time_ty)
        path_of = lib.function(
            f"jl_rt_gemm_path_{tag}", "int(*)(int, _Bool, int64_t, int64_t, int64_t)"
        )
        class_of = lib.function(f"jl_rt_gemm_class_{tag}", "int(*)(int, int64_t, int64_t, int64_t)")
        table = {"cpu": _cpu_id(), "blas_core": core, "seconds": {}, "fixed": {}, "measured": True}
        set_gemm_choice(lib, tag, {d: [0] * nclass for d in _TABLES})
        for dname in _TABLES:
            d, tb = int(dname.startswith("float64")), dname.endswith("_tb")
            time_fn = time_tb if tb else time_nn
            choice, secs, fixed = [], {}, []
            for cls, shapes in enumerate(GEMM_SHAPES[:nclass]):
                if tb and cls not in GEMM_TB_CLASSES:
                    choice.append(0)
                    fixed.append(path_of(d, True, *shapes[0]))
                    continue
                # NB: the class of a narrow output depends on the vector width (this build's)
                shapes = [s for s in shapes if class_of(d, *s) == cls] or shapes
                # each path's time relative to the fastest, summed over the class's shapes
                # NB: the small kernel is not cache-blocked: never a choice for large products
                paths = (2, 3) if cls in (4, 7) else tuple(GEMM_PATHS)
                score = dict.fromkeys(paths, 0.0)
                for m, n, k in shapes:
                    t = _time_paths(time_fn, d, paths, m, n, k)
                    secs[f"{m}x{n}x{k}"] = {GEMM_PATHS[p]: t[p] for p in t}
                    best = min((v for v in t.values() if v > 0), default=0.0)
                    for p, v in t.items():
                        score[p] = score[p] + v / best if v > 0 and best > 0 else float("inf")
                ok = [p for p in score if score[p] != float("inf")]
                won = min(ok, key=lambda p: (score[p], -p)) if ok else 0
                # the fixed rules' path stays unless another is clearly faster (no flapping
                # between near-equal kernels from one machine's measurement to the next)
                rule = path_of(d, tb, *shapes[0])
                rule = 1 if rule == 5 else rule  # 5: the transposed product's small kernel
                fixed.append(rule)
                if rule in ok and score[rule] <= GEMM_MARGIN * score[won]:
                    won = 0
                choice.append(won)
            table["fixed"][dname] = fixed
            table[dname] = choice
            table["seconds"][dname] = secs
        with contextlib.suppress(OSError):
            _write_atomic(path, json.dumps(table, indent=1).encode())
    set_gemm_choice(lib, tag, table)
    return table


_TABLES = ("float32", "float64", "float32_tb", "float64_tb")


def _time_paths(time_fn, d: int, paths, m: int, n: int, k: int) -> dict:
    """Each path's time on one product (seconds; -1: not available): the fastest of
    `GEMM_ROUNDS` rounds, each timing every path in turn (`GEMM_REPS` calls, their median). A
    path 3x slower than the best so far is timed with one call. NB: interleaved rounds, so that
    a slow moment of the machine hits every path alike: with one round, one preempted call took
    BLAS out of the race (128x3x784 in 8 ms, 9 us otherwise), and tables measured minutes apart
    on a quiet machine disagreed on three classes of eight (the small kernel's 32x512x784 once
    394 us, else 227-233), which moved the transformer step by 3%."""
    t: dict = {}
    for _ in range(GEMM_ROUNDS):
        for p in paths:
            if t.get(p, 0) < 0:
                continue
            best = min((v for v in t.values() if v > 0), default=float("inf"))
            v = time_fn(d, p, m, n, k, GEMM_REPS, 3 * best)
            t[p] = v if v < 0 or p not in t else min(t[p], v)
    return t


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return 0.0


def set_gemm_choice(lib: Library, tag: str, table: dict) -> None:
    """Hands `table` ({"float32": [path per class], "float64": [...]}, and optionally the same
    for products with B transposed, "float32_tb", "float64_tb": else the fixed rules for them)
    to the runtime library."""
    set_fn = lib.function(f"jl_rt_gemm_set_choice_{tag}", "void(*)(int, signed char *)")
    set_tb = lib.function(f"jl_rt_gemm_set_choice_tb_{tag}", "void(*)(int, signed char *)")
    for d, dname in enumerate(("float32", "float64")):
        set_fn(d, ffi.new("signed char[]", [int(p) for p in table[dname]]))
        tb = table.get(f"{dname}_tb") or [0] * len(table[dname])
        set_tb(d, ffi.new("signed char[]", [int(p) for p in tb]))


class _Background:
    """Runs `fn` in a thread; `join` waits for it and raises what it raised."""

    def __init__(self, fn):
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn):
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 (re-raised in the caller's thread by join)
            self._error = e

    def join(self):
        self._thread.join()
        if self._error is not None:
            raise self._error


_pinned: dict[str, object] = {}  # library name -> its handle (or None): loaded once, kept for good
_pinned_lock = threading.Lock()


def _pin_runtimes(blas: bool, openmp: bool) -> None:
    """Loads libgomp / the BLAS library for good (RTLD_NODELETE), before a kernel that needs them,
    with jaxlite's thread defaults in force while they read the environment (`_thread_defaults`).
    NB: kernels are unloaded when no executable uses them; if the last one to use libgomp took
    libgomp with it, its sleeping worker threads would wake up in unmapped code (a crash)."""
    names = (["libgomp.so.1"] if openmp else []) + ([_blas_library()] if blas else [])
    names = [name for name in names if name and name not in _pinned]
    if not names:
        return
    flags = os.RTLD_NOW | os.RTLD_GLOBAL | getattr(os, "RTLD_NODELETE", 0)
    with _pinned_lock, _thread_defaults():
        for name in names:
            if name not in _pinned:
                try:
                    _pinned[name] = _cffi_backend.load_library(name, flags)
                except OSError:
                    _pinned[name] = None  # the kernel's own dlopen reports the problem


def _blas_library() -> str | None:
    paths = blas_paths()
    return None if paths is None else os.path.join(paths[0], f"lib{paths[2]}.so")


def _load_or_build(
    key,
    source,
    cc,
    *,
    blas=False,
    openmp=False,
    extra=(),
    needs=None,
    flags=_DLOPEN_FLAGS,
    what="the code generated by jit",
) -> Library:
    """Loads the cached library `key`, else compiles `source` into the cache and loads it.
    `needs()` must have run before the library is loaded; when the library has to be compiled,
    it runs in a thread meanwhile (the runtime library compiles beside its first kernel)."""
    t0 = time.perf_counter()
    _pin_runtimes(blas, openmp)
    d = cache_dir()
    so = os.path.join(d, key + ".so")
    background = _Background(needs) if needs is not None and not os.path.exists(so) else None
    if background is None:
        if needs is not None:
            needs()
        lib = _load_verified(key, so, t0, flags)
        if lib is not None:
            return lib
    c_file = os.path.join(d, key + ".c")
    try:
        _write_atomic(c_file, source.encode())
        _build(cc, c_file, so, blas, openmp, extra, what)
    finally:
        if background is not None:
            background.join()
    lib = Library(key, so, True, time.perf_counter() - t0, flags)
    evict(d, keep=key)
    return lib


def _load_verified(key: str, so: str, t0: float, flags=_DLOPEN_FLAGS) -> Library | None:
    """The cached library if its content hash matches; a corrupt entry is removed (warning)."""
    try:
        with open(so + ".sha256") as f:
            untrusted = _untrusted(os.fstat(f.fileno()))
            expected = f.read().strip()
        with open(so, "rb") as f:
            untrusted = untrusted or _untrusted(os.fstat(f.fileno()))
            data = f.read()
    except FileNotFoundError:
        return None  # not cached yet (or another process is writing it right now)
    if untrusted:  # NB: checked before hashing: whoever could write it could write its checksum
        reason = f"it is not trusted: {untrusted}"
    elif hashlib.sha256(data).hexdigest() == expected:
        try:
            lib = Library(key, so, False, time.perf_counter() - t0, flags)
            _touch(so)
            return lib
        except OSError as e:
            reason = f"it could not be loaded ({e})"
    else:
        reason = "its content does not match its checksum"
    warn(
        f"jaxlite: the compile cache entry {so} is corrupt ({reason}); it was removed and is "
        "being rebuilt."
    )
    for path in (so, so + ".sha256"):
        try:
            os.remove(path)
        except OSError:
            pass
    return None


def _untrusted(st: os.stat_result) -> str:
    """Why a cache file or directory must not be trusted ("" if it may be): it must belong to
    this user and be writable by no one else, or another user could plant code we would run."""
    if st.st_uid != os.geteuid():
        return f"it is owned by another user (uid {st.st_uid})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"it is writable by other users (mode {stat.S_IMODE(st.st_mode):o})"
    return ""


def _touch(path: str) -> None:
    """Marks a cache entry as just used (its modification time orders LRU eviction)."""
    try:
        os.utime(path)
    except OSError:
        pass


def _build(
    cc: list[str],
    c_file: str,
    so: str,
    blas: bool,
    openmp: bool,
    extra=(),
    what: str = "the code generated by jit",
) -> None:
    """Compiles into a temporary file beside `so`, writes its checksum, renames both into place."""
    d = os.path.dirname(so)
    fd, tmp = tempfile.mkstemp(suffix=".so.tmp", dir=d)
    os.close(fd)
    try:
        cmd = compiler_command(cc, c_file, tmp, blas=blas, openmp=openmp, extra=extra)
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except OSError as e:
            raise CompilerNotFoundError(f"could not run the C compiler {cc[0]!r}: {e}") from e
        if res.returncode != 0:
            raise JaxliteCompileError(
                f"the C compiler failed (exit status {res.returncode}) on {what}, kept at "
                f"{c_file}\ncommand: {shlex.join(cmd)}\n"
                f"{(res.stderr or res.stdout).strip()}"
            )
        os.chmod(tmp, 0o700)  # NB: the compiler creates it with the umask's mode (0775, ...)
        with open(tmp, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        # NB: checksum first, library second: a reader that finds the library finds its checksum
        # (compilation is deterministic, so a concurrent writer's copy has the same checksum).
        _write_atomic(so + ".sha256", digest.encode())
        os.replace(tmp, so)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _write_atomic(path: str, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(suffix=".tmp", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.remove(tmp)
        raise


_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def warn(message: str) -> None:
    """A RuntimeWarning attributed to the user's code (the innermost frame outside jaxlite)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PKG_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, RuntimeWarning, stacklevel=level)


# ------------------------------------------------------------------------------------------
# The compiler, the cache directory and the cache key
# ------------------------------------------------------------------------------------------


def find_compiler() -> list[str]:
    """The compiler command: JAXLITE_CC, else CC, else cc (a command line, e.g. `gcc -m64`)."""
    spec = config.jaxlite_cc or "cc"
    argv = shlex.split(spec)
    exe = shutil.which(argv[0]) if argv else None
    if exe is None:
        raise CompilerNotFoundError(
            f"no C compiler found: {spec!r} (from JAXLITE_CC, CC or the default `cc`) is not an "
            "executable. Set JAXLITE_CC to a C compiler such as gcc or clang."
        )
    return [exe, *argv[1:]]


def cache_dir() -> str:
    """JAXLITE_CACHE_DIR, else ~/.cache/jaxlite; created with mode 0700.

    A directory owned by another user or writable by other users is not used (they could plant
    libraries that jit would load): jaxlite warns once and uses a private temporary directory,
    removed at exit, instead.
    """
    d = config.jaxlite_cache_dir or os.path.join(os.path.expanduser("~"), ".cache", "jaxlite")
    if not os.path.isdir(d):
        os.makedirs(d, mode=0o700, exist_ok=True)
    why = _untrusted(os.stat(d))
    if not why:
        return d
    private = _PRIVATE.get(d)
    if private is None or not os.path.isdir(private):
        private = _PRIVATE[d] = tempfile.mkdtemp(prefix="jaxlite-cache-")  # mode 0700
        atexit.register(shutil.rmtree, private, ignore_errors=True)
        warn(
            f"jaxlite: the compile cache directory {d} is not used because {why}; compiled "
            f"kernels go to the private temporary directory {private} instead. Fix with "
            f"`chmod 700 {shlex.quote(d)}` (as its owner) or set JAXLITE_CACHE_DIR."
        )
    return private


_PRIVATE: dict[str, str] = {}  # untrusted cache directory -> this process's private stand-in


def cache_max_bytes() -> int:
    """The disk cache's size limit: JAXLITE_CACHE_MAX_BYTES, default 1 GiB (0: no limit)."""
    return config.jaxlite_cache_max_bytes


_ENTRY_SUFFIXES = (".so", ".so.sha256", ".c")


def evict(d: str, keep: str = "") -> None:
    """Removes least recently used entries (library, checksum, C source) until the cache
    directory `d` holds at most `cache_max_bytes()`; the entry `keep` stays."""
    limit = cache_max_bytes()
    if limit <= 0:
        return
    entries, total = [], 0
    for name in os.listdir(d):
        if not name.endswith(".so"):
            continue
        key = name[:-3]
        try:
            last_use = os.stat(os.path.join(d, name)).st_mtime_ns
        except OSError:
            continue
        size = 0
        for suffix in _ENTRY_SUFFIXES:
            try:
                size += os.stat(os.path.join(d, key + suffix)).st_size
            except OSError:
                pass
        entries.append((last_use, size, key))
        total += size
    for _, size, key in sorted(entries):
        if total <= limit:
            break
        if key != keep:
            _remove_entry(d, key)
            total -= size


def _remove_entry(d: str, key: str) -> None:
    for suffix in _ENTRY_SUFFIXES:
        try:
            os.remove(os.path.join(d, key + suffix))
        except OSError:
            pass


def clear_cache() -> None:
    """Empties the disk cache: every entry and leftover temporary file (libraries already
    loaded keep working)."""
    d = cache_dir()
    for name in os.listdir(d):
        if name.endswith((*_ENTRY_SUFFIXES, ".tmp", ".failed")):
            try:
                os.remove(os.path.join(d, name))
            except OSError:
                pass


def cache_key(
    source: str, cc: list[str], salt: str, blas: bool, openmp: bool, extra: tuple[str, ...] = ()
) -> str:
    """SHA-256 of the source, the headers, the compiler and its version, the flags, the host."""
    h = hashlib.sha256()
    for part in (
        source,
        _headers_digest(),
        shlex.join(cc),
        compiler_version(cc[0]),
        shlex.join(compiler_command(cc, "SRC", "OUT", blas=blas, openmp=openmp, extra=extra)),
        salt,
        _host(),
    ):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


@functools.cache
def _headers_digest() -> str:
    """SHA-256 of csrc/ (its C files, by name and content), read once per process."""
    h = hashlib.sha256()
    for name in sorted(os.listdir(CSRC_DIR)):
        if name.endswith((".h", ".c")):
            with open(os.path.join(CSRC_DIR, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()


@functools.cache
def _host() -> str:
    """This kind of CPU: -march=native code runs only on it, so the key names it (shared homes)."""
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((ln for ln in f if ln.startswith("flags")), "")
    except OSError:
        pass
    return f"{platform.machine()} {hashlib.sha256(flags.encode()).hexdigest()}"


_versions: dict[str, str] = {}  # compiler ident (path, size, mtime) -> `--version`; few entries


def compiler_version(exe: str) -> str:
    """`exe --version`, remembered in the cache directory by the executable's path, size and
    modification time, so a process with a warm cache never runs the compiler at all."""
    st = os.stat(exe)
    ident = f"{os.path.realpath(exe)} {st.st_size} {st.st_mtime_ns}"
    if ident in _versions:
        return _versions[ident]
    path = os.path.join(cache_dir(), "compilers.json")
    try:
        with open(path) as f:
            known = json.load(f)
    except (OSError, ValueError):
        known = {}
    version = known.get(ident)
    if version is None:
        try:
            res = subprocess.run(
                [exe, "--version"], capture_output=True, text=True, timeout=60, check=False
            )
            version = (res.stdout or res.stderr).strip()
        except (OSError, subprocess.SubprocessError) as e:
            raise CompilerNotFoundError(f"could not run the C compiler {exe!r}: {e}") from e
        known[ident] = version
        _write_atomic(path, json.dumps(known, indent=1).encode())
    _versions[ident] = version
    return version
