"""NumPy <-> pointers: an `Executable` calls a compiled kernel on NumPy arrays.

Inputs must be C-contiguous arrays of the kernel's dtypes (`as_input` makes them so, without a
copy when they already are); outputs are allocated here with `np.empty` and filled by the kernel.
"""

from __future__ import annotations

import numpy as np

from jaxlite.backend import compile as _compile
from jaxlite.backend import host_callbacks
from jaxlite.backend.lower import SYMBOL, Lowered

_from_buffer = _compile.ffi.from_buffer


class Executable:
    """A compiled jaxpr: `exe(*arrays) -> list of arrays`."""

    __slots__ = ("__weakref__", "_consts", "call", "fn", "library", "lowered")

    def __init__(self, lowered: Lowered, library: _compile.Library):
        self.lowered = lowered
        self.library = library
        self.fn = library.function(SYMBOL, lowered.ctype)
        consts = host_callbacks.fill_slots(lowered.consts, lowered.host_calls)
        self._consts = [_from_buffer(c) for c in consts]  # keeps the arrays alive
        outs = [(a.shape, a.dtype) for a in lowered.out_avals]
        self.call = _calling(self.fn, self._consts, outs, len(lowered.in_avals))

    def __call__(self, *args: np.ndarray) -> list[np.ndarray]:
        return self.call(*args)


def _fail(status: int):
    if status == 2:  # a host callback raised: its exception, as raised in Python
        error = host_callbacks.take_error()
        if error is not None:
            raise error
    raise MemoryError("jit: the kernel could not allocate its workspace")


_ARGS = _compile.ffi.typeof("void *[]")  # the kernel's argument array (lower.py)
_new = _compile.ffi.new


def _calling(fn, consts, outs, n_in: int):
    """The function that calls `fn` on arrays: the jit dispatch fast path, so the common case
    (one input, one output, no constants) skips the generic argument lists.

    NB: every kernel takes one array of addresses (inputs, constants, outputs). Building it
    with `ffi.new` costs ~0.2 us per call more than passing two pointers as arguments did
    (CPU time, this 2-core EPYC); the fast path reuses arrays from a free list instead (+0.07
    us): a thread takes one (or makes one when others hold them all: the GIL is released
    during the call) and gives it back after the call."""
    fb, new, args_t = _from_buffer, _new, _ARGS
    if not consts and len(outs) == 1:
        ((shape, dtype),) = outs
        if n_in == 1:
            free = [new("void *[2]")]

            def call(a):
                out = np.empty(shape, dtype)
                try:
                    p = free.pop()
                except IndexError:
                    p = new("void *[2]")
                ca, co = fb(a), fb(out)  # NB: alive until the call returns
                p[0] = ca
                p[1] = co
                status = fn(p)
                free.append(p)
                if status:
                    _fail(status)
                return [out]

            return call

        def call(*args):
            out = np.empty(shape, dtype)
            status = fn(new(args_t, [*[fb(a) for a in args], fb(out)]))
            if status:
                _fail(status)
            return [out]

        return call

    def call(*args):
        res = [np.empty(shape, dtype) for shape, dtype in outs]
        status = fn(new(args_t, [*[fb(a) for a in args], *consts, *[fb(o) for o in res]]))
        if status:
            _fail(status)
        return res

    return call


def as_input(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """`x` as a C-contiguous array of `dtype`: `x` itself when it already is one."""
    if x.dtype == dtype and x.flags.c_contiguous:
        return x
    return np.ascontiguousarray(x, dtype)


def load(lowered: Lowered, salt: str = "") -> Executable:
    """Compiles (or finds in the cache) and loads `lowered`."""
    lib = _compile.load(lowered.source, salt=salt, runtime=lowered.runtime, openmp=lowered.openmp)
    return Executable(lowered, lib)
