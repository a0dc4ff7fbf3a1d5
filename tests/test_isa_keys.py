"""Builds for another ISA never share cached objects or measured choices with this one's: the
compiler flags (JAXLITE_CFLAGS, e.g. `-mno-avx512f` for an AVX2 build on an AVX-512 machine)
reach every cache key and the runtime library's name tag, and BLAS's kernel core (what
OPENBLAS_CORETYPE forces) reaches the key of the measured product-kernel table; a kernel built
with `-mno-avx512f` indeed sees no __AVX512F__ (benchmarks/isa.py relies on it).
"""

from __future__ import annotations

import platform

import pytest

from jaxlite.backend import compile as cb


def _keys(monkeypatch, cflags: str):
    monkeypatch.setenv("JAXLITE_CFLAGS", cflags)
    cc = cb.find_compiler()
    runtime_key = cb._runtime_key(cc)[1]
    kernel_key = cb.cache_key("int f(void) { return 0; }", cc, "", False, False)
    return runtime_key, cb.runtime_tag(cc), kernel_key, cb.gemm_choice_path(runtime_key, "X")


def test_cflags_reach_the_cache_keys_and_the_choice_table(monkeypatch):
    native = _keys(monkeypatch, "")
    avx2 = _keys(monkeypatch, "-mno-avx512f")
    for a, b in zip(native, avx2):
        assert a != b
    assert native == _keys(monkeypatch, "")  # and they are stable


def test_blas_core_reaches_the_choice_table(monkeypatch):
    monkeypatch.setenv("JAXLITE_CFLAGS", "")
    key = cb._runtime_key(cb.find_compiler())[1]
    assert cb.gemm_choice_path(key, "Haswell") != cb.gemm_choice_path(key, "SkylakeX")
    assert cb.gemm_choice_path(key, "Haswell") == cb.gemm_choice_path(key, "Haswell")


def test_blas_core_is_asked_of_the_library():
    lib = cb.runtime_library(cb.find_compiler())
    core = cb.blas_core(lib)
    assert isinstance(core, str) and core
    if cb.blas_paths() is not None:
        assert core != "-" and core == cb.blas_core()


def _sees_avx512f() -> bool:
    src = "int jl_probe(void) {\n#ifdef __AVX512F__\n  return 1;\n#else\n  return 0;\n#endif\n}\n"
    lib = cb.load(src, salt="test_isa_keys")  # NB: kept alive while its function runs
    return bool(lib.function("jl_probe", "int(*)(void)")())


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 flags")
def test_no_avx512f_flag_reaches_the_kernels(monkeypatch):
    native = _sees_avx512f()
    monkeypatch.setenv("JAXLITE_CFLAGS", "-mno-avx512f")
    assert not _sees_avx512f()
    monkeypatch.setenv("JAXLITE_CFLAGS", "")
    assert _sees_avx512f() == native
