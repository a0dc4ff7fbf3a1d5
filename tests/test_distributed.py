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
import warnings

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


def _launch(n: int, script: str, timeout: float = 240, args=(), rank_env=None):
    """Runs `script` on `n` ranks; `rank_env` ({rank: {name: value}}) sets variables on some."""
    exe = _mpiexec()
    if exe is None:
        pytest.skip(INSTALL)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    path = script if "/" in script else str(MPI_DIR / script)
    cmd = [exe, "-n", str(n), sys.executable, path, *args]
    if rank_env:  # NB: MPMD: one program spec per rank, with its own -env
        cmd = [exe]
        for rank in range(n):
            extra = [a for k, v in rank_env.get(rank, {}).items() for a in ("-env", k, v)]
            cmd += [*([":"] if rank else []), "-n", "1", *extra, sys.executable, path, *args]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )  # fmt: skip


@pytest.mark.parametrize("n", [2, 3])
def test_pmap_over_mpi_matches_single_process(n):
    r = _launch(n, "worker.py")
    assert r.returncode == 0, r.stdout + r.stderr
    # NB: the ranks' lines may interleave on the shared stdout
    ranks = sorted(re.findall(r"OK rank (\d+) of (\d+)", r.stdout))
    assert ranks == [(str(i), str(n)) for i in range(n)], r.stdout + r.stderr


def test_a_rank_that_cannot_compile_runs_with_ranks_that_do():
    # Rank 0 has no C compiler: jit evaluates its kernels with NumPy, the other rank compiles
    # them. Both must issue the same MPI calls in the same order (once, a rank whose compiler
    # could not be started checked shapes in an Allreduce the compiled rank never ran: MPICH's
    # "Message truncated; 8 bytes received but buffer size is 12").
    r = _launch(2, "worker.py", rank_env={0: {"JAXLITE_CC": "/nonexistent/cc"}})
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(re.findall(r"OK rank (\d+) of 2", r.stdout)) == ["0", "1"], r.stdout + r.stderr
    assert "no C compiler found" in r.stderr  # NB: rank 0 did take the NumPy path


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


class _Recorder:
    """Rank 0 of 2 whose partner holds the same shard: records every call to the communicator
    (shape checks included), as the MPI calls a rank would issue."""

    rank, size = 0, 2

    def __init__(self):
        self.calls = []

    def start_check(self, token, sig, what, of):
        self.calls.append(("check", sig))

    def finish_check(self):
        pass

    def _run(self, kind, x, check, out, result):
        x = np.asarray(x)
        if check:
            self.calls.append(("check", x.dtype.str, x.shape))
        self.calls.append((kind, x.dtype.str, x.shape))
        if out is None:
            return result
        out[...] = result
        return out

    def allreduce(self, x, op, out=None, check=True):
        return self._run("allreduce-" + op, x, check, out, x + x if op == "sum" else np.copy(x))

    def allgather(self, x, out=None, check=True):
        return self._run("allgather", x, check, out, np.stack([x, x]))

    def alltoall(self, chunks, check=True):
        return self._run("alltoall", chunks, check, None, np.copy(chunks))

    def ppermute(self, x, perm, check=True):
        return self._run("ppermute", x, check, None, np.copy(x))


