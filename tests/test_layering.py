"""Import layering (docs/ARCHITECTURE.md): imports point downwards only.

Every import statement of a module counts, including imports inside functions: a lazy import is
still a dependency. Modules are read with `ast`, never imported.
"""

import ast
import pathlib
import re

import pytest

PKG = pathlib.Path(__file__).resolve().parent.parent / "jaxlite"


def module_name(path: pathlib.Path, root: pathlib.Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_statements(path: pathlib.Path, root: pathlib.Path = PKG):
    """(module, names) for every import statement of `path`, inside functions too, relative ones
    resolved: `import a.b` gives ("a.b", []), `from a import b, c` gives ("a", ["b", "c"])."""
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((a.name, []) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                prefix = ".".join(package[: len(package) - node.level + 1])
                base = f"{prefix}.{base}" if base else prefix
            yield base, [a.name for a in node.names]


def is_jaxlite(name: str) -> bool:
    return name == "jaxlite" or name.startswith("jaxlite.")


def jaxlite_imports(path: pathlib.Path, root: pathlib.Path = PKG) -> set[str]:
    """The jaxlite names that `path` imports, as dotted names (`jaxlite.core`, ...)."""
    out = set()
    for base, names in import_statements(path, root):
        # `from jaxlite import core` imports jaxlite.core; `from jaxlite.core import X` too.
        out.add(base)
        out.update(f"{base}.{n}" for n in names)
    return {m for m in out if is_jaxlite(m)}


def is_module(name: str, root: pathlib.Path = PKG) -> bool:
    rel = pathlib.Path(*name.split(".")[1:])
    return (root / rel).with_suffix(".py").exists() or (root / rel / "__init__.py").exists()


def real_imports(path: pathlib.Path, root: pathlib.Path = PKG) -> set[str]:
    """The jaxlite modules that `path` depends on (`jaxlite_imports` without attributes).

    `from jaxlite.pkg import sub` (or `from . import sub`) of a submodule counts as importing
    `jaxlite.pkg.sub` only: Python runs the package `__init__` first, but a submodule that its own
    package `__init__` imports is no cycle by itself. A name that is not a submodule
    (`from jaxlite.pkg import f`, `from jaxlite import vmap`) counts as importing the module that
    defines or re-exports it (`jaxlite.pkg`, the top-level `jaxlite`).
    """
    out = set()
    for base, names in import_statements(path, root):
        if not is_jaxlite(base):
            continue
        subs = {f"{base}.{n}" for n in names if is_module(f"{base}.{n}", root)}
        out |= subs
        if len(subs) < len(names) or not names:
            out.add(base)
    return {m for m in out if is_module(m, root)}


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
BOTTOM = [
    "util.py", "core.py", "dtypes.py", "array.py", "tree_util.py", "errors.py", "_pretty.py",
    "_version.py", "_config.py",
]  # fmt: skip


@pytest.mark.parametrize("fname", BOTTOM)
def test_bottom_layer_imports_nothing_above_it(fname):
    bad = violations(PKG / fname, forbidden=UPPER)
    assert not bad, f"jaxlite/{fname} imports {bad}: core layers must not depend on them"


def test_tree_util_and_errors_import_no_jaxlite_module():
    for fname in (
        "tree_util.py",
        "errors.py",
        "_pretty.py",
        "util.py",
        "_version.py",
        "_config.py",
    ):
        assert not real_imports(PKG / fname), fname


@pytest.mark.parametrize("fname", sorted(p.name for p in (PKG / "primitives").glob("*.py")))
def test_primitives_import_only_core_layers(fname):
    # The package's modules may import each other (`jaxlite.primitives._base`, ...), but none
    # may import the package itself: its __init__ imports them all, so that would be a cycle.
    path = PKG / "primitives" / fname
    allowed = [
        "jaxlite.core", "jaxlite.dtypes", "jaxlite.array", "jaxlite.errors", "jaxlite.util",
        "jaxlite.primitives",
    ]  # fmt: skip
    bad = violations(path, allowed=allowed)
    assert not bad, f"jaxlite/primitives/{fname} imports {bad}; it may import only {allowed}"
    if fname != "__init__.py":
        assert "jaxlite.primitives" not in jaxlite_imports(path), (
            f"jaxlite/primitives/{fname} imports the package jaxlite.primitives (an import cycle "
            "through its __init__): import the sibling module, `from jaxlite.primitives._base "
            "import ...`"
        )


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


# backend/ modules that are not the code generator: the jaxpr passes, the compiler, the runtime
# (host_callbacks: the trampoline compiled kernels call Python through).
NOT_LOWERING = {"__init__", "compile", "runtime", "host_callbacks", "passes", "scan_hoist"}


def lowering_modules() -> list[str]:
    return sorted(p.stem for p in (PKG / "backend").glob("*.py") if p.stem not in NOT_LOWERING)


@pytest.mark.parametrize("stem", lowering_modules())
def test_lowering_sees_only_core_dtypes_and_primitives(stem):
    # errors is the bottom layer (it imports nothing), so every module may raise its exceptions.
    # The lowering never imports the compiler (or the runtime): C text is all it produces.
    assert "lower" in lowering_modules(), "jaxlite/backend/lower.py is missing"
    own = [f"jaxlite.backend.{m}" for m in lowering_modules()]
    allowed = ["jaxlite.core", "jaxlite.dtypes", "jaxlite.primitives", "jaxlite.errors",
               "jaxlite.util", "jaxlite.jaxpr_util", *own]  # fmt: skip
    # `from jaxlite.backend import rules_dot` names the package too (its __init__ is empty).
    bad = [m for m in violations(PKG / "backend" / f"{stem}.py", allowed=allowed)
           if m != "jaxlite.backend"]  # fmt: skip
    assert not bad, f"backend/{stem}.py imports {bad}; it may import only {allowed}"


@pytest.mark.parametrize("fname", ["passes.py", "scan_hoist.py"])
def test_jaxpr_passes_do_not_import_the_code_generator(fname):
    # The passes see the IR and the hooks call primitives register (jaxlite.jaxpr_util) only.
    bad = violations(PKG / "backend" / fname, forbidden=["jaxlite.backend"])
    assert not bad, f"backend/{fname} imports {bad}"


def test_compiler_sees_no_jaxlite_module_but_errors_and_options():
    path = PKG / "backend" / "compile.py"
    assert path.exists(), "jaxlite/backend/compile.py is missing"
    allowed = ["jaxlite.errors", "jaxlite._config"]
    bad = violations(path, allowed=allowed)
    assert not bad, f"backend/compile.py imports {bad}; it may import only {allowed}"


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
    # A submodule imported from its package counts as that submodule, not the package __init__;
    # a name that is no submodule counts as the module it comes from.
    root = tmp_path / "jaxlite"
    for f in ["__init__.py", "numpy/__init__.py", "numpy/_util.py", "interpreters/__init__.py",
              "interpreters/staging.py", "core.py", "api.py", "dtypes.py", "backend/__init__.py",
              "backend/lower.py"]:  # fmt: skip
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        (root / f).touch()
    assert real_imports(src, root) == {
        "jaxlite.core", "jaxlite.api", "jaxlite.dtypes", "jaxlite.numpy._util",
        "jaxlite.interpreters.staging", "jaxlite.backend.lower",
    }  # fmt: skip
    src.write_text(
        "from jaxlite import vmap\n"
        "from jaxlite.numpy import where, _util\n"
        "from jaxlite.core import Tracer\n"
        "import jaxlite.interpreters\n"
    )
    assert real_imports(src, root) == {
        "jaxlite", "jaxlite.numpy", "jaxlite.numpy._util", "jaxlite.core", "jaxlite.interpreters"
    }  # fmt: skip


# ------------------------------------------------------------------------------------------
# The whole package: an import graph without cycles
# ------------------------------------------------------------------------------------------


def import_graph(root: pathlib.Path = PKG) -> dict[str, set[str]]:
    """Module -> the jaxlite modules it imports, for every module under `root`."""
    return {module_name(p, root): real_imports(p, root) for p in sorted(root.rglob("*.py"))}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as `[a, b, ..., a]`, or None (depth-first, without recursion)."""
    done, on_path = set(), set()
    for start in sorted(graph):
        if start in done:
            continue
        path, todo = [start], [iter(sorted(graph[start]))]
        on_path.add(start)
        while todo:
            nxt = next(todo[-1], None)
            if nxt is None:
                todo.pop()
                on_path.discard(path[-1])
                done.add(path.pop())
            elif nxt in on_path:
                return path[path.index(nxt) :] + [nxt]
            elif nxt not in done and nxt in graph:
                path.append(nxt)
                on_path.add(nxt)
                todo.append(iter(sorted(graph[nxt])))
    return None


def test_find_cycle_names_the_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_import_graph_has_no_cycles():
    graph = import_graph()
    assert "jaxlite.numpy._util" in graph and "jaxlite.core" in graph["jaxlite.numpy._util"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


# ------------------------------------------------------------------------------------------
# Folders and extras: what each may import
# ------------------------------------------------------------------------------------------

# The layers below jaxlite.numpy (docs/ARCHITECTURE.md): they import no transformation.
CORE_LAYERS = [
    "jaxlite.core", "jaxlite.dtypes", "jaxlite.array", "jaxlite.errors", "jaxlite.util",
    "jaxlite.tree_util", "jaxlite.primitives",
]  # fmt: skip

# Modules above the core: the transformations, the backend, the public faces and the extras.
ABOVE_CORE = [
    "jaxlite.interpreters", "jaxlite.api", "jaxlite.numpy", "jaxlite.scipy", "jaxlite.jit",
    "jaxlite.control_flow", "jaxlite.custom_derivatives", "jaxlite.checkpoint", "jaxlite.lax",
    "jaxlite.nn", "jaxlite.random", "jaxlite.optim", "jaxlite.test_util",
]  # fmt: skip

# The extras (nn/, random.py, optim.py, test_util.py) are built on the public API: the public
# faces below, and the bottom layers. They cannot import the top-level `jaxlite`, whose
# __init__ imports them (the cycle test would fail), so they import the modules it re-exports.
EXTRAS = [
    "jaxlite.numpy", "jaxlite.lax", "jaxlite.nn", "jaxlite.random", "jaxlite.tree_util",
    "jaxlite.dtypes", "jaxlite.errors", "jaxlite.util",
    # The primitives' one-line wrappers: exactly what `jaxlite.lax` re-exports, except that
    # lax.stop_gradient is the pytree one of api (the extras call it on arrays).
    "jaxlite.primitives",
    # The public transformations: `jaxlite.jvp`/`vjp` (test_util) and `jaxlite.custom_jvp` (nn)
    # are defined there.
    "jaxlite.api", "jaxlite.custom_derivatives",
    # Only the names in EXTRAS_NAMES: `Array` (public as jaxlite.Array), `_wrap` (a NumPy result
    # as an Array without a copy), `Tracer` and `get_aval` (the eager fast paths: type checks and
    # shapes of arguments).
    "jaxlite.array", "jaxlite.core",
]  # fmt: skip
EXTRAS_NAMES = {"jaxlite.array": {"Array", "_wrap"}, "jaxlite.core": {"Tracer", "get_aval"}}
EXTRA_FILES = ["random.py", "optim.py", "test_util.py"]

EXTRA_MODULES = ["jaxlite.nn", "jaxlite.random", "jaxlite.optim", "jaxlite.test_util"]
SCIPY_ABOVE_CORE = [
    "jaxlite.numpy", "jaxlite.scipy", "jaxlite.lax", "jaxlite.control_flow",
    "jaxlite.custom_derivatives", "jaxlite.api",
]  # fmt: skip

# C export packages what jit lowers: it traces through jit (jit(f).lower), lowers through the
# backend (passes, lower; compile for the csrc/ files and the product-kernel choice), and names
# ports from pytree paths.
EXPORT_ALLOWED = CORE_LAYERS + [
    "jaxlite.export", "jaxlite.jit", "jaxlite.backend", "jaxlite.jaxpr_util",
    "jaxlite._tracing_api", "jaxlite._version",
]  # fmt: skip

# Every folder of jaxlite/ has a rule here (`test_every_folder_has_a_layer_rule`), so a new one
# cannot go unchecked; each applies as soon as its folder exists.
FOLDER_ALLOWED = {
    # jnp.* is composed from primitives (DESIGN: numpy API may import core and primitives).
    "numpy": CORE_LAYERS + ["jaxlite.numpy"],
    # jax.scipy is built as JAX builds it: from jnp, lax (control flow included) and
    # custom derivatives, and the public transformations (scipy.optimize takes gradients).
    "scipy": CORE_LAYERS + SCIPY_ABOVE_CORE,
    "nn": EXTRAS,
    # JAX's example libraries (stax, optimizers) are written as a user writes JAX code.
    "example_libraries": EXTRAS,
    # jax.experimental's faces: the scoped x64 switches (config) and io_callback.
    "experimental": CORE_LAYERS
    + ["jaxlite._config", "jaxlite._callback_api", "jaxlite.experimental"],
    "export": EXPORT_ALLOWED,
}
FOLDER_FORBIDDEN = {
    # The backend sees jaxprs only: call primitives answer its questions through hooks.
    "backend": ABOVE_CORE,
    # Call primitives may use interpreters, api and the backend, never jit or what is above them.
    "control_flow": ["jaxlite.jit", "jaxlite.lax", "jaxlite.scipy"] + EXTRA_MODULES,
    # lax (and lax.linalg) wraps primitives and control flow: never jnp, scipy or the backend.
    "lax": ["jaxlite.numpy", "jaxlite.scipy", "jaxlite.backend", "jaxlite.jit"] + EXTRA_MODULES,
}
# Folders with their own tests above.
FOLDERS_CHECKED_ABOVE = {
    "interpreters": "test_interpreters_do_not_import_api_numpy_or_backend",
    "primitives": "test_primitives_import_only_core_layers",
}

# Exceptions for single files, each with its reason.
FILE_ALLOWED = {
    # The linalg iterations are loops: a scan over Householder steps, a fori_loop over Jacobi
    # sweeps (with cond), and custom_jvp for the derivatives of eigh/svd/pinv. Neither
    # control_flow nor custom_derivatives imports numpy (test_import_graph_has_no_cycles).
    "numpy/_linalg_qr.py": ["jaxlite.control_flow"],
    "numpy/_linalg_jacobi.py": ["jaxlite.control_flow", "jaxlite.custom_derivatives"],
    # logaddexp's gradient is JAX's custom JVP rule (half each at a tie), not its composition's.
    "numpy/_logaddexp.py": ["jaxlite.custom_derivatives"],
    # sinc's derivatives at 0 are JAX's Taylor-coefficient custom JVP (_sinc_maclaurin).
    "numpy/_sinc.py": ["jaxlite.custom_derivatives"],
    # jnp.vectorize is vmap (as JAX's); piecewise is a vectorized lax.switch. Neither vmap nor
    # control_flow imports numpy.
    "numpy/_vectorize.py": ["jaxlite._vmap_api", "jaxlite.control_flow"],
    "experimental/multihost_utils.py": ["jaxlite.distributed"],
}


def folders() -> list[str]:
    return sorted(d.name for d in PKG.iterdir() if (d / "__init__.py").exists())


def folder_files(folder: str) -> list[str]:
    return sorted(str(p.relative_to(PKG)) for p in (PKG / folder).rglob("*.py"))


@pytest.mark.parametrize("folder", folders())
def test_every_folder_has_a_layer_rule(folder):
    rules = [FOLDER_ALLOWED, FOLDER_FORBIDDEN, FOLDERS_CHECKED_ABOVE]
    assert sum(folder in r for r in rules) == 1, f"jaxlite/{folder}/ needs exactly one layer rule"


@pytest.mark.parametrize("rel", [f for d in folders() for f in folder_files(d)])
def test_folder_imports_follow_its_layer(rel):
    folder = rel.split("/")[0]
    if folder in FOLDERS_CHECKED_ABOVE:
        return
    if folder in FOLDER_ALLOWED:
        allowed = FOLDER_ALLOWED[folder] + FILE_ALLOWED.get(rel, [])
        bad = violations(PKG / rel, allowed=allowed)
        assert not bad, f"jaxlite/{rel} imports {bad}; it may import only {allowed}"
    else:
        bad = violations(PKG / rel, forbidden=FOLDER_FORBIDDEN[folder])
        assert not bad, f"jaxlite/{rel} imports {bad}"


def test_file_exceptions_are_still_needed():
    for rel, extra in FILE_ALLOWED.items():
        used = real_imports(PKG / rel)
        for prefix in extra:
            assert any(under(m, [prefix]) for m in used), f"{rel} no longer imports {prefix}"


def test_numpy_modules_import_at_the_top():
    # A lazy import inside a function hides a dependency (and held a cycle together once).
    for rel in folder_files("numpy"):
        tree = ast.parse((PKG / rel).read_text())
        top = {id(n) for n in tree.body}
        inner = [
            n.lineno
            for n in ast.walk(tree)
            if isinstance(n, (ast.Import, ast.ImportFrom)) and id(n) not in top
        ]
        assert not inner, f"jaxlite/{rel}: imports inside functions at lines {inner}"


@pytest.mark.parametrize("rel", EXTRA_FILES + folder_files("nn"))
def test_extras_import_only_the_public_api(rel):
    path = PKG / rel
    assert path.exists(), f"jaxlite/{rel} is missing"
    bad = violations(path, allowed=EXTRAS)
    assert not bad, f"jaxlite/{rel} imports {bad}; extras may import only {EXTRAS}"
    for base, names in import_statements(path):
        if base in EXTRAS_NAMES:
            extra = set(names) - EXTRAS_NAMES[base]
            assert not extra, f"jaxlite/{rel} takes {sorted(extra)} from {base}"


def test_only_core_switches_the_current_trace():
    # Trace switching goes through core (`swap_trace`, `set_current_trace`, `new_trace`), so the
    # thread-local `core._ctx` has one owner.
    users = sorted(
        str(p.relative_to(PKG)) for p in PKG.rglob("*.py")
        if p != PKG / "core.py" and re.search(r"(?<!\w)_ctx\b", p.read_text())
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
