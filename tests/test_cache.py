"""The compile cache and the compiler call: a warm cache in a new process never runs the
compiler; corrupt entries are detected, removed and rebuilt; four processes can fill one empty
cache at once; a missing compiler falls back to NumPy with a warning; a compile failure says why.

Each test runs fresh Python processes on its own temporary cache directory.
"""

from __future__ import annotations

import glob
import hashlib
import os
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite.backend import compile as jl_compile
from jaxlite.errors import JaxliteCompileError

PROGRAM = textwrap.dedent(
    """
    import sys, warnings
    import numpy as np
    import jaxlite, jaxlite.numpy as jnp
    f = jaxlite.jit(lambda x, y: jnp.tanh(x) @ y + 1.0)
    g = jaxlite.jit(lambda x: jnp.sum(jnp.sort(x) * jnp.arange(x.shape[0])))
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    out = f(x, np.ones((4, 2)))
    assert np.allclose(out, np.tanh(x) @ np.ones((4, 2)) + 1), out
    assert np.allclose(g(x[0]), np.sum(np.sort(x[0]) * np.arange(4)))
    print("ok")
    """
)


# The processes of these tests build the runtime library in their empty caches: at -O0 (3 s
# of gcc, not 8; what they test is the cache, not the kernels' speed).
FAST_BUILD = {"JAXLITE_CFLAGS": "-O0"}


