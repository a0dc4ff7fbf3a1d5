"""Named-axis collectives (JAX's `lax.psum`, `all_gather`, ...), and the axis environment that
binds their names.

A collective names a mapped axis (`vmap(..., axis_name="i")` or `pmap(..., axis_name="i")`). The
axis environment is a per-thread stack of frames `(name, size, comm)`, pushed while a mapped
function is traced or run:

- a `vmap` frame (`comm` None): the collective is resolved by the batching trace of that name
  (interpreters/collective_rules.py), where it becomes an ordinary reduction, gather or
  transpose over the batch axis; it never reaches an implementation.
- a `pmap` frame: `comm` is an object with `rank`, `size` and the NumPy collectives
  `allreduce(x, op)`, `allgather(x)`, `alltoall(chunks)`, `ppermute(x, perm)` (one process: the
  trivial communicator of `_pmap`; over MPI: `distributed`). The eager implementations below,
  and the compiled kernels through a host call (backend/rules_collective.py), run them.

A collective on a name no frame binds raises JAX's `NameError`.

Every rank must issue the same MPI calls in the same order, whichever way it runs a traced
program: compiled (the kernel's host calls), or evaluated with NumPy (`jit`'s fallback when a
kernel cannot be compiled, which may happen on one rank only, e.g. the compiler could not be
started). So the implementations decide whether to compare the operands' shapes across ranks by
one rule, not by the path: within a traced program (`in_kernel()`) they do not (pmap compared its
shards' shapes before running it); op by op (`disable_jit`, multihost_utils) they do.

    psum / pmax / pmin  x, axes=(names...), axis_index_groups          same shape
    all_gather          x, axis_name, axis, tiled, axis_size, axis_index_groups
    reduce_scatter      x, axis_name, scatter_dimension, tiled, axis_size, axis_index_groups
                        (lax.psum_scatter)
    all_to_all          x, axis_name, split_axis, concat_axis, tiled, axis_size, axis_index_groups

`axis_index_groups` (None, or a tuple of equal-sized tuples of indices covering the axis): each
group runs the collective among its own examples (`axis_size` is then the group's size); over
MPI on a sub-communicator of the group's ranks (`MPIComm.group`).
    ppermute            x, axis_name, perm=((src, dst), ...)
    axis_index          axis_name                        int32 scalar
"""

from __future__ import annotations

import math
import operator
import threading
from collections.abc import Hashable

import numpy as np

from jaxlite import dtypes
from jaxlite.array import Array, _wrap
from jaxlite.core import ShapedArray, Tracer, get_aval
from jaxlite.primitives._base import _prim
from jaxlite.primitives._elementwise import add, convert_element_type, div, mul
from jaxlite.primitives._reductions import reduce_max, reduce_min, reduce_sum
from jaxlite.primitives._shape import broadcast_in_dim, concatenate, reshape
from jaxlite.primitives._slicing import dynamic_index_in_dim

# ------------------------------------------------------------------------------------------
# The axis environment
# ------------------------------------------------------------------------------------------


class AxisFrame:
    """One bound axis name: its size, and its communicator (None for a vmap axis)."""

    __slots__ = ("comm", "name", "size")

    def __init__(self, name, size: int, comm=None):
        self.name = name
        self.size = size
        self.comm = comm


class _Env(threading.local):
    def __init__(self):
        self.frames: list[AxisFrame] = []


_env = _Env()


class _Kernel(threading.local):
    depth = 0


_kernel = _Kernel()


class in_kernel:
    """Within this context (in this thread), the collectives run as parts of a traced program
    (a kernel, compiled or evaluated with NumPy): no per-collective shape check across ranks."""

    __slots__ = ()

    def __enter__(self):
        _kernel.depth += 1

    def __exit__(self, *exc):
        _kernel.depth -= 1


def _check() -> bool:
    """Whether a collective compares its operand's shape across ranks (outside kernels only)."""
    return _kernel.depth == 0


def push_axis(name, size: int, comm=None) -> AxisFrame:
    """Binds `name` (innermost) until `pop_axis(frame)`."""
    frame = AxisFrame(name, size, comm)
    _env.frames.append(frame)
    return frame


def pop_axis(frame: AxisFrame) -> None:
    frames = _env.frames
    if not frames or frames[-1] is not frame:
        raise AssertionError("axis environment pushed and popped out of order")
    frames.pop()


