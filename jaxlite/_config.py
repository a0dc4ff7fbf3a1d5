"""`jaxlite.config` (this module: `jaxlite._config`): every option in one object, with JAX's names where JAX has the option.

    jaxlite.config.update("jax_debug_nans", True)
    jaxlite.config.jax_debug_nans            # -> True

An option's value is the one given to `update`, else its environment variable (read each time it
is asked for, so a variable set before the first use counts), else its default. Modules that act
on a change register a hook (`on_change`). This module imports nothing of jaxlite.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Config", "config", "enable_x64"]

_UNSET = object()


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"expected a boolean (1/0, true/false), got {text!r}")


def _int(text: str) -> int:
    return int(text)


def _str(text: str) -> str:
    return text


@dataclass
class Option:
    name: str
    default: Any
    parse: Callable[[str], Any]  # environment text -> value (and the check of `update`'s value)
    env: tuple[str, ...]  # environment variables, first set wins
    doc: str
    value: Any = _UNSET
    hooks: list[Callable[[Any], None]] = field(default_factory=list)
    check: Callable[[Any], Any] | None = None  # update's value -> value, or raises


class Config:
    """jaxlite's options. `update(name, value)` sets one; `config.<name>` reads one."""

    def __init__(self):
        self._options: dict[str, Option] = {}

    def define(self, name: str, default, parse, env=(), doc: str = "", check=None) -> None:
        self._options[name] = Option(name, default, parse, tuple(env), doc, check=check)

    def _option(self, name: str) -> Option:
        opt = self._options.get(name)
        if opt is None:
            known = ", ".join(sorted(self._options))
            raise AttributeError(f"jaxlite.config has no option {name!r}; known options: {known}")
        return opt

    def read(self, name: str):
        opt = self._option(name)
        if opt.value is not _UNSET:
            return opt.value
        for var in opt.env:
            text = os.environ.get(var)
            if text is not None and text != "":
                try:
                    return opt.parse(text)
                except ValueError as e:
                    raise ValueError(f"environment variable {var}: {e}") from None
        return opt.default

    def update(self, name: str, value) -> None:
        """Sets option `name` for the whole process (as `jax.config.update`)."""
        opt = self._option(name)
        if isinstance(opt.default, bool) and not isinstance(value, (bool, int)):
            raise TypeError(f"jaxlite.config option {name!r} takes a bool, got {value!r}")
        if opt.check is not None:
            value = opt.check(value)
        elif isinstance(opt.default, bool):
            value = bool(value)
        opt.value = value
        for hook in opt.hooks:
            hook(value)

    def on_change(self, name: str, hook: Callable[[Any], None]) -> None:
        """Calls `hook(value)` after every `update(name, value)`."""
        self._option(name).hooks.append(hook)

    def values(self) -> dict[str, Any]:
        """Every option and its current value."""
        return {name: self.read(name) for name in sorted(self._options)}

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.read(name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._options))


config = Config()
_define = config.define

# JAX's names.
_define("jax_enable_x64", False, _bool, ("JAX_ENABLE_X64", "JAXLITE_ENABLE_X64"),
        "64-bit mode: int64/float64 defaults and values (off: int32/float32, as JAX); the "
        "environment is read at import")  # fmt: skip
_define("jax_disable_jit", False, _bool, ("JAX_DISABLE_JIT", "JAXLITE_DISABLE_JIT"),
        "jit runs the Python function eagerly (as jaxlite.disable_jit(), process-wide)")  # fmt: skip
_define("jax_log_compiles", False, _bool, ("JAX_LOG_COMPILES", "JAXLITE_LOG_COMPILES"),
        "log every trace and compile of jit (logger jaxlite.jit)")  # fmt: skip
_define("jax_debug_nans", False, _bool, ("JAX_DEBUG_NANS",),
        "raise FloatingPointError at the first primitive that produces a NaN")  # fmt: skip
_define("jax_debug_infs", False, _bool, ("JAX_DEBUG_INFS",),
        "raise FloatingPointError at the first primitive that produces an infinity")  # fmt: skip
# jaxlite's own.
_define("jaxlite_cc", "", _str, ("JAXLITE_CC", "CC"), "the C compiler command (default cc)")
_define("jaxlite_cflags", "", _str, ("JAXLITE_CFLAGS",), "extra compiler flags, after ours")
_define("jaxlite_cache_dir", "", _str, ("JAXLITE_CACHE_DIR",),
        "the compile cache directory (default ~/.cache/jaxlite)")  # fmt: skip
_define("jaxlite_cache_max_bytes", 2**30, _int, ("JAXLITE_CACHE_MAX_BYTES",),
        "size limit of the disk cache (0: none)")  # fmt: skip
_define("jaxlite_runtime_tiers", True, _bool, ("JAXLITE_RUNTIME_TIERS",),
        "where the tuned runtime library is not built yet, start on a basic one and build it "
        "in the background (0: wait for it)")  # fmt: skip
_define("jaxlite_executable_cache_size", 4096, _int, ("JAXLITE_EXECUTABLE_CACHE_SIZE",),
        "compiled executables and traced signatures kept in memory")  # fmt: skip
_define("jaxlite_thread_defaults", True, _bool, ("JAXLITE_THREAD_DEFAULTS",),
        "apply GOMP_SPINCOUNT/OPENBLAS_THREAD_TIMEOUT while loading libgomp/OpenBLAS")  # fmt: skip


@contextmanager
def enable_x64(new_val: bool = True):
    """`with jaxlite.enable_x64(True):` 64-bit mode within the block, as JAX 0.10's
    `jax.enable_x64`. NB: process-wide while the block runs (JAX's is per thread)."""
    prev = config.read("jax_enable_x64")
    config.update("jax_enable_x64", new_val)
    try:
        yield
    finally:
        config.update("jax_enable_x64", prev)
