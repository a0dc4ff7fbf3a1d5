"""What a user gets from `pip install .`: the C sources inside the package, and an import that
leaves the process environment alone. (`make wheel-test` installs the built wheel into a fresh
venv and runs a jit from outside the repository; CI runs it.)"""

import ast
import fnmatch
import os
import pathlib
import subprocess
import sys
import textwrap
import tomllib

import jaxlite
from jaxlite.backend import compile as jl_compile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PKG = pathlib.Path(jaxlite.__file__).resolve().parent


def test_csrc_is_found_through_the_package():
    csrc = pathlib.Path(jl_compile.CSRC_DIR).resolve()
    assert csrc == PKG / "csrc"
    for name in ("jaxlite.h", "jl_blas.h", "jl_math.h", "jl_gemm.c"):
        assert (csrc / name).is_file(), name
    assert not (ROOT / "csrc").exists(), "csrc/ belongs inside the package, not beside it"


def test_every_c_file_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["jaxlite"]
    for path in (PKG / "csrc").iterdir():
        rel = path.relative_to(PKG).as_posix()
        assert any(fnmatch.fnmatch(rel, p) for p in patterns), (
            f"{rel} would be missing from the wheel"
        )


def test_every_imported_test_dependency_is_declared():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = " ".join(config["project"]["optional-dependencies"]["test"])
    for name in ("pytest", "hypothesis", "scipy"):
        assert name in declared, f"the tests import {name}; the `test` extra must declare it"


def test_the_environment_is_left_alone():
    # A kernel with threads and a product loads libgomp and OpenBLAS with jaxlite's thread
    # defaults; afterwards neither the process nor its children see them.
    code = textwrap.dedent("""
        import os, subprocess, sys
        import numpy as np
        import jaxlite as jax, jaxlite.numpy as jnp
        w = np.ones((256, 256), np.float32)
        jax.jit(lambda x: jnp.tanh(x @ w) + 1.0)(np.ones((256, 256), np.float32))
        child = subprocess.run(["env"], capture_output=True, text=True).stdout
        for name in ("GOMP_SPINCOUNT", "OPENBLAS_THREAD_TIMEOUT"):
            assert name not in os.environ, name
            assert name not in child, name
        print("ok")
    """)
    env = {k: v for k, v in os.environ.items() if k not in jl_compile.THREAD_DEFAULTS}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=300)  # fmt: skip
    assert out.stdout.strip() == "ok", out.stdout + out.stderr


def test_the_libraries_load_under_the_thread_defaults():
    # libgomp and OpenBLAS read their variables once, when loaded: record what they see then.
    code = textwrap.dedent("""
        import ctypes, os
        seen = []
        real = ctypes.CDLL.__init__
        def spy(self, name, *a, **k):
            seen.append((os.path.basename(str(name)), os.environ.get("OPENBLAS_THREAD_TIMEOUT")))
            real(self, name, *a, **k)
        ctypes.CDLL.__init__ = spy
        import numpy as np
        import jaxlite as jax, jaxlite.numpy as jnp
        from jaxlite.backend import compile as c
        real_load = c._cffi_backend.load_library
        def spy_load(name, flags):
            var = "OPENBLAS_THREAD_TIMEOUT" if "openblas" in str(name) else "GOMP_SPINCOUNT"
            seen.append((os.path.basename(str(name)), os.environ.get(var)))
            return real_load(name, flags)
        c._cffi_backend.load_library = spy_load
        w = np.ones((256, 256), np.float32)
        jax.jit(lambda x: jnp.tanh(x @ w) + 1.0)(np.ones((256, 256), np.float32))
        print(seen)
    """)
    env = {k: v for k, v in os.environ.items()
           if k not in jl_compile.THREAD_DEFAULTS and k != "OMP_WAIT_POLICY"}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=300)  # fmt: skip
    seen = ast.literal_eval(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else None
    assert seen, out.stdout + out.stderr
    openblas = [v for name, v in seen if "openblas" in name]
    gomp = [v for name, v in seen if "gomp" in name]
    assert openblas and openblas[0] == "4", seen
    assert gomp and gomp[0] == "10000", seen


def test_thread_defaults_apply_only_while_loading(monkeypatch):
    for name in jl_compile.THREAD_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    with jl_compile._thread_defaults():
        assert os.environ["GOMP_SPINCOUNT"] == "10000"
        assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == "4"
    assert "GOMP_SPINCOUNT" not in os.environ and "OPENBLAS_THREAD_TIMEOUT" not in os.environ


def test_thread_defaults_yield_to_the_user(monkeypatch):
    monkeypatch.setenv("GOMP_SPINCOUNT", "7")
    monkeypatch.setenv("OMP_WAIT_POLICY", "passive")
    monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT", raising=False)
    with jl_compile._thread_defaults():
        assert os.environ["GOMP_SPINCOUNT"] == "7"
        assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == "4"
    assert os.environ["GOMP_SPINCOUNT"] == "7"
    monkeypatch.delenv("GOMP_SPINCOUNT")
    with jl_compile._thread_defaults():
        assert "GOMP_SPINCOUNT" not in os.environ  # OMP_WAIT_POLICY is the user's choice
    monkeypatch.setenv("JAXLITE_THREAD_DEFAULTS", "0")
    with jl_compile._thread_defaults():
        assert "OPENBLAS_THREAD_TIMEOUT" not in os.environ
