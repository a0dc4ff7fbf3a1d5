"""Resources: memory stays flat over many calls, caches are bounded, nothing traced stays alive.

- 10,000 calls of a jitted function (fast path, slow path with non-contiguous inputs and pytrees,
  grad of a jitted function) leave memory flat: tracemalloc and RSS are measured with a bound.
- The in-memory executable cache is an LRU of JAXLITE_EXECUTABLE_CACHE_SIZE entries; evicted
  executables are freed and their libraries unloaded (checked in /proc/self/maps). A jitted
  function that is garbage collected takes its executables and the arrays it closed over along.
- The disk cache keeps at most JAXLITE_CACHE_MAX_BYTES, evicting least recently used entries;
  `jaxlite.clear_cache()` empties both caches and functions still work afterwards.
- Tracers and traces of finished transformations are freed (weak references + gc).
"""

from __future__ import annotations

import gc
import glob
import os
import sys
import tracemalloc
import weakref

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core, lax
from jaxlite.backend import compile as jl_compile

# Its tests collect garbage several times each: cheaply, over this module's objects only.
pytestmark = pytest.mark.usefixtures("frozen_heap")

jit_module = sys.modules["jaxlite.jit"]


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def mapped_libraries(cache_dir: str) -> set[str]:
    """The cache libraries this process has mapped (dlopen'ed and not yet dlclose'd)."""
    with open("/proc/self/maps") as f:
        return {ln.split()[-1] for ln in f if ln.rstrip().endswith(".so") and cache_dir in ln}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("JAXLITE_CACHE_DIR", str(d))
    return str(d)


# ------------------------------------------------------------------------------------------
# Memory stays flat
# ------------------------------------------------------------------------------------------


def _memory_growth(call, n: int) -> tuple[int, int]:
    """(tracemalloc growth, RSS growth) in bytes over `n` calls, after a warm-up."""
    for _ in range(200):
        call()
    gc.collect()
    tracemalloc.start()
    try:
        before, rss0 = tracemalloc.get_traced_memory()[0], rss_bytes()
        for _ in range(n):
            call()
        gc.collect()
        after, rss1 = tracemalloc.get_traced_memory()[0], rss_bytes()
    finally:
        tracemalloc.stop()
    return after - before, rss1 - rss0


def test_ten_thousand_calls_of_a_jitted_function_leave_memory_flat():
    f = jaxlite.jit(lambda x, y: jnp.tanh(x) * y + jnp.sum(x))
    x, y = np.linspace(-1, 1, 64, dtype=np.float32), np.float32(2.0)
    traced, rss = _memory_growth(lambda: f(x, y), 10_000)
    # Bounds: a leak of one output per call would be 2.6 MB (traced) here.
    assert traced < 64 * 1024, f"tracemalloc grew by {traced} bytes over 10,000 calls"
    assert rss < 4 * 2**20, f"RSS grew by {rss} bytes over 10,000 calls"
    assert f._cache_size() == 1


def test_slow_path_calls_leave_memory_flat():
    f = jaxlite.jit(lambda d: {"s": jnp.sum(d["a"] * d["b"][::-1]), "t": d["a"].T})
    a = np.arange(24.0).reshape(4, 6)[:, ::2]  # not contiguous: the signature path, not the fast
    args = {"a": a, "b": np.ones(3)}
    traced, rss = _memory_growth(lambda: f(args), 10_000)
    assert traced < 64 * 1024, f"tracemalloc grew by {traced} bytes"
    assert rss < 4 * 2**20, f"RSS grew by {rss} bytes"


def test_grad_of_a_jitted_function_leaves_memory_flat():
    g = jaxlite.grad(jaxlite.jit(lambda x: jnp.sum(jnp.sin(x) * x)))
    x = np.linspace(-1, 1, 16)
    traced, _ = _memory_growth(lambda: g(x), 2_000)
    assert traced < 64 * 1024, f"tracemalloc grew by {traced} bytes over 2,000 grads"


