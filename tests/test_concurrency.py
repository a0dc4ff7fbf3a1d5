"""Thread and process safety: jit from many threads at once, per-thread tracing state, and many
processes filling one compile cache.

- Eight threads call shared and private jitted functions (and grad/vmap of them) at once, with
  shapes that force new traces and compilations; every result is checked against NumPy. The same
  runs again with an executable cache of 2 entries, so evictions race with calls.
- A trace in one thread never sees another thread's tracers: a thread paused in the middle of a
  trace does not change what another thread traces or computes, and a tracer handed to another
  thread is rejected there with UnexpectedTracerError.
- Four processes compile the same kernels into one empty cache directory at once, through a
  compiler that writes its output slowly in two halves: all results are correct, nothing is
  reported corrupt, every entry matches its checksum and no temporary file is left.
"""

from __future__ import annotations

import glob
import hashlib
import os
import stat
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core
from jaxlite.errors import UnexpectedTracerError

jit_module = sys.modules["jaxlite.jit"]
N_THREADS = 8


def run_threads(target, n: int = N_THREADS) -> list:
    """Runs `target(i)` in `n` threads started together; returns results, re-raises errors."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def work(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except BaseException as e:  # noqa: BLE001 - reported in the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def shared_functions():
    f = jaxlite.jit(lambda x, y: jnp.tanh(x) * y + jnp.sum(x))
    g = jaxlite.jit(lambda x: jnp.cumsum(x[::-1] ** 2))
    h = jaxlite.jit(jaxlite.grad(lambda x: jnp.sum(jnp.sin(x) * x)))
    v = jaxlite.jit(jaxlite.vmap(lambda x: jnp.max(x) - x))
    return f, g, h, v


def check_calls(fns, i: int, rounds: int = 3) -> int:
    f, g, h, v = fns
    mine = jaxlite.jit(lambda x: x * (i + 1.5))  # a private function per thread
    calls = 0
    for r in range(rounds):
        n = 1 + i + N_THREADS * r  # a new shape in every thread and round: new compilations
        x = np.linspace(-1.0, 1.0, n) + i
        y = np.float32(i)
        np.testing.assert_allclose(np.asarray(f(x, y)), np.tanh(x) * y + np.sum(x), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(g(x)), np.cumsum(x[::-1] ** 2), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(h(x)), np.cos(x) * x + np.sin(x), rtol=1e-12)
        m = x.reshape(1, n).repeat(2, 0)
        np.testing.assert_allclose(np.asarray(v(m)), m.max(1, keepdims=True) - m, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(mine(x)), x * (i + 1.5), rtol=1e-12)
        calls += 5
    return calls


def test_eight_threads_compile_and_call_jitted_functions_at_once():
    fns = shared_functions()
    assert sum(run_threads(lambda i: check_calls(fns, i))) == N_THREADS * 15
    assert fns[0]._cache_size() == N_THREADS * 3  # one trace per shape, none lost or duplicated


def test_threads_racing_with_evictions_of_a_tiny_executable_cache(monkeypatch):
    monkeypatch.setenv("JAXLITE_EXECUTABLE_CACHE_SIZE", "2")
    fns = shared_functions()
    run_threads(lambda i: check_calls(fns, i, rounds=2))
    assert len(jit_module._EXECUTABLES) <= 2
    assert fns[0]._cache_size() <= 2


# ------------------------------------------------------------------------------------------
# Tracing state is per thread
# ------------------------------------------------------------------------------------------


def test_a_paused_trace_in_one_thread_is_invisible_to_another():
    inside, resume = threading.Event(), threading.Event()
    leaked = []

    def slow(x):
        y = jnp.sin(x) * 2.0
        leaked.append(y)
        inside.set()
        assert resume.wait(60)
        return y + 1.0

    def tracer_thread():
        return jaxlite.make_jaxpr(slow)(np.ones(3))

    def other_thread():
        assert inside.wait(60)
        assert core.current_trace() is core.eval_trace  # not the other thread's trace
        out = {
            "eager": np.asarray(jnp.cos(np.arange(3.0)) + 1.0),
            "jaxpr": str(jaxlite.make_jaxpr(lambda x: jnp.exp(x) - x)(np.ones(2))),
            "jit": np.asarray(jaxlite.jit(lambda x: x * 3.0)(np.arange(4.0))),
            "grad": float(jaxlite.grad(lambda x: x * x * x)(2.0)),
        }
        with pytest.raises(UnexpectedTracerError):  # a tracer handed across threads
            jnp.add(leaked[0], 1.0)
        resume.set()
        return out

    results = [None, None]
    errors = []

    def wrap(k, fn):
        try:
            results[k] = fn()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
            resume.set()
            inside.set()

    threads = [threading.Thread(target=wrap, args=(0, tracer_thread)),
               threading.Thread(target=wrap, args=(1, other_thread))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]
    paused_jaxpr, out = results
    assert str(paused_jaxpr) == str(jaxlite.make_jaxpr(_plain)(np.ones(3)))  # nothing of the other
    np.testing.assert_allclose(out["eager"], np.cos(np.arange(3.0)) + 1.0)
    assert out["jaxpr"] == str(jaxlite.make_jaxpr(lambda x: jnp.exp(x) - x)(np.ones(2)))
    np.testing.assert_allclose(out["jit"], np.arange(4.0) * 3)
    assert out["grad"] == 12.0


def _plain(x):
    return jnp.sin(x) * 2.0 + 1.0


def test_eight_threads_tracing_different_transformations_get_their_own_jaxprs():
    fns = [
        lambda x: jnp.sin(x) * x,
        lambda x: jnp.sum(jnp.exp(x)),
        lambda x: jnp.cumsum(x) - x,
        lambda x: jnp.max(x) * jnp.min(x),
    ]
    want = [str(jaxlite.make_jaxpr(jaxlite.grad(lambda x, f=f: jnp.sum(f(x))))(np.ones(3)))
            for f in fns]  # fmt: skip

    def trace_many(i):
        for _ in range(20):
            k = (i + _) % len(fns)
            g = jaxlite.grad(lambda x, f=fns[k]: jnp.sum(f(x)))
            got = str(jaxlite.make_jaxpr(g)(np.ones(3)))
            assert got == want[k]
        return True

    assert all(run_threads(trace_many))


# ------------------------------------------------------------------------------------------
# Processes sharing one cache
# ------------------------------------------------------------------------------------------

PROGRAM = textwrap.dedent(
    """
    import numpy as np
    import jaxlite, jaxlite.numpy as jnp
    f = jaxlite.jit(lambda x, y: jnp.tanh(x) @ y + 1.0)
    g = jaxlite.jit(lambda x: jnp.sum(jnp.sort(x) * jnp.arange(x.shape[0])))
    h = jaxlite.jit(jaxlite.vmap(jaxlite.grad(lambda w, x: jnp.sum(jnp.sin(w * x)))))
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    assert np.allclose(f(x, np.ones((4, 2))), np.tanh(x) @ np.ones((4, 2)) + 1)
    assert np.allclose(g(x[0]), np.sum(np.sort(x[0]) * np.arange(4)))
    assert np.allclose(h(x, x), np.cos(x * x) * x)
    print("ok")
    """
)


def slow_compiler(tmp_path) -> str:
    """A compiler wrapper that writes its output in two halves, 0.3 s apart."""
    cc = tmp_path / "slowcc"
    cc.write_text(textwrap.dedent(
        f"""\
        #!{sys.executable}
        import os, subprocess, sys, time
        args = sys.argv[1:]
        if "-o" not in args:
            sys.exit(subprocess.call(["cc", *args]))
        i = args.index("-o")
        out = args[i + 1]
        tmp = out + ".real"
        args[i + 1] = tmp
        rc = subprocess.call(["cc", *args])
        if rc:
            sys.exit(rc)
        data = open(tmp, "rb").read()
        os.remove(tmp)
        with open(out, "wb") as f:
            f.write(data[: len(data) // 2])
            f.flush()
            time.sleep(0.3)
            f.write(data[len(data) // 2 :])
        """
    ))  # fmt: skip
    cc.chmod(cc.stat().st_mode | stat.S_IEXEC)
    return str(cc)


def test_four_processes_fill_one_empty_cache_at_once_and_never_load_a_partial_file(tmp_path):
    cache = tmp_path / "cache"
    env = dict(
        os.environ,
        JAXLITE_CACHE_DIR=str(cache),
        JAXLITE_CC=slow_compiler(tmp_path),
        JAXLITE_CFLAGS="-O0",
    )  # (the runtime library in 3 s of gcc, not 8)
    procs = [subprocess.Popen([sys.executable, "-c", PROGRAM], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]  # fmt: skip
    results = [p.communicate(timeout=600) for p in procs]
    for (out, err), p in zip(results, procs):
        assert p.returncode == 0 and out.strip() == "ok", err
        assert "corrupt" not in err and "Warning" not in err, err
    libs = sorted(glob.glob(os.path.join(cache, "*.so")))
    assert len(libs) == 4  # three kernels and the runtime library
    for so in libs:
        with open(so, "rb") as f, open(so + ".sha256") as g:
            assert hashlib.sha256(f.read()).hexdigest() == g.read().strip()
    assert not glob.glob(os.path.join(cache, "*.tmp"))  # no temporary file left behind
    assert not glob.glob(os.path.join(cache, "*.real"))
    # and a fifth process finds everything in the cache
    out = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    assert out.stdout.strip() == "ok" and not out.stderr, out.stderr
