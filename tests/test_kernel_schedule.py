"""jit's kernels are compiled with gcc's pre-allocation instruction scheduler
(backend/compile.py, `_schedule_flags`): a speed flag that must change no result, that clang
does not get, and that the runtime library (csrc/jl_gemm.c, tuned without it) turns off."""

from __future__ import annotations

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.backend import compile as jl_compile

SCHED = jl_compile.SCHEDULE_FLAGS


def test_kernels_get_the_scheduling_flags_from_gcc_only():
    cmd = jl_compile.compiler_command(["gcc"], "k.c", "k.so", blas=False, openmp=False)
    assert SCHED[:2] == ("-fschedule-insns", "-fsched-pressure")
    assert all(f in cmd for f in SCHED)
    # a compiler that cannot be run here is judged by its name
    assert jl_compile._schedule_flags("/nonexistent/clang-99") == ()
    assert jl_compile._schedule_flags("/nonexistent/gcc-99") == SCHED


def test_the_runtime_library_turns_the_scheduler_off():
    for basic in (False, True):
        flags = jl_compile._runtime_flags(basic)
        assert "-fno-schedule-insns" in flags
        # the runtime's flags come after the kernels' in the command: the last one wins
        cmd = jl_compile.compiler_command(["gcc"], "k.c", "k.so", blas=True, openmp=True,
                                          extra=flags)  # fmt: skip
        assert cmd.index("-fno-schedule-insns") > cmd.index("-fschedule-insns")


def test_scheduling_changes_no_bit(monkeypatch):
    # bench_jit.py's chain and the functions of jl_math.h over every 4099th float32 bit pattern
    # (every exponent, subnormals, inf, nan), compiled with and without the scheduler
    x = np.arange(0, 1 << 32, 4099, dtype=np.uint64).astype(np.uint32).view(np.float32)

    def run():  # a new function each time: a new jit, compiled (or loaded) by its own key
        def fn(x):
            return (jnp.tanh(x) * lax.logistic(1.7 * x + 0.3) + x * x, lax.exp(x),
                    lax.log1p(x), jaxlite.nn.softplus(x))  # fmt: skip

        return [np.asarray(o) for o in jaxlite.jit(fn)(x)]

    with_sched = run()
    asked = []
    monkeypatch.setattr(jl_compile, "_schedule_flags", lambda exe: asked.append(exe) or ())
    without = run()
    assert asked  # the second kernel's command (and key) was made without the flags
    for a, b in zip(with_sched, without):
        np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))
