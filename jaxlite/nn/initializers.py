"""`jaxlite.nn.initializers`: parameter initializers with JAX's API, `init(key, shape, dtype)`.

`zeros` and `ones` are initializers themselves; the others are builders returning one
(`glorot_uniform()(key, (784, 512), jnp.float32)`). The default dtype is the default float dtype
(float32, or float64 with x64 on), as JAX's; with the same key the values are JAX's.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from jaxlite import dtypes, random
from jaxlite import numpy as jnp
from jaxlite.array import _wrap

__all__ = [
    "zeros", "ones", "constant", "uniform", "normal", "truncated_normal", "variance_scaling",
    "glorot_uniform", "glorot_normal", "xavier_uniform", "xavier_normal", "he_uniform",
    "he_normal", "kaiming_uniform", "kaiming_normal", "lecun_uniform", "lecun_normal",
    "orthogonal", "delta_orthogonal", "Initializer",
]  # fmt: skip


@runtime_checkable
class Initializer(Protocol):
    """What every initializer is: `init(key, shape, dtype=None) -> Array` (JAX's Protocol)."""

    def __call__(self, key, shape, dtype=None):
        raise NotImplementedError


def _dtype(dtype, where: str) -> np.dtype:
    return dtypes.default_float_dtype() if dtype is None else dtypes.user_dtype(dtype, where)


def _shape(shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    return tuple(operator.index(d) for d in shape)


def zeros(key, shape, dtype=None):
    """An initializer that returns zeros (the key is ignored)."""
    return _wrap(np.zeros(_shape(shape), _dtype(dtype, "initializers.zeros")))


def ones(key, shape, dtype=None):
    """An initializer that returns ones (the key is ignored)."""
    return _wrap(np.ones(_shape(shape), _dtype(dtype, "initializers.ones")))


def constant(value, dtype=None) -> Initializer:
    """Builds an initializer that returns arrays full of `value`."""

    def init(key, shape, dtype=dtype):
        return jnp.full(_shape(shape), value, dtype=_dtype(dtype, "initializers.constant"))

    return init


def uniform(scale=1e-2, dtype=None) -> Initializer:
    """Builds an initializer of uniform values in `[0, scale)`."""

    def init(key, shape, dtype=dtype):
        dt = _dtype(dtype, "initializers.uniform")
        return random.uniform(key, _shape(shape), dt) * jnp.array(scale, dt)

    return init


def normal(stddev=1e-2, dtype=None) -> Initializer:
    """Builds an initializer of normal values with mean 0 and standard deviation `stddev`."""

    def init(key, shape, dtype=dtype):
        dt = _dtype(dtype, "initializers.normal")
        return random.normal(key, _shape(shape), dt) * jnp.array(stddev, dt)

    return init


def truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0) -> Initializer:
    """Builds an initializer of normal values truncated to `(lower, upper)`, times `stddev`."""

    def init(key, shape, dtype=dtype):
        dt = _dtype(dtype, "initializers.truncated_normal")
        sample = random.truncated_normal(key, lower, upper, _shape(shape), dt)
        return sample * jnp.array(stddev, dt)

    return init


def _axis_size(shape, axis) -> int:
    if isinstance(axis, int):
        return shape[axis]
    return math.prod(shape[i] for i in axis)


def _compute_fans(shape, in_axis=-2, out_axis=-1, batch_axis=()) -> tuple[float, float]:
    """Fan-in and fan-out of a weight shape; other axes count as the receptive field."""
    if isinstance(in_axis, int) and in_axis == -2 and len(shape) <= 1:
        raise ValueError(
            f"Can't compute input and output sizes of a {len(shape)}-dimensional weights "
            "tensor with the default in_axis. It must be at least 2-D, or specify in_axis."
        )
    in_size, out_size = _axis_size(shape, in_axis), _axis_size(shape, out_axis)
    batch_size = _axis_size(shape, batch_axis)
    receptive_field = math.prod(shape) / in_size / out_size / batch_size
    return in_size * receptive_field, out_size * receptive_field


# Standard deviation of a standard normal truncated to (-2, 2).
_TRUNCATED_STDDEV = 0.87962566103423978


def variance_scaling(
    scale,
    mode: str,
    distribution: str,
    in_axis: int | Sequence[int] = -2,
    out_axis: int | Sequence[int] = -1,
    batch_axis: int | Sequence[int] = (),
    dtype=None,
) -> Initializer:
    """Builds an initializer whose samples have variance `scale / n` (JAX's variance_scaling).

    Args:
      scale: the scaling factor (positive).
      mode: `"fan_in"`, `"fan_out"`, `"fan_avg"` or `"fan_geo_avg"`: what `n` is.
      distribution: `"truncated_normal"` (truncated at 2 standard deviations, then rescaled
        to the target variance), `"normal"` or `"uniform"`.
      in_axis, out_axis, batch_axis: the axes of inputs, outputs and batch in the shape.
      dtype: the default dtype of the initializer.
    """
    if mode not in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"):
        raise ValueError(f"invalid mode for variance scaling initializer: {mode}")
    if distribution not in ("truncated_normal", "normal", "uniform"):
        raise ValueError(f"invalid distribution for variance scaling initializer: {distribution}")

    def init(key, shape, dtype=dtype):
        shape = _shape(shape)
        dt = _dtype(dtype, "initializers.variance_scaling")
        fan_in, fan_out = _compute_fans(shape, in_axis, out_axis, batch_axis)
        n = {
            "fan_in": fan_in,
            "fan_out": fan_out,
            "fan_avg": (fan_in + fan_out) / 2,
            "fan_geo_avg": (fan_in * fan_out) ** 0.5,
        }[mode]
        variance = np.asarray(scale / n, dt)
        if distribution == "truncated_normal":
            stddev = _wrap(np.sqrt(variance) / np.asarray(_TRUNCATED_STDDEV, dt))
            return random.truncated_normal(key, -2, 2, shape, dt) * stddev
        if distribution == "normal":
            return random.normal(key, shape, dt) * _wrap(np.sqrt(variance))
        return random.uniform(key, shape, dt, -1.0) * _wrap(np.sqrt(3 * variance))

    return init


def _preset(scale, mode, distribution, name):
    def builder(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None) -> Initializer:
        return variance_scaling(scale, mode, distribution, in_axis, out_axis, batch_axis, dtype)

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = (
        f"Builds a `variance_scaling({scale}, {mode!r}, {distribution!r})` initializer "
        f"(JAX's `{name}`)."
    )
    return builder


glorot_uniform = xavier_uniform = _preset(1.0, "fan_avg", "uniform", "glorot_uniform")
glorot_normal = xavier_normal = _preset(1.0, "fan_avg", "truncated_normal", "glorot_normal")
lecun_uniform = _preset(1.0, "fan_in", "uniform", "lecun_uniform")
lecun_normal = _preset(1.0, "fan_in", "truncated_normal", "lecun_normal")
he_uniform = kaiming_uniform = _preset(2.0, "fan_in", "uniform", "he_uniform")
he_normal = kaiming_normal = _preset(2.0, "fan_in", "truncated_normal", "he_normal")


def orthogonal(scale=1.0, column_axis: int = -1, dtype=None) -> Initializer:
    """Builds an initializer of uniformly distributed (semi-)orthogonal matrices, times `scale`.

    The shape is seen as a matrix whose columns are along `column_axis` and whose rows are all the
    other axes: its columns are orthonormal if there are fewer of them than rows, else its rows.
    """

    def init(key, shape, dtype=dtype):
        shape = _shape(shape)
        dt = _dtype(dtype, "initializers.orthogonal")
        if len(shape) < 2:
            raise ValueError("orthogonal initializer requires at least a 2D shape")
        if 0 in shape:
            return jnp.zeros(shape, dtype=dt)
        n_cols = shape[column_axis]
        n_rows = math.prod(shape) // n_cols
        q = random.orthogonal(key, n_rows, (), dt, n_cols)
        q = jnp.reshape(q, tuple(np.delete(shape, column_axis)) + (n_cols,))
        return jnp.array(scale, dt) * jnp.moveaxis(q, -1, column_axis)

    return init


def delta_orthogonal(scale=1.0, column_axis: int = -1, dtype=None) -> Initializer:
    """Builds an initializer of delta-orthogonal convolution kernels
    (https://arxiv.org/abs/1806.05393): zeros but an orthogonal matrix over the last two axes
    (in, out) at the kernel's spatial center. The shape must be 3-, 4- or 5-D with in <= out."""

    def init(key, shape, dtype=dtype):
        shape = _shape(shape)
        dt = _dtype(dtype, "initializers.delta_orthogonal")
        if len(shape) not in (3, 4, 5):
            raise ValueError("Delta orthogonal initializer requires a 3D, 4D or 5D shape.")
        if shape[-1] < shape[-2]:
            raise ValueError("`fan_in` must be less or equal than `fan_out`. ")
        matrix = orthogonal(scale, column_axis, dt)(key, shape[-2:])
        center = tuple((k - 1) // 2 for k in shape[:-2])
        return jnp.zeros(shape, dtype=dt).at[center].set(matrix)

    return init