def test_compiled_and_numpy_kernels_issue_the_same_collectives(monkeypatch):
    # A rank whose kernel is not compiled (its compiler could not be started) evaluates it with
    # NumPy: its collectives, shape checks included, must be those of the compiled kernel that
    # the other ranks run, in the same order (tests/mpi: the same over MPI).
    from jaxlite import distributed
    from jaxlite.backend import runtime
    from jaxlite.errors import CompilerNotFoundError

    def body(x, w):
        g = jaxlite.grad(lambda w: jnp.sum(jnp.tanh(x @ w) ** 2))(w)
        return (
            lax.psum(x, "i"), lax.pmean(x, "i"), lax.pmax(x, "i"), lax.all_gather(x, "i"),
            lax.all_gather(x, "i", axis=1, tiled=True), lax.psum_scatter(x, "i", tiled=True),
            lax.all_to_all(x, "i", 0, 1, tiled=True), lax.ppermute(x, "i", [(0, 1), (1, 0)]),
            lax.psum(x > 0, "i"), lax.psum(1, "i"), lax.psum(g, "i"),
        )  # fmt: skip

    x = np.arange(12, dtype=np.float32).reshape(1, 4, 3) / 7
    w = np.ones((3, 2), np.float32)
    runs = {}
    for how in ("compiled", "numpy"):
        if how == "numpy":

            def no_compiler(*args, **kwargs):
                raise CompilerNotFoundError("could not run the C compiler 'cc': injected")

            monkeypatch.setattr(runtime, "load", no_compiler)
        rec = _Recorder()
        monkeypatch.setitem(distributed._state, "comm", rec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NB: "evaluated with NumPy instead"
            out = jaxlite.pmap(body, axis_name="i", in_axes=(0, None))(x, w)
        runs[how] = (rec.calls, out)
    (calls, out), (np_calls, np_out) = runs["compiled"], runs["numpy"]
    assert calls[0][0] == "check" and len(calls) >= 11  # pmap's check, then 10 (or 11) collectives
    assert np_calls == calls
    for a, b in zip(jaxlite.tree.leaves(np_out), jaxlite.tree.leaves(out)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)


def test_a_loop_that_raises_is_not_replayed_when_it_has_collectives(monkeypatch):
    # An eager loop evaluated with NumPy that raises is normally evaluated again op by op (for
    # the error message naming the op). With collectives in its body, a rank doing so would
    # issue collectives the other ranks do not (tests/mpi/diverge.py): the error is raised as
    # it is, after the collectives of the iterations that ran.
    from jaxlite import distributed

    rec = _Recorder()
    monkeypatch.setitem(distributed._state, "comm", rec)

    def fail_at_two(c):
        if float(c) >= 2:
            raise RuntimeError("this rank's callback fails")
        return c

    def body(i, c):
        c = lax.psum(c, "i") * 0 + c + 1
        return jaxlite.pure_callback(fail_at_two, jax_shape(c), c)

    def f(x):
        return lax.fori_loop(0, 5, body, x)

    with jaxlite.disable_jit(), pytest.raises(RuntimeError, match="callback fails"):
        jaxlite.pmap(f, axis_name="i")(np.zeros((1,), np.float32))
    # pmap's check, then one psum (each with its own check: eager) per iteration that ran
    assert [c[0] for c in rec.calls].count("allreduce-sum") == 2, rec.calls


def jax_shape(c):
    return jaxlite.ShapeDtypeStruct(c.shape, c.dtype)


def test_debug_nans_over_ranks_raises_everywhere_without_a_rerun():
    r = _launch(2, "diverge.py", timeout=120)
    assert r.returncode != 0  # NB: the last step aborts every rank on purpose
    assert sorted(re.findall(r"OK nans rank (\d)", r.stdout)) == ["0", "1"], r.stdout + r.stderr
    assert "[jaxlite rank 1/2] uncaught exception" in r.stderr, r.stderr
    assert "rank one's loop fails" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr.split("[jaxlite rank 1/2]")[0], r.stderr


def test_pmap_dispatch_plans_follow_the_arguments():
    # pmap keeps one dispatch plan per argument signature: shapes, dtypes, structures, static
    # values and the x64 mode each get their own; a NumPy argument is copied (the caller may
    # change it afterwards), an Array's buffer is viewed.
    f = jaxlite.pmap(lambda v, s=1.0: lax.psum(v, "i") * s, axis_name="i",
                     static_broadcasted_argnums=1)  # fmt: skip
    g = jaxlite.pmap(lambda vs: [lax.psum(v, "i") + 1 for v in vs], axis_name="i")
    a, b = np.ones((1, 3), np.float32), np.arange(4.0).reshape(1, 4)
    for _ in range(2):
        np.testing.assert_allclose(f(a, 2.0), 2 * a)
        np.testing.assert_allclose(f(b, 3.0), 3 * b)
        np.testing.assert_allclose(f(a, 5.0), 5 * a)
        out = g([a, b])
        assert isinstance(out, list) and out[1].shape == (1, 4)
        out = g((jnp.asarray(a),))
        assert len(out) == 1 and out[0].dtype == np.float32
    c = np.ones((1, 2), np.float32)
    h = jaxlite.pmap(lambda v: v)
    kept = h(c)
    c[...] = 7
    np.testing.assert_array_equal(kept, np.ones((1, 2)))
    with jaxlite.enable_x64(False):
        assert f(np.ones((1, 2)), 1.0).dtype == np.float32
    assert f(np.ones((1, 2)), 1.0).dtype == np.float64
    with pytest.raises(ValueError, match="requires 2 logical devices"):
        f(np.ones((2, 2)), 1.0)
