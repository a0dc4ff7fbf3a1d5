"""The thread count of parallel regions (csrc/jl_threads.h): each region site runs on every thread
or on the calling thread alone, whichever its recent regions ran faster on, and tries the other
way now and then; results never depend on the thread count (elementwise loops, reductions, every
product path, convolutions).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from jaxlite.backend import compile as cb

MS = 1_000_000  # ns
EXPLORE = 50 * MS  # JL_PAR_EXPLORE_NS

# The decisions on made-up times: site state `s` (one per test), jl_par_threads / jl_par_update.
_SHIM = """
#include "jaxlite.h"
static jl_par_state s;
void reset(void) { memset(&s, 0, sizeof s); }
int threads(int max, int64_t now, int mode) { return jl_par_threads(&s, max, now, mode); }
int64_t update(int nt, int64_t ns, double work) { return jl_par_update(&s, nt, ns, work); }
void backoff(int nt, int64_t t) { jl_par_backoff(&s, nt, t); }
int64_t backoff_of(void) { return s.backoff; }
int flip(int was_par, int64_t now) { return jl_par_flip(&s, was_par, now); }
int busy(void) { return jl_par_busy(jl_par_now()); }
"""


@pytest.fixture(scope="module")
def shim():
    lib = cb.load(_SHIM, salt="test_threads")
    fns = {
        "reset": lib.function("reset", "void(*)(void)"),
        "threads": lib.function("threads", "int(*)(int, int64_t, int)"),
        "update": lib.function("update", "int64_t(*)(int, int64_t, double)"),
        "backoff": lib.function("backoff", "void(*)(int, int64_t)"),
        "backoff_of": lib.function("backoff_of", "int64_t(*)(void)"),
        "flip": lib.function("flip", "int(*)(int, int64_t)"),
        "busy": lib.function("busy", "int(*)(void)"),
        "lib": lib,  # NB: kept: a library nothing refers to is unloaded
    }
    fns["reset"]()
    return fns


def test_each_site_runs_the_faster_way_and_tries_the_other_now_and_then(shim):
    threads, update = shim["threads"], shim["update"]
    shim["reset"]()
    assert threads(1, 0, 0) == 1  # one thread available
    assert threads(4, 0, 0) == 4  # never timed: every thread first
    assert update(4, 10**9, 10) == 0  # the first region of a way is not counted
    assert threads(4, 0, 0) == 4
    assert update(4, 1000, 10) == 100_000  # ps per unit: the first time counted is the mean
    assert threads(4, 1, 0) == 1  # then the caller alone
    assert update(1, 10**9, 10) == 0 and threads(4, 1, 0) == 1
    assert update(1, 3000, 10) == 300_000
    # every thread was faster: every thread, except once per EXPLORE (the mean kept current)
    assert threads(4, 2, 0) == 1  # the first exploration (due at 0)
    assert [threads(4, t, 0) for t in (3, EXPLORE // 2, EXPLORE + 1)] == [4, 4, 4]
    assert threads(4, EXPLORE + 2, 0) == 1 and threads(4, EXPLORE + 3, 0) == 4
    # the workers turn late: the mean moves by a quarter of the difference per region
    assert update(4, 9000, 10) == 100_000 + (200_000 - 100_000) // 4  # at most twice the mean
    update(4, 9000, 10)
    assert update(4, 9000, 10) == 195_312  # 100,000 -> 125,000 -> 156,250 -> 195,312
    assert threads(4, EXPLORE + 4, 0) == 4  # 195,312 x 5/4 < 300,000
    assert update(4, 9000, 10) == 244_140  # 5/4 of it > 300,000
    assert threads(4, EXPLORE + 5, 0) == 1  # now the caller alone is faster ...
    assert threads(4, 3 * EXPLORE, 0) == 4  # ... and every thread is tried once per EXPLORE
    assert threads(4, 3 * EXPLORE + 1, 0) == 1
    # work units: a region twice the work in twice the time has the same time per unit
    shim["reset"]()
    update(2, 1, 1)
    assert update(2, 2000, 20) == update(2, 1000, 10) == 100_000


def test_explorations_that_confirm_the_choice_back_off(shim):
    """An exploration whose way stays the slower doubles the site's interval (up to
    JL_PAR_BACKOFF = 16 times EXPLORE); one whose way would now win resets it and explores
    again at the next region."""
    threads, update, backoff = shim["threads"], shim["update"], shim["backoff"]
    shim["reset"]()
    for nt, ns in ((2, 1000), (2, 1000), (1, 3000), (1, 3000)):  # every thread 3x faster
        update(nt, ns, 10)
    assert threads(2, 0, 0) == 1  # the first exploration (due at 0): the caller alone
    backoff(1, 300_000)  # ... still 3x slower
    assert shim["backoff_of"]() == 2
    assert threads(2, EXPLORE + 1, 0) == 2  # the next one is due 2 x EXPLORE after it
    assert threads(2, 2 * EXPLORE - 1, 0) == 2 and threads(2, 2 * EXPLORE, 0) == 1
    backoff(1, 300_000)
    assert threads(2, 5 * EXPLORE, 0) == 2 and threads(2, 6 * EXPLORE, 0) == 1  # 2 + 4
    for _ in range(6):
        backoff(1, 300_000)
    assert shim["backoff_of"]() == 16  # (at most)
    explore = 6 * EXPLORE + 16 * EXPLORE
    assert threads(2, explore - 1, 0) == 2
    backoff(1, 50_000)  # the caller alone now faster than every thread's mean (100,000 x 5/4)
    assert shim["backoff_of"]() == 1
    assert threads(2, 7 * EXPLORE, 0) == 1  # explored again at the next region
    assert threads(2, 7 * EXPLORE + 1, 0) == 2  # (which did not win: the next one EXPLORE on)
    assert threads(2, 8 * EXPLORE, 0) == 1
    backoff(2, 90_000)  # every thread explored (as if the caller alone were in use): it wins
    assert shim["backoff_of"]() == 1
    backoff(2, 290_000)  # not by the margin: 290,000 x 5/4 > 300,000
    assert shim["backoff_of"]() == 2


def test_a_switch_of_the_faster_way_starts_the_interval_again(shim):
    """Where a region's time changes which way is faster, the backoff earned by explorations of
    the way now in use is dropped: the other way is explored JL_PAR_EXPLORE_NS on (not up to 16
    times that), and the interval doubles from there."""
    threads, update, backoff, flip = shim["threads"], shim["update"], shim["backoff"], shim["flip"]
    shim["reset"]()
    for nt, ns in ((2, 1000), (2, 1000), (1, 3000), (1, 3000)):  # every thread 3x faster
        update(nt, ns, 10)
    assert threads(2, 0, 0) == 1
    for _ in range(4):
        backoff(1, 300_000)  # the caller alone confirmed slower, four times
    assert shim["backoff_of"]() == 16
    assert not flip(True, 10)  # (no switch: nothing changes)
    assert shim["backoff_of"]() == 16
    now = 3 * EXPLORE  # an exploration is due at 1 + 2 + 4 + 8 = 15 x EXPLORE
    assert threads(2, now, 0) == 2
    for _ in range(3):  # every thread slowed down (another process's threads took its cores) ...
        update(2, 9000, 10)
        assert not flip(True, now) and threads(2, now, 0) == 2
    update(2, 9000, 10)  # 100,000 -> ... -> 244,140 > 300,000 x 4/5: the caller alone wins
    assert flip(True, now) and shim["backoff_of"]() == 1
    assert threads(2, now + 1, 0) == 1 and threads(2, now + EXPLORE - 1, 0) == 1
    assert threads(2, now + EXPLORE, 0) == 2  # every thread explored again EXPLORE later
    backoff(2, 900_000)  # ... still slower: the interval doubles from 1
    assert shim["backoff_of"]() == 2
    assert threads(2, now + 3 * EXPLORE - 1, 0) == 1 and threads(2, now + 3 * EXPLORE, 0) == 2
    assert not flip(False, now)  # (unknown means or no switch: nothing changes)
    shim["reset"]()
    assert not flip(True, now) and not flip(False, now)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat: Linux only")
def test_a_machine_busy_with_other_processes_is_seen(shim):
    """jl_par_busy: other processes' CPU time over the last 200 ms (from /proc/stat, less this
    process's own) of half a CPU or more. Every CPU kept busy by child processes: seen within
    two samples."""
    import time

    spin = "import time\nt = time.time() + 3\nwhile time.time() < t: pass"
    procs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(os.cpu_count() or 1)]
    try:
        seen = []
        for _ in range(4):
            time.sleep(0.25)
            seen.append(shim["busy"]())
        assert seen[-1] >= 1 and seen[-2] >= 1, seen  # (busy CPUs: every one here, or nearly)
    finally:
        for p in procs:
            p.kill()
            p.wait()


# Threads of this process that run no region: spinners started here (as another library's BLAS
# threads spinning after its products), against this library's regions' threads kept busy. NB:
# busy from a tenth of a CPU: on this shared machine the scheduler gave a process's spinners
# about half a CPU in all, however many.
_OWN_SHIM = """
#define JL_PAR_BUSY_CPUS 0.1 /* a tenth of a CPU counts (the spinners' share of a loaded machine) */
#include "jaxlite.h"
#include <pthread.h>
static volatile int stop_;
static pthread_t th_[64];
static int nth_;
static void *spin(void *a) { (void)a; while (!stop_) {} return NULL; }
static int64_t clock_of(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}
void start(int n) {
  stop_ = 0;
  nth_ = 0;
  for (int i = 0; i < n && i < 64; i++) nth_ += !pthread_create(&th_[nth_], NULL, spin, NULL);
}
/* the spinners' CPU time (ns) */
int64_t spun(void) {
  int64_t t = 0;
  for (int i = 0; i < nth_; i++) {
    clockid_t c;
    if (!pthread_getcpuclockid(th_[i], &c)) t += clock_of(c);
  }
  return t;
}
void stop(void) {
  stop_ = 1;
  for (int i = 0; i < nth_; i++) pthread_join(th_[i], NULL);
  nth_ = 0;
}
/* the busy CPUs this process's other threads keep, from a sample now (after `ms` of work on
   every thread of a region: this library's own) */
