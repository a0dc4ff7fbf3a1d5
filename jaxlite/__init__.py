"""jaxlite: JAX-style function transformations (grad, vmap, jit to C) for NumPy arrays."""

__version__ = "0.1.0"

from jaxlite import dtypes, errors, tree_util  # noqa: F401
from jaxlite.array import Array  # noqa: F401
from jaxlite import numpy, lax  # noqa: F401
from jaxlite.api import ShapeDtypeStruct, eval_shape, make_jaxpr  # noqa: F401
