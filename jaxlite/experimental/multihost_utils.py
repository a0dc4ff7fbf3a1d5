"""`jaxlite.experimental.multihost_utils` (JAX's `jax.experimental.multihost_utils`): moving
host values between the processes of a `jaxlite.distributed` job (MPI). With one process they
return their input (as arrays)."""

from __future__ import annotations

import zlib

import numpy as np

from jaxlite import tree_util
from jaxlite.array import _wrap
from jaxlite.distributed import world

__all__ = ["broadcast_one_to_all", "process_allgather", "sync_global_devices"]


def _np(x) -> np.ndarray:
    return np.asarray(x)


def _out(x: np.ndarray):
    return _wrap(np.array(x, order="C"), False)


def broadcast_one_to_all(in_tree, is_source: bool | None = None):
    """Every process gets the value of the source process (process 0 unless `is_source` says
    otherwise; as in JAX, the values of several sources are summed).

    Args:
      in_tree: a pytree of arrays, the same structure, shapes and dtypes on every process.
      is_source: whether this process is the source; None: process 0 is.
    """
    comm = world()
    if comm is None:
        return tree_util.tree_map(lambda x: _out(_np(x)), in_tree)
    src = comm.rank == 0 if is_source is None else bool(is_source)

    def one(x):
        x = _np(x)
        if x.dtype == np.bool_:
            return _out(comm.allreduce(x if src else np.zeros_like(x), "max"))
        return _out(comm.allreduce(x if src else np.zeros_like(x), "sum"))

    return tree_util.tree_map(one, in_tree)


def process_allgather(in_tree, tiled: bool = False):
    """Every process's value, stacked along a new leading axis (one entry per process, in
    process order); tiled: concatenated along axis 0."""
    comm = world()

    def one(x):
        x = _np(x)
        stacked = x[None] if comm is None else comm.allgather(x)
        if tiled:
            return _out(stacked.reshape((-1,) + x.shape[1:]) if x.ndim else stacked)
        return _out(stacked)

    return tree_util.tree_map(one, in_tree)


def sync_global_devices(name: str) -> None:
    """Blocks until every process reaches a call with the same `name` (a barrier); raises if the
    processes pass different names."""
    comm = world()
    if comm is None:
        return
    tags = comm.allgather_object(zlib.crc32(str(name).encode()))
    if len(set(tags)) > 1:
        names = comm.allgather_object(str(name))
        raise AssertionError(
            "sync_global_devices: the processes passed different names: "
            + ", ".join(f"process {i}: {n!r}" for i, n in enumerate(names))
        )