int own(int ms) {
  jl_par_record_team(omp_get_max_threads());
  if (ms) {
    const int64_t end = jl_par_now() + (int64_t)ms * 1000000;
#pragma omp parallel
    while (jl_par_now() < end) {}
  }
  return jl_par_own(jl_par_now());
}
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="CPU clocks: Linux only")
def test_threads_of_this_process_that_run_no_region_are_seen():
    """jl_par_own: the CPU time of this process's threads other than those of the regions (the
    callers and their OpenMP teams) over the last 5 ms or more, in CPUs rounded up from a half
    (here a tenth):
    a spinning thread of another library is seen at the next sample, the regions' own threads
    never, and a spinner that stopped is forgotten at the next sample."""
    import time

    lib = cb.load(_OWN_SHIM, salt="test_threads_own", openmp=True)
    start = lib.function("start", "void(*)(int)")
    stop = lib.function("stop", "void(*)(void)")
    spun = lib.function("spun", "int64_t(*)(void)")
    own = lib.function("own", "int(*)(int)")
    own(0)  # the first sample: a baseline
    time.sleep(0.02)
    assert own(0) == 0  # nothing else runs here
    assert own(30) == 0  # the regions' threads busy: this library's own time
    checked, seen = 0, []
    start(os.cpu_count() or 1)
    try:
        for _ in range(6):  # (the spinners' share of the CPUs depends on the load: measured)
            t0, s0 = time.monotonic_ns(), spun()
            own(0)
            time.sleep(0.05)
            cpus = (spun() - s0) / (time.monotonic_ns() - t0)
            busy = own(0)
            seen.append((busy, cpus))
            if abs(cpus % 1 - 0.1) > 0.05:  # (not near the rounding: the two clocks differ)
                assert busy == int(cpus + 0.9), (busy, cpus)
                checked += busy >= 1
    finally:
        stop()
    assert checked, ("the spinners never had a tenth of a CPU", seen)
    own(0)
    time.sleep(0.02)
    assert own(0) == 0


