"""C source -> loaded shared library, through an on-disk cache (cffi ABI mode).

`load(source)` returns a `Library` whose functions are called through cffi. Entries of the cache
directory are named by the SHA-256 of everything that determines the binary; each library has its
content hash beside it, checked before loading. This module imports no jaxlite module but errors.

NB: cffi ABI mode (our own compiler call, then dlopen) rather than API mode, by measurement on
this 2-core EPYC, for a 4-element kernel: API mode (`ffi.set_source` + `ffi.compile`, which builds
a CPython extension through setuptools and includes Python.h) took 405 ms to build; ABI mode took
40 ms for the compiler call plus 0.6 ms to load. A call through ABI mode costs ~0.4 us more than
through API mode (0.86 vs 0.56 us with two pointer arguments), well inside the jit dispatch budget.
We load through `_cffi_backend` (`load_library` + `load_function`, exactly what `ffi.dlopen` does
inside) with the function type parsed by cffi's built-in C type parser: `ffi.cdef` would import
pycparser, which costs 32 ms in every new process, most of the 50 ms warm-start budget.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import _cffi_backend

from jaxlite.errors import CompilerNotFoundError, JaxliteCompileError

CSRC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "csrc")

ffi = _cffi_backend.FFI()
_RTLD_NOW = 2
_loaded: dict[str, "Library"] = {}  # key -> Library, for this process
_locks: dict[str, threading.Lock] = {}  # key -> lock: one thread builds a kernel, others wait
_locks_lock = threading.Lock()


def compiler_command(cc: list[str], source: str, output: str, *, blas: bool, openmp: bool):
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
        # NB: never -ffast-math: isnan, inf and signed zeros must behave as in NumPy.
        # `#pragma omp simd` (independent iterations: vectorize); with threads, also
        # `#pragma omp parallel for` (loops above a size threshold)
        "-fopenmp" if openmp else "-fopenmp-simd",
        "-I", CSRC_DIR,  # jaxlite.h and the other hand-written headers
        *_blas_flags(blas),  # cblas_sgemm/dgemm from the scipy-openblas32 wheel
        *shlex.split(os.environ.get("JAXLITE_CFLAGS", "")),  # the user's extra flags, last
        "-o", output, source,
        "-lm",  # libm
    ]  # fmt: skip


def _blas_flags(blas: bool) -> list[str]:
    paths = blas_paths() if blas else None
    if paths is None:  # csrc/jl_blas.h falls back to C loops
        return []
    lib_dir, include_dir, lib_name = paths
    return ["-DJL_HAVE_BLAS", "-I", include_dir, "-L", lib_dir, f"-l{lib_name}",
            f"-Wl,-rpath,{lib_dir}"]  # fmt: skip


_BLAS: list = []


def blas_paths() -> tuple[str, str, str] | None:
    """(lib dir, include dir, library name) of the scipy-openblas32 wheel, or None."""
    if not _BLAS:
        try:
            import scipy_openblas32 as ob

            _BLAS.append((ob.get_lib_dir(), ob.get_include_dir(), ob.get_library()))
        except (ImportError, AttributeError):
            _BLAS.append(None)
    return _BLAS[0]


# ------------------------------------------------------------------------------------------
# Loaded libraries
# ------------------------------------------------------------------------------------------


class Library:
    """A loaded kernel library. `compiled` says whether this process ran the compiler for it."""

    def __init__(self, key: str, path: str, compiled: bool, seconds: float):
        self.key = key
        self.path = path
        self.compiled = compiled
        self.seconds = seconds
        self._handle = _cffi_backend.load_library(path, _RTLD_NOW)
        self._functions: dict = {}

    def function(self, name: str, ctype: str):
        """The C function `name`, called through cffi with type `ctype`, e.g. `int(*)(void *)`."""
        fn = self._functions.get((name, ctype))
        if fn is None:
            fn = self._functions[(name, ctype)] = self._handle.load_function(
                ffi.typeof(ctype), name
            )
        return fn


def load(source: str, *, salt: str = "", blas: bool = False, openmp: bool = False) -> Library:
    """Compiles `source` (or finds it in the cache) and loads it.

    Args:
      source: the C translation unit.
      salt: extra text for the cache key (the caller's version).
      blas, openmp: link the scipy-openblas32 CBLAS / compile with OpenMP.
    Raises:
      CompilerNotFoundError: no C compiler (JAXLITE_CC, CC or cc) was found.
      JaxliteCompileError: the compiler failed; the message has its output and the C file's path.
    """
    cc = find_compiler()
    key = cache_key(source, cc, salt, blas, openmp)
    lib = _loaded.get(key)
    if lib is not None:
        return lib
    with _locks_lock:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        lib = _loaded.get(key)
        if lib is None:
            lib = _loaded[key] = _load_or_build(key, source, cc, blas, openmp)
    return lib


def _load_or_build(key, source, cc, blas, openmp) -> Library:
    t0 = time.perf_counter()
    d = cache_dir()
    so = os.path.join(d, key + ".so")
    lib = _load_verified(key, so, t0)
    if lib is not None:
        return lib
    c_file = os.path.join(d, key + ".c")
    _write_atomic(c_file, source.encode())
    _build(cc, c_file, so, blas, openmp)
    return Library(key, so, True, time.perf_counter() - t0)


def _load_verified(key: str, so: str, t0: float) -> Library | None:
    """The cached library if its content hash matches; a corrupt entry is removed (warning)."""
    try:
        with open(so + ".sha256") as f:
            expected = f.read().strip()
        with open(so, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None  # not cached yet (or another process is writing it right now)
    if hashlib.sha256(data).hexdigest() == expected:
        try:
            return Library(key, so, False, time.perf_counter() - t0)
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
        except FileNotFoundError:
            pass
    return None


def _build(cc: list[str], c_file: str, so: str, blas: bool, openmp: bool) -> None:
    """Compiles into a temporary file beside `so`, writes its checksum, renames both into place."""
    d = os.path.dirname(so)
    fd, tmp = tempfile.mkstemp(suffix=".so.tmp", dir=d)
    os.close(fd)
    try:
        cmd = compiler_command(cc, c_file, tmp, blas=blas, openmp=openmp)
        try:
            res = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as e:
            raise CompilerNotFoundError(f"could not run the C compiler {cc[0]!r}: {e}") from e
        if res.returncode != 0:
            raise JaxliteCompileError(
                f"the C compiler failed (exit status {res.returncode}) on the code generated by "
                f"jit, kept at {c_file}\ncommand: {shlex.join(cmd)}\n"
                f"{(res.stderr or res.stdout).strip()}"
            )
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
    spec = os.environ.get("JAXLITE_CC") or os.environ.get("CC") or "cc"
    argv = shlex.split(spec)
    exe = shutil.which(argv[0]) if argv else None
    if exe is None:
        raise CompilerNotFoundError(
            f"no C compiler found: {spec!r} (from JAXLITE_CC, CC or the default `cc`) is not an "
            "executable. Set JAXLITE_CC to a C compiler such as gcc or clang."
        )
    return [exe, *argv[1:]]


def cache_dir() -> str:
    """JAXLITE_CACHE_DIR, else ~/.cache/jaxlite; created with mode 0700."""
    d = os.environ.get("JAXLITE_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "jaxlite"
    )
    if not os.path.isdir(d):
        os.makedirs(d, mode=0o700, exist_ok=True)
    return d


def cache_key(source: str, cc: list[str], salt: str, blas: bool, openmp: bool) -> str:
    """SHA-256 of the source, the headers, the compiler and its version, the flags, the host."""
    h = hashlib.sha256()
    for part in (
        source,
        _headers_digest(),
        shlex.join(cc),
        compiler_version(cc[0]),
        shlex.join(compiler_command(cc, "SRC", "OUT", blas=blas, openmp=openmp)),
        salt,
        _host(),
    ):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


_memo: dict = {}


def _headers_digest() -> str:
    if "headers" not in _memo:
        h = hashlib.sha256()
        for name in sorted(os.listdir(CSRC_DIR)):
            with open(os.path.join(CSRC_DIR, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read())
        _memo["headers"] = h.hexdigest()
    return _memo["headers"]


def _host() -> str:
    # -march=native code runs only on this kind of CPU: the key names it (for shared homes).
    if "host" not in _memo:
        flags = ""
        try:
            with open("/proc/cpuinfo") as f:
                flags = next((ln for ln in f if ln.startswith("flags")), "")
        except OSError:
            pass
        _memo["host"] = f"{platform.machine()} {hashlib.sha256(flags.encode()).hexdigest()}"
    return _memo["host"]


def compiler_version(exe: str) -> str:
    """`exe --version`, remembered in the cache directory by the executable's path, size and
    modification time, so a process with a warm cache never runs the compiler at all."""
    st = os.stat(exe)
    ident = f"{os.path.realpath(exe)} {st.st_size} {st.st_mtime_ns}"
    if ident in _memo:
        return _memo[ident]
    path = os.path.join(cache_dir(), "compilers.json")
    try:
        with open(path) as f:
            known = json.load(f)
    except (OSError, ValueError):
        known = {}
    version = known.get(ident)
    if version is None:
        try:
            res = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
            version = (res.stdout or res.stderr).strip()
        except (OSError, subprocess.SubprocessError) as e:
            raise CompilerNotFoundError(f"could not run the C compiler {exe!r}: {e}") from e
        known[ident] = version
        _write_atomic(path, json.dumps(known, indent=1).encode())
    _memo[ident] = version
    return version
