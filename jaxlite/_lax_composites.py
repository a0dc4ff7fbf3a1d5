"""lax's composites over pytrees: `associative_scan` (the parallel prefix scan of
primitives/_slicing.py on the leaves) and `reduce`.

lax.reduce: a reduction with any associative `computation` over pytrees of operands.

As JAX, a single operand reduced by lax.add/mul/max/min (bitwise_and/or on bools) from that
operation's identity is the specialized reduction (reduce_sum, ...). Any other computation is a
composite, not a primitive with a jaxpr parameter: a pairwise tree of `vmap(computation)` over
strided halves (the order JAX's own jvp rule of reduce uses: O(log n) steps, each elementwise
over all rows), then `computation(init, total)` (XLA's CPU loop also starts from init, so an
init that is not an identity counts once, as there; a reduction of one element is that element,
as XLA's). JAX requires an associative computation; a non-associative one gives what this order
gives, not XLA's left fold. jvp, vmap and C lowering come from the pieces.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as P
from jaxlite import tree_util
from jaxlite._vmap_api import vmap
from jaxlite.core import Tracer, get_aval
from jaxlite.primitives._base import _canonicalize_axis, _check_axes, operator_index
from jaxlite.primitives._slicing import prefix_scan


def _max_identity(dt: np.dtype):
    return -np.inf if dtypes.is_float(dt) else False if dt.kind == "b" else np.iinfo(dt).min


def _min_identity(dt: np.dtype):
    return np.inf if dtypes.is_float(dt) else True if dt.kind == "b" else np.iinfo(dt).max


def _monoid_reducer(computation, ops, inits):
    """The specialized reduction that `computation` from `inits` is, or None (JAX's rule)."""
    if len(ops) != 1 or isinstance(inits[0], Tracer):
        return None
    init = np.asarray(inits[0])
    if init.shape != ():
        return None
    dt = get_aval(ops[0]).dtype
    table = [
        (P.add, P.reduce_sum, 0),
        (P.mul, P.reduce_prod, 1),
        (P.max, P.reduce_max, _max_identity(dt)),
        (P.min, P.reduce_min, _min_identity(dt)),
    ]
    if dt.kind == "b":
        table += [(P.bitwise_or, P.reduce_or, False), (P.bitwise_and, P.reduce_and, True)]
    face = getattr(computation, "__module__", None) == "jaxlite.lax"  # lax's dtype-checking face
    for op, reducer, identity in table:
        if computation is op or (face and computation.__name__ == op.__name__):
            return reducer if np.equal(init, identity) else None
    return None


def _init_like(init, aval, name: str):
    """`init` as a 0-d value of the operand's dtype: Python scalars take it (weakly), arrays must
    have it already."""
    if type(init) in (bool, int, float):
        return P.convert_element_type(np.asarray(init, aval.dtype), aval.dtype)
    iv = get_aval(init)
    if iv.shape != ():
        raise TypeError(f"{name}: init values must be scalars, got shape {iv.shape}")
    if iv.dtype != aval.dtype:
        raise TypeError(
            f"{name}: operand dtypes should match the corresponding init value dtypes, got "
            f"{aval.dtype.name} and {iv.dtype.name}"
        )
    return init


def reduce(operands, init_values, computation: Callable, dimensions):
    """lax.reduce: reduces `operands` (a pytree of arrays of one shape) over `dimensions` with
    `computation(a, b)` (pytrees like `operands` of scalars), starting from `init_values`."""
    ops, tree = tree_util.tree_flatten(operands)
    inits, init_tree = tree_util.tree_flatten(init_values)
    if tree != init_tree:
        raise ValueError(
            "reduce: operands must have the same tree structure as init_values: "
            f"{tree} vs. {init_tree}"
        )
    if not ops:
        raise ValueError("reduce: no operands")
    avals = [get_aval(x) for x in ops]
    shape = avals[0].shape
    if any(a.shape != shape for a in avals):
        raise ValueError(f"reduce: operands must have one shape, got {[a.shape for a in avals]}")
    dims = _check_axes(
        "reduce",
        [_canonicalize_axis(operator_index(d), len(shape), "reduce") for d in dimensions],
        shape,
    )
    reducer = _monoid_reducer(computation, ops, inits)
    if reducer is not None:
        out = reducer(ops[0], dims)
        weak = avals[0].weak_type and not isinstance(inits[0], np.ndarray | np.generic)
        if get_aval(out).weak_type != weak:
            out = P.convert_element_type_p.bind(out, new_dtype=avals[0].dtype, weak_type=weak)
        return tree_util.tree_unflatten(tree, [out])
    inits = [_init_like(i, a, "reduce") for i, a in zip(inits, avals)]
    if not dims:  # nothing reduced: XLA does not apply the computation at all
        return operands
    outs = _tree_reduce(computation, tree, ops, inits, dims, shape)
    return tree_util.tree_unflatten(tree, outs)


def pairwise(name: str, computation, tree, dtypes_):
    """`computation` on flat lists of scalars (the accumulators, then the new elements), checking
    that it returns scalars of the operands' structure and dtypes (lax.reduce, reduce_window)."""
    m = len(dtypes_)

    def pair(*vals):
        out = computation(
            tree_util.tree_unflatten(tree, vals[:m]), tree_util.tree_unflatten(tree, vals[m:])
        )
        leaves, out_tree = tree_util.tree_flatten(out)
        if out_tree != tree:
            raise TypeError(
                f"{name}: computation must return the structure of the operands ({tree}), "
                f"got {out_tree}"
            )
        for leaf, dt in zip(leaves, dtypes_):
            av = get_aval(leaf)
            if av.shape != () or av.dtype != dt:
                raise TypeError(
                    f"{name}: computation must return scalars of the operands' dtypes "
                    f"{[d.name for d in dtypes_]}, got {av.str_short()}"
                )
        return leaves

    return pair


def _tree_reduce(computation, tree, ops, inits, dims, shape):
    kept = [d for d in range(len(shape)) if d not in dims]
    out_shape = tuple(shape[d] for d in kept)
    rows, n = math.prod(out_shape), math.prod(shape[d] for d in dims)
    dtypes_ = [get_aval(x).dtype for x in ops]
    if rows == 0 or n == 0:
        return [P.broadcast_in_dim(i, out_shape, ()) for i in inits]
    if n == 1:  # XLA reshapes a reduction of one element: the computation is not applied
        return [P.reshape(x, out_shape) for x in ops]
    pair = pairwise("reduce", computation, tree, dtypes_)

    vpair = vmap(pair)

    def combine(a, b):  # lists of (rows, k) arrays
        k = get_aval(a[0]).shape[1]
        flat = [P.reshape(v, (rows * k,)) for v in a + b]
        return [P.reshape(o, (rows, k)) for o in vpair(*flat)]

    def cols(xs, start, limit, stride=1):
        return [P.slice(x, (0, start), (rows, limit), (1, stride)) for x in xs]

    xs = [P.reshape(P.transpose(x, tuple(kept) + dims), (rows, n)) for x in ops]
    while n > 1:
        half = n // 2
        ys = combine(cols(xs, 0, 2 * half, 2), cols(xs, 1, 2 * half, 2))
        if n % 2:
            ys = [P.concatenate([y, last], 1) for y, last in zip(ys, cols(xs, n - 1, n))]
        xs, n = ys, half + n % 2
    starts = [P.broadcast_in_dim(i, (rows, 1), ()) for i in inits]
    return [P.reshape(x, out_shape) for x in combine(starts, xs)]


def associative_scan(fn: Callable, elems, reverse: bool = False, axis: int = 0):
    """lax.associative_scan: the inclusive scan of the pytree `elems` along `axis` with the
    associative `fn(a, b)` (elementwise over arrays of leading size k), in O(log n) depth by the
    odd/even recursion of JAX (so results equal JAX's up to rounding, and derivatives flow
    through the slices)."""
    leaves, tree = tree_util.tree_flatten(elems)
    if not leaves:
        raise ValueError("associative_scan: elems has no arrays")
    avals = [get_aval(x) for x in leaves]
    if any(a.ndim == 0 for a in avals):
        raise ValueError(
            "associative_scan: every leaf of elems needs at least one dimension, got shapes "
            f"{[a.shape for a in avals]}"
        )
    axis = _canonicalize_axis(operator_index(axis), avals[0].ndim, "associative_scan")
    n = avals[0].shape[axis]
    if any(a.ndim <= axis or a.shape[axis] != n for a in avals):
        raise ValueError(
            "associative_scan: array inputs must have the same size along axis "
            f"{axis}, got shapes {[a.shape for a in avals]}"
        )

    def combine(a, b):
        out = fn(tree_util.tree_unflatten(tree, a), tree_util.tree_unflatten(tree, b))
        out_leaves, out_tree = tree_util.tree_flatten(out)
        if out_tree != tree:
            raise TypeError(
                f"associative_scan: fn must return the structure of elems ({tree}), got {out_tree}"
            )
        return out_leaves

    return tree_util.tree_unflatten(tree, prefix_scan(combine, leaves, axis, reverse))