def run(code: str, cache_dir, **env) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, JAXLITE_CACHE_DIR=str(cache_dir), **{**FAST_BUILD, **env})
    return subprocess.run(
        [sys.executable, "-c", code],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def logging_compiler(tmp_path) -> tuple[str, str]:
    """A compiler wrapper that logs every call: (its path, the log's path)."""
    log = tmp_path / "cc.log"
    cc = tmp_path / "logcc"
    cc.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec cc "$@"\n')
    cc.chmod(cc.stat().st_mode | stat.S_IEXEC)
    return str(cc), str(log)


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def calls(log: str) -> list[str]:
    return read(log).splitlines() if os.path.exists(log) else []


def libraries(cache_dir) -> list[str]:
    return sorted(glob.glob(os.path.join(cache_dir, "*.so")))


def test_warm_cache_in_a_new_process_never_runs_the_compiler(tmp_path):
    cache = tmp_path / "cache"
    cc, log = logging_compiler(tmp_path)
    first = run(PROGRAM, cache, JAXLITE_CC=cc)
    assert first.stdout.strip() == "ok", first.stderr
    n = len(calls(log))
    assert n >= 3  # --version once, then one compilation per kernel
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    second = run(PROGRAM, cache, JAXLITE_CC=cc)
    assert second.stdout.strip() == "ok", second.stderr
    assert len(calls(log)) == n, calls(log)[n:]  # not even `cc --version`


def test_corrupt_entry_is_removed_and_rebuilt_with_a_warning(tmp_path):
    cache = tmp_path / "cache"
    assert run(PROGRAM, cache).stdout.strip() == "ok"
    libs = libraries(cache)  # two kernels and the runtime library
    assert len(libs) == 3 and all(os.path.exists(p + ".sha256") for p in libs)
    for p in libs[:2]:  # truncated, as by a crash or a full disk
        with open(p, "r+b") as f:
            f.truncate(100)
    with open(libs[2], "r+b") as f:  # flipped bytes: loads, but is not what was compiled
        f.seek(200)
        f.write(b"\x00\xff" * 8)
    out = run(PROGRAM, cache)
    assert out.stdout.strip() == "ok", out.stderr
    assert out.stderr.count("is corrupt") == 3, out.stderr
    for p in libs:
        digest = hashlib.sha256(read(p, "rb")).hexdigest()
        assert read(p + ".sha256").strip() == digest


def test_four_processes_fill_one_empty_cache_at_once(tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, JAXLITE_CACHE_DIR=str(cache), **FAST_BUILD)
    procs = [subprocess.Popen([sys.executable, "-c", PROGRAM], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]  # fmt: skip
    results = [p.communicate(timeout=300) for p in procs]
    for out, err in results:
        assert out.strip() == "ok", err
        assert "corrupt" not in err
    libs = libraries(cache)
    assert len(libs) == 3  # two kernels and the runtime library
    for p in libs:
        assert read(p + ".sha256").strip() == hashlib.sha256(read(p, "rb")).hexdigest()
    assert not glob.glob(os.path.join(cache, "*.tmp"))  # no temporary file left behind


def test_missing_compiler_falls_back_to_numpy_with_one_warning(tmp_path):
    code = PROGRAM + "print(jaxlite.jit(lambda x: x + 1)(np.ones(2)).tolist())\n"
    out = run(code, tmp_path / "cache", JAXLITE_CC="/nonexistent/cc")
    assert out.stdout.split() == ["ok", "[2.0,", "2.0]"], out.stderr
    assert out.stderr.count("RuntimeWarning") == 1, out.stderr
    assert "no C compiler found" in out.stderr and "/nonexistent/cc" in out.stderr


def test_compile_failure_raises_with_compiler_output_and_kept_source(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXLITE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("JAXLITE_CFLAGS", "-include /nonexistent/broken.h")
    f = jaxlite.jit(lambda x: x * 3.0 + 0.25)
    with pytest.raises(JaxliteCompileError) as e:
        f(jnp.ones(5, np.float32))
    msg = str(e.value)
    assert "/nonexistent/broken.h" in msg and "No such file" in msg
    kept = msg.split("kept at ")[1].split()[0]
    assert os.path.exists(kept) and "jl_kernel" in read(kept)


def test_cache_key_depends_on_source_flags_and_salt(monkeypatch):
    cc = jl_compile.find_compiler()
    k = jl_compile.cache_key("int x;", cc, "0.1", False, False)
    assert k == jl_compile.cache_key("int x;", cc, "0.1", False, False)
    assert k != jl_compile.cache_key("int y;", cc, "0.1", False, False)
    assert k != jl_compile.cache_key("int x;", cc, "0.2", False, False)
    assert k != jl_compile.cache_key("int x;", cc, "0.1", True, False)
    monkeypatch.setenv("JAXLITE_CFLAGS", "-O1")
    assert k != jl_compile.cache_key("int x;", cc, "0.1", False, False)


def test_the_compiler_command_shows_every_flag():
    cmd = jl_compile.compiler_command(["cc"], "k.c", "k.so", blas=False, openmp=False)
    for flag in ["-O3", "-fPIC", "-shared", "-fwrapv", "-ffp-contract=off", "-std=c99"]:
        assert flag in cmd
    assert not any("fast-math" in c for c in cmd)
    assert np.dtype(np.float32)  # (numpy imported for the PROGRAM's sake)


def test_unloading_the_last_openmp_kernel_keeps_libgomp_loaded(tmp_path):
    # libgomp's worker threads outlive every parallel loop: unmapping libgomp with the last
    # kernel that used it would crash them; jaxlite loads it for good (RTLD_NODELETE).
    code = textwrap.dedent(
        """
        import gc, numpy as np, jaxlite, jaxlite.numpy as jnp
        f = jaxlite.jit(lambda x: jnp.tanh(x) * 2.0 + x)  # big enough for OpenMP threads
        f(np.ones(1 << 20, np.float32))
        assert "#pragma omp parallel" in f.lower(np.ones(1 << 20, np.float32)).as_c()
        del f
        jaxlite.clear_cache(disk=False)
        gc.collect()
        maps = open("/proc/self/maps").read()
        kernels = [ln for ln in maps.splitlines() if ln.endswith(".so") and "cache" in ln]
        print(len(kernels), "libgomp" in maps)
        """
    )
    out = run(code, tmp_path / "cache")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "True"], out.stdout + out.stderr
