"""`jaxlite.pmap`: JAX's pmap over jaxlite's devices (one CPU device per process).

Each process runs its own shard: the mapped axis of the arguments is the process's local
devices (one), so each process passes arrays whose mapped axis has size 1, and the collectives
over `axis_name` span every process (`process_count()`, which is 1 without
`jaxlite.distributed.initialize()`). As in JAX, a mapped size larger than the local device count
is an error: `vmap(..., axis_name=...)` is the way to map several examples within a process.

The per-shard function is compiled once by `jit` (one kernel) with the axis bound; the
collectives run inside that kernel through a host call to the communicator (MPI's Allreduce,
...; see backend/rules_collective.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from jaxlite import _devices, api_util, core, distributed, dtypes, tree_util
from jaxlite import _vmap_api as vm
from jaxlite.array import Array, _wrap
from jaxlite.jit import jit
from jaxlite.primitives import _collective
from jaxlite.util import safe_zip


class LocalComm:
    """The communicator of one process: the collectives of an axis of size 1."""

    rank, size = 0, 1

    def check_same_signature(self, sig, what, of):
        pass

    def group(self, groups):
        return self  # NB: one group, ((0,),): the wrapper checked the partition

    def allreduce(self, x, op, out=None, check=True):
        if out is None:
            return np.array(x, copy=True)
        out[...] = x
        return out

    def allgather(self, x, out=None, check=True):
        if out is None:
            return np.array(x, copy=True)[None]
        out[0] = x
        return out

    def alltoall(self, chunks, check=True):
        return np.array(chunks, copy=True)

    def ppermute(self, x, perm, check=True):
        return np.array(x, copy=True) if (0, 0) in perm else np.zeros_like(x)


_LOCAL = LocalComm()


def _global_comm():
    comm = distributed.world()
    return _LOCAL if comm is None else comm


def pmap(
    fun: Callable,
    axis_name=None,
    *,
    in_axes=0,
    out_axes=0,
    static_broadcasted_argnums=(),
    devices=None,
    backend=None,
    axis_size=None,
    donate_argnums=(),
) -> Callable:
    """Maps `fun` over the devices, one shard per device, with collectives over `axis_name`
    (JAX's `pmap`).

    jaxlite has one CPU device per process: each process's arguments have a mapped axis of size
    `local_device_count()` (1), and the collectives (`lax.psum(x, axis_name)`, ...) run across
    all `process_count()` processes, over MPI after `jaxlite.distributed.initialize()`.

    Args:
      fun: the function of one shard.
      axis_name: the name collectives use for the mapped axis.
      in_axes, out_axes: as vmap's. Keyword arguments are mapped over their axis 0. out_axes
        None returns the output without a mapped axis and, as in JAX (whose pmap is a shard_map
        with check_vma=False), does not check that it is the same on every device: each process
        returns its own shard's value. Make it replicated first (lax.psum/pmean, or computed
        from unmapped inputs only).
      static_broadcasted_argnums: positional arguments passed as Python values (hashable), the
        same to every shard; a new value compiles again.
      devices: None (all devices) or the list of all devices (`jaxlite.devices()`).
      backend: None or "cpu".
      axis_size: the global mapped size, if given, must be `device_count()`.
      donate_argnums: accepted (nothing to donate on the host).

    Returns:
      The mapped function; its outputs have the mapped axis (size 1) at `out_axes`.

    Example:
      >>> f = jaxlite.pmap(lambda x: x / lax.psum(x, "i"), axis_name="i")
      >>> f(jnp.ones((1, 3)))  # on one process: the sum over one device
      Array([[1., 1., 1.]], dtype=float32)
    """
    api_util.check_callable(fun, "jaxlite.pmap")
    if axis_name is not None:
        _collective._check_name(axis_name, "pmap")
    if backend not in (None, "cpu"):
        raise ValueError(f"jaxlite.pmap: unknown backend {backend!r}; jaxlite has 'cpu' only")
    if isinstance(static_broadcasted_argnums, int):
        static_broadcasted_argnums = (static_broadcasted_argnums,)
    static = tuple(static_broadcasted_argnums)
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    vm._check_axes_spec(in_axes, "in_axes")
    vm._check_axes_spec(out_axes, "out_axes")
    if devices is not None:
        devices = list(devices)
        if sorted(d.id for d in devices) != [d.id for d in _devices._layout["devices"]]:
            raise NotImplementedError(
                f"jaxlite.pmap: devices={devices} is a subset of the devices "
                f"{list(_devices._layout['devices'])}; jaxlite maps over all of them (one per "
                "process) or pass devices=None"
            )
    # (argument structure, static arguments, axis size) -> (jit of the flat per-shard function,
    # its output structure once traced): the call below passes leaves, so jit's fast path
    # applies. NB: the axis size is in the key: a trace may hold it (lax.axis_size, psum of a
    # constant) and jit's fast path does not look at the bound axes.
    flat_fns: dict = {}
    # The dispatch of a call whose leaves are arrays or Python scalars: (size, leaf signatures,
    # structure, statics, mode) -> _Plan, what the checks below decided for that signature.
    plans: dict = {}
    what = f"pmap of `{getattr(fun, '__name__', 'fun')}`"

    def flat_fn(args, dyn, in_tree, size):
        statics = tuple((i, args[i]) for i in range(len(args)) if i not in dyn)
        try:
            key = (in_tree, len(args), statics, size)
            hit = flat_fns.get(key)
        except TypeError:
            raise ValueError(
                f"{what}: static_broadcasted_argnums values must be hashable, got {statics!r}"
            ) from None
        if hit is not None:
            return hit
        template, store = list(args), {}

        def flat(*leaves):
            dyn_vals, kw = tree_util.tree_unflatten(in_tree, leaves)
            full = list(template)
            for i, v in zip(dyn, dyn_vals):
                full[i] = v
            out_leaves, store["tree"] = tree_util.tree_flatten(fun(*full, **kw))
            return out_leaves

        flat.__name__ = getattr(fun, "__name__", "fun")
        if len(flat_fns) >= 64:  # NB: bounded: a new structure or static value traces anew
            flat_fns.clear()
        hit = flat_fns[key] = (jit(flat), store)
        return hit

    def plan_for(args, kwargs, dyn, dyn_args, leaves, in_tree, comm) -> _Plan:
        """Checks a call's arguments (JAX's errors) and decides how to run it."""
        n = len(args)
        axes = in_axes
        if isinstance(in_axes, tuple):
            if len(in_axes) != n:
                raise ValueError(
                    "pmap in_axes must be an int, None, or a tuple of entries corresponding to "
                    f"the positional arguments passed to the function, but got "
                    f"len(in_axes)={len(in_axes)}, len(args)={n}"
                )
            axes = tuple(in_axes[i] for i in dyn)
        for x in leaves:
            if isinstance(x, core.Tracer):
                raise NotImplementedError(
                    "jaxlite.pmap under a transformation (jit, grad, vmap of a pmapped function) "
                    "is not supported: put the transformation inside pmap, e.g. "
                    "pmap(grad(loss), axis_name=...)"
                )
        dims = vm._vmap_in_dims(fun, axes, dyn_args, in_tree)
        if not any(d is not None for d in dims):
            raise ValueError("pmap requires at least one argument with a mapped axis.")
        dims, size = vm._vmap_check_axes(fun, leaves, dims, dyn_args, kwargs, None)
        n_local = len(_devices._layout["local"])
        if size > n_local:
            raise ValueError(
                f"compiling computation that requires {size} logical devices, but only "
                f"{n_local} XLA devices are available (num_replicas={size}) (jaxlite: one CPU "
                "device per process; map several examples in one process with "
                "vmap(..., axis_name=...), or run one process per shard under MPI)"
            )
        if size != n_local:
            raise ValueError(
                f"jaxlite.pmap: the mapped axis has size {size}, but this process has "
                f"{n_local} device(s): pass one shard per local device"
            )
        if axis_size is not None and axis_size != comm.size * n_local:
            raise ValueError(
                f"jaxlite.pmap: axis_size={axis_size}, but the devices number {comm.size * n_local}"
            )
        avals = [core.get_aval(x) for x in leaves]
        shapes = [
            None if d is None else a.shape[:d] + a.shape[d + 1 :] for a, d in safe_zip(avals, dims)
        ]
        sig = ", ".join(
            a.str_short() if d is None else core.ShapedArray(s, a.dtype, a.weak_type).str_short()
            for a, d, s in safe_zip(avals, dims, shapes)
        )
        statics = tuple(repr(args[i]) for i in range(n) if i not in dyn)
        sig += f" static {statics}" if statics else ""
        compiled, store = flat_fn(args, dyn, in_tree, comm.size * n_local)
        token = distributed.MPIComm.token(sig) if comm.size > 1 else None
        return _Plan(shapes, compiled, store, sig, token, comm.size * n_local)

    def run(plan: _Plan, comm, leaves):
        # NB: views (the mapped axis has size 1): no copy of the operands
        shard = [x if s is None else _squeeze(x, s) for x, s in zip(leaves, plan.shapes)]
        checking = plan.token is not None and distributed._checks_on()
        if checking:  # NB: waited for by the kernel's first collective (or below)
            comm.start_check(plan.token, plan.sig, what, "shards")
        frame = None
        if axis_name is not None:
            frame = _collective.push_axis(axis_name, plan.size, comm)
        try:
            out_leaves = plan.compiled(*shard)
        finally:
            if frame is not None:
                _collective.pop_axis(frame)
            if checking:
                comm.finish_check()
        build = plan.build
        if build is None:
            build = plan.build = _builder(
                plan.store["tree"],
                vm._vmap_out_dims(out_axes, plan.store["tree"], [(v, None) for v in out_leaves]),
            )
        return build(out_leaves)

    @functools.wraps(fun)
    def mapped(*args, **kwargs):
        comm = _global_comm()
        n = len(args)
        if static:
            dyn = [i for i in range(n) if i not in static and i - n not in static]
            dyn_args = tuple(args[i] for i in dyn)
            statics = tuple((i, args[i]) for i in range(n) if i not in dyn)
        else:
            dyn, dyn_args, statics = range(n), args, ()
        # NB: the common arguments (arrays, and lists or tuples of them) find their plan
        # without a pytree flatten; anything else is flattened and keyed by its structure.
        quick = None if kwargs else _quick_leaves(dyn_args)
        if quick is not None:
            leaves, key = quick[0], (comm.size, quick[1], n, statics, dtypes._x64)
        else:
            leaves, in_tree = tree_util.tree_flatten((dyn_args, kwargs))  # kwargs: mapped at 0
            sigs = tuple(_leaf_key(x) for x in leaves)
            key = None if None in sigs else (comm.size, sigs, in_tree, n, statics, dtypes._x64)
        if key is not None:
            try:
                plan = plans.get(key)
            except TypeError:  # NB: an unhashable static value: plan_for says so
                plan, key = None, None
            if plan is not None:
                return run(plan, comm, leaves)
        if quick is not None:
            in_tree = tree_util.tree_structure((dyn_args, kwargs))
        plan = plan_for(args, kwargs, list(dyn), dyn_args, leaves, in_tree, comm)
        if key is not None:
            if len(plans) >= 256:
                plans.clear()
            plans[key] = plan
        return run(plan, comm, leaves)

    return mapped


class _Plan:
    """How pmap runs a call of one argument signature: the shards' shapes (None: an unmapped
    leaf), the jitted per-shard function and its output structure (`store`), the signature the
    ranks compare (and its hash, `token`), the axis size, and the outputs' mapped axes."""

    __slots__ = ("build", "compiled", "shapes", "sig", "size", "store", "token")

    def __init__(self, shapes, compiled, store, sig, token, size):
        self.shapes = shapes
        self.compiled = compiled
        self.store = store
        self.sig = sig
        self.token = token
        self.size = size
        self.build = None  # the outputs' leaves -> pmap's result, after the first call