def env_key() -> tuple:
    """The bound names and sizes, for caches of traces that may depend on them."""
    frames = _env.frames
    if not frames:
        return ()
    return tuple((f.name, f.size, f.comm is None) for f in frames)


def spanning_comm():
    """The communicator of the innermost bound axis that spans several processes (a pmap axis
    over MPI ranks), or None: code that may take a different path on one rank than on the
    others (a re-run on a NaN) must first agree with the other ranks over it."""
    for f in reversed(_env.frames):
        if f.comm is not None and f.comm.size > 1:
            return f.comm
    return None


def bound_names() -> list:
    return [f.name for f in _env.frames]


def axis_frame(name, what: str) -> AxisFrame:
    """The innermost frame binding `name`; JAX's NameError if none does."""
    for frame in reversed(_env.frames):
        if frame.name == name:
            return frame
    raise NameError(
        f"Found an unbound axis name: {name}. To fix this, please call {what} under "
        f"`jaxlite.vmap(..., axis_name={name!r})` or `jaxlite.pmap(..., axis_name={name!r})` "
        f"(axis names bound here: {bound_names()})"
    )


def _check_name(name, what: str):
    if isinstance(name, (int, np.integer, Tracer, Array, np.ndarray)) or not isinstance(
        name, Hashable
    ):
        raise TypeError(
            f"{what}: axis_name must be a hashable name of a mapped axis (a string), got "
            f"{name!r}; positional axes are not supported by jaxlite's collectives"
        )
    return name


def _names(axis_name, what: str) -> tuple:
    names = tuple(axis_name) if isinstance(axis_name, (tuple, list)) else (axis_name,)
    for n in names:
        _check_name(n, what)
    return names


def _single(axis_name, what: str):
    names = _names(axis_name, what)
    if len(names) != 1:
        raise NotImplementedError(
            f"{what}: jaxlite supports one axis name here, got {axis_name!r} (nest the calls, "
            "one name each)"
        )
    return names[0]


def _groups(axis_index_groups, names: tuple, what: str):
    """`axis_index_groups` checked against the axis it splits (one name), as a tuple of tuples;
    None stays None. Each group's examples run the collective among themselves."""
    if axis_index_groups is None:
        return None
    if len(names) != 1:
        raise NotImplementedError(
            f"{what}: axis_index_groups needs exactly one axis name, got {names!r} (jaxlite)"
        )
    try:
        groups = tuple(tuple(operator.index(i) for i in g) for g in axis_index_groups)
    except TypeError:
        raise TypeError(
            f"{what}: axis_index_groups must be a list of lists of axis indices, got "
            f"{axis_index_groups!r}"
        ) from None
    n = axis_frame(names[0], what).size
    if sorted(i for g in groups for i in g) != list(range(n)):
        raise ValueError(
            f"{what}: axis_index_groups must cover all indices exactly once: got {groups} for "
            f"the axis {names[0]!r} of size {n}"
        )
    if len({len(g) for g in groups}) != 1:
        raise ValueError(
            f"{what}: axis_index_groups must all have the same size, got sizes "
            f"{[len(g) for g in groups]}"
        )
    return groups


def group_of(groups, n: int) -> list:
    """For each index of an axis of size `n`: (its group, its position in the group)."""
    if groups is None:
        return [(0, i) for i in range(n)]
    where = [None] * n
    for gi, g in enumerate(groups):
        for pos, i in enumerate(g):
            where[i] = (gi, pos)
    return where


def _group_size(name, groups, what: str) -> int:
    return axis_frame(name, what).size if groups is None else len(groups[0])


def axis_size(axis_name) -> int:
    """The size of the mapped axis `axis_name` (a tuple: the product of their sizes)."""
    return math.prod(axis_frame(n, "axis_size").size for n in _names(axis_name, "axis_size"))


# ------------------------------------------------------------------------------------------
# Primitives
# ------------------------------------------------------------------------------------------

psum_p = _prim("psum")
pmax_p = _prim("pmax")
pmin_p = _prim("pmin")
all_gather_p = _prim("all_gather")
reduce_scatter_p = _prim("reduce_scatter")
all_to_all_p = _prim("all_to_all")
ppermute_p = _prim("ppermute")
axis_index_p = _prim("axis_index")

REDUCTIONS = {psum_p: "sum", pmax_p: "max", pmin_p: "min"}
COLLECTIVE_PRIMITIVES = (
    psum_p, pmax_p, pmin_p, all_gather_p, reduce_scatter_p, all_to_all_p, ppermute_p,
    axis_index_p,
)  # fmt: skip


