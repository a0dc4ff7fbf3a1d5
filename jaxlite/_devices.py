"""Devices as JAX has them on a CPU host: one `CpuDevice` per process, a single-device sharding.

jaxlite computes on the host, so every array lives on this process's device. The list of all
devices is built from the process layout (`_set_process_layout(index, count)`): a later MPI layer
(one process per rank) calls it once, giving one device per rank, `id == process_index == rank`,
of which only this process's is local. Until then: one process, one device.
"""

from __future__ import annotations


class Device:
    """A CPU device (`jax.Device`): `id`, `platform == "cpu"`, `device_kind`, `process_index`."""

    platform = "cpu"
    device_kind = "cpu"

    __slots__ = ("id", "process_index")

    def __init__(self, id: int, process_index: int = 0):
        self.id = id
        self.process_index = process_index

    @property
    def host_id(self) -> int:
        """The old name of `process_index`."""
        return self.process_index

    @property
    def local_hardware_id(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"CpuDevice(id={self.id})"

    def __str__(self) -> str:
        return f"cpu:{self.id}"

    def __eq__(self, other) -> bool:
        return isinstance(other, Device) and (self.id, self.process_index) == (
            other.id,
            other.process_index,
        )

    def __hash__(self) -> int:
        return hash(("cpu", self.id))


class SingleDeviceSharding:
    """The sharding of an array that lives whole on one device (`jax.sharding.SingleDeviceSharding`):
    every jaxlite array's `.sharding`."""

    __slots__ = ("_device", "_memory_kind")

    def __init__(self, device: Device, *, memory_kind: str | None = None):
        if not isinstance(device, Device):
            raise TypeError(f"SingleDeviceSharding needs a Device, got {device!r}")
        self._device = device
        self._memory_kind = "device" if memory_kind is None else memory_kind

    @property
    def device_set(self) -> set[Device]:
        return {self._device}

    @property
    def memory_kind(self) -> str:
        return self._memory_kind

    num_devices = 1
    is_fully_replicated = True

    @property
    def is_fully_addressable(self) -> bool:
        return self._device.process_index == _layout["index"]

    @property
    def addressable_devices(self) -> set[Device]:
        return self.device_set if self.is_fully_addressable else set()

    @property
    def has_addressable_devices(self) -> bool:
        return self.is_fully_addressable

    @property
    def _device_assignment(self) -> tuple[Device, ...]:
        return (self._device,)

    def shard_shape(self, global_shape) -> tuple[int, ...]:
        """The shape of each shard: the whole array's."""
        return tuple(global_shape)

    def devices_indices_map(self, global_shape) -> dict:
        """`{device: index}`: the whole array (`slice(None)` on every axis) on the one device."""
        return {self._device: (slice(None),) * len(global_shape)}

    def addressable_devices_indices_map(self, global_shape) -> dict:
        return self.devices_indices_map(global_shape) if self.is_fully_addressable else {}

    def is_equivalent_to(self, other, ndim: int) -> bool:
        return self == other

    def with_memory_kind(self, kind: str) -> SingleDeviceSharding:
        return SingleDeviceSharding(self._device, memory_kind=kind)

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, SingleDeviceSharding)
            and self._device == other._device
            and self._memory_kind == other._memory_kind
        )

    def __hash__(self) -> int:
        return hash((self._device, self._memory_kind))

    def __repr__(self) -> str:
        return f"SingleDeviceSharding(device={self._device!r}, memory_kind={self._memory_kind})"


_layout: dict = {}


def _set_process_layout(index: int, count: int) -> None:
    """This process is `index` of `count` (MPI's rank and size): one device per process."""
    if not 0 <= index < count:
        raise ValueError(f"process index {index} is out of range for {count} processes")
    devices = tuple(Device(i, process_index=i) for i in range(count))
    _layout.update(
        index=index,
        count=count,
        devices=devices,
        local=tuple(d for d in devices if d.process_index == index),
    )
    _layout["sharding"] = SingleDeviceSharding(_layout["local"][0])


_set_process_layout(0, 1)


def local_device() -> Device:
    """The device this process's arrays live on."""
    return _layout["local"][0]


def local_sharding() -> SingleDeviceSharding:
    """The sharding of this process's arrays (one object, shared)."""
    return _layout["sharding"]
