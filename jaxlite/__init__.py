"""jaxlite: JAX-style function transformations (grad, vmap, jit to C) for NumPy arrays."""

# Re-export lists stay compact:
# fmt: off

from jaxlite._version import __version__  # noqa: F401
from jaxlite._config import config, enable_x64  # noqa: F401  (jaxlite.config.update, as jax.config)
from jaxlite import core, dtypes, errors, tree_util  # noqa: F401
from jaxlite.array import Array  # noqa: F401
from jaxlite import numpy, lax  # noqa: F401
from jaxlite.api import ShapeDtypeStruct, eval_shape, make_jaxpr  # noqa: F401
from jaxlite.api import vmap  # noqa: F401,E402
from jaxlite.api import (  # noqa: F401,E402
    grad, hessian, jacfwd, jacrev, jvp, linear_transpose, linearize, value_and_grad, vjp,
)
from jaxlite.custom_derivatives import custom_jvp, custom_vjp  # noqa: F401,E402
from jaxlite.checkpoint import checkpoint, remat  # noqa: F401,E402
from jaxlite.jit import clear_cache, disable_jit, jit  # noqa: F401,E402
from jaxlite._callback_api import pure_callback  # noqa: F401,E402
from jaxlite import debug, experimental  # noqa: F401,E402
from jaxlite import nn, optim, random  # noqa: F401,E402  (extras: built on the public API)
from jaxlite import scipy  # noqa: F401,E402  (its submodules load on first use)

core.name_api("jaxlite.", globals())  # the names error messages give the functions above