def axis_names_of(prim, params) -> tuple:
    """The axis names a collective equation refers to."""
    if prim in REDUCTIONS:
        return params["axes"]
    return (params["axis_name"],)


def _as_operand(x):
    if isinstance(x, (Tracer, Array)):
        return x
    aval = get_aval(x)  # NB: a clear TypeError for a string, ...
    weak = type(x) in dtypes.PYTHON_SCALAR_DTYPES
    return _wrap(np.asarray(x, aval.dtype), weak)


_LOCAL_REDUCE = {"psum": reduce_sum, "pmax": reduce_max, "pmin": reduce_min}


def _split_axes(axis_name, what: str) -> tuple[tuple, tuple]:
    """JAX's reductions take names of mapped axes and positional axes (ints) of the operand:
    (names, positions)."""
    items = tuple(axis_name) if isinstance(axis_name, (tuple, list)) else (axis_name,)
    pos = tuple(a for a in items if isinstance(a, (int, np.integer)) and not isinstance(a, bool))
    names = tuple(a for a in items if not (isinstance(a, (int, np.integer))
                                           and not isinstance(a, bool)))  # fmt: skip
    for n in names:
        _check_name(n, what)
    return names, pos


def _reduce(prim, x, axis_name, axis_index_groups, what):
    names, pos = _split_axes(axis_name, what)
    if not names and not pos:
        return x
    for n in names:
        axis_frame(n, what)
    if pos and axis_index_groups is not None:
        raise ValueError("axis_index_groups only supported for sums over just named axes")
    groups = _groups(axis_index_groups, names, what)
    leaf = _as_operand(x)
    if get_aval(leaf).dtype == dtypes.bool_ and prim is psum_p:
        leaf = convert_element_type(leaf, np.dtype(np.int32))
    if pos:  # NB: positional axes: an ordinary reduction of this example's operand
        ndim = len(get_aval(leaf).shape)
        bad = [a for a in pos if not -ndim <= a < ndim]
        if bad:
            raise ValueError(
                f"{what}: reduction axes {pos} contain out-of-bounds indices for an operand of "
                f"shape {get_aval(leaf).shape}"
            )
        reduce = _LOCAL_REDUCE[prim.name]
        leaf = reduce(leaf, tuple(sorted({a % ndim for a in pos})))
    if not names:
        return leaf
    return prim.bind(leaf, axes=names, axis_index_groups=groups)


def psum(x, axis_name, *, axis_index_groups=None):
    """The sum of `x` over the mapped axis `axis_name` (a name or a tuple of names): every
    example gets the total. Booleans are summed as int32."""
    return _reduce(psum_p, x, axis_name, axis_index_groups, "psum")


def pmax(x, axis_name, *, axis_index_groups=None):
    """The maximum of `x` over the mapped axis `axis_name`."""
    return _reduce(pmax_p, x, axis_name, axis_index_groups, "pmax")


def pmin(x, axis_name, *, axis_index_groups=None):
    """The minimum of `x` over the mapped axis `axis_name`."""
    return _reduce(pmin_p, x, axis_name, axis_index_groups, "pmin")


def pmean(x, axis_name, *, axis_index_groups=None):
    """The mean of `x` over the mapped axis `axis_name` (integers give floats, as JAX)."""
    if _split_axes(axis_name, "pmean")[1]:
        raise ValueError(
            f"pmean: positional axes are not supported (as in JAX), got axis_name={axis_name!r}: "
            "use psum over them and divide by their sizes"
        )
    names = _names(axis_name, "pmean")
    groups = _groups(axis_index_groups, names, "pmean") if names else None
    n = (len(groups[0]) if groups else axis_size(names)) if names else 1
    total = psum(x, axis_name, axis_index_groups=groups)

    def mean(t):
        dt = get_aval(t).dtype
        if not dtypes.is_float(dt):
            t = convert_element_type(t, dtypes.to_inexact(dt))
        return div(t, float(n))

    return mean(total)


