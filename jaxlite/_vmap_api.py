"""`vmap`: vectorizing a function over an axis of its arguments, and the checks of its `in_axes`
and `out_axes` with JAX's messages (re-exported by `jaxlite.api` and `jaxlite`)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

from jaxlite import api_util, core, tree_util
from jaxlite.interpreters import collective_rules  # noqa: F401  (registers their rules)
from jaxlite.interpreters import vmap as batching
from jaxlite.primitives import _collective
from jaxlite.util import safe_zip


def vmap(
    fun: Callable,
    in_axes=0,
    out_axes=0,
    axis_name=None,
    axis_size: int | None = None,
    spmd_axis_name=None,
) -> Callable:
    """Vectorizes `fun` over an axis of its arguments, with no Python loop (JAX's `vmap`).

    Args:
      fun: the function to map, written for one example. Its arguments and outputs are pytrees
        of arrays.
      in_axes: an int (negative allowed), None, or a tuple with one entry per positional argument,
        each entry a pytree prefix of that argument whose leaves are ints or None. An int is the
        axis to map over; None passes the argument unchanged to every example. Keyword
        arguments are always mapped over their axis 0.
      out_axes: the same kind of pytree prefix of the output: where each output's mapped axis
        goes (None: the output must not depend on the mapped inputs).
      axis_name: a name (a string) for the mapped axis, so that the collectives of
        `jaxlite.lax` (`psum`, `all_gather`, `axis_index`, ...) can refer to it inside `fun`.
        Nested vmaps bind several names.
      axis_size: the size of the mapped axis; needed only when no input is mapped.
      spmd_axis_name: JAX's sharding hint; jaxlite has one device per process, so only None is
        accepted.

    Returns:
      A function with the signature of `fun` whose outputs have an extra axis at `out_axes`.

    Example:
      >>> mv = lambda m, v: lax.dot(m, v)
      >>> mm = jaxlite.vmap(mv, in_axes=(None, 1), out_axes=1)  # matrix-matrix product
      >>> mm(jnp.ones((2, 3)), jnp.ones((3, 4))).shape
      (2, 4)
    """
    api_util.check_callable(fun, "jaxlite.vmap")
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)  # as JAX: a top-level list means one entry per argument
    if not (in_axes is None or type(in_axes) is int or isinstance(in_axes, tuple)):
        raise TypeError(
            "vmap in_axes must be an int, None, or a tuple of entries corresponding to the "
            f"positional arguments passed to the function, but got in_axes={in_axes!r}"
        )
    _check_axes_spec(in_axes, "in_axes")
    _check_axes_spec(out_axes, "out_axes")
    if axis_size is not None and (not isinstance(axis_size, int) or axis_size < 0):
        raise TypeError(f"vmap: axis_size must be a non-negative int, got {axis_size!r}")
    if axis_name is not None:
        _collective._check_name(axis_name, "vmap")
    if spmd_axis_name is not None:
        raise NotImplementedError(
            "jaxlite.vmap: spmd_axis_name (a sharding annotation) is not supported: jaxlite "
            "does not shard within a process; pass axis_name to name the axis for collectives"
        )
    description = f"vmap of `{getattr(fun, '__name__', 'fun')}`"

    @functools.wraps(fun)
    def vmapped(*args, **kwargs):
        leaves, in_tree = tree_util.tree_flatten((args, kwargs))
        dims = _vmap_in_dims(fun, in_axes, args, in_tree)
        dims, size = _vmap_check_axes(fun, leaves, dims, args, kwargs, axis_size)
        flat_fun, out_tree_of = api_util.flatten_fun(fun, in_tree)
        trace = batching.BatchTrace(core.current_trace(), size, description, axis_name)
        frame = None if axis_name is None else _collective.push_axis(axis_name, size)
        # NB: core.new_trace by hand (a contextmanager costs ~3 us per call).
        prev = core.swap_trace(trace)
        try:
            ins = [
                x if d is None else batching.BatchTracer(trace, x, d)
                for x, d in safe_zip(leaves, dims)
            ]
            out_pairs = [trace.to_val_dim(x) for x in flat_fun(*ins)]
        finally:
            core.swap_trace(prev)
            trace.finish()
            if frame is not None:
                _collective.pop_axis(frame)
        out_tree = out_tree_of()
        out_dims = _vmap_out_dims(out_axes, out_tree, out_pairs)
        results = [
            _vmap_place_output(v, d, want, size, out_tree, i)
            for i, ((v, d), want) in enumerate(safe_zip(out_pairs, out_dims))
        ]
        return tree_util.tree_unflatten(out_tree, results)

    return vmapped


def _is_none(x) -> bool:
    return x is None


def _check_axes_spec(spec, what: str) -> None:
    for leaf in tree_util.tree_leaves(spec, is_leaf=_is_none):
        if leaf is not None and (type(leaf) is not int):
            raise TypeError(
                f"vmap {what} must be an int, None, or a (nested) tuple/list/dict with those as "
                f"leaves, got {what}={spec!r} (leaf {leaf!r} of type {type(leaf).__name__})"
            )


def _vmap_in_dims(fun, in_axes, args, in_tree) -> list:
    """One entry of `in_axes` per leaf of `(args, kwargs)` (keyword arguments map over axis 0)."""
    if isinstance(in_axes, tuple):
        if len(in_axes) != len(args):
            raise ValueError(
                "vmap in_axes must be an int, None, or a tuple of entries corresponding to the "
                f"positional arguments passed to the function, but got len(in_axes)={len(in_axes)}"
                f", len(args)={len(args)}"
            )
        per_arg = in_axes
    else:
        per_arg = (in_axes,) * len(args)
    args_tree, kwargs_tree = in_tree.children
    dims: list = []
    for i, (spec, arg, arg_tree) in enumerate(safe_zip(per_arg, args, args_tree.children)):
        if spec is None or type(spec) is int:
            dims += [spec] * arg_tree.num_leaves
        else:
            where = lambda i=i: f"argument {_arg_name(fun, i)}"
            dims += _prefix_leaves(spec, arg, where, "in_axes")
    return dims + [0] * kwargs_tree.num_leaves


def _prefix_leaves(spec, tree, where: Callable[[], str], what: str) -> list:
    if spec is None or type(spec) is int:
        return [spec] * len(tree_util.tree_leaves(tree))
    spec_leaves, spec_tree = tree_util.tree_flatten(spec, is_leaf=_is_none)
    try:
        subtrees = spec_tree.flatten_up_to(tree)
    except ValueError as e:
        raise ValueError(
            f"vmap {what} specification must be a tree prefix of the corresponding value, got "
            f"specification {spec!r} for {where()} with structure "
            f"{tree_util.tree_structure(tree)} ({e})"
        ) from None
    return [ax for ax, sub in safe_zip(spec_leaves, subtrees) for _ in tree_util.tree_leaves(sub)]


def _arg_name(fun, i: int) -> str:
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        params = []
    if i < len(params) and params[i].kind in (
        params[i].POSITIONAL_ONLY,
        params[i].POSITIONAL_OR_KEYWORD,
    ):
        return f"`{params[i].name}` (args[{i}])"
    return f"args[{i}]"


def _leaf_paths(fun, args, kwargs) -> list[str]:
    """A readable path for each leaf of `(args, kwargs)`, for error messages."""
    pairs, _ = tree_util.tree_flatten_with_path((args, kwargs))
    out = []
    for path, _ in pairs:
        head = _arg_name(fun, path[1].idx) if path[0].idx == 0 else f"kwargs[{path[1].key!r}]"
        out.append(head + tree_util.keystr(path[2:]))
    return out


def _vmap_check_axes(fun, leaves, dims, args, kwargs, axis_size):
    """Canonical (non-negative) axes and the mapped size; raises JAX's errors."""
    canon, shapes, sizes = [], [], set() if axis_size is None else {axis_size}
    for i, (x, d) in enumerate(safe_zip(leaves, dims)):
        if d is None:
            canon.append(None)
            shapes.append(None)
            continue
        shape = core.get_aval(x).shape  # NB: a clear TypeError for a string, a complex, ...
        if not -len(shape) <= d < len(shape):
            where = _leaf_paths(fun, args, kwargs)[i]
            raise ValueError(
                f"vmap was requested to map its argument {where} along axis {d}, which implies "
                f"that its rank should be at least {d + 1 if d >= 0 else -d}, but is only "
                f"{len(shape)} (its shape is {tuple(shape)})"
            )
        d %= len(shape)
        canon.append(d)
        shapes.append(shape)
        sizes.add(shape[d])
    if len(sizes) == 1:
        return canon, sizes.pop()
    if not sizes:
        raise ValueError(
            "vmap must have at least one non-None value in in_axes, or be given axis_size "
            "(no argument is mapped, so the size of the mapped axis is unknown)"
        )
    paths = _leaf_paths(fun, args, kwargs)
    lines = [f"  * axis_size={axis_size}"] if axis_size is not None else []
    for path, x, s, d in safe_zip(paths, leaves, shapes, canon):
        if d is not None:
            lines.append(f"  * {path}: axis {d} of {core.get_aval(x).str_short()} has size {s[d]}")
    raise ValueError(
        "vmap got inconsistent sizes for array axes to be mapped:\n" + "\n".join(lines)
    )


def _vmap_out_dims(out_axes, out_tree, out_pairs: list) -> list:
    if out_axes is None or type(out_axes) is int:
        return [out_axes] * out_tree.num_leaves
    out = out_tree.unflatten([v for v, _ in out_pairs])
    return _prefix_leaves(out_axes, out, lambda: "the output", "out_axes")


def _vmap_place_output(val, dim, want, size: int, out_tree, i: int):
    """The output `val` (batched at `dim`) with its batch axis at `want` (an out_axes entry)."""
    if want is None:
        if dim is not None:
            raise ValueError(
                f"vmap has mapped output but out_axes is None (output leaf {i} of {out_tree} "
                "depends on the mapped inputs)"
            )
        return val
    shape = batching.shape_of(val)
    rank = len(shape) + (dim is None)
    if not -rank <= want < rank:
        example = shape if dim is None else shape[:dim] + shape[dim + 1 :]
        raise ValueError(
            f"vmap out_axes={want} is out of range for output leaf {i} of {out_tree}: its "
            f"per-example shape is {tuple(example)}, so the mapped output has rank {rank} and "
            f"accepts axes in [{-rank}, {rank - 1}]"
        )
    return batching.matchaxis(size, dim, want % rank, val)
