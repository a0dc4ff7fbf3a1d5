"""`jaxlite.flatten_util.ravel_pytree`: a pytree of arrays as one flat 1-D array, and back."""

from __future__ import annotations

import numpy as np

from jaxlite import numpy as jnp
from jaxlite import primitives as lax
from jaxlite import tree_util

__all__ = ["ravel_pytree"]


def ravel_pytree(pytree):
    """Ravels a pytree of arrays (and scalars) into one 1-D array, as `jax.flatten_util`.

    Leaves of different dtypes are promoted to their common dtype (`jnp.result_type` of the
    leaves' dtypes); the unravel function casts each piece back to its leaf's dtype.

    Args:
      pytree: a pytree of arrays and scalars.

    Returns:
      `(flat, unravel)`: the 1-D array, and a function from such an array (same size and dtype)
      back to a pytree of `pytree`'s structure, shapes and dtypes.

    Example:
      >>> flat, unravel = ravel_pytree({"w": jnp.ones((2, 2)), "b": jnp.zeros(2)})
      >>> flat.shape
      (6,)
    """
    leaves, treedef = tree_util.tree_flatten(pytree)
    flat, unravel_list = _ravel_list(leaves)
    return flat, _Unravel(treedef, unravel_list)


class _Unravel:
    """The unravel function of `ravel_pytree` (a class: comparable and hashable, so it can be a
    static argument of jit)."""

    def __init__(self, treedef, unravel_list):
        self.treedef, self.unravel_list = treedef, unravel_list

    def __call__(self, flat):
        return tree_util.tree_unflatten(self.treedef, self.unravel_list(flat))

    def __eq__(self, other):
        return (
            isinstance(other, _Unravel)
            and self.treedef == other.treedef
            and self.unravel_list == other.unravel_list
        )

    def __hash__(self):
        return hash((self.treedef, self.unravel_list))


class _UnravelList:
    def __init__(self, indices, shapes, from_dtypes, to_dtype):
        self.indices, self.shapes = indices, shapes
        self.from_dtypes, self.to_dtype = from_dtypes, to_dtype

    def _key(self):
        return (self.indices, self.shapes, self.from_dtypes, self.to_dtype)

    def __eq__(self, other):
        return isinstance(other, _UnravelList) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __call__(self, arr):
        size = self.indices[-1] if self.indices else 0
        if jnp.shape(arr) != (size,):
            raise ValueError(
                f"The unravel function expected an array of shape {(size,)}, got shape "
                f"{jnp.shape(arr)}."
            )
        arr_dtype = jnp.result_type(arr)
        if arr_dtype != self.to_dtype:
            raise TypeError(
                f"unravel function given array of dtype {arr_dtype} but expected dtype "
                f"{self.to_dtype}"
            )
        chunks = jnp.split(arr, list(self.indices[:-1]))
        return [
            lax.convert_element_type(jnp.reshape(c, shape), dt)
            for c, shape, dt in zip(chunks, self.shapes, self.from_dtypes)
        ]


def _ravel_list(leaves):
    if not leaves:
        return jnp.array([], np.float32), _UnravelList((), (), (), np.dtype(np.float32))
    from_dtypes = tuple(jnp.result_type(jnp.asarray(x).dtype) for x in leaves)
    to_dtype = jnp.result_type(*from_dtypes)
    shapes = tuple(jnp.shape(x) for x in leaves)
    indices = tuple(int(i) for i in np.cumsum([int(np.prod(s, dtype=int)) for s in shapes]))
    pieces = [jnp.ravel(lax.convert_element_type(jnp.asarray(x), to_dtype)) for x in leaves]
    return jnp.concatenate(pieces), _UnravelList(indices, shapes, from_dtypes, to_dtype)
