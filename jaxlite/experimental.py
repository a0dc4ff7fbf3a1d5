"""`jaxlite.experimental`: `io_callback` (jax.experimental.io_callback)."""

from jaxlite._callback_api import io_callback

__all__ = ["io_callback"]
