"""Shared test set-up: a private compile cache for the session and hypothesis profiles.

The cache directory is set at import, before any test imports jaxlite's backend, so no test ever
writes into ~/.cache/jaxlite or the source tree.

64-bit mode: the suite runs with x64 ON (`JAXLITE_TEST_X64=0` runs it with jaxlite's default, off),
because most of its NumPy references and finite-difference checks are written in float64. The
x64-off default is tested by tests/test_x64_off.py and by the JAX oracle (tests/oracle/), which
runs every case in the mode it names and restores this one. `HYPOTHESIS_PROFILE=fuzz` (see `make fuzz`) runs
every property test with many more examples.
"""

import atexit
import os
import shutil
import tempfile

# One cache for the whole session: pytest-xdist's workers inherit it from the controller (which
# loads this file first), so the runtime library (~6 s of gcc per build and ISA) and the kernels
# several workers compile are built once, by whichever worker comes first (the cache is made for
# concurrent processes); the process that made the directory removes it.
_CACHE_DIR = os.environ.get("JAXLITE_TEST_SESSION_CACHE")
if not _CACHE_DIR or not os.path.isdir(_CACHE_DIR):
    _CACHE_DIR = tempfile.mkdtemp(prefix="jaxlite-test-cache-")
    os.environ["JAXLITE_TEST_SESSION_CACHE"] = _CACHE_DIR
    atexit.register(shutil.rmtree, _CACHE_DIR, ignore_errors=True)
os.environ["JAXLITE_CACHE_DIR"] = _CACHE_DIR
# The product kernels' tests need the tuned runtime library (a process on the basic tier calls
# BLAS for every product): the session waits for its build (tests/test_runtime_tiers.py tests
# the tiers in processes of their own)
os.environ.setdefault("JAXLITE_RUNTIME_TIERS", "0")

from hypothesis import HealthCheck, settings  # noqa: E402

import jaxlite  # noqa: E402

jaxlite.config.update("jax_enable_x64", os.environ.get("JAXLITE_TEST_X64", "1") != "0")

_QUIET = [HealthCheck.too_slow]
# database=None: the default profile keeps no example database in the source tree.
settings.register_profile(
    "default", deadline=None, max_examples=25, database=None, suppress_health_check=_QUIET
)
settings.register_profile("fuzz", deadline=None, max_examples=2000, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# The JAX oracle's closing line and the strictness of its skip list (tests/oracle/stats.py). These
# hooks live here, not in tests/oracle/, because this is the conftest that pytest-xdist's
# controller always loads: workers hand their counters over and the controller judges them once.
import pytest  # noqa: E402
from oracle import stats as _oracle_stats  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        _oracle_stats.worker_output(workeroutput)
    elif _oracle_stats.stale() and session.exitstatus == 0:
        session.exitstatus = 1


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    _oracle_stats.merge(getattr(node, "workeroutput", {}))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for line, is_error in _oracle_stats.summary_lines():
        terminalreporter.write_line(line, red=is_error)


@pytest.fixture(scope="module")
def frozen_heap():
    """For modules that call `gc.collect()` in every test (object lifetimes, cache sizes): every
    object alive when the module starts is moved out of the collector's sight (`gc.freeze`), so
    each collection scans only what the module's own tests made. Late in a worker of the full
    suite, one full collection over everything the earlier tests left took 4-7 s; a module of 56
    tests paid it 56 times. Objects frozen here are still alive, and a cycle that a frozen object
    points into is alive anyway, so no test's notion of garbage changes."""
    import gc

    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# The builds of the runtime library that the product-kernel tests run in: this CPU's, and on
# x86-64 an AVX2 one (8-float vectors, other tiles), whatever this CPU has.
import platform  # noqa: E402

RUNTIME_BUILDS = ["native"] + (
    ["-mno-avx512f"] if platform.machine() in ("x86_64", "AMD64") else []
)


@pytest.fixture(scope="module", params=RUNTIME_BUILDS)
def runtime_build(request):
    """(flags, runtime library, its tag) of one build (`JAXLITE_CFLAGS` set to its flags for
    the module), its table of measured kernel choices restored after the module (tests force
    paths through `compile.set_gemm_choice`)."""
    from jaxlite.backend import compile as cb

    mp = pytest.MonkeyPatch()
    mp.setenv("JAXLITE_CFLAGS", "" if request.param == "native" else request.param)
    cc = cb.find_compiler()
    lib, tag = cb.runtime_library(cc), cb.runtime_tag(cc)
    table = cb.gemm_choice(lib, tag, cb._runtime_key(cc)[1])
    try:
        yield request.param, lib, tag
    finally:
        cb.set_gemm_choice(lib, tag, table)
        mp.undo()
