"""`jaxlite.debug`: printing and callbacks from traced code (jax.debug)."""

from jaxlite._callback_api import debug_callback as callback
from jaxlite._callback_api import debug_print as print  # noqa: A004  (JAX's name)

__all__ = ["callback", "print"]