def all_gather(x, axis_name, *, axis_index_groups=None, axis: int = 0, tiled: bool = False):
    """Every example's `x`, stacked along a new axis `axis` (tiled: concatenated along `axis`).
    Several names: over their product, the first name major (as `axis_index` numbers it)."""
    names = _names(axis_name, "all_gather")
    if len(names) > 1 and axis_index_groups is None:
        return _all_gather_names(x, names, axis, tiled)
    name = _single(axis_name, "all_gather")
    groups = _groups(axis_index_groups, (name,), "all_gather")
    n = _group_size(name, groups, "all_gather")

    def one(leaf):
        leaf = _as_operand(leaf)
        ndim = len(get_aval(leaf).shape)
        rank = ndim if tiled else ndim + 1
        if not -rank <= axis < max(rank, 1) or (tiled and ndim == 0):
            raise ValueError(
                f"all_gather: axis {axis} is out of bounds for an operand of shape "
                f"{get_aval(leaf).shape} (tiled={tiled})"
            )
        return all_gather_p.bind(
            leaf, axis_name=name, axis=axis % rank, tiled=bool(tiled), axis_size=n,
            axis_index_groups=groups,
        )  # fmt: skip

    return one(x)


def psum_scatter(x, axis_name, *, scatter_dimension: int = 0, axis_index_groups=None,
                 tiled: bool = False):  # fmt: skip
    """The sum over the mapped axis, scattered: example `i` gets block `i` of the total along
    `scatter_dimension` (tiled: blocks of size/n, else the dimension must equal the axis size and
    is removed). Several names: over their product, the first name major."""
    names = _names(axis_name, "psum_scatter")
    if len(names) > 1 and axis_index_groups is None:
        return _psum_scatter_names(x, names, scatter_dimension, tiled)
    name = _single(axis_name, "psum_scatter")
    groups = _groups(axis_index_groups, (name,), "psum_scatter")
    n = _group_size(name, groups, "psum_scatter")

    def one(leaf):
        leaf = _as_operand(leaf)
        shape = get_aval(leaf).shape
        if not -len(shape) <= scatter_dimension < len(shape):
            raise ValueError(
                f"psum_scatter: scatter_dimension {scatter_dimension} is out of bounds for an "
                f"operand of shape {shape}"
            )
        return reduce_scatter_p.bind(
            leaf, axis_name=name, scatter_dimension=scatter_dimension % len(shape),
            tiled=bool(tiled), axis_size=n, axis_index_groups=groups,
        )  # fmt: skip

    return one(x)


def _all_gather_names(x, names: tuple, axis: int, tiled: bool):
    # NB: gather over the last name, then the others outwards: index (i, j) lands at i * nj + j
    x = _as_operand(x)
    shape = get_aval(x).shape
    rank = len(shape) if tiled else len(shape) + 1
    if not -rank <= axis < max(rank, 1) or (tiled and not shape):
        raise ValueError(
            f"all_gather: axis {axis} is out of bounds for an operand of shape {shape} "
            f"(tiled={tiled})"
        )
    a = axis % rank
    for name in reversed(names):
        x = all_gather(x, name, axis=a, tiled=tiled)
    if tiled:
        return x
    s = get_aval(x).shape  # (..., n1, n2, ..., nm at a.., ...)
    m = len(names)
    return reshape(x, s[:a] + (math.prod(s[a : a + m]),) + s[a + m :])


def _psum_scatter_names(x, names: tuple, dim: int, tiled: bool):
    # NB: scatter over the first name, then the others: block (i, j) is block i * nj + j
    x = _as_operand(x)
    shape = get_aval(x).shape
    if not -len(shape) <= dim < len(shape):
        raise ValueError(
            f"psum_scatter: scatter_dimension {dim} is out of bounds for an operand of shape "
            f"{shape}"
        )
    d = dim % len(shape)
    sizes = [axis_frame(n, "psum_scatter").size for n in names]
    total = math.prod(sizes)
    if tiled:
        if shape[d] % total:
            raise ValueError(
                f"psum_scatter: dimension {d} of shape {shape} has size {shape[d]}, which the "
                f"size {total} of the axes {names} does not divide (tiled=True)"
            )
    else:
        if shape[d] != total:
            raise ValueError(
                f"psum_scatter: dimension {d} of shape {shape} has size {shape[d]}, but it must "
                f"equal the size {total} of the axes {names} (or pass tiled=True)"
            )
        x = reshape(x, shape[:d] + tuple(sizes) + shape[d + 1 :])
    for name in names:
        x = psum_scatter(x, name, scatter_dimension=d, tiled=tiled)
    return x


