"""Host callbacks, JAX's faces: `pure_callback`, `experimental.io_callback`, `debug.callback` and
`debug.print`. Each flattens its arguments, binds one callback primitive
(primitives/_callback.py) and unflattens the results. They work eagerly and under jit (the
compiled kernel calls back into Python), vmap, grad and the loops.
"""

from __future__ import annotations

import string
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from jaxlite import tree_util
from jaxlite.array import Array
from jaxlite.core import ShapedArray, Tracer
from jaxlite.dtypes import PYTHON_SCALAR_DTYPES, canonicalize
from jaxlite.primitives._callback import (
    HostCallback,
    debug_callback_p,
    io_callback_p,
    pure_callback_p,
)

VMAP_METHODS = ("sequential", "sequential_unrolled", "expand_dims", "broadcast_all",
                "legacy_vectorized", None)  # fmt: skip


def _result_avals(name: str, result_shape_dtypes):
    leaves, tree = tree_util.tree_flatten(result_shape_dtypes)
    avals = []
    for leaf in leaves:
        if not (hasattr(leaf, "shape") and hasattr(leaf, "dtype")):
            raise TypeError(
                f"{name}: result_shape_dtypes must be a pytree of objects with .shape and .dtype "
                f"(jaxlite.ShapeDtypeStruct, arrays), got {leaf!r}"
            )
        avals.append(ShapedArray(tuple(leaf.shape), canonicalize(np.dtype(leaf.dtype), name)))
    return tuple(avals), tree


def _flat_callback(name, callback, in_tree, static=None) -> HostCallback:
    """`callback` on flat operands (`static`: position -> a non-array argument kept as is)."""

    def flat(*arrays):
        leaves, it = [], iter(arrays)
        n = len(arrays) + len(static or {})
        for i in range(n):
            leaves.append(static[i] if static and i in static else next(it))
        args, kwargs = tree_util.tree_unflatten(in_tree, leaves)
        return tree_util.tree_leaves(callback(*args, **kwargs))

    return HostCallback(flat, name)


def _is_dynamic(x) -> bool:
    return isinstance(x, (Array, Tracer, np.ndarray, np.generic)) or type(x) in PYTHON_SCALAR_DTYPES


def pure_callback(callback, result_shape_dtypes, *args, sharding=None, vmap_method=None,
                  **kwargs):  # fmt: skip
    """Calls the pure Python function `callback(*args, **kwargs)` from traced code.

    Args:
      callback: receives `jaxlite.Array`s; returns arrays of `result_shape_dtypes`.
      result_shape_dtypes: a pytree of `jaxlite.ShapeDtypeStruct`s (or arrays) declaring the
        results' shapes and dtypes.
      vmap_method: under vmap, "sequential"/"sequential_unrolled" call `callback` once per
        element, "expand_dims" adds a size-1 leading axis to unbatched arguments,
        "broadcast_all" broadcasts them to the batch, "legacy_vectorized" passes them as they
        are; None raises under vmap (JAX 0.10).

    Pure callbacks may be dropped when their results are unused, and have no derivative (wrap
    them in `jaxlite.custom_jvp`). Under jit the compiled kernel calls back into Python.

    Example:
      >>> pure_callback(lambda x: np.sin(x), jaxlite.ShapeDtypeStruct((), "float64"), 1.0)
      Array(0.84147098, dtype=float64)
    """
    del sharding
    if vmap_method not in VMAP_METHODS:
        raise ValueError(
            f"vmap_method must be on of the allowed methods {list(VMAP_METHODS)}, but got: "
            f"{vmap_method}"
        )
    flat_args, in_tree = tree_util.tree_flatten((args, kwargs))
    avals, out_tree = _result_avals("jaxlite.pure_callback", result_shape_dtypes)
    outs = pure_callback_p.bind(
        *flat_args,
        callback=_flat_callback("jaxlite.pure_callback", callback, in_tree),
        result_avals=avals,
        vmap_method=vmap_method,
    )
    return tree_util.tree_unflatten(out_tree, outs)


def io_callback(callback, result_shape_dtypes, *args, sharding=None, ordered=False, **kwargs):
    """Calls the impure Python function `callback(*args, **kwargs)` from traced code: never
    dropped, called in program order; no derivative; under vmap once per element (an
    `ordered` one cannot be vmapped, as in JAX)."""
    del sharding
    flat_args, in_tree = tree_util.tree_flatten((args, kwargs))
    avals, out_tree = _result_avals("jaxlite.experimental.io_callback", result_shape_dtypes)
    outs = io_callback_p.bind(
        *flat_args,
        callback=_flat_callback("jaxlite.experimental.io_callback", callback, in_tree),
        result_avals=avals,
        ordered=bool(ordered),
    )
    return tree_util.tree_unflatten(out_tree, outs)