_TEAM_SHIM = """
#include "jaxlite.h"
static jl_par_state s;
/* the threads jl_par_begin gives an adaptive region (max threads, `ncpus` CPUs of which other
   processes keep `busy` busy, as the last sample found), and whether it is timed */
int team(int max, int ncpus, int busy, int *timed) {
  memset(&s, 0, sizeof s);
  omp_set_num_threads(max);
  jl_par_ncpus_ = ncpus;
  jl_par_busy_ = busy;
  jl_par_busy_t_ = jl_par_now();
  jl_par_region r;
  jl_par_begin(&s, &r, 1.0);
  *timed = r.timed;
  return r.nt;
}
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat: Linux only")
def test_busy_cpus_cost_threads_not_the_team():
    """Other processes' busy CPUs take threads from a region in proportion: every thread while
    none is busy, the free CPUs while some are (untimed: the site's means are of one thread and
    of every thread), the caller alone when one or none is left."""
    lib = cb.load(_TEAM_SHIM, salt="test_threads_team", openmp=True)
    team = lib.function("team", "int(*)(int, int, int, int *)")
    timed = cb.ffi.new("int *")
    assert team(2, 2, 0, timed) == 2 and timed[0]  # quiet: every thread (no time yet)
    assert team(2, 2, 1, timed) == 1 and timed[0]  # a 2-core machine, one busy: the caller
    assert team(64, 64, 1, timed) == 63 and not timed[0]  # a large one: one thread fewer
    assert team(64, 64, 40, timed) == 24 and not timed[0]
    assert team(8, 64, 40, timed) == 8 and timed[0]  # more free CPUs than threads: all of them
    assert team(64, 64, 63, timed) == 1 and timed[0]
    assert team(64, 64, 200, timed) == 1 and timed[0]


def test_fixed_and_alternate_modes(shim):
    threads = shim["threads"]
    shim["reset"]()
    for _ in range(2):
        shim["update"](2, 10**9, 1)  # every thread very slow
        shim["update"](1, 1, 1)
    # JAXLITE_THREADS=fixed: every thread whatever the times
    assert threads(2, 6, 1) == 2
    assert threads(2, 7, 0) == 2 and threads(2, 8, 0) == 1  # adaptive: an exploration, then 1
    # JAXLITE_THREADS=alternate (the tests' mode): every thread, then one, ...
    assert [threads(3, 0, 2) for _ in range(4)] == [3, 1, 3, 1]


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
