"""The public transformations. Pytrees are flattened here and nowhere else."""

from __future__ import annotations

import functools
from typing import Any, Callable

from jaxlite import core, tree_util
from jaxlite.interpreters import staging


def _flat_fun(fun: Callable, in_tree, out_store: list):
    """`fun` on flat leaves; the output treedef is stored in `out_store`."""

    def flat(*leaves):
        args, kwargs = tree_util.tree_unflatten(in_tree, leaves)
        out = fun(*args, **kwargs)
        out_leaves, out_tree = tree_util.tree_flatten(out)
        out_store.append(out_tree)
        return out_leaves

    return flat


def make_jaxpr(fun: Callable, static_argnums=(), return_shape: bool = False) -> Callable:
    """Returns a function that traces `fun` and returns its `ClosedJaxpr`.

    Example:
      >>> jaxlite.make_jaxpr(lambda x: jnp.sin(x) * 2.0)(jnp.ones(3, jnp.float32))
      { lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = mul b 2.0:f32[] in (c,) }
    """
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)

    @functools.wraps(fun)
    def make(*args, **kwargs):
        static = {i: args[i] for i in static_argnums}
        dyn = [a for i, a in enumerate(args) if i not in static]

        def call(*dyn_args, **kw):
            it = iter(dyn_args)
            full = [static[i] if i in static else next(it) for i in range(len(args))]
            return fun(*full, **kw)

        leaves, in_tree = tree_util.tree_flatten((tuple(dyn), kwargs))
        avals = [core.get_aval(x) for x in leaves]
        store: list = []
        name = getattr(fun, "__name__", "fun")
        closed = staging.trace_to_jaxpr(
            _flat_fun(call, in_tree, store), avals, f"make_jaxpr of `{name}`"
        )
        if return_shape:
            shapes = [ShapeDtypeStruct(a.shape, a.dtype) for a in closed.out_avals]
            return closed, tree_util.tree_unflatten(store[0], shapes)
        return closed

    return make


class ShapeDtypeStruct:
    """A shape and dtype, standing in for an array (as in JAX)."""

    __slots__ = ("shape", "dtype", "weak_type")

    def __init__(self, shape, dtype, weak_type: bool = False):
        self.shape = tuple(shape)
        self.dtype = dtype
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
    _, shapes = make_jaxpr(fun, return_shape=True)(*args, **kwargs)
    return shapes
