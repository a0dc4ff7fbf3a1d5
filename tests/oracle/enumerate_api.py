"""The public names the oracle covers, enumerated from the modules themselves."""

from __future__ import annotations

import importlib
import pkgutil
import types

import jaxlite

# Public jaxlite modules that are not JAX API faces, with why (every other public module is
# enumerated; a new `jaxlite.scipy` is covered, or fails the coverage test, without an edit here).
NOT_API = {
    "jaxlite": "the transformations themselves: the oracle's routes (jit, vmap, jvp, grad)",
    "jaxlite.api": "the transformations' implementation", "jaxlite.api_names": "internal",
    "jaxlite.api_util": "internal", "jaxlite.array": "the Array class", "jaxlite.core": "internal",
    "jaxlite.checkpoint": "a transformation (jax.checkpoint), not a function table",
    "jaxlite.custom_derivatives": "custom_jvp/custom_vjp: transformations, tested elsewhere",
    "jaxlite.dtypes": "internal dtype helpers", "jaxlite.errors": "exception classes",
    "jaxlite.jaxpr_util": "internal", "jaxlite.jit": "internal", "jaxlite.optim": "jaxlite's own",
    "jaxlite.test_util": "test helpers", "jaxlite.util": "internal",
    "jaxlite.backend": "the C backend", "jaxlite.control_flow": "lax's control flow, via lax",
    "jaxlite.interpreters": "internal", "jaxlite.primitives": "internal (lax is the face)",
    "jaxlite.export": "C export, jaxlite's own (jax.export emits StableHLO): tests/test_export.py "
    "runs the exported C against jit bit for bit",
    "jaxlite.debug": "print/callback print or call Python: tests/test_debug_callbacks.py checks "
    "their output against JAX's", "jaxlite.experimental": "io_callback calls Python (tested "
    "against JAX in tests/test_debug_callbacks.py); enable_x64/disable_x64: tests/test_x64_off.py",
}  # fmt: skip


def api_modules() -> list[str]:
    """Every public jaxlite module (no underscore in its path) not in NOT_API or under one."""
    names = []
    for info in pkgutil.walk_packages(jaxlite.__path__, "jaxlite."):
        if not any(p.startswith("_") for p in info.name.split(".")):
            names.append(info.name)
    out = []
    for n in sorted(names):
        parts = n.split(".")
        if not any(".".join(parts[:i]) in NOT_API for i in range(2, len(parts) + 1)):
            out.append(n)
    return out


def public_names(modname: str) -> list[str]:
    """`__all__` if the module has one, else every non-underscore attribute but submodules."""
    mod = importlib.import_module(modname)
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in dir(mod) if not n.startswith("_")]
    return sorted(n for n in names if not isinstance(getattr(mod, n, None), types.ModuleType))


def all_names() -> list[str]:
    """`numpy.sin`, `lax.add`, ...: the path after `jaxlite.` of every public name."""
    return [f"{m.removeprefix('jaxlite.')}.{n}" for m in api_modules() for n in public_names(m)]
