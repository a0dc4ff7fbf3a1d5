"""Import layering (docs/ARCHITECTURE.md): imports point downwards only.

Every import statement of a module counts, including imports inside functions: a lazy import is
still a dependency. Modules are read with `ast`, never imported.
"""

import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parent.parent / "jaxlite"


def module_name(path: pathlib.Path, root: pathlib.Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def jaxlite_imports(path: pathlib.Path, root: pathlib.Path = PKG) -> set[str]:
    """The jaxlite names that `path` imports, as dotted names (`jaxlite.core`, ...)."""
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                prefix = ".".join(package[: len(package) - node.level + 1])
                base = f"{prefix}.{base}" if base else prefix
            # `from jaxlite import core` imports jaxlite.core; `from jaxlite.core import X` too.
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in out if m == "jaxlite" or m.startswith("jaxlite.")}


def is_module(name: str) -> bool:
    rel = pathlib.Path(*name.split(".")[1:])
    return (PKG / rel).with_suffix(".py").exists() or (PKG / rel / "__init__.py").exists()


def real_imports(path: pathlib.Path) -> set[str]:
    """`jaxlite_imports` without names that are attributes (`jaxlite.core.Tracer`)."""
    return {m for m in jaxlite_imports(path) if m != "jaxlite" and is_module(m)}


def under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(path: pathlib.Path, forbidden=None, allowed=None) -> list[str]:
    mods = real_imports(path)
    if forbidden is not None:
        return sorted(m for m in mods if under(m, forbidden))
    return sorted(m for m in mods if not under(m, allowed))


# The transformation-level modules and the backend: nothing below them may import them.
UPPER = [
    "jaxlite.interpreters", "jaxlite.numpy", "jaxlite.api", "jaxlite.jit", "jaxlite.backend",
    "jaxlite.control_flow", "jaxlite.custom_derivatives", "jaxlite.lax",
]  # fmt: skip
BOTTOM = ["util.py", "core.py", "dtypes.py", "array.py", "tree_util.py", "errors.py", "_pretty.py"]


@pytest.mark.parametrize("fname", BOTTOM)
def test_bottom_layer_imports_nothing_above_it(fname):
    bad = violations(PKG / fname, forbidden=UPPER)
    assert not bad, f"jaxlite/{fname} imports {bad}: core layers must not depend on them"


def test_tree_util_and_errors_import_no_jaxlite_module():
    for fname in ("tree_util.py", "errors.py", "_pretty.py", "util.py"):
        assert not real_imports(PKG / fname), fname


def test_primitives_import_only_core_layers():
    allowed = ["jaxlite.core", "jaxlite.dtypes", "jaxlite.array", "jaxlite.errors"]
    assert not violations(PKG / "primitives.py", allowed=allowed)


def interpreter_files():
    return sorted(p.name for p in (PKG / "interpreters").glob("*.py"))


@pytest.mark.parametrize("fname", interpreter_files())
def test_interpreters_do_not_import_api_numpy_or_backend(fname):
    # Rules are written with lax wrappers (jaxlite.primitives), never with jnp.
    forbidden = [
        "jaxlite.api", "jaxlite.numpy", "jaxlite.backend", "jaxlite.jit",
        "jaxlite.control_flow", "jaxlite.custom_derivatives",
    ]  # fmt: skip
    bad = violations(PKG / "interpreters" / fname, forbidden=forbidden)
    assert not bad, f"jaxlite/interpreters/{fname} imports {bad}"


def test_lowering_sees_only_core_dtypes_and_primitives():
    # errors is the bottom layer (it imports nothing), so every module may raise its exceptions.
    path = PKG / "backend" / "lower.py"
    assert path.exists(), "jaxlite/backend/lower.py is missing"
    allowed = ["jaxlite.core", "jaxlite.dtypes", "jaxlite.primitives", "jaxlite.errors"]
    bad = violations(path, allowed=allowed)
    assert not bad, f"backend/lower.py imports {bad}; it may import only {allowed}"


def test_compiler_sees_no_jaxlite_module_but_errors():
    path = PKG / "backend" / "compile.py"
    assert path.exists(), "jaxlite/backend/compile.py is missing"
    bad = violations(path, allowed=["jaxlite.errors"])
    assert not bad, f"backend/compile.py imports {bad}; it may import only jaxlite.errors"


def test_the_scanner_sees_every_import_form(tmp_path):
    pkg = tmp_path / "jaxlite" / "interpreters"
    pkg.mkdir(parents=True)
    src = pkg / "demo.py"
    src.write_text(
        "import jaxlite.core\n"
        "from jaxlite import api\n"
        "from .. import dtypes\n"
        "from ..numpy import _util\n"
        "from . import staging\n"
        "def f():\n    from jaxlite.backend import lower\n"
    )
    found = jaxlite_imports(src, root=tmp_path / "jaxlite")
    for m in ["jaxlite.core", "jaxlite.api", "jaxlite.dtypes", "jaxlite.numpy._util",
              "jaxlite.interpreters.staging", "jaxlite.backend.lower"]:  # fmt: skip
        assert m in found, (m, found)


def test_only_core_switches_the_current_trace():
    # Trace switching goes through core (`swap_trace`, `set_current_trace`, `new_trace`), so the
    # thread-local `core._ctx` has one owner.
    users = sorted(
        str(p.relative_to(PKG)) for p in PKG.rglob("*.py")
        if p != PKG / "core.py" and "_ctx" in p.read_text()
    )  # fmt: skip
    assert not users, f"{users} touch core._ctx: use core.swap_trace / core.set_current_trace"


def test_transformations_sit_below_the_call_primitives():
    # api_util (flatten_fun) is used by api, jit, control flow, custom derivatives and checkpoint,
    # so it imports only the bottom layers; the transformation modules never import the call
    # primitives (jit, control flow, custom derivatives, checkpoint import them, not back).
    bottom = ["jaxlite.core", "jaxlite.tree_util", "jaxlite.util", "jaxlite.errors"]
    assert not violations(PKG / "api_util.py", allowed=bottom)
    assert not real_imports(PKG / "api_names.py")  # error-message names: below core
    calls = ["jaxlite.jit", "jaxlite.control_flow", "jaxlite.custom_derivatives",
             "jaxlite.checkpoint", "jaxlite.backend"]  # fmt: skip
    for fname in ("api.py", "_autodiff_api.py", "_vmap_api.py", "_tracing_api.py"):
        bad = violations(PKG / fname, forbidden=calls)
        assert not bad, f"jaxlite/{fname} imports {bad}"
