"""`jaxlite.Array`: the immutable concrete array every jaxlite operation returns.

It wraps a read-only NumPy buffer (`np.asarray(x)` returns it without a copy). Operators and
methods (`+`, `.sum()`, `.at[...]`) are attached by `jaxlite.numpy`, the same ones tracers get.
"""

from __future__ import annotations

import numpy as np

from jaxlite import _devices, dtypes


class Array:
    """An immutable n-dimensional array on the CPU, as returned by `jnp` functions and `jit`."""

    __slots__ = ("_value", "weak_type", "__weakref__")
    __array_priority__ = 100

    def __init__(self, value, weak_type: bool = False):
        try:
            value = np.asarray(value)
        except ValueError as e:  # ragged nested lists
            raise TypeError(
                f"jaxlite.Array: cannot build an array from {value!r:.60}: {e}"
            ) from None
        dtypes.canonicalize(value.dtype, "jaxlite.Array")
        value = dtypes.narrow_value(value)  # a new array when it narrows: not writeable by others
        if value.flags.writeable:
            # NB: a copy, not a read-only view: the caller could still write through its array.
            value = value.copy()
            value.flags.writeable = False
        self._value = value
        self.weak_type = weak_type

    # --- metadata -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._value.shape

    @property
    def dtype(self) -> np.dtype:
        return self._value.dtype

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def size(self) -> int:
        return self._value.size

    @property
    def nbytes(self) -> int:
        return self._value.nbytes

    @property
    def itemsize(self) -> int:
        return self._value.itemsize

    def __len__(self) -> int:
        if self._value.ndim == 0:
            raise TypeError("len() of unsized object (a 0-d jaxlite.Array)")
        return self._value.shape[0]

    # --- conversions ----------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._value, dtype=dtype, copy=True)
        if dtype is not None and np.dtype(dtype) != self._value.dtype:
            if copy is False:
                raise ValueError("jaxlite.Array: a dtype change needs a copy")
            return self._value.astype(dtype)
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __float__(self) -> float:
        return float(self._value)

    def __complex__(self) -> complex:
        return complex(self._value)

    def __index__(self) -> int:
        return self._value.__index__()

    def item(self, *args):
        return self._value.item(*args)

    def tolist(self):
        return self._value.tolist()

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("iteration over a 0-d jaxlite.Array")
        return (_wrap(v, self.weak_type) for v in self._value)

    def __hash__(self):
        raise TypeError("unhashable type: 'jaxlite.Array' (use .item() or a tuple of values)")

    def __setitem__(self, idx, value):
        raise TypeError(
            "jaxlite.Array is immutable: item assignment is not supported. "
            "Use the functional form instead: x = x.at[idx].set(y) "
            "(also .add, .multiply, .min, .max)."
        )

    def __reduce__(self):
        return (Array, (np.array(self._value), self.weak_type))

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self

    def block_until_ready(self) -> Array:
        """Returns self: jaxlite computes synchronously (kept for JAX compatibility)."""
        return self

    # --- devices: every array lives on this process's CPU device --------------------------
    def devices(self) -> set:
        """The set of devices the array is on: `{CpuDevice(id=0)}`."""
        return {_devices.local_device()}

    @property
    def device(self):
        """The device the array is on (JAX: a Device for a single-device array)."""
        return _devices.local_device()

    @property
    def sharding(self):
        """A `SingleDeviceSharding` on this process's device."""
        return _devices.local_sharding()

    @property
    def is_fully_replicated(self) -> bool:
        return True

    @property
    def is_fully_addressable(self) -> bool:
        return True

    def copy_to_host_async(self) -> None:
        """Nothing to do: the array is in host memory."""

    def copy(self) -> Array:
        return _wrap(self._value.copy(), self.weak_type)

    # --- printing -------------------------------------------------------------------------
    def __repr__(self) -> str:
        extra = ", weak_type=True" if self.weak_type else ""
        dt = f"dtype={self.dtype.name}{extra})"
        if self.size == 0 or self.ndim == 0:
            body = np.array2string(self._value, separator=", ") if self.size else "[]"
            if self.size == 0:
                return f"Array([], shape={self.shape}, {dt}"
            return f"Array({body}, {dt}"
        prefix = "Array("
        body = np.array2string(self._value, separator=", ", prefix=prefix)
        sep = ", " if len(body.splitlines()[-1]) + len(dt) < 78 else ",\n" + " " * len(prefix)
        return f"{prefix}{body}{sep}{dt}"

    def __str__(self) -> str:
        return str(self._value)

    def __format__(self, spec: str) -> str:
        if self.ndim == 0:
            return format(self._value[()], spec)
        return format(str(self), spec)


_new = object.__new__


_NARROW = dtypes.NARROW  # NB: the same dict, updated in place when the mode changes


def _wrap(value, weak_type: bool = False) -> Array:
    """Wraps a fresh NumPy result as an Array with no checks (the eager fast path)."""
    a = _new(Array)
    if type(value) is not np.ndarray:
        value = np.asarray(value)
    if _NARROW and value.dtype in _NARROW:  # NB: x64 off; NumPy gave a 64-bit result
        value = value.astype(_NARROW[value.dtype])
    value.setflags(write=False)  # NB: half the cost of `value.flags.writeable = False`
    a._value = value
    a.weak_type = weak_type
    return a
