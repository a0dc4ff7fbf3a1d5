"""`jaxlite.scipy`: JAX's `jax.scipy` (special, stats, linalg, optimize, integrate, signal).

The submodules are imported on first attribute access (`jaxlite.scipy.special.logsumexp` after
`import jaxlite`, as with JAX), so importing jaxlite costs nothing for the code here;
`import jaxlite.scipy.special` and `from jaxlite.scipy import stats` work as usual.
"""

from __future__ import annotations

import importlib

_SUBMODULES = ("special", "stats", "linalg", "optimize", "integrate", "signal")
__all__: list[str] = []  # submodules only: `jaxlite.scipy.<module>.<name>`


def __getattr__(name: str):
    if name in _SUBMODULES:
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module 'jaxlite.scipy' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
