"""Tracing without evaluating: `make_jaxpr`, `eval_shape` and `ShapeDtypeStruct` (re-exported
by `jaxlite.api` and `jaxlite`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from jaxlite import api_util, core, dtypes, tree_util
from jaxlite.interpreters import staging


def make_jaxpr(fun: Callable, static_argnums=(), return_shape: bool = False) -> Callable:
    """Returns a function that traces `fun` and returns its `ClosedJaxpr`.

    Example:
      >>> jaxlite.make_jaxpr(lambda x: jnp.sin(x) * 2.0)(jnp.ones(3, jnp.float32))
      { lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = mul b 2.0:f32[] in (c,) }
    """
    api_util.check_callable(fun, "jaxlite.make_jaxpr")
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    name = getattr(fun, "__name__", "fun")

    @functools.wraps(fun)
    def make(*args, **kwargs):
        f_dyn, dyn = api_util.static_argnums_partial(fun, static_argnums, args)
        leaves, in_tree = tree_util.tree_flatten((tuple(dyn), kwargs))
        avals = [_abstractify(x) for x in leaves]
        flat_fun, out_tree = api_util.flatten_fun(f_dyn, in_tree)
        closed = staging.trace_to_jaxpr(flat_fun, avals, f"make_jaxpr of `{name}`")
        if return_shape:
            shapes = [ShapeDtypeStruct(a.shape, a.dtype) for a in closed.out_avals]
            return closed, tree_util.tree_unflatten(out_tree(), shapes)
        return closed

    return make


def _abstractify(x) -> core.ShapedArray:
    """The abstract value of an argument; a ShapeDtypeStruct stands in for an array."""
    if type(x) is ShapeDtypeStruct:
        return core.ShapedArray(x.shape, x.dtype, x.weak_type)
    return core.get_aval(x)


class ShapeDtypeStruct:
    """A shape and dtype, standing in for an array (as in JAX).

    Example:
      >>> jaxlite.eval_shape(jnp.sin, jaxlite.ShapeDtypeStruct((3,), jnp.float32))
      ShapeDtypeStruct(shape=(3,), dtype=float32)
    """

    __slots__ = ("dtype", "shape", "weak_type")

    def __init__(self, shape, dtype, weak_type: bool = False):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = dtypes.canonicalize(dtype, "ShapeDtypeStruct")
        self.weak_type = weak_type

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __repr__(self) -> str:
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name})"

    def __eq__(self, other) -> bool:
        return isinstance(other, ShapeDtypeStruct) and (self.shape, self.dtype) == (
            other.shape,
            other.dtype,
        )

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype))


def eval_shape(fun: Callable, *args, **kwargs) -> Any:
    """The shapes and dtypes of `fun(*args)`, computed by tracing, without running it."""
    api_util.check_callable(fun, "jaxlite.eval_shape")
    _, shapes = make_jaxpr(fun, return_shape=True)(*args, **kwargs)
    return shapes