def _bind_debug(name: str, callback: Callable, args, kwargs, ordered: bool) -> None:
    flat, in_tree = tree_util.tree_flatten((args, kwargs))
    static = {i: x for i, x in enumerate(flat) if not _is_dynamic(x)}
    dynamic = [x for i, x in enumerate(flat) if i not in static]

    def call(*a, **k):
        callback(*a, **k)
        return ()

    debug_callback_p.bind(
        *dynamic,
        callback=_flat_callback(name, call, in_tree, static),
        result_avals=(),
        ordered=bool(ordered),
    )


def debug_callback(callback: Callable | None = None, *args: Any, ordered: bool = False,
                   partitioned: bool = False, **kwargs: Any):  # fmt: skip
    """Calls `callback(*args, **kwargs)` (returning None) from traced code, with the values
    of array arguments: eagerly, under jit (from the compiled kernel), under vmap once per
    batch element, under grad with the primal values (tangents are not passed on).

    Two forms, as JAX: `debug.callback(f, *args)` and `debug.callback(ordered=True)(f, *args)`.
    """
    del partitioned

    def bind(callback, *c_args, **c_kwargs):
        if not callable(callback):
            raise TypeError(
                "first argument to jaxlite.debug.callback must be callable, but got an object "
                f"of type {type(callback)}"
            )
        _bind_debug("jaxlite.debug.callback", callback, c_args, c_kwargs, ordered)

    if callback is not None:
        return bind(callback, *args, **kwargs)
    if args or kwargs:
        raise TypeError(
            f"debug_callback received unexpected arguments in the two-call form: {args=} {kwargs=}"
        )
    return bind


class _FormatChecker(string.Formatter):
    """Checks a format string against its arguments without formatting (JAX's messages)."""

    def format_field(self, value, format_spec):
        return ""

    def check_unused_args(self, used_args, args, kwargs):
        unused = [a for i, a in enumerate(args) if i not in used_args]
        if unused:
            raise ValueError(f"Unused positional arguments to `jax.debug.print`: {unused}")
        unused_kw = [k for k in kwargs if k not in used_args]
        if unused_kw:
            raise ValueError(
                f"Unused keyword arguments to `jax.debug.print`: {unused_kw}. You may be "
                'passing an f-string (i.e, `f"{x}"`) into `jax.debug.print` and instead should '
                "pass in a regular string."
            )


def _print_message(fmt: str, has_fields: bool, options: dict, *args, **kwargs) -> None:
    if has_fields:
        with np.printoptions(**options):
            msg = fmt.format(*args, **kwargs)
    else:
        msg = " ".join((fmt, *(str(a) for a in args)))
    sys.stdout.write(msg + "\n")


def debug_print(fmt: str | None = None, *args, ordered: bool = False, partitioned: bool = False,
                skip_format_check: bool = False, **kwargs):  # fmt: skip
    """Prints `fmt.format(*args, **kwargs)` with the arguments' values, eagerly and from
    traced code (jit, vmap: once per element, grad: the primals, scan/while bodies: each
    iteration), in program order. Not an f-string: `debug.print("x={x}", x=x)`.

    Example:
      >>> jaxlite.jit(lambda x: jaxlite.debug.print("x = {:.2f}", x) or x)(1.0)
      x = 1.00
      Array(1., dtype=float64, weak_type=True)
    """
    del partitioned

    def bind(fmt: str, *c_args, **c_kwargs):
        if not skip_format_check:
            _FormatChecker().format(fmt, *c_args, **c_kwargs)
        has_fields = bool(fmt) and next(iter(string.Formatter().parse(fmt)))[1] is not None
        options = dict(np.get_printoptions())

        def show(*a, **k):
            _print_message(fmt, has_fields, options, *a, **k)

        _bind_debug("jaxlite.debug.print", show, c_args, c_kwargs, ordered)

    if fmt is not None:
        return bind(fmt, *args, **kwargs)
    if args or kwargs:
        raise TypeError(
            f"debug_print received unexpected arguments in the two-call form: {args=} {kwargs=}"
        )
    return bind
