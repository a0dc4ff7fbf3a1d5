"""`jaxlite.experimental`: `io_callback` (jax.experimental.io_callback) and the scoped x64
switches of JAX's `jax.experimental` (before 0.10; JAX 0.10 has `jax.enable_x64(bool)`)."""

from __future__ import annotations

from jaxlite._callback_api import io_callback
from jaxlite._config import enable_x64 as _enable_x64

__all__ = ["disable_x64", "enable_x64", "io_callback"]


def enable_x64(new_val: bool = True):
    """`with enable_x64():` 64-bit mode on within the block (process-wide while it runs)."""
    return _enable_x64(new_val)


def disable_x64():
    """`with disable_x64():` 64-bit mode off within the block (process-wide while it runs)."""
    return _enable_x64(False)