def all_to_all(x, axis_name, split_axis: int, concat_axis: int, *, axis_index_groups=None,
               tiled: bool = False):  # fmt: skip
    """Splits `x` along `split_axis` into one block per example, sends block `i` to example `i`,
    and concatenates the blocks received along `concat_axis` (not tiled: `x.shape[split_axis]`
    must equal the axis size; that axis moves to `concat_axis`)."""
    name = _single(axis_name, "all_to_all")
    groups = _groups(axis_index_groups, (name,), "all_to_all")
    n = _group_size(name, groups, "all_to_all")

    def one(leaf):
        leaf = _as_operand(leaf)
        shape = get_aval(leaf).shape
        for what, ax in (("split_axis", split_axis), ("concat_axis", concat_axis)):
            if not -len(shape) <= ax < len(shape):
                raise ValueError(
                    f"all_to_all: {what} {ax} is out of bounds for an operand of shape {shape}"
                )
        return all_to_all_p.bind(
            leaf, axis_name=name, split_axis=split_axis % len(shape),
            concat_axis=concat_axis % len(shape), tiled=bool(tiled), axis_size=n,
            axis_index_groups=groups,
        )  # fmt: skip

    return one(x)


def ppermute(x, axis_name, perm):
    """Sends each example's `x` along the pairs `(source, destination)` of `perm`; an example no
    pair sends to gets zeros. Several names: indices over their product, the first name major
    (computed as an all_gather over them and a pick: it moves every example's `x`)."""
    names = _names(axis_name, "ppermute")
    if not names:
        raise ValueError("ppermute needs at least one axis name")
    n = math.prod(axis_frame(nm, "ppermute").size for nm in names)
    name = names if len(names) > 1 else names[0]
    try:
        pairs = tuple((int(s), int(d)) for s, d in perm)
    except (TypeError, ValueError):
        raise TypeError(
            f"ppermute: perm must be a sequence of (source, destination) pairs, got {perm!r}"
        ) from None
    srcs, dsts = [p[0] for p in pairs], [p[1] for p in pairs]
    if len(set(srcs)) != len(srcs) or len(set(dsts)) != len(dsts):
        raise ValueError(
            f"ppermute sources and destinations must be unique, got {list(perm)} (a source sends "
            "once, a destination receives once)"
        )
    bad = [i for i in srcs + dsts if not 0 <= i < n]
    if bad:
        raise ValueError(
            f"ppermute: perm {list(perm)} names indices {bad} outside the axis {name!r} of size {n}"
        )
    if len(names) > 1:
        return _ppermute_names(_as_operand(x), names, pairs, n)
    return ppermute_p.bind(_as_operand(x), axis_name=name, perm=pairs)


def _ppermute_names(x, names: tuple, pairs: tuple, n: int):
    aval = get_aval(x)
    every = _all_gather_names(x, names, 0, False)  # (n, *shape): row k is example k's x
    zero = broadcast_in_dim(convert_element_type(np.zeros((), aval.dtype), aval.dtype),
                            (1,) + aval.shape, ())  # fmt: skip
    every = concatenate([every, zero], 0)  # row n: what an example no pair sends to gets
    source = np.full(n, n, np.int32)
    for src, dst in pairs:
        source[dst] = src
    mine = dynamic_index_in_dim(source, axis_index(names), 0, keepdims=False)
    return dynamic_index_in_dim(every, mine, 0, keepdims=False)


def pshuffle(x, axis_name, perm):
    """Example `i` gets the `x` of example `perm[i]` (`perm` a permutation of the axis; of the
    product of the axes, for several names)."""
    names = _names(axis_name, "pshuffle")
    n = math.prod(axis_frame(nm, "pshuffle").size for nm in names)
    if sorted(int(p) for p in perm) != list(range(n)):
        raise ValueError(f"pshuffle: perm must be a permutation of range({n}), got {list(perm)}")
    return ppermute(x, axis_name, [(int(src), dst) for dst, src in enumerate(perm)])


def axis_index(axis_name):
    """This example's index along the mapped axis `axis_name` (int32; a tuple of names: the
    row-major index over them)."""
    names = _names(axis_name, "axis_index")
    out = None
    for name in names:
        axis_frame(name, "axis_index")
        idx = axis_index_p.bind(axis_name=name)
        if out is None:
            out = idx
        else:
            out = add(mul(out, np.int32(axis_frame(name, "axis_index").size)), idx)
    if out is None:
        raise ValueError("axis_index needs at least one axis name")
    return out


