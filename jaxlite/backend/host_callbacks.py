"""Compiled kernels calling back into Python: one cffi callback (the trampoline) for the whole
process, and a table of the Python functions kernels may call, by key.

A kernel with a host callback receives the trampoline's address and the function's key in a
constant array (so the C text, and the compile cache entry, do not depend on them), filled by
`fill_slots` when runtime loads the kernel. The
trampoline copies the operands into NumPy arrays, calls the function, and copies its results
into the kernel's buffers. An exception is kept (per thread) and the trampoline returns 1: the
kernel then frees its workspace and returns 2, and `runtime` raises the exception.

A function with `writes_outputs = "unguarded"` gets the same views without the read-only flag
on its inputs, their sizes computed once (the named-axis reductions, whose per-call cost this
trims: they only hand the buffers to MPI).

Cost: one call is ~ a cffi callback (GIL taken, arguments unpacked) plus the Python function:
`benchmarks/bench_callbacks.py` measures it.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable

import numpy as np

from jaxlite.backend.compile import ffi

# key -> (fn, [(shape, dtype) of inputs], [(shape, dtype) of outputs]). NB: kept for the
# process's life, one entry per lowered callback equation (a few per traced function).
_table: dict[int, tuple[Callable, list, list]] = {}
_keys = itertools.count(1)
_lock = threading.Lock()
_errors = threading.local()
_sized: dict[int, tuple[list, list]] = {}  # key -> (nbytes, dtype, shape) of ins, outs: unguarded

SIGNATURE = "int(*)(int64_t, void **, void **)"  # as kernels cast it (rules_callback.py)


def register(fn: Callable, in_specs: list, out_specs: list) -> int:
    """Enters `fn` (NumPy arrays of `in_specs` -> arrays of `out_specs`); returns its key."""
    with _lock:
        key = next(_keys)
        _table[key] = (fn, in_specs, out_specs)
        if getattr(fn, "writes_outputs", False) == "unguarded":
            _sized[key] = tuple(
                [(math.prod(s) * np.dtype(d).itemsize, np.dtype(d), tuple(s)) for s, d in specs]
                for specs in (in_specs, out_specs)
            )
    return key


def fill_slots(consts: list, host_calls) -> list:
    """`consts` with each callback's slot (an array in `host_calls`: (slot, fn, in_specs,
    out_specs)) replaced by [trampoline address, the key of `fn`]."""
    filled = {
        id(slot): np.array([ADDRESS, register(fn, ins, outs)], np.uint64)
        for slot, fn, ins, outs in host_calls
    }
    return [filled.get(id(c), c) for c in consts]


def _array(ptr, shape, dtype) -> np.ndarray:
    n = math.prod(shape) * dtype.itemsize
    if n == 0:
        return np.zeros(shape, dtype)
    return np.frombuffer(ffi.buffer(ptr, n), dtype).reshape(shape).copy()


def _view(ptr, shape, dtype, writable: bool) -> np.ndarray:
    n = math.prod(shape) * dtype.itemsize
    if n == 0:
        return np.zeros(shape, dtype)
    a = np.frombuffer(ffi.buffer(ptr, n), dtype).reshape(shape)
    a.flags.writeable = writable
    return a


def _plain(ptr, nbytes: int, dtype, shape) -> np.ndarray:
    if nbytes == 0:
        return np.zeros(shape, dtype)
    return np.frombuffer(ffi.buffer(ptr, nbytes), dtype).reshape(shape)


def _trampoline(key, ins, outs) -> int:
    try:
        fn, in_specs, out_specs = _table[key]
        how = getattr(fn, "writes_outputs", False)
        if how == "unguarded":  # NB: as below, without the read-only flags (sizes precomputed)
            ins_sized, outs_sized = _sized[key]
            fn([_plain(ins[i], *t) for i, t in enumerate(ins_sized)],
               [_plain(outs[j], *t) for j, t in enumerate(outs_sized)])  # fmt: skip
            return 0
        if how:
            # NB: no copies: `fn(inputs, outputs)` reads the kernel's buffers and writes its
            # results in place, during the call only (the named-axis collectives' MPI calls).
            fn([_view(ins[i], s, d, False) for i, (s, d) in enumerate(in_specs)],
               [_view(outs[j], s, d, True) for j, (s, d) in enumerate(out_specs)])  # fmt: skip
            return 0
        args = [_array(ins[i], s, d) for i, (s, d) in enumerate(in_specs)]
        results = fn(*args)
        for j, (r, (_, dtype)) in enumerate(zip(results, out_specs)):
            r = np.ascontiguousarray(r, dtype)
            if r.nbytes:
                ffi.memmove(outs[j], r, r.nbytes)
        return 0
    except BaseException as e:  # NB: nothing may unwind through C: kept and raised by runtime
        _errors.pending = e
        return 1


_c_trampoline = ffi.callback(SIGNATURE, _trampoline)
ADDRESS = int(ffi.cast("uintptr_t", _c_trampoline))


def take_error() -> BaseException | None:
    """The exception a callback raised in this thread (and forgets it), or None."""
    e = getattr(_errors, "pending", None)
    _errors.pending = None
    return e
