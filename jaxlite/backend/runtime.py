"""NumPy <-> pointers: an `Executable` calls a compiled kernel on NumPy arrays.

Inputs must be C-contiguous arrays of the kernel's dtypes (`as_input` makes them so, without a
copy when they already are); outputs are allocated here with `np.empty` and filled by the kernel.
"""

from __future__ import annotations

import numpy as np

from jaxlite.backend import compile as _compile
from jaxlite.backend.lower import SYMBOL, Lowered

_from_buffer = _compile.ffi.from_buffer


class Executable:
    """A compiled jaxpr: `exe(*arrays) -> list of arrays`."""

    __slots__ = ("fn", "lowered", "library", "_consts", "_outs", "__weakref__")

    def __init__(self, lowered: Lowered, library: _compile.Library):
        self.lowered = lowered
        self.library = library
        self.fn = library.function(SYMBOL, lowered.ctype)
        self._consts = [_from_buffer(c) for c in lowered.consts]  # keeps the arrays alive
        self._outs = [(a.shape, a.dtype) for a in lowered.out_avals]

    def __call__(self, *args: np.ndarray) -> list[np.ndarray]:
        fb = _from_buffer
        outs = [np.empty(shape, dtype) for shape, dtype in self._outs]
        if self.fn(*[fb(a) for a in args], *self._consts, *[fb(o) for o in outs]):
            raise MemoryError("jit: the kernel could not allocate its workspace")
        return outs


def as_input(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """`x` as a C-contiguous array of `dtype`: `x` itself when it already is one."""
    if x.dtype == dtype and x.flags.c_contiguous:
        return x
    return np.ascontiguousarray(x, dtype)


def load(lowered: Lowered, salt: str = "") -> Executable:
    """Compiles (or finds in the cache) and loads `lowered`."""
    lib = _compile.load(lowered.source, salt=salt, blas=lowered.blas)
    return Executable(lowered, lib)
