"""Host callbacks: primitives that call a Python function on their operands' values.

    pure_callback   results of `result_avals`; no effects (dead code when unused, as in JAX)
    io_callback     results of `result_avals`; effectful (kept, in program order)
    debug_callback  no results; effectful (debug.print and debug.callback)

The `callback` parameter is a `HostCallback`: the user's function on the flattened operands.
Eagerly it is called at once; under jit the compiled kernel calls it back (backend/
host_callbacks.py). It receives `jaxlite.Array`s and its results are checked against
`result_avals`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from jaxlite.array import _wrap
from jaxlite.core import ShapedArray
from jaxlite.primitives._base import _prim

pure_callback_p = _prim("pure_callback", multiple_results=True)
io_callback_p = _prim("io_callback", multiple_results=True)
debug_callback_p = _prim("debug_callback", multiple_results=True)
io_callback_p.effectful = True
debug_callback_p.effectful = True
CALLBACK_PRIMITIVES = (pure_callback_p, io_callback_p, debug_callback_p)


class HostCallback:
    """The Python function of one callback site, on flat operands (a primitive parameter).

    `fn(*arrays)` returns the flat results; `name` is what errors call it. Compared by identity:
    two sites are never merged, even with the same function.
    """

    __slots__ = ("fn", "name")

    def __init__(self, fn: Callable, name: str):
        self.fn = fn
        self.name = name

    def __call__(self, *arrays):
        return self.fn(*arrays)

    def __repr__(self) -> str:
        return f"<{self.name}>"


def _check_results(name: str, outs, result_avals) -> list[np.ndarray]:
    outs = list(outs)
    if len(outs) != len(result_avals):
        raise TypeError(
            f"{name}: the callback returned {len(outs)} arrays, but result_shape_dtypes "
            f"declares {len(result_avals)}"
        )
    res = []
    for k, (o, aval) in enumerate(zip(outs, result_avals)):
        o = np.asarray(o)
        if o.shape != aval.shape or o.dtype != aval.dtype:
            raise TypeError(
                f"{name}: result {k} of the callback has shape {o.shape} and dtype "
                f"{o.dtype.name}, but result_shape_dtypes declares {aval.str_short()}; "
                "return exactly the declared shapes and dtypes"
            )
        res.append(np.array(o, order="C"))
    return res


def run_callback(*args, callback: HostCallback, result_avals, **_):
    """Calls `callback` on NumPy operands (as Arrays); returns NumPy results."""
    outs = callback(*[_wrap(np.asarray(a), False) for a in args])
    return _check_results(callback.name, [] if outs is None else outs, result_avals)


def _callback_abstract(*avals, callback, result_avals, **_):
    return [ShapedArray(a.shape, a.dtype, False) for a in result_avals]


for _p in CALLBACK_PRIMITIVES:
    _p.def_impl(run_callback)
    _p.def_abstract_eval(_callback_abstract)
