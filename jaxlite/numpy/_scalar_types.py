"""`jnp.float32`, `jnp.int32`, ...: dtypes that are also functions returning Arrays, as in JAX.

Each works wherever NumPy takes a dtype (`np.dtype(jnp.float32)`, `x.astype(jnp.int8)`, as a dict
key equal to `np.float32`), and calling it converts its argument to a jaxlite Array of that dtype,
also under `jit` and `vmap`: `jnp.float32(x)` of a tracer is a tracer, not a NumPy scalar.
"""

from __future__ import annotations

import numpy as np

from jaxlite.numpy._creation import asarray


class _ScalarMeta(type):
    dtype: np.dtype

    def __hash__(cls) -> int:
        return hash(cls.dtype.type)

    def __eq__(cls, other) -> bool:
        return cls is other or other is cls.dtype.type

    def __ne__(cls, other) -> bool:
        return not cls == other

    def __call__(cls, x):
        return asarray(x, dtype=cls.dtype)

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, cls.dtype.type)


def scalar_type(np_type, name: str) -> _ScalarMeta:
    """The jaxlite scalar type named `name` standing for NumPy's `np_type`."""
    return _ScalarMeta(name, (object,), {"dtype": np.dtype(np_type), "__module__": "jaxlite.numpy"})
