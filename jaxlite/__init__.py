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
from jaxlite import flatten_util, tree  # noqa: F401,E402
from jaxlite import export  # noqa: F401,E402  (jaxlite.export.to_c: standalone C)
from jaxlite._checkpoint_policies import checkpoint_policies  # noqa: F401,E402
from jaxlite._device_api import (  # noqa: F401,E402
    block_until_ready, default_backend, device_count, device_get, device_put, devices,
    ensure_compile_time_eval, local_device_count, local_devices, named_call, named_scope,
    process_count, process_index,
)
from jaxlite.api import jacrev as jacobian  # noqa: F401,E402  (jax.jacobian is jacrev)
from jaxlite._pmap import pmap  # noqa: F401,E402
from jaxlite import distributed  # noqa: F401,E402  (mpi4py is imported by initialize() only)

core.name_api("jaxlite.", globals())  # the names error messages give the functions above
