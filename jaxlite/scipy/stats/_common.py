"""What the distributions share: JAX's argument promotion and the public-name declaration."""

from __future__ import annotations

from jaxlite.core import name_api
from jaxlite.numpy._util import promote_inexact


def promote(name: str, *args):
    """`args` as arrays of one inexact dtype and shape (JAX's `promote_args_inexact`)."""
    return promote_inexact(f"scipy.stats.{name}", *args)


def declare(module: str, namespace: dict, names) -> None:
    """The names error messages give the functions of `jaxlite.scipy.stats.<module>`."""
    name_api(f"jaxlite.scipy.stats.{module}.", {n: namespace[n] for n in names})
