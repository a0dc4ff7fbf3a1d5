"""The runtime library (csrc/jl_gemm.c): compiled once per machine into the compile cache, only
for kernels that multiply matrices, beside the first such kernel; loaded before them; its names
tagged by build; a failure to compile it says so.

Each test runs fresh Python processes on its own temporary cache directory.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

from jaxlite.backend import compile as jl_compile

PRODUCTS = textwrap.dedent(
    """
    import numpy as np, jaxlite, jaxlite.numpy as jnp
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    f = jaxlite.jit(lambda x, y: jnp.tanh(x @ y))
    g = jaxlite.jit(lambda x, y: (x @ y).sum(axis=0) * 2.0)
    assert np.allclose(f(x, x.T), np.tanh(x @ x.T), atol=1e-6)
    assert np.allclose(g(x, x.T), (x @ x.T).sum(axis=0) * 2, atol=1e-5)
    print("ok")
    """
)
NO_PRODUCTS = textwrap.dedent(
    """
    import numpy as np, jaxlite, jaxlite.numpy as jnp
    print(jaxlite.jit(lambda x: jnp.tanh(x) + 1.0)(np.zeros(3, np.float32)).tolist())
    """
)


def run(code: str, cache, **env) -> subprocess.CompletedProcess:
    # -O0: the library in 3 s of gcc, not 8 (these tests are about when it is built, not its speed)
    full_env = dict(os.environ, JAXLITE_CACHE_DIR=str(cache), **{"JAXLITE_CFLAGS": "-O0", **env})
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip


def compiler(tmp_path, fail_on: str = "") -> tuple[str, str]:
    """A compiler wrapper that logs every call and fails on sources containing `fail_on`."""
    log, cc = tmp_path / "cc.log", tmp_path / "wrapcc"
    fail = f'case "$*" in *{fail_on}*) echo "no, not {fail_on}" >&2; exit 1;; esac\n'
    cc.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\n{fail if fail_on else ""}exec cc "$@"\n')
    cc.chmod(cc.stat().st_mode | stat.S_IEXEC)
    return str(cc), str(log)


def compilations(log: str) -> list[str]:
    with open(log) as f:
        return [ln for ln in f.read().splitlines() if "--version" not in ln]


def test_built_once_for_all_kernels_and_never_again(tmp_path):
    cc, log = compiler(tmp_path)
    out = run(PRODUCTS, tmp_path / "cache", JAXLITE_CC=cc)
    assert out.stdout.strip() == "ok", out.stderr
    lines = compilations(log)
    runtime_builds = [ln for ln in lines if "-fno-tree-loop-vectorize" in ln]
    assert len(lines) == 3 and len(runtime_builds) == 1, lines  # two kernels, one runtime
    tags = {w for ln in lines for w in ln.split() if w.startswith("-DJL_RT_TAG=")}
    assert len(tags) == 1, lines  # the kernels were compiled for the build that was made
    # Kernels link neither BLAS nor the runtime library: they find it loaded.
    assert all("-lscipy" not in ln for ln in lines if ln not in runtime_builds)
    out = run(PRODUCTS, tmp_path / "cache", JAXLITE_CC=cc)
    assert out.stdout.strip() == "ok", out.stderr
    assert len(compilations(log)) == 3  # a new process: everything from the cache


def test_not_built_for_kernels_without_products(tmp_path):
    cc, log = compiler(tmp_path)
    out = run(NO_PRODUCTS, tmp_path / "cache", JAXLITE_CC=cc)
    assert out.stdout.strip() == "[1.0, 1.0, 1.0]", out.stderr
    lines = compilations(log)
    assert len(lines) == 1 and "JL_RT_TAG" not in lines[0], lines


def test_a_failure_to_build_it_names_it_and_keeps_its_source(tmp_path):
    cc, _ = compiler(tmp_path, fail_on="-fno-tree-loop-vectorize")  # only the runtime's flag
    code = textwrap.dedent(
        """
        import numpy as np, jaxlite, jaxlite.numpy as jnp
        from jaxlite.errors import JaxliteCompileError
        try:
            jaxlite.jit(lambda x, y: x @ y)(np.ones((2, 2)), np.ones((2, 2)))
        except JaxliteCompileError as e:
            print(e)
        """
    )
    out = run(code, tmp_path / "cache", JAXLITE_CC=cc)
    assert "runtime library (csrc/jl_gemm.c)" in out.stdout, out.stdout + out.stderr
    assert "no, not -fno-tree-loop-vectorize" in out.stdout
    kept = out.stdout.split("kept at ")[1].split()[0]
    with open(kept) as f, open(jl_compile.RUNTIME_SOURCE) as g:
        assert f.read() == g.read()


def test_builds_with_and_without_blas_have_different_names(monkeypatch):
    cc = jl_compile.find_compiler()
    with_blas = jl_compile.runtime_tag(cc)
    monkeypatch.setattr(jl_compile, "_BLAS", [None])  # as if scipy-openblas32 were missing
    without = jl_compile.runtime_tag(cc)
    assert with_blas != without and with_blas.isidentifier() and without.isidentifier()


def test_blas_is_linked_after_the_source_so_the_library_records_it():
    # With --as-needed (the default on Debian and Ubuntu) a -l before the source records no
    # dependency: the library would then work only while BLAS happened to be loaded globally.
    if jl_compile.blas_paths() is None:
        return
    cmd = jl_compile.compiler_command(["cc"], "rt.c", "rt.so", blas=True, openmp=True)
    lib = next(i for i, a in enumerate(cmd) if a.startswith("-lscipy"))
    assert cmd.index("rt.c") < lib and "-DJL_HAVE_BLAS" in cmd[: cmd.index("rt.c")]
