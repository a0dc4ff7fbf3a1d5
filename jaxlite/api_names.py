"""The public names of jaxlite's entry points, for error messages (`jnp.sum: ...`, `lax.cond: ...`,
`jaxlite.grad: ...`). The public faces declare them (`name_api`); `api_entry` finds the function
the user called on the stack. Imports nothing: core and every layer above may use it.
"""

from __future__ import annotations

import sys

# Declared by the public faces (`jaxlite`, `jnp`, `lax`, `jaxlite.random`, `jaxlite.nn`), so that
# moving code between modules never changes a message.
_API_NAMES: dict[tuple[str, str], str] = {}  # (defining module, top-level qualname) -> name


def name_api(prefix: str, namespace: dict) -> None:
    """Declares `prefix + name` as the public name of each jaxlite function or class `obj` in
    `namespace` (`{name: obj}`, usually a face's `globals()`); private names are skipped. A
    function keeps its own name over aliases (`lax.not_` is `lax.bitwise_not`), and the first
    face to declare a function's own name keeps it."""
    for name, obj in list(namespace.items()):
        module = getattr(obj, "__module__", None)
        qualname = getattr(obj, "__qualname__", None)
        if name.startswith("_") or not callable(obj) or not isinstance(qualname, str):
            continue
        if not (isinstance(module, str) and module.split(".")[0] == "jaxlite"):
            continue
        key = (module, qualname.split(".")[0])
        old = _API_NAMES.get(key)
        if old is None or (name == key[1] and old.rpartition(".")[2] != key[1]):
            _API_NAMES[key] = prefix + name


def api_entry() -> str:
    """For error messages: the public jaxlite function the user called (`lax.cond`,
    `jaxlite.grad`, ...), i.e. the jaxlite frame just inside the innermost frame of user code,
    named as `name_api` declared it (`jaxlite.<name>` if no face did)."""
    f, entry = sys._getframe(1), None
    while f is not None:
        if f.f_globals.get("__name__", "").split(".")[0] == "jaxlite":
            entry = f
        elif entry is not None:
            break
        f = f.f_back
    if entry is None:
        return "jaxlite"
    code = entry.f_code
    top = getattr(code, "co_qualname", code.co_name).split(".")[0]  # grad.<locals>.grad_f
    return _API_NAMES.get((entry.f_globals["__name__"], top), "jaxlite." + top)
