"""Flattening user functions for the transformations (as JAX's `jax/_src/api_util.py`).

Transformations work on flat lists of arrays; users write functions of pytrees. `flatten_fun`
turns the one into the other and records the output structure when the function runs;
`argnums_partial` fixes the arguments that are not transformed (static or not differentiated).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jaxlite import tree_util
from jaxlite.tree_util import PyTreeDef
from jaxlite.util import safe_zip

__all__ = [
    "OutTree", "argnums_partial", "check_callable", "flatten_fun", "flatten_fun_nokwargs",
    "fun_name", "static_argnums_partial", "treedef_tuple",
]  # fmt: skip


class OutTree:
    """The output treedef of a flattened function: set when it runs, read by calling this."""

    __slots__ = ("tree",)

    def __init__(self):
        self.tree: PyTreeDef | None = None

    def __call__(self) -> PyTreeDef:
        if self.tree is None:
            raise RuntimeError("the output structure is known only after the function has run")
        return self.tree


def flatten_fun(fun: Callable, in_tree: PyTreeDef) -> tuple[Callable, OutTree]:
    """`fun(*args, **kwargs)` as a function of the leaves of `(args, kwargs)` (structure
    `in_tree`) returning the leaves of its output; `out_tree()` is their structure once it ran."""
    out_tree = OutTree()

    def flat_fun(*leaves):
        args, kwargs = tree_util.tree_unflatten(in_tree, leaves)
        out_leaves, out_tree.tree = tree_util.tree_flatten(fun(*args, **kwargs))
        return out_leaves

    return flat_fun, out_tree


def flatten_fun_nokwargs(fun: Callable, in_tree: PyTreeDef) -> tuple[Callable, OutTree]:
    """As `flatten_fun`, for `fun(*args)`: `in_tree` is the structure of the tuple `args`."""
    out_tree = OutTree()

    def flat_fun(*leaves):
        out_leaves, out_tree.tree = tree_util.tree_flatten(fun(*in_tree.unflatten(leaves)))
        return out_leaves

    return flat_fun, out_tree


def argnums_partial(
    fun: Callable, dyn_argnums: Sequence[int], args: Sequence, kwargs: dict | None = None
) -> Callable:
    """`fun` as a function of the positional arguments at `dyn_argnums` (non-negative); the
    others keep their values in `args`, and `kwargs` are passed on every call (keyword arguments
    of the call itself pass through too)."""
    fixed = kwargs or {}

    def f_partial(*dyn, **kw):
        full = list(args)
        for i, d in safe_zip(dyn_argnums, dyn):
            full[i] = d
        return fun(*full, **fixed, **kw)

    return f_partial


def static_argnums_partial(fun: Callable, static_argnums: Sequence[int], args: Sequence):
    """`(f_dyn, dyn_args)`: `fun` as a function of the arguments not in `static_argnums`
    (negative numbers count from the end; numbers past the end are ignored), and those
    arguments."""
    n = len(args)
    static = {i % n for i in static_argnums if -n <= i < n}
    dyn_argnums = [i for i in range(n) if i not in static]
    return argnums_partial(fun, dyn_argnums, args), [args[i] for i in dyn_argnums]


def fun_name(fun) -> str:
    """The name of a user function, for messages and jaxpr descriptions."""
    return getattr(fun, "__name__", type(fun).__name__)


def check_callable(fun, api_name: str) -> None:
    if not callable(fun):
        raise TypeError(f"{api_name}: Expected a callable value, got {fun!r}")


def treedef_tuple(trees: Sequence[PyTreeDef]) -> PyTreeDef:
    """The structure of a tuple whose elements have the structures `trees`."""
    return PyTreeDef(tuple, None, tuple(trees))