# ------------------------------------------------------------------------------------------
# The in-memory executable cache
# ------------------------------------------------------------------------------------------


def test_executable_cache_is_a_bounded_lru_that_unloads_evicted_libraries(cache, monkeypatch):
    monkeypatch.setenv("JAXLITE_EXECUTABLE_CACHE_SIZE", "3")
    jaxlite.clear_cache(disk=False)
    f = jaxlite.jit(lambda x: jnp.cumsum(x) * 1.5 - 0.25)
    exes = []
    for n in range(1, 9):  # 8 signatures, 8 kernels
        np.testing.assert_allclose(f(np.ones(n)), np.cumsum(np.ones(n)) * 1.5 - 0.25)
        exes.append(weakref.ref(f.lower(np.ones(n))._entry.exe))
        if n == 2:
            f(np.ones(1))  # use n=1 again: most recently used, but then evicted by later ones
    gc.collect()
    assert len(jit_module._EXECUTABLES) <= 3 and f._cache_size() <= 3
    alive = [n for n, r in enumerate(exes, 1) if r() is not None]
    assert alive == [6, 7, 8], alive  # the least recently used went first
    libs = [o for o in gc.get_objects() if type(o) is jl_compile.Library and cache in o.path]
    holders = [[type(r).__name__ for r in gc.get_referrers(lib)] for lib in libs]
    assert len(libs) == 3, holders  # the Library objects of evicted executables were freed
    assert len(mapped_libraries(cache)) == 3  # and their libraries dlclose'd
    for n in (8, 3):  # recent ones stay; evicted ones come back (from the disk cache)
        np.testing.assert_allclose(f(np.ones(n)), np.cumsum(np.ones(n)) * 1.5 - 0.25)
    assert len(glob.glob(os.path.join(cache, "*.so"))) == 8


def test_a_collected_jitted_function_frees_its_executables_and_closed_over_arrays(cache):
    big = np.random.default_rng(0).standard_normal(100_000)
    ref = weakref.ref(big)
    f = jaxlite.jit(lambda x: x * big)
    np.testing.assert_allclose(f(np.ones(100_000)), big)
    exe = weakref.ref(f.lower(np.ones(100_000))._entry.exe)
    del big, f
    gc.collect()
    assert ref() is None and exe() is None
    assert not mapped_libraries(cache)


# ------------------------------------------------------------------------------------------
# The disk cache
# ------------------------------------------------------------------------------------------


def _kernel(k: int) -> str:
    return f"int jl_kernel(void) {{ return {k}; }}  /* {'x' * 2000} */\n"


def _entry_size(d: str, key: str) -> int:
    return sum(os.path.getsize(os.path.join(d, key + s)) for s in (".so", ".so.sha256", ".c"))


def test_disk_cache_keeps_its_size_limit_by_evicting_least_recently_used(cache, monkeypatch):
    cc = jl_compile.find_compiler()
    first = jl_compile.load(_kernel(0))
    one = _entry_size(cache, first.key)
    del first
    monkeypatch.setenv("JAXLITE_CACHE_MAX_BYTES", str(int(3.5 * one)))
    keys = [jl_compile.cache_key(_kernel(k), cc, "", False, False) for k in range(6)]
    for k in range(1, 6):
        lib = jl_compile.load(_kernel(k))
        assert lib.function("jl_kernel", "int(*)(void)")() == k
        del lib
        gc.collect()
        if k == 3:  # kernel 1 is used again (from disk): it becomes the most recently used
            lib = jl_compile.load(_kernel(1))
            assert not lib.compiled
            del lib
            gc.collect()
    left = {os.path.basename(p)[:-3] for p in glob.glob(os.path.join(cache, "*.so"))}
    assert left == {keys[1], keys[4], keys[5]}, [keys.index(k) for k in left]
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(cache, "*")) if not
                p.endswith("compilers.json"))  # fmt: skip
    assert total <= 3.5 * one
    assert not glob.glob(os.path.join(cache, f"{keys[2]}*"))  # library, checksum and source


