"""Whole programs through both libraries (tests/programs/): each runs once with JAX and once
with jaxlite, in the 64-bit mode its original uses, and the final results must agree: the same
tree structure, shapes, exact dtypes, and values to the program's tolerance. The programs are
written like the public examples users try (JAX's examples/ and tutorials, autograd's examples/),
so this tests jaxlite against the outside world rather than against itself."""

import importlib
import importlib.util
import os
import types

import numpy as np
import pytest

pytest.importorskip("jax", reason="JAX is the oracle: pip install -e '.[oracle]'")

import jax  # noqa: E402

import jaxlite  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")
NAMES = sorted(f[:-3] for f in os.listdir(HERE) if f.endswith(".py") and not f.startswith("_"))

# Programs that do not yet agree: name -> the missing API or the difference (strict xfail).
XFAIL: dict[str, str] = {}


def _lib(name: str) -> types.SimpleNamespace:
    mod = {
        m: importlib.import_module(f"{name}.{m}")
        for m in ("numpy", "lax", "nn", "random", "tree_util", "scipy", "flatten_util")
    }
    for sub in ("special", "stats", "linalg"):
        importlib.import_module(f"{name}.scipy.{sub}")
    return types.SimpleNamespace(
        jax=importlib.import_module(name),
        jnp=mod["numpy"],
        lax=mod["lax"],
        nn=mod["nn"],
        random=mod["random"],
        scipy=mod["scipy"],
        tree_util=mod["tree_util"],
        flatten_util=mod["flatten_util"],
    )


def _load(name: str):
    spec = importlib.util.spec_from_file_location(
        f"_programs_{name}", os.path.join(HERE, name + ".py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _plain(tree, path="result"):
    """The result as nested dict/list/tuple of NumPy arrays (Python scalars kept as they are)."""
    if isinstance(tree, dict):
        return {k: _plain(v, f"{path}[{k!r}]") for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_plain(v, f"{path}[{i}]") for i, v in enumerate(tree))
    if tree is None or isinstance(tree, (bool, int, float, complex, str)):
        return tree
    return np.asarray(tree)


def _compare(got, want, rtol, atol, path="result"):
    assert type(got) is type(want), f"{path}: jaxlite gives {type(got)}, JAX {type(want)}"
    if isinstance(want, dict):
        assert sorted(got) == sorted(want), f"{path}: keys {sorted(got)} != {sorted(want)}"
        for k in want:
            _compare(got[k], want[k], rtol, atol, f"{path}[{k!r}]")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), f"{path}: length {len(got)} != {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            _compare(g, w, rtol, atol, f"{path}[{i}]")
    elif isinstance(want, np.ndarray):
        assert got.shape == want.shape, f"{path}: shape {got.shape} != {want.shape}"
        assert got.dtype == want.dtype, f"{path}: dtype {got.dtype} != {want.dtype}"
        if want.dtype.kind in "biu" or want.dtype == np.dtype("uint32"):
            np.testing.assert_array_equal(got, want, err_msg=path)
        else:
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=path)
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


_LIBS: dict[str, types.SimpleNamespace] = {}


def _run(libname: str, program, x64: bool):
    if libname not in _LIBS:
        _LIBS[libname] = _lib(libname)
    with jax.enable_x64(x64), jaxlite.enable_x64(x64):
        return _plain(program.run(_LIBS[libname]))


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=XFAIL[n])) if n in XFAIL else n
        for n in NAMES
    ],
)
def test_program_agrees_with_jax(name):
    program = _load(name)
    want = _run("jax", program, program.X64)
    got = _run("jaxlite", program, program.X64)
    rtol, atol = program.TOL
    _compare(got, want, rtol, atol)