def _quick_leaves(args: tuple):
    """The leaves of positional arguments that are arrays or Python scalars, or lists or tuples
    of arrays, and a key of their structure and signatures; None for any other argument."""
    leaves, key = [], []
    for a in args:
        k = _leaf_key(a)
        if k is not None:
            leaves.append(a)
            key.append(k)
            continue
        t = type(a)
        if t is not list and t is not tuple:
            return None
        key.append(t)
        for b in a:
            k = _leaf_key(b)
            if k is None:
                return None
            leaves.append(b)
            key.append(k)
        key.append(len(a))
    return leaves, tuple(key)


def _leaf_key(x):
    """What a plan depends on of an argument leaf (None: no plan for it, the checks run)."""
    t = type(x)
    if t is Array:
        v = x._value
        return (v.shape, v.dtype, x.weak_type)
    if t is np.ndarray:
        return (t, x.shape, x.dtype)
    if t is float or t is int or t is bool:
        return t
    return None


def _squeeze(x, shape: tuple):
    """`x` reshaped to `shape` (without its mapped axis, of size 1): a view of an Array's
    (immutable) buffer, a copy of anything else (a NumPy array the caller may change later)."""
    if isinstance(x, Array):
        return _wrap(core.to_numpy(x).reshape(shape), x.weak_type)
    return np.array(np.asarray(x).reshape(shape))


def _builder(out_tree, out_dims: list):
    """A function of the per-shard outputs' leaves that returns pmap's result: each leaf with
    the mapped axis (size 1) inserted at its `out_dims` entry, in the structure `out_tree`."""
    kind = out_tree.kind
    flat = kind is None or (
        kind in (list, tuple) and all(c.kind is None for c in out_tree.children)
    )

    def build(out_leaves):
        results = [
            v if want is None else _expand(v, want, out_tree, i)
            for i, (v, want) in enumerate(zip(out_leaves, out_dims))
        ]
        if flat:  # NB: a leaf, or a list or tuple of leaves: no unflatten
            return results[0] if kind is None else kind(results)
        return tree_util.tree_unflatten(out_tree, results)

    return build


def _expand(v, want: int, out_tree, i: int):
    """The output `v` with the mapped axis (size 1) inserted at `want`, as a view."""
    if type(v) is Array:
        a = v._value
        rank = a.ndim + 1
        if -rank <= want < rank:
            w = want % rank
            return _wrap(a.reshape(a.shape[:w] + (1,) + a.shape[w:]), v.weak_type)
    return vm._vmap_place_output(v, None, want, 1, out_tree, i)  # NB: its checks and errors
