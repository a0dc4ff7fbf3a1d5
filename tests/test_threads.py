"""The thread count of parallel regions (csrc/jl_threads.h): a site whose workers were late runs
its next regions on the calling thread alone, probes again after a back-off, and results never
depend on the thread count (elementwise loops, reductions, every product path, convolutions).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from jaxlite.backend import compile as cb

MS = 1_000_000  # ns
BACKOFF_MIN, BACKOFF_MAX = 10 * MS, 1000 * MS  # JL_PAR_BACKOFF_MIN_NS, JL_PAR_BACKOFF_MAX_NS

# The decisions on made-up times: site state `s` (one per test), jl_par_threads / jl_par_update.
_SHIM = """
#include "jaxlite.h"
static jl_par_state s;
void reset(void) { memset(&s, 0, sizeof s); }
int threads(int max, int64_t now, int mode) { return jl_par_threads(&s, max, now, mode); }
int update(int nt, int dynamic, int64_t w, int64_t m, int64_t now, int mode) {
  return jl_par_update(&s, nt, dynamic, w, m, now, mode);
}
int64_t backoff(void) { return s.backoff; }
"""


@pytest.fixture(scope="module")
def shim():
    lib = cb.load(_SHIM, salt="test_threads")
    fns = {
        "reset": lib.function("reset", "void(*)(void)"),
        "threads": lib.function("threads", "int(*)(int, int64_t, int)"),
        "update": lib.function("update", "int(*)(int, int, int64_t, int64_t, int64_t, int)"),
        "backoff": lib.function("backoff", "int64_t(*)(void)"),
        "lib": lib,  # NB: kept: a library nothing refers to is unloaded
    }
    fns["reset"]()
    return fns


def test_late_workers_leave_the_region_to_the_caller_until_a_probe(shim):
    threads, update = shim["threads"], shim["update"]
    shim["reset"]()
    assert threads(4, 0, 0) == 4  # a new site: every thread
    assert threads(1, 0, 0) == 1  # one thread available
    # on time: the region took about the caller's share (a quarter of the work each)
    assert not update(4, 0, 110, 100, 1000, 0) and threads(4, 1001, 0) == 4
    # late: 4 threads took longer than the caller alone (4 x its share) would have
    t = 10 * MS
    assert update(4, 0, 401, 100, t, 0)
    assert shim["backoff"]() == BACKOFF_MIN
    assert threads(4, t + 1, 0) == 1 and threads(4, t + BACKOFF_MIN - 1, 0) == 1
    assert threads(4, t + BACKOFF_MIN, 0) == 4  # the probe
    # the probe late again: twice the back-off
    t += BACKOFF_MIN
    assert update(2, 0, 5 * MS, 1 * MS, t, 0)
    assert shim["backoff"]() == 2 * BACKOFF_MIN
    assert threads(2, t + 2 * BACKOFF_MIN - 1, 0) == 1 and threads(2, t + 2 * BACKOFF_MIN, 0) == 2
    # a probe on time: threads again at once, the back-off halved
    t += 2 * BACKOFF_MIN
    assert not update(2, 0, 1 * MS, 1 * MS, t, 0)
    assert shim["backoff"]() == BACKOFF_MIN and threads(2, t + 1, 0) == 2
    # the back-off stops growing at its maximum
    for _ in range(12):
        update(2, 0, 10, 1, t, 0)
    assert shim["backoff"]() == BACKOFF_MAX
    assert threads(2, t + BACKOFF_MAX - 1, 0) == 1
    # chunks claimed as they come: late when the caller waited longer than it worked
    shim["reset"]()
    assert not update(2, 1, 190, 100, 5, 0) and threads(2, 6, 0) == 2
    assert update(2, 1, 201, 100, 5, 0) and threads(2, 6, 0) == 1
    # the caller's share not noted (0): never judged late
    shim["reset"]()
    assert not update(2, 0, 10**9, 0, 1, 0) and threads(2, 2, 0) == 2


def test_fixed_and_alternate_modes(shim):
    threads, update = shim["threads"], shim["update"]
    shim["reset"]()
    # JAXLITE_THREADS=fixed: late workers change nothing
    assert not update(2, 0, 10**9, 1, 5, 1) and threads(2, 6, 1) == 2 and threads(2, 6, 0) == 2
    # JAXLITE_THREADS=alternate (the tests' mode): every thread, then one, ...; always late
    assert [threads(3, 0, 2) for _ in range(4)] == [3, 1, 3, 1]
    assert update(3, 0, 1, 1, 0, 2)


# Every parallel region of a kernel (and of the runtime library's products) alternates between
# every thread (3: uneven splits) and one: two calls in a row must agree bit for bit.
_SCRIPT = textwrap.dedent(
    """
    import numpy as np, jaxlite, jaxlite.numpy as jnp
    from jaxlite import lax
    from jaxlite.backend import compile as cb

    jaxlite.config.update("jax_enable_x64", True)  # float64 products and sums below
    rng = np.random.default_rng(0)
    def check(name, f, *args, ref=None, rtol=1e-5, atol=1e-5):
        a, b = (np.asarray(f(*args)) for _ in range(2))
        assert a.tobytes() == b.tobytes(), (name, np.abs(a - b).max())
        c = np.asarray(f(*args))
        assert a.tobytes() == c.tobytes(), name
        if ref is not None:
            np.testing.assert_allclose(a, ref, rtol=rtol, atol=atol, err_msg=name)
        print("ok", name)

    f32 = lambda *s: rng.normal(size=s).astype(np.float32)
    n = (1 << 18) + 5  # past PARALLEL_MIN_WORK, not a multiple of the threads or chunks
    x = f32(n)
    check("elementwise", jaxlite.jit(lambda x: x * 2.0 + 1.0), x, ref=x * 2 + 1)
    check("chain", jaxlite.jit(lambda x: jnp.tanh(x) * lax.logistic(1.7 * x + 0.3)), x,
          ref=np.tanh(x) / (1 + np.exp(-(1.7 * x + 0.3))))
    for m in ((1 << 18) + 37, 31 * 32 * 300 + 1, 1 << 19):  # chunk boundaries of the sums
        xs = f32(m)
        check(f"sum {m}", jaxlite.jit(jnp.sum), xs, ref=xs.astype(np.float64).sum(), rtol=1e-5)
    x2 = f32(700, 1001)
    check("sum strided 2-D", jaxlite.jit(lambda x: jnp.sum(jnp.exp(x[:, ::2]))), x2,
          ref=np.exp(x2[:, ::2].astype(np.float64)).sum(), rtol=1e-5)
    x3 = (1 + 1e-4 * f32(3, 100003)).astype(np.float64)
    check("prod f64 3 rows", jaxlite.jit(jnp.prod), x3, ref=np.prod(x3), rtol=1e-12)
    check("row sums", jaxlite.jit(lambda x: jnp.sum(jnp.sin(x), axis=1)), x2,
          ref=np.sin(x2.astype(np.float64)).sum(1), rtol=1e-4, atol=1e-4)
    check("max", jaxlite.jit(lambda x: jnp.max(jnp.cos(x))), x, ref=np.cos(x).max())
    check("int sum", jaxlite.jit(lambda x: jnp.sum(x * 3)), np.arange(n, dtype=np.int32),
          ref=np.sum(np.arange(n, dtype=np.int64) * 3))

    cc = cb.find_compiler()
    lib, tag = cb.runtime_library(cc), cb.runtime_tag(cc)
    nclass = lib.function(f"jl_rt_gemm_nclass_{tag}", "int(*)(void)")()
    mm = jaxlite.jit(lambda a, b: a @ b)
    mmt = jaxlite.jit(lambda a, b: a.T @ b.T)
    # >= 2^22 multiply-adds (threaded): wider than tall, taller than wide, ragged slabs
    shapes = [(129, 517, 64), (517, 129, 64), (131, 300, 107), (70, 1031, 60)]
    for path, pname in ((3, "blas"), (4, "blas-slabs"), (2, "packed")):
        for dt in (np.float32, np.float64):
            table = {"float32": [path] * nclass, "float64": [path] * nclass}
            cb.set_gemm_choice(lib, tag, table)
            for m, nn, k in shapes:
                a, b = f32(m, k).astype(dt), f32(k, nn).astype(dt)
                ref = a.astype(np.float64) @ b.astype(np.float64)
                check(f"{pname} {dt.__name__} {m}x{nn}x{k}", mm, a, b, ref=ref, rtol=1e-4,
                      atol=1e-4)
                check(f"{pname} {dt.__name__} {m}x{nn}x{k} transposed", mmt,
                      np.ascontiguousarray(a.T), np.ascontiguousarray(b.T), ref=ref, rtol=1e-4,
                      atol=1e-4)
    cb.set_gemm_choice(lib, tag, {"float32": [0] * nclass, "float64": [0] * nclass})
    img, ker = f32(8, 16, 34, 34), f32(32, 16, 3, 3)
    conv = jaxlite.jit(lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "SAME"))
    check("conv", conv, img, ker)
    print("all ok")
    """
)


def test_results_do_not_depend_on_the_thread_count(tmp_path):
    script = tmp_path / "alternate.py"
    script.write_text(_SCRIPT)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, JAXLITE_THREADS="alternate", OMP_NUM_THREADS="3",
               OPENBLAS_NUM_THREADS="3", PYTHONPATH=root)  # fmt: skip
    env.pop("JAXLITE_THREAD_DEFAULTS", None)
    res = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert res.returncode == 0 and "all ok" in res.stdout, res.stdout[-3000:] + res.stderr[-3000:]