def test_clear_cache_empties_memory_and_disk_and_functions_still_work(cache):
    f = jaxlite.jit(lambda x: jnp.sqrt(x) + 2.0)
    g = jaxlite.jit(jaxlite.grad(lambda x: jnp.sum(x**3)))
    np.testing.assert_allclose(f(np.arange(4.0)), np.sqrt(np.arange(4.0)) + 2)
    np.testing.assert_allclose(g(np.arange(3.0)), 3 * np.arange(3.0) ** 2)
    assert glob.glob(os.path.join(cache, "*.so"))
    jaxlite.clear_cache()
    assert f._cache_size() == g._cache_size() == 0
    assert not jit_module._EXECUTABLES and not jit_module._DERIVED
    assert not [p for p in os.listdir(cache) if p.endswith((".so", ".sha256", ".c", ".tmp"))]
    np.testing.assert_allclose(f(np.arange(4.0)), np.sqrt(np.arange(4.0)) + 2)
    np.testing.assert_allclose(g(np.arange(3.0)), 3 * np.arange(3.0) ** 2)
    assert len(glob.glob(os.path.join(cache, "*.so"))) == 2  # compiled again


# ------------------------------------------------------------------------------------------
# Tracers of finished transformations are freed
# ------------------------------------------------------------------------------------------


def _spy(refs: list):
    """f(x) that records weak references to its tracers and its trace."""

    def f(x):
        y = jnp.sin(x) * x
        if isinstance(y, core.Tracer):
            refs.extend([weakref.ref(x), weakref.ref(y), weakref.ref(core.current_trace())])
        return jnp.sum(y)

    return f


TRANSFORMS = {
    "grad": lambda f, x: jaxlite.grad(f)(x),
    "grad of grad": lambda f, x: jaxlite.grad(jaxlite.grad(f))(x[0]),
    "jvp": lambda f, x: jaxlite.jvp(f, (x,), (np.ones_like(x),)),
    "vjp (its function kept)": lambda f, x: jaxlite.vjp(f, x)[1],
    "linearize (its function kept)": lambda f, x: jaxlite.linearize(f, x)[1],
    "vmap": lambda f, x: jaxlite.vmap(f)(np.stack([x, x])),
    "jit": lambda f, x: jaxlite.jit(f)(x),
    "grad of jit": lambda f, x: jaxlite.grad(jaxlite.jit(f))(x),
    "make_jaxpr": lambda f, x: jaxlite.make_jaxpr(f)(x),
    "hessian": lambda f, x: jaxlite.hessian(f)(x),
    "checkpoint": lambda f, x: jaxlite.grad(jaxlite.checkpoint(f))(x),
    "cond": lambda f, x: jaxlite.grad(lambda x: lax.cond(True, f, lambda x: jnp.sum(x), x))(x),
    "scan": lambda f, x: jaxlite.grad(
        lambda x: lax.scan(lambda c, r: (c + f(r), 0.0), 0.0, x.reshape(1, -1))[0]
    )(x),  # fmt: skip
    "while_loop": lambda f, x: jaxlite.jit(
        lambda x: lax.while_loop(lambda c: c[0] < 2, lambda c: (c[0] + 1, c[1] + f(x)), (0, 0.0))
    )(x),
    "vmap of grad": lambda f, x: jaxlite.vmap(jaxlite.grad(f))(np.stack([x, x])),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_tracers_and_traces_of_finished_transformations_are_freed(name):
    refs: list = []
    x = np.linspace(0.1, 1.0, 3)
    kept = TRANSFORMS[name](_spy(refs), x)  # noqa: F841 - results (and vjp functions) stay alive
    assert refs, "the function was not traced"
    gc.collect()
    alive = [r() for r in refs if r() is not None]
    assert not alive, f"{name}: {len(alive)} of {len(refs)} tracers/traces still alive: {alive[:3]}"