# ------------------------------------------------------------------------------------------
# Shapes
# ------------------------------------------------------------------------------------------


def _bound(name, what):
    axis_frame(name, what)


def _reduce_abstract(name, x, *, axes, axis_index_groups):
    for a in axes:
        _bound(a, name)
    return ShapedArray(x.shape, x.dtype, x.weak_type)


for _p in REDUCTIONS:
    _p.def_abstract_eval(lambda x, _n=_p.name, **params: _reduce_abstract(_n, x, **params))


def _gather_shape(shape, axis, tiled, n):
    if tiled:
        return shape[:axis] + (shape[axis] * n,) + shape[axis + 1 :]
    return shape[:axis] + (n,) + shape[axis:]


@all_gather_p.def_abstract_eval
def _all_gather_abstract(x, *, axis_name, axis, tiled, axis_size, axis_index_groups):
    _bound(axis_name, "all_gather")
    return ShapedArray(_gather_shape(x.shape, axis, tiled, axis_size), x.dtype, x.weak_type)


def _scatter_shape(shape, dim, tiled, n):
    if tiled:
        if shape[dim] % n:
            raise ValueError(
                f"psum_scatter: dimension {dim} of shape {shape} has size {shape[dim]}, which "
                f"the axis size {n} does not divide (tiled=True)"
            )
        return shape[:dim] + (shape[dim] // n,) + shape[dim + 1 :]
    if shape[dim] != n:
        raise ValueError(
            f"psum_scatter: dimension {dim} of shape {shape} has size {shape[dim]}, but it must "
            f"equal the axis size {n} (or pass tiled=True)"
        )
    return shape[:dim] + shape[dim + 1 :]


@reduce_scatter_p.def_abstract_eval
def _reduce_scatter_abstract(x, *, axis_name, scatter_dimension, tiled, axis_size,
                             axis_index_groups):  # fmt: skip
    _bound(axis_name, "psum_scatter")
    out = _scatter_shape(x.shape, scatter_dimension, tiled, axis_size)
    return ShapedArray(out, x.dtype, x.weak_type)


def _all_to_all_shape(shape, split_axis, concat_axis, tiled, n):
    if tiled:
        if shape[split_axis] % n:
            raise ValueError(
                f"all_to_all: the axis size {n} does not divide x.shape[split_axis] = "
                f"{shape[split_axis]} (shape {shape}, split_axis {split_axis}, tiled=True)"
            )
        out = list(shape)
        out[split_axis] //= n
        out[concat_axis] *= n
        return tuple(out)
    if shape[split_axis] != n:
        raise ValueError(
            "all_to_all requires the size of the mapped axis axis_name to equal "
            f"x.shape[split_axis], but they are {n} and {shape[split_axis]} respectively."
        )
    rest = shape[:split_axis] + shape[split_axis + 1 :]
    return rest[:concat_axis] + (n,) + rest[concat_axis:]


@all_to_all_p.def_abstract_eval
def _all_to_all_abstract(x, *, axis_name, split_axis, concat_axis, tiled, axis_size,
                         axis_index_groups):  # fmt: skip
    _bound(axis_name, "all_to_all")
    out = _all_to_all_shape(x.shape, split_axis, concat_axis, tiled, axis_size)
    return ShapedArray(out, x.dtype, x.weak_type)


@ppermute_p.def_abstract_eval
def _ppermute_abstract(x, *, axis_name, perm):
    _bound(axis_name, "ppermute")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


@axis_index_p.def_abstract_eval
def _axis_index_abstract(*, axis_name):
    _bound(axis_name, "axis_index")
    return ShapedArray((), np.dtype(np.int32), False)


# ------------------------------------------------------------------------------------------
# Implementations: on a pmap axis's communicator
# ------------------------------------------------------------------------------------------


def comm_of(name, what, groups=None):
    """The communicator a kernel's collective over the pmap axis `name` runs on (its group's,
    if `groups`)."""
    return _comm(name, what, groups)


def _comm(name, what, groups=None):
    """The communicator of the pmap axis `name` (of this process's group, if `groups`)."""
    frame = axis_frame(name, what)
    if frame.comm is None:
        raise AssertionError(
            f"{what} over the vmap axis {name!r} reached an implementation: the batching trace "
            "of that name should have resolved it"
        )
    return frame.comm if groups is None else frame.comm.group(groups)


def _reduce_impl(prim, x, *, axes, axis_index_groups):
    out = np.asarray(x)
    for name in axes:
        comm = _comm(name, prim.name, axis_index_groups)
        out = comm.allreduce(out, REDUCTIONS[prim], check=_check())
    return out if out is not x else np.array(x, copy=True)


for _p in REDUCTIONS:
    _p.def_impl(lambda x, _p=_p, **params: _reduce_impl(_p, x, **params))


def impl_into(prim, ins, out: np.ndarray, params) -> None:
    """Runs the collective `prim` on the NumPy operands `ins`, writing its result into `out`
    (the compiled kernels' host call: the reductions and the axis-0 all_gather hand `out` to the
    communicator, with no copy). As every collective in a kernel, with no shape check: pmap
    checked the shards' shapes across ranks before running the kernel. The MPI calls are those
    of the implementations `eval_jaxpr` runs (`jit`'s NumPy fallback) in `in_kernel()`."""
    with in_kernel():
        if prim in REDUCTIONS and len(params["axes"]) == 1:
            comm = _comm(params["axes"][0], prim.name, params["axis_index_groups"])
            comm.allreduce(ins[0], REDUCTIONS[prim], out=out, check=False)
            return
        if prim is all_gather_p and params["axis"] == 0:
            comm = _comm(params["axis_name"], "all_gather", params["axis_index_groups"])
            comm.allgather(ins[0], out=out.reshape((comm.size,) + ins[0].shape), check=False)
            return
        out[...] = prim.impl.numpy_impl(*ins, **params)


@all_gather_p.def_impl
def _all_gather_impl(x, *, axis_name, axis, tiled, axis_size, axis_index_groups):
    stacked = _comm(axis_name, "all_gather", axis_index_groups).allgather(
        _contig(x), check=_check()
    )  # (n, ...)
    out = np.moveaxis(stacked, 0, axis)
    if tiled:
        out = out.reshape(_gather_shape(x.shape, axis, True, axis_size))
    return _contig(out)


@reduce_scatter_p.def_impl
def _reduce_scatter_impl(x, *, axis_name, scatter_dimension, tiled, axis_size,
                         axis_index_groups):  # fmt: skip
    comm = _comm(axis_name, "psum_scatter", axis_index_groups)
    total = comm.allreduce(_contig(x), "sum", check=_check())
    d = scatter_dimension
    if tiled:
        k = x.shape[d] // axis_size
        block = np.take(total, np.arange(comm.rank * k, (comm.rank + 1) * k), axis=d)
    else:
        block = np.take(total, comm.rank, axis=d)
    return _contig(block, dtype=x.dtype)


@all_to_all_p.def_impl
def _all_to_all_impl(x, *, axis_name, split_axis, concat_axis, tiled, axis_size,
                     axis_index_groups):  # fmt: skip
    comm = _comm(axis_name, "all_to_all", axis_index_groups)
    n = axis_size
    if tiled:
        shape = x.shape
        parts = x.reshape(
            shape[:split_axis] + (n, shape[split_axis] // n) + shape[split_axis + 1 :]
        )
        chunks = _contig(np.moveaxis(parts, split_axis, 0))
        got = comm.alltoall(chunks, check=_check())  # (n sources, *block)
        got = np.moveaxis(got, 0, concat_axis)  # sources just before the concat axis
        out_shape = _all_to_all_shape(shape, split_axis, concat_axis, True, n)
        return _contig(got.reshape(out_shape), dtype=x.dtype)
    chunks = _contig(np.moveaxis(x, split_axis, 0))
    got = comm.alltoall(chunks, check=_check())  # got[j] = block `rank` of source j
    return _contig(np.moveaxis(got, 0, concat_axis), dtype=x.dtype)


@ppermute_p.def_impl
def _ppermute_impl(x, *, axis_name, perm):
    out = _comm(axis_name, "ppermute").ppermute(_contig(x), perm, check=_check())
    return np.array(out, dtype=x.dtype, copy=True)


@axis_index_p.def_impl
def _axis_index_impl(*, axis_name):
    return np.array(_comm(axis_name, "axis_index").rank, np.int32)


def _contig(x, dtype=None) -> np.ndarray:
    """`x` as a C-contiguous array of its own shape (np.ascontiguousarray makes a 0-d array 1-d)."""
    return np.asarray(x, dtype=dtype, order="C")
