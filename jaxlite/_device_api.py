"""`jaxlite.devices()`, `device_put`, `device_get`, `block_until_ready` and the other top-level
names of JAX's device and tracing-context API, for a CPU host (see `_devices`)."""

from __future__ import annotations

import contextlib
import functools

import numpy as np

from jaxlite import _devices, core, tree_util
from jaxlite import numpy as jnp
from jaxlite.array import Array
from jaxlite.core import Tracer

Device = _devices.Device


def _backend(backend, where: str) -> None:
    name = getattr(backend, "platform", backend)
    if name not in (None, "cpu"):
        raise RuntimeError(
            f"jaxlite.{where}: unknown backend {backend!r}; jaxlite has one backend, 'cpu'"
        )


def devices(backend=None) -> list[Device]:
    """All devices, of every process (one CPU device per process), ordered by id."""
    _backend(backend, "devices")
    return list(_devices._layout["devices"])


def local_devices(process_index: int | None = None, backend=None, host_id=None) -> list[Device]:
    """The devices of process `process_index` (default: this one)."""
    _backend(backend, "local_devices")
    index = process_index if process_index is not None else host_id
    if index is None:
        return list(_devices._layout["local"])
    return [d for d in _devices._layout["devices"] if d.process_index == index]


def device_count(backend=None) -> int:
    """The number of devices of all processes."""
    return len(devices(backend))


def local_device_count(backend=None) -> int:
    """The number of this process's devices."""
    return len(local_devices(backend=backend))


def default_backend() -> str:
    """The platform of the default backend: `"cpu"`."""
    return "cpu"


def process_index(backend=None) -> int:
    """This process's index among the processes (0 with one process)."""
    _backend(backend, "process_index")
    return _devices._layout["index"]


def process_count(backend=None) -> int:
    """The number of processes (1 until jaxlite runs under MPI)."""
    _backend(backend, "process_count")
    return _devices._layout["count"]


def _check_target(device) -> None:
    if device is None:
        return
    if isinstance(device, _devices.SingleDeviceSharding):
        device = next(iter(device.device_set))
    if not isinstance(device, Device):
        raise ValueError(
            "jaxlite.device_put only accepts None, a Device or a SingleDeviceSharding; "
            f"received invalid value: {device!r}"
        )
    if device.process_index != process_index():
        raise ValueError(
            f"jaxlite.device_put: {device!r} belongs to process {device.process_index}, not "
            f"this one ({process_index()}): only local devices are addressable"
        )


def _put(x):
    if isinstance(x, (Array, Tracer)):
        return x
    try:
        return jnp.asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"jaxlite.device_put: cannot put {type(x).__name__} on a device: {e}"
        ) from None


def device_put(x, device=None, *, src=None, donate: bool = False, may_alias=None):
    """Puts a pytree of arrays on `device` (jaxlite: this process's CPU device).

    The leaves become `jaxlite.Array`s with jnp.asarray's dtype rules (a NumPy float64 array is
    float32 unless x64 is on; Python scalars are weakly typed); arrays and tracers pass
    unchanged.

    Args:
      x: a pytree of arrays, NumPy arrays and scalars.
      device: None (the default device), a `Device` of this process, or its
        `SingleDeviceSharding`.
      src, donate, may_alias: accepted for JAX compatibility (nothing to copy or donate: the
        host is the device).

    Returns:
      A pytree of `x`'s structure with array leaves.
    """
    _check_target(device)
    return tree_util.tree_map(_put, x)


def _get(x):
    if isinstance(x, Tracer):
        raise TypeError(
            "jaxlite.device_get: got a tracer; device_get needs concrete values (call it "
            "outside jit/vmap/grad)"
        )
    return np.asarray(x) if isinstance(x, Array) else x


def device_get(x):
    """A pytree of NumPy arrays from a pytree of arrays (other leaves are returned as they
    are)."""
    return tree_util.tree_map(_get, x)


def block_until_ready(x):
    """Waits for every array of the pytree `x` and returns `x` (jaxlite computes synchronously,
    so this returns at once)."""
    for leaf in tree_util.tree_leaves(x):
        if isinstance(leaf, Array):
            leaf.block_until_ready()
    return x


def named_call(fun, *, name: str | None = None):
    """`fun` under the name `name` (JAX's profiler name). As in JAX 0.10, the name does not
    appear in printed jaxprs: the call is inlined."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"jaxlite.named_call: name must be a string, got {name!r}")

    @functools.wraps(fun)
    def named(*args, **kwargs):
        return fun(*args, **kwargs)

    return named


@contextlib.contextmanager
def named_scope(name: str):
    """A context manager naming the operations inside it, for profilers (JAX's); in jaxlite, as
    in JAX's printed jaxprs, it changes nothing."""
    if not isinstance(name, str):
        raise TypeError(f"jaxlite.named_scope: name argument must be a string, got {name!r}")
    yield


class _CompileTimeEvalTrace(core.Trace):
    """Runs a primitive eagerly when no argument is a tracer; else hands it to the trace that
    was current (JAX's eager constant folding)."""

    description = "ensure_compile_time_eval"

    def __init__(self, outer: core.Trace):
        self.outer = outer
        self.parent = outer

    def process_primitive(self, prim, args, params):
        if not any(isinstance(a, Tracer) for a in args):
            return core.eval_trace.process_primitive(prim, args, params)
        prev = core.swap_trace(self.outer)
        try:
            return prim.bind_with_trace(self.outer, args, params)
        finally:
            core.swap_trace(prev)


@contextlib.contextmanager
def ensure_compile_time_eval():
    """Inside it, operations on concrete values run eagerly even while tracing (under `jit`, a
    loop bound or a table computed at trace time becomes a constant, not traced code);
    operations on traced values are traced as usual.

    Example:
      >>> @jaxlite.jit
      ... def f(x):
      ...     with jaxlite.ensure_compile_time_eval():
      ...         c = jnp.sin(3.0)  # a concrete Array, not a tracer
      ...     return x + c
    """
    outer = core.current_trace()
    if outer is core.eval_trace:
        yield
        return
    with core.set_current_trace(_CompileTimeEvalTrace(outer)):
        yield
