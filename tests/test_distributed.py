"""pmap in one process, and over MPI: tests/mpi/worker.py run with `mpiexec -n 2` and `-n 3`
(each rank compares its pmap results with the single-process vmap reference), and a rank that
raises does not leave the others hanging."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.experimental import multihost_utils

ROOT = pathlib.Path(__file__).resolve().parent.parent
MPI_DIR = pathlib.Path(__file__).resolve().parent / "mpi"
INSTALL = "pip install 'jaxlite[distributed]' (mpi4py + mpich) to run the MPI tests"


def _mpiexec() -> str | None:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None
    local = pathlib.Path(sys.executable).parent / "mpiexec"
    return str(local) if local.exists() else shutil.which("mpiexec")


def _launch(n: int, script: str, timeout: float = 240, args=()):
    exe = _mpiexec()
    if exe is None:
        pytest.skip(INSTALL)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    path = script if "/" in script else str(MPI_DIR / script)
    return subprocess.run(
        [exe, "-n", str(n), sys.executable, path, *args],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT,
    )  # fmt: skip


@pytest.mark.parametrize("n", [2, 3])
def test_pmap_over_mpi_matches_single_process(n):
    r = _launch(n, "worker.py")
    assert r.returncode == 0, r.stdout + r.stderr
    # NB: the ranks' lines may interleave on the shared stdout
    ranks = sorted(re.findall(r"OK rank (\d+) of (\d+)", r.stdout))
    assert ranks == [(str(i), str(n)) for i in range(n)], r.stdout + r.stderr


def test_a_raising_rank_aborts_every_rank():
    r = _launch(3, "raises.py", timeout=120)  # NB: the timeout is the "no hang" check
    assert r.returncode != 0
    assert "[jaxlite rank 1/3] uncaught exception" in r.stderr, r.stderr
    assert "rank one fails on purpose" in r.stderr


def test_data_parallel_example_follows_the_single_process_run():
    pytest.importorskip("sklearn")
    r = _launch(2, str(ROOT / "examples" / "mlp_data_parallel.py"),
                args=["--epochs", "1", "--compare"])  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    diff = float(re.search(r"max \|parameter difference\| (\S+)", r.stdout).group(1))
    assert diff < 1e-5, r.stdout
    assert "differ across ranks by at most 0.0e+00" in r.stdout, r.stdout


# ------------------------------------------------------------------------------------------
# One process: one device, the collectives over an axis of size 1
# ------------------------------------------------------------------------------------------


def test_pmap_one_process():
    x = np.arange(6.0).reshape(1, 2, 3)
    f = jaxlite.pmap(
        lambda v, s: (lax.psum(v, "i") * s, lax.all_gather(v, "i"), lax.axis_index("i")),
        axis_name="i", static_broadcasted_argnums=1,
    )  # fmt: skip
    a, b, c = f(x, 2.0)
    np.testing.assert_allclose(a, x * 2)
    assert b.shape == (1, 1, 2, 3) and c.shape == (1,) and int(c[0]) == 0
    g = jaxlite.pmap(lambda v, w: v * w, in_axes=(1, None), out_axes=None)(
        x.transpose(1, 0, 2), 3.0
    )
    np.testing.assert_allclose(g, x[0] * 3)
    h = jaxlite.pmap(lambda v: {"a": v + 1}, out_axes={"a": 1})(x)
    assert h["a"].shape == (2, 1, 3)
    k = jaxlite.pmap(lambda v, w: v - w)(x, w=x + 1)  # keyword arguments: mapped over axis 0
    np.testing.assert_allclose(k, -np.ones_like(x))


def test_pmap_errors_follow_jax():
    f = jaxlite.pmap(lambda v: lax.psum(v, "i"), axis_name="i")
    with pytest.raises(ValueError, match="requires 2 logical devices, but only 1"):
        f(jnp.ones((2, 3)))
    with pytest.raises(NameError, match="unbound axis name: j"):
        jaxlite.pmap(lambda v: lax.psum(v, "j"), axis_name="i")(jnp.ones((1, 3)))
    with pytest.raises(NotImplementedError, match="under a transformation"):
        jaxlite.grad(lambda v: f(v).sum())(jnp.ones((1, 3)))
    with pytest.raises(ValueError, match="at least one argument with a mapped axis"):
        jaxlite.pmap(lambda v: v, in_axes=None)(jnp.ones(3))
    with pytest.raises(ValueError, match="unknown backend"):
        jaxlite.pmap(lambda v: v, backend="gpu")
    with pytest.raises(NotImplementedError, match="subset"):
        jaxlite.pmap(lambda v: v, devices=[])


def test_multihost_utils_one_process():
    out = multihost_utils.broadcast_one_to_all({"a": np.float32(3.0)})
    assert out["a"].shape == () and float(out["a"]) == 3.0
    assert multihost_utils.process_allgather(np.ones(2, np.float32)).shape == (1, 2)
    assert multihost_utils.process_allgather(np.ones(2, np.float32), tiled=True).shape == (2,)
    multihost_utils.sync_global_devices("x")


def test_initialize_without_mpi4py_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(RuntimeError, match=r"pip install 'jaxlite\[distributed\]'"):
        jaxlite.distributed.initialize()
    assert not jaxlite.distributed.is_initialized()
